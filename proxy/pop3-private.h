/* pop3-private.h: internals shared by the files of proxy/. Not installed. */
#pragma once
#include "pop3-proxy.h"
G_BEGIN_DECLS

/* The proxy's copy of its configuration, shared read-only by its sessions. */
typedef struct
{
  char *account;
  char *upstream_host;
  guint16 upstream_port;
  SwTlsMode tls_mode;
  GTlsDatabase *tls_database; /* owned ref or NULL */
  SwVerifier *verifier;       /* borrowed */
  SwStore *store;             /* borrowed, may be NULL */
  char *spool_dir;
  gsize memory_limit;
  gsize max_message;                                         /* SW_POP3_MAX_MESSAGE; tests may lower it */
  void (*on_verdict) (gint64 record_id, gpointer user_data); /* may be NULL */
  gpointer on_verdict_data;
  gint paused; /* atomic: TRUE while protection is paused (sw_pop3_proxy_set_paused()) */
  guint read_ahead;  /* messages, 0: off */
  guint header_ahead; /* DNS warming beyond the read-ahead window when DNS is slow (TOP n 0),
                       * messages; 0: off (also off when read_ahead is 0) */
} SwPop3Settings;

/* Runs @func (@task, NULL, task data, its cancellable) in the worker pool of the proxies
 * (one per process, SW_POP3_VERIFY_THREADS threads: verification waits on DNS, so many run
 * at once), then returns @task (its callback runs in the task's context). Takes a
 * reference on @task. Thread-safe. */
void sw_pop3_pool_run (const SwPop3Settings *settings, GTask *task, GTaskThreadFunc func);

/* Runs @fast (@task, task data) in the proxies' fast lane (SW_POP3_FAST_THREADS threads,
 * for work that never waits: DNS from the cache only, see
 * sw_resolver_thread_begin_cache_only); when it returns FALSE (the work would have had to
 * wait, and @fast has undone what it did), @slow runs in the worker pool as with
 * sw_pop3_pool_run(). Then returns @task. Takes a reference on @task. Thread-safe. */
typedef gboolean (*SwPop3FastFunc) (GTask *task, gpointer task_data);
void sw_pop3_pool_run_fast (const SwPop3Settings *settings, GTask *task, SwPop3FastFunc fast, GTaskThreadFunc slow);

/* Lowers the message cap (SW_POP3_MAX_MESSAGE) of a proxy not started yet: for the test of
 * that cap only. */
void sw_pop3_proxy_set_max_message (SwPop3Proxy *proxy, gsize max_message);

/* Sets settings.header_ahead (default SW_POP3_HEADER_AHEAD) of a proxy not started yet:
 * for tests, whose transcripts must not depend on how fast verification ran. */
void sw_pop3_proxy_set_header_ahead (SwPop3Proxy *proxy, guint messages);

/* ---- pop3-io.c: line reading on a GBufferedInputStream ---- */

/* Reads one line ending in LF (CRLF or bare LF) from @in, at most @max bytes including
 * the line ending. The result (finish) is the line including its ending, NUL-terminated
 * (transfer full). Errors: G_IO_ERROR_CONNECTION_CLOSED at end of stream (a partial line
 * is an error too), G_IO_ERROR_MESSAGE_TOO_LARGE over @max. Runs in the caller's
 * thread-default context; one read at a time per stream. */
