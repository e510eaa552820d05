/*
 * ics.c - writes a plan's feed as an iCalendar VCALENDAR (see ics.h for
 * the choices a feed makes, docs/calendars.md for the client behaviour
 * behind each).
 *
 * Written by hand rather than through libical's serializer: libical
 * prefixes TZIDs, writes VTIMEZONEs with every transition since 1847 and
 * orders properties by its own rules; here every byte is decided in one
 * place, which is what byte-identical output needs.
 */
#include "herald/ics.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/plan.h"
#include "herald/sched.h"
#include "herald/timeutil.h"
#include "herald/tz.h"
#include "herald/version.h"

/* ------------------------------------------------------------------ */
/* Lines, folding, escaping                                            */

#define ICS_FOLD 75

void ics_line(struct buf *out, const char *line, size_t n)
{
	size_t col = 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)line[i];
		size_t len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		if (i + len > n)
			len = n - i;
		if (col + len > ICS_FOLD) {
			buf_add(out, "\r\n ", 3);
			col = 1;
		}
		buf_add(out, line + i, len);
		col += len;
		i += len;
	}
	buf_add(out, "\r\n", 2);
}

void ics_escape_text(struct buf *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '\\': buf_add(out, "\\\\", 2); break;
		case ';': buf_add(out, "\\;", 2); break;
		case ',': buf_add(out, "\\,", 2); break;
		case '\n': buf_add(out, "\\n", 2); break;
		default:
			/* TEXT allows HTAB but no other control character. */
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				break;
			buf_addc(out, (char)c);
		}
	}
}

/* A content line under construction; prop folds it into out. */
struct w {
	struct buf *out;
	struct buf line;
};

