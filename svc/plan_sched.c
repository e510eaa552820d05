/*
 * plan_sched.c - reading a communication's schedule (see plan_sched.h).
 */
#include "herald/plan_sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/plan_holidays.h"
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

/*
 * One LOCAL time, or for an all-day communication a date (its midnight):
 * s is the string at the current path.
 */
static bool when_value(struct pj *c, const struct schedule *sc, const char *s,
		       int64_t *out)
{
	if (!sc->all_day) {
		if (parse_local(s, out))
			return true;
		bad_local(c, s);
		return false;
	}
	if (parse_date(s, out))
		return true;
	char why[200];
	if (parse_local(s, out))
		pj_fail(c, "\"%.40s\" has a time, but the communication is all_day: give a date YYYY-MM-DD",
			s);
	else if (!explain_date(s, why, sizeof why))
		pj_fail(c, "\"%.40s\" is not a date YYYY-MM-DD: %s", s, why);
	else
		pj_fail(c, "\"%.40s\" is not a date YYYY-MM-DD", s);
	return false;
}

static enum herald_rc get_local(struct pj *c, const struct schedule *sc, json_t *obj,
				const char *key, bool required, bool *has, int64_t *out)
{
	char *s = NULL;
	enum herald_rc rc = pj_get_string(c, obj, key, required, &s);
	if (rc || !s)
		return rc;
	size_t o = pj_push_key(c, key);
	if (when_value(c, sc, s, out)) {
		if (has)
			*has = true;
	} else {
		rc = H_EINVAL;
	}
	pj_pop(c, o);
	free(s);
	return rc;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static enum herald_rc get_local_list(struct pj *c, const struct schedule *sc, json_t *obj,
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
		bool ok = pj_string_value(c, v, &s) == H_OK && when_value(c, sc, s, &w);
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
	s->duration = s->all_day ? 86400 : 1800;
	if (!pj_get_string(c, j, "duration", false, &dur) && dur) {
		if (!parse_duration(dur, &s->duration) || s->duration == 0 ||
		    s->duration > 366 * 86400)
			PJ_FAIL_AT(c, "duration", "\"%.40s\" is not a duration such as PT30M, PT1H or P1D",
				   dur);
		else if (s->all_day && s->duration % 86400)
			PJ_FAIL_AT(c, "duration", "\"%.40s\": an all-day event lasts whole days, such as P1D or P2D",
				   dur);
	}
	free(dur);
	get_local(c, s, j, "until", false, &s->has_until, &s->until);
	get_local_list(c, s, j, "except", &s->except, &s->nexcept);
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

/* "holidays": "file:X.ics" or a list of dates, into days. */
static enum herald_rc load_holidays(struct pj *c, json_t *h, int32_t **days, size_t *n)
{
	size_t o = pj_push_key(c, "holidays");
	size_t before = c->nerrors;
	if (json_is_string(h) && strncmp(json_string_value(h), "file:", 5) == 0) {
		char msg[HERALD_ERR_LEN];
		if (plan_holidays_load(c->file, json_string_value(h) + 5, days, n, msg,
				       sizeof msg))
			pj_fail(c, "%s", msg);
	} else if (json_is_array(h)) {
		*days = xcalloc(json_array_size(h) + 1, sizeof **days);
		size_t i;
		json_t *v;
		json_array_foreach(h, i, v) {
			size_t o2 = pj_push_index(c, i);
			char *d = NULL, why[160];
			int64_t wall;
			if (!pj_string_value(c, v, &d)) {
				if (parse_date(d, &wall))
					(*days)[(*n)++] = (int32_t)(wall / 86400);
				else if (!explain_date(d, why, sizeof why))
					pj_fail(c, "\"%.40s\" is not a date YYYY-MM-DD: %s", d, why);
				else
					pj_fail(c, "\"%.40s\" is not a date YYYY-MM-DD", d);
			}
			free(d);
			pj_pop(c, o2);
		}
	} else {
		pj_fail(c, "expected \"file:HOLIDAYS.ics\" or a list of dates YYYY-MM-DD");
	}
	pj_pop(c, o);
	return pj_since(c, before);
}

/* "shift" and "holidays": occurrences on non-working days move. */
static enum herald_rc load_shift(struct pj *c, json_t *j, struct schedule *s)
{
	static const char *const names[] = { "next-working-day", "previous-working-day" };
	size_t before = c->nerrors;
	char *shift = NULL;
	json_t *h = json_object_get(j, "holidays");
	if (pj_get_string(c, j, "shift", false, &shift))
		return H_EINVAL;
	if (!shift) {
		if (h)
			PJ_FAIL_AT(c, "holidays", "holidays only matter with \"shift\" "
				   "(next-working-day or previous-working-day)");
		return pj_since(c, before);
	}
	enum sched_shift kind = SHIFT_NONE;
	for (int i = 0; i < 2; i++)
		if (strcmp(shift, names[i]) == 0)
			kind = i == 0 ? SHIFT_NEXT : SHIFT_PREVIOUS;
	if (kind == SHIFT_NONE)
		PJ_FAIL_AT(c, "shift", "\"%.40s\" is not a shift (next-working-day or "
			   "previous-working-day)", shift);
	free(shift);
	int32_t *days = NULL;
	size_t n = 0;
	if (h)
		load_holidays(c, h, &days, &n);
	struct herald_err e;
	herald_err_clear(&e);
	if (kind != SHIFT_NONE && pj_since(c, before) == H_OK &&
	    sched_set_shift(s, kind, days, n, &e))
		PJ_FAIL_AT(c, h ? "holidays" : "shift", "%s", e.msg);
	free(days);
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
			PJ_FAIL_AT(c, k, "a manual trigger takes no \"%s\"%s", k,
				   strcmp(k, "shift") == 0 || strcmp(k, "holidays") == 0
					   ? ": it goes out when it is triggered, working day or not" : "");
	}
	return pj_since(c, before);
}

static enum herald_rc load_at(struct pj *c, json_t *j, struct schedule *s)
{
	size_t before = c->nerrors;
	s->kind = SCHED_AT;
	if (json_object_get(j, "start"))
		PJ_FAIL_AT(c, "start", "\"at\" lists its own times; \"start\" does not apply");
	if (!get_local_list(c, s, j, "at", &s->at, &s->nat) && s->nat == 0)
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
	get_local(c, s, j, "start", true, &has_start, &s->start);
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
	else if (rule && has_start && sched_freq_is_subdaily(s->rule_freq))
		/* herald's expander has them; a plan has no use for them. */
		PJ_FAIL_AT(c, key, "sub-daily frequency FREQ=%s is not supported: plan "
			   "communications at most daily (BYHOUR may add times within a day)",
			   s->rule_freq == SCHED_HOURLY ? "HOURLY" :
			   s->rule_freq == SCHED_MINUTELY ? "MINUTELY" : "SECONDLY");
	else if (rule && has_start && s->all_day &&
		 (s->rule.hours != 1u || s->rule.minutes != 1u || s->rule.seconds != 1u))
		PJ_FAIL_AT(c, key, "an all-day communication has no times of day (no BYHOUR, "
			   "BYMINUTE or BYSECOND)");
	free(text);
	return pj_since(c, before);
}

enum herald_rc plan_sched_load(struct pj *c, json_t *j, struct schedule *s)
{
	static const char *const keys[] = { "cadence", "rrule", "start", "at",
					    "trigger", "duration", "until",
					    "except", "timezone", "shift",
					    "holidays", NULL };
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
	load_shift(c, j, s);
out:
	pj_pop(c, o);
	return pj_since(c, before);
}
