#define G_LOG_DOMAIN "sw-dns"
/* sw-dns-cache.c: the answer cache of the libunbound backend (see sw-dns-private.h).
 *
 * A GHashTable of entries keyed by (qname, qtype) and a queue of the same entries in
 * insertion order, both behind one mutex. An entry is an atomically reference-counted box
 * holding an immutable copy of the answer and its expiry time: a lookup takes a reference
 * under the lock and copies the answer for the caller after releasing it, so the lock is
 * held only for the hash lookup (and, on insertion, for the rare sweep of expired
 * entries). */
#include "sw-dns-private.h"
#include "sw-limits.h"

#include <string.h>

/* How long each kind of answer may stay, at most (seconds). */
#define CACHE_MAX_TTL_OK       86400u /* one day */
#define CACHE_MAX_TTL_NEGATIVE 3600u  /* one hour */
/* When the cache is full, expired entries are swept at most this often (µs); in between
 * the oldest entry makes room. */
#define CACHE_SWEEP_INTERVAL_US G_USEC_PER_SEC

typedef struct {
  SwDnsAnswer *answer;  /* immutable once the entry is in the table; answer->qname is the key */
  guint16      qtype;   /* = answer->qtype, the other half of the key */
  gint64       expires; /* monotonic time (µs) from which the entry is no longer used */
  GList       *link;    /* its node in SwDnsCache.order; under the cache's lock */
} Entry;

struct _SwDnsCache {
  guint                max_entries;
  GMutex               lock;
  GHashTable          *entries;    /* Entry* (key and value), holds one reference */
  GQueue               order;      /* Entry*, oldest first, no reference */
  gint64               next_sweep; /* monotonic µs before which a full cache does not sweep */
  atomic_uint_fast64_t hits;
};

static guint
entry_hash (gconstpointer p)
{
  const Entry *e = p;
  return g_str_hash (e->answer->qname) * 31u + e->qtype;
}

static gboolean
entry_equal (gconstpointer a, gconstpointer b)
{
  const Entry *x = a, *y = b;
  return x->qtype == y->qtype && strcmp (x->answer->qname, y->answer->qname) == 0;
}

static void
entry_clear (gpointer p)
{
  Entry *e = p;
  g_clear_pointer (&e->answer, sw_dns_answer_free);
}

static void
entry_release (gpointer p)
{
  g_atomic_rc_box_release_full (p, entry_clear);
}

SwDnsCache *
sw_dns_cache_new (guint max_entries)
{
  g_return_val_if_fail (max_entries > 0, NULL);
  SwDnsCache *cache = g_new0 (SwDnsCache, 1);
  cache->max_entries = max_entries;
  g_mutex_init (&cache->lock);
  cache->entries = g_hash_table_new_full (entry_hash, entry_equal, NULL, entry_release);
  g_queue_init (&cache->order);
  atomic_init (&cache->hits, 0);
  return cache;
}

void
sw_dns_cache_free (SwDnsCache *cache)
{
  if (cache == NULL)
    return;
  g_queue_clear (&cache->order);
  g_hash_table_unref (cache->entries);
  g_mutex_clear (&cache->lock);
  g_free (cache);
}

/* Removes @e from the queue and the table (which drops the table's reference).
 * Called with the lock held. */
static void
drop_locked (SwDnsCache *cache, Entry *e)
{
  g_queue_delete_link (&cache->order, e->link);
  e->link = NULL;
  g_hash_table_remove (cache->entries, e);
}

SwDnsAnswer *
sw_dns_cache_lookup (SwDnsCache *cache, const char *qname, guint16 qtype)
{
  g_return_val_if_fail (cache != NULL, NULL);
  g_return_val_if_fail (qname != NULL, NULL);
  SwDnsAnswer probe_answer = { .qname = (char *) qname, .qtype = qtype };
  Entry probe = { .answer = &probe_answer, .qtype = qtype };
  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&cache->lock);
  Entry *e = g_hash_table_lookup (cache->entries, &probe);
  if (e != NULL && now >= e->expires)
    {
      drop_locked (cache, e);
      e = NULL;
    }
  if (e != NULL)
    g_atomic_rc_box_acquire (e);
  g_mutex_unlock (&cache->lock);
  if (e == NULL)
    return NULL;

  SwDnsAnswer *answer = sw_dns_answer_copy (e->answer);
  if (answer->status == SW_DNS_STATUS_OK)
    answer->ttl = (guint32) ((e->expires - now + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
  entry_release (e);
  atomic_fetch_add (&cache->hits, 1);
  return answer;
}

void
sw_dns_cache_add (SwDnsCache *cache, const SwDnsAnswer *answer, guint32 ttl)
{
  g_return_if_fail (cache != NULL);
  g_return_if_fail (answer != NULL);
  guint32 lifetime;
  switch (answer->status)
    {
    case SW_DNS_STATUS_OK:
      lifetime = MIN (ttl, CACHE_MAX_TTL_OK);
      break;
    case SW_DNS_STATUS_NODATA:
    case SW_DNS_STATUS_NXDOMAIN:
      lifetime = MIN (ttl, CACHE_MAX_TTL_NEGATIVE);
      break;
    case SW_DNS_STATUS_SERVFAIL:
    case SW_DNS_STATUS_TIMEOUT:
    default:
      return; /* never cached (a bogus answer is SERVFAIL) */
    }
  if (lifetime == 0)
    return;

  Entry *e = g_atomic_rc_box_new0 (Entry);
  e->answer = sw_dns_answer_copy (answer);
  e->qtype = answer->qtype;
  gint64 now = g_get_monotonic_time ();
  e->expires = now + (gint64) lifetime * G_USEC_PER_SEC;

  g_mutex_lock (&cache->lock);
  Entry *old = g_hash_table_lookup (cache->entries, e);
  if (old != NULL)
    drop_locked (cache, old);
  if (g_hash_table_size (cache->entries) >= cache->max_entries && now >= cache->next_sweep)
    {
      for (GList *l = cache->order.head; l != NULL;)
        {
          Entry *x = l->data;
          l = l->next;
          if (now >= x->expires)
            drop_locked (cache, x);
        }
      cache->next_sweep = now + CACHE_SWEEP_INTERVAL_US;
    }
  while (g_hash_table_size (cache->entries) >= cache->max_entries)
    drop_locked (cache, g_queue_peek_head (&cache->order));
  g_queue_push_tail (&cache->order, e);
  e->link = cache->order.tail;
  g_hash_table_add (cache->entries, e);
  g_mutex_unlock (&cache->lock);
}

guint
sw_dns_cache_get_size (SwDnsCache *cache)
{
  g_return_val_if_fail (cache != NULL, 0);
  g_mutex_lock (&cache->lock);
  guint n = g_hash_table_size (cache->entries);
  g_mutex_unlock (&cache->lock);
  return n;
}

guint64
sw_dns_cache_get_hit_count (SwDnsCache *cache)
{
  g_return_val_if_fail (cache != NULL, 0);
  return atomic_load (&cache->hits);
}
