/*
 * store_sqlite_queue.c - the outbox queue of store.h on SQLite:
 * internal_queue (deliveries not yet final) and internal_counts (how many
 * ended in each final state, for /healthz and /metrics without counting
 * the log).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "herald/store_sqlite.h"
#include "herald/token.h"
#include "herald/util.h"

enum herald_rc store_outbox_add(struct store *s, int64_t delivery, int64_t due,
				const char *queue, int64_t lease_until,
				struct herald_err *err)
{
	sqlite3_stmt *st = sqlite_stmt(s, ST_QUEUE_ADD);
	sqlite3_bind_int64(st, 1, delivery);
	sqlite3_bind_int64(st, 2, due);
	sqlite3_bind_int64(st, 3, due);
	sqlite3_bind_text(st, 4, queue, -1, SQLITE_STATIC);
	if (lease_until)
		sqlite3_bind_int64(st, 5, lease_until);
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	return r == SQLITE_DONE ? H_OK : sqlite_fail(s, err, "outbox");
}

void store_claim_free(struct store_claim *c)
{
	if (!c)
		return;
	char **f[] = { &c->kind, &c->plan_id, &c->plan_version, &c->communication,
		       &c->topic, &c->audience, &c->channel_type, &c->channel_id,
		       &c->recipient, &c->recipient_name, &c->text, &c->ackid,
		       &c->message_id, &c->note, &c->requested_by };
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		free(*f[i]);
	free(c);
}

static void ackid_text(sqlite3_stmt *st, int col, char **out)
{
	if (sqlite3_column_type(st, col) == SQLITE_BLOB && sqlite3_column_bytes(st, col) == 16) {
		char b[TOKEN_ACKID_LEN + 1];
		base64url(sqlite3_column_blob(st, col), 16, b);
		*out = xstrdup(b);
	} else if (sqlite3_column_type(st, col) == SQLITE_TEXT) {
		*out = sqlite_col_dup(st, col);   /* format 1: stored as text */
	}
}

static void message_id(const unsigned char key[32], const char *domain, char **out)
{
	if (!domain)
		return;
	char hex[65];
	hex_encode(key, 32, hex);
	*out = xasprintf("<%.32s.herald@%s>", hex, domain);
}

/*
 * The columns every claim reads, in this order, from format 2 (first) or
 * format 1 (second) rows; both end with the queue's own columns.
 */
#define CLAIM_COLS \
	"kind, plan_id, plan_version, communication, topic, occurrence, audience," \
	" channel_type, channel_id, recipient, recipient_name, text, ack, note," \
	" requested_by, mail_domain, key, parent"

const char sqlite_claim_v2[] =
	"SELECT m.kind, m.plan_id, m.plan_version, m.communication, m.topic, m.occurrence,"
	" m.audience, m.channel_type, m.channel_id, d.recipient, d.recipient_name, t.body,"
	" coalesce(d.ack, (SELECT p.ack FROM deliveries p WHERE p.seq=d.parent)),"
	" m.note, m.requested_by, m.mail_domain, d.key, d.parent"
	" FROM deliveries d JOIN messages m ON m.seq=d.message"
	" LEFT JOIN texts t ON t.sha256=m.text WHERE d.seq=?";

/* Format-1 rows still queued when the database was migrated. */
static const char claim_v1[] =
	"SELECT d.kind, d.plan_id, d.plan_version, d.communication, d.topic,"
	" CAST(strftime('%s', d.occurrence) AS INTEGER), d.audience, d.channel_type,"
	" d.channel_id, d.recipient, d.recipient_name, d.message, d.ack_id, d.note,"
	" d.requested_by, NULL, d.key, NULL, d.message_id, d.occurrence"
	" FROM v1_deliveries d WHERE d.seq=?";

