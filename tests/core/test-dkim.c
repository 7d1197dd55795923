#define G_LOG_DOMAIN "sw-dkim-test"
/* test-dkim.c: core/dkim (sw-dkim.h).
 *
 *   /core/dkim/unit/...        tag-list reading, timestamps, header splitting
 *   /core/dkim/mail-dkim/FILE  Mail::DKIM's verifier corpus (tests/data/dkim/mail-dkim);
 *                              expectations and classification in mail-dkim-ours.tsv
 *                              and CLASSIFICATION.md
 *   /core/dkim/dkimpy/...      dkimpy's signed vectors and bad key records
 *   /core/dkim/generated/...   messages signed here with dkim_sign() and the keys of
 *                              tests/data/dkim/keys
 *   /core/dkim/limits/...      caps, NULs, size
 *   /core/dkim/threads         one verifier shared by several threads */
#include "sw-dkim.h"
#include "dkim-test-data.h"
#include "sw-dkim-private.h"
#include "sw-limits.h"
#include "test-dkim-sign.h"
#include <string.h>

/* 2020-09-13T12:26:40Z: the signing time of the generated cases */
#define T0 G_GINT64_CONSTANT (1600000000)

/* ---- helpers ---- */

static char *
data_path (const char *dir, const char *file)
{
  return g_test_build_filename (G_TEST_DIST, "data", "dkim", dir, file, NULL);
}

static SwDkimVerifier *
verifier_new (SwResolver *resolver, gboolean rfc6376_only)
{
  SwDkimOptions opts = { 0 };
  if (rfc6376_only)
    {
      opts.min_rsa_bits = 1;
      opts.accept_rsa_sha1 = TRUE;
    }
  g_autoptr (GError) error = NULL;
  SwDkimVerifier *v = sw_dkim_verifier_new_full (resolver, &opts, &error);
  g_assert_no_error (error);
  g_assert_nonnull (v);
  return v;
}

static SwDkimResults *
verify_text (SwDkimVerifier *v, const char *data, gsize len, gint64 verify_time)
{
  g_autoptr (GBytes) bytes = g_bytes_new (data, len);
  g_autoptr (GError) error = NULL;
  SwDkimResults *r = NULL;
  gboolean ok = sw_dkim_verify (v, bytes, verify_time, &r, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_nonnull (r);
  g_assert_nonnull (r->signatures);
  return r;
}

/* "pass", "fail", "invalid" (temperror, permerror, neutral) or "none", best first:
 * the message-level word Mail::DKIM's verifier reports. */
static const char *
message_word (const SwDkimResults *r)
{
  gboolean any_fail = FALSE;
  for (guint i = 0; i < r->signatures->len; i++)
    {
      const SwDkimSignature *s = g_ptr_array_index (r->signatures, i);
      if (s->result == SW_AUTH_PASS)
        return "pass";
      if (s->result == SW_AUTH_FAIL)
        any_fail = TRUE;
    }
  if (any_fail)
    return "fail";
  return r->signatures->len > 0 ? "invalid" : "none";
}

/* "result(reason)" of every signature, joined with " | ". */
static char *
describe (const SwDkimResults *r)
{
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < r->signatures->len; i++)
    {
      const SwDkimSignature *sig = g_ptr_array_index (r->signatures, i);
      g_string_append_printf (s, "%s%s(%s)", i ? " | " : "", sw_auth_result_to_string (sig->result),
                              sig->reason);
    }
  if (r->signatures->len == 0)
    g_string_append (s, "none");
  return g_string_free (s, FALSE);
}

static const SwDkimSignature *
sig_at (const SwDkimResults *r, guint i)
{
  g_assert_cmpuint (i, <, r->signatures->len);
  return g_ptr_array_index (r->signatures, i);
}

/* Asserts that signature @i has @result and a reason starting with @reason_prefix. */
static void
assert_sig (const char *case_name, const SwDkimResults *r, guint i, SwAuthResult result,
            const char *reason_prefix)
{
  if (i >= r->signatures->len)
    g_error ("%s: only %u signature(s), wanted #%u", case_name, r->signatures->len, i);
  const SwDkimSignature *s = sig_at (r, i);
  if (s->result != result || (reason_prefix && !g_str_has_prefix (s->reason, reason_prefix)))
    g_error ("%s: signature #%u is %s (%s), expected %s (%s...)", case_name, i,
             sw_auth_result_to_string (s->result), s->reason, sw_auth_result_to_string (result),
             reason_prefix ? reason_prefix : "any");
}

/* ---- unit tests of the private helpers ---- */

