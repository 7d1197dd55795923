#define G_LOG_DOMAIN "sw-dmarc"
#define _DEFAULT_SOURCE /* u_char and struct sockaddr_in in <opendmarc/dmarc.h> */
/* sw-dmarc.c: DMARC evaluation (see sw-dmarc.h for the rules and their sources). The
 * only file that sees libopendmarc. */
#include "sw-dmarc-private.h"
#include "sw-domain.h"
#include "sw-limits.h"
#include "sw-util.h"
#include <string.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <opendmarc/dmarc.h>

/* clang-format off */
G_DEFINE_QUARK (sw-dmarc-error-quark, sw_dmarc_error)
/* clang-format on */

struct _SwDmarcEvaluator
{
  SwResolver *resolver;
  SwDmarcMode mode;
};

/* ---- libopendmarc: process-global state, set up once ---- */

static gboolean
opendmarc_setup (GError **error)
{
  static gsize once = 0;
  static int status = -1;
  if (g_once_init_enter (&once))
    {
      /* Its DNS code must never run: it maps SERVFAIL to "no record" and ignores multiple
       * records (TECH-NOTES.md section 3). Once any fake record exists, every lookup of
       * libopendmarc's own is answered from the fake table, so this one (under a name
       * that cannot exist) turns them all into NO_DATA. None of the calls made below
       * would look anything up anyway: we never call opendmarc_policy_query_dmarc(),
       * store_dkim/store_spf, nor fetch_rua/fetch_ruf with a buffer. */
      opendmarc_dns_fake_record ("spoofwatch-never-looks-up.invalid", "");
      /* No PSL: libopendmarc's organizational-domain logic stays unused. */
      OPENDMARC_LIB_T lib;
      memset (&lib, 0, sizeof lib);
      lib.tld_type = OPENDMARC_TLD_TYPE_MOZILLA;
      status = opendmarc_policy_library_init (&lib);
      g_once_init_leave (&once, 1);
    }
  if (status != DMARC_PARSE_OKAY)
    {
      g_set_error (error, SW_DMARC_ERROR, SW_DMARC_ERROR_SETUP, "libopendmarc failed to initialise (%d)",
                   status);
      return FALSE;
    }
  return TRUE;
}

static SwDmarcPolicy
policy_from_opendmarc (int c)
{
  switch (c)
    {
    case DMARC_RECORD_P_NONE:
      return SW_DMARC_POLICY_NONE;
    case DMARC_RECORD_P_QUARANTINE:
      return SW_DMARC_POLICY_QUARANTINE;
    case DMARC_RECORD_P_REJECT:
      return SW_DMARC_POLICY_REJECT;
    default:
      return SW_DMARC_POLICY_UNSET;
    }
}

const char *
sw_dmarc_policy_to_string (SwDmarcPolicy p)
{
  switch (p)
    {
    case SW_DMARC_POLICY_NONE:
      return "none";
    case SW_DMARC_POLICY_QUARANTINE:
      return "quarantine";
    case SW_DMARC_POLICY_REJECT:
      return "reject";
    case SW_DMARC_POLICY_UNSET:
      break;
    }
  return "";
}

void
sw_dmarc_record_free (SwDmarcRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->raw);
  g_free (record->domain);
  g_strfreev (record->rua);
  g_strfreev (record->ruf);
  g_free (record);
}

void
sw_dmarc_result_free (SwDmarcResult *r)
{
  if (r == NULL)
    return;
  g_free (r->from_domain);
  g_free (r->org_domain);
  g_clear_pointer (&r->record, sw_dmarc_record_free);
  g_free (r->aligned_dkim_domain);
  g_free (r->reason);
  g_clear_pointer (&r->lookups, g_ptr_array_unref);
  g_free (r);
}

