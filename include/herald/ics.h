/*
 * ics.h - a plan as one iCalendar (RFC 5545) VCALENDAR per feed.
 *
 * What a feed holds, and why (the choices every client must read alike):
 *
 *  - UIDs are stable and per feed: "COMM/FEED@PLAN" for a series
 *    ("FEED" is the audience id, or "all" for the whole plan), and
 *    "COMM/FEED/YYYYMMDDTHHMMSS@PLAN" (the planned wall time) for an
 *    instance written on its own.  A communication shared by two audiences
 *    has a different UID in each feed: Outlook and Apple key events on UID
 *    across calendars, so a shared UID would make an event hop between
 *    subscribed calendars or vanish from one of them.
 *  - An RRULE is written only for patterns every major client maps:
 *    DAILY; WEEKLY (BYDAY of plain weekdays including the start's, a
 *    single day when INTERVAL > 1); MONTHLY on a day <= 28 or on a single
 *    1st-4th/last weekday; YEARLY on a day other than 29 February; with
 *    INTERVAL, COUNT or UNTIL.  Every other schedule (and every "at"
 *    schedule) is written as separate VEVENTs for the instances in the
 *    window [from, to).
 *  - DTSTART and EXDATE carry TZID=<bare IANA name>; a VTIMEZONE per zone
 *    holds the transitions from the earliest time written to `to`.  UNTIL
 *    is the last instance + 2 h in UTC (same set, robust to clients that
 *    compare it with DTSTART's offset).
 *  - An occurrence on a DST edge (start or end in a gap or overlap, or a
 *    UTC offset change between start and end) is written in UTC: in a
 *    series, an EXDATE (in DTSTART's form) plus an event of its own
 *    (instance UID) in UTC.  Not a RECURRENCE-ID override: python's
 *    recurring-ical-events matches overrides by date only, and ical.js
 *    drops an override whose instance an EXDATE removed.
 *  - UTC times are written as TZID=Etc/GMT with its VTIMEZONE, not 'Z':
 *    Google and python's x_wr_timezone re-read 'Z' times in the
 *    X-WR-TIMEZONE zone (a UTC series then follows that zone's wall
 *    clock; a time in its overlap becomes the second reading).
 *  - DTSTAMP and LAST-MODIFIED are the plan's approved_on (midnight UTC),
 *    or 2000-01-01 without one: never the clock.
 */
#ifndef HERALD_ICS_H
#define HERALD_ICS_H

#include <stddef.h>
#include <stdint.h>

#include "herald/err.h"
#include "herald/util.h"

struct plan;

struct ics_opts {
	long audience;        /* index into plan->audiences, or -1 for all */
	int64_t from, to;     /* window of expanded instances (instants) */
};

/*
 * The default window: 90 days before the start of today (plan's zone) to
 * 13 months after it.  Anchored to the day so the output is the same all
 * day long.
 */
void ics_default_window(const struct plan *p, int64_t now, int64_t *from,
			int64_t *to);

/*
 * Appends the VCALENDAR of o's feed to out.  Deterministic: the same plan
 * and options give the same bytes.  H_EINVAL if a schedule hits the
 * expansion bound.
 */
enum herald_rc ics_render(const struct plan *p, const struct ics_opts *o,
			  struct buf *out, struct herald_err *err);

/* Appends one content line: folded at 75 octets without splitting a UTF-8
 * sequence, then CRLF. */
void ics_line(struct buf *out, const char *line, size_t n);

/* Appends s escaped as an RFC 5545 TEXT value (\\ \; \, \n; other control
 * characters dropped). */
void ics_escape_text(struct buf *out, const char *s);

#endif
