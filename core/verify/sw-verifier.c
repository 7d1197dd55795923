#define G_LOG_DOMAIN "sw-verify"
#include "sw-verifier.h"
#include "sw-explain.h"
#include "sw-dkim-bodyhash.h"
#include "sw-domain.h"
#include "sw-limits.h"
#include "sw-message.h"
#include "sw-received.h"
#include "sw-util.h"

#include <gmime/gmime.h>
#include <string.h>

G_DEFINE_QUARK (sw-verifier-error-quark, sw_verifier_error)

struct _SwVerifier {
  SwResolver       *resolver;
  SwDmarcMode       dmarc_mode;
  char             *authserv_id;
  char            **provider_hosts;
  int               trusted_hops;
  char             *upstream_host;
  char            **trusted_authserv_ids;
  SwSpfChecker     *spf;
  SwDkimVerifier   *dkim;
  SwDmarcEvaluator *dmarc;
};

static void
provider_result_free (SwProviderResult *r)
{
  if (r == NULL)
    return;
  g_free (r->authserv_id);
  g_free (r->method);
  g_free (r->detail);
  g_free (r);
}

void
sw_verify_result_free (SwVerifyResult *result)
{
  if (result == NULL)
    return;
  g_free (result->explanation);
  g_free (result->from_domain);
  g_free (result->from_domain_display);
  g_free (result->org_domain);
  g_free (result->message_id);
  g_free (result->subject);
  g_free (result->from_header);
  g_free (result->list_id);
  g_clear_pointer (&result->from, sw_from_free);
  g_clear_pointer (&result->envelope, sw_envelope_free);
  g_clear_pointer (&result->spf, sw_spf_result_free);
  g_clear_pointer (&result->spf_helo, sw_spf_result_free);
  g_clear_pointer (&result->dkim, sw_dkim_results_free);
  /* dmarc points into dmarc_all */
  g_clear_pointer (&result->dmarc_all, g_ptr_array_unref);
  g_clear_pointer (&result->provider_results, g_ptr_array_unref);
  g_free (result->error);
  g_free (result);
}

static SwVerifyResult *
verify_result_new (void)
{
  SwVerifyResult *r = g_new0 (SwVerifyResult, 1);
  r->dmarc_all = g_ptr_array_new_with_free_func ((GDestroyNotify) sw_dmarc_result_free);
  r->provider_results = g_ptr_array_new_with_free_func ((GDestroyNotify) provider_result_free);
  r->verified_at = g_get_real_time () / G_USEC_PER_SEC;
  return r;
}

SwVerifyResult *
sw_verify_result_new_error (SwVerdict verdict, const char *reason)
{
  g_return_val_if_fail (verdict == SW_VERDICT_TEMPERROR || verdict == SW_VERDICT_PERMERROR, NULL);
  SwVerifyResult *r = verify_result_new ();
  r->verdict = verdict;
  r->error = g_strdup (reason ? reason : "verification failed");
  r->dkim = g_new0 (SwDkimResults, 1);
  r->dkim->signatures = g_ptr_array_new_with_free_func ((GDestroyNotify) sw_dkim_signature_free);
  r->spf = sw_spf_result_new_none ("mailfrom", "not evaluated: verification failed");
  r->explanation = sw_explain_verdict (r);
  return r;
}

SwVerifier *
sw_verifier_new (const SwVerifierConfig *config, GError **error)
{
  g_return_val_if_fail (config != NULL && config->resolver != NULL, NULL);

  static gsize gmime_once = 0;
  if (g_once_init_enter (&gmime_once))
    {
      g_mime_init ();
      g_once_init_leave (&gmime_once, 1);
    }

  g_autoptr (SwVerifier) v = g_new0 (SwVerifier, 1);
  v->resolver = sw_resolver_ref (config->resolver);
  v->dmarc_mode = config->dmarc_mode;
  v->authserv_id = g_strdup (config->authserv_id ? config->authserv_id : "spoofwatch");
  v->provider_hosts = g_strdupv ((char **) config->hints.provider_hosts);
  v->trusted_hops = config->hints.trusted_hops;
  v->upstream_host = g_strdup (config->hints.upstream_host);
  v->trusted_authserv_ids = g_strdupv ((char **) config->trusted_authserv_ids);

  v->spf = sw_spf_checker_new (v->resolver, error);
  if (v->spf == NULL)
    return NULL;
  v->dkim = sw_dkim_verifier_new (v->resolver, error);
  if (v->dkim == NULL)
    return NULL;
  v->dmarc = sw_dmarc_evaluator_new (v->resolver, v->dmarc_mode, error);
  if (v->dmarc == NULL)
    return NULL;
  return g_steal_pointer (&v);
}

