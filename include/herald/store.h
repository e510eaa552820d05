/*
 * store.h - everything herald keeps: the evidence log (hash-chained,
 * append-only), the outbox (the mutable queue of deliveries to send), and
 * small meta values.  The one boundary between herald and its database:
 * nothing above this header knows that the database is SQLite, and a
 * second backend (docs/store.md says what PostgreSQL would need)
 * implements these functions and nothing else.
 *
 * Rows and formats are those of evfmt.h.  A delivery is identified by the
 * seq of its `deliveries` row everywhere below (rows written by format 1
 * are reachable the same way).
 *
 * Transactions.  Every function that writes must be called between
 * store_begin() and store_commit()/store_rollback() (BEGIN IMMEDIATE: the
 * write lock is taken at once, so the chain head cannot move under a
 * writer).  A struct store opened for writing may be shared by threads:
 * store_begin locks a mutex that commit/rollback release.  Reads that
 * need one snapshot (store_each_*, verify, export, reports) take their own
 * read transaction inside the call, which on SQLite is the connection's:
 * never run them on a store that another thread writes through; open a
 * read-only store of the same path for them.  A read-only store is for one
 * thread at a time.
 *
 * Errors: H_ERUNTIME for database failures (the message says which
 * operation and why, never a value that could be a secret); H_EINVAL for
 * a database that is not herald's, or damaged.
 */
#ifndef HERALD_STORE_H
#define HERALD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "herald/err.h"

struct store;

/* ------------------------------------------------------------ opening */

struct store_open_opts {
	bool readonly;       /* verify, export, report: never writes */
	bool create;         /* a missing database is created (else an error) */
	bool check;          /* also PRAGMA quick_check: refuse a damaged file */
	/* herald run: the one service of this database (an advisory lock on
	 * the file, held until store_close); a second is refused. */
	bool sole;
};

/*
 * Opens the database at path.  A writable open applies every pending
 * migration first (each recorded as an `events` row "migration"), after
 * verifying the chain so that an altered log is never rewritten into a
 * new format.  A read-only open reads a database of any schema herald
 * ever wrote, migrated or not.  *out is the caller's (store_close).
 *
 * Either way the database is refused (H_ERUNTIME, saying what is missing)
 * when it is shorter than its head witness (witness.h), or differs at the
 * witnessed row; and a missing database is never created where a witness
 * says one was.  Writable stores keep the witness current.  A database is
 * created mode 0600 (its WAL follows): it holds names, addresses and
 * breach notes.
 */
enum herald_rc store_open(const char *path, const struct store_open_opts *o,
			  struct store **out, struct herald_err *err);
void store_close(struct store *s);

/* The file the store was opened on (borrowed). */
const char *store_path(const struct store *s);

/* True if it was opened read-only. */
bool store_is_readonly(const struct store *s);

/* The schema version of the database as opened, and the newest one. */
int store_schema(const struct store *s);
int store_schema_current(void);

/* Housekeeping for a long-running writer: moves the write-ahead log into
 * the database and truncates it, so it stays small. */
enum herald_rc store_maintain(struct store *s, struct herald_err *err);

/* True while the last write transaction failed (disk full, I/O error,
 * read-only file); the count of failures since open. */
bool store_writes_failing(struct store *s);
int64_t store_write_errors(struct store *s);

/* Cheap health check (a read): H_OK when the database answers. */
enum herald_rc store_ping(struct store *s, struct herald_err *err);

/* ------------------------------------------------------- transactions */

enum herald_rc store_begin(struct store *s, struct herald_err *err);
enum herald_rc store_commit(struct store *s, struct herald_err *err);
void store_rollback(struct store *s);

/* --------------------------------------------------------------- meta */

/* internal_meta: small blobs by name.  get returns false if absent. */
bool store_meta_get(struct store *s, const char *key, unsigned char *out,
		    size_t cap, size_t *len);
