/*
 * sched.c - schedule compilation and expansion (see sched.h).
 *
 * herald expands RRULEs itself, for every shape RFC 5545 §3.3.10 allows:
 * period by period (a year, month, week, day, hour, minute or second,
 * INTERVAL apart), the period's candidate days filtered by the BYxxx parts
 * (dateutil's defaults fill in what the rule leaves to DTSTART, so parts
 * only ever filter), times of day from BYHOUR x BYMINUTE x BYSECOND,
 * BYSETPOS over the period's sorted set, COUNT from DTSTART.  Without
 * COUNT, expansion starts at the period holding the window.
 *
 * libical is not used here: its iterator (3.0.16) mis-expands several
 * valid shapes (YEARLY BYWEEKNO, BYYEARDAY with BYMONTH, YEARLY BYMONTHDAY
 * without BYMONTH, BYSETPOS in DAILY or WEEKLY, negative BYMONTHDAY in
 * DAILY: docs/recurrence.md) and drives every step through an ICU
 * calendar.  The recurrence vectors (python-dateutil) and the oracle
 * (dateutil + zoneinfo, random rules) check this file.
 */
#include "herald/sched.h"

#include <stdio.h>
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

bool sched_freq_is_subdaily(int freq)
{
	return freq < SCHED_DAILY;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* ====================================================== parsing rules */

enum part {
	P_FREQ, P_UNTIL, P_COUNT, P_INTERVAL, P_BYSECOND, P_BYMINUTE, P_BYHOUR,
	P_BYDAY, P_BYMONTHDAY, P_BYYEARDAY, P_BYWEEKNO, P_BYMONTH, P_BYSETPOS,
	P_WKST, P_N
};

/* RFC 5545 §3.3.10 rule parts; a typo must not change a schedule. */
static const char *const part_names[P_N] = {
	"FREQ", "UNTIL", "COUNT", "INTERVAL", "BYSECOND", "BYMINUTE",
	"BYHOUR", "BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYMONTH",
	"BYSETPOS", "WKST",
};

static const char *const freq_names[] = {
	"SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY",
};

static const char *const day_names[] = { "MO", "TU", "WE", "TH", "FR", "SA", "SU" };

struct parsed {
	unsigned seen;             /* bit per enum part */
	int freq, interval, count, wkst;
	char until[24];
	int months[12], mdays[62], ydays[732], wnos[106], hours[24], minutes[60],
	    seconds[61], setpos[64];
	int nmonths, nmdays, nydays, nwnos, nhours, nminutes, nseconds, nsetpos;
	struct { int ord, wd; } days[56];
	int ndays;
};

static int day_index(const char *s)
{
	for (int i = 0; i < 7; i++)
		if (s[0] == day_names[i][0] && s[1] == day_names[i][1])
			return i;
	return -1;
}

/* A comma list of integers in [lo, hi]; `signed_ok`: also [-hi, -lo]. */
static enum herald_rc int_list(const char *name, const char *v, size_t len,
			       int lo, int hi, bool signed_ok, int *out,
			       int max, int *n, struct herald_err *err)
{
	const char *p = v, *end = v + len;
	*n = 0;
	while (p < end) {
		const char *q = memchr(p, ',', (size_t)(end - p));
		if (!q)
			q = end;
		int sign = 1;
		const char *d = p;
		if (signed_ok && (*d == '+' || *d == '-'))
			sign = *d++ == '-' ? -1 : 1;
		long x = 0;
		bool ok = d < q && q - d <= 7;
		for (const char *c = d; ok && c < q; c++)
			if (*c < '0' || *c > '9')
				ok = false;
			else
				x = x * 10 + (*c - '0');
		if (!ok || x < lo || x > hi || *n == max)
			return herald_err_set(err, H_EINVAL,
					      "%s value \"%.*s\" is not a number from %d to %d%s",
					      name, (int)(q - p > 12 ? 12 : q - p), p, lo, hi,
					      signed_ok ? " (or its negative)" : "");
		out[(*n)++] = sign * (int)x;
		p = q + (q < end);
		if (q < end && p == end)
			return herald_err_set(err, H_EINVAL, "%s ends with a comma", name);
	}
	return H_OK;
}

static enum herald_rc day_list(const char *v, size_t len, struct parsed *r,
			       struct herald_err *err)
{
	const char *p = v, *end = v + len;
	while (p < end) {
		const char *q = memchr(p, ',', (size_t)(end - p));
		if (!q)
			q = end;
		const char *d = p;
		int sign = 1, ord = 0;
		if (*d == '+' || *d == '-')
			sign = *d++ == '-' ? -1 : 1;
		while (d < q - 2 && *d >= '0' && *d <= '9' && ord < 100)
			ord = ord * 10 + (*d++ - '0');
		int wd = q - d == 2 ? day_index(d) : -1;
		bool has_ord = d > p + (sign < 0 || *p == '+');
		if (wd < 0 || (has_ord && (ord < 1 || ord > 53)) ||
		    (!has_ord && d != p) || r->ndays == 56)
			return herald_err_set(err, H_EINVAL,
					      "BYDAY value \"%.*s\" is not a weekday such as MO, 2TU or -1FR",
					      (int)(q - p > 12 ? 12 : q - p), p);
		r->days[r->ndays].ord = sign * ord;
		r->days[r->ndays].wd = wd;
		r->ndays++;
		p = q + (q < end);
		if (q < end && p == end)
			return herald_err_set(err, H_EINVAL, "BYDAY ends with a comma");
	}
	return H_OK;
}

static enum herald_rc part_value(struct parsed *r, enum part k, const char *v,
				 size_t len, struct herald_err *err)
{
	const char *name = part_names[k];
	int one;
	switch (k) {
	case P_FREQ:
		for (int i = 0; i < 7; i++)
			if (strlen(freq_names[i]) == len && memcmp(freq_names[i], v, len) == 0) {
				r->freq = i;
				return H_OK;
			}
		return herald_err_set(err, H_EINVAL,
				      "FREQ=%.*s is not a frequency (DAILY, WEEKLY, MONTHLY, YEARLY, …)",
				      (int)(len > 20 ? 20 : len), v);
	case P_UNTIL:
		snprintf(r->until, sizeof r->until, "%.*s", (int)(len > 20 ? 20 : len), v);
		return H_OK;
	case P_COUNT:
		if (int_list(name, v, len, 1, 100000, false, &r->count, 1, &one, err) ||
		    one != 1)
			return herald_err_set(err, H_EINVAL, "COUNT must be between 1 and 100000");
		return H_OK;
	case P_INTERVAL:
		if (int_list(name, v, len, 1, 1000000, false, &r->interval, 1, &one, err) ||
		    one != 1)
			return herald_err_set(err, H_EINVAL, "INTERVAL must be between 1 and 1000000");
		return H_OK;
	case P_WKST:
		r->wkst = len == 2 ? day_index(v) : -1;
		if (r->wkst < 0)
			return herald_err_set(err, H_EINVAL, "WKST=%.*s is not a weekday (MO … SU)",
					      (int)(len > 10 ? 10 : len), v);
		return H_OK;
	case P_BYSECOND:
		if (len == 2 && memcmp(v, "60", 2) == 0)
			return herald_err_set(err, H_EINVAL,
					      "BYSECOND=60 (a leap second) is not supported");
		return int_list(name, v, len, 0, 59, false, r->seconds, 60, &r->nseconds, err);
	case P_BYMINUTE:
		return int_list(name, v, len, 0, 59, false, r->minutes, 60, &r->nminutes, err);
	case P_BYHOUR:
		return int_list(name, v, len, 0, 23, false, r->hours, 24, &r->nhours, err);
	case P_BYDAY:
		return day_list(v, len, r, err);
	case P_BYMONTHDAY:
		return int_list(name, v, len, 1, 31, true, r->mdays, 62, &r->nmdays, err);
	case P_BYYEARDAY:
		return int_list(name, v, len, 1, 366, true, r->ydays, 732, &r->nydays, err);
	case P_BYWEEKNO:
		return int_list(name, v, len, 1, 53, true, r->wnos, 106, &r->nwnos, err);
	case P_BYMONTH:
		return int_list(name, v, len, 1, 12, false, r->months, 12, &r->nmonths, err);
	case P_BYSETPOS:
		return int_list(name, v, len, 1, 366, true, r->setpos, 64, &r->nsetpos, err);
	case P_N:
		break;
	}
	return H_OK;
}

static enum herald_rc parse_rule(const char *rule, struct parsed *r,
				 struct herald_err *err)
{
	memset(r, 0, sizeof *r);
	r->interval = 1;
	r->wkst = 0;
	if (!*rule)
		return herald_err_set(err, H_EINVAL, "empty RRULE");
	const char *p = rule;
	while (*p) {
		const char *semi = strchr(p, ';');
		size_t len = semi ? (size_t)(semi - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		if (!eq || eq == p || eq == p + len - 1)
			return herald_err_set(err, H_EINVAL,
					      "malformed rule part \"%.*s\" (want NAME=VALUE)",
					      (int)(len > 40 ? 40 : len), p);
		size_t nlen = (size_t)(eq - p);
		int k;
		for (k = 0; k < P_N; k++)
			if (strlen(part_names[k]) == nlen && strncmp(part_names[k], p, nlen) == 0)
				break;
		if (k == P_N)
			return herald_err_set(err, H_EINVAL, "unknown rule part \"%.*s\"",
					      (int)(nlen > 40 ? 40 : nlen), p);
		if (r->seen & (1u << k))
			return herald_err_set(err, H_EINVAL, "rule part %s given twice",
					      part_names[k]);
		r->seen |= 1u << k;
		enum herald_rc rc = part_value(r, (enum part)k, eq + 1, len - nlen - 1, err);
		if (rc)
			return rc;
		p += len;
		if (*p == ';') {
			p++;
			if (!*p)
				return herald_err_set(err, H_EINVAL, "trailing ';' in RRULE");
		}
	}
	if (!(r->seen & (1u << P_FREQ)))
		return herald_err_set(err, H_EINVAL, "RRULE has no FREQ");
	if ((r->seen & (1u << P_UNTIL)) && (r->seen & (1u << P_COUNT)))
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

#define HAS(r, k) (((r)->seen >> (k)) & 1u)

/*
 * What RFC 5545 §3.3.10 forbids (python-dateutil accepts some of it
 * leniently, with meanings of its own); docs/recurrence.md lists each with
 * the vectors behind it.  Returns the reason, or NULL.
 */
static const char *forbidden(const struct parsed *r)
{
	bool yearly = r->freq == SCHED_YEARLY;
	if (HAS(r, P_BYWEEKNO) && !yearly)
		return "BYWEEKNO is only allowed with FREQ=YEARLY (RFC 5545 §3.3.10)";
	if (HAS(r, P_BYYEARDAY) && (r->freq == SCHED_DAILY || r->freq == SCHED_WEEKLY ||
				    r->freq == SCHED_MONTHLY))
		return "BYYEARDAY is not allowed with FREQ=DAILY, WEEKLY or MONTHLY "
		       "(RFC 5545 §3.3.10); use FREQ=YEARLY";
	if (HAS(r, P_BYMONTHDAY) && r->freq == SCHED_WEEKLY)
		return "BYMONTHDAY is not allowed with FREQ=WEEKLY (RFC 5545 §3.3.10); "
		       "use FREQ=MONTHLY";
	for (int i = 0; i < r->ndays; i++) {
		if (r->days[i].ord && r->freq != SCHED_MONTHLY && !yearly)
			return "a BYDAY ordinal (2MO, -1FR) is only allowed with FREQ=MONTHLY "
			       "or YEARLY (RFC 5545 §3.3.10)";
		if (r->days[i].ord && yearly && HAS(r, P_BYWEEKNO))
			return "a BYDAY ordinal (2MO, -1FR) is not allowed together with "
			       "BYWEEKNO (RFC 5545 §3.3.10)";
	}
	unsigned by = (1u << P_BYSECOND) | (1u << P_BYMINUTE) | (1u << P_BYHOUR) |
		      (1u << P_BYDAY) | (1u << P_BYMONTHDAY) | (1u << P_BYYEARDAY) |
		      (1u << P_BYWEEKNO) | (1u << P_BYMONTH);
	if (HAS(r, P_BYSETPOS) && !(r->seen & by))
		return "BYSETPOS needs another BYxxx rule part to pick from (RFC 5545 §3.3.10)";
	return NULL;
}

static void set_bit64(uint64_t *a, int i)
{
	a[i / 64] |= 1ull << (i % 64);
}

/* The compiled rule, with dateutil's defaults from the start. */
static void compile(const struct parsed *r, int64_t start, struct sched_rule *f)
{
	memset(f, 0, sizeof *f);
	struct civil c;
	secs_to_civil(start, &c);
	int64_t sday = floor_div(start, 86400);
	f->freq = (unsigned char)r->freq;
	f->interval = r->interval;
	f->wkst = (unsigned char)r->wkst;
	for (int i = 0; i < r->nmonths; i++)
		f->months |= (uint16_t)(1u << r->months[i]);
	for (int i = 0; i < r->nmdays; i++) {
		if (r->mdays[i] > 0)
			f->mday_pos |= 1u << r->mdays[i];
		else
			f->mday_neg |= 1u << -r->mdays[i];
	}
	for (int i = 0; i < r->nwnos; i++) {
		if (r->wnos[i] > 0)
			f->wno_pos |= 1ull << r->wnos[i];
		else
			f->wno_neg |= 1ull << -r->wnos[i];
	}
	for (int i = 0; i < r->nydays; i++) {
		if (r->ydays[i] > 0)
			set_bit64(f->yday_pos, r->ydays[i]);
		else
			set_bit64(f->yday_neg, -r->ydays[i]);
	}
	for (int i = 0; i < r->ndays; i++) {
		if (!r->days[i].ord) {
			f->wdays |= (uint8_t)(1u << r->days[i].wd);
			continue;
		}
		f->nth[f->nnth].ord = (signed char)r->days[i].ord;
		f->nth[f->nnth].wd = (unsigned char)r->days[i].wd;
		f->nnth++;
	}
	for (int i = 0; i < r->nhours; i++)
		f->hours |= 1u << r->hours[i];
	for (int i = 0; i < r->nminutes; i++)
		f->minutes |= 1ull << r->minutes[i];
	for (int i = 0; i < r->nseconds; i++)
		f->seconds |= 1ull << r->seconds[i];
	f->by_month = r->nmonths > 0;
	f->by_mday = r->nmdays > 0;
	f->by_wno = r->nwnos > 0;
	f->by_yday = r->nydays > 0;
	f->by_hour = r->nhours > 0;
	f->by_minute = r->nminutes > 0;
	f->by_second = r->nseconds > 0;
	for (int i = 0; i < r->nsetpos; i++)
		f->setpos[f->nsetpos++] = (short)r->setpos[i];
	/* What the rule leaves to DTSTART (RFC 5545 §3.3.10, as dateutil). */
	if (!r->nwnos && !r->nydays && !r->nmdays && !r->ndays) {
		if (f->freq == SCHED_YEARLY) {
			if (!f->by_month)
				f->months = (uint16_t)(1u << c.month);
			f->by_month = true;
			f->mday_pos = 1u << c.day;
			f->by_mday = true;
		} else if (f->freq == SCHED_MONTHLY) {
			f->mday_pos = 1u << c.day;
			f->by_mday = true;
		} else if (f->freq == SCHED_WEEKLY) {
			f->wdays = (uint8_t)(1u << weekday_from_days(sday));
		}
	}
	if (!f->by_hour && f->freq >= SCHED_DAILY)
		f->hours = 1u << c.hour;
	if (!f->by_minute && f->freq >= SCHED_HOURLY)
		f->minutes = 1ull << c.min;
	if (!f->by_second && f->freq >= SCHED_MINUTELY)
		f->seconds = 1ull << c.sec;
}

/* ====================================================== expansion */

/* Week 1 of year y starts on this day (the first week with 4 days in y). */
static int64_t week1_start(int y, int wkst)
{
	int64_t jan1 = days_from_civil(y, 1, 1);
	int wd = (weekday_from_days(jan1) - wkst + 7) % 7;
	return wd <= 3 ? jan1 - wd : jan1 - wd + 7;
}

static bool weekno_match(const struct sched_rule *f, int64_t day, int y)
{
	int64_t w = week1_start(y, f->wkst), wn = week1_start(y + 1, f->wkst);
	int64_t base = w, next = wn;
	if (day < w) {
		next = w;
		base = week1_start(y - 1, f->wkst);
	} else if (day >= wn) {
		base = wn;
		next = week1_start(y + 2, f->wkst);
	}
	int no = (int)((day - base) / 7) + 1, nweeks = (int)((next - base) / 7);
	return (f->wno_pos >> no & 1) || (f->wno_neg >> (nweeks - no + 1) & 1);
}

/* BYDAY: a plain weekday, or an ordinal one within [first, last]. */
static bool wday_match(const struct sched_rule *f, int64_t day, int wd,
		       int64_t first, int64_t last)
{
	if (f->wdays >> wd & 1)
		return true;
	for (int i = 0; i < f->nnth; i++) {
		if (f->nth[i].wd != wd)
			continue;
		int ord = f->nth[i].ord;
		if ((ord > 0 && (day - first) / 7 + 1 == ord) ||
		    (ord < 0 && (last - day) / 7 + 1 == -ord))
			return true;
	}
	return false;
}

static bool bit64(const uint64_t *a, int i)
{
	return a[i / 64] >> (i % 64) & 1;
}

/* A candidate day with its calendar fields (the period loops keep them,
 * so no day is converted twice). */
struct cday {
	int64_t day;
	int y, m, d, dim;
	int wd;                      /* 0 = Monday */
	int yd, ylen;                /* day of the year (1-based), its length */
	int64_t first, last;         /* the span BYDAY ordinals count in */
};

/* Whether a day passes the day parts. */
static bool day_ok(const struct sched_rule *f, const struct cday *c)
{
	if (f->by_month && !(f->months >> c->m & 1))
		return false;
	if (f->by_mday && !(f->mday_pos >> c->d & 1) && !(f->mday_neg >> (c->dim - c->d + 1) & 1))
		return false;
	if ((f->wdays || f->nnth) && !wday_match(f, c->day, c->wd, c->first, c->last))
		return false;
	if (f->by_yday && !bit64(f->yday_pos, c->yd) && !bit64(f->yday_neg, c->ylen - c->yd + 1))
		return false;
	if (f->by_wno && !weekno_match(f, c->day, c->y))
		return false;
	return true;
}

/* The fields of one day (converted once). */
static void cday_of(int64_t day, struct cday *c)
{
	c->day = day;
	civil_from_days(day, &c->y, &c->m, &c->d);
	c->dim = days_in_month(c->y, c->m);
	c->wd = weekday_from_days(day);
	int64_t jan1 = days_from_civil(c->y, 1, 1);
	c->yd = (int)(day - jan1) + 1;
	c->ylen = 365 + (c->y % 4 == 0 && (c->y % 100 != 0 || c->y % 400 == 0));
	c->first = day - c->d + 1;
	c->last = c->first + c->dim - 1;
}

/*
 * Appends the days of month m of year y that pass (BYDAY ordinals counted
 * in the year with year_span, else in the month).  Only the rule's own
 * days are tried when nothing but BYMONTHDAY chooses them.
 */
static long month_pass(const struct sched_rule *f, int y, int m, bool year_span,
		       int64_t *out, long n)
{
	struct cday c = { .y = y, .m = m, .dim = days_in_month(y, m) };
	int64_t first = days_from_civil(y, m, 1);
	int64_t jan1 = days_from_civil(y, 1, 1);
	c.ylen = 365 + (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
	c.first = year_span ? jan1 : first;
	c.last = year_span ? jan1 + c.ylen - 1 : first + c.dim - 1;
	if (f->by_mday && !f->wdays && !f->nnth && !f->by_yday && !f->by_wno) {
		/* Days 1…dim in order, each once, from the two bit sets. */
		for (int d = 1; d <= c.dim; d++)
			if ((f->mday_pos >> d & 1) || (f->mday_neg >> (c.dim - d + 1) & 1))
				out[n++] = first + d - 1;
		return n;
	}
	int wd0 = weekday_from_days(first);
	for (int d = 1; d <= c.dim; d++) {
		c.day = first + d - 1;
		c.d = d;
		c.wd = (wd0 + d - 1) % 7;
		c.yd = (int)(c.day - jan1) + 1;
		if (day_ok(f, &c))
			out[n++] = c.day;
	}
	return n;
}

/* The times of day (seconds, ascending) of a day-period rule. */
static int day_times(const struct sched_rule *f, int32_t *out)
{
	int n = 0;
	for (int h = 0; h < 24; h++) {
		if (!(f->hours >> h & 1))
			continue;
		for (int m = 0; m < 60; m++) {
			if (!(f->minutes >> m & 1))
				continue;
			for (int s = 0; s < 60; s++)
				if ((f->seconds >> s & 1) && n < SCHED_MAX_TIMES)
					out[n++] = h * 3600 + m * 60 + s;
		}
	}
	return n;
}

/* 9999-12-31, as days since the epoch: LOCAL times end there. */
#define MAX_DAY 2932896

/* Whether a day part needs the day's month, day of month or year. */
static bool civil_parts(const struct sched_rule *f)
{
	return f->by_month || f->by_mday || f->by_yday || f->by_wno;
}

/*
 * The candidate days of period p (counted from DTSTART's period), sorted,
 * into out (room for 372).  Returns the count, or -1 past year 9999.
 */
static long period_days(const struct sched_rule *f, int64_t sd, int64_t p,
			int64_t *out)
{
	int sy, sm, sday;
	civil_from_days(sd, &sy, &sm, &sday);
	int64_t step = p * f->interval;
	long n = 0;
	struct cday c;
	switch (f->freq) {
	case SCHED_DAILY:
		if (sd + step > MAX_DAY)
			return -1;
		if (!civil_parts(f)) {
			/* Only weekdays (or nothing) choose: no calendar fields. */
			int wd = weekday_from_days(sd + step);
			if (!(f->wdays | f->nnth) || (f->wdays >> wd & 1))
				out[n++] = sd + step;
			break;
		}
		cday_of(sd + step, &c);
		if (day_ok(f, &c))
			out[n++] = c.day;
		break;
	case SCHED_WEEKLY: {
		int64_t ws = sd - (weekday_from_days(sd) - f->wkst + 7) % 7 + 7 * step;
		if (ws > MAX_DAY)
			return -1;
		for (int i = 0; i < 7; i++) {
			int wd = (f->wkst + i) % 7;
			if (!civil_parts(f)) {
				if (f->wdays >> wd & 1)
					out[n++] = ws + i;
				continue;
			}
			cday_of(ws + i, &c);
			c.first = ws;
			c.last = ws + 6;
			if (day_ok(f, &c))
				out[n++] = ws + i;
		}
		break;
	}
	case SCHED_MONTHLY: {
		int64_t mi = (int64_t)sy * 12 + (sm - 1) + step;
		int y = (int)(mi / 12), m = (int)(mi % 12) + 1;
		if (mi / 12 > 9999)
			return -1;
		if (f->by_month && !(f->months >> m & 1))
			return 0;
		n = month_pass(f, y, m, false, out, 0);
		break;
	}
	case SCHED_YEARLY: {
		if (sy + step > 9999)
			return -1;
		int y = (int)(sy + step);
		/* With BYMONTH (and no week or year days), only those months;
		 * ordinals count in the month with BYMONTH, else in the year. */
		bool by_months = f->by_month && !f->by_wno && !f->by_yday;
		for (int m = 1; m <= 12; m++) {
			if (by_months && !(f->months >> m & 1))
				continue;
			n = month_pass(f, y, m, !f->by_month, out, n);
		}
		break;
	}
	default:
		break;
	}
	return n;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/*
 * BYSETPOS over a period's set of ndays days x ntimes times (both sorted):
 * the picked wall times, sorted and unique, into out.  Returns the count.
 */
static int setpos_pick(const struct sched_rule *f, const int64_t *days, long ndays,
		       const int32_t *times, int ntimes, int64_t *out)
{
	long total = ndays * ntimes;
	int k = 0;
	for (int i = 0; i < f->nsetpos; i++) {
		long idx = f->setpos[i] > 0 ? f->setpos[i] - 1 : total + f->setpos[i];
		if (idx >= 0 && idx < total)
			out[k++] = days[idx / ntimes] * 86400 + times[idx % ntimes];
	}
	qsort(out, (size_t)k, sizeof *out, cmp_i64);
	int m = 0;
	for (int i = 0; i < k; i++)
		if (!m || out[i] != out[m - 1])
			out[m++] = out[i];
	return m;
}

/* The first day-period that can hold a day >= `day` (0 if before sd). */
static int64_t first_period(const struct sched_rule *f, int64_t sd, int64_t day)
{
	if (day <= sd)
		return 0;
	int sy, sm, sd_, y, m, d;
	civil_from_days(sd, &sy, &sm, &sd_);
	civil_from_days(day, &y, &m, &d);
	int64_t units;
	switch (f->freq) {
	case SCHED_DAILY: units = day - sd; break;
	case SCHED_WEEKLY: {
		int64_t ws = sd - (weekday_from_days(sd) - f->wkst + 7) % 7;
		units = (day - ws) / 7;
		break;
	}
	case SCHED_MONTHLY: units = ((int64_t)y * 12 + m) - ((int64_t)sy * 12 + sm); break;
	default: units = y - sy; break;
	}
	return units > 0 ? units / f->interval : 0;
}

/* Periods in one 400-year Gregorian cycle: after them the calendar repeats. */
static int64_t cycle_periods(const struct sched_rule *f)
{
	switch (f->freq) {
	case SCHED_DAILY: return 146097;
	case SCHED_WEEKLY: return 20871;
	case SCHED_MONTHLY: return 4800;
	case SCHED_YEARLY: return 400;
	default: return SCHED_MAX_STEPS;
	}
}

/*
 * Calls back(wall, ctx) for each instance in order, from the period of wall
 * time `from_wall` (or DTSTART with COUNT).  back returns 0 to go on, 1 to
 * stop (fast_expand then returns 0) or another value (returned).  Returns
 * -1 when more than max_steps periods were visited.
 */
typedef int (*wall_fn)(int64_t wall, void *ctx);

struct run {
	const struct sched_rule *f;
	int64_t start;
	int count, emitted;
	wall_fn back;
	void *ctx;
};

/* Emits one instance; returns non-zero to stop (1 for "done"). */
static int run_emit(struct run *r, int64_t wall)
{
	if (wall < r->start)
		return 0;
	int rc = r->back(wall, r->ctx);
	if (rc)
		return rc;
	return r->count && ++r->emitted >= r->count ? 1 : 0;
}

static int expand_days(struct run *r, int64_t from_wall, int64_t max_steps)
{
	const struct sched_rule *f = r->f;
	int64_t sd = floor_div(r->start, 86400);
	int64_t p = r->count ? 0 : first_period(f, sd, floor_div(from_wall, 86400));
	const int32_t *times = f->times;
	int nt = f->ntimes;
	int64_t days[372], pick[64];
	for (int64_t visited = 0;; p++, visited++) {
		if (visited >= max_steps)
			return -1;
		long n = period_days(f, sd, p, days);
		if (n < 0)
			return 0;
		if (f->nsetpos) {
			int k = setpos_pick(f, days, n, times, nt, pick);
			for (int i = 0; i < k; i++) {
				int rc = run_emit(r, pick[i]);
				if (rc)
					return rc == 1 ? 0 : rc;
			}
			continue;
		}
		for (long i = 0; i < n; i++) {
			if (days[i] < sd)
				continue;
			for (int t = 0; t < nt; t++) {
				int rc = run_emit(r, days[i] * 86400 + times[t]);
				if (rc)
					return rc == 1 ? 0 : rc;
			}
		}
	}
}

/*
 * HOURLY, MINUTELY and SECONDLY: periods of one unit, INTERVAL apart from
 * DTSTART's; a day, hour or minute the parts exclude is skipped whole.
 */
static int expand_subdaily(struct run *r, int64_t from_wall, int64_t max_steps)
{
	const struct sched_rule *f = r->f;
	int64_t unit = f->freq == SCHED_HOURLY ? 3600 : f->freq == SCHED_MINUTELY ? 60 : 1;
	int64_t base = floor_div(r->start, unit) * unit, step = unit * f->interval;
	int64_t k = 0;
	if (!r->count && from_wall > base)
		k = (from_wall - base) / step;
	int64_t limit = days_from_civil(10000, 1, 1) * 86400;
	int64_t last_day = INT64_MIN;
	bool last_ok = false;
	for (int64_t visited = 0;; visited++) {
		if (visited >= max_steps)
			return -1;
		int64_t t = base + k * step;
		if (t >= limit)
			return 0;
		int64_t day = floor_div(t, 86400), tod = t - day * 86400;
		if (day != last_day) {
			struct cday c;
			cday_of(day, &c);
			last_ok = day_ok(f, &c);
			last_day = day;
		}
		/* Skip to the first period of the next day, hour or minute. */
		int64_t skip_to = 0;
		int hh = (int)(tod / 3600), mm = (int)(tod / 60 % 60), ss = (int)(tod % 60);
		if (!last_ok)
			skip_to = (day + 1) * 86400;
		else if (f->by_hour && !(f->hours >> hh & 1))
			skip_to = day * 86400 + (hh + 1) * 3600;
		else if (f->freq <= SCHED_MINUTELY && f->by_minute && !(f->minutes >> mm & 1))
			skip_to = day * 86400 + hh * 3600 + (mm + 1) * 60;
		else if (f->freq == SCHED_SECONDLY && f->by_second && !(f->seconds >> ss & 1))
			skip_to = t + 1;
		if (skip_to) {
			int64_t nk = (skip_to - base + step - 1) / step;
			k = nk > k ? nk : k + 1;
			continue;
		}
		int32_t times[SCHED_MAX_TIMES];
		int nt = 0;
		if (f->freq == SCHED_HOURLY) {
			for (int m = 0; m < 60; m++)
				for (int s = 0; (f->minutes >> m & 1) && s < 60; s++)
					if ((f->seconds >> s & 1) && nt < SCHED_MAX_TIMES)
						times[nt++] = m * 60 + s;
		} else if (f->freq == SCHED_MINUTELY) {
			for (int s = 0; s < 60; s++)
				if ((f->seconds >> s & 1) && nt < SCHED_MAX_TIMES)
					times[nt++] = s;
		} else {
			times[nt++] = 0;
		}
		int64_t one = 0, pick[64];
		int np;
		if (f->nsetpos) {
			np = setpos_pick(f, &one, 1, times, nt, pick);
		} else {
			np = nt;
			for (int i = 0; i < nt; i++)
				pick[i] = times[i];
		}
		for (int i = 0; i < np; i++) {
			int rc = run_emit(r, t + pick[i]);
			if (rc)
				return rc == 1 ? 0 : rc;
		}
		k++;
	}
}

static int rule_walls(const struct schedule *s, int64_t from_wall, int64_t max_steps,
		      wall_fn back, void *ctx)
{
	struct run r = { &s->rule, s->start, s->rule_count, 0, back, ctx };
	return sched_freq_is_subdaily(s->rule.freq) ? expand_subdaily(&r, from_wall, max_steps)
						  : expand_days(&r, from_wall, max_steps);
}

static int found_one(int64_t wall, void *ctx)
{
	(void)wall;
	*(bool *)ctx = true;
	return 1;
}

enum herald_rc sched_compile_rule(struct schedule *s, const char *rule,
				  struct herald_err *err)
{
	if (strncasecmp(rule, "RRULE:", 6) == 0)
		rule += 6;
	struct parsed *r = xmalloc(sizeof *r);   /* parse_rule clears it */
	enum herald_rc rc = parse_rule(rule, r, err);
	const char *why = rc ? NULL : forbidden(r);
	if (!rc && why)
		rc = herald_err_set(err, H_EINVAL, "%s", why);
	s->rule_has_until = false;
	if (!rc && HAS(r, P_UNTIL)) {
		if (!parse_until_utc(r->until, &s->rule_until))
			rc = herald_err_set(err, H_EINVAL,
					    "UNTIL must be a UTC date-time such as 20271231T235959Z "
					    "(RFC 5545 §3.3.10: the start has a time zone)");
		s->rule_has_until = true;
	}
	if (!rc) {
		compile(r, s->start, &s->rule);
		s->rule_count = r->count;
		s->rule_freq = r->freq;
		s->rule_interval = r->interval;
		int32_t times[SCHED_MAX_TIMES];
		long per = (long)(r->nminutes ? r->nminutes : 1) * (r->nseconds ? r->nseconds : 1);
		if (r->freq >= SCHED_DAILY)
			per *= r->nhours ? r->nhours : 1;
		if (r->freq >= SCHED_HOURLY && per > SCHED_MAX_TIMES)
			rc = herald_err_set(err, H_EINVAL,
					    "the rule has more than %d times in one period",
					    SCHED_MAX_TIMES);
		else if (r->freq >= SCHED_DAILY &&
			 (s->rule.ntimes = (unsigned char)day_times(&s->rule, times)) == 0)
			rc = herald_err_set(err, H_EINVAL, "the rule never produces an occurrence");
		else
			memcpy(s->rule.times, times, sizeof times);
	}
	free(r);
	if (rc)
		return rc;
	free(s->rrule);
	s->rrule = xstrdup(rule);
	/* Nothing within one 400-year cycle of periods means nothing ever
	 * (sub-daily rules: within the step bound). */
	bool found = false;
	int count = s->rule_count;
	s->rule_count = 0;
	rule_walls(s, s->start, cycle_periods(&s->rule), found_one, &found);
	s->rule_count = count;
	if (!found)
		return herald_err_set(err, H_EINVAL, "the rule never produces an occurrence");
	return H_OK;
}

/* ====================================================== occurrences */

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

/* The occurrence at wall time `wall` (planned at `planned`). */
static void make_occurrence(const struct schedule *s, int64_t wall, int64_t planned,
			    struct occurrence *o)
{
	unsigned f1 = 0, f2 = 0;
	o->planned_wall = planned;
	o->shifted = wall != planned;
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

struct emit_ctx {
	const struct schedule *s;
	int64_t from, to;        /* instants */
	sched_fn fn;
	void *ctx;
	int ret;
};

/* One planned wall time: bounds, except, the instant, the window. */
static int emit_wall(int64_t wall, void *ctx)
{
	struct emit_ctx *c = ctx;
	const struct schedule *s = c->s;
	if (wall - WALL_SLACK >= c->to || (s->has_until && wall > s->until) ||
	    (s->rule_has_until && wall - WALL_SLACK > s->rule_until))
		return 1;
	if (wall + WALL_SLACK < c->from || is_excepted(s, wall))
		return 0;
	struct occurrence o;
	make_occurrence(s, wall, wall, &o);
	if (s->rule_has_until && o.start > s->rule_until)
		return 0;
	if (o.start < c->from || o.start >= c->to)
		return 0;
	c->ret = c->fn(&o, c->ctx);
	return c->ret ? 1 : 0;
}

static int expand_plain(const struct schedule *s, int64_t from, int64_t to,
			sched_fn fn, void *ctx)
{
	struct emit_ctx c = { s, from, to, fn, ctx, 0 };
	if (s->kind == SCHED_AT) {
		for (size_t i = 0; i < s->nat; i++)
			if (emit_wall(s->at[i], &c))
				break;
		return c.ret;
	}
	int64_t from_wall = from > INT64_MIN / 2 ? from - WALL_SLACK : from;
	if (rule_walls(s, from_wall, SCHED_MAX_STEPS, emit_wall, &c) < 0)
		return -1;
	return c.ret;
}

/* ------------------------------------------------ working-day shift */

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

static bool is_holiday(const struct schedule *s, int64_t day)
{
	size_t lo = 0, hi = s->nholidays;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->holidays[mid] < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->nholidays && s->holidays[lo] == day;
}

bool sched_working_day(const struct schedule *s, int64_t day)
{
	return weekday_from_days(day) < 5 && !is_holiday(s, day);
}

enum herald_rc sched_set_shift(struct schedule *s, enum sched_shift shift,
			       const int32_t *holidays, size_t n,
			       struct herald_err *err)
{
	free(s->holidays);
	s->holidays = xcalloc(n ? n : 1, sizeof *s->holidays);
	if (n)
		memcpy(s->holidays, holidays, n * sizeof *holidays);
	qsort(s->holidays, n, sizeof *s->holidays, cmp_i32);
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (!m || s->holidays[i] != s->holidays[m - 1])
			s->holidays[m++] = s->holidays[i];
	s->nholidays = m;
	s->shift = shift;
	/* The longest run of non-working days: a weekend, or holidays with
	 * the weekends around them. */
	int span = 2;
	for (size_t i = 0; i < m; i++) {
		int64_t d = s->holidays[i], a = d, b = d;
		while (!sched_working_day(s, a - 1) && d - a < 40)
			a--;
		while (!sched_working_day(s, b + 1) && b - d < 40)
			b++;
		if (b - a + 1 > span)
			span = (int)(b - a + 1);
	}
	s->shift_span = span;
	if (span > 31)
		return herald_err_set(err, H_EINVAL,
				      "weekends and holidays leave more than 31 days in a row "
				      "without a working day; a shift cannot move occurrences that far");
	return H_OK;
}

/* The working day a shift moves day to. */
static int64_t shift_day(const struct schedule *s, int64_t day)
{
	int dir = s->shift == SHIFT_NEXT ? 1 : -1;
	for (int i = 0; i <= s->shift_span && !sched_working_day(s, day); i++)
		day += dir;
	return day;
}

/*
 * Occurrences moved by a shift arrive in planned order; the shifted day is
 * monotone in the planned one, so those landing on one day arrive
 * together.  They are held until the day changes, then given on in the
 * order of their new times, each wall time once (for next-working-day the
 * one planned last: the day's own occurrence if it has one; for
 * previous-working-day the one planned first).
 */
struct shift_ctx {
	const struct schedule *s;
	int64_t from, to;
	sched_fn fn;
	void *ctx;
	struct occurrence *held;
	size_t n, cap;
	int64_t day;
	int ret;
};

static int cmp_shifted(const void *a, const void *b)
{
	const struct occurrence *x = a, *y = b;
	if (x->wall_start != y->wall_start)
		return x->wall_start < y->wall_start ? -1 : 1;
	return (x->planned_wall > y->planned_wall) - (x->planned_wall < y->planned_wall);
}

static int shift_flush(struct shift_ctx *c)
{
	qsort(c->held, c->n, sizeof *c->held, cmp_shifted);
	bool keep_last = c->s->shift == SHIFT_NEXT;
	for (size_t i = 0; i < c->n && !c->ret; i++) {
		const struct occurrence *o = &c->held[i];
		bool dup_next = i + 1 < c->n && c->held[i + 1].wall_start == o->wall_start;
		bool dup_prev = i > 0 && c->held[i - 1].wall_start == o->wall_start;
		if ((keep_last && dup_next) || (!keep_last && dup_prev))
			continue;
		if (o->start >= c->from && o->start < c->to)
			c->ret = c->fn(o, c->ctx);
	}
	c->n = 0;
	return c->ret;
}

static int shift_fn(const struct occurrence *o, void *ctx)
{
	struct shift_ctx *c = ctx;
	const struct schedule *s = c->s;
	int64_t pday = floor_div(o->planned_wall, 86400);
	int64_t day = shift_day(s, pday);
	if (c->n && day != c->day && shift_flush(c))
		return c->ret;
	c->day = day;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 8;
		c->held = xreallocarray(c->held, c->cap, sizeof *c->held);
	}
	if (day == pday)
		c->held[c->n] = *o;
	else
		make_occurrence(s, o->planned_wall + (day - pday) * 86400, o->planned_wall,
				&c->held[c->n]);
	c->n++;
	return 0;
}

int sched_expand(const struct schedule *s, int64_t from, int64_t to,
		 sched_fn fn, void *ctx)
{
	if (s->kind == SCHED_MANUAL)
		return 0;
	if (s->shift == SHIFT_NONE)
		return expand_plain(s, from, to, fn, ctx);
	struct shift_ctx c = { s, from, to, fn, ctx, NULL, 0, 0, 0, 0 };
	int64_t span = (int64_t)(s->shift_span + 1) * 86400;
	int64_t lo = from > INT64_MIN / 2 ? from - span : from;
	int64_t hi = to < INT64_MAX / 2 ? to + span : to;
	int rc = expand_plain(s, lo, hi, shift_fn, &c);
	if (rc == 0 && c.n)
		shift_flush(&c);
	free(c.held);
	return rc < 0 ? rc : c.ret;
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
	free(s->holidays);
	memset(s, 0, sizeof *s);
}
