/*
 * cmd_ics.c - `herald ics`: one feed (an audience's, or the whole plan's)
 * as an iCalendar file on stdout or in -o FILE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/clock.h"
#include "herald/cli.h"
#include "herald/ics.h"
#include "herald/plan.h"
#include "herald/util.h"

struct ics_args {
	const char *audience, *out;
	struct opt_time from, to;
};

static const struct opt ics_table[] = {
	{ .name = "audience", OPT_STRING_AT(struct ics_args, audience), .metavar = "A",
	  .help = "the feed of audience A (default: every audience)" },
	{ .name = "from", OPT_TIME_AT(struct ics_args, from),
	  .help = "start of the window of expanded instances\n"
		  "(default: 90 days before today)" },
	{ .name = "to", OPT_TIME_AT(struct ics_args, to),
	  .help = "end of that window (default: 13 months after today)" },
	CLI_OPT_OUTPUT(struct ics_args, out, "FILE"),
};

static const struct opts_spec ics_spec = {
	.name = "ics",
	.summary = "write a feed as an iCalendar file",
	CLI_ONE_PLAN,
	OPTS_TABLE(ics_table),
	.notes = "T is YYYY-MM-DD[THH:MM] (in the plan's zone) or an RFC 3339 instant.\n",
};

static int ics_run(int argc, char **argv)
{
	struct ics_args a = { 0 };
	int nargs, rc = opts_parse(&ics_spec, argc, argv, &a, &nargs);
	if (rc != OPTS_CONTINUE)
		return rc;
	const char *plan = argv[1];
	struct plan *p;
	rc = cli_load_plan_schedules(plan, &p);
	if (rc)
		return rc;
	struct ics_opts o = { .audience = -1 };
	ics_default_window(p, clock_now(), &o.from, &o.to);
	if (a.from.text)
		o.from = opt_time_instant(&a.from, p->tz);
	if (a.to.text)
		o.to = opt_time_instant(&a.to, p->tz);
	if (o.to < o.from)
		rc = cli_usage(&cmd_ics, "--to is before --from");
	if (!rc && a.audience && (o.audience = plan_audience_index(p, a.audience)) < 0)
		rc = cli_usage(&cmd_ics, "unknown audience \"%s\"", a.audience);
	struct buf b;
	buf_init(&b);
	struct herald_err err;
	herald_err_clear(&err);
	if (!rc && ics_render(p, &o, &b, &err))
		rc = cli_fail(plan, &err);
	if (!rc)
		rc = cli_write_output("ics", a.out, &b);
	buf_free(&b);
	plan_free(p);
	return rc;
}

const struct cmd cmd_ics = { .spec = &ics_spec, .run = ics_run };
