/* End-to-end verification: samples, every verdict, headers, JSON. */
#include "sw-verifier.h"
#include "sw-verify-headers.h"
#include "sw-verify-json.h"
#include "sw-util.h"

#include <gmime/gmime.h>

#include <libintl.h>
#include <locale.h>
#include <string.h>

static SwResolver *
samples_resolver (const char *extra_zone)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "samples", "samples.zone", NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, &error));
  g_autofree char *all = g_strconcat (text, "\n", extra_zone ? extra_zone : "", "\n", NULL);
  SwResolver *r = sw_resolver_new_zone_text (all, &error);
  g_assert_no_error (error);
  return r;
}

static SwVerifier *
make_verifier (SwResolver *resolver, const char *const *trusted)
{
  g_autoptr (GError) error = NULL;
  SwVerifierConfig config = {
    .resolver = resolver,
    .dmarc_mode = SW_DMARC_MODE_RFC9989,
    .authserv_id = "spoofwatch-test",
    .trusted_authserv_ids = trusted,
  };
  SwVerifier *v = sw_verifier_new (&config, &error);
  g_assert_no_error (error);
  return v;
}

static SwVerifyResult *
verify_bytes (SwVerifier *v, const char *text, const SwKnownEnvelope *known)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = g_bytes_new (text, strlen (text));
  SwVerifyResult *r = NULL;
  g_assert_true (sw_verifier_verify (v, bytes, known, &r, &error));
  g_assert_no_error (error);
  return r;
}

static void
test_samples (void)
{
  g_autoptr (SwResolver) resolver = samples_resolver (NULL);
  g_autoptr (SwVerifier) v = make_verifier (resolver, NULL);
  g_autofree char *tsv_path = g_test_build_filename (G_TEST_DIST, "..", "samples", "expected.tsv", NULL);
  g_autofree char *tsv = NULL;
  g_assert_true (g_file_get_contents (tsv_path, &tsv, NULL, NULL));
  g_auto (GStrv) lines = g_strsplit (tsv, "\n", -1);
  guint checked = 0;
  for (guint i = 0; lines[i]; i++)
    {
      if (lines[i][0] == '#' || lines[i][0] == '\0')
        continue;
      g_auto (GStrv) cols = g_strsplit (lines[i], "\t", 3);
      g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "samples", cols[0], NULL);
      g_autofree char *data = NULL;
      gsize len;
      g_assert_true (g_file_get_contents (path, &data, &len, NULL));
      g_autoptr (GBytes) bytes = g_bytes_new_take (g_steal_pointer (&data), len);
      g_autoptr (SwVerifyResult) r = NULL;
      g_autoptr (GError) error = NULL;
      g_assert_true (sw_verifier_verify (v, bytes, NULL, &r, &error));
      if (g_strcmp0 (sw_verdict_to_string (r->verdict), cols[1]) != 0)
        g_error ("%s: verdict %s, expected %s (%s)", cols[0], sw_verdict_to_string (r->verdict), cols[1],
                 r->explanation);
      g_assert_nonnull (r->explanation);
      g_test_message ("%s: %s", cols[0], r->explanation);
      checked++;
    }
  g_assert_cmpuint (checked, ==, 7);
}

