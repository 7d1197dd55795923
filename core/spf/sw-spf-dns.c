#define G_LOG_DOMAIN "sw-spf"
/* sw-spf-dns.c: the libspf2 DNS layer over SwResolver.
 *
 * - Queries go to the shared SwResolver; statuses map to libspf2's h_errno values:
 *   NXDOMAIN -> HOST_NOT_FOUND, NODATA -> NO_DATA, SERVFAIL/TIMEOUT -> TRY_AGAIN.
 *   The lookup never returns NULL (libspf2 would call SPF_error(), which aborts).
 * - Type SPF (99) is answered NO_DATA without a query: RFC 7208 section 3.1 uses TXT only.
 * - Every TXT answer passes the record guard (sw-spf-record.c): an SPF record that fails
 *   it is replaced by a harmless one and the call is marked refused (the result becomes
 *   permerror); other TXT texts that are not safe explanation strings are dropped.
 * - Per call (thread-local SwSpfCall) it counts void lookups (RFC 7208 section 4.6.4) and
 *   queries, and notes the first DNS failure and the record of the checked domain. */
#include <string.h>
#include "sw-spf-private.h"
#include "sw-limits.h"
#include "sw-util.h"

static _Thread_local SwSpfCall *current_call;

/* What libspf2 gets in place of a refused record: no DNS, no macros. The real verdict
 * (permerror) is set by sw-spf.c from SwSpfCall.refused_why. */
#define REFUSED_RECORD "v=spf1 ?all"

void
sw_spf_call_clear (SwSpfCall *call)
{
  g_clear_pointer (&call->top_domain, g_free);
  g_clear_pointer (&call->record, g_free);
  g_clear_pointer (&call->refused_why, g_free);
  g_clear_pointer (&call->refused_domain, g_free);
  g_clear_pointer (&call->dns_failure, g_free);
}

void
sw_spf_call_enter (SwSpfCall *call)
{
  g_assert (current_call == NULL);
  current_call = call;
}

void
sw_spf_call_leave (void)
{
  current_call = NULL;
}

gboolean
sw_spf_text_is_spf1 (const char *txt)
{
  return g_ascii_strncasecmp (txt, "v=spf1", 6) == 0 && (txt[6] == ' ' || txt[6] == '\0');
}

static gboolean
same_domain (const char *a, const char *b)
{
  gsize la = strlen (a), lb = strlen (b);
  if (la > 0 && a[la - 1] == '.')
    la--;
  if (lb > 0 && b[lb - 1] == '.')
    lb--;
  return la == lb && g_ascii_strncasecmp (a, b, la) == 0;
}

static SPF_dns_rr_t *
rr_status (SPF_dns_server_t *layer, const char *domain, ns_type type, guint32 ttl, SPF_dns_stat_t herrno)
{
  SPF_dns_rr_t *rr = SPF_dns_rr_new_init (layer, domain, type, (int) MIN (ttl, G_MAXINT), herrno);
  if (rr == NULL)
    g_error ("libspf2 could not allocate a DNS answer");
  return rr;
}

static gboolean
rr_add (SPF_dns_rr_t *rr, const void *data, gsize len)
{
  int i = rr->num_rr;
  if (SPF_dns_rr_buf_realloc (rr, i, len) != SPF_E_SUCCESS)
    return FALSE;
  memcpy (rr->rr[i], data, len);
  rr->num_rr = i + 1;
  return TRUE;
}

static void
note_dns_failure (SwSpfCall *call, const char *domain, SwDnsStatus status)
{
  if (call == NULL || call->dns_failure != NULL)
    return;
  g_autofree char *safe = sw_sanitize_for_log (domain, -1, 80);
  call->dns_failure = g_strdup_printf ("%s for %s",
                                       status == SW_DNS_STATUS_TIMEOUT ? "DNS timeout" : "DNS failure",
                                       safe);
}

static void
count_void (SwSpfCall *call, ns_type type)
{
  if (call == NULL || (type != ns_t_a && type != ns_t_aaaa && type != ns_t_mx && type != ns_t_ptr))
    return;
  call->voids++;
  if (call->voids > SW_SPF_MAX_VOID)
    call->void_exceeded = TRUE;
}

