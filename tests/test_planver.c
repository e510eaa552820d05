/*
 * test_planver.c - the plan's versions in the evidence: grouped by
 * content (comments and a YAML twin are no new version), the
 * change-without-approval rule (same version or same approval date, a
 * revert is no change), and finding versions by label or SHA-256 prefix.
 */
#include "testutil.h"

#include <unistd.h>

#include "herald/planver.h"
#include "herald/record.h"
#include "herald/store.h"
#include "herald/util.h"

static char path[80];

static void rm_db(void)
{
	char x[128];
	unlink(path);
	snprintf(x, sizeof x, "%s-wal", path);
	unlink(x);
	snprintf(x, sizeof x, "%s-shm", path);
	unlink(x);
	snprintf(x, sizeof x, "%s.witness", path);
	unlink(x);
}

static int setup(void **state)
{
	snprintf(path, sizeof path, "/tmp/herald-test-planver-%d.db", (int)getpid());
	rm_db();
	struct store *s;
	struct herald_err err;
	struct store_open_opts o = { .create = true };
	if (store_open(path, &o, &s, &err))
		fail_msg("open: %s", err.msg);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	store_close(*state);
	rm_db();
	return 0;
}

static const char *PLAN =
	"# why: COMMENT\n"
	"plan:\n"
	"  id: P\n"
	"  version: \"VERSION\"\n"
	"  owner: O\n"
	"  approved_by: CISO\n"
	"  approved_on: APPROVED\n"
	"  timezone: UTC\n"
	"channels:\n"
	"  s: {type: slack, webhook: \"env:PV_HOOK\"}\n"
	"audiences:\n"
	"  a: {scope: external, deliver: [{channel: s}]}\n"
	"communications:\n"
	"  - {id: C, topic: TOPIC, audiences: [a], owner: o, schedule: {trigger: manual}}\n";

static struct plan *plan_of(const char *version, const char *approved, const char *topic,
			    const char *comment)
{
	char *a = replace(PLAN, "VERSION", version);
	char *b = replace(a, "APPROVED", approved);
	char *c = replace(b, "TOPIC", topic);
	char *d = replace(c, "COMMENT", comment);
	struct plan_load_opts o = { .demo_secrets = true };
	struct plan *p = NULL;
	struct herald_err err;
	herald_err_clear(&err);
	if (plan_load_buf("plan.yaml", d, strlen(d), &o, &p, &err))
		fail_msg("%s", err.msg);
	free(a);
	free(b);
	free(c);
	free(d);
	return p;
}

/* Records p as loaded; returns its content SHA-256 (static buffer). */
static void load(struct store *s, struct plan *p, char sha[65])
{
	struct herald_err err;
	herald_err_clear(&err);
	if (record_plan(s, p, "reloaded", &err))
		fail_msg("record: %s", err.msg);
	if (sha)
		memcpy(sha, p->content_sha256, 65);
	plan_free(p);
}

static void history(struct store *s, struct planver_history *h)
{
	struct herald_err err;
	herald_err_clear(&err);
	if (planver_read(s, h, &err))
		fail_msg("read: %s", err.msg);
}

static void grouped_by_content(void **state)
{
	struct store *s = *state;
	char v1[65], v1b[65];
	load(s, plan_of("1.0", "2026-01-10", "Topic", "first"), v1);
	load(s, plan_of("1.0", "2026-01-10", "Topic", "comment edited"), v1b);
	assert_string_equal(v1, v1b);   /* a comment is no new content */
	struct planver_history h;
	history(s, &h);
	assert_int_equal(h.n, 1);
	assert_true(h.v[0].has_content);
	assert_int_equal(h.v[0].loads, 2);
	assert_int_equal(h.v[0].nfiles, 2);            /* two files, one content */
	assert_int_equal(h.v[0].approved, -1);
	assert_contains(h.v[0].text, "# why: comment edited");   /* the newest text */
	planver_free(&h);
}

