/*
 * cmd_agenda.c - `herald agenda`: the occurrences of a plan in a window, as
 * an aligned table grouped by day, or as the JSON array of design.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/clock.h"
#include "herald/agenda.h"
#include "herald/cli.h"
#include "herald/plan.h"
#include "herald/timeutil.h"
#include "herald/tz.h"
#include "herald/util.h"

struct agenda_args {
	struct opt_time from, to;
	const char *audience;
	long days;
	int format; /* index in formats */
	bool sends;
};

static const char *const formats[] = { "text", "json", NULL };

static const struct opt agenda_table[] = {
	{ .name = "from", OPT_TIME_AT(struct agenda_args, from),
	  .help = "start of the window (YYYY-MM-DD or RFC 3339; default now)" },
	{ .name = "to", OPT_TIME_AT(struct agenda_args, to), .group = 1,
	  .help = "end of the window (exclusive)" },
	{ .name = "days", OPT_UINT_AT(struct agenda_args, days), .min = 1, .max = 36600,
	  .group = 1, .help = "window length in days (default 90)" },
	{ .name = "audience", OPT_STRING_AT(struct agenda_args, audience), .metavar = "A",
	  .help = "only occurrences that include audience A" },
	{ .name = "sends", OPT_FLAG_AT(struct agenda_args, sends),
	  .help = "also list when each message and reminder goes out" },
	{ .name = "format", OPT_CHOICE_AT(struct agenda_args, format), .choices = formats,
	  .help = "text (default) or json" },
};

static const struct opts_spec agenda_spec = {
	.name = "agenda",
	.summary = "list the plan's occurrences in a window",
	CLI_ONE_PLAN,
	OPTS_TABLE(agenda_table),
};

/* Display width of UTF-8 text (code points; herald's text is not CJK-wide). */
static size_t width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/* Copies s cut to at most max code points (an ellipsis marks the cut). */
static void clip(const char *s, size_t max, char *out, size_t n)
{
	if (width(s) <= max) {
		snprintf(out, n, "%s", s);
		return;
	}
	size_t w = 0, i = 0;
	for (; s[i]; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80 && ++w > max - 1)
			break;
	}
	snprintf(out, n, "%.*s\xe2\x80\xa6", (int)i, s);
}

static void pad(FILE *f, const char *s, size_t w)
{
	fputs(s, f);
	for (size_t k = width(s); k < w; k++)
		fputc(' ', f);
}

static char *join_audiences(const struct plan *p, const struct plan_comm *c)
{
	struct buf b;
	buf_init(&b);
	for (size_t i = 0; i < c->naudiences; i++)
		buf_printf(&b, "%s%s", i ? "," : "", p->audiences[c->audiences[i]].id);
	return buf_take(&b);
}

/* The channels messages go out through; a calendar-only communication
 * (no channel, or "notify": []) sends nothing. */
static char *join_channels(const struct plan *p, const struct plan_comm *c)
{
	size_t *ch = xcalloc(p->nchannels + 1, sizeof *ch);
	size_t n = c->nnotify ? agenda_comm_channels(p, c, ch) : 0;
	struct buf b;
	buf_init(&b);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i ? "," : "", p->channels[ch[i]].id);
	free(ch);
	if (!n)
		buf_adds(&b, "(calendar only)");
	return buf_take(&b);
}

/* One send of an occurrence: a message (a notify offset) or a reminder. */
struct send {
	int64_t at;
	int64_t offset;            /* notify offset (messages) or delay (reminders) */
	bool reminder;
};

static int cmp_send(const void *a, const void *b)
{
	const struct send *x = a, *y = b;
	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->reminder - y->reminder;
}

