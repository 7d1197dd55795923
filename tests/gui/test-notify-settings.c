#define G_LOG_DOMAIN "sw-test-gui-settings"

/* test-notify-settings: the parts of the tray app's G2 side that need no display: the
 * configuration keys the settings dialog writes (popup-verdicts, first-run-done, account
 * replace/remove), the XDG autostart file, the "Test connection" check against a loopback
 * POP3 server with TLS (certificates made here with openssl), and the texts of pop-ups
 * and of the tray's title. The pop-ups and the tray themselves are tested under Xvfb with a
 * real notification daemon (test-notify-session.py). */

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sw-gui-autostart.h"
#include "sw-gui-first-run.h"
#include "sw-gui-notifier.h"
#include "sw-gui-settings.h"
#include "sw-gui-tray.h"

static char *tmp_dir; /* certificates and configuration files, removed at the end */

static void
remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
      const char *name;
      while (d && (name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          remove_tree (child);
        }
    }
  g_remove (path);
}

/* ==== Configuration ==== */

static char *
write_conf (const char *name, const char *text)
{
  char *path = g_build_filename (tmp_dir, name, NULL);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

typedef struct
{
  const char *name;
  const char *general; /* lines after [general] */
  guint bits;          /* expected popup-verdicts, when no error */
  const char *error;   /* expected substring of the error, or NULL */
} PopupCase;

#define BIT(v) SW_CONFIG_VERDICT_BIT (SW_VERDICT_##v)

static const PopupCase popup_cases[] = {
  { "absent-default", "demo=true\n", BIT (QUARANTINE) | BIT (REJECT), NULL },
  { "reject-only", "popup-verdicts=reject;\n", BIT (REJECT), NULL },
  { "empty-none", "popup-verdicts=\n", 0, NULL },
  { "all-words", "popup-verdicts=pass;none;fail-none;quarantine;reject;temperror;permerror\n",
    (1u << SW_VERDICT_COUNT) - 1, NULL },
  { "case-and-spaces", "popup-verdicts= Reject ; QUARANTINE ;\n", BIT (QUARANTINE) | BIT (REJECT), NULL },
  { "unknown-word", "demo=true\npopup-verdicts=reject;forged;\n", 0,
    ":4: [general] popup-verdicts: unknown verdict \"forged\"" },
  { "bad-first-run", "first-run-done=perhaps\n", 0, ":3: [general] first-run-done: use true or false" },
};

static void
test_config_popup_verdicts (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (popup_cases); i++)
    {
      const PopupCase *c = &popup_cases[i];
      g_autofree char *text
          = g_strdup_printf ("[general]\nauthserv-id=spoofwatch-0123456789abcdef\n%s", c->general);
      g_autofree char *path = write_conf ("popup.conf", text);
      g_autoptr (GError) error = NULL;
      g_autoptr (SwConfig) config = sw_config_load (path, &error);
      if (c->error != NULL)
        {
          if (config != NULL)
            g_error ("case %s: loaded, expected an error with \"%s\"", c->name, c->error);
          if (strstr (error->message, c->error) == NULL)
            g_error ("case %s: error \"%s\", expected \"%s\"", c->name, error->message, c->error);
          continue;
        }
      if (config == NULL)
        g_error ("case %s: %s", c->name, error->message);
      if (sw_config_get_popup_verdicts (config) != c->bits)
        g_error ("case %s: bits %#x, expected %#x", c->name, sw_config_get_popup_verdicts (config), c->bits);
      /* round trip */
      g_autofree char *again = g_build_filename (tmp_dir, "popup-again.conf", NULL);
      g_assert_true (sw_config_save (config, again, NULL));
      g_autoptr (SwConfig) reloaded = sw_config_load (again, &error);
      if (reloaded == NULL || sw_config_get_popup_verdicts (reloaded) != c->bits)
        g_error ("case %s: not the same after saving", c->name);
    }
}

