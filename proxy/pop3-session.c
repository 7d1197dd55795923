#define G_LOG_DOMAIN "sw-proxy"
/* pop3-session.c: one client connection of the POP3 proxy, as an explicit state machine.
 *
 * Two sides run at once in the proxy's thread:
 *  - the command side reads client lines (one switch on the session state per line),
 *    forwards them to the upstream in order and queues what reply each expects;
 *  - the reply side takes the queue's head, reads its reply from the upstream and sends
 *    it to the client: single lines, multi-line lists (CAPA filtered, LIST sizes with our
 *    allowance, UIDL learnt), or a whole message held until its verdict is ready.
 * Pipelined commands therefore get their replies in order. The model is Dovecot's
 * src/pop3-login/pop3-proxy.c.
 *
 * Read-ahead: from the client's first RETR (one message, doubling with each consecutive
 * RETR up to the window; any other RETR stops it), the command side also
 * sends RETRs of the next messages on its own account ("speculative" entries of the same
 * queue, whose replies the client never sees); the reply side holds and verifies them
 * like the client's and keeps them in the Ahead table, from which the client's own RETR
 * is then answered (docs/pop3-proxy.md, "Read-ahead"). */
#include "pop3-private.h"
#include "sw-dkim-bodyhash.h"
#include "sw-limits.h"
#include "sw-prefetch.h"
#include "sw-util.h"
#include "sw-verify-headers.h"
#include "sw-verify-json.h"
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef enum
{
  SW_POP3_STATE_CONNECTING,    /* waiting for the upstream connection and greeting */
  SW_POP3_STATE_AUTHORIZATION, /* RFC 1939 AUTHORIZATION: not logged in yet */
  SW_POP3_STATE_SASL,          /* inside AUTH: client lines are SASL responses */
  SW_POP3_STATE_TRANSACTION,   /* logged in */
  SW_POP3_STATE_QUIT,          /* QUIT forwarded; no more client commands */
  SW_POP3_STATE_CLOSED,
  SW_POP3_STATE_COUNT
} SwPop3State;

static const char *const state_names[] = {
  "connecting", "authorization", "sasl", "transaction", "quit", "closed",
};
G_STATIC_ASSERT (G_N_ELEMENTS (state_names) == SW_POP3_STATE_COUNT);

typedef enum
{
  CMD_USER,
  CMD_PASS,
  CMD_APOP,
  CMD_AUTH,
  CMD_CAPA,
  CMD_STAT,
  CMD_LIST,
  CMD_UIDL,
  CMD_RETR,
  CMD_TOP,
  CMD_DELE,
  CMD_RSET,
  CMD_NOOP,
  CMD_QUIT,
  CMD_STLS,
  CMD_SASL_DATA,
  CMD_OTHER,
  CMD_COUNT
} Command;

static const struct
{
  const char *keyword;
  gboolean secret; /* arguments never logged */
} commands[] = {
  { "USER", TRUE },  { "PASS", TRUE },  { "APOP", TRUE },  { "AUTH", TRUE },  { "CAPA", FALSE },
  { "STAT", FALSE }, { "LIST", FALSE }, { "UIDL", FALSE }, { "RETR", FALSE }, { "TOP", FALSE },
  { "DELE", FALSE }, { "RSET", FALSE }, { "NOOP", FALSE }, { "QUIT", FALSE }, { "STLS", FALSE },
  { "", TRUE },      { "", TRUE },
};
G_STATIC_ASSERT (G_N_ELEMENTS (commands) == CMD_COUNT);

/* One message read ahead (a speculative RETR): its own little state machine. */
typedef enum
{
  AHEAD_WAITING,   /* RETR sent on our own account; its reply not read yet */
  AHEAD_VERIFYING, /* the message is in, verification runs in the pool */
  AHEAD_READY,     /* verified: what the client gets for RETR n is ready */
  AHEAD_FAILED,    /* the server answered -ERR (or it is over the size cap): the client gets that line */
  AHEAD_BROKEN,    /* the server connection broke before the terminating dot: the client gets -ERR */
  AHEAD_STATE_COUNT
} AheadState;

static const char *const ahead_state_names[] = {
  "waiting", "verifying", "ready", "failed", "broken",
};
G_STATIC_ASSERT (G_N_ELEMENTS (ahead_state_names) == AHEAD_STATE_COUNT);

typedef struct
{
  guint msgno;
  AheadState state;
  gboolean claimed;  /* the client's RETR n takes it (it is in the queue) */
  gboolean dropped;  /* no client will get it (DELE, out of order): its reply is read and discarded */
  gboolean awaited;  /* the claiming RETR is the queue's head and waits for the verdict */
  gsize size;        /* content bytes, counted in the session's read-ahead budget */
  char *status;      /* the server's +OK line */
  char *error_line;  /* FAILED: the line for the client */
  GBytes *head;      /* READY: our header lines + the header block */
  GBytes *content;   /* READY: the unstuffed message */
  GBytes *wire;      /* READY: or the whole reply as it goes to the client (then head and content are NULL) */
  gboolean spooled;  /* READY: content is the mapped spool file */
  gsize body_offset; /* READY: where the body starts in content */
  gpointer store;    /* READY: the verdict to store once delivered (StoreJob*), or NULL */
} Ahead;

typedef struct
{
  Command cmd;
  gboolean has_arg;
  guint msgno;           /* RETR/TOP/LIST/UIDL n */
  char *local;           /* a reply we give ourselves (STLS), or NULL */
  gboolean speculative;  /* sent on our own account (read-ahead): the client never sees the reply */
  Ahead *ahead;          /* speculative RETR: its entry; client RETR: the entry that answers it */
  char *deferred;        /* QUIT: sent upstream only when it is the head (after the speculative replies) */
  gboolean lost;         /* the upstream connection was lost before it could be sent */
} Pending;

static void
pending_free (Pending *p)
{
  g_free (p->local);
  g_free (p->deferred);
  g_free (p);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pending, pending_free)

/* The body of a held message on its way to the client, in chunks. */
typedef struct
{
  GBytes *content;
  gsize pos;
  gboolean at_line_start;
  gboolean ended_with_nl;
  gboolean spooled; /* content is the mapped spool file: pages sent are given back */
} Sending;

struct _SwPop3Session
{
  gint ref_count;
  const SwPop3Settings *settings;
  SwPop3State state;
  GCancellable *cancellable;
  GSocketConnection *client;
  GBufferedInputStream *client_in;
  GOutputStream *client_out;
  SwPop3Upstream *upstream;
  GQueue pending;          /* Pending*, head = the reply being read */
  gboolean client_reading; /* a client line read is under way */
  gboolean client_paused;  /* AUTH: wait for the reply before reading on */
  gboolean reply_busy;     /* the reply side is working on the head */
  guint reply_lines;       /* lines of the current multi-line reply */
  char *held_status;       /* RETR/TOP status line, sent with the message */
  SwPop3Message *message;
  gboolean message_too_big;
  gboolean failing; /* session_fail(): only its -ERR is still written */
  Sending *sending;
  GHashTable *uidls; /* msgno -> UIDL, learnt from UIDL replies */
  GQueue up_writes;  /* WriteData* waiting for the upstream write under way */
  GQueue client_writes; /* WriteData* waiting for the client write under way */
  gboolean up_writing;
  gboolean client_writing; /* an asynchronous write to the client is under way */
  guint sync_depth;        /* nesting of callbacks run by writes that completed at once */
  /* read-ahead (docs/pop3-proxy.md, "Read-ahead") */
  GHashTable *ahead;     /* msgno -> Ahead*, owned */
  GHashTable *deleted;   /* msgnos the client DELEted (RSET clears it) */
  guint msg_count;       /* messages in the mailbox (STAT/LIST), 0: not known */
  gboolean count_asked;  /* our own STAT is under way */
  guint last_retr;       /* msgno of the client's previous RETR, 0: none */
  guint window;          /* messages to keep read ahead of last_retr, 0: stopped */
  guint ahead_next;      /* next msgno to read ahead */
  guint header_next;     /* next msgno whose header block is asked for (TOP n 0) */
  guint top_all_next;    /* warming the whole mailbox: next msgno to ask TOP n 0 for, 0: not started */
  guint top_all_end;     /* its last msgno */
  gboolean top_all_probing; /* only its first TOP_ALL_PROBE messages are asked: the rest if DNS is slow */
  gboolean top_all_running; /* the rest is asked, TOP_ALL_CHUNK at a time (top_all_pump) */
  GPtrArray *top_blocks; /* GBytes*: header blocks from speculative TOPs, prefetched in batches */
  GPtrArray *top_uidls;  /* char* (or NULL) beside them */
  gsize top_bytes;       /* size of top_blocks */
  guint tops_pending;    /* speculative TOPs in the pending queue */
  GHashTable *warmed;    /* msgnos whose DNS was warmed from TOP n 0: not again at RETR */
  guint ahead_unclaimed; /* entries not claimed nor dropped */
  gsize ahead_bytes;     /* content bytes of those */
  guint speculative;     /* speculative commands in the pending queue */
  guint slow_verifies;   /* > 0: a recent verification waited on DNS: prefetch at once */
  gboolean cache_warm;   /* the last verification found every DNS answer in the cache (FALSE
                          * until one did): verify in the fast lane, no per-message prefetch */
  gboolean upstream_lost;
  SwPop3SessionDone closed_cb;
  SwPop3SessionDone freed_cb;
  gpointer cb_data;
  guint id;
};

static void client_read_next (SwPop3Session *s);
static void ahead_free (Ahead *a);
static void store_job_free (gpointer job);
static void sending_set (SwPop3Session *s, Sending *snd);
static void reply_next (SwPop3Session *s);
static void reply_done (SwPop3Session *s);
static void session_fail (SwPop3Session *s, const char *client_text);
static void close_after_write (SwPop3Session *s);
static void top_send (SwPop3Session *s, guint from, guint to);
static void top_all_pump (SwPop3Session *s);
static gboolean serve_out_of_turn (SwPop3Session *s, Pending *p);

SwPop3Session *
sw_pop3_session_ref (SwPop3Session *s)
{
  s->ref_count++;
  return s;
}

void
sw_pop3_session_unref (SwPop3Session *s)
{
  if (--s->ref_count > 0)
    return;
  SwPop3SessionDone freed = s->freed_cb;
  gpointer data = s->cb_data;
  g_queue_clear_full (&s->pending, (GDestroyNotify)pending_free);
  g_clear_object (&s->cancellable);
  g_clear_object (&s->client_in);
  g_clear_object (&s->client);
  g_clear_pointer (&s->upstream, sw_pop3_upstream_free);
  g_free (s->held_status);
  g_clear_pointer (&s->message, sw_pop3_message_free);
  sending_set (s, NULL);
  g_hash_table_unref (s->uidls);
  g_hash_table_unref (s->ahead);
  g_hash_table_unref (s->deleted);
  g_hash_table_unref (s->warmed);
  g_clear_pointer (&s->top_blocks, g_ptr_array_unref);
  g_clear_pointer (&s->top_uidls, g_ptr_array_unref);
  g_assert (g_queue_is_empty (&s->up_writes));
  g_assert (g_queue_is_empty (&s->client_writes));
  g_free (s);
  if (freed != NULL)
    freed (s, data);
}

