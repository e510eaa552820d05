/* cmd_check.c - `herald check PLAN...`: validate and lint. */
#include <stdio.h>
#include <string.h>

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

static int check_run(int argc, char **argv)
{
	int worst = 0;
	int nplans = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			continue;
		if (argv[i][0] == '-' && argv[i][1])
			return cli_usage(&cmd_check, "unknown option %s", argv[i]);
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			continue;
		nplans++;
		struct plan *p = NULL;
		int rc = cli_load_plan(argv[i], SECRETS_REQUIRED, &p);
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
	if (!nplans)
		return cli_usage(&cmd_check, "name at least one plan file");
	return worst;
}

const struct cmd cmd_check = {
	.name = "check",
	.usage = "PLAN...",
	.summary = "validate plans and lint them against ISO/IEC 27001 Clause 7.4",
	.help = "Exit status: 0 valid (warnings allowed), 1 invalid plan, 2 usage, 3 I/O error.\n"
		"Errors and warnings go to stderr as \"herald: PLAN: PATH: message\".\n",
	.run = check_run,
};
