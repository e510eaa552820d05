/*
 * test_store.c - the store: chained appends, append-only tables, the
 * canonical encoding, opening rules, and the migration of a database
 * written by the first release (tests/data/fixtures/v1.db, made by
 * tests/data/fixtures/make-v1.sh with that release).
 */
#include "testutil.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "herald/evfmt.h"
#include "herald/evidence.h"
#include "herald/keys.h"
#include "herald/record.h"
#include "herald/store.h"
#include "herald/token.h"
#include "herald/util.h"

#define FIXTURE "tests/data/fixtures/v1.db"
#define FIXTURE_CKPT "tests/data/fixtures/v1.checkpoint"
/* tests/data/fixtures/v1.head, as that release's verify printed it. */
#define V1_ROWS 41
#define V1_HEAD "2a9eb183937d77ab0e7c55bc67fd3748738fa833e9f91d1d37040f3b700db3c3"

static char path[80];

static void rm_db(const char *p)
{
	char x[128];
	unlink(p);
	snprintf(x, sizeof x, "%s-wal", p);
	unlink(x);
	snprintf(x, sizeof x, "%s-shm", p);
	unlink(x);
	snprintf(x, sizeof x, "%s.witness", p);
	unlink(x);
}

static struct store *open_rw(const char *p)
{
	struct store *s;
	struct herald_err err;
	struct store_open_opts o = { .create = true };
	if (store_open(p, &o, &s, &err))
		fail_msg("open %s: %s", p, err.msg);
	return s;
}

static struct store *open_ro(const char *p)
{
	struct store *s;
	struct herald_err err;
	struct store_open_opts o = { .readonly = true };
	if (store_open(p, &o, &s, &err))
		fail_msg("open %s: %s", p, err.msg);
	return s;
}

static int setup(void **state)
{
	snprintf(path, sizeof path, "/tmp/herald-test-store-%d.db", (int)getpid());
	rm_db(path);
	*state = open_rw(path);
	return 0;
}

static int teardown(void **state)
{
	store_close(*state);
	rm_db(path);
	return 0;
}

