/* test-orgdomain.c: the RFC 9989 DNS tree walk (section 4.10) and organizational domain
 * (section 4.10.2) over tests/data/dmarc/orgdomain.zone, the same names by the public
 * suffix list (RFC 7489 mode), and PSD policies (psd=y, np=, t=y) through
 * sw_dmarc_evaluate(). Registered by test-dmarc.c. */
#include "sw-dmarc.h"
#include "sw-orgdomain.h"
#include "sw-limits.h"
#include <string.h>

static SwResolver *
orgdomain_resolver (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "dmarc", "orgdomain.zone", NULL);
  g_autoptr (GError) error = NULL;
  SwResolver *r = sw_resolver_new_zone_file (path, &error);
  g_assert_no_error (error);
  return r;
}

typedef struct
{
  const char *name;
  SwDmarcMode mode;
  const char *domain;
  const char *org;
  const char *queries[9]; /* the _dmarc names asked for, in order; NULL-terminated;
                             { "-" }: not checked */
} OrgCase;

/* clang-format off */
static const OrgCase org_cases[] = {
  { "fewest-labels-wins", SW_DMARC_MODE_RFC9989, "a.b.c.example.com", "example.com",
    { "_dmarc.a.b.c.example.com", "_dmarc.b.c.example.com", "_dmarc.c.example.com", "_dmarc.example.com",
      "_dmarc.com" } },
  { "single-record", SW_DMARC_MODE_RFC9989, "a.b.c.example.net", "b.c.example.net", { "-" } },
  { "psd=n-ends-walk", SW_DMARC_MODE_RFC9989, "a.b.c.example.org", "c.example.org",
    { "_dmarc.a.b.c.example.org", "_dmarc.b.c.example.org", "_dmarc.c.example.org" } },
  { "psd=y-at-one-label-name", SW_DMARC_MODE_RFC9989, "mail.giant.bank", "giant.bank",
    { "_dmarc.mail.giant.bank", "_dmarc.giant.bank", "_dmarc.bank" } },
  { "psd=y-org-without-record", SW_DMARC_MODE_RFC9989, "mail.mega.bank", "mega.bank", { "-" } },
  { "psd=y-deep-name", SW_DMARC_MODE_RFC9989, "x.y.mail.mega.bank", "mega.bank", { "-" } },
  { "psd=y-at-start", SW_DMARC_MODE_RFC9989, "bank", "bank", { "_dmarc.bank" } },
  { "rfc9989-B.4.3-author", SW_DMARC_MODE_RFC9989, "giant.bank.example", "giant.bank.example", { "-" } },
  { "rfc9989-B.4.3-mailfrom", SW_DMARC_MODE_RFC9989, "mail.giant.bank.example", "giant.bank.example", { "-" } },
  { "rfc9989-B.4.3-dkim", SW_DMARC_MODE_RFC9989, "mail.mega.bank.example", "mega.bank.example", { "-" } },
  { "no-record-anywhere", SW_DMARC_MODE_RFC9989, "x.y.example.edu", "x.y.example.edu",
    { "_dmarc.x.y.example.edu", "_dmarc.y.example.edu", "_dmarc.example.edu", "_dmarc.edu" } },
  /* RFC 9989 section 4.10: thirteen labels, eight queries, the second at seven labels. */
  { "long-name-shortened", SW_DMARC_MODE_RFC9989, "a.b.c.d.e.f.g.h.i.j.mail.example.com", "example.com",
    { "_dmarc.a.b.c.d.e.f.g.h.i.j.mail.example.com", "_dmarc.g.h.i.j.mail.example.com",
      "_dmarc.h.i.j.mail.example.com", "_dmarc.i.j.mail.example.com", "_dmarc.j.mail.example.com",
      "_dmarc.mail.example.com", "_dmarc.example.com", "_dmarc.com" } },
  { "nine-labels", SW_DMARC_MODE_RFC9989, "z.a.b.c.d.e.f.example.com", "example.com",
    { "_dmarc.z.a.b.c.d.e.f.example.com", "_dmarc.b.c.d.e.f.example.com", "_dmarc.c.d.e.f.example.com",
      "_dmarc.d.e.f.example.com", "_dmarc.e.f.example.com", "_dmarc.f.example.com", "_dmarc.example.com",
      "_dmarc.com" } },
  { "eight-labels", SW_DMARC_MODE_RFC9989, "a.b.c.d.e.f.example.com", "example.com",
    { "_dmarc.a.b.c.d.e.f.example.com", "_dmarc.b.c.d.e.f.example.com", "_dmarc.c.d.e.f.example.com",
      "_dmarc.d.e.f.example.com", "_dmarc.e.f.example.com", "_dmarc.f.example.com", "_dmarc.example.com",
      "_dmarc.com" } },
  { "case-and-trailing-dot", SW_DMARC_MODE_RFC9989, "A.B.C.Example.COM.", "example.com", { "-" } },

  /* The same names by the public suffix list: no DNS, psd= unknown. */
  { "psl-fewest-labels", SW_DMARC_MODE_RFC7489, "a.b.c.example.com", "example.com", {} },
  { "psl-single-record", SW_DMARC_MODE_RFC7489, "a.b.c.example.net", "example.net", {} },
  { "psl-ignores-psd=n", SW_DMARC_MODE_RFC7489, "a.b.c.example.org", "example.org", {} },
  { "psl-unlisted-tld", SW_DMARC_MODE_RFC7489, "mail.giant.bank", "giant.bank", {} },
  { "psl-psd-unknown", SW_DMARC_MODE_RFC7489, "mail.mega.bank.example", "bank.example", {} },
  { "psl-suffix-itself", SW_DMARC_MODE_RFC7489, "bank", "bank", {} },
  { "psl-two-label-suffix", SW_DMARC_MODE_RFC7489, "co.uk", "co.uk", {} },
  { "psl-long-name", SW_DMARC_MODE_RFC7489, "a.b.c.d.e.f.g.h.i.j.mail.example.com", "example.com", {} },
  { "psl-idn", SW_DMARC_MODE_RFC7489, "www.bücher.example", "xn--bcher-kva.example", {} },
};
/* clang-format on */

