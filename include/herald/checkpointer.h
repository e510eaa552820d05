/*
 * checkpointer.h - automatic external checkpoints (`herald run
 * --checkpoint-to TARGET`): every so many rows or minutes, and at stop,
 * the rows since the last checkpoint are verified and the head is signed
 * (evidence_checkpoint) and sent off the machine: written to a directory
 * (one file per checkpoint, checkpoint-SEQ.txt) or POSTed to an https URL
 * as JSON signed with Standard Webhooks headers (the secret in
 * HERALD_CHECKPOINT_SECRET).  What was cut or rewritten after the last
 * checkpoint is then caught by `verify --checkpoint TARGET --pubkey`.
 *
 * Defaults 1,000 rows or 10 minutes; HERALD_CHECKPOINT_ROWS and
 * HERALD_CHECKPOINT_SECONDS override them.  Driven from one thread.
 */
#ifndef HERALD_CHECKPOINTER_H
#define HERALD_CHECKPOINTER_H

#include <stdbool.h>
#include <stdint.h>

#include "herald/err.h"

struct store;
struct keyring;
struct evidence_head;
struct checkpointer;

/*
 * target: an existing directory, or an https:// URL (http:// only to a
 * loopback address).  verified: a head evidence_verify just proved, where
 * the first incremental check starts.  s is the service's (writable)
 * store: the checkpointer reads through a read-only connection of its
 * own, since a read transaction on a connection shared with writers would
 * collide with theirs.  H_EUSAGE for a bad target.
 */
enum herald_rc checkpointer_new(const char *target, struct store *s,
				const struct evidence_head *verified,
				struct checkpointer **out, struct herald_err *err);

/* Checkpoints when due (or now, with force, if the head moved); a failure
 * is logged and tried again at the next tick.  false if the last attempt
 * failed. */
bool checkpointer_tick(struct checkpointer *c, const struct keyring *k, int64_t now,
		       bool force);

void checkpointer_free(struct checkpointer *c);

#endif
