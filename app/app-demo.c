#define G_LOG_DOMAIN "sw-app"

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "app-private.h"

static gboolean
holds_samples (const char *dir)
{
  g_autofree char *zone = g_build_filename (dir, "samples.zone", NULL);
  return g_file_test (zone, G_FILE_TEST_IS_REGULAR);
}

char *
sw_app_find_samples_dir (const char *override, GError **error)
{
  if (override != NULL)
    {
      if (holds_samples (override))
        return g_strdup (override);
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, _("%s holds no samples.zone"), override);
      return NULL;
    }
  const char *candidates[] = {
#ifdef SW_DATADIR
    SW_DATADIR "/samples",
#endif
#ifdef SW_SOURCE_DIR
    SW_SOURCE_DIR "/samples",
#endif
  };
  for (guint i = 0; i < G_N_ELEMENTS (candidates); i++)
    if (holds_samples (candidates[i]))
      return g_strdup (candidates[i]);
  g_set_error_literal (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                       _("the demo mailbox is not installed (no samples.zone in the data folder); "
                         "use --samples-dir"));
  return NULL;
}

gboolean
sw_app_port_is_free (guint16 port)
{
  g_autoptr (GSocket) sock
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  if (sock == NULL)
    return FALSE;
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (lo, port);
  gboolean ok = g_socket_bind (sock, addr, TRUE, NULL) && g_socket_listen (sock, NULL);
  g_socket_close (sock, NULL);
  return ok;
}
