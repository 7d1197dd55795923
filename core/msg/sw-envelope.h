/* sw-envelope.h: the SMTP envelope (client IP, HELO, MAIL FROM) of a delivered message,
 * reconstructed from the Received: field that the user's provider wrote when the message
 * crossed into it (the boundary hop) and from Return-Path: (DESIGN.md, "Envelope
 * reconstruction").
 *
 * Rules: Received fields are read top-down (at most SW_MAX_RECEIVED_FIELDS). Local hops
 * and hops with no client address are skipped; a field that cannot be read at all stops
 * the walk (its format is unknown, so nothing below it can be trusted). A hop from a
 * private or loopback address, or from a host of the provider (its reverse name; its
 * HELO only when the receiver's format has no reverse-name slot, as Exchange and qmail
 * write), is internal. The first other hop is the boundary. Every hop above the
 * boundary was written by a provider host: the topmost by the final delivery agent, each
 * one below by the client of the hop above it, judged internal. So the provider's
 * domains are learnt automatically from the registrable domains (public suffix list) of
 * the by-hosts walked so far and of @upstream_host; or they are exactly the
 * @provider_hosts patterns when given. @trusted_hops names the boundary by position.
 * An authenticated submission at the boundary has no SPF client: no IP then. The result
 * never holds a private or loopback IP.
 *
 * Known limit: where the receiver records no reverse name (Exchange, Microsoft 365), a
 * sending server that claims a provider host name in its HELO passes for an internal
 * hop; the account's @trusted_hops or @provider_hosts hints then give the right boundary.
 *
 * MAIL FROM is the topmost Return-Path: above the boundary Received (a Return-Path below
 * it was written by the sender); "" for the null sender <>. Else the boundary Received's
 * envelope-from. */
#pragma once
#include "sw-message.h"
G_BEGIN_DECLS

typedef struct {
  const char *const *provider_hosts;  /* NULL-terminated glob patterns of the account's
                                         provider's hosts ("*.mail.example.net"), or NULL */
  int         trusted_hops;           /* >0: the boundary is the Received field at this
                                         position (1 = topmost); <=0: automatic */
  const char *upstream_host;          /* host the proxy fetched from, or NULL */
} SwEnvelopeHints;

typedef struct {
  char     *ip;               SwSource ip_source;         /* NULL if no boundary */
  char     *helo;             SwSource helo_source;
  char     *mail_from;        SwSource mail_from_source;  /* "" for the null sender */
  int       boundary_index;   /* index among Received fields (0 = topmost), -1 if none */
  gint64    boundary_time;    /* timestamp of the boundary Received, -1 if unknown */
  char     *boundary_by;      /* by-host of the boundary Received */
  char     *reason;           /* English: how the boundary was chosen, or why none was */
} SwEnvelope;

/* Reconstructs the envelope of @msg. @hints may be NULL (automatic). Never returns NULL.
 * Transfer full: free with sw_envelope_free(). Thread-safe (the public suffix list is
 * loaded once, on first use). */
SwEnvelope *sw_envelope_reconstruct (SwMessage             *msg,
                                     const SwEnvelopeHints *hints);

/* Frees @envelope and its strings (allocated with g_malloc); NULL is ignored. */
void sw_envelope_free (SwEnvelope *envelope);

/* The registrable domain of @host (public suffix list of the system, libpsl), lower-case
 * A-labels; @host itself when it is a public suffix or has no known suffix; NULL when
 * @host is an address or not a host name. Transfer full. Thread-safe; each thread keeps
 * its last answers (a bounded table) and frees them when it exits. */
char *sw_envelope_registrable_domain (const char *host);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwEnvelope, sw_envelope_free)

G_END_DECLS
