/*
 * engine.c - claims, sends and records deliveries of one outbox queue (see
 * engine.h).  The service's dispatcher and `herald send` both drive one.
 */
#include "herald/clock.h"
#include "herald/engine.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "herald/chan.h"
#include "herald/ics.h"
#include "herald/keys.h"
#include "herald/log.h"
#include "herald/plan.h"
#include "herald/plan_chan.h"
#include "herald/template.h"
#include "herald/timeutil.h"
#include "herald/token.h"
#include "herald/tz.h"
#include "herald/util.h"

#define NO_PACE ((size_t)-1)
#define BATCH_MS 25       /* gather finished sends this long per transaction */
#define BATCH_MAX 512

struct job {
	struct outbox_item *it;
	struct chan_msg m;
	char *text, *ack_url, *when, *calendar;
	size_t chan;              /* index into the engine's channel states */
	size_t pace;              /* index into its pacing states, or NO_PACE */
	struct job *next;
	struct engine *e;
};

struct chan_state {
	char *id;
	int active;
};

/* Messages sharing a pacing key (plan_chan.h) start interval_ms apart. */
struct pace_state {
	char *key;
	int64_t next_ms;          /* earliest start of the next message */
};

struct engine {
	struct engine_opts o;
	struct outbox_policy pol;
	struct chan_pool *pool;
	struct job *wait_head, *wait_tail;
	size_t held;              /* claimed and not yet recorded */
	struct chan_state *chans;
	size_t nchans;
	struct pace_state *paces;
	size_t npaces;
	struct outbox_result *res;
	size_t nres, capres;
	struct engine_counters c;
	int64_t renew_at;         /* a `herald send` queue: next lease renewal */
	/* The last email calendar attachment: every member of one occurrence
	 * gets the same one, and building it expands the schedule.  Keyed on
	 * all it depends on (plans are kept until exit, so a pointer names
	 * one plan). */
	struct {
		const struct plan *p;
		size_t comm;
		long audience;
		int64_t start, from, to;
		char *text;            /* NULL: none, or it failed */
		bool valid;
	} cal;
};

struct engine *engine_new(const struct engine_opts *o)
{
	struct engine *e = xcalloc(1, sizeof *e);
	e->o = *o;
	if (o->policy)
		e->pol = *o->policy;
	else
		outbox_policy_default(&e->pol);
	e->pool = chan_pool_new(o->max_parallel);
	if (!e->o.max_parallel)
		e->o.max_parallel = 64;
	return e;
}

static void job_free(struct job *j)
{
	outbox_item_free(j->it);
	free(j->text);
	free(j->ack_url);
	free(j->when);
	free(j->calendar);
	free(j);
}

enum herald_rc engine_release(struct engine *e, struct herald_err *err)
{
	size_t n = 0;
	for (struct job *j = e->wait_head; j; j = j->next)
		n++;
	if (!n)
		return H_OK;
	struct outbox_item **items = xcalloc(n, sizeof *items);
	n = 0;
	for (struct job *j = e->wait_head; j; j = j->next)
		items[n++] = j->it;
	enum herald_rc rc = outbox_release(e->o.store, e->o.queue, items, n, err);
	free(items);
	while (e->wait_head) {
		struct job *j = e->wait_head;
		e->wait_head = j->next;
		e->held--;
		job_free(j);
	}
	e->wait_tail = NULL;
	return rc;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	chan_pool_free(e->pool); /* aborts transfers: their claims stay in flight */
	while (e->wait_head) {
		struct job *j = e->wait_head;
		e->wait_head = j->next;
		job_free(j);
	}
	for (size_t i = 0; i < e->nchans; i++)
		free(e->chans[i].id);
	free(e->chans);
	free(e->cal.text);
	for (size_t i = 0; i < e->npaces; i++)
		free(e->paces[i].key);
	free(e->paces);
	free(e->res);
	free(e);
}

size_t engine_inflight(const struct engine *e)
{
	return e->held;
}

void engine_wakeup(struct engine *e)
{
	chan_pool_wakeup(e->pool);
}

const struct engine_counters *engine_counters(const struct engine *e)
{
	return &e->c;
}

static size_t chan_slot(struct engine *e, const char *id)
{
	for (size_t i = 0; i < e->nchans; i++)
		if (strcmp(e->chans[i].id, id) == 0)
			return i;
	e->chans = xreallocarray(e->chans, e->nchans + 1, sizeof *e->chans);
	e->chans[e->nchans] = (struct chan_state){ .id = xstrdup(id) };
	return e->nchans++;
}

