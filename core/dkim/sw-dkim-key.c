#define G_LOG_DOMAIN "sw-dkim"
/* sw-dkim-key.c: key records (RFC 6376 section 3.6.1) and the cache of decoded keys.
 *
 * Decoding a SubjectPublicKeyInfo with OpenSSL 3.0 (d2i_PUBKEY: a decoder context, provider
 * look-ups, locks) costs several times the RSA verification itself, and libopendkim does
 * it for every signature. Here a key is decoded once per distinct p= text and kept with a
 * verification context already set up (provider fetched, PKCS#1 v1.5 padding, the digest),
 * which each check duplicates: no provider look-up per signature. Measured on the build
 * machine (OpenSSL 3.0, RSA-2048, /tmp benchmark, docs/benchmarks.md): RSA_verify() on a
 * cached legacy RSA object 15.2-15.8 us with one thread but 17.7-19.4 us per thread with
 * two; the duplicated context 15.6-17.3 us and 16.6-17.4 us, so it scales better, and
 * EVP_PKEY_CTX_new() + init per signature costs 20.7 us. The provider's PKCS#1 v1.5 check
 * calls RSA_verify(), the function libopendkim uses, so both engines accept exactly the
 * same signatures; RSA keys that are not plain EVP_PKEY_RSA (RSA-PSS) go to RSA_verify()
 * directly.
 *
 * The cache maps the key *text* to the decoded key, never a domain to a key: the record is
 * still fetched for every message (through SwResolver and its cache), so a rotated or
 * revoked key is seen at once. Bounded: when full it is emptied (keys in use stay alive
 * through their references). One mutex guards the table; decoding happens outside it. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "sw-dkim-private.h"
#include <string.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/objects.h>

struct _SwDkimKey
{
  gint ref;
  SwDkimKeyStatus status;
  gboolean ed25519;
  EVP_PKEY *pkey;
  RSA *rsa;               /* RSA keys: the legacy object (what libopendkim verifies with) */
  EVP_PKEY_CTX *proto[2]; /* RSA keys: verification set up (PKCS#1 v1.5, SHA-1 / SHA-256),
                             duplicated for each check; NULL: use RSA_verify() */
  guint bits;
};

struct _SwDkimKeyCache
{
  GMutex lock;
  guint max_entries;
  GHashTable *keys; /* "r:" or "e:" + p= text -> SwDkimKey* (one reference) */
};

/* ---- key records ---- */

void
sw_dkim_key_record_clear (SwDkimKeyRecord *rec)
{
  g_free (rec->v);
  g_free (rec->h);
  g_free (rec->k);
  g_free (rec->p);
  g_free (rec->s);
  g_free (rec->t);
  memset (rec, 0, sizeof *rec);
}

gboolean
sw_dkim_key_record_read (const char *text, SwDkimKeyRecord *out)
{
  static const char *const known[] = { "v", "h", "k", "p", "s", "t", NULL };
  char *values[G_N_ELEMENTS (known)] = { NULL };
  memset (out, 0, sizeof *out);
  gboolean ok = sw_dkim_tags_read (text, strlen (text), known, values, TRUE);
  out->v = values[0];
  out->h = values[1];
  out->k = values[2];
  out->p = values[3];
  out->s = values[4];
  out->t = values[5];
  if (!ok)
    sw_dkim_key_record_clear (out);
  return ok;
}

/* ---- decoded keys ---- */

static void
key_free (SwDkimKey *key)
{
  g_clear_pointer (&key->proto[0], EVP_PKEY_CTX_free);
  g_clear_pointer (&key->proto[1], EVP_PKEY_CTX_free);
  g_clear_pointer (&key->rsa, RSA_free);
  g_clear_pointer (&key->pkey, EVP_PKEY_free);
  g_free (key);
}

void
sw_dkim_key_unref (SwDkimKey *key)
{
  if (key != NULL && g_atomic_int_dec_and_test (&key->ref))
    key_free (key);
}

static SwDkimKey *
key_ref (SwDkimKey *key)
{
  g_atomic_int_inc (&key->ref);
  return key;
}

guint
sw_dkim_key_get_bits (const SwDkimKey *key)
{
  return key->bits;
}

/* A verification context for @pkey with PKCS#1 v1.5 padding and @md, or NULL. Providers
 * are looked up here, once per key, not for every signature. */
static EVP_PKEY_CTX *
rsa_proto (EVP_PKEY *pkey, const EVP_MD *md)
{
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey (NULL, pkey, NULL);
  if (ctx == NULL || EVP_PKEY_verify_init (ctx) != 1 || EVP_PKEY_CTX_set_rsa_padding (ctx, RSA_PKCS1_PADDING) != 1
      || EVP_PKEY_CTX_set_signature_md (ctx, md) != 1)
    g_clear_pointer (&ctx, EVP_PKEY_CTX_free);
  return ctx;
}

/* Decodes @p like libopendkim's dkim_sig_process(), by the signature's algorithm (k= plays
 * no part there): for RSA a DER SubjectPublicKeyInfo holding an RSA key, for Ed25519 the 32
 * raw octets of RFC 8463; anything else is UNDECODABLE (libopendkim: KEYDECODE). */
