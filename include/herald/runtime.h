/*
 * runtime.h - what the running service shares between its parts (HTTP
 * handlers, the dispatcher, reloads).
 *
 * The current plan is swapped atomically on reload.  Plans are never freed
 * while the service runs (reloads are rare and a plan is small), so a
 * pointer read from rt->plan stays valid for the life of the process; the
 * runtime frees them all at exit.
 *
 * Conditions: any part of the service may say it is degraded (the
 * database refuses writes, a member source is down, deliveries are stuck,
 * the plan changed without approval) by name, with a reason; /healthz is
 * "degraded" while any is set and lists them.
 */
#ifndef HERALD_RUNTIME_H
#define HERALD_RUNTIME_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "herald/plan.h"

struct buf;
struct keyring;
struct store;
struct planver_verdict;

struct runtime {
	struct store *store;
	_Atomic(const struct plan *) plan;
	/* What the approval rule (planver.h) says of the plan in force: set
	 * with it, kept as long as plans are. */
	_Atomic(const struct planver_verdict *) approval;
	bool dry_run;
	const char *base_url;   /* --base-url, no trailing '/'; NULL: the plan's */
	const char *listen_url; /* http://LISTEN: the base when neither says one */
	int64_t started;        /* instant the service started */
	/* The keys of tokens and checkpoints: swapped when the key directory
	 * changes (a rotation); kept, like plans, until exit. */
	_Atomic(const struct keyring *) keys;
	/* Degraded conditions (runtime_condition); guarded by cond_lock. */
	pthread_mutex_t cond_lock;
	struct runtime_condition {
		char name[48];
		char reason[200];
	} conds[16];
	size_t nconds;
};

/* Initialises the parts of rt that need it (the condition lock). */
void runtime_init(struct runtime *rt);
void runtime_done(struct runtime *rt);

/*
 * Sets (reason non-NULL) or clears (NULL) the degraded condition name.
 * Thread-safe; the reason must not hold a secret.
 */
void runtime_condition(struct runtime *rt, const char *name, const char *reason);

/* True if the condition name is set. */
bool runtime_has_condition(struct runtime *rt, const char *name);

/* Appends a JSON array of {"what", "reason"} of the conditions set, and
 * returns how many. */
size_t runtime_conditions_json(struct runtime *rt, struct buf *out);

static inline const struct plan *runtime_plan(struct runtime *rt)
{
	return atomic_load(&rt->plan);
}

/* The public base URL of links under plan p: --base-url, else the plan's
 * base_url, else http://LISTEN (see plan_base_url). */
static inline const char *runtime_base_url(const struct runtime *rt, const struct plan *p)
{
	return plan_base_url(p, rt->base_url, rt->listen_url);
}

static inline const struct keyring *runtime_keys(struct runtime *rt)
{
	return atomic_load(&rt->keys);
}

#endif
