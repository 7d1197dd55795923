/* test-dmarc.c: the DMARC module's test binary. This file: sw_dmarc_evaluate() over the
 * zone tests/data/dmarc/dmarc.zone; test-orgdomain.c: the RFC 9989 tree walk; test-psl.c:
 * the public suffix list. */
#include "sw-dmarc.h"
#include "sw-limits.h"
#include <string.h>

void test_orgdomain_register (void);
void test_psl_register (void);

#define M9 SW_DMARC_MODE_RFC9989
#define M7 SW_DMARC_MODE_RFC7489
#define U SW_DMARC_POLICY_UNSET
#define N SW_DMARC_POLICY_NONE
#define Q SW_DMARC_POLICY_QUARANTINE
#define R SW_DMARC_POLICY_REJECT

static SwResolver *
zone_resolver (const char *extra)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "dmarc", "dmarc.zone", NULL);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  g_autofree char *all = g_strconcat (text, "\n", extra ? extra : "", "\n", NULL);
  SwResolver *r = sw_resolver_new_zone_text (all, &error);
  g_assert_no_error (error);
  return r;
}

/* "domain:result" */
static void
parse_identity (const char *spec, SwDmarcIdentity *id, char **domain_out)
{
  const char *colon = strrchr (spec, ':');
  g_assert_nonnull (colon);
  *domain_out = g_strndup (spec, colon - spec);
  id->domain = *domain_out;
  g_assert_true (sw_auth_result_from_string (colon + 1, &id->result));
}

typedef struct
{
  const char *name;
  SwDmarcMode mode;
  const char *from;
  const char *spf;     /* "domain:result" or NULL (not evaluated) */
  const char *dkim[3]; /* "domain:result", NULL-terminated */
  SwAuthResult result;
  const char *tag; /* expected policy_tag (NULL: none) */
  SwDmarcPolicy published;
  SwDmarcPolicy applied;
  gboolean testing;
  gboolean spf_aligned;
  gboolean dkim_aligned;
  const char *org;    /* expected org_domain (NULL: NULL) */
  const char *reason; /* substring of the reason, or NULL */
} DmarcCase;

