/*
 * httpd.c - herald's HTTP server core over libmicrohttpd (see httpd.h).
 *
 * The only file that includes microhttpd.h.  The daemon runs an epoll
 * thread pool.  libmicrohttpd bounds the total connections, idle time
 * and header memory; the rest is here, per connection (struct conn, the
 * socket context of libmicrohttpd):
 *
 *   - the accept policy refuses a peer holding per_ip_limit connections
 *     (counted in httpd_guard; the trusted proxy is exempt and its
 *     clients are counted per request instead);
 *   - a deadline per connection, which a watchdog thread enforces with
 *     shutdown(2): libmicrohttpd's timeout is an idle timeout, reset by
 *     every byte, so a client dribbling its headers would hold a
 *     connection for ever.  The deadline is header_timeout from the
 *     connection or from a request's first line, conn_timeout for a body,
 *     none while a response is out, and conn_timeout + header_timeout
 *     after a response (libmicrohttpd's idle timeout closes first);
 *   - the request itself: framing checks, the client behind the proxy,
 *     the penalty of wrong admin tokens, routing, then the handler.
 *
 * libmicrohttpd keeps a connection alive only when the response is queued
 * after the request was fully read, so a request is answered at its last
 * call; only refusals that must close the connection (bad framing, a body
 * announced too large) are answered at the first.
 */
#include "herald/httpd.h"

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

#include "herald/clock.h"
#include "herald/httpd_guard.h"
#include "herald/log.h"
#include "herald/timeutil.h"

/* ------------------------------------------------------------------ */
/* Counters for /metrics                                               */

#define MAX_CLASSES 12
enum { CLASS_OTHER, CLASS_ROUTE };
static const int statuses[] = {
	200, 201, 202, 204, 301, 302, 303, 304, 400, 401, 403, 404, 405, 409,
	413, 429, 431, 500, 503,
};
#define NSTATUS (sizeof statuses / sizeof statuses[0] + 1) /* + "other" */

enum refusal { RF_PER_ADDRESS, RF_SLOW, RF_PENALTY, RF_FRAMING, RF_N };
static const char *const refusal_names[RF_N] = {
	"per-address", "too-slow", "auth-penalty", "bad-framing",
};

static size_t status_index(int status)
{
	for (size_t i = 0; i + 1 < NSTATUS; i++)
		if (statuses[i] == status)
			return i;
	return NSTATUS - 1;
}

/* ------------------------------------------------------------------ */
/* Types                                                               */

struct httpd_fixed {
	struct MHD_Response *r;
	size_t len;
};

enum arg_type { ARG_TEXT, ARG_TIME };

struct query_arg {
	char *name;
	enum arg_type type;
};

struct route {
	char *method;
	char *path;                /* without the query declaration */
	size_t plen;
	bool prefix;               /* path ends in '/' */
	bool strict_query;         /* declared "?…": only args accepted */
	struct query_arg *args;
	size_t nargs;
	unsigned cls;
	httpd_handler fn;
	void *ctx;
};

struct source {
	void (*fn)(struct buf *out, void *ctx);
	void *ctx;
};

/* A connection, and the one request it carries at a time. */
struct conn {
	struct conn *prev, *next;  /* h->conns (conn_lock) */
	int fd;
	char peer[HTTPD_ADDR_LEN];
	bool counted;              /* peer holds a count in the guard */
	_Atomic int64_t deadline_ms; /* 0: none */
	/* The request in progress. */
	bool started;              /* headers seen by on_request */
	struct buf target;         /* request target as received */
	char client[HTTPD_ADDR_LEN];
	bool client_held;          /* proxied client counted in the guard */
	bool has_auth;
	const struct route *route;
	unsigned cls;
	int early;                 /* status decided from the headers, or 0 */
	char allow[48];            /* for 405 */
	long retry_after;          /* for 429 */
	bool take_body, too_big;
	struct buf body;
};

