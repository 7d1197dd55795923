#define G_LOG_DOMAIN "sw-test-config"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sw-config.h"

/* A temporary folder per test, removed at the end. */
typedef struct
{
  char *dir;
  char *path;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  f->dir = g_dir_make_tmp ("sw-test-config-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "sub", "spoofwatch.conf", NULL);
}

static void
remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
      const char *name;
      while (d && (name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          remove_tree (child);
        }
    }
  g_remove (path);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->path);
}

static void
write_file (const char *path, const char *text)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_autoptr (GError) error = NULL;
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

static SwAccount *
make_account (const char *name, guint16 port)
{
  SwAccount *a = sw_account_new ();
  a->name = g_strdup (name);
  a->listen_port = port;
  a->upstream_host = g_strdup ("pop.example.net");
  a->upstream_port = 995;
  return a;
}

/* An account with every field set survives save and load unchanged; hand-written
 * comments survive too. */
static void
test_round_trip (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SwConfig) c = sw_config_new ();
  g_assert_true (sw_config_is_modified (c));
  g_assert_true (g_str_has_prefix (sw_config_get_authserv_id (c), "spoofwatch-"));
  g_assert_cmpuint (strlen (sw_config_get_authserv_id (c)), ==, strlen ("spoofwatch-") + 16);
  g_assert_true (sw_config_get_demo (c));

  g_autoptr (SwAccount) a = make_account ("work", 11995);
  a->tls = SW_TLS_MODE_CONFIG_STARTTLS;
  a->upstream_port = 110;
  a->provider_hosts = g_strsplit ("*.mail.example.net,mx?.example.net", ",", -1);
  a->trusted_hops = 2;
  a->trusted_authserv_ids = g_strsplit ("mx.example.net,example.net", ",", -1);
  g_assert_cmpint (a->read_ahead, ==, SW_CONFIG_DEFAULT_READ_AHEAD);
  a->read_ahead = 0;
  g_assert_true (sw_config_add_account (c, a, &error));
  g_assert_no_error (error);
  g_autoptr (SwAccount) b = make_account ("home.local", 11996);
  b->upstream_host = (g_free (b->upstream_host), g_strdup ("::1"));
  b->tls = SW_TLS_MODE_CONFIG_NONE;
  g_assert_true (sw_config_add_account (c, b, &error));
  sw_config_set_demo (c, FALSE);
  g_assert_true (sw_config_save (c, f->path, &error));
  g_assert_no_error (error);
  g_assert_false (sw_config_is_modified (c));

  /* A comment added by hand survives a load/save. */
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (f->path, &text, NULL, NULL));
  g_autofree char *commented = g_strconcat ("# my notes\n", text, NULL);
  write_file (f->path, commented);

  g_autoptr (SwConfig) c2 = sw_config_load (f->path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (c2);
  g_assert_false (sw_config_is_modified (c2));
  g_assert_cmpstr (sw_config_get_authserv_id (c2), ==, sw_config_get_authserv_id (c));
  g_assert_false (sw_config_get_demo (c2));
  GPtrArray *accounts = sw_config_get_accounts (c2);
  g_assert_cmpuint (accounts->len, ==, 2);
  const SwAccount *w = g_ptr_array_index (accounts, 0);
  g_assert_cmpstr (w->name, ==, "work");
  g_assert_cmpstr (w->protocol, ==, "pop3");
  g_assert_cmpuint (w->listen_port, ==, 11995);
  g_assert_cmpstr (w->upstream_host, ==, "pop.example.net");
  g_assert_cmpuint (w->upstream_port, ==, 110);
  g_assert_cmpint (w->tls, ==, SW_TLS_MODE_CONFIG_STARTTLS);
  g_assert_cmpstrv (w->provider_hosts,
                    ((const char *const[]){ "*.mail.example.net", "mx?.example.net", NULL }));
  g_assert_cmpint (w->trusted_hops, ==, 2);
  g_assert_cmpint (w->read_ahead, ==, 0);
  g_assert_cmpstrv (w->trusted_authserv_ids,
                    ((const char *const[]){ "mx.example.net", "example.net", NULL }));
  const SwAccount *h = sw_config_find_account (c2, "home.local");
  g_assert_nonnull (h);
  g_assert_cmpstr (h->upstream_host, ==, "::1");
  g_assert_cmpint (h->tls, ==, SW_TLS_MODE_CONFIG_NONE);
  g_assert_null (h->provider_hosts);
  g_assert_null (h->trusted_authserv_ids);
  g_assert_cmpint (h->trusted_hops, ==, 0);
  g_assert_cmpint (h->read_ahead, ==, SW_CONFIG_DEFAULT_READ_AHEAD);
  g_assert_null (sw_config_find_account (c2, "nobody"));

  g_assert_true (sw_config_save (c2, f->path, &error));
  g_autofree char *text2 = NULL;
  g_assert_true (g_file_get_contents (f->path, &text2, NULL, NULL));
  g_assert_nonnull (strstr (text2, "# my notes"));
}

