#define G_LOG_DOMAIN "sw-gui"

#include "sw-gui-settings.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "sw-gui-autostart.h"
#include "sw-gui-verdict.h"
#include "sw-limits.h"
#include "sw-util.h"

/* ======================================================================================
 * Test connection (worker thread, blocking GIO calls with timeouts)
 * ====================================================================================== */

void
sw_gui_connection_report_free (SwGuiConnectionReport *report)
{
  if (report == NULL)
    return;
  g_free (report->address);
  g_free (report->greeting);
  g_free (report->tls);
  g_free (report->cert_subject);
  g_free (report->cert_issuer);
  g_free (report->error);
  g_free (report);
}

typedef struct
{
  SwAccount *account;
  GTlsDatabase *database;
  /* set by the accept-certificate handler */
  GTlsCertificateFlags cert_errors;
  GTlsCertificate *rejected_cert;
} TestJob;

static void
test_job_free (TestJob *job)
{
  sw_account_free (job->account);
  g_clear_object (&job->database);
  g_clear_object (&job->rejected_cert);
  g_free (job);
}

/* One line (ending in LF, at most SW_POP3_MAX_LINE bytes) read byte by byte, so nothing
 * past it is consumed before STLS. NULL with @error at EOF or over the cap. */
static char *
read_line (GInputStream *in, GCancellable *cancellable, GError **error)
{
  GString *line = g_string_new (NULL);
  while (line->len < SW_POP3_MAX_LINE)
    {
      char c;
      gssize n = g_input_stream_read (in, &c, 1, cancellable, error);
      if (n < 0)
        {
          g_string_free (line, TRUE);
          return NULL;
        }
      if (n == 0)
        {
          g_string_free (line, TRUE);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                       _ ("the server closed the connection"));
          return NULL;
        }
      if (c == '\n')
        {
          if (line->len > 0 && line->str[line->len - 1] == '\r')
            g_string_truncate (line, line->len - 1);
          return g_string_free (line, FALSE);
        }
      g_string_append_c (line, c);
    }
  g_string_free (line, TRUE);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE, _ ("the server sent a line over %u bytes"),
               SW_POP3_MAX_LINE);
  return NULL;
}

static gboolean
on_accept_certificate (GTlsConnection *conn, GTlsCertificate *cert, GTlsCertificateFlags errors,
                       gpointer user_data)
{
  TestJob *job = user_data;
  job->cert_errors = errors;
  g_set_object (&job->rejected_cert, cert);
  return FALSE; /* never accept what the proxy would refuse */
}

static void
describe_certificate (SwGuiConnectionReport *report, GTlsCertificate *cert)
{
  if (cert == NULL)
    return;
  g_clear_pointer (&report->cert_subject, g_free);
  g_clear_pointer (&report->cert_issuer, g_free);
  report->cert_subject = g_tls_certificate_get_subject_name (cert);
  report->cert_issuer = g_tls_certificate_get_issuer_name (cert);
}

static char *
describe_cert_errors (GTlsCertificateFlags errors, const char *host)
{
  GString *s = g_string_new (_ ("the server's certificate is refused:"));
  if (errors & G_TLS_CERTIFICATE_UNKNOWN_CA)
    g_string_append_printf (s, " %s",
                            _ ("it is not signed by an authority this computer trusts (self-signed, or "
                               "an unknown CA);"));
  if (errors & G_TLS_CERTIFICATE_BAD_IDENTITY)
    g_string_append_printf (s, _ (" it is not made out to the host name %s;"), host);
  if (errors & G_TLS_CERTIFICATE_NOT_ACTIVATED)
    g_string_append_printf (s, " %s", _ ("it is not valid yet;"));
  if (errors & G_TLS_CERTIFICATE_EXPIRED)
    g_string_append_printf (s, " %s", _ ("it has expired;"));
  if (errors & G_TLS_CERTIFICATE_REVOKED)
    g_string_append_printf (s, " %s", _ ("it has been revoked;"));
  if (errors & G_TLS_CERTIFICATE_INSECURE)
    g_string_append_printf (s, " %s", _ ("it uses an insecure algorithm;"));
  if (errors & G_TLS_CERTIFICATE_GENERIC_ERROR)
    g_string_append_printf (s, " %s", _ ("it could not be checked;"));
  if (s->str[s->len - 1] == ';')
    g_string_truncate (s, s->len - 1);
  return g_string_free (s, FALSE);
}

