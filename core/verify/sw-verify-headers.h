/* sw-verify-headers.h: the header fields Spoofwatch adds to a message, and adding them.
 * Thread-safe; pure functions. */
#pragma once
#include "sw-verifier.h"
G_BEGIN_DECLS

#define SW_VERDICT_HEADER "X-Spoofwatch-Verdict"

/* Our fields for @result: an RFC 8601 "Authentication-Results: @authserv_id; spf=...;
 * dkim=...; dmarc=..." and "X-Spoofwatch-Verdict: <verdict>", each line ending with
 * @eol ("\r\n" or "\n"). Transfer full. */
char *sw_verify_format_headers (const SwVerifyResult *result,
                                const char           *authserv_id,
                                const char           *eol);

/* A copy of @message with every field that claims @authserv_id (Authentication-Results
 * with that authserv-id, any X-Spoofwatch-* field) removed and @result's fields put on
 * top, in the message's own line ending. Nothing else changes. Transfer full. */
GBytes *sw_verify_apply_headers (GBytes               *message,
                                 const SwVerifyResult *result,
                                 const char           *authserv_id);

/* The same with header lines already formatted (e.g. the exact lines stored for a
 * message verified before): @headers goes on top as given. Transfer full. */
GBytes *sw_verify_prepend_headers (GBytes     *message,
                                   const char *headers,
                                   const char *authserv_id);

/* Number of fields of @message that sw_verify_apply_headers() would remove. */
guint sw_verify_count_forged_fields (GBytes *message, const char *authserv_id);

G_END_DECLS
