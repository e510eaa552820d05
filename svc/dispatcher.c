/*
 * dispatcher.c - PLACEHOLDER until the delivery engine lands: starts
 * nothing and sends nothing, so `herald run` can serve feeds meanwhile.
 */
#include "herald/dispatcher.h"

#include <stdlib.h>

#include "herald/util.h"

struct dispatcher {
	struct runtime *rt;
};

enum herald_rc dispatcher_start(struct runtime *rt, struct dispatcher **out,
				struct herald_err *err)
{
	(void)err;
	struct dispatcher *d = xcalloc(1, sizeof *d);
	d->rt = rt;
	*out = d;
	return H_OK;
}

void dispatcher_plan_changed(struct dispatcher *d)
{
	(void)d;
}

void dispatcher_routes(struct dispatcher *d, struct httpd *h)
{
	(void)d;
	(void)h;
}

void dispatcher_metrics(struct buf *out, void *d)
{
	(void)out;
	(void)d;
}

void dispatcher_health(struct dispatcher *d, struct buf *out)
{
	(void)d;
	(void)out;
}

void dispatcher_stop(struct dispatcher *d)
{
	free(d);
}