static void
set_state (SwPop3Session *s, SwPop3State state)
{
  if (s->state == state)
    return;
  g_debug ("%s#%u: %s -> %s", s->settings->account, s->id, state_names[s->state], state_names[state]);
  s->state = state;
}

/* TRUE when callbacks must not go on: closed, or closing after an -ERR. */
static gboolean
session_stopped (SwPop3Session *s)
{
  return s->state == SW_POP3_STATE_CLOSED || s->failing;
}

static gboolean
closed_idle (gpointer user_data)
{
  SwPop3Session *s = user_data;
  if (s->closed_cb != NULL)
    s->closed_cb (s, s->cb_data);
  return G_SOURCE_REMOVE;
}

void
sw_pop3_session_close (SwPop3Session *s)
{
  if (s->state == SW_POP3_STATE_CLOSED)
    return;
  set_state (s, SW_POP3_STATE_CLOSED);
  g_cancellable_cancel (s->cancellable);
  g_io_stream_close_async (G_IO_STREAM (s->client), G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  if (s->upstream != NULL)
    g_io_stream_close_async (s->upstream->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  /* in the proxy thread's context (g_idle_add would use the global default context) */
  g_autoptr (GSource) idle = g_idle_source_new ();
  g_source_set_callback (idle, closed_idle, sw_pop3_session_ref (s), (GDestroyNotify)sw_pop3_session_unref);
  g_source_attach (idle, g_main_context_get_thread_default ());
}

/* ---- writing ---- */

typedef void (*WriteDone) (SwPop3Session *s);

typedef struct
{
  SwPop3Session *s;
  GBytes *bytes;
  WriteDone then;
  gboolean to_client;
} WriteData;

static void write_start (WriteData *w);

static void
write_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  WriteData *w = user_data;
  SwPop3Session *s = w->s;
  g_autoptr (GError) error = NULL;
  gboolean ok = g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), res, NULL, &error);
  if (w->to_client)
    {
      /* client writes go one at a time too: a RETR answered out of turn (see
       * serve_out_of_turn) may still be on its way when the queue's head writes */
      s->client_writing = FALSE;
      WriteData *next = ok && s->state != SW_POP3_STATE_CLOSED ? g_queue_pop_head (&s->client_writes) : NULL;
      if (next != NULL)
        write_start (next);
    }
  else
    {
      /* upstream writes go one at a time, in order (client lines, read-ahead commands,
       * QUIT): the next queued one starts before anything @then writes */
      s->up_writing = FALSE;
      WriteData *next = ok && s->state != SW_POP3_STATE_CLOSED ? g_queue_pop_head (&s->up_writes) : NULL;
      if (next != NULL)
        write_start (next);
    }
  if (!ok)
    {
      if (s->state != SW_POP3_STATE_CLOSED)
        {
          g_info ("%s#%u: %s write failed: %s", s->settings->account, s->id,
                  w->to_client ? "client" : "upstream", error->message);
          /* the client cannot read an -ERR if writing to it failed */
          session_fail (
              s, w->to_client ? NULL : "-ERR [SYS/TEMP] Spoofwatch: lost the connection to the server\r\n");
        }
    }
  else if (s->state != SW_POP3_STATE_CLOSED && w->then != NULL
           && (!s->failing || w->then == close_after_write))
    w->then (s);
  if (s->state == SW_POP3_STATE_CLOSED || !ok)
    {
      WriteData *next;
      while ((next = g_queue_pop_head (&s->up_writes)) != NULL || (next = g_queue_pop_head (&s->client_writes)) != NULL)
        {
          g_bytes_unref (next->bytes);
          sw_pop3_session_unref (next->s);
          g_free (next);
        }
    }
  g_bytes_unref (w->bytes);
  sw_pop3_session_unref (s);
  g_free (w);
}

static void
write_start (WriteData *w)
{
  SwPop3Session *s = w->s;
  if (!w->to_client)
    s->up_writing = TRUE;
  else
    s->client_writing = TRUE;
  gsize len = 0;
  const void *data = g_bytes_get_data (w->bytes, &len);
  g_output_stream_write_all_async (w->to_client ? s->client_out : s->upstream->out, data, len,
                                   G_PRIORITY_DEFAULT, s->cancellable, write_done, w);
}

#define MAX_SYNC_DEPTH 8 /* callbacks nested by writes that completed at once */

/* Writes what the socket takes at once without waiting. TRUE when all of @bytes went (then
 * *@rest_out is NULL) or the write failed (the session is failing or closed); FALSE when
 * the rest, *@rest_out (transfer full), must be written asynchronously. */
static gboolean
write_now (SwPop3Session *s, gboolean to_client, GBytes *bytes, GBytes **rest_out)
{
  *rest_out = NULL;
  GOutputStream *out = to_client ? s->client_out : s->upstream->out;
  if (!G_IS_POLLABLE_OUTPUT_STREAM (out) || !g_pollable_output_stream_can_poll (G_POLLABLE_OUTPUT_STREAM (out)))
    {
      *rest_out = g_bytes_ref (bytes);
      return FALSE;
    }
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  gsize done = 0;
  while (done < len)
    {
      g_autoptr (GError) error = NULL;
      gssize n = g_pollable_output_stream_write_nonblocking (G_POLLABLE_OUTPUT_STREAM (out), data + done,
                                                            len - done, s->cancellable, &error);
      if (n > 0)
        {
          done += (gsize)n;
          continue;
        }
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        break;
      g_info ("%s#%u: %s write failed: %s", s->settings->account, s->id, to_client ? "client" : "upstream",
              error ? error->message : "no progress");
      session_fail (s, to_client ? NULL : "-ERR [SYS/TEMP] Spoofwatch: lost the connection to the server\r\n");
      return TRUE;
    }
  if (done == len)
    return TRUE;
  *rest_out = g_bytes_new_from_bytes (bytes, done, len - done);
  return FALSE;
}

/* Writes @bytes (transfer full) to the client or the server, then calls @then (may be
 * NULL). What the socket takes at once is written at once and @then called before this
 * returns (up to MAX_SYNC_DEPTH nested); the rest goes through the main loop. Writes to
 * the server, and writes to the client, are queued in order. */
static void
write_bytes (SwPop3Session *s, gboolean to_client, GBytes *bytes, WriteDone then)
{
  gboolean busy = to_client ? s->client_writing : s->up_writing;
  if (!busy && s->sync_depth < MAX_SYNC_DEPTH && s->state != SW_POP3_STATE_CLOSED)
    {
      g_autoptr (GBytes) rest = NULL;
      if (write_now (s, to_client, bytes, &rest))
        {
          g_bytes_unref (bytes);
          if (s->state != SW_POP3_STATE_CLOSED && then != NULL && (!s->failing || then == close_after_write))
            {
              sw_pop3_session_ref (s);
              s->sync_depth++;
              then (s);
              s->sync_depth--;
              sw_pop3_session_unref (s);
            }
          return;
        }
      g_bytes_unref (bytes);
      bytes = g_steal_pointer (&rest);
    }
  WriteData *w = g_new0 (WriteData, 1);
  w->s = sw_pop3_session_ref (s);
  w->bytes = bytes;
  w->then = then;
  w->to_client = to_client;
  if (!to_client && s->up_writing)
    g_queue_push_tail (&s->up_writes, w);
  else if (to_client && s->client_writing)
    g_queue_push_tail (&s->client_writes, w);
  else
    write_start (w);
}

static void
write_client (SwPop3Session *s, const char *text, WriteDone then)
{
  write_bytes (s, TRUE, g_bytes_new (text, strlen (text)), then);
}

static void
close_after_write (SwPop3Session *s)
{
  sw_pop3_session_close (s);
}

static void
session_fail (SwPop3Session *s, const char *client_text)
{
  if (s->state == SW_POP3_STATE_CLOSED)
    return;
  if (client_text == NULL || s->failing)
    {
      sw_pop3_session_close (s);
      return;
    }
  /* stop both sides, tell the client, then close */
  s->failing = TRUE;
  s->client_paused = TRUE;
  s->reply_busy = TRUE;
  set_state (s, SW_POP3_STATE_QUIT);
  write_client (s, client_text, close_after_write);
}

/* ---- the command side ---- */

static Command
parse_command (const char *line)
{
  for (int c = 0; c < CMD_SASL_DATA; c++)
    if (sw_pop3_line_has_keyword (line, commands[c].keyword))
      return (Command)c;
  return CMD_OTHER;
}

static void
log_line (SwPop3Session *s, const char *dir, const char *line, gboolean mask)
{
  g_autofree char *safe = sw_pop3_line_for_log (line, mask);
  g_info ("%s#%u: %s %s", s->settings->account, s->id, dir, safe);
}

static void
forwarded (SwPop3Session *s)
{
  client_read_next (s);
}

static void
enqueue_and_forward (SwPop3Session *s, Pending *p, const char *line)
{
  g_queue_push_tail (&s->pending, p);
  if (p->local == NULL && p->ahead == NULL && p->deferred == NULL && !p->lost)
    write_bytes (s, FALSE, g_bytes_new (line, strlen (line)), forwarded);
  else
    client_read_next (s);
  if (!s->reply_busy)
    reply_next (s);
}

/* ---- read-ahead: the command side ---- */

static void
ahead_free (Ahead *a)
{
  g_free (a->status);
  g_free (a->error_line);
  g_clear_pointer (&a->head, g_bytes_unref);
  g_clear_pointer (&a->content, g_bytes_unref);
  g_clear_pointer (&a->wire, g_bytes_unref);
  g_clear_pointer (&a->store, store_job_free);
  g_free (a);
}

/* The entry leaves the budget: claimed by the client's RETR, or dropped. */
static void
ahead_release (SwPop3Session *s, Ahead *a)
{
  g_assert (!a->claimed && !a->dropped && s->ahead_unclaimed > 0);
  s->ahead_unclaimed--;
  s->ahead_bytes -= a->size;
}

static void
ahead_drop (SwPop3Session *s, Ahead *a)
{
  if (a->claimed || a->dropped)
    return;
  ahead_release (s, a);
  a->dropped = TRUE;
  g_clear_pointer (&a->head, g_bytes_unref);
  g_clear_pointer (&a->content, g_bytes_unref);
  g_clear_pointer (&a->wire, g_bytes_unref);
  g_clear_pointer (&a->store, store_job_free);
}

/* Stops reading ahead until the client's next RETR (see ahead_client_retr), and drops
 * every entry not claimed, except @keep's (0: none). */
