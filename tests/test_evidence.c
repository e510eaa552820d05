/*
 * test_evidence.c - the hash chain, verify, checkpoints and export.
 *
 * Also the evidence generator of the integration tests and the bench:
 *   test_evidence --generate DB N [SEED]   a realistic mix of N deliveries
 *   test_evidence --append DB N [SEED]     N more deliveries
 *   test_evidence --scenario DB            the scripted mix of report.sh
 *   test_evidence --ack-scenario DB        the acknowledgement mix of report_acks.sh
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evidence_gen.h"
#include "herald/store.h"
#include "herald/evidence.h"
#include "herald/keys.h"
#include "herald/util.h"

struct fx {
	char path[64];
	struct store *db;
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);
	snprintf(f->path, sizeof f->path, "/tmp/herald-test-ev-XXXXXX");
	int fd = mkstemp(f->path);
	assert_true(fd >= 0);
	close(fd);
	unlink(f->path);
	struct herald_err e;
	struct store_open_opts o = { .create = true };
	assert_int_equal(store_open(f->path, &o, &f->db, &e), H_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_close(f->db);
	char p[96];
	unlink(f->path);
	snprintf(p, sizeof p, "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", f->path);
	unlink(p);
	snprintf(p, sizeof p, "%s.witness", f->path);
	unlink(p);
	free(f);
	return 0;
}

/* The attacker: a connection of its own on the file, behind the store. */
static sqlite3 *side(struct store *db)
{
	sqlite3 *h;
	if (sqlite3_open(store_path(db), &h) != SQLITE_OK)
		fail_msg("cannot open %s", store_path(db));
	return h;
}

