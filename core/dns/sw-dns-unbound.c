#define G_LOG_DOMAIN "sw-dns"
/* sw-dns-unbound.c: the libunbound backend.
 *
 * One ub_ctx per resolver, shared by every thread, so all of them share its cache. The
 * context runs on a libevent base of ours (ub_ctx_create_event(), ub_resolve_event()),
 * driven by one "loop" thread (sw-dns-unbound): libunbound's worker, its sockets and our
 * answer handling all run there. Only that thread calls into the context. Other threads
 * hand it their queries through two queues and wake it through an eventfd, one write per
 * batch; it starts them, and gets each answer as a DNS packet, which becomes an
 * SwDnsAnswer (parsed here, bounded by the packet) in the same thread.
 *
 * Why not libunbound's threaded async mode (ub_ctx_async(ctx, 1)): there every query and
 * every answer crosses a pipe between libunbound's own thread and the caller's, with two
 * writes, two reads and blocking-mode toggles (fcntl) each way: ~45 system calls per
 * query, measured with strace on the POP3 benchmark's 1,500-name warming. Here a query
 * costs its socket's calls.
 *
 * Priorities: a query somebody waits on (sw_resolver_query(), verification) goes to the
 * "urgent" queue, which is started first; a query nobody waits on
 * (sw_resolver_query_async(), the DNS prefetch that warms a whole mailbox) goes to the
 * "background" queue. At most UB_MAX_IN_FLIGHT queries are with libunbound at a time, of
 * them at most UB_BACKGROUND_IN_FLIGHT background ones. So a verification's own question
 * never waits behind a thousand warming answers, and the DNS server is never asked more
 * at once than a home router's forwarder accepts.
 *
 * A waiting caller waits on its query's GCond with a hard deadline; on the deadline it
 * answers TIMEOUT and leaves the query to the loop. The loop gives every name a timer of
 * the same length (flight_overdue): when it fires first, the name's callers get TIMEOUT
 * and its place goes to the next name; libunbound's late answer then only frees it. A late
 * answer nobody waits for any more is not cached.
 *
 * Before a query goes to libunbound, the resolver's answer cache (sw-dns-cache.c) is
 * asked; OK, NODATA and NXDOMAIN answers go into it afterwards.
 *
 * One libunbound query per name: callers asking a name already queued or in flight join
 * its "flight" and get a copy of its answer (the mailbox warming asks the same sender
 * domains from many header blocks at once; that halved the queries started).
 *
 * Query lifetime: a caller's query has one reference for the loop (held from submission,
 * in its flight, to its completion) and one for a waiting caller. The loop's reference is
 * dropped by complete(), or at teardown, where every flight still queued or in flight
 * completes with TIMEOUT (so each sw_resolver_query_async() caller gets its one call). */
#include "sw-dns-private.h"
#include "sw-limits.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unbound-event.h>
#include <unbound.h>
#include <unistd.h>

#define DEFAULT_TRUST_ANCHOR "/usr/share/dns/root.key"
#define RCODE_NXDOMAIN       3
#define CLASS_IN             1
/* Queries with libunbound at once, and of those, background (prefetch) ones. The total
 * stays below what the resolvers on the user's side accept: dnsmasq (home routers,
 * Pi-hole, NetworkManager's local cache) forwards at most 150 queries at once by default
 * (dns-forward-max) and fails the rest, and the failure sticks to the name for the rest
 * of the download (libunbound keeps the SERVFAIL a while): a cold mailbox's warming with
 * 256 names out at once gave 69-180 of 1,000 messages temperror behind dnsmasq
 * (bench/pop3-bench.sh --only dnsmasq; the CTest pop3-dnsmasq). 100 leaves room for the
 * other programs on the network. Background queries get at most 90 of the places, so
 * that a query somebody waits on finds a free one even when the others wait on a server
 * that does not answer (a place is given back after the resolver's timeout at the
 * latest: flight_overdue). At 20 ms a round trip, 100 in flight is 5,000 names a
 * second. (With DNSSEC validation one name may take more than one query upstream.) */
#define UB_MAX_IN_FLIGHT        100u
#define UB_BACKGROUND_IN_FLIGHT 90u

typedef struct _Unbound Unbound;

