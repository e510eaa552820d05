/* test_timeutil.c - calendar arithmetic and the plan's time formats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "herald/clock.h"
#include "herald/timeutil.h"

static void test_civil(void **state)
{
	assert_int_equal(days_from_civil(1970, 1, 1), 0);
	assert_int_equal(days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(days_from_civil(1969, 12, 31), -1);
	for (int64_t d = -800000; d < 800000; d += 997) {
		int y, m, dd;
		civil_from_days(d, &y, &m, &dd);
		assert_int_equal(days_from_civil(y, m, dd), d);
	}
	assert_int_equal(days_in_month(2024, 2), 29);
	assert_int_equal(days_in_month(2100, 2), 28);
	assert_int_equal(days_in_month(2000, 2), 29);
	assert_int_equal(days_in_month(2025, 4), 30);
	assert_int_equal(weekday_from_days(0), 3);  /* 1970-01-01 Thursday */
	assert_int_equal(weekday_from_days(days_from_civil(2026, 3, 29)), 6);
	assert_string_equal(weekday_abbr(weekday_from_days(0)), "Thu");
	assert_string_equal(weekday_abbr(6), "Sun");
	assert_string_equal(month_abbr(1), "Jan");
	assert_string_equal(month_abbr(12), "Dec");
	assert_string_equal(month_abbr(13), "???");
	struct civil c = { 2026, 10, 25, 1, 30, 5 }, back;
	secs_to_civil(civil_to_secs(&c), &back);
	assert_memory_equal(&c, &back, sizeof c);
	secs_to_civil(-1, &back);
	assert_int_equal(back.year, 1969);
	assert_int_equal(back.sec, 59);
}

static void test_parse_local(void **state)
{
	int64_t w;
	assert_true(parse_local("2026-03-29T01:30", &w));
	assert_int_equal(w, days_from_civil(2026, 3, 29) * 86400 + 5400);
	assert_true(parse_local("2026-03-29T01:30:15", &w));
	assert_int_equal(w % 60, 15);
	assert_true(parse_local("2024-02-29T00:00", &w));
	static const char *const bad[] = {
		"2025-02-29T00:00", "2026-13-01T00:00", "2026-04-31T09:00",
		"2026-03-29T24:00", "2026-03-29T09:60", "2026-03-29T09:00Z",
		"2026-03-29T09:00+01:00", "2026-03-29 09:00", "2026-03-29",
		"26-03-29T09:00", "2026-3-29T09:00", "2026-03-29T9:00",
		"2026-03-29T09:00:60", "", "2026-03-29T09:00:00.5",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (parse_local(bad[i], &w))
			print_error("accepted %s\n", bad[i]);
		assert_false(parse_local(bad[i], &w));
	}
	assert_true(parse_date("2026-01-31", &w));
	assert_int_equal(w, days_from_civil(2026, 1, 31) * 86400);
	assert_false(parse_date("2026-02-30", &w));
	assert_false(parse_date("2026-01-31T00:00", &w));
}

/* explain_* agree with parse_* and say what is wrong. */
static void test_explain(void **state)
{
	(void)state;
	static const struct {
		const char *s, *why;
	} locals[] = {
		{ "2026-01-15T09:30", NULL },
		{ "2026-01-15T09:30:59", NULL },
		{ "2027-02-29T09:30", "February 2027 has 28 days" },
		{ "2028-02-30T09:30", "February 2028 has 29 days" },
		{ "2026-04-31T10:00", "April 2026 has 30 days" },
		{ "2026-13-01T09:00", "there is no month 13" },
		{ "2026-00-01T09:00", "there is no month 00" },
		{ "2026-01-00T09:00", "there is no day 00" },
		{ "1899-12-31T09:00", "year 1899 is out of range" },
		{ "2026-01-15", "a date without a time" },
		{ "2026-01-15 09:30", "write a capital T" },
		{ "2026-01-15T24:00", "there is no hour 24" },
		{ "2026-01-15T09:60", "there is no minute 60" },
		{ "2026-01-15T09:30:61", "there is no second 61" },
		{ "2026-01-15T09:30Z", "it has a UTC offset" },
		{ "2026-01-15T09:30+01:00", "it has a UTC offset" },
		{ "2026-01-15T09:30:00.5", "fractions of a second" },
		{ "2026-01-15T9:30", "expected YYYY-MM-DDTHH:MM" },
		{ "2026-1-15T09:30", "expected the date as YYYY-MM-DD" },
		{ "2026-01-15T09:30:", "expected YYYY-MM-DDTHH:MM" },
		{ "2026-01-15T09:30x", "unexpected text after the time" },
	};
	char why[200];
	int64_t w;
	for (size_t i = 0; i < sizeof locals / sizeof locals[0]; i++) {
		bool ok = explain_local(locals[i].s, why, sizeof why);
		assert_int_equal(ok, parse_local(locals[i].s, &w));
		assert_int_equal(ok, locals[i].why == NULL);
		if (!ok && !strstr(why, locals[i].why))
			fail_msg("%s: \"%s\" lacks \"%s\"", locals[i].s, why, locals[i].why);
	}
	assert_true(explain_date("2027-02-28", why, sizeof why));
	assert_false(explain_date("2027-02-30", why, sizeof why));
	assert_string_equal(why, "February 2027 has 28 days");
	assert_false(explain_date("2027-02-28T10:00", why, sizeof why));
	assert_false(parse_date("2027-02-28T10:00", &w));
	assert_false(explain_date("27-02-28", why, sizeof why));
	assert_string_equal(why, "expected the date as YYYY-MM-DD");
}

