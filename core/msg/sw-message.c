#define G_LOG_DOMAIN "sw-msg"
#include "sw-message.h"
#include "sw-limits.h"

#include <string.h>

struct _SwMessage
{
  GBytes *raw;
  SwHeaderField *fields; /* @n_fields of them, in order */
  gsize *name_lens;      /* strlen() of each field's name: lookups compare it first */
  guint n_fields;
  char *text;            /* every field's name, raw and value strings, one after another */
  gsize header_length;
  SwMessageFlags flags;
};

static gboolean
is_wsp (char c)
{
  return c == ' ' || c == '\t';
}

/* TRUE if the line of @len bytes at @p starts with "name:" (RFC 5322 ftext, optional WSP
 * before the colon as in obs-optional); *name_len_out is the name without the WSP. */
static gboolean
line_is_field (const char *p, gsize len, gsize *name_len_out)
{
  gsize i = 0;
  while (i < len && (guchar)p[i] >= 33 && (guchar)p[i] <= 126 && p[i] != ':')
    i++;
  if (i == 0)
    return FALSE;
  gsize name_len = i;
  while (i < len && is_wsp (p[i]))
    i++;
  if (i >= len || p[i] != ':')
    return FALSE;
  *name_len_out = name_len;
  return TRUE;
}

/* Writes @len bytes of @p with NUL replaced by a space, and a NUL, at @out; returns the
 * octet after that NUL. */
static char *
put_without_nul (char *out, const char *p, gsize len)
{
  memcpy (out, p, len);
  for (char *z = memchr (out, '\0', len); z != NULL; z = memchr (z + 1, '\0', len - (gsize)(z + 1 - out)))
    *z = ' ';
  out[len] = '\0';
  return out + len + 1;
}

/* Writes the unfolded value of a field whose text (without the final line ending) is
 * @p/@len at @out: line breaks (CRLF or LF) removed, NUL replaced by a space, WSP trimmed,
 * then a NUL; returns the octet after that NUL. */
static char *
put_unfolded (char *out, const char *p, gsize len)
{
  /* leading WSP (a NUL counts: it becomes a space) and line breaks */
  gsize start = 0;
  while (start < len
         && (is_wsp (p[start]) || p[start] == '\0' || p[start] == '\n'
             || (p[start] == '\r' && start + 1 < len && p[start + 1] == '\n')))
    start++;
  gsize n = 0;
  for (gsize i = start; i < len;)
    {
      /* copy up to the next line break in one piece */
      const char *nl = memchr (p + i, '\n', len - i);
      gsize stop = nl != NULL ? (gsize)(nl - p) : len;
      gsize piece_end = stop;
      if (nl != NULL && piece_end > i && p[piece_end - 1] == '\r')
        piece_end--; /* the CR of a CRLF */
      memcpy (out + n, p + i, piece_end - i);
      n += piece_end - i;
      i = stop + (nl != NULL ? 1 : 0);
    }
  for (char *z = n ? memchr (out, '\0', n) : NULL; z != NULL; z = memchr (z + 1, '\0', n - (gsize)(z + 1 - out)))
    *z = ' ';
  while (n > 0 && is_wsp (out[n - 1]))
    n--;
  out[n] = '\0';
  return out + n + 1;
}

/* Where a field is, found by the first pass; the strings are made in the second. */
typedef struct
{
  gsize start;       /* offset of the field */
  gsize content_end; /* end of its last line, without the line ending */
  gsize end;         /* after the line ending of its last line */
  gsize name_len;
  gboolean truncated;
} Span;

typedef struct
{
  gboolean active;
  Span span;
} Pending;

/* The spans found so far: on the stack for a typical header block, else on the heap. */
typedef struct
{
  Span *v;
  guint len;
  guint cap;
  Span local[40];
} Spans;

static void
spans_append (Spans *spans, const Span *sp)
{
  if (spans->len == spans->cap)
    {
      guint cap = spans->cap * 2;
      if (spans->v == spans->local)
        spans->v = g_memdup2 (spans->local, sizeof spans->local);
      spans->v = g_renew (Span, spans->v, cap);
      spans->cap = cap;
    }
  spans->v[spans->len++] = *sp;
}

