/* The RFC5322.From author domains. */
#include "sw-from.h"
#include "sw-limits.h"

#include <gmime/gmime.h>

#include <string.h>

typedef struct
{
  const char *name;
  const char *header; /* the header block (LF), without the empty line */
  SwFromStatus status;
  const char *domains; /* distinct domains, comma-separated; "" for none */
  guint n_mailboxes;
  gboolean group;
  const char *display_name; /* of the first mailbox, or NULL */
  const char *local_part;   /* of the first mailbox, or NULL to skip */
  const char *domain;       /* as written, of the first mailbox, or NULL to skip */
} FromCase;

static const FromCase cases[] = {
  { "simple", "From: alice@example.com", SW_FROM_OK, "example.com", 1, FALSE, NULL, "alice", "example.com" },
  { "display-name", "From: Alice Liddell <alice@Example.COM>", SW_FROM_OK, "example.com", 1, FALSE,
    "Alice Liddell", "alice", "Example.COM" },
  { "quoted-display-name", "From: \"Liddell, Alice\" <alice@example.com>", SW_FROM_OK, "example.com", 1,
    FALSE, "Liddell, Alice", "alice", "example.com" },
  { "rfc2047-b", "From: =?UTF-8?B?QsO8cm8gTcO8bGxlcg==?= <buero@example.de>", SW_FROM_OK, "example.de", 1,
    FALSE, "B\xc3\xbcro M\xc3\xbcller", "buero", "example.de" },
  { "rfc2047-q-with-at", "From: =?utf-8?q?security=40paypal.com?= <x@evil.example>", SW_FROM_OK,
    "evil.example", 1, FALSE, "security@paypal.com", "x", "evil.example" },
  { "quoted-display-with-address", "From: \"support@bank.example\" <x@evil.example>", SW_FROM_OK,
    "evil.example", 1, FALSE, "support@bank.example", "x", "evil.example" },
  { "8bit-display-name", "From: J\xc3\xb6rg <joerg@example.de>", SW_FROM_OK, "example.de", 1, FALSE,
    "J\xc3\xb6rg", "joerg", "example.de" },
  { "quoted-local-part", "From: \"john..doe\"@example.org", SW_FROM_OK, "example.org", 1, FALSE, NULL,
    "\"john..doe\"", "example.org" },
  { "quoted-local-part-at", "From: \"a@b\"@example.org", SW_FROM_OK, "example.org", 1, FALSE, NULL, "\"a@b\"",
    "example.org" },
  { "comment", "From: alice@example.com (Alice at work)", SW_FROM_OK, "example.com", 1, FALSE,
    "Alice at work", "alice", "example.com" },
  { "folded", "From: Alice\n <alice@example.com>", SW_FROM_OK, "example.com", 1, FALSE, "Alice", "alice",
    "example.com" },
  { "idn-u-label",
    "From: info@b\xc3\xbc"
    "cher.example",
    SW_FROM_OK, "xn--bcher-kva.example", 1, FALSE, NULL, "info",
    "b\xc3\xbc"
    "cher.example" },
  { "idn-a-label", "From: info@XN--BCHER-KVA.example", SW_FROM_OK, "xn--bcher-kva.example", 1, FALSE, NULL,
    "info", "XN--BCHER-KVA.example" },
  { "trailing-dot", "From: a@example.com.", SW_FROM_OK, "example.com", 1, FALSE, NULL, "a", NULL },
  { "same-domain-twice", "From: a@example.com, b@EXAMPLE.com", SW_FROM_OK, "example.com", 2, FALSE, NULL, "a",
    NULL },
  { "two-domains", "From: a@example.com, Bob <b@example.org>", SW_FROM_OK, "example.com,example.org", 2,
    FALSE, NULL, "a", NULL },
  { "group", "From: Team: a@example.com, b@example.net;", SW_FROM_OK, "example.com,example.net", 2, TRUE,
    NULL, "a", NULL },
  { "empty-group", "From: undisclosed-recipients:;", SW_FROM_EMPTY, "", 0, TRUE, NULL, NULL, NULL },
  { "missing", "To: a@example.com", SW_FROM_MISSING, "", 0, FALSE, NULL, NULL, NULL },
  { "multiple-fields", "From: a@example.com\nFrom: b@example.org", SW_FROM_MULTIPLE_FIELDS,
    "example.com,example.org", 2, FALSE, NULL, "a", NULL },
  { "empty", "From:", SW_FROM_EMPTY, "", 0, FALSE, NULL, NULL, NULL },
  { "blank", "From:    ", SW_FROM_EMPTY, "", 0, FALSE, NULL, NULL, NULL },
  { "no-at", "From: alice", SW_FROM_NO_DOMAIN, "", 1, FALSE, NULL, "alice", NULL },
  { "words-only", "From: not an address", SW_FROM_UNPARSEABLE, "", 0, FALSE, NULL, NULL, NULL },
  { "trailing-garbage-word", "From: a@example.com garbage", SW_FROM_NO_DOMAIN, "example.com", 2, FALSE, NULL,
    "a", NULL },
  { "semicolon-hides-address", "From: a@example.com; b@bank.example", SW_FROM_UNPARSEABLE, "example.com", 1,
    FALSE, NULL, "a", NULL },
  { "double-at", "From: a@evil.example@bank.example", SW_FROM_UNPARSEABLE, NULL, 1, FALSE, NULL, NULL, NULL },
  { "empty-domain", "From: a@", SW_FROM_UNPARSEABLE, "", 0, FALSE, NULL, NULL, NULL },
  { "domain-literal", "From: a@[192.0.2.1]", SW_FROM_INVALID_DOMAIN, "", 1, FALSE, NULL, "a", "[192.0.2.1]" },
  { "bad-domain", "From: a@exa_mple..com", SW_FROM_UNPARSEABLE, "", 0, FALSE, NULL, NULL, NULL },
  { "long-label", "From: a@1234567890123456789012345678901234567890123456789012345678901234.example",
    SW_FROM_INVALID_DOMAIN, "", 1, FALSE, NULL, "a", NULL },
  { "invalid-and-valid", "From: a@example.com, b@[192.0.2.1]", SW_FROM_INVALID_DOMAIN, "example.com", 2,
    FALSE, NULL, "a", NULL },
  { "invalid-and-no-domain", "From: b@[192.0.2.1], c", SW_FROM_INVALID_DOMAIN, "", 2, FALSE, NULL, "b",
    NULL },
  /* An encoded-word is never an address: the mail client shows it decoded, DMARC cannot
   * take a domain from it. */
  { "encoded-word-address", "From: =?utf-8?q?ceo=40bank.example?=", SW_FROM_NO_DOMAIN, "", 1, FALSE, NULL,
    NULL, NULL },
  { "angle-unclosed", "From: Alice <alice@example.com", SW_FROM_OK, "example.com", 1, FALSE, "Alice", "alice",
    NULL },
};

