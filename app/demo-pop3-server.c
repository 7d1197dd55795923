#define G_LOG_DOMAIN "sw-app"

#include "demo-pop3-server.h"

#include <string.h>

G_DEFINE_QUARK (sw - demo - pop3 - error - quark, sw_demo_pop3_error)

typedef struct
{
  GBytes *data; /* CRLF line ends, ends with CRLF */
  char *uidl;
} DemoMessage;

/* What the sessions share: immutable messages and the server's cancellable. Atomic
 * reference counted (g_atomic_rc_box). */
typedef struct
{
  GPtrArray *messages; /* DemoMessage* */
  GCancellable *cancel;
} Mailbox;

struct _SwDemoPop3Server
{
  Mailbox *box;
  GSocketService *service;
  gboolean started;
};

static void
demo_message_free (DemoMessage *m)
{
  g_bytes_unref (m->data);
  g_free (m->uidl);
  g_free (m);
}

static void
mailbox_clear (Mailbox *box)
{
  g_ptr_array_unref (box->messages);
  g_object_unref (box->cancel);
}

static Mailbox *
mailbox_ref (Mailbox *box)
{
  return g_atomic_rc_box_acquire (box);
}

static void
mailbox_unref (Mailbox *box)
{
  g_atomic_rc_box_release_full (box, (GDestroyNotify)mailbox_clear);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Mailbox, mailbox_unref)

/* Loading */

static GBytes *
normalise_crlf (const char *data, gsize len)
{
  GByteArray *out = g_byte_array_sized_new (len + len / 32 + 2);
  for (gsize i = 0; i < len; i++)
    {
      if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
        g_byte_array_append (out, (const guint8 *)"\r", 1);
      g_byte_array_append (out, (const guint8 *)&data[i], 1);
    }
  if (out->len < 2 || out->data[out->len - 2] != '\r' || out->data[out->len - 1] != '\n')
    g_byte_array_append (out, (const guint8 *)"\r\n", 2);
  return g_byte_array_free_to_bytes (out);
}

/* A UIDL is 1 to 70 characters 0x21..0x7E (RFC 1939 section 7). */
static char *
uidl_from_name (const char *name, guint index)
{
  g_autofree char *base = g_strndup (name, strlen (name) - strlen (".eml"));
  GString *uidl = g_string_new (NULL);
  for (const char *p = base; *p && uidl->len < 70; p++)
    if (*p > 0x20 && *p < 0x7f)
      g_string_append_c (uidl, *p);
  if (uidl->len == 0)
    g_string_printf (uidl, "msg%u", index + 1);
  return g_string_free (uidl, FALSE);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

SwDemoPop3Server *
sw_demo_pop3_server_new (const char *maildir, GError **error)
{
  g_return_val_if_fail (maildir != NULL, NULL);
  g_autoptr (GError) local = NULL;
  g_autoptr (GDir) dir = g_dir_open (maildir, 0, &local);
  if (dir == NULL)
    {
      g_set_error (error, SW_DEMO_POP3_ERROR, SW_DEMO_POP3_ERROR_MAILDIR, "%s", local->message);
      return NULL;
    }
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (maildir, name, NULL);
      if (g_str_has_suffix (name, ".eml") && strlen (name) > 4 && g_file_test (path, G_FILE_TEST_IS_REGULAR))
        g_ptr_array_add (names, g_strdup (name));
      if (names->len > SW_DEMO_POP3_MAX_MESSAGES)
        {
          g_set_error (error, SW_DEMO_POP3_ERROR, SW_DEMO_POP3_ERROR_MAILDIR, "%s: more than %u messages",
                       maildir, SW_DEMO_POP3_MAX_MESSAGES);
          return NULL;
        }
    }
  if (names->len == 0)
    {
      g_set_error (error, SW_DEMO_POP3_ERROR, SW_DEMO_POP3_ERROR_MAILDIR, "%s: no .eml file", maildir);
      return NULL;
    }
  g_ptr_array_sort (names, compare_names);

  Mailbox *box = g_atomic_rc_box_new0 (Mailbox);
  box->messages = g_ptr_array_new_with_free_func ((GDestroyNotify)demo_message_free);
  box->cancel = g_cancellable_new ();
  g_autoptr (Mailbox) box_owner = box;
  for (guint i = 0; i < names->len; i++)
    {
      const char *n = g_ptr_array_index (names, i);
      g_autofree char *path = g_build_filename (maildir, n, NULL);
      g_autofree char *data = NULL;
      gsize len = 0;
      if (!g_file_get_contents (path, &data, &len, &local))
        {
          g_set_error (error, SW_DEMO_POP3_ERROR, SW_DEMO_POP3_ERROR_MAILDIR, "%s", local->message);
          return NULL;
        }
      if (len > SW_DEMO_POP3_MAX_MESSAGE)
        {
          g_set_error (error, SW_DEMO_POP3_ERROR, SW_DEMO_POP3_ERROR_MAILDIR, "%s: over %u octets", path,
                       SW_DEMO_POP3_MAX_MESSAGE);
          return NULL;
        }
      DemoMessage *m = g_new0 (DemoMessage, 1);
      m->data = normalise_crlf (data, len);
      m->uidl = uidl_from_name (n, i);
      g_ptr_array_add (box->messages, m);
    }

  SwDemoPop3Server *server = g_new0 (SwDemoPop3Server, 1);
  server->box = g_steal_pointer (&box_owner);
  return server;
}