/* clang-format off */
static const DmarcCase cases[] = {
  /* Results. */
  { "pass-spf", M9, "bank.example", "bank.example:pass", {}, SW_AUTH_PASS, "p", R, R, FALSE, TRUE, FALSE,
    "bank.example", "SPF passes for bank.example" },
  { "pass-spf-relaxed-subdomain", M9, "bank.example", "mail.bank.example:pass", {}, SW_AUTH_PASS, "p", R, R, FALSE,
    TRUE, FALSE, "bank.example", NULL },
  { "pass-dkim", M9, "bank.example", NULL, { "bank.example:pass" }, SW_AUTH_PASS, "p", R, R, FALSE, FALSE, TRUE,
    "bank.example", "DKIM passes with d=bank.example" },
  { "pass-dkim-second-signature", M9, "bank.example", "evil.example:pass",
    { "evil.example:pass", "news.bank.example:pass" }, SW_AUTH_PASS, "p", R, R, FALSE, FALSE, TRUE, "bank.example",
    "d=news.bank.example" },
  { "pass-both", M9, "bank.example", "bank.example:pass", { "bank.example:pass" }, SW_AUTH_PASS, "p", R, R, FALSE,
    TRUE, TRUE, "bank.example", "both pass" },
  { "fail-reject", M9, "bank.example", "bank.example:softfail", {}, SW_AUTH_FAIL, "p", R, R, FALSE, FALSE, FALSE,
    "bank.example", "no DKIM signature passes and SPF is softfail" },
  { "fail-dkim-result-fail", M9, "bank.example", NULL, { "bank.example:fail" }, SW_AUTH_FAIL, "p", R, R, FALSE,
    FALSE, FALSE, "bank.example", "SPF is not checked" },
  { "fail-dkim-temperror-does-not-align", M9, "bank.example", NULL, { "bank.example:temperror" }, SW_AUTH_FAIL,
    "p", R, R, FALSE, FALSE, FALSE, "bank.example", NULL },
  { "fail-spf-and-dkim-unaligned", M9, "bank.example", "evil.example:pass", { "evil.example:pass" }, SW_AUTH_FAIL,
    "p", R, R, FALSE, FALSE, FALSE, "bank.example", "SPF and DKIM both unaligned" },
  { "fail-quarantine", M9, "parcel.example", "evil.example:fail", {}, SW_AUTH_FAIL, "p", Q, Q, FALSE, FALSE, FALSE,
    "parcel.example", NULL },
  { "fail-none", M9, "monitor.example", NULL, {}, SW_AUTH_FAIL, "p", N, N, FALSE, FALSE, FALSE, "monitor.example",
    NULL },
  { "none-no-record", M9, "small.example", "small.example:pass", {}, SW_AUTH_NONE, NULL, U, U, FALSE, FALSE, FALSE,
    "small.example", "no DMARC record for small.example or its organizational domain" },
  { "temperror-servfail", M9, "broken.example", "broken.example:pass", {}, SW_AUTH_TEMPERROR, NULL, U, U, FALSE,
    FALSE, FALSE, NULL, "DNS server failure looking up _dmarc.broken.example" },
  { "temperror-timeout", M9, "slow.example", NULL, {}, SW_AUTH_TEMPERROR, NULL, U, U, FALSE, FALSE, FALSE, NULL,
    "DNS timeout looking up _dmarc.slow.example" },
  { "temperror-timeout-at-parent", M9, "x.slow.example", NULL, {}, SW_AUTH_TEMPERROR, NULL, U, U, FALSE, FALSE,
    FALSE, NULL, "DNS timeout looking up _dmarc.slow.example" },
  { "temperror-alignment-walk", M9, "bank.example", NULL, { "x.tf.bank.example:pass" }, SW_AUTH_TEMPERROR, "p", R,
    R, FALSE, FALSE, FALSE, "bank.example", "DNS timeout looking up _dmarc.x.tf.bank.example while checking" },
  { "pass-despite-alignment-timeout", M9, "bank.example", "bank.example:pass", { "x.tf.bank.example:pass" },
    SW_AUTH_PASS, "p", R, R, FALSE, TRUE, FALSE, "bank.example", NULL },
  { "permerror-invalid-p", M9, "badp.example", NULL, {}, SW_AUTH_PERMERROR, NULL, U, U, FALSE, FALSE, FALSE,
    "badp.example", "has an invalid p= and no valid rua=" },
  { "invalid-p-with-rua-is-none", M9, "badprua.example", NULL, {}, SW_AUTH_FAIL, "p", N, N, FALSE, FALSE, FALSE,
    "badprua.example", NULL },
  { "permerror-invalid-sp", M9, "badsp.example", NULL, {}, SW_AUTH_PERMERROR, NULL, U, U, FALSE, FALSE, FALSE,
    "badsp.example", "invalid sp=" },
  { "permerror-p-prefix-not-a-policy", M9, "prefixp.example", NULL, {}, SW_AUTH_PERMERROR, NULL, U, U, FALSE,
    FALSE, FALSE, "prefixp.example", "invalid p=" },
  { "absent-p-is-none", M9, "nop.example", NULL, {}, SW_AUTH_FAIL, "p", N, N, FALSE, FALSE, FALSE, "nop.example",
    NULL },
  { "absent-p-permerror-rfc7489", M7, "nop.example", NULL, {}, SW_AUTH_PERMERROR, NULL, U, U, FALSE, FALSE, FALSE,
    "nop.example", "has no p= and no valid rua=" },
  { "absent-p-with-rua-rfc7489", M7, "noprua.example", NULL, {}, SW_AUTH_FAIL, "p", N, N, FALSE, FALSE, FALSE,
    "noprua.example", NULL },

  /* Strict and relaxed alignment. */
  { "strict-dkim-subdomain-not-aligned", M9, "strict.example", NULL, { "mail.strict.example:pass" }, SW_AUTH_FAIL,
    "p", R, R, FALSE, FALSE, FALSE, "strict.example", NULL },
  { "strict-dkim-subdomain-not-aligned-rfc7489", M7, "strict.example", NULL, { "mail.strict.example:pass" },
    SW_AUTH_FAIL, "p", R, R, FALSE, FALSE, FALSE, "strict.example", NULL },
  { "strict-dkim-exact-any-case", M9, "strict.example", NULL, { "STRICT.Example:pass" }, SW_AUTH_PASS, "p", R, R,
    FALSE, FALSE, TRUE, "strict.example", NULL },
  { "strict-spf-subdomain-not-aligned", M9, "strict.example", "mail.strict.example:pass", {}, SW_AUTH_FAIL, "p", R,
    R, FALSE, FALSE, FALSE, "strict.example", NULL },
  { "relaxed-parent-signs-for-subdomain", M9, "news.bank.example", NULL, { "bank.example:pass" }, SW_AUTH_PASS,
    "sp", N, N, FALSE, FALSE, TRUE, "bank.example", NULL },
  { "relaxed-sibling-rfc7489", M7, "news.bank.example", NULL, { "mail.bank.example:pass" }, SW_AUTH_PASS, "sp", N,
    N, FALSE, FALSE, TRUE, "bank.example", NULL },

  /* Policy selection. */
  { "sp-existing-subdomain", M9, "news.bank.example", NULL, {}, SW_AUTH_FAIL, "sp", N, N, FALSE, FALSE, FALSE,
    "bank.example", NULL },
  { "np-non-existent-subdomain", M9, "ghost.bank.example", NULL, {}, SW_AUTH_FAIL, "np", Q, Q, FALSE, FALSE, FALSE,
    "bank.example", NULL },
  { "np-ignored-rfc7489", M7, "ghost.bank.example", NULL, {}, SW_AUTH_FAIL, "sp", N, N, FALSE, FALSE, FALSE,
    "bank.example", NULL },
  { "sp-when-np-absent", M9, "ghost.nonp.example", NULL, {}, SW_AUTH_FAIL, "sp", Q, Q, FALSE, FALSE, FALSE,
    "nonp.example", NULL },
  { "p-when-sp-np-absent", M9, "ghost.ponly.example", NULL, {}, SW_AUTH_FAIL, "p", Q, Q, FALSE, FALSE, FALSE,
    "ponly.example", NULL },

  { "temperror-existence-test", M9, "sub.exfail.example", NULL, {}, SW_AUTH_TEMPERROR, "p", R, R, FALSE, FALSE,
    FALSE, "exfail.example", "needed to choose between sp= and np=" },
  { "pass-needs-no-existence-answer", M9, "sub.exfail.example", NULL, { "exfail.example:pass" }, SW_AUTH_PASS, "p",
    R, R, FALSE, FALSE, TRUE, "exfail.example", NULL },
  { "sp-name-exists-by-_dmarc-nodata", M9, "nodata.bank.example", NULL, {}, SW_AUTH_FAIL, "sp", N, N, FALSE, FALSE,
    FALSE, "bank.example", NULL },

  /* Test mode and pct. */
  { "pct0-testing", M9, "pct0.example", NULL, {}, SW_AUTH_FAIL, "p", R, N, TRUE, FALSE, FALSE, "pct0.example",
    NULL },
  { "pct0-testing-rfc7489", M7, "pct0.example", NULL, {}, SW_AUTH_FAIL, "p", R, N, TRUE, FALSE, FALSE,
    "pct0.example", NULL },
  { "pct50-full-policy", M9, "pct50.example", NULL, {}, SW_AUTH_FAIL, "p", Q, Q, FALSE, FALSE, FALSE,
    "pct50.example", NULL },
  { "pct50-full-policy-rfc7489", M7, "pct50.example", NULL, {}, SW_AUTH_FAIL, "p", Q, Q, FALSE, FALSE, FALSE,
    "pct50.example", NULL },
  { "t=y-testing", M9, "testing.example", NULL, {}, SW_AUTH_FAIL, "p", R, N, TRUE, FALSE, FALSE, "testing.example",
    NULL },
  { "t=y-unknown-in-rfc7489", M7, "testing.example", NULL, {}, SW_AUTH_FAIL, "p", R, R, FALSE, FALSE, FALSE,
    "testing.example", NULL },
  { "t=n-overrides-pct0", M9, "tn.example", NULL, {}, SW_AUTH_FAIL, "p", R, R, FALSE, FALSE, FALSE, "tn.example",
    NULL },
  { "pass-in-test-mode", M9, "testing.example", "testing.example:pass", {}, SW_AUTH_PASS, "p", R, N, TRUE, TRUE,
    FALSE, "testing.example", NULL },

  /* Record syntax. */
  { "unknown-and-invalid-optional-tags-ignored", M9, "unknown.example", NULL, { "mail.unknown.example:pass" },
    SW_AUTH_PASS, "p", R, R, FALSE, FALSE, TRUE, "unknown.example", NULL },
  { "uppercase-tags-strict", M9, "upper.example", NULL, { "mail.upper.example:pass" }, SW_AUTH_FAIL, "p", R, R,
    FALSE, FALSE, FALSE, "upper.example", NULL },
  { "uppercase-sp", M9, "sub.upper.example", NULL, {}, SW_AUTH_FAIL, "sp", Q, Q, FALSE, FALSE, FALSE,
    "upper.example", NULL },
  { "lowercase-version-is-not-dmarc", M9, "lowerv.example", NULL, {}, SW_AUTH_NONE, NULL, U, U, FALSE, FALSE, FALSE,
    "lowerv.example", NULL },
  { "spf-record-at-_dmarc-ignored", M9, "spfonly.example", NULL, {}, SW_AUTH_NONE, NULL, U, U, FALSE, FALSE, FALSE,
    "spfonly.example", NULL },
  { "version-not-first-is-not-dmarc", M9, "vlast.example", NULL, {}, SW_AUTH_NONE, NULL, U, U, FALSE, FALSE, FALSE,
    "vlast.example", NULL },
  { "character-strings-joined", M9, "split.example", NULL, {}, SW_AUTH_FAIL, "p", R, R, FALSE, FALSE, FALSE,
    "split.example", NULL },
  { "dmarc-record-among-other-txt", M9, "mixed.example", NULL, {}, SW_AUTH_FAIL, "p", Q, Q, FALSE, FALSE, FALSE,
    "mixed.example", NULL },
  { "multiple-records-none", M9, "multi.example", NULL, {}, SW_AUTH_NONE, NULL, U, U, FALSE, FALSE, FALSE,
    "multi.example", "several DMARC records at _dmarc.multi.example" },
  { "multiple-records-none-rfc7489", M7, "multi.example", NULL, {}, SW_AUTH_NONE, NULL, U, U, FALSE, FALSE, FALSE,
    "multi.example", "several DMARC records at _dmarc.multi.example" },
  { "multiple-at-subdomain-walk-goes-on", M9, "sub.multi2.example", NULL, {}, SW_AUTH_FAIL, "p", Q, Q, FALSE, FALSE,
    FALSE, "multi2.example", NULL },
  { "multiple-at-subdomain-stops-rfc7489", M7, "sub.multi2.example", NULL, {}, SW_AUTH_NONE, NULL, U, U, FALSE,
    FALSE, FALSE, "multi2.example", "several DMARC records at _dmarc.sub.multi2.example" },

  /* IDN. */
  { "idn-u-label-author", M9, "bücher.example", NULL, { "xn--bcher-kva.example:pass" }, SW_AUTH_PASS, "p", R, R,
    FALSE, FALSE, TRUE, "xn--bcher-kva.example", NULL },
  { "idn-u-label-identity", M9, "xn--bcher-kva.example", "BÜCHER.example:pass", {}, SW_AUTH_PASS, "p", R, R, FALSE,
    TRUE, FALSE, "xn--bcher-kva.example", NULL },
  { "idn-fail", M9, "BÜCHER.Example", NULL, {}, SW_AUTH_FAIL, "p", R, R, FALSE, FALSE, FALSE,
    "xn--bcher-kva.example", NULL },

  /* RFC 7489 discovery. */
  { "rfc7489-none", M7, "small.example", NULL, {}, SW_AUTH_NONE, NULL, U, U, FALSE, FALSE, FALSE, "small.example",
    "no DMARC record" },
  { "rfc7489-temperror", M7, "slow.example", NULL, {}, SW_AUTH_TEMPERROR, NULL, U, U, FALSE, FALSE, FALSE,
    "slow.example", "DNS timeout looking up _dmarc.slow.example" },
  { "rfc7489-temperror-at-org", M7, "x.slow.example", NULL, {}, SW_AUTH_TEMPERROR, NULL, U, U, FALSE, FALSE, FALSE,
    "slow.example", "DNS timeout looking up _dmarc.slow.example" },
};
/* clang-format on */

