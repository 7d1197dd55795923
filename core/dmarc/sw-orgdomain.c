#define G_LOG_DOMAIN "sw-dmarc"
/* sw-orgdomain.c: the DNS queries of a DMARC evaluation, the RFC 9989 tree walk and the
 * public suffix list (libpsl). */
#include "sw-dmarc-private.h"
#include "sw-domain.h"
#include "sw-limits.h"
#include <libpsl.h>
#include <string.h>

/* RFC 9989 section 4.10: "Author Domains with more than eight labels do not result in
 * more than eight DNS queries"; a long name is shortened to seven labels. */
G_STATIC_ASSERT (SW_DMARC_MAX_TREE_WALK >= 2);
#define SHORTENED_LABELS (SW_DMARC_MAX_TREE_WALK - 1)

static const char *
status_word (SwDnsStatus status)
{
  switch (status)
    {
    case SW_DNS_STATUS_OK:
      return "NOERROR";
    case SW_DNS_STATUS_NODATA:
      return "NODATA";
    case SW_DNS_STATUS_NXDOMAIN:
      return "NXDOMAIN";
    case SW_DNS_STATUS_SERVFAIL:
      return "SERVFAIL";
    case SW_DNS_STATUS_TIMEOUT:
      return "TIMEOUT";
    case SW_DNS_STATUS_COUNT:
      break;
    }
  return "?";
}

static void
log_line (SwDmarcDns *dns, char *line)
{
  if (dns->log != NULL)
    g_ptr_array_add (dns->log, line);
  else
    g_free (line);
}

static void
fetch_free (gpointer data)
{
  SwDmarcFetch *f = data;
  g_free (f->domain);
  g_free (f->text);
  sw_dmarc_scan_clear (&f->scan);
  g_free (f);
}

void
sw_dmarc_dns_init (SwDmarcDns *dns, SwResolver *resolver, guint max_queries, GPtrArray *log)
{
  memset (dns, 0, sizeof *dns);
  dns->resolver = resolver;
  dns->fetches = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, fetch_free);
  dns->existence = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  dns->max_queries = max_queries;
  dns->log = log;
}

void
sw_dmarc_dns_clear (SwDmarcDns *dns)
{
  g_clear_pointer (&dns->fetches, g_hash_table_unref);
  g_clear_pointer (&dns->existence, g_hash_table_unref);
}

static gboolean
take_query (SwDmarcDns *dns, const char *qname, const char *type)
{
  if (dns->queries >= dns->max_queries)
    {
      log_line (dns, g_strdup_printf ("%s %s not queried: more than %u DNS queries", qname, type,
                                      dns->max_queries));
      return FALSE;
    }
  dns->queries++;
  return TRUE;
}

const SwDmarcFetch *
sw_dmarc_dns_fetch (SwDmarcDns *dns, const char *domain, GError **error)
{
  SwDmarcFetch *f = g_hash_table_lookup (dns->fetches, domain);
  if (f != NULL)
    return f;

  g_autofree char *qname = g_strconcat ("_dmarc.", domain, NULL);
  f = g_new0 (SwDmarcFetch, 1);
  f->domain = g_strdup (domain);

  if (strlen (qname) > SW_MAX_DOMAIN_LENGTH)
    {
      /* No such name can exist in the DNS, so there is no record (RFC 1035 2.3.4). */
      f->kind = SW_DMARC_FETCH_NONE;
      f->status = SW_DNS_STATUS_NXDOMAIN;
      log_line (dns, g_strdup_printf ("%s TXT not queried: name longer than %u octets", qname,
                                      SW_MAX_DOMAIN_LENGTH));
    }
  else if (!take_query (dns, qname, "TXT"))
    {
      f->kind = SW_DMARC_FETCH_LIMIT;
    }
  else
    {
      g_autoptr (SwDnsAnswer) answer = NULL;
      g_autoptr (GError) local_error = NULL;
      if (!sw_resolver_query (dns->resolver, qname, SW_DNS_TYPE_TXT, &answer, &local_error))
        {
          g_set_error (error, SW_DMARC_ERROR, SW_DMARC_ERROR_DNS, "could not look up %s: %s", qname,
                       local_error->message);
          fetch_free (f);
          return NULL;
        }
      f->status = answer->status;
      guint n_dmarc = 0;
      switch (answer->status)
        {
        case SW_DNS_STATUS_OK:
          for (guint i = 0; i < answer->rdata->len; i++)
            {
              g_autofree char *txt = sw_dns_answer_dup_txt (answer, i);
              if (txt == NULL || !sw_dmarc_text_is_dmarc (txt))
                continue; /* RFC 9989 section 4.10 step 2: not DMARC, discarded */
              if (n_dmarc++ == 0)
                f->text = g_steal_pointer (&txt);
            }
          f->kind = n_dmarc == 0   ? SW_DMARC_FETCH_NONE
                    : n_dmarc == 1 ? SW_DMARC_FETCH_ONE
                                   : SW_DMARC_FETCH_MULTIPLE;
          if (f->kind == SW_DMARC_FETCH_MULTIPLE)
            g_clear_pointer (&f->text, g_free);
          break;
        case SW_DNS_STATUS_NODATA:
        case SW_DNS_STATUS_NXDOMAIN:
          f->kind = SW_DMARC_FETCH_NONE;
          break;
        case SW_DNS_STATUS_SERVFAIL:
        case SW_DNS_STATUS_TIMEOUT:
        case SW_DNS_STATUS_COUNT:
          f->kind = SW_DMARC_FETCH_TEMPFAIL;
          break;
        }
      if (f->kind == SW_DMARC_FETCH_ONE)
        {
          if (strlen (f->text) > SW_DMARC_MAX_RECORD)
            f->too_long = TRUE;
          else
            sw_dmarc_scan_record (f->text, &f->scan);
        }
      if (answer->status == SW_DNS_STATUS_OK)
        log_line (dns, g_strdup_printf ("%s TXT NOERROR: %u DMARC record%s", qname, n_dmarc,
                                        n_dmarc == 1 ? "" : "s"));
      else
        log_line (dns, g_strdup_printf ("%s TXT %s", qname, status_word (answer->status)));
    }

  g_hash_table_insert (dns->fetches, f->domain, f);
  return f;
}

