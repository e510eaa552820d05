/*
 * chan_slack.c - Slack incoming webhooks: a Block Kit message (header, the
 * text in sections of at most 3,000 characters, a context line with owner
 * and plan version, an Acknowledge button when asked) with a plain `text`
 * fallback of at most 40,000 characters, at most one message a second per
 * webhook (Slack's documented rate).
 *
 * Escaping: plan text is mrkdwn-escaped wherever Slack reads mrkdwn, the
 * fallback text too: &, < and > become entities, so <!channel>, <@U123>
 * and <https://evil|click> stay text.  Slack reads no @here without
 * <!here>, nor [x](url) links, in webhook text.
 *
 * Slack answers 200 with body "ok"; 429 carries Retry-After; 400 (e.g.
 * invalid_payload), 403 (action_prohibited), 404 (no_service) and 410
 * (channel_is_archived) are permanent; 5xx and network errors temporary.
 *
 * Mattermost and Rocket.Chat read the same markup: chan_mattermost.c
 * builds its text with chan_slack_text().
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "herald/chan_backend.h"
#include "herald/chan_text.h"
#include "herald/plan.h"
#include "herald/plan_chan.h"

#define SECTION_MAX 3000
#define TEXT_MAX 40000
#define HEADER_MAX 150
#define MAX_SECTIONS 45   /* Slack allows 50 blocks per message */

bool chan_slack_text(const char *s, unsigned extra, size_t max, struct buf *out)
{
	struct buf esc;
	buf_init(&esc);
	chan_text_escape(s, strlen(s), CHAN_TEXT_ENTITIES | extra, &esc);
	size_t take = chan_text_cut_escaped(esc.data ? esc.data : "", esc.len, max);
	buf_add(out, esc.data ? esc.data : "", take);
	bool cut = take < esc.len;
	buf_free(&esc);
	return cut;
}

static json_t *text_obj(const char *type, const char *s)
{
	json_t *t = json_object();
	json_object_set_new(t, "type", json_string(type));
	json_object_set_new(t, "text", json_string(s));
	return t;
}

static json_t *block(const char *type, const char *key, json_t *v)
{
	json_t *b = json_object();
	json_object_set_new(b, "type", json_string(type));
	json_object_set_new(b, key, v);
	return b;
}

/* The text in sections of at most 3,000 characters, preferably cut at a
 * line break. */
static void add_sections(json_t *blocks, const char *text)
{
	struct buf esc;
	buf_init(&esc);
	chan_text_escape(text, strlen(text), CHAN_TEXT_ENTITIES, &esc);
	const char *p = esc.data ? esc.data : "";
	size_t left = esc.len;
	for (int n = 0; left > 0 && n < MAX_SECTIONS; n++) {
		size_t take = chan_text_cut_escaped(p, left, SECTION_MAX);
		char *piece = xstrndup(p, take);
		json_array_append_new(blocks, block("section", "text", text_obj("mrkdwn", piece)));
		free(piece);
		p += take;
		left -= take;
	}
	buf_free(&esc);
}

static void add_context(json_t *blocks, const struct chan_msg *m)
{
	struct buf ctx;
	buf_init(&ctx);
	buf_adds(&ctx, "Owner: ");
	const char *owner = m->owner ? m->owner : "";
	chan_text_escape(owner, strlen(owner), CHAN_TEXT_ENTITIES, &ctx);
	buf_adds(&ctx, " \xc2\xb7 ");
	const char *pt = m->plan_title ? m->plan_title : m->plan_id;
	chan_text_escape(pt, strlen(pt), CHAN_TEXT_ENTITIES, &ctx);
	buf_adds(&ctx, " version ");
	const char *v = m->plan_version ? m->plan_version : "?";
	chan_text_escape(v, strlen(v), CHAN_TEXT_ENTITIES, &ctx);
	if (m->possible_duplicate)
		buf_adds(&ctx, " \xc2\xb7 possibly a repeat of an earlier message");
	json_t *els = json_array();
	json_array_append_new(els, text_obj("mrkdwn", ctx.data));
	json_array_append_new(blocks, block("context", "elements", els));
	buf_free(&ctx);
}

static void add_ack(json_t *blocks, const char *url)
{
	json_t *btn = json_object();
	json_object_set_new(btn, "type", json_string("button"));
	json_object_set_new(btn, "text", text_obj("plain_text", "Acknowledge"));
	json_object_set_new(btn, "url", json_string(url));
	json_object_set_new(btn, "style", json_string("primary"));
	json_object_set_new(btn, "action_id", json_string("herald_ack"));
	json_t *ae = json_array();
	json_array_append_new(ae, btn);
	json_array_append_new(blocks, block("actions", "elements", ae));
}

void chan_slack_payload(const struct chan_msg *m, struct buf *out)
{
	json_t *j = json_object();
	/* The note of a manual send is escaped with the text around it: it
	 * cannot mention @channel or forge a link either. */
	struct buf plain, fallback, title;
	buf_init(&plain);
	buf_init(&fallback);
	buf_init(&title);
	chan_text_plain(m, &plain);
	const char *text = plain.data ? plain.data : "";
	chan_slack_text(text, 0, TEXT_MAX, &fallback);
	json_object_set_new(j, "text", json_string(fallback.data ? fallback.data : ""));

	json_t *blocks = json_array();
	/* plain_text is never parsed for mentions or links. */
	chan_title(m, &title);
	const char *topic = title.data ? title.data : "";
	char *h = xstrndup(topic, chan_text_cut(topic, title.len, HEADER_MAX));
	json_array_append_new(blocks, block("header", "text", text_obj("plain_text", h)));
	free(h);
	add_sections(blocks, text);
	add_context(blocks, m);
	if (m->ack_url)
		add_ack(blocks, m->ack_url);
	json_object_set_new(j, "blocks", blocks);
	chan_json_take(j, out);
	buf_free(&plain);
	buf_free(&fallback);
	buf_free(&title);
}

enum chan_result chan_slack_classify(long status, const char *body)
{
	if (status >= 200 && status < 300)
		return status == 200 && body && strncmp(body, "ok", 2) == 0 ? CHAN_OK : CHAN_PERM;
	return chan_http_classify(status, body);
}

const struct chan_type chan_type_slack = {
	.name = "slack", .what = "Slack incoming webhook",
	.load = plan_chan_load_webhook, .secrets = plan_chan_webhook_secrets,
	.pacing = { .interval_ms = 1000 },
	.backend = &(const struct chan_backend){ .payload = chan_slack_payload,
						 .classify = chan_slack_classify },
};
