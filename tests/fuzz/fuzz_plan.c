/*
 * fuzz_plan.c - libFuzzer target: the plan loader (read as JSON and as
 * YAML, collecting every error), schedule expansion and lint on arbitrary
 * bytes; the text stored for the evidence must give back the content.  `make fuzz` builds and runs it seeded from plans/ and the
 * bad-plan corpus (JSON is YAML too, so those seeds reach both readers).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "herald/agenda.h"
#include "herald/lint.h"
#include "herald/plan.h"
#include "herald/plan_text.h"
#include <string.h>

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

static void count_error(const char *msg, void *ctx)
{
	(void)msg;
	++*(size_t *)ctx;
}

static void one(const char *path, const uint8_t *data, size_t size, bool all_errors)
{
	size_t n = 0;
	struct plan_load_opts o = { .getenv = fake_env, .ctx = &n,
				    .on_error = all_errors ? count_error : NULL };
	struct plan *p = NULL;
	struct herald_err err;
	/* A fixed "now" keeps runs reproducible: 2026-06-01T00:00:00Z. */
	const int64_t now = 1780272000;
	if (plan_load_buf(path, (const char *)data, size, &o, &p, &err))
		return;
	struct agenda_item *items = NULL;
	size_t k = 0;
	if (agenda_collect(p, now - 90 * 86400LL, now + 400 * 86400LL, -1, &items, &k, &err) == H_OK)
		free(items);
	lint_plan(p, now, ignore, NULL);
	/* The text the evidence stores gives back the plan's content. */
	char hex[65];
	if (plan_text_content_sha256(path, p->text, hex, &err) != H_OK ||
	    strcmp(hex, p->content_sha256) != 0)
		abort();
	plan_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one("tests/data/fuzz.json", data, size, size & 1);
	one("tests/data/fuzz.yaml", data, size, !(size & 1));
	return 0;
}
