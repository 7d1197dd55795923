#define G_LOG_DOMAIN "sw-test-proxy"
/* Transcript tests of the POP3 proxy (proxy/).
 *
 * Each tests/data/proxy/NAME.txt is played by a scripted fake upstream on loopback (its
 * own thread, blocking sockets) and by a scripted client (the test's thread), with the
 * proxy in between (plain text to the loopback upstream). Lines:
 *   S: text    the upstream sends text CRLF; the client must receive exactly the same
 *   S> text    the upstream sends it; the client must not see it (filtered or replaced)
 *   R: text    the client must receive exactly text CRLF (what replaced an S> line)
 *   R^ text    the client must receive a line starting with text
 *   C: text    the client sends text CRLF; the upstream must receive exactly that
 *   C> text    the client sends it; the upstream must not see it (answered by the proxy)
 *   H: verdict the client must receive our header block: Authentication-Results with our
 *              authserv-id (folded lines allowed), then X-Spoofwatch-Verdict: verdict
 *   G: n       the upstream sends a generated n-byte body (every 10th line starting with
 *              '.', stuffed); the client must receive the same stuffed lines (G> n: the
 *              client sees nothing of it)
 *   L: n       the client sends a command line of n bytes
 *   N: n text  the client sends text CRLF n times at once; the upstream must receive them
 *   CLOSE      the upstream closes the connection
 *   QUIET ms   nothing may reach the upstream for ms milliseconds
 *   W: text    both the upstream and the client go on only once the proxy has logged
 *              text (at most IO_TIMEOUT_S seconds): a step of the proxy that must come
 *              without anything more from the server, or before the client's next line
 *   EOF        the client must see the connection closed
 *   @secret x        x must not appear in the proxy's logs (which must log something)
 *   @expect-log x    x must appear in the proxy's logs
 *   @memory-limit n  the proxy's memory_limit
 *   @max-message n   the proxy's message cap (sw_pop3_proxy_set_max_message)
 *   @starttls        the proxy uses STLS to the upstream (instead of plain text)
 *   U: text    the upstream must receive text CRLF, which the client did not send
 *   @dns-down        DNS through libunbound to a loopback UDP socket that never answers
 *                    (instead of the samples' zone)
 *   @expect-prefetch n  the DNS prefetch (header block in, body still coming) ran n times
 *   @read-ahead n    the proxy's read-ahead (0: off; default: off, so that the other
 *                    transcripts see only the client's commands upstream)
 *   @header-ahead n  DNS warming with TOP n 0 beyond the read-ahead window once a
 *                    verification was slow, and of the whole mailbox once the message
 *                    count is known (default 0 here: it depends on timing)
 * A failing line is reported with the transcript's name and line number. */
#include "pop3-private.h"
#include "sw-dkim-bodyhash.h"
#include "sw-resolver.h"
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define AUTHSERV_ID "spoofwatch.test"
#define IO_TIMEOUT_S 20

typedef struct
{
  char op[8];
  char *arg;
  guint lineno;
} Op;

static void
op_clear (Op *op)
{
  g_free (op->arg);
}

typedef struct
{
  char *name;
  GArray *ops; /* Op */
  GPtrArray *secrets;
  GPtrArray *expect_logs;
  gsize memory_limit;
  gsize max_message;
  gboolean dns_down;
  gboolean starttls;
  gint expect_prefetch; /* -1: not checked */
  int read_ahead;       /* SwPop3ProxyConfig.read_ahead */
  guint header_ahead;   /* sw_pop3_proxy_set_header_ahead */
} Transcript;

static void
transcript_free (Transcript *t)
{
  g_free (t->name);
  g_array_unref (t->ops);
  g_ptr_array_unref (t->secrets);
  g_ptr_array_unref (t->expect_logs);
  g_free (t);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Transcript, transcript_free)

static Transcript *
transcript_load (const char *name)
{
  g_autofree char *file = g_strdup_printf ("%s.txt", name);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "proxy", file, NULL);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  if (!g_file_get_contents (path, &text, NULL, &error))
    g_error ("%s: %s", name, error->message);
  Transcript *t = g_new0 (Transcript, 1);
  t->name = g_strdup (name);
  t->ops = g_array_new (FALSE, TRUE, sizeof (Op));
  g_array_set_clear_func (t->ops, (GDestroyNotify)op_clear);
  t->secrets = g_ptr_array_new_with_free_func (g_free);
  t->expect_logs = g_ptr_array_new_with_free_func (g_free);
  t->expect_prefetch = -1;
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *l = lines[i];
      if (*l == '\0' || *l == '#')
        continue;
      if (g_str_has_prefix (l, "@secret "))
        g_ptr_array_add (t->secrets, g_strdup (l + 8));
      else if (g_str_has_prefix (l, "@expect-log "))
        g_ptr_array_add (t->expect_logs, g_strdup (l + 12));
      else if (g_str_has_prefix (l, "@memory-limit "))
        t->memory_limit = g_ascii_strtoull (l + 14, NULL, 10);
      else if (strcmp (l, "@starttls") == 0)
        t->starttls = TRUE;
      else if (strcmp (l, "@dns-down") == 0)
        t->dns_down = TRUE;
      else if (g_str_has_prefix (l, "@expect-prefetch "))
        t->expect_prefetch = (gint)g_ascii_strtoull (l + 17, NULL, 10);
      else if (g_str_has_prefix (l, "@read-ahead "))
        {
          guint64 n = g_ascii_strtoull (l + 12, NULL, 10);
          t->read_ahead = (int)n;
        }
      else if (g_str_has_prefix (l, "@header-ahead "))
        t->header_ahead = (guint)g_ascii_strtoull (l + 14, NULL, 10);
      else if (g_str_has_prefix (l, "@max-message "))
        t->max_message = g_ascii_strtoull (l + 13, NULL, 10);
      else
        {
          Op op = { .lineno = i + 1 };
          gsize n = strcspn (l, " ");
          if (n >= sizeof op.op)
            g_error ("%s line %u: bad op", name, i + 1);
          memcpy (op.op, l, n);
          op.arg = g_strdup (l[n] == ' ' ? l + n + 1 : "");
          g_array_append_val (t->ops, op);
        }
    }
  return t;
}

