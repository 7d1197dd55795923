#define G_LOG_DOMAIN "sw-dkim-test"
/* test-dkim-bodyhash.c: the incremental body hasher (sw-dkim-bodyhash.h) against the
 * one-shot sw_dkim_body_hash() (itself checked against libopendkim's signer by
 * test-dkim-body.c) and against the line-at-a-time implementation it replaced, kept here
 * as the reference.
 *
 *   /core/dkim/bodyhash/generated     800 generated raw bodies (CR/LF mixtures, white
 *                                     space runs, empty lines, NULs, no final line end),
 *                                     fed whole, in 1-octet chunks and in random splits:
 *                                     simple/relaxed x SHA-1/SHA-256 x several l=
 *   /core/dkim/bodyhash/alphabet      300 bodies of SP, HTAB, CR, LF and letters
 *   /core/dkim/bodyhash/edge/CASE     edge cases, also fed in every 2-piece split
 *   /core/dkim/bodyhash/header/CASE   which hashes a header block prepares
 *   /core/dkim/bodyhash/long-line     a 10 MB line without white space after empty lines,
 *                                     checked against a digest computed independently
 *   /core/dkim/bodyhash/memory-flat   50 MB fed in 64 KB chunks: peak RSS does not grow
 *   /core/dkim/bodyhash/perf          (-m perf only) feed() throughput and peak RSS */
#include "sw-dkim-bodyhash.h"
#include "sw-limits.h"
#include <stdio.h>
#include <string.h>

/* ---- the reference: the line-at-a-time one-shot canonicalisation sw-dkim-body.c had
 * before it became incremental (checked against libopendkim by test-dkim-body.c then),
 * kept here unchanged so that the state machine is compared with independent code ---- */

/* libopendkim's DKIM_HASHBUFSIZE (dkim-canon.h) */
#define SW_DKIM_LIB_HASHBUF 4096u

static const guint8 REF_CRLF[2] = { '\r', '\n' };
static const guint8 REF_SP[1] = { ' ' };

typedef struct
{
  GByteArray *out;    /* collect it */
  guint64 remain;     /* octets still to hash (l=); G_MAXUINT64: no limit */
  guint64 total;      /* canonical octets produced */
  const guint8 *span; /* pending output, contiguous in memory */
  gsize span_len;
  /* simple only: libopendkim's hash buffer, as lengths (see the top of the file) */
  gsize sim_buffered;
  gboolean sim_written;
  guint blanks; /* empty lines held back */
} RefSink;

static gboolean
ref_is_wsp (guint8 c)
{
  return c == ' ' || c == '\t';
}

static void
ref_sink_flush (RefSink *s)
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
      g_byte_array_append (s->out, s->span, (guint)n);
    }
  s->span_len = 0;
}

/* Appends @n octets at @p to the output; adjacent pieces are handed on in one call. */
static inline void
ref_emit (RefSink *s, const guint8 *p, gsize n)
{
  if (n == 0)
    return;
  s->total += n;
  if (s->span_len > 0 && s->span + s->span_len == p)
    {
      s->span_len += n;
      return;
    }
  ref_sink_flush (s);
  s->span = p;
  s->span_len = n;
}

/* One dkim_canon_buffer() call of @n octets (0: flush), on lengths only. */
static void
ref_sim_call (RefSink *s, gsize n)
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
ref_emit_blanks (RefSink *s, gboolean simple)
{
  for (; s->blanks > 0; s->blanks--)
    {
      if (simple)
        ref_sim_call (s, 2);
      ref_emit (s, REF_CRLF, 2);
    }
}

typedef struct
{
  const guint8 *text; /* the line without its line end */
  gsize len;
  const guint8 *crlf; /* its REF_CRLF in the input, or NULL (lone CR or LF, or none) */
  gboolean complete;  /* FALSE: the final line, without line end */
} RefLine;

/* The next line of @b from *@pos, with FIXCRLF's idea of line ends. */
static gboolean
ref_next_line (const guint8 *b, gsize len, gsize *pos, RefLine *line)
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
ref_simple_body (RefSink *s, const guint8 *b, gsize len)
{
  gsize pos = 0;
  RefLine line;
  gboolean partial = FALSE;
  while (ref_next_line (b, len, &pos, &line))
    {
      if (!line.complete)
        {
          if (line.len > 0)
            ref_emit_blanks (s, TRUE);
          ref_sim_call (s, line.len);
          ref_emit (s, line.text, line.len);
          partial = TRUE;
          break;
        }
      if (line.len == 0)
        {
          s->blanks++;
          continue;
        }
      ref_emit_blanks (s, TRUE);
      ref_sim_call (s, line.len + 2);
      ref_emit (s, line.text, line.len);
      ref_emit (s, line.crlf ? line.crlf : REF_CRLF, 2);
    }
  if (!partial)
    ref_sim_call (s, 0);
  /* dkim_canon_closebody(): "simple" must include at least a REF_CRLF */
  if (!s->sim_written)
    ref_emit (s, REF_CRLF, 2);
}

/* Writes the relaxed form of @text (no CR or LF in it) without line end; TRUE if it
 * ended in white space. Held-back empty lines are written first when @flush_blanks and
 * the text is not white space only. Text that needs no change (single REF_SP between words)
 * is handed on as one piece. */
static gboolean
ref_relaxed_text (RefSink *s, const guint8 *text, gsize n, gboolean flush_blanks)
{
  gsize i = 0;
  while (i < n && ref_is_wsp (text[i]))
    i++;
  if (i == n)
    return n > 0;
  if (flush_blanks)
    ref_emit_blanks (s, FALSE);
  gsize from = i; /* start of the part not yet written */
  if (i > 0)
    {
      ref_emit (s, (i == 1 && text[0] == ' ') ? text : REF_SP, 1);
    }
  while (i < n)
    {
      if (!ref_is_wsp (text[i]))
        {
          i++;
          continue;
        }
      gsize ws = i;
      while (i < n && ref_is_wsp (text[i]))
        i++;
      if (i == n)
        {
          ref_emit (s, text + from, ws - from);
          return TRUE;
        }
      if (i - ws == 1 && text[ws] == ' ')
        continue; /* already canonical */
      ref_emit (s, text + from, ws - from);
      ref_emit (s, REF_SP, 1);
      from = i;
    }
  ref_emit (s, text + from, n - from);
  return FALSE;
}

