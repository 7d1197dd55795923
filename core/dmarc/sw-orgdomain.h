/* sw-orgdomain.h: the organizational domain of a domain name.
 *
 * RFC 9989 mode: the DNS tree walk of RFC 9989 section 4.10 and the selection rules of
 * section 4.10.2: query _dmarc.<domain>; then, for a name of more than eight labels, the
 * name shortened to seven labels; then each parent up to and including the top-level
 * domain; stop at a single DMARC record with psd=y or psd=n. At most
 * SW_DMARC_MAX_TREE_WALK queries. Among the names with exactly one DMARC record, from the
 * longest: psd=n makes that name the organizational domain; psd=y (not at the starting
 * name) makes the name one label below it the organizational domain; otherwise the name
 * with the fewest labels is. With no record at all, the domain itself is.
 *
 * RFC 7489 mode: the public suffix list (RFC 7489 section 3.2), no DNS query: the
 * registrable domain, or the domain itself when it is a public suffix. */
#pragma once
#include "sw-types.h"
#include "sw-resolver.h"
G_BEGIN_DECLS

/* Finds the organizational domain of @domain (A-label or U-label, any case) in @mode.
 * On TRUE, @org_domain_out gets it (lower-case A-label, transfer full). Each DNS query
 * made is appended to @lookups_log (may be NULL; char*, e.g.
 * "_dmarc.a.example.com TXT NXDOMAIN"; the array must free its elements with g_free).
 * Returns FALSE and sets @error when @domain is not a domain name
 * (SW_DMARC_ERROR_INVALID_DOMAIN), when a query the answer depends on failed with
 * SERVFAIL or a timeout (SW_DMARC_ERROR_DNS_TEMPORARY), or when the resolver refused a
 * query (SW_DMARC_ERROR_DNS). Thread-safe. */
gboolean sw_orgdomain_lookup (SwResolver  *resolver,
                              SwDmarcMode  mode,
                              const char  *domain,
                              char       **org_domain_out,
                              GPtrArray   *lookups_log,
                              GError     **error) G_GNUC_WARN_UNUSED_RESULT;

/* Registrable domain of @domain (public suffix plus one label) by Debian's public suffix
 * list as installed (libpsl: the newer of its built-in list and
 * /usr/share/publicsuffix/public_suffix_list.dafsa). @domain may be in any case and in
 * U-label or A-label form; the answer is lower case, in the same form (a tail of the
 * input). Returns NULL if @domain is NULL, not a host name (empty label, leading dot) or
 * itself a public suffix. Transfer full. Thread-safe (the list is loaded once). */
char *sw_psl_registrable_domain (const char *domain);

G_END_DECLS
