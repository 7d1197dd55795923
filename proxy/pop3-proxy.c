#define G_LOG_DOMAIN "sw-proxy"
/* pop3-proxy.c: the listeners on 127.0.0.1 and ::1 and the proxy's own thread.
 *
 * All sessions of one proxy run in one thread with its own GMainContext, so the caller's
 * loop (the GUI later) never waits on the network; verification and the DNS prefetch run
 * in the proxies' own worker pool (SW_POP3_VERIFY_THREADS threads, most of their time spent
 * waiting on DNS) so a session never waits on DNS either. */
#include "pop3-private.h"
#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "sw-limits.h"

G_DEFINE_QUARK (sw - pop3 - proxy - error - quark, sw_pop3_proxy_error)

struct _SwPop3Proxy
{
  SwPop3Settings settings;
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  GSocketService *service; /* owned by the proxy thread */
  GPtrArray *sessions;     /* SwPop3Session*, open ones */
  guint live;              /* sessions not freed yet */
  gboolean stopping;
  /* start handshake between the caller and the proxy thread */
  GMutex lock;
  GCond cond;
  gboolean start_done;
  GError *start_error;
  guint16 port;
};

SwPop3Proxy *
sw_pop3_proxy_new (const SwPop3ProxyConfig *config, GError **error)
{
  g_return_val_if_fail (config != NULL, NULL);
  if (config->account == NULL || config->upstream_host == NULL || config->verifier == NULL
      || config->upstream_port == 0)
    {
      g_set_error (error, SW_POP3_PROXY_ERROR, SW_POP3_PROXY_ERROR_CONFIG,
                   "a POP3 proxy needs an account name, an upstream host and port and a verifier");
      return NULL;
    }
  if (config->tls_mode == SW_TLS_NONE && !sw_pop3_host_is_loopback (config->upstream_host))
    {
      g_set_error (error, SW_POP3_PROXY_ERROR, SW_POP3_PROXY_ERROR_CONFIG,
                   "account %s: plain text (tls none) is only allowed to a loopback upstream, not to %s",
                   config->account, config->upstream_host);
      return NULL;
    }
  if (config->tls_mode != SW_TLS_NONE && config->tls_mode != SW_TLS_IMPLICIT
      && config->tls_mode != SW_TLS_STARTTLS)
    {
      g_set_error (error, SW_POP3_PROXY_ERROR, SW_POP3_PROXY_ERROR_CONFIG, "account %s: unknown TLS mode",
                   config->account);
      return NULL;
    }
  SwPop3Proxy *proxy = g_new0 (SwPop3Proxy, 1);
  SwPop3Settings *st = &proxy->settings;
  st->account = g_strdup (config->account);
  st->upstream_host = g_strdup (config->upstream_host);
  st->upstream_port = config->upstream_port;
  st->tls_mode = config->tls_mode;
  st->tls_database = config->tls_database ? g_object_ref (config->tls_database) : NULL;
  st->verifier = config->verifier;
  st->store = config->store;
  st->spool_dir = g_strdup (config->spool_dir ? config->spool_dir : g_get_tmp_dir ());
  st->memory_limit = config->memory_limit ? config->memory_limit : SW_POP3_DEFAULT_MEMORY_LIMIT;
  st->max_message = SW_POP3_MAX_MESSAGE;
  st->on_verdict = config->on_verdict;
  st->on_verdict_data = config->on_verdict_data;
  st->read_ahead = config->read_ahead <= 0 ? 0 : (guint)MIN (config->read_ahead, SW_POP3_MAX_READ_AHEAD);
  st->header_ahead = st->read_ahead > 0 ? SW_POP3_HEADER_AHEAD : 0;
  proxy->sessions = g_ptr_array_new_with_free_func ((GDestroyNotify)sw_pop3_session_unref);
  g_mutex_init (&proxy->lock);
  g_cond_init (&proxy->cond);
  return proxy;
}

