sw_add_test(test-authres SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-authres.c LIBS sw-authres)
