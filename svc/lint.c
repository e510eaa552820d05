/*
 * lint.c - plan warnings (see lint.h).  Each check is one function over the
 * loaded plan; the table at the end fixes their order.
 */
#include "herald/lint.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "herald/fanout.h"
#include "herald/plan.h"
#include "herald/plan_chan.h"
#include "herald/sched.h"
#include "herald/timeutil.h"
#include "herald/tz.h"
#include "herald/util.h"

struct lint {
	const struct plan *p;
	int64_t now;
	void (*fn)(const struct lint_warning *w, void *ctx);
	void *ctx;
	size_t count;
};

__attribute__((format(printf, 5, 6)))
static void warn(struct lint *l, const char *code, const char *path,
		 const char *advice, const char *fmt, ...)
{
	struct lint_warning w = { .code = code, .advice = advice };
	snprintf(w.path, sizeof w.path, "%s", path);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w.message, sizeof w.message, fmt, ap);
	va_end(ap);
	l->count++;
	l->fn(&w, l->ctx);
}

/* A channel drills go through is in use, though no audience delivers to it. */
static bool drill_uses(const struct plan_drill *d, size_t ch)
{
	for (size_t i = 0; d->given && d->channels_given && i < d->nchannels; i++)
		if (d->channels[i] == ch)
			return true;
	return false;
}

static bool comm_uses_audience(const struct plan_comm *c, size_t a)
{
	for (size_t i = 0; i < c->naudiences; i++)
		if (c->audiences[i] == a)
			return true;
	return false;
}

/* Channels that push communication c to audience a (calls fn on each). */
static size_t pushed_channels(const struct plan *p, const struct plan_comm *c,
			      size_t a)
{
	const struct plan_audience *au = &p->audiences[a];
	size_t n = 0;
	for (size_t i = 0; i < au->ndeliver; i++)
		n += plan_comm_uses_channel(c, au->deliver[i].channel);
	return n;
}

static void check_approval(struct lint *l)
{
	const struct plan *p = l->p;
	if (!p->approved_by || !p->approved_on)
		warn(l, "W-NOT-APPROVED", "plan",
		     "record who approved the plan and when (approved_by, approved_on): Clause 5.1 and 7.5",
		     "the plan has no %s", !p->approved_by ? "approved_by" : "approved_on");
	int64_t review;
	if (!p->next_review) {
		warn(l, "W-NO-REVIEW", "plan",
		     "set next_review so the plan is kept current (Clause 7.5.2)",
		     "the plan has no next_review date");
	} else if (parse_date(p->next_review, &review) &&
		   review < tz_instant_to_wall(p->tz, l->now) - 86400 + 1) {
		warn(l, "W-REVIEW-OVERDUE", "plan.next_review",
		     "review the plan, then record the new version and the next review date",
		     "the review date %s has passed", p->next_review);
	}
}

static void check_external(struct lint *l)
{
	for (size_t i = 0; i < l->p->naudiences; i++)
		if (l->p->audiences[i].external)
			return;
	warn(l, "W-NO-EXTERNAL", "audiences",
	     "add an external audience (customers, suppliers, regulators): Clause 7.4 covers external communication",
	     "no audience has scope \"external\"");
}

static void check_unused(struct lint *l)
{
	const struct plan *p = l->p;
	char path[160];
	for (size_t a = 0; a < p->naudiences; a++) {
		bool used = false;
		for (size_t c = 0; c < p->ncomms && !used; c++)
			used = comm_uses_audience(&p->comms[c], a);
		snprintf(path, sizeof path, "audiences.%s", p->audiences[a].id);
		if (!used)
			warn(l, "W-AUDIENCE-UNUSED", path,
			     "address the audience in a communication, or remove it",
			     "audience \"%s\" is never addressed by a communication",
			     p->audiences[a].id);
	}
	for (size_t ch = 0; ch < p->nchannels; ch++) {
		bool used = drill_uses(&p->drill, ch);
		for (size_t c = 0; c < p->ncomms && !used; c++)
			used = drill_uses(&p->comms[c].drill, ch);
		for (size_t a = 0; a < p->naudiences && !used; a++)
			for (size_t d = 0; d < p->audiences[a].ndeliver; d++)
				used |= p->audiences[a].deliver[d].channel == ch;
		snprintf(path, sizeof path, "channels.%s", p->channels[ch].id);
		if (!used)
			warn(l, "W-CHANNEL-UNUSED", path,
			     "add the channel to an audience's deliver list, or remove it",
			     "channel \"%s\" is in no audience's deliver list",
			     p->channels[ch].id);
	}
}

