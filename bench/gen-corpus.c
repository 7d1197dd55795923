/* gen-corpus: writes a deterministic benchmark corpus for bench/verify and
 * bench/perl-verify.pl.
 *
 * Output in --out DIR:
 *   msg/NNNNNN.eml   N messages (CRLF, about --size bytes each), one or two RSA-2048
 *                    DKIM signatures made with libopendkim's dkim_sign()
 *   zone.txt         every DNS record the messages need (docs/zone-files.md), the input
 *                    of sw_resolver_new_zone_file() and of the Perl in-memory resolver
 *   expected.tsv     "file <TAB> verdict <TAB> category <TAB> ip <TAB> helo <TAB> mail-from"
 *                    per message: the verdict the generator built the message to get
 *   keys/            the RSA keys used (PEM), unless --keys named a directory
 *
 * The corpus is a function of --seed, --count, --domains and --size (and of the keys):
 * message n is built from its own GRand seeded with (seed, n), so --threads does not
 * change a byte. With --keys (bench/keys/) the RSA keys, hence the signatures, are fixed
 * too.
 *
 * The mail model (docs/benchmarks.md, "Corpus"): the user's provider inbox-provider.net
 * writes two Received fields (MX from the sender, then an internal LMTP hop from a private
 * address), above them Return-Path. Sender domains publish SPF, DMARC (p=none,
 * quarantine, reject; every tenth domain none at all) and a DKIM key; a quarter send
 * through an ESP (espmail.net) that adds its own signature. Categories:
 *   direct     sent from the domain's own server, signed d=domain           -> pass
 *   esp        sent by the ESP, signed d=domain and d=espmail.net           -> pass
 *   spoof      From: a domain, sent from an attacker's network, unsigned or
 *              signed by the attacker's own domain                          -> policy
 *   forwarded  signed by the domain, relayed by a list that appends a footer
 *              (body hash mismatch) without rewriting Return-Path           -> policy
 * where "policy" is fail-none, quarantine or reject after the domain's p=, and every
 * message of a domain without DMARC record is "none".
 *
 * Listens on nothing; trusts nothing; writes only below --out. */
#define G_LOG_DOMAIN "sw-bench"
#include <glib.h>
#include <glib/gstdio.h>

#include <errno.h>
#include <opendkim/dkim.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <string.h>

#define PROVIDER       "inbox-provider.net"
#define ESP_DOMAIN     "espmail.net"
#define ESP_SELECTOR   "esp1"
#define ESP_NET        "23.94.0.0/20"
#define LIST_HOST      "lists.forwardhub.org"
#define LIST_IP        "45.200.21.40"
#define DOMAIN_SEL     "s2026"
#define N_ATTACKERS    24u
#define MAX_DOMAINS    40000u
#define BASE_TIME      G_GINT64_CONSTANT (1768208400) /* Mon, 12 Jan 2026 09:00:00 +0000 */

typedef struct {
  char *pem;      /* private key, PEM (PKCS#8) */
  char *pub_b64;  /* SubjectPublicKeyInfo, base64: the p= of the key record */
} BenchKey;

typedef enum {
  POLICY_ABSENT = 0,  /* no DMARC record */
  POLICY_NONE,
  POLICY_QUARANTINE,
  POLICY_REJECT,
} Policy;

typedef struct {
  char    *name;
  guint    key;        /* index into the key table */
  char    *net;        /* "45.60.17.0/24" */
  char    *ip;         /* its outbound server mail.<name> */
  gboolean uses_esp;
  gboolean spf_mx;     /* SPF via "mx" rather than "ip4" */
  gboolean soft;       /* "~all" rather than "-all" */
  Policy   policy;
} Domain;

typedef struct {
  guint     count;
  guint     n_domains;
  guint     size;
  guint     seed;
  guint     threads;
  guint     n_keys;
  char     *out;
  char     *keys_dir;
  BenchKey *keys;
  guint     esp_key;
  Domain   *domains;
  Domain   *attackers;
  char    **expected;  /* one line of expected.tsv per message */
  gint      next;      /* next message index (atomic) */
  gint      failed;    /* atomic: a worker failed */
  GMutex    error_lock;
  char     *error;
} Gen;

