#define G_LOG_DOMAIN "sw-proxy"
/* pop3-message.c: holding one multi-line RETR/TOP response.
 *
 * The data arrive dot-stuffed (RFC 1939 section 3); we keep them unstuffed (the bytes the
 * verifier and the store's hash see), in memory up to a limit and in a spool file
 * beyond it, and stuff them again on the way out. The spool file is unlinked as soon as
 * it is created, so no copy of the user's mail outlives the session, even after a crash. */
#include "pop3-private.h"
#include "sw-dkim-bodyhash.h"
#include "sw-limits.h"
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

typedef enum
{
  DECODE_LINE_START, /* at the start of a line */
  DECODE_MID,        /* inside a line */
  DECODE_DOT,        /* a '.' at the start of a line */
  DECODE_DOT_CR,     /* ".\r" at the start of a line */
} DecodeState;

typedef enum
{
  HEADER_LINE_START, /* at the start of a header line */
  HEADER_CR,         /* "\r" at the start of a line */
  HEADER_MID,        /* inside a line */
  HEADER_COMPLETE,   /* the empty line has arrived */
} HeaderScan;

struct _SwPop3Message
{
  char *spool_dir;
  gsize memory_limit;
  gsize max_size;
  DecodeState state;
  gboolean discard;
  gboolean done;
  gsize size;
  GByteArray *memory; /* until spooled */
  int fd;             /* spool file (unlinked), -1 until spooled */
  EVP_MD_CTX *sha256; /* spooled: the hash of the content, computed as it is written */
  char *hash;
  GBytes *bytes;
  /* the header block, copied as it arrives, for the DNS prefetch and the verifier */
  GByteArray *header; /* NULL once complete (then in header_block) or given up */
  HeaderScan header_scan;
  GBytes *header_block;     /* the complete header block, or NULL */
  gboolean header_taken;    /* sw_pop3_message_take_header_block() gave it out */
  SwDkimBodyHasher *hasher; /* spooled with a complete header block: the body hashes */
};

SwPop3Message *
sw_pop3_message_new (const char *spool_dir, gsize memory_limit, gsize max_size)
{
  SwPop3Message *msg = g_new0 (SwPop3Message, 1);
  msg->spool_dir = g_strdup (spool_dir ? spool_dir : g_get_tmp_dir ());
  msg->memory_limit = memory_limit;
  msg->max_size = max_size;
  msg->state = DECODE_LINE_START;
  msg->memory = g_byte_array_new ();
  msg->fd = -1;
  msg->header = g_byte_array_new ();
  msg->header_scan = HEADER_LINE_START;
  return msg;
}

void
sw_pop3_message_free (SwPop3Message *msg)
{
  if (msg == NULL)
    return;
  g_free (msg->spool_dir);
  g_clear_pointer (&msg->memory, g_byte_array_unref);
  g_clear_pointer (&msg->bytes, g_bytes_unref);
  g_clear_pointer (&msg->header, g_byte_array_unref);
  g_clear_pointer (&msg->header_block, g_bytes_unref);
  g_clear_pointer (&msg->hasher, sw_dkim_body_hasher_free);
  if (msg->fd >= 0)
    close (msg->fd);
  g_clear_pointer (&msg->sha256, EVP_MD_CTX_free);
  g_free (msg->hash);
  g_free (msg);
}

static gboolean
write_all (int fd, const guint8 *data, gsize len, GError **error)
{
  while (len > 0)
    {
      ssize_t n = write (fd, data, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "cannot write the spool file: %s",
                       g_strerror (saved));
          return FALSE;
        }
      data += n;
      len -= (gsize)n;
    }
  return TRUE;
}

