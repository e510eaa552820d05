/* test_plan.c - plan loading: defaults, secrets, paths in errors. */
#include "testutil.h"

#include "herald/log.h"
#include "herald/timeutil.h"
#include "herald/tz.h"
#include "herald/util.h"

static const char *BASE =
	"{\"plan\":{\"id\":\"P\",\"version\":\"1.0\",\"owner\":\"Dana\","
	"\"timezone\":\"Europe/London\",\"approved_by\":\"CISO\","
	"\"approved_on\":\"2026-01-12\",\"next_review\":\"2099-01-01\"},"
	"\"channels\":{\"slack\":{\"type\":\"slack\",\"webhook\":\"env:HT_SLACK\"},"
	"\"mail\":{\"type\":\"email\",\"smtp\":\"smtp://127.0.0.1:2525\","
	"\"from\":\"ISMS <isms@acme.example>\"}},"
	"\"audiences\":{\"staff\":{\"name\":\"All staff\",\"scope\":\"internal\","
	"\"members\":[{\"name\":\"Ann\",\"email\":\"ann@acme.example\"}],"
	"\"deliver\":[{\"channel\":\"slack\"},{\"channel\":\"mail\",\"to\":\"members\"}]},"
	"\"ext\":{\"scope\":\"external\",\"feed\":\"public\"}},"
	"\"communications\":[{\"id\":\"AWR\",\"topic\":\"Awareness\","
	"\"audiences\":[\"staff\"],\"owner\":\"Dana\","
	"\"schedule\":{\"cadence\":\"monthly\",\"start\":\"2026-01-15T09:30\"}},"
	"{\"id\":\"BREACH\",\"topic\":\"Breach\",\"audiences\":[\"staff\",\"ext\"],"
	"\"owner\":\"CISO\",\"schedule\":{\"trigger\":\"manual\"}}]}";

static int setup(void **state)
{
	(void)state;
	setenv("HT_SLACK", "https://hooks.slack.test/services/T/B/canary-5e1f", 1);
	return 0;
}

static void loads_with_defaults(void **state)
{
	(void)state;
	struct plan *p;
	struct herald_err err;
	assert_int_equal(load_str(BASE, &p, &err), H_OK);
	assert_string_equal(p->id, "P");
	assert_string_equal(p->title, "P"); /* title defaults to the id */
	assert_int_equal(p->nchannels, 2);
	assert_string_equal(p->channels[0].webhook.value,
			    "https://hooks.slack.test/services/T/B/canary-5e1f");
	assert_string_equal(p->channels[0].webhook.env, "HT_SLACK");
	assert_true(p->channels[1].starttls);
	assert_int_equal(p->audiences[0].feed, FEED_PRIVATE);
	assert_int_equal(p->audiences[1].feed, FEED_PUBLIC);
	assert_true(p->audiences[1].external);
	assert_int_equal(p->audiences[0].deliver[1].to, TO_MEMBERS);
	const struct plan_comm *c = &p->comms[0];
	assert_int_equal(c->nnotify, 1);
	assert_int_equal(c->notify[0], 0);
	assert_int_equal(c->sched.duration, 1800);
	assert_string_equal(c->sched.rrule, "FREQ=MONTHLY");
	assert_ptr_equal(c->sched.tz, tz_get("Europe/London"));
	assert_int_equal(p->comms[1].sched.kind, SCHED_MANUAL);
	assert_int_equal(strlen(p->sha256), 64);
	plan_free(p);
}

static void expect_error(const char *json, const char *fragment)
{
	struct plan *p;
	struct herald_err err;
	assert_int_equal(load_str(json, &p, &err), H_EINVAL);
	assert_null(p);
	assert_contains(err.msg, fragment);
}