static const char *const words[] = {
  "account", "action", "address", "agenda", "answer", "april", "area", "article", "august",
  "balance", "basket", "benefit", "billing", "board", "budget", "calendar", "campaign",
  "change", "checkout", "client", "community", "company", "confirm", "contract", "costs",
  "customer", "delivery", "design", "details", "discount", "document", "download", "early",
  "event", "exclusive", "feature", "feedback", "final", "friday", "garden", "global",
  "guide", "holiday", "update", "invoice", "journey", "kitchen", "launch", "limited",
  "market", "meeting", "member", "message", "monday", "network", "news", "notice", "offer",
  "office", "order", "package", "partner", "payment", "picture", "plan", "platform",
  "points", "policy", "premium", "price", "product", "project", "quarter", "receipt",
  "reminder", "report", "request", "reward", "sale", "schedule", "season", "security",
  "service", "shipping", "special", "status", "store", "subscription", "summary",
  "support", "survey", "team", "thanks", "ticket", "today", "travel", "trial", "tuesday",
  "upgrade", "value", "weekly", "welcome", "window", "winter", "your", "the", "and", "for",
  "with", "this", "that", "from", "will", "have", "are", "our", "you", "new", "more",
};

static const char *const names[] = {
  "northwind", "bluepeak", "cedarline", "harborview", "ironleaf", "lumenco", "maplestone",
  "oakridge", "pinecrest", "quillwork", "redfern", "silverbay", "tidewater", "umberfield",
  "valemont", "westbrook", "yellowpine", "zephyrlabs", "brightmoor", "coppergate",
};

static const char *const tlds[] = { "com", "net", "org", "de", "fr", "io", "co.uk", "nl" };

static const char *const subjects[] = {
  "Your %s %s is ready", "Weekly %s: %s", "Reminder about your %s %s",
  "New %s for your %s", "Action needed: %s %s", "Thanks for your %s %s",
};

static const char *const first_names[] = {
  "Anna", "Ben", "Carla", "David", "Emma", "Felix", "Greta", "Hugo", "Ines", "Jonas",
};

static void
bench_key_clear (BenchKey *k)
{
  g_clear_pointer (&k->pem, g_free);
  g_clear_pointer (&k->pub_b64, g_free);
}

static void
domain_clear (Domain *d)
{
  g_clear_pointer (&d->name, g_free);
  g_clear_pointer (&d->net, g_free);
  g_clear_pointer (&d->ip, g_free);
}

static void
gen_set_error (Gen *g, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static void
gen_set_error (Gen *g, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_mutex_lock (&g->error_lock);
  if (g->error == NULL)
    g->error = msg;
  else
    g_free (msg);
  g_mutex_unlock (&g->error_lock);
  g_atomic_int_set (&g->failed, 1);
}

/* Fills @key from an OpenSSL key: PEM for the signer, base64 DER for the DNS record. */
static gboolean
key_from_pkey (EVP_PKEY *pkey, BenchKey *key)
{
  BIO *bio = BIO_new (BIO_s_mem ());
  if (bio == NULL || !PEM_write_bio_PrivateKey (bio, pkey, NULL, NULL, 0, NULL, NULL))
    {
      BIO_free (bio);
      return FALSE;
    }
  char *data = NULL;
  long len = BIO_get_mem_data (bio, &data);
  key->pem = g_strndup (data, (gsize) len);
  BIO_free (bio);

  unsigned char *der = NULL;
  int der_len = i2d_PUBKEY (pkey, &der);
  if (der_len <= 0)
    return FALSE;
  key->pub_b64 = g_base64_encode (der, (gsize) der_len);
  OPENSSL_free (der);
  return TRUE;
}

static gboolean
load_key (const char *path, BenchKey *key, GError **error)
{
  g_autofree char *pem = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &pem, &len, error))
    return FALSE;
  BIO *bio = BIO_new_mem_buf (pem, (int) len);
  EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey (bio, NULL, NULL, NULL) : NULL;
  BIO_free (bio);
  if (pkey == NULL || EVP_PKEY_get_base_id (pkey) != EVP_PKEY_RSA || EVP_PKEY_get_bits (pkey) != 2048)
    {
      EVP_PKEY_free (pkey);
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: not an RSA-2048 private key", path);
      return FALSE;
    }
  gboolean ok = key_from_pkey (pkey, key);
  EVP_PKEY_free (pkey);
  if (!ok)
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: cannot encode key", path);
  return ok;
}

/* Loads bench-key-0.pem ... from --keys, or generates --n-keys fresh RSA-2048 keys and
 * saves them to OUT/keys/ so that a run can be repeated with the same keys. */
