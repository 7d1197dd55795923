#define G_LOG_DOMAIN "sw-util"
#include "sw-util.h"
#include "sw-limits.h"

#include <arpa/inet.h>
#include <string.h>

static const char *const auth_result_names[] = {
  [SW_AUTH_NONE] = "none",           [SW_AUTH_PASS] = "pass",
  [SW_AUTH_FAIL] = "fail",           [SW_AUTH_SOFTFAIL] = "softfail",
  [SW_AUTH_NEUTRAL] = "neutral",     [SW_AUTH_TEMPERROR] = "temperror",
  [SW_AUTH_PERMERROR] = "permerror", [SW_AUTH_POLICY] = "policy",
};
G_STATIC_ASSERT (G_N_ELEMENTS (auth_result_names) == SW_AUTH_COUNT);

static const char *const verdict_names[] = {
  [SW_VERDICT_PASS] = "pass",
  [SW_VERDICT_NONE] = "none",
  [SW_VERDICT_FAIL_NONE] = "fail-none",
  [SW_VERDICT_QUARANTINE] = "quarantine",
  [SW_VERDICT_REJECT] = "reject",
  [SW_VERDICT_TEMPERROR] = "temperror",
  [SW_VERDICT_PERMERROR] = "permerror",
};
G_STATIC_ASSERT (G_N_ELEMENTS (verdict_names) == SW_VERDICT_COUNT);

static const char *const source_names[] = {
  [SW_SOURCE_NONE] = "none",
  [SW_SOURCE_RECEIVED_AUTO] = "received-auto",
  [SW_SOURCE_RECEIVED_HOSTS] = "received-provider-hosts",
  [SW_SOURCE_RECEIVED_HOPS] = "received-hop-count",
  [SW_SOURCE_RETURN_PATH] = "return-path",
  [SW_SOURCE_RECEIVED_ENVFROM] = "received-envelope-from",
  [SW_SOURCE_HELO_POSTMASTER] = "helo-postmaster",
  [SW_SOURCE_TRUSTED_AUTHRES] = "trusted-authentication-results",
  [SW_SOURCE_GIVEN] = "given",
};
G_STATIC_ASSERT (G_N_ELEMENTS (source_names) == SW_SOURCE_COUNT);

static const char *const dnssec_names[] = {
  [SW_DNSSEC_UNKNOWN] = "unknown",
  [SW_DNSSEC_INSECURE] = "insecure",
  [SW_DNSSEC_SECURE] = "secure",
  [SW_DNSSEC_BOGUS] = "bogus",
};
G_STATIC_ASSERT (G_N_ELEMENTS (dnssec_names) == SW_DNSSEC_COUNT);

const char *
sw_auth_result_to_string (SwAuthResult result)
{
  if ((guint) result >= SW_AUTH_COUNT)
    return "none";
  return auth_result_names[result];
}

gboolean
sw_auth_result_from_string (const char *word, SwAuthResult *out)
{
  g_return_val_if_fail (out != NULL, FALSE);
  if (word == NULL)
    return FALSE;
  for (guint i = 0; i < SW_AUTH_COUNT; i++)
    if (g_ascii_strcasecmp (word, auth_result_names[i]) == 0)
      {
        *out = (SwAuthResult) i;
        return TRUE;
      }
  /* RFC 7601 spellings still seen in the wild. */
  if (g_ascii_strcasecmp (word, "hardfail") == 0)
    {
      *out = SW_AUTH_FAIL;
      return TRUE;
    }
  return FALSE;
}

const char *
sw_verdict_to_string (SwVerdict verdict)
{
  if ((guint) verdict >= SW_VERDICT_COUNT)
    return "permerror";
  return verdict_names[verdict];
}

gboolean
sw_verdict_from_string (const char *word, SwVerdict *out)
{
  g_return_val_if_fail (out != NULL, FALSE);
  if (word == NULL)
    return FALSE;
  for (guint i = 0; i < SW_VERDICT_COUNT; i++)
    if (g_ascii_strcasecmp (word, verdict_names[i]) == 0)
      {
        *out = (SwVerdict) i;
        return TRUE;
      }
  return FALSE;
}

const char *
sw_source_to_string (SwSource source)
{
  if ((guint) source >= SW_SOURCE_COUNT)
    return "none";
  return source_names[source];
}

const char *
sw_dnssec_state_to_string (SwDnssecState state)
{
  if ((guint) state >= SW_DNSSEC_COUNT)
    return "unknown";
  return dnssec_names[state];
}

