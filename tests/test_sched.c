/*
 * test_sched.c - recurrence against independent vectors (tests/data/vectors:
 * python-dateutil + zoneinfo), the rule shapes herald refuses, and the
 * schedule kinds of the plan (cadence, at, until, except).
 *
 * Every vector either matches exactly or is refused by sched_compile_rule
 * with the message of its shape; the expected refusals are listed below,
 * so a change in libical or in herald's checks shows up here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

#include "vectors.h"

#ifndef VECTOR_DIR
#define VECTOR_DIR "tests/data/vectors"
#endif

/*
 * The shapes RFC 5545 §3.3.10 forbids, which python-dateutil accepts with
 * meanings of its own (docs/recurrence.md): every dateutil vector of
 * these shapes is refused with this message, every other one matches.
 */
#define SHAPE_WEEKNO_FREQ "BYWEEKNO is only allowed with FREQ=YEARLY"
#define SHAPE_YEARDAY_FREQ "BYYEARDAY is not allowed with FREQ=DAILY, WEEKLY or MONTHLY"
#define SHAPE_WEEKLY_MONTHDAY "BYMONTHDAY is not allowed with FREQ=WEEKLY"

static const char *expected_refusal(const struct vec *v)
{
	const char *r = v->rrule;
	bool yearly = strstr(r, "FREQ=YEARLY") != NULL;
	bool dwm = strstr(r, "FREQ=DAILY") || strstr(r, "FREQ=WEEKLY") ||
		   strstr(r, "FREQ=MONTHLY");
	if (strstr(r, "BYWEEKNO") && !yearly)
		return SHAPE_WEEKNO_FREQ;
	if (strstr(r, "BYYEARDAY") && dwm)
		return SHAPE_YEARDAY_FREQ;
	if (strstr(r, "BYMONTHDAY") && strstr(r, "FREQ=WEEKLY"))
		return SHAPE_WEEKLY_MONTHDAY;
	return NULL;
}

static void print_failure(const struct vec *v, const struct vec_result *r,
			  const char *want)
{
	print_error("line %d (%s) %s: %s%s%s\n", v->line, v->name, v->rrule,
		    r->status == VEC_REJECTED ? "refused: " : "", r->msg,
		    want ? "" : " (expected a match)");
}

static void run_file(const char *file, size_t *match, size_t *reject)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", VECTOR_DIR, file);
	struct vec *v;
	long n = vec_load(path, &v);
	assert_true(n > 0);
	static struct vec_result r;
	int bad = 0;
	for (long i = 0; i < n; i++) {
		const char *want = expected_refusal(&v[i]);
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		vec_run(&v[i], &r);
		clock_gettime(CLOCK_MONOTONIC, &b);
		double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
		if (secs > 1.0) {
			print_error("line %d (%s): took %.2f s\n", v[i].line, v[i].name, secs);
			bad++;
		}
		if (want && r.status == VEC_REJECTED && strstr(r.msg, want)) {
			(*reject)++;
			continue;
		}
		if (!want && r.status == VEC_MATCH) {
			(*match)++;
			continue;
		}
		if (want && r.status != VEC_REJECTED)
			print_error("expected refusal \"%s\"\n", want);
		print_failure(&v[i], &r, want);
		bad++;
	}
	free(v);
	assert_int_equal(bad, 0);
}

static void test_tz_vectors(void **state)
{
	size_t match = 0, reject = 0;
	run_file("tz_vectors.txt", &match, &reject);
	assert_int_equal(match, 14);
	assert_int_equal(reject, 0);
}

static void test_dateutil_vectors(void **state)
{
	size_t match = 0, reject = 0;
	run_file("dateutil_vectors.txt", &match, &reject);
	assert_int_equal(match + reject, 211);
	/* 30 BYWEEKNO outside YEARLY, 12 BYYEARDAY in DAILY/WEEKLY/MONTHLY,
	 * 4 BYMONTHDAY in WEEKLY. */
	assert_int_equal(reject, 46);
	assert_int_equal(match, 165);
}

/* ---------- expansion windows ---------- */

struct collect {
	struct occurrence o[1024];
	size_t n;
};

static int collect(const struct occurrence *o, void *ctx)
{
	struct collect *c = ctx;
	if (c->n < 1024)
		c->o[c->n++] = *o;
	return 0;
}

static void compile(struct schedule *s, const char *zone, const char *start,
		    const char *rule)
{
	memset(s, 0, sizeof *s);
	s->kind = SCHED_RRULE;
	s->tz = tz_get(zone);
	s->duration = 1800;
	assert_non_null(s->tz);
	assert_true(parse_local(start, &s->start));
	struct herald_err err;
	herald_err_clear(&err);
	enum herald_rc rc = sched_compile_rule(s, rule, &err);
	if (rc)
		print_error("%s: %s\n", rule, err.msg);
	assert_int_equal(rc, H_OK);
}

static int64_t instant(const char *rfc3339)
{
	int64_t t;
	assert_true(parse_rfc3339(rfc3339, &t));
	return t;
}

