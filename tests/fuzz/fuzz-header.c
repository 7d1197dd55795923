/* libFuzzer target for core/msg: the input is a whole message (or an mbox). Checks the
 * invariants of the header parser (fields in order and inside the message, raw text equal
 * to the message bytes, caps respected), and that From: parsing and envelope
 * reconstruction never crash and never give a private or loopback IP. */
#define G_LOG_DOMAIN "sw-fuzz-header"
#include "sw-envelope.h"
#include "sw-from.h"
#include "sw-limits.h"
#include "sw-message.h"
#include "sw-util.h"

#include <stdint.h>
#include <string.h>

static void
check_message (GBytes *bytes)
{
  g_autoptr (SwMessage) msg = sw_message_new (bytes);
  gsize size = 0;
  const char *data = g_bytes_get_data (bytes, &size);
  guint n = sw_message_get_n_fields (msg);
  g_assert (n <= SW_MAX_HEADER_FIELDS);
  g_assert (sw_message_get_header_length (msg) <= size);
  g_assert (sw_message_get_header_length (msg) <= SW_MAX_HEADER_BLOCK
            || (sw_message_get_flags (msg) & SW_MESSAGE_FLAG_NO_BODY));
  gsize prev_end = 0;
  for (guint i = 0; i < n; i++)
    {
      const SwHeaderField *f = sw_message_get_field (msg, i);
      g_assert (f->offset >= prev_end);
      g_assert (f->offset + f->length <= size);
      g_assert (f->offset + f->length <= sw_message_get_header_length (msg));
      gsize raw_len = strlen (f->raw);
      g_assert (raw_len <= SW_MAX_HEADER_FIELD);
      g_assert (raw_len <= f->length);
      g_assert (strlen (f->value) <= raw_len);
      g_assert (f->name[0] != '\0');
      for (gsize k = 0; k < raw_len; k++)
        g_assert (f->raw[k] == data[f->offset + k] || (data[f->offset + k] == '\0' && f->raw[k] == ' '));
      g_assert (sw_message_find_field (msg, f->name, 0) != NULL);
      prev_end = f->offset + f->length;
    }

  g_autoptr (SwFrom) from = sw_from_parse (msg);
  g_assert (from != NULL);
  g_assert ((from->status == SW_FROM_OK) == (from->reason == NULL));
  g_assert (from->mailboxes->len <= SW_MAX_FROM_MAILBOXES);
  for (guint i = 0; i < from->domains->len; i++)
    g_assert (((const char *)g_ptr_array_index (from->domains, i))[0] != '\0');

  static const char *const hosts[] = { "*.example.net", NULL };
  SwEnvelopeHints hint_sets[] = {
    { NULL, 0, NULL },
    { NULL, 0, "imap.example.net" },
    { hosts, 0, NULL },
    { NULL, 2, NULL },
  };
  for (guint h = 0; h < G_N_ELEMENTS (hint_sets); h++)
    {
      g_autoptr (SwEnvelope) env = sw_envelope_reconstruct (msg, &hint_sets[h]);
      g_assert (env->reason != NULL);
      g_assert (env->ip == NULL || !sw_ip_is_non_public (env->ip));
      g_assert ((env->ip == NULL) == (env->boundary_index < 0));
      g_assert (env->boundary_index < (int)SW_MAX_RECEIVED_FIELDS);
    }
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GBytes) bytes = g_bytes_new (data, size);
  check_message (bytes);
  g_autoptr (GPtrArray) parts = sw_message_split_mbox (bytes);
  g_assert (parts->len >= 1);
  gsize total = 0;
  for (guint i = 0; i < parts->len; i++)
    total += g_bytes_get_size (g_ptr_array_index (parts, i));
  g_assert (total <= size);
  if (parts->len > 1)
    for (guint i = 0; i < parts->len && i < 4; i++)
      check_message (g_ptr_array_index (parts, i));
  return 0;
}