char *
sw_sanitize_for_log (const char *text, gssize len, gsize max_chars)
{
  if (text == NULL)
    return g_strdup ("(null)");
  if (len < 0)
    len = (gssize) strlen (text);
  /* printable ASCII within the cap comes back as it is: the common case, without the
   * per-character loop */
  gssize ascii = 0;
  while (ascii < len && (guchar) text[ascii] >= 0x20 && (guchar) text[ascii] < 0x7f)
    ascii++;
  if (ascii == len && (gsize) len <= max_chars)
    return g_strndup (text, (gsize) len);

  GString *out = g_string_sized_new (MIN ((gsize) len, max_chars) + 8);
  const char *p = text;
  const char *end = text + len;
  gsize chars = 0;

  while (p < end)
    {
      if (chars >= max_chars)
        {
          g_string_append (out, "...");
          break;
        }
      gunichar c = g_utf8_get_char_validated (p, end - p);
      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          g_string_append_printf (out, "\\x%02X", (guchar) *p);
          p++;
        }
      else if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0))
        {
          g_string_append_printf (out, "\\x%02X", (guint) c);
          p = g_utf8_next_char (p);
        }
      else
        {
          const char *next = g_utf8_next_char (p);
          g_string_append_len (out, p, next - p);
          p = next;
        }
      chars++;
    }
  return g_string_free (out, FALSE);
}

char *
sw_ip_normalize (const char *text)
{
  if (text == NULL)
    return NULL;
  g_autofree char *t = g_strstrip (g_strdup (text));
  const char *s = t;
  gsize n = strlen (s);
  if (n >= 2 && s[0] == '[' && s[n - 1] == ']')
    {
      t[n - 1] = '\0';
      s = t + 1;
    }
  if (g_ascii_strncasecmp (s, "IPv6:", 5) == 0)
    s += 5;

  struct in_addr a4;
  struct in6_addr a6;
  char buf[INET6_ADDRSTRLEN];
  if (inet_pton (AF_INET, s, &a4) == 1)
    return g_strdup (inet_ntop (AF_INET, &a4, buf, sizeof buf));
  if (inet_pton (AF_INET6, s, &a6) == 1)
    {
      if (IN6_IS_ADDR_V4MAPPED (&a6))
        {
          memcpy (&a4, &a6.s6_addr[12], 4);
          return g_strdup (inet_ntop (AF_INET, &a4, buf, sizeof buf));
        }
      return g_strdup (inet_ntop (AF_INET6, &a6, buf, sizeof buf));
    }
  return NULL;
}

gboolean
sw_ip_is_non_public (const char *ip)
{
  g_autofree char *norm = sw_ip_normalize (ip);
  if (norm == NULL)
    return TRUE;

  struct in_addr a4;
  struct in6_addr a6;
  if (inet_pton (AF_INET, norm, &a4) == 1)
    {
      guint32 v = g_ntohl (a4.s_addr);
      guint8 a = v >> 24, b = (v >> 16) & 0xff, c = (v >> 8) & 0xff;
      if (a == 0 || a == 10 || a == 127)
        return TRUE;
      if (a == 169 && b == 254)
        return TRUE;
      if (a == 172 && (b & 0xf0) == 16)
        return TRUE;
      if (a == 192 && b == 168)
        return TRUE;
      if (a == 100 && (b & 0xc0) == 64) /* RFC 6598 */
        return TRUE;
      if (a == 192 && b == 0 && c == 2) /* RFC 5737 documentation */
        return TRUE;
      if (a == 198 && b == 51 && c == 100)
        return TRUE;
      if (a == 203 && b == 0 && c == 113)
        return TRUE;
      if (a >= 224) /* multicast, reserved, broadcast */
        return TRUE;
      return FALSE;
    }
  if (inet_pton (AF_INET6, norm, &a6) == 1)
    {
      const guint8 *s = a6.s6_addr;
      if (IN6_IS_ADDR_UNSPECIFIED (&a6) || IN6_IS_ADDR_LOOPBACK (&a6))
        return TRUE;
      if ((s[0] & 0xfe) == 0xfc) /* RFC 4193 ULA */
        return TRUE;
      if (s[0] == 0xfe && (s[1] & 0xc0) == 0x80) /* link local */
        return TRUE;
      if (s[0] == 0xff) /* multicast */
        return TRUE;
      if (s[0] == 0x20 && s[1] == 0x01 && s[2] == 0x0d && s[3] == 0xb8) /* 2001:db8::/32 */
        return TRUE;
      return FALSE;
    }
  return TRUE;
}
