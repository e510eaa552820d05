/*
 * store_sqlite.c - the SQLite backend of store.h: opening, the schema and
 * its migrations, transactions, meta values and the chained appends.
 * The queue is in store_sqlite_queue.c, the read side in
 * store_sqlite_read.c.
 *
 * Every evidence table is append-only: triggers refuse UPDATE and DELETE
 * (against accidents: a person with the file can drop them, which is why
 * the chain exists).  The database runs in WAL mode with synchronous=FULL,
 * so a committed row survives a power cut.
 */
#include "herald/store_sqlite.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "herald/clock.h"
#include "herald/timeutil.h"
#include "herald/token.h"
#include "herald/util.h"
#include "herald/witness.h"

/* ------------------------------------------------------------- helpers */

enum herald_rc sqlite_fail(struct store *s, struct herald_err *err,
			   const char *what)
{
	return herald_err_set(err, H_ERUNTIME, "database: %s: %s", what,
			      s && s->h ? sqlite3_errmsg(s->h) : "cannot open");
}

enum herald_rc sqlite_exec(struct store *s, const char *sql,
			   struct herald_err *err)
{
	char *msg = NULL;
	if (sqlite3_exec(s->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		herald_err_set(err, H_ERUNTIME, "database: %s", msg ? msg : "error");
		sqlite3_free(msg);
		return H_ERUNTIME;
	}
	return H_OK;
}

void sqlite_bind_value(sqlite3_stmt *st, int i, const struct ev_value *v)
{
	switch (v->type) {
	case EV_NULL:
		sqlite3_bind_null(st, i);
		break;
	case EV_INT:
		sqlite3_bind_int64(st, i, v->i);
		break;
	case EV_TEXT:
		sqlite3_bind_text(st, i, v->s, (int)v->len, SQLITE_STATIC);
		break;
	case EV_BLOB:
		sqlite3_bind_blob(st, i, v->s, (int)v->len, SQLITE_STATIC);
		break;
	}
}

char *sqlite_col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return s ? xstrdup((const char *)s) : NULL;
}

const char *sqlite_col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static bool col_is_blob(sqlite3_stmt *st, int i, size_t n)
{
	return sqlite3_column_type(st, i) == SQLITE_BLOB &&
	       (size_t)sqlite3_column_bytes(st, i) == n;
}

const char *sqlite_col_hex(sqlite3_stmt *st, int i, size_t n, char *out)
{
	if (!col_is_blob(st, i, n))
		return sqlite_col_text(st, i);
	hex_encode(sqlite3_column_blob(st, i), n, out);
	return out;
}

const char *sqlite_col_b64(sqlite3_stmt *st, int i, size_t n, char *out)
{
	if (!col_is_blob(st, i, n))
		return sqlite_col_text(st, i);
	base64url(sqlite3_column_blob(st, i), n, out);
	return out;
}

bool sqlite_has_object(struct store *s, const char *type, const char *name)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->h, "SELECT 1 FROM main.sqlite_master WHERE type=? AND name=?",
			       -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	bool r = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return r;
}

bool sqlite_has_table(struct store *s, const char *name)
{
	return sqlite_has_object(s, "table", name);
}

/* Statements used on hot paths, prepared once per store. */
static const char *const stmt_sql[ST_N] = {
	[ST_HEAD_GET] = "SELECT value FROM internal_meta WHERE key='head'",
	[ST_HEAD_SET] = "INSERT OR REPLACE INTO internal_meta(key,value) VALUES('head',?)",
	[ST_TEXT_EXISTS] = "SELECT 1 FROM texts WHERE sha256=?",
	[ST_DELIVERY_EXISTS] = "SELECT seq FROM deliveries WHERE key=?",
	[ST_QUEUE_ADD] = "INSERT INTO internal_queue(delivery,due,next_at,queue,lease_until)"
			 " VALUES(?,?,?,?,?)",
	[ST_QUEUE_DUE] = NULL,        /* store_sqlite_queue.c */
	[ST_CLAIM_V2] = sqlite_claim_v2,
	[ST_QUEUE_CLAIM] = "UPDATE internal_queue SET queue=?, inflight_since=?,"
			   " lease_until=?, claims=claims+1 WHERE delivery=?",
	[ST_QUEUE_RETRY] = "UPDATE internal_queue SET queue=?, next_at=?, inflight_since=NULL,"
			   " recorded=recorded+1, flagged=max(flagged,?) WHERE delivery=?",
	[ST_QUEUE_DONE] = "DELETE FROM internal_queue WHERE delivery=?",
	[ST_COUNT_ADD] = "INSERT INTO internal_counts(state,n) VALUES(?,1)"
			 " ON CONFLICT(state) DO UPDATE SET n=n+1",
	[ST_QUEUE_RELEASE] = "UPDATE internal_queue SET queue=?, claims=max(claims-1,0),"
			     " inflight_since=NULL WHERE delivery=?",
};

sqlite3_stmt *sqlite_stmt(struct store *s, enum stmt_id id)
{
	sqlite3_stmt *st = s->st[id];
	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	return st;
}

