#define G_LOG_DOMAIN "sw-gui"

#include <glib/gi18n-lib.h>

#include "sw-gui-verdict.h"

/* Indexed by SwVerdict. The colours follow DESIGN.md's table; the glyph inside each icon
 * (assets/icons) differs too: check, dash, exclamation, triangle, cross, clock, question. */
typedef struct
{
  const char *word;    /* N_() */
  const char *tooltip; /* N_() */
  const char *css;
  const char *icon;
  const char *tray_icon;
  const char *color;
  int severity;
} VerdictLook;

static const VerdictLook looks[] = {
  [SW_VERDICT_PASS] = { N_("Pass"),
                        N_("DMARC passed: the message really comes from the domain in its From: line."),
                        "sw-verdict-pass", "sw-verdict-pass", "sw-tray-pass", "#2e7d32", 0 },
  [SW_VERDICT_NONE] = { N_("No DMARC"),
                        N_("The sender's domain publishes no DMARC policy: its origin cannot be "
                           "confirmed. Only the SPF and DKIM facts are shown."),
                        "sw-verdict-none", "sw-verdict-none", "sw-tray-none", "#757575", 1 },
  [SW_VERDICT_FAIL_NONE] = { N_("Fail (monitor)"),
                             N_("DMARC failed, but the sender's domain only monitors (policy none): "
                                "be careful, it may be forged."),
                             "sw-verdict-fail-none", "sw-verdict-fail-none", "sw-tray-fail-none", "#f9c80e",
                             4 },
  [SW_VERDICT_QUARANTINE] = { N_("Quarantine"),
                              N_("DMARC failed and the sender's domain asks to treat such mail as "
                                 "suspicious: probably forged."),
                              "sw-verdict-quarantine", "sw-verdict-quarantine", "sw-tray-quarantine",
                              "#ef6c00", 5 },
  [SW_VERDICT_REJECT] = { N_("Reject"),
                          N_("DMARC failed and the sender's domain asks to reject such mail: very "
                             "likely forged."),
                          "sw-verdict-reject", "sw-verdict-reject", "sw-tray-reject", "#c62828", 6 },
  [SW_VERDICT_TEMPERROR] = { N_("Temporary error"),
                             N_("The check could not finish (for example DNS did not answer): the "
                                "origin is unknown. It is checked again on the next download."),
                             "sw-verdict-temperror", "sw-verdict-temperror", "sw-tray-temperror",
                             "#9e9e9e", 2 },
  [SW_VERDICT_PERMERROR] = { N_("Permanent error"),
                             N_("The sender's DMARC record or the message is broken beyond checking: "
                                "the origin is unknown."),
                             "sw-verdict-permerror", "sw-verdict-permerror", "sw-tray-permerror", "#9e9e9e",
                             3 },
};
G_STATIC_ASSERT (G_N_ELEMENTS (looks) == SW_VERDICT_COUNT);

static const VerdictLook *
look (SwVerdict verdict)
{
  if ((guint)verdict >= SW_VERDICT_COUNT)
    return NULL;
  return &looks[verdict];
}

const char *
sw_gui_verdict_word (SwVerdict verdict)
{
  const VerdictLook *l = look (verdict);
  return l ? _(l->word) : _("Unknown");
}

const char *
sw_gui_verdict_tooltip (SwVerdict verdict)
{
  const VerdictLook *l = look (verdict);
  return l ? _(l->tooltip) : _("Unknown verdict.");
}

const char *
sw_gui_verdict_css_class (SwVerdict verdict)
{
  const VerdictLook *l = look (verdict);
  return l ? l->css : "sw-verdict-unknown";
}

const char *
sw_gui_verdict_icon_name (SwVerdict verdict)
{
  const VerdictLook *l = look (verdict);
  return l ? l->icon : "sw-verdict-permerror";
}

const char *
sw_gui_verdict_tray_icon_name (SwVerdict verdict)
{
  const VerdictLook *l = look (verdict);
  return l ? l->tray_icon : "sw-tray-idle";
}

const char *
sw_gui_verdict_color (SwVerdict verdict)
{
  const VerdictLook *l = look (verdict);
  return l ? l->color : "#9e9e9e";
}

int
sw_gui_verdict_severity (SwVerdict verdict)
{
  const VerdictLook *l = look (verdict);
  return l ? l->severity : -1;
}
