/* timeutil.c - calendar arithmetic and time formats (see timeutil.h). */
#include "herald/timeutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Howard Hinnant's algorithms: exact over the proleptic Gregorian calendar. */
int64_t days_from_civil(int y, int m, int d)
{
	int64_t yy = (int64_t)y - (m <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t yy = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yy + (*m <= 2));
}

int days_in_month(int y, int m)
{
	static const int n[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return n[m - 1];
}

int weekday_from_days(int64_t days)
{
	/* 1970-01-01 was a Thursday (3 with Monday = 0). */
	int64_t w = (days + 3) % 7;
	return (int)(w < 0 ? w + 7 : w);
}

/* English abbreviations, as RFC 5322 dates and the agenda write them. */
const char *weekday_abbr(int wd)
{
	static const char *const names[] = { "Mon", "Tue", "Wed", "Thu", "Fri",
					     "Sat", "Sun" };
	return wd >= 0 && wd < 7 ? names[wd] : "???";
}

const char *month_abbr(int m)
{
	static const char *const names[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	return m >= 1 && m <= 12 ? names[m - 1] : "???";
}

static const char *const month_names[] = { "January", "February", "March", "April",
					   "May", "June", "July", "August",
					   "September", "October", "November",
					   "December" };

const char *month_name(int m)
{
	return m >= 1 && m <= 12 ? month_names[m - 1] : "???";
}

const char *weekday_name(int wd)
{
	static const char *const names[] = { "Monday", "Tuesday", "Wednesday", "Thursday",
					     "Friday", "Saturday", "Sunday" };
	return wd >= 0 && wd < 7 ? names[wd] : "???";
}

int64_t civil_to_secs(const struct civil *c)
{
	return days_from_civil(c->year, c->month, c->day) * 86400 +
	       c->hour * 3600 + c->min * 60 + c->sec;
}

void secs_to_civil(int64_t secs, struct civil *c)
{
	int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
	int64_t rem = secs - days * 86400;
	civil_from_days(days, &c->year, &c->month, &c->day);
	c->hour = (int)(rem / 3600);
	c->min = (int)(rem % 3600 / 60);
	c->sec = (int)(rem % 60);
}

/* Reads exactly n digits. */
static bool digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static bool parse_ymd(const char **p, struct civil *c)
{
	if (!digits(p, 4, &c->year) || **p != '-')
		return false;
	(*p)++;
	if (!digits(p, 2, &c->month) || **p != '-')
		return false;
	(*p)++;
	if (!digits(p, 2, &c->day))
		return false;
	return c->year >= 1900 && c->year <= 9999 && c->month >= 1 &&
	       c->month <= 12 && c->day >= 1 &&
	       c->day <= days_in_month(c->year, c->month);
}

static bool parse_hms(const char **p, struct civil *c, bool sec_required)
{
	if (!digits(p, 2, &c->hour) || **p != ':')
		return false;
	(*p)++;
	if (!digits(p, 2, &c->min))
		return false;
	c->sec = 0;
	if (**p == ':') {
		(*p)++;
		if (!digits(p, 2, &c->sec))
			return false;
	} else if (sec_required) {
		return false;
	}
	return c->hour <= 23 && c->min <= 59 && c->sec <= 59;
}

bool parse_local(const char *s, int64_t *wall)
{
	struct civil c = { 0 };
	const char *p = s;
	if (!parse_ymd(&p, &c) || *p++ != 'T' || !parse_hms(&p, &c, false) ||
	    *p != '\0')
		return false;
	*wall = civil_to_secs(&c);
	return true;
}

bool parse_date(const char *s, int64_t *wall)
{
	struct civil c = { 0 };
	const char *p = s;
	if (!parse_ymd(&p, &c) || *p != '\0')
		return false;
	*wall = civil_to_secs(&c);
	return true;
}

/* --------------------------------------------------------- explanations */

/* Like parse_ymd, but says what is wrong. */
static bool explain_ymd(const char **p, char *why, size_t n)
{
	struct civil c = { 0 };
	if (!digits(p, 4, &c.year) || **p != '-' || (++*p, !digits(p, 2, &c.month)) ||
	    **p != '-' || (++*p, !digits(p, 2, &c.day))) {
		snprintf(why, n, "expected the date as YYYY-MM-DD");
		return false;
	}
	if (c.year < 1900 || c.year > 9999)
		snprintf(why, n, "year %d is out of range (1900 to 9999)", c.year);
	else if (c.month < 1 || c.month > 12)
		snprintf(why, n, "there is no month %02d", c.month);
	else if (c.day < 1)
		snprintf(why, n, "there is no day 00");
	else if (c.day > days_in_month(c.year, c.month))
		snprintf(why, n, "%s %d has %d days", month_names[c.month - 1], c.year,
			 days_in_month(c.year, c.month));
	else
		return true;
	return false;
}

bool explain_date(const char *s, char *why, size_t n)
{
	const char *p = s;
	if (!explain_ymd(&p, why, n))
		return false;
	if (*p == 'T' || *p == ' ') {
		snprintf(why, n, "a date only, without a time");
		return false;
	}
	if (*p) {
		snprintf(why, n, "unexpected text after the date");
		return false;
	}
	return true;
}

bool explain_local(const char *s, char *why, size_t n)
{
	const char *p = s;
	if (!explain_ymd(&p, why, n))
		return false;
	if (!*p) {
		snprintf(why, n, "a date without a time (write YYYY-MM-DDTHH:MM)");
		return false;
	}
	if (*p == ' ' || *p == 't') {
		snprintf(why, n, "write a capital T between the date and the time");
		return false;
	}
	struct civil c = { 0 };
	if (*p++ != 'T' || !digits(&p, 2, &c.hour) || *p++ != ':' ||
	    !digits(&p, 2, &c.min) || (*p == ':' && (++p, !digits(&p, 2, &c.sec)))) {
		snprintf(why, n, "expected YYYY-MM-DDTHH:MM or YYYY-MM-DDTHH:MM:SS");
		return false;
	}
	if (c.hour > 23)
		snprintf(why, n, "there is no hour %02d (00 to 23)", c.hour);
	else if (c.min > 59)
		snprintf(why, n, "there is no minute %02d (00 to 59)", c.min);
	else if (c.sec > 59)
		snprintf(why, n, "there is no second %02d (00 to 59)", c.sec);
	else if (*p == 'Z' || *p == 'z' || *p == '+' || *p == '-')
		snprintf(why, n, "it has a UTC offset; a local time has none (the time zone "
			 "comes from the plan or the schedule)");
	else if (*p == '.')
		snprintf(why, n, "fractions of a second are not allowed");
	else if (*p)
		snprintf(why, n, "unexpected text after the time");
	else
		return true;
	return false;
}

bool parse_rfc3339(const char *s, int64_t *instant)
{
	struct civil c = { 0 };
	const char *p = s;
	if (!parse_ymd(&p, &c) || (*p != 'T' && *p != 't' && *p != ' '))
		return false;
	p++;
	if (!parse_hms(&p, &c, true))
		return false;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	int off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;
		if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) ||
		    oh > 23 || om > 59)
			return false;
		off = sign * (oh * 3600 + om * 60);
	} else {
		return false;
	}
	if (*p != '\0')
		return false;
	*instant = civil_to_secs(&c) - off;
	return true;
}