static enum herald_rc prepare_all(struct store *s, struct herald_err *err)
{
	for (int i = 0; i < ST_N; i++) {
		if (!stmt_sql[i])
			continue;
		if (sqlite3_prepare_v3(s->h, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &s->st[i], NULL) != SQLITE_OK)
			return sqlite_fail(s, err, "prepare");
	}
	for (int t = 0; t < EV_NTABLES; t++) {
		const struct ev_table_desc *d = evfmt_table((enum ev_table)t);
		struct buf b;
		buf_init(&b);
		buf_printf(&b, "INSERT INTO %s(seq,fmt", d->sql);
		for (size_t i = 0; i < d->ncolumns; i++)
			buf_printf(&b, ",\"%s\"", d->columns[i]);
		buf_adds(&b, ",hash) VALUES(?,?");
		for (size_t i = 0; i < d->ncolumns + 1; i++)
			buf_adds(&b, ",?");
		buf_adds(&b, ")");
		int r = sqlite3_prepare_v3(s->h, b.data, -1, SQLITE_PREPARE_PERSISTENT,
					   &s->insert[t], NULL);
		buf_free(&b);
		if (r != SQLITE_OK)
			return sqlite_fail(s, err, "prepare");
	}
	return H_OK;
}

/* ------------------------------------------------------------- schema */

static const char schema2[] =
	"CREATE TABLE IF NOT EXISTS internal_meta("
	"  key TEXT PRIMARY KEY, value BLOB NOT NULL);"
	"CREATE TABLE texts("
	"  seq INTEGER PRIMARY KEY, fmt INTEGER NOT NULL, sha256 BLOB NOT NULL UNIQUE,"
	"  body TEXT NOT NULL, hash BLOB NOT NULL);"
	"CREATE TABLE plan_versions("
	"  seq INTEGER PRIMARY KEY, fmt INTEGER NOT NULL, at INTEGER NOT NULL,"
	"  event TEXT NOT NULL, plan_id TEXT, version TEXT, sha256 BLOB, path TEXT,"
	"  approved_by TEXT, approved_on TEXT, next_review TEXT, detail TEXT, text BLOB,"
	"  hash BLOB NOT NULL);"
	"CREATE TABLE messages("
	"  seq INTEGER PRIMARY KEY, fmt INTEGER NOT NULL, created_at INTEGER NOT NULL,"
	"  kind TEXT NOT NULL, plan_id TEXT NOT NULL, plan_version TEXT NOT NULL,"
	"  plan_sha256 BLOB, communication TEXT NOT NULL, topic TEXT, occurrence INTEGER,"
	"  notify_offset INTEGER, audience TEXT, channel_type TEXT NOT NULL,"
	"  channel_id TEXT NOT NULL, due INTEGER NOT NULL, text BLOB, requested_by TEXT,"
	"  note TEXT, request TEXT, mail_domain TEXT, hash BLOB NOT NULL);"
	"CREATE INDEX ev2_messages_due ON messages(due);"
	"CREATE TABLE deliveries("
	"  seq INTEGER PRIMARY KEY, fmt INTEGER NOT NULL, message INTEGER NOT NULL,"
	"  key BLOB NOT NULL UNIQUE, recipient TEXT, recipient_name TEXT, ack BLOB,"
	"  parent INTEGER, hash BLOB NOT NULL);"
	"CREATE INDEX ev2_deliveries_message ON deliveries(message);"
	"CREATE INDEX ev2_deliveries_ack ON deliveries(ack) WHERE ack IS NOT NULL;"
	"CREATE TABLE attempts("
	"  seq INTEGER PRIMARY KEY, fmt INTEGER NOT NULL, delivery INTEGER NOT NULL,"
	"  n INTEGER NOT NULL, started_at INTEGER, finished_at INTEGER NOT NULL,"
	"  outcome TEXT NOT NULL, status INTEGER, reply TEXT, error TEXT,"
	"  latency_ms INTEGER, possible_duplicate INTEGER NOT NULL, hash BLOB NOT NULL);"
	"CREATE INDEX ev2_attempts_delivery ON attempts(delivery);"
	"CREATE TABLE delivery_states("
	"  seq INTEGER PRIMARY KEY, fmt INTEGER NOT NULL, delivery INTEGER NOT NULL UNIQUE,"
	"  at INTEGER NOT NULL, state TEXT NOT NULL, late INTEGER NOT NULL,"
	"  duplicate INTEGER NOT NULL, detail TEXT, attempts INTEGER NOT NULL,"
	"  possible_duplicate INTEGER NOT NULL, reply TEXT, hash BLOB NOT NULL);"
	"CREATE TABLE acks("
	"  seq INTEGER PRIMARY KEY, fmt INTEGER NOT NULL, ack BLOB UNIQUE,"
	"  delivery INTEGER NOT NULL, at INTEGER NOT NULL, communication TEXT,"
	"  audience TEXT, person TEXT, hash BLOB NOT NULL);"
	"CREATE INDEX ev2_acks_delivery ON acks(delivery);"
	"CREATE TABLE events("
	"  seq INTEGER PRIMARY KEY, fmt INTEGER NOT NULL, at INTEGER NOT NULL,"
	"  kind TEXT NOT NULL, detail TEXT, hash BLOB NOT NULL);"
	/* The queue: deliveries not yet final.  queue is where a delivery is
	 * now: "pending" or "cli:…" waiting, "inflight"/"inflight:cli:…"
	 * claimed.  The index matches the claim's WHERE and ORDER BY, so a
	 * claim stops after LIMIT rows instead of sorting the queue. */
	"CREATE TABLE internal_queue("
	"  delivery INTEGER PRIMARY KEY, due INTEGER NOT NULL, next_at INTEGER NOT NULL,"
	"  claims INTEGER NOT NULL DEFAULT 0, recorded INTEGER NOT NULL DEFAULT 0,"
	"  flagged INTEGER NOT NULL DEFAULT 0, queue TEXT NOT NULL,"
	"  inflight_since INTEGER, lease_until INTEGER, legacy INTEGER NOT NULL DEFAULT 0,"
	"  parent INTEGER);"
	"CREATE INDEX internal_queue_claim ON internal_queue(queue, next_at, due);"
	"CREATE TABLE internal_counts(state TEXT PRIMARY KEY, n INTEGER NOT NULL);";

