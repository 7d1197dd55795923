/* Tests of SwResolver's zone backend and the answer helpers: parsing, statuses, CNAME,
 * wildcards, failure marks, syntax errors, TXT strings, to_wire, threads, limits. */
#include "sw-resolver.h"
#include "sw-limits.h"

#include <arpa/nameser.h>
#include <glib/gstdio.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>

static SwResolver *
load_constructs (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "dns", "constructs.zone", NULL);
  SwResolver *r = sw_resolver_new_zone_file (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (r);
  return r;
}

/* Renders every record of @a as text joined by '|': TXT text, addresses, "PREF name"
 * for MX, names for NS/PTR/CNAME, "soa" for SOA. */
static char *
render (const SwDnsAnswer *a)
{
  g_autoptr (GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < a->rdata->len; i++)
    {
      char *s = NULL;
      guint16 pref = 0;
      switch (a->qtype)
        {
        case SW_DNS_TYPE_TXT:
        case SW_DNS_TYPE_SPF:
          s = sw_dns_answer_dup_txt (a, i);
          break;
        case SW_DNS_TYPE_A:
        case SW_DNS_TYPE_AAAA:
          s = sw_dns_answer_dup_address (a, i);
          break;
        case SW_DNS_TYPE_MX:
          {
            g_autofree char *n = sw_dns_answer_dup_name (a, i, &pref);
            s = n ? g_strdup_printf ("%u %s", pref, n) : NULL;
            break;
          }
        case SW_DNS_TYPE_SOA:
          s = g_strdup ("soa");
          break;
        default:
          s = sw_dns_answer_dup_name (a, i, NULL);
          break;
        }
      g_ptr_array_add (parts, s ? s : g_strdup ("(null)"));
    }
  g_ptr_array_add (parts, NULL);
  return g_strjoinv ("|", (char **) parts->pdata);
}

