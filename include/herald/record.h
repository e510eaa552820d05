/*
 * record.h - evidence rows about the service itself: plan versions loaded,
 * refused reloads, and other events.  Each call is one transaction.
 */
#ifndef HERALD_RECORD_H
#define HERALD_RECORD_H

#include "herald/err.h"

struct store;
struct plan;

/* event: "loaded" (start) or "reloaded".  The plan's text (plan->text)
 * is stored with it, once (texts are content-addressed). */
enum herald_rc record_plan(struct store *s, const struct plan *p,
			   const char *event, struct herald_err *err);

/* A reload that was refused: the file and why (no secrets in why). */
enum herald_rc record_refused(struct store *s, const char *path,
			      const char *why, struct herald_err *err);

/* Any other event ("start", "stop", "admin-token-created", …). */
enum herald_rc record_event(struct store *s, const char *kind,
			    const char *detail, struct herald_err *err);

#endif
