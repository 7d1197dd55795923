/* core/msg tests: one binary (test-msg) for sw-message.h, sw-from.h, sw-received.h and
 * sw-envelope.h. This file holds main() and the raw message tests. */
#include "sw-limits.h"
#include "sw-message.h"

#include <string.h>

void sw_test_from_register (void);
void sw_test_received_register (void);
void sw_test_envelope_register (void);

static SwMessage *
message_from_string (const char *text, gssize len)
{
  g_autoptr (GBytes) b = g_bytes_new (text, len < 0 ? strlen (text) : (gsize)len);
  return sw_message_new (b);
}

/* Every field's bytes are where offset/length say, and start with its raw text. */
static void
check_offsets (const char *name, SwMessage *msg)
{
  gsize size = 0;
  const char *data = g_bytes_get_data (sw_message_get_raw (msg), &size);
  gsize prev_end = 0;
  for (guint i = 0; i < sw_message_get_n_fields (msg); i++)
    {
      const SwHeaderField *f = sw_message_get_field (msg, i);
      if (f->offset < prev_end || f->offset + f->length > size)
        g_error ("case %s: field %u has offset %" G_GSIZE_FORMAT " length %" G_GSIZE_FORMAT, name, i,
                 f->offset, f->length);
      gsize raw_len = strlen (f->raw);
      if (!f->truncated && raw_len > f->length)
        g_error ("case %s: field %u raw longer than its bytes", name, i);
      for (gsize k = 0; k < raw_len && k < f->length; k++)
        if (f->raw[k] != data[f->offset + k] && !(data[f->offset + k] == '\0' && f->raw[k] == ' '))
          g_error ("case %s: field %u raw differs from the message at byte %" G_GSIZE_FORMAT, name, i, k);
      prev_end = f->offset + f->length;
    }
  if (sw_message_get_header_length (msg) > size)
    g_error ("case %s: header length beyond the message", name);
}

typedef struct
{
  const char *name;
  const char *text;
  gssize len; /* -1: NUL-terminated */
  SwMessageFlags flags;
  guint n_fields;
  gssize header_length; /* -1: the whole input */
  const char *first_name;
  const char *first_value;
  const char *first_raw;
  const char *last_value;
} MessageCase;

