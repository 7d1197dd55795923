/* sw-gui-details.h: the details of one message: the plain-language explanation first,
 * then the evidence of its evidence_json (docs/json.md): the sender, the envelope SPF
 * was checked for (IP, HELO, mail-from and where each came from), SPF, each DKIM
 * signature, the DMARC record and alignment, trusted providers' results; and a button
 * that copies the same as a text report to the clipboard. Main thread. */
#pragma once
#include <gtk/gtk.h>

#include "sw-store.h"
G_BEGIN_DECLS

#define SW_TYPE_GUI_DETAILS (sw_gui_details_get_type ())
G_DECLARE_FINAL_TYPE (SwGuiDetails, sw_gui_details, SW, GUI_DETAILS, GtkBox)

/* An empty details view (shows nothing until a record is set). Transfer floating. */
GtkWidget *sw_gui_details_new (void);

/* Shows @record (copied; transfer none), or clears the view for NULL. Evidence that is
 * missing, truncated by the store or not JSON is said so in the view, never fatal. */
void sw_gui_details_set_record (SwGuiDetails *self, const SwStoreRecord *record);

/* The record shown, or NULL (transfer none). */
const SwStoreRecord *sw_gui_details_get_record (SwGuiDetails *self);

/* Copies the text report of the record shown to the CLIPBOARD selection; nothing without
 * a record. */
void sw_gui_details_copy_report (SwGuiDetails *self);

/* The text report of @record (borrowed): verdict, explanation, then the evidence in
 * the order of the view, one "Label: value" line each, in the current language. Transfer
 * full. Thread-safe. */
char *sw_gui_details_report_text (const SwStoreRecord *record);

G_END_DECLS
