#define G_LOG_DOMAIN "sw-explain"
#include "sw-explain.h"
#include "sw-domain.h"

#include <glib/gi18n-lib.h>

#include <string.h>

/* What the policy asks, in words. */
static const char *
policy_phrase (SwDmarcPolicy p)
{
  switch (p)
    {
    case SW_DMARC_POLICY_REJECT:
      return _ ("which rejects unauthenticated mail");
    case SW_DMARC_POLICY_QUARANTINE:
      return _ ("which asks for unauthenticated mail to be treated as suspicious");
    case SW_DMARC_POLICY_NONE:
    case SW_DMARC_POLICY_UNSET:
      break;
    }
  return _ ("which only monitors unauthenticated mail");
}

static gboolean
domain_related (const char *a, const char *org)
{
  return a != NULL && org != NULL && sw_domain_is_within (a, org);
}

/* The SPF half of a failure: why the sending server does not vouch for the domain. */
static char *
spf_failure_phrase (const SwVerifyResult *r, const char *from, const char *org)
{
  const SwSpfResult *spf = r->spf;
  const char *ip = r->envelope ? r->envelope->ip : NULL;
  if (spf == NULL || ip == NULL)
    return g_strdup (_ ("was sent from a server that could not be determined"));

  if (spf->domain != NULL && !domain_related (spf->domain, org))
    {
      if (spf->result == SW_AUTH_PASS)
        return g_strdup_printf (_ ("was sent from %s on behalf of %s, not %s"), ip, spf->domain, from);
      return g_strdup_printf (_ ("was sent from %s with the envelope sender domain %s, not %s"),
                              ip, spf->domain, from);
    }
  switch (spf->result)
    {
    case SW_AUTH_FAIL:
    case SW_AUTH_SOFTFAIL:
    case SW_AUTH_NEUTRAL:
      return g_strdup_printf (_ ("was sent from %s, which %s does not list"), ip,
                              spf->domain ? spf->domain : from);
    case SW_AUTH_NONE:
      return g_strdup_printf (_ ("was sent from %s, and %s publishes no list of its servers"), ip,
                              spf->domain ? spf->domain : from);
    case SW_AUTH_TEMPERROR:
      return g_strdup_printf (_ ("was sent from %s, which could not be checked because of a DNS error"), ip);
    case SW_AUTH_PERMERROR:
      return g_strdup_printf (_ ("was sent from %s, and the SPF record of %s is broken"), ip,
                              spf->domain ? spf->domain : from);
    case SW_AUTH_PASS:
      /* A pass for a related domain that did not align (strict mode). */
      return g_strdup_printf (_ ("was sent from %s, listed only for %s, which strict alignment does not accept"),
                              ip, spf->domain);
    default:
      return g_strdup_printf (_ ("was sent from %s"), ip);
    }
}

/* The DKIM half of a failure. */
static char *
dkim_failure_phrase (const SwVerifyResult *r, const char *org)
{
  GPtrArray *sigs = r->dkim ? r->dkim->signatures : NULL;
  if (sigs == NULL || sigs->len == 0)
    return g_strdup (_ ("carries no DKIM signature"));

  const SwDkimSignature *own_failed = NULL;
  g_autoptr (GString) others = g_string_new (NULL);
  for (guint i = 0; i < sigs->len; i++)
    {
      const SwDkimSignature *s = g_ptr_array_index (sigs, i);
      if (domain_related (s->domain, org))
        {
          if (own_failed == NULL)
            own_failed = s;
        }
      else if (s->result == SW_AUTH_PASS && s->domain != NULL
               && strstr (others->str, s->domain) == NULL)
        {
          if (others->len > 0)
            g_string_append (others, ", ");
          g_string_append (others, s->domain);
        }
    }
  if (own_failed != NULL)
    {
      const char *why = own_failed->reason;
      if (why == NULL || g_str_equal (why, "signature did not verify"))
        return g_strdup_printf (_ ("its DKIM signature from %s does not verify"), own_failed->domain);
      return g_strdup_printf (_ ("its DKIM signature from %s does not verify (%s)"), own_failed->domain, why);
    }
  if (others->len > 0)
    return g_strdup_printf (_ ("is DKIM-signed only by %s"), others->str);
  return g_strdup (_ ("carries no valid DKIM signature"));
}

