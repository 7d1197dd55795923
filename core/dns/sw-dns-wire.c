#define G_LOG_DOMAIN "sw-dns"
/* sw-dns-wire.c: DNS names in text and wire form, TTL text, and the response packet
 * written by sw_dns_answer_to_wire(). */
#include "sw-dns-private.h"
#include "sw-limits.h"

#include <string.h>

char *
sw_dns_name_normalize (const char *name, GError **error)
{
  g_return_val_if_fail (name != NULL, NULL);
  gsize len = strlen (name);
  if (len > 0 && name[len - 1] == '.')
    len--;
  g_autofree char *safe = NULL;
  const char *why = NULL;
  if (len == 0)
    why = "empty name";
  else if (len > SW_MAX_DOMAIN_LENGTH)
    why = "name longer than 253 octets";
  else
    {
      gsize label = 0;
      for (gsize i = 0; i < len && why == NULL; i++)
        {
          guchar c = (guchar) name[i];
          if (c == '.')
            {
              if (label == 0)
                why = "empty label";
              label = 0;
            }
          else if (c <= 0x20 || c >= 0x7f)
            why = "space, control or non-ASCII octet (A-label form expected)";
          else if (c == '\\')
            why = "backslash in name";
          else if (++label > SW_MAX_LABEL_LENGTH)
            why = "label longer than 63 octets";
        }
      if (why == NULL && label == 0)
        why = "empty label";
    }
  if (why != NULL)
    {
      safe = g_strescape (name, NULL);
      if (strlen (safe) > 80)
        safe[80] = '\0';
      g_set_error (error, SW_RESOLVER_ERROR, SW_RESOLVER_ERROR_INVALID_NAME, "invalid DNS name \"%s\": %s",
                   safe, why);
      return NULL;
    }
  return g_ascii_strdown (name, (gssize) len);
}

gsize
sw_dns_name_to_wire (const char *name, guint8 *out)
{
  gsize pos = 0;
  const char *p = name;
  while (*p != '\0')
    {
      const char *dot = strchr (p, '.');
      gsize n = dot ? (gsize) (dot - p) : strlen (p);
      if (n == 0 || n > SW_MAX_LABEL_LENGTH || pos + 1 + n + 1 > SW_DNS_MAX_WIRE_NAME)
        return 0;
      out[pos++] = (guint8) n;
      memcpy (out + pos, p, n);
      pos += n;
      p += n;
      if (*p == '.')
        {
          p++;
          if (*p == '\0')
            break; /* trailing dot */
        }
    }
  out[pos++] = 0;
  return pos;
}

char *
sw_dns_name_from_wire (const guint8 *wire, gsize len, gsize *consumed_out)
{
  g_autoptr (GString) text = g_string_new (NULL);
  gsize pos = 0;
  for (;;)
    {
      if (pos >= len || pos >= SW_DNS_MAX_WIRE_NAME)
        return NULL;
      guint n = wire[pos++];
      if (n == 0)
        break;
      if (n > SW_MAX_LABEL_LENGTH) /* compression pointer or extended label type */
        return NULL;
      if (n > len - pos || pos + n >= SW_DNS_MAX_WIRE_NAME)
        return NULL;
      if (text->len > 0)
        g_string_append_c (text, '.');
      for (guint i = 0; i < n; i++)
        {
          guchar c = wire[pos + i];
          if (c <= 0x20 || c >= 0x7f || c == '.' || c == '\\')
            g_string_append_printf (text, "\\%03u", c);
          else
            g_string_append_c (text, (char) c);
        }
      pos += n;
    }
  if (consumed_out != NULL)
    *consumed_out = pos;
  return g_string_free (g_steal_pointer (&text), FALSE);
}

