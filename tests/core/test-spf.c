#define G_LOG_DOMAIN "sw-spf-test"
/* test-spf: unit cases of core/spf over the zone backend of SwResolver. */
#include <netdb.h>
#include <arpa/nameser.h>
#include <string.h>
#include <spf2/spf.h>
#include "sw-spf.h"
#include "sw-spf-private.h"
#include "sw-limits.h"

/* 127 macros take libspf2's compiled term to 508 of 511 bytes; the literal after them is
 * then copied with an underflowed bound (CVE-2023-42118) over the 4 KiB stack buffer. */
static char *
crafted_record (guint literal)
{
  GString *s = g_string_new ("v=spf1 a:");
  for (int i = 0; i < 127; i++)
    g_string_append (s, "%{d}");
  for (guint i = 0; i < literal; i++)
    g_string_append_c (s, 'x');
  g_string_append (s, ".example.com -all");
  return g_string_free (s, FALSE);
}

/* Zone text: TXT strings longer than 255 are split by the zone parser. */
static char *
zone_text (void)
{
  g_autofree char *crafted = crafted_record (3000); /* under SW_SPF_MAX_RECORD */
  g_autoptr (GString) toolong = g_string_new ("v=spf1");
  while (toolong->len <= SW_SPF_MAX_RECORD)
    g_string_append (toolong, " ip4:192.0.2.1");
  g_string_append (toolong, " -all");
  return g_strdup_printf (
    "example.com. TXT \"v=spf1 ip4:93.184.216.0/24 include:inc.example.net -all\"\n"
    "inc.example.net. TXT \"v=spf1 ip4:151.101.1.7 -all\"\n"
    "redir.example.org. TXT \"v=spf1 redirect=example.com\"\n"
    "helo.example.com. TXT \"v=spf1 a -all\"\n"
    "helo.example.com. A 93.184.216.9\n"
    "soft.example.com. TXT \"v=spf1 ~all\"\n"
    "nospf.example.com. TXT \"hello world\"\n"
    "servfail.example.com. SERVFAIL TXT\n"
    "timeout.example.com. TIMEOUT TXT\n"
    "inctimeout.example.com. TXT \"v=spf1 include:timeout.example.com -all\"\n"
    "void.example.com. TXT \"v=spf1 a:n1.example.com a:n2.example.com a:n3.example.com +all\"\n"
    "void2.example.com. TXT \"v=spf1 a:n1.example.com a:n2.example.com +all\"\n"
    "exp.example.com. TXT \"v=spf1 -all exp=why.example.com\"\n"
    "why.example.com. TXT \"%%{i} is not one of %%{d}'s servers\"\n"
    "cve.example.com. TXT \"%s\"\n"
    "cveinc.example.com. TXT \"v=spf1 include:cve.example.com +all\"\n"
    "toolong.example.com. TXT \"%s\"\n"
    "badmacro.example.com. TXT \"v=spf1 a:%%{z}.example.com -all\"\n"
    /* RFC 7208 5.5: a DNS error on a PTR name's addresses skips that name */
    "20.1.101.151.in-addr.arpa. PTR broken.ptrskip.example.com.\n"
    "20.1.101.151.in-addr.arpa. PTR host.ptrskip.example.com.\n"
    "broken.ptrskip.example.com. SERVFAIL A\n"
    "host.ptrskip.example.com. A 151.101.1.20\n"
    "ptrskip.example.com. TXT \"v=spf1 ptr -all\"\n"
    /* ... but on an MX host's addresses it is a temperror */
    "mxfail.example.com. TXT \"v=spf1 mx -all\"\n"
    "mxfail.example.com. MX 10 broken.ptrskip.example.com.\n"
    "mx0fail.example.com. TXT \"v=spf1 mx/0 -all\"\n"
    "mx0fail.example.com. MX 10 broken.ptrskip.example.com.\n"
    /* RFC 7208 4.6.4: 10 DNS mechanisms over the whole evaluation (ptr and include too) */
    "lim10.example.com. TXT \"v=spf1 ptr ptr ptr ptr ptr include:inc4.example.com +all\"\n"
    "lim11.example.com. TXT \"v=spf1 ptr ptr ptr ptr ptr include:inc5.example.com +all\"\n"
    "inc4.example.com. TXT \"v=spf1 a a a a ?all\"\n"
    "inc4.example.com. A 151.101.1.99\n"
    "inc5.example.com. TXT \"v=spf1 a a a a a ?all\"\n"
    "inc5.example.com. A 151.101.1.99\n"
    /* a name in the form of our lookup marks, from DNS, is just a name */
    "forged.example.com. TXT \"v=spf1 exists:forged.example.com.a6any.sw0123456789abcdef.invalid -all\"\n"
    "forged.example.com. AAAA 2001:db8::1\n"
    /* a/0 for IPv4 = "has an A record"; a//0 for IPv6 = "has an AAAA record" */
    "zero.example.com. TXT \"v=spf1 a/0 a//0 -all\"\n"
    "zero.example.com. A 93.184.216.1\n"
    "zero6.example.com. TXT \"v=spf1 a//0 -all\"\n"
    "zero6.example.com. A 93.184.216.1\n"
    /* names with octets outside LDH: a macro expanding to a space, MX hosts with escapes */
    "escmacro.example.com. TXT \"v=spf1 a:sp%%_ace.example.com -all\"\n"
    "sp\\032ace.example.com. A 151.101.1.31\n"
    "escmx.example.com. TXT \"v=spf1 mx -all\"\n"
    "escmx.example.com. MX 10 mx\\032host.example.com.\n"
    "mx\\032host.example.com. A 151.101.1.32\n"
    "dotmx.example.com. TXT \"v=spf1 mx -all\"\n"
    "dotmx.example.com. MX 10 mx\\.dot.example.com.\n"
    "mx\\.dot.example.com. A 151.101.1.33\n"
    "mx.dot.example.com. A 151.101.1.34\n"
    /* explanations expanded by our code: redirect sets %{d}, upper-case letters escape */
    "expredir.example.org. TXT \"v=spf1 redirect=exp.example.com\"\n"
    "expmacros.example.com. TXT \"v=spf1 -all exp=whym.%%{d}\"\n"
    "whym.expmacros.example.com. TXT \"%%{L} at %%{d2} from %%{c} (%%{ir}.%%{v}) via %%{h}: %%{S}%%%%%%-\"\n"
    "expnone.example.com. TXT \"v=spf1 -all exp=nothere.example.com\"\n"
    "exptwo.example.com. TXT \"v=spf1 -all exp=two.example.com\"\n"
    "two.example.com. TXT \"one\"\n"
    "two.example.com. TXT \"two\"\n",
    crafted, toolong->str);
}

