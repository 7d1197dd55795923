/* libFuzzer target for core/msg's Received: parser: the input is one field value. The
 * strings it gives are valid UTF-8 and bounded, and the IP is a normalised address. */
#define G_LOG_DOMAIN "sw-fuzz-received"
#include "sw-received.h"
#include "sw-util.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_string (const char *s)
{
  if (s == NULL)
    return;
  g_assert (g_utf8_validate (s, -1, NULL));
  g_assert (strlen (s) <= 4 * 1024);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *value = g_strndup ((const char *)data, size);
  g_autoptr (SwReceived) r = sw_received_parse (value);
  g_assert (r != NULL);
  check_string (r->from_helo);
  check_string (r->from_rdns);
  check_string (r->from_ip);
  check_string (r->by_host);
  check_string (r->with_protocol);
  check_string (r->id);
  check_string (r->envelope_from);
  check_string (r->for_address);
  if (r->from_ip != NULL)
    {
      g_autofree char *again = sw_ip_normalize (r->from_ip);
      g_assert (g_strcmp0 (again, r->from_ip) == 0);
    }
  if (r->from_rdns != NULL)
    g_assert (r->rdns_recorded);
  g_assert (r->timestamp >= -1);
  if (!r->parsed)
    g_assert (r->from_ip == NULL && r->by_host == NULL && r->timestamp == -1);
  return 0;
}
