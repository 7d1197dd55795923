/* sw-spf.h: SPF (RFC 7208) check_host() for the MAIL FROM and HELO identities.
 *
 * Evaluation uses libspf2 over the shared SwResolver (a private libspf2 DNS layer). That
 * layer enforces the RFC 7208 section 4.6.4 limits libspf2 lacks (void lookups, DNS
 * queries per check) and refuses, before libspf2 parses it, any SPF record or exp= text
 * that breaks the RFC 7208 section 7.1 macro grammar or our length caps (see
 * docs/security.md, "SPF record macros": libspf2 1.2.10 carries CVE-2023-42118).
 *
 * A verdict is not an error: pass, fail, temperror, ... are values of SwSpfResult. GError
 * is set only when the check could not run at all (out of memory in libspf2, a request it
 * refuses to build).
 *
 * Addresses that are loopback, private or otherwise non-public (sw_ip_is_non_public()) are
 * never evaluated: the result is NONE with the reason "not evaluated: ...". Text that is
 * not an IP address gives NONE as well ("not evaluated: ... is not an IP address"): the
 * envelope could not be reconstructed, which is a fact about the message, not a failure
 * of the checker. */
#pragma once
#include "sw-types.h"
#include "sw-resolver.h"
G_BEGIN_DECLS

typedef struct {
  SwAuthResult result;      /* NONE NEUTRAL PASS FAIL SOFTFAIL TEMPERROR PERMERROR */
  char        *identity;    /* "mailfrom" or "helo" */
  char        *domain;      /* the domain whose policy was checked (NULL if none could be) */
  char        *ip;          /* as checked (normalised); the given text if not an address */
  char        *helo;        /* the HELO/EHLO name given, NULL if none */
  char        *mail_from;   /* the MAIL FROM checked ("postmaster@helo" for the HELO identity
                               and for the null sender) */
  char        *record;      /* the SPF record found for @domain, NULL if none */
  char        *reason;      /* one short English phrase ("matched a mechanism: pass",
                               "no SPF record", "default ~all", "too many DNS lookups",
                               "too many void lookups", "DNS timeout for x", "not evaluated:
                               ..."); never NULL */
  char        *explanation; /* exp= text (or our default explanation) on fail, else NULL */
} SwSpfResult;

/* A result with @result NONE, @identity and @reason set and everything else NULL, for
 * callers that decide not to evaluate. Transfer full. Thread-safe. */
SwSpfResult *sw_spf_result_new_none (const char *identity, const char *reason);
/* Frees @r and all its strings. NULL is allowed. */
void         sw_spf_result_free (SwSpfResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwSpfResult, sw_spf_result_free)

/* The explanation given on fail when the domain publishes no (usable) exp=, as an RFC 7208
 * macro string ("%_" is a space): "example.com does not authorize 192.0.2.1 to send mail
 * as user@example.com". %{c} is the address as text for IPv6 too ("2001:db8::1"), where
 * %{i} would be 32 dotted nibbles. */
#define SW_SPF_DEFAULT_EXPLANATION "%{o}%_does%_not%_authorize%_%{c}%_to%_send%_mail%_as%_%{s}"

typedef struct _SwSpfChecker SwSpfChecker;

/* Creates a checker that resolves through @resolver (a reference is taken). Fails only
 * when libspf2 cannot be set up. Transfer full. Creation is not thread-safe with respect
 * to other checkers being created (libspf2's log hooks are process globals, installed
 * once); the returned checker is thread-safe: any number of threads may call the check
 * functions on it at once. */
SwSpfChecker *sw_spf_checker_new (SwResolver *resolver, GError **error) G_GNUC_WARN_UNUSED_RESULT;
/* Frees @checker and drops its resolver reference. No check may be running. NULL ok. */
void          sw_spf_checker_free (SwSpfChecker *checker);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwSpfChecker, sw_spf_checker_free)

/* RFC 7208 section 4.3: a malformed or single-label domain gives "none" without any DNS
 * lookup. Returns the domain check_host() evaluates for @domain (A-label form, lower
 * case, no trailing dot; transfer full), or NULL with a static reason in *@why. The DNS
 * prefetch uses it to ask only what a check asks. Thread-safe. */
char         *sw_spf_checkable_domain (const char *domain, const char **why);

/* Also evaluate non-public addresses (private, documentation ranges, ...). For test
 * suites and lab setups only; loopback addresses are refused even then (libspf2 passes
 * them unconditionally). Call before sharing the checker between threads. */
void          sw_spf_checker_set_evaluate_non_public (SwSpfChecker *checker, gboolean evaluate);

/* check_host() for the MAIL FROM identity (RFC 7208 section 2.4) of a message received
 * from @ip (textual IPv4/IPv6) that said HELO @helo (may be NULL). @mail_from NULL or ""
 * (null sender) checks postmaster@@helo; a MAIL FROM without "@" is treated as
 * postmaster@@mail_from. On TRUE, @result_out holds the result (transfer full). FALSE
 * with @error only when the check could not run. Thread-safe. */
gboolean sw_spf_check_mailfrom (SwSpfChecker *checker,
                                const char   *ip,
                                const char   *helo,
                                const char   *mail_from,
                                SwSpfResult **result_out,
                                GError      **error) G_GNUC_WARN_UNUSED_RESULT;

/* check_host() for the HELO identity alone (RFC 7208 section 2.3): the domain is @helo,
 * the sender postmaster@@helo. A NULL or empty @helo gives NONE ("no HELO name").
 * Ownership and errors as sw_spf_check_mailfrom(). Thread-safe. */
gboolean sw_spf_check_helo (SwSpfChecker *checker,
                            const char   *ip,
                            const char   *helo,
                            SwSpfResult **result_out,
                            GError      **error) G_GNUC_WARN_UNUSED_RESULT;

/* Checks @record (an SPF record, "v=spf1 ...") against the RFC 7208 section 4.6.1/7.1
 * term and macro grammar and our caps (SW_SPF_MAX_RECORD, SW_SPF_MAX_TERM,
 * SW_SPF_MAX_MACROS_PER_TERM). Returns TRUE if it is safe to hand to libspf2; FALSE
 * with a short English phrase in @why_out (transfer full, may be NULL) otherwise.
 * This is the guard the DNS layer applies to every record. Thread-safe. */
gboolean sw_spf_record_is_acceptable (const char *record, char **why_out);

/* The same for an explanation string (the TXT record named by exp=): macro grammar
 * with the c/r/t letters allowed, spaces allowed, and the same caps. Thread-safe. */
gboolean sw_spf_explanation_is_acceptable (const char *text, char **why_out);

#define SW_SPF_ERROR (sw_spf_error_quark ())
GQuark sw_spf_error_quark (void);
typedef enum {
  SW_SPF_ERROR_SETUP = 1,    /* libspf2 could not be initialised */
  SW_SPF_ERROR_REQUEST = 2,  /* libspf2 refused to build or run the request */
} SwSpfError;

G_END_DECLS
