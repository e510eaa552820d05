/*
 * web_evidence.c - GET /ack/TOKEN and GET /report (see web_evidence.h).
 *
 * The ack runs inside one write transaction on the service's connection
 * (store_begin holds its mutex), so "already acknowledged?" and the append
 * cannot race another click.  The report opens its own read-only
 * connection: it must not read inside a transaction another thread holds
 * open on the shared one.
 */
#include "herald/clock.h"
#include "herald/web_evidence.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "herald/httpd.h"
#include "herald/keys.h"
#include "herald/record.h"
#include "herald/report.h"
#include "herald/runtime.h"
#include "herald/store.h"
#include "herald/timeutil.h"
#include "herald/token.h"
#include "herald/util.h"

static void page_start(struct httpd_resp *resp, int status, const char *title)
{
	resp->status = status;
	resp->content_type = "text/html; charset=utf-8";
	buf_adds(&resp->headers,
		 "Cache-Control: no-store\r\n"
		 "Referrer-Policy: no-referrer\r\n"
		 "X-Robots-Tag: noindex\r\n"
		 "X-Content-Type-Options: nosniff\r\n"
		 "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n");
	buf_printf(&resp->body,
		   "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		   "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
		   "<title>%s</title><style>body{font:18px/1.5 system-ui,sans-serif;"
		   "max-width:36rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a;background:#fff}"
		   "h1{font-size:1.5rem}.ok{color:#1b6e35}</style></head><body><main>", title);
}

static void page_end(struct httpd_resp *resp)
{
	buf_adds(&resp->body, "</main></body></html>\n");
}

static void not_found(struct httpd_resp *resp)
{
	buf_reset(&resp->body);
	buf_reset(&resp->headers);
	page_start(resp, 404, "Link not valid");
	buf_adds(&resp->body, "<h1>This acknowledgement link is not valid</h1>"
			      "<p>Nothing was recorded. Use the link exactly as it came in "
			      "your message, or reply to its sender.</p>");
	page_end(resp);
}

static void server_error(struct httpd_resp *resp)
{
	buf_reset(&resp->body);
	buf_reset(&resp->headers);
	page_start(resp, 500, "Not recorded");
	buf_adds(&resp->body, "<h1>Your acknowledgement could not be recorded</h1>"
			      "<p>Please try the link again later.</p>");
	page_end(resp);
}

void web_evidence_ack(const struct httpd_req *req, struct httpd_resp *resp,
		      void *ctx)
{
	struct runtime *rt = ctx;
	char token[TOKEN_ACK_LEN + 1], ackid[TOKEN_ACKID_LEN + 1];
	const char *s = req->suffix ? req->suffix : "";
	size_t n = strcspn(s, "?#/");
	if (n != TOKEN_ACK_LEN || s[n] == '/') {
		not_found(resp);
		return;
	}
	memcpy(token, s, n);
	token[n] = '\0';
	if (!keys_ack_check(runtime_keys(rt), token, clock_now(), ackid)) {
		not_found(resp);
		return;
	}
	struct herald_err err;
	herald_err_clear(&err);
	if (store_begin(rt->store, &err)) {
		server_error(resp);
		return;
	}
	struct store_ack_target t;
	int64_t now = clock_now();
	bool found = store_ack_lookup(rt->store, ackid, &t, &err);
	bool recorded = false;
	if (found && !t.acked_at) {
		struct store_ack a = { .ackid = ackid, .delivery = t.delivery,
				       .communication = t.communication, .audience = t.audience,
				       .person = t.person, .at = now };
		enum herald_rc rc = store_ack_add(rt->store, &a, &err);
		if (rc)
			store_rollback(rt->store);
		else
			rc = store_commit(rt->store, &err);   /* unlocks either way */
		if (rc) {
			store_ack_target_free(&t);
			server_error(resp);
			return;
		}
		recorded = true;
	} else {
		store_rollback(rt->store);
	}
	if (!found) {
		if (err.rc)
			server_error(resp);
		else
			not_found(resp);
		return;
	}
	char when[32];
	format_rfc3339_utc(recorded ? now : t.acked_at, when, sizeof when);
	page_start(resp, 200, "Acknowledged");
	struct buf *b = &resp->body;
	buf_adds(b, "<h1 class=\"ok\">Thank you: acknowledged</h1><p>");
	if (recorded)
		buf_adds(b, "Your acknowledgement of <strong>");
	else
		buf_adds(b, "This message was already acknowledged: <strong>");
	buf_add_html(b, t.topic ? t.topic : t.communication);
	buf_adds(b, "</strong> (communication <code>");
	buf_add_html(b, t.communication);
	buf_adds(b, "</code>, audience <code>");
	buf_add_html(b, t.audience);
	buf_adds(b, "</code>)");
	buf_adds(b, recorded ? " was recorded at <time>" : " at <time>");
	buf_add_html(b, when);
	buf_adds(b, "</time> (UTC).</p><p>You can close this page.</p>");
	page_end(resp);
	store_ack_target_free(&t);
}

