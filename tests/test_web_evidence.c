/*
 * test_web_evidence.c - GET /ack/TOKEN and GET /report, called directly
 * with a fake request (the HTTP server is tested on its own).
 *
 * httpd_header and httpd_route are defined here, so the test links
 * without the server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "evidence_gen.h"
#include "herald/store.h"
#include "herald/evidence.h"
#include "herald/httpd.h"
#include "herald/keys.h"
#include "herald/runtime.h"
#include "herald/token.h"
#include "herald/util.h"
#include "herald/web_evidence.h"

/* ------------------------------------------------------- fake server */

struct fake_headers {
	const char *authorization;
};

const char *httpd_header(const struct httpd_req *req, const char *name)
{
	const struct fake_headers *h = req->impl;
	if (h && strcasecmp(name, "Authorization") == 0)
		return h->authorization;
	return NULL;
}

void httpd_route(struct httpd *h, const char *method, const char *prefix,
		 httpd_handler fn, void *ctx)
{
	(void)h; (void)method; (void)prefix; (void)fn; (void)ctx;
}

struct fx {
	char path[64];
	struct runtime rt;
	int64_t seq0;     /* the first delivery not acknowledged */
	struct keyring *k;
	char ackid0[TOKEN_ACKID_LEN + 1];
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);
	snprintf(f->path, sizeof f->path, "/tmp/herald-test-web-XXXXXX");
	int fd = mkstemp(f->path);
	assert_true(fd >= 0);
	close(fd);
	unlink(f->path);
	struct herald_err e;
	struct store_open_opts o = { .create = true };
	assert_int_equal(store_open(f->path, &o, &f->rt.store, &e), H_OK);
	gen_scenario(f->rt.store);
	char *kdir = xasprintf("%s.keys", f->path);
	assert_int_equal(keys_open(kdir, f->rt.store, KEYS_CREATE, &f->k, &e), H_OK);
	free(kdir);
	atomic_store(&f->rt.keys, f->k);
	sqlite3 *h;
	sqlite3_open(f->path, &h);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(h, "SELECT seq, ack FROM deliveries d WHERE NOT EXISTS"
			      " (SELECT 1 FROM acks a WHERE a.ack=d.ack) ORDER BY seq LIMIT 1",
			   -1, &st, NULL);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	f->seq0 = sqlite3_column_int64(st, 0);
	base64url(sqlite3_column_blob(st, 1), 16, f->ackid0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_close(f->rt.store);
	keys_close(f->k);
	char *cmd = xasprintf("rm -rf '%s.keys'", f->path);
	if (system(cmd) != 0)
		fail_msg("%s", cmd);
	free(cmd);
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

static int get(struct fx *f, void (*h)(const struct httpd_req *, struct httpd_resp *, void *),
	       const char *path, const char *suffix, const char *auth, struct buf *body)
{
	struct fake_headers hd = { auth };
	struct httpd_req req = { .method = "GET", .path = path, .suffix = suffix,
				 .remote = "127.0.0.1", .impl = &hd };
	struct httpd_resp resp = { .status = 200 };
	buf_init(&resp.body);
	buf_init(&resp.headers);
	h(&req, &resp, &f->rt);
	buf_free(&resp.headers);
	*body = resp.body;
	return resp.status;
}

static int64_t count_acks(struct fx *f, int64_t delivery)
{
	sqlite3 *h;
	sqlite3_open(f->path, &h);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(h, "SELECT count(*) FROM acks WHERE delivery=?", -1, &st, NULL);
	sqlite3_bind_int64(st, 1, delivery);
	sqlite3_step(st);
	int64_t n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return n;
}

static void assert_verifies(struct fx *f)
{
	struct herald_err e;
	if (evidence_verify(f->rt.store, NULL, NULL, &e))
		fail_msg("verify: %s", e.msg);
}

static void test_ack_first_counts(void **state)
{
	struct fx *f = *state;
	char tok[TOKEN_ACK_LEN + 1], path[128];
	keys_ack_token(runtime_keys(&f->rt), f->ackid0, tok);
	snprintf(path, sizeof path, "/ack/%s", tok);
	struct buf b;
	assert_int_equal(get(f, web_evidence_ack, path, tok, NULL, &b), 200);
	assert_non_null(strstr(b.data, "was recorded"));
	assert_non_null(strstr(b.data, "<html lang=\"en\">"));
	buf_free(&b);
	assert_int_equal(count_acks(f, f->seq0), 1);
	/* A repeat is harmless: same page, nothing new recorded. */
	assert_int_equal(get(f, web_evidence_ack, path, tok, NULL, &b), 200);
	assert_non_null(strstr(b.data, "already acknowledged"));
	buf_free(&b);
	assert_int_equal(count_acks(f, f->seq0), 1);
	assert_verifies(f);
}

static void test_ack_forged(void **state)
{
	struct fx *f = *state;
	char tok[TOKEN_ACK_LEN + 1];
	keys_ack_token(runtime_keys(&f->rt), f->ackid0, tok);
	struct evidence_head before, after;
	struct herald_err e;
	assert_int_equal(evidence_head_get(f->rt.store, &before, &e), H_OK);
	struct buf b;
	/* Altered: each position in turn. */
	for (size_t i = 0; i < TOKEN_ACK_LEN; i += 5) {
		char alt[TOKEN_ACK_LEN + 1];
		memcpy(alt, tok, sizeof alt);
		alt[i] = alt[i] == 'A' ? 'B' : 'A';
		assert_int_equal(get(f, web_evidence_ack, "/ack/x", alt, NULL, &b), 404);
		buf_free(&b);
	}
	/* Truncated, extended, empty, path tricks. */
	const char *bad[] = { "", "abc", "../report", tok + 1 };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(get(f, web_evidence_ack, "/ack/x", bad[i], NULL, &b), 404);
		buf_free(&b);
	}
	char longer[TOKEN_ACK_LEN + 3];
	snprintf(longer, sizeof longer, "%sA", tok);
	assert_int_equal(get(f, web_evidence_ack, "/ack/x", longer, NULL, &b), 404);
	buf_free(&b);
	/* A token made with another key. */
	unsigned char other[32] = { 1 };
	token_ack(other, f->ackid0, tok);
	assert_int_equal(get(f, web_evidence_ack, "/ack/x", tok, NULL, &b), 404);
	buf_free(&b);
	/* A valid MAC for an ack id no delivery has. */
	char ghost[TOKEN_ACKID_LEN + 1];
	unsigned char raw[16];
	random_bytes(raw, sizeof raw);
	base64url(raw, sizeof raw, ghost);
	keys_ack_token(runtime_keys(&f->rt), ghost, tok);
	assert_int_equal(get(f, web_evidence_ack, "/ack/x", tok, NULL, &b), 404);
	buf_free(&b);
	assert_int_equal(evidence_head_get(f->rt.store, &after, &e), H_OK);
	assert_int_equal(before.seq, after.seq);
	assert_int_equal(count_acks(f, f->seq0), 0);
}

