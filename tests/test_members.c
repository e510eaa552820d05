/* test_members.c - addresses, mailboxes, member CSV files, templates. */
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

static void csv_files(void **state)
{
	(void)state;
	char dir[] = "/tmp/herald-members-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char plan[128], csv[128], msg[256];
	snprintf(plan, sizeof plan, "%s/plan.json", dir);
	snprintf(csv, sizeof csv, "%s/people.csv", dir);
	write_file(csv, "\xef\xbb\xbfName,Email\r\n\"Reyes, Dana\",dana@acme.example\r\n\r\n"
			"\"Ann \"\"A\"\" Lee\", ann@acme.example\n");
	struct member *m = NULL;
	size_t n = 0;
	assert_int_equal(members_load_csv(plan, "people.csv", &m, &n, msg, sizeof msg), H_OK);
	assert_int_equal(n, 2);
	assert_string_equal(m[0].name, "Reyes, Dana");
	assert_string_equal(m[1].name, "Ann \"A\" Lee");
	assert_string_equal(m[1].email, "ann@acme.example");
	for (size_t i = 0; i < n; i++)
		free(m[i].name), free(m[i].email);
	free(m);
	write_file(csv, "name,email\nDana,dana@acme\n");
	m = NULL, n = 0;
	assert_int_equal(members_load_csv(plan, "people.csv", &m, &n, msg, sizeof msg), H_EINVAL);
	assert_contains(msg, "line 2");
	free(m);
	m = NULL, n = 0;
	assert_int_equal(members_load_csv(plan, "/etc/passwd", &m, &n, msg, sizeof msg), H_EINVAL);
	assert_int_equal(members_load_csv(plan, "missing.csv", &m, &n, msg, sizeof msg), H_EINVAL);
	assert_contains(msg, "missing.csv");
	unlink(csv);
	rmdir(dir);
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
		cmocka_unit_test(templates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