/* ------------------------------------------------------------- report */

static void unauthorized(struct httpd_resp *resp)
{
	resp->status = 401;
	resp->content_type = "text/plain; charset=utf-8";
	buf_adds(&resp->headers, "WWW-Authenticate: Bearer realm=\"herald\"\r\n"
				 "Cache-Control: no-store\r\n");
	buf_adds(&resp->body, "401 the report needs the admin token "
			      "(Authorization: Bearer TOKEN)\n");
}

static bool admin_ok(struct store *db, const char *authorization)
{
	unsigned char want[32], got[32];
	size_t len = 0;
	if (!store_meta_get(db, "admin_token_sha256", want, sizeof want, &len) || len != 32)
		return false;
	if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
		return false;
	const char *tok = authorization + 7;
	while (*tok == ' ')
		tok++;
	sha256(tok, strlen(tok), got);
	return ct_equal(want, got, 32);
}

/* Value of name=… in the query string of path (dates only: no decoding). */
static bool query_param(const char *path, const char *name, char *out, size_t cap)
{
	const char *q = strchr(path, '?');
	size_t nl = strlen(name);
	while (q) {
		q++;
		if (strncmp(q, name, nl) == 0 && q[nl] == '=') {
			size_t vl = strcspn(q + nl + 1, "&#");
			if (vl >= cap)
				return false;
			memcpy(out, q + nl + 1, vl);
			out[vl] = '\0';
			return true;
		}
		q = strchr(q, '&');
	}
	return false;
}

static bool parse_t(const char *s, int64_t *t)
{
	int64_t wall;
	if (parse_date(s, &wall)) {
		*t = wall;   /* midnight UTC */
		return true;
	}
	return parse_rfc3339(s, t);
}

void web_evidence_report(const struct httpd_req *req, struct httpd_resp *resp,
			 void *ctx)
{
	struct runtime *rt = ctx;
	struct herald_err err;
	herald_err_clear(&err);
	struct store *ro = NULL;
	struct store_open_opts roo = { .readonly = true };
	if (store_open(store_path(rt->store), &roo, &ro, &err)) {
		resp->status = 500;
		buf_adds(&resp->body, "500 the evidence database cannot be read\n");
		return;
	}
	if (!admin_ok(ro, httpd_header(req, "Authorization"))) {
		store_close(ro);
		unauthorized(resp);
		return;
	}
	struct report_opts o = { .plan = runtime_plan(rt), .now = clock_now() };
	char v[40];
	if (query_param(req->path, "from", v, sizeof v))
		o.has_from = parse_t(v, &o.from);
	if (query_param(req->path, "to", v, sizeof v))
		o.has_to = parse_t(v, &o.to);
	bool verified;
	if (report_render(ro, &o, &resp->body, &verified, &err)) {
		buf_reset(&resp->body);
		resp->status = 500;
		resp->content_type = "text/plain; charset=utf-8";
		buf_adds(&resp->body, "500 the report could not be made\n");
	} else {
		resp->status = 200;
		resp->content_type = "text/html; charset=utf-8";
		buf_adds(&resp->headers, "Cache-Control: no-store\r\n"
					 "Content-Security-Policy: default-src 'none'; "
					 "style-src 'unsafe-inline'; img-src data:\r\n");
	}
	store_close(ro);
}

void web_evidence_routes(struct httpd *h, struct runtime *rt)
{
	httpd_route(h, "GET", "/ack/", web_evidence_ack, rt);
	httpd_route(h, "GET", "/report?from=time&to=time", web_evidence_report, rt);
}
