#define G_LOG_DOMAIN "sw-store"
#include "sw-store.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

G_DEFINE_QUARK (sw - store - error - quark, sw_store_error)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

struct _SwStore
{
  GMutex lock; /* guards db: one statement at a time on the connection */
  sqlite3 *db;
  char *path;
};

/* ---------------------------------------------------------------------------------------
 * Schema: an ordered list of migrations. migrations[i] takes user_version i to i + 1.
 * Never edit a released entry; append a new one and bump SW_STORE_SCHEMA_VERSION.
 * ------------------------------------------------------------------------------------- */

static const char *const migrations[] = {
  /* 0 -> 1: the verdict table and the proxy's lookups. */
  "CREATE TABLE verdicts ("
  "  id            INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  account       TEXT NOT NULL,"
  "  message_id    TEXT,"
  "  uidl          TEXT,"
  "  imap_uid      TEXT,"
  "  message_hash  TEXT NOT NULL,"
  "  date          INTEGER NOT NULL DEFAULT -1,"
  "  verified_at   INTEGER NOT NULL,"
  "  from_header   TEXT,"
  "  from_domain   TEXT,"
  "  subject       TEXT,"
  "  verdict       TEXT NOT NULL,"
  "  explanation   TEXT,"
  "  evidence_json TEXT,"
  "  added_headers TEXT,"
  "  seen          INTEGER NOT NULL DEFAULT 0"
  ");"
  "CREATE UNIQUE INDEX verdicts_account_uidl ON verdicts (account, uidl) WHERE uidl IS NOT NULL;"
  "CREATE INDEX verdicts_account_hash ON verdicts (account, message_hash);"
  "CREATE INDEX verdicts_verified_at ON verdicts (verified_at);",

  /* 1 -> 2: lookups by Message-ID (MUA add-ons) and by IMAP UID (IMAP proxy). */
  "CREATE INDEX verdicts_message_id ON verdicts (message_id) WHERE message_id IS NOT NULL;"
  "CREATE INDEX verdicts_account_imap_uid ON verdicts (account, imap_uid) WHERE imap_uid IS NOT NULL;",
};
G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == SW_STORE_SCHEMA_VERSION);

#define COLUMNS                                                                                              \
  "id, account, message_id, uidl, imap_uid, message_hash, date, verified_at, from_header, "                  \
  "from_domain, subject, verdict, explanation, evidence_json, added_headers, seen"

enum
{
  COL_ID,
  COL_ACCOUNT,
  COL_MESSAGE_ID,
  COL_UIDL,
  COL_IMAP_UID,
  COL_MESSAGE_HASH,
  COL_DATE,
  COL_VERIFIED_AT,
  COL_FROM_HEADER,
  COL_FROM_DOMAIN,
  COL_SUBJECT,
  COL_VERDICT,
  COL_EXPLANATION,
  COL_EVIDENCE_JSON,
  COL_ADDED_HEADERS,
  COL_SEEN,
  COL_COUNT
};

/* ---------------------------------------------------------------------------------------
 * Records
 * ------------------------------------------------------------------------------------- */

void
sw_store_record_free (SwStoreRecord *r)
{
  if (r == NULL)
    return;
  g_free (r->account);
  g_free (r->message_id);
  g_free (r->uidl);
  g_free (r->imap_uid);
  g_free (r->message_hash);
  g_free (r->from_header);
  g_free (r->from_domain);
  g_free (r->subject);
  g_free (r->explanation);
  g_free (r->evidence_json);
  g_free (r->added_headers);
  g_free (r);
}

SwStoreRecord *
sw_store_record_copy (const SwStoreRecord *r)
{
  g_return_val_if_fail (r != NULL, NULL);
  SwStoreRecord *c = g_new0 (SwStoreRecord, 1);
  *c = *r;
  c->account = g_strdup (r->account);
  c->message_id = g_strdup (r->message_id);
  c->uidl = g_strdup (r->uidl);
  c->imap_uid = g_strdup (r->imap_uid);
  c->message_hash = g_strdup (r->message_hash);
  c->from_header = g_strdup (r->from_header);
  c->from_domain = g_strdup (r->from_domain);
  c->subject = g_strdup (r->subject);
  c->explanation = g_strdup (r->explanation);
  c->evidence_json = g_strdup (r->evidence_json);
  c->added_headers = g_strdup (r->added_headers);
  return c;
}

