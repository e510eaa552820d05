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

struct store;
struct plan;
struct planver_verdict;

struct runtime {
	struct store *store;
	_Atomic(const struct plan *) plan;
	/* What the approval rule (planver.h) says of the plan in force: set
	 * with it, kept as long as plans are. */
	_Atomic(const struct planver_verdict *) approval;
	bool dry_run;
	const char *base_url;   /* public base URL for links, no trailing '/' */
	int64_t started;        /* instant the service started */
	unsigned char key[32];  /* server key (tokens) */
};

static inline const struct plan *runtime_plan(struct runtime *rt)
{
	return atomic_load(&rt->plan);
}

#endif
