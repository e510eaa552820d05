/*
 * plandoc.c - the plan as its controlled document (see plandoc.h).
 *
 * The words are built once per row (struct row), then written by one of
 * three small renderers, so text, Markdown and HTML say the same thing.
 */
#include "herald/plandoc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/lint.h"
#include "herald/plan.h"
#include "herald/sched.h"
#include "herald/timeutil.h"
#include "herald/tz.h"
#include "herald/version.h"

bool plandoc_format_name(const char *name, enum plandoc_format *f)
{
	if (strcmp(name, "text") == 0)
		*f = PLANDOC_TEXT;
	else if (strcmp(name, "md") == 0 || strcmp(name, "markdown") == 0)
		*f = PLANDOC_MD;
	else if (strcmp(name, "html") == 0)
		*f = PLANDOC_HTML;
	else
		return false;
	return true;
}

/* ---------------------------------------------------------------- words */

/* "15 Jan 2026, 09:30" (seconds only when there are some). */
static void add_wall(struct buf *b, int64_t wall)
{
	struct civil c;
	secs_to_civil(wall, &c);
	buf_printf(b, "%d %s %d, %02d:%02d", c.day, month_abbr(c.month), c.year, c.hour,
		   c.min);
	if (c.sec)
		buf_printf(b, ":%02d", c.sec);
}

/* "1 hour 30 minutes", "7 days", "0 seconds". */
static void add_span(struct buf *b, int64_t s)
{
	static const struct {
		int64_t secs;
		const char *one, *many;
	} units[] = { { 86400, "day", "days" }, { 3600, "hour", "hours" },
		      { 60, "minute", "minutes" }, { 1, "second", "seconds" } };
	if (s == 0) {
		buf_adds(b, "0 seconds");
		return;
	}
	bool first = true;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		int64_t n = s / units[i].secs;
		s %= units[i].secs;
		if (!n)
			continue;
		buf_printf(b, "%s%lld %s", first ? "" : " ", (long long)n,
			   n == 1 ? units[i].one : units[i].many);
		first = false;
	}
}

/* Joins n items as "a, b and c"; item(i) appends the i-th. */
static void add_list(struct buf *b, size_t n, const char *last_sep,
		     void (*item)(struct buf *b, size_t i, const void *ctx),
		     const void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_adds(b, i + 1 == n ? last_sep : ", ");
		item(b, i, ctx);
	}
}

static const char *ordinal(int n)
{
	static const char *const names[] = { "first", "second", "third", "fourth", "fifth" };
	if (n >= 1 && n <= 5)
		return names[n - 1];
	if (n == -1)
		return "last";
	if (n == -2)
		return "second last";
	return NULL;
}

/* A rule part's values, split at commas (at most 64). */
struct values {
	char v[64][16];
	size_t n;
};

static void split_values(const char *s, size_t len, struct values *out)
{
	out->n = 0;
	while (len && out->n < 64) {
		size_t k = 0;
		while (k < len && s[k] != ',')
			k++;
		snprintf(out->v[out->n++], sizeof out->v[0], "%.*s", (int)(k < 15 ? k : 15), s);
		s += k < len ? k + 1 : k;
		len -= k < len ? k + 1 : k;
	}
}

static int weekday_code(const char *s)
{
	static const char *const codes[] = { "MO", "TU", "WE", "TH", "FR", "SA", "SU" };
	for (int i = 0; i < 7; i++)
		if (strcmp(s, codes[i]) == 0)
			return i;
	return -1;
}

static void day_item(struct buf *b, size_t i, const void *ctx)
{
	const struct values *v = ctx;
	const char *s = v->v[i];
	char *end;
	long ord = strtol(s, &end, 10);
	int wd = weekday_code(end);
	const char *o = end != s ? ordinal((int)ord) : NULL;
	if (wd < 0)
		buf_adds(b, s);
	else if (end == s)
		buf_adds(b, weekday_name(wd));
	else if (o)
		buf_printf(b, "the %s %s", o, weekday_name(wd));
	else
		buf_printf(b, "the %s %s", s, weekday_name(wd));
}

static void monthday_item(struct buf *b, size_t i, const void *ctx)
{
	const struct values *v = ctx;
	long d = strtol(v->v[i], NULL, 10);
	if (d == -1)
		buf_adds(b, "the last day");
	else if (d < 0)
		buf_printf(b, "the %ld%s day before the last", -d - 1, -d - 1 == 1 ? "st" : "th");
	else
		buf_printf(b, "day %ld", d);
}

static void month_item(struct buf *b, size_t i, const void *ctx)
{
	const struct values *v = ctx;
	buf_adds(b, month_name((int)strtol(v->v[i], NULL, 10)));
}

static void raw_item(struct buf *b, size_t i, const void *ctx)
{
	buf_adds(b, ((const struct values *)ctx)->v[i]);
}