void
sw_pop3_proxy_set_max_message (SwPop3Proxy *proxy, gsize max_message)
{
  g_return_if_fail (proxy->thread == NULL && max_message > 0 && max_message <= SW_POP3_MAX_MESSAGE);
  proxy->settings.max_message = max_message;
}

/* Verification is background work done ahead of the client's need (read-ahead): its
 * threads run at a lower priority than the proxy thread and the user's programs (the
 * mail client among them), which then get the CPU first when both want it. */
static void
lower_priority_once (void)
{
  static __thread gboolean done;
  if (done)
    return;
  done = TRUE;
  if (setpriority (PRIO_PROCESS, (id_t)syscall (SYS_gettid), SW_POP3_WORKER_NICE) != 0)
    g_debug ("setpriority: %s", g_strerror (errno));
}

typedef struct
{
  GTask *task;
  GTaskThreadFunc func; /* in the worker pool */
  SwPop3FastFunc fast;  /* first, in the fast lane; or NULL */
} PoolJob;

static void
pool_job (gpointer data, gpointer user_data)
{
  (void)user_data;
  lower_priority_once ();
  PoolJob *job = data;
  GTask *task = job->task;
  /* the functions run here never return a value themselves */
  job->func (task, g_task_get_source_object (task), g_task_get_task_data (task), g_task_get_cancellable (task));
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
  g_free (job);
}

/* One pool for every proxy of the process, never freed: its threads live as long as the
 * process (so do the per-thread states of the libraries verification uses, which a
 * thread frees only when it ends, and LeakSanitizer would see an ending one mid-way). A
 * proxy stops only when its sessions, and so their jobs, are done. Exclusive: GLib keeps
 * only two idle shared threads, so a shared pool would create and end threads all the
 * time. */
static GThreadPool *
worker_pool (void)
{
  static gsize once = 0;
  static GThreadPool *pool = NULL;
  if (g_once_init_enter (&once))
    {
      pool = g_thread_pool_new (pool_job, NULL, SW_POP3_VERIFY_THREADS, TRUE, NULL);
      g_once_init_leave (&once, 1);
    }
  return pool;
}

void
sw_pop3_pool_run (const SwPop3Settings *settings, GTask *task, GTaskThreadFunc func)
{
  (void)settings;
  PoolJob *job = g_new0 (PoolJob, 1);
  job->task = g_object_ref (task);
  job->func = func;
  g_thread_pool_push (worker_pool (), job, NULL);
}

/* The fast lane: SW_POP3_FAST_THREADS threads that never wait on DNS. A job whose DNS
 * answers are all cached is done here (few threads, so that back-to-back jobs find a
 * thread still awake instead of waking one of the pool's many); one that would have to
 * wait goes on to the worker pool. */
static void
fast_job (gpointer data, gpointer user_data)
{
  (void)user_data;
  lower_priority_once ();
  PoolJob *job = data;
  GTask *task = job->task;
  if (!job->fast (task, g_task_get_task_data (task)))
    {
      g_thread_pool_push (worker_pool (), job, NULL);
      return;
    }
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
  g_free (job);
}

static GThreadPool *
fast_pool (void)
{
  static gsize once = 0;
  static GThreadPool *pool = NULL;
  if (g_once_init_enter (&once))
    {
      pool = g_thread_pool_new (fast_job, NULL, SW_POP3_FAST_THREADS, TRUE, NULL);
      g_once_init_leave (&once, 1);
    }
  return pool;
}

void
sw_pop3_pool_run_fast (const SwPop3Settings *settings, GTask *task, SwPop3FastFunc fast, GTaskThreadFunc slow)
{
  (void)settings;
  PoolJob *job = g_new0 (PoolJob, 1);
  job->task = g_object_ref (task);
  job->func = slow;
  job->fast = fast;
  g_thread_pool_push (fast_pool (), job, NULL);
}

void
sw_pop3_proxy_set_header_ahead (SwPop3Proxy *proxy, guint messages)
{
  g_return_if_fail (proxy->thread == NULL);
  proxy->settings.header_ahead = proxy->settings.read_ahead > 0 ? messages : 0;
}

