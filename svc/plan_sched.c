/*
 * plan_sched.c - reading a communication's schedule (see plan_sched.h).
 */
#include "herald/plan_sched.h"

#include <stdlib.h>
#include <string.h>

#include "herald/timeutil.h"
#include "herald/tz.h"

static enum herald_rc get_local(struct pj *c, json_t *obj, const char *key,
				bool required, bool *has, int64_t *out)
{
	char *s = NULL;
	enum herald_rc rc = pj_get_string(c, obj, key, required, &s);
	if (has)
		*has = s != NULL;
	if (rc || !s)
		return rc;
	if (!parse_local(s, out))
		rc = PJ_FAIL_AT(c, key, "\"%.40s\" is not a local time YYYY-MM-DDTHH:MM[:SS] "
			     "(a real date, no offset: the time zone comes from the plan)", s);
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
	enum herald_rc rc = H_OK;
	if (!json_is_array(j)) {
		rc = pj_fail(c, "expected a list of local times, found %s", pj_kind(j));
		pj_pop(c, o);
		return rc;
	}
	*out = xcalloc(json_array_size(j) ? json_array_size(j) : 1, sizeof **out);
	size_t i;
	json_t *v;
	json_array_foreach(j, i, v) {
		size_t o2 = pj_push_index(c, i);
		char *s = NULL;
		rc = pj_string_value(c, v, &s);
		if (!rc && !parse_local(s, &(*out)[*n]))
			rc = pj_fail(c, "\"%.40s\" is not a local time YYYY-MM-DDTHH:MM[:SS]", s);
		for (size_t k = 0; !rc && k < *n; k++)
			if ((*out)[k] == (*out)[*n])
				rc = pj_fail(c, "\"%.40s\" is listed twice", s);
		free(s);
		pj_pop(c, o2);
		if (rc)
			break;
		(*n)++;
	}
	if (!rc)
		qsort(*out, *n, sizeof **out, cmp_i64);
	pj_pop(c, o);
	return rc;
}

static enum herald_rc load_schedule_common(struct pj *c, json_t *j,
					   struct schedule *s)
{
	char *dur = NULL;
	enum herald_rc rc = pj_get_string(c, j, "duration", false, &dur);
	s->duration = 1800;
	if (!rc && dur && (!parse_duration(dur, &s->duration) || s->duration == 0 ||
			   s->duration > 366 * 86400))
		rc = PJ_FAIL_AT(c, "duration", "\"%.40s\" is not a duration such as PT30M, PT1H or P1D",
			     dur);
	free(dur);
	if (!rc)
		rc = get_local(c, j, "until", false, &s->has_until, &s->until);
	if (!rc)
		rc = get_local_list(c, j, "except", &s->except, &s->nexcept);
	if (!rc)
		rc = pj_get_string(c, j, "timezone", false, &s->tzid);
	if (!rc && s->tzid) {
		s->tz = tz_get(s->tzid);
		if (!s->tz)
			rc = PJ_FAIL_AT(c, "timezone", "unknown time zone \"%.60s\" (an IANA name such as Europe/London)",
				     s->tzid);
	}
	if (!rc && !s->tz)
		s->tz = c->plan->tz;
	return rc;
}

enum herald_rc plan_sched_load(struct pj *c, json_t *j,
				    struct schedule *s)
{
	static const char *const keys[] = { "cadence", "rrule", "start", "at",
					    "trigger", "duration", "until",
					    "except", "timezone", NULL };
	size_t o = pj_push_key(c, "schedule");
	enum herald_rc rc = pj_want_object(c, j);
	if (!rc)
		rc = pj_check_keys(c, j, keys);
	if (rc)
		goto out;
	const char *kinds[] = { "cadence", "rrule", "at", "trigger" };
	int nk = 0;
	for (int i = 0; i < 4; i++)
		nk += json_object_get(j, kinds[i]) != NULL;
	if (nk != 1) {
		rc = pj_fail(c, nk ? "give exactly one of cadence, rrule, at or trigger"
				: "needs one of cadence, rrule, at or trigger");
		goto out;
	}
	if (json_object_get(j, "trigger")) {
		char *t = NULL;
		s->kind = SCHED_MANUAL;
		rc = pj_get_string(c, j, "trigger", true, &t);
		if (!rc && strcmp(t, "manual") != 0)
			rc = PJ_FAIL_AT(c, "trigger", "\"%.40s\" is not a trigger (only \"manual\")", t);
		free(t);
		if (!rc && json_object_size(j) > 1) {
			const char *k;
			json_t *v;
			json_object_foreach(j, k, v)
				if (strcmp(k, "trigger") != 0 && strncmp(k, "x-", 2) != 0) {
					rc = PJ_FAIL_AT(c, k, "a manual trigger takes no \"%s\"", k);
					break;
				}
		}
		goto out;
	}
	rc = load_schedule_common(c, j, s);
	if (rc)
		goto out;
	if (json_object_get(j, "at")) {
		s->kind = SCHED_AT;
		if (json_object_get(j, "start")) {
			rc = PJ_FAIL_AT(c, "start", "\"at\" lists its own times; \"start\" does not apply");
			goto out;
		}
		rc = get_local_list(c, j, "at", &s->at, &s->nat);
		if (!rc && s->nat == 0)
			rc = PJ_FAIL_AT(c, "at", "the list of times is empty");
		goto out;
	}
	s->kind = SCHED_RRULE;
	rc = get_local(c, j, "start", true, NULL, &s->start);
	if (rc)
		goto out;
	if (s->has_until && s->until < s->start) {
		rc = PJ_FAIL_AT(c, "until", "is before start");
		goto out;
	}
	const char *key = json_object_get(j, "cadence") ? "cadence" : "rrule";
	char *text = NULL;
	rc = pj_get_string(c, j, key, true, &text);
	if (rc)
		goto out;
	const char *rule = text;
	if (strcmp(key, "cadence") == 0) {
		rule = sched_cadence_rule(text);
		if (!rule) {
			rc = PJ_FAIL_AT(c, key, "unknown cadence \"%.40s\" (daily, weekly, fortnightly, "
				     "monthly, quarterly, semiannually or annually)", text);
			free(text);
			goto out;
		}
		s->cadence = xstrdup(text);
	}
	struct herald_err e;
	herald_err_clear(&e);
	if (sched_compile_rule(s, rule, &e))
		rc = PJ_FAIL_AT(c, key, "%s", e.msg);
	free(text);
out:
	pj_pop(c, o);
	return rc;
}

