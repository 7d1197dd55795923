#define G_LOG_DOMAIN "sw-msg"
#include "sw-from.h"
#include "sw-domain.h"
#include "sw-limits.h"
#include "sw-msg-private.h"
#include "sw-util.h"

#include <gmime/gmime.h>
#include <string.h>

void
sw_mailbox_free (SwMailbox *mailbox)
{
  if (mailbox == NULL)
    return;
  g_free (mailbox->display_name);
  g_free (mailbox->local_part);
  g_free (mailbox->domain);
  g_free (mailbox->domain_ascii);
  g_free (mailbox);
}

void
sw_from_free (SwFrom *from)
{
  if (from == NULL)
    return;
  g_clear_pointer (&from->mailboxes, g_ptr_array_unref);
  g_clear_pointer (&from->domains, g_ptr_array_unref);
  g_free (from->reason);
  g_free (from);
}

const char *
sw_from_status_to_string (SwFromStatus status)
{
  static const char *const names[] = {
    "ok", "missing", "multiple-fields", "empty", "unparseable", "no-domain", "invalid-domain",
  };
  G_STATIC_ASSERT (G_N_ELEMENTS (names) == SW_FROM_STATUS_COUNT);
  if ((guint)status >= SW_FROM_STATUS_COUNT)
    return "unknown";
  return names[status];
}

void
sw_msg_gmime_init (void)
{
  static gsize once = 0;
  if (g_once_init_enter (&once))
    {
      g_mime_init ();
      g_once_init_leave (&once, 1);
    }
}

static SwFrom *
from_new (void)
{
  SwFrom *from = g_new0 (SwFrom, 1);
  from->status = SW_FROM_OK;
  from->mailboxes = g_ptr_array_new_with_free_func ((GDestroyNotify)sw_mailbox_free);
  from->domains = g_ptr_array_new_with_free_func (g_free);
  return from;
}

/* Records a problem: keeps the status listed last in SwFromStatus. */
static void
set_problem (SwFrom *from, SwFromStatus status, char *reason /* transfer full */)
{
  if (status > from->status)
    {
      from->status = status;
      g_free (from->reason);
      from->reason = reason;
      return;
    }
  g_free (reason);
}

/* Number of '@' outside quoted strings and comments. */
static guint
count_bare_at (const char *s)
{
  guint n = 0;
  int depth = 0;
  gboolean quoted = FALSE;
  for (const char *p = s; *p; p++)
    {
      if (*p == '\\' && (quoted || depth > 0))
        {
          if (p[1] == '\0')
            break;
          p++;
          continue;
        }
      if (quoted)
        {
          if (*p == '"')
            quoted = FALSE;
          continue;
        }
      if (*p == '(')
        depth++;
      else if (*p == ')' && depth > 0)
        depth--;
      else if (depth == 0 && *p == '"')
        quoted = TRUE;
      else if (depth == 0 && *p == '@')
        n++;
    }
  return n;
}

typedef struct
{
  guint n_mailboxes;
  guint n_at;
} Walk;

/* @addr and @name as GMime gives them for one mailbox (either may be NULL). */
static void
add_mailbox (SwFrom *from, const char *addr, const char *name)
{
  if (addr == NULL)
    addr = "";
  if (from->mailboxes->len >= SW_MAX_FROM_MAILBOXES)
    return;

  SwMailbox *m = g_new0 (SwMailbox, 1);
  if (name != NULL && *name != '\0')
    m->display_name = g_utf8_make_valid (name, -1);
  const char *at = strrchr (addr, '@');
  if (at == NULL)
    m->local_part = g_strdup (addr);
  else
    {
      m->local_part = g_strndup (addr, (gsize)(at - addr));
      m->domain = g_strdup (at + 1);
    }
  g_ptr_array_add (from->mailboxes, m);

  if (m->domain == NULL || *m->domain == '\0')
    {
      g_autofree char *clean = sw_sanitize_for_log (addr, -1, 100);
      set_problem (from, SW_FROM_NO_DOMAIN, g_strdup_printf ("the From address \"%s\" has no domain", clean));
      return;
    }
  m->domain_ascii = sw_domain_to_ascii (m->domain);
  if (m->domain_ascii == NULL)
    {
      g_autofree char *clean = sw_sanitize_for_log (m->domain, -1, 100);
      set_problem (from, SW_FROM_INVALID_DOMAIN,
                   g_strdup_printf ("the From domain \"%s\" is not a valid domain name", clean));
      return;
    }
  for (guint i = 0; i < from->domains->len; i++)
    if (g_strcmp0 (g_ptr_array_index (from->domains, i), m->domain_ascii) == 0)
      return;
  g_ptr_array_add (from->domains, g_strdup (m->domain_ascii));
}