/* Reads a decimal count below 10^7 followed by one unit letter. */
static bool dur_part(const char **p, int64_t *n, char *unit)
{
	if (!isdigit((unsigned char)**p))
		return false;
	int64_t v = 0;
	while (isdigit((unsigned char)**p)) {
		v = v * 10 + (**p - '0');
		if (v > 9999999)
			return false;
		(*p)++;
	}
	if (!**p)
		return false;
	*unit = *(*p)++;
	*n = v;
	return true;
}

bool parse_duration(const char *s, int64_t *secs)
{
	const char *p = s;
	int64_t total = 0, n;
	char unit;
	bool any = false, in_time = false;
	const char *order = "WD";
	if (*p++ != 'P')
		return false;
	while (*p) {
		if (*p == 'T') {
			if (in_time)
				return false;
			in_time = true;
			order = "HMS";
			p++;
			if (!*p)
				return false;
			continue;
		}
		if (!dur_part(&p, &n, &unit))
			return false;
		const char *pos = strchr(order, unit);
		if (!pos)
			return false;
		order = pos + 1; /* units in order, each at most once */
		switch (unit) {
		case 'W': total += n * 604800; break;
		case 'D': total += n * 86400; break;
		case 'H': total += n * 3600; break;
		case 'M': total += n * 60; break;
		case 'S': total += n; break;
		}
		any = true;
		if (unit == 'W' && *p)
			return false; /* PnW stands alone */
	}
	if (!any)
		return false;
	*secs = total;
	return true;
}