static const MessageCase message_cases[] = {
  { "crlf", "From: a@example.com\r\nSubject: hello\r\n\r\nbody\r\n", -1, 0, 2, 39, "From", "a@example.com",
    "From: a@example.com", "hello" },
  { "lf", "From: a@example.com\nSubject: hello\n\nbody\n", -1, SW_MESSAGE_FLAG_BARE_LF, 2, 36, "From",
    "a@example.com", "From: a@example.com", "hello" },
  { "folded-crlf", "Subject: a\r\n  long\r\n\tsubject  \r\nTo: b@example.com\r\n\r\n", -1, 0, 2, -1,
    "Subject", "a  long\tsubject", "Subject: a\r\n  long\r\n\tsubject  ", "b@example.com" },
  { "folded-lf", "Subject: a\n long\nTo: b@example.com\n\n", -1, SW_MESSAGE_FLAG_BARE_LF, 2, -1, "Subject",
    "a long", "Subject: a\n long", "b@example.com" },
  { "mixed-endings", "A: 1\r\nB: 2\nC: 3\r\n\r\n", -1, SW_MESSAGE_FLAG_BARE_LF, 3, -1, "A", "1", "A: 1",
    "3" },
  { "obs-space-before-colon", "Subject : x\r\n\r\n", -1, 0, 1, -1, "Subject", "x", "Subject : x", "x" },
  { "empty-value", "X-Empty:\r\nY:   \r\n\r\n", -1, 0, 2, -1, "X-Empty", "", "X-Empty:", "" },
  { "8bit",
    "Subject: gr\xc3\xbc\xc3\x9f"
    "e\r\n\r\n",
    -1, SW_MESSAGE_FLAG_8BIT_HEADER, 1, -1, "Subject",
    "gr\xc3\xbc\xc3\x9f"
    "e",
    NULL, NULL },
  { "rfc2047-display-name", "From: =?UTF-8?B?QsO8cm8=?= <a@example.com>\r\n\r\n", -1, 0, 1, -1, "From",
    "=?UTF-8?B?QsO8cm8=?= <a@example.com>", NULL, NULL },
  { "nul", "Subject: a\0b\r\nTo: c\r\n\r\n", 23, SW_MESSAGE_FLAG_HAS_NUL, 2, -1, "Subject", "a b",
    "Subject: a b", "c" },
  { "no-blank-line", "From: a@example.com\r\nSubject: x", -1, SW_MESSAGE_FLAG_NO_BODY, 2, -1, "From",
    "a@example.com", NULL, "x" },
  { "no-blank-line-final-crlf", "From: a@example.com\r\n", -1, SW_MESSAGE_FLAG_NO_BODY, 1, -1, "From",
    "a@example.com", NULL, NULL },
  { "blank-line-no-body", "From: a@example.com\r\n\r\n", -1, 0, 1, -1, "From", "a@example.com", NULL, NULL },
  { "empty-message", "", -1, SW_MESSAGE_FLAG_NO_BODY, 0, 0, NULL, NULL, NULL, NULL },
  { "only-blank-line", "\r\nbody", -1, 0, 0, 2, NULL, NULL, NULL, NULL },
  { "malformed-line", "From: a@example.com\r\nthis is no header\r\nTo: b@example.com\r\n\r\n", -1,
    SW_MESSAGE_FLAG_MALFORMED_LINE, 2, -1, "From", "a@example.com", NULL, "b@example.com" },
  { "continuation-first", "  folded\r\nTo: b@example.com\r\n\r\n", -1, SW_MESSAGE_FLAG_MALFORMED_LINE, 1, -1,
    "To", "b@example.com", NULL, NULL },
  { "colon-first", ": no name\r\nTo: b\r\n\r\n", -1, SW_MESSAGE_FLAG_MALFORMED_LINE, 1, -1, "To", "b", NULL,
    NULL },
  { "mbox-from-line", "From sender@example.com Tue Aug  1 10:04:05 2023\nFrom: a@example.com\n\n", -1,
    SW_MESSAGE_FLAG_MBOX_FROM_LINE | SW_MESSAGE_FLAG_BARE_LF, 1, -1, "From", "a@example.com", NULL, NULL },
  { "cr-cr-lf", "Subject: x\r\r\n\r\n", -1, 0, 1, -1, "Subject", "x\r", NULL, NULL },
  { "body-looks-like-header", "A: 1\r\n\r\nB: 2\r\n", -1, 0, 1, 8, "A", "1", NULL, NULL },
};

static void
test_message_table (gconstpointer data)
{
  const MessageCase *c = data;
  gsize len = c->len < 0 ? strlen (c->text) : (gsize)c->len;
  g_autoptr (SwMessage) msg = message_from_string (c->text, (gssize)len);
  if (sw_message_get_flags (msg) != c->flags)
    g_error ("case %s: flags 0x%x, expected 0x%x", c->name, sw_message_get_flags (msg), c->flags);
  if (sw_message_get_n_fields (msg) != c->n_fields)
    g_error ("case %s: %u fields, expected %u", c->name, sw_message_get_n_fields (msg), c->n_fields);
  gsize want_len = c->header_length < 0 ? len : (gsize)c->header_length;
  if (sw_message_get_header_length (msg) != want_len)
    g_error ("case %s: header length %" G_GSIZE_FORMAT ", expected %" G_GSIZE_FORMAT, c->name,
             sw_message_get_header_length (msg), want_len);
  check_offsets (c->name, msg);
  if (c->n_fields == 0)
    return;
  const SwHeaderField *first = sw_message_get_field (msg, 0);
  if (g_strcmp0 (first->name, c->first_name) != 0 || g_strcmp0 (first->value, c->first_value) != 0)
    g_error ("case %s: first field \"%s\" = \"%s\"", c->name, first->name, first->value);
  if (c->first_raw != NULL && g_strcmp0 (first->raw, c->first_raw) != 0)
    g_error ("case %s: first raw \"%s\"", c->name, first->raw);
  const SwHeaderField *last = sw_message_get_field (msg, c->n_fields - 1);
  if (c->last_value != NULL && g_strcmp0 (last->value, c->last_value) != 0)
    g_error ("case %s: last value \"%s\"", c->name, last->value);
  g_assert_null (sw_message_get_field (msg, c->n_fields));
}

