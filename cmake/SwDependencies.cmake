# Every third-party library comes from a Debian 12 package; see README.md.
find_package(PkgConfig REQUIRED)
pkg_check_modules(GLIB REQUIRED IMPORTED_TARGET glib-2.0>=2.74 gio-2.0 gobject-2.0)
pkg_check_modules(GMIME REQUIRED IMPORTED_TARGET gmime-3.0)
pkg_check_modules(JSONGLIB REQUIRED IMPORTED_TARGET json-glib-1.0)
pkg_check_modules(UNBOUND REQUIRED IMPORTED_TARGET libunbound)
# libunbound runs on a libevent base of ours (core/dns/sw-dns-unbound.c)
pkg_check_modules(LIBEVENT REQUIRED IMPORTED_TARGET libevent)
pkg_check_modules(OPENDKIM REQUIRED IMPORTED_TARGET opendkim)
pkg_check_modules(IDN2 REQUIRED IMPORTED_TARGET libidn2)
pkg_check_modules(PSL REQUIRED IMPORTED_TARGET libpsl)
pkg_check_modules(SQLITE REQUIRED IMPORTED_TARGET sqlite3)

# libspf2 and libopendmarc ship no pkg-config file on Debian 12.
find_path(SPF2_INCLUDE_DIR spf2/spf.h REQUIRED)
find_library(SPF2_LIBRARY spf2 REQUIRED)
add_library(Sw::spf2 UNKNOWN IMPORTED)
set_target_properties(Sw::spf2 PROPERTIES IMPORTED_LOCATION "${SPF2_LIBRARY}"
                      INTERFACE_INCLUDE_DIRECTORIES "${SPF2_INCLUDE_DIR}")

find_path(OPENDMARC_INCLUDE_DIR opendmarc/dmarc.h REQUIRED)
find_library(OPENDMARC_LIBRARY opendmarc REQUIRED)
add_library(Sw::opendmarc UNKNOWN IMPORTED)
set_target_properties(Sw::opendmarc PROPERTIES IMPORTED_LOCATION "${OPENDMARC_LIBRARY}"
                      INTERFACE_INCLUDE_DIRECTORIES "${OPENDMARC_INCLUDE_DIR}")
