/* sw-dmarc-private.h: internals shared by sw-dmarc.c, sw-dmarc-record.c and
 * sw-orgdomain.c. Not installed, not for other modules. */
#pragma once
#include "sw-dmarc.h"
#include "sw-orgdomain.h"
G_BEGIN_DECLS

/* ---- sw-dmarc-record.c: our own reading of a record's tag list ---- */

typedef enum {
  SW_DMARC_TAG_ABSENT = 0,
  SW_DMARC_TAG_VALID,
  SW_DMARC_TAG_INVALID,
} SwDmarcTagState;

/* What a record says, tag by tag, per RFC 9989 section 4.8. Values that are absent or
 * invalid are left at the "absent" value given in each comment. */
typedef struct {
  SwDmarcTagState p_state, sp_state, np_state;
  SwDmarcPolicy   p, sp, np;    /* UNSET */
  char            adkim, aspf;  /* 0 */
  int             pct;          /* -1 */
  char            t;            /* 0, else 'y' or 'n' */
  char            psd;          /* 'u' */
  GPtrArray      *rua, *ruf;    /* char*, syntactically valid URIs only; never NULL */
  gboolean        rua_present;  /* a rua= tag was there, valid or not */
} SwDmarcScan;

/* TRUE if @text starts with the version tag "v=DMARC1" (RFC 9989 section 4.7, "v": the
 * first tag, value case-sensitive). Only such TXT records are DMARC records. */
gboolean sw_dmarc_text_is_dmarc (const char *text);

/* Reads the tags of @text, which must satisfy sw_dmarc_text_is_dmarc(). Unknown tags and
 * malformed tag-value pairs are ignored. Fills @scan (free with sw_dmarc_scan_clear()). */
void sw_dmarc_scan_record (const char *text, SwDmarcScan *scan);
void sw_dmarc_scan_clear (SwDmarcScan *scan);

/* The longest URI taken from rua=/ruf= (longer ones are dropped). */
#define SW_DMARC_MAX_URI 255u

/* ---- sw-orgdomain.c: DNS queries of one evaluation, and the tree walk ---- */

typedef enum {
  SW_DMARC_FETCH_NONE = 0,  /* no DMARC record at the name (NXDOMAIN, NODATA, other TXT) */
  SW_DMARC_FETCH_ONE,       /* exactly one DMARC record */
  SW_DMARC_FETCH_MULTIPLE,  /* several DMARC records: all discarded */
  SW_DMARC_FETCH_TEMPFAIL,  /* SERVFAIL or timeout */
  SW_DMARC_FETCH_LIMIT,     /* not queried: the evaluation's query cap was reached */
} SwDmarcFetchKind;

/* The outcome of the query for _dmarc.<domain>. */
typedef struct {
  char             *domain;    /* without "_dmarc." */
  SwDmarcFetchKind  kind;
  SwDnsStatus       status;    /* of the DNS answer (TEMPFAIL: SERVFAIL or TIMEOUT) */
  char             *text;      /* ONE: the record as published */
  gboolean          too_long;  /* ONE: longer than SW_DMARC_MAX_RECORD, not scanned */
  SwDmarcScan       scan;      /* ONE and not too_long */
} SwDmarcFetch;

/* The DNS queries of one evaluation: each distinct query made once, all counted against
 * one cap, each logged. */
typedef struct {
  SwResolver *resolver;
  GHashTable *fetches;     /* domain -> SwDmarcFetch* (owned) */
  GHashTable *existence;   /* domain -> GINT_TO_POINTER (SwDnsStatus + 1) of its A query */
  guint       queries;
  guint       max_queries;
  GPtrArray  *log;         /* char*, borrowed; may be NULL */
} SwDmarcDns;

void sw_dmarc_dns_init (SwDmarcDns *dns, SwResolver *resolver, guint max_queries, GPtrArray *log);
void sw_dmarc_dns_clear (SwDmarcDns *dns);

/* The DMARC records at _dmarc.<domain> (borrowed, valid until sw_dmarc_dns_clear()).
 * NULL with @error only when the resolver refused the query. */
const SwDmarcFetch *sw_dmarc_dns_fetch (SwDmarcDns *dns, const char *domain, GError **error);

/* Existence test of @domain (RFC 9989 section 3.2.13): one A query. @status_out gets the
 * DNS status; @limit_out is set when the cap kept the query from being made. FALSE with
 * @error only when the resolver refused the query. */
gboolean sw_dmarc_dns_exists (SwDmarcDns  *dns,
                              const char  *domain,
                              SwDnsStatus *status_out,
                              gboolean    *limit_out,
                              GError     **error);

/* One RFC 9989 tree walk from @start (section 4.10) and its organizational domain
 * (section 4.10.2). */
typedef struct {
  gboolean            complete;   /* the walk ran to its end: org_domain is set */
  const SwDmarcFetch *failed;     /* !complete: the TEMPFAIL or LIMIT fetch */
  const SwDmarcFetch *start;      /* the fetch at @start (its kind may be TEMPFAIL/LIMIT) */
  const SwDmarcFetch *org_record; /* the ONE fetch at org_domain, or NULL */
  const SwDmarcFetch *psd_record; /* the psd=y fetch above @start that ended the walk, or NULL */
  const SwDmarcFetch *multiple;   /* the first name where several records were discarded */
  char               *org_domain; /* transfer full; NULL when !complete */
  guint               n_queries;  /* names asked for in this walk (at most SW_DMARC_MAX_TREE_WALK) */
} SwDmarcTreeWalk;

/* Walks from @start (a normalised A-label). FALSE with @error only when the resolver
 * refused a query. Free @walk's contents with sw_dmarc_tree_walk_clear(). */
gboolean sw_dmarc_tree_walk (SwDmarcDns *dns, const char *start, SwDmarcTreeWalk *walk, GError **error);
void     sw_dmarc_tree_walk_clear (SwDmarcTreeWalk *walk);

G_END_DECLS