static void
ahead_stop (SwPop3Session *s, guint keep)
{
  if (s->window > 0)
    g_debug ("%s#%u: read-ahead stopped", s->settings->account, s->id);
  s->window = 0;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, s->ahead);
  while (g_hash_table_iter_next (&it, NULL, &value))
    if (((Ahead *)value)->msgno != keep)
      ahead_drop (s, value);
}

/* Sends RETRs on our own account for the messages after the client's last RETR, up to the
 * window, the message count, the byte budget and the pipelining cap; asks STAT first when
 * the count is not known. Never a command that changes the mailbox. */
static void
ahead_fill (SwPop3Session *s)
{
  if (s->window == 0 || s->state != SW_POP3_STATE_TRANSACTION || s->upstream_lost || session_stopped (s))
    return;
  if (s->msg_count == 0)
    {
      if (!s->count_asked)
        {
          s->count_asked = TRUE;
          Pending *p = g_new0 (Pending, 1);
          p->cmd = CMD_STAT;
          p->speculative = TRUE;
          s->speculative++;
          g_queue_push_tail (&s->pending, p);
          write_bytes (s, FALSE, g_bytes_new_static ("STAT\r\n", 6), NULL);
          if (!s->reply_busy)
            reply_next (s);
        }
      return;
    }
  guint limit = (guint)MIN ((guint64)s->last_retr + s->window, (guint64)s->msg_count);
  if (s->ahead_next <= s->last_retr)
    s->ahead_next = s->last_retr + 1;
  /* Refill in steps of a quarter window (at the end of the mailbox, what is left): one
   * write, and one wake-up of the server, per few messages instead of per message. */
  guint step = MAX (1u, s->window / 4);
  if (s->ahead_next <= limit && limit - s->ahead_next + 1 < step && limit < s->msg_count)
    limit = s->ahead_next - 1;
  g_autoptr (GString) cmds = g_string_new (NULL);
  while (s->ahead_next <= limit && s->ahead_unclaimed < s->window && s->ahead_bytes < SW_POP3_READ_AHEAD_BUDGET
         && s->speculative - s->tops_pending < SW_POP3_MAX_READ_AHEAD)
    {
      guint n = s->ahead_next++;
      if (g_hash_table_contains (s->deleted, GUINT_TO_POINTER (n))
          || g_hash_table_contains (s->ahead, GUINT_TO_POINTER (n)))
        continue;
      Ahead *a = g_new0 (Ahead, 1);
      a->msgno = n;
      a->state = AHEAD_WAITING;
      g_hash_table_insert (s->ahead, GUINT_TO_POINTER (n), a);
      s->ahead_unclaimed++;
      Pending *p = g_new0 (Pending, 1);
      p->cmd = CMD_RETR;
      p->has_arg = TRUE;
      p->msgno = n;
      p->speculative = TRUE;
      p->ahead = a;
      s->speculative++;
      g_queue_push_tail (&s->pending, p);
      g_string_append_printf (cmds, "RETR %u\r\n", n);
    }
  /* DNS is slow: warm it for the messages after the window too, from their header blocks */
  if (s->slow_verifies > 0 && s->settings->header_ahead > 0 && !s->top_all_probing)
    {
      guint hlimit = (guint)MIN ((guint64)s->last_retr + s->window + s->settings->header_ahead,
                                 (guint64)s->msg_count);
      if (s->header_next < s->ahead_next)
        s->header_next = s->ahead_next;
      if (s->header_next <= hlimit)
        {
          guint from = s->header_next;
          s->header_next = hlimit + 1;
          if (cmds->len > 0)
            {
              g_debug ("%s#%u: read ahead: %s", s->settings->account, s->id, cmds->str);
              gsize len = cmds->len;
              write_bytes (s, FALSE, g_bytes_new_take (g_string_free (g_steal_pointer (&cmds), FALSE), len), NULL);
            }
          top_send (s, from, hlimit);
          return;
        }
    }
  if (cmds->len == 0)
    return;
  g_debug ("%s#%u: read ahead: %s", s->settings->account, s->id, cmds->str);
  gsize len = cmds->len;
  write_bytes (s, FALSE, g_bytes_new_take (g_string_free (g_steal_pointer (&cmds), FALSE), len), NULL);
  if (!s->reply_busy)
    reply_next (s);
}

/* ---- DNS warming from header blocks (TOP n 0) ---- */

#define TOP_ALL_MAX 2000u     /* messages of a mailbox whose header blocks are asked at most */
#define TOP_ALL_PROBE 32u     /* asked first; the rest only if a name of theirs was not cached */
#define TOP_ALL_CHUNK 64u     /* warming TOPs queued at most: a client's RETR, or a read-ahead
                               * one, waits behind at most this many header blocks */
#define TOP_BATCH 128u        /* header blocks per prefetch job */
#define TOP_BATCH_BYTES (4u * 1024 * 1024) /* or this many bytes of them */

typedef struct
{
  const SwPop3Settings *settings; /* valid while the session lives: the task holds it */
  GPtrArray *blocks;              /* GBytes* */
  GPtrArray *uidls;               /* char* or NULL */
  gint64 usec;
} TopBatchJob;

static void
top_batch_job_free (TopBatchJob *j)
{
  g_ptr_array_unref (j->blocks);
  g_ptr_array_unref (j->uidls);
  g_free (j);
}

static void
top_batch_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  (void)task;
  (void)source;
  TopBatchJob *j = task_data;
  if (g_cancellable_is_cancelled (cancellable))
    return;
  gint64 start = g_get_monotonic_time ();
  g_autoptr (GPtrArray) todo = g_ptr_array_new ();
  for (guint i = 0; i < j->blocks->len; i++)
    {
#ifdef SW_PROXY_HAVE_STORE
      /* a message whose verdict is stored is not verified again */
      const char *uidl = g_ptr_array_index (j->uidls, i);
      if (j->settings->store != NULL && uidl != NULL)
        {
          g_autoptr (GError) error = NULL;
          g_autoptr (SwStoreRecord) rec = sw_store_find (j->settings->store, j->settings->account, uidl, NULL, &error);
          if (rec != NULL)
            continue;
        }
#endif
      g_ptr_array_add (todo, g_ptr_array_index (j->blocks, i));
    }
  sw_verifier_prefetch_many (j->settings->verifier, (GBytes *const *)todo->pdata, todo->len);
  j->usec = g_get_monotonic_time () - start;
}

static void
top_batch_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  (void)source;
  SwPop3Session *s = user_data;
  TopBatchJob *j = g_task_get_task_data (G_TASK (res));
  g_debug ("%s#%u: DNS of %u header blocks warmed (%" G_GINT64_FORMAT " ms)", s->settings->account, s->id,
           j->blocks->len, j->usec / 1000);
  sw_pop3_session_unref (s);
}

/* Starts a prefetch job for the header blocks collected (in the proxy's pool). The
 * probe's blocks are prefetched at once, here (sw_verifier_prefetch_start never waits; the
 * store is not asked for them): if a name of theirs was not in the cache, the cache is cold
 * for this mailbox and the rest of it is asked at once, without waiting to see whether
 * the answers are slow to come. */
static void
top_flush (SwPop3Session *s)
{
  if (s->top_blocks == NULL || s->top_blocks->len == 0)
    return;
  s->top_bytes = 0;
  if (s->top_all_probing)
    {
      g_autoptr (GPtrArray) blocks = g_steal_pointer (&s->top_blocks);
      g_clear_pointer (&s->top_uidls, g_ptr_array_unref);
      s->top_all_probing = FALSE;
      guint sent = sw_verifier_prefetch_start (s->settings->verifier, (GBytes *const *)blocks->pdata, blocks->len);
      g_debug ("%s#%u: DNS of %u header blocks: %u names not cached", s->settings->account, s->id, blocks->len,
               sent);
      if (sent > 0)
        {
          g_debug ("%s#%u: DNS cache cold: warming the whole mailbox", s->settings->account, s->id);
          s->top_all_running = TRUE;
          top_all_pump (s);
        }
      return;
    }
  TopBatchJob *j = g_new0 (TopBatchJob, 1);
  j->settings = s->settings;
  j->blocks = g_steal_pointer (&s->top_blocks);
  j->uidls = g_steal_pointer (&s->top_uidls);
  g_autoptr (GTask) task = g_task_new (NULL, s->cancellable, top_batch_done, sw_pop3_session_ref (s));
  g_task_set_task_data (task, j, (GDestroyNotify)top_batch_job_free);
  sw_pop3_pool_run (s->settings, task, top_batch_thread);
}

/* The header block of a speculative TOP (NULL: none): prefetched with the next ones. */
static void
top_collect (SwPop3Session *s, GBytes *header_block, guint msgno)
{
  if (header_block == NULL)
    return;
  if (s->top_blocks == NULL)
    {
      s->top_blocks = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
      s->top_uidls = g_ptr_array_new_with_free_func (g_free);
    }
  g_ptr_array_add (s->top_blocks, g_bytes_ref (header_block));
  g_ptr_array_add (s->top_uidls, g_strdup (g_hash_table_lookup (s->uidls, GUINT_TO_POINTER (msgno))));
  s->top_bytes += g_bytes_get_size (header_block);
  if (s->top_blocks->len >= TOP_BATCH || s->top_bytes >= TOP_BATCH_BYTES)
    top_flush (s); /* the last TOP's reply_done() flushes the rest */
}

/* Sends TOP n 0 on our own account for messages @from..@to not DELEted nor warmed yet,
 * queued in order with the client's commands; nothing of the replies reaches the client. */
static void
top_send (SwPop3Session *s, guint from, guint to)
{
  if (s->state != SW_POP3_STATE_TRANSACTION || s->upstream_lost || session_stopped (s))
    return;
  g_autoptr (GString) cmds = g_string_new (NULL);
  guint n = from;
  for (; n <= to && s->speculative < TOP_ALL_MAX + 2 * SW_POP3_MAX_READ_AHEAD; n++)
    {
      if (g_hash_table_contains (s->deleted, GUINT_TO_POINTER (n))
          || g_hash_table_contains (s->warmed, GUINT_TO_POINTER (n))
          || g_hash_table_contains (s->ahead, GUINT_TO_POINTER (n)))
        continue;
      g_hash_table_add (s->warmed, GUINT_TO_POINTER (n));
      Pending *p = g_new0 (Pending, 1);
      p->cmd = CMD_TOP;
      p->has_arg = TRUE;
      p->msgno = n;
      p->speculative = TRUE;
      s->speculative++;
      s->tops_pending++;
      g_queue_push_tail (&s->pending, p);
      g_string_append_printf (cmds, "TOP %u 0\r\n", n);
    }
  if (n > s->top_all_next && s->top_all_next != 0)
    s->top_all_next = n;
  if (cmds->len == 0)
    return;
  g_debug ("%s#%u: header blocks: %s", s->settings->account, s->id, cmds->str);
  gsize len = cmds->len;
  write_bytes (s, FALSE, g_bytes_new_take (g_string_free (g_steal_pointer (&cmds), FALSE), len), NULL);
  if (!s->reply_busy)
    reply_next (s);
}