enum herald_rc store_meta_set(struct store *s, const char *key,
			      const unsigned char *val, size_t len,
			      struct herald_err *err);
/* Removes a meta value, its bytes overwritten on disk (secure_delete). */
enum herald_rc store_meta_delete(struct store *s, const char *key,
				 struct herald_err *err);
bool store_meta_get_i64(struct store *s, const char *key, int64_t *v);
enum herald_rc store_meta_set_i64(struct store *s, const char *key, int64_t v,
				  struct herald_err *err);

/* -------------------------------------------------------- the chain */

struct store_head {
	int64_t seq;              /* 0 for an empty log */
	unsigned char hash[32];
};

/* The recorded head (the last row appended), not verified. */
enum herald_rc store_head(struct store *s, struct store_head *h,
			  struct herald_err *err);

/* ------------------------------------------------------------ appends */
/* Each appends one chained row inside the caller's transaction; *seq
 * (may be NULL) gets its seq.  Times are instants (seconds, UTC). */

/*
 * Stores text once, content-addressed: sha (out) is its SHA-256; a text
 * already in the log is not appended again.
 */
enum herald_rc store_text_put(struct store *s, const char *text, size_t len,
			      unsigned char sha[32], struct herald_err *err);

struct store_plan_version {
	int64_t at;
	const char *event;         /* loaded, reloaded, refused, … */
	const char *plan_id, *version;
	const unsigned char *sha256;   /* 32 bytes or NULL */
	const char *path, *approved_by, *approved_on, *next_review, *detail;
	const unsigned char *text;     /* texts sha of the plan's text, or NULL */
};
enum herald_rc store_plan_version_add(struct store *s,
				      const struct store_plan_version *v,
				      int64_t *seq, struct herald_err *err);

enum herald_rc store_event_add(struct store *s, int64_t at, const char *kind,
			       const char *detail, int64_t *seq,
			       struct herald_err *err);

/* What many deliveries share: one message of one communication to one
 * audience through one channel. */
struct store_message {
	int64_t created_at;
	const char *kind;          /* scheduled, reminder, manual, drill, onboarding */
	const char *plan_id, *plan_version;
	const unsigned char *plan_sha256;  /* 32 bytes or NULL */
	const char *communication, *topic;
	bool has_occurrence;
	int64_t occurrence;
	bool has_offset;
	int64_t notify_offset;
	const char *audience, *channel_type, *channel_id;
	int64_t due;
	const unsigned char *text;  /* texts sha of the rendered text */
	const char *requested_by, *note;
	const char *request;        /* manual: the request id */
	const char *mail_domain;    /* email: the From domain, for Message-IDs */
};
enum herald_rc store_message_add(struct store *s, const struct store_message *m,
				 int64_t *seq, struct herald_err *err);

/* One recipient of a message.  key is the 32-byte idempotency key. */
struct store_delivery {
	int64_t message;            /* seq of its messages row */
	const unsigned char *key;
	const char *recipient, *recipient_name;
	const unsigned char *ack;   /* 16-byte ack link id, or NULL */
	int64_t parent;             /* reminder: the original delivery; 0 = none */
};

/* True (and *seq) if a delivery with this key exists. */
bool store_delivery_exists(struct store *s, const unsigned char key[32],
			   int64_t *seq);

enum herald_rc store_delivery_add(struct store *s, const struct store_delivery *d,
				  int64_t *seq, struct herald_err *err);

struct store_attempt {
	int64_t delivery;
	int n;
	int64_t started_at, finished_at;
	const char *outcome;        /* ok, temporary, permanent, dry-run */
	long status;                /* 0 = none */
	const char *reply, *error;
	int64_t latency_ms;
	bool possible_duplicate;
};
enum herald_rc store_attempt_add(struct store *s, const struct store_attempt *a,
				 struct herald_err *err);

/* The final state of a delivery (at most one per delivery), with what an
 * auditor reads about its attempts. */