gboolean
sw_dmarc_dns_exists (SwDmarcDns *dns, const char *domain, SwDnsStatus *status_out, gboolean *limit_out,
                     GError **error)
{
  *limit_out = FALSE;
  gpointer cached = g_hash_table_lookup (dns->existence, domain);
  if (cached != NULL)
    {
      *status_out = (SwDnsStatus)(GPOINTER_TO_INT (cached) - 1);
      return TRUE;
    }
  if (!take_query (dns, domain, "A"))
    {
      *limit_out = TRUE;
      return TRUE;
    }
  g_autoptr (SwDnsAnswer) answer = NULL;
  g_autoptr (GError) local_error = NULL;
  if (!sw_resolver_query (dns->resolver, domain, SW_DNS_TYPE_A, &answer, &local_error))
    {
      g_set_error (error, SW_DMARC_ERROR, SW_DMARC_ERROR_DNS, "could not look up %s: %s", domain,
                   local_error->message);
      return FALSE;
    }
  *status_out = answer->status;
  log_line (dns, g_strdup_printf ("%s A %s", domain, status_word (answer->status)));
  g_hash_table_insert (dns->existence, g_strdup (domain), GINT_TO_POINTER ((int)answer->status + 1));
  return TRUE;
}

/* ---- the tree walk ---- */

gboolean
sw_dmarc_tree_walk (SwDmarcDns *dns, const char *start, SwDmarcTreeWalk *walk, GError **error)
{
  memset (walk, 0, sizeof *walk);

  /* Steps 1-2: the starting name. */
  const SwDmarcFetch *f = sw_dmarc_dns_fetch (dns, start, error);
  if (f == NULL)
    return FALSE;
  walk->start = f;
  walk->n_queries = 1;

  /* The names with exactly one record, longest first (section 4.10.2). */
  g_autoptr (GPtrArray) found = g_ptr_array_new ();
  guint x = sw_domain_count_labels (start);
  guint labels = x;
  for (;;)
    {
      if (f->kind == SW_DMARC_FETCH_TEMPFAIL || f->kind == SW_DMARC_FETCH_LIMIT)
        {
          walk->failed = f;
          return TRUE;
        }
      if (f->kind == SW_DMARC_FETCH_MULTIPLE && walk->multiple == NULL)
        walk->multiple = f;
      if (f->kind == SW_DMARC_FETCH_ONE)
        {
          g_ptr_array_add (found, (gpointer)f);
          /* Steps 2 and 6: a single record with psd=n or psd=y ends the walk. An over-long
           * record was not read, so it cannot end the walk. */
          if (!f->too_long && (f->scan.psd == 'y' || f->scan.psd == 'n'))
            break;
        }
      if (labels <= 1)
        break;
      /* Steps 3-4 (the first step up) and 7: remove labels from the left; a name of
       * eight labels or more is shortened to seven at once. */
      if (labels == x && x >= SW_DMARC_MAX_TREE_WALK)
        labels = SHORTENED_LABELS;
      else
        labels--;
      g_autofree char *target = sw_domain_last_labels (start, labels);
      f = sw_dmarc_dns_fetch (dns, target, error);
      if (f == NULL)
        return FALSE;
      walk->n_queries++;
      g_assert (walk->n_queries <= SW_DMARC_MAX_TREE_WALK);
    }

  /* Section 4.10.2: choose the organizational domain, longest name first. */
  walk->complete = TRUE;
  for (guint i = 0; i < found->len && walk->org_domain == NULL; i++)
    {
      const SwDmarcFetch *r = g_ptr_array_index (found, i);
      if (r->too_long)
        continue;
      if (r->scan.psd == 'n')
        {
          /* Rule 1. */
          walk->org_domain = g_strdup (r->domain);
        }
      else if (r->scan.psd == 'y' && !sw_domain_equal (r->domain, start))
        {
          /* Rule 2: the name one label below the PSD. */
          walk->org_domain = sw_domain_last_labels (start, sw_domain_count_labels (r->domain) + 1);
          walk->psd_record = r;
        }
    }
  if (walk->org_domain == NULL && found->len > 0)
    {
      /* Rule 3: the name with the fewest labels. */
      const SwDmarcFetch *r = g_ptr_array_index (found, found->len - 1);
      walk->org_domain = g_strdup (r->domain);
    }
  if (walk->org_domain == NULL)
    walk->org_domain = g_strdup (start); /* "the initial target domain" */

  for (guint i = 0; i < found->len; i++)
    {
      const SwDmarcFetch *r = g_ptr_array_index (found, i);
      if (sw_domain_equal (r->domain, walk->org_domain))
        walk->org_record = r;
    }
  return TRUE;
}