gboolean
sw_dns_parse_ttl (const char *text, guint32 *out)
{
  guint64 total = 0;
  const char *p = text;
  if (*p == '\0')
    return FALSE;
  while (*p != '\0')
    {
      if (!g_ascii_isdigit (*p))
        return FALSE;
      guint64 value = 0;
      while (g_ascii_isdigit (*p))
        {
          value = value * 10 + (guint64) (*p - '0');
          if (value > G_MAXINT32)
            return FALSE;
          p++;
        }
      guint64 unit = 1;
      switch (g_ascii_tolower (*p))
        {
        case '\0':
          break;
        case 's':
          p++;
          break;
        case 'm':
          unit = 60, p++;
          break;
        case 'h':
          unit = 3600, p++;
          break;
        case 'd':
          unit = 86400, p++;
          break;
        case 'w':
          unit = 604800, p++;
          break;
        default:
          return FALSE;
        }
      total += value * unit;
      if (total > G_MAXINT32) /* RFC 2181 section 8 */
        return FALSE;
    }
  *out = (guint32) total;
  return TRUE;
}

typedef struct {
  guint8 *buf;
  gsize   size;
  gsize   pos;
} WireWriter;

static gboolean
put (WireWriter *w, const void *data, gsize n)
{
  if (n > w->size - w->pos)
    return FALSE;
  memcpy (w->buf + w->pos, data, n);
  w->pos += n;
  return TRUE;
}

static gboolean
put16 (WireWriter *w, guint v)
{
  guint8 b[2] = { (guint8) (v >> 8), (guint8) v };
  return put (w, b, 2);
}

static gboolean
put32 (WireWriter *w, guint32 v)
{
  guint8 b[4] = { (guint8) (v >> 24), (guint8) (v >> 16), (guint8) (v >> 8), (guint8) v };
  return put (w, b, 4);
}

gboolean
sw_dns_answer_to_wire (const SwDnsAnswer *answer,
                       guint16            id,
                       guint8            *buf,
                       gsize              buflen,
                       gsize             *len_out)
{
  g_return_val_if_fail (answer != NULL, FALSE);
  g_return_val_if_fail (buf != NULL || buflen == 0, FALSE);

  guint8 qname[SW_DNS_MAX_WIRE_NAME];
  gsize qname_len = sw_dns_name_to_wire (answer->qname ? answer->qname : "", qname);
  if (qname_len == 0)
    return FALSE;

  guint rcode;
  switch (answer->status)
    {
    case SW_DNS_STATUS_OK:
    case SW_DNS_STATUS_NODATA:
      rcode = 0;
      break;
    case SW_DNS_STATUS_NXDOMAIN:
      rcode = 3;
      break;
    default:
      rcode = 2;
      break;
    }
  guint ancount = answer->rdata ? answer->rdata->len : 0;
  WireWriter w = { buf, buflen, 0 };
  /* Header: QR=1 opcode=0 AA=0 TC=0 RD=1 | RA=1 Z=0 rcode. */
  gboolean ok = put16 (&w, id) && put16 (&w, 0x8180u | rcode) && put16 (&w, 1) && put16 (&w, ancount)
                && put16 (&w, 0) && put16 (&w, 0) && put (&w, qname, qname_len) && put16 (&w, answer->qtype)
                && put16 (&w, 1 /* IN */);
  for (guint i = 0; ok && i < ancount; i++)
    {
      GBytes *rd = g_ptr_array_index (answer->rdata, i);
      gsize rdlen = 0;
      const guint8 *rdp = g_bytes_get_data (rd, &rdlen);
      if (rdlen > G_MAXUINT16)
        return FALSE;
      /* Owner: a compression pointer to the question name at offset 12. */
      ok = put16 (&w, 0xc00cu) && put16 (&w, answer->qtype) && put16 (&w, 1) && put32 (&w, answer->ttl)
           && put16 (&w, (guint) rdlen) && put (&w, rdp, rdlen);
    }
  if (!ok)
    return FALSE;
  if (len_out != NULL)
    *len_out = w.pos;
  return TRUE;
}