void format_duration(int64_t secs, char *out, size_t n)
{
	if (secs == 0) {
		snprintf(out, n, "PT0S");
		return;
	}
	int64_t d = secs / 86400, h = secs % 86400 / 3600, m = secs % 3600 / 60,
		s = secs % 60;
	int k = snprintf(out, n, "P");
	if (d && k >= 0 && (size_t)k < n)
		k += snprintf(out + k, n - (size_t)k, "%lldD", (long long)d);
	if ((h || m || s) && k >= 0 && (size_t)k < n) {
		k += snprintf(out + k, n - (size_t)k, "T");
		if (h)
			k += snprintf(out + k, n - (size_t)k, "%lldH", (long long)h);
		if (m)
			k += snprintf(out + k, n - (size_t)k, "%lldM", (long long)m);
		if (s)
			snprintf(out + k, n - (size_t)k, "%lldS", (long long)s);
	}
}

static char *put2(char *p, int v)
{
	*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

/* "2026-03-29T09:30:00", by hand: the agenda of a large plan and an export
 * format millions of these.  Years 0..9999 only. */
static char *put_datetime(char *p, const struct civil *c)
{
	p = put2(put2(p, c->year / 100), c->year % 100);
	*p++ = '-';
	p = put2(p, c->month);
	*p++ = '-';
	p = put2(p, c->day);
	*p++ = 'T';
	p = put2(p, c->hour);
	*p++ = ':';
	p = put2(p, c->min);
	*p++ = ':';
	return put2(p, c->sec);
}

/*
 * The civil fields of a wall time, the day's part remembered per thread:
 * an agenda formats runs of times on the same few days.
 */
static void civil_cached(int64_t secs, struct civil *c)
{
	static _Thread_local int64_t last_day = INT64_MIN;
	static _Thread_local int ly, lm, ld;
	int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
	int64_t rem = secs - days * 86400;
	if (days != last_day) {
		civil_from_days(days, &ly, &lm, &ld);
		last_day = days;
	}
	c->year = ly;
	c->month = lm;
	c->day = ld;
	c->hour = (int)(rem / 3600);
	c->min = (int)(rem % 3600 / 60);
	c->sec = (int)(rem % 60);
}

void format_rfc3339_local(int64_t wall, int offset, char *out, size_t n)
{
	struct civil c;
	civil_cached(wall, &c);
	int a = offset < 0 ? -offset : offset;
	if (a % 60)
		/* RFC 3339 offsets are minutes; LMT-era seconds are dropped. */
		a -= a % 60;
	if (n < 26 || c.year < 0 || c.year > 9999 || a >= 100 * 3600) {
		snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", c.year,
			 c.month, c.day, c.hour, c.min, c.sec, offset < 0 ? '-' : '+',
			 a / 3600, a % 3600 / 60);
		return;
	}
	char *p = put_datetime(out, &c);
	*p++ = offset < 0 ? '-' : '+';
	p = put2(p, a / 3600);
	*p++ = ':';
	p = put2(p, a % 3600 / 60);
	*p = 0;
}

void format_rfc3339_utc(int64_t instant, char *out, size_t n)
{
	struct civil c;
	secs_to_civil(instant, &c);
	if (c.year < 0 || c.year > 9999 || n < 21) {
		snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02dZ", c.year, c.month,
			 c.day, c.hour, c.min, c.sec);
		return;
	}
	char *p = put_datetime(out, &c);
	*p++ = 'Z';
	*p = '\0';
}

void format_local(int64_t wall, char *out, size_t n)
{
	struct civil c;
	secs_to_civil(wall, &c);
	snprintf(out, n, "%04d-%02d-%02dT%02d:%02d", c.year, c.month, c.day,
		 c.hour, c.min);
}

void format_ical(int64_t secs, bool with_z, char *out, size_t n)
{
	struct civil c;
	secs_to_civil(secs, &c);
	snprintf(out, n, "%04d%02d%02dT%02d%02d%02d%s", c.year, c.month, c.day,
		 c.hour, c.min, c.sec, with_z ? "Z" : "");
}
