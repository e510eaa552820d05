/*
 * store_sqlite_read.c - the read side of store.h on SQLite: deliveries as
 * an auditor sees them, plan versions, acknowledgement links, every row
 * for verify, and copies.
 *
 * A database migrated from schema 1 keeps its format-1 rows in v1_*
 * tables (a database that was only ever opened read-only keeps them under
 * their old names): every query here has a format-2 part and a format-1
 * part, written for whichever tables exist, and returns the same columns
 * from both, so nothing above this file knows which format a row has.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "herald/store_sqlite.h"
#include "herald/token.h"
#include "herald/util.h"

#define MAX_COLS 32

enum herald_rc sqlite_read_begin(struct store *s, struct herald_err *err)
{
	if (sqlite3_exec(s->h, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return sqlite_fail(s, err, "begin");
	/* A deferred transaction takes its snapshot at the first read. */
	if (sqlite3_exec(s->h, "SELECT 1 FROM internal_meta LIMIT 1", NULL, NULL,
			 NULL) != SQLITE_OK) {
		enum herald_rc rc = sqlite_fail(s, err, "read");
		sqlite3_exec(s->h, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	return H_OK;
}

void sqlite_read_end(struct store *s)
{
	sqlite3_exec(s->h, "COMMIT", NULL, NULL, NULL);
}

static bool has_v2(const struct store *s)
{
	return s->schema >= 2;
}

/* Format-1 table names, as this database has them. */
static const char *v1(const struct store *s, const char *name)
{
	static const char *const mig[][2] = {
		{ "deliveries", "v1_deliveries" }, { "attempts", "v1_attempts" },
		{ "delivery_states", "v1_delivery_states" }, { "acks", "v1_acks" },
		{ "plan_versions", "v1_plan_versions" }, { "events", "v1_events" },
	};
	if (s->legacy == LEGACY_MIGRATED)
		for (size_t i = 0; i < sizeof mig / sizeof mig[0]; i++)
			if (strcmp(mig[i][0], name) == 0)
				return mig[i][1];
	return name;
}

/* {D} {S} {A} {K} {P} {E} become the format-1 table names (store_sqlite.h). */
char *sqlite_v1_sql(const struct store *s, const char *tmpl)
{
	struct buf b;
	buf_init(&b);
	for (const char *p = tmpl; *p; p++) {
		if (p[0] == '{' && p[1] && p[2] == '}') {
			const char *n = p[1] == 'D' ? "deliveries" : p[1] == 'S' ? "delivery_states" :
					p[1] == 'A' ? "attempts" : p[1] == 'K' ? "acks" :
					p[1] == 'P' ? "plan_versions" : "events";
			buf_adds(&b, v1(s, n));
			p += 2;
		} else {
			buf_addc(&b, *p);
		}
	}
	return buf_take(&b);
}

/* ---------------------------------------------------------- deliveries */

/* The columns both parts return, in this order. */
enum {
	C_SEQ, C_FORMAT, C_KEY, C_KIND, C_CREATED, C_DUE, C_OCC, C_OFFSET, C_PLAN,
	C_PLANV, C_COMM, C_TOPIC, C_AUD, C_CHTYPE, C_CHID, C_RCPT, C_RNAME, C_TEXT,
	C_REQBY, C_NOTE, C_ACK, C_PARENT, C_STATE, C_STATE_AT, C_LATE, C_DUP, C_PDUP,
	C_ATTEMPTS, C_DETAIL, C_REPLY, C_ACKED_AT, C_ACKED_BY, C_SENT_AT, C_MID, C_MAILDOM
};

/* RFC 3339 text of format 1 as an instant; UNIXF inside a printf format. */
#define UNIX(x) "CAST(strftime('%s'," x ") AS INTEGER)"
#define UNIXF(x) "CAST(strftime('%%s'," x ") AS INTEGER)"

static char *deliveries_v1_sql(const struct store *s, bool with_text)
{
	bool both = has_v2(s);
	char *tmpl = xasprintf(
		"SELECT d.seq, 1, d.key, d.kind, " UNIXF("d.created_at") ", " UNIXF("d.due") ","
		" " UNIXF("d.occurrence") ", d.notify_offset, d.plan_id, d.plan_version,"
		" d.communication, d.topic, d.audience, d.channel_type, d.channel_id,"
		" d.recipient, d.recipient_name, %s, d.requested_by, d.note, d.ack_id, NULL,"
		" %s, %s,"
		" max(coalesce((SELECT max(late) FROM {S} x WHERE x.delivery=d.key),0)%s),"
		" max(coalesce((SELECT max(duplicate) FROM {S} x WHERE x.delivery=d.key),0)%s),"
		" max(coalesce((SELECT max(possible_duplicate) FROM {A} a WHERE a.delivery=d.key),0)%s),"
		" (SELECT count(*) FROM {A} a WHERE a.delivery=d.key)%s,"
		" %s, %s, %s, %s,"
		" coalesce(" UNIXF("(SELECT at FROM {S} x WHERE x.delivery=d.key AND x.state IN"
				  " ('sent','dry-run') ORDER BY seq LIMIT 1)") "%s),"
		" d.message_id, NULL"
		" FROM {D} d"
		" LEFT JOIN {S} s1 ON s1.seq=(SELECT max(seq) FROM {S} y WHERE y.delivery=d.key)"
		" LEFT JOIN {K} k1 ON k1.seq=(SELECT min(seq) FROM {K} z WHERE z.delivery=d.key)"
		"%s"
		" WHERE (?1 IS NULL OR " UNIXF("d.due") ">=?1) AND (?2 IS NULL OR " UNIXF("d.due") "<?2)"
		" AND (?3 IS NULL OR d.communication=?3) AND (?4 IS NULL OR d.audience=?4)"
		" AND (?5 IS NULL OR d.kind=?5)"
		" ORDER BY d.due, d.seq",
		with_text ? "d.message" : "NULL",
		both ? "coalesce(s2.state, s1.state)" : "s1.state",
		both ? "coalesce(s2.at, " UNIX("s1.at") ")" : UNIX("s1.at"),
		both ? ", coalesce(s2.late,0)" : ", 0",
		both ? ", coalesce(s2.duplicate,0)" : ", 0",
		both ? ", coalesce(s2.possible_duplicate,"
		       " (SELECT max(possible_duplicate) FROM attempts a WHERE a.delivery=d.seq),0)" : ", 0",
		both ? "+(SELECT count(*) FROM attempts a WHERE a.delivery=d.seq)" : "",
		both ? "coalesce(s2.detail, s1.detail)" : "s1.detail",
		both ? "s2.reply" : "NULL",
		both ? "coalesce(" UNIX("k1.at") ", k2.at)" : UNIX("k1.at"),
		both ? "coalesce(k1.person, k2.person)" : "k1.person",
		both ? ", CASE WHEN s2.state IN ('sent','dry-run') THEN s2.at END" : ", NULL",
		both ? " LEFT JOIN delivery_states s2 ON s2.delivery=d.seq"
		       " LEFT JOIN acks k2 ON k2.delivery=d.seq" : "");
	char *sql = sqlite_v1_sql(s, tmpl);
	free(tmpl);
	return sql;
}

static int64_t col_i64(sqlite3_stmt *st, int i)
{
	return sqlite3_column_int64(st, i);
}

/* Runs one part of the delivery query inside the caller's snapshot. */
static enum herald_rc each_delivery_part(struct store *s, const char *sql,
					 const struct store_filter *f,
					 int (*fn)(const struct store_delivery_view *d,
						   void *ctx),
					 void *ctx, bool *stopped,
					 struct herald_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->h, sql, -1, &st, NULL) != SQLITE_OK)
		return sqlite_fail(s, err, "deliveries");
	if (f)
		sqlite_bind_scope(st, f->has_from, f->from, f->has_to, f->to, f->communication,
				  f->audience);
	if (f && f->kind)
		sqlite3_bind_text(st, 5, f->kind, -1, SQLITE_STATIC);
	int r;
	char key[65], ack[TOKEN_ACKID_LEN + 1];
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_delivery_view d = {
			.seq = col_i64(st, C_SEQ),
			.format = (int)col_i64(st, C_FORMAT),
			.kind = sqlite_col_text(st, C_KIND),
			.created_at = col_i64(st, C_CREATED),
			.due = col_i64(st, C_DUE),
			.occurrence = col_i64(st, C_OCC),
			.has_offset = sqlite3_column_type(st, C_OFFSET) != SQLITE_NULL,
			.notify_offset = col_i64(st, C_OFFSET),
			.plan_id = sqlite_col_text(st, C_PLAN),
			.plan_version = sqlite_col_text(st, C_PLANV),
			.communication = sqlite_col_text(st, C_COMM),
			.topic = sqlite_col_text(st, C_TOPIC),
			.audience = sqlite_col_text(st, C_AUD),
			.channel_type = sqlite_col_text(st, C_CHTYPE),
			.channel_id = sqlite_col_text(st, C_CHID),
			.recipient = sqlite_col_text(st, C_RCPT),
			.recipient_name = sqlite_col_text(st, C_RNAME),
			.text = sqlite_col_text(st, C_TEXT),
			.requested_by = sqlite_col_text(st, C_REQBY),
			.note = sqlite_col_text(st, C_NOTE),
			.parent = col_i64(st, C_PARENT),
			.state = sqlite_col_text(st, C_STATE),
			.state_at = col_i64(st, C_STATE_AT),
			.late = col_i64(st, C_LATE) != 0,
			.duplicate = col_i64(st, C_DUP) != 0,
			.possible_duplicate = col_i64(st, C_PDUP) != 0,
			.attempts = col_i64(st, C_ATTEMPTS),
			.detail = sqlite_col_text(st, C_DETAIL),
			.reply = sqlite_col_text(st, C_REPLY),
			.acked_at = col_i64(st, C_ACKED_AT),
			.acked_by = sqlite_col_text(st, C_ACKED_BY),
			.sent_at = col_i64(st, C_SENT_AT),
			.message_id = sqlite_col_text(st, C_MID),
			.mail_domain = sqlite_col_text(st, C_MAILDOM),
		};
		d.key = sqlite_col_hex(st, C_KEY, 32, key);
		d.ackid = sqlite_col_b64(st, C_ACK, 16, ack);
		if (!d.state)
			d.state = "pending";
		if (fn(&d, ctx)) {
			*stopped = true;
			break;
		}
	}
	enum herald_rc rc = r == SQLITE_ROW || r == SQLITE_DONE ? H_OK
								: sqlite_fail(s, err, "deliveries");
	sqlite3_finalize(st);
	return rc;
}

