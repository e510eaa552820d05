/*
 * clock.h - herald's one clock.
 *
 * Every "now" in herald comes from here, so a test (or an operator
 * replaying a day) can set it: with HERALD_NOW=RFC3339 the clock starts at
 * that instant at the first call and advances in real time from there, so
 * timeouts, backoffs and "late" still mean what they say.
 */
#ifndef HERALD_CLOCK_H
#define HERALD_CLOCK_H

#include <stdint.h>

/* The current instant, in seconds since the epoch (UTC). */
int64_t clock_now(void);

/* Milliseconds of a monotonic clock, for intervals and deadlines only. */
int64_t clock_mono_ms(void);

/* clock_now() as RFC 3339 UTC text ("2026-11-22T10:00:00Z") into out
 * (at least 32 bytes). */
void clock_now_text(char *out);

#endif
