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
 *   queries, and notes the first DNS failure and the record of the checked domain.
 * - Records are marked per call (sw_spf_record_simplify()): a marked lookup name says
 *   which mechanism asks. With that the layer counts DNS mechanisms over the whole
 *   evaluation (RFC 7208 4.6.4; libspf2 counts per record and restarts in includes),
 *   answers the zero-prefix a/mx forms libspf2 cannot compile, skips PTR names whose
 *   address lookup fails (RFC 7208 5.5), and keeps only the first 10 PTR names. Marks use
 *   a random per-call label under .invalid (RFC 6761), so no name from DNS can pose as
 *   one; a marked name is stripped before it is asked.
 * - Expanded names over 253 octets lose labels from the left (RFC 7208 section 7.3).
 * - Explanations: libspf2's get_exp hook is ours (layer_get_exp()): we fetch the exp=
 *   text and expand it ourselves (sw-spf-exp.c); libspf2 never expands an exp= text.
 * - Names: libspf2 works with raw octet strings (a macro may expand to spaces, '%' or
 *   any other octet; a '.' always separates labels). fetch() writes every octet outside
 *   printable ASCII, the space and '\\' as \DDD before asking SwResolver, which reads
 *   presentation format. Names from DNS answers (MX hosts, PTR names) come in that
 *   escaped form and are handed to libspf2 as raw octets again (unescape_name()). */
#include <stdlib.h>
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
  g_clear_pointer (&call->marker, g_free);
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
          g_autofree char *simple = sw_spf_record_simplify (txt, call);
          if (simple == NULL)
            {
              if (call != NULL && call->refused_why == NULL)
                {
                  call->refused_why = g_strdup ("term too large");
                  call->refused_domain = g_strdup (domain);
                }
              rr_add (rr, REFUSED_RECORD, sizeof REFUSED_RECORD);
              continue;
            }
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

/* @name (libspf2's form: raw octets, '.' separates labels) in DNS presentation format
 * for sw_resolver_query(): octets outside 0x21..0x7e and '\\' as \DDD. Length checks
 * stay with SwResolver, which counts an escape as one octet. Transfer full. */
static char *
escape_name (const char *name)
{
  GString *out = g_string_sized_new (strlen (name) + 8);
  for (const guchar *p = (const guchar *) name; *p != '\0'; p++)
    {
      if (*p <= 0x20 || *p >= 0x7f || *p == '\\')
        g_string_append_printf (out, "\\%03u", *p);
      else
        g_string_append_c (out, (char) *p);
    }
  return g_string_free (out, FALSE);
}

/* The raw octets of @name, a name from a DNS answer in presentation format
 * (sw_dns_answer_dup_name(): escapes only as \DDD), for libspf2. NULL if a label holds a
 * '.' or a NUL octet, which libspf2's C strings cannot carry. Transfer full. */
static char *
unescape_name (const char *name)
{
  GString *out = g_string_sized_new (strlen (name));
  for (const char *p = name; *p != '\0'; p++)
    {
      if (*p != '\\')
        {
          g_string_append_c (out, *p);
          continue;
        }
      guint v = 0;
      for (guint i = 1; i <= 3; i++)
        {
          if (!g_ascii_isdigit (p[i]))
            {
              g_string_free (out, TRUE);
              return NULL;
            }
          v = v * 10 + (guint) (p[i] - '0');
        }
      if (v == 0 || v == '.' || v > 255)
        {
          g_string_free (out, TRUE);
          return NULL;
        }
      g_string_append_c (out, (char) v);
      p += 3;
    }
  return g_string_free (out, FALSE);
}

/* The name of record @index of @answer (MX, PTR) as raw octets for libspf2, or NULL
 * (malformed, or not representable: see unescape_name()). Transfer full. */
static char *
dup_raw_name (const SwDnsAnswer *answer, guint index)
{
  g_autofree char *name = sw_dns_answer_dup_name (answer, index, NULL);
  if (name == NULL)
    return NULL;
  char *raw = unescape_name (name);
  if (raw == NULL)
    {
      g_autofree char *safe = sw_sanitize_for_log (name, -1, 80);
      g_debug ("name %s in a DNS answer skipped: a label holds '.' or NUL", safe);
    }
  return raw;
}

