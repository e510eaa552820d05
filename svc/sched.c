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
	struct icaltimetype t;
	tz_fill_icaltime(wall, &t);
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

/* ---------- herald's own expansion of the common rule shapes ---------- */

/*
 * libical 3.0.16 as Debian builds it drives every iterator step through an
 * ICU calendar; that was two thirds of `agenda` on a large plan.  The rule
 * shapes plans use are expanded here by calendar arithmetic, period by
 * period (RFC 5545 §3.3.10: BYMONTH limits or expands, BYMONTHDAY and BYDAY
 * expand within the month or limit, BYSETPOS picks from each period's set),
 * and without COUNT the expansion starts at the period of the window
 * instead of DTSTART.  The recurrence vectors and the dateutil oracle check
 * this against independent expansions; test_sched also runs every vector
 * through libical to show the two paths agree.
 */

enum { F_DAILY = 1, F_WEEKLY, F_MONTHLY, F_YEARLY };

/* libical weekdays are 1 = Sunday … 7 = Saturday; herald's 0 = Monday. */
static int wd_from_ical(int w)
{
	return (w + 5) % 7;
}

/* Fills s->fast if herald can expand r itself; leaves on = false if not. */
static void fast_compile(struct sched_fast *f, const struct icalrecurrencetype *r)
{
	memset(f, 0, sizeof *f);
	switch (r->freq) {
	case ICAL_DAILY_RECURRENCE: f->freq = F_DAILY; break;
	case ICAL_WEEKLY_RECURRENCE: f->freq = F_WEEKLY; break;
	case ICAL_MONTHLY_RECURRENCE: f->freq = F_MONTHLY; break;
	case ICAL_YEARLY_RECURRENCE: f->freq = F_YEARLY; break;
	default: return;
	}
	if (has(r->by_second) || has(r->by_minute) || has(r->by_hour) ||
	    has(r->by_year_day) || has(r->by_week_no) || r->rscale)
		return;
	f->interval = r->interval;
	f->wkst = r->week_start == ICAL_NO_WEEKDAY ? 0
						  : (unsigned char)wd_from_ical(r->week_start);
	for (int i = 0; r->by_month[i] != ICAL_RECURRENCE_ARRAY_MAX; i++) {
		int m = r->by_month[i];
		if (m < 1 || m > 12)
			return;   /* leap months (RSCALE) */
		f->months |= 1u << m;
	}
	for (int i = 0; r->by_month_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++) {
		if (f->nmdays == sizeof f->mdays || abs(r->by_month_day[i]) > 31 ||
		    r->by_month_day[i] == 0)
			return;
		f->mdays[f->nmdays++] = (signed char)r->by_month_day[i];
	}
	for (int i = 0; r->by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++) {
		int pos = icalrecurrencetype_day_position(r->by_day[i]);
		int wd = icalrecurrencetype_day_day_of_week(r->by_day[i]);
		/* Ordinals belong to MONTHLY and YEARLY only (RFC 5545). */
		if (f->ndays == sizeof f->days / sizeof f->days[0] || wd < 1 || wd > 7 ||
		    abs(pos) > 53 || (pos && f->freq <= F_WEEKLY))
			return;
		f->days[f->ndays].ord = (signed char)pos;
		f->days[f->ndays].wd = (unsigned char)wd_from_ical(wd);
		f->ndays++;
	}
	for (int i = 0; r->by_set_pos[i] != ICAL_RECURRENCE_ARRAY_MAX; i++) {
		if (f->nsetpos == sizeof f->setpos / sizeof f->setpos[0] ||
		    r->by_set_pos[i] == 0)
			return;
		f->setpos[f->nsetpos++] = r->by_set_pos[i];
	}
	if (f->nmdays && f->freq == F_WEEKLY)
		return;   /* refused earlier; never reached */
	if (f->nmdays && f->freq == F_YEARLY && !f->months)
		return;
	f->on = true;
}

static bool mday_match(const struct sched_fast *f, int mday, int dim)
{
	for (int i = 0; i < f->nmdays; i++) {
		int v = f->mdays[i];
		if (v == mday || (v < 0 && dim + v + 1 == mday))
			return true;
	}
	return false;
}

/* day in [first, last] (days since the epoch): BYDAY with ordinals there. */
static bool wday_match(const struct sched_fast *f, int64_t day, int64_t first,
		       int64_t last)
{
	int wd = weekday_from_days(day);
	for (int i = 0; i < f->ndays; i++) {
		if (f->days[i].wd != wd)
			continue;
		int ord = f->days[i].ord;
		if (ord == 0 || (ord > 0 && (day - first) / 7 + 1 == ord) ||
		    (ord < 0 && (last - day) / 7 + 1 == -ord))
			return true;
	}
	return false;
}

