/* test_members.c - addresses, mailboxes, member lists and CSV files, templates. */
#include "testutil.h"

#include <unistd.h>

#include "herald/members.h"
#include "herald/template.h"

static void addresses(void **state)
{
	(void)state;
	assert_true(members_valid_addr("ann@acme.example"));
	assert_true(members_valid_addr("a.b+tag@mail.acme-corp.example"));
	assert_false(members_valid_addr("ann@acme"));
	assert_false(members_valid_addr("ann@@acme.example"));
	assert_false(members_valid_addr(".ann@acme.example"));
	assert_false(members_valid_addr("an..n@acme.example"));
	assert_false(members_valid_addr("ann@-acme.example"));
	assert_false(members_valid_addr("ann smith@acme.example"));
	assert_false(members_valid_addr("ann@acme.example\r\nBcc: x@y.example"));
	assert_true(members_valid_mailbox("ISMS <isms@acme.example>"));
	assert_false(members_valid_mailbox("ISMS <isms@acme.example"));
	assert_false(members_valid_mailbox("ISMS\r\n <isms@acme.example>"));
	char a[256];
	assert_true(members_mailbox_addr("Dana Reyes <dana@acme.example>", a, sizeof a));
	assert_string_equal(a, "dana@acme.example");
}

static void write_file(const char *p, const char *s)
{
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(s, f);
	fclose(f);
}

/* Reads text as a CSV with spec's columns (file written to a temp dir). */
static enum herald_rc read_csv(const char *text, struct members_csv *spec,
			       struct member_list **l, struct members_csv_err *e)
{
	char dir[] = "/tmp/herald-members-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char plan[128], csv[128];
	snprintf(plan, sizeof plan, "%s/plan.json", dir);
	snprintf(csv, sizeof csv, "%s/people.csv", dir);
	write_file(csv, text);
	if (!spec->file)
		spec->file = strdup("people.csv");
	if (!spec->name_col)
		spec->name_col = strdup("name");
	if (!spec->email_col)
		spec->email_col = strdup("email");
	if (!spec->delimiter)
		spec->delimiter = ',';
	memset(e, 0, sizeof *e);
	*l = NULL;
	enum herald_rc rc = members_csv_read(plan, spec, l, e);
	unlink(csv);
	rmdir(dir);
	return rc;
}

static void csv_files(void **state)
{
	(void)state;
	struct members_csv spec = { 0 };
	struct members_csv_err e;
	struct member_list *l;
	/* BOM, CRLF, a blank line, quoted commas and quotes, header case. */
	assert_int_equal(read_csv("\xef\xbb\xbfName,Email\r\n\"Reyes, Dana\",dana@acme.example\r\n\r\n"
				  "\"Ann \"\"A\"\" Lee\", ann@acme.example\n", &spec, &l, &e), H_OK);
	assert_int_equal(l->n, 2);
	assert_string_equal(l->m[0].name, "Reyes, Dana");
	assert_string_equal(l->m[1].name, "Ann \"A\" Lee");
	assert_string_equal(l->m[1].email, "ann@acme.example");
	assert_int_equal(l->nnotes, 0);
	member_list_unref(l);
	assert_int_equal(read_csv("name,email\nDana,dana@acme\n", &spec, &l, &e), H_EINVAL);
	assert_contains(e.msg, "line 2");
	assert_int_equal(e.at, CSV_AT_MEMBERS);
	members_csv_clear(&spec);
	/* A header only: an empty list, no error. */
	assert_int_equal(read_csv("name,email\r\n", &spec, &l, &e), H_OK);
	assert_int_equal(l->n, 0);
	member_list_unref(l);
	members_csv_clear(&spec);
	/* Absolute and missing files. */
	spec.file = strdup("/etc/passwd");
	assert_int_equal(read_csv("", &spec, &l, &e), H_EINVAL);
	assert_int_equal(e.at, CSV_AT_FILE);
	members_csv_clear(&spec);
	spec.file = strdup("missing.csv");
	assert_int_equal(read_csv("", &spec, &l, &e), H_ERUNTIME);
	assert_contains(e.msg, "missing.csv");
	members_csv_clear(&spec);
}

