/* Integration test of the libunbound backend's answer cache against NSD on 127.0.0.1,
 * started by nsd-fixture.sh with the zones of tests/data/dns/cache (short.example.net:
 * TTL 2 and negative TTL 2; long.example.net: TTL and negative TTL 3600). Hits are told
 * from misses with sw_resolver_get_cache_hit_count(): libunbound's own cache would answer
 * a repeated question too. The last test stops NSD, and starts it again on the same port
 * with the fixture's configuration (SW_NSD_DIR/nsd.conf). */
#include "nsd-probe.h"
#include "sw-resolver.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <poll.h>
#include <resolv.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *nsd_forward;
static const char *nsd_dir;
static guint       nsd_port;
static GPid        nsd_pid;

/* TRUE if a DNS server answers a query on 127.0.0.1:@port within 300 ms. */
static gboolean
server_answers (guint port)
{
  return sw_test_dns_server_answers (port, "long.example.net");
}

static SwResolver *
new_resolver (gint cache_entries, guint timeout_ms)
{
  g_autoptr (GError) error = NULL;
  SwResolverOptions opts = { .forward = nsd_forward, .timeout_ms = timeout_ms, .cache_entries = cache_entries };
  SwResolver *r = sw_resolver_new_unbound (&opts, &error);
  g_assert_no_error (error);
  return r;
}

static SwDnsAnswer *
ask (SwResolver *r, const char *name, guint16 qtype)
{
  g_autoptr (GError) error = NULL;
  SwDnsAnswer *a = NULL;
  if (!sw_resolver_query (r, name, qtype, &a, &error))
    g_error ("%s/%u: %s", name, qtype, error->message);
  return a;
}

/* Asks and checks the status (and, for OK TXT answers, the text); returns the answer. */
static SwDnsAnswer *
ask_expect (SwResolver *r, const char *name, guint16 qtype, SwDnsStatus status, const char *text)
{
  SwDnsAnswer *a = ask (r, name, qtype);
  g_autofree char *got = a->rdata->len > 0 && qtype == SW_DNS_TYPE_TXT ? sw_dns_answer_dup_txt (a, 0) : NULL;
  if (a->status != status || g_strcmp0 (got, text) != 0)
    g_error ("%s/%u: got %s \"%s\", want %s \"%s\"", name, qtype, sw_dns_status_to_string (a->status),
             got ? got : "", sw_dns_status_to_string (status), text ? text : "");
  return a;
}

static void
test_hit (void)
{
  g_autoptr (SwResolver) r = new_resolver (0, 5000);
  g_autoptr (SwDnsAnswer) first = ask_expect (r, "ok.long.example.net", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK,
                                              "cached for an hour");
  g_assert_cmpuint (sw_resolver_get_cache_hit_count (r), ==, 0);
  g_assert_cmpuint (sw_resolver_get_cache_size (r), ==, 1);
  g_autoptr (SwDnsAnswer) again = ask_expect (r, "ok.long.example.net", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK,
                                              "cached for an hour");
  g_assert_cmpuint (sw_resolver_get_cache_hit_count (r), ==, 1);
  g_assert_true (again != first && again->rdata != first->rdata);
  g_assert_cmpstr (again->qname, ==, "ok.long.example.net");
  g_assert_cmpuint (again->qtype, ==, SW_DNS_TYPE_TXT);
  g_assert_cmpint (again->dnssec, ==, SW_DNSSEC_UNKNOWN);
  g_assert_null (again->why_bogus);
  g_assert_true (g_bytes_equal (g_ptr_array_index (again->rdata, 0), g_ptr_array_index (first->rdata, 0)));
  g_assert_cmpuint (again->ttl, <=, first->ttl);
  g_assert_cmpuint (again->ttl, >, 3500);

  /* The key is the canonical name: case and a trailing dot do not matter. */
  g_autoptr (SwDnsAnswer) upper = ask_expect (r, "OK.Long.Example.NET.", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK,
                                              "cached for an hour");
  g_assert_cmpuint (sw_resolver_get_cache_hit_count (r), ==, 2);
  g_assert_cmpstr (upper->qname, ==, "ok.long.example.net");
  /* Another type is another entry. */
  g_autoptr (SwDnsAnswer) a = ask_expect (r, "ok.long.example.net", SW_DNS_TYPE_A, SW_DNS_STATUS_NODATA, NULL);
  g_assert_cmpuint (sw_resolver_get_cache_hit_count (r), ==, 2);
  g_assert_cmpuint (sw_resolver_get_cache_size (r), ==, 2);
  /* Every answer is counted as a query, from the cache or not. */
  g_assert_cmpuint (sw_resolver_get_query_count (r), ==, 4);
}