/* The paper's message: every piece of evidence is where it should be. */
static void
test_citibank_evidence (void)
{
  g_autoptr (SwResolver) resolver = samples_resolver (NULL);
  g_autoptr (SwVerifier) v = make_verifier (resolver, NULL);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "samples", "01-citibank-spoofed.eml", NULL);
  g_autofree char *data = NULL;
  g_assert_true (g_file_get_contents (path, &data, NULL, NULL));
  g_autoptr (SwVerifyResult) r = verify_bytes (v, data, NULL);
  g_assert_cmpint (r->verdict, ==, SW_VERDICT_REJECT);
  g_assert_cmpstr (r->from_domain, ==, "citibank.com");
  g_assert_cmpstr (r->org_domain, ==, "citibank.com");
  g_assert_cmpstr (r->envelope->ip, ==, "42.127.236.162");
  g_assert_cmpint (r->envelope->ip_source, ==, SW_SOURCE_RECEIVED_AUTO);
  g_assert_cmpint (r->spf->result, ==, SW_AUTH_SOFTFAIL);
  g_assert_cmpstr (r->spf->domain, ==, "citibank.com");
  g_assert_cmpuint (r->dkim->signatures->len, ==, 0);
  g_assert_cmpint (r->dmarc->result, ==, SW_AUTH_FAIL);
  g_assert_cmpint (r->dmarc->policy_published, ==, SW_DMARC_POLICY_REJECT);
  g_assert_nonnull (strstr (r->explanation, "citibank.com"));
  g_assert_nonnull (strstr (r->explanation, "rejects"));
  g_assert_nonnull (strstr (r->explanation, "42.127.236.162"));
  g_assert_nonnull (strstr (r->explanation, "no DKIM signature"));

  /* The same message with the envelope of a server citibank.com lists: SPF passes,
   * DMARC passes by SPF. */
  SwKnownEnvelope known = { "67.231.153.20", "mx0a.pphosted.com", "alert@citibank.com" };
  g_autoptr (SwVerifyResult) r2 = verify_bytes (v, data, &known);
  g_assert_cmpint (r2->spf->result, ==, SW_AUTH_PASS);
  g_assert_cmpint (r2->envelope->ip_source, ==, SW_SOURCE_GIVEN);
  g_assert_cmpint (r2->verdict, ==, SW_VERDICT_PASS);
}

#define HDR_TOP                                                                       \
  "Received: from mx1.example.net (mx1.example.net [10.20.0.5])\r\n"                  \
  "\tby imap.example.net (Dovecot) with LMTP id x1; Mon, 23 Nov 2026 08:00:00 +0000\r\n" \
  "Received: from sender.example.org (sender.example.org [81.2.69.200])\r\n"          \
  "\tby mx1.example.net (Postfix) with ESMTPS id x2; Mon, 23 Nov 2026 08:00:00 +0000\r\n"

static void
test_every_verdict (void)
{
  static const char extra[] =
    "slow-dns.example. IN TXT \"v=spf1 -all\"\n"
    "_dmarc.slow-dns.example. TIMEOUT\n"
    "broken-dmarc.example. IN TXT \"v=spf1 -all\"\n"
    "testing.example. IN TXT \"v=spf1 -all\"\n"
    "_dmarc.testing.example. IN TXT \"v=DMARC1; p=reject; t=y\"\n"
    "oldpct.example. IN TXT \"v=spf1 -all\"\n"
    "_dmarc.oldpct.example. IN TXT \"v=DMARC1; p=quarantine; pct=0\"\n";
  g_autoptr (SwResolver) resolver = samples_resolver (extra);
  g_autoptr (SwVerifier) v = make_verifier (resolver, NULL);

  static const struct {
    const char *name;
    const char *headers; /* after the Received fields */
    SwVerdict verdict;
  } cases[] = {
    { "temperror-dmarc-timeout", "From: a@slow-dns.example\r\n", SW_VERDICT_TEMPERROR },
    { "permerror-no-from", "To: x@example.net\r\n", SW_VERDICT_PERMERROR },
    { "permerror-two-from-fields", "From: a@citibank.com\r\nFrom: b@citibank.com\r\n", SW_VERDICT_PERMERROR },
    { "permerror-empty-group", "From: undisclosed:;\r\n", SW_VERDICT_PERMERROR },
    { "worst-of-two-authors", "From: a@weekly-digest.example, b@citibank.com\r\n", SW_VERDICT_REJECT },
    { "t=y-is-fail-none", "From: a@testing.example\r\n", SW_VERDICT_FAIL_NONE },
    { "pct=0-is-fail-none", "From: a@oldpct.example\r\n", SW_VERDICT_FAIL_NONE },
    { "quarantine", "From: a@parcel-express.example\r\n", SW_VERDICT_QUARANTINE },
    { "none", "From: a@small-family.example\r\n", SW_VERDICT_NONE },
    { "subdomain-sp", "From: a@news.parcel-express.example\r\n", SW_VERDICT_QUARANTINE },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *msg = g_strconcat (HDR_TOP, cases[i].headers, "Subject: t\r\n\r\nbody\r\n", NULL);
      g_autoptr (SwVerifyResult) r = verify_bytes (v, msg, NULL);
      if (r->verdict != cases[i].verdict)
        g_error ("case %s: verdict %s, expected %s (%s)", cases[i].name, sw_verdict_to_string (r->verdict),
                 sw_verdict_to_string (cases[i].verdict), r->explanation);
      g_assert_nonnull (r->explanation);
    }
}

