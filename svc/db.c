/*
 * db.c - the SQLite database: schema, transactions and the evidence hash
 * chain (see db.h for the schema and the canonical encoding).
 */
#include "herald/db.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/util.h"

#define SCHEMA_VERSION 1

static const char *const cols_plan_versions[] = {
	"at", "event", "plan_id", "version", "sha256", "path", "approved_by",
	"approved_on", "next_review", "detail", NULL
};
static const char *const cols_deliveries[] = {
	"key", "created_at", "kind", "plan_id", "plan_version", "plan_sha256",
	"communication", "topic", "occurrence", "notify_offset", "audience",
	"channel_type", "channel_id", "recipient", "recipient_name", "message",
	"due", "message_id", "ack_id", "requested_by", "note", NULL
};
static const char *const cols_attempts[] = {
	"delivery", "n", "started_at", "finished_at", "outcome", "status",
	"reply", "error", "latency_ms", "possible_duplicate", NULL
};
static const char *const cols_delivery_states[] = {
	"delivery", "at", "state", "late", "duplicate", "detail", NULL
};
static const char *const cols_acks[] = {
	"delivery", "at", "communication", "audience", "person", NULL
};
static const char *const cols_events[] = { "at", "kind", "detail", NULL };

#define NCOLS(a) (sizeof(a) / sizeof(a[0]) - 1)
static const struct ev_table_desc tables[EV_NTABLES] = {
	{ "plan_versions", cols_plan_versions, NCOLS(cols_plan_versions) },
	{ "deliveries", cols_deliveries, NCOLS(cols_deliveries) },
	{ "attempts", cols_attempts, NCOLS(cols_attempts) },
	{ "delivery_states", cols_delivery_states, NCOLS(cols_delivery_states) },
	{ "acks", cols_acks, NCOLS(cols_acks) },
	{ "events", cols_events, NCOLS(cols_events) },
};

const struct ev_table_desc *db_table(enum ev_table t)
{
	return &tables[t];
}

