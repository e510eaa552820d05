/* test_lint.c - each lint warning is raised by the defect it names, and
 * a clean plan raises none. */
#include "testutil.h"

#include "herald/lint.h"
#include "herald/timeutil.h"

static const char *CLEAN =
	"{\"plan\":{\"id\":\"P\",\"version\":\"1.0\",\"owner\":\"Dana\","
	"\"timezone\":\"Europe/London\",\"approved_by\":\"CISO\","
	"\"approved_on\":\"2026-01-12\",\"next_review\":\"2027-01-12\","
	"\"drill\":{\"to\":[\"isms-drill@acme.example\"]}},"
	"\"channels\":{\"slack\":{\"type\":\"slack\",\"webhook\":\"env:LT_SLACK\"},"
	"\"mail\":{\"type\":\"email\",\"smtp\":\"smtp://mail.acme.example:587\","
	"\"from\":\"isms@acme.example\",\"username\":\"env:LT_USER\",\"password\":\"env:LT_PASS\"}},"
	"\"audiences\":{\"staff\":{\"scope\":\"internal\","
	"\"members\":[{\"name\":\"Ann\",\"email\":\"ann@acme.example\"}],"
	"\"deliver\":[{\"channel\":\"slack\"},{\"channel\":\"mail\",\"to\":\"members\"}]},"
	"\"ext\":{\"scope\":\"external\",\"feed\":\"public\","
	"\"deliver\":[{\"channel\":\"mail\",\"to\":[\"ciso@customer.example\"]}]}},"
	"\"communications\":[{\"id\":\"AWR\",\"topic\":\"Awareness\","
	"\"audiences\":[\"staff\"],\"channels\":[\"mail\"],\"owner\":\"Dana\","
	"\"acknowledge\":{\"remind_after\":[\"P3D\"]},"
	"\"schedule\":{\"shift\":\"next-working-day\",\"cadence\":\"monthly\",\"start\":\"2026-01-15T09:30\"}},"
	"{\"id\":\"CERT\",\"topic\":\"Certification status\",\"audiences\":[\"ext\"],"
	"\"owner\":\"CISO\",\"schedule\":{\"cadence\":\"annually\",\"start\":\"2026-03-01T10:00\"}},"
	"{\"id\":\"BREACH\",\"topic\":\"Breach\",\"audiences\":[\"staff\",\"ext\"],"
	"\"owner\":\"CISO\",\"schedule\":{\"trigger\":\"manual\"}}]}";

struct seen {
	char codes[2048];
	size_t n;
};

static void collect(const struct lint_warning *w, void *ctx)
{
	struct seen *s = ctx;
	strncat(s->codes, w->code, sizeof s->codes - strlen(s->codes) - 2);
	strncat(s->codes, " ", sizeof s->codes - strlen(s->codes) - 1);
	strncat(s->codes, w->path, sizeof s->codes - strlen(s->codes) - 2);
	strncat(s->codes, ";", sizeof s->codes - strlen(s->codes) - 1);
	assert_non_null(w->advice);
	assert_true(strlen(w->message) > 0);
	s->n++;
}

/* 2026-06-01T12:00:00Z */
#define NOW 1780315200

static struct seen lint_str(const char *json)
{
	struct plan *p;
	struct herald_err err;
	if (load_str(json, &p, &err) != H_OK)
		fail_msg("plan does not load: %s", err.msg);
	struct seen s = { "", 0 };
	size_t n = lint_plan(p, NOW, collect, &s);
	assert_int_equal(n, s.n);
	plan_free(p);
	return s;
}

static int setup(void **state)
{
	(void)state;
	setenv("LT_SLACK", "https://hooks.slack.test/x", 1);
	setenv("LT_USER", "u", 1);
	setenv("LT_PASS", "p", 1);
	return 0;
}

static void clean_plan_has_no_warnings(void **state)
{
	(void)state;
	struct seen s = lint_str(CLEAN);
	if (s.n)
		fail_msg("unexpected warnings: %s", s.codes);
}

