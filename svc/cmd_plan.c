/*
 * cmd_plan.c - `herald plan`: the plan as its controlled document.
 *   show PLAN [--format html|text|md|json] [-o FILE]: the document
 *     (plandoc.h), or the canonical JSON;
 *   history [--db FILE] [--format text|json]: the versions the evidence
 *     holds (planver.h);
 *   diff [--db FILE] A B: what changed between two versions or files
 *     (plandiff.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "herald/clock.h"
#include "herald/cli.h"
#include "herald/plan.h"
#include "herald/plan_text.h"
#include "herald/plandiff.h"
#include "herald/plandoc.h"
#include "herald/planver.h"
#include "herald/store.h"
#include "herald/timeutil.h"
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

/* ------------------------------------------------------------ history */

static const char *const history_formats[] = { "text", "json", NULL };

struct history_args {
	const char *db;
	int format;
};

static const struct opt history_table[] = {
	CLI_OPT_DB(struct history_args, db),
	{ .name = "format", OPT_CHOICE_AT(struct history_args, format),
	  .choices = history_formats, .help = "text (default) or json" },
};

static const struct opts_spec history_spec = {
	.name = "plan history",
	.summary = "the plan versions the evidence holds",
	.max_args = 0,
	OPTS_TABLE(history_table),
	.notes = "One line per version (per content SHA-256, that of plan show), oldest\n"
		 "first: version, content SHA-256, first and last loaded (UTC), approved by\n"
		 "and on, and whether the content changed without a new version or approval\n"
		 "date (\"changed since approval\"; herald check --db warns W-VERSION-UNCHANGED).\n",
};

static enum herald_rc open_db(const char *path, struct store **db, struct herald_err *err)
{
	struct store_open_opts so = { .readonly = true };
	enum herald_rc rc = store_open(path, &so, db, err);
	if (rc)
		herald_err_prefix(err, "%s", path);
	return rc;
}

static void history_row(struct buf *b, const struct planver_history *h, size_t i,
			const int *w)
{
	const struct planver *e = &h->v[i];
	char first[32], last[32], sha[16];
	format_rfc3339_utc(e->first, first, sizeof first);
	format_rfc3339_utc(e->last, last, sizeof last);
	snprintf(sha, sizeof sha, "%.12s%s", e->sha256, e->has_content ? "" : "*");
	buf_printf(b, "%-*s  %-13s  %-20s  %-20s  %-*s  %-11s  ", w[0], e->version ? e->version : "-",
		   sha, first, last, w[1], e->approved_by ? e->approved_by : "-",
		   e->approved_on ? e->approved_on : "-");
	if (e->approved >= 0)
		buf_printf(b, "yes: not the content approved as version %s (%.12s)\n",
			   h->v[e->approved].version, h->v[e->approved].sha256);
	else
		buf_adds(b, e->has_content ? "no\n" : "unknown\n");
}

static void history_text(const struct planver_history *h, struct buf *b)
{
	bool unknown = false;
	for (size_t i = 0; i < h->n; i++) {
		const char *id = h->v[i].plan_id ? h->v[i].plan_id : "";
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++)
			seen = strcmp(h->v[k].plan_id ? h->v[k].plan_id : "", id) == 0;
		if (seen)
			continue;
		int w[2] = { 7, 11 };
		for (size_t k = i; k < h->n; k++)
			if (strcmp(h->v[k].plan_id ? h->v[k].plan_id : "", id) == 0) {
				int a = h->v[k].version ? (int)strlen(h->v[k].version) : 1;
				int c = h->v[k].approved_by ? (int)strlen(h->v[k].approved_by) : 1;
				w[0] = a > w[0] ? a : w[0];
				w[1] = c > w[1] ? c : w[1];
			}
		buf_printf(b, "%sPlan %s\n%-*s  %-13s  %-20s  %-20s  %-*s  %-11s  %s\n", i ? "\n" : "",
			   id, w[0], "VERSION", "SHA-256", "FIRST LOADED", "LAST LOADED", w[1],
			   "APPROVED BY", "APPROVED ON", "CHANGED WITHOUT APPROVAL");
		for (size_t k = i; k < h->n; k++)
			if (strcmp(h->v[k].plan_id ? h->v[k].plan_id : "", id) == 0) {
				history_row(b, h, k, w);
				unknown |= !h->v[k].has_content;
			}
	}
	if (!h->n)
		buf_adds(b, "No plan version recorded.\n");
	if (unknown)
		buf_adds(b, "\n* the file's SHA-256: recorded before herald stored plan texts, so its "
			    "content is not known.\n");
}