struct httpd {
	struct httpd_config cfg;
	char *listen, *trust_proxy;
	struct MHD_Daemon *d;
	struct httpd_guard *guard;
	struct route *routes;
	size_t nroutes;
	char *classes[MAX_CLASSES];
	size_t nclasses;
	struct MHD_Response *r404;
	struct source *metrics, *health;
	size_t nmetrics, nhealth;
	atomic_ullong requests[MAX_CLASSES][NSTATUS];
	atomic_ullong bytes;
	atomic_ullong refused[RF_N];
	pthread_mutex_t conn_lock;
	struct conn *conns;
	pthread_t watchdog;
	pthread_cond_t wd_cond;
	bool wd_stop, wd_running;
};

static struct log_limit lim_conn = LOG_LIMIT_INIT(10000);
static struct log_limit lim_addr = LOG_LIMIT_INIT(10000);
static struct log_limit lim_slow = LOG_LIMIT_INIT(10000);
static struct log_limit lim_auth = LOG_LIMIT_INIT(10000);
static struct log_limit lim_mhd = LOG_LIMIT_INIT(1000);

static struct conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

/* ------------------------------------------------------------------ */
/* Fixed responses and headers                                         */

static void add_headers(struct MHD_Response *r, const char *headers)
{
	for (const char *l = headers; l && *l;) {
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
}

struct httpd_fixed *httpd_fixed_new(const void *body, size_t len, const char *headers)
{
	struct httpd_fixed *f = xcalloc(1, sizeof *f);
	f->r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)(len ? body : ""),
					       MHD_RESPMEM_PERSISTENT);
	if (!f->r)
		abort();
	f->len = len;
	add_headers(f->r, headers);
	return f;
}

void httpd_fixed_free(struct httpd_fixed *f)
{
	if (!f)
		return;
	MHD_destroy_response(f->r);
	free(f);
}

const char *httpd_header(const struct httpd_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->impl, MHD_HEADER_KIND, name);
}

/* ------------------------------------------------------------------ */
/* Sending                                                             */

static enum MHD_Result send_resp(struct httpd *h, struct MHD_Connection *c,
				 unsigned cls, int status, struct MHD_Response *r,
				 size_t body, bool head)
{
	atomic_fetch_add_explicit(&h->requests[cls][status_index(status)], 1,
				  memory_order_relaxed);
	if (!head && body)
		atomic_fetch_add_explicit(&h->bytes, body, memory_order_relaxed);
	return MHD_queue_response(c, (unsigned)status, r);
}

static bool has_header(const struct buf *headers, const char *name)
{
	size_t n = strlen(name);
	for (const char *l = headers && headers->len ? headers->data : NULL; l && *l;) {
		if (strncasecmp(l, name, n) == 0 && l[n] == ':')
			return true;
		const char *eol = strstr(l, "\r\n");
		l = eol ? eol + 2 : NULL;
	}
	return false;
}

