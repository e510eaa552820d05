/*
 * ics.c - writes a plan's feed as an iCalendar VCALENDAR (see ics.h for
 * the choices a feed makes and why).
 *
 * Written by hand rather than through libical's serializer: libical
 * prefixes TZIDs, writes VTIMEZONEs with every transition since 1970 and
 * orders properties by its own rules; here every byte is decided in one
 * place, which is what byte-identical output needs.  libical is still asked
 * the RRULE's parts and the zone's daylight flag.
 */
#include "herald/ics.h"

#include <libical/ical.h>
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

/* A content line under construction; prop_end folds it into out. */
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

/* An occurrence whose reading differs between clients. */
static bool on_edge(const struct occurrence *o)
{
	return o->flags || o->start_offset != o->end_offset;
}

/* ------------------------------------------------------------------ */
/* Zones used, with the earliest instant written in each               */

struct zone_use {
	const struct tz *z;
	int64_t lo;     /* earliest instant written */
	int64_t hi;     /* latest instant a client may compute (0: the window) */
};

struct zones {
	struct zone_use *v;
	size_t n;
};

static void zone_note(struct zones *zs, const struct tz *z, int64_t instant)
{
	if (zone_is_utc(z))
		return;
	for (size_t i = 0; i < zs->n; i++)
		if (zs->v[i].z == z) {
			if (instant < zs->v[i].lo)
				zs->v[i].lo = instant;
			return;
		}
	zs->v = xreallocarray(zs->v, zs->n + 1, sizeof *zs->v);
	zs->v[zs->n++] = (struct zone_use){ z, instant, 0 };
}