static void
finish_field (SwMessage *msg, const char *data, Spans *spans, Pending *pending)
{
  if (!pending->active)
    return;
  pending->active = FALSE;
  if (spans->len >= SW_MAX_HEADER_FIELDS)
    {
      msg->flags |= SW_MESSAGE_FLAG_HEADER_TRUNCATED;
      return;
    }
  Span sp = pending->span;
  if (sp.content_end - sp.start > SW_MAX_HEADER_FIELD)
    {
      /* a name so long that its colon is past the cap: no field to keep */
      if (memchr (data + sp.start, ':', SW_MAX_HEADER_FIELD) == NULL)
        {
          msg->flags |= SW_MESSAGE_FLAG_HEADER_TRUNCATED;
          return;
        }
      sp.content_end = sp.start + SW_MAX_HEADER_FIELD;
      sp.truncated = TRUE;
      msg->flags |= SW_MESSAGE_FLAG_HEADER_TRUNCATED;
    }
  spans_append (spans, &sp);
}

/* The first pass: the spans of the fields, the flags and the header length. */
static void
scan_header (SwMessage *msg, const char *data, gsize size, Spans *spans)
{
  gsize pos = 0;
  Pending pending = { FALSE, { 0, 0, 0, 0, FALSE } };

  if (size >= 5 && memcmp (data, "From ", 5) == 0)
    {
      const char *nl = memchr (data, '\n', MIN (size, SW_MAX_HEADER_BLOCK));
      msg->flags |= SW_MESSAGE_FLAG_MBOX_FROM_LINE;
      pos = nl != NULL ? (gsize)(nl - data) + 1 : size;
    }

  for (;;)
    {
      if (pos >= size)
        {
          /* The message ends inside the header block. */
          msg->flags |= SW_MESSAGE_FLAG_NO_BODY;
          finish_field (msg, data, spans, &pending);
          msg->header_length = size;
          return;
        }
      const char *line = data + pos;
      const char *nl = memchr (line, '\n', size - pos);
      gsize line_end = nl != NULL ? (gsize)(nl - data) + 1 : size;
      if (line_end > SW_MAX_HEADER_BLOCK)
        {
          msg->flags |= SW_MESSAGE_FLAG_HEADER_TRUNCATED;
          if (pending.active)
            {
              /* Its continuation lines, if any, are beyond the cap. */
              guint before = spans->len;
              finish_field (msg, data, spans, &pending);
              if (spans->len > before)
                spans->v[spans->len - 1].truncated = TRUE;
            }
          msg->header_length = pos;
          return;
        }
      gsize content_end = line_end;
      if (nl != NULL)
        {
          content_end--;
          if (content_end > pos && data[content_end - 1] == '\r')
            content_end--;
          else
            msg->flags |= SW_MESSAGE_FLAG_BARE_LF;
        }
      gsize len = content_end - pos;

      if (len == 0)
        {
          finish_field (msg, data, spans, &pending);
          msg->header_length = line_end;
          return;
        }

      for (gsize i = 0; i < len; i++)
        {
          guchar c = (guchar)line[i];
          if (G_LIKELY (c - 1u < 0x7fu))
            continue;
          if (c == '\0')
            msg->flags |= SW_MESSAGE_FLAG_HAS_NUL;
          else
            msg->flags |= SW_MESSAGE_FLAG_8BIT_HEADER;
        }

      gsize name_len = 0;
      if (is_wsp (line[0]))
        {
          if (pending.active)
            {
              pending.span.content_end = content_end;
              pending.span.end = line_end;
            }
          else
            msg->flags |= SW_MESSAGE_FLAG_MALFORMED_LINE;
        }
      else if (line_is_field (line, len, &name_len))
        {
          finish_field (msg, data, spans, &pending);
          pending.active = TRUE;
          pending.span = (Span) { pos, content_end, line_end, name_len, FALSE };
        }
      else
        {
          finish_field (msg, data, spans, &pending);
          msg->flags |= SW_MESSAGE_FLAG_MALFORMED_LINE;
        }
      pos = line_end;
    }
}

