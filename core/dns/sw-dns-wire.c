#define G_LOG_DOMAIN "sw-dns"
/* sw-dns-wire.c: DNS names in text and wire form, TTL text, and the response packet
 * written by sw_dns_answer_to_wire(). */
#include "sw-dns-private.h"
#include "sw-limits.h"

#include <string.h>

/* Reads one label octet of presentation-format text at *@p (RFC 1035 section 5.1: a
 * plain printable character, "\X" for the character X, "\DDD" for a decimal octet) and
 * advances *@p. Returns FALSE with @why set on a malformed escape or an unescaped space,
 * control or non-ASCII octet. '.' is not read here (the caller splits labels). */
static gboolean
read_label_octet (const char **p, guint *octet_out, const char **why)
{
  const guchar *s = (const guchar *) *p;
  if (s[0] != '\\')
    {
      if (s[0] <= 0x20 || s[0] >= 0x7f)
        {
          *why = "space, control or non-ASCII octet (A-label form expected; write other octets as \\DDD)";
          return FALSE;
        }
      *octet_out = s[0];
      *p += 1;
      return TRUE;
    }
  if (g_ascii_isdigit (s[1]))
    {
      if (!g_ascii_isdigit (s[2]) || !g_ascii_isdigit (s[3]))
        {
          *why = "bad escape: \\DDD needs three digits";
          return FALSE;
        }
      guint v = (guint) (s[1] - '0') * 100 + (guint) (s[2] - '0') * 10 + (guint) (s[3] - '0');
      if (v > 255)
        {
          *why = "bad escape: \\DDD over 255";
          return FALSE;
        }
      *octet_out = v;
      *p += 4;
      return TRUE;
    }
  if (s[1] < 0x20 || s[1] >= 0x7f)
    {
      *why = "bad escape: backslash at the end or before a control or non-ASCII octet";
      return FALSE;
    }
  *octet_out = s[1];
  *p += 2;
  return TRUE;
}

/* Appends @octet in the canonical form of a label octet: printable ASCII other than '.'
 * and '\\' as itself (letters in lower case), everything else as \DDD. */
static void
append_canonical_octet (GString *out, guint octet)
{
  if (octet <= 0x20 || octet >= 0x7f || octet == '.' || octet == '\\')
    g_string_append_printf (out, "\\%03u", octet);
  else
    g_string_append_c (out, g_ascii_tolower ((char) octet));
}