void sw_pop3_read_line_async (GBufferedInputStream *in, gsize max, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
char *sw_pop3_read_line_finish (GBufferedInputStream *in, GAsyncResult *result, GError **error);

/* The same without waiting: TRUE when a whole line is already buffered (*@line_out, transfer
 * full, consumed from @in) or the buffer holds more than @max bytes without a line end
 * (*@line_out NULL, @error G_IO_ERROR_MESSAGE_TOO_LARGE); FALSE when more data must be
 * read first (then use sw_pop3_read_line_async). Saves a main-loop round trip per line of
 * pipelined replies. */
gboolean sw_pop3_try_read_line (GBufferedInputStream *in, gsize max, char **line_out, GError **error);

/* @in reads a plain @socket (no TLS in between): from now on sw_pop3_fill_async() on it
 * waits with one lasting source on the socket instead of one per wait. Without it,
 * sw_pop3_fill_async() is g_buffered_input_stream_fill_async(). Call in the thread that
 * reads @in; only that thread may read it. */
void sw_pop3_stream_set_socket (GBufferedInputStream *in, GSocket *socket, int priority);

/* g_buffered_input_stream_fill_async (@in, -1, ...) (see above); one fill at a time per
 * stream; a cancellation from any thread completes it with G_IO_ERROR_CANCELLED. The
 * result (finish): bytes added, 0 at end of stream, -1 with @error. */
void sw_pop3_fill_async (GBufferedInputStream *in, GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data);
gssize sw_pop3_fill_finish (GBufferedInputStream *in, GAsyncResult *result, GError **error);

/* Turns off Nagle's algorithm on @socket (TCP): each reply goes out whole at once, so a
 * short write (a status line, a message's last bytes) never waits ~40 ms for the peer's
 * delayed ACK. Failure is only logged. */
void sw_pop3_socket_set_nodelay (GSocket *socket);

/* TRUE if @line starts with the POP3 keyword @keyword (case-insensitive) followed by a
 * space, CR, LF or the end. */
gboolean sw_pop3_line_has_keyword (const char *line, const char *keyword);

/* A copy of @line for logging: the keyword kept, arguments masked when @mask, the line
 * sanitised and without its line ending. Transfer full. */
char *sw_pop3_line_for_log (const char *line, gboolean mask);

/* ---- pop3-message.c: one multi-line message response (RETR/TOP) ---- */

typedef struct _SwPop3Message SwPop3Message;

/* A sink for the data of one RETR/TOP response: dot-unstuffed into memory up to
 * @memory_limit bytes, then into a spool file in @spool_dir (created with mode 0600 and
 * unlinked at once, so it never outlives the process). At most @max_size bytes. */
SwPop3Message *sw_pop3_message_new (const char *spool_dir, gsize memory_limit, gsize max_size);
void sw_pop3_message_free (SwPop3Message *msg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwPop3Message, sw_pop3_message_free)

/* Feeds @len bytes as received (dot-stuffed). *@consumed gets how many were taken: all of
 * them, or up to and including the terminating ".CRLF" (then *@done is TRUE; the bytes
 * after it belong to the next response). FALSE with @error when the message is over its
 * size cap (G_IO_ERROR_MESSAGE_TOO_LARGE; *consumed still counts the bytes read, keep
 * feeding with sw_pop3_message_discard set to drain it) or the spool file cannot be
 * written. */
gboolean sw_pop3_message_feed (SwPop3Message *msg, const guint8 *data, gsize len, gsize *consumed,
                               gboolean *done, GError **error);

/* The server's status line @status ("+OK 20345 octets"): when it gives a size that fits
 * in memory, room for it is made at once (no regrowing copies as the data arrive). */
void sw_pop3_message_expect (SwPop3Message *msg, const char *status);

/* After an error: drop the content and only look for the terminator from now on. */
void sw_pop3_message_discard (SwPop3Message *msg);

/* Content size in bytes (unstuffed, without the terminator). */
gsize sw_pop3_message_get_size (SwPop3Message *msg);
gboolean sw_pop3_message_is_spooled (SwPop3Message *msg);

/* The unstuffed content (transfer full): memory, or the spool file mapped. Call after
 * *done. The hex SHA-256 of a spooled message's content, computed as it was written (the
 * store's key): sw_pop3_message_get_hash (transfer none; NULL for a message held in memory:
 * hash it with sw_pop3_content_hash() where it is needed, off the network thread). */
GBytes *sw_pop3_message_get_bytes (SwPop3Message *msg, GError **error);
const char *sw_pop3_message_get_hash (SwPop3Message *msg);

/* Hex SHA-256 of @content (OpenSSL: several times faster than GChecksum). Transfer full;
 * NULL only if OpenSSL fails. Thread-safe. */
char *sw_pop3_content_hash (GBytes *content);

/* The header block (unstuffed, through the empty line that ends it) once it has arrived:
 * the first call after that returns it (transfer full), every other call NULL, as do
 * calls before it is complete, after sw_pop3_message_discard(), or when it is over
 * SW_MAX_HEADER_BLOCK bytes. For the DNS prefetch (sw_verifier_prefetch). */
GBytes *sw_pop3_message_take_header_block (SwPop3Message *msg);

/* A spooled message whose header block is complete had its DKIM body hashes computed
 * as it arrived: after *done, gives the header block (transfer full) and the finished
 * hasher (transfer full), for sw_verifier_verify_prehashed(), and TRUE. FALSE for a
 * message held in memory (verified from memory), one without a complete header block or
 * one already asked. */
typedef struct _SwDkimBodyHasher SwDkimBodyHasher;
gboolean sw_pop3_message_steal_prehashed (SwPop3Message *msg, GBytes **header_block_out,
                                          SwDkimBodyHasher **hasher_out);

/* Appends @len bytes of @data dot-stuffed to @out; *@at_line_start carries the state
 * between calls (start with TRUE). */
void sw_pop3_stuff (GByteArray *out, const guint8 *data, gsize len, gboolean *at_line_start);

/* Length of the header block of @data including the empty line that ends it (the whole
 * of @data if it has none). */
gsize sw_pop3_header_block_length (const guint8 *data, gsize len);

/* ---- pop3-upstream.c: the connection to the real server ---- */

typedef struct
{
  GIOStream *stream; /* TLS or plain */
  GBufferedInputStream *in;
  GOutputStream *out; /* borrowed from stream */
  char *greeting;     /* the server's greeting line, with its CRLF */
} SwPop3Upstream;
void sw_pop3_upstream_free (SwPop3Upstream *up);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwPop3Upstream, sw_pop3_upstream_free)

