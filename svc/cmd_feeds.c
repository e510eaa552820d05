/*
 * cmd_feeds.c - `herald feeds`: the subscription URLs of each audience's
 * feed, https:// (or http://) and webcal://, private ones with their token
 * (an HMAC of the audience id under the database's server key).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/cli.h"
#include "herald/store.h"
#include "herald/plan.h"
#include "herald/token.h"
#include "herald/util.h"

static int feeds_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "base-url", required_argument, NULL, 'b' },
		{ "db", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	const char *base = "http://127.0.0.1:8080", *dbpath = "herald.db";
	optind = 1;
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (ch) {
		case 'b': base = optarg; break;
		case 'd': dbpath = optarg; break;
		case ':':
			return cli_usage(&cmd_feeds, "%s needs a value", argv[optind - 1]);
		default:
			return cli_usage(&cmd_feeds, "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage(&cmd_feeds, "name exactly one plan file");
	const char *host;
	if (strncmp(base, "https://", 8) == 0)
		host = base + 8;
	else if (strncmp(base, "http://", 7) == 0)
		host = base + 7;
	else
		return cli_usage(&cmd_feeds, "--base-url must start with https:// or http://");
	if (!*host || strpbrk(base, " \t\r\n?#"))
		return cli_usage(&cmd_feeds, "--base-url \"%s\" is not a URL", base);
	size_t blen = strlen(base), hlen = strlen(host);
	while (blen && base[blen - 1] == '/')
		blen--, hlen--;
	struct plan *p;
	int rc = cli_load_plan(argv[optind], SECRETS_UNUSED, &p);
	if (rc)
		return rc;
	struct store *db = NULL;
	unsigned char key[32];
	struct herald_err err;
	herald_err_clear(&err);
	struct store_open_opts so = { .create = true };
	if (store_open(dbpath, &so, &db, &err) || store_server_key(db, key, &err)) {
		rc = cli_fail(dbpath, &err);
		goto out;
	}
	printf("# %s version %s: feed URLs (private ones carry a secret token: share\n"
	       "# each only with its audience; rotating the server key revokes them)\n",
	       p->id, p->version);
	for (size_t i = 0; i < p->naudiences; i++) {
		const struct plan_audience *a = &p->audiences[i];
		if (a->feed == FEED_NONE) {
			printf("%s\tnone\t-\t-\n", a->id);
			continue;
		}
		char tok[TOKEN_FEED_LEN + 2] = "";
		if (a->feed == FEED_PRIVATE) {
			token_feed(key, a->id, tok);
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
	explicit_bzero(key, sizeof key);
	if (db)
		store_close(db);
	plan_free(p);
	return rc;
}

const struct cmd cmd_feeds = {
	.name = "feeds",
	.usage = "PLAN [--base-url URL] [--db FILE]",
	.summary = "print each audience's feed subscription URLs",
	.help = "  --base-url URL  public base URL of herald (default http://127.0.0.1:8080)\n"
		"  --db FILE       database holding the server key (default ./herald.db)\n"
		"Prints one line per audience: ID, public|private|none, the https URL\n"
		"and the webcal URL, separated by tabs.\n",
	.run = feeds_run,
};