/*
 * A window that starts late must give exactly the tail of the full
 * expansion: whatever shortcut expansion takes to reach the window (COUNT
 * still counts from DTSTART), the answer is the same.
 */
static void test_windows_are_tails(void **state)
{
	static const struct {
		const char *zone, *start, *rule;
	} rules[] = {
		{ "Europe/London", "2025-01-31T09:00", "FREQ=MONTHLY" },
		{ "Europe/London", "2025-01-31T09:00", "FREQ=MONTHLY;COUNT=20" },
		{ "America/New_York", "2025-03-07T02:30", "FREQ=DAILY" },
		{ "America/New_York", "2025-01-01T09:00", "FREQ=DAILY;INTERVAL=3;COUNT=400" },
		{ "Australia/Sydney", "2025-01-31T17:00", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1" },
		{ "Australia/Lord_Howe", "2025-01-06T02:15", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,SU" },
		{ "Europe/Berlin", "2025-01-06T10:00", "FREQ=MONTHLY;INTERVAL=3;BYDAY=1MO" },
		{ "Europe/Berlin", "2024-02-29T10:00", "FREQ=YEARLY" },
		{ "UTC", "2025-01-01T09:00", "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU;UNTIL=20401231T000000Z" },
		{ "Europe/Paris", "2025-01-01T09:00", "FREQ=DAILY;BYHOUR=9,15;BYMINUTE=0,30;COUNT=300" },
	};
	static struct collect all, part;
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		struct schedule s;
		compile(&s, rules[i].zone, rules[i].start, rules[i].rule);
		all.n = 0;
		int64_t lo = instant("2020-01-01T00:00:00Z");
		int64_t hi = instant("2070-01-01T00:00:00Z");
		assert_int_equal(sched_expand(&s, lo, hi, collect, &all), 0);
		if (all.n <= 10)
			print_error("%s: %zu\n", rules[i].rule, all.n);
		assert_true(all.n > 10);
		for (size_t k = 1; k < all.n; k += all.n / 7 + 1) {
			part.n = 0;
			/* From just after occurrence k-1 to just before the last. */
			int64_t from = all.o[k - 1].start + 1;
			int64_t to = all.o[all.n - 1].start;
			assert_int_equal(sched_expand(&s, from, to, collect, &part), 0);
			assert_int_equal(part.n, all.n - 1 - k);
			for (size_t j = 0; j < part.n; j++) {
				assert_int_equal(part.o[j].start, all.o[k + j].start);
				assert_int_equal(part.o[j].end, all.o[k + j].end);
			}
		}
		sched_clear(&s);
	}
}

static void test_half_open_window(void **state)
{
	struct schedule s;
	compile(&s, "Europe/London", "2026-01-05T09:00", "FREQ=DAILY");
	static struct collect c;
	c.n = 0;
	sched_expand(&s, instant("2026-01-06T09:00:00Z"),
		     instant("2026-01-08T09:00:00Z"), collect, &c);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.o[0].start, instant("2026-01-06T09:00:00Z"));
	assert_int_equal(c.o[1].start, instant("2026-01-07T09:00:00Z"));
	sched_clear(&s);
}

static void test_except_and_until(void **state)
{
	struct schedule s;
	compile(&s, "America/New_York", "2025-03-07T02:30", "FREQ=DAILY");
	int64_t ex;
	assert_true(parse_local("2025-03-08T02:30", &ex));
	s.except = xmalloc(sizeof *s.except);
	s.except[0] = ex;
	s.nexcept = 1;
	s.has_until = true;
	assert_true(parse_local("2025-03-10T02:30", &s.until));
	static struct collect c;
	c.n = 0;
	sched_expand(&s, instant("2025-01-01T00:00:00Z"),
		     instant("2026-01-01T00:00:00Z"), collect, &c);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.o[0].start, instant("2025-03-07T02:30:00-05:00"));
	/* 02:30 on 03-09 is in the gap: read with -05:00, i.e. 03:30 EDT. */
	assert_int_equal(c.o[1].start, instant("2025-03-09T03:30:00-04:00"));
	assert_true(c.o[1].flags & TZ_GAP);
	assert_int_equal(c.o[1].start_offset, -4 * 3600);
	assert_int_equal(c.o[2].start, instant("2025-03-10T02:30:00-04:00"));
	sched_clear(&s);
}

static void test_duration_days_are_nominal(void **state)
{
	struct schedule s;
	compile(&s, "Europe/London", "2026-03-28T10:00", "FREQ=DAILY;COUNT=1");
	s.duration = 86400 + 3600;  /* P1DT1H across the change on 03-29 */
	static struct collect c;
	c.n = 0;
	sched_expand(&s, 0, instant("2027-01-01T00:00:00Z"), collect, &c);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.o[0].end, instant("2026-03-29T11:00:00+01:00"));
	sched_clear(&s);
}