void
sw_verifier_free (SwVerifier *v)
{
  if (v == NULL)
    return;
  g_clear_pointer (&v->dmarc, sw_dmarc_evaluator_free);
  g_clear_pointer (&v->dkim, sw_dkim_verifier_free);
  g_clear_pointer (&v->spf, sw_spf_checker_free);
  g_clear_pointer (&v->resolver, sw_resolver_unref);
  g_free (v->authserv_id);
  g_strfreev (v->provider_hosts);
  g_free (v->upstream_host);
  g_strfreev (v->trusted_authserv_ids);
  g_free (v);
}

const char *
sw_verifier_get_authserv_id (SwVerifier *v)
{
  g_return_val_if_fail (v != NULL, NULL);
  return v->authserv_id;
}

SwResolver *
sw_verifier_get_resolver (SwVerifier *v)
{
  g_return_val_if_fail (v != NULL, NULL);
  return v->resolver;
}

SwDmarcMode
sw_verifier_get_dmarc_mode (SwVerifier *v)
{
  g_return_val_if_fail (v != NULL, SW_DMARC_MODE_RFC9989);
  return v->dmarc_mode;
}

void
sw_verifier_get_envelope_hints (SwVerifier *v, SwEnvelopeHints *hints_out)
{
  g_return_if_fail (v != NULL && hints_out != NULL);
  hints_out->provider_hosts = (const char *const *) v->provider_hosts;
  hints_out->trusted_hops = v->trusted_hops;
  hints_out->upstream_host = v->upstream_host;
}

/* Severity of a per-domain verdict when a message has several author domains: the worst
 * one decides. */
static int
verdict_severity (SwVerdict v)
{
  switch (v)
    {
    case SW_VERDICT_REJECT: return 6;
    case SW_VERDICT_QUARANTINE: return 5;
    case SW_VERDICT_FAIL_NONE: return 4;
    case SW_VERDICT_PERMERROR: return 3;
    case SW_VERDICT_TEMPERROR: return 2;
    case SW_VERDICT_NONE: return 1;
    case SW_VERDICT_PASS: return 0;
    case SW_VERDICT_COUNT: break;
    }
  return 3;
}

static const char *
domain_of_address (const char *addr)
{
  if (addr == NULL)
    return NULL;
  const char *at = strrchr (addr, '@');
  return at ? at + 1 : NULL;
}

/* A DMARC failure where an identity that would have aligned could not be checked
 * because of a transient DNS fault is a temperror, not a failure: the domain's own DNS
 * failed, and a retry may pass (RFC 9989 section on temporary failures). */
static gboolean
aligned_identity_had_temperror (const SwDmarcResult *dm, const SwDmarcIdentity *spf_id,
                                const SwDmarcIdentity *dkim_ids, guint n_dkim)
{
  if (dm->from_domain == NULL || dm->org_domain == NULL)
    return FALSE;
  if (spf_id->domain != NULL && spf_id->result == SW_AUTH_TEMPERROR
      && sw_domain_is_within (spf_id->domain, dm->org_domain))
    return TRUE;
  for (guint i = 0; i < n_dkim; i++)
    if (dkim_ids[i].domain != NULL && dkim_ids[i].result == SW_AUTH_TEMPERROR
        && sw_domain_is_within (dkim_ids[i].domain, dm->org_domain))
      return TRUE;
  return FALSE;
}

static SwVerdict
verdict_for_dmarc (const SwDmarcResult *dm, gboolean temperror_aligned)
{
  switch (dm->result)
    {
    case SW_AUTH_PASS:
      return SW_VERDICT_PASS;
    case SW_AUTH_NONE:
      return SW_VERDICT_NONE;
    case SW_AUTH_TEMPERROR:
      return SW_VERDICT_TEMPERROR;
    case SW_AUTH_PERMERROR:
      return SW_VERDICT_PERMERROR;
    case SW_AUTH_FAIL:
      if (temperror_aligned)
        return SW_VERDICT_TEMPERROR;
      switch (dm->policy_applied)
        {
        case SW_DMARC_POLICY_REJECT:
          return SW_VERDICT_REJECT;
        case SW_DMARC_POLICY_QUARANTINE:
          return SW_VERDICT_QUARANTINE;
        case SW_DMARC_POLICY_NONE:
        case SW_DMARC_POLICY_UNSET:
          return SW_VERDICT_FAIL_NONE;
        }
      return SW_VERDICT_FAIL_NONE;
    default:
      return SW_VERDICT_PERMERROR;
    }
}