static SwResolver *
new_resolver (void)
{
  g_autofree char *text = zone_text ();
  g_autoptr (GError) error = NULL;
  SwResolver *r = sw_resolver_new_zone_text (text, &error);
  g_assert_no_error (error);
  return r;
}

typedef struct {
  const char  *name;
  gboolean     helo_identity;
  const char  *ip;
  const char  *helo;
  const char  *mail_from;
  SwAuthResult result;
  const char  *domain;       /* NULL: not checked */
  const char  *reason_part;  /* substring of the reason; NULL: not checked */
  const char  *mail_from_checked;
} Case;

static const Case cases[] = {
  { "pass-ip4", FALSE, "93.184.216.5", "mx.example.com", "a@example.com", SW_AUTH_PASS, "example.com",
    "matched ip4:93.184.216.0/24", "a@example.com" },
  { "pass-include", FALSE, "151.101.1.7", "mx", "a@example.com", SW_AUTH_PASS, "example.com", NULL, NULL },
  { "fail-default", FALSE, "151.101.1.8", "mx", "a@example.com", SW_AUTH_FAIL, "example.com", NULL, NULL },
  { "pass-redirect", FALSE, "93.184.216.5", "mx", "b@redir.example.org", SW_AUTH_PASS, "redir.example.org", NULL,
    NULL },
  { "softfail", FALSE, "151.101.1.8", "mx", "b@soft.example.com", SW_AUTH_SOFTFAIL, NULL, "default ~all", NULL },
  { "none-no-record", FALSE, "151.101.1.8", "mx", "b@nospf.example.com", SW_AUTH_NONE, NULL, "no SPF record",
    NULL },
  { "none-nxdomain", FALSE, "151.101.1.8", "mx", "b@nowhere.example.com", SW_AUTH_NONE, NULL, NULL, NULL },
  { "null-sender", FALSE, "93.184.216.9", "helo.example.com", "", SW_AUTH_PASS, "helo.example.com", NULL,
    "postmaster@helo.example.com" },
  { "null-sender-NULL", FALSE, "151.101.1.1", "helo.example.com", NULL, SW_AUTH_FAIL, "helo.example.com", NULL,
    "postmaster@helo.example.com" },
  { "null-sender-no-helo", FALSE, "151.101.1.1", NULL, "", SW_AUTH_NONE, NULL, "not evaluated", NULL },
  { "helo-identity-pass", TRUE, "93.184.216.9", "helo.example.com", NULL, SW_AUTH_PASS, "helo.example.com", NULL,
    "postmaster@helo.example.com" },
  { "helo-identity-fail", TRUE, "151.101.1.9", "helo.example.com", NULL, SW_AUTH_FAIL, "helo.example.com", NULL,
    NULL },
  { "helo-identity-not-fqdn", TRUE, "151.101.1.9", "localhost", NULL, SW_AUTH_NONE, NULL, NULL, NULL },
  { "helo-identity-literal", TRUE, "151.101.1.9", "[151.101.1.9]", NULL, SW_AUTH_NONE, NULL, NULL, NULL },
  { "servfail", FALSE, "151.101.1.8", "mx", "a@servfail.example.com", SW_AUTH_TEMPERROR, NULL,
    "DNS failure for servfail.example.com", NULL },
  { "timeout", FALSE, "151.101.1.8", "mx", "a@timeout.example.com", SW_AUTH_TEMPERROR, NULL,
    "DNS timeout for timeout.example.com", NULL },
  { "timeout-in-include", FALSE, "151.101.1.8", "mx", "a@inctimeout.example.com", SW_AUTH_TEMPERROR, NULL,
    "DNS timeout for timeout.example.com", NULL },
  { "void-over-limit", FALSE, "151.101.1.8", "mx", "a@void.example.com", SW_AUTH_PERMERROR, NULL,
    "too many void lookups", NULL },
  { "void-at-limit", FALSE, "151.101.1.8", "mx", "a@void2.example.com", SW_AUTH_PASS, NULL, NULL, NULL },
  { "cve-2023-42118-record", FALSE, "151.101.1.8", "mx", "a@cve.example.com", SW_AUTH_PERMERROR,
    "cve.example.com", "refused for cve.example.com: term too long", NULL },
  { "cve-2023-42118-include", FALSE, "151.101.1.8", "mx", "a@cveinc.example.com", SW_AUTH_PERMERROR, NULL,
    "refused for cve.example.com", NULL },
  { "record-over-cap", FALSE, "151.101.1.8", "mx", "a@toolong.example.com", SW_AUTH_PERMERROR, NULL,
    "record too long", NULL },
  { "bad-macro-letter", FALSE, "151.101.1.8", "mx", "a@badmacro.example.com", SW_AUTH_PERMERROR, NULL,
    "unknown macro letter", NULL },
  { "ptr-dns-error-skipped", FALSE, "151.101.1.20", "mx", "a@ptrskip.example.com", SW_AUTH_PASS, NULL, NULL,
    NULL },
  { "mx-host-dns-error", FALSE, "151.101.1.20", "mx", "a@mxfail.example.com", SW_AUTH_TEMPERROR, NULL,
    "DNS failure for broken.ptrskip.example.com", NULL },
  { "mx0-host-dns-error", FALSE, "151.101.1.20", "mx", "a@mx0fail.example.com", SW_AUTH_TEMPERROR, NULL,
    "DNS failure for broken.ptrskip.example.com", NULL },
  { "mech-limit-10", FALSE, "151.101.1.20", "mx", "a@lim10.example.com", SW_AUTH_PASS, NULL, NULL, NULL },
  { "mech-limit-11", FALSE, "151.101.1.20", "mx", "a@lim11.example.com", SW_AUTH_PERMERROR, NULL,
    "too many DNS lookups", NULL },
  { "forged-mark", FALSE, "2001:4860::1", "mx", "a@forged.example.com", SW_AUTH_FAIL, NULL, NULL, NULL },
  { "a0-ip4", FALSE, "151.101.1.30", "mx", "a@zero.example.com", SW_AUTH_PASS, NULL, NULL, NULL },
  { "a0-ip6-no-aaaa", FALSE, "2001:4860::1", "mx", "a@zero6.example.com", SW_AUTH_FAIL, NULL, NULL, NULL },
  { "escaped-macro-name", FALSE, "151.101.1.31", "mx", "a@escmacro.example.com", SW_AUTH_PASS, NULL, NULL, NULL },
  { "escaped-mx-host", FALSE, "151.101.1.32", "mx", "a@escmx.example.com", SW_AUTH_PASS, NULL, NULL, NULL },
  /* "mx\.dot" (a dot inside the label) cannot be handed to libspf2: skipped, and never
   * confused with mx.dot.example.com */
  { "dot-in-label-mx-skipped", FALSE, "151.101.1.33", "mx", "a@dotmx.example.com", SW_AUTH_FAIL, NULL, NULL, NULL },
  { "dot-in-label-mx-not-confused", FALSE, "151.101.1.34", "mx", "a@dotmx.example.com", SW_AUTH_FAIL, NULL, NULL,
    NULL },
  { "loopback-v4", FALSE, "127.0.0.1", "mx", "a@example.com", SW_AUTH_NONE, NULL,
    "not evaluated: 127.0.0.1 is a private or loopback address", NULL },
  { "loopback-v6", FALSE, "::1", "mx", "a@example.com", SW_AUTH_NONE, NULL, "not evaluated", NULL },
  { "loopback-mapped", FALSE, "::ffff:127.0.0.1", "mx", "a@example.com", SW_AUTH_NONE, NULL, "not evaluated", NULL },
  { "private-10", FALSE, "10.1.2.3", "mx", "a@example.com", SW_AUTH_NONE, NULL, "not evaluated", NULL },
  { "private-192-168", FALSE, "192.168.1.20", "mx", "a@example.com", SW_AUTH_NONE, NULL, "not evaluated", NULL },
  { "private-ula", FALSE, "fd00::1", "mx", "a@example.com", SW_AUTH_NONE, NULL, "not evaluated", NULL },
  { "private-helo", TRUE, "172.16.0.1", "helo.example.com", NULL, SW_AUTH_NONE, NULL, "not evaluated", NULL },
  { "not-an-ip", FALSE, "mail.example.com", "mx", "a@example.com", SW_AUTH_NONE, NULL, "is not an IP address",
    NULL },
};

