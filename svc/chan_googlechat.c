/*
 * chan_googlechat.c - Google Chat incoming webhooks: a `text` fallback
 * (what notifications and the conversation list show) plus a cardsV2
 * card with the same content: a header, the text, the owner, when, plan
 * and version, and an "Acknowledge" button that opens the ack page.
 *
 * Threads: with "thread_key" (a template over {{communication}},
 * {{audience}}, {{plan}} and {{plan_version}}) the message carries
 * thread.threadKey and the URL messageReplyOption=
 * REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD, so messages with one key form one
 * thread, started by the first.
 *
 * Size: a message (text and cards) is at most 32,000 bytes: the fallback
 * text keeps 4,000 characters, the card's text what then fits, ending
 * with a link to the whole message (m->full_url).
 *
 * Escaping: the text reads Chat markup (<users/all> mentions, <url|text>
 * links) and, in apps set to it, Markdown ([x](url)): a zero-width space
 * breaks every '<' and every "](" (CHAN_TEXT_ANGLES, CHAN_TEXT_LINKS).
 * Card text is HTML: &, < and > become entities (and "](" is broken
 * too, should a card ever be read as Markdown).  @here is no mention in
 * Chat.
 *
 * Status: 2xx success, 429 (Retry-After) and 5xx temporary, any other 4xx
 * permanent.  Pacing: Google Chat's quota is 60 writes a minute per
 * space, shared by every app and webhook in it: herald starts at most
 * one message a second per space (the space named in the URL).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "herald/chan_backend.h"
#include "herald/chan_text.h"
#include "herald/plan.h"
#include "herald/plan_chan.h"
#include "herald/plan_json.h"
#include "herald/template.h"

#define CHAT_MAX 32000      /* bytes of the whole message */
#define TEXT_MAX 4000       /* characters of the fallback text */
#define TITLE_MAX 200
#define FACT_MAX 300
#define THREAD_KEY_MAX 1000
#define REPLY_OPTION "messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"

struct gchat_opts {
	char *thread_key;   /* template, or NULL */
};

static void html(const char *s, size_t n, struct buf *out)
{
	chan_text_escape(s, n, CHAN_TEXT_ENTITIES | CHAN_TEXT_BREAKS | CHAN_TEXT_LINKS, out);
}

static json_t *widget(const char *kind, json_t *v)
{
	json_t *w = json_object();
	json_object_set_new(w, kind, v);
	return w;
}

static json_t *section(json_t *widgets)
{
	json_t *s = json_object();
	json_object_set_new(s, "widgets", widgets);
	return s;
}

static json_t *paragraph(const struct chan_msg *m, const char *text, size_t len, bool cut)
{
	struct buf b;
	buf_init(&b);
	html(text, len, &b);
	if (cut) {
		buf_adds(&b, "<br><br><i>");
		chan_cut_note(m, "Google Chat", true, &b);
		buf_adds(&b, "</i>");
	}
	json_t *p = json_object();
	json_object_set_new(p, "text", json_string(b.data ? b.data : ""));
	buf_free(&b);
	return widget("textParagraph", p);
}

static json_t *facts(const struct chan_msg *m)
{
	struct chan_fact f[CHAN_FACTS];
	size_t n = chan_msg_facts(m, f);
	json_t *ws = json_array();
	for (size_t i = 0; i < n; i++) {
		struct buf v;
		buf_init(&v);
		html(f[i].value, chan_text_cut(f[i].value, strlen(f[i].value), FACT_MAX), &v);
		json_t *d = json_object();
		json_object_set_new(d, "topLabel", json_string(f[i].title));
		json_object_set_new(d, "text", json_string(v.data ? v.data : ""));
		buf_free(&v);
		json_array_append_new(ws, widget("decoratedText", d));
	}
	return ws;
}

static json_t *ack_button(const char *url)
{
	return json_pack("[{s:{s:[{s:s, s:{s:{s:s}}}]}}]", "buttonList", "buttons",
			 "text", "Acknowledge", "onClick", "openLink", "url", url);
}

static json_t *card(const struct chan_msg *m, const char *text, size_t len, bool cut)
{
	struct buf tb;
	buf_init(&tb);
	chan_title(m, &tb);
	const char *topic = tb.data ? tb.data : "";
	json_t *hdr = json_object();
	char *title = xstrndup(topic, chan_text_cut(topic, tb.len, TITLE_MAX));
	json_object_set_new(hdr, "title", json_string(title));
	free(title);
	buf_free(&tb);
	if (m->possible_duplicate)
		json_object_set_new(hdr, "subtitle",
				    json_string("Possibly a repeat of an earlier message"));
	json_t *secs = json_array();
	json_t *w = json_array();
	json_array_append_new(w, paragraph(m, text, len, cut));
	json_array_append_new(secs, section(w));
	json_array_append_new(secs, section(facts(m)));
	if (m->ack_url)
		json_array_append_new(secs, section(ack_button(m->ack_url)));
	return json_pack("[{s:s, s:{s:o, s:o}}]", "cardId", "herald-message",
			 "card", "header", hdr, "sections", secs);
}

/* The fallback text: the topic in bold, then the text, Chat-escaped. */
static char *fallback(const struct chan_msg *m, const char *text)
{
	unsigned rules = CHAN_TEXT_ANGLES | CHAN_TEXT_LINKS;
	struct buf tb, b;
	buf_init(&tb);
	buf_init(&b);
	chan_title(m, &tb);
	const char *topic = tb.data ? tb.data : "";
	buf_addc(&b, '*');
	chan_text_escape(topic, chan_text_cut(topic, tb.len, TITLE_MAX), rules, &b);
	buf_adds(&b, "*\n\n");
	buf_free(&tb);
	size_t len = strlen(text), keep = chan_text_cut(text, len, TEXT_MAX);
	chan_text_escape(text, keep, rules, &b);
	if (keep < len)
		buf_adds(&b, "\xe2\x80\xa6");
	return buf_take(&b);
}

