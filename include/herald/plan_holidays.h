/*
 * plan_holidays.h - a schedule's "holidays": "file:X.ics" (an iCalendar
 * file of holidays, as organisations keep them: public-holiday calendars,
 * an exported company calendar) read into days.
 */
#ifndef HERALD_PLAN_HOLIDAYS_H
#define HERALD_PLAN_HOLIDAYS_H

#include <stddef.h>
#include <stdint.h>

#include "herald/err.h"

/* The most holiday days one file may give. */
#define HOLIDAYS_MAX_DAYS 20000

/*
 * Reads the ICS file rel (relative to the plan file's folder): every
 * VEVENT's days (DTSTART's date; with a DATE DTEND or a DURATION of days,
 * each day up to it; an RRULE expanded to year 2100, EXDATEs removed;
 * STATUS:CANCELLED skipped).  *days (caller frees) holds days since the
 * epoch, unsorted.  H_EINVAL with msg ("line L: …", or why the file is not
 * iCalendar) on failure.
 */
enum herald_rc plan_holidays_load(const char *plan_path, const char *rel,
				  int32_t **days, size_t *n, char *msg,
				  size_t msglen);

#endif
