/* test_plan_yaml.c - YAML plans: the same tree as JSON, positions, hazards. */
#include "testutil.h"

#include "herald/plan_yaml.h"
#include "herald/util.h"

/* tests/test_plan.c's BASE plan, written as a person writes YAML. */
static const char *YBASE =
	"# comment\n"
	"plan:\n"
	"  id: P\n"
	"  version: \"1.0\"\n"
	"  owner: Dana\n"
	"  timezone: Europe/London\n"
	"  approved_by: CISO\n"
	"  approved_on: 2026-01-12\n"
	"  next_review: 2099-01-01\n"
	"channels:\n"
	"  slack: {type: slack, webhook: \"env:HT_SLACK\"}\n"
	"  mail:\n"
	"    type: email\n"
	"    smtp: smtp://127.0.0.1:2525\n"
	"    from: ISMS <isms@acme.example>\n"
	"audiences:\n"
	"  staff:\n"
	"    name: All staff\n"
	"    scope: internal\n"
	"    members:\n"
	"      - {name: Ann, email: ann@acme.example}\n"
	"    deliver:\n"
	"      - channel: slack\n"
	"      - channel: mail\n"
	"        to: members\n"
	"  ext: {scope: external, feed: public}\n"
	"communications:\n"
	"  - id: AWR\n"
	"    topic: Awareness\n"
	"    audiences: [staff]\n"
	"    owner: Dana\n"
	"    schedule:\n"
	"      cadence: monthly\n"
	"      start: 2026-01-15T09:30\n"
	"  - id: BREACH\n"
	"    topic: Breach\n"
	"    audiences: [staff, ext]\n"
	"    owner: CISO\n"
	"    schedule: {trigger: manual}\n";

static int setup(void **state)
{
	(void)state;
	setenv("HT_SLACK", "https://hooks.slack.test/services/T/B/yaml-5e1f", 1);
	return 0;
}

static enum herald_rc load_yaml(const char *text, struct plan **p, struct herald_err *err)
{
	herald_err_clear(err);
	*p = NULL;
	return plan_load_buf("tests/data/inline.yaml", text, strlen(text), NULL, p, err);
}

static void expect_yaml_error(const char *text, const char *fragment)
{
	struct plan *p;
	struct herald_err err;
	assert_int_equal(load_yaml(text, &p, &err), H_EINVAL);
	assert_null(p);
	assert_contains(err.msg, fragment);
}

struct seen_errors {
	size_t n;
	char msgs[4096];
};

static void collect(const char *msg, void *ctx)
{
	struct seen_errors *e = ctx;
	e->n++;
	strncat(e->msgs, msg, sizeof e->msgs - strlen(e->msgs) - 2);
	strncat(e->msgs, "\n", sizeof e->msgs - strlen(e->msgs) - 1);
}

static void loads_like_json(void **state)
{
	(void)state;
	struct plan *p;
	struct herald_err err;
	assert_int_equal(load_yaml(YBASE, &p, &err), H_OK);
	assert_string_equal(p->id, "P");
	assert_string_equal(p->version, "1.0");
	assert_string_equal(p->approved_on, "2026-01-12");
	assert_int_equal(p->nchannels, 2);
	assert_string_equal(p->channels[0].id, "slack");
	assert_string_equal(p->channels[0].webhook.value,
			    "https://hooks.slack.test/services/T/B/yaml-5e1f");
	assert_true(p->channels[1].starttls);
	assert_int_equal(p->naudiences, 2);
	assert_string_equal(p->audiences[1].id, "ext");
	assert_int_equal(p->audiences[1].feed, FEED_PUBLIC);
	assert_int_equal(p->audiences[0].deliver[1].to, TO_MEMBERS);
	assert_int_equal(p->ncomms, 2);
	assert_string_equal(p->comms[0].sched.rrule, "FREQ=MONTHLY");
	assert_int_equal(p->comms[1].sched.kind, SCHED_MANUAL);
	plan_free(p);
}