static SwSpfResult *
run (SwSpfChecker *checker, const Case *c)
{
  g_autoptr (GError) error = NULL;
  SwSpfResult *r = NULL;
  gboolean ok = c->helo_identity ? sw_spf_check_helo (checker, c->ip, c->helo, &r, &error)
                                 : sw_spf_check_mailfrom (checker, c->ip, c->helo, c->mail_from, &r, &error);
  if (!ok)
    g_error ("case %s: could not run: %s", c->name, error->message);
  return r;
}

static void
check_case (const Case *c, const SwSpfResult *r)
{
  if (r->result != c->result)
    g_error ("case %s: result %s (reason %s), expected %s", c->name, sw_auth_result_to_string (r->result),
             r->reason, sw_auth_result_to_string (c->result));
  if (r->reason == NULL)
    g_error ("case %s: no reason", c->name);
  if (c->reason_part != NULL && strstr (r->reason, c->reason_part) == NULL)
    g_error ("case %s: reason \"%s\" lacks \"%s\"", c->name, r->reason, c->reason_part);
  if (c->domain != NULL && g_strcmp0 (r->domain, c->domain) != 0)
    g_error ("case %s: domain %s, expected %s", c->name, r->domain, c->domain);
  if (c->mail_from_checked != NULL && g_strcmp0 (r->mail_from, c->mail_from_checked) != 0)
    g_error ("case %s: mail_from %s, expected %s", c->name, r->mail_from, c->mail_from_checked);
  if (g_strcmp0 (r->identity, c->helo_identity ? "helo" : "mailfrom") != 0)
    g_error ("case %s: identity %s", c->name, r->identity);
}

