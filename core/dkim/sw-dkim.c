#define G_LOG_DOMAIN "sw-dkim"
/* sw-dkim.c: DKIM verification: our own check of plain signatures (run_fast()), else
 * libopendkim (run_library()); both give SigFacts in libopendkim's terms (DKIM_SIGERROR_*,
 * flags, bh state), which judge_facts() turns into SwAuthResult + reason.
 *
 * Fast path: when every DKIM-Signature field (at most SW_DKIM_MAX_SIGNATURES), every header
 * field and every key record is plain (sw-dkim-check.c, sw-dkim-key.c), and no CLOCKDRIFT
 * problem arises, run_fast() does what dkim_eoh() and dkim_eom() of libopendkim 2.11.0 Beta2
 * would: the key query for each signature in order (a later signature with the same d= and
 * s= reuses an earlier one's record, as dkim_get_key() does), the key record checks in
 * dkim_get_key()'s order (v=, h=, s=, k=, p=, t=), the key decoded by the signature's
 * algorithm, the header hash and signature check, the t=s subdomain rule, then the body
 * (emulate_eom()'s rules). Anything it does not cover makes it return FALSE with nothing
 * recorded, and the message goes to libopendkim; SwDkimVerifier.library_only forces that
 * (tests).
 *
 * Time: libopendkim judges t= and x= against time() (not even DKIM_OPTS_FIXEDTIME) with a
 * library-wide CLOCKDRIFT, and skips the key lookup and the crypto of a signature it
 * finds expired or "in the future". We want t=/x= judged against the time the message
 * was received. So each message gets its own DKIM_LIB (cheap: a malloc and res_init())
 * whose CLOCKDRIFT is chosen from the message's own t=/x= values so that the library
 * rejects none of them on time (expired: now >= x + drift; future: now < t - drift, in
 * uint64_t arithmetic, so drift must stay <= t), and the timestamps are judged here
 * against @verify_time. The per-message DKIM_LIB also carries the per-message DNS
 * service (sw-dkim-dns.c), which records what each key query gave.
 *
 * Key size and rsa-sha1 (RFC 8301) are judged here too: libopendkim's MINKEYBITS is set
 * to 1 so that a small key still gets its crypto checked and the reason can say whether
 * the signature was otherwise good.
 *
 * Body: libopendkim parses the signatures, fetches the keys, canonicalises the header
 * and checks the RSA/Ed25519 signature, all in dkim_eoh(). Its body canonicalisation
 * (dkim_body(), dkim_eom()) works one octet at a time and took most of the time, so the
 * body is not given to it: sw-dkim-body.c computes the body hash (the same octets
 * libopendkim would hash), and emulate_eom() applies to each signature what dkim_eom()
 * would have done (l= longer than the body, the bh= comparison, the flags and error
 * codes that follow), from the state dkim_eoh() left. Anything outside that emulation
 * (a conditional signature, an unexpected state) makes the message go through
 * libopendkim's own body path, as does SwDkimVerifier.library_body (tests). */
#include "sw-dkim-private.h"
#include "sw-dkim-bodyhash.h"
#include "sw-domain.h"
#include "sw-limits.h"
#include "sw-util.h"
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <opendkim/dkim.h>

/* Seconds of clock difference between signer and receiver accepted for t= and x=. */
#define SW_DKIM_CLOCK_DRIFT 300
/* Seconds libopendkim's reading of the clock may lag behind ours (see choose_drift()). */
#define SW_DKIM_DRIFT_MARGIN 86400
/* Longest string (domain, selector, identity...) copied into a result. */
#define SW_DKIM_MAX_TEXT 255
/* Decoded keys kept per verifier (the cache is emptied when full). */
#define SW_DKIM_KEY_CACHE_ENTRIES 1024
/* Octets of a key record libopendkim reads (BUFRSZ in libopendkim/dkim.c); longer
 * records, which it truncates, are left to it. */
#define SW_DKIM_MAX_KEY_RECORD 1024

G_DEFINE_QUARK (sw - dkim - error - quark, sw_dkim_error)

struct _SwDkimVerifier
{
  SwResolver *resolver;
  SwDkimOptions options;
  DKIM_LIB *anchor; /* proves libopendkim works; keeps its OpenSSL set-up alive */
  SwDkimKeyCache *keys;  /* decoded keys of the fast path, shared by all threads */
  gboolean library_body; /* TRUE: libopendkim hashes the body itself (tests) */
  gboolean library_only; /* TRUE: never the fast path (tests) */
  gint n_fast;           /* messages the fast path verified (atomic; tests) */
};

/* A signature's state as dkim_eom() leaves it: DKIM_SIGFLAG_*, DKIM_SIGERROR_*,
 * DKIM_SIGBH_*. */
typedef struct
{
  unsigned int flags;
  int err;
  int bh;
} SigState;

#define SIG_STATE_CHECK(st) (((st)->flags & DKIM_SIGFLAG_PASSED) != 0 && (st)->bh == DKIM_SIGBH_MATCH)

/* What one verification call keeps around. */
typedef struct
{
  SwDkimVerifier *v;
  SwDkimMessage msg;
  GPtrArray *sig_fields; /* SwDkimField* into msg.fields: the DKIM-Signature fields */
  gint64 verify_time;
  gint64 now;
  const SwDkimBodyHasher *bodies; /* the body hashes, computed as the message arrived
                                     (msg then holds the header block only), or NULL */
} Job;

void
sw_dkim_signature_free (SwDkimSignature *sig)
{
  if (sig == NULL)
    return;
  g_free (sig->domain);
  g_free (sig->selector);
  g_free (sig->identity);
  g_free (sig->algorithm);
  g_free (sig->header_b);
  g_free (sig->reason);
  g_free (sig);
}

SwDkimResults *
sw_dkim_results_new (void)
{
  SwDkimResults *r = g_new0 (SwDkimResults, 1);
  r->signatures = g_ptr_array_new_with_free_func ((GDestroyNotify)sw_dkim_signature_free);
  return r;
}

void
sw_dkim_results_free (SwDkimResults *r)
{
  if (r == NULL)
    return;
  g_clear_pointer (&r->signatures, g_ptr_array_unref);
  g_free (r);
}

/* ---- set-up ---- */

static gboolean
set_opt (DKIM_LIB *lib, dkim_opts_t opt, void *value, size_t len)
{
  return dkim_options (lib, DKIM_OP_SETOPT, opt, value, len) == DKIM_STAT_OK;
}

/* Keeps the first SW_DKIM_MAX_SIGNATURES signatures, tells libopendkim to skip the rest. */
static DKIM_CBSTAT
prescreen (DKIM *dkim, DKIM_SIGINFO **sigs, int nsigs)
{
  (void)dkim;
  for (int i = (int)SW_DKIM_MAX_SIGNATURES; i < nsigs; i++)
    dkim_sig_ignore (sigs[i]);
  return DKIM_CBSTAT_CONTINUE;
}

/* dkim_init() calls res_init(), which re-initialises glibc's resolver state shared by all
 * threads (it closes and resets the state's sockets): two threads in it at once can close
 * a descriptor the process has since reused (seen as a listening socket reset under
 * load). So dkim_init() runs one thread at a time. */
static GMutex lib_init_lock;

