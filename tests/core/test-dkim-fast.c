#define G_LOG_DOMAIN "sw-dkim-test"
/* test-dkim-fast.c: core/dkim's own signature check (sw-dkim-check.c, sw-dkim-key.c)
 * against libopendkim, the reference engine.
 *
 *   /core/dkim/fast/unit/...    strict base64, tag lists, key records
 *   /core/dkim/fast/engines/... the same message through our check and through
 *                               libopendkim (with and without libopendkim's own body
 *                               path): every field of every result must be equal, and
 *                               the fast path must have taken a given share of them
 *   /core/dkim/fast/key-cache   keys decoded once per key text; rotation seen at once
 *   /core/dkim/fast/threads     one verifier shared by threads */
#include "sw-dkim.h"
#include "dkim-test-data.h"
#include "sw-dkim-private.h"
#include "sw-dkim-bodyhash.h"
#include "sw-limits.h"
#include <string.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <opendkim/dkim.h>

/* ---- helpers ---- */

static void
assert_same_results (const char *name, const char *engine, const SwDkimResults *a, const SwDkimResults *b)
{
  if (a->signatures->len != b->signatures->len || a->n_not_verified != b->n_not_verified)
    g_error ("%s: %u+%u signatures, %s %u+%u", name, a->signatures->len, a->n_not_verified, engine,
             b->signatures->len, b->n_not_verified);
  for (guint i = 0; i < a->signatures->len; i++)
    {
      const SwDkimSignature *x = g_ptr_array_index (a->signatures, i);
      const SwDkimSignature *y = g_ptr_array_index (b->signatures, i);
#define FIELD_STR(f)                                                                                          \
  if (g_strcmp0 (x->f, y->f) != 0)                                                                            \
  g_error ("%s: signature %u: " #f " \"%s\", %s \"%s\" (reasons \"%s\" / \"%s\")", name, i, x->f, engine, y->f, \
           x->reason, y->reason)
#define FIELD_INT(f)                                                                                          \
  if (x->f != y->f)                                                                                           \
  g_error ("%s: signature %u: " #f " %" G_GINT64_FORMAT ", %s %" G_GINT64_FORMAT " (reasons \"%s\" / \"%s\")", \
           name, i, (gint64)x->f, engine, (gint64)y->f, x->reason, y->reason)
      FIELD_INT (result);
      FIELD_STR (reason);
      FIELD_STR (domain);
      FIELD_STR (selector);
      FIELD_STR (identity);
      FIELD_STR (algorithm);
      FIELD_INT (key_bits);
      FIELD_INT (body_length_limited);
      FIELD_INT (body_length);
      FIELD_INT (signed_at);
      FIELD_INT (expires_at);
      FIELD_STR (header_b);
      FIELD_INT (dnssec);
      FIELD_INT (testing);
#undef FIELD_STR
#undef FIELD_INT
    }
}

static SwDkimResults *
verify (SwDkimVerifier *v, const char *data, gsize len, gint64 when)
{
  g_autoptr (GBytes) bytes = g_bytes_new (data, len);
  g_autoptr (GError) error = NULL;
  SwDkimResults *r = NULL;
  g_assert_true (sw_dkim_verify (v, bytes, when, &r, &error));
  g_assert_no_error (error);
  return r;
}

/* Three verifiers over one resolver: ours (fast path first), libopendkim with our body
 * hash, libopendkim alone. */
typedef struct
{
  SwDkimVerifier *fast, *library, *library_body;
  guint n_messages, n_fast_before;
  guint n_pass, n_other;
  guint n_prehashed, n_needs_body; /* sw_dkim_verify_prehashed() runs: judged, or NEEDS_BODY */
} Engines;

static void
engines_init (Engines *e, SwResolver *resolver, gboolean rfc6376)
{
  SwDkimOptions opts = { rfc6376 ? 1 : 0, rfc6376 };
  g_autoptr (GError) error = NULL;
  memset (e, 0, sizeof *e);
  e->fast = sw_dkim_verifier_new_full (resolver, &opts, &error);
  g_assert_no_error (error);
  e->library = sw_dkim_verifier_new_full (resolver, &opts, &error);
  g_assert_no_error (error);
  e->library_body = sw_dkim_verifier_new_full (resolver, &opts, &error);
  g_assert_no_error (error);
  sw_dkim_verifier_set_library_only (e->library, TRUE);
  sw_dkim_verifier_set_library_body (e->library_body, TRUE);
}

static void
engines_clear (Engines *e)
{
  /* the library engines never take the fast path */
  g_assert_cmpuint (sw_dkim_verifier_get_n_fast (e->library), ==, 0);
  g_assert_cmpuint (sw_dkim_verifier_get_n_fast (e->library_body), ==, 0);
  /* every message also went through the prehashed entry point, twice */
  g_assert_cmpuint (e->n_prehashed + e->n_needs_body, ==, 2 * e->n_messages);
  if (e->n_messages > 0)
    g_assert_cmpuint (e->n_prehashed, >, 0);
  g_test_message ("prehashed: %u judged, %u needed the whole message", e->n_prehashed, e->n_needs_body);
  g_clear_pointer (&e->fast, sw_dkim_verifier_free);
  g_clear_pointer (&e->library, sw_dkim_verifier_free);
  g_clear_pointer (&e->library_body, sw_dkim_verifier_free);
}

/* The end of the header block as the POP3 proxy finds it: after the first line (ended by
 * LF) that is empty or only CR; @len if there is none. */
static gsize
header_block_end (const char *data, gsize len)
{
  gsize start = 0;
  while (start < len)
    {
      const char *nl = memchr (data + start, '\n', len - start);
      if (nl == NULL)
        return len;
      gsize line_len = (gsize)(nl - (data + start));
      if (line_len == 0 || (line_len == 1 && data[start] == '\r'))
        return (gsize)(nl - data) + 1;
      start = (gsize)(nl - data) + 1;
    }
  return len;
}

/* sw_dkim_verify_prehashed() on @data split into header block and a body fed in chunks
 * of 1 to 13 octets and as a whole: NULL when it answered NEEDS_BODY (the caller then
 * verifies the whole message, which verify() above does). */
