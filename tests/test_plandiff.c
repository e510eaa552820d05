/* test_plandiff.c - the changes between two plan versions, in words. */
#include "testutil.h"

#include "herald/plandiff.h"
#include "herald/util.h"

static const char *A =
	"{\"plan\":{\"id\":\"P\",\"version\":\"1.0\",\"owner\":\"Dana\",\"approved_by\":\"CISO\","
	"\"approved_on\":\"2026-01-10\",\"timezone\":\"Europe/London\"},"
	"\"channels\":{\"s\":{\"type\":\"slack\",\"webhook\":\"env:PD_A\"},"
	"\"m\":{\"type\":\"email\",\"smtp\":\"smtps://relay.example\",\"from\":\"isms@example.org\","
	"\"username\":\"relay\",\"password\":\"pw-canary-1\"}},"
	"\"audiences\":{\"staff\":{\"name\":\"All staff\",\"scope\":\"internal\","
	"\"deliver\":[{\"channel\":\"s\"}]},"
	"\"board\":{\"name\":\"Board\",\"scope\":\"internal\",\"deliver\":[{\"channel\":\"m\",\"to\":[\"b@example.org\"]}]},"
	"\"ext\":{\"name\":\"Suppliers\",\"scope\":\"external\",\"deliver\":[{\"channel\":\"m\",\"to\":[\"s@example.org\"]}]}},"
	"\"communications\":["
	"{\"id\":\"AWR\",\"topic\":\"Awareness\",\"audiences\":[\"staff\",\"board\"],\"owner\":\"Dana\","
	"\"schedule\":{\"cadence\":\"quarterly\",\"start\":\"2026-01-15T09:30\"},\"notify\":[\"P7D\",\"PT0S\"]},"
	"{\"id\":\"OLD\",\"topic\":\"Retired item\",\"audiences\":[\"staff\"],\"owner\":\"Dana\","
	"\"schedule\":{\"trigger\":\"manual\"}}]}";

static struct plan *load(const char *json)
{
	struct plan_load_opts o = { .demo_secrets = true };
	struct plan *p = NULL;
	struct herald_err err;
	herald_err_clear(&err);
	if (plan_load_buf("x.json", json, strlen(json), &o, &p, &err))
		fail_msg("%s", err.msg);
	return p;
}

static char *canon(const char *json)
{
	char *c = NULL;
	struct herald_err err;
	if (plan_canonical_json("x.json", json, strlen(json), &c, &err))
		fail_msg("%s", err.msg);
	return c;
}

static char *diff(const char *a, const char *b, bool words, size_t *n)
{
	struct plan *pa = words ? load(a) : NULL, *pb = words ? load(b) : NULL;
	char *ca = canon(a), *cb = canon(b);
	struct plandiff_side sa = { "version A", ca, pa }, sb = { "version B", cb, pb };
	struct buf out;
	buf_init(&out);
	struct herald_err err;
	if (plandiff_render(&sa, &sb, &out, n, &err))
		fail_msg("%s", err.msg);
	plan_free(pa);
	plan_free(pb);
	free(ca);
	free(cb);
	return buf_take(&out);
}

static void no_change(void **state)
{
	(void)state;
	size_t n;
	char *d = diff(A, A, true, &n);
	assert_int_equal(n, 0);
	assert_contains(d, "Changes from version A\n          to version B\n");
	assert_contains(d, "No change in content.");
	free(d);
}

static void field_by_field(void **state)
{
	(void)state;
	char *b1 = replace(A, "\"version\":\"1.0\"", "\"version\":\"1.1\"");
	char *b2 = replace(b1, "\"cadence\":\"quarterly\"", "\"cadence\":\"monthly\"");
	char *b3 = replace(b2, "\"audiences\":[\"staff\",\"board\"]", "\"audiences\":[\"staff\",\"ext\"]");
	char *b4 = replace(b3, "\"notify\":[\"P7D\",\"PT0S\"]", "\"notify\":[\"PT0S\"]");
	char *b5 = replace(b4, "{\"id\":\"OLD\",\"topic\":\"Retired item\",\"audiences\":[\"staff\"],"
			   "\"owner\":\"Dana\",\"schedule\":{\"trigger\":\"manual\"}}",
			   "{\"id\":\"NEW\",\"topic\":\"Phishing results\",\"audiences\":[\"staff\"],"
			   "\"owner\":\"Riley\",\"schedule\":{\"cadence\":\"monthly\",\"start\":\"2026-02-02T10:00\"}}");
	char *b6 = replace(b5, "\"webhook\":\"env:PD_A\"", "\"webhook\":\"env:PD_B\"");
	char *b7 = replace(b6, "\"pw-canary-1\"", "\"pw-canary-2\"");
	char *b8 = replace(b7, "\"name\":\"Board\"", "\"name\":\"Board of directors\"");
	size_t n;
	char *d = diff(A, b8, true, &n);
	assert_contains(d, "\nDocument control\n  version: was \"1.0\", now \"1.1\"\n");
	assert_contains(d, "\nCommunications\n  changed AWR (Awareness)\n");
	assert_contains(d, "    when\n      was: every 3 months from 15 Jan 2026, 09:30 Europe/London, "
			   "for 30 minutes\n      now: every month from 15 Jan 2026, 09:30 "
			   "Europe/London, for 30 minutes\n");
	assert_contains(d, "    with whom: added ext; removed board\n");
	assert_contains(d, "    messages\n      was: notified 7 days before and at the start\n"
			   "      now: notified at the start\n");
	assert_contains(d, "  added NEW (Phishing results)\n    when: every month from 2 Feb 2026, "
			   "10:00 Europe/London, for 30 minutes\n");
	assert_contains(d, "    who: \"Riley\"\n");
	assert_contains(d, "  removed OLD (Retired item)\n");
	assert_contains(d, "\nAudiences\n  changed board (Board of directors)\n    name: was \"Board\", "
			   "now \"Board of directors\"\n");
	assert_contains(d, "\nChannels\n  changed s (slack)\n    webhook: was \"env:PD_A\", now "
			   "\"env:PD_B\"\n");
	/* Secrets: never shown; two literal ones look alike (both redacted). */
	assert_not_contains(d, "canary");
	assert_not_contains(d, "changed m (email)");
	assert_contains(d, "\n8 changes.\n");
	assert_int_equal(n, 8);
	free(d);
	/* Without the plans, schedules are compared as written. */
	d = diff(A, b8, false, &n);
	assert_contains(d, "    when cadence: was \"quarterly\", now \"monthly\"\n");
	assert_contains(d, "    messages: removed P7D\n");
	free(d);
	free(b1);
	free(b2);
	free(b3);
	free(b4);
	free(b5);
	free(b6);
	free(b7);
	free(b8);
}

static void extension_keys_and_redacted(void **state)
{
	(void)state;
	char *b = replace(A, "\"plan\":{", "\"x-rationale\":\"why\",\"plan\":{");
	char *b2 = replace(b, "\"webhook\":\"env:PD_A\"", "\"webhook\":\"https://hooks.example/canary-3\"");
	size_t n;
	char *d = diff(A, b2, true, &n);
	assert_contains(d, "\nOther\n  x-rationale: added: \"why\"\n");
	assert_contains(d, "    webhook: was \"env:PD_A\", now a secret written in the plan (redacted)\n");
	assert_not_contains(d, "canary");
	assert_int_equal(n, 2);
	free(d);
	free(b);
	free(b2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_change),
		cmocka_unit_test(field_by_field),
		cmocka_unit_test(extension_keys_and_redacted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