static void check_email_only(struct lint *l)
{
	const struct plan *p = l->p;
	if (p->nchannels == 0)
		return;
	for (size_t i = 0; i < p->nchannels; i++)
		if (!p->channels[i].type->addressed)
			return;
	warn(l, "W-EMAIL-ONLY", "channels",
	     "add a second way to reach people (chat, intranet webhook, calendar feed): email alone is easily missed",
	     "every channel is email");
}

static void check_manual(struct lint *l)
{
	const struct plan *p = l->p;
	bool any = false;
	char path[160];
	for (size_t c = 0; c < p->ncomms; c++) {
		const struct plan_comm *m = &p->comms[c];
		if (m->sched.kind != SCHED_MANUAL)
			continue;
		any = true;
		for (size_t i = 0; i < m->naudiences; i++) {
			if (pushed_channels(p, m, m->audiences[i]))
				continue;
			snprintf(path, sizeof path, "communications[%zu](%s).audiences[%zu]",
				 c, l->p->comms[c].id, i);
			warn(l, "W-NO-PUSH", path,
			     "give the audience a Slack, email or webhook delivery: an incident notice must be pushed, not wait in a calendar",
			     "manual communication \"%s\" reaches audience \"%s\" through no pushed channel",
			     m->id, p->audiences[m->audiences[i]].id);
		}
	}
	if (!any)
		warn(l, "W-NO-INCIDENT-PATH", "communications",
		     "add a communication with {\"trigger\": \"manual\"} for incident and breach notices (Clause 7.4, A.5.24-A.5.26)",
		     "no manual (incident or breach) communication is planned");
}

static void check_reach(struct lint *l)
{
	const struct plan *p = l->p;
	char path[160];
	for (size_t c = 0; c < p->ncomms; c++) {
		const struct plan_comm *m = &p->comms[c];
		bool reach = false;
		for (size_t i = 0; i < m->naudiences && !reach; i++) {
			const struct plan_audience *a = &p->audiences[m->audiences[i]];
			reach = (m->nnotify && pushed_channels(p, m, m->audiences[i])) ||
				(a->feed != FEED_NONE && m->sched.kind != SCHED_MANUAL);
		}
		snprintf(path, sizeof path, "communications[%zu](%s)",
			 c, l->p->comms[c].id);
		if (!reach)
			warn(l, "W-NO-CHANNEL", path,
			     "give its audiences a delivery or a feed, or notify offsets: how is it communicated?",
			     "communication \"%s\" reaches nobody: no pushed message and no calendar feed",
			     m->id);
	}
}

static void check_cadence(struct lint *l)
{
	const struct plan *p = l->p;
	char path[160];
	for (size_t c = 0; c < p->ncomms; c++) {
		const struct schedule *s = &p->comms[c].sched;
		if (s->kind != SCHED_RRULE)
			continue;
		/* Months between occurrences, at the rule's coarsest. */
		long months = 0;
		switch (s->rule_freq) {
		case SCHED_YEARLY:
			months = 12L * s->rule_interval;
			break;
		case SCHED_MONTHLY:
			months = s->rule_interval;
			break;
		case SCHED_WEEKLY:
			months = s->rule_interval * 7L / 31;
			break;
		default:
			months = s->rule_interval / 31;
		}
		snprintf(path, sizeof path, "communications[%zu](%s).schedule",
			 c, l->p->comms[c].id);
		if (months > 12)
			warn(l, "W-RARE-CADENCE", path,
			     "communicate at least yearly: an ISMS communication rarer than the management review goes stale",
			     "communication \"%s\" recurs less often than yearly",
			     p->comms[c].id);
	}
}

struct literal_ctx {
	struct lint *l;
	const struct plan_channel *ch;
};

