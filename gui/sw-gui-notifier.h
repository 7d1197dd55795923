/* sw-gui-notifier.h: desktop pop-ups (libnotify) for new verdicts.
 *
 * The notifier follows the application's "verdict-added" signal. A verdict whose word is
 * in [general] popup-verdicts (default quarantine and reject) raises a pop-up naming the
 * claimed From: domain and why it failed (the record's explanation), urgency critical for
 * reject, with a "Details" action that opens the main window on the message
 * (sw_gui_app_show_details()). Verdicts arriving within SW_GUI_NOTIFY_GROUP_MS of the
 * first one are collected: more than SW_GUI_NOTIFY_GROUP_THRESHOLD of them make one
 * pop-up ("5 suspicious messages") whose action opens the window, instead of a flood.
 *
 * Test hook: with SW_GUI_TEST=1 in the environment, SW_GUI_NOTIFY_GROUP_MS and
 * SW_GUI_NOTIFY_GROUP_THRESHOLD (decimal numbers) replace the defaults.
 *
 * Everything here runs in the main thread. */
#pragma once
#include "sw-gui-app.h"
G_BEGIN_DECLS

#define SW_GUI_NOTIFY_GROUP_MS 2000u     /* window in which verdicts are collected */
#define SW_GUI_NOTIFY_GROUP_THRESHOLD 3u /* more than this many in one window: one pop-up */
#define SW_GUI_NOTIFY_GROUP_MAX_NAMED 3u /* domains named in the grouped pop-up's body */

typedef struct _SwGuiNotifier SwGuiNotifier;

/* Starts following @app's verdicts (libnotify is initialised with the application name;
 * if no notification service answers, pop-ups are logged with g_message and dropped).
 * @app is borrowed: free the notifier before the application is finalised. Transfer
 * full. Main thread. */
SwGuiNotifier *sw_gui_notifier_new (SwGuiApp *app);

/* Stops following, closes nothing that is on screen, drops verdicts still being
 * collected. NULL is allowed. Main thread. */
void sw_gui_notifier_free (SwGuiNotifier *notifier);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwGuiNotifier, sw_gui_notifier_free)

/* Changes the grouping (window in milliseconds, 0: no collecting, each verdict pops up at
 * once; threshold: more than this many collected make one pop-up). Main thread. */
void sw_gui_notifier_set_grouping (SwGuiNotifier *notifier, guint window_ms, guint threshold);

/* The summary line and body of the pop-up for one record (what the notifier shows;
 * translated, the body escaped for the notification markup). Transfer full. Thread-safe. */
char *sw_gui_notifier_format_summary (const SwStoreRecord *record);
char *sw_gui_notifier_format_body (const SwStoreRecord *record);

G_END_DECLS