static SwDmarcResult *
evaluate (SwResolver *resolver, SwDmarcMode mode, const char *from, const char *spf_spec,
          const char *const *dkim_specs)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SwDmarcEvaluator) e = sw_dmarc_evaluator_new (resolver, mode, &error);
  g_assert_no_error (error);

  SwDmarcIdentity spf = { NULL, SW_AUTH_NONE };
  g_autofree char *spf_domain = NULL;
  if (spf_spec != NULL)
    parse_identity (spf_spec, &spf, &spf_domain);
  SwDmarcIdentity dkim[3] = { 0 };
  char *dkim_domains[3] = { 0 };
  guint n = 0;
  for (; dkim_specs != NULL && n < 3 && dkim_specs[n] != NULL; n++)
    parse_identity (dkim_specs[n], &dkim[n], &dkim_domains[n]);

  SwDmarcResult *r = NULL;
  g_assert_true (sw_dmarc_evaluate (e, from, &spf, dkim, n, &r, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < n; i++)
    g_free (dkim_domains[i]);
  g_assert_nonnull (r);
  return r;
}

static void
test_cases (void)
{
  g_autoptr (SwResolver) resolver = zone_resolver (NULL);
  guint failed = 0;
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const DmarcCase *c = &cases[i];
      guint64 before = sw_resolver_get_query_count (resolver);
      g_autoptr (SwDmarcResult) r = evaluate (resolver, c->mode, c->from, c->spf, c->dkim);
      guint64 made = sw_resolver_get_query_count (resolver) - before;
      g_autoptr (GString) why = g_string_new (NULL);
      /* The evidence lists every query made through the resolver, each once. */
      guint logged = 0;
      for (guint j = 0; j < r->lookups->len; j++)
        if (strstr (g_ptr_array_index (r->lookups, j), "not queried") == NULL)
          logged++;
      if (made != logged)
        g_string_append_printf (why, " %" G_GUINT64_FORMAT " queries made, %u logged;", made, logged);
      if (r->result != c->result)
        g_string_append_printf (why, " result %s (expected %s);", sw_auth_result_to_string (r->result),
                                sw_auth_result_to_string (c->result));
      if (g_strcmp0 (r->policy_tag, c->tag) != 0)
        g_string_append_printf (why, " tag %s (expected %s);", r->policy_tag, c->tag);
      if (r->policy_published != c->published)
        g_string_append_printf (why, " published %s (expected %s);",
                                sw_dmarc_policy_to_string (r->policy_published),
                                sw_dmarc_policy_to_string (c->published));
      if (r->policy_applied != c->applied)
        g_string_append_printf (why, " applied %s (expected %s);",
                                sw_dmarc_policy_to_string (r->policy_applied),
                                sw_dmarc_policy_to_string (c->applied));
      if (r->testing != c->testing)
        g_string_append_printf (why, " testing %d;", r->testing);
      if (r->spf_aligned != c->spf_aligned)
        g_string_append_printf (why, " spf_aligned %d;", r->spf_aligned);
      if (r->dkim_aligned != c->dkim_aligned)
        g_string_append_printf (why, " dkim_aligned %d;", r->dkim_aligned);
      if (g_strcmp0 (r->org_domain, c->org) != 0)
        g_string_append_printf (why, " org %s (expected %s);", r->org_domain, c->org);
      if (r->reason == NULL || (c->reason != NULL && strstr (r->reason, c->reason) == NULL))
        g_string_append_printf (why, " reason \"%s\" (expected \"%s\");", r->reason, c->reason);
      if ((r->record == NULL)
          != (c->result == SW_AUTH_NONE || (c->result == SW_AUTH_TEMPERROR && c->tag == NULL)))
        g_string_append_printf (why, " record %s;", r->record ? "present" : "missing");
      if (r->lookups == NULL || r->lookups->len == 0)
        g_string_append (why, " no lookups logged;");
      if (why->len > 0)
        {
          g_test_message ("case %s:%s", c->name, why->str);
          for (guint j = 0; r->lookups != NULL && j < r->lookups->len; j++)
            g_test_message ("  %s", (const char *)g_ptr_array_index (r->lookups, j));
          failed++;
        }
    }
  if (failed > 0)
    g_test_fail_printf ("%u of %u cases failed (see messages)", failed, (guint)G_N_ELEMENTS (cases));
}

