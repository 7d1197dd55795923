#define G_LOG_DOMAIN "sw-dkim"
/* sw-dkim-check.c: our own reading of DKIM-Signature fields and their header hash.
 *
 * This is the fast path's half of what libopendkim's dkim_header()/dkim_eoh() do. It only
 * accepts what it reads exactly as libopendkim 2.11.0 Beta2 (Debian 12's) does (libopendkim/dkim.c,
 * dkim_process_set() and dkim_siglist_setup(); dkim-canon.c, dkim_canon_selecthdrs(),
 * dkim_canon_header_string() and dkim_canon_runheaders()); everything else makes the
 * caller leave the message to libopendkim, so the verdicts of both engines stay the same
 * (tests/core/test-dkim-fast.c compares them). Points where libopendkim departs from the
 * letter of RFC 6376 and that we follow:
 *   - relaxed header canonicalisation drops all white space and line breaks right after
 *     the colon, and removes SP, HTAB, CR and LF anywhere in the field name;
 *   - the b= value is removed from the signature field by a scan that looks at the
 *     octet before each '=' outside a value (so "b =" is not recognised: such
 *     signatures are not plain here);
 *   - h= lists are split on ':' with empty names skipped.
 * Hashing uses OpenSSL's low-level SHA functions: no provider fetch, no lock. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "sw-dkim-private.h"
#include <string.h>
#include <openssl/sha.h>

/* libopendkim copies h= into a buffer of DKIM_MAXHEADER octets */
#define SW_DKIM_MAX_HDRLIST 4000
/* longest b= we read: an RSA-8192 signature */
#define SW_DKIM_MAX_SIG_OCTETS 1024
/* libopendkim copies a header field into a buffer that stops growing at 64 KiB */
#define SW_DKIM_MAX_FIELD 60000
/* libopendkim builds "s._domainkey.d" in a buffer of 256 octets */
#define SW_DKIM_MAX_QNAME 250

