/*
 * outbox.h - the durable outbox: deliveries written before they are sent,
 * claimed, and their attempts and final states recorded as evidence.  The
 * logic lives here; what is kept, and how, is store.h's.
 *
 * Every due (occurrence, notify offset, audience, channel, recipient) is
 * one delivery with a deterministic key (outbox_key).  Creating one
 * appends its message (shared by every recipient of that occurrence,
 * offset, audience and channel), its text (stored once), its deliveries
 * row and its place in the queue, in one transaction.  A delivery is
 * then:
 *
 *   queued (the service's "pending", or a `herald send` run's "cli:…")
 *     -> claimed (committed before sending)
 *     -> sent | failed | missed | cancelled | dry-run (final: one
 *        delivery_states row; it leaves the queue)
 *     or back to its queue after a temporary failure, with a backoff
 *
 * A claim never recorded (the process died after sending) is seen on the
 * next claim: the queue counts claims and recorded attempts apart, so the
 * re-send is flagged possible_duplicate and its final state duplicate.
 *
 * Acknowledgement: every message, notify offset and reminder of one
 * (communication, occurrence, person) carries the same ack link id
 * (outbox_ackid), so one confirmation covers them all and ends the
 * reminders.
 *
 * Each call that writes is one transaction over any number of deliveries,
 * so throughput is bounded by fsyncs per batch, not per delivery.
 */
#ifndef HERALD_OUTBOX_H
#define HERALD_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "herald/chan.h"
#include "herald/err.h"

struct store;
struct plan;
struct plan_comm;

/*
 * Retry and catch-up policy.  Defaults: 8 attempts, backoff 10 s doubling
 * up to 1 h with jitter (each delay uniformly in [d/2, d]), a delivery
 * older than 24 h is not retried; a delivery that fell due while herald was
 * down is sent late up to 12 h after its due time and recorded missed
 * beyond; sent more than 120 s after due counts as late; deliveries are
 * materialised 2 days ahead; a `herald send` run holds its deliveries on
 * a 2-minute lease it renews while it runs.  Environment overrides (tests,
 * operators): HERALD_RETRY_BASE_MS, HERALD_RETRY_MAX_ATTEMPTS,
 * HERALD_RETRY_MAX_AGE, HERALD_GRACE_SECONDS, HERALD_LEASE_SECONDS.
 */
struct outbox_policy {
	int max_attempts;
	int64_t base_ms, cap_ms;
	int64_t max_age;      /* seconds after due */
	int64_t grace;        /* seconds after due: late, beyond: missed */
	int64_t late_after;   /* seconds */
	int64_t horizon;      /* seconds ahead */
	int64_t lease;        /* seconds: a `herald send` claim */
};

void outbox_policy_default(struct outbox_policy *p);

/*
 * The idempotency key: SHA-256 over the NUL-separated fields (NULL fields
 * as empty), as 32 bytes or as lower-case hex.  kind is "scheduled",
 * "reminder:N:…" or "manual:REQUEST".
 */
void outbox_key_raw(const char *plan_id, const char *communication,
		    const char *occurrence, int64_t offset, const char *kind,
		    const char *audience, const char *channel,
		    const char *recipient, unsigned char out[32]);
void outbox_key(const char *plan_id, const char *communication,
		const char *occurrence, int64_t offset, const char *kind,
		const char *audience, const char *channel, const char *recipient,
		char out[65]);

/*
 * The ack link id (16 bytes) of one (communication, occurrence, person):
 * occurrence is the occurrence's RFC 3339 start, or a manual send's
 * request; person is the recipient's address (case-insensitive), or for a
 * shared destination audience and channel.
 */
void outbox_ackid(const char *plan_id, const char *communication,
		  const char *occurrence, const char *person, unsigned char out[16]);

/* Delay before attempt n+1 after n failed attempts (n >= 1); rnd is a
 * random number (jitter). */
int64_t outbox_backoff_ms(const struct outbox_policy *p, int n, uint32_t rnd);

/*
 * Creates the deliveries of every scheduled communication of p falling due
 * in [from, to) (due = occurrence start - notify offset), and their
 * acknowledgement reminders, unless they exist.  *created (may be NULL)
 * gets the number of new deliveries.
 */