/* Wraps @base in TLS for @host and shakes hands. */
static GIOStream *
start_tls (TestJob *job, SwGuiConnectionReport *report, GIOStream *base, GCancellable *cancellable,
           GError **error)
{
  const SwAccount *a = job->account;
  g_autoptr (GSocketConnectable) identity = g_network_address_new (a->upstream_host, a->upstream_port);
  g_autoptr (GIOStream) tls = g_tls_client_connection_new (base, identity, error);
  if (tls == NULL)
    return NULL;
  if (job->database != NULL)
    g_tls_connection_set_database (G_TLS_CONNECTION (tls), job->database);
  g_signal_connect (tls, "accept-certificate", G_CALLBACK (on_accept_certificate), job);
  if (!g_tls_connection_handshake (G_TLS_CONNECTION (tls), cancellable, error))
    {
      describe_certificate (report, job->rejected_cert);
      return NULL;
    }
  describe_certificate (report, g_tls_connection_get_peer_certificate (G_TLS_CONNECTION (tls)));
  switch (g_tls_connection_get_protocol_version (G_TLS_CONNECTION (tls)))
    {
    case G_TLS_PROTOCOL_VERSION_TLS_1_0:
      report->tls = g_strdup ("TLS 1.0");
      break;
    case G_TLS_PROTOCOL_VERSION_TLS_1_1:
      report->tls = g_strdup ("TLS 1.1");
      break;
    case G_TLS_PROTOCOL_VERSION_TLS_1_2:
      report->tls = g_strdup ("TLS 1.2");
      break;
    case G_TLS_PROTOCOL_VERSION_TLS_1_3:
      report->tls = g_strdup ("TLS 1.3");
      break;
    default:
      report->tls = g_strdup ("TLS");
      break;
    }
  g_autofree char *cipher = g_tls_connection_get_ciphersuite_name (G_TLS_CONNECTION (tls));
  if (cipher != NULL)
    {
      char *with = g_strdup_printf ("%s, %s", report->tls, cipher);
      g_free (report->tls);
      report->tls = with;
    }
  return g_steal_pointer (&tls);
}

/* The cause of @error in words for a person. */
static char *
describe_error (TestJob *job, const GError *error)
{
  const SwAccount *a = job->account;
  if (g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE) && job->cert_errors != 0)
    return describe_cert_errors (job->cert_errors, a->upstream_host);
  if (g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_NOT_TLS)
      || g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_MISC))
    return g_strdup_printf (_ ("the TLS handshake failed (%s): is the TLS mode right? Port 995 usually "
                               "means implicit TLS, port 110 STARTTLS"),
                            error->message);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
    return g_strdup_printf (_ ("%s:%u refused the connection: nothing listens on that port, or a firewall "
                               "blocks it"),
                            a->upstream_host, a->upstream_port);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return g_strdup_printf (_ ("no answer from %s:%u within %u seconds"), a->upstream_host, a->upstream_port,
                            SW_GUI_TEST_CONNECTION_TIMEOUT_S);
  if (error->domain == G_RESOLVER_ERROR)
    return g_strdup_printf (_ ("the host name %s cannot be found (DNS): %s"), a->upstream_host,
                            error->message);
  return g_strdup (error->message);
}

static void
test_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  TestJob *job = task_data;
  const SwAccount *a = job->account;
  g_autoptr (SwGuiConnectionReport) report = g_new0 (SwGuiConnectionReport, 1);
  report->address = g_strdup_printf (strchr (a->upstream_host, ':') ? "[%s]:%u" : "%s:%u", a->upstream_host,
                                     a->upstream_port);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_socket_client_set_timeout (client, SW_GUI_TEST_CONNECTION_TIMEOUT_S);
  g_autoptr (GSocketConnection) conn = NULL;
  g_autoptr (GIOStream) stream = NULL;
  g_autofree char *greeting = NULL;

  if (a->tls == SW_TLS_MODE_CONFIG_NONE && !sw_account_validate (a, &error))
    goto failed; /* plain text only to a loopback host */
  conn = g_socket_client_connect_to_host (client, a->upstream_host, a->upstream_port, cancellable, &error);
  if (conn == NULL)
    goto failed;
  if (a->tls == SW_TLS_MODE_CONFIG_IMPLICIT)
    {
      stream = start_tls (job, report, G_IO_STREAM (conn), cancellable, &error);
      if (stream == NULL)
        goto failed;
    }
  else
    stream = G_IO_STREAM (g_object_ref (conn));

  greeting = read_line (g_io_stream_get_input_stream (stream), cancellable, &error);
  if (greeting == NULL)
    goto failed;
  report->greeting = sw_sanitize_for_log (greeting, -1, 200);
  if (!g_str_has_prefix (greeting, "+OK"))
    {
      report->error = g_strdup (_ ("the server did not greet with +OK: it does not look like a POP3 server"));
      goto done;
    }
  if (a->tls == SW_TLS_MODE_CONFIG_STARTTLS)
    {
      const char stls[] = "STLS\r\n";
      if (!g_output_stream_write_all (g_io_stream_get_output_stream (stream), stls, strlen (stls), NULL,
                                      cancellable, &error))
        goto failed;
      g_autofree char *reply = read_line (g_io_stream_get_input_stream (stream), cancellable, &error);
      if (reply == NULL)
        goto failed;
      if (!g_str_has_prefix (reply, "+OK"))
        {
          g_autofree char *shown = sw_sanitize_for_log (reply, -1, 120);
          report->error
              = g_strdup_printf (_ ("the server refused STLS (\"%s\"): Spoofwatch never falls back to "
                                    "plain text; choose implicit TLS (usually port 995)"),
                                 shown);
          goto done;
        }
      g_clear_object (&stream);
      stream = start_tls (job, report, G_IO_STREAM (conn), cancellable, &error);
      if (stream == NULL)
        goto failed;
    }
  {
    const char quit[] = "QUIT\r\n";
    if (g_output_stream_write_all (g_io_stream_get_output_stream (stream), quit, strlen (quit), NULL,
                                   cancellable, NULL))
      g_free (read_line (g_io_stream_get_input_stream (stream), cancellable, NULL));
  }
  report->ok = TRUE;
  goto done;

