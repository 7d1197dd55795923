#define G_LOG_DOMAIN "sw-verify"
/* sw-prefetch.c: the first DNS questions of a verification, asked while the body arrives.
 * See sw-prefetch.h. The names mirror sw-verifier.c (envelope, SPF identities), sw-dkim.c
 * (selector._domainkey.domain) and sw-orgdomain.c (the tree walk). */
#include "sw-prefetch.h"
#include "sw-domain.h"
#include "sw-limits.h"
#include "sw-message.h"
#include "sw-orgdomain.h"
#include "sw-spf.h"
#include "sw-util.h"

#include <arpa/inet.h>
#include <string.h>

/* Tree walk (sw-orgdomain.c): a name of eight labels or more is shortened to seven. */
#define WALK_SHORTENED_LABELS 7u
/* Threads of the pool for resolvers without asynchronous queries (each waits on DNS in its
 * own thread); libunbound's queries are asynchronous and need none. */
#define PREFETCH_THREADS 64

typedef struct
{
  GPtrArray *names; /* char*, "name" */
  GPtrArray *types; /* GUINT_TO_POINTER (qtype) */
  GHashTable *seen; /* "name/type" */
  guint n_spf;      /* the first n_spf names are SPF records (TXT) of the checked identities */
  char *client_ip;  /* the envelope's client address, or NULL */
} NameList;

static void
name_list_clear (NameList *l)
{
  g_clear_pointer (&l->names, g_ptr_array_unref);
  g_clear_pointer (&l->types, g_ptr_array_unref);
  g_clear_pointer (&l->seen, g_hash_table_unref);
  g_clear_pointer (&l->client_ip, g_free);
}

static void
name_list_add (NameList *l, const char *name, guint16 qtype)
{
  if (name == NULL || *name == '\0' || l->names->len >= SW_MAX_DNS_QUERIES_PER_MESSAGE)
    return;
  g_autofree char *lower = g_ascii_strdown (name, -1);
  gsize len = strlen (lower);
  if (len > 0 && lower[len - 1] == '.')
    lower[len - 1] = '\0';
  if (strlen (lower) > SW_MAX_DOMAIN_LENGTH)
    return;
  char *key = g_strdup_printf ("%s/%u", lower, qtype);
  if (!g_hash_table_add (l->seen, key))
    return;
  g_ptr_array_add (l->names, g_steal_pointer (&lower));
  g_ptr_array_add (l->types, GUINT_TO_POINTER ((guint)qtype));
}

static const char *
domain_of (const char *addr)
{
  const char *at = strrchr (addr, '@');
  return at ? at + 1 : addr;
}

/* SPF: the identities sw_verifier_verify() checks when the envelope has a client IP. */
static void
add_spf (NameList *l, const SwEnvelope *env)
{
  if (env->ip == NULL)
    return;
  gboolean have_helo = env->helo != NULL && *env->helo != '\0';
  const char *why = NULL;
  if (env->mail_from != NULL && *env->mail_from != '\0')
    {
      /* a single-label or malformed domain is "none" without a lookup (RFC 7208 4.3) */
      g_autofree char *domain = sw_spf_checkable_domain (domain_of (env->mail_from), &why);
      name_list_add (l, domain, SW_DNS_TYPE_TXT);
    }
  if (have_helo && !g_hostname_is_ip_address (env->helo))
    {
      g_autofree char *helo = sw_spf_checkable_domain (env->helo, &why);
      name_list_add (l, helo, SW_DNS_TYPE_TXT);
    }
}

/* The value of tag @name in a DKIM tag list (RFC 6376 section 3.2), whitespace removed. */
static char *
dkim_tag (const char *value, const char *name)
{
  g_auto (GStrv) tags = g_strsplit (value, ";", 64);
  for (char **t = tags; *t; t++)
    {
      const char *eq = strchr (*t, '=');
      if (eq == NULL)
        continue;
      g_autofree char *tag = g_strstrip (g_strndup (*t, (gsize)(eq - *t)));
      if (strcmp (tag, name) != 0)
        continue;
      GString *v = g_string_new (NULL);
      for (const char *p = eq + 1; *p; p++)
        if (!g_ascii_isspace (*p))
          g_string_append_c (v, *p);
      return g_string_free (v, FALSE);
    }
  return NULL;
}

