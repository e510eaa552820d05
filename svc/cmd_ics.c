/*
 * cmd_ics.c - `herald ics`: one feed (an audience's, or the whole plan's)
 * as an iCalendar file on stdout or in -o FILE.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "herald/clock.h"
#include "herald/cli.h"
#include "herald/ics.h"
#include "herald/plan.h"
#include "herald/timeutil.h"
#include "herald/util.h"

struct ics_args {
	const char *plan, *audience, *from, *to, *out;
};

static int parse_args(int argc, char **argv, struct ics_args *a)
{
	static const struct option longopts[] = {
		{ "audience", required_argument, NULL, 'a' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	optind = 1;
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, ":o:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a': a->audience = optarg; break;
		case 'f': a->from = optarg; break;
		case 't': a->to = optarg; break;
		case 'o': a->out = optarg; break;
		case ':':
			return cli_usage(&cmd_ics, "%s needs a value", argv[optind - 1]);
		default:
			return cli_usage(&cmd_ics, "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage(&cmd_ics, "name exactly one plan file");
	a->plan = argv[optind];
	return 0;
}

/* Writes data to path through a temporary file and a rename. */
static int write_out(const char *path, const struct buf *b)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "wb");
	int rc = 0;
	if (!f || (b->len && fwrite(b->data, 1, b->len, f) != b->len) ||
	    fflush(f) != 0 || fsync(fileno(f)) != 0) {
		cli_error("%s: %s", path, strerror(errno ? errno : EIO));
		rc = 3;
	}
	if (f && fclose(f) != 0 && !rc) {
		cli_error("%s: %s", path, strerror(errno));
		rc = 3;
	}
	if (!rc && rename(tmp, path) != 0) {
		cli_error("%s: %s", path, strerror(errno));
		rc = 3;
	}
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}

static int ics_run(int argc, char **argv)
{
	struct ics_args a = { 0 };
	int rc = parse_args(argc, argv, &a);
	if (rc)
		return rc;
	struct plan *p;
	rc = cli_load_plan(a.plan, SECRETS_UNUSED, &p);
	if (rc)
		return rc;
	struct ics_opts o = { .audience = -1 };
	ics_default_window(p, clock_now(), &o.from, &o.to);
	if (a.from && !cli_parse_time(a.from, p->tz, &o.from))
		rc = cli_usage(&cmd_ics, "--from \"%s\" is not YYYY-MM-DD or an RFC 3339 time", a.from);
	if (!rc && a.to && !cli_parse_time(a.to, p->tz, &o.to))
		rc = cli_usage(&cmd_ics, "--to \"%s\" is not YYYY-MM-DD or an RFC 3339 time", a.to);
	if (!rc && o.to < o.from)
		rc = cli_usage(&cmd_ics, "--to is before --from");
	if (!rc && a.audience && (o.audience = plan_audience_index(p, a.audience)) < 0)
		rc = cli_usage(&cmd_ics, "unknown audience \"%s\"", a.audience);
	struct buf b;
	buf_init(&b);
	struct herald_err err;
	herald_err_clear(&err);
	if (!rc && ics_render(p, &o, &b, &err))
		rc = cli_fail(a.plan, &err);
	if (!rc) {
		if (a.out && strcmp(a.out, "-") != 0) {
			rc = write_out(a.out, &b);
		} else if ((b.len && fwrite(b.data, 1, b.len, stdout) != b.len) ||
			   fflush(stdout) != 0) {
			cli_error("writing the calendar failed");
			rc = 3;
		}
	}
	buf_free(&b);
	plan_free(p);
	return rc;
}

const struct cmd cmd_ics = {
	.name = "ics",
	.usage = "PLAN [--audience A] [--from T] [--to T] [-o FILE]",
	.summary = "write a feed as an iCalendar file",
	.help = "  --audience A    the feed of audience A (default: every audience)\n"
		"  --from T        start of the window of expanded instances\n"
		"                  (default: 90 days before today)\n"
		"  --to T          end of that window (default: 13 months after today)\n"
		"  -o, --output F  write to F (atomically) instead of stdout\n",
	.run = ics_run,
};
