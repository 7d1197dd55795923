#define G_LOG_DOMAIN "sw-authres"
#include "sw-authres.h"

#include <string.h>

/* The builder keeps the methods as SwAuthresMethod (unescaped) and renders them only in
 * sw_authres_builder_end(): every value is escaped in one place. */
struct _SwAuthresBuilder {
  char *authserv_id;
  GPtrArray *methods; /* SwAuthresMethod* */
};

SwAuthresBuilder *
sw_authres_builder_new (const char *authserv_id)
{
  g_return_val_if_fail (authserv_id != NULL && *authserv_id != '\0', NULL);
  SwAuthresBuilder *b = g_new0 (SwAuthresBuilder, 1);
  b->authserv_id = g_strdup (authserv_id);
  b->methods = g_ptr_array_new_with_free_func ((GDestroyNotify) sw_authres_method_free);
  return b;
}

void
sw_authres_builder_free (SwAuthresBuilder *b)
{
  if (b == NULL)
    return;
  g_free (b->authserv_id);
  g_clear_pointer (&b->methods, g_ptr_array_unref);
  g_free (b);
}

static gboolean
is_keyword (const char *s)
{
  if (s == NULL || *s == '\0')
    return FALSE;
  for (; *s != '\0'; s++)
    if (!g_ascii_isalnum (*s) && *s != '-' && *s != '_')
      return FALSE;
  return TRUE;
}

void
sw_authres_builder_add_method (SwAuthresBuilder *b,
                               const char       *method,
                               SwAuthResult      result,
                               const char       *reason,
                               const char       *comment)
{
  g_return_if_fail (b != NULL);
  g_return_if_fail (is_keyword (method));
  g_return_if_fail ((guint) result < SW_AUTH_COUNT);

  SwAuthresMethod *m = g_new0 (SwAuthresMethod, 1);
  m->method = g_ascii_strdown (method, -1);
  m->version = 1;
  m->result = result;
  m->result_known = TRUE;
  m->result_word = g_strdup (sw_auth_result_to_string (result));
  m->reason = g_strdup (reason);
  m->comment = g_strdup (comment);
  m->properties = g_ptr_array_new_with_free_func ((GDestroyNotify) sw_authres_property_free);
  g_ptr_array_add (b->methods, m);
}

void
sw_authres_builder_add_property (SwAuthresBuilder *b,
                                 const char       *ptype,
                                 const char       *property,
                                 const char       *value)
{
  g_return_if_fail (b != NULL);
  g_return_if_fail (b->methods->len > 0);
  g_return_if_fail (is_keyword (ptype) && is_keyword (property));
  g_return_if_fail (value != NULL);

  SwAuthresMethod *m = g_ptr_array_index (b->methods, b->methods->len - 1);
  if (m->properties->len >= SW_AUTHRES_MAX_PROPERTIES)
    return;
  SwAuthresProperty *prop = g_new0 (SwAuthresProperty, 1);
  prop->ptype = g_ascii_strdown (ptype, -1);
  prop->property = g_ascii_strdown (property, -1);
  prop->value = g_strdup (value);
  g_ptr_array_add (m->properties, prop);
}

/* ---------------------------------------------------------------------------------------
 * Escaping
 * ------------------------------------------------------------------------------------- */

/* A copy of untrusted @text that is valid UTF-8 and holds no control character: TAB,
 * CR and LF become spaces when @ws_to_space, else '?' like every other control
 * character and every byte of invalid UTF-8. */
static char *
clean_text (const char *text, gboolean ws_to_space)
{
  GString *out = g_string_sized_new (strlen (text));
  const char *p = text;
  while (*p != '\0')
    {
      guchar u = (guchar) *p;
      if (u < 0x80)
        {
          if (u < 0x20 || u == 0x7f)
            g_string_append_c (out, ws_to_space && (u == '\t' || u == '\r' || u == '\n') ? ' ' : '?');
          else
            g_string_append_c (out, *p);
          p++;
          continue;
        }
      gunichar c = g_utf8_get_char_validated (p, -1);
      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          g_string_append_c (out, '?');
          p++;
          continue;
        }
      const char *next = g_utf8_next_char (p);
      g_string_append_len (out, p, next - p);
      p = next;
    }
  return g_string_free (out, FALSE);
}

