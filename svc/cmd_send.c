/*
 * cmd_send.c - `herald send PLAN COMMUNICATION`: sends a communication now
 * through every channel of its audiences, recording who asked and why,
 * with retries inline (a shorter backoff than the service's, so the
 * command ends within a minute or so).  Exit 0 when everything was sent,
 * 3 when something failed after its retries.
 *
 * The deliveries go into a queue of this run's own ("cli:…"), so a
 * service running on the same database does not send them too.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "herald/clock.h"
#include "herald/cli.h"
#include "herald/engine.h"
#include "herald/keys.h"
#include "herald/log.h"
#include "herald/outbox.h"
#include "herald/plan.h"
#include "herald/record.h"
#include "herald/store.h"
#include "herald/token.h"
#include "herald/util.h"

struct send_opts {
	const char *plan, *comm, *db, *note, *keys;
	bool dry_run;
	int log_format; /* index in cli_log_formats */
};

static const struct opt send_table[] = {
	CLI_OPT_DB(struct send_opts, db),
	CLI_OPT_KEYS(struct send_opts, keys),
	{ .name = "dry-run", OPT_FLAG_AT(struct send_opts, dry_run),
	  .help = "record the messages through the null channel, send nothing" },
	{ .name = "note", OPT_STRING_AT(struct send_opts, note), .metavar = "TEXT",
	  .help = "why it is sent, kept in the evidence" },
	CLI_OPT_LOG_FORMAT(struct send_opts, log_format),
};

static const struct opts_spec send_spec = {
	.name = "send",
	.summary = "send a communication now (incident, breach notice) and record who asked",
	.args = "PLAN COMMUNICATION", .min_args = 2, .max_args = 2,
	.args_error = "name a plan file and a communication",
	OPTS_TABLE(send_table),
	.notes = "Exit 0 when every message was sent, 3 when some failed after retries.\n"
		 "HERALD_BASE_URL sets the base of acknowledgement links.\n",
};

static int parse_args(int argc, char **argv, struct send_opts *o)
{
	o->db = "herald.db";
	int nargs, rc = opts_parse(&send_spec, argc, argv, o, &nargs);
	if (rc != OPTS_CONTINUE)
		return rc;
	log_set_format_name(cli_log_formats[o->log_format]);
	o->plan = argv[1];
	o->comm = argv[2];
	return OPTS_CONTINUE;
}

struct send_ctx {
	const struct plan *p;
	const struct keyring *k;
};

static const struct plan *the_plan(void *ctx)
{
	return ((const struct send_ctx *)ctx)->p;
}

static const struct keyring *the_keys(void *ctx)
{
	return ((const struct send_ctx *)ctx)->k;
}

/* SIGINT, SIGTERM or SIGHUP: stop, and give what is left to the service. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
}

/*
 * Interrupted: claims not yet started go back, sends under way finish and
 * are recorded, and every delivery still open moves to the service's
 * queue, which sends it (flagged where a send may have happened).
 */
static int hand_over(struct engine *e, struct store *db, const char *queue)
{
	struct herald_err err;
	herald_err_clear(&err);
	enum herald_rc rc = engine_release(e, &err);
	for (int i = 0; !rc && engine_inflight(e) > 0 && i < 600; i++)
		rc = engine_step(e, clock_now(), 100, false, &err);
	int64_t n = 0;
	if (!rc)
		rc = outbox_handover(db, queue, &n, &err);
	if (rc)
		return cli_fail("send", &err);
	log_event(LOG_WARN, "send.interrupted", "%s: %lld deliver%s handed to the service "
		  "(herald run sends them)", interrupted == SIGINT ? "SIGINT" :
		  interrupted == SIGTERM ? "SIGTERM" : "SIGHUP", (long long)n, n == 1 ? "y" : "ies");
	return H_ERUNTIME;
}

/* Records the plan version unless this exact file was recorded before. */
static enum herald_rc record_plan_once(struct store *s, const struct plan *p,
				       struct herald_err *err)
{
	unsigned char sha[32];
	bool seen = hex_decode(p->sha256, sha, 32) && store_plan_seen(s, p->id, sha);
	return seen ? H_OK : record_plan(s, p, "loaded", err);
}