/* Whole-mailbox warming: queues the next TOPs while fewer than half a chunk are pending,
 * so that the server always has some to answer and the commands queued meanwhile (the
 * client's, read-ahead RETRs) never wait behind a thousand header blocks. */
static void
top_all_pump (SwPop3Session *s)
{
  while (s->top_all_running && s->top_all_next != 0 && s->top_all_next <= s->top_all_end
         && s->tops_pending <= TOP_ALL_CHUNK / 2)
    {
      guint before = s->top_all_next;
      top_send (s, before, MIN (s->top_all_end, before + TOP_ALL_CHUNK - 1));
      if (s->top_all_next == before)
        break; /* nothing could be queued (session over, or the cap on queued commands) */
    }
}

/* The message count is known: ask the header blocks of the whole mailbox (up to
 * TOP_ALL_MAX), the first TOP_ALL_PROBE at once and the rest when a name of theirs was not
 * in the DNS cache (with a warm cache they would only cost time): see top_flush(); at once
 * when the cache is empty. Either way the rest goes TOP_ALL_CHUNK at a time
 * (top_all_pump). */
static void
top_all_start (SwPop3Session *s)
{
  if (s->top_all_next != 0 || s->msg_count == 0 || s->settings->read_ahead == 0 || s->settings->header_ahead == 0)
    return;
  s->top_all_next = 1;
  s->top_all_end = MIN (s->msg_count, TOP_ALL_MAX);
  /* a resolver whose answer cache is empty (the process has just started) is certainly
   * cold: no probe, the whole mailbox at once */
  SwResolver *resolver = sw_verifier_get_resolver (s->settings->verifier);
  if (sw_resolver_has_async (resolver) && sw_resolver_get_cache_size (resolver) == 0)
    {
      g_debug ("%s#%u: DNS cache empty: warming the whole mailbox", s->settings->account, s->id);
      s->top_all_running = TRUE;
      top_all_pump (s);
      return;
    }
  s->top_all_probing = TRUE;
  top_send (s, 1, MIN (s->top_all_end, TOP_ALL_PROBE));
  if (s->tops_pending == 0)
    s->top_all_probing = FALSE;
}

/* The client's RETR @n: grows the window on a consecutive RETR, stops it otherwise.
 * Returns the entry that answers it (claimed), or NULL. */
static Ahead *
ahead_client_retr (SwPop3Session *s, guint n)
{
  if (s->settings->read_ahead == 0)
    return NULL;
  if (s->last_retr != 0 && n == s->last_retr + 1)
    s->window = s->window == 0 ? MIN (2u, s->settings->read_ahead) : MIN (s->window * 2, s->settings->read_ahead);
  else
    {
      gboolean first = s->last_retr == 0;
      ahead_stop (s, n);
      /* the session's first RETR (or the first after RSET): one message ahead already, as
       * a client that downloads the mailbox asks for the next one at once; a client that
       * wanted only this one costs one message read in vain */
      if (first)
        s->window = 1;
    }
  s->last_retr = n;
  Ahead *a = g_hash_table_lookup (s->ahead, GUINT_TO_POINTER (n));
  if (a == NULL || a->claimed || a->dropped)
    return NULL;
  ahead_release (s, a);
  a->claimed = TRUE;
  return a;
}

/* The client's DELE @n: never read it ahead; an entry not delivered is dropped (the
 * client's later RETR goes to the server, which answers it). */
static void
ahead_client_dele (SwPop3Session *s, guint n)
{
  g_hash_table_add (s->deleted, GUINT_TO_POINTER (n));
  Ahead *a = g_hash_table_lookup (s->ahead, GUINT_TO_POINTER (n));
  if (a != NULL)
    ahead_drop (s, a);
  else if (n > s->last_retr)
    s->window = 0; /* not the download-and-delete pattern: read no further ahead */
}

/* One client line: one switch on the session state. */
static void
handle_client_line (SwPop3Session *s, const char *line)
{
  switch (s->state)
    {
    case SW_POP3_STATE_AUTHORIZATION:
    case SW_POP3_STATE_TRANSACTION:
      {
        Command cmd = parse_command (line);
        log_line (s, "C:", line, commands[cmd].secret);
        if (g_queue_get_length (&s->pending) - s->speculative >= SW_POP3_MAX_PENDING_COMMANDS)
          {
            session_fail (s, "-ERR [SYS/PERM] Spoofwatch: too many pipelined commands\r\n");
            return;
          }
        g_autoptr (Pending) p = g_new0 (Pending, 1);
        p->cmd = cmd;
        const char *arg = line + strlen (commands[cmd].keyword);
        while (*arg == ' ')
          arg++;
        p->has_arg = cmd != CMD_OTHER && *arg != '\r' && *arg != '\n' && *arg != '\0';
        if (p->has_arg)
          {
            g_autofree char *word = g_strndup (arg, strcspn (arg, " \r\n"));
            guint64 n = 0;
            if (g_ascii_string_to_unsigned (word, 10, 1, G_MAXUINT, &n, NULL))
              p->msgno = (guint)n;
          }
        if (s->upstream_lost)
          p->lost = TRUE;
        switch (cmd)
          {
          case CMD_RETR:
            if (s->state == SW_POP3_STATE_TRANSACTION && p->msgno != 0)
              p->ahead = ahead_client_retr (s, p->msgno);
            if (p->ahead != NULL)
              p->lost = FALSE;
            break;
          case CMD_DELE:
            if (s->state == SW_POP3_STATE_TRANSACTION && p->msgno != 0)
              ahead_client_dele (s, p->msgno);
            break;
          case CMD_RSET:
            /* the messages read ahead stay valid: RSET only undoes DELE */
            g_hash_table_remove_all (s->deleted);
            s->window = 0;
            s->last_retr = 0;
            break;
          case CMD_TOP:
            s->window = 0; /* a preview: read no further ahead until two consecutive RETRs */
            break;
          case CMD_STLS:
            /* the client talks plain text to us on loopback; the upstream link is secured by us */
            p->local
                = g_strdup ("-ERR Spoofwatch secures the server connection itself; STLS is not offered\r\n");
            break;
          case CMD_AUTH:
            if (p->has_arg)
              {
                s->client_paused = TRUE; /* the next client line depends on the reply */
                set_state (s, SW_POP3_STATE_SASL);
              }
            break;
          case CMD_QUIT:
            set_state (s, SW_POP3_STATE_QUIT);
            /* after the speculative replies have been read (and dropped) */
            if (s->speculative > 0 && !p->lost)
              p->deferred = g_strdup (line);
            break;
          default:
            break;
          }
        /* A RETR answered from read-ahead needs nothing from the server. Ready and
         * nothing of the client's before it: answered now. If its verdict is still to
         * come, send the next speculative commands first, so that their replies are read
         * (and verified) while it waits at the head of the queue; if it is ready, answer
         * it first (the client is waiting). */
        if (cmd == CMD_RETR && serve_out_of_turn (s, p))
          {
            client_read_next (s);
            ahead_fill (s);
            return;
          }
        gboolean waits = p->ahead != NULL
                         && (p->ahead->state == AHEAD_WAITING || p->ahead->state == AHEAD_VERIFYING);
        if (cmd == CMD_RETR && waits)
          ahead_fill (s);
        gboolean fill_after = cmd == CMD_RETR && !waits;
        enqueue_and_forward (s, g_steal_pointer (&p), line);
        if (fill_after)
          ahead_fill (s);
        return;
      }
    case SW_POP3_STATE_SASL:
      {
        g_info ("%s#%u: C: (SASL response, not logged)", s->settings->account, s->id);
        s->client_paused = TRUE;
        write_bytes (s, FALSE, g_bytes_new (line, strlen (line)), forwarded);
        return;
      }
    case SW_POP3_STATE_CONNECTING:
    case SW_POP3_STATE_QUIT:
    case SW_POP3_STATE_CLOSED:
      /* client_read_next never reads in these states */
      g_assert_not_reached ();
    case SW_POP3_STATE_COUNT:
    default:
      g_assert_not_reached ();
    }
}

static void
client_line_read (GObject *source, GAsyncResult *res, gpointer user_data)
{
  SwPop3Session *s = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *line = sw_pop3_read_line_finish (G_BUFFERED_INPUT_STREAM (source), res, &error);
  s->client_reading = FALSE;
  if (session_stopped (s) || s->state == SW_POP3_STATE_QUIT)
    ;
  else if (line == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE))
        session_fail (s, "-ERR [SYS/PERM] Spoofwatch: command line too long\r\n");
      else
        {
          g_info ("%s#%u: client gone: %s", s->settings->account, s->id, error->message);
          sw_pop3_session_close (s);
        }
    }
  else
    handle_client_line (s, line);
  sw_pop3_session_unref (s);
}

static void
client_read_next (SwPop3Session *s)
{
  if (s->client_reading || s->client_paused)
    return;
  switch (s->state)
    {
    case SW_POP3_STATE_AUTHORIZATION:
    case SW_POP3_STATE_SASL:
    case SW_POP3_STATE_TRANSACTION:
      s->client_reading = TRUE;
      sw_pop3_read_line_async (s->client_in, SW_POP3_MAX_LINE, s->cancellable, client_line_read,
                               sw_pop3_session_ref (s));
      return;
    default:
      return;
    }
}

/* ---- the reply side ---- */

static gboolean
is_ok (const char *line)
{
  return g_str_has_prefix (line, "+OK");
}

static gboolean
is_end_line (const char *line)
{
  return strcmp (line, ".\r\n") == 0 || strcmp (line, ".\n") == 0;
}

/* "<prefix><number> <size><rest>": the size plus our allowance (LIST and STAT sizes count
 * the header lines we add; docs/pop3-proxy.md). @count is how many messages the size
 * covers (STAT: its first number) or 1. Lines that do not parse are returned unchanged. */
static char *
add_allowance (const char *line, gsize prefix_len, gboolean stat)
{
  const char *p = line + prefix_len;
  while (*p == ' ')
    p++;
  char *end = NULL;
  errno = 0;
  guint64 first = g_ascii_strtoull (p, &end, 10);
  if (end == p || *end != ' ' || errno != 0)
    return g_strdup (line);
  const char *q = end + 1;
  guint64 size = g_ascii_strtoull (q, &end, 10);
  if (end == q || errno != 0 || !(*end == ' ' || *end == '\r' || *end == '\n'))
    return g_strdup (line);
  guint64 add = (stat ? first : 1) * SW_POP3_SIZE_ALLOWANCE;
  if (size > G_MAXUINT64 - add)
    return g_strdup (line);
  return g_strdup_printf ("%.*s%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT "%s", (int)(p - line), line, first,
                          size + add, end);
}