static void
test_config_settings_round_trip (void)
{
  g_autofree char *path = g_build_filename (tmp_dir, "settings", "spoofwatch.conf", NULL);
  g_autoptr (SwConfig) config = sw_config_new ();
  g_assert_false (sw_config_get_first_run_done (config));
  g_assert_true (sw_gui_first_run_wanted (config));
  g_assert_cmpuint (sw_config_get_popup_verdicts (config), ==, SW_CONFIG_DEFAULT_POPUP_VERDICTS);
  g_assert_true (sw_config_save (config, path, NULL));
  g_assert_false (sw_config_is_modified (config));

  sw_config_set_popup_verdicts (config, BIT (REJECT) | BIT (FAIL_NONE) | (1u << 30));
  g_assert_true (sw_config_is_modified (config));
  sw_config_set_first_run_done (config, TRUE);
  g_assert_false (sw_gui_first_run_wanted (config));
  sw_config_set_demo (config, FALSE);
  g_assert_true (sw_config_save (config, path, NULL));

  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "popup-verdicts=fail-none;reject;"));
  g_assert_nonnull (strstr (text, "first-run-done=true"));
  g_assert_nonnull (strstr (text, "demo=false"));

  g_autoptr (GError) error = NULL;
  g_autoptr (SwConfig) back = sw_config_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sw_config_get_popup_verdicts (back), ==, BIT (REJECT) | BIT (FAIL_NONE));
  g_assert_true (sw_config_get_first_run_done (back));
  g_assert_false (sw_config_get_demo (back));
  g_assert_false (sw_config_is_modified (back));

  /* setting the same value again is no change */
  sw_config_set_popup_verdicts (back, BIT (REJECT) | BIT (FAIL_NONE));
  sw_config_set_first_run_done (back, TRUE);
  g_assert_false (sw_config_is_modified (back));
}

static SwAccount *
make_account (const char *name, guint16 listen_port, const char *host)
{
  SwAccount *a = sw_account_new ();
  a->name = g_strdup (name);
  a->listen_port = listen_port;
  a->upstream_host = g_strdup (host);
  a->upstream_port = 995;
  return a;
}

static void
test_config_accounts_edit (void)
{
  g_autofree char *path = g_build_filename (tmp_dir, "accounts.conf", NULL);
  g_autoptr (SwConfig) config = sw_config_new ();
  g_autoptr (SwAccount) work = make_account ("work", 11111, "pop.example.net");
  g_autoptr (SwAccount) home = make_account ("home", 11112, "pop.example.org");
  g_autoptr (GError) error = NULL;
  g_assert_true (sw_config_add_account (config, work, &error));
  g_assert_true (sw_config_add_account (config, home, &error));
  g_assert_false (sw_gui_first_run_wanted (config)); /* has accounts */

  struct
  {
    const char *name;
    const char *old_name;
    const char *new_name;
    guint16 port;
    const char *host;
    const char *error; /* NULL: replaced */
  } cases[] = {
    { "rename", "work", "office", 11111, "pop.example.net", NULL },
    { "missing-old", "nobody", "x", 11120, "pop.example.net", "there is no account named \"nobody\"" },
    { "name-taken", "office", "home", 11111, "pop.example.net", "an account named \"home\" exists already" },
    { "port-taken", "office", "office", 11112, "pop.example.net",
      "11112 is already the port of account \"home\"" },
    { "invalid-host", "office", "office", 11111, "bad host!", "upstream-host" },
    { "plain-remote", "office", "office", 11111, "pop.example.net", "loopback" },
    { "same-port-kept", "office", "office", 11111, "pop2.example.net", NULL },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (SwAccount) a = make_account (cases[i].new_name, cases[i].port, cases[i].host);
      if (g_str_equal (cases[i].name, "plain-remote"))
        a->tls = SW_TLS_MODE_CONFIG_NONE;
      g_clear_error (&error);
      gboolean ok = sw_config_replace_account (config, cases[i].old_name, a, &error);
      if (cases[i].error == NULL && !ok)
        g_error ("case %s: %s", cases[i].name, error->message);
      if (cases[i].error != NULL && (ok || strstr (error->message, cases[i].error) == NULL))
        g_error ("case %s: expected an error with \"%s\", got %s", cases[i].name, cases[i].error,
                 ok ? "success" : error->message);
    }
  GPtrArray *accounts = sw_config_get_accounts (config);
  g_assert_cmpuint (accounts->len, ==, 2);
  g_assert_cmpstr (((SwAccount *)accounts->pdata[0])->name, ==, "office"); /* position kept */
  g_assert_cmpstr (((SwAccount *)accounts->pdata[0])->upstream_host, ==, "pop2.example.net");
  g_assert_true (sw_config_save (config, path, NULL));

  g_assert_true (sw_config_remove_account (config, "home"));
  g_assert_false (sw_config_remove_account (config, "home"));
  g_assert_true (sw_config_is_modified (config));
  g_assert_true (sw_config_save (config, path, NULL));
  g_autoptr (SwConfig) back = sw_config_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sw_config_get_accounts (back)->len, ==, 1);
  g_assert_nonnull (sw_config_find_account (back, "office"));
  g_assert_null (sw_config_find_account (back, "work"));
  g_assert_null (sw_config_find_account (back, "home"));
}

