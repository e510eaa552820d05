/* test_opts.c - the option parser: every value kind, the errors, and the
 * usage and help generated from the table. */
#include "testutil.h"

#include <unistd.h>

#include "herald/opts.h"
#include "herald/timeutil.h"
#include "herald/tz.h"
#include "herald/util.h"

struct targs {
	bool verbose, dry;
	const char *db, *out;
	long count;
	struct opt_time when, until;
	int format;
};

static const char *const formats[] = { "text", "csv", "json", NULL };

static const struct opt table[] = {
	{ .name = "verbose", .letter = 'v', OPT_FLAG_AT(struct targs, verbose),
	  .help = "say more" },
	{ .name = "dry-run", .letter = 'n', OPT_FLAG_AT(struct targs, dry),
	  .help = "do nothing" },
	{ .name = "db", OPT_STRING_AT(struct targs, db), .metavar = "FILE",
	  .help = "the database\n(default ./x.db)" },
	{ .name = "output", .letter = 'o', OPT_STRING_AT(struct targs, out),
	  .metavar = "FILE", .help = "where to write" },
	{ .name = "count", OPT_UINT_AT(struct targs, count), .min = 1, .max = 99,
	  .group = 1, .help = "how many" },
	{ .name = "until", OPT_TIME_AT(struct targs, until), .group = 1,
	  .help = "until when" },
	{ .name = "when", OPT_TIME_AT(struct targs, when), .help = "when" },
	{ .name = "format", OPT_CHOICE_AT(struct targs, format), .choices = formats,
	  .help = "the format" },
};

static const struct opts_spec spec = {
	.name = "demo",
	.summary = "a demo command",
	.args = "PLAN [NAME]", .min_args = 1, .max_args = 2,
	OPTS_TABLE(table),
	.notes = "Some notes.",
};

/* ------------------------------------------------------------------ */
/* Running the parser with its output captured                         */

struct run {
	int rc, nargs;
	char *argv[32];
	char *out, *err; /* what went to stdout and stderr */
	char *mem[32];   /* argv as built, for freeing (argv is permuted) */
};

static char *slurp(FILE *f)
{
	struct buf b;
	buf_init(&b);
	rewind(f);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	return buf_take(&b);
}

/* Splits words on spaces into argv; runs fn with stdout and stderr
 * captured. */
static void run_with(struct run *r, const char *words,
		     int (*fn)(struct run *r, int argc, void *ctx), void *ctx)
{
	memset(r, 0, sizeof *r);
	char *copy = xstrdup(words), *save = NULL;
	int argc = 0;
	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
		r->argv[argc] = r->mem[argc] = xstrdup(w), argc++;
	free(copy);
	fflush(stdout);
	fflush(stderr);
	FILE *o = tmpfile(), *e = tmpfile();
	assert_non_null(o);
	assert_non_null(e);
	int so = dup(1), se = dup(2);
	dup2(fileno(o), 1);
	dup2(fileno(e), 2);
	r->rc = fn(r, argc, ctx);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	r->out = slurp(o);
	r->err = slurp(e);
}

static int call_parse(struct run *r, int argc, void *ctx)
{
	return opts_parse(&spec, argc, r->argv, ctx, &r->nargs);
}

static void parse(struct run *r, const char *words, struct targs *a)
{
	run_with(r, words, call_parse, a);
}

static void done(struct run *r)
{
	for (int i = 0; r->mem[i]; i++)
		free(r->mem[i]);
	free(r->out);
	free(r->err);
}

/* Expects a usage error whose first line is "herald: demo: msg". */
static void expect_error(const char *words, const char *msg)
{
	struct targs a = { 0 };
	struct run r;
	parse(&r, words, &a);
	assert_int_equal(r.rc, 2);
	char *line = xasprintf("herald: demo: %s\nusage: herald demo PLAN", msg);
	assert_contains(r.err, line);
	assert_string_equal(r.out, "");
	free(line);
	done(&r);
}

/* ------------------------------------------------------------------ */
/* Parsing                                                             */

static void every_kind(void **state)
{
	(void)state;
	struct targs a = { .db = "default.db" };
	struct run r;
	parse(&r, "demo p.json -v --dry-run --output=o.txt --count 7 "
		  "--when 2026-07-01 --format json name", &a);
	assert_int_equal(r.rc, OPTS_CONTINUE);
	assert_string_equal(r.err, "");
	assert_true(a.verbose);
	assert_true(a.dry);
	assert_string_equal(a.db, "default.db"); /* not given: the default */
	assert_string_equal(a.out, "o.txt");
	assert_int_equal(a.count, 7);
	assert_non_null(a.when.text);
	assert_true(a.when.is_date);
	assert_null(a.until.text);
	assert_int_equal(a.format, 2);
	/* Positionals in order at argv[1..], options anywhere. */
	assert_int_equal(r.nargs, 2);
	assert_string_equal(r.argv[1], "p.json");
	assert_string_equal(r.argv[2], "name");
	done(&r);
}

