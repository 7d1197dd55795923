# core/dkim tests: one binary; the Mail::DKIM and dkimpy corpora and the signing keys are
# in tests/data/dkim. The test signs messages itself, so it links libopendkim too.
if(TARGET sw-dkim)
  sw_add_test(test-dkim
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-dkim.c ${CMAKE_CURRENT_LIST_DIR}/test-dkim-sign.c ${CMAKE_CURRENT_LIST_DIR}/dkim-test-data.c
    LIBS sw-dkim PkgConfig::OPENDKIM
    ENV "LSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/tests/data/dkim/lsan-signing.supp:fast_unwind_on_malloc=0:print_suppressions=0"
    TIMEOUT 300)
endif()

# core/dkim's own body canonicalisation and body hash, checked against libopendkim's
# signer and its verification path (test-dkim-body.c).
if(TARGET sw-dkim)
  sw_add_test(test-dkim-body
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-dkim-body.c ${CMAKE_CURRENT_LIST_DIR}/dkim-test-data.c
    LIBS sw-dkim PkgConfig::OPENDKIM
    ENV "LSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/tests/data/dkim/lsan-signing.supp:fast_unwind_on_malloc=0:print_suppressions=0"
    TIMEOUT 300)
endif()

# core/dkim's own signature check compared field by field with libopendkim, the reference
# engine (test-dkim-fast.c).
if(TARGET sw-dkim)
  sw_add_test(test-dkim-fast
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-dkim-fast.c ${CMAKE_CURRENT_LIST_DIR}/dkim-test-data.c
    LIBS sw-dkim PkgConfig::OPENDKIM
    ENV "LSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/tests/data/dkim/lsan-signing.supp:fast_unwind_on_malloc=0:print_suppressions=0"
    TIMEOUT 300)
endif()
