/*
 * cmd_members.c - `herald members PLAN AUDIENCE [--format text|csv]`:
 * whom an audience resolves to now, read from its source (the inline
 * list, the CSV file, the directory) as `herald run` would.  Only that
 * audience's source is read; warnings about the list (duplicates, people
 * skipped, an empty list) go to stderr like check's.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "herald/cli.h"
#include "herald/plan.h"
#include "herald/util.h"

struct members_args {
	int format; /* index in formats */
};

static const char *const formats[] = { "text", "csv", NULL };

static const struct opt members_table[] = {
	{ .name = "format", OPT_CHOICE_AT(struct members_args, format), .choices = formats,
	  .help = "text: \"Name <address>\" lines (default); csv: name,email" },
};

static const struct opts_spec members_spec = {
	.name = "members",
	.summary = "list whom an audience resolves to now (file or directory)",
	.args = "PLAN AUDIENCE", .min_args = 2, .max_args = 2,
	.args_error = "name a plan file and an audience",
	OPTS_TABLE(members_table),
	.notes = "Reads the audience's members as `herald run` does: an LDAP directory is\n"
		 "contacted (its env: secrets must be set), a CSV file read.  The count and\n"
		 "any warnings go to stderr.  Exit 0, 1 for an invalid plan or an audience\n"
		 "without members, 2 for an unknown audience, 3 when the source cannot be read.\n",
};

/* Only the audience asked about is read. */
static bool only_this(const struct plan_audience *a, void *ctx)
{
	return strcmp(a->id, ctx) == 0;
}

static void csv_field(struct buf *b, const char *s)
{
	if (!strpbrk(s, ",\"\r\n") && s[0] != ' ' && (!*s || s[strlen(s) - 1] != ' ')) {
		buf_adds(b, s);
		return;
	}
	buf_addc(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			buf_addc(b, '"');
		buf_addc(b, *s);
	}
	buf_addc(b, '"');
}

static void print_list(const struct plan_audience *a, int format, struct buf *b)
{
	if (format == 1)
		buf_adds(b, "name,email\r\n");
	for (size_t i = 0; i < a->nmembers; i++) {
		const struct member *m = &a->members[i];
		if (format == 1) {
			csv_field(b, m->name);
			buf_addc(b, ',');
			csv_field(b, m->email);
			buf_adds(b, "\r\n");
		} else {
			buf_printf(b, "%s <%s>\n", m->name, m->email);
		}
	}
}

static int members_run(int argc, char **argv)
{
	struct members_args args = { 0 };
	int nargs, rc = opts_parse(&members_spec, argc, argv, &args, &nargs);
	if (rc != OPTS_CONTINUE)
		return rc;
	const char *path = argv[1], *id = argv[2];
	struct plan_load_opts o = { .demo_secrets = true, .resolve = true,
				    .refetch = only_this, .ctx = (void *)(uintptr_t)id };
	struct plan *p = NULL;
	struct herald_err err;
	herald_err_clear(&err);
	if ((rc = (int)plan_load(path, &o, &p, &err))) {
		fprintf(stderr, "herald: %s: %s\n", path, err.msg);
		return rc;
	}
	long ai = plan_audience_index(p, id);
	if (ai < 0) {
		rc = cli_usage(&cmd_members, "%s has no audience \"%s\"", path, id);
		plan_free(p);
		return rc;
	}
	const struct plan_audience *a = &p->audiences[ai];
	if (!a->members_given) {
		cli_error("%s: audiences.%s: the audience lists no members (give it a "
			  "\"members\" key)", path, id);
		plan_free(p);
		return H_EINVAL;
	}
	for (size_t i = 0; a->list && i < a->list->nnotes; i++)
		fprintf(stderr, "herald: %s: audiences.%s.members: warning %s: %s\n", path, id,
			a->list->notes[i].code, a->list->notes[i].message);
	if (a->nmembers == 0)
		fprintf(stderr, "herald: %s: audiences.%s.members: warning W-AUDIENCE-EMPTY: "
			"audience \"%s\" has no members\n", path, id, id);
	fprintf(stderr, "herald: %s: audience %s: %zu member%s%s%s%s\n", path, id, a->nmembers,
		a->nmembers == 1 ? "" : "s", a->source.what ? " from " : "",
		a->source.what ? a->source.what : "", a->list && a->list->duplicates ?
		" (duplicates left out)" : "");
	struct buf b;
	buf_init(&b);
	print_list(a, args.format, &b);
	rc = cli_write_output("members", NULL, &b);
	buf_free(&b);
	plan_free(p);
	return rc;
}

const struct cmd cmd_members = { .spec = &members_spec, .run = members_run };