static void
walk_list (SwFrom *from, InternetAddressList *list, Walk *walk, guint depth)
{
  int n = internet_address_list_length (list);
  for (int i = 0; i < n; i++)
    {
      InternetAddress *a = internet_address_list_get_address (list, i);
      if (INTERNET_ADDRESS_IS_GROUP (a))
        {
          from->group_syntax = TRUE;
          InternetAddressList *members = internet_address_group_get_members (INTERNET_ADDRESS_GROUP (a));
          /* RFC 5322 groups do not nest; GMime's do not either, but stay bounded. */
          if (members != NULL && depth < 4)
            walk_list (from, members, walk, depth + 1);
        }
      else if (INTERNET_ADDRESS_IS_MAILBOX (a))
        {
          InternetAddressMailbox *mb = INTERNET_ADDRESS_MAILBOX (a);
          const char *addr = internet_address_mailbox_get_addr (mb);
          walk->n_mailboxes++;
          walk->n_at += count_bare_at (addr ? addr : "");
          add_mailbox (from, addr, internet_address_get_name (a));
        }
    }
}

static gboolean
is_atext (char c)
{
  return g_ascii_isalnum (c) || (c != '\0' && strchr ("!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

/* @p[0..@len) is a dot-atom (RFC 5322): atext runs joined by single dots. */
static gboolean
is_dot_atom (const char *p, gsize len)
{
  if (len == 0 || p[0] == '.' || p[len - 1] == '.')
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!(is_atext (p[i]) || (p[i] == '.' && p[i + 1] != '.')))
      return FALSE;
  return TRUE;
}

/* @p[0..@len) is a host name of LDH labels that are not A-labels: what GMime gives back
 * as it is. */
static gboolean
is_plain_domain (const char *p, gsize len)
{
  if (len == 0 || p[0] == '.' || p[len - 1] == '.')
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      if (!(g_ascii_isalnum (p[i]) || p[i] == '-' || (p[i] == '.' && p[i + 1] != '.')))
        return FALSE;
      if ((i == 0 || p[i - 1] == '.') && g_ascii_strncasecmp (p + i, "xn--", 4) == 0)
        return FALSE;
    }
  return TRUE;
}

/* A display name GMime returns unchanged: words of letters, digits and "-_'&+" (and
 * '.' and ',' in a quoted string) joined by single spaces. */
static gboolean
is_plain_name (const char *p, gsize len, gboolean quoted)
{
  if (len == 0 || p[0] == ' ' || p[len - 1] == ' ')
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      char c = p[i];
      if (c == ' ')
        {
          if (p[i + 1] == ' ')
            return FALSE;
        }
      else if (!(g_ascii_isalnum (c) || (c != '\0' && strchr ("-_'&+", c) != NULL)
                 || (quoted && (c == '.' || c == ','))))
        return FALSE;
    }
  return TRUE;
}

/* The usual From values, read without GMime: "local@domain", "Name <local@domain>" and
 * "\"Name\" <local@domain>", with a dot-atom local part, a host name that is not IDNA
 * and a plain display name (see above), nothing else; *@addr_out and *@name_out (NULL
 * when there is none) are what GMime gives for them (tests/core/test-from.c compares
 * the two). FALSE for anything else. */