static void
test_cases (void)
{
  g_autoptr (SwResolver) resolver = new_resolver ();
  g_autoptr (GError) error = NULL;
  g_autoptr (SwSpfChecker) checker = sw_spf_checker_new (resolver, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (SwSpfResult) r = run (checker, &cases[i]);
      check_case (&cases[i], r);
    }
}

static void
test_non_public_never_queried (void)
{
  g_autoptr (SwResolver) resolver = new_resolver ();
  g_autoptr (SwSpfChecker) checker = sw_spf_checker_new (resolver, NULL);
  g_assert_nonnull (checker);
  guint64 before = sw_resolver_get_query_count (resolver);
  g_autoptr (SwSpfResult) r = NULL;
  g_assert_true (sw_spf_check_mailfrom (checker, "10.0.0.1", "mx", "a@example.com", &r, NULL));
  g_assert_cmpint (r->result, ==, SW_AUTH_NONE);
  g_assert_cmpuint (sw_resolver_get_query_count (resolver), ==, before);

  /* Even in lab mode, loopback is never handed to libspf2 (it would "pass"). */
  sw_spf_checker_set_evaluate_non_public (checker, TRUE);
  g_clear_pointer (&r, sw_spf_result_free);
  g_assert_true (sw_spf_check_mailfrom (checker, "127.0.0.1", "mx", "a@example.com", &r, NULL));
  g_assert_cmpint (r->result, ==, SW_AUTH_NONE);
  g_clear_pointer (&r, sw_spf_result_free);
  g_assert_true (sw_spf_check_mailfrom (checker, "10.0.0.1", "mx", "a@example.com", &r, NULL));
  g_assert_cmpint (r->result, ==, SW_AUTH_FAIL);
}

