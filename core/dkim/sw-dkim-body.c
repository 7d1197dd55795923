#define G_LOG_DOMAIN "sw-dkim"
/* sw-dkim-body.c: body canonicalisation and body hash (RFC 6376 sections 3.4.3, 3.4.4,
 * 3.5 l=), computed here instead of inside libopendkim, whose byte-at-a-time
 * canonicalisation was most of the verification time.
 *
 * The output must be exactly what libopendkim 2.11 computes with DKIM_LIBFLAGS_FIXCRLF
 * for a body handed to dkim_body() in one call, so that no verdict changes. Its rules
 * (libopendkim/dkim-canon.c: dkim_canon_fixcrlf(), dkim_canon_bodychunk(),
 * dkim_canon_closebody()), which in three places differ from the RFC text:
 *   - line ends: CRLF; a CR not followed by LF and a LF not preceded by CR also end a
 *     line, except a CR that is the very last octet, which is dropped;
 *   - simple: empty lines are held back and written before the next non-empty line;
 *     trailing ones are dropped. A final line without line end is written without one,
 *     and a CRLF is appended only if nothing had reached the hash yet when the body
 *     closed. libopendkim buffers its hash input in 4096-octet blocks, so "nothing yet"
 *     depends on that buffering (quirk 1: a short unterminated body gets a CRLF, a long
 *     one does not); it is simulated exactly (SimBuffer below);
 *   - relaxed: runs of SP/HTAB become one SP, trailing ones are removed, lines that are
 *     then empty are held back like in simple. A final line without line end gets a CRLF
 *     unless it ended in white space (quirk 2: then it gets none), and the held-back
 *     empty lines before it are written only if it contains white space (quirk 3);
 *   - the empty body: simple gives CRLF, relaxed gives nothing.
 * tests/core/test-dkim-body.c checks this against libopendkim's own signer on generated
 * bodies. */
#include "sw-dkim-private.h"
#include <string.h>
#include <openssl/evp.h>

/* libopendkim's DKIM_HASHBUFSIZE (dkim-canon.h) */
#define SW_DKIM_LIB_HASHBUF 4096u

static const guint8 CRLF[2] = { '\r', '\n' };
static const guint8 SP[1] = { ' ' };

typedef struct
{
  EVP_MD_CTX *md;  /* hash the output, or */
  GByteArray *out; /* collect it */
  guint64 remain;  /* octets still to hash (l=); G_MAXUINT64: no limit */
  guint64 total;   /* canonical octets produced */
  const guint8 *span; /* pending output, contiguous in memory */
  gsize span_len;
  /* simple only: libopendkim's hash buffer, as lengths (see the top of the file) */
  gsize sim_buffered;
  gboolean sim_written;
  guint blanks; /* empty lines held back */
} Sink;

static gboolean
is_wsp (guint8 c)
{
  return c == ' ' || c == '\t';
}

static void
sink_flush (Sink *s)
{
  gsize n = s->span_len;
  if (n == 0)
    return;
  if (s->remain != G_MAXUINT64)
    {
      n = (gsize)MIN ((guint64)n, s->remain);
      s->remain -= n;
    }
  if (n > 0)
    {
      if (s->md != NULL)
        EVP_DigestUpdate (s->md, s->span, n);
      else
        g_byte_array_append (s->out, s->span, (guint)n);
    }
  s->span_len = 0;
}

/* Appends @n octets at @p to the output; adjacent pieces are handed on in one call. */
static inline void
emit (Sink *s, const guint8 *p, gsize n)
{
  if (n == 0)
    return;
  s->total += n;
  if (s->span_len > 0 && s->span + s->span_len == p)
    {
      s->span_len += n;
      return;
    }
  sink_flush (s);
  s->span = p;
  s->span_len = n;
}

