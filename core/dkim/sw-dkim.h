/* sw-dkim.h: DKIM (RFC 6376) verification of every DKIM-Signature of a message.
 *
 * Two engines, one set of verdicts. Plain signatures (the tags, header fields and key
 * record read exactly as libopendkim reads them) are checked by core/dkim itself: its own
 * tag and key-record parsing, header canonicalisation and hash, body hash, and an RSA or
 * Ed25519 check with public keys decoded once per distinct key text and kept in the
 * verifier. Everything else (syntax errors, old drafts, unusual tags or records) goes to
 * libopendkim, the reference engine, with its DNS hooks backed by the same SwResolver.
 * Both produce the same facts for one judge, so a message gets the same results whichever
 * engine checked it (tests/core/test-dkim-fast.c compares them field by field). Key
 * records are looked up for every message (the resolver's cache makes that cheap), so a
 * rotated or revoked key takes effect at once; the key cache maps key text to decoded key,
 * never a name to a key. No libopendkim type or code leaves core/dkim. On top of RFC 6376
 * the verifier applies
 * RFC 8301 (rsa-sha1 signatures and RSA keys under SW_DKIM_MIN_KEY_BITS are not valid)
 * and RFC 8463 (ed25519-sha256). It judges t= and x= itself against the time the message
 * was received (a parameter), not against the clock: mail verified days after delivery
 * does not fail because its x= passed meanwhile.
 *
 * Result words (one per signature, RFC 8601 section 2.7.1):
 *   PASS       the signature verified, with an acceptable algorithm and key size
 *   FAIL       it did not verify ("signature did not verify", "body hash mismatch"), or
 *              it verified but is not acceptable ("rsa-sha1 is not accepted", "key too
 *              small (512 bits)", "signature expired (x=...)", "signature timestamp in
 *              the future (t=...)", "body shorter than l=")
 *   PERMERROR  it cannot be verified and trying again will not help: syntax errors in
 *              the signature ("signature syntax: ..."), no key ("no key (NXDOMAIN)",
 *              "no key (no TXT record)"), a key record that is invalid, revoked
 *              ("key revoked") or does not apply to this signature
 *   TEMPERROR  the key could not be fetched ("DNS timeout fetching key", "DNS failure
 *              fetching key (SERVFAIL)")
 *   NEUTRAL    the library did not process the signature at all (a message whose header
 *              it refused: "message not processed: ...")
 *
 * A verdict is not an error: GError is set only when verification could not run at all. */
#pragma once
#include "sw-types.h"
#include "sw-resolver.h"
G_BEGIN_DECLS

/* The outcome of one DKIM-Signature field. Every string is owned by the struct, is valid
 * UTF-8 and has been sanitised (no control characters). */
typedef struct
{
  SwAuthResult result;          /* PASS FAIL NEUTRAL TEMPERROR PERMERROR (see above) */
  char *domain;                 /* d= (A-label, lower case), NULL if missing */
  char *selector;               /* s=, NULL if missing */
  char *identity;               /* i= or NULL */
  char *algorithm;              /* "rsa-sha256", "rsa-sha1", "ed25519-sha256", or the a= text
                                   of an unknown algorithm; NULL if missing */
  guint key_bits;               /* size of the public key; 0 if no key was loaded */
  gboolean body_length_limited; /* l= present: content may have been appended */
  gint64 body_length;           /* l= value or -1 */
  gint64 signed_at;             /* t= or -1 */
  gint64 expires_at;            /* x= or -1 */
  char *header_b;               /* first 8 characters of b= (RFC 6008 header.b), NULL if no b= */
  SwDnssecState dnssec;         /* DNSSEC state of the key's DNS answer (UNKNOWN if none) */
  gboolean testing;             /* the key record says t=y: the domain is testing DKIM
                                   (RFC 6376 3.6.1); the result is not changed by it */
  char *reason;                 /* one short English phrase; never NULL ("signature verified"
                                   on pass) */
} SwDkimSignature;

