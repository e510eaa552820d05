/*
 * httpd_feeds.c - the calendar feeds (see httpd_feeds.h).
 *
 * Feeds are the hot path: a request only picks one of the responses its
 * feed set made once.  A new set is published with one atomic store; old
 * sets stay allocated until httpd_feeds_free (reloads are rare, and a
 * request in flight may still hold one), like the plans themselves
 * (runtime.h).
 */
#include "herald/httpd_feeds.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>

#include "herald/clock.h"
#include "herald/httpd.h"
#include "herald/ics.h"
#include "herald/keys.h"
#include "herald/log.h"
#include "herald/plan.h"
#include "herald/runtime.h"
#include "herald/token.h"
#include "herald/util.h"

struct feed_entry {
	char *audience;
	size_t alen;
	bool public;
	char token[TOKEN_FEED_LEN + 1];
	char *ics, *gz;
	size_t len, gzlen;
	char etag[40], etag_gz[44];
	struct httpd_fixed *full, *full_gz, *nm, *nm_gz;
};

struct feedset {
	const struct plan *plan;
	struct feed_entry *v;
	size_t n;
	int64_t from;              /* window start, to notice a new day */
	int64_t last_modified;
	char lm_text[40];
	struct feedset *older;     /* every set ever published, for free */
};

struct httpd_feeds {
	struct runtime *rt;
	_Atomic(struct feedset *) cur;
	struct feedset *sets;      /* all sets, newest first (set_lock) */
	pthread_mutex_t set_lock;
};

static void http_date(int64_t t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static bool parse_http_date(const char *s, int64_t *out)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	const char *end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (!end || *end)
		return false;
	*out = (int64_t)timegm(&tm);
	return true;
}

static bool gzip_bytes(const char *in, size_t n, char **out, size_t *outlen)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	/* windowBits 15 + 16: a gzip wrapper, with mtime 0 (deterministic). */
	if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return false;
	uLong cap = deflateBound(&z, (uLong)n) + 32;
	unsigned char *buf = xmalloc(cap);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = buf;
	z.avail_out = (uInt)cap;
	int r = deflate(&z, Z_FINISH);
	deflateEnd(&z);
	if (r != Z_STREAM_END) {
		free(buf);
		return false;
	}
	*out = (char *)buf;
	*outlen = z.total_out;
	return true;
}

static struct httpd_fixed *feed_response(const char *data, size_t len,
					 const struct feed_entry *e, const char *etag,
					 const char *lm, bool gz)
{
	char hd[512];
	snprintf(hd, sizeof hd,
		 "Content-Type: text/calendar; charset=utf-8\r\n"
		 "ETag: %s\r\nLast-Modified: %s\r\nCache-Control: %s\r\n"
		 "Vary: Accept-Encoding\r\nX-Content-Type-Options: nosniff\r\n%s",
		 etag, lm, e->public ? "public, max-age=300" : "private, max-age=300",
		 gz && len ? "Content-Encoding: gzip\r\n" : "");
	return httpd_fixed_new(data, len, hd);
}

static void feedset_free(struct feedset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct feed_entry *e = &s->v[i];
		httpd_fixed_free(e->full);
		httpd_fixed_free(e->full_gz);
		httpd_fixed_free(e->nm);
		httpd_fixed_free(e->nm_gz);
		free(e->audience);
		free(e->ics);
		free(e->gz);
	}
	free(s->v);
	free(s);
}

/* Renders every feed of p; NULL with err set if a feed cannot be written. */
static struct feedset *feedset_render(struct httpd_feeds *f, const struct plan *p,
				      int64_t now, struct herald_err *err)
{
	struct feedset *s = xcalloc(1, sizeof *s);
	s->plan = p;
	struct ics_opts o;
	ics_default_window(p, now, &o.from, &o.to);
	s->from = o.from;
	s->v = xcalloc(p->naudiences + 1, sizeof *s->v);
	for (size_t i = 0; i < p->naudiences; i++) {
		const struct plan_audience *a = &p->audiences[i];
		if (a->feed == FEED_NONE)
			continue;
		struct feed_entry *e = &s->v[s->n++];
		e->audience = xstrdup(a->id);
		e->alen = strlen(a->id);
		e->public = a->feed == FEED_PUBLIC;
		token_feed(runtime_keys(f->rt)->feed, a->id, e->token);
		struct buf b;
		buf_init(&b);
		o.audience = (long)i;
		if (ics_render(p, &o, &b, err)) {
			buf_free(&b);
			feedset_free(s);
			return NULL;
		}
		e->len = b.len;
		e->ics = buf_take(&b);
		if (!gzip_bytes(e->ics, e->len, &e->gz, &e->gzlen)) {
			herald_err_set(err, H_ERUNTIME, "gzip of feed %s failed", a->id);
			feedset_free(s);
			return NULL;
		}
		unsigned char d[32];
		char hx[65];
		sha256(e->ics, e->len, d);
		hex_encode(d, 16, hx);
		snprintf(e->etag, sizeof e->etag, "\"%.32s\"", hx);
		snprintf(e->etag_gz, sizeof e->etag_gz, "\"%.32s-gz\"", hx);
	}
	return s;
}