static void
test_unit_tags (void)
{
  static const struct
  {
    const char *list, *tag, *want;
  } cases[] = {
    { " v=1; a=rsa-sha256; d=example.com", "d", "example.com" },
    { "v=1;t = 1600000000 ;x=1600003600", "t", "1600000000" },
    { "v=1;t = 1600000000 ;x=1600003600", "x", "1600003600" },
    { "b=abc\r\n def\tgh==; v=1", "b", "abcdefgh==" },
    { "v=1; a=rsa-sha256", "t", NULL },
    { "v=1; at=5", "t", NULL },
    { "", "t", NULL },
    { "v=1;;;t=5", "t", "5" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = sw_dkim_tag_list_get (cases[i].list, strlen (cases[i].list), cases[i].tag);
      if (g_strcmp0 (got, cases[i].want) != 0)
        g_error ("tag case %u (%s in \"%s\"): got %s", i, cases[i].tag, cases[i].list, got ? got : "NULL");
    }

  static const struct
  {
    const char *text;
    gboolean ok;
    gint64 value;
  } ts[] = {
    { "0", TRUE, 0 },
    { "1600000000", TRUE, T0 },
    { "999999999999", TRUE, G_GINT64_CONSTANT (999999999999) },
    { "1000000000000", FALSE, 0 },
    { "", FALSE, 0 },
    { "12a", FALSE, 0 },
    { "-5", FALSE, 0 },
    { NULL, FALSE, 0 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (ts); i++)
    {
      gint64 v = -1;
      gboolean ok = sw_dkim_parse_timestamp (ts[i].text, &v);
      if (ok != ts[i].ok || (ok && v != ts[i].value))
        g_error ("timestamp case %u (%s): ok=%d value=%" G_GINT64_FORMAT, i, ts[i].text ? ts[i].text : "NULL",
                 ok, v);
    }
}

static void
test_unit_split (void)
{
  static const struct
  {
    const char *name;
    const char *raw;
    guint n_fields;
    const char *first_field;
    const char *body;
  } cases[] = {
    { "crlf", "A: 1\r\nB: 2\r\n\r\nbody\r\n", 2, "A: 1", "body\r\n" },
    { "lf", "A: 1\nB: 2\n\nbody\n", 2, "A: 1", "body\r\n" },
    { "folded", "A: 1\r\n  more\r\nB: 2\r\n\r\n", 2, "A: 1\r\n  more", "" },
    { "folded-lf", "A: 1\n\tmore\nB: 2\n\nx", 2, "A: 1\r\n\tmore", "x" },
    { "no-body", "A: 1\r\nB: 2\r\n", 2, "A: 1", "" },
    { "no-final-newline", "A: 1\r\nB: 2", 2, "A: 1", "" },
    { "empty", "", 0, NULL, "" },
    { "only-body", "\r\nbody", 0, NULL, "body" },
    { "bare-cr-kept", "A: 1\r2\r\n\r\nb\rc", 1, "A: 1\r2", "b\rc" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      SwDkimMessage m;
      sw_dkim_message_init (&m, (const guint8 *)cases[i].raw, strlen (cases[i].raw));
      if (m.fields->len != cases[i].n_fields)
        g_error ("split %s: %u fields", cases[i].name, m.fields->len);
      if (cases[i].first_field)
        {
          const SwDkimField *f = &g_array_index (m.fields, SwDkimField, 0);
          g_autofree char *first = g_strndup ((const char *)m.buf + f->offset, f->len);
          if (strcmp (first, cases[i].first_field) != 0)
            g_error ("split %s: first field \"%s\"", cases[i].name, first);
        }
      g_autofree char *body
          = g_strndup ((const char *)m.buf + m.body_offset, m.len - m.body_offset);
      if (strcmp (body, cases[i].body) != 0)
        g_error ("split %s: body \"%s\"", cases[i].name, body);
      g_assert_false (m.over_limit);
      sw_dkim_message_clear (&m);
    }
}

/* ---- Mail::DKIM corpus ---- */

typedef struct
{
  char *file;
  char *mail_dkim; /* Mail::DKIM's expected result: pass fail invalid */
  char *rfc6376;   /* ours with RFC 6376 alone (rsa-sha1 and small keys accepted) */
  char *ours;      /* ours by default: describe() of the results */
  char *klass;     /* rfc6376 | pre-standard | domainkeys | g-tag | ... see CLASSIFICATION.md */
} CorpusCase;

static SwResolver *mail_dkim_resolver;
static SwDkimVerifier *mail_dkim_rfc6376;
static SwDkimVerifier *mail_dkim_default;

static void
test_mail_dkim_case (gconstpointer data)
{
  const CorpusCase *c = data;
  g_autofree char *rel = g_build_filename ("mail-dkim", "corpus", c->file, NULL);
  gsize len = 0;
  g_autofree char *text = sw_test_dkim_read (rel, &len);

  g_autoptr (SwDkimResults) r6376 = verify_text (mail_dkim_rfc6376, text, len, 0);
  g_autoptr (SwDkimResults) rdef = verify_text (mail_dkim_default, text, len, 0);
  const char *word = message_word (r6376);
  g_autofree char *desc = describe (rdef);

  if (strcmp (c->klass, "rfc6376") == 0 && strcmp (c->mail_dkim, c->rfc6376) != 0)
    g_error ("%s: table error: an RFC 6376 case must expect Mail::DKIM's %s, not %s", c->file, c->mail_dkim,
             c->rfc6376);
  if (strcmp (word, c->rfc6376) != 0)
    g_error ("%s (%s): RFC 6376 result %s, expected %s [Mail::DKIM: %s] (%s)", c->file, c->klass, word,
             c->rfc6376, c->mail_dkim, desc);
  if (strcmp (desc, c->ours) != 0)
    g_error ("%s (%s): default results \"%s\", expected \"%s\"", c->file, c->klass, desc, c->ours);
}

static void
corpus_case_free (gpointer p)
{
  CorpusCase *c = p;
  g_free (c->file);
  g_free (c->mail_dkim);
  g_free (c->rfc6376);
  g_free (c->ours);
  g_free (c->klass);
  g_free (c);
}

/* Registers one test per row of mail-dkim-ours.tsv and checks that it covers every row
 * of Mail::DKIM's expected.tsv (and nothing else) with the same expected word. */
static GPtrArray *
add_mail_dkim_tests (void)
{
  g_autofree char *zone = sw_test_dkim_fake_dns_to_zone ("mail-dkim/FAKE_DNS.dat");
  mail_dkim_resolver = sw_test_resolver_from_zone (zone);
  mail_dkim_rfc6376 = verifier_new (mail_dkim_resolver, TRUE);
  mail_dkim_default = verifier_new (mail_dkim_resolver, FALSE);

  g_autofree char *upstream = sw_test_dkim_read ("mail-dkim/expected.tsv", NULL);
  g_autoptr (GHashTable) expected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_auto (GStrv) ulines = g_strsplit (upstream, "\n", -1);
  for (guint i = 0; ulines[i]; i++)
    {
      g_auto (GStrv) f = g_strsplit (ulines[i], "\t", -1);
      if (g_strv_length (f) == 2)
        g_hash_table_insert (expected, g_strdup (f[0]), g_strdup (f[1]));
    }

  GPtrArray *cases = g_ptr_array_new_with_free_func (corpus_case_free);
  g_autofree char *ours = sw_test_dkim_read ("mail-dkim-ours.tsv", NULL);
  g_auto (GStrv) lines = g_strsplit (ours, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      if (lines[i][0] == '\0' || lines[i][0] == '#')
        continue;
      g_auto (GStrv) f = g_strsplit (lines[i], "\t", -1);
      if (g_strv_length (f) != 5)
        g_error ("mail-dkim-ours.tsv line %u: %u columns", i + 1, g_strv_length (f));
      const char *up = g_hash_table_lookup (expected, f[0]);
      if (up == NULL)
        g_error ("mail-dkim-ours.tsv line %u: %s is not in expected.tsv", i + 1, f[0]);
      if (strcmp (up, f[1]) != 0)
        g_error ("mail-dkim-ours.tsv line %u: %s: Mail::DKIM expects %s, table says %s", i + 1, f[0], up,
                 f[1]);
      g_hash_table_remove (expected, f[0]);
      CorpusCase *c = g_new0 (CorpusCase, 1);
      c->file = g_strdup (f[0]);
      c->mail_dkim = g_strdup (f[1]);
      c->rfc6376 = g_strdup (f[2]);
      c->ours = g_strdup (f[3]);
      c->klass = g_strdup (f[4]);
      g_ptr_array_add (cases, c);
      g_autofree char *path = g_strdup_printf ("/core/dkim/mail-dkim/%s", c->file);
      g_test_add_data_func (path, c, test_mail_dkim_case);
    }
  if (g_hash_table_size (expected) != 0)
    {
      GList *missing = g_hash_table_get_keys (expected);
      g_error ("mail-dkim-ours.tsv lacks %u case(s) of expected.tsv, e.g. %s", g_hash_table_size (expected),
               (const char *)missing->data);
    }
  return cases;
}

/* ---- dkimpy ---- */

static void
test_dkimpy_vectors (void)
{
  g_autofree char *zone = sw_test_dkim_fake_dns_to_zone ("dkimpy/FAKE_DNS.dat");
  g_autoptr (SwResolver) res = sw_test_resolver_from_zone (zone);
  g_autoptr (SwDkimVerifier) v = verifier_new (res, FALSE);

  static const struct
  {
    const char *file;
    guint n;
    SwAuthResult results[2];
    const char *algorithms[2];
  } cases[] = {
    /* RFC 8463 A.3: ed25519 'brisbane' and rsa 'test' (1024 bits) */
    { "rfc6376.signed.msg", 2, { SW_AUTH_PASS, SW_AUTH_PASS }, { "ed25519-sha256", "rsa-sha256" } },
    { "rfc6376.signed.rsa.msg", 1, { SW_AUTH_PASS }, { "rsa-sha256" } },
    { "ed25519test2.msg", 1, { SW_AUTH_PASS }, { "ed25519-sha256" } },
    { "test2.message", 1, { SW_AUTH_PASS }, { "rsa-sha256" } },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *rel = g_build_filename ("dkimpy", cases[i].file, NULL);
      gsize len;
      g_autofree char *text = sw_test_dkim_read (rel, &len);
      g_autoptr (SwDkimResults) r = verify_text (v, text, len, 0);
      g_autofree char *desc = describe (r);
      if (r->signatures->len != cases[i].n)
        g_error ("%s: %u signatures: %s", cases[i].file, r->signatures->len, desc);
      for (guint j = 0; j < cases[i].n; j++)
        {
          assert_sig (cases[i].file, r, j, cases[i].results[j], NULL);
          g_assert_cmpstr (sig_at (r, j)->algorithm, ==, cases[i].algorithms[j]);
        }
    }
}

/* dkimpy signs test.message with test.private (d=example.com s=test) and verifies it
 * against several key records: only test.txt is good. */
static void
test_dkimpy_key_records (void)
{
  static const struct
  {
    const char *record_file;
    SwAuthResult result;
    const char *reason;
  } cases[] = {
    { "test.txt", SW_AUTH_PASS, "signature verified" },
    { "badk.txt", SW_AUTH_PERMERROR, "key type unknown" },                        /* k=ed25519-sha256 */
    { "badversion.txt", SW_AUTH_PERMERROR, "key record has an unknown version" }, /* "v=DKIM1: g=*" */
    { "test_bad.txt", SW_AUTH_PERMERROR, "key could not be decoded" },            /* p= altered */
  };
  g_autofree char *message = sw_test_dkim_read ("dkimpy/test.message", NULL);
  g_autofree char *key = data_path ("dkimpy", "test.private");
  TestDkimSignSpec spec = { .key_path = key, .selector = "test", .domain = "example.com" };
  g_autofree char *signed_msg = test_dkim_sign (message, &spec);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *rel = g_build_filename ("dkimpy", cases[i].record_file, NULL);
      g_autofree char *record = sw_test_dkim_read (rel, NULL);
      g_strstrip (record);
      g_autofree char *zone = g_strdup_printf ("test._domainkey.example.com. TXT \"%s\"\n", record);
      g_autoptr (SwResolver) res = sw_test_resolver_from_zone (zone);
      g_autoptr (SwDkimVerifier) v = verifier_new (res, FALSE);
      g_autoptr (SwDkimResults) r = verify_text (v, signed_msg, strlen (signed_msg), 0);
      assert_sig (cases[i].record_file, r, 0, cases[i].result, cases[i].reason);
    }
}

/* ---- generated cases ---- */

static const char plain_message[] = "From: Alice <alice@example.com>\r\n"
                                    "To: Bob <bob@example.net>\r\n"
                                    "Subject: quarterly report\r\n"
                                    "Date: Sun, 13 Sep 2020 12:26:40 +0000\r\n"
                                    "Message-ID: <report-1@example.com>\r\n"
                                    "\r\n"
                                    "Hello Bob,\r\n"
                                    "\r\n"
                                    "the report is attached.\r\n";

static SwResolver *gen_resolver;

static char *
key_path (const char *name)
{
  g_autofree char *file = g_strconcat (name, ".pem", NULL);
  return data_path ("keys", file);
}

static char *
sign_with (const char *message, const char *key, const char *selector, const char *alg, gint64 t, gint64 ttl,
           gboolean with_l)
{
  g_autofree char *kp = key_path (key);
  TestDkimSignSpec spec = { .key_path = kp,
                            .selector = selector,
                            .domain = "example.com",
                            .algorithm = alg,
                            .signed_at = t,
                            .ttl = ttl,
                            .with_l = with_l };
  return test_dkim_sign (message, &spec);
}

static char *
replace_once (const char *text, const char *from, const char *to)
{
  const char *at = strstr (text, from);
  g_assert_nonnull (at);
  return g_strdup_printf ("%.*s%s%s", (int)(at - text), text, to, at + strlen (from));
}

typedef enum
{
  MOD_NONE,
  MOD_BODY,
  MOD_HEADER,
  MOD_APPEND,
  MOD_LF
} Modification;

static void
test_generated_table (void)
{
  static const struct
  {
    const char *name;
    const char *key, *selector, *alg;
    gboolean with_l;
    Modification mod;
    gboolean rfc6376_only;
    SwAuthResult result;
    const char *reason;
    guint key_bits;
  } cases[] = {
    { "rsa-sha256-2048", "rsa2048", "rsa2048", NULL, FALSE, MOD_NONE, FALSE, SW_AUTH_PASS,
      "signature verified", 2048 },
    { "rsa-sha256-1024", "rsa1024", "rsa1024", NULL, FALSE, MOD_NONE, FALSE, SW_AUTH_PASS,
      "signature verified", 1024 },
    { "ed25519", "ed25519", "ed25519", "ed25519-sha256", FALSE, MOD_NONE, FALSE, SW_AUTH_PASS,
      "signature verified", 256 },
    { "body-modified", "rsa2048", "rsa2048", NULL, FALSE, MOD_BODY, FALSE, SW_AUTH_FAIL, "body hash mismatch",
      2048 },
    { "body-modified-ed25519", "ed25519", "ed25519", "ed25519-sha256", FALSE, MOD_BODY, FALSE, SW_AUTH_FAIL,
      "body hash mismatch", 256 },
    { "header-modified", "rsa2048", "rsa2048", NULL, FALSE, MOD_HEADER, FALSE, SW_AUTH_FAIL,
      "signature did not verify", 2048 },
    { "header-modified-ed25519", "ed25519", "ed25519", "ed25519-sha256", FALSE, MOD_HEADER, FALSE,
      SW_AUTH_FAIL, "signature did not verify", 256 },
    { "key-512", "rsa512", "rsa512", NULL, FALSE, MOD_NONE, FALSE, SW_AUTH_FAIL, "key too small (512 bits)",
      512 },
    { "key-512-rfc6376", "rsa512", "rsa512", NULL, FALSE, MOD_NONE, TRUE, SW_AUTH_PASS, "signature verified",
      512 },
    { "key-512-body-modified", "rsa512", "rsa512", NULL, FALSE, MOD_BODY, FALSE, SW_AUTH_FAIL,
      "body hash mismatch", 512 },
    { "rsa-sha1", "rsa2048", "rsa2048", "rsa-sha1", FALSE, MOD_NONE, FALSE, SW_AUTH_FAIL,
      "rsa-sha1 is not accepted", 2048 },
    { "rsa-sha1-rfc6376", "rsa2048", "rsa2048", "rsa-sha1", FALSE, MOD_NONE, TRUE, SW_AUTH_PASS,
      "signature verified", 2048 },
    { "rsa-sha1-body-modified", "rsa2048", "rsa2048", "rsa-sha1", FALSE, MOD_BODY, FALSE, SW_AUTH_FAIL,
      "body hash mismatch", 2048 },
    { "l-tag", "rsa2048", "rsa2048", NULL, TRUE, MOD_NONE, FALSE, SW_AUTH_PASS, "signature verified", 2048 },
    { "l-tag-appended", "rsa2048", "rsa2048", NULL, TRUE, MOD_APPEND, FALSE, SW_AUTH_PASS,
      "signature verified", 2048 },
    { "no-l-appended", "rsa2048", "rsa2048", NULL, FALSE, MOD_APPEND, FALSE, SW_AUTH_FAIL,
      "body hash mismatch", 2048 },
    { "lf-only", "rsa2048", "rsa2048", NULL, FALSE, MOD_LF, FALSE, SW_AUTH_PASS, "signature verified", 2048 },
    { "lf-only-ed25519", "ed25519", "ed25519", "ed25519-sha256", FALSE, MOD_LF, FALSE, SW_AUTH_PASS,
      "signature verified", 256 },
    { "no-key-nxdomain", "rsa2048", "missing", NULL, FALSE, MOD_NONE, FALSE, SW_AUTH_PERMERROR,
      "no key (NXDOMAIN)", 0 },
    { "no-key-nodata", "rsa2048", "nodata", NULL, FALSE, MOD_NONE, FALSE, SW_AUTH_PERMERROR,
      "no key (no TXT record)", 0 },
    { "dns-timeout", "rsa2048", "slow", NULL, FALSE, MOD_NONE, FALSE, SW_AUTH_TEMPERROR,
      "DNS timeout fetching key", 0 },
    { "dns-servfail", "rsa2048", "broken", NULL, FALSE, MOD_NONE, FALSE, SW_AUTH_TEMPERROR,
      "DNS failure fetching key (SERVFAIL)", 0 },
    { "key-revoked", "rsa2048", "revoked", NULL, FALSE, MOD_NONE, FALSE, SW_AUTH_PERMERROR, "key revoked",
      0 },
    { "wrong-key", "rsa1024", "rsa2048", NULL, FALSE, MOD_NONE, FALSE, SW_AUTH_FAIL,
      "signature did not verify", 2048 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *msg
          = sign_with (plain_message, cases[i].key, cases[i].selector, cases[i].alg, T0, 0, cases[i].with_l);
      g_autofree char *input = NULL;
      switch (cases[i].mod)
        {
        case MOD_NONE:
          input = g_strdup (msg);
          break;
        case MOD_BODY:
          input = replace_once (msg, "is attached", "is not attached");
          break;
        case MOD_HEADER:
          input = replace_once (msg, "quarterly report", "quarterly rep0rt");
          break;
        case MOD_APPEND:
          input = g_strconcat (msg, "\r\nP.S. click http://phish.example.org/\r\n", NULL);
          break;
        case MOD_LF:
          {
            g_auto (GStrv) parts = g_strsplit (msg, "\r\n", -1);
            input = g_strjoinv ("\n", parts);
          }
          break;
        default:
          g_assert_not_reached ();
        }
      g_autoptr (SwDkimVerifier) v = verifier_new (gen_resolver, cases[i].rfc6376_only);
      g_autoptr (SwDkimResults) r = verify_text (v, input, strlen (input), T0 + 60);
      if (r->signatures->len != 1)
        g_error ("%s: %u signatures", cases[i].name, r->signatures->len);
      assert_sig (cases[i].name, r, 0, cases[i].result, cases[i].reason);
      const SwDkimSignature *s = sig_at (r, 0);
      if (s->key_bits != cases[i].key_bits)
        g_error ("%s: key_bits %u, expected %u", cases[i].name, s->key_bits, cases[i].key_bits);
      g_assert_cmpstr (s->domain, ==, "example.com");
      g_assert_cmpstr (s->selector, ==, cases[i].selector);
      g_assert_cmpstr (s->algorithm, ==, cases[i].alg ? cases[i].alg : "rsa-sha256");
      g_assert_cmpint (s->signed_at, ==, T0);
      g_assert_cmpint (s->expires_at, ==, -1);
      g_assert_cmpint (s->body_length_limited, ==, cases[i].with_l);
      if (cases[i].with_l)
        g_assert_cmpint (s->body_length, ==, (gint64)strlen (strstr (plain_message, "\r\n\r\n") + 4));
      else
        g_assert_cmpint (s->body_length, ==, -1);
      g_assert_nonnull (s->header_b);
      g_assert_cmpuint (strlen (s->header_b), ==, 8);
      const char *field_end = strstr (msg, "\r\nFrom:");
      g_assert_nonnull (field_end);
      g_autofree char *b = sw_dkim_tag_list_get (msg, (gsize)(field_end - msg), "b");
      g_assert_nonnull (b);
      g_assert_true (g_str_has_prefix (b, s->header_b));
      g_assert_cmpint (s->dnssec, ==, SW_DNSSEC_UNKNOWN);
    }
}

/* t= and x= are judged at the receive time, not now. Signed at T0 (2020) with x=T0+1h:
 * long expired by the wall clock. */
static void
test_generated_timestamps (void)
{
  static const struct
  {
    const char *name;
    gint64 ttl;
    gint64 verify_time;
    SwAuthResult result;
    const char *reason;
  } cases[] = {
    { "x-past-now-valid-at-receipt", 3600, T0 + 60, SW_AUTH_PASS, "signature verified" },
    { "x-within-drift", 3600, T0 + 3600 + 100, SW_AUTH_PASS, "signature verified" },
    { "x-expired-at-receipt", 3600, T0 + 7200, SW_AUTH_FAIL, "signature expired (x=1600003600" },
    { "x-expired-now", 3600, 0, SW_AUTH_FAIL, "signature expired (x=1600003600" },
    { "t-future-at-receipt", 3600, T0 - 3600, SW_AUTH_FAIL,
      "signature timestamp in the future (t=1600000000)" },
    { "t-within-drift", 0, T0 - 100, SW_AUTH_PASS, "signature verified" },
    { "no-x-now", 0, 0, SW_AUTH_PASS, "signature verified" },
  };
  g_autoptr (SwDkimVerifier) v = verifier_new (gen_resolver, FALSE);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *msg = sign_with (plain_message, "rsa2048", "rsa2048", NULL, T0, cases[i].ttl, FALSE);
      g_autoptr (SwDkimResults) r = verify_text (v, msg, strlen (msg), cases[i].verify_time);
      assert_sig (cases[i].name, r, 0, cases[i].result, cases[i].reason);
      g_assert_cmpint (sig_at (r, 0)->signed_at, ==, T0);
      g_assert_cmpint (sig_at (r, 0)->expires_at, ==, cases[i].ttl ? T0 + cases[i].ttl : -1);
    }

  /* a signature made "now" with x= a day ahead, checked now: libopendkim's own clock path */
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autofree char *fresh
      = sign_with (plain_message, "ed25519", "ed25519", "ed25519-sha256", now, 86400, FALSE);
  g_autoptr (SwDkimResults) r = verify_text (v, fresh, strlen (fresh), 0);
  assert_sig ("fresh-now", r, 0, SW_AUTH_PASS, "signature verified");
  /* t= in the future relative to now (and to the receive time) */
  g_autofree char *future
      = sign_with (plain_message, "ed25519", "ed25519", "ed25519-sha256", now + 86400, 0, FALSE);
  g_autoptr (SwDkimResults) rf = verify_text (v, future, strlen (future), 0);
  assert_sig ("future-now", rf, 0, SW_AUTH_FAIL, "signature timestamp in the future");
  g_autoptr (SwDkimResults) rf2 = verify_text (v, future, strlen (future), now + 86400 + 10);
  assert_sig ("future-now-received-later", rf2, 0, SW_AUTH_PASS, "signature verified");

  /* two signatures of very different ages in one message, each judged at the receive time */
  g_autofree char *old = sign_with (plain_message, "rsa2048", "rsa2048", NULL, T0, 3600, FALSE);
  g_autofree char *both = sign_with (old, "ed25519", "ed25519", "ed25519-sha256", T0 + 600, 600, FALSE);
  g_autoptr (SwDkimResults) rb = verify_text (v, both, strlen (both), T0 + 1800);
  assert_sig ("two-ages/ed25519", rb, 0, SW_AUTH_FAIL, "signature expired (x=1600001200");
  assert_sig ("two-ages/rsa", rb, 1, SW_AUTH_PASS, "signature verified");
}

static void
test_generated_multiple (void)
{
  /* signed bottom-up: rsa2048, ed25519, missing key, then body-irrelevant rsa-sha1 on top */
  g_autofree char *m1 = sign_with (plain_message, "rsa2048", "rsa2048", NULL, T0, 0, FALSE);
  g_autofree char *m2 = sign_with (m1, "ed25519", "ed25519", "ed25519-sha256", T0, 0, FALSE);
  g_autofree char *m3 = sign_with (m2, "rsa1024", "missing", NULL, T0, 0, FALSE);
  g_autofree char *m4 = sign_with (m3, "rsa2048", "rsa2048", "rsa-sha1", T0, 0, FALSE);
  g_autoptr (SwDkimVerifier) v = verifier_new (gen_resolver, FALSE);
  guint64 before = sw_resolver_get_query_count (gen_resolver);
  g_autoptr (SwDkimResults) r = verify_text (v, m4, strlen (m4), T0 + 60);
  g_autofree char *desc = describe (r);
  g_assert_cmpuint (r->signatures->len, ==, 4);
  g_assert_cmpuint (r->n_not_verified, ==, 0);
  assert_sig ("multiple#0", r, 0, SW_AUTH_FAIL, "rsa-sha1 is not accepted");
  assert_sig ("multiple#1", r, 1, SW_AUTH_PERMERROR, "no key (NXDOMAIN)");
  assert_sig ("multiple#2", r, 2, SW_AUTH_PASS, "signature verified");
  assert_sig ("multiple#3", r, 3, SW_AUTH_PASS, "signature verified");
  g_assert_cmpstr (sig_at (r, 2)->selector, ==, "ed25519");
  g_assert_cmpstr (sig_at (r, 3)->selector, ==, "rsa2048");
  g_assert_cmpstr (sig_at (r, 0)->algorithm, ==, "rsa-sha1");
  /* one key query per distinct selector at most */
  g_assert_cmpuint (sw_resolver_get_query_count (gen_resolver) - before, <=, 4);
}

static void
test_generated_no_signature (void)
{
  g_autoptr (SwDkimVerifier) v = verifier_new (gen_resolver, FALSE);
  static const char *inputs[] = {
    plain_message,
    "",
    "\r\n",
    "Subject: no body\r\n",
    "From: a@example.com\n\nbody only LF\n",
    "DomainKey-Signature: a=rsa-sha1; d=example.com; s=x; b=abc\r\nFrom: a@example.com\r\n\r\nx\r\n",
    "X-DKIM-Signature: v=1; d=example.com\r\n\r\n",
  };
  for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      g_autoptr (SwDkimResults) r = verify_text (v, inputs[i], strlen (inputs[i]), 0);
      if (r->signatures->len != 0 || r->n_not_verified != 0)
        g_error ("no-signature input %u: %u signatures", i, r->signatures->len);
    }
}

/* A DKIM-Signature field whose tags are broken: permerror, not a crash, not a pass. */
static void
test_generated_syntax (void)
{
  static const struct
  {
    const char *name;
    const char *field;
    SwAuthResult result;
    const char *reason;
  } cases[] = {
    { "no-d", "DKIM-Signature: v=1; a=rsa-sha256; s=rsa2048; h=from; bh=AAAA; b=AAAA", SW_AUTH_PERMERROR,
      "signature syntax: d= missing" },
    { "no-s", "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; h=from; bh=AAAA; b=AAAA", SW_AUTH_PERMERROR,
      "signature syntax: s= missing" },
    { "no-v", "DKIM-Signature: a=rsa-sha256; d=example.com; s=rsa2048; h=from; bh=AAAA; b=AAAA",
      SW_AUTH_PERMERROR, "signature syntax: v= missing" },
    { "bad-a", "DKIM-Signature: v=1; a=rsa-md5; d=example.com; s=rsa2048; h=from; bh=AAAA; b=AAAA",
      SW_AUTH_PERMERROR, "signature syntax: unknown algorithm" },
    { "no-from-in-h",
      "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=rsa2048; h=subject; bh=AAAA; b=AAAA",
      SW_AUTH_PERMERROR, "signature syntax: h= does not include From" },
    { "i-outside-d",
      "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; i=@example.org; s=rsa2048; h=from; bh=AAAA; b=AAAA",
      SW_AUTH_PERMERROR, "signature syntax: i= is not within d=" },
    { "x-before-t",
      "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=rsa2048; t=1600000000; x=1500000000; h=from; "
      "bh=AAAA; "
      "b=AAAA",
      SW_AUTH_PERMERROR, "signature syntax: x= is not after t=" },
    { "t-too-long",
      "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=rsa2048; t=1600000000000000; h=from; bh=AAAA; "
      "b=AAAA",
      SW_AUTH_PERMERROR, "signature syntax" },
    { "garbage", "DKIM-Signature: this is not a tag list", SW_AUTH_PERMERROR, "signature syntax" },
    { "empty", "DKIM-Signature:", SW_AUTH_PERMERROR, "signature syntax" },
  };
  g_autoptr (SwDkimVerifier) v = verifier_new (gen_resolver, FALSE);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *input = g_strconcat (cases[i].field, "\r\n", plain_message, NULL);
      g_autoptr (SwDkimResults) r = verify_text (v, input, strlen (input), T0);
      if (r->signatures->len != 1)
        g_error ("%s: %u signatures", cases[i].name, r->signatures->len);
      assert_sig (cases[i].name, r, 0, cases[i].result, cases[i].reason);
    }
}

