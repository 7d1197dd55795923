/* sw_verifier_prefetch(): the DNS questions asked from the header block alone are the
 * ones verification asks, so that after a prefetch verification finds them in the cache.
 *
 * The resolver under test is a cache (as libunbound's) in front of the samples' zone
 * resolver; the zone resolver's query count and a log of the names it was asked show
 * what reached "the network". */
#include "sw-prefetch.h"
#include "sw-dns-private.h"
#include "sw-message.h"
#include "sw-verify-headers.h"

#include <string.h>

/* ---- a caching resolver in front of another one, logging its misses ---- */

typedef struct
{
  SwResolver *backend;
  GMutex mutex;
  GHashTable *cache; /* "name/type" -> SwDnsAnswer* */
  GPtrArray *misses; /* "name/type", in order */
} Cache;

static SwDnsAnswer *
cache_query (SwResolver *resolver, const char *qname, guint16 qtype, GError **error)
{
  Cache *c = resolver->backend;
  g_autofree char *key = g_strdup_printf ("%s/%u", qname, qtype);
  g_mutex_lock (&c->mutex);
  const SwDnsAnswer *hit = g_hash_table_lookup (c->cache, key);
  if (hit != NULL)
    {
      SwDnsAnswer *copy = sw_dns_answer_copy (hit);
      g_mutex_unlock (&c->mutex);
      return copy;
    }
  g_ptr_array_add (c->misses, g_strdup (key));
  g_mutex_unlock (&c->mutex);

  SwDnsAnswer *answer = NULL;
  if (!sw_resolver_query (c->backend, qname, qtype, &answer, error))
    return NULL;
  g_mutex_lock (&c->mutex);
  g_hash_table_replace (c->cache, g_steal_pointer (&key), sw_dns_answer_copy (answer));
  g_mutex_unlock (&c->mutex);
  return answer;
}

/* A hit only: what the prefetch answers without waiting */
static SwDnsAnswer *
cache_query_now (SwResolver *resolver, const char *qname, guint16 qtype)
{
  Cache *c = resolver->backend;
  g_autofree char *key = g_strdup_printf ("%s/%u", qname, qtype);
  g_mutex_lock (&c->mutex);
  const SwDnsAnswer *hit = g_hash_table_lookup (c->cache, key);
  SwDnsAnswer *copy = hit != NULL ? sw_dns_answer_copy (hit) : NULL;
  g_mutex_unlock (&c->mutex);
  return copy;
}

static void
cache_finalize (SwResolver *resolver)
{
  Cache *c = resolver->backend;
  sw_resolver_unref (c->backend);
  g_mutex_clear (&c->mutex);
  g_hash_table_unref (c->cache);
  g_ptr_array_unref (c->misses);
  g_free (c);
}

static const SwResolverClass cache_class = {
  .name = "cache",
  .query = cache_query,
  .query_now = cache_query_now,
  .finalize = cache_finalize,
};

static SwResolver *
cache_new (SwResolver *backend)
{
  SwResolver *r = sw_resolver_alloc (&cache_class);
  Cache *c = g_new0 (Cache, 1);
  c->backend = sw_resolver_ref (backend);
  g_mutex_init (&c->mutex);
  c->cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)sw_dns_answer_free);
  c->misses = g_ptr_array_new_with_free_func (g_free);
  r->backend = c;
  return r;
}

/* The misses from index @from on, as a set. */
static GHashTable *
cache_misses_since (SwResolver *resolver, guint from)
{
  Cache *c = resolver->backend;
  GHashTable *set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_mutex_lock (&c->mutex);
  for (guint i = from; i < c->misses->len; i++)
    g_hash_table_add (set, g_strdup (g_ptr_array_index (c->misses, i)));
  g_mutex_unlock (&c->mutex);
  return set;
}