static void
add_dkim (NameList *l, SwMessage *msg)
{
  for (guint i = 0; i < SW_DKIM_MAX_SIGNATURES; i++)
    {
      const SwHeaderField *f = sw_message_find_field (msg, "DKIM-Signature", i);
      if (f == NULL)
        break;
      if (f->value == NULL || f->truncated)
        continue;
      g_autofree char *d = dkim_tag (f->value, "d");
      g_autofree char *s = dkim_tag (f->value, "s");
      if (d == NULL || s == NULL || *d == '\0' || *s == '\0')
        continue;
      g_autofree char *qname = g_strdup_printf ("%s._domainkey.%s", s, d);
      name_list_add (l, qname, SW_DNS_TYPE_TXT);
    }
}

static void
add_dmarc_name (NameList *l, const char *domain)
{
  g_autofree char *qname = g_strconcat ("_dmarc.", domain, NULL);
  name_list_add (l, qname, SW_DNS_TYPE_TXT);
}

/* The names of the tree walk of sw-orgdomain.c, assuming no record ends it early. */
static void
add_dmarc (NameList *l, const char *domain, SwDmarcMode mode)
{
  add_dmarc_name (l, domain);
  if (mode == SW_DMARC_MODE_RFC7489)
    {
      g_autofree char *reg = sw_psl_registrable_domain (domain);
      if (reg != NULL)
        add_dmarc_name (l, reg);
      return;
    }
  guint x = sw_domain_count_labels (domain);
  guint labels = x;
  for (guint n = 1; n < SW_DMARC_MAX_TREE_WALK && labels > 1; n++)
    {
      if (labels == x && x >= SW_DMARC_MAX_TREE_WALK)
        labels = WALK_SHORTENED_LABELS;
      else
        labels--;
      g_autofree char *target = sw_domain_last_labels (domain, labels);
      if (target == NULL)
        break;
      add_dmarc_name (l, target);
    }
}

/* The names in the order verification asks them: SPF, DKIM, DMARC. */
static void
collect_names (SwVerifier *verifier, GBytes *header_block, NameList *l)
{
  l->names = g_ptr_array_new_with_free_func (g_free);
  l->types = g_ptr_array_new ();
  l->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  g_autoptr (SwMessage) msg = sw_message_new (header_block);
  SwEnvelopeHints hints;
  sw_verifier_get_envelope_hints (verifier, &hints);
  g_autoptr (SwEnvelope) env = sw_envelope_reconstruct (msg, &hints);
  add_spf (l, env);
  l->n_spf = l->names->len;
  l->client_ip = g_strdup (env->ip);
  add_dkim (l, msg);

  g_autoptr (SwFrom) from = sw_from_parse (msg);
  if (from->status == SW_FROM_OK)
    for (guint i = 0; i < from->domains->len; i++)
      add_dmarc (l, g_ptr_array_index (from->domains, i), sw_verifier_get_dmarc_mode (verifier));
}

GPtrArray *
sw_verifier_prefetch_names (SwVerifier *verifier, GBytes *header_block)
{
  g_return_val_if_fail (verifier != NULL && header_block != NULL, NULL);
  NameList l = { 0 };
  collect_names (verifier, header_block, &l);
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < l.names->len; i++)
    {
      guint16 qtype = (guint16)GPOINTER_TO_UINT (g_ptr_array_index (l.types, i));
      g_ptr_array_add (out, g_strdup_printf ("%s %s", (const char *)g_ptr_array_index (l.names, i),
                                             qtype == SW_DNS_TYPE_TXT ? "TXT" : "?"));
    }
  name_list_clear (&l);
  return out;
}

