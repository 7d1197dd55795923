# core/spf tests: unit cases (test-spf) and the RFC 7208 suite (test-spf-suite).
if(NOT TARGET sw-spf OR NOT TARGET sw-dns)
  return()
endif()

sw_add_test(test-spf SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-spf.c LIBS sw-spf sw-dns sw-base Sw::spf2
            TIMEOUT 120)

# The suite's YAML is converted at test time with Debian's python3-yaml.
set(sw_spf_suite_dir ${CMAKE_CURRENT_BINARY_DIR}/spf-rfc7208)
sw_add_script_test(spf-suite-convert
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/../tools/spf-suite-to-zones.py
          ${PROJECT_SOURCE_DIR}/tests/data/spf/rfc7208-tests.yml ${sw_spf_suite_dir}
  TIMEOUT 60)
set_tests_properties(spf-suite-convert PROPERTIES FIXTURES_SETUP spf-suite)

sw_add_test(test-spf-suite SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-spf-suite.c LIBS sw-spf sw-dns sw-base
            ENV SW_SPF_SUITE_DIR=${sw_spf_suite_dir} TIMEOUT 120 ARGS --keep-going)
set_tests_properties(test-spf-suite PROPERTIES FIXTURES_REQUIRED spf-suite)