failed:
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  report->error = describe_error (job, error);
done:
  if (stream != NULL)
    g_io_stream_close (stream, NULL, NULL);
  if (conn != NULL)
    g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
  g_task_return_pointer (task, g_steal_pointer (&report), (GDestroyNotify)sw_gui_connection_report_free);
}

void
sw_gui_test_connection_async (const SwAccount *account, GTlsDatabase *database, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (account != NULL && account->upstream_host != NULL);
  TestJob *job = g_new0 (TestJob, 1);
  job->account = sw_account_copy (account);
  job->database = database ? g_object_ref (database) : NULL;
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, sw_gui_test_connection_async);
  g_task_set_task_data (task, job, (GDestroyNotify)test_job_free);
  g_task_run_in_thread (task, test_thread);
}

SwGuiConnectionReport *
sw_gui_test_connection_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

char *
sw_gui_connection_report_format (const SwGuiConnectionReport *r)
{
  g_return_val_if_fail (r != NULL, NULL);
  GString *s = g_string_new (NULL);
  g_string_append_printf (s, r->ok ? _ ("Connected to %s.") : _ ("Could not connect to %s."), r->address);
  g_string_append_c (s, '\n');
  if (r->error != NULL)
    {
      g_string_append_printf (s, _ ("Cause: %s"), r->error);
      g_string_append_c (s, '\n');
    }
  if (r->greeting != NULL)
    {
      g_string_append_printf (s, _ ("Greeting: %s"), r->greeting);
      g_string_append_c (s, '\n');
    }
  if (r->tls != NULL)
    {
      g_string_append_printf (s, _ ("Encryption: %s"), r->tls);
      g_string_append_c (s, '\n');
    }
  if (r->cert_subject != NULL)
    {
      g_string_append_printf (s, _ ("Certificate for: %s"), r->cert_subject);
      g_string_append_c (s, '\n');
    }
  if (r->cert_issuer != NULL)
    {
      g_string_append_printf (s, _ ("Issued by: %s"), r->cert_issuer);
      g_string_append_c (s, '\n');
    }
  if (s->len > 0 && s->str[s->len - 1] == '\n')
    g_string_truncate (s, s->len - 1);
  return g_string_free (s, FALSE);
}

/* ======================================================================================
 * The dialog
 * ====================================================================================== */

#define SETTINGS_UI "/org/spoofwatch/Spoofwatch/ui/settings.ui"
#define LOCAL_HOST "127.0.0.1"

/* One account as edited: its name in the application's configuration (NULL: new). */
typedef struct
{
  char *orig_name;
  SwAccount *account;
} EditedAccount;

static void
edited_account_free (EditedAccount *e)
{
  g_free (e->orig_name);
  sw_account_free (e->account);
  g_free (e);
}

struct _SwGuiSettingsDialog
{
  GtkDialog parent_instance;
  SwGuiApp *app;       /* borrowed; the dialog is destroyed with the application's windows */
  GPtrArray *accounts; /* EditedAccount* */
  GtkWidget *popup_checks[SW_VERDICT_COUNT];
  GCancellable *cancellable; /* connection tests in flight */

  /* template children */
  GtkWidget *error_bar;
  GtkWidget *error_label;
  GtkWidget *notebook;
  GtkWidget *accounts_list;
  GtkWidget *add_button;
  GtkWidget *edit_button;
  GtkWidget *remove_button;
  GtkWidget *test_button;
  GtkWidget *test_result;
  GtkWidget *popup_box;
  GtkWidget *autostart_check;
  GtkWidget *demo_check;
};

G_DEFINE_TYPE (SwGuiSettingsDialog, sw_gui_settings_dialog, GTK_TYPE_DIALOG)

static void
show_error (SwGuiSettingsDialog *self, const char *text)
{
  gtk_label_set_text (GTK_LABEL (self->error_label), text);
  gtk_widget_show (self->error_bar);
}

/* "127.0.0.1 port 11111 → pop.example.net:995 (implicit TLS)" */
static char *
account_summary (const SwAccount *a)
{
  const char *tls = a->tls == SW_TLS_MODE_CONFIG_IMPLICIT   ? _ ("implicit TLS")
                    : a->tls == SW_TLS_MODE_CONFIG_STARTTLS ? _ ("STARTTLS")
                                                            : _ ("no encryption, this computer only");
  /* TRANSLATORS: the local address the mail client uses, then the real server */
  return g_strdup_printf (
      _ ("In your mail client: server %s, port %u, no encryption — Spoofwatch connects to "
         "%s:%u (%s)"),
      LOCAL_HOST, a->listen_port, a->upstream_host, a->upstream_port, tls);
}

