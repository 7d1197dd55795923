/* app-private.h: what the files of the `spoofwatch` program share. Not thread-safe
 * unless said otherwise: everything here runs in the main thread. */
#pragma once
#include <glib.h>
G_BEGIN_DECLS

#define SW_APP_DEMO_PORT 11110          /* the demo account's fixed port, by default */
#define SW_APP_FIRST_ACCOUNT_PORT 11111 /* --add-account picks the first free port from here */
#define SW_APP_LAST_ACCOUNT_PORT 11999

/* Options of `spoofwatch` (main.c). Strings owned by main(). */
typedef struct
{
  gboolean headless;
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
