/*
 * evidence.h - what an auditor does with the evidence log (evfmt.h holds
 * the format, store.h keeps it): verify it, sign its head, export it, back
 * it up.
 *
 * Everything here reads only the chained evidence rows and, for the chain
 * head and the checkpoint key, meta values.  Reads run inside one read
 * transaction, so what is stated as the head covers exactly the rows read,
 * even while the daemon appends.
 */
#ifndef HERALD_EVIDENCE_H
#define HERALD_EVIDENCE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "herald/err.h"
#include "herald/util.h"

struct store;
struct store_filter;
struct store_ack_filter;

/* ------------------------------------------------------------- verify */

struct evidence_head {
	int64_t seq;              /* 0 for an empty log */
	unsigned char hash[32];
	char hex[65];             /* hash as lower-case hex */
};

/*
 * Recomputes the chain over every evidence table of every format merged by
 * seq: seq must run 1, 2, … without gaps or repeats, each row's hash must
 * match its contents and the hash before it (and a format-1 row's stored
 * prev that hash), every text must match its SHA-256, and the last row must
 * be the head recorded in meta (tail truncation and rows appended behind
 * the chain's back are caught there).  *head gets the verified head
 * and *rows the number of rows checked (either may be NULL).
 * Returns H_OK, H_EINVAL with err->msg naming the first bad row
 * ("deliveries seq 42: …"), or H_ERUNTIME.
 */
enum herald_rc evidence_verify(struct store *s, struct evidence_head *head,
			       int64_t *rows, struct herald_err *err);

/*
 * The same for the rows after from (a head verified before, seq and hash):
 * what an automatic checkpoint checks before it signs, without reading
 * the whole log each time.
 */
enum herald_rc evidence_verify_after(struct store *s, const struct evidence_head *from,
				     struct evidence_head *head, int64_t *rows,
				     struct herald_err *err);

/* The recorded head (not verified), in a form to print. */
enum herald_rc evidence_head_get(struct store *s, struct evidence_head *head,
				 struct herald_err *err);

/* -------------------------------------------------------- checkpoints */

struct keyring;

/*
 * Appends to out a signed statement of head (a head evidence_verify has
 * just verified): a few "name: value" lines (database id, head seq and
 * hash, time, signing key id and public key) and a last "signature:" line
 * over the bytes before it, signed with k's signing key.  The database id
 * is made on first use, so s must then be writable.
 */
enum herald_rc evidence_checkpoint(struct store *s, const struct keyring *k,
				   const struct evidence_head *head,
				   struct buf *out, struct herald_err *err);

/* The database's id (random, made on first use: s writable then), that
 * checkpoints name. */
enum herald_rc evidence_db_id(struct store *s, unsigned char id[16], struct herald_err *err);

/*
 * Checks a statement made by evidence_checkpoint against s: the signature
 * is valid under trusted (the public key the auditor holds, never one read
 * from the database or the statement), it names this database, and the row
 * at its seq still has its hash (the log only grew since).  Call after
 * evidence_verify has passed, which proves the rows after it extend it.
 * *seq (may be NULL) gets the statement's head seq.  H_EINVAL with the
 * reason when it does not hold.
 */
enum herald_rc evidence_check_checkpoint(struct store *s, const char *stmt,
					 const unsigned char trusted[32],
					 int64_t *seq, struct herald_err *err);

/*
 * Checks every statement in the directory dir (each file that starts as a
 * checkpoint; others are skipped), in the order of their head seq: the log
 * grew through all of them.  *n gets how many were checked, *last the
 * highest seq.  H_EINVAL naming the first statement that fails, or when
 * there is none.
 */
enum herald_rc evidence_check_checkpoint_dir(struct store *s, const char *dir,
					     const unsigned char trusted[32],
					     int64_t *n, int64_t *last,
					     struct herald_err *err);

/* ------------------------------------------------------------- export */

enum evidence_format { EVIDENCE_CSV, EVIDENCE_JSON };

/*
 * Writes one row per delivery matching f (NULL = all) to f: CSV (RFC 4180, a
 * header line and one line per delivery, nothing else, so spreadsheets and
 * `sqlite3 .import` read it whole; cells that a spreadsheet would read as a
 * formula prefixed with a quote) or JSON ({"deliveries": […], "count",
 * "chain_head": {…}, "from", "to"}).  *count and *head (either may be
 * NULL) get the number of deliveries written and the chain head that
 * covers them (the CSV's caller states it apart).
 */
enum herald_rc evidence_export(struct store *s, const struct store_filter *filter,
			       enum evidence_format format, FILE *f, int64_t *count,
			       struct evidence_head *head, struct herald_err *err);

/* ----------------------------------------------------- people register */

enum evidence_acks_format { EVIDENCE_ACKS_TEXT, EVIDENCE_ACKS_CSV, EVIDENCE_ACKS_JSON };

struct evidence_acks_totals {
	int64_t asked, acknowledged, outstanding;
};

/*
 * Writes the acknowledgement register to out: one row per (communication,
 * occurrence, person asked to acknowledge) matching f (NULL = all), with
 * the columns communication, occurrence, audience, name, email,
 * first_sent, reminders, acknowledged_at (times RFC 3339 UTC, null when
 * none; a shared destination has neither name nor email).  JSON is one
 * array of objects; CSV has a header line and the same columns; text is
 * an aligned table ending with a line of totals and the chain head.
 * *totals (may be NULL) gets the counts.
 */
enum herald_rc evidence_acks(struct store *s, const struct store_ack_filter *f,
			     enum evidence_acks_format format, FILE *out,
			     struct evidence_acks_totals *totals,
			     struct herald_err *err);

/* ------------------------------------------------------------- backup */

/*
 * Copies the database at src_path to dest as a consistent snapshot
 * (writers carry on), owner-readable only, verifies the copy, and only
 * then moves it into place (temp file, fsync, rename).  *head (may be
 * NULL) gets the copy's verified head.  dest must not be the source.
 */
enum herald_rc evidence_backup(const char *src_path, const char *dest,
			       struct evidence_head *head, int64_t *rows,
			       struct herald_err *err);

#endif
