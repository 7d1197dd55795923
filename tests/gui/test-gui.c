#define G_LOG_DOMAIN "sw-test-gui"

/* test-gui: the GUI's pieces (gui/) under a real X server: the verdict table (words,
 * tooltips, icons, Japanese), the list rows' filter, the details' text report from real
 * verification results of the samples, and the main window on a store of 10,000 records
 * (load time, drawing while scrolling, verdict-added from another thread, filter and
 * search). Run inside tests/gui/gui-session.sh (DISPLAY and a session bus). */

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <locale.h>

#include "sw-gui-app.h"
#include "sw-gui-details.h"
#include "sw-gui-row.h"
#include "sw-gui-verdict.h"
#include "sw-gui-window.h"
#include "sw-store.h"
#include "sw-verifier.h"
#include "sw-verify-json.h"

#define N_BIG 10000u
/* Generous bounds (ASan builds, a shared CI machine); the measured figures are printed. */
#define MAX_LOAD_MS 20000.0
#define MAX_FRAME_MS 250.0

/* Iterates the default main context until @cond (re-evaluated) holds or @ms elapse. */
#define WAIT_UNTIL(cond, ms)                                                                                      \
  G_STMT_START                                                                                                    \
  {                                                                                                               \
    gint64 wait_deadline_ = g_get_monotonic_time () + (gint64)(ms) * 1000;                                        \
    while (!(cond) && g_get_monotonic_time () < wait_deadline_)                                                   \
      g_main_context_iteration (NULL, FALSE) || (g_usleep (1000), TRUE);                                          \
    if (!(cond))                                                                                                  \
      g_error ("timed out after %d ms waiting for %s", (int)(ms), #cond);                                         \
  }                                                                                                               \
  G_STMT_END

/* ---- verdict table ---- */

static void
test_verdict_table (void)
{
  GHashTable *words = g_hash_table_new (g_str_hash, g_str_equal);
  GtkIconTheme *theme = gtk_icon_theme_get_default ();
  for (int v = 0; v < SW_VERDICT_COUNT; v++)
    {
      const char *name = sw_verdict_to_string ((SwVerdict)v);
      const char *word = sw_gui_verdict_word ((SwVerdict)v);
      g_test_message ("verdict %s: %s", name, word);
      g_assert_nonnull (word);
      g_assert_cmpstr (word, !=, "");
      g_assert_false (g_hash_table_contains (words, word)); /* each verdict its own word */
      g_hash_table_add (words, (gpointer)word);
      g_assert_cmpuint (strlen (sw_gui_verdict_tooltip ((SwVerdict)v)), >, 20);
      g_autofree char *css = g_strconcat ("sw-verdict-", name, NULL);
      g_assert_cmpstr (sw_gui_verdict_css_class ((SwVerdict)v), ==, css);
      g_assert_true (gtk_icon_theme_has_icon (theme, sw_gui_verdict_icon_name ((SwVerdict)v)));
      g_assert_true (gtk_icon_theme_has_icon (theme, sw_gui_verdict_tray_icon_name ((SwVerdict)v)));
      g_assert_cmpuint (strlen (sw_gui_verdict_color ((SwVerdict)v)), ==, 7);
    }
  g_assert_true (gtk_icon_theme_has_icon (theme, sw_gui_verdict_tray_icon_name (SW_VERDICT_COUNT)));
  g_assert_cmpstr (sw_gui_verdict_word (SW_VERDICT_COUNT), ==, "Unknown");
  g_assert_cmpint (sw_gui_verdict_severity (SW_VERDICT_COUNT), ==, -1);
  /* worst first */
  const SwVerdict order[] = { SW_VERDICT_REJECT,    SW_VERDICT_QUARANTINE, SW_VERDICT_FAIL_NONE, SW_VERDICT_PERMERROR,
                              SW_VERDICT_TEMPERROR, SW_VERDICT_NONE,       SW_VERDICT_PASS };
  for (gsize i = 1; i < G_N_ELEMENTS (order); i++)
    g_assert_cmpint (sw_gui_verdict_severity (order[i - 1]), >, sw_gui_verdict_severity (order[i]));
  g_hash_table_unref (words);
}

/* Every verdict word and tooltip in Japanese (LANGUAGE=ja, in a subprocess: gettext reads
 * the language once per process). */
static void
test_verdict_japanese (void)
{
  if (g_test_subprocess ())
    {
      for (int v = 0; v < SW_VERDICT_COUNT; v++)
        {
          const char *word = sw_gui_verdict_word ((SwVerdict)v);
          g_test_message ("verdict %s: %s", sw_verdict_to_string ((SwVerdict)v), word);
          /* Japanese text: every word has a character outside ASCII */
          gboolean non_ascii = FALSE;
          for (const char *p = word; *p; p++)
            non_ascii |= (*p & 0x80) != 0;
          g_assert_true (non_ascii);
          g_assert_true (g_utf8_validate (sw_gui_verdict_tooltip ((SwVerdict)v), -1, NULL));
        }
      g_assert_cmpstr (sw_gui_verdict_word (SW_VERDICT_REJECT), ==, "拒否");
      return;
    }
  g_setenv ("LANGUAGE", "ja", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_unsetenv ("LANGUAGE");
  g_test_trap_assert_passed ();
}

/* ---- rows ---- */

static void
test_row_matches (void)
{
  SwStoreRecord rec = { .id = 5, .account = "work", .from_header = "Greenleaf Bank <alerts@greenleaf-bank.example>",
                        .from_domain = "greenleaf-bank.example", .subject = "Your November statement",
                        .verdict = SW_VERDICT_PASS, .verified_at = 1795432087 };
  g_autoptr (SwGuiRow) row = sw_gui_row_new (&rec);
  static const struct
  {
    const char *name;
    int verdict;
    const char *text;
    gboolean match;
  } cases[] = {
    { "all", -1, NULL, TRUE },
    { "empty-text", -1, "", TRUE },
    { "same-verdict", SW_VERDICT_PASS, NULL, TRUE },
    { "other-verdict", SW_VERDICT_REJECT, NULL, FALSE },
    { "from-case", -1, "GREENLEAF", TRUE },
    { "subject", -1, "november", TRUE },
    { "domain", -1, "bank.example", TRUE },
    { "absent", -1, "citibank", FALSE },
    { "verdict-and-text", SW_VERDICT_PASS, "statement", TRUE },
    { "verdict-not-text", SW_VERDICT_PASS, "parcel", FALSE },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("case %s", cases[i].name);
      g_assert_cmpint (sw_gui_row_matches (row, cases[i].verdict, cases[i].text), ==, cases[i].match);
    }
  g_assert_cmpint (sw_gui_row_get_id (row), ==, 5);
  g_assert_cmpstr (sw_gui_row_get_account (row), ==, "work");
  /* the time format by age (TZ=UTC, see main) */
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  static const struct
  {
    gint64 age_s;
    gint64 at; /* used when age_s < 0 */
    const char *pattern;
  } times[] = {
    { -1, 1700000000, "2023-11-14" }, /* older than a week: the date */
    { 3 * 86400, 0, "??? ??:??" },    /* this week: weekday and time */
    { 0, 0, "??:??" },                /* today: the time */
  };
  for (gsize i = 0; i < G_N_ELEMENTS (times); i++)
    {
      rec.verified_at = times[i].age_s >= 0 ? now - times[i].age_s : times[i].at;
      if (times[i].age_s == 0 && (now % 86400) < 60)
        continue; /* a second after midnight "now" may be yesterday by the time it is formatted */
      g_autoptr (SwGuiRow) r = sw_gui_row_new (&rec);
      g_autofree char *t = sw_gui_row_format_time (r);
      g_test_message ("time case %" G_GSIZE_FORMAT ": %s", i, t);
      g_assert_true (g_pattern_match_simple (times[i].pattern, t));
    }
  SwStoreRecord empty = { .id = 6, .account = "a" };
  g_autoptr (SwGuiRow) row2 = sw_gui_row_new (&empty);
  g_assert_cmpstr (sw_gui_row_get_subject (row2), ==, "");
  g_assert_true (sw_gui_row_matches (row2, -1, NULL));
  g_assert_false (sw_gui_row_matches (row2, -1, "x"));
}

/* ---- details: the text report from real results ---- */

static SwStoreRecord *
verify_sample (const char *file)
{
  g_autofree char *zone = g_build_filename (SW_SOURCE_DIR, "samples", "samples.zone", NULL);
  g_autofree char *path = g_build_filename (SW_SOURCE_DIR, "samples", file, NULL);
  g_autoptr (GError) error = NULL;
  SwResolver *resolver = sw_resolver_new_zone_file (zone, &error);
  g_assert_no_error (error);
  SwVerifierConfig vc = { .resolver = resolver, .dmarc_mode = SW_DMARC_MODE_RFC9989 };
  SwVerifier *verifier = sw_verifier_new (&vc, &error);
  g_assert_no_error (error);
  char *data = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  g_autoptr (GBytes) bytes = g_bytes_new_take (data, len);
  g_autoptr (SwVerifyResult) result = NULL;
  g_assert_true (sw_verifier_verify (verifier, bytes, NULL, &result, &error));
  g_assert_no_error (error);
  SwStoreRecord *rec = g_new0 (SwStoreRecord, 1);
  rec->id = 1;
  rec->account = g_strdup ("demo");
  rec->verdict = result->verdict;
  rec->explanation = g_strdup (result->explanation);
  rec->from_header = g_strdup (result->from_header);
  rec->from_domain = g_strdup (result->from_domain_display);
  rec->subject = g_strdup (result->subject);
  rec->message_id = g_strdup (result->message_id);
  rec->verified_at = result->verified_at;
  rec->evidence_json = sw_verify_result_to_json (result, NULL, -1, FALSE);
  sw_verifier_free (verifier);
  sw_resolver_unref (resolver);
  return rec;
}

static void
test_details_report (void)
{
  static const struct
  {
    const char *file;
    SwVerdict verdict;
    const char *needles[8];
  } cases[] = {
    { "01-citibank-spoofed.eml",
      SW_VERDICT_REJECT,
      { "Spoofwatch verdict: Reject (reject)", "Sending IP address: 42.127.236.162 (from your provider's Received:",
        "Mail-from: alert@citibank.com (from the Return-Path:", "Signatures: none",
        "Policy applied: reject", "Record: v=DMARC1; p=reject", "Aligned by: nothing", NULL } },
    { "07-mailing-list.eml",
      SW_VERDICT_FAIL_NONE,
      { "== DKIM: signature 1 of 2 ==", "== DKIM: signature 2 of 2 ==", "Signing domain (d=): lists.opensource.example",
        "Signing domain (d=): university.example", "Aligned with From:: no", "Mailing list: Developers",
        "Key size: 2048 bits", NULL } },
    { "02-genuine-bank.eml",
      SW_VERDICT_PASS,
      { "Spoofwatch verdict: Pass (pass)", "Aligned with From:: yes", "Aligned by: ", "Results: none recorded",
        NULL } },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("case %s", cases[i].file);
      g_autoptr (SwStoreRecord) rec = verify_sample (cases[i].file);
      g_assert_cmpint (rec->verdict, ==, cases[i].verdict);
      g_autofree char *report = sw_gui_details_report_text (rec);
      /* the explanation comes first, before any evidence section */
      const char *expl = strstr (report, rec->explanation);
      g_assert_nonnull (expl);
      g_assert_true (expl < strstr (report, "== "));
      for (gsize j = 0; cases[i].needles[j] != NULL; j++)
        if (strstr (report, cases[i].needles[j]) == NULL)
          g_error ("case %s: \"%s\" not in the report:\n%s", cases[i].file, cases[i].needles[j], report);

      /* the widget shows the same record and copies the report to the clipboard */
      GtkWidget *details = g_object_ref_sink (sw_gui_details_new ());
      sw_gui_details_set_record (SW_GUI_DETAILS (details), rec);
      g_assert_cmpstr (sw_gui_details_get_record (SW_GUI_DETAILS (details))->explanation, ==, rec->explanation);
      sw_gui_details_copy_report (SW_GUI_DETAILS (details));
      g_autofree char *clip = gtk_clipboard_wait_for_text (gtk_clipboard_get (GDK_SELECTION_CLIPBOARD));
      g_assert_cmpstr (clip, ==, report);
      sw_gui_details_set_record (SW_GUI_DETAILS (details), NULL);
      g_assert_null (sw_gui_details_get_record (SW_GUI_DETAILS (details)));
      gtk_widget_destroy (details);
      g_object_unref (details);
    }

  /* evidence the store replaced by its stub, or no JSON at all: said so, never fatal */
  SwStoreRecord stub = { .account = "a", .verdict = SW_VERDICT_REJECT, .explanation = "x",
                         .evidence_json = "{\"version\":1,\"truncated\":true,\"bytes\":99999999}" };
  g_autofree char *r1 = sw_gui_details_report_text (&stub);
  g_assert_nonnull (strstr (r1, "too large to keep"));
  stub.evidence_json = "not json {";
  g_autofree char *r2 = sw_gui_details_report_text (&stub);
  g_assert_nonnull (strstr (r2, "not available"));
  stub.evidence_json = "{\"spf\": 5, \"dkim\": {\"a\": 1}, \"dmarc\": [], \"provider_results\": \"x\"}";
  g_autofree char *r3 = sw_gui_details_report_text (&stub);
  g_assert_nonnull (strstr (r3, "Signatures: none"));
}

/* ---- the window on 10,000 records ---- */

typedef struct
{
  char *dir;
  SwStore *store;
  SwConfig *config;
  SwGuiApp *app;
  SwGuiWindow *window;
  guint n_reject;
} BigFixture;

static gint64
put_record (SwStore *store, guint i, SwVerdict verdict)
{
  g_autofree char *hash = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *)&i, sizeof i);
  g_autofree char *from = g_strdup_printf ("Sender %u <s%u@domain%u.example>", i, i, i % 50);
  g_autofree char *domain = g_strdup_printf ("domain%u.example", i % 50);
  g_autofree char *subject = g_strdup_printf ("Message number %u", i);
  SwStoreRecord rec = { .account = "bulk", .message_hash = hash, .date = -1,
                        .verified_at = 1795000000 + i, .from_header = from, .from_domain = domain,
                        .subject = subject, .verdict = verdict, .explanation = "Test record.",
                        .evidence_json = "{\"version\":1}" };
  gint64 id = 0;
  g_autoptr (GError) error = NULL;
  g_assert_true (sw_store_put (store, &rec, &id, &error));
  g_assert_no_error (error);
  return id;
}