static guint
cache_n_misses (SwResolver *resolver)
{
  Cache *c = resolver->backend;
  g_mutex_lock (&c->mutex);
  guint n = c->misses->len;
  g_mutex_unlock (&c->mutex);
  return n;
}

/* ---- fixtures ---- */

static SwResolver *
samples_zone (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "samples", "samples.zone", NULL);
  SwResolver *r = sw_resolver_new_zone_file (path, &error);
  g_assert_no_error (error);
  return r;
}

static SwVerifier *
make_verifier (SwResolver *resolver, SwDmarcMode mode)
{
  g_autoptr (GError) error = NULL;
  SwVerifierConfig config = {
    .resolver = resolver,
    .dmarc_mode = mode,
    .authserv_id = "spoofwatch-test",
  };
  SwVerifier *v = sw_verifier_new (&config, &error);
  g_assert_no_error (error);
  return v;
}

static GBytes *
read_sample (const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "samples", name, NULL);
  char *text = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (path, &text, &len, &error));
  return g_bytes_new_take (text, len);
}

static GBytes *
header_block_of (GBytes *message)
{
  g_autoptr (SwMessage) msg = sw_message_new (message);
  return g_bytes_new_from_bytes (message, 0, sw_message_get_header_length (msg));
}

static void
verify (SwVerifier *v, GBytes *message)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SwVerifyResult) r = NULL;
  g_assert_true (sw_verifier_verify (v, message, NULL, &r, &error));
  g_assert_no_error (error);
}

static const char *const samples[] = {
  "01-citibank-spoofed.eml",  "02-genuine-bank.eml",        "03-newsletter-p-none.eml",
  "04-parcel-quarantine.eml", "05-spoofed-dkim-domain.eml", "06-no-dmarc-record.eml",
  "07-mailing-list.eml",
};

/* For each sample, in both DMARC modes: (1) a verification alone, to learn the names it
 * asks; (2) on a fresh cache, a prefetch from the header block: the zone resolver's query
 * count rises, and every name asked is one verification asks (no wasted query); (3) the
 * verification after it asks none of the prefetched names again, and together they ask
 * exactly the names of (1). */
static void
test_samples (void)
{
  g_autoptr (SwResolver) zone = samples_zone ();
  SwDmarcMode modes[] = { SW_DMARC_MODE_RFC9989, SW_DMARC_MODE_RFC7489 };
  for (gsize m = 0; m < G_N_ELEMENTS (modes); m++)
    for (gsize i = 0; i < G_N_ELEMENTS (samples); i++)
      {
        g_test_message ("case %s, mode %d", samples[i], (int)modes[m]);
        g_autoptr (GBytes) message = read_sample (samples[i]);
        g_autoptr (GBytes) head = header_block_of (message);

        g_autoptr (SwResolver) alone = cache_new (zone);
        g_autoptr (SwVerifier) v_alone = make_verifier (alone, modes[m]);
        verify (v_alone, message);
        g_autoptr (GHashTable) asked_alone = cache_misses_since (alone, 0);

        g_autoptr (SwResolver) cache = cache_new (zone);
        g_autoptr (SwVerifier) v = make_verifier (cache, modes[m]);
        guint64 before = sw_resolver_get_query_count (zone);
        sw_verifier_prefetch (v, head);
        guint64 after_prefetch = sw_resolver_get_query_count (zone);
        g_assert_cmpuint (after_prefetch, >, before);
        guint n_prefetch = cache_n_misses (cache);
        g_autoptr (GHashTable) prefetched = cache_misses_since (cache, 0);
        g_assert_cmpuint (g_hash_table_size (prefetched), ==, after_prefetch - before);

        GHashTableIter it;
        gpointer key;
        g_hash_table_iter_init (&it, prefetched);
        while (g_hash_table_iter_next (&it, &key, NULL))
          if (!g_hash_table_contains (asked_alone, key))
            g_error ("%s: prefetch asked %s, which verification does not ask", samples[i], (char *)key);

        verify (v, message);
        g_autoptr (GHashTable) asked_after = cache_misses_since (cache, n_prefetch);
        g_hash_table_iter_init (&it, asked_after);
        while (g_hash_table_iter_next (&it, &key, NULL))
          if (g_hash_table_contains (prefetched, key))
            g_error ("%s: verification asked the prefetched %s again", samples[i], (char *)key);
        g_assert_cmpuint (g_hash_table_size (prefetched) + g_hash_table_size (asked_after), ==,
                          g_hash_table_size (asked_alone));
        /* the first questions of each check were answered from the cache */
        g_hash_table_iter_init (&it, asked_after);
        while (g_hash_table_iter_next (&it, &key, NULL))
          if (g_str_has_prefix (key, "_dmarc.") || strstr (key, "._domainkey.") != NULL)
            g_error ("%s: verification still asked %s after the prefetch", samples[i], (char *)key);
      }
}

