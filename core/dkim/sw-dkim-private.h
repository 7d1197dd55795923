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
  const guint8 *buf;   /* the message with every line ending CRLF (the body only once
                          @body_normalised): the caller's bytes when they already are (no
                          copy: a 50 MB message is not duplicated), else @data */
  gsize len;           /* octets at @buf */
  GByteArray *data;    /* the normalised copy, or NULL when @buf is the caller's bytes */
  GArray *fields;      /* SwDkimField, in order */
  gsize body_offset;   /* first octet of the body in @buf (== @len if none) */
  gboolean body_normalised; /* the body at @buf has every line ending CRLF too */
  gboolean over_limit; /* the header block broke SW_MAX_HEADER_BLOCK, _FIELDS or _FIELD:
                          @fields holds the fields before that point and, after it,
                          only the DKIM-Signature fields (not verified then) */
} SwDkimMessage;

/* Normalises line endings (a bare LF becomes CRLF; CR and NUL are kept) and splits the
 * header block into fields. Never fails. @raw must outlive @msg (it is used in place when
 * it needs no normalisation). Free with sw_dkim_message_clear(). */
void sw_dkim_message_init (SwDkimMessage *msg, const guint8 *raw, gsize len);

/* The same, but only the header block is normalised: the body at @buf + @body_offset may
 * still have bare LFs (as received) until sw_dkim_message_normalise_body(). For callers
 * that hash the body themselves (sw_dkim_body_hash() reads a bare LF as CRLF), which then
 * never read it twice. */
void sw_dkim_message_init_header (SwDkimMessage *msg, const guint8 *raw, gsize len);

/* Normalises the body of @msg (from sw_dkim_message_init_header()) if that was not done
 * yet; @fields and @body_offset stay valid. */
void sw_dkim_message_normalise_body (SwDkimMessage *msg);

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

/* Asks for the TXT record at @qname as the libopendkim hook does (same budget, same
 * outcome recorded for sw_dkim_dns_get_outcome()); the answer, when one came (ANSWERED
 * or NXDOMAIN), goes to @answer_out (transfer full), else NULL. FAILED when the answer
 * would not fit in the packet libopendkim reads. */
SwDkimDnsOutcome sw_dkim_dns_query_txt (SwDkimDns *dns, const char *qname, SwDnsAnswer **answer_out);

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

/* ---- sw-dkim-check.c: our own reading of a signature and its header hash ---- */

/* The tags of a DKIM-Signature field that sw_dkim_sig_read() found plain. Values are
 * the tag values with all white space removed (as libopendkim keeps them); NULL when the
 * tag is absent. */
typedef struct
{
  char *v, *a, *b, *bh, *c, *d, *h, *i, *l, *q, *s, *t, *x;
  SwDkimCanon header_canon;
  SwDkimCanon body_canon;
  SwDkimHash hash;
  gboolean ed25519;  /* a=ed25519-sha256 (else RSA) */
  gint64 length;     /* l= or -1 */
  guint8 *sig;       /* b= decoded */
  gsize sig_len;
} SwDkimSig;

/* Reads the value of a DKIM-Signature field (@len octets after the colon). TRUE when the
 * signature is plain: a tag list in which libopendkim's reading and RFC 6376's agree (no
 * tag twice, no z=; other unknown tags are ignored unless their name ends in 'b'), v=1, a
 * known algorithm and
 * canonicalisation, d= and s= host names, h= naming From, i= within d=, strict base64 in
 * b= and bh=, t= and x= timestamps with x= after t=, q=dns/txt. FALSE for anything else:
 * such signatures are left to libopendkim (@out is cleared then). Thread-safe. */
gboolean sw_dkim_sig_read (const char *value, gsize len, SwDkimSig *out);
void sw_dkim_sig_clear (SwDkimSig *sig);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SwDkimSig, sw_dkim_sig_clear)

/* One header field as libopendkim keeps it (see sw_dkim_headers_collect()). */
typedef struct
{
  const char *text; /* "Name: value", into the message */
  gsize len;
  gsize name_len;   /* octets of the name, white space before the colon excluded */
  const SwDkimField *field;
} SwDkimHeader;

/* Fills @out (SwDkimHeader) with the header fields of @msg that libopendkim keeps (a field
 * whose name has octets outside 0x20..0x7e or a ';', or that has no colon, is dropped).
 * FALSE when a field holds a NUL or a CR not followed by LF (libopendkim rewrites those)
 * or is longer than libopendkim's buffers: the message is left to it. Thread-safe. */
gboolean sw_dkim_headers_collect (const SwDkimMessage *msg, GArray *out);

/* The header hash of @sig (RFC 6376 section 3.7) over @headers (@n of them), whose entry
 * @sig_index is the signature's own field: the fields named in h= picked bottom-up,
 * canonicalised, then the signature field with the value of b= removed and no final
 * CRLF. Into @digest (32 octets), length in @digest_len. FALSE when h= is longer than
 * libopendkim reads (leave the message to it). Thread-safe. */