static SwDkimResults *
verify_prehashed (SwDkimVerifier *v, const char *data, gsize len, gint64 when, gboolean small_chunks)
{
  gsize hlen = header_block_end (data, len);
  g_autoptr (SwDkimBodyHasher) h = sw_dkim_body_hasher_new_for_header ((const guint8 *)data, hlen);
  gsize off = hlen, step = 1;
  while (off < len)
    {
      gsize n = small_chunks ? MIN (step, len - off) : len - off;
      sw_dkim_body_hasher_feed (h, (const guint8 *)data + off, n);
      off += n;
      step = step % 13 + 1;
    }
  sw_dkim_body_hasher_finish (h);
  g_assert_cmpuint (sw_dkim_body_hasher_body_length (h), ==, len - hlen);
  g_autoptr (GBytes) header = g_bytes_new (data, hlen);
  g_autoptr (GError) error = NULL;
  SwDkimResults *r = NULL;
  if (!sw_dkim_verify_prehashed (v, header, h, when, &r, &error))
    {
      g_assert_error (error, SW_DKIM_ERROR, SW_DKIM_ERROR_NEEDS_BODY);
      return NULL;
    }
  g_assert_no_error (error);
  return r;
}

/* Compares the engines on one message; returns TRUE if the fast path took it. */
static gboolean
engines_compare (Engines *e, const char *name, const char *data, gsize len, gint64 when)
{
  guint before = sw_dkim_verifier_get_n_fast (e->fast);
  g_autoptr (SwDkimResults) a = verify (e->fast, data, len, when);
  gboolean fast = sw_dkim_verifier_get_n_fast (e->fast) > before;
  g_autoptr (SwDkimResults) b = verify (e->library, data, len, when);
  g_autoptr (SwDkimResults) c = verify (e->library_body, data, len, when);
  assert_same_results (name, "libopendkim", a, b);
  assert_same_results (name, "libopendkim with its body path", a, c);
  for (int small = 0; small < 2; small++)
    {
      g_autoptr (SwDkimResults) p = verify_prehashed (e->fast, data, len, when, small);
      if (p != NULL)
        {
          assert_same_results (name, small ? "prehashed body, small chunks" : "prehashed body", a, p);
          e->n_prehashed++;
        }
      else
        {
          /* only a message the fast path left to libopendkim may need its body */
          g_assert_false (fast);
          e->n_needs_body++;
        }
    }
  e->n_messages++;
  for (guint i = 0; i < a->signatures->len; i++)
    {
      const SwDkimSignature *s = g_ptr_array_index (a->signatures, i);
      if (s->result == SW_AUTH_PASS)
        e->n_pass++;
      else
        e->n_other++;
    }
  return fast;
}

/* ---- unit ---- */

static void
test_unit_base64 (void)
{
  static const struct
  {
    const char *text;
    const char *decoded; /* NULL: refused */
  } cases[] = {
    { "", "" },
    { "YQ==", "a" },
    { "YWI=", "ab" },
    { "YWJj", "abc" },
    { "YWJjZA==", "abcd" },
    { "SGVsbG8sIFdvcmxkIQ==", "Hello, World!" },
    { "YQ", NULL },     /* length not a multiple of four */
    { "Y===", NULL },   /* three pad octets */
    { "YQ=a", NULL },   /* pad in the middle */
    { "Y Q==", NULL },  /* white space is removed before, never inside */
    { "YQ==YQ==", NULL },
    { "Y-_=", NULL },   /* base64url alphabet */
    { "=QQQ", NULL },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gsize len = 0;
      g_autofree guint8 *out = sw_dkim_base64_decode (cases[i].text, &len);
      if (cases[i].decoded == NULL)
        {
          if (out != NULL)
            g_error ("case %u \"%s\": accepted", i, cases[i].text);
          continue;
        }
      if (out == NULL)
        g_error ("case %u \"%s\": refused", i, cases[i].text);
      g_assert_cmpmem (out, len, cases[i].decoded, strlen (cases[i].decoded));
    }
  /* every 0..3 octet input round-trips through GLib's encoder */
  for (guint n = 0; n < 300; n++)
    {
      guint8 raw[3] = { (guint8)(n * 7), (guint8)(n * 13), (guint8)(n * 31) };
      gsize rl = n % 4 == 0 ? 3 : n % 4 - 1;
      g_autofree char *enc = g_base64_encode (raw, rl);
      gsize len = 0;
      g_autofree guint8 *out = sw_dkim_base64_decode (enc, &len);
      g_assert_nonnull (out);
      g_assert_cmpmem (out, len, raw, rl);
    }
}

