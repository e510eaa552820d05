/*
 * cmd_keys.c - `herald keys rotate --feeds|--acks|--signing`: replaces one
 * key of the key directory (keys.h), recorded as evidence.  A running
 * service notices the changed files and uses the new key.
 */
#include <stdbool.h>
#include <stdio.h>

#include "herald/clock.h"
#include "herald/cli.h"
#include "herald/keys.h"
#include "herald/store.h"
#include "herald/timeutil.h"

struct rotate_args {
	const char *db, *keys, *grace;
	bool feeds, acks, signing;
};

static const struct opt rotate_table[] = {
	{ .name = "feeds", OPT_FLAG_AT(struct rotate_args, feeds),
	  .help = "a new feed key: every private feed URL is revoked\n"
		  "(hand out the new ones: herald feeds)" },
	{ .name = "acks", OPT_FLAG_AT(struct rotate_args, acks),
	  .help = "a new ack key; links already sent keep working\n"
		  "for --grace" },
	{ .name = "signing", OPT_FLAG_AT(struct rotate_args, signing),
	  .help = "a new checkpoint signing key; give the auditor the\n"
		  "new keys/signing.pub" },
	{ .name = "grace", OPT_STRING_AT(struct rotate_args, grace), .metavar = "DURATION",
	  .help = "how long old ack links stay valid (default P30D)" },
	CLI_OPT_DB(struct rotate_args, db),
	CLI_OPT_KEYS(struct rotate_args, keys),
};

static const struct opts_spec rotate_spec = {
	.name = "keys rotate",
	.summary = "replace a key of the key directory (recorded as evidence)",
	OPTS_TABLE(rotate_table),
	.notes = "Name exactly one of --feeds, --acks, --signing.  A running herald reads\n"
		 "the key directory again within seconds.\n",
};

static int rotate(int argc, char **argv)
{
	struct rotate_args a = { .db = "herald.db", .grace = "P30D" };
	int nargs, rc = opts_parse(&rotate_spec, argc, argv, &a, &nargs);
	if (rc != OPTS_CONTINUE)
		return rc;
	if ((int)a.feeds + (int)a.acks + (int)a.signing != 1)
		return cli_usage(&cmd_keys, "name exactly one of --feeds, --acks, --signing");
	int64_t grace;
	if (!parse_duration(a.grace, &grace))
		return cli_usage(&cmd_keys, "--grace: not an ISO 8601 duration: %s", a.grace);
	struct store *s;
	struct herald_err err;
	herald_err_clear(&err);
	struct store_open_opts so = { 0 };
	if (store_open(a.db, &so, &s, &err))
		return cli_fail("keys rotate", &err);
	struct keyring *k = NULL;
	if ((rc = cli_open_keys("keys rotate", s, a.keys, false, &k))) {
		store_close(s);
		return rc;
	}
	enum keys_kind kind = a.feeds ? KEYS_FEEDS : a.acks ? KEYS_ACKS : KEYS_SIGNING;
	if (keys_rotate(k, s, kind, clock_now(), grace, &err))
		rc = cli_fail("keys rotate", &err);
	else
		printf("%s: new %s key %s\n", k->dir, a.feeds ? "feed" : a.acks ? "ack" : "signing",
		       a.feeds ? k->feed_id : a.acks ? k->acks[0].id : k->signing_id);
	keys_close(k);
	store_close(s);
	return rc;
}

static const struct opts_sub subs[] = {
	{ "rotate", &rotate_spec, rotate },
};

static const struct opts_spec keys_spec = {
	.name = "keys",
	.summary = "the key directory: rotate a key",
	OPTS_SUBS(subs),
};

static int keys_run(int argc, char **argv)
{
	return opts_dispatch(&keys_spec, argc, argv);
}

const struct cmd cmd_keys = { .spec = &keys_spec, .run = keys_run };