/* Append-only evidence: UPDATE and DELETE are refused. */
static enum herald_rc create_triggers(struct store *s, struct herald_err *err)
{
	for (int t = 0; t < EV_NTABLES; t++) {
		const char *n = evfmt_table((enum ev_table)t)->sql;
		char sql[512];
		snprintf(sql, sizeof sql,
			 "CREATE TRIGGER ev2_%s_no_update BEFORE UPDATE ON %s "
			 "BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;"
			 "CREATE TRIGGER ev2_%s_no_delete BEFORE DELETE ON %s "
			 "BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;",
			 n, n, n, n);
		if (sqlite_exec(s, sql, err))
			return H_ERUNTIME;
	}
	return H_OK;
}

static enum herald_rc create_schema2(struct store *s, struct herald_err *err)
{
	enum herald_rc rc = sqlite_exec(s, schema2, err);
	return rc ? rc : create_triggers(s, err);
}

static const char *const v1_tables[] = {
	"plan_versions", "deliveries", "attempts", "delivery_states", "acks", "events",
};

/*
 * Migration 1 -> 2.  Format-1 rows stay exactly as written (renamed to
 * v1_*, their triggers follow), so their hashes and the head an auditor
 * holds are unchanged; new rows continue the same chain in format 2.
 * Deliveries still queued move to the new queue under their seq.
 */
static enum herald_rc migrate_1_2(struct store *s, int64_t *kept,
				  struct herald_err *err)
{
	enum herald_rc rc = H_OK;
	char sql[256];
	for (size_t i = 0; !rc && i < 6; i++) {
		snprintf(sql, sizeof sql, "ALTER TABLE %s RENAME TO v1_%s", v1_tables[i],
			 v1_tables[i]);
		rc = sqlite_exec(s, sql, err);
	}
	if (!rc)
		rc = create_schema2(s, err);
	if (!rc)
		rc = sqlite_exec(s,
			"INSERT INTO internal_queue(delivery, due, next_at, claims, recorded,"
			"  flagged, queue, inflight_since, lease_until, legacy, parent)"
			" SELECT d.seq, o.due, o.next_at, o.attempts,"
			"  (SELECT count(*) FROM v1_attempts a WHERE a.delivery=o.key),"
			"  (SELECT coalesce(max(possible_duplicate),0) FROM v1_attempts a"
			"    WHERE a.delivery=o.key),"
			"  o.state, o.inflight_since,"
			"  CASE WHEN o.state LIKE '%cli:%' THEN coalesce(o.inflight_since, o.next_at) END,"
			"  1, (SELECT p.seq FROM v1_deliveries p WHERE p.key=o.parent)"
			" FROM internal_outbox o JOIN v1_deliveries d ON d.key=o.key"
			" WHERE o.state NOT IN ('sent','failed','missed','cancelled','dry-run');"
			"INSERT INTO internal_counts(state, n)"
			" SELECT state, count(*) FROM internal_outbox"
			"  WHERE state IN ('sent','failed','missed','cancelled','dry-run') GROUP BY state;"
			"DROP TABLE internal_outbox;",
			err);
	if (!rc) {
		sqlite3_stmt *st;
		*kept = 0;
		if (sqlite3_prepare_v2(s->h, "SELECT (SELECT count(*) FROM v1_plan_versions)"
				       "+(SELECT count(*) FROM v1_deliveries)+(SELECT count(*) FROM v1_attempts)"
				       "+(SELECT count(*) FROM v1_delivery_states)+(SELECT count(*) FROM v1_acks)"
				       "+(SELECT count(*) FROM v1_events)", -1, &st, NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW)
				*kept = sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		}
	}
	return rc;
}