static DKIM_LIB *
new_lib (guint64 drift, SwDkimDns *dns, GError **error)
{
  g_mutex_lock (&lib_init_lock);
  DKIM_LIB *lib = dkim_init (NULL, NULL);
  g_mutex_unlock (&lib_init_lock);
  if (lib == NULL)
    {
      g_set_error_literal (error, SW_DKIM_ERROR, SW_DKIM_ERROR_SETUP, "libopendkim: dkim_init() failed");
      return NULL;
    }
  uint32_t flags = DKIM_LIBFLAGS_BADSIGHANDLES | DKIM_LIBFLAGS_FIXCRLF;
  u_int min_bits = 1;
  uint64_t clock_drift = drift;
  if (!set_opt (lib, DKIM_OPTS_FLAGS, &flags, sizeof flags)
      || !set_opt (lib, DKIM_OPTS_MINKEYBITS, &min_bits, sizeof min_bits)
      || !set_opt (lib, DKIM_OPTS_CLOCKDRIFT, &clock_drift, sizeof clock_drift)
      || dkim_set_prescreen (lib, prescreen) != DKIM_STAT_OK)
    {
      dkim_close (lib);
      g_set_error_literal (error, SW_DKIM_ERROR, SW_DKIM_ERROR_SETUP, "libopendkim refused an option");
      return NULL;
    }
  if (dns != NULL)
    sw_dkim_dns_install (dns, lib);
  return lib;
}

SwDkimVerifier *
sw_dkim_verifier_new_full (SwResolver *resolver, const SwDkimOptions *options, GError **error)
{
  g_return_val_if_fail (resolver != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  DKIM_LIB *anchor = new_lib (SW_DKIM_CLOCK_DRIFT, NULL, error);
  if (anchor == NULL)
    return NULL;
  if (!dkim_libfeature (anchor, DKIM_FEATURE_SHA256) || !dkim_libfeature (anchor, DKIM_FEATURE_ED25519))
    {
      dkim_close (anchor);
      g_set_error_literal (error, SW_DKIM_ERROR, SW_DKIM_ERROR_SETUP,
                           "libopendkim lacks SHA-256 or Ed25519 support");
      return NULL;
    }
  SwDkimVerifier *v = g_new0 (SwDkimVerifier, 1);
  v->resolver = sw_resolver_ref (resolver);
  v->anchor = anchor;
  v->keys = sw_dkim_key_cache_new (SW_DKIM_KEY_CACHE_ENTRIES);
  if (options != NULL)
    v->options = *options;
  if (v->options.min_rsa_bits == 0)
    v->options.min_rsa_bits = SW_DKIM_MIN_KEY_BITS;
  return v;
}

SwDkimVerifier *
sw_dkim_verifier_new (SwResolver *resolver, GError **error)
{
  return sw_dkim_verifier_new_full (resolver, NULL, error);
}

void
sw_dkim_verifier_set_library_body (SwDkimVerifier *v, gboolean library_body)
{
  g_return_if_fail (v != NULL);
  v->library_body = library_body;
}

void
sw_dkim_verifier_set_library_only (SwDkimVerifier *v, gboolean library_only)
{
  g_return_if_fail (v != NULL);
  v->library_only = library_only;
}

guint
sw_dkim_verifier_get_n_fast (SwDkimVerifier *v)
{
  g_return_val_if_fail (v != NULL, 0);
  return (guint)g_atomic_int_get (&v->n_fast);
}

void
sw_dkim_verifier_free (SwDkimVerifier *v)
{
  if (v == NULL)
    return;
  g_clear_pointer (&v->keys, sw_dkim_key_cache_free);
  g_clear_pointer (&v->anchor, dkim_close);
  g_clear_pointer (&v->resolver, sw_resolver_unref);
  g_free (v);
}

/* ---- helpers ---- */

/* A bounded, valid-UTF-8, control-free copy of untrusted @text (NULL stays NULL). */
static char *
safe_text (const char *text)
{
  return text != NULL ? sw_sanitize_for_log (text, -1, SW_DKIM_MAX_TEXT) : NULL;
}

static const char *
field_value (const Job *job, const SwDkimField *f, gsize *len_out)
{
  const char *text = (const char *)job->msg.buf + f->offset;
  const char *colon = memchr (text, ':', f->len);
  g_assert (colon != NULL); /* sw_dkim_field_has_name() saw it */
  *len_out = f->len - (gsize)(colon + 1 - text);
  return colon + 1;
}

static char *
field_tag (const Job *job, guint index, const char *tag)
{
  if (index >= job->sig_fields->len)
    return NULL;
  gsize len;
  const char *value = field_value (job, g_ptr_array_index (job->sig_fields, index), &len);
  return sw_dkim_tag_list_get (value, len, tag);
}

/* The CLOCKDRIFT under which libopendkim rejects none of the message's signatures on time
 * (see the comment at the top): for each signature, drift > now - x and t - now <= drift
 * <= t. libopendkim reads the clock later than we do, so the bounds keep a margin of
 * SW_DKIM_DRIFT_MARGIN seconds; the largest allowed value is taken. If no value satisfies
 * every signature, the one that satisfies the topmost ones. */
static guint64
choose_drift (const Job *job, gboolean *all_ok)
{
  *all_ok = TRUE;
  gint64 low = SW_DKIM_CLOCK_DRIFT; /* drift must be >= low */
  gint64 high = G_MAXINT64;         /* and <= high */
  guint n = MIN (job->sig_fields->len, SW_DKIM_MAX_SIGNATURES);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *t_text = field_tag (job, i, "t");
      g_autofree char *x_text = field_tag (job, i, "x");
      gint64 t, x;
      gint64 nl = low, nh = high;
      if (sw_dkim_parse_timestamp (x_text, &x))
        nl = MAX (nl, job->now - x + SW_DKIM_DRIFT_MARGIN);
      if (sw_dkim_parse_timestamp (t_text, &t))
        {
          nh = MIN (nh, t);
          nl = MAX (nl, t - job->now + SW_DKIM_DRIFT_MARGIN);
        }
      if (nl > nh)
        {
          *all_ok = FALSE;
          break;
        }
      low = nl;
      high = nh;
    }
  return (guint64)(high != G_MAXINT64 ? high : low);
}

typedef struct
{
  int code;
  const char *reason;
} SyntaxReason;