static void
test_negative (void)
{
  g_autoptr (SwResolver) r = new_resolver (0, 5000);
  static const struct {
    const char *name;
    guint16     qtype;
    SwDnsStatus status;
  } cases[] = {
    { "nothere.long.example.net", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NXDOMAIN },
    { "nodata.long.example.net", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NODATA },
    { "nothere.short.example.net", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NXDOMAIN },
    { "nodata.short.example.net", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NODATA },
  };
  for (guint round = 0; round < 2; round++)
    for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        g_autoptr (SwDnsAnswer) a = ask_expect (r, cases[i].name, cases[i].qtype, cases[i].status, NULL);
        g_assert_cmpuint (a->rdata->len, ==, 0);
        g_assert_cmpuint (a->ttl, ==, 0);
        guint64 want_hits = round == 0 ? 0 : i + 1;
        if (sw_resolver_get_cache_hit_count (r) != want_hits)
          g_error ("case %u round %u: %" G_GUINT64_FORMAT " hits, want %" G_GUINT64_FORMAT, i, round,
                   sw_resolver_get_cache_hit_count (r), want_hits);
      }
  g_assert_cmpuint (sw_resolver_get_cache_size (r), ==, G_N_ELEMENTS (cases));
}

/* A 10 s record: the cached copy's ttl is the time left. */
static void
test_ttl_decreases (void)
{
  g_autoptr (SwResolver) r = new_resolver (0, 5000);
  g_autoptr (SwDnsAnswer) first = ask_expect (r, "ten.short.example.net", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK,
                                              "ten seconds");
  g_assert_cmpuint (first->ttl, >=, 9);
  g_assert_cmpuint (first->ttl, <=, 10);
  g_usleep (1200 * 1000);
  g_autoptr (SwDnsAnswer) later = ask_expect (r, "ten.short.example.net", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK,
                                              "ten seconds");
  g_assert_cmpuint (sw_resolver_get_cache_hit_count (r), ==, 1);
  g_assert_cmpuint (later->ttl, <, first->ttl);
  g_assert_cmpuint (later->ttl, >=, 1);
}

/* TTL 0 is not cached; two days are cut to one. */
static void
test_ttl_bounds (void)
{
  g_autoptr (SwResolver) r = new_resolver (0, 5000);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr (SwDnsAnswer) a = ask_expect (r, "zero.short.example.net", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK,
                                              "never cached");
      g_assert_cmpuint (a->ttl, ==, 0);
    }
  g_assert_cmpuint (sw_resolver_get_cache_hit_count (r), ==, 0);
  g_assert_cmpuint (sw_resolver_get_cache_size (r), ==, 0);

  g_autoptr (SwDnsAnswer) first = ask_expect (r, "day.long.example.net", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK,
                                              "two days");
  /* libunbound itself caps TTLs at a day (its cache-max-ttl). */
  g_assert_cmpuint (first->ttl, <=, 86400);
  g_assert_cmpuint (first->ttl, >, 86000);
  g_autoptr (SwDnsAnswer) again = ask_expect (r, "day.long.example.net", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK,
                                              "two days");
  g_assert_cmpuint (sw_resolver_get_cache_hit_count (r), ==, 1);
  g_assert_cmpuint (again->ttl, <=, 86400);
  g_assert_cmpuint (again->ttl, >, 86000);
}