static void setpos_item(struct buf *b, size_t i, const void *ctx)
{
	const struct values *v = ctx;
	long n = strtol(v->v[i], NULL, 10);
	const char *o = ordinal((int)n);
	if (o)
		buf_adds(b, o);
	else
		buf_printf(b, "number %ld", n);
}

/*
 * An RRULE in words: "every month on Monday, …, the last of them each
 * month".  Parts without words (BYHOUR, BYWEEKNO, …) leave the rule to be
 * shown as written, which the caller always does too.
 */
static void add_rule_words(struct buf *b, const char *rule)
{
	static const struct {
		const char *freq, *one, *many, *each;
	} freqs[] = { { "DAILY", "day", "days", "day" }, { "WEEKLY", "week", "weeks", "week" },
		      { "MONTHLY", "month", "months", "month" },
		      { "YEARLY", "year", "years", "year" } };
	const char *one = NULL, *many = NULL, *each = NULL;
	long interval = 1, count = 0;
	struct values byday = { .n = 0 }, bymonthday = { .n = 0 }, bymonth = { .n = 0 },
		      bysetpos = { .n = 0 }, byhour = { .n = 0 };
	for (const char *p = rule; *p;) {
		size_t len = strcspn(p, ";");
		const char *eq = memchr(p, '=', len);
		if (eq) {
			size_t kl = (size_t)(eq - p), vl = len - kl - 1;
			const char *v = eq + 1;
			if (kl == 4 && strncmp(p, "FREQ", 4) == 0) {
				for (size_t i = 0; i < sizeof freqs / sizeof freqs[0]; i++)
					if (strlen(freqs[i].freq) == vl &&
					    strncmp(v, freqs[i].freq, vl) == 0) {
						one = freqs[i].one;
						many = freqs[i].many;
						each = freqs[i].each;
					}
			} else if (kl == 8 && strncmp(p, "INTERVAL", 8) == 0) {
				interval = strtol(v, NULL, 10);
			} else if (kl == 5 && strncmp(p, "COUNT", 5) == 0) {
				count = strtol(v, NULL, 10);
			} else if (kl == 5 && strncmp(p, "BYDAY", 5) == 0) {
				split_values(v, vl, &byday);
			} else if (kl == 10 && strncmp(p, "BYMONTHDAY", 10) == 0) {
				split_values(v, vl, &bymonthday);
			} else if (kl == 7 && strncmp(p, "BYMONTH", 7) == 0) {
				split_values(v, vl, &bymonth);
			} else if (kl == 8 && strncmp(p, "BYSETPOS", 8) == 0) {
				split_values(v, vl, &bysetpos);
			} else if (kl == 6 && strncmp(p, "BYHOUR", 6) == 0) {
				split_values(v, vl, &byhour);
			}
		}
		p += len;
		if (*p == ';')
			p++;
	}
	if (!one) {
		buf_adds(b, "by the rule");
		return;
	}
	if (interval > 1)
		buf_printf(b, "every %ld %s", interval, many);
	else
		buf_printf(b, "every %s", one);
	if (bymonth.n) {
		buf_adds(b, " in ");
		add_list(b, bymonth.n, " and ", month_item, &bymonth);
	}
	if (bymonthday.n) {
		buf_adds(b, " on ");
		add_list(b, bymonthday.n, " and ", monthday_item, &bymonthday);
	}
	int wd = byday.n == 1 ? weekday_code(byday.v[0]) : -1;
	const char *pos = bysetpos.n == 1 ? ordinal((int)strtol(bysetpos.v[0], NULL, 10)) : NULL;
	if (wd >= 0 && pos && !bymonthday.n) {
		/* The common case in words people use: "the second Wednesday". */
		buf_printf(b, " on the %s %s", pos, weekday_name(wd));
		bysetpos.n = 0;
	} else if (byday.n) {
		buf_adds(b, bymonthday.n ? " if it is " : " on ");
		add_list(b, byday.n, bysetpos.n || bymonthday.n ? " or " : " and ", day_item,
			 &byday);
	}
	if (byhour.n) {
		buf_adds(b, byhour.n == 1 ? " at hour " : " at hours ");
		add_list(b, byhour.n, " and ", raw_item, &byhour);
	}
	if (bysetpos.n) {
		buf_adds(b, ", the ");
		add_list(b, bysetpos.n, " and ", setpos_item, &bysetpos);
		buf_printf(b, " of them each %s", each);
	}
	if (count)
		buf_printf(b, ", %ld time%s", count, count == 1 ? "" : "s");
}

static const char *cadence_words(const char *cadence)
{
	static const struct {
		const char *name, *words;
	} table[] = { { "daily", "every day" }, { "weekly", "every week" },
		      { "fortnightly", "every 2 weeks" }, { "monthly", "every month" },
		      { "quarterly", "every 3 months" }, { "semiannually", "every 6 months" },
		      { "annually", "every year" } };
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (strcmp(table[i].name, cadence) == 0)
			return table[i].words;
	return cadence;
}