SwDmarcEvaluator *
sw_dmarc_evaluator_new (SwResolver *resolver, SwDmarcMode mode, GError **error)
{
  g_return_val_if_fail (resolver != NULL, NULL);
  g_return_val_if_fail (mode < SW_DMARC_MODE_COUNT, NULL);

  if (!opendmarc_setup (error))
    return NULL;
  if (mode == SW_DMARC_MODE_RFC7489)
    {
      g_autofree char *probe = sw_psl_registrable_domain ("www.example.com");
      if (g_strcmp0 (probe, "example.com") != 0)
        {
          g_set_error (error, SW_DMARC_ERROR, SW_DMARC_ERROR_SETUP,
                       "the public suffix list could not be loaded");
          return NULL;
        }
    }
  SwDmarcEvaluator *e = g_new0 (SwDmarcEvaluator, 1);
  e->resolver = sw_resolver_ref (resolver);
  e->mode = mode;
  return e;
}

void
sw_dmarc_evaluator_free (SwDmarcEvaluator *e)
{
  if (e == NULL)
    return;
  g_clear_pointer (&e->resolver, sw_resolver_unref);
  g_free (e);
}

/* ---- one evaluation ---- */

typedef enum
{
  ALIGN_NO = 0,
  ALIGN_YES,
  ALIGN_UNKNOWN, /* a DNS failure (or the cap) kept the organizational domain from being found */
} Align;

typedef struct
{
  SwDmarcEvaluator *e;
  SwDmarcResult *r;
  SwDmarcDns dns;
  const SwDmarcFetch *unknown_cause; /* the fetch behind the first ALIGN_UNKNOWN */
} Eval;

static void
eval_set (Eval *ev, SwAuthResult result, char *reason)
{
  ev->r->result = result;
  g_free (ev->r->reason);
  ev->r->reason = reason;
}

/* Sets TEMPERROR or PERMERROR for a fetch that could not complete. */
static void
eval_fetch_failed (Eval *ev, const SwDmarcFetch *f)
{
  if (f->kind == SW_DMARC_FETCH_LIMIT)
    eval_set (ev, SW_AUTH_PERMERROR,
              g_strdup_printf ("DMARC evaluation needs more than %u DNS queries", ev->dns.max_queries));
  else
    eval_set (ev, SW_AUTH_TEMPERROR,
              g_strdup_printf ("DNS %s looking up _dmarc.%s",
                               f->status == SW_DNS_STATUS_TIMEOUT ? "timeout" : "server failure", f->domain));
}

/* The organizational domain of @domain in the evaluator's mode: transfer full, or NULL
 * (with ev->unknown_cause set) when it cannot be found. FALSE only on resolver error. */
static gboolean
org_domain_of (Eval *ev, const char *domain, char **org_out, GError **error)
{
  *org_out = NULL;
  if (ev->e->mode == SW_DMARC_MODE_RFC7489)
    {
      char *reg = sw_psl_registrable_domain (domain);
      *org_out = reg != NULL ? reg : g_strdup (domain);
      return TRUE;
    }
  SwDmarcTreeWalk walk;
  if (!sw_dmarc_tree_walk (&ev->dns, domain, &walk, error))
    {
      sw_dmarc_tree_walk_clear (&walk);
      return FALSE;
    }
  if (walk.complete)
    *org_out = g_steal_pointer (&walk.org_domain);
  else if (ev->unknown_cause == NULL)
    ev->unknown_cause = walk.failed;
  sw_dmarc_tree_walk_clear (&walk);
  return TRUE;
}

static gboolean
check_alignment (Eval *ev, const char *identity, char mode, Align *out, GError **error)
{
  *out = ALIGN_NO;
  g_autofree char *id = sw_domain_to_ascii (identity);
  if (id == NULL)
    return TRUE;
  if (sw_domain_equal (id, ev->r->from_domain))
    {
      *out = ALIGN_YES; /* identical: aligned in both modes */
      return TRUE;
    }
  if (mode == 's')
    return TRUE; /* strict: exact match only (not libopendmarc's check, see TECH-NOTES) */
  if (ev->r->org_domain == NULL)
    {
      *out = ALIGN_UNKNOWN;
      return TRUE;
    }
  /* Relaxed: an identity outside the Author Domain's organizational domain cannot have
   * the same organizational domain, so no walk is needed for it. */
  if (!sw_domain_is_within (id, ev->r->org_domain))
    return TRUE;
  g_autofree char *org = NULL;
  if (!org_domain_of (ev, id, &org, error))
    return FALSE;
  if (org == NULL)
    *out = ALIGN_UNKNOWN;
  else if (sw_domain_equal (org, ev->r->org_domain))
    *out = ALIGN_YES;
  return TRUE;
}

