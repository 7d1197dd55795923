#define G_LOG_DOMAIN "sw-dmarc"
/* sw-dmarc-record.c: reading a DMARC record's tag list per the formal definition of
 * RFC 9989 section 4.8. Our own code because libopendmarc 1.4.2 gets the edges wrong: it
 * accepts any prefix of a policy word ("p=r" is reject), rejects the whole record for one
 * bad optional tag (RFC 9989 says syntax errors fall back to defaults), accepts
 * "v=dmarc1" anywhere, and knows nothing of np=, psd= and t=. The record handed to
 * libopendmarc (sw-dmarc.c) is rebuilt from what this file found valid. */
#include "sw-dmarc-private.h"
#include "sw-limits.h"
#include <string.h>

static gboolean
is_wsp (char c)
{
  return c == ' ' || c == '\t';
}

/* Trims WSP (RFC 5234: SP / HTAB) on both ends of [*start, *end). */
static void
trim_wsp (const char **start, const char **end)
{
  while (*start < *end && is_wsp (**start))
    (*start)++;
  while (*end > *start && is_wsp ((*end)[-1]))
    (*end)--;
}

gboolean
sw_dmarc_text_is_dmarc (const char *text)
{
  if (text == NULL)
    return FALSE;
  const char *p = text;
  while (is_wsp (*p))
    p++;
  /* dmarc-version = "v" equals %s"DMARC1": "v" is a case-insensitive literal. */
  if (*p != 'v' && *p != 'V')
    return FALSE;
  p++;
  while (is_wsp (*p))
    p++;
  if (*p != '=')
    return FALSE;
  p++;
  while (is_wsp (*p))
    p++;
  if (strncmp (p, "DMARC1", 6) != 0)
    return FALSE;
  p += 6;
  while (is_wsp (*p))
    p++;
  return *p == '\0' || *p == ';';
}

static gboolean
parse_policy (const char *v, SwDmarcPolicy *out)
{
  if (g_ascii_strcasecmp (v, "none") == 0)
    *out = SW_DMARC_POLICY_NONE;
  else if (g_ascii_strcasecmp (v, "quarantine") == 0)
    *out = SW_DMARC_POLICY_QUARANTINE;
  else if (g_ascii_strcasecmp (v, "reject") == 0)
    *out = SW_DMARC_POLICY_REJECT;
  else
    return FALSE;
  return TRUE;
}

/* One character of a value from @allowed (case-insensitive), returned in lower case. */
static char
parse_flag (const char *v, const char *allowed)
{
  if (v[0] == '\0' || v[1] != '\0')
    return 0;
  char c = g_ascii_tolower (v[0]);
  return strchr (allowed, c) != NULL ? c : 0;
}

/* URI (RFC 3986) as far as it matters here: a scheme, a colon, something after it, only
 * printing characters, no comma or "!" left unencoded outside the size suffix. */
static gboolean
uri_is_valid (const char *u)
{
  gsize len = strlen (u);
  if (len == 0 || len > SW_DMARC_MAX_URI || !g_ascii_isalpha (u[0]))
    return FALSE;
  const char *p = u + 1;
  while (g_ascii_isalnum (*p) || *p == '+' || *p == '-' || *p == '.')
    p++;
  if (*p != ':' || p[1] == '\0')
    return FALSE;
  for (const char *q = u; *q; q++)
    if (*q <= 0x20 || *q >= 0x7f)
      return FALSE;
  return TRUE;
}

/* dmarc-urilist: URIs separated by *WSP "," *WSP. Keeps the valid ones. */
static void
parse_uri_list (const char *v, GPtrArray *out)
{
  g_auto (GStrv) parts = g_strsplit (v, ",", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      const char *s = parts[i], *e = parts[i] + strlen (parts[i]);
      trim_wsp (&s, &e);
      g_autofree char *uri = g_strndup (s, e - s);
      if (uri_is_valid (uri))
        g_ptr_array_add (out, g_steal_pointer (&uri));
      else
        g_debug ("ignoring an invalid reporting URI");
    }
}

static gboolean
name_is_alpha (const char *s, const char *e)
{
  if (s == e)
    return FALSE;
  for (const char *p = s; p < e; p++)
    if (!g_ascii_isalpha (*p))
      return FALSE;
  return TRUE;
}

