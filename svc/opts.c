/*
 * opts.c - the table-driven option parser of opts.h: parsing argv into a
 * command's struct, then the usage and help text generated from the same
 * tables.
 */
#include "herald/opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/err.h"
#include "herald/timeutil.h"
#include "herald/tz.h"
#include "herald/util.h"

enum {
	WRAP = 80,    /* the usage line wraps before this column */
	HELP_COL = 24 /* the help column starts here at the latest */
};

/* ------------------------------------------------------------------ */
/* Values                                                              */

int64_t opt_time_instant(const struct opt_time *t, const struct tz *z)
{
	return t->is_date ? tz_wall_to_instant(z, t->value, NULL) : t->value;
}

bool opts_parse_uint(const char *s, long min, long max, long *out)
{
	/* strtol would take spaces and signs. */
	if (*s < '0' || *s > '9')
		return false;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* The option as the usage shows it when no letter is set: "--name". */
static void add_name(struct buf *b, const struct opt *o)
{
	if (o->name)
		buf_printf(b, "--%s", o->name);
	else
		buf_printf(b, "-%c", o->letter);
}

static void add_metavar(struct buf *b, const struct opt *o)
{
	if (o->metavar) {
		buf_adds(b, o->metavar);
		return;
	}
	switch (o->kind) {
	case OPT_FLAG: break;
	case OPT_STRING: buf_adds(b, "VALUE"); break;
	case OPT_UINT: buf_adds(b, "N"); break;
	case OPT_TIME: buf_adds(b, "T"); break;
	case OPT_CHOICE:
		for (size_t i = 0; o->choices[i]; i++)
			buf_printf(b, "%s%s", i ? "|" : "", o->choices[i]);
		break;
	}
}

/* "text or json", "text, csv or json". */
static void add_choice_list(struct buf *b, const char *const *c)
{
	size_t n = 0;
	while (c[n])
		n++;
	for (size_t i = 0; i < n; i++)
		buf_printf(b, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", c[i]);
}

/* ------------------------------------------------------------------ */
/* Errors and help                                                     */

int opts_verror(const struct opts_spec *spec, const char *fmt, va_list ap)
{
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "herald: %s: ", spec->name);
	buf_vprintf(&b, fmt, ap);
	buf_addc(&b, '\n');
	opts_usage(spec, &b);
	fwrite(b.data, 1, b.len, stderr);
	buf_free(&b);
	return H_EUSAGE;
}

int opts_error(const struct opts_spec *spec, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = opts_verror(spec, fmt, ap);
	va_end(ap);
	return rc;
}

static int print_help(const struct opts_spec *spec)
{
	struct buf b;
	buf_init(&b);
	opts_help(spec, &b);
	fwrite(b.data, 1, b.len, stdout);
	buf_free(&b);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "herald: %s: writing the help failed\n", spec->name);
		return H_ERUNTIME;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Parsing                                                             */

struct parse {
	const struct opts_spec *spec;
	char *args;    /* the caller's struct, where the offsets point */
	uint64_t seen; /* bit i: opts[i] was given */
};

/* Stores v (NULL for a flag) as opts[i], named as by the user in as. */
static int store(struct parse *p, size_t i, const char *as, const char *v)
{
	const struct opts_spec *s = p->spec;
	const struct opt *o = &s->opts[i];
	for (size_t j = 0; o->group && j < s->nopts; j++) {
		if (j != i && (p->seen >> j & 1) && s->opts[j].group == o->group) {
			struct buf other;
			buf_init(&other);
			add_name(&other, &s->opts[j]);
			int rc = opts_error(s, "give %s or %s, not both", other.data, as);
			buf_free(&other);
			return rc;
		}
	}
	p->seen |= UINT64_C(1) << i;
	void *slot = p->args + o->at;
	switch (o->kind) {
	case OPT_FLAG:
		*(bool *)slot = true;
		break;
	case OPT_STRING:
		*(const char **)slot = v;
		break;
	case OPT_UINT:
		if (!opts_parse_uint(v, o->min, o->max, slot))
			return opts_error(s, "%s takes a whole number from %ld to %ld", as,
					  o->min, o->max);
		break;
	case OPT_TIME: {
		/* A date or a plan LOCAL time is wall-clock time, placed in a
		 * zone later; an RFC 3339 time is an instant. */
		struct opt_time *t = slot;
		if (parse_date(v, &t->value) || parse_local(v, &t->value)) {
			t->is_date = true;
		} else if (parse_rfc3339(v, &t->value)) {
			t->is_date = false;
		} else {
			/* Why, for what is shaped like a date ("February 2026
			 * has 28 days"); "tomorrow" needs no more than the forms. */
			char why[120] = "";
			size_t len = strlen(v);
			bool datelike = len >= 10 && v[0] >= '0' && v[0] <= '9' && v[4] == '-' &&
					v[7] == '-';
			bool looks_local = len > 10 && v[10] == 'T';
			if (!datelike || (looks_local ? explain_local(v, why, sizeof why)
						      : explain_date(v, why, sizeof why)))
				why[0] = '\0';
			return opts_error(s, "%s \"%s\" is not YYYY-MM-DD, YYYY-MM-DDTHH:MM or an "
					  "RFC 3339 time%s%s", as, v, why[0] ? ": " : "", why);
		}
		t->text = v;
		break;
	}
	case OPT_CHOICE:
		for (int k = 0; o->choices[k]; k++) {
			if (strcmp(v, o->choices[k]) == 0) {
				*(int *)slot = k;
				return OPTS_CONTINUE;
			}
		}
		struct buf list;
		buf_init(&list);
		add_choice_list(&list, o->choices);
		int rc = opts_error(s, "%s is %s", as, list.data);
		buf_free(&list);
		return rc;
	}
	return OPTS_CONTINUE;
}

/* The value of opts[i] from the next word; *i moves past it. */
static int store_next(struct parse *p, size_t k, const char *as, int argc,
		      char **argv, int *i)
{
	if (*i + 1 >= argc)
		return opts_error(p->spec, "%s needs a value", as);
	return store(p, k, as, argv[++*i]);
}

/* --name, --name=VALUE or --name VALUE. */
static int parse_long(struct parse *p, int argc, char **argv, int *i)
{
	const struct opts_spec *s = p->spec;
	const char *a = argv[*i] + 2;
	const char *eq = strchr(a, '=');
	size_t n = eq ? (size_t)(eq - a) : strlen(a);
	if (!eq && strcmp(a, "help") == 0)
		return print_help(s);
	for (size_t k = 0; k < s->nopts; k++) {
		const struct opt *o = &s->opts[k];
		if (!o->name || strlen(o->name) != n || strncmp(o->name, a, n) != 0)
			continue;
		char as[80];
		snprintf(as, sizeof as, "--%s", o->name);
		if (o->kind == OPT_FLAG)
			return eq ? opts_error(s, "%s takes no value", as) : store(p, k, as, NULL);
		return eq ? store(p, k, as, eq + 1) : store_next(p, k, as, argc, argv, i);
	}
	/* The value is left out: it may be anything, a secret too. */
	return opts_error(s, "unknown option --%.*s", (int)n, a);
}

/* -x, -xVALUE, -x VALUE, and flags grouped (-ab). */
static int parse_short(struct parse *p, int argc, char **argv, int *i)
{
	const struct opts_spec *s = p->spec;
	const char *a = argv[*i];
	for (size_t j = 1; a[j]; j++) {
		if (a[j] == 'h')
			return print_help(s);
		size_t k = 0;
		while (k < s->nopts && s->opts[k].letter != a[j])
			k++;
		if (k == s->nopts)
			return opts_error(s, "unknown option -%c", a[j]);
		char as[3] = { '-', a[j], '\0' };
		if (s->opts[k].kind != OPT_FLAG)
			return a[j + 1] ? store(p, k, as, a + j + 1)
					: store_next(p, k, as, argc, argv, i);
		int rc = store(p, k, as, NULL);
		if (rc != OPTS_CONTINUE)
			return rc;
	}
	return OPTS_CONTINUE;
}

static int check_count(const struct opts_spec *s, int n, char **argv)
{
	bool many = s->max_args >= 0 && n > s->max_args;
	if (n >= s->min_args && !many)
		return OPTS_CONTINUE;
	/* Naming the stray argument tells "herald ics plan.json all-staff"
	 * that the audience wanted --audience, not which count was wrong. */
	if (many)
		return opts_error(s, "unexpected argument %s%s%s", argv[1 + s->max_args],
				  s->args_error ? "; " : "", s->args_error ? s->args_error : "");
	if (s->args_error)
		return opts_error(s, "%s", s->args_error);
	return opts_error(s, "missing %s", s->args ? s->args : "arguments");
}

int opts_parse(const struct opts_spec *spec, int argc, char **argv, void *args,
	       int *nargs)
{
	if (spec->nopts > 64)
		abort();
	struct parse p = { .spec = spec, .args = args };
	int n = 0;
	bool only_args = false;
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (only_args || a[0] != '-' || a[1] == '\0') {
			/* 1 + n <= i: the slot was read already. */
			argv[1 + n++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_args = true;
			continue;
		}
		int rc = a[1] == '-' ? parse_long(&p, argc, argv, &i)
				     : parse_short(&p, argc, argv, &i);
		if (rc != OPTS_CONTINUE)
			return rc;
	}
	int rc = check_count(spec, n, argv);
	if (rc == OPTS_CONTINUE)
		*nargs = n;
	return rc;
}

int opts_dispatch(const struct opts_spec *spec, int argc, char **argv)
{
	if (argc < 2)
		return opts_error(spec, "name a subcommand");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return print_help(spec);
	for (size_t i = 0; i < spec->nsubs; i++)
		if (strcmp(argv[1], spec->subs[i].name) == 0)
			return spec->subs[i].run(argc - 1, argv + 1);
	return opts_error(spec, "unknown subcommand %s", argv[1]);
}

/* ------------------------------------------------------------------ */
/* Usage and help                                                      */

/* A usage line being built, wrapped before WRAP. */
struct line {
	struct buf *b;
	size_t col, indent;
	bool fresh; /* nothing after the indent yet */
};

static void add_word(struct line *l, const char *w)
{
	size_t n = strlen(w);
	if (!l->fresh && l->col + 1 + n >= WRAP) {
		buf_printf(l->b, "\n%*s", (int)l->indent, "");
		l->col = l->indent;
		l->fresh = true;
	}
	if (!l->fresh) {
		buf_addc(l->b, ' ');
		l->col++;
	}
	buf_adds(l->b, w);
	l->col += n;
	l->fresh = false;
}

/* "-o FILE" or "--name FILE". */
static void add_synopsis(struct buf *b, const struct opt *o)
{
	if (o->letter)
		buf_printf(b, "-%c", o->letter);
	else
		add_name(b, o);
	if (o->kind != OPT_FLAG) {
		buf_addc(b, ' ');
		add_metavar(b, o);
	}
}

static void usage_line(const struct opts_spec *s, const char *lead, struct buf *out)
{
	size_t start = out->len;
	buf_printf(out, "%sherald %s", lead, s->name);
	struct line l = { .b = out, .col = out->len - start };
	l.indent = l.col + 1;
	if (s->args)
		add_word(&l, s->args);
	struct buf w;
	buf_init(&w);
	uint64_t done = 0;
	for (size_t i = 0; i < s->nopts; i++) {
		if (done >> i & 1)
			continue;
		int g = s->opts[i].group;
		buf_reset(&w);
		buf_addc(&w, '[');
		for (size_t j = i; j < s->nopts; j++) {
			if (j != i && (!g || s->opts[j].group != g))
				continue;
			if (j != i)
				buf_adds(&w, " | ");
			add_synopsis(&w, &s->opts[j]);
			done |= UINT64_C(1) << j;
		}
		buf_addc(&w, ']');
		add_word(&l, w.data);
	}
	buf_free(&w);
	buf_addc(out, '\n');
}

void opts_usage(const struct opts_spec *spec, struct buf *out)
{
	if (!spec->nsubs) {
		usage_line(spec, "usage: ", out);
		return;
	}
	for (size_t i = 0; i < spec->nsubs; i++)
		usage_line(spec->subs[i].spec, i ? "       " : "usage: ", out);
}

/* "  -o, --output FILE" or "  --from T": the left column of the help. */
static void add_left(struct buf *b, const struct opt *o)
{
	buf_adds(b, "  ");
	if (o->letter && o->name)
		buf_printf(b, "-%c, ", o->letter);
	add_name(b, o);
	if (o->kind != OPT_FLAG) {
		buf_addc(b, ' ');
		add_metavar(b, o);
	}
}

/* One row: left, then each line of help from column col. */
static void add_row(struct buf *out, const char *left, const char *help, size_t col)
{
	size_t n = strlen(left);
	buf_adds(out, left);
	if (help && *help) {
		if (n + 2 > col) {
			buf_addc(out, '\n');
			n = 0;
		}
		buf_printf(out, "%*s", (int)(col - n), "");
		for (const char *nl; (nl = strchr(help, '\n')); help = nl + 1)
			buf_printf(out, "%.*s\n%*s", (int)(nl - help), help, (int)col, "");
		buf_adds(out, help);
	}
	buf_addc(out, '\n');
}

void opts_help(const struct opts_spec *spec, struct buf *out)
{
	opts_usage(spec, out);
	if (spec->summary)
		buf_printf(out, "\n%s\n", spec->summary);
	size_t n = spec->nsubs ? spec->nsubs : spec->nopts + 1;
	struct buf *left = xcalloc(n, sizeof *left);
	const char **help = xcalloc(n, sizeof *help);
	size_t col = 0;
	for (size_t i = 0; i < n; i++) {
		buf_init(&left[i]);
		if (spec->nsubs) {
			buf_printf(&left[i], "  %s", spec->subs[i].name);
			help[i] = spec->subs[i].spec->summary;
		} else if (i < spec->nopts) {
			add_left(&left[i], &spec->opts[i]);
			help[i] = spec->opts[i].help;
		} else {
			buf_adds(&left[i], "  -h, --help");
			help[i] = "show this help";
		}
		/* A row too wide for the column has its help on the next line. */
		if (left[i].len + 2 > col && left[i].len + 2 <= HELP_COL)
			col = left[i].len + 2;
	}
	buf_addc(out, '\n');
	for (size_t i = 0; i < n; i++) {
		add_row(out, left[i].data, help[i], col);
		buf_free(&left[i]);
	}
	free(left);
	free(help);
	if (spec->nsubs)
		buf_printf(out, "\nherald %s SUBCOMMAND --help shows its options.\n",
			   spec->name);
	if (spec->notes) {
		size_t len = strlen(spec->notes);
		buf_printf(out, "\n%s%s", spec->notes,
			   len && spec->notes[len - 1] == '\n' ? "" : "\n");
	}
}
