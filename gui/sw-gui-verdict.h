/* sw-gui-verdict.h: how a verdict looks in the GUI (DESIGN.md, "Verdicts"): a colour chip
 * that always comes with its word, an icon whose shape differs per verdict, a tooltip
 * that says what the verdict means. Colour is never the only signal.
 *
 * Every text is translated (gettext, domain "spoofwatch") at the time of the call; the
 * returned strings are static or owned by gettext (transfer none). Thread-safe. */
#pragma once
#include "sw-types.h"
G_BEGIN_DECLS

/* The word on the chip: "Pass", "No DMARC", "Fail (monitor)", "Quarantine", "Reject",
 * "Temporary error", "Permanent error" (translated). "Unknown" for other values. */
const char *sw_gui_verdict_word (SwVerdict verdict);

/* One sentence for the tooltip and the accessible description, e.g. for reject: "DMARC
 * failed and the sender's domain asks to reject such mail: very likely forged."
 * (translated). */
const char *sw_gui_verdict_tooltip (SwVerdict verdict);

/* CSS class of the chip: "sw-verdict-pass", "sw-verdict-none", "sw-verdict-fail-none",
 * "sw-verdict-quarantine", "sw-verdict-reject", "sw-verdict-temperror",
 * "sw-verdict-permerror"; "sw-verdict-unknown" for other values. Not translated. */
const char *sw_gui_verdict_css_class (SwVerdict verdict);

/* Icon name of the chip in the icon theme (compiled-in resources, see
 * sw_gui_resources_init()): "sw-verdict-pass", ... Not translated. */
const char *sw_gui_verdict_icon_name (SwVerdict verdict);

/* Icon name of the tray icon for the worst verdict @verdict: "sw-tray-pass", ...;
 * "sw-tray-idle" for SW_VERDICT_COUNT (nothing unread). Not translated. */
const char *sw_gui_verdict_tray_icon_name (SwVerdict verdict);

/* The chip colour as "#rrggbb" (for drawing outside CSS). Not translated. */
const char *sw_gui_verdict_color (SwVerdict verdict);

/* How bad a verdict is, for "the worst verdict": reject 6, quarantine 5, fail-none 4,
 * permerror 3, temperror 2, none 1, pass 0; -1 for other values. */
int sw_gui_verdict_severity (SwVerdict verdict);

G_END_DECLS
