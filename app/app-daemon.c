#define G_LOG_DOMAIN "sw-app"

/* The daemon: one SwPop3Proxy per account (or the demo account), one shared SwStore, one
 * libunbound resolver shared by the accounts' verifiers (each account has its own envelope
 * hints, hence its own verifier). sw_app_run_headless() runs it until a signal; the GUI
 * path (main.c) opens it, starts the proxies with the window's verdict callback, and
 * stops it when the window application ends. */

#include <errno.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <stdio.h>

#include "app-private.h"
#include "demo-pop3-server.h"
#include "pop3-proxy.h"
#include "sw-config.h"
#include "sw-store.h"
#include "sw-verifier.h"

/* One running account. */
typedef struct
{
  char *name;
  char *upstream; /* "host:port" for the screen */
  char *tls;
  char *trusts; /* what the verifier trusts, for the screen */
  guint16 port;
  SwVerifier *verifier;
  SwPop3Proxy *proxy;
} RunningAccount;

static void
running_account_free (RunningAccount *r)
{
  /* The proxy first: its sessions use the verifier. */
  g_clear_pointer (&r->proxy, sw_pop3_proxy_free);
  g_clear_pointer (&r->verifier, sw_verifier_free);
  g_free (r->name);
  g_free (r->upstream);
  g_free (r->tls);
  g_free (r->trusts);
  g_free (r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RunningAccount, running_account_free)

struct _SwAppDaemon
{
  const SwAppOptions *options;
  char *config_path;
  char *store_path;
  SwConfig *config;
  SwStore *store;
  SwResolver *resolver;      /* libunbound, for real accounts */
  SwResolver *demo_resolver; /* samples.zone */
  SwDemoPop3Server *demo_server;
  char *samples_dir;
  guint16 demo_upstream_port;
  gboolean demo_port_fallback;
  GPtrArray *running; /* RunningAccount* */
  GMainLoop *loop;
  SwAppVerdictFunc on_verdict;
  gpointer on_verdict_data;
};
typedef struct _SwAppDaemon Daemon;

static void
daemon_clear (SwAppDaemon *d)
{
  /* Order: proxies (joined), then what they use. */
  g_clear_pointer (&d->running, g_ptr_array_unref);
  g_clear_pointer (&d->demo_server, sw_demo_pop3_server_free);
  g_clear_pointer (&d->store, sw_store_close);
  g_clear_pointer (&d->resolver, sw_resolver_unref);
  g_clear_pointer (&d->demo_resolver, sw_resolver_unref);
  g_clear_pointer (&d->config, sw_config_free);
  g_clear_pointer (&d->loop, g_main_loop_unref);
  g_free (d->config_path);
  g_free (d->store_path);
  g_free (d->samples_dir);
}

static SwTlsMode
tls_mode_from_config (SwTlsModeConfig mode)
{
  switch (mode)
    {
    case SW_TLS_MODE_CONFIG_IMPLICIT:
      return SW_TLS_IMPLICIT;
    case SW_TLS_MODE_CONFIG_STARTTLS:
      return SW_TLS_STARTTLS;
    case SW_TLS_MODE_CONFIG_NONE:
      return SW_TLS_NONE;
    case SW_TLS_MODE_CONFIG_COUNT:
      break;
    }
  g_assert_not_reached ();
}

static char *
describe_trust (const SwAccount *a)
{
  GString *s = g_string_new (NULL);
  if (a->trusted_hops > 0)
    g_string_append_printf (s, _("boundary at Received #%d"), a->trusted_hops);
  else if (a->provider_hosts != NULL)
    {
      g_autofree char *hosts = g_strjoinv (", ", a->provider_hosts);
      g_string_append_printf (s, _("provider hosts %s"), hosts);
    }
  else
    g_string_append (s, _("provider hosts learnt from Received (automatic)"));
  if (a->trusted_authserv_ids != NULL)
    {
      g_autofree char *ids = g_strjoinv (", ", a->trusted_authserv_ids);
      g_string_append_printf (s, _("; Authentication-Results of %s recorded"), ids);
    }
  return g_string_free (s, FALSE);
}

/* Starts the proxy of @a (with @resolver) on @port; @fallback_to_free: if @port is busy,
 * take a free one. */
static RunningAccount *
start_account (Daemon *d, const SwAccount *a, SwResolver *resolver, guint16 port, gboolean fallback_to_free,
               GError **error)
{
  g_autoptr (RunningAccount) r = g_new0 (RunningAccount, 1);
  r->name = g_strdup (a->name);
  r->upstream = g_strdup_printf (strchr (a->upstream_host, ':') ? "[%s]:%u" : "%s:%u", a->upstream_host,
                                 a->upstream_port);
  r->tls = g_strdup (sw_tls_mode_config_to_string (a->tls));
  r->trusts = describe_trust (a);

  SwVerifierConfig vc = {
    .resolver = resolver,
    .dmarc_mode = SW_DMARC_MODE_RFC9989,
    .authserv_id = sw_config_get_authserv_id (d->config),
    .hints = { .provider_hosts = (const char *const *)a->provider_hosts,
               .trusted_hops = a->trusted_hops,
               .upstream_host = a->upstream_host },
    .trusted_authserv_ids = (const char *const *)a->trusted_authserv_ids,
  };
  r->verifier = sw_verifier_new (&vc, error);
  if (r->verifier == NULL)
    return NULL;

  SwPop3ProxyConfig pc = {
    .account = a->name,
    .upstream_host = a->upstream_host,
    .upstream_port = a->upstream_port,
    .tls_mode = tls_mode_from_config (a->tls),
    .read_ahead = a->read_ahead,
    .verifier = r->verifier,
    .store = d->store,
    .on_verdict = d->on_verdict,
    .on_verdict_data = d->on_verdict_data,
  };
  r->proxy = sw_pop3_proxy_new (&pc, error);
  if (r->proxy == NULL)
    return NULL;
  g_autoptr (GError) local = NULL;
  if (!sw_pop3_proxy_start (r->proxy, port, &r->port, &local))
    {
      if (!fallback_to_free || !g_error_matches (local, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
        {
          g_set_error (error, local->domain, local->code, _("account \"%s\": cannot listen on port %u: %s"),
                       a->name, port, local->message);
          return NULL;
        }
      g_clear_error (&local);
      if (!sw_pop3_proxy_start (r->proxy, 0, &r->port, error))
        return NULL;
      d->demo_port_fallback = TRUE;
    }
  return g_steal_pointer (&r);
}

static gboolean
start_demo (Daemon *d, GError **error)
{
  d->samples_dir = sw_app_find_samples_dir (d->options->samples_dir, error);
  if (d->samples_dir == NULL)
    return FALSE;
  g_autofree char *zone = g_build_filename (d->samples_dir, "samples.zone", NULL);
  d->demo_resolver = sw_resolver_new_zone_file (zone, error);
  if (d->demo_resolver == NULL)
    return FALSE;
  d->demo_server = sw_demo_pop3_server_new (d->samples_dir, error);
  if (d->demo_server == NULL || !sw_demo_pop3_server_start (d->demo_server, 0, &d->demo_upstream_port, error))
    return FALSE;

  /* A normal proxy account in front of the loopback demo server. */
  g_autoptr (SwAccount) a = sw_account_new ();
  a->name = g_strdup ("demo");
  a->upstream_host = g_strdup ("127.0.0.1");
  a->upstream_port = d->demo_upstream_port;
  a->tls = SW_TLS_MODE_CONFIG_NONE;
  gboolean fixed = d->options->demo_port >= 0;
  guint16 port = fixed ? (guint16)d->options->demo_port : SW_APP_DEMO_PORT;
  RunningAccount *r = start_account (d, a, d->demo_resolver, port, !fixed, error);
  if (r == NULL)
    return FALSE;
  g_free (r->trusts);
  r->trusts = g_strdup_printf (_("DNS answers from %s (the samples' own zone, offline)"), zone);
  g_ptr_array_add (d->running, r);
  return TRUE;
}

static gboolean
start_accounts (Daemon *d, GError **error)
{
  GPtrArray *accounts = sw_config_get_accounts (d->config);
  if (accounts->len == 0)
    return TRUE;
  SwResolverOptions ro = { .forward = d->options->dns_forward };
  d->resolver = sw_resolver_new_unbound (&ro, error);
  if (d->resolver == NULL)
    return FALSE;
  for (guint i = 0; i < accounts->len; i++)
    {
      const SwAccount *a = g_ptr_array_index (accounts, i);
      RunningAccount *r = start_account (d, a, d->resolver, a->listen_port, FALSE, error);
      if (r == NULL)
        return FALSE;
      g_ptr_array_add (d->running, r);
    }
  return TRUE;
}

/* What it listens on and what it trusts, on one screen. */
void
sw_app_daemon_print_screen (SwAppDaemon *d, const char *mode)
{
  g_print ("spoofwatch %s, %s\n", SW_VERSION, mode);
  /* TRANSLATORS: the start-up screen: keep the values of these lines aligned with each other. */
  g_print (_("  config       %s\n"), d->config_path);
  g_print (_("  verdicts     %s\n"), d->store_path);
  g_print (_("  authserv-id  %s (our Authentication-Results; any claiming it are removed)\n"),
           sw_config_get_authserv_id (d->config));
  if (d->resolver != NULL && d->options->dns_forward != NULL)
    g_print (_("  DNS          libunbound, forwarding to %s\n"), d->options->dns_forward);
  else if (d->resolver != NULL)
    g_print (_("  DNS          libunbound, system resolvers\n"));
  g_print (_("  accounts (POP3, listening on loopback only):\n"));
  for (guint i = 0; i < d->running->len; i++)
    {
      const RunningAccount *r = g_ptr_array_index (d->running, i);
      /* TRANSLATORS: an account's name, its two loopback ports, the real server, the TLS mode. */
      g_print (_("    %-12s 127.0.0.1:%u and [::1]:%u -> %s (tls %s)\n"), r->name, r->port, r->port,
               r->upstream, r->tls);
      g_print (_("    %-12s trusts: %s\n"), "", r->trusts);
    }
  if (d->demo_server != NULL)
    {
      const RunningAccount *r = g_ptr_array_index (d->running, 0);
      g_print (_("  Demo mailbox (no account configured; add one with spoofwatch --add-account):\n"
                 "    %u sample messages from %s.\n"
                 "    Point a mail client at POP3 server 127.0.0.1, port %u, no encryption,\n"
                 "    user demo, password demo. Or: curl pop3://demo:demo@127.0.0.1:%u/1\n"),
               sw_demo_pop3_server_get_n_messages (d->demo_server), d->samples_dir, r->port, r->port);
      if (d->demo_port_fallback)
        g_print (_("    (port %u was busy: this run uses %u)\n"), SW_APP_DEMO_PORT, r->port);
    }
  g_print ("%s", d->loop != NULL ? _("Ready. Stop with Ctrl-C.\n")
                                 : _("Ready. Stop with Quit in the window or the tray, or Ctrl-C.\n"));
  fflush (stdout);
}

static gboolean
on_signal (gpointer user_data)
{
  Daemon *d = user_data;
  g_main_loop_quit (d->loop);
  return G_SOURCE_CONTINUE;
}

SwAppDaemon *
sw_app_daemon_open (const SwAppOptions *options)
{
  g_autoptr (SwAppDaemon) d = g_new0 (SwAppDaemon, 1);
  d->options = options;
  d->running = g_ptr_array_new_with_free_func ((GDestroyNotify)running_account_free);
  d->config_path = options->config_path ? g_strdup (options->config_path) : sw_config_default_path ();
  d->store_path = options->store_path ? g_strdup (options->store_path) : sw_store_default_path ();
  g_autoptr (GError) error = NULL;

  d->config = sw_config_load (d->config_path, &error);
  if (d->config == NULL && g_error_matches (error, SW_CONFIG_ERROR, SW_CONFIG_ERROR_NOT_FOUND))
    {
      g_clear_error (&error);
      d->config = sw_config_new ();
    }
  if (d->config == NULL)
    {
      g_printerr ("spoofwatch: %s\n", error->message);
      return NULL;
    }
  /* The authserv-id must stay the same from run to run: keep a new one at once. */
  if (sw_config_is_modified (d->config) && !sw_config_save (d->config, d->config_path, &error))
    {
      g_printerr (_("spoofwatch: cannot write %s: %s\n"), d->config_path, error->message);
      return NULL;
    }

  d->store = sw_store_open (d->store_path, &error);
  if (d->store == NULL)
    {
      g_printerr (_("spoofwatch: verdict store %s: %s\n"), d->store_path, error->message);
      return NULL;
    }
  return g_steal_pointer (&d);
}

gboolean
sw_app_daemon_start (SwAppDaemon *d, SwAppVerdictFunc on_verdict, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  d->on_verdict = on_verdict;
  d->on_verdict_data = user_data;
  if (!start_accounts (d, &error))
    {
      g_printerr ("spoofwatch: %s\n", error->message);
      return FALSE;
    }
  if (d->running->len == 0)
    {
      if (d->options->no_demo || !sw_config_get_demo (d->config))
        {
          g_printerr (
              _("spoofwatch: no account configured and the demo is off ([general] demo=false in %s):\n"
                "  add an account with spoofwatch --add-account NAME --upstream HOST:PORT --tls implicit\n"),
              d->config_path);
          return FALSE;
        }
      if (!start_demo (d, &error))
        {
          g_printerr (_("spoofwatch: demo mailbox: %s\n"), error->message);
          return FALSE;
        }
    }
  return TRUE;
}

SwStore *
sw_app_daemon_get_store (SwAppDaemon *d)
{
  return d->store;
}

SwConfig *
sw_app_daemon_get_config (SwAppDaemon *d)
{
  return d->config;
}

const char *
sw_app_daemon_get_config_path (SwAppDaemon *d)
{
  return d->config_path;
}

guint16
sw_app_daemon_get_demo_port (SwAppDaemon *d)
{
  if (d->demo_server == NULL || d->running->len == 0)
    return 0;
  const RunningAccount *r = g_ptr_array_index (d->running, 0);
  return r->port;
}

void
sw_app_daemon_set_paused (SwAppDaemon *d, gboolean paused)
{
  for (guint i = 0; i < d->running->len; i++)
    {
      const RunningAccount *r = g_ptr_array_index (d->running, i);
      sw_pop3_proxy_set_paused (r->proxy, paused);
    }
}

void
sw_app_daemon_free (SwAppDaemon *d)
{
  if (d == NULL)
    return;
  daemon_clear (d);
  g_free (d);
}

int
sw_app_run_headless (const SwAppOptions *options)
{
  g_autoptr (SwAppDaemon) d = sw_app_daemon_open (options);
  if (d == NULL)
    return 1;
  d->loop = g_main_loop_new (NULL, FALSE);
  if (!sw_app_daemon_start (d, NULL, NULL))
    return 1;
  guint sigint = g_unix_signal_add (SIGINT, on_signal, d);
  guint sigterm = g_unix_signal_add (SIGTERM, on_signal, d);
  sw_app_daemon_print_screen (d, _("headless (no window)"));
  g_main_loop_run (d->loop);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_print (_("Stopping.\n"));
  fflush (stdout);
  return 0;
}