/* Rebuilds the record from the tags found valid (sw-dmarc-record.c) and lets libopendmarc
 * parse it and choose p= or sp=. rua/ruf stay out of it: its parser copies each value
 * into a 512-byte (URI: 256-byte) buffer with an off-by-one at exactly that length. */
static gboolean
opendmarc_select (const char *author, const char *org_for_sp, SwDmarcPolicy p, SwDmarcPolicy sp, char adkim,
                  char aspf, int pct, SwDmarcRecord *rec, const char **tag_out, SwDmarcPolicy *policy_out)
{
  g_autoptr (GString) clean = g_string_new ("v=DMARC1; p=");
  g_string_append (clean, sw_dmarc_policy_to_string (p));
  if (sp != SW_DMARC_POLICY_UNSET)
    g_string_append_printf (clean, "; sp=%s", sw_dmarc_policy_to_string (sp));
  if (adkim != 0)
    g_string_append_printf (clean, "; adkim=%c", adkim);
  if (aspf != 0)
    g_string_append_printf (clean, "; aspf=%c", aspf);
  if (pct >= 0)
    g_string_append_printf (clean, "; pct=%d", pct);

  DMARC_POLICY_T *ctx = opendmarc_policy_connect_init ((u_char *)"0.0.0.0", 0);
  if (ctx == NULL)
    return FALSE;
  gboolean ok = FALSE;
  OPENDMARC_STATUS_T st
      = opendmarc_policy_store_dmarc (ctx, (u_char *)clean->str, (u_char *)author, (u_char *)org_for_sp);
  if (st == DMARC_PARSE_OKAY)
    {
      int vp = 0, vsp = 0, vadkim = 0, vaspf = 0, vpct = -1;
      (void)opendmarc_policy_fetch_p (ctx, &vp);
      (void)opendmarc_policy_fetch_sp (ctx, &vsp);
      (void)opendmarc_policy_fetch_adkim (ctx, &vadkim);
      (void)opendmarc_policy_fetch_aspf (ctx, &vaspf);
      (void)opendmarc_policy_fetch_pct (ctx, &vpct);
      rec->p = policy_from_opendmarc (vp);
      rec->sp = policy_from_opendmarc (vsp);
      rec->adkim = vadkim == DMARC_RECORD_A_STRICT ? 's' : 'r';
      rec->aspf = vaspf == DMARC_RECORD_A_STRICT ? 's' : 'r';
      rec->pct = pct >= 0 ? vpct : -1; /* libopendmarc reports an absent pct as 100 */

      /* Without authentication results stored, the policy to enforce is the policy for
       * a failing message: sp= when an organizational domain was given, else p=. */
      OPENDMARC_STATUS_T enforce = opendmarc_get_policy_to_enforce (ctx);
      OPENDMARC_STATUS_T used = opendmarc_get_policy_token_used (ctx);
      switch (enforce)
        {
        case DMARC_POLICY_REJECT:
          *policy_out = SW_DMARC_POLICY_REJECT;
          ok = TRUE;
          break;
        case DMARC_POLICY_QUARANTINE:
          *policy_out = SW_DMARC_POLICY_QUARANTINE;
          ok = TRUE;
          break;
        case DMARC_POLICY_NONE:
          *policy_out = SW_DMARC_POLICY_NONE;
          ok = TRUE;
          break;
        default:
          break;
        }
      *tag_out = used == DMARC_USED_POLICY_IS_SP ? "sp" : "p";
    }
  if (!ok)
    g_warning ("libopendmarc rejected a rebuilt record (status %d)", st);
  opendmarc_policy_connect_shutdown (ctx);
  return ok;
}

static char **
strv_from_array (GPtrArray *a)
{
  GStrvBuilder *b = g_strv_builder_new ();
  for (guint i = 0; a != NULL && i < a->len; i++)
    g_strv_builder_add (b, g_ptr_array_index (a, i));
  char **v = g_strv_builder_end (b);
  g_strv_builder_unref (b);
  return v;
}

