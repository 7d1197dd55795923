/* sw-authres.h: reading and writing Authentication-Results header fields (RFC 8601).
 *
 * The parser is lenient enough for the fields real providers write (Gmail, Outlook,
 * Yahoo, AOL, Fastmail, iCloud, Yandex, mail.ru...): comments anywhere, quoted strings,
 * missing spaces, unknown methods and result words, properties without a ptype, values
 * with ':' '/' '=' in them. A resinfo ("method=result ...;") that cannot be read is
 * dropped and counted in SwAuthres.n_skipped; the others are kept. Input is capped:
 * SW_AUTHRES_MAX_FIELD bytes, SW_AUTHRES_MAX_METHODS methods, SW_AUTHRES_MAX_PROPERTIES
 * properties per method (sw-limits.h); what lies beyond a cap is dropped and
 * SwAuthres.truncated is set.
 *
 * The writer (SwAuthresBuilder) quotes and escapes everything that may come from the
 * network, so a domain with ';', '(' or a line break cannot add a method or a field.
 *
 * All functions are thread-safe: they share no state. A SwAuthres or SwAuthresBuilder
 * may be used by one thread at a time. */
#pragma once
#include "sw-limits.h"
#include "sw-types.h"
G_BEGIN_DECLS

/* Lines written by the builder are at most this long where possible (RFC 5322 2.1.1). */
#define SW_AUTHRES_FOLD_WIDTH 78u

#define SW_AUTHRES_ERROR (sw_authres_error_quark ())
GQuark sw_authres_error_quark (void);

/* Codes of SW_AUTHRES_ERROR; never renumbered. */
typedef enum {
  SW_AUTHRES_ERROR_SYNTAX = 1, /* no authserv-id could be found */
} SwAuthresError;

/* One "ptype.property=value". @ptype is "" for the non-RFC "name=value" form some
 * providers write (Fastmail's "x-tls=pass version=TLSv1.2"). @ptype and @property are
 * lower case; @value is unquoted and unescaped, case preserved. */
typedef struct {
  char *ptype;
  char *property;
  char *value;
} SwAuthresProperty;

/* One "method[/version]=result [reason=...] props..." of a field. */
typedef struct {
  char *method;          /* lower case: "spf", "dkim", "dmarc", "arc", "auth", "iprev", ... */
  int version;           /* method version, 1 when absent */
  char *result_word;     /* lower case, as written */
  SwAuthResult result;   /* mapped; SW_AUTH_NONE and result_known=FALSE if the word is unknown */
  gboolean result_known;
  char *reason;          /* reason= value, or NULL */
  GPtrArray *properties; /* SwAuthresProperty* (at most SW_AUTHRES_MAX_PROPERTIES) */
  char *comment;         /* first comment after the result in this resinfo (without the outer
                          * parentheses, quoted-pairs undone), or NULL */
} SwAuthresMethod;

/* A parsed field. */
typedef struct {
  char *authserv_id;  /* as written (case preserved, unquoted); compare case-insensitively */
  int version;        /* 1 when absent */
  gboolean none;      /* "; none" */
  GPtrArray *methods; /* SwAuthresMethod* (at most SW_AUTHRES_MAX_METHODS) */
  guint n_skipped;    /* unreadable pieces dropped (a resinfo, junk before the first ';') */
  gboolean truncated; /* a cap was hit: methods, properties or field length */
} SwAuthres;

void sw_authres_property_free (SwAuthresProperty *prop);
void sw_authres_method_free (SwAuthresMethod *m);
/* Frees @ar and everything in it. NULL is allowed. */
void sw_authres_free (SwAuthres *ar);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwAuthresProperty, sw_authres_property_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwAuthresMethod, sw_authres_method_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwAuthres, sw_authres_free)

/* Parses the value of one Authentication-Results field (unfolded or folded, CRLF or LF).
 * A leading "Authentication-Results:" field name is skipped, so a whole field may be
 * given as well. Returns NULL and sets @error (SW_AUTHRES_ERROR_SYNTAX) only when no
 * authserv-id can be found (empty value, or "spf=pass ..." with the id left out);
 * otherwise a SwAuthres, transfer full (free with sw_authres_free()). */
