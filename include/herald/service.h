/*
 * service.h - the life of `herald run`: open the evidence database, start
 * the HTTP server (feeds, pages, evidence pages, send API) and the
 * dispatcher, then wait for signals and plan changes, then stop.
 *
 * The calling thread becomes the service's main thread: it takes SIGHUP,
 * SIGTERM and SIGINT synchronously (they are blocked in every thread) and
 * polls the plan file every 2 s.  SIGHUP or a changed file (mtime, size,
 * then SHA-256) reloads the plan: a plan that fails to load is refused
 * (logged and recorded as evidence, its text never quoted) and the old
 * one keeps serving; a good one is rendered, swapped in and recorded.
 * SIGTERM or SIGINT stops the server, lets the dispatcher finish
 * in-flight sends, and returns.
 */
#ifndef HERALD_SERVICE_H
#define HERALD_SERVICE_H

#include <stdbool.h>

#include "herald/err.h"

struct plan;

struct service_opts {
	const char *plan;          /* the plan file (reloaded from here) */
	const char *db;            /* evidence database */
	const char *keys;          /* key directory; NULL: keys/ beside the database */
	const char *checkpoint_to; /* a directory or an https URL, or NULL */
	const char *listen;        /* HOST:PORT */
	const char *base_url;      /* NULL: http://LISTEN */
	const char *trust_proxy;   /* numeric address of a reverse proxy, or NULL */
	bool dry_run;              /* record instead of send; demo secrets */
	unsigned conn_timeout;     /* idle keep-alive seconds (0: 30) */
	unsigned header_timeout;   /* seconds for a request's headers (0: 10) */
};

/* The shortest admin token accepted from HERALD_ADMIN_TOKEN. */
#define SERVICE_ADMIN_TOKEN_MIN 32

/*
 * Runs the service on plan p (already loaded from o->plan; the service
 * takes it over and frees it) until SIGTERM or SIGINT.  H_OK after a
 * clean stop; otherwise err holds "WHAT: message" (the database, the
 * listen address, …) and the rc: H_EUSAGE for a bad option or a
 * HERALD_ADMIN_TOKEN shorter than SERVICE_ADMIN_TOKEN_MIN characters,
 * H_ERUNTIME when the database or the socket cannot be opened.
 */
enum herald_rc service_run(const struct service_opts *o, struct plan *p,
			   struct herald_err *err);

#endif