/* ---- limits ---- */

static void
test_limits_signature_cap (void)
{
  g_autofree char *msg = g_strdup (plain_message);
  guint n = SW_DKIM_MAX_SIGNATURES + 3;
  for (guint i = 0; i < n; i++)
    {
      char *next = sign_with (msg, "ed25519", "ed25519", "ed25519-sha256", T0, 0, FALSE);
      g_free (msg);
      msg = next;
    }
  g_autoptr (SwResolver) res = sw_resolver_ref (gen_resolver);
  g_autoptr (SwDkimVerifier) v = verifier_new (res, FALSE);
  guint64 before = sw_resolver_get_query_count (res);
  g_autoptr (SwDkimResults) r = verify_text (v, msg, strlen (msg), T0 + 60);
  g_assert_cmpuint (r->signatures->len, ==, SW_DKIM_MAX_SIGNATURES);
  g_assert_cmpuint (r->n_not_verified, ==, 3);
  for (guint i = 0; i < r->signatures->len; i++)
    assert_sig ("cap", r, i, SW_AUTH_PASS, "signature verified");
  g_assert_cmpuint (sw_resolver_get_query_count (res) - before, <=, SW_DKIM_MAX_SIGNATURES);
}

static void
test_limits_nul (void)
{
  g_autofree char *msg = sign_with (plain_message, "rsa2048", "rsa2048", NULL, T0, 0, FALSE);
  g_autoptr (SwDkimVerifier) v = verifier_new (gen_resolver, FALSE);
  gsize len = strlen (msg);
  const char *targets[] = { "quarterly", "Hello", "a=rsa", "d=example.com", "From:", "\r\n\r\n" };
  for (guint i = 0; i < G_N_ELEMENTS (targets); i++)
    {
      g_autofree char *copy = g_memdup2 (msg, len + 1);
      char *at = strstr (copy, targets[i]);
      g_assert_nonnull (at);
      at[1] = '\0';
      g_autoptr (SwDkimResults) r = verify_text (v, copy, len, T0 + 60);
      for (guint j = 0; j < r->signatures->len; j++)
        if (sig_at (r, j)->result == SW_AUTH_PASS)
          g_error ("NUL in \"%s\": the signature passed", targets[i]);
      g_assert_cmpuint (r->signatures->len, <=, 1);
    }
  /* NULs everywhere */
  g_autofree char *zeros = g_malloc0 (4096);
  g_autoptr (SwDkimResults) r = verify_text (v, zeros, 4096, 0);
  g_assert_cmpuint (r->signatures->len, ==, 0);
  /* an unsigned NUL in the body after l= coverage does not matter to the signature */
  g_autofree char *lmsg = sign_with (plain_message, "rsa2048", "rsa2048", NULL, T0, 0, TRUE);
  gsize llen = strlen (lmsg);
  g_autofree char *appended = g_malloc (llen + 8);
  memcpy (appended, lmsg, llen);
  memcpy (appended + llen, "x\0y\r\n\0\0z", 8);
  g_autoptr (SwDkimResults) rl = verify_text (v, appended, llen + 8, T0 + 60);
  assert_sig ("nul-after-l", rl, 0, SW_AUTH_PASS, "signature verified");
  g_assert_true (sig_at (rl, 0)->body_length_limited);
}