static gboolean
setup_keys (Gen *g, GError **error)
{
  g->keys = g_new0 (BenchKey, g->n_keys);
  if (g->keys_dir != NULL)
    {
      for (guint i = 0; i < g->n_keys; i++)
        {
          g_autofree char *file = g_strdup_printf ("bench-key-%u.pem", i);
          g_autofree char *path = g_build_filename (g->keys_dir, file, NULL);
          if (!load_key (path, &g->keys[i], error))
            return FALSE;
        }
      return TRUE;
    }

  g_autofree char *dir = g_build_filename (g->out, "keys", NULL);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int err = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err), "%s: %s", dir, g_strerror (err));
      return FALSE;
    }
  for (guint i = 0; i < g->n_keys; i++)
    {
      EVP_PKEY *pkey = EVP_RSA_gen (2048);
      gboolean ok = pkey != NULL && key_from_pkey (pkey, &g->keys[i]);
      EVP_PKEY_free (pkey);
      if (!ok)
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "RSA key generation failed");
          return FALSE;
        }
      g_autofree char *file = g_strdup_printf ("bench-key-%u.pem", i);
      g_autofree char *path = g_build_filename (dir, file, NULL);
      if (!g_file_set_contents_full (path, g->keys[i].pem, -1, G_FILE_SET_CONTENTS_NONE, 0600, error))
        return FALSE;
    }
  return TRUE;
}

static const char *
policy_word (Policy p)
{
  switch (p)
    {
    case POLICY_NONE: return "none";
    case POLICY_QUARANTINE: return "quarantine";
    case POLICY_REJECT: return "reject";
    case POLICY_ABSENT: break;
    }
  return NULL;
}

/* The verdict (DESIGN.md table) of a message that fails DMARC for @d. */
static const char *
failing_verdict (const Domain *d)
{
  switch (d->policy)
    {
    case POLICY_ABSENT: return "none";
    case POLICY_NONE: return "fail-none";
    case POLICY_QUARANTINE: return "quarantine";
    case POLICY_REJECT: return "reject";
    }
  g_assert_not_reached ();
}

static void
setup_domains (Gen *g)
{
  GRand *rand = g_rand_new_with_seed (g->seed);
  g->domains = g_new0 (Domain, g->n_domains);
  for (guint i = 0; i < g->n_domains; i++)
    {
      Domain *d = &g->domains[i];
      d->name = g_strdup_printf ("%s%u.%s", names[i % G_N_ELEMENTS (names)], i,
                                 tlds[g_rand_int_range (rand, 0, G_N_ELEMENTS (tlds))]);
      d->key = i % g->n_keys;
      guint a = 60 + i / 250, b = i % 250;
      d->net = g_strdup_printf ("45.%u.%u.0/24", a, b);
      d->ip = g_strdup_printf ("45.%u.%u.25", a, b);
      d->uses_esp = i % 4 == 1;
      d->spf_mx = i % 3 == 2;
      d->soft = i % 5 == 3;
      if (i % 10 == 9)
        d->policy = POLICY_ABSENT;
      else
        d->policy = (Policy) (POLICY_NONE + g_rand_int_range (rand, 0, 3));
    }
  g->attackers = g_new0 (Domain, N_ATTACKERS);
  for (guint i = 0; i < N_ATTACKERS; i++)
    {
      Domain *d = &g->attackers[i];
      d->name = g_strdup_printf ("promo-deals%u.biz", i);
      d->key = (i * 7 + 3) % g->n_keys;
      d->net = g_strdup_printf ("23.150.%u.0/24", i);
      d->ip = g_strdup_printf ("23.150.%u.77", i);
      d->policy = POLICY_NONE;
    }
  g_rand_free (rand);
}