/* ---- captured logs ---- */

static GMutex log_lock;
static GString *log_text;

static GLogWriterOutput
capture_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  g_mutex_lock (&log_lock);
  for (gsize i = 0; i < n_fields; i++)
    if (strcmp (fields[i].key, "MESSAGE") == 0)
      {
        g_string_append_len (log_text, fields[i].value,
                             fields[i].length < 0 ? (gssize)strlen (fields[i].value) : fields[i].length);
        g_string_append_c (log_text, '\n');
      }
  g_mutex_unlock (&log_lock);
  if (g_getenv ("SW_TEST_VERBOSE") != NULL)
    return g_log_writer_standard_streams (level, fields, n_fields, user_data);
  return G_LOG_WRITER_HANDLED;
}

/* ---- line I/O (blocking, with timeouts) ---- */

/* One line including its CRLF, or NULL at end of stream / error. */
static char *
read_line (GBufferedInputStream *in, gsize max)
{
  for (;;)
    {
      gsize avail = 0;
      const char *buf = g_buffered_input_stream_peek_buffer (in, &avail);
      const char *nl = memchr (buf, '\n', avail);
      if (nl != NULL)
        {
          gsize n = (gsize)(nl - buf) + 1;
          char *line = g_strndup (buf, n);
          g_assert_cmpint (g_input_stream_skip (G_INPUT_STREAM (in), n, NULL, NULL), ==, (gssize)n);
          return line;
        }
      if (avail >= max)
        return NULL;
      if (g_buffered_input_stream_get_buffer_size (in) < max)
        g_buffered_input_stream_set_buffer_size (in, max);
      if (g_buffered_input_stream_fill (in, -1, NULL, NULL) <= 0)
        return NULL;
    }
}

static gboolean
write_text (GOutputStream *out, const char *text, gsize len)
{
  return g_output_stream_write_all (out, text, len, NULL, NULL, NULL);
}

/* The generated body of G: n, stuffed, as one string. */
static char *
generate_body (gsize size)
{
  GString *raw = g_string_new (NULL);
  for (guint i = 0; raw->len < size; i++)
    {
      g_string_append_printf (raw,
                              "%sline %07u of the generated body, long enough to matter xxxxxxxxxxxxxxxx\r\n",
                              i % 10 == 0 ? "." : "", i);
    }
  g_string_truncate (raw, size - 2);
  g_string_append (raw, "\r\n");
  /* stuff */
  GString *out = g_string_new (NULL);
  gboolean bol = TRUE;
  for (gsize i = 0; i < raw->len; i++)
    {
      if (bol && raw->str[i] == '.')
        g_string_append_c (out, '.');
      g_string_append_c (out, raw->str[i]);
      bol = raw->str[i] == '\n';
    }
  g_string_free (raw, TRUE);
  return g_string_free (out, FALSE);
}

/* ---- the fake upstream ---- */

typedef struct
{
  Transcript *t;
  GSocketListener *listener;
  GString *errors;
} Server;