enum herald_rc store_each_delivery(struct store *s, const struct store_filter *f,
				   int (*fn)(const struct store_delivery_view *d,
					     void *ctx),
				   void *ctx, struct store_head *head,
				   struct herald_err *err)
{
	enum herald_rc rc = sqlite_read_begin(s, err);
	if (rc)
		return rc;
	struct store_head h;
	if (!(rc = store_head(s, &h, err)) && head)
		*head = h;
	bool with_text = f && f->with_text, stopped = false;
	/* Format-1 rows first: they are the older ones. */
	if (!rc && s->legacy != LEGACY_NONE) {
		char *sql = deliveries_v1_sql(s, with_text);
		rc = each_delivery_part(s, sql, f, fn, ctx, &stopped, err);
		free(sql);
	}
	if (!rc && !stopped && has_v2(s))
		rc = sqlite_each_delivery_v2(s, f, fn, ctx, &stopped, err);
	sqlite_read_end(s);
	return rc;
}

/* ---------------------------------------------------- delivery ids */

enum herald_rc store_each_delivery_id(struct store *s, enum store_delivery_id which,
				      int (*fn)(const char *id, void *ctx), void *ctx,
				      struct herald_err *err)
{
	const char *col = which == STORE_ID_AUDIENCE ? "audience" : "communication";
	struct buf b;
	buf_init(&b);
	bool any = false;
	if (has_v2(s)) {
		buf_printf(&b, "SELECT m.%s FROM deliveries d JOIN messages m ON m.seq=d.message"
			       " WHERE m.%s IS NOT NULL", col, col);
		any = true;
	}
	if (s->legacy != LEGACY_NONE) {
		char *tmpl = xasprintf("SELECT %s FROM {D} WHERE %s IS NOT NULL", col, col);
		char *q = sqlite_v1_sql(s, tmpl);
		buf_printf(&b, "%s%s", any ? " UNION " : "", q);
		free(q);
		free(tmpl);
		any = true;
	}
	if (!any) {
		buf_free(&b);
		return H_OK;
	}
	/* One part alone has no UNION to make its ids distinct. */
	char *sql = xasprintf("SELECT DISTINCT * FROM (%s) ORDER BY 1", b.data);
	buf_free(&b);
	enum herald_rc rc = sqlite_read_begin(s, err);
	if (rc) {
		free(sql);
		return rc;
	}
	sqlite3_stmt *st;
	int r = sqlite3_prepare_v2(s->h, sql, -1, &st, NULL);
	free(sql);
	if (r != SQLITE_OK) {
		rc = sqlite_fail(s, err, "delivery ids");
		sqlite_read_end(s);
		return rc;
	}
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		if (fn(sqlite_col_text(st, 0), ctx))
			break;
	rc = r == SQLITE_ROW || r == SQLITE_DONE ? H_OK : sqlite_fail(s, err, "delivery ids");
	sqlite3_finalize(st);
	sqlite_read_end(s);
	return rc;
}

