/* pop3-proxy.h: the POP3 proxy of one account (docs/pop3-proxy.md).
 *
 * The mail client talks plain POP3 to us on 127.0.0.1/::1; each client connection gets
 * one upstream connection (implicit TLS, STLS, or plain to a loopback upstream only).
 * Commands and responses pass through unchanged, except: RETR and TOP carry our
 * Authentication-Results and X-Spoofwatch-Verdict on top (forged ones removed), LIST and
 * STAT sizes include an allowance for them, CAPA loses STLS. Credentials are never
 * logged. A message is held (in memory up to memory_limit, then in an unlinked spool
 * file) until its verdict is ready; if verification fails the message is delivered byte
 * for byte with a temperror/permerror verdict; if the upstream drops mid-message the
 * client gets -ERR, never a truncated message. With read-ahead (on by default) the proxy
 * also fetches and verifies the next messages of a client that downloads them in order,
 * and answers the client's RETR from them (the same bytes); they are never deleted, and
 * those the client never asks for are dropped. */
#pragma once
#include <gio/gio.h>
#include "sw-verifier.h"
#include "sw-store.h"
G_BEGIN_DECLS

typedef enum
{
  SW_TLS_IMPLICIT,
  SW_TLS_STARTTLS,
  SW_TLS_NONE /* only to a loopback upstream */
} SwTlsMode;

typedef struct
{
  const char *account; /* name, for the store and logs */
  const char *upstream_host;
  guint16 upstream_port;
  SwTlsMode tls_mode;
  GTlsDatabase *tls_database; /* NULL: the system's CAs; tests pass their own CA */
  SwVerifier *verifier;       /* shared, thread-safe */
  SwStore *store;             /* may be NULL */
  const char *spool_dir;      /* where messages over the memory limit are spooled; NULL: g_get_tmp_dir() */
  gsize memory_limit;         /* bytes held in memory per message before spooling; 0: default 1 MiB */
  /* Called from a proxy worker thread after a new verdict was stored (sw_store_put()
   * succeeded; not for a verdict read back from the store) with the record's id. May be
   * NULL. Must be thread-safe and must not block (the GUI posts it to its main loop). */
  void (*on_verdict) (gint64 record_id, gpointer user_data);
  gpointer on_verdict_data;
  /* Read-ahead (docs/pop3-proxy.md, "Read-ahead"): once the client has RETRed two
   * consecutive messages, the proxy fetches and verifies up to this many of the next ones
   * before they are asked for: the account's "read-ahead" (SwAccount.read_ahead, default
   * SW_POP3_DEFAULT_READ_AHEAD). 0 (also a zeroed config): off, no command is ever sent
   * on the proxy's own account. Values over SW_POP3_MAX_READ_AHEAD are lowered to it. */
  int read_ahead;
} SwPop3ProxyConfig;

#define SW_POP3_DEFAULT_READ_AHEAD 32                  /* messages (the account key's default) */
#define SW_POP3_MAX_READ_AHEAD 256                     /* messages */
#define SW_POP3_READ_AHEAD_BUDGET (16u * 1024 * 1024)  /* bytes held by messages read ahead */
#define SW_POP3_HEADER_AHEAD 128                       /* messages whose DNS is warmed ahead (slow DNS) */
#define SW_POP3_VERIFY_THREADS 64                      /* verification and DNS prefetch workers */
#define SW_POP3_FAST_THREADS 1 /* verification whose DNS answers are all in the cache */
#define SW_POP3_WORKER_NICE 10 /* nice value of the verification threads (background work) */

typedef struct _SwPop3Proxy SwPop3Proxy;

#define SW_POP3_PROXY_ERROR (sw_pop3_proxy_error_quark ())
GQuark sw_pop3_proxy_error_quark (void);

/* Codes of SW_POP3_PROXY_ERROR; never renumbered. */
typedef enum
{
  SW_POP3_PROXY_ERROR_CONFIG = 1,  /* invalid configuration (e.g. plain text to a remote host) */
  SW_POP3_PROXY_ERROR_REFUSED,     /* the upstream refused or could not be reached */
  SW_POP3_PROXY_ERROR_CERTIFICATE, /* the upstream's certificate is not trusted */
  SW_POP3_PROXY_ERROR_HOST_NAME,   /* the upstream's certificate is for another host name */
  SW_POP3_PROXY_ERROR_STLS,        /* the upstream refused STLS */
  SW_POP3_PROXY_ERROR_PROTOCOL,    /* the upstream spoke something that is not POP3 */
} SwPop3ProxyError;

/* Creates a proxy for @config (copied; the verifier's owner keeps it alive until
 * sw_pop3_proxy_free(); the store likewise; tls_database is referenced). Returns NULL
 * with SW_POP3_PROXY_ERROR_CONFIG when the configuration is invalid (no account, no
 * verifier, SW_TLS_NONE to a host that is not loopback). Transfer full. Not started. */
SwPop3Proxy *sw_pop3_proxy_new (const SwPop3ProxyConfig *config, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Listens on 127.0.0.1 and ::1 at @port (0: a free port, the same for both); IPv6 is
 * skipped with a warning when the host has no ::1. *@bound_port_out (may be NULL) gets
 * the port. Sessions run in the proxy's own thread with its own GMainContext; this never
 * blocks the caller's loop beyond binding. Returns FALSE with @error (G_IO_ERROR) when
 * the port cannot be bound. Call from one thread at a time (the owner's). */
gboolean sw_pop3_proxy_start (SwPop3Proxy *proxy, guint16 port, guint16 *bound_port_out,
                              GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Stops listening, closes every session (a message being held is not delivered: the
 * client sees the connection close, the message stays on the server) and joins the
 * proxy thread. Idempotent. Call from the owner's thread. */
void sw_pop3_proxy_stop (SwPop3Proxy *proxy);

/* Pauses (@paused TRUE) or resumes protection. While paused, messages downloaded through
 * the proxy are not verified: they are delivered as the server sent them, forged
 * Spoofwatch fields removed, with a temperror verdict "not verified: protection paused"
 * that is not stored (the next download after resuming verifies the message); a verdict
 * already stored is still applied. Sessions open at the time follow the new state from
 * their next message. Thread-safe (an atomic flag); callable before or after start. */
void sw_pop3_proxy_set_paused (SwPop3Proxy *proxy, gboolean paused);
gboolean sw_pop3_proxy_get_paused (SwPop3Proxy *proxy);

/* Stops (if needed) and frees @proxy. NULL is allowed. */
void sw_pop3_proxy_free (SwPop3Proxy *proxy);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwPop3Proxy, sw_pop3_proxy_free)

G_END_DECLS
