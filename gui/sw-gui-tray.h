/* sw-gui-tray.h: the tray icon (libayatana-appindicator3: a StatusNotifierItem on the
 * session bus, or an XEmbed icon where no StatusNotifierWatcher runs).
 *
 * The icon shows the worst verdict of the unseen mail of the last SW_GUI_TRAY_RECENT_DAYS
 * days (sw_store_list with unseen_only), "idle" when there is none, "paused" while
 * protection is paused; its title (the tooltip of most trays and the accessible name)
 * says the same in words, so colour is never the only signal. Its menu: a line telling the
 * state, Open window (app.open-window), Pause protection (check item, app.pause),
 * Settings (app.settings), Quit (app.quit).
 *
 * The state is recomputed in a worker thread (the store is thread-safe) on
 * "verdict-added", on notify::paused and on sw_gui_tray_refresh(); the main thread never
 * waits on SQLite. Main thread only. */
#pragma once
#include "sw-gui-app.h"
G_BEGIN_DECLS

#define SW_GUI_TRAY_RECENT_DAYS 7    /* unseen mail older than this does not colour the icon */
#define SW_GUI_TRAY_RECENT_LIMIT 500 /* newest records read for the state */

/* The indicator id on the bus (StatusNotifierItem Id). */
#define SW_GUI_TRAY_ID "spoofwatch"

typedef struct _SwGuiTray SwGuiTray;

/* Creates the tray icon of @app (borrowed: free the tray before the application is
 * finalised), shows it and starts computing its state. Transfer full. */
SwGuiTray *sw_gui_tray_new (SwGuiApp *app);

/* Removes the icon. NULL is allowed. */
void sw_gui_tray_free (SwGuiTray *tray);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwGuiTray, sw_gui_tray_free)

/* Recomputes the state from the store (e.g. after the window marked messages seen). */
void sw_gui_tray_refresh (SwGuiTray *tray);

/* The current state: the worst unseen recent verdict, or SW_VERDICT_COUNT for none
 * (idle). *@n_unseen_out (may be NULL) gets how many unseen recent messages have that
 * verdict. */
SwVerdict sw_gui_tray_get_state (SwGuiTray *tray, guint *n_unseen_out);

/* The title/tooltip for a state (translated): e.g. "Spoofwatch: 2 unread messages
 * rejected by their domain's policy". @paused wins over the verdict. Transfer full.
 * Thread-safe. */
char *sw_gui_tray_format_title (SwVerdict worst, guint count, gboolean paused);

G_END_DECLS