static void
test_unit_tags (void)
{
  static const char *const known[] = { "v", "a", "bh", "b", NULL };
  static const struct
  {
    const char *text;
    gboolean unknown_ok;
    gboolean plain;
    const char *v, *bh; /* expected values when plain */
  } cases[] = {
    { "v=1; a=rsa-sha256; bh=abc; b=def", FALSE, TRUE, "1", "abc" },
    { " v = 1 ;bh=a b\r\n\tc;", FALSE, FALSE, NULL, NULL }, /* space before '=' */
    { " v=1 ;bh=a b\r\n\tc; ", FALSE, TRUE, "1", "abc" },
    { "v=1;;bh=x", FALSE, FALSE, NULL, NULL },              /* empty element inside */
    { ";v=1", FALSE, FALSE, NULL, NULL },
    { "v=1; z=foo", FALSE, FALSE, NULL, NULL },             /* unknown tag */
    { "v=1; z=foo", TRUE, TRUE, "1", NULL },
    { "v=1; v=1", FALSE, FALSE, NULL, NULL },               /* twice */
    { "v=1; V=1", TRUE, FALSE, NULL, NULL },                /* upper case name */
    { "v=1; bh", FALSE, FALSE, NULL, NULL },                /* tag without value */
    { "v=1; bh=", FALSE, TRUE, "1", "" },
    { "v=1; bh=\x80", FALSE, FALSE, NULL, NULL },           /* 8-bit */
    { "v=1; bh=\x01", FALSE, FALSE, NULL, NULL },           /* control */
    { "v=1; _x=2", TRUE, FALSE, NULL, NULL },               /* name must start alnum */
    { "v=1; darn=x.example; bh=y", TRUE, TRUE, "1", "y" },  /* unknown, skipped */
    { "v=1; xb=1; bh=y", TRUE, FALSE, NULL, NULL },         /* unknown ending in b */
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      char *values[5] = { NULL };
      gboolean plain = sw_dkim_tags_read (cases[i].text, strlen (cases[i].text), known, values, cases[i].unknown_ok);
      if (plain != cases[i].plain)
        g_error ("case %u \"%s\": plain %d", i, cases[i].text, plain);
      if (plain)
        {
          g_assert_cmpstr (values[0], ==, cases[i].v);
          g_assert_cmpstr (values[2], ==, cases[i].bh);
        }
      for (guint k = 0; k < G_N_ELEMENTS (values); k++)
        g_free (values[k]);
    }

  /* every octet at every offset of a long value (the scan reads 8 octets at a time): only
   * printable ASCII, HTAB, CR and LF are plain */
  for (guint octet = 1; octet < 256; octet++)
    for (gsize at = 0; at < 40; at++)
      {
        char text[64] = "v=1; bh=0123456789012345678901234567890123456789";
        gsize len = strlen (text);
        text[8 + at] = (char)octet;
        gboolean want = (octet >= 0x20 && octet <= 0x7e && octet != ';') || octet == '\t' || octet == '\r'
                        || octet == '\n';
        if (octet == '=')
          want = TRUE; /* part of the value */
        char *values[5] = { NULL };
        gboolean plain = sw_dkim_tags_read (text, len, known, values, FALSE);
        /* a ';' ends the value early and starts an element that is not a tag */
        if (octet != ';' && plain != want)
          g_error ("octet 0x%02x at %" G_GSIZE_FORMAT ": plain %d", octet, at, plain);
        for (guint k = 0; k < G_N_ELEMENTS (values); k++)
          g_free (values[k]);
      }

  g_auto (SwDkimKeyRecord) rec = { 0 };
  g_assert_true (sw_dkim_key_record_read ("v=DKIM1; k=rsa; n=notes here; p=ab cd", &rec));
  g_assert_cmpstr (rec.v, ==, "DKIM1");
  g_assert_cmpstr (rec.k, ==, "rsa");
  g_assert_cmpstr (rec.p, ==, "abcd");
  g_assert_null (rec.t);
  sw_dkim_key_record_clear (&rec);
  g_assert_false (sw_dkim_key_record_read ("v=DKIM1; p=x; p=y", &rec));
  g_assert_null (rec.p);
}

/* sw_dkim_message_init() copies (normalises) a message exactly when it has a bare LF,
 * wherever that LF is (the scan reads 16 octets at a time); sw_dkim_message_init_header()
 * only when the LF is before the body, and sw_dkim_message_normalise_body() then gives
 * the same message as sw_dkim_message_init() */
static void
test_unit_bare_lf (void)
{
  for (gsize len = 1; len < 150; len++)
    for (gsize at = 0; at <= len; at++)
      for (guint header_lines = 0; header_lines < 3; header_lines++)
        {
          /* @header_lines fields, an empty line, then lines of "xxxxx" ending in CRLF, cut
           * to @len octets; the octet at @at (none when at == len) becomes an LF */
          g_autoptr (GString) m = g_string_new (NULL);
          for (guint h = 0; h < header_lines; h++)
            g_string_append (m, "A: 1\r\n");
          if (header_lines > 0)
            g_string_append (m, "\r\n");
          while (m->len < len)
            g_string_append (m, "xxxxx\r\n");
          g_string_truncate (m, len);
          if (at < len)
            m->str[at] = '\n';
          gboolean expect = FALSE;
          for (gsize k = 0; k < len; k++)
            if (m->str[k] == '\n' && (k == 0 || m->str[k - 1] != '\r'))
              expect = TRUE;
          SwDkimMessage msg, lazy;
          sw_dkim_message_init (&msg, (const guint8 *)m->str, m->len);
          if ((msg.data != NULL) != expect)
            g_error ("length %" G_GSIZE_FORMAT " at %" G_GSIZE_FORMAT ": copied %d, bare LF %d", len, at,
                     msg.data != NULL, expect);
          sw_dkim_message_init_header (&lazy, (const guint8 *)m->str, m->len);
          gboolean in_header = FALSE;
          for (gsize k = 0; k < lazy.body_offset; k++)
            if (m->str[k] == '\n' && (k == 0 || m->str[k - 1] != '\r'))
              in_header = TRUE;
          if ((lazy.data != NULL) != in_header)
            g_error ("length %" G_GSIZE_FORMAT " at %" G_GSIZE_FORMAT ": header only: copied %d, bare LF %d",
                     len, at, lazy.data != NULL, in_header);
          sw_dkim_message_normalise_body (&lazy);
          if (lazy.len != msg.len || memcmp (lazy.buf, msg.buf, msg.len) != 0 || lazy.body_offset != msg.body_offset
              || lazy.fields->len != msg.fields->len
              || memcmp (lazy.fields->data, msg.fields->data, msg.fields->len * sizeof (SwDkimField)) != 0)
            g_error ("length %" G_GSIZE_FORMAT " at %" G_GSIZE_FORMAT ": normalised later, the message differs",
                     len, at);
          sw_dkim_message_clear (&lazy);
          sw_dkim_message_clear (&msg);
        }
}

/* ---- corpora ---- */

static void
test_engines_mail_dkim (void)
{
  g_autofree char *zone = sw_test_dkim_fake_dns_to_zone ("mail-dkim/FAKE_DNS.dat");
  g_autoptr (SwResolver) resolver = sw_test_resolver_from_zone (zone);
  g_autofree char *dir_path = sw_test_dkim_path ("mail-dkim/corpus");
  g_autoptr (GError) error = NULL;
  guint n_pass = 0, n_other = 0;
  for (guint rfc = 0; rfc < 2; rfc++)
    {
      Engines e;
      engines_init (&e, resolver, rfc == 1);
      g_autoptr (GDir) dir = g_dir_open (dir_path, 0, &error);
      g_assert_no_error (error);
      const char *file;
      guint n_fast = 0;
      while ((file = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *path = g_build_filename (dir_path, file, NULL);
          gsize len = 0;
          g_autofree char *text = sw_test_read_file (path, &len);
          n_fast += engines_compare (&e, file, text, len, 0);
        }
      g_test_message ("Mail::DKIM corpus (%s): %u messages, %u through the fast path, %u pass, %u other",
                      rfc ? "RFC 6376" : "RFC 8301", e.n_messages, n_fast, e.n_pass, e.n_other);
      g_assert_cmpuint (e.n_messages, >=, 70);
      /* most of the corpus has syntax errors or old-draft tags (v=0.5, q=dns), which stay
       * libopendkim's; the rest must take the fast path */
      g_assert_cmpuint (n_fast, >=, 15);
      n_pass += e.n_pass;
      n_other += e.n_other;
      engines_clear (&e);
    }
  g_assert_cmpuint (n_pass, >, 10);
  g_assert_cmpuint (n_other, >, 20);
}

static void
test_engines_dkimpy (void)
{
  g_autofree char *zone = sw_test_dkim_fake_dns_to_zone ("dkimpy/FAKE_DNS.dat");
  g_autoptr (SwResolver) resolver = sw_test_resolver_from_zone (zone);
  static const char *files[] = { "rfc6376.signed.msg", "rfc6376.signed.rsa.msg", "ed25519test2.msg",
                                 "test2.message" };
  Engines e;
  engines_init (&e, resolver, FALSE);
  guint n_fast = 0;
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *rel = g_build_filename ("dkimpy", files[i], NULL);
      gsize len = 0;
      g_autofree char *text = sw_test_dkim_read (rel, &len);
      n_fast += engines_compare (&e, files[i], text, len, 0);
    }
  /* all of them are plain, Ed25519 included */
  g_assert_cmpuint (n_fast, ==, G_N_ELEMENTS (files));
  g_assert_cmpuint (e.n_pass, ==, 5);
  engines_clear (&e);
}