void
sw_dmarc_tree_walk_clear (SwDmarcTreeWalk *walk)
{
  g_clear_pointer (&walk->org_domain, g_free);
}

/* ---- the public suffix list ---- */

static const psl_ctx_t *
psl_get (void)
{
  static gsize once = 0;
  static const psl_ctx_t *psl = NULL;
  if (g_once_init_enter (&once))
    {
      /* The newer of libpsl's built-in list and Debian's publicsuffix package. */
      psl_ctx_t *latest = psl_latest (NULL);
      psl = latest != NULL ? latest : psl_builtin ();
      if (psl == NULL)
        g_warning ("no public suffix list could be loaded");
      g_once_init_leave (&once, 1);
    }
  return psl;
}

char *
sw_psl_registrable_domain (const char *domain)
{
  if (domain == NULL || domain[0] == '\0' || domain[0] == '.')
    return NULL;
  const psl_ctx_t *psl = psl_get ();
  if (psl == NULL)
    return NULL;

  g_autofree char *lower = NULL;
  if (g_utf8_validate (domain, -1, NULL))
    lower = g_utf8_strdown (domain, -1);
  else
    return NULL;
  gsize len = strlen (lower);
  if (len > 0 && lower[len - 1] == '.')
    lower[len - 1] = '\0';
  if (lower[0] == '\0' || strstr (lower, "..") != NULL || lower[strlen (lower) - 1] == '.')
    return NULL;

  const char *reg = psl_registrable_domain (psl, lower);
  return reg != NULL ? g_strdup (reg) : NULL;
}

/* ---- public lookup ---- */

gboolean
sw_orgdomain_lookup (SwResolver *resolver, SwDmarcMode mode, const char *domain, char **org_domain_out,
                     GPtrArray *lookups_log, GError **error)
{
  g_return_val_if_fail (org_domain_out != NULL, FALSE);
  g_return_val_if_fail (mode < SW_DMARC_MODE_COUNT, FALSE);

  g_autofree char *ascii = domain != NULL ? sw_domain_to_ascii (domain) : NULL;
  if (ascii == NULL)
    {
      g_set_error (error, SW_DMARC_ERROR, SW_DMARC_ERROR_INVALID_DOMAIN, "not a domain name");
      return FALSE;
    }

  if (mode == SW_DMARC_MODE_RFC7489)
    {
      char *reg = sw_psl_registrable_domain (ascii);
      *org_domain_out = reg != NULL ? reg : g_steal_pointer (&ascii);
      return TRUE;
    }

  g_return_val_if_fail (resolver != NULL, FALSE);
  SwDmarcDns dns;
  sw_dmarc_dns_init (&dns, resolver, SW_MAX_DNS_QUERIES_PER_MESSAGE, lookups_log);
  SwDmarcTreeWalk walk;
  gboolean ok = sw_dmarc_tree_walk (&dns, ascii, &walk, error);
  if (ok && !walk.complete)
    {
      ok = FALSE;
      if (walk.failed->kind == SW_DMARC_FETCH_LIMIT)
        g_set_error (error, SW_DMARC_ERROR, SW_DMARC_ERROR_LIMIT, "more than %u DNS queries",
                     dns.max_queries);
      else
        g_set_error (error, SW_DMARC_ERROR, SW_DMARC_ERROR_DNS_TEMPORARY, "DNS %s looking up _dmarc.%s",
                     walk.failed->status == SW_DNS_STATUS_TIMEOUT ? "timeout" : "server failure",
                     walk.failed->domain);
    }
  if (ok)
    *org_domain_out = g_steal_pointer (&walk.org_domain);
  sw_dmarc_tree_walk_clear (&walk);
  sw_dmarc_dns_clear (&dns);
  return ok;
}
