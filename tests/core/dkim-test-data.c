/* dkim-test-data.c: see dkim-test-data.h. */
#include "dkim-test-data.h"
#include <string.h>

char *
sw_test_dkim_path (const char *rel)
{
  return g_test_build_filename (G_TEST_DIST, "data", "dkim", rel, NULL);
}

char *
sw_test_read_file (const char *path, gsize *len_out)
{
  char *text = NULL;
  g_autoptr (GError) error = NULL;
  if (!g_file_get_contents (path, &text, len_out, &error))
    g_error ("%s: %s", path, error->message);
  return text;
}

char *
sw_test_dkim_read (const char *rel, gsize *len_out)
{
  g_autofree char *path = sw_test_dkim_path (rel);
  return sw_test_read_file (path, len_out);
}

/* Mail::DKIM's FAKE_DNS.dat ("<name> <TXT rdata>" lines) as zone text: NXDOMAIN lines give
 * no record, "~~Query timed out~~" a TIMEOUT TXT mark, "~~SERVFAIL~~" a SERVFAIL TXT mark,
 * '""' an empty TXT record. */
char *
sw_test_dkim_fake_dns_to_zone (const char *rel)
{
  g_autofree char *text = sw_test_dkim_read (rel, NULL);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  GString *zone = g_string_new ("; converted from Mail::DKIM FAKE_DNS.dat format\n");
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_strstrip (lines[i]);
      if (lines[i][0] == '\0' || lines[i][0] == '#')
        continue;
      char *sp = strpbrk (lines[i], " \t");
      g_assert_nonnull (sp);
      *sp = '\0';
      const char *name = lines[i];
      char *rdata = g_strstrip (sp + 1);
      if (strcmp (rdata, "NXDOMAIN") == 0)
        g_string_append_printf (zone, "; %s NXDOMAIN\n", name);
      else if (strcmp (rdata, "~~Query timed out~~") == 0)
        g_string_append_printf (zone, "%s. TIMEOUT TXT\n", name);
      else if (strcmp (rdata, "~~SERVFAIL~~") == 0)
        g_string_append_printf (zone, "%s. SERVFAIL TXT\n", name);
      else if (strcmp (rdata, "\"\"") == 0)
        g_string_append_printf (zone, "%s. TXT \"\"\n", name);
      else
        {
          g_string_append_printf (zone, "%s. TXT \"", name);
          for (const char *p = rdata; *p; p++)
            {
              if (*p == '"' || *p == '\\')
                g_string_append_c (zone, '\\');
              g_string_append_c (zone, *p);
            }
          g_string_append (zone, "\"\n");
        }
    }
  return g_string_free (zone, FALSE);
}


SwResolver *
sw_test_resolver_from_zone (const char *zone)
{
  g_autoptr (GError) error = NULL;
  SwResolver *r = sw_resolver_new_zone_text (zone, &error);
  g_assert_no_error (error);
  g_assert_nonnull (r);
  return r;
}