struct store_state {
	int64_t delivery;
	int64_t at;
	const char *state;          /* sent, failed, missed, cancelled, dry-run */
	bool late, duplicate;
	const char *detail;
	int attempts;
	bool possible_duplicate;
	const char *reply;          /* the last attempt's reply */
};
enum herald_rc store_state_add(struct store *s, const struct store_state *st,
			       struct herald_err *err);

/* ---------------------------------------------------------------- acks */

/* What an ack link leads to: the first delivery that carried it. */
struct store_ack_target {
	int64_t delivery;
	char *communication, *audience, *topic, *person;
	char *plan_id, *plan_version, *recipient;
	char *text, *note;          /* the message as stored ({{ack_url}} and
				     * {{note}} kept) and its note; may be NULL */
	int64_t occurrence;         /* 0 = none */
	int64_t sent_at;            /* 0 = not (yet) sent */
	int64_t acked_at;           /* 0 = not acknowledged */
};
void store_ack_target_free(struct store_ack_target *t);

/*
 * Looks up an ack link id (22 base64url characters, token.h).  false when
 * no delivery carries it.  In or out of a transaction.
 */
bool store_ack_lookup(struct store *s, const char *ackid,
		      struct store_ack_target *t, struct herald_err *err);

/* What an acknowledgement records. */
struct store_ack {
	const char *ackid;
	int64_t delivery;           /* the first delivery that carried it */
	const char *communication, *audience, *person;
	int64_t at;
};

/* Appends an acknowledgement (in a transaction; the caller has checked
 * that the link was not acknowledged yet). */
enum herald_rc store_ack_add(struct store *s, const struct store_ack *a,
			     struct herald_err *err);

/* True if the ack link ackid has been acknowledged. */
bool store_ack_done(struct store *s, const char *ackid);

/* ------------------------------------------- acknowledgement register */
/* (store_sqlite_acks.c) */

/*
 * One acknowledgement link: one (communication, occurrence, person) asked
 * to acknowledge, over every delivery that carried it (every notify
 * offset, reminder and onboarding message).  Strings are borrowed for the
 * duration of the callback; absent values are NULL, absent times 0.
 * Descriptive fields (audience, name, channel, kind) are those of the
 * link's first delivery.  A link that only dry runs reached (every
 * message recorded dry-run, no reminder really sent) asked no one and is
 * not a link here.
 */
struct store_ack_link {
	const char *ackid;          /* TOKEN_ACKID_LEN base64url characters */
	int format;                 /* of its rows: 1 or 2 */
	const char *communication, *topic, *audience;
	const char *name;           /* the member's name, or NULL */
	const char *email;          /* the address; NULL: a shared channel */
	const char *channel_type, *channel_id;
	const char *plan_id, *plan_version;
	const char *kind;           /* scheduled, manual, onboarding */
	bool has_occurrence;
	int64_t occurrence;
	int64_t first_due;          /* when its first message (not a reminder) fell due */
	int64_t first_sent;         /* its first message sent; 0 = not yet */
	int64_t reminders;          /* reminders sent (a dry run is no send) */
	int64_t acked_at;           /* 0 = outstanding */
};

struct store_ack_filter {
	const char *communication;  /* NULL = any */
	const char *audience;       /* NULL = any; else links that reached it
				     * (the link's audience is then this one) */
	bool has_from, has_to;
	int64_t from, to;           /* first_due in [from, to) */
	bool has_due_by;
	int64_t due_by;             /* people already asked: first_due <= due_by,
				     * or a message of theirs was sent */
	bool outstanding;           /* only links not acknowledged */
};

/*
 * Calls fn for every acknowledgement link matching f (NULL = all), by
 * communication, occurrence (none last), audience, name and address,
 * format-1 links first, inside one read transaction; *head (may be NULL)
 * gets the head that covers them.  fn returns non-zero to stop.
 */
enum herald_rc store_each_ack_link(struct store *s, const struct store_ack_filter *f,
				   int (*fn)(const struct store_ack_link *l, void *ctx),
				   void *ctx, struct store_head *head,
				   struct herald_err *err);