/* ---------------------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------------------- */

static SwStoreError
error_code_for (int rc)
{
  switch (rc & 0xff)
    {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return SW_STORE_ERROR_CORRUPT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return SW_STORE_ERROR_BUSY;
    case SQLITE_CANTOPEN:
      return SW_STORE_ERROR_OPEN;
    default:
      return SW_STORE_ERROR_FAILED;
    }
}

static void
set_sqlite_error (GError **error, SwStore *store, int rc, const char *what)
{
  g_set_error (error, SW_STORE_ERROR, error_code_for (rc), "Verdict store %s: %s: %s", store->path, what,
               store->db != NULL ? sqlite3_errmsg (store->db) : sqlite3_errstr (rc));
}

/* ---------------------------------------------------------------------------------------
 * Small SQLite helpers (the caller holds store->lock)
 * ------------------------------------------------------------------------------------- */

static sqlite3_stmt *
prepare (SwStore *store, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (store->db, sql, -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      set_sqlite_error (error, store, rc, "preparing a statement");
      sqlite3_finalize (stmt);
      return NULL;
    }
  return stmt;
}

static gboolean
exec (SwStore *store, const char *sql, GError **error)
{
  int rc = sqlite3_exec (store->db, sql, NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    {
      set_sqlite_error (error, store, rc, sql);
      return FALSE;
    }
  return TRUE;
}

static void
rollback (SwStore *store)
{
  if (!sqlite3_get_autocommit (store->db))
    (void)sqlite3_exec (store->db, "ROLLBACK", NULL, NULL, NULL);
}

static void
bind_text (sqlite3_stmt *stmt, int idx, const char *text)
{
  if (text == NULL)
    sqlite3_bind_null (stmt, idx);
  else
    sqlite3_bind_text (stmt, idx, text, -1, SQLITE_TRANSIENT);
}

static char *
column_dup (sqlite3_stmt *stmt, int col)
{
  if (sqlite3_column_type (stmt, col) == SQLITE_NULL)
    return NULL;
  const unsigned char *text = sqlite3_column_text (stmt, col);
  int len = sqlite3_column_bytes (stmt, col);
  if (text == NULL)
    return g_strdup ("");
  return g_strndup ((const char *)text, (gsize)len);
}

/* Reads one integer out of a one-row statement such as "PRAGMA user_version". */
static gboolean
query_int (SwStore *store, const char *sql, gint64 *out, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = prepare (store, sql, error);
  if (stmt == NULL)
    return FALSE;
  int rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      set_sqlite_error (error, store, rc == SQLITE_DONE ? SQLITE_ERROR : rc, sql);
      return FALSE;
    }
  *out = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

static SwStoreRecord *
record_from_row (SwStore *store, sqlite3_stmt *stmt, GError **error)
{
  g_autoptr (SwStoreRecord) r = g_new0 (SwStoreRecord, 1);
  r->id = sqlite3_column_int64 (stmt, COL_ID);
  r->account = column_dup (stmt, COL_ACCOUNT);
  r->message_id = column_dup (stmt, COL_MESSAGE_ID);
  r->uidl = column_dup (stmt, COL_UIDL);
  r->imap_uid = column_dup (stmt, COL_IMAP_UID);
  r->message_hash = column_dup (stmt, COL_MESSAGE_HASH);
  r->date = sqlite3_column_int64 (stmt, COL_DATE);
  r->verified_at = sqlite3_column_int64 (stmt, COL_VERIFIED_AT);
  r->from_header = column_dup (stmt, COL_FROM_HEADER);
  r->from_domain = column_dup (stmt, COL_FROM_DOMAIN);
  r->subject = column_dup (stmt, COL_SUBJECT);
  r->explanation = column_dup (stmt, COL_EXPLANATION);
  r->evidence_json = column_dup (stmt, COL_EVIDENCE_JSON);
  r->added_headers = column_dup (stmt, COL_ADDED_HEADERS);
  r->seen = sqlite3_column_int64 (stmt, COL_SEEN) != 0;

  const char *word = (const char *)sqlite3_column_text (stmt, COL_VERDICT);
  if (!sw_verdict_from_string (word, &r->verdict))
    {
      g_autofree char *safe = g_strescape (word != NULL ? word : "(null)", NULL);
      g_set_error (error, SW_STORE_ERROR, SW_STORE_ERROR_CORRUPT,
                   "Verdict store %s: record %" G_GINT64_FORMAT " has an unknown verdict \"%.40s\"",
                   store->path, r->id, safe);
      return NULL;
    }
  return g_steal_pointer (&r);
}

/* Steps @stmt to the end, collecting every row. */
static GPtrArray *
collect_rows (SwStore *store, sqlite3_stmt *stmt, GError **error)
{
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify)sw_store_record_free);
  int rc;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      SwStoreRecord *r = record_from_row (store, stmt, error);
      if (r == NULL)
        return NULL;
      g_ptr_array_add (rows, r);
    }
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, store, rc, "reading records");
      return NULL;
    }
  return g_steal_pointer (&rows);
}