/* Every result and every policy tag appears in the table. */
static void
test_cases_cover (void)
{
  guint results = 0, tags = 0;
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      results |= 1u << cases[i].result;
      if (cases[i].tag != NULL)
        tags |= cases[i].tag[0] == 'p' ? 1 : cases[i].tag[0] == 's' ? 2 : 4;
    }
  g_assert_cmphex (results, ==,
                   (1u << SW_AUTH_PASS) | (1u << SW_AUTH_FAIL) | (1u << SW_AUTH_NONE)
                       | (1u << SW_AUTH_TEMPERROR) | (1u << SW_AUTH_PERMERROR));
  g_assert_cmphex (tags, ==, 7);
}

static void
test_record_fields (void)
{
  g_autoptr (SwResolver) resolver = zone_resolver (NULL);
  g_autoptr (SwDmarcResult) r = evaluate (resolver, M9, "Bank.Example.", NULL, NULL);
  g_assert_cmpstr (r->from_domain, ==, "bank.example");
  g_assert_nonnull (r->record);
  const SwDmarcRecord *rec = r->record;
  g_assert_true (g_str_has_prefix (rec->raw, "v=DMARC1; p=reject; sp=none; np=quarantine"));
  g_assert_cmpstr (rec->domain, ==, "bank.example");
  g_assert_cmpint (rec->p, ==, R);
  g_assert_cmpint (rec->sp, ==, N);
  g_assert_cmpint (rec->np, ==, Q);
  g_assert_cmpint (rec->adkim, ==, 'r');
  g_assert_cmpint (rec->aspf, ==, 'r');
  g_assert_cmpint (rec->pct, ==, -1);
  g_assert_false (rec->testing);
  g_assert_cmpint (rec->psd, ==, 'u');
  g_assert_cmpuint (g_strv_length (rec->rua), ==, 2);
  g_assert_cmpstr (rec->rua[0], ==, "mailto:agg@bank.example");
  g_assert_cmpstr (rec->rua[1], ==, "mailto:dmarc@reports.example");
  g_assert_cmpuint (g_strv_length (rec->ruf), ==, 1);
  g_assert_cmpstr (rec->ruf[0], ==, "mailto:fail@bank.example");

  g_autoptr (SwDmarcResult) r2 = evaluate (resolver, M9, "pct50.example", NULL, NULL);
  g_assert_cmpint (r2->record->pct, ==, 50);
  g_assert_nonnull (r2->record->rua);
  g_assert_null (r2->record->rua[0]);

  g_autoptr (SwDmarcResult) r3 = evaluate (resolver, M9, "upper.example", NULL, NULL);
  g_assert_cmpint (r3->record->adkim, ==, 's');
  g_assert_cmpint (r3->record->aspf, ==, 'r');
  g_assert_cmpint (r3->record->sp, ==, Q);

  /* fo=zz, rf=bogus, pct=abc, adkim=x: each falls back to its default. */
  g_autoptr (SwDmarcResult) r4 = evaluate (resolver, M9, "unknown.example", NULL, NULL);
  g_assert_cmpint (r4->record->pct, ==, -1);
  g_assert_cmpint (r4->record->adkim, ==, 'r');

  g_autoptr (SwDmarcResult) r5 = evaluate (resolver, M9, "testing.example", NULL, NULL);
  g_assert_true (r5->record->testing);
}

