/* test_db.c - the shared schema: append-only evidence, a linked chain. */
#include "testutil.h"

#include <sqlite3.h>
#include <unistd.h>

#include "herald/db.h"
#include "herald/record.h"

static char path[64];

static int setup(void **state)
{
	snprintf(path, sizeof path, "/tmp/herald-test-db-%d.db", (int)getpid());
	unlink(path);
	struct db *db;
	struct herald_err err;
	assert_int_equal(db_open(path, &db, &err), H_OK);
	*state = db;
	return 0;
}

static int teardown(void **state)
{
	db_close(*state);
	char p[80];
	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
	return 0;
}

static void chain_links_rows(void **state)
{
	struct db *db = *state;
	struct herald_err err;
	int64_t seq;
	unsigned char h0[32], h1[32];
	assert_int_equal(db_head(db, &seq, h0, &err), H_OK);
	assert_int_equal(seq, 0);
	assert_int_equal(record_event(db, "start", "test", &err), H_OK);
	assert_int_equal(record_event(db, "stop", NULL, &err), H_OK);
	assert_int_equal(db_head(db, &seq, h1, &err), H_OK);
	assert_int_equal(seq, 2);
	/* The head is the hash of row 2 computed from row 1's hash. */
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db_handle(db),
		"SELECT seq, at, kind, detail, prev, hash FROM events ORDER BY seq", -1, &st, NULL), SQLITE_OK);
	unsigned char prev[32] = { 0 };
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct ev_value v[3] = {
			EVS((const char *)sqlite3_column_text(st, 1)),
			EVS((const char *)sqlite3_column_text(st, 2)),
			EVS((const char *)sqlite3_column_text(st, 3)),
		};
		assert_memory_equal(sqlite3_column_blob(st, 4), prev, 32);
		unsigned char h[32];
		db_row_hash(EV_EVENTS, sqlite3_column_int64(st, 0), v, prev, h);
		assert_memory_equal(sqlite3_column_blob(st, 5), h, 32);
		memcpy(prev, h, 32);
	}
	sqlite3_finalize(st);
	assert_memory_equal(prev, h1, 32);
}

static void evidence_is_append_only(void **state)
{
	struct db *db = *state;
	struct herald_err err;
	assert_int_equal(record_event(db, "start", NULL, &err), H_OK);
	char *msg = NULL;
	assert_int_not_equal(sqlite3_exec(db_handle(db), "UPDATE events SET kind='x'", NULL, NULL, &msg), SQLITE_OK);
	assert_contains(msg, "append-only");
	sqlite3_free(msg);
	msg = NULL;
	assert_int_not_equal(sqlite3_exec(db_handle(db), "DELETE FROM events", NULL, NULL, &msg), SQLITE_OK);
	sqlite3_free(msg);
}

static void encoding_separates_null_empty_and_types(void **state)
{
	(void)state;
	unsigned char z[32] = { 0 }, a[32], b[32], c[32];
	struct ev_value v1[3] = { EVS("t"), EVS(""), EVN };
	struct ev_value v2[3] = { EVS("t"), EVN, EVS("") };
	struct ev_value v3[3] = { EVS("t"), EVS(""), EVS("") };
	db_row_hash(EV_EVENTS, 1, v1, z, a);
	db_row_hash(EV_EVENTS, 1, v2, z, b);
	db_row_hash(EV_EVENTS, 1, v3, z, c);
	assert_memory_not_equal(a, b, 32);
	assert_memory_not_equal(a, c, 32);
	/* Field boundaries are length-prefixed: "ab","c" differs from "a","bc". */
	struct ev_value w1[3] = { EVS("ab"), EVS("c"), EVN };
	struct ev_value w2[3] = { EVS("a"), EVS("bc"), EVN };
	db_row_hash(EV_EVENTS, 1, w1, z, a);
	db_row_hash(EV_EVENTS, 1, w2, z, b);
	assert_memory_not_equal(a, b, 32);
	/* The sequence number is part of the row. */
	db_row_hash(EV_EVENTS, 2, w1, z, c);
	db_row_hash(EV_EVENTS, 1, w1, z, a);
	assert_memory_not_equal(a, c, 32);
}

static void server_key_is_stable(void **state)
{
	struct db *db = *state;
	struct herald_err err;
	unsigned char k1[32], k2[32];
	assert_int_equal(db_server_key(db, k1, &err), H_OK);
	assert_int_equal(db_server_key(db, k2, &err), H_OK);
	assert_memory_equal(k1, k2, 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(chain_links_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(evidence_is_append_only, setup, teardown),
		cmocka_unit_test(encoding_separates_null_empty_and_types),
		cmocka_unit_test_setup_teardown(server_key_is_stable, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
