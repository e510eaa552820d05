/*
 * cmd_report.c - `herald report`: the auditor's HTML report of the
 * evidence log (report.h), to stdout or -o FILE.html.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "herald/clock.h"
#include "herald/cli.h"
#include "herald/plan.h"
#include "herald/report.h"
#include "herald/store.h"
#include "herald/timeutil.h"
#include "herald/tz.h"
#include "herald/util.h"

/* Writes via a temp file and rename, so a reader never sees half a report. */
static int write_out(const char *path, const struct buf *b)
{
	if (!path || strcmp(path, "-") == 0) {
		if (fwrite(b->data, 1, b->len, stdout) != b->len || fflush(stdout)) {
			cli_error("report: write error: %s", strerror(errno));
			return H_ERUNTIME;
		}
		return 0;
	}
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "w");
	int rc = 0;
	if (!f || fwrite(b->data, 1, b->len, f) != b->len || fflush(f) ||
	    fsync(fileno(f)) || fclose(f)) {
		cli_error("report: %s: %s", path, strerror(errno));
		if (f)
			fclose(f);
		rc = H_ERUNTIME;
	} else {
		f = NULL;
		if (rename(tmp, path) != 0) {
			cli_error("report: %s: %s", path, strerror(errno));
			rc = H_ERUNTIME;
		}
	}
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}

static int report_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "plan", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dbpath = "herald.db", *from = NULL, *to = NULL, *out = NULL,
		   *planpath = NULL;
	optind = 1;
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, ":o:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': dbpath = optarg; break;
		case 'f': from = optarg; break;
		case 't': to = optarg; break;
		case 'o': out = optarg; break;
		case 'p': planpath = optarg; break;
		case ':':
			return cli_usage(&cmd_report, "%s needs a value", argv[optind - 1]);
		default:
			return cli_usage(&cmd_report, "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage(&cmd_report, "unexpected argument %s", argv[optind]);
	struct plan *p = NULL;
	int rc;
	/* The report sends nothing: env: secrets need not be set. */
	if (planpath && (rc = cli_load_plan(planpath, SECRETS_UNUSED, &p)))
		return rc;
	/* Dates are midnight in the plan's zone, or UTC without a plan. */
	const struct tz *z = p ? p->tz : tz_get("UTC");
	struct report_opts o = { .plan = p, .now = clock_now() };
	if (from && !(o.has_from = cli_parse_time(from, z, &o.from))) {
		plan_free(p);
		return cli_usage(&cmd_report, "--from: not a date or RFC 3339 time: %s", from);
	}
	if (to && !(o.has_to = cli_parse_time(to, z, &o.to))) {
		plan_free(p);
		return cli_usage(&cmd_report, "--to: not a date or RFC 3339 time: %s", to);
	}
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
	rc = write_out(out, &b);
	buf_free(&b);
	if (!rc && !verified) {
		cli_error("report: %s: the evidence log does not verify; the report says so "
			  "(run herald evidence verify)", dbpath);
		return H_EINVAL;
	}
	return rc;
}

const struct cmd cmd_report = {
	.name = "report",
	.usage = "[--db FILE] [--from T] [--to T] [-o FILE.html] [--plan PLAN]",
	.summary = "write the auditor's HTML report of the evidence log",
	.help = "  --db FILE     evidence database (default ./herald.db)\n"
		"  --from, --to  period on due time: YYYY-MM-DD or RFC 3339 (default: the\n"
		"                span of the recorded deliveries)\n"
		"  -o FILE.html  output file (default stdout)\n"
		"  --plan PLAN   the plan in force: adds planned counts and the check\n"
		"                warnings (otherwise metadata comes from the log)\n"
		"\nExit status: 0 ok, 1 the evidence does not verify (the report is still\n"
		"written and says so), 2 usage, 3 I/O.\n",
	.run = report_run,
};
