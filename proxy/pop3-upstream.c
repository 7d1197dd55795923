#define G_LOG_DOMAIN "sw-proxy"
/* pop3-upstream.c: connecting to the real POP3 server.
 *
 * Implicit TLS (995) or STLS (RFC 2595), always with certificate and host name
 * verification through GTlsClientConnection; an STLS refusal is an error, never a
 * fallback to plain text; plain text only to a loopback upstream. Every error names its
 * cause (refused, certificate, host name, STLS) for the user. */
#include "pop3-private.h"
#include "sw-limits.h"
#include "sw-util.h"
#include <string.h>

typedef struct
{
  const SwPop3Settings *settings;
  GSocketConnection *socket;
  GIOStream *stream;
  GBufferedInputStream *in;
  char *greeting;
  GTlsCertificateFlags cert_errors;
} ConnectData;

static void
connect_data_free (ConnectData *d)
{
  g_clear_object (&d->socket);
  g_clear_object (&d->stream);
  g_clear_object (&d->in);
  g_free (d->greeting);
  g_free (d);
}

void
sw_pop3_upstream_free (SwPop3Upstream *up)
{
  if (up == NULL)
    return;
  g_clear_object (&up->in);
  g_clear_object (&up->stream);
  g_free (up->greeting);
  g_free (up);
}

gboolean
sw_pop3_host_is_loopback (const char *host)
{
  if (host == NULL)
    return FALSE;
  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (host);
  return addr != NULL && g_inet_address_get_is_loopback (addr);
}

static void
set_stream (ConnectData *d, GIOStream *stream)
{
  g_clear_object (&d->in);
  g_set_object (&d->stream, stream);
  d->in = G_BUFFERED_INPUT_STREAM (
      g_buffered_input_stream_new_sized (g_io_stream_get_input_stream (stream), SW_POP3_MAX_LINE));
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (d->in), FALSE);
}

static char *
describe_cert_errors (GTlsCertificateFlags flags)
{
  static const struct
  {
    GTlsCertificateFlags flag;
    const char *text;
  } names[] = {
    { G_TLS_CERTIFICATE_UNKNOWN_CA, "not signed by a trusted authority" },
    { G_TLS_CERTIFICATE_BAD_IDENTITY, "issued for another host name" },
    { G_TLS_CERTIFICATE_NOT_ACTIVATED, "not yet valid" },
    { G_TLS_CERTIFICATE_EXPIRED, "expired" },
    { G_TLS_CERTIFICATE_REVOKED, "revoked" },
    { G_TLS_CERTIFICATE_INSECURE, "using an insecure algorithm" },
    { G_TLS_CERTIFICATE_GENERIC_ERROR, "invalid" },
  };
  GString *s = g_string_new (NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (flags & names[i].flag)
      g_string_append_printf (s, "%s%s", s->len ? ", " : "", names[i].text);
  if (s->len == 0)
    g_string_append (s, "rejected");
  return g_string_free (s, FALSE);
}

static gboolean
on_accept_certificate (GTlsConnection *conn, GTlsCertificate *cert, GTlsCertificateFlags errors,
                       gpointer user_data)
{
  ConnectData *d = user_data;
  d->cert_errors |= errors;
  return FALSE; /* never accept a certificate that failed verification */
}

static void greeting_read (GObject *source, GAsyncResult *res, gpointer user_data);
static void stls_written (GObject *source, GAsyncResult *res, gpointer user_data);
static void stls_reply_read (GObject *source, GAsyncResult *res, gpointer user_data);

static void
return_upstream (GTask *task)
{
  ConnectData *d = g_task_get_task_data (task);
  SwPop3Upstream *up = g_new0 (SwPop3Upstream, 1);
  up->stream = g_steal_pointer (&d->stream);
  up->in = g_steal_pointer (&d->in);
  up->out = g_io_stream_get_output_stream (up->stream);
  up->greeting = g_steal_pointer (&d->greeting);
  g_task_return_pointer (task, up, (GDestroyNotify)sw_pop3_upstream_free);
}

static void
handshake_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  ConnectData *d = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  if (!g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), res, &error))
    {
      const char *host = d->settings->upstream_host;
      if (d->cert_errors != 0)
        {
          g_autofree char *why = describe_cert_errors (d->cert_errors);
          gboolean only_name = d->cert_errors == G_TLS_CERTIFICATE_BAD_IDENTITY;
          g_task_return_new_error (task, SW_POP3_PROXY_ERROR,
                                   only_name ? SW_POP3_PROXY_ERROR_HOST_NAME
                                             : SW_POP3_PROXY_ERROR_CERTIFICATE,
                                   only_name ? "host name mismatch: the certificate of %s is %s"
                                             : "certificate of %s not trusted: %s",
                                   host, why);
        }
      else
        g_task_return_new_error (task, SW_POP3_PROXY_ERROR, SW_POP3_PROXY_ERROR_CERTIFICATE,
                                 "TLS handshake with %s failed: %s", host, error->message);
      return;
    }
  if (d->settings->tls_mode == SW_TLS_STARTTLS)
    {
      /* the greeting was read before STLS; the session forwards it (APOP needs it) */
      return_upstream (task);
      return;
    }
  GCancellable *cancel = g_task_get_cancellable (task);
  sw_pop3_read_line_async (d->in, SW_POP3_MAX_LINE, cancel, greeting_read, g_steal_pointer (&task));
}

