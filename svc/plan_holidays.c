/*
 * plan_holidays.c - holidays from an iCalendar file (see plan_holidays.h).
 *
 * A small reader of its own rather than libical's parser: libical accepts
 * nearly anything (a CSV file parses as an empty calendar), and a plan
 * must say clearly, with a line number, why a holiday file is unusable.
 * Only what holiday calendars use is read: VEVENT dates, DTEND or
 * DURATION, RRULE (herald's expander), EXDATE and STATUS.
 */
#include "herald/plan_holidays.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "herald/sched.h"
#include "herald/timeutil.h"
#include "herald/tz.h"
#include "herald/util.h"

#define HOLIDAYS_MAX_BYTES (4u << 20)

struct reader {
	const char *rel;
	char *msg;
	size_t msglen;
	int32_t *days;
	size_t n, cap;
};

__attribute__((format(printf, 3, 4)))
static enum herald_rc fail(struct reader *r, int line, const char *fmt, ...)
{
	char why[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (line)
		snprintf(r->msg, r->msglen, "holidays file %.120s: line %d: %s", r->rel, line, why);
	else
		snprintf(r->msg, r->msglen, "holidays file %.120s: %s", r->rel, why);
	return H_EINVAL;
}

static bool add_day(struct reader *r, int64_t day)
{
	if (r->n == HOLIDAYS_MAX_DAYS)
		return false;
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->days = xreallocarray(r->days, r->cap, sizeof *r->days);
	}
	r->days[r->n++] = (int32_t)day;
	return true;
}

