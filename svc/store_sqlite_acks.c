/*
 * store_sqlite_acks.c - the acknowledgement register of store.h on
 * SQLite: one row per ack link (communication, occurrence, person) over
 * every delivery that carried it, and the queued deliveries of one person
 * (a leaver's, to cancel).
 *
 * Format 2 links are grouped by the deliveries' ack column (a reminder
 * carries its original's, or reaches it through parent).  A format-1
 * database gave each delivery its own link and left reminders without
 * one: there a link is one delivery, and its reminders are those of the
 * same communication, occurrence, audience, channel and recipient.
 *
 * A dry run reached no one (docs/delivery.md): a link whose messages were
 * all recorded dry-run, with no reminder really sent, asked nobody and is
 * left out; a message recorded dry-run is no first_sent, no reminder.  A
 * message not yet sent, failed or missed still asks (the register says
 * "not sent"), as before.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "herald/store_sqlite.h"
#include "herald/token.h"
#include "herald/util.h"

enum {
	L_ACK, L_COMM, L_TOPIC, L_AUD, L_NAME, L_EMAIL, L_CHTYPE, L_CHID, L_PLAN,
	L_PLANV, L_KIND, L_OCC, L_FIRST_DUE, L_FIRST_SENT, L_REMINDERS, L_ACKED
};

/* Really sent: never 'dry-run'. */
#define SENT "('sent')"

static const char links_v2[] =
	"WITH x AS ("
	"  SELECT d.seq, coalesce(d.ack, p.ack) AS ack, m.kind, m.due, m.audience,"
	"   s.state, s.at AS state_at"
	"  FROM deliveries d JOIN messages m ON m.seq=d.message"
	"  LEFT JOIN deliveries p ON p.seq=d.parent"
	"  LEFT JOIN delivery_states s ON s.delivery=d.seq"
	"  WHERE (d.ack IS NOT NULL OR p.ack IS NOT NULL)"
	"   AND (?3 IS NULL OR m.communication=?3)),"
	" l AS ("
	"  SELECT ack, min(seq) AS first,"
	/* the first message that was no dry run, if any (a service
	 * switched from --dry-run between notify offsets asked then) */
	"   coalesce(min(CASE WHEN kind<>'reminder' AND state IS NOT 'dry-run' THEN due END),"
	"    min(CASE WHEN kind<>'reminder' THEN due END)) AS first_due,"
	"   min(CASE WHEN kind<>'reminder' AND state IN " SENT " THEN state_at END) AS first_sent,"
	"   sum(CASE WHEN kind='reminder' AND state IN " SENT " THEN 1 ELSE 0 END) AS reminders,"
	"   max(?4 IS NULL OR audience=?4) AS reached,"
	"   max(CASE WHEN kind='reminder' THEN state IS 'sent'"
	"    ELSE state IS NOT 'dry-run' END) AS real"
	"  FROM x GROUP BY ack)"
	" SELECT l.ack, m.communication, m.topic, coalesce(?4, m.audience), d.recipient_name,"
	"  d.recipient, m.channel_type, m.channel_id, m.plan_id, m.plan_version, m.kind,"
	"  m.occurrence, l.first_due, l.first_sent, l.reminders, k.at"
	" FROM l JOIN deliveries d ON d.seq=l.first JOIN messages m ON m.seq=d.message"
	" LEFT JOIN acks k ON k.ack=l.ack"
	" WHERE l.reached AND l.real AND (?1 IS NULL OR l.first_due>=?1) AND (?2 IS NULL OR l.first_due<?2)"
	"  AND (?5 IS NULL OR l.first_due<=?5 OR l.first_sent IS NOT NULL)"
	"  AND (?6=0 OR k.at IS NULL)"
	" ORDER BY m.communication, m.occurrence IS NULL, m.occurrence, coalesce(?4, m.audience),"
	"  coalesce(d.recipient_name, d.recipient), d.recipient, l.first_due, l.ack";

/* RFC 3339 text of format 1 as an instant, inside a printf format. */
#define UNIXF(x) "CAST(strftime('%%s'," x ") AS INTEGER)"

