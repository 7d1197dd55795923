#define G_LOG_DOMAIN "sw-app"

/* spoofwatch: the Spoofwatch program. The POP3 proxies of the configured accounts (or the
 * demo mailbox) run in their own threads; without --headless the GTK application (window,
 * tray, pop-ups) runs in the main thread of the same process. --add-account edits the
 * configuration. */

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>

#include "app-private.h"
#ifdef SW_HAVE_GUI
#include "sw-gui-app.h"
#endif

/* The translations: from the build tree when this program runs from it, else installed. */
static void
i18n_init (void)
{
  const char *dir = SW_LOCALEDIR;
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  if (exe != NULL && g_str_has_prefix (exe, SW_BUILD_DIR "/"))
    dir = SW_BUILD_DIR "/locale";
  bindtextdomain (GETTEXT_PACKAGE, dir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}

#ifdef SW_HAVE_GUI
static void
gui_on_verdict (gint64 record_id, gpointer user_data)
{
  sw_gui_app_notify_verdict (user_data, record_id); /* from a proxy thread */
}

static void
gui_on_paused (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  sw_app_daemon_set_paused (user_data, sw_gui_app_get_paused (SW_GUI_APP (object)));
}

static gboolean
gui_on_signal (gpointer user_data)
{
  g_application_quit (user_data);
  return G_SOURCE_CONTINUE;
}

/* The proxies, then the window application until Quit or a signal; the proxies stop
 * (threads joined) before the application is freed. */
static int
run_gui (const SwAppOptions *o)
{
  if (!gtk_init_check (NULL, NULL))
    {
      g_printerr (_("spoofwatch: cannot open the display (%s): run spoofwatch --headless to protect your mail "
                    "without a window\n"),
                  g_getenv ("DISPLAY") ? g_getenv ("DISPLAY") : _("DISPLAY is not set"));
      return 1;
    }
  SwAppDaemon *d = sw_app_daemon_open (o);
  if (d == NULL)
    return 1;
  SwGuiApp *app = sw_gui_app_new (sw_app_daemon_get_store (d), sw_app_daemon_get_config (d),
                                  sw_app_daemon_get_config_path (d));
  sw_gui_app_set_show_window_on_start (app, !o->hidden);
  g_autoptr (GError) error = NULL;
  int status = 1;
  if (!g_application_register (G_APPLICATION (app), NULL, &error))
    g_printerr ("spoofwatch: %s\n", error->message);
  else if (g_application_get_is_remote (G_APPLICATION (app)))
    {
      /* Another spoofwatch runs the proxies already: show its window. */
      g_print (_("Spoofwatch is already running: showing its window.\n"));
      g_application_activate (G_APPLICATION (app));
      status = 0;
    }
  else if (sw_app_daemon_start (d, gui_on_verdict, app))
    {
      sw_gui_app_set_demo_port (app, sw_app_daemon_get_demo_port (d));
      g_signal_connect (app, "notify::paused", G_CALLBACK (gui_on_paused), d);
      guint sigint = g_unix_signal_add (SIGINT, gui_on_signal, app);
      guint sigterm = g_unix_signal_add (SIGTERM, gui_on_signal, app);
      sw_app_daemon_print_screen (d, _("with window"));
      status = g_application_run (G_APPLICATION (app), 0, NULL);
      g_source_remove (sigint);
      g_source_remove (sigterm);
      g_print (_("Stopping.\n"));
      fflush (stdout);
    }
  g_signal_handlers_disconnect_by_func (app, gui_on_paused, d);
  sw_app_daemon_free (d); /* joins the proxy threads: no gui_on_verdict after this */
  g_object_unref (app);
  return status;
}
#endif

static void
options_clear (SwAppOptions *o)
{
  g_free (o->config_path);
  g_free (o->store_path);
  g_free (o->dns_forward);
  g_free (o->samples_dir);
  g_free (o->add_account);
  g_free (o->upstream);
  g_free (o->tls);
  g_strfreev (o->provider_hosts);
  g_strfreev (o->trusted_ids);
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  i18n_init ();
  SwAppOptions o = { .demo_port = -1, .listen_port = -1 };
  gboolean version = FALSE;
  const GOptionEntry entries[] = {
    { "headless", 0, 0, G_OPTION_ARG_NONE, &o.headless, N_("Run without any window"), NULL },
    { "hidden", 0, 0, G_OPTION_ARG_NONE, &o.hidden, N_("Start with the tray icon only (no window)"), NULL },
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &o.config_path,
      N_("Configuration file (default: $XDG_CONFIG_HOME/spoofwatch/spoofwatch.conf)"), N_("FILE") },
    { "store", 0, 0, G_OPTION_ARG_FILENAME, &o.store_path,
      N_("Verdict store (default: $XDG_DATA_HOME/spoofwatch/verdicts.sqlite)"), N_("FILE") },
    { "dns-forward", 0, 0, G_OPTION_ARG_STRING, &o.dns_forward,
      N_("Send DNS queries to this server instead of the system's resolvers"), N_("IP[:PORT]") },
    { "demo-port", 0, 0, G_OPTION_ARG_INT, &o.demo_port,
      N_("Port of the demo account (default 11110; 0: any free)"), N_("N") },
    { "no-demo", 0, 0, G_OPTION_ARG_NONE, &o.no_demo, N_("Never start the demo account"), NULL },
    { "samples-dir", 0, 0, G_OPTION_ARG_FILENAME, &o.samples_dir, N_("Folder of the demo mailbox"),
      N_("DIR") },
    { "add-account", 0, 0, G_OPTION_ARG_STRING, &o.add_account,
      N_("Add a POP3 account to the configuration and exit"), N_("NAME") },
    { "upstream", 0, 0, G_OPTION_ARG_STRING, &o.upstream, N_("With --add-account: the real POP3 server"),
      N_("HOST:PORT") },
    { "tls", 0, 0, G_OPTION_ARG_STRING, &o.tls, N_("With --add-account: implicit (default) or starttls"),
      N_("MODE") },
    { "listen-port", 0, 0, G_OPTION_ARG_INT, &o.listen_port,
      N_("With --add-account: local port for the mail client (default: the first free from 11111)"),
      N_("N") },
    { "provider-host", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.provider_hosts,
      N_("With --add-account: a host pattern of your provider (e.g. *.mail.example.net), repeatable"),
      N_("PATTERN") },
    { "trusted-hops", 0, 0, G_OPTION_ARG_INT, &o.trusted_hops,
      N_("With --add-account: the provider's boundary Received is at this position (1 = topmost)"), N_("N") },
    { "trust-authserv-id", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.trusted_ids,
      N_("With --add-account: record this provider's Authentication-Results, repeatable"), N_("ID") },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Print the version and exit"), NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx
      = g_option_context_new (_("- verify SPF, DKIM and DMARC of the mail you download"));
  g_option_context_add_main_entries (ctx, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (ctx, GETTEXT_PACKAGE);
  g_option_context_set_description (
      ctx, _("Without an account, spoofwatch starts the demo mailbox on 127.0.0.1:11110 (user demo, password "
           "demo).\n"
           "Add an account:  spoofwatch --add-account work --upstream pop.example.net:995 --tls implicit\n"
           "Configuration:   docs/config.md\n"));
  g_autoptr (GError) error = NULL;
  int status;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr (_("spoofwatch: %s (see spoofwatch --help)\n"), error->message);
      status = 2;
    }
  else if (argc > 1)
    {
      g_printerr (_("spoofwatch: unexpected argument \"%s\" (see spoofwatch --help)\n"), argv[1]);
      status = 2;
    }
  else if (version)
    {
      g_print ("spoofwatch %s\n", SW_VERSION);
      status = 0;
    }
  else if (o.add_account != NULL)
    status = sw_app_add_account (&o);
  else if (o.upstream || o.tls || o.listen_port >= 0 || o.provider_hosts || o.trusted_ids || o.trusted_hops)
    {
      g_printerr (_("spoofwatch: --upstream, --tls, --listen-port, --provider-host, --trusted-hops and "
                    "--trust-authserv-id go with --add-account NAME\n"));
      status = 2;
    }
  else if (o.demo_port < -1 || o.demo_port > G_MAXUINT16)
    {
      g_printerr (_("spoofwatch: --demo-port %d: use 0 to 65535\n"), o.demo_port);
      status = 2;
    }
  else if (o.headless)
    status = sw_app_run_headless (&o);
  else
    {
#ifdef SW_HAVE_GUI
      status = run_gui (&o);
#else
      g_printerr (
          _("spoofwatch: this build has no window (GTK 3 was missing); running headless (--headless)\n"));
      status = sw_app_run_headless (&o);
#endif
    }
  options_clear (&o);
  return status;
}