/* ==== Autostart ==== */

static void
test_autostart_file (void)
{
  g_autofree char *path = sw_gui_autostart_path ();
  g_assert_true (g_str_has_prefix (path, g_get_user_config_dir ()));
  g_assert_true (g_str_has_suffix (path, "/autostart/spoofwatch.desktop"));
  g_assert_false (sw_gui_autostart_is_enabled ());

  struct
  {
    const char *exec;
    const char *exec_line;
    const char *argv0;
  } cases[] = {
    { "spoofwatch", "spoofwatch --hidden", "spoofwatch" },
    { "/usr/bin/spoofwatch", "/usr/bin/spoofwatch --hidden", "/usr/bin/spoofwatch" },
    { "/opt/Spoof Watch/bin/spoofwatch", "\"/opt/Spoof Watch/bin/spoofwatch\" --hidden",
      "/opt/Spoof Watch/bin/spoofwatch" },
    { "/home/a$b/100%/sw", "\"/home/a\\$b/100%%/sw\" --hidden", NULL },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      if (!sw_gui_autostart_set (TRUE, cases[i].exec, &error))
        g_error ("case %zu: %s", i, error->message);
      g_assert_true (sw_gui_autostart_is_enabled ());
      g_autoptr (GKeyFile) kf = g_key_file_new ();
      g_assert_true (g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &error));
      g_autofree char *type = g_key_file_get_string (kf, "Desktop Entry", "Type", NULL);
      g_autofree char *exec = g_key_file_get_string (kf, "Desktop Entry", "Exec", NULL);
      g_assert_cmpstr (type, ==, "Application");
      if (g_strcmp0 (exec, cases[i].exec_line) != 0)
        g_error ("case %zu: Exec=%s, expected %s", i, exec, cases[i].exec_line);
      if (cases[i].argv0 != NULL)
        {
          g_auto (GStrv) argv = NULL;
          g_assert_true (g_shell_parse_argv (exec, NULL, &argv, NULL));
          g_assert_cmpstr (argv[0], ==, cases[i].argv0);
          g_assert_cmpstr (argv[1], ==, "--hidden");
          g_assert_null (argv[2]);
        }
      g_autofree char *comment_ja = g_key_file_get_locale_string (kf, "Desktop Entry", "Comment", "ja", NULL);
      g_assert_nonnull (comment_ja);
    }
  GStatBuf st;
  g_autofree char *dir = g_path_get_dirname (path);
  g_assert_cmpint (g_stat (dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);

  /* a desktop tool turning the entry off */
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_assert_true (g_key_file_load_from_file (kf, path, G_KEY_FILE_KEEP_COMMENTS, NULL));
  g_key_file_set_boolean (kf, "Desktop Entry", "X-GNOME-Autostart-enabled", FALSE);
  g_assert_true (g_key_file_save_to_file (kf, path, NULL));
  g_assert_false (sw_gui_autostart_is_enabled ());
  g_key_file_set_boolean (kf, "Desktop Entry", "X-GNOME-Autostart-enabled", TRUE);
  g_key_file_set_boolean (kf, "Desktop Entry", "Hidden", TRUE);
  g_assert_true (g_key_file_save_to_file (kf, path, NULL));
  g_assert_false (sw_gui_autostart_is_enabled ());

  g_autoptr (GError) error = NULL;
  g_assert_true (sw_gui_autostart_set (FALSE, NULL, &error));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_false (sw_gui_autostart_is_enabled ());
  g_assert_true (sw_gui_autostart_set (FALSE, NULL, &error)); /* already off: no error */
  g_assert_no_error (error);
}

static void
test_autostart_unwritable (void)
{
  /* the autostart folder is a file: writing fails with an error naming the folder */
  g_autofree char *path = sw_gui_autostart_path ();
  g_autofree char *dir = g_path_get_dirname (path);
  remove_tree (dir);
  g_assert_cmpint (g_mkdir_with_parents (g_get_user_config_dir (), 0700), ==, 0);
  g_assert_true (g_file_set_contents (dir, "not a folder", -1, NULL));
  g_autoptr (GError) error = NULL;
  g_assert_false (sw_gui_autostart_set (TRUE, "spoofwatch", &error));
  g_assert_nonnull (error);
  g_assert_false (sw_gui_autostart_is_enabled ());
  g_remove (dir);
}