/* The sends of an occurrence starting at `start`, sorted; caller frees. */
static size_t occurrence_sends(const struct plan *p, const struct plan_comm *c,
			       int64_t start, struct send **out)
{
	size_t n = 0, nch = 0;
	size_t *ch = xcalloc(p->nchannels + 1, sizeof *ch);
	nch = agenda_comm_channels(p, c, ch);
	free(ch);
	struct send *v = xcalloc(c->nnotify * (c->nremind + 1) + 1, sizeof *v);
	for (size_t i = 0; nch && i < c->nnotify; i++) {
		v[n++] = (struct send){ start - c->notify[i], c->notify[i], false };
		for (size_t k = 0; c->acknowledge && plan_comm_reminds_after(c, c->notify[i]) &&
				   k < c->nremind; k++)
			v[n++] = (struct send){ start - c->notify[i] + c->remind_after[k],
						c->remind_after[k], true };
	}
	qsort(v, n, sizeof *v, cmp_send);
	*out = v;
	return n;
}

/* "1 day", "14 days 2 hours", "30 minutes". */
static void human_duration(int64_t secs, char *out, size_t n)
{
	static const struct {
		int64_t len;
		const char *unit;
	} units[] = { { 86400, "day" }, { 3600, "hour" }, { 60, "minute" }, { 1, "second" } };
	size_t len = 0;
	out[0] = 0;
	for (size_t i = 0; i < 4 && len < n; i++) {
		int64_t k = secs / units[i].len;
		secs %= units[i].len;
		if (k)
			len += (size_t)snprintf(out + len, n - len, "%s%lld %s%s", len ? " " : "",
						(long long)k, units[i].unit, k == 1 ? "" : "s");
	}
}

static void print_sends(const struct plan *p, const struct plan_comm *c, int64_t start,
			size_t indent)
{
	struct send *v;
	size_t n = occurrence_sends(p, c, start, &v);
	for (size_t i = 0; i < n; i++) {
		struct civil t;
		secs_to_civil(tz_instant_to_wall(p->tz, v[i].at), &t);
		char d[64];
		human_duration(v[i].offset, d, sizeof d);
		printf("%*s%s %s %04d-%02d-%02d %02d:%02d  ", (int)indent, "",
		       i ? "     " : "sends", weekday_abbr(weekday_from_days(
			       days_from_civil(t.year, t.month, t.day))),
		       t.year, t.month, t.day, t.hour, t.min);
		if (v[i].reminder)
			printf("reminder %s after the message, if not acknowledged\n", d);
		else if (v[i].offset == 0)
			printf("message at the start\n");
		else
			printf("message %s before the start\n", d);
	}
	if (!n)
		printf("%*ssends nothing (calendar only)\n", (int)indent, "");
	free(v);
}

static void print_text(const struct plan *p, const struct agenda_item *it,
		       size_t n, int64_t from, int64_t to, bool sends)
{
	enum { TOPIC_MAX = 48 };
	size_t wid = 2, wtopic = 5, waud = 9;
	char **aud = xcalloc(p->ncomms + 1, sizeof *aud);
	char **chs = xcalloc(p->ncomms + 1, sizeof *chs);
	for (size_t i = 0; i < n; i++) {
		const struct plan_comm *c = &p->comms[it[i].comm];
		if (!aud[it[i].comm]) {
			aud[it[i].comm] = join_audiences(p, c);
			chs[it[i].comm] = join_channels(p, c);
		}
		size_t w = width(c->id), wt = width(c->topic), wa = width(aud[it[i].comm]);
		wid = w > wid ? w : wid;
		wtopic = wt > wtopic ? (wt > TOPIC_MAX ? TOPIC_MAX : wt) : wtopic;
		waud = wa > waud ? wa : waud;
	}
	char a[40], b[40];
	format_local(tz_instant_to_wall(p->tz, from), a, sizeof a);
	format_local(tz_instant_to_wall(p->tz, to), b, sizeof b);
	printf("%s (version %s): %zu occurrence%s from %s to %s, %s time\n",
	       p->title, p->version, n, n == 1 ? "" : "s", a, b, p->tzid);
	int64_t day = INT64_MIN;
	for (size_t i = 0; i < n; i++) {
		const struct plan_comm *c = &p->comms[it[i].comm];
		int64_t ws = tz_instant_to_wall(p->tz, it[i].o.start);
		int64_t we = tz_instant_to_wall(p->tz, it[i].o.end);
		int64_t d = ws >= 0 ? ws / 86400 : -((-ws + 86399) / 86400);
		if (d != day) {
			struct civil cv;
			secs_to_civil(ws, &cv);
			printf("\n%s %04d-%02d-%02d\n", weekday_abbr(weekday_from_days(d)),
			       cv.year, cv.month, cv.day);
			day = d;
		}
		struct civil s, e;
		secs_to_civil(ws, &s);
		secs_to_civil(we, &e);
		char topic[TOPIC_MAX * 4 + 8];
		clip(c->topic, TOPIC_MAX, topic, sizeof topic);
		if (c->all_day)
			printf("  %-12s  ", "all day");
		else
			printf("  %02d:%02d-%02d:%02d%s  ", s.hour, s.min, e.hour, e.min,
			       we / 86400 != d ? "+" : " ");
		pad(stdout, c->id, wid);
		fputs("  ", stdout);
		pad(stdout, topic, wtopic);
		fputs("  ", stdout);
		pad(stdout, aud[it[i].comm], waud);
		printf("  %s  %s", chs[it[i].comm], c->owner);
		if (c->sched.tz != p->tz) {
			struct civil o;
			secs_to_civil(it[i].o.wall_start, &o);
			printf("  (%02d:%02d %s)", o.hour, o.min, tz_name(c->sched.tz));
		}
		if (c->all_day && c->sched.duration > 86400)
			printf("  (%lld days)", (long long)(c->sched.duration / 86400));
		if (it[i].o.shifted)
			fputs("  (moved to a working day)", stdout);
		putchar('\n');
		if (sends)
			print_sends(p, c, it[i].o.start, 16);
	}
	for (size_t i = 0; i < p->ncomms; i++) {
		free(aud[i]);
		free(chs[i]);
	}
	free(aud);
	free(chs);
}

