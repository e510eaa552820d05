/*
 * cli.h - the command table and helpers shared by the cmd_*.c files.
 *
 * Each subcommand is one file exporting a struct cmd; main.c lists them.
 * A command declares its options in an opts.h table, from which its usage
 * and --help are generated, and parses argv with opts_parse().  It returns
 * herald's exit code (0, 1 invalid, 2 usage, 3 runtime).
 */
#ifndef HERALD_CLI_H
#define HERALD_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "herald/err.h"
#include "herald/opts.h"

struct buf;
struct plan;

struct cmd {
	const struct opts_spec *spec; /* name, summary, options */
	int (*run)(int argc, char **argv);
};

extern const struct cmd cmd_check, cmd_agenda, cmd_ics, cmd_feeds, cmd_run,
	cmd_send, cmd_evidence, cmd_report, cmd_plan, cmd_keys, cmd_members;

/* Prints "herald: NAME: message" and the usage to stderr; returns 2. */
int cli_usage(const struct cmd *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prints "herald: msg" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

enum cli_secrets {
	SECRETS_REQUIRED, /* a missing env: variable is an error */
	SECRETS_DEMO,     /* dry-run: demo values, announced on stderr */
	SECRETS_UNUSED,   /* the command sends nothing: demo values, quietly,
			   * and LDAP directories are not contacted */
};

/*
 * Loads a plan, printing "herald: PLAN: PATH: message" on failure.  Returns
 * the exit code (0 on success, *out set).
 */
int cli_load_plan(const char *path, enum cli_secrets secrets, struct plan **out);

/* The same for commands that read only the plan's schedules and audiences
 * (agenda, ics, feeds): SECRETS_UNUSED, without the plan's texts. */
int cli_load_plan_schedules(const char *path, struct plan **out);

/*
 * For the commands that talk to servers (run, send, members, check
 * --resolve): a peer that closes its socket (an LDAP server going down
 * mid-read, an SMTP or HTTP server dropping the connection) is an error on
 * that connection, not the end of the process.  libldap and OpenSSL write
 * without MSG_NOSIGNAL, so SIGPIPE is ignored.  Other commands keep the
 * default, and stop quietly when their reader does (| head).
 */
void cli_talks_to_servers(void);

/* Parses a non-negative decimal integer no larger than max. */
bool cli_parse_uint(const char *s, long max, long *out);

/*
 * Writes an output file: b goes to path with write_file_atomic (mode 0666
 * less the umask), or to stdout when path is NULL or "-".  Returns 0, or 3
 * after printing "herald: ctx: message".
 */
int cli_write_output(const char *ctx, const char *path, const struct buf *b);

/*
 * Opens the key directory of the database s (dir, or keys/ beside it),
 * printing "herald: ctx: message" on failure; returns the exit code.
 */
struct keyring;
struct store;
int cli_open_keys(const char *ctx, struct store *s, const char *dir, bool create,
		  struct keyring **out);

/* The values of --log-format, in the order of enum log_format. */
extern const char *const cli_log_formats[];

/* What several commands share, declared once (opts.h). */
#define CLI_ONE_PLAN                                                          \
	.args = "PLAN", .min_args = 1, .max_args = 1,                         \
	.args_error = "name exactly one plan file"
#define CLI_OPT_DB(T, f)                                                      \
	{ .name = "db", OPT_STRING_AT(T, f), .metavar = "FILE",               \
	  .help = "evidence database (default ./herald.db)" }
#define CLI_OPT_KEYS(T, f)                                                    \
	{ .name = "keys", OPT_STRING_AT(T, f), .metavar = "DIR",                  \
	  .help = "key directory (default keys/ beside the database)" }
#define CLI_OPT_OUTPUT(T, f, metavar_)                                        \
	{ .name = "output", .letter = 'o', OPT_STRING_AT(T, f),               \
	  .metavar = metavar_, .help = "write to " metavar_ " (atomically) instead of stdout" }
#define CLI_OPT_LOG_FORMAT(T, f)                                              \
	{ .name = "log-format", OPT_CHOICE_AT(T, f), .choices = cli_log_formats, \
	  .help = "log lines as text (default) or as JSON objects\n"           \
		  "(for journald, Loki)" }

/* Maps an rc to the exit code and prints "herald: ctx: msg". */
int cli_fail(const char *ctx, const struct herald_err *err);

#endif
