/*
 * outbox.c - the outbox's policy, keys and times (see outbox.h for the
 * life of a delivery).  Creation is in outbox_create.c, claims and
 * records in outbox_claim.c.
 */
#include "herald/clock.h"
#include "herald/outbox.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/log.h"
#include "herald/plan.h"
#include "herald/sched.h"
#include "herald/template.h"
#include "herald/timeutil.h"
#include "herald/token.h"
#include "herald/tz.h"
#include "herald/util.h"

/* ------------------------------------------------------------ policy */

static int64_t env_int(const char *name, int64_t def, int64_t min, int64_t max)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return def;
	char *end;
	long long x = strtoll(v, &end, 10);
	if (*end || x < min || x > max)
		return def;
	return x;
}

void outbox_policy_default(struct outbox_policy *p)
{
	p->max_attempts = (int)env_int("HERALD_RETRY_MAX_ATTEMPTS", 8, 1, 100);
	p->base_ms = env_int("HERALD_RETRY_BASE_MS", 10000, 1, 3600000);
	p->cap_ms = 3600000;
	if (p->cap_ms < p->base_ms)
		p->cap_ms = p->base_ms;
	p->max_age = env_int("HERALD_RETRY_MAX_AGE", 86400, 1, 30 * 86400);
	p->grace = env_int("HERALD_GRACE_SECONDS", 43200, 0, 30 * 86400);
	p->late_after = 120;
	p->horizon = 2 * 86400;
	p->lease = env_int("HERALD_LEASE_SECONDS", 120, 2, 86400);
}

int64_t outbox_backoff_ms(const struct outbox_policy *p, int n, uint32_t rnd)
{
	int64_t d = p->base_ms;
	for (int i = 1; i < n && d < p->cap_ms; i++)
		d *= 2;
	if (d > p->cap_ms)
		d = p->cap_ms;
	/* "equal jitter": half fixed, half random, so receivers recovering
	 * from an outage are not hit by every sender at once. */
	int64_t half = d / 2;
	return half + (half ? (int64_t)(rnd % (uint64_t)(half + 1)) : 0);
}

void outbox_key_raw(const char *plan_id, const char *communication,
		    const char *occurrence, int64_t offset, const char *kind,
		    const char *audience, const char *channel,
		    const char *recipient, unsigned char out[32])
{
	struct buf b;
	buf_init(&b);
	char off[32];
	snprintf(off, sizeof off, "%lld", (long long)offset);
	const char *f[] = { "herald-delivery-v1", plan_id, communication, occurrence,
			    off, kind, audience, channel, recipient };
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		if (f[i])
			buf_adds(&b, f[i]);
		buf_addc(&b, '\0');
	}
	sha256(b.data, b.len, out);
	buf_free(&b);
}

void outbox_key(const char *plan_id, const char *communication,
		const char *occurrence, int64_t offset, const char *kind,
		const char *audience, const char *channel, const char *recipient,
		char out[65])
{
	unsigned char h[32];
	outbox_key_raw(plan_id, communication, occurrence, offset, kind, audience,
		       channel, recipient, h);
	hex_encode(h, 32, out);
}

void outbox_ackid(const char *plan_id, const char *communication,
		  const char *occurrence, const char *person, unsigned char out[16])
{
	struct buf b;
	buf_init(&b);
	const char *f[] = { "herald-ack-v2", plan_id, communication, occurrence };
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		if (f[i])
			buf_adds(&b, f[i]);
		buf_addc(&b, '\0');
	}
	/* Addresses differ in case only where people mistype them. */
	for (const char *q = person ? person : ""; *q; q++)
		buf_addc(&b, (char)tolower((unsigned char)*q));
	unsigned char h[32];
	sha256(b.data, b.len, h);
	memcpy(out, h, 16);
	buf_free(&b);
}

void outbox_local_time(const struct plan *p, const struct plan_comm *c,
		       int64_t instant, char *out, size_t n)
{
	static const char *const wd[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
	static const char *const mo[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	const struct tz *z = c ? plan_comm_tz(p, c) : p->tz;
	int64_t wall = z ? tz_instant_to_wall(z, instant) : instant;
	struct civil cv;
	secs_to_civil(wall, &cv);
	int64_t days = wall >= 0 ? wall / 86400 : (wall - 86399) / 86400;
	snprintf(out, n, "%s %d %s %04d %02d:%02d (%s)", wd[weekday_from_days(days)],
		 cv.day, mo[cv.month - 1], cv.year, cv.hour, cv.min,
		 z ? tz_name(z) : "UTC");
}