/*
 * The JSON of a communication is the same for all its occurrences, so it is
 * encoded once and the occurrences only add their times: a year of a large
 * plan is hundreds of thousands of elements.  \x1f marks where they go.
 */
static char *comm_json(const struct plan *p, const struct plan_comm *c)
{
	struct buf b;
	buf_init(&b);
	buf_adds(&b, "{\"communication\":");
	buf_add_json(&b, c->id);
	buf_adds(&b, ",\"topic\":");
	buf_add_json(&b, c->topic);
	buf_adds(&b, ",\"description\":");
	buf_add_json(&b, c->description);
	buf_adds(&b, ",\x1f\"timezone\":");
	buf_add_json(&b, tz_name(c->sched.tz));
	if (c->all_day)
		buf_adds(&b, ",\"all_day\":true");
	buf_adds(&b, ",\"audiences\":[");
	for (size_t i = 0; i < c->naudiences; i++) {
		buf_adds(&b, i ? "," : "");
		buf_add_json(&b, p->audiences[c->audiences[i]].id);
	}
	buf_adds(&b, "],\"channels\":[");
	size_t *ch = xcalloc(p->nchannels + 1, sizeof *ch);
	size_t n = c->nnotify ? agenda_comm_channels(p, c, ch) : 0;
	for (size_t i = 0; i < n; i++) {
		buf_adds(&b, i ? "," : "");
		buf_add_json(&b, p->channels[ch[i]].id);
	}
	free(ch);
	buf_adds(&b, "],\"owner\":");
	buf_add_json(&b, c->owner);
	buf_adds(&b, ",\"notify\":[");
	for (size_t i = 0; i < c->nnotify; i++) {
		char d[32];
		format_duration(c->notify[i], d, sizeof d);
		buf_printf(&b, "%s\"%s\"", i ? "," : "", d);
	}
	buf_addc(&b, ']');
	return buf_take(&b);
}

/* ,"sends":[{"at":…,"kind":"message"|"reminder","offset":…},…] */
static void json_sends(const struct plan *p, const struct plan_comm *c, int64_t start)
{
	struct send *v;
	size_t n = occurrence_sends(p, c, start, &v);
	fputs(",\"sends\":[", stdout);
	for (size_t i = 0; i < n; i++) {
		char at[40], d[32];
		format_rfc3339_local(tz_instant_to_wall(p->tz, v[i].at), tz_offset(p->tz, v[i].at),
				     at, sizeof at);
		format_duration(v[i].offset, d, sizeof d);
		printf("%s{\"at\":\"%s\",\"kind\":\"%s\",\"offset\":\"%s\"}", i ? "," : "", at,
		       v[i].reminder ? "reminder" : "message", d);
	}
	fputc(']', stdout);
	free(v);
}