/* The names from hand-written header blocks: SPF of MAIL FROM and HELO, DKIM keys, the
 * DMARC tree walk (shortened for a long name), the caps; nothing for a header without
 * envelope or From. */
static void
test_names (void)
{
  g_autoptr (SwResolver) zone = samples_zone ();
  g_autoptr (GString) many = g_string_new ("From: a@b.example\r\n");
  for (guint i = 0; i < 12; i++)
    g_string_append_printf (many, "DKIM-Signature: v=1; a=rsa-sha256; d=d%u.example; s=sel;\r\n b=x\r\n", i);
  g_string_append (many, "\r\n");

  const struct
  {
    const char *name;
    const char *header;
    const char *expected; /* names, '|'-separated, in order */
  } cases[] = {
    { "envelope-dkim-dmarc",
      "Return-Path: <bounce@Bounce.Sender.example>\r\n"
      "Received: from mx.sender.example (mx.sender.example [42.127.236.162])\r\n"
      "\tby mx.provider.example with ESMTP id 1; Mon, 1 Jan 2024 10:00:00 +0000\r\n"
      "DKIM-Signature: v=1; a=rsa-sha256; d=Sender.example;\r\n s = s1 ; h=from; bh=x; b=y\r\n"
      "From: Someone <me@news.sender.example>\r\n"
      "\r\n",
      "bounce.sender.example TXT|mx.sender.example TXT|s1._domainkey.sender.example TXT|"
      "_dmarc.news.sender.example TXT|_dmarc.sender.example TXT|_dmarc.example TXT" },
    { "long-from-domain", "From: x@a.b.c.d.e.f.g.h.i.example\r\n\r\n",
      "_dmarc.a.b.c.d.e.f.g.h.i.example TXT|_dmarc.d.e.f.g.h.i.example TXT|_dmarc.e.f.g.h.i.example "
      "TXT|_dmarc.f.g.h.i.example TXT|"
      "_dmarc.g.h.i.example TXT|_dmarc.h.i.example TXT|_dmarc.i.example TXT|_dmarc.example TXT" },
    { "no-from-no-envelope", "Subject: hello\r\n\r\n", "" },
    /* RFC 7208 4.3: a single-label HELO name or MAIL FROM domain is "none" without a
     * lookup, so nothing is asked for them (a server outside the zones would answer
     * REFUSED, never cached, every time) */
    { "single-label-helo",
      "Return-Path: <info@promo.example>\r\n"
      "Received: from ylmf-pc3 (unknown [42.127.236.162])\r\n"
      "\tby mx.provider.example with ESMTP id 1; Mon, 1 Jan 2024 10:00:00 +0000\r\n"
      "From: a@promo.example\r\n"
      "\r\n",
      "promo.example TXT|_dmarc.promo.example TXT|_dmarc.example TXT" },
    { "single-label-mail-from",
      "Return-Path: <root@localhost>\r\n"
      "Received: from mx.sender.example (mx.sender.example [42.127.236.162])\r\n"
      "\tby mx.provider.example with ESMTP id 1; Mon, 1 Jan 2024 10:00:00 +0000\r\n"
      "From: a@sender.example\r\n"
      "\r\n",
      "mx.sender.example TXT|_dmarc.sender.example TXT|_dmarc.example TXT" },
    { "dkim-without-selector", "DKIM-Signature: v=1; d=x.example; b=z\r\nFrom: a@x.example\r\n\r\n",
      "_dmarc.x.example TXT|_dmarc.example TXT" },
    { "dkim-cap", many->str,
      "d0.example|d1.example|d2.example|d3.example|d4.example|d5.example|d6.example|d7.example" },
  };
  g_autoptr (SwVerifier) v = make_verifier (zone, SW_DMARC_MODE_RFC9989);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("case %s", cases[i].name);
      g_autoptr (GBytes) head = g_bytes_new (cases[i].header, strlen (cases[i].header));
      g_autoptr (GPtrArray) names = sw_verifier_prefetch_names (v, head);
      if (g_strcmp0 (cases[i].name, "dkim-cap") == 0)
        {
          /* 8 keys (SW_DKIM_MAX_SIGNATURES) then the walk of b.example */
          g_assert_cmpuint (names->len, ==, SW_DKIM_MAX_SIGNATURES + 2);
          g_auto (GStrv) want = g_strsplit (cases[i].expected, "|", -1);
          for (guint k = 0; want[k]; k++)
            {
              g_autofree char *n = g_strdup_printf ("sel._domainkey.%s TXT", want[k]);
              g_assert_cmpstr (g_ptr_array_index (names, k), ==, n);
            }
          continue;
        }
      g_ptr_array_add (names, NULL);
      g_autofree char *joined = g_strjoinv ("|", (char **)names->pdata);
      if (g_strcmp0 (joined, cases[i].expected) != 0)
        g_error ("case %s: got '%s', expected '%s'", cases[i].name, joined, cases[i].expected);
    }
}