/* ---- the queries, several at once ---- */

/* Levels of SPF records followed after the first (include: and redirect= chains). */
#define SPF_FOLLOW_DEPTH 3u

/* The client's address, as SPF compares it. */
typedef struct
{
  gboolean v6;
  guint8 octets[16];
} ClientIp;

static gboolean
client_ip_parse (const char *text, ClientIp *out)
{
  memset (out, 0, sizeof *out);
  if (inet_pton (AF_INET, text, out->octets) == 1)
    return TRUE;
  out->v6 = TRUE;
  return inet_pton (AF_INET6, text, out->octets) == 1;
}

/* One prefetch: the names asked so far (each once), and how many are still in flight.
 * Shared by the caller and the pool's jobs; the last reference frees it. */
typedef struct
{
  gint ref_count; /* g_atomic_int */
  GMutex mutex;
  GCond cond;
  guint left;       /* jobs in flight */
  GHashTable *seen; /* "name/type" queried by this batch */
  guint extra;      /* names added by following SPF records */
  guint extra_cap;
  guint sent;       /* names that were not in the cache (asked of the DNS server) */
} Batch;

typedef struct
{
  Batch *batch;
  SwResolver *resolver;
  char *name;
  guint16 qtype;
  ClientIp *client; /* SPF record to follow (TXT) or MX hosts to resolve: the client IP; else NULL */
  guint depth;
  gboolean resolver_ref; /* holds a reference on resolver (pool jobs; an asynchronous query must
                          * not: its callback runs in the resolver's thread, which cannot free it) */
} Job;

static Batch *
batch_new (guint extra_cap)
{
  Batch *b = g_new0 (Batch, 1);
  b->ref_count = 1;
  g_mutex_init (&b->mutex);
  g_cond_init (&b->cond);
  b->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  b->extra_cap = extra_cap;
  return b;
}

static void
batch_unref (Batch *b)
{
  if (!g_atomic_int_dec_and_test (&b->ref_count))
    return;
  g_mutex_clear (&b->mutex);
  g_cond_clear (&b->cond);
  g_hash_table_unref (b->seen);
  g_free (b);
}

static void batch_push (Batch *b, SwResolver *resolver, const char *name, guint16 qtype, const ClientIp *client,
                        guint depth, gboolean extra);

/* Whether the ip4:/ip6: term @spec (after the colon) may match @client: TRUE unless it
 * certainly does not (an unreadable term counts as a possible match). */
static gboolean
ip_term_may_match (const char *spec, gboolean v6, const ClientIp *client)
{
  if (client->v6 != v6)
    return FALSE; /* never matches an address of the other family */
  g_autofree char *addr = g_strdup (spec);
  guint bits = v6 ? 128 : 32;
  char *slash = strchr (addr, '/');
  if (slash != NULL)
    {
      *slash = '\0';
      guint64 n = 0;
      if (!g_ascii_string_to_unsigned (slash + 1, 10, 0, bits, &n, NULL))
        return TRUE;
      bits = (guint)n;
    }
  guint8 net[16] = { 0 };
  if (inet_pton (v6 ? AF_INET6 : AF_INET, addr, net) != 1)
    return TRUE;
  for (guint i = 0; i < bits; i++)
    {
      guint8 bit = (guint8)(0x80u >> (i % 8));
      if ((net[i / 8] & bit) != (client->octets[i / 8] & bit))
        return FALSE;
    }
  return TRUE;
}

/* The target of an a/mx/include term: after ':' up to '/', or @domain. NULL if the term
 * has a macro (not expanded here). */
static char *
term_target (const char *rest, const char *domain)
{
  if (strchr (rest, '%') != NULL)
    return NULL;
  if (*rest != ':')
    return g_strdup (domain);
  return g_strndup (rest + 1, strcspn (rest + 1, "/"));
}

