/* sw-dns-private.h: internals shared by the files of core/dns (not installed, not used by
 * other modules). */
#pragma once
#include "sw-resolver.h"

#include <stdatomic.h>

G_BEGIN_DECLS

/* Longest name in wire form (RFC 1035 section 3.1). */
#define SW_DNS_MAX_WIRE_NAME 255u

typedef struct {
  const char *name; /* "zone", "unbound" */
  /* Answers @qname (normalised: lower case, no trailing dot). Returns a new answer
   * (transfer full) or NULL with @error set. */
  SwDnsAnswer *(*query) (SwResolver *resolver, const char *qname, guint16 qtype, GError **error);
  /* The answer if it needs no waiting (cache, zone data), else NULL. Never blocks. */
  SwDnsAnswer *(*query_now) (SwResolver *resolver, const char *qname, guint16 qtype);
  /* Starts @qname without waiting; @callback runs once, in the backend's thread. NULL when
   * the backend has no thread of its own (sw_resolver_query_async then answers at once). */
  gboolean (*query_async) (SwResolver *resolver, const char *qname, guint16 qtype, SwResolverCallback callback,
                           gpointer user_data, GError **error);
  void (*finalize) (SwResolver *resolver);
} SwResolverClass;

typedef struct _SwDnsCache SwDnsCache;

struct _SwResolver {
  const SwResolverClass *klass;
  gint                   ref_count;   /* g_atomic_int */
  atomic_uint_fast64_t   query_count; /* C11 atomic */
  gboolean               dnssec;
  gpointer               backend;    /* owned by the backend, freed in klass->finalize */
  SwDnsCache            *cache;      /* answer cache used by the backend, or NULL; owned,
                                        freed after klass->finalize */
};

/* Counts one answer in the resolver's query count (query_async backends, per answer). */
void sw_resolver_count_answer (SwResolver *resolver);

/* Allocates a resolver with one reference and @klass (the caller fills backend). */
SwResolver *sw_resolver_alloc (const SwResolverClass *klass);

/* A new answer with status @status, no records, dnssec UNKNOWN. Transfer full. */
SwDnsAnswer *sw_dns_answer_new (const char *qname, guint16 qtype, SwDnsStatus status);

/* Checks a query name in presentation format (A-label form, optional trailing dot; the
 * RFC 1035 section 5.1 escapes "\DDD" and "\X" stand for one label octet) and returns its
 * canonical form, or NULL with SW_RESOLVER_ERROR_INVALID_NAME: empty name or label, label
 * over 63 octets, name over 253 (an escape counts as the one octet it stands for), an
 * unescaped space, control or non-ASCII octet, a malformed escape. Canonical form: no
 * trailing dot, ASCII letters in lower case, octets outside 0x21..0x7e and '.' and '\\'
 * inside a label as \DDD, every other escape resolved (the form sw_dns_name_from_wire()
 * writes): two names are the same DNS name exactly when their canonical forms are equal,
 * and an unescaped '.' always separates labels. Transfer full. */
char *sw_dns_name_normalize (const char *name, GError **error);

/* Encodes a name in presentation format (escapes allowed, e.g. as returned by
 * sw_dns_name_normalize()) as an uncompressed wire name into @out (at least
 * SW_DNS_MAX_WIRE_NAME octets). Returns the length, 0 if the name does not fit or has an
 * empty or overlong label or a malformed escape. "" is the root (one zero octet). */
gsize sw_dns_name_to_wire (const char *name, guint8 *out);

/* Decodes an uncompressed wire name at @wire (at most @len octets) to text without
 * trailing dot ("" for the root); octets outside 0x21..0x7e and '.' and '\\' inside a
 * label become \DDD. *@consumed_out gets the octets used. NULL if malformed (compression
 * pointer, truncated, over 255 octets). Transfer full. */
char *sw_dns_name_from_wire (const guint8 *wire, gsize len, gsize *consumed_out);

/* Fills @answer (qtype set, status SERVFAIL, no rdata on entry) from the DNS response
 * @pkt of @len octets (an answer of libunbound's, read with every bound checked): the
 * rdata of the answer section's records of the question's type and class IN (after any
 * CNAME chain; a name inside MX, NS, CNAME and PTR rdata uncompressed, as libunbound's
 * ub_result gives it; at most SW_MAX_DNS_ANSWER_RRS), their smallest TTL (a TTL with the
 * top bit set counts as 0), NODATA/NXDOMAIN/SERVFAIL from the rcode; *@negative_ttl_out:
 * for an answer without records, min(SOA TTL, SOA minimum) of the authority section
 * (RFC 2308), else 0. FALSE on a malformed packet (@answer's rdata may then be partly
 * filled: the caller clears it). */
gboolean sw_dns_answer_fill_from_packet (SwDnsAnswer *answer, const guint8 *pkt, gsize len,
                                         guint32 *negative_ttl_out);

/* Parses a TTL: seconds or BIND units ("1h30m", "2d", "1w"). */
gboolean sw_dns_parse_ttl (const char *text, guint32 *out);

/* sw-dns-cache.c: the answer cache in front of libunbound. Keyed by (canonical qname,
 * qtype); holds copies of answers until their expiry on the monotonic clock, at most
 * @max_entries of them. All functions are thread-safe (one mutex, held only for the table
 * operations; answers are copied outside it). */
/* A cache of at most @max_entries (> 0) answers. Transfer full. */
SwDnsCache *sw_dns_cache_new (guint max_entries);
/* Frees @cache and its entries; NULL is allowed. Must not race with other calls. */
void sw_dns_cache_free (SwDnsCache *cache);
/* The cached answer for (@qname, @qtype), a new copy for the caller (transfer full; the
 * rdata GBytes are shared), with @ttl the remaining lifetime in seconds, rounded up, for
 * OK answers (0 for negative ones, as from the backend). NULL when there is none or it
 * has expired (an expired entry is dropped). Counts a hit. */
SwDnsAnswer *sw_dns_cache_lookup (SwDnsCache *cache, const char *qname, guint16 qtype);
/* Stores a copy of @answer for @ttl seconds: OK answers for at most a day, NODATA and
 * NXDOMAIN (@ttl: their negative TTL, from the SOA) for at most an hour; a @ttl of 0,
 * SERVFAIL (also DNSSEC bogus) and TIMEOUT are not stored. Replaces an entry with the
 * same key. When the cache is full, expired entries are swept out (at most once a
 * second), then the oldest entries make room. */
void sw_dns_cache_add (SwDnsCache *cache, const SwDnsAnswer *answer, guint32 ttl);
/* Entries in the cache now (expired ones not yet dropped included). */
guint sw_dns_cache_get_size (SwDnsCache *cache);
/* Answers served by sw_dns_cache_lookup() since creation. */
guint64 sw_dns_cache_get_hit_count (SwDnsCache *cache);

/* Zone and unbound backends. */
SwResolver *sw_dns_zone_new (const char *text, gsize len, GError **error);

G_END_DECLS