/* zone.txt: every name a message of the corpus makes anyone look up. */
static gboolean
write_zone (Gen *g, GError **error)
{
  g_autoptr (GString) z = g_string_new (NULL);
  g_string_append_printf (z, "; Spoofwatch benchmark zone: gen-corpus --seed %u --domains %u\n"
                             "$TTL 3600\n",
                          g->seed, g->n_domains);

  g_string_append (z, "; the user's provider\n" PROVIDER ". MX 10 mx2." PROVIDER ".\n"
                      "mx2." PROVIDER ". A 45.10.0.2\n"
                      PROVIDER ". TXT \"v=spf1 ip4:45.10.0.0/24 -all\"\n"
                      "_dmarc." PROVIDER ". TXT \"v=DMARC1; p=reject\"\n");

  g_string_append_printf (z, "; the ESP\n" ESP_DOMAIN ". MX 10 mx." ESP_DOMAIN ".\n"
                             "mx." ESP_DOMAIN ". A 23.94.0.5\n"
                             ESP_DOMAIN ". TXT \"v=spf1 include:_spf." ESP_DOMAIN " -all\"\n"
                             "_spf." ESP_DOMAIN ". TXT \"v=spf1 ip4:" ESP_NET " -all\"\n"
                             "bounce." ESP_DOMAIN ". MX 10 mx." ESP_DOMAIN ".\n"
                             "bounce." ESP_DOMAIN ". TXT \"v=spf1 include:_spf." ESP_DOMAIN " -all\"\n"
                             "_dmarc." ESP_DOMAIN ". TXT \"v=DMARC1; p=none; rua=mailto:dmarc@" ESP_DOMAIN "\"\n"
                             ESP_SELECTOR "._domainkey." ESP_DOMAIN ". TXT \"v=DKIM1; k=rsa; p=%s\"\n",
                          g->keys[g->esp_key].pub_b64);
  for (guint k = 1; k <= 4; k++)
    g_string_append_printf (z, "o%u." ESP_DOMAIN ". A 23.94.1.%u\n"
                               "o%u." ESP_DOMAIN ". TXT \"v=spf1 ip4:" ESP_NET " -all\"\n",
                            k, 9 + k, k);

  g_string_append (z, "; the mailing list that forwards (no SRS)\n"
                      "forwardhub.org. MX 10 " LIST_HOST ".\n"
                      LIST_HOST ". A " LIST_IP "\n"
                      LIST_HOST ". TXT \"v=spf1 a -all\"\n");

  for (guint i = 0; i < N_ATTACKERS; i++)
    {
      const Domain *d = &g->attackers[i];
      g_string_append_printf (z, "; attacker %u\n%s. MX 10 mta.%s.\nmta.%s. A %s\n"
                                 "%s. TXT \"v=spf1 ip4:%s -all\"\n"
                                 "mta.%s. TXT \"v=spf1 a -all\"\n"
                                 "_dmarc.%s. TXT \"v=DMARC1; p=none\"\n"
                                 DOMAIN_SEL "._domainkey.%s. TXT \"v=DKIM1; k=rsa; p=%s\"\n",
                              i, d->name, d->name, d->name, d->ip, d->name, d->net, d->name,
                              d->name, d->name, g->keys[d->key].pub_b64);
    }

  for (guint i = 0; i < g->n_domains; i++)
    {
      const Domain *d = &g->domains[i];
      const char *all = d->soft ? "~all" : "-all";
      g_string_append_printf (z, "; sender %u\n%s. MX 10 mail.%s.\nmail.%s. A %s\n"
                                 "mail.%s. TXT \"v=spf1 a -all\"\n",
                              i, d->name, d->name, d->name, d->ip, d->name);
      if (d->spf_mx)
        g_string_append_printf (z, "%s. TXT \"v=spf1 mx%s %s\"\n", d->name,
                                d->uses_esp ? " include:_spf." ESP_DOMAIN : "", all);
      else
        g_string_append_printf (z, "%s. TXT \"v=spf1 ip4:%s%s %s\"\n", d->name, d->net,
                                d->uses_esp ? " include:_spf." ESP_DOMAIN : "", all);
      if (d->uses_esp)
        g_string_append_printf (z, "news.%s. MX 10 mx." ESP_DOMAIN ".\n", d->name);
      if (d->policy != POLICY_ABSENT)
        g_string_append_printf (z, "_dmarc.%s. TXT \"v=DMARC1; p=%s;%s rua=mailto:dmarc-reports@%s\"\n",
                                d->name, policy_word (d->policy), i % 7 == 4 ? " aspf=s;" : "", d->name);
      g_string_append_printf (z, DOMAIN_SEL "._domainkey.%s. TXT \"v=DKIM1; k=rsa; p=%s\"\n", d->name,
                              g->keys[d->key].pub_b64);
    }

  g_autofree char *path = g_build_filename (g->out, "zone.txt", NULL);
  return g_file_set_contents (path, z->str, (gssize) z->len, error);
}