static void
test_engines_samples (void)
{
  g_autofree char *dir = g_test_build_filename (G_TEST_DIST, "..", "samples", NULL);
  g_autofree char *zone_path = g_build_filename (dir, "samples.zone", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (SwResolver) resolver = sw_resolver_new_zone_file (zone_path, &error);
  g_assert_no_error (error);
  g_autoptr (GDir) d = g_dir_open (dir, 0, &error);
  g_assert_no_error (error);
  Engines e;
  engines_init (&e, resolver, FALSE);
  guint n_signed = 0, n_fast = 0;
  const char *file;
  while ((file = g_dir_read_name (d)) != NULL)
    {
      if (!g_str_has_suffix (file, ".eml"))
        continue;
      g_autofree char *path = g_build_filename (dir, file, NULL);
      gsize len = 0;
      g_autofree char *text = sw_test_read_file (path, &len);
      n_fast += engines_compare (&e, file, text, len, 0);
      n_signed += strstr (text, "DKIM-Signature:") != NULL;
    }
  g_assert_cmpuint (n_signed, >=, 3);
  g_assert_cmpuint (n_fast, ==, n_signed);
  engines_clear (&e);
}

/* ---- generated messages ---- */

static char *key_pems[3]; /* rsa2048, rsa1024, ed25519 */

typedef struct
{
  dkim_canon_t header_canon, body_canon;
  dkim_alg_t alg;
  ssize_t length; /* -1: no l= */
  guint key;      /* index into key_pems */
  const char *selector;
} SignSpec;

/* "DKIM-Signature: ..." + @headers + CRLF + @body, signed by libopendkim. */
static GString *
sign_message (const char *headers, const char *body, const SignSpec *spec)
{
  DKIM_LIB *lib = dkim_init (NULL, NULL);
  g_assert_nonnull (lib);
  uint32_t flags = DKIM_LIBFLAGS_FIXCRLF;
  g_assert_cmpint (dkim_options (lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags), ==, DKIM_STAT_OK);
  DKIM_STAT status = DKIM_STAT_OK;
  DKIM *dkim = dkim_sign (lib, (const unsigned char *)"t", NULL, (dkim_sigkey_t)key_pems[spec->key],
                          (const unsigned char *)spec->selector, (const unsigned char *)"example.com",
                          spec->header_canon, spec->body_canon, spec->alg, spec->length, &status);
  g_assert_nonnull (dkim);
  g_auto (GStrv) lines = g_strsplit (headers, "\r\n", -1);
  GString *m = g_string_new (NULL);
  /* unfolded lines are fields; lines starting with white space continue the previous */
  GString *field = NULL;
  for (guint i = 0;; i++)
    {
      const char *line = lines[i];
      if (line != NULL && field != NULL && (line[0] == ' ' || line[0] == '\t'))
        {
          g_string_append_printf (field, "\r\n%s", line);
          continue;
        }
      if (field != NULL)
        {
          /* a field libopendkim refuses (SYNTAX) is left out of the signature, as when verifying */
          DKIM_STAT st = dkim_header (dkim, (u_char *)field->str, field->len);
          g_assert_true (st == DKIM_STAT_OK || st == DKIM_STAT_SYNTAX);
          g_string_free (field, TRUE);
          field = NULL;
        }
      if (line == NULL || line[0] == '\0')
        break;
      field = g_string_new (line);
    }
  g_string_append (m, headers);
  g_string_append (m, "\r\n");
  g_string_append (m, body);
  g_assert_cmpint (dkim_eoh (dkim), ==, DKIM_STAT_OK);
  if (body[0] != '\0')
    g_assert_cmpint (dkim_body (dkim, (u_char *)body, strlen (body)), ==, DKIM_STAT_OK);
  g_assert_cmpint (dkim_eom (dkim, NULL), ==, DKIM_STAT_OK);
  u_char header[8192];
  g_assert_cmpint (dkim_getsighdr (dkim, header, sizeof header, strlen ("DKIM-Signature: ")), ==, DKIM_STAT_OK);
  g_string_prepend (m, "\r\n");
  g_string_prepend (m, (const char *)header);
  g_string_prepend (m, "DKIM-Signature: ");
  dkim_free (dkim);
  dkim_close (lib);
  return m;
}

/* Replaces the first @from in @m by @to (no-op when absent). */
static void
replace_first (GString *m, const char *from, const char *to)
{
  const char *at = strstr (m->str, from);
  if (at == NULL)
    return;
  gsize pos = (gsize)(at - m->str);
  g_string_erase (m, (gssize)pos, (gssize)strlen (from));
  g_string_insert (m, (gssize)pos, to);
}

static const char *const header_sets[] = {
  "From: Alice <alice@example.com>\r\nTo: bob@example.net\r\nSubject: hello\r\n"
  "Date: Sun, 13 Sep 2020 12:26:40 +0000\r\nMessage-ID: <1@example.com>\r\n",
  /* folding, tabs, runs of white space, trailing white space, 8-bit octets */
  "From:\r\n Alice  <alice@example.com>\r\nSubject: hello\r\n",
  "From: Alice <alice@example.com>\r\nTo:\tbob@example.net ,\r\n\t carol@example.org  \r\n",
  "From: Alice <alice@example.com>\r\nSubject:   caf\xc3\xa9   au   lait \t\r\n",
  "From: Alice <alice@example.com>\r\nReceived: from a by b;\r\n  Sun, 13 Sep 2020\r\n",
  /* repeated fields (bottom-up selection), a field libopendkim drops (no colon is not
   * possible in a header block, so a ';' in the name), an empty value */
  "Received: one\r\nFrom: alice@example.com\r\nReceived: two\r\nX-Empty:\r\nTo: x@example.net\r\n"
  "Received: three\r\nSubject: s\r\nX;Odd: dropped by libopendkim\r\n",
  /* names in mixed case and white space before the colon */
  "FROM: alice@example.com\r\nsubject : upper and lower\r\nTo: y@example.net\r\n",
};

static const char *const bodies[] = {
  "Hello\r\n",
  "",
  "line one\r\n\r\n  indented\t\r\ntrailing   \r\n\r\n\r\n",
  "no final line break",
  "a\r\nb\r\n",
};

/* Ways to change a signed message: header changes relaxed canonicalisation absorbs or
 * not, body changes, added fields above or below. */
static const struct
{
  const char *from, *to;
} mutations[] = {
  { NULL, NULL },
  { "Subject: hello", "Subject:  hello " },
  { "Subject: hello", "subject: hello" },
  { "Subject: hello", "Subject: hellO" },
  { "To: bob@example.net", "To: bob@example.net\r\nTo: eve@example.net" },
  { "From: Alice", "Cc: new@example.org\r\nFrom: Alice" },
  { "\r\n\r\n", "\r\nSubject: second subject\r\n\r\n" },
  { "Hello", "Hell0" },
  { "\r\n\r\n", "\r\n\r\n\r\n" },
  { "X-Empty:", "X-Empty: now set" },
  { "Received: three", "Received: three\r\nReceived: four" },
  { " au ", " au\r\n " },
};

static void
test_engines_generated (void)
{
  g_autofree char *zone = sw_test_dkim_read ("keys/keys.zone", NULL);
  g_autoptr (SwResolver) resolver = sw_test_resolver_from_zone (zone);
  static const dkim_canon_t canons[] = { DKIM_CANON_SIMPLE, DKIM_CANON_RELAXED };
  static const dkim_alg_t algs[] = { DKIM_SIGN_RSASHA256, DKIM_SIGN_RSASHA1, DKIM_SIGN_ED25519SHA256 };
  g_autoptr (GRand) rng = g_rand_new_with_seed (20261206);
  /* the RFC 8301 policy and RFC 6376's (rsa-sha1 and small keys pass), in turn */
  Engines e[2];
  engines_init (&e[0], resolver, FALSE);
  engines_init (&e[1], resolver, TRUE);
  guint n_fast = 0;
  for (guint h = 0; h < G_N_ELEMENTS (header_sets); h++)
    for (guint b = 0; b < G_N_ELEMENTS (bodies); b++)
      for (guint k = 0; k < 4; k++)
        {
          SignSpec spec = { canons[k & 1], canons[(k >> 1) & 1], algs[g_rand_int_range (rng, 0, 3)], -1, 0, NULL };
          if (spec.alg == DKIM_SIGN_ED25519SHA256)
            {
              spec.key = 2;
              spec.selector = "ed25519";
            }
          else
            {
              spec.key = g_rand_int_range (rng, 0, 2);
              spec.selector = spec.key == 0 ? "rsa2048" : "rsa1024";
            }
          if (g_rand_int_range (rng, 0, 3) == 0)
            spec.length = g_rand_int_range (rng, 0, (gint32)strlen (bodies[b]) + 3);
          g_autoptr (GString) signed_msg = sign_message (header_sets[h], bodies[b], &spec);
          for (guint m = 0; m < G_N_ELEMENTS (mutations); m++)
            {
              g_autoptr (GString) variant = g_string_new_len (signed_msg->str, (gssize)signed_msg->len);
              if (mutations[m].from != NULL)
                replace_first (variant, mutations[m].from, mutations[m].to);
              g_autofree char *name = g_strdup_printf ("headers %u body %u sign %u mutation %u", h, b, k, m);
              n_fast += engines_compare (&e[(h + b + k + m) % 2], name, variant->str, variant->len, 0);
            }
        }
  guint n_messages = e[0].n_messages + e[1].n_messages;
  guint n_pass = e[0].n_pass + e[1].n_pass, n_other = e[0].n_other + e[1].n_other;
  g_test_message ("generated: %u messages, %u through the fast path, %u pass, %u other", n_messages, n_fast, n_pass,
                  n_other);
  g_assert_cmpuint (n_fast, >=, n_messages * 9 / 10);
  g_assert_cmpuint (n_pass, >, 50);
  g_assert_cmpuint (n_other, >, 50);
  engines_clear (&e[0]);
  engines_clear (&e[1]);
}

/* The tag parts of a DKIM-Signature field, rearranged or altered: the fast path must
 * either agree with libopendkim or leave the message to it. */
static void
test_engines_signature_tags (void)
{
  g_autofree char *zone = sw_test_dkim_read ("keys/keys.zone", NULL);
  g_autoptr (SwResolver) resolver = sw_test_resolver_from_zone (zone);
  SignSpec spec = { DKIM_CANON_RELAXED, DKIM_CANON_SIMPLE, DKIM_SIGN_RSASHA256, -1, 0, "rsa2048" };
  g_autoptr (GString) base = sign_message (header_sets[0], bodies[0], &spec);
  static const struct
  {
    const char *from, *to;
  } edits[] = {
    { NULL, NULL },
    { "v=1;", "v=2;" },
    { "v=1;", "" },
    { "d=example.com", "d=EXAMPLE.com" },
    { "d=example.com", "d=example.org" },
    { "s=rsa2048", "s=nosuch" },
    { "s=rsa2048", "s=rsa1024" },
    { "a=rsa-sha256", "a=rsa-sha512" },
    { "c=relaxed/simple", "c=relaxed" },
    { "c=relaxed/simple", "c=simple/simple" },
    { "c=relaxed/simple", "c=relaxed/bogus" },
    { "c=relaxed/simple", "c=RELAXED/simple" },
    { "\th=", "\th=X-Missing:" },
    { "\th=", "\th=From:" },
    { "\th=", "\th=DKIM-Signature:" },
    { "\th=", "\th=from:from:from:" },
    { "\th=", "\th=To::" },
    { "d=example.com;", "d=example.com; i=@example.com;" },
    { "d=example.com;", "d=example.com; i=user@mail.example.com;" },
    { "d=example.com;", "d=example.com; i=user@example.org;" },
    { "d=example.com;", "d=example.com; i=us=40er@example.com;" },
    { "d=example.com;", "d=example.com; q=dns/txt;" },
    { "d=example.com;", "d=example.com; q=dns;" },
    { "d=example.com;", "d=example.com; z=From:x;" },
    { "d=example.com;", "d=example.com; x-unknown=1;" },
    { "d=example.com;", "d=example.com; darn=example.net;" },
    { "d=example.com;", "d=example.com; darn=example.net; x_y2=;" },
    { "d=example.com;", "d=example.com; xb=abc;" },
    { "d=example.com;", "d=example.com; DARN=example.net;" },
    { "\r\nFrom: Alice", "; darn=x.example\r\nFrom: Alice" },  /* a tag after b= */
    { "\r\nFrom: Alice", ";\r\n\tb=again\r\nFrom: Alice" }, /* b= twice */
    { "d=example.com;", "d=example.com; l=3;" },
    { "d=example.com;", "d=example.com; l=100;" },
    { "d=example.com;", "d=example.com; l=0;" },
    { "d=example.com;", "d=example.com; t=1600000000; x=1600000100;" },
    { "d=example.com;", "d=example.com; t=1600000100; x=1600000000;" },
    { "d=example.com;", "d=example.com; x=99999999999;" },
    { "d=example.com;", "d=example.com ; ;" },
    { "d=example.com;", "d =example.com;" },
    { "\tb=", "\tb =" },
    { "\tb=", "\tb=\r\n\t " },
    { "\tb=", "\tx=99999999999;\r\n\tb=" },
    { "\tb=", "\tb=" },
    { "bh=", "bh=A" },
    { "bh=", "bh=\r\n " },
  };
  Engines e;
  engines_init (&e, resolver, FALSE);
  guint n_fast = 0;
  for (guint i = 0; i < G_N_ELEMENTS (edits); i++)
    {
      g_autoptr (GString) variant = g_string_new_len (base->str, (gssize)base->len);
      if (edits[i].from != NULL)
        {
          g_assert_nonnull (strstr (variant->str, edits[i].from));
          replace_first (variant, edits[i].from, edits[i].to);
        }
      g_autofree char *name = g_strdup_printf ("edit %u (%s -> %s)", i, edits[i].from, edits[i].to);
      n_fast += engines_compare (&e, name, variant->str, variant->len, 0);
    }
  g_test_message ("signature edits: %u messages, %u through the fast path", e.n_messages, n_fast);
  g_assert_cmpuint (n_fast, >=, 24);
  engines_clear (&e);
}

/* Octets of the first header field of @m, its CRLF included. */
static gsize
first_field_len (const char *m)
{
  const char *p = m;
  for (;;)
    {
      const char *crlf = strstr (p, "\r\n");
      g_assert_nonnull (crlf);
      if (crlf[2] != ' ' && crlf[2] != '\t')
        return (gsize)(crlf + 2 - m);
      p = crlf + 2;
    }
}

/* One signed message against many key records and DNS outcomes. */
static void
test_engines_key_records (void)
{
  g_autofree char *zone_keys = sw_test_dkim_read ("keys/keys.zone", NULL);
  /* the rsa2048 record's p= */
  const char *p_at = strstr (zone_keys, "rsa2048._domainkey.example.com. TXT \"");
  g_assert_nonnull (p_at);
  p_at = strstr (p_at, "p=");
  g_autofree char *p2048 = g_strndup (p_at + 2, strcspn (p_at + 2, "\""));
  const char *e_at = strstr (zone_keys, "ed25519._domainkey.example.com. TXT \"");
  g_assert_nonnull (e_at);
  e_at = strstr (e_at, "p=");
  g_autofree char *p_ed = g_strndup (e_at + 2, strcspn (e_at + 2, "\""));

  static const struct
  {
    const char *rdata; /* zone record data after the owner name; %s: the good p= */
    gboolean fast;     /* the fast path must take it */
  } records[] = {
    { "TXT \"v=DKIM1; k=rsa; p=%s\"", TRUE },
    { "TXT \"p=%s\"", TRUE },
    { "TXT \"v=DKIM1; k=rsa; \" \"p=%s\"", TRUE },           /* two strings */
    { "TXT \"k=rsa; v=DKIM1; p=%s\"", TRUE },                /* v= not first */
    { "TXT \"v=DKIM2; p=%s\"", TRUE },
    { "TXT \"v=DKIM1; h=sha1; p=%s\"", TRUE },
    { "TXT \"v=DKIM1; h=sha256:sha1; p=%s\"", TRUE },
    { "TXT \"v=DKIM1; h=md5; p=%s\"", TRUE },
    { "TXT \"v=DKIM1; h=SHA256; p=%s\"", TRUE },
    { "TXT \"v=DKIM1; s=email; p=%s\"", TRUE },
    { "TXT \"v=DKIM1; s=*; p=%s\"", TRUE },
    { "TXT \"v=DKIM1; s=web:other; p=%s\"", TRUE },
    { "TXT \"v=DKIM1; k=dsa; p=%s\"", TRUE },
    { "TXT \"v=DKIM1; k=RSA; p=%s\"", TRUE },
    { "TXT \"v=DKIM1; k=ed25519; p=%s\"", TRUE },
    { "TXT \"v=DKIM1; t=y; p=%s\"", TRUE },
    { "TXT \"v=DKIM1; t=s; p=%s\"", TRUE },
    { "TXT \"v=DKIM1; t=y:s; p=%s\"", TRUE },
    { "TXT \"v=DKIM1; n=a note; g=*; x=unknown; p=%s\"", TRUE },
    { "TXT \"v=DKIM1; p=\"", TRUE },
    { "TXT \"v=DKIM1\"", TRUE },
    { "TXT \"\"", TRUE },
    { "TXT \"v=DKIM1; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\"", TRUE }, /* truncated key */
    { "TXT \"v=DKIM1; p=%s\"\n@ TXT \"v=DKIM1; p=%s\"", TRUE },                  /* two records */
    { "TXT \"v=DKIM1; p=%s!\"", FALSE },                                         /* not base64 */
    { "TXT \"v=DKIM1; p=%s; p=%s\"", FALSE },
    { "TXT \"v=DKIM1;; p=%s\"", FALSE },
    { "SERVFAIL TXT", TRUE },
    { "TIMEOUT TXT", TRUE },
    { "A 192.0.2.1", TRUE }, /* the name exists, no TXT */
    { NULL, TRUE },          /* NXDOMAIN */
  };
  static const char *const identities[] = { NULL, "user@example.com", "user@sub.example.com" };
  SignSpec spec = { DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, DKIM_SIGN_RSASHA256, -1, 0, "sel" };
  g_autoptr (GString) base = sign_message (header_sets[0], bodies[0], &spec);
  guint n_fast = 0, n_messages = 0;
  for (guint i = 0; i < G_N_ELEMENTS (records); i++)
    {
      g_autoptr (GString) zone = g_string_new (NULL);
      if (records[i].rdata != NULL)
        {
          g_autofree char *rdata = g_strdup (records[i].rdata);
          /* "%s" placeholders: the good key; "@" a second record on the same name */
          GString *r = g_string_new (NULL);
          for (const char *q = rdata; *q; q++)
            {
              if (q[0] == '%' && q[1] == 's')
                {
                  g_string_append (r, p2048);
                  q++;
                }
              else if (q[0] == '@')
                g_string_append (r, "sel._domainkey.example.com.");
              else
                g_string_append_c (r, *q);
            }
          g_string_append_printf (zone, "sel._domainkey.example.com. %s\n", r->str);
          g_string_free (r, TRUE);
        }
      g_string_append_printf (zone, "ed._domainkey.example.com. TXT \"v=DKIM1; k=ed25519; p=%s\"\n", p_ed);
      g_autoptr (SwResolver) resolver = sw_test_resolver_from_zone (zone->str);
      for (guint rfc = 0; rfc < 2; rfc++)
        for (guint id = 0; id < G_N_ELEMENTS (identities); id++)
          {
            Engines e;
            engines_init (&e, resolver, rfc == 1);
            g_autoptr (GString) variant = g_string_new_len (base->str, (gssize)base->len);
            if (identities[id] != NULL)
              {
                g_autofree char *with_i = g_strdup_printf ("d=example.com; i=%s;", identities[id]);
                replace_first (variant, "d=example.com;", with_i);
              }
            /* a second signature with the same d= and s= reuses the first one's key */
            g_autoptr (GString) twice = g_string_new (NULL);
            g_string_append_len (twice, variant->str, (gssize)first_field_len (variant->str));
            g_string_append (twice, variant->str);
            g_autofree char *name = g_strdup_printf ("record %u rfc %u identity %u", i, rfc, id);
            gboolean fast = engines_compare (&e, name, variant->str, variant->len, 0);
            gboolean fast2 = engines_compare (&e, name, twice->str, twice->len, 0);
            if (records[i].fast && (!fast || !fast2))
              g_error ("%s: left to libopendkim", name);
            n_fast += fast + fast2;
            n_messages += 2;
            engines_clear (&e);
          }
    }
  g_test_message ("key records: %u messages, %u through the fast path", n_messages, n_fast);
}

/* ---- key cache and threads ---- */

static void
test_key_cache (void)
{
  g_autoptr (SwDkimKeyCache) cache = sw_dkim_key_cache_new (2);
  g_autofree char *zone = sw_test_dkim_read ("keys/keys.zone", NULL);
  g_auto (GStrv) lines = g_strsplit (zone, "\n", -1);
  GPtrArray *ps = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *p = strstr (lines[i], "k=rsa; p=");
      if (p != NULL)
        g_ptr_array_add (ps, g_strndup (p + 9, strcspn (p + 9, "\"")));
    }
  g_assert_cmpuint (ps->len, ==, 3);
  static const guint bits[] = { 2048, 1024, 512 };
  /* more keys than the cache holds, twice over: each lookup gives the right key */
  for (guint round = 0; round < 2; round++)
    for (guint i = 0; i < ps->len; i++)
      {
        SwDkimKeyStatus status;
        SwDkimKey *key = sw_dkim_key_cache_get (cache, FALSE, g_ptr_array_index (ps, i), &status);
        g_assert_cmpint (status, ==, SW_DKIM_KEY_OK);
        g_assert_nonnull (key);
        g_assert_cmpuint (sw_dkim_key_get_bits (key), ==, bits[i]);
        sw_dkim_key_unref (key);
      }
  /* an RSA key read as Ed25519 is not one; base64 that is not an RSA key cannot be decoded */
  SwDkimKeyStatus status;
  g_assert_null (sw_dkim_key_cache_get (cache, TRUE, g_ptr_array_index (ps, 0), &status));
  g_assert_cmpint (status, ==, SW_DKIM_KEY_UNDECODABLE);
  g_assert_null (sw_dkim_key_cache_get (cache, FALSE, "AAAA", &status));
  g_assert_cmpint (status, ==, SW_DKIM_KEY_UNDECODABLE);
  g_assert_null (sw_dkim_key_cache_get (cache, FALSE, "AA=A", &status));
  g_assert_cmpint (status, ==, SW_DKIM_KEY_NOT_PLAIN);
  g_ptr_array_unref (ps);
}