struct db {
	sqlite3 *h;
	pthread_mutex_t lock;
	sqlite3_stmt *insert[EV_NTABLES];
	sqlite3_stmt *head_get, *head_set;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS internal_meta("
	"  key TEXT PRIMARY KEY, value BLOB NOT NULL);"
	"CREATE TABLE IF NOT EXISTS plan_versions("
	"  seq INTEGER PRIMARY KEY, at TEXT NOT NULL, event TEXT NOT NULL,"
	"  plan_id TEXT, version TEXT, sha256 TEXT, path TEXT, approved_by TEXT,"
	"  approved_on TEXT, next_review TEXT, detail TEXT,"
	"  prev BLOB NOT NULL, hash BLOB NOT NULL);"
	"CREATE TABLE IF NOT EXISTS deliveries("
	"  seq INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE,"
	"  created_at TEXT NOT NULL, kind TEXT NOT NULL, plan_id TEXT NOT NULL,"
	"  plan_version TEXT NOT NULL, plan_sha256 TEXT, communication TEXT NOT NULL,"
	"  topic TEXT, occurrence TEXT, notify_offset INTEGER, audience TEXT,"
	"  channel_type TEXT NOT NULL, channel_id TEXT NOT NULL, recipient TEXT,"
	"  recipient_name TEXT, message TEXT, due TEXT NOT NULL, message_id TEXT,"
	"  ack_id TEXT, requested_by TEXT, note TEXT,"
	"  prev BLOB NOT NULL, hash BLOB NOT NULL);"
	"CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(due);"
	"CREATE INDEX IF NOT EXISTS deliveries_ack ON deliveries(ack_id);"
	"CREATE TABLE IF NOT EXISTS attempts("
	"  seq INTEGER PRIMARY KEY, delivery TEXT NOT NULL, n INTEGER NOT NULL,"
	"  started_at TEXT, finished_at TEXT NOT NULL, outcome TEXT NOT NULL,"
	"  status INTEGER, reply TEXT, error TEXT, latency_ms INTEGER,"
	"  possible_duplicate INTEGER NOT NULL DEFAULT 0,"
	"  prev BLOB NOT NULL, hash BLOB NOT NULL);"
	"CREATE INDEX IF NOT EXISTS attempts_delivery ON attempts(delivery);"
	"CREATE TABLE IF NOT EXISTS delivery_states("
	"  seq INTEGER PRIMARY KEY, delivery TEXT NOT NULL, at TEXT NOT NULL,"
	"  state TEXT NOT NULL, late INTEGER NOT NULL DEFAULT 0,"
	"  duplicate INTEGER NOT NULL DEFAULT 0, detail TEXT,"
	"  prev BLOB NOT NULL, hash BLOB NOT NULL);"
	"CREATE INDEX IF NOT EXISTS delivery_states_delivery ON delivery_states(delivery);"
	"CREATE TABLE IF NOT EXISTS acks("
	"  seq INTEGER PRIMARY KEY, delivery TEXT NOT NULL, at TEXT NOT NULL,"
	"  communication TEXT, audience TEXT, person TEXT,"
	"  prev BLOB NOT NULL, hash BLOB NOT NULL);"
	"CREATE INDEX IF NOT EXISTS acks_delivery ON acks(delivery);"
	"CREATE TABLE IF NOT EXISTS events("
	"  seq INTEGER PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL,"
	"  detail TEXT, prev BLOB NOT NULL, hash BLOB NOT NULL);"
	"CREATE TABLE IF NOT EXISTS internal_outbox("
	"  key TEXT PRIMARY KEY, due INTEGER NOT NULL, next_at INTEGER NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL,"
	"  inflight_since INTEGER, parent TEXT);"
	/* Matches the claim query's ORDER BY, so LIMIT stops early instead
	 * of sorting every pending row on each claim. */
	"CREATE INDEX IF NOT EXISTS internal_outbox_claim"
	"  ON internal_outbox(state, next_at, due);";

static enum herald_rc sql_fail(struct db *db, struct herald_err *err,
			       const char *what)
{
	return herald_err_set(err, H_ERUNTIME, "database: %s: %s", what,
			      db && db->h ? sqlite3_errmsg(db->h) : "cannot open");
}

static enum herald_rc exec(struct db *db, const char *sql,
			   struct herald_err *err)
{
	char *msg = NULL;
	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		herald_err_set(err, H_ERUNTIME, "database: %s", msg ? msg : "error");
		sqlite3_free(msg);
		return H_ERUNTIME;
	}
	return H_OK;
}

/* Append-only evidence: UPDATE and DELETE are refused (against accidents). */
static enum herald_rc create_triggers(struct db *db, struct herald_err *err)
{
	for (int t = 0; t < EV_NTABLES; t++) {
		char sql[512];
		snprintf(sql, sizeof sql,
			 "CREATE TRIGGER IF NOT EXISTS %s_no_update BEFORE UPDATE ON %s "
			 "BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;"
			 "CREATE TRIGGER IF NOT EXISTS %s_no_delete BEFORE DELETE ON %s "
			 "BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;",
			 tables[t].name, tables[t].name, tables[t].name, tables[t].name);
		if (exec(db, sql, err))
			return H_ERUNTIME;
	}
	return H_OK;
}

static enum herald_rc prepare(struct db *db, struct herald_err *err)
{
	for (int t = 0; t < EV_NTABLES; t++) {
		struct buf b;
		buf_init(&b);
		buf_printf(&b, "INSERT INTO %s(seq", tables[t].name);
		for (size_t i = 0; i < tables[t].ncolumns; i++)
			buf_printf(&b, ",%s", tables[t].columns[i]);
		buf_adds(&b, ",prev,hash) VALUES(?");
		for (size_t i = 0; i < tables[t].ncolumns + 2; i++)
			buf_adds(&b, ",?");
		buf_adds(&b, ")");
		int r = sqlite3_prepare_v3(db->h, b.data, -1, SQLITE_PREPARE_PERSISTENT,
					   &db->insert[t], NULL);
		buf_free(&b);
		if (r != SQLITE_OK)
			return sql_fail(db, err, "prepare");
	}
	if (sqlite3_prepare_v2(db->h,
			       "SELECT value FROM internal_meta WHERE key='head'", -1,
			       &db->head_get, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db->h,
			       "INSERT OR REPLACE INTO internal_meta(key,value) VALUES('head',?)",
			       -1, &db->head_set, NULL) != SQLITE_OK)
		return sql_fail(db, err, "prepare");
	return H_OK;
}

static enum herald_rc db_open_flags(const char *path, int flags, bool create,
				    struct db **out, struct herald_err *err)
{
	struct db *db = xcalloc(1, sizeof *db);
	pthread_mutex_init(&db->lock, NULL);
	/* A read-only handle (verify, export, report) is used by one thread,
	 * and the per-call mutex was a tenth of verify's time. */
	int mutex = create ? SQLITE_OPEN_FULLMUTEX : SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &db->h, flags | mutex, NULL) != SQLITE_OK) {
		enum herald_rc rc = herald_err_set(err, H_ERUNTIME, "database %s: %s", path,
						   db->h ? sqlite3_errmsg(db->h) : "cannot open");
		db_close(db);
		return rc;
	}
	sqlite3_busy_timeout(db->h, 10000);
	/* Memory-mapped reads and a larger page cache: verify and export read
	 * every row, and the outbox is read on every transaction. */
	enum herald_rc rc = exec(db, "PRAGMA mmap_size=1073741824; PRAGMA cache_size=-65536;", err);
	if (!rc && create) {
		rc = exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", err);
		if (!rc)
			rc = exec(db, "BEGIN IMMEDIATE", err);
		if (!rc) {
			rc = exec(db, schema, err);
			if (!rc)
				rc = create_triggers(db, err);
			if (!rc)
				rc = exec(db, "PRAGMA user_version=" "1", err);
			rc = rc ? (exec(db, "ROLLBACK", NULL), rc) : exec(db, "COMMIT", err);
		}
	} else if (!rc) {
		/* A read-only open must still be a herald database. */
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(db->h, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
			rc = sql_fail(db, err, path);
		else {
			if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 0) != SCHEMA_VERSION)
				rc = herald_err_set(err, H_ERUNTIME,
						    "database %s: not a herald evidence database", path);
			sqlite3_finalize(st);
		}
	}
	if (!rc && create)
		rc = prepare(db, err);
	if (rc) {
		db_close(db);
		return rc;
	}
	*out = db;
	return H_OK;
}

