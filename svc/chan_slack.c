/*
 * chan_slack.c - Slack incoming webhooks: a Block Kit message (header, the
 * text in sections of at most 3,000 characters, a context line with owner
 * and plan version, an Acknowledge button when asked) with a plain `text`
 * fallback of at most 40,000 characters.
 *
 * Slack answers 200 with body "ok"; 429 carries Retry-After; 400 (e.g.
 * invalid_payload), 403 (action_prohibited), 404 (no_service) and 410
 * (channel_is_archived) are permanent; 5xx and network errors temporary.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "herald/chan_backend.h"
#include "herald/plan.h"

#define SECTION_MAX 3000
#define TEXT_MAX 40000
#define HEADER_MAX 150
#define MAX_SECTIONS 45   /* Slack allows 50 blocks per message */

/* Byte length of the first max code points of s (at most len bytes). */
static size_t cut_chars(const char *s, size_t len, size_t max)
{
	size_t chars = 0, i = 0;
	for (; i < len; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			if (chars == max)
				break;
			chars++;
		}
	}
	return i;
}

/* Slack mrkdwn: &, < and > are control characters. */
static void escape_mrkdwn(const char *s, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '&': buf_adds(out, "&amp;"); break;
		case '<': buf_adds(out, "&lt;"); break;
		case '>': buf_adds(out, "&gt;"); break;
		default: buf_addc(out, s[i]);
		}
	}
}

static void mrkdwn_run(void *ctx, const char *s, size_t n, struct buf *out)
{
	(void)ctx;
	escape_mrkdwn(s, n, out);
}

/* Where to cut an escaped text of len bytes to at most max characters:
 * never inside an entity such as &amp;. */
static size_t cut_escaped(const char *p, size_t len, size_t max)
{
	size_t take = cut_chars(p, len, max);
	if (take < len)
		for (size_t k = take; k > 0 && k + 5 > take; k--)
			if (p[k - 1] == '&') {
				take = k - 1;
				break;
			}
	return take;
}

static json_t *text_obj(const char *type, const char *s)
{
	json_t *t = json_object();
	json_object_set_new(t, "type", json_string(type));
	json_object_set_new(t, "text", json_string(s));
	return t;
}

void chan_slack_payload(const struct chan_msg *m, struct buf *out)
{
	json_t *j = json_object();
	/* The text, note included, escaped: a note cannot mention @channel
	 * or forge a link. */
	struct buf esc;
	buf_init(&esc);
	chan_text(m, mrkdwn_run, NULL, NULL, &esc);
	const char *text = esc.data ? esc.data : "";
	char *fallback = xstrndup(text, cut_escaped(text, esc.len, TEXT_MAX));
	json_object_set_new(j, "text", json_string(fallback));
	free(fallback);

	json_t *blocks = json_array();
	struct buf title;
	buf_init(&title);
	chan_title(m, &title);
	const char *topic = title.data ? title.data : "";
	char *h = xstrndup(topic, cut_chars(topic, title.len, HEADER_MAX));
	json_t *hb = json_object();
	json_object_set_new(hb, "type", json_string("header"));
	json_object_set_new(hb, "text", text_obj("plain_text", h));
	json_array_append_new(blocks, hb);
	free(h);
	buf_free(&title);

	/* Sections: the escaped text cut into pieces of at most 3,000
	 * characters, preferably at a line break. */
	const char *p = text;
	size_t left = esc.len;
	for (int n = 0; left > 0 && n < MAX_SECTIONS; n++) {
		size_t take = cut_chars(p, left, SECTION_MAX);
		if (take < left) {
			size_t nl = take;
			while (nl > take / 2 && p[nl - 1] != '\n')
				nl--;
			if (nl > take / 2)
				take = nl;
			else
				take = cut_escaped(p, left, SECTION_MAX);
		}
		char *piece = xstrndup(p, take);
		json_t *sb = json_object();
		json_object_set_new(sb, "type", json_string("section"));
		json_object_set_new(sb, "text", text_obj("mrkdwn", piece));
		json_array_append_new(blocks, sb);
		free(piece);
		p += take;
		left -= take;
	}
	buf_free(&esc);

	struct buf ctx;
	buf_init(&ctx);
	buf_adds(&ctx, "Owner: ");
	escape_mrkdwn(m->owner ? m->owner : "", strlen(m->owner ? m->owner : ""), &ctx);
	buf_adds(&ctx, " \xc2\xb7 ");
	const char *pt = m->plan_title ? m->plan_title : m->plan_id;
	escape_mrkdwn(pt, strlen(pt), &ctx);
	buf_printf(&ctx, " version %s", m->plan_version ? m->plan_version : "?");
	if (m->possible_duplicate)
		buf_adds(&ctx, " \xc2\xb7 possibly a repeat of an earlier message");
	json_t *cb = json_object();
	json_object_set_new(cb, "type", json_string("context"));
	json_t *els = json_array();
	json_array_append_new(els, text_obj("mrkdwn", ctx.data));
	json_object_set_new(cb, "elements", els);
	json_array_append_new(blocks, cb);
	buf_free(&ctx);

	if (m->ack_url) {
		json_t *btn = json_object();
		json_object_set_new(btn, "type", json_string("button"));
		json_object_set_new(btn, "text", text_obj("plain_text", "Acknowledge"));
		json_object_set_new(btn, "url", json_string(m->ack_url));
		json_object_set_new(btn, "style", json_string("primary"));
		json_object_set_new(btn, "action_id", json_string("herald_ack"));
		json_t *ab = json_object();
		json_object_set_new(ab, "type", json_string("actions"));
		json_t *ae = json_array();
		json_array_append_new(ae, btn);
		json_object_set_new(ab, "elements", ae);
		json_array_append_new(blocks, ab);
	}
	json_object_set_new(j, "blocks", blocks);
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	buf_adds(out, s);
	free(s);
	json_decref(j);
}

enum chan_result chan_slack_classify(long status, const char *body)
{
	if (status == 200)
		return body && strncmp(body, "ok", 2) == 0 ? CHAN_OK : CHAN_PERM;
	if (status == 0 || status == 408 || status == 429 || status >= 500)
		return CHAN_TEMP;
	return CHAN_PERM;
}

static bool prepare(struct chan_req *r, struct chan_outcome *o)
{
	const struct plan_channel *c = r->m->ch;
	if (!c->webhook.value || !*c->webhook.value) {
		snprintf(o->error, sizeof o->error, "channel %s has no webhook", c->id);
		return false;
	}
	chan_slack_payload(r->m, &r->body);
	r->headers = curl_slist_append(r->headers, "Content-Type: application/json; charset=utf-8");
	chan_http_post(r, c->webhook.value);
	return true;
}

static void finish(struct chan_req *r, CURLcode cc, struct chan_outcome *o)
{
	chan_set_reply(r, o);
	if (cc != CURLE_OK) {
		chan_curl_error(r, cc, o);
		return;
	}
	o->result = chan_slack_classify(o->status, r->resp.data);
	o->retry_after = o->status == 429 ? r->retry_after : -1;
	if (o->result != CHAN_OK)
		snprintf(o->error, sizeof o->error, "HTTP %ld%s%s", o->status,
			 o->reply[0] ? ": " : "", o->reply);
}

const struct chan_backend chan_slack = { "slack", prepare, finish };
