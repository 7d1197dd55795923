/* spoofwatch-check: verifies .eml and mbox files, or filters one message from stdin to
 * stdout with our headers added.
 *
 * Listens on nothing. Trusts: the DNS source chosen on the command line (a zone file, a
 * given server, or the system's resolvers), and the Authentication-Results of the
 * authserv-ids given with --trust-authserv-id. */
#define G_LOG_DOMAIN "sw-check"
#include "sw-limits.h"
#include "sw-message.h"
#include "sw-resolver.h"
#include "sw-verifier.h"
#include "sw-verify-headers.h"
#include "sw-verify-json.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { EXIT_VERIFIED = 0, EXIT_FAILED_POLICY = 1, EXIT_USAGE = 2 };

typedef struct {
  gboolean verbose;
  gboolean json;
  gboolean filter;
  gboolean dnssec;
  gboolean rfc7489;
  char *color;
  char *dns_zone;
  char *dns_server;
  char **boundary;
  int trusted_hops;
  char *ip;
  char *helo;
  char *mail_from;
  char **trusted_ids;
  char *authserv_id;
  int dns_timeout;
  gboolean use_color;
} Options;

static void
options_clear (Options *o)
{
  g_clear_pointer (&o->color, g_free);
  g_clear_pointer (&o->dns_zone, g_free);
  g_clear_pointer (&o->dns_server, g_free);
  g_clear_pointer (&o->boundary, g_strfreev);
  g_clear_pointer (&o->ip, g_free);
  g_clear_pointer (&o->helo, g_free);
  g_clear_pointer (&o->mail_from, g_free);
  g_clear_pointer (&o->trusted_ids, g_strfreev);
  g_clear_pointer (&o->authserv_id, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Options, options_clear)

static const char *
verdict_color (SwVerdict v)
{
  switch (v)
    {
    case SW_VERDICT_PASS: return "\033[1;32m";
    case SW_VERDICT_NONE: return "\033[0;37m";
    case SW_VERDICT_FAIL_NONE: return "\033[1;33m";
    case SW_VERDICT_QUARANTINE: return "\033[38;5;208;1m";
    case SW_VERDICT_REJECT: return "\033[1;31m";
    case SW_VERDICT_TEMPERROR:
    case SW_VERDICT_PERMERROR: return "\033[0;37;4m";
    case SW_VERDICT_COUNT: break;
    }
  return "";
}

static void
print_line (const Options *o, const SwVerifyResult *r, const char *label)
{
  g_autoptr (GString) dkim = g_string_new (NULL);
  GPtrArray *sigs = r->dkim->signatures;
  if (sigs->len == 0)
    g_string_append (dkim, "none");
  for (guint i = 0; i < sigs->len; i++)
    {
      const SwDkimSignature *s = g_ptr_array_index (sigs, i);
      g_string_append_printf (dkim, "%s%s(%s)", i ? "," : "", sw_auth_result_to_string (s->result),
                              s->domain ? s->domain : "?");
    }
  const char *verdict = sw_verdict_to_string (r->verdict);
  g_print ("%s%-10s%s  %-28s spf=%-9s dkim=%s dmarc=%s  %s\n", o->use_color ? verdict_color (r->verdict) : "",
           verdict, o->use_color ? "\033[0m" : "",
           r->from_domain_display ? r->from_domain_display : "(no From domain)",
           sw_auth_result_to_string (r->spf->result), dkim->str,
           r->dmarc ? sw_auth_result_to_string (r->dmarc->result) : "permerror", label);
}

static void
print_evidence (const SwVerifyResult *r)
{
  g_print ("    %s\n", r->explanation);
  if (r->subject)
    g_print ("    Subject: %s\n", r->subject);
  if (r->from_header)
    g_print ("    From: %s\n", r->from_header);
  const SwEnvelope *e = r->envelope;
  if (e != NULL)
    g_print ("    envelope: ip=%s (%s) helo=%s (%s) mail-from=%s (%s)\n      %s\n",
             e->ip ? e->ip : "-", sw_source_to_string (e->ip_source), e->helo ? e->helo : "-",
             sw_source_to_string (e->helo_source),
             e->mail_from ? (*e->mail_from ? e->mail_from : "<>") : "-",
             sw_source_to_string (e->mail_from_source), e->reason ? e->reason : "");
  if (r->spf)
    g_print ("    spf: %s for %s (%s)%s%s\n", sw_auth_result_to_string (r->spf->result),
             r->spf->domain ? r->spf->domain : "-", r->spf->reason ? r->spf->reason : "",
             r->spf->record ? "\n      record: " : "", r->spf->record ? r->spf->record : "");
  if (r->spf_helo)
    g_print ("    spf (helo): %s for %s (%s)\n", sw_auth_result_to_string (r->spf_helo->result),
             r->spf_helo->domain ? r->spf_helo->domain : "-", r->spf_helo->reason ? r->spf_helo->reason : "");
  for (guint i = 0; i < r->dkim->signatures->len; i++)
    {
      const SwDkimSignature *s = g_ptr_array_index (r->dkim->signatures, i);
      g_print ("    dkim: %s d=%s s=%s a=%s %u bits%s (%s)\n", sw_auth_result_to_string (s->result),
               s->domain ? s->domain : "-", s->selector ? s->selector : "-", s->algorithm ? s->algorithm : "-",
               s->key_bits, s->body_length_limited ? " l=" : "", s->reason ? s->reason : "");
    }
  if (r->dkim->signatures->len == 0)
    g_print ("    dkim: no signature\n");
  if (r->dmarc)
    {
      const SwDmarcResult *d = r->dmarc;
      g_print ("    dmarc: %s for %s (org %s): %s\n", sw_auth_result_to_string (d->result),
               d->from_domain ? d->from_domain : "-", d->org_domain ? d->org_domain : "-",
               d->reason ? d->reason : "");
      if (d->record)
        g_print ("      record at _dmarc.%s: %s\n      policy %s=%s applied=%s%s; aligned: %s%s\n",
                 d->record->domain, d->record->raw, d->policy_tag ? d->policy_tag : "p",
                 sw_dmarc_policy_to_string (d->policy_published), sw_dmarc_policy_to_string (d->policy_applied),
                 d->testing ? " (test mode)" : "",
                 d->dkim_aligned ? "dkim " : "", d->spf_aligned ? "spf" : (d->dkim_aligned ? "" : "nothing"));
    }
  for (guint i = 0; i < r->provider_results->len; i++)
    {
      const SwProviderResult *p = g_ptr_array_index (r->provider_results, i);
      g_print ("    provider %s: %s=%s %s\n", p->authserv_id, p->method, sw_auth_result_to_string (p->result),
               p->detail ? p->detail : "");
    }
  g_print ("\n");
}

static gboolean
parse_options (int *argc, char ***argv, Options *o, GError **error)
{
  o->trusted_hops = 0;
  GOptionEntry entries[] = {
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &o->verbose, "Show the explanation and evidence", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &o->json, "One JSON object per message (docs/json.md)", NULL },
    { "filter", 0, 0, G_OPTION_ARG_NONE, &o->filter, "Read one message on stdin, write it with our headers to stdout", NULL },
    { "color", 0, 0, G_OPTION_ARG_STRING, &o->color, "Colour the verdicts: auto, always, never", "WHEN" },
    { "dns-zone", 0, 0, G_OPTION_ARG_FILENAME, &o->dns_zone, "Answer DNS from this zone file", "FILE" },
    { "dns-server", 0, 0, G_OPTION_ARG_STRING, &o->dns_server, "Send DNS queries to this server", "IP[:PORT]" },
    { "dns-timeout", 0, 0, G_OPTION_ARG_INT, &o->dns_timeout, "Timeout of one DNS query (default 5000)", "MS" },
    { "dnssec", 0, 0, G_OPTION_ARG_NONE, &o->dnssec, "Validate DNS answers (DNSSEC)", NULL },
    { "boundary", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->boundary, "Your provider's receiving hosts", "HOSTPATTERN" },
    { "trusted-hops", 0, 0, G_OPTION_ARG_INT, &o->trusted_hops, "The boundary is the N-th Received field", "N" },
    { "ip", 0, 0, G_OPTION_ARG_STRING, &o->ip, "Connecting IP address of the known envelope", "ADDR" },
    { "helo", 0, 0, G_OPTION_ARG_STRING, &o->helo, "HELO name of the known envelope", "NAME" },
    { "mail-from", 0, 0, G_OPTION_ARG_STRING, &o->mail_from, "MAIL FROM of the known envelope", "ADDR" },
    { "trust-authserv-id", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->trusted_ids, "Record this provider's Authentication-Results", "ID" },
    { "authserv-id", 0, 0, G_OPTION_ARG_STRING, &o->authserv_id, "Our authserv-id (default: spoofwatch)", "ID" },
    { "rfc7489", 0, 0, G_OPTION_ARG_NONE, &o->rfc7489, "Organizational domain by the public suffix list (RFC 7489)", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("FILE... | --filter");
  g_option_context_set_summary (ctx, "Verifies SPF, DKIM and DMARC of messages and shows one verdict per message.");
  g_option_context_set_description (ctx,
    "Exit status: 0 verified, 1 a message failed DMARC with a quarantine or reject policy,\n"
    "2 usage error or unreadable input. --filter exits 0 once the message is written.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, argc, argv, error))
    return FALSE;

  if (o->dns_zone && o->dns_server)
    return g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                "--dns-zone and --dns-server exclude each other"), FALSE;
  if ((o->helo || o->mail_from) && !o->ip)
    return g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                "--helo and --mail-from need --ip"), FALSE;
  if (o->dns_timeout < 0 || o->dns_timeout > 60000)
    return g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                "--dns-timeout must be between 1 and 60000 ms"), FALSE;
  if (o->trusted_hops < 0)
    return g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                "--trusted-hops must be positive"), FALSE;
  if (o->filter && *argc > 1)
    return g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                "--filter reads stdin and takes no FILE"), FALSE;
  if (!o->filter && *argc < 2)
    return g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                "no FILE given (or use --filter)"), FALSE;
  if (o->color == NULL || g_str_equal (o->color, "auto"))
    o->use_color = !o->json && isatty (STDOUT_FILENO) && g_getenv ("NO_COLOR") == NULL;
  else if (g_str_equal (o->color, "always"))
    o->use_color = TRUE;
  else if (g_str_equal (o->color, "never"))
    o->use_color = FALSE;
  else
    return g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--color: %s", o->color), FALSE;
  return TRUE;
}