static void at_item(struct buf *b, size_t i, const void *ctx)
{
	add_wall(b, ((const int64_t *)ctx)[i]);
}

void plandoc_when(const struct plan *p, size_t comm, struct buf *b)
{
	const struct plan_comm *c = &p->comms[comm];
	const struct schedule *s = &c->sched;
	const char *tz = s->tzid ? s->tzid : p->tzid;
	switch (s->kind) {
	case SCHED_MANUAL:
		buf_adds(b, "on demand (sent with herald send)");
		return;
	case SCHED_AT:
		buf_adds(b, "on ");
		add_list(b, s->nat, " and ", at_item, s->at);
		buf_printf(b, " %s", tz);
		break;
	case SCHED_RRULE:
		if (s->cadence)
			buf_adds(b, cadence_words(s->cadence));
		else
			add_rule_words(b, s->rrule);
		buf_adds(b, " from ");
		add_wall(b, s->start);
		buf_printf(b, " %s", tz);
		if (s->has_until) {
			buf_adds(b, " until ");
			add_wall(b, s->until);
		}
		if (s->rule_has_until) {
			char u[32];
			format_rfc3339_utc(s->rule_until, u, sizeof u);
			buf_printf(b, " until %s", u);
		}
		break;
	}
	buf_adds(b, c->all_day ? ", all day for " : ", for ");
	add_span(b, s->duration);
	if (s->nexcept) {
		buf_adds(b, "; except ");
		add_list(b, s->nexcept, " and ", at_item, s->except);
	}
	if (s->shift != SHIFT_NONE)
		buf_printf(b, "; on a weekend%s it moves to the %s working day",
			   s->nholidays ? " or a holiday" : "",
			   s->shift == SHIFT_NEXT ? "next" : "previous");
	if (s->kind == SCHED_RRULE && !s->cadence)
		buf_printf(b, "; RRULE %s", s->rrule);
}

static void offset_item(struct buf *b, size_t i, const void *ctx)
{
	int64_t s = ((const int64_t *)ctx)[i];
	if (s == 0) {
		buf_adds(b, "at the start");
		return;
	}
	add_span(b, s);
	buf_adds(b, " before");
}

void plandoc_notify(const struct plan *p, size_t comm, struct buf *b)
{
	const struct plan_comm *c = &p->comms[comm];
	if (c->sched.kind == SCHED_MANUAL) {
		buf_adds(b, "sent when triggered");
		return;
	}
	if (!c->nnotify) {
		buf_adds(b, "calendar only (no messages)");
		return;
	}
	buf_adds(b, "notified ");
	add_list(b, c->nnotify, " and ", offset_item, c->notify);
}

static void after_item(struct buf *b, size_t i, const void *ctx)
{
	add_span(b, ((const int64_t *)ctx)[i]);
}

/* ----------------------------------------------------------------- rows */

/* One communication in words: the Clause 7.4 matrix row. */
struct row {
	const char *id, *topic, *description, *owner;
	struct buf when, whom, how, ack;
};

/* Channel indexes communication c goes out through, in first-use order. */
static size_t comm_channels(const struct plan *p, const struct plan_comm *c,
			    size_t *out)
{
	size_t n = 0;
	for (size_t i = 0; i < c->naudiences; i++) {
		const struct plan_audience *a = &p->audiences[c->audiences[i]];
		for (size_t d = 0; d < a->ndeliver; d++) {
			size_t ch = a->deliver[d].channel;
			bool seen = !plan_comm_uses_channel(c, ch);
			for (size_t k = 0; k < n && !seen; k++)
				seen = out[k] == ch;
			if (!seen)
				out[n++] = ch;
		}
	}
	return n;
}

static void add_people(struct buf *b, const struct plan_audience *a)
{
	if (a->members_given && !a->source.resolved)
		buf_printf(b, "the people of the directory %s", a->source.what ? a->source.what : "");
	else if (a->members_given)
		buf_printf(b, "%zu %s", a->nmembers, a->nmembers == 1 ? "person" : "people");
}

static void make_row(const struct plan *p, size_t i, struct row *r)
{
	const struct plan_comm *c = &p->comms[i];
	*r = (struct row){ .id = c->id, .topic = c->topic, .description = c->description,
			   .owner = c->owner };
	buf_init(&r->when);
	buf_init(&r->whom);
	buf_init(&r->how);
	buf_init(&r->ack);
	plandoc_when(p, i, &r->when);
	if (c->sched.kind != SCHED_MANUAL) {
		buf_adds(&r->when, "; ");
		plandoc_notify(p, i, &r->when);
	}
	for (size_t k = 0; k < c->naudiences; k++) {
		const struct plan_audience *a = &p->audiences[c->audiences[k]];
		buf_printf(&r->whom, "%s%s: %s%s", k ? "; " : "", a->name,
			   a->external ? "external" : "internal", a->members_given ? ", " : "");
		add_people(&r->whom, a);
	}
	size_t *chs = xcalloc(p->nchannels ? p->nchannels : 1, sizeof *chs);
	size_t n = comm_channels(p, c, chs);
	for (size_t k = 0; k < n; k++)
		buf_printf(&r->how, "%s%s (%s)", k ? ", " : "", p->channels[chs[k]].id,
			   plan_channel_type(&p->channels[chs[k]]));
	if (!n)
		buf_adds(&r->how, "calendar feeds only");
	free(chs);
	if (!c->acknowledge) {
		buf_adds(&r->ack, "no");
	} else {
		buf_adds(&r->ack, "yes");
		if (c->nremind) {
			buf_adds(&r->ack, ", reminded after ");
			add_list(&r->ack, c->nremind, " and ", after_item, c->remind_after);
		}
	}
}

