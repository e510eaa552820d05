/*
 * web_evidence.c - /ack/TOKEN (a page, and its button) and GET /report
 * (see web_evidence.h).
 *
 * Opening an ack link never records: mail gateways, link previews and
 * chat unfurlers fetch every URL in a message before a person sees it.
 * Only the page's button, a POST from the same origin, records, inside
 * one write transaction on the service's connection (store_begin holds
 * its mutex), so "already acknowledged?" and the append cannot race
 * another click.  The report opens its own read-only
 * connection: it must not read inside a transaction another thread holds
 * open on the shared one.
 */
#include "herald/clock.h"
#include "herald/web_evidence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "herald/admin.h"
#include "herald/httpd.h"
#include "herald/keys.h"
#include "herald/log.h"
#include "herald/plan.h"
#include "herald/record.h"
#include "herald/report.h"
#include "herald/runtime.h"
#include "herald/store.h"
#include "herald/template.h"
#include "herald/timeutil.h"
#include "herald/token.h"
#include "herald/tz.h"
#include "herald/util.h"

/* The page's own rules: no script, a form that may only post here, never
 * framed (a framed button could be clicked for someone). */
#define ACK_CSP "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; " \
		"frame-ancestors 'none'; base-uri 'none'"

static void page_start(struct httpd_resp *resp, int status, const char *title)
{
	resp->status = status;
	resp->content_type = "text/html; charset=utf-8";
	buf_adds(&resp->headers,
		 "Cache-Control: no-store\r\n"
		 /* The URL holds the token: no other site may see it.  Not
		  * no-referrer, which makes a browser send "Origin: null" with
		  * the page's own form, that cross_site refuses. */
		 "Referrer-Policy: same-origin\r\n"
		 "X-Robots-Tag: noindex\r\n"
		 "X-Frame-Options: DENY\r\n"
		 "X-Content-Type-Options: nosniff\r\n"
		 "Content-Security-Policy: " ACK_CSP "\r\n");
	buf_printf(&resp->body,
		   "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		   "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
		   "<meta name=\"robots\" content=\"noindex\">"
		   "<title>%s</title><style>body{font:18px/1.5 system-ui,sans-serif;"
		   "max-width:36rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a;background:#fff}"
		   "h1{font-size:1.5rem;line-height:1.3}.ok{color:#1b6e35}.bad{color:#b00020}"
		   ".kicker{margin:0;color:#4a4a4a;font-size:.9rem;text-transform:uppercase;"
		   "letter-spacing:.05em}dl{display:grid;grid-template-columns:max-content 1fr;"
		   "gap:.2rem 1rem}dt{font-weight:600}dd{margin:0}"
		   "button{font:inherit;font-weight:600;padding:.7rem 1.4rem;border:0;"
		   "border-radius:.4rem;background:#1a5fb4;color:#fff;cursor:pointer}"
		   "button:focus{outline:3px solid #f5c211;outline-offset:2px}"
		   ".small{font-size:.9rem;color:#4a4a4a}h2{font-size:1.1rem}"
		   ".message{white-space:pre-wrap;overflow-wrap:anywhere;border-left:4px solid #d0d0d0;"
		   "padding:.2rem 0 .2rem 1rem;margin:0 0 1.5rem}"
		   "@media (max-width:30rem){dl{grid-template-columns:1fr}dd{margin-bottom:.4rem}}"
		   "</style></head><body><main>", title);
}

static void page_end(struct httpd_resp *resp)
{
	buf_adds(&resp->body, "</main></body></html>\n");
}

static void fail_page(struct httpd_resp *resp, int status, const char *title,
		      const char *h1, const char *text)
{
	buf_reset(&resp->body);
	buf_reset(&resp->headers);
	page_start(resp, status, title);
	buf_printf(&resp->body, "<h1 class=\"bad\">%s</h1><p>%s</p>", h1, text);
	page_end(resp);
}

static void not_found(struct httpd_resp *resp)
{
	fail_page(resp, 404, "Link not valid", "This acknowledgement link is not valid",
		  "Nothing was recorded. Use the link exactly as it came in your message, "
		  "or reply to its sender.");
}

static void server_error(struct httpd_resp *resp)
{
	fail_page(resp, 500, "Not recorded", "Your acknowledgement could not be recorded",
		  "Please try the link again later.");
}

/* ------------------------------------------------------ times in words */

static const char *const day_names[] = { "Monday", "Tuesday", "Wednesday", "Thursday",
					 "Friday", "Saturday", "Sunday" };
