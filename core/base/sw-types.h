/* sw-types.h: typedefs and enums shared by every core module.
 *
 * Values here are stable: they appear in JSON output and in the verdict store, so
 * existing members are never renumbered; new ones are appended before the _COUNT. */
#pragma once
#include <glib.h>
G_BEGIN_DECLS

/* The outcome of one authentication method (SPF, one DKIM signature, DMARC), with the
 * result words of RFC 8601 section 2.7. A result is data, not an error. */
typedef enum {
  SW_AUTH_NONE = 0,
  SW_AUTH_PASS,
  SW_AUTH_FAIL,
  SW_AUTH_SOFTFAIL,
  SW_AUTH_NEUTRAL,
  SW_AUTH_TEMPERROR,
  SW_AUTH_PERMERROR,
  SW_AUTH_POLICY,
  SW_AUTH_COUNT
} SwAuthResult;

/* The one verdict per message shown to the user (DESIGN.md, "Verdicts"). */
typedef enum {
  SW_VERDICT_PASS = 0,
  SW_VERDICT_NONE,
  SW_VERDICT_FAIL_NONE,
  SW_VERDICT_QUARANTINE,
  SW_VERDICT_REJECT,
  SW_VERDICT_TEMPERROR,
  SW_VERDICT_PERMERROR,
  SW_VERDICT_COUNT
} SwVerdict;

/* Where a piece of envelope evidence came from. */
typedef enum {
  SW_SOURCE_NONE = 0,           /* not found */
  SW_SOURCE_RECEIVED_AUTO,      /* boundary Received found by automatic detection */
  SW_SOURCE_RECEIVED_HOSTS,     /* boundary Received found by the account's provider host patterns */
  SW_SOURCE_RECEIVED_HOPS,      /* boundary Received found by the account's trusted hop count */
  SW_SOURCE_RETURN_PATH,        /* Return-Path: written by the final delivery agent */
  SW_SOURCE_RECEIVED_ENVFROM,   /* "envelope-from" of the boundary Received */
  SW_SOURCE_HELO_POSTMASTER,    /* null sender: postmaster@HELO (RFC 7208 section 2.4) */
  SW_SOURCE_TRUSTED_AUTHRES,    /* a trusted provider's Authentication-Results */
  SW_SOURCE_GIVEN,              /* given by the caller (--ip/--helo/--mail-from) */
  SW_SOURCE_COUNT
} SwSource;

/* DNSSEC state of a DNS answer, as far as it was validated. */
typedef enum {
  SW_DNSSEC_UNKNOWN = 0,  /* validation was not enabled */
  SW_DNSSEC_INSECURE,     /* validated: the zone is unsigned */
  SW_DNSSEC_SECURE,       /* validated and signed */
  SW_DNSSEC_BOGUS,        /* validation failed */
  SW_DNSSEC_COUNT
} SwDnssecState;

/* Which DMARC standard discovers policy and the organizational domain. */
typedef enum {
  SW_DMARC_MODE_RFC9989 = 0,  /* DNS tree walk (default) */
  SW_DMARC_MODE_RFC7489,      /* public suffix list */
  SW_DMARC_MODE_COUNT
} SwDmarcMode;

/* Lower-case names: "pass", "fail", ... ("none" for SW_AUTH_NONE). Never NULL. */
const char *sw_auth_result_to_string (SwAuthResult result);
/* Parses an RFC 8601 result word (case-insensitive); FALSE if unknown. */
gboolean    sw_auth_result_from_string (const char *word, SwAuthResult *out);
/* "pass", "none", "fail-none", "quarantine", "reject", "temperror", "permerror". */
const char *sw_verdict_to_string (SwVerdict verdict);
gboolean    sw_verdict_from_string (const char *word, SwVerdict *out);
/* "received-auto", "return-path", ... Never NULL. */
const char *sw_source_to_string (SwSource source);
const char *sw_dnssec_state_to_string (SwDnssecState state);

G_END_DECLS
