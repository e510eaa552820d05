/*
 * httpd.c - herald's HTTP server over libmicrohttpd (see httpd.h).
 *
 * Feeds are the hot path: each plan version is rendered once into a
 * feedset (ICS bytes, gzip bytes, ETags, and ready-made MHD responses for
 * 200 and 304 in both encodings), and a request only picks one of those
 * responses.  A new feedset is published with one atomic store; old sets
 * stay allocated until httpd_stop (reloads are rare, and a request in
 * flight may still hold one), like the plans themselves (runtime.h).
 *
 * The daemon runs an epoll thread pool with the limits libmicrohttpd
 * leaves open by default: idle timeout, total and per-address connection
 * limits, and a memory pool per connection that bounds request headers
 * (larger headers get 431 from libmicrohttpd).
 */
#include "herald/clock.h"
#include "herald/httpd.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "herald/ics.h"
#include "herald/log.h"
#include "herald/plan.h"
#include "herald/runtime.h"
#include "herald/store.h"
#include "herald/timeutil.h"
#include "herald/token.h"
#include "herald/version.h"

/* ------------------------------------------------------------------ */
/* Counters for /metrics                                               */

enum path_class { PC_INDEX, PC_FEED, PC_HEALTHZ, PC_METRICS, PC_ROUTE, PC_OTHER, PC_N };
static const char *const class_names[PC_N] = {
	"index", "feed", "healthz", "metrics", "route", "other",
};
static const int statuses[] = {
	200, 201, 202, 204, 301, 302, 303, 304, 400, 401, 403, 404, 405, 409,
	413, 429, 500, 503,
};
#define NSTATUS (sizeof statuses / sizeof statuses[0] + 1) /* + "other" */

static size_t status_index(int status)
{
	for (size_t i = 0; i + 1 < NSTATUS; i++)
		if (statuses[i] == status)
			return i;
	return NSTATUS - 1;
}

/* ------------------------------------------------------------------ */
/* Feedsets                                                            */

struct feed_entry {
	char *audience;
	size_t alen;
	bool public;
	char token[TOKEN_FEED_LEN + 1];
	char *ics, *gz;
	size_t len, gzlen;
	char etag[40], etag_gz[44];
	struct MHD_Response *full, *full_gz, *nm, *nm_gz;
};

struct feedset {
	const struct plan *plan;
	struct feed_entry *v;
	size_t n;
	int64_t from;              /* window start, to notice a new day */
	int64_t last_modified;
	char lm_text[40];
	struct feedset *older;     /* every set ever published, for stop */
};

struct route {
	char *method;              /* NULL = any */
	char *prefix;
	size_t plen;
	httpd_handler fn;
	void *ctx;
};

struct source {
	void (*fn)(struct buf *out, void *ctx);
	void *ctx;
};

struct httpd {
	struct httpd_config cfg;
	char *listen;
	struct runtime *rt;
	struct MHD_Daemon *d;
	struct route *routes;
	size_t nroutes;
	_Atomic(struct feedset *) feeds;
	struct feedset *sets;      /* all sets, newest first (set_lock) */
	pthread_mutex_t set_lock;
	struct MHD_Response *r404, *r405;
	struct source *metrics, *health;
	size_t nmetrics, nhealth;
	atomic_ullong requests[PC_N][NSTATUS];
	atomic_ullong bytes;
};

/* The mark of a request whose headers were seen (see on_request). */
static char headers_seen;

/* Per-request state for requests with a body (routes only). */
struct req_ctx {
	const struct route *route;
	struct buf body;
	bool too_big;
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

static struct MHD_Response *feed_response(const char *data, size_t len,
					  const struct feed_entry *e,
					  const char *etag, const char *lm,
					  bool gz)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len, (void *)(uintptr_t)data, MHD_RESPMEM_PERSISTENT);
	if (!r)
		abort();
	MHD_add_response_header(r, "Content-Type", "text/calendar; charset=utf-8");
	MHD_add_response_header(r, "ETag", etag);
	MHD_add_response_header(r, "Last-Modified", lm);
	MHD_add_response_header(r, "Cache-Control", e->public ? "public, max-age=300"
							      : "private, max-age=300");
	MHD_add_response_header(r, "Vary", "Accept-Encoding");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (gz && len)
		MHD_add_response_header(r, "Content-Encoding", "gzip");
	return r;
}