static void
test_from_table (gconstpointer data)
{
  const FromCase *c = data;
  g_autofree char *text = g_strdup_printf ("%s\nSubject: test\n\nbody\n", c->header);
  g_autoptr (GBytes) bytes = g_bytes_new (text, strlen (text));
  g_autoptr (SwMessage) msg = sw_message_new (bytes);
  g_autoptr (SwFrom) from = sw_from_parse (msg);

  if (from->status != c->status)
    g_error ("case %s: status %s (%s), expected %s", c->name, sw_from_status_to_string (from->status),
             from->reason ? from->reason : "", sw_from_status_to_string (c->status));
  if ((from->status == SW_FROM_OK) != (from->reason == NULL))
    g_error ("case %s: reason \"%s\" does not match the status", c->name, from->reason);
  if (c->domains != NULL)
    {
      g_autoptr (GString) got = g_string_new (NULL);
      for (guint i = 0; i < from->domains->len; i++)
        g_string_append_printf (got, "%s%s", i ? "," : "",
                                (const char *)g_ptr_array_index (from->domains, i));
      if (g_strcmp0 (got->str, c->domains) != 0)
        g_error ("case %s: domains \"%s\", expected \"%s\"", c->name, got->str, c->domains);
    }
  if (from->mailboxes->len != c->n_mailboxes)
    g_error ("case %s: %u mailboxes, expected %u", c->name, from->mailboxes->len, c->n_mailboxes);
  if (!from->group_syntax != !c->group)
    g_error ("case %s: group_syntax %d", c->name, from->group_syntax);
  if (c->n_mailboxes == 0)
    return;
  const SwMailbox *m = g_ptr_array_index (from->mailboxes, 0);
  if (g_strcmp0 (m->display_name, c->display_name) != 0)
    g_error ("case %s: display name \"%s\"", c->name, m->display_name);
  if (c->local_part != NULL && g_strcmp0 (m->local_part, c->local_part) != 0)
    g_error ("case %s: local part \"%s\"", c->name, m->local_part);
  if (c->domain != NULL && g_strcmp0 (m->domain, c->domain) != 0)
    g_error ("case %s: domain \"%s\"", c->name, m->domain);
  for (guint i = 0; i < from->mailboxes->len; i++)
    {
      const SwMailbox *mb = g_ptr_array_index (from->mailboxes, i);
      g_assert_true (mb->display_name == NULL || g_utf8_validate (mb->display_name, -1, NULL));
      if (mb->domain_ascii != NULL)
        g_assert_nonnull (mb->domain);
    }
}