guint
sw_demo_pop3_server_get_n_messages (SwDemoPop3Server *server)
{
  g_return_val_if_fail (server != NULL, 0);
  return server->box->messages->len;
}

/* Sessions: one thread each, blocking I/O, an explicit state machine. */

typedef enum
{
  DEMO_STATE_AUTHORIZATION = 0,
  DEMO_STATE_TRANSACTION,
  DEMO_STATE_UPDATE,
  DEMO_STATE_COUNT
} DemoState;

static const char *const demo_state_names[] = { "authorization", "transaction", "update" };
G_STATIC_ASSERT (G_N_ELEMENTS (demo_state_names) == DEMO_STATE_COUNT);

typedef struct
{
  Mailbox *box;
  GBufferedInputStream *in;
  GOutputStream *out;
  DemoState state;
  gboolean have_user;
  gboolean *deleted; /* per message, for this session only */
  guint n_bad;
  gboolean close;
} Session;

typedef enum
{
  READ_LINE_OK,
  READ_LINE_EOF,
  READ_LINE_TOO_LONG,
  READ_LINE_ERROR,
} ReadLineStatus;

static ReadLineStatus
read_line (Session *s, char *buf, gsize size)
{
  gsize n = 0;
  for (;;)
    {
      g_autoptr (GError) error = NULL;
      int c = g_buffered_input_stream_read_byte (s->in, s->box->cancel, &error);
      if (c < 0)
        {
          if (error != NULL)
            g_debug ("demo session: read: %s", error->message);
          return error == NULL && n == 0 ? READ_LINE_EOF : READ_LINE_ERROR;
        }
      if (c == '\n')
        break;
      if (n + 1 >= size)
        return READ_LINE_TOO_LONG;
      /* A NUL would cut the command short: make it an unknown command instead. */
      buf[n++] = c == '\0' ? '\x7f' : (char)c;
    }
  if (n > 0 && buf[n - 1] == '\r')
    n--;
  buf[n] = '\0';
  return READ_LINE_OK;
}

static gboolean
send_text (Session *s, const char *text, gsize len)
{
  g_autoptr (GError) error = NULL;
  if (!g_output_stream_write_all (s->out, text, len, NULL, s->box->cancel, &error))
    {
      g_debug ("demo session: write: %s", error->message);
      s->close = TRUE;
      return FALSE;
    }
  return TRUE;
}

static void G_GNUC_PRINTF (2, 3) reply (Session *s, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *text = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_autofree char *line = g_strconcat (text, "\r\n", NULL);
  send_text (s, line, strlen (line));
}

