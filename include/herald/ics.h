/*
 * ics.h - a plan as one iCalendar (RFC 5545) VCALENDAR per feed.
 *
 * What a feed holds, and why (docs/calendars.md has the client bug behind
 * each choice):
 *
 *  - UIDs are stable and per feed: "COMM/FEED@PLAN" for a series
 *    ("FEED" is the audience id, or "all" for the whole plan), and
 *    "COMM/FEED/YYYYMMDDTHHMMSS@PLAN" (the planned wall time) for an
 *    instance written on its own.  A communication shared by two audiences
 *    has a different UID in each feed: Outlook and Apple key events on UID
 *    across calendars.  SEQUENCE grows with the plan's approval date, and
 *    an email's attachment carries the same UID and SEQUENCE
 *    (ics_occurrence), so a client merges the two.
 *  - VTIMEZONEs are written as Outlook and Google publish them: the
 *    zone's current rule as a DAYLIGHT and a STANDARD observance with
 *    RRULEs from 1970, valid for every year; explicit observances only for
 *    transitions of an older rule inside the feed's span.  A zone whose
 *    offsets no yearly rule describes inside the window (Casablanca's
 *    Ramadan changes, a rule that changes next year) has its events
 *    written in UTC instead.
 *  - An RRULE is written only for patterns every major client maps
 *    (DAILY; WEEKLY on plain weekdays including the start's; MONTHLY on a
 *    day <= 28 or one 1st-4th/last weekday; YEARLY other than 29
 *    February; INTERVAL, COUNT, UNTIL), whose DTSTART is the first
 *    instance, and none of whose instances up to ten years past the window
 *    is on a DST edge.  Every other schedule (shifted, "at", lifted rule
 *    shapes, series with an edge) is written as separate VEVENTs for the
 *    instances in the window [from, to).
 *  - So no DTSTART, EXDATE or RECURRENCE-ID is ever a local time in a gap
 *    or an overlap: an instance on a DST edge (start or end in a gap or
 *    overlap, or a UTC offset change between them) is an event of its own
 *    in UTC, written TZID=Etc/GMT with its VTIMEZONE (not 'Z': Google and
 *    python's x_wr_timezone re-read 'Z' in X-WR-TIMEZONE).
 *  - All-day communications are DATE values (DTSTART;VALUE=DATE).
 *  - DTSTAMP and LAST-MODIFIED are the plan's approved_on (midnight UTC),
 *    or 2000-01-01 without one: never the clock.  Identical input gives
 *    identical bytes.
 *  - A feed without events still holds a component (the plan's
 *    VTIMEZONE): RFC 5545 requires one.  Public feeds show no email
 *    address unless the audience has "feed_email": true.
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

/*
 * Appends a VCALENDAR (METHOD:PUBLISH) holding the one occurrence of
 * communication `comm` (an index) that starts at instant `start`, as the
 * feed of `audience` (index, or -1) over the default window at `now`
 * writes it: the same UID (and, for an instance of a series, RECURRENCE-ID),
 * SEQUENCE, times and text, so a client merges it with the feed's event.
 * H_EINVAL if the communication has no occurrence starting then.
 */
enum herald_rc ics_occurrence(const struct plan *p, size_t comm, long audience,
			      int64_t start, int64_t now, struct buf *out,
			      struct herald_err *err);

/* Appends one content line: folded at 75 octets without splitting a UTF-8
 * sequence, then CRLF. */
void ics_line(struct buf *out, const char *line, size_t n);

/* Appends s escaped as an RFC 5545 TEXT value (\\ \; \, \n; other control
 * characters dropped). */
void ics_escape_text(struct buf *out, const char *s);

#endif