/* One caller's query. */
typedef struct {
  gint               ref_count; /* atomic */
  SwResolver        *resolver;  /* not a reference: queries never outlive the resolver */
  gboolean           urgent;    /* somebody waits (sw_resolver_query) */
  /* sw_resolver_query_async(): called from the loop thread (or at teardown) */
  SwResolverCallback callback;
  gpointer           user_data;
  /* a waiting caller */
  GMutex             lock;
  GCond              cond;
  gboolean           done;      /* answer is set */
  gboolean           abandoned; /* the caller timed out and left */
  SwDnsAnswer       *answer;    /* owned */
} UbQuery;

/* One name in flight (or queued): one libunbound query, however many callers ask it. */
typedef struct {
  Unbound   *ub;
  char      *key;     /* "qtype/qname": its key in Unbound.flights */
  char      *qname;
  guint16    qtype;
  gboolean   urgent;  /* in (or started from) the urgent queue */
  gboolean   started; /* given to libunbound */
  GPtrArray *queries; /* UbQuery*, each with the loop's reference */
  /* loop thread only */
  struct event *timer; /* while with libunbound: fires after the resolver's timeout */
  gboolean   holds_place; /* counted in Unbound.in_flight */
  gboolean   overdue;     /* the timer fired: callers told TIMEOUT, out of the table;
                           * freed when libunbound's callback comes */
} Flight;

struct _Unbound {
  struct ub_ctx     *ctx;  /* used by the loop thread only (after construction) */
  struct event_base *base; /* likewise */
  struct event      *wake_event;
  int                wake_fd; /* eventfd: a submission or teardown is waiting */
  GThread           *loop;
  guint              timeout_ms;
  SwResolver        *resolver; /* not a reference: set once the resolver exists */

  GMutex             lock; /* guards the fields up to stopping, and Flight.queries/urgent/started */
  GHashTable        *flights;    /* key -> Flight* (owned) queued or with libunbound */
  GQueue             urgent;     /* Flight* not started yet */
  GQueue             background; /* likewise */
  gboolean           woken;      /* the eventfd was written and the loop has not yet looked */
  gboolean           stopping;

  /* loop thread only (and teardown, after the loop thread has ended) */
  gboolean           deleting;   /* teardown: ub_ctx_delete() runs */
  guint              in_flight;            /* flights with libunbound */
  guint              background_in_flight; /* of which background ones */
};

static UbQuery *
ub_query_new (SwResolver *resolver)
{
  UbQuery *q = g_new0 (UbQuery, 1);
  q->ref_count = 1; /* the loop's */
  q->resolver = resolver;
  g_mutex_init (&q->lock);
  g_cond_init (&q->cond);
  return q;
}

static void
ub_query_unref (UbQuery *q)
{
  if (!g_atomic_int_dec_and_test (&q->ref_count))
    return;
  g_clear_pointer (&q->answer, sw_dns_answer_free);
  g_mutex_clear (&q->lock);
  g_cond_clear (&q->cond);
  g_free (q);
}

/* ---- answers: DNS packets from libunbound ---- */

/* The answer for one of libunbound's event callbacks, added to the answer cache when it
 * may be cached (and @cache). */
static SwDnsAnswer *
answer_from_packet (SwResolver *resolver, gboolean cache, const char *qname, guint16 qtype, int rcode, const guint8 *packet,
                    int packet_len, int sec, const char *why_bogus)
{
  SwDnsAnswer *answer = sw_dns_answer_new (qname, qtype, SW_DNS_STATUS_SERVFAIL);
  if (rcode != 0 || packet == NULL || packet_len <= 0)
    {
      /* libunbound's own failure (its rcode; the packet must not be read then) */
      g_debug ("libunbound failed on %s/%u: rcode %d", qname, qtype, rcode);
      if (rcode == RCODE_NXDOMAIN)
        answer->status = SW_DNS_STATUS_NXDOMAIN; /* without a SOA: not cached */
      return answer;
    }
  if (resolver->dnssec)
    {
      if (sec == 1)
        {
          answer->dnssec = SW_DNSSEC_BOGUS;
          answer->why_bogus = g_strdup (why_bogus ? why_bogus : "DNSSEC validation failed");
          return answer; /* SERVFAIL */
        }
      answer->dnssec = sec == 2 ? SW_DNSSEC_SECURE : SW_DNSSEC_INSECURE;
    }
  guint32 negative_ttl = 0;
  if (!sw_dns_answer_fill_from_packet (answer, packet, (gsize)packet_len, &negative_ttl))
    {
      g_debug ("libunbound gave a malformed answer for %s/%u", qname, qtype);
      g_ptr_array_set_size (answer->rdata, 0);
      answer->status = SW_DNS_STATUS_SERVFAIL;
      answer->ttl = 0;
      return answer;
    }
  if (cache && resolver->cache != NULL)
    sw_dns_cache_add (resolver->cache, answer, answer->status == SW_DNS_STATUS_OK ? answer->ttl : negative_ttl);
  if (answer->status != SW_DNS_STATUS_OK)
    answer->ttl = 0;
  return answer;
}

