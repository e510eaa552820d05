/*
 * outbox_create.c - making deliveries: the scheduled ones of each
 * occurrence and notify offset, the manual ones of a send, the onboarding
 * ones of a member who joined, and the reminders of all (see outbox.h).
 *
 * One text, one message row per (occurrence, offset, audience, channel,
 * reminder): what differs per person (address, name, ack link) is kept on
 * the small deliveries row, and filled into the text when it is sent.  A
 * manual send's note stays the placeholder {{note}} in the text too (it
 * is on the message row): each channel renders it in its own markup
 * (chan.h, chan_text), and a note can never be read as a placeholder.
 */
#include "herald/outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/clock.h"
#include "herald/fanout.h"
#include "herald/plan.h"
#include "herald/sched.h"
#include "herald/store.h"
#include "herald/template.h"
#include "herald/timeutil.h"
#include "herald/token.h"
#include "herald/util.h"

#define MAX_SLOTS 64

/* The message of one (audience, channel, reminder) in the current batch. */
struct slot {
	const struct plan_audience *a;
	const struct plan_channel *ch;
	size_t reminder;              /* 0 = the message itself */
	int64_t seq;
};

struct creator {
	struct store *s;
	const struct plan *p;
	const struct plan_comm *c;
	unsigned char plan_sha[32];
	bool has_plan_sha;
	const char *kind;            /* "scheduled" / "manual" / "drill" */
	const char *key_kind;        /* kind part of the key */
	const char *occurrence;      /* RFC 3339 UTC, or NULL */
	const char *ack_scope;       /* occurrence, or the manual request */
	int64_t start, end;          /* 0 when there is no occurrence */
	bool has_offset;
	int64_t offset;
	int64_t due;
	const char *requested_by, *note, *queue, *request;
	const char *by;              /* manual: the person, for the default text */
	int64_t created_at;
	int64_t lease_until;         /* a `herald send` queue's first lease */
	size_t created;
	struct slot slots[MAX_SLOTS];
	size_t nslots;
	struct outbox_made *made;    /* manual: deliveries made */
	size_t nmade;
	bool want_keys;
	bool drill;
	bool dry_run;                /* a rehearsal: no reminders (see insert_one) */
	struct herald_err *err;
};

/* The default text of a manual send: the note first, who sent it. */
static void render_manual_default(const struct creator *cr, const struct template_vars *v,
				  struct buf *out)
{
	const struct plan_comm *c = cr->c;
	template_render(cr->note ? "{{topic}}\n\n{{note}}\n\n" : "{{topic}}\n\n", v, out);
	if (c->description)
		template_render("{{description}}\n\n", v, out);
	if (cr->start)
		template_render("When: {{start}} to {{end}}\n", v, out);
	/* the name as given: not a template (it was checked for "{{") */
	if (cr->by)
		buf_printf(out, "Sent by: %s\n", cr->by);
	template_render(c->acknowledge
				? "Owner: {{owner}}\n\nPlease acknowledge that you have read this: "
				  "{{ack_url}}\n\n({{plan}} version {{plan_version}}, communication "
				  "{{communication}})"
				: "Owner: {{owner}}\n\n({{plan}} version {{plan_version}}, "
				  "communication {{communication}})",
			v, out);
}

static void render(const struct creator *cr, const struct fanout_target *t,
		   size_t reminder, struct buf *out)
{
	const struct plan *p = cr->p;
	const struct plan_comm *c = cr->c;
	char s[80] = "", e[80] = "";
	if (cr->start) {
		outbox_local_time(p, c, cr->start, s, sizeof s);
		outbox_local_time(p, c, cr->end, e, sizeof e);
	} else {
		snprintf(s, sizeof s, "now (%s)", cr->kind);
	}
	const char *aud = t->a->name ? t->a->name : t->a->id;
	/* The ack link and a member's name are kept as placeholders in the
	 * evidence and filled in when the message is sent: a link is a
	 * capability (it does not belong in exports), and one text then
	 * serves every member.  So is the note (see the top). */
	struct template_vars v = {
		.topic = c->topic, .description = c->description, .audience = aud,
		.owner = c->owner, .start = s, .end = cr->start ? e : "",
		.plan = p->title ? p->title : p->id, .plan_version = p->version,
		.communication = c->id, .ack_url = c->acknowledge ? "{{ack_url}}" : NULL,
		.name = t->personal ? "{{name}}" : aud, .note = cr->note ? "{{note}}" : NULL,
	};
	if (cr->drill)
		buf_adds(out, "[DRILL] ");
	if (reminder)
		buf_adds(out, "Reminder: you have not acknowledged this yet.\n\n");
	else if (strcmp(cr->kind, "onboarding") == 0)
		buf_printf(out, "Welcome to %s. This was sent before you joined, and everyone in it "
			   "is asked to acknowledge it.\n\n", aud);
	size_t from = out->len;
	if (c->message)
		template_render(c->message, &v, out);
	else if (cr->request)
		render_manual_default(cr, &v, out);
	else
		template_render(template_default(c->acknowledge), &v, out);
	/* The facts of a manual send are never dropped: a message that does
	 * not place the note gets it at the end. */
	if (cr->note && !strstr(out->data + from, "{{note}}"))
		buf_adds(out, "\n\nNote: {{note}}");
	if (c->acknowledge && !strstr(out->data + from, "{{ack_url}}"))
		buf_adds(out, "\n\nPlease acknowledge that you have read this: {{ack_url}}");
}

