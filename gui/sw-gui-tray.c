#define G_LOG_DOMAIN "sw-gui"

#include "sw-gui-tray.h"

#include <glib/gi18n-lib.h>
#include <libayatana-appindicator/app-indicator.h>

#include "sw-gui-verdict.h"

#define PAUSED_ICON "sw-tray-paused"

struct _SwGuiTray
{
  SwGuiApp *app; /* borrowed */
  AppIndicator *indicator;
  GtkWidget *menu;
  GtkWidget *state_item;
  GtkWidget *pause_item;
  gulong pause_toggled;
  gulong verdict_handler;
  gulong paused_handler;
  SwVerdict worst; /* SW_VERDICT_COUNT: nothing unseen */
  guint count;
  GCancellable *cancellable; /* of the refresh in flight */
  gboolean refresh_again;
};

typedef struct
{
  SwVerdict worst;
  guint count;
} TrayState;

char *
sw_gui_tray_format_title (SwVerdict worst, guint count, gboolean paused)
{
  if (paused)
    return g_strdup (_ ("Spoofwatch: protection paused, mail is not checked"));
  switch (worst)
    {
    case SW_VERDICT_PASS:
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Spoofwatch: %u unread message, it passed",
                                           "Spoofwatch: %u unread messages, all passed", count),
                              count);
    case SW_VERDICT_NONE:
      return g_strdup_printf (
          g_dngettext (GETTEXT_PACKAGE, "Spoofwatch: %u unread message from a domain without DMARC",
                       "Spoofwatch: %u unread messages from domains without DMARC", count),
          count);
    case SW_VERDICT_FAIL_NONE:
      return g_strdup_printf (
          g_dngettext (GETTEXT_PACKAGE,
                       "Spoofwatch: %u unread message failed DMARC (its domain only monitors)",
                       "Spoofwatch: %u unread messages failed DMARC (their domains only monitor)", count),
          count);
    case SW_VERDICT_QUARANTINE:
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "Spoofwatch: %u unread suspicious message (Quarantine)",
                                           "Spoofwatch: %u unread suspicious messages (Quarantine)", count),
                              count);
    case SW_VERDICT_REJECT:
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "Spoofwatch: %u unread message probably forged (Reject)",
                                           "Spoofwatch: %u unread messages probably forged (Reject)", count),
                              count);
    case SW_VERDICT_TEMPERROR:
    case SW_VERDICT_PERMERROR:
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "Spoofwatch: %u unread message could not be checked",
                                           "Spoofwatch: %u unread messages could not be checked", count),
                              count);
    case SW_VERDICT_COUNT:
      break;
    }
  return g_strdup (_ ("Spoofwatch: no unread mail to look at"));
}

/* ---- State from the store (worker thread) ---- */

static void
compute_state (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  SwStore *store = task_data;
  SwStoreQuery q = { .unseen_only = TRUE };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) records = sw_store_list (store, &q, SW_GUI_TRAY_RECENT_LIMIT, 0, &error);
  if (records == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  gint64 since = g_get_real_time () / G_USEC_PER_SEC - (gint64)SW_GUI_TRAY_RECENT_DAYS * 24 * 3600;
  TrayState *st = g_new0 (TrayState, 1);
  st->worst = SW_VERDICT_COUNT;
  for (guint i = 0; i < records->len; i++)
    {
      const SwStoreRecord *r = g_ptr_array_index (records, i);
      if (r->verified_at < since)
        break; /* newest first */
      int sev = sw_gui_verdict_severity (r->verdict);
      if (sev < 0)
        continue;
      if (st->worst == SW_VERDICT_COUNT || sev > sw_gui_verdict_severity (st->worst))
        {
          st->worst = r->verdict;
          st->count = 0;
        }
      if (r->verdict == st->worst)
        st->count++;
    }
  g_task_return_pointer (task, st, g_free);
}

