# core/dmarc: one test binary (sw_dmarc_evaluate, the RFC 9989 tree walk, the PSL).
if(TARGET sw-dmarc)
  sw_add_test(test-dmarc
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-dmarc.c
            ${CMAKE_CURRENT_LIST_DIR}/test-orgdomain.c
            ${CMAKE_CURRENT_LIST_DIR}/test-psl.c
    LIBS sw-dmarc)
endif()
