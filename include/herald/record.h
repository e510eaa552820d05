/*
 * record.h - evidence rows about the service itself: plan versions loaded,
 * refused reloads, and other events.  Each call is one transaction.
 */
#ifndef HERALD_RECORD_H
#define HERALD_RECORD_H

#include "herald/err.h"

struct db;
struct plan;

/* event: "loaded" (start) or "reloaded". */
enum herald_rc record_plan(struct db *db, const struct plan *p,
			   const char *event, struct herald_err *err);

/* A reload that was refused: the file and why (no secrets in why). */
enum herald_rc record_refused(struct db *db, const char *path,
			      const char *why, struct herald_err *err);

/* Any other event ("start", "stop", "admin-token-created", …). */
enum herald_rc record_event(struct db *db, const char *kind,
			    const char *detail, struct herald_err *err);

#endif
