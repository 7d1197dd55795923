# Microseconds per cached query (not a test; usage in the file's header).
add_executable(bench-dns-query ${CMAKE_CURRENT_LIST_DIR}/bench-dns-query.c)
target_link_libraries(bench-dns-query PRIVATE sw-dns PkgConfig::GLIB)
