/*
 * tz.h - IANA time zones (the system's TZif files) and the RFC 5545
 * §3.3.5 reading of wall times.
 *
 * Zones are read from the compiled tz database (TZDIR, default
 * /usr/share/zoneinfo), the same data the calendar clients' own libraries
 * use (python's zoneinfo, pytz, ICU, Java): every transition of the file,
 * and after the last one the zone's current rule (the file's POSIX TZ
 * footer), which is also what a feed's VTIMEZONE publishes as RRULEs.
 * Zones are immutable once loaded; every function is thread-safe.
 */
#ifndef HERALD_TZ_H
#define HERALD_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tz;

enum {
	TZ_GAP = 1,     /* the wall time does not exist (clocks went forward) */
	TZ_OVERLAP = 2, /* the wall time occurs twice (clocks went back) */
};

/*
 * Looks up an IANA zone name ("Europe/London", "UTC").  Returns a pointer
 * owned by the module, valid for the life of the process, or NULL if the
 * name is unknown (or not a plain zone: no "..", no posix/ or right/
 * variants, no leap-second files).
 */
const struct tz *tz_get(const char *name);

/* The IANA name, as given to tz_get. */
const char *tz_name(const struct tz *z);

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

/* ------------------------------------------------ for VTIMEZONE output */

/* A change of UTC offset (changes of name or DST flag alone are not). */
struct tz_change {
	int64_t at;            /* instant of the change */
	int from, to;          /* offsets before and after */
	bool dst;              /* the tz database's DST flag after it */
	char abbr[16];         /* the abbreviation after it ("BST", "+1030") */
};

/*
 * The last change at or before t; false if the zone never changed before
 * it (then *c holds the zone's first offset, from = to, at = INT64_MIN).
 */
bool tz_change_before(const struct tz *z, int64_t t, struct tz_change *c);

/* The first change after t; false if there is none up to year 9999. */
bool tz_change_after(const struct tz *z, int64_t t, struct tz_change *c);

/*
 * One transition of a POSIX rule: day `wday` (0 = Sunday) of week `week`
 * (1-4, 5 = the last) of `month`, at `time` seconds of local time as it
 * was before the change (may be negative or past 24 h: "M3.4.4/26" is the
 * Friday after the fourth Thursday, 02:00).
 */
struct tz_rule_date {
	int month, week, wday;
	int32_t time;
};

/* A zone's current rule: the TZif footer, "GMT0BST,M3.5.0/1,M10.5.0". */
struct tz_rule {
	int std_off, dst_off;             /* east positive */
	char std_abbr[16], dst_abbr[16];
	bool has_dst;
	struct tz_rule_date start, end;   /* into DST (from std), out of it */
	/*
	 * From this instant on, the rule alone gives every offset of the
	 * zone; before it the zone's history differs (INT64_MIN: never).
	 */
	int64_t since;
};

/* The zone's current rule, or NULL if its file has none (old TZif 1). */
const struct tz_rule *tz_rule(const struct tz *z);

/* The wall time (local, before the change) of d's transition in year y. */
int64_t tz_rule_wall(const struct tz_rule_date *d, int year);

#endif