static void
test_org_cases (void)
{
  g_autoptr (SwResolver) resolver = orgdomain_resolver ();
  guint failed = 0;
  for (guint i = 0; i < G_N_ELEMENTS (org_cases); i++)
    {
      const OrgCase *c = &org_cases[i];
      g_autoptr (GPtrArray) log = g_ptr_array_new_with_free_func (g_free);
      g_autofree char *org = NULL;
      g_autoptr (GError) error = NULL;
      gboolean ok = sw_orgdomain_lookup (resolver, c->mode, c->domain, &org, log, &error);
      g_autoptr (GString) why = g_string_new (NULL);
      if (!ok)
        g_string_append_printf (why, " error %s;", error->message);
      else if (g_strcmp0 (org, c->org) != 0)
        g_string_append_printf (why, " org %s (expected %s);", org, c->org);
      if (g_strcmp0 (c->queries[0], "-") != 0)
        {
          guint n = 0;
          while (c->queries[n] != NULL)
            n++;
          if (log->len != n)
            g_string_append_printf (why, " %u queries (expected %u);", log->len, n);
          for (guint j = 0; j < MIN (n, log->len); j++)
            if (!g_str_has_prefix (g_ptr_array_index (log, j), c->queries[j])
                || ((const char *)g_ptr_array_index (log, j))[strlen (c->queries[j])] != ' ')
              g_string_append_printf (why, " query %u is %s (expected %s);", j,
                                      (const char *)g_ptr_array_index (log, j), c->queries[j]);
        }
      if (log->len > SW_DMARC_MAX_TREE_WALK)
        g_string_append_printf (why, " %u queries, over the cap;", log->len);
      if (why->len > 0)
        {
          g_test_message ("case %s (%s):%s", c->name, c->domain, why->str);
          for (guint j = 0; j < log->len; j++)
            g_test_message ("  %s", (const char *)g_ptr_array_index (log, j));
          failed++;
        }
    }
  if (failed > 0)
    g_test_fail_printf ("%u of %u cases failed (see messages)", failed, (guint)G_N_ELEMENTS (org_cases));
}

