/* test-dkim-sign.h: the signing helper of test-dkim.c (test-dkim-sign.c). */
#pragma once
#include <glib.h>

typedef struct
{
  const char *key_path; /* PEM private key */
  const char *selector;
  const char *domain;
  const char *algorithm; /* "rsa-sha256" (NULL), "rsa-sha1", "ed25519-sha256" */
  gint64 signed_at;      /* t= (0: now) */
  gint64 ttl;            /* x= = t= + ttl (0: no x=) */
  gboolean with_l;       /* add l= */
} TestDkimSignSpec;

/* Returns "DKIM-Signature: ...\r\n" + @message (CRLF text), signed relaxed/relaxed with
 * the default header list. Aborts the test on any libopendkim failure. Transfer full. */
char *test_dkim_sign (const char *message, const TestDkimSignSpec *spec);
