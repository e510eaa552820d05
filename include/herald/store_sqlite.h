/*
 * store_sqlite.h - what the files of the SQLite backend of store.h
 * (store_sqlite*.c) share.  Nothing else includes this header.
 *
 * Schema 2 (evfmt.h format 2): one table per evidence table, each row
 * `seq INTEGER PRIMARY KEY, fmt, <columns>, hash`; format-1 tables of a
 * migrated database kept unchanged as v1_*; the queue internal_queue, the
 * final-state counters internal_counts and internal_meta.  The read side
 * (store_sqlite_read.c) queries both formats.
 */
#ifndef HERALD_STORE_SQLITE_H
#define HERALD_STORE_SQLITE_H

#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdbool.h>

#include "herald/evfmt.h"
#include "herald/store.h"

#define STORE_SCHEMA 2

enum legacy { LEGACY_NONE, LEGACY_PLAIN, LEGACY_MIGRATED };

enum stmt_id {
	ST_HEAD_GET, ST_HEAD_SET, ST_TEXT_EXISTS, ST_DELIVERY_EXISTS,
	ST_QUEUE_ADD, ST_QUEUE_DUE, ST_QUEUE_CLAIM, ST_QUEUE_RETRY,
	ST_QUEUE_DONE, ST_COUNT_ADD, ST_QUEUE_RELEASE, ST_CLAIM_V2,
	ST_N
};

struct store {
	sqlite3 *h;
	char *path;
	bool readonly;
	int schema;                  /* as opened */
	enum legacy legacy;          /* where format-1 tables are */
	pthread_mutex_t lock;
	bool in_txn;
	/* The chain head, cached inside a write transaction and written to
	 * internal_meta once, at commit. */
	bool head_cached, head_dirty;
	struct store_head head;
	sqlite3_stmt *insert[EV_NTABLES];
	sqlite3_stmt *st[ST_N];
	/* Writes the database refused (disk full, I/O error): whether the
	 * last write transaction failed, and how many have. */
	atomic_bool write_failing;
	atomic_llong write_errors;
	int changes_seen;            /* sqlite3_total_changes at the last commit */
	/* The head witness (witness.h): the seq last written, and when. */
	int64_t witnessed;
	int64_t witness_ms;
	int sole_fd;                 /* the service's lock on the file, or -1 */
};

/* The send API's idempotency table (outside the evidence), made when a
 * store opens for writing. */
extern const char store_idem_table[];

/* Binds what the register's and the deliveries' filters share: ?1 from,
 * ?2 to (instants), ?3 communication, ?4 audience; unset ones stay NULL. */
void sqlite_bind_scope(sqlite3_stmt *st, bool has_from, int64_t from, bool has_to, int64_t to,
		       const char *communication, const char *audience);

/* What a claim reads of a format-2 delivery (store_sqlite_queue.c). */
extern const char sqlite_claim_v2[];

/* A failure of the last statement on s, as H_ERUNTIME. */
enum herald_rc sqlite_fail(struct store *s, struct herald_err *err,
			   const char *what);
/* Runs SQL without results. */
enum herald_rc sqlite_exec(struct store *s, const char *sql,
			   struct herald_err *err);
/* A cached prepared statement (reset, bindings cleared). */
sqlite3_stmt *sqlite_stmt(struct store *s, enum stmt_id id);

/* A read snapshot: every statement until sqlite_read_end sees one state. */
enum herald_rc sqlite_read_begin(struct store *s, struct herald_err *err);
void sqlite_read_end(struct store *s);

/* Binds v at column i of st (text and blobs not copied). */
void sqlite_bind_value(sqlite3_stmt *st, int i, const struct ev_value *v);
/* A text column, copied (NULL stays NULL). */
char *sqlite_col_dup(sqlite3_stmt *st, int i);
/* A text column as SQLite holds it (valid until the next step). */
const char *sqlite_col_text(sqlite3_stmt *st, int i);
/* An id column in either format: format 2 keeps n raw bytes, which are
 * written into out as hex (n 32: delivery keys) or base64url (n 16: ack
 * link ids); format 1 kept the text itself.  out needs room for the
 * encoding of n bytes and its NUL (65 for a key, TOKEN_ACKID_LEN + 1). */
const char *sqlite_col_hex(sqlite3_stmt *st, int i, size_t n, char *out);
const char *sqlite_col_b64(sqlite3_stmt *st, int i, size_t n, char *out);

/* SQL text tmpl with {D} {S} {A} {K} {P} {E} replaced by the names the
 * format-1 tables have in this database (caller frees). */
char *sqlite_v1_sql(const struct store *s, const char *tmpl);

/* store_each_delivery's format-2 half (store_sqlite_deliveries.c), inside
 * the caller's read snapshot; *stopped when fn asked to stop. */
enum herald_rc sqlite_each_delivery_v2(struct store *s, const struct store_filter *f,
				       int (*fn)(const struct store_delivery_view *d,
						 void *ctx),
				       void *ctx, bool *stopped, struct herald_err *err);

/* True if the main schema has an object of this type ("table",
 * "trigger") and name. */
bool sqlite_has_object(struct store *s, const char *type, const char *name);
/* sqlite_has_object(s, "table", name). */
bool sqlite_has_table(struct store *s, const char *name);

#endif