/* ---------------------------------------------------------------------------------------
 * Opening and migrations
 * ------------------------------------------------------------------------------------- */

static void
set_future_version_error (GError **error, const char *path, gint64 version)
{
  g_set_error (error, SW_STORE_ERROR, SW_STORE_ERROR_FUTURE_VERSION,
               "Verdict store %s has schema version %" G_GINT64_FORMAT
               ", this Spoofwatch knows versions up to %d: it was written by a newer Spoofwatch",
               path, version, SW_STORE_SCHEMA_VERSION);
}

static gboolean
run_migrations (SwStore *store, GError **error)
{
  for (;;)
    {
      /* IMMEDIATE: another process opening the same file at the same moment waits here,
       * then sees our user_version and skips what we did. */
      if (!exec (store, "BEGIN IMMEDIATE", error))
        return FALSE;
      gint64 version = 0;
      if (!query_int (store, "PRAGMA user_version", &version, error))
        {
          rollback (store);
          return FALSE;
        }
      if (version > SW_STORE_SCHEMA_VERSION || version < 0)
        {
          rollback (store);
          set_future_version_error (error, store->path, version);
          return FALSE;
        }
      if (version == SW_STORE_SCHEMA_VERSION)
        return exec (store, "COMMIT", error);

      g_autofree char *bump = g_strdup_printf ("PRAGMA user_version = %d", (int)version + 1);
      if (!exec (store, migrations[version], error) || !exec (store, bump, error)
          || !exec (store, "COMMIT", error))
        {
          rollback (store);
          g_prefix_error (error, "Migration to schema version %d: ", (int)version + 1);
          return FALSE;
        }
      g_debug ("verdict store %s migrated to schema version %d", store->path, (int)version + 1);
    }
}

static gboolean
create_file (const char *path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, SW_STORE_ERROR, SW_STORE_ERROR_OPEN, "Cannot create the folder %s: %s", dir,
                   g_strerror (saved));
      return FALSE;
    }
  /* Created here rather than by SQLite so that it (and the -wal and -shm files SQLite
   * gives the same mode) is private to the user: it holds senders and subjects. */
  int fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, SW_STORE_ERROR, SW_STORE_ERROR_OPEN, "Cannot open the verdict store %s: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  g_close (fd, NULL);
  return TRUE;
}