static void literal_secret(const struct plan_secret_ref *r, void *ctx)
{
	const struct literal_ctx *lc = ctx;
	if (r->identity || r->s->env)
		return;
	char path[200];
	if (r->header)
		snprintf(path, sizeof path, "channels.%s.%s.%s", lc->ch->id, r->key,
			 r->header);
	else
		snprintf(path, sizeof path, "channels.%s.%s", lc->ch->id, r->key);
	warn(lc->l, "W-LITERAL-SECRET", path,
	     "write \"env:NAME\" and set NAME in the service's environment file",
	     r->header ? "a header value is written literally in the plan"
		       : "a secret is written literally in the plan");
}

/* The channel table says which fields are secrets (plan_channel_secrets). */
static void check_secrets(struct lint *l)
{
	const struct plan *p = l->p;
	for (size_t i = 0; i < p->nchannels; i++) {
		struct literal_ctx lc = { l, &p->channels[i] };
		plan_channel_secrets(&p->channels[i], literal_secret, &lc);
	}
}

/* The people of each audience: none, duplicates, entries skipped (the
 * notes the member list gathered while it was read), a literal password. */
static void check_members(struct lint *l)
{
	static const char *const advice[][2] = {
		{ "W-MEMBERS-DUPLICATE", "keep one row per person: herald sends to the first" },
		{ "W-MEMBERS-SKIPPED", "give every person an address, or filter them out" },
	};
	char path[200];
	for (size_t i = 0; i < l->p->naudiences; i++) {
		const struct plan_audience *a = &l->p->audiences[i];
		snprintf(path, sizeof path, "audiences.%s.members", a->id);
		if (a->source.password.value && !a->source.password.env) {
			snprintf(path, sizeof path, "audiences.%s.members.password", a->id);
			warn(l, "W-LITERAL-SECRET", path,
			     "write \"env:NAME\" and set NAME in the service's environment file",
			     "a secret is written literally in the plan");
			snprintf(path, sizeof path, "audiences.%s.members", a->id);
		}
		if (!a->list || !a->source.resolved)
			continue;
		if (a->nmembers == 0)
			warn(l, "W-AUDIENCE-EMPTY", path,
			     "check the file, its filter or the directory query: nobody would be told",
			     "audience \"%s\" has no members (%s)", a->id,
			     a->source.what ? a->source.what : "an empty list");
		for (size_t k = 0; k < a->list->nnotes; k++) {
			const struct member_note *n = &a->list->notes[k];
			const char *adv = "";
			for (size_t j = 0; j < sizeof advice / sizeof advice[0]; j++)
				if (strcmp(advice[j][0], n->code) == 0)
					adv = advice[j][1];
			warn(l, n->code, path, adv, "%s", n->message);
		}
	}
}

static bool loopback_smtp(const char *url)
{
	const char *h = strstr(url, "://");
	h = h ? h + 3 : url;
	const char *at = strchr(h, '@');
	if (at)
		h = at + 1;
	return strncmp(h, "127.", 4) == 0 || strncmp(h, "localhost", 9) == 0 ||
	       strncmp(h, "[::1]", 5) == 0;
}

static void check_smtp(struct lint *l)
{
	const struct plan *p = l->p;
	char path[160];
	for (size_t i = 0; i < p->nchannels; i++) {
		const struct plan_channel *ch = &p->channels[i];
		if (!ch->smtp || ch->starttls ||
		    strncasecmp(ch->smtp, "smtps://", 8) == 0 || loopback_smtp(ch->smtp))
			continue;
		snprintf(path, sizeof path, "channels.%s.starttls", ch->id);
		warn(l, "W-PLAIN-SMTP", path,
		     "keep starttls true (or use smtps://) unless the relay is on this machine",
		     "mail to a remote relay is sent without TLS");
	}
}

struct edge_scan {
	const struct plan_comm *m;
	bool found;
	struct occurrence o;
	size_t n;
};

static int edge_fn(const struct occurrence *o, void *ctx)
{
	struct edge_scan *e = ctx;
	e->n++;
	if (o->flags) {
		e->found = true;
		e->o = *o;
		return 1;
	}
	return e->n > 5000; /* enough to see every DST rule of a zone */
}