static gboolean
lookups_contain (const SwDmarcResult *r, const char *line)
{
  for (guint i = 0; i < r->lookups->len; i++)
    if (g_strcmp0 (g_ptr_array_index (r->lookups, i), line) == 0)
      return TRUE;
  return FALSE;
}

static void
dump_lookups (const SwDmarcResult *r)
{
  for (guint i = 0; i < r->lookups->len; i++)
    g_test_message ("  %s", (const char *)g_ptr_array_index (r->lookups, i));
}

/* The evidence: each query once, in order; the existence test only when np= matters. */
static void
test_lookups (void)
{
  g_autoptr (SwResolver) resolver = zone_resolver (NULL);
  g_autoptr (SwDmarcResult) r = evaluate (resolver, M9, "ghost.bank.example", NULL, NULL);
  dump_lookups (r);
  g_assert_cmpuint (r->lookups->len, ==, 4);
  g_assert_cmpstr (g_ptr_array_index (r->lookups, 0), ==, "_dmarc.ghost.bank.example TXT NXDOMAIN");
  g_assert_cmpstr (g_ptr_array_index (r->lookups, 1), ==, "_dmarc.bank.example TXT NOERROR: 1 DMARC record");
  g_assert_cmpstr (g_ptr_array_index (r->lookups, 2), ==, "_dmarc.example TXT NXDOMAIN");
  g_assert_cmpstr (g_ptr_array_index (r->lookups, 3), ==, "ghost.bank.example A NXDOMAIN");

  /* An existing subdomain: the A query answers, sp= applies. */
  g_autoptr (SwDmarcResult) r2 = evaluate (resolver, M9, "news.bank.example", NULL, NULL);
  g_assert_true (lookups_contain (r2, "news.bank.example A NOERROR"));

  /* No np=: no existence query. */
  g_autoptr (SwDmarcResult) r3 = evaluate (resolver, M9, "ghost.nonp.example", NULL, NULL);
  for (guint i = 0; i < r3->lookups->len; i++)
    g_assert_null (strstr (g_ptr_array_index (r3->lookups, i), " A "));

  /* _dmarc.<name> answered NODATA: the name exists, no A query. */
  g_autoptr (SwDmarcResult) r7 = evaluate (resolver, M9, "nodata.bank.example", NULL, NULL);
  g_assert_true (lookups_contain (r7, "_dmarc.nodata.bank.example TXT NODATA"));
  for (guint i = 0; i < r7->lookups->len; i++)
    g_assert_null (strstr (g_ptr_array_index (r7->lookups, i), " A "));

  /* Several records: logged as such. */
  g_autoptr (SwDmarcResult) r4 = evaluate (resolver, M9, "multi.example", NULL, NULL);
  g_assert_true (lookups_contain (r4, "_dmarc.multi.example TXT NOERROR: 2 DMARC records"));

  /* RFC 7489 mode: the org domain comes from the PSL, one query per name. */
  g_autoptr (SwDmarcResult) r5 = evaluate (resolver, M7, "ghost.bank.example", NULL, NULL);
  dump_lookups (r5);
  g_assert_cmpuint (r5->lookups->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (r5->lookups, 1), ==, "_dmarc.bank.example TXT NOERROR: 1 DMARC record");

  /* Timeouts are logged. */
  g_autoptr (SwDmarcResult) r6 = evaluate (resolver, M9, "slow.example", NULL, NULL);
  g_assert_true (lookups_contain (r6, "_dmarc.slow.example TXT TIMEOUT"));
}

