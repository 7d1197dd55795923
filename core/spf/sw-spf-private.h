/* sw-spf-private.h: internals shared by sw-spf.c, sw-spf-dns.c and sw-spf-record.c.
 * libspf2 types appear only here and in those files. */
#pragma once
#include <netdb.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <spf2/spf.h>
#include <spf2/spf_dns.h>
#include "sw-spf.h"
G_BEGIN_DECLS

/* State of one check_host() call, seen by the DNS layer through a thread-local pointer
 * (libspf2 evaluates synchronously in the calling thread, and its lookup callback gets
 * only the shared layer). Owned by the caller of sw_spf_call_enter(). */
typedef struct {
  char    *top_domain;      /* domain of the check, lower case, no trailing dot */
  char    *record;          /* the single v=spf1 record of @top_domain, NULL if none */
  guint    queries;         /* DNS queries made */
  guint    voids;           /* void lookups (NXDOMAIN / no data) of a, mx, ptr, exists */
  gboolean void_exceeded;   /* more than SW_SPF_MAX_VOID */
  gboolean queries_exceeded;/* more than SW_SPF_MAX_QUERIES */
  gboolean mx_exceeded;     /* an MX answer with more than SW_SPF_MAX_MX_PTR names */
  char    *refused_why;     /* the first record refused by the guard, and why */
  char    *refused_domain;
  char    *dns_failure;     /* "DNS timeout for x" / "DNS failure for x", first one */
  /* Lookup marks (see sw_spf_record_simplify()): the records handed to libspf2 name the
   * mechanism behind each lookup, "<target>.<kind>.<marker>.invalid". */
  gboolean ipv6;            /* the client address is IPv6 (IPv4-mapped ones are IPv4) */
  char    *marker;          /* per-call random label, NULL: records are not marked */
  gboolean top_seen;        /* the TXT lookup of the checked domain has been made */
  guint    mechanisms;      /* DNS mechanisms and modifiers evaluated (RFC 7208 4.6.4) */
  gboolean mech_exceeded;   /* more than SW_SPF_MAX_DNS_MECH */
  SPF_request_t *request;   /* libspf2's request of this call (the exp= hook reads its
                               macro values); borrowed */
} SwSpfCall;

/* Length of SwSpfCall.marker: "sw" and 16 hex digits. */
#define SW_SPF_MARKER_LEN 18u

void sw_spf_call_clear (SwSpfCall *call);
/* Makes @call the current call of this thread until sw_spf_call_leave(). */
void sw_spf_call_enter (SwSpfCall *call);
void sw_spf_call_leave (void);

/* A libspf2 DNS layer over @resolver (a reference is taken; released by SPF_dns_free()).
 * Never returns NULL from its lookup. Thread-safe. */
SPF_dns_server_t *sw_spf_dns_layer_new (SwResolver *resolver);

/* For a record that passed sw_spf_record_is_acceptable(): the same policy in the form
 * libspf2 evaluates correctly: unknown modifiers dropped (they have no effect, and
 * libspf2 rejects some valid names), redirect= dropped when an "all" mechanism is present
 * (RFC 7208 section 6.1), single spaces, ip4/ip6 "/0" as two "/1" halves.
 *
 * With @call (its marker set): the lookup of every a, mx and exists mechanism and of
 * exp= is marked, "a:foo.example" -> "a:foo.example.a.<marker>.invalid", so the DNS
 * layer knows which mechanism asks (lookup counting across includes, RFC 7208 5.5 error
 * skipping for ptr). A "ptr" is preceded by the counting term
 * "exists:count.ptr.<marker>.invalid", which the layer answers without DNS. "a/0",
 * "a//0", "mx/0", "mx//0" (libspf2 cannot store a zero prefix) become, for the client's
 * address family, "exists" lookups that the layer answers with "does any address record
 * exist" (kinds ex, a6any, mx4any, mx6any). The result is checked again by the guard
 * (same compiled-size bound per term, length allowance for the mark); NULL if it fails
 * (the caller refuses the record).
 * Transfer full. */
char *sw_spf_record_simplify (const char *record, const SwSpfCall *call);

/* The pieces of @text between the octets @sep, exactly as g_strsplit (@text, @sep, -1)
 * gives them ("" between two separators; none for an empty @text), in one allocation: a
 * NULL-terminated array followed by the pieces' text. Free with g_free() alone. */
char **sw_spf_split (const char *text, char sep);

/* Longest expanded explanation kept (octets); the rest is cut. The text itself is capped
 * at SW_SPF_MAX_EXPLANATION with at most SW_SPF_MAX_MACROS_PER_TERM macros, each of which
 * can grow to three times a 253-octet name when URL-escaped. */
#define SW_SPF_MAX_EXPANDED_EXPLANATION 1024u

/* Macro values for sw_spf_expand_explanation() (RFC 7208 section 7.2). Strings are
 * borrowed; NULL gives the documented fallback. */
typedef struct {
  const char   *sender;         /* s: local-part@domain */
  const char   *local_part;     /* l (NULL: "postmaster") */
  const char   *sender_domain;  /* o */
  const char   *domain;         /* d: the current domain */
  const char   *helo;           /* h (NULL: "unknown") */
  const char   *receiver;       /* r (NULL: "unknown") */
  const guint8 *ip;             /* i, c, v: 4 or 16 octets in network order */
  gsize         ip_len;
  gint64        now;            /* t: seconds since the epoch */
  /* p: the validated domain name of the client, asked only when a %{p} is expanded
   * (it costs DNS lookups); NULL or a NULL result gives "unknown". */
  const char *(*get_validated_name) (gpointer user_data);
  gpointer      user_data;
} SwSpfMacroVars;

/* Expands explanation text @text (RFC 7208 section 7: macro letters s l o d i p v h c r
 * t, the digit and "r" transformers, delimiters, "%%", "%_", "%-"; an upper-case letter
 * URL-escapes its value with upper-case hex, RFC 3986 section 2.1). IPv6 %{i} is 32
 * dot-separated upper-case nibbles, %{c} the RFC 5952 text. The result is cut at
 * SW_SPF_MAX_EXPANDED_EXPLANATION octets. NULL if @text is outside the macro grammar.
 * Transfer full. Thread-safe (as thread-safe as @vars->get_validated_name). */
char *sw_spf_expand_explanation (const char *text, const SwSpfMacroVars *vars);

/* TRUE if @txt starts an SPF version 1 record ("v=spf1" then space or end). */
gboolean sw_spf_text_is_spf1 (const char *txt);

G_END_DECLS