SwAuthres *sw_authres_parse (const char *value, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Just the authserv-id of the field value @value (cheap, for stripping), unquoted, case
 * preserved. Transfer full; NULL if none can be found. */
char *sw_authres_dup_authserv_id (const char *value) G_GNUC_WARN_UNUSED_RESULT;

/* The value of property @ptype.@property of @m (both compared case-insensitively;
 * @ptype NULL or "" finds the ptype-less form), the first if there are several, or NULL.
 * Transfer none: valid as long as @m. */
const char *sw_authres_method_get (const SwAuthresMethod *m, const char *ptype, const char *property);

/* The @index-th method (0-based) of @ar named @method (case-insensitive), or NULL.
 * Transfer none. */
const SwAuthresMethod *sw_authres_find_method (const SwAuthres *ar, const char *method, guint index);

/* Writer. */
typedef struct _SwAuthresBuilder SwAuthresBuilder;

/* A builder for a field with authserv-id @authserv_id (quoted if it is not a token).
 * Transfer full: finish with sw_authres_builder_end() or free with
 * sw_authres_builder_free(). */
SwAuthresBuilder *sw_authres_builder_new (const char *authserv_id);

/* Adds "method=result" with an optional reason="..." and an optional "(comment)".
 * @method must be an RFC 8601 keyword (letters, digits, '-', '_'): our own code names it.
 * @reason and @comment may come from the network: they are quoted/escaped. */
void sw_authres_builder_add_method (SwAuthresBuilder *b,
                                    const char       *method,
                                    SwAuthResult      result,
                                    const char       *reason,
                                    const char       *comment);

/* Adds "ptype.property=value" to the last method added (ignored with a critical if none
 * was added). @ptype and @property must be keywords; @value may come from the network:
 * written as a token, an addr-spec or a quoted-string, control characters and invalid
 * UTF-8 replaced by '?'. At most SW_AUTHRES_MAX_PROPERTIES per method are kept. */
void sw_authres_builder_add_property (SwAuthresBuilder *b,
                                      const char       *ptype,
                                      const char       *property,
                                      const char       *value);

/* The complete field "Authentication-Results: id;@eol\tspf=pass ...;@eol\t...@eol" (or
 * "Authentication-Results: id; none@eol" without methods), each method on its own line,
 * folded at spaces so that no line exceeds SW_AUTHRES_FOLD_WIDTH (78) characters where
 * possible, with @eol ("\r\n" or "\n"; NULL means "\r\n") as line ending. Frees @b.
 * Transfer full. */
char *sw_authres_builder_end (SwAuthresBuilder *b, const char *eol) G_GNUC_WARN_UNUSED_RESULT;

/* Frees @b without producing output. NULL is allowed. */
void sw_authres_builder_free (SwAuthresBuilder *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwAuthresBuilder, sw_authres_builder_free)

/* TRUE if the header field @name/@value claims to be ours and must be removed before our
 * own fields are added (RFC 8601 section 5):
 *  - any X-Spoofwatch-* field (ours by name), whatever its value;
 *  - an Authentication-Results field (name case-insensitive, WSP before the colon
 *    allowed) whose authserv-id equals @our_authserv_id case-insensitively (comments
 *    before the id, a quoted id and a version number are all seen through), or whose
 *    text before the first ';' contains @our_authserv_id as a token, or that has no
 *    readable authserv-id and contains @our_authserv_id anywhere: other readers may find
 *    the id where our parser finds none, so a doubtful field is removed. (A provider's
 *    well-formed field is never removed because a sender put our id in a value.)
 * ARC-Authentication-Results fields are never ours (they are signed by whoever added
 * them). */
gboolean sw_authres_field_is_ours (const char *name, const char *value, const char *our_authserv_id);

/* A new per-install authserv-id: "spoofwatch-" followed by 16 lower-case hex digits
 * (64 bits) from the kernel's CSPRNG (getrandom(), else /dev/urandom; aborts if neither
 * works rather than produce a guessable id). Transfer full. */
char *sw_authres_new_authserv_id (void) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
