#define G_LOG_DOMAIN "sw-gui"

#include "sw-gui-first-run.h"

#include <glib/gi18n-lib.h>

#include "sw-gui-settings.h"

#define FIRST_RUN_UI "/org/spoofwatch/Spoofwatch/ui/first-run.ui"
#define DEFAULT_DEMO_PORT 11110

struct _SwGuiFirstRun
{
  GtkWindow parent_instance;
  SwGuiApp *app; /* borrowed */
  GtkWidget *demo_label;
  GtkWidget *demo_button;
  GtkWidget *account_button;
  GtkWidget *later_button;
};

G_DEFINE_TYPE (SwGuiFirstRun, sw_gui_first_run, GTK_TYPE_WINDOW)

gboolean
sw_gui_first_run_wanted (SwConfig *config)
{
  g_return_val_if_fail (config != NULL, FALSE);
  return sw_config_get_accounts (config)->len == 0 && !sw_config_get_first_run_done (config);
}

void
sw_gui_first_run_set_demo_port (SwGuiFirstRun *self, guint16 port)
{
  g_return_if_fail (SW_IS_GUI_FIRST_RUN (self));
  if (port == 0)
    {
      gtk_label_set_text (
          GTK_LABEL (self->demo_label),
          _ ("The demo mailbox is not running (it is turned off in the settings). Add your mail "
             "account to start."));
      gtk_widget_set_sensitive (self->demo_button, FALSE);
      return;
    }
  g_autofree char *text = g_strdup_printf (
      _ ("The demo mailbox holds seven sample messages, some of them forged. In a mail client, add a POP3 "
         "account with:\n  server 127.0.0.1, port %u, no encryption\n  user demo, password demo\n"
         "or run: curl pop3://demo:demo@127.0.0.1:%u/1"),
      port, port);
  gtk_label_set_text (GTK_LABEL (self->demo_label), text);
  gtk_widget_set_sensitive (self->demo_button, TRUE);
}

static void
mark_done (SwGuiFirstRun *self)
{
  SwConfig *config = sw_gui_app_get_config (self->app);
  sw_config_set_first_run_done (config, TRUE);
  g_autoptr (GError) error = NULL;
  if (!sw_config_save (config, sw_gui_app_get_config_path (self->app), &error))
    g_message ("cannot save %s: %s", sw_gui_app_get_config_path (self->app), error->message);
}

static void
on_demo (GtkButton *button, SwGuiFirstRun *self)
{
  mark_done (self);
  g_action_group_activate_action (G_ACTION_GROUP (self->app), "open-window", NULL);
  gtk_widget_destroy (GTK_WIDGET (self));
}

static void
on_account (GtkButton *button, SwGuiFirstRun *self)
{
  mark_done (self);
  GtkWidget *dialog = sw_gui_settings_dialog_new (self->app, NULL);
  gtk_widget_show (dialog);
  sw_gui_settings_dialog_add_account (SW_GUI_SETTINGS_DIALOG (dialog));
  gtk_widget_destroy (GTK_WIDGET (self));
}

static void
on_later (GtkButton *button, SwGuiFirstRun *self)
{
  mark_done (self);
  gtk_widget_destroy (GTK_WIDGET (self));
}

static void
sw_gui_first_run_class_init (SwGuiFirstRunClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  gtk_widget_class_set_template_from_resource (widget_class, FIRST_RUN_UI);
  gtk_widget_class_bind_template_child (widget_class, SwGuiFirstRun, demo_label);
  gtk_widget_class_bind_template_child (widget_class, SwGuiFirstRun, demo_button);
  gtk_widget_class_bind_template_child (widget_class, SwGuiFirstRun, account_button);
  gtk_widget_class_bind_template_child (widget_class, SwGuiFirstRun, later_button);
}

static void
sw_gui_first_run_init (SwGuiFirstRun *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect (self->demo_button, "clicked", G_CALLBACK (on_demo), self);
  g_signal_connect (self->account_button, "clicked", G_CALLBACK (on_account), self);
  g_signal_connect (self->later_button, "clicked", G_CALLBACK (on_later), self);
  /* Focus on the main choice, not on the (selectable) demo text, which would show selected */
  gtk_window_set_focus (GTK_WINDOW (self), self->demo_button);
}

GtkWidget *
sw_gui_first_run_new (SwGuiApp *app)
{
  g_return_val_if_fail (SW_IS_GUI_APP (app), NULL);
  SwGuiFirstRun *self = g_object_new (SW_TYPE_GUI_FIRST_RUN, NULL);
  self->app = app;
  gtk_window_set_application (GTK_WINDOW (self), GTK_APPLICATION (app));
  sw_gui_first_run_set_demo_port (self,
                                  sw_config_get_demo (sw_gui_app_get_config (app)) ? DEFAULT_DEMO_PORT : 0);
  return GTK_WIDGET (self);
}
