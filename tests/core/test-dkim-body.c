#define G_LOG_DOMAIN "sw-dkim-test"
/* test-dkim-body.c: core/dkim's own body canonicalisation and body hash (sw-dkim-body.c)
 * and the verification path that uses them instead of libopendkim's.
 *
 *   /core/dkim/body/canon/CASE     exact canonical forms (simple, relaxed), a table
 *   /core/dkim/body/limit          l= shorter and longer than the canonical body
 *   /core/dkim/body/vs-signer      our bh= equals the one libopendkim's signer computes,
 *                                  on generated bodies (CR/LF mixtures, white space runs,
 *                                  trailing empty lines, no final line end, NULs), both
 *                                  canonicalisations, SHA-1 and SHA-256, with l=
 *   /core/dkim/body/engines/gen    the verifier gives the same results (every field) with
 *                                  our body hash and with libopendkim's, on generated
 *                                  signed messages and tampered copies
 *   /core/dkim/body/engines/mail-dkim  the same on Mail::DKIM's corpus */
#include "sw-dkim.h"
#include "dkim-test-data.h"
#include "sw-dkim-private.h"
#include "sw-limits.h"
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <opendkim/dkim.h>

/* The body of @message as the verifier sees it (line ends normalised). */
static GByteArray *
body_of (const char *message, gsize len)
{
  SwDkimMessage msg;
  sw_dkim_message_init (&msg, (const guint8 *)message, len);
  GByteArray *b = g_byte_array_new ();
  g_byte_array_append (b, msg.buf + msg.body_offset, (guint)(msg.len - msg.body_offset));
  sw_dkim_message_clear (&msg);
  return b;
}

/* ---- exact canonical forms ---- */

typedef struct
{
  const char *name;
  const char *body; /* the part after the header's empty line, as received */
  const char *simple;
  const char *relaxed;
} CanonCase;

static const CanonCase canon_cases[] = {
  { "empty", "", "\r\n", "" },
  { "one-line", "abc\r\n", "abc\r\n", "abc\r\n" },
  { "lf-input", "abc\nd  e\n", "abc\r\nd  e\r\n", "abc\r\nd e\r\n" },
  { "crlf-vs-lf-mixed", "a\r\nb\nc\r\n", "a\r\nb\r\nc\r\n", "a\r\nb\r\nc\r\n" },
  { "trailing-empty-lines", "abc\r\n\r\n\r\n", "abc\r\n", "abc\r\n" },
  { "only-empty-lines", "\r\n\r\n", "\r\n", "" },
  { "inner-empty-lines", "a\r\n\r\n\r\nb\r\n", "a\r\n\r\n\r\nb\r\n", "a\r\n\r\n\r\nb\r\n" },
  { "leading-empty-lines", "\r\n\r\na\r\n", "\r\n\r\na\r\n", "\r\n\r\na\r\n" },
  { "whitespace-runs", "a  b\t\tc \t d\r\n", "a  b\t\tc \t d\r\n", "a b c d\r\n" },
  { "leading-whitespace", "  a\r\n\tb\r\n", "  a\r\n\tb\r\n", " a\r\n b\r\n" },
  { "trailing-whitespace", "a  \r\nb\t\r\n", "a  \r\nb\t\r\n", "a\r\nb\r\n" },
  { "whitespace-only-lines-trailing", "a\r\n  \r\n\t\r\n", "a\r\n  \r\n\t\r\n", "a\r\n" },
  { "whitespace-only-line-inside", "a\r\n \t \r\nb\r\n", "a\r\n \t \r\nb\r\n", "a\r\n\r\nb\r\n" },
  { "no-final-line-end", "abc", "abc\r\n", "abc\r\n" },
  { "no-final-line-end-two-lines", "a\r\nbc", "a\r\nbc\r\n", "a\r\nbc\r\n" },
  /* libopendkim: an unterminated last line ending in white space gets no CRLF */
  { "no-final-line-end-trailing-wsp", "a\r\nbc  ", "a\r\nbc  \r\n", "a\r\nbc" },
  /* libopendkim: empty lines before an unterminated last line without white space are
   * dropped in relaxed */
  { "no-final-line-end-after-empty", "a\r\n\r\nbc", "a\r\n\r\nbc\r\n", "a\r\nbc\r\n" },
  { "no-final-line-end-after-empty-wsp", "a\r\n\r\nb c", "a\r\n\r\nb c\r\n", "a\r\n\r\nb c\r\n" },
  { "final-whitespace-only", "a\r\n   ", "a\r\n   \r\n", "a\r\n" },
  { "bare-cr-inside", "a\rb\r\n", "a\r\nb\r\n", "a\r\nb\r\n" },
  { "bare-cr-last", "a\r\nb\r", "a\r\nb\r\n", "a\r\nb\r\n" },
  { "cr-cr-lf", "a\r\r\nb\r\n", "a\r\n\r\nb\r\n", "a\r\n\r\nb\r\n" },
  { "nul-octets", "a\0b\r\n", "a\0b\r\n", "a\0b\r\n" },
};