static void
learn_uidl (SwPop3Session *s, const char *text)
{
  char *end = NULL;
  guint64 n = g_ascii_strtoull (text, &end, 10);
  if (end == text || *end != ' ' || n == 0 || n > G_MAXUINT)
    return;
  const char *uid = end + 1;
  gsize len = strcspn (uid, " \r\n");
  if (len == 0 || len > 70) /* RFC 1939: 1 to 70 characters */
    return;
  g_hash_table_insert (s->uidls, GUINT_TO_POINTER ((guint)n), g_strndup (uid, len));
}

static void multi_line_read (GObject *source, GAsyncResult *res, gpointer user_data);
static void multi_line_step (SwPop3Session *s, GString *out);

static void
read_multi_next (SwPop3Session *s)
{
  g_autoptr (GString) out = g_string_new (NULL);
  multi_line_step (s, out);
}

/* One line of a multi-line reply, appended to @out as the client gets it. FALSE at the
 * end line (appended too). */
static gboolean
multi_line_take (SwPop3Session *s, Pending *head, const char *line, GString *out)
{
  if (is_end_line (line))
    {
      g_string_append (out, line);
      return FALSE;
    }
  switch (head->cmd)
    {
    case CMD_CAPA:
      /* STLS: the client talks plain text to us on loopback. PIPELINING is kept:
       * replies stay in order. SASL mechanisms pass unchanged. */
      if (sw_pop3_line_has_keyword (line, "STLS"))
        return TRUE;
      break;
    case CMD_LIST:
      {
        guint64 n = g_ascii_strtoull (line, NULL, 10);
        if (n > s->msg_count && n <= G_MAXUINT)
          s->msg_count = (guint)n;
        g_autofree char *sized = add_allowance (line, 0, FALSE);
        g_string_append (out, sized);
        return TRUE;
      }
    case CMD_UIDL:
      learn_uidl (s, line);
      break;
    default:
      break;
    }
  g_string_append (out, line);
  return TRUE;
}

/* Takes every line already buffered and sends them in one write: no main-loop round trip
 * per line of a long LIST or UIDL. */
static void
multi_line_step (SwPop3Session *s, GString *out)
{
  Pending *head = g_queue_peek_head (&s->pending);
  for (;;)
    {
      g_autofree char *line = NULL;
      g_autoptr (GError) error = NULL;
      if (!sw_pop3_try_read_line (s->upstream->in, SW_POP3_MAX_LINE, &line, &error))
        break;
      if (line == NULL || ++s->reply_lines > SW_POP3_MAX_RESPONSE_LINES)
        {
          session_fail (s, NULL); /* the client already has the +OK of a list: closing is all we can do */
          return;
        }
      if (!multi_line_take (s, head, line, out))
        {
          write_bytes (s, TRUE, g_bytes_new (out->str, out->len), reply_done);
          return;
        }
    }
  if (out->len > 0)
    write_bytes (s, TRUE, g_bytes_new (out->str, out->len), read_multi_next);
  else
    sw_pop3_read_line_async (s->upstream->in, SW_POP3_MAX_LINE, s->cancellable, multi_line_read,
                             sw_pop3_session_ref (s));
}

static void
multi_line_read (GObject *source, GAsyncResult *res, gpointer user_data)
{
  SwPop3Session *s = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *line = sw_pop3_read_line_finish (G_BUFFERED_INPUT_STREAM (source), res, &error);
  if (session_stopped (s))
    ;
  else if (line == NULL || ++s->reply_lines > SW_POP3_MAX_RESPONSE_LINES)
    session_fail (s, NULL);
  else
    {
      g_autoptr (GString) out = g_string_new (NULL);
      if (!multi_line_take (s, g_queue_peek_head (&s->pending), line, out))
        write_bytes (s, TRUE, g_bytes_new (out->str, out->len), reply_done);
      else
        multi_line_step (s, out);
    }
  sw_pop3_session_unref (s);
}

/* ---- held messages (RETR/TOP) ---- */

/* A verdict to store once the message is delivered (read-ahead: never for a message the
 * client did not get). */
typedef struct
{
  const SwPop3Settings *settings;
  SwVerifyResult *result;
  char *hash;
  char *uidl;
} StoreJob;

static void
store_job_free (gpointer data)
{
  StoreJob *sj = data;
  g_clear_pointer (&sj->result, sw_verify_result_free);
  g_free (sj->hash);
  g_free (sj->uidl);
  g_free (sj);
}

/* In a worker thread. */
static void
store_put (StoreJob *sj)
{
#ifdef SW_PROXY_HAVE_STORE
  const SwPop3Settings *st = sj->settings;
  const SwVerifyResult *result = sj->result;
  const char *authserv_id = sw_verifier_get_authserv_id (st->verifier);
  g_autofree char *added = sw_verify_format_headers (result, authserv_id, "\r\n");
  g_autofree char *json = sw_verify_result_to_json (result, NULL, -1, FALSE);
  SwStoreRecord rec = {
    .account = (char *)st->account,
    .message_id = result->message_id,
    .uidl = sj->uidl,
    .message_hash = sj->hash,
    .date = -1,
    .verified_at = result->verified_at,
    .from_header = result->from_header,
    .from_domain = result->from_domain_display ? result->from_domain_display : result->from_domain,
    .subject = result->subject,
    .verdict = result->verdict,
    .explanation = result->explanation,
    .evidence_json = json,
    .added_headers = added,
  };
  g_autoptr (GError) error = NULL;
  gint64 id = 0;
  if (!sw_store_put (st->store, &rec, &id, &error))
    g_message ("%s: cannot store the verdict: %s", st->account, error->message);
  else if (st->on_verdict != NULL)
    st->on_verdict (id, st->on_verdict_data);
#else
  (void)sj;
#endif
}

static void
store_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  (void)task;
  (void)source;
  (void)cancellable;
  store_put (task_data);
}

static void
store_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  (void)source;
  (void)res;
  sw_pop3_session_unref (user_data); /* in the proxy thread */
}

static void
store_later (SwPop3Session *s, StoreJob *sj)
{
  g_autoptr (GTask) task = g_task_new (NULL, NULL, store_done, sw_pop3_session_ref (s));
  g_task_set_task_data (task, sj, store_job_free);
  sw_pop3_pool_run (s->settings, task, store_thread);
}

typedef struct
{
  const SwPop3Settings *settings;
  GBytes *content;
  gboolean spooled;          /* content is the mapped spool file */
  gboolean bodies_failed;    /* the body hashes were not enough (NEEDS_BODY) */
  GBytes *header_block;      /* spooled: the header block, verified with ... */
  SwDkimBodyHasher *bodies;  /* ... the body hashes computed as it arrived; or NULL */
  char *hash; /* the store's key: hex SHA-256 of content, or NULL until computed */
  char *uidl;
  guint msgno;
  char *status; /* the server's +OK line */
  gboolean top;
  gboolean defer_store; /* read ahead: store only once delivered */
  Ahead *ahead;         /* read ahead: the entry that gets the result */
  /* results */
  GBytes *head;      /* our header lines + the original header block, forged fields removed */
  gsize body_offset; /* where the original body starts in content */
  GBytes *wire;      /* or the whole reply for the client, built in the pool (then head and content are NULL) */
  SwVerdict verdict;
  gboolean from_store;
  StoreJob *store; /* defer_store: the verdict to store, or NULL */
  gint64 usec;     /* time verification took */
  gboolean missed; /* a DNS answer it needed was not in the cache */
} VerifyJob;

static void
verify_job_free (VerifyJob *j)
{
  g_clear_pointer (&j->content, g_bytes_unref);
  g_clear_pointer (&j->header_block, g_bytes_unref);
  g_clear_pointer (&j->bodies, sw_dkim_body_hasher_free);
  g_clear_pointer (&j->head, g_bytes_unref);
  g_clear_pointer (&j->wire, g_bytes_unref);
  g_clear_pointer (&j->store, store_job_free);
  g_free (j->hash);
  g_free (j->uidl);
  g_free (j->status);
  g_free (j);
}

static void prepare_wire (VerifyJob *j);

/* Verifies j's message (or takes its stored verdict) and builds our header block. With
 * @cache_only (the fast lane), DNS answers come from the cache only: FALSE, with nothing
 * changed but the store's hash, when one was missing (then run it again with FALSE). */
static gboolean
verify_run (VerifyJob *j, gboolean cache_only)
{
  const SwPop3Settings *st = j->settings;
  const char *authserv_id = sw_verifier_get_authserv_id (st->verifier);
  gint64 start = g_get_monotonic_time ();
  gsize size = 0;
  const guint8 *data = g_bytes_get_data (j->content, &size);
  j->body_offset = sw_pop3_header_block_length (data, size);
  g_autoptr (GBytes) head = g_bytes_new_from_bytes (j->content, 0, j->body_offset);

  /* the store's key (a spooled message's was computed as it arrived) */
  if (st->store != NULL && !j->top && j->hash == NULL)
    j->hash = sw_pop3_content_hash (j->content);

#ifdef SW_PROXY_HAVE_STORE
  if (st->store != NULL)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SwStoreRecord) rec = NULL;
      /* TOP has no hash of the whole message: only a UIDL finds its record */
      if (!j->top || j->uidl != NULL)
        rec = sw_store_find (st->store, st->account, j->uidl, j->top ? NULL : j->hash, &error);
      if (error != NULL)
        g_message ("%s: verdict store lookup failed: %s", st->account, error->message);
      if (rec != NULL && rec->added_headers != NULL)
        {
          j->head = sw_verify_prepend_headers (head, rec->added_headers, authserv_id);
          j->verdict = rec->verdict;
          j->from_store = TRUE;
          j->usec = g_get_monotonic_time () - start;
          return TRUE;
        }
    }
