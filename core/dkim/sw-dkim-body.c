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
 * bodies.
 *
 * One state machine does it all, fed in chunks of any size (SwDkimBodyHasher, while a
 * message arrives) or once (sw_dkim_body_hash()). It reads raw octets: a LF ends a line
 * whether a CR precedes it or not, which is what sw_dkim_message_init()'s normalisation
 * followed by the rules above gives. Its memory does not depend on the body: text is
 * hashed as it comes (a line is never buffered), held-back empty lines are counted, and
 * the hash buffer of quirk 1 is simulated on lengths. Quirk 3 is the one place where
 * output depends on what comes later: in relaxed, a line that follows held-back empty
 * lines and has no white space yet may turn out to be the unterminated last line, which
 * drops them. While that is undecided its output is held (up to SW_DKIM_HELD_TEXT octets,
 * then the digest is kept twice, with and without the empty lines); the first white
 * space or line end decides.
 * tests/core/test-dkim-bodyhash.c checks every chunking against the one-shot result. */
#include "sw-dkim-bodyhash.h"
#include "sw-limits.h"
#include <string.h>
#include <openssl/evp.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* libopendkim's DKIM_HASHBUFSIZE (dkim-canon.h) */
#define SW_DKIM_LIB_HASHBUF 4096u
/* relaxed output of a line held while quirk 3 is undecided (RFC 5322's line length) */
#define SW_DKIM_HELD_TEXT 1000u

static const guint8 CRLF[2] = { '\r', '\n' };
static const guint8 SP[1] = { ' ' };
#define CRLF_BLOCK_LINES 64u
static const guint8 CRLF_BLOCK[2 * CRLF_BLOCK_LINES] = {
#define X4 '\r', '\n', '\r', '\n', '\r', '\n', '\r', '\n'
  X4, X4, X4, X4, X4, X4, X4, X4, X4, X4, X4, X4, X4, X4, X4, X4,
#undef X4
};

/* Where canonical output goes. */
typedef struct
{
  EVP_MD_CTX *md;     /* hash the output, or */
  GByteArray *out;    /* collect it */
  guint64 remain;     /* octets still to hash (l=); G_MAXUINT64: no limit */
  guint64 total;      /* canonical octets produced */
  const guint8 *span; /* pending output, contiguous in memory (valid during one feed) */
  gsize span_len;
  gboolean failed; /* OpenSSL failed */
} Sink;

/* The canonicalisation of one body into one sink. */
typedef struct
{
  SwDkimCanon canon;
  Sink sink;
  /* relaxed, quirk 3 undecided: the line's output is first kept in @held; when it does
   * not fit, @alt is @sink without the held-back empty lines (with a digest: its own
   * copy; collecting: @alt_cut and @alt_blank_octets say what to cut) */
  gboolean holding;
  gsize held_len;
  guint8 held[SW_DKIM_HELD_TEXT];
  gboolean forked;
  Sink alt;
  gsize alt_cut;
  guint64 alt_blank_octets;
  EVP_MD_CTX *spare;        /* a context for the next fork, kept from the last one */
  gboolean cr;              /* the last octet fed was a CR: what it ends depends on the next */
  guint64 blanks;           /* empty lines held back */
  guint64 line_len;         /* simple: octets of the current line so far */
  gboolean has_text;        /* relaxed: the current line has a non-WSP octet */
  gboolean has_wsp;         /* relaxed: ... and has white space (quirk 3) */
  gboolean pending_wsp;     /* relaxed: a run of white space not yet written */
  const guint8 *pending_sp; /* its SP: in the input when the run is one SP, else SP */
  /* simple: libopendkim's hash buffer, as lengths (see the top of the file) */
  guint64 sim_buffered;
  gboolean sim_written;
} Canon;

static inline gboolean
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
      if (s->out != NULL)
        g_byte_array_append (s->out, s->span, (guint)n);
      else if (s->md == NULL || EVP_DigestUpdate (s->md, s->span, n) != 1)
        s->failed = TRUE;
    }
  s->span_len = 0;
}