/* The SPF record of @domain has arrived: asks the first DNS lookup verification will
 * certainly make after it. Mechanisms are evaluated in order and the first match ends
 * the evaluation, so only the first term that needs DNS is followed, and only when every
 * term before it certainly does not match the client's address (ip4/ip6 of another
 * network). include: and redirect= are followed into their records (depth-limited). */
static void
spf_follow (Batch *b, SwResolver *resolver, const char *domain, const SwDnsAnswer *answer, const ClientIp *client,
            guint depth)
{
  g_autofree char *record = NULL;
  for (guint i = 0; i < answer->rdata->len; i++)
    {
      g_autofree char *txt = sw_dns_answer_dup_txt (answer, i);
      if (txt == NULL || g_ascii_strncasecmp (txt, "v=spf1", 6) != 0 || (txt[6] != ' ' && txt[6] != '\0'))
        continue;
      if (record != NULL)
        return; /* two records: permerror, nothing more is asked */
      record = g_steal_pointer (&txt);
    }
  if (record == NULL || strlen (record) > SW_SPF_MAX_RECORD)
    return;
  gboolean v6 = client->v6;
  g_auto (GStrv) terms = g_strsplit_set (record + 6, " ", 256);
  g_autofree char *redirect = NULL;
  for (char **t = terms; *t != NULL; t++)
    {
      const char *term = *t;
      if (*term == '\0')
        continue;
      if (strchr ("+-~?", *term) != NULL)
        term++;
      gsize kw = strcspn (term, ":/=");
      if (term[kw] == '=')
        {
          if (kw == 8 && g_ascii_strncasecmp (term, "redirect", 8) == 0 && redirect == NULL)
            redirect = g_strdup (term + 9);
          continue; /* a modifier */
        }
      if (kw == 3 && g_ascii_strncasecmp (term, "ip4", 3) == 0 && term[3] == ':')
        {
          if (ip_term_may_match (term + 4, FALSE, client))
            return;
          continue;
        }
      if (kw == 3 && g_ascii_strncasecmp (term, "ip6", 3) == 0 && term[3] == ':')
        {
          if (ip_term_may_match (term + 4, TRUE, client))
            return;
          continue;
        }
      g_autofree char *target = NULL;
      if (kw == 7 && g_ascii_strncasecmp (term, "include", 7) == 0 && term[7] == ':'
          && (target = term_target (term + 7, domain)) != NULL)
        batch_push (b, resolver, target, SW_DNS_TYPE_TXT, depth < SPF_FOLLOW_DEPTH ? client : NULL, depth + 1, TRUE);
      else if (kw == 1 && g_ascii_strncasecmp (term, "a", 1) == 0 && (target = term_target (term + 1, domain)) != NULL)
        batch_push (b, resolver, target, v6 ? SW_DNS_TYPE_AAAA : SW_DNS_TYPE_A, NULL, depth + 1, TRUE);
      else if (kw == 2 && g_ascii_strncasecmp (term, "mx", 2) == 0 && (target = term_target (term + 2, domain)) != NULL)
        batch_push (b, resolver, target, SW_DNS_TYPE_MX, client, depth + 1, TRUE);
      return; /* the first term that needs DNS (or all, ptr, exists, a macro): stop here */
    }
  if (redirect != NULL && strchr (redirect, '%') == NULL && depth < SPF_FOLLOW_DEPTH)
    batch_push (b, resolver, redirect, SW_DNS_TYPE_TXT, client, depth + 1, TRUE);
}

/* The MX hosts of an mx mechanism: verification asks the address of each (at most
 * SW_SPF_MAX_MX_PTR; more is an error and nothing is asked). */
static void
mx_follow (Batch *b, SwResolver *resolver, const SwDnsAnswer *answer, const ClientIp *client, guint depth)
{
  if (answer->rdata->len > SW_SPF_MAX_MX_PTR)
    return;
  guint16 qtype = client->v6 ? SW_DNS_TYPE_AAAA : SW_DNS_TYPE_A;
  for (guint i = 0; i < answer->rdata->len; i++)
    {
      g_autofree char *host = sw_dns_answer_dup_name (answer, i, NULL);
      if (host != NULL)
        batch_push (b, resolver, host, qtype, NULL, depth + 1, TRUE);
    }
}