/* The warning code_and_path is raised (NULL: none at all). */
static void expect(const char *from, const char *to, const char *code_and_path)
{
	char *j = replace(CLEAN, from, to);
	struct seen s = lint_str(j);
	free(j);
	if (!code_and_path && s.n)
		fail_msg("unexpected warnings: %s", s.codes);
	if (code_and_path)
		assert_contains(s.codes, code_and_path);
}

static void each_warning_fires(void **state)
{
	(void)state;
	expect("\"scope\":\"external\"", "\"scope\":\"internal\"", "W-NO-EXTERNAL audiences;");
	expect("\"approved_by\":\"CISO\",", "", "W-NOT-APPROVED plan;");
	expect("\"next_review\":\"2027-01-12\"", "\"next_review\":\"2026-05-01\"",
	       "W-REVIEW-OVERDUE plan.next_review;");
	expect(",\"next_review\":\"2027-01-12\"", "", "W-NO-REVIEW plan;");
	expect("\"schedule\":{\"trigger\":\"manual\"}",
	       "\"schedule\":{\"cadence\":\"weekly\",\"start\":\"2026-01-05T10:00\"}",
	       "W-NO-INCIDENT-PATH communications;");
}

static void unused_audience_and_channel(void **state)
{
	(void)state;
	expect("\"ext\":{", "\"board\":{\"scope\":\"internal\"},\"ext\":{",
	       "W-AUDIENCE-UNUSED audiences.board;");
	expect("\"channels\":{", "\"channels\":{\"spare\":{\"type\":\"webhook\",\"url\":\"env:LT_SLACK\"},",
	       "W-CHANNEL-UNUSED channels.spare;");
	/* a channel only drills go through is used */
	char *j = replace(CLEAN, "\"channels\":{",
			  "\"channels\":{\"spare\":{\"type\":\"webhook\",\"url\":\"env:LT_SLACK\"},");
	char *k = replace(j, "\"drill\":{\"to\":[\"isms-drill@acme.example\"]}",
			  "\"drill\":{\"to\":[\"isms-drill@acme.example\"],\"channels\":[\"spare\"]}");
	struct seen s = lint_str(k);
	free(j);
	free(k);
	assert_null(strstr(s.codes, "W-CHANNEL-UNUSED"));
}

static void email_only_and_plain_smtp(void **state)
{
	(void)state;
	char *a = replace(CLEAN, "\"slack\":{\"type\":\"slack\",\"webhook\":\"env:LT_SLACK\"},", "");
	char *b = replace(a, "{\"channel\":\"slack\"},", "");
	struct seen s = lint_str(b);
	assert_contains(s.codes, "W-EMAIL-ONLY channels;");
	free(a);
	free(b);
	expect("\"from\":\"isms@acme.example\"", "\"from\":\"isms@acme.example\",\"starttls\":false",
	       "W-PLAIN-SMTP channels.mail.starttls;");
}

static void literal_secrets(void **state)
{
	(void)state;
	expect("\"webhook\":\"env:LT_SLACK\"", "\"webhook\":\"https://hooks.slack.test/literal\"",
	       "W-LITERAL-SECRET channels.slack.webhook;");
	expect("\"password\":\"env:LT_PASS\"", "\"password\":\"hunter2\"",
	       "W-LITERAL-SECRET channels.mail.password;");
}

static void dst_edge_and_rare_cadence(void **state)
{
	(void)state;
	/* Europe/London springs forward at 01:00 on the last Sunday of March. */
	expect("\"shift\":\"next-working-day\",\"cadence\":\"monthly\",\"start\":\"2026-01-15T09:30\"",
	       "\"rrule\":\"FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\",\"start\":\"2026-03-29T01:30\"",
	       "W-DST-EDGE communications[0](AWR).schedule;");
	/* ... and falls back at 02:00 on the last Sunday of October. */
	expect("\"shift\":\"next-working-day\",\"cadence\":\"monthly\",\"start\":\"2026-01-15T09:30\"",
	       "\"at\":[\"2026-10-25T01:15\"]", "W-DST-EDGE communications[0](AWR).schedule;");
	expect("\"cadence\":\"annually\"", "\"rrule\":\"FREQ=YEARLY;INTERVAL=2\"",
	       "W-RARE-CADENCE communications[1](CERT).schedule;");
}