static void
test_message_lookup (void)
{
  g_autoptr (SwMessage) msg
      = message_from_string ("Received: one\r\nX: 1\r\nreceived: two\r\nRECEIVED: three\r\n\r\n", -1);
  g_assert_cmpuint (sw_message_count_fields (msg, "Received"), ==, 3);
  g_assert_cmpuint (sw_message_count_fields (msg, "Missing"), ==, 0);
  g_assert_cmpstr (sw_message_find_field (msg, "RECEIVED", 0)->value, ==, "one");
  g_assert_cmpstr (sw_message_find_field (msg, "Received", 1)->value, ==, "two");
  g_assert_cmpstr (sw_message_find_field (msg, "received", 2)->name, ==, "RECEIVED");
  g_assert_null (sw_message_find_field (msg, "Received", 3));
  g_assert_null (sw_message_find_field (msg, "X-", 0));
  const SwHeaderField *x = sw_message_find_field (msg, "x", 0);
  g_assert_cmpuint (x->offset, ==, 15);
  g_assert_cmpuint (x->length, ==, 6);
}

/* A header block of exactly SW_MAX_HEADER_BLOCK bytes is parsed whole; one byte more is
 * truncated at the last complete line. */
static void
test_message_cap_block (void)
{
  for (guint extra = 0; extra <= 1; extra++)
    {
      GString *s = g_string_new (NULL);
      gsize target = SW_MAX_HEADER_BLOCK + extra - 2; /* before the final empty line */
      guint n = 0;
      while (s->len + 1000 < target)
        g_string_append_printf (s, "X-Pad-%05u: %0*d\r\n", n++, (int)(1000 - 15), 0);
      /* The last field fills the rest exactly. */
      gsize rest = target - s->len;
      g_assert_cmpuint (rest, >=, 20);
      g_string_append (s, "X-Last: ");
      while (s->len < target - 2)
        g_string_append_c (s, 'z');
      g_string_append (s, "\r\n\r\nbody\r\n");
      g_assert_cmpuint (s->len, ==, SW_MAX_HEADER_BLOCK + extra + 6);
      g_autoptr (SwMessage) msg = message_from_string (s->str, (gssize)s->len);
      SwMessageFlags flags = sw_message_get_flags (msg);
      if (extra == 0)
        {
          g_assert_cmpuint (flags, ==, 0);
          g_assert_cmpuint (sw_message_get_header_length (msg), ==, SW_MAX_HEADER_BLOCK);
          g_assert_cmpuint (sw_message_get_n_fields (msg), ==, n + 1);
        }
      else
        {
          g_assert_true (flags & SW_MESSAGE_FLAG_HEADER_TRUNCATED);
          g_assert_false (flags & SW_MESSAGE_FLAG_NO_BODY);
          g_assert_cmpuint (sw_message_get_header_length (msg), <=, SW_MAX_HEADER_BLOCK);
          /* X-Last is complete (its line is within the cap); the empty line is not. */
          g_assert_cmpuint (sw_message_get_n_fields (msg), ==, n + 1);
          const SwHeaderField *last = sw_message_get_field (msg, n);
          g_assert_cmpstr (last->name, ==, "X-Last");
          g_assert_true (last->truncated);
        }
      check_offsets ("cap-block", msg);
      g_string_free (s, TRUE);
    }
}