enum herald_rc db_open(const char *path, struct db **out, struct herald_err *err)
{
	return db_open_flags(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, true,
			     out, err);
}

enum herald_rc db_open_readonly(const char *path, struct db **out,
				struct herald_err *err)
{
	return db_open_flags(path, SQLITE_OPEN_READONLY, false, out, err);
}

void db_close(struct db *db)
{
	if (!db)
		return;
	for (int t = 0; t < EV_NTABLES; t++)
		sqlite3_finalize(db->insert[t]);
	sqlite3_finalize(db->head_get);
	sqlite3_finalize(db->head_set);
	sqlite3_close(db->h);
	pthread_mutex_destroy(&db->lock);
	free(db);
}

sqlite3 *db_handle(struct db *db)
{
	return db->h;
}

enum herald_rc db_begin(struct db *db, struct herald_err *err)
{
	pthread_mutex_lock(&db->lock);
	if (exec(db, "BEGIN IMMEDIATE", err)) {
		pthread_mutex_unlock(&db->lock);
		return H_ERUNTIME;
	}
	return H_OK;
}

enum herald_rc db_commit(struct db *db, struct herald_err *err)
{
	enum herald_rc rc = exec(db, "COMMIT", err);
	if (rc)
		exec(db, "ROLLBACK", NULL);
	pthread_mutex_unlock(&db->lock);
	return rc;
}

