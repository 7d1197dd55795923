/* sw-received.h: one Received: field (RFC 5321 section 4.4), as the common MTAs write it.
 *
 * Formats recognised (SpamAssassin's Mail::SpamAssassin::Message::Metadata::Received is
 * the reference): Postfix and Sendmail "from HELO (rdns [IP])", Exim "from rdns ([IP]
 * helo=HELO)" and "from [IP] (helo=HELO)", qmail and Yahoo "from rdns (HELO x) (IP)" and
 * "from IP (EHLO x)", Exchange and Microsoft 365 "from HELO (IP)", Gmail, iCloud,
 * Fastmail, Zoho, Dovecot LMTP, local submissions ("by host (Postfix, from userid N)",
 * "(qmail N invoked by uid N)", "(from user@localhost)", "with local"). */
#pragma once
#include "sw-types.h"
G_BEGIN_DECLS

typedef struct {
  gboolean  parsed;         /* FALSE if nothing could be recognised */
  char     *from_helo;      /* HELO/EHLO name as claimed by the client, as written */
  char     *from_rdns;      /* reverse DNS name the receiver found, if any (lower-case, no
                               trailing dot); NULL for "unknown" and "(may be forged)" */
  char     *from_ip;        /* normalised textual IP (sw_ip_normalize) of the client, from
                               the [..] literal or the bare address the receiver wrote,
                               never from the reverse name */
  char     *by_host;        /* receiving host as written (may be an address) */
  char     *with_protocol;  /* "ESMTPS", "SMTP", "HTTP", "LMTP", "local", "Microsoft SMTP
                               Server" ... as written */
  char     *id;
  char     *envelope_from;  /* "(envelope-from <x>)" / "(envelope-sender <x>)" without the
                               angle brackets ("" for <>), if present */
  char     *for_address;    /* "for <x>" without the angle brackets */
  gint64    timestamp;      /* Unix time of the date after the last ';', -1 if none */
  gboolean  authenticated;  /* the client authenticated (ESMTPA/ESMTPSA/LMTPA, RFC 3848,
                               or an "authenticated" comment) */
  gboolean  local;          /* not a network hop: "from userid N", "with local", qmail
                               "invoked by", Sendmail "(from user@host)" */
  gboolean  rdns_recorded;  /* the receiver wrote a reverse-DNS slot (a name, "unknown" or
                               "may be forged"): a NULL @from_rdns then means that the
                               client had no trustworthy reverse name */
} SwReceived;

/* Parses the unfolded value of a Received: field. Never returns NULL (even for NULL
 * @value). Strings are valid UTF-8. Transfer full: free with sw_received_free().
 * Thread-safe. */
SwReceived *sw_received_parse (const char *value);

void sw_received_free (SwReceived *received);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwReceived, sw_received_free)

G_END_DECLS
