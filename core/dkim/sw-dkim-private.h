/* sw-dkim-private.h: internals shared by the files of core/dkim. Not installed, not for
 * other modules. Only the .c files of core/dkim include <opendkim/dkim.h>. */
#pragma once
#include "sw-dkim.h"
G_BEGIN_DECLS

/* ---- sw-dkim-message.c: the raw message, normalised and split ---- */

typedef struct
{
  gsize offset; /* into SwDkimMessage.data */
  gsize len;    /* the whole field ("Name: value", folding kept), without its final CRLF */
} SwDkimField;

typedef struct
{
  GByteArray *data;    /* the message with every line ending made CRLF */
  GArray *fields;      /* SwDkimField, in order */
  gsize body_offset;   /* first octet of the body in @data (== data->len if none) */
  gboolean over_limit; /* the header block broke SW_MAX_HEADER_BLOCK, _FIELDS or _FIELD:
                          @fields holds the fields before that point and, after it,
                          only the DKIM-Signature fields (not verified then) */
} SwDkimMessage;

/* Normalises line endings (a bare LF becomes CRLF; CR and NUL are kept) and splits the
 * header block into fields. Never fails. Free with sw_dkim_message_clear(). */
void sw_dkim_message_init (SwDkimMessage *msg, const guint8 *raw, gsize len);
void sw_dkim_message_clear (SwDkimMessage *msg);

/* TRUE if @field's name is @name (case-insensitive). */
gboolean sw_dkim_field_has_name (const SwDkimMessage *msg, const SwDkimField *field, const char *name);

/* The value of tag @tag in the DKIM tag-list @list (@len octets: RFC 6376 section 3.2),
 * with surrounding white space removed and internal folding white space deleted. NULL if
 * the tag is absent or the list cannot be read up to it. Transfer full. */
char *sw_dkim_tag_list_get (const char *list, gsize len, const char *tag);

/* Parses a t=/x= value: 1 to 12 decimal digits (RFC 6376 section 3.5). */
gboolean sw_dkim_parse_timestamp (const char *text, gint64 *out);

/* ---- sw-dkim-dns.c: libopendkim's DNS hooks over SwResolver ---- */

/* How the key query for one name ended. */
typedef enum
{
  SW_DKIM_DNS_NOT_ASKED = 0,
  SW_DKIM_DNS_ANSWERED, /* a packet was handed to libopendkim (OK, NODATA or NXDOMAIN) */
  SW_DKIM_DNS_NXDOMAIN, /* answered, the name does not exist */
  SW_DKIM_DNS_SERVFAIL,
  SW_DKIM_DNS_TIMEOUT,
  SW_DKIM_DNS_BAD_NAME, /* the resolver refused the name (not a valid host name) */
  SW_DKIM_DNS_LIMIT,    /* SW_MAX_DNS_QUERIES_PER_MESSAGE reached, not asked */
  SW_DKIM_DNS_FAILED,   /* the answer could not be encoded for libopendkim */
} SwDkimDnsOutcome;

/* The query service of one message: records what each query gave. Used by one thread. */
typedef struct _SwDkimDns SwDkimDns;

SwDkimDns *sw_dkim_dns_new (SwResolver *resolver, guint max_queries);
void sw_dkim_dns_free (SwDkimDns *dns);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwDkimDns, sw_dkim_dns_free)

/* Installs @dns as the DNS service of the DKIM_LIB @lib (a `struct dkim_lib *`, opaque
 * here so that this header needs no libopendkim include). @dns must outlive @lib's use. */
gboolean sw_dkim_dns_install (SwDkimDns *dns, void *lib);

/* The outcome of the last query for @qname (case-insensitive, no trailing dot), and the
 * DNSSEC state of its answer. */
SwDkimDnsOutcome sw_dkim_dns_get_outcome (SwDkimDns *dns, const char *qname, SwDnssecState *dnssec_out);

G_END_DECLS
