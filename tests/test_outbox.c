/* test_outbox.c - idempotency keys and backoff. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "herald/outbox.h"

static void keys(void **state)
{
	(void)state;
	char a[65], b[65], c[65];
	outbox_key("P", "C", "2026-01-01T10:00:00Z", 86400, "scheduled", "staff", "mail",
		   "a@example.org", a);
	outbox_key("P", "C", "2026-01-01T10:00:00Z", 86400, "scheduled", "staff", "mail",
		   "a@example.org", b);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), 64);
	outbox_key("P", "C", "2026-01-01T10:00:00Z", 86400, "scheduled", "staff", "mail",
		   "b@example.org", c);
	assert_string_not_equal(a, c);
	/* field boundaries matter: ("ab","c") != ("a","bc") */
	outbox_key("P", "Cx", "y", 0, "k", "a", "c", NULL, b);
	outbox_key("P", "C", "xy", 0, "k", "a", "c", NULL, c);
	assert_string_not_equal(b, c);
}

static void backoff(void **state)
{
	(void)state;
	struct outbox_policy p = { .max_attempts = 8, .base_ms = 1000, .cap_ms = 60000 };
	for (uint32_t r = 0; r < 1000; r += 37) {
		int64_t d1 = outbox_backoff_ms(&p, 1, r), d3 = outbox_backoff_ms(&p, 3, r);
		assert_true(d1 >= 500 && d1 <= 1000);
		assert_true(d3 >= 2000 && d3 <= 4000);
		int64_t d20 = outbox_backoff_ms(&p, 20, r);
		assert_true(d20 >= 30000 && d20 <= 60000);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(keys), cmocka_unit_test(backoff) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