static void
test_limits_header_fields (void)
{
  g_autofree char *msg = sign_with (plain_message, "rsa2048", "rsa2048", NULL, T0, 0, FALSE);
  GString *big = g_string_new (NULL);
  const char *split = strstr (msg, "\r\n\r\n");
  g_string_append_len (big, msg, split + 2 - msg);
  for (guint i = 0; i < SW_MAX_HEADER_FIELDS; i++)
    g_string_append_printf (big, "X-Filler-%u: x\r\n", i);
  g_string_append (big, split + 2);
  g_autoptr (SwDkimVerifier) v = verifier_new (gen_resolver, FALSE);
  g_autoptr (SwDkimResults) r = verify_text (v, big->str, big->len, T0 + 60);
  assert_sig ("too-many-fields", r, 0, SW_AUTH_PERMERROR, "message header exceeds");
  g_string_free (big, TRUE);

  /* one field just under the limits verifies normally */
  g_autofree char *filler = g_strnfill (SW_MAX_HEADER_FIELD - 64, 'a');
  g_autofree char *ok_msg = g_strconcat ("X-Long: ", filler, "\r\n", msg, NULL);
  g_autoptr (SwDkimResults) r2 = verify_text (v, ok_msg, strlen (ok_msg), T0 + 60);
  assert_sig ("long-field-ok", r2, 0, SW_AUTH_PASS, "signature verified");
  g_autofree char *filler2 = g_strnfill (SW_MAX_HEADER_FIELD + 1, 'a');
  g_autofree char *long_msg = g_strconcat (msg, NULL);
  g_autofree char *bad_msg = replace_once (long_msg, "Subject: quarterly report", "Subject: ");
  g_autofree char *bad_msg2 = g_strconcat ("X-Too-Long: ", filler2, "\r\n", bad_msg, NULL);
  g_autoptr (SwDkimResults) r3 = verify_text (v, bad_msg2, strlen (bad_msg2), T0 + 60);
  /* the cap hit before the signature field: the signature is still listed, not verified */
  assert_sig ("too-long-field", r3, 0, SW_AUTH_PERMERROR, "message header exceeds");
  g_assert_cmpstr (sig_at (r3, 0)->domain, ==, "example.com");
  g_assert_cmpstr (sig_at (r3, 0)->selector, ==, "rsa2048");
}