static gpointer
server_thread (gpointer data)
{
  Server *srv = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketConnection) conn = g_socket_listener_accept (srv->listener, NULL, NULL, &error);
  if (conn == NULL)
    {
      g_string_append_printf (srv->errors, "upstream: accept: %s\n", error->message);
      return NULL;
    }
  g_socket_set_timeout (g_socket_connection_get_socket (conn), IO_TIMEOUT_S);
  g_autoptr (GInputStream) in
      = g_buffered_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (conn)));
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  for (guint i = 0; i < srv->t->ops->len; i++)
    {
      Op *op = &g_array_index (srv->t->ops, Op, i);
      if (strcmp (op->op, "S:") == 0 || strcmp (op->op, "S>") == 0)
        {
          g_autofree char *line = g_strdup_printf ("%s\r\n", op->arg);
          if (!write_text (out, line, strlen (line)))
            {
              g_string_append_printf (srv->errors, "upstream line %u: write failed\n", op->lineno);
              return NULL;
            }
        }
      else if (strcmp (op->op, "G:") == 0 || strcmp (op->op, "G>") == 0)
        {
          g_autofree char *body = generate_body (g_ascii_strtoull (op->arg, NULL, 10));
          if (!write_text (out, body, strlen (body)))
            {
              g_string_append_printf (srv->errors, "upstream line %u: write failed\n", op->lineno);
              return NULL;
            }
        }
      else if (strcmp (op->op, "C:") == 0 || strcmp (op->op, "U:") == 0)
        {
          g_autofree char *want = g_strdup_printf ("%s\r\n", op->arg);
          g_autofree char *got = read_line (G_BUFFERED_INPUT_STREAM (in), 64 * 1024);
          if (got == NULL || strcmp (got, want) != 0)
            {
              g_string_append_printf (srv->errors, "upstream line %u: expected \"%s\", got \"%s\"\n",
                                      op->lineno, op->arg, got ? g_strescape (got, NULL) : "(end of stream)");
              return NULL;
            }
        }
      else if (strcmp (op->op, "N:") == 0)
        {
          char *text = NULL;
          guint64 n = g_ascii_strtoull (op->arg, &text, 10);
          g_autofree char *want = g_strdup_printf ("%s\r\n", text + 1);
          for (guint64 k = 0; k < n; k++)
            {
              g_autofree char *got = read_line (G_BUFFERED_INPUT_STREAM (in), 64 * 1024);
              if (got == NULL || strcmp (got, want) != 0)
                {
                  g_string_append_printf (
                      srv->errors, "upstream line %u: copy %" G_GUINT64_FORMAT " differs\n", op->lineno, k);
                  return NULL;
                }
            }
        }
      else if (strcmp (op->op, "CLOSE") == 0)
        {
          g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
          return NULL;
        }
      else if (strcmp (op->op, "W:") == 0)
        {
          gboolean seen = FALSE;
          for (gint64 end = g_get_monotonic_time () + IO_TIMEOUT_S * G_USEC_PER_SEC;
               !seen && g_get_monotonic_time () < end; g_usleep (2000))
            {
              g_mutex_lock (&log_lock);
              seen = strstr (log_text->str, op->arg) != NULL;
              g_mutex_unlock (&log_lock);
            }
          if (!seen)
            {
              g_string_append_printf (srv->errors, "upstream line %u: the proxy did not log \"%s\"\n", op->lineno,
                                      op->arg);
              return NULL;
            }
        }
      else if (strcmp (op->op, "QUIET") == 0)
        {
          gsize avail = 0;
          g_buffered_input_stream_peek_buffer (G_BUFFERED_INPUT_STREAM (in), &avail);
          GSocket *sock = g_socket_connection_get_socket (conn);
          gint64 ms = (gint64)g_ascii_strtoull (op->arg, NULL, 10);
          if (avail > 0 || g_socket_condition_timed_wait (sock, G_IO_IN, ms * 1000, NULL, NULL))
            {
              g_string_append_printf (srv->errors, "upstream line %u: data arrived within %s ms\n", op->lineno,
                                      op->arg);
              return NULL;
            }
        }
    }
  /* nothing more may arrive; the proxy closes after QUIT or when the client goes */
  g_autofree char *extra = read_line (G_BUFFERED_INPUT_STREAM (in), 64 * 1024);
  if (extra != NULL)
    g_string_append_printf (srv->errors, "upstream: unexpected line after the transcript: \"%s\"\n", extra);
  return NULL;
}

/* ---- the client ---- */

/* TRUE once the proxy has logged @text (within IO_TIMEOUT_S). */
static gboolean
wait_for_log (const char *text)
{
  for (gint64 end = g_get_monotonic_time () + IO_TIMEOUT_S * G_USEC_PER_SEC; g_get_monotonic_time () < end;
       g_usleep (2000))
    {
      g_mutex_lock (&log_lock);
      gboolean seen = strstr (log_text->str, text) != NULL;
      g_mutex_unlock (&log_lock);
      if (seen)
        return TRUE;
    }
  return FALSE;
}

static void
check_header_block (Transcript *t, Op *op, GBufferedInputStream *in)
{
  g_autofree char *first = read_line (in, 64 * 1024);
  if (first == NULL || !g_str_has_prefix (first, "Authentication-Results: " AUTHSERV_ID ";"))
    g_error ("%s line %u: expected our Authentication-Results, got \"%s\"", t->name, op->lineno,
             first ? first : "(end)");
  g_autofree char *want = g_strdup_printf ("X-Spoofwatch-Verdict: %s\r\n", op->arg);
  for (guint n = 0; n < 50; n++)
    {
      g_autofree char *line = read_line (in, 64 * 1024);
      if (line == NULL)
        g_error ("%s line %u: end of stream in our header block", t->name, op->lineno);
      if (g_str_has_prefix (line, "X-Spoofwatch-Verdict:"))
        {
          if (strcmp (line, want) != 0)
            g_error ("%s line %u: expected \"%s\", got \"%s\"", t->name, op->lineno, g_strchomp (want), line);
          return;
        }
      if (line[0] != ' ' && line[0] != '\t')
        g_error ("%s line %u: unexpected line in our header block: \"%s\"", t->name, op->lineno, line);
    }
  g_error ("%s line %u: header block too long", t->name, op->lineno);
}

static int
count_spool_fds (void)
{
  int n = 0;
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  const char *e;
  while (dir != NULL && (e = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *p = g_build_filename ("/proc/self/fd", e, NULL);
      g_autofree char *target = g_file_read_link (p, NULL);
      if (target != NULL && strstr (target, "spoofwatch-spool-") != NULL)
        n++;
    }
  return n;
}

/* @dns_socket_out: with @dns_down, the silent DNS "server" (keep it open while the
 * verifier is used). */
static SwVerifier *
make_verifier (gboolean dns_down, GSocket **dns_socket_out)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SwResolver) resolver = NULL;
  if (dns_down)
    {
      GSocket *sock
          = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
      g_assert_no_error (error);
      g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
      g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (lo, 0);
      g_assert_true (g_socket_bind (sock, addr, FALSE, &error));
      g_autoptr (GSocketAddress) local = g_socket_get_local_address (sock, &error);
      g_assert_no_error (error);
      g_autofree char *forward
          = g_strdup_printf ("127.0.0.1:%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)));
      SwResolverOptions ro = { .forward = forward, .timeout_ms = 300 };
      resolver = sw_resolver_new_unbound (&ro, &error);
      g_assert_no_error (error);
      *dns_socket_out = sock;
    }
  else
    {
      g_autofree char *zone
          = g_test_build_filename (G_TEST_DIST, "data", "proxy", "samples", "samples.zone", NULL);
      resolver = sw_resolver_new_zone_file (zone, &error);
      g_assert_no_error (error);
    }
  SwVerifierConfig vc = { .resolver = resolver, .authserv_id = AUTHSERV_ID };
  SwVerifier *v = sw_verifier_new (&vc, &error);
  g_assert_no_error (error);
  return v;
}

