/*
 * store_sqlite_deliveries.c - every format-2 delivery as an auditor sees
 * it (store_each_delivery's newer half; store_sqlite_read.c does the rest).
 *
 * One pass over deliveries in seq order joined to their messages by rowid,
 * with final states and acknowledgements read beforehand in one
 * sequential scan each into hash maps: an export reads each table once
 * instead of searching two indexes per delivery, which was most of its
 * time.  Memory: about 40 bytes per final state and per acknowledgement.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "herald/store_sqlite.h"
#include "herald/token.h"
#include "herald/util.h"

/* ---------------------------------------------------------- hash maps */

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

struct state_rec {
	int64_t delivery, at;
	const char *state;          /* interned, or owned_state */
	char *owned_state;
	char *detail, *reply;
	int attempts;
	bool late, duplicate, pdup;
};

struct ack_rec {
	unsigned char ack[16];
	int64_t at;
	char *person;
	bool used;
};

struct maps {
	struct state_rec *st;
	size_t nst, capst;
	size_t *slot;               /* open addressing: index + 1, 0 = empty */
	size_t nslot;
	struct ack_rec *acks;
	size_t nacks_slot;
};

static const char *const known_states[] = {
	"sent", "failed", "missed", "cancelled", "dry-run", NULL
};

/* The five states are shared; anything else is copied (owned). */
static const char *intern_state(const char *s, char **owned)
{
	*owned = NULL;
	for (size_t i = 0; s && known_states[i]; i++)
		if (strcmp(s, known_states[i]) == 0)
			return known_states[i];
	*owned = s ? xstrdup(s) : NULL;
	return *owned;
}

static size_t pow2_at_least(size_t n)
{
	size_t c = 64;
	while (c < n)
		c *= 2;
	return c;
}

static void states_index(struct maps *m)
{
	m->nslot = pow2_at_least(2 * m->nst + 1);
	m->slot = xcalloc(m->nslot, sizeof *m->slot);
	for (size_t i = 0; i < m->nst; i++) {
		size_t h = mix((uint64_t)m->st[i].delivery) & (m->nslot - 1);
		while (m->slot[h])
			h = (h + 1) & (m->nslot - 1);
		m->slot[h] = i + 1;
	}
}

static const struct state_rec *state_of(const struct maps *m, int64_t delivery)
{
	if (!m->nslot)
		return NULL;
	for (size_t h = mix((uint64_t)delivery) & (m->nslot - 1); m->slot[h];
	     h = (h + 1) & (m->nslot - 1))
		if (m->st[m->slot[h] - 1].delivery == delivery)
			return &m->st[m->slot[h] - 1];
	return NULL;
}

static uint64_t ack_hash(const unsigned char *a)
{
	uint64_t x;
	memcpy(&x, a, 8);
	return mix(x);
}

static const struct ack_rec *ack_of(const struct maps *m, const void *ack, int len)
{
	if (!m->nacks_slot || len != 16)
		return NULL;
	for (size_t h = ack_hash(ack) & (m->nacks_slot - 1); m->acks[h].used;
	     h = (h + 1) & (m->nacks_slot - 1))
		if (memcmp(m->acks[h].ack, ack, 16) == 0)
			return &m->acks[h];
	return NULL;
}

static void maps_free(struct maps *m)
{
	for (size_t i = 0; i < m->nst; i++) {
		free(m->st[i].owned_state);
		free(m->st[i].detail);
		free(m->st[i].reply);
	}
	free(m->st);
	free(m->slot);
	for (size_t i = 0; i < m->nacks_slot; i++)
		free(m->acks[i].person);
	free(m->acks);
}