static void feedset_free(struct feedset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct feed_entry *e = &s->v[i];
		if (e->full) {
			MHD_destroy_response(e->full);
			MHD_destroy_response(e->full_gz);
			MHD_destroy_response(e->nm);
			MHD_destroy_response(e->nm_gz);
		}
		free(e->audience);
		free(e->ics);
		free(e->gz);
	}
	free(s->v);
	free(s);
}

/* Renders every feed of p; NULL with err set if a feed cannot be written. */
static struct feedset *feedset_render(struct httpd *h, const struct plan *p,
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
		token_feed(h->rt->key, a->id, e->token);
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

/* Builds the MHD responses once Last-Modified is known. */
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

static enum herald_rc publish(struct httpd *h, const struct plan *p,
			      struct herald_err *err)
{
	int64_t now = clock_now();
	pthread_mutex_lock(&h->set_lock);
	struct feedset *s = feedset_render(h, p, now, err);
	if (!s) {
		pthread_mutex_unlock(&h->set_lock);
		return err->rc ? err->rc : H_EINVAL;
	}
	/* Last-Modified moves only when the bytes do, and always forward, so
	 * If-Modified-Since never hides a change made within one second. */
	struct feedset *cur = h->sets;
	if (same_bytes(cur, s))
		s->last_modified = cur->last_modified;
	else
		s->last_modified = cur && now <= cur->last_modified ? cur->last_modified + 1 : now;
	feedset_responses(s);
	s->older = h->sets;
	h->sets = s;
	atomic_store(&h->feeds, s);
	pthread_mutex_unlock(&h->set_lock);
	return H_OK;
}

enum herald_rc httpd_set_plan(struct httpd *h, const struct plan *p,
			      struct herald_err *err)
{
	return publish(h, p, err);
}

void httpd_tick(struct httpd *h)
{
	struct feedset *s = atomic_load(&h->feeds);
	if (!s)
		return;
	int64_t from, to;
	ics_default_window(s->plan, clock_now(), &from, &to);
	if (from != s->from) {
		struct herald_err err;
		herald_err_clear(&err);
		if (publish(h, s->plan, &err))
			log_event(LOG_ERROR, "feeds.error", "re-rendering for a new day failed: %s",
				err.msg);
	}
}

/* ------------------------------------------------------------------ */
/* Helpers for handlers                                                */

const char *httpd_header(const struct httpd_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->impl, MHD_HEADER_KIND, name);
}

static void prom_label(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_printf(b, "\\%c", *s);
		else if (*s == '\n')
			buf_adds(b, "\\n");
		else
			buf_addc(b, *s);
	}
}

static bool db_ok(struct httpd *h)
{
	return h->rt->store && store_ping(h->rt->store, NULL) == H_OK;
}

/* ------------------------------------------------------------------ */
/* Built-in pages                                                      */

static void health_json(struct httpd *h, struct buf *b, bool *ok)
{
	const struct plan *p = runtime_plan(h->rt);
	bool dbok = db_ok(h);
	*ok = dbok && p;
	buf_printf(b, "{\"status\":\"%s\",\"plan\":{\"id\":", *ok ? "ok" : "degraded");
	buf_add_json(b, p ? p->id : NULL);
	buf_adds(b, ",\"version\":");
	buf_add_json(b, p ? p->version : NULL);
	buf_adds(b, ",\"sha256\":");
	buf_add_json(b, p ? p->sha256 : NULL);
	buf_printf(b, "},\"database\":\"%s\",\"uptime_seconds\":%lld,\"dry_run\":%s",
		   dbok ? "ok" : "error", (long long)(clock_now() - h->rt->started),
		   h->rt->dry_run ? "true" : "false");
	for (size_t i = 0; i < h->nhealth; i++) {
		struct buf m;
		buf_init(&m);
		h->health[i].fn(&m, h->health[i].ctx);
		if (m.len)
			buf_printf(b, ",%s", m.data);
		buf_free(&m);
	}
	buf_adds(b, ",\"version_herald\":\"" HERALD_VERSION "\"}\n");
}

