/*
 * chan_webhook.c - generic webhooks: a JSON POST (docs/webhook.md), signed
 * the Standard Webhooks way when the channel has a secret.
 *
 * 2xx is success; 408, 429 and 5xx are temporary; any other status is
 * permanent (the receiver refuses this message and would refuse it again).
 * Every header value is a secret (masked in logs and outcomes).
 */
#include <ctype.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "herald/chan_backend.h"
#include "herald/plan.h"
#include "herald/plan_chan.h"
#include "herald/plan_json.h"
#include "herald/timeutil.h"

static void add_str(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, v ? json_string(v) : json_null());
}

void chan_webhook_payload(const struct chan_msg *m, struct buf *out)
{
	json_t *j = json_object();
	add_str(j, "type", "herald.communication");
	add_str(j, "delivery", m->key);
	add_str(j, "kind", m->kind);
	json_t *plan = json_object();
	add_str(plan, "id", m->plan_id);
	add_str(plan, "title", m->plan_title);
	add_str(plan, "version", m->plan_version);
	json_object_set_new(j, "plan", plan);
	json_t *c = json_object();
	add_str(c, "id", m->communication);
	add_str(c, "topic", m->topic);
	add_str(c, "description", m->description);
	add_str(c, "owner", m->owner);
	json_object_set_new(j, "communication", c);
	json_t *a = json_object();
	add_str(a, "id", m->audience);
	add_str(a, "name", m->audience_name);
	json_object_set_new(j, "audience", a);
	if (m->start) {
		char s[40], e[40];
		format_rfc3339_utc(m->start, s, sizeof s);
		format_rfc3339_utc(m->end, e, sizeof e);
		json_t *o = json_object();
		add_str(o, "start", s);
		add_str(o, "end", e);
		add_str(o, "timezone", m->tzid);
		add_str(o, "local", m->when);
		json_object_set_new(j, "occurrence", o);
	} else {
		json_object_set_new(j, "occurrence", json_null());
	}
	struct buf text;
	buf_init(&text);
	chan_text_plain(m, &text);
	add_str(j, "message", text.data ? text.data : "");
	buf_free(&text);
	add_str(j, "note", m->note);
	add_str(j, "requested_by", m->requested_by);
	json_object_set_new(j, "drill", json_boolean(m->drill));
	add_str(j, "ack_url", m->ack_url);
	json_object_set_new(j, "possible_duplicate", json_boolean(m->possible_duplicate));
	char now[40];
	format_rfc3339_utc(m->now, now, sizeof now);
	add_str(j, "sent_at", now);
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	buf_adds(out, s);
	free(s);
	json_decref(j);
}

bool chan_webhook_sign(const char *secret, const char *id, int64_t ts,
		       const char *body, size_t len, char *out, size_t outlen)
{
	unsigned char key[256];
	size_t klen;
	if (strncmp(secret, "whsec_", 6) == 0) {
		const char *b = secret + 6;
		size_t bl = strlen(b);
		if (bl == 0 || bl % 4 || bl > 4 * (sizeof key / 3))
			return false;
		int n = EVP_DecodeBlock(key, (const unsigned char *)b, (int)bl);
		if (n < 0)
			return false;
		klen = (size_t)n;
		/* EVP_DecodeBlock counts the padding as zero bytes. */
		for (size_t i = bl; i > 0 && b[i - 1] == '='; i--)
			klen--;
	} else {
		klen = strlen(secret);
		if (klen > sizeof key)
			klen = sizeof key; /* keys longer than a block are hashed anyway;
					    * herald refuses silly lengths instead */
		memcpy(key, secret, klen);
	}
	char prefix[160];
	int pl = snprintf(prefix, sizeof prefix, "%s.%lld.", id, (long long)ts);
	struct buf m;
	buf_init(&m);
	buf_add(&m, prefix, (size_t)pl);
	buf_add(&m, body, len);
	unsigned char mac[32];
	unsigned int ml = 32;
	if (!HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)m.data, m.len,
		  mac, &ml))
		abort();
	buf_free(&m);
	OPENSSL_cleanse(key, sizeof key);
	if (outlen < 3 + 45)
		return false;
	memcpy(out, "v1,", 3);
	EVP_EncodeBlock((unsigned char *)out + 3, mac, 32);
	return true;
}