static void value_forms(void **state)
{
	(void)state;
	struct targs a = { 0 };
	struct run r;
	/* -xVALUE, grouped flags ending in a value option, --name=VALUE. */
	parse(&r, "demo -vnoout.txt --db=a=b p", &a);
	assert_int_equal(r.rc, OPTS_CONTINUE);
	assert_true(a.verbose && a.dry);
	assert_string_equal(a.out, "out.txt");
	assert_string_equal(a.db, "a=b");
	done(&r);

	/* A value is the next word, whatever it looks like; the last
	 * repetition wins. */
	memset(&a, 0, sizeof a);
	parse(&r, "demo --db one --db -h -o -v p", &a);
	assert_int_equal(r.rc, OPTS_CONTINUE);
	assert_string_equal(a.db, "-h");
	assert_string_equal(a.out, "-v");
	assert_false(a.verbose);
	done(&r);

	/* "--" ends the options; "-" alone is an argument. */
	memset(&a, 0, sizeof a);
	parse(&r, "demo - -- --db", &a);
	assert_int_equal(r.rc, OPTS_CONTINUE);
	assert_null(a.db);
	assert_int_equal(r.nargs, 2);
	assert_string_equal(r.argv[1], "-");
	assert_string_equal(r.argv[2], "--db");
	done(&r);
}

static void times(void **state)
{
	(void)state;
	struct targs a = { 0 };
	struct run r;
	parse(&r, "demo p --when 2026-07-01 --until 2026-07-01T12:00:00+02:00", &a);
	assert_int_equal(r.rc, OPTS_CONTINUE);
	const struct tz *london = tz_get("Europe/London"), *utc = tz_get("UTC");
	int64_t t;
	/* A date is midnight in the zone given afterwards (BST here). */
	assert_true(parse_rfc3339("2026-06-30T23:00:00Z", &t));
	assert_true(opt_time_instant(&a.when, london) == t);
	assert_true(parse_rfc3339("2026-07-01T00:00:00Z", &t));
	assert_true(opt_time_instant(&a.when, utc) == t);
	/* An instant is one whatever the zone. */
	assert_false(a.until.is_date);
	done(&r);
	/* A plan LOCAL time (no offset) is wall-clock time, like a date. */
	struct targs l = { 0 };
	parse(&r, "demo p --when 2026-07-01T10:30", &l);
	assert_int_equal(r.rc, OPTS_CONTINUE);
	assert_true(l.when.is_date);
	assert_true(parse_rfc3339("2026-07-01T09:30:00Z", &t));
	assert_true(opt_time_instant(&l.when, london) == t);
	done(&r);
	parse(&r, "demo p --when 2026-07-01T12:00:00+02:00 --until 2026-07-01T12:00:00+02:00", &a);
	assert_string_equal(a.until.text, "2026-07-01T12:00:00+02:00");
	assert_true(parse_rfc3339("2026-07-01T10:00:00Z", &t));
	assert_true(opt_time_instant(&a.until, london) == t);
	assert_true(opt_time_instant(&a.until, utc) == t);
	done(&r);
}