/* ==== Test connection against a loopback POP3 server ==== */

typedef enum
{
  SERVER_IMPLICIT, /* TLS from the first byte */
  SERVER_STARTTLS, /* greeting, STLS accepted */
  SERVER_STLS_REFUSED,
  SERVER_PLAIN,
  SERVER_NOT_POP3, /* greets with something else */
} ServerMode;

typedef struct
{
  GSocketListener *listener;
  ServerMode mode;
  GTlsCertificate *cert;
} Server;

static GTlsCertificate *server_cert;
static GTlsDatabase *test_ca;

static char *
server_read_line (GInputStream *in)
{
  GString *s = g_string_new (NULL);
  char c;
  while (s->len < 1024 && g_input_stream_read (in, &c, 1, NULL, NULL) == 1)
    {
      if (c == '\n')
        return g_string_free (s, FALSE);
      g_string_append_c (s, c);
    }
  g_string_free (s, TRUE);
  return NULL;
}

static gboolean
server_say (GIOStream *stream, const char *line)
{
  return g_output_stream_write_all (g_io_stream_get_output_stream (stream), line, strlen (line), NULL, NULL,
                                    NULL);
}

static GIOStream *
server_tls (GIOStream *base, GTlsCertificate *cert)
{
  GIOStream *tls = g_tls_server_connection_new (base, cert, NULL);
  g_assert_nonnull (tls);
  if (!g_tls_connection_handshake (G_TLS_CONNECTION (tls), NULL, NULL))
    {
      g_object_unref (tls);
      return NULL; /* the client refused the certificate: expected in some cases */
    }
  return tls;
}

/* Serves one connection, then returns. */
static gpointer
server_thread (gpointer data)
{
  Server *srv = data;
  g_autoptr (GSocketConnection) conn = g_socket_listener_accept (srv->listener, NULL, NULL, NULL);
  if (conn == NULL)
    return NULL;
  g_autoptr (GIOStream) stream = NULL;
  if (srv->mode == SERVER_IMPLICIT)
    {
      stream = server_tls (G_IO_STREAM (conn), srv->cert);
      if (stream == NULL)
        return NULL;
    }
  else
    stream = G_IO_STREAM (g_object_ref (conn));
  if (!server_say (stream,
                   srv->mode == SERVER_NOT_POP3 ? "220 smtp.example ESMTP\r\n" : "+OK test POP3 ready\r\n"))
    return NULL;
  for (;;)
    {
      g_autofree char *line = server_read_line (g_io_stream_get_input_stream (stream));
      if (line == NULL)
        break;
      if (g_str_has_prefix (line, "STLS"))
        {
          if (srv->mode != SERVER_STARTTLS)
            {
              server_say (stream, "-ERR STLS not here\r\n");
              continue;
            }
          server_say (stream, "+OK begin TLS\r\n");
          g_clear_object (&stream);
          stream = server_tls (G_IO_STREAM (conn), srv->cert);
          if (stream == NULL)
            break;
          continue;
        }
      if (g_str_has_prefix (line, "QUIT"))
        {
          server_say (stream, "+OK bye\r\n");
          break;
        }
      server_say (stream, "-ERR unknown\r\n");
    }
  if (stream != NULL)
    g_io_stream_close (stream, NULL, NULL);
  return NULL;
}

static void
on_report (GObject *source, GAsyncResult *res, gpointer user_data)
{
  SwGuiConnectionReport **out = user_data;
  g_autoptr (GError) error = NULL;
  *out = sw_gui_test_connection_finish (res, &error);
  g_assert_no_error (error);
  g_assert_nonnull (*out);
}