/* The pacing state of channel ch, made on first use; NO_PACE when its
 * type paces nothing. */
static size_t pace_slot(struct engine *e, const struct plan_channel *ch)
{
	const struct chan_pacing *pc = &ch->type->pacing;
	if (pc->interval_ms <= 0)
		return NO_PACE;
	struct buf k;
	buf_init(&k);
	buf_printf(&k, "%s:", ch->type->name);
	if (pc->key)
		pc->key(ch, &k);
	else
		buf_adds(&k, ch->id);
	size_t i = 0;
	while (i < e->npaces && strcmp(e->paces[i].key, k.data) != 0)
		i++;
	if (i == e->npaces) {
		e->paces = xreallocarray(e->paces, e->npaces + 1, sizeof *e->paces);
		e->paces[e->npaces++] = (struct pace_state){ .key = buf_take(&k) };
	}
	buf_free(&k);
	return i;
}

static void push_result(struct engine *e, struct job *j, const struct chan_outcome *o)
{
	if (e->nres == e->capres) {
		e->capres = e->capres ? 2 * e->capres : 64;
		e->res = xreallocarray(e->res, e->capres, sizeof *e->res);
	}
	struct outbox_result *r = &e->res[e->nres++];
	memset(r, 0, sizeof *r);
	r->item = j->it;
	r->item->user = j;
	r->o = *o;
	r->finished = clock_now();
}

static void on_done(void *tag, const struct chan_outcome *o, void *ctx)
{
	struct job *j = tag;
	struct engine *e = ctx;
	e->chans[j->chan].active--;
	push_result(e, j, o);
}

/* Fills the per-person placeholders the stored text keeps: the ack link
 * and the member's name (the note is each channel's to render). */
static char *fill_person(const char *msg, const char *url, const char *name)
{
	struct buf b;
	buf_init(&b);
	struct template_late v = { .name = name ? name : "", .ack_url = url ? url : "" };
	template_fill_late(msg, &v, &b);
	return buf_take(&b);
}

/* The calendar attachment of (communication, audience, start), built
 * once for all the members it goes to. */
static const char *calendar_for(struct engine *e, const struct plan *p, size_t comm,
				long audience, int64_t start)
{
	int64_t now = clock_now(), from, to;
	ics_default_window(p, now, &from, &to);
	if (e->cal.valid && e->cal.p == p && e->cal.comm == comm && e->cal.audience == audience &&
	    e->cal.start == start && e->cal.from == from && e->cal.to == to)
		return e->cal.text;
	free(e->cal.text);
	struct buf cal;
	buf_init(&cal);
	struct herald_err err;
	herald_err_clear(&err);
	if (ics_occurrence(p, comm, audience, start, now, &cal, &err) == H_OK) {
		e->cal.text = buf_take(&cal);
	} else {
		buf_free(&cal);
		e->cal.text = NULL;
	}
	e->cal.p = p;
	e->cal.comm = comm;
	e->cal.audience = audience;
	e->cal.start = start;
	e->cal.from = from;
	e->cal.to = to;
	e->cal.valid = true;
	return e->cal.text;
}

/* Builds the message of a claimed delivery; false (with o) if the plan no
 * longer has its channel. */