/* Builds the responses once Last-Modified is known. */
static void feedset_responses(struct feedset *s)
{
	http_date(s->last_modified, s->lm_text, sizeof s->lm_text);
	for (size_t i = 0; i < s->n; i++) {
		struct feed_entry *e = &s->v[i];
		e->full = feed_response(e->ics, e->len, e, e->etag, s->lm_text, false);
		e->full_gz = feed_response(e->gz, e->gzlen, e, e->etag_gz, s->lm_text, true);
		e->nm = feed_response("", 0, e, e->etag, s->lm_text, false);
		e->nm_gz = feed_response("", 0, e, e->etag_gz, s->lm_text, true);
	}
}

static bool same_bytes(const struct feedset *a, const struct feedset *b)
{
	if (!a || a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].audience, b->v[i].audience) != 0 ||
		    strcmp(a->v[i].etag, b->v[i].etag) != 0)
			return false;
	return true;
}

static enum herald_rc publish(struct httpd_feeds *f, const struct plan *p,
			      struct herald_err *err)
{
	int64_t now = clock_now();
	pthread_mutex_lock(&f->set_lock);
	struct feedset *s = feedset_render(f, p, now, err);
	if (!s) {
		pthread_mutex_unlock(&f->set_lock);
		return err->rc ? err->rc : H_EINVAL;
	}
	/* Last-Modified moves only when the bytes do, and always forward, so
	 * If-Modified-Since never hides a change made within one second. */
	struct feedset *cur = f->sets;
	if (same_bytes(cur, s))
		s->last_modified = cur->last_modified;
	else
		s->last_modified = cur && now <= cur->last_modified ? cur->last_modified + 1 : now;
	feedset_responses(s);
	s->older = f->sets;
	f->sets = s;
	atomic_store(&f->cur, s);
	pthread_mutex_unlock(&f->set_lock);
	return H_OK;
}

enum herald_rc httpd_feeds_set_plan(struct httpd_feeds *f, const struct plan *p,
				    struct herald_err *err)
{
	return publish(f, p, err);
}

void httpd_feeds_tick(struct httpd_feeds *f)
{
	struct feedset *s = atomic_load(&f->cur);
	if (!s)
		return;
	int64_t from, to;
	ics_default_window(s->plan, clock_now(), &from, &to);
	if (from != s->from) {
		struct herald_err err;
		herald_err_clear(&err);
		if (publish(f, s->plan, &err))
			log_event(LOG_ERROR, "feeds.error", "re-rendering for a new day failed: %s",
				  err.msg);
	}
}