/* ------------------------------------------------------- plan versions */

enum herald_rc store_each_plan_version(struct store *s, size_t limit,
				       int (*fn)(const struct store_plan_version_view *v,
						 void *ctx),
				       void *ctx, struct herald_err *err)
{
	struct buf b;
	buf_init(&b);
	buf_adds(&b, "SELECT * FROM (");
	bool any = false;
	if (has_v2(s)) {
		buf_adds(&b, "SELECT p.seq, p.at, p.event, p.plan_id, p.version, lower(hex(p.sha256)),"
			     " p.path, p.approved_by, p.approved_on, p.next_review, p.detail, t.body"
			     " FROM plan_versions p LEFT JOIN texts t ON t.sha256=p.text");
		any = true;
	}
	if (s->legacy != LEGACY_NONE) {
		char *q = sqlite_v1_sql(s, "SELECT seq, " UNIX("at") ", event, plan_id, version, sha256,"
				    " path, approved_by, approved_on, next_review, detail, NULL FROM {P}");
		buf_printf(&b, "%s%s", any ? " UNION ALL " : "", q);
		free(q);
	}
	buf_adds(&b, ") ORDER BY 1 DESC");
	if (limit)
		buf_printf(&b, " LIMIT %zu", limit);
	sqlite3_stmt *st;
	int r = sqlite3_prepare_v2(s->h, b.data, -1, &st, NULL);
	buf_free(&b);
	if (r != SQLITE_OK)
		return sqlite_fail(s, err, "plan versions");
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_plan_version_view v = {
			.seq = col_i64(st, 0), .at = col_i64(st, 1), .event = sqlite_col_text(st, 2),
			.plan_id = sqlite_col_text(st, 3), .version = sqlite_col_text(st, 4),
			.sha256_hex = sqlite_col_text(st, 5), .path = sqlite_col_text(st, 6),
			.approved_by = sqlite_col_text(st, 7), .approved_on = sqlite_col_text(st, 8),
			.next_review = sqlite_col_text(st, 9), .detail = sqlite_col_text(st, 10),
			.text = sqlite_col_text(st, 11),
		};
		if (fn(&v, ctx))
			break;
	}
	enum herald_rc rc = r == SQLITE_ROW || r == SQLITE_DONE ? H_OK
								: sqlite_fail(s, err, "plan versions");
	sqlite3_finalize(st);
	return rc;
}

