#include "sw-domain.h"
#include "sw-util.h"
#include "sw-limits.h"

static void
test_domain_to_ascii (void)
{
  static const struct { const char *in; const char *out; } cases[] = {
    { "Example.COM", "example.com" },
    { "example.com.", "example.com" },
    { "bücher.example", "xn--bcher-kva.example" },
    { "XN--BCHER-KVA.example", "xn--bcher-kva.example" },
    { "_dmarc.example.com", "_dmarc.example.com" },
    { "", NULL },
    { "a..b", NULL },
    { ".", NULL },
    { "exa mple.com", NULL },
    { "1234567890123456789012345678901234567890123456789012345678901234.com", NULL },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = sw_domain_to_ascii (cases[i].in);
      if (g_strcmp0 (got, cases[i].out) != 0)
        g_error ("case %u (%s): got %s, want %s", i, cases[i].in, got, cases[i].out);
    }
  g_autofree char *disp = sw_domain_to_display ("xn--bcher-kva.example");
  g_assert_cmpstr (disp, ==, "bücher.example");
}

static void
test_domain_labels (void)
{
  g_assert_true (sw_domain_is_within ("a.example.com", "example.com"));
  g_assert_true (sw_domain_is_within ("example.com", "EXAMPLE.com"));
  g_assert_false (sw_domain_is_within ("badexample.com", "example.com"));
  g_assert_cmpuint (sw_domain_count_labels ("a.b.c"), ==, 3);
  g_autofree char *last = sw_domain_last_labels ("a.b.example.com", 2);
  g_assert_cmpstr (last, ==, "example.com");
}

static void
test_ip (void)
{
  static const struct { const char *ip; gboolean non_public; } cases[] = {
    { "127.0.0.1", TRUE }, { "10.1.2.3", TRUE }, { "172.16.0.1", TRUE }, { "172.32.0.1", FALSE },
    { "192.168.1.1", TRUE }, { "100.64.0.1", TRUE }, { "42.127.236.162", FALSE },
    { "::1", TRUE }, { "fd00::1", TRUE }, { "fe80::1", TRUE }, { "2a00:1450:4864:20::32f", FALSE },
    { "::ffff:10.0.0.1", TRUE }, { "::ffff:42.127.236.162", FALSE }, { "not-an-ip", TRUE }, { "", TRUE },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    if (sw_ip_is_non_public (cases[i].ip) != cases[i].non_public)
      g_error ("case %u (%s)", i, cases[i].ip);
  g_autofree char *n = sw_ip_normalize ("[IPv6:2001:DB8::0:1]");
  g_assert_cmpstr (n, ==, "2001:db8::1");
  g_autofree char *m = sw_ip_normalize ("::ffff:1.2.3.4");
  g_assert_cmpstr (m, ==, "1.2.3.4");
}

static void
test_sanitize (void)
{
  g_autofree char *a = sw_sanitize_for_log ("ab\r\ncd\xff", -1, 100);
  g_assert_cmpstr (a, ==, "ab\\x0D\\x0Acd\\xFF");
  g_autofree char *b = sw_sanitize_for_log ("abcdef", -1, 3);
  g_assert_cmpstr (b, ==, "abc...");
}

static void
test_names (void)
{
  for (guint v = 0; v < SW_VERDICT_COUNT; v++)
    {
      SwVerdict back;
      g_assert_true (sw_verdict_from_string (sw_verdict_to_string (v), &back));
      g_assert_cmpint (back, ==, v);
    }
  SwAuthResult r;
  g_assert_true (sw_auth_result_from_string ("PASS", &r));
  g_assert_cmpint (r, ==, SW_AUTH_PASS);
  g_assert_false (sw_auth_result_from_string ("maybe", &r));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/core/base/domain/to-ascii", test_domain_to_ascii);
  g_test_add_func ("/core/base/domain/labels", test_domain_labels);
  g_test_add_func ("/core/base/ip", test_ip);
  g_test_add_func ("/core/base/sanitize", test_sanitize);
  g_test_add_func ("/core/base/names", test_names);
  return g_test_run ();
}
