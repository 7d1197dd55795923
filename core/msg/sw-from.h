/* sw-from.h: the RFC5322.From author domain(s) that DMARC evaluates.
 *
 * Decisions, after RFC 7489 section 6.6.1 (several author domains: check each, apply the
 * strictest result); the RFC 9989 text on multi-valued From
 * fields could not be read when this was written (not in the reference corpora), so
 * this follows RFC 7489 until checked against it:
 * - no From field, several From fields, a From field with no mailbox (empty, or a group
 *   with no member), text the address parser could not read, a mailbox without a domain
 *   or with an invalid domain: the status says so and the verifier gives permerror;
 *   whatever mailboxes could be read are still listed as evidence;
 * - several mailboxes with the same domain: that domain once in @domains;
 * - mailboxes with different domains: every domain in @domains, in order of appearance
 *   (the verifier evaluates each and keeps the worst result);
 * - more than SW_MAX_FROM_MAILBOXES mailboxes: SW_FROM_UNPARSEABLE (an address past the
 *   cap would otherwise go unchecked).
 * A missing field or several fields decide the status first; otherwise, when several
 * problems occur, the status is the one listed last in SwFromStatus. */
#pragma once
#include "sw-message.h"
G_BEGIN_DECLS

typedef struct {
  char *display_name;  /* UTF-8, RFC 2047 decoded; NULL if none */
  char *local_part;    /* as written (quotes kept); "" if none */
  char *domain;        /* as written (may be a U-label); NULL if the address has no '@' */
  char *domain_ascii;  /* sw_domain_to_ascii (domain): NULL if missing or invalid */
} SwMailbox;

typedef enum {
  SW_FROM_OK = 0,
  SW_FROM_MISSING,          /* no From field */
  SW_FROM_MULTIPLE_FIELDS,  /* more than one From field */
  SW_FROM_EMPTY,            /* a From field with no mailbox (empty, or an empty group) */
  SW_FROM_UNPARSEABLE,      /* not a mailbox-list, or parts of it could not be read */
  SW_FROM_NO_DOMAIN,        /* a mailbox has no domain */
  SW_FROM_INVALID_DOMAIN,   /* a mailbox's domain is not a valid host name */
  SW_FROM_STATUS_COUNT
} SwFromStatus;

typedef struct {
  SwFromStatus  status;
  GPtrArray    *mailboxes;     /* SwMailbox*, at most SW_MAX_FROM_MAILBOXES */
  GPtrArray    *domains;       /* char*: distinct domain_ascii values, order of appearance */
  gboolean      group_syntax;  /* the field used RFC 5322 group syntax */
  char         *reason;        /* English phrase for the evidence; NULL when status is OK */
} SwFrom;

/* Reads the From field(s) of @msg. Never returns NULL. Transfer full: free with
 * sw_from_free(). Thread-safe. */
SwFrom *sw_from_parse (SwMessage *msg);

/* Parses one From field value (as in SwHeaderField.value). Same result as
 * sw_from_parse() on a message with exactly that From field. Transfer full. Thread-safe. */
SwFrom *sw_from_parse_value (const char *value);

/* "ok", "missing", "multiple-fields", "empty", "unparseable", "no-domain",
 * "invalid-domain". Never NULL. */
const char *sw_from_status_to_string (SwFromStatus status);

void sw_mailbox_free (SwMailbox *mailbox);
void sw_from_free (SwFrom *from);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwMailbox, sw_mailbox_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwFrom, sw_from_free)

G_END_DECLS