static enum MHD_Result send_buf(struct httpd *h, struct MHD_Connection *c,
				unsigned cls, int status, const char *type,
				struct buf *b, const struct buf *headers, bool head)
{
	size_t len = b->len;
	struct MHD_Response *r = len
		? MHD_create_response_from_buffer(len, buf_take(b), MHD_RESPMEM_MUST_FREE)
		: MHD_create_response_from_buffer(0, (void *)(uintptr_t)"", MHD_RESPMEM_PERSISTENT);
	if (!r)
		abort();
	if (!type)
		type = "text/plain; charset=utf-8";
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	/* HTML from herald never needs a script or anything remote. */
	if (strncasecmp(type, "text/html", 9) == 0 &&
	    !has_header(headers, "Content-Security-Policy"))
		MHD_add_response_header(r, "Content-Security-Policy",
					"default-src 'none'; style-src 'unsafe-inline'");
	if (headers && headers->len)
		add_headers(r, headers->data);
	enum MHD_Result ret = send_resp(h, c, cls, status, r, len, head);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_text(struct httpd *h, struct MHD_Connection *c,
				 unsigned cls, int status, const char *text,
				 const char *headers, bool head)
{
	struct buf b, hd;
	buf_init(&b);
	buf_init(&hd);
	buf_adds(&b, text);
	if (headers)
		buf_adds(&hd, headers);
	enum MHD_Result r = send_buf(h, c, cls, status, NULL, &b, &hd, head);
	buf_free(&b);
	buf_free(&hd);
	return r;
}

/* ------------------------------------------------------------------ */
/* Routes                                                              */

static unsigned class_index(struct httpd *h, const char *name)
{
	for (size_t i = 0; i < h->nclasses; i++)
		if (strcmp(h->classes[i], name) == 0)
			return (unsigned)i;
	if (h->nclasses == MAX_CLASSES)
		return CLASS_ROUTE;
	h->classes[h->nclasses] = xstrdup(name);
	return (unsigned)h->nclasses++;
}

/* "name=type&…" of a route declaration; a bad one is a programming error. */
static void parse_decl(struct route *r, const char *decl)
{
	r->strict_query = true;
	for (const char *p = decl; *p;) {
		size_t n = strcspn(p, "&");
		const char *eq = memchr(p, '=', n);
		if (!eq || eq == p) {
			fprintf(stderr, "herald: bad query declaration on route %s\n", r->path);
			abort();
		}
		enum arg_type t;
		size_t tl = n - (size_t)(eq + 1 - p);
		if (tl == 4 && strncmp(eq + 1, "time", 4) == 0)
			t = ARG_TIME;
		else if (tl == 4 && strncmp(eq + 1, "text", 4) == 0)
			t = ARG_TEXT;
		else {
			fprintf(stderr, "herald: bad query type on route %s\n", r->path);
			abort();
		}
		r->args = xreallocarray(r->args, r->nargs + 1, sizeof *r->args);
		r->args[r->nargs++] = (struct query_arg){ xstrndup(p, (size_t)(eq - p)), t };
		p += n;
		if (*p == '&')
			p++;
	}
}

void httpd_route_class(struct httpd *h, const char *method, const char *path,
		       const char *metric_class, httpd_handler fn, void *ctx)
{
	h->routes = xreallocarray(h->routes, h->nroutes + 1, sizeof *h->routes);
	struct route *r = &h->routes[h->nroutes++];
	memset(r, 0, sizeof *r);
	const char *q = strchr(path, '?');
	r->path = q ? xstrndup(path, (size_t)(q - path)) : xstrdup(path);
	r->plen = strlen(r->path);
	r->prefix = r->plen > 1 && r->path[r->plen - 1] == '/';
	r->method = xstrdup(method);
	r->cls = class_index(h, metric_class ? metric_class : "route");
	r->fn = fn;
	r->ctx = ctx;
	if (q)
		parse_decl(r, q + 1);
}

void httpd_route(struct httpd *h, const char *method, const char *path,
		 httpd_handler fn, void *ctx)
{
	httpd_route_class(h, method, path, NULL, fn, ctx);
}

static bool path_matches(const struct route *r, const char *url)
{
	return r->prefix ? strncmp(url, r->path, r->plen) == 0 : strcmp(url, r->path) == 0;
}

static bool method_matches(const struct route *r, const char *method)
{
	return strcmp(r->method, method) == 0 ||
	       (strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0);
}

static void allow_add(char *allow, size_t cap, const char *m)
{
	if (strstr(allow, m))
		return;
	size_t n = strlen(allow);
	snprintf(allow + n, cap - n, "%s%s", n ? ", " : "", m);
}

static void allow_route(char *allow, size_t cap, const struct route *r)
{
	allow_add(allow, cap, r->method);
	if (strcmp(r->method, "GET") == 0)
		allow_add(allow, cap, "HEAD");
}

/*
 * The route for method and url: an exact path first, else the longest
 * prefix.  Without one, *allow lists the methods the path has (empty if
 * none) and *cls the class of its first route.
 */
static const struct route *find_route(struct httpd *h, const char *url, const char *method,
				      char *allow, size_t cap, unsigned *cls)
{
	const struct route *best = NULL;
	allow[0] = '\0';
	*cls = CLASS_OTHER;
	bool any = false;
	for (size_t i = 0; i < h->nroutes; i++) {
		const struct route *r = &h->routes[i];
		if (!path_matches(r, url))
			continue;
		if (!any)
			*cls = r->cls;
		any = true;
		if (!method_matches(r, method)) {
			allow_route(allow, cap, r);
			continue;
		}
		if (!best || (best->prefix && (!r->prefix || r->plen > best->plen)))
			best = r;
	}
	return best;
}

static bool arg_valid(enum arg_type t, const char *v, size_t n)
{
	if (t == ARG_TEXT)
		return true;
	char s[64];
	if (n == 0 || n >= sizeof s)
		return false;
	memcpy(s, v, n);
	s[n] = '\0';
	int64_t x;
	return parse_date(s, &x) || parse_rfc3339(s, &x);
}

/* True if query (raw, may be empty) fits the route's declaration. */
static bool query_valid(const struct route *r, const char *query)
{
	if (!r->strict_query || !*query)
		return true;
	unsigned seen = 0;
	for (const char *p = query;;) {
		size_t n = strcspn(p, "&");
		const char *eq = memchr(p, '=', n);
		if (!eq)
			return false;
		size_t nl = (size_t)(eq - p), i;
		for (i = 0; i < r->nargs; i++)
			if (strlen(r->args[i].name) == nl && memcmp(r->args[i].name, p, nl) == 0)
				break;
		if (i == r->nargs || i >= 32 || (seen & (1u << i)))
			return false;
		seen |= 1u << i;
		if (!arg_valid(r->args[i].type, eq + 1, n - nl - 1))
			return false;
		if (!p[n])
			return true;
		p += n + 1;
	}
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */

struct scan {
	unsigned ncl, nte;
	bool cl_bad;
	unsigned long long cl;
	const char *xff, *auth;
};

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	(void)kind;
	struct scan *s = cls;
	if (!value)
		value = "";
	if (strcasecmp(key, "Content-Length") == 0) {
		s->ncl++;
		if (!*value || value[strspn(value, "0123456789")] || strlen(value) > 18)
			s->cl_bad = true;
		else
			s->cl = strtoull(value, NULL, 10);
	} else if (strcasecmp(key, "Transfer-Encoding") == 0) {
		s->nte++;
	} else if (strcasecmp(key, "X-Forwarded-For") == 0) {
		s->xff = value;   /* the last header holds the last hop */
	} else if (strcasecmp(key, "Authorization") == 0) {
		s->auth = value;
	}
	return MHD_YES;
}

static void take_upload(struct httpd *h, struct conn *k, const char *upload,
			size_t *upload_size)
{
	if (k->take_body) {
		if (k->body.len + *upload_size > h->cfg.max_body)
			k->too_big = true;
		else
			buf_add(&k->body, upload, *upload_size);
	}
	/* A body nobody takes is read and dropped: libmicrohttpd answers
	 * only once the request has been read. */
	*upload_size = 0;
}

/* The first call of a request: everything decided from its headers. */
static enum MHD_Result begin(struct httpd *h, struct conn *k, struct MHD_Connection *c,
			     const char *url, const char *method, const char *upload,
			     size_t *upload_size)
{
	k->started = true;
	atomic_store(&k->deadline_ms, clock_mono_ms() + (int64_t)h->cfg.conn_timeout * 1000);
	struct scan s = { 0 };
	MHD_get_connection_values(c, MHD_HEADER_KIND, scan_header, &s);
	/* Two framings, or two lengths, and a proxy in front of us may have
	 * read another request than we would: refuse and close. */
	if (s.ncl > 1 || s.nte > 1 || (s.ncl && s.nte) || s.cl_bad) {
		atomic_fetch_add(&h->refused[RF_FRAMING], 1);
		return send_text(h, c, CLASS_OTHER, 400, "conflicting or duplicate "
				 "Content-Length or Transfer-Encoding\n",
				 "Connection: close\r\n", false);
	}
	/* An announced body that is too large is refused before it is read
	 * (the connection then closes). */
	if (s.ncl && s.cl > h->cfg.max_body)
		return send_text(h, c, CLASS_OTHER, 413, "request body too large\n", NULL, false);
	bool proxied = httpd_guard_client(h->guard, k->peer, s.xff, k->client);
	if (proxied) {
		if (!httpd_guard_take(h->guard, k->client, true)) {
			atomic_fetch_add(&h->refused[RF_PER_ADDRESS], 1);
			log_event_limited(&lim_addr, LOG_WARN, "httpd.limit",
					  "request from %s refused: %u requests in progress "
					  "(per-address limit)", k->client, h->cfg.per_ip_limit);
			k->early = 429;
			k->retry_after = 1;
		} else {
			k->client_held = true;
		}
	}
	k->has_auth = s.auth != NULL;
	int64_t left = k->has_auth && !k->early
		? httpd_guard_penalty(h->guard, k->client, clock_mono_ms()) : 0;
	if (left > 0) {
		atomic_fetch_add(&h->refused[RF_PENALTY], 1);
		k->early = 429;
		k->retry_after = (long)((left + 999) / 1000);
	}
	k->route = find_route(h, url, method, k->allow, sizeof k->allow, &k->cls);
	if (!k->early) {
		if (strcmp(method, "OPTIONS") == 0 || strcmp(method, "CONNECT") == 0) {
			/* Allow: what the path has, or what the server has. */
			k->early = 405;
			if (!k->allow[0])
				for (size_t i = 0; i < h->nroutes; i++)
					allow_route(k->allow, sizeof k->allow, &h->routes[i]);
			k->route = NULL;
		} else if (!k->route) {
			k->early = k->allow[0] ? 405 : 404;
		} else {
			const char *q = strchr(k->target.len ? k->target.data : "", '?');
			if (!query_valid(k->route, q ? q + 1 : ""))
				k->early = 400;
		}
	}
	if (k->route && !k->early)
		k->cls = k->route->cls;
	k->take_body = k->route && !k->early && strcmp(method, "GET") != 0 &&
		       strcmp(method, "HEAD") != 0;
	/* This call may already carry the first chunk of the body: it must be
	 * taken now, or libmicrohttpd stalls the connection. */
	if (*upload_size)
		take_upload(h, k, upload, upload_size);
	return MHD_YES;
}

static enum MHD_Result answer_early(struct httpd *h, struct conn *k,
				    struct MHD_Connection *c, bool head)
{
	char hd[96];
	switch (k->early) {
	case 404:
		return send_resp(h, c, k->cls, 404, h->r404, 10, head);
	case 405:
		snprintf(hd, sizeof hd, "Allow: %s\r\n", k->allow);
		return send_text(h, c, k->cls, 405, "method not allowed\n", hd, head);
	case 429:
		snprintf(hd, sizeof hd, "Retry-After: %ld\r\nCache-Control: no-store\r\n",
			 k->retry_after);
		return send_text(h, c, k->cls, 429, "too many requests: try again later\n",
				 hd, head);
	default:
		return send_text(h, c, k->cls, 400, "bad query parameters\n", NULL, head);
	}
}

static enum MHD_Result call_route(struct httpd *h, struct conn *k, struct MHD_Connection *c,
				  const char *url, const char *method)
{
	const struct route *rt = k->route;
	const char *target = k->target.len ? k->target.data : url;
	const char *q = strchr(target, '?');
	struct httpd_req req = {
		.method = method,
		.path = target,
		.suffix = rt->prefix ? url + rt->plen : "",
		.query = q ? q + 1 : "",
		.body = k->body.len ? k->body.data : "",
		.body_len = k->body.len,
		.remote = k->client,
		.impl = c,
	};
	struct httpd_resp resp = { .status = 200 };
	buf_init(&resp.body);
	buf_init(&resp.headers);
	rt->fn(&req, &resp, rt->ctx);
	if (resp.status < 100 || resp.status > 599)
		resp.status = 500;
	/* A wrong token opens a penalty window for its sender. */
	if (k->has_auth && resp.status == 401) {
		httpd_guard_failed(h->guard, k->client, clock_mono_ms());
		log_event_limited(&lim_auth, LOG_WARN, "httpd.auth",
				  "wrong admin token from %s on %s", k->client, url);
	} else if (k->has_auth && resp.status < 400) {
		httpd_guard_succeeded(h->guard, k->client);
	}
	bool head = strcmp(method, "HEAD") == 0;
	enum MHD_Result r;
	if (resp.fixed)
		r = send_resp(h, c, rt->cls, resp.status, resp.fixed->r, resp.fixed->len, head);
	else if (resp.status == 404 && !resp.body.len && !resp.headers.len)
		r = send_resp(h, c, rt->cls, 404, h->r404, 10, head);
	else
		r = send_buf(h, c, rt->cls, resp.status, resp.content_type, &resp.body,
			     &resp.headers, head);
	buf_free(&resp.body);
	buf_free(&resp.headers);
	return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct httpd *h = cls;
	(void)version;
	struct conn *k = *con_cls;
	if (!k)
		return MHD_NO;
	if (!k->started)
		return begin(h, k, c, url, method, upload, upload_size);
	if (*upload_size) {
		take_upload(h, k, upload, upload_size);
		return MHD_YES;
	}
	/* The whole request is in: no deadline while the answer goes out
	 * (libmicrohttpd's idle timeout covers a reader that stalls). */
	atomic_store(&k->deadline_ms, 0);
	bool head = strcmp(method, "HEAD") == 0;
	if (k->too_big)
		return send_text(h, c, k->cls, 413, "request body too large\n", NULL, false);
	if (k->early)
		return answer_early(h, k, c, head);
	return call_route(h, k, c, url, method);
}

/* The request line has arrived: its headers are now due quickly. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct httpd *h = cls;
	struct conn *k = conn_of(c);
	if (!k)
		return NULL;
	buf_reset(&k->target);
	buf_adds(&k->target, uri ? uri : "");
	int64_t due = clock_mono_ms() + (int64_t)h->cfg.header_timeout * 1000;
	int64_t cur = atomic_load(&k->deadline_ms);
	if (!cur || cur > due)
		atomic_store(&k->deadline_ms, due);
	return k;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct httpd *h = cls;
	(void)c;
	(void)toe;
	struct conn *k = *con_cls;
	*con_cls = NULL;
	if (!k)
		return;
	if (k->client_held)
		httpd_guard_put(h->guard, k->client);
	if (k->body.cap > 64 * 1024)
		buf_free(&k->body);
	buf_reset(&k->body);
	k->started = k->client_held = k->has_auth = k->take_body = k->too_big = false;
	k->route = NULL;
	k->early = 0;
	k->cls = CLASS_OTHER;
	k->allow[0] = '\0';
	atomic_store(&k->deadline_ms, clock_mono_ms() +
			  (int64_t)(h->cfg.conn_timeout + h->cfg.header_timeout) * 1000);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct httpd *h = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		struct conn *k = xcalloc(1, sizeof *k);
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		k->fd = ci ? ci->connect_fd : -1;
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		httpd_guard_addr(ci ? ci->client_addr : NULL, k->peer);
		memcpy(k->client, k->peer, sizeof k->client);
		buf_init(&k->target);
		buf_init(&k->body);
		if (!httpd_guard_is_proxy(h->guard, k->peer)) {
			httpd_guard_take(h->guard, k->peer, false);
			k->counted = true;
		}
		atomic_store(&k->deadline_ms, clock_mono_ms() +
				  (int64_t)h->cfg.header_timeout * 1000);
		pthread_mutex_lock(&h->conn_lock);
		k->next = h->conns;
		if (h->conns)
			h->conns->prev = k;
		h->conns = k;
		pthread_mutex_unlock(&h->conn_lock);
		*socket_context = k;
		return;
	}
	struct conn *k = *socket_context;
	if (!k)
		return;
	/* Unlinked before libmicrohttpd closes the descriptor, so the
	 * watchdog never shuts down a reused one. */
	pthread_mutex_lock(&h->conn_lock);
	if (k->prev)
		k->prev->next = k->next;
	else
		h->conns = k->next;
	if (k->next)
		k->next->prev = k->prev;
	pthread_mutex_unlock(&h->conn_lock);
	if (k->counted)
		httpd_guard_put(h->guard, k->peer);
	if (k->client_held)
		httpd_guard_put(h->guard, k->client);
	buf_free(&k->target);
	buf_free(&k->body);
	free(k);
	*socket_context = NULL;
}