static void sql(const char *p, const char *q)
{
	sqlite3 *h;
	assert_int_equal(sqlite3_open(p, &h), SQLITE_OK);
	char *msg = NULL;
	if (sqlite3_exec(h, q, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", q, msg);
	sqlite3_close(h);
}

static void copy_file(const char *from, const char *to)
{
	char *data;
	size_t len;
	assert_int_equal(read_file(from, 1 << 24, &data, &len), 0);
	/* The file alone, as a careless restore would put it back. */
	char x[128];
	unlink(to);
	snprintf(x, sizeof x, "%s-wal", to);
	unlink(x);
	snprintf(x, sizeof x, "%s-shm", to);
	unlink(x);
	FILE *f = fopen(to, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	free(data);
}

/* ------------------------------------------------------- idempotency */

static struct store_idem fresh_idem(int64_t at, const char *req, unsigned char fp)
{
	struct store_idem v = { .at = at };
	memset(v.fingerprint, fp, 32);
	snprintf(v.request, sizeof v.request, "%s", req);
	return v;
}

/* The first taker stores its entry; a second gets it back (answered or
 * not); a day on it is forgotten and the key is new again. */
static void idempotency_entries(void **state)
{
	struct store *s = *state;
	struct herald_err err;
	unsigned char key[32];
	memset(key, 7, 32);
	struct store_idem a = fresh_idem(1000, "idem:a", 1), b = fresh_idem(1010, "idem:b", 2), got;
	assert_int_equal(store_idem_take(s, key, &a, 0, &got, &err), H_OK);
	assert_string_equal(got.request, "idem:a");
	assert_int_equal(got.status, 0);
	assert_null(got.body);
	/* Taken again before the answer: the first request's id, not b's. */
	assert_int_equal(store_idem_take(s, key, &b, 0, &got, &err), H_OK);
	assert_string_equal(got.request, "idem:a");
	assert_int_equal(got.at, 1000);
	assert_int_equal(got.fingerprint[0], 1);
	assert_int_equal(store_idem_answer(s, key, 202, "{\"ok\": 1}", &err), H_OK);
	assert_int_equal(store_idem_take(s, key, &b, 0, &got, &err), H_OK);
	assert_int_equal(got.status, 202);
	assert_string_equal(got.body, "{\"ok\": 1}");
	store_idem_free(&got);
	/* Past its day: forgotten, b takes the key. */
	assert_int_equal(store_idem_take(s, key, &b, 1001, &got, &err), H_OK);
	assert_string_equal(got.request, "idem:b");
	assert_int_equal(got.status, 0);
	store_idem_free(&got);
	/* Given back (a refusal) by another request id: kept; by its own:
	 * gone, and the next request takes the key afresh. */
	assert_int_equal(store_idem_release(s, key, "idem:a", &err), H_OK);
	assert_int_equal(store_idem_take(s, key, &a, 1001, &got, &err), H_OK);
	assert_string_equal(got.request, "idem:b");
	store_idem_free(&got);
	assert_int_equal(store_idem_release(s, key, "idem:b", &err), H_OK);
	assert_int_equal(store_idem_take(s, key, &a, 1001, &got, &err), H_OK);
	assert_string_equal(got.request, "idem:a");
	store_idem_free(&got);
	/* An answered entry is never given back. */
	assert_int_equal(store_idem_answer(s, key, 202, "{}", &err), H_OK);
	assert_int_equal(store_idem_release(s, key, "idem:a", &err), H_OK);
	assert_int_equal(store_idem_take(s, key, &b, 0, &got, &err), H_OK);
	assert_int_equal(got.status, 202);
	store_idem_free(&got);
	/* Not evidence: the chain did not move. */
	struct store_head h;
	assert_int_equal(store_head(s, &h, &err), H_OK);
	assert_int_equal(h.seq, 0);
}

/* ----------------------------------------------------------- the chain */

static void chain_links_rows(void **state)
{
	struct store *s = *state;
	struct herald_err err;
	struct store_head h0, h1;
	assert_int_equal(store_head(s, &h0, &err), H_OK);
	assert_int_equal(h0.seq, 0);
	assert_int_equal(record_event(s, "start", "test", &err), H_OK);
	assert_int_equal(record_event(s, "stop", NULL, &err), H_OK);
	assert_int_equal(store_head(s, &h1, &err), H_OK);
	assert_int_equal(h1.seq, 2);
	/* The head is the hash of row 2 computed from row 1's hash, in format 2. */
	sqlite3 *db;
	sqlite3_open(path, &db);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT seq, fmt, at, kind, detail, hash FROM events"
					    " ORDER BY seq", -1, &st, NULL), SQLITE_OK);
	unsigned char prev[32] = { 0 };
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		assert_int_equal(sqlite3_column_int(st, 1), 2);
		struct ev_value v[3] = {
			EVI(sqlite3_column_int64(st, 2)),
			EVS((const char *)sqlite3_column_text(st, 3)),
			EVS((const char *)sqlite3_column_text(st, 4)),
		};
		unsigned char h[32];
		evfmt_row_hash(evfmt_table(EV_EVENTS), sqlite3_column_int64(st, 0), v, prev, h);
		assert_memory_equal(sqlite3_column_blob(st, 5), h, 32);
		memcpy(prev, h, 32);
		n++;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_int_equal(n, 2);
	assert_memory_equal(prev, h1.hash, 32);
}

static void evidence_is_append_only(void **state)
{
	struct store *s = *state;
	struct herald_err err;
	assert_int_equal(record_event(s, "start", NULL, &err), H_OK);
	sqlite3 *db;
	sqlite3_open(path, &db);
	char *msg = NULL;
	assert_int_not_equal(sqlite3_exec(db, "UPDATE events SET kind='x'", NULL, NULL, &msg),
			     SQLITE_OK);
	assert_contains(msg, "append-only");
	sqlite3_free(msg);
	msg = NULL;
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM events", NULL, NULL, &msg), SQLITE_OK);
	sqlite3_free(msg);
	/* Every evidence table has both triggers. */
	for (int t = 0; t < EV_NTABLES; t++) {
		const char *n = evfmt_table((enum ev_table)t)->sql;
		char q[256];
		snprintf(q, sizeof q, "SELECT count(*) FROM sqlite_master WHERE type='trigger' AND"
			 " tbl_name='%s' AND name IN ('ev2_%s_no_update','ev2_%s_no_delete')", n, n, n);
		sqlite3_stmt *st;
		assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(st, 0), 2);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
}

static void encoding_separates_null_empty_types_formats(void **state)
{
	(void)state;
	const struct ev_table_desc *ev = evfmt_table(EV_EVENTS);
	unsigned char z[32] = { 0 }, a[32], b[32], c[32];
	struct ev_value v1[3] = { EVI(1), EVS(""), EVN };
	struct ev_value v2[3] = { EVI(1), EVN, EVS("") };
	struct ev_value v3[3] = { EVI(1), EVS(""), EVS("") };
	evfmt_row_hash(ev, 1, v1, z, a);
	evfmt_row_hash(ev, 1, v2, z, b);
	evfmt_row_hash(ev, 1, v3, z, c);
	assert_memory_not_equal(a, b, 32);
	assert_memory_not_equal(a, c, 32);
	/* Field boundaries are length-prefixed: "ab","c" differs from "a","bc". */
	struct ev_value w1[3] = { EVI(1), EVS("ab"), EVS("c") };
	struct ev_value w2[3] = { EVI(1), EVS("a"), EVS("bc") };
	evfmt_row_hash(ev, 1, w1, z, a);
	evfmt_row_hash(ev, 1, w2, z, b);
	assert_memory_not_equal(a, b, 32);
	/* The sequence number is part of the row. */
	evfmt_row_hash(ev, 2, w1, z, c);
	assert_memory_not_equal(a, c, 32);
	/* The same bytes as text and as a blob are different values. */
	struct ev_value t1[3] = { EVI(1), EVS("abc"), EVN };
	struct ev_value t2[3] = { EVI(1), EVB("abc", 3), EVN };
	evfmt_row_hash(ev, 1, t1, z, a);
	evfmt_row_hash(ev, 1, t2, z, b);
	assert_memory_not_equal(a, b, 32);
	/* The format is part of the encoding: a format-1 events row with the
	 * same values hashes differently. */
	const struct ev_table_desc *const *all = evfmt_all_tables(true);
	const struct ev_table_desc *old = NULL;
	for (size_t i = 0; all[i]; i++)
		if (all[i]->format == 1 && strcmp(all[i]->name, "events") == 0)
			old = all[i];
	assert_non_null(old);
	evfmt_row_hash(old, 1, t1, z, c);
	evfmt_row_hash(ev, 1, t1, z, a);
	assert_memory_not_equal(a, c, 32);
}

static void texts_are_stored_once(void **state)
{
	struct store *s = *state;
	struct herald_err err;
	unsigned char a[32], b[32];
	assert_int_equal(store_begin(s, &err), H_OK);
	assert_int_equal(store_text_put(s, "hello", 5, a, &err), H_OK);
	assert_int_equal(store_text_put(s, "hello", 5, b, &err), H_OK);
	assert_int_equal(store_commit(s, &err), H_OK);
	assert_memory_equal(a, b, 32);
	struct store_head h;
	assert_int_equal(store_head(s, &h, &err), H_OK);
	assert_int_equal(h.seq, 1);
	assert_int_equal(evidence_verify(s, NULL, NULL, &err), H_OK);
	/* A text edited (and its row's hash recomputed by the editor, who
	 * cannot fix the chain after it) does not verify. */
	sql(path, "DROP TRIGGER ev2_texts_no_update; UPDATE texts SET body='hellO'");
	assert_int_equal(evidence_verify(s, NULL, NULL, &err), H_EINVAL);
	assert_contains(err.msg, "texts seq 1");
}

/* ------------------------------------------------------------ opening */

static void open_refuses_what_is_not_ours(void **state)
{
	(void)state;
	char p[96];
	snprintf(p, sizeof p, "/tmp/herald-test-store-x-%d", (int)getpid());
	struct store *s;
	struct herald_err err;
	struct store_open_opts rw = { .create = true }, nocreate = { 0 };
	/* A missing database is not created unless asked. */
	rm_db(p);
	assert_int_equal(store_open(p, &nocreate, &s, &err), H_ERUNTIME);
	assert_contains(err.msg, "does not exist");
	assert_int_equal(access(p, F_OK), -1);
	/* An existing file that is not a herald database is never turned
	 * into one; an empty one is a creation cut short, unless a witness
	 * says evidence was there. */
	FILE *f = fopen(p, "w");
	fclose(f);
	assert_int_equal(store_open(p, &rw, &s, &err), H_OK);
	store_close(s);
	rm_db(p);
	f = fopen(p, "w");
	fputs("name,email\nAnn,ann@example.org\n", f);
	fclose(f);
	assert_int_equal(store_open(p, &rw, &s, &err), H_EINVAL);
	rm_db(p);
	/* A database of a newer herald is refused, not downgraded. */
	s = open_rw(p);
	store_close(s);
	sql(p, "PRAGMA user_version=99");
	assert_int_equal(store_open(p, &rw, &s, &err), H_EINVAL);
	assert_contains(err.msg, "newer herald");
	rm_db(p);
}

/* ----------------------------------------------------------- migration */

static int count_deliveries(const struct store_delivery_view *d, void *ctx)
{
	int *n = ctx;
	n[0]++;
	if (strcmp(d->state, "sent") == 0)
		n[1]++;
	if (d->acked_at)
		n[2]++;
	if (strcmp(d->state, "missed") == 0 && d->late)
		n[3]++;
	if (d->text && strstr(d->text, "{{ack_url}}"))
		n[4]++;
	return 0;
}

static void head_hex(struct store *s, int64_t *seq, char hex[65])
{
	struct evidence_head h;
	struct herald_err err;
	assert_int_equal(evidence_verify(s, &h, NULL, &err), H_OK);
	*seq = h.seq;
	memcpy(hex, h.hex, 65);
}

struct v1_register {
	int n, acked, ann_reminders, bob_reminders;
};

static int v1_link(const struct store_ack_link *l, void *ctx)
{
	struct v1_register *r = ctx;
	assert_int_equal(l->format, 1);
	r->n++;
	r->acked += l->acked_at != 0;
	if (l->email && strcmp(l->email, "ann@example.org") == 0)
		r->ann_reminders += (int)l->reminders;
	if (l->email && strcmp(l->email, "bob@example.org") == 0)
		r->bob_reminders += (int)l->reminders;
	return 0;
}

static void migrates_the_first_release(void **state)
{
	(void)state;
	char p[96];
	snprintf(p, sizeof p, "/tmp/herald-test-store-v1-%d.db", (int)getpid());
	copy_file(FIXTURE, p);
	struct herald_err err;
	int64_t seq;
	char hex[65];

	/* Read-only, unmigrated: verifies as that release wrote it. */
	struct store *s = open_ro(p);
	assert_int_equal(store_schema(s), 1);
	head_hex(s, &seq, hex);
	assert_int_equal(seq, V1_ROWS);
	assert_string_equal(hex, V1_HEAD);
	int n[5] = { 0 };
	struct store_filter all = { .with_text = true };
	assert_int_equal(store_each_delivery(s, &all, count_deliveries, n, NULL, &err), H_OK);
	assert_int_equal(n[0], 10);
	store_close(s);

	/* Writable: migrated, the old rows untouched, the chain continued. */
	s = open_rw(p);
	assert_int_equal(store_schema(s), 2);
	head_hex(s, &seq, hex);
	assert_int_equal(seq, V1_ROWS + 1);
	unsigned char old[32];
	bool found;
	assert_int_equal(store_row_hash_at(s, V1_ROWS, old, &found, &err), H_OK);
	assert_true(found);
	char oldhex[65];
	hex_encode(old, 32, oldhex);
	assert_string_equal(oldhex, V1_HEAD);
	/* The first release's keys move out of the database into a key
	 * directory: links and checkpoints already out keep working. */
	unsigned char old_server[32], v[64];
	size_t len;
	assert_true(store_meta_get(s, "server_key", old_server, 32, &len));
	char kdir[128];
	snprintf(kdir, sizeof kdir, "%s.keys", p);
	struct keyring *k;
	assert_int_equal(keys_open(kdir, s, KEYS_CREATE, &k, &err), H_OK);
	assert_false(store_meta_get(s, "server_key", v, sizeof v, &len));
	assert_false(store_meta_get(s, "checkpoint_key", v, sizeof v, &len));
	assert_memory_equal(k->feed, old_server, 32);
	assert_memory_equal(k->acks[0].key, old_server, 32);
	/* The old checkpoint still proves the log only grew, under the key
	 * that signed it. */
	char *ckpt;
	assert_int_equal(read_file(FIXTURE_CKPT, 1 << 16, &ckpt, &len), 0);
	assert_int_equal(evidence_check_checkpoint(s, ckpt, k->signing_pub, NULL, &err), H_OK);
	free(ckpt);
	keys_close(k);
	head_hex(s, &seq, hex);
	assert_int_equal(seq, V1_ROWS + 2);   /* the migration and the keys moved */
	/* The old deliveries read as they did: 10, 5 sent, 1 acknowledged,
	 * 1 missed (late), texts with their link placeholders. */
	memset(n, 0, sizeof n);
	assert_int_equal(store_each_delivery(s, &all, count_deliveries, n, NULL, &err), H_OK);
	assert_int_equal(n[0], 10);
	assert_int_equal(n[1], 5);
	assert_int_equal(n[2], 1);
	assert_int_equal(n[3], 1);
	assert_true(n[4] >= 2);
	/* The migration is evidence. */
	sqlite3 *db;
	sqlite3_open(p, &db);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db, "SELECT kind, detail FROM events WHERE seq=42", -1, &st, NULL);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "migration");
	assert_contains((const char *)sqlite3_column_text(st, 1), "schema 1 to 2");
	sqlite3_finalize(st);
	/* An old ack link still leads to its delivery, and counts once. */
	sqlite3_prepare_v2(db, "SELECT ack_id FROM v1_deliveries WHERE ack_id IS NOT NULL AND"
			       " key NOT IN (SELECT delivery FROM v1_acks) ORDER BY seq LIMIT 1",
			   -1, &st, NULL);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	char ackid[TOKEN_ACKID_LEN + 1];
	snprintf(ackid, sizeof ackid, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	struct store_ack_target t;
	assert_true(store_ack_lookup(s, ackid, &t, &err));
	assert_int_equal(t.acked_at, 0);
	assert_int_equal(store_begin(s, &err), H_OK);
	struct store_ack a = { .ackid = ackid, .delivery = t.delivery,
			       .communication = t.communication, .audience = t.audience,
			       .person = t.person, .at = 1801000000 };
	assert_int_equal(store_ack_add(s, &a, &err), H_OK);
	assert_int_equal(store_commit(s, &err), H_OK);
	store_ack_target_free(&t);
	assert_true(store_ack_done(s, ackid));
	memset(n, 0, sizeof n);
	assert_int_equal(store_each_delivery(s, &all, count_deliveries, n, NULL, &err), H_OK);
	assert_int_equal(n[2], 2);
	head_hex(s, &seq, hex);
	assert_int_equal(seq, V1_ROWS + 3);
	/* The register reads format-1 links: each delivery its own, its
	 * reminders found by recipient, an acknowledgement made after the
	 * migration counted; the two INC links only a dry run reached asked
	 * no one. */
	struct v1_register r = { 0 };
	assert_int_equal(store_each_ack_link(s, NULL, v1_link, &r, NULL, &err), H_OK);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.acked, 2);
	assert_int_equal(r.bob_reminders, 1);
	assert_int_equal(r.ann_reminders, 0);
	store_close(s);

	/* Opening again migrates nothing more; the send API's idempotency
	 * entries (a table outside the chain, made at a writable open, which
	 * that release never had) work there and move no chain row. */
	s = open_rw(p);
	head_hex(s, &seq, hex);
	assert_int_equal(seq, V1_ROWS + 3);
	unsigned char ikey[32] = { 7 };
	struct store_idem fresh = fresh_idem(1000, "idem:v1", 3), got;
	assert_int_equal(store_idem_take(s, ikey, &fresh, 0, &got, &err), H_OK);
	assert_string_equal(got.request, "idem:v1");
	store_idem_free(&got);
	assert_int_equal(store_idem_answer(s, ikey, 202, "{}", &err), H_OK);
	head_hex(s, &seq, hex);
	assert_int_equal(seq, V1_ROWS + 3);
	store_close(s);
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", kdir);
	assert_int_equal(system(cmd), 0);
	rm_db(p);
}

