/*
 * cmd_run.c - `herald run`: parses the options and the environment, loads
 * the plan, and hands both to the service (service.h), which runs until
 * SIGTERM.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>

#include "herald/cli.h"
#include "herald/err.h"
#include "herald/service.h"

struct run_args {
	const char *plan, *db, *listen, *base_url, *trust_proxy;
	bool dry_run;
};

static int parse_args(int argc, char **argv, struct run_args *a)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "base-url", required_argument, NULL, 'b' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "trust-proxy", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	a->db = "herald.db";
	a->listen = "127.0.0.1:8080";
	optind = 1;
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': a->db = optarg; break;
		case 'l': a->listen = optarg; break;
		case 'b': a->base_url = optarg; break;
		case 'n': a->dry_run = true; break;
		case 'p': a->trust_proxy = optarg; break;
		case ':':
			return cli_usage(&cmd_run, "%s needs a value", argv[optind - 1]);
		default:
			return cli_usage(&cmd_run, "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage(&cmd_run, "name exactly one plan file");
	a->plan = argv[optind];
	return 0;
}

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
	struct run_args a = { 0 };
	int rc = parse_args(argc, argv, &a);
	if (rc)
		return rc;
	struct service_opts o = { .plan = a.plan, .db = a.db, .listen = a.listen,
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

const struct cmd cmd_run = {
	.name = "run",
	.usage = "PLAN [--db FILE] [--listen HOST:PORT] [--dry-run] [--base-url URL] "
		 "[--trust-proxy ADDR]",
	.summary = "run the service: feeds, messages, evidence",
	.help = "  --db FILE          evidence database (default ./herald.db)\n"
		"  --listen H:P       HTTP address (default 127.0.0.1:8080)\n"
		"  --dry-run          record messages instead of sending them; missing\n"
		"                     env: secrets get demo values\n"
		"  --base-url URL     public URL of the service, for links\n"
		"                     (default http://LISTEN)\n"
		"  --trust-proxy ADDR the reverse proxy at ADDR (e.g. 127.0.0.1): its\n"
		"                     last X-Forwarded-For hop is the client, for the\n"
		"                     per-client limits and logs\n"
		"SIGHUP or a change of the plan file reloads the plan (a bad plan is\n"
		"refused and the old one keeps serving); SIGTERM stops.\n"
		"HERALD_CONN_TIMEOUT sets the idle connection timeout (seconds, default 30),\n"
		"HERALD_HEADER_TIMEOUT the time a request's headers may take (default 10).\n"
		"HERALD_ADMIN_TOKEN, when set, must have at least 32 characters.\n",
	.run = run_run,
};