static void
test_disabled (void)
{
  g_autoptr (SwResolver) r = new_resolver (-1, 5000);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (SwDnsAnswer) a = ask_expect (r, "ok.long.example.net", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK,
                                              "cached for an hour");
      g_autoptr (SwDnsAnswer) n = ask_expect (r, "nothere.long.example.net", SW_DNS_TYPE_TXT,
                                              SW_DNS_STATUS_NXDOMAIN, NULL);
    }
  g_assert_cmpuint (sw_resolver_get_cache_hit_count (r), ==, 0);
  g_assert_cmpuint (sw_resolver_get_cache_size (r), ==, 0);
  g_assert_cmpuint (sw_resolver_get_query_count (r), ==, 6);
}

/* More names than the bound: the count stays at the bound, the oldest went first. */
static void
test_bound (void)
{
  enum { BOUND = 8, NAMES = 20 };
  g_autoptr (SwResolver) r = new_resolver (BOUND, 5000);
  for (guint i = 0; i < NAMES; i++)
    {
      g_autofree char *name = g_strdup_printf ("n%u.fill.long.example.net", i);
      g_autoptr (SwDnsAnswer) a = ask_expect (r, name, SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "filler");
      g_assert_cmpuint (sw_resolver_get_cache_size (r), ==, MIN (i + 1, BOUND));
    }
  g_assert_cmpuint (sw_resolver_get_cache_hit_count (r), ==, 0);
  /* The newest BOUND names are cached ... */
  for (guint i = NAMES - BOUND; i < NAMES; i++)
    {
      g_autofree char *name = g_strdup_printf ("n%u.fill.long.example.net", i);
      g_autoptr (SwDnsAnswer) a = ask_expect (r, name, SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "filler");
    }
  g_assert_cmpuint (sw_resolver_get_cache_hit_count (r), ==, BOUND);
  /* ... the first one is not any more; asking for it again drops the oldest (n12). */
  g_autoptr (SwDnsAnswer) old = ask_expect (r, "n0.fill.long.example.net", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK,
                                            "filler");
  g_assert_cmpuint (sw_resolver_get_cache_hit_count (r), ==, BOUND);
  g_assert_cmpuint (sw_resolver_get_cache_size (r), ==, BOUND);
  g_autoptr (SwDnsAnswer) n12 = ask_expect (r, "n12.fill.long.example.net", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK,
                                            "filler");
  g_assert_cmpuint (sw_resolver_get_cache_hit_count (r), ==, BOUND);
  g_assert_cmpuint (sw_resolver_get_cache_size (r), ==, BOUND);
}

/* Many threads on one resolver with a small cache: the same names (hits), different names
 * (misses, evictions), negative answers, all at once. */
typedef struct {
  SwResolver *resolver;
  guint       seed;
} ThreadData;

enum { N_THREADS = 8, ROUNDS = 300, N_FILL = 24, THREAD_BOUND = 16 };

static gpointer
hammer_thread (gpointer user_data)
{
  ThreadData *td = user_data;
  for (guint n = 0; n < ROUNDS; n++)
    {
      /* every other query for one of three hot names */
      guint k = n % 2 ? (td->seed + n * 7) % N_FILL : N_FILL + (td->seed + n) % 3;
      g_autoptr (SwDnsAnswer) a = NULL;
      if (k < N_FILL)
        {
          g_autofree char *name = g_strdup_printf ("t%u.fill.long.example.net", k);
          a = ask_expect (td->resolver, name, SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, "filler");
          g_assert_cmpstr (a->qname, ==, name);
        }
      else if (k == N_FILL)
        a = ask_expect (td->resolver, "ok.long.example.net", SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK,
                        "cached for an hour");
      else if (k == N_FILL + 1)
        a = ask_expect (td->resolver, "nothere.long.example.net", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NXDOMAIN, NULL);
      else
        a = ask_expect (td->resolver, "nodata.long.example.net", SW_DNS_TYPE_TXT, SW_DNS_STATUS_NODATA, NULL);
    }
  return NULL;
}