/* DKIM_SIGERROR_* codes that mean "this signature field is malformed": permerror. */
static const SyntaxReason syntax_reasons[] = {
  { DKIM_SIGERROR_VERSION, "signature syntax: unsupported version (v=)" },
  { DKIM_SIGERROR_DOMAIN, "signature syntax: i= is not within d=" },
  { DKIM_SIGERROR_TIMESTAMPS, "signature syntax: x= is not after t=" },
  { DKIM_SIGERROR_INVALID_HC, "signature syntax: invalid header canonicalization (c=)" },
  { DKIM_SIGERROR_INVALID_BC, "signature syntax: invalid body canonicalization (c=)" },
  { DKIM_SIGERROR_MISSING_A, "signature syntax: a= missing" },
  { DKIM_SIGERROR_INVALID_A, "signature syntax: unknown algorithm (a=)" },
  { DKIM_SIGERROR_MISSING_H, "signature syntax: h= missing" },
  { DKIM_SIGERROR_INVALID_L, "signature syntax: invalid l=" },
  { DKIM_SIGERROR_INVALID_Q, "signature syntax: invalid q=" },
  { DKIM_SIGERROR_INVALID_QO, "signature syntax: invalid q= option" },
  { DKIM_SIGERROR_MISSING_D, "signature syntax: d= missing" },
  { DKIM_SIGERROR_EMPTY_D, "signature syntax: d= empty" },
  { DKIM_SIGERROR_MISSING_S, "signature syntax: s= missing" },
  { DKIM_SIGERROR_EMPTY_S, "signature syntax: s= empty" },
  { DKIM_SIGERROR_MISSING_B, "signature syntax: b= missing" },
  { DKIM_SIGERROR_EMPTY_B, "signature syntax: b= empty" },
  { DKIM_SIGERROR_CORRUPT_B, "signature syntax: b= is not base64" },
  { DKIM_SIGERROR_MISSING_BH, "signature syntax: bh= missing" },
  { DKIM_SIGERROR_EMPTY_BH, "signature syntax: bh= empty" },
  { DKIM_SIGERROR_CORRUPT_BH, "signature syntax: bh= is not base64" },
  { DKIM_SIGERROR_EMPTY_H, "signature syntax: h= empty" },
  { DKIM_SIGERROR_INVALID_H, "signature syntax: h= does not include From" },
  { DKIM_SIGERROR_MISSING_V, "signature syntax: v= missing" },
  { DKIM_SIGERROR_EMPTY_V, "signature syntax: v= empty" },
};

/* DKIM_SIGERROR_* codes about the key record: permerror. */
static const SyntaxReason key_reasons[] = {
  { DKIM_SIGERROR_DNSSYNTAX, "key record syntax error" },
  { DKIM_SIGERROR_MULTIREPLY, "more than one key record" },
  { DKIM_SIGERROR_KEYVERSION, "key record has an unknown version (v=)" },
  { DKIM_SIGERROR_KEYUNKNOWNHASH, "key record lists no known hash (h=)" },
  { DKIM_SIGERROR_KEYHASHMISMATCH, "key does not allow the signature's hash (h=)" },
  { DKIM_SIGERROR_NOTEMAILKEY, "key is not for e-mail (s=)" },
  { DKIM_SIGERROR_KEYTYPEMISSING, "key type missing (k=)" },
  { DKIM_SIGERROR_KEYTYPEUNKNOWN, "key type unknown or not the signature's (k=)" },
  { DKIM_SIGERROR_KEYREVOKED, "key revoked" },
  { DKIM_SIGERROR_KEYDECODE, "key could not be decoded (p=)" },
  { DKIM_SIGERROR_SUBDOMAIN, "key does not allow a subdomain in i= (t=s)" },
  { DKIM_SIGERROR_MBSFAILED, "required header field not signed" },
};

static const char *
lookup_reason (const SyntaxReason *table, gsize n, int code)
{
  for (gsize i = 0; i < n; i++)
    if (table[i].code == code)
      return table[i].reason;
  return NULL;
}

static void
set_verdict (SwDkimSignature *s, SwAuthResult result, char *reason_owned)
{
  s->result = result;
  g_free (s->reason);
  s->reason = reason_owned;
}

/* The result of a key lookup that libopendkim reported as failed (KEYFAIL/NOKEY). */
static void
judge_key_failure (SwDkimSignature *s, int err, SwDkimDnsOutcome outcome)
{
  switch (outcome)
    {
    case SW_DKIM_DNS_TIMEOUT:
      set_verdict (s, SW_AUTH_TEMPERROR, g_strdup ("DNS timeout fetching key"));
      return;
    case SW_DKIM_DNS_SERVFAIL:
      set_verdict (s, SW_AUTH_TEMPERROR, g_strdup ("DNS failure fetching key (SERVFAIL)"));
      return;
    case SW_DKIM_DNS_LIMIT:
      set_verdict (s, SW_AUTH_TEMPERROR, g_strdup ("too many DNS queries for this message"));
      return;
    case SW_DKIM_DNS_BAD_NAME:
      set_verdict (s, SW_AUTH_PERMERROR, g_strdup ("no key (d= and s= do not form a valid DNS name)"));
      return;
    case SW_DKIM_DNS_NXDOMAIN:
      set_verdict (s, SW_AUTH_PERMERROR, g_strdup ("no key (NXDOMAIN)"));
      return;
    case SW_DKIM_DNS_ANSWERED:
      if (err == DKIM_SIGERROR_NOKEY)
        set_verdict (s, SW_AUTH_PERMERROR, g_strdup ("no key (no TXT record)"));
      else
        set_verdict (s, SW_AUTH_TEMPERROR, g_strdup ("DNS failure fetching key (unusable reply)"));
      return;
    case SW_DKIM_DNS_FAILED:
    case SW_DKIM_DNS_NOT_ASKED:
    default:
      if (err == DKIM_SIGERROR_NOKEY)
        set_verdict (s, SW_AUTH_PERMERROR, g_strdup ("no key"));
      else
        set_verdict (s, SW_AUTH_TEMPERROR, g_strdup ("DNS failure fetching key"));
      return;
    }
}

static gboolean
judge_timestamps (const Job *job, SwDkimSignature *s, const char *t_text, const char *x_text)
{
  if (t_text != NULL && !sw_dkim_parse_timestamp (t_text, &s->signed_at))
    {
      set_verdict (s, SW_AUTH_PERMERROR, g_strdup ("signature syntax: invalid t="));
      return FALSE;
    }
  if (x_text != NULL && !sw_dkim_parse_timestamp (x_text, &s->expires_at))
    {
      set_verdict (s, SW_AUTH_PERMERROR, g_strdup ("signature syntax: invalid x="));
      return FALSE;
    }
  if (s->signed_at >= 0 && s->expires_at >= 0 && s->expires_at <= s->signed_at)
    {
      set_verdict (s, SW_AUTH_PERMERROR, g_strdup ("signature syntax: x= is not after t="));
      return FALSE;
    }
  if (s->expires_at >= 0 && job->verify_time >= s->expires_at + SW_DKIM_CLOCK_DRIFT)
    {
      g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (s->expires_at);
      g_autofree char *when = dt ? g_date_time_format_iso8601 (dt) : g_strdup ("?");
      set_verdict (s, SW_AUTH_FAIL,
                   g_strdup_printf ("signature expired (x=%" G_GINT64_FORMAT ", %s)", s->expires_at, when));
      return FALSE;
    }
  if (s->signed_at >= 0 && job->verify_time < s->signed_at - SW_DKIM_CLOCK_DRIFT)
    {
      set_verdict (
          s, SW_AUTH_FAIL,
          g_strdup_printf ("signature timestamp in the future (t=%" G_GINT64_FORMAT ")", s->signed_at));
      return FALSE;
    }
  return TRUE;
}

static const char *
alg_name (dkim_alg_t alg)
{
  switch (alg)
    {
    case DKIM_SIGN_RSASHA1:
      return "rsa-sha1";
    case DKIM_SIGN_RSASHA256:
      return "rsa-sha256";
    case DKIM_SIGN_ED25519SHA256:
      return "ed25519-sha256";
    default:
      return NULL;
    }
}

