/*
 * sched.h - schedules and their expansion into occurrences.
 *
 * Recurrence runs on wall-clock time (libical's iterator over floating
 * times), and each occurrence is converted to an instant separately by
 * RFC 5545 §3.3.5 (tz.h), so a 09:30 meeting stays at 09:30 across DST
 * changes.  Expansion is bounded: a rule that never produces an occurrence
 * is refused when compiled, and no expansion visits more than
 * SCHED_MAX_STEPS candidates.
 */
#ifndef HERALD_SCHED_H
#define HERALD_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "herald/err.h"

struct tz;

enum sched_kind { SCHED_RRULE, SCHED_AT, SCHED_MANUAL };

#define SCHED_MAX_STEPS 200000

/*
 * A rule herald expands with its own code (sched.c): frequency DAILY to
 * YEARLY with INTERVAL, COUNT, BYMONTH, BYMONTHDAY, BYDAY, BYSETPOS and
 * WKST.  Other rules (BYHOUR, BYMINUTE, BYSECOND, BYYEARDAY) go through
 * libical's iterator.  Filled by sched_compile_rule.
 */
struct sched_fast {
	bool on;
	unsigned char freq;         /* 1 daily, 2 weekly, 3 monthly, 4 yearly */
	unsigned char wkst;         /* 0 = Monday … 6 = Sunday */
	int interval;
	unsigned months;            /* bit m set for BYMONTH=m; 0 = none */
	signed char mdays[62];      /* BYMONTHDAY values */
	unsigned char nmdays, ndays, nsetpos;
	struct {
		signed char ord;    /* 0 = every such weekday */
		unsigned char wd;   /* 0 = Monday … 6 = Sunday */
	} days[56];                 /* BYDAY */
	short setpos[64];           /* BYSETPOS */
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
	int rule_freq;          /* libical's icalrecurrencetype_frequency */
	int rule_interval;
	int64_t *except;        /* wall times, sorted */
	size_t nexcept;
	int64_t duration;       /* seconds, default 1800 */
	char *tzid;             /* per-schedule zone or NULL */
	const struct tz *tz;    /* zone in force (own or plan's); set at load */
	struct sched_fast fast; /* set by sched_compile_rule */
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
};

/*
 * Parses and validates an RRULE string for a schedule (sets rrule,
 * rule_* fields).  Refuses sub-daily frequencies, UNTIL not in UTC, rules
 * libical cannot iterate, and rules that never produce an occurrence.
 * Returns H_EINVAL with a message (without a path) on failure.
 */
enum herald_rc sched_compile_rule(struct schedule *s, const char *rule,
				  struct herald_err *err);

/* Maps a cadence keyword to its RRULE text, or NULL if unknown. */
const char *sched_cadence_rule(const char *cadence);

typedef int (*sched_fn)(const struct occurrence *o, void *ctx);

/*
 * Calls fn for every occurrence whose start instant is in [from, to), in
 * order.  fn returning non-zero stops the expansion (that value is
 * returned).  Manual schedules produce nothing.  Returns 0, fn's value, or
 * -1 if the step bound was hit.
 */
int sched_expand(const struct schedule *s, int64_t from, int64_t to,
		 sched_fn fn, void *ctx);

/* Frees what a schedule owns (not the struct itself). */
void sched_clear(struct schedule *s);

/*
 * The first occurrence at or after wall time `after` (no bound on the
 * window), for lint and for deciding whether a rule still has a future.
 * Returns false if there is none.
 */
bool sched_next(const struct schedule *s, int64_t after_instant,
		struct occurrence *o);

#endif
