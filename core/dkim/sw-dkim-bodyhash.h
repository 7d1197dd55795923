/* sw-dkim-bodyhash.h: DKIM body hashes computed while a message arrives, chunk by chunk,
 * so that verification needs only the header block and the finished hashes (the body
 * never has to be in memory or mapped). Internal to core (for the verifier and the POP3
 * proxy's spool); the results are exactly those of sw_dkim_body_hash() on the body as
 * sw_dkim_message_init() normalises it.
 *
 * Memory does not depend on the body's size: about 1.2 KB and one digest context (two
 * after a long relaxed line that follows empty lines, see sw-dkim-body.c) per prepared
 * hash, at most SW_DKIM_MAX_SIGNATURES of them.
 *
 * Threading: a hasher is used by one thread at a time; different hashers are
 * independent. */
#pragma once
#include "sw-dkim-private.h"
G_BEGIN_DECLS

typedef struct _SwDkimBodyHasher SwDkimBodyHasher;

/* A hasher preparing the body hashes the DKIM-Signature fields of @header will need:
 * one per distinct (c= body canonicalisation, hash of a=, l=) among the topmost
 * SW_DKIM_MAX_SIGNATURES DKIM-Signature fields (the ones the verifier verifies). Fields
 * whose c=, a= or l= cannot be read as libopendkim reads them are skipped (the verifier
 * judges them). @header is the raw header block, up to and including the empty line
 * (LF or CRLF line ends) or to the end of the data; it is not kept. Never fails; with no
 * usable field the hasher prepares nothing and only counts the body's octets.
 * Transfer full: free with sw_dkim_body_hasher_free(). */
SwDkimBodyHasher *sw_dkim_body_hasher_new_for_header (const guint8 *header, gsize len);

/* Feeds the next @len raw body octets, exactly as they follow the header block in the
 * message (line ends not normalised: a bare LF counts as CRLF, as sw_dkim_message_init()
 * makes it, also when a CR ends one chunk and the LF starts the next). @data is not kept.
 * Not after sw_dkim_body_hasher_finish(). */
void sw_dkim_body_hasher_feed (SwDkimBodyHasher *h, const guint8 *data, gsize len);

/* Ends the body (the message's terminating dot has been removed by the caller). Call
 * once, before sw_dkim_body_hasher_lookup(). */
void sw_dkim_body_hasher_finish (SwDkimBodyHasher *h);

/* After sw_dkim_body_hasher_finish(): the hash for (@canon, @hash, @limit: -1 for no
 * l=) into @out, exactly as sw_dkim_body_hash() gives it for the normalised body. FALSE
 * (and @out zeroed) if that combination was not prepared or OpenSSL failed. */
gboolean sw_dkim_body_hasher_lookup (const SwDkimBodyHasher *h, SwDkimCanon canon, SwDkimHash hash,
                                     gint64 limit, SwDkimBodyHash *out);

/* The number of hashes prepared (distinct combinations found in the header). */
guint sw_dkim_body_hasher_get_n_hashes (const SwDkimBodyHasher *h);

/* Raw body octets fed so far. */
guint64 sw_dkim_body_hasher_body_length (const SwDkimBodyHasher *h);

void sw_dkim_body_hasher_free (SwDkimBodyHasher *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwDkimBodyHasher, sw_dkim_body_hasher_free)

/* sw_dkim_verify() for a message of which only the header block is at hand: @header_block
 * is the raw header block (up to and including the empty line), @bodies a finished hasher
 * that was made for that header block and fed the whole body. The results are those
 * sw_dkim_verify() gives for the whole message. FALSE with SW_DKIM_ERROR_NEEDS_BODY when
 * a signature can only be judged by libopendkim with the body itself (unusual signatures,
 * a combination @bodies did not prepare): the caller then calls sw_dkim_verify() with the
 * whole message. Other errors as sw_dkim_verify(). Thread-safe (@bodies is only read). */
gboolean sw_dkim_verify_prehashed (SwDkimVerifier *v, GBytes *header_block, const SwDkimBodyHasher *bodies,
                                   gint64 verify_time, SwDkimResults **results_out,
                                   GError **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
