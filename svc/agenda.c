/* agenda.c - occurrences of a plan over a window (see agenda.h). */
#include "herald/agenda.h"

#include <stdlib.h>
#include <string.h>

#include "herald/plan.h"
#include "herald/util.h"

struct collect {
	struct agenda_item *items;
	size_t n, cap;
	size_t comm;
};

static int collect_fn(const struct occurrence *o, void *ctx)
{
	struct collect *c = ctx;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		c->items = xreallocarray(c->items, c->cap, sizeof *c->items);
	}
	c->items[c->n].o = *o;
	c->items[c->n].comm = c->comm;
	c->n++;
	return 0;
}

static int cmp_items(const void *a, const void *b)
{
	const struct agenda_item *x = a, *y = b;
	if (x->o.start != y->o.start)
		return x->o.start < y->o.start ? -1 : 1;
	if (x->comm != y->comm)
		return x->comm < y->comm ? -1 : 1;
	/* Two wall times can meet at one instant after a gap: keep wall order. */
	return (x->o.planned_wall > y->o.planned_wall) -
	       (x->o.planned_wall < y->o.planned_wall);
}

static bool has_audience(const struct plan_comm *c, long a)
{
	if (a < 0)
		return true;
	for (size_t i = 0; i < c->naudiences; i++)
		if (c->audiences[i] == (size_t)a)
			return true;
	return false;
}

enum herald_rc agenda_collect(const struct plan *p, int64_t from, int64_t to,
			      long audience, struct agenda_item **items,
			      size_t *n, struct herald_err *err)
{
	struct collect c = { 0 };
	for (size_t i = 0; i < p->ncomms; i++) {
		if (!has_audience(&p->comms[i], audience))
			continue;
		c.comm = i;
		if (sched_expand(&p->comms[i].sched, from, to, collect_fn, &c) < 0) {
			free(c.items);
			return herald_err_set(err, H_EINVAL,
					      "communications[%zu].schedule: the rule needs more than %d steps "
					      "to cover the window; narrow it", i, SCHED_MAX_STEPS);
		}
	}
	if (c.n > 1)
		qsort(c.items, c.n, sizeof *c.items, cmp_items);
	*items = c.items;
	*n = c.n;
	return H_OK;
}

size_t agenda_comm_channels(const struct plan *p, const struct plan_comm *c,
			    size_t *out)
{
	size_t n = 0;
	for (size_t ch = 0; ch < p->nchannels; ch++) {
		if (!plan_comm_uses_channel(c, ch))
			continue;
		bool used = false;
		for (size_t i = 0; i < c->naudiences && !used; i++) {
			const struct plan_audience *a = &p->audiences[c->audiences[i]];
			for (size_t d = 0; d < a->ndeliver && !used; d++)
				used = a->deliver[d].channel == ch;
		}
		if (used)
			out[n++] = ch;
	}
	return n;
}