static gboolean
ref_has_non_wsp (const guint8 *text, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if (!ref_is_wsp (text[i]))
      return TRUE;
  return FALSE;
}

static void
ref_relaxed_body (RefSink *s, const guint8 *b, gsize len)
{
  gsize pos = 0;
  RefLine line;
  while (ref_next_line (b, len, &pos, &line))
    {
      if (!ref_has_non_wsp (line.text, line.len))
        {
          if (line.complete)
            s->blanks++;
          continue; /* a final line of white space only writes nothing */
        }
      if (line.complete)
        {
          ref_relaxed_text (s, line.text, line.len, TRUE);
          ref_emit (s, line.crlf ? line.crlf : REF_CRLF, 2);
          continue;
        }
      /* the final line: see quirks 2 and 3 at the top */
      gboolean has_wsp
          = memchr (line.text, ' ', line.len) != NULL || memchr (line.text, '\t', line.len) != NULL;
      if (!ref_relaxed_text (s, line.text, line.len, has_wsp))
        ref_emit (s, REF_CRLF, 2);
    }
}

static void
ref_run (RefSink *s, const guint8 *body, gsize len, SwDkimCanon canon)
{
  if (canon == SW_DKIM_CANON_SIMPLE)
    ref_simple_body (s, body, len);
  else
    ref_relaxed_body (s, body, len);
  ref_sink_flush (s);
}

static GByteArray *
reference_canonicalize (const guint8 *body, gsize len, SwDkimCanon canon)
{
  RefSink s = { 0 };
  s.out = g_byte_array_sized_new ((guint)MIN (len + 2, (gsize)G_MAXUINT));
  s.remain = G_MAXUINT64;
  ref_run (&s, body, len, canon);
  return s.out;
}

/* ---- helpers ---- */

/* The body of "From: ...\r\n\r\n" + @raw as the verifier sees it (line ends normalised). */
static GByteArray *
normalised_body (const guint8 *raw, gsize len)
{
  GByteArray *m = g_byte_array_new ();
  g_byte_array_append (m, (const guint8 *)"From: a@example.com\r\n\r\n", 23);
  g_byte_array_append (m, raw, (guint)len);
  SwDkimMessage msg;
  sw_dkim_message_init (&msg, m->data, m->len);
  GByteArray *b = g_byte_array_new ();
  g_byte_array_append (b, msg.buf + msg.body_offset, (guint)(msg.len - msg.body_offset));
  sw_dkim_message_clear (&msg);
  g_byte_array_unref (m);
  return b;
}

typedef struct
{
  SwDkimCanon canon;
  SwDkimHash hash;
  gint64 limit;
} Combo;

static const char *
canon_name (SwDkimCanon c)
{
  return c == SW_DKIM_CANON_SIMPLE ? "simple" : "relaxed";
}

/* A header block whose DKIM-Signature fields ask for @combos (at most
 * SW_DKIM_MAX_SIGNATURES). */
static GString *
header_for (const Combo *combos, guint n)
{
  GString *h = g_string_new ("From: a@example.com\r\n");
  for (guint i = 0; i < n; i++)
    {
      g_string_append_printf (h, "DKIM-Signature: v=1; a=%s; c=relaxed/%s; d=example.com; s=s%u;",
                              combos[i].hash == SW_DKIM_HASH_SHA1 ? "rsa-sha1" : "rsa-sha256",
                              canon_name (combos[i].canon), i);
      if (combos[i].limit >= 0)
        g_string_append_printf (h, " l=%" G_GINT64_FORMAT ";", combos[i].limit);
      g_string_append (h, "\r\n bh=AAAA; b=AAAA\r\n");
    }
  g_string_append (h, "Subject: test\r\n\r\n");
  return h;
}

/* Splits of @len octets: chunk sizes, 0-terminated. */
typedef struct
{
  const char *name;
  GArray *sizes; /* gsize */
} Chunking;

static void
chunking_add (GPtrArray *list, const char *name, GArray *sizes)
{
  Chunking *c = g_new0 (Chunking, 1);
  c->name = name;
  c->sizes = sizes;
  g_ptr_array_add (list, c);
}

static void
chunking_free (gpointer p)
{
  Chunking *c = p;
  g_array_unref (c->sizes);
  g_free (c);
}

static GPtrArray *
chunkings_for (gsize len, GRand *rng, gboolean every_split)
{
  GPtrArray *list = g_ptr_array_new_with_free_func (chunking_free);
  GArray *whole = g_array_new (FALSE, FALSE, sizeof (gsize));
  g_array_append_val (whole, len);
  chunking_add (list, "whole", whole);
  GArray *ones = g_array_new (FALSE, FALSE, sizeof (gsize));
  for (gsize i = 0; i < len; i++)
    {
      gsize one = 1;
      g_array_append_val (ones, one);
    }
  chunking_add (list, "1-octet", ones);
  for (guint r = 0; r < 3; r++)
    {
      GArray *random = g_array_new (FALSE, FALSE, sizeof (gsize));
      gsize left = len;
      while (left > 0)
        {
          /* empty chunks too */
          gsize n = (gsize)g_rand_int_range (rng, 0, r == 2 ? 4000 : 40);
          n = MIN (n, left);
          g_array_append_val (random, n);
          left -= n;
        }
      chunking_add (list, "random", random);
    }
  for (gsize at = 1; every_split && at < len; at++)
    {
      GArray *two = g_array_new (FALSE, FALSE, sizeof (gsize));
      gsize rest = len - at;
      g_array_append_val (two, at);
      g_array_append_val (two, rest);
      chunking_add (list, "2-piece", two);
    }
  return list;
}