static void
fill_accounts (SwGuiSettingsDialog *self)
{
  GList *rows = gtk_container_get_children (GTK_CONTAINER (self->accounts_list));
  for (GList *l = rows; l != NULL; l = l->next)
    gtk_widget_destroy (l->data);
  g_list_free (rows);
  for (guint i = 0; i < self->accounts->len; i++)
    {
      const EditedAccount *e = g_ptr_array_index (self->accounts, i);
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
      gtk_container_set_border_width (GTK_CONTAINER (box), 6);
      GtkWidget *name = gtk_label_new (NULL);
      g_autofree char *markup = g_markup_printf_escaped ("<b>%s</b>", e->account->name);
      gtk_label_set_markup (GTK_LABEL (name), markup);
      gtk_label_set_xalign (GTK_LABEL (name), 0);
      g_autofree char *summary = account_summary (e->account);
      GtkWidget *detail = gtk_label_new (summary);
      gtk_label_set_xalign (GTK_LABEL (detail), 0);
      gtk_label_set_line_wrap (GTK_LABEL (detail), TRUE);
      gtk_container_add (GTK_CONTAINER (box), name);
      gtk_container_add (GTK_CONTAINER (box), detail);
      GtkWidget *row = gtk_list_box_row_new ();
      gtk_container_add (GTK_CONTAINER (row), box);
      g_autofree char *accessible = g_strdup_printf ("%s. %s", e->account->name, summary);
      atk_object_set_name (gtk_widget_get_accessible (row), accessible);
      gtk_widget_show_all (row);
      gtk_container_add (GTK_CONTAINER (self->accounts_list), row);
    }
}

static int
selected_index (SwGuiSettingsDialog *self)
{
  GtkListBoxRow *row = gtk_list_box_get_selected_row (GTK_LIST_BOX (self->accounts_list));
  return row ? gtk_list_box_row_get_index (row) : -1;
}

static void
update_buttons (SwGuiSettingsDialog *self)
{
  gboolean any = selected_index (self) >= 0;
  gtk_widget_set_sensitive (self->edit_button, any);
  gtk_widget_set_sensitive (self->remove_button, any);
  gtk_widget_set_sensitive (self->test_button, any);
}

/* ---- Account editor ---- */

typedef struct
{
  SwGuiSettingsDialog *self;
  int index; /* -1: new */
  GtkWidget *dialog;
  GtkWidget *name;
  GtkWidget *host;
  GtkWidget *port;
  GtkWidget *tls;
  GtkWidget *listen_port;
  GtkWidget *provider_hosts;
  GtkWidget *client_hint;
  GtkWidget *error;
  GtkWidget *test_result;
  GCancellable *cancellable;
} Editor;

static SwAccount *
editor_account (Editor *ed)
{
  SwAccount *a = sw_account_new ();
  a->name = g_strstrip (g_strdup (gtk_entry_get_text (GTK_ENTRY (ed->name))));
  a->upstream_host = g_strstrip (g_strdup (gtk_entry_get_text (GTK_ENTRY (ed->host))));
  a->upstream_port = (guint16)gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (ed->port));
  a->listen_port = (guint16)gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (ed->listen_port));
  const char *id = gtk_combo_box_get_active_id (GTK_COMBO_BOX (ed->tls));
  if (id == NULL || !sw_tls_mode_config_from_string (id, &a->tls))
    a->tls = SW_TLS_MODE_CONFIG_IMPLICIT;
  g_auto (GStrv) parts = g_strsplit_set (gtk_entry_get_text (GTK_ENTRY (ed->provider_hosts)), ";, ", -1);
  g_autoptr (GPtrArray) hosts = g_ptr_array_new ();
  for (guint i = 0; parts[i] != NULL; i++)
    if (*parts[i] != '\0')
      g_ptr_array_add (hosts, g_strdup (parts[i]));
  if (hosts->len > 0)
    {
      g_ptr_array_add (hosts, NULL);
      a->provider_hosts = (char **)g_ptr_array_free (g_steal_pointer (&hosts), FALSE);
    }
  if (ed->index >= 0)
    {
      /* keep what the editor does not show */
      const EditedAccount *e = g_ptr_array_index (ed->self->accounts, ed->index);
      a->trusted_hops = e->account->trusted_hops;
      a->trusted_authserv_ids = g_strdupv (e->account->trusted_authserv_ids);
    }
  return a;
}

static void
editor_update_hint (Editor *ed)
{
  guint port = (guint)gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (ed->listen_port));
  g_autofree char *hint
      = g_strdup_printf (_ ("In your mail client, set the incoming (POP3) server of this account "
                            "to:\n  server %s\n  port %u\n  security: none (the connection stays "
                            "on this computer)\n  user name and password: unchanged"),
                         LOCAL_HOST, port);
  gtk_label_set_text (GTK_LABEL (ed->client_hint), hint);
}

static void
on_editor_changed (GtkWidget *widget, gpointer user_data)
{
  editor_update_hint (user_data);
}

static void
on_tls_changed (GtkComboBox *combo, gpointer user_data)
{
  Editor *ed = user_data;
  guint port = (guint)gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (ed->port));
  const char *id = gtk_combo_box_get_active_id (combo);
  /* follow the usual port while the user has not typed another one */
  if (port == 995 || port == 110)
    gtk_spin_button_set_value (GTK_SPIN_BUTTON (ed->port), g_strcmp0 (id, "implicit") == 0 ? 995 : 110);
}