/* One dkim_canon_buffer() call of @n octets (0: flush), on lengths only. */
static void
sim_call (Sink *s, gsize n)
{
  if (n == 0)
    {
      if (s->sim_buffered > 0)
        s->sim_written = TRUE;
      s->sim_buffered = 0;
      return;
    }
  if (s->sim_buffered + n > SW_DKIM_LIB_HASHBUF)
    {
      if (s->sim_buffered > 0)
        s->sim_written = TRUE;
      s->sim_buffered = 0;
    }
  if (n >= SW_DKIM_LIB_HASHBUF)
    s->sim_written = TRUE;
  else
    s->sim_buffered += n;
}

static void
emit_blanks (Sink *s, gboolean simple)
{
  for (; s->blanks > 0; s->blanks--)
    {
      if (simple)
        sim_call (s, 2);
      emit (s, CRLF, 2);
    }
}

typedef struct
{
  const guint8 *text; /* the line without its line end */
  gsize len;
  const guint8 *crlf; /* its CRLF in the input, or NULL (lone CR or LF, or none) */
  gboolean complete;  /* FALSE: the final line, without line end */
} Line;

/* The next line of @b from *@pos, with FIXCRLF's idea of line ends. */
static gboolean
next_line (const guint8 *b, gsize len, gsize *pos, Line *line)
{
  gsize p = *pos;
  if (p >= len)
    return FALSE;
  const guint8 *nl = memchr (b + p, '\n', len - p);
  gsize end = nl ? (gsize)(nl - b) : len;
  gboolean crlf = nl != NULL && end > p && b[end - 1] == '\r';
  gsize scan_end = crlf ? end - 1 : end;
  const guint8 *cr = memchr (b + p, '\r', scan_end - p);
  line->text = b + p;
  line->crlf = NULL;
  line->complete = TRUE;
  if (cr != NULL)
    {
      gsize c = (gsize)(cr - b);
      line->len = c - p;
      if (c + 1 == len)
        line->complete = FALSE; /* a CR as the last octet is dropped */
      *pos = c + 1;
    }
  else if (nl != NULL)
    {
      line->len = scan_end - p;
      if (crlf)
        line->crlf = b + end - 1;
      *pos = end + 1;
    }
  else
    {
      line->len = len - p;
      line->complete = FALSE;
      *pos = len;
    }
  return TRUE;
}

static void
simple_body (Sink *s, const guint8 *b, gsize len)
{
  gsize pos = 0;
  Line line;
  gboolean partial = FALSE;
  while (next_line (b, len, &pos, &line))
    {
      if (!line.complete)
        {
          if (line.len > 0)
            emit_blanks (s, TRUE);
          sim_call (s, line.len);
          emit (s, line.text, line.len);
          partial = TRUE;
          break;
        }
      if (line.len == 0)
        {
          s->blanks++;
          continue;
        }
      emit_blanks (s, TRUE);
      sim_call (s, line.len + 2);
      emit (s, line.text, line.len);
      emit (s, line.crlf ? line.crlf : CRLF, 2);
    }
  if (!partial)
    sim_call (s, 0);
  /* dkim_canon_closebody(): "simple" must include at least a CRLF */
  if (!s->sim_written)
    emit (s, CRLF, 2);
}

/* Writes the relaxed form of @text (no CR or LF in it) without line end; TRUE if it
 * ended in white space. Held-back empty lines are written first when @flush_blanks and
 * the text is not white space only. Text that needs no change (single SP between words)
 * is handed on as one piece. */