/* The second pass: the fields and their strings, in one block of text. */
static void
make_fields (SwMessage *msg, const char *data, const Spans *spans)
{
  msg->n_fields = spans->len;
  if (spans->len == 0)
    return;
  gsize total = 0;
  for (guint i = 0; i < spans->len; i++)
    {
      const Span *sp = &spans->v[i];
      /* name, raw and value (never longer than raw), each with its NUL */
      total += sp->name_len + 2 * (sp->content_end - sp->start) + 3;
    }
  msg->fields = g_new (SwHeaderField, spans->len);
  msg->name_lens = g_new (gsize, spans->len);
  msg->text = g_malloc (total);
  char *out = msg->text;
  for (guint i = 0; i < spans->len; i++)
    {
      const Span *sp = &spans->v[i];
      SwHeaderField *f = &msg->fields[i];
      const char *text = data + sp->start;
      gsize text_len = sp->content_end - sp->start;
      f->name = out;
      out = put_without_nul (out, text, sp->name_len);
      f->raw = out;
      out = put_without_nul (out, text, text_len);
      const char *colon = memchr (text, ':', text_len);
      g_assert (colon != NULL);
      f->value = out;
      out = put_unfolded (out, colon + 1, text_len - (gsize)(colon + 1 - text));
      f->offset = sp->start;
      f->length = sp->end - sp->start;
      f->truncated = sp->truncated;
      msg->name_lens[i] = sp->name_len;
    }
  g_assert (out <= msg->text + total);
}

static void
parse_header (SwMessage *msg, const char *data, gsize size)
{
  Spans spans;
  spans.v = spans.local;
  spans.len = 0;
  spans.cap = G_N_ELEMENTS (spans.local);
  scan_header (msg, data, size, &spans);
  make_fields (msg, data, &spans);
  if (spans.v != spans.local)
    g_free (spans.v);
}

SwMessage *
sw_message_new (GBytes *raw)
{
  g_return_val_if_fail (raw != NULL, NULL);

  SwMessage *msg = g_new0 (SwMessage, 1);
  msg->raw = g_bytes_ref (raw);
  gsize size = 0;
  const char *data = g_bytes_get_data (raw, &size);
  if (data == NULL)
    size = 0;
  parse_header (msg, data ? data : "", size);
  return msg;
}

void
sw_message_free (SwMessage *msg)
{
  if (msg == NULL)
    return;
  g_clear_pointer (&msg->fields, g_free);
  g_clear_pointer (&msg->name_lens, g_free);
  g_clear_pointer (&msg->text, g_free);
  g_clear_pointer (&msg->raw, g_bytes_unref);
  g_free (msg);
}

GBytes *
sw_message_get_raw (SwMessage *msg)
{
  g_return_val_if_fail (msg != NULL, NULL);
  return msg->raw;
}

guint
sw_message_get_n_fields (SwMessage *msg)
{
  g_return_val_if_fail (msg != NULL, 0);
  return msg->n_fields;
}

const SwHeaderField *
sw_message_get_field (SwMessage *msg, guint index)
{
  g_return_val_if_fail (msg != NULL, NULL);
  if (index >= msg->n_fields)
    return NULL;
  return &msg->fields[index];
}

/* TRUE if field @i is called @name (@len octets), case-insensitively. */
static inline gboolean
field_is (const SwMessage *msg, guint i, const char *name, gsize len)
{
  return msg->name_lens[i] == len && g_ascii_strncasecmp (msg->fields[i].name, name, len) == 0;
}

