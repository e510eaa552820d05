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
#include <stdint.h>
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
#include "herald/plan.h"
#include "herald/runtime.h"
#include "herald/token.h"
#include "herald/util.h"
#include "herald/web_evidence.h"

/* ------------------------------------------------------- fake server */

struct fake_headers {
	const char *authorization;
	const char *more[12];      /* name, value, …, NULL */
};

const char *httpd_header(const struct httpd_req *req, const char *name)
{
	const struct fake_headers *h = req->impl;
	if (h && strcasecmp(name, "Authorization") == 0)
		return h->authorization;
	for (size_t i = 0; h && i + 1 < 12 && h->more[i]; i += 2)
		if (strcasecmp(name, h->more[i]) == 0)
			return h->more[i + 1];
	return NULL;
}

void httpd_route(struct httpd *h, const char *method, const char *prefix,
		 httpd_handler fn, void *ctx)
{
	(void)h; (void)method; (void)prefix; (void)fn; (void)ctx;
}

/* The plan in force: gen_scenario's communication, in London. */
static const char page_plan[] =
	"{\"plan\": {\"id\": \"ACME-TEST\", \"version\": \"2.1\", \"owner\": \"Dana\","
	" \"timezone\": \"Europe/London\"},"
	" \"channels\": {\"slack-staff\": {\"type\": \"webhook\", \"url\": \"https://hooks.example/x\"}},"
	" \"audiences\": {\"all-staff\": {\"name\": \"All staff\", \"scope\": \"internal\","
	"   \"deliver\": [{\"channel\": \"slack-staff\"}]}},"
	" \"communications\": [{\"id\": \"AWR-Q\", \"topic\": \"Quarterly security awareness\","
	"   \"description\": \"Awareness every quarter.\", \"audiences\": [\"all-staff\"],"
	"   \"owner\": \"Dana Reyes\", \"schedule\": {\"cadence\": \"quarterly\","
	"   \"start\": \"2026-03-02T00:00\"}, \"acknowledge\": true}]}";

