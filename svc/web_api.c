/*
 * web_api.c - POST /api/communications/ID/send (see web_api.h).
 *
 * The handler runs on an HTTP thread: it checks the token and the body,
 * then hands the send to the dispatcher (dispatcher_send_manual), which
 * records the deliveries and wakes its loop; the answer lists their keys.
 */
#include "herald/web_api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/admin.h"
#include "herald/dispatcher.h"
#include "herald/httpd.h"
#include "herald/log.h"
#include "herald/plan.h"
#include "herald/runtime.h"
#include "herald/util.h"

struct web_api {
	struct runtime *rt;
	struct dispatcher *d;
	unsigned char admin[32];
};

static void json_error(struct httpd_resp *resp, int status, const char *msg)
{
	resp->status = status;
	resp->content_type = "application/json";
	json_t *j = json_pack("{s:s}", "error", msg);
	char *s = json_dumps(j, JSON_COMPACT);
	buf_adds(&resp->body, s);
	buf_addc(&resp->body, '\n');
	free(s);
	json_decref(j);
}

/* The optional body {"note": TEXT}: false if it is anything else. */
static bool read_note(const struct httpd_req *req, char **note)
{
	*note = NULL;
	if (!req->body || !req->body_len)
		return true;
	json_error_t je;
	json_t *j = json_loadb(req->body, req->body_len, 0, &je);
	json_t *n = j ? json_object_get(j, "note") : NULL;
	bool ok = j && json_is_object(j) && (!n || json_is_string(n));
	if (ok && n)
		*note = xstrdup(json_string_value(n));
	json_decref(j);
	return ok;
}

static void on_send(const struct httpd_req *req, struct httpd_resp *resp, void *ctx)
{
	struct web_api *a = ctx;
	if (!admin_check(a->admin, httpd_header(req, "Authorization"))) {
		buf_adds(&resp->headers, "WWW-Authenticate: Bearer realm=\"herald\"\r\n");
		json_error(resp, 401, "an admin bearer token is required");
		return;
	}
	/* suffix: "ID/send" */
	const char *s = req->suffix ? req->suffix : "";
	const char *slash = strchr(s, '/');
	if (!slash || strcmp(slash, "/send") != 0 || slash == s || slash - s > 200) {
		json_error(resp, 404, "no such communication");
		return;
	}
	char id[256];
	snprintf(id, sizeof id, "%.*s", (int)(slash - s), s);
	const struct plan *p = runtime_plan(a->rt);
	long ci = plan_comm_index(p, id);
	if (ci < 0 || p->comms[ci].sched.kind != SCHED_MANUAL) {
		json_error(resp, 404, "no manual communication with that id");
		return;
	}
	char *note;
	if (!read_note(req, &note)) {
		json_error(resp, 400, "the body is optional JSON {\"note\": \"...\"}");
		return;
	}
	char who[128];
	snprintf(who, sizeof who, "admin (API, %s)", req->remote ? req->remote : "?");
	char **keys = NULL;
	size_t nkeys = 0;
	struct herald_err err;
	herald_err_clear(&err);
	if (dispatcher_send_manual(a->d, p, &p->comms[ci], who, note, &keys, &nkeys, &err)) {
		log_event(LOG_ERROR, "send.error", "manual send %s: %s", id, err.msg);
		free(note);
		json_error(resp, 500, "could not queue the deliveries");
		return;
	}
	log_event(LOG_INFO, "send.queued", "manual send %s queued: %zu deliver%s, requested by %s",
		  id, nkeys, nkeys == 1 ? "y" : "ies", who);
	json_t *arr = json_array();
	for (size_t i = 0; i < nkeys; i++) {
		json_array_append_new(arr, json_string(keys[i]));
		free(keys[i]);
	}
	free(keys);
	json_t *j = json_pack("{s:s,s:o,s:s?}", "communication", id, "deliveries", arr,
			      "note", note);
	char *out = json_dumps(j, JSON_COMPACT);
	resp->status = 202;
	resp->content_type = "application/json";
	buf_adds(&resp->body, out);
	buf_addc(&resp->body, '\n');
	free(out);
	json_decref(j);
	free(note);
}

enum herald_rc web_api_new(struct httpd *h, struct runtime *rt, struct dispatcher *d,
			   struct web_api **out, struct herald_err *err)
{
	struct web_api *a = xcalloc(1, sizeof *a);
	a->rt = rt;
	a->d = d;
	enum herald_rc rc = admin_init(rt->store, a->admin, err);
	if (rc) {
		free(a);
		return rc;
	}
	httpd_route(h, "POST", "/api/communications/", on_send, a);
	*out = a;
	return H_OK;
}

void web_api_free(struct web_api *a)
{
	if (a)
		explicit_bzero(a->admin, sizeof a->admin);
	free(a);
}