/* characters of a decoded header value kept in the result */
#define HEADER_TEXT_MAX_CHARS 300u

static char *
decoded_header (SwMessage *msg, const char *name)
{
  const SwHeaderField *f = sw_message_find_field (msg, name, 0);
  if (f == NULL || f->value == NULL)
    return NULL;
  /* Printable ASCII without "=?" (no encoded word) within the cap is what decoding and
   * sanitising give back as it is: most Subject, Message-ID and From values. */
  gsize n = 0;
  while (n <= HEADER_TEXT_MAX_CHARS && f->value[n] >= 0x20 && f->value[n] < 0x7f && !(f->value[n] == '=' && f->value[n + 1] == '?'))
    n++;
  if (f->value[n] == '\0' && n <= HEADER_TEXT_MAX_CHARS)
    return g_strndup (f->value, n);
  g_autofree char *decoded = g_mime_utils_header_decode_text (NULL, f->value);
  return sw_sanitize_for_log (decoded ? decoded : f->value, -1, HEADER_TEXT_MAX_CHARS);
}

/* Index in the header of the boundary Received field, or -1. */
static int
boundary_field_position (SwMessage *msg, int boundary_index)
{
  if (boundary_index < 0)
    return -1;
  int seen = 0;
  guint n = sw_message_get_n_fields (msg);
  for (guint i = 0; i < n; i++)
    {
      const SwHeaderField *f = sw_message_get_field (msg, i);
      if (g_ascii_strcasecmp (f->name, "Received") == 0)
        {
          if (seen == boundary_index)
            return (int) i;
          seen++;
        }
    }
  return -1;
}

static int
first_received_position (SwMessage *msg)
{
  guint n = sw_message_get_n_fields (msg);
  for (guint i = 0; i < n; i++)
    if (g_ascii_strcasecmp (sw_message_get_field (msg, i)->name, "Received") == 0)
      return (int) i;
  return (int) n;
}

static gboolean
authserv_id_trusted (SwVerifier *v, const char *id)
{
  if (v->trusted_authserv_ids == NULL || id == NULL)
    return FALSE;
  for (char **t = v->trusted_authserv_ids; *t; t++)
    if (g_ascii_strcasecmp (*t, id) == 0)
      return TRUE;
  return FALSE;
}

/* Records the results of Authentication-Results fields written by a provider the
 * account trusts. Only fields above the boundary Received (or above every Received when
 * the boundary is unknown) count: anything below it could have been written by the
 * sender. */
static void
collect_provider_results (SwVerifier *v, SwMessage *msg, const SwEnvelope *env, SwVerifyResult *r)
{
  if (v->trusted_authserv_ids == NULL)
    return;
  int limit = boundary_field_position (msg, env->boundary_index);
  if (limit < 0)
    limit = first_received_position (msg);
  for (int i = 0; i < limit; i++)
    {
      const SwHeaderField *f = sw_message_get_field (msg, (guint) i);
      if (g_ascii_strcasecmp (f->name, "Authentication-Results") != 0)
        continue;
      g_autoptr (GError) error = NULL;
      g_autoptr (SwAuthres) ar = sw_authres_parse (f->value, &error);
      if (ar == NULL || !authserv_id_trusted (v, ar->authserv_id))
        continue;
      for (guint m = 0; m < ar->methods->len; m++)
        {
          const SwAuthresMethod *method = g_ptr_array_index (ar->methods, m);
          if (g_strcmp0 (method->method, "spf") != 0 && g_strcmp0 (method->method, "dkim") != 0
              && g_strcmp0 (method->method, "dmarc") != 0)
            continue;
          SwProviderResult *pr = g_new0 (SwProviderResult, 1);
          pr->authserv_id = sw_sanitize_for_log (ar->authserv_id, -1, 100);
          pr->method = g_strdup (method->method);
          pr->result = method->result;
          const char *detail = NULL, *key = NULL;
          if (g_strcmp0 (method->method, "spf") == 0)
            {
              key = "smtp.mailfrom";
              detail = sw_authres_method_get (method, "smtp", "mailfrom");
            }
          else if (g_strcmp0 (method->method, "dkim") == 0)
            {
              key = "header.d";
              detail = sw_authres_method_get (method, "header", "d");
              if (detail == NULL)
                {
                  key = "header.i";
                  detail = sw_authres_method_get (method, "header", "i");
                }
            }
          else
            {
              key = "header.from";
              detail = sw_authres_method_get (method, "header", "from");
            }
          if (detail != NULL)
            {
              g_autofree char *clean = sw_sanitize_for_log (detail, -1, 200);
              pr->detail = g_strdup_printf ("%s=%s", key, clean);
            }
          g_ptr_array_add (r->provider_results, pr);
        }
    }
}

