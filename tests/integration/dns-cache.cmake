# The answer cache of the libunbound backend against NSD on 127.0.0.1 (nsd-fixture.sh with
# the zones of tests/data/dns/cache). The test stops NSD and starts it again itself with the
# fixture's configuration (SW_NSD_DIR/nsd.conf, same port).
add_executable(test-dns-cache ${CMAKE_CURRENT_LIST_DIR}/test-dns-cache.c ${CMAKE_CURRENT_LIST_DIR}/nsd-probe.c)
target_link_libraries(test-dns-cache PRIVATE sw-dns resolv PkgConfig::GLIB)
sw_add_script_test(test-dns-cache
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/nsd-fixture.sh ${PROJECT_SOURCE_DIR}/tests/data/dns/cache
          $<TARGET_FILE:test-dns-cache>
  ENV G_TEST_SRCDIR=${PROJECT_SOURCE_DIR}/tests G_TEST_BUILDDIR=${CMAKE_CURRENT_BINARY_DIR} G_DEBUG=fatal-criticals
  TIMEOUT 120
  LABELS integration)

# Microseconds per cached query (not a test; usage in the file's header).
add_executable(bench-dns-query ${CMAKE_CURRENT_LIST_DIR}/bench-dns-query.c)
target_link_libraries(bench-dns-query PRIVATE sw-dns PkgConfig::GLIB)
