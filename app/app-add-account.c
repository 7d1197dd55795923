#define G_LOG_DOMAIN "sw-app"

/* spoofwatch --add-account: writes an account to the configuration for people without
 * the GUI and prints what to type into the mail client. */

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "app-private.h"
#include "sw-config.h"

static guint16
pick_listen_port (SwConfig *config)
{
  GPtrArray *accounts = sw_config_get_accounts (config);
  for (guint port = SW_APP_FIRST_ACCOUNT_PORT; port <= SW_APP_LAST_ACCOUNT_PORT; port++)
    {
      gboolean used = FALSE;
      for (guint i = 0; i < accounts->len && !used; i++)
        used = ((const SwAccount *)g_ptr_array_index (accounts, i))->listen_port == port;
      if (!used && sw_app_port_is_free ((guint16)port))
        return (guint16)port;
    }
  return 0;
}

int
sw_app_add_account (const SwAppOptions *o)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = o->config_path ? g_strdup (o->config_path) : sw_config_default_path ();

  if (o->upstream == NULL)
    {
      g_printerr (_("spoofwatch: --add-account needs --upstream HOST:PORT (your provider's POP3 server)\n"));
      return 2;
    }
  g_autoptr (SwAccount) a = sw_account_new ();
  a->name = g_strdup (o->add_account);
  if (o->tls != NULL && !sw_tls_mode_config_from_string (o->tls, &a->tls))
    {
      g_printerr (_("spoofwatch: --tls %s: use implicit (POP3S, port 995) or starttls (STLS, port 110)\n"),
                  o->tls);
      return 2;
    }
  guint16 default_port = a->tls == SW_TLS_MODE_CONFIG_IMPLICIT ? 995 : 110;
  g_autoptr (GSocketConnectable) addr = g_network_address_parse (o->upstream, default_port, &error);
  if (addr == NULL)
    {
      g_printerr (_("spoofwatch: --upstream %s: %s (write HOST:PORT, e.g. pop.example.net:995)\n"),
                  o->upstream, error->message);
      return 2;
    }
  a->upstream_host = g_strdup (g_network_address_get_hostname (G_NETWORK_ADDRESS (addr)));
  a->upstream_port = g_network_address_get_port (G_NETWORK_ADDRESS (addr));
  a->provider_hosts = g_strdupv (o->provider_hosts);
  a->trusted_authserv_ids = g_strdupv (o->trusted_ids);
  a->trusted_hops = o->trusted_hops;

  g_autoptr (SwConfig) config = sw_config_load (path, &error);
  if (config == NULL && g_error_matches (error, SW_CONFIG_ERROR, SW_CONFIG_ERROR_NOT_FOUND))
    {
      g_clear_error (&error);
      config = sw_config_new ();
    }
  if (config == NULL)
    {
      g_printerr ("spoofwatch: %s\n", error->message);
      return 1;
    }
  if (o->listen_port >= 0)
    {
      if (o->listen_port > G_MAXUINT16)
        {
          g_printerr (_("spoofwatch: --listen-port %d: use a port from 1024 to 65535\n"), o->listen_port);
          return 2;
        }
      a->listen_port = (guint16)o->listen_port;
    }
  else if ((a->listen_port = pick_listen_port (config)) == 0)
    {
      g_printerr (_("spoofwatch: no free port from %u to %u: give one with --listen-port\n"),
                  SW_APP_FIRST_ACCOUNT_PORT, SW_APP_LAST_ACCOUNT_PORT);
      return 1;
    }
  if (!sw_config_add_account (config, a, &error))
    {
      g_printerr ("spoofwatch: %s\n", error->message);
      return 1;
    }
  if (!sw_config_save (config, path, &error))
    {
      g_printerr (_("spoofwatch: cannot write %s: %s\n"), path, error->message);
      return 1;
    }

  g_print (_("Account \"%s\" added to %s.\n\n"), a->name, path);
  /* TRANSLATORS: the local port, the real server and port, then "TLS", "STLS (STARTTLS)" or
   * "no encryption (loopback)". */
  g_print (_("In your mail client, change the incoming (POP3) server of this account to:\n"
             "  server          127.0.0.1\n"
             "  port            %u\n"
             "  security        none (the connection stays on this computer;\n"
             "                  Spoofwatch talks to %s:%u with %s)\n"
             "  user, password  unchanged (they pass through Spoofwatch, which never stores them)\n\n"),
           a->listen_port, a->upstream_host, a->upstream_port,
           a->tls == SW_TLS_MODE_CONFIG_IMPLICIT   ? "TLS"
           : a->tls == SW_TLS_MODE_CONFIG_STARTTLS ? "STLS (STARTTLS)"
                                                   : _("no encryption (loopback)"));
  g_print (_("Then start (or restart) Spoofwatch: spoofwatch --headless\n"));
  return 0;
}
