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

static char *join_channels(const struct plan *p, const struct plan_comm *c)
{
	size_t *ch = xcalloc(p->nchannels + 1, sizeof *ch);
	size_t n = agenda_comm_channels(p, c, ch);
	struct buf b;
	buf_init(&b);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i ? "," : "", p->channels[ch[i]].id);
	free(ch);
	if (!n)
		buf_adds(&b, "(feed only)");
	return buf_take(&b);
}

static void print_text(const struct plan *p, const struct agenda_item *it,
		       size_t n, int64_t from, int64_t to)
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
		putchar('\n');
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
	buf_adds(&b, ",\x1f\"audiences\":[");
	for (size_t i = 0; i < c->naudiences; i++) {
		buf_adds(&b, i ? "," : "");
		buf_add_json(&b, p->audiences[c->audiences[i]].id);
	}
	buf_adds(&b, "],\"channels\":[");
	size_t *ch = xcalloc(p->nchannels + 1, sizeof *ch);
	size_t n = agenda_comm_channels(p, c, ch);
	for (size_t i = 0; i < n; i++) {
		buf_adds(&b, i ? "," : "");
		buf_add_json(&b, p->channels[ch[i]].id);
	}
	free(ch);
	buf_adds(&b, "],\"owner\":");
	buf_add_json(&b, c->owner);
	buf_addc(&b, '}');
	return buf_take(&b);
}

static void print_json(const struct plan *p, const struct agenda_item *it,
		       size_t n)
{
	char **cache = xcalloc(p->ncomms + 1, sizeof *cache);
	char start[40], end[40];
	fputc('[', stdout);
	for (size_t i = 0; i < n; i++) {
		char **c = &cache[it[i].comm];
		if (!*c)
			*c = comm_json(p, &p->comms[it[i].comm]);
		const char *sep = strchr(*c, '\x1f');
		format_rfc3339_local(it[i].o.wall_start, it[i].o.start_offset, start, sizeof start);
		format_rfc3339_local(it[i].o.wall_end, it[i].o.end_offset, end, sizeof end);
		fputs(i ? ",\n" : "\n", stdout);
		fwrite(*c, 1, (size_t)(sep - *c), stdout);
		fputs("\"start\":\"", stdout);
		fputs(start, stdout);
		fputs("\",\"end\":\"", stdout);
		fputs(end, stdout);
		fputs("\",", stdout);
		fputs(sep + 1, stdout);
	}
	fputs(n ? "\n]\n" : "]\n", stdout);
	for (size_t i = 0; i < p->ncomms; i++)
		free(cache[i]);
	free(cache);
}

static int agenda_run(int argc, char **argv)
{
	struct agenda_args a = { .days = 90 };
	int nargs, rc = opts_parse(&agenda_spec, argc, argv, &a, &nargs);
	if (rc != OPTS_CONTINUE)
		return rc;
	const char *plan = argv[1];
	struct plan *p;
	rc = cli_load_plan(plan, SECRETS_UNUSED, &p);
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
			print_json(p, items, n);
		else
			print_text(p, items, n, from, to);
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
