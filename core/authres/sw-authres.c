#define G_LOG_DOMAIN "sw-authres"
#include "sw-authres.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

G_DEFINE_QUARK (sw-authres-error-quark, sw_authres_error)

#define FIELD_NAME "Authentication-Results"

/* ---------------------------------------------------------------------------------------
 * Freeing
 * ------------------------------------------------------------------------------------- */

void
sw_authres_property_free (SwAuthresProperty *prop)
{
  if (prop == NULL)
    return;
  g_free (prop->ptype);
  g_free (prop->property);
  g_free (prop->value);
  g_free (prop);
}

void
sw_authres_method_free (SwAuthresMethod *m)
{
  if (m == NULL)
    return;
  g_free (m->method);
  g_free (m->result_word);
  g_free (m->reason);
  g_clear_pointer (&m->properties, g_ptr_array_unref);
  g_free (m->comment);
  g_free (m);
}

void
sw_authres_free (SwAuthres *ar)
{
  if (ar == NULL)
    return;
  g_free (ar->authserv_id);
  g_clear_pointer (&ar->methods, g_ptr_array_unref);
  g_free (ar);
}

static SwAuthresMethod *
method_new (void)
{
  SwAuthresMethod *m = g_new0 (SwAuthresMethod, 1);
  m->version = 1;
  m->result = SW_AUTH_NONE;
  m->properties = g_ptr_array_new_with_free_func ((GDestroyNotify) sw_authres_property_free);
  return m;
}

/* ---------------------------------------------------------------------------------------
 * Character classes
 * ------------------------------------------------------------------------------------- */

