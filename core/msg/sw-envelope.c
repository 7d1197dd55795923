#define G_LOG_DOMAIN "sw-msg"
#include "sw-envelope.h"
#include "sw-domain.h"
#include "sw-limits.h"
#include "sw-msg-private.h"
#include "sw-received.h"
#include "sw-util.h"

#include <libpsl.h>
#include <string.h>

void
sw_envelope_free (SwEnvelope *e)
{
  if (e == NULL)
    return;
  g_free (e->ip);
  g_free (e->helo);
  g_free (e->mail_from);
  g_free (e->boundary_by);
  g_free (e->reason);
  g_free (e);
}

static const psl_ctx_t *
psl_context (void)
{
  static const psl_ctx_t *ctx = NULL;
  static gsize once = 0;
  if (g_once_init_enter (&once))
    {
      /* Debian's publicsuffix DAFSA when newer than the built-in copy. */
      psl_ctx_t *latest = psl_latest (NULL);
      ctx = latest != NULL ? latest : psl_builtin ();
      g_once_init_leave (&once, 1);
    }
  return ctx;
}

static gboolean
is_address (const char *text)
{
  if (!sw_msg_may_be_address (text))
    return FALSE;
  g_autofree char *ip = sw_ip_normalize (text);
  return ip != NULL;
}

static char *
registrable_domain_uncached (const char *host)
{
  if (is_address (host))
    return NULL;
  g_autofree char *ascii = sw_domain_to_ascii (host);
  if (ascii == NULL)
    return NULL;
  const psl_ctx_t *psl = psl_context ();
  const char *reg = psl != NULL ? psl_registrable_domain (psl, ascii) : NULL;
  return g_strdup (reg != NULL ? reg : ascii);
}

/* The answers of sw_envelope_registrable_domain(), per thread (no lock): IDNA and the
 * public suffix walk cost about a microsecond a name, and a mailbox's messages name the
 * same provider hosts over and over. Host -> registrable domain, or "" for none (NULL
 * from the function). Bounded: emptied when full. */
#define REGISTRABLE_CACHE_MAX 256u
#define REGISTRABLE_CACHE_MAX_NAME 255u /* longer names are not kept */
static GPrivate registrable_cache = G_PRIVATE_INIT ((GDestroyNotify)g_hash_table_unref);

char *
sw_envelope_registrable_domain (const char *host)
{
  if (host == NULL)
    return NULL;
  if (strlen (host) > REGISTRABLE_CACHE_MAX_NAME)
    return registrable_domain_uncached (host);
  GHashTable *cache = g_private_get (&registrable_cache);
  if (cache == NULL)
    {
      cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_private_set (&registrable_cache, cache);
    }
  const char *known = g_hash_table_lookup (cache, host);
  if (known != NULL)
    return *known != '\0' ? g_strdup (known) : NULL;
  char *reg = registrable_domain_uncached (host);
  if (reg != NULL && *reg == '\0')
    return reg; /* cannot be told from "none" in the table */
  if (g_hash_table_size (cache) >= REGISTRABLE_CACHE_MAX)
    g_hash_table_remove_all (cache);
  g_hash_table_insert (cache, g_strdup (host), g_strdup (reg != NULL ? reg : ""));
  return reg;
}

typedef enum
{
  MODE_AUTO,
  MODE_HOSTS,
  MODE_HOPS
} Mode;

typedef struct
{
  Mode mode;
  GPtrArray *domains;  /* char*: provider's registrable domains (MODE_AUTO) */
  GPtrArray *patterns; /* char*: lower-case glob patterns (MODE_HOSTS) */
} Provider;

static void
provider_clear (Provider *p)
{
  g_clear_pointer (&p->domains, g_ptr_array_unref);
  g_clear_pointer (&p->patterns, g_ptr_array_unref);
}

static void
provider_add_domain (Provider *p, const char *host)
{
  g_autofree char *reg = sw_envelope_registrable_domain (host);
  if (reg == NULL)
    return;
  for (guint i = 0; i < p->domains->len; i++)
    if (g_strcmp0 (g_ptr_array_index (p->domains, i), reg) == 0)
      return;
  g_ptr_array_add (p->domains, g_steal_pointer (&reg));
}

/* TRUE if @host (a name as written in a Received field) is one of the provider's. */
static gboolean
host_is_provider (const Provider *p, const char *host)
{
  if (host == NULL || is_address (host))
    return FALSE;
  g_autofree char *ascii = sw_domain_to_ascii (host);
  if (ascii == NULL)
    return FALSE;
  if (p->mode == MODE_HOSTS)
    {
      for (guint i = 0; i < p->patterns->len; i++)
        if (g_pattern_match_simple (g_ptr_array_index (p->patterns, i), ascii))
          return TRUE;
      return FALSE;
    }
  g_autofree char *reg = sw_envelope_registrable_domain (ascii);
  for (guint i = 0; reg != NULL && i < p->domains->len; i++)
    if (g_strcmp0 (g_ptr_array_index (p->domains, i), reg) == 0)
      return TRUE;
  return FALSE;
}