typedef enum
{
  EXISTENCE_KNOWN = 0,
  EXISTENCE_TEMPFAIL, /* the A query failed: sp= or np= cannot be chosen */
  EXISTENCE_LIMIT,    /* the query cap kept the A query from being made */
} Existence;

/* Reads the applicable record @f and fills the policy fields. FALSE with a result set
 * (PERMERROR) when the record cannot be used; FALSE with @error on resolver error. */
static gboolean
apply_record (Eval *ev, const SwDmarcFetch *f, gboolean from_parent, Existence *existence_unknown,
              GError **error)
{
  SwDmarcResult *r = ev->r;
  gboolean rfc9989 = ev->e->mode == SW_DMARC_MODE_RFC9989;
  SwDmarcRecord *rec = g_new0 (SwDmarcRecord, 1);
  r->record = rec;
  rec->raw = sw_sanitize_for_log (f->text, -1, SW_DMARC_MAX_RECORD);
  rec->domain = g_strdup (f->domain);
  rec->adkim = rec->aspf = 'r';
  rec->pct = -1;
  rec->psd = 'u';

  if (f->too_long)
    {
      rec->rua = g_new0 (char *, 1);
      rec->ruf = g_new0 (char *, 1);
      eval_set (ev, SW_AUTH_PERMERROR,
                g_strdup_printf ("the DMARC record at _dmarc.%s is longer than %u bytes", f->domain,
                                 SW_DMARC_MAX_RECORD));
      return FALSE;
    }

  const SwDmarcScan *s = &f->scan;
  rec->rua = strv_from_array (s->rua);
  rec->ruf = strv_from_array (s->ruf);
  /* np=, psd= and t= are shown as published in both modes; RFC 7489 mode ignores them. */
  rec->np = s->np_state == SW_DMARC_TAG_VALID ? s->np : SW_DMARC_POLICY_UNSET;
  rec->testing = s->t == 'y';
  rec->psd = s->psd;

  /* RFC 9989 section 4.10.1 (RFC 7489 section 6.6.3): an invalid p=, sp= or np= (RFC
   * 7489: p= or sp=; an absent p= is invalid there) means p=none if rua= has a valid
   * URI, else no DMARC processing. */
  gboolean p_bad = s->p_state == SW_DMARC_TAG_INVALID || (!rfc9989 && s->p_state == SW_DMARC_TAG_ABSENT);
  gboolean bad
      = p_bad || s->sp_state == SW_DMARC_TAG_INVALID || (rfc9989 && s->np_state == SW_DMARC_TAG_INVALID);
  SwDmarcPolicy p = s->p_state == SW_DMARC_TAG_VALID ? s->p : SW_DMARC_POLICY_NONE; /* section 4.7 "p" */
  SwDmarcPolicy sp = s->sp_state == SW_DMARC_TAG_VALID ? s->sp : SW_DMARC_POLICY_UNSET;
  SwDmarcPolicy np = rfc9989 && s->np_state == SW_DMARC_TAG_VALID ? s->np : SW_DMARC_POLICY_UNSET;
  if (bad)
    {
      const char *which = p_bad ? (s->p_state == SW_DMARC_TAG_ABSENT ? "no p=" : "an invalid p=")
                          : s->sp_state == SW_DMARC_TAG_INVALID ? "an invalid sp="
                                                                : "an invalid np=";
      if (s->rua->len == 0)
        {
          eval_set (ev, SW_AUTH_PERMERROR,
                    g_strdup_printf (
                        "the DMARC record at _dmarc.%s has %s and no valid rua=, so DMARC does not apply",
                        f->domain, which));
          rec->np = SW_DMARC_POLICY_UNSET;
          return FALSE;
        }
      g_debug ("record at _dmarc.%s has %s: read as p=none", f->domain, which);
      p = SW_DMARC_POLICY_NONE;
      sp = np = SW_DMARC_POLICY_UNSET;
      rec->np = SW_DMARC_POLICY_UNSET;
    }

  const char *tag = "p";
  SwDmarcPolicy published = SW_DMARC_POLICY_UNSET;
  if (!opendmarc_select (r->from_domain, from_parent ? f->domain : NULL, p, sp, s->adkim, s->aspf, s->pct,
                         rec, &tag, &published))
    {
      eval_set (ev, SW_AUTH_PERMERROR,
                g_strdup_printf ("the DMARC record at _dmarc.%s could not be parsed", f->domain));
      return FALSE;
    }

  /* np= for a non-existent Author Domain below the record's domain (RFC 9989 sections
   * 4.7 "np" and 4.10.1). Non-existent means NXDOMAIN (section 3.2.13, appendix A.4). */
  if (rfc9989 && from_parent && np != SW_DMARC_POLICY_UNSET)
    {
      const SwDmarcFetch *own = g_hash_table_lookup (ev->dns.fetches, r->from_domain);
      if (own != NULL && (own->kind == SW_DMARC_FETCH_NONE || own->kind == SW_DMARC_FETCH_MULTIPLE)
          && (own->status == SW_DNS_STATUS_NODATA || own->status == SW_DNS_STATUS_OK))
        {
          /* _dmarc.<author> exists, so its parent does (RFC 8020): no query needed. */
        }
      else
        {
          SwDnsStatus st = SW_DNS_STATUS_OK;
          gboolean limit = FALSE;
          if (!sw_dmarc_dns_exists (&ev->dns, r->from_domain, &st, &limit, error))
            return FALSE;
          if (limit)
            *existence_unknown = EXISTENCE_LIMIT;
          else if (st == SW_DNS_STATUS_SERVFAIL || st == SW_DNS_STATUS_TIMEOUT)
            *existence_unknown = EXISTENCE_TEMPFAIL;
          else if (st == SW_DNS_STATUS_NXDOMAIN)
            {
              tag = "np";
              published = np;
            }
        }
    }

  r->policy_tag = tag;
  r->policy_published = published;
  /* Test mode: t=y; or pct=0 in a record without t= (RFC 9989 appendix A.6). RFC 7489
   * mode knows only pct. */
  if (rfc9989)
    r->testing = s->t == 'y' || (s->t == 0 && rec->pct == 0);
  else
    r->testing = rec->pct == 0;
  r->policy_applied = r->testing ? SW_DMARC_POLICY_NONE : published;
  return TRUE;
}