static void errors_have_path_line_and_column(void **state)
{
	(void)state;
	char *y = replace(YBASE, "cadence: monthly", "cadence: monthy");
	expect_yaml_error(y, "communications[0](AWR).schedule.cadence: line 33, column 7: "
			  "unknown cadence \"monthy\"");
	free(y);
	y = replace(YBASE, "scope: external", "scope: external, fed: x");
	expect_yaml_error(y, "audiences.ext.fed: line 26, column 26: unknown key \"fed\" "
			  "(did you mean \"feed\"?)");
	free(y);
	/* A missing key points at the mapping that lacks it. */
	y = replace(YBASE, "    owner: CISO\n", "");
	expect_yaml_error(y, "communications[1](BREACH).owner: line 35, column 5: required key");
	free(y);
	/* Syntax. */
	expect_yaml_error("plan: [1, 2\n", "line 2, column 1: ");
	expect_yaml_error("", "line 1, column 1: the file holds no YAML document");
	expect_yaml_error("- 1\n- 2\n", "(top level): line 1, column 1: a plan is a JSON object, found a list");
}

static void hazards_are_refused(void **state)
{
	(void)state;
	char *y = replace(YBASE, "version: \"1.0\"", "version: 1.10");
	expect_yaml_error(y, "plan.version: line 4, column 3: expected a string, found a number: "
			  "YAML reads the bare value 1.10 as a number; write it in quotes (\"1.10\")");
	free(y);
	y = replace(YBASE, "owner: Dana\n  timezone", "owner: 0800\n  timezone");
	expect_yaml_error(y, "plan.owner: line 5, column 3: expected a string, found a number");
	free(y);
	y = replace(YBASE, "name: All staff", "name: yes");
	expect_yaml_error(y, "audiences.staff.name: line 18, column 5: the bare value yes is true");
	free(y);
	y = replace(YBASE, "name: All staff", "name: \"yes\"");
	struct plan *p;
	struct herald_err err;
	assert_int_equal(load_yaml(y, &p, &err), H_OK); /* quoted: a string */
	assert_string_equal(p->audiences[0].name, "yes");
	plan_free(p);
	free(y);
	y = replace(YBASE, "    from: ISMS", "    starttls: on\n    from: ISMS");
	expect_yaml_error(y, "channels.mail.starttls: line 15, column 5: expected true or false, "
			  "found a string: write true or false");
	free(y);
	y = replace(YBASE, "  id: P\n", "  id: P\n  id: Q\n");
	expect_yaml_error(y, "plan.id: line 4, column 3: duplicate key");
	free(y);
	y = replace(YBASE, "  ext: {", "  off: {");
	expect_yaml_error(y, "audiences.off: line 26, column 3: the bare key off is false");
	free(y);
	y = replace(YBASE, "    scope: internal\n", "\tscope: internal\n");
	expect_yaml_error(y, "line 19, column 1: a tab in the indentation");
	free(y);
	y = replace(YBASE, "  id: P\n", "  id: !!str P\n  title: !!binary aGk=\n");
	expect_yaml_error(y, "plan.title: line 4, column 10: tag !!binary is not supported");
	free(y);
	expect_yaml_error("plan: {}\n---\nplan: {}\n", "line 2, column 1: a plan is one YAML document");
	expect_yaml_error("a: &a {x: 1}\nplan:\n  <<: *a\n", "plan: line 3, column 3: merge keys");
	expect_yaml_error("plan: *nowhere\n", "plan: line 1, column 7: *nowhere names no complete anchor");
}