static bool job_build(struct engine *e, struct job *j, const struct plan *p,
		      struct chan_outcome *o)
{
	struct outbox_item *it = j->it;
	long ci = plan_channel_index(p, it->channel_id);
	if (ci < 0 || strcmp(plan_channel_type(&p->channels[ci]), it->channel_type) != 0) {
		snprintf(o->error, sizeof o->error,
			 "channel %s (%s) is no longer in the plan", it->channel_id,
			 it->channel_type);
		o->result = CHAN_PERM;
		o->retry_after = -1;
		return false;
	}
	const char *ackid = it->ack_id;
	if (ackid) {
		char tok[TOKEN_ACK_LEN + 1];
		keys_ack_token(e->o.keys(e->o.ctx), ackid, tok);
		const char *base = plan_base_url(p, e->o.base_url, e->o.base_default);
		j->ack_url = xasprintf("%s/ack/%s", base ? base : "http://127.0.0.1:8080", tok);
	}
	j->text = fill_person(it->message, j->ack_url,
			      it->recipient_name ? it->recipient_name : it->recipient);
	long cx = plan_comm_index(p, it->communication);
	const struct plan_comm *c = cx >= 0 ? &p->comms[cx] : NULL;
	long ax = plan_audience_index(p, it->audience);
	struct chan_msg *m = &j->m;
	m->ch = &p->channels[ci];
	j->pace = pace_slot(e, m->ch);
	m->key = it->key;
	m->kind = it->kind;
	m->plan_id = it->plan_id;
	m->plan_title = strcmp(p->id, it->plan_id) == 0 ? p->title : NULL;
	m->plan_version = it->plan_version;
	m->communication = it->communication;
	m->topic = it->topic;
	m->owner = c ? c->owner : p->owner;
	m->description = c ? c->description : NULL;
	m->audience = it->audience;
	m->audience_name = ax >= 0 ? p->audiences[ax].name : NULL;
	int64_t start;
	if (it->occurrence && parse_rfc3339(it->occurrence, &start)) {
		m->start = start;
		m->end = start + (c ? c->sched.duration : 1800);
		char s[80], en[80];
		outbox_local_time(p, c, m->start, s, sizeof s);
		outbox_local_time(p, c, m->end, en, sizeof en);
		j->when = xasprintf("%s to %s", s, en);
		m->when = j->when;
		m->tzid = c && plan_comm_tz(p, c) ? tz_name(plan_comm_tz(p, c)) : p->tzid;
	}
	/* Email attaches the occurrence as the audience's feed writes it
	 * (same UID and SEQUENCE), so calendars merge the two. */
	if (m->start && c && p->channels[ci].type->calendar) {
		const char *cal = calendar_for(e, p, (size_t)cx, ax, m->start);
		j->calendar = cal ? xstrdup(cal) : NULL;
		m->calendar = j->calendar;
	}
	m->recipient = it->recipient;
	m->recipient_name = it->recipient_name;
	m->text = j->text;
	m->note = it->note;
	m->requested_by = it->requested_by;
	m->drill = strcmp(it->kind, "drill") == 0;
	m->ack_url = j->ack_url;
	/* The acknowledgement page is the one page per message herald
	 * serves: a channel that must cut the text links there. */
	m->full_url = j->ack_url;
	m->message_id = it->message_id;
	m->possible_duplicate = it->possible_duplicate;
	m->now = clock_now();
	return true;
}

static void enqueue(struct engine *e, struct job *j)
{
	j->next = NULL;
	if (e->wait_tail)
		e->wait_tail->next = j;
	else
		e->wait_head = j;
	e->wait_tail = j;
}

/* Starts waiting jobs that their channel's limits allow. */
static void start_ready(struct engine *e, int64_t *next_wake_ms)
{
	int64_t now = clock_mono_ms();
	struct job **pp = &e->wait_head, *last = NULL;
	while (*pp) {
		struct job *j = *pp;
		if (chan_pool_active(e->pool) >= e->o.max_parallel)
			break;
		struct chan_state *cs = &e->chans[j->chan];
		/* A dry run reaches no receiver: nothing to pace. */
		struct pace_state *ps = j->pace != NO_PACE && !e->o.dry_run ?
			&e->paces[j->pace] : NULL;
		bool ok = cs->active < ENGINE_PER_CHANNEL && (!ps || now >= ps->next_ms);
		if (!ok) {
			if (ps && ps->next_ms > now &&
			    (*next_wake_ms == 0 || ps->next_ms < *next_wake_ms))
				*next_wake_ms = ps->next_ms;
			last = j;
			pp = &j->next;
			continue;
		}
		*pp = j->next;
		if (ps)
			ps->next_ms = now + j->m.ch->type->pacing.interval_ms;
		cs->active++;
		j->it->started = clock_now();
		j->m.now = j->it->started;
		chan_pool_add(e->pool, &j->m, e->o.dry_run, j);
	}
	/* fix the tail */
	e->wait_tail = NULL;
	for (struct job *j = e->wait_head; j; j = j->next)
		e->wait_tail = j;
	(void)last;
}

static void log_result(const struct engine *e, const struct outbox_result *r)
{
	const struct outbox_item *it = r->item;
	char to[300] = "";
	if (it->recipient)
		snprintf(to, sizeof to, " to=%s", it->recipient);
	if (r->final && (strcmp(r->final, "sent") == 0 || strcmp(r->final, "dry-run") == 0)) {
		/* A dry run is never logged as sent: an operator grepping for
		 * delivery.sent must not count rehearsals. */
		log_event(LOG_INFO, r->o.dry_run ? "delivery.dry-run" : "delivery.sent",
			"%s%s%s%s audience=%s channel=%s%s delivery=%.12s "
			"attempt=%d status=%ld%s%s", it->communication,
			strcmp(it->kind, "scheduled") ? " (" : "",
			strcmp(it->kind, "scheduled") ? it->kind : "",
			strcmp(it->kind, "scheduled") ? ")" : "",
			it->audience, it->channel_id, to, it->key, it->attempt, r->o.status,
			r->finished - it->due > e->pol.late_after ? " late" : "",
			!r->o.dry_run && it->possible_duplicate ? " possible-duplicate" : "");
	} else if (r->final) {
		log_event(LOG_ERROR, "delivery.failed", "%s audience=%s channel=%s%s delivery=%.12s "
			"after %d attempt%s: %s", it->communication, it->audience,
			it->channel_id, to, it->key, it->attempt, it->attempt == 1 ? "" : "s",
			r->o.error);
	} else {
		log_event(LOG_WARN, "delivery.retry", "%s audience=%s channel=%s%s delivery=%.12s "
			"attempt=%d: %s; next in %llds", it->communication, it->audience,
			it->channel_id, to, it->key, it->attempt, r->o.error,
			(long long)(r->next_at - r->finished));
	}
}