static void
reply_err (Session *s, const char *text)
{
  s->n_bad++;
  reply (s, "-ERR %s", text);
  if (s->n_bad >= SW_DEMO_POP3_MAX_BAD_COMMANDS)
    {
      reply (s, "-ERR too many errors, goodbye");
      s->close = TRUE;
    }
}

/* Appends @len bytes of CRLF text, a '.' put before every line that starts with '.'. */
static void
append_stuffed (GString *out, const char *data, gsize len)
{
  gboolean line_start = TRUE;
  for (gsize i = 0; i < len; i++)
    {
      if (line_start && data[i] == '.')
        g_string_append_c (out, '.');
      g_string_append_c (out, data[i]);
      line_start = data[i] == '\n';
    }
}

static DemoMessage *
get_message (Session *s, const char *arg, guint *index_out)
{
  guint64 n;
  if (arg == NULL || !g_ascii_string_to_unsigned (arg, 10, 1, s->box->messages->len, &n, NULL))
    return NULL;
  if (s->deleted[n - 1])
    return NULL;
  if (index_out)
    *index_out = (guint)n - 1;
  return g_ptr_array_index (s->box->messages, n - 1);
}

static void
maildrop_size (Session *s, guint *count, gsize *octets)
{
  *count = 0;
  *octets = 0;
  for (guint i = 0; i < s->box->messages->len; i++)
    if (!s->deleted[i])
      {
        DemoMessage *m = g_ptr_array_index (s->box->messages, i);
        (*count)++;
        *octets += g_bytes_get_size (m->data);
      }
}

static void
cmd_capa (Session *s)
{
  static const char capa[] = "+OK Capability list follows\r\n"
                             "USER\r\n"
                             "TOP\r\n"
                             "UIDL\r\n"
                             "PIPELINING\r\n"
                             "IMPLEMENTATION Spoofwatch-demo\r\n"
                             ".\r\n";
  send_text (s, capa, sizeof capa - 1);
}

/* LIST and UIDL: one message or all, as @what says. */
static void
cmd_list (Session *s, const char *arg, gboolean uidl)
{
  if (arg != NULL)
    {
      guint i;
      DemoMessage *m = get_message (s, arg, &i);
      if (m == NULL)
        {
          reply_err (s, "no such message");
          return;
        }
      if (uidl)
        reply (s, "+OK %u %s", i + 1, m->uidl);
      else
        reply (s, "+OK %u %" G_GSIZE_FORMAT, i + 1, g_bytes_get_size (m->data));
      return;
    }
  guint count;
  gsize octets;
  maildrop_size (s, &count, &octets);
  g_autoptr (GString) out = g_string_new (NULL);
  if (uidl)
    g_string_append (out, "+OK unique-id listing follows\r\n");
  else
    g_string_append_printf (out, "+OK %u messages (%" G_GSIZE_FORMAT " octets)\r\n", count, octets);
  for (guint i = 0; i < s->box->messages->len; i++)
    {
      if (s->deleted[i])
        continue;
      DemoMessage *m = g_ptr_array_index (s->box->messages, i);
      if (uidl)
        g_string_append_printf (out, "%u %s\r\n", i + 1, m->uidl);
      else
        g_string_append_printf (out, "%u %" G_GSIZE_FORMAT "\r\n", i + 1, g_bytes_get_size (m->data));
    }
  g_string_append (out, ".\r\n");
  send_text (s, out->str, out->len);
}

/* RETR (@top_lines < 0) and TOP (the header and @top_lines lines of the body). */
static void
cmd_retr (Session *s, const char *arg, gint64 top_lines)
{
  DemoMessage *m = get_message (s, arg, NULL);
  if (m == NULL)
    {
      reply_err (s, "no such message");
      return;
    }
  gsize len;
  const char *data = g_bytes_get_data (m->data, &len);
  gsize send_len = len;
  if (top_lines >= 0)
    {
      const char *end = g_strstr_len (data, len, "\r\n\r\n");
      gsize pos = end ? (gsize)(end - data) + 4 : len;
      for (gint64 n = 0; n < top_lines && pos < len; n++)
        {
          const char *nl = memchr (data + pos, '\n', len - pos);
          pos = nl ? (gsize)(nl - data) + 1 : len;
        }
      send_len = pos;
    }
  g_autoptr (GString) out = g_string_sized_new (send_len + send_len / 64 + 64);
  if (top_lines >= 0)
    g_string_append (out, "+OK top of message follows\r\n");
  else
    g_string_append_printf (out, "+OK %" G_GSIZE_FORMAT " octets\r\n", len);
  append_stuffed (out, data, send_len);
  g_string_append (out, ".\r\n");
  send_text (s, out->str, out->len);
}

