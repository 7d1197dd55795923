/* sw-limits.h: every cap on input that comes from the network, in one place.
 * Each limit has a test that feeds input just over it (tests/core/test-limits.c and the
 * module tests). Exceeding a limit gives a clear result (permerror, a truncation flag),
 * never a crash or unbounded memory. */
#pragma once

/* Message parsing */
#define SW_MAX_MESSAGE_IN_MEMORY   (64u * 1024 * 1024) /* bytes verified in memory (CLI) */
#define SW_MAX_HEADER_BLOCK        (1024u * 1024)      /* bytes of header block parsed */
#define SW_MAX_HEADER_FIELDS       2000u               /* header fields parsed */
#define SW_MAX_HEADER_FIELD        (256u * 1024)       /* bytes in one (folded) field */
#define SW_MAX_FROM_MAILBOXES      32u                 /* addresses taken from From: */
#define SW_MAX_RECEIVED_FIELDS     100u                /* Received: fields examined */
#define SW_MAX_DOMAIN_LENGTH       253u                /* RFC 1035 */
#define SW_MAX_LABEL_LENGTH        63u

/* DNS */
#define SW_DNS_TIMEOUT_MS               5000u  /* one query, default */
#define SW_MAX_DNS_QUERIES_PER_MESSAGE  60u    /* all lookups for one message */
#define SW_MAX_DNS_TXT_LENGTH           8192u  /* bytes of one TXT answer (all strings) */
#define SW_MAX_DNS_ANSWER_RRS           64u    /* answer records kept per query */
#define SW_MAX_ZONE_FILE_SIZE           (16u * 1024 * 1024)

/* SPF (RFC 7208 section 4.6.4) */
#define SW_SPF_MAX_DNS_MECH   10u
#define SW_SPF_MAX_VOID       2u
#define SW_SPF_MAX_MX_PTR     10u
#define SW_SPF_MAX_RECORD     4096u  /* bytes of one SPF record accepted */

/* DKIM */
#define SW_DKIM_MAX_SIGNATURES  8u   /* DKIM-Signature fields verified per message */
#define SW_DKIM_MIN_KEY_BITS    1024u

/* DMARC (RFC 9989 tree walk) */
#define SW_DMARC_MAX_TREE_WALK  8u     /* DNS queries of one tree walk */
#define SW_DMARC_MAX_RECORD     2048u  /* bytes of a DMARC record accepted */

/* Authentication-Results */
#define SW_AUTHRES_MAX_METHODS     64u
#define SW_AUTHRES_MAX_PROPERTIES  64u
#define SW_AUTHRES_MAX_FIELD       (32u * 1024)  /* bytes of one A-R field value parsed */

/* SPF record guard (core/spf, docs/security.md "SPF record macros"): with these caps no
 * term can come near libspf2's 511-byte compiled-term buffer (CVE-2023-42118). */
#define SW_SPF_MAX_TERM             253u  /* bytes of one domain-spec / modifier value */
#define SW_SPF_MAX_MACROS_PER_TERM  16u   /* macro-expands in one term or exp= text */
#define SW_SPF_MAX_EXPLANATION      253u  /* bytes of an exp= explanation text */
#define SW_SPF_MAX_QUERIES          100u  /* DNS queries of one check_host() (safety net) */

/* POP3 proxy (proxy/, docs/pop3-proxy.md) */
#define SW_POP3_MAX_LINE             (8u * 1024)          /* bytes of one command, status or list line */
#define SW_POP3_MAX_RESPONSE_LINES   1000000u             /* lines of one multi-line CAPA/LIST/UIDL response */
#define SW_POP3_MAX_MESSAGE          (256u * 1024 * 1024) /* bytes of one RETR/TOP message held (spooled) */
#define SW_POP3_DEFAULT_MEMORY_LIMIT (1024u * 1024)       /* bytes of one message in memory before spooling */
#define SW_POP3_SIZE_ALLOWANCE       1024u                /* bytes added to each LIST/STAT size for our headers */
#define SW_POP3_MAX_PENDING_COMMANDS 1000u                /* pipelined commands awaiting a response */

/* Verdict store (core/store, docs/store.md "Caps") */
#define SW_STORE_MAX_KEY              1024u          /* bytes of account, uidl, imap_uid: put refused */
#define SW_STORE_MAX_ADDED_HEADERS    (64u * 1024)   /* bytes of our added header lines: put refused */
#define SW_STORE_MAX_EVIDENCE_JSON    (256u * 1024)  /* bytes of evidence JSON: replaced by a stub */
#define SW_STORE_MAX_DISPLAY_FIELD    1024u          /* subject, From:, From domain, Message-ID: truncated */
#define SW_STORE_MAX_EXPLANATION      4096u          /* bytes of the explanation: truncated */