static void prop(struct w *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void prop(struct w *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_reset(&w->line);
	buf_vprintf(&w->line, fmt, ap);
	va_end(ap);
	ics_line(w->out, w->line.data, w->line.len);
}

/* NAME:escaped-text */
static void prop_text(struct w *w, const char *name, const char *text)
{
	buf_reset(&w->line);
	buf_adds(&w->line, name);
	buf_addc(&w->line, ':');
	ics_escape_text(&w->line, text);
	ics_line(w->out, w->line.data, w->line.len);
}

/* ------------------------------------------------------------------ */
/* Times                                                               */

static bool zone_is_utc(const struct tz *z)
{
	return strcmp(tz_name(z), "UTC") == 0;
}

/*
 * UTC event times are written as TZID=Etc/GMT (offset 0, no DST, with its
 * VTIMEZONE) rather than with 'Z': Google and python's x_wr_timezone
 * re-read 'Z' times in the X-WR-TIMEZONE zone (a UTC series then follows
 * that zone's wall clock, and python re-localizes a time in its overlap to
 * the second reading), while a fixed zone is read as written everywhere.
 */
#define GMT_TZID "Etc/GMT"

/* "NAME;TZID=zone:wall" (Etc/GMT for a UTC zone). */
static void prop_wall(struct w *w, const char *name, const struct tz *z,
		      int64_t wall)
{
	char t[32];
	format_ical(wall, false, t, sizeof t);
	prop(w, "%s;TZID=%s:%s", name, zone_is_utc(z) ? GMT_TZID : tz_name(z), t);
}

static void prop_utc(struct w *w, const char *name, int64_t instant)
{
	char t[32];
	format_ical(instant, false, t, sizeof t);
	prop(w, "%s;TZID=" GMT_TZID ":%s", name, t);
}

/* "NAME;VALUE=DATE:YYYYMMDD" of a wall time. */
static void prop_date(struct w *w, const char *name, int64_t wall)
{
	char t[32];
	format_ical(wall, false, t, sizeof t);
	prop(w, "%s;VALUE=DATE:%.8s", name, t);
}

/*
 * An occurrence whose reading differs between clients: its start or end is
 * a local time in a gap or an overlap, or the offset changes in between.
 */
static bool on_edge(const struct tz *z, const struct occurrence *o)
{
	unsigned f = 0;
	if (o->flags || o->start_offset != o->end_offset)
		return true;
	tz_wall_to_instant(z, o->wall_end, &f);
	return f != 0;
}

/* ------------------------------------------------------------------ */
/* Zones used, with the earliest and latest instant written            */

struct zone_use {
	const struct tz *z;
	int64_t lo, hi;
};

struct zones {
	struct zone_use *v;
	size_t n;
	bool gmt;                    /* Etc/GMT used */
};

static void zone_note(struct zones *zs, const struct tz *z, int64_t lo, int64_t hi)
{
	if (zone_is_utc(z)) {
		zs->gmt = true;
		return;
	}
	for (size_t i = 0; i < zs->n; i++)
		if (zs->v[i].z == z) {
			if (lo < zs->v[i].lo)
				zs->v[i].lo = lo;
			if (hi > zs->v[i].hi)
				zs->v[i].hi = hi;
			return;
		}
	zs->v = xreallocarray(zs->v, zs->n + 1, sizeof *zs->v);
	zs->v[zs->n++] = (struct zone_use){ z, lo, hi };
}

static int zone_cmp(const void *a, const void *b)
{
	return strcmp(tz_name(((const struct zone_use *)a)->z),
		      tz_name(((const struct zone_use *)b)->z));
}

/* ------------------------------------------------------------------ */
/* VTIMEZONE                                                           */

static int year_of(int64_t t)
{
	struct civil c;
	secs_to_civil(t, &c);
	return c.year;
}

static void format_offset(int off, char *out, size_t n)
{
	char sign = off < 0 ? '-' : '+';
	int a = off < 0 ? -off : off;
	if (a % 60)
		snprintf(out, n, "%c%02d%02d%02d", sign, a / 3600, a / 60 % 60, a % 60);
	else
		snprintf(out, n, "%c%02d%02d", sign, a / 3600, a / 60 % 60);
}

static void observance(struct w *w, bool daylight, int64_t wall, int from, int to,
		       const char *abbr, const char *rrule)
{
	char t[32], f[16], o[16];
	format_ical(wall, false, t, sizeof t);
	format_offset(from, f, sizeof f);
	format_offset(to, o, sizeof o);
	const char *kind = daylight ? "DAYLIGHT" : "STANDARD";
	prop(w, "BEGIN:%s", kind);
	prop(w, "TZOFFSETFROM:%s", f);
	prop(w, "TZOFFSETTO:%s", o);
	if (abbr && *abbr)
		prop(w, "TZNAME:%s", abbr);
	prop(w, "DTSTART:%s", t);
	if (rrule)
		prop(w, "RRULE:%s", rrule);
	prop(w, "END:%s", kind);
}

static const char *const rfc_days[] = { "SU", "MO", "TU", "WE", "TH", "FR", "SA" };

/*
 * The RRULE of one transition of a POSIX rule ("M3.5.0/1": the last
 * Sunday of March), or false if no yearly rule within the month says it
 * (a time past midnight can move the day into the next month).  A time
 * of day past 24 h or below 0 moves the weekday: "M9.1.6/24" is the
 * Sunday after the first Saturday, BYMONTHDAY=2,…,8;BYDAY=SU.
 */
static bool rule_date_rrule(const struct tz_rule_date *d, char *out, size_t n)
{
	int k = d->time >= 0 ? d->time / 86400 : -((-d->time + 86399) / 86400);
	int wd = ((d->wday + k) % 7 + 7) % 7;
	if (k == 0) {
		snprintf(out, n, "FREQ=YEARLY;BYMONTH=%d;BYDAY=%d%s", d->month,
			 d->week == 5 ? -1 : d->week, rfc_days[d->wday]);
		return true;
	}
	int a, b;
	if (d->week == 5) {
		a = -7 + k;
		b = -1 + k;
		if (b > -1 || a < -28)
			return false;
	} else {
		a = 7 * (d->week - 1) + 1 + k;
		b = 7 * d->week + k;
		if (a < 1 || b > 28)
			return false;
	}
	int len = snprintf(out, n, "FREQ=YEARLY;BYMONTH=%d;BYDAY=%s;BYMONTHDAY=", d->month,
			   rfc_days[wd]);
	for (int x = a; x <= b && len > 0 && (size_t)len < n; x++)
		len += snprintf(out + len, n - (size_t)len, "%s%d", x == a ? "" : ",", x);
	return true;
}

/* Whether a zone's current rule can be published as RRULEs. */
static bool rule_publishable(const struct tz_rule *r)
{
	char t[160];
	return !r->has_dst || (rule_date_rrule(&r->start, t, sizeof t) &&
			       rule_date_rrule(&r->end, t, sizeof t));
}

/*
 * Whether every client can read z's events over [from, hi] from the
 * VTIMEZONE herald writes: its current rule is publishable, and no
 * transition of an older rule (or of no rule: Casablanca's Ramadan
 * changes are listed one by one) falls inside.  Java clients read a
 * VTIMEZONE of explicit transitions as a fixed offset.
 */
static bool zone_safe(const struct tz *z, int64_t from, int64_t hi)
{
	if (zone_is_utc(z))
		return true;
	const struct tz_rule *r = tz_rule(z);
	if (!r || !rule_publishable(r))
		return false;
	struct tz_change c;
	if (r->since > from && tz_change_after(z, from - 1, &c) && c.at <= hi &&
	    (c.at < r->since || !r->has_dst))
		return false;
	return true;
}

/* DAYLIGHT for the higher offset of a DST pair (Dublin's negative DST in
 * the tz database is, as Outlook and Google have it, summer time). */
static bool change_daylight(const struct tz_change *c, bool prev_dst)
{
	return c->to > c->from && (c->dst || prev_dst);
}

/* The observance in force at lo and every change in (lo, end), each one
 * explicit. */
static void explicit_changes(struct w *w, const struct tz *z, int64_t lo, int64_t end)
{
	struct tz_change c, prev;
	if (!tz_change_before(z, lo, &c)) {
		observance(w, false, 0, c.to, c.to, c.abbr, NULL);
	} else {
		tz_change_before(z, c.at - 1, &prev);
		observance(w, change_daylight(&c, prev.dst), c.at + c.from, c.from, c.to,
			   c.abbr, NULL);
	}
	bool dst = c.dst;
	int64_t t = lo;
	while (tz_change_after(z, t, &c) && c.at < end) {
		observance(w, change_daylight(&c, dst), c.at + c.from, c.from, c.to, c.abbr,
			   NULL);
		dst = c.dst;
		t = c.at;
	}
}

/* The rule's two observances, from their first transition at or after
 * `after` (INT64_MIN: from 1970, as Google writes them). */
static void rule_observances(struct w *w, const struct tz_rule *r, int64_t after)
{
	for (int k = 0; k < 2; k++) {
		const struct tz_rule_date *d = k == 0 ? &r->start : &r->end;
		int from = k == 0 ? r->std_off : r->dst_off;
		int to = k == 0 ? r->dst_off : r->std_off;
		int y = after == INT64_MIN ? 1970 : year_of(after) - 1;
		while (after != INT64_MIN && tz_rule_wall(d, y) - from < after)
			y++;
		char rule[160];
		rule_date_rrule(d, rule, sizeof rule);
		observance(w, to > from, tz_rule_wall(d, y), from, to,
			   k == 0 ? r->dst_abbr : r->std_abbr, rule);
	}
}

/*
 * A VTIMEZONE valid from lo on: the current rule as RRULEs (from 1970 when
 * it already held at lo), explicit observances before it; a zone without
 * DST gets its offsets in force over [lo, hi].
 */
static void vtimezone(struct w *w, const struct tz *z, int64_t lo, int64_t hi)
{
	prop(w, "BEGIN:VTIMEZONE");
	prop(w, "TZID:%s", tz_name(z));
	const struct tz_rule *r = tz_rule(z);
	if (r && r->has_dst && rule_publishable(r)) {
		if (r->since <= lo) {
			rule_observances(w, r, INT64_MIN);
		} else {
			explicit_changes(w, z, lo, r->since);
			rule_observances(w, r, r->since);
		}
	} else {
		struct tz_change c;
		if (!tz_change_after(z, lo, &c) || c.at > hi)
			/* Fixed over the span: one observance, as Google writes. */
			observance(w, false, 0, tz_offset(z, lo), tz_offset(z, lo),
				   r ? r->std_abbr : "", NULL);
		else
			explicit_changes(w, z, lo, hi + 1);
	}
	prop(w, "END:VTIMEZONE");
}

/* ------------------------------------------------------------------ */
/* RRULEs that every client maps                                       */

/* Whether the (validated) rule text has part NAME. */
static bool has_part(const char *rule, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = rule; (p = strstr(p, name)); p += n)
		if ((p == rule || p[-1] == ';') && p[n] == '=')
			return true;
	return false;
}

