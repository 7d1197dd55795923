#define G_LOG_DOMAIN "sw-config"

#include "sw-config.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "sw-authres.h"
#include "sw-limits.h"
#include "sw-util.h"

G_DEFINE_QUARK (sw - config - error - quark, sw_config_error)

#define GROUP_GENERAL "general"
#define GROUP_ACCOUNT_PREFIX "account "
#define MAX_HOST_LENGTH 253u

struct _SwConfig
{
  GKeyFile *keyfile;   /* the loaded file, comments kept; rewritten on save */
  GPtrArray *accounts; /* SwAccount* */
  char *authserv_id;
  gboolean demo;
  guint popup_verdicts; /* SW_CONFIG_VERDICT_BIT set */
  gboolean first_run_done;
  gboolean modified;
};

static const char *const tls_mode_names[] = { "implicit", "starttls", "none" };
G_STATIC_ASSERT (G_N_ELEMENTS (tls_mode_names) == SW_TLS_MODE_CONFIG_COUNT);

static const char *const general_keys[] = { "authserv-id", "demo", "popup-verdicts", "first-run-done", NULL };
#define ALL_VERDICT_BITS ((1u << SW_VERDICT_COUNT) - 1)
static const char *const account_keys[]
    = { "protocol", "listen-port",    "upstream-host", "upstream-port",
        "tls",      "provider-hosts", "trusted-hops",  "trusted-authserv-ids",
        "read-ahead", NULL };

const char *
sw_tls_mode_config_to_string (SwTlsModeConfig mode)
{
  if ((guint)mode >= SW_TLS_MODE_CONFIG_COUNT)
    return "unknown";
  return tls_mode_names[mode];
}

gboolean
sw_tls_mode_config_from_string (const char *word, SwTlsModeConfig *out)
{
  g_return_val_if_fail (out != NULL, FALSE);
  if (word == NULL)
    return FALSE;
  for (guint i = 0; i < SW_TLS_MODE_CONFIG_COUNT; i++)
    if (g_ascii_strcasecmp (word, tls_mode_names[i]) == 0)
      {
        *out = (SwTlsModeConfig)i;
        return TRUE;
      }
  return FALSE;
}

/* Accounts */

SwAccount *
sw_account_new (void)
{
  SwAccount *a = g_new0 (SwAccount, 1);
  a->protocol = g_strdup ("pop3");
  a->tls = SW_TLS_MODE_CONFIG_IMPLICIT;
  a->read_ahead = SW_CONFIG_DEFAULT_READ_AHEAD;
  return a;
}

SwAccount *
sw_account_copy (const SwAccount *account)
{
  g_return_val_if_fail (account != NULL, NULL);
  SwAccount *a = g_new0 (SwAccount, 1);
  a->name = g_strdup (account->name);
  a->protocol = g_strdup (account->protocol);
  a->listen_port = account->listen_port;
  a->upstream_host = g_strdup (account->upstream_host);
  a->upstream_port = account->upstream_port;
  a->tls = account->tls;
  a->provider_hosts = g_strdupv (account->provider_hosts);
  a->trusted_hops = account->trusted_hops;
  a->trusted_authserv_ids = g_strdupv (account->trusted_authserv_ids);
  a->read_ahead = account->read_ahead;
  return a;
}

void
sw_account_free (SwAccount *account)
{
  if (account == NULL)
    return;
  g_free (account->name);
  g_free (account->protocol);
  g_free (account->upstream_host);
  g_strfreev (account->provider_hosts);
  g_strfreev (account->trusted_authserv_ids);
  g_free (account);
}

static gboolean
chars_in_set (const char *s, const char *extra)
{
  for (const char *p = s; *p; p++)
    if (!g_ascii_isalnum (*p) && strchr (extra, *p) == NULL)
      return FALSE;
  return TRUE;
}

static gboolean
name_is_valid (const char *name)
{
  return name != NULL && *name != '\0' && strlen (name) <= SW_CONFIG_MAX_NAME && chars_in_set (name, "._-");
}

/* An authserv-id we accept in the file: a host-name-like token (RFC 8601 allows any
 * value, but ours and the providers' are host names or our "spoofwatch-..." form). */
static gboolean
authserv_id_is_valid (const char *id)
{
  return id != NULL && *id != '\0' && strlen (id) <= MAX_HOST_LENGTH && chars_in_set (id, "._-");
}

