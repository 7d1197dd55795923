/* sw-verifier.h: one raw message in, one verdict with its evidence out.
 *
 * The verifier ties the modules together: it parses the message (sw-message), finds the
 * author domain(s) (sw-from), reconstructs the SMTP envelope (sw-envelope), runs SPF
 * (sw-spf), DKIM (sw-dkim) and DMARC (sw-dmarc), reads trusted providers'
 * Authentication-Results (sw-authres), and derives the verdict of DESIGN.md with a
 * plain-language explanation (sw-explain).
 *
 * A verifier is immutable after creation and thread-safe: worker threads share one. */
#pragma once
#include "sw-types.h"
#include "sw-resolver.h"
#include "sw-envelope.h"
#include "sw-from.h"
#include "sw-spf.h"
#include "sw-dkim.h"
#include "sw-dmarc.h"
#include "sw-authres.h"
G_BEGIN_DECLS

typedef struct {
  SwResolver        *resolver;              /* required; the verifier takes a reference */
  SwDmarcMode        dmarc_mode;            /* SW_DMARC_MODE_RFC9989 by default */
  const char        *authserv_id;           /* ours; NULL: "spoofwatch" (CLI) */
  SwEnvelopeHints    hints;                 /* copied */
  const char *const *trusted_authserv_ids;  /* providers whose A-R we record; NULL-terminated or NULL */
} SwVerifierConfig;

/* A known SMTP envelope, replacing the reconstructed one (an MTA filter knows it). */
typedef struct {
  const char *ip;         /* NULL: reconstruct */
  const char *helo;
  const char *mail_from;  /* "" is the null sender */
} SwKnownEnvelope;

/* A trusted provider's result, recorded beside ours. */
typedef struct {
  char         *authserv_id;
  char         *method;     /* "spf", "dkim", "dmarc" */
  SwAuthResult  result;
  char         *detail;     /* e.g. "smtp.mailfrom=example.com" */
} SwProviderResult;

typedef struct {
  SwVerdict       verdict;
  char           *explanation;      /* one English sentence (DESIGN.md) */
  char           *from_domain;      /* the deciding author domain (A-label), NULL if none */
  char           *from_domain_display; /* U-label form for display */
  char           *org_domain;
  char           *message_id;       /* sanitised, NULL if none */
  char           *subject;          /* RFC 2047-decoded, sanitised, NULL if none */
  char           *from_header;      /* the From: value, decoded, sanitised */
  char           *list_id;          /* List-Id: value, sanitised, NULL if none (mailing lists) */
  SwFrom         *from;
  SwEnvelope     *envelope;         /* with given values when a known envelope was used */
  SwSpfResult    *spf;              /* MAIL FROM identity; never NULL */
  SwSpfResult    *spf_helo;         /* HELO identity; NULL if not evaluated */
  SwDkimResults  *dkim;             /* never NULL */
  SwDmarcResult  *dmarc;            /* the deciding author domain's; NULL when no author domain */
  GPtrArray      *dmarc_all;        /* SwDmarcResult*, one per distinct author domain */
  GPtrArray      *provider_results; /* SwProviderResult* */
  char           *error;            /* why verification stopped, for temperror/permerror from a fault */
  gint64          verified_at;      /* Unix time */
} SwVerifyResult;
void sw_verify_result_free (SwVerifyResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwVerifyResult, sw_verify_result_free)

typedef struct _SwVerifier SwVerifier;

/* Creates a verifier. FALSE/NULL + GError when a library cannot be initialised.
 * Transfer full. */
SwVerifier *sw_verifier_new (const SwVerifierConfig *config, GError **error) G_GNUC_WARN_UNUSED_RESULT;
void        sw_verifier_free (SwVerifier *verifier);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwVerifier, sw_verifier_free)

/* The authserv-id this verifier writes. Transfer none. */
const char *sw_verifier_get_authserv_id (SwVerifier *verifier);

/* What sw-prefetch.c needs to ask the same DNS questions as sw_verifier_verify().
 * The resolver (transfer none, valid while @verifier lives), the DMARC mode, and the
 * envelope hints (@hints_out's pointers are borrowed from @verifier). Thread-safe. */
SwResolver *sw_verifier_get_resolver (SwVerifier *verifier);
SwDmarcMode sw_verifier_get_dmarc_mode (SwVerifier *verifier);
void        sw_verifier_get_envelope_hints (SwVerifier *verifier, SwEnvelopeHints *hints_out);

/* Verifies @message (raw bytes as the client receives them). @known may be NULL.
 * Always produces a result for any input (bad input is a verdict: permerror); returns
 * FALSE + GError only when verification could not run at all (then callers deliver the
 * message unchanged with a temperror header: see sw_verify_result_new_error()).
 * Thread-safe. */
gboolean sw_verifier_verify (SwVerifier            *verifier,
                             GBytes                *message,
                             const SwKnownEnvelope *known,
                             SwVerifyResult       **result_out,
                             GError               **error) G_GNUC_WARN_UNUSED_RESULT;

/* sw_verifier_verify() for a message of which only the header block is kept: @header_block
 * is the raw header block (up to and including the empty line that ends it), @bodies a
 * finished DKIM body hasher made for that header block and fed the whole body as it
 * arrived (core/dkim/sw-dkim-bodyhash.h). The result is the one sw_verifier_verify()
 * gives for the whole message; the body is never needed in memory. FALSE with
 * SW_VERIFIER_ERROR_NEEDS_BODY when a DKIM signature can only be judged with the whole
 * message (then call sw_verifier_verify()); other errors as sw_verifier_verify().
 * Thread-safe (@bodies is only read). */
typedef struct _SwDkimBodyHasher SwDkimBodyHasher;
gboolean sw_verifier_verify_prehashed (SwVerifier             *verifier,
                                       GBytes                 *header_block,
                                       const SwDkimBodyHasher *bodies,
                                       const SwKnownEnvelope  *known,
                                       SwVerifyResult        **result_out,
                                       GError                **error) G_GNUC_WARN_UNUSED_RESULT;

/* A result for a message whose verification failed: verdict @verdict (TEMPERROR or
 * PERMERROR) and @reason. Transfer full. */
SwVerifyResult *sw_verify_result_new_error (SwVerdict verdict, const char *reason);

#define SW_VERIFIER_ERROR (sw_verifier_error_quark ())
GQuark sw_verifier_error_quark (void);
typedef enum {
  SW_VERIFIER_ERROR_SETUP = 1,
  SW_VERIFIER_ERROR_TOO_BIG = 2,
  SW_VERIFIER_ERROR_NEEDS_BODY = 3, /* sw_verifier_verify_prehashed() only */
} SwVerifierError;

G_END_DECLS
