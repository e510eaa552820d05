/*
 * chan_teams.c - Microsoft Teams through a Workflows webhook: the URL of a
 * Power Automate flow "When a Teams webhook request is received" that
 * posts the card to a channel or chat (Office 365 connectors are
 * retired).  The body is a message with one Adaptive Card attachment
 * (application/vnd.microsoft.card.adaptive, card version 1.4): a header,
 * the text, a FactSet (owner, when, plan, version) and an Action.OpenUrl
 * "Acknowledge" when acknowledgement is asked (the ack page holds the
 * POST button).  Every TextBlock says wrap: true: without it Teams shows
 * one line of each (Alertmanager's msteamsv2 receiver learned it, its
 * issue #4088).
 *
 * Size: Teams refuses a message over about 28 KB ("Request entity too
 * large"), so the body stays within 28,000 bytes: a longer text is cut,
 * ending with a line that links to the whole message (m->full_url).
 *
 * Escaping: TextBlocks and facts read a Markdown subset whose links
 * [x](url) could show one target and lead to another: those are broken
 * (CHAN_TEXT_LINKS).  A mention needs an msteams entity, which herald
 * never sends, so <at>, @here and <!channel> stay text.
 *
 * Status: 200 and 202 (what Workflows answers) are success, 429 (with
 * Retry-After) and 5xx temporary, any other 4xx permanent.  Pacing: one
 * message a second per webhook, below the 100 calls per 60 s that Power
 * Automate's Teams connector allows a flow's connection.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "herald/chan_backend.h"
#include "herald/chan_text.h"
#include "herald/plan.h"
#include "herald/plan_chan.h"

#define TEAMS_MAX 28000     /* bytes of the whole body */
#define HEADER_MAX 200      /* characters of the header line */
#define FACT_MAX 300        /* characters of a fact's value */

static json_t *text_block(const char *text, const char *size, bool subtle)
{
	json_t *b = json_object();
	json_object_set_new(b, "type", json_string("TextBlock"));
	json_object_set_new(b, "text", json_string(text));
	json_object_set_new(b, "wrap", json_true());
	if (size) {
		json_object_set_new(b, "size", json_string(size));
		json_object_set_new(b, "weight", json_string("Bolder"));
	}
	if (subtle)
		json_object_set_new(b, "isSubtle", json_true());
	return b;
}

/* s escaped for a TextBlock or a fact, as a new string. */
static char *md(const char *s, size_t n)
{
	struct buf b;
	buf_init(&b);
	chan_text_escape(s, n, CHAN_TEXT_LINKS, &b);
	return buf_take(&b);
}

static json_t *md_block(const char *s, size_t n, const char *size, bool subtle)
{
	char *t = md(s, n);
	json_t *b = text_block(t, size, subtle);
	free(t);
	return b;
}

static json_t *fact_set(const struct chan_msg *m)
{
	struct chan_fact f[CHAN_FACTS];
	size_t n = chan_msg_facts(m, f);
	json_t *facts = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "title", json_string(f[i].title));
		char *v = md(f[i].value, chan_text_cut(f[i].value, strlen(f[i].value), FACT_MAX));
		json_object_set_new(o, "value", json_string(v));
		free(v);
		json_array_append_new(facts, o);
	}
	json_t *fs = json_object();
	json_object_set_new(fs, "type", json_string("FactSet"));
	json_object_set_new(fs, "facts", facts);
	return fs;
}

/* The body with the first textlen bytes of the text (cut: a note says so). */
static json_t *card(const struct chan_msg *m, const char *text, size_t textlen, bool cut)
{
	json_t *body = json_array();
	struct buf title;
	buf_init(&title);
	chan_title(m, &title);
	const char *topic = title.data ? title.data : "";
	json_array_append_new(body, md_block(topic, chan_text_cut(topic, title.len, HEADER_MAX),
					     "Large", false));
	buf_free(&title);
	if (m->possible_duplicate)
		json_array_append_new(body, text_block("Possibly a repeat of an earlier message.",
						       NULL, true));
	json_array_append_new(body, md_block(text, textlen, NULL, false));
	if (cut) {
		struct buf note;
		buf_init(&note);
		chan_cut_note(m, "Teams", false, &note);
		json_array_append_new(body, text_block(note.data, NULL, true));
		buf_free(&note);
	}
	json_array_append_new(body, fact_set(m));

	json_t *c = json_object();
	json_object_set_new(c, "$schema", json_string("http://adaptivecards.io/schemas/adaptive-card.json"));
	json_object_set_new(c, "type", json_string("AdaptiveCard"));
	json_object_set_new(c, "version", json_string("1.4"));
	json_object_set_new(c, "body", body);
	if (m->ack_url) {
		json_t *a = json_object();
		json_object_set_new(a, "type", json_string("Action.OpenUrl"));
		json_object_set_new(a, "title", json_string("Acknowledge"));
		json_object_set_new(a, "url", json_string(m->ack_url));
		json_t *actions = json_array();
		json_array_append_new(actions, a);
		json_object_set_new(c, "actions", actions);
	}
	json_t *msteams = json_object();
	json_object_set_new(msteams, "width", json_string("Full"));
	json_object_set_new(c, "msteams", msteams);

	json_t *att = json_object();
	json_object_set_new(att, "contentType", json_string("application/vnd.microsoft.card.adaptive"));
	json_object_set_new(att, "contentUrl", json_null());
	json_object_set_new(att, "content", c);
	json_t *atts = json_array();
	json_array_append_new(atts, att);
	json_t *j = json_object();
	json_object_set_new(j, "type", json_string("message"));
	json_object_set_new(j, "attachments", atts);
	return j;
}

void chan_teams_payload(const struct chan_msg *m, struct buf *out)
{
	/* The note of a manual send is plan text like the rest: escaped with it. */
	struct buf text;
	buf_init(&text);
	chan_text_plain(m, &text);
	chan_fit(m, text.data ? text.data : "", TEAMS_MAX, card, out);
	buf_free(&text);
}

const struct chan_type chan_type_teams = {
	.name = "teams", .what = "Microsoft Teams Workflows webhook (Adaptive Card)",
	.load = plan_chan_load_webhook, .secrets = plan_chan_webhook_secrets,
	.pacing = { .interval_ms = 1000 },
	.backend = &(const struct chan_backend){ .payload = chan_teams_payload },
};
