/* sw-resolver.h: the one DNS interface shared by SPF, DKIM and DMARC.
 *
 * Two backends: libunbound (system resolver or a forwarder, cache, optional DNSSEC
 * validation) and a zone file (BIND-style text, offline use and tests; syntax in
 * docs/zone-files.md). A resolver is reference counted and thread-safe: one instance is
 * shared by all worker threads, and its cache with them.
 *
 * The libunbound backend keeps an answer cache of its own in front of libunbound's (whose
 * threaded hand-over costs far more than a hash lookup): OK answers for their TTL, at most
 * a day; NODATA and NXDOMAIN for the negative TTL libunbound reports (the SOA's), at most
 * an hour; a TTL of 0, SERVFAIL (and DNSSEC bogus) and TIMEOUT never. With DNSSEC
 * validation the cached answer is the validated one, with its dnssec state. Each entry
 * expires on the monotonic clock and is dropped when met; the cache holds at most
 * SwResolverOptions.cache_entries answers and, when full, drops expired entries (swept at
 * most once a second), then the oldest. Shared by all threads (one mutex, held only for
 * the table operations). A cached answer is a copy for the caller like any other; for an
 * OK answer, its ttl is the remaining lifetime.
 *
 * DNS trouble is not an error: NXDOMAIN, SERVFAIL and timeouts are statuses in the
 * SwDnsAnswer. GError is set only when the query could not be made at all (invalid name,
 * a backend that failed to start). */
#pragma once
#include "sw-types.h"
G_BEGIN_DECLS

/* Query types used by the product (values are the DNS RR type codes). */
#define SW_DNS_TYPE_A     1
#define SW_DNS_TYPE_NS    2
#define SW_DNS_TYPE_CNAME 5
#define SW_DNS_TYPE_SOA   6
#define SW_DNS_TYPE_PTR   12
#define SW_DNS_TYPE_MX    15
#define SW_DNS_TYPE_TXT   16
#define SW_DNS_TYPE_AAAA  28
#define SW_DNS_TYPE_SPF   99

typedef enum {
  SW_DNS_STATUS_OK = 0,    /* NOERROR with at least one record of the queried type */
  SW_DNS_STATUS_NODATA,    /* NOERROR, the name exists but has no record of this type */
  SW_DNS_STATUS_NXDOMAIN,  /* the name does not exist */
  SW_DNS_STATUS_SERVFAIL,  /* server failure, refused, or DNSSEC bogus */
  SW_DNS_STATUS_TIMEOUT,   /* no answer within the timeout */
  SW_DNS_STATUS_COUNT
} SwDnsStatus;

/* One answer. Owned by the caller of sw_resolver_query(); free with sw_dns_answer_free(). */
typedef struct {
  char          *qname;      /* the name asked for, canonical: lower case, no trailing dot,
                                label octets outside 0x21..0x7e, '.' and '\\' as \DDD */
  guint16        qtype;
  SwDnsStatus    status;
  guint32        ttl;        /* smallest TTL of the records (0 when none) */
  GPtrArray     *rdata;      /* GBytes*, one per answer record of type @qtype, in wire form:
                                TXT = length-prefixed strings; A = 4 octets; AAAA = 16;
                                MX = 2-octet preference + uncompressed name;
                                PTR/NS/CNAME = uncompressed name in wire form.
                                At most SW_MAX_DNS_ANSWER_RRS records. Never NULL. */
  SwDnssecState  dnssec;
  char          *why_bogus;  /* validator's reason when dnssec is BOGUS, else NULL */
} SwDnsAnswer;

/* Frees @answer and everything in it; NULL is allowed. */
void sw_dns_answer_free (SwDnsAnswer *answer);
/* A copy of @answer for another owner (transfer full); the rdata GBytes are shared (they
 * are immutable). Thread-safe. */
SwDnsAnswer *sw_dns_answer_copy (const SwDnsAnswer *answer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwDnsAnswer, sw_dns_answer_free)

/* Text of TXT record @index: its strings concatenated, NUL-terminated (an embedded NUL
 * makes the record invalid: NULL). NULL if @answer is not TXT (or SPF, type 99, which has
 * the same rdata), @index out of range, the rdata is malformed or longer than
 * SW_MAX_DNS_TXT_LENGTH. Transfer full.
 * The answer helpers below only read @answer: thread-safe for concurrent readers. */
char *sw_dns_answer_dup_txt (const SwDnsAnswer *answer, guint index);

/* Host name in record @index of an MX, PTR, NS or CNAME answer, as text without
 * trailing dot ("" for the root, e.g. a null MX); octets outside printable ASCII, '.' and
 * '\\' inside a label are written as \DDD. For MX, @preference_out (may be NULL) gets the
 * preference. NULL for another type, @index out of range or a malformed (e.g. compressed)
 * name. Transfer full. */
