/*
 * cmd_plan.c - `herald plan show PLAN [--format html|text|md|json] [-o FILE]`:
 * the plan as its controlled document (plandoc.h), or as canonical JSON.
 * `plan history` and `plan diff` read the evidence store; they are not
 * here yet.
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
#include "herald/plandoc.h"
#include "herald/util.h"

struct show_args {
	const char *plan, *format, *out;
};

static int parse_args(int argc, char **argv, struct show_args *a)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	optind = 1;
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, ":o:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f': a->format = optarg; break;
		case 'o': a->out = optarg; break;
		case ':':
			return cli_usage(&cmd_plan, "%s needs a value", argv[optind - 1]);
		default:
			return cli_usage(&cmd_plan, "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage(&cmd_plan, "name exactly one plan file");
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

/* --format json: the plan validated, then its canonical JSON text. */
static int canonical(const char *path, struct buf *out)
{
	struct plan *p = NULL;
	int rc = cli_load_plan(path, SECRETS_UNUSED, &p);
	if (rc)
		return rc;
	plan_free(p);
	char *data;
	size_t len;
	if (read_file(path, 16u << 20, &data, &len) < 0) {
		cli_error("%s: cannot read: %s", path, strerror(errno));
		return 3;
	}
	char *text = NULL;
	struct herald_err err;
	herald_err_clear(&err);
	enum herald_rc r = plan_canonical_json(path, data, len, &text, &err);
	free(data);
	if (r)
		return cli_fail(path, &err);
	buf_adds(out, text);
	free(text);
	return 0;
}

static int show(int argc, char **argv)
{
	struct show_args a = { .format = "text" };
	int rc = parse_args(argc, argv, &a);
	if (rc)
		return rc;
	enum plandoc_format f = PLANDOC_TEXT;
	bool json = strcmp(a.format, "json") == 0;
	if (!json && !plandoc_format_name(a.format, &f))
		return cli_usage(&cmd_plan, "--format is html, text, md or json, not \"%s\"",
				 a.format);
	struct buf out;
	buf_init(&out);
	if (json) {
		rc = canonical(a.plan, &out);
	} else {
		struct plan *p = NULL;
		rc = cli_load_plan(a.plan, SECRETS_UNUSED, &p);
		if (!rc)
			plandoc_render(p, f, clock_now(), &out);
		plan_free(p);
	}
	if (!rc && a.out)
		rc = write_out(a.out, &out);
	else if (!rc && out.len && fwrite(out.data, 1, out.len, stdout) != out.len)
		rc = 3;
	buf_free(&out);
	return rc;
}

static int plan_run(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage(&cmd_plan, "name a subcommand (show)");
	if (strcmp(argv[1], "show") == 0)
		return show(argc - 1, argv + 1);
	if (strcmp(argv[1], "history") == 0 || strcmp(argv[1], "diff") == 0) {
		cli_error("plan %s: not available yet (it needs the plan versions in the "
			  "evidence store)", argv[1]);
		return 3;
	}
	return cli_usage(&cmd_plan, "unknown subcommand %s", argv[1]);
}

const struct cmd cmd_plan = {
	.name = "plan",
	.usage = "show PLAN [--format html|text|md|json] [-o FILE]",
	.summary = "the plan as its controlled document (Clause 7.5)",
	.help = "  --format F     text (default), md (Markdown, for wikis), html (one\n"
		"                 self-contained printable page) or json (the plan as\n"
		"                 canonical JSON, from JSON or YAML alike)\n"
		"  -o, --output FILE  write there (atomically) instead of stdout\n\n"
		"The document: document control (version, approval, review, content\n"
		"SHA-256), the Clause 7.4 matrix (what, when in words, with whom, how, who,\n"
		"acknowledgement), audiences, channels by type (never a secret) and the\n"
		"check warnings in force.  Secrets written literally in the plan are shown\n"
		"as [redacted], in the JSON too.\n",
	.run = plan_run,
};
