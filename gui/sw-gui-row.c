#define G_LOG_DOMAIN "sw-gui"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "sw-gui-row.h"

struct _SwGuiRow
{
  GObject parent_instance;
  gint64 id;
  SwVerdict verdict;
  char *from;
  char *from_domain;
  char *subject;
  char *account;
  gint64 verified_at;
  gboolean seen;
};

G_DEFINE_FINAL_TYPE (SwGuiRow, sw_gui_row, G_TYPE_OBJECT)

static void
sw_gui_row_finalize (GObject *object)
{
  SwGuiRow *row = SW_GUI_ROW (object);
  g_free (row->from);
  g_free (row->from_domain);
  g_free (row->subject);
  g_free (row->account);
  G_OBJECT_CLASS (sw_gui_row_parent_class)->finalize (object);
}

static void
sw_gui_row_class_init (SwGuiRowClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sw_gui_row_finalize;
}

static void
sw_gui_row_init (SwGuiRow *row)
{
}

SwGuiRow *
sw_gui_row_new (const SwStoreRecord *record)
{
  g_return_val_if_fail (record != NULL, NULL);
  SwGuiRow *row = g_object_new (SW_TYPE_GUI_ROW, NULL);
  row->id = record->id;
  row->verdict = record->verdict;
  row->from = g_strdup (record->from_header ? record->from_header : "");
  row->from_domain = g_strdup (record->from_domain ? record->from_domain : "");
  row->subject = g_strdup (record->subject ? record->subject : "");
  row->account = g_strdup (record->account ? record->account : "");
  row->verified_at = record->verified_at;
  row->seen = record->seen;
  return row;
}

gint64
sw_gui_row_get_id (SwGuiRow *row)
{
  g_return_val_if_fail (SW_IS_GUI_ROW (row), 0);
  return row->id;
}

SwVerdict
sw_gui_row_get_verdict (SwGuiRow *row)
{
  g_return_val_if_fail (SW_IS_GUI_ROW (row), SW_VERDICT_PERMERROR);
  return row->verdict;
}

const char *
sw_gui_row_get_from (SwGuiRow *row)
{
  g_return_val_if_fail (SW_IS_GUI_ROW (row), "");
  return row->from;
}

const char *
sw_gui_row_get_from_domain (SwGuiRow *row)
{
  g_return_val_if_fail (SW_IS_GUI_ROW (row), "");
  return row->from_domain;
}

const char *
sw_gui_row_get_subject (SwGuiRow *row)
{
  g_return_val_if_fail (SW_IS_GUI_ROW (row), "");
  return row->subject;
}

const char *
sw_gui_row_get_account (SwGuiRow *row)
{
  g_return_val_if_fail (SW_IS_GUI_ROW (row), "");
  return row->account;
}

gint64
sw_gui_row_get_verified_at (SwGuiRow *row)
{
  g_return_val_if_fail (SW_IS_GUI_ROW (row), 0);
  return row->verified_at;
}

gboolean
sw_gui_row_get_seen (SwGuiRow *row)
{
  g_return_val_if_fail (SW_IS_GUI_ROW (row), FALSE);
  return row->seen;
}

void
sw_gui_row_set_seen (SwGuiRow *row, gboolean seen)
{
  g_return_if_fail (SW_IS_GUI_ROW (row));
  row->seen = seen;
}

char *
sw_gui_row_format_time (SwGuiRow *row)
{
  g_return_val_if_fail (SW_IS_GUI_ROW (row), NULL);
  g_autoptr (GDateTime) t = g_date_time_new_from_unix_local (row->verified_at);
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  if (t == NULL || now == NULL)
    return g_strdup ("");
  if (g_date_time_get_year (t) == g_date_time_get_year (now)
      && g_date_time_get_day_of_year (t) == g_date_time_get_day_of_year (now))
    /* TRANSLATORS: time of a message verified today, g_date_time_format() */
    return g_date_time_format (t, _("%H:%M"));
  GTimeSpan age = g_date_time_difference (now, t);
  if (age >= 0 && age < 6 * G_TIME_SPAN_DAY)
    /* TRANSLATORS: weekday and time of a message verified this week, g_date_time_format() */
    return g_date_time_format (t, _("%a %H:%M"));
  /* TRANSLATORS: date of an older message, g_date_time_format() */
  return g_date_time_format (t, _("%Y-%m-%d"));
}

static gboolean
contains_ascii_ci (const char *haystack, const char *needle_lower)
{
  g_autofree char *h = g_ascii_strdown (haystack, -1);
  return strstr (h, needle_lower) != NULL;
}

gboolean
sw_gui_row_matches (SwGuiRow *row, int verdict_filter, const char *text)
{
  g_return_val_if_fail (SW_IS_GUI_ROW (row), FALSE);
  if (verdict_filter >= 0 && (int)row->verdict != verdict_filter)
    return FALSE;
  if (text == NULL || *text == '\0')
    return TRUE;
  g_autofree char *needle = g_ascii_strdown (text, -1);
  return contains_ascii_ci (row->from, needle) || contains_ascii_ci (row->from_domain, needle)
         || contains_ascii_ci (row->subject, needle);
}