/* SW_MAX_FROM_MAILBOXES addresses are read; one more makes the field unparseable (an
 * address past the cap would go unchecked). */
static void
test_from_cap_mailboxes (void)
{
  for (guint extra = 0; extra <= 1; extra++)
    {
      GString *s = g_string_new ("From: ");
      for (guint i = 0; i < SW_MAX_FROM_MAILBOXES + extra; i++)
        g_string_append_printf (s, "%su%u@d%u.example", i ? ", " : "", i, i % 3);
      g_autoptr (SwFrom) from = sw_from_parse_value (s->str + 6);
      g_assert_cmpuint (from->mailboxes->len, ==, SW_MAX_FROM_MAILBOXES);
      g_assert_cmpuint (from->domains->len, ==, 3);
      g_assert_cmpint (from->status, ==, extra ? SW_FROM_UNPARSEABLE : SW_FROM_OK);
      g_string_free (s, TRUE);
    }
}

/* A From field cut at SW_MAX_HEADER_FIELD cannot be trusted. */
static void
test_from_cap_field (void)
{
  GString *s = g_string_new ("From: a@example.com,");
  while (s->len <= SW_MAX_HEADER_FIELD + 100)
    g_string_append (s, "\n                                                                       ");
  g_string_append (s, " b@bank.example\n\n");
  g_autoptr (GBytes) bytes = g_bytes_new (s->str, s->len);
  g_autoptr (SwMessage) msg = sw_message_new (bytes);
  g_autoptr (SwFrom) from = sw_from_parse (msg);
  g_assert_cmpint (from->status, ==, SW_FROM_UNPARSEABLE);
  g_assert_nonnull (from->reason);
  g_string_free (s, TRUE);
}

/* A NUL byte in the From field is read as a space (SwHeaderField.value). */
static void
test_from_nul (void)
{
  static const char text[] = "From: Bank\0Support <x@evil.example>\r\n\r\nbody\r\n";
  g_autoptr (GBytes) bytes = g_bytes_new (text, sizeof text - 1);
  g_autoptr (SwMessage) msg = sw_message_new (bytes);
  g_assert_true (sw_message_get_flags (msg) & SW_MESSAGE_FLAG_HAS_NUL);
  g_autoptr (SwFrom) from = sw_from_parse (msg);
  g_assert_cmpint (from->status, ==, SW_FROM_OK);
  g_assert_cmpuint (from->domains->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (from->domains, 0), ==, "evil.example");
  const SwMailbox *m = g_ptr_array_index (from->mailboxes, 0);
  g_assert_cmpstr (m->display_name, ==, "Bank Support");
}

static void
test_from_status_names (void)
{
  for (int s = 0; s < SW_FROM_STATUS_COUNT; s++)
    g_assert_cmpstr (sw_from_status_to_string ((SwFromStatus)s), !=, "unknown");
  g_assert_cmpstr (sw_from_status_to_string (SW_FROM_MULTIPLE_FIELDS), ==, "multiple-fields");
  g_assert_cmpstr (sw_from_status_to_string (SW_FROM_STATUS_COUNT), ==, "unknown");
}

/* The mailboxes of generated values in the usual forms and near them are what GMime's
 * parser gives: as many, with the same address and display name. */
