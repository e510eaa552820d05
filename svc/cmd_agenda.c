/*
 * cmd_agenda.c - `herald agenda`: the occurrences of a plan in a window, as
 * an aligned table grouped by day, or as the JSON array of design.md.
 */
#include <getopt.h>
#include <jansson.h>
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

struct agenda_opts {
	const char *plan, *from, *to, *audience;
	long days;
	bool json;
};

static int parse_args(int argc, char **argv, struct agenda_opts *o)
{
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "days", required_argument, NULL, 'd' },
		{ "audience", required_argument, NULL, 'a' },
		{ "format", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	o->days = -1;
	optind = 1;
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f': o->from = optarg; break;
		case 't': o->to = optarg; break;
		case 'a': o->audience = optarg; break;
		case 'd':
			if (!cli_parse_uint(optarg, 36600, &o->days) || o->days == 0)
				return cli_usage(&cmd_agenda, "--days takes a whole number from 1 to 36600");
			break;
		case 'F':
			if (strcmp(optarg, "json") == 0)
				o->json = true;
			else if (strcmp(optarg, "text") != 0)
				return cli_usage(&cmd_agenda, "--format is text or json");
			break;
		case ':':
			return cli_usage(&cmd_agenda, "%s needs a value", argv[optind - 1]);
		default:
			return cli_usage(&cmd_agenda, "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage(&cmd_agenda, "name exactly one plan file");
	if (o->to && o->days >= 0)
		return cli_usage(&cmd_agenda, "give --to or --days, not both");
	o->plan = argv[optind];
	return 0;
}

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

/* Dumps a jansson value compactly, for the per-communication cache. */
static char *dump(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(j);
	if (!s)
		abort();
	return s;
}

/*
 * The JSON of a communication is the same for all its occurrences, so it is
 * encoded once (by jansson) and the occurrences only add their times: a
 * year of a large plan is hundreds of thousands of elements.
 */
static char *comm_json(const struct plan *p, const struct plan_comm *c)
{
	json_t *aud = json_array();
	for (size_t i = 0; i < c->naudiences; i++)
		json_array_append_new(aud, json_string(p->audiences[c->audiences[i]].id));
	json_t *chs = json_array();
	size_t *ch = xcalloc(p->nchannels + 1, sizeof *ch);
	size_t n = agenda_comm_channels(p, c, ch);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(chs, json_string(p->channels[ch[i]].id));
	free(ch);
	char *id = dump(json_string(c->id)), *topic = dump(json_string(c->topic));
	char *owner = dump(json_string(c->owner));
	char *a = dump(aud), *b = dump(chs);
	char *s = xasprintf("{\"communication\":%s,\"topic\":%s,", id, topic);
	char *tail = xasprintf("\"audiences\":%s,\"channels\":%s,\"owner\":%s}", a, b, owner);
	char *all = xasprintf("%s\x1f%s", s, tail);
	free(id), free(topic), free(owner), free(a), free(b), free(s), free(tail);
	return all;
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
	struct agenda_opts o = { 0 };
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	struct plan *p;
	rc = cli_load_plan(o.plan, SECRETS_UNUSED, &p);
	if (rc)
		return rc;
	int64_t from = clock_now(), to;
	long aud = -1;
	if (o.from && !cli_parse_time(o.from, p->tz, &from))
		rc = cli_usage(&cmd_agenda, "--from \"%s\" is not YYYY-MM-DD or an RFC 3339 time", o.from);
	if (!rc && o.to && !cli_parse_time(o.to, p->tz, &to))
		rc = cli_usage(&cmd_agenda, "--to \"%s\" is not YYYY-MM-DD or an RFC 3339 time", o.to);
	if (!rc && !o.to) {
		/* --days counts calendar days in the plan's zone. */
		int64_t w = tz_instant_to_wall(p->tz, from);
		to = tz_wall_to_instant(p->tz, w + (o.days < 0 ? 90 : o.days) * 86400, NULL);
	}
	if (!rc && to < from)
		rc = cli_usage(&cmd_agenda, "--to is before --from");
	if (!rc && o.audience && (aud = plan_audience_index(p, o.audience)) < 0)
		rc = cli_usage(&cmd_agenda, "unknown audience \"%s\"", o.audience);
	struct agenda_item *items = NULL;
	size_t n = 0;
	struct herald_err err;
	herald_err_clear(&err);
	if (!rc && agenda_collect(p, from, to, aud, &items, &n, &err))
		rc = cli_fail(o.plan, &err);
	if (!rc) {
		if (o.json)
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

const struct cmd cmd_agenda = {
	.name = "agenda",
	.usage = "PLAN [--from T] [--to T | --days N] [--audience A] [--format text|json]",
	.summary = "list the plan's occurrences in a window",
	.help = "  --from T        start of the window (YYYY-MM-DD or RFC 3339; default now)\n"
		"  --to T          end of the window (exclusive)\n"
		"  --days N        window length in days (default 90)\n"
		"  --audience A    only occurrences that include audience A\n"
		"  --format F      text (default) or json\n",
	.run = agenda_run,
};