/* RFC 5322 date in UTC, independent of the locale. */
static char *
rfc5322_date (gint64 t)
{
  static const char *const wd[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
  static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (t);
  return g_strdup_printf ("%s, %02d %s %d %02d:%02d:%02d +0000", wd[g_date_time_get_day_of_week (dt) - 1],
                          g_date_time_get_day_of_month (dt), mon[g_date_time_get_month (dt) - 1],
                          g_date_time_get_year (dt), g_date_time_get_hour (dt), g_date_time_get_minute (dt),
                          g_date_time_get_second (dt));
}

static const char *
pick (GRand *r, const char *const *list, guint n)
{
  return list[g_rand_int_range (r, 0, (gint32) n)];
}
#define PICK(r, list) pick ((r), (list), G_N_ELEMENTS (list))

/* Appends lines of text (CRLF, at most 76 columns) until @out has grown by @bytes. */
static void
append_text (GString *out, GRand *r, gsize bytes, const char *line_prefix, const char *line_suffix)
{
  gsize target = out->len + bytes;
  while (out->len < target)
    {
      gsize line_start = out->len;
      g_string_append (out, line_prefix);
      gboolean first = TRUE;
      while (out->len - line_start < 64)
        {
          const char *w = PICK (r, words);
          g_string_append_printf (out, "%s%s", first ? "" : " ", w);
          if (first)
            out->str[line_start + strlen (line_prefix)] = g_ascii_toupper (w[0]);
          first = FALSE;
        }
      g_string_append_printf (out, ".%s\r\n", line_suffix);
      if (g_rand_int_range (r, 0, 6) == 0)
        g_string_append (out, "\r\n");
    }
}

typedef struct {
  const Domain *d;
  const char   *selector;
  guint         key;
} Signer;

/* Signs @headers ("Name: value" with CRLF folding, no final CRLF) and @body with
 * libopendkim; returns the DKIM-Signature field (with CRLF folding, no final CRLF). */
static char *
dkim_sign_message (Gen *g, DKIM_LIB *lib, guint n, const char *domain, const char *selector, guint key,
                   GPtrArray *headers, const GString *body)
{
  DKIM_STAT stat = DKIM_STAT_OK;
  g_autofree char *id = g_strdup_printf ("bench-%u-%s", n, domain);
  DKIM *dkim = dkim_sign (lib, (const unsigned char *) id, NULL, (dkim_sigkey_t) g->keys[key].pem,
                          (const unsigned char *) selector, (const unsigned char *) domain, DKIM_CANON_RELAXED,
                          DKIM_CANON_RELAXED, DKIM_SIGN_RSASHA256, -1, &stat);
  if (dkim == NULL)
    {
      gen_set_error (g, "dkim_sign(%s): %s", domain, dkim_getresultstr (stat));
      return NULL;
    }
  for (guint i = 0; i < headers->len && stat == DKIM_STAT_OK; i++)
    {
      const char *h = g_ptr_array_index (headers, i);
      stat = dkim_header (dkim, (u_char *) h, strlen (h));
    }
  if (stat == DKIM_STAT_OK)
    stat = dkim_eoh (dkim);
  if (stat == DKIM_STAT_OK)
    stat = dkim_body (dkim, (u_char *) body->str, body->len);
  if (stat == DKIM_STAT_OK)
    stat = dkim_eom (dkim, NULL);
  u_char *sig = NULL;
  size_t sig_len = 0;
  if (stat == DKIM_STAT_OK)
    stat = dkim_getsighdr_d (dkim, strlen ("DKIM-Signature: "), &sig, &sig_len);
  char *field = NULL;
  if (stat == DKIM_STAT_OK)
    {
      /* libopendkim folds with bare LF; the message is CRLF. */
      g_autoptr (GString) f = g_string_new ("DKIM-Signature: ");
      for (size_t i = 0; i < sig_len; i++)
        {
          if (sig[i] == '\n' && (i == 0 || sig[i - 1] != '\r'))
            g_string_append_c (f, '\r');
          g_string_append_c (f, (char) sig[i]);
        }
      field = g_string_free (g_steal_pointer (&f), FALSE);
    }
  else
    gen_set_error (g, "signing message %u for %s: %s", n, domain, dkim_getresultstr (stat));
  dkim_free (dkim);
  return field;
}

typedef enum { CAT_DIRECT, CAT_ESP, CAT_SPOOF, CAT_FORWARDED } Category;
static const char *const category_names[] = { "direct", "esp", "spoof", "forwarded" };

/* Builds message @n into @out and returns its expected.tsv line (NULL on failure). */
static char *
build_message (Gen *g, DKIM_LIB *lib, guint n, GString *out)
{
  g_autoptr (GRand) r = g_rand_new_with_seed (g->seed * 2654435761u + n * 40503u + 1u);
  const Domain *d = &g->domains[g_rand_int_range (r, 0, (gint32) g->n_domains)];
  const Domain *attacker = &g->attackers[g_rand_int_range (r, 0, N_ATTACKERS)];

  gint32 roll = g_rand_int_range (r, 0, 100);
  Category cat;
  if (roll < 70)
    cat = d->uses_esp ? CAT_ESP : CAT_DIRECT;
  else if (roll < 88)
    cat = CAT_SPOOF;
  else
    cat = CAT_FORWARDED;

  /* Sent at BASE_TIME + about 40 s per message; signed when sent; received seconds
   * later (t= must not be later than the boundary Received). */
  gint64 sent = BASE_TIME + (gint64) n * 40 + g_rand_int_range (r, 0, 30);
  gint64 received = sent + 2 + g_rand_int_range (r, 0, 20);
  uint64_t fixed = (uint64_t) sent;
  if (dkim_options (lib, DKIM_OP_SETOPT, DKIM_OPTS_FIXEDTIME, &fixed, sizeof fixed) != DKIM_STAT_OK)
    {
      gen_set_error (g, "DKIM_OPTS_FIXEDTIME refused");
      return NULL;
    }

  const char *first = PICK (r, first_names);
  g_autofree char *from_domain = NULL;
  if (cat == CAT_ESP && g_rand_int_range (r, 0, 4) == 0)
    from_domain = g_strdup_printf ("news.%s", d->name);
  else
    from_domain = g_strdup (d->name);

  /* The envelope as the boundary hop sees it. */
  g_autofree char *ip = NULL, *helo = NULL, *mail_from = NULL;
  Signer signers[2] = { { NULL, NULL, 0 }, { NULL, NULL, 0 } };
  guint n_signers = 0;
  const char *verdict = "pass";
  switch (cat)
    {
    case CAT_DIRECT:
      ip = g_strdup (d->ip);
      helo = g_strdup_printf ("mail.%s", d->name);
      mail_from = g_strdup_printf ("bounce-%u@%s", n, d->name);
      signers[n_signers++] = (Signer) { d, DOMAIN_SEL, d->key };
      break;
    case CAT_ESP:
      {
        guint o = (guint) g_rand_int_range (r, 1, 5);
        ip = g_strdup_printf ("23.94.1.%u", 9 + o);
        helo = g_strdup_printf ("o%u." ESP_DOMAIN, o);
        mail_from = g_strdup_printf ("bounces+%u-%s@bounce." ESP_DOMAIN, n, d->name);
        signers[n_signers++] = (Signer) { d, DOMAIN_SEL, d->key };
        signers[n_signers++] = (Signer) { NULL, ESP_SELECTOR, g->esp_key };
      }
      break;
    case CAT_SPOOF:
      ip = g_strdup (attacker->ip);
      helo = g_rand_boolean (r) ? g_strdup_printf ("mta.%s", attacker->name)
                                : g_strdup_printf ("ylmf-pc%u", n % 97);
      if (g_rand_boolean (r))
        mail_from = g_strdup_printf ("info@%s", attacker->name);
      else
        mail_from = g_strdup_printf ("service@%s", d->name);
      if (g_rand_int_range (r, 0, 10) < 3)
        signers[n_signers++] = (Signer) { attacker, DOMAIN_SEL, attacker->key };
      verdict = failing_verdict (d);
      break;
    case CAT_FORWARDED:
      ip = g_strdup (LIST_IP);
      helo = g_strdup (LIST_HOST);
      mail_from = g_strdup_printf ("bounce-%u@%s", n, d->name);
      signers[n_signers++] = (Signer) { d, DOMAIN_SEL, d->key };
      verdict = failing_verdict (d);
      break;
    }
  if (d->policy == POLICY_ABSENT)
    verdict = "none";

  /* Content headers, as the signer sees them. */
  g_autoptr (GPtrArray) headers = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *date = rfc5322_date (sent);
  g_autofree char *received_date = rfc5322_date (received);
  g_autofree char *lmtp_date = rfc5322_date (received + 1);
  g_autofree char *subject = g_strdup_printf (PICK (r, subjects), PICK (r, words), PICK (r, words));
  g_autofree char *boundary = g_strdup_printf ("=_bench_%08x%08x", g_rand_int (r), n);
  g_ptr_array_add (headers, g_strdup_printf ("Date: %s", date));
  g_autofree char *local = g_ascii_strdown (first, -1);
  g_ptr_array_add (headers, g_strdup_printf ("From: \"%s at %s\" <%s@%s>", first, d->name, local, from_domain));
  g_ptr_array_add (headers, g_strdup ("To: Alice Example <alice@" PROVIDER ">"));
  g_ptr_array_add (headers, g_strdup_printf ("Subject: %s", subject));
  g_ptr_array_add (headers, g_strdup_printf ("Message-ID: <%u.%08x@%s>", n, g_rand_int (r), from_domain));
  g_ptr_array_add (headers, g_strdup ("MIME-Version: 1.0"));
  if (cat == CAT_ESP)
    g_ptr_array_add (headers, g_strdup_printf ("List-Unsubscribe: <https://click.%s/u/%u>,\r\n"
                                               "\t<mailto:unsub-%u@bounce.%s>",
                                               ESP_DOMAIN, n, n, ESP_DOMAIN));
  g_ptr_array_add (headers, g_strdup_printf ("Content-Type: multipart/alternative;\r\n\tboundary=\"%s\"", boundary));

  /* Body: text/plain (40 %) and text/html (60 %) alternatives. */
  g_autoptr (GString) body = g_string_new (NULL);
  gsize payload = g->size > 2500 ? g->size - 2500 : 1000;
  g_string_append_printf (body, "This is a multi-part message in MIME format.\r\n\r\n--%s\r\n"
                                "Content-Type: text/plain; charset=us-ascii\r\n"
                                "Content-Transfer-Encoding: 7bit\r\n\r\nHello Alice,\r\n\r\n",
                          boundary);
  append_text (body, r, payload * 2 / 5, "", "");
  g_string_append_printf (body, "\r\n--%s\r\nContent-Type: text/html; charset=us-ascii\r\n"
                                "Content-Transfer-Encoding: 7bit\r\n\r\n<html><body>\r\n",
                          boundary);
  append_text (body, r, payload * 3 / 5, "<p>", "</p>");
  g_string_append_printf (body, "</body></html>\r\n\r\n--%s--\r\n", boundary);

  g_autoptr (GPtrArray) sigs = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < n_signers; i++)
    {
      const char *sdom = signers[i].d ? signers[i].d->name : ESP_DOMAIN;
      char *sig = dkim_sign_message (g, lib, n, sdom, signers[i].selector, signers[i].key, headers, body);
      if (sig == NULL)
        return NULL;
      g_ptr_array_add (sigs, sig);
    }

  if (cat == CAT_FORWARDED)
    {
      /* The list appends its footer after the closing boundary: the body hash breaks. */
      g_string_append (body, "\r\n_______________________________________________\r\n"
                             "announce mailing list\r\nhttps://" LIST_HOST "/announce\r\n");
    }

  /* The delivered message: provider's fields on top, then what the sender wrote. */
  g_string_append_printf (out, "Return-Path: <%s>\r\n", mail_from);
  g_string_append (out, "Delivered-To: alice@" PROVIDER "\r\n");
  g_string_append_printf (out, "Received: from mx2." PROVIDER " (mx2." PROVIDER " [10.40.1.2])\r\n"
                               "\tby store3." PROVIDER " (Postfix) with LMTP id 4B%07X\r\n"
                               "\tfor <alice@" PROVIDER ">; %s\r\n",
                          n, lmtp_date);
  g_autofree char *rdns = g_ascii_strncasecmp (helo, "ylmf", 4) == 0 ? g_strdup ("unknown") : g_strdup (helo);
  g_string_append_printf (out, "Received: from %s (%s [%s])\r\n"
                               "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\r\n"
                               "\tby mx2." PROVIDER " (Postfix) with ESMTPS id 4A%07X\r\n"
                               "\tfor <alice@" PROVIDER ">; %s\r\n",
                          helo, rdns, ip, n, received_date);
  if (cat == CAT_FORWARDED)
    g_string_append (out, "List-Id: Announcements <announce.forwardhub.org>\r\n");
  for (guint i = sigs->len; i > 0; i--)
    g_string_append_printf (out, "%s\r\n", (const char *) g_ptr_array_index (sigs, i - 1));
  for (guint i = 0; i < headers->len; i++)
    g_string_append_printf (out, "%s\r\n", (const char *) g_ptr_array_index (headers, i));
  g_string_append (out, "\r\n");
  g_string_append_len (out, body->str, (gssize) body->len);

  return g_strdup_printf ("%06u.eml\t%s\t%s\t%s\t%s\t%s", n, verdict, category_names[cat], ip, helo, mail_from);
}

