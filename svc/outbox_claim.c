/*
 * outbox_claim.c - taking due deliveries off the queue, and recording what
 * their attempts did (see outbox.h): missed and cancelled deliveries are
 * decided here, as are retries, their backoff, and duplicates after a
 * crash.
 */
#include "herald/outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/log.h"
#include "herald/store.h"
#include "herald/timeutil.h"
#include "herald/token.h"
#include "herald/util.h"

void outbox_item_free(struct outbox_item *it)
{
	if (!it)
		return;
	char **f[] = { &it->kind, &it->plan_id, &it->plan_version, &it->communication,
		       &it->topic, &it->occurrence, &it->audience, &it->channel_type,
		       &it->channel_id, &it->recipient, &it->recipient_name, &it->message,
		       &it->message_id, &it->ack_id, &it->note, &it->requested_by,
		       &it->queue };
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		free(*f[i]);
	free(it);
}

/* Moves a claim's strings into an item (the claim keeps none). */
static struct outbox_item *item_from(struct store_claim *c, const char *queue,
				     int64_t now)
{
	struct outbox_item *it = xcalloc(1, sizeof *it);
	it->delivery = c->delivery;
	hex_encode(c->key, 32, it->key);
#define TAKE(dst, src) (it->dst = c->src, c->src = NULL)
	TAKE(kind, kind);
	TAKE(plan_id, plan_id);
	TAKE(plan_version, plan_version);
	TAKE(communication, communication);
	TAKE(topic, topic);
	TAKE(audience, audience);
	TAKE(channel_type, channel_type);
	TAKE(channel_id, channel_id);
	TAKE(recipient, recipient);
	TAKE(recipient_name, recipient_name);
	TAKE(message, text);
	TAKE(message_id, message_id);
	TAKE(ack_id, ackid);
	TAKE(note, note);
	TAKE(requested_by, requested_by);
#undef TAKE
	if (c->has_occurrence) {
		char occ[32];
		format_rfc3339_utc(c->occurrence, occ, sizeof occ);
		it->occurrence = xstrdup(occ);
	}
	it->queue = xstrdup(queue);
	it->due = c->due;
	it->recorded = c->recorded;
	it->possible_duplicate = c->claims > c->recorded;
	it->was_duplicate = c->flagged || it->possible_duplicate;
	it->attempt = c->claims + 1;
	it->started = now;
	return it;
}

static enum herald_rc finish(struct store *s, const struct outbox_item *it,
			     int64_t at, const char *state, bool late,
			     const char *detail, const char *reply, int attempts,
			     struct herald_err *err)
{
	struct store_state st = {
		.delivery = it->delivery, .at = at, .state = state, .late = late,
		.duplicate = it->was_duplicate, .detail = detail, .attempts = attempts,
		.possible_duplicate = it->was_duplicate, .reply = reply,
	};
	enum herald_rc rc = store_state_add(s, &st, err);
	return rc ? rc : store_outbox_done(s, it->delivery, state, err);
}

/* Decides a claimed delivery that will not be sent; true if it was. */
static bool settle(struct store *s, const struct outbox_item *it, int64_t now,
		   const struct outbox_policy *pol, enum herald_rc *rc,
		   struct herald_err *err)
{
	if (it->attempt == 1 && now - it->due > pol->grace) {
		char why[96];
		snprintf(why, sizeof why, "fell due %lld s before it could be sent (grace %lld s)",
			 (long long)(now - it->due), (long long)pol->grace);
		*rc = finish(s, it, now, "missed", true, why, NULL, 0, err);
		log_event(LOG_WARN, "delivery.missed", "%s audience=%s channel=%s delivery=%.12s: %s",
			  it->communication, it->audience, it->channel_id, it->key, why);
		return true;
	}
	if (it->kind && strcmp(it->kind, "reminder") == 0 && it->ack_id &&
	    store_ack_done(s, it->ack_id)) {
		*rc = finish(s, it, now, "cancelled", false, "acknowledged before the reminder",
			     NULL, it->recorded, err);
		return true;
	}
	return false;
}

enum herald_rc outbox_claim(struct store *s, const char *queue, int64_t now,
			    size_t max, const struct outbox_policy *pol,
			    struct outbox_item ***items_out, size_t *n_out,
			    struct herald_err *err)
{
	*items_out = NULL;
	*n_out = 0;
	enum herald_rc rc = store_begin(s, err);
	if (rc)
		return rc;
	struct store_claim **claims = NULL;
	size_t nc = 0;
	rc = store_outbox_due(s, queue, now, max, &claims, &nc, err);
	bool service = strcmp(queue, "pending") == 0;
	char inflight[96];
	snprintf(inflight, sizeof inflight, "inflight%s%s", service ? "" : ":",
		 service ? "" : queue);
	struct outbox_item **items = NULL;
	size_t n = 0;
	for (size_t i = 0; i < nc; i++) {
		struct outbox_item *it = rc ? NULL : item_from(claims[i], queue, now);
		store_claim_free(claims[i]);
		if (!it)
			continue;
		if (settle(s, it, now, pol, &rc, err)) {
			outbox_item_free(it);
			continue;
		}
		rc = store_outbox_claim(s, it->delivery, inflight, now,
					service ? 0 : now + pol->lease, err);
		if (rc) {
			outbox_item_free(it);
			continue;
		}
		items = xreallocarray(items, n + 1, sizeof *items);
		items[n++] = it;
	}
	free(claims);
	if (!rc)
		rc = store_commit(s, err);
	else
		store_rollback(s);
	if (rc) {
		for (size_t i = 0; i < n; i++)
			outbox_item_free(items[i]);
		free(items);
		return rc;
	}
	*items_out = items;
	*n_out = n;
	return H_OK;
}

