# POP3 proxy tests (proxy/): transcripts against a scripted upstream, and the Dovecot
# integration test with real clients.
if(TARGET sw-proxy)
  sw_add_test(test-pop3-transcripts
    SOURCES ${PROJECT_SOURCE_DIR}/tests/proxy/test-pop3-transcripts.c
    LIBS sw-proxy TIMEOUT 120)
endif()
