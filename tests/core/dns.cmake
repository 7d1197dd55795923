# core/dns tests (SwResolver). The libunbound integration test with NSD is in
# tests/integration/dns-nsd.cmake.
sw_add_test(test-dns-zone SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-dns-zone.c LIBS sw-dns resolv TIMEOUT 120)
# Reading DNS response packets (the libunbound backend's answers): core/dns internals.
sw_add_test(test-dns-wire SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-dns-wire.c LIBS sw-dns)
target_include_directories(test-dns-wire PRIVATE ${PROJECT_SOURCE_DIR}/core/dns)