#endif

  g_autoptr (SwVerifyResult) result = NULL;
  if (j->top)
    result = sw_verify_result_new_error (SW_VERDICT_TEMPERROR,
                                         "not verified yet: TOP shows part of the message; "
                                         "it is verified when downloaded with RETR");
  else if (g_atomic_int_get (&st->paused))
    result = sw_verify_result_new_error (SW_VERDICT_TEMPERROR, "not verified: protection paused");
  else
    {
      g_autoptr (GError) error = NULL;
      gboolean ok = FALSE;
      if (cache_only)
        sw_resolver_thread_begin_cache_only ();
      if (j->bodies != NULL)
        {
          /* a spooled message: from its header block and body hashes, so that its body
           * is not read back into memory */
          ok = sw_verifier_verify_prehashed (st->verifier, j->header_block, j->bodies, NULL, &result, &error);
          if (ok)
            g_debug ("%s: verified from the header block and the body hashes computed on arrival", st->account);
          if (!ok && g_error_matches (error, SW_VERIFIER_ERROR, SW_VERIFIER_ERROR_NEEDS_BODY))
            {
              g_debug ("%s: a signature needs the whole message: verified from the spool file", st->account);
              g_clear_error (&error);
              j->bodies_failed = TRUE;
            }
        }
      if (j->bodies == NULL || j->bodies_failed)
        ok = sw_verifier_verify (st->verifier, j->content, NULL, &result, &error);
      if (cache_only && sw_resolver_thread_end () > 0)
        return FALSE; /* a DNS answer was not cached: again, in a thread that may wait */
      if (!ok)
        {
          g_message ("%s: verification could not run, delivering with temperror: %s", st->account,
                     error->message);
          result = sw_verify_result_new_error (SW_VERDICT_TEMPERROR, error->message);
        }
    }
  j->verdict = result->verdict;
  j->head = sw_verify_apply_headers (head, result, authserv_id);
  j->usec = g_get_monotonic_time () - start;

  /* a fault (temperror) is not stored: the next download verifies again */
  if (st->store != NULL && !j->top && result->verdict != SW_VERDICT_TEMPERROR)
    {
      StoreJob *sj = g_new0 (StoreJob, 1);
      sj->settings = st;
      sj->result = g_steal_pointer (&result);
      sj->hash = g_strdup (j->hash);
      sj->uidl = g_strdup (j->uidl);
      if (j->defer_store)
        j->store = sj;
      else
        {
          store_put (sj);
          store_job_free (sj);
        }
    }
  return TRUE;
}

static void
verify_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  (void)task;
  (void)source;
  (void)cancellable;
  VerifyJob *j = task_data;
  sw_resolver_thread_begin_counting ();
  (void)verify_run (j, FALSE);
  if (sw_resolver_thread_end () > 0)
    j->missed = TRUE;
  prepare_wire (j);
}

/* The fast lane's try (sw_pop3_pool_run_fast): FALSE sends it on to verify_thread. */
static gboolean
verify_fast (GTask *task, gpointer task_data)
{
  (void)task;
  VerifyJob *j = task_data;
  if (!verify_run (j, TRUE))
    {
      j->missed = TRUE;
      return FALSE;
    }
  prepare_wire (task_data);
  return TRUE;
}

#define SEND_CHUNK (256u * 1024)
#define SLOW_VERIFY_USEC 20000 /* a verification this long waited on DNS (not only on a busy CPU) */
#define SLOW_VERIFY_MEMORY 16 /* messages to prefetch at once after one */

static void
sending_set (SwPop3Session *s, Sending *snd)
{
  if (s->sending != NULL)
    {
      g_bytes_unref (s->sending->content);
      g_free (s->sending);
    }
  s->sending = snd;
}

/* Gives back the resident pages of a part of the mapped spool file that has been sent
 * (whole pages inside @data .. @data + @len): the mapping is read-only and private, so
 * the kernel reads them from the file again should they be touched, and a 50 MB message
 * never has 50 MB resident. */
static void
release_pages (const guint8 *data, gsize len)
{
  gsize page = (gsize)sysconf (_SC_PAGESIZE);
  guintptr start = ((guintptr)data + page - 1) & ~(guintptr)(page - 1);
  guintptr end = ((guintptr)data + len) & ~(guintptr)(page - 1);
  if (end > start && madvise ((void *)start, end - start, MADV_DONTNEED) != 0)
    g_debug ("madvise: %s", g_strerror (errno));
}

/* Appends the next chunk of the body (at most SEND_CHUNK bytes) to @out, stuffed, and the
 * terminating dot when the body is done: one write carries a small message whole, so no
 * tiny last segment waits for the client's delayed ACK (Nagle). TRUE when done. */
static gboolean
append_body_chunk (SwPop3Session *s, GByteArray *out)
{
  Sending *snd = s->sending;
  gsize size = 0;
  const guint8 *data = g_bytes_get_data (snd->content, &size);
  gsize n = MIN (SEND_CHUNK, size - snd->pos);
  if (n > 0)
    {
      sw_pop3_stuff (out, data + snd->pos, n, &snd->at_line_start);
      if (snd->spooled)
        release_pages (data + snd->pos, n);
      snd->pos += n;
      snd->ended_with_nl = data[snd->pos - 1] == '\n';
    }
  if (snd->pos < size)
    return FALSE;
  const char *end = snd->ended_with_nl ? ".\r\n" : "\r\n.\r\n";
  g_byte_array_append (out, (const guint8 *)end, (guint)strlen (end));
  sending_set (s, NULL);
  return TRUE;
}

static void
send_body_chunk (SwPop3Session *s)
{
  GByteArray *out = g_byte_array_sized_new (SEND_CHUNK + SEND_CHUNK / 8);
  gboolean done = append_body_chunk (s, out);
  write_bytes (s, TRUE, g_byte_array_free_to_bytes (out), done ? reply_done : send_body_chunk);
}

/* Sends the head's reply: @status, our header block @head, the body of @content from
 * @body_offset, stuffed, and the terminator; then reply_done(). */
static void
deliver (SwPop3Session *s, const char *status, GBytes *head, GBytes *content, gboolean spooled, gsize body_offset)
{
  gsize hlen = 0;
  const guint8 *hdata = g_bytes_get_data (head, &hlen);
  GByteArray *out = g_byte_array_sized_new ((guint)(hlen + strlen (status) + 64));
  g_byte_array_append (out, (const guint8 *)status, (guint)strlen (status));
  gboolean at_line_start = TRUE;
  sw_pop3_stuff (out, hdata, hlen, &at_line_start);
  Sending *snd = g_new0 (Sending, 1);
  snd->content = g_bytes_new_from_bytes (content, body_offset, g_bytes_get_size (content) - body_offset);
  snd->at_line_start = at_line_start;
  snd->spooled = spooled;
  snd->ended_with_nl = hlen == 0 || hdata[hlen - 1] == '\n';
  sending_set (s, snd);
  gboolean done = append_body_chunk (s, out);
  write_bytes (s, TRUE, g_byte_array_free_to_bytes (out), done ? reply_done : send_body_chunk);
}

/* In the pool, after verification: the reply of a message held in memory whose body fits
 * in one chunk, exactly as deliver() would send it (status, our header block and the
 * original one stuffed, the body stuffed, the terminator), so that the network thread
 * only writes it. */
static void
prepare_wire (VerifyJob *j)
{
  if (j->spooled || j->head == NULL || j->content == NULL || j->status == NULL)
    return;
  gsize size = 0, hlen = 0;
  const guint8 *data = g_bytes_get_data (j->content, &size);
  const guint8 *hdata = g_bytes_get_data (j->head, &hlen);
  gsize blen = size - j->body_offset;
  if (blen > SEND_CHUNK)
    return;
  gsize slen = strlen (j->status);
  GByteArray *out = g_byte_array_sized_new ((guint)(slen + hlen + blen + (hlen + blen) / 16 + 8));
  g_byte_array_append (out, (const guint8 *)j->status, (guint)slen);
  gboolean at_line_start = TRUE;
  sw_pop3_stuff (out, hdata, hlen, &at_line_start);
  gboolean ended_with_nl = hlen == 0 || hdata[hlen - 1] == '\n';
  if (blen > 0)
    {
      sw_pop3_stuff (out, data + j->body_offset, blen, &at_line_start);
      ended_with_nl = data[size - 1] == '\n';
    }
  const char *end = ended_with_nl ? ".\r\n" : "\r\n.\r\n";
  g_byte_array_append (out, (const guint8 *)end, (guint)strlen (end));
  j->wire = g_byte_array_free_to_bytes (out);
  g_clear_pointer (&j->head, g_bytes_unref);
  g_clear_pointer (&j->content, g_bytes_unref);
}

/* A RETR whose read-ahead entry is ready (the whole reply built) is answered at once when
 * no reply of the client's is queued before it and none is being written: only
 * speculative replies are ahead of it in the queue, and the client never sees those. It
 * does not wait for the server to send them (the messages read ahead after it): that wait
 * was most of the time the client spent per message. TRUE if answered (@p is done with). */
static void send_ready (SwPop3Session *s, Ahead *a, WriteDone then);

static gboolean
serve_out_of_turn (SwPop3Session *s, Pending *p)
{
  Ahead *a = p->ahead;
  if (a == NULL || a->state != AHEAD_READY || a->wire == NULL || s->client_writing || s->sending != NULL
      || s->failing || g_queue_get_length (&s->pending) != s->speculative)
    return FALSE;
  send_ready (s, a, NULL);
  return TRUE;
}

/* Sends ready entry @a to the client (the same bytes as without read-ahead), stores its
 * verdict now that it is delivered, then @then. An entry without its whole reply built
 * goes through deliver(), in chunks, which ends with reply_done(): the queue's head only. */
static void
send_ready (SwPop3Session *s, Ahead *a, WriteDone then)
{
  g_assert (a->wire != NULL || then == reply_done);
  g_info ("%s#%u: RETR %u answered from read-ahead", s->settings->account, s->id, a->msgno);
  if (a->store != NULL)
    store_later (s, g_steal_pointer (&a->store));
  if (a->wire != NULL)
    write_bytes (s, TRUE, g_steal_pointer (&a->wire), then);
  else
    deliver (s, a->status, a->head, a->content, a->spooled, a->body_offset);
  g_clear_pointer (&a->head, g_bytes_unref);
  g_clear_pointer (&a->content, g_bytes_unref);
}

/* The head is the client's RETR answered by read-ahead entry @a: send what it holds, or
 * wait for its verdict. */
static void
serve_ahead (SwPop3Session *s, Ahead *a)
{
  switch (a->state)
    {
    case AHEAD_WAITING:
    case AHEAD_VERIFYING:
      if (!a->awaited)
        g_debug ("%s#%u: RETR %u waits for read-ahead (%s)", s->settings->account, s->id, a->msgno,
                 ahead_state_names[a->state]);
      a->awaited = TRUE;
      return;
    case AHEAD_READY:
      a->awaited = FALSE;
      send_ready (s, a, reply_done);
      return;
    case AHEAD_FAILED:
      a->awaited = FALSE;
      write_client (s, a->error_line, reply_done);
      return;
    case AHEAD_BROKEN:
      session_fail (s, "-ERR [SYS/TEMP] Spoofwatch: the server closed the connection in the middle of the "
                       "message; it stays on the server\r\n");
      return;
    case AHEAD_STATE_COUNT:
    default:
      g_assert_not_reached ();
    }
}

static void
ahead_set_state (SwPop3Session *s, Ahead *a, AheadState state)
{
  g_debug ("%s#%u: read-ahead %u: %s -> %s", s->settings->account, s->id, a->msgno, ahead_state_names[a->state],
           ahead_state_names[state]);
  a->state = state;
  if (a->awaited && state != AHEAD_VERIFYING && !session_stopped (s))
    serve_ahead (s, a);
}