/* dmarc-value = %x20-3A / %x3C-7E, at least one. */
static gboolean
value_is_valid (const char *s, const char *e)
{
  if (s == e)
    return FALSE;
  for (const char *p = s; p < e; p++)
    if ((guchar)*p < 0x20 || (guchar)*p > 0x7e || *p == ';')
      return FALSE;
  return TRUE;
}

void
sw_dmarc_scan_record (const char *text, SwDmarcScan *scan)
{
  g_return_if_fail (sw_dmarc_text_is_dmarc (text));

  memset (scan, 0, sizeof *scan);
  scan->pct = -1;
  scan->psd = 'u';
  scan->rua = g_ptr_array_new_with_free_func (g_free);
  scan->ruf = g_ptr_array_new_with_free_func (g_free);

  /* Tags seen, so that only the first of a repeated tag counts. */
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gboolean first = TRUE;
  const char *p = text;
  while (p != NULL)
    {
      const char *semi = strchr (p, ';');
      const char *s = p, *e = semi ? semi : p + strlen (p);
      p = semi ? semi + 1 : NULL;
      if (first)
        {
          first = FALSE; /* the version tag, checked by sw_dmarc_text_is_dmarc() */
          continue;
        }
      trim_wsp (&s, &e);
      if (s == e)
        continue; /* empty segment: the optional trailing dmarc-sep */
      const char *eq = memchr (s, '=', e - s);
      if (eq == NULL)
        continue; /* a syntax error is ignored (RFC 9989 section 4.8) */
      const char *ns = s, *ne = eq, *vs = eq + 1, *ve = e;
      trim_wsp (&ns, &ne);
      trim_wsp (&vs, &ve);
      if (!name_is_alpha (ns, ne))
        continue;
      g_autofree char *name = g_ascii_strdown (ns, ne - ns);
      if (g_hash_table_contains (seen, name))
        continue;
      g_hash_table_add (seen, g_strdup (name));
      gboolean valid = value_is_valid (vs, ve);
      g_autofree char *value = g_strndup (vs, ve - vs);

      if (strcmp (name, "p") == 0 || strcmp (name, "sp") == 0 || strcmp (name, "np") == 0)
        {
          SwDmarcPolicy pol = SW_DMARC_POLICY_UNSET;
          SwDmarcTagState state
              = valid && parse_policy (value, &pol) ? SW_DMARC_TAG_VALID : SW_DMARC_TAG_INVALID;
          if (name[0] == 'p')
            {
              scan->p_state = state;
              scan->p = pol;
            }
          else if (name[0] == 's')
            {
              scan->sp_state = state;
              scan->sp = pol;
            }
          else
            {
              scan->np_state = state;
              scan->np = pol;
            }
        }
      else if (!valid)
        continue;
      else if (strcmp (name, "adkim") == 0)
        scan->adkim = parse_flag (value, "rs");
      else if (strcmp (name, "aspf") == 0)
        scan->aspf = parse_flag (value, "rs");
      else if (strcmp (name, "t") == 0)
        scan->t = parse_flag (value, "yn");
      else if (strcmp (name, "psd") == 0)
        {
          char c = parse_flag (value, "ynu");
          scan->psd = c ? c : 'u';
        }
      else if (strcmp (name, "pct") == 0)
        {
          guint64 n = 0;
          if (strlen (value) <= 3 && g_ascii_string_to_unsigned (value, 10, 0, 100, &n, NULL))
            scan->pct = (int)n;
        }
      else if (strcmp (name, "rua") == 0)
        {
          scan->rua_present = TRUE;
          parse_uri_list (value, scan->rua);
        }
      else if (strcmp (name, "ruf") == 0)
        parse_uri_list (value, scan->ruf);
      /* Anything else (fo, rf, ri, unknown tags) is ignored (RFC 9989 section 4.7). */
    }
}

void
sw_dmarc_scan_clear (SwDmarcScan *scan)
{
  g_clear_pointer (&scan->rua, g_ptr_array_unref);
  g_clear_pointer (&scan->ruf, g_ptr_array_unref);
}
