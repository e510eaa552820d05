/*
 * outbox.c - deliveries written before they are sent, claims, attempts
 * and final states (see outbox.h for the life of a delivery).
 */
#include "herald/clock.h"
#include "herald/outbox.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/db.h"
#include "herald/log.h"
#include "herald/plan.h"
#include "herald/sched.h"
#include "herald/template.h"
#include "herald/timeutil.h"
#include "herald/token.h"
#include "herald/tz.h"
#include "herald/util.h"

/* ------------------------------------------------------------ policy */

static int64_t env_int(const char *name, int64_t def, int64_t min, int64_t max)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return def;
	char *end;
	long long x = strtoll(v, &end, 10);
	if (*end || x < min || x > max)
		return def;
	return x;
}

void outbox_policy_default(struct outbox_policy *p)
{
	p->max_attempts = (int)env_int("HERALD_RETRY_MAX_ATTEMPTS", 8, 1, 100);
	p->base_ms = env_int("HERALD_RETRY_BASE_MS", 10000, 1, 3600000);
	p->cap_ms = 3600000;
	if (p->cap_ms < p->base_ms)
		p->cap_ms = p->base_ms;
	p->max_age = env_int("HERALD_RETRY_MAX_AGE", 86400, 1, 30 * 86400);
	p->grace = env_int("HERALD_GRACE_SECONDS", 43200, 0, 30 * 86400);
	p->late_after = 120;
	p->horizon = 2 * 86400;
}

int64_t outbox_backoff_ms(const struct outbox_policy *p, int n, uint32_t rnd)
{
	int64_t d = p->base_ms;
	for (int i = 1; i < n && d < p->cap_ms; i++)
		d *= 2;
	if (d > p->cap_ms)
		d = p->cap_ms;
	/* "equal jitter": half fixed, half random, so receivers recovering
	 * from an outage are not hit by every sender at once. */
	int64_t half = d / 2;
	return half + (half ? (int64_t)(rnd % (uint64_t)(half + 1)) : 0);
}

void outbox_key(const char *plan_id, const char *communication,
		const char *occurrence, int64_t offset, const char *kind,
		const char *audience, const char *channel, const char *recipient,
		char out[65])
{
	struct buf b;
	buf_init(&b);
	char off[32];
	snprintf(off, sizeof off, "%lld", (long long)offset);
	const char *f[] = { "herald-delivery-v1", plan_id, communication, occurrence,
			    off, kind, audience, channel, recipient };
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		if (f[i])
			buf_adds(&b, f[i]);
		buf_addc(&b, '\0');
	}
	unsigned char h[32];
	sha256(b.data, b.len, h);
	hex_encode(h, 32, out);
	buf_free(&b);
}