static const char *const week_days[] = { "MO", "TU", "WE", "TH", "FR", "SA", "SU" };

static int keep_last(const struct occurrence *o, void *ctx)
{
	*(int64_t *)ctx = o->planned_wall;
	return 0;
}

/* The wall time of the schedule's last instance (bounded by an UNTIL). */
static bool last_instance(const struct schedule *s, int64_t *last)
{
	int64_t hi = s->rule_has_until ? s->rule_until + 1 : INT64_MAX;
	if (s->has_until && s->until + 86400 < hi)
		hi = s->until + 86400;   /* wall ~ instant within a day */
	*last = INT64_MIN;
	if (sched_expand(s, tz_wall_to_instant(s->tz, s->start, NULL) - 2 * 86400, hi,
			 keep_last, last) < 0)
		return false;
	return *last != INT64_MIN;
}

/*
 * Writes into rule the RRULE for s when every major client reads it the
 * same way (see ics.h), else returns false (the schedule is expanded).
 */
static bool rule_mappable(const struct schedule *s, bool all_day, struct buf *rule)
{
	static const char *const never[] = { "WKST", "BYSECOND", "BYMINUTE", "BYHOUR",
					     "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO",
					     "BYMONTH", "BYSETPOS" };
	if (s->kind != SCHED_RRULE || s->shift != SHIFT_NONE ||
	    sched_freq_is_subdaily(s->rule_freq) ||
	    (s->has_until && (s->rule_count || s->rule_has_until)))
		return false;
	for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
		if (has_part(s->rrule, never[i]))
			return false;
	const struct sched_rule *f = &s->rule;
	bool byday = has_part(s->rrule, "BYDAY");
	struct civil c;
	secs_to_civil(s->start, &c);
	int wd = weekday_from_days(days_from_civil(c.year, c.month, c.day));
	struct buf days;
	buf_init(&days);
	const char *freq = "";
	bool ok = true;
	switch (s->rule_freq) {
	case SCHED_DAILY:
		freq = "DAILY";
		ok = !byday;
		break;
	case SCHED_WEEKLY:
		freq = "WEEKLY";
		if (byday) {
			int ndays = __builtin_popcount(f->wdays);
			ok = (f->wdays >> wd & 1) && (s->rule_interval == 1 || ndays == 1);
			/* In week order from Monday, as clients write it back. */
			for (int d = 0; ok && d < 7; d++)
				if (f->wdays >> d & 1)
					buf_printf(&days, "%s%s", days.len ? "," : "", week_days[d]);
		}
		break;
	case SCHED_MONTHLY:
		freq = "MONTHLY";
		if (!byday) {
			ok = c.day <= 28;
		} else {
			int nth = (c.day - 1) / 7 + 1;
			bool last = c.day + 7 > days_in_month(c.year, c.month);
			int pos = f->nnth == 1 ? f->nth[0].ord : 0;
			ok = f->nnth == 1 && !f->wdays && f->nth[0].wd == wd &&
			     ((pos >= 1 && pos <= 4 && pos == nth) || (pos == -1 && last));
			if (ok)
				buf_printf(&days, "%d%s", pos, week_days[wd]);
		}
		break;
	case SCHED_YEARLY:
		freq = "YEARLY";
		ok = !byday && !(c.month == 2 && c.day == 29);
		break;
	default:
		ok = false;
	}
	if (ok) {
		buf_printf(rule, "FREQ=%s", freq);
		if (s->rule_interval > 1)
			buf_printf(rule, ";INTERVAL=%d", s->rule_interval);
		if (s->rule_count)
			buf_printf(rule, ";COUNT=%d", s->rule_count);
		if (s->rule_has_until || s->has_until) {
			/* UNTIL is the last instance plus 2 hours: the same set
			 * (instances are at least ~22 h apart), and it survives
			 * clients that test UNTIL against an instance carrying
			 * DTSTART's UTC offset (dateutil with pytz).  A date for
			 * all-day events (RFC 5545: UNTIL has DTSTART's type). */
			int64_t last;
			char u[32];
			if (!last_instance(s, &last))
				ok = false;
			else if (all_day) {
				format_ical(last, false, u, sizeof u);
				buf_printf(rule, ";UNTIL=%.8s", u);
			} else {
				format_ical(tz_wall_to_instant(s->tz, last, NULL) + 7200, true, u,
					    sizeof u);
				buf_printf(rule, ";UNTIL=%s", u);
			}
		}
		if (days.len)
			buf_printf(rule, ";BYDAY=%s", days.data);
	}
	buf_free(&days);
	return ok;
}