static void
test_transcript (gconstpointer data)
{
  const char *name = data;
  g_autoptr (Transcript) t = transcript_load (name);
  g_autoptr (GError) error = NULL;

  g_mutex_lock (&log_lock);
  g_string_truncate (log_text, 0);
  g_mutex_unlock (&log_lock);
  guint prefetches_before = sw_pop3_prefetch_get_count ();

  /* fake upstream */
  Server srv = { .t = t, .listener = g_socket_listener_new (), .errors = g_string_new (NULL) };
  guint16 up_port = g_socket_listener_add_any_inet_port (srv.listener, NULL, &error);
  g_assert_no_error (error);
  /* add_any_inet_port listens on all addresses; the proxy connects to 127.0.0.1 */
  GThread *thread = g_thread_new ("fake-upstream", server_thread, &srv);

  /* the proxy */
  g_autoptr (GSocket) dns_socket = NULL;
  g_autoptr (SwVerifier) verifier = make_verifier (t->dns_down, &dns_socket);
  g_autofree char *spool = g_dir_make_tmp ("sw-proxy-spool-XXXXXX", &error);
  g_assert_no_error (error);
  SwPop3ProxyConfig cfg = {
    .account = "test",
    .upstream_host = "127.0.0.1",
    .upstream_port = up_port,
    .tls_mode = t->starttls ? SW_TLS_STARTTLS : SW_TLS_NONE,
    .verifier = verifier,
    .spool_dir = spool,
    .memory_limit = t->memory_limit,
    .read_ahead = t->read_ahead,
  };
  g_autoptr (SwPop3Proxy) proxy = sw_pop3_proxy_new (&cfg, &error);
  g_assert_no_error (error);
  if (t->max_message)
    sw_pop3_proxy_set_max_message (proxy, t->max_message);
  sw_pop3_proxy_set_header_ahead (proxy, t->header_ahead);
  guint16 port = 0;
  g_assert_true (sw_pop3_proxy_start (proxy, 0, &port, &error));
  g_assert_no_error (error);

  /* the client */
  g_autoptr (GSocketClient) sc = g_socket_client_new ();
  g_autoptr (GSocketConnection) conn = g_socket_client_connect_to_host (sc, "127.0.0.1", port, NULL, &error);
  g_assert_no_error (error);
  g_socket_set_timeout (g_socket_connection_get_socket (conn), IO_TIMEOUT_S);
  g_autoptr (GInputStream) in_s
      = g_buffered_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (conn)));
  GBufferedInputStream *in = G_BUFFERED_INPUT_STREAM (in_s);
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (conn));

  for (guint i = 0; i < t->ops->len; i++)
    {
      Op *op = &g_array_index (t->ops, Op, i);
      if (strcmp (op->op, "C:") == 0 || strcmp (op->op, "C>") == 0)
        {
          g_autofree char *line = g_strdup_printf ("%s\r\n", op->arg);
          g_assert_true (write_text (out, line, strlen (line)));
        }
      else if (strcmp (op->op, "N:") == 0)
        {
          char *text = NULL;
          guint64 n = g_ascii_strtoull (op->arg, &text, 10);
          g_autoptr (GString) all = g_string_new (NULL);
          for (guint64 k = 0; k < n; k++)
            g_string_append_printf (all, "%s\r\n", text + 1);
          g_assert_true (write_text (out, all->str, all->len));
        }
      else if (strcmp (op->op, "L:") == 0)
        {
          gsize n = g_ascii_strtoull (op->arg, NULL, 10);
          g_autofree char *line = g_malloc (n + 1);
          memset (line, 'A', n - 2);
          memcpy (line + n - 2, "\r\n", 3);
          write_text (out, line, n); /* the proxy may close before reading it all */
        }
      else if (strcmp (op->op, "S:") == 0 || strcmp (op->op, "R:") == 0 || strcmp (op->op, "R^") == 0)
        {
          g_autofree char *got = read_line (in, 64 * 1024);
          g_autofree char *want = g_strdup_printf ("%s\r\n", op->arg);
          gboolean prefix = strcmp (op->op, "R^") == 0;
          if (got == NULL || (prefix ? !g_str_has_prefix (got, op->arg) : strcmp (got, want) != 0))
            g_error ("%s line %u: client expected \"%s\"%s, got \"%s\"\nupstream: %s", t->name, op->lineno,
                     op->arg, prefix ? "..." : "", got ? g_strescape (got, NULL) : "(end of stream)",
                     srv.errors->str);
        }
      else if (strcmp (op->op, "H:") == 0)
        check_header_block (t, op, in);
      else if (strcmp (op->op, "G:") == 0)
        {
          g_autofree char *body = generate_body (g_ascii_strtoull (op->arg, NULL, 10));
          gsize len = strlen (body);
          g_autofree char *got = g_malloc (len + 1);
          gsize n = 0;
          g_assert_true (g_input_stream_read_all (G_INPUT_STREAM (in), got, len, &n, NULL, NULL));
          got[n] = '\0';
          if (n != len || memcmp (got, body, len) != 0)
            g_error ("%s line %u: the generated body differs (%" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT
                     " bytes)",
                     t->name, op->lineno, n, len);
        }
      else if (strcmp (op->op, "EOF") == 0)
        {
          g_autofree char *got = read_line (in, 64 * 1024);
          if (got != NULL)
            g_error ("%s line %u: expected the connection closed, got \"%s\"", t->name, op->lineno, got);
        }
      else if (strcmp (op->op, "W:") == 0)
        {
          if (!wait_for_log (op->arg))
            g_error ("%s line %u: the proxy did not log \"%s\"", t->name, op->lineno, op->arg);
        }
      else if (strcmp (op->op, "S>") == 0 || strcmp (op->op, "G>") == 0 || strcmp (op->op, "CLOSE") == 0
               || strcmp (op->op, "U:") == 0 || strcmp (op->op, "QUIET") == 0)
        ;
      else
        g_error ("%s line %u: unknown op %s", t->name, op->lineno, op->op);
    }
  g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
  g_thread_join (thread);
  if (srv.errors->len > 0)
    g_error ("%s: %s", t->name, srv.errors->str);

  sw_pop3_proxy_stop (proxy);
  /* stop waited for the sessions, and so for their prefetches */
  if (t->expect_prefetch >= 0)
    g_assert_cmpuint (sw_pop3_prefetch_get_count () - prefetches_before, ==, (guint)t->expect_prefetch);

  /* the spool: nothing left in the folder, no spool file open */
  g_autoptr (GDir) dir = g_dir_open (spool, 0, &error);
  g_assert_no_error (error);
  g_assert_null (g_dir_read_name (dir));
  g_assert_cmpint (count_spool_fds (), ==, 0);
  g_rmdir (spool);

  g_mutex_lock (&log_lock);
  g_autofree char *logs = g_strdup (log_text->str);
  g_mutex_unlock (&log_lock);
  gboolean sends = FALSE;
  for (guint i = 0; i < t->ops->len; i++)
    sends = sends || strcmp (g_array_index (t->ops, Op, i).op, "C:") == 0
            || strcmp (g_array_index (t->ops, Op, i).op, "N:") == 0;
  if (sends)
    g_assert_true (strstr (logs, "C: ") != NULL); /* commands are logged ... */
  for (guint i = 0; i < t->secrets->len; i++)     /* ... credentials never */
    if (strstr (logs, t->secrets->pdata[i]) != NULL)
      g_error ("%s: the secret \"%s\" appears in the logs:\n%s", t->name, (char *)t->secrets->pdata[i], logs);
  for (guint i = 0; i < t->expect_logs->len; i++)
    if (strstr (logs, t->expect_logs->pdata[i]) == NULL)
      g_error ("%s: the logs lack \"%s\":\n%s", t->name, (char *)t->expect_logs->pdata[i], logs);

  g_object_unref (srv.listener);
  g_string_free (srv.errors, TRUE);
}

