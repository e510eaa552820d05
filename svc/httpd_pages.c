/*
 * httpd_pages.c - index, /healthz and /metrics (see httpd_pages.h).
 *
 * /healthz and the index say "degraded" when the database does not
 * answer or no plan is loaded; the other modules add their members
 * (httpd_health_source) and their metrics (httpd_metrics_source).
 */
#include "herald/httpd_pages.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "herald/clock.h"
#include "herald/httpd.h"
#include "herald/httpd_feeds.h"
#include "herald/plan.h"
#include "herald/planver.h"
#include "herald/runtime.h"
#include "herald/store.h"
#include "herald/util.h"
#include "herald/version.h"

struct pages {
	struct httpd *h;
	struct runtime *rt;
	struct httpd_feeds *feeds;
};

/* The one question the pages ask the store. */
static bool db_ok(struct runtime *rt)
{
	return rt->store && store_ping(rt->store, NULL) == H_OK;
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

/* The plan's approval (planver.h): "changed since approval" when its
 * content is not what was approved under its version or date. */
static void health_approval(struct pages *pg, const struct plan *p, struct buf *b)
{
	const struct planver_verdict *v = atomic_load(&pg->rt->approval);
	bool changed = p && v && v->changed;
	const char *a = !p ? NULL : !p->approved_by || !p->approved_on ? "not approved"
			  : changed ? "changed since approval" : "approved";
	buf_adds(b, ",\"content_sha256\":");
	buf_add_json(b, p ? p->content_sha256 : NULL);
	buf_adds(b, ",\"approval\":");
	buf_add_json(b, a);
	buf_printf(b, ",\"changed_since_approval\":%s", changed ? "true" : "false");
	if (changed) {
		buf_adds(b, ",\"approved_content_sha256\":");
		buf_add_json(b, v->approved_sha256);
	}
}

static void health_json(struct pages *pg, struct buf *b, bool *ok)
{
	const struct plan *p = runtime_plan(pg->rt);
	bool dbok = db_ok(pg->rt);
	bool writes = !store_writes_failing(pg->rt->store);
	struct buf conds;
	buf_init(&conds);
	size_t n = runtime_conditions_json(pg->rt, &conds);
	*ok = dbok && writes && p && n == 0;
	buf_printf(b, "{\"status\":\"%s\",\"plan\":{\"id\":", *ok ? "ok" : "degraded");
	buf_add_json(b, p ? p->id : NULL);
	buf_adds(b, ",\"version\":");
	buf_add_json(b, p ? p->version : NULL);
	buf_adds(b, ",\"sha256\":");
	buf_add_json(b, p ? p->sha256 : NULL);
	health_approval(pg, p, b);
	buf_printf(b, "},\"database\":\"%s\",\"uptime_seconds\":%lld,\"dry_run\":%s,"
		      "\"degraded\":",
		   !dbok ? "error" : writes ? "ok" : "writes failing",
		   (long long)(clock_now() - pg->rt->started),
		   pg->rt->dry_run ? "true" : "false");
	buf_add(b, conds.data, conds.len);
	buf_free(&conds);
	httpd_health(pg->h, b);
	buf_adds(b, ",\"version_herald\":\"" HERALD_VERSION "\"}\n");
}

struct index_ctx {
	struct buf *b;
	const char *base, *host;
};

static void index_feed(const char *audience, const char *name, void *ctx)
{
	struct index_ctx *x = ctx;
	struct buf *b = x->b;
	buf_adds(b, "<li>");
	buf_add_html(b, name);
	buf_adds(b, ": <a href=\"webcal://");
	buf_add_html(b, x->host);
	buf_adds(b, "/feeds/");
	buf_add_html(b, audience);
	buf_adds(b, ".ics\">subscribe</a> &middot; <a href=\"");
	buf_add_html(b, x->base);
	buf_adds(b, "/feeds/");
	buf_add_html(b, audience);
	buf_adds(b, ".ics\">download</a></li>\n");
}

/* The owner's name without an email address ("Dana Reyes <dana@x>" ->
 * "Dana Reyes"); "" when the owner is only an address. */
static void owner_name(const char *owner, char *out, size_t n)
{
	size_t len = strcspn(owner, "<");
	while (len && owner[len - 1] == ' ')
		len--;
	if (memchr(owner, '@', len))
		len = 0;
	snprintf(out, n, "%.*s", (int)len, owner);
}

/* Health as a sentence for people; /healthz has the details. */
static void health_sentence(struct pages *pg, struct buf *b)
{
	const struct plan *p = runtime_plan(pg->rt);
	bool dbok = db_ok(pg->rt);
	if (p && dbok) {
		buf_adds(b, "The service is running normally: plan version ");
		buf_add_html(b, p->version);
		buf_adds(b, " is loaded and calendars are up to date.");
	} else {
		buf_adds(b, "The service is degraded: ");
		buf_adds(b, !p ? "no plan is loaded" : "its records cannot be reached");
		buf_adds(b, ", so calendars may be out of date.");
	}
	if (pg->rt->dry_run)
		buf_adds(b, " This is a trial run: messages are recorded, not sent.");
}

static void on_index(const struct httpd_req *req, struct httpd_resp *resp, void *ctx)
{
	(void)req;
	struct pages *pg = ctx;
	struct buf *b = &resp->body;
	const struct plan *p = runtime_plan(pg->rt);
	const char *base = runtime_base_url(pg->rt, runtime_plan(pg->rt));
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
		char owner[200];
		owner_name(p->owner, owner, sizeof owner);
		if (*owner) {
			buf_adds(b, ". Owner: ");
			buf_add_html(b, owner);
		}
		buf_adds(b, ".</p>\n");
	}
	buf_adds(b, "<h2>Public calendar feeds</h2>\n<ul>\n");
	const char *host = strstr(base, "://");
	struct index_ctx x = { b, base, host ? host + 3 : base };
	if (!httpd_feeds_public(pg->feeds, index_feed, &x))
		buf_adds(b, "<li>None. Private feeds are shared with their audiences "
			    "(<code>herald feeds</code>).</li>\n");
	buf_adds(b, "</ul>\n<h2>Health</h2>\n<p>");
	health_sentence(pg, b);
	buf_adds(b, "</p>\n<p><small>herald " HERALD_VERSION "</small></p>\n</body></html>\n");
	resp->content_type = "text/html; charset=utf-8";
}

