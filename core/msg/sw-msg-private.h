/* sw-msg-private.h: internals shared by the files of core/msg. */
#pragma once
#include <glib.h>
G_BEGIN_DECLS

/* Calls g_mime_init() once per process. Thread-safe. */
void sw_msg_gmime_init (void);

/* FALSE when @text certainly is not something sw_ip_normalize() accepts: it holds an
 * octet that no address form has (hex digits, '.', ':', the brackets and "IPv6:" of an
 * address literal, white space around it). A cheap test before the full one, which
 * copies, parses and formats; host names fail it at their first letter past 'f' or a
 * '-'. NULL gives FALSE. Thread-safe. */
static inline gboolean
sw_msg_may_be_address (const char *text)
{
  if (text == NULL)
    return FALSE;
  for (const char *p = text; *p; p++)
    {
      char c = *p;
      if (!(g_ascii_isxdigit (c) || c == '.' || c == ':' || c == '[' || c == ']' || g_ascii_isspace (c)
            || c == 'I' || c == 'i' || c == 'P' || c == 'p' || c == 'V' || c == 'v'))
        return FALSE;
    }
  return TRUE;
}

G_END_DECLS