static void
test_headers_and_filter (void)
{
  g_autoptr (SwResolver) resolver = samples_resolver (NULL);
  g_autoptr (SwVerifier) v = make_verifier (resolver, NULL);
  static const char body[] =
    "Authentication-Results: SPOOFWATCH-TEST; dmarc=pass header.from=citibank.com\r\n"
    HDR_TOP
    "X-Spoofwatch-Verdict: pass\r\n"
    "Authentication-Results: mx.other.example; spf=pass smtp.mailfrom=citibank.com\r\n"
    "From: Citibank <alert@citibank.com>\r\n"
    "Subject: forged verdicts\r\n"
    "\r\n"
    "Line one\r\n.\r\n..dot\r\n";
  g_autoptr (SwVerifyResult) r = verify_bytes (v, body, NULL);
  g_assert_cmpint (r->verdict, ==, SW_VERDICT_REJECT);

  g_autoptr (GBytes) in = g_bytes_new_static (body, strlen (body));
  g_assert_cmpuint (sw_verify_count_forged_fields (in, "spoofwatch-test"), ==, 2);
  g_autoptr (GBytes) out = sw_verify_apply_headers (in, r, "spoofwatch-test");
  gsize len;
  const char *data = g_bytes_get_data (out, &len);
  g_autofree char *text = g_strndup (data, len);

  g_autofree char *ours = sw_verify_format_headers (r, "spoofwatch-test", "\r\n");
  g_assert_true (g_str_has_prefix (text, ours));
  g_assert_true (g_str_has_prefix (ours, "Authentication-Results: spoofwatch-test;"));
  g_assert_nonnull (strstr (ours, "X-Spoofwatch-Verdict: reject\r\n"));
  g_assert_nonnull (strstr (ours, "dmarc=fail"));
  /* Forged fields are gone, everything else is byte-identical. */
  g_assert_null (strstr (text, "SPOOFWATCH-TEST"));
  g_assert_null (strstr (text, "X-Spoofwatch-Verdict: pass"));
  const char *rest = text + strlen (ours);
  g_autofree char *expected_rest = g_strconcat (HDR_TOP,
    "Authentication-Results: mx.other.example; spf=pass smtp.mailfrom=citibank.com\r\n"
    "From: Citibank <alert@citibank.com>\r\n"
    "Subject: forged verdicts\r\n"
    "\r\n"
    "Line one\r\n.\r\n..dot\r\n", NULL);
  g_assert_cmpstr (rest, ==, expected_rest);

  /* LF-only messages get LF-only headers. */
  g_autofree char *lf = g_strdup ("From: a@small-family.example\nSubject: x\n\nbody\n");
  g_autoptr (SwVerifyResult) r2 = verify_bytes (v, lf, NULL);
  g_autoptr (GBytes) in2 = g_bytes_new_static (lf, strlen (lf));
  g_autoptr (GBytes) out2 = sw_verify_apply_headers (in2, r2, "spoofwatch-test");
  g_autofree char *text2 = g_strndup (g_bytes_get_data (out2, NULL), g_bytes_get_size (out2));
  g_assert_null (strchr (text2, '\r'));
  g_assert_true (g_str_has_suffix (text2, lf));
}

