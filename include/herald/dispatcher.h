/*
 * dispatcher.h - the delivery engine of `herald run`: materialises due
 * deliveries into the outbox, sends them through the channels with
 * retries, records every fact as evidence.  Runs on its own thread.
 */
#ifndef HERALD_DISPATCHER_H
#define HERALD_DISPATCHER_H

#include <stddef.h>
#include <stdint.h>

#include "herald/err.h"
#include "herald/util.h"

struct runtime;
struct plan;
struct plan_comm;
struct outbox_manual;
struct outbox_made;

struct dispatcher;

/* Starts the dispatcher thread over rt (borrowed, outlives it). */
enum herald_rc dispatcher_start(struct runtime *rt, struct dispatcher **out,
				struct herald_err *err);

/* The plan changed (rt->plan already swapped): materialise under it. */
void dispatcher_plan_changed(struct dispatcher *d);

/*
 * Queues the deliveries of manual send m (checked, outbox_manual_check)
 * of communication c of p (see outbox_create_manual) and wakes the loop
 * to send them.  Any thread.  *made gets the malloc'd array of the n
 * deliveries (caller frees).
 */
enum herald_rc dispatcher_send_manual(struct dispatcher *d, const struct plan *p,
				      const struct plan_comm *c, const struct outbox_manual *m,
				      struct outbox_made **made, size_t *n,
				      struct herald_err *err);

/* Appends Prometheus lines (pending, sent, failed, missed, …). */
void dispatcher_metrics(struct buf *out, void *d);

/* Appends JSON members for /healthz, e.g. "\"failed\":0,\"pending\":3". */
void dispatcher_health(struct dispatcher *d, struct buf *out);

/* Stops taking work, finishes in-flight sends, joins.  d is freed. */
void dispatcher_stop(struct dispatcher *d);

#endif