/* An HR export: semicolons, mapped columns, a filter, case duplicates. */
static void csv_hr_export(void **state)
{
	(void)state;
	const char *hr = "\xef\xbb\xbf" "Display Name;E-Mail;Department;Note\r\n"
			 "\"Reyes; Dana\";dana@acme.example;IT;\"says \"\"hi\"\"\"\r\n"
			 "Ann Lee;ann@acme.example;Security;\"two\r\nlines\"\r\n"
			 "Bo Berg;bo@acme.example;Sales;\r\n"
			 "No Mail;;IT;\r\n"
			 "DANA REYES;DANA@ACME.EXAMPLE;IT;dup\r\n";
	struct members_csv spec = { .name_col = strdup("display name"),
				    .email_col = strdup("e-mail"), .delimiter = ';' };
	spec.filters = calloc(1, sizeof *spec.filters);
	spec.nfilters = 1;
	spec.filters[0].column = strdup("DEPARTMENT");
	spec.filters[0].values = calloc(2, sizeof(char *));
	spec.filters[0].values[0] = strdup("IT");
	spec.filters[0].values[1] = strdup("Security");
	spec.filters[0].nvalues = 2;
	struct members_csv_err e;
	struct member_list *l;
	assert_int_equal(read_csv(hr, &spec, &l, &e), H_OK);
	assert_int_equal(l->n, 2);
	assert_string_equal(l->m[0].name, "Reyes; Dana");
	assert_string_equal(l->m[1].email, "ann@acme.example");
	assert_int_equal(l->duplicates, 1);
	assert_int_equal(l->nnotes, 2);
	/* The duplicate names both rows (line 2 and line 7: a quoted field
	 * spans lines 3-4). */
	assert_string_equal(l->notes[0].code, "W-MEMBERS-DUPLICATE");
	assert_contains(l->notes[0].message, "dana@acme.example (line 2)");
	assert_contains(l->notes[0].message, "DANA@ACME.EXAMPLE (line 7)");
	assert_string_equal(l->notes[1].code, "W-MEMBERS-SKIPPED");
	assert_contains(l->notes[1].message, "1 row");
	assert_contains(l->notes[1].message, "line 6");
	member_list_unref(l);
	/* An unknown column names the columns there are. */
	free(spec.email_col);
	spec.email_col = strdup("Mail");
	assert_int_equal(read_csv(hr, &spec, &l, &e), H_EINVAL);
	assert_int_equal(e.at, CSV_AT_EMAIL);
	assert_contains(e.msg, "no column \"Mail\"");
	assert_contains(e.msg, "\"E-Mail\"");
	free(spec.email_col);
	spec.email_col = strdup("E-MAIL");
	/* A filter on a missing column. */
	free(spec.filters[0].column);
	spec.filters[0].column = strdup("Dept");
	assert_int_equal(read_csv(hr, &spec, &l, &e), H_EINVAL);
	assert_int_equal(e.at, CSV_AT_FILTER);
	assert_int_equal(e.filter, 0);
	assert_contains(e.msg, "\"Dept\"");
	/* The wrong delimiter: one field per row. */
	free(spec.filters[0].column);
	spec.filters[0].column = strdup("Department");
	spec.delimiter = ',';
	assert_int_equal(read_csv(hr, &spec, &l, &e), H_EINVAL);
	assert_int_equal(e.at, CSV_AT_NAME);
	assert_contains(e.msg, "\"Display Name;E-Mail;Department;Note\"");
	members_csv_clear(&spec);
}

static void collect(bool joined, const struct member *m, void *ctx)
{
	struct buf *b = ctx;
	buf_printf(b, "%c%s ", joined ? '+' : '-', m->email);
}

static void lists(void **state)
{
	(void)state;
	struct member_list *a = member_list_new(), *b = member_list_new();
	char where[32];
	for (int i = 0; i < 3000; i++) {
		char mail[64];
		snprintf(mail, sizeof mail, "p%d@acme.example", i);
		snprintf(where, sizeof where, "members[%d]", i);
		assert_true(member_list_add(a, "P", mail, where));
		if (i != 7)
			member_list_add(b, "P", mail, where);
	}
	assert_false(member_list_add(a, "P", "P7@ACME.example", "members[3000]"));
	member_list_add(b, "Q", "new@acme.example", "x");
	member_list_finish(a);
	member_list_finish(b);
	assert_int_equal(a->n, 3000);
	assert_false(member_list_same(a, b));
	assert_true(member_list_same(a, a));
	struct buf d;
	buf_init(&d);
	member_list_diff(a, b, collect, &d);
	assert_string_equal(d.data, "-p7@acme.example +new@acme.example ");
	buf_reset(&d);
	member_list_diff(NULL, b, collect, &d);
	assert_int_equal(strlen(d.data) > 3000, 1);
	buf_free(&d);
	/* The set answers as the list does, case-insensitively. */
	struct member_set *sa = member_set_new(a), *none = member_set_new(NULL);
	assert_true(member_set_has(sa, "p2999@acme.example"));
	assert_true(member_set_has(sa, "P7@Acme.Example"));
	assert_false(member_set_has(sa, "new@acme.example"));
	assert_false(member_set_has(none, "p1@acme.example"));
	member_set_free(sa);
	member_set_free(none);
	char h1[65], h2[65];
	member_list_digest(a, h1);
	member_list_digest(b, h2);
	assert_string_not_equal(h1, h2);
	member_list_unref(member_list_ref(a));
	assert_int_equal(a->refs, 1);
	member_list_unref(a);
	member_list_unref(b);
}

static void templates(void **state)
{
	(void)state;
	char msg[256];
	assert_int_equal(template_check("Hi {{ audience }}, {{topic}} at {{start}}", msg, sizeof msg), 0);
	assert_int_equal(template_check("{{topics}}", msg, sizeof msg), -1);
	assert_contains(msg, "{{topics}}");
	assert_int_equal(template_check("{{topic", msg, sizeof msg), -1);
	struct template_vars v = { .topic = "Patch day", .audience = "All staff" };
	struct buf b;
	buf_init(&b);
	template_render("{{topic}} for {{ audience }}: {{description}}. {x} {{", &v, &b);
	assert_string_equal(b.data, "Patch day for All staff: . {x} {{");
	buf_free(&b);
	assert_int_equal(template_check(template_default(1), msg, sizeof msg), 0);
	assert_int_equal(template_check(template_default(0), msg, sizeof msg), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(addresses),
		cmocka_unit_test(csv_files),
		cmocka_unit_test(csv_hr_export),
		cmocka_unit_test(lists),
		cmocka_unit_test(templates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