static void sql(struct store *db, const char *q)
{
	sqlite3 *h = side(db);
	char *msg = NULL;
	if (sqlite3_exec(h, q, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", q, msg);
	sqlite3_close(h);
}

static int64_t sql_int(struct store *db, const char *q)
{
	sqlite3 *h = side(db);
	sqlite3_stmt *st;
	int64_t v = -1;
	if (sqlite3_prepare_v2(h, q, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

static void drop_triggers(struct store *db)
{
	for (int t = 0; t < EV_NTABLES; t++) {
		char q[256];
		const char *n = evfmt_table((enum ev_table)t)->sql;
		snprintf(q, sizeof q, "DROP TRIGGER ev2_%s_no_update; DROP TRIGGER ev2_%s_no_delete;",
			 n, n);
		sql(db, q);
	}
}

/* Runs verify; returns its rc and copies the message. */
static enum herald_rc verify(struct store *db, char *msg, size_t n)
{
	struct herald_err e;
	herald_err_clear(&e);
	struct evidence_head h;
	enum herald_rc rc = evidence_verify(db, &h, NULL, &e);
	snprintf(msg, n, "%s", e.msg);
	return rc;
}

static void expect_bad(struct store *db, const char *needle)
{
	char msg[HERALD_ERR_LEN];
	assert_int_equal(verify(db, msg, sizeof msg), H_EINVAL);
	if (!strstr(msg, needle))
		fail_msg("verify said \"%s\", expected \"%s\"", msg, needle);
}

static void test_empty(void **state)
{
	struct fx *f = *state;
	struct evidence_head h;
	struct herald_err e;
	int64_t rows = -1;
	assert_int_equal(evidence_verify(f->db, &h, &rows, &e), H_OK);
	assert_int_equal(h.seq, 0);
	assert_int_equal(rows, 0);
}

static void test_clean_verifies(void **state)
{
	struct fx *f = *state;
	gen_scenario(f->db);
	struct evidence_head h, rec;
	struct herald_err e;
	int64_t rows;
	assert_int_equal(evidence_verify(f->db, &h, &rows, &e), H_OK);
	assert_int_equal(evidence_head_get(f->db, &rec, &e), H_OK);
	assert_true(h.seq > 40);
	assert_int_equal(h.seq, rec.seq);
	assert_int_equal(rows, h.seq);
	assert_string_equal(h.hex, rec.hex);
}

static void test_edit(void **state)
{
	struct fx *f = *state;
	gen_scenario(f->db);
	drop_triggers(f->db);
	sql(f->db, "UPDATE deliveries SET recipient='eve@evil.example' "
		   "WHERE seq=(SELECT min(seq) FROM deliveries WHERE recipient IS NOT NULL)");
	char want[64];
	snprintf(want, sizeof want, "deliveries seq %lld: contents",
		 (long long)sql_int(f->db, "SELECT seq FROM deliveries WHERE recipient='eve@evil.example'"));
	expect_bad(f->db, want);
}

static void test_edit_type(void **state)
{
	struct fx *f = *state;
	gen_scenario(f->db);
	drop_triggers(f->db);
	/* A REAL is a type herald never writes. */
	sql(f->db, "UPDATE attempts SET latency_ms=120.5 WHERE seq=(SELECT min(seq) FROM attempts)");
	expect_bad(f->db, "latency_ms holds a value herald never writes");
}

static void test_nul_in_text(void **state)
{
	struct fx *f = *state;
	gen_scenario(f->db);
	drop_triggers(f->db);
	sql(f->db, "UPDATE events SET kind=CAST(kind || x'00' || 'xyz' AS TEXT) WHERE seq=2");
	expect_bad(f->db, "events seq 2: kind holds a value herald never writes");
}

static void test_delete_middle(void **state)
{
	struct fx *f = *state;
	gen_scenario(f->db);
	drop_triggers(f->db);
	sql(f->db, "DELETE FROM delivery_states WHERE seq=(SELECT min(seq) FROM delivery_states)");
	expect_bad(f->db, "is missing before it");
}

static void test_delete_tail(void **state)
{
	struct fx *f = *state;
	gen_scenario(f->db);
	drop_triggers(f->db);
	sql(f->db, "DELETE FROM events WHERE seq=(SELECT max(seq) FROM events)");
	expect_bad(f->db, "rows were deleted from the end");
}

static void test_delete_tail_and_fix_head(void **state)
{
	/* Removing the tail and rewriting the head record passes verify: that
	 * is what checkpoints are for (test_checkpoint). */
	struct fx *f = *state;
	gen_scenario(f->db);
	drop_triggers(f->db);
	sql(f->db, "DELETE FROM events WHERE seq=(SELECT max(seq) FROM events)");
	sql(f->db, "UPDATE internal_meta SET value=x'00' WHERE key='head'");
	expect_bad(f->db, "damaged");
}

static void test_insert_duplicate_seq(void **state)
{
	struct fx *f = *state;
	gen_scenario(f->db);
	drop_triggers(f->db);
	sql(f->db, "INSERT INTO events(seq,fmt,at,kind,detail,hash) "
		   "SELECT seq,2,at,'forged',NULL,hash FROM acks WHERE seq=(SELECT min(seq) FROM acks)");
	expect_bad(f->db, "used twice");
}

static void test_append_outside(void **state)
{
	struct fx *f = *state;
	gen_scenario(f->db);
	/* A row chained correctly but written without moving the head. */
	struct evidence_head h;
	struct herald_err e;
	assert_int_equal(evidence_head_get(f->db, &h, &e), H_OK);
	struct ev_value v[] = { EVI(1780272000), EVS("forged"), EVN };
	unsigned char hash[32];
	evfmt_row_hash(evfmt_table(EV_EVENTS), h.seq + 1, v, h.hash, hash);
	sqlite3 *db = side(f->db);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db, "INSERT INTO events(seq,fmt,at,kind,detail,hash) VALUES(?,2,?,?,NULL,?)",
			   -1, &st, NULL);
	sqlite3_bind_int64(st, 1, h.seq + 1);
	sqlite3_bind_int64(st, 2, v[0].i);
	sqlite3_bind_text(st, 3, v[1].s, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, hash, 32, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
	char want[64];
	snprintf(want, sizeof want, "events seq %lld: beyond", (long long)h.seq + 1);
	expect_bad(f->db, want);
}

static void test_swap(void **state)
{
	struct fx *f = *state;
	gen_scenario(f->db);
	drop_triggers(f->db);
	/* Swap two whole rows' seq (hashes travel with them). */
	sql(f->db, "CREATE TEMP TABLE two AS SELECT seq FROM acks ORDER BY seq LIMIT 2;"
		   "UPDATE acks SET seq=-seq WHERE seq IN (SELECT seq FROM two);"
		   "UPDATE acks SET seq=(SELECT max(seq) FROM two) WHERE seq=-(SELECT min(seq) FROM two);"
		   "UPDATE acks SET seq=(SELECT min(seq) FROM two) WHERE seq=-(SELECT max(seq) FROM two);");
	expect_bad(f->db, "acks seq");
}

/* The key directory of the fixture's database. */
static struct keyring *fx_keys(struct fx *f)
{
	char *dir = xasprintf("%s.keys", f->path);
	struct keyring *k;
	struct herald_err e;
	if (keys_open(dir, f->db, KEYS_CREATE, &k, &e))
		fail_msg("keys: %s", e.msg);
	free(dir);
	return k;
}

static void rm_keys(struct fx *f)
{
	char *cmd = xasprintf("rm -rf '%s.keys'", f->path);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static void test_checkpoint(void **state)
{
	struct fx *f = *state;
	gen_scenario(f->db);
	struct keyring *k = fx_keys(f);
	struct evidence_head h;
	struct herald_err e;
	assert_int_equal(evidence_verify(f->db, &h, NULL, &e), H_OK);
	struct buf b;
	buf_init(&b);
	assert_int_equal(evidence_checkpoint(f->db, k, &h, &b, &e), H_OK);
	assert_non_null(strstr(b.data, h.hex));
	/* The log grows: still good. */
	assert_int_equal(store_begin(f->db, &e), H_OK);
	gen_event(f->db, 1800000000, "later", NULL);
	assert_int_equal(store_commit(f->db, &e), H_OK);
	int64_t seq = 0;
	assert_int_equal(evidence_check_checkpoint(f->db, b.data, k->signing_pub, &seq, &e), H_OK);
	assert_int_equal(seq, h.seq);
	/* An altered statement. */
	char *alt = xstrdup(b.data);
	char *p = strstr(alt, "head-seq: ");
	p[10] = p[10] == '1' ? '2' : '1';
	assert_int_equal(evidence_check_checkpoint(f->db, alt, k->signing_pub, NULL, &e), H_EINVAL);
	assert_non_null(strstr(e.msg, "signature"));
	free(alt);
	/* The log rewritten up to the checkpoint, chain recomputed. */
	drop_triggers(f->db);
	char q[160];
	snprintf(q, sizeof q, "UPDATE events SET hash=zeroblob(32) WHERE seq=%lld", (long long)h.seq);
	sql(f->db, q);
	assert_int_equal(evidence_check_checkpoint(f->db, b.data, k->signing_pub, NULL, &e),
			 H_EINVAL);
	assert_non_null(strstr(e.msg, "no longer"));
	buf_free(&b);
	keys_close(k);
	rm_keys(f);
}

/*
 * A forger with the database (or a backup) but not the key directory:
 * whatever they sign with, a key of their own, one named in the database,
 * it does not check against the public key the auditor holds.
 */
static void test_checkpoint_forged(void **state)
{
	struct fx *f = *state;
	gen_scenario(f->db);
	struct keyring *real = fx_keys(f);
	unsigned char trusted[32];
	memcpy(trusted, real->signing_pub, 32);
	keys_close(real);
	/* Nothing private is left in the database. */
	unsigned char v[64];
	size_t len;
	assert_false(store_meta_get(f->db, "checkpoint_key", v, sizeof v, &len));
	assert_false(store_meta_get(f->db, "server_key", v, sizeof v, &len));
	/* The forger's own key directory, for the same database. */
	char *dir = xasprintf("%s.forged", f->path);
	sql(f->db, "DELETE FROM internal_meta WHERE key LIKE 'keys_%'");
	struct keyring *forged;
	struct herald_err e;
	assert_int_equal(keys_open(dir, f->db, KEYS_CREATE, &forged, &e), H_OK);
	struct evidence_head h;
	assert_int_equal(evidence_verify(f->db, &h, NULL, &e), H_OK);
	struct buf b;
	buf_init(&b);
	assert_int_equal(evidence_checkpoint(f->db, forged, &h, &b, &e), H_OK);
	assert_int_equal(evidence_check_checkpoint(f->db, b.data, trusted, NULL, &e), H_EINVAL);
	assert_non_null(strstr(e.msg, "another key"));
	/* Naming the trusted key in the statement does not help: the
	 * signature is not its. */
	char hex[65];
	hex_encode(trusted, 32, hex);
	char *p = strstr(b.data, "public-key: ");
	memcpy(p + 12, hex, 64);
	assert_int_equal(evidence_check_checkpoint(f->db, b.data, trusted, NULL, &e), H_EINVAL);
	assert_non_null(strstr(e.msg, "signature"));
	buf_free(&b);
	keys_close(forged);
	char *cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(dir);
	rm_keys(f);
}

static void test_export_csv(void **state)
{
	struct fx *f = *state;
	gen_scenario(f->db);
	/* A hostile topic: formula, quotes and a newline. */
	struct herald_err e;
	assert_int_equal(store_begin(f->db, &e), H_OK);
	struct gen_delivery g = { "X", "=cmd|' /C calc'!A0, \"q\"\nline", "aud",
				  "slack", "s", NULL, NULL, NULL, NULL, NULL,
				  1775000000 };
	gen_one(f->db, &g, 99, G_ONTIME, 0, 0);
	/* Formulas behind white space, and in fullwidth forms. */
	const char *hostile[] = { " =1+1", "\xef\xbc\x9dHYPERLINK(\"x\")", "\xe3\x80\x80+cmd",
				  "\xef\xbc\xa0SUM(A1)" };
	for (int i = 0; i < 4; i++) {
		struct gen_delivery h = g;
		h.topic = hostile[i];
		h.due = 1775000000 + 60 * (i + 1);
		gen_one(f->db, &h, 100 + i, G_ONTIME, 0, 0);
	}
	assert_int_equal(store_commit(f->db, &e), H_OK);
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	int64_t n;
	struct store_filter flt = { .has_from = true, .from = 1767225600 };
	struct evidence_head h, vh;
	assert_int_equal(evidence_export(f->db, &flt, EVIDENCE_CSV, m, &n, &h, &e), H_OK);
	fclose(m);
	assert_int_equal(n, 24);
	assert_non_null(strstr(out, "\"'=cmd|' /C calc'!A0, \"\"q\"\"\nline\""));
	assert_non_null(strstr(out, ",\"' =1+1\","));
	assert_non_null(strstr(out, ",\"'\xef\xbc\x9dHYPERLINK(\"\"x\"\")\","));
	assert_non_null(strstr(out, ",\"'\xe3\x80\x80+cmd\","));
	assert_non_null(strstr(out, ",\"'\xef\xbc\xa0SUM(A1)\","));
	/* Rows only: the head is handed back, not written into the CSV. */
	assert_null(strstr(out, "chain head"));
	assert_int_equal(evidence_verify(f->db, &vh, NULL, &e), H_OK);
	assert_int_equal(h.seq, vh.seq);
	assert_string_equal(h.hex, vh.hex);
	assert_non_null(strstr(out, "late"));
	free(out);
	/* A window keeps only deliveries due in it. */
	m = open_memstream(&out, &len);
	struct store_filter win = { .has_from = true, .from = 1772323200,
				    .has_to = true, .to = 1772323200 + 86400 };
	assert_int_equal(evidence_export(f->db, &win, EVIDENCE_JSON, m, &n, NULL, &e), H_OK);
	fclose(m);
	assert_int_equal(n, 2);
	assert_non_null(strstr(out, "\"chain_head\":{\"seq\":"));
	free(out);
}

static void test_backup(void **state)
{
	struct fx *f = *state;
	gen_scenario(f->db);
	char dest[96];
	snprintf(dest, sizeof dest, "%s.bak", f->path);
	struct evidence_head h, live;
	struct herald_err e;
	int64_t rows;
	assert_int_equal(evidence_backup(f->path, dest, &h, &rows, &e), H_OK);
	assert_int_equal(evidence_head_get(f->db, &live, &e), H_OK);
	assert_string_equal(h.hex, live.hex);
	assert_int_equal(evidence_backup(f->path, f->path, &h, &rows, &e), H_EUSAGE);
	unlink(dest);
}

static int generate(int argc, char **argv)
{
	struct herald_err e;
	struct store *db;
	struct store_open_opts o = { .create = true };
	if (store_open(argv[2], &o, &db, &e)) {
		fprintf(stderr, "%s\n", e.msg);
		return 3;
	}
	if (strcmp(argv[1], "--scenario") == 0)
		gen_scenario(db);
	else if (strcmp(argv[1], "--ack-scenario") == 0)
		gen_ack_scenario(db);
	else {
		/* --append: number the new deliveries after the existing ones. */
		long first = 0;
		if (strcmp(argv[1], "--append") == 0)
			first = (long)sql_int(db, "SELECT count(*) FROM deliveries");
		gen_random(db, first, atol(argv[3]), argc > 4 ? (unsigned)atol(argv[4]) : 1);
	}
	store_close(db);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && (strcmp(argv[1], "--scenario") == 0 ||
			  strcmp(argv[1], "--ack-scenario") == 0))
		return generate(argc, argv);
	if (argc >= 4 && (strcmp(argv[1], "--generate") == 0 ||
			  strcmp(argv[1], "--append") == 0))
		return generate(argc, argv);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clean_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nul_in_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_middle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_tail_and_fix_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_insert_duplicate_seq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_outside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_swap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_forged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_csv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