static int read_user_version(struct store *s)
{
	sqlite3_stmt *st;
	int v = -1;
	if (sqlite3_prepare_v2(s->h, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	return v;
}

static int count_tables(struct store *s)
{
	sqlite3_stmt *st;
	int n = -1;
	if (sqlite3_prepare_v2(s->h, "SELECT count(*) FROM main.sqlite_master", -1, &st,
			       NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	return n;
}

/* Verifies the format-1 chain before it is migrated: an altered log is
 * left for the auditor as it is, not carried into a new format. */
static enum herald_rc verify_before_migrating(struct store *s,
					      struct herald_err *err);

static enum herald_rc apply_migrations(struct store *s, bool fresh,
				       struct herald_err *err)
{
	if (fresh) {
		enum herald_rc rc = sqlite_exec(s, "BEGIN IMMEDIATE", err);
		if (rc)
			return rc;
		rc = create_schema2(s, err);
		if (!rc) {
			char sql[64];
			snprintf(sql, sizeof sql, "PRAGMA user_version=%d", STORE_SCHEMA);
			rc = sqlite_exec(s, sql, err);
		}
		if (rc) {
			sqlite_exec(s, "ROLLBACK", NULL);
			return rc;
		}
		s->schema = STORE_SCHEMA;
		return sqlite_exec(s, "COMMIT", err);
	}
	if (s->schema == 1) {
		enum herald_rc rc = verify_before_migrating(s, err);
		if (rc)
			return rc;
		if ((rc = store_begin(s, err)))
			return rc;
		int64_t kept = 0;
		rc = migrate_1_2(s, &kept, err);
		if (!rc)
			rc = sqlite_exec(s, "PRAGMA user_version=2", err);
		s->legacy = LEGACY_MIGRATED;
		s->schema = 2;
		if (!rc)
			rc = prepare_all(s, err);
		if (!rc) {
			char detail[256];
			snprintf(detail, sizeof detail,
				 "schema 1 to 2: evidence format 2 (content-addressed texts, "
				 "messages, binary hashes); the %" PRId64 " format-1 rows are kept "
				 "as written, in the v1_* tables", kept);
			rc = store_event_add(s, clock_now(), "migration", detail, NULL, err);
		}
		if (rc) {
			store_rollback(s);
			s->legacy = LEGACY_PLAIN;
			s->schema = 1;
			herald_err_prefix(err, "migrating %s to schema 2", s->path);
			return rc;
		}
		return store_commit(s, err);
	}
	return H_OK;
}

/* ------------------------------------------------------------ witness */

static enum herald_rc head_read(struct store *s, struct store_head *h,
				struct herald_err *err);

/* The database must reach as far as its witness saw, with the same row. */
static enum herald_rc witness_check(struct store *s, struct herald_err *err)
{
	struct witness w;
	int r = witness_read(s->path, &w, err);
	if (r <= 0)
		return r < 0 ? H_ERUNTIME : H_OK;
	struct store_head h;
	enum herald_rc rc = head_read(s, &h, err);
	if (rc)
		return rc;
	char at[32];
	format_rfc3339_utc(w.at, at, sizeof at);
	if (h.seq < w.seq)
		return herald_err_set(err, H_ERUNTIME,
				      "database %s ends at seq %" PRId64 ", but its witness (%s.witness, "
				      "%s) saw seq %" PRId64 ": %" PRId64 " evidence rows are missing (a "
				      "lost or deleted WAL, or an older copy put back); restore the "
				      "latest backup, or if this copy is the one to keep, move the "
				      "witness away and say so to the auditor",
				      s->path, h.seq, s->path, at, w.seq, w.seq - h.seq);
	unsigned char hash[32];
	bool found;
	if ((rc = store_row_hash_at(s, w.seq, hash, &found, err)))
		return rc;
	if (w.seq > 0 && (!found || memcmp(hash, w.hash, 32) != 0))
		return herald_err_set(err, H_ERUNTIME,
				      "database %s: seq %" PRId64 " is not the row its witness "
				      "(%s.witness, %s) saw: this is another log, or a rewritten one",
				      s->path, w.seq, s->path, at);
	s->witnessed = w.seq;
	return H_OK;
}

/* Writes the witness when the head moved and a second has passed
 * (always with force).  A failure is retried at the next commit. */
static void witness_update(struct store *s, bool force)
{
	if (s->readonly || s->head.seq <= s->witnessed)
		return;
	int64_t now = clock_mono_ms();
	if (!force && now - s->witness_ms < 1000)
		return;
	struct witness w = { .seq = s->head.seq, .at = clock_now() };
	memcpy(w.hash, s->head.hash, 32);
	if (witness_write(s->path, &w, NULL) == H_OK) {
		s->witnessed = w.seq;
		s->witness_ms = now;
	}
}

/* A damaged file is refused before anything is appended to it. */
static enum herald_rc quick_check(struct store *s, struct herald_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->h, "PRAGMA quick_check", -1, &st, NULL) != SQLITE_OK)
		return herald_err_set(err, H_ERUNTIME, "database %s is damaged: %s", s->path,
				      sqlite3_errmsg(s->h));
	enum herald_rc rc = H_OK;
	int r = sqlite3_step(st);
	const char *v = r == SQLITE_ROW ? sqlite_col_text(st, 0) : NULL;
	if (!v || strcmp(v, "ok") != 0)
		rc = herald_err_set(err, H_ERUNTIME, "database %s is damaged (quick_check: %s): "
				    "restore the latest backup", s->path,
				    v ? v : sqlite3_errmsg(s->h));
	sqlite3_finalize(st);
	return rc;
}

/* ------------------------------------------------------------ opening */

/*
 * One service per database: two would claim and send the same queue, and
 * interleave their automatic checkpoints.  flock, not fcntl: SQLite's own
 * fcntl locks on the file are not disturbed, and the kernel drops this
 * one when the process dies (kill -9 included).
 */
static enum herald_rc take_sole(struct store *s, struct herald_err *err)
{
	s->sole_fd = open(s->path, O_RDONLY | O_CLOEXEC);
	if (s->sole_fd < 0)
		return herald_err_set(err, H_ERUNTIME, "database %s: %s", s->path, strerror(errno));
	if (flock(s->sole_fd, LOCK_EX | LOCK_NB) == 0)
		return H_OK;
	return herald_err_set(err, H_ERUNTIME, "database %s is served by another herald run: "
			      "one service per database (stop the other first; herald send "
			      "works beside it)", s->path);
}

enum herald_rc store_open(const char *path, const struct store_open_opts *o,
			  struct store **out, struct herald_err *err)
{
	struct stat sb;
	bool exists = stat(path, &sb) == 0;
	if (!exists && (o->readonly || !o->create))
		return herald_err_set(err, H_ERUNTIME, "database %s: %s", path,
				      errno == ENOENT ? "does not exist" : strerror(errno));
	struct witness w;
	if (!exists && witness_read(path, &w, NULL) == 1)
		return herald_err_set(err, H_ERUNTIME,
				      "database %s does not exist, but its witness (%s.witness) saw "
				      "seq %" PRId64 " there: restore it from a backup; a new database "
				      "would start the evidence over", path, path, w.seq);
	if (exists && !S_ISREG(sb.st_mode))
		return herald_err_set(err, H_ERUNTIME, "database %s: not a regular file", path);
	/* SQLite would make it 0644 (and its WAL like it). */
	if (!exists) {
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			return herald_err_set(err, H_ERUNTIME, "database %s: %s", path,
					      strerror(errno));
		close(fd);
	}
	struct store *s = xcalloc(1, sizeof *s);
	s->sole_fd = -1;
	s->path = xstrdup(path);
	s->readonly = o->readonly;
	pthread_mutex_init(&s->lock, NULL);
	/* A read-only store is used by one thread, and the per-call mutex
	 * was a tenth of verify's time. */
	int flags = o->readonly ? SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
				: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
	enum herald_rc rc = H_OK;
	if (sqlite3_open_v2(path, &s->h, flags, NULL) != SQLITE_OK) {
		rc = herald_err_set(err, H_ERUNTIME, "database %s: %s", path,
				    s->h ? sqlite3_errmsg(s->h) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(s->h, 10000);
	if (o->sole && (rc = take_sole(s, err)))
		goto fail;
	s->schema = read_user_version(s);
	int ntables = count_tables(s);
	if (s->schema < 0 || ntables < 0) {
		rc = herald_err_set(err, H_EINVAL, "database %s: not a herald evidence database "
				    "(it cannot be read as SQLite)", path);
		goto fail;
	}
	/* An empty file without a witness is a creation that was cut short
	 * (killed before its first commit): nothing was ever recorded there. */
	bool fresh = !exists || (sb.st_size == 0 && ntables == 0 &&
				 witness_read(path, &w, NULL) == 0);
	if (!fresh && (s->schema < 1 || ntables == 0)) {
		/* Empty where a witness saw evidence: its WAL was lost before
		 * anything reached the main file. */
		if (witness_read(path, &w, NULL) == 1 && w.seq > 0)
			rc = herald_err_set(err, H_ERUNTIME,
					    "database %s holds no evidence, but its witness (%s.witness) "
					    "saw seq %" PRId64 ": %" PRId64 " evidence rows are missing (a "
					    "lost or deleted WAL?); restore the latest backup", path, path,
					    w.seq, w.seq);
		else
			rc = herald_err_set(err, H_EINVAL,
					    "database %s: not a herald evidence database", path);
		goto fail;
	}
	/* Memory-mapped reads and a larger page cache: verify and export read
	 * every row, and the queue is read on every transaction. */
	if ((rc = sqlite_exec(s, "PRAGMA mmap_size=1073741824; PRAGMA cache_size=-65536;", err)))
		goto fail;
	if (s->schema > STORE_SCHEMA) {
		rc = herald_err_set(err, H_EINVAL, "database %s: written by a newer herald "
				    "(schema %d; this one reads up to %d)", path, s->schema,
				    STORE_SCHEMA);
		goto fail;
	}
	if (!o->readonly &&
	    (rc = sqlite_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			      " PRAGMA secure_delete=ON;", err)))
		goto fail;
	if (s->schema == 1)
		s->legacy = LEGACY_PLAIN;
	else if (s->schema == 2)
		s->legacy = sqlite_has_table(s, "v1_deliveries") ? LEGACY_MIGRATED : LEGACY_NONE;
	/* Nothing is written to a damaged or cut-back database, not even a
	 * migration. */
	if (o->check && !fresh && (rc = quick_check(s, err)))
		goto fail;
	if (!fresh && (rc = witness_check(s, err)))
		goto fail;
	if (!o->readonly) {
		if (s->schema >= 2 && (rc = prepare_all(s, err)))
			goto fail;
		if ((rc = apply_migrations(s, fresh, err)))
			goto fail;
		if (!s->insert[0] && (rc = prepare_all(s, err)))
			goto fail;
		if ((rc = sqlite_exec(s, store_idem_table, err)))
			goto fail;
	}
	*out = s;
	return H_OK;
fail:
	s->readonly = true;     /* no witness from a refused database */
	store_close(s);
	return rc;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	if (!s->readonly && s->insert[0]) {
		struct store_head h;
		if (head_read(s, &h, NULL) == H_OK) {
			s->head = h;
			witness_update(s, true);
		}
	}
	for (int t = 0; t < EV_NTABLES; t++)
		sqlite3_finalize(s->insert[t]);
	for (int i = 0; i < ST_N; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->h);
	if (s->sole_fd >= 0)
		close(s->sole_fd);
	pthread_mutex_destroy(&s->lock);
	free(s->path);
	free(s);
}

const char *store_path(const struct store *s)
{
	return s->path;
}

bool store_is_readonly(const struct store *s)
{
	return s->readonly;
}

int store_schema(const struct store *s)
{
	return s->schema;
}

int store_schema_current(void)
{
	return STORE_SCHEMA;
}

enum herald_rc store_maintain(struct store *s, struct herald_err *err)
{
	pthread_mutex_lock(&s->lock);
	enum herald_rc rc = sqlite_exec(s, "PRAGMA wal_checkpoint(TRUNCATE)", err);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

enum herald_rc store_ping(struct store *s, struct herald_err *err)
{
	return sqlite_exec(s, "SELECT 1 FROM internal_meta LIMIT 1", err);
}

void sqlite_bind_scope(sqlite3_stmt *st, bool has_from, int64_t from, bool has_to, int64_t to,
		       const char *communication, const char *audience)
{
	if (has_from)
		sqlite3_bind_int64(st, 1, from);
	if (has_to)
		sqlite3_bind_int64(st, 2, to);
	if (communication)
		sqlite3_bind_text(st, 3, communication, -1, SQLITE_STATIC);
	if (audience)
		sqlite3_bind_text(st, 4, audience, -1, SQLITE_STATIC);
}

/* ------------------------------------------------------- transactions */

static void write_failed(struct store *s)
{
	atomic_store(&s->write_failing, true);
	atomic_fetch_add(&s->write_errors, 1);
}

bool store_writes_failing(struct store *s)
{
	return atomic_load(&s->write_failing);
}

int64_t store_write_errors(struct store *s)
{
	return atomic_load(&s->write_errors);
}

enum herald_rc store_begin(struct store *s, struct herald_err *err)
{
	pthread_mutex_lock(&s->lock);
	if (sqlite_exec(s, "BEGIN IMMEDIATE", err)) {
		write_failed(s);
		pthread_mutex_unlock(&s->lock);
		return H_ERUNTIME;
	}
	s->in_txn = true;
	s->head_cached = s->head_dirty = false;
	return H_OK;
}

static enum herald_rc head_write(struct store *s, struct herald_err *err)
{
	unsigned char v[40];
	for (int i = 0; i < 8; i++)
		v[i] = (unsigned char)((uint64_t)s->head.seq >> (56 - 8 * i));
	memcpy(v + 8, s->head.hash, 32);
	sqlite3_stmt *st = sqlite_stmt(s, ST_HEAD_SET);
	sqlite3_bind_blob(st, 1, v, 40, SQLITE_STATIC);
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	return r == SQLITE_DONE ? H_OK : sqlite_fail(s, err, "chain head");
}

enum herald_rc store_commit(struct store *s, struct herald_err *err)
{
	enum herald_rc rc = s->head_dirty ? head_write(s, err) : H_OK;
	if (!rc)
		rc = sqlite_exec(s, "COMMIT", err);
	if (rc)
		sqlite_exec(s, "ROLLBACK", NULL);
	else if (s->head_dirty)
		witness_update(s, false);
	/* A commit that wrote proves writes work again. */
	if (rc)
		write_failed(s);
	else if (sqlite3_total_changes(s->h) != s->changes_seen)
		atomic_store(&s->write_failing, false);
	s->changes_seen = sqlite3_total_changes(s->h);
	s->in_txn = s->head_cached = s->head_dirty = false;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void store_rollback(struct store *s)
{
	/* Callers roll back after a failed write; a full disk shows here. */
	if (sqlite3_errcode(s->h) == SQLITE_FULL || sqlite3_errcode(s->h) == SQLITE_IOERR ||
	    sqlite3_errcode(s->h) == SQLITE_READONLY)
		write_failed(s);
	sqlite_exec(s, "ROLLBACK", NULL);
	s->in_txn = s->head_cached = s->head_dirty = false;
	pthread_mutex_unlock(&s->lock);
}

/* --------------------------------------------------------------- meta */

bool store_meta_get(struct store *s, const char *key, unsigned char *out,
		    size_t cap, size_t *len)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->h, "SELECT value FROM internal_meta WHERE key=?", -1, &st,
			       NULL) != SQLITE_OK)
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

enum herald_rc store_meta_set(struct store *s, const char *key,
			      const unsigned char *val, size_t len,
			      struct herald_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->h, "INSERT OR REPLACE INTO internal_meta(key,value) VALUES(?,?)",
			       -1, &st, NULL) != SQLITE_OK)
		return sqlite_fail(s, err, "meta");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, val, (int)len, SQLITE_STATIC);
	enum herald_rc rc = sqlite3_step(st) == SQLITE_DONE ? H_OK : sqlite_fail(s, err, "meta");
	sqlite3_finalize(st);
	return rc;
}