static void page_index(struct httpd *h, struct buf *b)
{
	const struct plan *p = runtime_plan(h->rt);
	struct feedset *s = atomic_load(&h->feeds);
	const char *base = h->rt->base_url ? h->rt->base_url : "";
	buf_adds(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		    "<meta name=\"viewport\" content=\"width=device-width\">"
		    "<title>");
	buf_add_html(b, p ? p->title : "herald");
	buf_adds(b, "</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:46em;"
		    "margin:2em auto;padding:0 1em}code{background:#f3f3f3;padding:0 .2em}"
		    "li{margin:.4em 0}</style></head><body>\n<h1>");
	buf_add_html(b, p ? p->title : "herald");
	buf_adds(b, "</h1>\n");
	if (p) {
		buf_adds(b, "<p>Plan <code>");
		buf_add_html(b, p->id);
		buf_adds(b, "</code>, version ");
		buf_add_html(b, p->version);
		if (p->approved_by || p->approved_on) {
			buf_adds(b, ", approved");
			if (p->approved_by) {
				buf_adds(b, " by ");
				buf_add_html(b, p->approved_by);
			}
			if (p->approved_on) {
				buf_adds(b, " on ");
				buf_add_html(b, p->approved_on);
			}
		}
		buf_adds(b, ". Owner: ");
		buf_add_html(b, p->owner);
		buf_adds(b, ".</p>\n");
	}
	buf_adds(b, "<h2>Public calendar feeds</h2>\n<ul>\n");
	size_t npub = 0;
	for (size_t i = 0; s && i < s->n; i++) {
		if (!s->v[i].public)
			continue;
		long ai = plan_audience_index(s->plan, s->v[i].audience);
		const char *name = ai >= 0 ? s->plan->audiences[ai].name : s->v[i].audience;
		const char *host = strstr(base, "://");
		host = host ? host + 3 : base;
		buf_adds(b, "<li>");
		buf_add_html(b, name);
		buf_adds(b, ": <a href=\"webcal://");
		buf_add_html(b, host);
		buf_adds(b, "/feeds/");
		buf_add_html(b, s->v[i].audience);
		buf_adds(b, ".ics\">subscribe</a> &middot; <a href=\"");
		buf_add_html(b, base);
		buf_adds(b, "/feeds/");
		buf_add_html(b, s->v[i].audience);
		buf_adds(b, ".ics\">download</a></li>\n");
		npub++;
	}
	if (!npub)
		buf_adds(b, "<li>None. Private feeds are shared with their audiences "
			    "(<code>herald feeds</code>).</li>\n");
	bool ok;
	struct buf hj;
	buf_init(&hj);
	health_json(h, &hj, &ok);
	buf_printf(b, "</ul>\n<h2>Health</h2>\n<p>%s. <a href=\"/healthz\">/healthz</a> "
		      "&middot; <a href=\"/metrics\">/metrics</a></p>\n<pre>",
		   ok ? "Service healthy" : "Service degraded");
	buf_add_html(b, hj.data);
	buf_free(&hj);
	buf_adds(b, "</pre>\n<p><small>herald " HERALD_VERSION "</small></p>\n</body></html>\n");
}