static void
handle_command (Session *s, char *line)
{
  if (line[0] == '\0')
    {
      reply_err (s, "empty command");
      return;
    }
  g_auto (GStrv) argv = g_strsplit (line, " ", 4);
  guint argc = g_strv_length (argv);
  const char *cmd = argv[0];
  const char *arg1 = argc > 1 && *argv[1] ? argv[1] : NULL;
  const char *arg2 = argc > 2 && *argv[2] ? argv[2] : NULL;

  if (g_ascii_strcasecmp (cmd, "CAPA") == 0)
    {
      cmd_capa (s);
      return;
    }
  if (g_ascii_strcasecmp (cmd, "QUIT") == 0)
    {
      if (s->state == DEMO_STATE_TRANSACTION)
        {
          /* UPDATE state: DELE marks are dropped, the demo mailbox keeps its samples. */
          s->state = DEMO_STATE_UPDATE;
          reply (s, "+OK Spoofwatch demo server signing off (the demo mailbox keeps every sample)");
        }
      else
        reply (s, "+OK Spoofwatch demo server signing off");
      s->close = TRUE;
      return;
    }

  switch (s->state)
    {
    case DEMO_STATE_AUTHORIZATION:
      if (g_ascii_strcasecmp (cmd, "USER") == 0)
        {
          /* Any user name: the demo mailbox is the same for everyone (e.g. demo/demo). */
          if (arg1 == NULL)
            {
              reply_err (s, "USER needs a name (any name, e.g. demo)");
              return;
            }
          s->have_user = TRUE;
          reply (s, "+OK any password opens the demo mailbox");
        }
      else if (g_ascii_strcasecmp (cmd, "PASS") == 0)
        {
          if (!s->have_user)
            {
              reply_err (s, "USER first");
              return;
            }
          guint count;
          gsize octets;
          maildrop_size (s, &count, &octets);
          s->state = DEMO_STATE_TRANSACTION;
          reply (s, "+OK demo maildrop has %u messages (%" G_GSIZE_FORMAT " octets)", count, octets);
        }
      else
        reply_err (s, "log in with USER and PASS first (any credentials, e.g. demo/demo)");
      return;

    case DEMO_STATE_TRANSACTION:
      if (g_ascii_strcasecmp (cmd, "STAT") == 0)
        {
          guint count;
          gsize octets;
          maildrop_size (s, &count, &octets);
          reply (s, "+OK %u %" G_GSIZE_FORMAT, count, octets);
        }
      else if (g_ascii_strcasecmp (cmd, "LIST") == 0)
        cmd_list (s, arg1, FALSE);
      else if (g_ascii_strcasecmp (cmd, "UIDL") == 0)
        cmd_list (s, arg1, TRUE);
      else if (g_ascii_strcasecmp (cmd, "RETR") == 0)
        cmd_retr (s, arg1, -1);
      else if (g_ascii_strcasecmp (cmd, "TOP") == 0)
        {
          guint64 n;
          if (arg2 == NULL || !g_ascii_string_to_unsigned (arg2, 10, 0, G_MAXINT32, &n, NULL))
            reply_err (s, "TOP needs a message number and a line count");
          else
            cmd_retr (s, arg1, (gint64)n);
        }
      else if (g_ascii_strcasecmp (cmd, "DELE") == 0)
        {
          guint i;
          if (get_message (s, arg1, &i) == NULL)
            reply_err (s, "no such message");
          else
            {
              s->deleted[i] = TRUE;
              reply (s, "+OK message %u marked (the demo keeps it after QUIT)", i + 1);
            }
        }
      else if (g_ascii_strcasecmp (cmd, "RSET") == 0)
        {
          memset (s->deleted, 0, sizeof (gboolean) * s->box->messages->len);
          reply (s, "+OK");
        }
      else if (g_ascii_strcasecmp (cmd, "NOOP") == 0)
        reply (s, "+OK");
      else
        reply_err (s, "unknown command");
      return;

    case DEMO_STATE_UPDATE:
    case DEMO_STATE_COUNT:
      break;
    }
  g_assert_not_reached ();
}

