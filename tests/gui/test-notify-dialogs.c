#define G_LOG_DOMAIN "sw-test-gui-dialogs"

/* test-notify-dialogs: the settings dialog, its account editor and the first-run screen
 * on a real X server (run inside tests/gui/gui-session.sh). Each is shown, drawn and
 * saved as a screenshot to $SW_BUILD_DIR/screenshots/ (checked for size and that it is
 * not blank), then driven the way a person would: the first-run screen's "Later" sets
 * first-run-done in the saved file; the account editor refuses an invalid account with
 * a visible error; "Save" in the settings writes popup-verdicts, demo and the XDG
 * autostart file.
 *
 * usage: test-notify-dialogs [SUFFIX]   (SUFFIX names the screenshots, e.g. "ja" when run
 * with LANGUAGE=ja) */

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <string.h>

#include "sw-gui-app.h"
#include "sw-gui-autostart.h"
#include "sw-gui-first-run.h"
#include "sw-gui-settings.h"

static char *tmp_dir;
static char *conf_path;
static const char *suffix = "";
static SwGuiApp *app;
static SwStore *store;
static SwConfig *config;

/* ---- Widgets ---- */

typedef struct
{
  GType type;
  const char *label; /* button label or NULL */
  const char *name;  /* widget name or NULL */
  GtkWidget *found;
} Find;

static void
find_in (GtkWidget *w, gpointer data)
{
  Find *f = data;
  if (f->found != NULL)
    return;
  if (G_TYPE_CHECK_INSTANCE_TYPE (w, f->type)
      && (f->label == NULL
          || (GTK_IS_BUTTON (w) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (w)), f->label) == 0))
      && (f->name == NULL || g_strcmp0 (gtk_widget_get_name (w), f->name) == 0))
    {
      f->found = w;
      return;
    }
  if (GTK_IS_CONTAINER (w))
    gtk_container_forall (GTK_CONTAINER (w), find_in, f);
}

static GtkWidget *
find (GtkWidget *top, GType type, const char *label, const char *name)
{
  Find f = { type, label, name, NULL };
  find_in (top, &f);
  if (f.found == NULL)
    g_error ("no %s with label %s / name %s", g_type_name (type), label, name);
  return f.found;
}

static void
on_drawn (GtkWidget *w, cairo_t *cr, gpointer data)
{
  *(gboolean *)data = TRUE;
}