/* What a verdict is made of: the signature's tags (values as libopendkim keeps them, white
 * space removed; borrowed), the algorithm, the key size, the DNS outcome and the state
 * dkim_eom() left (or would have left). Both engines fill one and judge_facts() decides. */
typedef struct
{
  const char *d, *sel, *i, *a, *l, *b, *t, *x;
  dkim_alg_t alg;
  unsigned int key_bits; /* 0: no key was loaded */
  SwDkimDnsOutcome outcome;
  SwDnssecState dnssec;
  SigState st;
} SigFacts;

/* Turns one signature's facts into our result. */
static SwDkimSignature *
judge_facts (const Job *job, const SigFacts *f)
{
  const SigState *st = &f->st;
  SwDkimSignature *s = g_new0 (SwDkimSignature, 1);
  s->body_length = -1;
  s->signed_at = -1;
  s->expires_at = -1;
  s->result = SW_AUTH_NEUTRAL;
  s->reason = g_strdup ("signature not processed");

  if (f->d != NULL)
    {
      g_autofree char *ascii = sw_domain_to_ascii (f->d);
      g_autofree char *lower = g_ascii_strdown (ascii ? ascii : f->d, -1);
      s->domain = safe_text (lower);
    }
  s->selector = safe_text (f->sel);
  s->identity = safe_text (f->i);

  dkim_alg_t alg = f->alg;
  s->algorithm = alg_name (alg) ? g_strdup (alg_name (alg)) : safe_text (f->a);

  if (f->l != NULL)
    {
      s->body_length_limited = TRUE;
      guint64 l;
      if (g_ascii_string_to_unsigned (f->l, 10, 0, G_MAXINT64, &l, NULL))
        s->body_length = (gint64)l;
    }
  if (f->b != NULL)
    {
      GString *b = g_string_new (NULL);
      for (const char *p = f->b; *p && b->len < 8; p++)
        if (!g_ascii_isspace (*p))
          g_string_append_c (b, *p);
      g_autofree char *b8 = g_string_free (b, FALSE);
      s->header_b = safe_text (b8);
    }

  unsigned int flags = st->flags;
  s->testing = (flags & DKIM_SIGFLAG_TESTKEY) != 0;
  s->key_bits = f->key_bits;
  SwDkimDnsOutcome outcome = f->outcome;
  s->dnssec = f->dnssec;
  const char *t_text = f->t;
  const char *x_text = f->x;

  int err = st->err;
  const char *why = lookup_reason (syntax_reasons, G_N_ELEMENTS (syntax_reasons), err);
  if (why != NULL)
    {
      set_verdict (s, SW_AUTH_PERMERROR, g_strdup (why));
      return s;
    }
  if (!judge_timestamps (job, s, t_text, x_text))
    return s;
  if (err == DKIM_SIGERROR_EXPIRED || err == DKIM_SIGERROR_FUTURE)
    {
      /* only when no CLOCKDRIFT could satisfy every signature of the message */
      set_verdict (s, SW_AUTH_PERMERROR,
                   g_strdup ("signature timestamps out of the range libopendkim handles"));
      return s;
    }
  if (err == DKIM_SIGERROR_NOKEY || err == DKIM_SIGERROR_KEYFAIL)
    {
      judge_key_failure (s, err, outcome);
      return s;
    }
  why = lookup_reason (key_reasons, G_N_ELEMENTS (key_reasons), err);
  if (why != NULL)
    {
      set_verdict (s, SW_AUTH_PERMERROR, g_strdup (why));
      return s;
    }
  if (err == DKIM_SIGERROR_TOOLARGE_L)
    {
      set_verdict (s, SW_AUTH_FAIL, g_strdup ("body shorter than l="));
      return s;
    }
  if ((flags & DKIM_SIGFLAG_PROCESSED) == 0)
    return s; /* NEUTRAL, "signature not processed" */
  if (alg == DKIM_SIGN_ED25519SHA256 && s->key_bits == 0)
    s->key_bits = 256; /* libopendkim counts RSA key bits only; Ed25519 keys are 256 bits */

  if (!SIG_STATE_CHECK (st) || (err != DKIM_SIGERROR_OK && err != DKIM_SIGERROR_UNKNOWN))
    {
      if ((flags & DKIM_SIGFLAG_PASSED) != 0 && st->bh == DKIM_SIGBH_MISMATCH)
        set_verdict (s, SW_AUTH_FAIL, g_strdup ("body hash mismatch"));
      else if (err == DKIM_SIGERROR_BADSIG || err == DKIM_SIGERROR_OK || err == DKIM_SIGERROR_UNKNOWN)
        set_verdict (s, SW_AUTH_FAIL, g_strdup ("signature did not verify"));
      else
        {
          const char *lib_text = dkim_sig_geterrorstr (err);
          set_verdict (s, SW_AUTH_FAIL,
                       g_strdup_printf ("signature did not verify (%s)", lib_text ? lib_text : "?"));
        }
      return s;
    }

  /* the signature is cryptographically good; now RFC 8301 */
  if (alg == DKIM_SIGN_RSASHA1 && !job->v->options.accept_rsa_sha1)
    {
      set_verdict (s, SW_AUTH_FAIL, g_strdup ("rsa-sha1 is not accepted"));
      return s;
    }
  if (alg != DKIM_SIGN_ED25519SHA256 && s->key_bits < job->v->options.min_rsa_bits)
    {
      set_verdict (s, SW_AUTH_FAIL, g_strdup_printf ("key too small (%u bits)", s->key_bits));
      return s;
    }
  set_verdict (s, SW_AUTH_PASS, g_strdup ("signature verified"));
  return s;
}

/* Translates one libopendkim signature into our result. */
static SwDkimSignature *
judge_signature (const Job *job, DKIM *dkim, DKIM_SIGINFO *sig, SwDkimDns *dns, const SigState *st)
{
  (void)dkim;
  SigFacts f = { 0 };
  f.d = (const char *)dkim_sig_getdomain (sig);
  f.sel = (const char *)dkim_sig_getselector (sig);
  f.i = (const char *)dkim_sig_gettagvalue (sig, FALSE, (u_char *)"i");
  f.a = (const char *)dkim_sig_gettagvalue (sig, FALSE, (u_char *)"a");
  f.l = (const char *)dkim_sig_gettagvalue (sig, FALSE, (u_char *)"l");
  f.b = (const char *)dkim_sig_gettagvalue (sig, FALSE, (u_char *)"b");
  f.t = (const char *)dkim_sig_gettagvalue (sig, FALSE, (u_char *)"t");
  f.x = (const char *)dkim_sig_gettagvalue (sig, FALSE, (u_char *)"x");
  f.alg = DKIM_SIGN_UNKNOWN;
  (void)dkim_sig_getsignalg (sig, &f.alg);
  unsigned int bits = 0;
  if (dkim_sig_getkeysize (sig, &bits) == DKIM_STAT_OK)
    f.key_bits = bits;
  f.outcome = SW_DKIM_DNS_NOT_ASKED;
  f.dnssec = SW_DNSSEC_UNKNOWN;
  if (f.d != NULL && f.sel != NULL)
    {
      g_autofree char *qname = g_strdup_printf ("%s._domainkey.%s", f.sel, f.d);
      f.outcome = sw_dkim_dns_get_outcome (dns, qname, &f.dnssec);
    }
  f.st = *st;
  return judge_facts (job, &f);
}

