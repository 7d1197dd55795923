#define G_LOG_DOMAIN "sw-dns"
/* sw-dns-unbound.c: the libunbound backend.
 *
 * One ub_ctx per resolver, shared by every thread, so all of them share its cache. The
 * context runs in threaded async mode (ub_ctx_async(ctx, 1)): queries are started with
 * ub_resolve_async() by the calling thread, resolved by libunbound's own worker thread,
 * and their callbacks are delivered by our "dispatch" thread, which waits on ub_fd() and
 * calls ub_process(). The caller waits on its query's GCond with a hard deadline; on the
 * deadline it cancels the query with ub_cancel() and answers TIMEOUT.
 *
 * Before a query goes to libunbound, the resolver's answer cache (sw-dns-cache.c) is
 * asked; OK, NODATA and NXDOMAIN answers go into it afterwards. A cached answer costs a
 * hash lookup and a copy instead of two pipe hops and three thread wake-ups.
 *
 * Query lifetime: a query has two references, the caller's and the callback's. The
 * callback's reference is represented by the query's entry in the resolver's pending set:
 * whoever removes the entry (the callback, or the caller after a successful ub_cancel(),
 * which guarantees that the callback will not run, or finalize for callbacks that never
 * came) drops that reference. */
#include "sw-dns-private.h"
#include "sw-limits.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib-unix.h>
#include <poll.h>
#include <string.h>
#include <unbound.h>
#include <unistd.h>

#define DEFAULT_TRUST_ANCHOR "/usr/share/dns/root.key"
#define RCODE_NOERROR        0
#define RCODE_NXDOMAIN       3

typedef struct _Unbound Unbound;

typedef struct {
  Unbound          *ub;        /* not a reference: queries never outlive the resolver */
  gint              ref_count; /* atomic */
  /* a query without a waiter (sw_resolver_query_async): answered from the dispatch thread */
  SwResolver        *resolver; /* not a reference, as ub */
  char              *qname;
  guint16            qtype;
  SwResolverCallback callback; /* NULL for a waiting query */
  gpointer           user_data;
  GMutex            lock;
  GCond             cond;
  gboolean          done;
  int               err;    /* libunbound error code of the callback */
  struct ub_result *result; /* owned */
} UbQuery;

struct _Unbound {
  struct ub_ctx *ctx;
  guint          timeout_ms;
  GThread       *dispatch;
  int            wake[2]; /* pipe: a byte in wake[1] stops the dispatch thread */
  GMutex         pending_lock;
  GHashTable    *pending; /* UbQuery* whose callback has not run: holds the callback's ref */
};

static UbQuery *
ub_query_new (Unbound *ub)
{
  UbQuery *q = g_new0 (UbQuery, 1);
  q->ub = ub;
  q->ref_count = 2; /* the caller and the callback */
  g_mutex_init (&q->lock);
  g_cond_init (&q->cond);
  return q;
}

