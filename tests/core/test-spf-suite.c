#define G_LOG_DOMAIN "sw-spf-test"
/* test-spf-suite: the openspf.org RFC 7208 test suite (tests/data/spf/rfc7208-tests.yml)
 * against sw-spf over the zone backend of SwResolver.
 *
 * tests/tools/spf-suite-to-zones.py (run by CTest as the fixture spf-suite-convert)
 * writes one zone per scenario and cases.ini into $SW_SPF_SUITE_DIR. Every case is a test
 * /core/spf/rfc7208/<test-id>. A result must be one of the suite's accepted results and,
 * where the suite gives one, the explanation must match ('DEFAULT' = our default
 * explanation expanded). Cases listed in tests/data/spf/KNOWN-DIFFERENCES.md (lines
 * "- `test-id`: cause") must still miss: a listed case that passes fails the test, so the
 * list stays exact. */
#include <string.h>
#include "sw-spf.h"

typedef struct {
  char    *id;
  char    *zone;
  char    *host;
  char    *helo;
  char    *mailfrom;
  GStrv    results;
  char    *explanation;  /* NULL if the suite gives none */
  gboolean known_miss;
} SuiteCase;

static GPtrArray  *cases;       /* SuiteCase* */
static GHashTable *resolvers;   /* zone file name -> SwResolver* */
static char       *suite_dir;

static void
suite_case_free (gpointer data)
{
  SuiteCase *c = data;
  g_free (c->id);
  g_free (c->zone);
  g_free (c->host);
  g_free (c->helo);
  g_free (c->mailfrom);
  g_strfreev (c->results);
  g_free (c->explanation);
  g_free (c);
}

static GHashTable *
load_known_misses (void)
{
  GHashTable *known = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "spf", "KNOWN-DIFFERENCES.md", NULL);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  if (!g_file_get_contents (path, &text, NULL, &error))
    g_error ("%s", error->message);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (!g_str_has_prefix (lines[i], "- `"))
        continue;
      const char *start = lines[i] + 3;
      const char *end = strchr (start, '`');
      if (end != NULL && end > start)
        g_hash_table_add (known, g_strndup (start, (gsize) (end - start)));
    }
  return known;
}

static SwResolver *
resolver_for (const char *zone)
{
  SwResolver *r = g_hash_table_lookup (resolvers, zone);
  if (r != NULL)
    return r;
  g_autofree char *path = g_build_filename (suite_dir, zone, NULL);
  g_autoptr (GError) error = NULL;
  r = sw_resolver_new_zone_file (path, &error);
  if (r == NULL)
    g_error ("%s: %s", path, error->message);
  g_hash_table_insert (resolvers, g_strdup (zone), r);
  return r;
}

