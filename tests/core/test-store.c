#define G_LOG_DOMAIN "sw-test-store"
#include "sw-store.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>

/* ---------------------------------------------------------------------------------------
 * Fixture: a temporary folder per test, removed afterwards
 * ------------------------------------------------------------------------------------- */

typedef struct
{
  char *dir;
  char *path; /* dir/sub/verdicts.sqlite: the parent does not exist yet */
} Fixture;

static void
remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
      const char *name;
      while (d != NULL && (name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          remove_tree (child);
        }
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  f->dir = g_dir_make_tmp ("sw-store-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "sub", "dir", "verdicts.sqlite", NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->path);
}

/* ---------------------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------------------- */

static char *
hash_of (const char *seed)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, seed, -1);
}

/* A record with every field set; strings derived from @seed. Transfer full. */
static SwStoreRecord *
make_record (const char *account, const char *uidl, const char *seed, SwVerdict verdict, gint64 verified_at)
{
  SwStoreRecord *r = g_new0 (SwStoreRecord, 1);
  r->account = g_strdup (account);
  r->uidl = g_strdup (uidl);
  r->message_hash = hash_of (seed);
  r->message_id = g_strdup_printf ("<%s@example.com>", seed);
  r->imap_uid = NULL;
  r->date = 1700000000;
  r->verified_at = verified_at;
  r->from_header = g_strdup_printf ("Sender %s <a@example.com>", seed);
  r->from_domain = g_strdup ("example.com");
  r->subject = g_strdup_printf ("Subject %s", seed);
  r->verdict = verdict;
  r->explanation = g_strdup_printf ("explanation %s", seed);
  r->evidence_json = g_strdup_printf ("{\"version\":1,\"seed\":\"%s\"}", seed);
  r->added_headers = g_strdup_printf ("Authentication-Results: sw; dmarc=pass (%s)\r\n"
                                      "X-Spoofwatch-Verdict: %s\r\n",
                                      seed, sw_verdict_to_string (verdict));
  r->seen = FALSE;
  return r;
}

static void
assert_records_equal (const SwStoreRecord *a, const SwStoreRecord *b)
{
  g_assert_cmpstr (a->account, ==, b->account);
  g_assert_cmpstr (a->message_id, ==, b->message_id);
  g_assert_cmpstr (a->uidl, ==, b->uidl);
  g_assert_cmpstr (a->imap_uid, ==, b->imap_uid);
  g_assert_cmpstr (a->message_hash, ==, b->message_hash);
  g_assert_cmpint (a->date, ==, b->date);
  g_assert_cmpint (a->verified_at, ==, b->verified_at);
  g_assert_cmpstr (a->from_header, ==, b->from_header);
  g_assert_cmpstr (a->from_domain, ==, b->from_domain);
  g_assert_cmpstr (a->subject, ==, b->subject);
  g_assert_cmpint (a->verdict, ==, b->verdict);
  g_assert_cmpstr (a->explanation, ==, b->explanation);
  g_assert_cmpstr (a->evidence_json, ==, b->evidence_json);
  g_assert_cmpstr (a->added_headers, ==, b->added_headers);
  g_assert_cmpint (a->seen, ==, b->seen);
}

static SwStore *
open_ok (const char *path)
{
  g_autoptr (GError) error = NULL;
  SwStore *store = sw_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (store);
  return store;
}