SwStore *
sw_store_open (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL && *path != '\0', NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!sqlite3_threadsafe ())
    {
      g_set_error_literal (error, SW_STORE_ERROR, SW_STORE_ERROR_FAILED,
                           "The SQLite library was built without thread support");
      return NULL;
    }
  if (!create_file (path, error))
    return NULL;

  g_autoptr (SwStore) store = g_new0 (SwStore, 1);
  g_mutex_init (&store->lock);
  store->path = g_strdup (path);

  int rc = sqlite3_open_v2 (path, &store->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      set_sqlite_error (error, store, rc, "opening");
      return NULL;
    }
  sqlite3_busy_timeout (store->db, SW_STORE_BUSY_TIMEOUT_MS);

  /* First read: fails with SQLITE_NOTADB on a file that is not a database. The version is
   * checked before anything is written (WAL changes the file header). */
  gint64 version = 0;
  if (!query_int (store, "PRAGMA user_version", &version, error))
    return NULL;
  if (version > SW_STORE_SCHEMA_VERSION || version < 0)
    {
      set_future_version_error (error, path, version);
      return NULL;
    }

  g_autoptr (sqlite3_stmt) wal = prepare (store, "PRAGMA journal_mode = WAL", error);
  if (wal == NULL)
    return NULL;
  rc = sqlite3_step (wal);
  if (rc != SQLITE_ROW)
    {
      set_sqlite_error (error, store, rc, "switching to WAL mode");
      return NULL;
    }
  const char *mode = (const char *)sqlite3_column_text (wal, 0);
  if (mode == NULL || g_ascii_strcasecmp (mode, "wal") != 0)
    {
      g_set_error (error, SW_STORE_ERROR, SW_STORE_ERROR_OPEN,
                   "Verdict store %s: WAL mode is not available (journal mode stays \"%s\"); "
                   "the file system may not support it",
                   path, mode != NULL ? mode : "?");
      return NULL;
    }
  g_clear_pointer (&wal, sqlite3_finalize);

  /* NORMAL is durable across application crashes in WAL mode; a power cut may lose the
   * last verdicts, which are then computed again. */
  if (!exec (store, "PRAGMA foreign_keys = ON", error) || !exec (store, "PRAGMA synchronous = NORMAL", error))
    return NULL;
  if (!run_migrations (store, error))
    return NULL;
  return g_steal_pointer (&store);
}

void
sw_store_close (SwStore *store)
{
  if (store == NULL)
    return;
  if (store->db != NULL)
    {
      int rc = sqlite3_close_v2 (store->db);
      if (rc != SQLITE_OK)
        g_warning ("Closing the verdict store %s: %s", store->path, sqlite3_errstr (rc));
      store->db = NULL;
    }
  g_mutex_clear (&store->lock);
  g_free (store->path);
  g_free (store);
}

char *
sw_store_default_path (void)
{
  return g_build_filename (g_get_user_data_dir (), "spoofwatch", "verdicts.sqlite", NULL);
}

/* ---------------------------------------------------------------------------------------
 * Validation and caps
 * ------------------------------------------------------------------------------------- */

/* Lower-case copy of a 64-hex-digit SHA-256, or NULL with @error set. */
static char *
normalize_hash (const char *hash, GError **error)
{
  if (hash == NULL || strlen (hash) != 64)
    goto bad;
  for (const char *p = hash; *p != '\0'; p++)
    if (!g_ascii_isxdigit (*p))
      goto bad;
  return g_ascii_strdown (hash, -1);

bad:
  g_set_error_literal (error, SW_STORE_ERROR, SW_STORE_ERROR_INVALID,
                       "The message hash must be a hex SHA-256 (64 hex digits)");
  return NULL;
}