/* A format-1 delivery r reached a state in set: its state in the old
 * tables, or (a migrated database) in the new one. */
#define V1_IN(r, set, v2) \
	"(EXISTS(SELECT 1 FROM {S} y WHERE y.delivery=" r ".key AND y.state IN " set ")" \
	v2 ")"
#define V2_OF_V1_IN(r, set) \
	" OR EXISTS(SELECT 1 FROM delivery_states y2 WHERE y2.delivery=" r ".seq AND" \
	" y2.state IN " set ")"
#define V1_STATE(both, r, set) ((both) ? V1_IN(r, set, V2_OF_V1_IN(r, set)) : V1_IN(r, set, ""))

/* The reminders r of a format-1 link d. */
#define V1_REMINDERS \
	" FROM {D} r WHERE r.kind='reminder'" \
	"   AND r.communication=d.communication AND r.occurrence IS d.occurrence" \
	"   AND r.audience IS d.audience AND r.channel_id=d.channel_id" \
	"   AND r.recipient IS d.recipient AND "

static char *links_v1_sql(const struct store *s)
{
	bool both = s->schema >= 2;
	char *tmpl = xasprintf(
		"SELECT d.ack_id, d.communication, d.topic, d.audience, d.recipient_name,"
		" d.recipient, d.channel_type, d.channel_id, d.plan_id, d.plan_version, d.kind,"
		" " UNIXF("d.occurrence") ", " UNIXF("d.due") ","
		" coalesce(" UNIXF("(SELECT min(y.at) FROM {S} y WHERE y.delivery=d.key AND"
				  " y.state IN " SENT ")") ", %s),"
		" (SELECT count(*)" V1_REMINDERS "%s),"
		" " UNIXF("(SELECT min(k.at) FROM {K} k WHERE k.delivery=d.key)")
		" FROM {D} d WHERE d.ack_id IS NOT NULL AND d.kind<>'reminder'"
		/* a dry run with no reminder really sent asked no one */
		" AND (NOT %s OR EXISTS(SELECT 1" V1_REMINDERS "%s))"
		" AND (?3 IS NULL OR d.communication=?3) AND (?4 IS NULL OR d.audience=?4)"
		" AND (?1 IS NULL OR " UNIXF("d.due") ">=?1) AND (?2 IS NULL OR " UNIXF("d.due") "<?2)"
		" ORDER BY d.communication, d.occurrence IS NULL, d.occurrence, d.audience,"
		" coalesce(d.recipient_name, d.recipient), d.recipient, d.due, d.seq",
		both ? "(SELECT min(y2.at) FROM delivery_states y2 WHERE y2.delivery=d.seq"
		       " AND y2.state IN " SENT ")" : "NULL",
		V1_STATE(both, "r", SENT), V1_STATE(both, "d", "('dry-run')"),
		V1_STATE(both, "r", SENT));
	char *sql = sqlite_v1_sql(s, tmpl);
	free(tmpl);
	return sql;
}

/* A format-1 link acknowledged after the migration has its row in the
 * format-2 acks table, keyed by the decoded id. */
