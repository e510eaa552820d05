/* test_plan_text.c - the plan's text as the evidence stores it: the file
 * redacted in place (comments kept), or the canonical JSON when that is
 * not safe; either way the content SHA-256 comes back from it. */
#include "testutil.h"

#include "herald/plan_text.h"
#include "herald/util.h"

static struct plan *load(const char *path, const char *text)
{
	struct plan_load_opts o = { .demo_secrets = true };
	struct plan *p = NULL;
	struct herald_err err;
	herald_err_clear(&err);
	if (plan_load_buf(path, text, strlen(text), &o, &p, &err))
		fail_msg("%s: %s", path, err.msg);
	return p;
}

/* The stored text gives back the plan's content SHA-256. */
static void same_content(const struct plan *p, const char *path)
{
	char *canon = NULL;
	struct herald_err err;
	herald_err_clear(&err);
	const char *as = p->text_canonical ? "stored.json" : path;
	if (plan_canonical_json(as, p->text, strlen(p->text), &canon, &err))
		fail_msg("stored text does not read: %s", err.msg);
	unsigned char d[32];
	char hex[65];
	sha256(canon, strlen(canon), d);
	hex_encode(d, 32, hex);
	assert_string_equal(hex, p->content_sha256);
	free(canon);
}

static const char *YAML =
	"# Rationale: slack is where people read\n"
	"plan:\n"
	"  id: P  # the id\n"
	"  version: \"1.0\"\n"
	"  owner: Dana \xe2\x80\x94 ISMS\n"          /* a multi-byte character */
	"  timezone: Europe/London\n"
	"channels:\n"
	"  s:\n"
	"    type: slack\n"
	"    webhook: https://hooks.example/T0/B0/canary-1111   # pasted, sorry\n"
	"  h:\n"
	"    type: webhook\n"
	"    url: env:PT_URL\n"
	"    headers:\n"
	"      Authorization: 'Bearer canary-2222'\n"
	"    secret: |\n"
	"      whsec_canary3333\n"
	"  m:\n"
	"    type: email\n"
	"    smtp: smtps://relay.example\n"
	"    from: isms@example.org\n"
	"    username: relay-user\n"
	"    password: \"pw-canary-4444\"\n"
	"audiences:\n"
	"  a: {scope: external, deliver: [{channel: s}, {channel: h}, {channel: m, to: [x@example.org]}]}\n"
	"communications:\n"
	"  - id: C\n"
	"    topic: t\n"
	"    audiences: [a]\n"
	"    owner: o\n"
	"    schedule: {trigger: manual}\n";

static void yaml_redacted_in_place(void **state)
{
	(void)state;
	struct plan *p = load("plan.yaml", YAML);
	assert_false(p->text_canonical);
	assert_not_contains(p->text, "canary");
	assert_contains(p->text, "# Rationale: slack is where people read\n");
	assert_contains(p->text, "# pasted, sorry\n");
	assert_contains(p->text, "    webhook: \"[redacted]\"   # pasted");
	assert_contains(p->text, "      Authorization: \"[redacted]\"\n");
	assert_contains(p->text, "    secret: \"[redacted]\"\n  m:\n");
	assert_contains(p->text, "    username: relay-user\n");   /* an identity, not a secret */
	assert_contains(p->text, "url: env:PT_URL");
	same_content(p, "plan.yaml");
	plan_free(p);
}

static void json_redacted_in_place(void **state)
{
	(void)state;
	const char *j =
		"{\"plan\": {\"id\": \"P\", \"version\": \"1\", \"owner\": \"O\", \"timezone\": \"UTC\"},\n"
		" \"channels\": {\"s\": {\"webhook\": \"https://hooks.example/canary-\\u0031\",\n"
		"                      \"type\": \"slack\"},\n"
		"   \"h\": {\"type\": \"webhook\", \"url\": \"env:U\", \"headers\": {\"X-K\":\t\"canary-2\"}}},\n"
		" \"audiences\": {\"a\": {\"scope\": \"external\", \"deliver\": [{\"channel\": \"s\"}, {\"channel\": \"h\"}]}},\n"
		" \"communications\": [{\"id\": \"C\", \"topic\": \"t\", \"audiences\": [\"a\"], \"owner\": \"o\",\n"
		"                     \"schedule\": {\"trigger\": \"manual\"}}]}\n";
	struct plan *p = load("plan.json", j);
	assert_false(p->text_canonical);
	assert_not_contains(p->text, "canary");
	/* Layout kept: the type after the secret, the tab, the line breaks. */
	assert_contains(p->text, "{\"webhook\": \"[redacted]\",\n                      \"type\"");
	assert_contains(p->text, "{\"X-K\":\t\"[redacted]\"}");
	same_content(p, "plan.json");
	plan_free(p);
}

