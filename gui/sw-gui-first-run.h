/* sw-gui-first-run.h: the first-run screen. It says in three plain sentences what
 * Spoofwatch does and offers the demo mailbox (showing the host and port to type into a
 * mail client) or adding a mail account (the settings dialog's account editor).
 *
 * The application shows it at start when sw_gui_first_run_wanted() is TRUE. Any button
 * sets [general] first-run-done and saves the configuration, so it is shown once.
 * Main thread only. */
#pragma once
#include "sw-gui-app.h"
G_BEGIN_DECLS

#define SW_TYPE_GUI_FIRST_RUN (sw_gui_first_run_get_type ())
G_DECLARE_FINAL_TYPE (SwGuiFirstRun, sw_gui_first_run, SW, GUI_FIRST_RUN, GtkWindow)

/* TRUE when @config has no account and first-run-done is not set. */
gboolean sw_gui_first_run_wanted (SwConfig *config);

/* A new first-run window for @app (borrowed), not shown yet. It shows the demo on
 * 127.0.0.1 port 11110 until sw_gui_first_run_set_demo_port() says otherwise. Transfer:
 * a toplevel owned by GTK (destroyed when closed). */
GtkWidget *sw_gui_first_run_new (SwGuiApp *app);

/* The port the demo mailbox really listens on (0: the demo is not running: the screen
 * then says so and offers only adding an account). */
void sw_gui_first_run_set_demo_port (SwGuiFirstRun *first_run, guint16 port);

G_END_DECLS