/* Policy discovery, RFC 9989 section 4.10.1: sets org_domain and returns the fetch of the
 * record that applies (NULL: result set). */
static const SwDmarcFetch *
discover_rfc9989 (Eval *ev, gboolean *from_parent, GError **error, gboolean *failed)
{
  SwDmarcResult *r = ev->r;
  SwDmarcTreeWalk walk;
  *failed = FALSE;
  if (!sw_dmarc_tree_walk (&ev->dns, r->from_domain, &walk, error))
    {
      sw_dmarc_tree_walk_clear (&walk);
      *failed = TRUE;
      return NULL;
    }
  const SwDmarcFetch *start = walk.start;
  const SwDmarcFetch *chosen = NULL;
  if (walk.complete)
    r->org_domain = g_strdup (walk.org_domain);
  else if (ev->unknown_cause == NULL)
    ev->unknown_cause = walk.failed;

  if (start->kind == SW_DMARC_FETCH_ONE)
    {
      chosen = start;
      *from_parent = FALSE;
    }
  else if (!walk.complete)
    {
      eval_fetch_failed (ev, walk.failed);
    }
  else
    {
      chosen = walk.org_record != NULL ? walk.org_record : walk.psd_record;
      *from_parent = TRUE;
      if (chosen == NULL)
        {
          if (walk.multiple != NULL)
            eval_set (ev, SW_AUTH_NONE,
                      g_strdup_printf ("several DMARC records at _dmarc.%s (all ignored) and no other DMARC "
                                       "record for %s or its organizational domain",
                                       walk.multiple->domain, r->from_domain));
          else
            eval_set (
                ev, SW_AUTH_NONE,
                g_strdup_printf ("no DMARC record for %s or its organizational domain", r->from_domain));
        }
    }
  sw_dmarc_tree_walk_clear (&walk);
  return chosen;
}

