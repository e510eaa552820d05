/*
 * plan_sched.h - a communication's "schedule" member: reading and
 * compiling it into a struct schedule (for plan.c; see sched.h).
 */
#ifndef HERALD_PLAN_SCHED_H
#define HERALD_PLAN_SCHED_H

#include "herald/plan_json.h"
#include "herald/sched.h"

/*
 * Loads j, a communication's "schedule" (c's path is the
 * communication's), into s: exactly one of cadence, rrule, at or trigger,
 * with the common options, LOCAL times checked as real dates, the rule
 * compiled.  The zone is the schedule's own or the plan's (c->plan->tz,
 * already loaded).  On failure s may hold parts: sched_clear() frees them.
 */
enum herald_rc plan_sched_load(struct pj *c, json_t *j, struct schedule *s);

#endif