enum herald_rc outbox_materialise(struct store *s, const struct plan *p,
				  int64_t from, int64_t to, size_t *created,
				  struct herald_err *err);

/*
 * A manual send as asked, by `herald send` or the API: the same rules for
 * both (outbox_manual_check).
 */
struct outbox_manual {
	const char *by;          /* the person who asks (required) */
	const char *via;         /* how: "CLI, user dana", "API, 10.0.0.5"; may be NULL */
	const char *note;        /* the facts, at most OUTBOX_NOTE_MAX bytes; NULL = none */
	bool drill;              /* to the drill recipients only, kind "drill" */
	bool out_of_turn;        /* a scheduled communication sent by hand */
	bool dry_run;            /* nothing leaves: the link check does not apply */
	const char *base_url;    /* base of the links the messages carry; NULL = unset */
	/*
	 * The request id (at most 64 characters of [A-Za-z0-9._:-]), NULL
	 * for a random one.  The delivery keys derive from it, so asking
	 * again with the same request makes no new deliveries: this is where
	 * an Idempotency-Key goes (issue 9).
	 */
	const char *request;
};

#define OUTBOX_NOTE_MAX 65536
#define OUTBOX_BY_MAX 200

/*
 * Checks a manual send of c before anything is recorded.  H_EUSAGE (the
 * request itself is wrong: a missing or bad by, a note too long or not
 * text, an out-of-turn send without a note saying why) or H_EINVAL (the
 * plan refuses it: a scheduled communication without out_of_turn, a
 * drill with no drill recipients, or a live send whose acknowledgement
 * links would point at a loopback or unset base URL while going to
 * someone on another machine), with a message that says what to do.
 */
enum herald_rc outbox_manual_check(const struct plan *p, const struct plan_comm *c,
				   const struct outbox_manual *m, struct herald_err *err);

/* True if a base URL is one people on other machines cannot reach: NULL,
 * a loopback or unspecified host (127.0.0.0/8, ::1, localhost, 0.0.0.0). */
bool outbox_base_local(const char *base_url);

/* What requested_by records: "BY (VIA)", or BY without via. */
void outbox_requested_by(const struct outbox_manual *m, char *out, size_t n);

/* A delivery made by a manual send; strings borrowed from the plan. */
struct outbox_made {
	char key[65];            /* hex */
	const char *audience, *channel, *recipient;   /* recipient may be NULL */
};

/*
 * Creates the deliveries of a manual send m (checked) of communication c
 * now: one per audience channel and recipient (a drill: per drill target,
 * fanout_drill_each), kind "manual" or "drill", requested_by and note
 * recorded, queued in queue ("pending" for the service).  *made gets a
 * malloc'd array (caller frees) of the n deliveries made; a repeated
 * request makes none.
 */
enum herald_rc outbox_create_manual(struct store *s, const struct plan *p,
				    const struct plan_comm *c, int64_t now,
				    const struct outbox_manual *m, const char *queue,
				    struct outbox_made **made, size_t *n,
				    struct herald_err *err);

/* --------------------------------------------------- joiners, leavers */

struct member;
struct occurrence;
struct plan_audience;

/* What outbox_membership did. */
struct outbox_membership_counts {
	size_t joined, left;       /* members who came and went, over all audiences */
	size_t onboarding;         /* onboarding deliveries created (reminders included) */
	size_t cancelled;          /* deliveries cancelled: "left the audience" */
};

/*
 * What a change of members means for acknowledgements, between the plan
 * in force (old) and the one replacing it (new): a reload, or a member
 * source refreshed into a new plan.  Audiences are matched by id, members
 * by address (without case); a changed name alone is no change.  In one
 * transaction:
 *
 *   - a member of an audience in new who was not in it in old gets, for
 *     each communication of new that asks for acknowledgement with
 *     new_members "latest" and goes to that audience "to": "members",
 *     and that old also sent to that audience, the latest occurrence that
 *     started at or before now: deliveries of kind "onboarding", due now,
 *     with the communication's reminders after them; unless they already
 *     have that occurrence's ack link (they were asked in another
 *     audience, or joined before).  What falls due from now on reaches
 *     them through outbox_materialise, as it does everyone.
 *   - a member of an audience in old who is not in it in new: every
 *     delivery of that audience to them still waiting in the service's
 *     queue (reminders, messages made ahead of time) is recorded
 *     `cancelled` with detail "left the audience".  Deliveries already
 *     claimed for sending are left to finish.
 *
 * old NULL (a first start) compares nothing.  Both plans are borrowed.
 * Calling it again with the same plans does nothing new (keys are
 * deterministic, cancelled deliveries have left the queue).  *counts (may
 * be NULL) gets what was done.
 */