/* A key (account, uidl, imap_uid): valid UTF-8, not empty, at most SW_STORE_MAX_KEY bytes. */
static gboolean
check_key (const char *name, const char *value, gboolean required, GError **error)
{
  if (value == NULL)
    {
      if (!required)
        return TRUE;
      g_set_error (error, SW_STORE_ERROR, SW_STORE_ERROR_INVALID, "The record has no %s", name);
      return FALSE;
    }
  gsize len = strlen (value);
  if (len > SW_STORE_MAX_KEY)
    {
      g_set_error (error, SW_STORE_ERROR, SW_STORE_ERROR_TOO_LARGE,
                   "The record's %s is %" G_GSIZE_FORMAT " bytes long, over the cap of %u", name, len,
                   SW_STORE_MAX_KEY);
      return FALSE;
    }
  if (len == 0 || !g_utf8_validate (value, (gssize)len, NULL))
    {
      g_set_error (error, SW_STORE_ERROR, SW_STORE_ERROR_INVALID, "The record's %s is empty or not UTF-8",
                   name);
      return FALSE;
    }
  return TRUE;
}

/* Display text: valid UTF-8, cut at a character boundary to at most @max bytes. */
static char *
display_text (const char *text, gsize max)
{
  if (text == NULL)
    return NULL;
  char *valid = g_utf8_make_valid (text, -1);
  gsize len = strlen (valid);
  if (len <= max)
    return valid;
  gsize cut = max;
  while (cut > 0 && ((guchar)valid[cut] & 0xc0) == 0x80)
    cut--;
  valid[cut] = '\0';
  return valid;
}

/* ---------------------------------------------------------------------------------------
 * put
 * ------------------------------------------------------------------------------------- */

/* Looks up one id (first column of the first row) or 0; -1 on error. */
static gint64
lookup_id (SwStore *store, sqlite3_stmt *stmt, char **hash_out, GError **error)
{
  int rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    return 0;
  if (rc != SQLITE_ROW)
    {
      set_sqlite_error (error, store, rc, "looking a record up");
      return -1;
    }
  if (hash_out != NULL)
    *hash_out = column_dup (stmt, 1);
  return sqlite3_column_int64 (stmt, 0);
}

static gboolean
step_done (SwStore *store, sqlite3_stmt *stmt, const char *what, GError **error)
{
  int rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, store, rc, what);
      return FALSE;
    }
  return TRUE;
}

