#define G_LOG_DOMAIN "sw-spf"
/* sw-spf.c: check_host() through libspf2, translated into SwSpfResult.
 *
 * Thread safety: libspf2's SPF_server_t is only read during a query (resolver, compiled
 * default explanation, rec_dom, limits: checked in spf_request.c, spf_interpret.c,
 * spf_server.c of 1.2.10), so one server is shared; each call has its own request and
 * response. Per-call DNS state (void lookups, refused records) lives in a SwSpfCall that
 * the DNS layer finds through a thread-local pointer. libspf2's log hooks are process
 * globals, installed once. */
#include <string.h>
#include <arpa/inet.h>
#include <gio/gio.h>
#include "sw-spf-private.h"
#include "sw-limits.h"
#include "sw-util.h"
#include "sw-domain.h"

G_DEFINE_QUARK (sw-spf-error-quark, sw_spf_error)

struct _SwSpfChecker {
  SwResolver       *resolver;
  SPF_dns_server_t *layer;
  SPF_server_t     *server;
  gboolean          evaluate_non_public;
};

/* ------------------------------------------------------------------ libspf2 log hooks */

G_NORETURN static void
log_error (const char *file, int line, const char *msg)
{
  /* SPF_error() is reached only on libspf2 internal failures (out of memory, a NULL from
   * a DNS layer, which ours never returns); libspf2 aborts after this hook. */
  g_log (G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "libspf2 fatal error (%s:%d): %s", file, line, msg);
  abort ();
}

static void
log_warning (const char *file, int line, const char *msg)
{
  g_autofree char *safe = sw_sanitize_for_log (msg, -1, 200);
  g_debug ("libspf2 warning (%s:%d): %s", file, line, safe);
}

static void
log_debug (const char *file, int line, const char *msg)
{
  g_autofree char *safe = sw_sanitize_for_log (msg, -1, 200);
  g_debug ("libspf2 (%s:%d): %s", file, line, safe);
}

static void
install_log_hooks (void)
{
  static gsize once = 0;
  if (g_once_init_enter (&once))
    {
      SPF_error_handler = log_error;
      SPF_warning_handler = log_warning;
      SPF_info_handler = log_debug;
      SPF_debug_handler = log_debug;
      g_once_init_leave (&once, 1);
    }
}

/* ------------------------------------------------------------------ results */

SwSpfResult *
sw_spf_result_new_none (const char *identity, const char *reason)
{
  SwSpfResult *r = g_new0 (SwSpfResult, 1);
  r->result = SW_AUTH_NONE;
  r->identity = g_strdup (identity);
  r->reason = g_strdup (reason ? reason : "not evaluated");
  return r;
}

void
sw_spf_result_free (SwSpfResult *r)
{
  if (r == NULL)
    return;
  g_free (r->identity);
  g_free (r->domain);
  g_free (r->ip);
  g_free (r->helo);
  g_free (r->mail_from);
  g_free (r->record);
  g_free (r->reason);
  g_free (r->explanation);
  g_free (r);
}

static void
set_reason (SwSpfResult *r, char *reason)
{
  g_free (r->reason);
  r->reason = reason;
}

/* ------------------------------------------------------------------ checker */

