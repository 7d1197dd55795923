#define G_LOG_DOMAIN "sw-app"

/* spoofwatch: the Spoofwatch program. Today headless: the POP3 proxies of the configured
 * accounts (or the demo mailbox), and --add-account; the GTK tray joins this process in
 * a later version. */

#include <locale.h>
#include <stdio.h>

#include "app-private.h"

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
  SwAppOptions o = { .demo_port = -1, .listen_port = -1 };
  gboolean version = FALSE;
  const GOptionEntry entries[] = {
    { "headless", 0, 0, G_OPTION_ARG_NONE, &o.headless, "Run without any window", NULL },
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &o.config_path,
      "Configuration file (default: $XDG_CONFIG_HOME/spoofwatch/spoofwatch.conf)", "FILE" },
    { "store", 0, 0, G_OPTION_ARG_FILENAME, &o.store_path,
      "Verdict store (default: $XDG_DATA_HOME/spoofwatch/verdicts.sqlite)", "FILE" },
    { "dns-forward", 0, 0, G_OPTION_ARG_STRING, &o.dns_forward,
      "Send DNS queries to this server instead of the system's resolvers", "IP[:PORT]" },
    { "demo-port", 0, 0, G_OPTION_ARG_INT, &o.demo_port,
      "Port of the demo account (default 11110; 0: any free)", "N" },
    { "no-demo", 0, 0, G_OPTION_ARG_NONE, &o.no_demo, "Never start the demo account", NULL },
    { "samples-dir", 0, 0, G_OPTION_ARG_FILENAME, &o.samples_dir, "Folder of the demo mailbox", "DIR" },
    { "add-account", 0, 0, G_OPTION_ARG_STRING, &o.add_account,
      "Add a POP3 account to the configuration and exit", "NAME" },
    { "upstream", 0, 0, G_OPTION_ARG_STRING, &o.upstream, "With --add-account: the real POP3 server",
      "HOST:PORT" },
    { "tls", 0, 0, G_OPTION_ARG_STRING, &o.tls, "With --add-account: implicit (default) or starttls",
      "MODE" },
    { "listen-port", 0, 0, G_OPTION_ARG_INT, &o.listen_port,
      "With --add-account: local port for the mail client (default: the first free from 11111)", "N" },
    { "provider-host", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.provider_hosts,
      "With --add-account: a host pattern of your provider (e.g. *.mail.example.net), repeatable",
      "PATTERN" },
    { "trusted-hops", 0, 0, G_OPTION_ARG_INT, &o.trusted_hops,
      "With --add-account: the provider's boundary Received is at this position (1 = topmost)", "N" },
    { "trust-authserv-id", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.trusted_ids,
      "With --add-account: record this provider's Authentication-Results, repeatable", "ID" },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx
      = g_option_context_new ("- verify SPF, DKIM and DMARC of the mail you download");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (
      ctx, "Without an account, spoofwatch starts the demo mailbox on 127.0.0.1:11110 (user demo, password "
           "demo).\n"
           "Add an account:  spoofwatch --add-account work --upstream pop.example.net:995 --tls implicit\n"
           "Configuration:   docs/config.md\n");
  g_autoptr (GError) error = NULL;
  int status;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("spoofwatch: %s (see spoofwatch --help)\n", error->message);
      status = 2;
    }
  else if (argc > 1)
    {
      g_printerr ("spoofwatch: unexpected argument \"%s\" (see spoofwatch --help)\n", argv[1]);
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
      g_printerr ("spoofwatch: --upstream, --tls, --listen-port, --provider-host, --trusted-hops and "
                  "--trust-authserv-id go with --add-account NAME\n");
      status = 2;
    }
  else if (o.demo_port < -1 || o.demo_port > G_MAXUINT16)
    {
      g_printerr ("spoofwatch: --demo-port %d: use 0 to 65535\n", o.demo_port);
      status = 2;
    }
  else
    {
      if (!o.headless)
        g_printerr ("spoofwatch: this version has no window yet; running headless (--headless)\n");
      status = sw_app_run_headless (&o);
    }
  options_clear (&o);
  return status;
}