static SwGuiConnectionReport *
run_connection_test (const SwAccount *a, GTlsDatabase *db)
{
  SwGuiConnectionReport *report = NULL;
  sw_gui_test_connection_async (a, db, NULL, on_report, &report);
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (report == NULL && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_nonnull (report);
  return report;
}

typedef struct
{
  const char *name;
  ServerMode mode;
  gboolean no_server; /* nothing listens: connection refused */
  const char *host;
  SwTlsModeConfig tls;
  gboolean system_cas; /* verify against the system's CAs instead of the test CA */
  gboolean ok;
  const char *greeting;
  const char *error; /* substring */
  gboolean has_cert;
} ConnCase;

static const ConnCase conn_cases[] = {
  { "implicit-ok", SERVER_IMPLICIT, FALSE, "localhost", SW_TLS_MODE_CONFIG_IMPLICIT, FALSE, TRUE,
    "+OK test POP3 ready", NULL, TRUE },
  { "starttls-ok", SERVER_STARTTLS, FALSE, "localhost", SW_TLS_MODE_CONFIG_STARTTLS, FALSE, TRUE,
    "+OK test POP3 ready", NULL, TRUE },
  { "plain-loopback-ok", SERVER_PLAIN, FALSE, "127.0.0.1", SW_TLS_MODE_CONFIG_NONE, FALSE, TRUE,
    "+OK test POP3 ready", NULL, FALSE },
  { "untrusted-ca", SERVER_IMPLICIT, FALSE, "localhost", SW_TLS_MODE_CONFIG_IMPLICIT, TRUE, FALSE, NULL,
    "not signed by an authority this computer trusts", TRUE },
  { "wrong-host-name", SERVER_IMPLICIT, FALSE, "127.0.0.1", SW_TLS_MODE_CONFIG_IMPLICIT, FALSE, FALSE, NULL,
    "not made out to the host name 127.0.0.1", TRUE },
  { "stls-refused", SERVER_STLS_REFUSED, FALSE, "localhost", SW_TLS_MODE_CONFIG_STARTTLS, FALSE, FALSE,
    "+OK test POP3 ready", "refused STLS", FALSE },
  { "tls-to-plain-server", SERVER_PLAIN, FALSE, "localhost", SW_TLS_MODE_CONFIG_IMPLICIT, FALSE, FALSE, NULL,
    "TLS handshake failed", FALSE },
  { "not-pop3", SERVER_NOT_POP3, FALSE, "127.0.0.1", SW_TLS_MODE_CONFIG_NONE, FALSE, FALSE,
    "220 smtp.example ESMTP", "does not look like a POP3 server", FALSE },
  { "refused", SERVER_PLAIN, TRUE, "127.0.0.1", SW_TLS_MODE_CONFIG_IMPLICIT, FALSE, FALSE, NULL,
    "refused the connection", FALSE },
};

static void
test_connection_cases (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (conn_cases); i++)
    {
      const ConnCase *c = &conn_cases[i];
      Server srv = { .mode = c->mode, .cert = server_cert };
      srv.listener = g_socket_listener_new ();
      g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
      g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (lo, 0);
      g_autoptr (GSocketAddress) bound = NULL;
      g_autoptr (GError) error = NULL;
      g_assert_true (g_socket_listener_add_address (srv.listener, addr, G_SOCKET_TYPE_STREAM,
                                                    G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error));
      guint16 port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
      GThread *thread = NULL;
      if (c->no_server)
        g_socket_listener_close (srv.listener); /* the port is free again: refused */
      else
        thread = g_thread_new ("pop3-server", server_thread, &srv);

      g_autoptr (SwAccount) a = make_account ("test", 11111, c->host);
      a->upstream_port = port;
      a->tls = c->tls;
      g_autoptr (SwGuiConnectionReport) r = run_connection_test (a, c->system_cas ? NULL : test_ca);
      g_autofree char *text = sw_gui_connection_report_format (r);
      g_test_message ("case %s:\n%s", c->name, text);
      if (r->ok != c->ok)
        g_error ("case %s: ok=%d, expected %d:\n%s", c->name, r->ok, c->ok, text);
      if (c->greeting != NULL && g_strcmp0 (r->greeting, c->greeting) != 0)
        g_error ("case %s: greeting \"%s\", expected \"%s\"", c->name, r->greeting, c->greeting);
      if (c->error == NULL && r->error != NULL)
        g_error ("case %s: unexpected error %s", c->name, r->error);
      if (c->error != NULL && (r->error == NULL || strstr (r->error, c->error) == NULL))
        g_error ("case %s: error \"%s\", expected \"%s\"", c->name, r->error, c->error);
      if (c->has_cert)
        {
          if (r->cert_subject == NULL || strstr (r->cert_subject, "CN=localhost") == NULL)
            g_error ("case %s: certificate subject %s", c->name, r->cert_subject);
          if (r->cert_issuer == NULL || strstr (r->cert_issuer, "Spoofwatch test CA") == NULL)
            g_error ("case %s: certificate issuer %s", c->name, r->cert_issuer);
          if (c->ok && (r->tls == NULL || !g_str_has_prefix (r->tls, "TLS 1.")))
            g_error ("case %s: TLS %s", c->name, r->tls);
        }
      else if (r->cert_subject != NULL)
        g_error ("case %s: a certificate without TLS: %s", c->name, r->cert_subject);
      g_autofree char *want_addr = g_strdup_printf ("%s:%u", c->host, port);
      g_assert_cmpstr (r->address, ==, want_addr);
      g_assert_nonnull (strstr (text, want_addr));

      if (thread != NULL)
        g_thread_join (thread);
      g_socket_listener_close (srv.listener);
      g_object_unref (srv.listener);
    }
}

