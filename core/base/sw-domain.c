#define G_LOG_DOMAIN "sw-domain"
#include "sw-domain.h"
#include "sw-limits.h"

#include <idn2.h>
#include <string.h>

static gboolean
is_ldh_name (const char *s)
{
  gsize len = strlen (s);
  if (len == 0 || len > SW_MAX_DOMAIN_LENGTH)
    return FALSE;
  gsize label = 0;
  for (const char *p = s; *p; p++)
    {
      char c = *p;
      if (c == '.')
        {
          if (label == 0)
            return FALSE;
          label = 0;
          continue;
        }
      /* Underscore is allowed: _dmarc, _domainkey and SPF targets use it. */
      if (!(g_ascii_isalnum (c) || c == '-' || c == '_'))
        return FALSE;
      if (++label > SW_MAX_LABEL_LENGTH)
        return FALSE;
    }
  return label > 0;
}

char *
sw_domain_to_ascii (const char *name)
{
  if (name == NULL)
    return NULL;
  g_autofree char *copy = g_strstrip (g_strdup (name));
  gsize len = strlen (copy);
  if (len > 0 && copy[len - 1] == '.')
    copy[--len] = '\0';
  if (len == 0 || len > 4 * SW_MAX_DOMAIN_LENGTH)
    return NULL;

  gboolean ascii = TRUE;
  for (const char *p = copy; *p; p++)
    if ((guchar) *p >= 0x80)
      ascii = FALSE;

  char *out = NULL;
  if (ascii)
    out = g_ascii_strdown (copy, -1);
  else
    {
      if (!g_utf8_validate (copy, -1, NULL))
        return NULL;
      char *conv = NULL;
      int rc = idn2_to_ascii_8z (copy, &conv, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
      if (rc != IDN2_OK)
        rc = idn2_to_ascii_8z (copy, &conv, IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
      if (rc != IDN2_OK || conv == NULL)
        {
          idn2_free (conv);
          return NULL;
        }
      out = g_ascii_strdown (conv, -1);
      idn2_free (conv);
    }
  if (!is_ldh_name (out))
    {
      g_free (out);
      return NULL;
    }
  return out;
}

char *
sw_domain_to_display (const char *ascii)
{
  if (ascii == NULL)
    return NULL;
  if (strstr (ascii, "xn--") == NULL && strstr (ascii, "XN--") == NULL)
    return g_strdup (ascii);
  char *conv = NULL;
  if (idn2_to_unicode_8z8z (ascii, &conv, 0) != IDN2_OK || conv == NULL)
    {
      idn2_free (conv);
      return g_strdup (ascii);
    }
  char *out = g_strdup (conv);
  idn2_free (conv);
  return out;
}

gboolean
sw_domain_equal (const char *a, const char *b)
{
  if (a == NULL || b == NULL)
    return FALSE;
  return g_ascii_strcasecmp (a, b) == 0;
}

gboolean
sw_domain_is_within (const char *child, const char *parent)
{
  if (child == NULL || parent == NULL)
    return FALSE;
  gsize lc = strlen (child), lp = strlen (parent);
  if (lc < lp)
    return FALSE;
  if (g_ascii_strcasecmp (child + lc - lp, parent) != 0)
    return FALSE;
  return lc == lp || child[lc - lp - 1] == '.';
}

guint
sw_domain_count_labels (const char *ascii)
{
  if (ascii == NULL || *ascii == '\0')
    return 0;
  guint n = 1;
  for (const char *p = ascii; *p; p++)
    if (*p == '.')
      n++;
  return n;
}

char *
sw_domain_last_labels (const char *ascii, guint n)
{
  g_return_val_if_fail (ascii != NULL, NULL);
  guint total = sw_domain_count_labels (ascii);
  if (n >= total)
    return g_strdup (ascii);
  const char *p = ascii;
  for (guint skip = total - n; skip > 0; skip--)
    p = strchr (p, '.') + 1;
  return g_strdup (p);
}