enum herald_rc outbox_membership(struct store *s, const struct plan *old,
				 const struct plan *new_plan, int64_t now,
				 struct outbox_membership_counts *counts,
				 struct herald_err *err);

/*
 * outbox_membership's creation step, inside the caller's transaction:
 * the onboarding deliveries of occurrence o of c to the n members of
 * audience a, through a's "members" deliver entries that c uses, due at
 * now, and their reminders.  *created is increased by the number made.
 */
enum herald_rc outbox_create_onboarding(struct store *s, const struct plan *p,
					const struct plan_comm *c,
					const struct plan_audience *a,
					const struct member *const *members, size_t n,
					const struct occurrence *o, int64_t now,
					size_t *created, struct herald_err *err);

/* A claimed delivery: what its message needs, and the claim. */
struct outbox_item {
	int64_t delivery;        /* seq of its deliveries row */
	char key[65];            /* hex */
	char *kind, *plan_id, *plan_version, *communication, *topic,
		*occurrence, *audience, *channel_type, *channel_id, *recipient,
		*recipient_name, *message, *message_id, *ack_id, *note,
		*requested_by;
	char *queue;             /* queue to return to on a temporary failure */
	int64_t due;
	int attempt;             /* n of this attempt */
	int recorded;            /* attempts recorded before this one */
	bool possible_duplicate; /* an earlier claim was never recorded */
	bool was_duplicate;      /* some attempt was flagged */
	int64_t started;         /* instant the attempt started */
	void *user;
};

void outbox_item_free(struct outbox_item *it);

/*
 * Claims at most max deliveries of queue due at now: records `missed`
 * (due more than grace ago, never attempted) and `cancelled` (a reminder
 * whose link was acknowledged) on the way, marks the rest in flight and
 * commits before returning them.  *items (caller frees each with
 * outbox_item_free and the array) and *n.
 */
enum herald_rc outbox_claim(struct store *s, const char *queue, int64_t now,
			    size_t max, const struct outbox_policy *pol,
			    struct outbox_item ***items, size_t *n,
			    struct herald_err *err);

/* The outcome of an attempt, for outbox_record. */
struct outbox_result {
	struct outbox_item *item;
	struct chan_outcome o;
	int64_t finished;        /* instant */
	/* set by outbox_record: "sent", "dry-run", "failed" or NULL (retry) */
	const char *final;
	int64_t next_at;         /* retry: when */
};

/* Records attempts and final states of n results in one transaction. */
enum herald_rc outbox_record(struct store *s, struct outbox_result *r, size_t n,
			     const struct outbox_policy *pol,
			     struct herald_err *err);

/*
 * Claims left by a dead process go back to the service's queue (the next
 * claim flags them): with service_claims (the service starting) its own
 * in-flight ones too; always those of `herald send` runs whose lease has
 * run out.  *n (may be NULL) gets how many.
 */
enum herald_rc outbox_recover(struct store *s, int64_t now, bool service_claims,
			      int64_t *n, struct herald_err *err);

/* Renews the lease of a `herald send` queue: now + pol->lease. */
enum herald_rc outbox_renew(struct store *s, const char *queue, int64_t now,
			    const struct outbox_policy *pol,
			    struct herald_err *err);

/* Moves every delivery waiting in queue (a `herald send` run's) to the
 * service's ("pending"); *n (may be NULL) gets how many. */
enum herald_rc outbox_handover(struct store *s, const char *queue, int64_t *n,
			       struct herald_err *err);

/* Returns claimed but unsent deliveries to queue, undoing their claim. */
enum herald_rc outbox_release(struct store *s, const char *queue,
			      struct outbox_item *const *items, size_t n,
			      struct herald_err *err);

/* Human-readable local time of an instant in the plan's zone, e.g.
 * "Tue 22 Nov 2026 10:00 (Europe/London)". */
void outbox_local_time(const struct plan *p, const struct plan_comm *c,
		       int64_t instant, char *out, size_t n);

#endif