enum herald_rc store_meta_delete(struct store *s, const char *key,
				 struct herald_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->h, "DELETE FROM internal_meta WHERE key=?", -1, &st,
			       NULL) != SQLITE_OK)
		return sqlite_fail(s, err, "meta");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	enum herald_rc rc = sqlite3_step(st) == SQLITE_DONE ? H_OK : sqlite_fail(s, err, "meta");
	sqlite3_finalize(st);
	return rc;
}

bool store_meta_get_i64(struct store *s, const char *key, int64_t *v)
{
	unsigned char b[8];
	size_t len = 0;
	if (!store_meta_get(s, key, b, sizeof b, &len) || len != 8)
		return false;
	int64_t x = 0;
	for (int i = 0; i < 8; i++)
		x = (x << 8) | b[i];
	*v = x;
	return true;
}

enum herald_rc store_meta_set_i64(struct store *s, const char *key, int64_t v,
				  struct herald_err *err)
{
	unsigned char b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)((uint64_t)v >> (56 - 8 * i));
	return store_meta_set(s, key, b, 8, err);
}

/* -------------------------------------------------------- the chain */

static enum herald_rc head_read(struct store *s, struct store_head *h,
				struct herald_err *err)
{
	h->seq = 0;
	memset(h->hash, 0, 32);
	sqlite3_stmt *st = s->st[ST_HEAD_GET];
	bool own = false;
	if (st) {
		sqlite3_reset(st);
	} else {
		if (sqlite3_prepare_v2(s->h, stmt_sql[ST_HEAD_GET], -1, &st, NULL) != SQLITE_OK)
			return sqlite_fail(s, err, "chain head");
		own = true;
	}
	int r = sqlite3_step(st);
	enum herald_rc rc = H_OK;
	if (r == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != 40) {
			rc = herald_err_set(err, H_EINVAL, "database: the chain head record is damaged");
		} else {
			const unsigned char *v = sqlite3_column_blob(st, 0);
			int64_t q = 0;
			for (int i = 0; i < 8; i++)
				q = (q << 8) | v[i];
			h->seq = q;
			memcpy(h->hash, v + 8, 32);
		}
	} else if (r != SQLITE_DONE) {
		rc = sqlite_fail(s, err, "chain head");
	}
	if (own)
		sqlite3_finalize(st);
	else
		sqlite3_reset(st);
	return rc;
}