/* The decoder fed in every split of the input gives the same content, stops right after
 * the terminator, and stuffing the content gives the input back. */
static void
test_message_splits (void)
{
  static const struct
  {
    const char *name;
    const char *wire;    /* dot-stuffed, with the terminator, then the next response */
    const char *content; /* unstuffed */
  } cases[] = {
    { "empty", ".\r\n+OK next", "" },
    { "plain", "a\r\nb\r\n.\r\n+OK", "a\r\nb\r\n" },
    { "stuffed", "..\r\n...x\r\n.. .\r\n.\r\n", ".\r\n..x\r\n. .\r\n" },
    { "dot-in-line", "a.\r\n.b\r\n.\r\n", "a.\r\nb\r\n" },
    { "bare-lf", "a\n..b\n.\n-ERR", "a\n.b\n" },
    { "dot-cr-other", "x\r\n.\rz\r\n.\r\n", "x\r\n\rz\r\n" },
  };
  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      gsize len = strlen (cases[c].wire);
      for (gsize split = 0; split <= len; split++)
        {
          g_autoptr (SwPop3Message) msg = sw_pop3_message_new (g_get_tmp_dir (), 4, 1024);
          gsize pos = 0, consumed = 0;
          gboolean done = FALSE;
          g_autoptr (GError) error = NULL;
          /* first @split bytes, then the rest one byte at a time */
          if (split > 0
              && !sw_pop3_message_feed (msg, (const guint8 *)cases[c].wire, split, &consumed, &done, &error))
            g_error ("case %s split %" G_GSIZE_FORMAT ": %s", cases[c].name, split, error->message);
          pos = consumed;
          while (!done && pos < len)
            {
              if (!sw_pop3_message_feed (msg, (const guint8 *)cases[c].wire + pos, 1, &consumed, &done,
                                         &error))
                g_error ("case %s split %" G_GSIZE_FORMAT ": %s", cases[c].name, split, error->message);
              pos += consumed;
            }
          if (!done)
            g_error ("case %s split %" G_GSIZE_FORMAT ": no terminator found", cases[c].name, split);
          g_autoptr (GBytes) bytes = sw_pop3_message_get_bytes (msg, &error);
          g_assert_no_error (error);
          gsize n = 0;
          const char *data = g_bytes_get_data (bytes, &n);
          if (n != strlen (cases[c].content) || (n > 0 && memcmp (data, cases[c].content, n) != 0))
            g_error ("case %s split %" G_GSIZE_FORMAT ": content \"%s\"", cases[c].name, split,
                     g_strescape (n ? g_strndup (data, n) : "", NULL));
          /* what follows the terminator is left for the next response */
          const char *rest = cases[c].wire + pos;
          if (!(g_str_has_prefix (rest, "+OK") || g_str_has_prefix (rest, "-ERR") || *rest == '\0'))
            g_error ("case %s split %" G_GSIZE_FORMAT ": stopped at \"%s\"", cases[c].name, split, rest);
          /* spooled beyond 4 bytes, and the spool is an unlinked file */
          g_assert_cmpint (sw_pop3_message_is_spooled (msg), ==, n > 4);
          /* stuffing gives the wire form back */
          GByteArray *out = g_byte_array_new ();
          gboolean bol = TRUE;
          sw_pop3_stuff (out, (const guint8 *)data, n, &bol);
          g_autofree char *wire_back
              = out->len ? g_strndup ((const char *)out->data, out->len) : g_strdup ("");
          g_byte_array_unref (out);
          /* (not for wire forms no RFC 1939 server sends: ".b", ".\rz") */
          if (strcmp (cases[c].name, "dot-cr-other") != 0 && strcmp (cases[c].name, "dot-in-line") != 0
              && !g_str_has_prefix (cases[c].wire, wire_back))
            g_error ("case %s: stuffed back \"%s\"", cases[c].name, g_strescape (wire_back, NULL));
        }
    }
}

