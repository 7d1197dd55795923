/* test-psl.c: sw_psl_registrable_domain() against the public suffix list test vectors
 * (tests/data/psl, see README.origin there). Registered by test-dmarc.c. */
#include "sw-orgdomain.h"
#include <string.h>

typedef struct
{
  char *input;    /* NULL for the "null" input */
  char *expected; /* NULL: no registrable domain */
} PslCase;

static void
psl_case_free (gpointer data)
{
  PslCase *c = data;
  g_free (c->input);
  g_free (c->expected);
  g_free (c);
}

static char *
null_or_dup (const char *s)
{
  return g_strcmp0 (s, "null") == 0 ? NULL : g_strdup (s);
}

static char *
read_data (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "psl", name, NULL);
  g_autoptr (GError) error = NULL;
  char *text = NULL;
  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

/* checkPublicSuffix('input', 'expected'); with null for either. */
static GPtrArray *
load_js (const char *name)
{
  g_autofree char *text = read_data (name);
  GPtrArray *cases = g_ptr_array_new_with_free_func (psl_case_free);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_autoptr (GRegex) re
      = g_regex_new ("^checkPublicSuffix\\((null|'[^']*'), (null|'[^']*')\\);$", 0, 0, NULL);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr (GMatchInfo) m = NULL;
      if (!g_regex_match (re, lines[i], 0, &m))
        {
          g_assert_true (lines[i][0] == '\0' || g_str_has_prefix (lines[i], "//"));
          continue;
        }
      g_autofree char *a = g_match_info_fetch (m, 1);
      g_autofree char *b = g_match_info_fetch (m, 2);
      PslCase *c = g_new0 (PslCase, 1);
      c->input = a[0] == '\'' ? g_strndup (a + 1, strlen (a) - 2) : NULL;
      c->expected = b[0] == '\'' ? g_strndup (b + 1, strlen (b) - 2) : NULL;
      g_ptr_array_add (cases, c);
    }
  return cases;
}

/* "<input> <expected>" with null for either. */
static GPtrArray *
load_txt (const char *name)
{
  g_autofree char *text = read_data (name);
  GPtrArray *cases = g_ptr_array_new_with_free_func (psl_case_free);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (lines[i][0] == '\0' || g_str_has_prefix (lines[i], "//"))
        continue;
      g_auto (GStrv) cols = g_strsplit (lines[i], " ", -1);
      g_assert_cmpuint (g_strv_length (cols), ==, 2);
      PslCase *c = g_new0 (PslCase, 1);
      c->input = null_or_dup (cols[0]);
      c->expected = null_or_dup (cols[1]);
      g_ptr_array_add (cases, c);
    }
  return cases;
}

static void
run_cases (const char *file, GPtrArray *cases)
{
  guint failed = 0;
  for (guint i = 0; i < cases->len; i++)
    {
      const PslCase *c = g_ptr_array_index (cases, i);
      g_autofree char *got = sw_psl_registrable_domain (c->input);
      if (g_strcmp0 (got, c->expected) != 0)
        {
          g_test_message ("%s case %u: %s -> %s, expected %s", file, i, c->input ? c->input : "null",
                          got ? got : "null", c->expected ? c->expected : "null");
          failed++;
        }
    }
  if (failed > 0)
    g_test_fail_printf ("%s: %u of %u cases failed (see messages)", file, failed, cases->len);
}

/* The authoritative file for the installed list (Debian's publicsuffix 20230209). */
static void
test_psl_debian (void)
{
  g_autoptr (GPtrArray) cases = load_js ("debian-publicsuffix-20230209-test_psl.txt");
  g_assert_cmpuint (cases->len, ==, 78);
  run_cases ("debian-publicsuffix-20230209-test_psl.txt", cases);
}

/* The upstream files; README.origin says why they are expected to pass too. */
static void
test_psl_upstream_js (void)
{
  g_autoptr (GPtrArray) cases = load_js ("test_psl.txt");
  g_assert_cmpuint (cases->len, ==, 78);
  run_cases ("test_psl.txt", cases);
}

static void
test_psl_upstream_txt (void)
{
  g_autoptr (GPtrArray) cases = load_txt ("tests.txt");
  g_assert_cmpuint (cases->len, ==, 78);
  run_cases ("tests.txt", cases);
}

/* tests.txt and the Debian file hold the same pairs in the same order. */
static void
test_psl_files_agree (void)
{
  g_autoptr (GPtrArray) a = load_js ("debian-publicsuffix-20230209-test_psl.txt");
  g_autoptr (GPtrArray) b = load_txt ("tests.txt");
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++)
    {
      const PslCase *x = g_ptr_array_index (a, i), *y = g_ptr_array_index (b, i);
      if (g_strcmp0 (x->input, y->input) != 0 || g_strcmp0 (x->expected, y->expected) != 0)
        g_error ("case %u differs: %s/%s vs %s/%s", i, x->input, x->expected, y->input, y->expected);
    }
}

/* What DMARC feeds it: A-labels, trailing dots, garbage. */
static void
test_psl_edges (void)
{
  static const struct
  {
    const char *input, *expected;
  } cases[] = {
    { "mail.bank.co.uk", "bank.co.uk" },
    { "co.uk", NULL },
    { "a.b.c.d.e.f.g.h.i.j.example.com", "example.com" },
    { "www.example.com.", "example.com" },
    { "xn--bcher-kva.example", "xn--bcher-kva.example" },
    { "mail.xn--bcher-kva.example", "xn--bcher-kva.example" },
    { "WWW.Bücher.Example", "bücher.example" },
    { "a..example.com", NULL },
    { "", NULL },
    { ".", NULL },
    { "example.com..", NULL },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = sw_psl_registrable_domain (cases[i].input);
      if (g_strcmp0 (got, cases[i].expected) != 0)
        g_error ("case %u (%s): got %s, expected %s", i, cases[i].input, got ? got : "NULL",
                 cases[i].expected ? cases[i].expected : "NULL");
    }
}

void test_psl_register (void);

void
test_psl_register (void)
{
  g_test_add_func ("/core/dmarc/psl/debian-20230209", test_psl_debian);
  g_test_add_func ("/core/dmarc/psl/upstream-test-psl", test_psl_upstream_js);
  g_test_add_func ("/core/dmarc/psl/upstream-tests-txt", test_psl_upstream_txt);
  g_test_add_func ("/core/dmarc/psl/files-agree", test_psl_files_agree);
  g_test_add_func ("/core/dmarc/psl/edges", test_psl_edges);
}