/* The client of a hop is the provider's own host. The reverse name is the receiver's
 * finding; the HELO is only the client's claim, used when the receiver's format has no
 * reverse-name slot at all. */
static gboolean
client_is_provider (const Provider *p, const SwReceived *r)
{
  if (r->from_rdns != NULL)
    return host_is_provider (p, r->from_rdns);
  if (!r->rdns_recorded && r->from_helo != NULL)
    return host_is_provider (p, r->from_helo);
  return FALSE;
}

/* characters of a host name kept in a reason */
#define CLEAN_MAX_CHARS 120u

static char *
clean (const char *text)
{
  return sw_sanitize_for_log (text != NULL ? text : "", -1, CLEAN_MAX_CHARS);
}

static char *
join_domains (GPtrArray *domains)
{
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < domains->len; i++)
    {
      if (i > 0)
        g_string_append (s, i + 1 == domains->len ? " and " : ", ");
      g_string_append (s, g_ptr_array_index (domains, i));
    }
  return g_string_free (s, FALSE);
}

/* The address of a Return-Path value: "<a@b>" or "a@b"; "" for "<>". NULL if it is not
 * one of these. */
static char *
return_path_address (const char *value)
{
  const char *open = strchr (value, '<');
  if (open != NULL)
    {
      const char *close = strchr (open, '>');
      if (close == NULL)
        return NULL;
      g_autofree char *inside = g_strstrip (g_strndup (open + 1, (gsize)(close - open - 1)));
      if (strpbrk (inside, " \t\"<") != NULL && inside[0] != '"')
        return NULL;
      return g_steal_pointer (&inside);
    }
  g_autofree char *word = g_strstrip (g_strdup (value));
  if (*word == '\0' || strpbrk (word, " \t()") != NULL || strchr (word, '@') == NULL)
    return NULL;
  return g_steal_pointer (&word);
}

typedef struct
{
  SwReceived *r;
  guint position; /* index of the field in the header */
  int non_public; /* sw_ip_is_non_public (r->from_ip), once asked; -1 before */
} Hop;

/* sw_ip_is_non_public() of the hop's client address, asked once per hop. */
static gboolean
hop_is_non_public (Hop *h)
{
  if (h->non_public < 0)
    h->non_public = sw_ip_is_non_public (h->r->from_ip);
  return h->non_public;
}

static void
hop_clear (gpointer data)
{
  Hop *h = data;
  g_clear_pointer (&h->r, sw_received_free);
}

static void
set_boundary (SwEnvelope *env, const Hop *h, int index, SwSource source)
{
  env->boundary_index = index;
  env->boundary_time = h->r->timestamp;
  env->boundary_by = g_strdup (h->r->by_host);
  env->ip = g_strdup (h->r->from_ip);
  env->ip_source = source;
  if (h->r->from_helo != NULL)
    {
      env->helo = g_strdup (h->r->from_helo);
      env->helo_source = source;
    }
}

/* Checks a boundary candidate; FALSE (and the reason) when it cannot give an SPF client. */
static gboolean
usable_boundary (SwEnvelope *env, Hop *h, int index)
{
  g_autofree char *by = clean (h->r->by_host);
  if (h->r->from_ip == NULL)
    {
      env->reason = g_strdup_printf ("Received #%d (by %s) names no client address", index + 1, by);
      return FALSE;
    }
  if (hop_is_non_public (h))
    {
      env->reason = g_strdup_printf ("Received #%d (by %s) is from the private address %s", index + 1, by,
                                     h->r->from_ip);
      return FALSE;
    }
  if (h->r->authenticated)
    {
      env->reason = g_strdup_printf ("Received #%d (by %s) is an authenticated submission from %s, "
                                     "which SPF does not apply to",
                                     index + 1, by, h->r->from_ip);
      return FALSE;
    }
  return TRUE;
}

static void
walk_by_hops (SwEnvelope *env, GArray *hops, int trusted_hops, guint n_received)
{
  int index = trusted_hops - 1;
  if ((guint)index >= hops->len)
    {
      env->reason = g_strdup_printf ("the account trusts %d Received fields but the message has %u",
                                     trusted_hops, n_received);
      return;
    }
  Hop *h = &g_array_index (hops, Hop, index);
  if (!usable_boundary (env, h, index))
    return;
  set_boundary (env, h, index, SW_SOURCE_RECEIVED_HOPS);
  g_autofree char *by = clean (h->r->by_host);
  env->reason = g_strdup_printf ("Received #%d (by %s) by the account's trusted hop count", index + 1, by);
}

/* Automatic mode learns the provider's domains from the hops it walks: every hop above
 * the boundary was written by the provider (the topmost field by its final delivery
 * agent, each one below by the client of the hop above, which was judged internal), so
 * the registrable domain of its by-host is the provider's. Single-label names
 * ("localhost", "sloti41n07") are not taken. */
static void
learn_writer (Provider *p, const SwReceived *r)
{
  if (p->mode != MODE_AUTO || r->by_host == NULL || is_address (r->by_host)
      || strchr (r->by_host, '.') == NULL)
    return;
  provider_add_domain (p, r->by_host);
}