static void
test_canon_case (gconstpointer data)
{
  const CanonCase *c = data;
  /* the NUL case: lengths from the literal, not strlen */
  gsize blen = strcmp (c->name, "nul-octets") == 0 ? 5 : strlen (c->body);
  gsize slen = strcmp (c->name, "nul-octets") == 0 ? 5 : strlen (c->simple);
  gsize rlen = strcmp (c->name, "nul-octets") == 0 ? 5 : strlen (c->relaxed);
  GString *message = g_string_new ("From: a@example.com\r\n\r\n");
  g_string_append_len (message, c->body, (gssize)blen);
  g_autoptr (GByteArray) body = body_of (message->str, message->len);
  g_string_free (message, TRUE);

  g_autoptr (GByteArray) s = sw_dkim_body_canonicalize (body->data, body->len, SW_DKIM_CANON_SIMPLE);
  g_autoptr (GByteArray) r = sw_dkim_body_canonicalize (body->data, body->len, SW_DKIM_CANON_RELAXED);
  if (s->len != slen || memcmp (s->data, c->simple, slen) != 0)
    g_error ("%s: simple gave \"%s\"", c->name, g_strescape ((const char *)s->data, NULL));
  if (r->len != rlen || memcmp (r->data, c->relaxed, rlen) != 0)
    g_error ("%s: relaxed gave \"%s\"", c->name, g_strescape ((const char *)r->data, NULL));
}

/* ---- l= ---- */

static void
test_limit (void)
{
  static const char body[] = "Hello  world\r\nsecond line\r\n\r\n";
  for (int canon = SW_DKIM_CANON_SIMPLE; canon <= SW_DKIM_CANON_RELAXED; canon++)
    {
      g_autoptr (GByteArray) full = sw_dkim_body_canonicalize ((const guint8 *)body, strlen (body), canon);
      gint64 limits[] = { -1, 0, 5, (gint64)full->len - 1, (gint64)full->len, (gint64)full->len + 10 };
      for (guint i = 0; i < G_N_ELEMENTS (limits); i++)
        {
          SwDkimBodyHash h;
          g_assert_true (sw_dkim_body_hash ((const guint8 *)body, strlen (body), canon, SW_DKIM_HASH_SHA256,
                                            limits[i], &h));
          gsize want_len = limits[i] < 0 ? full->len : MIN ((gsize)limits[i], full->len);
          g_autoptr (GChecksum) ck = g_checksum_new (G_CHECKSUM_SHA256);
          g_checksum_update (ck, full->data, (gssize)want_len);
          guint8 want[32];
          gsize wl = sizeof want;
          g_checksum_get_digest (ck, want, &wl);
          if (h.digest_len != 32 || memcmp (h.digest, want, 32) != 0 || h.hashed != want_len
              || h.canon_len != full->len)
            g_error ("canon %d l=%" G_GINT64_FORMAT ": hashed %" G_GUINT64_FORMAT ", want %" G_GSIZE_FORMAT,
                     canon, limits[i], h.hashed, want_len);
        }
    }
}

/* ---- against libopendkim's signer ---- */

static char *key_pem;

