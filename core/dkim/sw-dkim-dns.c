#define G_LOG_DOMAIN "sw-dkim"
/* sw-dkim-dns.c: libopendkim's DNS hooks answered by SwResolver.
 *
 * Contract (libopendkim/dkim-keys.c, dkim_get_key_dns()): start() must leave a complete
 * DNS response packet in the caller's buffer, waitreply() reports its length, cancel() is
 * called for every query, completed or not, and frees the handle. The query is made
 * synchronously in start(). libopendkim turns a SERVFAIL packet with no answers into
 * "no key", so DNS failures are reported through waitreply()'s status instead
 * (DKIM_DNS_ERROR / DKIM_DNS_EXPIRED give KEYFAIL) and remembered here, per name, so that
 * the signature's reason can say what happened. */
#include "sw-dkim-private.h"
#include "sw-limits.h"
#include "sw-util.h"
#include <string.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <opendkim/dkim.h>

struct _SwDkimDns
{
  SwResolver *resolver;
  guint max_queries;
  guint n_queries;
  GHashTable *outcomes; /* qname (lower case) -> Outcome* */
};

typedef struct
{
  SwDkimDnsOutcome outcome;
  SwDnssecState dnssec;
} Outcome;

typedef struct
{
  int status; /* DKIM_DNS_* for waitreply() */
  size_t len;
  int dnssec; /* DKIM_DNSSEC_* */
} Query;

SwDkimDns *
sw_dkim_dns_new (SwResolver *resolver, guint max_queries)
{
  SwDkimDns *dns = g_new0 (SwDkimDns, 1);
  dns->resolver = sw_resolver_ref (resolver);
  dns->max_queries = max_queries;
  dns->outcomes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return dns;
}

void
sw_dkim_dns_free (SwDkimDns *dns)
{
  if (dns == NULL)
    return;
  g_clear_pointer (&dns->resolver, sw_resolver_unref);
  g_clear_pointer (&dns->outcomes, g_hash_table_unref);
  g_free (dns);
}

static void
remember (SwDkimDns *dns, const char *qname, SwDkimDnsOutcome outcome, SwDnssecState dnssec)
{
  Outcome *o = g_new0 (Outcome, 1);
  o->outcome = outcome;
  o->dnssec = dnssec;
  g_hash_table_replace (dns->outcomes, g_ascii_strdown (qname, -1), o);
}

static int
to_dkim_dnssec (SwDnssecState s)
{
  switch (s)
    {
    case SW_DNSSEC_SECURE:
      return DKIM_DNSSEC_SECURE;
    case SW_DNSSEC_INSECURE:
      return DKIM_DNSSEC_INSECURE;
    case SW_DNSSEC_BOGUS:
      return DKIM_DNSSEC_BOGUS;
    case SW_DNSSEC_UNKNOWN:
    case SW_DNSSEC_COUNT:
    default:
      return DKIM_DNSSEC_UNKNOWN;
    }
}

/* libopendkim reads the reply into a buffer of this size (MAXPACKET in dkim-keys.c) */
#define SW_DKIM_DNS_PACKET 8192

/* One query with the budget; records the outcome. @answer_out gets the answer when one
 * came (OK, NODATA, NXDOMAIN), else NULL. */
static SwDkimDnsOutcome
query (SwDkimDns *dns, const char *name, int type, SwDnsAnswer **answer_out)
{
  *answer_out = NULL;
  if (dns->n_queries >= dns->max_queries)
    {
      remember (dns, name, SW_DKIM_DNS_LIMIT, SW_DNSSEC_UNKNOWN);
      return SW_DKIM_DNS_LIMIT;
    }
  dns->n_queries++;

  g_autoptr (SwDnsAnswer) answer = NULL;
  g_autoptr (GError) error = NULL;
  if (type < 0 || type > G_MAXUINT16
      || !sw_resolver_query (dns->resolver, name, (guint16)type, &answer, &error))
    {
      g_autofree char *safe = sw_sanitize_for_log (name, -1, 80);
      g_debug ("key query for %s not made: %s", safe, error ? error->message : "bad type");
      remember (dns, name, SW_DKIM_DNS_BAD_NAME, SW_DNSSEC_UNKNOWN);
      return SW_DKIM_DNS_BAD_NAME;
    }

  SwDkimDnsOutcome outcome;
  switch (answer->status)
    {
    case SW_DNS_STATUS_TIMEOUT:
      outcome = SW_DKIM_DNS_TIMEOUT;
      break;
    case SW_DNS_STATUS_SERVFAIL:
      outcome = SW_DKIM_DNS_SERVFAIL;
      break;
    case SW_DNS_STATUS_NXDOMAIN:
      outcome = SW_DKIM_DNS_NXDOMAIN;
      break;
    case SW_DNS_STATUS_OK:
    case SW_DNS_STATUS_NODATA:
    case SW_DNS_STATUS_COUNT:
    default:
      outcome = SW_DKIM_DNS_ANSWERED;
      break;
    }
  remember (dns, name, outcome, answer->dnssec);
  if (outcome == SW_DKIM_DNS_ANSWERED || outcome == SW_DKIM_DNS_NXDOMAIN)
    *answer_out = g_steal_pointer (&answer);
  return outcome;
}