/* A header block that never ends (one huge folded field) stops at the cap. */
static void
test_message_cap_block_unterminated (void)
{
  GString *s = g_string_new ("From: a@example.com\r\nX-Huge: start\r\n");
  while (s->len < 3 * SW_MAX_HEADER_BLOCK)
    g_string_append (s, " continuation continuation continuation continuation\r\n");
  g_autoptr (SwMessage) msg = message_from_string (s->str, (gssize)s->len);
  g_assert_true (sw_message_get_flags (msg) & SW_MESSAGE_FLAG_HEADER_TRUNCATED);
  g_assert_cmpuint (sw_message_get_header_length (msg), <=, SW_MAX_HEADER_BLOCK);
  g_assert_cmpuint (sw_message_get_n_fields (msg), ==, 2);
  const SwHeaderField *huge = sw_message_get_field (msg, 1);
  g_assert_true (huge->truncated);
  g_assert_cmpuint (strlen (huge->raw), <=, SW_MAX_HEADER_FIELD);
  g_assert_cmpuint (strlen (huge->value), <=, SW_MAX_HEADER_FIELD);
  check_offsets ("cap-block-unterminated", msg);
  g_string_free (s, TRUE);
}

static void
test_message_cap_fields (void)
{
  for (guint extra = 0; extra <= 1; extra++)
    {
      GString *s = g_string_new (NULL);
      for (guint i = 0; i < SW_MAX_HEADER_FIELDS + extra; i++)
        g_string_append_printf (s, "X-%u: %u\r\n", i, i);
      g_string_append (s, "\r\n");
      g_autoptr (SwMessage) msg = message_from_string (s->str, (gssize)s->len);
      g_assert_cmpuint (sw_message_get_n_fields (msg), ==, SW_MAX_HEADER_FIELDS);
      g_assert_cmpuint (sw_message_get_header_length (msg), ==, s->len);
      if (extra == 0)
        g_assert_cmpuint (sw_message_get_flags (msg), ==, 0);
      else
        g_assert_cmpuint (sw_message_get_flags (msg), ==, SW_MESSAGE_FLAG_HEADER_TRUNCATED);
      g_assert_cmpstr (sw_message_get_field (msg, SW_MAX_HEADER_FIELDS - 1)->name, ==, "X-1999");
      g_string_free (s, TRUE);
    }
}

static void
test_message_cap_field (void)
{
  for (guint extra = 0; extra <= 1; extra++)
    {
      /* "Subject: " + value = exactly SW_MAX_HEADER_FIELD (+1) bytes, folded. */
      GString *s = g_string_new ("Subject: ");
      while (s->len < SW_MAX_HEADER_FIELD + extra)
        {
          gsize room = SW_MAX_HEADER_FIELD + extra - s->len;
          if (room > 80)
            g_string_append (s, "word word word word word word word word word word word word word word\r\n ");
          else
            g_string_append_c (s, 'q');
        }
      g_assert_cmpuint (s->len, ==, SW_MAX_HEADER_FIELD + extra);
      g_string_append (s, "\r\nTo: b@example.com\r\n\r\n");
      g_autoptr (SwMessage) msg = message_from_string (s->str, (gssize)s->len);
      const SwHeaderField *f = sw_message_get_field (msg, 0);
      g_assert_cmpuint (f->length, ==, SW_MAX_HEADER_FIELD + extra + 2);
      g_assert_cmpuint (sw_message_get_n_fields (msg), ==, 2);
      if (extra == 0)
        {
          g_assert_false (f->truncated);
          g_assert_cmpuint (sw_message_get_flags (msg), ==, 0);
          g_assert_cmpuint (strlen (f->raw), ==, SW_MAX_HEADER_FIELD);
        }
      else
        {
          g_assert_true (f->truncated);
          g_assert_cmpuint (sw_message_get_flags (msg), ==, SW_MESSAGE_FLAG_HEADER_TRUNCATED);
          g_assert_cmpuint (strlen (f->raw), ==, SW_MAX_HEADER_FIELD);
        }
      g_assert_cmpstr (sw_message_get_field (msg, 1)->value, ==, "b@example.com");
      check_offsets ("cap-field", msg);
      g_string_free (s, TRUE);
    }
}