/* TRUE if TXT rdata (length-prefixed strings) reads "v=spf1" + space/end and holds a NUL
 * byte: sw_dns_answer_dup_txt() refuses it, but it is an SPF record with a syntax error
 * (RFC 7208 section 4.6: permerror), not a missing one. */
static gboolean
rdata_is_spf1_with_nul (GBytes *rdata)
{
  gsize len = 0;
  const guint8 *p = g_bytes_get_data (rdata, &len);
  g_autoptr (GByteArray) text = g_byte_array_new ();
  for (gsize i = 0; i < len;)
    {
      gsize n = p[i];
      if (i + 1 + n > len)
        return FALSE;
      g_byte_array_append (text, p + i + 1, (guint) n);
      i += 1 + n;
    }
  if (text->len < 6 || g_ascii_strncasecmp ((const char *) text->data, "v=spf1", 6) != 0
      || (text->len > 6 && text->data[6] != ' ' && text->data[6] != '\0'))
    return FALSE;
  return memchr (text->data, '\0', text->len) != NULL;
}

static void
add_txt (SPF_dns_rr_t *rr, SwSpfCall *call, const char *domain, const SwDnsAnswer *answer)
{
  guint spf_records = 0;
  const char *found = NULL;
  g_autoptr (GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) explanations = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < answer->rdata->len; i++)
    {
      char *txt = sw_dns_answer_dup_txt (answer, i);
      if (txt == NULL)
        {
          if (rdata_is_spf1_with_nul (g_ptr_array_index (answer->rdata, i)))
            {
              spf_records++;
              if (call != NULL && call->refused_why == NULL)
                {
                  call->refused_why = g_strdup ("NUL byte in record");
                  call->refused_domain = g_strdup (domain);
                }
              rr_add (rr, REFUSED_RECORD, sizeof REFUSED_RECORD);
            }
          continue;
        }
      g_ptr_array_add (texts, txt);
      if (sw_spf_text_is_spf1 (txt))
        {
          g_autofree char *why = NULL;
          spf_records++;
          found = txt;
          if (!sw_spf_record_is_acceptable (txt, &why))
            {
              g_autofree char *safe = sw_sanitize_for_log (txt, -1, 120);
              g_debug ("SPF record of %s refused (%s): %s", domain, why, safe);
              if (call != NULL && call->refused_why == NULL)
                {
                  call->refused_why = g_steal_pointer (&why);
                  call->refused_domain = g_strdup (domain);
                }
              rr_add (rr, REFUSED_RECORD, sizeof REFUSED_RECORD);
              continue;
            }
          g_autofree char *simple = sw_spf_record_simplify (txt);
          rr_add (rr, simple, strlen (simple) + 1);
        }
      else if (sw_spf_explanation_is_acceptable (txt, NULL))
        {
          /* libspf2's macro compiler mangles literal spaces ("a b" -> "a%b"): hand it
           * the equivalent "%_" escape. Same compiled size, so the guard still holds. */
          g_autoptr (GString) escaped = g_string_new (txt);
          g_string_replace (escaped, " ", "%_", 0);
          g_ptr_array_add (explanations, g_string_free (g_steal_pointer (&escaped), FALSE));
        }
      /* else: neither an SPF record nor a safe explanation text, libspf2 never sees it */
    }
  /* RFC 7208 section 6.2: an exp= name with more than one TXT record gives no
   * explanation. Without an SPF record among them, nothing else reads these texts. */
  if (spf_records > 0 || explanations->len == 1)
    for (guint i = 0; i < explanations->len; i++)
      {
        const char *e = g_ptr_array_index (explanations, i);
        rr_add (rr, e, strlen (e) + 1);
      }
  if (call != NULL && call->record == NULL && spf_records == 1 && call->top_domain != NULL
      && same_domain (domain, call->top_domain))
    call->record = g_strdup (found);
}

static void
add_names (SPF_dns_rr_t *rr, const SwDnsAnswer *answer)
{
  for (guint i = 0; i < answer->rdata->len; i++)
    {
      g_autofree char *name = sw_dns_answer_dup_name (answer, i, NULL);
      if (name != NULL)
        rr_add (rr, name, strlen (name) + 1);
    }
}