size_t httpd_feeds_public(struct httpd_feeds *f,
			  void (*fn)(const char *audience, const char *name, void *ctx),
			  void *ctx)
{
	struct feedset *s = atomic_load(&f->cur);
	size_t n = 0;
	for (size_t i = 0; s && i < s->n; i++) {
		if (!s->v[i].public)
			continue;
		long ai = plan_audience_index(s->plan, s->v[i].audience);
		const struct plan_audience *a = ai >= 0 ? &s->plan->audiences[ai] : NULL;
		/* The calendar's own name, as subscribers will see it. */
		fn(s->v[i].audience, !a ? s->v[i].audience : a->feed_name ? a->feed_name : a->name,
		   ctx);
		n++;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */

/* True if the client accepts gzip (a "gzip" coding without q=0). */
static bool accepts_gzip(const char *ae)
{
	for (const char *p = ae; p && (p = strcasestr(p, "gzip")); p += 4) {
		if (p != ae && p[-1] != ' ' && p[-1] != ',' && p[-1] != '\t')
			continue;
		const char *q = p + 4;
		while (*q == ' ')
			q++;
		if (*q == ';') {
			const char *v = strstr(q, "q=");
			if (v && (v - q) < 8) {
				double d = strtod(v + 2, NULL);
				return d > 0;
			}
		}
		return *q == ',' || *q == ';' || *q == '\0' || *q == ' ';
	}
	return false;
}

/* True if If-None-Match lists etag (weak comparison, RFC 9110 13.1.2). */
static bool etag_matches(const char *inm, const char *etag)
{
	size_t n = strlen(etag);
	for (const char *p = inm; *p;) {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (*p == '*')
			return true;
		if (p[0] == 'W' && p[1] == '/')
			p += 2;
		if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
			return true;
		while (*p && *p != ',')
			p++;
	}
	return false;
}

/* The entry that "AUDIENCE.ics" or "TOKEN/AUDIENCE.ics" names, or NULL. */
static const struct feed_entry *lookup(const struct feedset *s, const char *rest)
{
	const char *slash = strchr(rest, '/');
	const char *aud = slash ? slash + 1 : rest;
	size_t alen = strlen(aud);
	if (!s || alen <= 4 || strcmp(aud + alen - 4, ".ics") != 0 || strchr(aud, '/'))
		return NULL;
	alen -= 4;
	for (size_t i = 0; i < s->n; i++) {
		const struct feed_entry *e = &s->v[i];
		if (e->alen != alen || memcmp(e->audience, aud, alen) != 0)
			continue;
		if (e->public)
			return slash ? NULL : e;
		return slash && (size_t)(slash - rest) == TOKEN_FEED_LEN &&
		       ct_equal(rest, e->token, TOKEN_FEED_LEN) ? e : NULL;
	}
	return NULL;
}

static void on_feed(const struct httpd_req *req, struct httpd_resp *resp, void *ctx)
{
	struct httpd_feeds *f = ctx;
	struct feedset *s = atomic_load(&f->cur);
	const struct feed_entry *e = lookup(s, req->suffix);
	if (!e) {
		resp->status = 404;
		return;
	}
	bool gz = accepts_gzip(httpd_header(req, "Accept-Encoding"));
	const char *inm = httpd_header(req, "If-None-Match");
	bool not_modified;
	if (inm) {
		not_modified = etag_matches(inm, e->etag) || etag_matches(inm, e->etag_gz);
	} else {
		const char *ims = httpd_header(req, "If-Modified-Since");
		int64_t t;
		not_modified = ims && parse_http_date(ims, &t) && s->last_modified <= t;
	}
	resp->status = not_modified ? 304 : 200;
	if (not_modified)
		resp->fixed = gz ? e->nm_gz : e->nm;
	else
		resp->fixed = gz ? e->full_gz : e->full;
}

static void feeds_metrics(struct buf *b, void *ctx)
{
	struct httpd_feeds *f = ctx;
	struct feedset *s = atomic_load(&f->cur);
	buf_printf(b, "# HELP herald_feeds Feeds served.\n# TYPE herald_feeds gauge\n"
		      "herald_feeds %zu\n"
		      "# HELP herald_feeds_last_modified_seconds Last-Modified of the feeds.\n"
		      "# TYPE herald_feeds_last_modified_seconds gauge\n"
		      "herald_feeds_last_modified_seconds %lld\n",
		   s ? s->n : 0, (long long)(s ? s->last_modified : 0));
}

struct httpd_feeds *httpd_feeds_new(struct httpd *h, struct runtime *rt)
{
	struct httpd_feeds *f = xcalloc(1, sizeof *f);
	f->rt = rt;
	pthread_mutex_init(&f->set_lock, NULL);
	httpd_route_class(h, "GET", "/feeds/", "feed", on_feed, f);
	httpd_metrics_source(h, feeds_metrics, f);
	return f;
}

void httpd_feeds_free(struct httpd_feeds *f)
{
	if (!f)
		return;
	for (struct feedset *s = f->sets, *n; s; s = n) {
		n = s->older;
		feedset_free(s);
	}
	pthread_mutex_destroy(&f->set_lock);
	free(f);
}