/* The body hash of @combo from the reference canonical form @canonical. */
static void
reference_hash (const GByteArray *canonical, const Combo *combo, SwDkimBodyHash *out)
{
  memset (out, 0, sizeof *out);
  gsize n = combo->limit < 0 ? canonical->len : MIN ((gsize)combo->limit, canonical->len);
  g_autoptr (GChecksum) ck
      = g_checksum_new (combo->hash == SW_DKIM_HASH_SHA1 ? G_CHECKSUM_SHA1 : G_CHECKSUM_SHA256);
  g_checksum_update (ck, canonical->data, (gssize)n);
  out->digest_len = sizeof out->digest;
  g_checksum_get_digest (ck, out->digest, &out->digest_len);
  out->canon_len = canonical->len;
  out->hashed = n;
}

/* Feeds @raw to a hasher for @header in the chunks of @ch and checks every combination
 * against @wants (from the reference, equal to sw_dkim_body_hash() on @norm). */
static void
check_chunking (const char *name, const guint8 *raw, gsize len, const GByteArray *norm, const GString *header,
                const Combo *combos, const SwDkimBodyHash *wants, guint n, const Chunking *ch, guint ch_index)
{
  g_autoptr (SwDkimBodyHasher) h
      = sw_dkim_body_hasher_new_for_header ((const guint8 *)header->str, header->len);
  gsize pos = 0;
  for (guint i = 0; i < ch->sizes->len; i++)
    {
      gsize size = g_array_index (ch->sizes, gsize, i);
      sw_dkim_body_hasher_feed (h, raw + pos, size);
      pos += size;
    }
  g_assert_cmpuint (pos, ==, len);
  sw_dkim_body_hasher_finish (h);
  g_assert_cmpuint (sw_dkim_body_hasher_body_length (h), ==, len);
  for (guint i = 0; i < n; i++)
    {
      SwDkimBodyHash want = wants[i], got;
      if (!sw_dkim_body_hasher_lookup (h, combos[i].canon, combos[i].hash, combos[i].limit, &got)
          || memcmp (&want, &got, sizeof want) != 0)
        {
          g_autofree char *esc = g_strescape ((const char *)norm->data, NULL);
          g_error ("%s, chunking %u (%s): %s %s l=%" G_GINT64_FORMAT ": canon_len %" G_GUINT64_FORMAT
                   " hashed %" G_GUINT64_FORMAT ", want %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                   "; body \"%.300s\"",
                   name, ch_index, ch->name, canon_name (combos[i].canon),
                   combos[i].hash == SW_DKIM_HASH_SHA1 ? "sha1" : "sha256", combos[i].limit, got.canon_len,
                   got.hashed, want.canon_len, want.hashed, esc);
        }
    }
}

/* The l= values worth trying on @canonical. */
static GArray *
limits_for (const GByteArray *canonical, GRand *rng, gboolean thorough)
{
  GArray *l = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 len = (gint64)canonical->len;
  gint64 base[] = { -1, 0, len / 2, len, len + 7, g_rand_int_range (rng, 0, (gint32)len + 1) };
  g_array_append_vals (l, base, G_N_ELEMENTS (base));
  if (thorough)
    {
      gint64 more[] = { 1, 2, 3, len - 1, len + 1 };
      for (guint i = 0; i < G_N_ELEMENTS (more); i++)
        if (more[i] >= 0)
          g_array_append_val (l, more[i]);
      /* in the middle of CRLFs */
      guint mid = 0;
      for (guint i = 0; i + 1 < canonical->len && mid < 6; i++)
        if (canonical->data[i] == '\r' && canonical->data[i + 1] == '\n')
          {
            gint64 at = (gint64)i + 1;
            g_array_append_val (l, at);
            mid++;
          }
    }
  return l;
}

/* Checks @raw in every chunking of chunkings_for() for both canonicalisations, both
 * hashes and the l= of limits_for(). */
