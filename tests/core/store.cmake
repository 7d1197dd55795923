# core/store: the verdict store. The test links SQLite itself to hand-make old, future and
# damaged files and to read the store from a second connection.
sw_add_test(test-store SOURCES ${CMAKE_CURRENT_LIST_DIR}/test-store.c LIBS sw-store PkgConfig::SQLITE
            TIMEOUT 120)