static void
test_from_generated (void)
{
  static const char *const names[] = { "Emma at cedarline242.de", "Alice Example", "Alice  Example", " Alice",
                                       "O'Brien-Smith & Co+1", "Doe, Jane", "J. Doe", "=?UTF-8?Q?J=C3=B6rg?=",
                                       "a (b) c", "Alice\\\\Bob", "x@y", "", "B\xc3\xbcro", "Alice ", "x<y" };
  static const char *const locals[] = { "emma", "a.b", "a..b", ".a", "a.", "a+b_c-d", "\"a b\"", "a!#$%&'*/=?^`{|}~",
                                        "", "A", "a@b" };
  static const char *const domains[] = { "example.com", "EXAMPLE.Com", "xn--bcher-kva.de", "Xn--x.de", "ex_ample.com",
                                         "a..b", "[1.2.3.4]", "b\xc3\xbc.de", "a.b-c.d", "-a.com", "a.com.", "",
                                         "a", "sub.xn--x.com", "1.2.3.4" };
  static const char *const forms[] = { "%3$s@%4$s", "%1$s <%3$s@%4$s>", "\"%1$s\" <%3$s@%4$s>", "%1$s<%3$s@%4$s>",
                                       "%1$s <%3$s@%4$s> x", "<%3$s@%4$s>", "\"%1$s\"<%3$s@%4$s>",
                                       "%3$s@%4$s (%1$s)", "%1$s <%3$s@%4$s>, %3$s@%4$s", "\"%1$s <%3$s@%4$s>",
                                       "%2$s%1$s <%3$s@%4$s>", "%1$s <%3$s@%4$s%2$s>" };
  g_mime_init ();
  GRand *rand = g_rand_new_with_seed (5322);
  for (guint round = 0; round < 6000; round++)
    {
      const char *name = names[g_rand_int_range (rand, 0, G_N_ELEMENTS (names))];
      const char *local = locals[g_rand_int_range (rand, 0, G_N_ELEMENTS (locals))];
      const char *domain = domains[g_rand_int_range (rand, 0, G_N_ELEMENTS (domains))];
      const char *form = forms[g_rand_int_range (rand, 0, G_N_ELEMENTS (forms))];
      g_autoptr (GString) v = g_string_new (NULL);
      /* the forms use %1$s name, %2$s a stray character, %3$s local part, %4$s domain */
      const char *stray = round % 3 == 0 ? "\"" : round % 3 == 1 ? " " : ">";
      for (const char *f = form; *f; f++)
        {
          if (f[0] == '%' && f[2] == '$' && f[3] == 's')
            {
              const char *arg = f[1] == '1' ? name : f[1] == '2' ? stray : f[1] == '3' ? local : domain;
              g_string_append (v, arg);
              f += 3;
            }
          else
            g_string_append_c (v, *f);
        }
      g_autoptr (SwFrom) from = sw_from_parse_value (v->str);
      InternetAddressList *list = internet_address_list_parse (NULL, v->str);
      int n = list ? internet_address_list_length (list) : 0;
      guint mailboxes = 0;
      for (int i = 0; i < n; i++)
        if (INTERNET_ADDRESS_IS_MAILBOX (internet_address_list_get_address (list, i)))
          mailboxes++;
      if (from->mailboxes->len != mailboxes)
        g_error ("round %u: \"%s\": %u mailboxes, GMime %u", round, v->str, from->mailboxes->len, mailboxes);
      if (n == 1 && mailboxes == 1)
        {
          InternetAddress *a = internet_address_list_get_address (list, 0);
          const char *addr = internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (a));
          const char *want_name = internet_address_get_name (a);
          const SwMailbox *m = g_ptr_array_index (from->mailboxes, 0);
          const char *at = addr ? strrchr (addr, '@') : NULL;
          g_autofree char *want_local = at ? g_strndup (addr, (gsize)(at - addr)) : g_strdup (addr ? addr : "");
          g_autofree char *want_display
              = want_name != NULL && *want_name != '\0' ? g_utf8_make_valid (want_name, -1) : NULL;
          if (g_strcmp0 (m->display_name, want_display) != 0 || g_strcmp0 (m->local_part, want_local) != 0
              || g_strcmp0 (m->domain, at ? at + 1 : NULL) != 0)
            g_error ("round %u: \"%s\": name \"%s\" local \"%s\" domain \"%s\", GMime \"%s\" \"%s\"", round, v->str,
                     m->display_name, m->local_part, m->domain, want_display, addr);
        }
      g_clear_object (&list);
    }
  g_rand_free (rand);
}

void sw_test_from_register (void);

void
sw_test_from_register (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/core/msg/from/%s", cases[i].name);
      g_test_add_data_func (path, &cases[i], test_from_table);
    }
  g_test_add_func ("/core/msg/from/cap/mailboxes", test_from_cap_mailboxes);
  g_test_add_func ("/core/msg/from/cap/field", test_from_cap_field);
  g_test_add_func ("/core/msg/from/nul", test_from_nul);
  g_test_add_func ("/core/msg/from/status-names", test_from_status_names);
  g_test_add_func ("/core/msg/from/generated", test_from_generated);
}