static void
apply_state (SwGuiTray *tray)
{
  gboolean paused = sw_gui_app_get_paused (tray->app);
  g_autofree char *title = sw_gui_tray_format_title (tray->worst, tray->count, paused);
  const char *icon = paused ? PAUSED_ICON : sw_gui_verdict_tray_icon_name (tray->worst);
  app_indicator_set_icon_full (tray->indicator, icon, title);
  app_indicator_set_title (tray->indicator, title);
  gtk_menu_item_set_label (GTK_MENU_ITEM (tray->state_item), title);
  g_signal_handler_block (tray->pause_item, tray->pause_toggled);
  gtk_check_menu_item_set_active (GTK_CHECK_MENU_ITEM (tray->pause_item), paused);
  g_signal_handler_unblock (tray->pause_item, tray->pause_toggled);
  app_indicator_set_status (
      tray->indicator, (!paused && (tray->worst == SW_VERDICT_QUARANTINE || tray->worst == SW_VERDICT_REJECT))
                           ? APP_INDICATOR_STATUS_ATTENTION
                           : APP_INDICATOR_STATUS_ACTIVE);
  app_indicator_set_attention_icon_full (tray->indicator, icon, title);
}

static void start_refresh (SwGuiTray *tray);

static void
state_computed (GObject *source, GAsyncResult *res, gpointer user_data)
{
  GTask *task = G_TASK (res);
  if (g_cancellable_is_cancelled (g_task_get_cancellable (task)))
    return; /* the tray is gone or a newer refresh replaced this one */
  SwGuiTray *tray = user_data;
  g_clear_object (&tray->cancellable);
  g_autoptr (GError) error = NULL;
  g_autofree TrayState *st = g_task_propagate_pointer (task, &error);
  if (st == NULL)
    g_message ("tray: cannot read the verdict store: %s", error->message);
  else
    {
      tray->worst = st->worst;
      tray->count = st->count;
    }
  apply_state (tray);
  if (tray->refresh_again)
    {
      tray->refresh_again = FALSE;
      start_refresh (tray);
    }
}

static void
start_refresh (SwGuiTray *tray)
{
  if (tray->cancellable != NULL)
    {
      tray->refresh_again = TRUE;
      return;
    }
  tray->cancellable = g_cancellable_new ();
  g_autoptr (GTask) task = g_task_new (NULL, tray->cancellable, state_computed, tray);
  g_task_set_task_data (task, sw_gui_app_get_store (tray->app), NULL);
  g_task_set_return_on_cancel (task, FALSE);
  g_task_run_in_thread (task, compute_state);
}

void
sw_gui_tray_refresh (SwGuiTray *tray)
{
  g_return_if_fail (tray != NULL);
  start_refresh (tray);
}

SwVerdict
sw_gui_tray_get_state (SwGuiTray *tray, guint *n_unseen_out)
{
  g_return_val_if_fail (tray != NULL, SW_VERDICT_COUNT);
  if (n_unseen_out != NULL)
    *n_unseen_out = tray->count;
  return tray->worst;
}

/* ---- Menu and signals ---- */

static void
on_verdict_added (SwGuiApp *app, gint64 record_id, gpointer user_data)
{
  start_refresh (user_data);
}

static void
on_paused_changed (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  apply_state (user_data);
}

static void
on_pause_toggled (GtkCheckMenuItem *item, gpointer user_data)
{
  SwGuiTray *tray = user_data;
  sw_gui_app_set_paused (tray->app, gtk_check_menu_item_get_active (item));
}

static GtkWidget *
add_item (SwGuiTray *tray, const char *label, const char *action)
{
  GtkWidget *item = gtk_menu_item_new_with_mnemonic (label);
  if (action != NULL)
    gtk_actionable_set_action_name (GTK_ACTIONABLE (item), action);
  gtk_menu_shell_append (GTK_MENU_SHELL (tray->menu), item);
  return item;
}

/* The folder holding the tray icons when running from the source tree (an installed
 * program finds them in the hicolor theme). */
