sw_add_test(test-msg
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-message.c ${CMAKE_CURRENT_LIST_DIR}/test-from.c
          ${CMAKE_CURRENT_LIST_DIR}/test-received.c ${CMAKE_CURRENT_LIST_DIR}/test-envelope.c
  LIBS sw-msg PkgConfig::GMIME)
