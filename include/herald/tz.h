/*
 * tz.h - IANA time zones (libical's data) and the RFC 5545 §3.3.5 reading
 * of wall times.
 *
 * libical 3.0.16's own local->UTC conversion picks the wrong offset in gaps
 * and overlaps, so herald only asks libical the unambiguous question (the
 * offset in force at a UTC instant) and solves wall->UTC itself.
 */
#ifndef HERALD_TZ_H
#define HERALD_TZ_H

#include <stdbool.h>
#include <stdint.h>

struct tz;
typedef struct _icaltimezone icaltimezone;

enum {
	TZ_GAP = 1,     /* the wall time does not exist (clocks went forward) */
	TZ_OVERLAP = 2, /* the wall time occurs twice (clocks went back) */
};

/*
 * Looks up an IANA zone name ("Europe/London", "UTC").  Returns a pointer
 * owned by the module, valid for the life of the process, or NULL if the
 * name is unknown.  Thread-safe.
 */
const struct tz *tz_get(const char *name);

/* The IANA name, as given to tz_get. */
const char *tz_name(const struct tz *z);

/* The libical zone (for VTIMEZONE output). */
icaltimezone *tz_ical(const struct tz *z);

/*
 * libical's own answer for the offset at an instant and whether it is
 * daylight time (uncached: for VTIMEZONE output and the cache itself).
 */
int tz_ical_offset(const struct tz *z, int64_t instant, int *is_dst);

struct icaltimetype;
/* Fills *t with the civil fields of secs (floating; the caller sets zone). */
void tz_fill_icaltime(int64_t secs, struct icaltimetype *t);

/* UTC offset in seconds (east positive) in force at an instant. */
int tz_offset(const struct tz *z, int64_t instant);

/*
 * Converts a wall time to an instant by RFC 5545 §3.3.5: in an overlap, the
 * first (earlier) instant; in a gap, the wall time read with the offset in
 * force before the gap (02:30 in a 02:00->03:00 gap is 03:30 new time).
 * *flags (may be NULL) gets TZ_GAP / TZ_OVERLAP.
 */
int64_t tz_wall_to_instant(const struct tz *z, int64_t wall, unsigned *flags);

/* The wall time of an instant. */
int64_t tz_instant_to_wall(const struct tz *z, int64_t instant);

#endif
