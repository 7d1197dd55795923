#define G_LOG_DOMAIN "sw-spf"
/* sw-spf-exp.c: our own expansion of explanation strings (RFC 7208 sections 6.2, 7).
 *
 * libspf2 1.2.10 expands explanations itself, but writes URL escapes in lower-case hex
 * (RFC 3986 section 2.1 and the RFC 7208 test suite want upper case) and the %{i} nibbles
 * of an IPv6 address in lower case. The DNS layer (sw-spf-dns.c) answers libspf2's
 * get_exp hook with the text expanded here; the SPF result itself stays libspf2's.
 *
 * Only texts that passed sw_spf_explanation_is_acceptable() come here; the parser is
 * strict anyway and returns NULL on anything outside the RFC 7208 section 7.1 grammar. */
#include <string.h>
#include <gio/gio.h>
#include "sw-spf-private.h"

static gboolean
is_delimiter (char c)
{
  return c == '.' || c == '-' || c == '+' || c == ',' || c == '/' || c == '_' || c == '=';
}

/* RFC 3986 section 2.3. */
static gboolean
is_unreserved (guchar c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* The value of macro @letter (lower case) before transformers, or NULL for an unknown
 * letter. Transfer full. */
static char *
macro_value (char letter, const SwSpfMacroVars *vars)
{
  switch (letter)
    {
    case 's':
      return g_strdup (vars->sender ? vars->sender : "");
    case 'l':
      return g_strdup (vars->local_part ? vars->local_part : "postmaster");
    case 'o':
      return g_strdup (vars->sender_domain ? vars->sender_domain : "");
    case 'd':
      return g_strdup (vars->domain ? vars->domain : "");
    case 'h':
      return g_strdup (vars->helo ? vars->helo : "unknown");
    case 'r':
      return g_strdup (vars->receiver ? vars->receiver : "unknown");
    case 't':
      return g_strdup_printf ("%" G_GINT64_FORMAT, vars->now);
    case 'v':
      return g_strdup (vars->ip_len == 16 ? "ip6" : "in-addr");
    case 'p':
      {
        const char *p = vars->get_validated_name ? vars->get_validated_name (vars->user_data) : NULL;
        return g_strdup (p ? p : "unknown");
      }
    case 'c':
    case 'i':
      {
        if (vars->ip_len == 4)
          return g_strdup_printf ("%u.%u.%u.%u", vars->ip[0], vars->ip[1], vars->ip[2], vars->ip[3]);
        if (vars->ip_len != 16)
          return g_strdup ("");
        if (letter == 'c')
          {
            g_autoptr (GInetAddress) a = g_inet_address_new_from_bytes (vars->ip, G_SOCKET_FAMILY_IPV6);
            return g_inet_address_to_string (a);
          }
        /* RFC 7208 section 7.3: 32 dot-separated nibbles. Upper-case hex, as the RFC 7208
         * test suite expects (DNS names are case-insensitive; this is display text). */
        GString *s = g_string_sized_new (64);
        for (guint k = 0; k < 16; k++)
          g_string_append_printf (s, "%s%X.%X", k ? "." : "", vars->ip[k] >> 4, vars->ip[k] & 0xfu);
        return g_string_free (s, FALSE);
      }
    default:
      return NULL;
    }
}

/* RFC 7208 section 7.3: split @value on @delims (default "."), reverse with @reverse, keep
 * the right-most @keep parts (0: all), join with ".". Transfer full. */
static char *
transform (const char *value, const char *delims, gsize n_delims, guint keep, gboolean reverse)
{
  g_autoptr (GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);
  const char *start = value;
  for (const char *p = value;; p++)
    {
      gboolean split = *p == '\0' || (n_delims == 0 ? *p == '.' : memchr (delims, *p, n_delims) != NULL);
      if (!split)
        continue;
      g_ptr_array_add (parts, g_strndup (start, (gsize) (p - start)));
      if (*p == '\0')
        break;
      start = p + 1;
    }
  if (reverse)
    for (guint a = 0, b = parts->len - 1; a < b; a++, b--)
      {
        gpointer t = parts->pdata[a];
        parts->pdata[a] = parts->pdata[b];
        parts->pdata[b] = t;
      }
  guint first = keep > 0 && keep < parts->len ? parts->len - keep : 0;
  GString *out = g_string_new (NULL);
  for (guint k = first; k < parts->len; k++)
    {
      if (k > first)
        g_string_append_c (out, '.');
      g_string_append (out, g_ptr_array_index (parts, k));
    }
  return g_string_free (out, FALSE);
}

/* Appends @value URL-escaped (RFC 7208 section 7.3 for upper-case macro letters): octets
 * outside the RFC 3986 unreserved set as %XX with upper-case hex. */
static void
append_url_escaped (GString *out, const char *value)
{
  for (const guchar *p = (const guchar *) value; *p != '\0'; p++)
    {
      if (is_unreserved (*p))
        g_string_append_c (out, (char) *p);
      else
        g_string_append_printf (out, "%%%02X", *p);
    }
}

char *
sw_spf_expand_explanation (const char *text, const SwSpfMacroVars *vars)
{
  g_return_val_if_fail (text != NULL && vars != NULL, NULL);
  g_autoptr (GString) out = g_string_new (NULL);
  for (const char *p = text; *p != '\0';)
    {
      if (out->len > SW_SPF_MAX_EXPANDED_EXPLANATION)
        break;
      if (*p != '%')
        {
          g_string_append_c (out, *p++);
          continue;
        }
      switch (p[1])
        {
        case '%':
          g_string_append_c (out, '%');
          p += 2;
          continue;
        case '_':
          g_string_append_c (out, ' ');
          p += 2;
          continue;
        case '-':
          g_string_append (out, "%20");
          p += 2;
          continue;
        case '{':
          break;
        default:
          return NULL;
        }
      /* "%{" macro-letter transformers *delimiter "}" */
      const char *q = p + 2;
      char letter = *q;
      if (letter == '\0')
        return NULL;
      gboolean url = g_ascii_isupper (letter);
      q++;
      guint keep = 0;
      guint digits = 0;
      while (g_ascii_isdigit (*q))
        {
          if (++digits > 3)
            return NULL;
          keep = keep * 10 + (guint) (*q++ - '0');
        }
      if (digits > 0 && keep == 0)
        return NULL; /* RFC 7208 section 7.3: zero parts is a syntax error */
      gboolean reverse = FALSE;
      if (*q == 'r' || *q == 'R')
        {
          reverse = TRUE;
          q++;
        }
      const char *delims = q;
      while (is_delimiter (*q))
        q++;
      if (*q != '}')
        return NULL;
      g_autofree char *value = macro_value (g_ascii_tolower (letter), vars);
      if (value == NULL)
        return NULL;
      g_autofree char *result = transform (value, delims, (gsize) (q - delims), keep, reverse);
      if (url)
        append_url_escaped (out, result);
      else
        g_string_append (out, result);
      p = q + 1;
    }
  if (out->len > SW_SPF_MAX_EXPANDED_EXPLANATION)
    g_string_truncate (out, SW_SPF_MAX_EXPANDED_EXPLANATION);
  return g_string_free (g_steal_pointer (&out), FALSE);
}