static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t len)
{
	struct httpd *h = cls;
	(void)len;
	char peer[HTTPD_ADDR_LEN];
	httpd_guard_addr(addr, peer);
	if (httpd_guard_is_proxy(h->guard, peer))
		return MHD_YES;
	/* Counted when the connection starts: a few accepts racing on the
	 * pool's threads may pass the limit by at most the pool size. */
	unsigned held = httpd_guard_held(h->guard, peer);
	if (held < h->cfg.per_ip_limit)
		return MHD_YES;
	atomic_fetch_add(&h->refused[RF_PER_ADDRESS], 1);
	log_event_limited(&lim_addr, LOG_WARN, "httpd.limit",
			  "connection from %s refused: it holds %u connections "
			  "(per-address limit)", peer, held);
	return MHD_NO;
}

static void on_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	/* Under a flood each refused connection would be one line. */
	if (strstr(msg, "connection limit"))
		log_event_limited(&lim_conn, LOG_WARN, "httpd.limit", "%s", msg);
	else
		log_event_limited(&lim_mhd, LOG_WARN, "httpd", "%s", msg);
}

/* ------------------------------------------------------------------ */
/* The watchdog of deadlines                                           */

static void *watchdog(void *arg)
{
	struct httpd *h = arg;
	int64_t next_sweep = 0;
	pthread_mutex_lock(&h->conn_lock);
	while (!h->wd_stop) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 250 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&h->wd_cond, &h->conn_lock, &ts);
		if (h->wd_stop)
			break;
		int64_t now = clock_mono_ms();
		unsigned cut = 0;
		for (struct conn *k = h->conns; k; k = k->next) {
			int64_t d = atomic_load(&k->deadline_ms);
			if (d && now > d && k->fd >= 0) {
				/* libmicrohttpd sees the end of the stream and
				 * closes the connection itself. */
				shutdown(k->fd, SHUT_RDWR);
				atomic_store(&k->deadline_ms, 0);
				cut++;
			}
		}
		pthread_mutex_unlock(&h->conn_lock);
		if (cut) {
			atomic_fetch_add(&h->refused[RF_SLOW], cut);
			log_event_limited(&lim_slow, LOG_WARN, "httpd.slow",
					  "closed %u connection%s that sent a request too slowly "
					  "(headers within %u s)", cut, cut == 1 ? "" : "s",
					  h->cfg.header_timeout);
		}
		if (now >= next_sweep) {
			httpd_guard_sweep(h->guard, now);
			next_sweep = now + 10000;
		}
		pthread_mutex_lock(&h->conn_lock);
	}
	pthread_mutex_unlock(&h->conn_lock);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Metrics and health of the server                                    */

