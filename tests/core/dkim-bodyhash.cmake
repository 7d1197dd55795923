# core/dkim's incremental body hasher (sw-dkim-bodyhash.h): every chunking of generated
# and edge-case bodies gives the one-shot body hash; header parsing; flat memory.
# Throughput figures: test-dkim-bodyhash -m perf.
if(TARGET sw-dkim)
  sw_add_test(test-dkim-bodyhash
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-dkim-bodyhash.c
    LIBS sw-dkim
    TIMEOUT 300)
endif()