static void free_row(struct row *r)
{
	buf_free(&r->when);
	buf_free(&r->whom);
	buf_free(&r->how);
	buf_free(&r->ack);
}

static const char *feed_words(enum feed_kind f)
{
	switch (f) {
	case FEED_PUBLIC: return "public calendar feed";
	case FEED_PRIVATE: return "private calendar feed";
	case FEED_NONE: return "no calendar feed";
	}
	return "?";
}

/* How an audience is reached, deliver entry by entry. */
static void add_delivery(struct buf *b, const struct plan *p,
			 const struct plan_audience *a)
{
	for (size_t d = 0; d < a->ndeliver; d++) {
		const struct plan_deliver *e = &a->deliver[d];
		buf_printf(b, "%s%s", d ? "; " : "", p->channels[e->channel].id);
		if (e->to == TO_MEMBERS)
			buf_adds(b, " to each member");
		for (size_t k = 0; k < e->naddrs; k++)
			buf_printf(b, "%s%s", k ? ", " : " to ", e->addrs[k]);
	}
	if (!a->ndeliver)
		buf_adds(b, "calendar feed only");
}

struct warnings {
	struct lint_warning *w;
	size_t n;
};

static void keep_warning(const struct lint_warning *w, void *ctx)
{
	struct warnings *ws = ctx;
	ws->w = xreallocarray(ws->w, ws->n + 1, sizeof *ws->w);
	ws->w[ws->n++] = *w;
}

/* ----------------------------------------------------------------- text */

/* Appends s wrapped at width columns, continuation lines indented. */
static void wrap(struct buf *b, const char *s, size_t indent, size_t col, size_t width)
{
	while (*s) {
		size_t len = strcspn(s, " \n");
		size_t cols = 0;
		for (size_t i = 0; i < len; i++)
			cols += ((unsigned char)s[i] & 0xc0) != 0x80;
		if (col > indent && col + 1 + cols > width) {
			buf_printf(b, "\n%*s", (int)indent, "");
			col = indent;
		} else if (col > indent) {
			buf_addc(b, ' ');
			col++;
		}
		buf_add(b, s, len);
		col += cols;
		s += len;
		while (*s == ' ' || *s == '\n')
			s++;
	}
}

static void text_field(struct buf *b, const char *label, const char *value)
{
	buf_printf(b, "  %-13s ", label);
	wrap(b, value && *value ? value : "-", 16, 16, 78);
	buf_addc(b, '\n');
}

static void text_heading(struct buf *b, const char *title, char rule)
{
	buf_printf(b, "%s\n", title);
	size_t cols = 0;
	for (const char *s = title; *s; s++)
		cols += ((unsigned char)*s & 0xc0) != 0x80;
	for (size_t i = 0; i < cols; i++)
		buf_addc(b, rule);
	buf_adds(b, "\n\n");
}

/* ------------------------------------------------------------- markdown */

static void md_text(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		if (strchr("\\`*_[]<>|#", *s))
			buf_addc(b, '\\');
		buf_addc(b, *s == '\n' || *s == '\r' ? ' ' : *s);
	}
}

static void md_cell(struct buf *b, const char *s)
{
	buf_adds(b, " ");
	if (s && *s)
		md_text(b, s);
	else
		buf_adds(b, "-");
	buf_adds(b, " |");
}

/* ----------------------------------------------------------------- html */