void httpd_metrics(struct httpd *h, struct buf *b)
{
	buf_adds(b, "# HELP herald_http_requests_total HTTP requests by path class and status.\n"
		    "# TYPE herald_http_requests_total counter\n");
	for (size_t c = 0; c < h->nclasses; c++)
		for (size_t i = 0; i < NSTATUS; i++) {
			unsigned long long v = atomic_load_explicit(&h->requests[c][i],
								    memory_order_relaxed);
			if (!v)
				continue;
			if (i + 1 < NSTATUS)
				buf_printf(b, "herald_http_requests_total{class=\"%s\",status=\"%d\"} %llu\n",
					   h->classes[c], statuses[i], v);
			else
				buf_printf(b, "herald_http_requests_total{class=\"%s\",status=\"other\"} %llu\n",
					   h->classes[c], v);
		}
	buf_printf(b, "# HELP herald_http_response_bytes_total Response body bytes sent.\n"
		      "# TYPE herald_http_response_bytes_total counter\n"
		      "herald_http_response_bytes_total %llu\n",
		   (unsigned long long)atomic_load(&h->bytes));
	buf_adds(b, "# HELP herald_http_refused_total Connections and requests refused by a limit.\n"
		    "# TYPE herald_http_refused_total counter\n");
	for (size_t i = 0; i < RF_N; i++)
		buf_printf(b, "herald_http_refused_total{reason=\"%s\"} %llu\n", refusal_names[i],
			   (unsigned long long)atomic_load(&h->refused[i]));
	for (size_t i = 0; i < h->nmetrics; i++)
		h->metrics[i].fn(b, h->metrics[i].ctx);
}