/* A random body made of pieces that exercise every rule. */
static GString *
random_body (GRand *rng, guint size)
{
  static const char *pieces[] = { "word", "x", " ", "  ", "\t", " \t ", "\r\n", "\r\n", "\r\n", "\n",
                                  "\r", "\r\n\r\n", "\r\n  \r\n", "\0", "=20", ".", "\r\r\n" };
  static const gsize lens[] = { 4, 1, 1, 2, 1, 3, 2, 2, 2, 1, 1, 4, 6, 1, 3, 1, 3 };
  GString *b = g_string_new (NULL);
  guint n = g_rand_int_range (rng, 0, (gint32)size + 1);
  for (guint i = 0; i < n; i++)
    {
      guint k = g_rand_int_range (rng, 0, G_N_ELEMENTS (pieces));
      g_string_append_len (b, pieces[k], (gssize)lens[k]);
    }
  /* long lines and long bodies too (libopendkim's 4096-octet hash buffer) */
  if (g_rand_int_range (rng, 0, 4) == 0)
    for (guint i = 0, m = g_rand_int_range (rng, 0, 300); i < m; i++)
      g_string_append (b, i % 7 == 6 ? "\r\n" : "lorem ipsum dolor ");
  /* endings */
  static const char *ends[] = { "", "\r\n", "\r\n\r\n", " ", "\r", "\r\n  ", "x", "\n\n" };
  g_string_append (b, ends[g_rand_int_range (rng, 0, G_N_ELEMENTS (ends))]);
  return b;
}

typedef struct
{
  dkim_canon_t body_canon;
  dkim_alg_t alg;
  ssize_t length; /* -1: no l= */
} SignSpec;

/* Signs "From/Subject + @body" with libopendkim; returns the DKIM-Signature field value. */
static char *
sign_body (const GByteArray *body, const SignSpec *spec, GString **message_out)
{
  DKIM_LIB *lib = dkim_init (NULL, NULL);
  g_assert_nonnull (lib);
  uint32_t flags = DKIM_LIBFLAGS_FIXCRLF;
  g_assert_cmpint (dkim_options (lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags), ==, DKIM_STAT_OK);
  DKIM_STAT status = DKIM_STAT_OK;
  DKIM *dkim = dkim_sign (lib, (const unsigned char *)"t", NULL, (dkim_sigkey_t)key_pem,
                          (const unsigned char *)"rsa2048", (const unsigned char *)"example.com",
                          DKIM_CANON_RELAXED, spec->body_canon, spec->alg, spec->length, &status);
  g_assert_nonnull (dkim);
  static const char *headers[] = { "From: Alice <alice@example.com>", "To: bob@example.net",
                                   "Subject: body test" };
  GString *m = g_string_new (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (headers); i++)
    {
      g_assert_cmpint (dkim_header (dkim, (u_char *)headers[i], strlen (headers[i])), ==, DKIM_STAT_OK);
      g_string_append_printf (m, "%s\r\n", headers[i]);
    }
  g_string_append (m, "\r\n");
  g_string_append_len (m, (const char *)body->data, (gssize)body->len);
  g_assert_cmpint (dkim_eoh (dkim), ==, DKIM_STAT_OK);
  if (body->len > 0)
    g_assert_cmpint (dkim_body (dkim, body->data, body->len), ==, DKIM_STAT_OK);
  g_assert_cmpint (dkim_eom (dkim, NULL), ==, DKIM_STAT_OK);
  u_char header[8192];
  g_assert_cmpint (dkim_getsighdr (dkim, header, sizeof header, strlen ("DKIM-Signature: ")), ==, DKIM_STAT_OK);
  char *value = g_strdup ((const char *)header);
  dkim_free (dkim);
  dkim_close (lib);
  if (message_out != NULL)
    {
      g_string_prepend (m, "\r\n");
      g_string_prepend (m, value);
      g_string_prepend (m, "DKIM-Signature: ");
      *message_out = m;
    }
  else
    g_string_free (m, TRUE);
  return value;
}