static void
on_cancelled_report (GObject *source, GAsyncResult *res, gpointer user_data)
{
  GError **out = user_data;
  g_autoptr (SwGuiConnectionReport) r = sw_gui_test_connection_finish (res, out);
  g_assert_null (r);
  g_assert_nonnull (*out);
}

static void
test_connection_cancelled (void)
{
  /* a server that accepts and never speaks: cancelling ends the test long before the
   * timeout, with G_IO_ERROR_CANCELLED and no report */
  g_autoptr (GSocketListener) listener = g_socket_listener_new ();
  guint16 port = g_socket_listener_add_any_inet_port (listener, NULL, NULL);
  g_assert_cmpuint (port, >, 0);
  g_autoptr (SwAccount) a = make_account ("test", 11111, "127.0.0.1");
  a->upstream_port = port;
  a->tls = SW_TLS_MODE_CONFIG_NONE;
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  GError *error = NULL;
  gint64 start = g_get_monotonic_time ();
  sw_gui_test_connection_async (a, NULL, cancel, on_cancelled_report, &error);
  g_cancellable_cancel (cancel);
  gint64 deadline = start + 30 * G_USEC_PER_SEC;
  while (error == NULL && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <,
                   (gint64)SW_GUI_TEST_CONNECTION_TIMEOUT_S * G_USEC_PER_SEC);
  g_clear_error (&error);
  g_socket_listener_close (listener);
}

/* ==== Texts ==== */

static void
test_texts_popup (void)
{
  SwStoreRecord r = {
    .id = 7,
    .account = "demo",
    .from_domain = "citibank.example",
    .subject = "Your <account> & card",
    .verdict = SW_VERDICT_REJECT,
    .explanation
    = "Claims to be from citibank.example, which rejects unauthenticated mail, but was sent from "
      "192.0.2.7 <not listed>",
  };
  g_autofree char *s1 = sw_gui_notifier_format_summary (&r);
  g_autofree char *b1 = sw_gui_notifier_format_body (&r);
  g_assert_nonnull (strstr (s1, "citibank.example"));
  g_assert_nonnull (strstr (s1, "forged"));
  g_assert_nonnull (strstr (b1, "Your &lt;account&gt; &amp; card"));
  g_assert_nonnull (strstr (b1, "which rejects unauthenticated mail"));
  g_assert_nonnull (strstr (b1, "&lt;not listed&gt;"));
  g_assert_null (strstr (b1, "<not"));

  r.verdict = SW_VERDICT_QUARANTINE;
  r.subject = NULL;
  r.explanation = NULL;
  r.from_domain = NULL;
  g_autofree char *s2 = sw_gui_notifier_format_summary (&r);
  g_autofree char *b2 = sw_gui_notifier_format_body (&r);
  g_assert_nonnull (strstr (s2, "Suspicious"));
  g_assert_nonnull (strstr (s2, "unknown domain"));
  g_assert_null (strstr (b2, "Subject"));
  g_assert_cmpuint (strlen (b2), >, 20); /* the verdict's meaning stands in for the explanation */
}