/* Our default explanation with %{o}, %{c}, %{s} expanded for @c. */
static char *
default_explanation (const SuiteCase *c, const SwSpfResult *r)
{
  const char *sender = r->mail_from;
  const char *at = strrchr (sender, '@');
  g_autoptr (GString) s = g_string_new (SW_SPF_DEFAULT_EXPLANATION);
  g_string_replace (s, "%{o}", at ? at + 1 : sender, 0);
  g_string_replace (s, "%{c}", r->ip, 0);
  g_string_replace (s, "%{s}", sender, 0);
  g_string_replace (s, "%_", " ", 0);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* NULL if @c passes, else what was wrong (transfer full). */
static char *
run_case (const SuiteCase *c)
{
  SwResolver *resolver = resolver_for (c->zone);
  g_autoptr (GError) error = NULL;
  g_autoptr (SwSpfChecker) checker = sw_spf_checker_new (resolver, &error);
  g_assert_no_error (error);
  sw_spf_checker_set_evaluate_non_public (checker, TRUE);

  g_autoptr (SwSpfResult) r = NULL;
  gboolean ok = (*c->mailfrom == '\0') ? sw_spf_check_helo (checker, c->host, c->helo, &r, &error)
                                       : sw_spf_check_mailfrom (checker, c->host, c->helo, c->mailfrom, &r, &error);
  if (!ok)
    return g_strdup_printf ("could not run: %s", error->message);

  const char *got = sw_auth_result_to_string (r->result);
  if (!g_strv_contains ((const char *const *) c->results, got))
    {
      g_autofree char *want = g_strjoinv ("|", c->results);
      return g_strdup_printf ("result %s (reason: %s), expected %s", got, r->reason, want);
    }
  if (c->explanation != NULL && r->result == SW_AUTH_FAIL)
    {
      g_autofree char *want = g_strcmp0 (c->explanation, "DEFAULT") == 0 ? default_explanation (c, r)
                                                                          : g_strdup (c->explanation);
      if (g_strcmp0 (r->explanation, want) != 0)
        return g_strdup_printf ("explanation \"%s\", expected \"%s\"", r->explanation ? r->explanation : "(none)",
                                want);
    }
  return NULL;
}

static void
test_case (gconstpointer data)
{
  const SuiteCase *c = data;
  g_autofree char *miss = run_case (c);
  if (c->known_miss)
    {
      if (miss == NULL)
        g_test_fail_printf ("%s is listed in KNOWN-DIFFERENCES.md but passes now: update the list", c->id);
      else
        g_test_message ("%s: known difference: %s", c->id, miss);
      return;
    }
  if (miss != NULL)
    g_test_fail_printf ("%s (host %s, helo %s, mailfrom %s): %s", c->id, c->host, c->helo, c->mailfrom, miss);
}

static void
test_known_list_exists (void)
{
  /* Every entry of KNOWN-DIFFERENCES.md names a case of the suite. */
  g_autoptr (GHashTable) known = load_known_misses ();
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init (&it, known);
  while (g_hash_table_iter_next (&it, &key, NULL))
    {
      gboolean found = FALSE;
      for (guint i = 0; i < cases->len && !found; i++)
        found = g_strcmp0 (((SuiteCase *) g_ptr_array_index (cases, i))->id, key) == 0;
      if (!found)
        g_test_fail_printf ("KNOWN-DIFFERENCES.md lists %s, which is not in the suite", (char *) key);
    }
  g_assert_cmpuint (cases->len, ==, 203);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  suite_dir = g_strdup (g_getenv ("SW_SPF_SUITE_DIR"));
  if (suite_dir == NULL)
    g_error ("SW_SPF_SUITE_DIR is not set (run through ctest: the fixture spf-suite-convert fills it)");
  g_autofree char *ini = g_build_filename (suite_dir, "cases.ini", NULL);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  if (!g_key_file_load_from_file (kf, ini, G_KEY_FILE_NONE, &error))
    g_error ("%s: %s", ini, error->message);

  g_autoptr (GHashTable) known = load_known_misses ();
  resolvers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) sw_resolver_unref);
  cases = g_ptr_array_new_with_free_func (suite_case_free);

  gsize n = 0;
  g_auto (GStrv) groups = g_key_file_get_groups (kf, &n);
  for (gsize i = 0; i < n; i++)
    {
      SuiteCase *c = g_new0 (SuiteCase, 1);
      c->id = g_strdup (groups[i]);
      c->zone = g_key_file_get_string (kf, groups[i], "zone", NULL);
      c->host = g_key_file_get_string (kf, groups[i], "host", NULL);
      c->helo = g_key_file_get_string (kf, groups[i], "helo", NULL);
      c->mailfrom = g_key_file_get_string (kf, groups[i], "mailfrom", NULL);
      g_autofree char *results = g_key_file_get_string (kf, groups[i], "results", NULL);
      c->results = g_strsplit (results ? results : "", ";", -1);
      c->explanation = g_key_file_get_string (kf, groups[i], "explanation", NULL);
      c->known_miss = g_hash_table_contains (known, c->id);
      g_assert_nonnull (c->zone);
      g_assert_nonnull (c->host);
      g_assert_nonnull (c->helo);
      g_assert_nonnull (c->mailfrom);
      g_ptr_array_add (cases, c);
      g_autofree char *path = g_strdup_printf ("/core/spf/rfc7208/%s", c->id);
      g_test_add_data_func (path, c, test_case);
    }
  g_test_add_func ("/core/spf/rfc7208-meta/known-list", test_known_list_exists);

  int rc = g_test_run ();
  g_ptr_array_unref (cases);
  g_hash_table_unref (resolvers);
  g_free (suite_dir);
  return rc;
}