static void
test_vs_signer (void)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (20261123);
  static const dkim_canon_t canons[] = { DKIM_CANON_SIMPLE, DKIM_CANON_RELAXED };
  guint checked = 0;
  for (guint round = 0; round < 400; round++)
    {
      g_autoptr (GString) raw = random_body (rng, 40);
      g_autofree char *msg = g_strconcat ("From: a@example.com\r\n\r\n", NULL);
      GString *full = g_string_new (msg);
      g_string_append_len (full, raw->str, (gssize)raw->len);
      g_autoptr (GByteArray) body = body_of (full->str, full->len);
      g_string_free (full, TRUE);
      for (guint c = 0; c < G_N_ELEMENTS (canons); c++)
        {
          g_autoptr (GByteArray) canonical
              = sw_dkim_body_canonicalize (body->data, body->len,
                                           canons[c] == DKIM_CANON_SIMPLE ? SW_DKIM_CANON_SIMPLE : SW_DKIM_CANON_RELAXED);
          SignSpec spec = { canons[c], round % 5 == 0 ? DKIM_SIGN_RSASHA1 : DKIM_SIGN_RSASHA256, -1 };
          if (round % 3 == 1)
            spec.length = (ssize_t)g_rand_int_range (rng, 0, (gint32)canonical->len + 1);
          g_autofree char *value = sign_body (body, &spec, NULL);
          g_autofree char *bh = sw_dkim_tag_list_get (value, strlen (value), "bh");
          g_assert_nonnull (bh);
          SwDkimBodyHash h;
          g_assert_true (sw_dkim_body_hash (body->data, body->len,
                                            canons[c] == DKIM_CANON_SIMPLE ? SW_DKIM_CANON_SIMPLE
                                                                           : SW_DKIM_CANON_RELAXED,
                                            spec.alg == DKIM_SIGN_RSASHA1 ? SW_DKIM_HASH_SHA1 : SW_DKIM_HASH_SHA256,
                                            spec.length, &h));
          g_autofree char *ours = g_base64_encode (h.digest, h.digest_len);
          if (strcmp (ours, bh) != 0)
            {
              g_autofree char *esc = g_strescape ((const char *)body->data, NULL);
              g_error ("round %u canon %s l=%zd: libopendkim bh=%s, ours %s; body \"%s\"", round,
                       canons[c] == DKIM_CANON_SIMPLE ? "simple" : "relaxed", spec.length, bh, ours, esc);
            }
          checked++;
        }
    }
  g_assert_cmpuint (checked, ==, 800);
}

/* ---- both verification paths give the same results ---- */

static void
assert_same_results (const char *name, const SwDkimResults *a, const SwDkimResults *b)
{
  if (a->signatures->len != b->signatures->len || a->n_not_verified != b->n_not_verified)
    g_error ("%s: %u/%u signatures", name, a->signatures->len, b->signatures->len);
  for (guint i = 0; i < a->signatures->len; i++)
    {
      const SwDkimSignature *x = g_ptr_array_index (a->signatures, i);
      const SwDkimSignature *y = g_ptr_array_index (b->signatures, i);
      if (x->result != y->result || g_strcmp0 (x->reason, y->reason) != 0 || g_strcmp0 (x->domain, y->domain) != 0
          || g_strcmp0 (x->selector, y->selector) != 0 || g_strcmp0 (x->identity, y->identity) != 0
          || g_strcmp0 (x->algorithm, y->algorithm) != 0 || x->key_bits != y->key_bits
          || x->body_length_limited != y->body_length_limited || x->body_length != y->body_length
          || x->signed_at != y->signed_at || x->expires_at != y->expires_at
          || g_strcmp0 (x->header_b, y->header_b) != 0 || x->dnssec != y->dnssec || x->testing != y->testing)
        g_error ("%s: signature %u: ours %d \"%s\", libopendkim's %d \"%s\"", name, i, x->result, x->reason,
                 y->result, y->reason);
    }
}

static SwDkimResults *
verify (SwDkimVerifier *v, const char *data, gsize len)
{
  g_autoptr (GBytes) bytes = g_bytes_new (data, len);
  g_autoptr (GError) error = NULL;
  SwDkimResults *r = NULL;
  g_assert_true (sw_dkim_verify (v, bytes, 0, &r, &error));
  g_assert_no_error (error);
  return r;
}

static void
compare_engines (SwResolver *resolver, gboolean rfc6376, const char *name, const char *data, gsize len,
                 guint *n_pass, guint *n_fail)
{
  SwDkimOptions opts = { rfc6376 ? 1 : 0, rfc6376 };
  g_autoptr (GError) error = NULL;
  g_autoptr (SwDkimVerifier) fast = sw_dkim_verifier_new_full (resolver, &opts, &error);
  g_autoptr (SwDkimVerifier) slow = sw_dkim_verifier_new_full (resolver, &opts, &error);
  g_assert_no_error (error);
  sw_dkim_verifier_set_library_body (slow, TRUE);
  g_autoptr (SwDkimResults) a = verify (fast, data, len);
  g_autoptr (SwDkimResults) b = verify (slow, data, len);
  assert_same_results (name, a, b);
  for (guint i = 0; i < a->signatures->len; i++)
    {
      const SwDkimSignature *s = g_ptr_array_index (a->signatures, i);
      if (s->result == SW_AUTH_PASS)
        (*n_pass)++;
      else
        (*n_fail)++;
    }
}

