#define G_LOG_DOMAIN "sw-dns"
/* sw-resolver.c: the backend-independent half of SwResolver: reference counting, the
 * query entry point (name checks, counting), answers and their accessors. */
#include "sw-dns-private.h"
#include "sw-limits.h"

#include <arpa/inet.h>
#include <string.h>

G_DEFINE_QUARK (sw-resolver-error-quark, sw_resolver_error)

static const char *const status_names[] = {
  [SW_DNS_STATUS_OK] = "ok",
  [SW_DNS_STATUS_NODATA] = "nodata",
  [SW_DNS_STATUS_NXDOMAIN] = "nxdomain",
  [SW_DNS_STATUS_SERVFAIL] = "servfail",
  [SW_DNS_STATUS_TIMEOUT] = "timeout",
};
G_STATIC_ASSERT (G_N_ELEMENTS (status_names) == SW_DNS_STATUS_COUNT);

const char *
sw_dns_status_to_string (SwDnsStatus status)
{
  if ((guint) status >= SW_DNS_STATUS_COUNT)
    return "unknown";
  return status_names[status];
}

SwDnsAnswer *
sw_dns_answer_new (const char *qname, guint16 qtype, SwDnsStatus status)
{
  SwDnsAnswer *answer = g_new0 (SwDnsAnswer, 1);
  answer->qname = g_strdup (qname);
  answer->qtype = qtype;
  answer->status = status;
  answer->rdata = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  answer->dnssec = SW_DNSSEC_UNKNOWN;
  return answer;
}

SwDnsAnswer *
sw_dns_answer_copy (const SwDnsAnswer *answer)
{
  g_return_val_if_fail (answer != NULL, NULL);
  SwDnsAnswer *a = sw_dns_answer_new (answer->qname, answer->qtype, answer->status);
  a->ttl = answer->ttl;
  a->dnssec = answer->dnssec;
  a->why_bogus = g_strdup (answer->why_bogus);
  for (guint i = 0; i < answer->rdata->len; i++)
    g_ptr_array_add (a->rdata, g_bytes_ref (g_ptr_array_index (answer->rdata, i)));
  return a;
}

void
sw_dns_answer_free (SwDnsAnswer *answer)
{
  if (answer == NULL)
    return;
  g_free (answer->qname);
  g_clear_pointer (&answer->rdata, g_ptr_array_unref);
  g_free (answer->why_bogus);
  g_free (answer);
}

static GBytes *
answer_record (const SwDnsAnswer *answer, guint index)
{
  g_return_val_if_fail (answer != NULL, NULL);
  if (answer->rdata == NULL || index >= answer->rdata->len)
    return NULL;
  return g_ptr_array_index (answer->rdata, index);
}