/* ---- read-ahead gives the same bytes as no read-ahead ---- */

#define MAILBOX_SIZE 9

/* Message n of the mailbox of the fake server below, unstuffed. */
static char *
mailbox_message (guint n)
{
  GString *m = g_string_new (NULL);
  g_string_append_printf (m, "From: Sender %u <sender%u@nowhere.example>\r\nSubject: message %u\r\n"
                             "Message-ID: <%u@nowhere.example>\r\n\r\n", n, n, n, n);
  for (guint i = 0; i < 40 * n; i++)
    g_string_append_printf (m, "%sline %u of message %u\r\n", i % 7 == 0 ? "." : "", i, n);
  return g_string_free (m, FALSE);
}

typedef struct
{
  GSocketListener *listener;
  GString *commands; /* every line the server received */
  GString *errors;
} Mailbox;

/* A POP3 server holding MAILBOX_SIZE messages, for one connection. */
static gpointer
mailbox_thread (gpointer data)
{
  Mailbox *mb = data;
  g_autoptr (GSocketConnection) conn = g_socket_listener_accept (mb->listener, NULL, NULL, NULL);
  if (conn == NULL)
    {
      g_string_append (mb->errors, "mailbox: accept failed\n");
      return NULL;
    }
  g_socket_set_timeout (g_socket_connection_get_socket (conn), IO_TIMEOUT_S);
  g_autoptr (GInputStream) in = g_buffered_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (conn)));
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  write_text (out, "+OK ready\r\n", 11);
  for (;;)
    {
      g_autofree char *line = read_line (G_BUFFERED_INPUT_STREAM (in), 64 * 1024);
      if (line == NULL)
        return NULL;
      g_string_append (mb->commands, line);
      g_autoptr (GString) reply = g_string_new (NULL);
      guint64 n = 0;
      g_autofree char *arg = g_str_has_prefix (line, "RETR ") ? g_strndup (line + 5, strcspn (line + 5, "\r\n")) : NULL;
      if (arg != NULL && g_ascii_string_to_unsigned (arg, 10, 1, MAILBOX_SIZE, &n, NULL))
        {
          g_autofree char *m = mailbox_message ((guint)n);
          g_string_append_printf (reply, "+OK %zu octets\r\n", strlen (m));
          gboolean bol = TRUE;
          for (const char *c = m; *c; c++)
            {
              if (bol && *c == '.')
                g_string_append_c (reply, '.');
              g_string_append_c (reply, *c);
              bol = *c == '\n';
            }
          g_string_append (reply, ".\r\n");
        }
      else if (g_str_has_prefix (line, "STAT"))
        g_string_append_printf (reply, "+OK %u 12345\r\n", MAILBOX_SIZE);
      else if (g_str_has_prefix (line, "USER") || g_str_has_prefix (line, "PASS") || g_str_has_prefix (line, "QUIT"))
        g_string_append (reply, "+OK\r\n");
      else
        g_string_append (reply, "-ERR unexpected\r\n");
      write_text (out, reply->str, reply->len);
      if (g_str_has_prefix (line, "QUIT"))
        return NULL;
    }
}

/* USER, PASS, STAT, RETR 1..MAILBOX_SIZE one at a time, QUIT through a proxy with
 * @read_ahead; returns every byte the client received and sets *@commands_out to what
 * the server received. */