static const char css[] =
	"body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d232a;"
	"margin:0 auto;max-width:72rem;padding:1.5rem}"
	"h1{font-size:1.6rem;margin:0 0 .2rem}h2{font-size:1.15rem;margin:2rem 0 .6rem;"
	"border-bottom:2px solid #1a5fb4;padding-bottom:.2rem}"
	".sub{color:#555;margin:0 0 1rem}"
	"table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;"
	"padding:.35rem .5rem;border-bottom:1px solid #d5dbe1}"
	"thead th{background:#eef3f9;font-weight:600;font-size:.85rem}"
	"td{overflow-wrap:break-word}table.control td{overflow-wrap:anywhere}"
	"table.matrix{table-layout:fixed}.c-id{width:9%}.c-what{width:23%}.c-when{width:23%}"
	".c-whom{width:15%}.c-how{width:12%}.c-who{width:8%}.c-ack{width:10%}"
	"table.control{width:auto;max-width:100%}table.control th{width:11rem;color:#444;font-weight:600}"
	".id{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem}"
	".topic{font-weight:600}.desc{color:#444;font-size:.9rem;margin-top:.2rem}"
	".scope-external{color:#8a3b00}.scope-internal{color:#1a5fb4}"
	".warn{border-left:4px solid #c77c02;background:#fff8e6;padding:.4rem .6rem;margin:.4rem 0}"
	".warn code{font-weight:600}.advice{color:#555;font-size:.9rem}"
	"footer{margin-top:2rem;color:#666;font-size:.8rem}"
	"@media (max-width:700px){table.control th{width:auto}table.matrix thead{display:none}table.matrix tr{display:block;"
	"border-bottom:2px solid #d5dbe1;padding:.4rem 0}table.matrix td{display:block;"
	"border:0;padding:.15rem .5rem}table.matrix td[data-label]::before{"
	"content:attr(data-label) ': ';font-weight:600}}"
	"@media print{body{max-width:none;padding:0;font-size:10pt}h2{break-after:avoid}"
	"tr{break-inside:avoid}a{color:inherit}}";

static void html_cell(struct buf *b, const char *label, const char *cls, const char *s)
{
	buf_adds(b, "<td");
	if (label) {
		buf_adds(b, " data-label=\"");
		buf_add_html(b, label);
		buf_adds(b, "\"");
	}
	if (cls)
		buf_printf(b, " class=\"%s\"", cls);
	buf_adds(b, ">");
	buf_add_html(b, s && *s ? s : "-");
	buf_adds(b, "</td>");
}

/* ------------------------------------------------------------- document */

struct doc {
	const struct plan *p;
	struct row *rows;
	struct warnings warnings;
	char checked[16];
	struct buf *out;
	const char *notice;    /* HTML page only: shown above document control */
};

static void control_pairs(const struct plan *p,
			  void (*fn)(struct doc *d, const char *k, const char *v),
			  struct doc *d)
{
	fn(d, "Plan id", p->id);
	fn(d, "Title", p->title);
	fn(d, "Version", p->version);
	fn(d, "Owner", p->owner);
	fn(d, "Approved by", p->approved_by ? p->approved_by : "not recorded");
	fn(d, "Approved on", p->approved_on ? p->approved_on : "not recorded");
	fn(d, "Next review", p->next_review ? p->next_review : "not set");
	fn(d, "Time zone", p->tzid);
	fn(d, "Content SHA-256", p->content_sha256);
}

static void text_pair(struct doc *d, const char *k, const char *v)
{
	buf_printf(d->out, "%-16s %s\n", k, v);
}

static void render_text(struct doc *d)
{
	const struct plan *p = d->p;
	struct buf *b = d->out;
	text_heading(b, p->title, '=');
	buf_adds(b, "ISMS communication plan (ISO/IEC 27001 Clause 7.4), a controlled "
		    "document (Clause 7.5).\n\n");
	text_heading(b, "Document control", '-');
	control_pairs(p, text_pair, d);
	buf_adds(b, "\n");
	text_heading(b, "Communications: what, when, with whom, how, who", '-');
	for (size_t i = 0; i < p->ncomms; i++) {
		const struct row *r = &d->rows[i];
		buf_printf(b, "%s:", r->id);
		wrap(b, r->topic, 2, strlen(r->id) + 1, 78);
		buf_adds(b, "\n");
		text_field(b, "What", r->description ? r->description : r->topic);
		text_field(b, "When", r->when.data);
		text_field(b, "With whom", r->whom.data);
		text_field(b, "How", r->how.data);
		text_field(b, "Who", r->owner);
		text_field(b, "Acknowledged", r->ack.data);
		buf_adds(b, "\n");
	}
	text_heading(b, "Audiences", '-');
	for (size_t i = 0; i < p->naudiences; i++) {
		const struct plan_audience *a = &p->audiences[i];
		struct buf v;
		buf_init(&v);
		buf_printf(b, "%s: %s\n", a->id, a->name);
		buf_printf(&v, "%s; %s", a->external ? "external" : "internal", feed_words(a->feed));
		text_field(b, "Scope", v.data);
		buf_reset(&v);
		add_people(&v, a);
		text_field(b, "People", v.len ? v.data : "not listed in the plan");
		buf_reset(&v);
		add_delivery(&v, p, a);
		text_field(b, "Delivery", v.data);
		buf_free(&v);
		buf_adds(b, "\n");
	}
	text_heading(b, "Channels", '-');
	for (size_t i = 0; i < p->nchannels; i++) {
		struct buf v;
		buf_init(&v);
		plan_channel_describe(&p->channels[i], &v);
		buf_printf(b, "%s (%s)\n", p->channels[i].id, plan_channel_type(&p->channels[i]));
		text_field(b, "Details", v.data);
		buf_free(&v);
	}
	buf_adds(b, "\n");
	char h[64];
	snprintf(h, sizeof h, "Warnings in force (checked %s)", d->checked);
	text_heading(b, h, '-');
	if (!d->warnings.n)
		buf_adds(b, "None.\n");
	for (size_t i = 0; i < d->warnings.n; i++) {
		const struct lint_warning *w = &d->warnings.w[i];
		struct buf v;
		buf_init(&v);
		buf_printf(&v, "%s: %s. Advice: %s", w->path, w->message, w->advice);
		buf_printf(b, "%s\n", w->code);
		buf_adds(b, "  ");
		wrap(b, v.data, 2, 2, 78);
		buf_adds(b, "\n");
		buf_free(&v);
	}
	buf_printf(b, "\nRendered by herald %s from the plan with the content SHA-256 above.\n",
		   HERALD_VERSION);
}