static void
big_setup (BigFixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("sw-test-gui-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (f->dir, "verdicts.sqlite", NULL);
  g_autoptr (GError) error = NULL;
  f->store = sw_store_open (path, &error);
  g_assert_no_error (error);
  gint64 t0 = g_get_monotonic_time ();
  for (guint i = 0; i < N_BIG; i++)
    {
      SwVerdict v = (SwVerdict)(i % SW_VERDICT_COUNT);
      f->n_reject += v == SW_VERDICT_REJECT;
      put_record (f->store, i, v);
    }
  g_test_message ("%u records stored in %.0f ms", N_BIG, (double)(g_get_monotonic_time () - t0) / 1000.0);
  f->config = sw_config_new ();
  sw_config_set_first_run_done (f->config, TRUE);
  g_autofree char *conf = g_build_filename (f->dir, "spoofwatch.conf", NULL);
  f->app = sw_gui_app_new (f->store, f->config, conf);
  g_assert_true (g_application_register (G_APPLICATION (f->app), NULL, &error));
  g_assert_no_error (error);
  g_assert_false (g_application_get_is_remote (G_APPLICATION (f->app)));
}

static void
big_teardown (BigFixture *f, gconstpointer data)
{
  GtkWindow *w = sw_gui_app_get_window (f->app);
  if (w != NULL)
    gtk_widget_destroy (GTK_WIDGET (w));
  /* finish what the window's workers still hold before the store closes */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_application_quit (G_APPLICATION (f->app));
  g_clear_object (&f->app);
  sw_config_free (f->config);
  sw_store_close (f->store);
  g_autofree char *path = g_build_filename (f->dir, "verdicts.sqlite", NULL);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (path, "-shm", NULL);
  g_unlink (path);
  g_unlink (wal);
  g_unlink (shm);
  g_rmdir (f->dir);
  g_free (f->dir);
}

/* A key press and release as the X server would deliver them to the focused toplevel
 * (no window manager gives Xvfb's windows the input focus, so XTest would not reach it). */
static void
send_key (GtkWidget *toplevel, guint keyval, GdkModifierType state)
{
  GdkDisplay *display = gtk_widget_get_display (toplevel);
  GdkKeymapKey *keys = NULL;
  gint n_keys = 0;
  g_assert_true (gdk_keymap_get_entries_for_keyval (gdk_keymap_get_for_display (display), keyval, &keys, &n_keys));
  for (int i = 0; i < 2; i++)
    {
      GdkEvent *ev = gdk_event_new (i == 0 ? GDK_KEY_PRESS : GDK_KEY_RELEASE);
      ev->key.window = g_object_ref (gtk_widget_get_window (toplevel));
      ev->key.send_event = TRUE;
      ev->key.time = GDK_CURRENT_TIME;
      ev->key.keyval = keyval;
      ev->key.state = state;
      ev->key.hardware_keycode = (guint16)keys[0].keycode;
      ev->key.group = (guint8)keys[0].group;
      gdk_event_set_device (ev, gdk_seat_get_keyboard (gdk_display_get_default_seat (display)));
      gtk_main_do_event (ev);
      gdk_event_free (ev);
    }
  g_free (keys);
}

typedef struct
{
  SwGuiApp *app;
  gint64 id;
} NotifyArgs;

static gpointer
notify_thread (gpointer data)
{
  NotifyArgs *a = data;
  sw_gui_app_notify_verdict (a->app, a->id);
  sw_gui_app_notify_verdict (a->app, a->id); /* twice: listed once */
  return NULL;
}

static void
test_window_big (BigFixture *f, gconstpointer data)
{
  gint64 t0 = g_get_monotonic_time ();
  g_action_group_activate_action (G_ACTION_GROUP (f->app), "open-window", NULL);
  f->window = SW_GUI_WINDOW (sw_gui_app_get_window (f->app));
  g_assert_nonnull (f->window);
  /* the main loop keeps running while the store is read: the window paints early */
  WAIT_UNTIL (gtk_widget_get_mapped (GTK_WIDGET (f->window)), 10000);
  WAIT_UNTIL (!sw_gui_window_is_loading (f->window), 60000);
  double wall = (double)(g_get_monotonic_time () - t0) / 1000.0;
  double load = sw_gui_window_get_last_load_ms (f->window);
  g_test_message ("10,000 rows: listed in %.0f ms (window open to last page %.0f ms)", load, wall);
  g_printerr ("# 10,000 rows listed in %.0f ms\n", load);
  g_assert_cmpuint (sw_gui_window_get_n_rows (f->window), ==, N_BIG);
  g_assert_cmpint (sw_gui_window_get_total (f->window), ==, N_BIG);
  g_assert_cmpfloat (load, <, MAX_LOAD_MS);
  /* newest first */
  g_assert_cmpstr (sw_gui_row_get_subject (sw_gui_window_get_row (f->window, 0)), ==, "Message number 9999");
  g_assert_cmpstr (sw_gui_row_get_subject (sw_gui_window_get_row (f->window, N_BIG - 1)), ==, "Message number 0");

  /* Scrolling: each position drawn as it would be on screen (only the visible rows). */
  GtkWidget *list = NULL;
  GList *todo = g_list_prepend (NULL, f->window);
  while (todo != NULL && list == NULL)
    {
      GtkWidget *w = todo->data;
      todo = g_list_delete_link (todo, todo);
      if (GTK_IS_TREE_VIEW (w))
        list = w;
      else if (GTK_IS_CONTAINER (w))
        {
          GList *children = gtk_container_get_children (GTK_CONTAINER (w));
          todo = g_list_concat (todo, children);
        }
    }
  g_list_free (todo);
  g_assert_nonnull (list);
  GtkAdjustment *adj = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (list));
  WAIT_UNTIL (gtk_adjustment_get_upper (adj) > 1000 * gtk_adjustment_get_page_size (adj) / 100, 10000);
  int width = gtk_widget_get_allocated_width (list);
  int height = gtk_widget_get_allocated_height (list);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  double worst = 0, sum = 0;
  const int steps = 40;
  for (int i = 0; i <= steps; i++)
    {
      double range = gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj);
      gint64 s = g_get_monotonic_time ();
      gtk_adjustment_set_value (adj, range * i / steps);
      while (g_main_context_iteration (NULL, FALSE))
        ;
      cairo_t *cr = cairo_create (surface);
      gtk_widget_draw (list, cr);
      cairo_destroy (cr);
      double ms = (double)(g_get_monotonic_time () - s) / 1000.0;
      worst = MAX (worst, ms);
      sum += ms;
    }
  cairo_surface_destroy (surface);
  g_printerr ("# scrolling 10,000 rows: %.1f ms per frame on average, %.1f ms worst\n", sum / (steps + 1), worst);
  g_assert_cmpfloat (worst, <, MAX_FRAME_MS);

  /* A new verdict from a proxy thread goes on top, once. */
  gint64 id = put_record (f->store, N_BIG, SW_VERDICT_REJECT);
  NotifyArgs args = { f->app, id };
  GThread *t = g_thread_new ("notify", notify_thread, &args);
  g_thread_join (t);
  WAIT_UNTIL (sw_gui_window_get_n_rows (f->window) == N_BIG + 1, 10000);
  /* let the second notification arrive too */
  WAIT_UNTIL (!g_main_context_iteration (NULL, FALSE), 10000);
  g_assert_cmpuint (sw_gui_window_get_n_rows (f->window), ==, N_BIG + 1);
  g_assert_cmpint (sw_gui_row_get_id (sw_gui_window_get_row (f->window, 0)), ==, id);
  g_assert_cmpint (sw_gui_window_get_total (f->window), ==, N_BIG + 1);

  /* Filter by verdict, then search, then both: counted by the store, listed in pages. */
  static const struct
  {
    const char *name;
    int verdict;
    const char *text;
    gint64 expected; /* -1: n_reject + 1 */
  } cases[] = {
    { "reject", SW_VERDICT_REJECT, NULL, -1 },
    { "search-domain", -1, "DOMAIN7.example", N_BIG / 50 },
    { "search-and-verdict", SW_VERDICT_PASS, "number 700", 3 }, /* 700, 7000..7009; pass is i % 7 == 0: 700, 7000, 7007 */
    { "nothing", SW_VERDICT_PERMERROR, "no such text", 0 },
    { "all-again", -1, NULL, N_BIG + 1 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("filter case %s", cases[i].name);
      sw_gui_window_set_filter (f->window, cases[i].verdict, cases[i].text);
      WAIT_UNTIL (!sw_gui_window_is_loading (f->window), 60000);
      gint64 want = cases[i].expected >= 0 ? cases[i].expected : f->n_reject + 1;
      g_assert_cmpint (sw_gui_window_get_total (f->window), ==, want);
      g_assert_cmpuint (sw_gui_window_get_n_rows (f->window), ==, (guint)want);
      for (guint r = 0; r < sw_gui_window_get_n_rows (f->window) && r < 50; r++)
        g_assert_true (sw_gui_row_matches (sw_gui_window_get_row (f->window, r), cases[i].verdict, cases[i].text));
    }

  /* The details of a record: the window selects it and reads it in a worker. */
  sw_gui_app_show_details (f->app, id);
  WAIT_UNTIL (sw_gui_window_get_details_id (f->window) == id, 10000);
  g_autoptr (SwStoreRecord) rec = sw_store_get (f->store, id, NULL);
  g_assert_true (rec->seen);

  /* Keyboard: Down moves to the next message and shows its details; Ctrl+F goes to the
   * search box. */
  /* the tree view moves its cursor only when it has the keyboard focus, i.e. when its
   * window is the active one: without a window manager the window asks X itself */
  gdk_window_focus (gtk_widget_get_window (GTK_WIDGET (f->window)), GDK_CURRENT_TIME);
  WAIT_UNTIL (gtk_window_is_active (GTK_WINDOW (f->window)), 10000);
  gtk_widget_grab_focus (list);
  g_assert_true (gtk_widget_has_focus (list));
  gint64 next_id = sw_gui_row_get_id (sw_gui_window_get_row (f->window, 1));
  send_key (GTK_WIDGET (f->window), GDK_KEY_Down, 0);
  WAIT_UNTIL (sw_gui_window_get_details_id (f->window) == next_id, 10000);
  send_key (GTK_WIDGET (f->window), GDK_KEY_f, GDK_CONTROL_MASK);
  GtkWidget *focus = NULL;
  WAIT_UNTIL ((focus = gtk_window_get_focus (GTK_WINDOW (f->window))) != NULL && GTK_IS_SEARCH_ENTRY (focus), 10000);

  /* Accessible names: the list, the search box, the verdict filter, the copy button. */
  g_assert_cmpstr (atk_object_get_name (gtk_widget_get_accessible (list)), ==, "Messages");
  g_assert_cmpstr (atk_object_get_name (gtk_widget_get_accessible (focus)), ==, "Search sender or subject");
  const char *names[] = { "Filter by verdict", "Copy report", "Settings", "Message details" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      gboolean found = FALSE;
      GList *queue = g_list_prepend (NULL, f->window);
      while (queue != NULL)
        {
          GtkWidget *w = queue->data;
          queue = g_list_delete_link (queue, queue);
          found |= g_strcmp0 (atk_object_get_name (gtk_widget_get_accessible (w)), names[i]) == 0;
          if (GTK_IS_CONTAINER (w))
            queue = g_list_concat (queue, gtk_container_get_children (GTK_CONTAINER (w)));
        }
      if (!found)
        g_error ("no widget with the accessible name \"%s\"", names[i]);
    }
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_setenv ("TZ", "UTC", TRUE);
  g_autofree char *locale_dir = g_build_filename (g_getenv ("SW_BUILD_DIR"), "locale", NULL);
  bindtextdomain (GETTEXT_PACKAGE, locale_dir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  g_test_init (&argc, &argv, NULL);
  if (!gtk_init_check (&argc, &argv))
    g_error ("no display: run this test inside tests/gui/gui-session.sh");
  sw_gui_resources_init ();
  g_test_add_func ("/gui/verdict/table", test_verdict_table);
  g_test_add_func ("/gui/verdict/japanese", test_verdict_japanese);
  g_test_add_func ("/gui/row/matches", test_row_matches);
  g_test_add_func ("/gui/details/report", test_details_report);
  g_test_add ("/gui/window/ten-thousand", BigFixture, NULL, big_setup, test_window_big, big_teardown);
  return g_test_run ();
}