static void errors_name_the_path(void **state)
{
	(void)state;
	char *j = replace(BASE, "\"cadence\":\"monthly\"", "\"cadence\":\"monthy\"");
	expect_error(j, "communications[0](AWR).schedule.cadence: unknown cadence \"monthy\"");
	free(j);
	j = replace(BASE, "\"scope\":\"external\"", "\"scope\":\"external\",\"fed\":\"x\"");
	expect_error(j, "audiences.ext.fed: unknown key \"fed\" (did you mean \"feed\"?)");
	free(j);
	j = replace(BASE, "\"cadence\":\"monthly\"", "\"rrule\":\"FREQ=HOURLY\"");
	expect_error(j, "communications[0](AWR).schedule.rrule: sub-daily frequency FREQ=HOURLY");
	free(j);
	j = replace(BASE, "\"cadence\":\"monthly\"",
		    "\"rrule\":\"FREQ=WEEKLY;UNTIL=20270101T000000\"");
	expect_error(j, "UNTIL must be a UTC date-time");
	free(j);
	j = replace(BASE, "\"cadence\":\"monthly\"", "\"rrule\":\"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30\"");
	expect_error(j, "never produces an occurrence");
	free(j);
	j = replace(BASE, "\"start\":\"2026-01-15T09:30\"", "\"start\":\"2026-02-30T09:30\"");
	expect_error(j, "communications[0](AWR).schedule.start: \"2026-02-30T09:30\" is not a local time");
	free(j);
}

static void syntax_errors_have_line_and_column(void **state)
{
	(void)state;
	expect_error("{\n  \"plan\": {,\n}", "line 2, column");
	expect_error("", "line 1, column 1");
	expect_error("[1,2]", "a plan is a JSON object, found a list");
	char *j = replace(BASE, "\"version\":\"1.0\"", "\"version\":\"1.0\",\"version\":\"2\"");
	expect_error(j, "plan.version: duplicate key");
	free(j);
}

/* acknowledge.new_members: "latest" unless said otherwise. */
static void ack_new_members(void **state)
{
	(void)state;
	const char *from = "\"owner\":\"Dana\",\"schedule\":{\"cadence\"";
	struct plan *p;
	struct herald_err err;
	char *j = replace(BASE, from, "\"owner\":\"Dana\",\"acknowledge\":true,\"schedule\":{\"cadence\"");
	assert_int_equal(load_str(j, &p, &err), H_OK);
	assert_true(p->comms[0].acknowledge);
	assert_int_equal(p->comms[0].new_members, ACK_NEW_LATEST);
	plan_free(p);
	free(j);
	j = replace(BASE, from, "\"owner\":\"Dana\",\"acknowledge\":{\"new_members\":\"none\"},"
		    "\"schedule\":{\"cadence\"");
	assert_int_equal(load_str(j, &p, &err), H_OK);
	assert_true(p->comms[0].acknowledge);
	assert_int_equal(p->comms[0].new_members, ACK_NEW_NONE);
	plan_free(p);
	free(j);
	j = replace(BASE, from, "\"owner\":\"Dana\",\"acknowledge\":{\"new_members\":\"all\"},"
		    "\"schedule\":{\"cadence\"");
	expect_error(j, "communications[0](AWR).acknowledge.new_members: \"all\" is not what a new "
		     "member gets (latest or none)");
	free(j);
}

/* "holidays": a list or an ICS file (relative to the plan), read into
 * days; a file that is not usable says why, with its line. */
