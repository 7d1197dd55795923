/* sw-message.h: the raw message and its RFC 5322 header fields.
 *
 * The parser never fails: whatever the bytes are, it gives the fields it could read and
 * flags that say what was wrong. Every limit comes from sw-limits.h. */
#pragma once
#include "sw-types.h"
G_BEGIN_DECLS

/* One header field. All strings are NUL-terminated; a NUL byte of the message is
 * replaced by a space in @raw and @value (SW_MESSAGE_FLAG_HAS_NUL says it happened; the
 * exact bytes are at @offset/@length of the raw message). Bytes above 0x7f are kept as
 * they are (@value may then not be valid UTF-8; SW_MESSAGE_FLAG_8BIT_HEADER). */
typedef struct {
  char     *name;      /* field name as written (no trailing spaces before the colon) */
  char     *raw;       /* "Name: value" as in the message with its internal folding (CRLF
                          or LF + WSP) kept, without the final line ending */
  char     *value;     /* unfolded value: line breaks of folding removed, leading and
                          trailing WSP trimmed */
  gsize     offset;    /* byte offset of the field in the raw message */
  gsize     length;    /* bytes of the field including its final line ending */
  gboolean  truncated; /* the field was longer than SW_MAX_HEADER_FIELD bytes: @raw and
                          @value hold only its first SW_MAX_HEADER_FIELD bytes (a field
                          whose colon is not within them is left out) */
} SwHeaderField;

typedef enum {
  SW_MESSAGE_FLAG_NONE             = 0,
  SW_MESSAGE_FLAG_BARE_LF          = 1 << 0, /* a header line ends in LF without CR */
  SW_MESSAGE_FLAG_HAS_NUL          = 1 << 1, /* a NUL byte in the header block */
  SW_MESSAGE_FLAG_NO_BODY          = 1 << 2, /* no empty line: the message ends inside the
                                                header block (also for an empty message) */
  SW_MESSAGE_FLAG_HEADER_TRUNCATED = 1 << 3, /* a cap was hit: SW_MAX_HEADER_BLOCK,
                                                SW_MAX_HEADER_FIELDS or SW_MAX_HEADER_FIELD */
  SW_MESSAGE_FLAG_8BIT_HEADER      = 1 << 4, /* a byte above 0x7f in the header block */
  SW_MESSAGE_FLAG_MALFORMED_LINE   = 1 << 5, /* a line in the header block that is neither a
                                                field nor a continuation; it is skipped and
                                                the header block goes on to the empty line */
  SW_MESSAGE_FLAG_MBOX_FROM_LINE   = 1 << 6, /* the message starts with an mbox "From " line
                                                (skipped, not a field) */
} SwMessageFlags;

typedef struct _SwMessage SwMessage;

/* Parses the header block of @raw (a whole message, CRLF or LF line endings). Never
 * returns NULL: bad input gives flags. Keeps a reference to @raw. Transfer full: free
 * with sw_message_free(). The returned object is immutable and may be read from several
 * threads at once. */
SwMessage *sw_message_new (GBytes *raw);

/* Frees @msg and everything it owns; NULL is ignored. */
void sw_message_free (SwMessage *msg);

/* The bytes given to sw_message_new(). Transfer none. */
GBytes *sw_message_get_raw (SwMessage *msg);

/* Number of header fields parsed (at most SW_MAX_HEADER_FIELDS). */
guint sw_message_get_n_fields (SwMessage *msg);

/* The field at @index, 0 being the topmost. NULL if @index is out of range. Transfer
 * none: valid as long as @msg. */
const SwHeaderField *sw_message_get_field (SwMessage *msg, guint index);

/* The @nth (0 = topmost) field called @name (case-insensitive), or NULL. Transfer none. */
const SwHeaderField *sw_message_find_field (SwMessage  *msg,
                                            const char *name,
                                            guint       nth);

/* Number of fields called @name (case-insensitive). */
guint sw_message_count_fields (SwMessage *msg, const char *name);

/* Bytes of the header block including the empty line that ends it. With
 * SW_MESSAGE_FLAG_NO_BODY, the whole message; when SW_MAX_HEADER_BLOCK was hit, the
 * bytes up to the end of the last complete line that was parsed. */
gsize sw_message_get_header_length (SwMessage *msg);

/* What was odd about the message (a combination of SwMessageFlags). */
SwMessageFlags sw_message_get_flags (SwMessage *msg);

/* Splits @data into messages. When @data starts with an mbox "From " line, each message
 * is the text after a "From " line (at the start of @data or after an empty line, and
 * holding a time such as "10:04:05", so that an unquoted "From " in a body does not split)
 * up to the empty line before the next one, with mboxrd quoting undone (">From " becomes
 * "From ", ">>From " becomes ">From "). Otherwise (.eml) the array holds @data itself.
 * Returns an array of GBytes* (at least one element) that frees its elements. Transfer
 * full. Thread-safe. */
GPtrArray *sw_message_split_mbox (GBytes *data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwMessage, sw_message_free)

G_END_DECLS