static void
check_body (const char *name, const guint8 *raw, gsize len, GRand *rng, gboolean thorough)
{
  g_autoptr (GByteArray) norm = normalised_body (raw, len);
  g_autoptr (GArray) combos = g_array_new (FALSE, FALSE, sizeof (Combo));
  for (SwDkimCanon canon = SW_DKIM_CANON_SIMPLE; canon <= SW_DKIM_CANON_RELAXED; canon++)
    {
      g_autoptr (GByteArray) canonical = sw_dkim_body_canonicalize (norm->data, norm->len, canon);
      g_autoptr (GArray) limits = limits_for (canonical, rng, thorough);
      for (SwDkimHash hash = SW_DKIM_HASH_SHA1; hash <= SW_DKIM_HASH_SHA256; hash++)
        for (guint i = 0; i < limits->len; i++)
          {
            Combo c = { canon, hash, g_array_index (limits, gint64, i) };
            gboolean dup = FALSE;
            for (guint k = 0; k < combos->len && !dup; k++)
              dup = memcmp (&g_array_index (combos, Combo, k), &c, sizeof c) == 0;
            if (!dup)
              g_array_append_val (combos, c);
          }
    }
  /* the one-shot function equals the reference */
  g_autoptr (GArray) wants = g_array_sized_new (FALSE, TRUE, sizeof (SwDkimBodyHash), combos->len);
  g_autoptr (GByteArray) ref_simple = reference_canonicalize (norm->data, norm->len, SW_DKIM_CANON_SIMPLE);
  g_autoptr (GByteArray) ref_relaxed = reference_canonicalize (norm->data, norm->len, SW_DKIM_CANON_RELAXED);
  for (guint i = 0; i < combos->len; i++)
    {
      const Combo *c = &g_array_index (combos, Combo, i);
      SwDkimBodyHash want, one_shot;
      reference_hash (c->canon == SW_DKIM_CANON_SIMPLE ? ref_simple : ref_relaxed, c, &want);
      g_assert_true (sw_dkim_body_hash (norm->data, norm->len, c->canon, c->hash, c->limit, &one_shot));
      if (memcmp (&want, &one_shot, sizeof want) != 0)
        g_error ("%s: %s l=%" G_GINT64_FORMAT ": sw_dkim_body_hash() differs from the reference", name,
                 canon_name (c->canon), c->limit);
      /* the body as received (bare LFs not normalised, as sw_dkim_message_init_header()
       * leaves it) hashes the same */
      SwDkimBodyHash from_raw;
      g_assert_true (sw_dkim_body_hash (raw, len, c->canon, c->hash, c->limit, &from_raw));
      if (memcmp (&want, &from_raw, sizeof want) != 0)
        g_error ("%s: %s l=%" G_GINT64_FORMAT ": sw_dkim_body_hash() of the raw body differs", name,
                 canon_name (c->canon), c->limit);
      g_array_append_val (wants, want);
    }
  g_autoptr (GByteArray) canon_simple
      = sw_dkim_body_canonicalize (norm->data, norm->len, SW_DKIM_CANON_SIMPLE);
  g_autoptr (GByteArray) canon_relaxed
      = sw_dkim_body_canonicalize (norm->data, norm->len, SW_DKIM_CANON_RELAXED);
  if (canon_simple->len != ref_simple->len
      || memcmp (canon_simple->data, ref_simple->data, ref_simple->len) != 0
      || canon_relaxed->len != ref_relaxed->len
      || memcmp (canon_relaxed->data, ref_relaxed->data, ref_relaxed->len) != 0)
    g_error ("%s: sw_dkim_body_canonicalize() differs from the reference", name);

  g_autoptr (GPtrArray) chunkings = chunkings_for (len, rng, thorough && len <= 300);
  for (guint first = 0; first < combos->len; first += SW_DKIM_MAX_SIGNATURES)
    {
      guint n = MIN (combos->len - first, SW_DKIM_MAX_SIGNATURES);
      const Combo *group = &g_array_index (combos, Combo, first);
      const SwDkimBodyHash *group_wants = &g_array_index (wants, SwDkimBodyHash, first);
      GString *header = header_for (group, n);
      for (guint k = 0; k < chunkings->len; k++)
        check_chunking (name, raw, len, norm, header, group, group_wants, n, g_ptr_array_index (chunkings, k),
                        k);
      g_string_free (header, TRUE);
    }
}

/* ---- generated bodies ---- */

/* A random body made of pieces that exercise every rule (test-dkim-body.c's generator). */
static GString *
random_body (GRand *rng, guint size)
{
  static const char *pieces[]
      = { "word", "x",  " ",        "  ",         "\t", " \t ", "\r\n", "\r\n",  "\r\n",
          "\n",   "\r", "\r\n\r\n", "\r\n  \r\n", "\0", "=20",  ".",    "\r\r\n" };
  static const gsize lens[] = { 4, 1, 1, 2, 1, 3, 2, 2, 2, 1, 1, 4, 6, 1, 3, 1, 3 };
  GString *b = g_string_new (NULL);
  guint n = g_rand_int_range (rng, 0, (gint32)size + 1);
  for (guint i = 0; i < n; i++)
    {
      guint k = g_rand_int_range (rng, 0, G_N_ELEMENTS (pieces));
      g_string_append_len (b, pieces[k], (gssize)lens[k]);
    }
  /* long lines and long bodies too (libopendkim's 4096-octet hash buffer) */
  if (g_rand_int_range (rng, 0, 4) == 0)
    for (guint i = 0, m = g_rand_int_range (rng, 0, 300); i < m; i++)
      g_string_append (b, i % 7 == 6 ? "\r\n" : "lorem ipsum dolor ");
  /* endings */
  static const char *ends[] = { "", "\r\n", "\r\n\r\n", " ", "\r", "\r\n  ", "x", "\n\n" };
  g_string_append (b, ends[g_rand_int_range (rng, 0, G_N_ELEMENTS (ends))]);
  return b;
}

static void
test_generated (void)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (20261123);
  g_autoptr (GRand) split_rng = g_rand_new_with_seed (4242);
  for (guint round = 0; round < 800; round++)
    {
      g_autoptr (GString) raw = random_body (rng, 40);
      g_autofree char *name = g_strdup_printf ("generated body %u", round);
      check_body (name, (const guint8 *)raw->str, raw->len, split_rng, FALSE);
    }
}

/* Bodies from a small alphabet heavy in white space: SP and HTAB at every offset of the
 * 16-octet blocks the scanners use (fed whole, blocks are used; in 1-octet chunks,
 * never). */
static void
test_alphabet (void)
{
  static const char alphabet[] = "aaaaaabc   \t\r\n";
  g_autoptr (GRand) rng = g_rand_new_with_seed (16);
  for (guint round = 0; round < 300; round++)
    {
      GString *b = g_string_new (NULL);
      guint n = g_rand_int_range (rng, 0, 400);
      guint pick = g_rand_int_range (rng, 0, 3); /* some bodies without line ends */
      for (guint i = 0; i < n; i++)
        g_string_append_c (
            b, alphabet[g_rand_int_range (rng, 0, (gint32)strlen (alphabet) - (pick == 0 ? 2 : 0))]);
      g_autofree char *name = g_strdup_printf ("alphabet body %u", round);
      check_body (name, (const guint8 *)b->str, b->len, rng, FALSE);
      g_string_free (b, TRUE);
    }
}

/* ---- edge cases ---- */

typedef struct
{
  const char *name;
  const char *body;
  gsize len; /* 0: strlen */
} EdgeCase;