static enum herald_rc fill_claim(struct store *s, struct store_claim *c, bool legacy,
				 struct herald_err *err)
{
	/* Format 2, on every claim: prepared once with the store. */
	sqlite3_stmt *st = legacy ? NULL : sqlite_stmt(s, ST_CLAIM_V2);
	if (legacy && sqlite3_prepare_v2(s->h, claim_v1, -1, &st, NULL) != SQLITE_OK)
		return sqlite_fail(s, err, "claim");
	sqlite3_bind_int64(st, 1, c->delivery);
	int r = sqlite3_step(st);
	if (r != SQLITE_ROW) {
		if (legacy)
			sqlite3_finalize(st);
		else
			sqlite3_reset(st);
		return r == SQLITE_DONE ? herald_err_set(err, H_EINVAL,
							 "outbox: delivery seq %lld is not in the log",
							 (long long)c->delivery)
					: sqlite_fail(s, err, "claim");
	}
	c->kind = sqlite_col_dup(st, 0);
	c->plan_id = sqlite_col_dup(st, 1);
	c->plan_version = sqlite_col_dup(st, 2);
	c->communication = sqlite_col_dup(st, 3);
	c->topic = sqlite_col_dup(st, 4);
	if (legacy ? sqlite3_column_type(st, 19) != SQLITE_NULL
		   : sqlite3_column_type(st, 5) != SQLITE_NULL) {
		c->has_occurrence = true;
		c->occurrence = sqlite3_column_int64(st, 5);
	}
	c->audience = sqlite_col_dup(st, 6);
	c->channel_type = sqlite_col_dup(st, 7);
	c->channel_id = sqlite_col_dup(st, 8);
	c->recipient = sqlite_col_dup(st, 9);
	c->recipient_name = sqlite_col_dup(st, 10);
	c->text = sqlite_col_dup(st, 11);
	ackid_text(st, 12, &c->ackid);
	if (!legacy)
		c->parent = sqlite3_column_int64(st, 17);
	c->note = sqlite_col_dup(st, 13);
	c->requested_by = sqlite_col_dup(st, 14);
	if (legacy) {
		const char *hex = sqlite_col_text(st, 16);
		for (size_t i = 0; hex && i < 32 && hex[2 * i] && hex[2 * i + 1]; i++)
			sscanf(hex + 2 * i, "%2hhx", &c->key[i]);
		c->message_id = sqlite_col_dup(st, 18);
	} else {
		if (sqlite3_column_bytes(st, 16) == 32)
			memcpy(c->key, sqlite3_column_blob(st, 16), 32);
		message_id(c->key, sqlite_col_text(st, 15), &c->message_id);
	}
	if (legacy)
		sqlite3_finalize(st);
	else
		sqlite3_reset(st);
	return H_OK;
}

/* A format-1 reminder's ack link is its original's (kept in the old
 * queue's parent column, not in the log). */
static enum herald_rc legacy_parent_ack(struct store *s, struct store_claim *c,
					struct herald_err *err)
{
	if (c->ackid || !c->parent)
		return H_OK;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->h, "SELECT ack_id FROM v1_deliveries WHERE seq=?", -1, &st,
			       NULL) != SQLITE_OK)
		return sqlite_fail(s, err, "claim");
	sqlite3_bind_int64(st, 1, c->parent);
	if (sqlite3_step(st) == SQLITE_ROW)
		c->ackid = sqlite_col_dup(st, 0);
	sqlite3_finalize(st);
	return H_OK;
}

enum herald_rc store_outbox_due(struct store *s, const char *queue, int64_t now,
				size_t max, struct store_claim ***out, size_t *n_out,
				struct herald_err *err)
{
	*out = NULL;
	*n_out = 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->h,
			       "SELECT delivery, due, claims, recorded, flagged, legacy, parent"
			       " FROM internal_queue WHERE queue=? AND next_at<=?"
			       " ORDER BY next_at, due LIMIT ?", -1, &st, NULL) != SQLITE_OK)
		return sqlite_fail(s, err, "claim");
	sqlite3_bind_text(st, 1, queue, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	struct store_claim **v = NULL;
	size_t n = 0;
	enum herald_rc rc = H_OK;
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_claim *c = xcalloc(1, sizeof *c);
		c->delivery = sqlite3_column_int64(st, 0);
		c->due = sqlite3_column_int64(st, 1);
		c->claims = sqlite3_column_int(st, 2);
		c->recorded = sqlite3_column_int(st, 3);
		c->flagged = sqlite3_column_int(st, 4) != 0;
		bool legacy = sqlite3_column_int(st, 5) != 0;
		c->parent = sqlite3_column_int64(st, 6);
		v = xreallocarray(v, n + 1, sizeof *v);
		v[n++] = c;
		if ((rc = fill_claim(s, c, legacy, err)))
			break;
		if (legacy && (rc = legacy_parent_ack(s, c, err)))
			break;
	}
	if (!rc && r != SQLITE_DONE)
		rc = sqlite_fail(s, err, "claim");
	sqlite3_finalize(st);
	if (rc) {
		for (size_t i = 0; i < n; i++)
			store_claim_free(v[i]);
		free(v);
		return rc;
	}
	*out = v;
	*n_out = n;
	return H_OK;
}

static enum herald_rc step_done(struct store *s, sqlite3_stmt *st,
				struct herald_err *err, const char *what)
{
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	return r == SQLITE_DONE ? H_OK : sqlite_fail(s, err, what);
}

