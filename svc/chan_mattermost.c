/*
 * chan_mattermost.c - Mattermost and Rocket.Chat incoming webhooks, which
 * take Slack's older format: `text` in Markdown (the topic as a heading,
 * the message, an Acknowledge link) and an `attachments` entry with a
 * plain `fallback` and the owner, when, plan and version as fields.  No
 * Block Kit.
 *
 * Escaping: both read Slack's markup too (Mattermost turns <!channel> into
 * @channel and <url|text> into a link), so the text is Slack-escaped by
 * chan_slack.c (&, < and > as entities); both also mention on a bare
 * @channel, @here, @all or @name, and render Markdown links, so a
 * zero-width space follows such an @ and breaks every "](" (chan_text.h).
 *
 * Size: Mattermost splits a post longer than 16,383 characters, Rocket.Chat
 * refuses one over its Message_MaxAllowedSize (5,000 by default): the text
 * keeps 16,000 characters and then links to the whole message.
 *
 * Status: 2xx success (Mattermost answers "ok", Rocket.Chat a JSON
 * object), 429 (Retry-After) and 5xx temporary, any other 4xx permanent.
 * Pacing: one message a second per webhook.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "herald/chan_backend.h"
#include "herald/chan_text.h"
#include "herald/plan.h"
#include "herald/plan_chan.h"

#define TEXT_MAX 16000
#define TITLE_MAX 200
#define FACT_MAX 300

#define RULES (CHAN_TEXT_MENTIONS | CHAN_TEXT_LINKS)

/* s (at most max characters) as Mattermost text, as a new string. */
static char *mm(const char *s, size_t max)
{
	struct buf b;
	buf_init(&b);
	chan_slack_text(s, RULES, max, &b);
	return buf_take(&b);
}

static char *text(const struct chan_msg *m)
{
	struct buf b, title, plain;
	buf_init(&b);
	buf_init(&title);
	buf_init(&plain);
	chan_title(m, &title);
	/* The note of a manual send is escaped with the text around it. */
	chan_text_plain(m, &plain);
	buf_adds(&b, "#### ");
	chan_slack_text(title.data ? title.data : "", RULES, TITLE_MAX, &b);
	buf_adds(&b, "\n\n");
	bool cut = chan_slack_text(plain.data ? plain.data : "", RULES, TEXT_MAX, &b);
	buf_free(&title);
	buf_free(&plain);
	if (cut) {
		buf_adds(&b, "\n\n_");
		chan_cut_note(m, "Mattermost", false, &b);
		buf_addc(&b, '_');
	}
	if (m->possible_duplicate)
		buf_adds(&b, "\n\n_Possibly a repeat of an earlier message._");
	/* herald's own link: a token under the base URL, no plan text. */
	if (m->ack_url)
		buf_printf(&b, "\n\n**[Acknowledge](%s)**", m->ack_url);
	return buf_take(&b);
}

static json_t *attachment(const struct chan_msg *m)
{
	json_t *a = json_object();
	struct buf title;
	buf_init(&title);
	chan_title(m, &title);
	char *fb = mm(title.data ? title.data : "", TITLE_MAX);
	buf_free(&title);
	json_object_set_new(a, "fallback", json_string(fb));
	free(fb);
	json_object_set_new(a, "color", json_string("#1f6feb"));
	struct chan_fact f[CHAN_FACTS];
	size_t n = chan_msg_facts(m, f);
	json_t *fields = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "short", json_true());
		json_object_set_new(o, "title", json_string(f[i].title));
		char *v = mm(f[i].value, FACT_MAX);
		json_object_set_new(o, "value", json_string(v));
		free(v);
		json_array_append_new(fields, o);
	}
	json_object_set_new(a, "fields", fields);
	return a;
}

void chan_mattermost_payload(const struct chan_msg *m, struct buf *out)
{
	json_t *j = json_object();
	char *t = text(m);
	json_object_set_new(j, "text", json_string(t));
	free(t);
	json_t *atts = json_array();
	json_array_append_new(atts, attachment(m));
	json_object_set_new(j, "attachments", atts);
	chan_json_take(j, out);
}

const struct chan_type chan_type_mattermost = {
	.name = "mattermost", .what = "Mattermost or Rocket.Chat incoming webhook",
	.load = plan_chan_load_webhook, .secrets = plan_chan_webhook_secrets,
	.pacing = { .interval_ms = 1000 },
	.backend = &(const struct chan_backend){ .payload = chan_mattermost_payload },
};