void db_rollback(struct db *db)
{
	exec(db, "ROLLBACK", NULL);
	pthread_mutex_unlock(&db->lock);
}

/* ------------------------------------------------------------ the chain */

/*
 * The encoding is built in one buffer and hashed with one update: verify
 * hashes every row of the log, and OpenSSL's per-call overhead (context
 * allocation, the implicit SHA-256 fetch, many tiny updates) was most of
 * its cost.  The digest is fetched once; each thread keeps its context.
 */
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_sha256;
static pthread_key_t md_key;

struct hash_tls {
	EVP_MD_CTX *md;
	struct buf enc;   /* reused: no allocation per row */
};

static void hash_tls_free(void *p)
{
	struct hash_tls *h = p;
	EVP_MD_CTX_free(h->md);
	buf_free(&h->enc);
	free(h);
}

static void md_init(void)
{
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!md_sha256 || pthread_key_create(&md_key, hash_tls_free) != 0)
		abort();
}

static struct hash_tls *hash_tls(void)
{
	pthread_once(&md_once, md_init);
	struct hash_tls *h = pthread_getspecific(md_key);
	if (!h) {
		h = xcalloc(1, sizeof *h);
		buf_init(&h->enc);
		h->md = EVP_MD_CTX_new();
		if (!h->md || pthread_setspecific(md_key, h) != 0)
			abort();
	}
	return h;
}

static void put_u64(struct buf *b, uint64_t v)
{
	unsigned char x[8];
	for (int i = 7; i >= 0; i--, v >>= 8)
		x[i] = (unsigned char)v;
	buf_add(b, x, 8);
}

static void put_text(struct buf *b, const char *s, size_t n)
{
	buf_addc(b, 'T');
	put_u64(b, n);
	buf_add(b, s, n);
}

void db_row_hash(enum ev_table t, int64_t seq, const struct ev_value *vals,
		 const unsigned char prev[32], unsigned char out[32])
{
	struct hash_tls *h = hash_tls();
	struct buf *enc = &h->enc;
	buf_reset(enc);
	buf_add(enc, prev, 32);
	put_text(enc, tables[t].name, strlen(tables[t].name));
	buf_addc(enc, 'I');
	put_u64(enc, (uint64_t)seq);
	for (size_t i = 0; i < tables[t].ncolumns; i++) {
		switch (vals[i].type) {
		case EV_NULL:
			buf_addc(enc, 'N');
			break;
		case EV_INT:
			buf_addc(enc, 'I');
			put_u64(enc, (uint64_t)vals[i].i);
			break;
		case EV_TEXT:
			put_text(enc, vals[i].s, vals[i].len);
			break;
		}
	}
	EVP_MD_CTX *md = h->md;
	unsigned int len = 32;
	if (!EVP_DigestInit_ex(md, md_sha256, NULL) ||
	    !EVP_DigestUpdate(md, enc->data, enc->len) ||
	    !EVP_DigestFinal_ex(md, out, &len))
		abort();
}

enum herald_rc db_head(struct db *db, int64_t *seq, unsigned char hash[32],
		       struct herald_err *err)
{
	unsigned char v[40];
	size_t len = 0;
	*seq = 0;
	memset(hash, 0, 32);
	if (db->head_get) {
		/* The writer's path: a prepared statement, not one per append. */
		sqlite3_stmt *st = db->head_get;
		sqlite3_reset(st);
		int r = sqlite3_step(st);
		if (r == SQLITE_ROW) {
			len = (size_t)sqlite3_column_bytes(st, 0);
			if (len == 40)
				memcpy(v, sqlite3_column_blob(st, 0), 40);
		}
		sqlite3_reset(st);
		if (r == SQLITE_DONE)
			return H_OK;
		if (r != SQLITE_ROW)
			return sql_fail(db, err, "chain head");
	} else if (!db_meta_get(db, "head", v, sizeof v, &len)) {
		return H_OK;
	}
	if (len != 40)
		return herald_err_set(err, H_EINVAL, "database: the chain head record is damaged");
	int64_t s = 0;
	for (int i = 0; i < 8; i++)
		s = (s << 8) | v[i];
	*seq = s;
	memcpy(hash, v + 8, 32);
	return H_OK;
}

