/*
 * sched.h - schedules and their expansion into occurrences.
 *
 * Recurrence runs on wall-clock time with herald's own expander (every
 * RFC 5545 rule shape, period by period), and each occurrence is converted
 * to an instant separately by RFC 5545 §3.3.5 (tz.h), so a 09:30 meeting
 * stays at 09:30 across DST changes.  A schedule may then shift
 * occurrences that fall on a weekend or a holiday to the next or previous
 * working day; every user of sched_expand (agenda, feeds, the outbox) sees
 * the shifted instants.  Expansion is bounded: a rule that never produces
 * an occurrence is refused when compiled, and no expansion visits more than
 * SCHED_MAX_STEPS periods.
 */
#ifndef HERALD_SCHED_H
#define HERALD_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "herald/err.h"

struct tz;

enum sched_kind { SCHED_RRULE, SCHED_AT, SCHED_MANUAL };

/* FREQ values (the numbering libical uses, so logs and lint read alike). */
enum sched_freq {
	SCHED_SECONDLY, SCHED_MINUTELY, SCHED_HOURLY, SCHED_DAILY,
	SCHED_WEEKLY, SCHED_MONTHLY, SCHED_YEARLY,
};

enum sched_shift { SHIFT_NONE, SHIFT_NEXT, SHIFT_PREVIOUS };

#define SCHED_MAX_STEPS 200000
/* The most times within a day one period may hold (BYHOUR x BYMINUTE x
 * BYSECOND). */
#define SCHED_MAX_TIMES 64

/*
 * A compiled RRULE (sched_compile_rule).  BYxxx parts are bit sets;
 * dateutil's defaults are applied (YEARLY without a day part means the
 * start's month and day, MONTHLY the start's day, WEEKLY its weekday; the
 * time parts default to the start's), so the expander only filters.
 */
struct sched_rule {
	unsigned char freq;          /* enum sched_freq */
	unsigned char wkst;          /* 0 = Monday … 6 = Sunday */
	int interval;
	uint16_t months;             /* bit m: BYMONTH=m */
	uint32_t mday_pos, mday_neg; /* bit d: BYMONTHDAY=d, =-d */
	uint64_t wno_pos, wno_neg;   /* bit w: BYWEEKNO=w, =-w */
	uint64_t yday_pos[6], yday_neg[6];   /* bit d: BYYEARDAY=d, =-d */
	uint8_t wdays;               /* BYDAY without ordinal, bit 0 = Monday */
	unsigned char nnth;          /* BYDAY with an ordinal */
	struct {
		signed char ord;
		unsigned char wd;    /* 0 = Monday */
	} nth[56];
	uint32_t hours;              /* bit h */
	uint64_t minutes, seconds;   /* bit m, bit s */
	bool by_month, by_mday, by_wno, by_yday, by_hour, by_minute, by_second;
	unsigned char nsetpos;
	short setpos[64];
	unsigned char ntimes;        /* DAILY and rarer: the times of day */
	int32_t times[SCHED_MAX_TIMES];  /* seconds, ascending */
};

struct schedule {
	enum sched_kind kind;
	char *cadence;          /* keyword as written, or NULL */
	char *rrule;            /* the RRULE as expanded (cadence -> rule) */
	int64_t start;          /* wall time of DTSTART (RRULE) */
	int64_t *at;            /* wall times (AT), sorted, unique */
	size_t nat;
	bool has_until;
	int64_t until;          /* wall time ("until" key) */
	bool rule_has_until;
	int64_t rule_until;     /* instant (UNTIL=…Z in the rule) */
	int rule_count;         /* COUNT, 0 if none */
	int rule_freq;          /* enum sched_freq */
	int rule_interval;
	int64_t *except;        /* wall times, sorted */
	size_t nexcept;
	int64_t duration;       /* seconds, default 1800 (all day: whole days) */
	bool all_day;           /* wall times are midnights (date-only plan) */
	char *tzid;             /* per-schedule zone or NULL */
	const struct tz *tz;    /* zone in force (own or plan's); set at load */
	enum sched_shift shift;
	int32_t *holidays;      /* days since the epoch, sorted, unique */
	size_t nholidays;
	int shift_span;         /* most days a shift moves an occurrence */
	struct sched_rule rule; /* set by sched_compile_rule */
};

struct occurrence {
	int64_t start;          /* instant */
	int64_t end;            /* instant */
	int64_t wall_start;     /* wall time in the zone in force */
	int64_t wall_end;
	int start_offset;       /* UTC offset at start, seconds */
	int end_offset;
	unsigned flags;         /* TZ_GAP / TZ_OVERLAP of start or end */
	int64_t planned_wall;   /* the wall time the rule produced */
	bool shifted;           /* moved off a non-working day */
};

/*
 * Parses, validates and compiles an RRULE for a schedule whose start is
 * set (fills rrule, rule_*, rule).  Accepts every rule RFC 5545 §3.3.10
 * allows, at any frequency; refuses what it forbids (BYWEEKNO other than
 * YEARLY, BYYEARDAY with DAILY/WEEKLY/MONTHLY, BYMONTHDAY with WEEKLY,
 * ordinal BYDAY outside MONTHLY/YEARLY, BYSETPOS alone), UNTIL not in
 * UTC, and rules that never produce an occurrence.  Sub-daily frequencies
 * are compiled (the plan refuses them: sched_freq_is_subdaily).  Returns
 * H_EINVAL with a message (without a path) on failure.
 */
enum herald_rc sched_compile_rule(struct schedule *s, const char *rule,
				  struct herald_err *err);

/* FREQ=SECONDLY, MINUTELY or HOURLY. */
bool sched_freq_is_subdaily(int freq);

/* Maps a cadence keyword to its RRULE text, or NULL if unknown. */
const char *sched_cadence_rule(const char *cadence);

/*
 * Sets s's working-day shift over holidays (days since the epoch, any
 * order, repeats allowed; copied).  Fails with H_EINVAL if weekends and
 * holidays leave more than 31 days in a row without a working day.
 */
enum herald_rc sched_set_shift(struct schedule *s, enum sched_shift shift,
			       const int32_t *holidays, size_t n,
			       struct herald_err *err);

/* Whether day (since the epoch) is a working day for s: Monday to Friday
 * and not one of its holidays. */
bool sched_working_day(const struct schedule *s, int64_t day);

typedef int (*sched_fn)(const struct occurrence *o, void *ctx);

/*
 * Calls fn for every occurrence whose start instant is in [from, to), in
 * order (shifted ones at their shifted instant; two that a shift lands on
 * the same wall time count once).  fn returning non-zero stops the
 * expansion (that value is returned).  Manual schedules produce nothing.
 * Returns 0, fn's value, or -1 if the step bound was hit.
 */
int sched_expand(const struct schedule *s, int64_t from, int64_t to,
		 sched_fn fn, void *ctx);

/* Frees what a schedule owns (not the struct itself). */
void sched_clear(struct schedule *s);

/*
 * The first occurrence at or after instant `after` (no bound on the
 * window), for lint and for deciding whether a rule still has a future.
 * Returns false if there is none.
 */
bool sched_next(const struct schedule *s, int64_t after_instant,
		struct occurrence *o);

#endif
