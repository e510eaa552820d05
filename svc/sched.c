/*
 * sched.c - schedule compilation and expansion (see sched.h).
 *
 * libical iterates the RRULE over floating (zone-less) times; herald then
 * applies UNTIL, "until", "except" and the zone itself.  Two libical 3.0.16
 * behaviours shape this file: a start that carries a zone makes the
 * iterator drift after a DST gap, and the iterator has no search bound, so
 * rules that can never match are refused up front.
 */
#include "herald/sched.h"

#include <libical/ical.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "herald/timeutil.h"
#include "herald/tz.h"
#include "herald/util.h"

static const struct {
	const char *name, *rule;
} cadences[] = {
	{ "daily", "FREQ=DAILY" },
	{ "weekly", "FREQ=WEEKLY" },
	{ "fortnightly", "FREQ=WEEKLY;INTERVAL=2" },
	{ "monthly", "FREQ=MONTHLY" },
	{ "quarterly", "FREQ=MONTHLY;INTERVAL=3" },
	{ "semiannually", "FREQ=MONTHLY;INTERVAL=6" },
	{ "annually", "FREQ=YEARLY" },
};

const char *sched_cadence_rule(const char *cadence)
{
	for (size_t i = 0; i < sizeof cadences / sizeof cadences[0]; i++)
		if (strcmp(cadence, cadences[i].name) == 0)
			return cadences[i].rule;
	return NULL;
}

static struct icaltimetype wall_to_ical(int64_t wall)
{
	struct civil c;
	secs_to_civil(wall, &c);
	struct icaltimetype t = icaltime_null_time();
	t.year = c.year;
	t.month = c.month;
	t.day = c.day;
	t.hour = c.hour;
	t.minute = c.min;
	t.second = c.sec;
	return t;
}

static int64_t ical_to_wall(struct icaltimetype t)
{
	struct civil c = { t.year, t.month, t.day, t.hour, t.minute, t.second };
	return civil_to_secs(&c);
}

/*
 * RFC 5545 §3.3.10 rule parts; libical accepts some misspellings silently,
 * and a typo must not change a schedule, so the text is checked first.
 */
static const char *const rule_parts[] = {
	"FREQ", "UNTIL", "COUNT", "INTERVAL", "BYSECOND", "BYMINUTE",
	"BYHOUR", "BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYMONTH",
	"BYSETPOS", "WKST",
};