static gboolean
start_spool (SwPop3Message *msg, GError **error)
{
  g_autofree char *path = g_build_filename (msg->spool_dir, "spoofwatch-spool-XXXXXX", NULL);
  if (g_mkdir_with_parents (msg->spool_dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "cannot create the spool folder: %s",
                   g_strerror (saved));
      return FALSE;
    }
  int fd = g_mkstemp_full (path, O_RDWR, 0600);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "cannot create a spool file: %s",
                   g_strerror (saved));
      return FALSE;
    }
  g_unlink (path);
  g_debug ("message over %" G_GSIZE_FORMAT " bytes: spooled to disk (unlinked file in %s)", msg->memory_limit,
           msg->spool_dir);
  msg->fd = fd;
  msg->sha256 = EVP_MD_CTX_new ();
  if (msg->sha256 == NULL || EVP_DigestInit_ex (msg->sha256, EVP_sha256 (), NULL) != 1
      || EVP_DigestUpdate (msg->sha256, msg->memory->data, msg->memory->len) != 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot hash the spooled message (OpenSSL)");
      return FALSE;
    }
  if (msg->header_block != NULL)
    {
      /* the body so far is in memory: hash it before it goes to disk */
      gsize hlen = g_bytes_get_size (msg->header_block);
      gsize len = 0;
      const guint8 *hdata = g_bytes_get_data (msg->header_block, &len);
      msg->hasher = sw_dkim_body_hasher_new_for_header (hdata, len);
      if (msg->memory->len > hlen)
        sw_dkim_body_hasher_feed (msg->hasher, msg->memory->data + hlen, msg->memory->len - hlen);
    }
  if (!write_all (fd, msg->memory->data, msg->memory->len, error))
    return FALSE;
  g_clear_pointer (&msg->memory, g_byte_array_unref);
  return TRUE;
}

/* Copies the header block as it arrives (same rule as sw_pop3_header_block_length():
 * an empty line, CRLF or LF, ends it). Gives up over SW_MAX_HEADER_BLOCK. Returns how
 * many octets of @data belong to the header block. */
static gsize
scan_header (SwPop3Message *msg, const guint8 *data, gsize len)
{
  gsize i = 0;
  for (; i < len && msg->header_scan != HEADER_COMPLETE; i++)
    {
      guint8 c = data[i];
      switch (msg->header_scan)
        {
        case HEADER_LINE_START:
          msg->header_scan = c == '\n' ? HEADER_COMPLETE : c == '\r' ? HEADER_CR : HEADER_MID;
          break;
        case HEADER_CR:
          msg->header_scan = c == '\n' ? HEADER_COMPLETE : HEADER_MID;
          break;
        case HEADER_MID:
          if (c == '\n')
            msg->header_scan = HEADER_LINE_START;
          break;
        case HEADER_COMPLETE:
          break;
        }
    }
  if (i > SW_MAX_HEADER_BLOCK - msg->header->len)
    {
      g_clear_pointer (&msg->header, g_byte_array_unref);
      return i;
    }
  g_byte_array_append (msg->header, data, (guint)i);
  if (msg->header_scan == HEADER_COMPLETE)
    msg->header_block = g_byte_array_free_to_bytes (g_steal_pointer (&msg->header));
  return i;
}

static gboolean
emit (SwPop3Message *msg, const guint8 *data, gsize len, GError **error)
{
  if (len == 0 || msg->discard)
    return TRUE;
  if (len > msg->max_size - msg->size)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE, "message over %" G_GSIZE_FORMAT " bytes",
                   msg->max_size);
      return FALSE;
    }
  gsize header_part = 0;
  if (msg->header != NULL && msg->header_scan != HEADER_COMPLETE)
    header_part = scan_header (msg, data, len);
  msg->size += len;
  if (msg->fd < 0 && msg->size > msg->memory_limit)
    {
      /* start_spool() hashes the body held in memory, this chunk included */
      g_byte_array_append (msg->memory, data, (guint)len);
      return start_spool (msg, error);
    }
  if (msg->fd >= 0)
    {
      if (msg->hasher == NULL && msg->header_block != NULL && header_part > 0)
        {
          /* the header block ended in this chunk, after spooling began */
          gsize hlen = 0;
          const guint8 *hdata = g_bytes_get_data (msg->header_block, &hlen);
          msg->hasher = sw_dkim_body_hasher_new_for_header (hdata, hlen);
        }
      if (msg->hasher != NULL && len > header_part)
        sw_dkim_body_hasher_feed (msg->hasher, data + header_part, len - header_part);
      if (EVP_DigestUpdate (msg->sha256, data, len) != 1)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot hash the spooled message (OpenSSL)");
          return FALSE;
        }
      return write_all (msg->fd, data, len, error);
    }
  g_byte_array_append (msg->memory, data, (guint)len);
  return TRUE;
}

