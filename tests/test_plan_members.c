/*
 * test_plan_members.c - an audience's "members" in the plan: every form,
 * errors at the key's path, directory checks without a connection, and
 * the reload rules (a failing source keeps the previous plan's list, a
 * source not due shares it, a changed source is never matched).
 */
#include "testutil.h"

#include <unistd.h>

#include "herald/directory.h"
#include "herald/members.h"

#define HEAD "{\"plan\":{\"id\":\"P\",\"version\":\"1\",\"owner\":\"o\",\"timezone\":\"UTC\"}," \
	     "\"channels\":{\"mail\":{\"type\":\"email\",\"smtp\":\"smtps://mail.example\"," \
	     "\"from\":\"isms@acme.example\"}},\"audiences\":{\"staff\":{\"scope\":\"internal\"," \
	     "\"members\":"
#define TAIL ",\"deliver\":[{\"channel\":\"mail\",\"to\":\"members\"}]}}," \
	     "\"communications\":[{\"id\":\"C\",\"topic\":\"t\",\"audiences\":[\"staff\"]," \
	     "\"owner\":\"o\",\"schedule\":{\"trigger\":\"manual\"}}]}"
#define LDAP_OK "{\"ldap\":\"ldaps://dc1.acme.example\",\"base\":\"ou=people,dc=acme,dc=example\"," \
		"\"filter\":\"(objectClass=person)\""

static char dir[64];

static enum herald_rc load_members(const char *members, const struct plan_load_opts *o,
				   struct plan **p, struct herald_err *err)
{
	char path[128];
	snprintf(path, sizeof path, "%s/plan.json", dir);
	size_t n = strlen(HEAD) + strlen(members) + strlen(TAIL) + 1;
	char *json = malloc(n);
	snprintf(json, n, "%s%s%s", HEAD, members, TAIL);
	herald_err_clear(err);
	*p = NULL;
	enum herald_rc rc = plan_load_buf(path, json, strlen(json), o, p, err);
	free(json);
	return rc;
}

static void expect(const char *members, const char *fragment)
{
	struct plan *p;
	struct herald_err err;
	assert_int_equal(load_members(members, NULL, &p, &err), H_EINVAL);
	assert_null(p);
	assert_contains(err.msg, fragment);
}

static void write_csv(const char *name, const char *text)
{
	char path[128];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/herald-pm-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd);
}

static void forms(void **state)
{
	(void)state;
	struct plan *p;
	struct herald_err err;
	/* Inline, with a case duplicate kept once. */
	assert_int_equal(load_members("[{\"name\":\"A\",\"email\":\"a@acme.example\"},"
				      "{\"name\":\"B\",\"email\":\"A@ACME.example\"}]", NULL, &p, &err),
			 H_OK);
	assert_int_equal(p->audiences[0].nmembers, 1);
	assert_int_equal(p->audiences[0].source.kind, MEMBERS_INLINE);
	assert_contains(p->audiences[0].list->notes[0].message, "members[0]) and A@ACME.example (members[1])");
	plan_free(p);
	/* The CSV object form. */
	write_csv("hr.csv", "Nom|Courriel|Service\nAnn|ann@acme.example|IT\nBo|bo@acme.example|RH\n");
	assert_int_equal(load_members("{\"file\":\"hr.csv\",\"name\":\"nom\",\"email\":\"COURRIEL\","
				      "\"delimiter\":\"|\",\"filter\":{\"Service\":\"IT\"}}", NULL, &p, &err),
			 H_OK);
	assert_int_equal(p->audiences[0].nmembers, 1);
	assert_string_equal(p->audiences[0].members[0].email, "ann@acme.example");
	assert_string_equal(p->audiences[0].source.what, "file hr.csv");
	plan_free(p);
	/* LDAP without resolve: checked, not contacted, unresolved. */
	assert_int_equal(load_members(LDAP_OK "}", NULL, &p, &err), H_OK);
	const struct plan_members *m = &p->audiences[0].source;
	assert_int_equal(m->kind, MEMBERS_LDAP);
	assert_false(m->resolved);
	assert_int_equal(m->refresh, 3600);
	assert_true(m->starttls);
	assert_string_equal(m->email_attr, "mail");
	assert_string_equal(m->name_attr, "displayName");
	assert_int_equal(p->audiences[0].nmembers, 0);
	plan_free(p);
}