static gboolean
is_fws (char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static gboolean
tag_char_ok (guint8 c)
{
  return (c >= 0x20 && c <= 0x7e) || c == '\t' || c == '\r' || c == '\n';
}

gboolean
sw_dkim_tags_read (const char *text, gsize len, const char *const *known, char **values, gboolean unknown_ok)
{
  /* 8 octets at a time: a block of printable ASCII only (the usual case) passes at once,
   * any other block (folding white space, ...) is checked octet by octet */
  gsize i = 0;
  const guint64 ones = G_GUINT64_CONSTANT (0x0101010101010101), high = G_GUINT64_CONSTANT (0x8080808080808080);
  for (; i + 8 <= len; i += 8)
    {
      guint64 w;
      memcpy (&w, text + i, 8);
      /* an octet with the high bit, one below 0x20 or one equal to 0x7f (exact tests for
       * "there is one") */
      guint64 below_20 = (w - 0x20 * ones) & ~w & high;
      guint64 x7f = w ^ (0x7f * ones);
      guint64 is_7f = (x7f - ones) & ~x7f & high;
      if (((w & high) | below_20 | is_7f) == 0)
        continue;
      for (gsize k = i; k < i + 8; k++)
        if (!tag_char_ok ((guint8)text[k]))
          return FALSE;
    }
  for (; i < len; i++)
    if (!tag_char_ok ((guint8)text[i]))
      return FALSE;
  gsize pos = 0;
  while (pos < len)
    {
      const char *semi = memchr (text + pos, ';', len - pos);
      gsize end = semi ? (gsize)(semi - text) : len;
      gsize p = pos;
      while (p < end && is_fws (text[p]))
        p++;
      if (p == end)
        {
          /* an empty element: libopendkim accepts it only at the very end */
          if (semi != NULL)
            return FALSE;
          break;
        }
      gsize ns = p;
      if (!g_ascii_islower (text[p]) && !g_ascii_isdigit (text[p]))
        return FALSE;
      while (p < end && (g_ascii_islower (text[p]) || g_ascii_isdigit (text[p]) || text[p] == '_'))
        p++;
      if (p == end || text[p] != '=')
        return FALSE;
      gsize nlen = p - ns;
      int slot = -1;
      for (int k = 0; known[k] != NULL; k++)
        if (strlen (known[k]) == nlen && memcmp (known[k], text + ns, nlen) == 0)
          {
            slot = k;
            break;
          }
      /* an unknown tag is skipped, unless its name ends in 'b': libopendkim's removal of
       * the b= value from the signature field would cut its value too */
      if (slot < 0 && (!unknown_ok || text[p - 1] == 'b'))
        return FALSE;
      if (slot >= 0)
        {
          if (values[slot] != NULL)
            return FALSE; /* twice */
          char *v = g_malloc (end - p);
          gsize n = 0;
          for (gsize i = p + 1; i < end; i++)
            if (!is_fws (text[i]))
              v[n++] = text[i];
          v[n] = '\0';
          values[slot] = v;
        }
      pos = end + 1;
    }
  return TRUE;
}

/* 0..63 for the base64 alphabet, 64 for anything else */
static const guint8 b64_table[256] = {
  64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
  64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
  64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 62, 64, 64, 64, 63,
  52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 64, 64, 64, 64, 64, 64,
  64,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
  15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 64, 64, 64, 64, 64,
  64, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
  41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 64, 64, 64, 64, 64,
  64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
  64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
  64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
  64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
  64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
  64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
  64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
  64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
};

/* Decodes strict base64 @text (@n octets) into @out (room for n / 4 * 3 octets), or
 * only checks it when @out is NULL. Returns the decoded length, or -1. */
static gssize
b64_decode (const char *text, gsize n, guint8 *out)
{
  if (n % 4 != 0)
    return -1;
  gsize pad = 0;
  if (n >= 1 && text[n - 1] == '=')
    pad++;
  if (n >= 2 && text[n - 2] == '=')
    pad++;
  gsize full = n - (pad > 0 ? 4 : 0); /* octets in complete quads */
  gsize o = 0;
  for (gsize i = 0; i < full; i += 4)
    {
      guint a = b64_table[(guint8)text[i]], b = b64_table[(guint8)text[i + 1]], c = b64_table[(guint8)text[i + 2]],
            d = b64_table[(guint8)text[i + 3]];
      if ((a | b | c | d) & 64)
        return -1;
      if (out != NULL)
        {
          guint32 w = (a << 18) | (b << 12) | (c << 6) | d;
          out[o] = (guint8)(w >> 16);
          out[o + 1] = (guint8)(w >> 8);
          out[o + 2] = (guint8)w;
        }
      o += 3;
    }
  if (pad > 0)
    {
      const char *q = text + full;
      guint a = b64_table[(guint8)q[0]], b = b64_table[(guint8)q[1]];
      guint c = pad == 1 ? b64_table[(guint8)q[2]] : 0;
      if ((a | b | c) & 64)
        return -1;
      guint32 w = (a << 18) | (b << 12) | (c << 6);
      if (out != NULL)
        {
          out[o] = (guint8)(w >> 16);
          if (pad == 1)
            out[o + 1] = (guint8)(w >> 8);
        }
      o += 3 - pad;
    }
  return (gssize)o;
}

guint8 *
sw_dkim_base64_decode (const char *text, gsize *len_out)
{
  gsize n = strlen (text);
  guint8 *out = g_malloc (n / 4 * 3 + 1);
  gssize len = b64_decode (text, n, out);
  if (len < 0)
    {
      g_free (out);
      return NULL;
    }
  *len_out = (gsize)len;
  return out;
}

static gboolean
host_name_ok (const char *s)
{
  if (s == NULL || *s == '\0' || strlen (s) > 253)
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '.' && *p != '-' && *p != '_')
      return FALSE;
  return TRUE;
}

static gboolean
read_canon (const char *text, gsize len, SwDkimCanon *out)
{
  if (len == 6 && memcmp (text, "simple", 6) == 0)
    *out = SW_DKIM_CANON_SIMPLE;
  else if (len == 7 && memcmp (text, "relaxed", 7) == 0)
    *out = SW_DKIM_CANON_RELAXED;
  else
    return FALSE;
  return TRUE;
}

/* h= names From (libopendkim: dkim_sig_hdrlistok()) and every name is plain */
static gboolean
hdrlist_ok (const char *h)
{
  if (*h == '\0' || strlen (h) >= SW_DKIM_MAX_HDRLIST)
    return FALSE;
  gboolean from = FALSE;
  for (const char *p = h; *p;)
    {
      const char *colon = strchr (p, ':');
      gsize n = colon ? (gsize)(colon - p) : strlen (p);
      if (n == 0)
        return FALSE;
      if (n == 4 && g_ascii_strncasecmp (p, "from", 4) == 0)
        from = TRUE;
      p += n;
      if (*p == ':')
        p++;
    }
  return from;
}

