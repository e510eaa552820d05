/*
 * outbox_members.c - joiners and leavers (see outbox_membership in
 * outbox.h): a member who joins an audience is asked the latest
 * acknowledgement that audience was asked before them; a member who
 * leaves is no longer reminded, nor sent what was queued ahead for them.
 *
 * Both sides are decided by comparing two plans, so a reload and a
 * refreshed member source (issue 13) go through the same door, and a
 * repeated call is harmless: onboarding keys are deterministic and a
 * cancelled delivery has left the queue.
 */
#include "herald/outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/log.h"
#include "herald/members.h"
#include "herald/plan.h"
#include "herald/sched.h"
#include "herald/store.h"
#include "herald/timeutil.h"
#include "herald/token.h"
#include "herald/util.h"

/*
 * Who is in each audience of one plan, indexed on first use: a reload
 * asks it of every member of every audience, and scanning the list for
 * each took minutes for a directory of 100,000.
 */
struct roster {
	const struct plan *p;
	struct member_set **set;    /* one per audience, NULL until asked */
};

static void roster_init(struct roster *r, const struct plan *p)
{
	r->p = p;
	r->set = xcalloc(p->naudiences ? p->naudiences : 1, sizeof *r->set);
}

static void roster_free(struct roster *r)
{
	for (size_t i = 0; i < r->p->naudiences; i++)
		member_set_free(r->set[i]);
	free(r->set);
}

/* Whether email is a member of a, an audience of r's plan (NULL: none). */
static bool has_member(struct roster *r, const struct plan_audience *a, const char *email)
{
	if (!a)
		return false;
	size_t i = (size_t)(a - r->p->audiences);
	if (!r->set[i])
		r->set[i] = member_set_new(a->list);
	return member_set_has(r->set[i], email);
}

/* The same list on both sides (member lists a refresh did not change are
 * shared between plans): nobody joined or left. */
static bool same_people(const struct plan_audience *a, const struct plan_audience *b)
{
	return a && b && a->list == b->list;
}

static const struct plan_audience *audience_of(const struct plan *p, const char *id)
{
	long i = plan_audience_index(p, id);
	return i >= 0 ? &p->audiences[i] : NULL;
}

static bool comm_reaches(const struct plan *p, const struct plan_comm *c, const char *aud)
{
	for (size_t i = 0; i < c->naudiences; i++)
		if (strcmp(p->audiences[c->audiences[i]].id, aud) == 0)
			return true;
	return false;
}

static int keep_last(const struct occurrence *o, void *ctx)
{
	*(struct occurrence *)ctx = *o;
	return 0;
}

/*
 * The latest occurrence of s that started at or before now, looking back
 * in widening windows (a daily rule is found in the first, an annual one
 * in the third) up to ten years.
 */
static bool latest_past(const struct schedule *s, int64_t now, struct occurrence *o)
{
	static const int64_t back[] = { 8 * 86400, 40 * 86400, 400 * 86400, 3660 * 86400 };
	int64_t to = now + 1;
	for (size_t i = 0; i < sizeof back / sizeof back[0]; i++) {
		int64_t from = now - back[i];
		o->start = 0;
		if (sched_expand(s, from, to, keep_last, o) < 0)
			return false;
		if (o->start)
			return true;
		to = from;
	}
	return false;
}

/* The members of a (new plan) who are not in the audience of the same id
 * in old, and have no ack link for occurrence yet. */
static size_t joiners(struct store *s, const struct plan *p, const struct plan_comm *c,
		      const struct plan_audience *a, const struct plan_audience *was,
		      struct roster *before, const char *occurrence, const struct member **out)
{
	size_t n = 0;
	for (size_t i = 0; i < a->nmembers; i++) {
		const struct member *m = &a->members[i];
		if (has_member(before, was, m->email))
			continue;
		unsigned char raw[16];
		char ackid[TOKEN_ACKID_LEN + 1];
		outbox_ackid(p->id, c->id, occurrence, m->email, raw);
		base64url(raw, sizeof raw, ackid);
		struct store_ack_target t;
		if (store_ack_lookup(s, ackid, &t, NULL)) {
			store_ack_target_free(&t);
			continue;
		}
		out[n++] = m;
	}
	return n;
}

/* Whether c goes to a's members one by one. */
static bool personal(const struct plan_comm *c, const struct plan_audience *a)
{
	for (size_t d = 0; d < a->ndeliver; d++)
		if (a->deliver[d].to == TO_MEMBERS && plan_comm_uses_channel(c, a->deliver[d].channel))
			return true;
	return false;
}