static void
test_limits_size (void)
{
  g_autoptr (SwDkimVerifier) v = verifier_new (gen_resolver, FALSE);
  gsize size = (gsize)SW_MAX_MESSAGE_IN_MEMORY + 1;
  guint8 *data = g_malloc0 (size);
  g_autoptr (GBytes) bytes = g_bytes_new_take (data, size);
  g_autoptr (GError) error = NULL;
  SwDkimResults *r = NULL;
  g_assert_false (sw_dkim_verify (v, bytes, 0, &r, &error));
  g_assert_error (error, SW_DKIM_ERROR, SW_DKIM_ERROR_TOO_LARGE);
  g_assert_null (r);
}

/* ---- threads ---- */

typedef struct
{
  SwDkimVerifier *v;
  const char *messages[4];
  SwAuthResult expected[4];
  const char *reasons[4];
  gint failures;
} ThreadData;

static gpointer
thread_main (gpointer p)
{
  ThreadData *td = p;
  for (guint round = 0; round < 25; round++)
    for (guint i = 0; i < G_N_ELEMENTS (td->messages); i++)
      {
        g_autoptr (GBytes) bytes = g_bytes_new_static (td->messages[i], strlen (td->messages[i]));
        g_autoptr (SwDkimResults) r = NULL;
        if (!sw_dkim_verify (td->v, bytes, T0 + 60, &r, NULL) || r->signatures->len != 1)
          {
            g_printerr ("# thread case %u: verification failed\n", i);
            g_atomic_int_inc (&td->failures);
            continue;
          }
        const SwDkimSignature *s = g_ptr_array_index (r->signatures, 0);
        if (s->result != td->expected[i] || strcmp (s->reason, td->reasons[i]) != 0)
          {
            g_printerr ("# thread case %u: %s (%s)\n", i, sw_auth_result_to_string (s->result), s->reason);
            g_atomic_int_inc (&td->failures);
          }
      }
  return NULL;
}

