# The tray app's G2 side (gui/sw-gui-tray, -notifier, -settings, -first-run, -autostart):
# tests in tests/gui/test-notify* and tests/gui/test-tray*.
# gui/ and app/ are added after tests/: register once their targets exist.
function(sw_gui_notify_register_tests)
  set(dir ${PROJECT_SOURCE_DIR}/tests/gui)
  if(TARGET sw-gui)
    # intercept_tls_get_addr=0: LeakSanitizer's tracer crashes on the dynamic TLS of the
    # dlopen'ed GIO TLS module (glib-networking) otherwise; leaks are still checked.
    sw_add_test(test-notify-settings SOURCES ${dir}/test-notify-settings.c LIBS sw-gui TIMEOUT 120
      ENV ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:intercept_tls_get_addr=0)
    # The settings dialog, account editor and first-run screen on Xvfb, in English and in
    # Japanese; screenshots in build/screenshots/.
    add_executable(test-notify-dialogs ${dir}/test-notify-dialogs.c)
    target_link_libraries(test-notify-dialogs PRIVATE sw-gui)
    add_dependencies(test-notify-dialogs sw-gui-translations)
    sw_add_script_test(test-notify-dialogs
      COMMAND ${dir}/gui-session.sh $<TARGET_FILE:test-notify-dialogs>
      ENV ASAN_OPTIONS=detect_leaks=0 TIMEOUT 120 LABELS gui) # GTK keeps caches to the end
    sw_add_script_test(test-notify-dialogs-ja
      COMMAND ${dir}/gui-session.sh $<TARGET_FILE:test-notify-dialogs> ja
      ENV LANGUAGE=ja LANG=C.UTF-8 LC_ALL=C.UTF-8 ASAN_OPTIONS=detect_leaks=0 TIMEOUT 120 LABELS gui)
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
