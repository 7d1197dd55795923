#define G_LOG_DOMAIN "sw-proxy"
/* pop3-io.c: bounded line reading and masked logging of POP3 lines. */
#include "pop3-private.h"
#include "sw-util.h"
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

typedef struct
{
  gsize max;
} ReadLineData;

static void read_line_step (GTask *task);

/* ---- filling a buffered stream over a plain socket, with one lasting source ---- */

/* GIO's g_buffered_input_stream_fill_async() makes a socket source for each read that has
 * to wait and destroys it afterwards; each of those changes GLib's poll set, which writes
 * the context's wake-up descriptor (two writes and an extra loop pass per wait, several
 * times per message in the POP3 proxy). A Filler keeps one source on the socket for as
 * long as someone keeps waiting on it. */
typedef struct
{
  GBufferedInputStream *in; /* not a reference: the Filler is its object data */
  GSocket *socket;          /* reference */
  GSource *source;          /* attached, or NULL */
  int priority;             /* of the source */
  GMutex lock;              /* waiter and cancel_* against a cancellation from any thread */
  GTask *waiter;            /* the fill that waits, or NULL */
  GCancellable *cancellable; /* reference: the one cancel_id is connected to, or NULL */
  gulong cancel_id;
  gboolean ended;           /* a read ahead of any waiter met the end of the stream ... */
  GError *error;            /* ... or this error: the next fill gets it */
} Filler;

static void
filler_free (Filler *f)
{
  if (f->cancel_id != 0)
    g_cancellable_disconnect (f->cancellable, f->cancel_id);
  g_clear_object (&f->cancellable);
  if (f->source != NULL)
    {
      g_source_destroy (f->source);
      g_source_unref (f->source);
    }
  g_assert (f->waiter == NULL); /* a waiting task holds the stream */
  g_clear_error (&f->error);
  g_object_unref (f->socket);
  g_mutex_clear (&f->lock);
  g_free (f);
}

void
sw_pop3_stream_set_socket (GBufferedInputStream *in, GSocket *socket, int priority)
{
  Filler *f = g_new0 (Filler, 1);
  f->in = in;
  f->priority = priority;
  f->socket = g_object_ref (socket);
  g_mutex_init (&f->lock);
  g_object_set_data_full (G_OBJECT (in), "sw-pop3-filler", f, (GDestroyNotify)filler_free);
}

static GTask *
filler_take_waiter (Filler *f)
{
  g_mutex_lock (&f->lock);
  GTask *task = g_steal_pointer (&f->waiter);
  g_mutex_unlock (&f->lock);
  return task;
}

/* The socket is readable (or closed, or failed): fill for the waiter. Nobody waiting: read
 * into the buffer all the same while it has room (a plain socket carries nothing but this
 * stream's data, so nothing is taken from anyone; the source stays, and the next fill
 * finds the data buffered), else stop watching until the next fill. */
static gboolean
filler_ready (GSocket *socket, GIOCondition condition, gpointer data)
{
  (void)socket;
  (void)condition;
  Filler *f = data;
  GTask *task = filler_take_waiter (f);
  if (task == NULL)
    {
      gsize room = g_buffered_input_stream_get_buffer_size (f->in) - g_buffered_input_stream_get_available (f->in);
      if (room > 0 && !f->ended && f->error == NULL)
        {
          gssize n = g_buffered_input_stream_fill (f->in, -1, NULL, &f->error);
          if (n > 0)
            return G_SOURCE_CONTINUE;
          f->ended = n == 0;
        }
      g_clear_pointer (&f->source, g_source_unref);
      return G_SOURCE_REMOVE;
    }
  if (f->cancel_id != 0)
    {
      g_cancellable_disconnect (f->cancellable, f->cancel_id);
      f->cancel_id = 0;
    }
  GError *error = NULL;
  /* does not block: the socket is readable, and only this thread reads it */
  gssize n = g_buffered_input_stream_fill (f->in, -1, NULL, &error);
  if (n < 0)
    g_task_return_error (task, error);
  else
    g_task_return_int (task, n);
  g_object_unref (task);
  return G_SOURCE_CONTINUE;
}

static void
filler_cancelled (GCancellable *cancellable, gpointer data)
{
  (void)cancellable;
  GTask *task = filler_take_waiter (data);
  if (task == NULL)
    return;
  g_task_return_error_if_cancelled (task);
  g_object_unref (task);
}

void
sw_pop3_fill_async (GBufferedInputStream *in, GCancellable *cancellable, GAsyncReadyCallback callback,
                    gpointer user_data)
{
  Filler *f = g_object_get_data (G_OBJECT (in), "sw-pop3-filler");
  if (f == NULL)
    {
      g_buffered_input_stream_fill_async (in, -1, G_PRIORITY_DEFAULT, cancellable, callback, user_data);
      return;
    }
  GTask *task = g_task_new (in, cancellable, callback, user_data);
  g_task_set_source_tag (task, sw_pop3_fill_async);
  g_return_if_fail (f->waiter == NULL);
  if (f->ended || f->error != NULL)
    {
      /* met by a read ahead of this fill */
      if (f->error != NULL)
        g_task_return_error (task, g_steal_pointer (&f->error));
      else
        g_task_return_int (task, 0);
      g_object_unref (task);
      return;
    }
  if (f->cancel_id != 0)
    {
      g_cancellable_disconnect (f->cancellable, f->cancel_id);
      f->cancel_id = 0;
    }
  g_clear_object (&f->cancellable);
  g_mutex_lock (&f->lock);
  f->waiter = task;
  g_mutex_unlock (&f->lock);
  if (cancellable != NULL)
    {
      f->cancellable = g_object_ref (cancellable);
      /* runs at once (and takes the waiter) if already cancelled */
      f->cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (filler_cancelled), f, NULL);
    }
  if (f->source == NULL)
    {
      f->source = g_socket_create_source (f->socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
      g_source_set_callback (f->source, G_SOURCE_FUNC (filler_ready), f, NULL);
      /* GLib blocks a source that may not recurse while it is dispatched by taking its
       * descriptor out of the poll set and back (a wake-up write each way); filler_ready
       * never runs the loop, so it may "recurse" */
      g_source_set_can_recurse (f->source, TRUE);
      g_source_set_priority (f->source, f->priority);
      g_source_attach (f->source, g_main_context_get_thread_default ());
    }
}

