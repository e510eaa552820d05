/*
 * web_api.c - POST /api/communications/ID/send (see web_api.h).
 *
 * The handler runs on an HTTP thread: it checks the token and the body,
 * judges the send by the rules `herald send` follows too
 * (outbox_manual_check), then hands it to the dispatcher
 * (dispatcher_send_manual), which records the deliveries and wakes its
 * loop; the answer lists them, queued.
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
#include "herald/outbox.h"
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

/* A send request as read from the body (strings owned). */
struct send_body {
	char *by, *note;
	bool drill, out_of_turn;
};

static void send_body_free(struct send_body *b)
{
	free(b->by);
	free(b->note);
}

/* Reads the body into b; false with msg (naming the key) if it is not
 * {"by": …, "note": …, "drill": …, "out_of_turn": …}. */
static bool read_body(const struct httpd_req *req, struct send_body *b, char *msg, size_t n)
{
	static const char *const keys[] = { "by", "note", "drill", "out_of_turn" };
	memset(b, 0, sizeof *b);
	if (!req->body || !req->body_len) {
		snprintf(msg, n, "by: the body is JSON {\"by\": NAME, \"note\": TEXT, \"drill\": "
			 "false, \"out_of_turn\": false}; \"by\" names who asks");
		return false;
	}
	json_error_t je;
	json_t *j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
	if (!j || !json_is_object(j)) {
		snprintf(msg, n, "the body is not a JSON object%s%s", j ? "" : ": ", j ? "" : je.text);
		json_decref(j);
		return false;
	}
	bool ok = true;
	const char *k;
	json_t *v;
	json_object_foreach(j, k, v) {
		size_t i = 0;
		while (i < 4 && strcmp(keys[i], k) != 0)
			i++;
		if (i == 4) {
			snprintf(msg, n, "%.60s: unknown key (known: by, note, drill, out_of_turn)", k);
			ok = false;
		} else if (i < 2 && !json_is_string(v) && !json_is_null(v)) {
			snprintf(msg, n, "%s: expected a string", k);
			ok = false;
		} else if (i >= 2 && !json_is_boolean(v)) {
			snprintf(msg, n, "%s: expected true or false", k);
			ok = false;
		}
		if (!ok)
			break;
		if (i < 2 && json_is_string(v)) {
			/* a NUL inside the string would cut the text short */
			if (strlen(json_string_value(v)) != json_string_length(v)) {
				snprintf(msg, n, "%s: contains a NUL character", k);
				ok = false;
				break;
			}
			*(i == 0 ? &b->by : &b->note) = xstrdup(json_string_value(v));
		} else if (i == 2) {
			b->drill = json_is_true(v);
		} else if (i == 3) {
			b->out_of_turn = json_is_true(v);
		}
	}
	json_decref(j);
	if (!ok)
		send_body_free(b);
	return ok;
}

/* The answer: what was queued, one entry per delivery. */
static void answer(struct httpd_resp *resp, const char *id, const struct outbox_manual *m,
		   const char *who, const struct outbox_made *made, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s?,s:s}", "key", made[i].key,
						     "audience", made[i].audience, "channel",
						     made[i].channel, "recipient", made[i].recipient,
						     "state", "queued"));
	json_t *j = json_pack("{s:s,s:s,s:s,s:s?,s:b,s:o}", "communication", id, "kind",
			      m->drill ? "drill" : "manual", "requested_by", who, "note", m->note,
			      "dry_run", m->dry_run, "deliveries", arr);
	char *out = json_dumps(j, JSON_COMPACT);
	resp->status = 202;
	resp->content_type = "application/json";
	buf_adds(&resp->body, out);
	buf_addc(&resp->body, '\n');
	free(out);
	json_decref(j);
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
	if (ci < 0) {
		json_error(resp, 404, "no communication with that id");
		return;
	}
	struct send_body b;
	char msg[HERALD_ERR_LEN];
	if (!read_body(req, &b, msg, sizeof msg)) {
		json_error(resp, 400, msg);
		return;
	}
	char via[96];
	snprintf(via, sizeof via, "API, %s", req->remote ? req->remote : "?");
	struct outbox_manual m = {
		.by = b.by, .via = via, .note = b.note, .drill = b.drill,
		.out_of_turn = b.out_of_turn, .dry_run = a->rt->dry_run,
		.base_url = runtime_base_url(a->rt, p),
		/* Idempotency-Key (issue 9): a request id derived from it goes
		 * here; the same id makes the same keys, and no new deliveries. */
		.request = NULL,
	};
	const struct plan_comm *c = &p->comms[ci];
	struct herald_err err;
	herald_err_clear(&err);
	struct outbox_made *made = NULL;
	size_t n = 0;
	enum herald_rc rc = outbox_manual_check(p, c, &m, &err);
	if (rc) {
		json_error(resp, rc == H_EUSAGE ? 400 : 409, err.msg);
		send_body_free(&b);
		return;
	}
	char who[OUTBOX_BY_MAX + 200];
	outbox_requested_by(&m, who, sizeof who);
	if (dispatcher_send_manual(a->d, p, c, &m, &made, &n, &err)) {
		log_event(LOG_ERROR, "send.error", "manual send %s: %s", id, err.msg);
		send_body_free(&b);
		json_error(resp, 500, "could not queue the deliveries");
		return;
	}
	log_event(LOG_INFO, "send.queued", "%s %s queued: %zu deliver%s, requested by %s%s",
		  m.drill ? "drill of" : "manual send", id, n, n == 1 ? "y" : "ies", who,
		  m.dry_run ? " (dry-run: recorded, not sent)" : "");
	answer(resp, id, &m, who, made, n);
	free(made);
	send_body_free(&b);
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