/* A key rotated under the same selector is seen by the very next message: the cache maps
 * key text to key, never a name to a key. */
static void
test_key_rotation (void)
{
  g_autofree char *zone = sw_test_dkim_read ("keys/keys.zone", NULL);
  SignSpec spec = { DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, DKIM_SIGN_RSASHA256, -1, 0, "rsa2048" };
  g_autoptr (GString) msg = sign_message (header_sets[0], bodies[0], &spec);
  g_autoptr (SwResolver) good = sw_test_resolver_from_zone (zone);
  g_autofree char *swapped = g_strdup (zone);
  /* rsa2048's name now carries the rsa1024 key */
  char *a = strstr (swapped, "rsa2048._domainkey");
  char *b = strstr (swapped, "rsa1024._domainkey");
  memcpy (a, "rsa1024", 7);
  memcpy (b, "rsa2048", 7);
  g_autoptr (SwResolver) rotated = sw_test_resolver_from_zone (swapped);
  g_autoptr (GError) error = NULL;
  g_autoptr (SwDkimVerifier) v1 = sw_dkim_verifier_new (good, &error);
  g_assert_no_error (error);
  g_autoptr (SwDkimResults) r1 = verify (v1, msg->str, msg->len, 0);
  g_assert_cmpint (((SwDkimSignature *)g_ptr_array_index (r1->signatures, 0))->result, ==, SW_AUTH_PASS);
  g_autoptr (SwDkimVerifier) v2 = sw_dkim_verifier_new (rotated, &error);
  g_assert_no_error (error);
  g_autoptr (SwDkimResults) r2 = verify (v2, msg->str, msg->len, 0);
  const SwDkimSignature *s2 = g_ptr_array_index (r2->signatures, 0);
  g_assert_cmpint (s2->result, ==, SW_AUTH_FAIL);
  g_assert_cmpuint (s2->key_bits, ==, 1024);
  g_assert_cmpuint (sw_dkim_verifier_get_n_fast (v2), ==, 1);
}

