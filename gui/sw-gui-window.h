/* sw-gui-window.h: the main window. The list of recent messages from the verdict store,
 * newest first (chip + word, From, Subject, account, time), a filter by verdict and a
 * search box, and the details of the selected message.
 *
 * The store is read in worker threads (GTask) in pages of SW_GUI_WINDOW_FIRST_PAGE, then
 * SW_GUI_WINDOW_PAGE records, up to SW_GUI_WINDOW_MAX_ROWS (the status line says when
 * older messages are not shown: the search finds them). The list is a GtkTreeView on a
 * GtkListStore of SwGuiRow, so 10,000 rows are not 10,000 widgets. New verdicts
 * ("verdict-added" of the application) are read in a worker and put on top when they
 * match the filter. Main thread only. */
#pragma once
#include <gtk/gtk.h>

#include "sw-gui-app.h"
#include "sw-gui-row.h"
G_BEGIN_DECLS

#define SW_GUI_WINDOW_FIRST_PAGE 200u  /* records of the first page: a quick first paint */
#define SW_GUI_WINDOW_PAGE 2000u       /* records of each following page */
#define SW_GUI_WINDOW_MAX_ROWS 50000u  /* rows loaded at most; the search reaches older ones */

#define SW_TYPE_GUI_WINDOW (sw_gui_window_get_type ())
G_DECLARE_FINAL_TYPE (SwGuiWindow, sw_gui_window, SW, GUI_WINDOW, GtkApplicationWindow)

/* A new main window of @app; starts loading the store at once. Transfer floating (the
 * application holds the window). */
SwGuiWindow *sw_gui_window_new (SwGuiApp *app);

/* Selects the record @record_id and shows its details; when the row is not loaded (yet,
 * or filtered out) the filter is cleared and the details are shown as soon as the record
 * is read. */
void sw_gui_window_show_record (SwGuiWindow *self, gint64 record_id);

/* Sets the filter (@verdict < 0: every verdict) and the search text (NULL or "": none),
 * through the widgets, and reloads the list. */
void sw_gui_window_set_filter (SwGuiWindow *self, int verdict, const char *text);

/* Reloads the list from the store (keeps the selection if it is still listed). */
void sw_gui_window_reload (SwGuiWindow *self);

/* TRUE while pages are being read from the store. */
gboolean sw_gui_window_is_loading (SwGuiWindow *self);

/* Rows in the list, the number of records matching the filter in the store (-1 until
 * counted), and the id whose details are shown (0: none). */
guint sw_gui_window_get_n_rows (SwGuiWindow *self);
gint64 sw_gui_window_get_total (SwGuiWindow *self);
gint64 sw_gui_window_get_details_id (SwGuiWindow *self);

/* The row at @position (transfer none), or NULL past the end. */
SwGuiRow *sw_gui_window_get_row (SwGuiWindow *self, guint position);

/* Scrolls the details view to @fraction (0: top, 1: bottom) of its height. */
void sw_gui_window_scroll_details (SwGuiWindow *self, double fraction);

/* Milliseconds the last complete load took (from the reload to the last page shown). */
double sw_gui_window_get_last_load_ms (SwGuiWindow *self);

/* The window as the X server shows it (decorations included), saved as a PNG file at
 * @path (written to @path.part, then renamed, so a reader never sees half a file). Call
 * after the window has painted. FALSE with @error when it is not shown or the file
 * cannot be written. */
gboolean sw_gui_window_save_screenshot (SwGuiWindow *self, const char *path, GError **error);

G_END_DECLS
