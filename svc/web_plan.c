/*
 * web_plan.c - GET /plan (see web_plan.h).
 *
 * The admin token's hash is read on a read-only connection of the
 * request's own, as /report does: the shared connection may be inside
 * another thread's transaction.
 */
#include "herald/web_plan.h"

#include "herald/admin.h"
#include "herald/clock.h"
#include "herald/httpd.h"
#include "herald/plandoc.h"
#include "herald/planver.h"
#include "herald/runtime.h"
#include "herald/store.h"
#include "herald/util.h"

static bool admin_ok(struct runtime *rt, const char *authorization, bool *db_ok)
{
	struct herald_err err;
	herald_err_clear(&err);
	struct store *ro = NULL;
	struct store_open_opts roo = { .readonly = true };
	*db_ok = store_open(store_path(rt->store), &roo, &ro, &err) == H_OK;
	if (!*db_ok)
		return false;
	bool ok = admin_check_store(ro, authorization);
	store_close(ro);
	return ok;
}

/* What the approval rule found, in words, or nothing when the plan in
 * force is the approved content. */
static void approval_notice(const struct planver_verdict *v, struct buf *out)
{
	if (!v || !v->changed)
		return;
	buf_printf(out, "This content differs from what was approved under the same %s",
		   v->same_version ? "version" : "approval date");
	if (v->approved_version[0])
		buf_printf(out, " (version %s", v->approved_version);
	if (v->approved_on[0])
		buf_printf(out, "%sapproved on %s", v->approved_version[0] ? ", " : " (", v->approved_on);
	if (v->approved_version[0] || v->approved_on[0])
		buf_printf(out, ", content SHA-256 %.12s)", v->approved_sha256);
	buf_adds(out, ": give the plan a new version and approval date once it is approved.");
}

void web_plan_page(const struct httpd_req *req, struct httpd_resp *resp, void *ctx)
{
	struct runtime *rt = ctx;
	bool db_ok;
	if (!admin_ok(rt, httpd_header(req, "Authorization"), &db_ok)) {
		resp->content_type = "text/plain; charset=utf-8";
		buf_adds(&resp->headers, "Cache-Control: no-store\r\n");
		if (!db_ok) {
			resp->status = 500;
			buf_adds(&resp->body, "500 the evidence database cannot be read\n");
			return;
		}
		resp->status = 401;
		buf_adds(&resp->headers, "WWW-Authenticate: Bearer realm=\"herald\"\r\n");
		buf_adds(&resp->body, "401 the plan document needs the admin token "
				      "(Authorization: Bearer TOKEN)\n");
		return;
	}
	const struct plan *p = runtime_plan(rt);
	resp->status = 200;
	resp->content_type = "text/html; charset=utf-8";
	buf_adds(&resp->headers, "Cache-Control: no-store\r\n"
				 "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n");
	struct buf notice;
	buf_init(&notice);
	approval_notice(atomic_load(&rt->approval), &notice);
	plandoc_render_html_notice(p, clock_now(), notice.len ? notice.data : NULL, &resp->body);
	buf_free(&notice);
}

void web_plan_routes(struct httpd *h, struct runtime *rt)
{
	httpd_route(h, "GET", "/plan", web_plan_page, rt);
}