static gboolean
is_token (const char *s)
{
  if (*s == '\0')
    return FALSE;
  for (; *s != '\0'; s++)
    {
      guchar u = (guchar) *s;
      if (u <= 0x20 || u >= 0x7f || strchr ("()<>@,;:\\\"/[]?=", *s) != NULL)
        return FALSE;
    }
  return TRUE;
}

static gboolean
is_atext (char c)
{
  return g_ascii_isalnum (c) || strchr ("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* dot-atom: 1*atext *("." 1*atext), ASCII only. */
static gboolean
is_dot_atom (const char *s, gsize len)
{
  if (len == 0 || s[0] == '.' || s[len - 1] == '.')
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      if (s[i] == '.')
        {
          if (s[i + 1] == '.')
            return FALSE;
        }
      else if (!is_atext (s[i]))
        return FALSE;
    }
  return TRUE;
}

static gboolean
is_domain_name (const char *s)
{
  gsize len = strlen (s);
  if (len == 0 || s[0] == '.' || s[0] == '-' || s[len - 1] == '-')
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      if (s[i] == '.')
        {
          if (s[i + 1] == '.')
            return FALSE;
        }
      else if (!g_ascii_isalnum (s[i]) && s[i] != '-' && s[i] != '_')
        return FALSE;
    }
  return TRUE;
}

/* RFC 8601 pvalue: "[local-part] @ domain-name" written as is. */
static gboolean
is_plain_addr_spec (const char *s)
{
  const char *at = strrchr (s, '@');
  if (at == NULL)
    return FALSE;
  if (at != s && !is_dot_atom (s, (gsize) (at - s)))
    return FALSE;
  return is_domain_name (at + 1);
}