static const EdgeCase edge_cases[] = {
  { "empty", "", 0 },
  { "only-crlf", "\r\n", 0 },
  { "only-crlfs", "\r\n\r\n\r\n\r\n", 0 },
  { "only-lfs", "\n\n\n", 0 },
  { "only-crs", "\r\r\r", 0 },
  { "bare-cr-last", "a\r\nb\r", 0 },
  { "bare-cr-inside", "a\rb\r\n", 0 },
  { "cr-cr-lf", "a\r\r\nb\r\n", 0 },
  { "cr-then-text", "ab\rcd", 0 },
  { "crlf", "ab\r\ncd\r\n", 0 },
  { "bare-lf", "a\nb\n", 0 },
  { "lf-cr", "a\n\rb\n\r", 0 },
  { "nul-octets", "a\0b\r\n\0\r\n", 7 },
  { "nul-only", "\0", 1 },
  { "trailing-wsp", "a  \r\nb\t\r\nc \t", 0 },
  { "wsp-only-lines", "a\r\n  \r\n\t\r\nb\r\n \t", 0 },
  { "leading-wsp", "  a\r\n\tb\r\n \t c  d", 0 },
  { "no-final-line-end", "abc", 0 },
  { "no-final-line-end-trailing-wsp", "a\r\nbc  ", 0 },
  { "no-final-line-end-after-empty", "a\r\n\r\nbc", 0 },
  { "no-final-line-end-after-empty-wsp", "a\r\n\r\nb c", 0 },
  { "no-final-line-end-after-empty-leading-wsp", "a\r\n\r\n bc", 0 },
  { "no-final-line-end-after-empty-trailing-wsp", "a\r\n\r\nbc ", 0 },
  { "after-empty-then-wsp-then-end", "a\r\n\r\n\r\nbc d\r\n", 0 },
  { "after-empty-complete", "\r\n\r\nbc\r\n", 0 },
  { "after-empty-cr-last", "\r\n\r\nbc\r", 0 },
  { "after-empty-lone-cr", "\r\n\r\nbc\rd", 0 },
  { "controls", "a\001\002 \037b\r\n\x7f\xff \xfe", 0 },
  { "dot", ".\r\n..\r\n", 0 },
  { "single-spaces", "one two three four\r\nfive six", 0 },
};

static void
test_edge (gconstpointer data)
{
  const EdgeCase *c = data;
  gsize len = c->len ? c->len : strlen (c->body);
  g_autoptr (GRand) rng = g_rand_new_with_seed (99);
  check_body (c->name, (const guint8 *)c->body, len, rng, TRUE);
}

/* Bodies built at run time: long lines, long runs of empty lines, the 4096-octet hash
 * buffer's edges. */
static void
test_edge_built (void)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (7);
  static const gsize sizes[] = { 4093, 4094, 4095, 4096, 4097, 8190, 20000 };
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      static const char *prefixes[] = { "", "\r\n\r\n", "a b\r\n\r\n", "\r\n \r\n" };
      static const char *suffixes[] = { "", "\r\n", " ", "\r", "\r\n\r\n", " x" };
      for (guint p = 0; p < G_N_ELEMENTS (prefixes); p++)
        for (guint s = 0; s < G_N_ELEMENTS (suffixes); s++)
          {
            GString *b = g_string_new (prefixes[p]);
            /* a long line without white space, one with, and short lines */
            for (gsize k = 0; k < sizes[i]; k++)
              g_string_append_c (b, (char)('a' + k % 26));
            g_string_append (b, suffixes[s]);
            g_autofree char *name = g_strdup_printf ("long %zu prefix %u suffix %u", sizes[i], p, s);
            check_body (name, (const guint8 *)b->str, b->len, rng, FALSE);
            g_string_truncate (b, 0);
            g_string_append (b, prefixes[p]);
            while (b->len < sizes[i])
              g_string_append (b, b->len % 3 ? "word  \t" : "x\r\n");
            g_string_append (b, suffixes[s]);
            check_body (name, (const guint8 *)b->str, b->len, rng, FALSE);
            g_string_free (b, TRUE);
          }
    }
  /* 3000 empty lines before text, and at the end */
  GString *b = g_string_new (NULL);
  for (guint k = 0; k < 3000; k++)
    g_string_append (b, k % 2 ? "\r\n" : "\n");
  g_string_append (b, "end");
  check_body ("many empty lines then text", (const guint8 *)b->str, b->len, rng, FALSE);
  g_string_append (b, " of text\r\n\r\n");
  for (guint k = 0; k < 3000; k++)
    g_string_append (b, "\r\n");
  check_body ("many empty lines around text", (const guint8 *)b->str, b->len, rng, FALSE);
  g_string_free (b, TRUE);
}

/* ---- header blocks ---- */

typedef struct
{
  const char *name;
  const char *header;
  const char *want; /* the prepared combinations, "canon/hash/limit" separated by ',' */
} HeaderCase;

