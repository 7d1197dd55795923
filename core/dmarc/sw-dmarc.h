/* sw-dmarc.h: DMARC evaluation of one Author Domain (RFC 9989, or RFC 7489 as a mode).
 *
 * Policy discovery, the organizational domain (sw-orgdomain.h), identifier alignment,
 * the np=/psd=/t= tags and test mode are our own code; libopendmarc 1.4.2 is used only
 * to parse the selected record and to choose between p= and sp= (its own DNS code, its
 * PSL-based alignment and its strict-alignment check are never used: see
 * TECH-NOTES.md section 3).
 *
 * Behaviour fixed by this module, with the text it follows:
 * - Records: only TXT records whose first tag is "v=DMARC1" (value case-sensitive) are
 *   DMARC records (RFC 9989 section 4.7, "v"). Several DMARC records at one name are all
 *   discarded (RFC 9989 section 4.10 steps 2 and 6): the tree walk goes on as if there
 *   were none there. In RFC 7489 mode several records end policy discovery (RFC 7489
 *   section 6.6.3 step 4): result NONE. Tag names and policy words are compared without
 *   regard to case (RFC 5234 literals; "V=DMARC1; P=REJECT" is valid). Unknown tags are
 *   ignored and a tag with an invalid value falls back to its default (RFC 9989 sections
 *   4.7 and 4.8), except p/sp/np below. A record longer than SW_DMARC_MAX_RECORD gives
 *   PERMERROR when it is the one that applies.
 * - Invalid p= (or sp=/np=): if the record has a syntactically valid rua= URI, it is read
 *   as p=none; otherwise no DMARC processing applies and the result is PERMERROR with the
 *   reason (RFC 9989 section 4.10.1; RFC 7489 section 6.6.3). An absent p= is p=none in
 *   RFC 9989 mode (section 4.7, "p") and invalid in RFC 7489 mode (section 6.3).
 * - DNS: SERVFAIL or a timeout on any query the outcome depends on gives TEMPERROR, never
 *   "no record" (RFC 9989 section 5.3.6).
 * - Policy: record at the Author Domain: p=. Record found at the organizational domain or
 *   the PSD: sp= (falling back to p=) if the Author Domain exists, np= (falling back to
 *   sp=, then p=) if it does not (RFC 9989 sections 4.7 and 4.10.1). "Does not exist"
 *   means NXDOMAIN (RFC 9989 section 3.2.13 and appendix A.4, after RFC 8020): one A
 *   query, made only when the record has np=. np= and psd= are RFC 9989 tags and are
 *   ignored in RFC 7489 mode.
 * - Test mode: t=y (RFC 9989 section 4.7), or pct=0 in a record without t= (RFC 9989
 *   appendix A.6: t=y and t=n are the analogues of pct=0 and pct=100). Other pct values
 *   1..99 are NOT sampled: RFC 9989 removed pct (appendix C) and unknown tags are
 *   ignored, so the full policy applies, in both modes (a desktop verdict must not be
 *   random). In RFC 7489 mode t= is an unknown tag and only pct=0 means test mode.
 *   In test mode policy_applied is NONE (DESIGN.md, "Verdicts"). Note: RFC 9989
 *   section 4.7 ("t") says a receiver applies one level below the published policy
 *   (reject becomes quarantine); Spoofwatch deliberately shows such mail as fail-none
 *   with the published policy in the evidence.
 * - Alignment: strict is a case-insensitive exact match of the domains; relaxed compares
 *   organizational domains found by the RFC 9989 tree walk or, in RFC 7489 mode, by the
 *   public suffix list. SPF and DKIM align only with result PASS.
 * - Lookups: each tree walk makes at most SW_DMARC_MAX_TREE_WALK queries; one evaluation
 *   (all walks, the existence test) at most SW_MAX_DNS_QUERIES_PER_MESSAGE, each distinct
 *   query once. Over the cap: PERMERROR. */
#pragma once
#include "sw-types.h"
#include "sw-resolver.h"
G_BEGIN_DECLS

typedef enum {
  SW_DMARC_POLICY_UNSET = 0,
  SW_DMARC_POLICY_NONE,
  SW_DMARC_POLICY_QUARANTINE,
  SW_DMARC_POLICY_REJECT,
} SwDmarcPolicy;

/* "none", "quarantine", "reject", "" for UNSET. Never NULL. Thread-safe. */
const char *sw_dmarc_policy_to_string (SwDmarcPolicy p);

/* One DMARC record as published, its tags read as described above. */
typedef struct {
  char          *raw;       /* the record text as published (sanitised for display) */
  char          *domain;    /* the domain at whose _dmarc it was found (A-label) */
  SwDmarcPolicy  p, sp, np; /* UNSET when absent (sp, np) */
  char           adkim;     /* 'r' or 's' */
  char           aspf;      /* 'r' or 's' */
  int            pct;       /* 0..100, -1 when absent (RFC 7489 records) */
  gboolean       testing;   /* t=y */
  char           psd;       /* 'y', 'n', 'u' (absent) */
  char         **rua;       /* NULL-terminated, may be empty, never NULL */
  char         **ruf;       /* NULL-terminated, may be empty, never NULL */
} SwDmarcRecord;