bool store_plan_seen(struct store *s, const char *plan_id,
		     const unsigned char sha[32])
{
	char hex[65];
	hex_encode(sha, 32, hex);
	bool seen = false;
	sqlite3_stmt *st;
	if (has_v2(s) &&
	    sqlite3_prepare_v2(s->h, "SELECT 1 FROM plan_versions WHERE sha256=? AND plan_id=?"
				     " LIMIT 1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_blob(st, 1, sha, 32, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, plan_id, -1, SQLITE_STATIC);
		seen = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
	}
	if (!seen && s->legacy != LEGACY_NONE) {
		char *q = sqlite_v1_sql(s, "SELECT 1 FROM {P} WHERE sha256=? AND plan_id=? LIMIT 1");
		if (sqlite3_prepare_v2(s->h, q, -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, plan_id, -1, SQLITE_STATIC);
			seen = sqlite3_step(st) == SQLITE_ROW;
			sqlite3_finalize(st);
		}
		free(q);
	}
	return seen;
}

/* ---------------------------------------------------------------- acks */

void store_ack_target_free(struct store_ack_target *t)
{
	char **f[] = { &t->communication, &t->audience, &t->topic, &t->person,
		       &t->plan_id, &t->plan_version, &t->recipient, &t->text, &t->note };
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		xfree(f[i]);
}

static bool ack_fill(sqlite3_stmt *st, struct store_ack_target *t)
{
	if (sqlite3_step(st) != SQLITE_ROW)
		return false;
	t->delivery = col_i64(st, 0);
	t->communication = sqlite_col_dup(st, 1);
	t->audience = sqlite_col_dup(st, 2);
	t->topic = sqlite_col_dup(st, 3);
	t->person = sqlite_col_dup(st, 4);
	t->plan_id = sqlite_col_dup(st, 5);
	t->plan_version = sqlite_col_dup(st, 6);
	t->recipient = sqlite_col_dup(st, 7);
	t->occurrence = col_i64(st, 8);
	t->sent_at = col_i64(st, 9);
	t->acked_at = col_i64(st, 10);
	t->text = sqlite_col_dup(st, 11);
	t->note = sqlite_col_dup(st, 12);
	return true;
}

bool store_ack_lookup(struct store *s, const char *ackid,
		      struct store_ack_target *t, struct herald_err *err)
{
	memset(t, 0, sizeof *t);
	unsigned char ack[16];
	if (!token_ackid_decode(ackid, ack))
		return false;
	sqlite3_stmt *st;
	bool found = false;
	if (has_v2(s)) {
		if (sqlite3_prepare_v2(s->h,
			"SELECT d.seq, m.communication, m.audience, m.topic,"
			" coalesce(d.recipient_name, d.recipient), m.plan_id, m.plan_version,"
			" d.recipient, m.occurrence,"
			" (SELECT min(x.at) FROM deliveries y JOIN delivery_states x ON x.delivery=y.seq"
			"   WHERE y.ack=?1 AND x.state IN ('sent','dry-run')),"
			" (SELECT at FROM acks WHERE ack=?1),"
			" (SELECT body FROM texts WHERE sha256=m.text), m.note"
			" FROM deliveries d JOIN messages m ON m.seq=d.message"
			" WHERE d.ack=?1 ORDER BY d.seq LIMIT 1", -1, &st, NULL) != SQLITE_OK) {
			sqlite_fail(s, err, "ack");
			return false;
		}
		sqlite3_bind_blob(st, 1, ack, 16, SQLITE_STATIC);
		found = ack_fill(st, t);
		sqlite3_finalize(st);
	}
	if (!found && s->legacy != LEGACY_NONE) {
		char *q = sqlite_v1_sql(s,
			"SELECT d.seq, d.communication, d.audience, d.topic,"
			" coalesce(d.recipient_name, d.recipient), d.plan_id, d.plan_version,"
			" d.recipient, " UNIX("d.occurrence") ","
			" " UNIX("(SELECT min(at) FROM {S} x WHERE x.delivery=d.key AND"
				 " x.state IN ('sent','dry-run'))") ","
			" " UNIX("(SELECT min(at) FROM {K} k WHERE k.delivery=d.key)") ","
			" d.message, d.note"
			" FROM {D} d WHERE d.ack_id=?1 ORDER BY d.seq LIMIT 1");
		int r = sqlite3_prepare_v2(s->h, q, -1, &st, NULL);
		free(q);
		if (r != SQLITE_OK) {
			sqlite_fail(s, err, "ack");
			return false;
		}
		sqlite3_bind_text(st, 1, ackid, -1, SQLITE_STATIC);
		found = ack_fill(st, t);
		sqlite3_finalize(st);
		/* A format-1 link acknowledged after the migration. */
		if (found && !t->acked_at && has_v2(s) &&
		    sqlite3_prepare_v2(s->h, "SELECT at FROM acks WHERE ack=?", -1, &st,
				       NULL) == SQLITE_OK) {
			sqlite3_bind_blob(st, 1, ack, 16, SQLITE_STATIC);
			if (sqlite3_step(st) == SQLITE_ROW)
				t->acked_at = col_i64(st, 0);
			sqlite3_finalize(st);
		}
	}
	if (!found)
		store_ack_target_free(t);
	return found;
}

bool store_ack_done(struct store *s, const char *ackid)
{
	/* Asked before every reminder is sent: the acks row answers it, and
	 * only a first-release link needs the whole lookup (its message
	 * included). */
	unsigned char ack[16];
	sqlite3_stmt *st;
	if (has_v2(s) && token_ackid_decode(ackid, ack) &&
	    sqlite3_prepare_v2(s->h, "SELECT 1 FROM acks WHERE ack=?", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_blob(st, 1, ack, 16, SQLITE_STATIC);
		bool done = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
		if (done || s->legacy == LEGACY_NONE)
			return done;
	}
	struct store_ack_target t;
	if (!store_ack_lookup(s, ackid, &t, NULL))
		return false;
	bool done = t.acked_at != 0;
	store_ack_target_free(&t);
	return done;
}

/* ------------------------------------------------------------ each row */

struct cursor {
	const struct ev_table_desc *d;
	sqlite3_stmt *st;
	bool done;
	int64_t seq;
};

static enum herald_rc cursor_step(struct store *s, struct cursor *c,
				  struct herald_err *err)
{
	int r = sqlite3_step(c->st);
	if (r == SQLITE_DONE) {
		c->done = true;
		return H_OK;
	}
	if (r != SQLITE_ROW)
		return sqlite_fail(s, err, c->d->name);
	c->seq = sqlite3_column_int64(c->st, 0);
	return H_OK;
}

static enum herald_rc cursor_open(struct store *s, struct cursor *c,
				  const struct ev_table_desc *d, int64_t after,
				  struct herald_err *err)
{
	c->d = d;
	struct buf b;
	buf_init(&b);
	buf_adds(&b, d->format >= 2 ? "SELECT seq,fmt" : "SELECT seq");
	for (size_t i = 0; i < d->ncolumns; i++)
		buf_printf(&b, ",\"%s\"", d->columns[i]);
	buf_printf(&b, "%s,hash FROM %s WHERE seq>? ORDER BY seq", d->has_prev ? ",prev" : "",
		   d->sql);
	int r = sqlite3_prepare_v2(s->h, b.data, -1, &c->st, NULL);
	buf_free(&b);
	if (r != SQLITE_OK)
		return herald_err_set(err, H_EINVAL, "%s: cannot be read: %s", d->name,
				      sqlite3_errmsg(s->h));
	sqlite3_bind_int64(c->st, 1, after);
	return cursor_step(s, c, err);
}

static const unsigned char *hash_col(sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) != SQLITE_BLOB || sqlite3_column_bytes(st, col) != 32)
		return NULL;
	return sqlite3_column_blob(st, col);
}