char *
sw_dns_answer_dup_txt (const SwDnsAnswer *answer, guint index)
{
  g_return_val_if_fail (answer != NULL, NULL);
  if (answer->qtype != SW_DNS_TYPE_TXT && answer->qtype != SW_DNS_TYPE_SPF)
    return NULL;
  GBytes *record = answer_record (answer, index);
  if (record == NULL)
    return NULL;
  gsize len = 0;
  const guint8 *p = g_bytes_get_data (record, &len);
  if (len == 0)
    return NULL; /* a TXT record holds at least one character-string */
  g_autoptr (GString) text = g_string_new (NULL);
  gsize pos = 0;
  while (pos < len)
    {
      gsize n = p[pos++];
      if (n > len - pos)
        return NULL;
      if (memchr (p + pos, '\0', n) != NULL)
        return NULL;
      if (text->len + n > SW_MAX_DNS_TXT_LENGTH)
        return NULL;
      g_string_append_len (text, (const char *) p + pos, (gssize) n);
      pos += n;
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

char *
sw_dns_answer_dup_name (const SwDnsAnswer *answer, guint index, guint16 *preference_out)
{
  g_return_val_if_fail (answer != NULL, NULL);
  gsize skip = 0;
  switch (answer->qtype)
    {
    case SW_DNS_TYPE_MX:
      skip = 2;
      break;
    case SW_DNS_TYPE_PTR:
    case SW_DNS_TYPE_NS:
    case SW_DNS_TYPE_CNAME:
      break;
    default:
      return NULL;
    }
  GBytes *record = answer_record (answer, index);
  if (record == NULL)
    return NULL;
  gsize len = 0;
  const guint8 *p = g_bytes_get_data (record, &len);
  if (len <= skip)
    return NULL;
  gsize consumed = 0;
  char *name = sw_dns_name_from_wire (p + skip, len - skip, &consumed);
  if (name == NULL || consumed != len - skip)
    {
      g_free (name);
      return NULL;
    }
  if (preference_out != NULL)
    *preference_out = skip ? (guint16) ((p[0] << 8) | p[1]) : 0;
  return name;
}

char *
sw_dns_answer_dup_address (const SwDnsAnswer *answer, guint index)
{
  g_return_val_if_fail (answer != NULL, NULL);
  int family;
  gsize want;
  if (answer->qtype == SW_DNS_TYPE_A)
    family = AF_INET, want = 4;
  else if (answer->qtype == SW_DNS_TYPE_AAAA)
    family = AF_INET6, want = 16;
  else
    return NULL;
  GBytes *record = answer_record (answer, index);
  if (record == NULL || g_bytes_get_size (record) != want)
    return NULL;
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop (family, g_bytes_get_data (record, NULL), buf, sizeof buf) == NULL)
    return NULL;
  return g_strdup (buf);
}

SwResolver *
sw_resolver_alloc (const SwResolverClass *klass)
{
  SwResolver *resolver = g_new0 (SwResolver, 1);
  resolver->klass = klass;
  resolver->ref_count = 1;
  atomic_init (&resolver->query_count, 0);
  return resolver;
}

SwResolver *
sw_resolver_ref (SwResolver *resolver)
{
  g_return_val_if_fail (resolver != NULL, NULL);
  g_atomic_int_inc (&resolver->ref_count);
  return resolver;
}

void
sw_resolver_unref (SwResolver *resolver)
{
  if (resolver == NULL)
    return;
  if (!g_atomic_int_dec_and_test (&resolver->ref_count))
    return;
  resolver->klass->finalize (resolver);
  g_clear_pointer (&resolver->cache, sw_dns_cache_free);
  g_free (resolver);
}

/* The calling thread's cache-only mode (sw_resolver_thread_begin_cache_only). */
static __thread gboolean thread_cache_only;
static __thread guint    thread_misses;

static __thread gboolean thread_counting;

void
sw_resolver_thread_begin_cache_only (void)
{
  thread_cache_only = TRUE;
  thread_counting = TRUE;
  thread_misses = 0;
}

void
sw_resolver_thread_begin_counting (void)
{
  thread_cache_only = FALSE;
  thread_counting = TRUE;
  thread_misses = 0;
}

guint
sw_resolver_thread_end (void)
{
  thread_cache_only = FALSE;
  thread_counting = FALSE;
  return thread_misses;
}

/* The checks every query function makes: @name in canonical form (transfer full), or NULL
 * with @error (SW_RESOLVER_ERROR_INVALID_NAME) for a name or type that cannot be asked. */
static char *
checked_qname (const char *name, guint16 qtype, GError **error)
{
  char *qname = sw_dns_name_normalize (name, error);
  if (qname != NULL && qtype == 0)
    {
      g_free (qname);
      g_set_error (error, SW_RESOLVER_ERROR, SW_RESOLVER_ERROR_INVALID_NAME, "query type 0");
      return NULL;
    }
  return qname;
}

/* The backend's answer without waiting, or NULL. */
static SwDnsAnswer *
answer_now (SwResolver *resolver, const char *qname, guint16 qtype)
{
  return resolver->klass->query_now != NULL ? resolver->klass->query_now (resolver, qname, qtype) : NULL;
}

/* Counts @answer (a backend's, transfer full) and gives it to the caller. */
static void
deliver_answer (SwResolver *resolver, SwDnsAnswer *answer, SwDnsAnswer **answer_out)
{
  g_assert (answer->rdata->len <= SW_MAX_DNS_ANSWER_RRS);
  g_assert (answer->status == SW_DNS_STATUS_OK || answer->rdata->len == 0);
  atomic_fetch_add (&resolver->query_count, 1);
  *answer_out = answer;
}

gboolean
sw_resolver_query (SwResolver   *resolver,
                   const char   *name,
                   guint16       qtype,
                   SwDnsAnswer **answer_out,
                   GError      **error)
{
  g_return_val_if_fail (resolver != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (answer_out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *answer_out = NULL;
  g_autofree char *qname = checked_qname (name, qtype, error);
  if (qname == NULL)
    return FALSE;
  SwDnsAnswer *answer = NULL;
  if (thread_cache_only)
    {
      answer = answer_now (resolver, qname, qtype);
      if (answer == NULL)
        {
          thread_misses++;
          answer = sw_dns_answer_new (qname, qtype, SW_DNS_STATUS_TIMEOUT);
        }
    }
  else if (thread_counting && (answer = answer_now (resolver, qname, qtype)) != NULL)
    ; /* in the cache */
  else
    {
      if (thread_counting)
        thread_misses++;
      answer = resolver->klass->query (resolver, qname, qtype, error);
    }
  if (answer == NULL)
    return FALSE;
  deliver_answer (resolver, answer, answer_out);
  return TRUE;
}

gboolean
sw_resolver_query_now (SwResolver   *resolver,
                       const char   *name,
                       guint16       qtype,
                       SwDnsAnswer **answer_out,
                       GError      **error)
{
  g_return_val_if_fail (resolver != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (answer_out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *answer_out = NULL;
  g_autofree char *qname = checked_qname (name, qtype, error);
  if (qname == NULL)
    return FALSE;
  SwDnsAnswer *answer = answer_now (resolver, qname, qtype);
  if (answer == NULL)
    return TRUE;
  deliver_answer (resolver, answer, answer_out);
  return TRUE;
}

gboolean
sw_resolver_query_async (SwResolver        *resolver,
                         const char        *name,
                         guint16            qtype,
                         SwResolverCallback callback,
                         gpointer           user_data,
                         GError           **error)
{
  g_return_val_if_fail (resolver != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (callback != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_autofree char *qname = checked_qname (name, qtype, error);
  if (qname == NULL)
    return FALSE;
  if (resolver->klass->query_async == NULL)
    {
      SwDnsAnswer *answer = resolver->klass->query (resolver, qname, qtype, error);
      if (answer == NULL)
        return FALSE;
      atomic_fetch_add (&resolver->query_count, 1);
      callback (answer, user_data);
      sw_dns_answer_free (answer);
      return TRUE;
    }
  return resolver->klass->query_async (resolver, qname, qtype, callback, user_data, error);
}

gboolean
sw_resolver_has_async (SwResolver *resolver)
{
  g_return_val_if_fail (resolver != NULL, FALSE);
  return resolver->klass->query_async != NULL;
}

/* For backends: counts an answer given through a callback. */
void
sw_resolver_count_answer (SwResolver *resolver)
{
  atomic_fetch_add (&resolver->query_count, 1);
}

const char *
sw_resolver_get_backend_name (SwResolver *resolver)
{
  g_return_val_if_fail (resolver != NULL, NULL);
  return resolver->klass->name;
}

gboolean
sw_resolver_get_dnssec (SwResolver *resolver)
{
  g_return_val_if_fail (resolver != NULL, FALSE);
  return resolver->dnssec;
}

guint64
sw_resolver_get_query_count (SwResolver *resolver)
{
  g_return_val_if_fail (resolver != NULL, 0);
  return atomic_load (&resolver->query_count);
}

guint64
sw_resolver_get_cache_hit_count (SwResolver *resolver)
{
  g_return_val_if_fail (resolver != NULL, 0);
  return resolver->cache != NULL ? sw_dns_cache_get_hit_count (resolver->cache) : 0;
}

guint
sw_resolver_get_cache_size (SwResolver *resolver)
{
  g_return_val_if_fail (resolver != NULL, 0);
  return resolver->cache != NULL ? sw_dns_cache_get_size (resolver->cache) : 0;
}
