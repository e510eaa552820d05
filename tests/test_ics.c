/* test_ics.c - ics.c: folding, escaping, a golden feed, determinism. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "herald/ics.h"
#include "herald/plan.h"
#include "herald/timeutil.h"
#include "herald/util.h"

#ifndef TESTS_DATA
#define TESTS_DATA "tests/data"
#endif

/* Every physical line is at most 75 octets, and no fold splits a UTF-8
 * sequence (a continuation line never starts with a continuation byte). */
static void assert_folded_ok(const char *s, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i + 1 < n; i++) {
		if (s[i] == '\r' && s[i + 1] == '\n') {
			assert_true(i - start <= 75);
			if (i + 2 < n && s[i + 2] == ' ')
				assert_false(((unsigned char)s[i + 3] & 0xc0) == 0x80);
			start = i + 2;
		}
	}
	assert_true(n >= 2 && s[n - 2] == '\r' && s[n - 1] == '\n');
}

/* Unfolds and compares with the original line. */
static void assert_unfolds_to(const char *folded, const char *orig)
{
	struct buf b;
	buf_init(&b);
	for (const char *p = folded; *p; p++) {
		if (p[0] == '\r' && p[1] == '\n' && p[2] == ' ') {
			p += 2;
			continue;
		}
		if (p[0] == '\r' && p[1] == '\n')
			break;
		buf_addc(&b, *p);
	}
	assert_string_equal(b.data, orig);
	buf_free(&b);
}

static void test_fold_ascii(void **state)
{
	(void)state;
	char line[200];
	memset(line, 'x', sizeof line - 1);
	line[sizeof line - 1] = '\0';
	struct buf b;
	buf_init(&b);
	ics_line(&b, line, strlen(line));
	assert_folded_ok(b.data, b.len);
	assert_int_equal(strstr(b.data, "\r\n") - b.data, 75);
	assert_unfolds_to(b.data, line);
	buf_free(&b);

	buf_init(&b);
	ics_line(&b, line, 75);   /* exactly 75: no fold */
	assert_int_equal(b.len, 77);
	buf_free(&b);
}

static void test_fold_multibyte(void **state)
{
	(void)state;
	/* Shift a run of 2-, 3- and 4-byte characters across the 75 boundary. */
	const char *chars[] = { "\xc3\xa9", "\xe6\x97\xa5", "\xf0\x9f\x94\x90" };
	for (size_t k = 0; k < 3; k++)
		for (size_t pad = 0; pad < 5; pad++) {
			struct buf l, b;
			buf_init(&l);
			buf_init(&b);
			for (size_t i = 0; i < 70 + pad; i++)
				buf_addc(&l, 'a');
			for (int i = 0; i < 60; i++)
				buf_adds(&l, chars[k]);
			ics_line(&b, l.data, l.len);
			assert_folded_ok(b.data, b.len);
			assert_unfolds_to(b.data, l.data);
			buf_free(&l);
			buf_free(&b);
		}
}

static void test_escape(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	ics_escape_text(&b, "a,b;c\\d\ne\tf\x01g\rh");
	assert_string_equal(b.data, "a\\,b\\;c\\\\d\\ne\tfgh");
	buf_free(&b);
}

static struct plan *load(const char *name)
{
	char *path = xasprintf("%s/%s", TESTS_DATA, name);
	struct plan_load_opts o = { .demo_secrets = true };
	struct plan *p = NULL;
	struct herald_err err;
	herald_err_clear(&err);
	enum herald_rc rc = plan_load(path, &o, &p, &err);
	if (rc)
		print_error("%s: %s\n", path, err.msg);
	assert_int_equal(rc, H_OK);
	free(path);
	return p;
}

static char *render_for(const struct plan *p, long audience)
{
	struct ics_opts o = { .audience = audience };
	int64_t w;
	assert_true(parse_date("2026-01-01", &w));
	o.from = w;
	assert_true(parse_date("2027-01-01", &w));
	o.to = w;
	struct buf b;
	buf_init(&b);
	struct herald_err err;
	herald_err_clear(&err);
	assert_int_equal(ics_render(p, &o, &b, &err), H_OK);
	assert_folded_ok(b.data, b.len);
	return buf_take(&b);
}

static char *render(const struct plan *p)
{
	return render_for(p, -1);
}

/* got must be the bytes of golden file `name` (HERALD_UPDATE_GOLDEN=1
 * rewrites it). */
