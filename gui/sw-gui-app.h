/* sw-gui-app.h: the Spoofwatch GTK application (the window, the tray and the pop-ups run in
 * the `spoofwatch` process beside the proxies, which keep running in their own threads).
 *
 * The application borrows the verdict store and the configuration of the program: the
 * caller (app/) keeps both alive until the application is finalised and the proxies are
 * stopped. Everything here runs in the main thread (the GTK thread) unless said otherwise.
 *
 * Actions on the application (GActionGroup, also exported on D-Bus by GApplication):
 *   app.open-window                 show and present the main window
 *   app.show-details (int64 id)     the main window on the record with that id
 *   app.settings                    the settings dialog (when the settings code is built in)
 *   app.pause (stateful boolean)    protection paused: the proxies pass mail unverified;
 *                                   the program follows the "paused" property
 *   app.quit                        quit the application
 * With SW_GUI_TEST=1 in the environment, test-only actions are added (sw-gui-app.c,
 * "Test hooks"): app.test-dump (string file), app.test-screenshot (string file),
 * app.test-filter (string "VERDICT<TAB>TEXT"), app.test-scroll-details (double 0..1). */
#pragma once
#include <gtk/gtk.h>

#include "sw-config.h"
#include "sw-store.h"
G_BEGIN_DECLS

#define SW_GUI_APP_ID "org.spoofwatch.Spoofwatch"

#define SW_TYPE_GUI_APP (sw_gui_app_get_type ())
G_DECLARE_FINAL_TYPE (SwGuiApp, sw_gui_app, SW, GUI_APP, GtkApplication)

/* A new application with id SW_GUI_APP_ID on @store and @config (both transfer none: the
 * caller keeps them alive until the application is finalised; @config is used from the
 * main thread only). @config_path is where the settings are saved (copied). Transfer
 * full. Main thread. */
SwGuiApp *sw_gui_app_new (SwStore *store, SwConfig *config, const char *config_path);

/* The store (transfer none). Thread-safe (the store itself is). */
SwStore *sw_gui_app_get_store (SwGuiApp *app);

/* The configuration (transfer none). Main thread only. */
SwConfig *sw_gui_app_get_config (SwGuiApp *app);

/* Where the configuration is saved (transfer none). Main thread. */
const char *sw_gui_app_get_config_path (SwGuiApp *app);

/* Called from any thread (the proxies' worker threads) when a verdict was stored: the
 * application emits "verdict-added" (gint64 record id) on the main thread soon after.
 * Never blocks. Holds a reference to @app until the signal has been emitted. Thread-safe. */
void sw_gui_app_notify_verdict (SwGuiApp *app, gint64 record_id);

/* Opens (creating if needed) and presents the main window with record @record_id
 * selected and its details shown. Main thread. */
void sw_gui_app_show_details (SwGuiApp *app, gint64 record_id);

/* Tells the application that messages were marked seen (main thread), so the tray's
 * count of unseen suspicious mail follows what the user has read. */
void sw_gui_app_seen_changed (SwGuiApp *app);

/* The main window, or NULL when it was never opened (transfer none). Main thread. */
GtkWindow *sw_gui_app_get_window (SwGuiApp *app);

/* Whether protection is paused (the state of app.pause, also the "paused" property:
 * connect to notify::paused to follow it). Main thread. */
gboolean sw_gui_app_get_paused (SwGuiApp *app);
void sw_gui_app_set_paused (SwGuiApp *app, gboolean paused);

/* Whether the first window opens at start-up (default TRUE). The program sets FALSE for
 * --hidden (tray only). Call before g_application_run(). Main thread. */
void sw_gui_app_set_show_window_on_start (SwGuiApp *app, gboolean show);

/* The port of the demo mailbox's proxy (0: the demo is not running), for the first-run
 * screen and the settings. Set by the program after starting the proxies. Main thread. */
void sw_gui_app_set_demo_port (SwGuiApp *app, guint16 port);
guint16 sw_gui_app_get_demo_port (SwGuiApp *app);

/* Registers the compiled-in resources, the icons and the CSS on the default screen.
 * Idempotent; called at start-up; tests that build widgets without the application call
 * it themselves. Main thread, after gtk_init(). */
void sw_gui_resources_init (void);

G_END_DECLS
