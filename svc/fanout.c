/* fanout.c - whom a communication reaches (see fanout.h). */
#include "herald/fanout.h"

#include "herald/plan.h"
#include "herald/plan_chan.h"

/* Targets of c within audience a. */
static enum herald_rc each_in(const struct plan *p, const struct plan_comm *c,
			      const struct plan_audience *a, fanout_fn fn, void *ctx,
			      int64_t *count)
{
	for (size_t d = 0; d < a->ndeliver; d++) {
		const struct plan_deliver *dl = &a->deliver[d];
		if (!plan_comm_uses_channel(c, dl->channel))
			continue;
		struct fanout_target t = { a, &p->channels[dl->channel], NULL, NULL, false };
		size_t n = dl->to == TO_LIST ? dl->naddrs : dl->to == TO_MEMBERS ? a->nmembers : 1;
		if (count) {
			*count += (int64_t)n;
			continue;
		}
		t.personal = dl->to == TO_MEMBERS;
		for (size_t k = 0; k < n; k++) {
			if (dl->to == TO_LIST) {
				t.recipient = dl->addrs[k];
			} else if (dl->to == TO_MEMBERS) {
				t.recipient = a->members[k].email;
				t.recipient_name = a->members[k].name;
			}
			enum herald_rc rc = fn(&t, ctx);
			if (rc)
				return rc;
		}
	}
	return H_OK;
}

enum herald_rc fanout_each(const struct plan *p, const struct plan_comm *c,
			   fanout_fn fn, void *ctx)
{
	for (size_t i = 0; i < c->naudiences; i++) {
		enum herald_rc rc = each_in(p, c, &p->audiences[c->audiences[i]], fn, ctx, NULL);
		if (rc)
			return rc;
	}
	return H_OK;
}

int64_t fanout_count(const struct plan *p, const struct plan_comm *c,
		     const struct plan_audience *a)
{
	int64_t n = 0;
	each_in(p, c, a, NULL, NULL, &n);
	return n;
}

/* Drill targets of one channel ch for audience a. */
static enum herald_rc drill_through(const struct plan_drill *d, const struct plan_audience *a,
				    const struct plan_channel *ch, fanout_fn fn, void *ctx,
				    int64_t *count)
{
	struct fanout_target t = { a, ch, NULL, NULL, false };
	size_t n = ch->type->addressed ? d->nto : 1;
	if (count) {
		*count += (int64_t)n;
		return H_OK;
	}
	for (size_t k = 0; k < n; k++) {
		t.recipient = ch->type->addressed ? d->to[k] : NULL;
		enum herald_rc rc = fn(&t, ctx);
		if (rc)
			return rc;
	}
	return H_OK;
}

static enum herald_rc drill_each(const struct plan *p, const struct plan_comm *c,
				 fanout_fn fn, void *ctx, int64_t *count)
{
	const struct plan_drill *d = plan_comm_drill(p, c);
	if (!d)
		return H_OK;
	for (size_t i = 0; i < c->naudiences; i++) {
		const struct plan_audience *a = &p->audiences[c->audiences[i]];
		enum herald_rc rc = H_OK;
		if (d->channels_given) {
			for (size_t k = 0; !rc && k < d->nchannels; k++)
				rc = drill_through(d, a, &p->channels[d->channels[k]], fn, ctx, count);
		} else {
			/* each email channel once, even when two deliver entries use it */
			for (size_t k = 0; !rc && k < a->ndeliver; k++) {
				size_t ch = a->deliver[k].channel;
				bool seen = false;
				for (size_t e = 0; e < k; e++)
					seen |= a->deliver[e].channel == ch;
				if (!seen && p->channels[ch].type->addressed &&
				    plan_comm_uses_channel(c, ch))
					rc = drill_through(d, a, &p->channels[ch], fn, ctx, count);
			}
		}
		if (rc)
			return rc;
	}
	return H_OK;
}

enum herald_rc fanout_drill_each(const struct plan *p, const struct plan_comm *c,
				 fanout_fn fn, void *ctx)
{
	return drill_each(p, c, fn, ctx, NULL);
}

int64_t fanout_drill_count(const struct plan *p, const struct plan_comm *c)
{
	int64_t n = 0;
	drill_each(p, c, NULL, NULL, &n);
	return n;
}
