#define G_LOG_DOMAIN "sw-msg"
#include "sw-message.h"
#include "sw-limits.h"

#include <string.h>

struct _SwMessage
{
  GBytes *raw;
  GPtrArray *fields; /* SwHeaderField* */
  gsize header_length;
  SwMessageFlags flags;
};

static void
header_field_free (SwHeaderField *f)
{
  if (f == NULL)
    return;
  g_free (f->name);
  g_free (f->raw);
  g_free (f->value);
  g_free (f);
}

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

/* A copy of @len bytes with NUL replaced by a space. */
static char *
copy_without_nul (const char *p, gsize len)
{
  char *s = g_malloc (len + 1);
  for (gsize i = 0; i < len; i++)
    s[i] = p[i] == '\0' ? ' ' : p[i];
  s[len] = '\0';
  return s;
}

/* The unfolded value of a field whose text (without the final line ending) is @p/@len:
 * line breaks (CRLF or LF) removed, NUL replaced by a space, WSP trimmed. */
static char *
unfold_value (const char *p, gsize len)
{
  GString *s = g_string_sized_new (len + 1);
  for (gsize i = 0; i < len; i++)
    {
      char c = p[i];
      if (c == '\n')
        continue;
      if (c == '\r' && i + 1 < len && p[i + 1] == '\n')
        continue;
      g_string_append_c (s, c == '\0' ? ' ' : c);
    }
  gsize start = 0, end = s->len;
  while (start < end && is_wsp (s->str[start]))
    start++;
  while (end > start && is_wsp (s->str[end - 1]))
    end--;
  char *value = g_strndup (s->str + start, end - start);
  g_string_free (s, TRUE);
  return value;
}

typedef struct
{
  gboolean active;
  gsize start;       /* offset of the field */
  gsize content_end; /* end of its last line, without the line ending */
  gsize end;         /* after the line ending of its last line */
  gsize name_len;
} Pending;

static void
finish_field (SwMessage *msg, const char *data, Pending *pending)
{
  if (!pending->active)
    return;
  pending->active = FALSE;
  if (msg->fields->len >= SW_MAX_HEADER_FIELDS)
    {
      msg->flags |= SW_MESSAGE_FLAG_HEADER_TRUNCATED;
      return;
    }
  SwHeaderField *f = g_new0 (SwHeaderField, 1);
  gsize text_len = pending->content_end - pending->start;
  if (text_len > SW_MAX_HEADER_FIELD)
    {
      text_len = SW_MAX_HEADER_FIELD;
      f->truncated = TRUE;
      msg->flags |= SW_MESSAGE_FLAG_HEADER_TRUNCATED;
    }
  const char *text = data + pending->start;
  f->name = copy_without_nul (text, pending->name_len);
  f->raw = copy_without_nul (text, text_len);
  const char *colon = memchr (text, ':', text_len);
  g_assert (colon != NULL);
  f->value = unfold_value (colon + 1, text_len - (gsize)(colon + 1 - text));
  f->offset = pending->start;
  f->length = pending->end - pending->start;
  g_ptr_array_add (msg->fields, f);
}

static void
parse_header (SwMessage *msg, const char *data, gsize size)
{
  gsize pos = 0;
  Pending pending = { FALSE, 0, 0, 0, 0 };

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
          finish_field (msg, data, &pending);
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
              finish_field (msg, data, &pending);
              SwHeaderField *last
                  = msg->fields->len ? g_ptr_array_index (msg->fields, msg->fields->len - 1) : NULL;
              if (last != NULL && last->offset == pending.start)
                last->truncated = TRUE;
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
          finish_field (msg, data, &pending);
          msg->header_length = line_end;
          return;
        }

      for (gsize i = 0; i < len; i++)
        {
          if (line[i] == '\0')
            msg->flags |= SW_MESSAGE_FLAG_HAS_NUL;
          else if ((guchar)line[i] > 0x7f)
            msg->flags |= SW_MESSAGE_FLAG_8BIT_HEADER;
        }

      gsize name_len = 0;
      if (is_wsp (line[0]))
        {
          if (pending.active)
            {
              pending.content_end = content_end;
              pending.end = line_end;
            }
          else
            msg->flags |= SW_MESSAGE_FLAG_MALFORMED_LINE;
        }
      else if (line_is_field (line, len, &name_len))
        {
          finish_field (msg, data, &pending);
          pending.active = TRUE;
          pending.start = pos;
          pending.content_end = content_end;
          pending.end = line_end;
          pending.name_len = name_len;
        }
      else
        {
          finish_field (msg, data, &pending);
          msg->flags |= SW_MESSAGE_FLAG_MALFORMED_LINE;
        }
      pos = line_end;
    }
}

SwMessage *
sw_message_new (GBytes *raw)
{
  g_return_val_if_fail (raw != NULL, NULL);

  SwMessage *msg = g_new0 (SwMessage, 1);
  msg->raw = g_bytes_ref (raw);
  msg->fields = g_ptr_array_new_with_free_func ((GDestroyNotify)header_field_free);
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
  g_clear_pointer (&msg->fields, g_ptr_array_unref);
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
  return msg->fields->len;
}

const SwHeaderField *
sw_message_get_field (SwMessage *msg, guint index)
{
  g_return_val_if_fail (msg != NULL, NULL);
  if (index >= msg->fields->len)
    return NULL;
  return g_ptr_array_index (msg->fields, index);
}

const SwHeaderField *
sw_message_find_field (SwMessage *msg, const char *name, guint nth)
{
  g_return_val_if_fail (msg != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  for (guint i = 0; i < msg->fields->len; i++)
    {
      const SwHeaderField *f = g_ptr_array_index (msg->fields, i);
      if (g_ascii_strcasecmp (f->name, name) == 0)
        {
          if (nth == 0)
            return f;
          nth--;
        }
    }
  return NULL;
}

guint
sw_message_count_fields (SwMessage *msg, const char *name)
{
  g_return_val_if_fail (msg != NULL, 0);
  g_return_val_if_fail (name != NULL, 0);
  guint n = 0;
  for (guint i = 0; i < msg->fields->len; i++)
    {
      const SwHeaderField *f = g_ptr_array_index (msg->fields, i);
      if (g_ascii_strcasecmp (f->name, name) == 0)
        n++;
    }
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