/* t=y in the key record is reported by both engines, whatever the outcome */
static void
test_testing_flag (void)
{
  g_autofree char *zone_keys = sw_test_dkim_read ("keys/keys.zone", NULL);
  g_autofree char *zone = NULL;
  {
    const char *at = strstr (zone_keys, "rsa2048._domainkey.example.com. TXT \"v=DKIM1; k=rsa; p=");
    g_assert_nonnull (at);
    const char *p = strstr (at, "p=") + 2;
    g_autofree char *key = g_strndup (p, strcspn (p, "\""));
    zone = g_strdup_printf ("rsa2048._domainkey.example.com. TXT \"v=DKIM1; t=y; p=%s\"\n"
                            "bad._domainkey.example.com. TXT \"v=DKIM1; t=y; p=AAAA\"\n",
                            key);
  }
  g_autoptr (SwResolver) resolver = sw_test_resolver_from_zone (zone);
  static const struct
  {
    const char *selector;
    SwAuthResult result;
  } cases[] = { { "rsa2048", SW_AUTH_PASS }, { "bad", SW_AUTH_PERMERROR } };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      SignSpec spec = { DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, DKIM_SIGN_RSASHA256, -1, 0, cases[i].selector };
      g_autoptr (GString) m = sign_message (header_sets[0], bodies[0], &spec);
      Engines e;
      engines_init (&e, resolver, FALSE);
      g_assert_true (engines_compare (&e, cases[i].selector, m->str, m->len, 0));
      g_autoptr (SwDkimResults) r = verify (e.fast, m->str, m->len, 0);
      const SwDkimSignature *sig = g_ptr_array_index (r->signatures, 0);
      g_assert_cmpint (sig->result, ==, cases[i].result);
      g_assert_true (sig->testing);
      engines_clear (&e);
    }
}