static void
ub_query_unref (UbQuery *q)
{
  if (!g_atomic_int_dec_and_test (&q->ref_count))
    return;
  if (q->result != NULL)
    ub_resolve_free (q->result);
  g_free (q->qname);
  g_mutex_clear (&q->lock);
  g_cond_clear (&q->cond);
  g_free (q);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (UbQuery, ub_query_unref)

/* Removes @q from the pending set; TRUE if it was there (the caller then owns the
 * callback's reference). */
static gboolean
take_pending (Unbound *ub, UbQuery *q)
{
  g_mutex_lock (&ub->pending_lock);
  gboolean found = g_hash_table_remove (ub->pending, q);
  g_mutex_unlock (&ub->pending_lock);
  return found;
}

static SwDnsAnswer *answer_from_result (SwResolver *resolver, const char *qname, guint16 qtype, int err,
                                        struct ub_result *result);

/* Called by ub_process() in the dispatch thread. */
static void
ub_callback (void *arg, int err, struct ub_result *result)
{
  UbQuery *q = arg;
  if (q->callback != NULL)
    {
      /* nobody waits: answer here (the pending set holds the only reference) */
      if (take_pending (q->ub, q))
        {
          SwDnsAnswer *answer = answer_from_result (q->resolver, q->qname, q->qtype, err, result);
          sw_resolver_count_answer (q->resolver);
          q->callback (answer, q->user_data);
          sw_dns_answer_free (answer);
          ub_query_unref (q);
        }
      else if (result != NULL)
        ub_resolve_free (result);
      return;
    }
  gboolean owned = take_pending (q->ub, q);
  g_mutex_lock (&q->lock);
  q->err = err;
  q->result = result;
  q->done = TRUE;
  g_cond_signal (&q->cond);
  g_mutex_unlock (&q->lock);
  if (owned)
    ub_query_unref (q);
}

static gpointer
dispatch_thread (gpointer data)
{
  Unbound *ub = data;
  struct pollfd fds[2] = {
    { .fd = ub_fd (ub->ctx), .events = POLLIN },
    { .fd = ub->wake[0], .events = POLLIN },
  };
  for (;;)
    {
      int n = poll (fds, 2, -1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          g_warning ("poll on the libunbound descriptor failed: %s", g_strerror (errno));
          break;
        }
      if (fds[1].revents != 0)
        break;
      if (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL))
        {
          g_warning ("the libunbound descriptor failed");
          break;
        }
      if (fds[0].revents & POLLIN)
        {
          int r = ub_process (ub->ctx);
          if (r != 0)
            g_warning ("ub_process: %s", ub_strerror (r));
        }
    }
  return NULL;
}

static void
unbound_free (Unbound *ub)
{
  if (ub->dispatch != NULL)
    {
      char byte = 'q';
      while (write (ub->wake[1], &byte, 1) < 0 && errno == EINTR)
        ;
      g_thread_join (ub->dispatch);
    }
  if (ub->ctx != NULL)
    ub_ctx_delete (ub->ctx);
  /* Queries that timed out while their answer was already on its way: no callback will
   * come any more: drop the callback references here. */
  if (ub->pending != NULL)
    {
      GHashTableIter iter;
      gpointer key;
      g_hash_table_iter_init (&iter, ub->pending);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        {
          g_hash_table_iter_steal (&iter);
          UbQuery *q = key;
          if (q->callback != NULL)
            {
              /* an unanswered sw_resolver_query_async(): its caller still gets its one call */
              SwDnsAnswer *answer = sw_dns_answer_new (q->qname, q->qtype, SW_DNS_STATUS_TIMEOUT);
              q->callback (answer, q->user_data);
              sw_dns_answer_free (answer);
            }
          ub_query_unref (q);
        }
      g_hash_table_unref (ub->pending);
    }
  for (guint i = 0; i < 2; i++)
    if (ub->wake[i] >= 0)
      close (ub->wake[i]);
  g_mutex_clear (&ub->pending_lock);
  g_free (ub);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Unbound, unbound_free)

static void
unbound_finalize (SwResolver *resolver)
{
  g_clear_pointer ((Unbound **) &resolver->backend, unbound_free);
}