static gint64
put_ok (SwStore *store, const SwStoreRecord *r)
{
  g_autoptr (GError) error = NULL;
  gint64 id = 0;
  gboolean ok = sw_store_put (store, r, &id, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpint (id, >, 0);
  return id;
}

static gint64
count_all (SwStore *store)
{
  g_autoptr (GError) error = NULL;
  gint64 n = -1;
  g_assert_true (sw_store_count (store, NULL, &n, &error));
  g_assert_no_error (error);
  return n;
}

/* A raw second connection, as another process (GUI, MUA add-on helper) would open it. */
static sqlite3 *
raw_open (const char *path)
{
  sqlite3 *db = NULL;
  int rc = sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  g_assert_cmpint (rc, ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  return db;
}

static void
raw_exec (sqlite3 *db, const char *sql)
{
  char *msg = NULL;
  int rc = sqlite3_exec (db, sql, NULL, NULL, &msg);
  if (rc != SQLITE_OK)
    g_error ("raw_exec \"%s\": %s", sql, msg);
}

static gint64
raw_int (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  gint64 v = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return v;
}

static char *
raw_text (sqlite3 *db, const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  char *v = g_strdup ((const char *)sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  return v;
}

/* ---------------------------------------------------------------------------------------
 * Opening
 * ------------------------------------------------------------------------------------- */

static void
test_open_create (Fixture *f, gconstpointer data)
{
  g_autoptr (SwStore) store = open_ok (f->path);
  g_assert_cmpint (count_all (store), ==, 0);

  struct stat st;
  g_assert_cmpint (g_stat (f->path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_autofree char *dir = g_path_get_dirname (f->path);
  g_assert_cmpint (g_stat (dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);

  /* Another connection sees WAL mode (persistent in the file) and the current schema. */
  sqlite3 *db = raw_open (f->path);
  g_autofree char *mode = raw_text (db, "PRAGMA journal_mode");
  g_assert_cmpstr (mode, ==, "wal");
  g_assert_cmpint (raw_int (db, "PRAGMA user_version"), ==, SW_STORE_SCHEMA_VERSION);
  const char *indexes[] = { "verdicts_account_uidl", "verdicts_account_hash", "verdicts_verified_at",
                            "verdicts_message_id", "verdicts_account_imap_uid" };
  for (guint i = 0; i < G_N_ELEMENTS (indexes); i++)
    {
      g_autofree char *sql = g_strdup_printf (
          "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = '%s'", indexes[i]);
      g_test_message ("index %s", indexes[i]);
      g_assert_cmpint (raw_int (db, sql), ==, 1);
    }
  sqlite3_close (db);

  /* Reopening an up-to-date file changes nothing and keeps the data. */
  g_autoptr (SwStoreRecord) r = make_record ("acct", "U1", "m1", SW_VERDICT_PASS, 100);
  put_ok (store, r);
  g_clear_pointer (&store, sw_store_close);
  store = open_ok (f->path);
  g_assert_cmpint (count_all (store), ==, 1);
}

static void
test_open_errors (Fixture *f, gconstpointer data)
{
  /* The parent "folder" is a regular file. */
  g_autofree char *file = g_build_filename (f->dir, "plainfile", NULL);
  g_assert_true (g_file_set_contents (file, "x", 1, NULL));
  g_autofree char *below = g_build_filename (file, "verdicts.sqlite", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (SwStore) store = sw_store_open (below, &error);
  g_assert_null (store);
  g_assert_error (error, SW_STORE_ERROR, SW_STORE_ERROR_OPEN);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, file));
}

static void
test_default_path (void)
{
  g_autofree char *path = sw_store_default_path ();
  /* main() set XDG_DATA_HOME before GLib first read it. */
  g_assert_cmpstr (path, ==, "/nonexistent/sw-test-data/spoofwatch/verdicts.sqlite");
}

/* ---------------------------------------------------------------------------------------
 * put / find
 * ------------------------------------------------------------------------------------- */

static void
test_put_find (Fixture *f, gconstpointer data)
{
  g_autoptr (SwStore) store = open_ok (f->path);
  g_autoptr (SwStoreRecord) a = make_record ("acct", "UIDL-A", "msg-a", SW_VERDICT_REJECT, 1000);
  g_autoptr (SwStoreRecord) b = make_record ("acct", NULL, "msg-b", SW_VERDICT_QUARANTINE, 1001);
  b->imap_uid = g_strdup ("1234:56");
  b->seen = TRUE;
  gint64 id_a = put_ok (store, a);
  gint64 id_b = put_ok (store, b);
  g_assert_cmpint (id_a, !=, id_b);

  g_autoptr (GError) error = NULL;
  /* By UIDL alone (what the proxy knows at LIST time), and by UIDL + hash. */
  g_autoptr (SwStoreRecord) got = sw_store_find (store, "acct", "UIDL-A", NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (got);
  g_assert_cmpint (got->id, ==, id_a);
  assert_records_equal (got, a);
  g_clear_pointer (&got, sw_store_record_free);
  got = sw_store_find (store, "acct", "UIDL-A", a->message_hash, &error);
  g_assert_no_error (error);
  g_assert_nonnull (got);
  g_assert_cmpint (got->id, ==, id_a);
  g_clear_pointer (&got, sw_store_record_free);

  /* By hash (no UIDL), in upper case too. */
  got = sw_store_find (store, "acct", NULL, b->message_hash, &error);
  g_assert_no_error (error);
  g_assert_nonnull (got);
  g_assert_cmpint (got->id, ==, id_b);
  assert_records_equal (got, b);
  g_clear_pointer (&got, sw_store_record_free);
  g_autofree char *upper = g_ascii_strup (b->message_hash, -1);
  got = sw_store_find (store, "acct", NULL, upper, &error);
  g_assert_no_error (error);
  g_assert_nonnull (got);
  g_assert_cmpint (got->id, ==, id_b);
  g_clear_pointer (&got, sw_store_record_free);

  /* By id. */
  got = sw_store_get (store, id_b, &error);
  g_assert_no_error (error);
  g_assert_nonnull (got);
  assert_records_equal (got, b);
  g_autoptr (SwStoreRecord) copy = sw_store_record_copy (got);
  g_assert_true (copy->subject != got->subject);
  g_assert_cmpint (copy->id, ==, got->id);
  assert_records_equal (copy, b);
  g_clear_pointer (&got, sw_store_record_free);

  /* Misses: no error, NULL. */
  struct
  {
    const char *name, *account, *uidl, *hash;
  } misses[] = {
    { "other-account", "other", "UIDL-A", NULL },
    { "unknown-uidl", "acct", "UIDL-X", NULL },
    { "uidl-with-other-hash", "acct", "UIDL-A", b->message_hash },
    { "unknown-hash", "acct", NULL, "0000000000000000000000000000000000000000000000000000000000000000" },
    { "hash-other-account", "other", NULL, b->message_hash },
  };
  for (guint i = 0; i < G_N_ELEMENTS (misses); i++)
    {
      g_test_message ("miss case %s", misses[i].name);
      got = sw_store_find (store, misses[i].account, misses[i].uidl, misses[i].hash, &error);
      g_assert_no_error (error);
      g_assert_null (got);
    }
  got = sw_store_get (store, 999999, &error);
  g_assert_no_error (error);
  g_assert_null (got);

  /* A malformed hash is an error, not a miss. */
  got = sw_store_find (store, "acct", NULL, "abc", &error);
  g_assert_error (error, SW_STORE_ERROR, SW_STORE_ERROR_INVALID);
  g_assert_null (got);
}

static void
test_null_fields (Fixture *f, gconstpointer data)
{
  g_autoptr (SwStore) store = open_ok (f->path);
  g_autoptr (SwStoreRecord) r = g_new0 (SwStoreRecord, 1);
  r->account = g_strdup ("acct");
  r->message_hash = hash_of ("bare");
  r->date = -1;
  r->verdict = SW_VERDICT_TEMPERROR;
  gint64 before = g_get_real_time () / G_USEC_PER_SEC;
  gint64 id = put_ok (store, r);
  gint64 after = g_get_real_time () / G_USEC_PER_SEC;

  g_autoptr (GError) error = NULL;
  g_autoptr (SwStoreRecord) got = sw_store_get (store, id, &error);
  g_assert_no_error (error);
  g_assert_nonnull (got);
  g_assert_cmpstr (got->account, ==, "acct");
  g_assert_null (got->message_id);
  g_assert_null (got->uidl);
  g_assert_null (got->imap_uid);
  g_assert_null (got->from_header);
  g_assert_null (got->from_domain);
  g_assert_null (got->subject);
  g_assert_null (got->explanation);
  g_assert_null (got->evidence_json);
  g_assert_null (got->added_headers);
  g_assert_cmpint (got->date, ==, -1);
  g_assert_cmpint (got->verdict, ==, SW_VERDICT_TEMPERROR);
  g_assert_false (got->seen);
  /* verified_at <= 0: the store takes the current time. */
  g_assert_cmpint (got->verified_at, >=, before);
  g_assert_cmpint (got->verified_at, <=, after);

  /* Empty strings stay empty strings, not NULL. */
  g_autoptr (SwStoreRecord) e = make_record ("acct", "E", "empty", SW_VERDICT_NONE, 5);
  g_free (e->subject);
  e->subject = g_strdup ("");
  g_free (e->added_headers);
  e->added_headers = g_strdup ("");
  id = put_ok (store, e);
  g_autoptr (SwStoreRecord) got_e = sw_store_get (store, id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (got_e->subject, ==, "");
  g_assert_cmpstr (got_e->added_headers, ==, "");
}

/* Each case: a sequence of puts (account, uidl, seed of the bytes, verdict); then the
 * number of rows, and per put whether its id equals the id of an earlier put. */
typedef struct
{
  const char *account;
  const char *uidl;
  const char *seed;
  SwVerdict verdict;
  int same_id_as; /* index of an earlier put whose id this put must return; -1: a new id */
  gboolean upper_hash;
} KeepPut;

typedef struct
{
  const char *name;
  KeepPut puts[4];
  guint n_puts;
  gint64 rows;
  /* After the puts: find (account, uidl, seed-or-NULL) returns the record of put #expect_put */
  const char *find_uidl;
  const char *find_seed;
  int expect_put;
} KeepCase;

static const KeepCase keep_cases[] = {
  { "same-uidl-same-bytes-keeps-first",
    { { "a", "U1", "m1", SW_VERDICT_PASS, -1 }, { "a", "U1", "m1", SW_VERDICT_REJECT, 0 } },
    2,
    1,
    "U1",
    NULL,
    0 },
  { "same-bytes-no-uidl-keeps-first",
    { { "a", NULL, "m1", SW_VERDICT_PASS, -1 }, { "a", NULL, "m1", SW_VERDICT_TEMPERROR, 0 } },
    2,
    1,
    NULL,
    "m1",
    0 },
  { "hash-case-does-not-matter",
    { { "a", NULL, "m1", SW_VERDICT_PASS, -1 }, { "a", NULL, "m1", SW_VERDICT_REJECT, 0, TRUE } },
    2,
    1,
    NULL,
    "m1",
    0 },
  { "no-uidl-finds-record-with-uidl",
    { { "a", "U1", "m1", SW_VERDICT_PASS, -1 }, { "a", NULL, "m1", SW_VERDICT_REJECT, 0 } },
    2,
    1,
    "U1",
    "m1",
    0 },
  { "uidl-adopts-hash-only-record",
    { { "a", NULL, "m1", SW_VERDICT_QUARANTINE, -1 }, { "a", "U9", "m1", SW_VERDICT_PASS, 0 } },
    2,
    1,
    "U9",
    "m1",
    0 },
  { "uidl-reused-for-other-bytes-replaces",
    { { "a", "U1", "m1", SW_VERDICT_PASS, -1 }, { "a", "U1", "m2", SW_VERDICT_REJECT, -1 } },
    2,
    1,
    "U1",
    NULL,
    1 },
  { "same-bytes-two-uidls-two-records",
    { { "a", "U1", "m1", SW_VERDICT_PASS, -1 }, { "a", "U2", "m1", SW_VERDICT_PASS, -1 } },
    2,
    2,
    "U2",
    "m1",
    1 },
  { "same-uidl-other-account",
    { { "a", "U1", "m1", SW_VERDICT_PASS, -1 }, { "b", "U1", "m1", SW_VERDICT_FAIL_NONE, -1 } },
    2,
    2,
    "U1",
    NULL,
    0 },
  { "three-fetches-one-record",
    { { "a", "U1", "m1", SW_VERDICT_REJECT, -1 },
      { "a", "U1", "m1", SW_VERDICT_PASS, 0 },
      { "a", NULL, "m1", SW_VERDICT_PASS, 0 } },
    3,
    1,
    "U1",
    "m1",
    0 },
};

static void
test_keep_first (Fixture *f, gconstpointer data)
{
  for (guint c = 0; c < G_N_ELEMENTS (keep_cases); c++)
    {
      const KeepCase *kc = &keep_cases[c];
      g_test_message ("keep-first case %s", kc->name);
      g_autofree char *path = g_strdup_printf ("%s/keep-%u.sqlite", f->dir, c);
      g_autoptr (SwStore) store = open_ok (path);
      gint64 ids[4] = { 0 };
      g_autoptr (GPtrArray) recs = g_ptr_array_new_with_free_func ((GDestroyNotify)sw_store_record_free);
      for (guint i = 0; i < kc->n_puts; i++)
        {
          const KeepPut *p = &kc->puts[i];
          SwStoreRecord *r = make_record (p->account, p->uidl, p->seed, p->verdict, 100 + i);
          if (p->upper_hash)
            {
              char *up = g_ascii_strup (r->message_hash, -1);
              g_free (r->message_hash);
              r->message_hash = up;
            }
          g_ptr_array_add (recs, r);
          ids[i] = put_ok (store, r);
          if (p->same_id_as >= 0)
            g_assert_cmpint (ids[i], ==, ids[p->same_id_as]);
          else
            for (guint j = 0; j < i; j++)
              g_assert_cmpint (ids[i], !=, ids[j]);
        }
      g_assert_cmpint (count_all (store), ==, kc->rows);

      const KeepPut *first = &kc->puts[0];
      g_autofree char *hash = kc->find_seed != NULL ? hash_of (kc->find_seed) : NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (SwStoreRecord) got = sw_store_find (store, first->account, kc->find_uidl, hash, &error);
      g_assert_no_error (error);
      g_assert_nonnull (got);
      const SwStoreRecord *want = g_ptr_array_index (recs, kc->expect_put);
      g_assert_cmpint (got->id, ==, ids[kc->expect_put]);
      /* The kept record's verdict and headers are those of the put that created it. */
      g_assert_cmpint (got->verdict, ==, want->verdict);
      g_assert_cmpstr (got->added_headers, ==, want->added_headers);
      g_assert_cmpstr (got->evidence_json, ==, want->evidence_json);
      if (kc->find_uidl != NULL)
        g_assert_cmpstr (got->uidl, ==, kc->find_uidl);
    }
}

/* ---------------------------------------------------------------------------------------
 * Listing
 * ------------------------------------------------------------------------------------- */

static void
test_list_recent (Fixture *f, gconstpointer data)
{
  g_autoptr (SwStore) store = open_ok (f->path);
  /* 25 records; verified_at goes up by one every second record, so ties are broken by id. */
  const guint n = 25;
  gint64 ids[25];
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *seed = g_strdup_printf ("m%u", i);
      g_autofree char *uidl = g_strdup_printf ("U%u", i);
      g_autoptr (SwStoreRecord) r = make_record ("acct", uidl, seed, SW_VERDICT_PASS, 1000 + i / 2);
      ids[i] = put_ok (store, r);
    }
  /* One put with an older verified_at last: it sorts last although its id is highest. */
  g_autoptr (SwStoreRecord) old = make_record ("acct", "OLD", "old", SW_VERDICT_PASS, 10);
  gint64 old_id = put_ok (store, old);

  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) all = sw_store_list_recent (store, 0, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (all->len, ==, n + 1);
  for (guint i = 0; i < n; i++)
    {
      const SwStoreRecord *r = g_ptr_array_index (all, i);
      g_assert_cmpint (r->id, ==, ids[n - 1 - i]);
    }
  g_assert_cmpint (((SwStoreRecord *)g_ptr_array_index (all, n))->id, ==, old_id);

  /* Pages of 10 cover the same sequence without gaps or repeats. */
  struct
  {
    guint limit, offset, expect_len;
  } pages[] = { { 10, 0, 10 },   { 10, 10, 10 }, { 10, 20, 6 }, { 10, 26, 0 },
                { 10, 1000, 0 }, { 1, 25, 1 },   { 0, 5, 21 } };
  for (guint p = 0; p < G_N_ELEMENTS (pages); p++)
    {
      g_test_message ("page limit=%u offset=%u", pages[p].limit, pages[p].offset);
      g_autoptr (GPtrArray) page = sw_store_list_recent (store, pages[p].limit, pages[p].offset, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (page->len, ==, pages[p].expect_len);
      for (guint i = 0; i < page->len; i++)
        g_assert_cmpint (((SwStoreRecord *)g_ptr_array_index (page, i))->id, ==,
                         ((SwStoreRecord *)g_ptr_array_index (all, pages[p].offset + i))->id);
    }
}

static void
test_list_filter (Fixture *f, gconstpointer data)
{
  g_autoptr (SwStore) store = open_ok (f->path);
  struct
  {
    const char *account, *seed, *subject;
    SwVerdict verdict;
  } rows[] = {
    { "home", "r0", "Invoice 100% due", SW_VERDICT_REJECT },
    { "home", "r1", "Lunch", SW_VERDICT_PASS },
    { "work", "r2", "invoice_2024", SW_VERDICT_REJECT },
    { "work", "r3", "Report", SW_VERDICT_QUARANTINE },
    { "work", "r4", "INVOICE reminder", SW_VERDICT_PASS },
  };
  gint64 ids[G_N_ELEMENTS (rows)];
  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autoptr (SwStoreRecord) r
          = make_record (rows[i].account, NULL, rows[i].seed, rows[i].verdict, 50 + i);
      g_free (r->subject);
      r->subject = g_strdup (rows[i].subject);
      ids[i] = put_ok (store, r);
    }
  g_autoptr (GError) error = NULL;
  gboolean found = FALSE;
  g_assert_true (sw_store_set_seen (store, ids[1], TRUE, &found, &error));
  g_assert_no_error (error);
  g_assert_true (found);
  g_assert_true (sw_store_set_seen (store, 424242, TRUE, &found, &error));
  g_assert_no_error (error);
  g_assert_false (found);

  struct
  {
    const char *name;
    SwStoreQuery q;
    const char *expect; /* seeds, newest first */
  } cases[] = {
    { "all", { 0 }, "r4 r3 r2 r1 r0" },
    { "account", { .account = "home" }, "r1 r0" },
    { "verdict", { .by_verdict = TRUE, .verdict = SW_VERDICT_REJECT }, "r2 r0" },
    { "verdict-pass-is-zero", { .by_verdict = TRUE, .verdict = SW_VERDICT_PASS }, "r4 r1" },
    { "text-case-insensitive", { .text = "invoice" }, "r4 r2 r0" },
    { "text-percent-is-literal", { .text = "100%" }, "r0" },
    { "text-underscore-is-literal", { .text = "e_2" }, "r2" },
    { "text-from-header", { .text = "sender r3" }, "r3" },
    { "text-no-match", { .text = "%%" }, "" },
    { "unseen", { .unseen_only = TRUE, .account = "home" }, "r0" },
    { "combined",
      { .account = "work", .by_verdict = TRUE, .verdict = SW_VERDICT_PASS, .text = "inv" },
      "r4" },
  };
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_test_message ("filter case %s", cases[c].name);
      g_autoptr (GPtrArray) list = sw_store_list (store, &cases[c].q, 0, 0, &error);
      g_assert_no_error (error);
      g_autoptr (GString) got = g_string_new (NULL);
      for (guint i = 0; i < list->len; i++)
        {
          const SwStoreRecord *r = g_ptr_array_index (list, i);
          /* message_id is "<seed@example.com>" */
          g_string_append_printf (got, "%s%.*s", i > 0 ? " " : "",
                                  (int)(strchr (r->message_id, '@') - r->message_id - 1), r->message_id + 1);
        }
      g_assert_cmpstr (got->str, ==, cases[c].expect);
      gint64 n = -1;
      g_assert_true (sw_store_count (store, &cases[c].q, &n, &error));
      g_assert_no_error (error);
      g_assert_cmpint (n, ==, list->len);
    }

  /* By Message-ID, across accounts, oldest first. */
  g_autoptr (SwStoreRecord) dup = make_record ("home", NULL, "r2", SW_VERDICT_PASS, 99);
  gint64 dup_id = put_ok (store, dup);
  g_autoptr (GPtrArray) by_mid = sw_store_find_by_message_id (store, "<r2@example.com>", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (by_mid->len, ==, 2);
  g_assert_cmpint (((SwStoreRecord *)g_ptr_array_index (by_mid, 0))->id, ==, ids[2]);
  g_assert_cmpint (((SwStoreRecord *)g_ptr_array_index (by_mid, 1))->id, ==, dup_id);
  g_autoptr (GPtrArray) none = sw_store_find_by_message_id (store, "<nothing@example.com>", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (none->len, ==, 0);
}

/* ---------------------------------------------------------------------------------------
 * Migrations
 * ------------------------------------------------------------------------------------- */

/* Schema version 1 as released (core/store/sw-store.c, migration 0 -> 1): the test keeps
 * its own copy because old files in users' folders look exactly like this. */
static const char schema_v1[]
    = "CREATE TABLE verdicts ("
      "  id INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, message_id TEXT, uidl TEXT,"
      "  imap_uid TEXT, message_hash TEXT NOT NULL, date INTEGER NOT NULL DEFAULT -1,"
      "  verified_at INTEGER NOT NULL, from_header TEXT, from_domain TEXT, subject TEXT,"
      "  verdict TEXT NOT NULL, explanation TEXT, evidence_json TEXT, added_headers TEXT,"
      "  seen INTEGER NOT NULL DEFAULT 0);"
      "CREATE UNIQUE INDEX verdicts_account_uidl ON verdicts (account, uidl) WHERE uidl IS NOT NULL;"
      "CREATE INDEX verdicts_account_hash ON verdicts (account, message_hash);"
      "CREATE INDEX verdicts_verified_at ON verdicts (verified_at);"
      "PRAGMA user_version = 1;";

static void
test_migrate_v0 (Fixture *f, gconstpointer data)
{
  struct
  {
    const char *name;
    const char *sql; /* NULL: an empty (0-byte) file */
  } cases[] = {
    { "empty-file", NULL },
    { "version-0-with-other-table", "CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('keep me');"
                                    "PRAGMA user_version = 0;" },
    { "version-0-rollback-journal", "PRAGMA journal_mode = DELETE; CREATE TABLE notes (t TEXT);"
                                    "INSERT INTO notes VALUES ('keep me');" },
  };
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_test_message ("version-0 case %s", cases[c].name);
      g_autofree char *path = g_strdup_printf ("%s/v0-%u.sqlite", f->dir, c);
      if (cases[c].sql == NULL)
        g_assert_true (g_file_set_contents (path, "", 0, NULL));
      else
        {
          sqlite3 *db = raw_open (path);
          raw_exec (db, cases[c].sql);
          sqlite3_close (db);
        }
      g_autoptr (SwStore) store = open_ok (path);
      g_autoptr (SwStoreRecord) r = make_record ("acct", "U1", "m1", SW_VERDICT_PASS, 7);
      put_ok (store, r);

      sqlite3 *db = raw_open (path);
      g_assert_cmpint (raw_int (db, "PRAGMA user_version"), ==, SW_STORE_SCHEMA_VERSION);
      g_autofree char *mode = raw_text (db, "PRAGMA journal_mode");
      g_assert_cmpstr (mode, ==, "wal");
      if (cases[c].sql != NULL)
        {
          g_autofree char *note = raw_text (db, "SELECT t FROM notes");
          g_assert_cmpstr (note, ==, "keep me");
        }
      sqlite3_close (db);
    }
}

static void
test_migrate_v1 (Fixture *f, gconstpointer data)
{
  /* A version-1 file as an older Spoofwatch left it (rollback journal: WAL is switched on
   * by sw_store_open), with one row; the row's columns have their SQL defaults. */
  g_autofree char *path = g_build_filename (f->dir, "v1.sqlite", NULL);
  sqlite3 *db = raw_open (path);
  raw_exec (db, schema_v1);
  raw_exec (
      db,
      "INSERT INTO verdicts (account, uidl, message_hash, verified_at, verdict, added_headers, message_id)"
      " VALUES ('acct', 'U1', printf('%064d', 1), 5, 'reject', 'X-Spoofwatch-Verdict: reject\r\n',"
      " '<old@x>')");
  sqlite3_close (db);

  g_autoptr (SwStore) store = open_ok (path);
  g_autoptr (GError) error = NULL;
  g_autoptr (SwStoreRecord) got = sw_store_find (store, "acct", "U1", NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (got);
  g_assert_cmpint (got->verdict, ==, SW_VERDICT_REJECT);
  g_assert_cmpstr (got->added_headers, ==, "X-Spoofwatch-Verdict: reject\r\n");
  g_assert_cmpint (got->date, ==, -1);
  g_autoptr (GPtrArray) by_mid = sw_store_find_by_message_id (store, "<old@x>", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (by_mid->len, ==, 1);

  db = raw_open (path);
  g_assert_cmpint (raw_int (db, "PRAGMA user_version"), ==, SW_STORE_SCHEMA_VERSION);
  g_assert_cmpint (raw_int (db, "SELECT count(*) FROM sqlite_schema WHERE name = 'verdicts_message_id'"), ==,
                   1);
  g_assert_cmpint (
      raw_int (db, "SELECT count(*) FROM sqlite_schema WHERE name = 'verdicts_account_imap_uid'"), ==, 1);
  sqlite3_close (db);
}

static void
test_future_version (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir, "future.sqlite", NULL);
  sqlite3 *db = raw_open (path);
  raw_exec (db, schema_v1);
  g_autofree char *bump = g_strdup_printf ("PRAGMA user_version = %d", SW_STORE_SCHEMA_VERSION + 1);
  raw_exec (db, bump);
  sqlite3_close (db);

  g_autofree char *before = NULL;
  gsize before_len = 0;
  g_assert_true (g_file_get_contents (path, &before, &before_len, NULL));

  g_autoptr (GError) error = NULL;
  g_autoptr (SwStore) store = sw_store_open (path, &error);
  g_assert_null (store);
  g_assert_error (error, SW_STORE_ERROR, SW_STORE_ERROR_FUTURE_VERSION);
  g_test_message ("%s", error->message);
  g_autofree char *num = g_strdup_printf ("version %d", SW_STORE_SCHEMA_VERSION + 1);
  g_assert_nonnull (strstr (error->message, num));
  g_assert_nonnull (strstr (error->message, "newer"));

  /* The file is left as it was (no WAL switch, no migration). */
  g_autofree char *after = NULL;
  gsize after_len = 0;
  g_assert_true (g_file_get_contents (path, &after, &after_len, NULL));
  g_assert_cmpmem (before, before_len, after, after_len);
}

/* ---------------------------------------------------------------------------------------
 * Damaged files
 * ------------------------------------------------------------------------------------- */

static void
test_corrupt (Fixture *f, gconstpointer data)
{
  /* A real store with rows, damaged in different ways. */
  g_autofree char *good = g_build_filename (f->dir, "good.sqlite", NULL);
  {
    g_autoptr (SwStore) store = open_ok (good);
    for (guint i = 0; i < 50; i++)
      {
        g_autofree char *seed = g_strdup_printf ("c%u", i);
        g_autoptr (SwStoreRecord) r = make_record ("acct", NULL, seed, SW_VERDICT_PASS, i + 1);
        put_ok (store, r);
      }
  } /* closing checkpoints the WAL into the main file */
  g_autofree char *good_bytes = NULL;
  gsize good_len = 0;
  g_assert_true (g_file_get_contents (good, &good_bytes, &good_len, NULL));
  g_assert_cmpuint (good_len, >, 8192);

  enum
  {
    GARBAGE,
    BAD_SCHEMA_PAGE,
    TRUNCATED,
    ZEROED_PAGES
  };
  struct
  {
    const char *name;
    int kind;
  } cases[] = {
    { "garbage", GARBAGE },
    { "bad-schema-page", BAD_SCHEMA_PAGE },
    { "truncated", TRUNCATED },
    { "zeroed-data-pages", ZEROED_PAGES },
  };
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_test_message ("corrupt case %s", cases[c].name);
      g_autofree char *path = g_strdup_printf ("%s/corrupt-%u.sqlite", f->dir, c);
      g_autofree char *bytes = g_memdup2 (good_bytes, good_len);
      gsize len = good_len;
      switch (cases[c].kind)
        {
        case GARBAGE:
          for (gsize i = 0; i < len; i++)
            bytes[i] = (char)(i * 7 + 3);
          break;
        case BAD_SCHEMA_PAGE:
          memset (bytes + 100, 0xff, 4096 - 100);
          break;
        case TRUNCATED:
          len = 4096 + 1000;
          break;
        case ZEROED_PAGES:
          memset (bytes + 4096, 0x5a, len - 4096);
          break;
        }
      g_assert_true (g_file_set_contents (path, bytes, (gssize)len, NULL));

      /* Either opening or the first read fails with SW_STORE_ERROR_CORRUPT; no crash. */
      g_autoptr (GError) error = NULL;
      g_autoptr (SwStore) store = sw_store_open (path, &error);
      if (store == NULL)
        {
          g_assert_error (error, SW_STORE_ERROR, SW_STORE_ERROR_CORRUPT);
          g_test_message ("  open: %s", error->message);
          continue;
        }
      g_autoptr (GPtrArray) list = sw_store_list_recent (store, 0, 0, &error);
      g_assert_null (list);
      g_assert_error (error, SW_STORE_ERROR, SW_STORE_ERROR_CORRUPT);
      g_test_message ("  list: %s", error->message);
    }

  /* A row whose verdict word was edited by hand to something unknown. */
  sqlite3 *db = raw_open (good);
  raw_exec (db, "UPDATE verdicts SET verdict = 'bogus' WHERE id = 3");
  sqlite3_close (db);
  g_autoptr (SwStore) store = open_ok (good);
  g_autoptr (GError) error = NULL;
  g_autoptr (SwStoreRecord) r = sw_store_get (store, 3, &error);
  g_assert_null (r);
  g_assert_error (error, SW_STORE_ERROR, SW_STORE_ERROR_CORRUPT);
  g_clear_error (&error);
  g_autoptr (SwStoreRecord) r4 = sw_store_get (store, 4, &error);
  g_assert_no_error (error);
  g_assert_nonnull (r4);
}

/* ---------------------------------------------------------------------------------------
 * Caps and invalid records
 * ------------------------------------------------------------------------------------- */

typedef enum
{
  FIELD_ACCOUNT,
  FIELD_UIDL,
  FIELD_IMAP_UID,
  FIELD_HEADERS,
  FIELD_EVIDENCE,
  FIELD_SUBJECT,
  FIELD_FROM,
  FIELD_DOMAIN,
  FIELD_MESSAGE_ID,
  FIELD_EXPLANATION,
  FIELD_HASH,
  FIELD_VERDICT
} CapField;

typedef enum
{
  EXPECT_STORED,
  EXPECT_TRUNCATED,
  EXPECT_STUB,
  EXPECT_ERROR
} CapExpect;

static char **
field_slot (SwStoreRecord *r, CapField field)
{
  switch (field)
    {
    case FIELD_ACCOUNT:
      return &r->account;
    case FIELD_UIDL:
      return &r->uidl;
    case FIELD_IMAP_UID:
      return &r->imap_uid;
    case FIELD_HEADERS:
      return &r->added_headers;
    case FIELD_EVIDENCE:
      return &r->evidence_json;
    case FIELD_SUBJECT:
      return &r->subject;
    case FIELD_FROM:
      return &r->from_header;
    case FIELD_DOMAIN:
      return &r->from_domain;
    case FIELD_MESSAGE_ID:
      return &r->message_id;
    case FIELD_EXPLANATION:
      return &r->explanation;
    case FIELD_HASH:
      return &r->message_hash;
    case FIELD_VERDICT:
      return NULL;
    }
  g_assert_not_reached ();
}

/* @len bytes: "é" (2 bytes) repeated, an 'x' first when @len is odd, so a cut at an even
 * cap falls inside a character whenever the text starts with 'x'. */
static char *
text_of (gsize len, gboolean multibyte)
{
  GString *s = g_string_sized_new (len + 1);
  if (!multibyte)
    {
      for (gsize i = 0; i < len; i++)
        g_string_append_c (s, (char)('a' + i % 26));
      return g_string_free (s, FALSE);
    }
  if (len % 2 == 1)
    g_string_append_c (s, 'x');
  while (s->len < len)
    g_string_append (s, "\xc3\xa9");
  return g_string_free (s, FALSE);
}

static void
test_caps (Fixture *f, gconstpointer data)
{
  struct
  {
    const char *name;
    CapField field;
    gsize len; /* bytes of generated text, when value is NULL */
    gboolean multibyte;
    const char *value; /* a literal value instead */
    CapExpect expect;
    int error_code;
    gsize stored_len; /* EXPECT_TRUNCATED: bytes kept */
  } cases[] = {
    { "account-at-cap", FIELD_ACCOUNT, SW_STORE_MAX_KEY, FALSE, NULL, EXPECT_STORED },
    { "account-over-cap", FIELD_ACCOUNT, SW_STORE_MAX_KEY + 1, FALSE, NULL, EXPECT_ERROR,
      SW_STORE_ERROR_TOO_LARGE },
    { "account-empty", FIELD_ACCOUNT, 0, FALSE, "", EXPECT_ERROR, SW_STORE_ERROR_INVALID },
    { "account-not-utf8", FIELD_ACCOUNT, 0, FALSE, "a\xff", EXPECT_ERROR, SW_STORE_ERROR_INVALID },
    { "uidl-at-cap", FIELD_UIDL, SW_STORE_MAX_KEY, FALSE, NULL, EXPECT_STORED },
    { "uidl-over-cap", FIELD_UIDL, SW_STORE_MAX_KEY + 1, FALSE, NULL, EXPECT_ERROR,
      SW_STORE_ERROR_TOO_LARGE },
    { "imap-uid-over-cap", FIELD_IMAP_UID, SW_STORE_MAX_KEY + 1, FALSE, NULL, EXPECT_ERROR,
      SW_STORE_ERROR_TOO_LARGE },
    { "headers-at-cap", FIELD_HEADERS, SW_STORE_MAX_ADDED_HEADERS, FALSE, NULL, EXPECT_STORED },
    { "headers-over-cap", FIELD_HEADERS, SW_STORE_MAX_ADDED_HEADERS + 1, FALSE, NULL, EXPECT_ERROR,
      SW_STORE_ERROR_TOO_LARGE },
    { "evidence-at-cap", FIELD_EVIDENCE, SW_STORE_MAX_EVIDENCE_JSON, FALSE, NULL, EXPECT_STORED },
    { "evidence-over-cap", FIELD_EVIDENCE, SW_STORE_MAX_EVIDENCE_JSON + 1, FALSE, NULL, EXPECT_STUB },
    { "subject-at-cap", FIELD_SUBJECT, SW_STORE_MAX_DISPLAY_FIELD, TRUE, NULL, EXPECT_STORED },
    { "subject-over-cap-ascii", FIELD_SUBJECT, SW_STORE_MAX_DISPLAY_FIELD + 500, FALSE, NULL,
      EXPECT_TRUNCATED, 0, SW_STORE_MAX_DISPLAY_FIELD },
    /* odd length: 'x' + "é"...; the cap (even) falls inside an "é": one byte less is kept */
    { "subject-over-cap-split-char", FIELD_SUBJECT, SW_STORE_MAX_DISPLAY_FIELD + 3, TRUE, NULL,
      EXPECT_TRUNCATED, 0, SW_STORE_MAX_DISPLAY_FIELD - 1 },
    { "subject-not-utf8", FIELD_SUBJECT, 0, FALSE, "caf\xe9 \xff", EXPECT_TRUNCATED, 0, 0 },
    { "from-over-cap", FIELD_FROM, SW_STORE_MAX_DISPLAY_FIELD * 4, FALSE, NULL, EXPECT_TRUNCATED, 0,
      SW_STORE_MAX_DISPLAY_FIELD },
    { "domain-over-cap", FIELD_DOMAIN, SW_STORE_MAX_DISPLAY_FIELD + 1, FALSE, NULL, EXPECT_TRUNCATED, 0,
      SW_STORE_MAX_DISPLAY_FIELD },
    { "message-id-over-cap", FIELD_MESSAGE_ID, SW_STORE_MAX_DISPLAY_FIELD + 1, FALSE, NULL, EXPECT_TRUNCATED,
      0, SW_STORE_MAX_DISPLAY_FIELD },
    { "explanation-at-cap", FIELD_EXPLANATION, SW_STORE_MAX_EXPLANATION, FALSE, NULL, EXPECT_STORED },
    { "explanation-over-cap", FIELD_EXPLANATION, SW_STORE_MAX_EXPLANATION + 1, FALSE, NULL, EXPECT_TRUNCATED,
      0, SW_STORE_MAX_EXPLANATION },
    { "hash-short", FIELD_HASH, 0, FALSE, "abcdef", EXPECT_ERROR, SW_STORE_ERROR_INVALID },
    { "hash-not-hex", FIELD_HASH, 0, FALSE,
      "zz00000000000000000000000000000000000000000000000000000000000000", EXPECT_ERROR,
      SW_STORE_ERROR_INVALID },
    { "verdict-out-of-range", FIELD_VERDICT, 0, FALSE, NULL, EXPECT_ERROR, SW_STORE_ERROR_INVALID },
  };

  g_autoptr (SwStore) store = open_ok (f->path);
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_test_message ("cap case %s", cases[c].name);
      g_autofree char *seed = g_strdup_printf ("cap-%u", c);
      g_autoptr (SwStoreRecord) r = make_record ("acct", NULL, seed, SW_VERDICT_PASS, 10 + c);
      char **slot = field_slot (r, cases[c].field);
      if (slot != NULL)
        {
          g_free (*slot);
          *slot = cases[c].value != NULL ? g_strdup (cases[c].value)
                                         : text_of (cases[c].len, cases[c].multibyte);
        }
      else
        r->verdict = SW_VERDICT_COUNT;

      g_autoptr (GError) error = NULL;
      gint64 id = 0;
      gboolean ok = sw_store_put (store, r, &id, &error);
      if (cases[c].expect == EXPECT_ERROR)
        {
          g_assert_false (ok);
          g_assert_error (error, SW_STORE_ERROR, cases[c].error_code);
          continue;
        }
      g_assert_no_error (error);
      g_assert_true (ok);
      g_autoptr (SwStoreRecord) got = sw_store_get (store, id, &error);
      g_assert_no_error (error);
      g_assert_nonnull (got);
      const char *stored = *field_slot (got, cases[c].field);
      const char *sent = *slot;
      switch (cases[c].expect)
        {
        case EXPECT_STORED:
          g_assert_cmpstr (stored, ==, sent);
          break;
        case EXPECT_TRUNCATED:
          g_assert_true (g_utf8_validate (stored, -1, NULL));
          if (cases[c].value != NULL)
            g_assert_cmpstr (stored, ==, "caf\xef\xbf\xbd \xef\xbf\xbd"); /* U+FFFD for each bad byte */
          else
            {
              g_assert_cmpuint (strlen (stored), ==, cases[c].stored_len);
              g_assert_true (strncmp (stored, sent, cases[c].stored_len) == 0);
            }
          break;
        case EXPECT_STUB:
          {
            g_autofree char *stub = g_strdup_printf ("{\"version\":1,\"truncated\":true,\"bytes\":%u}",
                                                     SW_STORE_MAX_EVIDENCE_JSON + 1);
            g_assert_cmpstr (stored, ==, stub);
          }
          break;
        case EXPECT_ERROR:
          g_assert_not_reached ();
        }
    }
}

/* ---------------------------------------------------------------------------------------
 * Concurrency
 * ------------------------------------------------------------------------------------- */

#define N_THREADS 8
#define PUTS_PER_THREAD 60
#define SHARED_KEYS 20

typedef struct
{
  SwStore *store;
  guint thread;
  guint failures;
} WriterData;

static gpointer
writer_thread (gpointer user_data)
{
  WriterData *w = user_data;
  for (guint i = 0; i < PUTS_PER_THREAD; i++)
    {
      /* Even i: a key of this thread only; odd i: a key every thread writes (keep-first race). */
      g_autofree char *uidl = (i % 2 == 0) ? g_strdup_printf ("T%u-%u", w->thread, i)
                                           : g_strdup_printf ("S%u", (i / 2) % SHARED_KEYS);
      g_autofree char *seed = g_strdup_printf ("bytes-%s", uidl);
      g_autoptr (SwStoreRecord) r
          = make_record ("acct", uidl, seed, (SwVerdict)(w->thread % SW_VERDICT_COUNT), 1000 + i);
      g_autoptr (GError) error = NULL;
      gint64 id = 0;
      if (!sw_store_put (w->store, r, &id, &error))
        {
          g_printerr ("thread %u put %u: %s\n", w->thread, i, error->message);
          w->failures++;
          continue;
        }
      g_autoptr (SwStoreRecord) back = sw_store_find (w->store, "acct", uidl, r->message_hash, &error);
      if (back == NULL || back->id != id)
        {
          g_printerr ("thread %u find %u: %s\n", w->thread, i, error != NULL ? error->message : "not found");
          w->failures++;
        }
      if (i % 10 == 0)
        {
          g_autoptr (GPtrArray) list = sw_store_list_recent (w->store, 5, 0, &error);
          if (list == NULL)
            w->failures++;
        }
    }
  return NULL;
}

static void
test_concurrent_writers (Fixture *f, gconstpointer data)
{
  /* Half the threads share one SwStore (the mutex), the other half a second SwStore on the
   * same file (SQLite's locking between connections, as between processes). */
  g_autoptr (SwStore) one = open_ok (f->path);
  g_autoptr (SwStore) two = open_ok (f->path);
  WriterData w[N_THREADS];
  GThread *threads[N_THREADS];
  for (guint t = 0; t < N_THREADS; t++)
    {
      w[t] = (WriterData){ .store = t % 2 == 0 ? one : two, .thread = t };
      threads[t] = g_thread_new ("writer", writer_thread, &w[t]);
    }
  for (guint t = 0; t < N_THREADS; t++)
    {
      g_thread_join (threads[t]);
      g_assert_cmpuint (w[t].failures, ==, 0);
    }
  /* Unique keys: PUTS_PER_THREAD / 2 per thread, plus the shared ones, each stored once. */
  gint64 expected = N_THREADS * (PUTS_PER_THREAD / 2) + SHARED_KEYS;
  g_assert_cmpint (count_all (one), ==, expected);
  g_assert_cmpint (count_all (two), ==, expected);
  sqlite3 *db = raw_open (f->path);
  g_assert_cmpint (raw_int (db, "SELECT count(*) FROM (SELECT uidl FROM verdicts GROUP BY account, uidl "
                                "HAVING count(*) > 1)"),
                   ==, 0);
  sqlite3_close (db);
}

typedef struct
{
  SwStore *store;
  guint first, n;
  gboolean ok;
} PutRange;

static gpointer
put_range_thread (gpointer user_data)
{
  PutRange *p = user_data;
  p->ok = TRUE;
  for (guint i = p->first; i < p->first + p->n; i++)
    {
      g_autofree char *seed = g_strdup_printf ("reader-%u", i);
      g_autoptr (SwStoreRecord) r = make_record ("acct", NULL, seed, SW_VERDICT_PASS, 1 + i);
      g_autoptr (GError) error = NULL;
      gint64 id;
      if (!sw_store_put (p->store, r, &id, &error))
        {
          g_printerr ("put %u: %s\n", i, error->message);
          p->ok = FALSE;
        }
    }
  return NULL;
}

static void
test_concurrent_reader (Fixture *f, gconstpointer data)
{
  g_autoptr (SwStore) store = open_ok (f->path);
  PutRange first = { store, 0, 10, FALSE };
  put_range_thread (&first);
  g_assert_true (first.ok);

  /* A second connection (another process would do the same) holds a read transaction open
   * while we write: in WAL mode the writes go through at once and the reader keeps its
   * snapshot. (In rollback-journal mode the writer would wait for the reader's lock and
   * fail with SW_STORE_ERROR_BUSY after SW_STORE_BUSY_TIMEOUT_MS.) */
  sqlite3 *reader = raw_open (f->path);
  sqlite3_busy_timeout (reader, 0);
  raw_exec (reader, "BEGIN");
  g_assert_cmpint (raw_int (reader, "SELECT count(*) FROM verdicts"), ==, 10);

  gint64 start = g_get_monotonic_time ();
  PutRange more = { store, 10, 40, FALSE };
  GThread *writer = g_thread_new ("writer", put_range_thread, &more);
  g_thread_join (writer);
  g_assert_true (more.ok);
  g_assert_cmpint (g_get_monotonic_time () - start, <, SW_STORE_BUSY_TIMEOUT_MS * 1000 / 2);

  g_assert_cmpint (raw_int (reader, "SELECT count(*) FROM verdicts"), ==, 10); /* its snapshot */
  raw_exec (reader, "COMMIT");
  g_assert_cmpint (raw_int (reader, "SELECT count(*) FROM verdicts"), ==, 50);

  /* And a reader that reads continuously while another thread writes. */
  PutRange last = { store, 50, 100, FALSE };
  writer = g_thread_new ("writer", put_range_thread, &last);
  gint64 prev = 50;
  for (guint i = 0; i < 200; i++)
    {
      gint64 n = raw_int (reader, "SELECT count(*) FROM verdicts");
      g_assert_cmpint (n, >=, prev); /* never a partial or failed read */
      prev = n;
    }
  g_thread_join (writer);
  g_assert_true (last.ok);
  g_assert_cmpint (raw_int (reader, "SELECT count(*) FROM verdicts"), ==, 150);
  sqlite3_close (reader);
}

/* ---------------------------------------------------------------------------------------
 * Other processes: this binary run as a child ("--child-reader PATH" or "--child-writer
 * PATH FIRST N"), so SQLite's locking between processes (POSIX locks) is exercised, not
 * only its sharing between connections of one process.
 * ------------------------------------------------------------------------------------- */

/* Child: holds a read transaction across the parent's writes. Prints the row count when it
 * starts, after the parent says "go" (still its snapshot) and after its COMMIT. */
static int
child_reader (const char *path)
{
  sqlite3 *db = NULL;
  if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    return 2;
  sqlite3_busy_timeout (db, 0);
  char line[16];
  const char *steps[] = { "BEGIN", NULL, NULL, "COMMIT", NULL };
  guint step = 0;
  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    {
      if (steps[i] != NULL)
        {
          if (sqlite3_exec (db, steps[i], NULL, NULL, NULL) != SQLITE_OK)
            return 3;
          continue;
        }
      sqlite3_stmt *stmt = NULL;
      if (sqlite3_prepare_v2 (db, "SELECT count(*) FROM verdicts", -1, &stmt, NULL) != SQLITE_OK
          || sqlite3_step (stmt) != SQLITE_ROW)
        return 4;
      g_print ("%" G_GINT64_FORMAT "\n", (gint64)sqlite3_column_int64 (stmt, 0));
      sqlite3_finalize (stmt);
      if (step++ == 0 && fgets (line, sizeof line, stdin) == NULL) /* wait for "go" */
        return 5;
    }
  sqlite3_close (db);
  return 0;
}

/* Child: puts N records through its own SwStore, racing with the parent on shared UIDLs. */
static int
child_writer (const char *path, guint first, guint n)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SwStore) store = sw_store_open (path, &error);
  if (store == NULL)
    {
      g_printerr ("child open: %s\n", error->message);
      return 2;
    }
  for (guint i = first; i < first + n; i++)
    {
      g_autofree char *uidl = (i % 2 == 0) ? g_strdup_printf ("P%u", i) : g_strdup_printf ("S%u", i % 10);
      g_autofree char *seed = g_strdup_printf ("bytes-%s", uidl);
      g_autoptr (SwStoreRecord) r = make_record ("acct", uidl, seed, SW_VERDICT_PASS, 1 + i);
      if (!sw_store_put (store, r, NULL, &error))
        {
          g_printerr ("child put %u: %s\n", i, error->message);
          return 3;
        }
    }
  return 0;
}

static char *
self_exe (void)
{
  g_autoptr (GError) error = NULL;
  char *exe = g_file_read_link ("/proc/self/exe", &error);
  g_assert_no_error (error);
  return exe;
}

static void
test_other_process_reader (Fixture *f, gconstpointer data)
{
  g_autoptr (SwStore) store = open_ok (f->path);
  PutRange first = { store, 0, 10, FALSE };
  put_range_thread (&first);
  g_assert_true (first.ok);

  g_autofree char *exe = self_exe ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) child
      = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, exe,
                          "--child-reader", f->path, NULL);
  g_assert_no_error (error);
  g_autoptr (GDataInputStream) out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (child));
  g_autofree char *line1 = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (line1, ==, "10");

  /* The child process now holds a read transaction: our writes must not wait for it. */
  gint64 start = g_get_monotonic_time ();
  PutRange more = { store, 10, 40, FALSE };
  put_range_thread (&more);
  g_assert_true (more.ok);
  g_assert_cmpint (g_get_monotonic_time () - start, <, SW_STORE_BUSY_TIMEOUT_MS * 1000 / 2);

  g_assert_true (
      g_output_stream_write_all (g_subprocess_get_stdin_pipe (child), "go\n", 3, NULL, NULL, &error));
  g_assert_no_error (error);
  g_autofree char *line2 = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_autofree char *line3 = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (line2, ==, "10"); /* its snapshot */
  g_assert_cmpstr (line3, ==, "50"); /* after its COMMIT */
  g_assert_true (g_subprocess_wait_check (child, NULL, &error));
  g_assert_no_error (error);
}

