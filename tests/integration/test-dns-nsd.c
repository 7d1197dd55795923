/* Integration test of SwResolver's libunbound backend against a real authoritative server:
 * NSD on 127.0.0.1, started by nsd-fixture.sh, which sets SW_NSD_PORT, SW_NSD_FORWARD and
 * SW_NSD_PID. Each answer is compared with the zone backend reading the same zone files.
 * The cache test stops NSD and therefore runs last. */
#include "nsd-probe.h"
#include "sw-resolver.h"
#include "sw-limits.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <poll.h>
#include <resolv.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *nsd_forward;
static guint       nsd_port;
static GPid        nsd_pid;
static SwResolver *unbound_resolver; /* forwards to NSD; shared by the tests */
static SwResolver *zone_resolver;    /* the same zone files, zone backend */

/* TRUE if a DNS server answers a query on 127.0.0.1:@port within 300 ms. */
static gboolean
server_answers (guint port)
{
  return sw_test_dns_server_answers (port, "example.com");
}

/* Same rendering as test-dns-zone.c: records as text, sorted, joined by '|'. */
static gint
cmp_strp (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

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
  g_ptr_array_sort (parts, cmp_strp);
  g_ptr_array_add (parts, NULL);
  return g_strjoinv ("|", (char **) parts->pdata);
}

typedef struct {
  const char *name;
  guint16     qtype;
  SwDnsStatus status;
  const char *data;
  gboolean    zone_differs; /* the zone backend answers differently (see comment) */
} Case;