static gint
cmp_strp (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

static char *
render_sorted (const SwDnsAnswer *a)
{
  g_autofree char *joined = render (a);
  g_auto (GStrv) v = g_strsplit (joined, "|", -1);
  guint n = g_strv_length (v);
  qsort (v, n, sizeof (char *), cmp_strp);
  return g_strjoinv ("|", v);
}

typedef struct {
  const char *name;
  guint16     qtype;
  SwDnsStatus status;
  const char *data; /* render_sorted() of the records; "" when none */
  gint64      ttl;  /* -1: not checked */
} QueryCase;

static const QueryCase constructs_cases[] = {
  { "example.com", SW_DNS_TYPE_SOA, SW_DNS_STATUS_OK, "soa", 3600 },
  { "example.com", SW_DNS_TYPE_NS, SW_DNS_STATUS_OK, "ns1.example.com|ns2.example.net", 3600 },
  { "example.com", SW_DNS_TYPE_MX, SW_DNS_STATUS_OK, "10 mx1.example.com|20 mx2.example.com", -1 },
  { "example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "v=spf1 mx -all", -1 },
  { "example.com", SW_DNS_TYPE_A, SW_DNS_STATUS_NODATA, "", 0 },
  { "ns1.example.com", SW_DNS_TYPE_A, SW_DNS_STATUS_OK, "192.0.2.53", 3600 },
  { "mx1.example.com", SW_DNS_TYPE_A, SW_DNS_STATUS_OK, "192.0.2.25", 300 },
  { "mx2.example.com", SW_DNS_TYPE_A, SW_DNS_STATUS_OK, "192.0.2.26", 600 },
  { "mx2.example.com", SW_DNS_TYPE_AAAA, SW_DNS_STATUS_OK, "2001:db8::26", 3600 },
  { "mx2.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NODATA, "", 0 },
  /* CNAME */
  { "www.example.com", SW_DNS_TYPE_A, SW_DNS_STATUS_OK, "192.0.2.25", 300 },
  { "www.example.com", SW_DNS_TYPE_CNAME, SW_DNS_STATUS_OK, "mx1.example.com", -1 },
  { "www.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NODATA, "", -1 },
  { "alias1.example.com", SW_DNS_TYPE_A, SW_DNS_STATUS_OK, "192.0.2.25", -1 },
  { "loop1.example.com", SW_DNS_TYPE_A, SW_DNS_STATUS_SERVFAIL, "", -1 },
  { "loop1.example.com", SW_DNS_TYPE_CNAME, SW_DNS_STATUS_OK, "loop2.example.com", -1 },
  { "dangling.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NXDOMAIN, "", -1 },
  { "tocname.example.com", SW_DNS_TYPE_A, SW_DNS_STATUS_SERVFAIL, "", -1 },
  /* TXT strings */
  { "multi.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "onetwothreefour", -1 },
  { "escapes.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "quote\" backslash\\ decimalAB semi; colon", -1 },
  { "unquoted.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "v=spf1-all", -1 },
  { "empty.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "", -1 },
  { "both.example.com", SW_DNS_TYPE_SPF, SW_DNS_STATUS_OK, "v=spf1 -all", -1 },
  { "both.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "v=spf1 -all", -1 },
  { "_dmarc.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "v=DMARC1; p=reject", -1 },
  { "sel._domainkey.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "v=DKIM1; k=rsa; p=MIIB", -1 },
  /* empty non-terminals and NXDOMAIN */
  { "deep.a.b.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "deep", -1 },
  { "a.b.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NODATA, "", -1 },
  { "b.example.com", SW_DNS_TYPE_A, SW_DNS_STATUS_NODATA, "", -1 },
  { "c.a.b.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NXDOMAIN, "", -1 },
  { "_domainkey.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NODATA, "", -1 },
  { "nothere.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NXDOMAIN, "", 0 },
  { "_dmarc.nothere.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NXDOMAIN, "", -1 },
  { "example.org", SW_DNS_TYPE_A, SW_DNS_STATUS_NXDOMAIN, "", -1 },
  /* wildcards (RFC 4592) */
  { "foo.wild.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "wildcard", -1 },
  { "a.b.foo.wild.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "wildcard", -1 },
  { "foo.wild.example.com", SW_DNS_TYPE_A, SW_DNS_STATUS_NODATA, "", -1 },
  { "exact.wild.example.com", SW_DNS_TYPE_A, SW_DNS_STATUS_OK, "192.0.2.1", -1 },
  { "exact.wild.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NODATA, "", -1 },
  { "y.wild.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NODATA, "", -1 },
  { "z.y.wild.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NXDOMAIN, "", -1 },
  { "wild.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NODATA, "", -1 },
  { "*.wild.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "wildcard", -1 },
  /* failure marks */
  { "broken.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_SERVFAIL, "", 0 },
  { "broken.example.com", SW_DNS_TYPE_A, SW_DNS_STATUS_SERVFAIL, "", -1 },
  { "slow.example.com", SW_DNS_TYPE_MX, SW_DNS_STATUS_TIMEOUT, "", -1 },
  { "halfslow.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_TIMEOUT, "", -1 },
  { "halfslow.example.com", SW_DNS_TYPE_A, SW_DNS_STATUS_OK, "192.0.2.7", -1 },
  { "any.slowwild.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_TIMEOUT, "", -1 },
  { "slowwild.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NODATA, "", -1 },
  { "x.broken.example.com", SW_DNS_TYPE_A, SW_DNS_STATUS_NXDOMAIN, "", -1 },
  /* PTR, $ORIGIN changes, case */
  { "nullmx.example.com", SW_DNS_TYPE_MX, SW_DNS_STATUS_OK, "0 ", -1 },
  { "2.2.0.192.in-addr.arpa", SW_DNS_TYPE_PTR, SW_DNS_STATUS_OK, "mx1.example.com", -1 },
  { "host.sub.example.com", SW_DNS_TYPE_A, SW_DNS_STATUS_OK, "198.51.100.1", -1 },
  { "sub.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "origin changed", -1 },
  { "upper.case.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "Case", -1 },
  { "UPPER.CASE.Example.COM.", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "Case", -1 },
};

static void
check_case (SwResolver *r, const QueryCase *c, guint index)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SwDnsAnswer) a = NULL;
  if (!sw_resolver_query (r, c->name, c->qtype, &a, &error))
    g_error ("case %u (%s/%u): query failed: %s", index, c->name, c->qtype, error->message);
  g_autofree char *got = render_sorted (a);
  if (a->status != c->status || g_strcmp0 (got, c->data) != 0 || (c->ttl >= 0 && a->ttl != (guint32) c->ttl))
    g_error ("case %u (%s/%u): got %s \"%s\" ttl %u, want %s \"%s\" ttl %" G_GINT64_FORMAT, index, c->name,
             c->qtype, sw_dns_status_to_string (a->status), got, a->ttl, sw_dns_status_to_string (c->status), c->data,
             c->ttl);
  g_autofree char *lower = g_ascii_strdown (c->name, -1);
  gsize n = strlen (lower);
  if (n > 0 && lower[n - 1] == '.')
    lower[n - 1] = '\0';
  if (g_strcmp0 (a->qname, lower) != 0 || a->qtype != c->qtype || a->dnssec != SW_DNSSEC_UNKNOWN
      || a->why_bogus != NULL)
    g_error ("case %u (%s): qname %s qtype %u dnssec %d", index, c->name, a->qname, a->qtype, a->dnssec);
}

static void
test_constructs (void)
{
  g_autoptr (SwResolver) r = load_constructs ();
  g_assert_cmpstr (sw_resolver_get_backend_name (r), ==, "zone");
  g_assert_false (sw_resolver_get_dnssec (r));
  g_assert_cmpuint (sw_resolver_get_query_count (r), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (constructs_cases); i++)
    check_case (r, &constructs_cases[i], i);
  g_assert_cmpuint (sw_resolver_get_query_count (r), ==, G_N_ELEMENTS (constructs_cases));
}

/* Zone text without $ORIGIN: relative names are absolute; samples-style lines. */
static void
test_no_origin (void)
{
  static const char zone[] = "spf.example.net TXT \"v=spf1 ip4:192.0.2.0/24 -all\"\n"
                             "spf.example.net. 60 IN A 192.0.2.9\n"
                             "\tIN 70 MX 5 mx.example.net\n"
                             "*.example.net A 192.0.2.99\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (SwResolver) r = sw_resolver_new_zone_text (zone, &error);
  g_assert_no_error (error);
  static const QueryCase cases[] = {
    { "spf.example.net", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "v=spf1 ip4:192.0.2.0/24 -all", 3600 },
    { "spf.example.net", SW_DNS_TYPE_A, SW_DNS_STATUS_OK, "192.0.2.9", 60 },
    { "spf.example.net", SW_DNS_TYPE_MX, SW_DNS_STATUS_OK, "5 mx.example.net", 70 },
    { "other.example.net", SW_DNS_TYPE_A, SW_DNS_STATUS_OK, "192.0.2.99", 3600 },
    { "example.net", SW_DNS_TYPE_A, SW_DNS_STATUS_NODATA, "", 0 },
    { "net", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NODATA, "", 0 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    check_case (r, &cases[i], i);
}

static void
test_long_strings (void)
{
  g_autoptr (GString) zone = g_string_new ("long.example.com. TXT \"");
  g_autoptr (GString) want = g_string_new (NULL);
  for (guint i = 0; i < 600; i++)
    g_string_append_c (want, (char) ('a' + i % 26));
  g_string_append (zone, want->str);
  g_string_append (zone, "\"\n");
  /* Just over SW_MAX_DNS_TXT_LENGTH in 255-octet strings: dup_txt refuses it. */
  g_string_append (zone, "huge.example.com. TXT");
  for (guint i = 0; i * 255 <= SW_MAX_DNS_TXT_LENGTH; i++)
    {
      g_string_append (zone, " \"");
      for (guint j = 0; j < 255; j++)
        g_string_append_c (zone, 'x');
      g_string_append_c (zone, '"');
    }
  g_string_append (zone, "\nnul.example.com. TXT \"a\\000b\"\n");
  g_autoptr (GError) error = NULL;
  g_autoptr (SwResolver) r = sw_resolver_new_zone_text (zone->str, &error);
  g_assert_no_error (error);

  g_autoptr (SwDnsAnswer) a = NULL;
  g_assert_true (sw_resolver_query (r, "long.example.com", SW_DNS_TYPE_TXT, &a, &error));
  g_assert_cmpuint (a->rdata->len, ==, 1);
  gsize len = 0;
  const guint8 *p = g_bytes_get_data (g_ptr_array_index (a->rdata, 0), &len);
  g_assert_cmpuint (len, ==, 600 + 3);
  g_assert_cmpuint (p[0], ==, 255);
  g_assert_cmpuint (p[256], ==, 255);
  g_assert_cmpuint (p[512], ==, 90);
  g_autofree char *txt = sw_dns_answer_dup_txt (a, 0);
  g_assert_cmpstr (txt, ==, want->str);
  g_assert_null (sw_dns_answer_dup_txt (a, 1));
  g_assert_null (sw_dns_answer_dup_address (a, 0));
  g_assert_null (sw_dns_answer_dup_name (a, 0, NULL));

  g_autoptr (SwDnsAnswer) h = NULL;
  g_assert_true (sw_resolver_query (r, "huge.example.com", SW_DNS_TYPE_TXT, &h, &error));
  g_assert_cmpint (h->status, ==, SW_DNS_STATUS_OK);
  g_assert_null (sw_dns_answer_dup_txt (h, 0));

  g_autoptr (SwDnsAnswer) z = NULL;
  g_assert_true (sw_resolver_query (r, "nul.example.com", SW_DNS_TYPE_TXT, &z, &error));
  g_assert_cmpuint (g_bytes_get_size (g_ptr_array_index (z->rdata, 0)), ==, 4);
  g_assert_null (sw_dns_answer_dup_txt (z, 0));
}

static void
test_answer_cap (void)
{
  g_autoptr (GString) zone = g_string_new (NULL);
  for (guint i = 0; i < SW_MAX_DNS_ANSWER_RRS + 10; i++)
    g_string_append_printf (zone, "many.example.com. A 10.0.%u.%u\n", i / 256, i % 256);
  g_autoptr (GError) error = NULL;
  g_autoptr (SwResolver) r = sw_resolver_new_zone_text (zone->str, &error);
  g_assert_no_error (error);
  g_autoptr (SwDnsAnswer) a = NULL;
  g_assert_true (sw_resolver_query (r, "many.example.com", SW_DNS_TYPE_A, &a, &error));
  g_assert_cmpuint (a->rdata->len, ==, SW_MAX_DNS_ANSWER_RRS);
}

static void
test_syntax_errors (void)
{
  static const struct {
    const char *text;
    const char *message; /* substring of the error message */
  } cases[] = {
    { "a.example.com. FOO 1\n", "line 1: unknown type FOO" },
    { "; comment\n\na.example.com. A 1.2.3\n", "line 3: bad A address" },
    { "a.example.com. AAAA 1.2.3.4\n", "line 1: bad AAAA address" },
    { "a.example.com. A\n", "line 1: A needs 1 field, got 0" },
    { "a.example.com. A 1.2.3.4 5.6.7.8\n", "line 1: A needs 1 field, got 2" },
    { "a.example.com. MX mx.example.com.\n", "line 1: MX needs 2 fields, got 1" },
    { "a.example.com. MX 70000 mx.example.com.\n", "line 1: bad MX preference" },
    { "a.example.com. TXT\n", "line 1: TXT needs at least one character-string" },
    { "a.example.com. TXT \"unterminated\n", "line 1: unterminated quoted string" },
    { "a.example.com. TXT ( \"x\"\n\n", "line 1: '(' without ')'" },
    { "\n\na.example.com. TXT \"x\" )\n", "line 3: ')' without '('" },
    { "a.example.com. TXT \"bad \\25\"\n", "line 1: bad escape" },
    { "a.example.com. TXT \"bad \\300\"\n", "line 1: bad escape" },
    { "a.example.com. CH TXT \"x\"\n", "line 1: unsupported class CH" },
    { "a.example.com. 1x TXT \"x\"\n", "line 1: bad TTL" },
    { "a.example.com. 99999999999 TXT \"x\"\n", "line 1: bad TTL" },
    { "a.example.com.\n", "line 1: missing record type" },
    { "a.example.com. IN 300\n", "line 1: missing record type" },
    { "  A 192.0.2.1\n", "line 1: record without owner name" },
    { "$INCLUDE other.zone\n", "line 1: unsupported directive $INCLUDE" },
    { "$TTL\n", "line 1: $TTL needs one TTL value" },
    { "$ORIGIN\n", "line 1: $ORIGIN needs one name" },
    { "a..example.com. A 192.0.2.1\n", "line 1: invalid DNS name" },
    { "\"quoted.example.com.\" A 192.0.2.1\n", "line 1: quotes are not supported in names" },
    { "a.example.com. CNAME \"b.example.com.\"\n", "line 1: quotes are not supported in names" },
    { "a\\1.example.com. A 192.0.2.1\n", "line 1: bad escape: \\DDD needs three digits" },
    { "a\\256.example.com. A 192.0.2.1\n", "line 1: bad escape" },
    { "a.example.com. PTR b\\25x.example.com.\n", "line 1: bad escape" },
    { "x\\032\\032\\032\\032\\032\\032\\032\\032\\032\\032\\032\\032\\032\\032\\032\\032"
      "\\032\\032\\032\\032\\032\\032\\032\\032\\032\\032\\032\\032\\032\\032\\032\\032"
      "\\032\\032\\032\\032\\032\\032\\032\\032\\032\\032\\032\\032\\032\\032\\032\\032"
      "\\032\\032\\032\\032\\032\\032\\032\\032\\032\\032\\032\\032\\032\\032\\032\\032"
      ".example.com. A 192.0.2.1\n", "line 1: invalid DNS name" },
    { "a.example.com. CNAME b.example.com.\na.example.com. A 192.0.2.1\n", "line 2: CNAME and other data" },
    { "a.example.com. A 192.0.2.1\na.example.com. CNAME b.example.com.\n", "line 2: CNAME and other data" },
    { "a.example.com. CNAME b.example.com.\na.example.com. CNAME c.example.com.\n", "line 2: more than one CNAME" },
    { "a.example.com. SERVFAIL TXT A\n", "line 1: SERVFAIL takes at most one record type" },
    { "a.example.com. TIMEOUT FOO\n", "line 1: TIMEOUT takes at most one record type" },
    { "a.example.com. SOA ns hm 1 2 3 4\n", "line 1: SOA needs 7 fields, got 6" },
    { "a.example.com. SOA ns hm 1 2 3 4 x\n", "line 1: bad SOA number" },
    { "$ORIGIN example.com.\nx (\n A\n 192.0.2.1 ) \nx TXT ( \"a\"\n\"b\" ) FOO\ny BAR\n", "line 7: unknown type BAR" },
    { "a.example.com. MX 10 bad..name.\n", "line 1: invalid DNS name" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SwResolver) r = sw_resolver_new_zone_text (cases[i].text, &error);
      if (r != NULL || !g_error_matches (error, SW_RESOLVER_ERROR, SW_RESOLVER_ERROR_ZONE_SYNTAX)
          || strstr (error->message, cases[i].message) == NULL)
        g_error ("case %u: got \"%s\", want \"%s\"", i, error ? error->message : "(success)", cases[i].message);
    }
}

static void
test_invalid_names (void)
{
  g_autoptr (SwResolver) r = load_constructs ();
  g_autofree char *label64 = g_strnfill (64, 'a');
  g_autofree char *label63 = g_strnfill (63, 'a');
  /* 4 labels of 63 plus 3 dots = 255 octets (> 253); 253 is the longest valid. */
  g_autofree char *name255 = g_strjoin (".", label63, label63, label63, label63, NULL);
  g_autofree char *name253 = g_strdup (name255 + 2);
  g_autofree char *label64name = g_strconcat (label64, ".example.com", NULL);
  /* Escapes count as the one octet they stand for: 62 letters and one \DDD is a label
   * of 63, one more is 64; the 253-octet name with its last letter written \097 still
   * fits, one octet more does not. */
  g_autofree char *label63esc = g_strconcat (label63 + 1, "\\032.example.com", NULL);
  g_autofree char *label64esc = g_strconcat (label63, "\\032.example.com", NULL);
  g_autofree char *name252 = g_strndup (name253, 252);
  g_autofree char *name253esc = g_strconcat (name252, "\\097", NULL);
  g_autofree char *name254esc = g_strconcat (name253, "\\097", NULL);
  const char *bad[] = { "", ".", "..", "a..b", ".example.com", "exa mple.com", "b\xc3\xbc" "cher.example",
                        "tab\t.example.com", label64name, name255,
                        /* malformed escapes, and escapes that do not shorten a name */
                        "a\\", "a\\1.example.com", "a\\25x.example.com", "a\\256.example.com",
                        "a\\\t.example.com", "a\\\xc3\xbc.example.com", "x\\\\..example.com", label64esc,
                        name254esc };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SwDnsAnswer) a = NULL;
      if (sw_resolver_query (r, bad[i], SW_DNS_TYPE_TXT, &a, &error)
          || !g_error_matches (error, SW_RESOLVER_ERROR, SW_RESOLVER_ERROR_INVALID_NAME) || a != NULL)
        g_error ("bad case %u accepted", i);
    }
  const char *good[] = { "_spf.example.com", "example.com.",   "%-free_.example.com", name253,      "x",
                         "a\\.b.example.com", "a\\032b.example.com", "a\\ b.example.com", "\\000.example", label63esc,
                         name253esc,          "a\\\\b.example.com", "\\..example.com" };
  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SwDnsAnswer) a = NULL;
      if (!sw_resolver_query (r, good[i], SW_DNS_TYPE_TXT, &a, &error))
        g_error ("good case %u refused: %s", i, error->message);
    }
  g_assert_cmpuint (sw_resolver_get_query_count (r), ==, G_N_ELEMENTS (good));
}

/* Names with RFC 1035 escapes, in zone text and in queries: label octets are compared
 * (letters without regard to case), "\DDD" and "\X" are the same octet, an escaped dot is
 * part of a label. */
static const char escaped_zone[] =
  "$ORIGIN example.com.\n"
  "a\\032b             TXT \"space\"\n"
  "dot\\.inside        TXT \"dot\"\n"
  "x.dot\\046inside    TXT \"below\"\n"
  "\\065\\066C          A   192.0.2.1\n"
  "back\\\\slash        TXT \"backslash\"\n"
  "nul\\000byte        TXT \"nul\"\n"
  "tail\\.             TXT \"escaped dot at the end: relative\"\n"
  "ptr                PTR a\\ b\n"
  "mx                 MX  10 dot\\.inside\n"
  "alias              CNAME a\\032b\n"
  "*.wild\\032card     TXT \"wildcard\"\n"
  /* the name the RFC 7208 suite's macro-mania-in-domain test needs */
  "macro%percent\\032\\032space%20url-space A 1.2.3.4\n"
  "$ORIGIN sp\\032ace.example.net.\n"
  "@                  TXT \"origin with an escape\"\n";

static const QueryCase escaped_cases[] = {
  { "a\\032b.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "space", -1 },
  { "A\\032B.Example.COM.", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "space", -1 },
  { "a\\ b.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "space", -1 },
  { "a\\098.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NXDOMAIN, "", -1 },
  { "ab.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NXDOMAIN, "", -1 },
  { "dot\\.inside.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "dot", -1 },
  { "dot\\046inside.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "dot", -1 },
  { "dot.inside.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NXDOMAIN, "", -1 },
  { "inside.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NXDOMAIN, "", -1 },
  { "x.dot\\.inside.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "below", -1 },
  { "abc.example.com", SW_DNS_TYPE_A, SW_DNS_STATUS_OK, "192.0.2.1", -1 },
  { "\\097\\098\\099.example.com", SW_DNS_TYPE_A, SW_DNS_STATUS_OK, "192.0.2.1", -1 },
  { "back\\\\slash.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "backslash", -1 },
  { "back\\092slash.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "backslash", -1 },
  { "nul\\000byte.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "nul", -1 },
  { "nul.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NXDOMAIN, "", -1 },
  { "tail\\..example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "escaped dot at the end: relative", -1 },
  { "ptr.example.com", SW_DNS_TYPE_PTR, SW_DNS_STATUS_OK, "a\\032b.example.com", -1 },
  { "mx.example.com", SW_DNS_TYPE_MX, SW_DNS_STATUS_OK, "10 dot\\046inside.example.com", -1 },
  { "alias.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "space", -1 },
  { "any.wild\\032card.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "wildcard", -1 },
  { "any\\032thing.wild\\ card.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "wildcard", -1 },
  { "any.wild.card.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NXDOMAIN, "", -1 },
  { "macro%percent\\032\\032space%20url-space.example.com", SW_DNS_TYPE_A, SW_DNS_STATUS_OK, "1.2.3.4", -1 },
  { "sp\\032ace.example.net", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "origin with an escape", -1 },
};

static void
test_escaped_names (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SwResolver) r = sw_resolver_new_zone_text (escaped_zone, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (escaped_cases); i++)
    {
      const QueryCase *c = &escaped_cases[i];
      g_autoptr (SwDnsAnswer) a = NULL;
      if (!sw_resolver_query (r, c->name, c->qtype, &a, &error))
        g_error ("case %u (%s): %s", i, c->name, error->message);
      g_autofree char *got = render_sorted (a);
      if (a->status != c->status || g_strcmp0 (got, c->data) != 0)
        g_error ("case %u (%s/%u): got %s \"%s\", want %s \"%s\"", i, c->name, c->qtype,
                 sw_dns_status_to_string (a->status), got, sw_dns_status_to_string (c->status), c->data);
    }

  /* The answer names the query in canonical form; on the wire the label holds the octets. */
  g_autoptr (SwDnsAnswer) a = NULL;
  g_assert_true (sw_resolver_query (r, "A\\ B.Example.COM.", SW_DNS_TYPE_TXT, &a, &error));
  g_assert_cmpstr (a->qname, ==, "a\\032b.example.com");
  guint8 buf[512];
  gsize len = 0;
  g_assert_true (sw_dns_answer_to_wire (a, 7, buf, sizeof buf, &len));
  static const guint8 qname_wire[] = "\003a b\007example\003com";
  g_assert_cmpuint (len, >, 12 + sizeof qname_wire);
  g_assert_cmpmem (buf + 12, sizeof qname_wire, qname_wire, sizeof qname_wire);
  g_clear_pointer (&a, sw_dns_answer_free);
  g_assert_true (sw_resolver_query (r, "dot\\.inside.example.com", SW_DNS_TYPE_TXT, &a, &error));
  g_assert_cmpstr (a->qname, ==, "dot\\046inside.example.com");
  g_assert_true (sw_dns_answer_to_wire (a, 8, buf, sizeof buf, &len));
  static const guint8 dot_wire[] = "\012dot.inside\007example\003com";
  g_assert_cmpmem (buf + 12, sizeof dot_wire, dot_wire, sizeof dot_wire);
}

static void
test_status_names (void)
{
  static const char *const want[] = { "ok", "nodata", "nxdomain", "servfail", "timeout" };
  G_STATIC_ASSERT (G_N_ELEMENTS (want) == SW_DNS_STATUS_COUNT);
  for (guint i = 0; i < SW_DNS_STATUS_COUNT; i++)
    g_assert_cmpstr (sw_dns_status_to_string ((SwDnsStatus) i), ==, want[i]);
  g_assert_cmpstr (sw_dns_status_to_string (SW_DNS_STATUS_COUNT), ==, "unknown");
}

/* to_wire output parsed back with libresolv's ns_initparse()/ns_parserr(). */
static void
test_to_wire (void)
{
  static const struct {
    const char *name;
    guint16     qtype;
    int         rcode;
  } cases[] = {
    { "multi.example.com", SW_DNS_TYPE_TXT, ns_r_noerror },
    { "sel._domainkey.example.com", SW_DNS_TYPE_TXT, ns_r_noerror },
    { "example.com", SW_DNS_TYPE_MX, ns_r_noerror },
    { "example.com", SW_DNS_TYPE_NS, ns_r_noerror },
    { "nullmx.example.com", SW_DNS_TYPE_MX, ns_r_noerror },
    { "mx2.example.com", SW_DNS_TYPE_AAAA, ns_r_noerror },
    { "www.example.com", SW_DNS_TYPE_A, ns_r_noerror },
    { "example.com", SW_DNS_TYPE_A, ns_r_noerror },
    { "nothere.example.com", SW_DNS_TYPE_TXT, ns_r_nxdomain },
    { "broken.example.com", SW_DNS_TYPE_TXT, ns_r_servfail },
    { "slow.example.com", SW_DNS_TYPE_TXT, ns_r_servfail },
  };
  g_autoptr (SwResolver) r = load_constructs ();
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SwDnsAnswer) a = NULL;
      g_assert_true (sw_resolver_query (r, cases[i].name, cases[i].qtype, &a, &error));
      guint8 buf[8192];
      gsize len = 0;
      guint16 id = (guint16) (0x1234 + i);
      if (!sw_dns_answer_to_wire (a, id, buf, sizeof buf, &len))
        g_error ("case %u (%s): to_wire failed", i, cases[i].name);
      ns_msg msg;
      if (ns_initparse (buf, (int) len, &msg) != 0)
        g_error ("case %u (%s): ns_initparse failed", i, cases[i].name);
      const HEADER *hdr = (const HEADER *) buf;
      if (ns_msg_id (msg) != id || ns_msg_getflag (msg, ns_f_rcode) != cases[i].rcode
          || !ns_msg_getflag (msg, ns_f_qr) || !ns_msg_getflag (msg, ns_f_rd) || !ns_msg_getflag (msg, ns_f_ra)
          || hdr->tc != 0 || ns_msg_count (msg, ns_s_qd) != 1 || ns_msg_count (msg, ns_s_an) != a->rdata->len
          || ns_msg_count (msg, ns_s_ns) != 0 || ns_msg_count (msg, ns_s_ar) != 0)
        g_error ("case %u (%s): bad header", i, cases[i].name);
      ns_rr rr;
      g_assert_cmpint (ns_parserr (&msg, ns_s_qd, 0, &rr), ==, 0);
      if (g_ascii_strcasecmp (ns_rr_name (rr), cases[i].name) != 0 || ns_rr_type (rr) != cases[i].qtype
          || ns_rr_class (rr) != ns_c_in)
        g_error ("case %u (%s): bad question %s", i, cases[i].name, ns_rr_name (rr));
      /* Like libopendkim: skip the question with dn_skipname. */
      int skip = dn_skipname (buf + HFIXEDSZ, buf + len);
      g_assert_cmpint (skip, >, 0);
      for (guint j = 0; j < a->rdata->len; j++)
        {
          g_assert_cmpint (ns_parserr (&msg, ns_s_an, (int) j, &rr), ==, 0);
          GBytes *rd = g_ptr_array_index (a->rdata, j);
          if (g_ascii_strcasecmp (ns_rr_name (rr), cases[i].name) != 0 || ns_rr_type (rr) != cases[i].qtype
              || ns_rr_ttl (rr) != a->ttl || ns_rr_rdlen (rr) != g_bytes_get_size (rd)
              || memcmp (ns_rr_rdata (rr), g_bytes_get_data (rd, NULL), ns_rr_rdlen (rr)) != 0)
            g_error ("case %u (%s): record %u differs", i, cases[i].name, j);
          if (cases[i].qtype == SW_DNS_TYPE_MX)
            {
              char host[NS_MAXDNAME];
              g_assert_cmpint (dn_expand (buf, buf + len, ns_rr_rdata (rr) + 2, host, sizeof host), >, 0);
              g_autofree char *mine = NULL;
              guint16 pref = 0;
              mine = sw_dns_answer_dup_name (a, j, &pref);
              g_assert_cmpstr (host, ==, mine);
              g_assert_cmpuint (pref, ==, ns_get16 (ns_rr_rdata (rr)));
            }
        }
      /* One octet too small fails; exact size succeeds. */
      gsize len2 = 0;
      g_assert_false (sw_dns_answer_to_wire (a, id, buf, len - 1, &len2));
      g_assert_true (sw_dns_answer_to_wire (a, id, buf, len, &len2));
      g_assert_cmpuint (len2, ==, len);
    }
}

typedef struct {
  SwResolver *resolver;
  guint       rounds;
  guint       seed;
} ThreadData;

static gpointer
query_thread (gpointer user_data)
{
  ThreadData *td = user_data;
  for (guint n = 0; n < td->rounds; n++)
    {
      guint i = (td->seed + n * 7) % G_N_ELEMENTS (constructs_cases);
      check_case (td->resolver, &constructs_cases[i], i);
    }
  return NULL;
}

static void
test_threads (void)
{
  g_autoptr (SwResolver) r = load_constructs ();
  enum { N_THREADS = 8, ROUNDS = 400 };
  ThreadData data[N_THREADS];
  GThread *threads[N_THREADS];
  for (guint t = 0; t < N_THREADS; t++)
    {
      data[t] = (ThreadData) { sw_resolver_ref (r), ROUNDS, t * 13 };
      threads[t] = g_thread_new ("dns-zone-test", query_thread, &data[t]);
    }
  for (guint t = 0; t < N_THREADS; t++)
    {
      g_thread_join (threads[t]);
      sw_resolver_unref (data[t].resolver);
    }
  g_assert_cmpuint (sw_resolver_get_query_count (r), ==, N_THREADS * ROUNDS);
}

static void
test_size_cap (void)
{
  /* Exactly at the cap: accepted. One byte more: refused, as text and as a file. */
  gsize cap = SW_MAX_ZONE_FILE_SIZE;
  g_autofree char *text = g_malloc (cap + 2);
  static const char rec[] = "a.example.com. TXT \"x\"\n";
  memcpy (text, rec, sizeof rec - 1);
  memset (text + sizeof rec - 1, '\n', cap - (sizeof rec - 1));
  text[cap] = '\0';
  g_autoptr (GError) error = NULL;
  g_autoptr (SwResolver) ok = sw_resolver_new_zone_text (text, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ok);

  text[cap] = '\n';
  text[cap + 1] = '\0';
  g_autoptr (SwResolver) big = sw_resolver_new_zone_text (text, &error);
  g_assert_error (error, SW_RESOLVER_ERROR, SW_RESOLVER_ERROR_ZONE_SYNTAX);
  g_assert_null (big);
  g_clear_error (&error);

  g_autofree char *dir = g_dir_make_tmp ("sw-dns-zone-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *path = g_build_filename (dir, "big.zone", NULL);
  g_assert_true (g_file_set_contents (path, text, (gssize) cap + 1, &error));
  g_autoptr (SwResolver) big_file = sw_resolver_new_zone_file (path, &error);
  g_assert_error (error, SW_RESOLVER_ERROR, SW_RESOLVER_ERROR_ZONE_SYNTAX);
  g_assert_null (big_file);
  g_clear_error (&error);
  g_unlink (path);

  g_autoptr (SwResolver) missing = sw_resolver_new_zone_file (path, &error);
  g_assert_error (error, SW_RESOLVER_ERROR, SW_RESOLVER_ERROR_IO);
  g_assert_null (missing);
  g_clear_error (&error);

  /* A syntax error in a file names the file and the line. */
  g_assert_true (g_file_set_contents (path, "\n\nx.example.com. BOGUS 1\n", -1, &error));
  g_autoptr (SwResolver) bad = sw_resolver_new_zone_file (path, &error);
  g_assert_error (error, SW_RESOLVER_ERROR, SW_RESOLVER_ERROR_ZONE_SYNTAX);
  g_assert_nonnull (strstr (error->message, "big.zone: line 3: unknown type BOGUS"));
  g_clear_error (&error);
  g_unlink (path);
  g_rmdir (dir);

  /* The empty zone answers NXDOMAIN for everything. */
  g_autoptr (SwResolver) empty = sw_resolver_new_zone_text ("", &error);
  g_assert_no_error (error);
  g_autoptr (SwDnsAnswer) a = NULL;
  g_assert_true (sw_resolver_query (empty, "example.com", SW_DNS_TYPE_A, &a, &error));
  g_assert_cmpint (a->status, ==, SW_DNS_STATUS_NXDOMAIN);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/core/dns/zone/constructs", test_constructs);
  g_test_add_func ("/core/dns/zone/no-origin", test_no_origin);
  g_test_add_func ("/core/dns/zone/long-strings", test_long_strings);
  g_test_add_func ("/core/dns/zone/answer-cap", test_answer_cap);
  g_test_add_func ("/core/dns/zone/syntax-errors", test_syntax_errors);
  g_test_add_func ("/core/dns/zone/invalid-names", test_invalid_names);
  g_test_add_func ("/core/dns/zone/escaped-names", test_escaped_names);
  g_test_add_func ("/core/dns/zone/threads", test_threads);
  g_test_add_func ("/core/dns/zone/size-cap", test_size_cap);
  g_test_add_func ("/core/dns/answer/status-names", test_status_names);
  g_test_add_func ("/core/dns/answer/to-wire", test_to_wire);
  return g_test_run ();
}