static gboolean
host_is_valid (const char *host)
{
  if (host == NULL || *host == '\0' || strlen (host) > MAX_HOST_LENGTH)
    return FALSE;
  if (g_hostname_is_ip_address (host))
    return TRUE;
  g_autofree char *ascii = g_hostname_to_ascii (host);
  if (ascii == NULL || !chars_in_set (ascii, ".-_"))
    return FALSE;
  g_auto (GStrv) labels = g_strsplit (ascii, ".", -1);
  guint n = g_strv_length (labels);
  for (guint i = 0; i < n; i++)
    {
      gsize len = strlen (labels[i]);
      /* A trailing dot leaves one empty last label. */
      if ((len == 0 && !(i == n - 1 && i > 0)) || len > SW_MAX_LABEL_LENGTH)
        return FALSE;
    }
  return TRUE;
}

static gboolean
host_is_loopback (const char *host)
{
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (host);
  if (addr != NULL)
    return g_inet_address_get_is_loopback (addr);
  return g_ascii_strcasecmp (host, "localhost") == 0 || g_ascii_strcasecmp (host, "localhost.") == 0;
}

/* Checks @a; on failure sets @error to "KEY: problem" and *@bad_key to the key. */
static gboolean
account_check (const SwAccount *a, const char **bad_key, GError **error)
{
#define FAIL(key, ...)                                                                                       \
  G_STMT_START                                                                                               \
  {                                                                                                          \
    *bad_key = key;                                                                                          \
    g_autofree char *msg_ = g_strdup_printf (__VA_ARGS__);                                                   \
    g_set_error (error, SW_CONFIG_ERROR, SW_CONFIG_ERROR_INVALID, "%s: %s", key, msg_);                      \
    return FALSE;                                                                                            \
  }                                                                                                          \
  G_STMT_END

  *bad_key = NULL;
  if (!name_is_valid (a->name))
    FAIL ("name", "an account name is 1 to %u letters, digits, '.', '_' or '-'", SW_CONFIG_MAX_NAME);
  if (a->protocol == NULL)
    FAIL ("protocol", "missing (use pop3)");
  if (g_ascii_strcasecmp (a->protocol, "pop3") != 0)
    {
      g_autofree char *shown = sw_sanitize_for_log (a->protocol, -1, 40);
      FAIL ("protocol", "\"%s\" is not supported (use pop3)", shown);
    }
  if (a->listen_port < 1024)
    FAIL ("listen-port", "missing or below 1024 (use a port from 1024 to 65535)");
  if (a->upstream_host == NULL || *a->upstream_host == '\0')
    FAIL ("upstream-host", "missing (the real mail server, e.g. pop.example.net)");
  if (!host_is_valid (a->upstream_host))
    {
      g_autofree char *shown = sw_sanitize_for_log (a->upstream_host, -1, 80);
      FAIL ("upstream-host", "\"%s\" is not a host name or IP address", shown);
    }
  if (a->upstream_port == 0)
    FAIL ("upstream-port", "missing or 0 (use 995 for implicit TLS, 110 for starttls)");
  if ((guint)a->tls >= SW_TLS_MODE_CONFIG_COUNT)
    FAIL ("tls", "unknown mode (use implicit, starttls or none)");
  if (a->tls == SW_TLS_MODE_CONFIG_NONE && !host_is_loopback (a->upstream_host))
    FAIL ("tls",
          "none is allowed only to a loopback upstream (127.0.0.1, ::1, localhost), not to %s: "
          "use implicit or starttls",
          a->upstream_host);
  for (guint i = 0; a->provider_hosts != NULL && a->provider_hosts[i] != NULL; i++)
    {
      const char *p = a->provider_hosts[i];
      if (*p == '\0' || strlen (p) > MAX_HOST_LENGTH || !chars_in_set (p, ".-_*?"))
        {
          g_autofree char *shown = sw_sanitize_for_log (p, -1, 80);
          FAIL ("provider-hosts", "\"%s\" is not a host name pattern (letters, digits, '.', '-', '*', '?')",
                shown);
        }
    }
  if (a->trusted_hops < 0 || a->trusted_hops > (int)SW_MAX_RECEIVED_FIELDS)
    FAIL ("trusted-hops", "%d is out of range (0 for automatic, or 1 to %u)", a->trusted_hops,
          SW_MAX_RECEIVED_FIELDS);
  if (a->read_ahead < 0 || a->read_ahead > SW_CONFIG_MAX_READ_AHEAD)
    FAIL ("read-ahead", "%d is out of range (0 for off, or 1 to %d messages)", a->read_ahead,
          SW_CONFIG_MAX_READ_AHEAD);
  for (guint i = 0; a->trusted_authserv_ids != NULL && a->trusted_authserv_ids[i] != NULL; i++)
    if (!authserv_id_is_valid (a->trusted_authserv_ids[i]))
      {
        g_autofree char *shown = sw_sanitize_for_log (a->trusted_authserv_ids[i], -1, 80);
        FAIL ("trusted-authserv-ids", "\"%s\" is not an authserv-id (a host name such as mx.example.net)",
              shown);
      }
  return TRUE;
#undef FAIL
}