static void
test_org_errors (void)
{
  g_autoptr (SwResolver) resolver = orgdomain_resolver ();
  g_autofree char *org = NULL;
  g_autoptr (GError) error = NULL;
  /* SERVFAIL at _dmarc.c.example.info: the organizational domain cannot be known. */
  g_assert_false (
      sw_orgdomain_lookup (resolver, SW_DMARC_MODE_RFC9989, "a.b.c.example.info", &org, NULL, &error));
  g_assert_error (error, SW_DMARC_ERROR, SW_DMARC_ERROR_DNS_TEMPORARY);
  g_assert_nonnull (strstr (error->message, "_dmarc.c.example.info"));
  g_assert_null (org);
  g_clear_error (&error);
  g_assert_false (sw_orgdomain_lookup (resolver, SW_DMARC_MODE_RFC9989, "a..b", &org, NULL, &error));
  g_assert_error (error, SW_DMARC_ERROR, SW_DMARC_ERROR_INVALID_DOMAIN);
  g_clear_error (&error);
  g_assert_false (sw_orgdomain_lookup (resolver, SW_DMARC_MODE_RFC7489, NULL, &org, NULL, &error));
  g_assert_error (error, SW_DMARC_ERROR, SW_DMARC_ERROR_INVALID_DOMAIN);
}

/* PSD policies through sw_dmarc_evaluate(): psd=y, np=, t=y, and the same names in RFC
 * 7489 mode, where a PSD's record is never found. */
typedef struct
{
  const char *name;
  SwDmarcMode mode;
  const char *from;
  const char *dkim; /* passing d=, or NULL */
  SwAuthResult result;
  const char *org;
  const char *record_domain; /* NULL: no record */
  const char *tag;
  SwDmarcPolicy applied;
  gboolean testing;
} PsdCase;

/* clang-format off */
static const PsdCase psd_cases[] = {
  { "psd-sp-existing", SW_DMARC_MODE_RFC9989, "mail.mega.bank", NULL, SW_AUTH_FAIL, "mega.bank", "bank", "sp",
    SW_DMARC_POLICY_QUARANTINE, FALSE },
  { "psd-np-non-existent", SW_DMARC_MODE_RFC9989, "nx.mega.bank", NULL, SW_AUTH_FAIL, "mega.bank", "bank", "np",
    SW_DMARC_POLICY_REJECT, FALSE },
  { "psd-own-p", SW_DMARC_MODE_RFC9989, "bank", NULL, SW_AUTH_FAIL, "bank", "bank", "p", SW_DMARC_POLICY_REJECT,
    FALSE },
  { "org-record-beats-psd", SW_DMARC_MODE_RFC9989, "mail.giant.bank", NULL, SW_AUTH_FAIL, "giant.bank",
    "giant.bank", "p", SW_DMARC_POLICY_NONE, FALSE },
  { "psd-sibling-not-aligned", SW_DMARC_MODE_RFC9989, "mail.giant.bank", "mail.mega.bank", SW_AUTH_FAIL,
    "giant.bank", "giant.bank", "p", SW_DMARC_POLICY_NONE, FALSE },
  { "psd-same-org-aligned", SW_DMARC_MODE_RFC9989, "mail.giant.bank", "giant.bank", SW_AUTH_PASS, "giant.bank",
    "giant.bank", "p", SW_DMARC_POLICY_NONE, FALSE },
  { "psd-t=y", SW_DMARC_MODE_RFC9989, "shop.trial", NULL, SW_AUTH_FAIL, "shop.trial", "trial", "p",
    SW_DMARC_POLICY_NONE, TRUE },
  { "rfc9989-B.4.3-dkim-not-aligned", SW_DMARC_MODE_RFC9989, "giant.bank.example", "mail.mega.bank.example",
    SW_AUTH_FAIL, "giant.bank.example", "giant.bank.example", "p", SW_DMARC_POLICY_QUARANTINE, FALSE },
  { "rfc9989-B.4.3-mailfrom-aligned", SW_DMARC_MODE_RFC9989, "giant.bank.example", "mail.giant.bank.example",
    SW_AUTH_PASS, "giant.bank.example", "giant.bank.example", "p", SW_DMARC_POLICY_QUARANTINE, FALSE },
  { "walk-np-absent-sp-absent", SW_DMARC_MODE_RFC9989, "x.a.b.c.example.com", NULL, SW_AUTH_FAIL, "example.com",
    "example.com", "p", SW_DMARC_POLICY_REJECT, FALSE },
  { "walk-psd=n-record", SW_DMARC_MODE_RFC9989, "a.b.c.example.org", NULL, SW_AUTH_FAIL, "c.example.org",
    "c.example.org", "p", SW_DMARC_POLICY_QUARANTINE, FALSE },
  { "walk-long-name", SW_DMARC_MODE_RFC9989, "a.b.c.d.e.f.g.h.i.j.mail.example.com", "example.com", SW_AUTH_PASS,
    "example.com", "example.com", "p", SW_DMARC_POLICY_REJECT, FALSE },
  { "walk-servfail", SW_DMARC_MODE_RFC9989, "a.b.c.example.info", NULL, SW_AUTH_TEMPERROR, NULL, NULL, NULL,
    SW_DMARC_POLICY_UNSET, FALSE },

  /* RFC 7489 mode: no tree walk, no PSD. */
  { "rfc7489-psd-unknown", SW_DMARC_MODE_RFC7489, "nx.mega.bank", NULL, SW_AUTH_NONE, "mega.bank", NULL, NULL,
    SW_DMARC_POLICY_UNSET, FALSE },
  { "rfc7489-psd-t=y-unknown", SW_DMARC_MODE_RFC7489, "shop.trial", NULL, SW_AUTH_NONE, "shop.trial", NULL, NULL,
    SW_DMARC_POLICY_UNSET, FALSE },
  { "rfc7489-org-record", SW_DMARC_MODE_RFC7489, "mail.giant.bank", "giant.bank", SW_AUTH_PASS, "giant.bank",
    "giant.bank", "p", SW_DMARC_POLICY_NONE, FALSE },
  { "rfc7489-sibling-aligned", SW_DMARC_MODE_RFC7489, "giant.bank.example", "mail.mega.bank.example", SW_AUTH_PASS,
    "bank.example", "giant.bank.example", "p", SW_DMARC_POLICY_QUARANTINE, FALSE },
  { "rfc7489-psd=n-ignored", SW_DMARC_MODE_RFC7489, "a.b.c.example.org", NULL, SW_AUTH_FAIL, "example.org",
    "example.org", "p", SW_DMARC_POLICY_REJECT, FALSE },
  { "rfc7489-servfail-not-on-path", SW_DMARC_MODE_RFC7489, "a.b.c.example.info", NULL, SW_AUTH_NONE,
    "example.info", NULL, NULL, SW_DMARC_POLICY_UNSET, FALSE },
};
/* clang-format on */