/* A record longer than SW_DMARC_MAX_RECORD is refused: PERMERROR, not a crash or a
 * truncated reading. One byte less is read normally. */
static void
test_record_length_cap (void)
{
  g_autoptr (GString) zone = g_string_new (NULL);
  for (guint over = 0; over < 2; over++)
    {
      g_autoptr (GString) rec = g_string_new ("v=DMARC1; p=reject; rua=mailto:a@long.example; x=");
      while (rec->len < SW_DMARC_MAX_RECORD + over)
        g_string_append_c (rec, 'a');
      g_assert_cmpuint (rec->len, ==, SW_DMARC_MAX_RECORD + over);
      g_string_append_printf (zone, "_dmarc.long%u.example. TXT \"%s\"\n", over, rec->str);
    }
  g_autoptr (SwResolver) resolver = zone_resolver (zone->str);
  g_autoptr (SwDmarcResult) ok = evaluate (resolver, M9, "long0.example", NULL, NULL);
  g_assert_cmpint (ok->result, ==, SW_AUTH_FAIL);
  g_assert_cmpint (ok->policy_published, ==, R);
  g_autoptr (SwDmarcResult) r = evaluate (resolver, M9, "long1.example", NULL, NULL);
  g_assert_cmpint (r->result, ==, SW_AUTH_PERMERROR);
  g_assert_nonnull (strstr (r->reason, "longer than 2048 bytes"));
  g_assert_nonnull (r->record);
}