static void nothing_literal_is_the_file(void **state)
{
	(void)state;
	char *y = replace(YAML, "https://hooks.example/T0/B0/canary-1111", "env:PT_HOOK");
	char *y2 = replace(y, "'Bearer canary-2222'", "env:PT_AUTH");
	char *y3 = replace(y2, "|\n      whsec_canary3333", "env:PT_SIGN");
	char *y4 = replace(y3, "\"pw-canary-4444\"", "env:PT_PW");
	struct plan *p = load("plan.yaml", y4);
	assert_false(p->text_canonical);
	assert_string_equal(p->text, y4);
	plan_free(p);
	free(y);
	free(y2);
	free(y3);
	free(y4);
}

/* A comment quoting the secret: the file cannot be kept, the canonical
 * JSON is stored instead (and says nothing of the comment). */
static void comment_quoting_a_secret_falls_back(void **state)
{
	(void)state;
	char *y = replace(YAML, "# the id", "# old hook https://hooks.example/T0/B0/canary-1111");
	struct plan *p = load("plan.yaml", y);
	assert_true(p->text_canonical);
	assert_not_contains(p->text, "canary");
	assert_contains(p->text, "\"webhook\": \"[redacted]\"");
	assert_int_equal(p->text[0], '{');
	same_content(p, "plan.yaml");
	plan_free(p);
	free(y);
}

/* An anchored secret copied by an alias: no in-place edit is safe. */
static void alias_falls_back(void **state)
{
	(void)state;
	char *y = replace(YAML, "webhook: https://hooks.example/T0/B0/canary-1111",
			  "webhook: &hook https://hooks.example/T0/B0/canary-1111");
	char *y2 = replace(y, "  h:\n    type: webhook\n    url: env:PT_URL\n",
			   "  h:\n    type: webhook\n    url: *hook\n");
	struct plan *p = load("plan.yaml", y2);
	assert_true(p->text_canonical);
	assert_not_contains(p->text, "canary");
	same_content(p, "plan.yaml");
	plan_free(p);
	free(y);
	free(y2);
}

static void canonical_is_idempotent(void **state)
{
	(void)state;
	struct plan *p = load("plan.yaml", YAML);
	char *c1 = NULL, *c2 = NULL;
	struct herald_err err;
	assert_int_equal(plan_canonical_json("plan.yaml", YAML, strlen(YAML), &c1, &err), H_OK);
	assert_int_equal(plan_canonical_json("x.json", c1, strlen(c1), &c2, &err), H_OK);
	assert_string_equal(c1, c2);
	free(c1);
	free(c2);
	plan_free(p);
}

/* A stored text loads back for reading: redacted secrets and env: values
 * are stand-ins, so nothing need be set. */
static void stored_text_loads_back(void **state)
{
	(void)state;
	struct plan *p = load("plan.yaml", YAML);
	struct plan *q = NULL;
	struct herald_err err;
	herald_err_clear(&err);
	if (plan_text_load("plan.yaml", p->text, &q, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(q->nchannels, 3);
	assert_string_equal(q->comms[0].id, "C");
	assert_true(q->channels[0].webhook.demo);
	char hex[65];
	assert_int_equal(plan_text_content_sha256("plan.yaml", p->text, hex, &err), H_OK);
	assert_string_equal(hex, p->content_sha256);
	plan_free(q);
	plan_free(p);
}

/* A directory's bind password is a secret too (what the canonical JSON
 * redacts, the stored text redacts). */
static void bind_password_redacted(void **state)
{
	(void)state;
	char *y = replace(YAML, "  a: {scope: external,",
			  "  staff:\n"
			  "    scope: internal\n"
			  "    members:\n"
			  "      ldap: ldaps://dc1.example.org  # the DC\n"
			  "      base: ou=people,dc=example,dc=org\n"
			  "      filter: (objectClass=person)\n"
			  "      bind_dn: cn=herald,dc=example,dc=org\n"
			  "      password: bind-canary-5555\n"
			  "    deliver: [{channel: m, to: members}]\n"
			  "  a: {scope: external,");
	char *y2 = replace(y, "audiences: [a]", "audiences: [a, staff]");
	struct plan *p = load("plan.yaml", y2);
	assert_false(p->text_canonical);
	assert_not_contains(p->text, "canary");
	assert_contains(p->text, "      password: \"[redacted]\"\n");
	assert_contains(p->text, "      ldap: ldaps://dc1.example.org  # the DC\n");
	same_content(p, "plan.yaml");
	struct plan *q = NULL;
	struct herald_err err;
	herald_err_clear(&err);
	if (plan_text_load("plan.yaml", p->text, &q, &err))
		fail_msg("%s", err.msg);
	plan_free(q);
	plan_free(p);
	free(y);
	free(y2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(yaml_redacted_in_place),
		cmocka_unit_test(json_redacted_in_place),
		cmocka_unit_test(nothing_literal_is_the_file),
		cmocka_unit_test(comment_quoting_a_secret_falls_back),
		cmocka_unit_test(alias_falls_back),
		cmocka_unit_test(canonical_is_idempotent),
		cmocka_unit_test(stored_text_loads_back),
		cmocka_unit_test(bind_password_redacted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