/* Prefetches from several threads at once on one verifier (thread-safety; ASan/TSan
 * builds see races). */
static gpointer
prefetch_thread (gpointer data)
{
  SwVerifier *v = data;
  for (gsize i = 0; i < G_N_ELEMENTS (samples); i++)
    {
      g_autoptr (GBytes) message = read_sample (samples[i]);
      g_autoptr (GBytes) head = header_block_of (message);
      sw_verifier_prefetch (v, head);
    }
  return NULL;
}

static void
test_threads (void)
{
  g_autoptr (SwResolver) zone = samples_zone ();
  g_autoptr (SwResolver) cache = cache_new (zone);
  g_autoptr (SwVerifier) v = make_verifier (cache, SW_DMARC_MODE_RFC9989);
  GThread *threads[4];
  for (gsize i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("prefetch", prefetch_thread, v);
  for (gsize i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  g_assert_cmpuint (sw_resolver_get_query_count (cache), >=, 4 * G_N_ELEMENTS (samples));
}


/* Following SPF records: the lookup an SPF record's evaluation certainly makes next is
 * prefetched (include: through ip4 terms of another network, then the include's mx and
 * the MX host's address; redirect=; a), and nothing after a term that may match the
 * client (an ip4 of its network) nor after a macro; every name prefetched is one
 * verification asks. */
static void
test_follow (void)
{
  static const char zone_text[]
      = "inc.example. TXT \"v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 include:_spf.esp.example -all\"\n"
        "_spf.esp.example. TXT \"v=spf1 mx:esp.example ~all\"\n"
        "esp.example. MX 10 mx1.esp.example.\n"
        "mx1.esp.example. A 198.51.100.9\n"
        "own.example. TXT \"v=spf1 ip4:42.127.0.0/16 include:_spf.esp.example -all\"\n"
        "red.example. TXT \"v=spf1 redirect=inc.example\"\n"
        "host.example. TXT \"v=spf1 a -all\"\n"
        "host.example. A 203.0.113.5\n"
        "mac.example. TXT \"v=spf1 include:%{d}.esp.example -all\"\n";
  const struct
  {
    const char *domain;
    const char *want;    /* names that must be prefetched, '|'-separated */
    const char *not_yet; /* names that must not be */
  } cases[] = {
    { "inc.example", "_spf.esp.example/16|esp.example/15|mx1.esp.example/1", "" },
    { "own.example", "", "_spf.esp.example/16|esp.example/15" },
    { "red.example", "inc.example/16|_spf.esp.example/16|esp.example/15", "" },
    { "host.example", "host.example/1", "" },
    { "mac.example", "", "_spf.esp.example/16" },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (SwResolver) zone = sw_resolver_new_zone_text (zone_text, &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("case %s", cases[i].domain);
      g_autofree char *text = g_strdup_printf (
          "Return-Path: <b@%s>\r\n"
          "Received: from mx.%s (mx.%s [42.127.236.162])\r\n"
          "\tby mx.provider.example with ESMTP id 1; Mon, 1 Jan 2024 10:00:00 +0000\r\n"
          "From: <me@%s>\r\nSubject: x\r\n\r\nbody\r\n",
          cases[i].domain, cases[i].domain, cases[i].domain, cases[i].domain);
      g_autoptr (GBytes) message = g_bytes_new (text, strlen (text));
      g_autoptr (GBytes) head = header_block_of (message);

      g_autoptr (SwResolver) alone = cache_new (zone);
      g_autoptr (SwVerifier) v_alone = make_verifier (alone, SW_DMARC_MODE_RFC9989);
      verify (v_alone, message);
      g_autoptr (GHashTable) asked_alone = cache_misses_since (alone, 0);

      g_autoptr (SwResolver) cache = cache_new (zone);
      g_autoptr (SwVerifier) v = make_verifier (cache, SW_DMARC_MODE_RFC9989);
      sw_verifier_prefetch (v, head);
      g_autoptr (GHashTable) prefetched = cache_misses_since (cache, 0);
      GHashTableIter it;
      gpointer key;
      g_hash_table_iter_init (&it, prefetched);
      while (g_hash_table_iter_next (&it, &key, NULL))
        if (!g_hash_table_contains (asked_alone, key))
          g_error ("%s: prefetch asked %s, which verification does not ask", cases[i].domain, (char *)key);
      g_auto (GStrv) want = g_strsplit (cases[i].want, "|", -1);
      for (char **w = want; *w && **w; w++)
        if (!g_hash_table_contains (prefetched, *w))
          g_error ("%s: %s was not prefetched", cases[i].domain, *w);
      g_auto (GStrv) no = g_strsplit (cases[i].not_yet, "|", -1);
      for (char **w = no; *w && **w; w++)
        if (g_hash_table_contains (prefetched, *w))
          g_error ("%s: %s was prefetched", cases[i].domain, *w);
    }
}

/* sw_verifier_prefetch_many(): the names of several header blocks, each asked once. */
static void
test_many (void)
{
  g_autoptr (SwResolver) zone = samples_zone ();
  GBytes *heads[2 * G_N_ELEMENTS (samples)];
  g_autoptr (GHashTable) union_set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (samples); i++)
    {
      g_autoptr (GBytes) message = read_sample (samples[i]);
      heads[2 * i] = header_block_of (message);
      heads[2 * i + 1] = g_bytes_ref (heads[2 * i]); /* the same message twice */
      g_autoptr (SwResolver) one = cache_new (zone);
      g_autoptr (SwVerifier) v_one = make_verifier (one, SW_DMARC_MODE_RFC9989);
      sw_verifier_prefetch (v_one, heads[2 * i]);
      g_autoptr (GHashTable) asked = cache_misses_since (one, 0);
      GHashTableIter it;
      gpointer key;
      g_hash_table_iter_init (&it, asked);
      while (g_hash_table_iter_next (&it, &key, NULL))
        g_hash_table_add (union_set, g_strdup (key));
    }
  g_autoptr (SwResolver) cache = cache_new (zone);
  g_autoptr (SwVerifier) v = make_verifier (cache, SW_DMARC_MODE_RFC9989);
  guint64 before = sw_resolver_get_query_count (zone);
  guint sent = sw_verifier_prefetch_many (v, heads, G_N_ELEMENTS (heads));
  /* each name once (the cache in front would hide a repeat: count the zone's queries) */
  g_assert_cmpuint (sw_resolver_get_query_count (zone) - before, ==, g_hash_table_size (union_set));
  g_assert_cmpuint (sent, ==, g_hash_table_size (union_set));
  g_autoptr (GHashTable) asked = cache_misses_since (cache, 0);
  g_assert_cmpuint (g_hash_table_size (asked), ==, g_hash_table_size (union_set));

  /* again: every answer is in the cache now, none is asked and none goes to a thread */
  before = sw_resolver_get_query_count (zone);
  g_assert_cmpuint (sw_verifier_prefetch_many (v, heads, G_N_ELEMENTS (heads)), ==, 0);
  g_assert_cmpuint (sw_resolver_get_query_count (zone), ==, before);
  g_assert_cmpuint (cache_n_misses (cache), ==, g_hash_table_size (union_set));
  for (gsize i = 0; i < G_N_ELEMENTS (heads); i++)
    g_bytes_unref (heads[i]);
}

/* sw_verifier_prefetch_start(): returns before the answers arrive, asks the same names as
 * sw_verifier_prefetch_many(), and only the ones not in the cache. */
static void
test_start (void)
{
  g_autoptr (SwResolver) zone = samples_zone ();
  GBytes *heads[G_N_ELEMENTS (samples)];
  for (gsize i = 0; i < G_N_ELEMENTS (samples); i++)
    {
      g_autoptr (GBytes) message = read_sample (samples[i]);
      heads[i] = header_block_of (message);
    }
  g_autoptr (SwResolver) reference = cache_new (zone);
  g_autoptr (SwVerifier) v_ref = make_verifier (reference, SW_DMARC_MODE_RFC9989);
  guint expected = sw_verifier_prefetch_many (v_ref, heads, G_N_ELEMENTS (heads));
  g_assert_cmpuint (expected, >, 0);
  g_autoptr (GHashTable) expected_set = cache_misses_since (reference, 0);

  g_autoptr (SwResolver) cache = cache_new (zone);
  g_autoptr (SwVerifier) v = make_verifier (cache, SW_DMARC_MODE_RFC9989);
  guint sent = sw_verifier_prefetch_start (v, heads, G_N_ELEMENTS (heads));
  g_assert_cmpuint (sent, >, 0);
  g_assert_cmpuint (sent, <=, expected);
  /* the names arrive in the pool's threads: wait for all of them (bounded) */
  for (guint i = 0; i < 500 && cache_n_misses (cache) < expected; i++)
    g_usleep (10 * 1000);
  g_autoptr (GHashTable) asked = cache_misses_since (cache, 0);
  g_assert_cmpuint (g_hash_table_size (asked), ==, g_hash_table_size (expected_set));
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init (&it, expected_set);
  while (g_hash_table_iter_next (&it, &key, NULL))
    if (!g_hash_table_contains (asked, key))
      g_error ("%s was not prefetched", (const char *)key);
  /* every answer in the cache: nothing goes out */
  g_assert_cmpuint (sw_verifier_prefetch_start (v, heads, G_N_ELEMENTS (heads)), ==, 0);
  g_usleep (50 * 1000);
  g_assert_cmpuint (cache_n_misses (cache), ==, expected);
  for (gsize i = 0; i < G_N_ELEMENTS (heads); i++)
    g_bytes_unref (heads[i]);
}

/* sw_resolver_thread_begin_cache_only()/_end(): with an empty cache, a verification in
 * cache-only mode asks nothing of the server and reports its misses; once the cache is
 * warm (a normal verification), it reports none and gives the same result. */
static void
test_cache_only (void)
{
  g_autoptr (SwResolver) zone = samples_zone ();
  for (gsize i = 0; i < G_N_ELEMENTS (samples); i++)
    {
      g_test_message ("%s", samples[i]);
      g_autoptr (GBytes) message = read_sample (samples[i]);
      g_autoptr (SwResolver) cache = cache_new (zone);
      g_autoptr (SwVerifier) v = make_verifier (cache, SW_DMARC_MODE_RFC9989);
      g_autoptr (GError) error = NULL;

      guint64 asked = sw_resolver_get_query_count (zone);
      g_autoptr (SwVerifyResult) cold = NULL;
      sw_resolver_thread_begin_cache_only ();
      g_assert_true (sw_verifier_verify (v, message, NULL, &cold, &error));
      guint misses = sw_resolver_thread_end ();
      g_assert_no_error (error);
      g_assert_cmpuint (misses, >, 0);
      g_assert_cmpuint (sw_resolver_get_query_count (zone), ==, asked); /* nothing went out */
      g_assert_cmpuint (cache_n_misses (cache), ==, 0);

      g_autoptr (SwVerifyResult) normal = NULL;
      g_assert_true (sw_verifier_verify (v, message, NULL, &normal, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (cache_n_misses (cache), >, 0);

      g_autoptr (SwVerifyResult) warm = NULL;
      sw_resolver_thread_begin_cache_only ();
      g_assert_true (sw_verifier_verify (v, message, NULL, &warm, &error));
      g_assert_cmpuint (sw_resolver_thread_end (), ==, 0);
      g_assert_no_error (error);
      g_assert_cmpint (warm->verdict, ==, normal->verdict);
      g_autoptr (GBytes) head = header_block_of (message);
      g_autoptr (GBytes) h1 = sw_verify_apply_headers (head, normal, "spoofwatch-test");
      g_autoptr (GBytes) h2 = sw_verify_apply_headers (head, warm, "spoofwatch-test");
      g_assert_true (g_bytes_equal (h1, h2));

      /* the mode is per call pair: outside it, misses go to the server again */
      g_autoptr (SwResolver) cache2 = cache_new (zone);
      g_autoptr (SwVerifier) v2 = make_verifier (cache2, SW_DMARC_MODE_RFC9989);
      g_autoptr (SwVerifyResult) again = NULL;
      sw_resolver_thread_begin_counting ();
      g_assert_true (sw_verifier_verify (v2, message, NULL, &again, &error));
      guint counted = sw_resolver_thread_end ();
      g_assert_cmpint (again->verdict, ==, normal->verdict);
      g_assert_cmpuint (cache_n_misses (cache2), >, 0);
      /* counting mode: the misses went to the server as usual, and were counted */
      g_assert_cmpuint (counted, ==, cache_n_misses (cache2));
      g_autoptr (SwVerifyResult) third = NULL;
      sw_resolver_thread_begin_counting ();
      g_assert_true (sw_verifier_verify (v2, message, NULL, &third, &error));
      g_assert_cmpuint (sw_resolver_thread_end (), ==, 0);
      g_assert_cmpint (third->verdict, ==, normal->verdict);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/core/verify/prefetch/samples", test_samples);
  g_test_add_func ("/core/verify/prefetch/names", test_names);
  g_test_add_func ("/core/verify/prefetch/threads", test_threads);
  g_test_add_func ("/core/verify/prefetch/follow", test_follow);
  g_test_add_func ("/core/verify/prefetch/many", test_many);
  g_test_add_func ("/core/verify/prefetch/start", test_start);
  g_test_add_func ("/core/verify/prefetch/cache-only", test_cache_only);
  return g_test_run ();
}