/* A delivery waiting in the service's queue, as a cancellation needs it. */
struct store_queued {
	int64_t delivery;
	int recorded;               /* attempts recorded */
	bool flagged;               /* an attempt was flagged possible duplicate */
};

/*
 * The deliveries of audience to recipient (an address, compared without
 * case) waiting in the service's queue ("pending": not claimed, not a
 * `herald send` run's), inside the caller's transaction.  *out (caller
 * frees) and *n.
 */
enum herald_rc store_outbox_queued_to(struct store *s, const char *audience,
				      const char *recipient, struct store_queued **out,
				      size_t *n, struct herald_err *err);

/* ------------------------------------------------------------- outbox */

/*
 * internal_outbox holds the deliveries not yet in a final state: the
 * queue they are in ("pending" for the service, "cli:…" for a `herald
 * send` run), when they may next be tried, how often they were claimed
 * and how many attempts were recorded (more claims than records: a send
 * was interrupted, the next one may duplicate it).
 */
/* lease_until: for a `herald send` queue, when the service may adopt the
 * delivery if the command has died (0 = never). */
enum herald_rc store_outbox_add(struct store *s, int64_t delivery, int64_t due,
				const char *queue, int64_t lease_until,
				struct herald_err *err);

/* A claimable delivery: the row an engine needs to send it. */
struct store_claim {
	int64_t delivery;
	unsigned char key[32];
	int64_t due;
	int claims, recorded;
	bool flagged;               /* an earlier attempt was flagged */
	int64_t parent;             /* reminder: the original delivery, or 0 */
	char *kind, *plan_id, *plan_version, *communication, *topic;
	bool has_occurrence;
	int64_t occurrence;
	char *audience, *channel_type, *channel_id, *recipient, *recipient_name;
	char *text;
	char *ackid;                /* its own ack link or its parent's, or NULL */
	char *message_id;           /* email Message-ID (without <>), or NULL */
	char *note, *requested_by;
};
void store_claim_free(struct store_claim *c);

/*
 * Up to max deliveries of queue with next_at <= now, by next_at then due
 * (inside the caller's transaction).  *out (caller frees each with
 * store_claim_free, and the array) and *n.
 */
enum herald_rc store_outbox_due(struct store *s, const char *queue, int64_t now,
				size_t max, struct store_claim ***out, size_t *n,
				struct herald_err *err);

/* Marks a delivery claimed into queue inflight (claims + 1), leased until
 * lease_until. */
enum herald_rc store_outbox_claim(struct store *s, int64_t delivery,
				  const char *inflight, int64_t now,
				  int64_t lease_until, struct herald_err *err);

/* After an attempt: back to queue at next_at (recorded + 1, flagged if
 * the attempt was). */
enum herald_rc store_outbox_retry(struct store *s, int64_t delivery,
				  const char *queue, int64_t next_at,
				  bool flagged, struct herald_err *err);

/* A final state was recorded: the delivery leaves the queue; state is
 * counted for store_outbox_stats. */
enum herald_rc store_outbox_done(struct store *s, int64_t delivery,
				 const char *state, struct herald_err *err);

/* Gives back an unsent claim (claims - 1). */
enum herald_rc store_outbox_release(struct store *s, int64_t delivery,
				    const char *queue, struct herald_err *err);

/*
 * Returns to "pending" every claim of the service's own queue
 * ("inflight") and every `herald send` claim or queue ("cli:…") whose
 * lease ended before now.  *n gets how many.
 */
enum herald_rc store_outbox_recover(struct store *s, int64_t now,
				    bool service_claims, int64_t *n,
				    struct herald_err *err);

/* Moves every delivery waiting in from (not claimed) to queue to, with
 * no lease; *n (may be NULL) gets how many. */
enum herald_rc store_outbox_move(struct store *s, const char *from, const char *to,
				 int64_t *n, struct herald_err *err);