static enum herald_rc check_rule_text(const char *rule, char **until_out,
				      struct herald_err *err)
{
	unsigned seen = 0;
	const char *p = rule;
	*until_out = NULL;
	if (!*rule)
		return herald_err_set(err, H_EINVAL, "empty RRULE");
	while (*p) {
		const char *semi = strchr(p, ';');
		size_t len = semi ? (size_t)(semi - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		if (!eq || eq == p || eq == p + len - 1)
			return herald_err_set(err, H_EINVAL,
					      "malformed rule part \"%.*s\" (want NAME=VALUE)",
					      (int)(len > 40 ? 40 : len), p);
		size_t nlen = (size_t)(eq - p);
		size_t k;
		for (k = 0; k < sizeof rule_parts / sizeof rule_parts[0]; k++)
			if (strlen(rule_parts[k]) == nlen &&
			    strncmp(rule_parts[k], p, nlen) == 0)
				break;
		if (k == sizeof rule_parts / sizeof rule_parts[0])
			return herald_err_set(err, H_EINVAL,
					      "unknown rule part \"%.*s\"",
					      (int)(nlen > 40 ? 40 : nlen), p);
		if (seen & (1u << k))
			return herald_err_set(err, H_EINVAL,
					      "rule part %s given twice",
					      rule_parts[k]);
		seen |= 1u << k;
		if (k == 1)
			*until_out = xstrndup(eq + 1, len - nlen - 1);
		p += len;
		if (*p == ';') {
			p++;
			if (!*p)
				return herald_err_set(err, H_EINVAL,
						      "trailing ';' in RRULE");
		}
	}
	if (!(seen & 1u))
		return herald_err_set(err, H_EINVAL, "RRULE has no FREQ");
	if ((seen & 2u) && (seen & 4u))
		return herald_err_set(err, H_EINVAL,
				      "RRULE has both UNTIL and COUNT (RFC 5545 allows one)");
	return H_OK;
}

/* UNTIL must be a UTC date-time: YYYYMMDDTHHMMSSZ. */
static bool parse_until_utc(const char *s, int64_t *instant)
{
	struct civil c = { 0 };
	if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return false;
	for (int i = 0; i < 15; i++)
		if (i != 8 && (s[i] < '0' || s[i] > '9'))
			return false;
	c.year = atoi((char[]){ s[0], s[1], s[2], s[3], 0 });
	c.month = atoi((char[]){ s[4], s[5], 0 });
	c.day = atoi((char[]){ s[6], s[7], 0 });
	c.hour = atoi((char[]){ s[9], s[10], 0 });
	c.min = atoi((char[]){ s[11], s[12], 0 });
	c.sec = atoi((char[]){ s[13], s[14], 0 });
	if (c.year < 1900 || c.month < 1 || c.month > 12 || c.day < 1 ||
	    c.day > days_in_month(c.year, c.month) || c.hour > 23 ||
	    c.min > 59 || c.sec > 59)
		return false;
	*instant = civil_to_secs(&c);
	return true;
}

/* The rule libical iterates: as written, but without UNTIL. */
static struct icalrecurrencetype ical_rule(const char *text)
{
	icalerror_clear_errno();
	struct icalrecurrencetype r = icalrecurrencetype_from_string(text);
	r.until = icaltime_null_time();
	return r;
}

/*
 * Monthly day numbers that no listed month has (BYMONTH=2;BYMONTHDAY=30)
 * would make libical search for centuries; refuse them at once.
 */
static bool monthday_impossible(const struct icalrecurrencetype *r)
{
	if (r->by_month_day[0] == ICAL_RECURRENCE_ARRAY_MAX)
		return false;
	int maxlen = 0;
	if (r->by_month[0] == ICAL_RECURRENCE_ARRAY_MAX) {
		maxlen = 31;
	} else {
		for (int i = 0; r->by_month[i] != ICAL_RECURRENCE_ARRAY_MAX; i++) {
			int m = r->by_month[i];
			if (m >= 1 && m <= 12 && days_in_month(2000, m) > maxlen)
				maxlen = days_in_month(2000, m);
		}
	}
	for (int i = 0; r->by_month_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++) {
		int d = abs(r->by_month_day[i]);
		if (d >= 1 && d <= maxlen)
			return false;
	}
	return true;
}

static bool has(const short *by)
{
	return by[0] != ICAL_RECURRENCE_ARRAY_MAX;
}

/*
 * Rule shapes herald refuses (docs/recurrence.md lists them with the test
 * vectors behind each): those RFC 5545 §3.3.10 forbids, which dateutil
 * accepts leniently, and valid ones libical 3.0.16 expands wrongly, which
 * would otherwise silently produce other dates than the plan means.
 * Returns the reason, or NULL if the shape is fine.
 */
static const char *unsupported_shape(const struct icalrecurrencetype *r)
{
	bool yearly = r->freq == ICAL_YEARLY_RECURRENCE;
	if (has(r->by_week_no) && !yearly)
		return "BYWEEKNO is only allowed with FREQ=YEARLY (RFC 5545 §3.3.10)";
	if (has(r->by_week_no))
		return "BYWEEKNO is not supported: libical 3.0.16 expands it wrongly "
		       "(BYWEEKNO=1;BYDAY=MO yields a Tuesday, out of order); "
		       "use BYMONTH with BYDAY or BYMONTHDAY instead";
	if (has(r->by_year_day) && !yearly)
		return "BYYEARDAY is not allowed with FREQ=DAILY, WEEKLY or MONTHLY "
		       "(RFC 5545 §3.3.10); use FREQ=YEARLY";
	if (has(r->by_year_day) && has(r->by_month))
		return "BYYEARDAY together with BYMONTH is not supported: libical 3.0.16 "
		       "finds no occurrence for it; use BYMONTH with BYMONTHDAY";
	if (has(r->by_month_day) && r->freq == ICAL_WEEKLY_RECURRENCE)
		return "BYMONTHDAY is not allowed with FREQ=WEEKLY (RFC 5545 §3.3.10); "
		       "use FREQ=MONTHLY";
	if (has(r->by_month_day) && yearly && !has(r->by_month) &&
	    !has(r->by_year_day))
		return "FREQ=YEARLY with BYMONTHDAY needs BYMONTH: RFC 5545 means every "
		       "month, libical 3.0.16 only the start's month; list the months "
		       "(BYMONTH=…) or use FREQ=MONTHLY";
	if (has(r->by_set_pos) && (r->freq == ICAL_DAILY_RECURRENCE ||
				   r->freq == ICAL_WEEKLY_RECURRENCE))
		return "BYSETPOS with FREQ=DAILY or WEEKLY is not supported: "
		       "libical 3.0.16 ignores BYSETPOS there "
		       "(FREQ=WEEKLY;BYDAY=MO;BYSETPOS=2 gives every Monday)";
	if (r->freq == ICAL_DAILY_RECURRENCE && has(r->by_month_day))
		for (int i = 0; r->by_month_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
			if (r->by_month_day[i] < 0)
				return "a negative BYMONTHDAY with FREQ=DAILY is not supported: "
				       "libical 3.0.16 skips most of those days; "
				       "use FREQ=MONTHLY";
	if (has(r->by_set_pos) &&
	    (has(r->by_hour) || has(r->by_minute) || has(r->by_second)))
		return "BYSETPOS with BYHOUR, BYMINUTE or BYSECOND is not supported: "
		       "libical 3.0.16 ignores BYSETPOS or finds nothing when times "
		       "within a day are expanded";
	return NULL;
}

enum herald_rc sched_compile_rule(struct schedule *s, const char *rule,
				  struct herald_err *err)
{
	char *until = NULL;
	if (strncasecmp(rule, "RRULE:", 6) == 0)
		rule += 6;
	enum herald_rc rc = check_rule_text(rule, &until, err);
	if (rc)
		return rc;
	s->rule_has_until = false;
	if (until) {
		bool ok = parse_until_utc(until, &s->rule_until);
		free(until);
		if (!ok)
			return herald_err_set(err, H_EINVAL,
					      "UNTIL must be a UTC date-time such as 20271231T235959Z "
					      "(RFC 5545 §3.3.10: the start has a time zone)");
		s->rule_has_until = true;
	}
	struct icalrecurrencetype r = ical_rule(rule);
	if (r.freq == ICAL_NO_RECURRENCE || icalerrno != ICAL_NO_ERROR) {
		icalerror_clear_errno();
		return herald_err_set(err, H_EINVAL, "not a valid RRULE");
	}
	if (r.freq == ICAL_SECONDLY_RECURRENCE ||
	    r.freq == ICAL_MINUTELY_RECURRENCE ||
	    r.freq == ICAL_HOURLY_RECURRENCE)
		return herald_err_set(err, H_EINVAL,
				      "sub-daily frequency FREQ=%s is not supported: "
				      "plan communications at most daily (BYHOUR may add times within a day)",
				      icalrecur_freq_to_string(r.freq));
	if (r.interval < 1 || r.interval > 1000)
		return herald_err_set(err, H_EINVAL,
				      "INTERVAL must be between 1 and 1000");
	if (r.count < 0 || r.count > 100000)
		return herald_err_set(err, H_EINVAL,
				      "COUNT must be between 1 and 100000");
	const char *why = unsupported_shape(&r);
	if (why)
		return herald_err_set(err, H_EINVAL, "%s", why);
	if (monthday_impossible(&r))
		return herald_err_set(err, H_EINVAL,
				      "the rule never produces an occurrence "
				      "(no listed month has that day)");
	free(s->rrule);
	s->rrule = xstrdup(rule);
	s->rule_count = r.count;
	s->rule_freq = r.freq;
	s->rule_interval = r.interval;
	/* One step from the start proves libical can iterate it at all. */
	icalrecur_iterator *it = icalrecur_iterator_new(r, wall_to_ical(s->start));
	struct icaltimetype first = icaltime_null_time();
	if (it) {
		first = icalrecur_iterator_next(it);
		icalrecur_iterator_free(it);
	}
	icalerror_clear_errno();
	if (!it || icaltime_is_null_time(first))
		return herald_err_set(err, H_EINVAL,
				      "the rule never produces an occurrence "
				      "(or combines parts libical cannot expand)");
	return H_OK;
}

static bool is_excepted(const struct schedule *s, int64_t wall)
{
	size_t lo = 0, hi = s->nexcept;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->except[mid] < wall)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->nexcept && s->except[lo] == wall;
}

static void make_occurrence(const struct schedule *s, int64_t wall,
			    struct occurrence *o)
{
	unsigned f1 = 0, f2 = 0;
	o->planned_wall = wall;
	o->start = tz_wall_to_instant(s->tz, wall, &f1);
	/* Whole days are nominal (wall clock), the rest exact (RFC 5545). */
	int64_t days = s->duration / 86400, rest = s->duration % 86400;
	if (days)
		o->end = tz_wall_to_instant(s->tz, wall + days * 86400, &f2) + rest;
	else
		o->end = o->start + rest;
	o->start_offset = tz_offset(s->tz, o->start);
	o->end_offset = tz_offset(s->tz, o->end);
	o->wall_start = o->start + o->start_offset;
	o->wall_end = o->end + o->end_offset;
	o->flags = f1 | f2;
}

/* Offsets are within ±15 h, so a wall time this far past `to` is past it. */
#define WALL_SLACK (15 * 3600)

static int emit(const struct schedule *s, int64_t wall, int64_t from,
		int64_t to, sched_fn fn, void *ctx)
{
	if (is_excepted(s, wall))
		return 0;
	struct occurrence o;
	make_occurrence(s, wall, &o);
	if (s->rule_has_until && o.start > s->rule_until)
		return 0;
	if (o.start < from || o.start >= to)
		return 0;
	return fn(&o, ctx);
}

static int expand_at(const struct schedule *s, int64_t from, int64_t to,
		     sched_fn fn, void *ctx)
{
	for (size_t i = 0; i < s->nat; i++) {
		if (s->has_until && s->at[i] > s->until)
			break;
		int r = emit(s, s->at[i], from, to, fn, ctx);
		if (r)
			return r;
	}
	return 0;
}

static int expand_rule(const struct schedule *s, int64_t from, int64_t to,
		       sched_fn fn, void *ctx)
{
	struct icalrecurrencetype r = ical_rule(s->rrule);
	icalrecur_iterator *it = icalrecur_iterator_new(r, wall_to_ical(s->start));
	icalerror_clear_errno();
	if (!it)
		return 0;
	int ret = 0;
	for (long steps = 0;; steps++) {
		if (steps >= SCHED_MAX_STEPS) {
			ret = -1;
			break;
		}
		struct icaltimetype t = icalrecur_iterator_next(it);
		if (icaltime_is_null_time(t))
			break;
		int64_t wall = ical_to_wall(t);
		if (wall - WALL_SLACK >= to)
			break;
		if (s->has_until && wall > s->until)
			break;
		if (s->rule_has_until && wall - WALL_SLACK > s->rule_until)
			break;
		if (wall + WALL_SLACK < from)
			continue;
		ret = emit(s, wall, from, to, fn, ctx);
		if (ret)
			break;
	}
	icalrecur_iterator_free(it);
	icalerror_clear_errno();
	return ret;
}

int sched_expand(const struct schedule *s, int64_t from, int64_t to,
		 sched_fn fn, void *ctx)
{
	switch (s->kind) {
	case SCHED_AT:
		return expand_at(s, from, to, fn, ctx);
	case SCHED_RRULE:
		return expand_rule(s, from, to, fn, ctx);
	case SCHED_MANUAL:
		break;
	}
	return 0;
}

static int take_first(const struct occurrence *o, void *ctx)
{
	*(struct occurrence *)ctx = *o;
	return 1;
}

bool sched_next(const struct schedule *s, int64_t after, struct occurrence *o)
{
	/* Year 9999 is as far as LOCAL times go. */
	return sched_expand(s, after, 253402300799LL, take_first, o) == 1;
}

void sched_clear(struct schedule *s)
{
	free(s->cadence);
	free(s->rrule);
	free(s->at);
	free(s->except);
	free(s->tzid);
	memset(s, 0, sizeof *s);
}
