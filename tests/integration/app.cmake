# The `spoofwatch` program (app/) and its configuration (core/config): tests in tests/app/.
set(sw_app_tests ${CMAKE_CURRENT_LIST_DIR}/../app)

if(TARGET sw-config)
  sw_add_test(test-config SOURCES ${sw_app_tests}/test-config.c LIBS sw-config)
endif()