static void
start_tls (GTask *task)
{
  ConnectData *d = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketConnectable) identity
      = g_network_address_new (d->settings->upstream_host, d->settings->upstream_port);
  g_autoptr (GIOStream) tls = g_tls_client_connection_new (G_IO_STREAM (d->socket), identity, &error);
  if (tls == NULL)
    {
      g_task_return_new_error (task, SW_POP3_PROXY_ERROR, SW_POP3_PROXY_ERROR_CERTIFICATE,
                               "TLS is not available (is glib-networking installed?): %s", error->message);
      g_object_unref (task);
      return;
    }
  if (d->settings->tls_database != NULL)
    g_tls_connection_set_database (G_TLS_CONNECTION (tls), d->settings->tls_database);
  g_signal_connect (tls, "accept-certificate", G_CALLBACK (on_accept_certificate), d);
  set_stream (d, tls);
  g_tls_connection_handshake_async (G_TLS_CONNECTION (tls), G_PRIORITY_DEFAULT, g_task_get_cancellable (task),
                                    handshake_done, task);
}

static void
greeting_read (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  ConnectData *d = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  d->greeting = sw_pop3_read_line_finish (G_BUFFERED_INPUT_STREAM (source), res, &error);
  if (d->greeting == NULL)
    {
      g_task_return_new_error (task, SW_POP3_PROXY_ERROR, SW_POP3_PROXY_ERROR_PROTOCOL,
                               "no greeting from %s: %s", d->settings->upstream_host, error->message);
      return;
    }
  if (!g_str_has_prefix (d->greeting, "+OK"))
    {
      g_autofree char *safe = sw_pop3_line_for_log (d->greeting, FALSE);
      g_task_return_new_error (task, SW_POP3_PROXY_ERROR, SW_POP3_PROXY_ERROR_PROTOCOL,
                               "%s does not accept the connection: %s", d->settings->upstream_host, safe);
      return;
    }
  if (d->settings->tls_mode == SW_TLS_STARTTLS && !G_IS_TLS_CONNECTION (d->stream))
    {
      static const char stls[] = "STLS\r\n";
      GCancellable *cancel = g_task_get_cancellable (task);
      g_output_stream_write_all_async (g_io_stream_get_output_stream (d->stream), stls, sizeof stls - 1,
                                       G_PRIORITY_DEFAULT, cancel, stls_written, g_steal_pointer (&task));
      return;
    }
  return_upstream (task);
}