static void
test_json (void)
{
  g_autoptr (SwResolver) resolver = samples_resolver (NULL);
  g_autoptr (SwVerifier) v = make_verifier (resolver, NULL);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "samples", "02-genuine-bank.eml", NULL);
  g_autofree char *data = NULL;
  g_assert_true (g_file_get_contents (path, &data, NULL, NULL));
  g_autoptr (SwVerifyResult) r = verify_bytes (v, data, NULL);
  g_autofree char *json = sw_verify_result_to_json (r, "x.eml", -1, FALSE);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, json, -1, NULL));
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (o, "verdict"), ==, "pass");
  g_assert_cmpstr (json_object_get_string_member (o, "from_domain"), ==, "greenleaf-bank.example");
  g_assert_cmpstr (json_object_get_string_member (o, "org_domain"), ==, "greenleaf-bank.example");
  g_assert_nonnull (json_object_get_string_member (o, "explanation"));
  JsonObject *spf = json_object_get_object_member (o, "spf");
  for (const char *const *k = (const char *const[]){ "result", "domain", "ip", "helo", "source", NULL }; *k; k++)
    g_assert_true (json_object_has_member (spf, *k));
  g_assert_cmpstr (json_object_get_string_member (spf, "result"), ==, "pass");
  g_assert_cmpstr (json_object_get_string_member (spf, "ip"), ==, "203.0.114.25");
  JsonArray *dkim = json_object_get_array_member (o, "dkim");
  g_assert_cmpuint (json_array_get_length (dkim), ==, 1);
  JsonObject *sig = json_array_get_object_element (dkim, 0);
  g_assert_cmpstr (json_object_get_string_member (sig, "result"), ==, "pass");
  g_assert_cmpstr (json_object_get_string_member (sig, "domain"), ==, "greenleaf-bank.example");
  g_assert_cmpstr (json_object_get_string_member (sig, "selector"), ==, "s2026");
  g_assert_cmpstr (json_object_get_string_member (sig, "algorithm"), ==, "rsa-sha256");
  g_assert_cmpint (json_object_get_int_member (sig, "key_bits"), ==, 2048);
  g_assert_true (json_object_has_member (sig, "reason"));
  JsonObject *dmarc = json_object_get_object_member (o, "dmarc");
  g_assert_cmpstr (json_object_get_string_member (dmarc, "result"), ==, "pass");
  g_assert_cmpstr (json_object_get_string_member (dmarc, "policy"), ==, "reject");
  g_assert_nonnull (strstr (json_object_get_string_member (dmarc, "record"), "v=DMARC1"));
  JsonArray *aligned = json_object_get_array_member (dmarc, "aligned_by");
  g_assert_cmpuint (json_array_get_length (aligned), ==, 2);
}

static void
test_trusted_provider (void)
{
  g_autoptr (SwResolver) resolver = samples_resolver (NULL);
  const char *const trusted[] = { "mx1.example.net", NULL };
  g_autoptr (SwVerifier) v = make_verifier (resolver, trusted);
  /* One A-R above the boundary (the provider's), one below it (forged by the sender). */
  static const char msg[] =
    "Received: from mx1.example.net (mx1.example.net [10.20.0.5])\r\n"
    "\tby imap.example.net (Dovecot) with LMTP id x1; Mon, 23 Nov 2026 08:00:00 +0000\r\n"
    "Authentication-Results: mx1.example.net; spf=softfail smtp.mailfrom=citibank.com\r\n"
    "Received: from sender.example.org (sender.example.org [81.2.69.200])\r\n"
    "\tby mx1.example.net (Postfix) with ESMTPS id x2; Mon, 23 Nov 2026 08:00:00 +0000\r\n"
    "Authentication-Results: mx1.example.net; spf=pass smtp.mailfrom=citibank.com; dkim=pass header.d=citibank.com\r\n"
    "From: a@citibank.com\r\n\r\nbody\r\n";
  g_autoptr (SwVerifyResult) r = verify_bytes (v, msg, NULL);
  g_assert_cmpuint (r->provider_results->len, ==, 1);
  const SwProviderResult *pr = g_ptr_array_index (r->provider_results, 0);
  g_assert_cmpstr (pr->method, ==, "spf");
  g_assert_cmpint (pr->result, ==, SW_AUTH_SOFTFAIL);
  g_assert_cmpstr (pr->detail, ==, "smtp.mailfrom=citibank.com");
}