/* The current row of c as a store_row. */
static void cursor_row(struct cursor *c, struct ev_value *v, struct store_row *r)
{
	sqlite3_stmt *st = c->st;
	const struct ev_table_desc *d = c->d;
	int first = d->format >= 2 ? 2 : 1;
	r->table = d;
	r->seq = c->seq;
	r->values = v;
	r->bad_column = -1;
	r->bad_format = d->format >= 2 && sqlite3_column_int(st, 1) != d->format
				? sqlite3_column_int(st, 1) : 0;
	for (size_t i = 0; i < d->ncolumns; i++) {
		int col = (int)i + first;
		int type = sqlite3_column_type(st, col);
		enum ev_type want = d->types[i];
		switch (type) {
		case SQLITE_NULL:
			v[i] = EVN;
			continue;
		case SQLITE_INTEGER:
			v[i] = EVI(sqlite3_column_int64(st, col));
			break;
		case SQLITE_TEXT: {
			const char *s = sqlite_col_text(st, col);
			size_t len = (size_t)sqlite3_column_bytes(st, col);
			v[i] = (struct ev_value){ .type = EV_TEXT, .s = s, .len = len };
			/* herald never writes a NUL inside text. */
			if (memchr(s, '\0', len) && r->bad_column < 0)
				r->bad_column = (int)i;
			break;
		}
		case SQLITE_BLOB:
			v[i] = EVB(sqlite3_column_blob(st, col), (size_t)sqlite3_column_bytes(st, col));
			break;
		default:
			v[i] = EVN;
			if (r->bad_column < 0)
				r->bad_column = (int)i;
			continue;
		}
		/* Format 1 had no blobs; format 2 has one type per column. */
		bool ok = d->format < 2 ? v[i].type != EV_BLOB : v[i].type == want;
		if (!ok && r->bad_column < 0)
			r->bad_column = (int)i;
	}
	int pc = first + (int)d->ncolumns;
	r->prev = d->has_prev ? hash_col(st, pc) : NULL;
	r->hash = hash_col(st, pc + (d->has_prev ? 1 : 0));
}