static void
stls_written (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  ConnectData *d = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), res, NULL, &error))
    {
      g_task_return_new_error (task, SW_POP3_PROXY_ERROR, SW_POP3_PROXY_ERROR_STLS, "STLS to %s failed: %s",
                               d->settings->upstream_host, error->message);
      return;
    }
  GCancellable *cancel = g_task_get_cancellable (task);
  sw_pop3_read_line_async (d->in, SW_POP3_MAX_LINE, cancel, stls_reply_read, g_steal_pointer (&task));
}

static void
stls_reply_read (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  ConnectData *d = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autofree char *line = sw_pop3_read_line_finish (G_BUFFERED_INPUT_STREAM (source), res, &error);
  if (line == NULL || !g_str_has_prefix (line, "+OK"))
    {
      g_autofree char *safe = line ? sw_pop3_line_for_log (line, FALSE) : NULL;
      g_task_return_new_error (task, SW_POP3_PROXY_ERROR, SW_POP3_PROXY_ERROR_STLS,
                               "%s refused STLS (no plain-text fallback): %s", d->settings->upstream_host,
                               line ? safe : error->message);
      return;
    }
  gsize avail = 0;
  g_buffered_input_stream_peek_buffer (d->in, &avail);
  if (avail != 0)
    {
      /* bytes after the STLS reply but before the handshake: injection (CVE-2011-0411 style) */
      g_task_return_new_error (task, SW_POP3_PROXY_ERROR, SW_POP3_PROXY_ERROR_STLS,
                               "%s sent data after its STLS reply: refused", d->settings->upstream_host);
      return;
    }
  start_tls (g_steal_pointer (&task));
}

static void
connected (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  ConnectData *d = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  d->socket = g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (source), res, &error);
  if (d->socket == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_new_error (task, SW_POP3_PROXY_ERROR, SW_POP3_PROXY_ERROR_REFUSED,
                                 "cannot connect to %s port %u: %s", d->settings->upstream_host,
                                 d->settings->upstream_port, error->message);
      return;
    }
  /* connect timeout done; a session may then idle as long as RFC 1939's autologout (10 min) */
  g_socket_set_timeout (g_socket_connection_get_socket (d->socket), 11 * 60);
  sw_pop3_socket_set_nodelay (g_socket_connection_get_socket (d->socket));
  switch (d->settings->tls_mode)
    {
    case SW_TLS_IMPLICIT:
      start_tls (g_steal_pointer (&task));
      return;
    case SW_TLS_STARTTLS:
      set_stream (d, G_IO_STREAM (d->socket));
      break;
    case SW_TLS_NONE:
      {
        g_autoptr (GSocketAddress) remote = g_socket_connection_get_remote_address (d->socket, NULL);
        if (!G_IS_INET_SOCKET_ADDRESS (remote)
            || !g_inet_address_get_is_loopback (
                g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote))))
          {
            g_task_return_new_error (task, SW_POP3_PROXY_ERROR, SW_POP3_PROXY_ERROR_CONFIG,
                                     "plain text is only allowed to a loopback upstream; %s is not one",
                                     d->settings->upstream_host);
            return;
          }
        set_stream (d, G_IO_STREAM (d->socket));
        break;
      }
    default:
      g_assert_not_reached ();
    }
  GCancellable *cancel = g_task_get_cancellable (task);
  sw_pop3_read_line_async (d->in, SW_POP3_MAX_LINE, cancel, greeting_read, g_steal_pointer (&task));
}

void
sw_pop3_upstream_connect_async (const SwPop3Settings *settings, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, sw_pop3_upstream_connect_async);
  ConnectData *d = g_new0 (ConnectData, 1);
  d->settings = settings;
  g_task_set_task_data (task, d, (GDestroyNotify)connect_data_free);
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_socket_client_set_timeout (client, 30);
  g_socket_client_connect_to_host_async (client, settings->upstream_host, settings->upstream_port,
                                         cancellable, connected, task);
}

SwPop3Upstream *
sw_pop3_upstream_connect_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
