/* sw-prefetch.h: warming the DNS cache for a message whose body is still arriving.
 *
 * The POP3 proxy holds a message until the terminating dot; its header block arrives
 * first. sw_verifier_prefetch() asks the DNS questions verification will ask first, so
 * that libunbound's cache holds the answers when sw_verifier_verify() runs on the whole
 * message: the SPF record (TXT) of the MAIL FROM domain (of the HELO name for the null
 * sender) and of the HELO name, _dmarc TXT of each author domain and of the names of its
 * tree walk (RFC 9989; in RFC 7489 mode the registrable domain), and the key
 * (s._domainkey.d TXT) of each DKIM-Signature. When an SPF record arrives (the envelope has
 * a client IP), the lookup its evaluation certainly makes next is asked too: the first
 * term that needs DNS when every term before it is an ip4/ip6 of another network
 * (include: and redirect= records, followed the same way up to 3 levels; a and mx
 * addresses; the addresses of the MX hosts) — never a name verification would not ask. The envelope is reconstructed with the
 * verifier's own hints, so the names are the ones verification uses. The answers are
 * dropped; DNS trouble is ignored (verification meets it again and decides). */
#pragma once
#include "sw-verifier.h"
G_BEGIN_DECLS

/* Issues the queries described above through @verifier's resolver, several at once, and
 * returns when all have been answered (or timed out). @header_block is the header block
 * of a message (the body may be absent; at most SW_MAX_HEADER_BLOCK bytes are parsed).
 * At most SW_MAX_DNS_QUERIES_PER_MESSAGE distinct names are queried, DKIM keys for at most
 * SW_DKIM_MAX_SIGNATURES signatures, SW_DMARC_MAX_TREE_WALK names per author domain.
 * Thread-safe: any thread may call it at any time while @verifier lives. */
void sw_verifier_prefetch (SwVerifier *verifier, GBytes *header_block);

/* sw_verifier_prefetch() of @n_blocks header blocks at once: each name is asked once for
 * all of them (several messages from one domain share their questions), all in flight
 * together. Answers already in the resolver's cache are taken (and followed) in the
 * calling thread; the other names are asked with sw_resolver_query_async() (libunbound:
 * all in flight at once, followed in the resolver's thread) or, for a resolver without a
 * thread of its own, each in a thread of a shared pool. Returns when
 * all have been answered, with the number of names that were not in the cache (asked of
 * the DNS server): 0 means the cache was warm for these messages. Thread-safe as above. */
guint sw_verifier_prefetch_many (SwVerifier *verifier, GBytes *const *header_blocks, guint n_blocks);

/* The same without waiting: the cached answers are followed in the calling thread, the
 * other names are handed to the pool, and it returns at once with their number (names
 * found by following their answers later are not counted). Never waits on DNS (only on the
 * resolver's cache lock), so a network thread may call it; it parses the header blocks
 * (about as costly as parsing them for verification). Thread-safe as above. */
guint sw_verifier_prefetch_start (SwVerifier *verifier, GBytes *const *header_blocks, guint n_blocks);

/* The names sw_verifier_prefetch() would query for @header_block, in order, each as
 * "NAME TYPE" (e.g. "_dmarc.example.com TXT"), without querying. Transfer full
 * (char*, freed by the array). Thread-safe. */
GPtrArray *sw_verifier_prefetch_names (SwVerifier *verifier, GBytes *header_block);

G_END_DECLS