static void
test_texts_tray (void)
{
  struct
  {
    SwVerdict worst;
    guint count;
    gboolean paused;
    const char *expect;
  } cases[] = {
    { SW_VERDICT_COUNT, 0, FALSE, "no unread mail" },
    { SW_VERDICT_PASS, 1, FALSE, "1 unread message, it passed" },
    { SW_VERDICT_PASS, 4, FALSE, "4 unread messages, all passed" },
    { SW_VERDICT_NONE, 2, FALSE, "without DMARC" },
    { SW_VERDICT_FAIL_NONE, 1, FALSE, "only monitors" },
    { SW_VERDICT_QUARANTINE, 3, FALSE, "3 unread suspicious messages (Quarantine)" },
    { SW_VERDICT_REJECT, 1, FALSE, "1 unread message probably forged (Reject)" },
    { SW_VERDICT_TEMPERROR, 2, FALSE, "could not be checked" },
    { SW_VERDICT_PERMERROR, 1, FALSE, "could not be checked" },
    { SW_VERDICT_REJECT, 5, TRUE, "protection paused" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *t = sw_gui_tray_format_title (cases[i].worst, cases[i].count, cases[i].paused);
      if (!g_str_has_prefix (t, "Spoofwatch: ") || strstr (t, cases[i].expect) == NULL)
        g_error ("case %zu: \"%s\", expected \"%s\"", i, t, cases[i].expect);
    }
}

/* ==== Set-up ==== */

static gboolean
run (const char *cmd)
{
  int status = 0;
  g_autoptr (GError) error = NULL;
  if (!g_spawn_command_line_sync (cmd, NULL, NULL, &status, &error))
    g_error ("%s: %s", cmd, error->message);
  return g_spawn_check_wait_status (status, NULL);
}

static void
make_certificates (void)
{
  g_autofree char *ca_key = g_build_filename (tmp_dir, "ca.key", NULL);
  g_autofree char *ca = g_build_filename (tmp_dir, "ca.pem", NULL);
  g_autofree char *key = g_build_filename (tmp_dir, "server.key", NULL);
  g_autofree char *csr = g_build_filename (tmp_dir, "server.csr", NULL);
  g_autofree char *crt = g_build_filename (tmp_dir, "server.pem", NULL);
  g_autofree char *ext = g_build_filename (tmp_dir, "ext.cnf", NULL);
  g_assert_true (g_file_set_contents (ext, "subjectAltName=DNS:localhost\n", -1, NULL));
  g_autofree char *c1 = g_strdup_printf ("openssl req -x509 -newkey rsa:2048 -nodes -days 2 "
                                         "-subj \"/CN=Spoofwatch test CA\" -keyout %s -out %s",
                                         ca_key, ca);
  g_autofree char *c2 = g_strdup_printf (
      "openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout %s -out %s", key, csr);
  g_autofree char *c3 = g_strdup_printf ("openssl x509 -req -in %s -CA %s -CAkey %s -CAcreateserial -days 2 "
                                         "-extfile %s -out %s",
                                         csr, ca, ca_key, ext, crt);
  if (!run (c1) || !run (c2) || !run (c3))
    g_error ("openssl could not make the test certificates");
  g_autoptr (GError) error = NULL;
  server_cert = g_tls_certificate_new_from_files (crt, key, &error);
  g_assert_no_error (error);
  test_ca = g_tls_file_database_new (ca, &error);
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  /* a private XDG_CONFIG_HOME (the autostart folder), set before GLib reads it; not
   * G_TEST_OPTION_ISOLATE_DIRS, whose replaced strings LeakSanitizer reports */
  g_autoptr (GError) error = NULL;
  tmp_dir = g_dir_make_tmp ("sw-test-gui-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *xdg_config = g_build_filename (tmp_dir, "xdg-config", NULL);
  g_setenv ("XDG_CONFIG_HOME", xdg_config, TRUE);
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpstr (g_get_user_config_dir (), ==, xdg_config);
  make_certificates ();

  g_test_add_func ("/gui/settings/config/popup-verdicts", test_config_popup_verdicts);
  g_test_add_func ("/gui/settings/config/round-trip", test_config_settings_round_trip);
  g_test_add_func ("/gui/settings/config/accounts-edit", test_config_accounts_edit);
  g_test_add_func ("/gui/settings/autostart/file", test_autostart_file);
  g_test_add_func ("/gui/settings/autostart/unwritable", test_autostart_unwritable);
  g_test_add_func ("/gui/settings/test-connection/cases", test_connection_cases);
  g_test_add_func ("/gui/settings/test-connection/cancelled", test_connection_cancelled);
  g_test_add_func ("/gui/notify/text/popup", test_texts_popup);
  g_test_add_func ("/gui/tray/text/title", test_texts_tray);
  int status = g_test_run ();

  g_clear_object (&server_cert);
  g_clear_object (&test_ca);
  remove_tree (tmp_dir);
  g_free (tmp_dir);
  return status;
}