/* One buffer, written once: the output of a large plan is tens of MB. */
static void print_json(const struct plan *p, const struct agenda_item *it,
		       size_t n, bool sends)
{
	char **cache = xcalloc(p->ncomms + 1, sizeof *cache);
	size_t *sep = xcalloc(p->ncomms + 1, sizeof *sep);
	char start[40], end[40];
	struct buf b;
	buf_init(&b);
	buf_addc(&b, '[');
	for (size_t i = 0; i < n; i++) {
		size_t k = it[i].comm;
		if (!cache[k]) {
			cache[k] = comm_json(p, &p->comms[k]);
			sep[k] = (size_t)(strchr(cache[k], '\x1f') - cache[k]);
		}
		format_rfc3339_local(it[i].o.wall_start, it[i].o.start_offset, start, sizeof start);
		format_rfc3339_local(it[i].o.wall_end, it[i].o.end_offset, end, sizeof end);
		buf_adds(&b, i ? ",\n" : "\n");
		buf_add(&b, cache[k], sep[k]);
		buf_add(&b, "\"start\":\"", 9);
		buf_adds(&b, start);
		buf_add(&b, "\",\"end\":\"", 9);
		buf_adds(&b, end);
		buf_add(&b, "\",", 2);
		buf_adds(&b, cache[k] + sep[k] + 1);
		if (sends) {
			fwrite(b.data, 1, b.len, stdout);
			buf_reset(&b);
			json_sends(p, &p->comms[k], it[i].o.start);
		}
		buf_addc(&b, '}');
		if (b.len > (1u << 20)) {
			fwrite(b.data, 1, b.len, stdout);
			buf_reset(&b);
		}
	}
	buf_adds(&b, n ? "\n]\n" : "]\n");
	fwrite(b.data, 1, b.len, stdout);
	buf_free(&b);
	for (size_t i = 0; i < p->ncomms; i++)
		free(cache[i]);
	free(cache);
	free(sep);
}

static int agenda_run(int argc, char **argv)
{
	struct agenda_args a = { .days = 90 };
	int nargs, rc = opts_parse(&agenda_spec, argc, argv, &a, &nargs);
	if (rc != OPTS_CONTINUE)
		return rc;
	const char *plan = argv[1];
	struct plan *p;
	rc = cli_load_plan_schedules(plan, &p);
	if (rc)
		return rc;
	int64_t from = a.from.text ? opt_time_instant(&a.from, p->tz) : clock_now(), to;
	long aud = -1;
	if (a.to.text) {
		to = opt_time_instant(&a.to, p->tz);
	} else {
		/* --days counts calendar days in the plan's zone. */
		int64_t w = tz_instant_to_wall(p->tz, from);
		to = tz_wall_to_instant(p->tz, w + a.days * 86400, NULL);
	}
	if (to < from)
		rc = cli_usage(&cmd_agenda, "--to is before --from");
	if (!rc && a.audience && (aud = plan_audience_index(p, a.audience)) < 0)
		rc = cli_usage(&cmd_agenda, "unknown audience \"%s\"", a.audience);
	struct agenda_item *items = NULL;
	size_t n = 0;
	struct herald_err err;
	herald_err_clear(&err);
	if (!rc && agenda_collect(p, from, to, aud, &items, &n, &err))
		rc = cli_fail(plan, &err);
	if (!rc) {
		if (a.format == 1)
			print_json(p, items, n, a.sends);
		else
			print_text(p, items, n, from, to, a.sends);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			cli_error("writing the agenda failed");
			rc = H_ERUNTIME;
		}
	}
	free(items);
	plan_free(p);
	return rc;
}

const struct cmd cmd_agenda = { .spec = &agenda_spec, .run = agenda_run };
