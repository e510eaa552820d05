/* test_plan.c - plan loading: defaults, secrets, paths in errors. */
#include "testutil.h"

#include "herald/log.h"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(loads_with_defaults),
		cmocka_unit_test(errors_name_the_path),
		cmocka_unit_test(syntax_errors_have_line_and_column),
		cmocka_unit_test(x_keys_are_ignored),
		cmocka_unit_test(secrets_stay_out_of_errors),
		cmocka_unit_test(demo_secrets_in_dry_run),
		cmocka_unit_test(references_are_checked),
		cmocka_unit_test(templates_are_checked),
		cmocka_unit_test(secrets_are_masked_in_logs),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