/* An answer of the batch has arrived (from the cache or the server): follow it. */
static void
answer_arrived (Batch *b, SwResolver *resolver, const char *name, guint16 qtype, const SwDnsAnswer *answer,
                const ClientIp *client, guint depth)
{
  if (client == NULL || answer->status != SW_DNS_STATUS_OK)
    return;
  if (qtype == SW_DNS_TYPE_TXT)
    spf_follow (b, resolver, name, answer, client, depth);
  else if (qtype == SW_DNS_TYPE_MX)
    mx_follow (b, resolver, answer, client, depth);
}

/* A job is over: the batch has one fewer in flight. */
static void
job_done (Job *job)
{
  Batch *b = job->batch;
  g_mutex_lock (&b->mutex);
  if (--b->left == 0)
    g_cond_signal (&b->cond);
  g_mutex_unlock (&b->mutex);
  batch_unref (b);
  if (job->resolver_ref)
    sw_resolver_unref (job->resolver);
  g_free (job->client);
  g_free (job->name);
  g_free (job);
}

/* In the pool: a resolver without a thread of its own, one thread per name. */
static void
job_run (gpointer data, gpointer user_data)
{
  (void)user_data;
  Job *job = data;
  g_autoptr (SwDnsAnswer) answer = NULL;
  g_autoptr (GError) error = NULL;
  if (!sw_resolver_query (job->resolver, job->name, job->qtype, &answer, &error))
    g_debug ("prefetch %s: %s", job->name, error->message);
  else
    answer_arrived (job->batch, job->resolver, job->name, job->qtype, answer, job->client, job->depth);
  job_done (job);
}

/* In the resolver's thread (sw_resolver_query_async): follow the answer, quickly. */
static void
job_answered (const SwDnsAnswer *answer, gpointer data)
{
  Job *job = data;
  answer_arrived (job->batch, job->resolver, job->name, job->qtype, answer, job->client, job->depth);
  job_done (job);
}

static GThreadPool *
prefetch_pool (void)
{
  static gsize once = 0;
  static GThreadPool *pool = NULL;
  if (g_once_init_enter (&once))
    {
      pool = g_thread_pool_new (job_run, NULL, PREFETCH_THREADS, TRUE, NULL);
      g_once_init_leave (&once, 1);
    }
  return pool;
}

/* Queries @name unless this batch asked it already; @extra: a name found by following a
 * record (capped by b->extra_cap). An answer in the cache is followed at once, in the
 * calling thread, so a prefetch with a warm cache costs no thread switch; the others are
 * asked asynchronously (or in the pool), followed where their answer arrives. */