static void
test_threads (void)
{
  g_autoptr (SwResolver) r = new_resolver (THREAD_BOUND, 5000);
  ThreadData data[N_THREADS];
  GThread   *threads[N_THREADS];
  for (guint t = 0; t < N_THREADS; t++)
    {
      data[t] = (ThreadData) { r, t * 5 };
      threads[t] = g_thread_new ("dns-cache-test", hammer_thread, &data[t]);
    }
  for (guint t = 0; t < N_THREADS; t++)
    g_thread_join (threads[t]);
  g_assert_cmpuint (sw_resolver_get_query_count (r), ==, N_THREADS * ROUNDS);
  g_assert_cmpuint (sw_resolver_get_cache_size (r), <=, THREAD_BOUND);
  g_assert_cmpuint (sw_resolver_get_cache_hit_count (r), >, 0);
  g_assert_cmpuint (sw_resolver_get_cache_hit_count (r), <, N_THREADS * ROUNDS);
  g_test_message ("%u queries, %" G_GUINT64_FORMAT " from the cache", N_THREADS * ROUNDS,
                  sw_resolver_get_cache_hit_count (r));
}

static void
stop_server (GPid pid)
{
  g_assert_cmpint (kill (pid, SIGTERM), ==, 0);
  guint tries = 0;
  while (server_answers (nsd_port) && tries++ < 50)
    g_usleep (100 * 1000);
  g_assert_false (server_answers (nsd_port));
}