static void check_dst(struct lint *l)
{
	const struct plan *p = l->p;
	char path[160], when[40];
	for (size_t c = 0; c < p->ncomms; c++) {
		const struct plan_comm *m = &p->comms[c];
		struct edge_scan e = { .m = m };
		if (m->all_day)
			continue;   /* dates: no time of day to be on an edge */
		/* From the plan's past year to three years ahead. */
		sched_expand(&m->sched, l->now - 366 * 86400LL,
			     l->now + 3 * 366 * 86400LL, edge_fn, &e);
		if (!e.found)
			continue;
		format_local(e.o.planned_wall, when, sizeof when);
		snprintf(path, sizeof path, "communications[%zu](%s).schedule",
			 c, l->p->comms[c].id);
		warn(l, "W-DST-EDGE", path,
		     "move the time outside the night-time DST change (for most zones 01:00-03:00): calendar apps disagree there",
		     "%s in %s %s a daylight-saving change", when,
		     tz_name(m->sched.tz),
		     (e.o.flags & TZ_GAP) ? "does not exist: it falls in the gap of"
					  : "occurs twice: it falls in the overlap of");
	}
}

static void check_future(struct lint *l)
{
	const struct plan *p = l->p;
	char path[160];
	for (size_t c = 0; c < p->ncomms; c++) {
		const struct plan_comm *m = &p->comms[c];
		if (m->sched.kind == SCHED_MANUAL)
			continue;
		struct occurrence o;
		snprintf(path, sizeof path, "communications[%zu](%s).schedule",
			 c, l->p->comms[c].id);
		if (!sched_next(&m->sched, l->now, &o))
			warn(l, "W-NO-FUTURE", path,
			     "extend the schedule (until, COUNT, at) or retire the communication in a new plan version",
			     "communication \"%s\" has no occurrence after today", m->id);
	}
}

/*
 * An acknowledgement means something only when one link reaches one
 * person: in a chat channel or on a list address, the first click
 * acknowledges for everyone, and reminders cannot tell who read it.
 */
static void check_ack(struct lint *l)
{
	const struct plan *p = l->p;
	char path[160], shared[256];
	for (size_t c = 0; c < p->ncomms; c++) {
		const struct plan_comm *m = &p->comms[c];
		if (!m->acknowledge)
			continue;
		size_t n = 0, len = 0;
		shared[0] = '\0';
		for (size_t i = 0; i < m->naudiences; i++) {
			const struct plan_audience *a = &p->audiences[m->audiences[i]];
			for (size_t d = 0; d < a->ndeliver; d++) {
				const struct plan_deliver *dl = &a->deliver[d];
				if (dl->to == TO_MEMBERS || !plan_comm_uses_channel(m, dl->channel))
					continue;
				if (n++ < 3 && len < sizeof shared)
					len += (size_t)snprintf(shared + len, sizeof shared - len,
								"%s%s %s (audience %s)",
								n > 1 ? ", " : "",
								dl->to == TO_LIST ? "list address on" : "channel",
								p->channels[dl->channel].id, a->id);
			}
		}
		if (!n)
			continue;
		snprintf(path, sizeof path, "communications[%zu](%s).acknowledge", c, m->id);
		warn(l, "W-ACK-NOT-PERSONAL", path,
		     "send it to \"members\" only (narrow it with \"channels\"), so each person gets their own link and reminders",
		     "\"%s\" asks for acknowledgement but also goes to %zu shared destination%s: %s%s; "
		     "one click there acknowledges for everyone", m->id, n, n == 1 ? "" : "s", shared,
		     n > 3 ? ", …" : "");
	}
}

struct wall_hit {
	int64_t wall;
	bool hit;
};

static int wall_fn(const struct occurrence *o, void *ctx)
{
	struct wall_hit *w = ctx;
	if (o->planned_wall == w->wall) {
		w->hit = true;
		return 1;
	}
	return 0;
}

/* An except that matches no occurrence cancels nothing: usually a typo. */
static void check_except(struct lint *l)
{
	const struct plan *p = l->p;
	char path[160], when[40];
	for (size_t c = 0; c < p->ncomms; c++) {
		const struct schedule *s = &p->comms[c].sched;
		struct schedule probe = *s; /* shallow: same rule, no exceptions */
		probe.nexcept = 0;
		for (size_t i = 0; i < s->nexcept; i++) {
			struct wall_hit w = { .wall = s->except[i] };
			sched_expand(&probe, s->except[i] - 2 * 86400, s->except[i] + 2 * 86400,
				     wall_fn, &w);
			if (w.hit)
				continue;
			format_local(s->except[i], when, sizeof when);
			snprintf(path, sizeof path, "communications[%zu](%s).schedule.except[%zu]",
				 c, l->p->comms[c].id, i);
			warn(l, "W-EXCEPT-UNMATCHED", path,
			     "give the exact local start of the occurrence to skip (date and time)",
			     "%s is not an occurrence of \"%s\", so nothing is skipped", when,
			     p->comms[c].id);
		}
	}
}