gboolean
sw_account_validate (const SwAccount *account, GError **error)
{
  g_return_val_if_fail (account != NULL, FALSE);
  const char *bad_key;
  g_autoptr (GError) local = NULL;
  if (account_check (account, &bad_key, &local))
    return TRUE;
  g_autofree char *name = account->name ? sw_sanitize_for_log (account->name, -1, SW_CONFIG_MAX_NAME) : NULL;
  g_set_error (error, SW_CONFIG_ERROR, SW_CONFIG_ERROR_INVALID, "account \"%s\": %s", name ? name : "",
               local->message);
  return FALSE;
}

/* Loading */

typedef struct
{
  const char *path;
  const char *text;
  GKeyFile *kf;
} Loader;

static char *
trim_copy (const char *start, const char *end)
{
  while (start < end && g_ascii_isspace (*start))
    start++;
  while (end > start && g_ascii_isspace (end[-1]))
    end--;
  return g_strndup (start, end - start);
}

/* 1-based line of @key in group @group of the loader's text (the last occurrence, as
 * GKeyFile keeps the last value); of the group header when @key is NULL or absent; 0
 * when the group is not found. */
static guint
find_line (const Loader *l, const char *group, const char *key)
{
  guint line = 0, group_line = 0, key_line = 0;
  gboolean in_group = FALSE;
  const char *p = l->text;
  while (*p)
    {
      const char *eol = strchr (p, '\n');
      const char *end = eol ? eol : p + strlen (p);
      line++;
      g_autofree char *t = trim_copy (p, end);
      if (t[0] == '[')
        {
          char *close = strrchr (t, ']');
          g_autofree char *name = close ? g_strndup (t + 1, close - t - 1) : NULL;
          in_group = name != NULL && g_strcmp0 (name, group) == 0;
          if (in_group && group_line == 0)
            group_line = line;
        }
      else if (in_group && key != NULL && t[0] != '#')
        {
          const char *eq = strchr (t, '=');
          if (eq != NULL)
            {
              g_autofree char *k = trim_copy (t, eq);
              if (strcmp (k, key) == 0)
                key_line = line;
            }
        }
      if (!eol)
        break;
      p = eol + 1;
    }
  return key_line ? key_line : group_line;
}

static gboolean G_GNUC_PRINTF (6, 7) loader_fail (const Loader *l, const char *group, const char *key,
                                                  int code, GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  guint line = group ? find_line (l, group, key) : 0;
  g_autofree char *where = line ? g_strdup_printf ("%s:%u", l->path, line) : g_strdup (l->path);
  if (group)
    g_set_error (error, SW_CONFIG_ERROR, code, "%s: [%s] %s", where, group, msg);
  else
    g_set_error (error, SW_CONFIG_ERROR, code, "%s: %s", where, msg);
  return FALSE;
}

/* GKeyFile names no line in its errors: find the first line it would reject. */
static gboolean
check_syntax (const Loader *l, GError **error)
{
  guint line = 0;
  gboolean seen_group = FALSE;
  const char *p = l->text;
  if (!g_utf8_validate (l->text, -1, NULL))
    return loader_fail (l, NULL, NULL, SW_CONFIG_ERROR_SYNTAX, error, "the file is not valid UTF-8 text");
  while (*p)
    {
      const char *eol = strchr (p, '\n');
      const char *end = eol ? eol : p + strlen (p);
      line++;
      g_autofree char *t = trim_copy (p, end);
      const char *problem = NULL;
      if (t[0] == '\0' || t[0] == '#')
        ;
      else if (t[0] == '[')
        {
          if (t[strlen (t) - 1] != ']' || strlen (t) < 3 || strpbrk (t + 1, "[]") != t + strlen (t) - 1)
            problem = "a group header is written [name]";
          else
            seen_group = TRUE;
        }
      else if (strchr (t, '=') == NULL || t[0] == '=')
        problem = "not a \"key=value\" line, a [group] header or a # comment";
      else if (!seen_group)
        problem = "a key before the first [group] header";
      if (problem)
        {
          g_set_error (error, SW_CONFIG_ERROR, SW_CONFIG_ERROR_SYNTAX, "%s:%u: %s", l->path, line, problem);
          return FALSE;
        }
      if (!eol)
        break;
      p = eol + 1;
    }
  return TRUE;
}