/* More DNS queries than SW_MAX_DNS_QUERIES_PER_MESSAGE: PERMERROR, and never more
 * queries than the cap. Each signature's d= is its own organizational domain (psd=n
 * below bank.example), so each needs one new query. */
static void
test_query_cap (void)
{
  g_autoptr (GString) zone = g_string_new ("_dmarc.own.bank.example. TXT \"v=DMARC1; p=none; psd=n\"\n");
  g_autoptr (SwResolver) resolver = zone_resolver (zone->str);
  g_autoptr (SwDmarcEvaluator) e = sw_dmarc_evaluator_new (resolver, M9, NULL);
  guint n = SW_MAX_DNS_QUERIES_PER_MESSAGE + 10;
  g_autofree SwDmarcIdentity *ids = g_new0 (SwDmarcIdentity, n);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < n; i++)
    {
      char *d = g_strdup_printf ("s%u.own.bank.example", i);
      g_ptr_array_add (names, d);
      ids[i].domain = d;
      ids[i].result = SW_AUTH_PASS;
    }
  guint64 before = sw_resolver_get_query_count (resolver);
  g_autoptr (SwDmarcResult) r = NULL;
  g_autoptr (GError) error = NULL;
  g_assert_true (sw_dmarc_evaluate (e, "bank.example", NULL, ids, n, &r, &error));
  g_assert_no_error (error);
  guint64 made = sw_resolver_get_query_count (resolver) - before;
  g_test_message ("queries made: %" G_GUINT64_FORMAT ", result %s: %s", made,
                  sw_auth_result_to_string (r->result), r->reason);
  g_assert_cmpuint (made, <=, SW_MAX_DNS_QUERIES_PER_MESSAGE);
  g_assert_cmpint (r->result, ==, SW_AUTH_PERMERROR);
  g_assert_nonnull (strstr (r->reason, "more than 60 DNS queries"));

  /* The same with an aligned signature first: it passes before the cap matters. */
  ids[0].domain = "bank.example";
  g_autoptr (SwDmarcResult) r2 = NULL;
  g_assert_true (sw_dmarc_evaluate (e, "bank.example", NULL, ids, n, &r2, &error));
  g_assert_cmpint (r2->result, ==, SW_AUTH_PASS);
}