/* An incident path that can only be tested on its real audience is not
 * tested: every manual communication needs drill recipients. */
static void check_drill(struct lint *l)
{
	const struct plan *p = l->p;
	char path[160];
	for (size_t c = 0; c < p->ncomms; c++) {
		const struct plan_comm *m = &p->comms[c];
		if (m->sched.kind != SCHED_MANUAL || fanout_drill_count(p, m) > 0)
			continue;
		snprintf(path, sizeof path, "communications[%zu](%s)", c, m->id);
		warn(l, "W-NO-DRILL-TARGET", path,
		     "add \"drill\": {\"to\": [addresses]} to the plan or the communication and rehearse with herald send --drill",
		     "manual communication \"%s\" has no drill recipients: it can only be tested on its real audience",
		     m->id);
	}
}

/* One text of the plan: a bidi control or zero-width character in it can
 * make a topic or a message read differently from what it says. */
static void bidi_text(struct lint *l, const char *path, const char *text)
{
	unsigned cp = utf8_first_invisible(text);
	if (cp)
		warn(l, "W-BIDI", path,
		     "remove it: such characters reorder or hide text, so readers and "
		     "reviewers see something other than what is sent",
		     "holds U+%04X, an invisible or bidirectional control character", cp);
}

static void check_bidi(struct lint *l)
{
	const struct plan *p = l->p;
	bidi_text(l, "plan.title", p->title);
	bidi_text(l, "plan.owner", p->owner);
	bidi_text(l, "plan.approved_by", p->approved_by);
	char path[200];
	for (size_t i = 0; i < p->naudiences; i++) {
		snprintf(path, sizeof path, "audiences.%s.name", p->audiences[i].id);
		bidi_text(l, path, p->audiences[i].name);
	}
	for (size_t i = 0; i < p->ncomms; i++) {
		const struct plan_comm *c = &p->comms[i];
		const char *field[] = { "topic", "description", "owner", "message" };
		const char *value[] = { c->topic, c->description, c->owner, c->message };
		for (size_t k = 0; k < 4; k++) {
			snprintf(path, sizeof path, "communications[%zu](%s).%s", i, c->id, field[k]);
			bidi_text(l, path, value[k]);
		}
	}
}

struct weekend_scan {
	bool found;
	struct occurrence o;
	size_t n;
};

static int weekend_fn(const struct occurrence *o, void *ctx)
{
	struct weekend_scan *w = ctx;
	int64_t day = o->wall_start >= 0 ? o->wall_start / 86400
					 : -((-o->wall_start + 86399) / 86400);
	if (weekday_from_days(day) >= 5) {
		w->found = true;
		w->o = *o;
		return 1;
	}
	return ++w->n > 2000;
}

/* An occurrence on a Saturday or Sunday (in its zone) without a shift. */
static void check_weekend(struct lint *l)
{
	const struct plan *p = l->p;
	char path[160], when[40];
	for (size_t c = 0; c < p->ncomms; c++) {
		const struct plan_comm *m = &p->comms[c];
		if (m->sched.kind == SCHED_MANUAL || m->sched.shift != SHIFT_NONE)
			continue;
		struct weekend_scan w = { 0 };
		/* The coming three years: what people will be asked to attend. */
		sched_expand(&m->sched, l->now, l->now + 3 * 366 * 86400LL, weekend_fn, &w);
		if (!w.found)
			continue;
		format_local(w.o.wall_start, when, sizeof when);
		if (m->all_day)
			when[10] = 0;
		snprintf(path, sizeof path, "communications[%zu](%s).schedule", c, m->id);
		warn(l, "W-WEEKEND", path,
		     "add \"shift\": \"next-working-day\" (or previous-working-day, with \"holidays\"), "
		     "or keep the rule to weekdays (BYDAY=MO,TU,WE,TH,FR)",
		     "%s (%s) is a %s", when, tz_name(m->sched.tz),
		     weekday_from_days(w.o.wall_start / 86400) == 5 ? "Saturday" : "Sunday");
	}
}