/* The domain of a channel's From address, for Message-IDs. */
static void mail_domain(const struct plan_channel *ch, char *out, size_t n)
{
	out[0] = '\0';
	if (!ch->from)  /* only email has a From address */
		return;
	const char *at = ch->from ? strrchr(ch->from, '@') : NULL;
	snprintf(out, n, "%s", at ? at + 1 : "herald.invalid");
	out[strcspn(out, ">\" ")] = '\0';
}

/* The seq of the message of (t's audience and channel, reminder) in the
 * current batch, made on first use. */
static enum herald_rc message_for(struct creator *cr, const struct fanout_target *t,
				  size_t reminder, int64_t due, int64_t *seq)
{
	for (size_t i = 0; i < cr->nslots; i++)
		if (cr->slots[i].a == t->a && cr->slots[i].ch == t->ch &&
		    cr->slots[i].reminder == reminder) {
			*seq = cr->slots[i].seq;
			return H_OK;
		}
	struct buf text;
	buf_init(&text);
	render(cr, t, reminder, &text);
	unsigned char tsha[32];
	enum herald_rc rc = store_text_put(cr->s, text.data, text.len, tsha, cr->err);
	buf_free(&text);
	if (rc)
		return rc;
	char dom[128];
	mail_domain(t->ch, dom, sizeof dom);
	struct store_message m = {
		.created_at = cr->created_at, .kind = reminder ? "reminder" : cr->kind,
		.plan_id = cr->p->id, .plan_version = cr->p->version,
		.plan_sha256 = cr->has_plan_sha ? cr->plan_sha : NULL,
		.communication = cr->c->id, .topic = cr->c->topic,
		.has_occurrence = cr->start != 0, .occurrence = cr->start,
		.has_offset = cr->has_offset, .notify_offset = cr->offset,
		.audience = t->a->id, .channel_type = plan_channel_type(t->ch),
		.channel_id = t->ch->id, .due = due, .text = tsha,
		.requested_by = cr->requested_by, .note = cr->note, .request = cr->request,
		.mail_domain = dom[0] ? dom : NULL,
	};
	if ((rc = store_message_add(cr->s, &m, seq, cr->err)))
		return rc;
	if (cr->nslots < MAX_SLOTS)
		cr->slots[cr->nslots++] = (struct slot){ t->a, t->ch, reminder, *seq };
	return H_OK;
}

static void add_made(struct creator *cr, const unsigned char key[32],
		     const struct fanout_target *t)
{
	cr->made = xreallocarray(cr->made, cr->nmade + 1, sizeof *cr->made);
	struct outbox_made *m = &cr->made[cr->nmade++];
	hex_encode(key, 32, m->key);
	m->audience = t->a->id;
	m->channel = t->ch->id;
	m->recipient = t->recipient;
}

/* True for the notice closest to the occurrence (the smallest offset), or
 * a send without offsets. */
static bool last_notice(const struct creator *cr)
{
	return !cr->has_offset || plan_comm_reminds_after(cr->c, cr->offset);
}

/* Creates one delivery (and, for an original, its reminders) unless its
 * key exists. */