/* The account in the editor, validated and checked against the other accounts. */
static SwAccount *
editor_checked_account (Editor *ed, GError **error)
{
  g_autoptr (SwAccount) a = editor_account (ed);
  if (!sw_account_validate (a, error))
    return NULL;
  for (guint i = 0; i < ed->self->accounts->len; i++)
    {
      if ((int)i == ed->index)
        continue;
      const EditedAccount *other = g_ptr_array_index (ed->self->accounts, i);
      if (strcmp (other->account->name, a->name) == 0)
        {
          g_set_error (error, SW_CONFIG_ERROR, SW_CONFIG_ERROR_INVALID,
                       _ ("An account named \"%s\" exists already."), a->name);
          return NULL;
        }
      if (other->account->listen_port == a->listen_port)
        {
          g_set_error (error, SW_CONFIG_ERROR, SW_CONFIG_ERROR_INVALID,
                       _ ("Local port %u is already used by account \"%s\"."), a->listen_port,
                       other->account->name);
          return NULL;
        }
    }
  return g_steal_pointer (&a);
}

static void
editor_test_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  GtkWidget *label = user_data; /* a weak pointer's target, see editor_test */
  g_autoptr (GError) error = NULL;
  g_autoptr (SwGuiConnectionReport) report = sw_gui_test_connection_finish (res, &error);
  if (report != NULL)
    {
      g_autofree char *text = sw_gui_connection_report_format (report);
      gtk_label_set_text (GTK_LABEL (label), text);
    }
  g_object_unref (label);
}

static void
run_test (GtkWidget *label, const SwAccount *a, GCancellable *cancellable)
{
  g_autofree char *text = g_strdup_printf (_ ("Connecting to %s:%u…"), a->upstream_host, a->upstream_port);
  gtk_label_set_text (GTK_LABEL (label), text);
  sw_gui_test_connection_async (a, NULL, cancellable, editor_test_done, g_object_ref (label));
}

static void
on_editor_response (GtkDialog *dialog, int response, gpointer user_data)
{
  Editor *ed = user_data;
  SwGuiSettingsDialog *self = ed->self;
  g_autoptr (GError) error = NULL;
  if (response == 1) /* Test connection */
    {
      g_autoptr (SwAccount) a = editor_account (ed);
      if (a->upstream_host == NULL || *a->upstream_host == '\0')
        gtk_label_set_text (GTK_LABEL (ed->test_result), _ ("Type the server's host name first."));
      else if (a->tls == SW_TLS_MODE_CONFIG_NONE && !sw_account_validate (a, &error))
        gtk_label_set_text (GTK_LABEL (ed->test_result), error->message);
      else
        run_test (ed->test_result, a, ed->cancellable);
      return;
    }
  if (response == GTK_RESPONSE_OK)
    {
      SwAccount *a = editor_checked_account (ed, &error);
      if (a == NULL)
        {
          g_autofree char *text = g_strdup_printf (_ ("Error: %s"), error->message);
          gtk_label_set_text (GTK_LABEL (ed->error), text);
          gtk_widget_show (ed->error);
          return;
        }
      if (ed->index < 0)
        {
          EditedAccount *e = g_new0 (EditedAccount, 1);
          e->account = a;
          g_ptr_array_add (self->accounts, e);
        }
      else
        {
          EditedAccount *e = g_ptr_array_index (self->accounts, ed->index);
          sw_account_free (e->account);
          e->account = a;
        }
      fill_accounts (self);
      update_buttons (self);
    }
  gtk_widget_destroy (GTK_WIDGET (dialog));
}

static void
on_editor_destroy (GtkWidget *dialog, gpointer user_data)
{
  Editor *ed = user_data;
  g_cancellable_cancel (ed->cancellable);
  g_object_unref (ed->cancellable);
  g_free (ed);
}

static GtkWidget *
grid_row (GtkWidget *grid, int row, const char *label, GtkWidget *field, const char *tooltip)
{
  GtkWidget *l = gtk_label_new_with_mnemonic (label);
  gtk_label_set_xalign (GTK_LABEL (l), 1);
  gtk_label_set_mnemonic_widget (GTK_LABEL (l), field);
  gtk_widget_set_hexpand (field, TRUE);
  if (tooltip != NULL)
    gtk_widget_set_tooltip_text (field, tooltip);
  gtk_grid_attach (GTK_GRID (grid), l, 0, row, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), field, 1, row, 1, 1);
  return field;
}

static guint16
free_listen_port (SwGuiSettingsDialog *self)
{
  for (guint port = 11111; port < 12000; port++)
    {
      gboolean used = FALSE;
      for (guint i = 0; i < self->accounts->len && !used; i++)
        used = ((const EditedAccount *)g_ptr_array_index (self->accounts, i))->account->listen_port == port;
      if (!used)
        return (guint16)port;
    }
  return 11111;
}

