/*
 * service_members.h - keeping the running plan's members current: which
 * member source is due (an LDAP directory at its refresh interval, a CSV
 * file when it changed), what each refresh changed (who joined, who
 * left: evidence), and which sources fail (logged, recorded, /healthz).
 *
 * The service owns one struct service_members and calls it from its main
 * thread only, except service_members_health(), which HTTP threads call.
 * A refresh is a new plan built by plan_load_buf() from the running
 * plan's text with this module's refetch callback: only due sources are
 * read, the others share the running plan's lists, and a source that
 * fails keeps its last good list (plan_load_opts.previous).
 */
#ifndef HERALD_SERVICE_MEMBERS_H
#define HERALD_SERVICE_MEMBERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct plan;
struct plan_audience;
struct store;

struct service_members;

/* HERALD_REFRESH_SECONDS, when set (a whole number >= 1), replaces every
 * LDAP refresh interval: for tests and for an operator's first trial. */
struct service_members *service_members_new(void);
void service_members_free(struct service_members *sm);

/*
 * Takes the member sources of p, the plan now serving: a source seen
 * before (same audience, same "members" key) keeps its state, a new one
 * is recorded ("members-loaded": count and the digest of the addresses).
 * For each source this load read, a failure (source.failure) is logged
 * and, when it starts or its reason changes, recorded
 * ("members-failed"); a success after failures is logged and recorded
 * ("members-recovered").  Returns true if any source is failing, with
 * why (size whylen) saying which and why, for runtime_condition().
 */
bool service_members_update(struct service_members *sm, const struct plan *p,
			    struct store *db, char *why, size_t whylen);

/* True if some source is due at now; marks which, for the refetch. */
bool service_members_due(struct service_members *sm, int64_t now);

/* plan_load_opts.refetch: whether a's source was marked due (ctx: sm). */
bool service_members_refetch(const struct plan_audience *a, void *ctx);

/*
 * Whether new holds other people than old in an audience of both (by
 * address, or a changed name).
 */
bool service_members_changed(const struct plan *old, const struct plan *new_);

/*
 * Records, per audience of both plans whose people changed, who joined
 * and who left ("members-changed": counts and addresses) and logs it.
 */
void service_members_record_changes(const struct plan *old, const struct plan *new_,
				    struct store *db);

/* Appends "\"members\":{…}" for /healthz: each source, its count and
 * state, why it fails.  Thread-safe. */
void service_members_health(struct buf *out, void *ctx);

#endif