static void
batch_push (Batch *b, SwResolver *resolver, const char *name, guint16 qtype, const ClientIp *client, guint depth,
            gboolean extra)
{
  g_autofree char *lower = g_ascii_strdown (name, -1);
  gsize len = strlen (lower);
  if (len > 0 && lower[len - 1] == '.')
    lower[--len] = '\0';
  if (len == 0 || len > SW_MAX_DOMAIN_LENGTH)
    return;
  char *key = g_strdup_printf ("%s/%u", lower, qtype);
  g_mutex_lock (&b->mutex);
  if ((extra && b->extra >= b->extra_cap) || !g_hash_table_add (b->seen, key))
    {
      if (extra && b->extra >= b->extra_cap)
        g_free (key);
      g_mutex_unlock (&b->mutex);
      return;
    }
  if (extra)
    b->extra++;
  g_mutex_unlock (&b->mutex);
  g_autoptr (SwDnsAnswer) cached = NULL;
  g_autoptr (GError) error = NULL;
  if (!sw_resolver_query_now (resolver, lower, qtype, &cached, &error))
    {
      g_debug ("prefetch %s: %s", lower, error->message);
      return;
    }
  if (cached != NULL)
    {
      answer_arrived (b, resolver, lower, qtype, cached, client, depth);
      return;
    }
  g_mutex_lock (&b->mutex);
  b->left++;
  b->sent++;
  g_mutex_unlock (&b->mutex);
  g_atomic_int_inc (&b->ref_count);
  Job *job = g_new0 (Job, 1);
  job->batch = b;
  job->name = g_steal_pointer (&lower);
  job->qtype = qtype;
  job->client = client != NULL ? g_memdup2 (client, sizeof *client) : NULL;
  job->depth = depth;
  if (sw_resolver_has_async (resolver))
    {
      /* libunbound: all names in flight at once, no thread each */
      job->resolver = resolver;
      if (!sw_resolver_query_async (resolver, job->name, qtype, job_answered, job, &error))
        {
          g_debug ("prefetch %s: %s", job->name, error->message);
          job_done (job);
        }
      return;
    }
  job->resolver = sw_resolver_ref (resolver);
  job->resolver_ref = TRUE;
  if (!g_thread_pool_push (prefetch_pool (), job, NULL))
    job_run (job, NULL);
}

/* Pushes the names of @n_blocks header blocks into @b. */
static void
batch_fill (Batch *b, SwVerifier *verifier, GBytes *const *header_blocks, guint n_blocks)
{
  SwResolver *resolver = sw_verifier_get_resolver (verifier);
  for (guint k = 0; k < n_blocks; k++)
    {
      NameList l = { 0 };
      collect_names (verifier, header_blocks[k], &l);
      ClientIp ip;
      gboolean have_ip = l.n_spf > 0 && l.client_ip != NULL && client_ip_parse (l.client_ip, &ip);
      for (guint i = 0; i < l.names->len; i++)
        {
          guint16 qtype = (guint16)GPOINTER_TO_UINT (g_ptr_array_index (l.types, i));
          /* the SPF records (asked first, before DKIM and DMARC) are followed */
          gboolean spf = i < l.n_spf;
          batch_push (b, resolver, g_ptr_array_index (l.names, i), qtype, spf && have_ip ? &ip : NULL, 0, FALSE);
        }
      name_list_clear (&l);
    }
}

/* Asks the names of @n_blocks header blocks; with @wait, returns once all are answered.
 * Returns how many names were not in the cache. */
static guint
prefetch_run (SwVerifier *verifier, GBytes *const *header_blocks, guint n_blocks, gboolean wait)
{
  Batch *b = batch_new (n_blocks * SW_MAX_DNS_QUERIES_PER_MESSAGE);
  batch_fill (b, verifier, header_blocks, n_blocks);
  g_mutex_lock (&b->mutex);
  while (wait && b->left > 0)
    g_cond_wait (&b->cond, &b->mutex);
  guint sent = b->sent;
  g_mutex_unlock (&b->mutex);
  batch_unref (b); /* not waiting: the jobs in flight hold it */
  return sent;
}

guint
sw_verifier_prefetch_many (SwVerifier *verifier, GBytes *const *header_blocks, guint n_blocks)
{
  g_return_val_if_fail (verifier != NULL && (header_blocks != NULL || n_blocks == 0), 0);
  return prefetch_run (verifier, header_blocks, n_blocks, TRUE);
}

guint
sw_verifier_prefetch_start (SwVerifier *verifier, GBytes *const *header_blocks, guint n_blocks)
{
  g_return_val_if_fail (verifier != NULL && (header_blocks != NULL || n_blocks == 0), 0);
  return prefetch_run (verifier, header_blocks, n_blocks, FALSE);
}

void
sw_verifier_prefetch (SwVerifier *verifier, GBytes *header_block)
{
  g_return_if_fail (verifier != NULL && header_block != NULL);
  (void)sw_verifier_prefetch_many (verifier, &header_block, 1);
}