static gboolean
is_wsp (char c)
{
  /* Folding (CR, LF followed by WSP) counts as white space: the value may be folded. */
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* RFC 2045 token characters, plus 8-bit bytes (UTF-8 host names, RFC 6532). */
static gboolean
is_token_char (char c)
{
  guchar u = (guchar) c;
  if (u >= 0x80)
    return TRUE;
  if (u <= 0x20 || u == 0x7f)
    return FALSE;
  return strchr ("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* RFC 8601 keyword (ldh-str), plus '_' that real headers use ("smtp_is_org_domain"). */
static gboolean
is_keyword_char (char c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '_';
}

/* A lenient unquoted property value: anything but white space, ';', comments, quotes
 * and control characters (so "a=b@c", "/x/y", "2001:db8::1", "oF80QtY/" all work). */
static gboolean
is_value_char (char c)
{
  guchar u = (guchar) c;
  if (u >= 0x80)
    return TRUE;
  if (u <= 0x20 || u == 0x7f)
    return FALSE;
  return c != ';' && c != '(' && c != ')' && c != '"';
}

/* ---------------------------------------------------------------------------------------
 * Scanner
 * ------------------------------------------------------------------------------------- */

typedef struct {
  const char *p;
  const char *end;
  gboolean cut; /* the value was longer than SW_AUTHRES_MAX_FIELD: end is not its end */
} Scanner;

static void
scanner_init (Scanner *s, const char *value)
{
  gsize len = strnlen (value, SW_AUTHRES_MAX_FIELD + 1);
  s->p = value;
  s->cut = len > SW_AUTHRES_MAX_FIELD;
  s->end = value + MIN (len, SW_AUTHRES_MAX_FIELD);
}

static gboolean
at_end (const Scanner *s)
{
  return s->p >= s->end;
}

static char
peek (const Scanner *s)
{
  return at_end (s) ? '\0' : *s->p;
}

/* Skips one comment starting at '(' (nested comments, quoted-pairs). Appends its text
 * (without the outer parentheses, quoted-pairs undone, line breaks dropped) to @text if
 * not NULL. An unterminated comment runs to the end. */
static void
skip_comment (Scanner *s, GString *text)
{
  g_assert (peek (s) == '(');
  guint depth = 0;
  while (!at_end (s))
    {
      char c = *s->p++;
      if (c == '\\' && !at_end (s))
        {
          c = *s->p++;
          if (text != NULL && c != '\r' && c != '\n')
            g_string_append_c (text, c);
          continue;
        }
      if (c == '(')
        {
          depth++;
          if (depth == 1)
            continue;
        }
      else if (c == ')')
        {
          depth--;
          if (depth == 0)
            return;
        }
      if (text != NULL && c != '\r' && c != '\n')
        g_string_append_c (text, c);
    }
}

/* Skips white space and comments. The first comment seen is stored in *@first_comment
 * when that is not NULL and still unset. */
static void
skip_cfws (Scanner *s, char **first_comment)
{
  while (!at_end (s))
    {
      if (is_wsp (*s->p))
        s->p++;
      else if (*s->p == '(')
        {
          if (first_comment != NULL && *first_comment == NULL)
            {
              g_autoptr (GString) text = g_string_new (NULL);
              skip_comment (s, text);
              *first_comment = g_strstrip (g_string_free (g_steal_pointer (&text), FALSE));
            }
          else
            skip_comment (s, NULL);
        }
      else
        break;
    }
}

/* Reads a quoted-string starting at '"'; returns its content (quoted-pairs undone, line
 * breaks of folding dropped). An unterminated string runs to the end. */
static char *
read_quoted (Scanner *s)
{
  g_assert (peek (s) == '"');
  s->p++;
  GString *out = g_string_new (NULL);
  while (!at_end (s))
    {
      char c = *s->p++;
      if (c == '"')
        break;
      if (c == '\\' && !at_end (s))
        c = *s->p++;
      if (c == '\r' || c == '\n')
        continue;
      g_string_append_c (out, c);
    }
  return g_string_free (out, FALSE);
}

typedef gboolean (*CharClass) (char c);

static char *
read_class (Scanner *s, CharClass cls)
{
  const char *start = s->p;
  while (!at_end (s) && cls (*s->p))
    s->p++;
  return g_strndup (start, (gsize) (s->p - start));
}

static char *
read_keyword_lower (Scanner *s)
{
  g_autofree char *word = read_class (s, is_keyword_char);
  return g_ascii_strdown (word, -1);
}

/* Reads 1*DIGIT into @out (capped at 999999999). FALSE if there is no digit. */
static gboolean
read_number (Scanner *s, int *out)
{
  if (!g_ascii_isdigit (peek (s)))
    return FALSE;
  int n = 0;
  while (g_ascii_isdigit (peek (s)))
    {
      if (n < 100000000)
        n = n * 10 + (*s->p - '0');
      else
        n = 999999999;
      s->p++;
    }
  *out = n;
  return TRUE;
}

/* Moves to the next ';' that is outside comments and quoted strings (or to the end). */
static void
skip_to_semicolon (Scanner *s)
{
  while (!at_end (s) && *s->p != ';')
    {
      if (*s->p == '(')
        skip_comment (s, NULL);
      else if (*s->p == '"')
        g_free (read_quoted (s));
      else
        s->p++;
    }
}

/* Skips an optional leading "Authentication-Results" [WSP] ":" so that a whole field can
 * be given to the parser. */
static void
skip_field_name (Scanner *s)
{
  gsize n = strlen (FIELD_NAME);
  if ((gsize) (s->end - s->p) < n || g_ascii_strncasecmp (s->p, FIELD_NAME, n) != 0)
    return;
  const char *q = s->p + n;
  while (q < s->end && (*q == ' ' || *q == '\t'))
    q++;
  if (q < s->end && *q == ':')
    s->p = q + 1;
}

/* Reads the authserv-id (and skips the CFWS after it). NULL if there is none: empty
 * value, or a "method=result" where the id should be. */
static char *
read_authserv_id (Scanner *s)
{
  skip_cfws (s, NULL);
  skip_field_name (s);
  skip_cfws (s, NULL);
  g_autofree char *id = NULL;
  if (peek (s) == '"')
    id = read_quoted (s);
  else
    id = read_class (s, is_token_char);
  if (*id == '\0')
    return NULL;
  if (at_end (s) && s->cut)
    return NULL; /* the id itself runs past the cap */
  skip_cfws (s, NULL);
  /* "spf=pass ..." or "spf/1=pass": a method where the authserv-id belongs (Outlook). */
  if (peek (s) == '=' || peek (s) == '/')
    return NULL;
  return g_steal_pointer (&id);
}

/* ---------------------------------------------------------------------------------------
 * Parser
 * ------------------------------------------------------------------------------------- */

/* Reads a pvalue: a quoted-string (optionally followed by "@domain", a quoted local
 * part), or a lenient run of value characters. */
static char *
read_pvalue (Scanner *s)
{
  if (peek (s) == '"')
    {
      g_autofree char *quoted = read_quoted (s);
      if (peek (s) != '@')
        return g_steal_pointer (&quoted);
      g_autofree char *rest = read_class (s, is_value_char);
      return g_strconcat (quoted, rest, NULL);
    }
  return read_class (s, is_value_char);
}

typedef enum {
  RESINFO_OK,
  RESINFO_MALFORMED,
  RESINFO_NONE, /* "none" */
} ResinfoStatus;

/* Parses one resinfo after its ';' up to (not including) the next ';' or the end.
 * On RESINFO_OK *@out is the method (transfer full). *@props_dropped is set when the
 * property cap was hit. */
static ResinfoStatus
parse_resinfo (Scanner *s, SwAuthresMethod **out, gboolean *props_dropped)
{
  g_autoptr (SwAuthresMethod) m = method_new ();

  m->method = read_keyword_lower (s);
  if (*m->method == '\0')
    return RESINFO_MALFORMED;
  skip_cfws (s, NULL);
  if (g_strcmp0 (m->method, "none") == 0 && peek (s) != '=' && peek (s) != '/')
    return RESINFO_NONE; /* the caller deals with anything after it */
  if (peek (s) == '/')
    {
      s->p++;
      skip_cfws (s, NULL);
      if (!read_number (s, &m->version))
        return RESINFO_MALFORMED;
      skip_cfws (s, NULL);
    }
  if (peek (s) != '=')
    return RESINFO_MALFORMED;
  s->p++;
  skip_cfws (s, NULL);
  m->result_word = read_keyword_lower (s);
  if (*m->result_word == '\0')
    return RESINFO_MALFORMED;
  m->result_known = sw_auth_result_from_string (m->result_word, &m->result);
  if (!m->result_known)
    m->result = SW_AUTH_NONE;

  for (;;)
    {
      skip_cfws (s, &m->comment);
      if (at_end (s) || peek (s) == ';')
        break;
      g_autofree char *ptype = NULL;
      g_autofree char *property = read_keyword_lower (s);
      if (*property == '\0')
        return RESINFO_MALFORMED;
      skip_cfws (s, &m->comment);
      if (peek (s) == '.')
        {
          s->p++;
          skip_cfws (s, &m->comment);
          ptype = g_steal_pointer (&property);
          property = read_keyword_lower (s);
          if (*property == '\0')
            return RESINFO_MALFORMED;
          skip_cfws (s, &m->comment);
        }
      if (peek (s) != '=')
        return RESINFO_MALFORMED;
      s->p++;
      skip_cfws (s, &m->comment);
      g_autofree char *value = read_pvalue (s);

      if (ptype == NULL && g_strcmp0 (property, "reason") == 0)
        {
          if (m->reason == NULL)
            m->reason = g_steal_pointer (&value);
          continue;
        }
      if (m->properties->len >= SW_AUTHRES_MAX_PROPERTIES)
        {
          *props_dropped = TRUE;
          continue;
        }
      SwAuthresProperty *prop = g_new0 (SwAuthresProperty, 1);
      prop->ptype = ptype ? g_steal_pointer (&ptype) : g_strdup ("");
      prop->property = g_steal_pointer (&property);
      prop->value = g_steal_pointer (&value);
      g_ptr_array_add (m->properties, prop);
    }
  *out = g_steal_pointer (&m);
  return RESINFO_OK;
}

SwAuthres *
sw_authres_parse (const char *value, GError **error)
{
  g_return_val_if_fail (value != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  Scanner s;
  scanner_init (&s, value);
  g_autofree char *id = read_authserv_id (&s);
  if (id == NULL)
    {
      g_set_error (error, SW_AUTHRES_ERROR, SW_AUTHRES_ERROR_SYNTAX,
                   "Authentication-Results field without an authserv-id");
      return NULL;
    }

  g_autoptr (SwAuthres) ar = g_new0 (SwAuthres, 1);
  ar->authserv_id = g_steal_pointer (&id);
  ar->version = 1;
  ar->methods = g_ptr_array_new_with_free_func ((GDestroyNotify) sw_authres_method_free);
  ar->truncated = s.cut;

  if (read_number (&s, &ar->version))
    skip_cfws (&s, NULL);
  if (!at_end (&s) && peek (&s) != ';')
    {
      /* Junk between the id and the first ';' (Yahoo's "id  from=domain;"). */
      skip_to_semicolon (&s);
      ar->n_skipped++;
    }

  while (!at_end (&s))
    {
      g_assert (peek (&s) == ';');
      s.p++;
      skip_cfws (&s, NULL);
      if (at_end (&s) || peek (&s) == ';')
        continue; /* empty resinfo: "a;;b", or a trailing ';' */

      SwAuthresMethod *m = NULL;
      gboolean props_dropped = FALSE;
      ResinfoStatus status = parse_resinfo (&s, &m, &props_dropped);
      g_autoptr (SwAuthresMethod) method = m;
      gboolean junk_after_none = FALSE;
      if (status == RESINFO_MALFORMED)
        skip_to_semicolon (&s);
      else if (status == RESINFO_NONE && !at_end (&s) && peek (&s) != ';')
        {
          junk_after_none = TRUE;
          skip_to_semicolon (&s);
        }
      if (at_end (&s) && s.cut)
        break; /* this resinfo runs past SW_AUTHRES_MAX_FIELD: incomplete, dropped */

      switch (status)
        {
        case RESINFO_NONE:
          /* "none" is only meaningful alone. "id; none dkim=pass" is still "none" (a
           * receiver must not believe that dkim=pass); what follows it is skipped. */
          if (ar->methods->len == 0 && !ar->none)
            {
              ar->none = TRUE;
              if (junk_after_none)
                ar->n_skipped++;
            }
          else
            ar->n_skipped++;
          break;
        case RESINFO_MALFORMED:
          ar->n_skipped++;
          break;
        case RESINFO_OK:
          if (ar->none)
            ar->n_skipped++; /* "none" said there are no results: do not believe more */
          else if (ar->methods->len >= SW_AUTHRES_MAX_METHODS)
            ar->truncated = TRUE;
          else
            {
              ar->truncated |= props_dropped;
              g_ptr_array_add (ar->methods, g_steal_pointer (&method));
            }
          break;
        }
    }
  return g_steal_pointer (&ar);
}

char *
sw_authres_dup_authserv_id (const char *value)
{
  g_return_val_if_fail (value != NULL, NULL);
  Scanner s;
  scanner_init (&s, value);
  return read_authserv_id (&s);
}

const char *
sw_authres_method_get (const SwAuthresMethod *m, const char *ptype, const char *property)
{
  g_return_val_if_fail (m != NULL && property != NULL, NULL);
  if (ptype == NULL)
    ptype = "";
  for (guint i = 0; i < m->properties->len; i++)
    {
      const SwAuthresProperty *prop = g_ptr_array_index (m->properties, i);
      if (g_ascii_strcasecmp (prop->ptype, ptype) == 0 && g_ascii_strcasecmp (prop->property, property) == 0)
        return prop->value;
    }
  return NULL;
}

const SwAuthresMethod *
sw_authres_find_method (const SwAuthres *ar, const char *method, guint index)
{
  g_return_val_if_fail (ar != NULL && method != NULL, NULL);
  for (guint i = 0; i < ar->methods->len; i++)
    {
      const SwAuthresMethod *m = g_ptr_array_index (ar->methods, i);
      if (g_ascii_strcasecmp (m->method, method) == 0 && index-- == 0)
        return m;
    }
  return NULL;
}

/* ---------------------------------------------------------------------------------------
 * Ownership of fields
 * ------------------------------------------------------------------------------------- */

/* Case-insensitive search for the token @needle in the first @len bytes of @hay: the
 * match must not be part of a longer token ("id" is not found in "idx" or "x.id"). */
static gboolean
contains_token_casefold (const char *hay, gsize len, const char *needle)
{
  gsize n = strlen (needle);
  if (n == 0 || n > len)
    return FALSE;
  for (gsize i = 0; i + n <= len; i++)
    if (g_ascii_strncasecmp (hay + i, needle, n) == 0 && (i == 0 || !is_token_char (hay[i - 1]))
        && (i + n == len || !is_token_char (hay[i + n])))
      return TRUE;
  return FALSE;
}

gboolean
sw_authres_field_is_ours (const char *name, const char *value, const char *our_authserv_id)
{
  g_return_val_if_fail (name != NULL && our_authserv_id != NULL && *our_authserv_id != '\0', FALSE);

  /* Field names may carry WSP before the colon (RFC 5322 obs-optional). */
  gsize name_len = strlen (name);
  while (name_len > 0 && (name[name_len - 1] == ' ' || name[name_len - 1] == '\t'))
    name_len--;
  static const char prefix[] = "X-Spoofwatch-";
  if (name_len >= sizeof prefix - 1 && g_ascii_strncasecmp (name, prefix, sizeof prefix - 1) == 0)
    return TRUE;
  if (name_len != strlen (FIELD_NAME) || g_ascii_strncasecmp (name, FIELD_NAME, name_len) != 0)
    return FALSE;
  if (value == NULL)
    return FALSE;

  g_autofree char *id = sw_authres_dup_authserv_id (value);
  if (id != NULL && g_ascii_strcasecmp (id, our_authserv_id) == 0)
    return TRUE;

  /* Where another reader might look for the id: everything before the first ';' or,
   * in a field without any id we can read (Outlook's "spf=pass ...; id; ..."), anywhere. */
  gsize head = strnlen (value, SW_AUTHRES_MAX_FIELD);
  const char *semi = memchr (value, ';', head);
  if (semi != NULL && id != NULL)
    head = (gsize) (semi - value);
  return contains_token_casefold (value, head, our_authserv_id);
}

/* ---------------------------------------------------------------------------------------
 * Authserv-id generation
 * ------------------------------------------------------------------------------------- */

static gboolean
read_urandom (guint8 *buf, gsize len)
{
  int fd = open ("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return FALSE;
  gsize got = 0;
  while (got < len)
    {
      ssize_t n = read (fd, buf + got, len - got);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      got += (gsize) n;
    }
  close (fd);
  return got == len;
}

char *
sw_authres_new_authserv_id (void)
{
  guint8 bytes[8];
  gsize got = 0;
  while (got < sizeof bytes)
    {
      ssize_t n = getrandom (bytes + got, sizeof bytes - got, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      got += (gsize) n;
    }
  if (got < sizeof bytes && !read_urandom (bytes, sizeof bytes))
    g_error ("no source of random bytes (getrandom, /dev/urandom) for the authserv-id");

  GString *id = g_string_new ("spoofwatch-");
  for (gsize i = 0; i < sizeof bytes; i++)
    g_string_append_printf (id, "%02x", bytes[i]);
  return g_string_free (id, FALSE);
}