static gboolean
check_keys (const Loader *l, const char *group, const char *const *allowed, GError **error)
{
  g_auto (GStrv) keys = g_key_file_get_keys (l->kf, group, NULL, NULL);
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    if (!g_strv_contains (allowed, keys[i]))
      {
        g_autofree char *shown = sw_sanitize_for_log (keys[i], -1, 40);
        g_autofree char *known = g_strjoinv (", ", (char **)allowed);
        return loader_fail (l, group, keys[i], SW_CONFIG_ERROR_INVALID, error,
                            "unknown key \"%s\" (known keys: %s)", shown, known);
      }
  return TRUE;
}

static gboolean
read_port (const Loader *l, const char *group, const char *key, guint16 *out, GError **error)
{
  g_autofree char *v = g_key_file_get_value (l->kf, group, key, NULL);
  if (v == NULL)
    return TRUE;
  guint64 n;
  g_strstrip (v);
  if (!g_ascii_string_to_unsigned (v, 10, 1, 65535, &n, NULL))
    {
      g_autofree char *shown = sw_sanitize_for_log (v, -1, 40);
      return loader_fail (l, group, key, SW_CONFIG_ERROR_INVALID, error,
                          "%s: \"%s\" is not a port number (1 to 65535)", key, shown);
    }
  *out = (guint16)n;
  return TRUE;
}

static char **
read_list (const Loader *l, const char *group, const char *key)
{
  g_auto (GStrv) list = g_key_file_get_string_list (l->kf, group, key, NULL, NULL);
  if (list == NULL)
    return NULL;
  GPtrArray *out = g_ptr_array_new ();
  for (guint i = 0; list[i] != NULL; i++)
    {
      char *item = g_strstrip (g_strdup (list[i]));
      if (*item == '\0')
        {
          g_free (item);
          continue;
        }
      g_ptr_array_add (out, item);
    }
  if (out->len == 0)
    {
      g_ptr_array_free (out, TRUE);
      return NULL;
    }
  g_ptr_array_add (out, NULL);
  return (char **)g_ptr_array_free (out, FALSE);
}

static SwAccount *
load_account (const Loader *l, const char *group, GError **error)
{
  const char *name = group + strlen (GROUP_ACCOUNT_PREFIX);
  g_autoptr (SwAccount) a = sw_account_new ();
  a->name = g_strdup (name);
  if (!name_is_valid (name))
    {
      loader_fail (l, group, NULL, SW_CONFIG_ERROR_INVALID, error,
                   "an account name is 1 to %u letters, digits, '.', '_' or '-'", SW_CONFIG_MAX_NAME);
      return NULL;
    }
  if (!check_keys (l, group, account_keys, error))
    return NULL;

  g_autofree char *protocol = g_key_file_get_string (l->kf, group, "protocol", NULL);
  if (protocol != NULL)
    {
      g_free (a->protocol);
      a->protocol = g_strstrip (g_steal_pointer (&protocol));
    }
  g_autofree char *tls = g_key_file_get_string (l->kf, group, "tls", NULL);
  if (tls != NULL && !sw_tls_mode_config_from_string (g_strstrip (tls), &a->tls))
    {
      g_autofree char *shown = sw_sanitize_for_log (tls, -1, 40);
      loader_fail (l, group, "tls", SW_CONFIG_ERROR_INVALID, error,
                   "tls: unknown mode \"%s\" (use implicit, starttls or none)", shown);
      return NULL;
    }
  if (!read_port (l, group, "listen-port", &a->listen_port, error))
    return NULL;
  a->upstream_port = a->tls == SW_TLS_MODE_CONFIG_IMPLICIT ? 995 : 110;
  if (!read_port (l, group, "upstream-port", &a->upstream_port, error))
    return NULL;
  a->upstream_host = g_key_file_get_string (l->kf, group, "upstream-host", NULL);
  if (a->upstream_host)
    g_strstrip (a->upstream_host);
  a->provider_hosts = read_list (l, group, "provider-hosts");
  a->trusted_authserv_ids = read_list (l, group, "trusted-authserv-ids");
  g_autofree char *hops = g_key_file_get_value (l->kf, group, "trusted-hops", NULL);
  if (hops != NULL)
    {
      guint64 n;
      g_strstrip (hops);
      if (!g_ascii_string_to_unsigned (hops, 10, 0, SW_MAX_RECEIVED_FIELDS, &n, NULL))
        {
          g_autofree char *shown = sw_sanitize_for_log (hops, -1, 40);
          loader_fail (l, group, "trusted-hops", SW_CONFIG_ERROR_INVALID, error,
                       "trusted-hops: \"%s\" is not 0 (automatic) or a hop count from 1 to %u", shown,
                       SW_MAX_RECEIVED_FIELDS);
          return NULL;
        }
      a->trusted_hops = (int)n;
    }
  g_autofree char *ahead = g_key_file_get_value (l->kf, group, "read-ahead", NULL);
  if (ahead != NULL)
    {
      guint64 n;
      g_strstrip (ahead);
      if (!g_ascii_string_to_unsigned (ahead, 10, 0, SW_CONFIG_MAX_READ_AHEAD, &n, NULL))
        {
          g_autofree char *shown = sw_sanitize_for_log (ahead, -1, 40);
          loader_fail (l, group, "read-ahead", SW_CONFIG_ERROR_INVALID, error,
                       "read-ahead: \"%s\" is not 0 (off) or a number of messages from 1 to %d", shown,
                       SW_CONFIG_MAX_READ_AHEAD);
          return NULL;
        }
      a->read_ahead = (int)n;
    }

  const char *bad_key = NULL;
  g_autoptr (GError) local = NULL;
  if (!account_check (a, &bad_key, &local))
    {
      /* A missing key is reported at the group header. */
      const char *key = bad_key && g_key_file_has_key (l->kf, group, bad_key, NULL) ? bad_key : NULL;
      if (bad_key && strcmp (bad_key, "tls") == 0)
        key = g_key_file_has_key (l->kf, group, "tls", NULL) ? "tls" : "upstream-host";
      loader_fail (l, group, key, SW_CONFIG_ERROR_INVALID, error, "%s", local->message);
      return NULL;
    }
  return g_steal_pointer (&a);
}