static gboolean
on_run (GThreadedSocketService *service, GSocketConnection *connection, GObject *source, gpointer user_data)
{
  g_autoptr (Mailbox) box = mailbox_ref (user_data);
  g_socket_set_timeout (g_socket_connection_get_socket (connection), SW_DEMO_POP3_IDLE_TIMEOUT_S);
  g_autoptr (GInputStream) in
      = g_buffered_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  g_autofree gboolean *deleted = g_new0 (gboolean, box->messages->len);
  Session s = {
    .box = box,
    .in = G_BUFFERED_INPUT_STREAM (in),
    .out = g_io_stream_get_output_stream (G_IO_STREAM (connection)),
    .state = DEMO_STATE_AUTHORIZATION,
    .deleted = deleted,
  };
  reply (&s, "+OK Spoofwatch demo POP3 server ready (any user name and password)");
  char line[SW_DEMO_POP3_MAX_LINE + 1];
  while (!s.close)
    {
      ReadLineStatus st = read_line (&s, line, sizeof line);
      if (st == READ_LINE_TOO_LONG)
        {
          reply (&s, "-ERR line too long");
          /* Read the rest of the line (bounded) so that closing with unread input does
           * not reset the connection before the client reads the answer. */
          for (guint i = 0; i < 64 * 1024; i++)
            {
              int c = g_buffered_input_stream_read_byte (s.in, box->cancel, NULL);
              if (c < 0 || c == '\n')
                break;
            }
          break;
        }
      if (st != READ_LINE_OK)
        break;
      DemoState before = s.state;
      handle_command (&s, line);
      if (s.state != before)
        g_debug ("demo session: %s -> %s", demo_state_names[before], demo_state_names[s.state]);
    }
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  return TRUE;
}

gboolean
sw_demo_pop3_server_start (SwDemoPop3Server *server, guint16 port, guint16 *bound_port_out, GError **error)
{
  g_return_val_if_fail (server != NULL && !server->started, FALSE);
  server->service = g_threaded_socket_service_new (SW_DEMO_POP3_MAX_SESSIONS);
  g_signal_connect_data (server->service, "run", G_CALLBACK (on_run), mailbox_ref (server->box),
                         (GClosureNotify)(void (*) (void))mailbox_unref, 0);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (lo, port);
  g_autoptr (GSocketAddress) effective = NULL;
  g_autoptr (GError) local = NULL;
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (server->service), addr, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL, &effective, &local))
    {
      g_set_error (error, SW_DEMO_POP3_ERROR, SW_DEMO_POP3_ERROR_LISTEN, "cannot listen on 127.0.0.1:%u: %s",
                   port, local->message);
      g_clear_object (&server->service);
      return FALSE;
    }
  server->started = TRUE;
  g_socket_service_start (server->service);
  if (bound_port_out)
    *bound_port_out = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  return TRUE;
}

void
sw_demo_pop3_server_stop (SwDemoPop3Server *server)
{
  g_return_if_fail (server != NULL);
  g_cancellable_cancel (server->box->cancel);
  if (server->service != NULL)
    {
      g_socket_service_stop (server->service);
      g_socket_listener_close (G_SOCKET_LISTENER (server->service));
    }
}

void
sw_demo_pop3_server_free (SwDemoPop3Server *server)
{
  if (server == NULL)
    return;
  sw_demo_pop3_server_stop (server);
  g_clear_object (&server->service);
  mailbox_unref (server->box);
  g_free (server);
}
