#define G_LOG_DOMAIN "sw-proxy"
/* pop3-prefetch.c: the DNS prefetch of a held RETR message.
 *
 * When the header block of a held message has arrived and the body is still coming, the
 * session starts the prefetch: the DNS answers verification needs are then in the
 * resolver's cache by the time the terminating dot arrives. The session loop never waits
 * for DNS; the answers are dropped. A message whose verdict is in the store (by UIDL) is
 * not prefetched: it will not be verified again. The store is asked in the proxy's
 * worker pool (SQLite may wait on the disk); without a store to ask, the proxy thread
 * starts the prefetch itself (sw_verifier_prefetch_start(): cached answers at once, the
 * rest handed to the prefetch threads), which costs no thread switch when the cache is
 * warm. */
#include "pop3-private.h"
#include "sw-prefetch.h"

static gint prefetch_count; /* g_atomic_int: prefetches finished, for tests */

typedef struct
{
  const SwPop3Settings *settings; /* valid while the session lives: the task holds it */
  GBytes *header_block;
  char *uidl;
} PrefetchJob;

static void
prefetch_job_free (PrefetchJob *j)
{
  g_bytes_unref (j->header_block);
  g_free (j->uidl);
  g_free (j);
}

static void
prefetch_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  (void)task;
  (void)source;
  PrefetchJob *j = task_data;
  if (g_cancellable_is_cancelled (cancellable))
    return;
#ifdef SW_PROXY_HAVE_STORE
  if (j->settings->store != NULL && j->uidl != NULL)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SwStoreRecord) rec
          = sw_store_find (j->settings->store, j->settings->account, j->uidl, NULL, &error);
      if (rec != NULL)
        return;
    }
#endif
  (void)sw_verifier_prefetch_start (j->settings->verifier, &j->header_block, 1);
  g_atomic_int_inc (&prefetch_count);
}

static void
prefetch_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  (void)source;
  (void)res;
  /* in the proxy thread: the session's reference count is not atomic */
  sw_pop3_session_unref (user_data);
}

void
sw_pop3_prefetch_start (const SwPop3Settings *settings, SwPop3Session *session, GBytes *header_block,
                        const char *uidl, GCancellable *cancellable)
{
  gboolean ask_store = FALSE;
#ifdef SW_PROXY_HAVE_STORE
  ask_store = settings->store != NULL && uidl != NULL;
#endif
  if (!ask_store)
    {
      if (g_cancellable_is_cancelled (cancellable))
        return;
      (void)sw_verifier_prefetch_start (settings->verifier, &header_block, 1);
      g_atomic_int_inc (&prefetch_count);
      return;
    }
  PrefetchJob *j = g_new0 (PrefetchJob, 1);
  j->settings = settings;
  j->header_block = g_bytes_ref (header_block);
  j->uidl = g_strdup (uidl);
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, prefetch_done, sw_pop3_session_ref (session));
  g_task_set_task_data (task, j, (GDestroyNotify)prefetch_job_free);
  sw_pop3_pool_run (settings, task, prefetch_thread);
}

guint
sw_pop3_prefetch_get_count (void)
{
  return (guint)g_atomic_int_get (&prefetch_count);
}