static void md_pair(struct doc *d, const char *k, const char *v)
{
	buf_printf(d->out, "| %s |", k);
	md_cell(d->out, v);
	buf_adds(d->out, "\n");
}

static void render_md(struct doc *d)
{
	const struct plan *p = d->p;
	struct buf *b = d->out;
	buf_adds(b, "# ");
	md_text(b, p->title);
	buf_adds(b, "\n\nISMS communication plan (ISO/IEC 27001 Clause 7.4), a controlled "
		    "document (Clause 7.5).\n\n## Document control\n\n| | |\n|---|---|\n");
	control_pairs(p, md_pair, d);
	buf_adds(b, "\n## Communications\n\n| Id | What | When | With whom | How | Who | "
		    "Acknowledged |\n|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < p->ncomms; i++) {
		const struct row *r = &d->rows[i];
		buf_adds(b, "|");
		md_cell(b, r->id);
		buf_adds(b, " **");
		md_text(b, r->topic);
		buf_adds(b, "**");
		if (r->description) {
			buf_adds(b, "<br>");
			md_text(b, r->description);
		}
		buf_adds(b, " |");
		md_cell(b, r->when.data);
		md_cell(b, r->whom.data);
		md_cell(b, r->how.data);
		md_cell(b, r->owner);
		md_cell(b, r->ack.data);
		buf_adds(b, "\n");
	}
	buf_adds(b, "\n## Audiences\n\n| Id | Name | Scope | Feed | People | Delivery |\n"
		    "|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < p->naudiences; i++) {
		const struct plan_audience *a = &p->audiences[i];
		struct buf v;
		buf_init(&v);
		buf_adds(b, "|");
		md_cell(b, a->id);
		md_cell(b, a->name);
		md_cell(b, a->external ? "external" : "internal");
		md_cell(b, feed_words(a->feed));
		add_people(&v, a);
		md_cell(b, v.len ? v.data : "not listed");
		buf_reset(&v);
		add_delivery(&v, p, a);
		md_cell(b, v.data);
		buf_free(&v);
		buf_adds(b, "\n");
	}
	buf_adds(b, "\n## Channels\n\n| Id | Type | Details |\n|---|---|---|\n");
	for (size_t i = 0; i < p->nchannels; i++) {
		struct buf v;
		buf_init(&v);
		plan_channel_describe(&p->channels[i], &v);
		buf_adds(b, "|");
		md_cell(b, p->channels[i].id);
		md_cell(b, plan_channel_type(&p->channels[i]));
		md_cell(b, v.data);
		buf_free(&v);
		buf_adds(b, "\n");
	}
	buf_printf(b, "\n## Warnings in force (checked %s)\n\n", d->checked);
	if (!d->warnings.n)
		buf_adds(b, "None.\n");
	for (size_t i = 0; i < d->warnings.n; i++) {
		const struct lint_warning *w = &d->warnings.w[i];
		buf_printf(b, "- **%s** `%s`: ", w->code, w->path);
		md_text(b, w->message);
		buf_adds(b, ". *Advice:* ");
		md_text(b, w->advice);
		buf_adds(b, "\n");
	}
	buf_printf(b, "\n*Rendered by herald %s from the plan with the content SHA-256 above.*\n",
		   HERALD_VERSION);
}

static void html_pair(struct doc *d, const char *k, const char *v)
{
	buf_adds(d->out, "<tr><th>");
	buf_add_html(d->out, k);
	buf_adds(d->out, "</th><td");
	if (strcmp(k, "Content SHA-256") == 0)
		buf_adds(d->out, " class=\"id\"");
	buf_adds(d->out, ">");
	buf_add_html(d->out, v);
	buf_adds(d->out, "</td></tr>\n");
}

/*
 * The page's body, or the same as a fragment of another page (the
 * report): there, the title is an h2 and the sections h3, and every id
 * is prefixed so none clashes with the page's own.
 */
struct html_shape {
	const char *h1, *h2;   /* heading elements */
	const char *id;        /* id prefix */
};