static gboolean
load_general (const Loader *l, SwConfig *config, GError **error)
{
  if (!g_key_file_has_group (l->kf, GROUP_GENERAL))
    return TRUE;
  if (!check_keys (l, GROUP_GENERAL, general_keys, error))
    return FALSE;
  g_autofree char *id = g_key_file_get_string (l->kf, GROUP_GENERAL, "authserv-id", NULL);
  if (id != NULL)
    {
      g_strstrip (id);
      if (!authserv_id_is_valid (id))
        return loader_fail (l, GROUP_GENERAL, "authserv-id", SW_CONFIG_ERROR_INVALID, error,
                            "authserv-id: not a valid id (letters, digits, '.', '_', '-'); delete the line "
                            "to get a new one");
      g_free (config->authserv_id);
      config->authserv_id = g_steal_pointer (&id);
    }
  if (g_key_file_has_key (l->kf, GROUP_GENERAL, "demo", NULL))
    {
      g_autoptr (GError) local = NULL;
      gboolean demo = g_key_file_get_boolean (l->kf, GROUP_GENERAL, "demo", &local);
      if (local != NULL)
        return loader_fail (l, GROUP_GENERAL, "demo", SW_CONFIG_ERROR_INVALID, error,
                            "demo: use true or false");
      config->demo = demo;
    }
  if (g_key_file_has_key (l->kf, GROUP_GENERAL, "first-run-done", NULL))
    {
      g_autoptr (GError) local = NULL;
      gboolean done = g_key_file_get_boolean (l->kf, GROUP_GENERAL, "first-run-done", &local);
      if (local != NULL)
        return loader_fail (l, GROUP_GENERAL, "first-run-done", SW_CONFIG_ERROR_INVALID, error,
                            "first-run-done: use true or false");
      config->first_run_done = done;
    }
  if (g_key_file_has_key (l->kf, GROUP_GENERAL, "popup-verdicts", NULL))
    {
      g_auto (GStrv) words = read_list (l, GROUP_GENERAL, "popup-verdicts");
      guint bits = 0;
      for (guint i = 0; words != NULL && words[i] != NULL; i++)
        {
          SwVerdict v;
          if (!sw_verdict_from_string (words[i], &v))
            {
              g_autofree char *shown = sw_sanitize_for_log (words[i], -1, 40);
              return loader_fail (l, GROUP_GENERAL, "popup-verdicts", SW_CONFIG_ERROR_INVALID, error,
                                  "popup-verdicts: unknown verdict \"%s\" (use pass, none, fail-none, "
                                  "quarantine, reject, temperror, permerror)",
                                  shown);
            }
          bits |= SW_CONFIG_VERDICT_BIT (v);
        }
      config->popup_verdicts = bits;
    }
  return TRUE;
}

static SwConfig *
config_alloc (void)
{
  SwConfig *c = g_new0 (SwConfig, 1);
  c->keyfile = g_key_file_new ();
  c->accounts = g_ptr_array_new_with_free_func ((GDestroyNotify)sw_account_free);
  c->demo = TRUE;
  c->popup_verdicts = SW_CONFIG_DEFAULT_POPUP_VERDICTS;
  return c;
}