static void
test_engines_generated (void)
{
  g_autofree char *zone = sw_test_dkim_read ("keys/keys.zone", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (SwResolver) resolver = sw_resolver_new_zone_text (zone, &error);
  g_assert_no_error (error);
  g_autoptr (GRand) rng = g_rand_new_with_seed (7);
  guint n_pass = 0, n_fail = 0;
  static const char *appends[] = { "", "appended\r\n", "\r\n\r\n", " ", "x", "\r\n  \r\n" };
  for (guint round = 0; round < 120; round++)
    {
      g_autoptr (GString) raw = random_body (rng, 30);
      GString *tmp = g_string_new ("From: a@example.com\r\n\r\n");
      g_string_append_len (tmp, raw->str, (gssize)raw->len);
      g_autoptr (GByteArray) body = body_of (tmp->str, tmp->len);
      g_string_free (tmp, TRUE);
      SignSpec spec = { round % 2 ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED,
                        round % 7 == 0 ? DKIM_SIGN_RSASHA1 : DKIM_SIGN_RSASHA256, -1 };
      if (round % 3 == 1)
        spec.length = (ssize_t)g_rand_int_range (rng, 0, (gint32)body->len + 3);
      GString *m = NULL;
      g_autofree char *value = sign_body (body, &spec, &m);
      for (guint k = 0; k < G_N_ELEMENTS (appends); k++)
        {
          g_autofree char *name = g_strdup_printf ("round %u append %u", round, k);
          GString *variant = g_string_new_len (m->str, (gssize)m->len);
          g_string_append (variant, appends[k]);
          if (k == 0 && round % 4 == 3 && variant->len > 0)
            variant->str[variant->len / 2] ^= 0x01; /* a flipped bit in the header or body */
          compare_engines (resolver, round % 5 == 0, name, variant->str, variant->len, &n_pass, &n_fail);
          g_string_free (variant, TRUE);
        }
      g_string_free (m, TRUE);
    }
  /* both outcomes occurred, so the comparison is not vacuous */
  g_assert_cmpuint (n_pass, >, 50);
  g_assert_cmpuint (n_fail, >, 50);
}

static void
test_engines_mail_dkim (void)
{
  g_autofree char *zone = sw_test_dkim_fake_dns_to_zone ("mail-dkim/FAKE_DNS.dat");
  g_autoptr (GError) error = NULL;
  g_autoptr (SwResolver) resolver = sw_resolver_new_zone_text (zone, &error);
  g_assert_no_error (error);
  g_autofree char *dir_path = sw_test_dkim_path ("mail-dkim/corpus");
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, &error);
  g_assert_no_error (error);
  guint n_pass = 0, n_fail = 0, n_files = 0;
  const char *file;
  while ((file = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *rel = g_build_filename ("mail-dkim/corpus", file, NULL);
      gsize len = 0;
      g_autofree char *text = sw_test_dkim_read (rel, &len);
      compare_engines (resolver, TRUE, file, text, len, &n_pass, &n_fail);
      compare_engines (resolver, FALSE, file, text, len, &n_pass, &n_fail);
      n_files++;
    }
  g_assert_cmpuint (n_files, >=, 70);
  g_assert_cmpuint (n_pass, >, 10);
  g_assert_cmpuint (n_fail, >, 20);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autofree char *key_path = sw_test_dkim_path ("keys/rsa2048.pem");
  g_assert_true (g_file_get_contents (key_path, &key_pem, NULL, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (canon_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/core/dkim/body/canon/%s", canon_cases[i].name);
      g_test_add_data_func (path, &canon_cases[i], test_canon_case);
    }
  g_test_add_func ("/core/dkim/body/limit", test_limit);
  g_test_add_func ("/core/dkim/body/vs-signer", test_vs_signer);
  g_test_add_func ("/core/dkim/body/engines/gen", test_engines_generated);
  g_test_add_func ("/core/dkim/body/engines/mail-dkim", test_engines_mail_dkim);
  int rc = g_test_run ();
  g_free (key_pem);
  return rc;
}