static void manual_without_push(void **state)
{
	(void)state;
	char *a = replace(CLEAN, "\"deliver\":[{\"channel\":\"mail\",\"to\":[\"ciso@customer.example\"]}]", "\"deliver\":[]");
	struct seen s = lint_str(a);
	free(a);
	assert_contains(s.codes, "W-NO-PUSH communications[2](BREACH).audiences[1];");
}

static void no_future_and_unreachable(void **state)
{
	(void)state;
	expect("\"start\":\"2026-03-01T10:00\"}", "\"start\":\"2020-03-01T10:00\",\"until\":\"2021-01-01T00:00\"}",
	       "W-NO-FUTURE communications[1](CERT).schedule;");
	expect("\"feed\":\"public\",\"deliver\":[{\"channel\":\"mail\",\"to\":[\"ciso@customer.example\"]}]",
	       "\"feed\":\"none\"", "W-NO-CHANNEL communications[1](CERT);");
}

static void except_must_match(void **state)
{
	(void)state;
	expect("\"start\":\"2026-01-15T09:30\"}", "\"start\":\"2026-01-15T09:30\",\"except\":[\"2026-04-15T09:30\",\"2026-05-15T10:30\"]}",
	       "W-EXCEPT-UNMATCHED communications[0](AWR).schedule.except[1];");
	struct seen s;
	char *j = replace(CLEAN, "\"start\":\"2026-01-15T09:30\"}", "\"start\":\"2026-01-15T09:30\",\"except\":[\"2026-04-15T09:30\"]}");
	s = lint_str(j);
	free(j);
	assert_int_equal(s.n, 0);
}

static void working_days(void **state)
{
	(void)state;
	/* Without the shift, the 15th falls on weekends (2026-08-15 is a
	 * Saturday); with it, nothing to say. */
	expect("\"shift\":\"next-working-day\",", "",
	       "W-WEEKEND communications[0](AWR).schedule;");
	expect("\"shift\":\"next-working-day\",\"cadence\":\"monthly\",\"start\":\"2026-01-15T09:30\"",
	       "\"rrule\":\"FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1\",\"start\":\"2026-01-30T09:30\"",
	       NULL);
	/* Monthly from the 31st skips the short months; the 30th skips
	 * February; with a shift, still. */
	expect("\"cadence\":\"monthly\",\"start\":\"2026-01-15T09:30\"",
	       "\"cadence\":\"monthly\",\"start\":\"2026-01-31T09:30\"",
	       "W-SKIPPED-MONTHS communications[0](AWR).schedule;");
	expect("\"cadence\":\"monthly\",\"start\":\"2026-01-15T09:30\"",
	       "\"rrule\":\"FREQ=MONTHLY;BYMONTHDAY=30\",\"start\":\"2026-01-30T09:30\"",
	       "W-SKIPPED-MONTHS communications[0](AWR).schedule;");
	/* The last day, or a month that always has the day: no warning. */
	expect("\"cadence\":\"monthly\",\"start\":\"2026-01-15T09:30\"",
	       "\"rrule\":\"FREQ=MONTHLY;BYMONTHDAY=-1\",\"start\":\"2026-01-31T09:30\"", NULL);
	expect("\"cadence\":\"monthly\",\"start\":\"2026-01-15T09:30\"",
	       "\"rrule\":\"FREQ=MONTHLY;INTERVAL=12\",\"start\":\"2026-01-31T09:30\"", NULL);
}

struct skipped {
	char months[200];
	size_t n;
};