static int run(int argc, char **argv)
{
	struct send_opts o = { 0 };
	int rc = parse_args(argc, argv, &o);
	if (rc != OPTS_CONTINUE)
		return rc;
	struct plan *p;
	rc = cli_load_plan(o.plan, o.dry_run ? SECRETS_DEMO : SECRETS_REQUIRED, &p);
	if (rc)
		return rc;
	long ci = plan_comm_index(p, o.comm);
	if (ci < 0) {
		cli_error("%s: no communication \"%s\" in the plan", o.plan, o.comm);
		plan_free(p);
		return H_EINVAL;
	}
	struct herald_err err;
	herald_err_clear(&err);
	struct store *db = NULL;
	struct keyring *kr = NULL;
	char **keys = NULL;
	size_t nkeys = 0;
	struct engine *e = NULL;
	const char *user = getenv("USER");
	char who[160];
	snprintf(who, sizeof who, "%s (herald send)", user && *user ? user : "cli");
	unsigned char rnd[8];
	random_bytes(rnd, sizeof rnd);
	char rh[17], queue[48];
	hex_encode(rnd, sizeof rnd, rh);
	snprintf(queue, sizeof queue, "cli:%s", rh);

	struct store_open_opts so = { .create = true };
	enum herald_rc hrc = store_open(o.db, &so, &db, &err);
	if (hrc) {
		rc = cli_fail(o.db, &err);
		goto out;
	}
	if ((rc = cli_open_keys("send", db, o.keys, true, &kr)))
		goto out;
	hrc = record_plan_once(db, p, &err);
	if (!hrc)
		hrc = outbox_create_manual(db, p, &p->comms[ci], clock_now(), who, o.note,
					   queue, &keys, &nkeys, &err);
	if (hrc) {
		rc = cli_fail(o.db, &err);
		goto out;
	}
	log_event(LOG_INFO, "send.queued", "send %s: %zu deliver%s%s, requested by %s%s%s", o.comm,
		nkeys, nkeys == 1 ? "y" : "ies", o.dry_run ? " (dry-run: recorded, not sent)" : "",
		who, o.note ? ", note: " : "", o.note ? o.note : "");
	/* Inline retries: 1 s doubling, 5 attempts, unless the environment
	 * says otherwise. */
	struct outbox_policy pol;
	outbox_policy_default(&pol);
	if (!getenv("HERALD_RETRY_BASE_MS"))
		pol.base_ms = 1000;
	if (!getenv("HERALD_RETRY_MAX_ATTEMPTS"))
		pol.max_attempts = 5;
	pol.cap_ms = 30000 > pol.base_ms ? 30000 : pol.base_ms;
	const char *base = getenv("HERALD_BASE_URL");
	struct send_ctx sc = { p, kr };
	struct engine_opts eo = { .store = db, .queue = queue, .dry_run = o.dry_run,
				  .base_url = base && *base ? base : NULL, .keys = the_keys,
				  .plan = the_plan, .ctx = &sc, .policy = &pol };
	e = engine_new(&eo);
	catch_signals();
	for (;;) {
		if (interrupted) {
			rc = hand_over(e, db, queue);
			goto out;
		}
		hrc = engine_step(e, clock_now(), 200, true, &err);
		if (hrc) {
			rc = cli_fail(o.db, &err);
			goto out;
		}
		if (engine_inflight(e) == 0 && store_outbox_open(db, queue) == 0)
			break;
	}
	const struct engine_counters *c = engine_counters(e);
	printf("%s: %lld sent, %lld failed\n", o.comm, (long long)c->sent,
	       (long long)c->failed);
	for (size_t i = 0; i < nkeys; i++)
		printf("%s\n", keys[i]);
	rc = c->failed ? H_ERUNTIME : 0;
out:
	engine_free(e);
	keys_close(kr);
	for (size_t i = 0; i < nkeys; i++)
		free(keys[i]);
	free(keys);
	store_close(db);
	plan_free(p);
	return rc;
}

const struct cmd cmd_send = { .spec = &send_spec, .run = run };
