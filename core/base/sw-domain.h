/* sw-domain.h: domain names as DMARC compares them. All functions are thread-safe. */
#pragma once
#include "sw-types.h"
G_BEGIN_DECLS

/* Returns @name (UTF-8 U-labels or A-labels, any case, optional trailing dot) in
 * lower-case A-label form without trailing dot, or NULL if it is not a valid host name
 * (empty label, label over 63 octets, name over 253, characters outside LDH after IDNA
 * conversion). Transfer full. */
char *sw_domain_to_ascii (const char *name);

/* Returns the U-label form of an A-label domain for display; a copy of @ascii if it has
 * no A-labels or cannot be converted. Transfer full. */
char *sw_domain_to_display (const char *ascii);

/* Case-insensitive equality of two normalised (A-label) names. */
gboolean sw_domain_equal (const char *a, const char *b);

/* TRUE if @child equals @parent or is a subdomain of it (both normalised). */
gboolean sw_domain_is_within (const char *child, const char *parent);

/* Number of labels of a normalised name ("a.b.c" is 3). */
guint sw_domain_count_labels (const char *ascii);

/* Returns the name made of the last @n labels of @ascii (all of it when @n is larger).
 * Transfer full. */
char *sw_domain_last_labels (const char *ascii, guint n);

G_END_DECLS