enum herald_rc store_each_row(struct store *s,
			      enum herald_rc (*fn)(const struct store_row *r, void *ctx,
						   struct herald_err *err),
			      void *ctx, struct store_head *recorded,
			      struct herald_err *err)
{
	return store_each_row_after(s, 0, fn, ctx, recorded, err);
}

enum herald_rc store_each_row_after(struct store *s, int64_t after,
				    enum herald_rc (*fn)(const struct store_row *r, void *ctx,
							 struct herald_err *err),
				    void *ctx, struct store_head *recorded,
				    struct herald_err *err)
{
	enum herald_rc rc = sqlite_read_begin(s, err);
	if (rc)
		return rc;
	struct cursor cur[MAX_COLS];
	size_t n = 0;
	memset(cur, 0, sizeof cur);
	rc = store_head(s, recorded, err);
	const struct ev_table_desc *const *all = evfmt_all_tables(s->legacy != LEGACY_PLAIN);
	for (size_t i = 0; !rc && all[i]; i++) {
		if (all[i]->format >= 2 ? !has_v2(s) : s->legacy == LEGACY_NONE)
			continue;
		rc = cursor_open(s, &cur[n++], all[i], after, err);
	}
	struct ev_value v[MAX_COLS];
	while (!rc) {
		struct cursor *c = NULL;
		for (size_t i = 0; i < n; i++)
			if (!cur[i].done && (!c || cur[i].seq < c->seq))
				c = &cur[i];
		if (!c)
			break;
		struct store_row r;
		cursor_row(c, v, &r);
		if ((rc = fn(&r, ctx, err)))
			break;
		rc = cursor_step(s, c, err);
	}
	for (size_t i = 0; i < n; i++)
		sqlite3_finalize(cur[i].st);
	sqlite_read_end(s);
	return rc;
}

