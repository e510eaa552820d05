/*
 * dispatcher.c - the delivery engine of `herald run` (see dispatcher.h).
 *
 * One thread: at start it returns claims a dead process left in flight to
 * the queue (they are re-sent flagged as possible duplicates), then loops:
 * materialise the deliveries falling due within the horizon (every minute
 * and on every plan change; after downtime from where the last run
 * stopped, so what fell due meanwhile is sent late or recorded missed),
 * and run one engine round.  A manual send (web_api.c, an HTTP thread)
 * is queued through dispatcher_send_manual, which wakes the loop.
 */
#include "herald/clock.h"
#include "herald/dispatcher.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "herald/engine.h"
#include "herald/log.h"
#include "herald/outbox.h"
#include "herald/plan.h"
#include "herald/runtime.h"
#include "herald/store.h"
#include "herald/util.h"

#define MATERIALISE_EVERY 60
#define CATCHUP_MAX (35 * 86400)
#define META_HORIZON "outbox_materialised_to"

struct dispatcher {
	struct runtime *rt;
	pthread_t thread;
	atomic_bool stop, plan_changed;
	struct engine *e;
	struct outbox_policy pol;
	pthread_mutex_t lock;          /* guards stats */
	struct store_outbox_stats stats;
	struct engine_counters counters;
	/* The database refusing writes: consecutive failures (0: healthy);
	 * the count since start is the store's (store_write_errors). */
	atomic_int failing;
};

/* A failing database is logged once a minute at most, with a count. */
static struct log_limit db_errors = LOG_LIMIT_INIT(60000);

static const struct keyring *current_keys(void *ctx)
{
	struct dispatcher *d = ctx;
	return runtime_keys(d->rt);
}

static const struct plan *current_plan(void *ctx)
{
	struct dispatcher *d = ctx;
	return runtime_plan(d->rt);
}

/*
 * A write the database refused (disk full, I/O error, read-only): logged
 * at most once a minute with a count, shown on /healthz and /metrics; the
 * loop backs off (db_backoff) and tries again by itself.
 */
static void db_failed(struct dispatcher *d, const struct herald_err *err)
{
	atomic_fetch_add(&d->failing, 1);
	runtime_condition(d->rt, "database", "writes to the evidence database fail; deliveries "
			  "wait and nothing is lost (see the log)");
	log_event_limited(&db_errors, LOG_ERROR, "database.error", "%s; retrying with backoff",
			  err->msg);
}

static void db_healthy(struct dispatcher *d)
{
	if (atomic_exchange(&d->failing, 0) == 0)
		return;
	runtime_condition(d->rt, "database", NULL);
	log_event(LOG_INFO, "database.recovered", "writes to the evidence database work again");
}

/* Waits after failures: 0.2 s doubling up to 30 s, woken by stop. */
static void db_backoff(struct dispatcher *d)
{
	int n = atomic_load(&d->failing);
	if (!n)
		return;
	int64_t ms = 200;
	for (int i = 1; i < n && ms < 30000; i++)
		ms *= 2;
	if (ms > 30000)
		ms = 30000;
	for (int64_t end = clock_mono_ms() + ms; clock_mono_ms() < end && !atomic_load(&d->stop);) {
		struct timespec ts = { 0, 50 * 1000000 };
		nanosleep(&ts, NULL);
	}
}

/* True when it could write (the database's health probe too). */
static bool materialise(struct dispatcher *d, int64_t now)
{
	struct store *db = d->rt->store;
	int64_t last = now;
	bool found = store_meta_get_i64(db, META_HORIZON, &last);
	int64_t from = found && last < now ? last : now;
	if (from < now - CATCHUP_MAX)
		from = now - CATCHUP_MAX;
	int64_t to = now + d->pol.horizon;
	struct herald_err err;
	herald_err_clear(&err);
	size_t made = 0;
	if (outbox_materialise(db, runtime_plan(d->rt), from, to, &made, &err) ||
	    store_meta_set_i64(db, META_HORIZON, to, &err)) {
		db_failed(d, &err);
		return false;
	}
	db_healthy(d);
	if (made)
		log_event(LOG_INFO, "outbox.materialised", "%zu new deliver%s due before the horizon",
			made, made == 1 ? "y" : "ies");
	return true;
}

static void refresh_stats(struct dispatcher *d)
{
	struct store_outbox_stats s;
	if (store_outbox_stats(d->rt->store, clock_now(), &s, NULL))
		return;
	char why[160];
	snprintf(why, sizeof why, "%lld deliver%s in flight for more than 10 minutes",
		 (long long)s.stuck, s.stuck == 1 ? "y" : "ies");
	runtime_condition(d->rt, "deliveries-stuck", s.stuck ? why : NULL);
	snprintf(why, sizeof why, "%lld deliver%s due more than 5 minutes ago and not "
		 "being sent", (long long)s.overdue, s.overdue == 1 ? "y" : "ies");
	runtime_condition(d->rt, "deliveries-overdue", s.overdue ? why : NULL);
	pthread_mutex_lock(&d->lock);
	d->stats = s;
	d->counters = *engine_counters(d->e);
	pthread_mutex_unlock(&d->lock);
}