static void
open_editor (SwGuiSettingsDialog *self, int index)
{
  Editor *ed = g_new0 (Editor, 1);
  ed->self = self;
  ed->index = index;
  ed->cancellable = g_cancellable_new ();
  ed->dialog = gtk_dialog_new_with_buttons (
      index < 0 ? _ ("Add a mail account") : _ ("Edit the mail account"), GTK_WINDOW (self),
      GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT, _ ("_Test connection"), 1, _ ("_Cancel"),
      GTK_RESPONSE_CANCEL, _ ("_OK"), GTK_RESPONSE_OK, NULL);
  gtk_dialog_set_default_response (GTK_DIALOG (ed->dialog), GTK_RESPONSE_OK);
  GtkWidget *grid = gtk_grid_new ();
  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 12);
  gtk_container_set_border_width (GTK_CONTAINER (grid), 12);

  ed->name = grid_row (grid, 0, _ ("_Name"), gtk_entry_new (),
                       _ ("A short name of your choice: letters, digits, '.', '_' or '-'"));
  ed->host = grid_row (grid, 1, _ ("_Mail server"), gtk_entry_new (),
                       _ ("Your provider's POP3 server, e.g. pop.example.net"));
  ed->port = grid_row (grid, 2, _ ("Server _port"), gtk_spin_button_new_with_range (1, 65535, 1), NULL);
  ed->tls = gtk_combo_box_text_new ();
  gtk_combo_box_text_append (GTK_COMBO_BOX_TEXT (ed->tls), "implicit",
                             _ ("TLS from the start (POP3S, usually port 995)"));
  gtk_combo_box_text_append (GTK_COMBO_BOX_TEXT (ed->tls), "starttls", _ ("STARTTLS (usually port 110)"));
  gtk_combo_box_text_append (GTK_COMBO_BOX_TEXT (ed->tls), "none",
                             _ ("None (only for a server on this computer)"));
  grid_row (grid, 3, _ ("_Security"), ed->tls, NULL);
  ed->listen_port = grid_row (grid, 4, _ ("_Local port"), gtk_spin_button_new_with_range (1024, 65535, 1),
                              _ ("The port your mail client connects to on this computer"));
  ed->provider_hosts
      = grid_row (grid, 5, _ ("_Provider's hosts"), gtk_entry_new (),
                  _ ("Optional: patterns of your provider's own mail hosts, e.g. *.mail.example.net; "
                     "empty: learnt automatically"));
  ed->client_hint = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (ed->client_hint), 0);
  gtk_label_set_selectable (GTK_LABEL (ed->client_hint), TRUE);
  gtk_grid_attach (GTK_GRID (grid), ed->client_hint, 0, 6, 2, 1);
  ed->error = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (ed->error), 0);
  gtk_label_set_line_wrap (GTK_LABEL (ed->error), TRUE);
  gtk_style_context_add_class (gtk_widget_get_style_context (ed->error), "error");
  gtk_widget_set_no_show_all (ed->error, TRUE);
  gtk_grid_attach (GTK_GRID (grid), ed->error, 0, 7, 2, 1);
  ed->test_result = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (ed->test_result), 0);
  gtk_label_set_line_wrap (GTK_LABEL (ed->test_result), TRUE);
  gtk_label_set_selectable (GTK_LABEL (ed->test_result), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (ed->test_result), 70);
  gtk_grid_attach (GTK_GRID (grid), ed->test_result, 0, 8, 2, 1);

  if (index >= 0)
    {
      const SwAccount *a = ((const EditedAccount *)g_ptr_array_index (self->accounts, index))->account;
      gtk_entry_set_text (GTK_ENTRY (ed->name), a->name);
      gtk_entry_set_text (GTK_ENTRY (ed->host), a->upstream_host);
      gtk_spin_button_set_value (GTK_SPIN_BUTTON (ed->port), a->upstream_port);
      gtk_combo_box_set_active_id (GTK_COMBO_BOX (ed->tls), sw_tls_mode_config_to_string (a->tls));
      gtk_spin_button_set_value (GTK_SPIN_BUTTON (ed->listen_port), a->listen_port);
      if (a->provider_hosts != NULL)
        {
          g_autofree char *hosts = g_strjoinv ("; ", a->provider_hosts);
          gtk_entry_set_text (GTK_ENTRY (ed->provider_hosts), hosts);
        }
    }
  else
    {
      gtk_spin_button_set_value (GTK_SPIN_BUTTON (ed->port), 995);
      gtk_combo_box_set_active_id (GTK_COMBO_BOX (ed->tls), "implicit");
      gtk_spin_button_set_value (GTK_SPIN_BUTTON (ed->listen_port), free_listen_port (self));
    }
  gtk_entry_set_activates_default (GTK_ENTRY (ed->name), TRUE);
  gtk_entry_set_activates_default (GTK_ENTRY (ed->host), TRUE);
  g_signal_connect (ed->tls, "changed", G_CALLBACK (on_tls_changed), ed);
  g_signal_connect (ed->listen_port, "value-changed", G_CALLBACK (on_editor_changed), ed);
  editor_update_hint (ed);

  gtk_container_add (GTK_CONTAINER (gtk_dialog_get_content_area (GTK_DIALOG (ed->dialog))), grid);
  g_signal_connect (ed->dialog, "response", G_CALLBACK (on_editor_response), ed);
  g_signal_connect (ed->dialog, "destroy", G_CALLBACK (on_editor_destroy), ed);
  gtk_widget_show_all (ed->dialog);
}

/* ---- Buttons of the main dialog ---- */

static void
on_add (GtkButton *button, SwGuiSettingsDialog *self)
{
  open_editor (self, -1);
}

static void
on_edit (GtkButton *button, SwGuiSettingsDialog *self)
{
  int i = selected_index (self);
  if (i >= 0)
    open_editor (self, i);
}

static void
on_row_activated (GtkListBox *box, GtkListBoxRow *row, SwGuiSettingsDialog *self)
{
  open_editor (self, gtk_list_box_row_get_index (row));
}