static void
add_addresses (SPF_dns_rr_t *rr, const SwDnsAnswer *answer, gsize size)
{
  for (guint i = 0; i < answer->rdata->len; i++)
    {
      gsize len = 0;
      const guint8 *data = g_bytes_get_data (g_ptr_array_index (answer->rdata, i), &len);
      if (len == size)
        rr_add (rr, data, size);
    }
}

static SPF_dns_rr_t *
layer_lookup (SPF_dns_server_t *layer, const char *domain, ns_type type, int should_cache)
{
  SwResolver *resolver = layer->hook;
  SwSpfCall *call = current_call;

  if (type == ns_t_spf)
    return rr_status (layer, domain, type, 0, NO_DATA);
  if (type != ns_t_txt && type != ns_t_a && type != ns_t_aaaa && type != ns_t_mx && type != ns_t_ptr)
    return rr_status (layer, domain, type, 0, NO_RECOVERY);

  if (call != NULL)
    {
      /* Past the void limit the verdict is permerror whatever follows: stop asking. */
      if (call->void_exceeded || call->queries_exceeded)
        return rr_status (layer, domain, type, 0, HOST_NOT_FOUND);
      if (++call->queries > SW_SPF_MAX_QUERIES)
        {
          call->queries_exceeded = TRUE;
          return rr_status (layer, domain, type, 0, HOST_NOT_FOUND);
        }
    }

  g_autoptr (GError) error = NULL;
  g_autoptr (SwDnsAnswer) answer = NULL;
  if (!sw_resolver_query (resolver, domain, (guint16) type, &answer, &error))
    {
      /* Not a valid DNS name (e.g. after macro expansion): it cannot exist. */
      g_autofree char *safe = sw_sanitize_for_log (domain, -1, 80);
      g_debug ("no query for %s: %s", safe, error->message);
      count_void (call, type);
      return rr_status (layer, domain, type, 0, HOST_NOT_FOUND);
    }

  switch (answer->status)
    {
    case SW_DNS_STATUS_NXDOMAIN:
      count_void (call, type);
      return rr_status (layer, domain, type, answer->ttl, HOST_NOT_FOUND);
    case SW_DNS_STATUS_NODATA:
      count_void (call, type);
      return rr_status (layer, domain, type, answer->ttl, NO_DATA);
    case SW_DNS_STATUS_SERVFAIL:
    case SW_DNS_STATUS_TIMEOUT:
    case SW_DNS_STATUS_COUNT:
      note_dns_failure (call, domain, answer->status);
      return rr_status (layer, domain, type, 0, TRY_AGAIN);
    case SW_DNS_STATUS_OK:
      break;
    }

  SPF_dns_rr_t *rr = rr_status (layer, domain, type, answer->ttl, NETDB_SUCCESS);
  switch (type)
    {
    case ns_t_txt:
      add_txt (rr, call, domain, answer);
      break;
    case ns_t_a:
      add_addresses (rr, answer, sizeof (struct in_addr));
      break;
    case ns_t_aaaa:
      add_addresses (rr, answer, sizeof (struct in6_addr));
      break;
    case ns_t_mx:
      add_names (rr, answer);
      if (call != NULL && (guint) rr->num_rr > SW_SPF_MAX_MX_PTR)
        call->mx_exceeded = TRUE;
      break;
    default:
      add_names (rr, answer);
      break;
    }
  if (rr->num_rr == 0)
    {
      rr->herrno = NO_DATA;
      if (type != ns_t_txt)
        count_void (call, type);
    }
  return rr;
}

static void
layer_destroy (SPF_dns_server_t *layer)
{
  if (layer == NULL)
    return;
  g_clear_pointer ((SwResolver **) &layer->hook, sw_resolver_unref);
  g_free (layer);
}

SPF_dns_server_t *
sw_spf_dns_layer_new (SwResolver *resolver)
{
  SPF_dns_server_t *layer = g_new0 (SPF_dns_server_t, 1);
  layer->destroy = layer_destroy;
  layer->lookup = layer_lookup;
  layer->get_spf = NULL;
  layer->get_exp = NULL;
  layer->add_cache = NULL;
  layer->layer_below = NULL;
  layer->name = "spoofwatch";
  layer->debug = 0;
  layer->hook = sw_resolver_ref (resolver);
  return layer;
}
