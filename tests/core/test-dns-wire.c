/* Reading DNS response packets (sw_dns_answer_fill_from_packet, core/dns/sw-dns-wire.c):
 * what the libunbound backend makes of libunbound's answers. Packets written with
 * sw_dns_answer_to_wire() come back as the same answer; compressed names inside MX rdata
 * are expanded; the negative TTL comes from the SOA; every truncation and a compression
 * loop are refused without reading outside the packet. */
#include "sw-dns-private.h"
#include "sw-limits.h"
#include "sw-resolver.h"

#include <string.h>

static SwDnsAnswer *
parse (const guint8 *pkt, gsize len, guint16 qtype, gboolean *ok_out, guint32 *negative_ttl_out)
{
  SwDnsAnswer *a = sw_dns_answer_new ("q.example.com", qtype, SW_DNS_STATUS_SERVFAIL);
  guint32 neg = 0;
  *ok_out = sw_dns_answer_fill_from_packet (a, pkt, len, &neg);
  if (negative_ttl_out != NULL)
    *negative_ttl_out = neg;
  return a;
}

static SwDnsAnswer *
txt_answer (guint n)
{
  SwDnsAnswer *a = sw_dns_answer_new ("q.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK);
  a->ttl = 300;
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("v=spf1 ip4:192.0.2.%u -all", i);
      guint8 rd[256];
      rd[0] = (guint8)strlen (text);
      memcpy (rd + 1, text, rd[0]);
      g_ptr_array_add (a->rdata, g_bytes_new (rd, 1u + rd[0]));
    }
  return a;
}

/* An answer written as a packet reads back the same: status, TTL, every rdata. */
static void
test_round_trip (void)
{
  for (guint n = 0; n <= 3; n++)
    {
      g_autoptr (SwDnsAnswer) want = txt_answer (n);
      if (n == 0)
        want->status = SW_DNS_STATUS_NODATA;
      guint8 buf[4096];
      gsize len = 0;
      g_assert_true (sw_dns_answer_to_wire (want, 7, buf, sizeof buf, &len));
      gboolean ok = FALSE;
      g_autoptr (SwDnsAnswer) got = parse (buf, len, SW_DNS_TYPE_TXT, &ok, NULL);
      g_assert_true (ok);
      g_assert_cmpint (got->status, ==, want->status);
      g_assert_cmpuint (got->rdata->len, ==, n);
      if (n > 0)
        g_assert_cmpuint (got->ttl, ==, 300);
      for (guint i = 0; i < n; i++)
        g_assert_true (g_bytes_equal (g_ptr_array_index (got->rdata, i), g_ptr_array_index (want->rdata, i)));
    }
  /* NXDOMAIN and SERVFAIL from the rcode */
  static const SwDnsStatus statuses[] = { SW_DNS_STATUS_NXDOMAIN, SW_DNS_STATUS_SERVFAIL };
  for (guint i = 0; i < G_N_ELEMENTS (statuses); i++)
    {
      g_autoptr (SwDnsAnswer) want = sw_dns_answer_new ("q.example.com", SW_DNS_TYPE_TXT, statuses[i]);
      guint8 buf[512];
      gsize len = 0;
      g_assert_true (sw_dns_answer_to_wire (want, 1, buf, sizeof buf, &len));
      gboolean ok = FALSE;
      g_autoptr (SwDnsAnswer) got = parse (buf, len, SW_DNS_TYPE_TXT, &ok, NULL);
      g_assert_true (ok);
      g_assert_cmpint (got->status, ==, statuses[i]);
    }
}

/* Records of another type (a CNAME before the answer) are skipped; the smallest TTL of the
 * records kept counts. */
static void
test_cname_and_ttl (void)
{
  static const guint8 pkt[] = {
    0x00, 0x01, 0x81, 0x80, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
    /* question: q.example.com A IN (offset 12) */
    1, 'q', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0x00, 0x01, 0x00, 0x01,
    /* q.example.com CNAME r.example.com (r + pointer to "example.com" at 14) */
    0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x04, 1, 'r', 0xc0, 0x0e,
    /* r.example.com A 192.0.2.1, TTL 600 */
    0xc0, 0x2b, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x58, 0x00, 0x04, 192, 0, 2, 1,
    /* r.example.com A 192.0.2.2, TTL 60 */
    0xc0, 0x2b, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x04, 192, 0, 2, 2,
  };
  gboolean ok = FALSE;
  g_autoptr (SwDnsAnswer) a = parse (pkt, sizeof pkt, SW_DNS_TYPE_A, &ok, NULL);
  g_assert_true (ok);
  g_assert_cmpint (a->status, ==, SW_DNS_STATUS_OK);
  g_assert_cmpuint (a->rdata->len, ==, 2);
  g_assert_cmpuint (a->ttl, ==, 60);
  g_autofree char *first = sw_dns_answer_dup_address (a, 0);
  g_assert_cmpstr (first, ==, "192.0.2.1");
}

