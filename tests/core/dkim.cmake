# core/dkim tests: one binary; the Mail::DKIM and dkimpy corpora and the signing keys are
# in tests/data/dkim. The test signs messages itself, so it links libopendkim too.
if(TARGET sw-dkim)
  sw_add_test(test-dkim
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-dkim.c ${CMAKE_CURRENT_LIST_DIR}/test-dkim-sign.c
    LIBS sw-dkim PkgConfig::OPENDKIM
    TIMEOUT 300)
endif()