/* i= is a plain address whose domain is d= or below it (libopendkim:
 * dkim_sig_domainok(); its quoted-printable decoding is not done here: '=' makes the
 * signature not plain) */
static gboolean
identity_ok (const char *i, const char *d)
{
  if (strchr (i, '=') != NULL || strlen (i) > 250)
    return FALSE;
  const char *at = strchr (i, '@');
  if (at == NULL)
    return FALSE;
  if (g_ascii_strcasecmp (at + 1, d) == 0)
    return TRUE;
  for (const char *dot = strchr (at, '.'); dot != NULL; dot = strchr (dot + 1, '.'))
    if (g_ascii_strcasecmp (dot + 1, d) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
digits_ok (const char *s, gsize max)
{
  gsize n = strlen (s);
  if (n == 0 || n > max)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isdigit (s[i]))
      return FALSE;
  return TRUE;
}

void
sw_dkim_sig_clear (SwDkimSig *sig)
{
  g_free (sig->v);
  g_free (sig->a);
  g_free (sig->b);
  g_free (sig->bh);
  g_free (sig->c);
  g_free (sig->d);
  g_free (sig->h);
  g_free (sig->i);
  g_free (sig->l);
  g_free (sig->q);
  g_free (sig->s);
  g_free (sig->t);
  g_free (sig->x);
  g_free (sig->sig);
  memset (sig, 0, sizeof *sig);
}

gboolean
sw_dkim_sig_read (const char *value, gsize len, SwDkimSig *out)
{
  static const char *const known[] = { "v", "a", "b", "bh", "c", "d", "h", "i", "l", "q", "s", "t", "x", "z", NULL };
  char *values[G_N_ELEMENTS (known)] = { NULL };
  memset (out, 0, sizeof *out);
  out->length = -1;
  /* tags RFC 6376 does not define are ignored, as libopendkim does (Gmail adds darn=) */
  gboolean parsed = sw_dkim_tags_read (value, len, known, values, TRUE);
  /* z= (copied header fields) is left to libopendkim */
  gboolean has_z = values[13] != NULL;
  g_free (values[13]);
  out->v = values[0];
  out->a = values[1];
  out->b = values[2];
  out->bh = values[3];
  out->c = values[4];
  out->d = values[5];
  out->h = values[6];
  out->i = values[7];
  out->l = values[8];
  out->q = values[9];
  out->s = values[10];
  out->t = values[11];
  out->x = values[12];
  if (!parsed || has_z || out->v == NULL || strcmp (out->v, "1") != 0 || out->a == NULL || out->b == NULL
      || out->bh == NULL || out->h == NULL || !host_name_ok (out->d) || !host_name_ok (out->s)
      || strlen (out->d) + strlen (out->s) + strlen ("._domainkey.") > SW_DKIM_MAX_QNAME)
    goto not_plain;

  gsize digest_len;
  if (strcmp (out->a, "rsa-sha256") == 0)
    {
      out->hash = SW_DKIM_HASH_SHA256;
      digest_len = 32;
    }
  else if (strcmp (out->a, "ed25519-sha256") == 0)
    {
      out->hash = SW_DKIM_HASH_SHA256;
      out->ed25519 = TRUE;
      digest_len = 32;
    }
  else if (strcmp (out->a, "rsa-sha1") == 0)
    {
      out->hash = SW_DKIM_HASH_SHA1;
      digest_len = 20;
    }
  else
    goto not_plain;

  out->header_canon = out->body_canon = SW_DKIM_CANON_SIMPLE;
  if (out->c != NULL)
    {
      const char *slash = strchr (out->c, '/');
      gsize hl = slash ? (gsize)(slash - out->c) : strlen (out->c);
      if (!read_canon (out->c, hl, &out->header_canon)
          || (slash != NULL && !read_canon (slash + 1, strlen (slash + 1), &out->body_canon)))
        goto not_plain;
    }
  if (!hdrlist_ok (out->h))
    goto not_plain;
  if (out->i != NULL && !identity_ok (out->i, out->d))
    goto not_plain;
  if (out->l != NULL)
    {
      if (!digits_ok (out->l, 15))
        goto not_plain;
      out->length = (gint64)g_ascii_strtoull (out->l, NULL, 10);
    }
  if (out->q != NULL && strcmp (out->q, "dns/txt") != 0)
    goto not_plain;
  gint64 t = -1, x = -1;
  if ((out->t != NULL && !sw_dkim_parse_timestamp (out->t, &t))
      || (out->x != NULL && !sw_dkim_parse_timestamp (out->x, &x)) || (t >= 0 && x >= 0 && x <= t))
    goto not_plain;

  if (b64_decode (out->bh, strlen (out->bh), NULL) != (gssize)digest_len)
    goto not_plain;
  out->sig = sw_dkim_base64_decode (out->b, &out->sig_len);
  if (out->sig == NULL || out->sig_len == 0 || out->sig_len > SW_DKIM_MAX_SIG_OCTETS)
    goto not_plain;
  return TRUE;

not_plain:
  sw_dkim_sig_clear (out);
  return FALSE;
}

gboolean
sw_dkim_headers_collect (const SwDkimMessage *msg, GArray *out)
{
  for (guint i = 0; i < msg->fields->len; i++)
    {
      const SwDkimField *f = &g_array_index (msg->fields, SwDkimField, i);
      const char *text = (const char *)msg->buf + f->offset;
      if (f->len > SW_DKIM_MAX_FIELD || memchr (text, '\0', f->len) != NULL)
        return FALSE;
      for (const char *cr = memchr (text, '\r', f->len); cr != NULL;
           cr = memchr (cr + 1, '\r', f->len - (gsize)(cr + 1 - text)))
        if ((gsize)(cr - text) + 1 >= f->len || cr[1] != '\n')
          return FALSE;

      /* dkim_header(): the name is printable ASCII or SP, has no ';', ends at a colon */
      const char *colon = NULL;
      gboolean drop = FALSE;
      for (gsize k = 0; k < f->len; k++)
        {
          guint8 c = (guint8)text[k];
          if (c < 32 || c > 126 || c == ';')
            {
              drop = TRUE;
              break;
            }
          if (c == ':')
            {
              colon = text + k;
              break;
            }
        }
      if (drop || colon == NULL)
        continue;
      const char *end = colon;
      while (end > text && g_ascii_isspace (end[-1]))
        end--;
      SwDkimHeader h = { text, f->len, (gsize)(end - text), f };
      g_array_append_val (out, h);
    }
  return TRUE;
}

/* ---- canonicalisation ---- */

typedef struct
{
  SwDkimHash hash;
  SHA256_CTX sha256;
  SHA_CTX sha1;
} Hasher;

static void
hasher_update (Hasher *h, const void *data, gsize len)
{
  if (h->hash == SW_DKIM_HASH_SHA256)
    SHA256_Update (&h->sha256, data, len);
  else
    SHA1_Update (&h->sha1, data, len);
}

static gboolean
is_space (guint8 c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* What goes into the header hash, gathered in a buffer on the stack and handed on in
 * large pieces (no allocation per signature). */
typedef struct
{
  Hasher *hasher;
  gsize len;
  char buf[2048];
} Out;

static void
out_flush (Out *o)
{
  if (o->len > 0)
    hasher_update (o->hasher, o->buf, o->len);
  o->len = 0;
}

static inline void
out_append (Out *o, const char *p, gsize n)
{
  if (o->len + n > sizeof o->buf)
    {
      out_flush (o);
      if (n > sizeof o->buf)
        {
          hasher_update (o->hasher, p, n);
          return;
        }
    }
  memcpy (o->buf + o->len, p, n);
  o->len += n;
}

static inline void
out_c (Out *o, char c)
{
  if (o->len == sizeof o->buf)
    out_flush (o);
  o->buf[o->len++] = c;
}

/* Appends the canonical form of header text @text (@len octets) to @out. */
static void
canon_header (Out *out, SwDkimCanon canon, const char *text, gsize len, gboolean crlf)
{
  if (canon == SW_DKIM_CANON_SIMPLE)
    {
      out_append (out, text, len);
      if (crlf)
        out_append (out, "\r\n", 2);
      return;
    }
  gsize p = 0;
  /* the name: white space and line breaks dropped, ASCII lowered, up to the colon */
  for (; p < len; p++)
    {
      char c = text[p];
      if (c == '\t' || c == '\n' || c == '\r' || c == ' ')
        continue;
      out_c (out, g_ascii_tolower (c));
      if (c == ':')
        {
          p++;
          break;
        }
    }
  /* then SP, HTAB, CR and LF (libopendkim 2.11.0 Beta2; RFC 6376 would keep a line
   * break here as one space) */
  while (p < len && (text[p] == ' ' || text[p] == '\t' || text[p] == '\r' || text[p] == '\n'))
    p++;
  /* runs of white space (isspace(): line breaks, VT and FF too) become one SP between
   * words and vanish at the end; words are copied as they are */
  gboolean space = FALSE;
  while (p < len)
    {
      if (is_space ((guint8)text[p]))
        {
          space = TRUE;
          p++;
          continue;
        }
      gsize word = p;
      while (p < len && !is_space ((guint8)text[p]))
        p++;
      if (space)
        {
          out_c (out, ' ');
          space = FALSE;
        }
      out_append (out, text + word, p - word);
    }
  if (crlf)
    out_append (out, "\r\n", 2);
}

/* The signature field with the value of b= removed, the way dkim_canon_runheaders() does
 * it: a '=' outside a value whose preceding octet is 'b' starts a b= value, which ends
 * at the next ';'. */
static gsize
strip_b (char *out, const char *text, gsize len)
{
  gsize n = 0;
  char in = '\0', last = '\0';
  gsize copy_from = 0; /* start of the octets not yet copied */
  for (gsize p = 0; p < len; p++)
    {
      char c = text[p];
      if (c == ';')
        {
          if (in == 'b')
            copy_from = p; /* the removed value ends here */
          in = '\0';
        }
      if (in == '\0' && c == '=')
        {
          in = last;
          if (in == 'b')
            /* copy up to this '=', drop what follows up to the next ';' */
            {
              memcpy (out + n, text + copy_from, p + 1 - copy_from);
              n += p + 1 - copy_from;
            }
        }
      last = c;
    }
  if (in != 'b')
    {
      memcpy (out + n, text + copy_from, len - copy_from);
      n += len - copy_from;
    }
  return n;
}

gboolean
sw_dkim_header_hash (const SwDkimHeader *headers, guint n, guint sig_index, const SwDkimSig *sig,
                     guint8 *digest, gsize *digest_len)
{
  g_assert (sig_index < n);
  if (strlen (sig->h) >= SW_DKIM_MAX_HDRLIST)
    return FALSE;
  Hasher hs = { sig->hash };
  if (sig->hash == SW_DKIM_HASH_SHA256)
    SHA256_Init (&hs.sha256);
  else
    SHA1_Init (&hs.sha1);

  /* each name of h= takes the bottom-most field of that name not yet taken */
  guint8 taken_small[128] = { 0 };
  g_autofree guint8 *taken_big = n > sizeof taken_small ? g_malloc0 (n) : NULL;
  guint8 *taken = taken_big ? taken_big : taken_small;
  Out out;
  out.hasher = &hs;
  out.len = 0;
  for (const char *p = sig->h; *p;)
    {
      const char *colon = strchr (p, ':');
      gsize nl = colon ? (gsize)(colon - p) : strlen (p);
      if (nl > 0)
        {
          for (guint k = n; k-- > 0;)
            {
              const SwDkimHeader *hd = &headers[k];
              if (!taken[k] && hd->name_len == nl && g_ascii_strncasecmp (hd->text, p, nl) == 0)
                {
                  taken[k] = 1;
                  canon_header (&out, sig->header_canon, hd->text, hd->len, TRUE);
                  break;
                }
            }
        }
      p += nl;
      if (*p == ':')
        p++;
    }

  const SwDkimHeader *self = &headers[sig_index];
  /* strip_b() never lengthens; most signature fields fit the buffer on the stack */
  char stripped_small[2048];
  g_autofree char *stripped_big = self->len > sizeof stripped_small ? g_malloc (self->len) : NULL;
  char *stripped = stripped_big ? stripped_big : stripped_small;
  gsize stripped_len = strip_b (stripped, self->text, self->len);
  canon_header (&out, sig->header_canon, stripped, stripped_len, FALSE);
  out_flush (&out);
  if (sig->hash == SW_DKIM_HASH_SHA256)
    {
      SHA256_Final (digest, &hs.sha256);
      *digest_len = SHA256_DIGEST_LENGTH;
    }
  else
    {
      SHA1_Final (digest, &hs.sha1);
      *digest_len = SHA_DIGEST_LENGTH;
    }
  return TRUE;
}
