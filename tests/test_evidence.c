/*
 * test_evidence.c - the hash chain, verify, checkpoints and export.
 *
 * Also the evidence generator of the integration tests and the bench:
 *   test_evidence --generate DB N [SEED]   a realistic mix of N deliveries
 *   test_evidence --append DB N [SEED]     N more deliveries
 *   test_evidence --scenario DB            the scripted mix of report.sh
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
#include "herald/db.h"
#include "herald/evidence.h"
#include "herald/util.h"

struct fx {
	char path[64];
	struct db *db;
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
	assert_int_equal(db_open(f->path, &f->db, &e), H_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	db_close(f->db);
	char p[96];
	unlink(f->path);
	snprintf(p, sizeof p, "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", f->path);
	unlink(p);
	free(f);
	return 0;
}

static void sql(struct db *db, const char *q)
{
	char *msg = NULL;
	if (sqlite3_exec(db_handle(db), q, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", q, msg);
}

static void drop_triggers(struct db *db)
{
	for (int t = 0; t < EV_NTABLES; t++) {
		char q[256];
		const char *n = db_table((enum ev_table)t)->name;
		snprintf(q, sizeof q, "DROP TRIGGER %s_no_update; DROP TRIGGER %s_no_delete;", n, n);
		sql(db, q);
	}
}

/* Runs verify; returns its rc and copies the message. */
static enum herald_rc verify(struct db *db, char *msg, size_t n)
{
	struct herald_err e;
	herald_err_clear(&e);
	struct evidence_head h;
	enum herald_rc rc = evidence_verify(db, &h, NULL, &e);
	snprintf(msg, n, "%s", e.msg);
	return rc;
}

static void expect_bad(struct db *db, const char *needle)
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
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db_handle(f->db),
			   "SELECT seq FROM deliveries WHERE recipient='eve@evil.example'",
			   -1, &st, NULL);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	char want[64];
	snprintf(want, sizeof want, "deliveries seq %lld: contents",
		 (long long)sqlite3_column_int64(st, 0));
	sqlite3_finalize(st);
	expect_bad(f->db, want);
}

static void test_edit_type(void **state)
{
	struct fx *f = *state;
	gen_scenario(f->db);
	drop_triggers(f->db);
	/* A REAL is a type herald never writes. */
	sql(f->db, "UPDATE attempts SET latency_ms=120.5 WHERE seq=(SELECT min(seq) FROM attempts)");
	expect_bad(f->db, "latency_ms holds a value of a type");
}

static void test_nul_in_text(void **state)
{
	struct fx *f = *state;
	gen_scenario(f->db);
	drop_triggers(f->db);
	sql(f->db, "UPDATE events SET kind=CAST(kind || x'00' || 'xyz' AS TEXT) WHERE seq=2");
	expect_bad(f->db, "events seq 2: kind holds a NUL");
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
	sql(f->db, "INSERT INTO events(seq,at,kind,detail,prev,hash) "
		   "SELECT seq,at,'forged',NULL,prev,hash FROM acks WHERE seq=(SELECT min(seq) FROM acks)");
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
	struct ev_value v[] = { EVS("2026-06-01T00:00:00Z"), EVS("forged"), EVN };
	unsigned char hash[32];
	db_row_hash(EV_EVENTS, h.seq + 1, v, h.hash, hash);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db_handle(f->db),
			   "INSERT INTO events(seq,at,kind,detail,prev,hash) VALUES(?,?,?,NULL,?,?)",
			   -1, &st, NULL);
	sqlite3_bind_int64(st, 1, h.seq + 1);
	sqlite3_bind_text(st, 2, v[0].s, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, v[1].s, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, h.hash, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, hash, 32, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
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
	sql(f->db, "CREATE TEMP TABLE two AS SELECT seq FROM acks ORDER BY seq LIMIT 2");
	sql(f->db, "UPDATE acks SET seq=-seq WHERE seq IN (SELECT seq FROM two)");
	sql(f->db, "UPDATE acks SET seq=(SELECT max(seq) FROM two) WHERE seq=-(SELECT min(seq) FROM two)");
	sql(f->db, "UPDATE acks SET seq=(SELECT min(seq) FROM two) WHERE seq=-(SELECT max(seq) FROM two)");
	expect_bad(f->db, "acks seq");
}

