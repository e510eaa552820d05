/* agenda.c - occurrences of a plan over a window (see agenda.h). */
#include "herald/agenda.h"

#include <stdint.h>
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

/*
 * Sorts by start, then by collection order (the communication's position,
 * then its expansion order: two wall times that meet at one instant after
 * a gap stay in wall order).  A stable LSD radix sort of (start, index)
 * keys, 11 bits a pass, then one permutation: a year of a large plan is
 * hundreds of thousands of items, where qsort's comparisons and moves of
 * whole items were a fifth of `agenda`.
 */
struct sort_key {
	uint64_t k;                  /* start - the earliest start */
	size_t i;
};

static void sort_items(struct agenda_item **items, size_t n)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	for (size_t i = 0; i < n; i++) {
		if ((*items)[i].o.start < lo)
			lo = (*items)[i].o.start;
		if ((*items)[i].o.start > hi)
			hi = (*items)[i].o.start;
	}
	struct sort_key *a = xcalloc(n, sizeof *a), *b = xcalloc(n, sizeof *b);
	for (size_t i = 0; i < n; i++)
		a[i] = (struct sort_key){ (uint64_t)(*items)[i].o.start - (uint64_t)lo, i };
	uint64_t range = (uint64_t)hi - (uint64_t)lo;
	for (int shift = 0; shift < 64 && (range >> shift); shift += 11) {
		size_t count[2049] = { 0 };
		for (size_t i = 0; i < n; i++)
			count[(a[i].k >> shift & 2047) + 1]++;
		for (size_t d = 1; d < 2049; d++)
			count[d] += count[d - 1];
		for (size_t i = 0; i < n; i++)
			b[count[a[i].k >> shift & 2047]++] = a[i];
		struct sort_key *t = a;
		a = b;
		b = t;
	}
	struct agenda_item *out = xcalloc(n, sizeof *out);
	for (size_t i = 0; i < n; i++)
		out[i] = (*items)[a[i].i];
	free(a);
	free(b);
	free(*items);
	*items = out;
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
		sort_items(&c.items, c.n);
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
