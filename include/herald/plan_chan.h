/*
 * plan_chan.h - channel types: the one table.
 *
 * A row (struct chan_type) is everything herald knows of a type: its plan
 * name, the loader of its keys (which reports every error with its JSON
 * path), where its secrets are, whether its deliver entries address
 * people ("to"), its pacing rule, and the backend that sends
 * (prepare/finish, chan_backend.h).  Loading, lint, secret masking (logs
 * and send outcomes), the engine's pacing and the channel pool all read
 * the row; none of them names a type.
 *
 * Each row is defined in its type's file, beside its backend
 * (svc/chan_slack.c defines chan_type_slack, …), and svc/chan_types.c
 * lists the rows: adding a type is one chan_*.c file plus one line there.
 *
 * Layering: this header is the model's (plan loading and lint need the
 * rows' plan half); the rows and the list are defined in the channels
 * layer, which the model reaches through this table only (the list is
 * resolved when linking), never by including a channels header.
 */
#ifndef HERALD_PLAN_CHAN_H
#define HERALD_PLAN_CHAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "herald/err.h"
#include "herald/plan.h"
#include "herald/util.h"

struct pj;
struct chan_backend;

/*
 * A secret-bearing key of a type: a struct plan_secret at offset in
 * struct plan_channel, or (in_opts) in the type's own settings ch->opts.
 */
struct chan_secret_field {
	const char *key;       /* its JSON key below the channel */
	size_t offset;
	bool in_opts;
	bool identity;         /* an account name, see struct plan_secret_ref */
};

#define CHAN_SECRET(k, member) \
	{ (k), offsetof(struct plan_channel, member), false, false }
#define CHAN_IDENTITY(k, member) \
	{ (k), offsetof(struct plan_channel, member), false, true }
#define CHAN_OPTS_SECRET(k, type, member) \
	{ (k), offsetof(type, member), true, false }

/*
 * Pacing: two messages sharing a pacing key start at least interval_ms
 * apart (0: no pacing).  The key is the channel's id unless key() writes
 * another (Google Chat: the space, whose quota every webhook in it
 * shares).  Keys stay in memory: they may hold parts of a secret URL.
 */
struct chan_pacing {
	int64_t interval_ms;
	void (*key)(const struct plan_channel *ch, struct buf *out);
};

struct chan_type {
	const char *name;                 /* "slack", … as written in plans */
	const char *what;                 /* a few words for docs and errors */
	/*
	 * Reads the channel object j (the pj's path is the channel) into ch,
	 * type and id already set: checks its keys (pj_check_keys), reads its
	 * secrets (pj_get_secret) and its own settings into ch->opts.
	 * Returns pj_since() of its errors.
	 */
	enum herald_rc (*load)(struct pj *c, json_t *j, struct plan_channel *ch);
	/* Frees ch->opts (wiping its secrets); NULL when load sets none. */
	void (*free_opts)(void *opts);
	/* Public facts about ch for the plan document, never a secret value;
	 * NULL: `what` and where its webhook URL comes from. */
	void (*describe)(const struct plan_channel *ch, struct buf *out);
	const struct chan_secret_field *secrets;   /* ends at a NULL key */
	bool secret_headers;              /* every header value is a secret */
	bool addressed;                   /* deliver entries say "to" whom
					     (email): W-EMAIL-ONLY counts these */
	bool calendar;                    /* messages carry the occurrence as
					     an iCalendar attachment (email) */
	struct chan_pacing pacing;
	const struct chan_backend *backend;
};

/* Every type, in the order errors and docs list them; ends at NULL
 * (svc/chan_types.c). */
extern const struct chan_type *const chan_types[];

/* The type named name, or NULL. */
const struct chan_type *chan_type_find(const char *name);

/* ------------------------------------------- pieces for the loaders */

/*
 * obj.key as a secret URL into *out (required or optional) starting with
 * one of schemes (NULL-ended, e.g. "https://"); what names them in the
 * error ("an http(s) URL"), which gives the path, never the value.
 */
enum herald_rc plan_chan_url(struct pj *c, json_t *obj, const char *key,
			     bool required, const char *const *schemes,
			     const char *what, struct plan_secret *out);

/* plan_chan_url() for an http:// or https:// URL. */
enum herald_rc plan_chan_http_url(struct pj *c, json_t *obj, const char *key,
				  bool required, struct plan_secret *out);

/* The loader of a type whose only key is "webhook", an http(s) URL, and
 * the secret fields of a type whose one secret that is. */
enum herald_rc plan_chan_load_webhook(struct pj *c, json_t *j,
				      struct plan_channel *ch);
extern const struct chan_secret_field plan_chan_webhook_secrets[];

/* Appends where the secret URL s comes from: "; URL from the environment
 * (NAME)" or "; URL written in the plan (not shown)". */
void plan_chan_url_source(const struct plan_secret *s, struct buf *out);

/* Wipes and frees what a struct plan_secret holds (the struct stays). */
void plan_secret_free(struct plan_secret *s);

#endif