static void errors_name_the_key(void **state)
{
	(void)state;
	write_csv("hr.csv", "Name;Mail\nAnn;ann@acme.example\n");
	expect("{\"file\":\"hr.csv\",\"delimiter\":\";\",\"email\":\"E-Mail\"}",
	       "audiences.staff.members.email: hr.csv has no column \"E-Mail\" for the email "
	       "(its columns: \"Name\", \"Mail\")");
	expect("{\"file\":\"hr.csv\",\"delimiter\":\";\",\"email\":\"mail\",\"filter\":{\"Dept\":[\"IT\"]}}",
	       "audiences.staff.members.filter.Dept: the filter's column \"Dept\" is not in hr.csv");
	expect("{\"file\":\"hr.csv\",\"delimiter\":\"ab\"}", "audiences.staff.members.delimiter:");
	expect("{\"file\":\"hr.csv\",\"filter\":{\"Name\":[]}}", "audiences.staff.members.filter.Name:");
	expect("{\"file\":\"/etc/passwd\"}", "audiences.staff.members.file: give a path relative");
	expect("\"file:gone.csv\"", "audiences.staff.members: cannot read members file gone.csv");
	expect("{\"file\":\"hr.csv\",\"ldap\":\"ldaps://x.example\"}", "not both");
	expect("{\"url\":\"ldaps://x.example\"}", "audiences.staff.members: give \"file\"");
	expect("42", "audiences.staff.members: expected a list");
	expect(LDAP_OK ",\"refresh\":\"PT30S\"}", "audiences.staff.members.refresh: PT30S is too often");
	expect(LDAP_OK ",\"refresh\":\"soon\"}", "audiences.staff.members.refresh: \"soon\" is not");
	expect(LDAP_OK ",\"password\":\"x\"}", "audiences.staff.members.password: a password needs a \"bind_dn\"");
	expect(LDAP_OK ",\"bind_dn\":\"cn=x\"}", "audiences.staff.members.bind_dn: a bind DN needs");
	expect(LDAP_OK ",\"email_attr\":\"e mail\"}", "audiences.staff.members.email_attr:");
	expect("{\"ldap\":\"ldap://dc1.acme.example\",\"starttls\":false,\"base\":\"dc=x\","
	       "\"filter\":\"(cn=*)\"}", "audiences.staff.members.starttls: plain LDAP");
	expect("{\"ldap\":\"ldaps://dc1.acme.example\",\"base\":\"dc=x\",\"filter\":\"cn=*\"}",
	       "audiences.staff.members.filter: LDAP filter syntax error at character 1: expected (");
	expect("{\"ldap\":\"ldaps://dc1.acme.example\",\"filter\":\"(cn=*)\"}",
	       "audiences.staff.members.base: required key");
}