static void page_metrics(struct httpd *h, struct buf *b)
{
	buf_adds(b, "# HELP herald_http_requests_total HTTP requests by path class and status.\n"
		    "# TYPE herald_http_requests_total counter\n");
	for (size_t c = 0; c < PC_N; c++)
		for (size_t i = 0; i < NSTATUS; i++) {
			unsigned long long v = atomic_load_explicit(&h->requests[c][i],
								    memory_order_relaxed);
			if (!v)
				continue;
			if (i + 1 < NSTATUS)
				buf_printf(b, "herald_http_requests_total{class=\"%s\",status=\"%d\"} %llu\n",
					   class_names[c], statuses[i], v);
			else
				buf_printf(b, "herald_http_requests_total{class=\"%s\",status=\"other\"} %llu\n",
					   class_names[c], v);
		}
	buf_printf(b, "# HELP herald_http_response_bytes_total Response body bytes sent.\n"
		      "# TYPE herald_http_response_bytes_total counter\n"
		      "herald_http_response_bytes_total %llu\n",
		   (unsigned long long)atomic_load(&h->bytes));
	const struct plan *p = runtime_plan(h->rt);
	if (p) {
		buf_adds(b, "# HELP herald_plan_info The plan being served.\n"
			    "# TYPE herald_plan_info gauge\nherald_plan_info{id=\"");
		prom_label(b, p->id);
		buf_adds(b, "\",version=\"");
		prom_label(b, p->version);
		buf_adds(b, "\",sha256=\"");
		prom_label(b, p->sha256);
		buf_adds(b, "\"} 1\n");
	}
	struct feedset *s = atomic_load(&h->feeds);
	buf_printf(b, "# HELP herald_feeds Feeds served.\n# TYPE herald_feeds gauge\n"
		      "herald_feeds %zu\n"
		      "# HELP herald_feeds_last_modified_seconds Last-Modified of the feeds.\n"
		      "# TYPE herald_feeds_last_modified_seconds gauge\n"
		      "herald_feeds_last_modified_seconds %lld\n"
		      "# HELP herald_uptime_seconds Seconds since the service started.\n"
		      "# TYPE herald_uptime_seconds gauge\nherald_uptime_seconds %lld\n"
		      "# HELP herald_database_up 1 if the database answers.\n"
		      "# TYPE herald_database_up gauge\nherald_database_up %d\n",
		   s ? s->n : 0, (long long)(s ? s->last_modified : 0),
		   (long long)(clock_now() - h->rt->started), db_ok(h) ? 1 : 0);
	for (size_t i = 0; i < h->nmetrics; i++)
		h->metrics[i].fn(b, h->metrics[i].ctx);
}

/* ------------------------------------------------------------------ */
/* Request dispatch                                                    */

static enum MHD_Result send_resp(struct httpd *h, struct MHD_Connection *c,
				 enum path_class pc, int status,
				 struct MHD_Response *r, size_t body, bool head)
{
	atomic_fetch_add_explicit(&h->requests[pc][status_index(status)], 1,
				  memory_order_relaxed);
	if (!head && body)
		atomic_fetch_add_explicit(&h->bytes, body, memory_order_relaxed);
	return MHD_queue_response(c, (unsigned)status, r);
}

static enum MHD_Result send_buf(struct httpd *h, struct MHD_Connection *c,
				enum path_class pc, int status, const char *type,
				struct buf *b, const struct buf *headers, bool head)
{
	size_t len = b->len;
	struct MHD_Response *r = len
		? MHD_create_response_from_buffer(len, buf_take(b), MHD_RESPMEM_MUST_FREE)
		: MHD_create_response_from_buffer(0, (void *)(uintptr_t)"", MHD_RESPMEM_PERSISTENT);
	if (!r)
		abort();
	MHD_add_response_header(r, "Content-Type", type ? type : "text/plain; charset=utf-8");
	for (const char *l = headers && headers->len ? headers->data : NULL; l && *l;) {
		const char *eol = strstr(l, "\r\n");
		size_t n = eol ? (size_t)(eol - l) : strlen(l);
		const char *colon = memchr(l, ':', n);
		if (colon) {
			char *name = xstrndup(l, (size_t)(colon - l));
			const char *v = colon + 1;
			while (*v == ' ')
				v++;
			char *val = xstrndup(v, n - (size_t)(v - l));
			MHD_add_response_header(r, name, val);
			free(name);
			free(val);
		}
		l = eol ? eol + 2 : l + n;
	}
	enum MHD_Result ret = send_resp(h, c, pc, status, r, len, head);
	MHD_destroy_response(r);
	return ret;
}

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

static enum MHD_Result serve_feed(struct httpd *h, struct MHD_Connection *c,
				  const char *rest, bool head)
{
	struct feedset *s = atomic_load(&h->feeds);
	const char *slash = strchr(rest, '/');
	const char *aud = slash ? slash + 1 : rest;
	size_t alen = strlen(aud);
	struct feed_entry *e = NULL;
	if (s && alen > 4 && strcmp(aud + alen - 4, ".ics") == 0 && !strchr(aud, '/')) {
		alen -= 4;
		for (size_t i = 0; i < s->n; i++)
			if (s->v[i].alen == alen && memcmp(s->v[i].audience, aud, alen) == 0) {
				e = &s->v[i];
				break;
			}
	}
	if (e) {
		bool ok;
		if (e->public)
			ok = !slash;
		else
			ok = slash && (size_t)(slash - rest) == TOKEN_FEED_LEN &&
			     ct_equal(rest, e->token, TOKEN_FEED_LEN);
		if (!ok)
			e = NULL;
	}
	if (!e)
		return send_resp(h, c, PC_FEED, 404, h->r404, 10, head);
	bool gz = accepts_gzip(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							   MHD_HTTP_HEADER_ACCEPT_ENCODING));
	const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						      MHD_HTTP_HEADER_IF_NONE_MATCH);
	bool not_modified = false;
	if (inm) {
		not_modified = etag_matches(inm, e->etag) || etag_matches(inm, e->etag_gz);
	} else {
		const char *ims = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							      MHD_HTTP_HEADER_IF_MODIFIED_SINCE);
		int64_t t;
		not_modified = ims && parse_http_date(ims, &t) && s->last_modified <= t;
	}
	if (not_modified)
		return send_resp(h, c, PC_FEED, 304, gz ? e->nm_gz : e->nm, 0, head);
	return send_resp(h, c, PC_FEED, 200, gz ? e->full_gz : e->full,
			 gz ? e->gzlen : e->len, head);
}