/* Renews the lease of every claim of queue until lease_until. */
enum herald_rc store_outbox_renew(struct store *s, const char *queue,
				  int64_t lease_until, struct herald_err *err);

struct store_outbox_stats {
	int64_t pending, inflight, sent, failed, missed, cancelled, dry_run;
	int64_t oldest_due;         /* of what is pending or in flight; 0 = none */
	int64_t stuck;              /* in flight for more than 10 minutes at now */
	int64_t overdue;            /* waiting, due more than 5 minutes before now */
};
enum herald_rc store_outbox_stats(struct store *s, int64_t now,
				  struct store_outbox_stats *st, struct herald_err *err);

/* Deliveries still open in queue (queued or claimed from it). */
int64_t store_outbox_open(struct store *s, const char *queue);

/* -------------------------------------------------------------- reads */

/*
 * One delivery as an auditor sees it: what was sent to whom, how it ended,
 * and whether it was acknowledged.  Strings are borrowed for the duration
 * of the callback; absent values are NULL, absent times 0.
 */
struct store_delivery_view {
	int64_t seq;
	int format;
	const char *key;            /* hex */
	const char *kind;
	int64_t created_at, due, occurrence;
	bool has_offset;
	int64_t notify_offset;
	const char *plan_id, *plan_version, *communication, *topic, *audience;
	const char *channel_type, *channel_id, *recipient, *recipient_name;
	const char *text;           /* the rendered text (with_text only) */
	const char *message_id;     /* format 1: the Message-ID stored */
	const char *mail_domain;    /* format 2: the domain of Message-IDs */
	const char *requested_by, *note;
	const char *ackid;
	int64_t parent;
	const char *state;          /* "pending" when there is no final state */
	int64_t state_at;           /* 0 when pending */
	int64_t sent_at;            /* state sent or dry-run: when */
	bool late, duplicate, possible_duplicate;
	int64_t attempts;
	const char *detail, *reply;
	int64_t acked_at;
	const char *acked_by;
};

struct store_filter {
	bool has_from, has_to;
	int64_t from, to;           /* due in [from, to) */
	const char *communication, *audience, *kind;   /* NULL = any */
	bool with_text;             /* read the rendered texts too */
};

/*
 * Calls fn for every delivery matching f (NULL = all), by due time then
 * seq, inside one read transaction; *head (may be NULL) gets the head
 * that covers them.  fn returns non-zero to stop.
 */
enum herald_rc store_each_delivery(struct store *s, const struct store_filter *f,
				   int (*fn)(const struct store_delivery_view *d,
					     void *ctx),
				   void *ctx, struct store_head *head,
				   struct herald_err *err);

/* What store_each_delivery_id lists. */
enum store_delivery_id { STORE_ID_COMMUNICATION, STORE_ID_AUDIENCE };

/*
 * Calls fn for each distinct communication (audience) id the deliveries
 * carry, of either format, in byte order, inside one read transaction:
 * what a filter can match, so a command can tell a typo from an empty
 * period.  A delivery without an audience adds none.  id is borrowed for
 * the duration of the callback; fn returns non-zero to stop.
 */
enum herald_rc store_each_delivery_id(struct store *s, enum store_delivery_id which,
				      int (*fn)(const char *id, void *ctx), void *ctx,
				      struct herald_err *err);

struct store_plan_version_view {
	int64_t seq, at;
	const char *event, *plan_id, *version, *sha256_hex, *path;
	const char *approved_by, *approved_on, *next_review, *detail;
	const char *text;           /* the plan's text when stored, else NULL */
};

/* Plan versions, newest first, at most limit (0 = all). */
enum herald_rc store_each_plan_version(struct store *s, size_t limit,
				       int (*fn)(const struct store_plan_version_view *v,
						 void *ctx),
				       void *ctx, struct herald_err *err);

/* True if a plan version with this plan id and file hash was recorded. */
bool store_plan_seen(struct store *s, const char *plan_id,
		     const unsigned char sha256[32]);