/* Results for a message libopendkim refused as a whole: one entry per signature field
 * (up to the cap), described from our own reading of its tags. */
static void
judge_unprocessed (const Job *job, SwDkimResults *r, SwAuthResult result, const char *reason)
{
  guint n = MIN (job->sig_fields->len, SW_DKIM_MAX_SIGNATURES);
  for (guint i = 0; i < n; i++)
    {
      SwDkimSignature *s = g_new0 (SwDkimSignature, 1);
      s->body_length = -1;
      s->signed_at = -1;
      s->expires_at = -1;
      g_autofree char *d = field_tag (job, i, "d");
      g_autofree char *sel = field_tag (job, i, "s");
      g_autofree char *a = field_tag (job, i, "a");
      g_autofree char *id = field_tag (job, i, "i");
      g_autofree char *dl = d ? g_ascii_strdown (d, -1) : NULL;
      s->domain = safe_text (dl);
      s->selector = safe_text (sel);
      s->algorithm = safe_text (a);
      s->identity = safe_text (id);
      s->result = result;
      s->reason = g_strdup (reason);
      g_ptr_array_add (r->signatures, s);
    }
  r->n_not_verified = job->sig_fields->len - n;
}

/* ---- verification ---- */

/* Body hashes of one message, one per distinct (canonicalisation, hash, l=). */
typedef struct
{
  SwDkimCanon canon;
  SwDkimHash hash;
  gint64 limit;
  gboolean ok;
  SwDkimBodyHash h;
} BodyHash;

static const BodyHash *
get_body_hash (const Job *job, GArray *cache, SwDkimCanon canon, SwDkimHash hash, gint64 limit)
{
  for (guint i = 0; i < cache->len; i++)
    {
      const BodyHash *e = &g_array_index (cache, BodyHash, i);
      if (e->canon == canon && e->hash == hash && e->limit == limit)
        return e;
    }
  BodyHash e = { canon, hash, limit, FALSE, { { 0 }, 0, 0, 0 } };
  const guint8 *data = job->msg.buf;
  if (job->bodies != NULL)
    e.ok = sw_dkim_body_hasher_lookup (job->bodies, canon, hash, limit, &e.h);
  else
    e.ok = sw_dkim_body_hash (data + job->msg.body_offset, job->msg.len - job->msg.body_offset, canon,
                              hash, limit, &e.h);
  g_array_append_val (cache, e);
  return &g_array_index (cache, BodyHash, cache->len - 1);
}

/* What dkim_eom() would make of @sig, from the state dkim_eoh() left it in
 * (libopendkim/dkim.c, dkim_eom_verify() and the body part of dkim_sig_process()):
 *   1. l= given and the canonical body shorter: error TOOLARGE_L, whatever it was;
 *   2. no error yet and the header signature verified (PASSED): bh= is compared with the
 *      body hash: MATCH, or MISMATCH with error BADSIG; no error then becomes OK;
 *   3. error OK, not Ed25519, fewer key bits than MINKEYBITS (1): KEYTOOSMALL.
 * FALSE when @sig is in a state this does not cover (then libopendkim must do it). */
static gboolean
emulate_eom (const Job *job, DKIM *dkim, DKIM_SIGINFO *sig, GArray *cache, SigState *st)
{
  st->flags = dkim_sig_getflags (sig);
  st->err = dkim_sig_geterror (sig);
  st->bh = dkim_sig_getbh (sig);
  if ((st->flags & DKIM_SIGFLAG_IGNORE) != 0)
    return TRUE;
  if (st->bh != DKIM_SIGBH_UNTESTED || dkim_sig_gettagvalue (sig, FALSE, (u_char *)"!cd") != NULL)
    return FALSE; /* conditional signatures (an experimental draft) are libopendkim's */

  dkim_alg_t alg = DKIM_SIGN_UNKNOWN;
  (void)dkim_sig_getsignalg (sig, &alg);
  ssize_t signlen = -1;
  if (dkim_sig_getcanonlen (dkim, sig, NULL, NULL, &signlen) == DKIM_STAT_OK)
    {
      /* the signature got a body canonicalisation in libopendkim */
      dkim_canon_t hc = DKIM_CANON_UNKNOWN, bc = DKIM_CANON_UNKNOWN;
      SwDkimCanon canon;
      SwDkimHash hash;
      if (signlen < -1 || dkim_sig_getcanons (sig, &hc, &bc) != DKIM_STAT_OK)
        return FALSE;
      if (bc == DKIM_CANON_SIMPLE)
        canon = SW_DKIM_CANON_SIMPLE;
      else if (bc == DKIM_CANON_RELAXED)
        canon = SW_DKIM_CANON_RELAXED;
      else
        return FALSE;
      if (alg == DKIM_SIGN_RSASHA1)
        hash = SW_DKIM_HASH_SHA1;
      else if (alg == DKIM_SIGN_RSASHA256 || alg == DKIM_SIGN_ED25519SHA256)
        hash = SW_DKIM_HASH_SHA256;
      else
        return FALSE;
      const BodyHash *bh = get_body_hash (job, cache, canon, hash, (gint64)signlen);
      if (!bh->ok)
        return FALSE;
      if (signlen != -1 && bh->h.hashed < (guint64)signlen)
        st->err = DKIM_SIGERROR_TOOLARGE_L;
      if (st->err == DKIM_SIGERROR_UNKNOWN)
        {
          if ((st->flags & DKIM_SIGFLAG_PROCESSED) == 0)
            return FALSE;
          if ((st->flags & DKIM_SIGFLAG_PASSED) != 0)
            {
              const char *want = (const char *)dkim_sig_gettagvalue (sig, FALSE, (u_char *)"bh");
              if (want == NULL)
                return FALSE;
              g_autofree char *got = g_base64_encode (bh->h.digest, bh->h.digest_len);
              if (strcmp (want, got) == 0)
                st->bh = DKIM_SIGBH_MATCH;
              else
                {
                  st->err = DKIM_SIGERROR_BADSIG;
                  st->bh = DKIM_SIGBH_MISMATCH;
                }
            }
          if (st->err == DKIM_SIGERROR_UNKNOWN && st->bh != DKIM_SIGBH_UNTESTED)
            st->err = DKIM_SIGERROR_OK;
        }
    }
  else if (st->err == DKIM_SIGERROR_UNKNOWN)
    return FALSE; /* no body canonicalisation but no error either: not expected */

  unsigned int bits = 0;
  if (st->err == DKIM_SIGERROR_OK && alg != DKIM_SIGN_ED25519SHA256
      && (dkim_sig_getkeysize (sig, &bits) != DKIM_STAT_OK || bits < 1))
    {
      st->err = DKIM_SIGERROR_KEYTOOSMALL;
      st->flags &= ~(unsigned int)DKIM_SIGFLAG_PASSED;
    }
  return TRUE;
}

/* One pass over the message. With @library_body libopendkim gets the body and judges
 * it; otherwise emulate_eom() does, and *@redo is set when it cannot (then @r is left
 * untouched and the caller runs again with @library_body). */