struct fx {
	char path[64];
	struct runtime rt;
	int64_t seq0;     /* the first delivery not acknowledged */
	struct keyring *k;
	struct plan *plan;
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
	struct plan_load_opts po = { 0 };
	if (plan_load_buf("t.json", page_plan, strlen(page_plan), &po, &f->plan, &e))
		fail_msg("plan: %s", e.msg);
	atomic_store(&f->rt.plan, f->plan);
	f->rt.base_url = "https://acks.example.org";
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
	plan_free(f->plan);
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

static int request(struct fx *f, void (*h)(const struct httpd_req *, struct httpd_resp *, void *),
		   const char *method, const char *suffix, const struct fake_headers *hd,
		   const char *body, struct buf *out)
{
	char path[160];
	snprintf(path, sizeof path, "/ack/%s", suffix);
	struct httpd_req req = { .method = method, .path = path, .suffix = suffix,
				 .remote = "127.0.0.1", .impl = (void *)(uintptr_t)hd,
				 .body = body ? body : "", .body_len = body ? strlen(body) : 0 };
	struct httpd_resp resp = { .status = 200 };
	buf_init(&resp.body);
	buf_init(&resp.headers);
	h(&req, &resp, &f->rt);
	if (resp.status == 200)
		assert_non_null(strstr(resp.headers.data ? resp.headers.data : "",
				       "form-action 'self'"));
	buf_free(&resp.headers);
	*out = resp.body;
	return resp.status;
}

static int get(struct fx *f, void (*h)(const struct httpd_req *, struct httpd_resp *, void *),
	       const char *path, const char *suffix, const char *auth, struct buf *body)
{
	struct fake_headers hd = { auth, { NULL } };
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

static int64_t head_seq(struct fx *f)
{
	struct evidence_head h;
	struct herald_err e;
	assert_int_equal(evidence_head_get(f->rt.store, &h, &e), H_OK);
	return h.seq;
}

static const struct fake_headers FORM = { NULL, { "Content-Type",
	"application/x-www-form-urlencoded", "Host", "herald.example", NULL } };

/* Opening the link shows the page and records nothing; the button
 * records once; repeats are harmless and the page then says so. */
static void test_ack_two_steps(void **state)
{
	struct fx *f = *state;
	char tok[TOKEN_ACK_LEN + 1];
	keys_ack_token(runtime_keys(&f->rt), f->ackid0, tok);
	int64_t before = head_seq(f);
	struct buf b;
	const char *methods[] = { "GET", "HEAD" };
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(request(f, web_evidence_ack_page, methods[i], tok, NULL, NULL, &b), 200);
		assert_non_null(strstr(b.data, "<form method=\"post\" action=\"/ack/"));
		assert_non_null(strstr(b.data, tok));
		assert_non_null(strstr(b.data, ">I have read this</button>"));
		assert_non_null(strstr(b.data, "Quarterly security awareness"));
		assert_non_null(strstr(b.data, "Awareness every quarter"));      /* description */
		assert_non_null(strstr(b.data, "Dana Reyes"));                   /* owner */
		assert_non_null(strstr(b.data, "ACME-TEST, version 2.1"));
		/* The occurrence 2026-03-29T00:00Z: in London the last hour of GMT. */
		assert_non_null(strstr(b.data, "Sunday 29 March 2026 at 00:00 (Europe/London, UTC+00:00)"));
		assert_null(strstr(b.data, "<script"));
		buf_free(&b);
	}
	assert_int_equal(count_acks(f, f->seq0), 0);
	assert_int_equal(head_seq(f), before);
	assert_int_equal(request(f, web_evidence_ack, "POST", tok, &FORM, "confirm=read", &b), 200);
	assert_non_null(strstr(b.data, "was recorded on"));
	assert_non_null(strstr(b.data, "(Europe/London, UTC+00:00)"));
	buf_free(&b);
	assert_int_equal(count_acks(f, f->seq0), 1);
	assert_int_equal(request(f, web_evidence_ack, "POST", tok, &FORM, "x=1&confirm=read", &b), 200);
	assert_non_null(strstr(b.data, "already acknowledged"));
	buf_free(&b);
	assert_int_equal(count_acks(f, f->seq0), 1);
	assert_int_equal(request(f, web_evidence_ack_page, "GET", tok, NULL, NULL, &b), 200);
	assert_non_null(strstr(b.data, "You already acknowledged this on"));
	assert_null(strstr(b.data, "<form"));
	buf_free(&b);
	assert_verifies(f);
}

/* Requests the button would never make record nothing, with a clear
 * status each. */
static void test_ack_refusals(void **state)
{
	struct fx *f = *state;
	char tok[TOKEN_ACK_LEN + 1];
	keys_ack_token(runtime_keys(&f->rt), f->ackid0, tok);
	int64_t before = head_seq(f);
	struct buf b;
	static const struct fake_headers cross = { NULL, { "Sec-Fetch-Site", "cross-site",
		"Host", "herald.example", NULL } };
	static const struct fake_headers same_site = { NULL, { "Sec-Fetch-Site", "same-site", NULL } };
	static const struct fake_headers evil = { NULL, { "Origin", "https://evil.example",
		"Host", "herald.example", NULL } };
	static const struct fake_headers null_origin = { NULL, { "Origin", "null", NULL } };
	static const struct fake_headers json = { NULL, { "Content-Type", "application/json", NULL } };
	const struct { const struct fake_headers *h; const char *body; int status; } bad[] = {
		{ &cross, "confirm=read", 403 },
		{ &same_site, "confirm=read", 403 },
		{ &evil, "confirm=read", 403 },
		{ &null_origin, "confirm=read", 403 },
		{ &json, "{\"confirm\":\"read\"}", 415 },
		{ &FORM, "", 400 },
		{ &FORM, "confirm=yes", 400 },
		{ &FORM, "confirm=reading", 400 },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(request(f, web_evidence_ack, "POST", tok, bad[i].h, bad[i].body, &b),
				 bad[i].status);
		assert_non_null(strstr(b.data, "Nothing was recorded"));
		buf_free(&b);
	}
	char big[WEB_ACK_MAX_BODY + 32];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	memcpy(big, "confirm=read&x=", 15);
	assert_int_equal(request(f, web_evidence_ack, "POST", tok, &FORM, big, &b), 413);
	buf_free(&b);
	/* Trailing garbage after the token, on either method. */
	char longer[TOKEN_ACK_LEN + 8];
	snprintf(longer, sizeof longer, "%s/x", tok);
	assert_int_equal(request(f, web_evidence_ack, "POST", longer, &FORM, "confirm=read", &b), 404);
	buf_free(&b);
	assert_int_equal(request(f, web_evidence_ack_page, "GET", longer, NULL, NULL, &b), 404);
	buf_free(&b);
	assert_int_equal(count_acks(f, f->seq0), 0);
	assert_int_equal(head_seq(f), before);
	/* The same origin, named by Origin (Host or the base URL), is fine. */
	static const struct fake_headers own = { NULL, { "Origin", "http://herald.example",
		"Host", "herald.example", "Sec-Fetch-Site", "same-origin",
		"Content-Type", "application/x-www-form-urlencoded; charset=UTF-8", NULL } };
	assert_int_equal(request(f, web_evidence_ack, "POST", tok, &own, "confirm=read", &b), 200);
	buf_free(&b);
	assert_int_equal(count_acks(f, f->seq0), 1);
	static const struct fake_headers base = { NULL, { "Origin", "https://Acks.Example.ORG",
		"Host", "127.0.0.1:8080", NULL } };
	assert_int_equal(request(f, web_evidence_ack, "POST", tok, &base, "confirm=read", &b), 200);
	assert_non_null(strstr(b.data, "already acknowledged"));
	buf_free(&b);
}

static void test_ack_forged(void **state)
{
	struct fx *f = *state;
	char tok[TOKEN_ACK_LEN + 1];
	keys_ack_token(runtime_keys(&f->rt), f->ackid0, tok);
	int64_t before = head_seq(f);
	struct buf b;
	/* GET and POST alike. */
	void (*handlers[])(const struct httpd_req *, struct httpd_resp *, void *) = {
		web_evidence_ack_page, web_evidence_ack,
	};
	const char *methods[] = { "GET", "POST" };
	for (int h = 0; h < 2; h++) {
		/* Altered: each position in turn. */
		for (size_t i = 0; i < TOKEN_ACK_LEN; i += 5) {
			char alt[TOKEN_ACK_LEN + 1];
			memcpy(alt, tok, sizeof alt);
			alt[i] = alt[i] == 'A' ? 'B' : 'A';
			assert_int_equal(request(f, handlers[h], methods[h], alt, &FORM, "confirm=read", &b),
					 404);
			buf_free(&b);
		}
		/* Truncated, extended, empty, path tricks. */
		char longer[TOKEN_ACK_LEN + 3];
		snprintf(longer, sizeof longer, "%sA", tok);
		const char *bad[] = { "", "abc", "../report", tok + 1, longer };
		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			assert_int_equal(request(f, handlers[h], methods[h], bad[i], &FORM, "confirm=read",
						 &b), 404);
			buf_free(&b);
		}
		/* A token made with another key. */
		unsigned char other[32] = { 1 };
		char o[TOKEN_ACK_LEN + 1];
		token_ack(other, f->ackid0, o);
		assert_int_equal(request(f, handlers[h], methods[h], o, &FORM, "confirm=read", &b), 404);
		buf_free(&b);
		/* A valid MAC for an ack id no delivery has. */
		char ghost[TOKEN_ACKID_LEN + 1];
		unsigned char raw[16];
		random_bytes(raw, sizeof raw);
		base64url(raw, sizeof raw, ghost);
		keys_ack_token(runtime_keys(&f->rt), ghost, o);
		assert_int_equal(request(f, handlers[h], methods[h], o, &FORM, "confirm=read", &b), 404);
		buf_free(&b);
	}
	assert_int_equal(head_seq(f), before);
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
		cmocka_unit_test_setup_teardown(test_ack_two_steps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_forged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_auth, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