char *sw_dns_answer_dup_name (const SwDnsAnswer *answer, guint index, guint16 *preference_out);

/* Textual address of record @index of an A or AAAA answer ("192.0.2.1", "2001:db8::1").
 * NULL for another type, @index out of range or rdata of the wrong size. Transfer full. */
char *sw_dns_answer_dup_address (const SwDnsAnswer *answer, guint index);

/* Writes a complete DNS response packet for @answer (header with @id, QR=1, RD=1, RA=1,
 * rcode from the status, the question, the answer records) into @buf, as libopendkim's
 * DNS hooks need it. SERVFAIL and TIMEOUT become rcode SERVFAIL. Returns FALSE when
 * @buflen is too small. */
gboolean sw_dns_answer_to_wire (const SwDnsAnswer *answer,
                                guint16            id,
                                guint8            *buf,
                                gsize              buflen,
                                gsize             *len_out);

typedef struct _SwResolver SwResolver;

typedef struct {
  const char *forward;            /* "IP", "IP:PORT", "[IPv6]:PORT" of a server to forward to;
                                     NULL: the system's resolvers (/etc/resolv.conf) */
  gboolean    dnssec;             /* validate with @trust_anchor_file */
  const char *trust_anchor_file;  /* NULL: Debian's /usr/share/dns/root.key */
  guint       timeout_ms;         /* per query; 0: SW_DNS_TIMEOUT_MS */
  gint        cache_entries;      /* answer cache bound; 0: SW_DNS_CACHE_DEFAULT_ENTRIES;
                                     negative: no answer cache (libunbound's own cache
                                     still answers, through its worker thread) */
} SwResolverOptions;

/* Default bound of the answer cache (entries). Each entry holds at most
 * SW_MAX_DNS_ANSWER_RRS records. */
#define SW_DNS_CACHE_DEFAULT_ENTRIES 16384

/* A libunbound-backed resolver. Fails (GError SW_RESOLVER_ERROR_SETUP) when libunbound
 * rejects the options, @forward is not an address, or the trust anchor cannot be read.
 * @options may be NULL (all defaults). One libunbound context (and cache) per resolver,
 * shared by all threads; each query waits at most @timeout_ms, then answers TIMEOUT.
 * Localhost may be queried (system resolvers on 127.0.0.53, test servers); with
 * @forward, reverse zones of private ranges are forwarded too. With @dnssec, answers
 * carry SECURE/INSECURE, and a bogus one is SERVFAIL with dnssec BOGUS and @why_bogus.
 * Transfer full. Thread-safe. */
SwResolver *sw_resolver_new_unbound (const SwResolverOptions *options,
                                     GError                 **error) G_GNUC_WARN_UNUSED_RESULT;

/* A resolver answering from zone text (see docs/zone-files.md); names outside the zone
 * data get NXDOMAIN. Fails with SW_RESOLVER_ERROR_ZONE_SYNTAX and the line number of the
 * first syntax error ("line 12: unknown type FOO"; the file variant prefixes the path),
 * or when the text is over SW_MAX_ZONE_FILE_SIZE; the file variant also with
 * SW_RESOLVER_ERROR_IO. Transfer full. The resolver is immutable: thread-safe. */
SwResolver *sw_resolver_new_zone_file (const char *path, GError **error) G_GNUC_WARN_UNUSED_RESULT;
SwResolver *sw_resolver_new_zone_text (const char *text, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Reference counting (atomic, thread-safe). ref returns @resolver; the last unref frees
 * it (NULL is allowed) and must not race with queries on the same reference. */
SwResolver *sw_resolver_ref (SwResolver *resolver);
void        sw_resolver_unref (SwResolver *resolver);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwResolver, sw_resolver_unref)

/* Looks up @name (A-label form, a trailing dot is allowed) with type @qtype. @name is
 * in DNS presentation format (RFC 1035 section 5.1): "\DDD" (decimal, 000-255) and "\X"
 * stand for one label octet, so "a\032b.example" asks for a label holding a space and
 * "a\.b.example" for a label holding a dot; an unescaped '.' separates labels. On TRUE,
 * @answer_out holds the answer (transfer full), whatever its status. FALSE with @error
 * only when the query could not be made: SW_RESOLVER_ERROR_INVALID_NAME for an empty
 * name or label, a label over 63 or a name over 253 octets (an escape counts as one
 * octet), an unescaped space, control or non-ASCII octet, a malformed escape (a lone
 * backslash, "\DDD" over 255 or with fewer than three digits), or qtype 0;
 * SW_RESOLVER_ERROR_SETUP when libunbound cannot start the query. Underscores and other
 * printable ASCII are allowed as they are. Blocks at most the resolver's timeout.
 * Thread-safe. */
