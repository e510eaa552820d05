/*
 * cmd_check.c - `herald check PLAN... [--strict] [--db FILE]`: validate
 * and lint; with --db, also whether each plan's content is the one its
 * version was approved with (planver.h, W-VERSION-UNCHANGED).
 */
#include <stdbool.h>
#include <stdio.h>

#include "herald/clock.h"
#include "herald/cli.h"
#include "herald/lint.h"
#include "herald/plan.h"
#include "herald/planver.h"
#include "herald/store.h"
#include "herald/timeutil.h"
#include "herald/util.h"

struct check_out {
	const char *path, *db;
	size_t errors, unset;
};

static void print_warning(const struct lint_warning *w, void *ctx)
{
	const struct check_out *o = ctx;
	fprintf(stderr, "herald: %s: %s: warning %s: %s\n    advice: %s\n",
		o->path, w->path, w->code, w->message, w->advice);
}

static void print_error(const char *msg, void *ctx)
{
	struct check_out *o = ctx;
	o->errors++;
	fprintf(stderr, "herald: %s: %s\n", o->path, msg);
}

/* Lint runs where production secrets are not: an unset variable warns. */
static void print_unset(const char *name, const char *path, void *ctx)
{
	struct check_out *o = ctx;
	o->unset++;
	fprintf(stderr, "herald: %s: %s: warning W-ENV-UNSET: environment variable %s is not "
		"set\n    advice: set it where herald runs (run and send refuse to start "
		"without it; check --strict treats it as an error)\n", o->path, path, name);
}

/* The plan's content against what the evidence says its version was
 * approved with: 1 warning or 0. */
static size_t version_unchanged(const struct check_out *o, const struct plan *p,
				const struct planver_history *h)
{
	struct planver_verdict v;
	planver_judge(h, p->id, p->version, p->approved_on, p->content_sha256, &v);
	if (!v.changed)
		return 0;
	struct buf w;
	buf_init(&w);
	planver_words(&v, p->content_sha256, &w);
	fprintf(stderr, "herald: %s: plan.version: warning W-VERSION-UNCHANGED: %s\n    advice: "
		"give the plan a new version and record its approval (approved_by, approved_on); "
		"herald plan diff --db %s %.12s %s shows what changed\n", o->path, w.data,
		o->db, v.approved_sha256, o->path);
	buf_free(&w);
	return 1;
}

/* Checks one plan file; returns its exit code. */
static int check_one(const char *path, bool strict, bool resolve, const char *db,
		     const struct planver_history *h)
{
	struct check_out o = { .path = path, .db = db };
	struct plan_load_opts opts = { .on_error = print_error,
				       .on_unset = strict ? NULL : print_unset,
				       .resolve = resolve, .ctx = &o };
	struct plan *p = NULL;
	struct herald_err err;
	herald_err_clear(&err);
	enum herald_rc rc = plan_load(path, &opts, &p, &err);
	if (rc) {
		if (!o.errors) /* I/O: no walk, no callback */
			fprintf(stderr, "herald: %s: %s\n", path, err.msg);
		else if (o.errors > 1)
			fprintf(stderr, "herald: %s: %zu errors%s\n", path, o.errors,
				o.errors >= PLAN_MAX_ERRORS ? " (stopped there)" : "");
		return (int)rc;
	}
	size_t n = lint_plan(p, clock_now(), print_warning, &o) + o.unset;
	if (h)
		n += version_unchanged(&o, p, h);
	printf("%s: ok: plan %s version %s, %zu communication%s, %zu audience%s, "
	       "%zu channel%s, %zu warning%s\n",
	       path, p->id, p->version, p->ncomms, p->ncomms == 1 ? "" : "s",
	       p->naudiences, p->naudiences == 1 ? "" : "s", p->nchannels,
	       p->nchannels == 1 ? "" : "s", n, n == 1 ? "" : "s");
	plan_free(p);
	return 0;
}

struct check_args {
	bool strict, resolve;
	const char *db;
};

static const struct opt check_table[] = {
	{ .name = "strict", OPT_FLAG_AT(struct check_args, strict),
	  .help = "an unset env: variable is an error (as for run and send),\n"
		  "not the warning W-ENV-UNSET" },
	{ .name = "resolve", OPT_FLAG_AT(struct check_args, resolve),
	  .help = "also read the LDAP directories of \"members\" (check\n"
		  "contacts none without it), so empty and odd lists warn too" },
	{ .name = "db", OPT_STRING_AT(struct check_args, db), .metavar = "FILE",
	  .help = "the evidence database: warn W-VERSION-UNCHANGED when a\n"
		  "plan's content is not the one its version (or approval\n"
		  "date) was first loaded with" },
};

static const struct opts_spec check_spec = {
	.name = "check",
	.summary = "validate plans and lint them against ISO/IEC 27001 Clause 7.4",
	OPTS_TABLE(check_table),
	.args = "PLAN...", .min_args = 1, .max_args = -1,
	.args_error = "name at least one plan file",
	.notes = "Every error is reported (up to 100 per plan), each with its JSON path;\n"
		 "YAML plans (.yaml, .yml) also give the line and column.\n"
		 "Exit status: 0 valid (warnings allowed), 1 invalid plan, 2 usage, 3 I/O error\n"
		 "(or, with --resolve, a directory that cannot be read).\n"
		 "Errors and warnings go to stderr as \"herald: PLAN: PATH: message\".\n",
};

static int check_run(int argc, char **argv)
{
	struct check_args a = { 0 };
	int nplans, worst = 0;
	int rc = opts_parse(&check_spec, argc, argv, &a, &nplans);
	if (rc != OPTS_CONTINUE)
		return rc;
	struct planver_history h = { 0 };
	if (a.db) {
		struct herald_err err;
		herald_err_clear(&err);
		struct store *db = NULL;
		struct store_open_opts so = { .readonly = true };
		enum herald_rc r = store_open(a.db, &so, &db, &err);
		if (!r)
			r = planver_read(db, &h, &err);
		store_close(db);
		if (r)
			return cli_fail(a.db, &err);
	}
	for (int i = 1; i <= nplans; i++) {
		rc = check_one(argv[i], a.strict, a.resolve, a.db, a.db ? &h : NULL);
		if (rc > worst)
			worst = rc;
	}
	planver_free(&h);
	return worst;
}

const struct cmd cmd_check = { .spec = &check_spec, .run = check_run };