static const char *const month_names[] = { "January", "February", "March", "April", "May",
					   "June", "July", "August", "September", "October",
					   "November", "December" };

/* "Wednesday 10 June 2026 at 10:00 (Europe/London, UTC+01:00)": the zone
 * of the communication in the plan in force, else the plan's, else UTC. */
static void time_words(struct runtime *rt, const char *comm, int64_t t, char *out, size_t n)
{
	const struct plan *p = runtime_plan(rt);
	const struct tz *z = NULL;
	if (p) {
		long ci = comm ? plan_comm_index(p, comm) : -1;
		z = ci >= 0 ? plan_comm_tz(p, &p->comms[ci]) : p->tz;
	}
	int off = z ? tz_offset(z, t) : 0;
	int64_t wall = t + off;
	struct civil cv;
	secs_to_civil(wall, &cv);
	int64_t days = wall >= 0 ? wall / 86400 : (wall - 86399) / 86400;
	int aoff = off < 0 ? -off : off;
	snprintf(out, n, "%s %d %s %04d at %02d:%02d (%s, UTC%c%02d:%02d)",
		 day_names[weekday_from_days(days)], cv.day, month_names[cv.month - 1], cv.year,
		 cv.hour, cv.min, z ? tz_name(z) : "UTC", off < 0 ? '-' : '+', aoff / 3600,
		 aoff % 3600 / 60);
}

static void add_time(struct buf *b, struct runtime *rt, const char *comm, int64_t t)
{
	char iso[32], words[128];
	format_rfc3339_utc(t, iso, sizeof iso);
	time_words(rt, comm, t, words, sizeof words);
	buf_printf(b, "<time datetime=\"%s\">", iso);
	buf_add_html(b, words);
	buf_adds(b, "</time>");
}

/* ------------------------------------------------------------ the link */

/* The ack id of a valid token in the path, or false (404). */
static bool token_of(struct runtime *rt, const struct httpd_req *req,
		     char token[TOKEN_ACK_LEN + 1], char ackid[TOKEN_ACKID_LEN + 1])
{
	const char *s = req->suffix ? req->suffix : "";
	size_t n = strcspn(s, "?#");
	if (n != TOKEN_ACK_LEN || s[n])
		return false;
	memcpy(token, s, n);
	token[n] = '\0';
	return keys_ack_check(runtime_keys(rt), token, clock_now(), ackid);
}

static void dl(struct buf *b, const char *dt)
{
	buf_printf(b, "<dt>%s</dt><dd>", dt);
}

/* What the link is about: the communication, who sent it, to whom, when. */
static void describe(struct buf *b, struct runtime *rt, const struct store_ack_target *t)
{
	const struct plan *p = runtime_plan(rt);
	long ci = p ? plan_comm_index(p, t->communication) : -1;
	const struct plan_comm *c = ci >= 0 ? &p->comms[ci] : NULL;
	long ai = p ? plan_audience_index(p, t->audience) : -1;
	buf_adds(b, "<p class=\"kicker\">Please acknowledge</p><h1>");
	buf_add_html(b, t->topic ? t->topic : t->communication);
	buf_adds(b, "</h1>");
	if (c && c->description) {
		buf_adds(b, "<p>");
		buf_add_html(b, c->description);
		buf_adds(b, "</p>");
	}
	buf_adds(b, "<dl>");
	dl(b, "Communication");
	buf_adds(b, "<code>");
	buf_add_html(b, t->communication);
	buf_adds(b, "</code></dd>");
	if (c && c->owner) {
		dl(b, "From");
		buf_add_html(b, c->owner);
		buf_adds(b, "</dd>");
	}
	dl(b, "Plan");
	buf_add_html(b, t->plan_id);
	buf_adds(b, ", version ");
	buf_add_html(b, t->plan_version);
	buf_adds(b, "</dd>");
	if (t->occurrence) {
		dl(b, "When");
		add_time(b, rt, t->communication, t->occurrence);
		buf_adds(b, "</dd>");
	}
	dl(b, "Sent");
	if (t->sent_at)
		add_time(b, rt, t->communication, t->sent_at);
	else
		buf_adds(b, "not yet");
	buf_adds(b, "</dd>");
	dl(b, "To");
	if (t->recipient) {
		if (t->person && strcmp(t->person, t->recipient) != 0) {
			buf_add_html(b, t->person);
			buf_adds(b, " &lt;");
			buf_add_html(b, t->recipient);
			buf_adds(b, "&gt;");
		} else {
			buf_add_html(b, t->recipient);
		}
		buf_adds(b, ", in ");
	}
	buf_add_html(b, ai >= 0 && p->audiences[ai].name ? p->audiences[ai].name : t->audience);
	buf_adds(b, "</dd></dl>");
}