gssize
sw_pop3_fill_finish (GBufferedInputStream *in, GAsyncResult *result, GError **error)
{
  if (g_async_result_is_tagged (result, sw_pop3_fill_async))
    return g_task_propagate_int (G_TASK (result), error);
  return g_buffered_input_stream_fill_finish (in, result, error);
}

gboolean
sw_pop3_try_read_line (GBufferedInputStream *in, gsize max, char **line_out, GError **error)
{
  *line_out = NULL;
  gsize avail = 0;
  const char *buf = g_buffered_input_stream_peek_buffer (in, &avail);
  const char *nl = avail > 0 ? memchr (buf, '\n', MIN (avail, max)) : NULL;
  if (nl == NULL)
    {
      if (avail < max)
        return FALSE;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE, "line longer than %" G_GSIZE_FORMAT " bytes",
                   max);
      return TRUE;
    }
  gsize n = (gsize)(nl - buf) + 1;
  char *line = g_strndup (buf, n);
  if (g_input_stream_skip (G_INPUT_STREAM (in), n, NULL, error) != (gssize)n)
    {
      g_free (line);
      if (error != NULL && *error == NULL)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "short skip");
      return TRUE;
    }
  *line_out = line;
  return TRUE;
}

static void
read_line_filled (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  gssize n = sw_pop3_fill_finish (G_BUFFERED_INPUT_STREAM (source), res, &error);
  if (n < 0)
    {
      g_task_return_error (task, error);
      return;
    }
  if (n == 0)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "connection closed");
      return;
    }
  read_line_step (g_steal_pointer (&task));
}

static void
read_line_step (GTask *task)
{
  GBufferedInputStream *in = g_task_get_source_object (task);
  ReadLineData *d = g_task_get_task_data (task);
  gsize avail = 0;
  const char *buf = g_buffered_input_stream_peek_buffer (in, &avail);
  const char *nl = avail > 0 ? memchr (buf, '\n', avail) : NULL;
  if (nl != NULL && (gsize)(nl - buf) + 1 <= d->max)
    {
      gsize n = (gsize)(nl - buf) + 1;
      char *line = g_strndup (buf, n);
      GError *error = NULL;
      if (g_input_stream_skip (G_INPUT_STREAM (in), n, NULL, &error) != (gssize)n)
        {
          g_free (line);
          g_task_return_error (task,
                               error ? error : g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED, "short skip"));
        }
      else
        g_task_return_pointer (task, line, g_free);
      g_object_unref (task);
      return;
    }
  if (nl != NULL || avail >= d->max)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                               "line longer than %" G_GSIZE_FORMAT " bytes", d->max);
      g_object_unref (task);
      return;
    }
  if (g_buffered_input_stream_get_buffer_size (in) < d->max)
    g_buffered_input_stream_set_buffer_size (in, d->max);
  sw_pop3_fill_async (in, g_task_get_cancellable (task), read_line_filled, task);
}

void
sw_pop3_read_line_async (GBufferedInputStream *in, gsize max, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (in, cancellable, callback, user_data);
  g_task_set_source_tag (task, sw_pop3_read_line_async);
  ReadLineData *d = g_new0 (ReadLineData, 1);
  d->max = max;
  g_task_set_task_data (task, d, g_free);
  read_line_step (task);
}

char *
sw_pop3_read_line_finish (GBufferedInputStream *in, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, in), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

gboolean
sw_pop3_line_has_keyword (const char *line, const char *keyword)
{
  gsize n = strlen (keyword);
  if (g_ascii_strncasecmp (line, keyword, n) != 0)
    return FALSE;
  char c = line[n];
  return c == '\0' || c == ' ' || c == '\r' || c == '\n';
}

char *
sw_pop3_line_for_log (const char *line, gboolean mask)
{
  gsize len = strcspn (line, "\r\n");
  if (mask)
    {
      gsize kw = strcspn (line, " \r\n");
      if (kw > 16)
        kw = 16;
      g_autofree char *head = sw_sanitize_for_log (line, (gssize)kw, 16);
      return g_strdup_printf ("%s%s", head, len > kw ? " ***" : "");
    }
  return sw_sanitize_for_log (line, (gssize)len, 200);
}

void
sw_pop3_socket_set_nodelay (GSocket *socket)
{
  g_autoptr (GError) error = NULL;
  if (g_socket_get_family (socket) != G_SOCKET_FAMILY_UNIX
      && !g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, &error))
    g_debug ("TCP_NODELAY: %s", error->message);
}
