/*
 * plan_channels.h - the "channels" member of a plan: loading and freeing
 * (for plan.c; other callers read struct plan_channel through plan.h).
 */
#ifndef HERALD_PLAN_CHANNELS_H
#define HERALD_PLAN_CHANNELS_H

#include "herald/plan_json.h"

/*
 * Loads j, the plan's "channels" object, into c->plan->channels.  Each
 * channel is checked by its type's rules; a failure names the path.
 */
enum herald_rc plan_channels_load(struct pj *c, json_t *j);

/*
 * In a plan's "channels" tree (modified in place), replaces every secret
 * written literally (a secret field of its type's row, header values)
 * with "[redacted]"; env:NAME references stay.
 */
void plan_channels_redact(json_t *channels);

/* Frees what plan_channels_load() put in p (secret values are wiped). */
void plan_channels_free(struct plan *p);

#endif