static const struct route *find_route(struct httpd *h, const char *url,
				      const char *method, bool *other_method)
{
	const struct route *best = NULL;
	*other_method = false;
	for (size_t i = 0; i < h->nroutes; i++) {
		const struct route *r = &h->routes[i];
		if (strncmp(url, r->prefix, r->plen) != 0)
			continue;
		bool mok = !r->method || strcmp(r->method, method) == 0 ||
			   (strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0);
		if (!mok) {
			*other_method = true;
			continue;
		}
		if (!best || r->plen > best->plen)
			best = r;
	}
	return best;
}

static enum MHD_Result call_route(struct httpd *h, struct MHD_Connection *c,
				  const struct route *rt, const char *url,
				  const char *method, const struct buf *body)
{
	char addr[INET6_ADDRSTRLEN] = "?";
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
				  addr, sizeof addr);
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
				  addr, sizeof addr);
	}
	struct httpd_req req = {
		.method = method,
		.path = url,
		.suffix = url + rt->plen,
		.body = body && body->len ? body->data : "",
		.body_len = body ? body->len : 0,
		.remote = addr,
		.impl = c,
	};
	struct httpd_resp resp = { .status = 200 };
	buf_init(&resp.body);
	buf_init(&resp.headers);
	rt->fn(&req, &resp, rt->ctx);
	if (resp.status < 100 || resp.status > 599)
		resp.status = 500;
	enum MHD_Result r = send_buf(h, c, PC_ROUTE, resp.status, resp.content_type,
				     &resp.body, &resp.headers, strcmp(method, "HEAD") == 0);
	buf_free(&resp.body);
	buf_free(&resp.headers);
	return r;
}

