/*
 * timeutil.h - calendar arithmetic and the textual time formats of the plan
 * and the command line.
 *
 * Two kinds of seconds are used throughout herald, both int64_t:
 *  - an instant: seconds since the Unix epoch (UTC);
 *  - a wall time: a local clock reading encoded as if it were UTC, i.e.
 *    days_from_civil(y,m,d)*86400 + h*3600 + mi*60 + s.  Wall times compare
 *    and add like numbers, which is what recurrence on wall time needs.
 * tz.h converts between the two.
 */
#ifndef HERALD_TIMEUTIL_H
#define HERALD_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct civil {
	int year, month, day, hour, min, sec;
};

int64_t days_from_civil(int y, int m, int d);
void civil_from_days(int64_t days, int *y, int *m, int *d);
int days_in_month(int y, int m);
/* 0 = Monday … 6 = Sunday. */
int weekday_from_days(int64_t days);
/* "Mon" … "Sun" for 0 … 6; "Jan" … "Dec" for 1 … 12 ("???" outside). */
const char *weekday_abbr(int wd);
const char *month_abbr(int m);
/* "Monday", "January": the same, written out. */
const char *weekday_name(int wd);
const char *month_name(int m);

int64_t civil_to_secs(const struct civil *c);
void secs_to_civil(int64_t secs, struct civil *c);

/*
 * Parses a plan LOCAL time: YYYY-MM-DDTHH:MM[:SS], no offset, a real
 * calendar date.  Returns false on any deviation.
 */
bool parse_local(const char *s, int64_t *wall);

/* Parses YYYY-MM-DD into a wall time at midnight. */
bool parse_date(const char *s, int64_t *wall);

/*
 * True if s is what parse_local() / parse_date() accept; otherwise false
 * with the reason in why (size n), e.g. "February 2027 has 28 days".
 */
bool explain_local(const char *s, char *why, size_t n);
bool explain_date(const char *s, char *why, size_t n);

/*
 * Parses an RFC 3339 instant (YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)) into
 * seconds since the epoch.
 */
bool parse_rfc3339(const char *s, int64_t *instant);

/*
 * Parses an ISO 8601 duration as used by the plan: PnW, or
 * P[nD][T[nH][nM][nS]].  Years and months are refused (their length is not
 * fixed).  Negative durations are refused.
 */
bool parse_duration(const char *s, int64_t *secs);

/* Formats a duration back canonically (P7D, PT1H30M, PT0S). */
void format_duration(int64_t secs, char *out, size_t n);

/* "2026-03-29T09:30:00+01:00": wall time plus its UTC offset in seconds. */
void format_rfc3339_local(int64_t wall, int offset, char *out, size_t n);
/* "2026-03-29T08:30:00Z". */
void format_rfc3339_utc(int64_t instant, char *out, size_t n);
/* "2026-03-29T09:30" (plan LOCAL form). */
void format_local(int64_t wall, char *out, size_t n);
/* "20260329T093000" (iCalendar local form); with_z appends 'Z'. */
void format_ical(int64_t secs, bool with_z, char *out, size_t n);


#endif