static bool prepare(struct chan_req *r, struct chan_outcome *o)
{
	const struct chan_msg *m = r->m;
	const struct plan_channel *c = m->ch;
	if (!c->url.value || !*c->url.value) {
		snprintf(o->error, sizeof o->error, "channel %s has no url", c->id);
		return false;
	}
	chan_webhook_payload(m, &r->body);
	r->headers = curl_slist_append(r->headers, "Content-Type: application/json");
	char h[256];
	snprintf(h, sizeof h, "X-Herald-Delivery: %s", m->key);
	r->headers = curl_slist_append(r->headers, h);
	for (size_t i = 0; i < c->nheaders; i++) {
		char *line = xasprintf("%s: %s", c->headers[i].name,
				       c->headers[i].value.value ? c->headers[i].value.value : "");
		r->headers = curl_slist_append(r->headers, line);
		free(line);
	}
	if (c->secret.value && *c->secret.value) {
		char sig[64];
		if (!chan_webhook_sign(c->secret.value, m->key, m->now, r->body.data,
				       r->body.len, sig, sizeof sig)) {
			snprintf(o->error, sizeof o->error,
				 "channel %s: the signing secret is not valid whsec_ base64", c->id);
			return false;
		}
		snprintf(h, sizeof h, "webhook-id: %s", m->key);
		r->headers = curl_slist_append(r->headers, h);
		snprintf(h, sizeof h, "webhook-timestamp: %lld", (long long)m->now);
		r->headers = curl_slist_append(r->headers, h);
		snprintf(h, sizeof h, "webhook-signature: %s", sig);
		r->headers = curl_slist_append(r->headers, h);
	}
	chan_http_post(r, c->url.value);
	return true;
}


/* ------------------------------------------------------------- the plan */

static bool valid_header_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
			return false;
	return true;
}

static enum herald_rc load_headers(struct pj *c, json_t *h,
				   struct plan_channel *ch)
{
	if (!h)
		return H_OK;
	size_t o = pj_push_key(c, "headers");
	size_t before = c->nerrors;
	if (pj_want_object(c, h)) {
		pj_pop(c, o);
		return H_EINVAL;
	}
	ch->headers = xcalloc(json_object_size(h) ? json_object_size(h) : 1,
			      sizeof *ch->headers);
	const char *name;
	json_t *v;
	json_object_foreach(h, name, v) {
		if (pj_full(c))
			break;
		if (!valid_header_name(name)) {
			PJ_FAIL_AT(c, name, "\"%.60s\" is not a valid HTTP header name", name);
			continue;
		}
		struct plan_header *hd = &ch->headers[ch->nheaders++];
		hd->name = xstrdup(name);
		if (!pj_get_secret(c, h, name, true, &hd->value) &&
		    pj_has_ctl(hd->value.value))
			PJ_FAIL_AT(c, name, "header value contains control characters");
	}
	pj_pop(c, o);
	return pj_since(c, before);
}

static enum herald_rc load(struct pj *c, json_t *j, struct plan_channel *ch)
{
	static const char *const keys[] = { "type", "url", "headers", "secret",
					    NULL };
	size_t before = c->nerrors;
	pj_check_keys(c, j, keys);
	plan_chan_http_url(c, j, "url", true, &ch->url);
	load_headers(c, json_object_get(j, "headers"), ch);
	pj_get_secret(c, j, "secret", false, &ch->secret);
	return pj_since(c, before);
}

static void describe(const struct plan_channel *ch, struct buf *out)
{
	buf_adds(out, "HTTPS webhook");
	if (ch->secret.value)
		buf_adds(out, ", signed (Standard Webhooks)");
	for (size_t i = 0; i < ch->nheaders; i++)
		buf_printf(out, "%s%s", i ? ", " : "; headers ", ch->headers[i].name);
	plan_chan_url_source(&ch->url, out);
}

static const struct chan_secret_field secrets[] = {
	CHAN_SECRET("url", url), CHAN_SECRET("secret", secret), { 0 }
};

const struct chan_type chan_type_webhook = {
	.name = "webhook",
	.what = "HTTP POST of a JSON document, optionally signed",
	.load = load,
	.describe = describe,
	.secrets = secrets,
	.secret_headers = true,
	.backend = &(const struct chan_backend){ .prepare = prepare },
};