/*
 * Every evidence row of every table and format, in seq order, inside one
 * read transaction: for verify.  For each row fn gets its table, seq, the
 * values in column order, the stored hash (NULL if it is not 32 bytes)
 * and, for format 1, the stored prev (NULL if absent or not 32 bytes).
 * A value of a type herald never writes is reported through fn with
 * bad_column >= 0.  fn returns non-zero to stop (its H_ code is
 * returned).  *recorded gets the head record, read in the same snapshot
 * before the first row is passed to fn (so fn may compare with it).
 */
struct store_row {
	const struct ev_table_desc *table;
	int64_t seq;
	const struct ev_value *values;
	const unsigned char *hash, *prev;
	int bad_column;             /* -1, or the column holding a bad value */
	int bad_format;             /* 0, or the format a row claims that its
				     * table never had */
};
enum herald_rc store_each_row(struct store *s,
			      enum herald_rc (*fn)(const struct store_row *r, void *ctx,
						   struct herald_err *err),
			      void *ctx, struct store_head *recorded,
			      struct herald_err *err);

/* The same for the rows after seq only (a verify that resumes from a
 * head already verified). */
enum herald_rc store_each_row_after(struct store *s, int64_t after,
				    enum herald_rc (*fn)(const struct store_row *r, void *ctx,
							 struct herald_err *err),
				    void *ctx, struct store_head *recorded,
				    struct herald_err *err);

/*
 * The append-only guard of every evidence table (triggers refusing UPDATE
 * and DELETE on SQLite): names the first one missing into missing (cap
 * bytes) and returns false, or returns true when all are there.
 */
bool store_guards_present(struct store *s, char *missing, size_t cap);

/* The stored hash of the row at seq, whatever its table. */
enum herald_rc store_row_hash_at(struct store *s, int64_t seq,
				 unsigned char out[32], bool *found,
				 struct herald_err *err);

/*
 * A consistent copy of the whole database into a new file at dest (which
 * must not exist), as one self-contained file (no WAL).  Writers carry on
 * meanwhile.  internal_meta keys named in omit are left out of the copy.
 */
enum herald_rc store_copy(struct store *s, const char *dest,
			  const char *const *omit, struct herald_err *err);

/* ------------------------------------------------------- idempotency */

/*
 * What a send request with an Idempotency-Key left behind (not evidence:
 * the deliveries it made are).  key is the SHA-256 of the client's key
 * (the raw key is never stored).  status 0 means the request was taken
 * but its answer not yet stored (a crash in between: its deliveries, if
 * any were made, carry request, so asking again makes none).
 */
struct store_idem {
	unsigned char fingerprint[32];  /* of the request it answered */
	char request[72];               /* the request id the deliveries carry */
	int64_t at;                     /* when it was first taken */
	int status;                     /* 0, or the HTTP status answered */
	char *body;                     /* the answer (NULL while status is 0) */
};

/*
 * Takes key for a request, in one transaction: entries taken before since
 * are forgotten first; then *out gets the entry key already has, or, if
 * none, fresh (its fingerprint, request id and time) is stored as the
 * entry and copied to *out.  out->body is malloc'd (store_idem_free).
 */
enum herald_rc store_idem_take(struct store *s, const unsigned char key[32],
			       const struct store_idem *fresh, int64_t since,
			       struct store_idem *out, struct herald_err *err);

/*
 * Gives key back after its request was refused (400, 409): the entry goes
 * if it is still the one request took (request id, no answer yet), so the
 * corrected request may be asked under the same key.
 */
enum herald_rc store_idem_release(struct store *s, const unsigned char key[32],
				  const char *request, struct herald_err *err);

/* Stores the answer of the request that took key. */
enum herald_rc store_idem_answer(struct store *s, const unsigned char key[32], int status,
				 const char *body, struct herald_err *err);

void store_idem_free(struct store_idem *v);

#endif