static gboolean
run_library (Job *job, SwDkimResults *r, gboolean library_body, gboolean *redo, GError **error)
{
  *redo = FALSE;
  if (library_body)
    sw_dkim_message_normalise_body (&job->msg);
  g_autoptr (SwDkimDns) dns = sw_dkim_dns_new (job->v->resolver, SW_MAX_DNS_QUERIES_PER_MESSAGE);
  gboolean all_ok;
  DKIM_LIB *lib = new_lib (choose_drift (job, &all_ok), dns, error);
  if (lib == NULL)
    return FALSE;

  gboolean ok = TRUE;
  DKIM_STAT status = DKIM_STAT_OK;
  DKIM *dkim = dkim_verify (lib, (const unsigned char *)"spoofwatch", NULL, &status);
  if (dkim == NULL)
    {
      g_set_error (error, SW_DKIM_ERROR, SW_DKIM_ERROR_INTERNAL, "libopendkim: dkim_verify() failed: %s",
                   dkim_getresultstr (status));
      dkim_close (lib);
      return FALSE;
    }

  for (guint i = 0; i < job->msg.fields->len; i++)
    {
      const SwDkimField *f = &g_array_index (job->msg.fields, SwDkimField, i);
      /* libopendkim's prototypes lack const; it copies and never writes the buffer */
      status = dkim_header (dkim, (u_char *)(job->msg.buf + f->offset), f->len);
      /* a malformed field (no colon...) is left out, as dkim_chunk() does with BADSIGHANDLES */
      if (status != DKIM_STAT_OK && status != DKIM_STAT_SYNTAX)
        break;
      status = DKIM_STAT_OK;
    }
  if (status == DKIM_STAT_OK)
    status = dkim_eoh (dkim);

  if (status == DKIM_STAT_NOSIG)
    {
      /* we saw DKIM-Signature fields but libopendkim did not take any as a signature */
      judge_unprocessed (job, r, SW_AUTH_NEUTRAL, "signature not processed: libopendkim saw no signature");
    }
  else if (status != DKIM_STAT_OK)
    {
      g_autofree char *what = safe_text (dkim_geterror (dkim));
      g_autofree char *reason
          = g_strdup_printf ("message not processed: %s", what && *what ? what : dkim_getresultstr (status));
      if (status == DKIM_STAT_NORESOURCE || status == DKIM_STAT_INTERNAL)
        {
          g_set_error (error, SW_DKIM_ERROR, SW_DKIM_ERROR_INTERNAL, "libopendkim: %s", reason);
          ok = FALSE;
        }
      else
        judge_unprocessed (job, r, SW_AUTH_NEUTRAL, reason);
    }
  else if (!library_body)
    {
      DKIM_SIGINFO **sigs = NULL;
      int nsigs = 0;
      g_autoptr (GArray) states = g_array_new (FALSE, FALSE, sizeof (SigState));
      g_autoptr (GArray) cache = g_array_new (FALSE, FALSE, sizeof (BodyHash));
      if (dkim_getsiglist (dkim, &sigs, &nsigs) == DKIM_STAT_OK && sigs != NULL)
        for (int i = 0; i < nsigs && !*redo; i++)
          {
            SigState st;
            *redo = !emulate_eom (job, dkim, sigs[i], cache, &st);
            g_array_append_val (states, st);
          }
      if (!*redo)
        for (int i = 0; i < nsigs; i++)
          {
            const SigState *st = &g_array_index (states, SigState, i);
            if ((st->flags & DKIM_SIGFLAG_IGNORE) != 0)
              {
                r->n_not_verified++;
                continue;
              }
            g_ptr_array_add (r->signatures, judge_signature (job, dkim, sigs[i], dns, st));
          }
    }
  else
    {
      gsize body_len = job->msg.len - job->msg.body_offset;
      if (body_len > 0)
        status = dkim_body (dkim, (u_char *)(job->msg.buf + job->msg.body_offset), body_len);
      if (status == DKIM_STAT_OK)
        {
          _Bool testkey = FALSE;
          status = dkim_eom (dkim, &testkey);
        }
      if (status == DKIM_STAT_NORESOURCE || status == DKIM_STAT_INTERNAL)
        {
          g_autofree char *what = safe_text (dkim_geterror (dkim));
          g_set_error (error, SW_DKIM_ERROR, SW_DKIM_ERROR_INTERNAL, "libopendkim: %s",
                       what && *what ? what : dkim_getresultstr (status));
          ok = FALSE;
        }
      else
        {
          DKIM_SIGINFO **sigs = NULL;
          int nsigs = 0;
          if (dkim_getsiglist (dkim, &sigs, &nsigs) == DKIM_STAT_OK && sigs != NULL)
            for (int i = 0; i < nsigs; i++)
              {
                SigState st = { dkim_sig_getflags (sigs[i]), dkim_sig_geterror (sigs[i]), dkim_sig_getbh (sigs[i]) };
                if ((st.flags & DKIM_SIGFLAG_IGNORE) != 0)
                  {
                    r->n_not_verified++;
                    continue;
                  }
                g_ptr_array_add (r->signatures, judge_signature (job, dkim, sigs[i], dns, &st));
              }
        }
    }

  dkim_free (dkim);
  dkim_close (lib);
  return ok;
}

/* ---- the fast path: our own signature check ---- */

/* One signature on the fast path. */
typedef struct
{
  SwDkimSig sig;
  guint header_index; /* the signature's field in the header list */
  char *qname;
  char *record;       /* the key record text it got (NULL: none), as libopendkim keeps the
                         key tag list a later signature with the same d= and s= reuses */
  guint8 digest[32];
  gsize digest_len;
  SigFacts facts;
} FastSig;

static gboolean
list_has (const char *list, gboolean (*match) (const char *item, gsize len, gconstpointer data), gconstpointer data)
{
  for (const char *p = list; *p;)
    {
      const char *colon = strchr (p, ':');
      gsize n = colon ? (gsize)(colon - p) : strlen (p);
      if (n > 0 && match (p, n, data))
        return TRUE;
      p += n;
      if (*p == ':')
        p++;
    }
  return FALSE;
}

static gboolean
is_word (const char *item, gsize len, gconstpointer data)
{
  const char *word = data;
  return len == strlen (word) && g_ascii_strncasecmp (item, word, len) == 0;
}

static gboolean
is_known_hash (const char *item, gsize len, gconstpointer data)
{
  (void)data;
  return is_word (item, len, "sha1") || is_word (item, len, "sha256");
}

static gboolean
is_email_service (const char *item, gsize len, gconstpointer data)
{
  (void)data;
  return is_word (item, len, "*") || is_word (item, len, "email");
}

/* What dkim_get_key() and dkim_sig_process() make of @fs's key record @text: sets the
 * error and flags of @fs->facts, decodes the key and checks the header signature. FALSE
 * when the record or the key is outside what this emulation covers. */
