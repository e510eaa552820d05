/*
 * opts.h - the one option parser of the subcommands.
 *
 * A command declares its options once, in a table of struct opt: the long
 * name, an optional one-letter name, the kind of value, where the value is
 * stored (an offset into the command's own struct of arguments), the help
 * text and the metavariable.  opts_parse() fills that struct from argv and
 * checks the number of positional arguments; the usage line and the option
 * list of --help are generated from the same table, so what is documented
 * is what is parsed.  A command with subcommands (herald evidence) lists
 * them in a table of struct opts_sub and calls opts_dispatch().
 *
 * Syntax, GNU style: --name VALUE, --name=VALUE, -x VALUE, -xVALUE, flags
 * may be grouped (-ab), "--" ends the options, options may come after the
 * positional arguments, and a repeated option keeps its last value.  A
 * value is the next word whatever it looks like (--note -x is a note).
 * Long names must be given in full: a prefix is an unknown option, so
 * adding an option never changes what an existing command line meant.
 * -h and --help print the help on stdout.
 *
 * Errors go to stderr as "herald: NAME: message" followed by the usage,
 * and the command exits 2 (H_EUSAGE): "--db needs a value", "unknown
 * option --x", "--days takes a whole number from 1 to 36600", "--format
 * is text or json", "give --to or --days, not both".
 */
#ifndef HERALD_OPTS_H
#define HERALD_OPTS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct tz;

enum opt_kind {
	OPT_FLAG,   /* bool: set to true; takes no value */
	OPT_STRING, /* const char *: the value as given (borrowed from argv) */
	OPT_UINT,   /* long: a decimal whole number in [min, max] */
	OPT_TIME,   /* struct opt_time: YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] (wall
		     * clock) or an RFC 3339 instant */
	OPT_CHOICE, /* int: the index of the value in choices */
};

/*
 * A time argument.  A date's zone is often known only once the plan is
 * loaded, so the parser checks the syntax and opt_time_instant() places
 * the date later.
 */
struct opt_time {
	const char *text;  /* as given; NULL if the option was not given */
	bool is_date;      /* value is wall-clock time (a date's midnight, or a
			    * LOCAL time), not an instant */
	int64_t value;
};

/* The instant of t: a date is midnight, a LOCAL time that time, in zone z. */
int64_t opt_time_instant(const struct opt_time *t, const struct tz *z);

struct opt {
	const char *name;           /* long name without "--" */
	char letter;                /* one-letter name, or 0 */
	enum opt_kind kind;
	size_t at;                  /* offset of the value in the arguments */
	const char *metavar;        /* the value in usage and help; NULL:
				     * "VALUE", "N", "T", or the choices
				     * joined by '|' */
	const char *help;           /* '\n' starts another line */
	long min, max;              /* OPT_UINT */
	const char *const *choices; /* OPT_CHOICE, NULL-terminated */
	int group;                  /* options of one nonzero group exclude
				     * each other; usage shows [--a X | --b Y] */
};

/*
 * Where a value goes, checked against the kind: `OPT_STRING_AT(struct
 * send_args, db)` fails to compile unless db is a const char *.
 */
#define OPT_AT_(T, f, type) _Generic(((T *)0)->f, type: offsetof(T, f))
#define OPT_FLAG_AT(T, f)   .kind = OPT_FLAG, .at = OPT_AT_(T, f, bool)
#define OPT_STRING_AT(T, f) .kind = OPT_STRING, .at = OPT_AT_(T, f, const char *)
#define OPT_UINT_AT(T, f)   .kind = OPT_UINT, .at = OPT_AT_(T, f, long)
#define OPT_TIME_AT(T, f)   .kind = OPT_TIME, .at = OPT_AT_(T, f, struct opt_time)
#define OPT_CHOICE_AT(T, f) .kind = OPT_CHOICE, .at = OPT_AT_(T, f, int)

struct opts_spec;

struct opts_sub {
	const char *name;              /* "verify" */
	const struct opts_spec *spec;  /* its options, usage and help */
	int (*run)(int argc, char **argv); /* argv[0] is the subcommand */
};

struct opts_spec {
	const char *name;       /* as in messages and usage: "evidence verify" */
	const char *summary;    /* one line, in --help and a parent's list */
	const char *args;       /* positional arguments in the usage: "PLAN" */
	int min_args, max_args; /* how many; max_args < 0: no upper bound */
	const char *args_error; /* said when the count is wrong; NULL: a
				 * default ("unexpected argument X") */
	const struct opt *opts;
	size_t nopts;           /* at most 64 */
	const struct opts_sub *subs; /* instead of options and arguments */
	size_t nsubs;
	const char *notes;      /* the end of --help, after the options */
};

#define OPTS_TABLE(a) .opts = (a), .nopts = sizeof(a) / sizeof((a)[0])
#define OPTS_SUBS(a)  .subs = (a), .nsubs = sizeof(a) / sizeof((a)[0])

/* opts_parse's "go on": any other value is the exit code to return. */
enum { OPTS_CONTINUE = -1 };

/*
 * Parses argv[1..argc-1] (argv[0] names the command) by spec into args,
 * the struct the table's offsets point into; options not given keep what
 * args held, so the caller sets the defaults first.  Returns OPTS_CONTINUE
 * with the positional arguments moved, in order, to argv[1..*nargs] (argv
 * is permuted, as getopt does).  After -h or --help it prints the help on
 * stdout and returns 0; after an error it prints it with the usage on
 * stderr and returns 2.
 */
int opts_parse(const struct opts_spec *spec, int argc, char **argv, void *args,
	       int *nargs);

/*
 * Runs the subcommand named by argv[1] with argv + 1, and returns its exit
 * code; --help (or -h) in place of a subcommand prints the help (0); no or
 * an unknown subcommand is a usage error (2).
 */
int opts_dispatch(const struct opts_spec *spec, int argc, char **argv);

/* Prints "herald: NAME: message" and the usage on stderr; returns 2. */
int opts_error(const struct opts_spec *spec, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int opts_verror(const struct opts_spec *spec, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Appends the usage: "usage: herald NAME ARGS [--opt X]...\n", one line
 * per subcommand for a spec with subcommands, wrapped at 80 columns. */
void opts_usage(const struct opts_spec *spec, struct buf *out);

/* Appends the --help text: usage, summary, the options (or subcommands)
 * with their help, and the notes. */
void opts_help(const struct opts_spec *spec, struct buf *out);

/* Parses a decimal whole number in [min, max] (no sign, no spaces). */
bool opts_parse_uint(const char *s, long min, long max, long *out);

#endif