static const Case cases[] = {
  { "example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "v=spf1 ip4:192.0.2.0/24 mx -all", FALSE },
  { "example.com", SW_DNS_TYPE_A, SW_DNS_STATUS_OK, "192.0.2.80", FALSE },
  { "example.com", SW_DNS_TYPE_AAAA, SW_DNS_STATUS_OK, "2001:db8::80", FALSE },
  { "example.com", SW_DNS_TYPE_MX, SW_DNS_STATUS_OK, "10 mx1.example.com|20 mx2.example.net", FALSE },
  { "example.com", SW_DNS_TYPE_NS, SW_DNS_STATUS_OK, "ns1.example.com", FALSE },
  { "example.com", SW_DNS_TYPE_SOA, SW_DNS_STATUS_OK, "soa", FALSE },
  { "example.com", SW_DNS_TYPE_PTR, SW_DNS_STATUS_NODATA, "", FALSE },
  { "mx1.example.com", SW_DNS_TYPE_A, SW_DNS_STATUS_OK, "192.0.2.25", FALSE },
  { "mx1.example.com", SW_DNS_TYPE_AAAA, SW_DNS_STATUS_OK, "2001:db8::25", FALSE },
  { "mx1.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NODATA, "", FALSE },
  { "www.example.com", SW_DNS_TYPE_A, SW_DNS_STATUS_OK, "192.0.2.25", FALSE },
  { "www.example.com", SW_DNS_TYPE_CNAME, SW_DNS_STATUS_OK, "mx1.example.com", FALSE },
  { "_dmarc.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "v=DMARC1; p=reject; rua=mailto:dmarc@example.com",
    FALSE },
  { "sel._domainkey.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK,
    "v=DKIM1; k=rsa; "
    "p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA1RXDsowRqGXnc5xzO2GCaWak26C9dabFparopyFqLLlcCij7nLejzNS2WIwGzMWB/"
    "NnqeEySNN2b+o7ncN7O5M5LrFkOw2ZVT6TZP3pPfK+ijWoSAkLPBxms20H0zyRPg87W4AZepwUsS1A7h1JucSiwXr9ziXK5x9DjfhKfmsES9Qc"
    "MlhRVND8TnQWaWhYS178kOEHxIHld1rx13RPKf8O/PWNxm+GqotF2Kgj3FPa8t5ZuOn99b5tOoUQ/gbwBf+I5DvrKk+SvLLH6AZu/"
    "kY7TqVlPOrWf8R2HZAIkTP2/o6caqLpCuF6Il4QAjU7hOJO8Bj5OcTGHpxAHGIWJiwIDAQAB",
    FALSE },
  { "multi.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "first second third", FALSE },
  { "escapes.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "quote\" backslash\\ octalA", FALSE },
  { "both.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "text", FALSE },
  { "both.example.com", SW_DNS_TYPE_SPF, SW_DNS_STATUS_OK, "v=spf1 -all", FALSE },
  { "deep.ent.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "below an empty non-terminal", FALSE },
  { "ent.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NODATA, "", FALSE },
  { "nothere.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NXDOMAIN, "", FALSE },
  { "_dmarc.nothere.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NXDOMAIN, "", FALSE },
  { "x.deep.ent.example.com", SW_DNS_TYPE_A, SW_DNS_STATUS_NXDOMAIN, "", FALSE },
  { "any.wild.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "wildcard", FALSE },
  { "any.wild.example.com", SW_DNS_TYPE_A, SW_DNS_STATUS_NODATA, "", FALSE },
  { "private.example.com", SW_DNS_TYPE_A, SW_DNS_STATUS_OK, "10.1.2.3", FALSE },
  { "loopback.example.com", SW_DNS_TYPE_A, SW_DNS_STATUS_OK, "127.0.0.2", FALSE },
  /* the sub-zone */
  { "sub.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "v=spf1 -all", FALSE },
  { "host.sub.example.com", SW_DNS_TYPE_A, SW_DNS_STATUS_OK, "198.51.100.7", FALSE },
  { "host.sub.example.com", SW_DNS_TYPE_MX, SW_DNS_STATUS_NODATA, "", FALSE },
  { "_dmarc.sub.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "v=DMARC1; p=none", FALSE },
  { "nothere.sub.example.com", SW_DNS_TYPE_A, SW_DNS_STATUS_NXDOMAIN, "", FALSE },
  /* second zone, CNAME across zones */
  { "mx2.example.net", SW_DNS_TYPE_A, SW_DNS_STATUS_OK, "192.0.2.26", FALSE },
  { "alias.example.net", SW_DNS_TYPE_A, SW_DNS_STATUS_OK, "192.0.2.25", FALSE },
  { "nothere.example.net", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NXDOMAIN, "", FALSE },
  /* A zone NSD does not serve: NSD answers REFUSED, libunbound SERVFAIL. The zone backend
   * has no data there and answers NXDOMAIN. */
  { "example.org", SW_DNS_TYPE_A, SW_DNS_STATUS_SERVFAIL, "", TRUE },
};

static void
check_case (SwResolver *r, const Case *c, guint i, gboolean compare_zone)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SwDnsAnswer) a = NULL;
  if (!sw_resolver_query (r, c->name, c->qtype, &a, &error))
    g_error ("case %u (%s/%u): %s", i, c->name, c->qtype, error->message);
  g_autofree char *got = render (a);
  if (a->status != c->status || g_strcmp0 (got, c->data) != 0)
    g_error ("case %u (%s/%u): got %s \"%s\", want %s \"%s\"", i, c->name, c->qtype,
             sw_dns_status_to_string (a->status), got, sw_dns_status_to_string (c->status), c->data);
  if (a->dnssec != SW_DNSSEC_UNKNOWN || a->why_bogus != NULL)
    g_error ("case %u (%s): dnssec state %d without validation", i, c->name, a->dnssec);
  if (a->status == SW_DNS_STATUS_OK && (a->ttl == 0 || a->ttl > 3600))
    g_error ("case %u (%s): ttl %u", i, c->name, a->ttl);
  if (!compare_zone || c->zone_differs)
    return;
  g_autoptr (SwDnsAnswer) z = NULL;
  g_assert_true (sw_resolver_query (zone_resolver, c->name, c->qtype, &z, &error));
  g_autofree char *zgot = render (z);
  if (z->status != a->status || g_strcmp0 (zgot, got) != 0)
    g_error ("case %u (%s/%u): zone backend says %s \"%s\", NSD %s \"%s\"", i, c->name, c->qtype,
             sw_dns_status_to_string (z->status), zgot, sw_dns_status_to_string (a->status), got);
  /* Same records in the same wire form (TXT strings, names). */
  if (a->status == SW_DNS_STATUS_OK && a->qtype != SW_DNS_TYPE_SOA && a->rdata->len == 1)
    g_assert_true (g_bytes_equal (g_ptr_array_index (a->rdata, 0), g_ptr_array_index (z->rdata, 0)));
}

static void
test_answers (void)
{
  g_assert_cmpstr (sw_resolver_get_backend_name (unbound_resolver), ==, "unbound");
  g_assert_false (sw_resolver_get_dnssec (unbound_resolver));
  guint64 before = sw_resolver_get_query_count (unbound_resolver);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    check_case (unbound_resolver, &cases[i], i, TRUE);
  g_assert_cmpuint (sw_resolver_get_query_count (unbound_resolver) - before, ==, G_N_ELEMENTS (cases));
}

/* A second, independent resolver (no shared cache) asked from many threads at once. */
typedef struct {
  SwResolver *resolver;
  guint       seed;
} ThreadData;

static gpointer
query_thread (gpointer user_data)
{
  ThreadData *td = user_data;
  for (guint n = 0; n < 3 * G_N_ELEMENTS (cases); n++)
    {
      guint i = (td->seed + n * 5) % G_N_ELEMENTS (cases);
      check_case (td->resolver, &cases[i], i, FALSE);
    }
  return NULL;
}

static void
test_threads (void)
{
  g_autoptr (GError) error = NULL;
  SwResolverOptions opts = { .forward = nsd_forward, .timeout_ms = 5000 };
  g_autoptr (SwResolver) r = sw_resolver_new_unbound (&opts, &error);
  g_assert_no_error (error);
  enum { N_THREADS = 8 };
  ThreadData data[N_THREADS];
  GThread *threads[N_THREADS];
  for (guint t = 0; t < N_THREADS; t++)
    {
      data[t] = (ThreadData) { r, t * 11 };
      threads[t] = g_thread_new ("dns-nsd-test", query_thread, &data[t]);
    }
  for (guint t = 0; t < N_THREADS; t++)
    g_thread_join (threads[t]);
  g_assert_cmpuint (sw_resolver_get_query_count (r), ==, N_THREADS * 3 * G_N_ELEMENTS (cases));
}

static void
test_invalid_names (void)
{
  const char *bad[] = { "", "a..example.com", "exa mple.com", "b\xc3\xbc" "cher.example" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SwDnsAnswer) a = NULL;
      if (sw_resolver_query (unbound_resolver, bad[i], SW_DNS_TYPE_TXT, &a, &error)
          || !g_error_matches (error, SW_RESOLVER_ERROR, SW_RESOLVER_ERROR_INVALID_NAME))
        g_error ("case %u accepted", i);
    }
}

static void
test_setup_errors (void)
{
  static const char *const bad_forward[] = { "not-an-ip", "127.0.0.1:0", "127.0.0.1:70000", "127.0.0.1:x",
                                             "[::1", "[::1]x", "[::1]:", "", "300.1.1.1" };
  for (guint i = 0; i < G_N_ELEMENTS (bad_forward); i++)
    {
      g_autoptr (GError) error = NULL;
      SwResolverOptions opts = { .forward = bad_forward[i] };
      g_autoptr (SwResolver) r = sw_resolver_new_unbound (&opts, &error);
      if (r != NULL || !g_error_matches (error, SW_RESOLVER_ERROR, SW_RESOLVER_ERROR_SETUP))
        g_error ("forward case %u (%s) accepted", i, bad_forward[i]);
    }
  static const char *const good_forward[] = { "127.0.0.1", "127.0.0.1:53", "::1", "[::1]", "[::1]:5353" };
  for (guint i = 0; i < G_N_ELEMENTS (good_forward); i++)
    {
      g_autoptr (GError) error = NULL;
      SwResolverOptions opts = { .forward = good_forward[i] };
      g_autoptr (SwResolver) r = sw_resolver_new_unbound (&opts, &error);
      if (r == NULL)
        g_error ("forward case %u (%s) refused: %s", i, good_forward[i], error->message);
    }
  g_autoptr (GError) error = NULL;
  SwResolverOptions opts = { .forward = nsd_forward, .dnssec = TRUE,
                             .trust_anchor_file = "/nonexistent/sw-dns-test/root.key" };
  g_autoptr (SwResolver) r = sw_resolver_new_unbound (&opts, &error);
  g_assert_error (error, SW_RESOLVER_ERROR, SW_RESOLVER_ERROR_SETUP);
  g_assert_null (r);
  /* The system resolver configuration (no forwarder) can be set up without querying. */
  g_clear_error (&error);
  g_autoptr (SwResolver) sys = sw_resolver_new_unbound (NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sw_resolver_get_backend_name (sys), ==, "unbound");
}

/* DNSSEC validation with the root trust anchor cannot build a chain of trust through a
 * forwarder that serves only the test zones: every answer is bogus, which must come back
 * as SERVFAIL with dnssec BOGUS and the validator's reason. */
static void
test_dnssec_bogus (void)
{
  g_autoptr (GError) error = NULL;
  SwResolverOptions opts = { .forward = nsd_forward, .dnssec = TRUE, .timeout_ms = 5000 };
  g_autoptr (SwResolver) r = sw_resolver_new_unbound (&opts, &error);
  g_assert_no_error (error);
  g_assert_true (sw_resolver_get_dnssec (r));
  g_autoptr (SwDnsAnswer) a = NULL;
  g_assert_true (sw_resolver_query (r, "example.com", SW_DNS_TYPE_TXT, &a, &error));
  g_assert_no_error (error);
  if (a->status != SW_DNS_STATUS_SERVFAIL || a->dnssec != SW_DNSSEC_BOGUS || a->why_bogus == NULL
      || a->rdata->len != 0)
    g_error ("got %s dnssec %d why %s", sw_dns_status_to_string (a->status), a->dnssec, a->why_bogus);
  g_test_message ("why_bogus: %s", a->why_bogus);
}

/* signed.example.org is signed (tests/data/dns/signed/make-signed-zone.sh) and its DS is
 * the trust anchor: answers under it are SECURE, one record altered after signing is
 * BOGUS (SERVFAIL), and names outside the anchor's zone are INSECURE. */
static void
test_dnssec_signed_zone (void)
{
  static const struct {
    const char   *name;
    guint16       qtype;
    SwDnsStatus   status;
    SwDnssecState dnssec;
    const char   *data;
  } dcases[] = {
    { "good.signed.example.org", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, SW_DNSSEC_SECURE, "signed text" },
    { "good.signed.example.org", SW_DNS_TYPE_A, SW_DNS_STATUS_OK, SW_DNSSEC_SECURE, "192.0.2.44" },
    { "good.signed.example.org", SW_DNS_TYPE_MX, SW_DNS_STATUS_NODATA, SW_DNSSEC_SECURE, "" },
    { "_dmarc.signed.example.org", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, SW_DNSSEC_SECURE, "v=DMARC1; p=reject" },
    { "nothere.signed.example.org", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NXDOMAIN, SW_DNSSEC_SECURE, "" },
    { "tampered.signed.example.org", SW_DNS_TYPE_TXT, SW_DNS_STATUS_SERVFAIL, SW_DNSSEC_BOGUS, "" },
    { "example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, SW_DNSSEC_INSECURE, "v=spf1 ip4:192.0.2.0/24 mx -all" },
    { "nothere.example.com", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NXDOMAIN, SW_DNSSEC_INSECURE, "" },
  };
  g_autoptr (GError) error = NULL;
  g_autofree char *ta = g_test_build_filename (G_TEST_DIST, "data", "dns", "signed", "signed.example.org.ds", NULL);
  SwResolverOptions opts = { .forward = nsd_forward, .dnssec = TRUE, .trust_anchor_file = ta, .timeout_ms = 5000 };
  g_autoptr (SwResolver) r = sw_resolver_new_unbound (&opts, &error);
  g_assert_no_error (error);
  /* The second round comes from the answer cache, with the validated state; the bogus
   * answer (SERVFAIL) is validated again. */
  guint cacheable = 0;
  for (guint i = 0; i < G_N_ELEMENTS (dcases); i++)
    cacheable += dcases[i].status != SW_DNS_STATUS_SERVFAIL;
  for (guint n = 0; n < 2 * G_N_ELEMENTS (dcases); n++)
    {
      guint i = n % G_N_ELEMENTS (dcases);
      if (n == G_N_ELEMENTS (dcases))
        g_assert_cmpuint (sw_resolver_get_cache_hit_count (r), ==, 0);
      g_autoptr (SwDnsAnswer) a = NULL;
      g_assert_true (sw_resolver_query (r, dcases[i].name, dcases[i].qtype, &a, &error));
      g_autofree char *got = render (a);
      if (a->status != dcases[i].status || a->dnssec != dcases[i].dnssec || g_strcmp0 (got, dcases[i].data) != 0
          || (a->dnssec == SW_DNSSEC_BOGUS) != (a->why_bogus != NULL))
        g_error ("dnssec case %u (%s/%u): got %s %s \"%s\" (%s)", i, dcases[i].name, dcases[i].qtype,
                 sw_dns_status_to_string (a->status), sw_dnssec_state_to_string (a->dnssec), got,
                 a->why_bogus ? a->why_bogus : "");
      if (a->why_bogus != NULL)
        g_test_message ("%s: why_bogus: %s", dcases[i].name, a->why_bogus);
    }
  g_assert_cmpuint (sw_resolver_get_cache_hit_count (r), ==, cacheable);
}

/* A server that receives queries and never answers, or a port where nothing listens
 * (libunbound retries after ICMP port-unreachable): every query must come back as TIMEOUT
 * after about timeout_ms, also with several threads waiting at once. */
typedef struct {
  SwResolver *resolver;
  const char *name;
  gint64      elapsed_us;
  SwDnsStatus status;
} TimeoutData;

static gpointer
timeout_thread (gpointer user_data)
{
  TimeoutData *td = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (SwDnsAnswer) a = NULL;
  gint64 start = g_get_monotonic_time ();
  g_assert_true (sw_resolver_query (td->resolver, td->name, SW_DNS_TYPE_TXT, &a, &error));
  td->elapsed_us = g_get_monotonic_time () - start;
  td->status = a->status;
  return NULL;
}

static void
run_timeouts (guint port, const char *what)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *fwd = g_strdup_printf ("127.0.0.1:%u", port);
  SwResolverOptions opts = { .forward = fwd, .timeout_ms = 800 };
  g_autoptr (SwResolver) r = sw_resolver_new_unbound (&opts, &error);
  g_assert_no_error (error);
  enum { N = 4 };
  static const char *const names[N] = { "a.example.com", "b.example.com", "c.example.org", "_dmarc.example.net" };
  TimeoutData data[N];
  GThread *threads[N];
  for (guint i = 0; i < N; i++)
    {
      data[i] = (TimeoutData) { r, names[i], 0, SW_DNS_STATUS_OK };
      threads[i] = g_thread_new ("dns-timeout", timeout_thread, &data[i]);
    }
  for (guint i = 0; i < N; i++)
    {
      g_thread_join (threads[i]);
      g_test_message ("%s: %s after %" G_GINT64_FORMAT " ms", names[i], sw_dns_status_to_string (data[i].status),
                      data[i].elapsed_us / 1000);
      if (data[i].elapsed_us >= 3 * G_USEC_PER_SEC)
        g_error ("%s: took %" G_GINT64_FORMAT " ms with an 800 ms timeout", names[i], data[i].elapsed_us / 1000);
      if (data[i].status != SW_DNS_STATUS_TIMEOUT || data[i].elapsed_us < 700 * 1000)
        g_error ("%s (%s): %s after %" G_GINT64_FORMAT " ms, want timeout after ~800 ms", names[i], what,
                 sw_dns_status_to_string (data[i].status), data[i].elapsed_us / 1000);
    }
  g_assert_cmpuint (sw_resolver_get_query_count (r), ==, N);
  /* Unref right after timed-out queries: pending libunbound work is cancelled cleanly. */
}

/* A UDP socket on 127.0.0.1 that receives queries and never answers (@fd_out: close it
 * when done); returns its port. */
static guint
silent_server (int *fd_out)
{
  int fd = socket (AF_INET, SOCK_DGRAM, 0);
  g_assert_cmpint (fd, >=, 0);
  struct sockaddr_in sa = { .sin_family = AF_INET };
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &sa, sizeof sa), ==, 0);
  socklen_t len = sizeof sa;
  g_assert_cmpint (getsockname (fd, (struct sockaddr *) &sa, &len), ==, 0);
  *fd_out = fd;
  return ntohs (sa.sin_port);
}

static void
test_timeout_silent_server (void)
{
  int fd = -1;
  run_timeouts (silent_server (&fd), "silent server");
  close (fd);
}

static void
test_timeout_nothing_listens (void)
{
  /* A port that was free a moment ago and is closed again. */
  int fd = socket (AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in sa = { .sin_family = AF_INET };
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &sa, sizeof sa), ==, 0);
  socklen_t len = sizeof sa;
  g_assert_cmpint (getsockname (fd, (struct sockaddr *) &sa, &len), ==, 0);
  close (fd);
  run_timeouts (ntohs (sa.sin_port), "nothing listens");
}

/* A server that never answers must not hold the resolver's places for queries at once
 * (at most 100 with libunbound) longer than the timeout: 250 names asked without waiting
 * all come back as TIMEOUT, the last ones a few timeouts after the first, not when
 * libunbound gives up on its own (minutes). */
typedef struct {
  GMutex lock;
  GCond  cond;
  guint  answered;
  guint  timeouts;
} AsyncCount;

static void
async_counted (const SwDnsAnswer *answer, gpointer user_data)
{
  AsyncCount *c = user_data;
  g_mutex_lock (&c->lock);
  c->answered++;
  if (answer->status == SW_DNS_STATUS_TIMEOUT)
    c->timeouts++;
  g_cond_signal (&c->cond);
  g_mutex_unlock (&c->lock);
}

static void
test_silent_server_frees_places (void)
{
  int fd = -1;
  guint port = silent_server (&fd);
  g_autoptr (GError) error = NULL;
  g_autofree char *fwd = g_strdup_printf ("127.0.0.1:%u", port);
  SwResolverOptions opts = { .forward = fwd, .timeout_ms = 400 };
  g_autoptr (SwResolver) r = sw_resolver_new_unbound (&opts, &error);
  g_assert_no_error (error);
  enum { N = 250 };
  AsyncCount c = { 0 };
  g_mutex_init (&c.lock);
  g_cond_init (&c.cond);
  gint64 start = g_get_monotonic_time ();
  for (guint i = 0; i < N; i++)
    {
      g_autofree char *name = g_strdup_printf ("n%u.silent.example", i);
      g_assert_true (sw_resolver_query_async (r, name, SW_DNS_TYPE_TXT, async_counted, &c, &error));
    }
  gint64 deadline = start + 10 * G_USEC_PER_SEC;
  g_mutex_lock (&c.lock);
  while (c.answered < N && g_cond_wait_until (&c.cond, &c.lock, deadline))
    ;
  guint answered = c.answered, timeouts = c.timeouts;
  g_mutex_unlock (&c.lock);
  gint64 elapsed_ms = (g_get_monotonic_time () - start) / 1000;
  g_test_message ("%u of %u answered (%u TIMEOUT) after %" G_GINT64_FORMAT " ms", answered, N, timeouts, elapsed_ms);
  g_assert_cmpuint (answered, ==, N);
  g_assert_cmpuint (timeouts, ==, N);
  /* three rounds of at most 100 places, 400 ms each, and some slack */
  g_assert_cmpint (elapsed_ms, >=, 1000);
  g_assert_cmpint (elapsed_ms, <, 4000);
  g_clear_pointer (&r, sw_resolver_unref);
  g_mutex_clear (&c.lock);
  g_cond_clear (&c.cond);
  close (fd);
}

/* Runs last: stops NSD, then the shared resolver still answers what it has cached, and
 * a name it never asked for no longer gets an answer. */
static void
test_cache_after_stop (void)
{
  g_autoptr (GError) error = NULL;
  SwResolverOptions opts = { .forward = nsd_forward, .timeout_ms = 800 };
  g_autoptr (SwResolver) r = sw_resolver_new_unbound (&opts, &error);
  g_assert_no_error (error);
  g_autoptr (SwDnsAnswer) first = NULL;
  g_assert_true (sw_resolver_query (r, "cached.example.com", SW_DNS_TYPE_TXT, &first, &error));
  g_assert_cmpint (first->status, ==, SW_DNS_STATUS_OK);
  g_autoptr (SwDnsAnswer) neg = NULL;
  g_assert_true (sw_resolver_query (r, "nothere.example.com", SW_DNS_TYPE_TXT, &neg, &error));
  g_assert_cmpint (neg->status, ==, SW_DNS_STATUS_NXDOMAIN);

  g_assert_true (server_answers (nsd_port));
  g_assert_cmpint (kill (nsd_pid, SIGTERM), ==, 0);
  guint tries = 0;
  while (server_answers (nsd_port) && tries++ < 30)
    g_usleep (100 * 1000);
  g_assert_false (server_answers (nsd_port));

  g_autoptr (SwDnsAnswer) again = NULL;
  gint64 start = g_get_monotonic_time ();
  g_assert_true (sw_resolver_query (r, "cached.example.com", SW_DNS_TYPE_TXT, &again, &error));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 500 * 1000);
  g_assert_cmpint (again->status, ==, SW_DNS_STATUS_OK);
  g_autofree char *t1 = sw_dns_answer_dup_txt (first, 0);
  g_autofree char *t2 = sw_dns_answer_dup_txt (again, 0);
  g_assert_cmpstr (t1, ==, "answered from the cache once NSD is gone");
  g_assert_cmpstr (t2, ==, t1);
  g_autoptr (SwDnsAnswer) neg2 = NULL;
  g_assert_true (sw_resolver_query (r, "nothere.example.com", SW_DNS_TYPE_TXT, &neg2, &error));
  g_assert_cmpint (neg2->status, ==, SW_DNS_STATUS_NXDOMAIN);

  g_autoptr (SwDnsAnswer) fresh = NULL;
  g_assert_true (sw_resolver_query (r, "mx1.example.com", SW_DNS_TYPE_AAAA, &fresh, &error));
  if (fresh->status != SW_DNS_STATUS_TIMEOUT && fresh->status != SW_DNS_STATUS_SERVFAIL)
    g_error ("uncached name after NSD stopped: %s", sw_dns_status_to_string (fresh->status));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  const char *port = g_getenv ("SW_NSD_PORT");
  const char *pid = g_getenv ("SW_NSD_PID");
  nsd_forward = g_getenv ("SW_NSD_FORWARD");
  guint64 v;
  if (port == NULL || pid == NULL || nsd_forward == NULL || !g_ascii_string_to_unsigned (port, 10, 1, 65535, &v, NULL))
    g_error ("run this test through tests/integration/nsd-fixture.sh (SW_NSD_PORT etc. are not set)");
  nsd_port = (guint) v;
  if (!g_ascii_string_to_unsigned (pid, 10, 1, G_MAXINT, &v, NULL))
    g_error ("bad SW_NSD_PID");
  nsd_pid = (GPid) v;

  g_autoptr (GError) error = NULL;
  SwResolverOptions opts = { .forward = nsd_forward, .timeout_ms = 5000 };
  unbound_resolver = sw_resolver_new_unbound (&opts, &error);
  g_assert_no_error (error);
  g_autoptr (GString) all = g_string_new (NULL);
  static const char *const zones[] = { "example.com.zone", "sub.example.com.zone", "example.net.zone" };
  for (guint i = 0; i < G_N_ELEMENTS (zones); i++)
    {
      g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "dns", "nsd", zones[i], NULL);
      g_autofree char *text = NULL;
      if (!g_file_get_contents (path, &text, NULL, &error))
        g_error ("%s", error->message);
      g_string_append (all, text);
    }
  zone_resolver = sw_resolver_new_zone_text (all->str, &error);
  g_assert_no_error (error);

  g_test_add_func ("/integration/dns/nsd/answers", test_answers);
  g_test_add_func ("/integration/dns/nsd/threads", test_threads);
  g_test_add_func ("/integration/dns/nsd/invalid-names", test_invalid_names);
  g_test_add_func ("/integration/dns/nsd/setup-errors", test_setup_errors);
  g_test_add_func ("/integration/dns/nsd/dnssec-bogus", test_dnssec_bogus);
  g_test_add_func ("/integration/dns/nsd/dnssec-signed-zone", test_dnssec_signed_zone);
  g_test_add_func ("/integration/dns/nsd/timeout-silent-server", test_timeout_silent_server);
  g_test_add_func ("/integration/dns/nsd/timeout-nothing-listens", test_timeout_nothing_listens);
  g_test_add_func ("/integration/dns/nsd/silent-server-frees-places", test_silent_server_frees_places);
  g_test_add_func ("/integration/dns/nsd/cache-after-stop", test_cache_after_stop);
  int rc = g_test_run ();
  sw_resolver_unref (unbound_resolver);
  sw_resolver_unref (zone_resolver);
  return rc;
}
