sw_add_test(test-base SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-base.c LIBS sw-base)