/*
 * The message the link came with, as sent: chat products cut long texts
 * and link here for the rest.  The note of a manual send is filled in;
 * the link itself is this page, its button below.
 */
static void message_text(struct buf *b, const struct store_ack_target *t)
{
	if (!t->text || !*t->text)
		return;
	struct template_late v = { .name = t->person ? t->person : t->audience,
				   .note = t->note ? t->note : "", .ack_url = "the button below" };
	struct buf text;
	buf_init(&text);
	template_fill_late(t->text, &v, &text);
	buf_adds(b, "<section aria-labelledby=\"msg\"><h2 id=\"msg\">The message</h2>"
		    "<div class=\"message\" id=\"message\">");
	buf_add_html(b, text.data ? text.data : "");
	buf_adds(b, "</div></section>");
	buf_free(&text);
}

static bool lookup(struct runtime *rt, const char *ackid, struct store_ack_target *t,
		   struct httpd_resp *resp)
{
	struct herald_err err;
	herald_err_clear(&err);
	if (store_ack_lookup(rt->store, ackid, t, &err))
		return true;
	if (err.rc)
		server_error(resp);
	else
		not_found(resp);
	return false;
}

void web_evidence_ack_page(const struct httpd_req *req, struct httpd_resp *resp,
			   void *ctx)
{
	struct runtime *rt = ctx;
	char token[TOKEN_ACK_LEN + 1], ackid[TOKEN_ACKID_LEN + 1];
	struct store_ack_target t;
	if (!token_of(rt, req, token, ackid)) {
		not_found(resp);
		return;
	}
	if (!lookup(rt, ackid, &t, resp))
		return;
	page_start(resp, 200, t.acked_at ? "Already acknowledged" : "Please acknowledge");
	struct buf *b = &resp->body;
	describe(b, rt, &t);
	message_text(b, &t);
	if (t.acked_at) {
		buf_adds(b, "<p class=\"ok\" role=\"status\" id=\"acked\">You already acknowledged "
			    "this on ");
		add_time(b, rt, t.communication, t.acked_at);
		buf_adds(b, ". Nothing more is needed: you can close this page.</p>");
	} else {
		buf_printf(b, "<form method=\"post\" action=\"/ack/%s\">"
			      "<input type=\"hidden\" name=\"confirm\" value=\"read\">"
			      "<button type=\"submit\">I have read this</button></form>"
			      "<p class=\"small\">Pressing the button records, with the time, that "
			      "you have read this. Opening this page records nothing.</p>", token);
	}
	page_end(resp);
	store_ack_target_free(&t);
}

/* ---------------------------------------------------------------- POST */

/* "scheme://host[:port]" of url into out; false if it has none. */
static bool origin_of(const char *url, char *out, size_t n)
{
	const char *p = url ? strstr(url, "://") : NULL;
	if (!p)
		return false;
	size_t len = (size_t)(p + 3 - url) + strcspn(p + 3, "/?#");
	if (len >= n)
		return false;
	memcpy(out, url, len);
	out[len] = '\0';
	return true;
}

/*
 * A POST from another site: Sec-Fetch-Site other than same-origin (or
 * none: typed by the person), an Origin of "null", or an Origin that is
 * neither the base URL's nor the Host this request was sent to.  Clients
 * that send neither header (curl, old browsers) are not refused: the
 * token is the capability, and no cookie rides along.
 */
static bool cross_site(struct runtime *rt, const struct httpd_req *req)
{
	const char *sfs = httpd_header(req, "Sec-Fetch-Site");
	if (sfs && strcasecmp(sfs, "same-origin") != 0 && strcasecmp(sfs, "none") != 0)
		return true;
	const char *origin = httpd_header(req, "Origin");
	if (!origin)
		return false;
	char base[256];
	if (origin_of(rt->base_url, base, sizeof base) && strcasecmp(origin, base) == 0)
		return false;
	const char *host = httpd_header(req, "Host");
	const char *o = strstr(origin, "://");
	return !(host && o && strcasecmp(o + 3, host) == 0 &&
		 (strncasecmp(origin, "http://", 7) == 0 || strncasecmp(origin, "https://", 8) == 0));
}