static void test_parse_rfc3339(void **state)
{
	int64_t t;
	assert_true(parse_rfc3339("1970-01-01T00:00:00Z", &t));
	assert_int_equal(t, 0);
	assert_true(parse_rfc3339("2026-03-29T02:30:00+01:00", &t));
	assert_int_equal(t, days_from_civil(2026, 3, 29) * 86400 + 5400);
	assert_true(parse_rfc3339("2025-10-05T02:30:00+10:30", &t));
	assert_int_equal(t, days_from_civil(2025, 10, 4) * 86400 + 16 * 3600);
	assert_true(parse_rfc3339("2026-01-01T00:00:00.123456Z", &t));
	assert_true(parse_rfc3339("2026-01-01t00:00:00z", &t));
	assert_true(parse_rfc3339("2025-03-09T03:00:00-04:00", &t));
	assert_int_equal(t, days_from_civil(2025, 3, 9) * 86400 + 7 * 3600);
	static const char *const bad[] = {
		"2026-01-01T00:00Z", "2026-01-01T00:00:00", "2026-01-01T00:00:00+0100",
		"2026-01-01T00:00:00+24:00", "2026-01-01T00:00:00.Z",
		"2026-02-30T00:00:00Z", "2026-01-01T00:00:00Zx",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (parse_rfc3339(bad[i], &t))
			print_error("accepted %s\n", bad[i]);
		assert_false(parse_rfc3339(bad[i], &t));
	}
}

static void test_duration(void **state)
{
	static const struct {
		const char *text, *canon;
		int64_t secs;
	} ok[] = {
		{ "PT0S", "PT0S", 0 }, { "PT30M", "PT30M", 1800 },
		{ "P7D", "P7D", 604800 }, { "P1W", "P7D", 604800 },
		{ "PT1H30M", "PT1H30M", 5400 }, { "P1DT2H3M4S", "P1DT2H3M4S", 93784 },
		{ "PT90M", "PT1H30M", 5400 },
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		int64_t s;
		char buf[64];
		assert_true(parse_duration(ok[i].text, &s));
		assert_int_equal(s, ok[i].secs);
		format_duration(s, buf, sizeof buf);
		assert_string_equal(buf, ok[i].canon);
	}
	static const char *const bad[] = {
		"P", "PT", "P1M", "P1Y", "-PT1H", "PT1H2H", "PT1M1H", "P1W1D",
		"P1DT", "1D", "PT1.5H", "P99999999D", "PT1X",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t s;
		if (parse_duration(bad[i], &s))
			print_error("accepted %s\n", bad[i]);
		assert_false(parse_duration(bad[i], &s));
	}
}

static void test_format(void **state)
{
	char b[64];
	int64_t w;
	assert_true(parse_local("2025-10-05T02:30", &w));
	format_rfc3339_local(w, 39600, b, sizeof b);
	assert_string_equal(b, "2025-10-05T02:30:00+11:00");
	format_rfc3339_local(w, 37800, b, sizeof b);
	assert_string_equal(b, "2025-10-05T02:30:00+10:30");
	format_rfc3339_local(w, -4 * 3600, b, sizeof b);
	assert_string_equal(b, "2025-10-05T02:30:00-04:00");
	format_rfc3339_local(w, -(3600 + 15 * 60 + 14), b, sizeof b);
	assert_string_equal(b, "2025-10-05T02:30:00-01:15");
	format_rfc3339_utc(0, b, sizeof b);
	assert_string_equal(b, "1970-01-01T00:00:00Z");
	format_local(w, b, sizeof b);
	assert_string_equal(b, "2025-10-05T02:30");
	format_ical(w, true, b, sizeof b);
	assert_string_equal(b, "20251005T023000Z");
	format_ical(w, false, b, sizeof b);
	assert_string_equal(b, "20251005T023000");
}

static void test_now(void **state)
{
	setenv("HERALD_NOW", "2026-01-02T03:04:05Z", 1);
	assert_int_equal(clock_now(), days_from_civil(2026, 1, 2) * 86400 + 11045);
	unsetenv("HERALD_NOW");
	assert_true(clock_now() > 1700000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_civil),
		cmocka_unit_test(test_parse_local),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_parse_rfc3339),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_now),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