static char *
find_icon_dir (void)
{
  const char *candidates[]
      = { "assets/icons/scalable/status", "assets/icons", "assets/icons/hicolor/scalable/status" };
  for (gsize i = 0; i < G_N_ELEMENTS (candidates); i++)
    {
      g_autofree char *dir = g_build_filename (SW_SOURCE_DIR, candidates[i], NULL);
      g_autofree char *svg = g_build_filename (dir, "sw-tray-idle.svg", NULL);
      g_autofree char *png = g_build_filename (dir, "sw-tray-idle.png", NULL);
      if (g_file_test (svg, G_FILE_TEST_EXISTS) || g_file_test (png, G_FILE_TEST_EXISTS))
        return g_steal_pointer (&dir);
    }
  return NULL;
}

SwGuiTray *
sw_gui_tray_new (SwGuiApp *app)
{
  g_return_val_if_fail (SW_IS_GUI_APP (app), NULL);
  SwGuiTray *tray = g_new0 (SwGuiTray, 1);
  tray->app = app;
  tray->worst = SW_VERDICT_COUNT;

  tray->menu = g_object_ref_sink (gtk_menu_new ());
  gtk_widget_insert_action_group (tray->menu, "app", G_ACTION_GROUP (app));
  tray->state_item = add_item (tray, "", NULL);
  gtk_widget_set_sensitive (tray->state_item, FALSE);
  gtk_menu_shell_append (GTK_MENU_SHELL (tray->menu), gtk_separator_menu_item_new ());
  add_item (tray, _ ("_Open window"), "app.open-window");
  tray->pause_item = gtk_check_menu_item_new_with_mnemonic (_ ("_Pause protection"));
  gtk_menu_shell_append (GTK_MENU_SHELL (tray->menu), tray->pause_item);
  tray->pause_toggled = g_signal_connect (tray->pause_item, "toggled", G_CALLBACK (on_pause_toggled), tray);
  add_item (tray, _ ("_Settings…"), "app.settings");
  gtk_menu_shell_append (GTK_MENU_SHELL (tray->menu), gtk_separator_menu_item_new ());
  add_item (tray, _ ("_Quit"), "app.quit");
  gtk_widget_show_all (tray->menu);

  tray->indicator = app_indicator_new (SW_GUI_TRAY_ID, sw_gui_verdict_tray_icon_name (SW_VERDICT_COUNT),
                                       APP_INDICATOR_CATEGORY_COMMUNICATIONS);
  g_autofree char *icon_dir = find_icon_dir ();
  if (icon_dir != NULL)
    {
      /* libayatana-appindicator 0.5.90's fallback (no StatusNotifierWatcher: a
       * GtkStatusIcon) looks for this path in the default theme's search path with a loop
       * that reads past the array when it is absent; having it there already avoids that
       * (and lets the fallback icon find our icons). */
      GtkIconTheme *theme = gtk_icon_theme_get_default ();
      g_auto (GStrv) path = NULL;
      gtk_icon_theme_get_search_path (theme, &path, NULL);
      if (path == NULL || !g_strv_contains ((const char *const *)path, icon_dir))
        gtk_icon_theme_append_search_path (theme, icon_dir);
      app_indicator_set_icon_theme_path (tray->indicator, icon_dir);
    }
  app_indicator_set_menu (tray->indicator, GTK_MENU (tray->menu));
  apply_state (tray);

  tray->verdict_handler = g_signal_connect (app, "verdict-added", G_CALLBACK (on_verdict_added), tray);
  tray->paused_handler = g_signal_connect (app, "notify::paused", G_CALLBACK (on_paused_changed), tray);
  start_refresh (tray);
  return tray;
}

void
sw_gui_tray_free (SwGuiTray *tray)
{
  if (tray == NULL)
    return;
  if (tray->cancellable != NULL)
    g_cancellable_cancel (tray->cancellable);
  g_clear_object (&tray->cancellable);
  g_clear_signal_handler (&tray->verdict_handler, tray->app);
  g_clear_signal_handler (&tray->paused_handler, tray->app);
  if (tray->indicator != NULL)
    app_indicator_set_status (tray->indicator, APP_INDICATOR_STATUS_PASSIVE);
  g_clear_object (&tray->indicator);
  if (tray->menu != NULL)
    gtk_widget_destroy (tray->menu);
  g_clear_object (&tray->menu);
  g_free (tray);
}