/* Policy discovery, RFC 7489 section 6.6.3. */
static const SwDmarcFetch *
discover_rfc7489 (Eval *ev, gboolean *from_parent, GError **error, gboolean *failed)
{
  SwDmarcResult *r = ev->r;
  *failed = FALSE;
  char *reg = sw_psl_registrable_domain (r->from_domain);
  r->org_domain = reg != NULL ? reg : g_strdup (r->from_domain);

  const SwDmarcFetch *f = sw_dmarc_dns_fetch (&ev->dns, r->from_domain, error);
  if (f == NULL)
    {
      *failed = TRUE;
      return NULL;
    }
  *from_parent = FALSE;
  if (f->kind == SW_DMARC_FETCH_NONE && !sw_domain_equal (r->org_domain, r->from_domain))
    {
      f = sw_dmarc_dns_fetch (&ev->dns, r->org_domain, error);
      if (f == NULL)
        {
          *failed = TRUE;
          return NULL;
        }
      *from_parent = TRUE;
    }
  switch (f->kind)
    {
    case SW_DMARC_FETCH_ONE:
      return f;
    case SW_DMARC_FETCH_MULTIPLE:
      eval_set (ev, SW_AUTH_NONE,
                g_strdup_printf ("several DMARC records at _dmarc.%s, so DMARC does not apply", f->domain));
      return NULL;
    case SW_DMARC_FETCH_NONE:
      eval_set (ev, SW_AUTH_NONE,
                g_strdup_printf ("no DMARC record for %s or its organizational domain", r->from_domain));
      return NULL;
    case SW_DMARC_FETCH_TEMPFAIL:
    case SW_DMARC_FETCH_LIMIT:
      eval_fetch_failed (ev, f);
      return NULL;
    }
  return NULL;
}