enum herald_rc store_head(struct store *s, struct store_head *h,
			  struct herald_err *err)
{
	if (s->in_txn && s->head_cached) {
		*h = s->head;
		return H_OK;
	}
	return head_read(s, h, err);
}

/* Appends one row of table t: vals in descriptor order. */
static enum herald_rc append(struct store *s, enum ev_table t,
			     const struct ev_value *vals, int64_t *seq_out,
			     struct herald_err *err)
{
	if (!s->in_txn)
		return herald_err_set(err, H_ERUNTIME, "internal: an append outside a transaction");
	if (!s->head_cached) {
		enum herald_rc rc = head_read(s, &s->head, err);
		if (rc)
			return rc;
		s->head_cached = true;
	}
	const struct ev_table_desc *d = evfmt_table(t);
	int64_t seq = s->head.seq + 1;
	unsigned char hash[32];
	evfmt_row_hash(d, seq, vals, s->head.hash, hash);
	sqlite3_stmt *st = s->insert[t];
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_int(st, 2, d->format);
	for (size_t i = 0; i < d->ncolumns; i++)
		sqlite_bind_value(st, (int)i + 3, &vals[i]);
	sqlite3_bind_blob(st, (int)d->ncolumns + 3, hash, 32, SQLITE_STATIC);
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE)
		return sqlite_fail(s, err, d->name);
	s->head.seq = seq;
	memcpy(s->head.hash, hash, 32);
	s->head_dirty = true;
	if (seq_out)
		*seq_out = seq;
	return H_OK;
}

