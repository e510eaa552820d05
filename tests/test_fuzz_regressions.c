/*
 * test_fuzz_regressions.c - every input the fuzzer ever tripped on
 * (tests/fuzz/regressions/) goes through the same path as the fuzz target:
 * load (as JSON and as YAML, once collecting every error) with every env:
 * variable set, expand, lint.  Under `make asan` a
 * leak or overflow fails this test.
 */
#include "testutil.h"

#include <dirent.h>

#include "fuzz/fuzz_inputs_core.h"

#include "herald/agenda.h"
#include "herald/lint.h"
#include "herald/util.h"

static const char *fake_env(const char *name, void *ctx)
{
	(void)name;
	(void)ctx;
	return "https://hooks.example.test/services/T0/B0/fuzz";
}

static void ignore(const struct lint_warning *w, void *ctx)
{
	(void)w;
	(void)ctx;
}

static void count_error(const char *msg, void *ctx)
{
	(void)msg;
	++*(size_t *)ctx;
}

static void replay_one(const char *path, const char *data, size_t len, bool all)
{
	size_t n = 0;
	struct plan_load_opts o = { .getenv = fake_env, .ctx = &n,
				    .on_error = all ? count_error : NULL };
	struct plan *p = NULL;
	struct herald_err err;
	if (plan_load_buf(path, data, len, &o, &p, &err) == H_OK) {
		struct agenda_item *items = NULL;
		size_t k = 0;
		if (agenda_collect(p, 1772323200, 1811000000, -1, &items, &k, &err) == H_OK)
			free(items);
		lint_plan(p, 1780272000, ignore, NULL);
		plan_free(p);
	} else if (all) {
		assert_true(n >= 1 && n <= PLAN_MAX_ERRORS);
	}
}

static void replay(void **state)
{
	(void)state;
	DIR *d = opendir("tests/fuzz/regressions");
	assert_non_null(d);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *path = xasprintf("tests/fuzz/regressions/%s", e->d_name);
		char *data;
		size_t len;
		assert_int_equal(read_file(path, 1 << 24, &data, &len), 0);
		for (int yaml = 0; yaml < 2; yaml++)
			for (int all = 0; all < 2; all++)
				replay_one(yaml ? "tests/data/fuzz.yaml" : "tests/data/fuzz.json",
					   data, len, all);
		free(data);
		free(path);
		n++;
	}
	closedir(d);
	assert_true(n > 0);
}

/* The other inputs' regressions and seeds, through fuzz_inputs_one. */
static void replay_inputs(void **state)
{
	(void)state;
	DIR *d = opendir("tests/fuzz/regressions-inputs");
	assert_non_null(d);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *path = xasprintf("tests/fuzz/regressions-inputs/%s", e->d_name);
		char *data;
		size_t len;
		assert_int_equal(read_file(path, 1 << 24, &data, &len), 0);
		fuzz_inputs_one((const uint8_t *)data, len);
		free(data);
		free(path);
		n++;
	}
	closedir(d);
	assert_true(n > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(replay), cmocka_unit_test(replay_inputs) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