static int64_t count_rows(struct store *s, const char *table)
{
	char sql[96];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
	sqlite3_stmt *st;
	int64_t n = 0;
	if (sqlite3_prepare_v2(s->h, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	return n;
}

/* The deliveries a filter keeps (?1 to ?5 as the scan binds them): a
 * narrow filter (herald send's own, one communication of the report)
 * loads only their states and acknowledgements, not the whole log's. */
#define FILTERED_SEQS \
	"SELECT d.seq FROM deliveries d JOIN messages m ON m.seq=d.message" \
	" WHERE (?1 IS NULL OR m.due>=?1) AND (?2 IS NULL OR m.due<?2)" \
	" AND (?3 IS NULL OR m.communication=?3) AND (?4 IS NULL OR m.audience=?4)" \
	" AND (?5 IS NULL OR m.kind=?5)"

static bool narrows(const struct store_filter *f)
{
	return f && (f->has_from || f->has_to || f->communication || f->audience || f->kind);
}

static void bind_filter(sqlite3_stmt *st, const struct store_filter *f)
{
	sqlite_bind_scope(st, f->has_from, f->from, f->has_to, f->to, f->communication,
			  f->audience);
	if (f->kind)
		sqlite3_bind_text(st, 5, f->kind, -1, SQLITE_STATIC);
}

/* Prepares sql, or sql with `narrowed` appended when f narrows. */
static sqlite3_stmt *side_query(struct store *s, const struct store_filter *f,
				const char *sql, const char *narrowed)
{
	bool narrow = narrows(f);
	char *full = narrow ? xasprintf("%s%s", sql, narrowed) : NULL;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->h, narrow ? full : sql, -1, &st, NULL) != SQLITE_OK)
		st = NULL;
	free(full);
	if (st && narrow)
		bind_filter(st, f);
	return st;
}

static enum herald_rc load_states(struct store *s, struct maps *m,
				  const struct store_filter *f, struct herald_err *err)
{
	sqlite3_stmt *st = side_query(s, f, "SELECT delivery, at, state, late, duplicate, detail,"
					    " attempts, possible_duplicate, reply FROM delivery_states",
				      " WHERE delivery IN (" FILTERED_SEQS ")");
	if (!st)
		return sqlite_fail(s, err, "deliveries");
	/* A narrow filter's states are few: grown from a little. */
	m->capst = narrows(f) ? 64 : (size_t)count_rows(s, "delivery_states") + 1;
	m->st = xcalloc(m->capst, sizeof *m->st);
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (m->nst == m->capst) {
			m->capst *= 2;
			m->st = xreallocarray(m->st, m->capst, sizeof *m->st);
		}
		struct state_rec *x = &m->st[m->nst++];
		memset(x, 0, sizeof *x);
		x->delivery = sqlite3_column_int64(st, 0);
		x->at = sqlite3_column_int64(st, 1);
		x->state = intern_state(sqlite_col_text(st, 2), &x->owned_state);
		x->late = sqlite3_column_int(st, 3) != 0;
		x->duplicate = sqlite3_column_int(st, 4) != 0;
		x->detail = sqlite_col_dup(st, 5);
		x->attempts = sqlite3_column_int(st, 6);
		x->pdup = sqlite3_column_int(st, 7) != 0;
		x->reply = sqlite_col_dup(st, 8);
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return sqlite_fail(s, err, "deliveries");
	states_index(m);
	return H_OK;
}

static enum herald_rc load_acks(struct store *s, struct maps *m,
				const struct store_filter *f, struct herald_err *err)
{
	static const char narrowed[] = " AND ack IN (SELECT ack FROM deliveries WHERE seq IN ("
				       FILTERED_SEQS "))";
	/* The table is sized for the acknowledgements it will hold. */
	int64_t n = 0;
	sqlite3_stmt *st = side_query(s, f, "SELECT count(*) FROM acks WHERE length(ack)=16",
				      narrowed);
	if (!st)
		return sqlite_fail(s, err, "deliveries");
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	m->nacks_slot = pow2_at_least((size_t)(2 * n + 1));
	m->acks = xcalloc(m->nacks_slot, sizeof *m->acks);
	st = side_query(s, f, "SELECT ack, at, person FROM acks WHERE length(ack)=16", narrowed);
	if (!st)
		return sqlite_fail(s, err, "deliveries");
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *a = sqlite3_column_blob(st, 0);
		size_t h = ack_hash(a) & (m->nacks_slot - 1);
		while (m->acks[h].used && memcmp(m->acks[h].ack, a, 16) != 0)
			h = (h + 1) & (m->nacks_slot - 1);
		if (m->acks[h].used)
			continue;   /* the first counts */
		m->acks[h].used = true;
		memcpy(m->acks[h].ack, a, 16);
		m->acks[h].at = sqlite3_column_int64(st, 1);
		m->acks[h].person = sqlite_col_dup(st, 2);
	}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? H_OK : sqlite_fail(s, err, "deliveries");
}

/* ----------------------------------------------------------- the texts */

/* Texts up to this much are read in one scan; a larger log falls back to
 * one lookup per message (deliveries of one message come together). */
#define TEXTS_IN_MEMORY (256u << 20)
#define TEXT_CACHE 64