/* Candidate days of one month (MONTHLY, or YEARLY with BYMONTH). */
static size_t month_days(const struct sched_fast *f, int y, int m, int sday,
			 int64_t *out, size_t n)
{
	int dim = days_in_month(y, m);
	int64_t first = days_from_civil(y, m, 1), last = first + dim - 1;
	if (!f->nmdays && !f->ndays) {
		if (sday <= dim)
			out[n++] = first + sday - 1;
		return n;
	}
	for (int d = 1; d <= dim; d++) {
		if (f->nmdays && !mday_match(f, d, dim))
			continue;
		if (f->ndays && !wday_match(f, first + d - 1, first, last))
			continue;
		out[n++] = first + d - 1;
	}
	return n;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* BYSETPOS over one period's sorted set, in place; returns the new count. */
static size_t apply_setpos(const struct sched_fast *f, int64_t *c, size_t n)
{
	int64_t pick[64];
	size_t k = 0;
	for (int i = 0; i < f->nsetpos; i++) {
		long idx = f->setpos[i] > 0 ? f->setpos[i] - 1 : (long)n + f->setpos[i];
		if (idx >= 0 && (size_t)idx < n)
			pick[k++] = c[idx];
	}
	qsort(pick, k, sizeof *pick, cmp_i64);
	size_t m = 0;
	for (size_t i = 0; i < k; i++)
		if (!m || pick[i] != c[m - 1])
			c[m++] = pick[i];
	return m;
}

/*
 * The candidate days (sorted, days since the epoch) of period p counted
 * from DTSTART's period; sd is DTSTART's day.  Returns the count, or -1 past
 * year 9999.  out has room for 366 days.
 */
static long fast_period(const struct sched_fast *f, int64_t sd, int64_t p,
			int64_t *out)
{
	int sy, sm, sday;
	civil_from_days(sd, &sy, &sm, &sday);
	size_t n = 0;
	int64_t step = p * f->interval;
	switch (f->freq) {
	case F_DAILY: {
		int64_t d = sd + step;
		int y, m, dd;
		civil_from_days(d, &y, &m, &dd);
		if (y > 9999)
			return -1;
		if ((f->months && !(f->months >> m & 1)) ||
		    (f->nmdays && !mday_match(f, dd, days_in_month(y, m))) ||
		    (f->ndays && !wday_match(f, d, d, d)))
			return 0;
		out[n++] = d;
		break;
	}
	case F_WEEKLY: {
		int64_t ws = sd - (weekday_from_days(sd) - f->wkst + 7) % 7 + 7 * step;
		int swd = weekday_from_days(sd);
		for (int i = 0; i < 7; i++) {
			int64_t d = ws + i;
			int y, m, dd;
			civil_from_days(d, &y, &m, &dd);
			if (y > 9999)
				return -1;
			if (f->ndays ? !wday_match(f, d, d, d) : weekday_from_days(d) != swd)
				continue;
			if (f->months && !(f->months >> m & 1))
				continue;
			out[n++] = d;
		}
		break;
	}
	case F_MONTHLY: {
		int64_t mi = (int64_t)sy * 12 + (sm - 1) + step;
		int y = (int)(mi / 12), m = (int)(mi % 12) + 1;
		if (y > 9999)
			return -1;
		if (f->months && !(f->months >> m & 1))
			return 0;
		n = month_days(f, y, m, sday, out, 0);
		break;
	}
	case F_YEARLY: {
		int64_t yy = sy + step;
		if (yy > 9999)
			return -1;
		int y = (int)yy;
		if (f->months) {
			for (int m = 1; m <= 12; m++)
				if (f->months >> m & 1)
					n = month_days(f, y, m, sday, out, n);
		} else if (f->ndays) {
			int64_t first = days_from_civil(y, 1, 1);
			int64_t last = days_from_civil(y, 12, 31);
			for (int64_t d = first; d <= last; d++)
				if (wday_match(f, d, first, last))
					out[n++] = d;
		} else {
			n = month_days(f, y, sm, sday, out, 0);
		}
		break;
	}
	}
	if (f->nsetpos)
		n = apply_setpos(f, out, n);
	return (long)n;
}

/* The first period that can hold a day >= `day` (0 if day is before sd). */
static int64_t fast_first_period(const struct sched_fast *f, int64_t sd,
				 int64_t day)
{
	if (day <= sd)
		return 0;
	int sy, sm, sd_, y, m, d;
	civil_from_days(sd, &sy, &sm, &sd_);
	civil_from_days(day, &y, &m, &d);
	int64_t units;
	switch (f->freq) {
	case F_DAILY: units = day - sd; break;
	case F_WEEKLY: {
		int64_t ws = sd - (weekday_from_days(sd) - f->wkst + 7) % 7;
		units = (day - ws) / 7;
		break;
	}
	case F_MONTHLY: units = ((int64_t)y * 12 + m) - ((int64_t)sy * 12 + sm); break;
	default: units = y - sy; break;
	}
	return units / f->interval;
}

/* Periods in one 400-year Gregorian cycle: after them the calendar repeats. */
static int64_t fast_cycle(const struct sched_fast *f)
{
	static const int64_t cycle[] = { 0, 146097, 20871, 4800, 400 };
	return cycle[f->freq];
}

/*
 * Calls back(wall, ctx) for each occurrence in order, starting at the
 * period of wall time `from_wall` (or DTSTART with COUNT).  Returns 0 when
 * done or when back returns 1 (stop), back's other non-zero values, or -1
 * when more than max_periods periods were visited.
 */
typedef int (*fast_fn)(int64_t wall, void *ctx);

static int fast_expand(const struct sched_fast *f, int64_t start, int count,
		       int64_t from_wall, int64_t max_periods, fast_fn back,
		       void *ctx)
{
	int64_t sd = start >= 0 ? start / 86400 : -((-start + 86399) / 86400);
	int64_t tod = start - sd * 86400;
	int64_t p = count ? 0 : fast_first_period(f, sd,
			from_wall >= 0 ? from_wall / 86400 : -((-from_wall + 86399) / 86400));
	int64_t days[400];
	int emitted = 0;
	for (int64_t visited = 0;; p++, visited++) {
		if (visited >= max_periods)
			return -1;
		long n = fast_period(f, sd, p, days);
		if (n < 0)
			return 0;
		for (long i = 0; i < n; i++) {
			if (days[i] < sd)
				continue;
			int r = back(days[i] * 86400 + tod, ctx);
			if (r)
				return r == 1 ? 0 : r;
			if (count && ++emitted >= count)
				return 0;
		}
	}
}

static int fast_found(int64_t wall, void *ctx)
{
	(void)wall;
	*(bool *)ctx = true;
	return 1;
}

enum herald_rc sched_compile_rule(struct schedule *s, const char *rule,
				  struct herald_err *err)
{
	char *until = NULL;
	if (strncasecmp(rule, "RRULE:", 6) == 0)
		rule += 6;
	enum herald_rc rc = check_rule_text(rule, &until, err);
	if (rc) {
		free(until);   /* a later part may be bad after UNTIL was read */
		return rc;
	}
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
	fast_compile(&s->fast, &r);
	if (s->fast.on) {
		/* Nothing within one 400-year cycle means nothing ever. */
		bool found = false;
		fast_expand(&s->fast, s->start, 0, s->start, fast_cycle(&s->fast),
			    fast_found, &found);
		if (!found)
			return herald_err_set(err, H_EINVAL,
					      "the rule never produces an occurrence");
		return H_OK;
	}
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

struct fast_ctx {
	const struct schedule *s;
	int64_t from, to;
	sched_fn fn;
	void *ctx;
	int ret;
};

static int fast_emit(int64_t wall, void *ctx)
{
	struct fast_ctx *c = ctx;
	const struct schedule *s = c->s;
	if (wall - WALL_SLACK >= c->to || (s->has_until && wall > s->until) ||
	    (s->rule_has_until && wall - WALL_SLACK > s->rule_until))
		return 1;
	if (wall + WALL_SLACK < c->from)
		return 0;
	c->ret = emit(s, wall, c->from, c->to, c->fn, c->ctx);
	return c->ret ? 1 : 0;
}

static int expand_rule(const struct schedule *s, int64_t from, int64_t to,
		       sched_fn fn, void *ctx)
{
	if (s->fast.on) {
		struct fast_ctx c = { s, from, to, fn, ctx, 0 };
		int64_t from_wall = from > INT64_MIN / 2 ? from - WALL_SLACK : from;
		if (fast_expand(&s->fast, s->start, s->rule_count, from_wall,
				SCHED_MAX_STEPS, fast_emit, &c) < 0)
			return -1;
		return c.ret;
	}
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