/* A field name longer than SW_MAX_HEADER_FIELD (its colon past the cap) is left out; the
 * fields after it are read. The colon just inside the cap keeps the field, truncated. */
static void
test_message_cap_field_name (void)
{
  for (guint inside = 0; inside <= 1; inside++)
    {
      gsize name_len = inside ? SW_MAX_HEADER_FIELD - 1 : SW_MAX_HEADER_FIELD + 1000;
      GString *s = g_string_new (NULL);
      for (gsize i = 0; i < name_len; i++)
        g_string_append_c (s, 'X');
      g_string_append (s, ": value\r\nTo: b@example.com\r\n\r\nbody\r\n");
      g_autoptr (SwMessage) msg = message_from_string (s->str, (gssize)s->len);
      g_assert_cmpuint (sw_message_get_flags (msg), ==, SW_MESSAGE_FLAG_HEADER_TRUNCATED);
      g_assert_cmpuint (sw_message_get_n_fields (msg), ==, inside ? 2 : 1);
      if (inside)
        {
          const SwHeaderField *f = sw_message_get_field (msg, 0);
          g_assert_true (f->truncated);
          g_assert_cmpuint (strlen (f->name), ==, name_len);
          g_assert_cmpstr (f->value, ==, "");
        }
      g_assert_cmpstr (sw_message_find_field (msg, "To", 0)->value, ==, "b@example.com");
      check_offsets ("cap-field-name", msg);
      g_string_free (s, TRUE);
    }
}

/* A real message (Mail::DKIM corpus, CRLF, folded fields). */
static void
test_message_corpus (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "msg", "good_dk_gmail.eml", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GMappedFile) file = g_mapped_file_new (path, FALSE, &error);
  g_assert_no_error (error);
  g_autoptr (GBytes) bytes = g_mapped_file_get_bytes (file);
  g_autoptr (SwMessage) msg = sw_message_new (bytes);
  g_assert_cmpuint (sw_message_get_flags (msg), ==, 0);
  g_assert_cmpuint (sw_message_count_fields (msg, "Received"), ==, 5);
  g_assert_cmpuint (sw_message_get_n_fields (msg), ==, 19);
  g_assert_cmpstr (sw_message_get_field (msg, 0)->value, ==, "<jasonalonzolong@gmail.com>");
  g_assert_cmpstr (
      sw_message_find_field (msg, "Received", 1)->value, ==,
      "from ug-out-1314.google.com (ug-out-1314.google.com [66.249.92.174])\tby mx2.messiah.edu (Postfix) "
      "with ESMTP id 79F442ADB4D\tfor <test@dktest.jason.long.name>; Tue, 10 Oct 2006 15:27:14 -0400 (EDT)");
  gsize size = 0;
  const char *data = g_bytes_get_data (bytes, &size);
  gsize hl = sw_message_get_header_length (msg);
  g_assert_cmpuint (hl, <, size);
  g_assert_true (hl >= 4 && memcmp (data + hl - 4, "\r\n\r\n", 4) == 0);
  check_offsets ("corpus", msg);
}

typedef struct
{
  const char *name;
  const char *input;
  guint n;
  const char *messages[4];
} MboxCase;

