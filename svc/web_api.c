/*
 * web_api.c - POST /api/communications/ID/send (see web_api.h).
 *
 * The handler runs on an HTTP thread: it checks the token and the body,
 * judges the send by the rules `herald send` follows too
 * (outbox_manual_check), then hands it to the dispatcher
 * (dispatcher_send_manual), which records the deliveries and wakes its
 * loop; the answer lists them, queued.
 *
 * Idempotency-Key: the first request with a key takes it (store_idem_take)
 * and gets a request id of its own, from which its delivery keys derive;
 * the same key again within 24 h gets the first answer back, and before
 * that answer exists (a retry racing the first, or one after a crash) it
 * runs with the same request id, which makes no new deliveries.  The same
 * key with another request is refused (422).  Only a 202 is kept: a
 * refused send may be asked again, under the same key, once fixed.
 */
#include "herald/web_api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/admin.h"
#include "herald/clock.h"
#include "herald/dispatcher.h"
#include "herald/httpd.h"
#include "herald/keys.h"
#include "herald/log.h"
#include "herald/outbox.h"
#include "herald/plan.h"
#include "herald/runtime.h"
#include "herald/store.h"
#include "herald/token.h"
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

#define IDEM_KEY_MAX 255
#define IDEM_SECONDS 86400

/* An Idempotency-Key taken (or replayed) for one request. */
struct idem {
	bool given;
	bool taken;                   /* this request made the entry */
	unsigned char key[32];        /* SHA-256 of the client's key */
	struct store_idem entry;
};

/* The fingerprint of what a request asks: the same fields, the same send. */
static void idem_fingerprint(const char *id, const struct send_body *b, unsigned char out[32])
{
	struct buf f;
	buf_init(&f);
	buf_add(&f, id, strlen(id) + 1);
	buf_add(&f, b->by ? "1" : "0", 1);
	buf_add(&f, b->by ? b->by : "", b->by ? strlen(b->by) + 1 : 1);
	buf_add(&f, b->note ? "1" : "0", 1);
	buf_add(&f, b->note ? b->note : "", b->note ? strlen(b->note) + 1 : 1);
	buf_addc(&f, b->drill ? 'd' : '-');
	buf_addc(&f, b->out_of_turn ? 'o' : '-');
	sha256(f.data, f.len, out);
	buf_free(&f);
}

/*
 * Takes the request's Idempotency-Key, if it has one: false when the
 * answer is already in resp (a bad key, one used for another request, a
 * replay, a database failure).
 */
static bool idem_take(struct web_api *a, const struct httpd_req *req, const char *id,
		      const struct send_body *b, struct idem *x, struct httpd_resp *resp)
{
	memset(x, 0, sizeof *x);
	const char *k = httpd_header(req, "Idempotency-Key");
	if (!k)
		return true;
	size_t n = strlen(k);
	bool ok = n >= 1 && n <= IDEM_KEY_MAX;
	for (size_t i = 0; ok && i < n; i++)
		ok = k[i] >= 0x20 && k[i] < 0x7f;
	if (!ok) {
		json_error(resp, 400, "Idempotency-Key: 1 to 255 printable ASCII characters");
		return false;
	}
	x->given = true;
	struct buf h;
	buf_init(&h);
	buf_adds(&h, "herald idempotency key\n");
	buf_add(&h, k, n);
	sha256(h.data, h.len, x->key);
	buf_free(&h);
	int64_t now = clock_now();
	struct store_idem fresh = { .at = now };
	idem_fingerprint(id, b, fresh.fingerprint);
	unsigned char rnd[16];
	char hex[33];
	random_bytes(rnd, sizeof rnd);
	hex_encode(rnd, sizeof rnd, hex);
	snprintf(fresh.request, sizeof fresh.request, "idem:%s", hex);
	struct herald_err err;
	herald_err_clear(&err);
	if (store_idem_take(a->rt->store, x->key, &fresh, now - IDEM_SECONDS, &x->entry, &err)) {
		log_event(LOG_ERROR, "send.error", "manual send %s: %s", id, err.msg);
		json_error(resp, 503, "the database refuses writes: try again with the same "
			   "Idempotency-Key");
		return false;
	}
	x->taken = strcmp(x->entry.request, fresh.request) == 0;
	if (memcmp(x->entry.fingerprint, fresh.fingerprint, 32) != 0) {
		json_error(resp, 422, "Idempotency-Key was used for another request in the last "
			   "24 hours: use a new key for a new request");
		return false;
	}
	if (x->entry.status && x->entry.body) {
		resp->status = x->entry.status;
		resp->content_type = "application/json";
		buf_adds(&resp->body, x->entry.body);
		buf_adds(&resp->headers, "Idempotent-Replayed: true\r\n");
		log_event(LOG_INFO, "send.replayed", "manual send %s: the answer of the first "
			  "request with this Idempotency-Key, sent again", id);
		return false;
	}
	return true;
}