/* Frees @record and all its fields (transfer full). NULL is allowed. Thread-safe for
 * distinct records. */
void sw_dmarc_record_free (SwDmarcRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwDmarcRecord, sw_dmarc_record_free)

typedef struct {
  SwAuthResult   result;           /* PASS, FAIL, NONE (no policy record), TEMPERROR, PERMERROR */
  SwDmarcMode    mode;
  char          *from_domain;      /* A-label */
  char          *org_domain;       /* organizational domain (tree walk or PSL); NULL only when a
                                      DNS failure kept it from being found */
  SwDmarcRecord *record;           /* the record that applies; NULL when none found */
  const char    *policy_tag;       /* "p", "sp" or "np": which tag applied (static string);
                                      NULL when no policy applies */
  SwDmarcPolicy  policy_published; /* the value of that tag */
  SwDmarcPolicy  policy_applied;   /* NONE in test mode, the published policy otherwise (also
                                      on PASS); UNSET if no usable record */
  gboolean       testing;          /* t=y, or pct=0 (see above) */
  gboolean       spf_aligned;
  gboolean       dkim_aligned;
  char          *aligned_dkim_domain; /* d= of the first aligned passing signature, or NULL */
  char          *reason;           /* one English phrase: why this result */
  GPtrArray     *lookups;          /* char*: "_dmarc.a.example.com TXT NXDOMAIN", in query
                                      order, each distinct query once. Never NULL. */
} SwDmarcResult;

/* Frees @r and all its fields, record and lookups included (transfer full). NULL is
 * allowed. Thread-safe for distinct results. */
void sw_dmarc_result_free (SwDmarcResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwDmarcResult, sw_dmarc_result_free)

/* An authenticated identifier: the SPF MAIL FROM domain or one DKIM signature's d=. */
typedef struct {
  const char   *domain;  /* NULL: not evaluated */
  SwAuthResult  result;
} SwDmarcIdentity;

typedef struct _SwDmarcEvaluator SwDmarcEvaluator;

/* Creates an evaluator that looks up with @resolver (a reference is taken) in @mode.
 * The first call initialises libopendmarc once per process (without a PSL and with its
 * DNS disabled). Returns NULL and sets @error (SW_DMARC_ERROR_SETUP) when libopendmarc
 * cannot be initialised or (RFC 7489 mode) no public suffix list can be loaded.
 * Transfer full. Thread-safe. */
SwDmarcEvaluator *sw_dmarc_evaluator_new (SwResolver  *resolver,
                                          SwDmarcMode  mode,
                                          GError     **error) G_GNUC_WARN_UNUSED_RESULT;

/* Frees @e. NULL is allowed. Must not be called while another thread uses @e. */
void sw_dmarc_evaluator_free (SwDmarcEvaluator *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwDmarcEvaluator, sw_dmarc_evaluator_free)

/* Evaluates DMARC for one Author Domain @from_domain (A-label or U-label, any case).
 * @spf: the SPF MAIL FROM result and its domain (domain NULL when SPF was not evaluated;
 * @spf itself may be NULL); @dkim: @n_dkim signatures (d= and result; may be NULL when
 * @n_dkim is 0). On TRUE, @result_out holds the result (transfer full), whatever it is.
 * Returns FALSE and sets @error only if the evaluation could not run: @from_domain is
 * NULL or not a valid domain name (SW_DMARC_ERROR_INVALID_DOMAIN), or the resolver
 * refused a query (SW_DMARC_ERROR_DNS). Thread-safe: one evaluator may be shared. */
gboolean sw_dmarc_evaluate (SwDmarcEvaluator      *e,
                            const char            *from_domain,
                            const SwDmarcIdentity *spf,
                            const SwDmarcIdentity *dkim,
                            guint                  n_dkim,
                            SwDmarcResult        **result_out,
                            GError               **error) G_GNUC_WARN_UNUSED_RESULT;

/* The error domain of this module ("sw-dmarc-error-quark"). Thread-safe. */
#define SW_DMARC_ERROR (sw_dmarc_error_quark ())
GQuark sw_dmarc_error_quark (void);

/* Codes are never renumbered. */
typedef enum {
  SW_DMARC_ERROR_INVALID_DOMAIN = 1, /* not a domain name */
  SW_DMARC_ERROR_SETUP = 2,          /* libopendmarc or the PSL could not be initialised */
  SW_DMARC_ERROR_DNS = 3,            /* the resolver could not make a query */
  SW_DMARC_ERROR_DNS_TEMPORARY = 4,  /* SERVFAIL/timeout (sw_orgdomain_lookup() only) */
  SW_DMARC_ERROR_LIMIT = 5,          /* lookup cap reached (sw_orgdomain_lookup() only) */
} SwDmarcError;

G_END_DECLS