gboolean sw_dkim_header_hash (const SwDkimHeader *headers, guint n, guint sig_index, const SwDkimSig *sig,
                              guint8 *digest, gsize *digest_len);

/* Reads the tag list @text (@len octets) into @values (one slot per name of @known, a
 * NULL-terminated list; slots must start NULL; values transfer full, white space removed).
 * FALSE when the list is not plain: octets other than printable ASCII and white space, a
 * tag name other than [a-z0-9][a-z0-9_]* directly followed by '=', an empty element
 * before the last, a tag twice; with @unknown_ok, tags not in @known are skipped (except
 * names ending in 'b', see sw-dkim-check.c), else they make the list not plain. Slots
 * already filled stay filled on FALSE. */
gboolean sw_dkim_tags_read (const char *text, gsize len, const char *const *known, char **values,
                            gboolean unknown_ok);

/* Strict base64 (RFC 4648 alphabet, '=' padding only at the end, length a multiple of
 * four after white space was removed). NULL if @text is not. Transfer full. */
guint8 *sw_dkim_base64_decode (const char *text, gsize *len_out);

/* ---- sw-dkim-key.c: key records and decoded keys ---- */

/* The tags of a key record (RFC 6376 section 3.6.1) read like libopendkim reads them;
 * values with white space removed; NULL if absent. */
typedef struct
{
  char *v, *h, *k, *p, *s, *t;
} SwDkimKeyRecord;

/* Reads key record @text. TRUE when it is a plain tag list (see sw_dkim_sig_read(); unknown
 * tags are ignored, none may appear twice). FALSE: leave it to libopendkim. */
gboolean sw_dkim_key_record_read (const char *text, SwDkimKeyRecord *out);
void sw_dkim_key_record_clear (SwDkimKeyRecord *rec);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SwDkimKeyRecord, sw_dkim_key_record_clear)

typedef struct _SwDkimKey SwDkimKey;

typedef enum
{
  SW_DKIM_KEY_OK = 0,
  SW_DKIM_KEY_UNDECODABLE, /* p= is base64 but not a key of its type (libopendkim: KEYDECODE) */
  SW_DKIM_KEY_NOT_PLAIN,   /* p= is not strict base64 */
} SwDkimKeyStatus;

/* Decoded public keys by the exact text of p= and the key type: never by domain, so that
 * a changed or revoked record is seen at once. Bounded (cleared when @max_entries are
 * held). Thread-safe: one cache is shared by every thread using the verifier. */
typedef struct _SwDkimKeyCache SwDkimKeyCache;

SwDkimKeyCache *sw_dkim_key_cache_new (guint max_entries);
/* No lookup may be running; keys still referenced elsewhere stay valid. NULL ok. */
void sw_dkim_key_cache_free (SwDkimKeyCache *cache);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwDkimKeyCache, sw_dkim_key_cache_free)

/* The key for @p (a p= value) of type Ed25519 (@ed25519) or RSA; decoded and cached on first
 * use. Returns a reference (free with sw_dkim_key_unref()) with @status OK, else NULL.
 * Thread-safe. */
SwDkimKey *sw_dkim_key_cache_get (SwDkimKeyCache *cache, gboolean ed25519, const char *p, SwDkimKeyStatus *status);
void sw_dkim_key_unref (SwDkimKey *key);
/* RSA: 8 * the modulus octets (as libopendkim counts); Ed25519: 0 (libopendkim reports none). */
guint sw_dkim_key_get_bits (const SwDkimKey *key);
/* TRUE if @sig is @key's signature of @digest (RSA PKCS#1 v1.5 with @hash's DigestInfo, or
 * Ed25519 over the digest octets). Thread-safe (the key is only read). */
gboolean sw_dkim_key_verify (const SwDkimKey *key, SwDkimHash hash, const guint8 *digest, gsize digest_len,
                             const guint8 *sig, gsize sig_len);

/* ---- sw-dkim.c: testing hooks ---- */

/* TRUE: let libopendkim canonicalise and hash the body itself (the slow path, used
 * otherwise only for signatures our own body hash cannot stand in for), so that tests can
 * compare both paths. Set before the verifier is shared. */
void sw_dkim_verifier_set_library_body (SwDkimVerifier *v, gboolean library_body);

/* TRUE: every message goes through libopendkim (the reference engine: it parses the
 * signatures, fetches and decodes the keys, hashes the header), never through our own
 * signature check, so that tests can compare both engines. Set before the verifier is
 * shared. */
void sw_dkim_verifier_set_library_only (SwDkimVerifier *v, gboolean library_only);

/* How many messages @v verified without libopendkim (the fast path) so far, so that tests
 * comparing the engines can show the comparison is not vacuous. Thread-safe. */
guint sw_dkim_verifier_get_n_fast (SwDkimVerifier *v);

G_END_DECLS