static void
die_with_parent (gpointer user_data)
{
  (void) user_data;
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

/* NSD again, on the same port, with the fixture's configuration. */
static GPid
start_server (void)
{
  g_autofree char *nsd = g_find_program_in_path ("nsd");
  if (nsd == NULL)
    nsd = g_strdup ("/usr/sbin/nsd");
  g_autofree char *conf = g_build_filename (nsd_dir, "nsd.conf", NULL);
  char *argv[] = { nsd, "-d", "-c", conf, NULL };
  g_autoptr (GError) error = NULL;
  GPid pid = 0;
  if (!g_spawn_async (NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL, die_with_parent,
                      NULL, &pid, &error))
    g_error ("starting NSD again: %s", error->message);
  guint tries = 0;
  while (!server_answers (nsd_port) && tries++ < 50)
    g_usleep (100 * 1000);
  g_assert_true (server_answers (nsd_port));
  return pid;
}

/* Runs last: stops NSD. Long-lived answers (OK, NXDOMAIN, NODATA) still come from the
 * cache; the 2 s ones are gone 3 s later; a failure (TIMEOUT, SERVFAIL) is not cached,
 * so once NSD is back the same question is answered at once. */
static void
test_server_stopped (void)
{
  g_autoptr (SwResolver) r = new_resolver (0, 800);
  static const char *const names[] = { "ok", "nothere", "nodata" };
  static const SwDnsStatus statuses[] = { SW_DNS_STATUS_OK, SW_DNS_STATUS_NXDOMAIN, SW_DNS_STATUS_NODATA };
  static const char *const long_texts[] = { "cached for an hour", NULL, NULL };
  static const char *const short_texts[] = { "expires after two seconds", NULL, NULL };
  gint64 short_cached = g_get_monotonic_time ();
  for (guint round = 0; round < 2; round++)
    for (guint i = 0; i < G_N_ELEMENTS (names); i++)
      {
        g_autofree char *name = g_strdup_printf ("%s.short.example.net", names[i]);
        g_autoptr (SwDnsAnswer) a = ask_expect (r, name, SW_DNS_TYPE_TXT, statuses[i], short_texts[i]);
      }
  g_assert_cmpuint (sw_resolver_get_cache_hit_count (r), ==, 3);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *name = g_strdup_printf ("%s.long.example.net", names[i]);
      g_autoptr (SwDnsAnswer) a = ask_expect (r, name, SW_DNS_TYPE_TXT, statuses[i], long_texts[i]);
    }
  g_assert_cmpuint (sw_resolver_get_cache_hit_count (r), ==, 3);

  stop_server (nsd_pid);

  gint64 start = g_get_monotonic_time ();
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *name = g_strdup_printf ("%s.long.example.net", names[i]);
      g_autoptr (SwDnsAnswer) a = ask_expect (r, name, SW_DNS_TYPE_TXT, statuses[i], long_texts[i]);
    }
  g_assert_cmpuint (sw_resolver_get_cache_hit_count (r), ==, 6);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 300 * 1000);

  /* 3 s after the 2 s answers were cached they are gone: libunbound, asked again,
   * reaches no server. */
  gint64 wait = short_cached + 3 * G_USEC_PER_SEC - g_get_monotonic_time ();
  if (wait > 0)
    g_usleep ((gulong) wait);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *name = g_strdup_printf ("%s.short.example.net", names[i]);
      g_autoptr (SwDnsAnswer) a = ask (r, name, SW_DNS_TYPE_TXT);
      if (a->status != SW_DNS_STATUS_TIMEOUT && a->status != SW_DNS_STATUS_SERVFAIL)
        g_error ("%s after its TTL with NSD stopped: %s", name, sw_dns_status_to_string (a->status));
    }
  g_assert_cmpuint (sw_resolver_get_cache_hit_count (r), ==, 6);
  g_assert_cmpuint (sw_resolver_get_cache_size (r), ==, 3); /* the long ones */

  /* A failure is not cached ... */
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr (SwDnsAnswer) a = ask (r, "back.fill.long.example.net", SW_DNS_TYPE_TXT);
      if (a->status != SW_DNS_STATUS_TIMEOUT && a->status != SW_DNS_STATUS_SERVFAIL)
        g_error ("uncached name with NSD stopped: %s", sw_dns_status_to_string (a->status));
      g_test_message ("with NSD stopped: %s", sw_dns_status_to_string (a->status));
    }
  g_assert_cmpuint (sw_resolver_get_cache_hit_count (r), ==, 6);
  g_assert_cmpuint (sw_resolver_get_cache_size (r), ==, 3);

  /* ... so NSD's answer comes as soon as libunbound has it again. libunbound needs a
   * moment itself: it backs off from a server that stopped answering, and remembers its
   * own SERVFAIL for a few seconds. Until then no failure comes from the answer cache
   * (the hit count stays). */
  GPid again = start_server ();
  static const char *const back_names[] = { "back.fill.long.example.net", "ok.short.example.net" };
  static const char *const back_texts[] = { "filler", "expires after two seconds" };
  for (guint i = 0; i < G_N_ELEMENTS (back_names); i++)
    {
      start = g_get_monotonic_time ();
      guint64 hits = sw_resolver_get_cache_hit_count (r);
      guint size = sw_resolver_get_cache_size (r);
      g_autoptr (SwDnsAnswer) a = NULL;
      while (g_get_monotonic_time () - start < 20 * G_USEC_PER_SEC)
        {
          g_clear_pointer (&a, sw_dns_answer_free);
          a = ask (r, back_names[i], SW_DNS_TYPE_TXT);
          g_assert_cmpuint (sw_resolver_get_cache_hit_count (r), ==, hits);
          if (a->status == SW_DNS_STATUS_OK)
            break;
          g_assert_cmpuint (sw_resolver_get_cache_size (r), ==, size);
          g_usleep (100 * 1000);
        }
      g_autofree char *text = sw_dns_answer_dup_txt (a, 0);
      if (a->status != SW_DNS_STATUS_OK || g_strcmp0 (text, back_texts[i]) != 0)
        g_error ("%s with NSD back: %s", back_names[i], sw_dns_status_to_string (a->status));
      g_test_message ("%s: ok %" G_GINT64_FORMAT " ms after NSD was back", back_names[i],
                      (g_get_monotonic_time () - start) / 1000);
      /* and now it is cached */
      g_assert_cmpuint (sw_resolver_get_cache_size (r), ==, size + 1);
      g_autoptr (SwDnsAnswer) hit = ask_expect (r, back_names[i], SW_DNS_TYPE_TXT, SW_DNS_STATUS_OK, back_texts[i]);
      g_assert_cmpuint (sw_resolver_get_cache_hit_count (r), ==, hits + 1);
    }

  kill (again, SIGTERM);
  int status;
  g_assert_cmpint (waitpid (again, &status, 0), ==, again);
}