static const MboxCase mbox_cases[] = {
  { "eml", "From: a@example.com\r\n\r\nhi\r\n", 1, { "From: a@example.com\r\n\r\nhi\r\n" } },
  { "one",
    "From a@example.com Tue Aug  1 10:04:05 2023\nFrom: a@example.com\n\nhi\n\n",
    1,
    { "From: a@example.com\n\nhi\n" } },
  { "three-mboxrd",
    "From a@example.com Tue Aug  1 10:04:05 2023\nFrom: a@example.com\n\n>From the start\n>>From quoted\n\n"
    "From b@example.com Tue Aug  1 10:04:06 2023\nFrom: b@example.com\n\nFrom here, unquoted (mboxo): no "
    "date, no separator\n\n"
    "From c@example.com Tue Aug  1 10:04:07 2023\nFrom: c@example.com\n\nlast",
    3,
    { "From: a@example.com\n\nFrom the start\n>From quoted\n",
      "From: b@example.com\n\nFrom here, unquoted (mboxo): no date, no separator\n",
      "From: c@example.com\n\nlast" } },
  { "crlf",
    "From a@example.com Tue Aug  1 10:04:05 2023\r\nSubject: 1\r\n\r\nx\r\n\r\nFrom b@example.com Tue Aug  1 "
    "10:04:06 2023\r\nSubject: 2\r\n\r\ny\r\n",
    2,
    { "Subject: 1\r\n\r\nx\r\n", "Subject: 2\r\n\r\ny\r\n" } },
  { "empty-message", "From a@example.com Tue Aug  1 10:04:05 2023\n", 1, { "" } },
};

static void
test_mbox_table (gconstpointer data)
{
  const MboxCase *c = data;
  g_autoptr (GBytes) in = g_bytes_new_static (c->input, strlen (c->input));
  g_autoptr (GPtrArray) msgs = sw_message_split_mbox (in);
  if (msgs->len != c->n)
    g_error ("case %s: %u messages, expected %u", c->name, msgs->len, c->n);
  for (guint i = 0; i < c->n; i++)
    {
      gsize len = 0;
      const char *got = g_bytes_get_data (g_ptr_array_index (msgs, i), &len);
      if (len != strlen (c->messages[i]) || (len > 0 && memcmp (got, c->messages[i], len) != 0))
        g_error ("case %s: message %u is \"%.*s\"", c->name, i, (int)len, got ? got : "");
    }
}

/* The unfolded value by the letter of sw-message.h, one octet at a time: line breaks of
 * folding (CRLF or LF) removed, NUL read as a space, leading and trailing WSP trimmed. */
