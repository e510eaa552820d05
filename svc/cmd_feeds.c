/*
 * cmd_feeds.c - `herald feeds`: the subscription URLs of each audience's
 * feed, https:// (or http://) and webcal://, private ones with their token
 * (an HMAC of the audience id under the feed key of the key directory).
 *
 * The keys are the running service's: its database is opened read-only
 * and never created, and its keys are used, never made, since new keys
 * would give URLs that answer 404 on the service.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/cli.h"
#include "herald/store.h"
#include "herald/keys.h"
#include "herald/plan.h"
#include "herald/token.h"
#include "herald/util.h"

struct feeds_args {
	const char *base, *db, *keys;
};

static const struct opt feeds_table[] = {
	{ .name = "base-url", OPT_STRING_AT(struct feeds_args, base), .metavar = "URL",
	  .help = "public base URL of herald (default: the plan's base_url,\n"
		  "else http://127.0.0.1:8080)" },
	{ .name = "db", OPT_STRING_AT(struct feeds_args, db), .metavar = "FILE",
	  .help = "the service's database (default ./herald.db)" },
	CLI_OPT_KEYS(struct feeds_args, keys),
};

static const struct opts_spec feeds_spec = {
	.name = "feeds",
	.summary = "print each audience's feed subscription URLs",
	CLI_ONE_PLAN,
	OPTS_TABLE(feeds_table),
	.notes = "Prints one line per audience: ID, public|private|none, the https URL\n"
		 "and the webcal URL, separated by tabs.  Private URLs are signed with the\n"
		 "feed key of the service: give the database `herald run` uses (--db).\n",
};

static int feeds_run(int argc, char **argv)
{
	struct feeds_args args = { .db = "herald.db" };
	int nargs, rc = opts_parse(&feeds_spec, argc, argv, &args, &nargs);
	if (rc != OPTS_CONTINUE)
		return rc;
	struct plan *p;
	rc = cli_load_plan_schedules(argv[1], &p);
	if (rc)
		return rc;
	const char *base = plan_base_url(p, args.base, "http://127.0.0.1:8080");
	const char *dbpath = args.db;
	const char *host;
	if (strncmp(base, "https://", 8) == 0)
		host = base + 8;
	else if (strncmp(base, "http://", 7) == 0)
		host = base + 7;
	else
		host = NULL;
	if (!host || !*host || strpbrk(base, " \t\r\n?#")) {
		plan_free(p);
		return host ? cli_usage(&cmd_feeds, "--base-url \"%s\" is not a URL", base)
			    : cli_usage(&cmd_feeds, "--base-url must start with https:// or http://");
	}
	size_t blen = strlen(base), hlen = strlen(host);
	while (blen && base[blen - 1] == '/')
		blen--, hlen--;
	struct store *db = NULL;
	struct keyring *kr = NULL;
	struct herald_err err;
	herald_err_clear(&err);
	struct store_open_opts so = { .readonly = true };
	if (store_open(dbpath, &so, &db, &err)) {
		cli_error("%s; feed URLs carry the keys of the service's database: give the "
			  "database `herald run` uses (--db FILE), or start the service once first",
			  err.msg);
		rc = H_ERUNTIME;
		goto out;
	}
	if ((rc = cli_open_keys("feeds", db, args.keys, false, &kr)))
		goto out;
	printf("# %s version %s: feed URLs (private ones carry a secret token: share\n"
	       "# each only with its audience; rotating the feed key revokes them)\n",
	       p->id, p->version);
	for (size_t i = 0; i < p->naudiences; i++) {
		const struct plan_audience *a = &p->audiences[i];
		if (a->feed == FEED_NONE) {
			printf("%s\tnone\t-\t-\n", a->id);
			continue;
		}
		char tok[TOKEN_FEED_LEN + 2] = "";
		if (a->feed == FEED_PRIVATE) {
			token_feed(kr->feed, a->id, tok);
			strcat(tok, "/");
		}
		printf("%s\t%s\t%.*s/feeds/%s%s.ics\twebcal://%.*s/feeds/%s%s.ics\n",
		       a->id, a->feed == FEED_PUBLIC ? "public" : "private",
		       (int)blen, base, tok, a->id, (int)hlen, host, tok, a->id);
	}
	if (fflush(stdout) != 0) {
		cli_error("writing the URLs failed");
		rc = 3;
	}
out:
	keys_close(kr);
	if (db)
		store_close(db);
	plan_free(p);
	return rc;
}

const struct cmd cmd_feeds = { .spec = &feeds_spec, .run = feeds_run };