typedef struct
{
  SwDkimVerifier *v;
  GPtrArray *messages; /* GString* */
  GPtrArray *expected; /* SwDkimResults* */
} ThreadData;

static gpointer
thread_main (gpointer data)
{
  ThreadData *td = data;
  for (guint round = 0; round < 20; round++)
    for (guint i = 0; i < td->messages->len; i++)
      {
        GString *m = g_ptr_array_index (td->messages, i);
        g_autoptr (SwDkimResults) r = verify (td->v, m->str, m->len, 0);
        assert_same_results ("thread", "alone", r, g_ptr_array_index (td->expected, i));
      }
  return NULL;
}

static void
string_free (gpointer s)
{
  g_string_free (s, TRUE);
}

static void
test_threads (void)
{
  g_autofree char *zone = sw_test_dkim_read ("keys/keys.zone", NULL);
  g_autoptr (SwResolver) resolver = sw_test_resolver_from_zone (zone);
  g_autoptr (GError) error = NULL;
  g_autoptr (SwDkimVerifier) v = sw_dkim_verifier_new (resolver, &error);
  g_assert_no_error (error);
  ThreadData td = { v, g_ptr_array_new_with_free_func (string_free),
                    g_ptr_array_new_with_free_func ((GDestroyNotify)sw_dkim_results_free) };
  static const char *const selectors[] = { "rsa2048", "rsa1024", "ed25519" };
  for (guint i = 0; i < 6; i++)
    {
      SignSpec spec = { DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, i % 3 == 2 ? DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256,
                        -1, i % 3, selectors[i % 3] };
      GString *m = sign_message (header_sets[i % G_N_ELEMENTS (header_sets)], bodies[i % G_N_ELEMENTS (bodies)], &spec);
      if (i >= 3)
        replace_first (m, "\r\n\r\n", "\r\n\r\nchanged ");
      g_ptr_array_add (td.messages, m);
      g_ptr_array_add (td.expected, verify (v, m->str, m->len, 0));
    }
  GThread *threads[4];
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("verify", thread_main, &td);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  g_assert_cmpuint (sw_dkim_verifier_get_n_fast (v), ==, 6 + 4 * 20 * 6);
  g_ptr_array_unref (td.messages);
  g_ptr_array_unref (td.expected);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  static const char *const keys[] = { "keys/rsa2048.pem", "keys/rsa1024.pem", "keys/ed25519.pem" };
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    key_pems[i] = sw_test_dkim_read (keys[i], NULL);
  g_test_add_func ("/core/dkim/fast/unit/base64", test_unit_base64);
  g_test_add_func ("/core/dkim/fast/unit/tags", test_unit_tags);
  g_test_add_func ("/core/dkim/fast/unit/bare-lf", test_unit_bare_lf);
  g_test_add_func ("/core/dkim/fast/engines/mail-dkim", test_engines_mail_dkim);
  g_test_add_func ("/core/dkim/fast/engines/dkimpy", test_engines_dkimpy);
  g_test_add_func ("/core/dkim/fast/engines/samples", test_engines_samples);
  g_test_add_func ("/core/dkim/fast/engines/generated", test_engines_generated);
  g_test_add_func ("/core/dkim/fast/engines/signature-tags", test_engines_signature_tags);
  g_test_add_func ("/core/dkim/fast/engines/key-records", test_engines_key_records);
  g_test_add_func ("/core/dkim/fast/key-cache", test_key_cache);
  g_test_add_func ("/core/dkim/fast/key-rotation", test_key_rotation);
  g_test_add_func ("/core/dkim/fast/testing-flag", test_testing_flag);
  g_test_add_func ("/core/dkim/fast/threads", test_threads);
  int rc = g_test_run ();
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    g_free (key_pems[i]);
  return rc;
}