SwDkimDnsOutcome
sw_dkim_dns_query_txt (SwDkimDns *dns, const char *qname, SwDnsAnswer **answer_out)
{
  g_autoptr (SwDnsAnswer) answer = NULL;
  SwDkimDnsOutcome outcome = query (dns, qname, SW_DNS_TYPE_TXT, &answer);
  if (answer != NULL)
    {
      /* the same size check dns_start() makes when it encodes the packet */
      guint8 buf[SW_DKIM_DNS_PACKET];
      gsize len = 0;
      if (!sw_dns_answer_to_wire (answer, 0, buf, sizeof buf, &len))
        {
          remember (dns, qname, SW_DKIM_DNS_FAILED, answer->dnssec);
          *answer_out = NULL;
          return SW_DKIM_DNS_FAILED;
        }
    }
  *answer_out = g_steal_pointer (&answer);
  return outcome;
}

static int
dns_start (void *srv, int type, unsigned char *qname, unsigned char *buf, size_t buflen, void **qh)
{
  SwDkimDns *dns = srv;
  const char *name = (const char *)qname;
  Query *q = g_new0 (Query, 1);
  q->status = DKIM_DNS_ERROR;
  q->dnssec = DKIM_DNSSEC_UNKNOWN;
  *qh = q;

  g_autoptr (SwDnsAnswer) answer = NULL;
  SwDkimDnsOutcome outcome = query (dns, name, type, &answer);
  if (outcome == SW_DKIM_DNS_TIMEOUT)
    q->status = DKIM_DNS_EXPIRED;
  if (answer == NULL)
    return 0;

  gsize len = 0;
  if (!sw_dns_answer_to_wire (answer, 0, buf, buflen, &len))
    {
      remember (dns, name, SW_DKIM_DNS_FAILED, answer->dnssec);
      return 0;
    }
  q->status = DKIM_DNS_SUCCESS;
  q->len = len;
  q->dnssec = to_dkim_dnssec (answer->dnssec);
  return 0;
}

static int
dns_waitreply (void *srv, void *qh, struct timeval *to, size_t *bytes, int *error, int *dnssec)
{
  (void)srv;
  (void)to;
  Query *q = qh;
  if (bytes != NULL)
    *bytes = q->len;
  if (error != NULL)
    *error = 0;
  if (dnssec != NULL)
    *dnssec = q->dnssec;
  return q->status;
}

static int
dns_cancel (void *srv, void *qh)
{
  (void)srv;
  g_free (qh);
  return 0;
}

gboolean
sw_dkim_dns_install (SwDkimDns *dns, void *lib)
{
  DKIM_LIB *l = lib;
  dkim_dns_set_init (l, NULL);
  dkim_dns_set_close (l, NULL);
  (void)dkim_dns_set_query_service (l, dns);
  dkim_dns_set_query_start (l, dns_start);
  dkim_dns_set_query_waitreply (l, dns_waitreply);
  dkim_dns_set_query_cancel (l, dns_cancel);
  return TRUE;
}

SwDkimDnsOutcome
sw_dkim_dns_get_outcome (SwDkimDns *dns, const char *qname, SwDnssecState *dnssec_out)
{
  g_autofree char *key = g_ascii_strdown (qname, -1);
  gsize n = strlen (key);
  if (n > 0 && key[n - 1] == '.')
    key[n - 1] = '\0';
  Outcome *o = g_hash_table_lookup (dns->outcomes, key);
  if (dnssec_out != NULL)
    *dnssec_out = o ? o->dnssec : SW_DNSSEC_UNKNOWN;
  return o ? o->outcome : SW_DKIM_DNS_NOT_ASKED;
}
