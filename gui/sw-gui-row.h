/* sw-gui-row.h: one message in the main window's list: the display fields of a verdict
 * store record (not its evidence, so 10,000 rows stay small). Immutable except for the
 * "seen" flag. Main thread (GObject refcounting itself is thread-safe, so a row may be
 * built in a worker and handed over). */
#pragma once
#include <glib-object.h>

#include "sw-store.h"
G_BEGIN_DECLS

#define SW_TYPE_GUI_ROW (sw_gui_row_get_type ())
G_DECLARE_FINAL_TYPE (SwGuiRow, sw_gui_row, SW, GUI_ROW, GObject)

/* A row with the display fields of @record (copied; @record transfer none). Missing
 * From:/Subject become "" (the view shows a placeholder). Transfer full. Thread-safe. */
SwGuiRow *sw_gui_row_new (const SwStoreRecord *record);

/* Getters: transfer none, valid as long as the row. */
gint64 sw_gui_row_get_id (SwGuiRow *row);
SwVerdict sw_gui_row_get_verdict (SwGuiRow *row);
const char *sw_gui_row_get_from (SwGuiRow *row);        /* decoded From: header */
const char *sw_gui_row_get_from_domain (SwGuiRow *row); /* may be "" */
const char *sw_gui_row_get_subject (SwGuiRow *row);
const char *sw_gui_row_get_account (SwGuiRow *row);
gint64 sw_gui_row_get_verified_at (SwGuiRow *row); /* Unix time */
gboolean sw_gui_row_get_seen (SwGuiRow *row);
void sw_gui_row_set_seen (SwGuiRow *row, gboolean seen);

/* The verification time for the list: "14:05" today, "Mon 14:05" within a week, else
 * "2026-11-03" (local time, translated formats). Transfer full. */
char *sw_gui_row_format_time (SwGuiRow *row);

/* TRUE if @row passes the list's filter: @verdict_filter < 0 or equal to the verdict,
 * and @text NULL/"" or an ASCII case-insensitive substring of From:, From domain or
 * Subject (the same rule as SwStoreQuery.text). */
gboolean sw_gui_row_matches (SwGuiRow *row, int verdict_filter, const char *text);

G_END_DECLS