static gboolean
fast_check_key (const Job *job, FastSig *fs, const char *text)
{
  SigState *st = &fs->facts.st;
  const SwDkimSig *sig = &fs->sig;
  g_auto (SwDkimKeyRecord) rec = { 0 };
  if (!sw_dkim_key_record_read (text, &rec))
    return FALSE;
  st->flags |= DKIM_SIGFLAG_PROCESSED;
  if (rec.v != NULL && strcmp (rec.v, "DKIM1") != 0)
    {
      st->err = DKIM_SIGERROR_KEYVERSION;
      return TRUE;
    }
  if (rec.h != NULL)
    {
      if (!list_has (rec.h, is_known_hash, NULL))
        {
          st->err = DKIM_SIGERROR_KEYUNKNOWNHASH;
          return TRUE;
        }
      if (!list_has (rec.h, is_word, sig->hash == SW_DKIM_HASH_SHA1 ? "sha1" : "sha256"))
        {
          st->err = DKIM_SIGERROR_KEYHASHMISMATCH;
          return TRUE;
        }
    }
  if (rec.s != NULL && !list_has (rec.s, is_email_service, NULL))
    {
      st->err = DKIM_SIGERROR_NOTEMAILKEY;
      return TRUE;
    }
  /* k= must be a known type; the key is then read by the signature's algorithm */
  if (rec.k != NULL && g_ascii_strcasecmp (rec.k, "rsa") != 0 && g_ascii_strcasecmp (rec.k, "ed25519") != 0)
    {
      st->err = DKIM_SIGERROR_KEYTYPEUNKNOWN;
      return TRUE;
    }
  if (rec.p == NULL)
    {
      st->err = DKIM_SIGERROR_DNSSYNTAX;
      return TRUE;
    }
  if (rec.p[0] == '\0')
    {
      st->err = DKIM_SIGERROR_KEYREVOKED;
      return TRUE;
    }
  SwDkimKeyStatus status;
  SwDkimKey *key = sw_dkim_key_cache_get (job->v->keys, sig->ed25519, rec.p, &status);
  if (status == SW_DKIM_KEY_NOT_PLAIN)
    return FALSE;
  /* dkim_get_key() ends with the key flags, once p= is base64 */
  gboolean no_subdomain = FALSE;
  if (rec.t != NULL)
    {
      if (list_has (rec.t, is_word, "y"))
        st->flags |= DKIM_SIGFLAG_TESTKEY;
      no_subdomain = list_has (rec.t, is_word, "s");
    }
  if (status == SW_DKIM_KEY_UNDECODABLE)
    {
      /* libopendkim leaves such a signature unprocessed */
      st->flags &= ~(unsigned int)DKIM_SIGFLAG_PROCESSED;
      st->err = DKIM_SIGERROR_KEYDECODE;
      return TRUE;
    }
  fs->facts.key_bits = sw_dkim_key_get_bits (key);
  if (sw_dkim_key_verify (key, sig->hash, fs->digest, fs->digest_len, sig->sig, sig->sig_len))
    st->flags |= DKIM_SIGFLAG_PASSED;
  else
    st->err = DKIM_SIGERROR_BADSIG;
  sw_dkim_key_unref (key);

  if (no_subdomain && sig->i != NULL)
    {
      const char *at = strchr (sig->i, '@');
      if (g_ascii_strcasecmp (at ? at + 1 : sig->i, sig->d) != 0)
        st->err = DKIM_SIGERROR_SUBDOMAIN;
    }
  return TRUE;
}

/* The key of signature @k (dkim_get_key(): reused from an earlier processed signature
 * with the same d= and s=, else asked for), judged by fast_check_key(). */
static gboolean
fast_key (const Job *job, FastSig *all, guint k, SwDkimDns *dns)
{
  FastSig *fs = &all[k];
  SigState *st = &fs->facts.st;
  for (guint j = 0; j < k; j++)
    {
      if ((all[j].facts.st.flags & DKIM_SIGFLAG_PROCESSED) == 0 || strcmp (all[j].sig.d, fs->sig.d) != 0
          || strcmp (all[j].sig.s, fs->sig.s) != 0)
        continue;
      if (all[j].record != NULL)
        {
          fs->record = g_strdup (all[j].record);
          return fast_check_key (job, fs, fs->record);
        }
      break;
    }

  g_autoptr (SwDnsAnswer) answer = NULL;
  SwDkimDnsOutcome outcome = sw_dkim_dns_query_txt (dns, fs->qname, &answer);
  if (outcome == SW_DKIM_DNS_NXDOMAIN || (outcome == SW_DKIM_DNS_ANSWERED && answer->rdata->len == 0))
    {
      st->flags |= DKIM_SIGFLAG_PROCESSED;
      st->err = DKIM_SIGERROR_NOKEY;
      return TRUE;
    }
  if (outcome != SW_DKIM_DNS_ANSWERED)
    {
      st->flags |= DKIM_SIGFLAG_PROCESSED;
      st->err = DKIM_SIGERROR_KEYFAIL;
      return TRUE;
    }
  if (answer->rdata->len > 1)
    {
      st->flags |= DKIM_SIGFLAG_PROCESSED;
      st->err = DKIM_SIGERROR_MULTIREPLY;
      return TRUE;
    }
  char *text = sw_dns_answer_dup_txt (answer, 0);
  if (text == NULL || strlen (text) > SW_DKIM_MAX_KEY_RECORD)
    {
      g_free (text);
      return FALSE;
    }
  if (text[0] == '\0')
    {
      /* "empty key record": no tag list to reuse */
      g_free (text);
      st->flags |= DKIM_SIGFLAG_PROCESSED;
      st->err = DKIM_SIGERROR_DNSSYNTAX;
      return TRUE;
    }
  fs->record = text;
  return fast_check_key (job, fs, fs->record);
}

/* What dkim_eom() does with @fs (see emulate_eom()). */
static gboolean
fast_eom (const Job *job, FastSig *fs, GArray *cache)
{
  SigState *st = &fs->facts.st;
  const BodyHash *bh = get_body_hash (job, cache, fs->sig.body_canon, fs->sig.hash, fs->sig.length);
  if (!bh->ok)
    return FALSE;
  if (fs->sig.length != -1 && bh->h.hashed < (guint64)fs->sig.length)
    st->err = DKIM_SIGERROR_TOOLARGE_L;
  if (st->err == DKIM_SIGERROR_UNKNOWN)
    {
      if ((st->flags & DKIM_SIGFLAG_PROCESSED) == 0)
        return FALSE;
      if ((st->flags & DKIM_SIGFLAG_PASSED) != 0)
        {
          g_autofree char *got = g_base64_encode (bh->h.digest, bh->h.digest_len);
          if (strcmp (fs->sig.bh, got) == 0)
            st->bh = DKIM_SIGBH_MATCH;
          else
            {
              st->err = DKIM_SIGERROR_BADSIG;
              st->bh = DKIM_SIGBH_MISMATCH;
            }
        }
      if (st->err == DKIM_SIGERROR_UNKNOWN && st->bh != DKIM_SIGBH_UNTESTED)
        st->err = DKIM_SIGERROR_OK;
    }
  if (st->err == DKIM_SIGERROR_OK && !fs->sig.ed25519 && fs->facts.key_bits < 1)
    {
      st->err = DKIM_SIGERROR_KEYTOOSMALL;
      st->flags &= ~(unsigned int)DKIM_SIGFLAG_PASSED;
    }
  return TRUE;
}

static void
fast_sigs_free (FastSig *fs, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      sw_dkim_sig_clear (&fs[i].sig);
      g_free (fs[i].qname);
      g_free (fs[i].record);
    }
  g_free (fs);
}

