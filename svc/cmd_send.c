/*
 * cmd_send.c - `herald send PLAN COMMUNICATION --by NAME`: sends a
 * communication now through every channel of its audiences (or, with
 * --drill, to the plan's drill recipients only), recording who asked and
 * the note, with retries inline (a shorter backoff than the service's, so
 * the command ends within a minute or so).  Exit 0 when everything was
 * sent, 1 when the plan refuses the send (nothing is recorded then), 2 for
 * bad options, 3 when something failed after its retries.
 *
 * The rules are the API's (outbox_manual_check).  The deliveries go into
 * a queue of this run's own ("cli:…"), so a service running on the same
 * database does not send them too.
 */
#include <errno.h>
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
	const char *plan, *comm, *db, *note, *note_file, *by, *base_url, *keys;
	bool dry_run, drill, out_of_turn;
	int log_format; /* index in cli_log_formats */
};

static const struct opt send_table[] = {
	{ .name = "by", OPT_STRING_AT(struct send_opts, by), .metavar = "NAME",
	  .help = "who asks for this send (required; recorded as evidence)" },
	{ .name = "note", OPT_STRING_AT(struct send_opts, note), .metavar = "TEXT", .group = 1,
	  .help = "the facts: filled into {{note}}, shown first in the default\n"
		  "message, kept in the evidence (at most 64 KiB)" },
	{ .name = "note-file", OPT_STRING_AT(struct send_opts, note_file), .metavar = "FILE",
	  .group = 1, .help = "read the note from FILE (at most 64 KiB)" },
	{ .name = "drill", OPT_FLAG_AT(struct send_opts, drill),
	  .help = "send the real message through the real channels to the\n"
		  "plan's drill recipients only, marked [DRILL]" },
	{ .name = "out-of-turn", OPT_FLAG_AT(struct send_opts, out_of_turn),
	  .help = "send a scheduled communication now (needs a note saying why)" },
	{ .name = "base-url", OPT_STRING_AT(struct send_opts, base_url), .metavar = "URL",
	  .help = "base of acknowledgement links (default: HERALD_BASE_URL,\n"
		  "else the plan's base_url)" },
	CLI_OPT_DB(struct send_opts, db),
	CLI_OPT_KEYS(struct send_opts, keys),
	{ .name = "dry-run", OPT_FLAG_AT(struct send_opts, dry_run),
	  .help = "record the messages through the null channel, send nothing" },
	CLI_OPT_LOG_FORMAT(struct send_opts, log_format),
};

static const struct opts_spec send_spec = {
	.name = "send",
	.summary = "send a communication now (incident, breach notice), or drill it,\n"
		   "and record who asked and why",
	.args = "PLAN COMMUNICATION", .min_args = 2, .max_args = 2,
	.args_error = "name a plan file and a communication",
	OPTS_TABLE(send_table),
	.notes = "Prints one line of totals, then one line per delivery: key, state,\n"
		 "audience, channel, recipient (tab-separated).  A live send whose\n"
		 "acknowledgement links would point at a loopback or unset base URL, to\n"
		 "someone on another machine, is refused: set the plan's base_url.\n"
		 "Exit 0 when every message was sent (or recorded, --dry-run), 1 when\n"
		 "the plan refuses the send, 3 when some failed after retries.\n",
};

/* The default --db; compared by address to tell it from one given. */
static const char default_db[] = "herald.db";

static int parse_args(int argc, char **argv, struct send_opts *o)
{
	o->db = default_db;
	int nargs, rc = opts_parse(&send_spec, argc, argv, o, &nargs);
	if (rc != OPTS_CONTINUE)
		return rc;
	log_set_format_name(cli_log_formats[o->log_format]);
	o->plan = argv[1];
	o->comm = argv[2];
	if (!o->by)
		return cli_usage(&cmd_send, "--by NAME is required: say who asks for this send "
				 "(it is recorded as evidence)");
	const char *b = o->base_url;
	if (b && ((strncmp(b, "https://", 8) != 0 && strncmp(b, "http://", 7) != 0) ||
		  strpbrk(b, " \t\r\n?#")))
		return cli_usage(&cmd_send, "--base-url \"%s\" is not an http:// or https:// URL", b);
	return OPTS_CONTINUE;
}

/* The note of --note-file, without its last line break; NULL after an
 * error (printed). */
