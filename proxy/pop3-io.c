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
  gssize n = g_buffered_input_stream_fill_finish (G_BUFFERED_INPUT_STREAM (source), res, &error);
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
  g_buffered_input_stream_fill_async (in, -1, G_PRIORITY_DEFAULT, g_task_get_cancellable (task),
                                      read_line_filled, task);
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
