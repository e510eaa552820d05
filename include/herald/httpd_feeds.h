/*
 * httpd_feeds.h - the calendar feeds of the service:
 *   GET /feeds/AUDIENCE.ics          public feeds
 *   GET /feeds/TOKEN/AUDIENCE.ics    private feeds (token from `herald feeds`)
 *
 * Each plan version is rendered once into a feed set (ICS bytes, gzip
 * bytes, ETags and ready-made responses for 200 and 304 in both
 * encodings); a request only picks one.  ETag/If-None-Match (304),
 * If-Modified-Since, Last-Modified (moves only when the bytes do), gzip
 * when asked, HEAD.  Unknown audiences, wrong tokens and feed:"none"
 * audiences get the same 404.
 */
#ifndef HERALD_HTTPD_FEEDS_H
#define HERALD_HTTPD_FEEDS_H

#include <stddef.h>

#include "herald/err.h"

struct httpd;
struct plan;
struct runtime;

struct httpd_feeds;

/* Registers the feed route (and the feeds' /metrics lines) on h; rt is
 * borrowed (its key signs private feed URLs). */
struct httpd_feeds *httpd_feeds_new(struct httpd *h, struct runtime *rt);

/*
 * Renders every feed of plan p and swaps them in atomically; requests in
 * flight finish on the old set.  p must stay valid (see runtime.h).
 */
enum herald_rc httpd_feeds_set_plan(struct httpd_feeds *f, const struct plan *p,
				    struct herald_err *err);

/* Re-renders the feeds when the default window moved to a new day (call
 * every few seconds from the service's main loop). */
void httpd_feeds_tick(struct httpd_feeds *f);

/* Calls fn for each public feed of the set in force (audience id and
 * display name); returns how many. */
size_t httpd_feeds_public(struct httpd_feeds *f,
			  void (*fn)(const char *audience, const char *name, void *ctx),
			  void *ctx);

/* Frees every set ever published: only after httpd_stop. */
void httpd_feeds_free(struct httpd_feeds *f);

#endif