static void errors(void **state)
{
	(void)state;
	expect_error("demo p --db", "--db needs a value");
	expect_error("demo p -o", "-o needs a value");
	expect_error("demo p -vo", "-o needs a value");
	expect_error("demo p --bogus", "unknown option --bogus");
	/* The value of an unknown option is not repeated: it may be secret. */
	expect_error("demo p --token=s3cret", "unknown option --token");
	expect_error("demo p -x", "unknown option -x");
	expect_error("demo p -vx", "unknown option -x");
	/* No abbreviations: adding --verbose-log later must not change
	 * what --verb meant. */
	expect_error("demo p --verb", "unknown option --verb");
	expect_error("demo p --verbose=yes", "--verbose takes no value");
	expect_error("demo p --count 0", "--count takes a whole number from 1 to 99");
	expect_error("demo p --count 100", "--count takes a whole number from 1 to 99");
	expect_error("demo p --count -1", "--count takes a whole number from 1 to 99");
	expect_error("demo p --count +5", "--count takes a whole number from 1 to 99");
	expect_error("demo p --count 5x", "--count takes a whole number from 1 to 99");
	expect_error("demo p --count=", "--count takes a whole number from 1 to 99");
	expect_error("demo p --when tomorrow",
		     "--when \"tomorrow\" is not YYYY-MM-DD, YYYY-MM-DDTHH:MM or an RFC 3339 time");
	/* saying why, as check does for the plan's dates */
	expect_error("demo p --when 2026-02-30",
		     "--when \"2026-02-30\" is not YYYY-MM-DD, YYYY-MM-DDTHH:MM or an RFC 3339 "
		     "time: February 2026 has 28 days");
	expect_error("demo p --when 2026-07-01T24:00",
		     "--when \"2026-07-01T24:00\" is not YYYY-MM-DD, YYYY-MM-DDTHH:MM or an RFC "
		     "3339 time: there is no hour 24 (00 to 23)");
	expect_error("demo p --format xml", "--format is text, csv or json");
	expect_error("demo p --count 3 --until 2027-01-01", "give --count or --until, not both");
	expect_error("demo p --until 2027-01-01 --count 3", "give --until or --count, not both");
	expect_error("demo", "missing PLAN [NAME]");
	expect_error("demo a b c", "unexpected argument c");
	expect_error("demo -- a b --c", "unexpected argument --c");
}

static void group_repeats(void **state)
{
	(void)state;
	/* Giving the same member of a group twice is no conflict. */
	struct targs a = { 0 };
	struct run r;
	parse(&r, "demo p --count 3 --count 4", &a);
	assert_int_equal(r.rc, OPTS_CONTINUE);
	assert_int_equal(a.count, 4);
	done(&r);
}

static const struct opts_spec noargs_spec = {
	.name = "bare",
	.args_error = "bare takes no arguments",
};

static int call_bare(struct run *r, int argc, void *ctx)
{
	(void)ctx;
	return opts_parse(&noargs_spec, argc, r->argv, NULL, &r->nargs);
}

static void args_error(void **state)
{
	(void)state;
	struct run r;
	run_with(&r, "bare x", call_bare, NULL);
	assert_int_equal(r.rc, 2);
	assert_string_equal(r.err, "herald: bare: unexpected argument x; bare takes no "
				   "arguments\nusage: herald bare\n");
	done(&r);
	run_with(&r, "bare", call_bare, NULL);
	assert_int_equal(r.rc, OPTS_CONTINUE);
	assert_int_equal(r.nargs, 0);
	done(&r);
}

static void help(void **state)
{
	(void)state;
	const char *forms[] = { "demo --help", "demo p -h --bogus", "demo -vh", "demo --db x --help" };
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		struct targs a = { 0 };
		struct run r;
		parse(&r, forms[i], &a);
		assert_int_equal(r.rc, 0);
		assert_string_equal(r.err, "");
		assert_true(strncmp(r.out, "usage: herald demo PLAN [NAME]", 30) == 0);
		assert_contains(r.out, "\na demo command\n");
		done(&r);
	}
}

/* ------------------------------------------------------------------ */
/* Generated text                                                      */

static void usage_text(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	opts_usage(&spec, &b);
	/* Letters where there are, the group as alternatives, the choices
	 * as the metavariable, wrapped before column 80 under the first
	 * argument. */
	assert_string_equal(b.data,
		"usage: herald demo PLAN [NAME] [-v] [-n] [--db FILE] [-o FILE]\n"
		"                   [--count N | --until T] [--when T] [--format text|csv|json]\n");
	for (char *l = b.data, *nl; (nl = strchr(l, '\n')); l = nl + 1)
		assert_true(nl - l < 80);
	buf_free(&b);
}

static void help_text(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	opts_help(&spec, &b);
	assert_contains(b.data, "[--when T] [--format text|csv|json]\n\na demo command\n\n");
	assert_contains(b.data, "\n  -v, --verbose      say more\n");
	/* A second line of help is indented to the column. */
	assert_contains(b.data, "\n  --db FILE          the database\n"
				"                     (default ./x.db)\n");
	assert_contains(b.data, "\n  -o, --output FILE  where to write\n");
	/* Too wide for the column: the help goes on the next line. */
	assert_contains(b.data, "\n  --format text|csv|json\n"
				"                     the format\n");
	assert_contains(b.data, "\n  -h, --help         show this help\n");
	/* The notes end the help, with a newline even if they had none. */
	assert_contains(b.data, "show this help\n\nSome notes.\n");
	assert_int_equal(b.data[b.len - 1], '\n');
	assert_int_equal(b.data[b.len - 2], '.');
	buf_free(&b);
}

/* ------------------------------------------------------------------ */
/* Subcommands                                                         */

