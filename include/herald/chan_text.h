/*
 * chan_text.h - plan text made safe for chat products, and the facts
 * every card shows (for chan_*.c).
 *
 * A topic, description or note is plan or operator text, never markup: it
 * must not mention people (@here, <!channel>, <users/all>) or show one
 * link while leading to another (<https://evil|click>, [x](https://evil)).
 * Each product parses something else, so each backend names the rules its
 * product needs (and says why in its header); these are the mechanisms.
 * A zero-width space (U+200B) breaks a construct without a visible change
 * where the product has no escape that every client honours.
 */
#ifndef HERALD_CHAN_TEXT_H
#define HERALD_CHAN_TEXT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "herald/chan.h"
#include "herald/util.h"

enum chan_text_rule {
	CHAN_TEXT_ENTITIES = 1 << 0, /* & < > as &amp; &lt; &gt; (Slack mrkdwn, HTML) */
	CHAN_TEXT_MENTIONS = 1 << 1, /* "@word" at a word's start: U+200B after the @ */
	CHAN_TEXT_LINKS    = 1 << 2, /* Markdown links and link definitions: U+200B
					after a ']' that a '(', '[' or ':' follows */
	CHAN_TEXT_ANGLES   = 1 << 3, /* <…> markup: U+200B after every '<' */
	CHAN_TEXT_BREAKS   = 1 << 4, /* line breaks as <br> (HTML card text) */
};

/* Appends s[0..n) to out with the rules (a mask of enum chan_text_rule). */
void chan_text_escape(const char *s, size_t n, unsigned rules, struct buf *out);

/* Byte length of the first max code points of s[0..len). */
size_t chan_text_cut(const char *s, size_t len, size_t max);

/*
 * Like chan_text_cut() for text chan_text_escape() wrote: the cut never
 * splits an entity (&amp;) or a tag (<br>), and backs off to a line break
 * in the last half when there is one.
 */
size_t chan_text_cut_escaped(const char *s, size_t len, size_t max);

/* The longest prefix of s[0..len) of at most max bytes that ends on a
 * code point, preferably at a line break in its last quarter. */
size_t chan_text_cut_bytes(const char *s, size_t len, size_t max);

/*
 * Appends to out the JSON body build() makes of m, within max bytes:
 * first with the whole text (textlen strlen(text), cut false); while too
 * big, with less of the text (cut on a code point, cut true: build adds
 * chan_cut_note()).
 */
void chan_fit(const struct chan_msg *m, const char *text, size_t max,
	      json_t *(*build)(const struct chan_msg *m, const char *text,
			       size_t textlen, bool cut),
	      struct buf *out);

/* Appends j as compact JSON (keys in order) to out and drops j. */
void chan_json_take(json_t *j, struct buf *out);

/* A line of a card's fact list (borrowed strings). */
struct chan_fact {
	const char *title, *value;
};

#define CHAN_FACTS 4

/*
 * The facts of m every card shows, in this order: Owner, When (the local
 * start and end, or that it was sent on demand), Plan (title or id) and
 * Version.  Returns how many it wrote (CHAN_FACTS).
 */
size_t chan_msg_facts(const struct chan_msg *m, struct chan_fact out[CHAN_FACTS]);

/* The line a card ends its cut text with: a link to m->full_url when
 * there is one (Markdown [..](..) or, html, <a href>), else where the
 * whole message is kept.  product names the product ("Teams"). */
void chan_cut_note(const struct chan_msg *m, const char *product, bool html,
		   struct buf *out);

#endif