/* ---- the loop thread ---- */

/* Hands @answer (transfer full) to @q's caller and drops the loop's reference. */
static void
complete (UbQuery *q, SwDnsAnswer *answer)
{
  if (q->callback != NULL)
    {
      sw_resolver_count_answer (q->resolver);
      q->callback (answer, q->user_data);
      sw_dns_answer_free (answer);
    }
  else
    {
      g_mutex_lock (&q->lock);
      if (q->abandoned)
        sw_dns_answer_free (answer);
      else
        {
          q->answer = answer;
          q->done = TRUE;
          g_cond_signal (&q->cond);
        }
      g_mutex_unlock (&q->lock);
    }
  ub_query_unref (q);
}

static void
wake_loop (Unbound *ub)
{
  guint64 one = 1;
  while (write (ub->wake_fd, &one, sizeof one) < 0 && errno == EINTR)
    ;
}

static void event_callback (void *data, int rcode, void *packet, int packet_len, int sec, char *why_bogus,
                            int was_ratelimited);

static void
flight_free (Flight *f)
{
  g_clear_pointer (&f->timer, event_free);
  g_free (f->key);
  g_free (f->qname);
  g_clear_pointer (&f->queries, g_ptr_array_unref);
  g_free (f);
}

/* Takes @f out of the table and gives every query of it @answer (transfer full); with
 * @answer NULL (from the server), builds it from the packet first, cached unless every
 * caller has timed out and left. Loop thread (or teardown). */
static void
flight_finish (Flight *f, SwDnsAnswer *answer, int rcode, const void *packet, int packet_len, int sec,
               const char *why_bogus)
{
  Unbound *ub = f->ub;
  g_mutex_lock (&ub->lock);
  g_hash_table_steal (ub->flights, f->key);
  g_mutex_unlock (&ub->lock);
  /* nobody adds to f->queries now: it is out of the table */
  if (answer == NULL)
    {
      /* a caller that timed out has been told TIMEOUT: its late answer is not cached, so
       * that what the cache holds never depends on how late an answer came */
      gboolean cache = FALSE;
      for (guint i = 0; i < f->queries->len && !cache; i++)
        {
          UbQuery *q = g_ptr_array_index (f->queries, i);
          g_mutex_lock (&q->lock);
          cache = q->callback != NULL || !q->abandoned;
          g_mutex_unlock (&q->lock);
        }
      answer = answer_from_packet (ub->resolver, cache, f->qname, f->qtype, rcode, packet, packet_len, sec,
                                   why_bogus);
    }
  for (guint i = 0; i < f->queries->len; i++)
    {
      UbQuery *q = g_ptr_array_index (f->queries, i);
      complete (q, i + 1 < f->queries->len ? sw_dns_answer_copy (answer) : answer);
    }
  if (f->queries->len == 0)
    sw_dns_answer_free (answer);
  flight_free (f);
}

/* @f no longer counts against the caps: the next name queued may start (from the loop,
 * not from inside libunbound's callback). */
static void
release_place (Unbound *ub, Flight *f)
{
  if (!f->holds_place)
    return;
  f->holds_place = FALSE;
  ub->in_flight--;
  if (!f->urgent)
    ub->background_in_flight--;
  g_mutex_lock (&ub->lock);
  gboolean more = (!g_queue_is_empty (&ub->urgent) || !g_queue_is_empty (&ub->background)) && !ub->woken
                  && !ub->stopping;
  if (more)
    ub->woken = TRUE;
  g_mutex_unlock (&ub->lock);
  if (more)
    event_active (ub->wake_event, EV_READ, 0);
}

