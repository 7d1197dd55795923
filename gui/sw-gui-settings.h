/* sw-gui-settings.h: the settings dialog and the "Test connection" check behind it.
 *
 * The dialog edits a copy of the application's SwConfig: accounts (add, edit, remove,
 * each validated with sw_account_validate(); the editor shows the local host and port to
 * type into the mail client and has a "Test connection" button), the verdicts that pop
 * up ([general] popup-verdicts), start at login (XDG autostart, sw-gui-autostart.h) and
 * the demo mailbox. "Save" copies the changes into the application's configuration and
 * writes it with sw_config_save(); errors are shown in the dialog. Account changes take
 * effect at the next start (the proxies run with the accounts they started with).
 *
 * GTK functions: main thread only. */
#pragma once
#include "sw-gui-app.h"
G_BEGIN_DECLS

/* ---- The dialog ---- */

#define SW_TYPE_GUI_SETTINGS_DIALOG (sw_gui_settings_dialog_get_type ())
G_DECLARE_FINAL_TYPE (SwGuiSettingsDialog, sw_gui_settings_dialog, SW, GUI_SETTINGS_DIALOG, GtkDialog)

/* A new settings dialog for @app (borrowed), transient for @parent (may be NULL). Not
 * shown yet; it destroys itself when closed. Transfer: floating (a toplevel: GTK owns it). */
GtkWidget *sw_gui_settings_dialog_new (SwGuiApp *app, GtkWindow *parent);

/* Adds (or replaces) the application's "settings" action: it presents the settings
 * dialog, one at a time, transient for the main window when there is one. Call in the
 * application's startup. */
void sw_gui_settings_install_action (SwGuiApp *app);

/* Opens the account editor for a new account at once (the first-run screen's "Add my
 * mail account"). */
void sw_gui_settings_dialog_add_account (SwGuiSettingsDialog *dialog);

/* ---- Test connection ---- */

/* What a connection test found. Plain data, every string owned (NULL when unknown). */
typedef struct
{
  gboolean ok;        /* connected, TLS verified (when used) and a +OK greeting read */
  char *address;      /* "host:port" tried */
  char *greeting;     /* the server's first line, sanitised, without CRLF */
  char *tls;          /* "TLS 1.3" etc., NULL without TLS */
  char *cert_subject; /* the server certificate's subject DN */
  char *cert_issuer;  /* its issuer DN */
  char *error;        /* what failed, naming the cause (translated); NULL when ok */
} SwGuiConnectionReport;

void sw_gui_connection_report_free (SwGuiConnectionReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwGuiConnectionReport, sw_gui_connection_report_free)

/* A few lines for a person (translated): address, greeting, certificate, error. Transfer
 * full. Thread-safe. */
char *sw_gui_connection_report_format (const SwGuiConnectionReport *report);

#define SW_GUI_TEST_CONNECTION_TIMEOUT_S 10u /* connect, handshake and each read */

/* Connects to @account's upstream the way its proxy would (implicit TLS, STLS after the
 * greeting, or plain to a loopback host), verifying the certificate and host name against
 * @database (NULL: the system's CAs), reads the greeting (at most SW_POP3_MAX_LINE bytes)
 * and says QUIT. Runs in a worker thread (GTask); @callback runs in the caller's
 * thread-default context. @account is copied. The finish function returns the report
 * (transfer full) — also when the test failed (report->ok FALSE, report->error set); NULL
 * with @error only when cancelled. Thread-safe. */
void sw_gui_test_connection_async (const SwAccount *account, GTlsDatabase *database,
                                   GCancellable *cancellable, GAsyncReadyCallback callback,
                                   gpointer user_data);
SwGuiConnectionReport *sw_gui_test_connection_finish (GAsyncResult *result, GError **error);

G_END_DECLS