static void aliases_are_bounded(void **state)
{
	(void)state;
	/* A few aliases are fine: a shared list of recipients. */
	char *y = replace(YBASE, "        to: members\n",
			  "        to: &board [a@acme.example, b@acme.example]\n"
			  "      - channel: mail\n        to: *board\n");
	struct plan *p;
	struct herald_err err;
	assert_int_equal(load_yaml(y, &p, &err), H_OK);
	assert_int_equal(p->audiences[0].ndeliver, 3);
	assert_int_equal(p->audiences[0].deliver[2].naddrs, 2);
	assert_string_equal(p->audiences[0].deliver[2].addrs[1], "b@acme.example");
	plan_free(p);
	free(y);
	/* An error inside an aliased copy points where the value is written. */
	y = replace(YBASE, "        to: members\n",
			  "        to: &bad [not-an-address]\n"
			  "      - channel: mail\n        to: *bad\n");
	struct seen_errors e = { 0 };
	struct plan_load_opts o = { .on_error = collect, .ctx = &e };
	herald_err_clear(&err);
	assert_int_equal(plan_load_buf("x.yaml", y, strlen(y), &o, &p, &err), H_EINVAL);
	assert_int_equal(e.n, 2);
	assert_contains(e.msgs, "audiences.staff.deliver[1].to[0]: line 25, column 19:");
	assert_contains(e.msgs, "audiences.staff.deliver[2].to[0]: line 25, column 19:");
	free(y);
	/* More than PLAN_YAML_MAX_ALIASES aliases. */
	struct buf b;
	buf_init(&b);
	buf_adds(&b, "x-a: &a 1\nx-list: [");
	for (int i = 0; i <= PLAN_YAML_MAX_ALIASES; i++)
		buf_adds(&b, "*a, ");
	buf_adds(&b, "1]\n");
	expect_yaml_error(b.data, "more than 100 aliases");
	buf_free(&b);
	/* Billion laughs. */
	buf_init(&b);
	buf_adds(&b, "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
	for (int i = 1; i < 10; i++)
		buf_printf(&b, "l%d: &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d]\n",
			   i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
	expect_yaml_error(b.data, "aliases expand to more than 10000 values");
	buf_free(&b);
}

static void x_keys_take_anything(void **state)
{
	(void)state;
	char *y = replace(YBASE, "  owner: Dana\n  timezone",
			  "  owner: Dana\n  x-notes:\n    yes: 1.10\n    list: [on, off, ~]\n  timezone");
	struct plan *p;
	struct herald_err err;
	assert_int_equal(load_yaml(y, &p, &err), H_OK);
	plan_free(p);
	free(y);
}

/* The reader on its own: marks and typing. */
static void marks_and_types(void **state)
{
	(void)state;
	const char *text = "a: 1\nb:\n  - \"1\"\n  - x\n  - 1.5\nc: ~\nd: true\n";
	json_t *root = NULL;
	struct plan_yaml_marks *m = NULL;
	struct herald_err err;
	assert_int_equal(plan_yaml_parse(text, strlen(text), &root, &m, &err), H_OK);
	assert_true(json_is_integer(json_object_get(root, "a")));
	json_t *b = json_object_get(root, "b");
	assert_true(json_is_string(json_array_get(b, 0)));
	assert_true(json_is_real(json_array_get(b, 2)));
	assert_true(json_is_null(json_object_get(root, "c")));
	assert_true(json_is_true(json_object_get(root, "d")));
	const struct plan_yaml_mark *k = plan_yaml_mark_at(m, root, "b", 0);
	assert_non_null(k);
	assert_int_equal(k->line, 2);
	assert_int_equal(k->column, 1);
	k = plan_yaml_mark_at(m, b, NULL, 1);
	assert_int_equal(k->line, 4);
	assert_int_equal(k->column, 5);
	assert_null(k->bare);
	k = plan_yaml_mark_at(m, b, NULL, 2);
	assert_string_equal(k->bare, "1.5");
	assert_string_equal(k->reading, "a number");
	k = plan_yaml_mark_at(m, b, NULL, 0); /* quoted: nothing to warn about */
	assert_null(k->bare);
	json_decref(root);
	plan_yaml_marks_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(loads_like_json),
		cmocka_unit_test(errors_have_path_line_and_column),
		cmocka_unit_test(hazards_are_refused),
		cmocka_unit_test(aliases_are_bounded),
		cmocka_unit_test(x_keys_take_anything),
		cmocka_unit_test(marks_and_types),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