static enum herald_rc onboard(struct store *s, const struct plan *old, const struct plan *p,
			      struct roster *before, int64_t now,
			      struct outbox_membership_counts *k, struct herald_err *err)
{
	for (size_t ci = 0; ci < p->ncomms; ci++) {
		const struct plan_comm *c = &p->comms[ci];
		if (!c->acknowledge || c->new_members != ACK_NEW_LATEST ||
		    c->sched.kind == SCHED_MANUAL)
			continue;
		long oc = plan_comm_index(old, c->id);
		struct occurrence o;
		bool found = false, looked = false;
		for (size_t ai = 0; ai < c->naudiences; ai++) {
			const struct plan_audience *a = &p->audiences[c->audiences[ai]];
			/* Only an audience whose members were asked one by one
			 * before: a communication new to it has no past to catch
			 * up on, and an audience that was a list address is not
			 * a crowd of joiners. */
			const struct plan_audience *was = audience_of(old, a->id);
			if (!was || same_people(a, was) || oc < 0 ||
			    !comm_reaches(old, &old->comms[oc], a->id) ||
			    !personal(&old->comms[oc], was) || !personal(c, a))
				continue;
			if (!looked) {
				found = latest_past(&c->sched, now, &o);
				looked = true;
			}
			if (!found)
				break;
			char occ[32];
			format_rfc3339_utc(o.start, occ, sizeof occ);
			const struct member **m = xcalloc(a->nmembers ? a->nmembers : 1, sizeof *m);
			size_t n = joiners(s, p, c, a, was, before, occ, m);
			enum herald_rc rc = n ? outbox_create_onboarding(s, p, c, a, m, n, &o, now,
									 &k->onboarding, err)
					      : H_OK;
			for (size_t i = 0; !rc && i < n; i++)
				log_event(LOG_INFO, "outbox.onboarding", "%s occurrence %s audience=%s "
					  "to=%s: joined after it was sent", c->id, occ, a->id,
					  m[i]->email);
			free(m);
			if (rc)
				return rc;
		}
	}
	return H_OK;
}

static enum herald_rc cancel_leaver(struct store *s, const struct plan_audience *a,
				    const char *email, int64_t now,
				    struct outbox_membership_counts *k, struct herald_err *err)
{
	struct store_queued *q;
	size_t n;
	enum herald_rc rc = store_outbox_queued_to(s, a->id, email, &q, &n, err);
	for (size_t i = 0; !rc && i < n; i++) {
		struct store_state st = {
			.delivery = q[i].delivery, .at = now, .state = "cancelled",
			.duplicate = q[i].flagged, .possible_duplicate = q[i].flagged,
			.detail = "left the audience", .attempts = q[i].recorded,
		};
		rc = store_state_add(s, &st, err);
		if (!rc)
			rc = store_outbox_done(s, q[i].delivery, "cancelled", err);
		if (!rc)
			k->cancelled++;
	}
	if (!rc && n)
		log_event(LOG_INFO, "outbox.left", "audience=%s to=%s: %zu queued deliver%s "
			  "cancelled (left the audience)", a->id, email, n, n == 1 ? "y" : "ies");
	free(q);
	return rc;
}

static enum herald_rc leavers(struct store *s, const struct plan *old, const struct plan *p,
			      struct roster *after, int64_t now,
			      struct outbox_membership_counts *k, struct herald_err *err)
{
	for (size_t ai = 0; ai < old->naudiences; ai++) {
		const struct plan_audience *was = &old->audiences[ai];
		const struct plan_audience *a = audience_of(p, was->id);
		if (same_people(a, was))
			continue;
		for (size_t i = 0; i < was->nmembers; i++) {
			if (has_member(after, a, was->members[i].email))
				continue;
			k->left++;
			enum herald_rc rc = cancel_leaver(s, was, was->members[i].email, now, k, err);
			if (rc)
				return rc;
		}
	}
	return H_OK;
}

enum herald_rc outbox_membership(struct store *s, const struct plan *old,
				 const struct plan *new_plan, int64_t now,
				 struct outbox_membership_counts *counts,
				 struct herald_err *err)
{
	struct outbox_membership_counts k = { 0 };
	if (!old || !new_plan) {
		if (counts)
			*counts = k;
		return H_OK;
	}
	/* A different plan is not a change of members. */
	if (strcmp(old->id, new_plan->id) != 0) {
		if (counts)
			*counts = k;
		return H_OK;
	}
	struct roster before, after;
	roster_init(&before, old);
	roster_init(&after, new_plan);
	for (size_t ai = 0; ai < new_plan->naudiences; ai++) {
		const struct plan_audience *a = &new_plan->audiences[ai];
		const struct plan_audience *was = audience_of(old, a->id);
		for (size_t i = 0; was && !same_people(a, was) && i < a->nmembers; i++)
			k.joined += !has_member(&before, was, a->members[i].email);
	}
	enum herald_rc rc = store_begin(s, err);
	if (!rc) {
		rc = leavers(s, old, new_plan, &after, now, &k, err);
		if (!rc)
			rc = onboard(s, old, new_plan, &before, now, &k, err);
		if (rc)
			store_rollback(s);
		else
			rc = store_commit(s, err);
	}
	roster_free(&before);
	roster_free(&after);
	if (rc)
		return rc;
	if (counts)
		*counts = k;
	return H_OK;
}