/*
 * Records the finished sends.  When the database refuses (disk full, I/O
 * error) the results are kept and recorded at the next round: a send that
 * went out is never forgotten, nor sent again.
 */
static enum herald_rc record_results(struct engine *e, struct herald_err *err)
{
	if (e->nres == 0)
		return H_OK;
	enum herald_rc rc = outbox_record(e->o.store, e->res, e->nres, &e->pol, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < e->nres; i++) {
		struct outbox_result *r = &e->res[i];
		struct job *j = r->item->user;
		log_result(e, r);
		e->c.attempts++;
		if (!r->final)
			e->c.retried++;
		else if (strcmp(r->final, "sent") == 0 || strcmp(r->final, "dry-run") == 0)
			e->c.sent++;
		else
			e->c.failed++;
		e->held--;
		job_free(j);
	}
	e->nres = 0;
	return H_OK;
}

enum herald_rc engine_step(struct engine *e, int64_t now, int wait_ms, bool claim,
			   struct herald_err *err)
{
	/* Results a failing database could not take last time go first. */
	enum herald_rc rc = record_results(e, err);
	if (rc)
		return rc;
	const struct plan *p = e->o.plan(e->o.ctx);
	size_t cap = 4 * (size_t)e->o.max_parallel;
	/* A `herald send` run keeps its deliveries leased while it lives, so
	 * the service adopts them only once it is gone. */
	if (strcmp(e->o.queue, "pending") != 0 && now >= e->renew_at) {
		if ((rc = outbox_renew(e->o.store, e->o.queue, now, &e->pol, err)))
			return rc;
		e->renew_at = now + (e->pol.lease / 3 > 0 ? e->pol.lease / 3 : 1);
	}
	if (claim && e->held < cap) {
		struct outbox_item **items;
		size_t n;
		rc = outbox_claim(e->o.store, e->o.queue, now, cap - e->held, &e->pol, &items, &n, err);
		if (rc)
			return rc;
		for (size_t i = 0; i < n; i++) {
			struct job *j = xcalloc(1, sizeof *j);
			j->it = items[i];
			j->e = e;
			j->chan = chan_slot(e, items[i]->channel_id);
			j->pace = NO_PACE;
			e->held++;
			struct chan_outcome o = { .retry_after = -1 };
			if (!job_build(e, j, p, &o)) {
				e->chans[j->chan].active++;
				on_done(j, &o, e);
				continue;
			}
			enqueue(e, j);
		}
		free(items);
	}
	/* Drive transfers; once something finished, keep going a little
	 * longer (starting more as slots free up) so one transaction, one
	 * fsync, records a batch rather than a single send. */
	int64_t t0 = clock_mono_ms(), deadline = t0 + wait_ms, batch_end = 0;
	for (;;) {
		int64_t wake = 0;
		start_ready(e, &wake);
		int64_t now_ms = clock_mono_ms();
		int64_t end = batch_end ? batch_end : deadline;
		if (e->wait_head) {
			int64_t until = wake ? wake : now_ms + 50;
			if (until < end)
				end = until;
		}
		int tmo = end > now_ms ? (int)(end - now_ms) : 0;
		size_t before = e->nres;
		chan_pool_run(e->pool, tmo, on_done, e);
		now_ms = clock_mono_ms();
		if (e->nres && !batch_end)
			batch_end = now_ms + BATCH_MS;
		if (e->nres >= BATCH_MAX || (e->nres && now_ms >= batch_end))
			break;
		if (e->nres && chan_pool_active(e->pool) == 0 && !e->wait_head)
			break;
		if (!e->nres && now_ms >= deadline)
			break;
		if (!e->nres && e->wait_head && before == e->nres && now_ms < deadline)
			continue;
	}
	return record_results(e, err);
}
