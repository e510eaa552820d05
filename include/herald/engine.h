/*
 * engine.h - the sending loop shared by the service's dispatcher and
 * `herald send`: claims due deliveries of one queue from the outbox, sends
 * them through the channels concurrently (at most ENGINE_PER_CHANNEL at a
 * time per channel, Slack webhooks at most one message a second), and
 * records every outcome, batching each round's records in one transaction.
 *
 * Not thread-safe: one thread drives an engine; engine_wakeup() may be
 * called from any thread.
 */
#ifndef HERALD_ENGINE_H
#define HERALD_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "herald/err.h"
#include "herald/outbox.h"

struct keyring;
struct store;
struct plan;

#define ENGINE_PER_CHANNEL 32

struct engine_opts {
	struct store *store;
	const char *queue;            /* "pending" or a `herald send` queue */
	bool dry_run;
	/* The base of ack links: base_url (--base-url) if set, else the
	 * plan's base_url, else base_default (NULL = "http://127.0.0.1:8080"). */
	const char *base_url;
	const char *base_default;
	/* The keys of ack links (the current one signs): called each round. */
	const struct keyring *(*keys)(void *ctx);
	/* The plan whose channels (and secrets) sends use: called each round. */
	const struct plan *(*plan)(void *ctx);
	void *ctx;
	unsigned max_parallel;        /* 0 = 64 */
	const struct outbox_policy *policy;  /* NULL = outbox_policy_default */
};

struct engine_counters {
	int64_t attempts, sent, failed, retried, missed_logged;
};

struct engine;

struct engine *engine_new(const struct engine_opts *o);
void engine_free(struct engine *e);

/*
 * One round: claims what is due at now (unless draining), starts sends,
 * drives transfers for at most wait_ms, records what finished.  Returns
 * H_OK or a database error.
 */
enum herald_rc engine_step(struct engine *e, int64_t now, int wait_ms,
			   bool claim, struct herald_err *err);

/* Stopping: claimed deliveries not yet started go back to the queue (so
 * they are not taken for crashed sends). */
enum herald_rc engine_release(struct engine *e, struct herald_err *err);

/* Deliveries claimed and not yet recorded. */
size_t engine_inflight(const struct engine *e);

/* Makes a waiting engine_step() return early (any thread). */
void engine_wakeup(struct engine *e);

const struct engine_counters *engine_counters(const struct engine *e);


#endif
