/* test_plandoc.c - schedules and notify offsets in words; the document's parts. */
#include "testutil.h"

#include "herald/plandoc.h"
#include "herald/util.h"

static const char *BASE =
	"{\"plan\":{\"id\":\"P\",\"title\":\"Plan <&>\",\"version\":\"1.0\",\"owner\":\"Dana\","
	"\"timezone\":\"Europe/London\"},"
	"\"channels\":{\"s\":{\"type\":\"slack\",\"webhook\":\"env:PD_SLACK\"}},"
	"\"audiences\":{\"a\":{\"name\":\"Staff | all\",\"scope\":\"internal\","
	"\"deliver\":[{\"channel\":\"s\"}]}},"
	"\"communications\":[{\"id\":\"C\",\"topic\":\"T *x*\",\"audiences\":[\"a\"],"
	"\"owner\":\"O\",\"schedule\":SCHED,\"notify\":NOTIFY}]}";

static char *when_of(const char *sched, const char *notify)
{
	char *a = replace(BASE, "SCHED", sched);
	char *j = replace(a, "NOTIFY", notify);
	free(a);
	struct plan_load_opts o = { .demo_secrets = true };
	struct plan *p = NULL;
	struct herald_err err;
	if (plan_load_buf("x.json", j, strlen(j), &o, &p, &err))
		fail_msg("%s: %s", sched, err.msg);
	free(j);
	struct buf b;
	buf_init(&b);
	plandoc_when(p, 0, &b);
	buf_adds(&b, " | ");
	plandoc_notify(p, 0, &b);
	plan_free(p);
	return buf_take(&b);
}

static void expect_words(const char *sched, const char *notify, const char *want)
{
	char *got = when_of(sched, notify);
	if (strcmp(got, want) != 0)
		fail_msg("%s\n got  \"%s\"\n want \"%s\"", sched, got, want);
	free(got);
}

static void schedules_in_words(void **state)
{
	(void)state;
	expect_words("{\"cadence\":\"quarterly\",\"start\":\"2026-01-15T09:30\"}", "[\"P7D\",\"PT0S\"]",
		     "every 3 months from 15 Jan 2026, 09:30 Europe/London, for 30 minutes"
		     " | notified 7 days before and at the start");
	expect_words("{\"cadence\":\"fortnightly\",\"start\":\"2026-01-15T09:30\",\"duration\":\"PT1H30M\","
		     "\"until\":\"2026-12-31T09:30\",\"timezone\":\"America/New_York\"}", "[]",
		     "every 2 weeks from 15 Jan 2026, 09:30 America/New_York until 31 Dec 2026, "
		     "09:30, for 1 hour 30 minutes | calendar only (no messages)");
	expect_words("{\"rrule\":\"FREQ=MONTHLY;BYDAY=2TU\",\"start\":\"2026-01-13T10:00\"}",
		     "[\"PT15M\",\"PT1H\",\"P1D\"]",
		     "every month on the second Tuesday from 13 Jan 2026, 10:00 Europe/London, "
		     "for 30 minutes; RRULE FREQ=MONTHLY;BYDAY=2TU | notified 15 minutes before, "
		     "1 hour before and 1 day before");
	expect_words("{\"rrule\":\"FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1\","
		     "\"start\":\"2026-01-30T11:00\",\"except\":[\"2026-12-31T11:00\"]}", "[\"PT0S\"]",
		     "every month on Monday, Tuesday, Wednesday, Thursday or Friday, the last of "
		     "them each month from 30 Jan 2026, 11:00 Europe/London, for 30 minutes; except "
		     "31 Dec 2026, 11:00; RRULE FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"
		     " | notified at the start");
	expect_words("{\"rrule\":\"FREQ=YEARLY;INTERVAL=2;BYMONTH=3,9;BYMONTHDAY=-1;COUNT=4\","
		     "\"start\":\"2026-03-31T10:00\"}", "[\"P1D\"]",
		     "every 2 years in March and September on the last day, 4 times from 31 Mar "
		     "2026, 10:00 Europe/London, for 30 minutes; RRULE "
		     "FREQ=YEARLY;INTERVAL=2;BYMONTH=3,9;BYMONTHDAY=-1;COUNT=4 | notified 1 day before");
	expect_words("{\"at\":[\"2026-12-09T10:00\",\"2027-11-24T10:00:30\"],\"duration\":\"P1D\"}",
		     "[\"P14D\"]",
		     "on 9 Dec 2026, 10:00 and 24 Nov 2027, 10:00:30 Europe/London, for 1 day"
		     " | notified 14 days before");
	expect_words("{\"trigger\":\"manual\"}", "[\"PT0S\"]",
		     "on demand (sent with herald send) | sent when triggered");
}

static char *render(enum plandoc_format f)
{
	char *a = replace(BASE, "SCHED", "{\"cadence\":\"weekly\",\"start\":\"2026-01-05T09:00\"}");
	char *j = replace(a, "NOTIFY", "[\"PT0S\"]");
	free(a);
	setenv("PD_SLACK", "https://hooks.slack.test/services/T/B/doc-canary-88", 1);
	struct plan *p = NULL;
	struct herald_err err;
	assert_int_equal(plan_load_buf("x.json", j, strlen(j), NULL, &p, &err), H_OK);
	free(j);
	struct buf b;
	buf_init(&b);
	plandoc_render(p, f, 1780272000, &b); /* 2026-06-01 */
	plan_free(p);
	return buf_take(&b);
}

static void formats_escape_and_never_show_secrets(void **state)
{
	(void)state;
	char *t = render(PLANDOC_TEXT), *m = render(PLANDOC_MD), *h = render(PLANDOC_HTML);
	for (char *s = t; s; s = s == t ? m : s == m ? h : NULL) {
		assert_not_contains(s, "doc-canary");
		assert_not_contains(s, "hooks.slack.test");
		assert_contains(s, s == m ? "(PD\\_SLACK)" : "(PD_SLACK)"); /* a name is public */
		assert_contains(s, "every week from 5 Jan 2026, 09:00 Europe/London");
		assert_contains(s, "W-NOT-APPROVED");
		assert_contains(s, "checked 2026-06-01");
	}
	assert_contains(t, "Plan <&>\n========\n");
	assert_contains(m, "# Plan \\<&\\>");
	assert_contains(m, "| Staff \\| all |");
	assert_contains(m, "**T \\*x\\***");
	assert_contains(h, "<title>Plan &lt;&amp;&gt;, version 1.0</title>");
	assert_contains(h, "<tr data-communication=\"C\">");
	assert_not_contains(h, "<script");
	free(t), free(m), free(h);
	enum plandoc_format f;
	assert_true(plandoc_format_name("markdown", &f) && f == PLANDOC_MD);
	assert_true(plandoc_format_name("html", &f) && f == PLANDOC_HTML);
	assert_false(plandoc_format_name("pdf", &f));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(schedules_in_words),
		cmocka_unit_test(formats_escape_and_never_show_secrets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