/* Verifies the message without libopendkim when every signature and header field is plain
 * (sw_dkim_sig_read(), sw_dkim_headers_collect()) and each key record is one this path
 * reads as libopendkim does; the results are then exactly libopendkim's (the same facts
 * go through judge_facts()). FALSE, with @r untouched, when the message must go to
 * libopendkim. */
static gboolean
run_fast (Job *job, SwDkimResults *r)
{
  guint n = job->sig_fields->len;
  if (n == 0 || n > SW_DKIM_MAX_SIGNATURES)
    return FALSE;
  gboolean all_ok;
  (void)choose_drift (job, &all_ok);
  if (!all_ok)
    return FALSE;
  g_autoptr (GArray) headers = g_array_sized_new (FALSE, FALSE, sizeof (SwDkimHeader), job->msg.fields->len);
  if (!sw_dkim_headers_collect (&job->msg, headers))
    {
      g_debug ("a header field is not plain: left to libopendkim");
      return FALSE;
    }

  FastSig *fs = g_new0 (FastSig, n);
  gboolean ok = TRUE;
  guint next_header = 0;
  for (guint i = 0; i < n && ok; i++)
    {
      const SwDkimField *field = g_ptr_array_index (job->sig_fields, i);
      gsize len;
      const char *value = field_value (job, field, &len);
      ok = sw_dkim_sig_read (value, len, &fs[i].sig);
      if (!ok)
        g_debug ("signature %u is not plain: left to libopendkim", i);
      while (ok && next_header < headers->len
             && g_array_index (headers, SwDkimHeader, next_header).field != field)
        next_header++;
      ok = ok && next_header < headers->len;
      if (!ok)
        break;
      fs[i].header_index = next_header;
      fs[i].qname = g_strconcat (fs[i].sig.s, "._domainkey.", fs[i].sig.d, NULL);
      ok = sw_dkim_header_hash ((const SwDkimHeader *)(void *)headers->data, headers->len, next_header, &fs[i].sig,
                                fs[i].digest, &fs[i].digest_len);
    }

  g_autoptr (SwDkimDns) dns = ok ? sw_dkim_dns_new (job->v->resolver, SW_MAX_DNS_QUERIES_PER_MESSAGE) : NULL;
  for (guint i = 0; i < n && ok; i++)
    {
      SigFacts *f = &fs[i].facts;
      const SwDkimSig *sig = &fs[i].sig;
      f->d = sig->d;
      f->sel = sig->s;
      f->i = sig->i;
      f->a = sig->a;
      f->l = sig->l;
      f->b = sig->b;
      f->t = sig->t;
      f->x = sig->x;
      f->alg = sig->ed25519 ? DKIM_SIGN_ED25519SHA256
               : sig->hash == SW_DKIM_HASH_SHA1 ? DKIM_SIGN_RSASHA1
                                                : DKIM_SIGN_RSASHA256;
      f->st.flags = 0;
      f->st.err = DKIM_SIGERROR_UNKNOWN;
      f->st.bh = DKIM_SIGBH_UNTESTED;
      ok = fast_key (job, fs, i, dns);
    }

  if (!ok && dns != NULL)
    g_debug ("a key record or key is not plain: left to libopendkim");
  g_autoptr (GArray) cache = g_array_new (FALSE, FALSE, sizeof (BodyHash));
  for (guint i = 0; i < n && ok; i++)
    ok = fast_eom (job, &fs[i], cache);

  if (ok)
    for (guint i = 0; i < n; i++)
      {
        SigFacts *f = &fs[i].facts;
        f->outcome = sw_dkim_dns_get_outcome (dns, fs[i].qname, &f->dnssec);
        g_ptr_array_add (r->signatures, judge_facts (job, f));
      }
  fast_sigs_free (fs, n);
  return ok;
}

static gboolean
verify_common (SwDkimVerifier *v, GBytes *message, const SwDkimBodyHasher *bodies, gint64 verify_time,
               SwDkimResults **results_out, GError **error)
{
  g_return_val_if_fail (v != NULL, FALSE);
  g_return_val_if_fail (message != NULL, FALSE);
  g_return_val_if_fail (results_out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  gsize len = 0;
  const guint8 *raw = g_bytes_get_data (message, &len);
  if (len > SW_MAX_MESSAGE_IN_MEMORY)
    {
      g_set_error (error, SW_DKIM_ERROR, SW_DKIM_ERROR_TOO_LARGE,
                   "message of %" G_GSIZE_FORMAT " bytes exceeds the %u bytes verified in memory", len,
                   SW_MAX_MESSAGE_IN_MEMORY);
      return FALSE;
    }

  Job job = { 0 };
  job.v = v;
  job.now = g_get_real_time () / G_USEC_PER_SEC;
  job.verify_time = verify_time > 0 ? verify_time : job.now;
  job.bodies = bodies;
  /* the body is normalised only if libopendkim reads it (run_library()) */
  sw_dkim_message_init_header (&job.msg, raw ? raw : (const guint8 *)"", len);
  job.sig_fields = g_ptr_array_new ();
  for (guint i = 0; i < job.msg.fields->len; i++)
    {
      SwDkimField *f = &g_array_index (job.msg.fields, SwDkimField, i);
      if (sw_dkim_field_has_name (&job.msg, f, "DKIM-Signature"))
        g_ptr_array_add (job.sig_fields, f);
    }

  g_autoptr (SwDkimResults) r = sw_dkim_results_new ();
  gboolean ok = TRUE;
  if (job.msg.over_limit)
    judge_unprocessed (&job, r, SW_AUTH_PERMERROR, "message header exceeds Spoofwatch's limits");
  else if (job.sig_fields->len > 0)
    {
      gboolean redo = FALSE;
      gboolean library_body = v->library_body && bodies == NULL;
      if (!v->library_only && !library_body && run_fast (&job, r))
        g_atomic_int_inc (&v->n_fast);
      else if ((ok = run_library (&job, r, library_body, &redo, error)) && redo)
        {
          if (bodies != NULL)
            {
              /* only libopendkim's own body path can judge this signature, and it needs
               * the body itself */
              g_set_error (error, SW_DKIM_ERROR, SW_DKIM_ERROR_NEEDS_BODY,
                           "a signature needs the whole message to be verified");
              ok = FALSE;
            }
          else
            ok = run_library (&job, r, TRUE, &redo, error);
        }
    }

  g_ptr_array_unref (job.sig_fields);
  sw_dkim_message_clear (&job.msg);
  if (!ok)
    return FALSE;
  *results_out = g_steal_pointer (&r);
  return TRUE;
}

gboolean
sw_dkim_verify (SwDkimVerifier *v, GBytes *message, gint64 verify_time, SwDkimResults **results_out,
                GError **error)
{
  return verify_common (v, message, NULL, verify_time, results_out, error);
}

gboolean
sw_dkim_verify_prehashed (SwDkimVerifier *v, GBytes *header_block, const SwDkimBodyHasher *bodies,
                          gint64 verify_time, SwDkimResults **results_out, GError **error)
{
  g_return_val_if_fail (bodies != NULL, FALSE);
  return verify_common (v, header_block, bodies, verify_time, results_out, error);
}