/* The first @max names of @answer; with @marker, each marked as an MX host
 * ("<host>.mxh.<marker>.invalid") so that its address lookup is known as one. */
static void
add_names (SPF_dns_rr_t *rr, const SwDnsAnswer *answer, guint max, const char *marker)
{
  for (guint i = 0; i < answer->rdata->len && (guint) rr->num_rr < max; i++)
    {
      g_autofree char *name = dup_raw_name (answer, i);
      if (name == NULL)
        continue;
      if (marker != NULL && *name != '\0')
        {
          g_autofree char *marked = g_strdup_printf ("%s.mxh.%s.invalid", name, marker);
          rr_add (rr, marked, strlen (marked) + 1);
        }
      else
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

/* What a marked lookup name says about the mechanism asking (sw_spf_record_simplify()). */
typedef enum {
  KIND_NONE,       /* unmarked: the checked domain's record, include/redirect targets, ptr
                      lookups and the address lookups of PTR names (ptr, %{p}) */
  KIND_A,          /* "a" mechanism */
  KIND_MX,         /* "mx" mechanism, its MX lookup */
  KIND_MX_HOST,    /* address lookup of a host named by an "mx" MX answer */
  KIND_EXISTS,     /* "exists", and "a/0" for an IPv4 client */
  KIND_A6_ANY,     /* "a//0" for an IPv6 client: any AAAA record? */
  KIND_MX4_ANY,    /* "mx/0" for an IPv4 client: any A record of any MX host? */
  KIND_MX6_ANY,    /* "mx//0" for an IPv6 client */
  KIND_PTR_COUNT,  /* the term counting a "ptr" mechanism: no DNS */
  KIND_EXP,        /* exp= explanation lookup */
  KIND_BAD,        /* carries our mark but names nothing we wrote */
} LookupKind;

static const struct {
  const char *label;
  LookupKind  kind;
} kinds[] = {
  { "a", KIND_A },           { "mx", KIND_MX },          { "mxh", KIND_MX_HOST },
  { "ex", KIND_EXISTS },     { "a6any", KIND_A6_ANY },   { "mx4any", KIND_MX4_ANY },
  { "mx6any", KIND_MX6_ANY }, { "ptr", KIND_PTR_COUNT }, { "exp", KIND_EXP },
};

/* Splits "<target>.<kind>.<marker>.invalid" (the marker of @call); *target_out gets the
 * target (transfer full) for a marked name. */
static LookupKind
strip_mark (const SwSpfCall *call, const char *domain, char **target_out)
{
  *target_out = NULL;
  if (call == NULL || call->marker == NULL)
    return KIND_NONE;
  gsize len = strlen (domain);
  if (len > 0 && domain[len - 1] == '.')
    len--;
  g_autofree char *suffix = g_strconcat (".", call->marker, ".invalid", NULL);
  gsize slen = strlen (suffix);
  if (len < slen || g_ascii_strncasecmp (domain + len - slen, suffix, slen) != 0)
    return KIND_NONE;
  gsize end = len - slen, dot = end;
  while (dot > 0 && domain[dot - 1] != '.')
    dot--;
  if (dot < 2)
    return KIND_BAD;
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    if (strlen (kinds[i].label) == end - dot && g_ascii_strncasecmp (domain + dot, kinds[i].label, end - dot) == 0)
      {
        *target_out = g_strndup (domain, dot - 1);
        return kinds[i].kind;
      }
  return KIND_BAD;
}

/* RFC 7208 section 7.3: an expanded name over 253 octets loses labels from the left. */
static const char *
truncate_name (const char *name)
{
  gsize len = strlen (name);
  if (len > 0 && name[len - 1] == '.')
    len--;
  while (len > SW_MAX_DOMAIN_LENGTH)
    {
      const char *dot = strchr (name, '.');
      if (dot == NULL)
        break;
      len -= (gsize) (dot + 1 - name);
      name = dot + 1;
    }
  return name;
}

/* One query under the per-call caps. OK answers go to *answer_out (transfer full). A name
 * SwResolver cannot ask for, or a query past a cap, reads as NXDOMAIN. */
static SwDnsStatus
fetch (SwResolver *resolver, SwSpfCall *call, const char *name, ns_type type, SwDnsAnswer **answer_out,
       guint32 *ttl_out)
{
  *ttl_out = 0;
  if (call != NULL)
    {
      /* Past a limit the verdict is permerror whatever follows: stop asking. */
      if (call->void_exceeded || call->queries_exceeded || call->mech_exceeded)
        return SW_DNS_STATUS_NXDOMAIN;
      if (++call->queries > SW_SPF_MAX_QUERIES)
        {
          call->queries_exceeded = TRUE;
          return SW_DNS_STATUS_NXDOMAIN;
        }
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (SwDnsAnswer) answer = NULL;
  g_autofree char *qname = escape_name (name);
  if (!sw_resolver_query (resolver, qname, (guint16) type, &answer, &error))
    {
      /* Not a valid DNS name (e.g. after macro expansion): it cannot exist. */
      g_autofree char *safe = sw_sanitize_for_log (name, -1, 80);
      g_debug ("no query for %s: %s", safe, error->message);
      return SW_DNS_STATUS_NXDOMAIN;
    }
  *ttl_out = answer->ttl;
  SwDnsStatus status = answer->status;
  if (status == SW_DNS_STATUS_COUNT)
    status = SW_DNS_STATUS_SERVFAIL;
  if (status == SW_DNS_STATUS_OK)
    *answer_out = g_steal_pointer (&answer);
  return status;
}

/* Number of address records of @size in @answer. */
static guint
count_addresses (const SwDnsAnswer *answer, gsize size)
{
  guint n = 0;
  for (guint i = 0; i < answer->rdata->len; i++)
    if (g_bytes_get_size (g_ptr_array_index (answer->rdata, i)) == size)
      n++;
  return n;
}

/* Does @name have an address record of @type? OK (yes), NODATA/NXDOMAIN (no, counted as a
 * void lookup) or SERVFAIL/TIMEOUT (noted). */
static SwDnsStatus
address_exists (SwResolver *resolver, SwSpfCall *call, const char *name, ns_type type)
{
  g_autoptr (SwDnsAnswer) answer = NULL;
  guint32 ttl = 0;
  SwDnsStatus status = fetch (resolver, call, name, type, &answer, &ttl);
  if (status == SW_DNS_STATUS_OK
      && count_addresses (answer, type == ns_t_a ? sizeof (struct in_addr) : sizeof (struct in6_addr)) == 0)
    status = SW_DNS_STATUS_NODATA;
  if (status == SW_DNS_STATUS_NODATA || status == SW_DNS_STATUS_NXDOMAIN)
    count_void (call, type);
  else if (status != SW_DNS_STATUS_OK)
    note_dns_failure (call, name, status);
  return status;
}

/* a//0, mx/0, mx//0: any address record of the family of the client, at @name or at one
 * of its first SW_SPF_MAX_MX_PTR MX hosts. Answered to libspf2's "exists" as one A record
 * (match) or none. DNS errors give TRY_AGAIN (temperror), as for a and mx. */
static SPF_dns_rr_t *
any_address (SPF_dns_server_t *layer, SwSpfCall *call, const char *domain, const char *name, ns_type type,
             gboolean via_mx)
{
  SwResolver *resolver = layer->hook;
  SwDnsStatus status;
  if (!via_mx)
    status = address_exists (resolver, call, name, type);
  else
    {
      g_autoptr (SwDnsAnswer) mx = NULL;
      guint32 ttl = 0;
      status = fetch (resolver, call, name, ns_t_mx, &mx, &ttl);
      if (status == SW_DNS_STATUS_OK && mx->rdata->len == 0)
        status = SW_DNS_STATUS_NODATA;
      if (status == SW_DNS_STATUS_NODATA || status == SW_DNS_STATUS_NXDOMAIN)
        count_void (call, ns_t_mx);
      else if (status != SW_DNS_STATUS_OK)
        note_dns_failure (call, name, status);
      else
        {
          if (mx->rdata->len > SW_SPF_MAX_MX_PTR)
            call->mx_exceeded = TRUE; /* RFC 7208 section 4.6.4: permerror */
          SwDnsStatus host_status = SW_DNS_STATUS_NODATA;
          for (guint i = 0; i < mx->rdata->len && i < SW_SPF_MAX_MX_PTR; i++)
            {
              g_autofree char *host = dup_raw_name (mx, i);
              if (host == NULL || *host == '\0')
                continue;
              host_status = address_exists (resolver, call, host, type);
              if (host_status != SW_DNS_STATUS_NODATA && host_status != SW_DNS_STATUS_NXDOMAIN)
                break;
            }
          status = host_status;
        }
    }
  switch (status)
    {
    case SW_DNS_STATUS_OK:
      {
        SPF_dns_rr_t *rr = rr_status (layer, domain, ns_t_a, 0, NETDB_SUCCESS);
        const guint8 loopback[4] = { 127, 0, 0, 2 };
        rr_add (rr, loopback, sizeof loopback);
        return rr;
      }
    case SW_DNS_STATUS_NODATA:
      return rr_status (layer, domain, ns_t_a, 0, NO_DATA);
    case SW_DNS_STATUS_NXDOMAIN:
      return rr_status (layer, domain, ns_t_a, 0, HOST_NOT_FOUND);
    default:
      return rr_status (layer, domain, ns_t_a, 0, TRY_AGAIN);
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

  g_autofree char *target = NULL;
  LookupKind kind = strip_mark (call, domain, &target);
  if (kind == KIND_BAD)
    return rr_status (layer, domain, type, 0, HOST_NOT_FOUND);
  const char *name = truncate_name (target != NULL ? target : domain);

  /* RFC 7208 section 4.6.4: at most SW_SPF_MAX_DNS_MECH mechanisms and modifiers that
   * look up DNS in the whole evaluation, includes and redirects included. */
  if (call != NULL && call->marker != NULL)
    {
      gboolean counts = FALSE;
      switch (kind)
        {
        case KIND_A:
        case KIND_MX:
        case KIND_EXISTS:
        case KIND_A6_ANY:
        case KIND_MX4_ANY:
        case KIND_MX6_ANY:
        case KIND_PTR_COUNT:
          counts = TRUE;
          break;
        case KIND_NONE:
          /* The first TXT lookup is the checked domain's; later unmarked ones are made
           * by include and redirect (exp= is marked). */
          if (type == ns_t_txt)
            {
              counts = call->top_seen;
              call->top_seen = TRUE;
            }
          break;
        default:
          break;
        }
      if (counts && !call->mech_exceeded && ++call->mechanisms > SW_SPF_MAX_DNS_MECH)
        call->mech_exceeded = TRUE;
      if (call->mech_exceeded)
        return rr_status (layer, domain, type, 0, HOST_NOT_FOUND);
    }

  switch (kind)
    {
    case KIND_PTR_COUNT:
      return rr_status (layer, domain, type, 0, NO_DATA);
    case KIND_A6_ANY:
      return any_address (layer, call, domain, name, ns_t_aaaa, FALSE);
    case KIND_MX4_ANY:
      return any_address (layer, call, domain, name, ns_t_a, TRUE);
    case KIND_MX6_ANY:
      return any_address (layer, call, domain, name, ns_t_aaaa, TRUE);
    default:
      break;
    }

  /* RFC 7208 section 5.5: a DNS error while looking up the addresses of a PTR name skips
   * that name. With marked records, unmarked address lookups are exactly those. */
  gboolean ptr_name = call != NULL && call->marker != NULL && kind == KIND_NONE
                      && (type == ns_t_a || type == ns_t_aaaa);

  g_autoptr (SwDnsAnswer) answer = NULL;
  guint32 ttl = 0;
  SwDnsStatus status = fetch (resolver, call, name, type, &answer, &ttl);
  switch (status)
    {
    case SW_DNS_STATUS_NXDOMAIN:
      count_void (call, type);
      return rr_status (layer, domain, type, ttl, HOST_NOT_FOUND);
    case SW_DNS_STATUS_NODATA:
      count_void (call, type);
      return rr_status (layer, domain, type, ttl, NO_DATA);
    case SW_DNS_STATUS_SERVFAIL:
    case SW_DNS_STATUS_TIMEOUT:
    case SW_DNS_STATUS_COUNT:
      if (ptr_name)
        {
          g_autofree char *safe = sw_sanitize_for_log (name, -1, 80);
          g_debug ("DNS error for PTR name %s: skipped (RFC 7208 5.5)", safe);
          return rr_status (layer, domain, type, 0, NO_DATA);
        }
      note_dns_failure (call, name, status);
      return rr_status (layer, domain, type, 0, TRY_AGAIN);
    case SW_DNS_STATUS_OK:
      break;
    }

  SPF_dns_rr_t *rr = rr_status (layer, domain, type, ttl, NETDB_SUCCESS);
  switch (type)
    {
    case ns_t_txt:
      add_txt (rr, call, name, answer);
      break;
    case ns_t_a:
      add_addresses (rr, answer, sizeof (struct in_addr));
      break;
    case ns_t_aaaa:
      add_addresses (rr, answer, sizeof (struct in6_addr));
      break;
    case ns_t_mx:
      add_names (rr, answer, G_MAXUINT, kind == KIND_MX ? call->marker : NULL);
      if (call != NULL && answer->rdata->len > SW_SPF_MAX_MX_PTR)
        call->mx_exceeded = TRUE;
      break;
    default:
      /* RFC 7208 section 4.6.4: only the first SW_SPF_MAX_MX_PTR PTR names are used. */
      add_names (rr, answer, SW_SPF_MAX_MX_PTR, NULL);
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

static const char *
validated_name (gpointer user_data)
{
  return SPF_request_get_client_dom (user_data);
}

/* The text to show for a fail with exp= (RFC 7208 section 6.2), in @text_out (transfer
 * full): the single TXT record at the exp= name, expanded by sw_spf_expand_explanation()
 * with the macro values of libspf2's request (the current domain included, so includes
 * and redirects behave as in libspf2); our default explanation when there is no usable
 * text. */
static void
explanation_text (SPF_dns_server_t *layer, SwSpfCall *call, const char *name, char **text_out)
{
  SPF_request_t *req = call->request;
  SwSpfMacroVars vars = {
    .sender = req->env_from,
    .local_part = req->env_from_lp,
    .sender_domain = req->env_from_dp,
    .domain = req->cur_dom,
    .helo = req->helo_dom,
    .receiver = req->spf_server->rec_dom,
    .ip = req->client_ver == AF_INET6 ? (const guint8 *) &req->ipv6 : (const guint8 *) &req->ipv4,
    .ip_len = req->client_ver == AF_INET6 ? 16 : 4,
    .now = g_get_real_time () / G_USEC_PER_SEC,
    .get_validated_name = validated_name,
    .user_data = req,
  };
  /* The same lookup libspf2 would make: marks, counting and the guard apply; the answer
   * holds only texts that passed sw_spf_explanation_is_acceptable() (spaces as "%_"),
   * or none when RFC 7208 section 6.2 says there is no explanation. */
  SPF_dns_rr_t *rr = layer_lookup (layer, name, ns_t_txt, TRUE);
  char *text = NULL;
  if (rr->herrno == NETDB_SUCCESS && rr->num_rr > 0 && sw_spf_explanation_is_acceptable (rr->rr[0]->txt, NULL))
    text = sw_spf_expand_explanation (rr->rr[0]->txt, &vars);
  SPF_dns_rr_free (rr);
  if (text == NULL)
    text = sw_spf_expand_explanation (SW_SPF_DEFAULT_EXPLANATION, &vars);
  *text_out = text;
}

/* libspf2's get_exp hook (spf_get_exp.c): called with the expanded exp= name, which may
 * be *@bufp itself. Writes the explanation into *@bufp (malloc'ed by libspf2, grown with
 * realloc). */
static SPF_errcode_t
layer_get_exp (SPF_server_t *server, const char *domain, char **bufp, size_t *buflenp)
{
  SwSpfCall *call = current_call;
  if (call == NULL || call->request == NULL)
    return SPF_E_NOT_CONFIG; /* libspf2 then gives no explanation */
  g_autofree char *name = g_strdup (domain);
  g_autofree char *text = NULL;
  explanation_text (server->resolver, call, name, &text);
  g_assert (text != NULL); /* the default explanation is well-formed */
  gsize need = strlen (text) + 1;
  if (*bufp == NULL || *buflenp < need)
    {
      char *grown = realloc (*bufp, need);
      if (grown == NULL)
        return SPF_E_NO_MEMORY;
      *bufp = grown;
      *buflenp = need;
    }
  memcpy (*bufp, text, need);
  return SPF_E_SUCCESS;
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
  layer->get_exp = layer_get_exp;
  layer->add_cache = NULL;
  layer->layer_below = NULL;
  layer->name = "spoofwatch";
  layer->debug = 0;
  layer->hook = sw_resolver_ref (resolver);
  return layer;
}
