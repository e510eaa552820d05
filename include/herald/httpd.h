/*
 * httpd.h - herald's HTTP server core (libmicrohttpd): connections and
 * their limits, requests and responses, and a table of routes.  It serves
 * nothing by itself: the feeds (httpd_feeds.h), the pages (httpd_pages.h),
 * the evidence pages (web_evidence.h) and the send API (web_api.h) are
 * routes like any other.
 *
 * Routes are registered between httpd_new() and httpd_start().  A handler
 * runs on a server thread, fills resp, and must not block for long.
 *
 * Limits, all applied before a handler runs (see httpd_guard.h for the
 * per-client ones):
 *   - connections in total, and per client address (the proxy named by
 *     trust_proxy is exempt: its clients are counted one by one, by the
 *     last X-Forwarded-For hop, per request);
 *   - a request's headers must arrive within header_timeout of its first
 *     line (or of the connection); an idle keep-alive connection is closed
 *     after conn_timeout;
 *   - request headers beyond 32 KiB get 431, bodies beyond max_body 413;
 *   - duplicate or conflicting Content-Length / Transfer-Encoding get 400
 *     and the connection is closed (no request smuggling behind a proxy);
 *   - OPTIONS and CONNECT get 405 with Allow;
 *   - a client whose wrong Authorization just got 401 gets 429 with
 *     Retry-After for any request carrying Authorization until its penalty
 *     window (growing with each wrong guess) has passed.
 * Every response carries X-Content-Type-Options: nosniff, and every HTML
 * response a Content-Security-Policy (unless its handler set its own).
 */
#ifndef HERALD_HTTPD_H
#define HERALD_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

#include "herald/err.h"
#include "herald/util.h"

struct httpd;
struct httpd_fixed;

struct httpd_req {
	const char *method;    /* "GET", "HEAD", "POST", … */
	const char *path;      /* request target as received: path (not
				* decoded) and "?query" when there is one */
	const char *suffix;    /* prefix route: the (decoded) path after the
				* prefix, no query; exact route: "" */
	const char *query;     /* the raw query after '?', or "" */
	const char *body;      /* request body (POST), NUL-terminated */
	size_t body_len;
	const char *remote;    /* client address: the peer, or the last
				* X-Forwarded-For hop when the peer is the
				* trusted proxy */
	void *impl;
};

/* A request header (case-insensitive name), or NULL. */
const char *httpd_header(const struct httpd_req *req, const char *name);

struct httpd_resp {
	int status;                 /* default 200 */
	const char *content_type;   /* static string; default text/plain */
	struct buf body;            /* handler appends */
	struct buf headers;         /* extra "Name: value\r\n" lines */
	/* A ready-made response to send instead of body and headers (the
	 * feeds); borrowed, must outlive the server.  NULL: use the above. */
	const struct httpd_fixed *fixed;
};

/*
 * A 404 whose handler added no body and no headers is the server's one
 * "not found" response, so a handler's 404s cannot be told from each
 * other or from an unknown path.
 */

typedef void (*httpd_handler)(const struct httpd_req *req,
			      struct httpd_resp *resp, void *ctx);

struct httpd_config {
	const char *listen;          /* "127.0.0.1:8080", "[::1]:8080" */
	unsigned conn_timeout;       /* seconds, idle connections closed (30) */
	unsigned header_timeout;     /* seconds for a request's headers (10) */
	unsigned conn_limit;         /* total connections (1024) */
	unsigned per_ip_limit;       /* connections per client address (64) */
	size_t max_body;             /* request body limit (413 beyond; 64 KiB) */
	const char *trust_proxy;     /* numeric address of a reverse proxy
				      * whose X-Forwarded-For is believed */
};

/* Creates a server (not yet listening).  H_EUSAGE for a bad listen or
 * trust_proxy address. */
enum herald_rc httpd_new(const struct httpd_config *cfg, struct httpd **out,
			 struct herald_err *err);

/*
 * Adds a route for method ("GET" also answers HEAD) and path:
 *   "/report"  exactly that path ("/report/x" is 404);
 *   "/ack/"    a prefix with a parameter: "/ack/X…", X… in req->suffix.
 * A path may declare its query parameters: "/report?from=time&to=time"
 * accepts only those names, each at most once, with a value of its type
 * (time: YYYY-MM-DD or an RFC 3339 instant; text: any), and answers 400
 * to anything else.  A path without "?" ignores the query.  The query is
 * never part of the match.  A path served under another method gets 405.
 */
void httpd_route(struct httpd *h, const char *method, const char *path,
		 httpd_handler fn, void *ctx);

/* The same, with the class label of herald_http_requests_total (default
 * "route"; "feed", "index", …). */
void httpd_route_class(struct httpd *h, const char *method, const char *path,
		       const char *metric_class, httpd_handler fn, void *ctx);

enum herald_rc httpd_start(struct httpd *h, struct herald_err *err);

/* Stops listening, waits for handlers to return, frees h. */
void httpd_stop(struct httpd *h);

/*
 * A response built once and sent many times: body (len bytes, borrowed,
 * must outlive it) and "Name: value\r\n" headers.  Free it only once no
 * request can send it any more (after httpd_stop).
 */
struct httpd_fixed *httpd_fixed_new(const void *body, size_t len,
				    const char *headers);
void httpd_fixed_free(struct httpd_fixed *f);

/* Counters for /metrics from other modules: adds a line of Prometheus
 * text (complete with newline) produced by fn at each scrape. */
void httpd_metrics_source(struct httpd *h,
			  void (*fn)(struct buf *out, void *ctx), void *ctx);

/* Adds JSON members (e.g. "\"pending\":3", no braces, no leading
 * comma) produced by fn to /healthz at each request. */
void httpd_health_source(struct httpd *h,
			 void (*fn)(struct buf *out, void *ctx), void *ctx);

/* Appends the server's own Prometheus lines (requests by class and
 * status, bytes, refusals) and those of every metrics source. */
void httpd_metrics(struct httpd *h, struct buf *out);

/* Appends ",member" for every health source. */
void httpd_health(struct httpd *h, struct buf *out);

#endif