static SwDnsAnswer *
unbound_query (SwResolver *resolver, const char *qname, guint16 qtype, GError **error)
{
  Unbound *ub = resolver->backend;
  if (resolver->cache != NULL)
    {
      SwDnsAnswer *cached = sw_dns_cache_lookup (resolver->cache, qname, qtype);
      if (cached != NULL)
        return cached;
    }
  UbQuery *q = ub_query_new (ub);

  g_mutex_lock (&ub->pending_lock);
  g_hash_table_add (ub->pending, q);
  g_mutex_unlock (&ub->pending_lock);

  gint64 deadline = g_get_monotonic_time () + (gint64) ub->timeout_ms * G_TIME_SPAN_MILLISECOND;
  int async_id = 0;
  int r = ub_resolve_async (ub->ctx, qname, qtype, 1 /* IN */, q, ub_callback, &async_id);
  if (r != 0)
    {
      /* Not started: no callback will come. */
      if (take_pending (ub, q))
        ub_query_unref (q);
      ub_query_unref (q);
      g_set_error (error, SW_RESOLVER_ERROR, SW_RESOLVER_ERROR_SETUP, "libunbound could not start the query: %s",
                   ub_strerror (r));
      return NULL;
    }

  g_mutex_lock (&q->lock);
  while (!q->done)
    if (!g_cond_wait_until (&q->cond, &q->lock, deadline))
      break;
  gboolean done = q->done;
  int err = q->err;
  struct ub_result *result = g_steal_pointer (&q->result);
  g_mutex_unlock (&q->lock);

  g_autoptr (SwDnsAnswer) answer = sw_dns_answer_new (qname, qtype, SW_DNS_STATUS_SERVFAIL);
  if (!done)
    {
      /* UB_NOERROR: the callback will never run, its reference is ours to drop.
       * Otherwise the callback is running or queued and drops it itself. */
      if (ub_cancel (ub->ctx, async_id) == 0 && take_pending (ub, q))
        ub_query_unref (q);
      ub_query_unref (q);
      answer->status = SW_DNS_STATUS_TIMEOUT;
      return g_steal_pointer (&answer);
    }
  ub_query_unref (q);
  return answer_from_result (resolver, qname, qtype, err, result);
}

/* The answer for libunbound's @err and @result (transfer of @result), added to the
 * answer cache when it may be cached. */
static SwDnsAnswer *
answer_from_result (SwResolver *resolver, const char *qname, guint16 qtype, int err, struct ub_result *result)
{
  g_autoptr (SwDnsAnswer) answer = sw_dns_answer_new (qname, qtype, SW_DNS_STATUS_SERVFAIL);
  if (err != 0 || result == NULL)
    {
      g_debug ("libunbound failed on %s/%u: %s", qname, qtype, ub_strerror (err));
      if (result != NULL)
        ub_resolve_free (result);
      return g_steal_pointer (&answer); /* SERVFAIL */
    }

  if (resolver->dnssec)
    {
      if (result->bogus)
        {
          answer->dnssec = SW_DNSSEC_BOGUS;
          answer->why_bogus = g_strdup (result->why_bogus ? result->why_bogus : "DNSSEC validation failed");
          ub_resolve_free (result);
          return g_steal_pointer (&answer); /* SERVFAIL */
        }
      answer->dnssec = result->secure ? SW_DNSSEC_SECURE : SW_DNSSEC_INSECURE;
    }

  if (result->rcode == RCODE_NOERROR && result->havedata)
    {
      answer->status = SW_DNS_STATUS_OK;
      answer->ttl = (guint32) MAX (result->ttl, 0);
      for (guint i = 0; result->data[i] != NULL && i < SW_MAX_DNS_ANSWER_RRS; i++)
        g_ptr_array_add (answer->rdata, g_bytes_new (result->data[i], (gsize) result->len[i]));
      if (answer->rdata->len == 0)
        answer->status = SW_DNS_STATUS_NODATA;
    }
  else if (result->rcode == RCODE_NOERROR)
    answer->status = SW_DNS_STATUS_NODATA;
  else if (result->rcode == RCODE_NXDOMAIN || result->nxdomain)
    answer->status = SW_DNS_STATUS_NXDOMAIN;
  else
    answer->status = SW_DNS_STATUS_SERVFAIL;
  /* For NODATA and NXDOMAIN, libunbound's ttl is the negative TTL (the SOA's). */
  guint32 cache_ttl = (guint32) MAX (result->ttl, 0);
  if (answer->status != SW_DNS_STATUS_OK)
    answer->ttl = 0;
  ub_resolve_free (result);
  if (resolver->cache != NULL)
    sw_dns_cache_add (resolver->cache, answer, cache_ttl);
  return g_steal_pointer (&answer);
}

static SwDnsAnswer *
unbound_query_now (SwResolver *resolver, const char *qname, guint16 qtype)
{
  return resolver->cache != NULL ? sw_dns_cache_lookup (resolver->cache, qname, qtype) : NULL;
}