static void
session_closed (SwPop3Session *session, gpointer user_data)
{
  SwPop3Proxy *proxy = user_data;
  g_ptr_array_remove_fast (proxy->sessions, session);
}

static void
session_freed (SwPop3Session *session, gpointer user_data)
{
  SwPop3Proxy *proxy = user_data;
  g_assert (proxy->live > 0);
  proxy->live--;
  if (proxy->stopping && proxy->live == 0)
    g_main_loop_quit (proxy->loop);
}

static gboolean
on_incoming (GSocketService *service, GSocketConnection *connection, GObject *source, gpointer user_data)
{
  SwPop3Proxy *proxy = user_data;
  if (proxy->stopping)
    return TRUE;
  proxy->live++;
  g_ptr_array_add (proxy->sessions,
                   sw_pop3_session_new (&proxy->settings, connection, session_closed, session_freed, proxy));
  return TRUE;
}

/* Binds 127.0.0.1 and ::1 to the same port. */
static GSocketService *
bind_service (guint16 port, guint16 *bound, GError **error)
{
  for (int attempt = 0; attempt < 20; attempt++)
    {
      g_autoptr (GSocketService) service = g_socket_service_new ();
      /* A new service is active: adding the second address would cancel the accept
       * already queued for the first, and a connection arriving then could be accepted
       * by the cancelled accept and closed unseen. Accepting starts once, with both
       * addresses, in proxy_thread(). */
      g_socket_service_stop (service);
      g_autoptr (GInetAddress) v4 = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
      g_autoptr (GSocketAddress) a4 = g_inet_socket_address_new (v4, port);
      g_autoptr (GSocketAddress) eff = NULL;
      if (!g_socket_listener_add_address (G_SOCKET_LISTENER (service), a4, G_SOCKET_TYPE_STREAM,
                                          G_SOCKET_PROTOCOL_TCP, NULL, &eff, error))
        return NULL;
      guint16 p = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (eff));
      g_autoptr (GInetAddress) v6 = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
      g_autoptr (GSocketAddress) a6 = g_inet_socket_address_new (v6, p);
      g_autoptr (GError) e6 = NULL;
      if (!g_socket_listener_add_address (G_SOCKET_LISTENER (service), a6, G_SOCKET_TYPE_STREAM,
                                          G_SOCKET_PROTOCOL_TCP, NULL, NULL, &e6))
        {
          if (g_error_matches (e6, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
            {
              g_socket_listener_close (G_SOCKET_LISTENER (service));
              if (port == 0)
                continue; /* the free IPv4 port is taken on ::1: try another */
              g_propagate_error (error, g_steal_pointer (&e6));
              return NULL;
            }
          g_message ("POP3 proxy: not listening on [::1]:%u: %s", p, e6->message);
        }
      *bound = p;
      return g_steal_pointer (&service);
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE, "no port free on both 127.0.0.1 and ::1");
  return NULL;
}

static gpointer
proxy_thread (gpointer data)
{
  SwPop3Proxy *proxy = data;
  g_main_context_push_thread_default (proxy->context);
  GError *error = NULL;
  guint16 port = 0;
  proxy->service = bind_service (proxy->port, &port, &error);
  if (proxy->service != NULL)
    {
      g_signal_connect (proxy->service, "incoming", G_CALLBACK (on_incoming), proxy);
      g_socket_service_start (proxy->service);
    }
  g_mutex_lock (&proxy->lock);
  proxy->start_error = error;
  proxy->port = port;
  proxy->start_done = TRUE;
  g_cond_signal (&proxy->cond);
  g_mutex_unlock (&proxy->lock);

  if (proxy->service != NULL)
    {
      g_main_loop_run (proxy->loop);
      g_socket_service_stop (proxy->service);
      g_socket_listener_close (G_SOCKET_LISTENER (proxy->service));
      g_clear_object (&proxy->service);
      /* let the closes of the last sessions finish */
      while (g_main_context_iteration (proxy->context, FALSE))
        ;
    }
  g_main_context_pop_thread_default (proxy->context);
  return NULL;
}

gboolean
sw_pop3_proxy_start (SwPop3Proxy *proxy, guint16 port, guint16 *bound_port_out, GError **error)
{
  g_return_val_if_fail (proxy != NULL && proxy->thread == NULL, FALSE);
  proxy->context = g_main_context_new ();
  proxy->loop = g_main_loop_new (proxy->context, FALSE);
  proxy->stopping = FALSE;
  proxy->start_done = FALSE;
  proxy->port = port;
  proxy->thread = g_thread_new ("sw-pop3-proxy", proxy_thread, proxy);
  g_mutex_lock (&proxy->lock);
  while (!proxy->start_done)
    g_cond_wait (&proxy->cond, &proxy->lock);
  g_mutex_unlock (&proxy->lock);
  if (proxy->start_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&proxy->start_error));
      g_thread_join (g_steal_pointer (&proxy->thread));
      g_clear_pointer (&proxy->loop, g_main_loop_unref);
      g_clear_pointer (&proxy->context, g_main_context_unref);
      return FALSE;
    }
  g_message ("POP3 proxy for %s listening on 127.0.0.1 and ::1 port %u, upstream %s:%u (%s)",
             proxy->settings.account, proxy->port, proxy->settings.upstream_host,
             proxy->settings.upstream_port,
             proxy->settings.tls_mode == SW_TLS_IMPLICIT   ? "implicit TLS"
             : proxy->settings.tls_mode == SW_TLS_STARTTLS ? "STLS"
                                                           : "plain, loopback");
  if (bound_port_out != NULL)
    *bound_port_out = proxy->port;
  return TRUE;
}