/* ------------------------------------------------------------------ */
/* Events                                                              */

struct feed {
	const struct plan *p;
	const char *feed_id;
	const char *stamp;           /* DTSTAMP / LAST-MODIFIED value */
	long sequence;
	bool hide_email;             /* a public feed: no email addresses */
	int64_t from, to;
	struct w w;
	struct zones zones;
};

/*
 * Appends s without its email addresses ("Dana Reyes <dana@x>" -> "Dana
 * Reyes", "dana@x" -> nothing) when hide is set.
 */
static void add_person(struct buf *b, const char *s, bool hide)
{
	if (!hide) {
		buf_adds(b, s);
		return;
	}
	size_t start = b->len;
	bool space = false;
	while (*s) {
		size_t n = *s == '<' ? strcspn(s, ">") + (strchr(s, '>') != NULL)
				     : strcspn(s, " \t<");
		if (n == 0) {
			space = b->len > start;
			s++;
			continue;
		}
		if (!memchr(s, '@', n)) {
			if (space)
				buf_addc(b, ' ');
			buf_add(b, s, n);
			space = false;
		}
		s += n;
	}
}

struct comm_mode {
	bool series;                 /* one master with an RRULE */
	bool utc;                    /* every instance in UTC (zone unsafe) */
	struct buf rule;
};