gboolean sw_resolver_query (SwResolver   *resolver,
                            const char   *name,
                            guint16       qtype,
                            SwDnsAnswer **answer_out,
                            GError      **error) G_GNUC_WARN_UNUSED_RESULT;

/* sw_resolver_query() only if the answer needs no waiting: from the answer cache
 * (libunbound backend) or the zone data (zone backend). TRUE with *@answer_out the answer
 * (transfer full, counted by sw_resolver_get_query_count) or NULL when it would have to
 * be asked of a server (then call sw_resolver_query); FALSE with @error for a name or type
 * that sw_resolver_query() refuses. Never waits on DNS: cheap enough for a thread that
 * must not block. Thread-safe. */
gboolean sw_resolver_query_now (SwResolver   *resolver,
                                const char   *name,
                                guint16       qtype,
                                SwDnsAnswer **answer_out,
                                GError      **error) G_GNUC_WARN_UNUSED_RESULT;

/* The answer of sw_resolver_query_async() (transfer none: copy what you keep). */
typedef void (*SwResolverCallback) (const SwDnsAnswer *answer, gpointer user_data);

/* sw_resolver_query() without waiting, for many names in flight at once without a thread
 * each (the DNS prefetch). An answer in the cache, or of the zone backend, is given at
 * once: @callback runs before this returns. Otherwise (libunbound) it returns at once and
 * @callback runs later, exactly once, in the resolver's own thread, with the answer
 * (cached as sw_resolver_query's) — or with a TIMEOUT answer if the resolver is freed
 * first; it must be quick and must not free the resolver; it may start other queries,
 * except after a TIMEOUT answer. The resolver's timeout_ms bounds the wait (then TIMEOUT;
 * libunbound may still be trying: its late answer is dropped). FALSE with @error, and no callback, as sw_resolver_query() for
 * a name that cannot be asked. Thread-safe. */
gboolean sw_resolver_query_async (SwResolver        *resolver,
                                  const char        *name,
                                  guint16            qtype,
                                  SwResolverCallback callback,
                                  gpointer           user_data,
                                  GError           **error);
/* TRUE if sw_resolver_query_async() may return before the answer (libunbound backend);
 * FALSE if it always answers before returning (zone backend). Thread-safe. */
gboolean sw_resolver_has_async (SwResolver *resolver);

/* Cache-only mode of the calling thread, for work that must never wait on DNS (the POP3
 * proxy's fast verification lane): between begin and end, every sw_resolver_query() made
 * by this thread, on any resolver, answers like sw_resolver_query_now(), and a name that
 * would have to be asked of a server gets a TIMEOUT answer at once (not cached) and is
 * counted. end returns that count: when it is not 0, what was computed in between rests on
 * made-up timeouts and must be thrown away (and done again in a thread that may wait).
 * Counting mode (begin_counting): queries behave as usual, and end returns how many were
 * not answered from the cache (the zone backend answers everything at once: 0). Per
 * thread; no locking. */
void  sw_resolver_thread_begin_cache_only (void);
void  sw_resolver_thread_begin_counting (void);
guint sw_resolver_thread_end (void);

/* "unbound", "zone". Static string. Thread-safe (as the two below). */
const char *sw_resolver_get_backend_name (SwResolver *resolver);
/* TRUE if answers are DNSSEC-validated. */
gboolean    sw_resolver_get_dnssec (SwResolver *resolver);
/* Total queries answered since creation, from the answer cache or not (for statistics
 * and tests): every sw_resolver_query() that returned TRUE. Thread-safe. */
guint64     sw_resolver_get_query_count (SwResolver *resolver);
/* Queries answered from the answer cache since creation; 0 without a cache (zone backend,
 * cache_entries < 0). Thread-safe. */
guint64     sw_resolver_get_cache_hit_count (SwResolver *resolver);
/* Answers in the answer cache now (expired ones not yet dropped included); 0 without a
 * cache. Thread-safe. */
guint       sw_resolver_get_cache_size (SwResolver *resolver);

/* "ok", "nodata", "nxdomain", "servfail", "timeout"; "unknown" for other values. Static. */
const char *sw_dns_status_to_string (SwDnsStatus status);

#define SW_RESOLVER_ERROR (sw_resolver_error_quark ())
GQuark sw_resolver_error_quark (void);
typedef enum {
  SW_RESOLVER_ERROR_INVALID_NAME = 1,
  SW_RESOLVER_ERROR_SETUP = 2,
  SW_RESOLVER_ERROR_ZONE_SYNTAX = 3,
  SW_RESOLVER_ERROR_IO = 4,
} SwResolverError;

G_END_DECLS