static enum herald_rc insert_one(struct creator *cr, const struct fanout_target *t,
				 size_t reminder, int64_t parent)
{
	const struct plan_comm *c = cr->c;
	char kk[96];
	if (reminder)
		snprintf(kk, sizeof kk, "reminder:%zu:%s", reminder, cr->key_kind);
	else
		snprintf(kk, sizeof kk, "%s", cr->key_kind);
	/* A manual send's request id (in kk) already makes its keys unique;
	 * the occurrence it speaks of (the next one, for a scheduled
	 * communication out of turn) moves on with time, and would give a
	 * retry of the same request, made after it, new deliveries. */
	unsigned char key[32];
	outbox_key_raw(cr->p->id, c->id, cr->request ? NULL : cr->occurrence,
		       cr->has_offset ? cr->offset : 0, kk, t->a->id, t->ch->id, t->recipient, key);
	if (store_delivery_exists(cr->s, key, NULL)) {
		/* the same request again: the same deliveries, none new */
		if (cr->want_keys && !reminder)
			add_made(cr, key, t);
		return H_OK;
	}
	int64_t due = reminder ? cr->due + c->remind_after[reminder - 1] : cr->due;
	int64_t msg;
	enum herald_rc rc = message_for(cr, t, reminder, due, &msg);
	if (rc)
		return rc;
	unsigned char ack[16];
	if (c->acknowledge) {
		char shared[512];
		snprintf(shared, sizeof shared, "%s/%s", t->a->id, t->ch->id);
		outbox_ackid(cr->p->id, c->id, cr->ack_scope, t->recipient ? t->recipient : shared,
			     ack);
	}
	struct store_delivery d = {
		.message = msg, .key = key, .recipient = t->recipient,
		.recipient_name = t->recipient_name, .ack = c->acknowledge ? ack : NULL,
		.parent = parent,
	};
	int64_t seq;
	if ((rc = store_delivery_add(cr->s, &d, &seq, cr->err)))
		return rc;
	/* Reminders fall due days later: the service sends them, whoever
	 * queued the original. */
	bool own = !reminder && strcmp(cr->queue, "pending") != 0;
	if ((rc = store_outbox_add(cr->s, seq, due, own ? cr->queue : "pending",
				   own ? cr->lease_until : 0, cr->err)))
		return rc;
	cr->created++;
	if (cr->want_keys && !reminder)
		add_made(cr, key, t);
	/* Reminders follow the last notice only: one link covers every
	 * notice, so reminding after each would remind twice.  A drill
	 * rehearses the message, not days of reminders to the drill
	 * recipients.  Nor does a dry-run send queue any: they would fall
	 * due days later, when this database may be served live, and a
	 * rehearsed breach notice would remind the real audience. */
	for (size_t i = 0; !reminder && !cr->drill && !cr->dry_run && last_notice(cr) &&
			   c->acknowledge && i < c->nremind; i++)
		if ((rc = insert_one(cr, t, i + 1, seq)))
			return rc;
	return H_OK;
}

static enum herald_rc on_target(const struct fanout_target *t, void *ctx)
{
	return insert_one(ctx, t, 0, 0);
}

static void creator_init(struct creator *cr, struct store *s, const struct plan *p,
			 struct herald_err *err)
{
	memset(cr, 0, sizeof *cr);
	cr->s = s;
	cr->p = p;
	cr->err = err;
	cr->created_at = clock_now();
	/* A `herald send` queue is leased from its creation: if the command
	 * dies before its first claim, the service still adopts it. */
	struct outbox_policy pol;
	outbox_policy_default(&pol);
	cr->lease_until = cr->created_at + pol.lease;
	cr->has_plan_sha = hex_decode(p->sha256, cr->plan_sha, 32);
}

struct mat_ctx {
	struct creator *cr;
	int64_t from, to;
	enum herald_rc rc;
};

static int on_occurrence(const struct occurrence *o, void *ctx)
{
	struct mat_ctx *m = ctx;
	struct creator *cr = m->cr;
	char occ[32];
	format_rfc3339_utc(o->start, occ, sizeof occ);
	for (size_t i = 0; i < cr->c->nnotify; i++) {
		int64_t due = o->start - cr->c->notify[i];
		if (due < m->from || due >= m->to)
			continue;
		cr->occurrence = cr->ack_scope = occ;
		cr->start = o->start;
		cr->end = o->end;
		cr->has_offset = true;
		cr->offset = cr->c->notify[i];
		cr->due = due;
		cr->nslots = 0;
		m->rc = fanout_each(cr->p, cr->c, on_target, cr);
		if (m->rc)
			return 1;
	}
	return 0;
}