/* "YYYYMMDD" or "YYYYMMDDTHHMMSS[Z]": the date as days since the epoch. */
static bool ics_date(const char *v, int64_t *day, bool *is_date)
{
	size_t n = strlen(v);
	if (n != 8 && n != 15 && !(n == 16 && v[15] == 'Z'))
		return false;
	for (size_t i = 0; i < n && i < 15; i++)
		if (i == 8 ? v[i] != 'T' : !isdigit((unsigned char)v[i]))
			return false;
	int y = (v[0] - '0') * 1000 + (v[1] - '0') * 100 + (v[2] - '0') * 10 + (v[3] - '0');
	int m = (v[4] - '0') * 10 + (v[5] - '0'), d = (v[6] - '0') * 10 + (v[7] - '0');
	if (y < 1900 || y > 9999 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return false;
	*day = days_from_civil(y, m, d);
	*is_date = n == 8;
	return true;
}

struct vevent {
	int line;                    /* BEGIN:VEVENT */
	int at_dtstart, at_dtend, at_duration, at_rrule;   /* their lines */
	char *dtstart, *dtend, *duration, *rrule, *status;
	struct buf exdates;          /* comma-joined values */
};

static void vevent_free(struct vevent *e)
{
	free(e->dtstart);
	free(e->dtend);
	free(e->duration);
	free(e->rrule);
	free(e->status);
	buf_free(&e->exdates);
	memset(e, 0, sizeof *e);
}

static bool excluded(const struct vevent *e, int64_t day)
{
	if (!e->exdates.len)
		return false;
	char *list = xstrdup(e->exdates.data), *save = NULL;
	bool hit = false;
	for (char *t = strtok_r(list, ",", &save); t && !hit; t = strtok_r(NULL, ",", &save)) {
		int64_t d;
		bool is_date;
		hit = ics_date(t, &d, &is_date) && d == day;
	}
	free(list);
	return hit;
}

struct rule_days {
	struct reader *r;
	const struct vevent *e;
	int64_t ndays;               /* days each occurrence covers */
	bool full;
};

static int rule_day(const struct occurrence *o, void *ctx)
{
	struct rule_days *rd = ctx;
	int64_t day = o->planned_wall / 86400;
	if (excluded(rd->e, day))
		return 0;
	for (int64_t k = 0; k < rd->ndays; k++)
		if (!add_day(rd->r, day + k)) {
			rd->full = true;
			return 1;
		}
	return 0;
}

/* An RRULE from a holiday file, UNTIL made a UTC date-time (files write
 * UNTIL=20301231 for DATE events). */
static char *holiday_rule(const char *rule)
{
	const char *u = strstr(rule, "UNTIL=");
	if (!u)
		return xstrdup(rule);
	size_t n = strcspn(u + 6, ";");
	const char *add = n == 8 ? "T000000Z" : n == 15 ? "Z" : "";
	size_t at = (size_t)(u + 6 - rule) + n;
	return xasprintf("%.*s%s%s", (int)at, rule, add, rule + at);
}

static enum herald_rc vevent_days(struct reader *r, const struct vevent *e)
{
	if (e->status && strcasecmp(e->status, "CANCELLED") == 0)
		return H_OK;
	int64_t start, end;
	bool is_date, end_date;
	if (!e->dtstart)
		return fail(r, e->line, "a VEVENT without DTSTART");
	if (!ics_date(e->dtstart, &start, &is_date))
		return fail(r, e->at_dtstart, "DTSTART \"%.40s\" is not a date or date-time", e->dtstart);
	int64_t ndays = 1;
	if (e->dtend) {
		if (!ics_date(e->dtend, &end, &end_date))
			return fail(r, e->at_dtend, "DTEND \"%.40s\" is not a date or date-time", e->dtend);
		if (is_date && end_date)
			ndays = end - start;
		if (ndays < 1 || ndays > 366)
			return fail(r, e->at_dtend, "DTEND \"%.40s\" is not after DTSTART", e->dtend);
	} else if (e->duration) {
		int64_t secs;
		if (!parse_duration(e->duration, &secs))
			return fail(r, e->at_duration, "DURATION \"%.40s\" is not a duration", e->duration);
		ndays = secs >= 86400 ? secs / 86400 : 1;
		if (ndays > 366)
			return fail(r, e->at_duration, "DURATION \"%.40s\" is longer than a year", e->duration);
	}
	if (!e->rrule) {
		for (int64_t d = start; d < start + ndays; d++)
			if (!excluded(e, d) && !add_day(r, d))
				return fail(r, 0, "more than %d holiday days", HOLIDAYS_MAX_DAYS);
		return H_OK;
	}
	struct schedule s = { 0 };
	s.kind = SCHED_RRULE;
	s.tz = tz_get("UTC");
	s.start = start * 86400;
	s.duration = 86400;
	struct herald_err err;
	herald_err_clear(&err);
	char *rule = holiday_rule(e->rrule);
	enum herald_rc rc = sched_compile_rule(&s, rule, &err);
	free(rule);
	if (rc) {
		sched_clear(&s);
		return fail(r, e->at_rrule, "RRULE: %s", err.msg);
	}
	struct rule_days rd = { r, e, ndays, false };
	if (sched_expand(&s, s.start, days_from_civil(2101, 1, 1) * 86400, rule_day, &rd) < 0)
		rc = fail(r, e->at_rrule, "RRULE has too many occurrences");
	else if (rd.full)
		rc = fail(r, 0, "more than %d holiday days", HOLIDAYS_MAX_DAYS);
	sched_clear(&s);
	return rc;
}

/* NAME[;params]:value of a content line; false if malformed. */
static bool split_line(char *line, char **name, char **value)
{
	char *p = line;
	bool quoted = false;
	*name = line;
	for (; *p; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == ':')
			break;
	}
	if (!*p)
		return false;
	*p = 0;
	*value = p + 1;
	char *semi = strchr(line, ';');
	if (semi)
		*semi = 0;
	return **name != 0;
}