/*
 * A monthly rule on the 29th-31st (BYMONTHDAY, or the start's day) with
 * nothing else choosing days: RFC 5545 skips the months without that day
 * (a "monthly" from 31 January has no February, April, June, September or
 * November; a quarterly one from 31 March no June or September).
 */

/* Fifty years of visits: every pattern of INTERVAL against the twelve
 * months and the four-year leap cycle repeats well within it. */
#define SKIP_SCAN_MONTHS (50 * 12)

struct month_skips {
	int visits[13], skipped[13]; /* index 1..12 */
};

/* The months the rule visits, INTERVAL apart from the start (and not after
 * its end), and how often the day is missing from each. */
static bool scan_skipped_months(const struct schedule *s, int day, struct month_skips *ms)
{
	const struct sched_rule *f = &s->rule;
	struct civil st;
	secs_to_civil(s->start, &st);
	int64_t tod = s->start - days_from_civil(st.year, st.month, st.day) * 86400;
	int step = s->rule_interval > 0 ? s->rule_interval : 1;
	bool any = false;
	*ms = (struct month_skips){ 0 };
	for (int off = 0; off < SKIP_SCAN_MONTHS; off += step) {
		int mi = st.year * 12 + st.month - 1 + off;
		int y = mi / 12, m = mi % 12 + 1, dim = days_in_month(y, m);
		/* The rule's end: the month's last day stands in for a day it lacks. */
		int64_t when = days_from_civil(y, m, day < dim ? day : dim) * 86400 + tod;
		if ((s->has_until && when > s->until) || (s->rule_has_until && when > s->rule_until))
			break;
		if (f->by_month && !(f->months >> m & 1))
			continue;
		ms->visits[m]++;
		if (day > dim) {
			ms->skipped[m]++;
			any = true;
		}
	}
	return any;
}

/* "February, April, June, September, November"; a month skipped only in
 * some years (February on the 29th) says so. */
static void skipped_month_list(const struct month_skips *ms, char *out, size_t n)
{
	size_t len = 0;
	out[0] = 0;
	for (int m = 1; m <= 12 && len < n; m++) {
		if (!ms->skipped[m])
			continue;
		len += (size_t)snprintf(out + len, n - len, "%s%s%s", len ? ", " : "", month_name(m),
					ms->skipped[m] < ms->visits[m] ? " except in leap years" : "");
	}
}

static void check_skipped_months(struct lint *l)
{
	const struct plan *p = l->p;
	char path[160], months[160];
	for (size_t c = 0; c < p->ncomms; c++) {
		const struct schedule *s = &p->comms[c].sched;
		const struct sched_rule *f = &s->rule;
		if (s->kind != SCHED_RRULE || f->freq != SCHED_MONTHLY || f->wdays || f->nnth ||
		    f->nsetpos || f->mday_neg || !(f->mday_pos & ~((1u << 29) - 1)))
			continue;
		/* A month is skipped when it lacks even the earliest day asked for. */
		int first = 1;
		while (!(f->mday_pos >> first & 1))
			first++;
		struct month_skips ms;
		if (!scan_skipped_months(s, first, &ms))
			continue;
		skipped_month_list(&ms, months, sizeof months);
		snprintf(path, sizeof path, "communications[%zu](%s).schedule", c, p->comms[c].id);
		warn(l, "W-SKIPPED-MONTHS", path,
		     "for the last day of every month use FREQ=MONTHLY;BYMONTHDAY=-1; for the 30th or the "
		     "month's last day if shorter, FREQ=MONTHLY;BYMONTHDAY=28,29,30;BYSETPOS=-1",
		     "\"%s\" recurs on day %d of the month, so months without it are skipped (%s)",
		     p->comms[c].id, first, months);
	}
}

size_t lint_plan(const struct plan *p, int64_t now,
		 void (*fn)(const struct lint_warning *w, void *ctx), void *ctx)
{
	struct lint l = { .p = p, .now = now, .fn = fn, .ctx = ctx };
	void (*const checks[])(struct lint *) = {
		check_approval, check_external, check_unused, check_email_only,
		check_manual,   check_reach,    check_cadence, check_secrets,
		check_smtp,     check_dst,      check_future,  check_ack,
		check_except,   check_members,  check_bidi,
		check_drill,    check_weekend,  check_skipped_months,
	};
	for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
		checks[i](&l);
	return l.count;
}
