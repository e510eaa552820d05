/*
 * tz.c - time zones from the system's TZif files (see tz.h).
 *
 * A zone is its list of offset changes: those of the file (RFC 8536,
 * version 2 and later: 64-bit times), then those of its POSIX rule,
 * generated up to year 2200 (later instants ask the rule directly).  An
 * offset is one binary search.  Reading the files ourselves, rather than
 * through libical, gives the current rule that VTIMEZONEs publish, and
 * answers exactly what python's zoneinfo and the clients' libraries do
 * (libical 3.0.16's own local->UTC picks wrong offsets at gaps and
 * overlaps, and its zone lookup was a third of `agenda`).
 */
#include "herald/tz.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/timeutil.h"
#include "herald/util.h"

#define TZ_MAX_FILE (1u << 20)
#define GEN_LAST_YEAR 2200

struct tz {
	char *name;
	struct tz_change first;      /* the offset before any change */
	struct tz_change *ch;        /* changes, by instant */
	size_t n, ntable;            /* all; those read from the file */
	bool has_rule;
	struct tz_rule rule;
	struct tz *next;
};

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tz *tz_list;

/* ------------------------------------------------------------ rules */

int64_t tz_rule_wall(const struct tz_rule_date *d, int year)
{
	int64_t first = days_from_civil(year, d->month, 1);
	int dim = days_in_month(year, d->month);
	int64_t day;
	if (d->week == 5) {
		int64_t last = first + dim - 1;
		int wd = (weekday_from_days(last) + 1) % 7;   /* 0 = Sunday */
		day = last - (wd - d->wday + 7) % 7;
	} else {
		int wd = (weekday_from_days(first) + 1) % 7;
		day = first + (d->wday - wd + 7) % 7 + 7 * (d->week - 1);
	}
	return day * 86400 + d->time;
}

/* The rule's transitions of local years y-1 … y+1 as instants, sorted,
 * with the offset each one starts. */
static int rule_year_changes(const struct tz_rule *r, int y, int64_t at[6], int off[6])
{
	int n = 0;
	for (int k = y - 1; k <= y + 1; k++) {
		at[n] = tz_rule_wall(&r->start, k) - r->std_off;
		off[n++] = r->dst_off;
		at[n] = tz_rule_wall(&r->end, k) - r->dst_off;
		off[n++] = r->std_off;
	}
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && at[j] < at[j - 1]; j--) {
			int64_t t = at[j];
			at[j] = at[j - 1];
			at[j - 1] = t;
			int o = off[j];
			off[j] = off[j - 1];
			off[j - 1] = o;
		}
	return n;
}

static int year_of(int64_t t)
{
	int y, m, d;
	civil_from_days(t >= 0 ? t / 86400 : -((-t + 86399) / 86400), &y, &m, &d);
	return y;
}

static int rule_offset(const struct tz_rule *r, int64_t t)
{
	if (!r->has_dst)
		return r->std_off;
	int64_t at[6];
	int off[6];
	int n = rule_year_changes(r, year_of(t), at, off);
	int cur = off[n - 1] == r->dst_off ? r->std_off : r->dst_off;
	for (int i = 0; i < n && at[i] <= t; i++)
		cur = off[i];
	return cur;
}

/* The first rule transition after t (INT64_MAX if none). */
static int64_t rule_next_change(const struct tz_rule *r, int64_t t)
{
	if (!r->has_dst)
		return INT64_MAX;
	for (int y = year_of(t); y <= year_of(t) + 2; y++) {
		int64_t at[6];
		int off[6];
		int n = rule_year_changes(r, y, at, off);
		for (int i = 0; i < n; i++)
			if (at[i] > t)
				return at[i];
	}
	return INT64_MAX;
}

/* ------------------------------------------------- POSIX TZ strings */