static void
test_threads (void)
{
  g_autofree char *good = sign_with (plain_message, "rsa2048", "rsa2048", NULL, T0, 0, FALSE);
  g_autofree char *ed = sign_with (plain_message, "ed25519", "ed25519", "ed25519-sha256", T0, 3600, FALSE);
  g_autofree char *signed_bad = sign_with (plain_message, "rsa2048", "rsa2048", NULL, T0, 0, FALSE);
  g_autofree char *bad = replace_once (signed_bad, "is attached", "is not attached");
  g_autofree char *slow = sign_with (plain_message, "rsa2048", "slow", NULL, T0, 0, FALSE);
  g_autoptr (SwDkimVerifier) v = verifier_new (gen_resolver, FALSE);
  ThreadData td
      = { v,
          { good, ed, bad, slow },
          { SW_AUTH_PASS, SW_AUTH_PASS, SW_AUTH_FAIL, SW_AUTH_TEMPERROR },
          { "signature verified", "signature verified", "body hash mismatch", "DNS timeout fetching key" },
          0 };
  GThread *threads[8];
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("dkim-test", thread_main, &td);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  g_assert_cmpint (g_atomic_int_get (&td.failures), ==, 0);
}

/* ---- main ---- */

static char *
generated_zone (void)
{
  g_autofree char *keys = sw_test_dkim_read ("keys/keys.zone", NULL);
  /* "revoked": an empty p= (RFC 6376 section 3.6.1) */
  return g_strconcat (keys,
                      "nodata._domainkey.example.com. A 192.0.2.1\n"
                      "slow._domainkey.example.com. TIMEOUT TXT\n"
                      "broken._domainkey.example.com. SERVFAIL TXT\n"
                      "revoked._domainkey.example.com. TXT \"v=DKIM1; k=rsa; p=\"\n",
                      NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_autofree char *zone = generated_zone ();
  gen_resolver = sw_test_resolver_from_zone (zone);

  g_test_add_func ("/core/dkim/unit/tags", test_unit_tags);
  g_test_add_func ("/core/dkim/unit/split", test_unit_split);
  g_autoptr (GPtrArray) corpus = add_mail_dkim_tests ();
  g_test_add_func ("/core/dkim/dkimpy/vectors", test_dkimpy_vectors);
  g_test_add_func ("/core/dkim/dkimpy/key-records", test_dkimpy_key_records);
  g_test_add_func ("/core/dkim/generated/table", test_generated_table);
  g_test_add_func ("/core/dkim/generated/timestamps", test_generated_timestamps);
  g_test_add_func ("/core/dkim/generated/multiple", test_generated_multiple);
  g_test_add_func ("/core/dkim/generated/no-signature", test_generated_no_signature);
  g_test_add_func ("/core/dkim/generated/syntax", test_generated_syntax);
  g_test_add_func ("/core/dkim/limits/signature-cap", test_limits_signature_cap);
  g_test_add_func ("/core/dkim/limits/nul", test_limits_nul);
  g_test_add_func ("/core/dkim/limits/header-fields", test_limits_header_fields);
  g_test_add_func ("/core/dkim/limits/size", test_limits_size);
  g_test_add_func ("/core/dkim/threads", test_threads);

  int rc = g_test_run ();
  sw_dkim_verifier_free (mail_dkim_rfc6376);
  sw_dkim_verifier_free (mail_dkim_default);
  sw_resolver_unref (mail_dkim_resolver);
  sw_resolver_unref (gen_resolver);
  return rc;
}
