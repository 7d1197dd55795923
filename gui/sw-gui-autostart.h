/* sw-gui-autostart.h: "Start at login" (XDG Autostart specification): the file
 * $XDG_CONFIG_HOME/autostart/spoofwatch.desktop exists while the option is on.
 *
 * No GTK here: the functions only read and write files, so they are tested without a
 * display. Thread-safe (each call works on the file system only; concurrent calls on the
 * same file leave one complete version of it). */
#pragma once
#include <glib.h>
G_BEGIN_DECLS

/* $XDG_CONFIG_HOME/autostart/spoofwatch.desktop (g_get_user_config_dir()). Transfer full. */
char *sw_gui_autostart_path (void);

/* TRUE when the autostart file exists and is not disabled (Hidden=true or
 * X-GNOME-Autostart-enabled=false, which desktop tools write to turn an entry off). */
gboolean sw_gui_autostart_is_enabled (void);

/* @enable TRUE: writes the autostart file (folder created with mode 0700 if missing) to
 * start @exec with --hidden (the tray only, no window) at login; @exec is the program's
 * path or name ("spoofwatch"), quoted as the Desktop Entry specification requires.
 * @enable FALSE: removes the file (no error when it does not exist). FALSE with @error
 * (G_FILE_ERROR / G_IO_ERROR) when the file cannot be written or removed. */
gboolean sw_gui_autostart_set (gboolean enable, const char *exec, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The text of the autostart file for @exec (what sw_gui_autostart_set writes). Transfer
 * full. */
char *sw_gui_autostart_desktop_text (const char *exec);

G_END_DECLS
