/*
 * db.h - the SQLite database shared by the outbox and the evidence log.
 *
 * One schema, designed for both: evidence tables are append-only (triggers
 * refuse UPDATE and DELETE) and every row of every evidence table carries a
 * global, gapless sequence number `seq`, the hash of the row before it
 * (`prev`) and its own `hash` = SHA-256(prev || canonical encoding).  The
 * mutable working state of the scheduler lives in tables named internal_*,
 * which export, report and verify never read: everything an auditor sees is
 * derived from the chained rows.
 *
 * Evidence tables and their columns (after seq, before prev/hash), in the
 * order of the canonical encoding:
 *
 *   plan_versions   at, event, plan_id, version, sha256, path,
 *                   approved_by, approved_on, next_review, detail
 *   deliveries      key, created_at, kind, plan_id, plan_version,
 *                   plan_sha256, communication, topic, occurrence,
 *                   notify_offset, audience, channel_type, channel_id,
 *                   recipient, recipient_name, message, due, message_id,
 *                   ack_id, requested_by, note
 *   attempts        delivery, n, started_at, finished_at, outcome, status,
 *                   reply, error, latency_ms, possible_duplicate
 *   delivery_states delivery, at, state, late, duplicate, detail
 *   acks            delivery, at, communication, audience, person
 *   events          at, kind, detail
 *
 * Times are RFC 3339 UTC text ("2026-11-22T10:00:00Z"); `delivery` columns
 * hold a delivery's key.  internal_outbox(key, due, next_at, attempts,
 * state, inflight_since) is the scheduler's queue; internal_meta(key,
 * value) holds keys and the chain head.
 *
 * Canonical encoding of a row: the table name, then seq, then each column
 * in the order above, each value as one type byte ('N' null, 'I' integer,
 * 'T' text) followed, for I, by 8 bytes big-endian, for T by an 8-byte
 * big-endian length and the bytes.
 */
#ifndef HERALD_DB_H
#define HERALD_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "herald/err.h"

typedef struct sqlite3 sqlite3;
struct db;

enum ev_table {
	EV_PLAN_VERSIONS,
	EV_DELIVERIES,
	EV_ATTEMPTS,
	EV_DELIVERY_STATES,
	EV_ACKS,
	EV_EVENTS,
	EV_NTABLES,
};

struct ev_table_desc {
	const char *name;
	const char *const *columns;   /* NULL-terminated */
	size_t ncolumns;
};

/* The descriptor of table t (static). */
const struct ev_table_desc *db_table(enum ev_table t);

enum ev_type { EV_NULL, EV_INT, EV_TEXT };

struct ev_value {
	enum ev_type type;
	int64_t i;
	const char *s;
	size_t len;    /* of s (EV_TEXT), so hashing need not measure it again */
};

/* Value constructors; EVS(NULL) is a NULL value. */
static inline struct ev_value ev_text(const char *s)
{
	return (struct ev_value){ .type = s ? EV_TEXT : EV_NULL, .s = s,
				  .len = s ? strlen(s) : 0 };
}
#define EVI(x) ((struct ev_value){ .type = EV_INT, .i = (x) })
#define EVS(x) ev_text(x)
#define EVN ((struct ev_value){ .type = EV_NULL })

/*
 * Opens (creating if needed) the database at path: WAL, synchronous=FULL,
 * a busy timeout, the schema and its triggers.  *out is owned by the
 * caller (db_close).  H_ERUNTIME on failure.
 */
enum herald_rc db_open(const char *path, struct db **out, struct herald_err *err);

/*
 * Opens an existing database read-only (verify, export, report).  The
 * handle has no per-call mutex: use it from one thread at a time.
 */
enum herald_rc db_open_readonly(const char *path, struct db **out,
				struct herald_err *err);

void db_close(struct db *db);

/* The raw handle, for modules that run their own statements. */
sqlite3 *db_handle(struct db *db);

/*
 * Transactions: db_begin takes the write lock at once (BEGIN IMMEDIATE) so
 * the chain head cannot move under a writer.  A struct db may be shared by
 * threads: db_begin locks a mutex that db_commit/db_rollback release.
 */
enum herald_rc db_begin(struct db *db, struct herald_err *err);
enum herald_rc db_commit(struct db *db, struct herald_err *err);
void db_rollback(struct db *db);

/*
 * Appends one evidence row inside the current transaction: vals holds one
 * value per column of table t in descriptor order.  Sets *seq (may be
 * NULL) to the row's sequence number.
 */
enum herald_rc db_append(struct db *db, enum ev_table t,
			 const struct ev_value *vals, size_t n, int64_t *seq,
			 struct herald_err *err);

/* The chain head (0 and 32 zero bytes for an empty log). */
enum herald_rc db_head(struct db *db, int64_t *seq, unsigned char hash[32],
		       struct herald_err *err);

/*
 * Computes the hash of a row: SHA-256(prev || encoding(table, seq, vals)).
 * Used by db_append and by verification.
 */
void db_row_hash(enum ev_table t, int64_t seq, const struct ev_value *vals,
		 const unsigned char prev[32], unsigned char out[32]);

/* internal_meta access; values are blobs.  get returns false if absent. */
bool db_meta_get(struct db *db, const char *key, unsigned char *out,
		 size_t cap, size_t *len);
enum herald_rc db_meta_set(struct db *db, const char *key,
			   const unsigned char *val, size_t len,
			   struct herald_err *err);

/*
 * The server key (32 random bytes from the OS, created on first use and
 * kept in internal_meta): HMAC key of feed and acknowledgement tokens.
 */
enum herald_rc db_server_key(struct db *db, unsigned char key[32],
			     struct herald_err *err);

#endif