static const HeaderCase header_cases[] = {
  { "none", "From: a@example.com\r\nSubject: x\r\n\r\n", "" },
  { "empty", "", "" },
  { "one", "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=e.com; s=s; bh=A; b=B\r\n\r\n",
    "relaxed/sha256/-1" },
  { "two",
    "From: a@example.com\r\n"
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=e.com; s=s; bh=A; b=B\r\n"
    "DKIM-Signature: v=1; a=rsa-sha1; c=simple/simple; l=20; d=e.com; s=s; bh=A; b=B\r\n\r\n",
    "simple/sha1/20,relaxed/sha256/-1" },
  { "folded",
    "DKIM-Signature: v=1; a=rsa-\r\n\tsha256; c=relaxed/\r\n simple; l=1\r\n 2;\r\n d=e.com; s=s;\r\n bh=A; "
    "b=B\r\n\r\n",
    "simple/sha256/12" },
  { "lf-line-ends",
    "From: a@example.com\nDKIM-Signature: v=1; a=rsa-sha256;\n c=simple/relaxed; d=e.com; s=s; bh=A; b=B\n\n",
    "relaxed/sha256/-1" },
  { "missing-c", "DKIM-Signature: v=1; a=rsa-sha1; d=e.com; s=s; bh=A; b=B\r\n\r\n", "simple/sha1/-1" },
  { "c-header-only", "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed; d=e.com; s=s; bh=A; b=B\r\n\r\n",
    "simple/sha256/-1" },
  { "case-insensitive-names",
    "dkim-signature: v=1; a=RSA-SHA256; c=Relaxed/RELAXED; d=e.com; s=s; bh=A; b=B\r\n\r\n",
    "relaxed/sha256/-1" },
  { "ed25519", "DKIM-Signature: v=1; a=ed25519-sha256; c=simple/simple; d=e.com; s=s; bh=A; b=B\r\n\r\n",
    "simple/sha256/-1" },
  { "duplicates",
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=a.com; s=s; bh=A; b=B\r\n"
    "DKIM-Signature: v=1; a=ed25519-sha256; c=simple/relaxed; d=b.com; s=s; bh=A; b=B\r\n"
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; l=0; d=c.com; s=s; bh=A; b=B\r\n"
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; l=00; d=c.com; s=s; bh=A; b=B\r\n\r\n",
    "relaxed/sha256/-1,relaxed/sha256/0" },
  { "unreadable-skipped",
    "DKIM-Signature: v=1; a=rsa-md5; c=relaxed/relaxed; d=e.com; s=s; bh=A; b=B\r\n"
    "DKIM-Signature: v=1; c=relaxed/relaxed; d=e.com; s=s; bh=A; b=B\r\n"
    "DKIM-Signature: v=1; a=rsa-sha256; c=fancy/relaxed; d=e.com; s=s; bh=A; b=B\r\n"
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/fancy; d=e.com; s=s; bh=A; b=B\r\n"
    "DKIM-Signature: v=1; a=rsa-sha256; l=-1; d=e.com; s=s; bh=A; b=B\r\n"
    "DKIM-Signature: v=1; a=rsa-sha256; l=12x; d=e.com; s=s; bh=A; b=B\r\n"
    "DKIM-Signature: v=1; a=rsa-sha256; l=99999999999999999999; d=e.com; s=s; bh=A; b=B\r\n"
    "DKIM-Signature: v=1; a=rsa-sha1; c=simple/relaxed; l=5; d=e.com; s=s; bh=A; b=B\r\n\r\n",
    "relaxed/sha1/5" },
  { "not-dkim-fields",
    "X-DKIM-Signature: v=1; a=rsa-sha256; d=e.com; s=s; bh=A; b=B\r\n"
    "DKIM-Signatures: v=1; a=rsa-sha256; d=e.com; s=s; bh=A; b=B\r\n"
    "DKIM-Signature : v=1; a=rsa-sha1; d=e.com; s=s; bh=A; b=B\r\n\r\n",
    "simple/sha1/-1" },
  { "body-not-read",
    "DKIM-Signature: v=1; a=rsa-sha1; d=e.com; s=s; bh=A; b=B\r\n\r\n"
    "DKIM-Signature: v=1; a=rsa-sha256; d=e.com; s=s; bh=A; b=B\r\n",
    "simple/sha1/-1" },
  { "no-empty-line", "DKIM-Signature: v=1; a=rsa-sha256; c=simple/relaxed; d=e.com; s=s; bh=A; b=B",
    "relaxed/sha256/-1" },
};

static char *
describe_prepared (const SwDkimBodyHasher *h)
{
  /* every combination that can be asked for in these cases */
  static const gint64 limits[] = { -1, 0, 5, 12, 20 };
  GString *s = g_string_new (NULL);
  for (SwDkimCanon canon = SW_DKIM_CANON_SIMPLE; canon <= SW_DKIM_CANON_RELAXED; canon++)
    for (SwDkimHash hash = SW_DKIM_HASH_SHA1; hash <= SW_DKIM_HASH_SHA256; hash++)
      for (guint i = 0; i < G_N_ELEMENTS (limits); i++)
        {
          SwDkimBodyHash out;
          if (sw_dkim_body_hasher_lookup (h, canon, hash, limits[i], &out))
            g_string_append_printf (s, "%s%s/%s/%" G_GINT64_FORMAT, s->len ? "," : "", canon_name (canon),
                                    hash == SW_DKIM_HASH_SHA1 ? "sha1" : "sha256", limits[i]);
        }
  return g_string_free (s, FALSE);
}

static void
test_header_case (gconstpointer data)
{
  const HeaderCase *c = data;
  g_autoptr (SwDkimBodyHasher) h
      = sw_dkim_body_hasher_new_for_header ((const guint8 *)c->header, strlen (c->header));
  static const char body[] = "Hello  world\r\n\r\n";
  sw_dkim_body_hasher_feed (h, (const guint8 *)body, strlen (body));
  sw_dkim_body_hasher_finish (h);
  g_autofree char *got = describe_prepared (h);
  if (strcmp (got, c->want) != 0)
    g_error ("%s: prepared \"%s\", want \"%s\"", c->name, got, c->want);
  /* prepared once each */
  guint n_want = c->want[0] ? 1 : 0;
  for (const char *p = c->want; *p; p++)
    n_want += *p == ',';
  g_assert_cmpuint (sw_dkim_body_hasher_get_n_hashes (h), ==, n_want);
}