static void directory_checks(void **state)
{
	(void)state;
	char msg[256];
	const char *good[] = {
		"(objectClass=*)", "(&(objectClass=person)(memberOf=cn=staff,ou=groups,dc=acme,dc=example))",
		"(|(cn=a*b*c)(!(mail=*)))", "(cn:caseExactMatch:=Ann)", "(:dn:2.5.13.5:=x)",
		"(cn=a\\2a\\28)", "(employeeNumber>=100)", "(cn~=ann)", "(cn;lang-en=x)",
		"(memberOf:1.2.840.113556.1.4.1941:=cn=staff,ou=groups,dc=acme,dc=example)",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		if (!directory_check_filter(good[i], msg, sizeof msg))
			fail_msg("%s: %s", good[i], msg);
	const char *bad[] = { "", "cn=x", "(cn=x", "(cn=x))", "(&)", "(cn=a(b)", "(cn~=a*)",
			      "(=x)", "(cn=\\zz)", "(!(a=b)(c=d))", "(cn:=)x" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (directory_check_filter(bad[i], msg, sizeof msg))
			fail_msg("accepted %s", bad[i]);
	assert_true(directory_check_url("ldaps://dc1.acme.example:636", msg, sizeof msg));
	assert_true(directory_check_url("ldapi://%2Fvar%2Frun%2Fslapd%2Fldapi", msg, sizeof msg));
	assert_false(directory_check_url("ldaps://dc1 ldaps://dc2", msg, sizeof msg));
	assert_false(directory_check_url("ldaps://", msg, sizeof msg));
	assert_false(directory_check_url("ldaps://dc1/dc=x??sub", msg, sizeof msg));
	assert_true(directory_url_local("ldap://127.0.0.7:389"));
	assert_true(directory_url_local("ldap://[::1]:389"));
	assert_true(directory_url_local("ldap://localhost"));
	assert_true(directory_url_local("ldapi://%2Ftmp%2Fs"));
	assert_false(directory_url_local("ldap://dc1.acme.example"));
	assert_false(directory_url_local("ldap://10.0.0.1"));
	assert_false(directory_url_local("ldaps://127.0.0.1"));
	assert_true(directory_check_dn("ou=people,dc=acme,dc=example", msg, sizeof msg));
	assert_false(directory_check_dn("people", msg, sizeof msg));
	assert_true(directory_check_attr("userPrincipalName", msg, sizeof msg));
	assert_false(directory_check_attr("mail;", msg, sizeof msg));
}

static bool never(const struct plan_audience *a, void *ctx)
{
	(void)a;
	(void)ctx;
	return false;
}

static void reloads(void **state)
{
	(void)state;
	const char *src = "{\"file\":\"staff.csv\"}";
	write_csv("staff.csv", "name,email\nAnn,ann@acme.example\nBo,bo@acme.example\n");
	struct plan *p1, *p2, *p3;
	struct herald_err err;
	assert_int_equal(load_members(src, NULL, &p1, &err), H_OK);
	/* Not due: shared, not read (the file is already different). */
	write_csv("staff.csv", "name,email\nAnn,ann@acme.example\n");
	struct plan_load_opts o = { .previous = p1, .refetch = never };
	assert_int_equal(load_members(src, &o, &p2, &err), H_OK);
	assert_ptr_equal(p2->audiences[0].list, p1->audiences[0].list);
	assert_false(p2->audiences[0].source.fetched);
	plan_free(p2);
	/* Due and broken: the last good list, and why. */
	write_csv("staff.csv", "name;email\n");
	o.refetch = NULL;
	assert_int_equal(load_members(src, &o, &p2, &err), H_OK);
	assert_ptr_equal(p2->audiences[0].list, p1->audiences[0].list);
	assert_int_equal(p2->audiences[0].nmembers, 2);
	assert_true(p2->audiences[0].source.fetched);
	assert_contains(p2->audiences[0].source.failure, "no column \"name\"");
	/* Freed in either order: the list is counted. */
	plan_free(p1);
	assert_int_equal(p2->audiences[0].list->refs, 1);
	/* Fixed: a new list, no failure. */
	write_csv("staff.csv", "name,email\nCy,cy@acme.example\n");
	o.previous = p2;
	assert_int_equal(load_members(src, &o, &p3, &err), H_OK);
	assert_null(p3->audiences[0].source.failure);
	assert_string_equal(p3->audiences[0].members[0].email, "cy@acme.example");
	plan_free(p2);
	/* A changed source is another source: its failure fails the load. */
	o.previous = p3;
	assert_int_equal(load_members("{\"file\":\"other.csv\"}", &o, &p2, &err), H_EINVAL);
	assert_contains(err.msg, "audiences.staff.members.file: cannot read members file other.csv");
	plan_free(p3);
}

static void unreachable_directory(void **state)
{
	(void)state;
	/* Nothing listens on port 1: a runtime failure, with the path. */
	struct plan_load_opts o = { .resolve = true };
	struct plan *p;
	struct herald_err err;
	assert_int_equal(load_members("{\"ldap\":\"ldap://127.0.0.1:1\",\"starttls\":false,"
				      "\"base\":\"dc=x\",\"filter\":\"(cn=*)\"}", &o, &p, &err),
			 H_ERUNTIME);
	assert_contains(err.msg, "audiences.staff.members: ldap://127.0.0.1:1: ");
	assert_contains(err.msg, "Can't contact LDAP server");
}

static void literal_password_redacted(void **state)
{
	(void)state;
	const char *json = HEAD LDAP_OK ",\"bind_dn\":\"cn=h\",\"password\":\"hunter2-literal\"}" TAIL;
	char *out = NULL;
	struct herald_err err;
	assert_int_equal(plan_canonical_json("p.json", json, strlen(json), &out, &err), H_OK);
	assert_not_contains(out, "hunter2-literal");
	assert_contains(out, "\"password\": \"[redacted]\"");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(forms),
		cmocka_unit_test(errors_name_the_key),
		cmocka_unit_test(directory_checks),
		cmocka_unit_test(reloads),
		cmocka_unit_test(unreachable_directory),
		cmocka_unit_test(literal_password_redacted),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