static void
test_explanation (void)
{
  g_autoptr (SwResolver) resolver = new_resolver ();
  g_autoptr (SwSpfChecker) checker = sw_spf_checker_new (resolver, NULL);
  g_autoptr (SwSpfResult) r = NULL;
  g_assert_true (sw_spf_check_mailfrom (checker, "151.101.1.8", "mx", "a@exp.example.com", &r, NULL));
  g_assert_cmpint (r->result, ==, SW_AUTH_FAIL);
  g_assert_cmpstr (r->explanation, ==, "151.101.1.8 is not one of exp.example.com's servers");
  g_assert_cmpstr (r->record, ==, "v=spf1 -all exp=why.example.com");

  g_clear_pointer (&r, sw_spf_result_free);
  g_assert_true (sw_spf_check_mailfrom (checker, "151.101.1.8", "mx", "a@example.com", &r, NULL));
  g_assert_cmpint (r->result, ==, SW_AUTH_FAIL);
  /* Our default explanation, never libspf2's openspf.org one. */
  g_assert_cmpstr (r->explanation, ==, "example.com does not authorize 151.101.1.8 to send mail as a@example.com");

  static const struct {
    const char *ip;
    const char *mail_from;
    const char *explanation;
  } cases[] = {
    /* %{d} of a redirected record is the redirect target (RFC 7208 6.1) */
    { "151.101.1.8", "a@expredir.example.org", "151.101.1.8 is not one of exp.example.com's servers" },
    /* the IPv6 default explanation shows the address, not 32 nibbles */
    { "2001:4860::1", "a@example.com", "example.com does not authorize 2001:4860::1 to send mail as a@example.com" },
    { "151.101.1.8", "jo&ann@expmacros.example.com",
      "jo%26ann at example.com from 151.101.1.8 (8.1.101.151.in-addr) via mx.example.net: "
      "jo%26ann%40expmacros.example.com%%20" },
    { "2001:4860::1", "Jo@expmacros.example.com",
      "Jo at example.com from 2001:4860::1 (1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.8.4.1.0.0.2.ip6) "
      "via mx.example.net: Jo%40expmacros.example.com%%20" },
    /* no TXT at the exp= name, or two: the default explanation (RFC 7208 6.2) */
    { "151.101.1.8", "a@expnone.example.com",
      "expnone.example.com does not authorize 151.101.1.8 to send mail as a@expnone.example.com" },
    { "151.101.1.8", "a@exptwo.example.com",
      "exptwo.example.com does not authorize 151.101.1.8 to send mail as a@exptwo.example.com" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (SwSpfResult) res = NULL;
      g_autoptr (GError) error = NULL;
      if (!sw_spf_check_mailfrom (checker, cases[i].ip, "mx.example.net", cases[i].mail_from, &res, &error))
        g_error ("case %u: %s", i, error->message);
      if (res->result != SW_AUTH_FAIL || g_strcmp0 (res->explanation, cases[i].explanation) != 0)
        g_error ("case %u (%s): %s \"%s\", expected fail \"%s\"", i, cases[i].mail_from,
                 sw_auth_result_to_string (res->result), res->explanation, cases[i].explanation);
    }
}

static const char *
fake_validated_name (gpointer user_data)
{
  guint *calls = user_data;
  (*calls)++;
  return "mx.example.com";
}

/* sw_spf_expand_explanation() alone: the examples of RFC 7208 section 7.4 and the rest of
 * the grammar. */
static void
test_expander (void)
{
  static const guint8 ip4[4] = { 192, 0, 2, 3 };
  static const guint8 ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xcb, 0x01 };
  guint p_calls = 0;
  SwSpfMacroVars v4 = {
    .sender = "strong-bad@email.example.com",
    .local_part = "strong-bad",
    .sender_domain = "email.example.com",
    .domain = "email.example.com",
    .helo = "mx.example.org",
    .receiver = "unknown",
    .ip = ip4,
    .ip_len = 4,
    .now = 1700000000,
    .get_validated_name = fake_validated_name,
    .user_data = &p_calls,
  };
  SwSpfMacroVars v6 = v4;
  v6.ip = ip6;
  v6.ip_len = 16;
  static const struct {
    gboolean    ipv6;
    const char *text;
    const char *want; /* NULL: refused */
  } cases[] = {
    { FALSE, "%{s}", "strong-bad@email.example.com" },
    { FALSE, "%{o}", "email.example.com" },
    { FALSE, "%{d}", "email.example.com" },
    { FALSE, "%{d4}", "email.example.com" },
    { FALSE, "%{d3}", "email.example.com" },
    { FALSE, "%{d2}", "example.com" },
    { FALSE, "%{d1}", "com" },
    { FALSE, "%{dr}", "com.example.email" },
    { FALSE, "%{d2r}", "example.email" },
    { FALSE, "%{l}", "strong-bad" },
    { FALSE, "%{l-}", "strong.bad" },
    { FALSE, "%{lr}", "strong-bad" },
    { FALSE, "%{lr-}", "bad.strong" },
    { FALSE, "%{l1r-}", "strong" },
    { FALSE, "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com" },
    { FALSE, "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com" },
    { FALSE, "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com" },
    { FALSE, "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com" },
    { FALSE, "%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net" },
    { TRUE, "%{ir}.%{v}._spf.%{d2}", "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6._spf.example.com" },
    { TRUE, "%{c} %{i1}", "2001:db8::cb01 1" },
    { FALSE, "%{c} %{v} %{h} %{r} %{t}", "192.0.2.3 in-addr mx.example.org unknown 1700000000" },
    { FALSE, "%{l+-=}", "strong.bad" },
    { FALSE, "%{s=}", "strong-bad@email.example.com" }, /* split on '=' only */
    { FALSE, "%{s@}", NULL },                           /* '@' is no delimiter */
    /* upper case: URL-escaped with upper-case hex, RFC 3986 unreserved kept */
    { FALSE, "%{S}", "strong-bad%40email.example.com" },
    { TRUE, "%{C}", "2001%3Adb8%3A%3Acb01" },
    { FALSE, "%{D2R}", "example.email" },
    { FALSE, "a%%b%_c%-d", "a%b c%20d" },
    { FALSE, "connect from %{p} (%{P})", "connect from mx.example.com (mx.example.com)" },
    { FALSE, "", "" },
    { FALSE, "%{z}", NULL },
    { FALSE, "%{d0}", NULL },
    { FALSE, "%{d1234}", NULL },
    { FALSE, "%{d", NULL },
    { FALSE, "%{dx}", NULL },
    { FALSE, "%x", NULL },
    { FALSE, "50%", NULL },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = sw_spf_expand_explanation (cases[i].text, cases[i].ipv6 ? &v6 : &v4);
      if (g_strcmp0 (got, cases[i].want) != 0)
        g_error ("case %u (%s): got \"%s\", want \"%s\"", i, cases[i].text, got ? got : "(refused)",
                 cases[i].want ? cases[i].want : "(refused)");
    }
  /* %{p} costs DNS lookups: asked only when expanded (twice above). */
  g_assert_cmpuint (p_calls, ==, 2);

  /* The expansion is capped. */
  g_autoptr (GString) many = g_string_new (NULL);
  for (guint i = 0; i < 16; i++)
    g_string_append (many, "%{S}");
  g_autofree char *long_local = g_strnfill (200, '&');
  SwSpfMacroVars big = v4;
  big.sender = long_local;
  g_autofree char *capped = sw_spf_expand_explanation (many->str, &big);
  g_assert_cmpuint (strlen (capped), ==, SW_SPF_MAX_EXPANDED_EXPLANATION);
}