static enum MHD_Result method_not_allowed(struct httpd *h, struct MHD_Connection *c,
					  enum path_class pc)
{
	return send_resp(h, c, pc, 405, h->r405, 19, false);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct httpd *h = cls;
	(void)version;
	/* libmicrohttpd keeps a connection alive only when the response is
	 * queued after the request was fully read: the first call (headers
	 * only) just marks the request. */
	if (!*con_cls) {
		/* An announced body that is too large is refused before it is
		 * read (the connection then closes). */
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > h->cfg.max_body) {
			struct buf b;
			buf_init(&b);
			buf_adds(&b, "request body too large\n");
			return send_buf(h, c, PC_OTHER, 413, NULL, &b, NULL, false);
		}
		*con_cls = &headers_seen;
		return MHD_YES;
	}
	struct req_ctx *rc = *con_cls == &headers_seen ? NULL : *con_cls;
	if (rc) {
		/* Later calls: a body for a route. */
		if (*upload_size) {
			if (rc->body.len + *upload_size > h->cfg.max_body)
				rc->too_big = true;
			else
				buf_add(&rc->body, upload, *upload_size);
			*upload_size = 0;
			return MHD_YES;
		}
		if (rc->too_big) {
			struct buf b;
			buf_init(&b);
			buf_adds(&b, "request body too large\n");
			return send_buf(h, c, PC_ROUTE, 413, NULL, &b, NULL, false);
		}
		return call_route(h, c, rc->route, url, method, &rc->body);
	}
	bool get = strcmp(method, "GET") == 0, head = strcmp(method, "HEAD") == 0;
	if (*upload_size) {
		/* A body nobody takes is read and dropped: libmicrohttpd answers
		 * only once the request has been read. */
		bool other;
		if (get || head || !find_route(h, url, method, &other)) {
			*upload_size = 0;
			return MHD_YES;
		}
	}
	enum path_class pc = PC_OTHER;
	if (strcmp(url, "/") == 0)
		pc = PC_INDEX;
	else if (strcmp(url, "/healthz") == 0)
		pc = PC_HEALTHZ;
	else if (strcmp(url, "/metrics") == 0)
		pc = PC_METRICS;
	else if (strncmp(url, "/feeds/", 7) == 0)
		pc = PC_FEED;
	if (pc != PC_OTHER) {
		if (!get && !head)
			return method_not_allowed(h, c, pc);
		if (pc == PC_FEED)
			return serve_feed(h, c, url + 7, head);
		struct buf b;
		buf_init(&b);
		if (pc == PC_INDEX) {
			page_index(h, &b);
			return send_buf(h, c, pc, 200, "text/html; charset=utf-8", &b, NULL, head);
		}
		if (pc == PC_HEALTHZ) {
			bool ok;
			health_json(h, &b, &ok);
			struct buf hd;
			buf_init(&hd);
			buf_adds(&hd, "Cache-Control: no-store\r\n");
			enum MHD_Result r = send_buf(h, c, pc, ok ? 200 : 503,
						     "application/json", &b, &hd, head);
			buf_free(&hd);
			return r;
		}
		page_metrics(h, &b);
		return send_buf(h, c, pc, 200, "text/plain; version=0.0.4; charset=utf-8",
				&b, NULL, head);
	}
	bool other;
	const struct route *rt = find_route(h, url, method, &other);
	if (!rt)
		return other ? method_not_allowed(h, c, PC_ROUTE)
			     : send_resp(h, c, PC_OTHER, 404, h->r404, 10, head);
	if (get || head)
		return call_route(h, c, rt, url, method, NULL);
	rc = xcalloc(1, sizeof *rc);
	rc->route = rt;
	buf_init(&rc->body);
	*con_cls = rc;
	/* This call may already carry the first chunk of the body: it must be
	 * taken now, or libmicrohttpd stalls the connection. */
	if (*upload_size) {
		if (*upload_size > h->cfg.max_body)
			rc->too_big = true;
		else
			buf_add(&rc->body, upload, *upload_size);
		*upload_size = 0;
	}
	return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	struct req_ctx *rc = *con_cls;
	if (rc && *con_cls != (void *)&headers_seen) {
		buf_free(&rc->body);
		free(rc);
	}
	*con_cls = NULL;
}

static void on_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_event(LOG_WARN, "httpd", "%s", msg);
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */

enum herald_rc httpd_new(const struct httpd_config *cfg, struct runtime *rt,
			 struct httpd **out, struct herald_err *err)
{
	if (!cfg->listen || !*cfg->listen)
		return herald_err_set(err, H_EUSAGE, "no listen address");
	struct httpd *h = xcalloc(1, sizeof *h);
	h->cfg = *cfg;
	h->listen = xstrdup(cfg->listen);
	h->cfg.listen = h->listen;
	if (!h->cfg.conn_timeout)
		h->cfg.conn_timeout = 30;
	if (!h->cfg.conn_limit)
		h->cfg.conn_limit = 1024;
	if (!h->cfg.per_ip_limit)
		h->cfg.per_ip_limit = 64;
	if (!h->cfg.max_body)
		h->cfg.max_body = 64 * 1024;
	h->rt = rt;
	pthread_mutex_init(&h->set_lock, NULL);
	static const char nf[] = "not found\n", na[] = "method not allowed\n";
	h->r404 = MHD_create_response_from_buffer(sizeof nf - 1, (void *)(uintptr_t)nf,
						  MHD_RESPMEM_PERSISTENT);
	h->r405 = MHD_create_response_from_buffer(sizeof na - 1, (void *)(uintptr_t)na,
						  MHD_RESPMEM_PERSISTENT);
	if (!h->r404 || !h->r405)
		abort();
	MHD_add_response_header(h->r404, "Content-Type", "text/plain; charset=utf-8");
	MHD_add_response_header(h->r404, "Cache-Control", "no-store");
	MHD_add_response_header(h->r405, "Content-Type", "text/plain; charset=utf-8");
	MHD_add_response_header(h->r405, "Allow", "GET, HEAD");
	*out = h;
	return H_OK;
}