/* A series runs on past the window: its zone must be described as far. */
static void zone_reach(struct zones *zs, const struct tz *z, int64_t hi)
{
	for (size_t i = 0; i < zs->n; i++)
		if (zs->v[i].z == z && hi > zs->v[i].hi)
			zs->v[i].hi = hi;
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

static int zone_cmp(const void *a, const void *b)
{
	return strcmp(tz_name(((const struct zone_use *)a)->z),
		      tz_name(((const struct zone_use *)b)->z));
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

static void observance(struct w *w, bool dst, int64_t wall, int from, int to)
{
	char t[32], f[16], o[16];
	format_ical(wall, false, t, sizeof t);
	format_offset(from, f, sizeof f);
	format_offset(to, o, sizeof o);
	const char *kind = dst ? "DAYLIGHT" : "STANDARD";
	prop(w, "BEGIN:%s", kind);
	prop(w, "DTSTART:%s", t);
	prop(w, "TZOFFSETFROM:%s", f);
	prop(w, "TZOFFSETTO:%s", o);
	prop(w, "END:%s", kind);
}

/*
 * A VTIMEZONE with the zone's transitions in [lo, hi], each its own
 * observance, preceded by the one in force at lo.  Transitions are found
 * by sampling every 6 hours and bisecting to the second.
 */
static void vtimezone(struct w *w, const struct tz *z, int64_t lo, int64_t hi)
{
	enum { STEP = 6 * 3600 };
	prop(w, "BEGIN:VTIMEZONE");
	prop(w, "TZID:%s", tz_name(z));
	/* The observance in force at lo starts at the last change before it
	 * (searched up to ~2 years back), or at 1970 for a fixed zone. */
	int dst0, off0 = tz_ical_offset(z, lo, &dst0);
	int64_t t = lo, start = INT64_MIN;
	int prev_off = off0;
	for (int64_t k = 0; k < 2 * 366 * 4; k++) {
		int d, off = tz_ical_offset(z, t - STEP, &d);
		if (off != off0 || d != dst0) {
			prev_off = off;
			/* bisect (t - STEP, t] for the first second of off0 */
			int64_t a = t - STEP, b = t;
			while (b - a > 1) {
				int64_t m = a + (b - a) / 2;
				int dm, om = tz_ical_offset(z, m, &dm);
				if (om == off0 && dm == dst0)
					b = m;
				else
					a = m;
			}
			start = b;
			break;
		}
		t -= STEP;
	}
	if (start == INT64_MIN)
		observance(w, dst0, 0, off0, off0);
	else
		observance(w, dst0, start + prev_off, prev_off, off0);
	int cur = off0, curdst = dst0;
	for (t = lo; t < hi; t += STEP) {
		int d, off = tz_ical_offset(z, t + STEP, &d);
		if (off == cur && d == curdst)
			continue;
		int64_t a = t, b = t + STEP;
		while (b - a > 1) {
			int64_t m = a + (b - a) / 2;
			int dm, om = tz_ical_offset(z, m, &dm);
			if (om == cur && dm == curdst)
				a = m;
			else
				b = m;
		}
		int dn, on = tz_ical_offset(z, b, &dn);
		if (b <= hi)
			observance(w, dn, b + cur, cur, on);
		cur = on;
		curdst = dn;
	}
	prop(w, "END:VTIMEZONE");
}

/* ------------------------------------------------------------------ */
/* RRULEs that every client maps                                       */

static bool array_empty(const short *a)
{
	return a[0] == ICAL_RECURRENCE_ARRAY_MAX;
}

static const char *const ical_days[] = { "", "SU", "MO", "TU", "WE", "TH", "FR", "SA" };

static int keep_last(const struct occurrence *o, void *ctx)
{
	*(int64_t *)ctx = o->start;
	return 0;
}

/* The start of the schedule's last instance (bounded by an UNTIL). */
static bool last_instance(const struct schedule *s, int64_t *last)
{
	int64_t hi = s->rule_has_until ? s->rule_until + 1 : INT64_MAX;
	if (s->has_until && s->until + 86400 < hi)
		hi = s->until + 86400;   /* wall ~ instant within a day */
	*last = INT64_MIN;
	if (sched_expand(s, s->start - 2 * 86400, hi, keep_last, last) < 0)
		return false;
	return *last != INT64_MIN;
}

/*
 * Writes into rule the RRULE for s when every major client reads it the
 * same way (see ics.h), else returns false (the schedule is expanded).
 */
static bool rule_mappable(const struct schedule *s, const struct tz *z,
			  struct buf *rule)
{
	if (strstr(s->rrule, "WKST") || (s->has_until && (s->rule_count || s->rule_has_until)))
		return false;
	icalerror_clear_errno();
	struct icalrecurrencetype r = icalrecurrencetype_from_string(s->rrule);
	icalerror_clear_errno();
	if (!array_empty(r.by_second) || !array_empty(r.by_minute) ||
	    !array_empty(r.by_hour) || !array_empty(r.by_month_day) ||
	    !array_empty(r.by_year_day) || !array_empty(r.by_week_no) ||
	    !array_empty(r.by_month) || !array_empty(r.by_set_pos))
		return false;
	struct civil c;
	secs_to_civil(s->start, &c);
	int64_t days = days_from_civil(c.year, c.month, c.day);
	int wd = (weekday_from_days(days) + 1) % 7 + 1;   /* libical: SU=1 */
	size_t nday = 0;
	bool start_in = false;
	for (; nday < ICAL_BY_DAY_SIZE && r.by_day[nday] != ICAL_RECURRENCE_ARRAY_MAX; nday++)
		if ((int)icalrecurrencetype_day_day_of_week(r.by_day[nday]) == wd)
			start_in = true;
	const char *freq;
	struct buf byday;
	buf_init(&byday);
	bool ok = true;
	switch (r.freq) {
	case ICAL_DAILY_RECURRENCE:
		freq = "DAILY";
		ok = nday == 0;
		break;
	case ICAL_WEEKLY_RECURRENCE:
		freq = "WEEKLY";
		if (nday) {
			ok = start_in && (r.interval == 1 || nday == 1);
			/* In week order from Monday, as clients write it back. */
			for (int d = 2; ok && d <= 8; d++)
				for (size_t i = 0; i < nday; i++) {
					int dw = (int)icalrecurrencetype_day_day_of_week(r.by_day[i]);
					if (icalrecurrencetype_day_position(r.by_day[i]) != 0)
						ok = false;
					else if (dw == (d == 8 ? 1 : d))
						buf_printf(&byday, "%s%s", byday.len ? "," : "", ical_days[dw]);
				}
		}
		break;
	case ICAL_MONTHLY_RECURRENCE:
		freq = "MONTHLY";
		if (nday == 0) {
			ok = c.day <= 28;
		} else {
			int pos = icalrecurrencetype_day_position(r.by_day[0]);
			int nth = (c.day - 1) / 7 + 1;
			bool last = c.day + 7 > days_in_month(c.year, c.month);
			ok = nday == 1 && start_in &&
			     ((pos >= 1 && pos <= 4 && pos == nth) || (pos == -1 && last));
			if (ok)
				buf_printf(&byday, "%d%s", pos, ical_days[wd]);
		}
		break;
	case ICAL_YEARLY_RECURRENCE:
		freq = "YEARLY";
		ok = nday == 0 && !(c.month == 2 && c.day == 29);
		break;
	default:
		ok = false;
		freq = "";
	}
	if (ok) {
		buf_printf(rule, "FREQ=%s", freq);
		if (r.interval > 1)
			buf_printf(rule, ";INTERVAL=%d", r.interval);
		if (s->rule_count)
			buf_printf(rule, ";COUNT=%d", s->rule_count);
		if (s->rule_has_until || s->has_until) {
			/* UNTIL is the last instance plus 2 hours: the same set
			 * (instances are at least ~22 h apart), and it survives
			 * clients that test UNTIL against an instance carrying
			 * DTSTART's UTC offset (dateutil with pytz). */
			int64_t last;
			if (!last_instance(s, &last))
				ok = false;
			char u[32];
			format_ical(last + 7200, true, u, sizeof u);
			buf_printf(rule, ";UNTIL=%s", u);
		}
		if (byday.len)
			buf_printf(rule, ";BYDAY=%s", byday.data);
	}
	buf_free(&byday);
	return ok;
}

/* ------------------------------------------------------------------ */
/* Events                                                              */

struct feed {
	const struct plan *p;
	const char *feed_id;
	const char *stamp;           /* DTSTAMP / LAST-MODIFIED value */
	bool gmt;                    /* Etc/GMT used */
	struct w w;
	struct zones zones;
};

static void event_common(struct feed *f, const struct plan_comm *c)
{
	const struct plan *p = f->p;
	prop(&f->w, "DTSTAMP:%s", f->stamp);
	prop(&f->w, "LAST-MODIFIED:%s", f->stamp);
	prop_text(&f->w, "SUMMARY", c->topic);
	struct buf d;
	buf_init(&d);
	buf_printf(&d, "%s\n", c->topic);
	if (c->description)
		buf_printf(&d, "\n%s\n", c->description);
	buf_printf(&d, "\nOwner: %s\nAudience%s: ", c->owner, c->naudiences == 1 ? "" : "s");
	for (size_t i = 0; i < c->naudiences; i++)
		buf_printf(&d, "%s%s", i ? ", " : "", p->audiences[c->audiences[i]].name);
	buf_printf(&d, "\nPlan: %s version %s (%s), communication %s", p->id,
		   p->version, p->title, c->id);
	prop_text(&f->w, "DESCRIPTION", d.data);
	buf_free(&d);
	prop(&f->w, "STATUS:CONFIRMED");
	prop(&f->w, "TRANSP:TRANSPARENT");
}

static void event_times(struct feed *f, const struct tz *z,
			const struct occurrence *o)
{
	if (on_edge(o) || zone_is_utc(z)) {
		f->gmt = true;
		prop_utc(&f->w, "DTSTART", o->start);
		prop_utc(&f->w, "DTEND", o->end);
	} else {
		zone_note(&f->zones, z, o->start);
		prop_wall(&f->w, "DTSTART", z, o->wall_start);
		prop_wall(&f->w, "DTEND", z, o->wall_end);
	}
}

static int wall_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

struct collect {
	struct occurrence *v;
	size_t n;
	bool edges_only;
};

static int collect_fn(const struct occurrence *o, void *ctx)
{
	struct collect *cl = ctx;
	if (cl->edges_only && !on_edge(o))
		return 0;
	cl->v = xreallocarray(cl->v, cl->n + 1, sizeof *cl->v);
	cl->v[cl->n++] = *o;
	return 0;
}

static enum herald_rc comm_events(struct feed *f, const struct plan_comm *c,
				  int64_t from, int64_t to, struct herald_err *err)
{
	const struct schedule *s = &c->sched;
	const struct tz *z = s->tz;
	char uid[512];
	snprintf(uid, sizeof uid, "%s/%s@%s", c->id, f->feed_id, f->p->id);
	struct buf rule;
	buf_init(&rule);
	bool series = s->kind == SCHED_RRULE && rule_mappable(s, z, &rule);
	struct collect cl = { .edges_only = series };
	/* A series' DST-edge instances are pulled out of it (EXDATE) and
	 * written in UTC as far as clients will expand it, not just over the
	 * window. */
	int64_t reach = series ? series_reach(s, to) : to;
	if (sched_expand(s, from, reach, collect_fn, &cl) < 0) {
		free(cl.v);
		buf_free(&rule);
		return herald_err_set(err, H_EINVAL,
				      "communications: %s: the schedule has too many occurrences to write",
				      c->id);
	}
	char t[32];
	if (series) {
		/* The master: DTSTART is the start, which rule_mappable made
		 * sure is the rule's first instance.  Edge instances are
		 * excluded from it and written as UTC events of their own. */
		int64_t st = zone_is_utc(z) ? s->start : tz_wall_to_instant(z, s->start, NULL);
		zone_note(&f->zones, z, st);
		zone_reach(&f->zones, z, reach);
		f->gmt |= zone_is_utc(z);
		prop(&f->w, "BEGIN:VEVENT");
		prop(&f->w, "UID:%s", uid);
		event_common(f, c);
		prop_wall(&f->w, "DTSTART", z, s->start);
		prop_wall(&f->w, "DTEND", z, s->start + s->duration);
		prop(&f->w, "RRULE:%s", rule.data);
		size_t nx = 0;
		int64_t *ex = xcalloc(s->nexcept + cl.n + 1, sizeof *ex);
		for (size_t i = 0; i < s->nexcept; i++)
			if (s->except[i] >= s->start)
				ex[nx++] = s->except[i];
		for (size_t i = 0; i < cl.n; i++)
			ex[nx++] = cl.v[i].planned_wall;
		qsort(ex, nx, sizeof *ex, wall_cmp);
		for (size_t i = 0; i < nx; i++)
			if (i == 0 || ex[i] != ex[i - 1])
				prop_wall(&f->w, "EXDATE", z, ex[i]);
		free(ex);
		prop(&f->w, "END:VEVENT");
	}
	for (size_t i = 0; i < cl.n; i++) {
		format_ical(cl.v[i].planned_wall, false, t, sizeof t);
		prop(&f->w, "BEGIN:VEVENT");
		prop(&f->w, "UID:%s/%s/%s@%s", c->id, f->feed_id, t, f->p->id);
		event_common(f, c);
		event_times(f, z, &cl.v[i]);
		prop(&f->w, "END:VEVENT");
	}
	free(cl.v);
	buf_free(&rule);
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

enum herald_rc ics_render(const struct plan *p, const struct ics_opts *o,
			  struct buf *out, struct herald_err *err)
{
	struct buf events;
	buf_init(&events);
	char stamp[32] = "20000101T000000Z";
	int64_t ap;
	if (p->approved_on && parse_date(p->approved_on, &ap))
		format_ical(ap, true, stamp, sizeof stamp);
	struct feed f = {
		.p = p,
		.feed_id = o->audience >= 0 ? p->audiences[o->audience].id : "all",
		.stamp = stamp,
		.w = { .out = &events },
	};
	buf_init(&f.w.line);
	enum herald_rc rc = H_OK;
	for (size_t i = 0; i < p->ncomms && !rc; i++) {
		const struct plan_comm *c = &p->comms[i];
		if (c->sched.kind == SCHED_MANUAL || !comm_in_feed(c, o->audience))
			continue;
		rc = comm_events(&f, c, o->from, o->to, err);
	}
	if (rc) {
		buf_free(&events);
		buf_free(&f.w.line);
		free(f.zones.v);
		return rc;
	}
	struct w *w = &f.w;
	w->out = out;
	prop(w, "BEGIN:VCALENDAR");
	prop(w, "VERSION:2.0");
	prop(w, "PRODID:-//herald//herald %s//EN", HERALD_VERSION);
	prop(w, "CALSCALE:GREGORIAN");
	prop(w, "METHOD:PUBLISH");
	struct buf name;
	buf_init(&name);
	buf_adds(&name, p->title);
	if (o->audience >= 0)
		buf_printf(&name, ": %s", p->audiences[o->audience].name);
	prop_text(w, "X-WR-CALNAME", name.data);
	buf_reset(&name);
	buf_printf(&name, "%s version %s (ISMS communication plan, owner %s)",
		   p->id, p->version, p->owner);
	prop_text(w, "X-WR-CALDESC", name.data);
	buf_free(&name);
	prop(w, "X-WR-TIMEZONE:%s", p->tzid);
	prop(w, "REFRESH-INTERVAL;VALUE=DURATION:PT1H");
	prop(w, "X-PUBLISHED-TTL:PT1H");
	if (f.zones.n > 1)
		qsort(f.zones.v, f.zones.n, sizeof *f.zones.v, zone_cmp);
	if (f.gmt) {
		prop(w, "BEGIN:VTIMEZONE");
		prop(w, "TZID:" GMT_TZID);
		observance(w, false, 0, 0, 0);
		prop(w, "END:VTIMEZONE");
	}
	for (size_t i = 0; i < f.zones.n; i++) {
		int64_t lo = f.zones.v[i].lo < o->from ? f.zones.v[i].lo : o->from;
		int64_t hi = f.zones.v[i].hi > o->to ? f.zones.v[i].hi : o->to;
		vtimezone(w, f.zones.v[i].z, lo, hi);
	}
	if (events.len)
		buf_add(out, events.data, events.len);
	prop(w, "END:VCALENDAR");
	buf_free(&events);
	buf_free(&f.w.line);
	free(f.zones.v);
	return H_OK;
}
