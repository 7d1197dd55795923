if(TARGET sw-verify)
  sw_add_test(test-verify SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-verify.c LIBS sw-verify)
endif()
