/* cmd_check.c - `herald check PLAN...`: validate and lint. */
#include <stdio.h>

#include "herald/clock.h"
#include "herald/cli.h"
#include "herald/lint.h"
#include "herald/plan.h"
#include "herald/timeutil.h"

struct check_out {
	const char *path;
};

static void print_warning(const struct lint_warning *w, void *ctx)
{
	const struct check_out *o = ctx;
	fprintf(stderr, "herald: %s: %s: warning %s: %s\n    advice: %s\n",
		o->path, w->path, w->code, w->message, w->advice);
}

static const struct opts_spec check_spec = {
	.name = "check",
	.summary = "validate plans and lint them against ISO/IEC 27001 Clause 7.4",
	.args = "PLAN...", .min_args = 1, .max_args = -1,
	.args_error = "name at least one plan file",
	.notes = "Exit status: 0 valid (warnings allowed), 1 invalid plan, 2 usage, 3 I/O error.\n"
		 "Errors and warnings go to stderr as \"herald: PLAN: PATH: message\".\n",
};

static int check_run(int argc, char **argv)
{
	int nplans, worst = 0;
	int rc = opts_parse(&check_spec, argc, argv, NULL, &nplans);
	if (rc != OPTS_CONTINUE)
		return rc;
	for (int i = 1; i <= nplans; i++) {
		struct plan *p = NULL;
		rc = cli_load_plan(argv[i], SECRETS_REQUIRED, &p);
		if (rc) {
			if (rc > worst)
				worst = rc;
			continue;
		}
		struct check_out o = { argv[i] };
		size_t n = lint_plan(p, clock_now(), print_warning, &o);
		printf("%s: ok: plan %s version %s, %zu communication%s, %zu audience%s, "
		       "%zu channel%s, %zu warning%s\n",
		       argv[i], p->id, p->version, p->ncomms, p->ncomms == 1 ? "" : "s",
		       p->naudiences, p->naudiences == 1 ? "" : "s", p->nchannels,
		       p->nchannels == 1 ? "" : "s", n, n == 1 ? "" : "s");
		plan_free(p);
	}
	return worst;
}

const struct cmd cmd_check = { .spec = &check_spec, .run = check_run };