static SwResolver *
make_resolver (const Options *o, GError **error)
{
  if (o->dns_zone)
    return sw_resolver_new_zone_file (o->dns_zone, error);
  SwResolverOptions ro = { .forward = o->dns_server, .dnssec = o->dnssec, .timeout_ms = (guint) o->dns_timeout };
  return sw_resolver_new_unbound (&ro, error);
}

/* Reads all of stdin, up to @cap bytes; *@more is TRUE if input goes on. */
static GBytes *
read_stdin (gsize cap, gboolean *more, GError **error)
{
  GByteArray *buf = g_byte_array_new ();
  guint8 chunk[65536];
  *more = FALSE;
  for (;;)
    {
      if (buf->len >= cap)
        {
          *more = TRUE;
          break;
        }
      ssize_t n = read (STDIN_FILENO, chunk, MIN (sizeof chunk, cap - buf->len));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "reading stdin: %s", g_strerror (errno));
          g_byte_array_unref (buf);
          return NULL;
        }
      if (n == 0)
        break;
      g_byte_array_append (buf, chunk, (guint) n);
    }
  return g_byte_array_free_to_bytes (buf);
}

static gboolean
write_all (int fd, const void *data, gsize len)
{
  const char *p = data;
  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      p += n;
      len -= (gsize) n;
    }
  return TRUE;
}