/* The resolver's timeout has passed and libunbound has not answered (its own retries to a
 * server that drops queries can go on for minutes): the callers get TIMEOUT, and the place
 * goes to the next name, so that names nobody will get an answer for never hold the
 * places of the others. libunbound's late answer only frees the flight (not cached, as
 * for a caller that timed out). */
static void
flight_overdue (evutil_socket_t fd, short what, void *data)
{
  (void)fd;
  (void)what;
  Flight *f = data;
  Unbound *ub = f->ub;
  g_debug ("no answer for %s/%u within %u ms", f->qname, f->qtype, ub->timeout_ms);
  f->overdue = TRUE;
  release_place (ub, f);
  g_mutex_lock (&ub->lock);
  g_hash_table_steal (ub->flights, f->key);
  g_mutex_unlock (&ub->lock);
  /* nobody adds to f->queries now: it is out of the table */
  for (guint i = 0; i < f->queries->len; i++)
    complete (g_ptr_array_index (f->queries, i), sw_dns_answer_new (f->qname, f->qtype, SW_DNS_STATUS_TIMEOUT));
  g_ptr_array_set_size (f->queries, 0);
}

static void
start (Unbound *ub, Flight *f)
{
  ub->in_flight++;
  if (!f->urgent)
    ub->background_in_flight++;
  f->holds_place = TRUE;
  f->timer = evtimer_new (ub->base, flight_overdue, f);
  if (f->timer != NULL)
    {
      struct timeval tv = { (time_t)(ub->timeout_ms / 1000), (suseconds_t)(ub->timeout_ms % 1000) * 1000 };
      evtimer_add (f->timer, &tv);
    }
  int async_id = 0;
  /* an answer libunbound has at hand comes through the callback before this returns */
  int r = ub_resolve_event (ub->ctx, f->qname, f->qtype, CLASS_IN, f, event_callback, &async_id);
  if (r != 0)
    {
      /* not started: no callback comes */
      g_debug ("libunbound could not start %s/%u: %s", f->qname, f->qtype, ub_strerror (r));
      release_place (ub, f);
      flight_finish (f, sw_dns_answer_new (f->qname, f->qtype, SW_DNS_STATUS_SERVFAIL), 0, NULL, 0, 0, NULL);
    }
}

/* Starts what is queued, up to the caps: urgent names first, then background ones. */
static void
pump (Unbound *ub)
{
  GQueue todo = G_QUEUE_INIT;
  g_mutex_lock (&ub->lock);
  ub->woken = FALSE;
  gboolean stopping = ub->stopping;
  if (!stopping)
    {
      guint room = ub->in_flight < UB_MAX_IN_FLIGHT ? UB_MAX_IN_FLIGHT - ub->in_flight : 0;
      for (; room > 0 && !g_queue_is_empty (&ub->urgent); room--)
        g_queue_push_tail (&todo, g_queue_pop_head (&ub->urgent));
      guint background_room = ub->background_in_flight < UB_BACKGROUND_IN_FLIGHT
                                  ? UB_BACKGROUND_IN_FLIGHT - ub->background_in_flight : 0;
      for (room = MIN (room, background_room); room > 0 && !g_queue_is_empty (&ub->background); room--)
        g_queue_push_tail (&todo, g_queue_pop_head (&ub->background));
      for (GList *l = todo.head; l != NULL; l = l->next)
        ((Flight *)l->data)->started = TRUE;
    }
  g_mutex_unlock (&ub->lock);
  if (stopping)
    {
      event_base_loopbreak (ub->base);
      return;
    }
  Flight *f;
  while ((f = g_queue_pop_head (&todo)) != NULL)
    start (ub, f);
}