struct text_rec {
	unsigned char sha[32];
	char *body;
};

struct texts {
	struct text_rec *map;       /* open addressing on the SHA-256 */
	size_t nslot;
	int64_t message[TEXT_CACHE];
	const char *cached[TEXT_CACHE];
	char *owned[TEXT_CACHE];
	sqlite3_stmt *get;
};

static uint64_t sha_hash(const unsigned char *sha)
{
	uint64_t x;
	memcpy(&x, sha, 8);
	return x;   /* already uniform */
}

static enum herald_rc load_texts(struct store *s, struct texts *t, struct herald_err *err)
{
	sqlite3_stmt *st;
	int64_t n = 0, bytes = 0;
	if (sqlite3_prepare_v2(s->h, "SELECT count(*), total(length(body)) FROM texts", -1, &st,
			       NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			n = sqlite3_column_int64(st, 0);
			bytes = (int64_t)sqlite3_column_double(st, 1);
		}
		sqlite3_finalize(st);
	}
	if (bytes > (int64_t)TEXTS_IN_MEMORY)
		return H_OK;
	t->nslot = pow2_at_least((size_t)(2 * n + 1));
	t->map = xcalloc(t->nslot, sizeof *t->map);
	if (sqlite3_prepare_v2(s->h, "SELECT sha256, body FROM texts WHERE length(sha256)=32",
			       -1, &st, NULL) != SQLITE_OK)
		return sqlite_fail(s, err, "texts");
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *sha = sqlite3_column_blob(st, 0);
		size_t h = sha_hash(sha) & (t->nslot - 1);
		while (t->map[h].body && memcmp(t->map[h].sha, sha, 32) != 0)
			h = (h + 1) & (t->nslot - 1);
		if (t->map[h].body)
			continue;
		memcpy(t->map[h].sha, sha, 32);
		t->map[h].body = sqlite_col_dup(st, 1);
		if (!t->map[h].body)
			t->map[h].body = xstrdup("");
	}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? H_OK : sqlite_fail(s, err, "texts");
}