static void
test_other_process_writers (Fixture *f, gconstpointer data)
{
  /* Three processes (two children and us) put at once; the children share UIDLs S1, S3, .. S9. */
  g_autoptr (SwStore) store = open_ok (f->path);
  g_autofree char *exe = self_exe ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) a
      = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, exe, "--child-writer", f->path, "0", "200", NULL);
  g_assert_no_error (error);
  g_autoptr (GSubprocess) b = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, exe, "--child-writer",
                                                f->path, "1000", "200", NULL);
  g_assert_no_error (error);
  PutRange mine = { store, 5000, 200, FALSE };
  put_range_thread (&mine);
  g_assert_true (mine.ok);
  g_assert_true (g_subprocess_wait_check (a, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_subprocess_wait_check (b, NULL, &error));
  g_assert_no_error (error);
  /* 100 private UIDLs per child, the 5 shared ones once, and our 200 hash-only records. */
  g_assert_cmpint (count_all (store), ==, 100 + 100 + 5 + 200);
}

int
main (int argc, char *argv[])
{
  if (argc == 3 && strcmp (argv[1], "--child-reader") == 0)
    return child_reader (argv[2]);
  if (argc == 5 && strcmp (argv[1], "--child-writer") == 0)
    return child_writer (argv[2], (guint)g_ascii_strtoull (argv[3], NULL, 10),
                         (guint)g_ascii_strtoull (argv[4], NULL, 10));

  g_setenv ("XDG_DATA_HOME", "/nonexistent/sw-test-data", TRUE);
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) g_test_add ("/core/store/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("open/create", test_open_create);
  ADD ("open/errors", test_open_errors);
  g_test_add_func ("/core/store/open/default-path", test_default_path);
  ADD ("put/find", test_put_find);
  ADD ("put/null-fields", test_null_fields);
  ADD ("put/keep-first", test_keep_first);
  ADD ("put/caps", test_caps);
  ADD ("list/recent-paging", test_list_recent);
  ADD ("list/filter", test_list_filter);
  ADD ("migrate/from-version-0", test_migrate_v0);
  ADD ("migrate/from-version-1", test_migrate_v1);
  ADD ("migrate/future-version", test_future_version);
  ADD ("corrupt/files", test_corrupt);
  ADD ("concurrency/writers", test_concurrent_writers);
  ADD ("concurrency/reader", test_concurrent_reader);
  ADD ("concurrency/other-process-reader", test_other_process_reader);
  ADD ("concurrency/other-process-writers", test_other_process_writers);
#undef ADD
  return g_test_run ();
}