/* Appends @n octets at @p to @s; adjacent pieces are handed on in one call. */
static inline void
sink_emit (Sink *s, const guint8 *p, gsize n)
{
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

static void hold (Canon *c, const guint8 *p, gsize n);

static inline void
emit (Canon *c, const guint8 *p, gsize n)
{
  if (n == 0)
    return;
  if (G_UNLIKELY (c->holding))
    {
      hold (c, p, n);
      return;
    }
  sink_emit (&c->sink, p, n);
  if (G_UNLIKELY (c->forked && c->alt.md != NULL))
    sink_emit (&c->alt, p, n);
}

/* One dkim_canon_buffer() call of @n octets (0: flush), on lengths only. Once something
 * was written the simulation has nothing more to decide. */
static void
sim_call (Canon *c, guint64 n)
{
  if (c->sim_written)
    return;
  if (n == 0)
    {
      if (c->sim_buffered > 0)
        c->sim_written = TRUE;
      c->sim_buffered = 0;
      return;
    }
  if (c->sim_buffered + n > SW_DKIM_LIB_HASHBUF)
    {
      if (c->sim_buffered > 0)
        c->sim_written = TRUE;
      c->sim_buffered = 0;
    }
  if (n >= SW_DKIM_LIB_HASHBUF)
    c->sim_written = TRUE;
  else
    c->sim_buffered += n;
}

static void
emit_blanks (Canon *c)
{
  guint64 k = c->blanks;
  c->blanks = 0;
  if (c->canon == SW_DKIM_CANON_SIMPLE)
    for (guint64 i = 0; i < k && !c->sim_written; i++)
      sim_call (c, 2);
  while (k > 0)
    {
      guint64 m = MIN (k, (guint64)CRLF_BLOCK_LINES);
      emit (c, CRLF_BLOCK, (gsize)(2 * m));
      k -= m;
    }
}

/* ---- relaxed, quirk 3 ---- */

/* The undecided line outgrew @held: from here on both outcomes are computed. */
static void
fork_blanks (Canon *c)
{
  g_assert (!c->forked);
  sink_flush (&c->sink);
  c->alt = c->sink;
  if (c->sink.out == NULL)
    {
      /* a spare context is kept: no allocation per line */
      c->alt.md = c->spare != NULL ? g_steal_pointer (&c->spare) : EVP_MD_CTX_new ();
      if (c->alt.md == NULL || c->sink.md == NULL || EVP_MD_CTX_copy_ex (c->alt.md, c->sink.md) != 1)
        c->sink.failed = c->alt.failed = TRUE;
    }
  else
    {
      c->alt_cut = c->sink.out->len;
      c->alt_blank_octets = 2 * c->blanks;
    }
  emit_blanks (c); /* into @sink only: not forked yet */
  c->forked = TRUE;
}

/* The line has white space or a line end: the empty lines stay. */
static void
keep_blanks_forked (Canon *c)
{
  c->forked = FALSE;
  if (c->sink.out == NULL)
    {
      c->sink.failed |= c->alt.failed;
      g_assert (c->spare == NULL);
      c->spare = g_steal_pointer (&c->alt.md);
    }
}

/* The line is the unterminated last one without white space: the empty lines go. */
static void
drop_blanks_forked (Canon *c)
{
  c->forked = FALSE;
  if (c->sink.out == NULL)
    {
      sink_flush (&c->alt);
      gboolean failed = c->sink.failed || c->alt.failed;
      g_assert (c->spare == NULL);
      c->spare = c->sink.md;
      c->sink = c->alt;
      c->sink.failed = failed;
      c->alt.md = NULL;
    }
  else
    {
      sink_flush (&c->sink);
      g_byte_array_remove_range (c->sink.out, (guint)c->alt_cut, (guint)c->alt_blank_octets);
      c->sink.total -= c->alt_blank_octets;
    }
}

/* Output while undecided goes to @held; when it does not fit, the digest is forked. */
static void
hold (Canon *c, const guint8 *p, gsize n)
{
  if (c->held_len + n <= sizeof c->held)
    {
      memcpy (c->held + c->held_len, p, n);
      c->held_len += n;
      return;
    }
  c->holding = FALSE;
  fork_blanks (c);
  emit (c, c->held, c->held_len);
  sink_flush (&c->sink); /* nothing may point into @held when it is reused */
  if (c->alt.md != NULL)
    sink_flush (&c->alt);
  c->held_len = 0;
  emit (c, p, n);
}

/* The first text of a line after held-back empty lines, no white space in it yet. */
static void
start_undecided (Canon *c)
{
  g_assert (!c->holding && !c->forked);
  c->holding = TRUE;
  c->held_len = 0;
}

/* The line has white space or a line end: the empty lines stay. */
static void
keep_blanks (Canon *c)
{
  if (c->holding)
    {
      c->holding = FALSE;
      emit_blanks (c);
      emit (c, c->held, c->held_len);
      sink_flush (&c->sink); /* nothing may point into @held when it is reused */
      c->held_len = 0;
    }
  else if (c->forked)
    keep_blanks_forked (c);
}

/* The line is the unterminated last one without white space: the empty lines go. */
static void
drop_blanks (Canon *c)
{
  if (c->holding)
    {
      c->holding = FALSE;
      c->blanks = 0;
      emit (c, c->held, c->held_len);
      sink_flush (&c->sink);
      c->held_len = 0;
    }
  else if (c->forked)
    drop_blanks_forked (c);
}

/* ---- lines ---- */

/* Text of the current line (no CR or LF in it), as it comes. */
static void
simple_text (Canon *c, const guint8 *t, gsize n)
{
  if (c->line_len == 0 && c->blanks > 0)
    emit_blanks (c);
  emit (c, t, n);
  c->line_len += n;
}

static inline gboolean
is_line_end (guint8 c)
{
  return c == '\r' || c == '\n';
}

/* The relaxed form of the text of the current line at @t (up to @n octets), as it comes:
 * runs of white space are written as one SP once text follows them. Text that needs no
 * change (single SP between words) is handed on as one piece. Stops at the first CR or
 * LF, so that the line is read once (no separate search for its end); returns the
 * octets read. */
static gsize
relaxed_text (Canon *c, const guint8 *t, gsize n)
{
  gsize i = 0;
  while (i < n && !is_line_end (t[i]))
    {
      if (is_wsp (t[i]))
        {
          gsize ws = i;
          do
            i++;
          while (i < n && is_wsp (t[i]));
          c->has_wsp = TRUE;
          if (c->holding || c->forked)
            keep_blanks (c);
          c->pending_sp = (!c->pending_wsp && i - ws == 1 && t[ws] == ' ') ? t + ws : SP;
          c->pending_wsp = TRUE;
          continue;
        }
      gsize from = i++;
      while (i < n)
        {
#if defined(__SSE2__)
          /* 16 octets at a time while there is nothing to change and the line goes on:
           * no HTAB, CR or LF, no SP followed by white space or a line end (the scalar
           * code below does the rest) */
          if (i + 17 <= n)
            {
              const __m128i v = _mm_loadu_si128 ((const __m128i *)(t + i));
              const __m128i next = _mm_loadu_si128 ((const __m128i *)(t + i + 1));
              const __m128i sp = _mm_set1_epi8 (' '), tab = _mm_set1_epi8 ('\t');
              const __m128i cr = _mm_set1_epi8 ('\r'), lf = _mm_set1_epi8 ('\n');
              const __m128i is_sp = _mm_cmpeq_epi8 (v, sp);
              const __m128i next_wsp
                  = _mm_or_si128 (_mm_or_si128 (_mm_cmpeq_epi8 (next, sp), _mm_cmpeq_epi8 (next, tab)),
                                  _mm_or_si128 (_mm_cmpeq_epi8 (next, cr), _mm_cmpeq_epi8 (next, lf)));
              const __m128i stop = _mm_or_si128 (_mm_cmpeq_epi8 (v, tab),
                                                 _mm_or_si128 (_mm_cmpeq_epi8 (v, cr), _mm_cmpeq_epi8 (v, lf)));
              const __m128i bad = _mm_or_si128 (stop, _mm_and_si128 (is_sp, next_wsp));
              unsigned int bad_mask = (unsigned int)_mm_movemask_epi8 (bad);
              unsigned int sp_mask = (unsigned int)_mm_movemask_epi8 (is_sp);
              if (bad_mask == 0)
                {
                  if (sp_mask != 0)
                    c->has_wsp = TRUE;
                  i += 16;
                  continue;
                }
              unsigned int k = (unsigned int)__builtin_ctz (bad_mask);
              if ((sp_mask & ((1u << k) - 1)) != 0)
                c->has_wsp = TRUE;
              i += k; /* at the HTAB, CR, LF or SP: the scalar code below stops there */
            }
#endif
          guint8 ch = t[i];
          if (G_LIKELY (ch > ' ') || (ch != ' ' && ch != '\t' && !is_line_end (ch)))
            {
              i++;
              continue;
            }
          /* one SP between two non-WSP octets is already canonical */
          if (ch == ' ' && i + 1 < n && !is_wsp (t[i + 1]) && !is_line_end (t[i + 1]))
            {
              c->has_wsp = TRUE;
              i += 2;
              continue;
            }
          break;
        }
      if (!c->has_text)
        {
          c->has_text = TRUE;
          if (c->blanks > 0)
            {
              if (c->has_wsp)
                emit_blanks (c);
              else
                start_undecided (c);
            }
        }
      else if ((c->holding || c->forked) && c->has_wsp)
        keep_blanks (c);
      if (c->pending_wsp)
        {
          emit (c, c->pending_sp, 1);
          c->pending_wsp = FALSE;
        }
      emit (c, t + from, i - from);
    }
  return i;
}

/* A line end (CRLF, or a lone CR or LF): @crlf is its CRLF in the input, or NULL. */
static void
simple_line_end (Canon *c, const guint8 *crlf)
{
  if (c->line_len == 0)
    c->blanks++;
  else
    {
      sim_call (c, c->line_len + 2);
      emit (c, crlf ? crlf : CRLF, 2);
    }
  c->line_len = 0;
}

static void
relaxed_line_end (Canon *c, const guint8 *crlf)
{
  if (c->has_text)
    {
      if (c->holding || c->forked)
        keep_blanks (c);
      emit (c, crlf ? crlf : CRLF, 2);
    }
  else
    c->blanks++;
  c->has_text = c->has_wsp = c->pending_wsp = FALSE;
}

static void
canon_init (Canon *c, SwDkimCanon canon, gint64 limit)
{
  memset (c, 0, sizeof *c);
  c->canon = canon;
  c->sink.remain = limit < 0 ? G_MAXUINT64 : (guint64)limit;
}

/* The index of the first CR or LF in @b[@pos..@len), or @len. */
static inline gsize
find_line_end (const guint8 *b, gsize pos, gsize len)
{
#if defined(__SSE2__)
  const __m128i cr = _mm_set1_epi8 ('\r'), lf = _mm_set1_epi8 ('\n');
  while (pos + 16 <= len)
    {
      const __m128i v = _mm_loadu_si128 ((const __m128i *)(b + pos));
      unsigned int m
          = (unsigned int)_mm_movemask_epi8 (_mm_or_si128 (_mm_cmpeq_epi8 (v, cr), _mm_cmpeq_epi8 (v, lf)));
      if (m != 0)
        return pos + (gsize)__builtin_ctz (m);
      pos += 16;
    }
#endif
  while (pos < len && b[pos] != '\r' && b[pos] != '\n')
    pos++;
  return pos;
}

/* The lines of @b[@pos..@len), for one canonicalisation (@simple is a constant: the
 * compiler makes one loop of each). */
G_ALWAYS_INLINE static inline void
feed_lines (Canon *c, const guint8 *b, gsize pos, gsize len, const gboolean simple)
{
  while (pos < len)
    {
      gsize text_end;
      if (simple)
        {
          text_end = find_line_end (b, pos, len);
          if (text_end > pos)
            simple_text (c, b + pos, text_end - pos);
        }
      else
        text_end = pos + relaxed_text (c, b + pos, len - pos);
      const guint8 *cr = text_end < len && b[text_end] == '\r' ? b + text_end : NULL;
      gboolean nl = text_end < len && b[text_end] == '\n';
      const guint8 *crlf = NULL;
      if (cr == NULL)
        {
          if (!nl)
            return;
          pos = text_end + 1; /* a bare LF */
        }
      else if (text_end + 1 == len)
        {
          c->cr = TRUE; /* decided by the next chunk, or dropped */
          return;
        }
      else if (b[text_end + 1] == '\n')
        {
          crlf = cr;
          pos = text_end + 2;
        }
      else
        pos = text_end + 1; /* a lone CR */
      if (simple)
        simple_line_end (c, crlf);
      else
        relaxed_line_end (c, crlf);
    }
}

static void
canon_feed (Canon *c, const guint8 *b, gsize len)
{
  gsize pos = 0;
  if (len == 0)
    return;
  gboolean simple = c->canon == SW_DKIM_CANON_SIMPLE;
  if (c->cr)
    {
      /* a CR ended the previous chunk */
      c->cr = FALSE;
      if (simple)
        simple_line_end (c, NULL);
      else
        relaxed_line_end (c, NULL);
      if (b[0] == '\n')
        pos = 1;
    }
  if (simple)
    feed_lines (c, b, pos, len, TRUE);
  else
    feed_lines (c, b, pos, len, FALSE);
  /* nothing may point into @b after this call */
  sink_flush (&c->sink);
  if (c->forked && c->alt.md != NULL)
    sink_flush (&c->alt);
  if (c->pending_wsp)
    c->pending_sp = SP;
}

static void
canon_finish (Canon *c)
{
  c->cr = FALSE; /* a CR as the last octet is dropped; the line stays unterminated */
  if (c->canon == SW_DKIM_CANON_SIMPLE)
    {
      sim_call (c, c->line_len); /* 0: the flush at the end */
      /* dkim_canon_closebody(): "simple" must include at least a CRLF */
      if (!c->sim_written)
        emit (c, CRLF, 2);
    }
  else if (c->has_text)
    {
      /* the unterminated last line: quirks 2 and 3 */
      if (c->holding || c->forked)
        drop_blanks (c);
      if (!c->pending_wsp)
        emit (c, CRLF, 2);
    }
  sink_flush (&c->sink);
}

static void
canon_clear (Canon *c)
{
  g_clear_pointer (&c->alt.md, EVP_MD_CTX_free); /* NULL unless forked */
  g_clear_pointer (&c->sink.md, EVP_MD_CTX_free);
  g_clear_pointer (&c->spare, EVP_MD_CTX_free);
  c->forked = FALSE;
}

GByteArray *
sw_dkim_body_canonicalize (const guint8 *body, gsize len, SwDkimCanon canon)
{
  Canon c;
  canon_init (&c, canon, -1);
  c.sink.out = g_byte_array_sized_new ((guint)MIN (len + 2, (gsize)G_MAXUINT));
  canon_feed (&c, body, len);
  canon_finish (&c);
  return c.sink.out;
}

/* ---- body hashes ---- */

static gpointer
fetch_digests (gpointer data)
{
  (void)data;
  EVP_MD **mds = g_new0 (EVP_MD *, 2);
  mds[SW_DKIM_HASH_SHA1] = EVP_MD_fetch (NULL, "SHA1", NULL);
  mds[SW_DKIM_HASH_SHA256] = EVP_MD_fetch (NULL, "SHA256", NULL);
  return mds;
}

/* A Canon hashing with @hash; FALSE if OpenSSL fails (then nothing to clear). */
static gboolean
hash_init (Canon *c, SwDkimCanon canon, SwDkimHash hash, gint64 limit)
{
  static GOnce once = G_ONCE_INIT;
  EVP_MD **mds = g_once (&once, fetch_digests, NULL); /* kept for the process's life */
  const EVP_MD *md = mds[hash == SW_DKIM_HASH_SHA1 ? SW_DKIM_HASH_SHA1 : SW_DKIM_HASH_SHA256];
  canon_init (c, canon, limit);
  if (md == NULL)
    return FALSE;
  c->sink.md = EVP_MD_CTX_new ();
  if (c->sink.md == NULL || EVP_DigestInit_ex (c->sink.md, md, NULL) != 1)
    {
      g_clear_pointer (&c->sink.md, EVP_MD_CTX_free);
      return FALSE;
    }
  return TRUE;
}

/* Finishes @c (from hash_init()) into @out and clears it. */
static gboolean
hash_final (Canon *c, gint64 limit, SwDkimBodyHash *out)
{
  canon_finish (c);
  unsigned int dlen = 0;
  gboolean ok
      = !c->sink.failed && c->sink.md != NULL && EVP_DigestFinal_ex (c->sink.md, out->digest, &dlen) == 1;
  out->digest_len = dlen;
  out->canon_len = c->sink.total;
  out->hashed = limit < 0 ? c->sink.total : MIN (c->sink.total, (guint64)limit);
  canon_clear (c);
  if (!ok)
    memset (out, 0, sizeof *out);
  return ok;
}

gboolean
sw_dkim_body_hash (const guint8 *body, gsize len, SwDkimCanon canon, SwDkimHash hash, gint64 limit,
                   SwDkimBodyHash *out)
{
  memset (out, 0, sizeof *out);
  Canon c;
  if (!hash_init (&c, canon, hash, limit))
    return FALSE;
  canon_feed (&c, body, len);
  return hash_final (&c, limit, out);
}

/* ---- the incremental hasher ---- */

typedef struct
{
  SwDkimCanon canon;
  SwDkimHash hash;
  gint64 limit;
  gboolean ok; /* OpenSSL set it up (before finish), gave the digest (after) */
  Canon c;
  SwDkimBodyHash result;
} Prepared;

struct _SwDkimBodyHasher
{
  Prepared items[SW_DKIM_MAX_SIGNATURES];
  guint n_items;
  guint64 fed;
  gboolean finished;
};

/* c=, a= and l= as libopendkim's dkim_siglist_setup() reads them; FALSE if it would not. */
static gboolean
read_signature (const char *value, gsize len, SwDkimCanon *canon, SwDkimHash *hash, gint64 *limit)
{
  g_autofree char *c = sw_dkim_tag_list_get (value, len, "c");
  g_autofree char *a = sw_dkim_tag_list_get (value, len, "a");
  g_autofree char *l = sw_dkim_tag_list_get (value, len, "l");
  *canon = SW_DKIM_CANON_SIMPLE; /* no c=, or no body part: simple */
  if (c != NULL)
    {
      char *slash = strchr (c, '/');
      if (slash != NULL)
        *slash = '\0';
      if (g_ascii_strcasecmp (c, "simple") != 0 && g_ascii_strcasecmp (c, "relaxed") != 0)
        return FALSE;
      if (slash != NULL)
        {
          if (g_ascii_strcasecmp (slash + 1, "relaxed") == 0)
            *canon = SW_DKIM_CANON_RELAXED;
          else if (g_ascii_strcasecmp (slash + 1, "simple") != 0)
            return FALSE;
        }
    }
  if (a == NULL)
    return FALSE;
  if (g_ascii_strcasecmp (a, "rsa-sha1") == 0)
    *hash = SW_DKIM_HASH_SHA1;
  else if (g_ascii_strcasecmp (a, "rsa-sha256") == 0 || g_ascii_strcasecmp (a, "ed25519-sha256") == 0)
    *hash = SW_DKIM_HASH_SHA256;
  else
    return FALSE;
  *limit = -1;
  if (l != NULL)
    {
      guint64 v;
      if (l[0] < '0' || l[0] > '9' || !g_ascii_string_to_unsigned (l, 10, 0, G_MAXINT64, &v, NULL))
        return FALSE;
      *limit = (gint64)v;
    }
  return TRUE;
}

SwDkimBodyHasher *
sw_dkim_body_hasher_new_for_header (const guint8 *header, gsize len)
{
  g_return_val_if_fail (header != NULL || len == 0, NULL);
  SwDkimBodyHasher *h = g_new0 (SwDkimBodyHasher, 1);
  SwDkimMessage msg;
  sw_dkim_message_init (&msg, header ? header : (const guint8 *)"", len);
  guint n_sigs = 0;
  for (guint i = 0; i < msg.fields->len && n_sigs < SW_DKIM_MAX_SIGNATURES; i++)
    {
      const SwDkimField *f = &g_array_index (msg.fields, SwDkimField, i);
      if (!sw_dkim_field_has_name (&msg, f, "DKIM-Signature"))
        continue;
      n_sigs++;
      const char *text = (const char *)msg.buf + f->offset;
      const char *colon = memchr (text, ':', f->len);
      g_assert (colon != NULL); /* sw_dkim_field_has_name() saw it */
      SwDkimCanon canon;
      SwDkimHash hash;
      gint64 limit;
      if (!read_signature (colon + 1, f->len - (gsize)(colon + 1 - text), &canon, &hash, &limit))
        continue;
      gboolean seen = FALSE;
      for (guint k = 0; k < h->n_items && !seen; k++)
        seen = h->items[k].canon == canon && h->items[k].hash == hash && h->items[k].limit == limit;
      if (seen)
        continue;
      Prepared *p = &h->items[h->n_items++];
      p->canon = canon;
      p->hash = hash;
      p->limit = limit;
      p->ok = hash_init (&p->c, canon, hash, limit);
    }
  sw_dkim_message_clear (&msg);
  return h;
}

void
sw_dkim_body_hasher_feed (SwDkimBodyHasher *h, const guint8 *data, gsize len)
{
  g_return_if_fail (h != NULL && !h->finished);
  g_return_if_fail (data != NULL || len == 0);
  h->fed += len;
  for (guint i = 0; i < h->n_items; i++)
    if (h->items[i].ok)
      canon_feed (&h->items[i].c, data, len);
}

void
sw_dkim_body_hasher_finish (SwDkimBodyHasher *h)
{
  g_return_if_fail (h != NULL && !h->finished);
  h->finished = TRUE;
  for (guint i = 0; i < h->n_items; i++)
    {
      Prepared *p = &h->items[i];
      if (p->ok)
        p->ok = hash_final (&p->c, p->limit, &p->result);
    }
}

gboolean
sw_dkim_body_hasher_lookup (const SwDkimBodyHasher *h, SwDkimCanon canon, SwDkimHash hash, gint64 limit,
                            SwDkimBodyHash *out)
{
  g_return_val_if_fail (out != NULL, FALSE);
  memset (out, 0, sizeof *out);
  g_return_val_if_fail (h != NULL && h->finished, FALSE);
  if (limit < -1)
    return FALSE;
  for (guint i = 0; i < h->n_items; i++)
    {
      const Prepared *p = &h->items[i];
      if (p->canon == canon && p->hash == hash && p->limit == limit)
        {
          if (!p->ok)
            return FALSE;
          *out = p->result;
          return TRUE;
        }
    }
  return FALSE;
}

guint
sw_dkim_body_hasher_get_n_hashes (const SwDkimBodyHasher *h)
{
  g_return_val_if_fail (h != NULL, 0);
  return h->n_items;
}

guint64
sw_dkim_body_hasher_body_length (const SwDkimBodyHasher *h)
{
  g_return_val_if_fail (h != NULL, 0);
  return h->fed;
}

void
sw_dkim_body_hasher_free (SwDkimBodyHasher *h)
{
  if (h == NULL)
    return;
  for (guint i = 0; i < h->n_items; i++)
    canon_clear (&h->items[i].c);
  g_free (h);
}