bool store_guards_present(struct store *s, char *missing, size_t cap)
{
	const struct ev_table_desc *const *all = evfmt_all_tables(s->legacy != LEGACY_PLAIN);
	for (size_t i = 0; all[i]; i++) {
		if (all[i]->format >= 2 ? !has_v2(s) : s->legacy == LEGACY_NONE)
			continue;
		static const char *const what[] = { "update", "delete" };
		for (int k = 0; k < 2; k++) {
			char name[96];
			/* Format 1 named its triggers after the table as it was then. */
			snprintf(name, sizeof name, all[i]->format >= 2 ? "ev2_%s_no_%s" : "%s_no_%s",
				 all[i]->format >= 2 ? all[i]->sql : all[i]->name, what[k]);
			if (!sqlite_has_object(s, "trigger", name)) {
				snprintf(missing, cap, "%s", name);
				return false;
			}
		}
	}
	return true;
}

enum herald_rc store_row_hash_at(struct store *s, int64_t seq,
				 unsigned char out[32], bool *found,
				 struct herald_err *err)
{
	*found = false;
	const struct ev_table_desc *const *all = evfmt_all_tables(s->legacy != LEGACY_PLAIN);
	for (size_t i = 0; all[i] && !*found; i++) {
		if (all[i]->format >= 2 ? !has_v2(s) : s->legacy == LEGACY_NONE)
			continue;
		char sql[128];
		snprintf(sql, sizeof sql, "SELECT hash FROM %s WHERE seq=?", all[i]->sql);
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(s->h, sql, -1, &st, NULL) != SQLITE_OK)
			return sqlite_fail(s, err, "checkpoint");
		sqlite3_bind_int64(st, 1, seq);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32) {
			memcpy(out, sqlite3_column_blob(st, 0), 32);
			*found = true;
		}
		sqlite3_finalize(st);
	}
	return H_OK;
}