static void
test_errors (void)
{
  g_autoptr (SwResolver) resolver = zone_resolver (NULL);
  g_autoptr (SwDmarcEvaluator) e = sw_dmarc_evaluator_new (resolver, M9, NULL);
  static const char *const bad[] = { "", "a..example", ".", "exa mple.com", "a\\b.example" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      SwDmarcResult *r = NULL;
      gboolean ok = sw_dmarc_evaluate (e, bad[i], NULL, NULL, 0, &r, &error);
      if (ok || r != NULL || !g_error_matches (error, SW_DMARC_ERROR, SW_DMARC_ERROR_INVALID_DOMAIN))
        g_error ("case %u (\"%s\"): expected SW_DMARC_ERROR_INVALID_DOMAIN", i, bad[i]);
    }
  g_autoptr (GError) error = NULL;
  SwDmarcResult *r = NULL;
  g_assert_false (sw_dmarc_evaluate (e, NULL, NULL, NULL, 0, &r, &error));
  g_assert_error (error, SW_DMARC_ERROR, SW_DMARC_ERROR_INVALID_DOMAIN);
  g_assert_null (r);
  g_assert_cmpstr (g_quark_to_string (SW_DMARC_ERROR), ==, "sw-dmarc-error-quark");
}

static void
test_policy_strings (void)
{
  g_assert_cmpstr (sw_dmarc_policy_to_string (U), ==, "");
  g_assert_cmpstr (sw_dmarc_policy_to_string (N), ==, "none");
  g_assert_cmpstr (sw_dmarc_policy_to_string (Q), ==, "quarantine");
  g_assert_cmpstr (sw_dmarc_policy_to_string (R), ==, "reject");
}

/* One evaluator shared by threads (bounded: 4 threads x 50 evaluations). */
typedef struct
{
  SwDmarcEvaluator *e;
  guint wrong;
} ThreadData;

static gpointer
thread_main (gpointer data)
{
  ThreadData *td = data;
  static const char *const froms[]
      = { "bank.example", "ghost.bank.example", "news.bank.example", "slow.example" };
  static const SwAuthResult expected[] = { SW_AUTH_PASS, SW_AUTH_FAIL, SW_AUTH_PASS, SW_AUTH_TEMPERROR };
  SwDmarcIdentity dkim = { "bank.example", SW_AUTH_PASS };
  for (guint i = 0; i < 50; i++)
    {
      guint k = i % G_N_ELEMENTS (froms);
      g_autoptr (SwDmarcResult) r = NULL;
      if (!sw_dmarc_evaluate (td->e, froms[k], NULL, k == 1 ? NULL : &dkim, k == 1 ? 0 : 1, &r, NULL)
          || r->result != expected[k])
        g_atomic_int_inc (&td->wrong);
    }
  return NULL;
}

static void
test_threads (void)
{
  g_autoptr (SwResolver) resolver = zone_resolver (NULL);
  ThreadData td = { sw_dmarc_evaluator_new (resolver, M9, NULL), 0 };
  GThread *threads[4];
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("dmarc", thread_main, &td);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  g_assert_cmpuint (td.wrong, ==, 0);
  sw_dmarc_evaluator_free (td.e);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/core/dmarc/evaluate/cases", test_cases);
  g_test_add_func ("/core/dmarc/evaluate/cases-cover-results-and-tags", test_cases_cover);
  g_test_add_func ("/core/dmarc/evaluate/record-fields", test_record_fields);
  g_test_add_func ("/core/dmarc/evaluate/lookups", test_lookups);
  g_test_add_func ("/core/dmarc/limits/record-length", test_record_length_cap);
  g_test_add_func ("/core/dmarc/limits/query-cap", test_query_cap);
  g_test_add_func ("/core/dmarc/evaluate/errors", test_errors);
  g_test_add_func ("/core/dmarc/evaluate/policy-strings", test_policy_strings);
  g_test_add_func ("/core/dmarc/evaluate/threads", test_threads);
  test_orgdomain_register ();
  test_psl_register ();
  return g_test_run ();
}
