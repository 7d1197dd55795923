#define G_LOG_DOMAIN "sw-verify"
#include "sw-verify-json.h"

static void
add_string (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
add_spf (JsonBuilder *b, const char *name, const SwSpfResult *spf, const SwEnvelope *env)
{
  json_builder_set_member_name (b, name);
  if (spf == NULL)
    {
      json_builder_add_null_value (b);
      return;
    }
  json_builder_begin_object (b);
  add_string (b, "result", sw_auth_result_to_string (spf->result));
  add_string (b, "identity", spf->identity);
  add_string (b, "domain", spf->domain);
  add_string (b, "ip", spf->ip ? spf->ip : (env ? env->ip : NULL));
  add_string (b, "helo", spf->helo ? spf->helo : (env ? env->helo : NULL));
  add_string (b, "mail_from", spf->mail_from);
  add_string (b, "record", spf->record);
  add_string (b, "reason", spf->reason);
  add_string (b, "explanation", spf->explanation);
  if (env != NULL)
    {
      add_string (b, "source", sw_source_to_string (env->ip_source));
      add_string (b, "helo_source", sw_source_to_string (env->helo_source));
      add_string (b, "mail_from_source", sw_source_to_string (env->mail_from_source));
    }
  json_builder_end_object (b);
}

static void
add_dkim (JsonBuilder *b, const SwDkimResults *dkim)
{
  json_builder_set_member_name (b, "dkim");
  json_builder_begin_array (b);
  for (guint i = 0; dkim && i < dkim->signatures->len; i++)
    {
      const SwDkimSignature *s = g_ptr_array_index (dkim->signatures, i);
      json_builder_begin_object (b);
      add_string (b, "result", sw_auth_result_to_string (s->result));
      add_string (b, "domain", s->domain);
      add_string (b, "selector", s->selector);
      add_string (b, "identity", s->identity);
      add_string (b, "algorithm", s->algorithm);
      json_builder_set_member_name (b, "key_bits");
      json_builder_add_int_value (b, s->key_bits);
      json_builder_set_member_name (b, "body_length_limited");
      json_builder_add_boolean_value (b, s->body_length_limited);
      json_builder_set_member_name (b, "signed_at");
      json_builder_add_int_value (b, s->signed_at);
      json_builder_set_member_name (b, "expires_at");
      json_builder_add_int_value (b, s->expires_at);
      add_string (b, "dnssec", sw_dnssec_state_to_string (s->dnssec));
      add_string (b, "reason", s->reason);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

static void
add_policy (JsonBuilder *b, const char *name, SwDmarcPolicy p)
{
  json_builder_set_member_name (b, name);
  if (p == SW_DMARC_POLICY_UNSET)
    json_builder_add_null_value (b);
  else
    json_builder_add_string_value (b, sw_dmarc_policy_to_string (p));
}

static void
add_dmarc_object (JsonBuilder *b, const SwDmarcResult *dm)
{
  json_builder_begin_object (b);
  add_string (b, "result", sw_auth_result_to_string (dm->result));
  add_string (b, "mode", dm->mode == SW_DMARC_MODE_RFC7489 ? "rfc7489" : "rfc9989");
  add_string (b, "from_domain", dm->from_domain);
  add_string (b, "org_domain", dm->org_domain);
  add_policy (b, "policy", dm->policy_applied);
  add_policy (b, "policy_published", dm->policy_published);
  add_string (b, "policy_tag", dm->policy_tag);
  json_builder_set_member_name (b, "testing");
  json_builder_add_boolean_value (b, dm->testing);
  add_string (b, "record", dm->record ? dm->record->raw : NULL);
  add_string (b, "record_domain", dm->record ? dm->record->domain : NULL);
  if (dm->record != NULL)
    {
      json_builder_set_member_name (b, "tags");
      json_builder_begin_object (b);
      add_policy (b, "p", dm->record->p);
      add_policy (b, "sp", dm->record->sp);
      add_policy (b, "np", dm->record->np);
      char a[2] = { dm->record->adkim, 0 }, s[2] = { dm->record->aspf, 0 };
      add_string (b, "adkim", a);
      add_string (b, "aspf", s);
      json_builder_set_member_name (b, "pct");
      if (dm->record->pct >= 0)
        json_builder_add_int_value (b, dm->record->pct);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "t");
      json_builder_add_boolean_value (b, dm->record->testing);
      json_builder_set_member_name (b, "rua");
      json_builder_begin_array (b);
      for (char **u = dm->record->rua; u && *u; u++)
        json_builder_add_string_value (b, *u);
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_set_member_name (b, "aligned_by");
  json_builder_begin_array (b);
  if (dm->dkim_aligned)
    json_builder_add_string_value (b, "dkim");
  if (dm->spf_aligned)
    json_builder_add_string_value (b, "spf");
  json_builder_end_array (b);
  add_string (b, "aligned_dkim_domain", dm->aligned_dkim_domain);
  add_string (b, "reason", dm->reason);
  json_builder_set_member_name (b, "lookups");
  json_builder_begin_array (b);
  for (guint i = 0; dm->lookups && i < dm->lookups->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (dm->lookups, i));
  json_builder_end_array (b);
  json_builder_end_object (b);
}

JsonNode *
sw_verify_result_to_json_node (const SwVerifyResult *r, const char *file, int index)
{
  g_return_val_if_fail (r != NULL, NULL);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, SW_JSON_VERSION);
  if (file != NULL)
    add_string (b, "file", file);
  if (index >= 0)
    {
      json_builder_set_member_name (b, "index");
      json_builder_add_int_value (b, index);
    }
  add_string (b, "verdict", sw_verdict_to_string (r->verdict));
  add_string (b, "explanation", r->explanation);
  add_string (b, "from_domain", r->from_domain);
  add_string (b, "from_domain_display", r->from_domain_display);
  add_string (b, "org_domain", r->org_domain);
  add_string (b, "from", r->from_header);
  add_string (b, "subject", r->subject);
  add_string (b, "message_id", r->message_id);
  add_string (b, "list_id", r->list_id);
  add_string (b, "error", r->error);
  json_builder_set_member_name (b, "verified_at");
  json_builder_add_int_value (b, r->verified_at);

  json_builder_set_member_name (b, "from_domains");
  json_builder_begin_array (b);
  for (guint i = 0; r->from && r->from->domains && i < r->from->domains->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (r->from->domains, i));
  json_builder_end_array (b);
  if (r->from != NULL && r->from->reason != NULL)
    add_string (b, "from_problem", r->from->reason);

  json_builder_set_member_name (b, "envelope");
  if (r->envelope != NULL)
    {
      const SwEnvelope *e = r->envelope;
      json_builder_begin_object (b);
      add_string (b, "ip", e->ip);
      add_string (b, "ip_source", sw_source_to_string (e->ip_source));
      add_string (b, "helo", e->helo);
      add_string (b, "helo_source", sw_source_to_string (e->helo_source));
      add_string (b, "mail_from", e->mail_from);
      add_string (b, "mail_from_source", sw_source_to_string (e->mail_from_source));
      json_builder_set_member_name (b, "boundary_index");
      json_builder_add_int_value (b, e->boundary_index);
      add_string (b, "boundary_by", e->boundary_by);
      json_builder_set_member_name (b, "boundary_time");
      json_builder_add_int_value (b, e->boundary_time);
      add_string (b, "reason", e->reason);
      json_builder_end_object (b);
    }
  else
    json_builder_add_null_value (b);

  add_spf (b, "spf", r->spf, r->envelope);
  add_spf (b, "spf_helo", r->spf_helo, NULL);
  add_dkim (b, r->dkim);

  json_builder_set_member_name (b, "dmarc");
  if (r->dmarc != NULL)
    add_dmarc_object (b, r->dmarc);
  else
    json_builder_add_null_value (b);
  if (r->dmarc_all != NULL && r->dmarc_all->len > 1)
    {
      json_builder_set_member_name (b, "dmarc_all");
      json_builder_begin_array (b);
      for (guint i = 0; i < r->dmarc_all->len; i++)
        add_dmarc_object (b, g_ptr_array_index (r->dmarc_all, i));
      json_builder_end_array (b);
    }

  json_builder_set_member_name (b, "provider_results");
  json_builder_begin_array (b);
  for (guint i = 0; r->provider_results && i < r->provider_results->len; i++)
    {
      const SwProviderResult *pr = g_ptr_array_index (r->provider_results, i);
      json_builder_begin_object (b);
      add_string (b, "authserv_id", pr->authserv_id);
      add_string (b, "method", pr->method);
      add_string (b, "result", sw_auth_result_to_string (pr->result));
      add_string (b, "detail", pr->detail);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_end_object (b);
  return json_builder_get_root (b);
}

char *
sw_verify_result_to_json (const SwVerifyResult *r, const char *file, int index, gboolean pretty)
{
  g_autoptr (JsonNode) node = sw_verify_result_to_json_node (r, file, index);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  json_generator_set_pretty (gen, pretty);
  json_generator_set_root (gen, node);
  return json_generator_to_data (gen, NULL);
}