static struct ev_value opt_blob(const unsigned char *p, size_t n)
{
	return p ? EVB(p, n) : EVN;
}

enum herald_rc store_text_put(struct store *s, const char *text, size_t len,
			      unsigned char sha[32], struct herald_err *err)
{
	sha256(text, len, sha);
	sqlite3_stmt *st = sqlite_stmt(s, ST_TEXT_EXISTS);
	sqlite3_bind_blob(st, 1, sha, 32, SQLITE_STATIC);
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r == SQLITE_ROW)
		return H_OK;
	if (r != SQLITE_DONE)
		return sqlite_fail(s, err, "texts");
	struct ev_value v[] = { EVB(sha, 32), { .type = EV_TEXT, .s = text, .len = len } };
	return append(s, EV_TEXTS, v, NULL, err);
}

enum herald_rc store_plan_version_add(struct store *s,
				      const struct store_plan_version *p,
				      int64_t *seq, struct herald_err *err)
{
	struct ev_value v[] = {
		EVI(p->at), EVS(p->event), EVS(p->plan_id), EVS(p->version),
		opt_blob(p->sha256, 32), EVS(p->path), EVS(p->approved_by),
		EVS(p->approved_on), EVS(p->next_review), EVS(p->detail),
		opt_blob(p->text, 32),
	};
	return append(s, EV_PLAN_VERSIONS, v, seq, err);
}