static void
verified (GObject *source, GAsyncResult *res, gpointer user_data)
{
  (void)source;
  SwPop3Session *s = user_data;
  VerifyJob *j = g_task_get_task_data (G_TASK (res));
  if (j->usec > SLOW_VERIFY_USEC)
    s->slow_verifies = SLOW_VERIFY_MEMORY;
  else if (s->slow_verifies > 0)
    s->slow_verifies--;
  s->cache_warm = !j->missed;
  if (!session_stopped (s))
    {
      g_info ("%s#%u: message %u (%s): %s%s%s (%" G_GINT64_FORMAT " ms)", s->settings->account, s->id, j->msgno,
              j->uidl ? j->uidl : "no UIDL", sw_verdict_to_string (j->verdict),
              j->from_store ? " (stored verdict)" : "", j->ahead ? " (read ahead)" : "", j->usec / 1000);
      Ahead *a = j->ahead;
      if (a == NULL && j->wire != NULL)
        write_bytes (s, TRUE, g_steal_pointer (&j->wire), reply_done);
      else if (a == NULL)
        deliver (s, j->status, j->head, j->content, j->spooled, j->body_offset);
      else if (!a->dropped)
        {
          a->status = g_steal_pointer (&j->status);
          a->head = g_steal_pointer (&j->head);
          a->content = g_steal_pointer (&j->content);
          a->wire = g_steal_pointer (&j->wire);
          a->spooled = j->spooled;
          a->body_offset = j->body_offset;
          a->store = g_steal_pointer (&j->store);
          ahead_set_state (s, a, AHEAD_READY);
        }
    }
  sw_pop3_session_unref (s);
}

static void
message_complete (SwPop3Session *s)
{
  Pending *head = g_queue_peek_head (&s->pending);
  Ahead *a = head->speculative ? head->ahead : NULL;
  if (head->speculative && head->cmd == CMD_TOP)
    {
      /* header window: only the DNS prefetch, nothing is kept */
      g_autoptr (GBytes) header_block = s->message_too_big ? NULL : sw_pop3_message_take_header_block (s->message);
      top_collect (s, header_block, head->msgno);
      g_clear_pointer (&s->held_status, g_free);
      g_clear_pointer (&s->message, sw_pop3_message_free);
      reply_done (s);
      return;
    }
  if (s->message_too_big)
    {
      g_autofree char *text
          = g_strdup_printf ("-ERR [SYS/PERM] Spoofwatch: message over %" G_GSIZE_FORMAT
                             " bytes, not delivered through the proxy; it stays on the server\r\n",
                             s->settings->max_message);
      g_clear_pointer (&s->held_status, g_free);
      g_clear_pointer (&s->message, sw_pop3_message_free);
      if (a == NULL)
        write_client (s, text, reply_done);
      else
        {
          a->error_line = g_steal_pointer (&text);
          ahead_set_state (s, a, AHEAD_FAILED);
          reply_done (s);
        }
      return;
    }
  if (a != NULL && a->dropped)
    {
      g_clear_pointer (&s->held_status, g_free);
      g_clear_pointer (&s->message, sw_pop3_message_free);
      reply_done (s);
      return;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) content = sw_pop3_message_get_bytes (s->message, &error);
  if (content == NULL)
    {
      g_message ("%s#%u: cannot read the held message back: %s", s->settings->account, s->id, error->message);
      session_fail (s, "-ERR [SYS/TEMP] Spoofwatch: cannot hold the message (spool file)\r\n");
      return;
    }
  const char *uidl = g_hash_table_lookup (s->uidls, GUINT_TO_POINTER (head->msgno));
  /* DNS slow lately: ask verification's first questions all at once, beside it */
  if (s->slow_verifies > 0 && s->settings->header_ahead > 0 && head->cmd == CMD_RETR
      && !g_hash_table_contains (s->warmed, GUINT_TO_POINTER (head->msgno)))
    {
      g_autoptr (GBytes) header_block = sw_pop3_message_take_header_block (s->message);
      if (header_block != NULL)
        sw_pop3_prefetch_start (s->settings, s, header_block, uidl, s->cancellable);
    }
  VerifyJob *j = g_new0 (VerifyJob, 1);
  j->settings = s->settings;
  j->spooled = sw_pop3_message_is_spooled (s->message);
  if (head->cmd == CMD_RETR)
    (void)sw_pop3_message_steal_prehashed (s->message, &j->header_block, &j->bodies);
  j->content = g_steal_pointer (&content);
  j->hash = g_strdup (sw_pop3_message_get_hash (s->message));
  j->top = head->cmd == CMD_TOP;
  j->uidl = g_strdup (uidl);
  j->msgno = head->msgno;
  j->status = g_steal_pointer (&s->held_status);
  j->ahead = a;
  j->defer_store = a != NULL;
  g_clear_pointer (&s->message, sw_pop3_message_free);
  gsize size = g_bytes_get_size (j->content);
  g_autoptr (GTask) task = g_task_new (NULL, NULL, verified, sw_pop3_session_ref (s));
  g_task_set_task_data (task, j, (GDestroyNotify)verify_job_free);
  /* the last verification found every DNS answer in the cache, and a message in memory:
   * the fast lane first (it hands the job on to the pool if an answer is missing) */
  if (s->cache_warm && !j->spooled)
    sw_pop3_pool_run_fast (s->settings, task, verify_fast, verify_thread);
  else
    sw_pop3_pool_run (s->settings, task, verify_thread);
  /* j belongs to the pool now */
  if (a != NULL)
    {
      a->size = size;
      if (!a->claimed)
        s->ahead_bytes += a->size;
      ahead_set_state (s, a, AHEAD_VERIFYING);
      reply_done (s); /* on to the next reply while this one is verified */
    }
}

/* The server connection is gone while the head (speculative) was being read: entries not
 * complete are broken; replies already held are still delivered; commands that needed the
 * server get -ERR when their turn comes. */
static void
upstream_lost (SwPop3Session *s, const char *why)
{
  g_message ("%s#%u: the server closed the connection during read-ahead%s%s", s->settings->account, s->id,
             why ? ": " : "", why ? why : "");
  s->upstream_lost = TRUE;
  s->window = 0;
  g_clear_pointer (&s->held_status, g_free);
  g_clear_pointer (&s->message, sw_pop3_message_free);
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, s->ahead);
  while (g_hash_table_iter_next (&it, NULL, &value))
    if (((Ahead *)value)->state == AHEAD_WAITING)
      ahead_set_state (s, value, AHEAD_BROKEN);
  for (GList *l = s->pending.head; l != NULL; l = l->next)
    {
      Pending *p = l->data;
      if (p->speculative || (p->ahead == NULL && p->local == NULL))
        p->lost = TRUE;
    }
  reply_done (s);
}

static void message_data_step (SwPop3Session *s);

static void
message_filled (GObject *source, GAsyncResult *res, gpointer user_data)
{
  SwPop3Session *s = user_data;
  g_autoptr (GError) error = NULL;
  gssize n = sw_pop3_fill_finish (G_BUFFERED_INPUT_STREAM (source), res, &error);
  Pending *head = g_queue_peek_head (&s->pending);
  if (session_stopped (s))
    ;
  else if (n <= 0 && head->speculative)
    upstream_lost (s, error ? error->message : NULL);
  else if (n <= 0)
    {
      g_message ("%s#%u: the server closed the connection mid-message%s%s", s->settings->account, s->id,
                 error ? ": " : "", error ? error->message : "");
      /* never +OK with a truncated message */
      session_fail (s, "-ERR [SYS/TEMP] Spoofwatch: the server closed the connection in the middle of the "
                       "message; it stays on the server\r\n");
    }
  else
    message_data_step (s);
  sw_pop3_session_unref (s);
}

static void
message_data_step (SwPop3Session *s)
{
  GBufferedInputStream *in = s->upstream->in;
  for (;;)
    {
      gsize avail = 0;
      const guint8 *buf = g_buffered_input_stream_peek_buffer (in, &avail);
      if (avail == 0)
        {
          sw_pop3_fill_async (in, s->cancellable, message_filled, sw_pop3_session_ref (s));
          return;
        }
      gsize consumed = 0;
      gboolean done = FALSE;
      g_autoptr (GError) error = NULL;
      if (!sw_pop3_message_feed (s->message, buf, avail, &consumed, &done, &error))
        {
          if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE))
            {
              g_message ("%s#%u: cannot hold the message: %s", s->settings->account, s->id, error->message);
              session_fail (s, "-ERR [SYS/TEMP] Spoofwatch: cannot hold the message (spool file)\r\n");
              return;
            }
          g_message ("%s#%u: %s: not delivered through the proxy", s->settings->account, s->id,
                     error->message);
          s->message_too_big = TRUE;
          sw_pop3_message_discard (s->message);
        }
      if (consumed > 0 && g_input_stream_skip (G_INPUT_STREAM (in), consumed, NULL, NULL) != (gssize)consumed)
        {
          session_fail (s, "-ERR [SYS/TEMP] Spoofwatch: read error\r\n");
          return;
        }
      if (done)
        {
          message_complete (s);
          return;
        }
      /* the header block is in and the body still coming: warm the DNS cache meanwhile
       * (unless its TOP did already, or the last verification found every answer in the
       * cache: then the fast lane verifies it without waiting, and a prefetch would only
       * parse its header block once more) */
      g_autoptr (GBytes) header_block = sw_pop3_message_take_header_block (s->message);
      Pending *held = g_queue_peek_head (&s->pending);
      if (header_block != NULL && held != NULL && held->cmd == CMD_RETR && !s->cache_warm
          && !g_hash_table_contains (s->warmed, GUINT_TO_POINTER (held->msgno)))
        sw_pop3_prefetch_start (s->settings, s, header_block,
                                g_hash_table_lookup (s->uidls, GUINT_TO_POINTER (held->msgno)),
                                s->cancellable);
    }
}

/* ---- status lines: one switch per line ---- */

static void reply_status_read (GObject *source, GAsyncResult *res, gpointer user_data);
static void handle_status (SwPop3Session *s, Pending *head, const char *line);
static void status_line (SwPop3Session *s, char *line, GError *error);

static void
read_status (SwPop3Session *s)
{
  /* pipelined replies (read-ahead) are often buffered already */
  g_autofree char *line = NULL;
  g_autoptr (GError) error = NULL;
  if (sw_pop3_try_read_line (s->upstream->in, SW_POP3_MAX_LINE, &line, &error))
    {
      status_line (s, line, error);
      return;
    }
  sw_pop3_read_line_async (s->upstream->in, SW_POP3_MAX_LINE, s->cancellable, reply_status_read,
                           sw_pop3_session_ref (s));
}

