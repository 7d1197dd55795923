/* sw-util.h: small helpers shared by core modules. All functions are thread-safe. */
#pragma once
#include "sw-types.h"
G_BEGIN_DECLS

/* Returns a copy of untrusted @text of @len bytes (-1: NUL-terminated) that is safe to
 * log or show: at most @max_chars characters (then "..."), control characters and
 * invalid UTF-8 escaped as \xNN. Transfer full. */
char *sw_sanitize_for_log (const char *text, gssize len, gsize max_chars);

/* TRUE if @ip (textual IPv4 or IPv6) is loopback, private (RFC 1918, RFC 4193), link
 * local, CGNAT (RFC 6598), unspecified or documentation space: an address for which SPF
 * must never be evaluated. TRUE also for text that is not an IP address. */
gboolean sw_ip_is_non_public (const char *ip);

/* Normalises a textual IP address (IPv4, IPv6, "IPv6:" prefix allowed, IPv4-mapped IPv6
 * returned as IPv4) to its canonical text. NULL if @text is not an address. Transfer full. */
char *sw_ip_normalize (const char *text);

G_END_DECLS