static gboolean
parse_simple_mailbox (const char *value, char **addr_out, char **name_out)
{
  gsize len = strlen (value);
  const char *addr = value, *name = NULL;
  gsize addr_len = len, name_len = 0;
  gboolean quoted = FALSE;
  if (len > 0 && value[len - 1] == '>')
    {
      const char *open = strchr (value, '<');
      if (open == NULL || open == value || open[-1] != ' ' || open - value < 2)
        return FALSE;
      addr = open + 1;
      addr_len = (gsize)(value + len - 1 - addr);
      name = value;
      name_len = (gsize)(open - 1 - value);
      if (name[0] == '"')
        {
          if (name_len < 3 || name[name_len - 1] != '"')
            return FALSE;
          name++;
          name_len -= 2;
          quoted = TRUE;
        }
      if (!is_plain_name (name, name_len, quoted))
        return FALSE;
    }
  const char *at = memchr (addr, '@', addr_len);
  if (at == NULL || !is_dot_atom (addr, (gsize)(at - addr))
      || !is_plain_domain (at + 1, addr_len - (gsize)(at + 1 - addr)))
    return FALSE;
  *addr_out = g_strndup (addr, addr_len);
  *name_out = name != NULL ? g_strndup (name, name_len) : NULL;
  return TRUE;
}

static void
parse_value_into (SwFrom *from, const char *value, gboolean truncated, Walk *walk)
{
  if (truncated)
    set_problem (from, SW_FROM_UNPARSEABLE,
                 g_strdup_printf ("the From field is longer than %u bytes", SW_MAX_HEADER_FIELD));
  if (value == NULL || *value == '\0')
    return;

  guint expected_at = count_bare_at (value);
  guint before_at = walk->n_at;
  g_autofree char *simple_addr = NULL, *simple_name = NULL;
  if (parse_simple_mailbox (value, &simple_addr, &simple_name))
    {
      walk->n_mailboxes++;
      walk->n_at += count_bare_at (simple_addr);
      add_mailbox (from, simple_addr, simple_name);
      g_assert (walk->n_at - before_at == expected_at);
      return;
    }
  sw_msg_gmime_init ();
  InternetAddressList *list = internet_address_list_parse (NULL, value);
  if (list != NULL)
    {
      walk_list (from, list, walk, 0);
      g_object_unref (list);
    }
  if (list == NULL || walk->n_at - before_at != expected_at)
    set_problem (from, SW_FROM_UNPARSEABLE,
                 g_strdup ("the From field could not be read as a list of addresses"));
}

static void
finish (SwFrom *from, const Walk *walk, gboolean any_value)
{
  if (walk->n_mailboxes > SW_MAX_FROM_MAILBOXES)
    set_problem (from, SW_FROM_UNPARSEABLE,
                 g_strdup_printf ("the From field has %u addresses, more than %u", walk->n_mailboxes,
                                  SW_MAX_FROM_MAILBOXES));
  if (walk->n_mailboxes == 0 && from->status == SW_FROM_OK)
    {
      if (from->group_syntax)
        set_problem (from, SW_FROM_EMPTY, g_strdup ("the From field is a group with no address"));
      else if (!any_value)
        set_problem (from, SW_FROM_EMPTY, g_strdup ("the From field is empty"));
      else
        set_problem (from, SW_FROM_UNPARSEABLE, g_strdup ("the From field has no address"));
    }
}

SwFrom *
sw_from_parse_value (const char *value)
{
  SwFrom *from = from_new ();
  Walk walk = { 0, 0 };
  parse_value_into (from, value, FALSE, &walk);
  finish (from, &walk, value != NULL && *value != '\0');
  return from;
}

SwFrom *
sw_from_parse (SwMessage *msg)
{
  g_return_val_if_fail (msg != NULL, NULL);

  SwFrom *from = from_new ();
  guint n = sw_message_count_fields (msg, "From");
  if (n == 0)
    {
      from->status = SW_FROM_MISSING;
      from->reason = g_strdup ("the message has no From field");
      return from;
    }

  Walk walk = { 0, 0 };
  gboolean any_value = FALSE;
  for (guint i = 0; i < n; i++)
    {
      const SwHeaderField *f = sw_message_find_field (msg, "From", i);
      any_value |= f->value[0] != '\0';
      parse_value_into (from, f->value, f->truncated, &walk);
    }
  finish (from, &walk, any_value);

  if (n > 1)
    {
      /* Field-level problem: decided before anything found in the values. */
      from->status = SW_FROM_MULTIPLE_FIELDS;
      g_free (from->reason);
      from->reason = g_strdup_printf ("the message has %u From fields", n);
    }
  return from;
}