static void
event_callback (void *data, int rcode, void *packet, int packet_len, int sec, char *why_bogus, int was_ratelimited)
{
  (void)was_ratelimited;
  Flight *f = data;
  Unbound *ub = f->ub;
  release_place (ub, f);
  if (f->overdue)
    {
      /* its callers were told TIMEOUT when the timer fired */
      flight_free (f);
      return;
    }
  if (ub->deleting)
    /* ub_ctx_delete() at teardown answers what is still in flight: that is a TIMEOUT */
    flight_finish (f, sw_dns_answer_new (f->qname, f->qtype, SW_DNS_STATUS_TIMEOUT), 0, NULL, 0, 0, NULL);
  else
    flight_finish (f, NULL, rcode, packet, packet_len, sec, why_bogus);
}

static void
wake_callback (evutil_socket_t fd, short what, void *data)
{
  (void)what;
  guint64 count;
  while (read (fd, &count, sizeof count) < 0 && errno == EINTR)
    ;
  pump (data);
}

static gpointer
loop_thread (gpointer data)
{
  Unbound *ub = data;
  if (event_base_dispatch (ub->base) < 0)
    g_warning ("the DNS event loop failed");
  return NULL;
}

/* Queues @q (the loop's reference) with the flight of @qname/@qtype, a new one if that
 * name is not queued or in flight yet, and wakes the loop if it is not already woken. An urgent
 * query moves a background flight not started yet to the urgent queue. */
static void
submit (Unbound *ub, UbQuery *q, const char *qname, guint16 qtype)
{
  g_autofree char *key = g_strdup_printf ("%u/%s", qtype, qname);
  gboolean wake = FALSE;
  g_mutex_lock (&ub->lock);
  Flight *f = g_hash_table_lookup (ub->flights, key);
  if (f == NULL)
    {
      f = g_new0 (Flight, 1);
      f->ub = ub;
      f->key = g_steal_pointer (&key);
      f->qname = g_strdup (qname);
      f->qtype = qtype;
      f->urgent = q->urgent;
      f->queries = g_ptr_array_new ();
      g_hash_table_insert (ub->flights, f->key, f);
      if (!f->urgent && g_thread_self () == ub->loop)
        /* a background name asked from an answer's callback (the prefetch following an
         * SPF record): next, before the names of later messages, so that a message's
         * names are complete in the order its header block came */
        g_queue_push_head (&ub->background, f);
      else
        g_queue_push_tail (f->urgent ? &ub->urgent : &ub->background, f);
      wake = TRUE;
    }
  else if (q->urgent && !f->urgent && !f->started)
    {
      g_queue_remove (&ub->background, f);
      f->urgent = TRUE;
      g_queue_push_tail (&ub->urgent, f);
      wake = TRUE;
    }
  g_ptr_array_add (f->queries, q);
  wake = wake && !ub->woken;
  if (wake)
    ub->woken = TRUE;
  g_mutex_unlock (&ub->lock);
  if (wake)
    wake_loop (ub);
}

static void
unbound_free (Unbound *ub)
{
  if (ub->loop != NULL)
    {
      g_mutex_lock (&ub->lock);
      ub->stopping = TRUE;
      g_mutex_unlock (&ub->lock);
      wake_loop (ub);
      g_thread_join (ub->loop);
    }
  /* libunbound's worker goes first (while its event base still exists); it calls the
   * callback of every query it drops, here, in this thread */
  ub->deleting = TRUE;
  if (ub->ctx != NULL)
    ub_ctx_delete (ub->ctx);
  /* every name not answered (queued, never started): TIMEOUT, so that each async caller
   * gets its one call */
  if (ub->flights != NULL)
    {
      g_queue_clear (&ub->urgent);
      g_queue_clear (&ub->background);
      GList *left = g_hash_table_get_values (ub->flights);
      for (GList *l = left; l != NULL; l = l->next)
        {
          Flight *f = l->data;
          flight_finish (f, sw_dns_answer_new (f->qname, f->qtype, SW_DNS_STATUS_TIMEOUT), 0, NULL, 0, 0, NULL);
        }
      g_list_free (left);
      g_clear_pointer (&ub->flights, g_hash_table_unref);
    }
  g_clear_pointer (&ub->wake_event, event_free);
  g_clear_pointer (&ub->base, event_base_free);
  if (ub->wake_fd >= 0)
    close (ub->wake_fd);
  g_mutex_clear (&ub->lock);
  g_free (ub);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Unbound, unbound_free)

