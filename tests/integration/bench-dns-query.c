/* bench-dns-query: microseconds per sw_resolver_query() of a warm name with the libunbound
 * backend, from 1 and from 2 threads sharing one resolver. Run it through
 * tests/integration/nsd-fixture.sh (it forwards to SW_NSD_FORWARD):
 *
 *   tests/integration/nsd-fixture.sh tests/data/dns/cache build/tests/bench-dns-query [N]
 *
 * N is the number of queries per thread (default 20000). Prints wall time per query (all
 * threads' queries together) and the process's CPU time per query (the DNS loop thread's
 * included). Not a test: it prints figures. */
#include "sw-resolver.h"

#include <stdio.h>

typedef struct {
  SwResolver *resolver;
  guint       n;
} BenchData;

static gpointer
bench_thread (gpointer user_data)
{
  BenchData *bd = user_data;
  for (guint i = 0; i < bd->n; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SwDnsAnswer) a = NULL;
      if (!sw_resolver_query (bd->resolver, "ok.long.example.net", SW_DNS_TYPE_TXT, &a, &error))
        g_error ("%s", error->message);
      if (a->status != SW_DNS_STATUS_OK)
        g_error ("answer %s", sw_dns_status_to_string (a->status));
    }
  return NULL;
}

static void
run (SwResolver *resolver, guint threads, guint n)
{
  GThread *t[2];
  BenchData bd = { resolver, n };
  gint64 start = g_get_monotonic_time ();
  clock_t cpu0 = clock ();
  for (guint i = 0; i < threads; i++)
    t[i] = g_thread_new ("bench", bench_thread, &bd);
  for (guint i = 0; i < threads; i++)
    g_thread_join (t[i]);
  double wall = (double) (g_get_monotonic_time () - start);
  double cpu = (double) (clock () - cpu0) * 1e6 / CLOCKS_PER_SEC;
  printf ("%u thread(s), %u queries each: %.2f us wall per query, %.2f us CPU per query\n", threads, n,
          wall / (n * threads), cpu / (n * threads));
}

int
main (int argc, char **argv)
{
  const char *forward = g_getenv ("SW_NSD_FORWARD");
  if (forward == NULL)
    g_error ("run through tests/integration/nsd-fixture.sh");
  guint n = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 20000;
  g_autoptr (GError) error = NULL;
  SwResolverOptions opts = { .forward = forward };
  g_autoptr (SwResolver) resolver = sw_resolver_new_unbound (&opts, &error);
  if (resolver == NULL)
    g_error ("%s", error->message);
  run (resolver, 1, 100); /* warm */
  run (resolver, 1, n);
  run (resolver, 2, n);
  return 0;
}