/* @text (already clean) as a quoted-string: '"' and '\' escaped. */
static void
append_quoted (GString *out, const char *text)
{
  g_string_append_c (out, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_c (out, '\\');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

/* ---------------------------------------------------------------------------------------
 * Folding. A method is rendered as pieces separated by single spaces; each gap says
 * whether a line may be folded there and what the continuation line starts with.
 * ------------------------------------------------------------------------------------- */

typedef enum {
  GAP_STRUCT,  /* between two elements: fold as EOL TAB */
  GAP_CONTENT, /* a space inside a comment or quoted-string: fold as EOL SPACE (keeps it) */
  GAP_FIXED,   /* a space that must not start a line (before an empty piece) */
} Gap;

typedef struct {
  char *text;
  Gap gap; /* the gap before this piece */
} Piece;

static void
piece_clear (Piece *p)
{
  g_free (p->text);
}

static void
add_piece (GArray *pieces, Gap gap, char *text)
{
  Piece p = { text, gap };
  g_array_append_val (pieces, p);
}

/* Appends "<prefix><quoted or plain value>" as pieces. A quoted value with spaces is split
 * at each space (GAP_CONTENT) so that long reasons can be folded. */
static void
add_value_pieces (GArray *pieces, const char *prefix, const char *raw, gboolean allow_addr)
{
  g_autofree char *value = clean_text (raw, TRUE);
  if (is_token (value) || (allow_addr && is_plain_addr_spec (value)))
    {
      add_piece (pieces, GAP_STRUCT, g_strconcat (prefix, value, NULL));
      return;
    }
  g_autoptr (GString) quoted = g_string_new (prefix);
  append_quoted (quoted, value);
  g_auto (GStrv) parts = g_strsplit (quoted->str, " ", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    add_piece (pieces, i == 0 ? GAP_STRUCT : (*parts[i] == '\0' ? GAP_FIXED : GAP_CONTENT),
               g_strdup (parts[i]));
}

/* Appends "(comment)" as pieces, one per word: white space in a comment is free, so runs
 * collapse; '(', ')' and '\' are escaped as quoted-pairs. */
static void
add_comment_pieces (GArray *pieces, const char *raw)
{
  g_autofree char *clean = clean_text (raw, TRUE);
  g_auto (GStrv) words = g_strsplit (g_strstrip (clean), " ", -1);
  GPtrArray *kept = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; words[i] != NULL; i++)
    {
      if (*words[i] == '\0')
        continue;
      GString *w = g_string_new (NULL);
      for (const char *p = words[i]; *p != '\0'; p++)
        {
          if (*p == '(' || *p == ')' || *p == '\\')
            g_string_append_c (w, '\\');
          g_string_append_c (w, *p);
        }
      g_ptr_array_add (kept, g_string_free (w, FALSE));
    }
  for (guint i = 0; i < kept->len; i++)
    {
      const char *w = g_ptr_array_index (kept, i);
      add_piece (pieces, i == 0 ? GAP_STRUCT : GAP_CONTENT,
                 g_strconcat (i == 0 ? "(" : "", w, i + 1 == kept->len ? ")" : "", NULL));
    }
  g_ptr_array_unref (kept);
}

static void
render_method (GString *out, const SwAuthresMethod *m, gboolean last, const char *eol)
{
  g_autoptr (GArray) pieces = g_array_new (FALSE, FALSE, sizeof (Piece));
  g_array_set_clear_func (pieces, (GDestroyNotify) piece_clear);

  add_piece (pieces, GAP_STRUCT, g_strdup_printf ("%s=%s", m->method, m->result_word));
  if (m->reason != NULL)
    {
      /* The reason is always a quoted-string, as RFC 8601 section 2.3 writes it. */
      g_autofree char *clean = clean_text (m->reason, TRUE);
      g_autoptr (GString) quoted = g_string_new ("reason=");
      append_quoted (quoted, clean);
      g_auto (GStrv) parts = g_strsplit (quoted->str, " ", -1);
      for (guint i = 0; parts[i] != NULL; i++)
        add_piece (pieces, i == 0 ? GAP_STRUCT : (*parts[i] == '\0' ? GAP_FIXED : GAP_CONTENT),
                   g_strdup (parts[i]));
    }
  if (m->comment != NULL)
    add_comment_pieces (pieces, m->comment);
  for (guint i = 0; i < m->properties->len; i++)
    {
      const SwAuthresProperty *prop = g_ptr_array_index (m->properties, i);
      g_autofree char *prefix = g_strdup_printf ("%s.%s=", prop->ptype, prop->property);
      add_value_pieces (pieces, prefix, prop->value, TRUE);
    }
  if (!last)
    {
      Piece *tail = &g_array_index (pieces, Piece, pieces->len - 1);
      char *t = g_strconcat (tail->text, ";", NULL);
      g_free (tail->text);
      tail->text = t;
    }

  /* Greedy filling: the method starts a new line (EOL TAB, the CFWS after ';'). */
  g_string_append (out, eol);
  g_string_append_c (out, '\t');
  gsize line = 1;
  for (guint i = 0; i < pieces->len; i++)
    {
      const Piece *p = &g_array_index (pieces, Piece, i);
      gsize len = strlen (p->text);
      if (i > 0)
        {
          if (p->gap != GAP_FIXED && line + 1 + len > SW_AUTHRES_FOLD_WIDTH)
            {
              g_string_append (out, eol);
              g_string_append_c (out, p->gap == GAP_STRUCT ? '\t' : ' ');
            }
          else
            {
              g_string_append_c (out, ' ');
              line++;
              g_string_append (out, p->text);
              line += len;
              continue;
            }
          line = 1;
        }
      g_string_append (out, p->text);
      line += len;
    }
}

char *
sw_authres_builder_end (SwAuthresBuilder *b, const char *eol)
{
  g_return_val_if_fail (b != NULL, NULL);
  g_autoptr (SwAuthresBuilder) owned = b;
  if (eol == NULL)
    eol = "\r\n";

  GString *out = g_string_new ("Authentication-Results: ");
  g_autofree char *id = clean_text (owned->authserv_id, FALSE);
  if (is_token (id))
    g_string_append (out, id);
  else
    append_quoted (out, id);
  g_string_append_c (out, ';');

  if (owned->methods->len == 0)
    g_string_append (out, " none");
  for (guint i = 0; i < owned->methods->len; i++)
    render_method (out, g_ptr_array_index (owned->methods, i), i + 1 == owned->methods->len, eol);
  g_string_append (out, eol);
  return g_string_free (out, FALSE);
}
