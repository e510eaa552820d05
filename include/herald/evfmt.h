/*
 * evfmt.h - the evidence format: which tables the log has, their columns in
 * each format version, and the canonical encoding that the hash chain is
 * computed over.  This is what an auditor's tool would re-implement to
 * check a log without herald; docs/store.md states it in prose.
 *
 * Every evidence row has a global, gapless sequence number `seq` and a
 * hash: hash(row) = SHA-256(hash(row seq-1) || encoding(row)), with 32
 * zero bytes before the first row.  verify recomputes it over every row of
 * every table, merged by seq.
 *
 * Format 1 (herald 0.1, schema 1): six tables, times as RFC 3339 text,
 * hashes and keys as hex text, each row storing its `prev` hash too.
 *   encoding = T(table) I(seq) value...
 *
 * Format 2 (schema 2): content-addressed texts, one `messages` row per
 * message sent to many recipients and a small `deliveries` row per
 * recipient, times as integers (seconds since the epoch, UTC), hashes and
 * keys as bytes, no stored prev.  The format version is in the encoding,
 * so a later format can add columns without touching older rows:
 *   encoding = 'V' u64(format) T(table) I(seq) value...
 *
 * Values: 'N' (null); 'I' + 8 bytes big-endian (integer); 'T' + 8-byte
 * big-endian length + bytes (text); 'B' + 8-byte length + bytes (blob).
 * A format-1 encoding starts with 'T' and a format-2 one with 'V': the two
 * can never be confused.
 */
#ifndef HERALD_EVFMT_H
#define HERALD_EVFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The newest format: what herald writes. */
#define EVFMT_CURRENT 2

/* Logical evidence tables of the current format. */
enum ev_table {
	EV_TEXTS,
	EV_PLAN_VERSIONS,
	EV_MESSAGES,
	EV_DELIVERIES,
	EV_ATTEMPTS,
	EV_DELIVERY_STATES,
	EV_ACKS,
	EV_EVENTS,
	EV_NTABLES,
};

enum ev_type { EV_NULL, EV_INT, EV_TEXT, EV_BLOB };

struct ev_value {
	enum ev_type type;
	int64_t i;
	const char *s;   /* text or blob bytes */
	size_t len;      /* of s */
};

static inline struct ev_value ev_text(const char *s)
{
	return (struct ev_value){ .type = s ? EV_TEXT : EV_NULL, .s = s,
				  .len = s ? strlen(s) : 0 };
}
static inline struct ev_value ev_blob(const void *p, size_t n)
{
	return (struct ev_value){ .type = p ? EV_BLOB : EV_NULL,
				  .s = (const char *)p, .len = p ? n : 0 };
}
#define EVI(x) ((struct ev_value){ .type = EV_INT, .i = (x) })
#define EVS(x) ev_text(x)
#define EVB(p, n) ev_blob((p), (n))
#define EVN ((struct ev_value){ .type = EV_NULL })

/*
 * One table as stored in one format: its name in the encoding, the SQL
 * table that holds it, its columns (after seq) in encoding order, and for
 * each the type it holds (EV_NULL allowed in any).  Format-1 tables also
 * store `prev`.
 */
struct ev_table_desc {
	const char *name;          /* hashed: the logical name */
	const char *sql;           /* where the rows are */
	int format;
	const char *const *columns;
	const enum ev_type *types;
	size_t ncolumns;
	bool has_prev;
};

/* The current format's table t. */
const struct ev_table_desc *evfmt_table(enum ev_table t);

/*
 * Every table of every format, oldest first, NULL-terminated: what verify
 * reads.  With migrated, format-1 tables are where a migrated database
 * keeps them ("v1_deliveries") and the current format's follow; without,
 * only format-1 tables, under the names schema 1 gave them.
 */
const struct ev_table_desc *const *evfmt_all_tables(bool migrated);

/*
 * Computes the hash of a row of table d: SHA-256(prev || encoding).  vals
 * holds d->ncolumns values.  Thread-safe.
 */
void evfmt_row_hash(const struct ev_table_desc *d, int64_t seq,
		    const struct ev_value *vals, const unsigned char prev[32],
		    unsigned char out[32]);

#endif