static char *note_from_file(const char *path, int *rc)
{
	char *data;
	size_t len;
	if (read_file(path, OUTBOX_NOTE_MAX, &data, &len) != 0) {
		*rc = errno == EFBIG ? H_EUSAGE : H_ERUNTIME;
		if (errno == EFBIG)
			cli_usage(&cmd_send, "--note-file %s: more than the %d bytes (64 KiB) a note "
				  "may hold", path, OUTBOX_NOTE_MAX);
		else
			cli_error("send: --note-file %s: %s", path, strerror(errno));
		return NULL;
	}
	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		data[--len] = '\0';
	if (strlen(data) != len) {
		*rc = cli_usage(&cmd_send, "--note-file %s: contains a NUL byte, not text", path);
		free(data);
		return NULL;
	}
	return data;
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

/* The final states of the deliveries made, by key (a send may make
 * thousands: found through an index sorted by key). */
struct states {
	const struct outbox_made *made;
	size_t n;
	char **own;              /* parallel to made */
	size_t *order;           /* indexes into made, by key */
};

static const struct outbox_made *sort_base;

static int by_key(const void *a, const void *b)
{
	return strcmp(sort_base[*(const size_t *)a].key, sort_base[*(const size_t *)b].key);
}

static void states_index(struct states *st)
{
	st->order = xcalloc(st->n ? st->n : 1, sizeof *st->order);
	for (size_t i = 0; i < st->n; i++)
		st->order[i] = i;
	sort_base = st->made;
	if (st->n)
		qsort(st->order, st->n, sizeof *st->order, by_key);
}

static int on_state(const struct store_delivery_view *d, void *ctx)
{
	struct states *st = ctx;
	if (!d->key)
		return 0;
	size_t lo = 0, hi = st->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(st->made[st->order[mid]].key, d->key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < st->n && strcmp(st->made[st->order[lo]].key, d->key) == 0; lo++)
		if (!st->own[st->order[lo]])
			st->own[st->order[lo]] = xstrdup(d->state);
	return 0;
}

static void print_result(struct store *db, const char *comm, const struct outbox_manual *m,
			 int64_t due, const struct outbox_made *made, size_t n,
			 const struct engine_counters *c)
{
	printf("%s%s: %lld %s, %lld failed\n", comm, m->drill ? " (drill)" : "",
	       (long long)c->sent, m->dry_run ? "recorded (dry-run)" : "sent",
	       (long long)c->failed);
	struct states st = { made, n, xcalloc(n ? n : 1, sizeof(char *)), NULL };
	states_index(&st);
	struct store_filter f = { .has_from = true, .from = due, .has_to = true, .to = due + 1,
				  .communication = comm, .kind = m->drill ? "drill" : "manual" };
	struct herald_err err;
	herald_err_clear(&err);
	store_each_delivery(db, &f, on_state, &st, NULL, &err);
	for (size_t i = 0; i < n; i++) {
		printf("%s\t%s\t%s\t%s\t%s\n", made[i].key, st.own[i] ? st.own[i] : "queued",
		       made[i].audience, made[i].channel,
		       made[i].recipient ? made[i].recipient : "-");
		free(st.own[i]);
	}
	free(st.own);
	free(st.order);
}

/* Sends what was queued in queue, with inline retries; returns 0 once
 * every delivery is final, else the exit code (after a message). */
static int drive(struct store *db, struct send_ctx *sc, const char *queue,
		 const struct send_opts *o, struct engine **out)
{
	/* Inline retries: 1 s doubling, 5 attempts, unless the environment
	 * says otherwise. */
	struct outbox_policy pol;
	outbox_policy_default(&pol);
	if (!getenv("HERALD_RETRY_BASE_MS"))
		pol.base_ms = 1000;
	if (!getenv("HERALD_RETRY_MAX_ATTEMPTS"))
		pol.max_attempts = 5;
	pol.cap_ms = 30000 > pol.base_ms ? 30000 : pol.base_ms;
	const char *env = getenv("HERALD_BASE_URL");
	struct engine_opts eo = { .store = db, .queue = queue, .dry_run = o->dry_run,
				  .base_url = o->base_url ? o->base_url : env && *env ? env : NULL,
				  .keys = the_keys, .plan = the_plan, .ctx = sc, .policy = &pol };
	struct engine *e = engine_new(&eo);
	*out = e;
	catch_signals();
	struct herald_err err;
	herald_err_clear(&err);
	for (;;) {
		if (interrupted)
			return hand_over(e, db, queue);
		if (engine_step(e, clock_now(), 200, true, &err))
			return cli_fail(o->db, &err);
		if (engine_inflight(e) == 0 && store_outbox_open(db, queue) == 0)
			return 0;
	}
}

static int run(int argc, char **argv)
{
	struct send_opts o = { 0 };
	int rc = parse_args(argc, argv, &o);
	if (rc != OPTS_CONTINUE)
		return rc;
	cli_talks_to_servers();
	char *note_buf = NULL;
	if (o.note_file && !(note_buf = note_from_file(o.note_file, &rc)))
		return rc;
	struct plan *p;
	rc = cli_load_plan(o.plan, o.dry_run ? SECRETS_DEMO : SECRETS_REQUIRED, &p);
	if (rc) {
		free(note_buf);
		return rc;
	}
	struct herald_err err;
	herald_err_clear(&err);
	struct store *db = NULL;
	struct keyring *kr = NULL;
	struct outbox_made *made = NULL;
	size_t nmade = 0;
	struct engine *e = NULL;
	long ci = plan_comm_index(p, o.comm);
	if (ci < 0) {
		struct nearest nb = NEAREST(o.comm);
		for (size_t i = 0; i < p->ncomms; i++)
			nearest_offer(&nb, p->comms[i].id);
		const char *best = nb.best;
		cli_error("%s: no communication \"%s\" in the plan%s%s%s", o.plan, o.comm,
			  best ? " (did you mean \"" : "", best ? best : "", best ? "\"?)" : "");
		rc = H_EINVAL;
		goto out;
	}
	const char *user = getenv("USER");
	char via[160];
	snprintf(via, sizeof via, "CLI, user %s", user && *user ? user : "unknown");
	const char *env = getenv("HERALD_BASE_URL");
	struct outbox_manual m = {
		.by = o.by, .via = via, .note = note_buf ? note_buf : o.note, .drill = o.drill,
		.out_of_turn = o.out_of_turn, .dry_run = o.dry_run,
		.base_url = plan_base_url(p, o.base_url ? o.base_url : env, NULL),
	};
	const struct plan_comm *c = &p->comms[ci];
	/* Judged before the database is even opened: a refused send leaves
	 * nothing behind. */
	enum herald_rc hrc = outbox_manual_check(p, c, &m, &err);
	if (hrc == H_EUSAGE) {
		rc = cli_usage(&cmd_send, "%s", err.msg);
		goto out;
	}
	if (hrc) {
		cli_error("%s: %s", o.plan, err.msg);
		rc = hrc;
		goto out;
	}
	unsigned char rnd[8];
	random_bytes(rnd, sizeof rnd);
	char rh[17], queue[48], who[OUTBOX_BY_MAX + 200];
	hex_encode(rnd, sizeof rnd, rh);
	snprintf(queue, sizeof queue, "cli:%s", rh);
	outbox_requested_by(&m, who, sizeof who);

	/* A database is made only when named: run from another directory,
	 * the default made a second evidence log beside the service's,
	 * whose links and evidence that service never sees. */
	if (o.db == default_db && access(o.db, F_OK) != 0) {
		cli_error("database %s does not exist here: give the database `herald run` uses "
			  "(--db FILE), or --db %s to start a new one", o.db, o.db);
		rc = H_ERUNTIME;
		goto out;
	}
	struct store_open_opts so = { .create = true };
	int64_t due = clock_now();
	if ((hrc = store_open(o.db, &so, &db, &err))) {
		rc = cli_fail(o.db, &err);
		goto out;
	}
	if ((rc = cli_open_keys("send", db, o.keys, true, &kr)))
		goto out;
	hrc = record_plan_once(db, p, &err);
	if (!hrc)
		hrc = outbox_create_manual(db, p, c, due, &m, queue, &made, &nmade, &err);
	if (hrc) {
		rc = cli_fail(o.db, &err);
		goto out;
	}
	/* The note itself stays out of the log: it may name people. */
	log_event(LOG_INFO, "send.queued", "%s %s: %zu deliver%s%s, requested by %s, %s",
		  o.drill ? "drill of" : "send", o.comm, nmade, nmade == 1 ? "y" : "ies",
		  o.dry_run ? " (dry-run: recorded, not sent)" : "", who,
		  m.note ? "with a note" : "without a note");
	struct send_ctx sc = { p, kr };
	if ((rc = drive(db, &sc, queue, &o, &e)))
		goto out;
	print_result(db, o.comm, &m, due, made, nmade, engine_counters(e));
	rc = engine_counters(e)->failed ? H_ERUNTIME : 0;
out:
	engine_free(e);
	keys_close(kr);
	free(made);
	free(note_buf);
	store_close(db);
	plan_free(p);
	return rc;
}

const struct cmd cmd_send = { .spec = &send_spec, .run = run };
