# core/dns tests (SwResolver). The libunbound integration test with NSD is in
# tests/integration/dns-nsd.cmake.
sw_add_test(test-dns-zone SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-dns-zone.c LIBS sw-dns resolv TIMEOUT 120)