static void refuses_to_migrate_an_altered_log(void **state)
{
	(void)state;
	char p[96];
	snprintf(p, sizeof p, "/tmp/herald-test-store-v1x-%d.db", (int)getpid());
	copy_file(FIXTURE, p);
	sql(p, "DROP TRIGGER deliveries_no_update;"
	       "UPDATE deliveries SET recipient='eve@evil.example' WHERE recipient IS NOT NULL");
	struct store *s;
	struct herald_err err;
	struct store_open_opts rw = { .create = true };
	assert_int_equal(store_open(p, &rw, &s, &err), H_EINVAL);
	assert_contains(err.msg, "not migrated");
	/* Left as it was, for the auditor. */
	s = open_ro(p);
	assert_int_equal(store_schema(s), 1);
	store_close(s);
	rm_db(p);
}

/* The witness: a database that lost rows, or is gone, is refused. */
static void witness_catches_lost_rows(void **state)
{
	(void)state;
	char p[96], old[112];
	snprintf(p, sizeof p, "/tmp/herald-test-store-w-%d.db", (int)getpid());
	snprintf(old, sizeof old, "%s.old", p);
	rm_db(p);
	struct herald_err err;
	struct store *s = open_rw(p);
	assert_int_equal(record_event(s, "start", NULL, &err), H_OK);
	store_close(s);
	copy_file(p, old);              /* an older copy: one row */
	s = open_rw(p);
	for (int i = 0; i < 5; i++)
		assert_int_equal(record_event(s, "more", NULL, &err), H_OK);
	store_close(s);                 /* the witness saw seq 6 */
	copy_file(old, p);              /* rows 2..6 lost */
	struct store_open_opts rw = { .create = true }, ro = { .readonly = true };
	assert_int_equal(store_open(p, &rw, &s, &err), H_ERUNTIME);
	assert_contains(err.msg, "5 evidence rows are missing");
	assert_int_equal(store_open(p, &ro, &s, &err), H_ERUNTIME);
	/* Another log of the same length is not taken for it either. */
	rm_db(old);
	copy_file(p, old);
	s = open_rw(old);
	for (int i = 0; i < 5; i++)
		assert_int_equal(record_event(s, "other", NULL, &err), H_OK);
	store_close(s);
	copy_file(old, p);
	assert_int_equal(store_open(p, &rw, &s, &err), H_ERUNTIME);
	assert_contains(err.msg, "another log");
	/* The database gone: never replaced by a new one. */
	unlink(p);
	assert_int_equal(store_open(p, &rw, &s, &err), H_ERUNTIME);
	assert_contains(err.msg, "does not exist, but its witness");
	assert_int_equal(access(p, F_OK), -1);
	rm_db(p);
	rm_db(old);
}