static void holidays_files(void **state)
{
	(void)state;
	const char *sched = "\"schedule\":{\"cadence\":\"monthly\",\"start\":\"2026-01-15T09:30\"}";
	char *j = replace(BASE, sched,
			  "\"schedule\":{\"cadence\":\"monthly\",\"start\":\"2026-01-15T09:30\","
			  "\"shift\":\"previous-working-day\",\"holidays\":\"file:holidays-acme.ics\"}");
	struct plan *p;
	struct herald_err err;
	assert_int_equal(load_str(j, &p, &err), H_OK);
	free(j);
	const struct schedule *s = &p->comms[0].sched;
	assert_int_equal(s->shift, SHIFT_PREVIOUS);
	/* 4 May, three Christmases (RRULE to 2028), 29-31 Dec (DTEND);
	 * the cancelled 15 September is not one. */
	static const char *const want[] = { "2026-05-04", "2026-12-25", "2026-12-29",
					     "2026-12-30", "2026-12-31", "2027-12-25",
					     "2028-12-25" };
	assert_int_equal(s->nholidays, 7);
	for (size_t i = 0; i < 7; i++) {
		int64_t w;
		assert_true(parse_date(want[i], &w));
		assert_int_equal(s->holidays[i], w / 86400);
	}
	plan_free(p);
	static const struct {
		const char *file, *why;
	} bad[] = {
		{ "holidays-broken/unterminated.ics", "ends before END:VCALENDAR" },
		{ "holidays-broken/bad-date.ics", "line 5: DTSTART \"20261345\" is not a date" },
		{ "holidays-broken/bad-rrule.ics", "line 4: RRULE: unknown rule part \"BYDAYS\"" },
		{ "holidays-broken/no-dtstart.ics", "line 2: a VEVENT without DTSTART" },
		{ "holidays-broken/missing.ics", "cannot read holidays file holidays-broken/missing.ics" },
		{ "/etc/passwd", "give a path relative to the plan file" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *h = xasprintf("\"schedule\":{\"cadence\":\"monthly\",\"start\":\"2026-01-15T09:30\","
				    "\"shift\":\"next-working-day\",\"holidays\":\"file:%s\"}", bad[i].file);
		j = replace(BASE, sched, h);
		expect_error(j, "communications[0](AWR).schedule.holidays: ");
		expect_error(j, bad[i].why);
		free(j);
		free(h);
	}
}

static void x_keys_are_ignored(void **state)
{
	(void)state;
	char *j = replace(BASE, "\"owner\":\"Dana\",", "\"owner\":\"Dana\",\"x-note\":{\"a\":[1]},");
	struct plan *p;
	struct herald_err err;
	assert_int_equal(load_str(j, &p, &err), H_OK);
	plan_free(p);
	free(j);
}

static void secrets_stay_out_of_errors(void **state)
{
	(void)state;
	setenv("HT_SLACK", "ftp://canary-77aa.example/hook", 1);
	struct plan *p;
	struct herald_err err;
	assert_int_equal(load_str(BASE, &p, &err), H_EINVAL);
	assert_contains(err.msg, "channels.slack.webhook");
	assert_not_contains(err.msg, "canary-77aa");
	unsetenv("HT_SLACK");
	assert_int_equal(load_str(BASE, &p, &err), H_EINVAL);
	assert_contains(err.msg, "environment variable HT_SLACK is not set");
	setenv("HT_SLACK", "https://hooks.slack.test/services/T/B/canary-5e1f", 1);
}

static void demo_secrets_in_dry_run(void **state)
{
	(void)state;
	unsetenv("HT_SLACK");
	struct plan_load_opts o = { .demo_secrets = true };
	struct plan *p = NULL;
	struct herald_err err;
	assert_int_equal(plan_load_buf("x.json", BASE, strlen(BASE), &o, &p, &err), H_OK);
	assert_string_equal(p->channels[0].webhook.value, "demo-HT_SLACK");
	plan_free(p);
	setenv("HT_SLACK", "https://hooks.slack.test/services/T/B/canary-5e1f", 1);
}

static void references_are_checked(void **state)
{
	(void)state;
	char *j = replace(BASE, "\"audiences\":[\"staff\"]", "\"audiences\":[\"stuff\"]");
	expect_error(j, "communications[0](AWR).audiences[0]: unknown audience \"stuff\"");
	free(j);
	j = replace(BASE, "\"audiences\":[\"staff\"],\"owner\":\"Dana\"",
		    "\"audiences\":[\"ext\"],\"channels\":[\"slack\"],\"owner\":\"Dana\"");
	expect_error(j, "communications[0](AWR).channels[0]: channel \"slack\" is not in the deliver list");
	free(j);
	j = replace(BASE, "{\"channel\":\"slack\"}", "{\"channel\":\"slack\",\"to\":[\"a@b.example\"]}");
	expect_error(j, "audiences.staff.deliver[0].to: \"to\" applies only to email channels");
	free(j);
	j = replace(BASE, "ann@acme.example", "ann@acme");
	expect_error(j, "audiences.staff.members[0].email");
	free(j);
	j = replace(BASE, "\"id\":\"BREACH\"", "\"id\":\"AWR\"");
	expect_error(j, "communications[1](AWR).id: duplicate communication id \"AWR\"");
	free(j);
}

static void templates_are_checked(void **state)
{
	(void)state;
	char *j = replace(BASE, "\"topic\":\"Awareness\",",
			  "\"topic\":\"Awareness\",\"message\":\"Hi {{audience}}: {{nope}}\",");
	expect_error(j, "communications[0](AWR).message: unknown placeholder {{nope}}");
	free(j);
}

/* Loading a plan registers its secrets: no log line can carry them. */
static void secrets_are_masked_in_logs(void **state)
{
	(void)state;
	log_forget_secrets();
	setenv("HT_SLACK", "https://hooks.slack.test/services/T/B/log-canary-31", 1);
	char *j = replace(BASE, "\"from\":\"ISMS <isms@acme.example>\"}",
			  "\"from\":\"ISMS <isms@acme.example>\",\"username\":\"relay-user\","
			  "\"password\":\"env:HT_PASS\"},\"hook\":{\"type\":\"webhook\","
			  "\"url\":\"https://hook.test/x\",\"headers\":{\"Authorization\":"
			  "\"Bearer hdr-canary-77\"}}");
	setenv("HT_PASS", "pw-canary-42", 1);
	struct plan *p;
	struct herald_err err;
	assert_int_equal(load_str(j, &p, &err), H_OK);
	struct buf b;
	buf_init(&b);
	const char *line = "sent to https://hooks.slack.test/services/T/B/log-canary-31 "
			   "auth pw-canary-42 with Bearer hdr-canary-77 as relay-user";
	log_escape(&b, line, strlen(line));
	assert_not_contains(b.data, "log-canary-31");
	assert_not_contains(b.data, "pw-canary-42");
	assert_not_contains(b.data, "hdr-canary-77");
	assert_contains(b.data, "relay-user"); /* an account name, not a secret */
	assert_contains(b.data, "[secret]");
	buf_free(&b);
	plan_free(p);
	/* A dry run's demo values are not secrets. */
	log_forget_secrets();
	unsetenv("HT_SLACK");
	struct plan_load_opts o = { .demo_secrets = true };
	assert_int_equal(plan_load_buf("x.json", j, strlen(j), &o, &p, &err), H_OK);
	buf_init(&b);
	log_escape(&b, "demo-HT_SLACK", 13);
	assert_string_equal(b.data, "demo-HT_SLACK");
	buf_free(&b);
	plan_free(p);
	free(j);
	log_forget_secrets();
	unsetenv("HT_PASS");
	setenv("HT_SLACK", "https://hooks.slack.test/services/T/B/canary-5e1f", 1);
}

struct seen_errors {
	size_t n;
	char msgs[16384];
};

static void collect(const char *msg, void *ctx)
{
	struct seen_errors *e = ctx;
	e->n++;
	strncat(e->msgs, msg, sizeof e->msgs - strlen(e->msgs) - 2);
	strncat(e->msgs, "\n", sizeof e->msgs - strlen(e->msgs) - 1);
}

static size_t count_errors(const char *json, struct seen_errors *e, struct herald_err *err)
{
	memset(e, 0, sizeof *e);
	struct plan_load_opts o = { .on_error = collect, .ctx = e };
	struct plan *p = NULL;
	herald_err_clear(err);
	assert_int_equal(plan_load_buf("x.json", json, strlen(json), &o, &p, err), H_EINVAL);
	assert_null(p);
	return e->n;
}

/* Independent errors are all reported, in order; err holds the first. */
static void every_error_is_reported(void **state)
{
	(void)state;
	char *a = replace(BASE, "\"approved_on\":\"2026-01-12\"", "\"approved_on\":\"2027-02-29\"");
	char *b = replace(a, "\"scope\":\"internal\"", "\"scope\":\"inside\"");
	char *c = replace(b, "\"cadence\":\"monthly\"", "\"cadence\":\"monthy\"");
	char *d = replace(c, "\"owner\":\"CISO\",", "");
	char *j = replace(d, "\"topic\":\"Awareness\",", "\"topic\":\"Awareness\",\"colour\":1,");
	struct seen_errors e;
	struct herald_err err;
	assert_int_equal(count_errors(j, &e, &err), 5);
	assert_string_equal(err.msg, "plan.approved_on: \"2027-02-29\" is not a date YYYY-MM-DD: "
				     "February 2027 has 28 days");
	assert_contains(e.msgs, "plan.approved_on: \"2027-02-29\"");
	assert_contains(e.msgs, "audiences.staff.scope: \"inside\" is not a scope");
	assert_contains(e.msgs, "communications[0](AWR).colour: unknown key");
	assert_contains(e.msgs, "communications[0](AWR).schedule.cadence: unknown cadence");
	assert_contains(e.msgs, "communications[1](BREACH).owner: required key \"owner\" is missing");
	/* In the order of the file. */
	assert_true(strstr(e.msgs, "colour") < strstr(e.msgs, "cadence"));
	assert_true(strstr(e.msgs, "scope") < strstr(e.msgs, "colour"));
	/* Without on_error, the same first error. */
	struct plan *p = NULL;
	struct herald_err first;
	assert_int_equal(load_str(j, &p, &first), H_EINVAL);
	assert_string_equal(first.msg, err.msg);
	free(a), free(b), free(c), free(d), free(j);
}

/* A failed part is reported once, not again by everything that uses it. */
static void no_cascades(void **state)
{
	(void)state;
	struct seen_errors e;
	struct herald_err err;
	/* A channel of unknown type: its deliver entries are not judged. */
	char *j = replace(BASE, "\"type\":\"email\"", "\"type\":\"fax\"");
	assert_int_equal(count_errors(j, &e, &err), 1);
	assert_contains(e.msgs, "channels.mail.type: unknown channel type \"fax\" (slack, email, webhook, teams, googlechat or mattermost)");
	free(j);
	/* channels not an object: no "unknown channel" for each reference. */
	char *a = replace(BASE, "\"channels\":{\"slack\"", "\"channels\":[{\"slack\"");
	j = replace(a, "\"from\":\"ISMS <isms@acme.example>\"}},", "\"from\":\"ISMS <isms@acme.example>\"}}],");
	assert_int_equal(count_errors(j, &e, &err), 1);
	assert_contains(e.msgs, "channels: expected an object, found a list");
	free(a), free(j);
	/* An unknown audience: the channel filter is not judged against it. */
	a = replace(BASE, "\"audiences\":[\"staff\"],\"owner\":\"Dana\"",
		    "\"audiences\":[\"stuff\"],\"channels\":[\"slack\"],\"owner\":\"Dana\"");
	assert_int_equal(count_errors(a, &e, &err), 1);
	assert_contains(e.msgs, "communications[0](AWR).audiences[0]: unknown audience \"stuff\"");
	free(a);
	/* A bad start: the rule is not compiled against a guess. */
	j = replace(BASE, "\"start\":\"2026-01-15T09:30\"", "\"start\":\"2026-01-15T25:30\"");
	assert_int_equal(count_errors(j, &e, &err), 1);
	assert_contains(e.msgs, "schedule.start: \"2026-01-15T25:30\" is not a local time "
				"YYYY-MM-DDTHH:MM[:SS]: there is no hour 25");
	free(j);
}

/* At most PLAN_MAX_ERRORS, then the load stops. */
static void errors_are_bounded(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	buf_adds(&b, "{\"plan\":{\"id\":\"P\",\"version\":\"1\",\"owner\":\"O\","
		     "\"timezone\":\"UTC\"},\"channels\":{},\"audiences\":{\"a\":{\"scope\":"
		     "\"internal\"}},\"communications\":[");
	for (int i = 0; i < 150; i++)
		buf_printf(&b, "%s{\"id\":\"C%d\",\"topic\":\"t\",\"audiences\":[\"a\"],"
			   "\"owner\":\"o\",\"schedule\":{\"cadence\":\"hourly\",\"start\":"
			   "\"2026-01-01T09:00\"}}", i ? "," : "", i);
	buf_adds(&b, "]}");
	struct seen_errors e;
	struct herald_err err;
	assert_int_equal(count_errors(b.data, &e, &err), PLAN_MAX_ERRORS);
	assert_contains(e.msgs, "communications[99](C99).schedule.cadence");
	assert_not_contains(e.msgs, "communications[100]");
	buf_free(&b);
}

struct unset_seen {
	char names[256];
	char paths[512];
};

static void on_unset(const char *name, const char *path, void *ctx)
{
	struct unset_seen *u = ctx;
	strncat(u->names, name, sizeof u->names - strlen(u->names) - 2);
	strncat(u->names, ";", sizeof u->names - strlen(u->names) - 1);
	strncat(u->paths, path, sizeof u->paths - strlen(u->paths) - 2);
	strncat(u->paths, ";", sizeof u->paths - strlen(u->paths) - 1);
}

/* Lint mode: an unset variable is reported, not an error, and no value
 * of it is checked (or registered as a secret). */
static void unset_variables_in_lint_mode(void **state)
{
	(void)state;
	unsetenv("HT_SLACK");
	char *j = replace(BASE, "\"smtp\":\"smtp://127.0.0.1:2525\"", "\"smtp\":\"env:HT_SMTP\"");
	struct unset_seen u = { "", "" };
	struct plan_load_opts o = { .on_unset = on_unset, .ctx = &u };
	struct plan *p = NULL;
	struct herald_err err;
	herald_err_clear(&err);
	assert_int_equal(plan_load_buf("x.json", j, strlen(j), &o, &p, &err), H_OK);
	assert_string_equal(u.names, "HT_SLACK;HT_SMTP;");
	assert_string_equal(u.paths, "channels.slack.webhook;channels.mail.smtp;");
	assert_true(p->channels[0].webhook.demo);
	plan_free(p);
	/* Without on_unset (check --strict, run, send): an error for each. */
	struct seen_errors e;
	assert_int_equal(count_errors(j, &e, &err), 2);
	assert_contains(e.msgs, "channels.slack.webhook: environment variable HT_SLACK is not set");
	assert_contains(e.msgs, "channels.mail.smtp: environment variable HT_SMTP is not set");
	free(j);
	setenv("HT_SLACK", "https://hooks.slack.test/services/T/B/canary-5e1f", 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(loads_with_defaults),
		cmocka_unit_test(ack_new_members),
		cmocka_unit_test(errors_name_the_path),
		cmocka_unit_test(syntax_errors_have_line_and_column),
		cmocka_unit_test(holidays_files),
		cmocka_unit_test(x_keys_are_ignored),
		cmocka_unit_test(secrets_stay_out_of_errors),
		cmocka_unit_test(demo_secrets_in_dry_run),
		cmocka_unit_test(references_are_checked),
		cmocka_unit_test(templates_are_checked),
		cmocka_unit_test(secrets_are_masked_in_logs),
		cmocka_unit_test(every_error_is_reported),
		cmocka_unit_test(no_cascades),
		cmocka_unit_test(errors_are_bounded),
		cmocka_unit_test(unset_variables_in_lint_mode),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