/* -------------------------------------------------------------- copies */

enum herald_rc store_copy(struct store *s, const char *dest,
			  const char *const *omit, struct herald_err *err)
{
	/* Created here, owner-only, so the copy is never readable by others
	 * even for a moment; SQLite takes an empty file as an empty database. */
	int fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return herald_err_set(err, H_ERUNTIME, "copy: %s: %s", dest, strerror(errno));
	close(fd);
	sqlite3 *out = NULL;
	enum herald_rc rc = H_OK;
	if (sqlite3_open_v2(dest, &out, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		rc = herald_err_set(err, H_ERUNTIME, "copy: %s: %s", dest,
				    out ? sqlite3_errmsg(out) : "cannot open");
		goto done;
	}
	/* One step copies a consistent snapshot; in WAL mode writers carry
	 * on meanwhile. */
	sqlite3_backup *bk = sqlite3_backup_init(out, "main", s->h, "main");
	if (!bk) {
		rc = herald_err_set(err, H_ERUNTIME, "copy: %s", sqlite3_errmsg(out));
		goto done;
	}
	int r = sqlite3_backup_step(bk, -1);
	sqlite3_backup_finish(bk);
	if (r != SQLITE_DONE) {
		rc = herald_err_set(err, H_ERUNTIME, "copy: %s", sqlite3_errstr(r));
		goto done;
	}
	/* A copy is one self-contained file, not a WAL database; what it
	 * must not hold is overwritten, not just unlinked from the b-tree. */
	if (sqlite3_exec(out, "PRAGMA journal_mode=DELETE; PRAGMA secure_delete=ON;", NULL,
			 NULL, NULL) != SQLITE_OK) {
		rc = herald_err_set(err, H_ERUNTIME, "copy: %s", sqlite3_errmsg(out));
		goto done;
	}
	for (size_t i = 0; omit && omit[i]; i++) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(out, "DELETE FROM internal_meta WHERE key=?", -1, &st,
				       NULL) != SQLITE_OK) {
			rc = herald_err_set(err, H_ERUNTIME, "copy: %s", sqlite3_errmsg(out));
			goto done;
		}
		sqlite3_bind_text(st, 1, omit[i], -1, SQLITE_STATIC);
		r = sqlite3_step(st);
		sqlite3_finalize(st);
		if (r != SQLITE_DONE) {
			rc = herald_err_set(err, H_ERUNTIME, "copy: %s", sqlite3_errmsg(out));
			goto done;
		}
	}
	if (omit && omit[0] && sqlite3_exec(out, "VACUUM", NULL, NULL, NULL) != SQLITE_OK)
		rc = herald_err_set(err, H_ERUNTIME, "copy: %s", sqlite3_errmsg(out));
done:
	if (out)
		sqlite3_close(out);
	if (rc)
		unlink(dest);
	return rc;
}