static void html_section(struct buf *b, const struct html_shape *sh, const char *id,
			 const char *title)
{
	buf_printf(b, "<section id=\"%s%s\"><%s>%s</%s>\n", sh->id, id, sh->h2, title, sh->h2);
}

static void render_html_body(struct doc *d, const struct html_shape *sh)
{
	const struct plan *p = d->p;
	struct buf *b = d->out;
	buf_printf(b, "<header><%s>", sh->h1);
	buf_add_html(b, p->title);
	buf_printf(b, "</%s><p class=\"sub\">ISMS communication plan (ISO/IEC 27001 Clause 7.4), "
		      "a controlled document (Clause 7.5). Version ", sh->h1);
	buf_add_html(b, p->version);
	buf_adds(b, ".</p></header>\n");
	if (d->notice) {
		/* Styled in place: the fragment and the page share one sheet. */
		buf_printf(b, "<p id=\"%sapproval-notice\" role=\"alert\" style=\"border-left:4px "
			      "solid #b3261e;background:#fdecea;padding:.6rem .8rem;margin:1rem 0\">"
			      "<strong>Changed since approval.</strong> ", sh->id);
		buf_add_html(b, d->notice);
		buf_adds(b, "</p>\n");
	}
	html_section(b, sh, "control", "Document control");
	buf_adds(b, "<table class=\"control\">\n");
	control_pairs(p, html_pair, d);
	buf_adds(b, "</table></section>\n");
	html_section(b, sh, "matrix", "Communications");
	buf_adds(b, "<table class=\"matrix\"><thead><tr><th class=\"c-id\">Id</th>"
		    "<th class=\"c-what\">What</th><th class=\"c-when\">When</th>"
		    "<th class=\"c-whom\">With whom</th><th class=\"c-how\">How</th>"
		    "<th class=\"c-who\">Who</th><th class=\"c-ack\">Acknowledged</th></tr>"
		    "</thead>\n<tbody>\n");
	for (size_t i = 0; i < p->ncomms; i++) {
		const struct row *r = &d->rows[i];
		buf_adds(b, "<tr data-communication=\"");
		buf_add_html(b, r->id);
		buf_adds(b, "\">");
		html_cell(b, NULL, "id", r->id);
		buf_adds(b, "<td data-label=\"What\"><div class=\"topic\">");
		buf_add_html(b, r->topic);
		buf_adds(b, "</div>");
		if (r->description) {
			buf_adds(b, "<div class=\"desc\">");
			buf_add_html(b, r->description);
			buf_adds(b, "</div>");
		}
		buf_adds(b, "</td>");
		html_cell(b, "When", NULL, r->when.data);
		html_cell(b, "With whom", NULL, r->whom.data);
		html_cell(b, "How", NULL, r->how.data);
		html_cell(b, "Who", NULL, r->owner);
		html_cell(b, "Acknowledged", NULL, r->ack.data);
		buf_adds(b, "</tr>\n");
	}
	buf_adds(b, "</tbody></table></section>\n");
	html_section(b, sh, "audiences", "Audiences");
	buf_adds(b, "<table><thead><tr><th>Id</th><th>Name</th><th>Scope</th><th>Feed</th>"
		    "<th>People</th><th>Delivery</th></tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < p->naudiences; i++) {
		const struct plan_audience *a = &p->audiences[i];
		struct buf v;
		buf_init(&v);
		buf_adds(b, "<tr data-audience=\"");
		buf_add_html(b, a->id);
		buf_adds(b, "\">");
		html_cell(b, NULL, "id", a->id);
		html_cell(b, NULL, NULL, a->name);
		html_cell(b, NULL, a->external ? "scope-external" : "scope-internal",
			  a->external ? "external" : "internal");
		html_cell(b, NULL, NULL, feed_words(a->feed));
		add_people(&v, a);
		html_cell(b, NULL, NULL, v.len ? v.data : "not listed");
		buf_reset(&v);
		add_delivery(&v, p, a);
		html_cell(b, NULL, NULL, v.data);
		buf_free(&v);
		buf_adds(b, "</tr>\n");
	}
	buf_adds(b, "</tbody></table></section>\n");
	html_section(b, sh, "channels", "Channels");
	buf_adds(b, "<table><thead><tr><th>Id</th><th>Type</th><th>Details</th></tr></thead>\n"
		    "<tbody>\n");
	for (size_t i = 0; i < p->nchannels; i++) {
		struct buf v;
		buf_init(&v);
		plan_channel_describe(&p->channels[i], &v);
		buf_adds(b, "<tr data-channel=\"");
		buf_add_html(b, p->channels[i].id);
		buf_adds(b, "\">");
		html_cell(b, NULL, "id", p->channels[i].id);
		html_cell(b, NULL, NULL, plan_channel_type(&p->channels[i]));
		html_cell(b, NULL, NULL, v.data);
		buf_free(&v);
		buf_adds(b, "</tr>\n");
	}
	buf_adds(b, "</tbody></table></section>\n");
	char title[64];
	snprintf(title, sizeof title, "Warnings in force (checked %s)", d->checked);
	html_section(b, sh, "warnings", title);
	if (!d->warnings.n)
		buf_adds(b, "<p>None.</p>\n");
	for (size_t i = 0; i < d->warnings.n; i++) {
		const struct lint_warning *w = &d->warnings.w[i];
		buf_adds(b, "<div class=\"warn\" data-warning=\"");
		buf_add_html(b, w->code);
		buf_adds(b, "\"><code>");
		buf_add_html(b, w->code);
		buf_adds(b, "</code> <span class=\"id\">");
		buf_add_html(b, w->path);
		buf_adds(b, "</span>: ");
		buf_add_html(b, w->message);
		buf_adds(b, "<div class=\"advice\">");
		buf_add_html(b, w->advice);
		buf_adds(b, "</div></div>\n");
	}
	buf_printf(b, "</section>\n<footer>Rendered by herald %s from the plan with the content "
		       "SHA-256 above.</footer>\n", HERALD_VERSION);
}