static gboolean
unbound_query_async (SwResolver *resolver, const char *qname, guint16 qtype, SwResolverCallback callback,
                     gpointer user_data, GError **error)
{
  Unbound *ub = resolver->backend;
  if (resolver->cache != NULL)
    {
      g_autoptr (SwDnsAnswer) cached = sw_dns_cache_lookup (resolver->cache, qname, qtype);
      if (cached != NULL)
        {
          sw_resolver_count_answer (resolver);
          callback (cached, user_data);
          return TRUE;
        }
    }
  UbQuery *q = ub_query_new (ub);
  q->ref_count = 1; /* the pending set's: nobody waits */
  q->resolver = resolver;
  q->qname = g_strdup (qname);
  q->qtype = qtype;
  q->callback = callback;
  q->user_data = user_data;
  g_mutex_lock (&ub->pending_lock);
  g_hash_table_add (ub->pending, q);
  g_mutex_unlock (&ub->pending_lock);
  int async_id = 0;
  int r = ub_resolve_async (ub->ctx, qname, qtype, 1 /* IN */, q, ub_callback, &async_id);
  if (r != 0)
    {
      /* Not started: no callback will come. */
      if (take_pending (ub, q))
        ub_query_unref (q);
      g_set_error (error, SW_RESOLVER_ERROR, SW_RESOLVER_ERROR_SETUP, "libunbound could not start the query: %s",
                   ub_strerror (r));
      return FALSE;
    }
  return TRUE;
}

static const SwResolverClass unbound_class = {
  .name = "unbound",
  .query = unbound_query,
  .query_now = unbound_query_now,
  .query_async = unbound_query_async,
  .finalize = unbound_finalize,
};

/* "IP", "IP:PORT", "[IPv6]", "[IPv6]:PORT", bare IPv6 -> libunbound's "IP[@PORT]". */
static char *
forward_to_unbound (const char *forward, GError **error)
{
  g_autofree char *host = NULL;
  const char *port = NULL;
  if (forward[0] == '[')
    {
      const char *close = strchr (forward, ']');
      if (close == NULL || (close[1] != '\0' && close[1] != ':'))
        goto bad;
      host = g_strndup (forward + 1, (gsize) (close - forward - 1));
      if (close[1] == ':')
        port = close + 2;
    }
  else
    {
      const char *colon = strchr (forward, ':');
      if (colon != NULL && strchr (colon + 1, ':') == NULL)
        {
          host = g_strndup (forward, (gsize) (colon - forward));
          port = colon + 1;
        }
      else
        host = g_strdup (forward); /* IPv4 without port, or bare IPv6 */
    }
  guint8 addr[16];
  if (inet_pton (AF_INET, host, addr) != 1 && inet_pton (AF_INET6, host, addr) != 1)
    goto bad;
  if (port == NULL)
    return g_steal_pointer (&host);
  guint64 port_num;
  if (!g_ascii_string_to_unsigned (port, 10, 1, 65535, &port_num, NULL))
    goto bad;
  return g_strdup_printf ("%s@%u", host, (guint) port_num);

bad:
  g_set_error (error, SW_RESOLVER_ERROR, SW_RESOLVER_ERROR_SETUP,
               "bad forwarder \"%s\": expected IP, IP:PORT or [IPv6]:PORT", forward);
  return NULL;
}

static gboolean
ub_check (int r, const char *what, GError **error)
{
  if (r == 0)
    return TRUE;
  g_set_error (error, SW_RESOLVER_ERROR, SW_RESOLVER_ERROR_SETUP, "libunbound: %s: %s", what, ub_strerror (r));
  return FALSE;
}