static char *
reference_unfold (const char *p, gsize len)
{
  GString *s = g_string_new (NULL);
  for (gsize i = 0; i < len; i++)
    {
      if (p[i] == '\n' || (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n'))
        continue;
      g_string_append_c (s, p[i] == '\0' ? ' ' : p[i]);
    }
  gsize start = 0, end = s->len;
  while (start < end && (s->str[start] == ' ' || s->str[start] == '\t'))
    start++;
  while (end > start && (s->str[end - 1] == ' ' || s->str[end - 1] == '\t'))
    end--;
  char *value = g_strndup (s->str + start, end - start);
  g_string_free (s, TRUE);
  return value;
}

/* Generated fields made of the octets that unfolding treats specially (SP, HTAB, NUL, a
 * CR alone, CRLF and LF folds, a CR at the end): name, raw and value are what the header
 * says, for every field of a message of many. */
static void
test_message_unfold_generated (void)
{
  static const char *const pieces[] = { " ", "\t", "a", "b:c", "\r", "\r\n ", "\n\t", "\r\n\t\t", "", "\0" };
  GRand *rand = g_rand_new_with_seed (20261206);
  for (guint round = 0; round < 300; round++)
    {
      GString *m = g_string_new (NULL);
      GPtrArray *values = g_ptr_array_new_with_free_func (g_free);
      guint n = 1 + g_rand_int_range (rand, 0, 12);
      for (guint k = 0; k < n; k++)
        {
          g_string_append_printf (m, "X-F%u:", k);
          gsize value_start = m->len;
          guint parts = g_rand_int_range (rand, 0, 9);
          for (guint j = 0; j < parts; j++)
            {
              guint w = g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces));
              if (w == G_N_ELEMENTS (pieces) - 1)
                g_string_append_c (m, '\0');
              else
                g_string_append (m, pieces[w]);
            }
          /* a line break must be followed by WSP to fold; a field ends in a CR only as
           * the CR of its line ending */
          while (m->len > value_start && (m->str[m->len - 1] == '\n' || m->str[m->len - 1] == '\r'))
            g_string_truncate (m, m->len - 1);
          g_ptr_array_add (values, reference_unfold (m->str + value_start, m->len - value_start));
          g_string_append (m, "\r\n");
        }
      g_string_append (m, "\r\nbody\r\n");
      g_autoptr (SwMessage) msg = message_from_string (m->str, (gssize)m->len);
      check_offsets ("generated", msg);
      if (sw_message_get_n_fields (msg) != n)
        g_error ("round %u: %u fields, expected %u", round, sw_message_get_n_fields (msg), n);
      for (guint k = 0; k < n; k++)
        {
          const SwHeaderField *f = sw_message_get_field (msg, k);
          g_autofree char *name = g_strdup_printf ("X-F%u", k);
          g_autofree char *raw = g_malloc (f->length - 1);
          memcpy (raw, m->str + f->offset, f->length - 2);
          raw[f->length - 2] = '\0';
          for (gsize z = 0; z < f->length - 2; z++)
            if (raw[z] == '\0')
              raw[z] = ' ';
          if (g_strcmp0 (f->name, name) != 0 || memcmp (f->raw, raw, f->length - 2) != 0
              || strlen (f->raw) != f->length - 2)
            g_error ("round %u field %u: name \"%s\" raw \"%s\" (%zu), expected \"%s\" (%zu)", round, k, f->name, f->raw, strlen (f->raw), raw, (gsize)(f->length - 2));
          if (g_strcmp0 (f->value, g_ptr_array_index (values, k)) != 0)
            g_error ("round %u field %u: value \"%s\", expected \"%s\"", round, k, f->value,
                     (const char *)g_ptr_array_index (values, k));
          if (sw_message_find_field (msg, name, 0) != f || sw_message_count_fields (msg, name) != 1)
            g_error ("round %u field %u: lookup by name failed", round, k);
        }
      g_ptr_array_unref (values);
      g_string_free (m, TRUE);
    }
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (message_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/core/msg/message/parse/%s", message_cases[i].name);
      g_test_add_data_func (path, &message_cases[i], test_message_table);
    }
  g_test_add_func ("/core/msg/message/lookup", test_message_lookup);
  g_test_add_func ("/core/msg/message/unfold-generated", test_message_unfold_generated);
  g_test_add_func ("/core/msg/message/cap/header-block", test_message_cap_block);
  g_test_add_func ("/core/msg/message/cap/header-block-unterminated", test_message_cap_block_unterminated);
  g_test_add_func ("/core/msg/message/cap/header-fields", test_message_cap_fields);
  g_test_add_func ("/core/msg/message/cap/header-field", test_message_cap_field);
  g_test_add_func ("/core/msg/message/cap/header-field-name", test_message_cap_field_name);
  g_test_add_func ("/core/msg/message/corpus/good-dk-gmail", test_message_corpus);
  for (guint i = 0; i < G_N_ELEMENTS (mbox_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/core/msg/message/mbox/%s", mbox_cases[i].name);
      g_test_add_data_func (path, &mbox_cases[i], test_mbox_table);
    }

  sw_test_from_register ();
  sw_test_received_register ();
  sw_test_envelope_register ();
  return g_test_run ();
}