/* The guard itself, table-driven. */
static void
test_record_guard (void)
{
  static const struct {
    const char *record;
    gboolean    ok;
  } records[] = {
    { "v=spf1 -all", TRUE },
    { "v=spf1 include:_spf.example.com ~all", TRUE },
    { "v=spf1 a:%{d}.example.com mx:%{l1r-}.x.example.com/24//64 -all", TRUE },
    { "v=spf1 exists:%{i}._ip.%{h}._ehlo.%{d} -all", TRUE },
    { "v=spf1 a:%{c}.example.com", FALSE },    /* c only in exp */
    { "v=spf1 a:%{d0}.example.com", FALSE },   /* DIGIT must be non-zero */
    { "v=spf1 a:%{d129}.example.com", FALSE },
    { "v=spf1 a:%{d1234}.example.com", FALSE },
    { "v=spf1 a:%x.example.com", FALSE },
    { "v=spf1 a:example.com%", FALSE },
    { "v=spf1 a:%{d.example.com", FALSE },
    { "v=spf1 a:example.com/33", FALSE },
    { "v=spf1 ip4:1.2.3.4/032", FALSE },
    { "v=spf1 ip6:::1/129", FALSE },
    { "v=spf1 redirect=a.example.com redirect=b.example.com", FALSE },
    { "v=spf1 foo=%{d}%{d}", TRUE },
    { "v=spf1 a:\x01.example.com", FALSE },
  };
  for (guint i = 0; i < G_N_ELEMENTS (records); i++)
    {
      g_autofree char *why = NULL;
      gboolean ok = sw_spf_record_is_acceptable (records[i].record, &why);
      if (ok != records[i].ok)
        g_error ("record %u \"%s\": %s (%s)", i, records[i].record, ok ? "accepted" : "refused", why);
      g_assert_true (ok == (why == NULL));
    }

  /* The CVE-2023-42118 trigger and its neighbours: over the macro cap, over the term cap. */
  g_autofree char *crafted = crafted_record (3000);
  g_autofree char *why = NULL;
  g_assert_false (sw_spf_record_is_acceptable (crafted, &why));
  g_assert_cmpstr (why, ==, "term too long");
  g_autoptr (GString) many = g_string_new ("v=spf1 a:");
  for (guint i = 0; i <= SW_SPF_MAX_MACROS_PER_TERM; i++)
    g_string_append (many, "%{d}");
  g_assert_false (sw_spf_record_is_acceptable (many->str, NULL));
  g_autoptr (GString) at_cap = g_string_new ("v=spf1 a:");
  for (guint i = 0; i < SW_SPF_MAX_MACROS_PER_TERM; i++)
    g_string_append (at_cap, "%{d}");
  g_assert_true (sw_spf_record_is_acceptable (at_cap->str, NULL));
  /* Worst case under the caps: 16 macros each after a one-character literal, the rest
   * "%-" (3 bytes each): accepted, and provably below libspf2's limit (static assert). */
  g_autoptr (GString) dense = g_string_new ("v=spf1 a:");
  for (guint i = 0; i < SW_SPF_MAX_MACROS_PER_TERM; i++)
    g_string_append (dense, "a%{d}");
  while (dense->len + 2 + 4 <= strlen ("v=spf1 a:") + SW_SPF_MAX_TERM)
    g_string_append (dense, "%-");
  if (dense->len + 4 < strlen ("v=spf1 a:") + SW_SPF_MAX_TERM)
    g_string_append_c (dense, 'x');
  g_string_append (dense, ".com");
  g_assert_cmpuint (dense->len, ==, strlen ("v=spf1 a:") + SW_SPF_MAX_TERM);
  g_assert_true (sw_spf_record_is_acceptable (dense->str, NULL));
  g_string_insert_c (dense, dense->len - 4, 'x');
  g_assert_false (sw_spf_record_is_acceptable (dense->str, NULL)); /* one byte over SW_SPF_MAX_TERM */

  g_assert_true (sw_spf_explanation_is_acceptable ("%{i} is not allowed, see %{r}", NULL));
  g_assert_false (sw_spf_explanation_is_acceptable ("100% wrong", NULL));
  g_autofree char *long_exp = g_strnfill (SW_SPF_MAX_EXPLANATION + 1, 'x');
  g_assert_false (sw_spf_explanation_is_acceptable (long_exp, NULL));
}