/* The provider's SPF verdict, used when the boundary hop is unknown. */
static const SwProviderResult *
provider_spf (const SwVerifyResult *r)
{
  for (guint i = 0; i < r->provider_results->len; i++)
    {
      const SwProviderResult *pr = g_ptr_array_index (r->provider_results, i);
      if (g_strcmp0 (pr->method, "spf") == 0)
        return pr;
    }
  return NULL;
}

static void
run_spf (SwVerifier *v, SwVerifyResult *r)
{
  SwEnvelope *env = r->envelope;
  if (env->ip == NULL)
    {
      const SwProviderResult *pr = provider_spf (r);
      if (pr != NULL && pr->detail != NULL && g_str_has_prefix (pr->detail, "smtp.mailfrom="))
        {
          const char *mf = pr->detail + strlen ("smtp.mailfrom=");
          g_autofree char *reason = g_strdup_printf ("taken from %s's Authentication-Results: "
                                                     "the boundary hop is unknown",
                                                     pr->authserv_id);
          r->spf = sw_spf_result_new_none ("mailfrom", reason);
          r->spf->result = pr->result;
          const char *d = domain_of_address (mf);
          r->spf->domain = sw_domain_to_ascii (d ? d : mf);
          r->spf->mail_from = g_strdup (mf);
          return;
        }
      g_autofree char *reason = g_strdup_printf ("not evaluated: %s",
                                                 env->reason ? env->reason
                                                             : "the sending server could not be determined");
      r->spf = sw_spf_result_new_none ("mailfrom", reason);
      return;
    }

  g_autoptr (GError) error = NULL;
  SwSpfResult *res = NULL;
  if (!sw_spf_check_mailfrom (v->spf, env->ip, env->helo, env->mail_from, &res, &error))
    {
      g_autofree char *reason = g_strdup_printf ("SPF check failed: %s", error->message);
      res = sw_spf_result_new_none ("mailfrom", reason);
      res->result = SW_AUTH_TEMPERROR;
    }
  r->spf = res;

  if (env->helo != NULL && *env->helo != '\0')
    {
      g_clear_error (&error);
      SwSpfResult *helo = NULL;
      if (sw_spf_check_helo (v->spf, env->ip, env->helo, &helo, &error))
        r->spf_helo = helo;
    }
}