/* --filter: never loses the message. Whatever fails in verification, the input goes out
 * unchanged plus a temperror/permerror header. */
static int
run_filter (SwVerifier *verifier, const SwKnownEnvelope *known)
{
  g_autoptr (GError) error = NULL;
  gboolean more = FALSE;
  g_autoptr (GBytes) input = read_stdin (SW_MAX_MESSAGE_IN_MEMORY, &more, &error);
  if (input == NULL)
    {
      g_printerr ("spoofwatch-check: %s\n", error->message);
      return EXIT_USAGE;
    }

  g_autoptr (SwVerifyResult) result = NULL;
  if (more)
    result = sw_verify_result_new_error (SW_VERDICT_TEMPERROR, "message too large to verify");
  else if (!sw_verifier_verify (verifier, input, known, &result, &error))
    result = sw_verify_result_new_error (SW_VERDICT_TEMPERROR, error->message);

  g_autoptr (GBytes) output = sw_verify_apply_headers (input, result, sw_verifier_get_authserv_id (verifier));
  gsize len;
  const void *data = g_bytes_get_data (output, &len);
  if (!write_all (STDOUT_FILENO, data, len))
    return EXIT_USAGE;
  if (more)
    {
      guint8 chunk[65536];
      ssize_t n;
      while ((n = read (STDIN_FILENO, chunk, sizeof chunk)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0 && !write_all (STDOUT_FILENO, chunk, (gsize) n))
          return EXIT_USAGE;
    }
  return EXIT_VERIFIED;
}

static int
check_files (SwVerifier *verifier, const Options *o, const SwKnownEnvelope *known, int argc, char **argv)
{
  int status = EXIT_VERIFIED;
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GMappedFile) mapped = g_mapped_file_new (argv[i], FALSE, &error);
      if (mapped == NULL)
        {
          g_printerr ("spoofwatch-check: %s\n", error->message);
          status = EXIT_USAGE;
          continue;
        }
      g_autoptr (GBytes) data = g_mapped_file_get_bytes (mapped);
      g_autoptr (GPtrArray) messages = sw_message_split_mbox (data);
      for (guint m = 0; m < messages->len; m++)
        {
          GBytes *msg = g_ptr_array_index (messages, m);
          g_autoptr (SwVerifyResult) r = NULL;
          g_clear_error (&error);
          if (!sw_verifier_verify (verifier, msg, known, &r, &error))
            r = sw_verify_result_new_error (SW_VERDICT_TEMPERROR, error->message);
          g_autofree char *label = messages->len > 1 ? g_strdup_printf ("%s#%u", argv[i], m + 1) : g_strdup (argv[i]);
          if (o->json)
            {
              g_autofree char *json = sw_verify_result_to_json (r, argv[i], messages->len > 1 ? (int) m : -1, FALSE);
              g_print ("%s\n", json);
            }
          else
            {
              print_line (o, r, label);
              if (o->verbose)
                print_evidence (r);
            }
          if ((r->verdict == SW_VERDICT_REJECT || r->verdict == SW_VERDICT_QUARANTINE) && status == EXIT_VERIFIED)
            status = EXIT_FAILED_POLICY;
        }
    }
  return status;
}