SwConfig *
sw_config_new (void)
{
  SwConfig *c = config_alloc ();
  c->authserv_id = sw_authres_new_authserv_id ();
  c->modified = TRUE;
  return c;
}

SwConfig *
sw_config_load (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_autofree char *text = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;
  if (!g_file_get_contents (path, &text, &len, &local))
    {
      int code = g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? SW_CONFIG_ERROR_NOT_FOUND
                                                                           : SW_CONFIG_ERROR_IO;
      g_set_error (error, SW_CONFIG_ERROR, code, "%s", local->message);
      return NULL;
    }
  if (len > SW_CONFIG_MAX_FILE_SIZE || memchr (text, '\0', len) != NULL)
    {
      g_set_error (error, SW_CONFIG_ERROR, SW_CONFIG_ERROR_IO, "%s: not a configuration file (%s)", path,
                   len > SW_CONFIG_MAX_FILE_SIZE ? "over 1 MiB" : "binary data");
      return NULL;
    }

  g_autoptr (SwConfig) config = config_alloc ();
  Loader l = { .path = path, .text = text, .kf = config->keyfile };
  if (!check_syntax (&l, error))
    return NULL;
  if (!g_key_file_load_from_data (config->keyfile, text, len, G_KEY_FILE_KEEP_COMMENTS, &local))
    {
      g_set_error (error, SW_CONFIG_ERROR, SW_CONFIG_ERROR_SYNTAX, "%s: %s", path, local->message);
      return NULL;
    }
  if (!load_general (&l, config, error))
    return NULL;

  g_auto (GStrv) groups = g_key_file_get_groups (config->keyfile, NULL);
  for (guint i = 0; groups[i] != NULL; i++)
    {
      const char *g = groups[i];
      if (strcmp (g, GROUP_GENERAL) == 0)
        continue;
      if (!g_str_has_prefix (g, GROUP_ACCOUNT_PREFIX))
        {
          g_autofree char *shown = sw_sanitize_for_log (g, -1, 60);
          loader_fail (&l, g, NULL, SW_CONFIG_ERROR_INVALID, error,
                       "unknown group [%s] (groups are [general] and [account NAME])", shown);
          return NULL;
        }
      g_autoptr (SwAccount) a = load_account (&l, g, error);
      if (a == NULL)
        return NULL;
      if (config->accounts->len >= SW_CONFIG_MAX_ACCOUNTS)
        {
          loader_fail (&l, g, NULL, SW_CONFIG_ERROR_INVALID, error, "more than %u accounts",
                       SW_CONFIG_MAX_ACCOUNTS);
          return NULL;
        }
      for (guint j = 0; j < config->accounts->len; j++)
        {
          const SwAccount *other = g_ptr_array_index (config->accounts, j);
          if (other->listen_port == a->listen_port)
            {
              loader_fail (&l, g, "listen-port", SW_CONFIG_ERROR_INVALID, error,
                           "listen-port: %u is already the port of account \"%s\"", a->listen_port,
                           other->name);
              return NULL;
            }
        }
      g_ptr_array_add (config->accounts, g_steal_pointer (&a));
    }

  if (config->authserv_id == NULL)
    {
      config->authserv_id = sw_authres_new_authserv_id ();
      config->modified = TRUE;
    }
  return g_steal_pointer (&config);
}

/* Saving */

static void
set_or_remove_list (GKeyFile *kf, const char *group, const char *key, char **list)
{
  if (list != NULL && list[0] != NULL)
    g_key_file_set_string_list (kf, group, key, (const char *const *)list, g_strv_length (list));
  else if (g_key_file_has_key (kf, group, key, NULL))
    g_key_file_remove_key (kf, group, key, NULL);
}

