/* demo-pop3-server.h: the demo mailbox's POP3 server.
 *
 * A small RFC 1939 server on 127.0.0.1 holding the messages of a folder (the .eml files of samples/),
 * for the demo account: the proxy fetches from it like from any loopback upstream.
 * Commands: CAPA, USER/PASS (any credentials, e.g. demo/demo), STAT, LIST, UIDL, RETR,
 * TOP, DELE, RSET, NOOP, QUIT. DELE only marks a message for the session: QUIT never
 * removes a sample, so every client sees the whole demo mailbox again. Lines are
 * byte-stuffed; sizes are those of the CRLF-terminated message as sent (before
 * stuffing); UIDLs are the file names without ".eml".
 *
 * Each connection runs in its own thread (at most SW_DEMO_POP3_MAX_SESSIONS at once)
 * with blocking I/O, so the server works whatever main loop the caller runs: it needs
 * the thread-default GMainContext of the thread that called start() to be iterated
 * (accepting connections). The loaded messages are immutable: sessions share them. */
#pragma once
#include <gio/gio.h>
G_BEGIN_DECLS

#define SW_DEMO_POP3_MAX_LINE 255u                   /* octets of a command line, CRLF included (RFC 2449) */
#define SW_DEMO_POP3_MAX_MESSAGES 1000u              /* messages loaded from the folder */
#define SW_DEMO_POP3_MAX_MESSAGE (32u * 1024 * 1024) /* octets of one message file */
#define SW_DEMO_POP3_MAX_SESSIONS 8                  /* connections served at once */
#define SW_DEMO_POP3_IDLE_TIMEOUT_S 600u             /* RFC 1939's autologout minimum */
#define SW_DEMO_POP3_MAX_BAD_COMMANDS 20u            /* unknown or failing commands before hanging up */

#define SW_DEMO_POP3_ERROR (sw_demo_pop3_error_quark ())
GQuark sw_demo_pop3_error_quark (void);
/* Codes of SW_DEMO_POP3_ERROR; never renumbered. */
typedef enum
{
  SW_DEMO_POP3_ERROR_MAILDIR = 1, /* the folder cannot be read, holds no message or too many */
  SW_DEMO_POP3_ERROR_LISTEN = 2,  /* the port cannot be bound */
} SwDemoPop3Error;

typedef struct _SwDemoPop3Server SwDemoPop3Server;

/* A server holding every regular file named *.eml in @maildir, in name order, with line
 * ends normalised to CRLF. NULL + SW_DEMO_POP3_ERROR_MAILDIR when the folder cannot be
 * read, holds no .eml file, more than SW_DEMO_POP3_MAX_MESSAGES or a file over
 * SW_DEMO_POP3_MAX_MESSAGE octets. Transfer full. */
SwDemoPop3Server *sw_demo_pop3_server_new (const char *maildir, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Number of messages held. Thread-safe. */
guint sw_demo_pop3_server_get_n_messages (SwDemoPop3Server *server);

/* Listens on 127.0.0.1 at @port (0: a free port); *@bound_port_out (may be NULL) gets
 * the port. FALSE + SW_DEMO_POP3_ERROR_LISTEN (with the system's reason) when the port
 * cannot be bound. Call once, from the thread whose main context accepts connections. */
gboolean sw_demo_pop3_server_start (SwDemoPop3Server *server, guint16 port, guint16 *bound_port_out,
                                    GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Stops listening and cancels the running sessions (they close within one read). Safe
 * to call more than once or before start(). */
void sw_demo_pop3_server_stop (SwDemoPop3Server *server);

/* Stops @server and frees it; NULL is allowed. Session threads still unwinding keep
 * what they use alive until they end. */
void sw_demo_pop3_server_free (SwDemoPop3Server *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwDemoPop3Server, sw_demo_pop3_server_free)

G_END_DECLS
