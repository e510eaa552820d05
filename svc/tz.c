/* tz.c - time zones over libical's zone data (see tz.h). */
#include "herald/tz.h"

#include <libical/ical.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "herald/timeutil.h"
#include "herald/util.h"

/*
 * A zone and a small cache of the last offset period looked up.  Offsets are
 * asked for in long runs over nearby instants, and libical's lookup is
 * comparatively costly, so each zone remembers [lo, hi) where the offset is
 * known to be constant.
 */
struct tz_year {
	int64_t lo, hi;          /* [lo, hi): the UTC year covered */
	int off0;                /* offset at lo */
	int ntrans;
	int64_t at[8];           /* instants where the offset changes */
	int off[8];              /* the offset from at[i] on */
	struct tz_year *next;
};

struct tz {
	char *name;
	icaltimezone *ical;
	struct tz *next;
	pthread_mutex_t lock;    /* guards years and last */
	struct tz_year *years;
	const struct tz_year *last;
};

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tz *tz_list;

const struct tz *tz_get(const char *name)
{
	if (!name || !*name || strlen(name) > 64)
		return NULL;
	pthread_mutex_lock(&tz_lock);
	struct tz *z;
	for (z = tz_list; z; z = z->next)
		if (strcmp(z->name, name) == 0)
			break;
	if (!z) {
		icaltimezone *ical = strcmp(name, "UTC") == 0
					     ? icaltimezone_get_utc_timezone()
					     : icaltimezone_get_builtin_timezone(name);
		if (ical) {
			z = xcalloc(1, sizeof *z);
			z->name = xstrdup(name);
			z->ical = ical;
			pthread_mutex_init(&z->lock, NULL);
			z->next = tz_list;
			tz_list = z;
		}
	}
	pthread_mutex_unlock(&tz_lock);
	return z;
}

const char *tz_name(const struct tz *z)
{
	return z->name;
}

icaltimezone *tz_ical(const struct tz *z)
{
	return z->ical;
}

void tz_fill_icaltime(int64_t secs, struct icaltimetype *t)
{
	struct civil c;
	secs_to_civil(secs, &c);
	*t = icaltime_null_time();
	t->year = c.year;
	t->month = c.month;
	t->day = c.day;
	t->hour = c.hour;
	t->minute = c.min;
	t->second = c.sec;
}

int tz_ical_offset(const struct tz *z, int64_t instant, int *is_dst)
{
	struct icaltimetype t;
	tz_fill_icaltime(instant, &t);
	t.zone = icaltimezone_get_utc_timezone();
	int dst = 0;
	int off = icaltimezone_get_utc_offset_of_utc_time(z->ical, &t, &dst);
	if (is_dst)
		*is_dst = dst;
	return off;
}

static int ical_offset(const struct tz *z, int64_t instant)
{
	return tz_ical_offset(z, instant, NULL);
}

/*
 * Offsets of one UTC year, from libical: sampled every three hours, each
 * change located to the second by bisection.  Real zones never change
 * offset twice within three hours, nor more than eight times a year; a
 * year that would is not cached (NULL) and answered by libical directly.
 */
#define TZ_SAMPLE (3 * 3600)

static struct tz_year *year_table(const struct tz *z, int y)
{
	struct tz_year *ty = xcalloc(1, sizeof *ty);
	ty->lo = days_from_civil(y, 1, 1) * 86400;
	ty->hi = days_from_civil(y + 1, 1, 1) * 86400;
	ty->off0 = ical_offset(z, ty->lo);
	int prev = ty->off0;
	for (int64_t t = ty->lo + TZ_SAMPLE; t < ty->hi + TZ_SAMPLE; t += TZ_SAMPLE) {
		int64_t probe = t < ty->hi ? t : ty->hi - 1;
		int cur = ical_offset(z, probe);
		if (cur == prev)
			continue;
		int64_t a = t - TZ_SAMPLE, b = probe;   /* off(a) = prev, off(b) = cur */
		while (b - a > 1) {
			int64_t m = a + (b - a) / 2;
			if (ical_offset(z, m) == prev)
				a = m;
			else
				b = m;
		}
		if (ty->ntrans == 8) {
			free(ty);
			return NULL;
		}
		ty->at[ty->ntrans] = b;
		ty->off[ty->ntrans++] = cur;
		prev = cur;
	}
	return ty;
}

static int year_offset(const struct tz_year *ty, int64_t instant)
{
	int off = ty->off0;
	for (int i = 0; i < ty->ntrans && ty->at[i] <= instant; i++)
		off = ty->off[i];
	return off;
}

int tz_offset(const struct tz *cz, int64_t instant)
{
	/* The cache is not part of the zone's value: it may change under const. */
	struct tz *z = (struct tz *)(uintptr_t)cz;
	if (z->ical == icaltimezone_get_utc_timezone())
		return 0;
	pthread_mutex_lock(&z->lock);
	const struct tz_year *ty = z->last;
	if (!ty || instant < ty->lo || instant >= ty->hi) {
		for (ty = z->years; ty; ty = ty->next)
			if (instant >= ty->lo && instant < ty->hi)
				break;
		if (!ty) {
			struct civil c;
			secs_to_civil(instant, &c);
			struct tz_year *n = c.year >= 1900 && c.year <= 2200
						    ? year_table(z, c.year) : NULL;
			if (n) {
				n->next = z->years;
				z->years = n;
			}
			ty = n;
		}
		if (ty)
			z->last = ty;
	}
	int off = ty ? year_offset(ty, instant) : ical_offset(z, instant);
	pthread_mutex_unlock(&z->lock);
	return off;
}

int64_t tz_wall_to_instant(const struct tz *z, int64_t wall, unsigned *flags)
{
	/*
	 * The offsets a day either side bracket the instant; real zones change
	 * offset at most once in two days.  A candidate instant is valid when
	 * its own offset maps it back to the wall time.
	 */
	int before = tz_offset(z, wall - 86400);
	int after = tz_offset(z, wall + 86400);
	int64_t u1 = wall - before, u2 = wall - after;
	bool ok1 = tz_offset(z, u1) == before;
	bool ok2 = before != after && tz_offset(z, u2) == after;
	unsigned f = 0;
	int64_t r;
	if (ok1 && ok2) {
		f = TZ_OVERLAP;
		r = u1 < u2 ? u1 : u2;
	} else if (ok1) {
		r = u1;
	} else if (ok2) {
		r = u2;
	} else {
		f = TZ_GAP;
		r = u1;
	}
	if (flags)
		*flags = f;
	return r;
}

int64_t tz_instant_to_wall(const struct tz *z, int64_t instant)
{
	return instant + tz_offset(z, instant);
}
