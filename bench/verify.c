/* verify (target verify-bench): verification throughput of SwVerifier on a corpus written
 * by gen-corpus.
 *
 * Loads DIR/zone.txt into a zone-backed SwResolver, creates one SwVerifier shared by all
 * threads, reads every message file (DIR/msg/) named in DIR/expected.tsv into memory, warms up,
 * then verifies all messages on one thread and on --threads threads (default: one per
 * core), --repeat times each, timing with the monotonic clock. Prints messages per second
 * (total and per core), peak RSS and the verdict counts, and checks every verdict against
 * expected.tsv: any difference (a broken verifier, or all permerror) makes the exit status
 * 1, so a fast but wrong run never looks like a result.
 *
 * Machine-readable lines start with "BENCH " (key=value), for bench/run-verify.
 * Listens on nothing; trusts only the zone file it is given; reads only DIR. */
#define G_LOG_DOMAIN "sw-bench"
#include "sw-resolver.h"
#include "sw-verifier.h"
#include "sw-message.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

enum { EXIT_OK = 0, EXIT_MISMATCH = 1, EXIT_USAGE = 2, EXIT_SETUP = 3 };

typedef struct {
  char      *file;
  SwVerdict  expected;
  char      *category;
  GBytes    *data;
} BenchMessage;

typedef struct {
  SwVerifier   *verifier;
  BenchMessage *msgs;
  guint         n_msgs;
  SwVerdict    *verdicts;  /* one per message, written by the pass that verified it */
  gint          next;      /* atomic work index */
  gint          errors;    /* atomic: sw_verifier_verify() returned FALSE */
} Pass;

static void
bench_message_clear (BenchMessage *m)
{
  g_clear_pointer (&m->file, g_free);
  g_clear_pointer (&m->category, g_free);
  g_clear_pointer (&m->data, g_bytes_unref);
}

/* Reads expected.tsv and the messages it names. */
static gboolean
load_corpus (const char *dir, BenchMessage **msgs_out, guint *n_out, guint64 *bytes_out, GError **error)
{
  g_autofree char *tsv_path = g_build_filename (dir, "expected.tsv", NULL);
  g_autofree char *tsv = NULL;
  if (!g_file_get_contents (tsv_path, &tsv, NULL, error))
    return FALSE;
  g_auto (GStrv) lines = g_strsplit (tsv, "\n", -1);
  g_autoptr (GArray) msgs = g_array_new (FALSE, TRUE, sizeof (BenchMessage));
  g_array_set_clear_func (msgs, (GDestroyNotify) bench_message_clear);
  guint64 bytes = 0;
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (lines[i][0] == '\0' || lines[i][0] == '#')
        continue;
      g_auto (GStrv) f = g_strsplit (lines[i], "\t", 4);
      if (g_strv_length (f) < 3)
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s line %u: expected file, verdict, category",
                       tsv_path, i + 1);
          return FALSE;
        }
      BenchMessage m = { 0 };
      if (!sw_verdict_from_string (f[1], &m.expected))
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s line %u: unknown verdict '%s'", tsv_path,
                       i + 1, f[1]);
          return FALSE;
        }
      g_autofree char *path = g_build_filename (dir, "msg", f[0], NULL);
      char *contents = NULL;
      gsize len = 0;
      if (!g_file_get_contents (path, &contents, &len, error))
        return FALSE;
      m.data = g_bytes_new_take (contents, len);
      m.file = g_strdup (f[0]);
      m.category = g_strdup (f[2]);
      bytes += len;
      g_array_append_val (msgs, m);
    }
  if (msgs->len == 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s lists no messages", tsv_path);
      return FALSE;
    }
  *n_out = msgs->len;
  *bytes_out = bytes;
  g_array_set_clear_func (msgs, NULL);
  *msgs_out = (BenchMessage *) g_array_free (g_steal_pointer (&msgs), FALSE);
  return TRUE;
}

static void
verify_one (Pass *p, guint i)
{
  g_autoptr (SwVerifyResult) r = NULL;
  g_autoptr (GError) error = NULL;
  if (!sw_verifier_verify (p->verifier, p->msgs[i].data, NULL, &r, &error))
    {
      g_atomic_int_inc (&p->errors);
      p->verdicts[i] = SW_VERDICT_COUNT; /* marks "could not run" */
      return;
    }
  p->verdicts[i] = r->verdict;
}