static void
reply_done (SwPop3Session *s)
{
  Pending *head = g_queue_pop_head (&s->pending);
  Command cmd = head->cmd;
  if (head->speculative)
    s->speculative--;
  /* a speculative TOP answered, failed or lost: the last one sends the header blocks on */
  if (head->speculative && cmd == CMD_TOP)
    {
      /* ... and so does the last before another command's reply (a RETR whose message
       * needs those names now, not once a whole batch is in) */
      Pending *next = g_queue_peek_head (&s->pending);
      if (--s->tops_pending == 0 || (next != NULL && next->cmd != CMD_TOP))
        top_flush (s);
      top_all_pump (s);
    }
  gboolean speculative = head->speculative;
  pending_free (head);
  s->reply_busy = FALSE;
  if (cmd == CMD_QUIT)
    {
      sw_pop3_session_close (s);
      return;
    }
  reply_next (s);
  if (speculative && cmd == CMD_STAT)
    ahead_fill (s);
}

static void
sasl_continue (SwPop3Session *s)
{
  /* the client's SASL response, then the server's next line for the same AUTH */
  s->client_paused = FALSE;
  client_read_next (s);
  read_status (s);
}

/* The message count of a STAT reply ("+OK n size"). */
static void
learn_count (SwPop3Session *s, const char *line)
{
  guint64 n = g_ascii_strtoull (line + 3, NULL, 10);
  if (n > 0 && n <= G_MAXUINT)
    s->msg_count = (guint)n;
}

/* A status line for a speculative command: nothing goes to the client. */
static void
handle_speculative_status (SwPop3Session *s, Pending *head, const char *line)
{
  gboolean ok = is_ok (line);
  g_autofree char *safe = sw_pop3_line_for_log (line, FALSE);
  g_info ("%s#%u: S (read-ahead): %s", s->settings->account, s->id, safe);
  if (head->cmd == CMD_STAT)
    {
      if (ok)
        learn_count (s, line);
      reply_done (s);
      top_all_start (s);
      return;
    }
  if (head->cmd == CMD_TOP && !ok)
    {
      reply_done (s);
      return;
    }
  if (head->cmd == CMD_TOP)
    {
      s->held_status = g_strdup (line);
      s->message = sw_pop3_message_new (s->settings->spool_dir, s->settings->memory_limit, SW_MAX_HEADER_BLOCK * 2);
      s->message_too_big = FALSE;
      message_data_step (s);
      return;
    }
  g_assert (head->cmd == CMD_RETR && head->ahead != NULL);
  if (!ok)
    {
      /* the client's RETR of it will get the same answer; read no further ahead */
      head->ahead->error_line = g_strdup (line);
      ahead_set_state (s, head->ahead, AHEAD_FAILED);
      s->window = 0;
      reply_done (s);
      return;
    }
  s->held_status = g_strdup (line);
  s->message = sw_pop3_message_new (s->settings->spool_dir, s->settings->memory_limit, s->settings->max_message);
  sw_pop3_message_expect (s->message, line);
  s->message_too_big = FALSE;
  if (g_buffered_input_stream_get_buffer_size (s->upstream->in) < 64 * 1024)
    g_buffered_input_stream_set_buffer_size (s->upstream->in, 64 * 1024);
  message_data_step (s);
}

static void
handle_status (SwPop3Session *s, Pending *head, const char *line)
{
  if (head->speculative)
    {
      handle_speculative_status (s, head, line);
      return;
    }
  gboolean ok = is_ok (line);
  g_autofree char *safe = sw_pop3_line_for_log (line, head->cmd == CMD_AUTH && !ok && line[0] == '+');
  g_info ("%s#%u: S: %s", s->settings->account, s->id, safe);

  switch (head->cmd)
    {
    case CMD_AUTH:
      if (line[0] == '+' && !ok)
        {
          write_client (s, line, sasl_continue);
          return;
        }
      if (!head->has_arg)
        break; /* AUTH without mechanism: a list of mechanisms when +OK */
      s->client_paused = FALSE;
      set_state (s, ok ? SW_POP3_STATE_TRANSACTION : SW_POP3_STATE_AUTHORIZATION);
      write_client (s, line, reply_done);
      client_read_next (s);
      return;
    case CMD_PASS:
    case CMD_APOP:
      if (ok && s->state == SW_POP3_STATE_AUTHORIZATION)
        set_state (s, SW_POP3_STATE_TRANSACTION);
      write_client (s, line, reply_done);
      return;
    case CMD_RETR:
    case CMD_TOP:
      if (!ok)
        break;
      s->held_status = g_strdup (line);
      s->message
          = sw_pop3_message_new (s->settings->spool_dir, s->settings->memory_limit, s->settings->max_message);
      if (head->cmd == CMD_RETR)
        sw_pop3_message_expect (s->message, line);
      s->message_too_big = FALSE;
      if (g_buffered_input_stream_get_buffer_size (s->upstream->in) < 64 * 1024)
        g_buffered_input_stream_set_buffer_size (s->upstream->in, 64 * 1024);
      message_data_step (s);
      return;
    case CMD_STAT:
      if (ok)
        {
          learn_count (s, line);
          g_autofree char *out = add_allowance (line, 3, TRUE);
          write_client (s, out, reply_done);
          top_all_start (s);
          return;
        }
      break;
    case CMD_LIST:
      if (ok && head->has_arg)
        {
          g_autofree char *out = add_allowance (line, 3, FALSE);
          write_client (s, out, reply_done);
          return;
        }
      break;
    case CMD_UIDL:
      if (ok && head->has_arg)
        learn_uidl (s, line + 4);
      break;
    default:
      break;
    }

  gboolean multi
      = ok && ((head->cmd == CMD_LIST || head->cmd == CMD_UIDL || head->cmd == CMD_AUTH) && !head->has_arg);
  multi = multi || (ok && head->cmd == CMD_CAPA);
  if (multi)
    {
      s->reply_lines = 0;
      write_client (s, line, read_multi_next);
    }
  else
    write_client (s, line, reply_done);
}

/* A status line for the head (NULL with @error when the read failed). */
static void
status_line (SwPop3Session *s, char *line, GError *error)
{
  Pending *head = g_queue_peek_head (&s->pending);
  if (line == NULL && head->speculative)
    upstream_lost (s, error->message);
  else if (line == NULL)
    {
      g_info ("%s#%u: server connection lost: %s", s->settings->account, s->id, error->message);
      session_fail (s, "-ERR [SYS/TEMP] Spoofwatch: lost the connection to the server\r\n");
    }
  else if (line[0] != '+' && line[0] != '-')
    session_fail (s, "-ERR [SYS/TEMP] Spoofwatch: the server's reply is not POP3\r\n");
  else
    handle_status (s, head, line);
}

static void
reply_status_read (GObject *source, GAsyncResult *res, gpointer user_data)
{
  SwPop3Session *s = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *line = sw_pop3_read_line_finish (G_BUFFERED_INPUT_STREAM (source), res, &error);
  if (!session_stopped (s))
    status_line (s, line, error);
  sw_pop3_session_unref (s);
}

static void
reply_next (SwPop3Session *s)
{
  if (session_stopped (s) || s->reply_busy)
    return;
  Pending *head = g_queue_peek_head (&s->pending);
  if (head == NULL)
    return;
  s->reply_busy = TRUE;
  if (head->local != NULL)
    {
      g_info ("%s#%u: S (Spoofwatch): %s", s->settings->account, s->id, head->local);
      write_client (s, head->local, reply_done);
      return;
    }
  if (head->ahead != NULL && !head->speculative)
    {
      serve_ahead (s, head->ahead);
      return;
    }
  if (head->lost)
    {
      if (head->speculative)
        reply_done (s);
      else
        session_fail (s, "-ERR [SYS/TEMP] Spoofwatch: lost the connection to the server\r\n");
      return;
    }
  if (head->deferred != NULL)
    {
      /* QUIT: every speculative reply before it has been read */
      gsize len = strlen (head->deferred);
      write_bytes (s, FALSE, g_bytes_new_take (g_steal_pointer (&head->deferred), len), read_status);
      return;
    }
  read_status (s);
}

/* ---- start ---- */

static void
upstream_connected (GObject *source, GAsyncResult *res, gpointer user_data)
{
  SwPop3Session *s = user_data;
  g_autoptr (GError) error = NULL;
  SwPop3Upstream *up = sw_pop3_upstream_connect_finish (res, &error);
  if (s->state == SW_POP3_STATE_CLOSED)
    sw_pop3_upstream_free (up);
  else if (up == NULL)
    {
      g_message ("%s#%u: %s", s->settings->account, s->id, error->message);
      g_autofree char *safe = sw_sanitize_for_log (error->message, -1, 400);
      g_autofree char *text = g_strdup_printf ("-ERR [SYS/TEMP] Spoofwatch: %s\r\n", safe);
      session_fail (s, text);
    }
  else
    {
      s->upstream = up;
      /* plain text (a loopback server): waits on one lasting source (TLS: GIO's reads) */
      if (G_IS_SOCKET_CONNECTION (up->stream))
        sw_pop3_stream_set_socket (up->in, g_socket_connection_get_socket (G_SOCKET_CONNECTION (up->stream)),
                                   G_PRIORITY_DEFAULT);
      g_info ("%s#%u: connected to %s:%u", s->settings->account, s->id, s->settings->upstream_host,
              s->settings->upstream_port);
      set_state (s, SW_POP3_STATE_AUTHORIZATION);
      write_client (s, up->greeting, NULL);
      client_read_next (s);
    }
  sw_pop3_session_unref (s);
}

SwPop3Session *
sw_pop3_session_new (const SwPop3Settings *settings, GSocketConnection *client, SwPop3SessionDone closed,
                     SwPop3SessionDone freed, gpointer user_data)
{
  static guint next_id = 1;
  SwPop3Session *s = g_new0 (SwPop3Session, 1);
  s->ref_count = 1;
  s->settings = settings;
  s->state = SW_POP3_STATE_CONNECTING;
  s->cancellable = g_cancellable_new ();
  s->client = g_object_ref (client);
  s->client_in = G_BUFFERED_INPUT_STREAM (g_buffered_input_stream_new_sized (
      g_io_stream_get_input_stream (G_IO_STREAM (client)), SW_POP3_MAX_LINE));
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (s->client_in), FALSE);
  sw_pop3_stream_set_socket (s->client_in, g_socket_connection_get_socket (client), G_PRIORITY_HIGH);
  s->client_out = g_io_stream_get_output_stream (G_IO_STREAM (client));
  sw_pop3_socket_set_nodelay (g_socket_connection_get_socket (client));
  g_queue_init (&s->pending);
  s->uidls = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  g_queue_init (&s->up_writes);
  g_queue_init (&s->client_writes);
  s->ahead = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify)ahead_free);
  s->deleted = g_hash_table_new (NULL, NULL);
  s->warmed = g_hash_table_new (NULL, NULL);
  s->closed_cb = closed;
  s->freed_cb = freed;
  s->cb_data = user_data;
  s->id = g_atomic_int_add (&next_id, 1);
  sw_pop3_upstream_connect_async (settings, s->cancellable, upstream_connected, sw_pop3_session_ref (s));
  return s;
}