/* More than SW_DKIM_MAX_SIGNATURES fields: the topmost ones count. */
static void
test_header_too_many (void)
{
  GString *hdr = g_string_new ("From: a@example.com\r\n");
  guint n = SW_DKIM_MAX_SIGNATURES + 3;
  for (guint i = 0; i < n; i++)
    g_string_append_printf (
        hdr, "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; l=%u; d=e.com; s=s; bh=A; b=B\r\n", i);
  g_string_append (hdr, "\r\n");
  g_autoptr (SwDkimBodyHasher) h = sw_dkim_body_hasher_new_for_header ((const guint8 *)hdr->str, hdr->len);
  g_string_free (hdr, TRUE);
  sw_dkim_body_hasher_feed (h, (const guint8 *)"a b\r\n", 5);
  sw_dkim_body_hasher_finish (h);
  g_assert_cmpuint (sw_dkim_body_hasher_get_n_hashes (h), ==, SW_DKIM_MAX_SIGNATURES);
  for (guint i = 0; i < n; i++)
    {
      SwDkimBodyHash out;
      gboolean found = sw_dkim_body_hasher_lookup (h, SW_DKIM_CANON_RELAXED, SW_DKIM_HASH_SHA256, i, &out);
      if (found != (i < SW_DKIM_MAX_SIGNATURES))
        g_error ("l=%u: prepared %d", i, found);
      if (found)
        g_assert_cmpuint (out.hashed, ==, MIN (i, 5u));
    }
  /* unreadable fields count towards the cap too */
  hdr = g_string_new (NULL);
  for (guint i = 0; i < SW_DKIM_MAX_SIGNATURES; i++)
    g_string_append (hdr, "DKIM-Signature: v=1; a=rsa-md5; d=e.com; s=s; bh=A; b=B\r\n");
  g_string_append (hdr, "DKIM-Signature: v=1; a=rsa-sha256; d=e.com; s=s; bh=A; b=B\r\n\r\n");
  g_autoptr (SwDkimBodyHasher) h2 = sw_dkim_body_hasher_new_for_header ((const guint8 *)hdr->str, hdr->len);
  g_string_free (hdr, TRUE);
  g_assert_cmpuint (sw_dkim_body_hasher_get_n_hashes (h2), ==, 0);
}

/* ---- long lines and memory ---- */

static gsize
peak_rss_kb (void)
{
  g_autofree char *status = NULL;
  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    g_error ("cannot read /proc/self/status");
  const char *p = strstr (status, "VmHWM:");
  g_assert_nonnull (p);
  return (gsize)g_ascii_strtoull (p + 6, NULL, 10);
}

static void
reset_peak_rss (void)
{
  /* "5" resets VmHWM to the current RSS (Linux >= 4.0) */
  FILE *f = fopen ("/proc/self/clear_refs", "w");
  if (f != NULL)
    {
      fputs ("5", f);
      fclose (f);
    }
}

static char *
hex (const guint8 *d, gsize n)
{
  GString *s = g_string_new (NULL);
  for (gsize i = 0; i < n; i++)
    g_string_append_printf (s, "%02x", d[i]);
  return g_string_free (s, FALSE);
}

/* "\r\n\r\n" then 10 MB without white space or line end: relaxed drops the empty lines
 * (quirk 3) and appends CRLF, simple keeps them and appends nothing (quirk 1). Checked
 * against digests computed here, from what the canonical forms must be. */
static void
test_long_line (void)
{
  static const char header[]
      = "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=e.com; s=s; bh=A; b=B\r\n"
        "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/simple; d=e.com; s=s; bh=A; b=B\r\n\r\n";
  g_autoptr (SwDkimBodyHasher) h
      = sw_dkim_body_hasher_new_for_header ((const guint8 *)header, strlen (header));
  g_autoptr (GChecksum) relaxed = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr (GChecksum) simple = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 chunk[65536];
  for (gsize i = 0; i < sizeof chunk; i++)
    chunk[i] = (guint8)('A' + i % 50);
  sw_dkim_body_hasher_feed (h, (const guint8 *)"\r\n\n", 3);
  g_checksum_update (simple, (const guint8 *)"\r\n\r\n", 4);
  const guint n = 160; /* 10 MB */
  for (guint i = 0; i < n; i++)
    {
      sw_dkim_body_hasher_feed (h, chunk, sizeof chunk);
      g_checksum_update (relaxed, chunk, sizeof chunk);
      g_checksum_update (simple, chunk, sizeof chunk);
    }
  g_checksum_update (relaxed, (const guint8 *)"\r\n", 2);
  sw_dkim_body_hasher_finish (h);
  g_assert_cmpuint (sw_dkim_body_hasher_body_length (h), ==, 3 + (guint64)n * sizeof chunk);
  SwDkimBodyHash r, s;
  g_assert_true (sw_dkim_body_hasher_lookup (h, SW_DKIM_CANON_RELAXED, SW_DKIM_HASH_SHA256, -1, &r));
  g_assert_true (sw_dkim_body_hasher_lookup (h, SW_DKIM_CANON_SIMPLE, SW_DKIM_HASH_SHA256, -1, &s));
  g_assert_cmpuint (r.canon_len, ==, (guint64)n * sizeof chunk + 2);
  g_assert_cmpuint (s.canon_len, ==, (guint64)n * sizeof chunk + 4);
  g_autofree char *r_hex = hex (r.digest, r.digest_len);
  g_autofree char *s_hex = hex (s.digest, s.digest_len);
  g_assert_cmpstr (r_hex, ==, g_checksum_get_string (relaxed));
  g_assert_cmpstr (s_hex, ==, g_checksum_get_string (simple));
}

/* A body of mail-like text: 72-octet lines of words, some base64 lines, some empty. */
static GByteArray *
mail_text (gsize size)
{
  static const char *words[]
      = { "the", "quick", "brown",        "fox", "jumps", "over",       "lazy", "dogs",
          "and", "a",     "verification", "of",  "DKIM",  "signatures", "=20",  "message" };
  GByteArray *b = g_byte_array_sized_new ((guint)size + 80);
  GRand *rng = g_rand_new_with_seed (1);
  while (b->len < size)
    {
      guint kind = g_rand_int_range (rng, 0, 10);
      if (kind == 0)
        g_byte_array_append (b, (const guint8 *)"\r\n", 2);
      else if (kind < 4)
        {
          for (guint i = 0; i < 76; i++)
            {
              guint8 c = (guint8)("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
                                      [g_rand_int_range (rng, 0, 64)]);
              g_byte_array_append (b, &c, 1);
            }
          g_byte_array_append (b, (const guint8 *)"\r\n", 2);
        }
      else
        {
          guint line = 0;
          while (line < 68)
            {
              const char *w = words[g_rand_int_range (rng, 0, G_N_ELEMENTS (words))];
              if (line > 0)
                g_byte_array_append (b, (const guint8 *)" ", 1);
              g_byte_array_append (b, (const guint8 *)w, (guint)strlen (w));
              line += (guint)strlen (w) + 1;
            }
          g_byte_array_append (b, (const guint8 *)"\r\n", 2);
        }
    }
  g_byte_array_set_size (b, (guint)size);
  g_rand_free (rng);
  return b;
}

