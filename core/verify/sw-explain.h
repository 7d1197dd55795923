/* sw-explain.h: the one-sentence, plain-language explanation of a verdict.
 * Thread-safe; pure functions of the result. */
#pragma once
#include "sw-verifier.h"
G_BEGIN_DECLS

/* The explanation of @result's verdict, for a person who does not know SPF, DKIM or
 * DMARC ("Claims to be from citibank.com, which rejects unauthenticated mail, but was
 * sent from 42.127.236.162, which citibank.com does not list, and carries no DKIM
 * signature."). Transfer full. */
char *sw_explain_verdict (const SwVerifyResult *result);

G_END_DECLS
