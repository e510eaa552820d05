/*
 * cmd_report.c - `herald report`: the auditor's HTML report of the
 * evidence log (report.h), to stdout or -o FILE.html.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/clock.h"
#include "herald/cli.h"
#include "herald/plan.h"
#include "herald/report.h"
#include "herald/store.h"
#include "herald/tz.h"
#include "herald/util.h"

struct report_args {
	const char *db, *out, *plan;
	struct opt_time from, to;
};

static const struct opt report_table[] = {
	CLI_OPT_DB(struct report_args, db),
	{ .name = "from", OPT_TIME_AT(struct report_args, from),
	  .help = "start of the period on due time (default: the first\n"
		  "recorded delivery)" },
	{ .name = "to", OPT_TIME_AT(struct report_args, to),
	  .help = "end of the period (default: the last recorded delivery)" },
	CLI_OPT_OUTPUT(struct report_args, out, "FILE.html"),
	{ .name = "plan", OPT_STRING_AT(struct report_args, plan), .metavar = "PLAN",
	  .help = "the plan in force: adds planned counts and the check\n"
		  "warnings (otherwise metadata comes from the log)" },
};

static const struct opts_spec report_spec = {
	.name = "report",
	.summary = "write the auditor's HTML report of the evidence log",
	OPTS_TABLE(report_table),
	.notes = "T is YYYY-MM-DD[THH:MM] (in the plan's zone, UTC without --plan) or an\n"
		 "RFC 3339 instant.\n"
		 "Exit status: 0 ok, 1 the evidence does not verify (the report is still\n"
		 "written and says so), 2 usage, 3 I/O.\n",
};

static int report_run(int argc, char **argv)
{
	struct report_args a = { .db = "herald.db" };
	int nargs, rc = opts_parse(&report_spec, argc, argv, &a, &nargs);
	if (rc != OPTS_CONTINUE)
		return rc;
	const char *dbpath = a.db, *planpath = a.plan;
	struct plan *p = NULL;
	/* The report sends nothing: env: secrets need not be set. */
	if (planpath && (rc = cli_load_plan(planpath, SECRETS_UNUSED, &p)))
		return rc;
	/* Dates are midnight in the plan's zone, or UTC without a plan. */
	const struct tz *z = p ? p->tz : tz_get("UTC");
	struct report_opts o = { .plan = p, .now = clock_now() };
	o.has_from = a.from.text != NULL;
	o.has_to = a.to.text != NULL;
	if (o.has_from)
		o.from = opt_time_instant(&a.from, z);
	if (o.has_to)
		o.to = opt_time_instant(&a.to, z);
	struct herald_err err;
	herald_err_clear(&err);
	struct store *db = NULL;
	struct store_open_opts so = { .readonly = true };
	if (store_open(dbpath, &so, &db, &err)) {
		plan_free(p);
		return cli_fail("report", &err);
	}
	struct buf b;
	buf_init(&b);
	bool verified = false;
	enum herald_rc r = report_render(db, &o, &b, &verified, &err);
	store_close(db);
	plan_free(p);
	if (r) {
		buf_free(&b);
		return cli_fail("report", &err);
	}
	rc = cli_write_output("report", a.out, &b);
	buf_free(&b);
	if (!rc && !verified) {
		cli_error("report: %s: the evidence log does not verify; the report says so "
			  "(run herald evidence verify)", dbpath);
		return H_EINVAL;
	}
	return rc;
}

const struct cmd cmd_report = { .spec = &report_spec, .run = report_run };
