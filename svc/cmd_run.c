/*
 * cmd_run.c - `herald run`: parses the options and the environment, loads
 * the plan, and hands both to the service (service.h), which runs until
 * SIGTERM.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "herald/cli.h"
#include "herald/err.h"
#include "herald/log.h"
#include "herald/service.h"

/* The command line: the service's options, and the log format, which is
 * applied here and is none of the service's business. */
struct run_cli {
	const char *plan, *db, *keys, *checkpoint_to, *listen, *base_url, *trust_proxy;
	bool dry_run;
	int log_format; /* index in cli_log_formats */
};

static const struct opt run_table[] = {
	CLI_OPT_DB(struct run_cli, db),
	CLI_OPT_KEYS(struct run_cli, keys),
	{ .name = "checkpoint-to", OPT_STRING_AT(struct run_cli, checkpoint_to),
	  .metavar = "DIR|URL",
	  .help = "sign the chain head every 1,000 rows or 10 minutes and\n"
		  "at stop, into DIR or POSTed to an https URL" },
	{ .name = "listen", OPT_STRING_AT(struct run_cli, listen), .metavar = "HOST:PORT",
	  .help = "HTTP address (default 127.0.0.1:8080)" },
	{ .name = "dry-run", OPT_FLAG_AT(struct run_cli, dry_run),
	  .help = "record messages instead of sending them; missing\n"
		  "env: secrets get demo values" },
	{ .name = "base-url", OPT_STRING_AT(struct run_cli, base_url), .metavar = "URL",
	  .help = "public URL of the service, for links\n"
		  "(default: the plan's base_url, else\nhttp://LISTEN)" },
	{ .name = "trust-proxy", OPT_STRING_AT(struct run_cli, trust_proxy), .metavar = "ADDR",
	  .help = "the reverse proxy at ADDR (e.g. 127.0.0.1): its\n"
		  "last X-Forwarded-For hop is the client, for the\n"
		  "per-client limits and logs" },
	CLI_OPT_LOG_FORMAT(struct run_cli, log_format),
};

static const struct opts_spec run_spec = {
	.name = "run",
	.summary = "run the service: feeds, messages, evidence",
	CLI_ONE_PLAN,
	OPTS_TABLE(run_table),
	.notes = "SIGHUP or a change of the plan file reloads the plan (a bad plan is\n"
		 "refused and the old one keeps serving); SIGTERM stops.\n"
		 "HERALD_CONN_TIMEOUT sets the idle connection timeout (seconds, default 30),\n"
		 "HERALD_HEADER_TIMEOUT the time a request's headers may take (default 10).\n"
		 "HERALD_ADMIN_TOKEN, when set, must have at least 32 characters.\n",
};

/* A number of seconds from the environment (unset: 0, the default). */
static int env_seconds(const char *name, unsigned *out)
{
	const char *t = getenv(name);
	long v = 0;
	if (t && !cli_parse_uint(t, 3600, &v))
		return cli_usage(&cmd_run, "%s must be seconds (0-3600)", name);
	*out = (unsigned)v;
	return 0;
}

static int run_run(int argc, char **argv)
{
	struct run_cli a = { .db = "herald.db", .listen = "127.0.0.1:8080" };
	int nargs, rc = opts_parse(&run_spec, argc, argv, &a, &nargs);
	if (rc != OPTS_CONTINUE)
		return rc;
	a.plan = argv[1];
	cli_talks_to_servers();
	log_set_format_name(cli_log_formats[a.log_format]);
	struct service_opts o = { .plan = a.plan, .db = a.db, .keys = a.keys,
				  .checkpoint_to = a.checkpoint_to, .listen = a.listen,
				  .base_url = a.base_url, .trust_proxy = a.trust_proxy,
				  .dry_run = a.dry_run };
	if ((rc = env_seconds("HERALD_CONN_TIMEOUT", &o.conn_timeout)) ||
	    (rc = env_seconds("HERALD_HEADER_TIMEOUT", &o.header_timeout)))
		return rc;
	struct plan *p;
	rc = cli_load_plan(a.plan, a.dry_run ? SECRETS_DEMO : SECRETS_REQUIRED, &p);
	if (rc)
		return rc;
	struct herald_err err;
	herald_err_clear(&err);
	if (service_run(&o, p, &err)) {
		cli_error("%s", err.msg);
		return err.rc ? (int)err.rc : H_ERUNTIME;
	}
	return 0;
}

const struct cmd cmd_run = { .spec = &run_spec, .run = run_run };