static void on_healthz(const struct httpd_req *req, struct httpd_resp *resp, void *ctx)
{
	(void)req;
	bool ok;
	health_json(ctx, &resp->body, &ok);
	resp->status = ok ? 200 : 503;
	resp->content_type = "application/json";
	buf_adds(&resp->headers, "Cache-Control: no-store\r\n");
}

static void on_metrics(const struct httpd_req *req, struct httpd_resp *resp, void *ctx)
{
	(void)req;
	struct pages *pg = ctx;
	struct buf *b = &resp->body;
	httpd_metrics(pg->h, b);
	const struct plan *p = runtime_plan(pg->rt);
	if (p) {
		/* sha256 stays the file's (dashboards use it); content_sha256 is
		 * the one plan history, show and diff name a version by. */
		buf_adds(b, "# HELP herald_plan_info The plan being served (sha256: of the file; "
			    "content_sha256: of its canonical JSON, as herald plan history).\n"
			    "# TYPE herald_plan_info gauge\nherald_plan_info{id=\"");
		prom_label(b, p->id);
		buf_adds(b, "\",version=\"");
		prom_label(b, p->version);
		buf_adds(b, "\",sha256=\"");
		prom_label(b, p->sha256);
		buf_adds(b, "\",content_sha256=\"");
		prom_label(b, p->content_sha256);
		buf_adds(b, "\"} 1\n");
	}
	buf_printf(b, "# HELP herald_uptime_seconds Seconds since the service started.\n"
		      "# TYPE herald_uptime_seconds gauge\nherald_uptime_seconds %lld\n"
		      "# HELP herald_database_up 1 if the database answers and takes writes.\n"
		      "# TYPE herald_database_up gauge\nherald_database_up %d\n",
		   (long long)(clock_now() - pg->rt->started),
		   db_ok(pg->rt) && !store_writes_failing(pg->rt->store) ? 1 : 0);
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

void httpd_pages_routes(struct httpd *h, struct runtime *rt, struct httpd_feeds *feeds)
{
	/* Lives as long as the process: the server keeps the pointer. */
	static struct pages pg;
	pg = (struct pages){ h, rt, feeds };
	httpd_route_class(h, "GET", "/", "index", on_index, &pg);
	httpd_route_class(h, "GET", "/healthz", "healthz", on_healthz, &pg);
	httpd_route_class(h, "GET", "/metrics", "metrics", on_metrics, &pg);
}