static void
sync_keyfile (SwConfig *config)
{
  GKeyFile *kf = config->keyfile;
  g_key_file_set_string (kf, GROUP_GENERAL, "authserv-id", config->authserv_id);
  g_key_file_set_boolean (kf, GROUP_GENERAL, "demo", config->demo);
  const char *words[SW_VERDICT_COUNT + 1] = { NULL };
  gsize n = 0;
  for (int v = 0; v < SW_VERDICT_COUNT; v++)
    if (config->popup_verdicts & SW_CONFIG_VERDICT_BIT (v))
      words[n++] = sw_verdict_to_string ((SwVerdict)v);
  g_key_file_set_string_list (kf, GROUP_GENERAL, "popup-verdicts", words, n);
  if (config->first_run_done)
    g_key_file_set_boolean (kf, GROUP_GENERAL, "first-run-done", TRUE);
  else if (g_key_file_has_key (kf, GROUP_GENERAL, "first-run-done", NULL))
    g_key_file_remove_key (kf, GROUP_GENERAL, "first-run-done", NULL);

  g_auto (GStrv) groups = g_key_file_get_groups (kf, NULL);
  for (guint i = 0; groups[i] != NULL; i++)
    if (g_str_has_prefix (groups[i], GROUP_ACCOUNT_PREFIX)
        && sw_config_find_account (config, groups[i] + strlen (GROUP_ACCOUNT_PREFIX)) == NULL)
      g_key_file_remove_group (kf, groups[i], NULL);

  for (guint i = 0; i < config->accounts->len; i++)
    {
      const SwAccount *a = g_ptr_array_index (config->accounts, i);
      g_autofree char *group = g_strconcat (GROUP_ACCOUNT_PREFIX, a->name, NULL);
      g_key_file_set_string (kf, group, "protocol", a->protocol);
      g_key_file_set_integer (kf, group, "listen-port", a->listen_port);
      g_key_file_set_string (kf, group, "upstream-host", a->upstream_host);
      g_key_file_set_integer (kf, group, "upstream-port", a->upstream_port);
      g_key_file_set_string (kf, group, "tls", sw_tls_mode_config_to_string (a->tls));
      set_or_remove_list (kf, group, "provider-hosts", a->provider_hosts);
      if (a->trusted_hops > 0)
        g_key_file_set_integer (kf, group, "trusted-hops", a->trusted_hops);
      else if (g_key_file_has_key (kf, group, "trusted-hops", NULL))
        g_key_file_remove_key (kf, group, "trusted-hops", NULL);
      set_or_remove_list (kf, group, "trusted-authserv-ids", a->trusted_authserv_ids);
      if (a->read_ahead != SW_CONFIG_DEFAULT_READ_AHEAD)
        g_key_file_set_integer (kf, group, "read-ahead", a->read_ahead);
      else if (g_key_file_has_key (kf, group, "read-ahead", NULL))
        g_key_file_remove_key (kf, group, "read-ahead", NULL);
    }
}

gboolean
sw_config_save (SwConfig *config, const char *path, GError **error)
{
  g_return_val_if_fail (config != NULL && path != NULL, FALSE);
  sync_keyfile (config);
  g_autofree char *dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, SW_CONFIG_ERROR, SW_CONFIG_ERROR_IO, "cannot create folder %s: %s", dir,
                   g_strerror (saved));
      return FALSE;
    }
  gsize len = 0;
  g_autofree char *data = g_key_file_to_data (config->keyfile, &len, NULL);
  g_autoptr (GError) local = NULL;
  if (!g_file_set_contents_full (path, data, (gssize)len, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &local))
    {
      g_set_error (error, SW_CONFIG_ERROR, SW_CONFIG_ERROR_IO, "%s", local->message);
      return FALSE;
    }
  config->modified = FALSE;
  return TRUE;
}

gboolean
sw_config_is_modified (SwConfig *config)
{
  g_return_val_if_fail (config != NULL, FALSE);
  return config->modified;
}

void
sw_config_free (SwConfig *config)
{
  if (config == NULL)
    return;
  g_key_file_unref (config->keyfile);
  g_ptr_array_unref (config->accounts);
  g_free (config->authserv_id);
  g_free (config);
}

char *
sw_config_default_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "spoofwatch", "spoofwatch.conf", NULL);
}

gboolean
sw_config_add_account (SwConfig *config, const SwAccount *account, GError **error)
{
  g_return_val_if_fail (config != NULL && account != NULL, FALSE);
  if (!sw_account_validate (account, error))
    return FALSE;
  if (config->accounts->len >= SW_CONFIG_MAX_ACCOUNTS)
    {
      g_set_error (error, SW_CONFIG_ERROR, SW_CONFIG_ERROR_INVALID, "there are %u accounts already",
                   SW_CONFIG_MAX_ACCOUNTS);
      return FALSE;
    }
  for (guint i = 0; i < config->accounts->len; i++)
    {
      const SwAccount *other = g_ptr_array_index (config->accounts, i);
      if (strcmp (other->name, account->name) == 0)
        {
          g_set_error (error, SW_CONFIG_ERROR, SW_CONFIG_ERROR_INVALID,
                       "an account named \"%s\" exists already", account->name);
          return FALSE;
        }
      if (other->listen_port == account->listen_port)
        {
          g_set_error (error, SW_CONFIG_ERROR, SW_CONFIG_ERROR_INVALID,
                       "account \"%s\": listen-port: %u is already the port of account \"%s\"", account->name,
                       account->listen_port, other->name);
          return FALSE;
        }
    }
  SwAccount *copy = sw_account_copy (account);
  /* Stored in canonical form. */
  char *lower = g_ascii_strdown (copy->protocol, -1);
  g_free (copy->protocol);
  copy->protocol = lower;
  g_ptr_array_add (config->accounts, copy);
  config->modified = TRUE;
  return TRUE;
}

