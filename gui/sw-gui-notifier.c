#define G_LOG_DOMAIN "sw-gui"

#include "sw-gui-notifier.h"

#include <glib/gi18n-lib.h>
#include <libnotify/notify.h>

#include "sw-gui-verdict.h"

struct _SwGuiNotifier
{
  SwGuiApp *app; /* borrowed */
  gulong verdict_handler;
  guint window_ms;
  guint threshold;
  GArray *collected; /* gint64 record ids waiting for the window to end */
  guint timer;
  GPtrArray *shown; /* NotifyNotification*, kept until closed so their actions work */
};

/* ---- Text ---- */

static const char *
record_domain (const SwStoreRecord *r)
{
  if (r->from_domain != NULL && *r->from_domain != '\0')
    return r->from_domain;
  return _ ("an unknown domain");
}

char *
sw_gui_notifier_format_summary (const SwStoreRecord *record)
{
  g_return_val_if_fail (record != NULL, NULL);
  const char *domain = record_domain (record);
  switch (record->verdict)
    {
    case SW_VERDICT_REJECT:
      /* TRANSLATORS: %s is the domain in the message's From: line */
      return g_strdup_printf (_ ("Probably forged: mail claiming to be from %s"), domain);
    case SW_VERDICT_QUARANTINE:
      /* TRANSLATORS: %s is the domain in the message's From: line */
      return g_strdup_printf (_ ("Suspicious: mail claiming to be from %s"), domain);
    default:
      /* TRANSLATORS: "Pass: mail from example.com"; the first %s is the verdict word */
      return g_strdup_printf (_ ("%s: mail from %s"), sw_gui_verdict_word (record->verdict), domain);
    }
}

char *
sw_gui_notifier_format_body (const SwStoreRecord *record)
{
  g_return_val_if_fail (record != NULL, NULL);
  GString *s = g_string_new (NULL);
  if (record->subject != NULL && *record->subject != '\0')
    {
      g_autofree char *subject = g_markup_escape_text (record->subject, -1);
      /* TRANSLATORS: the message's Subject: line */
      g_string_append_printf (s, _ ("Subject: %s"), subject);
      g_string_append_c (s, '\n');
    }
  const char *why = record->explanation != NULL && *record->explanation != '\0'
                        ? record->explanation
                        : sw_gui_verdict_tooltip (record->verdict);
  g_autofree char *escaped = g_markup_escape_text (why, -1);
  g_string_append (s, escaped);
  return g_string_free (s, FALSE);
}

/* ---- Pop-ups ---- */

static void
on_closed (NotifyNotification *notification, gpointer user_data)
{
  SwGuiNotifier *n = user_data;
  g_ptr_array_remove_fast (n->shown, notification);
}

static void
on_details (NotifyNotification *notification, char *action, gpointer user_data)
{
  SwGuiNotifier *n = user_data;
  const gint64 *idp = g_object_get_data (G_OBJECT (notification), "sw-record-id");
  if (idp != NULL)
    sw_gui_app_show_details (n->app, *idp);
  else
    g_action_group_activate_action (G_ACTION_GROUP (n->app), "open-window", NULL);
}

static void
show (SwGuiNotifier *n, NotifyNotification *notification, const char *what)
{
  g_autoptr (GError) error = NULL;
  notify_notification_set_app_name (notification, "Spoofwatch");
  notify_notification_set_hint_string (notification, "desktop-entry", SW_GUI_APP_ID);
  notify_notification_set_category (notification, "email.arrived");
  g_signal_connect (notification, "closed", G_CALLBACK (on_closed), n);
  if (!notify_notification_show (notification, &error))
    {
      g_message ("pop-up not shown (%s): %s", what, error->message);
      g_signal_handlers_disconnect_by_data (notification, n);
      return;
    }
  g_ptr_array_add (n->shown, g_object_ref (notification));
}

static void
pop_up_one (SwGuiNotifier *n, const SwStoreRecord *r)
{
  g_autofree char *summary = sw_gui_notifier_format_summary (r);
  g_autofree char *body = sw_gui_notifier_format_body (r);
  NotifyNotification *notification
      = notify_notification_new (summary, body, sw_gui_verdict_tray_icon_name (r->verdict));
  notify_notification_set_urgency (notification, r->verdict == SW_VERDICT_REJECT ? NOTIFY_URGENCY_CRITICAL
                                                                                 : NOTIFY_URGENCY_NORMAL);
  notify_notification_set_hint_string (notification, "x-spoofwatch-verdict",
                                       sw_verdict_to_string (r->verdict));
  gint64 *idp = g_new (gint64, 1);
  *idp = r->id;
  g_object_set_data_full (G_OBJECT (notification), "sw-record-id", idp, g_free);
  notify_notification_add_action (notification, "default", _ ("Details"), on_details, n, NULL);
  notify_notification_add_action (notification, "details", _ ("Details"), on_details, n, NULL);
  show (n, notification, sw_verdict_to_string (r->verdict));
  g_object_unref (notification);
}