void httpd_route(struct httpd *h, const char *method, const char *prefix,
		 httpd_handler fn, void *ctx)
{
	h->routes = xreallocarray(h->routes, h->nroutes + 1, sizeof *h->routes);
	h->routes[h->nroutes++] = (struct route){
		.method = method ? xstrdup(method) : NULL,
		.prefix = xstrdup(prefix),
		.plen = strlen(prefix),
		.fn = fn,
		.ctx = ctx,
	};
}

void httpd_metrics_source(struct httpd *h, void (*fn)(struct buf *out, void *ctx),
			  void *ctx)
{
	h->metrics = xreallocarray(h->metrics, h->nmetrics + 1, sizeof *h->metrics);
	h->metrics[h->nmetrics++] = (struct source){ fn, ctx };
}

void httpd_health_source(struct httpd *h, void (*fn)(struct buf *out, void *ctx),
			 void *ctx)
{
	h->health = xreallocarray(h->health, h->nhealth + 1, sizeof *h->health);
	h->health[h->nhealth++] = (struct source){ fn, ctx };
}

/* "HOST:PORT" or "[V6]:PORT" into a socket address. */
static enum herald_rc parse_listen(const char *s, struct sockaddr_storage *ss,
				   socklen_t *len, struct herald_err *err)
{
	char host[256];
	const char *port;
	if (s[0] == '[') {
		const char *e = strchr(s, ']');
		if (!e || e[1] != ':' || (size_t)(e - s - 1) >= sizeof host)
			return herald_err_set(err, H_EUSAGE, "--listen \"%s\": want HOST:PORT or [V6]:PORT", s);
		memcpy(host, s + 1, (size_t)(e - s - 1));
		host[e - s - 1] = '\0';
		port = e + 2;
	} else {
		const char *colon = strrchr(s, ':');
		if (!colon || colon == s || (size_t)(colon - s) >= sizeof host)
			return herald_err_set(err, H_EUSAGE, "--listen \"%s\": want HOST:PORT or [V6]:PORT", s);
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
		port = colon + 1;
	}
	char *end;
	long pn = strtol(port, &end, 10);
	if (!*port || *end || pn < 1 || pn > 65535)
		return herald_err_set(err, H_EUSAGE, "--listen \"%s\": bad port", s);
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai;
	int r = getaddrinfo(host, port, &hints, &ai);
	if (r != 0)
		return herald_err_set(err, H_EUSAGE, "--listen \"%s\": %s", s, gai_strerror(r));
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return H_OK;
}

enum herald_rc httpd_start(struct httpd *h, struct herald_err *err)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	enum herald_rc rc = parse_listen(h->cfg.listen, &ss, &sl, err);
	if (rc)
		return rc;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned pool = ncpu < 2 ? 2 : ncpu > 8 ? 8 : (unsigned)ncpu;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			 MHD_USE_TURBO | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	unsigned limit = h->cfg.conn_limit < pool ? pool : h->cfg.conn_limit;
	h->d = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, h,
		MHD_OPTION_EXTERNAL_LOGGER, on_log, h,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, pool,
		MHD_OPTION_CONNECTION_TIMEOUT, h->cfg.conn_timeout,
		MHD_OPTION_CONNECTION_LIMIT, limit,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, h->cfg.per_ip_limit,
		/* Request headers beyond this memory get 431. */
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32 * 1024,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
		MHD_OPTION_END);
	if (!h->d)
		return herald_err_set(err, H_ERUNTIME,
				      "cannot listen on %s (address in use or not local?)",
				      h->cfg.listen);
	return H_OK;
}

void httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	if (h->d)
		MHD_stop_daemon(h->d);
	for (struct feedset *s = h->sets, *n; s; s = n) {
		n = s->older;
		feedset_free(s);
	}
	for (size_t i = 0; i < h->nroutes; i++) {
		free(h->routes[i].method);
		free(h->routes[i].prefix);
	}
	free(h->routes);
	free(h->metrics);
	free(h->health);
	MHD_destroy_response(h->r404);
	MHD_destroy_response(h->r405);
	pthread_mutex_destroy(&h->set_lock);
	free(h->listen);
	free(h);
}