static gboolean
relaxed_text (Sink *s, const guint8 *text, gsize n, gboolean flush_blanks)
{
  gsize i = 0;
  while (i < n && is_wsp (text[i]))
    i++;
  if (i == n)
    return n > 0;
  if (flush_blanks)
    emit_blanks (s, FALSE);
  gsize from = i; /* start of the part not yet written */
  if (i > 0)
    {
      emit (s, (i == 1 && text[0] == ' ') ? text : SP, 1);
    }
  while (i < n)
    {
      if (!is_wsp (text[i]))
        {
          i++;
          continue;
        }
      gsize ws = i;
      while (i < n && is_wsp (text[i]))
        i++;
      if (i == n)
        {
          emit (s, text + from, ws - from);
          return TRUE;
        }
      if (i - ws == 1 && text[ws] == ' ')
        continue; /* already canonical */
      emit (s, text + from, ws - from);
      emit (s, SP, 1);
      from = i;
    }
  emit (s, text + from, n - from);
  return FALSE;
}

static gboolean
has_non_wsp (const guint8 *text, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if (!is_wsp (text[i]))
      return TRUE;
  return FALSE;
}

static void
relaxed_body (Sink *s, const guint8 *b, gsize len)
{
  gsize pos = 0;
  Line line;
  while (next_line (b, len, &pos, &line))
    {
      if (!has_non_wsp (line.text, line.len))
        {
          if (line.complete)
            s->blanks++;
          continue; /* a final line of white space only writes nothing */
        }
      if (line.complete)
        {
          relaxed_text (s, line.text, line.len, TRUE);
          emit (s, line.crlf ? line.crlf : CRLF, 2);
          continue;
        }
      /* the final line: see quirks 2 and 3 at the top */
      gboolean has_wsp = memchr (line.text, ' ', line.len) != NULL || memchr (line.text, '\t', line.len) != NULL;
      if (!relaxed_text (s, line.text, line.len, has_wsp))
        emit (s, CRLF, 2);
    }
}

static void
run (Sink *s, const guint8 *body, gsize len, SwDkimCanon canon)
{
  if (canon == SW_DKIM_CANON_SIMPLE)
    simple_body (s, body, len);
  else
    relaxed_body (s, body, len);
  sink_flush (s);
}

GByteArray *
sw_dkim_body_canonicalize (const guint8 *body, gsize len, SwDkimCanon canon)
{
  Sink s = { 0 };
  s.out = g_byte_array_sized_new ((guint)MIN (len + 2, (gsize)G_MAXUINT));
  s.remain = G_MAXUINT64;
  run (&s, body, len, canon);
  return s.out;
}

static gpointer
fetch_digests (gpointer data)
{
  (void)data;
  EVP_MD **mds = g_new0 (EVP_MD *, 2);
  mds[SW_DKIM_HASH_SHA1] = EVP_MD_fetch (NULL, "SHA1", NULL);
  mds[SW_DKIM_HASH_SHA256] = EVP_MD_fetch (NULL, "SHA256", NULL);
  return mds;
}

gboolean
sw_dkim_body_hash (const guint8 *body, gsize len, SwDkimCanon canon, SwDkimHash hash, gint64 limit,
                   SwDkimBodyHash *out)
{
  static GOnce once = G_ONCE_INIT;
  EVP_MD **mds = g_once (&once, fetch_digests, NULL); /* kept for the process's life */
  const EVP_MD *md = mds[hash == SW_DKIM_HASH_SHA1 ? SW_DKIM_HASH_SHA1 : SW_DKIM_HASH_SHA256];
  memset (out, 0, sizeof *out);
  if (md == NULL)
    return FALSE;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
  if (ctx == NULL || EVP_DigestInit_ex (ctx, md, NULL) != 1)
    {
      EVP_MD_CTX_free (ctx);
      return FALSE;
    }
  Sink s = { 0 };
  s.md = ctx;
  s.remain = limit < 0 ? G_MAXUINT64 : (guint64)limit;
  run (&s, body, len, canon);
  unsigned int dlen = 0;
  gboolean ok = EVP_DigestFinal_ex (ctx, out->digest, &dlen) == 1;
  EVP_MD_CTX_free (ctx);
  out->digest_len = dlen;
  out->canon_len = s.total;
  out->hashed = limit < 0 ? s.total : MIN (s.total, (guint64)limit);
  return ok;
}
