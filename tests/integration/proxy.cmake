# POP3 proxy tests (proxy/): transcripts against a scripted upstream, and the Dovecot
# integration test with real clients.
if(TARGET sw-proxy)
  sw_add_test(test-pop3-transcripts
    SOURCES ${PROJECT_SOURCE_DIR}/tests/proxy/test-pop3-transcripts.c
    LIBS sw-proxy TIMEOUT 120)
endif()

if(TARGET sw-proxy AND TARGET sw-store)
  add_executable(pop3-proxy-driver ${PROJECT_SOURCE_DIR}/tests/proxy/pop3-proxy-driver.c)
  target_link_libraries(pop3-proxy-driver PRIVATE sw-proxy sw-store PkgConfig::GLIB)
  sw_add_script_test(test-pop3-dovecot
    COMMAND bash ${PROJECT_SOURCE_DIR}/tests/proxy/test-pop3-dovecot.sh $<TARGET_FILE:pop3-proxy-driver>
    TIMEOUT 120 LABELS integration)
endif()