/* ---- sw_resolver_query_async() ---- */

typedef struct
{
  GMutex lock;
  GCond cond;
  guint calls;
  guint ok;
  guint timeouts;
  gboolean wrong_text;
  GThread *thread; /* the thread of the last callback */
} AsyncLog;

static void
async_log_init (AsyncLog *l)
{
  memset (l, 0, sizeof *l);
  g_mutex_init (&l->lock);
  g_cond_init (&l->cond);
}

static void
async_log_clear (AsyncLog *l)
{
  g_mutex_clear (&l->lock);
  g_cond_clear (&l->cond);
}

static void
async_answered (const SwDnsAnswer *answer, gpointer data)
{
  AsyncLog *l = data;
  g_autofree char *text = answer->status == SW_DNS_STATUS_OK ? sw_dns_answer_dup_txt (answer, 0) : NULL;
  g_mutex_lock (&l->lock);
  l->calls++;
  if (answer->status == SW_DNS_STATUS_OK)
    l->ok++;
  if (answer->status == SW_DNS_STATUS_TIMEOUT)
    l->timeouts++;
  if (text != NULL && strcmp (text, "cached for an hour") != 0 && strcmp (text, "filler") != 0)
    l->wrong_text = TRUE;
  l->thread = g_thread_self ();
  g_cond_signal (&l->cond);
  g_mutex_unlock (&l->lock);
}

/* Waits (at most 10 s) until @n callbacks have run; returns how many did. */
static guint
async_wait (AsyncLog *l, guint n)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;
  g_mutex_lock (&l->lock);
  while (l->calls < n)
    if (!g_cond_wait_until (&l->cond, &l->lock, deadline))
      break;
  guint calls = l->calls;
  g_mutex_unlock (&l->lock);
  return calls;
}