static void assert_golden(const char *got, const char *name)
{
	char *path = xasprintf("%s/%s", TESTS_DATA, name);
	char *want = NULL;
	size_t n = 0;
	if (getenv("HERALD_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "wb");
		assert_non_null(f);
		fputs(got, f);
		fclose(f);
	}
	assert_int_equal(read_file(path, 1 << 20, &want, &n), 0);
	if (n != strlen(got) || memcmp(want, got, n) != 0)
		print_error("%s differs (HERALD_UPDATE_GOLDEN=1 rewrites it)\n", path);
	assert_int_equal(n, strlen(got));
	assert_memory_equal(want, got, n);
	free(want);
	free(path);
}

/*
 * The calendar features, one golden feed per audience: busy (OPAQUE),
 * LOCATION and URL, all-day DATE values (a series and instances, an
 * EXDATE), the audience's feed_name, no email address in the public feed,
 * the working-day shift over a holiday list and a holiday ICS (across a
 * month end, backwards over Christmas), and an empty feed that is still a
 * valid calendar.
 */
static void test_golden_calendar(void **state)
{
	(void)state;
	struct plan *p = load("golden-calendar.json");
	static const char *const names[] = { "board", "staff", "quiet" };
	for (size_t i = 0; i < 3; i++) {
		char *got = render_for(p, plan_audience_index(p, names[i]));
		char *file = xasprintf("golden-calendar-%s.ics", names[i]);
		assert_golden(got, file);
		free(file);
		if (i == 0) {
			assert_non_null(strstr(got, "X-WR-CALNAME:Acme board: ISMS dates\r\n"));
			assert_null(strstr(got, "@acme.example"));
			assert_non_null(strstr(got, "TRANSP:OPAQUE"));
			assert_non_null(strstr(got, "DTSTART;VALUE=DATE:20261005"));
		}
		if (i == 1)
			assert_non_null(strstr(got, "morgan@acme.example"));
		if (i == 2)   /* RFC 5545: a calendar has a component */
			assert_non_null(strstr(got, "BEGIN:VTIMEZONE"));
		free(got);
	}
	plan_free(p);
}

/* An email's attachment is the feed's event: same UID (with RECURRENCE-ID
 * for a series member), SEQUENCE and times. */
static void test_occurrence_matches_feed(void **state)
{
	(void)state;
	struct plan *p = load("golden-calendar.json");
	long staff = plan_audience_index(p, "staff");
	int64_t now;
	assert_true(parse_rfc3339("2026-03-05T10:00:00Z", &now));
	char *feed = render_for(p, staff);
	static const struct {
		const char *comm, *start, *uid, *rid;
	} cases[] = {
		{ "REVIEW", "2026-06-10T09:00:00Z", "UID:REVIEW/staff/20260610T100000@GOLDEN-CAL", NULL },
		/* Shifted from Saturday 31 January: the planned time names it. */
		{ "MONTH-END", "2026-02-02T16:00:00Z", "UID:MONTH-END/staff/20260131T160000@GOLDEN-CAL", NULL },
		{ "AWARE-WEEK", "2026-10-04T23:00:00Z", "UID:AWARE-WEEK/staff@GOLDEN-CAL",
		  "RECURRENCE-ID;VALUE=DATE:20261005" },
	};
	for (size_t i = 0; i < 3; i++) {
		int64_t t;
		assert_true(parse_rfc3339(cases[i].start, &t));
		struct buf b;
		buf_init(&b);
		struct herald_err err;
		herald_err_clear(&err);
		assert_int_equal(ics_occurrence(p, (size_t)plan_comm_index(p, cases[i].comm), staff,
						t, now, &b, &err), H_OK);
		assert_folded_ok(b.data, b.len);
		assert_non_null(strstr(b.data, cases[i].uid));
		assert_non_null(strstr(feed, cases[i].uid));
		assert_non_null(strstr(b.data, "SEQUENCE:20260301\r\n"));
		if (cases[i].rid)
			assert_non_null(strstr(b.data, cases[i].rid));
		assert_non_null(strstr(b.data, "METHOD:PUBLISH"));
		assert_int_equal(strstr(b.data, "BEGIN:VEVENT") - b.data,
				 strstr(b.data, "BEGIN:VEVENT") - b.data);
		buf_free(&b);
	}
	/* No occurrence then: an error, not an event. */
	struct buf b;
	buf_init(&b);
	struct herald_err err;
	herald_err_clear(&err);
	assert_int_equal(ics_occurrence(p, 0, staff, now, now, &b, &err), H_EINVAL);
	buf_free(&b);
	free(feed);
	plan_free(p);
}

static void test_golden(void **state)
{
	(void)state;
	struct plan *p = load("golden-small.json");
	char *got = render(p);
	char *path = xasprintf("%s/golden-small.ics", TESTS_DATA);
	char *want = NULL;
	size_t n = 0;
	if (getenv("HERALD_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "wb");
		assert_non_null(f);
		fputs(got, f);
		fclose(f);
	}
	assert_int_equal(read_file(path, 1 << 20, &want, &n), 0);
	assert_int_equal(n, strlen(got));
	assert_memory_equal(want, got, n);
	free(want);
	free(path);
	free(got);
	plan_free(p);
}

static void test_deterministic(void **state)
{
	(void)state;
	struct plan *p = load("dst-heavy.json");
	char *a = render(p);
	char *b = render(p);
	assert_string_equal(a, b);
	free(a);
	free(b);
	plan_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fold_ascii),
		cmocka_unit_test(test_fold_multibyte),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_golden_calendar),
		cmocka_unit_test(test_occurrence_matches_feed),
		cmocka_unit_test(test_deterministic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