static int64_t v1_acked_later(struct store *s, const char *ackid)
{
	unsigned char raw[16];
	sqlite3_stmt *st;
	if (s->schema < 2 || !token_ackid_decode(ackid, raw) ||
	    sqlite3_prepare_v2(s->h, "SELECT at FROM acks WHERE ack=?", -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_blob(st, 1, raw, 16, SQLITE_STATIC);
	int64_t at = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return at;
}

static enum herald_rc each_link_part(struct store *s, const char *sql, int format,
				     const struct store_ack_filter *f,
				     int (*fn)(const struct store_ack_link *l, void *ctx),
				     void *ctx, bool *stopped, struct herald_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->h, sql, -1, &st, NULL) != SQLITE_OK)
		return sqlite_fail(s, err, "acknowledgement register");
	if (f)
		sqlite_bind_scope(st, f->has_from, f->from, f->has_to, f->to, f->communication,
				  f->audience);
	if (f && f->has_due_by)
		sqlite3_bind_int64(st, 5, f->due_by);
	if (format == 2)
		sqlite3_bind_int(st, 6, f && f->outstanding);
	int r;
	char ack[TOKEN_ACKID_LEN + 1];
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_ack_link l = {
			.format = format,
			.communication = sqlite_col_text(st, L_COMM),
			.topic = sqlite_col_text(st, L_TOPIC),
			.audience = sqlite_col_text(st, L_AUD),
			.name = sqlite_col_text(st, L_NAME),
			.email = sqlite_col_text(st, L_EMAIL),
			.channel_type = sqlite_col_text(st, L_CHTYPE),
			.channel_id = sqlite_col_text(st, L_CHID),
			.plan_id = sqlite_col_text(st, L_PLAN),
			.plan_version = sqlite_col_text(st, L_PLANV),
			.kind = sqlite_col_text(st, L_KIND),
			.has_occurrence = sqlite3_column_type(st, L_OCC) != SQLITE_NULL,
			.occurrence = sqlite3_column_int64(st, L_OCC),
			.first_due = sqlite3_column_int64(st, L_FIRST_DUE),
			.first_sent = sqlite3_column_int64(st, L_FIRST_SENT),
			.reminders = sqlite3_column_int64(st, L_REMINDERS),
			.acked_at = sqlite3_column_int64(st, L_ACKED),
		};
		l.ackid = sqlite_col_b64(st, L_ACK, 16, ack);
		if (format == 1 && !l.acked_at && l.ackid)
			l.acked_at = v1_acked_later(s, l.ackid);
		if (format == 1 && f && f->outstanding && l.acked_at)
			continue;
		if (format == 1 && f && f->has_due_by && l.first_due > f->due_by && !l.first_sent)
			continue;
		if (fn(&l, ctx)) {
			*stopped = true;
			break;
		}
	}
	enum herald_rc rc = r == SQLITE_ROW || r == SQLITE_DONE
		? H_OK : sqlite_fail(s, err, "acknowledgement register");
	sqlite3_finalize(st);
	return rc;
}

enum herald_rc store_each_ack_link(struct store *s, const struct store_ack_filter *f,
				   int (*fn)(const struct store_ack_link *l, void *ctx),
				   void *ctx, struct store_head *head,
				   struct herald_err *err)
{
	enum herald_rc rc = sqlite_read_begin(s, err);
	if (rc)
		return rc;
	struct store_head h;
	if (!(rc = store_head(s, &h, err)) && head)
		*head = h;
	bool stopped = false;
	if (!rc && s->legacy != LEGACY_NONE) {
		char *sql = links_v1_sql(s);
		rc = each_link_part(s, sql, 1, f, fn, ctx, &stopped, err);
		free(sql);
	}
	if (!rc && !stopped && s->schema >= 2)
		rc = each_link_part(s, links_v2, 2, f, fn, ctx, &stopped, err);
	sqlite_read_end(s);
	return rc;
}

/* ------------------------------------------------------------ leavers */

enum herald_rc store_outbox_queued_to(struct store *s, const char *audience,
				      const char *recipient, struct store_queued **out,
				      size_t *n, struct herald_err *err)
{
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->h,
		"SELECT q.delivery, q.recorded, q.flagged FROM internal_queue q"
		" JOIN deliveries d ON d.seq=q.delivery JOIN messages m ON m.seq=d.message"
		" WHERE q.queue='pending' AND m.audience=?1 AND d.recipient=?2 COLLATE NOCASE"
		" ORDER BY q.delivery", -1, &st, NULL) != SQLITE_OK)
		return sqlite_fail(s, err, "outbox");
	sqlite3_bind_text(st, 1, audience, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, recipient, -1, SQLITE_STATIC);
	int r;
	struct store_queued *v = NULL;
	size_t k = 0;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		v = xreallocarray(v, k + 1, sizeof *v);
		v[k++] = (struct store_queued){
			.delivery = sqlite3_column_int64(st, 0),
			.recorded = sqlite3_column_int(st, 1),
			.flagged = sqlite3_column_int(st, 2) != 0,
		};
	}
	enum herald_rc rc = r == SQLITE_DONE ? H_OK : sqlite_fail(s, err, "outbox");
	sqlite3_finalize(st);
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	*n = k;
	return H_OK;
}
