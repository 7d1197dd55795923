/* sw-store.h: the verdict store, one SQLite row per verified message (docs/store.md).
 *
 * The proxy looks a message up before verifying it, so that a message fetched again gets
 * the same verdict and the same added header lines; the GUI and the MUA add-ons read the
 * verdicts back. The file is in WAL mode: other processes (a second sqlite3 connection)
 * may read it while we write.
 *
 * Identity and the keep-first rule (sw_store_put(), sw_store_find()):
 *  - A record with a UIDL is identified by (account, uidl); one without by
 *    (account, message_hash).
 *  - put with a UIDL: if (account, uidl) is already stored with the same message_hash,
 *    the stored record is kept unchanged (first verdict wins). If it is stored with a
 *    different message_hash, the server has reused the UIDL for other bytes: the old
 *    record is deleted and the new one inserted (new id). If (account, uidl) is not
 *    stored but a record of the same (account, message_hash) without a UIDL is (verified
 *    before the UIDL was known), that record is kept and only gets the UIDL.
 *  - put without a UIDL: if any record of (account, message_hash) exists, the first one
 *    (lowest id) is kept unchanged.
 *  - In every "kept" case the new record's other fields are ignored and *id_out is the
 *    kept record's id.
 *
 * Caps (sw-limits.h, "Verdict store"): account, uidl and imap_uid over SW_STORE_MAX_KEY
 * bytes and added_headers over SW_STORE_MAX_ADDED_HEADERS bytes make put fail with
 * SW_STORE_ERROR_TOO_LARGE (a truncated key or header block would be wrong, not short).
 * Display text is made valid UTF-8 and truncated at a character boundary: subject,
 * from_header, from_domain and message_id to SW_STORE_MAX_DISPLAY_FIELD bytes,
 * explanation to SW_STORE_MAX_EXPLANATION. Evidence JSON over SW_STORE_MAX_EVIDENCE_JSON
 * bytes is replaced by the stub {"version":1,"truncated":true,"bytes":N} (still JSON).
 *
 * Thread-safety: every function may be called from any thread; one SwStore is shared by
 * all proxy sessions and the GUI (one connection guarded by a mutex). Records returned
 * are the caller's own copies. */
#pragma once
#include "sw-limits.h"
#include "sw-types.h"
G_BEGIN_DECLS

#define SW_STORE_ERROR (sw_store_error_quark ())
GQuark sw_store_error_quark (void);

/* Codes of SW_STORE_ERROR; never renumbered. */
typedef enum
{
  SW_STORE_ERROR_OPEN = 1,       /* the file or its folder could not be created or opened */
  SW_STORE_ERROR_CORRUPT,        /* not an SQLite file, or a damaged one */
  SW_STORE_ERROR_FUTURE_VERSION, /* written by a newer Spoofwatch: schema version unknown to us */
  SW_STORE_ERROR_INVALID,        /* a record without account or with a malformed message_hash */
  SW_STORE_ERROR_TOO_LARGE,      /* a key or the added headers over their cap */
  SW_STORE_ERROR_BUSY,           /* another connection held the write lock past the timeout */
  SW_STORE_ERROR_FAILED,         /* any other SQLite failure (disk full, read-only, ...) */
} SwStoreError;

/* Schema version this code writes (PRAGMA user_version); docs/store.md lists them. */
#define SW_STORE_SCHEMA_VERSION 2

/* Milliseconds a statement waits for another connection's lock before SW_STORE_ERROR_BUSY. */
#define SW_STORE_BUSY_TIMEOUT_MS 5000

typedef struct
{
  gint64 id;          /* row id, 0 for a new record (ignored by put) */
  char *account;      /* account name; required */
  char *message_id;   /* may be NULL */
  char *uidl;         /* POP3 UIDL, may be NULL */
  char *imap_uid;     /* "UIDVALIDITY:UID" for IMAP later, may be NULL */
  char *message_hash; /* hex SHA-256 of the message bytes as the server sent them; required
                       * (64 hex digits, stored in lower case) */
  gint64 date;        /* Date: header as Unix time, -1 unknown */
  gint64 verified_at; /* Unix time; put stores the current time when it is <= 0 */
  char *from_header;  /* decoded From: for display */
  char *from_domain;
  char *subject;
  SwVerdict verdict;
  char *explanation;
  char *evidence_json; /* sw_verify_result_to_json() */
  char *added_headers; /* the exact header lines we added (CRLF) */
  gboolean seen;       /* the user looked at it in the GUI (later issue) */
} SwStoreRecord;