static void
test_psd_cases (void)
{
  g_autoptr (SwResolver) resolver = orgdomain_resolver ();
  guint failed = 0;
  for (guint i = 0; i < G_N_ELEMENTS (psd_cases); i++)
    {
      const PsdCase *c = &psd_cases[i];
      g_autoptr (GError) error = NULL;
      g_autoptr (SwDmarcEvaluator) e = sw_dmarc_evaluator_new (resolver, c->mode, &error);
      g_assert_no_error (error);
      SwDmarcIdentity dkim = { c->dkim, SW_AUTH_PASS };
      g_autoptr (SwDmarcResult) r = NULL;
      g_assert_true (sw_dmarc_evaluate (e, c->from, NULL, &dkim, c->dkim ? 1 : 0, &r, &error));
      g_assert_no_error (error);
      g_autoptr (GString) why = g_string_new (NULL);
      if (r->result != c->result)
        g_string_append_printf (why, " result %s;", sw_auth_result_to_string (r->result));
      if (g_strcmp0 (r->org_domain, c->org) != 0)
        g_string_append_printf (why, " org %s;", r->org_domain);
      if (g_strcmp0 (r->record ? r->record->domain : NULL, c->record_domain) != 0)
        g_string_append_printf (why, " record at %s;", r->record ? r->record->domain : "(none)");
      if (g_strcmp0 (r->policy_tag, c->tag) != 0)
        g_string_append_printf (why, " tag %s;", r->policy_tag);
      if (r->policy_applied != c->applied)
        g_string_append_printf (why, " applied %s;", sw_dmarc_policy_to_string (r->policy_applied));
      if (r->testing != c->testing)
        g_string_append_printf (why, " testing %d;", r->testing);
      if (why->len > 0)
        {
          g_test_message ("case %s:%s (%s)", c->name, why->str, r->reason);
          for (guint j = 0; j < r->lookups->len; j++)
            g_test_message ("  %s", (const char *)g_ptr_array_index (r->lookups, j));
          failed++;
        }
    }
  if (failed > 0)
    g_test_fail_printf ("%u of %u cases failed (see messages)", failed, (guint)G_N_ELEMENTS (psd_cases));
}

void test_orgdomain_register (void);

void
test_orgdomain_register (void)
{
  g_test_add_func ("/core/dmarc/orgdomain/cases", test_org_cases);
  g_test_add_func ("/core/dmarc/orgdomain/errors", test_org_errors);
  g_test_add_func ("/core/dmarc/orgdomain/psd-policy", test_psd_cases);
}
