/* tz.c - time zones over libical's zone data (see tz.h). */
#include "herald/tz.h"

#include <libical/ical.h>
#include <pthread.h>
#include <string.h>

#include "herald/timeutil.h"
#include "herald/util.h"

/*
 * A zone and a small cache of the last offset period looked up.  Offsets are
 * asked for in long runs over nearby instants, and libical's lookup is
 * comparatively costly, so each zone remembers [lo, hi) where the offset is
 * known to be constant.
 */
struct tz {
	char *name;
	icaltimezone *ical;
	struct tz *next;
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

int tz_offset(const struct tz *z, int64_t instant)
{
	struct civil c;
	secs_to_civil(instant, &c);
	struct icaltimetype t = icaltime_null_time();
	t.year = c.year;
	t.month = c.month;
	t.day = c.day;
	t.hour = c.hour;
	t.minute = c.min;
	t.second = c.sec;
	t.zone = icaltimezone_get_utc_timezone();
	int dst = 0;
	return icaltimezone_get_utc_offset_of_utc_time(z->ical, &t, &dst);
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