void outbox_local_time(const struct plan *p, const struct plan_comm *c,
		       int64_t instant, char *out, size_t n)
{
	static const char *const wd[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
	static const char *const mo[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	const struct tz *z = c ? plan_comm_tz(p, c) : p->tz;
	int64_t wall = z ? tz_instant_to_wall(z, instant) : instant;
	struct civil cv;
	secs_to_civil(wall, &cv);
	int64_t days = wall >= 0 ? wall / 86400 : (wall - 86399) / 86400;
	snprintf(out, n, "%s %d %s %04d %02d:%02d (%s)", wd[weekday_from_days(days)],
		 cv.day, mo[cv.month - 1], cv.year, cv.hour, cv.min,
		 z ? tz_name(z) : "UTC");
}

/* ------------------------------------------------------------ creation */

struct target {
	const struct plan_audience *a;
	const struct plan_channel *ch;
	const char *recipient, *recipient_name;
};

typedef enum herald_rc (*target_fn)(const struct target *t, void *ctx);

/* Every (audience, channel, recipient) communication c goes to. */
static enum herald_rc each_target(const struct plan *p, const struct plan_comm *c,
				  target_fn fn, void *ctx)
{
	for (size_t i = 0; i < c->naudiences; i++) {
		const struct plan_audience *a = &p->audiences[c->audiences[i]];
		for (size_t d = 0; d < a->ndeliver; d++) {
			const struct plan_deliver *dl = &a->deliver[d];
			if (!plan_comm_uses_channel(c, dl->channel))
				continue;
			struct target t = { a, &p->channels[dl->channel], NULL, NULL };
			enum herald_rc rc = H_OK;
			switch (dl->to) {
			case TO_CHANNEL:
				rc = fn(&t, ctx);
				break;
			case TO_LIST:
				for (size_t k = 0; !rc && k < dl->naddrs; k++) {
					t.recipient = dl->addrs[k];
					rc = fn(&t, ctx);
				}
				break;
			case TO_MEMBERS:
				for (size_t k = 0; !rc && k < a->nmembers; k++) {
					t.recipient = a->members[k].email;
					t.recipient_name = a->members[k].name;
					rc = fn(&t, ctx);
				}
				break;
			}
			if (rc)
				return rc;
		}
	}
	return H_OK;
}

struct creator {
	struct db *db;
	const struct plan *p;
	const struct plan_comm *c;
	sqlite3_stmt *exists, *ins;
	const char *kind;            /* "scheduled" / "manual" */
	const char *key_kind;        /* kind part of the key */
	const char *occurrence;      /* RFC 3339 UTC or NULL */
	int64_t start, end;          /* 0 when manual */
	bool has_offset;
	int64_t offset;
	int64_t due;
	const char *requested_by, *note, *queue;
	char created_at[32];
	size_t created;
	struct herald_err *err;
	char **keys;                 /* manual: keys created */
	size_t nkeys;
};

static bool key_exists(struct creator *cr, const char *key)
{
	sqlite3_reset(cr->exists);
	sqlite3_bind_text(cr->exists, 1, key, -1, SQLITE_STATIC);
	return sqlite3_step(cr->exists) == SQLITE_ROW;
}

static void render(struct creator *cr, const struct target *t, bool reminder,
		   struct buf *out)
{
	const struct plan *p = cr->p;
	const struct plan_comm *c = cr->c;
	char s[80] = "", e[80] = "";
	if (cr->start) {
		outbox_local_time(p, c, cr->start, s, sizeof s);
		outbox_local_time(p, c, cr->end, e, sizeof e);
	} else {
		snprintf(s, sizeof s, "now (%s)", cr->kind);
	}
	/* The ack link is kept as the placeholder in the evidence (a link is
	 * a capability: it does not belong in exports) and filled in when
	 * the message is sent. */
	struct template_vars v = {
		.topic = c->topic, .description = c->description,
		.audience = t->a->name ? t->a->name : t->a->id, .owner = c->owner,
		.start = s, .end = cr->start ? e : "",
		.plan = p->title ? p->title : p->id, .plan_version = p->version,
		.communication = c->id, .ack_url = c->acknowledge ? "{{ack_url}}" : NULL,
	};
	if (reminder)
		buf_adds(out, "Reminder: you have not acknowledged this yet.\n\n");
	template_render(c->message ? c->message : template_default(c->acknowledge), &v, out);
}

/* Inserts one delivery; false if it existed. */
static enum herald_rc insert_one(struct creator *cr, const struct target *t,
				 const char *kind, const char *key_kind,
				 int64_t due, const char *parent, bool *made,
				 struct herald_err *err)
{
	char key[65];
	outbox_key(cr->p->id, cr->c->id, cr->occurrence, cr->has_offset ? cr->offset : 0,
		   key_kind, t->a->id, t->ch->id, t->recipient, key);
	*made = false;
	if (key_exists(cr, key))
		return H_OK;
	struct buf msg;
	buf_init(&msg);
	render(cr, t, parent != NULL, &msg);
	char ackid[TOKEN_ACKID_LEN + 1];
	bool ack = cr->c->acknowledge && !parent;
	if (ack)
		token_ackid(key, ackid);
	char mid[200] = "";
	if (t->ch->type == CHAN_EMAIL) {
		const char *at = t->ch->from ? strrchr(t->ch->from, '@') : NULL;
		char dom[120] = "herald.invalid";
		if (at) {
			snprintf(dom, sizeof dom, "%s", at + 1);
			dom[strcspn(dom, ">\" ")] = '\0';
		}
		snprintf(mid, sizeof mid, "<%.32s.herald@%s>", key, dom);
	}
	char due_s[32];
	format_rfc3339_utc(due, due_s, sizeof due_s);
	struct ev_value v[] = {
		EVS(key), EVS(cr->created_at), EVS(kind), EVS(cr->p->id),
		EVS(cr->p->version), EVS(cr->p->sha256), EVS(cr->c->id),
		EVS(cr->c->topic), EVS(cr->occurrence),
		cr->has_offset ? EVI(cr->offset) : EVN, EVS(t->a->id),
		EVS(chan_type_name(t->ch->type)), EVS(t->ch->id), EVS(t->recipient),
		EVS(t->recipient_name), EVS(msg.data), EVS(due_s),
		EVS(mid[0] ? mid : NULL), EVS(ack ? ackid : NULL),
		EVS(cr->requested_by), EVS(cr->note),
	};
	enum herald_rc rc = db_append(cr->db, EV_DELIVERIES, v, sizeof v / sizeof v[0],
				      NULL, err);
	buf_free(&msg);
	if (rc)
		return rc;
	sqlite3_reset(cr->ins);
	sqlite3_bind_text(cr->ins, 1, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(cr->ins, 2, due);
	sqlite3_bind_int64(cr->ins, 3, due);
	/* Reminders fall due days later: the service sends them, whoever
	 * queued the original. */
	sqlite3_bind_text(cr->ins, 4, parent ? "pending" : cr->queue, -1, SQLITE_STATIC);
	if (parent)
		sqlite3_bind_text(cr->ins, 5, parent, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(cr->ins, 5);
	if (sqlite3_step(cr->ins) != SQLITE_DONE)
		return herald_err_set(err, H_ERUNTIME, "database: outbox: %s",
				      sqlite3_errmsg(db_handle(cr->db)));
	*made = true;
	cr->created++;
	if (cr->keys && !parent) {
		cr->keys = xreallocarray(cr->keys, cr->nkeys + 1, sizeof *cr->keys);
		cr->keys[cr->nkeys++] = xstrdup(key);
	}
	if (parent)
		return H_OK;
	/* Reminders to whoever has not acknowledged, each its own delivery. */
	for (size_t i = 0; cr->c->acknowledge && i < cr->c->nremind; i++) {
		char kk[64];
		snprintf(kk, sizeof kk, "reminder:%zu:%s", i + 1, key_kind);
		bool m2;
		rc = insert_one(cr, t, "reminder", kk, due + cr->c->remind_after[i], key,
				&m2, err);
		if (rc)
			return rc;
	}
	return H_OK;
}

static enum herald_rc on_target(const struct target *t, void *ctx)
{
	struct creator *cr = ctx;
	bool made;
	return insert_one(cr, t, cr->kind, cr->key_kind, cr->due, NULL, &made, cr->err);
}

static enum herald_rc creator_open(struct creator *cr, struct herald_err *err)
{
	sqlite3 *h = db_handle(cr->db);
	format_rfc3339_utc(clock_now(), cr->created_at, sizeof cr->created_at);
	if (sqlite3_prepare_v2(h, "SELECT 1 FROM deliveries WHERE key=?", -1,
			       &cr->exists, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(h, "INSERT INTO internal_outbox(key,due,next_at,attempts,"
				  "state,inflight_since,parent) VALUES(?,?,?,0,?,NULL,?)",
			       -1, &cr->ins, NULL) != SQLITE_OK) {
		sqlite3_finalize(cr->exists);
		return herald_err_set(err, H_ERUNTIME, "database: %s", sqlite3_errmsg(h));
	}
	return H_OK;
}

static void creator_close(struct creator *cr)
{
	sqlite3_finalize(cr->exists);
	sqlite3_finalize(cr->ins);
}

struct mat_ctx {
	struct creator *cr;
	int64_t from, to;
	enum herald_rc rc;
	struct herald_err *err;
};

static int on_occurrence(const struct occurrence *o, void *ctx)
{
	struct mat_ctx *m = ctx;
	struct creator *cr = m->cr;
	char occ[32];
	format_rfc3339_utc(o->start, occ, sizeof occ);
	size_t nn = cr->c->nnotify;
	const int64_t *offs = cr->c->notify;
	for (size_t i = 0; i < nn; i++) {
		int64_t due = o->start - offs[i];
		if (due < m->from || due >= m->to)
			continue;
		cr->occurrence = occ;
		cr->start = o->start;
		cr->end = o->end;
		cr->has_offset = true;
		cr->offset = offs[i];
		cr->due = due;
		m->rc = each_target(cr->p, cr->c, on_target, cr);
		if (m->rc)
			return 1;
	}
	return 0;
}

enum herald_rc outbox_materialise(struct db *db, const struct plan *p,
				  int64_t from, int64_t to, size_t *created,
				  struct herald_err *err)
{
	struct creator cr = { .db = db, .p = p, .kind = "scheduled",
			      .key_kind = "scheduled", .queue = "pending", .err = err };
	enum herald_rc rc = db_begin(db, err);
	if (rc)
		return rc;
	rc = creator_open(&cr, err);
	if (rc) {
		db_rollback(db);
		return rc;
	}
	for (size_t i = 0; !rc && i < p->ncomms; i++) {
		const struct plan_comm *c = &p->comms[i];
		if (c->sched.kind == SCHED_MANUAL || c->nnotify == 0)
			continue;
		int64_t maxoff = 0;
		for (size_t k = 0; k < c->nnotify; k++)
			if (c->notify[k] > maxoff)
				maxoff = c->notify[k];
		cr.c = c;
		struct mat_ctx m = { &cr, from, to, H_OK, err };
		/* an occurrence starting in [from, to + maxoff) can fall due in
		 * [from, to) */
		int r = sched_expand(&c->sched, from, to + maxoff, on_occurrence, &m);
		if (m.rc)
			rc = m.rc;
		else if (r < 0)
			rc = herald_err_set(err, H_EINVAL, "communication %s: schedule too long to expand",
					    c->id);
	}
	creator_close(&cr);
	free(cr.keys);
	if (rc) {
		db_rollback(db);
		return rc;
	}
	rc = db_commit(db, err);
	if (!rc && created)
		*created = cr.created;
	return rc;
}

enum herald_rc outbox_create_manual(struct db *db, const struct plan *p,
				    const struct plan_comm *c, int64_t now,
				    const char *requested_by, const char *note,
				    const char *queue, char ***keys, size_t *n,
				    struct herald_err *err)
{
	unsigned char rnd[16];
	random_bytes(rnd, sizeof rnd);
	char req[33], kk[64];
	hex_encode(rnd, sizeof rnd, req);
	snprintf(kk, sizeof kk, "manual:%s", req);
	struct creator cr = { .db = db, .p = p, .c = c, .kind = "manual", .key_kind = kk,
			      .queue = queue, .due = now, .requested_by = requested_by,
			      .note = note, .err = err };
	/* A scheduled communication sent by hand speaks of its next
	 * occurrence (its time in the message, the calendar attachment). */
	char occ[32];
	struct occurrence o;
	if (c->sched.kind != SCHED_MANUAL && sched_next(&c->sched, now, &o)) {
		format_rfc3339_utc(o.start, occ, sizeof occ);
		cr.occurrence = occ;
		cr.start = o.start;
		cr.end = o.end;
	}
	cr.keys = xmalloc(sizeof *cr.keys);
	enum herald_rc rc = db_begin(db, err);
	if (rc) {
		free(cr.keys);
		return rc;
	}
	rc = creator_open(&cr, err);
	if (!rc) {
		rc = each_target(p, c, on_target, &cr);
		creator_close(&cr);
	}
	if (!rc)
		rc = db_commit(db, err);
	else
		db_rollback(db);
	if (rc) {
		for (size_t i = 0; i < cr.nkeys; i++)
			free(cr.keys[i]);
		free(cr.keys);
		return rc;
	}
	*keys = cr.keys;
	*n = cr.nkeys;
	return H_OK;
}

/* ------------------------------------------------------------ claims */

void outbox_item_free(struct outbox_item *it)
{
	if (!it)
		return;
	char **f[] = { &it->key, &it->kind, &it->plan_id, &it->plan_version,
		       &it->communication, &it->topic, &it->occurrence, &it->audience,
		       &it->channel_type, &it->channel_id, &it->recipient,
		       &it->recipient_name, &it->message, &it->message_id, &it->ack_id,
		       &it->parent, &it->parent_ack_id, &it->queue };
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		free(*f[i]);
	free(it);
}

static char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return s ? xstrdup((const char *)s) : NULL;
}

static enum herald_rc sqlerr(struct db *db, struct herald_err *err, const char *what)
{
	return herald_err_set(err, H_ERUNTIME, "database: %s: %s", what,
			      sqlite3_errmsg(db_handle(db)));
}

static enum herald_rc set_state(struct db *db, const char *key, const char *state,
				struct herald_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db_handle(db),
			       "UPDATE internal_outbox SET state=?, inflight_since=NULL WHERE key=?",
			       -1, &st, NULL) != SQLITE_OK)
		return sqlerr(db, err, "outbox");
	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? H_OK : sqlerr(db, err, "outbox");
}

static enum herald_rc final_state(struct db *db, const char *key, int64_t at,
				  const char *state, bool late, bool dup,
				  const char *detail, struct herald_err *err)
{
	char at_s[32];
	format_rfc3339_utc(at, at_s, sizeof at_s);
	struct ev_value v[] = { EVS(key), EVS(at_s), EVS(state), EVI(late ? 1 : 0),
				EVI(dup ? 1 : 0), EVS(detail) };
	enum herald_rc rc = db_append(db, EV_DELIVERY_STATES, v, 6, NULL, err);
	return rc ? rc : set_state(db, key, state, err);
}

static bool parent_acked(struct db *db, const char *parent)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db_handle(db), "SELECT 1 FROM acks WHERE delivery=? LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(st, 1, parent, -1, SQLITE_STATIC);
	bool r = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return r;
}

enum herald_rc outbox_claim(struct db *db, const char *queue, int64_t now,
			    size_t max, const struct outbox_policy *pol,
			    struct outbox_item ***items_out, size_t *n_out,
			    struct herald_err *err)
{
	*items_out = NULL;
	*n_out = 0;
	enum herald_rc rc = db_begin(db, err);
	if (rc)
		return rc;
	sqlite3 *h = db_handle(db);
	sqlite3_stmt *sel = NULL, *upd = NULL, *cnt = NULL;
	if (sqlite3_prepare_v2(h,
		"SELECT o.key, o.due, o.attempts, o.parent, d.kind, d.plan_id, d.plan_version,"
		" d.communication, d.topic, d.occurrence, d.audience, d.channel_type,"
		" d.channel_id, d.recipient, d.recipient_name, d.message, d.message_id,"
		" d.ack_id, (SELECT p.ack_id FROM deliveries p WHERE p.key=o.parent)"
		" FROM internal_outbox o JOIN deliveries d ON d.key=o.key"
		" WHERE o.state=? AND o.next_at<=? ORDER BY o.next_at, o.due LIMIT ?",
		-1, &sel, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(h,
		"UPDATE internal_outbox SET state=?, inflight_since=?, attempts=attempts+1"
		" WHERE key=?", -1, &upd, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(h,
		"SELECT count(*), coalesce(max(possible_duplicate),0) FROM attempts"
		" WHERE delivery=?", -1, &cnt, NULL) != SQLITE_OK) {
		rc = sqlerr(db, err, "claim");
		goto out;
	}
	char inflight[96];
	snprintf(inflight, sizeof inflight, "%s%s", strcmp(queue, "pending") == 0 ? "inflight" : "inflight:",
		 strcmp(queue, "pending") == 0 ? "" : queue);
	sqlite3_bind_text(sel, 1, queue, -1, SQLITE_STATIC);
	sqlite3_bind_int64(sel, 2, now);
	sqlite3_bind_int64(sel, 3, (sqlite3_int64)max);
	struct outbox_item **items = NULL;
	size_t n = 0;
	int r;
	while ((r = sqlite3_step(sel)) == SQLITE_ROW) {
		struct outbox_item *it = xcalloc(1, sizeof *it);
		it->key = col(sel, 0);
		it->due = sqlite3_column_int64(sel, 1);
		int claims = sqlite3_column_int(sel, 2);
		it->parent = col(sel, 3);
		it->kind = col(sel, 4);
		it->plan_id = col(sel, 5);
		it->plan_version = col(sel, 6);
		it->communication = col(sel, 7);
		it->topic = col(sel, 8);
		it->occurrence = col(sel, 9);
		it->audience = col(sel, 10);
		it->channel_type = col(sel, 11);
		it->channel_id = col(sel, 12);
		it->recipient = col(sel, 13);
		it->recipient_name = col(sel, 14);
		it->message = col(sel, 15);
		it->message_id = col(sel, 16);
		it->ack_id = col(sel, 17);
		it->parent_ack_id = col(sel, 18);
		it->queue = xstrdup(queue);
		sqlite3_reset(cnt);
		sqlite3_bind_text(cnt, 1, it->key, -1, SQLITE_STATIC);
		int recorded = 0, flagged = 0;
		if (sqlite3_step(cnt) == SQLITE_ROW) {
			recorded = sqlite3_column_int(cnt, 0);
			flagged = sqlite3_column_int(cnt, 1);
		}
		sqlite3_reset(cnt);
		it->possible_duplicate = claims > recorded;
		it->was_duplicate = flagged || it->possible_duplicate;
		it->attempt = claims + 1;
		it->started = now;
		if (claims == 0 && now - it->due > pol->grace) {
			char why[96];
			snprintf(why, sizeof why, "fell due %lld s before it could be sent "
				 "(grace %lld s)", (long long)(now - it->due), (long long)pol->grace);
			rc = final_state(db, it->key, now, "missed", true, false, why, err);
			log_event(LOG_WARN, "delivery.missed", "%s audience=%s channel=%s delivery=%.12s: %s",
				it->communication, it->audience, it->channel_id, it->key, why);
			outbox_item_free(it);
			if (rc)
				break;
			continue;
		}
		if (it->parent && parent_acked(db, it->parent)) {
			rc = final_state(db, it->key, now, "cancelled", false, false,
					 "the original message was acknowledged", err);
			outbox_item_free(it);
			if (rc)
				break;
			continue;
		}
		sqlite3_reset(upd);
		sqlite3_bind_text(upd, 1, inflight, -1, SQLITE_STATIC);
		sqlite3_bind_int64(upd, 2, now);
		sqlite3_bind_text(upd, 3, it->key, -1, SQLITE_STATIC);
		if (sqlite3_step(upd) != SQLITE_DONE) {
			rc = sqlerr(db, err, "claim");
			outbox_item_free(it);
			break;
		}
		items = xreallocarray(items, n + 1, sizeof *items);
		items[n++] = it;
	}
	if (!rc && r != SQLITE_DONE && r != SQLITE_ROW)
		rc = sqlerr(db, err, "claim");
	sqlite3_finalize(sel);
	sel = NULL;
	if (!rc) {
		sqlite3_finalize(upd);
		sqlite3_finalize(cnt);
		upd = cnt = NULL;
		rc = db_commit(db, err);
	}
	if (rc) {
		for (size_t i = 0; i < n; i++)
			outbox_item_free(items[i]);
		free(items);
		goto done;
	}
	*items_out = items;
	*n_out = n;
	goto done;
out:
	db_rollback(db);
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	sqlite3_finalize(cnt);
	return rc;
done:
	if (rc && upd) {
		sqlite3_finalize(upd);
		sqlite3_finalize(cnt);
		db_rollback(db);
	}
	return rc;
}

/* ------------------------------------------------------------ records */

enum herald_rc outbox_record(struct db *db, struct outbox_result *res, size_t n,
			     const struct outbox_policy *pol, struct herald_err *err)
{
	if (n == 0)
		return H_OK;
	enum herald_rc rc = db_begin(db, err);
	if (rc)
		return rc;
	sqlite3_stmt *retry = NULL;
	if (sqlite3_prepare_v2(db_handle(db),
			       "UPDATE internal_outbox SET state=?, next_at=?, inflight_since=NULL"
			       " WHERE key=?", -1, &retry, NULL) != SQLITE_OK) {
		rc = sqlerr(db, err, "record");
		db_rollback(db);
		return rc;
	}
	for (size_t i = 0; !rc && i < n; i++) {
		struct outbox_result *r = &res[i];
		struct outbox_item *it = r->item;
		char st[32], fin[32];
		format_rfc3339_utc(it->started, st, sizeof st);
		format_rfc3339_utc(r->finished, fin, sizeof fin);
		const char *outcome = r->o.dry_run ? "dry-run" : chan_result_name(r->o.result);
		struct ev_value v[] = {
			EVS(it->key), EVI(it->attempt), EVS(st), EVS(fin), EVS(outcome),
			r->o.status ? EVI(r->o.status) : EVN,
			EVS(r->o.reply[0] ? r->o.reply : NULL),
			EVS(r->o.error[0] ? r->o.error : NULL), EVI(r->o.latency_ms),
			EVI(it->possible_duplicate ? 1 : 0),
		};
		rc = db_append(db, EV_ATTEMPTS, v, sizeof v / sizeof v[0], NULL, err);
		if (rc)
			break;
		bool late = r->finished - it->due > pol->late_after;
		r->final = NULL;
		if (r->o.result == CHAN_OK) {
			r->final = "sent";
			/* A rehearsal is evidence of what would have gone out, never of
			 * a message sent: its state says so. */
			rc = final_state(db, it->key, r->finished, r->o.dry_run ? "dry-run" : "sent",
					 late, it->was_duplicate,
					 r->o.dry_run ? "dry-run: recorded, not sent" : NULL, err);
			continue;
		}
		bool give_up = r->o.result == CHAN_PERM || it->attempt >= pol->max_attempts ||
			       r->finished - it->due > pol->max_age;
		if (give_up) {
			char why[400];
			snprintf(why, sizeof why, "%s after %d attempt%s: %s",
				 r->o.result == CHAN_PERM ? "refused" : "gave up", it->attempt,
				 it->attempt == 1 ? "" : "s", r->o.error[0] ? r->o.error : outcome);
			r->final = "failed";
			rc = final_state(db, it->key, r->finished, "failed", late, it->was_duplicate,
					 why, err);
			continue;
		}
		uint32_t rnd;
		random_bytes((unsigned char *)&rnd, sizeof rnd);
		int64_t delay = outbox_backoff_ms(pol, it->attempt, rnd);
		/* next_at is in whole seconds: round up, and a Retry-After gets
		 * one second more, so the wait is never shorter than asked. */
		if (r->o.retry_after >= 0 && (r->o.retry_after + 1) * 1000 > delay)
			delay = (r->o.retry_after + 1) * 1000;
		r->next_at = r->finished + (delay + 999) / 1000;
		sqlite3_reset(retry);
		sqlite3_bind_text(retry, 1, it->queue, -1, SQLITE_STATIC);
		sqlite3_bind_int64(retry, 2, r->next_at);
		sqlite3_bind_text(retry, 3, it->key, -1, SQLITE_STATIC);
		if (sqlite3_step(retry) != SQLITE_DONE)
			rc = sqlerr(db, err, "record");
	}
	sqlite3_finalize(retry);
	if (rc) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db, err);
}

enum herald_rc outbox_recover(struct db *db, int64_t now, struct herald_err *err)
{
	enum herald_rc rc = db_begin(db, err);
	if (rc)
		return rc;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db_handle(db),
			       "UPDATE internal_outbox SET state='pending', next_at=?1,"
			       " inflight_since=NULL WHERE state='inflight'"
			       " OR ((state LIKE 'cli:%' OR state LIKE 'inflight:cli:%')"
			       "     AND coalesce(inflight_since, next_at) < ?1 - 3600)",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = sqlerr(db, err, "recover");
		db_rollback(db);
		return rc;
	}
	sqlite3_bind_int64(st, 1, now);
	int r = sqlite3_step(st);
	int changed = sqlite3_changes(db_handle(db));
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		rc = sqlerr(db, err, "recover");
		db_rollback(db);
		return rc;
	}
	rc = db_commit(db, err);
	if (!rc && changed)
		log_event(LOG_WARN, "outbox.recovered", "%d deliver%s in flight at the last stop will be "
			"sent again, flagged as possible duplicates", changed,
			changed == 1 ? "y was" : "ies were");
	return rc;
}