static gboolean
stop_in_thread (gpointer data)
{
  SwPop3Proxy *proxy = data;
  proxy->stopping = TRUE;
  g_socket_service_stop (proxy->service);
  /* closing removes the session from the array (in an idle callback) */
  g_autoptr (GPtrArray) open = g_ptr_array_new_with_free_func ((GDestroyNotify)sw_pop3_session_unref);
  for (guint i = 0; i < proxy->sessions->len; i++)
    g_ptr_array_add (open, sw_pop3_session_ref (proxy->sessions->pdata[i]));
  for (guint i = 0; i < open->len; i++)
    sw_pop3_session_close (open->pdata[i]);
  if (proxy->live == 0)
    g_main_loop_quit (proxy->loop);
  return G_SOURCE_REMOVE;
}

void
sw_pop3_proxy_stop (SwPop3Proxy *proxy)
{
  g_return_if_fail (proxy != NULL);
  if (proxy->thread == NULL)
    return;
  g_main_context_invoke (proxy->context, stop_in_thread, proxy);
  g_thread_join (g_steal_pointer (&proxy->thread));
  g_ptr_array_set_size (proxy->sessions, 0);
  g_clear_pointer (&proxy->loop, g_main_loop_unref);
  g_clear_pointer (&proxy->context, g_main_context_unref);
}

void
sw_pop3_proxy_set_paused (SwPop3Proxy *proxy, gboolean paused)
{
  g_return_if_fail (proxy != NULL);
  g_atomic_int_set (&proxy->settings.paused, paused ? TRUE : FALSE);
}

gboolean
sw_pop3_proxy_get_paused (SwPop3Proxy *proxy)
{
  g_return_val_if_fail (proxy != NULL, FALSE);
  return g_atomic_int_get (&proxy->settings.paused);
}

void
sw_pop3_proxy_free (SwPop3Proxy *proxy)
{
  if (proxy == NULL)
    return;
  sw_pop3_proxy_stop (proxy);
  SwPop3Settings *st = &proxy->settings;
  g_free (st->account);
  g_free (st->upstream_host);
  g_clear_object (&st->tls_database);
  g_free (st->spool_dir);
  g_ptr_array_unref (proxy->sessions);
  g_mutex_clear (&proxy->lock);
  g_cond_clear (&proxy->cond);
  g_free (proxy);
}
