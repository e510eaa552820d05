/*
 * plan_sched.c - reading a communication's schedule (see plan_sched.h).
 */
#include "herald/plan_sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/timeutil.h"
#include "herald/tz.h"

/* Fails at the current path: s is not a LOCAL time, and why. */
static enum herald_rc bad_local(struct pj *c, const char *s)
{
	char why[200];
	if (explain_local(s, why, sizeof why))
		snprintf(why, sizeof why, "not a real date and time");
	return pj_fail(c, "\"%.40s\" is not a local time YYYY-MM-DDTHH:MM[:SS]: %s", s, why);
}

static enum herald_rc get_local(struct pj *c, json_t *obj, const char *key,
				bool required, bool *has, int64_t *out)
{
	char *s = NULL;
	enum herald_rc rc = pj_get_string(c, obj, key, required, &s);
	if (rc || !s)
		return rc;
	if (parse_local(s, out)) {
		if (has)
			*has = true;
	} else {
		size_t o = pj_push_key(c, key);
		rc = bad_local(c, s);
		pj_pop(c, o);
	}
	free(s);
	return rc;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static enum herald_rc get_local_list(struct pj *c, json_t *obj,
				     const char *key, int64_t **out, size_t *n)
{
	json_t *j = json_object_get(obj, key);
	if (!j)
		return H_OK;
	size_t o = pj_push_key(c, key);
	size_t before = c->nerrors;
	if (!json_is_array(j)) {
		pj_fail(c, "expected a list of local times, found %s", pj_kind(j));
		pj_pop(c, o);
		return H_EINVAL;
	}
	*out = xcalloc(json_array_size(j) ? json_array_size(j) : 1, sizeof **out);
	size_t i;
	json_t *v;
	json_array_foreach(j, i, v) {
		if (pj_full(c))
			break;
		size_t o2 = pj_push_index(c, i);
		char *s = NULL;
		int64_t w = 0;
		bool ok = pj_string_value(c, v, &s) == H_OK;
		if (ok && !parse_local(s, &w)) {
			bad_local(c, s);
			ok = false;
		}
		for (size_t k = 0; ok && k < *n; k++)
			if ((*out)[k] == w) {
				pj_fail(c, "\"%.40s\" is listed twice", s);
				ok = false;
			}
		if (ok)
			(*out)[(*n)++] = w;
		free(s);
		pj_pop(c, o2);
	}
	qsort(*out, *n, sizeof **out, cmp_i64);
	pj_pop(c, o);
	return pj_since(c, before);
}

static enum herald_rc load_schedule_common(struct pj *c, json_t *j,
					   struct schedule *s)
{
	size_t before = c->nerrors;
	char *dur = NULL;
	s->duration = 1800;
	if (!pj_get_string(c, j, "duration", false, &dur) && dur &&
	    (!parse_duration(dur, &s->duration) || s->duration == 0 ||
	     s->duration > 366 * 86400))
		PJ_FAIL_AT(c, "duration", "\"%.40s\" is not a duration such as PT30M, PT1H or P1D",
			   dur);
	free(dur);
	get_local(c, j, "until", false, &s->has_until, &s->until);
	get_local_list(c, j, "except", &s->except, &s->nexcept);
	if (!pj_get_string(c, j, "timezone", false, &s->tzid) && s->tzid) {
		s->tz = tz_get(s->tzid);
		if (!s->tz)
			PJ_FAIL_AT(c, "timezone", "unknown time zone \"%.60s\" (an IANA name such as Europe/London)",
				   s->tzid);
	}
	if (!s->tz)
		s->tz = c->plan->tz;
	return pj_since(c, before);
}

/* keys: the schedule's; unknown ones have their error already. */
static enum herald_rc load_manual(struct pj *c, json_t *j, struct schedule *s,
				  const char *const *keys)
{
	size_t before = c->nerrors;
	char *t = NULL;
	s->kind = SCHED_MANUAL;
	if (!pj_get_string(c, j, "trigger", true, &t) && strcmp(t, "manual") != 0)
		PJ_FAIL_AT(c, "trigger", "\"%.40s\" is not a trigger (only \"manual\")", t);
	free(t);
	const char *k;
	json_t *v;
	json_object_foreach(j, k, v) {
		bool known = false;
		for (const char *const *a = keys; *a; a++)
			known |= strcmp(*a, k) == 0;
		if (known && strcmp(k, "trigger") != 0)
			PJ_FAIL_AT(c, k, "a manual trigger takes no \"%s\"", k);
	}
	return pj_since(c, before);
}

static enum herald_rc load_at(struct pj *c, json_t *j, struct schedule *s)
{
	size_t before = c->nerrors;
	s->kind = SCHED_AT;
	if (json_object_get(j, "start"))
		PJ_FAIL_AT(c, "start", "\"at\" lists its own times; \"start\" does not apply");
	if (!get_local_list(c, j, "at", &s->at, &s->nat) && s->nat == 0)
		PJ_FAIL_AT(c, "at", "the list of times is empty");
	return pj_since(c, before);
}

/* A cadence or an RRULE from a start; the rule is compiled only when the
 * start is known (its meaning depends on it). */
static enum herald_rc load_rule(struct pj *c, json_t *j, struct schedule *s)
{
	size_t before = c->nerrors;
	s->kind = SCHED_RRULE;
	bool has_start = false;
	get_local(c, j, "start", true, &has_start, &s->start);
	if (has_start && s->has_until && s->until < s->start)
		PJ_FAIL_AT(c, "until", "is before start");
	const char *key = json_object_get(j, "cadence") ? "cadence" : "rrule";
	char *text = NULL;
	if (pj_get_string(c, j, key, true, &text))
		return H_EINVAL;
	const char *rule = text;
	if (strcmp(key, "cadence") == 0) {
		rule = sched_cadence_rule(text);
		if (!rule)
			PJ_FAIL_AT(c, key, "unknown cadence \"%.40s\" (daily, weekly, fortnightly, "
				   "monthly, quarterly, semiannually or annually)", text);
		else
			s->cadence = xstrdup(text);
	}
	struct herald_err e;
	herald_err_clear(&e);
	if (rule && has_start && sched_compile_rule(s, rule, &e))
		PJ_FAIL_AT(c, key, "%s", e.msg);
	free(text);
	return pj_since(c, before);
}

enum herald_rc plan_sched_load(struct pj *c, json_t *j, struct schedule *s)
{
	static const char *const keys[] = { "cadence", "rrule", "start", "at",
					    "trigger", "duration", "until",
					    "except", "timezone", NULL };
	size_t o = pj_push_key(c, "schedule");
	size_t before = c->nerrors;
	if (pj_want_object(c, j))
		goto out;
	pj_check_keys(c, j, keys);
	const char *kinds[] = { "cadence", "rrule", "at", "trigger" };
	int nk = 0;
	for (int i = 0; i < 4; i++)
		nk += json_object_get(j, kinds[i]) != NULL;
	if (nk != 1) {
		pj_fail(c, nk ? "give exactly one of cadence, rrule, at or trigger"
			      : "needs one of cadence, rrule, at or trigger");
		goto out;
	}
	if (json_object_get(j, "trigger")) {
		load_manual(c, j, s, keys);
		goto out;
	}
	load_schedule_common(c, j, s);
	if (json_object_get(j, "at"))
		load_at(c, j, s);
	else
		load_rule(c, j, s);
out:
	pj_pop(c, o);
	return pj_since(c, before);
}
