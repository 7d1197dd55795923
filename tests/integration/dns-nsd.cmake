# Integration test of the libunbound backend against NSD on 127.0.0.1 (random port).
# nsd-fixture.sh starts NSD with the zones of tests/data/dns/nsd, runs the test binary with
# SW_NSD_PORT/SW_NSD_FORWARD/SW_NSD_PID set, and stops NSD on every exit path. Other
# modules' integration tests reuse the fixture the same way (see the script's header).
add_executable(test-dns-nsd ${CMAKE_CURRENT_LIST_DIR}/test-dns-nsd.c ${CMAKE_CURRENT_LIST_DIR}/nsd-probe.c)
target_link_libraries(test-dns-nsd PRIVATE sw-dns resolv PkgConfig::GLIB)
sw_add_script_test(test-dns-nsd
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/nsd-fixture.sh ${PROJECT_SOURCE_DIR}/tests/data/dns/nsd
          $<TARGET_FILE:test-dns-nsd>
  ENV G_TEST_SRCDIR=${PROJECT_SOURCE_DIR}/tests G_TEST_BUILDDIR=${CMAKE_CURRENT_BINARY_DIR} G_DEBUG=fatal-criticals
  TIMEOUT 60
  LABELS integration)