static void event_common(struct feed *f, const struct plan_comm *c)
{
	const struct plan *p = f->p;
	prop(&f->w, "DTSTAMP:%s", f->stamp);
	prop(&f->w, "LAST-MODIFIED:%s", f->stamp);
	prop(&f->w, "SEQUENCE:%ld", f->sequence);
	prop_text(&f->w, "SUMMARY", c->topic);
	struct buf d;
	buf_init(&d);
	buf_printf(&d, "%s\n", c->topic);
	if (c->description)
		buf_printf(&d, "\n%s\n", c->description);
	if (c->url)
		buf_printf(&d, "\nLink: %s\n", c->url);
	size_t mark = d.len;
	buf_adds(&d, "\nOwner: ");
	size_t len = d.len;
	add_person(&d, c->owner, f->hide_email);
	if (d.len == len) {
		d.len = mark;
		d.data[d.len] = 0;
	}
	buf_printf(&d, "\nAudience%s: ", c->naudiences == 1 ? "" : "s");
	for (size_t i = 0; i < c->naudiences; i++)
		buf_printf(&d, "%s%s", i ? ", " : "", p->audiences[c->audiences[i]].name);
	buf_printf(&d, "\nPlan: %s version %s (%s), communication %s", p->id,
		   p->version, p->title, c->id);
	prop_text(&f->w, "DESCRIPTION", d.data);
	buf_free(&d);
	if (c->location)
		prop_text(&f->w, "LOCATION", c->location);
	if (c->url)
		prop(&f->w, "URL:%s", c->url);
	prop(&f->w, "STATUS:CONFIRMED");
	prop(&f->w, "TRANSP:%s", c->busy ? "OPAQUE" : "TRANSPARENT");
}

/* DTSTART and DTEND of one instance, as the feed writes it. */
static void instance_times(struct feed *f, const struct plan_comm *c,
			   const struct comm_mode *m, const struct occurrence *o)
{
	const struct tz *z = c->sched.tz;
	if (c->all_day) {
		prop_date(&f->w, "DTSTART", o->wall_start);
		prop_date(&f->w, "DTEND", o->wall_start + c->sched.duration);
	} else if (m->utc || on_edge(z, o) || zone_is_utc(z)) {
		f->zones.gmt = true;
		prop_utc(&f->w, "DTSTART", o->start);
		prop_utc(&f->w, "DTEND", o->end);
	} else {
		zone_note(&f->zones, z, o->start, o->end);
		prop_wall(&f->w, "DTSTART", z, o->wall_start);
		prop_wall(&f->w, "DTEND", z, o->wall_end);
	}
}

/* One instance as an event of its own (override: a series member, for an
 * email's attachment). */
static void write_instance(struct feed *f, const struct plan_comm *c,
			   const struct comm_mode *m, const struct occurrence *o)
{
	char t[32];
	prop(&f->w, "BEGIN:VEVENT");
	if (m->series) {
		prop(&f->w, "UID:%s/%s@%s", c->id, f->feed_id, f->p->id);
		event_common(f, c);
		if (c->all_day)
			prop_date(&f->w, "RECURRENCE-ID", o->planned_wall);
		else
			prop_wall(&f->w, "RECURRENCE-ID", c->sched.tz, o->planned_wall);
	} else {
		format_ical(o->planned_wall, false, t, sizeof t);
		prop(&f->w, "UID:%s/%s/%s@%s", c->id, f->feed_id, t, f->p->id);
		event_common(f, c);
	}
	instance_times(f, c, m, o);
	prop(&f->w, "END:VEVENT");
}