static void rule(void **state)
{
	struct store *s = *state;
	char a[65], b[65], c[65], d[65];
	load(s, plan_of("1.0", "2026-01-10", "Topic", "x"), a);
	load(s, plan_of("1.0", "2026-01-10", "Topic changed", "x"), b);   /* same version */
	load(s, plan_of("1.0", "2026-01-10", "Topic", "x"), NULL);       /* back: no change */
	load(s, plan_of("1.1", "2026-01-10", "Topic 1.1", "x"), c);      /* same date */
	load(s, plan_of("2.0", "2026-02-01", "Topic 2", "x"), d);        /* approved */
	struct planver_history h;
	history(s, &h);
	assert_int_equal(h.n, 4);
	assert_string_equal(h.v[0].sha256, a);
	assert_int_equal(h.v[0].loads, 2);
	assert_int_equal(h.v[0].approved, -1);
	assert_string_equal(h.v[1].sha256, b);
	assert_int_equal(h.v[1].approved, 0);
	assert_string_equal(h.v[2].sha256, c);
	assert_int_equal(h.v[2].approved, 0);
	assert_int_equal(h.v[3].approved, -1);

	struct planver_verdict v;
	planver_judge(&h, "P", "1.0", "2026-01-10", b, &v);
	assert_true(v.changed);
	assert_true(v.same_version);
	assert_string_equal(v.approved_sha256, a);
	struct buf w;
	buf_init(&w);
	planver_words(&v, b, &w);
	assert_contains(w.data, "under version 1.0 approved on 2026-01-10, yet it keeps the same version");
	buf_free(&w);
	planver_judge(&h, "P", "1.1", "2026-01-10", c, &v);
	assert_true(v.changed);
	assert_false(v.same_version);
	planver_judge(&h, "P", "1.0", "2026-01-10", a, &v);
	assert_false(v.changed);
	/* New content not yet loaded: judged against everything. */
	planver_judge(&h, "P", "2.0", "2026-03-01", "00ff", &v);
	assert_true(v.changed);
	assert_string_equal(v.approved_sha256, d);
	planver_judge(&h, "P", "3.0", "2026-03-01", "00ff", &v);
	assert_false(v.changed);
	planver_judge(&h, "OTHER", "1.0", "2026-01-10", "00ff", &v);
	assert_false(v.changed);   /* another plan's versions are its own */

	size_t f[4];
	assert_int_equal(planver_find(&h, "1.0", f, 4), 2);
	assert_int_equal(planver_find(&h, "2.0", f, 4), 1);
	assert_int_equal(f[0], 3);
	char pre[9];
	snprintf(pre, sizeof pre, "%.8s", c);
	assert_int_equal(planver_find(&h, pre, f, 4), 1);
	assert_int_equal(f[0], 2);
	assert_int_equal(planver_find(&h, h.v[1].files[0], f, 4), 1);   /* a file SHA-256 */
	assert_int_equal(f[0], 1);
	assert_int_equal(planver_find(&h, "abc", f, 4), 0);   /* too short a prefix */
	assert_int_equal(planver_find(&h, "9.9", f, 4), 0);
	planver_free(&h);
}

/* Rows without a text (herald before texts were stored) join by file. */
static void rows_without_text(void **state)
{
	struct store *s = *state;
	struct plan *p = plan_of("1.0", "2026-01-10", "Topic", "x");
	unsigned char sha[32];
	assert_true(hex_decode(p->sha256, sha, 32));
	struct store_plan_version old = { .at = 1000, .event = "loaded", .plan_id = "P",
					  .version = "0.9", .sha256 = (const unsigned char *)"0123456789abcdef0123456789abcdef",
					  .path = "plan.yaml" };
	struct store_plan_version same = { .at = 1001, .event = "loaded", .plan_id = "P",
					   .version = "1.0", .sha256 = sha, .path = "plan.yaml" };
	struct herald_err err;
	assert_int_equal(store_begin(s, &err), H_OK);
	assert_int_equal(store_plan_version_add(s, &old, NULL, &err), H_OK);
	assert_int_equal(store_plan_version_add(s, &same, NULL, &err), H_OK);
	assert_int_equal(store_commit(s, &err), H_OK);
	load(s, p, NULL);
	struct planver_history h;
	history(s, &h);
	assert_int_equal(h.n, 2);
	assert_false(h.v[0].has_content);       /* 0.9: content unknown */
	assert_null(h.v[0].text);
	assert_true(h.v[1].has_content);        /* 1.0: its old row joined by file */
	assert_int_equal(h.v[1].loads, 2);
	assert_int_equal(h.v[1].first, 1001);
	assert_int_equal(h.v[1].approved, -1);
	planver_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(grouped_by_content, setup, teardown),
		cmocka_unit_test_setup_teardown(rule, setup, teardown),
		cmocka_unit_test_setup_teardown(rows_without_text, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