/* The explanation is translated: Japanese, as the original prototype was. */
static void
test_explanation_japanese (void)
{
  if (g_test_subprocess ())
    {
      const char *build = g_getenv ("SW_BUILD_DIR");
      g_assert_nonnull (build);
      g_autofree char *locale_dir = g_build_filename (build, "locale", NULL);
      g_setenv ("LANGUAGE", "ja", TRUE);
      setlocale (LC_ALL, "C.UTF-8");
      bindtextdomain ("spoofwatch", locale_dir);
      bind_textdomain_codeset ("spoofwatch", "UTF-8");
      g_autoptr (SwResolver) resolver = samples_resolver (NULL);
      g_autoptr (SwVerifier) v = make_verifier (resolver, NULL);
      g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "samples", "01-citibank-spoofed.eml", NULL);
      g_autofree char *data = NULL;
      g_assert_true (g_file_get_contents (path, &data, NULL, NULL));
      g_autoptr (SwVerifyResult) r = verify_bytes (v, data, NULL);
      g_print ("%s\n", r->explanation);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("*citibank.com からのメールを名乗っていますが（このドメインは認証されないメールの拒否を求めています）、"
                             "citibank.com が登録していないサーバー 42.127.236.162 から送信されました。また、DKIM 署名がありません。*");
}

/* Subject, Message-ID, From and List-Id in the result are the decoded (RFC 2047) values,
 * sanitised and cut to 300 characters, for generated values: plain ASCII (kept as it
 * is), encoded words, look-alikes, controls, 8-bit, long. */
static void
test_decoded_headers (void)
{
  static const char *const pieces[] = { "Reminder", " ", "  ", "=?UTF-8?Q?J=C3=B6rg?=", "=?", "?=", "a=?b", "\t",
                                        "\x01", "B\xc3\xbcro", "\xff", "<0.1@x.example>", "(c)", "\"q\"", "=" };
  g_mime_init ();
  g_autoptr (SwResolver) resolver = samples_resolver (NULL);
  g_autoptr (SwVerifier) v = make_verifier (resolver, NULL);
  GRand *rand = g_rand_new_with_seed (2047);
  for (guint round = 0; round < 400; round++)
    {
      GString *value = g_string_new ("x");
      guint parts = g_rand_int_range (rand, 0, round % 10 == 0 ? 200 : 8);
      for (guint k = 0; k < parts; k++)
        g_string_append (value, pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))]);
      g_string_append (value, "y");
      g_autofree char *text = g_strdup_printf ("From: a@example.com\r\nSubject: %s\r\nMessage-ID: %s\r\n"
                                               "List-Id: %s\r\n\r\nbody\r\n",
                                               value->str, value->str, value->str);
      g_autoptr (SwVerifyResult) r = verify_bytes (v, text, NULL);
      g_autofree char *decoded = g_mime_utils_header_decode_text (NULL, value->str);
      g_autofree char *want = sw_sanitize_for_log (decoded ? decoded : value->str, -1, 300);
      if (g_strcmp0 (r->subject, want) != 0 || g_strcmp0 (r->message_id, want) != 0
          || g_strcmp0 (r->list_id, want) != 0)
        g_error ("round %u: \"%s\" gave \"%s\", expected \"%s\"", round, value->str, r->subject, want);
      g_string_free (value, TRUE);
    }
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/core/verify/samples", test_samples);
  g_test_add_func ("/core/verify/citibank-evidence", test_citibank_evidence);
  g_test_add_func ("/core/verify/every-verdict", test_every_verdict);
  g_test_add_func ("/core/verify/headers-and-filter", test_headers_and_filter);
  g_test_add_func ("/core/verify/json", test_json);
  g_test_add_func ("/core/verify/trusted-provider", test_trusted_provider);
  g_test_add_func ("/core/verify/explanation-japanese", test_explanation_japanese);
  g_test_add_func ("/core/verify/decoded-headers", test_decoded_headers);
  return g_test_run ();
}