/* Frees @r and every string in it. NULL is allowed. */
void sw_store_record_free (SwStoreRecord *r);

/* A deep copy of @r. Transfer full. Thread-safe. */
SwStoreRecord *sw_store_record_copy (const SwStoreRecord *r);

typedef struct _SwStore SwStore;

/* Opens (creating it and its parent folders, mode 0700/0600, if needed) the store at
 * @path, switches it to WAL mode and runs the migrations up to SW_STORE_SCHEMA_VERSION.
 * Fails with SW_STORE_ERROR_FUTURE_VERSION for a schema newer than ours (the file is left
 * untouched), SW_STORE_ERROR_CORRUPT for a file that is not a readable SQLite database.
 * Returns the store (transfer full, free with sw_store_close()) or NULL with @error set.
 * Thread-safe; several SwStore (and other processes) may open the same file. */
SwStore *sw_store_open (const char *path, GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Closes the connection and frees @store. NULL is allowed. Call it once no other thread
 * uses @store any more. */
void sw_store_close (SwStore *store);

/* Stores @record (transfer none) following the keep-first rule above, in one transaction.
 * *@id_out (may be NULL) gets the id of the stored or kept row. Returns FALSE with
 * @error set when nothing could be stored (invalid record, cap, SQLite failure).
 * Thread-safe. */
gboolean sw_store_put (SwStore *store, const SwStoreRecord *record, gint64 *id_out,
                       GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* The record of a message already verified: by (account, uidl) if @uidl != NULL, else by
 * (account, message_hash) (the first such record); at least one of the two must be given.
 * When both are given, a record stored under the UIDL for a different hash is not returned
 * (the server reused the UIDL). A malformed @message_hash is SW_STORE_ERROR_INVALID. Returns the
 * record (transfer full) or NULL: with @error set on failure, with @error unset when there
 * is none. Thread-safe. */
SwStoreRecord *sw_store_find (SwStore *store, const char *account, const char *uidl, const char *message_hash,
                              GError **error);

/* The record with row id @id (transfer full), or NULL (error unset) if there is none, or
 * NULL with @error set on failure. Thread-safe. */
SwStoreRecord *sw_store_get (SwStore *store, gint64 id, GError **error);

/* Records newest first (verified_at, then id, descending): at most @limit (0: no limit),
 * skipping the first @offset. Returns a GPtrArray of SwStoreRecord* (transfer full;
 * the array frees its records) or NULL with @error set. Thread-safe. */
GPtrArray *sw_store_list_recent (SwStore *store, guint limit, guint offset, GError **error);

/* A filter for sw_store_list(); zero-initialise and set what you need. */
typedef struct
{
  const char *account; /* only this account; NULL: all */
  gboolean by_verdict;
  SwVerdict verdict; /* only this verdict, when by_verdict */
  const char *text;  /* case-insensitive (ASCII) substring of From:, From domain or
                      * Subject; NULL or "": no text filter */
  gboolean unseen_only;
} SwStoreQuery;

/* As sw_store_list_recent(), restricted by @query (NULL: no restriction). Transfer full.
 * Thread-safe. */
GPtrArray *sw_store_list (SwStore *store, const SwStoreQuery *query, guint limit, guint offset,
                          GError **error);

/* Every record whose Message-ID is @message_id, oldest first (the MUA add-ons look verdicts
 * up by Message-ID). Transfer full; an empty array when there is none. Thread-safe. */
GPtrArray *sw_store_find_by_message_id (SwStore *store, const char *message_id, GError **error);

/* Number of records matching @query (NULL: all) into *@count_out. Thread-safe. */
gboolean sw_store_count (SwStore *store, const SwStoreQuery *query, gint64 *count_out,
                         GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* Sets the "seen" flag of record @id. Returns FALSE with @error set on failure; TRUE also
 * when no record has that id (*@found_out, may be NULL, tells which). Thread-safe. */
gboolean sw_store_set_seen (SwStore *store, gint64 id, gboolean seen, gboolean *found_out,
                            GError **error) G_GNUC_WARN_UNUSED_RESULT;

/* $XDG_DATA_HOME/spoofwatch/verdicts.sqlite (g_get_user_data_dir()). Transfer full.
 * Thread-safe. */
char *sw_store_default_path (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwStoreRecord, sw_store_record_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwStore, sw_store_close)

G_END_DECLS
