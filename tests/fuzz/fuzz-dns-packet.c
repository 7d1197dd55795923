/* libFuzzer target for core/dns's response packet reader (sw_dns_answer_fill_from_packet,
 * what the libunbound backend makes of libunbound's answers): the input is one packet,
 * read as an answer to an MX question and to a TXT question. What it keeps is bounded,
 * and a name inside MX rdata is a whole wire name that decodes. */
#define G_LOG_DOMAIN "sw-fuzz-dns-packet"
#include "sw-dns-private.h"
#include "sw-limits.h"
#include "sw-resolver.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check (const uint8_t *data, size_t size, guint16 qtype)
{
  /* an exact copy, so that a read past the end is caught */
  g_autofree guint8 *pkt = g_memdup2 (data, size);
  g_autoptr (SwDnsAnswer) a = sw_dns_answer_new ("q.example.com", qtype, SW_DNS_STATUS_SERVFAIL);
  guint32 negative_ttl = 0;
  gboolean ok = sw_dns_answer_fill_from_packet (a, pkt, size, &negative_ttl);
  if (!ok)
    return;
  g_assert_cmpuint (a->rdata->len, <=, SW_MAX_DNS_ANSWER_RRS);
  g_assert_true (a->status == SW_DNS_STATUS_OK || a->rdata->len == 0);
  g_assert_true (a->status != SW_DNS_STATUS_OK || negative_ttl == 0);
  for (guint i = 0; i < a->rdata->len; i++)
    {
      gsize len = 0;
      const guint8 *rd = g_bytes_get_data (g_ptr_array_index (a->rdata, i), &len);
      g_assert_cmpuint (len, <=, size + 255);
      if (qtype == SW_DNS_TYPE_MX)
        {
          g_assert_cmpuint (len, >=, 3);
          gsize used = 0;
          g_autofree char *name = sw_dns_name_from_wire (rd + 2, len - 2, &used);
          g_assert_nonnull (name);
          g_assert_cmpuint (used, ==, len - 2);
        }
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  check (data, size, SW_DNS_TYPE_MX);
  check (data, size, SW_DNS_TYPE_TXT);
  return 0;
}