static gboolean
verify_common (SwVerifier            *v,
               GBytes                *message,
               const SwDkimBodyHasher *bodies,
               const SwKnownEnvelope *known,
               SwVerifyResult       **result_out,
               GError               **error)
{
  g_return_val_if_fail (v != NULL, FALSE);
  g_return_val_if_fail (message != NULL, FALSE);
  g_return_val_if_fail (result_out != NULL && *result_out == NULL, FALSE);

  if (g_bytes_get_size (message) > SW_MAX_MESSAGE_IN_MEMORY)
    {
      g_set_error (error, SW_VERIFIER_ERROR, SW_VERIFIER_ERROR_TOO_BIG,
                   "message of %" G_GSIZE_FORMAT " bytes is larger than %u bytes",
                   g_bytes_get_size (message), SW_MAX_MESSAGE_IN_MEMORY);
      return FALSE;
    }

  g_autoptr (SwVerifyResult) r = verify_result_new ();
  g_autoptr (SwMessage) msg = sw_message_new (message);

  r->message_id = decoded_header (msg, "Message-ID");
  r->subject = decoded_header (msg, "Subject");
  r->from_header = decoded_header (msg, "From");
  r->list_id = decoded_header (msg, "List-Id");
  r->from = sw_from_parse (msg);

  /* The envelope: given, or reconstructed from Received:/Return-Path:. */
  if (known != NULL && known->ip != NULL)
    {
      SwEnvelope *env = g_new0 (SwEnvelope, 1);
      env->ip = sw_ip_normalize (known->ip);
      env->ip_source = SW_SOURCE_GIVEN;
      env->helo = g_strdup (known->helo);
      env->helo_source = known->helo ? SW_SOURCE_GIVEN : SW_SOURCE_NONE;
      env->mail_from = g_strdup (known->mail_from ? known->mail_from : "");
      env->mail_from_source = SW_SOURCE_GIVEN;
      env->boundary_index = -1;
      env->boundary_time = -1;
      env->reason = g_strdup ("envelope given by the caller");
      r->envelope = env;
    }
  else
    {
      SwEnvelopeHints hints;
      sw_verifier_get_envelope_hints (v, &hints);
      r->envelope = sw_envelope_reconstruct (msg, &hints);
    }

  collect_provider_results (v, msg, r->envelope, r);
  run_spf (v, r);

  /* DKIM: t= and x= are judged at the time the provider received the message. */
  gint64 when = r->envelope->boundary_time;
  g_autoptr (GError) dkim_error = NULL;
  gboolean dkim_ok = bodies != NULL ? sw_dkim_verify_prehashed (v->dkim, message, bodies, when, &r->dkim, &dkim_error)
                                     : sw_dkim_verify (v->dkim, message, when, &r->dkim, &dkim_error);
  if (!dkim_ok && g_error_matches (dkim_error, SW_DKIM_ERROR, SW_DKIM_ERROR_NEEDS_BODY))
    {
      g_set_error (error, SW_VERIFIER_ERROR, SW_VERIFIER_ERROR_NEEDS_BODY, "%s", dkim_error->message);
      return FALSE;
    }
  if (!dkim_ok)
    {
      g_warning ("DKIM verification could not run: %s", dkim_error->message);
      r->dkim = g_new0 (SwDkimResults, 1);
      r->dkim->signatures = g_ptr_array_new_with_free_func ((GDestroyNotify) sw_dkim_signature_free);
    }

  /* DMARC, for each distinct author domain. */
  SwDmarcIdentity spf_id = { NULL, SW_AUTH_NONE };
  if (r->spf != NULL)
    {
      spf_id.domain = r->spf->domain;
      spf_id.result = r->spf->result;
    }
  guint n_dkim = r->dkim->signatures->len;
  g_autofree SwDmarcIdentity *dkim_ids = g_new0 (SwDmarcIdentity, MAX (n_dkim, 1));
  for (guint i = 0; i < n_dkim; i++)
    {
      const SwDkimSignature *sig = g_ptr_array_index (r->dkim->signatures, i);
      dkim_ids[i].domain = sig->domain;
      dkim_ids[i].result = sig->result;
    }

  if (r->from->status != SW_FROM_OK || r->from->domains->len == 0)
    {
      r->verdict = SW_VERDICT_PERMERROR;
    }
  else
    {
      int worst = -1;
      for (guint i = 0; i < r->from->domains->len; i++)
        {
          const char *domain = g_ptr_array_index (r->from->domains, i);
          SwDmarcResult *dm = NULL;
          g_autoptr (GError) dm_error = NULL;
          if (!sw_dmarc_evaluate (v->dmarc, domain, &spf_id, dkim_ids, n_dkim, &dm, &dm_error))
            {
              g_set_error (error, SW_VERIFIER_ERROR, SW_VERIFIER_ERROR_SETUP,
                           "DMARC evaluation could not run: %s", dm_error->message);
              return FALSE;
            }
          g_ptr_array_add (r->dmarc_all, dm);
          SwVerdict verdict =
            verdict_for_dmarc (dm, dm->result == SW_AUTH_FAIL
                                     && aligned_identity_had_temperror (dm, &spf_id, dkim_ids, n_dkim));
          if (verdict_severity (verdict) > worst)
            {
              worst = verdict_severity (verdict);
              r->verdict = verdict;
              r->dmarc = dm;
            }
        }
      r->from_domain = g_strdup (r->dmarc->from_domain);
      r->org_domain = g_strdup (r->dmarc->org_domain);
      r->from_domain_display = sw_domain_to_display (r->from_domain);
    }

  r->explanation = sw_explain_verdict (r);
  *result_out = g_steal_pointer (&r);
  return TRUE;
}

gboolean
sw_verifier_verify (SwVerifier            *v,
                    GBytes                *message,
                    const SwKnownEnvelope *known,
                    SwVerifyResult       **result_out,
                    GError               **error)
{
  return verify_common (v, message, NULL, known, result_out, error);
}

gboolean
sw_verifier_verify_prehashed (SwVerifier             *v,
                              GBytes                 *header_block,
                              const SwDkimBodyHasher *bodies,
                              const SwKnownEnvelope  *known,
                              SwVerifyResult        **result_out,
                              GError                **error)
{
  g_return_val_if_fail (bodies != NULL, FALSE);
  return verify_common (v, header_block, bodies, known, result_out, error);
}