const SwHeaderField *
sw_message_find_field (SwMessage *msg, const char *name, guint nth)
{
  g_return_val_if_fail (msg != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  gsize len = strlen (name);
  for (guint i = 0; i < msg->n_fields; i++)
    if (field_is (msg, i, name, len))
      {
        if (nth == 0)
          return &msg->fields[i];
        nth--;
      }
  return NULL;
}

guint
sw_message_count_fields (SwMessage *msg, const char *name)
{
  g_return_val_if_fail (msg != NULL, 0);
  g_return_val_if_fail (name != NULL, 0);
  gsize len = strlen (name);
  guint n = 0;
  for (guint i = 0; i < msg->n_fields; i++)
    if (field_is (msg, i, name, len))
      n++;
  return n;
}

gsize
sw_message_get_header_length (SwMessage *msg)
{
  g_return_val_if_fail (msg != NULL, 0);
  return msg->header_length;
}

SwMessageFlags
sw_message_get_flags (SwMessage *msg)
{
  g_return_val_if_fail (msg != NULL, SW_MESSAGE_FLAG_NONE);
  return msg->flags;
}

/* mbox */

static gboolean
is_from_line (const char *p, gsize len)
{
  return len >= 5 && memcmp (p, "From ", 5) == 0;
}

/* An mbox separator: "From " and a date with a time ("Tue Aug  1 10:04:05 2023"), so
 * that an unquoted "From " line of a body (mboxo) does not split a message. */
static gboolean
is_separator_line (const char *p, gsize len)
{
  if (!is_from_line (p, len))
    return FALSE;
  for (gsize i = 5; i + 4 < len; i++)
    if (g_ascii_isdigit (p[i]) && g_ascii_isdigit (p[i + 1]) && p[i + 2] == ':' && g_ascii_isdigit (p[i + 3])
        && g_ascii_isdigit (p[i + 4]))
      return TRUE;
  return FALSE;
}

/* TRUE if the line is ">...>From " (mboxrd quoting). */
static gboolean
is_quoted_from_line (const char *p, gsize len)
{
  gsize i = 0;
  while (i < len && p[i] == '>')
    i++;
  return i > 0 && is_from_line (p + i, len - i);
}

static GBytes *
mbox_message (GBytes *data, const char *base, gsize start, gsize end)
{
  gboolean quoted = FALSE;
  for (gsize pos = start; pos < end;)
    {
      const char *nl = memchr (base + pos, '\n', end - pos);
      gsize line_end = nl ? (gsize)(nl - base) + 1 : end;
      if (is_quoted_from_line (base + pos, line_end - pos))
        {
          quoted = TRUE;
          break;
        }
      pos = line_end;
    }
  if (!quoted)
    return g_bytes_new_from_bytes (data, start, end - start);

  GByteArray *out = g_byte_array_sized_new ((guint)(end - start));
  for (gsize pos = start; pos < end;)
    {
      const char *nl = memchr (base + pos, '\n', end - pos);
      gsize line_end = nl ? (gsize)(nl - base) + 1 : end;
      gsize skip = is_quoted_from_line (base + pos, line_end - pos) ? 1 : 0;
      g_byte_array_append (out, (const guint8 *)base + pos + skip, (guint)(line_end - pos - skip));
      pos = line_end;
    }
  return g_byte_array_free_to_bytes (out);
}

/* Length of the line ending (1 or 2) if the line at [pos, line_end) is empty, else 0. */
static gboolean
line_is_empty (const char *base, gsize pos, gsize line_end)
{
  gsize len = line_end - pos;
  return (len == 1 && base[pos] == '\n') || (len == 2 && base[pos] == '\r' && base[pos + 1] == '\n');
}

GPtrArray *
sw_message_split_mbox (GBytes *data)
{
  g_return_val_if_fail (data != NULL, NULL);

  GPtrArray *messages = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  gsize size = 0;
  const char *base = g_bytes_get_data (data, &size);
  if (base == NULL || !is_separator_line (base, size))
    {
      g_ptr_array_add (messages, g_bytes_ref (data));
      return messages;
    }

  gsize msg_start = 0;   /* start of the current message */
  gsize blank_start = 0; /* start of the previous line if it was empty */
  gboolean prev_blank = FALSE;
  gboolean in_message = FALSE;
  for (gsize pos = 0; pos < size;)
    {
      const char *nl = memchr (base + pos, '\n', size - pos);
      gsize line_end = nl ? (gsize)(nl - base) + 1 : size;
      if (is_separator_line (base + pos, line_end - pos) && (pos == 0 || prev_blank))
        {
          if (in_message)
            g_ptr_array_add (messages, mbox_message (data, base, msg_start, MAX (msg_start, blank_start)));
          in_message = TRUE;
          msg_start = line_end;
          prev_blank = FALSE;
          pos = line_end;
          continue;
        }
      prev_blank = line_is_empty (base, pos, line_end);
      if (prev_blank)
        blank_start = pos;
      pos = line_end;
    }
  /* The last message: drop the empty line the mbox writer put after it. */
  gsize end = prev_blank ? MAX (msg_start, blank_start) : size;
  g_ptr_array_add (messages, mbox_message (data, base, msg_start, end));
  return messages;
}