enum herald_rc outbox_materialise(struct store *s, const struct plan *p,
				  int64_t from, int64_t to, size_t *created,
				  struct herald_err *err)
{
	struct creator cr;
	creator_init(&cr, s, p, err);
	cr.kind = cr.key_kind = "scheduled";
	cr.queue = "pending";
	enum herald_rc rc = store_begin(s, err);
	if (rc)
		return rc;
	for (size_t i = 0; !rc && i < p->ncomms; i++) {
		const struct plan_comm *c = &p->comms[i];
		if (c->sched.kind == SCHED_MANUAL || c->nnotify == 0)
			continue;
		int64_t maxoff = 0;
		for (size_t k = 0; k < c->nnotify; k++)
			if (c->notify[k] > maxoff)
				maxoff = c->notify[k];
		cr.c = c;
		struct mat_ctx m = { &cr, from, to, H_OK };
		/* an occurrence starting in [from, to + maxoff) can fall due in
		 * [from, to) */
		int r = sched_expand(&c->sched, from, to + maxoff, on_occurrence, &m);
		if (m.rc)
			rc = m.rc;
		else if (r < 0)
			rc = herald_err_set(err, H_EINVAL, "communication %s: schedule too long to expand",
					    c->id);
	}
	if (rc) {
		store_rollback(s);
		return rc;
	}
	rc = store_commit(s, err);
	if (!rc && created)
		*created = cr.created;
	return rc;
}

enum herald_rc outbox_create_manual(struct store *s, const struct plan *p,
				    const struct plan_comm *c, int64_t now,
				    const struct outbox_manual *m, const char *queue,
				    struct outbox_made **made, size_t *n,
				    struct herald_err *err)
{
	char req[72], kk[96], who[OUTBOX_BY_MAX + 200];
	if (m->request) {
		snprintf(req, sizeof req, "%s", m->request);
	} else {
		unsigned char rnd[16];
		random_bytes(rnd, sizeof rnd);
		hex_encode(rnd, sizeof rnd, req);
	}
	snprintf(kk, sizeof kk, "%s:%s", m->drill ? "drill" : "manual", req);
	outbox_requested_by(m, who, sizeof who);
	struct creator cr;
	creator_init(&cr, s, p, err);
	cr.c = c;
	cr.kind = m->drill ? "drill" : "manual";
	cr.drill = m->drill;
	cr.dry_run = m->dry_run;
	cr.key_kind = kk;
	cr.queue = queue;
	cr.due = now;
	cr.requested_by = who;
	cr.by = m->by;
	cr.note = m->note;
	cr.request = req;
	cr.ack_scope = req;
	cr.want_keys = true;
	/* A scheduled communication sent by hand speaks of its next
	 * occurrence (its time in the message, the calendar attachment). */
	char occ[32];
	struct occurrence o;
	if (c->sched.kind != SCHED_MANUAL && sched_next(&c->sched, now, &o)) {
		format_rfc3339_utc(o.start, occ, sizeof occ);
		cr.occurrence = occ;
		cr.start = o.start;
		cr.end = o.end;
	}
	enum herald_rc rc = store_begin(s, err);
	if (!rc) {
		rc = m->drill ? fanout_drill_each(p, c, on_target, &cr)
			      : fanout_each(p, c, on_target, &cr);
		if (rc)
			store_rollback(s);
		else
			rc = store_commit(s, err);
	}
	if (rc) {
		free(cr.made);
		return rc;
	}
	*made = cr.made;
	*n = cr.nmade;
	return H_OK;
}

enum herald_rc outbox_create_onboarding(struct store *s, const struct plan *p,
					const struct plan_comm *c,
					const struct plan_audience *a,
					const struct member *const *members, size_t n,
					const struct occurrence *o, int64_t now,
					size_t *created, struct herald_err *err)
{
	struct creator cr;
	creator_init(&cr, s, p, err);
	cr.created_at = now;
	cr.c = c;
	cr.kind = cr.key_kind = "onboarding";
	cr.queue = "pending";
	char occ[32];
	format_rfc3339_utc(o->start, occ, sizeof occ);
	cr.occurrence = cr.ack_scope = occ;
	cr.start = o->start;
	cr.end = o->end;
	cr.due = now;
	enum herald_rc rc = H_OK;
	for (size_t d = 0; !rc && d < a->ndeliver; d++) {
		const struct plan_deliver *dl = &a->deliver[d];
		if (dl->to != TO_MEMBERS || !plan_comm_uses_channel(c, dl->channel))
			continue;
		for (size_t k = 0; !rc && k < n; k++) {
			struct fanout_target t = { a, &p->channels[dl->channel], members[k]->email,
						   members[k]->name, true };
			rc = insert_one(&cr, &t, 0, 0);
		}
	}
	if (!rc && created)
		*created += cr.created;
	return rc;
}
