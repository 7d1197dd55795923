#define G_LOG_DOMAIN "sw-dkim-test"
/* test-dkim-sign.c: signs test messages with libopendkim's dkim_sign(), so that
 * test-dkim.c can make fresh signatures (any key, algorithm, t=, x=, l=) at test time.
 * Only the tests use libopendkim directly. */
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <opendkim/dkim.h>

#include "test-dkim-sign.h"

char *
test_dkim_sign (const char *message, const TestDkimSignSpec *spec)
{
  g_autofree char *key = NULL;
  g_assert_true (g_file_get_contents (spec->key_path, &key, NULL, NULL));

  DKIM_LIB *lib = dkim_init (NULL, NULL);
  g_assert_nonnull (lib);
  uint32_t flags = DKIM_LIBFLAGS_FIXCRLF | (spec->with_l ? DKIM_LIBFLAGS_SIGNLEN : 0);
  u_int min_bits = 512;
  g_assert_cmpint (dkim_options (lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags), ==,
                   DKIM_STAT_OK);
  g_assert_cmpint (dkim_options (lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &min_bits, sizeof min_bits), ==,
                   DKIM_STAT_OK);
  if (spec->signed_at > 0)
    {
      uint64_t t = (uint64_t)spec->signed_at;
      g_assert_cmpint (dkim_options (lib, DKIM_OP_SETOPT, DKIM_OPTS_FIXEDTIME, &t, sizeof t), ==,
                       DKIM_STAT_OK);
    }
  if (spec->ttl > 0)
    {
      uint64_t ttl = (uint64_t)spec->ttl;
      g_assert_cmpint (dkim_options (lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNATURETTL, &ttl, sizeof ttl), ==,
                       DKIM_STAT_OK);
    }

  dkim_alg_t alg = DKIM_SIGN_RSASHA256;
  if (g_strcmp0 (spec->algorithm, "rsa-sha1") == 0)
    alg = DKIM_SIGN_RSASHA1;
  else if (g_strcmp0 (spec->algorithm, "ed25519-sha256") == 0)
    alg = DKIM_SIGN_ED25519SHA256;

  DKIM_STAT status = DKIM_STAT_OK;
  DKIM *dkim = dkim_sign (lib, (const unsigned char *)"test", NULL, (dkim_sigkey_t)key,
                          (const unsigned char *)spec->selector, (const unsigned char *)spec->domain,
                          DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, alg, -1, &status);
  g_assert_nonnull (dkim);
  g_assert_cmpint (status, ==, DKIM_STAT_OK);
  gsize len = strlen (message);
  g_assert_cmpint (dkim_chunk (dkim, (u_char *)message, len), ==, DKIM_STAT_OK);
  g_assert_cmpint (dkim_chunk (dkim, NULL, 0), ==, DKIM_STAT_OK);
  status = dkim_eom (dkim, NULL);
  if (status != DKIM_STAT_OK)
    g_error ("dkim_eom (sign %s): %s: %s", spec->selector, dkim_getresultstr (status), dkim_geterror (dkim));
  static const char prefix[] = "DKIM-Signature: ";
  u_char header[8192];
  g_assert_cmpint (dkim_getsighdr (dkim, header, sizeof header, strlen (prefix)), ==, DKIM_STAT_OK);
  char *signed_message = g_strconcat (prefix, (const char *)header, "\r\n", message, NULL);
  dkim_free (dkim);
  dkim_close (lib);
  return signed_message;
}