/* The body of sw_store_put() inside its transaction. */
static gboolean
put_locked (SwStore *store, const SwStoreRecord *r, const char *hash, gint64 *id_out, GError **error)
{
  if (r->uidl != NULL)
    {
      g_autoptr (sqlite3_stmt) by_uidl
          = prepare (store, "SELECT id, message_hash FROM verdicts WHERE account = ?1 AND uidl = ?2", error);
      if (by_uidl == NULL)
        return FALSE;
      bind_text (by_uidl, 1, r->account);
      bind_text (by_uidl, 2, r->uidl);
      g_autofree char *old_hash = NULL;
      gint64 id = lookup_id (store, by_uidl, &old_hash, error);
      if (id < 0)
        return FALSE;
      if (id > 0 && g_strcmp0 (old_hash, hash) == 0)
        {
          *id_out = id; /* the same message again: keep the first verdict */
          return TRUE;
        }
      if (id > 0)
        {
          /* The server reused the UIDL for other bytes: the old record describes a message
           * that no longer exists under this UIDL. */
          g_autoptr (sqlite3_stmt) del = prepare (store, "DELETE FROM verdicts WHERE id = ?1", error);
          if (del == NULL)
            return FALSE;
          sqlite3_bind_int64 (del, 1, id);
          if (!step_done (store, del, "replacing a record", error))
            return FALSE;
          g_message ("verdict store: a UIDL of account %s now names other bytes; record %" G_GINT64_FORMAT
                     " replaced",
                     r->account, id);
        }
      else
        {
          /* The same bytes verified before their UIDL was known: adopt that record. */
          g_autoptr (sqlite3_stmt) by_hash
              = prepare (store,
                         "SELECT id FROM verdicts WHERE account = ?1 AND message_hash = ?2 AND uidl IS NULL "
                         "ORDER BY id LIMIT 1",
                         error);
          if (by_hash == NULL)
            return FALSE;
          bind_text (by_hash, 1, r->account);
          bind_text (by_hash, 2, hash);
          id = lookup_id (store, by_hash, NULL, error);
          if (id < 0)
            return FALSE;
          if (id > 0)
            {
              g_autoptr (sqlite3_stmt) adopt
                  = prepare (store, "UPDATE verdicts SET uidl = ?1 WHERE id = ?2", error);
              if (adopt == NULL)
                return FALSE;
              bind_text (adopt, 1, r->uidl);
              sqlite3_bind_int64 (adopt, 2, id);
              if (!step_done (store, adopt, "recording a UIDL", error))
                return FALSE;
              *id_out = id;
              return TRUE;
            }
        }
    }
  else
    {
      g_autoptr (sqlite3_stmt) by_hash = prepare (
          store, "SELECT id FROM verdicts WHERE account = ?1 AND message_hash = ?2 ORDER BY id LIMIT 1",
          error);
      if (by_hash == NULL)
        return FALSE;
      bind_text (by_hash, 1, r->account);
      bind_text (by_hash, 2, hash);
      gint64 id = lookup_id (store, by_hash, NULL, error);
      if (id < 0)
        return FALSE;
      if (id > 0)
        {
          *id_out = id;
          return TRUE;
        }
    }

  g_autoptr (sqlite3_stmt) ins = prepare (
      store,
      "INSERT INTO verdicts (account, message_id, uidl, imap_uid, message_hash, date, verified_at, "
      "from_header, from_domain, subject, verdict, explanation, evidence_json, added_headers, seen) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
      error);
  if (ins == NULL)
    return FALSE;

  g_autofree char *message_id = display_text (r->message_id, SW_STORE_MAX_DISPLAY_FIELD);
  g_autofree char *from_header = display_text (r->from_header, SW_STORE_MAX_DISPLAY_FIELD);
  g_autofree char *from_domain = display_text (r->from_domain, SW_STORE_MAX_DISPLAY_FIELD);
  g_autofree char *subject = display_text (r->subject, SW_STORE_MAX_DISPLAY_FIELD);
  g_autofree char *explanation = display_text (r->explanation, SW_STORE_MAX_EXPLANATION);
  g_autofree char *evidence_stub = NULL;
  const char *evidence = r->evidence_json;
  if (evidence != NULL && strlen (evidence) > SW_STORE_MAX_EVIDENCE_JSON)
    {
      evidence_stub = g_strdup_printf ("{\"version\":1,\"truncated\":true,\"bytes\":%" G_GSIZE_FORMAT "}",
                                       strlen (evidence));
      evidence = evidence_stub;
    }
  gint64 verified_at = r->verified_at > 0 ? r->verified_at : g_get_real_time () / G_USEC_PER_SEC;

  bind_text (ins, 1, r->account);
  bind_text (ins, 2, message_id);
  bind_text (ins, 3, r->uidl);
  bind_text (ins, 4, r->imap_uid);
  bind_text (ins, 5, hash);
  sqlite3_bind_int64 (ins, 6, r->date);
  sqlite3_bind_int64 (ins, 7, verified_at);
  bind_text (ins, 8, from_header);
  bind_text (ins, 9, from_domain);
  bind_text (ins, 10, subject);
  bind_text (ins, 11, sw_verdict_to_string (r->verdict));
  bind_text (ins, 12, explanation);
  bind_text (ins, 13, evidence);
  bind_text (ins, 14, r->added_headers);
  sqlite3_bind_int (ins, 15, r->seen ? 1 : 0);
  if (!step_done (store, ins, "storing a record", error))
    return FALSE;
  *id_out = sqlite3_last_insert_rowid (store->db);
  return TRUE;
}