enum herald_rc store_outbox_claim(struct store *s, int64_t delivery,
				  const char *inflight, int64_t now,
				  int64_t lease_until, struct herald_err *err)
{
	sqlite3_stmt *st = sqlite_stmt(s, ST_QUEUE_CLAIM);
	sqlite3_bind_text(st, 1, inflight, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	if (lease_until)
		sqlite3_bind_int64(st, 3, lease_until);
	sqlite3_bind_int64(st, 4, delivery);
	return step_done(s, st, err, "claim");
}

enum herald_rc store_outbox_retry(struct store *s, int64_t delivery,
				  const char *queue, int64_t next_at,
				  bool flagged, struct herald_err *err)
{
	sqlite3_stmt *st = sqlite_stmt(s, ST_QUEUE_RETRY);
	sqlite3_bind_text(st, 1, queue, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, next_at);
	sqlite3_bind_int(st, 3, flagged ? 1 : 0);
	sqlite3_bind_int64(st, 4, delivery);
	return step_done(s, st, err, "record");
}

enum herald_rc store_outbox_done(struct store *s, int64_t delivery,
				 const char *state, struct herald_err *err)
{
	sqlite3_stmt *st = sqlite_stmt(s, ST_QUEUE_DONE);
	sqlite3_bind_int64(st, 1, delivery);
	enum herald_rc rc = step_done(s, st, err, "record");
	if (rc)
		return rc;
	st = sqlite_stmt(s, ST_COUNT_ADD);
	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	return step_done(s, st, err, "record");
}

enum herald_rc store_outbox_release(struct store *s, int64_t delivery,
				    const char *queue, struct herald_err *err)
{
	sqlite3_stmt *st = sqlite_stmt(s, ST_QUEUE_RELEASE);
	sqlite3_bind_text(st, 1, queue, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, delivery);
	return step_done(s, st, err, "release");
}

enum herald_rc store_outbox_recover(struct store *s, int64_t now,
				    bool service_claims, int64_t *n,
				    struct herald_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->h,
			       "UPDATE internal_queue SET queue='pending', next_at=min(next_at, ?1),"
			       " inflight_since=NULL, lease_until=NULL"
			       " WHERE (?2 AND queue='inflight')"
			       " OR ((queue LIKE 'cli:%' OR queue LIKE 'inflight:cli:%')"
			       "     AND coalesce(lease_until, 0) < ?1)",
			       -1, &st, NULL) != SQLITE_OK)
		return sqlite_fail(s, err, "recover");
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int(st, 2, service_claims ? 1 : 0);
	int r = sqlite3_step(st);
	*n = sqlite3_changes(s->h);
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? H_OK : sqlite_fail(s, err, "recover");
}

enum herald_rc store_outbox_move(struct store *s, const char *from, const char *to,
				 int64_t *n, struct herald_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->h, "UPDATE internal_queue SET queue=?2, lease_until=NULL"
				     " WHERE queue=?1", -1, &st, NULL) != SQLITE_OK)
		return sqlite_fail(s, err, "outbox");
	sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	if (n)
		*n = sqlite3_changes(s->h);
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? H_OK : sqlite_fail(s, err, "outbox");
}

enum herald_rc store_outbox_renew(struct store *s, const char *queue,
				  int64_t lease_until, struct herald_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->h,
			       "UPDATE internal_queue SET lease_until=?1 WHERE queue=?2 OR queue=?3",
			       -1, &st, NULL) != SQLITE_OK)
		return sqlite_fail(s, err, "lease");
	char inflight[96];
	snprintf(inflight, sizeof inflight, "inflight:%s", queue);
	sqlite3_bind_int64(st, 1, lease_until);
	sqlite3_bind_text(st, 2, queue, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, inflight, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? H_OK : sqlite_fail(s, err, "lease");
}

enum herald_rc store_outbox_stats(struct store *s, int64_t now,
				  struct store_outbox_stats *x, struct herald_err *err)
{
	memset(x, 0, sizeof *x);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->h,
			       "SELECT queue LIKE 'inflight%', count(*), min(due),"
			       " sum(inflight_since < ?1 - 600), sum(next_at < ?1 - 300)"
			       " FROM internal_queue GROUP BY 1", -1, &st, NULL) != SQLITE_OK)
		return sqlite_fail(s, err, "stats");
	sqlite3_bind_int64(st, 1, now);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t v = sqlite3_column_int64(st, 1), due = sqlite3_column_int64(st, 2);
		if (sqlite3_column_int(st, 0)) {
			x->inflight = v;
			x->stuck = sqlite3_column_int64(st, 3);
		} else {
			x->pending = v;
			x->overdue = sqlite3_column_int64(st, 4);
		}
		if (!x->oldest_due || due < x->oldest_due)
			x->oldest_due = due;
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(s->h, "SELECT state, n FROM internal_counts", -1, &st,
			       NULL) != SQLITE_OK)
		return sqlite_fail(s, err, "stats");
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *k = sqlite_col_text(st, 0);
		int64_t v = sqlite3_column_int64(st, 1);
		if (!k)
			continue;
		if (strcmp(k, "sent") == 0)
			x->sent = v;
		else if (strcmp(k, "failed") == 0)
			x->failed = v;
		else if (strcmp(k, "missed") == 0)
			x->missed = v;
		else if (strcmp(k, "cancelled") == 0)
			x->cancelled = v;
		else if (strcmp(k, "dry-run") == 0)
			x->dry_run = v;
	}
	sqlite3_finalize(st);
	return H_OK;
}

int64_t store_outbox_open(struct store *s, const char *queue)
{
	sqlite3_stmt *st;
	int64_t n = -1;
	char inflight[96];
	snprintf(inflight, sizeof inflight, "inflight:%s", queue);
	if (sqlite3_prepare_v2(s->h, "SELECT count(*) FROM internal_queue WHERE queue IN (?,?)",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, queue, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, inflight, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}