/*
 * How far clients will expand a series written as an RRULE: to its UNTIL,
 * or for an open-ended one a horizon of ten years past the window (the
 * feed is re-read long before then).
 */
#define SERIES_HORIZON (10 * 366 * 86400LL)

static int64_t series_reach(const struct schedule *s, int64_t to)
{
	int64_t hi = to + SERIES_HORIZON;
	if (s->rule_has_until && s->rule_until < hi)
		hi = s->rule_until + 86400;
	if (s->has_until) {
		int64_t u = tz_wall_to_instant(s->tz, s->until, NULL) + 86400;
		if (u < hi)
			hi = u;
	}
	return hi > to ? hi : to;
}

struct scan {
	const struct tz *z;
	int64_t start;               /* DTSTART's wall time */
	bool first_seen, first_ok, edge;
};

static int scan_fn(const struct occurrence *o, void *ctx)
{
	struct scan *sc = ctx;
	if (!sc->first_seen) {
		sc->first_seen = true;
		sc->first_ok = o->planned_wall == sc->start;
	}
	if (on_edge(sc->z, o)) {
		sc->edge = true;
		return 1;
	}
	return 0;
}

/*
 * Whether a mappable rule can be written as a series: DTSTART is its first
 * instance (RFC 5545 counts DTSTART as one; dateutil does not), and no
 * instance up to the reach is on a DST edge (nor an except there: an
 * EXDATE at a local time in a gap makes Java clients fail).  An instance
 * can only be on an edge around one of the zone's changes, so only those
 * stretches are expanded (a rule with COUNT counts from DTSTART: all of
 * it).
 */
static bool series_safe(const struct schedule *s, bool all_day, int64_t reach)
{
	struct schedule probe = *s;  /* shallow: the same rule, no exceptions */
	probe.nexcept = 0;
	struct scan sc = { .z = s->tz, .start = s->start };
	int64_t lo = tz_wall_to_instant(s->tz, s->start, NULL) - 2 * 86400;
	if (sched_expand(&probe, lo, lo + 4 * 86400 + s->duration, scan_fn, &sc) < 0)
		return false;
	if (all_day || !sc.first_seen || !sc.first_ok || sc.edge)
		return !all_day ? false : sc.first_seen && sc.first_ok;
	if (s->rule_count) {
		if (sched_expand(&probe, lo, reach, scan_fn, &sc) < 0 || sc.edge)
			return false;
	} else {
		struct tz_change c;
		for (int64_t t = lo; tz_change_after(s->tz, t, &c) && c.at <= reach; t = c.at)
			if (sched_expand(&probe, c.at - 2 * 86400 - s->duration, c.at + 2 * 86400,
					 scan_fn, &sc) < 0 || sc.edge)
				return false;
	}
	for (size_t i = 0; i < s->nexcept; i++) {
		unsigned fl = 0;
		tz_wall_to_instant(s->tz, s->except[i], &fl);
		if (fl)
			return false;
	}
	return true;
}

static void comm_mode(struct feed *f, const struct plan_comm *c, struct comm_mode *m)
{
	const struct schedule *s = &c->sched;
	memset(m, 0, sizeof *m);
	buf_init(&m->rule);
	int64_t reach = series_reach(s, f->to);
	if (!c->all_day && !zone_safe(s->tz, f->from, reach))
		m->utc = true;
	else if (rule_mappable(s, c->all_day, &m->rule) && series_safe(s, c->all_day, reach))
		m->series = true;
}

struct collect {
	struct occurrence *v;
	size_t n;
};

static int collect_fn(const struct occurrence *o, void *ctx)
{
	struct collect *cl = ctx;
	cl->v = xreallocarray(cl->v, cl->n + 1, sizeof *cl->v);
	cl->v[cl->n++] = *o;
	return 0;
}

