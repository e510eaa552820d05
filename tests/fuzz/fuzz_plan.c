/*
 * fuzz_plan.c - libFuzzer target: the plan loader, schedule expansion and
 * lint on arbitrary bytes.  `make fuzz` builds and runs it seeded from
 * plans/ and the bad-plan corpus.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "herald/agenda.h"
#include "herald/lint.h"
#include "herald/plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct plan_load_opts o = { .getenv = fake_env };
	struct plan *p = NULL;
	struct herald_err err;
	/* A fixed "now" keeps runs reproducible: 2026-06-01T00:00:00Z. */
	const int64_t now = 1780272000;
	if (plan_load_buf("tests/data/fuzz.json", (const char *)data, size, &o, &p, &err))
		return 0;
	struct agenda_item *items = NULL;
	size_t n = 0;
	if (agenda_collect(p, now - 90 * 86400LL, now + 400 * 86400LL, -1, &items, &n, &err) == H_OK)
		free(items);
	lint_plan(p, now, ignore, NULL);
	plan_free(p);
	return 0;
}
