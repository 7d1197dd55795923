if(TARGET sw-verify)
  sw_add_test(test-verify SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-verify.c LIBS sw-verify PkgConfig::GMIME)
endif()

# sw_verifier_prefetch(): its test puts a caching resolver (core/dns internals) in front
# of the samples' zone.
if(TARGET sw-verify)
  sw_add_test(test-prefetch SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-prefetch.c LIBS sw-verify)
  target_include_directories(test-prefetch PRIVATE ${PROJECT_SOURCE_DIR}/core/dns)
endif()