static const char two_sigs_header[]
    = "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=e.com; s=s; bh=A; b=B\r\n"
      "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/simple; d=e.com; s=s; bh=A; b=B\r\n\r\n";

/* Feeds @total octets of mail text in @chunk-octet pieces to a hasher for @header;
 * returns the rise of peak RSS in KB. */
static gsize
feed_mail_text (const char *header, guint64 total, gsize chunk, SwDkimBodyHash *out_relaxed,
                gsize *peak_before, gsize *peak_after)
{
  g_autoptr (GByteArray) text = mail_text (chunk);
  g_autoptr (SwDkimBodyHasher) h
      = sw_dkim_body_hasher_new_for_header ((const guint8 *)header, strlen (header));
  /* warm up before measuring (allocator, sanitizer shadow pages) */
  const guint warm_up = 64;
  for (guint i = 0; i < warm_up; i++)
    sw_dkim_body_hasher_feed (h, text->data, text->len);
  reset_peak_rss ();
  gsize before = peak_rss_kb ();
  for (guint64 fed = (guint64)warm_up * chunk; fed < total; fed += chunk)
    sw_dkim_body_hasher_feed (h, text->data, (gsize)MIN ((guint64)chunk, total - fed));
  sw_dkim_body_hasher_finish (h);
  gsize after = peak_rss_kb ();
  g_assert_cmpuint (sw_dkim_body_hasher_body_length (h), ==, total);
  if (out_relaxed != NULL)
    g_assert_true (
        sw_dkim_body_hasher_lookup (h, SW_DKIM_CANON_RELAXED, SW_DKIM_HASH_SHA256, -1, out_relaxed));
  if (peak_before != NULL)
    *peak_before = before;
  if (peak_after != NULL)
    *peak_after = after;
  return after > before ? after - before : 0;
}

static void
test_memory_flat (void)
{
  SwDkimBodyHash r;
  gsize rise = feed_mail_text (two_sigs_header, 50u * 1024 * 1024, 64 * 1024, &r, NULL, NULL);
  g_test_message ("peak RSS rise while feeding 50 MB in 64 KB chunks: %zu KB", rise);
  g_assert_cmpuint (rise, <, 1024);
  g_assert_cmpuint (r.canon_len, >, 40u * 1024 * 1024);
}

/* ---- throughput (-m perf) ---- */

static double
feed_rate (SwDkimCanon canon, gsize body_size, guint repeat)
{
  const char *header
      = canon == SW_DKIM_CANON_RELAXED
            ? "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=e.com; s=s; bh=A; b=B\r\n\r\n"
            : "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/simple; d=e.com; s=s; bh=A; b=B\r\n\r\n";
  g_autoptr (GByteArray) body = mail_text (body_size);
  gint64 start = g_get_monotonic_time ();
  for (guint r = 0; r < repeat; r++)
    {
      g_autoptr (SwDkimBodyHasher) h
          = sw_dkim_body_hasher_new_for_header ((const guint8 *)header, strlen (header));
      for (gsize pos = 0; pos < body->len; pos += 65536)
        sw_dkim_body_hasher_feed (h, body->data + pos, MIN ((gsize)65536, body->len - pos));
      sw_dkim_body_hasher_finish (h);
    }
  double secs = (double)(g_get_monotonic_time () - start) / 1e6;
  return (double)body_size * repeat / secs / 1e6;
}

static void
test_perf (void)
{
  gsize before, after;
  feed_mail_text (two_sigs_header, 50u * 1024 * 1024, 64 * 1024, NULL, &before, &after);
  g_printerr ("peak RSS %zu KB when feeding starts, %zu KB after 50 MB in 64 KB chunks (relaxed + simple)\n",
              before, after);
  for (SwDkimCanon canon = SW_DKIM_CANON_SIMPLE; canon <= SW_DKIM_CANON_RELAXED; canon++)
    {
      double small = feed_rate (canon, 19 * 1024, 5000);
      double large = feed_rate (canon, 50u * 1024 * 1024, 3);
      g_printerr ("feed() %s sha256: 19 KB body %.0f MB/s, 50 MB body %.0f MB/s\n", canon_name (canon), small,
                  large);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/core/dkim/bodyhash/generated", test_generated);
  g_test_add_func ("/core/dkim/bodyhash/alphabet", test_alphabet);
  for (guint i = 0; i < G_N_ELEMENTS (edge_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/core/dkim/bodyhash/edge/%s", edge_cases[i].name);
      g_test_add_data_func (path, &edge_cases[i], test_edge);
    }
  g_test_add_func ("/core/dkim/bodyhash/edge/built", test_edge_built);
  for (guint i = 0; i < G_N_ELEMENTS (header_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/core/dkim/bodyhash/header/%s", header_cases[i].name);
      g_test_add_data_func (path, &header_cases[i], test_header_case);
    }
  g_test_add_func ("/core/dkim/bodyhash/header/too-many", test_header_too_many);
  g_test_add_func ("/core/dkim/bodyhash/long-line", test_long_line);
  g_test_add_func ("/core/dkim/bodyhash/memory-flat", test_memory_flat);
  if (g_test_perf ())
    g_test_add_func ("/core/dkim/bodyhash/perf", test_perf);
  return g_test_run ();
}