static gpointer
pass_worker (gpointer data)
{
  Pass *p = data;
  for (;;)
    {
      guint i = (guint) g_atomic_int_add (&p->next, 1);
      if (i >= p->n_msgs)
        break;
      verify_one (p, i);
    }
  return NULL;
}

/* One timed pass over all messages with @threads threads; returns seconds. */
static double
run_pass (Pass *p, guint threads)
{
  g_atomic_int_set (&p->next, 0);
  g_atomic_int_set (&p->errors, 0);
  gint64 start = g_get_monotonic_time ();
  if (threads <= 1)
    pass_worker (p);
  else
    {
      g_autofree GThread **t = g_new0 (GThread *, threads);
      for (guint i = 0; i < threads; i++)
        t[i] = g_thread_new ("verify-bench", pass_worker, p);
      for (guint i = 0; i < threads; i++)
        g_thread_join (t[i]);
    }
  return (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
}

static const char *
verdict_name (SwVerdict v)
{
  return v == SW_VERDICT_COUNT ? "error" : sw_verdict_to_string (v);
}

/* Prints the counts of @verdicts (or of the expected verdicts when NULL). */
static void
print_counts (const char *label, const Pass *p, const SwVerdict *verdicts)
{
  guint counts[SW_VERDICT_COUNT + 1] = { 0 };
  for (guint i = 0; i < p->n_msgs; i++)
    counts[verdicts ? verdicts[i] : p->msgs[i].expected]++;
  g_print ("%-10s", label);
  g_autoptr (GString) machine = g_string_new (NULL);
  for (guint v = 0; v <= SW_VERDICT_COUNT; v++)
    {
      if (v == SW_VERDICT_COUNT && counts[v] == 0)
        continue;
      g_print (" %s=%u", verdict_name ((SwVerdict) v), counts[v]);
      g_string_append_printf (machine, " %s=%u", verdict_name ((SwVerdict) v), counts[v]);
    }
  g_print ("\n");
  g_print ("BENCH counts_%s%s\n", label, machine->str);
}

/* Counts verdicts that differ from the corpus; prints the first few with evidence. */
static guint
check_verdicts (const Pass *p, const char *pass_name, SwVerifier *verifier)
{
  guint bad = 0;
  for (guint i = 0; i < p->n_msgs; i++)
    {
      if (p->verdicts[i] == p->msgs[i].expected)
        continue;
      if (bad++ >= 10)
        continue;
      g_printerr ("MISMATCH (%s pass) %s [%s]: expected %s, got %s\n", pass_name, p->msgs[i].file,
                  p->msgs[i].category, sw_verdict_to_string (p->msgs[i].expected), verdict_name (p->verdicts[i]));
      g_autoptr (SwVerifyResult) r = NULL;
      g_autoptr (GError) error = NULL;
      if (!sw_verifier_verify (verifier, p->msgs[i].data, NULL, &r, &error))
        {
          g_printerr ("  could not run: %s\n", error->message);
          continue;
        }
      g_printerr ("  envelope ip=%s helo=%s mail-from=%s (%s)\n", r->envelope->ip ? r->envelope->ip : "-",
                  r->envelope->helo ? r->envelope->helo : "-",
                  r->envelope->mail_from ? r->envelope->mail_from : "-",
                  r->envelope->reason ? r->envelope->reason : "");
      g_printerr ("  spf=%s (%s)\n", sw_auth_result_to_string (r->spf->result),
                  r->spf->domain ? r->spf->domain : "-");
      for (guint s = 0; s < r->dkim->signatures->len; s++)
        {
          const SwDkimSignature *sig = g_ptr_array_index (r->dkim->signatures, s);
          g_printerr ("  dkim=%s d=%s (%s)\n", sw_auth_result_to_string (sig->result),
                      sig->domain ? sig->domain : "-", sig->reason);
        }
      if (r->dmarc != NULL)
        g_printerr ("  dmarc=%s (%s)\n", sw_auth_result_to_string (r->dmarc->result),
                    r->dmarc->reason ? r->dmarc->reason : "");
      g_printerr ("  %s\n", r->explanation ? r->explanation : "");
    }
  if (bad > 10)
    g_printerr ("... and %u more mismatches in the %s pass\n", bad - 10, pass_name);
  return bad;
}

/* Time per stage, single-threaded, calling the modules the verifier ties together in
 * the verifier's order: where a message's microseconds go. */
static gboolean
print_breakdown (SwResolver *resolver, SwDmarcMode mode, const SwEnvelopeHints *hints, const Pass *p,
                 GError **error)
{
  g_autoptr (SwSpfChecker) spf = sw_spf_checker_new (resolver, error);
  g_autoptr (SwDkimVerifier) dkim = spf ? sw_dkim_verifier_new (resolver, error) : NULL;
  g_autoptr (SwDmarcEvaluator) dmarc = dkim ? sw_dmarc_evaluator_new (resolver, mode, error) : NULL;
  if (dmarc == NULL)
    return FALSE;
  gint64 t_parse = 0, t_spf = 0, t_dkim = 0, t_dmarc = 0;
  guint n_sigs = 0;
  for (guint i = 0; i < p->n_msgs; i++)
    {
      gint64 t0 = g_get_monotonic_time ();
      g_autoptr (SwMessage) msg = sw_message_new (p->msgs[i].data);
      g_autoptr (SwFrom) from = sw_from_parse (msg);
      g_autoptr (SwEnvelope) env = sw_envelope_reconstruct (msg, hints);
      gint64 t1 = g_get_monotonic_time ();
      g_autoptr (SwSpfResult) mf = NULL;
      g_autoptr (SwSpfResult) helo = NULL;
      if (env->ip != NULL)
        {
          if (!sw_spf_check_mailfrom (spf, env->ip, env->helo, env->mail_from, &mf, error))
            return FALSE;
          if (env->helo != NULL && !sw_spf_check_helo (spf, env->ip, env->helo, &helo, error))
            return FALSE;
        }
      gint64 t2 = g_get_monotonic_time ();
      g_autoptr (SwDkimResults) sigs = NULL;
      if (!sw_dkim_verify (dkim, p->msgs[i].data, env->boundary_time, &sigs, error))
        return FALSE;
      gint64 t3 = g_get_monotonic_time ();
      n_sigs += sigs->signatures->len;
      SwDmarcIdentity spf_id = { mf ? mf->domain : NULL, mf ? mf->result : SW_AUTH_NONE };
      g_autofree SwDmarcIdentity *ids = g_new0 (SwDmarcIdentity, MAX (sigs->signatures->len, 1));
      for (guint s = 0; s < sigs->signatures->len; s++)
        {
          const SwDkimSignature *sig = g_ptr_array_index (sigs->signatures, s);
          ids[s] = (SwDmarcIdentity) { sig->domain, sig->result };
        }
      for (guint d = 0; from->status == SW_FROM_OK && d < from->domains->len; d++)
        {
          g_autoptr (SwDmarcResult) dm = NULL;
          if (!sw_dmarc_evaluate (dmarc, g_ptr_array_index (from->domains, d), &spf_id, ids,
                                  sigs->signatures->len, &dm, error))
            return FALSE;
        }
      gint64 t4 = g_get_monotonic_time ();
      t_parse += t1 - t0;
      t_spf += t2 - t1;
      t_dkim += t3 - t2;
      t_dmarc += t4 - t3;
    }
  double n = p->n_msgs;
  g_print ("breakdown us/msg, 1 thread: parse+envelope %.1f, SPF (mailfrom+helo) %.1f, DKIM %.1f "
           "(%.2f signatures/msg), DMARC %.1f; sum %.1f us = %.0f msg/s\n",
           t_parse / n, t_spf / n, t_dkim / n, n_sigs / n, t_dmarc / n, (t_parse + t_spf + t_dkim + t_dmarc) / n,
           n * G_USEC_PER_SEC / (double) (t_parse + t_spf + t_dkim + t_dmarc));
  g_print ("BENCH us_parse=%.1f us_spf=%.1f us_dkim=%.1f us_dmarc=%.1f\n", t_parse / n, t_spf / n, t_dkim / n,
           t_dmarc / n);
  return TRUE;
}

static gboolean
write_verdicts (const char *path, const Pass *p, GError **error)
{
  g_autoptr (GString) s = g_string_new ("# file\tverdict\n");
  for (guint i = 0; i < p->n_msgs; i++)
    g_string_append_printf (s, "%s\t%s\n", p->msgs[i].file, verdict_name (p->verdicts[i]));
  return g_file_set_contents (path, s->str, (gssize) s->len, error);
}

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* Median of @rates (sorted in place). */
static double
median (double *rates, guint n)
{
  qsort (rates, n, sizeof *rates, (int (*) (const void *, const void *)) compare_double);
  return n % 2 ? rates[n / 2] : (rates[n / 2 - 1] + rates[n / 2]) / 2;
}

int
main (int argc, char **argv)
{
  g_autofree char *corpus = NULL, *verdicts_out = NULL, *upstream = NULL;
  int threads = 0, repeat = 3, warmup = 1000;
  gboolean rfc7489 = FALSE, breakdown = FALSE;
  GOptionEntry entries[] = {
    { "corpus", 'c', 0, G_OPTION_ARG_FILENAME, &corpus, "Corpus directory written by gen-corpus", "DIR" },
    { "threads", 'j', 0, G_OPTION_ARG_INT, &threads, "Threads of the parallel pass (0: one per core)", "N" },
    { "repeat", 'r', 0, G_OPTION_ARG_INT, &repeat, "Timed passes of each kind (3); the median counts", "N" },
    { "warmup", 'w', 0, G_OPTION_ARG_INT, &warmup, "Messages verified before timing (1000)", "N" },
    { "upstream-host", 0, 0, G_OPTION_ARG_STRING, &upstream,
      "Server the proxy would fetch from (pop.inbox-provider.net)", "HOST" },
    { "rfc7489", 0, 0, G_OPTION_ARG_NONE, &rfc7489, "DMARC in RFC 7489 mode (public suffix list)", NULL },
    { "breakdown", 'b', 0, G_OPTION_ARG_NONE, &breakdown,
      "Also time parsing, SPF, DKIM and DMARC separately (one thread)", NULL },
    { "verdicts-out", 0, 0, G_OPTION_ARG_FILENAME, &verdicts_out,
      "Write each message's verdict (single-thread pass) to FILE", "FILE" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- verification throughput of SwVerifier");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("verify: %s\n", error->message);
      return EXIT_USAGE;
    }
  if (corpus == NULL || threads < 0 || threads > 1024 || repeat < 1 || repeat > 100 || warmup < 0)
    {
      g_printerr ("verify: --corpus DIR is required; --threads 0..1024, --repeat 1..100\n");
      return EXIT_USAGE;
    }
  guint cores = g_get_num_processors ();
  guint n_threads = threads > 0 ? (guint) threads : cores;

  g_autofree char *zone = g_build_filename (corpus, "zone.txt", NULL);
  g_autoptr (SwResolver) resolver = sw_resolver_new_zone_file (zone, &error);
  if (resolver == NULL)
    {
      g_printerr ("verify: %s\n", error->message);
      return EXIT_SETUP;
    }
  SwVerifierConfig config = {
    .resolver = resolver,
    .dmarc_mode = rfc7489 ? SW_DMARC_MODE_RFC7489 : SW_DMARC_MODE_RFC9989,
    .authserv_id = "bench.spoofwatch.invalid",
    .hints = { .upstream_host = upstream ? upstream : "pop.inbox-provider.net" },
  };
  g_autoptr (SwVerifier) verifier = sw_verifier_new (&config, &error);
  if (verifier == NULL)
    {
      g_printerr ("verify: %s\n", error->message);
      return EXIT_SETUP;
    }

  BenchMessage *msgs = NULL;
  guint n_msgs = 0;
  guint64 corpus_bytes = 0;
  gint64 t0 = g_get_monotonic_time ();
  if (!load_corpus (corpus, &msgs, &n_msgs, &corpus_bytes, &error))
    {
      g_printerr ("verify: %s\n", error->message);
      return EXIT_SETUP;
    }
  g_print ("corpus    %s: %u messages, %.1f MB in memory (average %.1f KB), loaded in %.2f s\n", corpus,
           n_msgs, corpus_bytes / 1e6, corpus_bytes / 1024.0 / n_msgs,
           (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC);
  g_print ("machine   %u cores; DMARC mode %s; DNS: zone backend (%s)\n", cores, rfc7489 ? "RFC 7489" : "RFC 9989",
           sw_resolver_get_backend_name (resolver));

  g_autofree SwVerdict *single = g_new0 (SwVerdict, n_msgs);
  g_autofree SwVerdict *multi = g_new0 (SwVerdict, n_msgs);
  Pass p = { .verifier = verifier, .msgs = msgs, .n_msgs = n_msgs, .verdicts = single };

  /* Warm-up: page in the libraries, fill allocator pools and any cache. */
  guint n_warm = MIN ((guint) warmup, n_msgs);
  guint64 q0 = sw_resolver_get_query_count (resolver);
  for (guint i = 0; i < n_warm; i++)
    verify_one (&p, i);
  guint64 queries_warm = sw_resolver_get_query_count (resolver) - q0;

  g_autofree double *rates1 = g_new0 (double, repeat);
  g_autofree double *ratesn = g_new0 (double, repeat);
  guint64 q1 = sw_resolver_get_query_count (resolver);
  for (int r = 0; r < repeat; r++)
    {
      p.verdicts = single;
      double s = run_pass (&p, 1);
      rates1[r] = n_msgs / s;
      g_print ("pass      1 thread : %8.0f msg/s (%.2f s)%s\n", rates1[r], s,
               p.errors ? "  [verification could not run for some messages]" : "");
    }
  double queries_per_msg = (double) (sw_resolver_get_query_count (resolver) - q1) / ((double) n_msgs * repeat);
  for (int r = 0; r < repeat; r++)
    {
      p.verdicts = multi;
      double s = run_pass (&p, n_threads);
      ratesn[r] = n_msgs / s;
      g_print ("pass      %u threads: %8.0f msg/s (%.2f s)%s\n", n_threads, ratesn[r], s,
               p.errors ? "  [verification could not run for some messages]" : "");
    }
  double rate1 = median (rates1, (guint) repeat);
  double raten = median (ratesn, (guint) repeat);
  guint busy = MIN (n_threads, cores);
  double per_core = raten / busy;

  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  double peak_mb = ru.ru_maxrss / 1024.0;

  g_print ("result    single thread %.0f msg/s; %u threads %.0f msg/s = %.0f msg/s per core (median of %d)\n",
           rate1, n_threads, raten, per_core, repeat);
  g_print ("memory    peak RSS %.1f MB, of which the corpus held in memory %.1f MB\n", peak_mb,
           corpus_bytes / 1048576.0);
  g_print ("dns       %.1f queries per message (%" G_GUINT64_FORMAT " during warm-up of %u)\n", queries_per_msg,
           queries_warm, n_warm);
  p.verdicts = single;
  print_counts ("expected", &p, NULL);
  print_counts ("single", &p, single);
  print_counts ("threaded", &p, multi);

  guint bad = check_verdicts (&p, "single-thread", verifier);
  p.verdicts = multi;
  bad += check_verdicts (&p, "threaded", verifier);

  g_print ("BENCH messages=%u threads=%u cores=%u rate_single=%.0f rate_threads=%.0f rate_per_core=%.0f "
           "peak_rss_mb=%.1f corpus_mb=%.1f queries_per_msg=%.1f mismatches=%u\n",
           n_msgs, n_threads, cores, rate1, raten, per_core, peak_mb, corpus_bytes / 1048576.0, queries_per_msg,
           bad);

  if (breakdown && !print_breakdown (resolver, config.dmarc_mode, &config.hints, &p, &error))
    {
      g_printerr ("verify: breakdown: %s\n", error->message);
      return EXIT_SETUP;
    }

  if (verdicts_out != NULL)
    {
      p.verdicts = single;
      if (!write_verdicts (verdicts_out, &p, &error))
        {
          g_printerr ("verify: %s\n", error->message);
          return EXIT_SETUP;
        }
    }

  for (guint i = 0; i < n_msgs; i++)
    bench_message_clear (&msgs[i]);
  g_free (msgs);

  if (bad > 0)
    {
      g_printerr ("verify: %u verdicts differ from the corpus: the figures above are not valid\n", bad);
      return EXIT_MISMATCH;
    }
  g_print ("verdicts  all %u messages got the verdict the corpus was built for (both passes)\n", n_msgs);
  return EXIT_OK;
}
