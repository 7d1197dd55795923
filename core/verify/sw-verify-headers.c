#define G_LOG_DOMAIN "sw-verify"
#include "sw-verify-headers.h"
#include "sw-message.h"

#include <string.h>

static const char *
policy_upper (SwDmarcPolicy p)
{
  switch (p)
    {
    case SW_DMARC_POLICY_NONE: return "NONE";
    case SW_DMARC_POLICY_QUARANTINE: return "QUARANTINE";
    case SW_DMARC_POLICY_REJECT: return "REJECT";
    case SW_DMARC_POLICY_UNSET: break;
    }
  return NULL;
}

static void
add_spf (SwAuthresBuilder *b, const SwVerifyResult *r)
{
  const SwSpfResult *spf = r->spf;
  if (spf == NULL)
    {
      sw_authres_builder_add_method (b, "spf", SW_AUTH_NONE, NULL, "not evaluated");
      return;
    }
  g_autofree char *comment = NULL;
  if (r->envelope && r->envelope->ip)
    comment = g_strdup_printf ("%s: %s", r->envelope->ip, spf->reason ? spf->reason : "");
  else
    comment = g_strdup (spf->reason);
  sw_authres_builder_add_method (b, "spf", spf->result, NULL, comment);
  if (spf->mail_from != NULL && *spf->mail_from != '\0')
    sw_authres_builder_add_property (b, "smtp", "mailfrom", spf->mail_from);
  else if (spf->domain != NULL)
    sw_authres_builder_add_property (b, "smtp", "mailfrom", spf->domain);
  if (spf->helo != NULL && *spf->helo != '\0')
    sw_authres_builder_add_property (b, "smtp", "helo", spf->helo);
}

static void
add_dkim (SwAuthresBuilder *b, const SwVerifyResult *r)
{
  GPtrArray *sigs = r->dkim ? r->dkim->signatures : NULL;
  if (sigs == NULL || sigs->len == 0)
    {
      sw_authres_builder_add_method (b, "dkim", SW_AUTH_NONE, NULL, "no signature");
      return;
    }
  for (guint i = 0; i < sigs->len; i++)
    {
      const SwDkimSignature *s = g_ptr_array_index (sigs, i);
      g_autofree char *comment = NULL;
      if (s->key_bits > 0)
        comment = g_strdup_printf ("%u-bit key%s%s%s", s->key_bits,
                                   s->result != SW_AUTH_PASS && s->reason ? "; " : "",
                                   s->result != SW_AUTH_PASS && s->reason ? s->reason : "",
                                   s->body_length_limited ? "; l= body length limit" : "");
      else
        comment = g_strdup (s->reason);
      sw_authres_builder_add_method (b, "dkim", s->result, NULL, comment);
      if (s->domain)
        sw_authres_builder_add_property (b, "header", "d", s->domain);
      if (s->selector)
        sw_authres_builder_add_property (b, "header", "s", s->selector);
      if (s->algorithm)
        sw_authres_builder_add_property (b, "header", "a", s->algorithm);
      if (s->header_b)
        sw_authres_builder_add_property (b, "header", "b", s->header_b);
    }
}

static void
add_dmarc (SwAuthresBuilder *b, const SwVerifyResult *r)
{
  const SwDmarcResult *dm = r->dmarc;
  if (dm == NULL)
    {
      sw_authres_builder_add_method (b, "dmarc", SW_AUTH_PERMERROR, NULL, "no usable From: domain");
      return;
    }
  g_autoptr (GString) comment = g_string_new (NULL);
  if (dm->record != NULL)
    {
      const char *p = policy_upper (dm->record->p);
      const char *sp = policy_upper (dm->record->sp);
      const char *dis = policy_upper (dm->result == SW_AUTH_FAIL ? dm->policy_applied : SW_DMARC_POLICY_NONE);
      if (p)
        g_string_append_printf (comment, "p=%s", p);
      if (sp)
        g_string_append_printf (comment, " sp=%s", sp);
      if (dm->testing)
        g_string_append (comment, " testing");
      if (dis)
        g_string_append_printf (comment, " dis=%s", dis);
    }
  else if (dm->reason)
    g_string_append (comment, dm->reason);
  sw_authres_builder_add_method (b, "dmarc", dm->result, NULL, comment->len ? comment->str : NULL);
  if (dm->from_domain)
    sw_authres_builder_add_property (b, "header", "from", dm->from_domain);
  if (dm->result == SW_AUTH_FAIL && dm->policy_published != SW_DMARC_POLICY_UNSET)
    sw_authres_builder_add_property (b, "policy", "dmarc", sw_dmarc_policy_to_string (dm->policy_applied));
}