static const char *text_of(struct store *s, struct texts *t, int64_t message,
			   const void *sha, int len)
{
	if (!sha || len != 32)
		return NULL;
	if (t->map) {
		for (size_t h = sha_hash(sha) & (t->nslot - 1); t->map[h].body;
		     h = (h + 1) & (t->nslot - 1))
			if (memcmp(t->map[h].sha, sha, 32) == 0)
				return t->map[h].body;
		return NULL;
	}
	size_t k = (size_t)(mix((uint64_t)message) % TEXT_CACHE);
	if (t->message[k] == message && t->cached[k])
		return t->cached[k];
	if (!t->get && sqlite3_prepare_v2(s->h, "SELECT body FROM texts WHERE sha256=?", -1,
					  &t->get, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_reset(t->get);
	sqlite3_bind_blob(t->get, 1, sha, 32, SQLITE_STATIC);
	free(t->owned[k]);
	t->owned[k] = sqlite3_step(t->get) == SQLITE_ROW ? sqlite_col_dup(t->get, 0) : NULL;
	t->cached[k] = t->owned[k];
	t->message[k] = message;
	return t->cached[k];
}

static void texts_free(struct texts *t)
{
	for (size_t i = 0; t->map && i < t->nslot; i++)
		free(t->map[i].body);
	free(t->map);
	for (size_t i = 0; i < TEXT_CACHE; i++)
		free(t->owned[i]);
	sqlite3_finalize(t->get);
}

/* Attempts of a delivery that has no final state yet (few). */
static void pending_attempts(struct store *s, sqlite3_stmt **st, int64_t delivery,
			     int64_t *n, bool *pdup)
{
	if (!*st && sqlite3_prepare_v2(s->h, "SELECT count(*), coalesce(max(possible_duplicate),0)"
					     " FROM attempts WHERE delivery=?", -1, st,
				       NULL) != SQLITE_OK)
		return;
	sqlite3_reset(*st);
	sqlite3_bind_int64(*st, 1, delivery);
	if (sqlite3_step(*st) == SQLITE_ROW) {
		*n = sqlite3_column_int64(*st, 0);
		*pdup = sqlite3_column_int(*st, 1) != 0;
	}
}

/* --------------------------------------------------------------- scan */

static const char scan_sql[] =
	"SELECT d.seq, d.key, d.recipient, d.recipient_name, d.ack, d.parent,"
	" m.seq, m.kind, m.created_at, m.due, m.occurrence, m.notify_offset, m.plan_id,"
	" m.plan_version, m.communication, m.topic, m.audience, m.channel_type,"
	" m.channel_id, m.text, m.requested_by, m.note, m.mail_domain"
	" FROM deliveries d JOIN messages m ON m.seq=d.message"
	" WHERE (?1 IS NULL OR m.due>=?1) AND (?2 IS NULL OR m.due<?2)"
	" AND (?3 IS NULL OR m.communication=?3) AND (?4 IS NULL OR m.audience=?4)"
	" AND (?5 IS NULL OR m.kind=?5)"
	" ORDER BY d.seq";

enum herald_rc sqlite_each_delivery_v2(struct store *s, const struct store_filter *f,
				       int (*fn)(const struct store_delivery_view *d,
						 void *ctx),
				       void *ctx, bool *stopped, struct herald_err *err)
{
	struct maps m = { 0 };
	struct texts tc = { 0 };
	sqlite3_stmt *st = NULL, *att = NULL;
	enum herald_rc rc = load_states(s, &m, f, err);
	if (!rc)
		rc = load_acks(s, &m, f, err);
	if (!rc && f && f->with_text)
		rc = load_texts(s, &tc, err);
	if (!rc && sqlite3_prepare_v2(s->h, scan_sql, -1, &st, NULL) != SQLITE_OK)
		rc = sqlite_fail(s, err, "deliveries");
	if (rc)
		goto out;
	if (f)
		bind_filter(st, f);
	bool with_text = f && f->with_text;
	char key[65], ackid[TOKEN_ACKID_LEN + 1];
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);
		struct store_delivery_view d = {
			.seq = seq, .format = 2,
			.recipient = sqlite_col_text(st, 2), .recipient_name = sqlite_col_text(st, 3),
			.parent = sqlite3_column_int64(st, 5),
			.kind = sqlite_col_text(st, 7), .created_at = sqlite3_column_int64(st, 8),
			.due = sqlite3_column_int64(st, 9),
			.occurrence = sqlite3_column_int64(st, 10),
			.has_offset = sqlite3_column_type(st, 11) != SQLITE_NULL,
			.notify_offset = sqlite3_column_int64(st, 11),
			.plan_id = sqlite_col_text(st, 12), .plan_version = sqlite_col_text(st, 13),
			.communication = sqlite_col_text(st, 14), .topic = sqlite_col_text(st, 15),
			.audience = sqlite_col_text(st, 16), .channel_type = sqlite_col_text(st, 17),
			.channel_id = sqlite_col_text(st, 18), .requested_by = sqlite_col_text(st, 20),
			.note = sqlite_col_text(st, 21), .mail_domain = sqlite_col_text(st, 22),
			.state = "pending",
		};
		if (sqlite3_column_bytes(st, 1) == 32) {
			hex_encode(sqlite3_column_blob(st, 1), 32, key);
			d.key = key;
		}
		const void *ack = sqlite3_column_blob(st, 4);
		int acklen = sqlite3_column_bytes(st, 4);
		if (ack && acklen == 16) {
			base64url(ack, 16, ackid);
			d.ackid = ackid;
			const struct ack_rec *k = ack_of(&m, ack, acklen);
			if (k) {
				d.acked_at = k->at;
				d.acked_by = k->person;
			}
		}
		if (with_text)
			d.text = text_of(s, &tc, sqlite3_column_int64(st, 6),
					 sqlite3_column_blob(st, 19), sqlite3_column_bytes(st, 19));
		const struct state_rec *x = state_of(&m, seq);
		if (x) {
			d.state = x->state;
			d.state_at = x->at;
			d.late = x->late;
			d.duplicate = x->duplicate;
			d.possible_duplicate = x->pdup;
			d.attempts = x->attempts;
			d.detail = x->detail;
			d.reply = x->reply;
			if (strcmp(x->state, "sent") == 0 || strcmp(x->state, "dry-run") == 0)
				d.sent_at = x->at;
		} else {
			pending_attempts(s, &att, seq, &d.attempts, &d.possible_duplicate);
		}
		if (fn(&d, ctx)) {
			*stopped = true;
			break;
		}
	}
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = sqlite_fail(s, err, "deliveries");
out:
	sqlite3_finalize(st);
	sqlite3_finalize(att);
	texts_free(&tc);
	maps_free(&m);
	return rc;
}