/* Shows @w and waits (bounded) until it is mapped and has drawn once. */
static void
show_and_wait (GtkWidget *w)
{
  gboolean drawn = FALSE;
  gulong h = g_signal_connect_after (w, "draw", G_CALLBACK (on_drawn), &drawn);
  gtk_widget_show (w);
  gtk_window_present (GTK_WINDOW (w));
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while ((!drawn || !gtk_widget_get_mapped (w)) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_signal_handler_disconnect (w, h);
  g_assert_true (gtk_widget_get_mapped (w));
  g_assert_true (drawn);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* Saves what the X server shows of @w and checks the picture. */
static void
screenshot (GtkWidget *w, const char *name, int min_width, int min_height)
{
  GdkWindow *gw = gtk_widget_get_window (w);
  gdk_display_sync (gdk_window_get_display (gw));
  int width = gdk_window_get_width (gw), height = gdk_window_get_height (gw);
  g_autoptr (GdkPixbuf) shot = gdk_pixbuf_get_from_window (gw, 0, 0, width, height);
  g_assert_nonnull (shot);
  g_autofree char *dir = g_build_filename (g_getenv ("SW_BUILD_DIR"), "screenshots", NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_autofree char *file = g_strdup_printf ("%s%s%s.png", name, *suffix ? "-" : "", suffix);
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (gdk_pixbuf_save (shot, path, "png", &error, NULL));
  g_test_message ("%s: %dx%d", path, width, height);
  if (width < min_width || height < min_height)
    g_error ("%s: %dx%d, expected at least %dx%d", file, width, height, min_width, min_height);
  /* not blank: many distinct pixel values (text drawn on the background) */
  g_autoptr (GHashTable) colours = g_hash_table_new (g_direct_hash, g_direct_equal);
  const guint8 *px = gdk_pixbuf_read_pixels (shot);
  int stride = gdk_pixbuf_get_rowstride (shot), n = gdk_pixbuf_get_n_channels (shot);
  for (int y = 0; y < height; y += 2)
    for (int x = 0; x < width; x += 2)
      {
        const guint8 *p = px + y * stride + x * n;
        g_hash_table_add (colours, GUINT_TO_POINTER ((guint)p[0] << 16 | (guint)p[1] << 8 | p[2]));
      }
  if (g_hash_table_size (colours) < 20)
    g_error ("%s looks blank: %u colours", file, g_hash_table_size (colours));
}

static char *
saved_config (void)
{
  char *text = NULL;
  g_assert_true (g_file_get_contents (conf_path, &text, NULL, NULL));
  return text;
}

/* ---- Tests ---- */

static void
test_first_run (void)
{
  g_assert_true (sw_gui_first_run_wanted (config) == FALSE); /* it has an account */
  GtkWidget *w = sw_gui_first_run_new (app);
  sw_gui_first_run_set_demo_port (SW_GUI_FIRST_RUN (w), 11110);
  show_and_wait (w);
  screenshot (w, "first-run", 400, 250);
  GtkWidget *later = find (w, GTK_TYPE_BUTTON, _ ("_Later"), NULL);
  g_object_add_weak_pointer (G_OBJECT (w), (gpointer *)&w);
  gtk_button_clicked (GTK_BUTTON (later));
  g_assert_null (w); /* closed */
  g_assert_true (sw_config_get_first_run_done (config));
  g_autofree char *text = saved_config ();
  g_assert_nonnull (strstr (text, "first-run-done=true"));
}

static void
test_account_editor (void)
{
  GtkWidget *d = sw_gui_settings_dialog_new (app, NULL);
  show_and_wait (d);
  screenshot (d, "settings-accounts", 500, 350);
  sw_gui_settings_dialog_add_account (SW_GUI_SETTINGS_DIALOG (d));
  GtkWidget *editor = NULL;
  g_autoptr (GList) tops = gtk_window_list_toplevels ();
  for (GList *l = tops; l != NULL; l = l->next)
    if (gtk_window_get_transient_for (l->data) == GTK_WINDOW (d))
      editor = l->data;
  g_assert_nonnull (editor);
  show_and_wait (editor);
  /* OK with no name and no server: refused, with the cause shown */
  gtk_dialog_response (GTK_DIALOG (editor), GTK_RESPONSE_OK);
  g_assert_true (GTK_IS_WIDGET (editor));
  GtkWidget *error = NULL;
  {
    /* the error label carries the "error" style class */
    GPtrArray *stack = g_ptr_array_new ();
    g_ptr_array_add (stack, editor);
    while (stack->len > 0 && error == NULL)
      {
        GtkWidget *w = g_ptr_array_steal_index (stack, stack->len - 1);
        if (GTK_IS_LABEL (w) && gtk_style_context_has_class (gtk_widget_get_style_context (w), "error"))
          error = w;
        else if (GTK_IS_CONTAINER (w))
          {
            g_autoptr (GList) kids = gtk_container_get_children (GTK_CONTAINER (w));
            for (GList *k = kids; k != NULL; k = k->next)
              g_ptr_array_add (stack, k->data);
          }
      }
    g_ptr_array_unref (stack);
  }
  g_assert_nonnull (error);
  g_assert_true (gtk_widget_get_visible (error));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (error)), !=, "");
  show_and_wait (editor);
  screenshot (editor, "settings-account-editor", 350, 250);
  gtk_dialog_response (GTK_DIALOG (editor), GTK_RESPONSE_CANCEL);
  gtk_dialog_response (GTK_DIALOG (d), GTK_RESPONSE_CANCEL);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
test_settings_save (void)
{
  g_assert_false (sw_gui_autostart_is_enabled ());
  GtkWidget *d = sw_gui_settings_dialog_new (app, NULL);
  show_and_wait (d);
  GtkWidget *notebook = find (d, GTK_TYPE_NOTEBOOK, NULL, NULL);
  gtk_notebook_set_current_page (GTK_NOTEBOOK (notebook), 1);
  show_and_wait (d);
  screenshot (d, "settings-popups", 500, 350);
  /* the defaults are ticked */
  g_assert_true (
      gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (find (d, GTK_TYPE_CHECK_BUTTON, NULL, "reject"))));
  g_assert_true (
      gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (find (d, GTK_TYPE_CHECK_BUTTON, NULL, "quarantine"))));
  g_assert_false (
      gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (find (d, GTK_TYPE_CHECK_BUTTON, NULL, "pass"))));
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (find (d, GTK_TYPE_CHECK_BUTTON, NULL, "fail-none")), TRUE);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (find (d, GTK_TYPE_CHECK_BUTTON, NULL, "quarantine")),
                                FALSE);
  gtk_notebook_set_current_page (GTK_NOTEBOOK (notebook), 2);
  show_and_wait (d);
  screenshot (d, "settings-general", 500, 350);
  gtk_toggle_button_set_active (
      GTK_TOGGLE_BUTTON (find (d, GTK_TYPE_CHECK_BUTTON, _ ("_Start Spoofwatch when I log in"), NULL)), TRUE);
  gtk_toggle_button_set_active (
      GTK_TOGGLE_BUTTON (
          find (d, GTK_TYPE_CHECK_BUTTON, _ ("Offer the _demo mailbox when no account is set up"), NULL)),
      FALSE);
  g_object_add_weak_pointer (G_OBJECT (d), (gpointer *)&d);
  gtk_dialog_response (GTK_DIALOG (d), GTK_RESPONSE_ACCEPT);
  g_assert_null (d); /* saved and closed */

  g_assert_cmpuint (sw_config_get_popup_verdicts (config), ==,
                    SW_CONFIG_VERDICT_BIT (SW_VERDICT_FAIL_NONE) | SW_CONFIG_VERDICT_BIT (SW_VERDICT_REJECT));
  g_autofree char *text = saved_config ();
  g_assert_nonnull (strstr (text, "popup-verdicts=fail-none;reject;"));
  g_assert_nonnull (strstr (text, "demo=false"));
  g_assert_nonnull (strstr (text, "[account work]")); /* the account is kept */
  g_assert_true (sw_gui_autostart_is_enabled ());
  g_autofree char *autostart = sw_gui_autostart_path ();
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_assert_true (g_key_file_load_from_file (kf, autostart, G_KEY_FILE_NONE, NULL));
  g_autofree char *exec = g_key_file_get_string (kf, "Desktop Entry", "Exec", NULL);
  g_assert_true (g_str_has_suffix (exec, " --hidden"));
  g_assert_nonnull (strstr (exec, "test-notify-dialogs")); /* this program's own path */
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

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  g_autofree char *locale_dir = g_build_filename (g_getenv ("SW_BUILD_DIR"), "locale", NULL);
  bindtextdomain (GETTEXT_PACKAGE, locale_dir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  g_test_init (&argc, &argv, NULL);
  if (argc > 1)
    suffix = argv[1];
  if (!gtk_init_check (NULL, NULL))
    g_error ("no display: run inside tests/gui/gui-session.sh");
  sw_gui_resources_init ();

  g_autoptr (GError) error = NULL;
  tmp_dir = g_dir_make_tmp ("sw-test-dialogs-XXXXXX", &error);
  g_assert_no_error (error);
  conf_path = g_build_filename (tmp_dir, "spoofwatch.conf", NULL);
  g_autofree char *store_path = g_build_filename (tmp_dir, "verdicts.sqlite", NULL);
  store = sw_store_open (store_path, &error);
  g_assert_no_error (error);
  config = sw_config_new ();
  g_autoptr (SwAccount) a = sw_account_new ();
  a->name = g_strdup ("work");
  a->listen_port = 11111;
  a->upstream_host = g_strdup ("pop.example.net");
  a->upstream_port = 995;
  g_assert_true (sw_config_add_account (config, a, &error));
  g_assert_true (sw_config_save (config, conf_path, &error));
  /* the autostart file of this run goes to the session's private XDG_CONFIG_HOME */
  g_assert_nonnull (g_getenv ("SW_GUI_SESSION_DIR"));
  g_assert_true (g_str_has_prefix (g_get_user_config_dir (), g_getenv ("SW_GUI_SESSION_DIR")));
  if (!sw_gui_autostart_set (FALSE, NULL, &error))
    g_error ("cannot clear the autostart file: %s", error->message);

  app = sw_gui_app_new (store, config, conf_path);
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));

  g_test_add_func ("/gui/dialogs/first-run", test_first_run);
  g_test_add_func ("/gui/dialogs/account-editor", test_account_editor);
  g_test_add_func ("/gui/dialogs/settings-save", test_settings_save);
  int status = g_test_run ();

  g_clear_object (&app);
  g_clear_pointer (&config, sw_config_free);
  g_clear_pointer (&store, sw_store_close);
  remove_tree (tmp_dir);
  g_free (tmp_dir);
  g_free (conf_path);
  return status;
}