static void test_report_auth(void **state)
{
	struct fx *f = *state;
	struct buf b;
	/* No admin token set: refused. */
	assert_int_equal(get(f, web_evidence_report, "/report", "", "Bearer x", &b), 401);
	buf_free(&b);
	unsigned char h[32];
	sha256("s3cret-admin", 12, h);
	struct herald_err e;
	assert_int_equal(store_meta_set(f->rt.store, "admin_token_sha256", h, 32, &e), H_OK);
	assert_int_equal(get(f, web_evidence_report, "/report", "", NULL, &b), 401);
	buf_free(&b);
	assert_int_equal(get(f, web_evidence_report, "/report", "", "Bearer s3cret-admiN", &b), 401);
	buf_free(&b);
	assert_int_equal(get(f, web_evidence_report, "/report", "", "Bearer s3cret-admin", &b), 200);
	assert_non_null(strstr(b.data, "data-comm=\"AWR-Q\" data-aud=\"all-staff\" data-metric=\"late\">2<"));
	assert_null(strstr(b.data, "s3cret"));
	assert_null(strstr(b.data, "<script"));
	buf_free(&b);
	assert_int_equal(get(f, web_evidence_report, "/report?from=2026-03-01&to=2026-03-02", "",
			     "Bearer s3cret-admin", &b), 200);
	assert_non_null(strstr(b.data, "data-comm=\"_total\" data-aud=\"_total\" data-metric=\"recorded\">2<"));
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ack_first_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_forged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_auth, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
