# The GTK application (gui/) under a real X server (Xvfb), session D-Bus and notification
# daemon (dunst): tests/gui/gui-session.sh runs each test in such a session. Screenshots
# go to ${CMAKE_BINARY_DIR}/screenshots.
#
# gui/ and app/ are added after tests/: register once their targets exist.
function(sw_gui_register_tests)
  set(dir ${PROJECT_SOURCE_DIR}/tests/gui)
  if(NOT TARGET sw-gui)
    return()
  endif()
  # the unit binary needs a display: it runs inside the session too
  add_executable(test-gui ${dir}/test-gui.c)
  target_link_libraries(test-gui PRIVATE sw-gui sw-verify sw-dns sw-store PkgConfig::GLIB)
  add_test(NAME test-gui COMMAND ${dir}/gui-session.sh $<TARGET_FILE:test-gui>)
  set_tests_properties(test-gui PROPERTIES TIMEOUT 120 LABELS gui
    ENVIRONMENT "SW_BUILD_DIR=${PROJECT_BINARY_DIR};G_DEBUG=fatal-criticals;ASAN_OPTIONS=detect_leaks=0;SW_GUI_SESSION_WATCHER=1")
  if(TARGET spoofwatch)
    sw_add_script_test(test-gui-demo
      COMMAND ${dir}/gui-session.sh /usr/bin/python3 ${dir}/test-gui-demo.py $<TARGET_FILE:spoofwatch>
      # with a panel (StatusNotifierWatcher) as on a desktop: libayatana-appindicator 0.5.92's
      # XEmbed fallback reads freed memory when the icon changes (ASan SEGV; see
      # tests/gui/README.md)
      ENV ASAN_OPTIONS=detect_leaks=0 SW_GUI_SESSION_WATCHER=1
      TIMEOUT 120 LABELS gui integration)
  endif()
endfunction()
cmake_language(DEFER DIRECTORY ${PROJECT_SOURCE_DIR} CALL sw_gui_register_tests)