gboolean
sw_dmarc_evaluate (SwDmarcEvaluator *e, const char *from_domain, const SwDmarcIdentity *spf,
                   const SwDmarcIdentity *dkim, guint n_dkim, SwDmarcResult **result_out, GError **error)
{
  g_return_val_if_fail (e != NULL, FALSE);
  g_return_val_if_fail (result_out != NULL, FALSE);
  g_return_val_if_fail (dkim != NULL || n_dkim == 0, FALSE);

  g_autofree char *author = from_domain != NULL ? sw_domain_to_ascii (from_domain) : NULL;
  if (author == NULL)
    {
      g_set_error (error, SW_DMARC_ERROR, SW_DMARC_ERROR_INVALID_DOMAIN,
                   "the author domain is not a domain name");
      return FALSE;
    }

  g_autoptr (SwDmarcResult) r = g_new0 (SwDmarcResult, 1);
  r->mode = e->mode;
  r->from_domain = g_steal_pointer (&author);
  r->lookups = g_ptr_array_new_with_free_func (g_free);
  r->result = SW_AUTH_NONE;

  Eval ev = { .e = e, .r = r };
  sw_dmarc_dns_init (&ev.dns, e->resolver, SW_MAX_DNS_QUERIES_PER_MESSAGE, r->lookups);

  gboolean ok = FALSE;
  gboolean from_parent = FALSE, failed = FALSE;
  Existence existence_unknown = EXISTENCE_KNOWN;
  const SwDmarcFetch *chosen = e->mode == SW_DMARC_MODE_RFC9989
                                   ? discover_rfc9989 (&ev, &from_parent, error, &failed)
                                   : discover_rfc7489 (&ev, &from_parent, error, &failed);
  if (failed)
    goto out;
  if (chosen == NULL)
    {
      ok = TRUE; /* NONE, TEMPERROR or PERMERROR already set */
      goto out;
    }
  if (!apply_record (&ev, chosen, from_parent, &existence_unknown, error))
    {
      ok = r->reason != NULL; /* PERMERROR set, or a resolver error */
      goto out;
    }

  /* Identifier alignment (RFC 9989 sections 4.4 and 4.10.2). */
  Align spf_align = ALIGN_NO, best_dkim = ALIGN_NO;
  gboolean spf_pass = spf != NULL && spf->domain != NULL && spf->result == SW_AUTH_PASS;
  gboolean any_dkim_pass = FALSE;
  if (spf_pass && !check_alignment (&ev, spf->domain, r->record->aspf, &spf_align, error))
    goto out;
  for (guint i = 0; i < n_dkim; i++)
    {
      if (dkim[i].domain == NULL || dkim[i].result != SW_AUTH_PASS)
        continue;
      any_dkim_pass = TRUE;
      Align a = ALIGN_NO;
      if (!check_alignment (&ev, dkim[i].domain, r->record->adkim, &a, error))
        goto out;
      if (a == ALIGN_YES)
        {
          best_dkim = ALIGN_YES;
          r->aligned_dkim_domain = sw_domain_to_ascii (dkim[i].domain);
          break;
        }
      if (a == ALIGN_UNKNOWN)
        best_dkim = ALIGN_UNKNOWN;
    }
  r->spf_aligned = spf_align == ALIGN_YES;
  r->dkim_aligned = best_dkim == ALIGN_YES;

  if (r->spf_aligned || r->dkim_aligned)
    {
      eval_set (&ev, SW_AUTH_PASS,
                r->spf_aligned && r->dkim_aligned ? g_strdup_printf (
                    "SPF (%s) and DKIM (d=%s) both pass and are aligned", spf->domain, r->aligned_dkim_domain)
                : r->dkim_aligned
                    ? g_strdup_printf ("DKIM passes with d=%s, aligned with %s", r->aligned_dkim_domain,
                                       r->from_domain)
                    : g_strdup_printf ("SPF passes for %s, aligned with %s", spf->domain, r->from_domain));
    }
  else if (spf_align == ALIGN_UNKNOWN || best_dkim == ALIGN_UNKNOWN)
    {
      /* RFC 9989 section 5.3.6: a query that did not complete leaves neither pass nor
       * fail. */
      g_assert (ev.unknown_cause != NULL);
      eval_fetch_failed (&ev, ev.unknown_cause);
      g_autofree char *why = r->reason;
      r->reason = g_strconcat (why, " while checking alignment", NULL);
    }
  else if (existence_unknown == EXISTENCE_LIMIT)
    {
      eval_set (&ev, SW_AUTH_PERMERROR,
                g_strdup_printf ("DMARC evaluation needs more than %u DNS queries", ev.dns.max_queries));
    }
  else if (existence_unknown == EXISTENCE_TEMPFAIL)
    {
      eval_set (&ev, SW_AUTH_TEMPERROR,
                g_strdup_printf ("DNS failure looking up %s A, needed to choose between sp= and np=",
                                 r->from_domain));
    }
  else
    {
      const char *spf_word
          = spf != NULL && spf->domain != NULL ? sw_auth_result_to_string (spf->result) : "not checked";
      char *reason;
      if (spf_pass && any_dkim_pass)
        reason = g_strdup ("SPF and DKIM both unaligned");
      else if (spf_pass)
        reason = g_strdup_printf (
            "SPF passes for %s, which is not aligned with %s, and no DKIM signature passes", spf->domain,
            r->from_domain);
      else if (any_dkim_pass)
        reason = g_strdup_printf ("no passing DKIM signature is aligned with %s, and SPF is %s",
                                  r->from_domain, spf_word);
      else
        reason = g_strdup_printf ("no DKIM signature passes and SPF is %s", spf_word);
      eval_set (&ev, SW_AUTH_FAIL, reason);
    }
  ok = TRUE;

out:
  sw_dmarc_dns_clear (&ev.dns);
  if (!ok)
    return FALSE;
  if (r->result == SW_AUTH_NONE || r->result == SW_AUTH_PERMERROR || r->result == SW_AUTH_TEMPERROR)
    {
      /* No policy applies when no usable record was found or no verdict reached. */
      if (r->result != SW_AUTH_TEMPERROR || r->record == NULL)
        {
          r->policy_tag = NULL;
          r->policy_published = SW_DMARC_POLICY_UNSET;
          r->policy_applied = SW_DMARC_POLICY_UNSET;
        }
    }
  *result_out = g_steal_pointer (&r);
  return TRUE;
}
