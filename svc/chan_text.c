/*
 * chan_text.c - what every backend renders the same way: the title of a
 * message and its text with the note of a manual send (see chan.h).
 */
#include <string.h>

#include "herald/chan.h"
#include "herald/util.h"

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