static void
unbound_finalize (SwResolver *resolver)
{
  g_clear_pointer ((Unbound **)&resolver->backend, unbound_free);
}

static SwDnsAnswer *
unbound_query (SwResolver *resolver, const char *qname, guint16 qtype, GError **error)
{
  (void)error;
  Unbound *ub = resolver->backend;
  if (resolver->cache != NULL)
    {
      SwDnsAnswer *cached = sw_dns_cache_lookup (resolver->cache, qname, qtype);
      if (cached != NULL)
        return cached;
    }
  UbQuery *q = ub_query_new (resolver);
  q->urgent = TRUE;
  g_atomic_int_inc (&q->ref_count); /* ours, the waiter's */
  gint64 deadline = g_get_monotonic_time () + (gint64)ub->timeout_ms * G_TIME_SPAN_MILLISECOND;
  submit (ub, q, qname, qtype);

  g_mutex_lock (&q->lock);
  while (!q->done)
    if (!g_cond_wait_until (&q->cond, &q->lock, deadline))
      break;
  SwDnsAnswer *answer = g_steal_pointer (&q->answer);
  if (answer == NULL)
    q->abandoned = TRUE; /* the loop drops the answer when it comes */
  g_mutex_unlock (&q->lock);
  ub_query_unref (q);
  if (answer == NULL)
    answer = sw_dns_answer_new (qname, qtype, SW_DNS_STATUS_TIMEOUT);
  return answer;
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
  (void)error;
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
  UbQuery *q = ub_query_new (resolver);
  q->callback = callback;
  q->user_data = user_data;
  submit (ub, q, qname, qtype);
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
  ub->wake_fd = -1;
  g_mutex_init (&ub->lock);
  g_queue_init (&ub->urgent);
  g_queue_init (&ub->background);
  ub->flights = g_hash_table_new (g_str_hash, g_str_equal);
  ub->timeout_ms = options->timeout_ms ? options->timeout_ms : SW_DNS_TIMEOUT_MS;
  ub->base = event_base_new ();
  if (ub->base == NULL)
    {
      g_set_error (error, SW_RESOLVER_ERROR, SW_RESOLVER_ERROR_SETUP, "libevent: cannot create an event base");
      return NULL;
    }
  ub->ctx = ub_ctx_create_event (ub->base);
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
   * once (UB_MAX_IN_FLIGHT names, each of which may take more than one socket with
   * DNSSEC or a CNAME), and with a slow server those queries waited in line. 512 sockets
   * stay inside a desktop session's usual descriptor limit (1,024) with room for the
   * sessions; libunbound uses libevent here. */
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
  ub->wake_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (ub->wake_fd < 0)
    {
      int saved = errno;
      g_set_error (error, SW_RESOLVER_ERROR, SW_RESOLVER_ERROR_SETUP, "eventfd: %s", g_strerror (saved));
      return NULL;
    }
  ub->wake_event = event_new (ub->base, ub->wake_fd, EV_READ | EV_PERSIST, wake_callback, ub);
  if (ub->wake_event == NULL || event_add (ub->wake_event, NULL) != 0)
    {
      g_set_error (error, SW_RESOLVER_ERROR, SW_RESOLVER_ERROR_SETUP, "libevent: cannot watch the wake-up descriptor");
      return NULL;
    }

  SwResolver *resolver = sw_resolver_alloc (&unbound_class);
  resolver->dnssec = options->dnssec;
  if (options->cache_entries >= 0)
    resolver->cache = sw_dns_cache_new (options->cache_entries > 0 ? (guint) options->cache_entries
                                                                   : SW_DNS_CACHE_DEFAULT_ENTRIES);
  /* the loop starts once the resolver is complete: it reads resolver->backend and ->cache */
  ub->resolver = resolver;
  Unbound *backend = g_steal_pointer (&ub);
  resolver->backend = backend;
  g_autoptr (GError) local = NULL;
  backend->loop = g_thread_try_new ("sw-dns-unbound", loop_thread, backend, &local);
  if (backend->loop == NULL)
    {
      g_set_error (error, SW_RESOLVER_ERROR, SW_RESOLVER_ERROR_SETUP, "thread: %s", local->message);
      sw_resolver_unref (resolver);
      return NULL;
    }
  return resolver;
}