static void thread_key(const struct chan_msg *m, struct buf *out)
{
	const struct gchat_opts *g = m->ch->opts;
	if (!g || !g->thread_key)
		return;
	struct template_vars v = { .communication = m->communication, .audience = m->audience,
				   .plan = m->plan_id, .plan_version = m->plan_version };
	template_render(g->thread_key, &v, out);
	if (out->len > THREAD_KEY_MAX) {
		out->len = chan_text_cut_bytes(out->data, out->len, THREAD_KEY_MAX);
		out->data[out->len] = '\0';
	}
}

static json_t *message(const struct chan_msg *m, const char *text, size_t len, bool cut)
{
	json_t *j = json_object();
	char *fb = fallback(m, text);
	json_object_set_new(j, "text", json_string(fb));
	free(fb);
	json_object_set_new(j, "cardsV2", card(m, text, len, cut));
	struct buf k;
	buf_init(&k);
	thread_key(m, &k);
	if (k.len) {
		json_t *t = json_object();
		json_object_set_new(t, "threadKey", json_string(k.data));
		json_object_set_new(j, "thread", t);
	}
	buf_free(&k);
	return j;
}

void chan_googlechat_payload(const struct chan_msg *m, struct buf *out)
{
	/* The note of a manual send is escaped with the text around it. */
	struct buf text;
	buf_init(&text);
	chan_text_plain(m, &text);
	chan_fit(m, text.data ? text.data : "", CHAT_MAX, message, out);
	buf_free(&text);
}

static bool prepare(struct chan_req *r, struct chan_outcome *o)
{
	const struct gchat_opts *g = r->m->ch->opts;
	const char *url = r->m->ch->webhook.value;
	if (!url || !*url || !g || !g->thread_key || strstr(url, "messageReplyOption="))
		return chan_post_json(r, o, url, chan_googlechat_payload);
	char *u = xasprintf("%s%s" REPLY_OPTION, url, strchr(url, '?') ? "&" : "?");
	bool ok = chan_post_json(r, o, u, chan_googlechat_payload);
	/* libcurl keeps its own copy of the URL. */
	memset(u, 0, strlen(u));
	free(u);
	return ok;
}


/* The space of the webhook URL (…/v1/spaces/NAME/messages?…): its quota
 * is shared by every webhook posting there. */
static void space_key(const struct plan_channel *ch, struct buf *out)
{
	const char *u = ch->webhook.value ? ch->webhook.value : "";
	const char *s = strstr(u, "/spaces/");
	if (!s) {
		buf_adds(out, ch->id);
		return;
	}
	const char *name = s + strlen("/spaces/");
	buf_adds(out, "spaces/");
	buf_add(out, name, strcspn(name, "/?#"));
}

/* ------------------------------------------------------------- the plan */

static void describe(const struct plan_channel *ch, struct buf *out)
{
	const struct gchat_opts *g = ch->opts;
	buf_adds(out, "Google Chat incoming webhook");
	if (g && g->thread_key)
		buf_printf(out, ", threads keyed %s", g->thread_key);
	plan_chan_url_source(&ch->webhook, out);
}

static void free_opts(void *p)
{
	struct gchat_opts *g = p;
	free(g->thread_key);
	free(g);
}

/* A thread key names its thread: it may use the values that are the same
 * for every message of a communication to an audience, nothing per
 * person or per send. */
static enum herald_rc check_thread_key(struct pj *c, const char *k)
{
	static const char *const allowed[] = { "communication", "audience", "plan",
					       "plan_version", NULL };
	for (const char *p = strstr(k, "{{"); p; p = strstr(p + 2, "{{")) {
		const char *e = strstr(p + 2, "}}");
		size_t i = 0;
		while (e && allowed[i] &&
		       (strlen(allowed[i]) != (size_t)(e - p - 2) ||
			strncmp(allowed[i], p + 2, (size_t)(e - p - 2)) != 0))
			i++;
		if (!e || !allowed[i])
			return PJ_FAIL_AT(c, "thread_key", "\"%.60s\": a thread key may use {{communication}}, {{audience}}, {{plan}} and {{plan_version}} only",
					  p);
	}
	if (strlen(k) > THREAD_KEY_MAX || pj_has_ctl(k))
		return PJ_FAIL_AT(c, "thread_key", "a thread key is one line of at most %d bytes",
				  THREAD_KEY_MAX);
	return H_OK;
}

static enum herald_rc load(struct pj *c, json_t *j, struct plan_channel *ch)
{
	static const char *const keys[] = { "type", "webhook", "thread_key", NULL };
	size_t before = c->nerrors;
	pj_check_keys(c, j, keys);
	plan_chan_http_url(c, j, "webhook", true, &ch->webhook);
	char *k = NULL;
	if (!pj_get_string(c, j, "thread_key", false, &k) && k && !check_thread_key(c, k)) {
		struct gchat_opts *g = xcalloc(1, sizeof *g);
		g->thread_key = k;
		ch->opts = g;
	} else {
		free(k);
	}
	return pj_since(c, before);
}

const struct chan_type chan_type_googlechat = {
	.name = "googlechat", .what = "Google Chat incoming webhook (text and cardsV2)",
	.load = load, .free_opts = free_opts, .describe = describe,
	.secrets = plan_chan_webhook_secrets,
	.pacing = { .interval_ms = 1000, .key = space_key },
	.backend = &(const struct chan_backend){ .prepare = prepare },
};
