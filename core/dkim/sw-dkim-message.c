#define G_LOG_DOMAIN "sw-dkim"
/* sw-dkim-message.c: line-ending normalisation, header splitting and tag-list reading.
 * libopendkim gets the header fields one by one from here, so that line endings, caps and
 * the DKIM-Signature pre-scan (t=/x=) are ours and not its dkim_chunk() heuristics. */
#include "sw-dkim-private.h"
#include "sw-limits.h"
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static gboolean
is_wsp (guint8 c)
{
  return c == ' ' || c == '\t';
}

/* TRUE if some LF of @raw is not preceded by CR. Most messages have none and are read in
 * full: 16 octets at a time where SSE2 is there (every x86-64), rather than one memchr()
 * call per line. */
static gboolean
has_bare_lf (const guint8 *raw, gsize len)
{
  if (len == 0)
    return FALSE;
  if (raw[0] == '\n')
    return TRUE;
  gsize i = 1;
#ifdef __SSE2__
  const __m128i lf = _mm_set1_epi8 ('\n');
  const __m128i cr = _mm_set1_epi8 ('\r');
  for (; i + 16 <= len; i += 16)
    {
      __m128i here = _mm_loadu_si128 ((const __m128i *)(const void *)(raw + i));
      __m128i before = _mm_loadu_si128 ((const __m128i *)(const void *)(raw + i - 1));
      __m128i bad = _mm_andnot_si128 (_mm_cmpeq_epi8 (before, cr), _mm_cmpeq_epi8 (here, lf));
      if (_mm_movemask_epi8 (bad) != 0)
        return TRUE;
    }
#endif
  for (; i < len; i++)
    if (raw[i] == '\n' && raw[i - 1] != '\r')
      return TRUE;
  return FALSE;
}

/* A copy of @raw with every bare LF made CRLF (CR and NUL kept). */
static GByteArray *
normalised_copy (const guint8 *raw, gsize len)
{
  GByteArray *data = g_byte_array_sized_new (len + len / 32 + 2);
  for (gsize i = 0; i < len;)
    {
      const guint8 *nl = memchr (raw + i, '\n', len - i);
      gsize end = nl ? (gsize)(nl - raw) : len;
      g_byte_array_append (data, raw + i, end - i);
      if (nl == NULL)
        break;
      if (end == i || raw[end - 1] != '\r')
        g_byte_array_append (data, (const guint8 *)"\r\n", 2);
      else
        g_byte_array_append (data, (const guint8 *)"\n", 1);
      i = end + 1;
    }
  return data;
}

/* Splits the header block of @msg->buf into @msg->fields and sets @msg->body_offset. */
static void
split_header (SwDkimMessage *msg)
{
  const guint8 *d = msg->buf;
  gsize n = msg->len;
  gsize pos = 0;
  msg->body_offset = n;
  while (pos < n)
    {
      /* an empty line ends the header block */
      if (pos + 1 < n && d[pos] == '\r' && d[pos + 1] == '\n')
        {
          msg->body_offset = pos + 2;
          break;
        }
      gsize start = pos;
      gsize end = n;
      gsize next = n;
      while (pos < n)
        {
          const guint8 *cr = memchr (d + pos, '\r', n - pos);
          if (cr == NULL)
            {
              pos = n;
              break;
            }
          gsize at = (gsize)(cr - d);
          if (at + 1 < n && d[at + 1] == '\n')
            {
              if (at + 2 < n && is_wsp (d[at + 2]))
                {
                  pos = at + 2; /* folded: the field continues */
                  continue;
                }
              end = at;
              next = at + 2;
              pos = next;
              break;
            }
          pos = at + 1;
        }

      SwDkimField f = { start, end - start };
      if (!msg->over_limit
          && (f.len > SW_MAX_HEADER_FIELD || msg->fields->len >= SW_MAX_HEADER_FIELDS
              || end > SW_MAX_HEADER_BLOCK))
        msg->over_limit = TRUE;
      /* past a limit only DKIM-Signature fields are kept (bounded), so that the results
       * still list the signatures the message carries */
      if (!msg->over_limit
          || (msg->fields->len < 2 * SW_MAX_HEADER_FIELDS && f.len <= SW_MAX_HEADER_FIELD
              && sw_dkim_field_has_name (msg, &f, "DKIM-Signature")))
        g_array_append_val (msg->fields, f);
      pos = next;
    }
}