static const struct opt sub_table[] = {
	{ .name = "db", OPT_STRING_AT(struct targs, db), .metavar = "FILE", .help = "db" },
};

static const struct opts_spec one_spec = {
	.name = "tool one", .summary = "the first\nin two lines", OPTS_TABLE(sub_table),
};
static const struct opts_spec two_spec = {
	.name = "tool two", .summary = "the second",
	.args = "FILE", .min_args = 1, .max_args = 1,
};

static char seen_sub[64];

static int run_one(int argc, char **argv)
{
	struct targs a = { 0 };
	int n, rc = opts_parse(&one_spec, argc, argv, &a, &n);
	if (rc != OPTS_CONTINUE)
		return rc;
	snprintf(seen_sub, sizeof seen_sub, "%s db=%s", argv[0], a.db ? a.db : "-");
	return 7;
}

static int run_two(int argc, char **argv)
{
	int n, rc = opts_parse(&two_spec, argc, argv, NULL, &n);
	if (rc != OPTS_CONTINUE)
		return rc;
	snprintf(seen_sub, sizeof seen_sub, "%s %s", argv[0], argv[1]);
	return 0;
}

static const struct opts_sub subs[] = {
	{ "one", &one_spec, run_one },
	{ "two", &two_spec, run_two },
};

static const struct opts_spec tool_spec = {
	.name = "tool", .summary = "a tool", OPTS_SUBS(subs), .notes = "Tool notes.\n",
};

static int call_dispatch(struct run *r, int argc, void *ctx)
{
	(void)ctx;
	return opts_dispatch(&tool_spec, argc, r->argv);
}

static void subcommands(void **state)
{
	(void)state;
	struct run r;
	seen_sub[0] = '\0';
	run_with(&r, "tool one --db x.db", call_dispatch, NULL);
	assert_int_equal(r.rc, 7); /* the subcommand's own exit code */
	assert_string_equal(seen_sub, "one db=x.db");
	done(&r);
	run_with(&r, "tool two f", call_dispatch, NULL);
	assert_int_equal(r.rc, 0);
	assert_string_equal(seen_sub, "two f");
	done(&r);

	/* A subcommand's errors and help name it and show its usage only. */
	run_with(&r, "tool two", call_dispatch, NULL);
	assert_int_equal(r.rc, 2);
	assert_string_equal(r.err, "herald: tool two: missing FILE\nusage: herald tool two FILE\n");
	done(&r);
	run_with(&r, "tool one --help", call_dispatch, NULL);
	assert_int_equal(r.rc, 0);
	assert_true(strncmp(r.out, "usage: herald tool one [--db FILE]\n\nthe first\n", 46) == 0);
	done(&r);

	run_with(&r, "tool", call_dispatch, NULL);
	assert_int_equal(r.rc, 2);
	assert_string_equal(r.err, "herald: tool: name a subcommand\n"
				   "usage: herald tool one [--db FILE]\n"
				   "       herald tool two FILE\n");
	done(&r);
	run_with(&r, "tool three", call_dispatch, NULL);
	assert_int_equal(r.rc, 2);
	assert_contains(r.err, "herald: tool: unknown subcommand three\n");
	done(&r);

	run_with(&r, "tool --help", call_dispatch, NULL);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out,
		"usage: herald tool one [--db FILE]\n"
		"       herald tool two FILE\n"
		"\na tool\n\n"
		"  one  the first\n"
		"       in two lines\n"
		"  two  the second\n"
		"\nherald tool SUBCOMMAND --help shows its options.\n"
		"\nTool notes.\n");
	done(&r);
}

static void uint_parse(void **state)
{
	(void)state;
	long v = -1;
	assert_true(opts_parse_uint("0", 0, 10, &v) && v == 0);
	assert_true(opts_parse_uint("10", 0, 10, &v) && v == 10);
	assert_false(opts_parse_uint("11", 0, 10, &v));
	assert_false(opts_parse_uint("", 0, 10, &v));
	assert_false(opts_parse_uint(" 1", 0, 10, &v));
	assert_false(opts_parse_uint("1 ", 0, 10, &v));
	assert_false(opts_parse_uint("99999999999999999999", 0, 10, &v));
	assert_int_equal(v, 10); /* untouched by failures */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_kind),
		cmocka_unit_test(value_forms),
		cmocka_unit_test(times),
		cmocka_unit_test(errors),
		cmocka_unit_test(group_repeats),
		cmocka_unit_test(args_error),
		cmocka_unit_test(help),
		cmocka_unit_test(usage_text),
		cmocka_unit_test(help_text),
		cmocka_unit_test(subcommands),
		cmocka_unit_test(uint_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
