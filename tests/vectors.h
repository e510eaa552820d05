/*
 * vectors.h - reads the recurrence vectors of tests/data/vectors/ (format in
 * its README.md) and runs one through herald's schedule API.  Shared by
 * test_sched.c; header-only so the Makefile's one-file test rule builds it.
 */
#ifndef HERALD_TEST_VECTORS_H
#define HERALD_TEST_VECTORS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/err.h"
#include "herald/sched.h"
#include "herald/timeutil.h"
#include "herald/tz.h"
#include "herald/util.h"

#define VEC_MAX_INST 512

struct vec {
	char name[160];         /* the last comment line before the rule */
	char rrule[256];
	char dtstart[32];
	char tzid[64];          /* "" for floating vectors */
	int64_t inst[VEC_MAX_INST];   /* wall times */
	int64_t utc[VEC_MAX_INST];    /* instants (zone vectors) */
	size_t ninst, nutc;
	int line;
};

enum vec_status { VEC_MATCH, VEC_REJECTED, VEC_DIFFER };

struct vec_result {
	enum vec_status status;
	char msg[HERALD_ERR_LEN];
	int64_t got[VEC_MAX_INST + 1];     /* wall times */
	int64_t got_utc[VEC_MAX_INST + 1]; /* instants */
	size_t ngot;
};

/* "19970902T090000" or with Z. */
static inline int vec_parse_ical(const char *s, int64_t *out)
{
	struct civil c = { 0 };
	if (sscanf(s, "%4d%2d%2dT%2d%2d%2d", &c.year, &c.month, &c.day,
		   &c.hour, &c.min, &c.sec) != 6)
		return -1;
	*out = civil_to_secs(&c);
	return 0;
}

static inline size_t vec_parse_list(char *s, int64_t *out)
{
	size_t n = 0;
	for (char *tok = strtok(s, ","); tok && n < VEC_MAX_INST;
	     tok = strtok(NULL, ","))
		if (vec_parse_ical(tok, &out[n]) == 0)
			n++;
	return n;
}

/* Reads every block of a vector file; returns the count, or -1. */
static inline long vec_load(const char *path, struct vec **out)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = 0, cap = 0;
	struct vec *v = NULL, *cur = NULL;
	char line[65536], comment[160] = "";
	int lineno = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		line[strcspn(line, "\r\n")] = 0;
		if (!line[0]) {
			cur = NULL;
			continue;
		}
		if (line[0] == '#') {
			snprintf(comment, sizeof comment, "%s", line + 1 + (line[1] == ' '));
			continue;
		}
		if (!cur) {
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				v = xreallocarray(v, cap, sizeof *v);
			}
			cur = &v[n++];
			memset(cur, 0, sizeof *cur);
			snprintf(cur->name, sizeof cur->name, "%s", comment);
			cur->line = lineno;
			comment[0] = 0;
		}
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = 0;
		const char *val = colon + 1;
		if (strcmp(line, "RRULE") == 0)
			snprintf(cur->rrule, sizeof cur->rrule, "%s", val);
		else if (strcmp(line, "DTSTART") == 0)
			snprintf(cur->dtstart, sizeof cur->dtstart, "%s", val);
		else if (strcmp(line, "TZID") == 0)
			snprintf(cur->tzid, sizeof cur->tzid, "%s", val);
		else if (strcmp(line, "INSTANCES") == 0)
			cur->ninst = vec_parse_list(colon + 1, cur->inst);
		else if (strcmp(line, "INSTANCES-UTC") == 0)
			cur->nutc = vec_parse_list(colon + 1, cur->utc);
	}
	fclose(f);
	*out = v;
	return (long)n;
}

struct vec_collect {
	struct vec_result *r;
	size_t limit;
};

static inline int vec_collect_fn(const struct occurrence *o, void *ctx)
{
	struct vec_collect *c = ctx;
	struct vec_result *r = c->r;
	r->got[r->ngot] = o->planned_wall;
	r->got_utc[r->ngot] = o->start;
	if (o->wall_start != o->start + o->start_offset)
		return 2;
	r->ngot++;
	return r->ngot >= c->limit ? 1 : 0;
}

/*
 * Floating vectors run in UTC, where wall time and instant coincide; a
 * floating UNTIL (dateutil's tests have some) is read as that UTC instant,
 * which is the same bound.
 */
static inline void vec_rule_text(const struct vec *v, char *out, size_t n)
{
	snprintf(out, n, "%s", v->rrule);
	if (v->tzid[0])
		return;
	char *u = strstr(out, "UNTIL=");
	if (!u)
		return;
	char *end = u + 6;
	while (*end && *end != ';')
		end++;
	if (end - (u + 6) == 15 && strlen(out) + 2 < n) {
		memmove(end + 1, end, strlen(end) + 1);
		*end = 'Z';
	}
}

/*
 * Runs v through sched_compile_rule + sched_expand.  A bounded rule (COUNT
 * or UNTIL) must produce exactly the expected instances; an open one its
 * first ninst.  Wall times are compared, and with a zone the instants too.
 */
static inline void vec_run(const struct vec *v, struct vec_result *r)
{
	memset(r, 0, sizeof *r);
	struct schedule s = { 0 };
	s.kind = SCHED_RRULE;
	s.tz = tz_get(v->tzid[0] ? v->tzid : "UTC");
	if (!s.tz || vec_parse_ical(v->dtstart, &s.start)) {
		r->status = VEC_DIFFER;
		snprintf(r->msg, sizeof r->msg, "bad vector (zone or DTSTART)");
		return;
	}
	s.duration = 1800;
	char rule[300];
	vec_rule_text(v, rule, sizeof rule);
	struct herald_err err;
	herald_err_clear(&err);
	if (sched_compile_rule(&s, rule, &err)) {
		r->status = VEC_REJECTED;
		snprintf(r->msg, sizeof r->msg, "%s", err.msg);
		sched_clear(&s);
		return;
	}
	bool bounded = strstr(rule, "COUNT=") || strstr(rule, "UNTIL=");
	struct vec_collect c = { r,
				 bounded ? VEC_MAX_INST + 1 : v->ninst };
	int rc = c.limit ? sched_expand(&s, INT64_MIN / 2, 253402300799LL,
					vec_collect_fn, &c) : 0;
	sched_clear(&s);
	r->status = VEC_DIFFER;
	if (rc < 0 || rc == 2) {
		snprintf(r->msg, sizeof r->msg, rc < 0 ? "expansion bound hit"
						       : "wall time and instant disagree");
		return;
	}
	if (r->ngot != v->ninst)
		goto differ;
	for (size_t i = 0; i < v->ninst; i++)
		if (r->got[i] != v->inst[i])
			goto differ;
	if (v->tzid[0] && v->nutc != r->ngot)
		goto differ;
	for (size_t i = 0; v->tzid[0] && i < v->nutc; i++)
		if (r->got_utc[i] != v->utc[i])
			goto differ;
	r->status = VEC_MATCH;
	return;
differ:;
	size_t off = (size_t)snprintf(r->msg, sizeof r->msg, "got %zu:", r->ngot);
	for (size_t i = 0; i < r->ngot && i < 6 && off < sizeof r->msg - 20; i++) {
		char b[32];
		format_ical(r->got[i], false, b, sizeof b);
		off += (size_t)snprintf(r->msg + off, sizeof r->msg - off, " %s", b);
	}
}

#endif
