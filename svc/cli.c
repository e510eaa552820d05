/* cli.c - helpers shared by the subcommands (see cli.h). */
#include "herald/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/plan.h"
#include "herald/timeutil.h"
#include "herald/tz.h"

int cli_usage(const struct cmd *c, const char *fmt, ...)
{
	fprintf(stderr, "herald: %s: ", c->name);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: herald %s %s\n", c->name, c->usage);
	return H_EUSAGE;
}

void cli_error(const char *fmt, ...)
{
	fputs("herald: ", stderr);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool cli_wants_help(const struct cmd *c, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			printf("usage: herald %s %s\n\n%s\n", c->name, c->usage,
			       c->summary);
			if (c->help)
				printf("\n%s", c->help);
			return true;
		}
	}
	return false;
}

static void on_demo(const char *name, void *ctx)
{
	(void)ctx;
	fprintf(stderr, "herald: dry-run: using a demo value for env:%s\n", name);
}

int cli_load_plan(const char *path, enum cli_secrets secrets, struct plan **out)
{
	struct herald_err err;
	herald_err_clear(&err);
	struct plan_load_opts o = { .demo_secrets = secrets != SECRETS_REQUIRED,
				    .on_demo = secrets == SECRETS_DEMO ? on_demo : NULL };
	enum herald_rc rc = plan_load(path, &o, out, &err);
	if (rc)
		fprintf(stderr, "herald: %s: %s\n", path, err.msg);
	return (int)rc;
}

bool cli_parse_time(const char *s, const struct tz *z, int64_t *instant)
{
	int64_t wall;
	if (parse_date(s, &wall)) {
		*instant = tz_wall_to_instant(z, wall, NULL);
		return true;
	}
	return parse_rfc3339(s, instant);
}

bool cli_parse_uint(const char *s, long max, long *out)
{
	if (!*s || *s == '-' || *s == '+')
		return false;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > max)
		return false;
	*out = v;
	return true;
}

int cli_fail(const char *ctx, const struct herald_err *err)
{
	fprintf(stderr, "herald: %s: %s\n", ctx, err->msg);
	return err->rc ? (int)err->rc : H_ERUNTIME;
}
