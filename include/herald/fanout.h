/*
 * fanout.h - whom one occurrence of a communication reaches: every
 * (audience, channel, recipient) it makes a message for.  The outbox
 * creates one delivery per target and the report counts what was planned
 * with the same rule, so planned and created can never drift apart.
 */
#ifndef HERALD_FANOUT_H
#define HERALD_FANOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "herald/err.h"

struct plan;
struct plan_comm;
struct plan_audience;
struct plan_channel;

struct fanout_target {
	const struct plan_audience *a;
	const struct plan_channel *ch;
	const char *recipient;        /* NULL: the channel itself */
	const char *recipient_name;   /* members only */
	bool personal;                /* one message per member ("to": "members") */
};

typedef enum herald_rc (*fanout_fn)(const struct fanout_target *t, void *ctx);

/* Calls fn for every target of c, audience by audience in plan order;
 * stops at the first non-H_OK return and returns it. */
enum herald_rc fanout_each(const struct plan *p, const struct plan_comm *c,
			   fanout_fn fn, void *ctx);

/*
 * The targets of a drill of c (plan_comm_drill): for each audience of c,
 * the drill's channels, or without "channels" the email channels c uses
 * for that audience; email ones to each drill address, the others as they
 * are.  Same contract as fanout_each; nothing is called when c has no
 * drill.
 */
enum herald_rc fanout_drill_each(const struct plan *p, const struct plan_comm *c,
				 fanout_fn fn, void *ctx);

/* How many messages a drill of c makes (0: c has no drill recipients). */
int64_t fanout_drill_count(const struct plan *p, const struct plan_comm *c);

/* How many messages one occurrence of c makes for audience a. */
int64_t fanout_count(const struct plan *p, const struct plan_comm *c,
		     const struct plan_audience *a);

#endif
