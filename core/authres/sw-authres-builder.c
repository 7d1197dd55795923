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
  /* printable ASCII (the usual case) stays as it is */
  const char *q = text;
  while (*q >= 0x20 && *q < 0x7f)
    q++;
  if (*q == '\0')
    return g_strndup (text, (gsize) (q - text));
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
 * whether a line may be folded there and what the continuation line starts with. The
 * pieces' text is kept one after another in one buffer.
 * ------------------------------------------------------------------------------------- */

typedef enum {
  GAP_STRUCT,  /* between two elements: fold as EOL TAB */
  GAP_CONTENT, /* a space inside a comment or quoted-string: fold as EOL SPACE (keeps it) */
  GAP_FIXED,   /* a space that must not start a line (before an empty piece) */
} Gap;

typedef struct {
  gsize offset; /* of the text in Pieces.text */
  gsize len;
  Gap gap;      /* the gap before this piece */
} Piece;

typedef struct {
  GString *text;
  GArray *pieces; /* Piece */
} Pieces;

/* Starts a piece: what is appended to @ps->text from here on is its text. */
static void
piece_start (Pieces *ps, Gap gap)
{
  Piece p = { ps->text->len, 0, gap };
  g_array_append_val (ps->pieces, p);
}

/* Ends the piece started last. */
static void
piece_end (Pieces *ps)
{
  Piece *p = &g_array_index (ps->pieces, Piece, ps->pieces->len - 1);
  p->len = ps->text->len - p->offset;
}

/* Appends the pieces of @text (@len octets) split at every space, as g_strsplit() splits:
 * the first with @first_gap, an empty one (two spaces in a row) with GAP_FIXED, the
 * others with GAP_CONTENT. */
static void
add_split_pieces (Pieces *ps, const char *text, gsize len, Gap first_gap)
{
  g_assert (len > 0); /* g_strsplit() would give no piece at all */
  gsize start = 0;
  for (gsize i = 0;; i++)
    {
      if (i < len && text[i] != ' ')
        continue;
      piece_start (ps, start == 0 ? first_gap : (i == start ? GAP_FIXED : GAP_CONTENT));
      g_string_append_len (ps->text, text + start, (gssize) (i - start));
      piece_end (ps);
      if (i >= len)
        break;
      start = i + 1;
    }
}

/* Appends "<prefix><quoted or plain value>" as pieces. A quoted value with spaces is split
 * at each space (GAP_CONTENT) so that long reasons can be folded. */
static void
add_value_pieces (Pieces *ps, const char *prefix, const char *raw, gboolean allow_addr)
{
  g_autofree char *value = clean_text (raw, TRUE);
  if (is_token (value) || (allow_addr && is_plain_addr_spec (value)))
    {
      piece_start (ps, GAP_STRUCT);
      g_string_append (ps->text, prefix);
      g_string_append (ps->text, value);
      piece_end (ps);
      return;
    }
  g_autoptr (GString) quoted = g_string_new (prefix);
  append_quoted (quoted, value);
  add_split_pieces (ps, quoted->str, quoted->len, GAP_STRUCT);
}

/* Appends "(comment)" as pieces, one per word: white space in a comment is free, so runs
 * collapse; '(', ')' and '\' are escaped as quoted-pairs. */
static void
add_comment_pieces (Pieces *ps, const char *raw)
{
  g_autofree char *clean = clean_text (raw, TRUE);
  /* clean_text() leaves no white space but SP: the words are the runs of other octets */
  guint n = 0;
  for (const char *p = clean; *p != '\0';)
    {
      if (*p == ' ')
        {
          p++;
          continue;
        }
      piece_start (ps, n++ == 0 ? GAP_STRUCT : GAP_CONTENT);
      if (n == 1)
        g_string_append_c (ps->text, '(');
      for (; *p != '\0' && *p != ' '; p++)
        {
          if (*p == '(' || *p == ')' || *p == '\\')
            g_string_append_c (ps->text, '\\');
          g_string_append_c (ps->text, *p);
        }
      piece_end (ps);
    }
  if (n > 0)
    {
      /* the last word closes the comment */
      g_string_append_c (ps->text, ')');
      piece_end (ps);
    }
}

static void
render_method (GString *out, const SwAuthresMethod *m, gboolean last, const char *eol)
{
  Pieces ps = { g_string_sized_new (256), g_array_sized_new (FALSE, FALSE, sizeof (Piece), 24) };

  piece_start (&ps, GAP_STRUCT);
  g_string_append (ps.text, m->method);
  g_string_append_c (ps.text, '=');
  g_string_append (ps.text, m->result_word);
  piece_end (&ps);
  if (m->reason != NULL)
    {
      /* The reason is always a quoted-string, as RFC 8601 section 2.3 writes it. */
      g_autofree char *clean = clean_text (m->reason, TRUE);
      g_autoptr (GString) quoted = g_string_new ("reason=");
      append_quoted (quoted, clean);
      add_split_pieces (&ps, quoted->str, quoted->len, GAP_STRUCT);
    }
  if (m->comment != NULL)
    add_comment_pieces (&ps, m->comment);
  for (guint i = 0; i < m->properties->len; i++)
    {
      const SwAuthresProperty *prop = g_ptr_array_index (m->properties, i);
      g_autoptr (GString) prefix = g_string_new (prop->ptype);
      g_string_append_c (prefix, '.');
      g_string_append (prefix, prop->property);
      g_string_append_c (prefix, '=');
      add_value_pieces (&ps, prefix->str, prop->value, TRUE);
    }
  if (!last)
    {
      /* the last piece's text is at the end of the buffer */
      g_string_append_c (ps.text, ';');
      piece_end (&ps);
    }

  /* Greedy filling: the method starts a new line (EOL TAB, the CFWS after ';'). */
  g_string_append (out, eol);
  g_string_append_c (out, '\t');
  gsize line = 1;
  for (guint i = 0; i < ps.pieces->len; i++)
    {
      const Piece *p = &g_array_index (ps.pieces, Piece, i);
      const char *text = ps.text->str + p->offset;
      gsize len = p->len;
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
              g_string_append_len (out, text, (gssize) len);
              line += len;
              continue;
            }
          line = 1;
        }
      g_string_append_len (out, text, (gssize) len);
      line += len;
    }
  g_string_free (ps.text, TRUE);
  g_array_unref (ps.pieces);
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
