/*
 * template.h - message templates with {{name}} placeholders.
 */
#ifndef HERALD_TEMPLATE_H
#define HERALD_TEMPLATE_H

#include <stddef.h>

#include "herald/util.h"

/*
 * Checks a template: every {{name}} is one of topic, description,
 * audience, owner, start, end, plan, plan_version, communication, ack_url,
 * name (the member in a personal message, else the audience) and note (a
 * manual send's note).
 * Returns 0, or -1 with a message in msg.
 */
int template_check(const char *tmpl, char *msg, size_t msglen);

/* Values for rendering; NULL members render as empty text. */
struct template_vars {
	const char *topic, *description, *audience, *owner, *start, *end,
		*plan, *plan_version, *communication, *ack_url, *name, *note;
};

/* Appends the rendered template to out. */
void template_render(const char *tmpl, const struct template_vars *v,
		     struct buf *out);

/*
 * The placeholders a message's stored text keeps until it is sent or
 * shown: the member's name, the note of a manual send and the ack link
 * (a capability, never in the evidence).  A NULL value keeps its
 * placeholder as it is.
 */
struct template_late {
	const char *name, *note, *ack_url;
};

/* Appends text to out with the late placeholders v gives filled in. */
void template_fill_late(const char *text, const struct template_late *v, struct buf *out);

/* The message used when a communication has none. */
const char *template_default(int with_ack);

#endif
