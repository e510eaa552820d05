/*
 * agenda.h - the occurrences of a plan over a window, sorted by start.
 */
#ifndef HERALD_AGENDA_H
#define HERALD_AGENDA_H

#include <stddef.h>
#include <stdint.h>

#include "herald/err.h"
#include "herald/sched.h"

struct plan;
struct plan_comm;

struct agenda_item {
	struct occurrence o;
	size_t comm;           /* index into plan->comms */
};

/*
 * Expands every scheduled communication of p whose start is in [from, to),
 * keeping those that include audience (an index, or -1 for all).  Sorted by
 * start, then by the communication's position in the plan.  On success
 * *items (caller frees) and *n are set.  Fails with H_EINVAL if a rule hits
 * the expansion bound.
 */
enum herald_rc agenda_collect(const struct plan *p, int64_t from, int64_t to,
			      long audience, struct agenda_item **items,
			      size_t *n, struct herald_err *err);

/*
 * The channels communication c is delivered through: each audience's
 * deliver channels, limited by c's "channels", in plan order, without
 * repeats.  Writes at most p->nchannels indexes to out; returns the count.
 */
size_t agenda_comm_channels(const struct plan *p, const struct plan_comm *c,
			    size_t *out);

#endif