enum herald_rc outbox_release(struct db *db, const char *queue,
			      const char *const *keys, size_t n,
			      struct herald_err *err)
{
	enum herald_rc rc = db_begin(db, err);
	if (rc)
		return rc;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db_handle(db),
			       "UPDATE internal_outbox SET state=?, attempts=attempts-1,"
			       " inflight_since=NULL WHERE key=?", -1, &st, NULL) != SQLITE_OK) {
		rc = sqlerr(db, err, "release");
		db_rollback(db);
		return rc;
	}
	for (size_t i = 0; !rc && i < n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, queue, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, keys[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = sqlerr(db, err, "release");
	}
	sqlite3_finalize(st);
	if (rc) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db, err);
}

enum herald_rc outbox_stats(struct db *db, struct outbox_stats *s,
			    struct herald_err *err)
{
	memset(s, 0, sizeof *s);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db_handle(db),
			       "SELECT state, count(*) FROM internal_outbox GROUP BY state",
			       -1, &st, NULL) != SQLITE_OK)
		return sqlerr(db, err, "stats");
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		int64_t v = sqlite3_column_int64(st, 1);
		if (!k)
			continue;
		if (strcmp(k, "sent") == 0)
			s->sent += v;
		else if (strcmp(k, "failed") == 0)
			s->failed += v;
		else if (strcmp(k, "missed") == 0)
			s->missed += v;
		else if (strcmp(k, "cancelled") == 0)
			s->cancelled += v;
		else if (strncmp(k, "inflight", 8) == 0)
			s->inflight += v;
		else
			s->pending += v;
	}
	sqlite3_finalize(st);
	return H_OK;
}