enum herald_rc db_append(struct db *db, enum ev_table t,
			 const struct ev_value *vals, size_t n, int64_t *seq_out,
			 struct herald_err *err)
{
	if (n != tables[t].ncolumns)
		return herald_err_set(err, H_ERUNTIME, "internal: %s takes %zu values, not %zu",
				      tables[t].name, tables[t].ncolumns, n);
	int64_t seq;
	unsigned char prev[32], hash[32];
	enum herald_rc rc = db_head(db, &seq, prev, err);
	if (rc)
		return rc;
	seq++;
	db_row_hash(t, seq, vals, prev, hash);
	sqlite3_stmt *st = db->insert[t];
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	sqlite3_bind_int64(st, 1, seq);
	for (size_t i = 0; i < n; i++) {
		int col = (int)i + 2;
		if (vals[i].type == EV_INT)
			sqlite3_bind_int64(st, col, vals[i].i);
		else if (vals[i].type == EV_TEXT)
			sqlite3_bind_text(st, col, vals[i].s, -1, SQLITE_STATIC);
	}
	sqlite3_bind_blob(st, (int)n + 2, prev, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, (int)n + 3, hash, 32, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = sql_fail(db, err, tables[t].name);
		sqlite3_reset(st);
		return rc;
	}
	sqlite3_reset(st);
	unsigned char head[40];
	for (int i = 0; i < 8; i++)
		head[i] = (unsigned char)((uint64_t)seq >> (56 - 8 * i));
	memcpy(head + 8, hash, 32);
	sqlite3_reset(db->head_set);
	sqlite3_bind_blob(db->head_set, 1, head, 40, SQLITE_STATIC);
	if (sqlite3_step(db->head_set) != SQLITE_DONE)
		rc = sql_fail(db, err, "chain head");
	sqlite3_reset(db->head_set);
	if (!rc && seq_out)
		*seq_out = seq;
	return rc;
}

bool db_meta_get(struct db *db, const char *key, unsigned char *out,
		 size_t cap, size_t *len)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db->h, "SELECT value FROM internal_meta WHERE key=?",
			       -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	bool found = false;
	if (sqlite3_step(st) == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		const void *v = sqlite3_column_blob(st, 0);
		if (n <= cap) {
			if (n)
				memcpy(out, v, n);
			*len = n;
			found = true;
		}
	}
	sqlite3_finalize(st);
	return found;
}

enum herald_rc db_meta_set(struct db *db, const char *key,
			   const unsigned char *val, size_t len,
			   struct herald_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db->h,
			       "INSERT OR REPLACE INTO internal_meta(key,value) VALUES(?,?)",
			       -1, &st, NULL) != SQLITE_OK)
		return sql_fail(db, err, "meta");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, val, (int)len, SQLITE_STATIC);
	enum herald_rc rc = sqlite3_step(st) == SQLITE_DONE ? H_OK : sql_fail(db, err, "meta");
	sqlite3_finalize(st);
	return rc;
}

enum herald_rc db_server_key(struct db *db, unsigned char key[32],
			     struct herald_err *err)
{
	size_t len = 0;
	if (db_meta_get(db, "server_key", key, 32, &len) && len == 32)
		return H_OK;
	enum herald_rc rc = db_begin(db, err);
	if (rc)
		return rc;
	/* Another process may have created it meanwhile. */
	if (db_meta_get(db, "server_key", key, 32, &len) && len == 32) {
		db_rollback(db);
		return H_OK;
	}
	if (RAND_bytes(key, 32) != 1) {
		db_rollback(db);
		return herald_err_set(err, H_ERUNTIME, "no random bytes from the OS");
	}
	rc = db_meta_set(db, "server_key", key, 32, err);
	if (rc) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db, err);
}