static char *
download_mailbox (SwVerifier *verifier, int read_ahead, char **commands_out)
{
  g_autoptr (GError) error = NULL;
  Mailbox mb = { .listener = g_socket_listener_new (), .commands = g_string_new (NULL), .errors = g_string_new (NULL) };
  guint16 up_port = g_socket_listener_add_any_inet_port (mb.listener, NULL, &error);
  g_assert_no_error (error);
  GThread *thread = g_thread_new ("mailbox", mailbox_thread, &mb);
  SwPop3ProxyConfig cfg = {
    .account = "test",
    .upstream_host = "127.0.0.1",
    .upstream_port = up_port,
    .tls_mode = SW_TLS_NONE,
    .verifier = verifier,
    .read_ahead = read_ahead,
  };
  g_autoptr (SwPop3Proxy) proxy = sw_pop3_proxy_new (&cfg, &error);
  g_assert_no_error (error);
  guint16 port = 0;
  g_assert_true (sw_pop3_proxy_start (proxy, 0, &port, &error));
  g_autoptr (GSocketClient) sc = g_socket_client_new ();
  g_autoptr (GSocketConnection) conn = g_socket_client_connect_to_host (sc, "127.0.0.1", port, NULL, &error);
  g_assert_no_error (error);
  g_socket_set_timeout (g_socket_connection_get_socket (conn), IO_TIMEOUT_S);
  g_autoptr (GInputStream) in_s = g_buffered_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (conn)));
  GBufferedInputStream *in = G_BUFFERED_INPUT_STREAM (in_s);
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  GString *got = g_string_new (NULL);
  g_autofree char *greeting = read_line (in, 64 * 1024);
  g_assert_nonnull (greeting);
  const char *const login[] = { "USER u\r\n", "PASS p\r\n", "STAT\r\n" };
  for (gsize i = 0; i < G_N_ELEMENTS (login); i++)
    {
      g_assert_true (write_text (out, login[i], strlen (login[i])));
      g_autofree char *line = read_line (in, 64 * 1024);
      g_assert_nonnull (line);
    }
  for (guint n = 1; n <= MAILBOX_SIZE; n++)
    {
      g_autofree char *cmd = g_strdup_printf ("RETR %u\r\n", n);
      g_assert_true (write_text (out, cmd, strlen (cmd)));
      for (;;)
        {
          g_autofree char *line = read_line (in, 64 * 1024);
          if (line == NULL)
            g_error ("read-ahead %d: RETR %u: end of stream", read_ahead, n);
          g_string_append (got, line);
          if (strcmp (line, ".\r\n") == 0 || g_str_has_prefix (line, "-ERR"))
            break;
        }
    }
  g_assert_true (write_text (out, "QUIT\r\n", 6));
  g_autofree char *bye = read_line (in, 64 * 1024);
  g_assert_cmpstr (bye, ==, "+OK\r\n");
  g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
  g_thread_join (thread);
  sw_pop3_proxy_stop (proxy);
  if (mb.errors->len > 0)
    g_error ("%s", mb.errors->str);
  g_object_unref (mb.listener);
  g_string_free (mb.errors, TRUE);
  *commands_out = g_string_free (mb.commands, FALSE);
  return g_string_free (got, FALSE);
}

/* The client gets byte for byte the same replies with read-ahead as without; the server
 * gets each RETR once, the header blocks of the mailbox once (TOP n 0), never a DELE, and
 * QUIT last. */
static void
test_read_ahead_same_bytes (void)
{
  g_autoptr (GSocket) dns_socket = NULL;
  g_autoptr (SwVerifier) verifier = make_verifier (FALSE, &dns_socket);
  g_autofree char *plain_commands = NULL, *ahead_commands = NULL;
  g_mutex_lock (&log_lock);
  g_string_truncate (log_text, 0);
  g_mutex_unlock (&log_lock);
  g_autofree char *plain = download_mailbox (verifier, 0, &plain_commands);
  g_mutex_lock (&log_lock);
  g_assert_null (strstr (log_text->str, "answered from read-ahead"));
  g_mutex_unlock (&log_lock);
  g_autofree char *ahead = download_mailbox (verifier, 4, &ahead_commands);
  g_mutex_lock (&log_lock);
  g_assert_nonnull (strstr (log_text->str, "RETR 9 answered from read-ahead"));
  g_mutex_unlock (&log_lock);
  /* every message arrived, with our header block */
  gsize messages = 0;
  for (const char *p = plain; (p = strstr (p, "X-Spoofwatch-Verdict: ")) != NULL; p++)
    messages++;
  g_assert_cmpuint (messages, ==, MAILBOX_SIZE);
  if (strcmp (plain, ahead) != 0)
    {
      gsize i = 0;
      while (plain[i] == ahead[i])
        i++;
      g_error ("read-ahead changed the bytes at offset %" G_GSIZE_FORMAT ": \"%.60s\" instead of \"%.60s\"", i,
               ahead + i, plain + i);
    }
  /* without read-ahead the server sees exactly the client's commands */
  g_autoptr (GString) want = g_string_new ("USER u\r\nPASS p\r\nSTAT\r\n");
  for (guint n = 1; n <= MAILBOX_SIZE; n++)
    g_string_append_printf (want, "RETR %u\r\n", n);
  g_string_append (want, "QUIT\r\n");
  g_assert_cmpstr (plain_commands, ==, want->str);
  /* with it: after STAT, TOP n 0 of every message (DNS warming, the proxy's own), then the
   * same commands (the RETRs partly on the proxy's own account), in order */
  g_autoptr (GString) want_ahead = g_string_new ("USER u\r\nPASS p\r\nSTAT\r\n");
  for (guint n = 1; n <= MAILBOX_SIZE; n++)
    g_string_append_printf (want_ahead, "TOP %u 0\r\n", n);
  g_string_append (want_ahead, want->str + strlen ("USER u\r\nPASS p\r\nSTAT\r\n"));
  g_assert_cmpstr (ahead_commands, ==, want_ahead->str);
}

/* A spooled message's DKIM body hashes, computed as it arrives (in chunks of any size, the
 * spool starting before, at or after the end of the header block), are those of its body
 * as a whole; a message held in memory has none (it is verified from memory). */
