#define G_LOG_DOMAIN "sw-proxy-driver"
/* pop3-proxy-driver: starts one SwPop3Proxy from command-line options, prints
 * "PORT <n>" on stdout and runs until SIGTERM/SIGINT or until stdin closes. For the
 * integration tests only (the real program is app/spoofwatch). */
#include "pop3-proxy.h"
#include "sw-resolver.h"
#include <glib-unix.h>
#include <stdio.h>

static gboolean
quit_loop (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static gboolean
stdin_closed (gint fd, GIOCondition cond, gpointer loop)
{
  char buf[64];
  if (read (fd, buf, sizeof buf) > 0)
    return G_SOURCE_CONTINUE;
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  g_autofree char *account = NULL, *host = NULL, *tls = NULL, *ca = NULL, *zone = NULL, *authserv_id = NULL;
  g_autofree char *store_path = NULL, *spool = NULL, *dns_server = NULL;
  int upstream_port = 0, port = 0, memory_limit = 0, dns_timeout = 0, read_ahead = SW_POP3_DEFAULT_READ_AHEAD;
  gboolean watch_stdin = FALSE;
  GOptionEntry entries[] = {
    { "account", 0, 0, G_OPTION_ARG_STRING, &account, "account name", "NAME" },
    { "upstream-host", 0, 0, G_OPTION_ARG_STRING, &host, "upstream host", "HOST" },
    { "upstream-port", 0, 0, G_OPTION_ARG_INT, &upstream_port, "upstream port", "PORT" },
    { "tls", 0, 0, G_OPTION_ARG_STRING, &tls, "implicit, starttls or none", "MODE" },
    { "ca", 0, 0, G_OPTION_ARG_FILENAME, &ca, "trust only this CA file (default: the system's CAs)", "PEM" },
    { "zone", 0, 0, G_OPTION_ARG_FILENAME, &zone, "answer DNS from this zone file", "FILE" },
    { "dns-server", 0, 0, G_OPTION_ARG_STRING, &dns_server, "or: libunbound forwarding to this server", "IP:PORT" },
    { "dns-timeout", 0, 0, G_OPTION_ARG_INT, &dns_timeout, "timeout of one DNS query with --dns-server", "MS" },
    { "authserv-id", 0, 0, G_OPTION_ARG_STRING, &authserv_id, "our authserv-id", "ID" },
    { "store", 0, 0, G_OPTION_ARG_FILENAME, &store_path, "verdict store", "FILE" },
    { "spool-dir", 0, 0, G_OPTION_ARG_FILENAME, &spool, "spool folder", "DIR" },
    { "memory-limit", 0, 0, G_OPTION_ARG_INT, &memory_limit, "bytes in memory per message", "N" },
    { "port", 0, 0, G_OPTION_ARG_INT, &port, "listen port (0: any)", "PORT" },
    { "read-ahead", 0, 0, G_OPTION_ARG_INT, &read_ahead, "messages read ahead (0: off; default 32)", "N" },
    { "watch-stdin", 0, 0, G_OPTION_ARG_NONE, &watch_stdin, "quit when stdin closes", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) oc = g_option_context_new ("- run one POP3 proxy (tests)");
  g_option_context_add_main_entries (oc, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (oc, &argc, &argv, &error) || host == NULL || (zone == NULL) == (dns_server == NULL) || upstream_port <= 0
      || upstream_port > 65535 || port < 0 || port > 65535 || memory_limit < 0
      || read_ahead < 0 || read_ahead > SW_POP3_MAX_READ_AHEAD)
    {
      g_printerr ("pop3-proxy-driver: %s\n",
                  error ? error->message : "--upstream-host, --upstream-port and one of --zone or --dns-server are required");
      return 2;
    }
  SwTlsMode mode = SW_TLS_IMPLICIT;
  if (tls == NULL || g_str_equal (tls, "implicit"))
    mode = SW_TLS_IMPLICIT;
  else if (g_str_equal (tls, "starttls"))
    mode = SW_TLS_STARTTLS;
  else if (g_str_equal (tls, "none"))
    mode = SW_TLS_NONE;
  else
    {
      g_printerr ("pop3-proxy-driver: unknown --tls %s\n", tls);
      return 2;
    }

  SwResolverOptions dns_options = { .forward = dns_server, .timeout_ms = (guint) MAX (dns_timeout, 0) };
  g_autoptr (SwResolver) resolver = zone ? sw_resolver_new_zone_file (zone, &error)
                                         : sw_resolver_new_unbound (&dns_options, &error);
  if (resolver == NULL)
    {
      g_printerr ("pop3-proxy-driver: %s\n", error->message);
      return 1;
    }
  SwVerifierConfig vc = { .resolver = resolver, .authserv_id = authserv_id };
  g_autoptr (SwVerifier) verifier = sw_verifier_new (&vc, &error);
  if (verifier == NULL)
    {
      g_printerr ("pop3-proxy-driver: %s\n", error->message);
      return 1;
    }
  g_autoptr (GTlsDatabase) db = NULL;
  if (ca != NULL)
    {
      db = g_tls_file_database_new (ca, &error);
      if (db == NULL)
        {
          g_printerr ("pop3-proxy-driver: %s\n", error->message);
          return 1;
        }
    }
  g_autoptr (SwStore) store = NULL;
  if (store_path != NULL)
    {
      store = sw_store_open (store_path, &error);
      if (store == NULL)
        {
          g_printerr ("pop3-proxy-driver: %s\n", error->message);
          return 1;
        }
    }
  SwPop3ProxyConfig cfg = {
    .account = account ? account : "test",
    .upstream_host = host,
    .upstream_port = (guint16)upstream_port,
    .tls_mode = mode,
    .tls_database = db,
    .verifier = verifier,
    .store = store,
    .spool_dir = spool,
    .memory_limit = (gsize)memory_limit,
    .read_ahead = read_ahead,
  };
  g_autoptr (SwPop3Proxy) proxy = sw_pop3_proxy_new (&cfg, &error);
  guint16 bound = 0;
  if (proxy == NULL || !sw_pop3_proxy_start (proxy, (guint16)port, &bound, &error))
    {
      g_printerr ("pop3-proxy-driver: %s\n", error->message);
      return 1;
    }
  printf ("PORT %u\n", bound);
  fflush (stdout);

  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, quit_loop, loop);
  g_unix_signal_add (SIGINT, quit_loop, loop);
  if (watch_stdin)
    g_unix_fd_add (0, G_IO_IN | G_IO_HUP | G_IO_ERR, stdin_closed, loop);
  g_main_loop_run (loop);
  sw_pop3_proxy_stop (proxy);
  g_printerr ("pop3-proxy-driver: %" G_GUINT64_FORMAT " DNS queries answered\n",
              sw_resolver_get_query_count (resolver));
  return 0;
}
