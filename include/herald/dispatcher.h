/*
 * dispatcher.h - the delivery engine of `herald run`: materialises due
 * deliveries into the outbox, sends them through the channels with
 * retries, records every fact as evidence.  Runs on its own thread.
 */
#ifndef HERALD_DISPATCHER_H
#define HERALD_DISPATCHER_H

#include <stdint.h>

#include "herald/err.h"
#include "herald/util.h"

struct runtime;
struct httpd;
struct plan;

struct dispatcher;

/* Starts the dispatcher thread over rt (borrowed, outlives it). */
enum herald_rc dispatcher_start(struct runtime *rt, struct dispatcher **out,
				struct herald_err *err);

/* The plan changed (rt->plan already swapped): materialise under it. */
void dispatcher_plan_changed(struct dispatcher *d);

/* Adds POST /api/communications/ID/send to the server. */
void dispatcher_routes(struct dispatcher *d, struct httpd *h);

/* Appends Prometheus lines (pending, sent, failed, missed, …). */
void dispatcher_metrics(struct buf *out, void *d);

/* Appends JSON members for /healthz, e.g. "\"failed\":0,\"pending\":3". */
void dispatcher_health(struct dispatcher *d, struct buf *out);

/* Stops taking work, finishes in-flight sends, joins.  d is freed. */
void dispatcher_stop(struct dispatcher *d);

#endif