static bool posix_name(const char **p, char *out)
{
	const char *s = *p;
	size_t n = 0;
	if (*s == '<') {
		s++;
		while (*s && *s != '>' && n < 15)
			out[n++] = *s++;
		if (*s != '>')
			return false;
		s++;
	} else {
		while (((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')) && n < 15)
			out[n++] = *s++;
	}
	out[n] = 0;
	*p = s;
	return n >= 1;
}

/* [+-]h[h[h]][:mm[:ss]] in seconds. */
static bool posix_time(const char **p, int max_hours, int32_t *out)
{
	const char *s = *p;
	int sign = 1;
	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	int v[3] = { 0, 0, 0 };
	for (int k = 0; k < 3; k++) {
		if (k && *s != ':')
			break;
		if (k)
			s++;
		if (*s < '0' || *s > '9')
			return false;
		int x = 0, digits = 0;
		while (*s >= '0' && *s <= '9' && digits < 3) {
			x = x * 10 + (*s++ - '0');
			digits++;
		}
		v[k] = x;
	}
	if (v[0] > max_hours || v[1] > 59 || v[2] > 59)
		return false;
	*out = sign * (v[0] * 3600 + v[1] * 60 + v[2]);
	*p = s;
	return true;
}

static bool posix_date(const char **p, struct tz_rule_date *d)
{
	const char *s = *p;
	if (*s++ != 'M')
		return false;   /* Jn and n forms: no zone uses them */
	int v[3];
	for (int k = 0; k < 3; k++) {
		if (k && *s++ != '.')
			return false;
		if (*s < '0' || *s > '9')
			return false;
		v[k] = 0;
		while (*s >= '0' && *s <= '9')
			v[k] = v[k] * 10 + (*s++ - '0');
	}
	if (v[0] < 1 || v[0] > 12 || v[1] < 1 || v[1] > 5 || v[2] > 6)
		return false;
	d->month = v[0];
	d->week = v[1];
	d->wday = v[2];
	d->time = 7200;
	if (*s == '/') {
		s++;
		if (!posix_time(&s, 167, &d->time))
			return false;
	}
	*p = s;
	return true;
}

static bool posix_parse(const char *s, struct tz_rule *r)
{
	memset(r, 0, sizeof *r);
	int32_t t;
	if (!posix_name(&s, r->std_abbr) || !posix_time(&s, 24, &t))
		return false;
	r->std_off = -t;   /* POSIX offsets are west-positive */
	if (!*s) {
		r->dst_off = r->std_off;
		return true;
	}
	if (!posix_name(&s, r->dst_abbr))
		return false;
	r->dst_off = r->std_off + 3600;
	if (*s && *s != ',') {
		if (!posix_time(&s, 24, &t))
			return false;
		r->dst_off = -t;
	}
	if (*s != ',')
		return false;
	s++;
	if (!posix_date(&s, &r->start) || *s++ != ',' || !posix_date(&s, &r->end) || *s)
		return false;
	r->has_dst = true;
	return true;
}

/* -------------------------------------------------------- TZif files */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_counts {
	uint32_t isut, isstd, leap, time, type, chr;
};

static bool tzif_header(const unsigned char *p, size_t len, struct tzif_counts *c)
{
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return false;
	c->isut = be32(p + 20);
	c->isstd = be32(p + 24);
	c->leap = be32(p + 28);
	c->time = be32(p + 32);
	c->type = be32(p + 36);
	c->chr = be32(p + 40);
	return c->type >= 1 && c->type <= 256 && c->time <= 100000 && c->chr <= 4096 &&
	       c->isut <= c->type && c->isstd <= c->type && c->leap <= 10000;
}

static size_t tzif_body(const struct tzif_counts *c, size_t tsize)
{
	return c->time * tsize + c->time + c->type * 6 + c->chr + c->leap * (tsize + 4) +
	       c->isstd + c->isut;
}

static void copy_abbr(char *out, const unsigned char *chars, uint32_t nchars, unsigned idx)
{
	size_t n = 0;
	for (; idx + n < nchars && chars[idx + n] && n < 15; n++)
		out[n] = (char)chars[idx + n];
	out[n] = 0;
}

static void add_change(struct tz *z, size_t *cap, int64_t at, int to, bool dst,
		       const char *abbr)
{
	int from = z->n ? z->ch[z->n - 1].to : z->first.to;
	if (to == from)
		return;
	if (z->n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		z->ch = xreallocarray(z->ch, *cap, sizeof *z->ch);
	}
	struct tz_change *c = &z->ch[z->n++];
	c->at = at;
	c->from = from;
	c->to = to;
	c->dst = dst;
	snprintf(c->abbr, sizeof c->abbr, "%s", abbr);
}

/* Reads a TZif file (version 2 or later) into z; false if it is not one. */
static bool tzif_load(struct tz *z, const unsigned char *p, size_t len, size_t *cap)
{
	struct tzif_counts c;
	if (!tzif_header(p, len, &c) || p[4] < '2')
		return false;
	size_t off = 44 + tzif_body(&c, 4);
	if (off > len || !tzif_header(p + off, len - off, &c) || c.leap)
		return false;   /* leap-second ("right/") zones are not civil time */
	const unsigned char *d = p + off + 44;
	size_t body = tzif_body(&c, 8);
	if (off + 44 + body > len)
		return false;
	const unsigned char *times = d, *idx = d + c.time * 8, *types = idx + c.time;
	const unsigned char *chars = types + c.type * 6;
	z->first.at = INT64_MIN;
	z->first.from = z->first.to = (int32_t)be32(types);
	z->first.dst = types[4];
	copy_abbr(z->first.abbr, chars, c.chr, types[5]);
	for (uint32_t i = 0; i < c.time; i++) {
		unsigned k = idx[i];
		if (k >= c.type)
			return false;
		const unsigned char *t = types + 6 * k;
		char abbr[16];
		copy_abbr(abbr, chars, c.chr, t[5]);
		add_change(z, cap, be64(times + 8 * i), (int32_t)be32(t), t[4], abbr);
	}
	z->ntable = z->n;
	/* The footer: "\nTZ\n" after the data. */
	const char *f = (const char *)d + body;
	size_t flen = len - (off + 44 + body);
	if (flen >= 2 && f[0] == '\n' && f[flen - 1] == '\n' && flen < 100) {
		char tzs[100];
		memcpy(tzs, f + 1, flen - 2);
		tzs[flen - 2] = 0;
		z->has_rule = tzs[0] && posix_parse(tzs, &z->rule);
	}
	return true;
}

/* The changes of the rule after the file's last one, to GEN_LAST_YEAR. */
static void rule_extend(struct tz *z, size_t *cap)
{
	const struct tz_rule *r = &z->rule;
	if (!r->has_dst)
		return;
	int64_t last = z->n ? z->ch[z->n - 1].at : INT64_MIN;
	int y0 = z->n ? year_of(last) : 1970;
	for (int y = y0; y <= GEN_LAST_YEAR; y++) {
		int64_t at[2] = { tz_rule_wall(&r->start, y) - r->std_off,
				  tz_rule_wall(&r->end, y) - r->dst_off };
		int off[2] = { r->dst_off, r->std_off };
		int o = at[0] > at[1];
		for (int k = 0; k < 2; k++) {
			int i = (k + o) % 2;
			if (at[i] > last) {
				add_change(z, cap, at[i], off[i], i == 0,
					   i == 0 ? r->dst_abbr : r->std_abbr);
				last = at[i];
			}
		}
	}
}

/*
 * Since when the rule alone describes the zone: walking back from the
 * file's last change, as long as each change is one of the rule's and the
 * rule has no other change before the next one.
 */
static int64_t rule_since(const struct tz *z)
{
	const struct tz_rule *r = &z->rule;
	for (size_t k = z->ntable; k-- > 0;) {
		const struct tz_change *c = &z->ch[k];
		int64_t next = k + 1 < z->n ? z->ch[k + 1].at : INT64_MAX;
		if (rule_offset(r, c->at) != c->to || rule_next_change(r, c->at) < next)
			return next;
		if (rule_offset(r, c->at - 1) != c->from)
			return c->at;
	}
	return INT64_MIN;
}

static bool valid_name(const char *name)
{
	size_t n = strlen(name);
	if (!n || n > 64 || name[0] == '/' || name[n - 1] == '/' ||
	    strncmp(name, "posix/", 6) == 0 || strncmp(name, "right/", 6) == 0 ||
	    strcmp(name, "posixrules") == 0 || strcmp(name, "localtime") == 0 ||
	    strcmp(name, "Factory") == 0)
		return false;
	for (const char *s = name; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || strchr("/_+-.", *s)))
			return false;
	/* No "." or ".." component, no empty one. */
	for (const char *s = name; s; s = strchr(s, '/')) {
		if (*s == '/')
			s++;
		if (*s == '/' || *s == '.')
			return false;
	}
	return true;
}

static struct tz *zone_load(const char *name)
{
	struct tz *z = xcalloc(1, sizeof *z);
	z->name = xstrdup(name);
	size_t cap = 0;
	if (strcmp(name, "UTC") == 0) {
		z->first = (struct tz_change){ .at = INT64_MIN, .abbr = "UTC" };
		z->has_rule = true;
		snprintf(z->rule.std_abbr, sizeof z->rule.std_abbr, "UTC");
		z->rule.since = INT64_MIN;
		return z;
	}
	const char *dir = getenv("TZDIR");
	char *path = xasprintf("%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
	char *data = NULL;
	size_t len = 0;
	bool ok = read_file(path, TZ_MAX_FILE, &data, &len) == 0 &&
		  tzif_load(z, (const unsigned char *)data, len, &cap);
	free(path);
	free(data);
	if (!ok) {
		free(z->ch);
		free(z->name);
		free(z);
		return NULL;
	}
	if (z->has_rule) {
		rule_extend(z, &cap);
		z->rule.since = rule_since(z);
	}
	return z;
}

const struct tz *tz_get(const char *name)
{
	if (!name || !valid_name(name))
		return NULL;
	pthread_mutex_lock(&tz_lock);
	struct tz *z;
	for (z = tz_list; z; z = z->next)
		if (strcmp(z->name, name) == 0)
			break;
	if (!z && (z = zone_load(name))) {
		z->next = tz_list;
		tz_list = z;
	}
	pthread_mutex_unlock(&tz_lock);
	return z;
}

const char *tz_name(const struct tz *z)
{
	return z->name;
}

const struct tz_rule *tz_rule(const struct tz *z)
{
	return z->has_rule ? &z->rule : NULL;
}

/* Index of the last change at or before t, or -1. */
static long change_index(const struct tz *z, int64_t t)
{
	size_t lo = 0, hi = z->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (z->ch[mid].at <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo - 1;
}

/*
 * The last answer of this thread: offsets are asked in long runs over
 * nearby instants (every occurrence converts its wall time with four
 * lookups), and most fall in the interval of the one before.
 */
static _Thread_local struct {
	const struct tz *z;
	int64_t lo, hi;              /* [lo, hi): the offset is off */
	int off;
} tz_last;

int tz_offset(const struct tz *z, int64_t instant)
{
	if (tz_last.z == z && instant >= tz_last.lo && instant < tz_last.hi)
		return tz_last.off;
	if (z->n && instant > z->ch[z->n - 1].at && z->has_rule && z->rule.has_dst &&
	    year_of(instant) > GEN_LAST_YEAR)
		return rule_offset(&z->rule, instant);
	long i = change_index(z, instant);
	tz_last.z = z;
	tz_last.lo = i < 0 ? INT64_MIN : z->ch[i].at;
	tz_last.hi = (size_t)(i + 1) < z->n ? z->ch[i + 1].at
		     : z->has_rule && z->rule.has_dst ? days_from_civil(GEN_LAST_YEAR + 1, 1, 1) * 86400
						      : INT64_MAX;
	tz_last.off = i < 0 ? z->first.to : z->ch[i].to;
	return tz_last.off;
}

bool tz_change_before(const struct tz *z, int64_t t, struct tz_change *c)
{
	long i = change_index(z, t);
	*c = i < 0 ? z->first : z->ch[i];
	return i >= 0;
}

bool tz_change_after(const struct tz *z, int64_t t, struct tz_change *c)
{
	long i = change_index(z, t) + 1;
	if ((size_t)i < z->n) {
		*c = z->ch[i];
		return true;
	}
	/* Past the generated years: the rule's next change. */
	if (!z->has_rule || !z->rule.has_dst)
		return false;
	int64_t at = rule_next_change(&z->rule, t);
	if (at == INT64_MAX || year_of(at) > 9999)
		return false;
	c->at = at;
	c->from = rule_offset(&z->rule, at - 1);
	c->to = rule_offset(&z->rule, at);
	c->dst = c->to == z->rule.dst_off;
	snprintf(c->abbr, sizeof c->abbr, "%s", c->dst ? z->rule.dst_abbr : z->rule.std_abbr);
	return true;
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