int
main (int argc, char **argv)
{
  g_auto (Options) o = { 0 };
  g_autoptr (GError) error = NULL;
  if (!parse_options (&argc, &argv, &o, &error))
    {
      g_printerr ("spoofwatch-check: %s\nTry 'spoofwatch-check --help'.\n", error->message);
      return EXIT_USAGE;
    }

  g_autoptr (SwResolver) resolver = make_resolver (&o, &error);
  if (resolver == NULL)
    {
      g_printerr ("spoofwatch-check: DNS: %s\n", error->message);
      return EXIT_USAGE;
    }

  SwVerifierConfig config = {
    .resolver = resolver,
    .dmarc_mode = o.rfc7489 ? SW_DMARC_MODE_RFC7489 : SW_DMARC_MODE_RFC9989,
    .authserv_id = o.authserv_id,
    .hints = { .provider_hosts = (const char *const *) o.boundary, .trusted_hops = o.trusted_hops },
    .trusted_authserv_ids = (const char *const *) o.trusted_ids,
  };
  g_autoptr (SwVerifier) verifier = sw_verifier_new (&config, &error);
  if (verifier == NULL)
    {
      g_printerr ("spoofwatch-check: %s\n", error->message);
      return EXIT_USAGE;
    }

  SwKnownEnvelope known = { o.ip, o.helo, o.mail_from };
  int status = o.filter ? run_filter (verifier, o.ip ? &known : NULL)
                        : check_files (verifier, &o, o.ip ? &known : NULL, argc, argv);

  return status;
}
