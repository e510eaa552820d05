/*
 * cmd_plan.c - `herald plan show PLAN [--format html|text|md|json] [-o FILE]`:
 * the plan as its controlled document (plandoc.h), or as canonical JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/clock.h"
#include "herald/cli.h"
#include "herald/plan.h"
#include "herald/plandoc.h"
#include "herald/util.h"

static const char *const show_formats[] = { "text", "md", "html", "json", NULL };

struct show_args {
	const char *out;
	int format; /* index in show_formats */
};

static const struct opt show_table[] = {
	{ .name = "format", OPT_CHOICE_AT(struct show_args, format), .choices = show_formats,
	  .help = "text (default), md (Markdown, for wikis), html (one\n"
		  "self-contained printable page) or json (the plan as\n"
		  "canonical JSON, from JSON or YAML alike)" },
	CLI_OPT_OUTPUT(struct show_args, out, "FILE"),
};

static const struct opts_spec show_spec = {
	.name = "plan show",
	.summary = "the plan as its controlled document (Clause 7.5)",
	CLI_ONE_PLAN,
	OPTS_TABLE(show_table),
	.notes = "The document: document control (version, approval, review, content\n"
		 "SHA-256), the Clause 7.4 matrix (what, when in words, with whom, how, who,\n"
		 "acknowledgement), audiences, channels by type (never a secret) and the\n"
		 "check warnings in force.  Secrets written literally in the plan are shown\n"
		 "as [redacted], in the JSON too.\n",
};

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
	struct show_args a = { 0 };
	int nargs, rc = opts_parse(&show_spec, argc, argv, &a, &nargs);
	if (rc != OPTS_CONTINUE)
		return rc;
	const char *plan = argv[1];
	bool json = strcmp(show_formats[a.format], "json") == 0;
	enum plandoc_format f = PLANDOC_TEXT;
	if (!json)
		plandoc_format_name(show_formats[a.format], &f);
	struct buf out;
	buf_init(&out);
	if (json) {
		rc = canonical(plan, &out);
	} else {
		struct plan *p = NULL;
		rc = cli_load_plan(plan, SECRETS_UNUSED, &p);
		if (!rc)
			plandoc_render(p, f, clock_now(), &out);
		plan_free(p);
	}
	if (!rc)
		rc = cli_write_output("plan show", a.out, &out);
	buf_free(&out);
	return rc;
}

static const struct opts_sub subs[] = {
	{ "show", &show_spec, show },
};

static const struct opts_spec plan_spec = {
	.name = "plan",
	.summary = "the plan as its controlled document (Clause 7.5)",
	OPTS_SUBS(subs),
};

static int plan_run(int argc, char **argv)
{
	return opts_dispatch(&plan_spec, argc, argv);
}

const struct cmd cmd_plan = { .spec = &plan_spec, .run = plan_run };