static void
on_remove (GtkButton *button, SwGuiSettingsDialog *self)
{
  int i = selected_index (self);
  if (i < 0)
    return;
  g_ptr_array_remove_index (self->accounts, (guint)i);
  fill_accounts (self);
  update_buttons (self);
}

static void
on_test (GtkButton *button, SwGuiSettingsDialog *self)
{
  int i = selected_index (self);
  if (i < 0)
    return;
  const EditedAccount *e = g_ptr_array_index (self->accounts, i);
  run_test (self->test_result, e->account, self->cancellable);
}

static void
on_selected (GtkListBox *box, GtkListBoxRow *row, SwGuiSettingsDialog *self)
{
  update_buttons (self);
}

/* Copies the dialog's state into the application's configuration and saves it. */
static gboolean
apply (SwGuiSettingsDialog *self, GError **error)
{
  SwConfig *config = sw_gui_app_get_config (self->app);
  /* accounts removed in the dialog */
  GPtrArray *current = sw_config_get_accounts (config);
  g_autoptr (GPtrArray) gone = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < current->len; i++)
    {
      const SwAccount *a = g_ptr_array_index (current, i);
      gboolean kept = FALSE;
      for (guint j = 0; j < self->accounts->len && !kept; j++)
        kept = g_strcmp0 (((const EditedAccount *)g_ptr_array_index (self->accounts, j))->orig_name, a->name)
               == 0;
      if (!kept)
        g_ptr_array_add (gone, g_strdup (a->name));
    }
  for (guint i = 0; i < gone->len; i++)
    sw_config_remove_account (config, gone->pdata[i]);
  for (guint i = 0; i < self->accounts->len; i++)
    {
      EditedAccount *e = g_ptr_array_index (self->accounts, i);
      gboolean ok = e->orig_name != NULL ? sw_config_replace_account (config, e->orig_name, e->account, error)
                                         : sw_config_add_account (config, e->account, error);
      if (!ok)
        return FALSE;
      g_free (e->orig_name);
      e->orig_name = g_strdup (e->account->name);
    }
  guint bits = 0;
  for (int v = 0; v < SW_VERDICT_COUNT; v++)
    if (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (self->popup_checks[v])))
      bits |= SW_CONFIG_VERDICT_BIT (v);
  sw_config_set_popup_verdicts (config, bits);
  sw_config_set_demo (config, gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (self->demo_check)));
  if (!sw_config_save (config, sw_gui_app_get_config_path (self->app), error))
    return FALSE;

  gboolean autostart = gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (self->autostart_check));
  if (autostart != sw_gui_autostart_is_enabled ())
    {
      g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
      if (!sw_gui_autostart_set (autostart, exe != NULL ? exe : "spoofwatch", error))
        return FALSE;
    }
  return TRUE;
}

static void
on_response (GtkDialog *dialog, int response, gpointer user_data)
{
  SwGuiSettingsDialog *self = SW_GUI_SETTINGS_DIALOG (dialog);
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GError) error = NULL;
      if (!apply (self, &error))
        {
          g_autofree char *text = g_strdup_printf (_ ("The settings could not be saved: %s"), error->message);
          show_error (self, text);
          return;
        }
    }
  gtk_widget_destroy (GTK_WIDGET (dialog));
}

static void
on_error_bar_response (GtkInfoBar *bar, int response, gpointer user_data)
{
  gtk_widget_hide (GTK_WIDGET (bar));
}

static void
sw_gui_settings_dialog_dispose (GObject *object)
{
  SwGuiSettingsDialog *self = SW_GUI_SETTINGS_DIALOG (object);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->accounts, g_ptr_array_unref);
  G_OBJECT_CLASS (sw_gui_settings_dialog_parent_class)->dispose (object);
}

static void
sw_gui_settings_dialog_class_init (SwGuiSettingsDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->dispose = sw_gui_settings_dialog_dispose;
  gtk_widget_class_set_template_from_resource (widget_class, SETTINGS_UI);
  gtk_widget_class_bind_template_child (widget_class, SwGuiSettingsDialog, error_bar);
  gtk_widget_class_bind_template_child (widget_class, SwGuiSettingsDialog, error_label);
  gtk_widget_class_bind_template_child (widget_class, SwGuiSettingsDialog, notebook);
  gtk_widget_class_bind_template_child (widget_class, SwGuiSettingsDialog, accounts_list);
  gtk_widget_class_bind_template_child (widget_class, SwGuiSettingsDialog, add_button);
  gtk_widget_class_bind_template_child (widget_class, SwGuiSettingsDialog, edit_button);
  gtk_widget_class_bind_template_child (widget_class, SwGuiSettingsDialog, remove_button);
  gtk_widget_class_bind_template_child (widget_class, SwGuiSettingsDialog, test_button);
  gtk_widget_class_bind_template_child (widget_class, SwGuiSettingsDialog, test_result);
  gtk_widget_class_bind_template_child (widget_class, SwGuiSettingsDialog, popup_box);
  gtk_widget_class_bind_template_child (widget_class, SwGuiSettingsDialog, autostart_check);
  gtk_widget_class_bind_template_child (widget_class, SwGuiSettingsDialog, demo_check);
}

