/* nsd-probe.h: whether the DNS server of a test answers, for the integration tests that
 * stop and start NSD (nsd-fixture.sh). Test code only. */
#pragma once
#include <glib.h>

/* TRUE if a DNS server on 127.0.0.1:@port answers an SOA query for @name within 300 ms. */
gboolean sw_test_dns_server_answers (guint port, const char *name);