GPtrArray *
sw_config_get_accounts (SwConfig *config)
{
  g_return_val_if_fail (config != NULL, NULL);
  return config->accounts;
}

const SwAccount *
sw_config_find_account (SwConfig *config, const char *name)
{
  g_return_val_if_fail (config != NULL && name != NULL, NULL);
  for (guint i = 0; i < config->accounts->len; i++)
    {
      const SwAccount *a = g_ptr_array_index (config->accounts, i);
      if (strcmp (a->name, name) == 0)
        return a;
    }
  return NULL;
}

const char *
sw_config_get_authserv_id (SwConfig *config)
{
  g_return_val_if_fail (config != NULL, NULL);
  return config->authserv_id;
}

gboolean
sw_config_get_demo (SwConfig *config)
{
  g_return_val_if_fail (config != NULL, FALSE);
  return config->demo;
}

void
sw_config_set_demo (SwConfig *config, gboolean demo)
{
  g_return_if_fail (config != NULL);
  if (config->demo != demo)
    config->modified = TRUE;
  config->demo = demo;
}

/* Conflicts of @account with the accounts other than the one at @skip (-1: none). */
static gboolean
check_conflicts (SwConfig *config, const SwAccount *account, int skip, GError **error)
{
  for (guint i = 0; i < config->accounts->len; i++)
    {
      if ((int)i == skip)
        continue;
      const SwAccount *other = g_ptr_array_index (config->accounts, i);
      if (strcmp (other->name, account->name) == 0)
        {
          g_set_error (error, SW_CONFIG_ERROR, SW_CONFIG_ERROR_INVALID,
                       "an account named \"%s\" exists already", account->name);
          return FALSE;
        }
      if (other->listen_port == account->listen_port)
        {
          g_set_error (error, SW_CONFIG_ERROR, SW_CONFIG_ERROR_INVALID,
                       "account \"%s\": listen-port: %u is already the port of account \"%s\"", account->name,
                       account->listen_port, other->name);
          return FALSE;
        }
    }
  return TRUE;
}

static int
account_index (SwConfig *config, const char *name)
{
  for (guint i = 0; i < config->accounts->len; i++)
    if (strcmp (((const SwAccount *)g_ptr_array_index (config->accounts, i))->name, name) == 0)
      return (int)i;
  return -1;
}

gboolean
sw_config_replace_account (SwConfig *config, const char *old_name, const SwAccount *account, GError **error)
{
  g_return_val_if_fail (config != NULL && old_name != NULL && account != NULL, FALSE);
  int at = account_index (config, old_name);
  if (at < 0)
    {
      g_set_error (error, SW_CONFIG_ERROR, SW_CONFIG_ERROR_INVALID, "there is no account named \"%s\"",
                   old_name);
      return FALSE;
    }
  if (!sw_account_validate (account, error) || !check_conflicts (config, account, at, error))
    return FALSE;
  SwAccount *copy = sw_account_copy (account);
  char *lower = g_ascii_strdown (copy->protocol, -1);
  g_free (copy->protocol);
  copy->protocol = lower;
  sw_account_free (config->accounts->pdata[at]);
  config->accounts->pdata[at] = copy;
  config->modified = TRUE;
  return TRUE;
}

gboolean
sw_config_remove_account (SwConfig *config, const char *name)
{
  g_return_val_if_fail (config != NULL && name != NULL, FALSE);
  int at = account_index (config, name);
  if (at < 0)
    return FALSE;
  g_ptr_array_remove_index (config->accounts, (guint)at);
  config->modified = TRUE;
  return TRUE;
}

guint
sw_config_get_popup_verdicts (SwConfig *config)
{
  g_return_val_if_fail (config != NULL, 0);
  return config->popup_verdicts;
}

void
sw_config_set_popup_verdicts (SwConfig *config, guint verdict_bits)
{
  g_return_if_fail (config != NULL);
  verdict_bits &= ALL_VERDICT_BITS;
  if (config->popup_verdicts != verdict_bits)
    config->modified = TRUE;
  config->popup_verdicts = verdict_bits;
}

gboolean
sw_config_get_first_run_done (SwConfig *config)
{
  g_return_val_if_fail (config != NULL, FALSE);
  return config->first_run_done;
}

void
sw_config_set_first_run_done (SwConfig *config, gboolean done)
{
  g_return_if_fail (config != NULL);
  if (config->first_run_done != done)
    config->modified = TRUE;
  config->first_run_done = done;
}
