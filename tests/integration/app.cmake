# The `spoofwatch` program (app/) and its configuration (core/config): tests in tests/app/.
if(TARGET sw-config)
  sw_add_test(test-config SOURCES ${PROJECT_SOURCE_DIR}/tests/app/test-config.c LIBS sw-config)
endif()

# app/ (and proxy/, which it needs) are added after tests/: register their tests once the
# top directory is processed, when their targets exist.
function(sw_app_register_tests)
  set(dir ${PROJECT_SOURCE_DIR}/tests/app)
  if(TARGET sw-app-demo)
    add_executable(demo-pop3-helper ${dir}/demo-pop3-helper.c)
    target_link_libraries(demo-pop3-helper PRIVATE sw-app-demo)
    sw_add_script_test(test-demo-pop3
      COMMAND /usr/bin/python3 ${dir}/test-demo-pop3.py $<TARGET_FILE:demo-pop3-helper>
      TIMEOUT 120)
  endif()
  if(TARGET spoofwatch)
    sw_add_script_test(test-spoofwatch-demo
      COMMAND /usr/bin/python3 ${dir}/test-spoofwatch-demo.py $<TARGET_FILE:spoofwatch>
      TIMEOUT 180 LABELS integration)
    sw_add_script_test(test-spoofwatch-cli
      COMMAND /usr/bin/python3 ${dir}/test-spoofwatch-cli.py $<TARGET_FILE:spoofwatch>
      TIMEOUT 120)
  endif()
endfunction()
cmake_language(DEFER DIRECTORY ${PROJECT_SOURCE_DIR} CALL sw_app_register_tests)