static void test_cadences(void **state)
{
	assert_string_equal(sched_cadence_rule("fortnightly"), "FREQ=WEEKLY;INTERVAL=2");
	assert_string_equal(sched_cadence_rule("quarterly"), "FREQ=MONTHLY;INTERVAL=3");
	assert_string_equal(sched_cadence_rule("semiannually"), "FREQ=MONTHLY;INTERVAL=6");
	assert_string_equal(sched_cadence_rule("annually"), "FREQ=YEARLY");
	assert_null(sched_cadence_rule("hourly"));
	assert_null(sched_cadence_rule("Daily"));
}

static void test_at(void **state)
{
	struct schedule s = { 0 };
	s.kind = SCHED_AT;
	s.tz = tz_get("Europe/London");
	s.duration = 3600;
	s.at = xcalloc(3, sizeof *s.at);
	s.nat = 3;
	assert_true(parse_local("2026-03-29T01:30", &s.at[0]));  /* gap */
	assert_true(parse_local("2026-10-25T01:30", &s.at[1]));  /* overlap */
	assert_true(parse_local("2026-12-01T09:00", &s.at[2]));
	static struct collect c;
	c.n = 0;
	sched_expand(&s, 0, instant("2027-01-01T00:00:00Z"), collect, &c);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.o[0].start, instant("2026-03-29T01:30:00Z"));
	assert_int_equal(c.o[0].wall_start, c.o[0].start + 3600);  /* 02:30 BST */
	assert_int_equal(c.o[1].start, instant("2026-10-25T01:30:00+01:00"));
	assert_true(c.o[1].flags & TZ_OVERLAP);
	assert_int_equal(c.o[2].end - c.o[2].start, 3600);
	sched_clear(&s);
}

/* Each refusal is fast and says why; accepted neighbours still work. */
static void test_refusals(void **state)
{
	static const struct {
		const char *rule, *why;
	} bad[] = {
		{ "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "never produces" },
		{ "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30,31", "never produces" },
		{ "FREQ=MONTHLY;BYMONTHDAY=32", "" },
		{ "FREQ=MONTHLY;BYWEEKNO=3", SHAPE_WEEKNO_FREQ },
		{ "FREQ=WEEKLY;BYYEARDAY=3", SHAPE_YEARDAY_FREQ },
		{ "FREQ=WEEKLY;BYMONTHDAY=3", SHAPE_WEEKLY_MONTHDAY },
		{ "FREQ=WEEKLY;BYDAY=2MO", "ordinal (2MO, -1FR) is only allowed" },
		{ "FREQ=YEARLY;BYWEEKNO=3;BYDAY=1MO", "not allowed together with BYWEEKNO" },
		{ "FREQ=MONTHLY;BYSETPOS=1", "BYSETPOS needs another BYxxx" },
		{ "FREQ=DAILY;BYSECOND=60", "leap second" },
		{ "FREQ=DAILY;BYHOUR=24", "BYHOUR value \"24\"" },
		{ "FREQ=MONTHLY;BYDAY=0MO", "not a weekday" },
		{ "FREQ=MONTHLY;BYDAY=MO,", "ends with a comma" },
		{ "FREQ=FORTNIGHTLY", "not a frequency" },
		{ "FREQ=YEARLY;BYWEEKNO=53;BYMONTH=2", "never produces" },
		{ "FREQ=DAILY;BYHOUR=1,2,3,4,5,6,7,8,9;BYMINUTE=1,2,3,4,5,6,7,8", "more than 64 times" },
		{ "FREQ=DAILY;UNTIL=20260101T000000", "UNTIL must be a UTC" },
		{ "FREQ=DAILY;COUNT=2;UNTIL=20260101T000000Z", "both UNTIL and COUNT" },
		{ "FREQ=DAILY;BYDAYS=MO", "unknown rule part" },
		{ "FREQ=DAILY;;COUNT=2", "malformed" },
		{ "FREQ=DAILY;INTERVAL=0", "" },
		{ "COUNT=2", "no FREQ" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct schedule s = { 0 };
		s.kind = SCHED_RRULE;
		s.tz = tz_get("Europe/London");
		assert_true(parse_local("2026-01-01T09:00", &s.start));
		struct herald_err err;
		herald_err_clear(&err);
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		enum herald_rc rc = sched_compile_rule(&s, bad[i].rule, &err);
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (rc != H_EINVAL || !strstr(err.msg, bad[i].why))
			print_error("%s: rc %d \"%s\"\n", bad[i].rule, rc, err.msg);
		assert_int_equal(rc, H_EINVAL);
		assert_non_null(strstr(err.msg, bad[i].why));
		assert_true(b.tv_sec - a.tv_sec < 2);
		sched_clear(&s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tz_vectors),
		cmocka_unit_test(test_dateutil_vectors),
		cmocka_unit_test(test_windows_are_tails),
		cmocka_unit_test(test_half_open_window),
		cmocka_unit_test(test_except_and_until),
		cmocka_unit_test(test_duration_days_are_nominal),
		cmocka_unit_test(test_cadences),
		cmocka_unit_test(test_at),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