/* What the guard prevents: raw libspf2 1.2.10 on the crafted record corrupts its stack
 * (the copy overruns a 4 KiB buffer; Debian builds with the stack protector, so the
 * process aborts). Runs only if this libspf2 still has the bug. */
static void
test_raw_libspf2_crashes (void)
{
  if (g_test_subprocess ())
    {
      SPF_server_t *server = SPF_server_new (SPF_DNS_ZONE, 0);
      SPF_response_t *resp = SPF_response_new (NULL);
      SPF_record_t *record = NULL;
      g_autofree char *crafted = crafted_record (3900);
      SPF_record_compile (server, resp, &record, crafted);
      /* Only reached with a fixed libspf2 (d14abff): it reports an error instead. */
      if (record != NULL)
        SPF_record_free (record);
      SPF_response_free (resp);
      SPF_server_free (server);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  if (g_test_trap_has_passed ())
    g_test_message ("this libspf2 survives the crafted record (fixed upstream d14abff or patched)");
  else
    g_test_trap_assert_failed ();
  g_test_message ("raw libspf2 %s on the crafted record", g_test_trap_has_passed () ? "survived" : "crashed");
}

typedef struct {
  SwSpfChecker *checker;
  guint         seed;
  gint          failures;
} ThreadData;

static gpointer
thread_main (gpointer data)
{
  ThreadData *td = data;
  for (guint round = 0; round < 40; round++)
    {
      /* The network cases only (private ones never reach libspf2). */
      const Case *c = &cases[(td->seed + round) % 23];
      g_autoptr (GError) error = NULL;
      g_autoptr (SwSpfResult) r = NULL;
      gboolean ok = c->helo_identity ? sw_spf_check_helo (td->checker, c->ip, c->helo, &r, &error)
                                     : sw_spf_check_mailfrom (td->checker, c->ip, c->helo, c->mail_from, &r, &error);
      if (!ok || r->result != c->result)
        {
          g_printerr ("thread %u case %s: %s\n", td->seed, c->name, ok ? sw_auth_result_to_string (r->result)
                                                                        : error->message);
          g_atomic_int_inc (&td->failures);
        }
    }
  return NULL;
}

static void
test_threads (void)
{
  g_autoptr (SwResolver) resolver = new_resolver ();
  g_autoptr (SwSpfChecker) checker = sw_spf_checker_new (resolver, NULL);
  ThreadData data[8];
  GThread *threads[8];
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    {
      data[i] = (ThreadData) { checker, i * 3, 0 };
      threads[i] = g_thread_new ("spf", thread_main, &data[i]);
    }
  gint failures = 0;
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    {
      g_thread_join (threads[i]);
      failures += data[i].failures;
    }
  g_assert_cmpint (failures, ==, 0);
}

/* sw_spf_split() gives what g_strsplit() gives, empty pieces included. */
static void
test_split (void)
{
  static const char *const texts[] = { "", " ", "a", "v=spf1 a mx -all", "v=spf1  a ", "  ", "a..b", ".", "1.2.3.4",
                                       "v=spf1 ip4:1.2.3.4/24 include:x.example ~all" };
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    for (guint s = 0; s < 2; s++)
      {
        char sep = s == 0 ? ' ' : '.';
        const char seps[2] = { sep, '\0' };
        g_auto (GStrv) want = g_strsplit (texts[i], seps, -1);
        g_autofree char **got = sw_spf_split (texts[i], sep);
        if (g_strv_length (got) != g_strv_length (want))
          g_error ("\"%s\" on '%c': %u pieces, g_strsplit %u", texts[i], sep, g_strv_length (got),
                   g_strv_length (want));
        for (guint k = 0; want[k] != NULL; k++)
          if (strcmp (got[k], want[k]) != 0)
            g_error ("\"%s\" on '%c': piece %u \"%s\", g_strsplit \"%s\"", texts[i], sep, k, got[k], want[k]);
      }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/core/spf/check/cases", test_cases);
  g_test_add_func ("/core/spf/check/non-public-never-queried", test_non_public_never_queried);
  g_test_add_func ("/core/spf/check/explanation", test_explanation);
  g_test_add_func ("/core/spf/explanation/expander", test_expander);
  g_test_add_func ("/core/spf/guard/records", test_record_guard);
  g_test_add_func ("/core/spf/split", test_split);
  g_test_add_func ("/core/spf/guard/raw-libspf2-crashes", test_raw_libspf2_crashes);
  g_test_add_func ("/core/spf/threads/shared-checker", test_threads);
  return g_test_run ();
}