static int wall_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static void write_master(struct feed *f, const struct plan_comm *c,
			 const struct comm_mode *m)
{
	const struct schedule *s = &c->sched;
	const struct tz *z = s->tz;
	prop(&f->w, "BEGIN:VEVENT");
	prop(&f->w, "UID:%s/%s@%s", c->id, f->feed_id, f->p->id);
	event_common(f, c);
	if (c->all_day) {
		prop_date(&f->w, "DTSTART", s->start);
		prop_date(&f->w, "DTEND", s->start + s->duration);
	} else {
		int64_t st = tz_wall_to_instant(z, s->start, NULL);
		zone_note(&f->zones, z, st, series_reach(s, f->to));
		prop_wall(&f->w, "DTSTART", z, s->start);
		prop_wall(&f->w, "DTEND", z, s->start + s->duration);
	}
	prop(&f->w, "RRULE:%s", m->rule.data);
	int64_t *ex = xcalloc(s->nexcept + 1, sizeof *ex);
	size_t nx = 0;
	for (size_t i = 0; i < s->nexcept; i++)
		if (s->except[i] >= s->start)
			ex[nx++] = s->except[i];
	qsort(ex, nx, sizeof *ex, wall_cmp);
	for (size_t i = 0; i < nx; i++) {
		if (c->all_day)
			prop_date(&f->w, "EXDATE", ex[i]);
		else
			prop_wall(&f->w, "EXDATE", z, ex[i]);
	}
	free(ex);
	prop(&f->w, "END:VEVENT");
}

static enum herald_rc comm_events(struct feed *f, const struct plan_comm *c,
				  struct herald_err *err)
{
	struct comm_mode m;
	comm_mode(f, c, &m);
	if (m.series) {
		write_master(f, c, &m);
		buf_free(&m.rule);
		return H_OK;
	}
	struct collect cl = { 0 };
	if (sched_expand(&c->sched, f->from, f->to, collect_fn, &cl) < 0) {
		free(cl.v);
		buf_free(&m.rule);
		return herald_err_set(err, H_EINVAL,
				      "communications: %s: the schedule has too many occurrences to write",
				      c->id);
	}
	for (size_t i = 0; i < cl.n; i++)
		write_instance(f, c, &m, &cl.v[i]);
	free(cl.v);
	buf_free(&m.rule);
	return H_OK;
}

static bool comm_in_feed(const struct plan_comm *c, long audience)
{
	if (audience < 0)
		return true;
	for (size_t i = 0; i < c->naudiences; i++)
		if (c->audiences[i] == (size_t)audience)
			return true;
	return false;
}

void ics_default_window(const struct plan *p, int64_t now, int64_t *from,
			int64_t *to)
{
	int64_t wall = tz_instant_to_wall(p->tz, now);
	int64_t day = wall >= 0 ? wall / 86400 : -((-wall + 86399) / 86400);
	int y, m, d;
	civil_from_days(day, &y, &m, &d);
	*from = tz_wall_to_instant(p->tz, (day - 90) * 86400, NULL);
	m += 13;
	y += (m - 1) / 12;
	m = (m - 1) % 12 + 1;
	if (d > days_in_month(y, m))
		d = days_in_month(y, m);
	*to = tz_wall_to_instant(p->tz, days_from_civil(y, m, d) * 86400, NULL);
}

/* A feed's fixed parts: stamp, SEQUENCE, who may see email addresses. */
static void feed_init(struct feed *f, const struct plan *p, long audience,
		      int64_t from, int64_t to, char stamp[32], struct buf *events)
{
	memset(f, 0, sizeof *f);
	snprintf(stamp, 32, "20000101T000000Z");
	int64_t ap;
	/* SEQUENCE: the approval date as YYYYMMDD, so it grows with every
	 * approved version and is the same in every feed and email. */
	if (p->approved_on && parse_date(p->approved_on, &ap)) {
		format_ical(ap, true, stamp, 32);
		f->sequence = strtol(stamp, NULL, 10);
	}
	f->p = p;
	f->feed_id = audience >= 0 ? p->audiences[audience].id : "all";
	f->stamp = stamp;
	f->hide_email = audience >= 0 && p->audiences[audience].feed == FEED_PUBLIC &&
			!p->audiences[audience].feed_email;
	f->from = from;
	f->to = to;
	f->w.out = events;
	buf_init(&f->w.line);
}