/* The form's one field, confirm=read, among any others. */
static bool form_confirms(const char *body, size_t len)
{
	if (strlen(body) != len)
		return false;   /* a NUL inside */
	for (const char *p = body; *p;) {
		size_t n = strcspn(p, "&");
		if (n == 12 && strncmp(p, "confirm=read", 12) == 0)
			return true;
		p += n + (p[n] == '&');
	}
	return false;
}

/*
 * Records the acknowledgement in one write transaction (store_begin
 * holds the mutex), so "already acknowledged?" and the append cannot race
 * another click.  *recorded says whether this call recorded it.
 */
static bool record(struct runtime *rt, const char *ackid, struct store_ack_target *t,
		   bool *recorded, int64_t now, struct httpd_resp *resp)
{
	struct herald_err err;
	herald_err_clear(&err);
	*recorded = false;
	if (store_begin(rt->store, &err)) {
		server_error(resp);
		return false;
	}
	bool found = store_ack_lookup(rt->store, ackid, t, &err);
	if (!found) {
		store_rollback(rt->store);
		if (err.rc)
			server_error(resp);
		else
			not_found(resp);
		return false;
	}
	if (t->acked_at) {
		store_rollback(rt->store);
		return true;
	}
	struct store_ack a = { .ackid = ackid, .delivery = t->delivery,
			       .communication = t->communication, .audience = t->audience,
			       .person = t->person, .at = now };
	enum herald_rc rc = store_ack_add(rt->store, &a, &err);
	if (rc)
		store_rollback(rt->store);
	else
		rc = store_commit(rt->store, &err);   /* unlocks either way */
	if (rc) {
		store_ack_target_free(t);
		server_error(resp);
		return false;
	}
	*recorded = true;
	t->acked_at = now;
	return true;
}

void web_evidence_ack(const struct httpd_req *req, struct httpd_resp *resp,
		      void *ctx)
{
	struct runtime *rt = ctx;
	char token[TOKEN_ACK_LEN + 1], ackid[TOKEN_ACKID_LEN + 1];
	if (!token_of(rt, req, token, ackid)) {
		not_found(resp);
		return;
	}
	if (req->body_len > WEB_ACK_MAX_BODY) {
		fail_page(resp, 413, "Not recorded", "Nothing was recorded",
			  "The confirmation was larger than the form sends. Open the link from "
			  "your message and press the button there.");
		return;
	}
	if (cross_site(rt, req)) {
		log_event(LOG_WARN, "ack.cross-site", "confirmation from another site refused "
			  "(client %s)", req->remote ? req->remote : "?");
		fail_page(resp, 403, "Not recorded", "Nothing was recorded",
			  "This confirmation came from another site. Open the link from your "
			  "message and press the button on its page.");
		return;
	}
	const char *ct = httpd_header(req, "Content-Type");
	if (ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
		fail_page(resp, 415, "Not recorded", "Nothing was recorded",
			  "The confirmation is the page's form (application/x-www-form-urlencoded). "
			  "Open the link from your message and press the button there.");
		return;
	}
	if (!form_confirms(req->body, req->body_len)) {
		fail_page(resp, 400, "Not recorded", "Nothing was recorded",
			  "The confirmation did not say \"confirm=read\" as the page's button "
			  "does. Open the link from your message and press the button there.");
		return;
	}
	struct store_ack_target t;
	bool recorded;
	int64_t now = clock_now();
	if (!record(rt, ackid, &t, &recorded, now, resp))
		return;
	if (recorded)
		log_event(LOG_INFO, "ack.recorded", "%s audience=%s acknowledged", t.communication,
			  t.audience);
	page_start(resp, 200, "Acknowledged");
	struct buf *b = &resp->body;
	buf_adds(b, "<p class=\"kicker\">Acknowledgement</p><h1 class=\"ok\">Thank you: "
		    "acknowledged</h1><p role=\"status\" id=\"acked\">");
	buf_adds(b, recorded ? "Your acknowledgement of <strong>"
			     : "This was already acknowledged: <strong>");
	buf_add_html(b, t.topic ? t.topic : t.communication);
	buf_adds(b, "</strong>");
	buf_adds(b, recorded ? " was recorded on " : ", on ");
	add_time(b, rt, t.communication, t.acked_at);
	buf_adds(b, ".</p><p>You can close this page.</p>");
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
	if (!admin_check_store(ro, httpd_header(req, "Authorization"))) {
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
	httpd_route(h, "GET", "/ack/", web_evidence_ack_page, rt);
	httpd_route(h, "POST", "/ack/", web_evidence_ack, rt);
	httpd_route(h, "GET", "/report?from=time&to=time", web_evidence_report, rt);
}