static gpointer
worker (gpointer data)
{
  Gen *g = data;
  DKIM_LIB *lib = dkim_init (NULL, NULL);
  if (lib == NULL)
    {
      gen_set_error (g, "dkim_init failed");
      return NULL;
    }
  g_autoptr (GString) msg = g_string_sized_new (g->size + 8192);
  for (;;)
    {
      if (g_atomic_int_get (&g->failed))
        break;
      guint n = (guint) g_atomic_int_add (&g->next, 1);
      if (n >= g->count)
        break;
      g_string_truncate (msg, 0);
      char *line = build_message (g, lib, n, msg);
      if (line == NULL)
        break;
      g->expected[n] = line;
      g_autofree char *file = g_strdup_printf ("%06u.eml", n);
      g_autofree char *path = g_build_filename (g->out, "msg", file, NULL);
      g_autoptr (GError) error = NULL;
      if (!g_file_set_contents (path, msg->str, (gssize) msg->len, &error))
        {
          gen_set_error (g, "%s", error->message);
          break;
        }
    }
  dkim_close (lib);
  return NULL;
}

int
main (int argc, char **argv)
{
  Gen g = { .count = 10000, .n_domains = 300, .size = 20000, .seed = 1, .n_keys = 8 };
  int count = (int) g.count, n_domains = (int) g.n_domains, size = (int) g.size, seed = (int) g.seed;
  int threads = 0, n_keys = (int) g.n_keys;
  g_autofree char *out = NULL, *keys_dir = NULL;
  GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Directory to write the corpus to (created)", "DIR" },
    { "count", 'n', 0, G_OPTION_ARG_INT, &count, "Number of messages (10000)", "N" },
    { "domains", 'd', 0, G_OPTION_ARG_INT, &n_domains, "Number of sender domains (300)", "N" },
    { "size", 's', 0, G_OPTION_ARG_INT, &size, "Approximate message size in bytes (20000)", "BYTES" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "Seed of the corpus (1)", "N" },
    { "keys", 'k', 0, G_OPTION_ARG_FILENAME, &keys_dir,
      "Directory with bench-key-0.pem... (RSA-2048); default: generate into DIR/keys", "DIR" },
    { "n-keys", 0, 0, G_OPTION_ARG_INT, &n_keys, "Number of RSA keys to use (8)", "N" },
    { "threads", 'j', 0, G_OPTION_ARG_INT, &threads, "Signing threads (0: one per core)", "N" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- write the Spoofwatch benchmark corpus");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("gen-corpus: %s\n", error->message);
      return 2;
    }
  if (out == NULL || count < 1 || count > 999999 || n_domains < 1 || (guint) n_domains > MAX_DOMAINS
      || size < 1000 || size > 10 * 1024 * 1024 || seed < 0 || n_keys < 1 || n_keys > 1000 || threads < 0)
    {
      g_printerr ("gen-corpus: --out is required; --count 1..999999, --domains 1..%u, "
                  "--size 1000..10485760, --n-keys 1..1000\n",
                  MAX_DOMAINS);
      return 2;
    }
  g.out = out;
  g.keys_dir = keys_dir;
  g.count = (guint) count;
  g.n_domains = (guint) n_domains;
  g.size = (guint) size;
  g.seed = (guint) seed;
  g.n_keys = (guint) n_keys;
  g.esp_key = g.n_keys - 1;
  g.threads = threads > 0 ? (guint) threads : g_get_num_processors ();
  g_mutex_init (&g.error_lock);

  g_autofree char *msg_dir = g_build_filename (out, "msg", NULL);
  if (g_mkdir_with_parents (msg_dir, 0755) != 0)
    {
      g_printerr ("gen-corpus: %s: %s\n", msg_dir, g_strerror (errno));
      return 1;
    }
  if (!setup_keys (&g, &error))
    {
      g_printerr ("gen-corpus: %s\n", error->message);
      return 1;
    }
  setup_domains (&g);
  if (!write_zone (&g, &error))
    {
      g_printerr ("gen-corpus: %s\n", error->message);
      return 1;
    }

  gint64 start = g_get_monotonic_time ();
  g.expected = g_new0 (char *, g.count + 1);
  GThread **workers = g_new0 (GThread *, g.threads);
  for (guint i = 0; i < g.threads; i++)
    workers[i] = g_thread_new ("gen-corpus", worker, &g);
  for (guint i = 0; i < g.threads; i++)
    g_thread_join (workers[i]);
  g_free (workers);
  if (g.failed)
    {
      g_printerr ("gen-corpus: %s\n", g.error ? g.error : "failed");
      return 1;
    }

  g_autoptr (GString) tsv = g_string_new ("# file\tverdict\tcategory\tip\thelo\tmail-from\n");
  for (guint i = 0; i < g.count; i++)
    g_string_append_printf (tsv, "%s\n", g.expected[i]);
  g_autofree char *tsv_path = g_build_filename (out, "expected.tsv", NULL);
  if (!g_file_set_contents (tsv_path, tsv->str, (gssize) tsv->len, &error))
    {
      g_printerr ("gen-corpus: %s\n", error->message);
      return 1;
    }
  double secs = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  g_print ("gen-corpus: %u messages, %u sender domains, %u keys in %s (%.1f s, %u threads)\n", g.count,
           g.n_domains, g.n_keys, out, secs, g.threads);

  g_strfreev (g.expected);
  for (guint i = 0; i < g.n_keys; i++)
    bench_key_clear (&g.keys[i]);
  g_free (g.keys);
  for (guint i = 0; i < g.n_domains; i++)
    domain_clear (&g.domains[i]);
  g_free (g.domains);
  for (guint i = 0; i < N_ATTACKERS; i++)
    domain_clear (&g.attackers[i]);
  g_free (g.attackers);
  g_free (g.error);
  g_mutex_clear (&g.error_lock);
  return 0;
}