/* The calendar's head, its VTIMEZONEs, the events, the end. */
static void feed_finish(struct feed *f, struct buf *out, const struct buf *events,
			bool header)
{
	const struct plan *p = f->p;
	struct w *w = &f->w;
	w->out = out;
	prop(w, "BEGIN:VCALENDAR");
	prop(w, "VERSION:2.0");
	prop(w, "PRODID:-//herald//herald %s//EN", HERALD_VERSION);
	prop(w, "CALSCALE:GREGORIAN");
	prop(w, "METHOD:PUBLISH");
	if (header) {
		const struct plan_audience *a = strcmp(f->feed_id, "all") == 0 ? NULL
			: &p->audiences[plan_audience_index(p, f->feed_id)];
		struct buf name;
		buf_init(&name);
		if (a && a->feed_name) {
			buf_adds(&name, a->feed_name);
		} else {
			buf_adds(&name, p->title);
			if (a)
				buf_printf(&name, ": %s", a->name);
		}
		prop_text(w, "X-WR-CALNAME", name.data);
		buf_reset(&name);
		buf_printf(&name, "%s version %s (ISMS communication plan", p->id, p->version);
		size_t len = name.len;
		buf_adds(&name, ", owner ");
		size_t len2 = name.len;
		add_person(&name, p->owner, f->hide_email);
		if (name.len == len2) {
			name.len = len;
			name.data[len] = 0;
		}
		buf_adds(&name, ")");
		prop_text(w, "X-WR-CALDESC", name.data);
		buf_free(&name);
		prop(w, "X-WR-TIMEZONE:%s", p->tzid);
		prop(w, "REFRESH-INTERVAL;VALUE=DURATION:PT1H");
		prop(w, "X-PUBLISHED-TTL:PT1H");
	}
	/* RFC 5545 wants a component: an empty feed gets the plan's zone. */
	if (!events->len)
		zone_note(&f->zones, p->tz, f->from, f->to);
	if (f->zones.n > 1)
		qsort(f->zones.v, f->zones.n, sizeof *f->zones.v, zone_cmp);
	if (f->zones.gmt) {
		prop(w, "BEGIN:VTIMEZONE");
		prop(w, "TZID:" GMT_TZID);
		observance(w, false, 0, 0, 0, "GMT", NULL);
		prop(w, "END:VTIMEZONE");
	}
	for (size_t i = 0; i < f->zones.n; i++) {
		int64_t lo = f->zones.v[i].lo < f->from ? f->zones.v[i].lo : f->from;
		int64_t hi = f->zones.v[i].hi > f->to ? f->zones.v[i].hi : f->to;
		vtimezone(w, f->zones.v[i].z, lo, hi);
	}
	if (events->len)
		buf_add(out, events->data, events->len);
	prop(w, "END:VCALENDAR");
}

static void feed_free(struct feed *f)
{
	buf_free(&f->w.line);
	free(f->zones.v);
}

enum herald_rc ics_render(const struct plan *p, const struct ics_opts *o,
			  struct buf *out, struct herald_err *err)
{
	struct buf events;
	buf_init(&events);
	char stamp[32];
	struct feed f;
	feed_init(&f, p, o->audience, o->from, o->to, stamp, &events);
	enum herald_rc rc = H_OK;
	for (size_t i = 0; i < p->ncomms && !rc; i++) {
		const struct plan_comm *c = &p->comms[i];
		if (c->sched.kind == SCHED_MANUAL || !comm_in_feed(c, o->audience))
			continue;
		rc = comm_events(&f, c, err);
	}
	if (!rc)
		feed_finish(&f, out, &events, true);
	buf_free(&events);
	feed_free(&f);
	return rc;
}

struct find {
	int64_t start;
	struct occurrence o;
	bool found;
};

static int find_fn(const struct occurrence *o, void *ctx)
{
	struct find *fd = ctx;
	if (o->start != fd->start)
		return 0;
	fd->o = *o;
	fd->found = true;
	return 1;
}

enum herald_rc ics_occurrence(const struct plan *p, size_t comm, long audience,
			      int64_t start, int64_t now, struct buf *out,
			      struct herald_err *err)
{
	const struct plan_comm *c = &p->comms[comm];
	struct find fd = { .start = start };
	sched_expand(&c->sched, start, start + 1, find_fn, &fd);
	if (!fd.found)
		return herald_err_set(err, H_EINVAL, "communication %s has no occurrence then",
				      c->id);
	int64_t from, to;
	ics_default_window(p, now, &from, &to);
	struct buf events;
	buf_init(&events);
	char stamp[32];
	struct feed f;
	feed_init(&f, p, audience, from, to, stamp, &events);
	struct comm_mode m;
	comm_mode(&f, c, &m);
	write_instance(&f, c, &m, &fd.o);
	buf_free(&m.rule);
	feed_finish(&f, out, &events, false);
	buf_free(&events);
	feed_free(&f);
	return H_OK;
}