char *
sw_dns_name_normalize (const char *name, GError **error)
{
  g_return_val_if_fail (name != NULL, NULL);
  g_autoptr (GString) out = g_string_new (NULL);
  const char *why = NULL;
  const char *p = name;
  gsize octets = 0; /* of the dotted name without trailing dot: labels and separators */
  gsize label = 0;
  if (*p == '\0' || strcmp (p, ".") == 0)
    why = "empty name";
  while (why == NULL && *p != '\0')
    {
      if (*p == '.')
        {
          if (label == 0)
            {
              why = "empty label";
              break;
            }
          p++;
          if (*p == '\0')
            break; /* trailing dot */
          g_string_append_c (out, '.');
          octets++;
          label = 0;
          continue;
        }
      guint octet = 0;
      if (!read_label_octet (&p, &octet, &why))
        break;
      if (++label > SW_MAX_LABEL_LENGTH)
        why = "label longer than 63 octets";
      else if (++octets > SW_MAX_DOMAIN_LENGTH)
        why = "name longer than 253 octets";
      else
        append_canonical_octet (out, octet);
    }
  if (why != NULL)
    {
      g_autofree char *safe = g_strescape (name, NULL);
      if (strlen (safe) > 80)
        safe[80] = '\0';
      g_set_error (error, SW_RESOLVER_ERROR, SW_RESOLVER_ERROR_INVALID_NAME, "invalid DNS name \"%s\": %s",
                   safe, why);
      return NULL;
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

gsize
sw_dns_name_to_wire (const char *name, guint8 *out)
{
  gsize pos = 0;
  const char *p = name;
  while (*p != '\0')
    {
      gsize len_at = pos++;
      gsize n = 0;
      while (*p != '\0' && *p != '.')
        {
          guint octet = 0;
          const char *why = NULL;
          if (!read_label_octet (&p, &octet, &why))
            return 0;
          if (++n > SW_MAX_LABEL_LENGTH || pos + 1 >= SW_DNS_MAX_WIRE_NAME)
            return 0;
          out[pos++] = (guint8) octet;
        }
      if (n == 0)
        return 0;
      out[len_at] = (guint8) n;
      if (*p == '.')
        {
          p++;
          if (*p == '\0')
            break; /* trailing dot */
        }
    }
  if (pos + 1 > SW_DNS_MAX_WIRE_NAME)
    return 0;
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

/* ---- reading response packets (the libunbound backend's answers) ---- */

#define WIRE_HEADER_SIZE 12
#define WIRE_TYPE_SOA    6
#define WIRE_CLASS_IN    1
#define WIRE_RCODE_NOERROR  0
#define WIRE_RCODE_NXDOMAIN 3

/* Skips the domain name at @off of @pkt (labels or a compression pointer); the offset
 * after it, or 0 if it runs past @len. */
static gsize
skip_name (const guint8 *pkt, gsize len, gsize off)
{
  for (guint labels = 0; off < len && labels < 128; labels++)
    {
      guint8 c = pkt[off];
      if (c == 0)
        return off + 1;
      if ((c & 0xC0) == 0xC0)
        return off + 2 <= len ? off + 2 : 0;
      if ((c & 0xC0) != 0)
        return 0;
      off += 1u + c;
    }
  return 0;
}

/* Appends the name at @off of @pkt to @out in uncompressed wire form, following
 * compression pointers (at most 64 jumps, at most 255 octets). FALSE if malformed. */
static gboolean
expand_name (const guint8 *pkt, gsize len, gsize off, GByteArray *out)
{
  guint jumps = 0, total = 0;
  while (off < len)
    {
      guint8 c = pkt[off];
      if ((c & 0xC0) == 0xC0)
        {
          if (off + 2 > len || ++jumps > 64)
            return FALSE;
          off = ((gsize)(c & 0x3F) << 8) | pkt[off + 1];
          continue;
        }
      if ((c & 0xC0) != 0 || off + 1 + c > len || (total += 1u + c) > 255)
        return FALSE;
      g_byte_array_append (out, pkt + off, 1u + c);
      if (c == 0)
        return TRUE;
      off += 1u + c;
    }
  return FALSE;
}

/* The rdata of a record at @off (@rdlen octets) of @pkt as libunbound's ub_result gives
 * it: a domain name inside (MX, NS, CNAME, PTR) uncompressed. NULL if malformed. */
static GBytes *
rdata_bytes (const guint8 *pkt, gsize len, gsize off, gsize rdlen, guint type)
{
  gsize name_at;
  switch (type)
    {
    case 15: /* MX: preference, exchange */
      name_at = 2;
      break;
    case 2:  /* NS */
    case 5:  /* CNAME */
    case 12: /* PTR */
      name_at = 0;
      break;
    default:
      return g_bytes_new (pkt + off, rdlen);
    }
  if (rdlen < name_at + 1)
    return NULL;
  GByteArray *out = g_byte_array_sized_new ((guint)rdlen + 16);
  g_byte_array_append (out, pkt + off, (guint)name_at);
  if (!expand_name (pkt, off + rdlen, off + name_at, out))
    {
      g_byte_array_unref (out);
      return NULL;
    }
  return g_byte_array_free_to_bytes (out);
}

static guint
get16 (const guint8 *p)
{
  return ((guint)p[0] << 8) | p[1];
}

static guint32
get32 (const guint8 *p)
{
  return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | p[3];
}

gboolean
sw_dns_answer_fill_from_packet (SwDnsAnswer *answer, const guint8 *pkt, gsize len, guint32 *negative_ttl_out)
{
  *negative_ttl_out = 0;
  if (len < WIRE_HEADER_SIZE)
    return FALSE;
  guint rcode = pkt[3] & 0x0F;
  guint qdcount = get16 (pkt + 4), ancount = get16 (pkt + 6), nscount = get16 (pkt + 8);
  gsize off = WIRE_HEADER_SIZE;
  for (guint i = 0; i < qdcount; i++)
    {
      off = skip_name (pkt, len, off);
      if (off == 0 || off + 4 > len)
        return FALSE;
      off += 4;
    }
  guint32 min_ttl = G_MAXUINT32;
  for (guint i = 0; i < ancount + nscount; i++)
    {
      off = skip_name (pkt, len, off);
      if (off == 0 || off + 10 > len)
        return FALSE;
      guint type = get16 (pkt + off), klass = get16 (pkt + off + 2);
      guint32 ttl = get32 (pkt + off + 4);
      gsize rdlen = get16 (pkt + off + 8);
      off += 10;
      if (off + rdlen > len)
        return FALSE;
      if (ttl > 0x7FFFFFFFu) /* RFC 2181 8: a TTL with the top bit set is zero */
        ttl = 0;
      if (i < ancount && type == answer->qtype && klass == WIRE_CLASS_IN && answer->rdata->len < SW_MAX_DNS_ANSWER_RRS)
        {
          GBytes *rdata = rdata_bytes (pkt, len, off, rdlen, type);
          if (rdata == NULL)
            return FALSE;
          g_ptr_array_add (answer->rdata, rdata);
          min_ttl = MIN (min_ttl, ttl);
        }
      else if (i >= ancount && type == WIRE_TYPE_SOA && klass == WIRE_CLASS_IN && rdlen >= 20)
        *negative_ttl_out = MIN (ttl, get32 (pkt + off + rdlen - 4));
      off += rdlen;
    }
  if (rcode == WIRE_RCODE_NOERROR && answer->rdata->len > 0)
    {
      answer->status = SW_DNS_STATUS_OK;
      answer->ttl = min_ttl;
      *negative_ttl_out = 0;
    }
  else if (rcode == WIRE_RCODE_NOERROR)
    answer->status = SW_DNS_STATUS_NODATA;
  else if (rcode == WIRE_RCODE_NXDOMAIN)
    answer->status = SW_DNS_STATUS_NXDOMAIN;
  else
    answer->status = SW_DNS_STATUS_SERVFAIL;
  if (answer->status != SW_DNS_STATUS_OK)
    g_ptr_array_set_size (answer->rdata, 0);
  return TRUE;
}