void httpd_health(struct httpd *h, struct buf *b)
{
	for (size_t i = 0; i < h->nhealth; i++) {
		struct buf m;
		buf_init(&m);
		h->health[i].fn(&m, h->health[i].ctx);
		if (m.len)
			buf_printf(b, ",%s", m.data);
		buf_free(&m);
	}
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

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */

enum herald_rc httpd_new(const struct httpd_config *cfg, struct httpd **out,
			 struct herald_err *err)
{
	if (!cfg->listen || !*cfg->listen)
		return herald_err_set(err, H_EUSAGE, "no listen address");
	struct httpd *h = xcalloc(1, sizeof *h);
	h->cfg = *cfg;
	h->listen = xstrdup(cfg->listen);
	h->cfg.listen = h->listen;
	if (cfg->trust_proxy)
		h->cfg.trust_proxy = h->trust_proxy = xstrdup(cfg->trust_proxy);
	if (!h->cfg.conn_timeout)
		h->cfg.conn_timeout = 30;
	if (!h->cfg.header_timeout)
		h->cfg.header_timeout = 10;
	if (!h->cfg.conn_limit)
		h->cfg.conn_limit = 1024;
	if (!h->cfg.per_ip_limit)
		h->cfg.per_ip_limit = 64;
	if (!h->cfg.max_body)
		h->cfg.max_body = 64 * 1024;
	struct httpd_guard_config gc = { .per_ip_limit = h->cfg.per_ip_limit,
					 .trust_proxy = h->cfg.trust_proxy };
	enum herald_rc rc = httpd_guard_new(&gc, &h->guard, err);
	if (rc) {
		free(h->trust_proxy);
		free(h->listen);
		free(h);
		return rc;
	}
	h->classes[h->nclasses++] = xstrdup("other");
	h->classes[h->nclasses++] = xstrdup("route");
	pthread_mutex_init(&h->conn_lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->wd_cond, &ca);
	pthread_condattr_destroy(&ca);
	static const char nf[] = "not found\n";
	h->r404 = MHD_create_response_from_buffer(sizeof nf - 1, (void *)(uintptr_t)nf,
						  MHD_RESPMEM_PERSISTENT);
	if (!h->r404)
		abort();
	MHD_add_response_header(h->r404, "Content-Type", "text/plain; charset=utf-8");
	MHD_add_response_header(h->r404, "Cache-Control", "no-store");
	MHD_add_response_header(h->r404, "X-Content-Type-Options", "nosniff");
	*out = h;
	return H_OK;
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
		flags, 0, on_accept, h, on_request, h,
		MHD_OPTION_EXTERNAL_LOGGER, on_log, h,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, pool,
		MHD_OPTION_CONNECTION_TIMEOUT, h->cfg.conn_timeout,
		MHD_OPTION_CONNECTION_LIMIT, limit,
		/* Request headers beyond this memory get 431. */
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32 * 1024,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
		MHD_OPTION_END);
	if (!h->d)
		return herald_err_set(err, H_ERUNTIME,
				      "cannot listen on %s (address in use or not local?)",
				      h->cfg.listen);
	if (pthread_create(&h->watchdog, NULL, watchdog, h) != 0) {
		MHD_stop_daemon(h->d);
		h->d = NULL;
		return herald_err_set(err, H_ERUNTIME, "cannot start the HTTP watchdog thread");
	}
	h->wd_running = true;
	return H_OK;
}

void httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	if (h->wd_running) {
		pthread_mutex_lock(&h->conn_lock);
		h->wd_stop = true;
		pthread_cond_signal(&h->wd_cond);
		pthread_mutex_unlock(&h->conn_lock);
		pthread_join(h->watchdog, NULL);
	}
	if (h->d)
		MHD_stop_daemon(h->d);
	for (size_t i = 0; i < h->nroutes; i++) {
		free(h->routes[i].method);
		free(h->routes[i].path);
		for (size_t j = 0; j < h->routes[i].nargs; j++)
			free(h->routes[i].args[j].name);
		free(h->routes[i].args);
	}
	free(h->routes);
	for (size_t i = 0; i < h->nclasses; i++)
		free(h->classes[i]);
	free(h->metrics);
	free(h->health);
	MHD_destroy_response(h->r404);
	httpd_guard_free(h->guard);
	pthread_cond_destroy(&h->wd_cond);
	pthread_mutex_destroy(&h->conn_lock);
	free(h->trust_proxy);
	free(h->listen);
	free(h);
}