static void collect_skipped(const struct lint_warning *w, void *ctx)
{
	struct skipped *k = ctx;
	if (strcmp(w->code, "W-SKIPPED-MONTHS") != 0)
		return;
	const char *open = strstr(w->message, "skipped (");
	const char *close = strrchr(w->message, ')');
	assert_non_null(open);
	assert_non_null(close);
	open += strlen("skipped (");
	snprintf(k->months, sizeof k->months, "%.*s", (int)(close - open), open);
	k->n++;
}

/* The months W-SKIPPED-MONTHS names for AWR's schedule ("" if it is quiet). */
static const char *skipped_months(const char *schedule)
{
	static struct skipped k;
	char *j = replace(CLEAN, "\"cadence\":\"monthly\",\"start\":\"2026-01-15T09:30\"", schedule);
	struct plan *p;
	struct herald_err err;
	if (load_str(j, &p, &err) != H_OK)
		fail_msg("plan does not load: %s", err.msg);
	free(j);
	k = (struct skipped){ "", 0 };
	lint_plan(p, NOW, collect_skipped, &k);
	plan_free(p);
	assert_true(k.n <= 1);
	return k.months;
}

static void skipped_months_are_named(void **state)
{
	(void)state;
	/* Monthly: the 29th misses February three years in four, the 30th
	 * every February, the 31st every month of 30 days or fewer. */
	assert_string_equal(skipped_months("\"cadence\":\"monthly\",\"start\":\"2026-01-29T09:30\""),
			    "February except in leap years");
	assert_string_equal(skipped_months("\"cadence\":\"monthly\",\"start\":\"2026-01-30T09:30\""),
			    "February");
	assert_string_equal(skipped_months("\"cadence\":\"monthly\",\"start\":\"2026-01-31T16:00\""),
			    "February, April, June, September, November");
	assert_string_equal(skipped_months("\"rrule\":\"FREQ=MONTHLY;BYMONTHDAY=31\",\"start\":\"2026-01-15T09:30\""),
			    "February, April, June, September, November");
	/* Quarterly and half-yearly skip only the months of their own cycle. */
	assert_string_equal(skipped_months("\"cadence\":\"quarterly\",\"start\":\"2026-01-31T09:30\""),
			    "April");
	assert_string_equal(skipped_months("\"cadence\":\"quarterly\",\"start\":\"2026-03-31T09:30\""),
			    "June, September");
	assert_string_equal(skipped_months("\"cadence\":\"semiannually\",\"start\":\"2026-03-31T09:30\""),
			    "September");
	assert_string_equal(skipped_months("\"cadence\":\"semiannually\",\"start\":\"2026-01-31T09:30\""), "");
	/* Every 12 months from 29 February: the years between leap years. */
	assert_string_equal(skipped_months("\"rrule\":\"FREQ=MONTHLY;INTERVAL=12\",\"start\":\"2028-02-29T09:30\""),
			    "February except in leap years");
	/* BYMONTH keeps to its months; an end keeps to the months before it. */
	assert_string_equal(skipped_months("\"rrule\":\"FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=1,4,7,10,12\","
					   "\"start\":\"2026-01-31T09:30\""),
			    "April");
	assert_string_equal(skipped_months("\"cadence\":\"monthly\",\"start\":\"2026-01-31T09:30\","
					   "\"until\":\"2026-04-15T00:00\""),
			    "February");
}

static void bidi_and_zero_width(void **state)
{
	(void)state;
	/* A right-to-left override turns "txt.exe" into something else on
	 * screen; a zero-width space hides a difference. */
	expect("\"topic\":\"Awareness\"", "\"topic\":\"Awareness \u202etxt.exe\"",
	       "W-BIDI communications[0](AWR).topic;");
	expect("\"topic\":\"Awareness\"", "\"topic\":\"Aware\u200bness\"",
	       "W-BIDI communications[0](AWR).topic;");
}