static char *
explain_from_problem (const SwVerifyResult *r)
{
  if (r->from == NULL)
    return g_strdup (_ ("The message could not be checked: it has no readable From: address."));
  switch (r->from->status)
    {
    case SW_FROM_MISSING:
      return g_strdup (_ ("The message has no From: line, so nobody can tell who sent it."));
    case SW_FROM_MULTIPLE_FIELDS:
      return g_strdup (_ ("The message has several From: lines, a trick to show one sender and "
                       "authenticate another; it cannot be checked."));
    default:
      return g_strdup_printf (_ ("The sender address in the From: line cannot be checked (%s)."),
                              r->from->reason ? r->from->reason : _ ("no usable domain"));
    }
}

char *
sw_explain_verdict (const SwVerifyResult *r)
{
  g_return_val_if_fail (r != NULL, NULL);

  if (r->error != NULL)
    {
      if (r->verdict == SW_VERDICT_TEMPERROR)
        return g_strdup_printf (_ ("The message could not be checked because of a temporary problem (%s); "
                                "it will be checked again when it is fetched again."), r->error);
      return g_strdup_printf (_ ("The message could not be checked (%s)."), r->error);
    }
  if (r->dmarc == NULL)
    return explain_from_problem (r);

  const SwDmarcResult *dm = r->dmarc;
  g_autofree char *from = sw_domain_to_display (dm->from_domain);
  const char *org = dm->org_domain ? dm->org_domain : dm->from_domain;
  const char *list_note = r->list_id != NULL
                            ? _ (" It came through a mailing list, which often changes messages in ways that break these checks.")
                            : "";

  switch (r->verdict)
    {
    case SW_VERDICT_PASS:
      if (dm->dkim_aligned && dm->aligned_dkim_domain != NULL)
        return g_strdup_printf (_ ("Really from %s: the message carries a valid digital signature (DKIM) of %s."),
                                from, dm->aligned_dkim_domain);
      return g_strdup_printf (_ ("Really from %s: it was sent from %s, a server that %s lists as its own (SPF)."),
                              from, r->envelope && r->envelope->ip ? r->envelope->ip : _ ("a server"),
                              r->spf && r->spf->domain ? r->spf->domain : from);

    case SW_VERDICT_NONE:
      {
        const char *facts;
        if (r->spf && r->spf->result == SW_AUTH_PASS && domain_related (r->spf->domain, org))
          facts = _ ("its server is listed by the domain (SPF pass)");
        else
          facts = _ ("nothing proves where it came from");
        return g_strdup_printf (_ ("%s publishes no DMARC policy, so Spoofwatch cannot say whether this "
                                "message really comes from it; %s."), from, facts);
      }

    case SW_VERDICT_FAIL_NONE:
    case SW_VERDICT_QUARANTINE:
    case SW_VERDICT_REJECT:
      {
        g_autofree char *spf = spf_failure_phrase (r, from, org);
        g_autofree char *dkim = dkim_failure_phrase (r, org);
        if (r->verdict == SW_VERDICT_FAIL_NONE)
          {
            const char *why = dm->testing
                                ? _ ("is testing its policy, so mail failing it is only reported")
                                : _ ("only monitors such mail (p=none)");
            return g_strdup_printf (_ ("Claims to be from %s but %s, and %s; %s %s, so this may be a forgery "
                                    "or a sending mistake of theirs.%s"),
                                    from, spf, dkim, from, why, list_note);
          }
        return g_strdup_printf (_ ("Claims to be from %s, %s, but %s, and %s.%s"), from,
                                policy_phrase (dm->policy_applied), spf, dkim, list_note);
      }

    case SW_VERDICT_TEMPERROR:
      return g_strdup_printf (_ ("Whether this message really comes from %s could not be checked because of a "
                              "temporary DNS problem (%s); it will be checked again when fetched again."),
                              from, dm->reason ? dm->reason : _ ("a lookup failed"));

    case SW_VERDICT_PERMERROR:
      return g_strdup_printf (_ ("Whether this message really comes from %s cannot be checked: %s."), from,
                              dm->reason ? dm->reason : _ ("its DMARC record is broken"));

    case SW_VERDICT_COUNT:
      break;
    }
  return g_strdup (_ ("No verdict."));
}