static void
walk (SwEnvelope *env, GArray *hops, Provider *p, const SwEnvelopeHints *hints, guint n_received)
{
  SwSource source = p->mode == MODE_HOSTS ? SW_SOURCE_RECEIVED_HOSTS : SW_SOURCE_RECEIVED_AUTO;

  if (p->mode == MODE_AUTO && hints != NULL && hints->upstream_host != NULL
      && strchr (hints->upstream_host, '.') != NULL)
    provider_add_domain (p, hints->upstream_host);

  guint internal = 0;
  for (guint i = 0; i < hops->len; i++)
    {
      Hop *h = &g_array_index (hops, Hop, i);
      const SwReceived *r = h->r;
      if (!r->parsed)
        {
          env->reason = g_strdup_printf ("Received #%u could not be read, so the fields below it "
                                         "cannot be trusted",
                                         i + 1);
          return;
        }
      learn_writer (p, r);
      if (r->local || r->from_ip == NULL)
        continue; /* not a network hop */
      if (hop_is_non_public (h) || client_is_provider (p, r))
        {
          internal++;
          continue;
        }
      if (!usable_boundary (env, h, (int)i))
        return;
      set_boundary (env, h, (int)i, source);
      g_autofree char *by = clean (r->by_host);
      g_autofree char *who
          = p->mode == MODE_HOSTS ? g_strdup ("the account's provider hosts") : join_domains (p->domains);
      env->reason = g_strdup_printf ("Received #%u (by %s): the first hop from outside %s, "
                                     "after %u internal hop%s",
                                     i + 1, by, who, internal, internal == 1 ? "" : "s");
      return;
    }

  if (hops->len < n_received)
    env->reason = g_strdup_printf ("no hop from outside the provider in the first %u Received fields",
                                   SW_MAX_RECEIVED_FIELDS);
  else if (internal > 0)
    env->reason = g_strdup_printf ("all %u network hop%s internal to the provider", internal,
                                   internal == 1 ? " is" : "s are");
  else
    env->reason = g_strdup ("no Received field records a network hop");
}

SwEnvelope *
sw_envelope_reconstruct (SwMessage *msg, const SwEnvelopeHints *hints)
{
  g_return_val_if_fail (msg != NULL, NULL);

  SwEnvelope *env = g_new0 (SwEnvelope, 1);
  env->boundary_index = -1;
  env->boundary_time = -1;

  g_autoptr (GArray) hops = g_array_new (FALSE, TRUE, sizeof (Hop));
  g_array_set_clear_func (hops, hop_clear);
  guint n_fields = sw_message_get_n_fields (msg);
  guint n_received = 0;
  for (guint i = 0; i < n_fields; i++)
    {
      const SwHeaderField *f = sw_message_get_field (msg, i);
      if (g_ascii_strcasecmp (f->name, "Received") != 0)
        continue;
      n_received++;
      if (hops->len >= SW_MAX_RECEIVED_FIELDS)
        continue;
      Hop h = { sw_received_parse (f->value), i, -1 };
      g_array_append_val (hops, h);
    }

  if (n_received == 0)
    env->reason = g_strdup ("the message has no Received field");
  else if (hints != NULL && hints->trusted_hops > 0)
    walk_by_hops (env, hops, hints->trusted_hops, n_received);
  else
    {
      Provider p
          = { MODE_AUTO, g_ptr_array_new_with_free_func (g_free), g_ptr_array_new_with_free_func (g_free) };
      if (hints != NULL && hints->provider_hosts != NULL && hints->provider_hosts[0] != NULL)
        {
          p.mode = MODE_HOSTS;
          for (const char *const *pat = hints->provider_hosts; *pat; pat++)
            g_ptr_array_add (p.patterns, g_ascii_strdown (*pat, -1));
        }
      walk (env, hops, &p, hints, n_received);
      provider_clear (&p);
    }
  /* env->ip is the boundary hop's client address (set_boundary()) */
  g_assert (env->ip == NULL || !hop_is_non_public (&g_array_index (hops, Hop, env->boundary_index)));

  /* MAIL FROM: a Return-Path above the boundary (or above every Received when there is
   * none) was written by the final delivery agent. */
  guint limit = n_fields;
  if (env->boundary_index >= 0)
    limit = g_array_index (hops, Hop, env->boundary_index).position;
  else if (hops->len > 0)
    limit = g_array_index (hops, Hop, 0).position;
  for (guint i = 0; i < limit; i++)
    {
      const SwHeaderField *f = sw_message_get_field (msg, i);
      if (g_ascii_strcasecmp (f->name, "Return-Path") != 0)
        continue;
      env->mail_from = return_path_address (f->value);
      if (env->mail_from != NULL)
        env->mail_from_source = SW_SOURCE_RETURN_PATH;
      break;
    }
  if (env->mail_from == NULL && env->boundary_index >= 0)
    {
      const SwReceived *r = g_array_index (hops, Hop, env->boundary_index).r;
      if (r->envelope_from != NULL)
        {
          env->mail_from = g_strdup (r->envelope_from);
          env->mail_from_source = SW_SOURCE_RECEIVED_ENVFROM;
        }
    }
  return env;
}