/* A damaged file is refused when asked to check (herald run does). */
static void quick_check_refuses_damage(void **state)
{
	(void)state;
	char p[96];
	snprintf(p, sizeof p, "/tmp/herald-test-store-q-%d.db", (int)getpid());
	rm_db(p);
	struct herald_err err;
	struct store *s = open_rw(p);
	for (int i = 0; i < 300; i++)
		assert_int_equal(record_event(s, "filler", "a longer detail to fill some pages",
					      &err), H_OK);
	store_close(s);
	sql(p, "PRAGMA wal_checkpoint(TRUNCATE)");
	/* Scribble over the headers of some b-tree pages. */
	FILE *f = fopen(p, "r+b");
	assert_non_null(f);
	for (int pg = 2; pg < 8; pg++) {
		fseek(f, 4096L * pg, SEEK_SET);
		for (int i = 0; i < 16; i++)
			fputc(0x55, f);
	}
	fclose(f);
	struct store_open_opts chk = { .check = true };
	assert_int_not_equal(store_open(p, &chk, &s, &err), H_OK);
	assert_contains(err.msg, "damaged");
	rm_db(p);
}

/* One message of communication c to audience a (NULL: none) with n
 * deliveries. */
static void add_message(struct store *s, const char *c, const char *a, int n)
{
	static unsigned char key[32];
	struct herald_err err;
	struct store_message m = {
		.created_at = 1800000000, .kind = "scheduled", .plan_id = "P", .plan_version = "1",
		.communication = c, .audience = a, .channel_type = "email", .channel_id = "mail",
		.due = 1800000000,
	};
	int64_t seq;
	assert_int_equal(store_begin(s, &err), H_OK);
	assert_int_equal(store_message_add(s, &m, &seq, &err), H_OK);
	for (int i = 0; i < n; i++) {
		key[0]++;
		struct store_delivery d = { .message = seq, .key = key, .recipient = "ann@example.org" };
		assert_int_equal(store_delivery_add(s, &d, NULL, &err), H_OK);
	}
	assert_int_equal(store_commit(s, &err), H_OK);
}