char *
sw_verify_format_headers (const SwVerifyResult *r, const char *authserv_id, const char *eol)
{
  g_return_val_if_fail (r != NULL && authserv_id != NULL, NULL);
  if (eol == NULL)
    eol = "\r\n";

  g_autoptr (SwAuthresBuilder) b = sw_authres_builder_new (authserv_id);
  if (r->error != NULL)
    {
      SwAuthResult res = r->verdict == SW_VERDICT_TEMPERROR ? SW_AUTH_TEMPERROR : SW_AUTH_PERMERROR;
      sw_authres_builder_add_method (b, "dmarc", res, NULL, r->error);
    }
  else
    {
      add_spf (b, r);
      add_dkim (b, r);
      add_dmarc (b, r);
    }
  g_autofree char *ar = sw_authres_builder_end (g_steal_pointer (&b), eol);
  return g_strdup_printf ("%s%s: %s%s", ar, SW_VERDICT_HEADER, sw_verdict_to_string (r->verdict), eol);
}

static gboolean
field_is_ours (const SwHeaderField *f, const char *authserv_id)
{
  return sw_authres_field_is_ours (f->name, f->value, authserv_id);
}

guint
sw_verify_count_forged_fields (GBytes *message, const char *authserv_id)
{
  g_autoptr (SwMessage) msg = sw_message_new (message);
  guint n = 0;
  for (guint i = 0; i < sw_message_get_n_fields (msg); i++)
    if (field_is_ours (sw_message_get_field (msg, i), authserv_id))
      n++;
  return n;
}

/* @msg's bytes with its forged fields removed and @ours on top. */
static GBytes *
prepend_to_parsed (SwMessage *msg, const char *ours, const char *authserv_id)
{
  GBytes *message = sw_message_get_raw (msg);
  gsize size = 0;
  const char *data = g_bytes_get_data (message, &size);
  gsize ours_len = strlen (ours);

  GByteArray *out = g_byte_array_sized_new (size + ours_len);
  g_byte_array_append (out, (const guint8 *) ours, ours_len);
  gsize pos = 0;
  for (guint i = 0; i < sw_message_get_n_fields (msg); i++)
    {
      const SwHeaderField *f = sw_message_get_field (msg, i);
      if (!field_is_ours (f, authserv_id))
        continue;
      g_assert (f->offset >= pos && f->offset + f->length <= size);
      g_byte_array_append (out, (const guint8 *) data + pos, f->offset - pos);
      pos = f->offset + f->length;
    }
  g_byte_array_append (out, (const guint8 *) data + pos, size - pos);
  return g_byte_array_free_to_bytes (out);
}

GBytes *
sw_verify_prepend_headers (GBytes *message, const char *headers, const char *authserv_id)
{
  g_return_val_if_fail (message != NULL && headers != NULL && authserv_id != NULL, NULL);
  g_autoptr (SwMessage) msg = sw_message_new (message);
  return prepend_to_parsed (msg, headers, authserv_id);
}

GBytes *
sw_verify_apply_headers (GBytes *message, const SwVerifyResult *r, const char *authserv_id)
{
  g_return_val_if_fail (message != NULL && r != NULL && authserv_id != NULL, NULL);

  g_autoptr (SwMessage) msg = sw_message_new (message);
  const char *eol = (sw_message_get_flags (msg) & SW_MESSAGE_FLAG_BARE_LF) ? "\n" : "\r\n";
  g_autofree char *ours = sw_verify_format_headers (r, authserv_id, eol);
  return prepend_to_parsed (msg, ours, authserv_id);
}