/* Records one result inside the transaction. */
static enum herald_rc record_one(struct store *s, struct outbox_result *r,
				 const struct outbox_policy *pol,
				 struct herald_err *err)
{
	struct outbox_item *it = r->item;
	const char *outcome = r->o.dry_run ? "dry-run" : chan_result_name(r->o.result);
	struct store_attempt a = {
		.delivery = it->delivery, .n = it->attempt, .started_at = it->started,
		.finished_at = r->finished, .outcome = outcome, .status = r->o.status,
		.reply = r->o.reply, .error = r->o.error, .latency_ms = r->o.latency_ms,
		.possible_duplicate = it->possible_duplicate,
	};
	enum herald_rc rc = store_attempt_add(s, &a, err);
	if (rc)
		return rc;
	bool late = r->finished - it->due > pol->late_after;
	int attempts = it->recorded + 1;
	r->final = NULL;
	if (r->o.result == CHAN_OK) {
		/* A rehearsal is evidence of what would have gone out, never of
		 * a message sent: its state says so. */
		r->final = r->o.dry_run ? "dry-run" : "sent";
		return finish(s, it, r->finished, r->final, late, NULL, r->o.reply, attempts, err);
	}
	bool give_up = r->o.result == CHAN_PERM || it->attempt >= pol->max_attempts ||
		       r->finished - it->due > pol->max_age;
	if (give_up) {
		char why[400];
		snprintf(why, sizeof why, "%s after %d attempt%s: %s",
			 r->o.result == CHAN_PERM ? "refused" : "gave up", it->attempt,
			 it->attempt == 1 ? "" : "s", r->o.error[0] ? r->o.error : outcome);
		r->final = "failed";
		return finish(s, it, r->finished, "failed", late, why, r->o.reply, attempts, err);
	}
	uint32_t rnd;
	random_bytes((unsigned char *)&rnd, sizeof rnd);
	int64_t delay = outbox_backoff_ms(pol, it->attempt, rnd);
	/* next_at is in whole seconds: round up, and a Retry-After gets one
	 * second more, so the wait is never shorter than asked. */
	if (r->o.retry_after >= 0 && (r->o.retry_after + 1) * 1000 > delay)
		delay = (r->o.retry_after + 1) * 1000;
	r->next_at = r->finished + (delay + 999) / 1000;
	return store_outbox_retry(s, it->delivery, it->queue, r->next_at,
				  it->possible_duplicate, err);
}

enum herald_rc outbox_record(struct store *s, struct outbox_result *res, size_t n,
			     const struct outbox_policy *pol, struct herald_err *err)
{
	if (n == 0)
		return H_OK;
	enum herald_rc rc = store_begin(s, err);
	if (rc)
		return rc;
	for (size_t i = 0; !rc && i < n; i++)
		rc = record_one(s, &res[i], pol, err);
	if (rc) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s, err);
}

enum herald_rc outbox_recover(struct store *s, int64_t now, bool service_claims,
			      int64_t *n_out, struct herald_err *err)
{
	enum herald_rc rc = store_begin(s, err);
	if (rc)
		return rc;
	int64_t n = 0;
	rc = store_outbox_recover(s, now, service_claims, &n, err);
	if (rc) {
		store_rollback(s);
		return rc;
	}
	rc = store_commit(s, err);
	if (!rc && n)
		log_event(LOG_WARN, "outbox.recovered",
			  "%lld deliver%s left in flight or abandoned by a stopped process will "
			  "be sent by the service, flagged as possible duplicates where a send "
			  "may have happened", (long long)n, n == 1 ? "y" : "ies");
	if (n_out)
		*n_out = n;
	return rc;
}

enum herald_rc outbox_renew(struct store *s, const char *queue, int64_t now,
			    const struct outbox_policy *pol,
			    struct herald_err *err)
{
	enum herald_rc rc = store_begin(s, err);
	if (rc)
		return rc;
	rc = store_outbox_renew(s, queue, now + pol->lease, err);
	if (rc) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s, err);
}

enum herald_rc outbox_handover(struct store *s, const char *queue, int64_t *n,
			       struct herald_err *err)
{
	enum herald_rc rc = store_begin(s, err);
	if (rc)
		return rc;
	rc = store_outbox_move(s, queue, "pending", n, err);
	if (rc) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s, err);
}

enum herald_rc outbox_release(struct store *s, const char *queue,
			      struct outbox_item *const *items, size_t n,
			      struct herald_err *err)
{
	if (!n)
		return H_OK;
	enum herald_rc rc = store_begin(s, err);
	if (rc)
		return rc;
	for (size_t i = 0; !rc && i < n; i++)
		rc = store_outbox_release(s, items[i]->delivery, queue, err);
	if (rc) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s, err);
}
