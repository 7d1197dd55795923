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
  const guint8 *buf;   /* the message with every line ending CRLF: the caller's bytes when
                          they already are (no copy: a 50 MB message is not duplicated),
                          else @data */
  gsize len;           /* octets at @buf */
  GByteArray *data;    /* the normalised copy, or NULL when @buf is the caller's bytes */
  GArray *fields;      /* SwDkimField, in order */
  gsize body_offset;   /* first octet of the body in @data (== data->len if none) */
  gboolean over_limit; /* the header block broke SW_MAX_HEADER_BLOCK, _FIELDS or _FIELD:
                          @fields holds the fields before that point and, after it,
                          only the DKIM-Signature fields (not verified then) */
} SwDkimMessage;

/* Normalises line endings (a bare LF becomes CRLF; CR and NUL are kept) and splits the
 * header block into fields. Never fails. @raw must outlive @msg (it is used in place when
 * it needs no normalisation). Free with sw_dkim_message_clear(). */
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

/* ---- sw-dkim-body.c: body canonicalisation and body hash ---- */

typedef enum
{
  SW_DKIM_CANON_SIMPLE = 0,
  SW_DKIM_CANON_RELAXED,
} SwDkimCanon;

typedef enum
{
  SW_DKIM_HASH_SHA1 = 0,
  SW_DKIM_HASH_SHA256,
} SwDkimHash;

typedef struct
{
  guint8 digest[32];
  gsize digest_len;
  guint64 canon_len; /* octets of the whole canonical body */
  guint64 hashed;    /* octets hashed: canon_len, or l= if that is smaller */
} SwDkimBodyHash;

/* The canonical form of @body (@len octets, the message's body after the empty line, as
 * sw_dkim_message_init() left it), exactly as libopendkim 2.11 with FIXCRLF computes it
 * (see sw-dkim-body.c). Never fails. Transfer full. Thread-safe. */
GByteArray *sw_dkim_body_canonicalize (const guint8 *body, gsize len, SwDkimCanon canon);

/* The @hash of the first @limit octets (-1: all) of the canonical form of @body, into
 * @out. FALSE only if OpenSSL fails. Thread-safe. */
gboolean sw_dkim_body_hash (const guint8 *body, gsize len, SwDkimCanon canon, SwDkimHash hash, gint64 limit,
                            SwDkimBodyHash *out);

/* ---- sw-dkim.c: testing hooks ---- */

/* TRUE: let libopendkim canonicalise and hash the body itself (the slow path, used
 * otherwise only for signatures our own body hash cannot stand in for), so that tests can
 * compare both paths. Set before the verifier is shared. */
void sw_dkim_verifier_set_library_body (SwDkimVerifier *v, gboolean library_body);

G_END_DECLS