gboolean
sw_store_put (SwStore *store, const SwStoreRecord *record, gint64 *id_out, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (record != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_key ("account", record->account, TRUE, error) || !check_key ("UIDL", record->uidl, FALSE, error)
      || !check_key ("IMAP UID", record->imap_uid, FALSE, error))
    return FALSE;
  if ((guint)record->verdict >= SW_VERDICT_COUNT)
    {
      g_set_error (error, SW_STORE_ERROR, SW_STORE_ERROR_INVALID,
                   "The record's verdict (%d) is not a verdict", (int)record->verdict);
      return FALSE;
    }
  if (record->added_headers != NULL && strlen (record->added_headers) > SW_STORE_MAX_ADDED_HEADERS)
    {
      g_set_error (error, SW_STORE_ERROR, SW_STORE_ERROR_TOO_LARGE,
                   "The record's added headers are %" G_GSIZE_FORMAT " bytes long, over the cap of %u",
                   strlen (record->added_headers), SW_STORE_MAX_ADDED_HEADERS);
      return FALSE;
    }
  g_autofree char *hash = normalize_hash (record->message_hash, error);
  if (hash == NULL)
    return FALSE;

  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&store->lock);
  gint64 id = 0;
  if (!exec (store, "BEGIN IMMEDIATE", error))
    return FALSE;
  if (!put_locked (store, record, hash, &id, error) || !exec (store, "COMMIT", error))
    {
      rollback (store);
      return FALSE;
    }
  if (id_out != NULL)
    *id_out = id;
  return TRUE;
}

/* ---------------------------------------------------------------------------------------
 * Reading
 * ------------------------------------------------------------------------------------- */

SwStoreRecord *
sw_store_find (SwStore *store, const char *account, const char *uidl, const char *message_hash,
               GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  g_return_val_if_fail (account != NULL, NULL);
  g_return_val_if_fail (uidl != NULL || message_hash != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_autofree char *hash = NULL;
  if (message_hash != NULL && (hash = normalize_hash (message_hash, error)) == NULL)
    return NULL;

  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&store->lock);
  g_autoptr (sqlite3_stmt) stmt = NULL;
  if (uidl != NULL)
    {
      stmt = prepare (store, "SELECT " COLUMNS " FROM verdicts WHERE account = ?1 AND uidl = ?2", error);
      if (stmt == NULL)
        return NULL;
      bind_text (stmt, 2, uidl);
    }
  else
    {
      stmt = prepare (store,
                      "SELECT " COLUMNS " FROM verdicts WHERE account = ?1 AND message_hash = ?2 "
                      "ORDER BY id LIMIT 1",
                      error);
      if (stmt == NULL)
        return NULL;
      bind_text (stmt, 2, hash);
    }
  bind_text (stmt, 1, account);

  int rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    return NULL;
  if (rc != SQLITE_ROW)
    {
      set_sqlite_error (error, store, rc, "looking a record up");
      return NULL;
    }
  g_autoptr (SwStoreRecord) r = record_from_row (store, stmt, error);
  if (r == NULL)
    return NULL;
  if (uidl != NULL && hash != NULL && g_strcmp0 (r->message_hash, hash) != 0)
    return NULL; /* the UIDL now names other bytes: that verdict is not theirs */
  return g_steal_pointer (&r);
}

SwStoreRecord *
sw_store_get (SwStore *store, gint64 id, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&store->lock);
  g_autoptr (sqlite3_stmt) stmt = prepare (store, "SELECT " COLUMNS " FROM verdicts WHERE id = ?1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  int rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    return NULL;
  if (rc != SQLITE_ROW)
    {
      set_sqlite_error (error, store, rc, "reading a record");
      return NULL;
    }
  return record_from_row (store, stmt, error);
}

/* LIKE pattern for a substring, with %, _ and the escape character escaped. */
static char *
like_pattern (const char *text)
{
  GString *s = g_string_new ("%");
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '%' || *p == '_' || *p == '\\')
        g_string_append_c (s, '\\');
      g_string_append_c (s, *p);
    }
  g_string_append_c (s, '%');
  return g_string_free (s, FALSE);
}

