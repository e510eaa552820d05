/*
 * chan_text.c - what every backend renders the same way: the title of a
 * message and its text with the note of a manual send (chan.h); escaping
 * and cutting plan text for chat products, and the facts every card
 * shows (chan_text.h).
 */
#include "herald/chan_text.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define ZWSP "\xe2\x80\x8b"

static bool word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || (unsigned char)c >= 0x80;
}

/* A character that may precede the @ of an address (isms@acme.example),
 * which is no mention. */
static bool address_char(char c)
{
	return word_char(c) || c == '.' || c == '+' || c == '-';
}

void chan_text_escape(const char *s, size_t n, unsigned rules, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if ((rules & CHAN_TEXT_ENTITIES) && (c == '&' || c == '<' || c == '>')) {
			buf_adds(out, c == '&' ? "&amp;" : c == '<' ? "&lt;" : "&gt;");
			continue;
		}
		if ((rules & CHAN_TEXT_BREAKS) && (c == '\n' || c == '\r')) {
			if (c == '\r' && i + 1 < n && s[i + 1] == '\n')
				i++;
			buf_adds(out, "<br>");
			continue;
		}
		buf_addc(out, c);
		if ((rules & CHAN_TEXT_MENTIONS) && c == '@' && i + 1 < n &&
		    word_char(s[i + 1]) && (i == 0 || !address_char(s[i - 1])))
			buf_adds(out, ZWSP);
		else if ((rules & CHAN_TEXT_LINKS) && c == ']' && i + 1 < n &&
			 strchr("([:", s[i + 1]))
			buf_adds(out, ZWSP);
		else if ((rules & CHAN_TEXT_ANGLES) && c == '<')
			buf_adds(out, ZWSP);
	}
}

size_t chan_text_cut(const char *s, size_t len, size_t max)
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

size_t chan_text_cut_escaped(const char *s, size_t len, size_t max)
{
	size_t take = chan_text_cut(s, len, max);
	if (take == len)
		return take;
	size_t nl = take;
	while (nl > take / 2 && s[nl - 1] != '\n')
		nl--;
	if (nl > take / 2)
		take = nl;
	/* An entity or tag is at most 5 bytes ("&amp;", "<br>"): one begun
	 * in the last 5 and not closed before the cut goes to the next piece. */
	for (size_t k = take; k > 0 && k + 5 > take; k--) {
		if (s[k - 1] == ';' || s[k - 1] == '>')
			break;
		if (s[k - 1] == '&' || s[k - 1] == '<') {
			take = k - 1;
			break;
		}
	}
	return take;
}

size_t chan_text_cut_bytes(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t take = max;
	while (take > 0 && ((unsigned char)s[take] & 0xc0) == 0x80)
		take--;
	size_t nl = take;
	while (nl > take - take / 4 && s[nl - 1] != '\n')
		nl--;
	return nl > take - take / 4 ? nl : take;
}

void chan_json_take(json_t *j, struct buf *out)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	buf_adds(out, s);
	free(s);
	json_decref(j);
}

static char *dump(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return s;
}

void chan_fit(const struct chan_msg *m, const char *text, size_t max,
	      json_t *(*build)(const struct chan_msg *m, const char *text,
			       size_t textlen, bool cut),
	      struct buf *out)
{
	size_t keep = strlen(text);
	char *s = dump(build(m, text, keep, false));
	size_t len = strlen(s);
	/* Escaping makes the text grow in the body by its own ratio: cut it
	 * in proportion, a little more each round, until the body fits. */
	while (len > max && keep > 0) {
		size_t want = (size_t)((double)keep * (double)(max - max / 32) / (double)len);
		keep = chan_text_cut_bytes(text, keep, want < keep ? want : keep - 1);
		free(s);
		s = dump(build(m, text, keep, true));
		len = strlen(s);
	}
	buf_adds(out, s);
	free(s);
}

size_t chan_msg_facts(const struct chan_msg *m, struct chan_fact out[CHAN_FACTS])
{
	out[0] = (struct chan_fact){ "Owner", m->owner ? m->owner : "" };
	out[1] = (struct chan_fact){ "When", m->when ? m->when : "now: sent on demand" };
	out[2] = (struct chan_fact){ "Plan", m->plan_title ? m->plan_title :
						 m->plan_id ? m->plan_id : "" };
	out[3] = (struct chan_fact){ "Version", m->plan_version ? m->plan_version : "?" };
	return CHAN_FACTS;
}

void chan_cut_note(const struct chan_msg *m, const char *product, bool html,
		   struct buf *out)
{
	buf_printf(out, "This message is longer than %s shows, so its end is cut. ", product);
	if (!m->full_url) {
		buf_printf(out, "The whole text is in herald's evidence (delivery %.12s).",
			   m->key ? m->key : "?");
		return;
	}
	/* The URL is herald's own (base URL and a token), never plan text. */
	if (html) {
		buf_adds(out, "<a href=\"");
		buf_add_html(out, m->full_url);
		buf_adds(out, "\">Read the whole message</a>.");
	} else {
		buf_printf(out, "[Read the whole message](%s).", m->full_url);
	}
}

/* ------------------------------------------- title, text and note */

#define NOTE_MARK "{{note}}"

void chan_title(const struct chan_msg *m, struct buf *out)
{
	if (m->drill)
		buf_adds(out, "[DRILL] ");
	if (m->kind && strcmp(m->kind, "reminder") == 0)
		buf_adds(out, "Reminder: ");
	const char *t = m->topic && *m->topic ? m->topic : m->communication;
	buf_adds(out, t ? t : "");
}

void chan_text(const struct chan_msg *m,
	       void (*text)(void *ctx, const char *s, size_t n, struct buf *out),
	       void (*note)(void *ctx, const char *s, struct buf *out), void *ctx,
	       struct buf *out)
{
	const char *p = m->text ? m->text : "";
	for (const char *q; (q = strstr(p, NOTE_MARK)); p = q + strlen(NOTE_MARK)) {
		text(ctx, p, (size_t)(q - p), out);
		if (!m->note)
			continue;
		if (note)
			note(ctx, m->note, out);
		else
			text(ctx, m->note, strlen(m->note), out);
	}
	text(ctx, p, strlen(p), out);
}

static void as_is(void *ctx, const char *s, size_t n, struct buf *out)
{
	(void)ctx;
	buf_add(out, s, n);
}

void chan_text_plain(const struct chan_msg *m, struct buf *out)
{
	chan_text(m, as_is, NULL, NULL, out);
}
