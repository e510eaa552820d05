/*
 * runtime.h - what the running service shares between its parts (HTTP
 * handlers, the dispatcher, reloads).
 *
 * The current plan is swapped atomically on reload.  Plans are never freed
 * while the service runs (reloads are rare and a plan is small), so a
 * pointer read from rt->plan stays valid for the life of the process; the
 * runtime frees them all at exit.
 */
#ifndef HERALD_RUNTIME_H
#define HERALD_RUNTIME_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "herald/plan.h"

struct store;

struct runtime {
	struct store *store;
	_Atomic(const struct plan *) plan;
	bool dry_run;
	const char *base_url;   /* --base-url, no trailing '/'; NULL: the plan's */
	const char *listen_url; /* http://LISTEN: the base when neither says one */
	int64_t started;        /* instant the service started */
	unsigned char key[32];  /* server key (tokens) */
};

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

#endif