static char *
hex_of (const guint8 *md, gsize len)
{
  static const char digits[] = "0123456789abcdef";
  char *hex = g_malloc (2 * len + 1);
  for (gsize i = 0; i < len; i++)
    {
      hex[2 * i] = digits[md[i] >> 4];
      hex[2 * i + 1] = digits[md[i] & 15];
    }
  hex[2 * len] = '\0';
  return hex;
}

char *
sw_pop3_content_hash (GBytes *content)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (content, &len);
  guint8 md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (EVP_Digest (data, len, md, &md_len, EVP_sha256 (), NULL) != 1)
    return NULL;
  return hex_of (md, md_len);
}

void
sw_pop3_message_discard (SwPop3Message *msg)
{
  msg->discard = TRUE;
  g_clear_pointer (&msg->header, g_byte_array_unref);
  g_clear_pointer (&msg->header_block, g_bytes_unref);
  g_clear_pointer (&msg->hasher, sw_dkim_body_hasher_free);
  g_clear_pointer (&msg->memory, g_byte_array_unref);
  g_clear_pointer (&msg->sha256, EVP_MD_CTX_free);
  msg->memory = g_byte_array_new ();
  if (msg->fd >= 0)
    {
      close (msg->fd);
      msg->fd = -1;
    }
}

gboolean
sw_pop3_message_feed (SwPop3Message *msg, const guint8 *data, gsize len, gsize *consumed, gboolean *done,
                      GError **error)
{
  gsize i = 0;
  gsize run = 0; /* start of the pending run of bytes to emit */
  *done = FALSE;
  *consumed = 0;
  g_return_val_if_fail (!msg->done, FALSE);

  while (i < len)
    {
      guint8 c = data[i];
      switch (msg->state)
        {
        case DECODE_LINE_START:
          if (c == '.')
            {
              if (!emit (msg, data + run, i - run, error))
                goto fail;
              msg->state = DECODE_DOT;
              i++;
              run = i;
              continue;
            }
          msg->state = c == '\n' ? DECODE_LINE_START : DECODE_MID;
          i++;
          continue;
        case DECODE_MID:
          {
            const guint8 *nl = memchr (data + i, '\n', len - i);
            if (nl == NULL)
              {
                i = len;
                continue;
              }
            i = (gsize)(nl - data) + 1;
            msg->state = DECODE_LINE_START;
            continue;
          }
        case DECODE_DOT:
          if (c == '\r')
            {
              msg->state = DECODE_DOT_CR;
              i++;
              run = i;
              continue;
            }
          if (c == '\n')
            goto terminated;
          /* a stuffed dot: the one we dropped was the stuffing, c is content */
          msg->state = DECODE_MID;
          run = i;
          i++;
          continue;
        case DECODE_DOT_CR:
          if (c == '\n')
            goto terminated;
          /* ".\r" then something else: content "\r" (the dot was stuffing) */
          if (!emit (msg, (const guint8 *)"\r", 1, error))
            goto fail;
          msg->state = DECODE_MID;
          run = i;
          continue;
        default:
          g_assert_not_reached ();
        }
    }
  if (msg->state != DECODE_DOT && msg->state != DECODE_DOT_CR && !emit (msg, data + run, len - run, error))
    goto fail;
  *consumed = len;
  return TRUE;

terminated:
  *consumed = i + 1;
  *done = TRUE;
  msg->done = TRUE;
  if (msg->sha256 != NULL)
    {
      guint8 md[EVP_MAX_MD_SIZE];
      unsigned int md_len = 0;
      if (EVP_DigestFinal_ex (msg->sha256, md, &md_len) == 1)
        msg->hash = hex_of (md, md_len);
      g_clear_pointer (&msg->sha256, EVP_MD_CTX_free);
    }
  if (msg->hasher != NULL)
    sw_dkim_body_hasher_finish (msg->hasher);
  return TRUE;

fail:
  *consumed = i;
  return FALSE;
}

