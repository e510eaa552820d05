/*
 * plan_members.h - an audience's "members": inline lists, CSV files and
 * LDAP directories (for plan.c; other callers read struct plan_members
 * and the member list through plan.h).
 *
 * Loading is in two steps.  plan_members_load() reads the "members" value
 * while the audience is walked: the source's keys are checked (an LDAP
 * URL, filter and DN without contacting anything) and inline lists are
 * built.  plan_members_resolve() runs once the walk is done: it reads the
 * CSV files and, when opts->resolve is set and the plan is otherwise
 * valid, the directories, with the previous plan's lists standing in for
 * sources that fail or are not due (plan_load_opts).
 */
#ifndef HERALD_PLAN_MEMBERS_H
#define HERALD_PLAN_MEMBERS_H

#include "herald/plan_json.h"

/* Loads j (the audience's "members", NULL when absent) into a. */
enum herald_rc plan_members_load(struct pj *c, json_t *j, struct plan_audience *a);

/*
 * Reads the sources of every audience of c->plan; rc is the walk's result
 * so far (directories are contacted only when it is H_OK).  Returns the
 * load's result: rc, or H_EINVAL for a bad file, H_ERUNTIME for a
 * directory that could not be read (each error reported through pj_fail
 * at the audience's members path).
 */
enum herald_rc plan_members_resolve(struct pj *c, enum herald_rc rc);

/* Replaces a bind password written literally under each audience of the
 * tree (the "audiences" object) by "[redacted]" (plan_canonical_json). */
void plan_members_redact(json_t *audiences);

/* Frees what the two put in a. */
void plan_members_free(struct plan_audience *a);

#endif
