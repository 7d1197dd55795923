/* sw-msg-private.h: internals shared by the files of core/msg. */
#pragma once
#include <glib.h>
G_BEGIN_DECLS

/* Calls g_mime_init() once per process. Thread-safe. */
void sw_msg_gmime_init (void);

G_END_DECLS