static void
sw_gui_settings_dialog_init (SwGuiSettingsDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->accounts = g_ptr_array_new_with_free_func ((GDestroyNotify)edited_account_free);
  self->cancellable = g_cancellable_new ();
  for (int v = 0; v < SW_VERDICT_COUNT; v++)
    {
      /* TRANSLATORS: a verdict word and what it means */
      g_autofree char *label = g_strdup_printf (_ ("%s — %s"), sw_gui_verdict_word ((SwVerdict)v),
                                                sw_gui_verdict_tooltip ((SwVerdict)v));
      GtkWidget *check = gtk_check_button_new_with_label (label);
      GtkWidget *child = gtk_bin_get_child (GTK_BIN (check));
      gtk_label_set_line_wrap (GTK_LABEL (child), TRUE);
      gtk_label_set_xalign (GTK_LABEL (child), 0);
      gtk_widget_set_name (check, sw_verdict_to_string ((SwVerdict)v));
      gtk_container_add (GTK_CONTAINER (self->popup_box), check);
      gtk_widget_show (check);
      self->popup_checks[v] = check;
    }
  GtkWidget *empty = gtk_label_new (_ ("No account yet: the demo mailbox runs instead. Add your mail account "
                                       "with \"Add…\"."));
  gtk_label_set_line_wrap (GTK_LABEL (empty), TRUE);
  gtk_widget_set_margin_top (empty, 12);
  gtk_widget_set_margin_bottom (empty, 12);
  gtk_widget_show (empty);
  gtk_list_box_set_placeholder (GTK_LIST_BOX (self->accounts_list), empty);
  g_signal_connect (self->add_button, "clicked", G_CALLBACK (on_add), self);
  g_signal_connect (self->edit_button, "clicked", G_CALLBACK (on_edit), self);
  g_signal_connect (self->remove_button, "clicked", G_CALLBACK (on_remove), self);
  g_signal_connect (self->test_button, "clicked", G_CALLBACK (on_test), self);
  g_signal_connect (self->accounts_list, "row-selected", G_CALLBACK (on_selected), self);
  g_signal_connect (self->accounts_list, "row-activated", G_CALLBACK (on_row_activated), self);
  g_signal_connect (self->error_bar, "response", G_CALLBACK (on_error_bar_response), NULL);
  g_signal_connect (self, "response", G_CALLBACK (on_response), NULL);
}

GtkWidget *
sw_gui_settings_dialog_new (SwGuiApp *app, GtkWindow *parent)
{
  g_return_val_if_fail (SW_IS_GUI_APP (app), NULL);
  gboolean header_bar = FALSE;
  SwGuiSettingsDialog *self = g_object_new (SW_TYPE_GUI_SETTINGS_DIALOG, "use-header-bar", header_bar, NULL);
  self->app = app;
  if (parent != NULL)
    gtk_window_set_transient_for (GTK_WINDOW (self), parent);
  gtk_window_set_application (GTK_WINDOW (self), GTK_APPLICATION (app));
  SwConfig *config = sw_gui_app_get_config (app);
  GPtrArray *accounts = sw_config_get_accounts (config);
  for (guint i = 0; i < accounts->len; i++)
    {
      const SwAccount *a = g_ptr_array_index (accounts, i);
      EditedAccount *e = g_new0 (EditedAccount, 1);
      e->orig_name = g_strdup (a->name);
      e->account = sw_account_copy (a);
      g_ptr_array_add (self->accounts, e);
    }
  fill_accounts (self);
  update_buttons (self);
  guint bits = sw_config_get_popup_verdicts (config);
  for (int v = 0; v < SW_VERDICT_COUNT; v++)
    gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->popup_checks[v]),
                                  (bits & SW_CONFIG_VERDICT_BIT (v)) != 0);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->autostart_check), sw_gui_autostart_is_enabled ());
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->demo_check), sw_config_get_demo (config));
  return GTK_WIDGET (self);
}

void
sw_gui_settings_dialog_add_account (SwGuiSettingsDialog *dialog)
{
  g_return_if_fail (SW_IS_GUI_SETTINGS_DIALOG (dialog));
  gtk_notebook_set_current_page (GTK_NOTEBOOK (dialog->notebook), 0);
  open_editor (dialog, -1);
}

static void
on_settings_destroyed (gpointer data, GObject *where_the_object_was)
{
  GApplication *app = data;
  g_object_set_data (G_OBJECT (app), "sw-settings-dialog", NULL);
}

static void
action_settings (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  SwGuiApp *app = user_data;
  GtkWidget *dialog = g_object_get_data (G_OBJECT (app), "sw-settings-dialog");
  if (dialog == NULL)
    {
      dialog = sw_gui_settings_dialog_new (app, sw_gui_app_get_window (app));
      g_object_set_data (G_OBJECT (app), "sw-settings-dialog", dialog);
      g_object_weak_ref (G_OBJECT (dialog), on_settings_destroyed, app);
    }
  gtk_window_present (GTK_WINDOW (dialog));
}

void
sw_gui_settings_install_action (SwGuiApp *app)
{
  g_return_if_fail (SW_IS_GUI_APP (app));
  g_autoptr (GSimpleAction) action = g_simple_action_new ("settings", NULL);
  g_signal_connect (action, "activate", G_CALLBACK (action_settings), app);
  g_action_map_add_action (G_ACTION_MAP (app), G_ACTION (action));
}