static void
test_message_prehashed (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "proxy", "samples", "02-genuine-bank.eml", NULL);
  g_autofree char *sample = NULL;
  gsize sample_len = 0;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_file_get_contents (path, &sample, &sample_len, &error));
  gsize hlen = sw_pop3_header_block_length ((const guint8 *)sample, sample_len);
  g_assert_cmpuint (hlen, <, sample_len);

  /* the sample as it is, and its header block with a longer body: dot lines, bare LF,
   * trailing white space, empty lines */
  g_autoptr (GString) longer = g_string_new_len (sample, (gssize)hlen);
  for (guint i = 0; i < 400; i++)
    g_string_append_printf (longer, "%sline %u  \t of the body%s", i % 7 == 0 ? "." : "", i,
                            i % 11 == 0 ? "\n" : i % 13 == 0 ? "\r\n\r\n" : "\r\n");
  const struct
  {
    const char *data;
    gsize len;
  } messages[] = { { sample, sample_len }, { longer->str, longer->len } };
  const gsize limits[] = { 16, hlen - 5, hlen + 40, 4096, 1u << 20 };
  const gsize chunks[] = { 1, 7, 100, 4000, G_MAXSIZE };
  guint n_spooled = 0;
  for (gsize m = 0; m < G_N_ELEMENTS (messages); m++)
    {
      const char *data = messages[m].data;
      gsize len = messages[m].len;
      SwDkimBodyHash want;
      g_assert_true (sw_dkim_body_hash ((const guint8 *)data + hlen, len - hlen, SW_DKIM_CANON_SIMPLE,
                                        SW_DKIM_HASH_SHA256, -1, &want));
      g_autoptr (GByteArray) wire = g_byte_array_new ();
      gboolean at_line_start = TRUE;
      sw_pop3_stuff (wire, (const guint8 *)data, len, &at_line_start);
      g_byte_array_append (wire, (const guint8 *)(at_line_start ? ".\r\n" : "\r\n.\r\n"), at_line_start ? 3 : 5);
      for (gsize l = 0; l < G_N_ELEMENTS (limits); l++)
        for (gsize c = 0; c < G_N_ELEMENTS (chunks); c++)
          {
            g_autoptr (SwPop3Message) msg = sw_pop3_message_new (g_get_tmp_dir (), limits[l], 1u << 24);
            gsize pos = 0;
            gboolean done = FALSE;
            while (!done && pos < wire->len)
              {
                gsize consumed = 0;
                gsize n = MIN (chunks[c], wire->len - pos);
                g_assert_true (sw_pop3_message_feed (msg, wire->data + pos, n, &consumed, &done, &error));
                g_assert_no_error (error);
                pos += consumed;
              }
            g_assert_true (done);
            gboolean spooled = sw_pop3_message_is_spooled (msg);
            g_assert_cmpint (spooled, ==, len > limits[l]);
            GBytes *header = NULL;
            SwDkimBodyHasher *hasher = NULL;
            gboolean have = sw_pop3_message_steal_prehashed (msg, &header, &hasher);
            g_assert_cmpint (have, ==, spooled);
            if (!have)
              continue;
            n_spooled++;
            g_assert_cmpuint (g_bytes_get_size (header), ==, hlen);
            g_assert_cmpmem (g_bytes_get_data (header, NULL), hlen, data, hlen);
            SwDkimBodyHash got;
            g_assert_true (sw_dkim_body_hasher_lookup (hasher, SW_DKIM_CANON_SIMPLE, SW_DKIM_HASH_SHA256, -1, &got));
            if (got.digest_len != want.digest_len || memcmp (got.digest, want.digest, want.digest_len) != 0
                || got.canon_len != want.canon_len)
              g_error ("message %" G_GSIZE_FORMAT ", memory limit %" G_GSIZE_FORMAT ", chunks of %" G_GSIZE_FORMAT
                       ": body hash differs",
                       m, limits[l], chunks[c]);
            /* only once */
            GBytes *again_h = NULL;
            SwDkimBodyHasher *again = NULL;
            g_assert_false (sw_pop3_message_steal_prehashed (msg, &again_h, &again));
            g_bytes_unref (header);
            sw_dkim_body_hasher_free (hasher);
          }
    }
  g_assert_cmpuint (n_spooled, >=, 30);
}

static const char *const transcripts[] = {
  "capa",          "user-pass",    "apop",      "auth-sasl",          "pipelining",
  "top",           "dot-stuffing", "retr-drop", "big-spooled",        "too-big",
  "line-too-long", "dns-down",     "malformed", "too-many-pipelined", "stls-refused",
  "read-ahead",    "read-ahead-off", "read-ahead-dele", "read-ahead-top-rset", "read-ahead-quit",
  "read-ahead-top-all", "read-ahead-top-all-off",
  "read-ahead-drop", "read-ahead-out-of-turn", "spooled-dkim-header-late", "spooled-dkim-body",
};

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  log_text = g_string_new (NULL);
  g_log_set_writer_func (capture_writer, NULL, NULL);
  g_test_add_func ("/proxy/pop3/message/split-feeds", test_message_splits);
  g_test_add_func ("/proxy/pop3/message/prehashed", test_message_prehashed);
  g_test_add_func ("/proxy/pop3/read-ahead/same-bytes", test_read_ahead_same_bytes);
  for (gsize i = 0; i < G_N_ELEMENTS (transcripts); i++)
    {
      g_autofree char *path = g_strdup_printf ("/proxy/pop3/transcript/%s", transcripts[i]);
      g_test_add_data_func (path, transcripts[i], test_transcript);
    }
  return g_test_run ();
}