static void render_html(struct doc *d)
{
	const struct plan *p = d->p;
	struct buf *b = d->out;
	buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
	buf_add_html(b, p->title);
	buf_adds(b, ", version ");
	buf_add_html(b, p->version);
	buf_printf(b, "</title>\n<style>%s</style></head>\n<body>\n", css);
	static const struct html_shape page = { .h1 = "h1", .h2 = "h2", .id = "" };
	render_html_body(d, &page);
	buf_adds(b, "</body></html>\n");
}

/* css with every selector under .plandoc (body: .plandoc itself). */
static void scoped_css(struct buf *b)
{
	const char *s = css;
	while (*s) {
		if (*s == '}') {               /* the end of an @media block */
			buf_addc(b, *s++);
			continue;
		}
		const char *open = strchr(s, '{');
		if (!open)
			break;
		if (*s == '@') {               /* @media (…){: its rules follow */
			buf_add(b, s, (size_t)(open - s) + 1);
			s = open + 1;
			continue;
		}
		for (const char *sel = s; sel < open;) {
			const char *comma = memchr(sel, ',', (size_t)(open - sel));
			const char *end = comma ? comma : open;
			if (sel != s)
				buf_addc(b, ',');
			if (end - sel == 4 && strncmp(sel, "body", 4) == 0) {
				buf_adds(b, ".plandoc");
			} else {
				buf_adds(b, ".plandoc ");
				buf_add(b, sel, (size_t)(end - sel));
			}
			sel = comma ? comma + 1 : open;
		}
		const char *close = strchr(open, '}');
		if (!close)
			break;
		buf_add(b, open, (size_t)(close - open) + 1);
		s = close + 1;
	}
}

static void doc_open(struct doc *d, int64_t now)
{
	const struct plan *p = d->p;
	d->rows = xcalloc(p->ncomms ? p->ncomms : 1, sizeof *d->rows);
	for (size_t i = 0; i < p->ncomms; i++)
		make_row(p, i, &d->rows[i]);
	lint_plan(p, now, keep_warning, &d->warnings);
	struct civil c;
	secs_to_civil(tz_instant_to_wall(p->tz, now), &c);
	snprintf(d->checked, sizeof d->checked, "%04d-%02d-%02d", c.year, c.month, c.day);
}

static void doc_close(struct doc *d)
{
	for (size_t i = 0; i < d->p->ncomms; i++)
		free_row(&d->rows[i]);
	free(d->rows);
	free(d->warnings.w);
}

void plandoc_render(const struct plan *p, enum plandoc_format f, int64_t now,
		    struct buf *out)
{
	struct doc d = { .p = p, .out = out };
	doc_open(&d, now);
	switch (f) {
	case PLANDOC_TEXT: render_text(&d); break;
	case PLANDOC_MD: render_md(&d); break;
	case PLANDOC_HTML: render_html(&d); break;
	}
	doc_close(&d);
}

void plandoc_render_html_notice(const struct plan *p, int64_t now, const char *notice,
				struct buf *out)
{
	struct doc d = { .p = p, .out = out, .notice = notice };
	doc_open(&d, now);
	render_html(&d);
	doc_close(&d);
}

void plandoc_render_fragment(const struct plan *p, int64_t now, struct buf *out)
{
	struct doc d = { .p = p, .out = out };
	doc_open(&d, now);
	buf_adds(out, "<style>");
	scoped_css(out);
	buf_adds(out, ".plandoc{padding:0;max-width:none}"
		      ".plandoc h3{font-size:1.05rem;margin:1.5rem 0 .5rem}"
		      ".plandoc header h2{border:0}</style>\n"
		      "<div class=\"plandoc\" id=\"plandoc\">\n");
	static const struct html_shape frag = { .h1 = "h2", .h2 = "h3", .id = "plandoc-" };
	render_html_body(&d, &frag);
	buf_adds(out, "</div>\n");
	doc_close(&d);
}
