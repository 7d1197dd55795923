#define G_LOG_DOMAIN "sw-test-demo"

/* Runs the demo POP3 server alone for tests/app/test-demo-pop3.py: serves the .eml files
 * of argv[1] on 127.0.0.1 at a free port, prints "PORT <n>" and runs until SIGTERM,
 * SIGINT or the end of its standard input (so it never outlives the test). */
#include <glib-unix.h>
#include <stdio.h>
#include <unistd.h>

#include "demo-pop3-server.h"

static gboolean
on_quit (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static gboolean
on_stdin (gint fd, GIOCondition condition, gpointer loop)
{
  char buf[256];
  if (read (fd, buf, sizeof buf) <= 0)
    {
      g_main_loop_quit (loop);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  if (argc != 2)
    {
      g_printerr ("usage: %s MAILDIR\n", argv[0]);
      return 2;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (SwDemoPop3Server) server = sw_demo_pop3_server_new (argv[1], &error);
  guint16 port = 0;
  if (server == NULL || !sw_demo_pop3_server_start (server, 0, &port, &error))
    {
      g_printerr ("demo-pop3-helper: %s\n", error->message);
      return 1;
    }
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_quit, loop);
  g_unix_signal_add (SIGINT, on_quit, loop);
  g_unix_fd_add (0, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, loop);
  printf ("PORT %u\n", port);
  fflush (stdout);
  g_main_loop_run (loop);
  sw_demo_pop3_server_stop (server);
  return 0;
}
