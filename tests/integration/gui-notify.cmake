# The tray app's G2 side (gui/sw-gui-tray, -notifier, -settings, -first-run, -autostart):
# tests in tests/gui/test-notify* and tests/gui/test-tray*.
# gui/ and app/ are added after tests/: register once their targets exist.
function(sw_gui_notify_register_tests)
  set(dir ${PROJECT_SOURCE_DIR}/tests/gui)
  if(TARGET sw-gui)
    sw_add_test(test-notify-settings SOURCES ${dir}/test-notify-settings.c LIBS sw-gui TIMEOUT 120)
  endif()
endfunction()
cmake_language(DEFER DIRECTORY ${PROJECT_SOURCE_DIR} CALL sw_gui_notify_register_tests)