SwSpfChecker *
sw_spf_checker_new (SwResolver *resolver, GError **error)
{
  g_return_val_if_fail (resolver != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  install_log_hooks ();

  g_autoptr (SwSpfChecker) c = g_new0 (SwSpfChecker, 1);
  c->resolver = sw_resolver_ref (resolver);
  c->layer = sw_spf_dns_layer_new (resolver);
  /* SW_SPF_LIBSPF2_DEBUG=1 turns on libspf2's own tracing (to g_debug) for diagnosis. */
  c->server = SPF_server_new_dns (c->layer, g_getenv ("SW_SPF_LIBSPF2_DEBUG") ? 1 : 0);
  if (c->server == NULL)
    {
      g_set_error (error, SW_SPF_ERROR, SW_SPF_ERROR_SETUP, "libspf2 could not create a server");
      return NULL;
    }

  /* rec_dom defaults to gethostname(): never show the user's host name in results. */
  if (SPF_server_set_rec_dom (c->server, "unknown") != SPF_E_SUCCESS)
    {
      g_set_error (error, SW_SPF_ERROR, SW_SPF_ERROR_SETUP, "libspf2 refused the receiving domain");
      return NULL;
    }
  /* The DNS layer counts DNS mechanisms over the whole evaluation (RFC 7208 4.6.4), which
   * libspf2 does per record only; its records count each "ptr" twice (see
   * sw_spf_record_simplify()), so its own per-record limit must not bite first. */
  if (SPF_server_set_max_dns_mech (c->server, 2 * SW_SPF_MAX_DNS_MECH + 2) != SPF_E_SUCCESS)
    {
      g_set_error (error, SW_SPF_ERROR, SW_SPF_ERROR_SETUP, "libspf2 refused the DNS mechanism limit");
      return NULL;
    }
  /* The built-in explanation points at the defunct openspf.org. */
  SPF_response_t *resp = NULL;
  SPF_errcode_t err = SPF_server_set_explanation (c->server, SW_SPF_DEFAULT_EXPLANATION, &resp);
  if (resp != NULL)
    SPF_response_free (resp);
  if (err != SPF_E_SUCCESS)
    {
      g_set_error (error, SW_SPF_ERROR, SW_SPF_ERROR_SETUP,
                   "libspf2 refused the default explanation: %s", SPF_strerror (err));
      return NULL;
    }
  return g_steal_pointer (&c);
}

void
sw_spf_checker_free (SwSpfChecker *checker)
{
  if (checker == NULL)
    return;
  /* The server does not own the layer (SPF_server_new_dns). */
  g_clear_pointer (&checker->server, SPF_server_free);
  g_clear_pointer (&checker->layer, SPF_dns_free);
  g_clear_pointer (&checker->resolver, sw_resolver_unref);
  g_free (checker);
}

void
sw_spf_checker_set_evaluate_non_public (SwSpfChecker *checker, gboolean evaluate)
{
  g_return_if_fail (checker != NULL);
  checker->evaluate_non_public = evaluate;
}

/* ------------------------------------------------------------------ helpers */

char *
sw_spf_checkable_domain (const char *domain, const char **why)
{
  g_autofree char *ascii = NULL;
  for (const char *p = domain; *p; p++)
    if ((guchar) *p >= 0x80)
      {
        ascii = sw_domain_to_ascii (domain);
        if (ascii == NULL)
          {
            *why = "malformed domain";
            return NULL;
          }
        domain = ascii;
        break;
      }
  gsize len = strlen (domain);
  if (len > 0 && domain[len - 1] == '.')
    len--;
  if (len == 0 || len > SW_MAX_DOMAIN_LENGTH)
    {
      *why = "malformed domain";
      return NULL;
    }
  guint labels = 0;
  gsize label_len = 0;
  for (gsize i = 0; i <= len; i++)
    {
      if (i == len || domain[i] == '.')
        {
          if (label_len == 0 || label_len > SW_MAX_LABEL_LENGTH)
            {
              *why = "malformed domain";
              return NULL;
            }
          labels++;
          label_len = 0;
          continue;
        }
      guchar c = (guchar) domain[i];
      if (c <= 0x20 || c >= 0x7f || c == '[' || c == ']' || c == '@')
        {
          *why = "malformed domain";
          return NULL;
        }
      label_len++;
    }
  if (labels < 2)
    {
      *why = "not a fully qualified domain";
      return NULL;
    }
  return g_ascii_strdown (domain, (gssize) len);
}

static SwAuthResult
map_result (SPF_result_t r)
{
  switch (r)
    {
    case SPF_RESULT_NEUTRAL: return SW_AUTH_NEUTRAL;
    case SPF_RESULT_PASS: return SW_AUTH_PASS;
    case SPF_RESULT_FAIL: return SW_AUTH_FAIL;
    case SPF_RESULT_SOFTFAIL: return SW_AUTH_SOFTFAIL;
    case SPF_RESULT_NONE: return SW_AUTH_NONE;
    case SPF_RESULT_TEMPERROR: return SW_AUTH_TEMPERROR;
    case SPF_RESULT_PERMERROR: return SW_AUTH_PERMERROR;
    case SPF_RESULT_INVALID: break; /* libspf2 could not compile a record we accepted */
    }
  return SW_AUTH_PERMERROR;
}

static char
qualifier_of (SwAuthResult r)
{
  switch (r)
    {
    case SW_AUTH_PASS: return '+';
    case SW_AUTH_FAIL: return '-';
    case SW_AUTH_SOFTFAIL: return '~';
    case SW_AUTH_NEUTRAL: return '?';
    default: return 0;
    }
}

/* An address read the way g_inet_address_new_from_string() reads one (inet_pton(), IPv4
 * first), without an object per address. */
typedef struct
{
  gsize size; /* 4 or 16; 0: not an address */
  guint8 bytes[16];
} Addr;

static gboolean
addr_read (const char *text, Addr *out)
{
  if (inet_pton (AF_INET, text, out->bytes) == 1)
    out->size = 4;
  else if (inet_pton (AF_INET6, text, out->bytes) == 1)
    out->size = 16;
  else
    out->size = 0;
  return out->size != 0;
}

/* 127.0.0.0/8 or ::1, as g_inet_address_get_is_loopback() says. */
static gboolean
addr_is_loopback (const Addr *a)
{
  static const guint8 v6_loopback[16] = { [15] = 1 };
  return a->size == 4 ? a->bytes[0] == 127 : memcmp (a->bytes, v6_loopback, 16) == 0;
}

static gboolean
prefix_matches (const Addr *ip, const char *net, guint prefix)
{
  Addr n;
  if (!addr_read (net, &n) || n.size != ip->size)
    return FALSE;
  if (prefix > ip->size * 8)
    return FALSE;
  const guint8 *a = ip->bytes;
  const guint8 *b = n.bytes;
  for (guint bit = 0; bit < prefix; bit++)
    {
      guint8 mask = (guint8) (0x80u >> (bit % 8));
      if ((a[bit / 8] & mask) != (b[bit / 8] & mask))
        return FALSE;
    }
  return TRUE;
}

/* Names the term of @record that decided @result when that can be told without DNS: the
 * leading ip4/ip6/all terms are replayed; the first other mechanism stops the replay. */
static char *
describe_match (const char *record, const char *ip_text, SwAuthResult result)
{
  if (record == NULL)
    return NULL;
  Addr ip;
  if (!addr_read (ip_text, &ip))
    return NULL;
  g_autofree char **terms = sw_spf_split (record, ' ');
  for (guint i = 1; terms[i] != NULL; i++)
    {
      const char *t = terms[i];
      if (*t == '\0' || strchr (t, '=') != NULL)
        continue;
      char q = '+';
      if (strchr ("+-~?", *t) != NULL)
        q = *t++;
      if (g_ascii_strcasecmp (t, "all") == 0)
        return q == qualifier_of (result) ? g_strdup_printf ("default %call", q) : NULL;
      gboolean v4 = g_ascii_strncasecmp (t, "ip4:", 4) == 0;
      gboolean v6 = g_ascii_strncasecmp (t, "ip6:", 4) == 0;
      if (!v4 && !v6)
        return NULL;
      g_autofree char *net = g_strdup (t + 4);
      char *slash = strchr (net, '/');
      guint prefix = v4 ? 32 : 128;
      if (slash != NULL)
        {
          *slash = '\0';
          prefix = (guint) g_ascii_strtoull (slash + 1, NULL, 10);
        }
      if (prefix_matches (&ip, net, prefix))
        return q == qualifier_of (result) ? g_strdup_printf ("matched %s", t) : NULL;
    }
  return NULL;
}

/* When the first terms do not decide: if the only mechanism of the record with the
 * result's qualifier is its "all" (and no redirect= can have decided), the result came
 * from that "all". */
static char *
describe_by_qualifier (const char *record, SwAuthResult result)
{
  if (record == NULL)
    return NULL;
  g_autofree char **terms = sw_spf_split (record, ' ');
  gboolean all_matches = FALSE;
  guint same = 0;
  for (guint i = 1; terms[i] != NULL; i++)
    {
      const char *t = terms[i];
      if (*t == '\0')
        continue;
      if (g_ascii_strncasecmp (t, "redirect=", 9) == 0)
        return NULL;
      if (strchr (t, '=') != NULL)
        continue;
      char q = '+';
      if (strchr ("+-~?", *t) != NULL)
        q = *t++;
      if (q != qualifier_of (result))
        continue;
      same++;
      if (g_ascii_strcasecmp (t, "all") == 0)
        all_matches = TRUE;
    }
  if (all_matches && same == 1)
    return g_strdup_printf ("not listed: default %call", qualifier_of (result));
  return NULL;
}

static char *
libspf2_error_reason (SPF_response_t *resp)
{
  SPF_errcode_t code = SPF_response_errcode (resp);
  for (int i = 0; code == SPF_E_SUCCESS && i < SPF_response_messages (resp); i++)
    {
      SPF_error_t *e = SPF_response_message (resp, i);
      if (SPF_error_errorp (e))
        code = SPF_error_code (e);
    }
  switch (code)
    {
    case SPF_E_BIG_DNS: return g_strdup ("too many DNS lookups");
    case SPF_E_MULTIPLE_RECORDS: return g_strdup ("multiple SPF records");
    case SPF_E_INCLUDE_RETURNED_NONE: return g_strdup ("included domain has no SPF record");
    case SPF_E_RECURSIVE: return g_strdup ("include or redirect loop");
    case SPF_E_NOT_SPF: return g_strdup ("invalid SPF record");
    default: break;
    }
  return g_strdup_printf ("invalid SPF record: %s", SPF_strerror (code));
}

static void
translate (SwSpfResult *res, SPF_response_t *resp, const SwSpfCall *call)
{
  res->result = map_result (SPF_response_result (resp));
  /* libspf2 1.2.10 leaves the result unset when the record lookup fails with TRY_AGAIN. */
  if (SPF_response_result (resp) == SPF_RESULT_INVALID && call->dns_failure != NULL)
    res->result = SW_AUTH_TEMPERROR;
  res->record = g_strdup (call->record);

  if (call->refused_why != NULL)
    {
      res->result = SW_AUTH_PERMERROR;
      set_reason (res, g_strdup_printf ("malformed record refused for %s: %s",
                                        call->refused_domain, call->refused_why));
      return;
    }
  if (call->void_exceeded)
    {
      res->result = SW_AUTH_PERMERROR;
      set_reason (res, g_strdup ("too many void lookups"));
      return;
    }
  if (call->queries_exceeded || call->mech_exceeded)
    {
      res->result = SW_AUTH_PERMERROR;
      set_reason (res, g_strdup ("too many DNS lookups"));
      return;
    }
  if (call->mx_exceeded && res->result != SW_AUTH_TEMPERROR)
    {
      res->result = SW_AUTH_PERMERROR;
      set_reason (res, g_strdup ("too many MX names"));
      return;
    }

  switch (res->result)
    {
    case SW_AUTH_NONE:
      set_reason (res, g_strdup ("no SPF record"));
      return;
    case SW_AUTH_TEMPERROR:
      set_reason (res, g_strdup (call->dns_failure ? call->dns_failure : "temporary DNS error"));
      return;
    case SW_AUTH_PERMERROR:
      set_reason (res, libspf2_error_reason (resp));
      return;
    default:
      break;
    }

  switch (SPF_response_reason (resp))
    {
    case SPF_REASON_DEFAULT:
      set_reason (res, g_strdup ("no mechanism matched (default neutral)"));
      break;
    case SPF_REASON_MECH:
      {
        char *what = describe_match (call->record, res->ip, res->result);
        if (what == NULL)
          what = describe_by_qualifier (call->record, res->result);
        set_reason (res, what ? what : g_strdup_printf ("matched a mechanism of %s's policy", res->domain));
        break;
      }
    default:
      set_reason (res, g_strdup (sw_auth_result_to_string (res->result)));
      break;
    }
  if (res->result == SW_AUTH_FAIL)
    {
      const char *exp = SPF_response_get_explanation (resp);
      if (exp != NULL)
        res->explanation = g_strdup (exp);
    }
}

/* ------------------------------------------------------------------ check_host() */

static gboolean
run_check (SwSpfChecker *checker,
           gboolean      helo_identity,
           const char   *ip,
           const char   *helo,
           const char   *mail_from,
           SwSpfResult **result_out,
           GError      **error)
{
  g_autoptr (SwSpfResult) res = sw_spf_result_new_none (helo_identity ? "helo" : "mailfrom", NULL);
  gboolean have_helo = helo != NULL && *helo != '\0';
  res->helo = have_helo ? g_strdup (helo) : NULL;

  /* The identity: MAIL FROM, or postmaster@HELO (HELO identity, null sender). */
  const char *domain_part = NULL;
  if (helo_identity || mail_from == NULL || *mail_from == '\0')
    {
      if (!have_helo)
        {
          set_reason (res, g_strdup (helo_identity ? "not evaluated: no HELO name"
                                                   : "not evaluated: null sender and no HELO name"));
          *result_out = g_steal_pointer (&res);
          return TRUE;
        }
      res->mail_from = g_strconcat ("postmaster@", helo, NULL);
      domain_part = helo;
    }
  else
    {
      const char *at = strrchr (mail_from, '@');
      if (at == NULL)
        res->mail_from = g_strconcat ("postmaster@", mail_from, NULL);
      else if (at == mail_from)
        res->mail_from = g_strconcat ("postmaster", mail_from, NULL);
      else
        res->mail_from = g_strdup (mail_from);
      domain_part = at ? at + 1 : mail_from;
    }

  /* The address. */
  g_autofree char *norm = sw_ip_normalize (ip ? ip : "");
  if (norm == NULL)
    {
      g_autofree char *safe = sw_sanitize_for_log (ip ? ip : "", -1, 64);
      res->ip = g_strdup (ip);
      set_reason (res, g_strdup_printf ("not evaluated: \"%s\" is not an IP address", safe));
      *result_out = g_steal_pointer (&res);
      return TRUE;
    }
  res->ip = g_strdup (norm);
  Addr addr;
  if (!addr_read (norm, &addr) || addr_is_loopback (&addr)
      || (!checker->evaluate_non_public && sw_ip_is_non_public (norm)))
    {
      set_reason (res, g_strdup_printf ("not evaluated: %s is a private or loopback address", norm));
      *result_out = g_steal_pointer (&res);
      return TRUE;
    }

  const char *why = NULL;
  g_autofree char *domain = sw_spf_checkable_domain (domain_part, &why);
  if (domain == NULL)
    {
      set_reason (res, g_strdup (why));
      *result_out = g_steal_pointer (&res);
      return TRUE;
    }
  res->domain = g_strdup (domain);

  /* libspf2 request: HELO first (it would otherwise invent env_from from it), then the
   * MAIL FROM we settled on. */
  SPF_request_t *req = SPF_request_new (checker->server);
  if (req == NULL)
    {
      g_set_error (error, SW_SPF_ERROR, SW_SPF_ERROR_REQUEST, "libspf2 could not create a request");
      return FALSE;
    }
  SPF_errcode_t err = addr.size == 4
                        ? SPF_request_set_ipv4_str (req, norm)
                        : SPF_request_set_ipv6_str (req, norm);
  if (err == SPF_E_SUCCESS && have_helo)
    err = SPF_request_set_helo_dom (req, helo);
  if (err == SPF_E_SUCCESS)
    {
      /* local-part@domain with the checked (lower-case, IDNA) domain */
      const char *at = strrchr (res->mail_from, '@');
      g_autofree char *local = g_strndup (res->mail_from, (gsize) (at - res->mail_from));
      g_autofree char *env_from = g_strconcat (local, "@", domain, NULL);
      err = SPF_request_set_env_from (req, env_from) == 0 ? SPF_E_SUCCESS : SPF_E_NO_MEMORY;
    }
  if (err != SPF_E_SUCCESS)
    {
      SPF_request_free (req);
      g_set_error (error, SW_SPF_ERROR, SW_SPF_ERROR_REQUEST, "libspf2 refused the request: %s",
                   SPF_strerror (err));
      return FALSE;
    }

  SwSpfCall call = { 0 };
  call.top_domain = g_strdup (domain);
  call.ipv6 = addr.size == 16;
  call.marker = g_strdup_printf ("sw%08x%08x", g_random_int (), g_random_int ());
  call.request = req;
  g_assert (strlen (call.marker) == SW_SPF_MARKER_LEN);
  SPF_response_t *resp = NULL;
  sw_spf_call_enter (&call);
  err = SPF_request_query_mailfrom (req, &resp);
  sw_spf_call_leave ();

  if (resp == NULL)
    {
      SPF_request_free (req);
      sw_spf_call_clear (&call);
      g_set_error (error, SW_SPF_ERROR, SW_SPF_ERROR_REQUEST, "libspf2 returned no response: %s",
                   SPF_strerror (err));
      return FALSE;
    }
  translate (res, resp, &call);
  SPF_response_free (resp);
  SPF_request_free (req);
  sw_spf_call_clear (&call);

  *result_out = g_steal_pointer (&res);
  return TRUE;
}

gboolean
sw_spf_check_mailfrom (SwSpfChecker *checker,
                       const char   *ip,
                       const char   *helo,
                       const char   *mail_from,
                       SwSpfResult **result_out,
                       GError      **error)
{
  g_return_val_if_fail (checker != NULL, FALSE);
  g_return_val_if_fail (result_out != NULL && *result_out == NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  return run_check (checker, FALSE, ip, helo, mail_from, result_out, error);
}

gboolean
sw_spf_check_helo (SwSpfChecker *checker,
                   const char   *ip,
                   const char   *helo,
                   SwSpfResult **result_out,
                   GError      **error)
{
  g_return_val_if_fail (checker != NULL, FALSE);
  g_return_val_if_fail (result_out != NULL && *result_out == NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  return run_check (checker, TRUE, ip, helo, NULL, result_out, error);
}