void
sw_pop3_message_expect (SwPop3Message *msg, const char *status)
{
  /* "+OK 20345 octets" (RFC 1939 suggests the size; servers may say anything) */
  const char *p = status + 3;
  while (*p == ' ')
    p++;
  guint64 n = 0;
  const char *end = p;
  while (g_ascii_isdigit (*end) && end - p < 12)
    end++;
  if (end == p || (*end != ' ' && *end != '\r' && *end != '\n' && *end != '\0'))
    return;
  n = g_ascii_strtoull (p, NULL, 10);
  /* the size counts CRLF line ends, the server may store LF: a little more is harmless */
  if (msg->memory != NULL && msg->fd < 0 && msg->memory->len == 0 && n > 0 && n <= msg->memory_limit)
    g_byte_array_set_size (g_byte_array_set_size (msg->memory, (guint)n), 0);
}

gsize
sw_pop3_message_get_size (SwPop3Message *msg)
{
  return msg->size;
}

gboolean
sw_pop3_message_is_spooled (SwPop3Message *msg)
{
  return msg->fd >= 0;
}

GBytes *
sw_pop3_message_get_bytes (SwPop3Message *msg, GError **error)
{
  g_return_val_if_fail (msg->done, NULL);
  if (msg->bytes == NULL)
    {
      if (msg->fd < 0)
        msg->bytes = g_byte_array_free_to_bytes (g_steal_pointer (&msg->memory));
      else
        {
          g_autoptr (GMappedFile) map = g_mapped_file_new_from_fd (msg->fd, FALSE, error);
          if (map == NULL)
            return NULL;
          msg->bytes = g_mapped_file_get_bytes (map);
        }
    }
  return g_bytes_ref (msg->bytes);
}

GBytes *
sw_pop3_message_take_header_block (SwPop3Message *msg)
{
  if (msg->header_block == NULL || msg->header_taken)
    return NULL;
  msg->header_taken = TRUE;
  return g_bytes_ref (msg->header_block);
}

gboolean
sw_pop3_message_steal_prehashed (SwPop3Message *msg, GBytes **header_block_out, SwDkimBodyHasher **hasher_out)
{
  g_return_val_if_fail (msg->done, FALSE);
  if (msg->hasher == NULL || msg->header_block == NULL || msg->fd < 0)
    return FALSE;
  *header_block_out = g_bytes_ref (msg->header_block);
  *hasher_out = g_steal_pointer (&msg->hasher);
  return TRUE;
}

const char *
sw_pop3_message_get_hash (SwPop3Message *msg)
{
  return msg->hash;
}

void
sw_pop3_stuff (GByteArray *out, const guint8 *data, gsize len, gboolean *at_line_start)
{
  gsize i = 0;
  while (i < len)
    {
      if (*at_line_start && data[i] == '.')
        g_byte_array_append (out, (const guint8 *)".", 1);
      const guint8 *nl = memchr (data + i, '\n', len - i);
      gsize end = nl ? (gsize)(nl - data) + 1 : len;
      g_byte_array_append (out, data + i, (guint)(end - i));
      *at_line_start = nl != NULL;
      i = end;
    }
}

gsize
sw_pop3_header_block_length (const guint8 *data, gsize len)
{
  gsize i = 0;
  while (i < len)
    {
      /* i is at a line start: an empty line ends the header block */
      if (data[i] == '\n')
        return i + 1;
      if (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n')
        return i + 2;
      const guint8 *nl = memchr (data + i, '\n', len - i);
      if (nl == NULL)
        return len;
      i = (gsize)(nl - data) + 1;
    }
  return len;
}
