/*
 * httpd.h - herald's HTTP server (libmicrohttpd): feeds, index, health and
 * metrics built in; other modules add routes (ack, report, manual send).
 *
 * Routes are registered between httpd_new() and httpd_start().  A handler
 * runs on a server thread, fills resp, and must not block for long.
 */
#ifndef HERALD_HTTPD_H
#define HERALD_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

#include "herald/err.h"
#include "herald/util.h"

struct httpd;
struct runtime;
struct plan;

struct httpd_req {
	const char *method;    /* "GET", "HEAD", "POST", … */
	const char *path;      /* URL path as received (not decoded) */
	const char *suffix;    /* the path after the route's prefix */
	const char *body;      /* request body (POST), NUL-terminated */
	size_t body_len;
	const char *remote;    /* peer address, for logs */
	void *impl;
};

/* A request header (case-insensitive name), or NULL. */
const char *httpd_header(const struct httpd_req *req, const char *name);

struct httpd_resp {
	int status;                 /* default 200 */
	const char *content_type;   /* static string; default text/plain */
	struct buf body;            /* handler appends */
	struct buf headers;         /* extra "Name: value\r\n" lines */
};

typedef void (*httpd_handler)(const struct httpd_req *req,
			      struct httpd_resp *resp, void *ctx);

struct httpd_config {
	const char *listen;          /* "127.0.0.1:8080", "[::1]:8080" */
	unsigned conn_timeout;       /* seconds, idle connections closed */
	unsigned conn_limit;         /* total connections */
	unsigned per_ip_limit;       /* connections per client address */
	size_t max_body;             /* request body limit (413 beyond) */
};

/* Creates a server (not yet listening).  rt is borrowed. */
enum herald_rc httpd_new(const struct httpd_config *cfg, struct runtime *rt,
			 struct httpd **out, struct herald_err *err);

/*
 * Adds a route: requests whose path starts with prefix and whose method is
 * method (NULL = any) go to fn.  Longest prefix wins.
 */
void httpd_route(struct httpd *h, const char *method, const char *prefix,
		 httpd_handler fn, void *ctx);

enum herald_rc httpd_start(struct httpd *h, struct herald_err *err);

/*
 * Renders every feed of plan p once (ICS, ETag, gzip) and swaps them in
 * atomically; requests in flight finish on the old set.  p must stay valid
 * (see runtime.h).
 */
enum herald_rc httpd_set_plan(struct httpd *h, const struct plan *p,
			      struct herald_err *err);

/* Stops listening, waits for handlers to return, frees h. */
void httpd_stop(struct httpd *h);

/* Counters for /metrics from other modules: adds a line of Prometheus
 * text (complete with newline) produced by fn at each scrape. */
void httpd_metrics_source(struct httpd *h,
			  void (*fn)(struct buf *out, void *ctx), void *ctx);

/* Adds JSON members (e.g. "\"pending\":3", no braces, no leading
 * comma) produced by fn to /healthz at each request. */
void httpd_health_source(struct httpd *h,
			 void (*fn)(struct buf *out, void *ctx), void *ctx);

/* Re-renders the feeds when the default window moved to a new day (call
 * every few seconds from the service's main loop). */
void httpd_tick(struct httpd *h);

#endif