/* Appends the WHERE clause of @query to @sql; bind_query() binds its parameters. */
static void
append_where (GString *sql, const SwStoreQuery *query)
{
  const char *sep = " WHERE ";
  if (query == NULL)
    return;
  if (query->account != NULL)
    {
      g_string_append_printf (sql, "%saccount = :account", sep);
      sep = " AND ";
    }
  if (query->by_verdict)
    {
      g_string_append_printf (sql, "%sverdict = :verdict", sep);
      sep = " AND ";
    }
  if (query->text != NULL && *query->text != '\0')
    {
      g_string_append_printf (sql,
                              "%s(from_header LIKE :text ESCAPE '\\' OR from_domain LIKE :text ESCAPE '\\' "
                              "OR subject LIKE :text ESCAPE '\\')",
                              sep);
      sep = " AND ";
    }
  if (query->unseen_only)
    g_string_append_printf (sql, "%sseen = 0", sep);
}

static void
bind_query (sqlite3_stmt *stmt, const SwStoreQuery *query)
{
  if (query == NULL)
    return;
  if (query->account != NULL)
    bind_text (stmt, sqlite3_bind_parameter_index (stmt, ":account"), query->account);
  if (query->by_verdict)
    bind_text (stmt, sqlite3_bind_parameter_index (stmt, ":verdict"), sw_verdict_to_string (query->verdict));
  if (query->text != NULL && *query->text != '\0')
    {
      g_autofree char *pattern = like_pattern (query->text);
      bind_text (stmt, sqlite3_bind_parameter_index (stmt, ":text"), pattern);
    }
}

GPtrArray *
sw_store_list (SwStore *store, const SwStoreQuery *query, guint limit, guint offset, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_autoptr (GString) sql = g_string_new ("SELECT " COLUMNS " FROM verdicts");
  append_where (sql, query);
  g_string_append (sql, " ORDER BY verified_at DESC, id DESC LIMIT :limit OFFSET :offset");

  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&store->lock);
  g_autoptr (sqlite3_stmt) stmt = prepare (store, sql->str, error);
  if (stmt == NULL)
    return NULL;
  bind_query (stmt, query);
  sqlite3_bind_int64 (stmt, sqlite3_bind_parameter_index (stmt, ":limit"), limit == 0 ? -1 : (gint64)limit);
  sqlite3_bind_int64 (stmt, sqlite3_bind_parameter_index (stmt, ":offset"), offset);
  return collect_rows (store, stmt, error);
}

GPtrArray *
sw_store_list_recent (SwStore *store, guint limit, guint offset, GError **error)
{
  return sw_store_list (store, NULL, limit, offset, error);
}

GPtrArray *
sw_store_find_by_message_id (SwStore *store, const char *message_id, GError **error)
{
  g_return_val_if_fail (store != NULL, NULL);
  g_return_val_if_fail (message_id != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&store->lock);
  g_autoptr (sqlite3_stmt) stmt
      = prepare (store, "SELECT " COLUMNS " FROM verdicts WHERE message_id = ?1 ORDER BY id", error);
  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, message_id);
  return collect_rows (store, stmt, error);
}

gboolean
sw_store_count (SwStore *store, const SwStoreQuery *query, gint64 *count_out, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (count_out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_autoptr (GString) sql = g_string_new ("SELECT count(*) FROM verdicts");
  append_where (sql, query);

  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&store->lock);
  g_autoptr (sqlite3_stmt) stmt = prepare (store, sql->str, error);
  if (stmt == NULL)
    return FALSE;
  bind_query (stmt, query);
  int rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      set_sqlite_error (error, store, rc, "counting records");
      return FALSE;
    }
  *count_out = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

gboolean
sw_store_set_seen (SwStore *store, gint64 id, gboolean seen, gboolean *found_out, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&store->lock);
  g_autoptr (sqlite3_stmt) stmt = prepare (store, "UPDATE verdicts SET seen = ?1 WHERE id = ?2", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, seen ? 1 : 0);
  sqlite3_bind_int64 (stmt, 2, id);
  if (!step_done (store, stmt, "marking a record seen", error))
    return FALSE;
  if (found_out != NULL)
    *found_out = sqlite3_changes (store->db) > 0;
  return TRUE;
}