static SwDkimKey *
key_decode (gboolean ed25519, const char *p)
{
  gsize der_len = 0;
  g_autofree guint8 *der = sw_dkim_base64_decode (p, &der_len);
  if (der == NULL || der_len == 0)
    return NULL; /* not plain */

  SwDkimKey *key = g_new0 (SwDkimKey, 1);
  key->ref = 1;
  key->ed25519 = ed25519;
  key->status = SW_DKIM_KEY_UNDECODABLE;
  if (ed25519)
    {
      /* fails unless there are 32 octets */
      key->pkey = EVP_PKEY_new_raw_public_key (EVP_PKEY_ED25519, NULL, der, der_len);
      if (key->pkey != NULL)
        key->status = SW_DKIM_KEY_OK;
    }
  else
    {
      const unsigned char *q = der;
      key->pkey = d2i_PUBKEY (NULL, &q, (long)der_len);
      if (key->pkey != NULL)
        key->rsa = EVP_PKEY_get1_RSA (key->pkey);
      if (key->rsa != NULL)
        {
          key->bits = 8u * (guint)RSA_size (key->rsa);
          key->status = SW_DKIM_KEY_OK;
          if (EVP_PKEY_get_base_id (key->pkey) == EVP_PKEY_RSA)
            for (guint h = 0; h < 2; h++)
              key->proto[h] = rsa_proto (key->pkey, h == SW_DKIM_HASH_SHA1 ? EVP_sha1 () : EVP_sha256 ());
        }
    }
  if (key->status != SW_DKIM_KEY_OK)
    {
      g_clear_pointer (&key->rsa, RSA_free);
      g_clear_pointer (&key->pkey, EVP_PKEY_free);
    }
  /* leave no error in this thread's queue for libopendkim to report later */
  ERR_clear_error ();
  return key;
}

SwDkimKeyCache *
sw_dkim_key_cache_new (guint max_entries)
{
  SwDkimKeyCache *cache = g_new0 (SwDkimKeyCache, 1);
  g_mutex_init (&cache->lock);
  cache->max_entries = MAX (max_entries, 1);
  cache->keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)sw_dkim_key_unref);
  return cache;
}

void
sw_dkim_key_cache_free (SwDkimKeyCache *cache)
{
  if (cache == NULL)
    return;
  g_clear_pointer (&cache->keys, g_hash_table_unref);
  g_mutex_clear (&cache->lock);
  g_free (cache);
}

SwDkimKey *
sw_dkim_key_cache_get (SwDkimKeyCache *cache, gboolean ed25519, const char *p, SwDkimKeyStatus *status)
{
  gsize plen = strlen (p);
  g_autofree char *id = g_malloc (plen + 3);
  id[0] = ed25519 ? 'e' : 'r';
  id[1] = ':';
  memcpy (id + 2, p, plen + 1);

  g_mutex_lock (&cache->lock);
  SwDkimKey *key = g_hash_table_lookup (cache->keys, id);
  if (key != NULL)
    key_ref (key);
  g_mutex_unlock (&cache->lock);

  if (key == NULL)
    {
      key = key_decode (ed25519, p);
      if (key == NULL)
        {
          *status = SW_DKIM_KEY_NOT_PLAIN;
          return NULL;
        }
      g_mutex_lock (&cache->lock);
      SwDkimKey *other = g_hash_table_lookup (cache->keys, id);
      if (other != NULL)
        {
          /* another thread decoded it meanwhile */
          sw_dkim_key_unref (key);
          key = key_ref (other);
        }
      else
        {
          if (g_hash_table_size (cache->keys) >= cache->max_entries)
            g_hash_table_remove_all (cache->keys);
          g_hash_table_insert (cache->keys, g_steal_pointer (&id), key_ref (key));
        }
      g_mutex_unlock (&cache->lock);
    }

  *status = key->status;
  if (key->status != SW_DKIM_KEY_OK)
    {
      sw_dkim_key_unref (key);
      return NULL;
    }
  return key;
}

gboolean
sw_dkim_key_verify (const SwDkimKey *key, SwDkimHash hash, const guint8 *digest, gsize digest_len,
                    const guint8 *sig, gsize sig_len)
{
  g_return_val_if_fail (key->status == SW_DKIM_KEY_OK, FALSE);
  gboolean ok;
  if (key->ed25519)
    {
      EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
      ok = ctx != NULL && EVP_DigestVerifyInit (ctx, NULL, NULL, NULL, key->pkey) == 1
           && EVP_DigestVerify (ctx, sig, sig_len, digest, digest_len) == 1;
      EVP_MD_CTX_free (ctx);
    }
  else if (key->proto[hash] != NULL)
    {
      /* the provider's PKCS#1 v1.5 check is RSA_verify() on its copy of the key */
      EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_dup (key->proto[hash]);
      ok = ctx != NULL && EVP_PKEY_verify (ctx, sig, sig_len, digest, digest_len) == 1;
      EVP_PKEY_CTX_free (ctx);
    }
  else
    {
      int nid = hash == SW_DKIM_HASH_SHA1 ? NID_sha1 : NID_sha256;
      ok = RSA_verify (nid, digest, (unsigned int)digest_len, sig, (unsigned int)sig_len, key->rsa) == 1;
    }
  if (!ok)
    ERR_clear_error ();
  return ok;
}