struct ids {
	char list[256];
	int stop_after; /* 0: never */
	int n;
};

static int add_id(const char *id, void *ctx)
{
	struct ids *k = ctx;
	size_t len = strlen(k->list);
	snprintf(k->list + len, sizeof k->list - len, "%s%s", len ? "," : "", id);
	return ++k->n == k->stop_after;
}

/* The ids the deliveries carry, comma-separated. */
static const char *delivery_ids(struct store *s, enum store_delivery_id which, int stop_after)
{
	static struct ids k;
	struct herald_err err;
	k = (struct ids){ .stop_after = stop_after };
	assert_int_equal(store_each_delivery_id(s, which, add_id, &k, &err), H_OK);
	return k.list;
}

static void lists_delivery_ids(void **state)
{
	struct store *s = *state;
	assert_string_equal(delivery_ids(s, STORE_ID_COMMUNICATION, 0), "");
	/* Once each, sorted; a message nobody was sent is not a delivery; a
	 * delivery without an audience names none. */
	add_message(s, "BREACH", "staff", 2);
	add_message(s, "AWR", "staff", 1);
	add_message(s, "AWR", "board", 1);
	add_message(s, "UNSENT", "nobody", 0);
	add_message(s, "DRILL", NULL, 1);
	assert_string_equal(delivery_ids(s, STORE_ID_COMMUNICATION, 0), "AWR,BREACH,DRILL");
	assert_string_equal(delivery_ids(s, STORE_ID_AUDIENCE, 0), "board,staff");
	assert_string_equal(delivery_ids(s, STORE_ID_COMMUNICATION, 2), "AWR,BREACH");

	/* Format-1 rows count as well, unmigrated and migrated. */
	char p[96];
	snprintf(p, sizeof p, "/tmp/herald-test-store-ids-%d.db", (int)getpid());
	copy_file(FIXTURE, p);
	struct store *v1 = open_ro(p);
	assert_string_equal(delivery_ids(v1, STORE_ID_COMMUNICATION, 0), "INC,LATE,MISSED,POLICY");
	assert_string_equal(delivery_ids(v1, STORE_ID_AUDIENCE, 0), "ops,partners,staff");
	store_close(v1);
	v1 = open_rw(p);
	add_message(v1, "POLICY", "board", 1);
	add_message(v1, "AWR", "staff", 1);
	assert_string_equal(delivery_ids(v1, STORE_ID_COMMUNICATION, 0), "AWR,INC,LATE,MISSED,POLICY");
	assert_string_equal(delivery_ids(v1, STORE_ID_AUDIENCE, 0), "board,ops,partners,staff");
	store_close(v1);
	rm_db(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(chain_links_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(evidence_is_append_only, setup, teardown),
		cmocka_unit_test(encoding_separates_null_empty_types_formats),
		cmocka_unit_test_setup_teardown(texts_are_stored_once, setup, teardown),
		cmocka_unit_test(open_refuses_what_is_not_ours),
		cmocka_unit_test(migrates_the_first_release),
		cmocka_unit_test(refuses_to_migrate_an_altered_log),
		cmocka_unit_test(witness_catches_lost_rows),
		cmocka_unit_test(quick_check_refuses_damage),
		cmocka_unit_test_setup_teardown(idempotency_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(lists_delivery_ids, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