static void json_field(struct buf *b, const char *key, const char *v, bool last)
{
	buf_printf(b, "\"%s\": ", key);
	buf_add_json(b, v);
	buf_adds(b, last ? "" : ", ");
}

static void history_json(const struct planver_history *h, struct buf *b)
{
	buf_adds(b, "[");
	for (size_t i = 0; i < h->n; i++) {
		const struct planver *e = &h->v[i];
		char first[32], last[32];
		format_rfc3339_utc(e->first, first, sizeof first);
		format_rfc3339_utc(e->last, last, sizeof last);
		buf_adds(b, i ? ",\n {" : "\n {");
		json_field(b, "plan", e->plan_id, false);
		json_field(b, "version", e->version, false);
		json_field(b, "content_sha256", e->has_content ? e->sha256 : NULL, false);
		buf_adds(b, "\"file_sha256\": [");
		for (size_t k = 0; k < e->nfiles; k++) {
			buf_adds(b, k ? ", " : "");
			buf_add_json(b, e->files[k]);
		}
		buf_adds(b, "], ");
		json_field(b, "first_loaded", first, false);
		json_field(b, "last_loaded", last, false);
		buf_printf(b, "\"loads\": %zu, ", e->loads);
		json_field(b, "approved_by", e->approved_by, false);
		json_field(b, "approved_on", e->approved_on, false);
		json_field(b, "next_review", e->next_review, false);
		json_field(b, "path", e->path, false);
		buf_printf(b, "\"text_stored\": %s, \"changed_without_approval\": %s, ",
			   e->text ? "true" : "false", e->approved >= 0 ? "true" : "false");
		json_field(b, "approved_content_sha256",
			   e->approved >= 0 ? h->v[e->approved].sha256 : NULL, true);
		buf_adds(b, "}");
	}
	buf_adds(b, h->n ? "\n]\n" : "]\n");
}

static int history(int argc, char **argv)
{
	struct history_args a = { .db = "herald.db" };
	int nargs, rc = opts_parse(&history_spec, argc, argv, &a, &nargs);
	if (rc != OPTS_CONTINUE)
		return rc;
	struct herald_err err;
	herald_err_clear(&err);
	struct store *db = NULL;
	struct planver_history h;
	if (open_db(a.db, &db, &err) || planver_read(db, &h, &err)) {
		store_close(db);
		return cli_fail("plan history", &err);
	}
	store_close(db);
	struct buf b;
	buf_init(&b);
	if (a.format == 1)
		history_json(&h, &b);
	else
		history_text(&h, &b);
	planver_free(&h);
	rc = cli_write_output("plan history", NULL, &b);
	buf_free(&b);
	return rc;
}

/* --------------------------------------------------------------- diff */

struct diff_args {
	const char *db;
};

static const struct opt diff_table[] = {
	CLI_OPT_DB(struct diff_args, db),
};

static const struct opts_spec diff_spec = {
	.name = "plan diff",
	.summary = "what changed between two plan versions, in words",
	.args = "A B", .min_args = 2, .max_args = 2,
	.args_error = "name two versions or files to compare",
	OPTS_TABLE(diff_table),
	.notes = "A and B each name a plan file if one exists by that name, else a version\n"
		 "recorded in the evidence (its version label, or a prefix of at least 4 hex\n"
		 "digits of its SHA-256, as plan history shows it).  The changes from A to B\n"
		 "are listed per communication, audience and channel, field by field.\n"
		 "Secrets are never shown.\n"
		 "Exit status: 0 (changes or not), 1 a plan is invalid, 2 A or B names\n"
		 "nothing or more than one version, 3 I/O.\n",
};