void
sw_dkim_message_init_header (SwDkimMessage *msg, const guint8 *raw, gsize len)
{
  memset (msg, 0, sizeof *msg);
  msg->fields = g_array_new (FALSE, FALSE, sizeof (SwDkimField));
  msg->buf = raw;
  msg->len = len;
  split_header (msg);
  /* Without a bare LF before the body, the split of the normalised message would be this
   * one: the octets up to the body are the same. */
  if (!has_bare_lf (raw, msg->body_offset))
    return;
  msg->data = normalised_copy (raw, len);
  msg->buf = msg->data->data;
  msg->len = msg->data->len;
  msg->body_normalised = TRUE;
  g_array_set_size (msg->fields, 0);
  msg->over_limit = FALSE;
  split_header (msg);
}

void
sw_dkim_message_normalise_body (SwDkimMessage *msg)
{
  if (msg->body_normalised)
    return;
  msg->body_normalised = TRUE;
  g_assert (msg->data == NULL); /* the header block had no bare LF: @buf is the caller's */
  /* the octet before the body, if any, is the LF of a CRLF: a LF first in the body is
   * bare */
  if (!has_bare_lf (msg->buf + msg->body_offset, msg->len - msg->body_offset))
    return;
  GByteArray *body = normalised_copy (msg->buf + msg->body_offset, msg->len - msg->body_offset);
  msg->data = g_byte_array_sized_new ((guint)(msg->body_offset + body->len));
  g_byte_array_append (msg->data, msg->buf, (guint)msg->body_offset);
  g_byte_array_append (msg->data, body->data, body->len);
  g_byte_array_unref (body);
  msg->buf = msg->data->data;
  msg->len = msg->data->len;
}

void
sw_dkim_message_init (SwDkimMessage *msg, const guint8 *raw, gsize len)
{
  sw_dkim_message_init_header (msg, raw, len);
  sw_dkim_message_normalise_body (msg);
}

void
sw_dkim_message_clear (SwDkimMessage *msg)
{
  g_clear_pointer (&msg->data, g_byte_array_unref);
  g_clear_pointer (&msg->fields, g_array_unref);
}

gboolean
sw_dkim_field_has_name (const SwDkimMessage *msg, const SwDkimField *field, const char *name)
{
  gsize nlen = strlen (name);
  const char *text = (const char *)msg->buf + field->offset;
  if (field->len <= nlen || g_ascii_strncasecmp (text, name, nlen) != 0)
    return FALSE;
  /* RFC 5322 allows white space before the colon in obsolete syntax */
  for (gsize i = nlen; i < field->len; i++)
    {
      if (text[i] == ':')
        return TRUE;
      if (!is_wsp ((guint8)text[i]))
        return FALSE;
    }
  return FALSE;
}

static gboolean
is_fws (char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

char *
sw_dkim_tag_list_get (const char *list, gsize len, const char *tag)
{
  gsize pos = 0;
  while (pos < len)
    {
      const char *semi = memchr (list + pos, ';', len - pos);
      gsize end = semi ? (gsize)(semi - list) : len;
      const char *eq = memchr (list + pos, '=', end - pos);
      if (eq != NULL)
        {
          gsize ns = pos, ne = (gsize)(eq - list);
          while (ns < ne && is_fws (list[ns]))
            ns++;
          while (ne > ns && is_fws (list[ne - 1]))
            ne--;
          if (ne - ns == strlen (tag) && strncmp (list + ns, tag, ne - ns) == 0)
            {
              GString *value = g_string_new (NULL);
              for (gsize i = (gsize)(eq - list) + 1; i < end; i++)
                if (!is_fws (list[i]))
                  g_string_append_c (value, list[i]);
              return g_string_free (value, FALSE);
            }
        }
      pos = end + 1;
    }
  return NULL;
}

gboolean
sw_dkim_parse_timestamp (const char *text, gint64 *out)
{
  gsize n = text ? strlen (text) : 0;
  if (n == 0 || n > 12)
    return FALSE;
  gint64 v = 0;
  for (gsize i = 0; i < n; i++)
    {
      if (!g_ascii_isdigit (text[i]))
        return FALSE;
      v = v * 10 + (text[i] - '0');
    }
  *out = v;
  return TRUE;
}