static void reminders_need_people(void **state)
{
	(void)state;
	expect("{\"channel\":\"mail\",\"to\":\"members\"}", "{\"channel\":\"mail\",\"to\":[\"all@acme.example\"]}",
	       "W-ACK-NOT-PERSONAL communications[0](AWR).acknowledge;");
}

static void manual_needs_drill_recipients(void **state)
{
	(void)state;
	const char *drill = ",\"drill\":{\"to\":[\"isms-drill@acme.example\"]}";
	expect(drill, "", "W-NO-DRILL-TARGET communications[2](BREACH);");
	/* drill addresses, but the communication uses no email channel and
	 * the drill names none: nobody to drill */
	char *a = replace(CLEAN, "\"audiences\":[\"staff\",\"ext\"],",
			  "\"audiences\":[\"staff\",\"ext\"],\"channels\":[\"slack\"],");
	struct seen s = lint_str(a);
	assert_contains(s.codes, "W-NO-DRILL-TARGET communications[2](BREACH);");
	/* the communication's own drill, through a chat channel */
	char *b = replace(a, "\"channels\":[\"slack\"],",
			  "\"channels\":[\"slack\"],\"drill\":{\"channels\":[\"slack\"]},");
	s = lint_str(b);
	assert_null(strstr(s.codes, "W-NO-DRILL-TARGET"));
	free(a);
	free(b);
}

struct first_msg {
	char code[32], message[400];
};

static void keep_first(const struct lint_warning *w, void *ctx)
{
	struct first_msg *f = ctx;
	if (!f->code[0]) {
		snprintf(f->code, sizeof f->code, "%s", w->code);
		snprintf(f->message, sizeof f->message, "%s", w->message);
	}
}

/* Any shared destination of an acknowledged communication warns, with or
 * without reminders, and the warning names it. */
static void ack_on_shared_destination(void **state)
{
	(void)state;
	/* A chat channel beside the members. */
	expect("\"channels\":[\"mail\"],", "",
	       "W-ACK-NOT-PERSONAL communications[0](AWR).acknowledge;");
	/* Plain true, no reminders, still one click for all. */
	char *j = replace(CLEAN, "\"channels\":[\"mail\"],", "");
	char *k = replace(j, "{\"remind_after\":[\"P3D\"]}", "true");
	struct plan *p;
	struct herald_err err;
	if (load_str(k, &p, &err) != H_OK)
		fail_msg("plan does not load: %s", err.msg);
	struct first_msg f = { "", "" };
	assert_int_equal(lint_plan(p, NOW, keep_first, &f), 1);
	assert_string_equal(f.code, "W-ACK-NOT-PERSONAL");
	assert_non_null(strstr(f.message, "channel slack (audience staff)"));
	assert_non_null(strstr(f.message, "everyone"));
	plan_free(p);
	free(k);
	free(j);
	/* Members only (the clean plan): no warning; acknowledge false: none. */
	j = replace(CLEAN, "\"channels\":[\"mail\"],", "");
	k = replace(j, "\"acknowledge\":{\"remind_after\":[\"P3D\"]},", "\"acknowledge\":false,");
	struct seen s = lint_str(k);
	assert_int_equal(s.n, 0);
	free(k);
	free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clean_plan_has_no_warnings),
		cmocka_unit_test(ack_on_shared_destination),
		cmocka_unit_test(each_warning_fires),
		cmocka_unit_test(unused_audience_and_channel),
		cmocka_unit_test(email_only_and_plain_smtp),
		cmocka_unit_test(literal_secrets),
		cmocka_unit_test(dst_edge_and_rare_cadence),
		cmocka_unit_test(manual_without_push),
		cmocka_unit_test(no_future_and_unreachable),
		cmocka_unit_test(reminders_need_people),
		cmocka_unit_test(except_must_match),
		cmocka_unit_test(working_days),
		cmocka_unit_test(skipped_months_are_named),
		cmocka_unit_test(manual_needs_drill_recipients),
		cmocka_unit_test(bidi_and_zero_width),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
