#define G_LOG_DOMAIN "sw-gui"

#include "sw-gui-autostart.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>

#define DESKTOP_GROUP "Desktop Entry"

char *
sw_gui_autostart_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "autostart", "spoofwatch.desktop", NULL);
}

gboolean
sw_gui_autostart_is_enabled (void)
{
  g_autofree char *path = sw_gui_autostart_path ();
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL))
    return FALSE;
  if (g_key_file_get_boolean (kf, DESKTOP_GROUP, "Hidden", NULL))
    return FALSE;
  g_autoptr (GError) error = NULL;
  gboolean enabled = g_key_file_get_boolean (kf, DESKTOP_GROUP, "X-GNOME-Autostart-enabled", &error);
  return error != NULL || enabled; /* absent: enabled */
}

/* @s quoted for an Exec= line when it needs it (Desktop Entry spec, "The Exec key"). */
static char *
quote_exec_arg (const char *s)
{
  if (*s != '\0' && strpbrk (s, " \t\n\"'\\><~|&;$*?#()`%=") == NULL)
    return g_strdup (s);
  GString *q = g_string_new ("\"");
  for (const char *p = s; *p != '\0'; p++)
    {
      if (*p == '"' || *p == '`' || *p == '$' || *p == '\\')
        g_string_append_c (q, '\\');
      if (*p == '%')
        g_string_append_c (q, '%');
      g_string_append_c (q, *p);
    }
  g_string_append_c (q, '"');
  return g_string_free (q, FALSE);
}

char *
sw_gui_autostart_desktop_text (const char *exec)
{
  g_return_val_if_fail (exec != NULL, NULL);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree char *quoted = quote_exec_arg (exec);
  g_autofree char *line = g_strconcat (quoted, " --hidden", NULL);
  g_key_file_set_string (kf, DESKTOP_GROUP, "Type", "Application");
  g_key_file_set_string (kf, DESKTOP_GROUP, "Name", "Spoofwatch");
  g_key_file_set_string (kf, DESKTOP_GROUP, "Comment", "Checks that your mail really comes from its sender");
  g_key_file_set_locale_string (kf, DESKTOP_GROUP, "Comment", "ja",
                                "メールが本当に送信者から来たかを確かめます");
  g_key_file_set_string (kf, DESKTOP_GROUP, "Exec", line);
  g_key_file_set_string (kf, DESKTOP_GROUP, "Icon", "sw-tray-pass"); /* as assets/spoofwatch.desktop */
  g_key_file_set_boolean (kf, DESKTOP_GROUP, "Terminal", FALSE);
  g_key_file_set_string (kf, DESKTOP_GROUP, "Categories", "Network;Email;");
  g_key_file_set_boolean (kf, DESKTOP_GROUP, "X-GNOME-Autostart-enabled", TRUE);
  return g_key_file_to_data (kf, NULL, NULL);
}

gboolean
sw_gui_autostart_set (gboolean enable, const char *exec, GError **error)
{
  g_return_val_if_fail (!enable || exec != NULL, FALSE);
  g_autofree char *path = sw_gui_autostart_path ();
  if (!enable)
    {
      if (g_unlink (path) != 0 && errno != ENOENT)
        {
          int saved = errno;
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), _ ("Cannot remove %s: %s"), path,
                       g_strerror (saved));
          return FALSE;
        }
      return TRUE;
    }
  g_autofree char *dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), _ ("Cannot create folder %s: %s"),
                   dir, g_strerror (saved));
      return FALSE;
    }
  g_autofree char *text = sw_gui_autostart_desktop_text (exec);
  return g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
}