static void
test_async (void)
{
  g_autoptr (SwResolver) r = new_resolver (0, 5000);
  g_assert_true (sw_resolver_has_async (r));
  g_autoptr (GError) error = NULL;
  AsyncLog l;
  async_log_init (&l);

  /* a miss: answered later, in the resolver's thread, then in the cache */
  g_assert_true (sw_resolver_query_async (r, "ok.long.example.net", SW_DNS_TYPE_TXT, async_answered, &l, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (async_wait (&l, 1), ==, 1);
  g_assert_cmpuint (l.ok, ==, 1);
  g_assert_false (l.wrong_text);
  g_assert_true (l.thread != g_thread_self ());
  g_autoptr (SwDnsAnswer) now = NULL;
  g_assert_true (sw_resolver_query_now (r, "ok.long.example.net", SW_DNS_TYPE_TXT, &now, &error));
  g_assert_nonnull (now);
  g_assert_cmpint (now->status, ==, SW_DNS_STATUS_OK);

  /* a hit: answered before the call returns, in this thread */
  g_assert_true (sw_resolver_query_async (r, "OK.long.example.net.", SW_DNS_TYPE_TXT, async_answered, &l, &error));
  g_assert_cmpuint (l.calls, ==, 2);
  g_assert_true (l.thread == g_thread_self ());

  /* a name that cannot be asked: FALSE, no callback */
  g_assert_false (sw_resolver_query_async (r, "a..b", SW_DNS_TYPE_TXT, async_answered, &l, &error));
  g_assert_error (error, SW_RESOLVER_ERROR, SW_RESOLVER_ERROR_INVALID_NAME);
  g_clear_error (&error);
  g_assert_cmpuint (l.calls, ==, 2);

  /* many names in flight at once, none waiting in a thread of ours: each answered once */
  guint64 queries = sw_resolver_get_query_count (r);
  for (guint i = 0; i < 300; i++)
    {
      g_autofree char *name = g_strdup_printf ("n%u.fill.long.example.net", i);
      g_assert_true (sw_resolver_query_async (r, name, SW_DNS_TYPE_TXT, async_answered, &l, &error));
    }
  g_assert_cmpuint (async_wait (&l, 302), ==, 302);
  g_usleep (100 * 1000); /* no second call comes */
  g_assert_cmpuint (l.calls, ==, 302);
  g_assert_cmpuint (l.ok, ==, 302);
  g_assert_false (l.wrong_text);
  g_assert_cmpuint (sw_resolver_get_query_count (r) - queries, ==, 300);
  g_assert_cmpuint (sw_resolver_get_cache_size (r), ==, 301);
  async_log_clear (&l);
}

/* A query still unanswered when its resolver is freed gets its one call, with TIMEOUT. */
static void
test_async_teardown (void)
{
  /* a server that never answers: a bound UDP socket nobody reads */
  int fd = socket (AF_INET, SOCK_DGRAM, 0);
  g_assert_cmpint (fd, >=, 0);
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  g_assert_cmpint (bind (fd, (struct sockaddr *)&sin, sizeof sin), ==, 0);
  socklen_t len = sizeof sin;
  g_assert_cmpint (getsockname (fd, (struct sockaddr *)&sin, &len), ==, 0);
  g_autofree char *forward = g_strdup_printf ("127.0.0.1:%u", ntohs (sin.sin_port));
  g_autoptr (GError) error = NULL;
  SwResolverOptions opts = { .forward = forward, .timeout_ms = 1000 };
  SwResolver *r = sw_resolver_new_unbound (&opts, &error);
  g_assert_no_error (error);
  AsyncLog l;
  async_log_init (&l);
  /* many at once, none answered */
  for (guint i = 0; i < 300; i++)
    {
      g_autofree char *name = g_strdup_printf ("silent%u.example.net", i);
      g_assert_true (sw_resolver_query_async (r, name, SW_DNS_TYPE_TXT, async_answered, &l, &error));
    }
  g_usleep (100 * 1000);
  g_assert_cmpuint (l.calls, ==, 0);
  sw_resolver_unref (r);
  g_assert_cmpuint (l.calls, ==, 300);
  g_assert_cmpuint (l.timeouts, ==, 300);
  async_log_clear (&l);
  close (fd);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  const char *port = g_getenv ("SW_NSD_PORT");
  const char *pid = g_getenv ("SW_NSD_PID");
  nsd_forward = g_getenv ("SW_NSD_FORWARD");
  nsd_dir = g_getenv ("SW_NSD_DIR");
  guint64 v;
  if (port == NULL || pid == NULL || nsd_forward == NULL || nsd_dir == NULL
      || !g_ascii_string_to_unsigned (port, 10, 1, 65535, &v, NULL))
    g_error ("run this test through tests/integration/nsd-fixture.sh (SW_NSD_PORT etc. are not set)");
  nsd_port = (guint) v;
  if (!g_ascii_string_to_unsigned (pid, 10, 1, G_MAXINT, &v, NULL))
    g_error ("bad SW_NSD_PID");
  nsd_pid = (GPid) v;

  g_test_add_func ("/integration/dns/cache/hit", test_hit);
  g_test_add_func ("/integration/dns/cache/negative", test_negative);
  g_test_add_func ("/integration/dns/cache/ttl-decreases", test_ttl_decreases);
  g_test_add_func ("/integration/dns/cache/ttl-bounds", test_ttl_bounds);
  g_test_add_func ("/integration/dns/cache/disabled", test_disabled);
  g_test_add_func ("/integration/dns/cache/bound", test_bound);
  g_test_add_func ("/integration/dns/cache/threads", test_threads);
  g_test_add_func ("/integration/dns/cache/server-stopped", test_server_stopped);
  g_test_add_func ("/integration/dns/async", test_async);
  g_test_add_func ("/integration/dns/async/teardown", test_async_teardown);
  return g_test_run ();
}
