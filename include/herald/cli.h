/*
 * cli.h - the command table and helpers shared by the cmd_*.c files.
 *
 * Each subcommand is one file exporting a struct cmd; main.c lists them.
 * A command returns herald's exit code (0, 1 invalid, 2 usage, 3 runtime).
 */
#ifndef HERALD_CLI_H
#define HERALD_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "herald/err.h"

struct plan;
struct tz;

struct cmd {
	const char *name;
	const char *usage;    /* after "herald NAME " */
	const char *summary;  /* one line */
	const char *help;     /* option descriptions, may be NULL */
	int (*run)(int argc, char **argv);
};

extern const struct cmd cmd_check, cmd_agenda, cmd_ics, cmd_feeds, cmd_run,
	cmd_send, cmd_evidence, cmd_report, cmd_plan;

/* Prints "herald: NAME: usage: …" to stderr and returns 2. */
int cli_usage(const struct cmd *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prints "herald: msg" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* True if argv holds -h/--help (and prints the command's help). */
bool cli_wants_help(const struct cmd *c, int argc, char **argv);

enum cli_secrets {
	SECRETS_REQUIRED, /* a missing env: variable is an error */
	SECRETS_DEMO,     /* dry-run: demo values, announced on stderr */
	SECRETS_UNUSED,   /* the command sends nothing: demo values, quietly */
};

/*
 * Loads a plan, printing "herald: PLAN: PATH: message" on failure.  Returns
 * the exit code (0 on success, *out set).
 */
int cli_load_plan(const char *path, enum cli_secrets secrets, struct plan **out);

/*
 * Parses T (YYYY-MM-DD, midnight in zone z, or an RFC 3339 instant).
 */
bool cli_parse_time(const char *s, const struct tz *z, int64_t *instant);

/* Parses a non-negative decimal integer no larger than max. */
bool cli_parse_uint(const char *s, long max, long *out);

/* Maps an rc to the exit code and prints "herald: ctx: msg". */
int cli_fail(const char *ctx, const struct herald_err *err);

#endif