static void test_checkpoint(void **state)
{
	struct fx *f = *state;
	gen_scenario(f->db);
	struct evidence_head h;
	struct herald_err e;
	assert_int_equal(evidence_verify(f->db, &h, NULL, &e), H_OK);
	struct buf b;
	buf_init(&b);
	assert_int_equal(evidence_checkpoint(f->db, &h, &b, &e), H_OK);
	assert_non_null(strstr(b.data, h.hex));
	/* The log grows: still good. */
	gen_event(f->db, 1800000000, "later", NULL);
	assert_int_equal(evidence_check_checkpoint(f->db, b.data, &e), H_OK);
	/* An altered statement. */
	char *alt = xstrdup(b.data);
	char *p = strstr(alt, "head-seq: ");
	p[10] = p[10] == '1' ? '2' : '1';
	assert_int_equal(evidence_check_checkpoint(f->db, alt, &e), H_EINVAL);
	assert_non_null(strstr(e.msg, "signature"));
	free(alt);
	/* The log rewritten up to the checkpoint, chain recomputed. */
	drop_triggers(f->db);
	char q[160];
	snprintf(q, sizeof q, "UPDATE events SET hash=zeroblob(32) WHERE seq=%lld", (long long)h.seq);
	sql(f->db, q);
	assert_int_equal(evidence_check_checkpoint(f->db, b.data, &e), H_EINVAL);
	assert_non_null(strstr(e.msg, "no longer"));
	buf_free(&b);
}

static void test_export_csv(void **state)
{
	struct fx *f = *state;
	gen_scenario(f->db);
	/* A hostile topic: formula, quotes and a newline. */
	struct herald_err e;
	assert_int_equal(db_begin(f->db, &e), H_OK);
	struct gen_delivery g = { "X", "=cmd|' /C calc'!A0, \"q\"\nline", "aud",
				  "slack", "s", NULL, NULL, NULL, NULL, NULL,
				  1775000000 };
	gen_one(f->db, &g, 99, G_ONTIME, 0, 0);
	assert_int_equal(db_commit(f->db, &e), H_OK);
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	int64_t n;
	assert_int_equal(evidence_export(f->db, "2026-01-01T00:00:00Z", NULL,
					 EVIDENCE_CSV, m, &n, &e), H_OK);
	fclose(m);
	assert_int_equal(n, 20);
	assert_non_null(strstr(out, "\"'=cmd|' /C calc'!A0, \"\"q\"\"\nline\""));
	assert_non_null(strstr(out, "\r\n# chain head: seq "));
	assert_non_null(strstr(out, "late"));
	free(out);
	/* A window keeps only deliveries due in it. */
	m = open_memstream(&out, &len);
	assert_int_equal(evidence_export(f->db, "2026-03-01", "2026-03-02",
					 EVIDENCE_JSON, m, &n, &e), H_OK);
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
	struct db *db;
	if (db_open(argv[2], &db, &e)) {
		fprintf(stderr, "%s\n", e.msg);
		return 3;
	}
	/* A generated database is thrown away on a crash: skip the fsyncs. */
	sqlite3_exec(db_handle(db), "PRAGMA synchronous=OFF; PRAGMA cache_size=-262144",
		     NULL, NULL, NULL);
	if (strcmp(argv[1], "--scenario") == 0)
		gen_scenario(db);
	else {
		/* --append: number the new deliveries after the existing ones. */
		long first = 0;
		sqlite3_stmt *st;
		if (strcmp(argv[1], "--append") == 0 &&
		    sqlite3_prepare_v2(db_handle(db), "SELECT count(*) FROM deliveries", -1,
				       &st, NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW)
				first = (long)sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		}
		gen_random(db, first, atol(argv[3]), argc > 4 ? (unsigned)atol(argv[4]) : 1);
	}
	db_close(db);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "--scenario") == 0)
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
		cmocka_unit_test_setup_teardown(test_export_csv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