/* A refused request is not kept: its key serves the corrected one. */
static void idem_release(struct web_api *a, const struct idem *x)
{
	if (!x->given || !x->taken)
		return;
	struct herald_err err;
	herald_err_clear(&err);
	if (store_idem_release(a->rt->store, x->key, x->entry.request, &err))
		log_event(LOG_WARN, "send.idempotency", "a refused request's Idempotency-Key "
			  "could not be given back (it answers 422 for a day): %s", err.msg);
}

/* Keeps a 202 for the key's later requests. */
static void idem_answer(struct web_api *a, const struct idem *x, const struct httpd_resp *resp)
{
	if (!x->given || resp->status != 202)
		return;
	struct herald_err err;
	herald_err_clear(&err);
	if (store_idem_answer(a->rt->store, x->key, resp->status,
			      resp->body.data ? resp->body.data : "", &err))
		log_event(LOG_WARN, "send.idempotency", "the answer could not be kept for its "
			  "Idempotency-Key (a retry makes no new deliveries, but lists them "
			  "again): %s", err.msg);
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
	};
	struct idem x;
	if (!idem_take(a, req, id, &b, &x, resp)) {
		store_idem_free(&x.entry);
		send_body_free(&b);
		return;
	}
	if (x.given)
		m.request = x.entry.request;
	const struct plan_comm *c = &p->comms[ci];
	struct herald_err err;
	herald_err_clear(&err);
	struct outbox_made *made = NULL;
	size_t n = 0;
	enum herald_rc rc = outbox_manual_check(p, c, &m, &err);
	char who[OUTBOX_BY_MAX + 200];
	outbox_requested_by(&m, who, sizeof who);
	if (rc) {
		json_error(resp, rc == H_EUSAGE ? 400 : 409, err.msg);
		idem_release(a, &x);
	} else if (dispatcher_send_manual(a->d, p, c, &m, &made, &n, &err)) {
		log_event(LOG_ERROR, "send.error", "manual send %s: %s", id, err.msg);
		json_error(resp, 500, "could not queue the deliveries");
	} else {
		log_event(LOG_INFO, "send.queued", "%s %s queued: %zu deliver%s, requested by %s%s",
			  m.drill ? "drill of" : "manual send", id, n, n == 1 ? "y" : "ies", who,
			  m.dry_run ? " (dry-run: recorded, not sent)" : "");
		answer(resp, id, &m, who, made, n);
		idem_answer(a, &x, resp);
	}
	free(made);
	store_idem_free(&x.entry);
	send_body_free(&b);
}

enum herald_rc web_api_new(struct httpd *h, struct runtime *rt, struct dispatcher *d,
			   struct web_api **out, struct herald_err *err)
{
	struct web_api *a = xcalloc(1, sizeof *a);
	a->rt = rt;
	a->d = d;
	enum herald_rc rc = admin_init(rt->store, runtime_keys(rt)->dir, a->admin, err);
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
