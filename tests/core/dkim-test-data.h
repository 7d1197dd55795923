/* dkim-test-data.h: the DKIM test data in tests/data/dkim, shared by the core/dkim tests
 * (test-dkim.c, test-dkim-body.c, test-dkim-fast.c). Test code: failures abort the test. */
#pragma once
#include "sw-resolver.h"

/* tests/data/dkim/@rel. Transfer full. */
char *sw_test_dkim_path (const char *rel);

/* The contents of @path (NUL-terminated; *@len_out, may be NULL, gets the length).
 * Aborts the test if it cannot be read. Transfer full. */
char *sw_test_read_file (const char *path, gsize *len_out);

/* sw_test_read_file() of tests/data/dkim/@rel. */
char *sw_test_dkim_read (const char *rel, gsize *len_out);

/* Mail::DKIM's (and dkimpy's) FAKE_DNS.dat at tests/data/dkim/@rel as zone text
 * (docs/zone-files.md). Transfer full. */
char *sw_test_dkim_fake_dns_to_zone (const char *rel);

/* A zone-backend resolver for @zone (aborts on a syntax error). Transfer full. */
SwResolver *sw_test_resolver_from_zone (const char *zone);
