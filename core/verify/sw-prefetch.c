#define G_LOG_DOMAIN "sw-verify"
/* sw-prefetch.c: the first DNS questions of a verification, asked while the body arrives.
 * See sw-prefetch.h. The names mirror sw-verifier.c (envelope, SPF identities), sw-dkim.c
 * (selector._domainkey.domain) and sw-orgdomain.c (the tree walk). */
#include "sw-prefetch.h"
#include "sw-domain.h"
#include "sw-limits.h"
#include "sw-message.h"
#include "sw-orgdomain.h"
#include "sw-util.h"

#include <string.h>

/* Tree walk (sw-orgdomain.c): a name of eight labels or more is shortened to seven. */
#define WALK_SHORTENED_LABELS 7u
/* Queries in flight at once, shared by all prefetches: each waits on DNS in its own
 * thread, so with a slow server this bounds how many names per second are warmed. */
#define PREFETCH_THREADS 64

typedef struct
{
  GPtrArray *names; /* char*, "name" */
  GPtrArray *types; /* GUINT_TO_POINTER (qtype) */
  GHashTable *seen; /* "name/type" */
} NameList;

static void
name_list_clear (NameList *l)
{
  g_clear_pointer (&l->names, g_ptr_array_unref);
  g_clear_pointer (&l->types, g_ptr_array_unref);
  g_clear_pointer (&l->seen, g_hash_table_unref);
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
  if (env->mail_from != NULL && *env->mail_from != '\0')
    name_list_add (l, domain_of (env->mail_from), SW_DNS_TYPE_TXT);
  if (have_helo && !g_hostname_is_ip_address (env->helo))
    name_list_add (l, env->helo, SW_DNS_TYPE_TXT);
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

typedef struct
{
  GMutex mutex;
  GCond cond;
  guint left;
} Batch;

typedef struct
{
  Batch *batch;
  SwResolver *resolver;
  char *name;
  guint16 qtype;
} Job;

static void
job_run (gpointer data, gpointer user_data)
{
  (void)user_data;
  Job *job = data;
  g_autoptr (SwDnsAnswer) answer = NULL;
  g_autoptr (GError) error = NULL;
  if (!sw_resolver_query (job->resolver, job->name, job->qtype, &answer, &error))
    g_debug ("prefetch %s: %s", job->name, error->message);
  Batch *b = job->batch;
  g_mutex_lock (&b->mutex);
  if (--b->left == 0)
    g_cond_signal (&b->cond);
  g_mutex_unlock (&b->mutex);
  sw_resolver_unref (job->resolver);
  g_free (job->name);
  g_free (job);
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

void
sw_verifier_prefetch (SwVerifier *verifier, GBytes *header_block)
{
  g_return_if_fail (verifier != NULL && header_block != NULL);
  NameList l = { 0 };
  collect_names (verifier, header_block, &l);
  if (l.names->len == 0)
    {
      name_list_clear (&l);
      return;
    }

  Batch b;
  g_mutex_init (&b.mutex);
  g_cond_init (&b.cond);
  b.left = l.names->len;
  SwResolver *resolver = sw_verifier_get_resolver (verifier);
  GThreadPool *pool = prefetch_pool ();
  for (guint i = 0; i < l.names->len; i++)
    {
      Job *job = g_new0 (Job, 1);
      job->batch = &b;
      job->resolver = sw_resolver_ref (resolver);
      job->name = g_strdup (g_ptr_array_index (l.names, i));
      job->qtype = (guint16)GPOINTER_TO_UINT (g_ptr_array_index (l.types, i));
      if (!g_thread_pool_push (pool, job, NULL))
        job_run (job, NULL);
    }
  g_mutex_lock (&b.mutex);
  while (b.left > 0)
    g_cond_wait (&b.cond, &b.mutex);
  g_mutex_unlock (&b.mutex);
  g_mutex_clear (&b.mutex);
  g_cond_clear (&b.cond);
  name_list_clear (&l);
}