enum herald_rc store_event_add(struct store *s, int64_t at, const char *kind,
			       const char *detail, int64_t *seq,
			       struct herald_err *err)
{
	struct ev_value v[] = { EVI(at), EVS(kind), EVS(detail) };
	return append(s, EV_EVENTS, v, seq, err);
}

enum herald_rc store_message_add(struct store *s, const struct store_message *m,
				 int64_t *seq, struct herald_err *err)
{
	struct ev_value v[] = {
		EVI(m->created_at), EVS(m->kind), EVS(m->plan_id), EVS(m->plan_version),
		opt_blob(m->plan_sha256, 32), EVS(m->communication), EVS(m->topic),
		m->has_occurrence ? EVI(m->occurrence) : EVN,
		m->has_offset ? EVI(m->notify_offset) : EVN, EVS(m->audience),
		EVS(m->channel_type), EVS(m->channel_id), EVI(m->due),
		opt_blob(m->text, 32), EVS(m->requested_by), EVS(m->note),
		EVS(m->request), EVS(m->mail_domain),
	};
	return append(s, EV_MESSAGES, v, seq, err);
}

bool store_delivery_exists(struct store *s, const unsigned char key[32],
			   int64_t *seq)
{
	sqlite3_stmt *st = sqlite_stmt(s, ST_DELIVERY_EXISTS);
	sqlite3_bind_blob(st, 1, key, 32, SQLITE_STATIC);
	bool found = sqlite3_step(st) == SQLITE_ROW;
	if (found && seq)
		*seq = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return found;
}

enum herald_rc store_delivery_add(struct store *s, const struct store_delivery *d,
				  int64_t *seq, struct herald_err *err)
{
	struct ev_value v[] = {
		EVI(d->message), EVB(d->key, 32), EVS(d->recipient), EVS(d->recipient_name),
		opt_blob(d->ack, 16), d->parent ? EVI(d->parent) : EVN,
	};
	return append(s, EV_DELIVERIES, v, seq, err);
}

enum herald_rc store_attempt_add(struct store *s, const struct store_attempt *a,
				 struct herald_err *err)
{
	struct ev_value v[] = {
		EVI(a->delivery), EVI(a->n), EVI(a->started_at), EVI(a->finished_at),
		EVS(a->outcome), a->status ? EVI(a->status) : EVN,
		EVS(a->reply && *a->reply ? a->reply : NULL),
		EVS(a->error && *a->error ? a->error : NULL), EVI(a->latency_ms),
		EVI(a->possible_duplicate ? 1 : 0),
	};
	return append(s, EV_ATTEMPTS, v, NULL, err);
}

enum herald_rc store_state_add(struct store *s, const struct store_state *x,
			       struct herald_err *err)
{
	struct ev_value v[] = {
		EVI(x->delivery), EVI(x->at), EVS(x->state), EVI(x->late ? 1 : 0),
		EVI(x->duplicate ? 1 : 0), EVS(x->detail), EVI(x->attempts),
		EVI(x->possible_duplicate ? 1 : 0),
		EVS(x->reply && *x->reply ? x->reply : NULL),
	};
	return append(s, EV_DELIVERY_STATES, v, NULL, err);
}

enum herald_rc store_ack_add(struct store *s, const struct store_ack *a,
			     struct herald_err *err)
{
	unsigned char ack[16];
	if (!token_ackid_decode(a->ackid, ack))
		return herald_err_set(err, H_EINVAL, "not an ack id");
	struct ev_value v[] = {
		EVB(ack, 16), EVI(a->delivery), EVI(a->at), EVS(a->communication),
		EVS(a->audience), EVS(a->person),
	};
	return append(s, EV_ACKS, v, NULL, err);
}

/* ------------------------------------------------------- migration check */

struct vctx {
	unsigned char prev[32];
	int64_t expect;
};

static enum herald_rc vrow(const struct store_row *r, void *ctx, struct herald_err *err)
{
	struct vctx *v = ctx;
	unsigned char h[32];
	if (r->seq != v->expect || r->bad_column >= 0 || !r->hash)
		return herald_err_set(err, H_EINVAL, "%s seq %" PRId64 " is not as herald wrote it",
				      r->table->name, r->seq);
	evfmt_row_hash(r->table, r->seq, r->values, v->prev, h);
	if (memcmp(h, r->hash, 32) != 0 || (r->prev && memcmp(r->prev, v->prev, 32) != 0))
		return herald_err_set(err, H_EINVAL, "%s seq %" PRId64 " does not match its hash",
				      r->table->name, r->seq);
	memcpy(v->prev, h, 32);
	v->expect++;
	return H_OK;
}

static enum herald_rc verify_before_migrating(struct store *s,
					      struct herald_err *err)
{
	struct vctx v = { .expect = 1 };
	struct store_head rec;
	enum herald_rc rc = store_each_row(s, vrow, &v, &rec, err);
	if (!rc && (rec.seq != v.expect - 1 || memcmp(rec.hash, v.prev, 32) != 0))
		rc = herald_err_set(err, H_EINVAL, "the log does not end at its chain head record");
	if (rc)
		herald_err_prefix(err, "%s: the evidence log does not verify, so it is not migrated "
				  "to the new format (keep the file as it is for the auditor; "
				  "`herald evidence verify` names the first bad row)", s->path);
	return rc;
}