/* Frees @sig and its strings. NULL is allowed. */
void sw_dkim_signature_free (SwDkimSignature *sig);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwDkimSignature, sw_dkim_signature_free)

typedef struct
{
  GPtrArray *signatures; /* SwDkimSignature*, in header order (top first); never NULL.
                            At most SW_DKIM_MAX_SIGNATURES entries. */
  guint n_not_verified;  /* DKIM-Signature fields beyond SW_DKIM_MAX_SIGNATURES that
                            were neither verified nor reported */
} SwDkimResults;

/* An empty result set (no signatures). Transfer full. Thread-safe. */
SwDkimResults *sw_dkim_results_new (void);
/* Frees @r, its array and every signature. NULL is allowed. */
void sw_dkim_results_free (SwDkimResults *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwDkimResults, sw_dkim_results_free)

/* Policy knobs. The defaults (sw_dkim_verifier_new()) are RFC 8301's. */
typedef struct
{
  guint min_rsa_bits;       /* RSA keys below this many bits fail ("key too small");
                               0: SW_DKIM_MIN_KEY_BITS */
  gboolean accept_rsa_sha1; /* TRUE: rsa-sha1 signatures may pass (RFC 6376 without
                               RFC 8301; for comparing with older verifiers only) */
} SwDkimOptions;

typedef struct _SwDkimVerifier SwDkimVerifier;

/* A verifier that looks keys up through @resolver (a reference is taken), with the
 * RFC 8301 policy. Fails (GError) only when libopendkim cannot be set up. Transfer full.
 * The verifier is thread-safe: any number of threads may call sw_dkim_verify() on it. It
 * owns a cache of decoded public keys (at most 1,024, emptied when full) shared by those
 * threads under one mutex held only for the look-up, and freed with the verifier. */
SwDkimVerifier *sw_dkim_verifier_new (SwResolver *resolver, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Like sw_dkim_verifier_new() with @options (NULL: the defaults); @options is copied. */
SwDkimVerifier *sw_dkim_verifier_new_full (SwResolver *resolver, const SwDkimOptions *options,
                                           GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Frees @v and drops its resolver reference. No verification may be running. NULL ok. */
void sw_dkim_verifier_free (SwDkimVerifier *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwDkimVerifier, sw_dkim_verifier_free)

/* Verifies every DKIM-Signature (up to SW_DKIM_MAX_SIGNATURES, the topmost ones) of the
 * raw message @message (as received: CRLF or LF line endings, possibly with NULs; POP3
 * dot-stuffing already removed). @verify_time is the Unix time t= and x= are judged
 * against (the time of the boundary Received: field, not now); <= 0 means now.
 * On TRUE, @results_out holds the results (transfer full; zero signatures when the
 * message has no DKIM-Signature). FALSE with @error only when verification could not
 * run at all (message larger than SW_MAX_MESSAGE_IN_MEMORY, libopendkim out of memory).
 * Thread-safe. Blocks for at most one resolver timeout per signature. */
gboolean sw_dkim_verify (SwDkimVerifier *v, GBytes *message, gint64 verify_time, SwDkimResults **results_out,
                         GError **error) G_GNUC_WARN_UNUSED_RESULT;

#define SW_DKIM_ERROR (sw_dkim_error_quark ())
GQuark sw_dkim_error_quark (void);
typedef enum
{
  SW_DKIM_ERROR_SETUP = 1,     /* libopendkim could not be initialised */
  SW_DKIM_ERROR_TOO_LARGE = 2, /* the message exceeds SW_MAX_MESSAGE_IN_MEMORY */
  SW_DKIM_ERROR_INTERNAL = 3,  /* libopendkim failed (out of memory, internal error) */
  SW_DKIM_ERROR_NEEDS_BODY = 4, /* sw_dkim_verify_prehashed(): a signature can only be
                                   judged with the whole message (sw_dkim_verify()) */
} SwDkimError;

G_END_DECLS
