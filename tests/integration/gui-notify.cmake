# The tray app's G2 side (gui/sw-gui-tray, -notifier, -settings, -first-run, -autostart):
# tests in tests/gui/test-notify* and tests/gui/test-tray*.
# gui/ and app/ are added after tests/: register once their targets exist.
function(sw_gui_notify_register_tests)
  set(dir ${PROJECT_SOURCE_DIR}/tests/gui)
  if(TARGET sw-gui)
    sw_add_test(test-notify-settings SOURCES ${dir}/test-notify-settings.c LIBS sw-gui TIMEOUT 120)
  endif()
  if(TARGET sw-gui AND TARGET spoofwatch)
    # Xvfb + session bus + dunst (gui-session.sh), a stand-in StatusNotifierWatcher, the
    # demo mailbox: pop-ups, tray item, pause. Screenshots in build/screenshots/.
    sw_add_script_test(test-notify-session
      COMMAND ${dir}/gui-session.sh /usr/bin/python3 ${dir}/test-notify-session.py $<TARGET_FILE:spoofwatch>
      TIMEOUT 120 LABELS integration gui)
  endif()
endfunction()
cmake_language(DEFER DIRECTORY ${PROJECT_SOURCE_DIR} CALL sw_gui_notify_register_tests)