SwResolver *
sw_resolver_new_unbound (const SwResolverOptions *options, GError **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  static const SwResolverOptions defaults = { 0 };
  if (options == NULL)
    options = &defaults;

  g_autoptr (Unbound) ub = g_new0 (Unbound, 1);
  ub->wake[0] = ub->wake[1] = -1;
  g_mutex_init (&ub->pending_lock);
  ub->pending = g_hash_table_new (g_direct_hash, g_direct_equal);
  ub->timeout_ms = options->timeout_ms ? options->timeout_ms : SW_DNS_TIMEOUT_MS;
  ub->ctx = ub_ctx_create ();
  if (ub->ctx == NULL)
    {
      g_set_error (error, SW_RESOLVER_ERROR, SW_RESOLVER_ERROR_SETUP, "libunbound: cannot create a context");
      return NULL;
    }

  /* Everything is configured before the first query: afterwards libunbound refuses
   * changes (UB_AFTERFINAL). The system's resolver is often on loopback (127.0.0.53),
   * and tests forward to a server on 127.0.0.1: allow querying localhost. */
  if (!ub_check (ub_ctx_set_option (ub->ctx, "do-not-query-localhost:", "no"), "do-not-query-localhost", error))
    return NULL;
  /* libunbound's library defaults let 16 queries out at once (outgoing-range 16,
   * num-queries-per-thread 30): the POP3 proxy verifies and prefetches many messages at
   * once (a mailbox's warming puts ~1,500 names in flight together), and with a slow
   * server those queries waited in line. 512 sockets stay inside a desktop session's usual
   * descriptor limit (1,024) with room for the sessions; libunbound uses libevent here. */
  if (!ub_check (ub_ctx_set_option (ub->ctx, "outgoing-range:", "512"), "outgoing-range", error)
      || !ub_check (ub_ctx_set_option (ub->ctx, "num-queries-per-thread:", "1024"), "num-queries-per-thread", error))
    return NULL;
  if (options->forward != NULL)
    {
      g_autofree char *fwd = forward_to_unbound (options->forward, error);
      if (fwd == NULL)
        return NULL;
      if (!ub_check (ub_ctx_set_fwd (ub->ctx, fwd), "forwarder", error))
        return NULL;
      /* A forwarder may serve reverse zones of private ranges: do not answer them
       * locally with NXDOMAIN. */
      if (!ub_check (ub_ctx_set_option (ub->ctx, "unblock-lan-zones:", "yes"), "unblock-lan-zones", error))
        return NULL;
    }
  else
    {
      if (!ub_check (ub_ctx_resolvconf (ub->ctx, NULL), "reading /etc/resolv.conf", error))
        return NULL;
      int r = ub_ctx_hosts (ub->ctx, NULL);
      if (r != 0)
        g_debug ("libunbound: /etc/hosts not used: %s", ub_strerror (r));
    }
  if (options->dnssec)
    {
      const char *ta = options->trust_anchor_file ? options->trust_anchor_file : DEFAULT_TRUST_ANCHOR;
      /* libunbound reads the file only at the first query: check it now. */
      g_autoptr (GError) local = NULL;
      g_autofree char *contents = NULL;
      if (!g_file_get_contents (ta, &contents, NULL, &local))
        {
          g_set_error (error, SW_RESOLVER_ERROR, SW_RESOLVER_ERROR_SETUP, "DNSSEC trust anchor: %s", local->message);
          return NULL;
        }
      if (!ub_check (ub_ctx_add_ta_file (ub->ctx, ta), "trust anchor", error))
        return NULL;
    }
  if (!ub_check (ub_ctx_async (ub->ctx, 1), "threaded mode", error))
    return NULL;

  g_autoptr (GError) local = NULL;
  if (!g_unix_open_pipe (ub->wake, FD_CLOEXEC, &local))
    {
      g_set_error (error, SW_RESOLVER_ERROR, SW_RESOLVER_ERROR_SETUP, "pipe: %s", local->message);
      return NULL;
    }
  ub->dispatch = g_thread_try_new ("sw-dns-unbound", dispatch_thread, ub, &local);
  if (ub->dispatch == NULL)
    {
      g_set_error (error, SW_RESOLVER_ERROR, SW_RESOLVER_ERROR_SETUP, "thread: %s", local->message);
      return NULL;
    }

  SwResolver *resolver = sw_resolver_alloc (&unbound_class);
  resolver->dnssec = options->dnssec;
  resolver->backend = g_steal_pointer (&ub);
  if (options->cache_entries >= 0)
    resolver->cache = sw_dns_cache_new (options->cache_entries > 0 ? (guint) options->cache_entries
                                                                   : SW_DNS_CACHE_DEFAULT_ENTRIES);
  return resolver;
}
