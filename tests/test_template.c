/*
 * test_template.c - message templates: what a check refuses, what a render
 * fills, and the late placeholders a stored text keeps until it is sent.
 */
#include "testutil.h"

#include "herald/template.h"

static void check_names_placeholders(void **state)
{
	(void)state;
	char msg[256];
	assert_int_equal(template_check("{{topic}} by {{owner}}: {{note}} {{ack_url}}", msg,
					sizeof msg), 0);
	assert_int_equal(template_check("{{topik}}", msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "topik"));
}

static char *late(const char *text, const struct template_late *v)
{
	struct buf b;
	buf_init(&b);
	template_fill_late(text, v, &b);
	return buf_take(&b);
}

/* Each value fills its own placeholder, in any order and more than once;
 * one left NULL stays a placeholder; a value is never read as a template. */
static void late_placeholders(void **state)
{
	(void)state;
	const char *text = "Dear {{name}}, {{note}}. Link: {{ack_url}} ({{name}}) {{topic}}";
	struct template_late all = { .name = "Ann", .note = "case {{name}} 42", .ack_url = "U" };
	char *s = late(text, &all);
	assert_string_equal(s, "Dear Ann, case {{name}} 42. Link: U (Ann) {{topic}}");
	free(s);
	struct template_late keep_link = { .name = "Bob", .note = "" };
	s = late(text, &keep_link);
	assert_string_equal(s, "Dear Bob, . Link: {{ack_url}} (Bob) {{topic}}");
	free(s);
	struct template_late none = { 0 };
	s = late(text, &none);
	assert_string_equal(s, text);
	free(s);
	s = late(NULL, &all);
	assert_string_equal(s ? s : "", "");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(check_names_placeholders),
		cmocka_unit_test(late_placeholders),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
