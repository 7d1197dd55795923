/* app-private.h: what the files of the `spoofwatch` program share. Not thread-safe
 * unless said otherwise: everything here runs in the main thread. */
#pragma once
#include <glib.h>

#include "sw-config.h"
#include "sw-store.h"
G_BEGIN_DECLS

#define SW_APP_DEMO_PORT 11110          /* the demo account's fixed port, by default */
#define SW_APP_FIRST_ACCOUNT_PORT 11111 /* --add-account picks the first free port from here */
#define SW_APP_LAST_ACCOUNT_PORT 11999

/* Options of `spoofwatch` (main.c). Strings owned by main(). */
typedef struct
{
  gboolean headless;
  gboolean hidden; /* GUI: start with the tray only, no window */
  char *config_path; /* NULL: sw_config_default_path() */
  char *store_path;  /* NULL: sw_store_default_path() */
  char *dns_forward; /* libunbound forwarder "IP[:PORT]", NULL: system resolvers */
  char *samples_dir; /* NULL: sw_app_find_samples_dir() */
  int demo_port;     /* -1: SW_APP_DEMO_PORT, with a free port if it is busy */
  gboolean no_demo;  /* do not start the demo account */

  /* --add-account */
  char *add_account;
  char *upstream;  /* HOST[:PORT], "[IPv6]:PORT" */
  char *tls;       /* implicit | starttls | none */
  int listen_port; /* -1: the first free one */
  char **provider_hosts;
  int trusted_hops;
  char **trusted_ids;
} SwAppOptions;

/* Runs the proxies of every configured account, or the demo account when there is none,
 * until SIGINT or SIGTERM. Returns the process exit status; messages go to stderr. */
int sw_app_run_headless (const SwAppOptions *options);

/* The daemon as parts, for the GUI (main.c) and sw_app_run_headless(). */
typedef struct _SwAppDaemon SwAppDaemon;

/* Called from a proxy worker thread with the id of each new verdict stored. */
typedef void (*SwAppVerdictFunc) (gint64 record_id, gpointer user_data);

/* Loads the configuration (a missing file is an empty one; a new authserv-id is saved at
 * once) and opens the verdict store. NULL after printing the reason to stderr. Proxies
 * are not started yet. @options (borrowed) must outlive the daemon. Transfer full. */
SwAppDaemon *sw_app_daemon_open (const SwAppOptions *options);

/* Starts the proxy of every account, or the demo account when there is none (and the
 * demo is on); @on_verdict (may be NULL) is called from proxy threads for each new
 * verdict. FALSE after printing the reason to stderr. */
gboolean sw_app_daemon_start (SwAppDaemon *d, SwAppVerdictFunc on_verdict, gpointer user_data);

/* Prints what it listens on and what it trusts; @mode says "headless (no window)" or
 * "with window" etc. */
void sw_app_daemon_print_screen (SwAppDaemon *d, const char *mode);

/* Transfer none; valid until sw_app_daemon_free(). The store is thread-safe; the config
 * is used by the main thread only. */
SwStore *sw_app_daemon_get_store (SwAppDaemon *d);
SwConfig *sw_app_daemon_get_config (SwAppDaemon *d);
const char *sw_app_daemon_get_config_path (SwAppDaemon *d);

/* The port of the demo account's proxy, 0 when the demo is not running. */
guint16 sw_app_daemon_get_demo_port (SwAppDaemon *d);

/* Pauses (or resumes) protection on every proxy: while paused, messages pass through
 * unverified (sw_pop3_proxy_set_paused()). Main thread. */
void sw_app_daemon_set_paused (SwAppDaemon *d, gboolean paused);

/* Stops the proxies (their threads are joined: no callback runs after this returns),
 * then closes the store and frees @d. NULL is allowed. */
void sw_app_daemon_free (SwAppDaemon *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwAppDaemon, sw_app_daemon_free)

/* Adds the account of --add-account to the configuration file and prints what to type
 * into the mail client. Returns the process exit status. */
int sw_app_add_account (const SwAppOptions *options);

/* The folder holding the demo mailbox (the samples' .eml files and samples.zone):
 * @override if given, else the installed data folder (SW_DATADIR/samples), else the
 * source tree's samples/ (SW_SOURCE_DIR). NULL + error when none holds samples.zone.
 * Transfer full. Thread-safe. */
char *sw_app_find_samples_dir (const char *override, GError **error);

/* TRUE if a TCP listener can be bound on 127.0.0.1 at @port right now. Thread-safe. */
gboolean sw_app_port_is_free (guint16 port);

G_END_DECLS