/* Connects to the upstream of @settings, TLS as configured (certificate and host name
 * verified against settings->tls_database or the system's CAs; STLS refused is an error,
 * never plain text), and reads the greeting. Errors are SW_POP3_PROXY_ERROR with a
 * message naming the cause. */
void sw_pop3_upstream_connect_async (const SwPop3Settings *settings, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
SwPop3Upstream *sw_pop3_upstream_connect_finish (GAsyncResult *result, GError **error);

/* TRUE if @host is "localhost" or a loopback address literal. */
gboolean sw_pop3_host_is_loopback (const char *host);

/* ---- pop3-prefetch.c: DNS prefetch from a held message's header block ---- */

typedef struct _SwPop3Session SwPop3Session;

/* Starts the DNS prefetch of @header_block (sw_verifier_prefetch_start), unless the store
 * holds a verdict for @uidl (may be NULL): from the proxy's worker pool when the store must
 * be asked first (then holds a reference on @session until done), else at once. Call in
 * the proxy thread. Never waits on DNS or the disk. */
void sw_pop3_prefetch_start (const SwPop3Settings *settings, SwPop3Session *session, GBytes *header_block,
                             const char *uidl, GCancellable *cancellable);
/* Prefetches run to the end in this process (a debug counter for tests). Thread-safe. */
guint sw_pop3_prefetch_get_count (void);

/* ---- pop3-session.c: one client connection ---- */
typedef void (*SwPop3SessionDone) (SwPop3Session *session, gpointer user_data);

/* Starts a session on @client (referenced) in the thread-default context and returns it
 * with one reference for the caller. @closed is called once (from an idle callback) when
 * the session has closed; @freed when its last reference is gone (no worker thread uses
 * it any more); the session pointer passed to @freed must not be dereferenced. */
SwPop3Session *sw_pop3_session_new (const SwPop3Settings *settings, GSocketConnection *client,
                                    SwPop3SessionDone closed, SwPop3SessionDone freed, gpointer user_data);
void sw_pop3_session_close (SwPop3Session *session);
SwPop3Session *sw_pop3_session_ref (SwPop3Session *session);
void sw_pop3_session_unref (SwPop3Session *session);

G_END_DECLS