static void *loop(void *arg)
{
	struct dispatcher *d = arg;
	struct herald_err err;
	herald_err_clear(&err);
	int64_t next_mat = 0, next_stats = 0;
	if (outbox_recover(d->rt->store, clock_now(), true, NULL, &err))
		log_event(LOG_ERROR, "outbox.error", "%s", err.msg);
	while (!atomic_load(&d->stop)) {
		int64_t now = clock_now();
		/* While the database fails, every round probes it with a write. */
		if (atomic_exchange(&d->plan_changed, false) || now >= next_mat ||
		    atomic_load(&d->failing)) {
			if (materialise(d, now))
				next_mat = now + MATERIALISE_EVERY;
		}
		if (engine_step(d->e, now, 1000, true, &err)) {
			db_failed(d, &err);
			herald_err_clear(&err);
		}
		db_backoff(d);
		if (now >= next_stats) {
			/* A `herald send` that died (or was killed) leaves its
			 * deliveries behind: adopt them once its lease has run
			 * out, without waiting for a restart of the service. */
			if (outbox_recover(d->rt->store, now, false, NULL, &err)) {
				log_event(LOG_ERROR, "outbox.error", "%s", err.msg);
				herald_err_clear(&err);
			}
			refresh_stats(d);
			next_stats = now + 1;
		}
	}
	/* Stop taking work; give back what has not started; finish sends
	 * in flight (each bounded by the transfer timeout). */
	if (engine_release(d->e, &err))
		log_event(LOG_ERROR, "outbox.error", "%s", err.msg);
	for (int i = 0; engine_inflight(d->e) > 0 && i < 400; i++)
		if (engine_step(d->e, clock_now(), 100, false, &err))
			break;
	refresh_stats(d);
	return NULL;
}

enum herald_rc dispatcher_start(struct runtime *rt, struct dispatcher **out,
				struct herald_err *err)
{
	struct dispatcher *d = xcalloc(1, sizeof *d);
	d->rt = rt;
	outbox_policy_default(&d->pol);
	pthread_mutex_init(&d->lock, NULL);
	struct engine_opts eo = { .store = rt->store, .queue = "pending", .dry_run = rt->dry_run,
				  .base_url = rt->base_url, .base_default = rt->listen_url,
				  .keys = current_keys,
				  .plan = current_plan, .ctx = d };
	d->e = engine_new(&eo);
	if (pthread_create(&d->thread, NULL, loop, d) != 0) {
		engine_free(d->e);
		free(d);
		return herald_err_set(err, H_ERUNTIME, "cannot start the dispatcher thread");
	}
	*out = d;
	return H_OK;
}

void dispatcher_plan_changed(struct dispatcher *d)
{
	atomic_store(&d->plan_changed, true);
	engine_wakeup(d->e);
}

void dispatcher_stop(struct dispatcher *d)
{
	if (!d)
		return;
	atomic_store(&d->stop, true);
	engine_wakeup(d->e);
	pthread_join(d->thread, NULL);
	engine_free(d->e);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

void dispatcher_health(struct dispatcher *d, struct buf *out)
{
	pthread_mutex_lock(&d->lock);
	struct store_outbox_stats s = d->stats;
	pthread_mutex_unlock(&d->lock);
	buf_printf(out, "\"pending\":%lld,\"inflight\":%lld,\"sent\":%lld,\"failed\":%lld,"
			"\"missed\":%lld,\"cancelled\":%lld",
		   (long long)s.pending, (long long)s.inflight, (long long)s.sent,
		   (long long)s.failed, (long long)s.missed, (long long)s.cancelled);
}

void dispatcher_metrics(struct buf *out, void *arg)
{
	struct dispatcher *d = arg;
	pthread_mutex_lock(&d->lock);
	struct store_outbox_stats s = d->stats;
	struct engine_counters c = d->counters;
	pthread_mutex_unlock(&d->lock);
	buf_adds(out, "# HELP herald_deliveries Deliveries in the outbox by state.\n"
		      "# TYPE herald_deliveries gauge\n");
	const struct { const char *k; int64_t v; } rows[] = {
		{ "pending", s.pending }, { "inflight", s.inflight }, { "sent", s.sent },
		{ "failed", s.failed }, { "missed", s.missed }, { "cancelled", s.cancelled },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		buf_printf(out, "herald_deliveries{state=\"%s\"} %lld\n", rows[i].k,
			   (long long)rows[i].v);
	buf_printf(out, "# HELP herald_delivery_attempts_total Send attempts since start.\n"
			"# TYPE herald_delivery_attempts_total counter\n"
			"herald_delivery_attempts_total %lld\n"
			"# HELP herald_delivery_retries_total Attempts that will be retried.\n"
			"# TYPE herald_delivery_retries_total counter\n"
			"herald_delivery_retries_total %lld\n"
			"# HELP herald_database_write_errors_total Writes the evidence database refused.\n"
			"# TYPE herald_database_write_errors_total counter\n"
			"herald_database_write_errors_total %lld\n",
		   (long long)c.attempts, (long long)c.retried,
		   (long long)store_write_errors(d->rt->store));
}

enum herald_rc dispatcher_send_manual(struct dispatcher *d, const struct plan *p,
				      const struct plan_comm *c, const struct outbox_manual *m,
				      struct outbox_made **made, size_t *n,
				      struct herald_err *err)
{
	enum herald_rc rc = outbox_create_manual(d->rt->store, p, c, clock_now(), m, "pending",
						 made, n, err);
	if (!rc)
		engine_wakeup(d->e);
	return rc;
}