/* Saved files are 0600 and a created folder 0700, even with a permissive umask. */
static void
test_file_mode (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SwConfig) c = sw_config_new ();
  mode_t old = umask (0);
  gboolean ok = sw_config_save (c, f->path, &error);
  umask (old);
  g_assert_no_error (error);
  g_assert_true (ok);
  GStatBuf st;
  g_assert_cmpint (g_stat (f->path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_autofree char *dir = g_path_get_dirname (f->path);
  g_assert_cmpint (g_stat (dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);

  /* Rewriting a file that was made world-readable by hand makes it 0600 again. */
  g_assert_cmpint (g_chmod (f->path, 0644), ==, 0);
  g_assert_true (sw_config_save (c, f->path, &error));
  g_assert_cmpint (g_stat (f->path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
}

/* Defaults: a minimal account; a file without authserv-id gets one (and says so). */
static void
test_defaults (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  write_file (f->path, "[account a]\nlisten-port=12000\nupstream-host=pop.example.net\n\n"
                       "[account b]\nlisten-port=12001\nupstream-host=localhost\ntls=None\n");
  g_autoptr (SwConfig) c = sw_config_load (f->path, &error);
  g_assert_no_error (error);
  g_assert_true (sw_config_is_modified (c));
  g_assert_true (g_str_has_prefix (sw_config_get_authserv_id (c), "spoofwatch-"));
  g_assert_true (sw_config_get_demo (c));
  const SwAccount *a = sw_config_find_account (c, "a");
  g_assert_cmpint (a->tls, ==, SW_TLS_MODE_CONFIG_IMPLICIT);
  g_assert_cmpuint (a->upstream_port, ==, 995);
  g_assert_cmpstr (a->protocol, ==, "pop3");
  const SwAccount *b = sw_config_find_account (c, "b");
  g_assert_cmpint (b->tls, ==, SW_TLS_MODE_CONFIG_NONE);
  g_assert_cmpuint (b->upstream_port, ==, 110);
  g_assert_cmpint (a->read_ahead, ==, SW_CONFIG_DEFAULT_READ_AHEAD);

  g_autoptr (SwConfig) missing = sw_config_load ("/nonexistent/spoofwatch.conf", &error);
  g_assert_null (missing);
  g_assert_error (error, SW_CONFIG_ERROR, SW_CONFIG_ERROR_NOT_FOUND);
}

/* Every validation rule of a loaded file: the error names the file, the line and the key. */
typedef struct
{
  const char *name;
  const char *text;
  int code;
  const char *expect; /* substring of the message after "PATH" */
} BadCase;

#define GOOD_ACCOUNT "[account work]\nlisten-port=11995\nupstream-host=pop.example.net\n"

static const BadCase bad_cases[] = {
  { "garbage-line", "[general]\nthis is not a key\n", SW_CONFIG_ERROR_SYNTAX,
    ":2: not a \"key=value\" line" },
  { "key-before-group", "# c\nlisten-port=1\n", SW_CONFIG_ERROR_SYNTAX,
    ":2: a key before the first [group]" },
  { "bad-group-header", "[general\n", SW_CONFIG_ERROR_SYNTAX, ":1: a group header is written [name]" },
  { "empty-key", "[general]\n=x\n", SW_CONFIG_ERROR_SYNTAX, ":2: not a \"key=value\" line" },
  { "not-utf8", "[general]\ndemo=\xff\n", SW_CONFIG_ERROR_SYNTAX, "not valid UTF-8" },
  { "unknown-group", GOOD_ACCOUNT "\n[accounts x]\nfoo=1\n", SW_CONFIG_ERROR_INVALID,
    ":5: [accounts x] unknown group" },
  { "unknown-general-key", "[general]\ndemo=true\ncolour=red\n", SW_CONFIG_ERROR_INVALID,
    ":3: [general] unknown key \"colour\"" },
  { "bad-demo", "[general]\ndemo=maybe\n", SW_CONFIG_ERROR_INVALID, ":2: [general] demo: use true or false" },
  { "bad-authserv-id", "[general]\nauthserv-id=a b;c\n", SW_CONFIG_ERROR_INVALID,
    ":2: [general] authserv-id: not a valid id" },
  { "bad-account-name", "[account a/b]\nlisten-port=11995\n", SW_CONFIG_ERROR_INVALID,
    ":1: [account a/b] an account name is" },
  { "unknown-account-key", GOOD_ACCOUNT "upstream_port=995\n", SW_CONFIG_ERROR_INVALID,
    ":4: [account work] unknown key \"upstream_port\"" },
  { "protocol-imap", GOOD_ACCOUNT "protocol=imap\n", SW_CONFIG_ERROR_INVALID,
    ":4: [account work] protocol: \"imap\" is not supported" },
  { "missing-listen-port", "[account work]\nupstream-host=pop.example.net\n", SW_CONFIG_ERROR_INVALID,
    ":1: [account work] listen-port: missing" },
  { "listen-port-not-number", "[account work]\nupstream-host=pop.example.net\nlisten-port=11x\n",
    SW_CONFIG_ERROR_INVALID, ":3: [account work] listen-port: \"11x\" is not a port number" },
  { "listen-port-too-big", "[account work]\nlisten-port=70000\nupstream-host=pop.example.net\n",
    SW_CONFIG_ERROR_INVALID, ":2: [account work] listen-port: \"70000\" is not a port number" },
  { "listen-port-privileged", "[account work]\nlisten-port=110\nupstream-host=pop.example.net\n",
    SW_CONFIG_ERROR_INVALID, ":2: [account work] listen-port: missing or below 1024" },
  { "listen-port-duplicate",
    GOOD_ACCOUNT "[account home]\nupstream-host=pop.example.org\n\nlisten-port=11995\n",
    SW_CONFIG_ERROR_INVALID,
    ":7: [account home] listen-port: 11995 is already the port of account \"work\"" },
  { "missing-upstream-host", "[account work]\nlisten-port=11995\n", SW_CONFIG_ERROR_INVALID,
    ":1: [account work] upstream-host: missing" },
  { "bad-upstream-host", "[account work]\nlisten-port=11995\nupstream-host=pop example net\n",
    SW_CONFIG_ERROR_INVALID, ":3: [account work] upstream-host: \"pop example net\" is not a host name" },
  { "upstream-host-long-label",
    "[account work]\nlisten-port=11995\nupstream-host="
    "a234567890123456789012345678901234567890123456789012345678901234.example\n",
    SW_CONFIG_ERROR_INVALID, ":3: [account work] upstream-host:" },
  { "bad-upstream-port", GOOD_ACCOUNT "upstream-port=0\n", SW_CONFIG_ERROR_INVALID,
    ":4: [account work] upstream-port: \"0\" is not a port number" },
  { "bad-tls", GOOD_ACCOUNT "tls=ssl\n", SW_CONFIG_ERROR_INVALID,
    ":4: [account work] tls: unknown mode \"ssl\" (use implicit, starttls or none)" },
  { "tls-none-remote", GOOD_ACCOUNT "tls=none\n", SW_CONFIG_ERROR_INVALID,
    ":4: [account work] tls: none is allowed only to a loopback upstream" },
  { "tls-none-private-ip", "[account work]\nlisten-port=11995\nupstream-host=192.168.1.2\ntls=none\n",
    SW_CONFIG_ERROR_INVALID, ":4: [account work] tls: none is allowed only to a loopback upstream" },
  { "bad-provider-host", GOOD_ACCOUNT "provider-hosts=*.example.net;mx example;\n", SW_CONFIG_ERROR_INVALID,
    ":4: [account work] provider-hosts: \"mx example\" is not a host name pattern" },
  { "bad-trusted-hops", GOOD_ACCOUNT "trusted-hops=-1\n", SW_CONFIG_ERROR_INVALID,
    ":4: [account work] trusted-hops: \"-1\" is not 0 (automatic)" },
  { "too-many-trusted-hops", GOOD_ACCOUNT "trusted-hops=101\n", SW_CONFIG_ERROR_INVALID,
    ":4: [account work] trusted-hops: \"101\"" },
  { "bad-read-ahead", GOOD_ACCOUNT "read-ahead=some\n", SW_CONFIG_ERROR_INVALID,
    ":4: [account work] read-ahead: \"some\" is not 0 (off) or a number of messages from 1 to 256" },
  { "negative-read-ahead", GOOD_ACCOUNT "tls=implicit\nread-ahead=-1\n", SW_CONFIG_ERROR_INVALID,
    ":5: [account work] read-ahead: \"-1\"" },
  { "too-much-read-ahead", GOOD_ACCOUNT "read-ahead=257\n", SW_CONFIG_ERROR_INVALID,
    ":4: [account work] read-ahead: \"257\"" },
  { "trusted-authserv-ids-valid", GOOD_ACCOUNT "trusted-authserv-ids=mx.example.net;a;b\n", 0,
    NULL /* loads: a and b are ids */ },
  { "bad-trusted-authserv-id-2", GOOD_ACCOUNT "trusted-authserv-ids=mx.example.net;x(y)\n",
    SW_CONFIG_ERROR_INVALID, ":4: [account work] trusted-authserv-ids: \"x(y)\" is not an authserv-id" },
};

static void
test_validation_errors (Fixture *f, gconstpointer data)
{
  for (guint i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      const BadCase *bc = &bad_cases[i];
      g_test_message ("case %s", bc->name);
      write_file (f->path, bc->text);
      g_autoptr (GError) error = NULL;
      g_autoptr (SwConfig) c = sw_config_load (f->path, &error);
      if (bc->expect == NULL)
        {
          if (error != NULL)
            g_error ("case %s: unexpected error %s", bc->name, error->message);
          g_assert_nonnull (c);
          continue;
        }
      if (c != NULL || error == NULL)
        g_error ("case %s: loaded, expected an error", bc->name);
      if (!g_error_matches (error, SW_CONFIG_ERROR, bc->code))
        g_error ("case %s: error code %d, expected %d (%s)", bc->name, error->code, bc->code, error->message);
      if (!g_str_has_prefix (error->message, f->path) || strstr (error->message, bc->expect) == NULL)
        g_error ("case %s: message \"%s\" does not start with the path and contain \"%s\"", bc->name,
                 error->message, bc->expect);
    }
}

/* The same rules when an account is added by the program (--add-account). */
typedef struct
{
  const char *name;
  void (*mutate) (SwAccount *a);
  const char *expect;
} AddCase;

static void
m_name_empty (SwAccount *a)
{
  g_clear_pointer (&a->name, g_free);
  a->name = g_strdup ("");
}
static void
m_name_long (SwAccount *a)
{
  g_free (a->name);
  a->name = g_strnfill (65, 'x');
}
static void
m_protocol (SwAccount *a)
{
  g_free (a->protocol);
  a->protocol = g_strdup ("imap");
}
static void
m_port (SwAccount *a)
{
  a->listen_port = 80;
}
static void
m_host (SwAccount *a)
{
  g_clear_pointer (&a->upstream_host, g_free);
}
static void
m_upstream_port (SwAccount *a)
{
  a->upstream_port = 0;
}
static void
m_tls_none (SwAccount *a)
{
  a->tls = SW_TLS_MODE_CONFIG_NONE;
}
static void
m_tls_bad (SwAccount *a)
{
  a->tls = SW_TLS_MODE_CONFIG_COUNT;
}
static void
m_hops (SwAccount *a)
{
  a->trusted_hops = -3;
}
static void
m_read_ahead (SwAccount *a)
{
  a->read_ahead = SW_CONFIG_MAX_READ_AHEAD + 1;
}
static void
m_pattern (SwAccount *a)
{
  a->provider_hosts = g_strsplit ("ok.example;", ";", -1);
}
static void
m_authserv (SwAccount *a)
{
  a->trusted_authserv_ids = g_strsplit ("good.example bad;id", " ", -1);
}

static const AddCase add_cases[] = {
  { "name-empty", m_name_empty, "account \"\": name:" },
  { "name-long", m_name_long, ": name: an account name is 1 to 64" },
  { "protocol", m_protocol, "account \"work\": protocol: \"imap\" is not supported" },
  { "listen-port", m_port, "account \"work\": listen-port: missing or below 1024" },
  { "upstream-host", m_host, "account \"work\": upstream-host: missing" },
  { "upstream-port", m_upstream_port, "account \"work\": upstream-port: missing" },
  { "tls-none-remote", m_tls_none, "account \"work\": tls: none is allowed only to a loopback upstream" },
  { "tls-unknown", m_tls_bad, "account \"work\": tls: unknown mode" },
  { "trusted-hops", m_hops, "account \"work\": trusted-hops: -3 is out of range" },
  { "read-ahead", m_read_ahead, "account \"work\": read-ahead: 257 is out of range (0 for off, or 1 to 256 messages)" },
  { "provider-hosts-empty", m_pattern, "account \"work\": provider-hosts: \"\" is not a host name pattern" },
  { "trusted-authserv-ids", m_authserv, "account \"work\": trusted-authserv-ids: \"bad;id\"" },
};

static void
test_add_account_errors (Fixture *f, gconstpointer data)
{
  for (guint i = 0; i < G_N_ELEMENTS (add_cases); i++)
    {
      g_test_message ("case %s", add_cases[i].name);
      g_autoptr (SwConfig) c = sw_config_new ();
      g_autoptr (SwAccount) a = make_account ("work", 11995);
      add_cases[i].mutate (a);
      g_autoptr (GError) error = NULL;
      if (sw_config_add_account (c, a, &error))
        g_error ("case %s: added, expected an error", add_cases[i].name);
      if (!g_error_matches (error, SW_CONFIG_ERROR, SW_CONFIG_ERROR_INVALID)
          || strstr (error->message, add_cases[i].expect) == NULL)
        g_error ("case %s: \"%s\" does not contain \"%s\"", add_cases[i].name, error->message,
                 add_cases[i].expect);
      g_assert_cmpuint (sw_config_get_accounts (c)->len, ==, 0);
    }

  /* Duplicates: name and listen port. */
  g_autoptr (SwConfig) c = sw_config_new ();
  g_autoptr (SwAccount) a = make_account ("work", 11995);
  g_autoptr (GError) error = NULL;
  g_assert_true (sw_config_add_account (c, a, &error));
  g_autoptr (SwAccount) same_name = make_account ("work", 11996);
  g_assert_false (sw_config_add_account (c, same_name, &error));
  g_assert_error (error, SW_CONFIG_ERROR, SW_CONFIG_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "an account named \"work\" exists already"));
  g_clear_error (&error);
  g_autoptr (SwAccount) same_port = make_account ("home", 11995);
  g_assert_false (sw_config_add_account (c, same_port, &error));
  g_assert_nonnull (strstr (error->message, "11995 is already the port of account \"work\""));
  g_assert_cmpuint (sw_config_get_accounts (c)->len, ==, 1);
}

static void
test_tls_words (void)
{
  static const struct
  {
    const char *word;
    gboolean ok;
    SwTlsModeConfig mode;
  } cases[] = { { "implicit", TRUE, SW_TLS_MODE_CONFIG_IMPLICIT },
                { "STARTTLS", TRUE, SW_TLS_MODE_CONFIG_STARTTLS },
                { "none", TRUE, SW_TLS_MODE_CONFIG_NONE },
                { "stls", FALSE, 0 },
                { "", FALSE, 0 } };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      SwTlsModeConfig m = SW_TLS_MODE_CONFIG_COUNT;
      gboolean ok = sw_tls_mode_config_from_string (cases[i].word, &m);
      if (ok != cases[i].ok || (ok && m != cases[i].mode))
        g_error ("case %u (%s): wrong result", i, cases[i].word);
      g_autofree char *lower = g_ascii_strdown (cases[i].word, -1);
      if (ok)
        g_assert_cmpstr (sw_tls_mode_config_to_string (m), ==, lower);
    }
  g_assert_cmpstr (sw_tls_mode_config_to_string (SW_TLS_MODE_CONFIG_COUNT), ==, "unknown");
}

static void
test_default_path (void)
{
  g_autofree char *p = sw_config_default_path ();
  g_autofree char *expect
      = g_build_filename (g_get_user_config_dir (), "spoofwatch", "spoofwatch.conf", NULL);
  g_assert_cmpstr (p, ==, expect);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/app/config/round-trip", Fixture, NULL, fixture_set_up, test_round_trip, fixture_tear_down);
  g_test_add ("/app/config/file-mode", Fixture, NULL, fixture_set_up, test_file_mode, fixture_tear_down);
  g_test_add ("/app/config/defaults", Fixture, NULL, fixture_set_up, test_defaults, fixture_tear_down);
  g_test_add ("/app/config/validation/load", Fixture, NULL, fixture_set_up, test_validation_errors,
              fixture_tear_down);
  g_test_add ("/app/config/validation/add-account", Fixture, NULL, fixture_set_up, test_add_account_errors,
              fixture_tear_down);
  g_test_add_func ("/app/config/tls-words", test_tls_words);
  g_test_add_func ("/app/config/default-path", test_default_path);
  return g_test_run ();
}