static enum herald_rc read_lines(struct reader *r, char *text)
{
	struct buf line;
	buf_init(&line);
	struct vevent e = { 0 };
	int depth = 0, lineno = 0, start_line = 0;
	bool in_event = false, begun = false, ended = false;
	enum herald_rc rc = H_OK;
	char *p = text;
	while (!rc && *p) {
		/* One logical line: a physical one and its continuations. */
		buf_reset(&line);
		start_line = ++lineno;
		for (;;) {
			size_t n = strcspn(p, "\r\n");
			buf_add(&line, p, n);
			p += n;
			if (*p == '\r')
				p++;
			if (*p == '\n')
				p++;
			if (*p != ' ' && *p != '\t')
				break;
			p++;
			lineno++;
		}
		if (!line.len)
			continue;
		char *name, *value;
		if (!split_line(line.data, &name, &value)) {
			rc = fail(r, start_line, begun ? "not a content line NAME:VALUE"
						       : "not an iCalendar file: it does not begin with BEGIN:VCALENDAR");
			break;
		}
		if (!begun) {
			if (strcasecmp(name, "BEGIN") != 0 || strcasecmp(value, "VCALENDAR") != 0) {
				rc = fail(r, start_line,
					  "not an iCalendar file: it does not begin with BEGIN:VCALENDAR");
				break;
			}
			begun = true;
			depth = 1;
			continue;
		}
		if (ended) {
			rc = fail(r, start_line, "content after END:VCALENDAR");
			break;
		}
		if (strcasecmp(name, "BEGIN") == 0) {
			depth++;
			if (depth == 2 && strcasecmp(value, "VEVENT") == 0) {
				in_event = true;
				e.line = start_line;
			}
		} else if (strcasecmp(name, "END") == 0) {
			if (in_event && depth == 2) {
				rc = vevent_days(r, &e);
				vevent_free(&e);
				in_event = false;
			}
			if (--depth == 0)
				ended = true;
		} else if (in_event && depth == 2) {
			int none = 0;
			int *at = &none;
			char **slot = NULL;
			if (strcasecmp(name, "DTSTART") == 0)
				slot = &e.dtstart, at = &e.at_dtstart;
			else if (strcasecmp(name, "DTEND") == 0)
				slot = &e.dtend, at = &e.at_dtend;
			else if (strcasecmp(name, "DURATION") == 0)
				slot = &e.duration, at = &e.at_duration;
			else if (strcasecmp(name, "RRULE") == 0)
				slot = &e.rrule, at = &e.at_rrule;
			else if (strcasecmp(name, "STATUS") == 0)
				slot = &e.status;
			if (slot) {
				free(*slot);
				*slot = xstrdup(value);
				*at = start_line;
			} else if (strcasecmp(name, "EXDATE") == 0) {
				if (e.exdates.len)
					buf_addc(&e.exdates, ',');
				buf_adds(&e.exdates, value);
			}
		}
	}
	if (!rc && !begun)
		rc = fail(r, 0, "not an iCalendar file: it is empty");
	else if (!rc && !ended)
		rc = fail(r, 0, "ends before END:VCALENDAR");
	vevent_free(&e);
	buf_free(&line);
	return rc;
}

enum herald_rc plan_holidays_load(const char *plan_path, const char *rel,
				  int32_t **days, size_t *n, char *msg,
				  size_t msglen)
{
	struct reader r = { .rel = rel, .msg = msg, .msglen = msglen };
	if (!*rel || rel[0] == '/') {
		snprintf(msg, msglen, "\"file:%.80s\": give a path relative to the plan file", rel);
		return H_EINVAL;
	}
	char *dir = xstrdup(plan_path);
	char *path = xasprintf("%s/%s", dirname(dir), rel);
	free(dir);
	char *data;
	size_t len;
	if (read_file(path, HOLIDAYS_MAX_BYTES, &data, &len) < 0) {
		snprintf(msg, msglen, "cannot read holidays file %.200s: %s", rel,
			 errno == EFBIG ? "larger than 4 MiB" : strerror(errno));
		free(path);
		return H_EINVAL;
	}
	free(path);
	char *text = data;
	if (strncmp(text, "\xef\xbb\xbf", 3) == 0)
		text += 3;
	enum herald_rc rc;
	if (strlen(text) != len - (size_t)(text - data) || !utf8_valid(text, strlen(text)))
		rc = fail(&r, 0, "not an iCalendar file: it is not UTF-8 text");
	else
		rc = read_lines(&r, text);
	free(data);
	if (rc) {
		free(r.days);
		return rc;
	}
	*days = r.days ? r.days : xcalloc(1, sizeof **days);
	*n = r.n;
	return H_OK;
}