/* An MX exchange written as a compression pointer comes back as a whole name. */
static void
test_mx_compressed (void)
{
  static const guint8 pkt[] = {
    0x00, 0x01, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    1, 'q', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0x00, 0x0f, 0x00, 0x01,
    /* q.example.com MX 10 mx.example.com ("mx" + pointer to "example.com" at 14) */
    0xc0, 0x0c, 0x00, 0x0f, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x07, 0x00, 0x0a, 2, 'm', 'x', 0xc0, 0x0e,
  };
  gboolean ok = FALSE;
  g_autoptr (SwDnsAnswer) a = parse (pkt, sizeof pkt, SW_DNS_TYPE_MX, &ok, NULL);
  g_assert_true (ok);
  g_assert_cmpuint (a->rdata->len, ==, 1);
  static const guint8 want[] = { 0x00, 0x0a, 2, 'm', 'x', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0 };
  gsize len = 0;
  const guint8 *rd = g_bytes_get_data (g_ptr_array_index (a->rdata, 0), &len);
  g_assert_cmpmem (rd, len, want, sizeof want);
  guint16 preference = 0;
  g_autofree char *name = sw_dns_answer_dup_name (a, 0, &preference);
  g_assert_cmpstr (name, ==, "mx.example.com");
  g_assert_cmpuint (preference, ==, 10);
}

/* NXDOMAIN with the zone's SOA: the negative TTL is min(SOA TTL, SOA minimum). */
static void
test_negative_ttl (void)
{
  static const guint8 pkt[] = {
    0x00, 0x01, 0x81, 0x83, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    1, 'q', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0x00, 0x10, 0x00, 0x01,
    /* example.com SOA, TTL 3600: mname, rname as pointers, serial, refresh, retry, expire, minimum 300 */
    0xc0, 0x0e, 0x00, 0x06, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x18,
    0xc0, 0x0e, 0xc0, 0x0e, 0, 0, 0, 1, 0, 0, 0x0e, 0x10, 0, 0, 0x03, 0x84, 0, 0x09, 0x3a, 0x80, 0, 0, 0x01, 0x2c,
  };
  gboolean ok = FALSE;
  guint32 neg = 0;
  g_autoptr (SwDnsAnswer) a = parse (pkt, sizeof pkt, SW_DNS_TYPE_TXT, &ok, &neg);
  g_assert_true (ok);
  g_assert_cmpint (a->status, ==, SW_DNS_STATUS_NXDOMAIN);
  g_assert_cmpuint (neg, ==, 300);
}

/* Every truncation of a valid packet is refused (the counts promise more), and a name
 * whose compression pointer points at itself is refused. */
static void
test_malformed (void)
{
  g_autoptr (SwDnsAnswer) want = txt_answer (3);
  guint8 buf[4096];
  gsize len = 0;
  g_assert_true (sw_dns_answer_to_wire (want, 7, buf, sizeof buf, &len));
  for (gsize cut = 0; cut < len; cut++)
    {
      /* a copy of exactly @cut octets, so that the sanitizers see any read past it */
      g_autofree guint8 *copy = g_memdup2 (buf, cut);
      gboolean ok = TRUE;
      g_autoptr (SwDnsAnswer) got = parse (copy, cut, SW_DNS_TYPE_TXT, &ok, NULL);
      g_assert_false (ok);
    }
  static const guint8 loop[] = {
    0x00, 0x01, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    1, 'q', 0, 0x00, 0x0f, 0x00, 0x01,
    /* MX whose exchange is a pointer to itself (offset 31) */
    0xc0, 0x0c, 0x00, 0x0f, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x04, 0x00, 0x0a, 0xc0, 0x21,
  };
  gboolean ok = TRUE;
  g_autoptr (SwDnsAnswer) a = parse (loop, sizeof loop, SW_DNS_TYPE_MX, &ok, NULL);
  g_assert_false (ok);
}

/* More records than SW_MAX_DNS_ANSWER_RRS: the first ones are kept. */
static void
test_cap (void)
{
  g_autoptr (SwDnsAnswer) want = txt_answer (SW_MAX_DNS_ANSWER_RRS + 5);
  g_autofree guint8 *buf = g_malloc (65536);
  gsize len = 0;
  g_assert_true (sw_dns_answer_to_wire (want, 7, buf, 65536, &len));
  gboolean ok = FALSE;
  g_autoptr (SwDnsAnswer) got = parse (buf, len, SW_DNS_TYPE_TXT, &ok, NULL);
  g_assert_true (ok);
  g_assert_cmpuint (got->rdata->len, ==, SW_MAX_DNS_ANSWER_RRS);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dns/wire/round-trip", test_round_trip);
  g_test_add_func ("/dns/wire/cname-and-ttl", test_cname_and_ttl);
  g_test_add_func ("/dns/wire/mx-compressed", test_mx_compressed);
  g_test_add_func ("/dns/wire/negative-ttl", test_negative_ttl);
  g_test_add_func ("/dns/wire/malformed", test_malformed);
  g_test_add_func ("/dns/wire/cap", test_cap);
  return g_test_run ();
}