struct side {
	struct plandiff_side s;
	char *label, *canon;
	struct plan *plan;
};

static void side_free(struct side *d)
{
	free(d->label);
	free(d->canon);
	plan_free(d->plan);
}

static bool is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int side_file(const char *path, struct side *d)
{
	int rc = cli_load_plan(path, SECRETS_UNUSED, &d->plan);
	if (rc)
		return rc;
	struct herald_err err;
	herald_err_clear(&err);
	if (plan_text_stored_canonical(d->plan->path, d->plan->text, &d->canon, &err))
		return cli_fail(path, &err);
	d->label = xstrdup(path);
	return 0;
}

struct db_state {
	const char *path;
	bool read;
	struct planver_history h;
};

static int side_version(const char *what, struct db_state *st, struct side *d)
{
	struct herald_err err;
	herald_err_clear(&err);
	if (!st->read) {
		struct store *db = NULL;
		if (open_db(st->path, &db, &err) || planver_read(db, &st->h, &err)) {
			store_close(db);
			return cli_fail("plan diff", &err);
		}
		store_close(db);
		st->read = true;
	}
	size_t found[8];
	size_t n = planver_find(&st->h, what, found, 8);
	if (n == 0) {
		cli_error("plan diff: %s: no such file, nor a version or SHA-256 prefix recorded "
			  "in %s (herald plan history --db %s lists them)", what, st->path, st->path);
		return H_EUSAGE;
	}
	if (n > 1) {
		struct buf l;
		buf_init(&l);
		for (size_t i = 0; i < n && i < 8; i++)
			buf_printf(&l, "%s%.12s (version %s)", i ? ", " : "",
				   st->h.v[found[i]].sha256, st->h.v[found[i]].version);
		cli_error("plan diff: %s names %zu versions: %s; give a SHA-256 prefix", what, n,
			  l.data);
		buf_free(&l);
		return H_EUSAGE;
	}
	const struct planver *e = &st->h.v[found[0]];
	if (!e->text || !e->path) {
		cli_error("plan diff: %s: version %s (file %.12s) was recorded before herald stored "
			  "plan texts: its content is not in the evidence", what, e->version, e->sha256);
		return H_EINVAL;
	}
	if (plan_text_stored_canonical(e->path, e->text, &d->canon, &err))
		return cli_fail(what, &err);
	/* Words need the plan loaded; without them the diff shows values as
	 * written (members files may have gone since). */
	if (plan_text_load(e->path, e->text, &d->plan, &err))
		d->plan = NULL;
	char first[32];
	format_rfc3339_utc(e->first, first, sizeof first);
	d->label = xasprintf("version %s (content %.12s, first loaded %s)", e->version,
			     e->sha256, first);
	return 0;
}

static int diff(int argc, char **argv)
{
	struct diff_args a = { .db = "herald.db" };
	int nargs, rc = opts_parse(&diff_spec, argc, argv, &a, &nargs);
	if (rc != OPTS_CONTINUE)
		return rc;
	struct db_state st = { .path = a.db };
	struct side d[2] = { 0 };
	rc = 0;
	for (int i = 0; i < 2 && !rc; i++)
		rc = is_file(argv[1 + i]) ? side_file(argv[1 + i], &d[i])
					  : side_version(argv[1 + i], &st, &d[i]);
	struct buf b;
	buf_init(&b);
	if (!rc) {
		for (int i = 0; i < 2; i++)
			d[i].s = (struct plandiff_side){ .label = d[i].label,
							 .canonical = d[i].canon,
							 .plan = d[i].plan };
		size_t n;
		struct herald_err err;
		herald_err_clear(&err);
		if (plandiff_render(&d[0].s, &d[1].s, &b, &n, &err))
			rc = cli_fail("plan diff", &err);
		else
			rc = cli_write_output("plan diff", NULL, &b);
	}
	buf_free(&b);
	side_free(&d[0]);
	side_free(&d[1]);
	if (st.read)
		planver_free(&st.h);
	return rc;
}

static const struct opts_sub subs[] = {
	{ "show", &show_spec, show },
	{ "history", &history_spec, history },
	{ "diff", &diff_spec, diff },
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