static void
pop_up_group (SwGuiNotifier *n, GPtrArray *records)
{
  gboolean any_reject = FALSE;
  GString *body = g_string_new (NULL);
  for (guint i = 0; i < records->len; i++)
    {
      const SwStoreRecord *r = g_ptr_array_index (records, i);
      any_reject |= r->verdict == SW_VERDICT_REJECT;
      if (i < SW_GUI_NOTIFY_GROUP_MAX_NAMED)
        {
          g_autofree char *domain = g_markup_escape_text (record_domain (r), -1);
          /* TRANSLATORS: one line per message: "example.com (Reject)" */
          g_string_append_printf (body, _ ("%s (%s)"), domain, sw_gui_verdict_word (r->verdict));
          g_string_append_c (body, '\n');
        }
    }
  if (records->len > SW_GUI_NOTIFY_GROUP_MAX_NAMED)
    {
      guint more = records->len - SW_GUI_NOTIFY_GROUP_MAX_NAMED;
      g_string_append_printf (body, g_dngettext (GETTEXT_PACKAGE, "and %u more", "and %u more", more), more);
      g_string_append_c (body, '\n');
    }
  g_string_append (body, _ ("Open Spoofwatch to see why each one failed."));
  g_autofree char *summary = g_strdup_printf (
      g_dngettext (GETTEXT_PACKAGE, "%u suspicious message", "%u suspicious messages", records->len),
      records->len);
  NotifyNotification *notification = notify_notification_new (
      summary, body->str,
      sw_gui_verdict_tray_icon_name (any_reject ? SW_VERDICT_REJECT : SW_VERDICT_QUARANTINE));
  g_string_free (body, TRUE);
  notify_notification_set_urgency (notification,
                                   any_reject ? NOTIFY_URGENCY_CRITICAL : NOTIFY_URGENCY_NORMAL);
  notify_notification_set_hint_string (notification, "x-spoofwatch-verdict", "group");
  notify_notification_add_action (notification, "default", _ ("Open Spoofwatch"), on_details, n, NULL);
  notify_notification_add_action (notification, "open", _ ("Open Spoofwatch"), on_details, n, NULL);
  show (n, notification, "group");
  g_object_unref (notification);
}

static void
flush (SwGuiNotifier *n)
{
  g_autoptr (GPtrArray) records = g_ptr_array_new_with_free_func ((GDestroyNotify)sw_store_record_free);
  SwStore *store = sw_gui_app_get_store (n->app);
  for (guint i = 0; i < n->collected->len; i++)
    {
      gint64 id = g_array_index (n->collected, gint64, i);
      g_autoptr (GError) error = NULL;
      SwStoreRecord *r = sw_store_get (store, id, &error);
      if (r == NULL)
        {
          if (error != NULL)
            g_message ("pop-up for record %" G_GINT64_FORMAT ": %s", id, error->message);
          continue;
        }
      if (sw_config_get_popup_verdicts (sw_gui_app_get_config (n->app)) & SW_CONFIG_VERDICT_BIT (r->verdict))
        g_ptr_array_add (records, r);
      else
        sw_store_record_free (r);
    }
  g_array_set_size (n->collected, 0);
  if (records->len == 0)
    return;
  if (records->len > n->threshold)
    pop_up_group (n, records);
  else
    for (guint i = 0; i < records->len; i++)
      pop_up_one (n, g_ptr_array_index (records, i));
}

static gboolean
on_window_end (gpointer user_data)
{
  SwGuiNotifier *n = user_data;
  n->timer = 0;
  flush (n);
  return G_SOURCE_REMOVE;
}

static void
on_verdict_added (SwGuiApp *app, gint64 record_id, gpointer user_data)
{
  SwGuiNotifier *n = user_data;
  g_array_append_val (n->collected, record_id);
  if (n->window_ms == 0)
    flush (n);
  else if (n->timer == 0)
    n->timer = g_timeout_add (n->window_ms, on_window_end, n);
}

/* ---- Life cycle ---- */

static guint
env_number (const char *name, guint fallback)
{
  const char *v = g_getenv (name);
  guint64 out = 0;
  if (v == NULL || !g_ascii_string_to_unsigned (v, 10, 0, 60000, &out, NULL))
    return fallback;
  return (guint)out;
}

SwGuiNotifier *
sw_gui_notifier_new (SwGuiApp *app)
{
  g_return_val_if_fail (SW_IS_GUI_APP (app), NULL);
  SwGuiNotifier *n = g_new0 (SwGuiNotifier, 1);
  n->app = app;
  n->window_ms = SW_GUI_NOTIFY_GROUP_MS;
  n->threshold = SW_GUI_NOTIFY_GROUP_THRESHOLD;
  if (g_strcmp0 (g_getenv ("SW_GUI_TEST"), "1") == 0)
    {
      n->window_ms = env_number ("SW_GUI_NOTIFY_GROUP_MS", n->window_ms);
      n->threshold = env_number ("SW_GUI_NOTIFY_GROUP_THRESHOLD", n->threshold);
    }
  n->collected = g_array_new (FALSE, FALSE, sizeof (gint64));
  n->shown = g_ptr_array_new_with_free_func (g_object_unref);
  if (!notify_is_initted () && !notify_init ("Spoofwatch"))
    g_message ("libnotify could not start: no pop-ups");
  n->verdict_handler = g_signal_connect (app, "verdict-added", G_CALLBACK (on_verdict_added), n);
  return n;
}

void
sw_gui_notifier_set_grouping (SwGuiNotifier *notifier, guint window_ms, guint threshold)
{
  g_return_if_fail (notifier != NULL);
  notifier->window_ms = window_ms;
  notifier->threshold = threshold;
}

void
sw_gui_notifier_free (SwGuiNotifier *notifier)
{
  if (notifier == NULL)
    return;
  g_clear_signal_handler (&notifier->verdict_handler, notifier->app);
  g_clear_handle_id (&notifier->timer, g_source_remove);
  for (guint i = 0; i < notifier->shown->len; i++)
    g_signal_handlers_disconnect_by_data (notifier->shown->pdata[i], notifier);
  g_ptr_array_unref (notifier->shown);
  g_array_unref (notifier->collected);
  if (notify_is_initted ())
    notify_uninit ();
  g_free (notifier);
}
