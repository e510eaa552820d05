/* template.c - {{name}} message templates (see template.h). */
#include "herald/template.h"

#include <stdio.h>
#include <string.h>

static const char *const names[] = { "topic", "description", "audience",
				     "owner", "start", "end", "plan",
				     "plan_version", "communication",
				     "ack_url", "name", "note" };
#define NNAMES (sizeof names / sizeof names[0])

/* Finds the placeholder at p ("{{"); sets *len to the whole token. */
static int placeholder(const char *p, size_t *len, char *name, size_t nlen)
{
	const char *q = p + 2;
	while (*q == ' ')
		q++;
	const char *s = q;
	while ((*q >= 'a' && *q <= 'z') || *q == '_' ||
	       (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9'))
		q++;
	size_t n = (size_t)(q - s);
	while (*q == ' ')
		q++;
	if (q[0] != '}' || q[1] != '}')
		return -1;
	*len = (size_t)(q + 2 - p);
	snprintf(name, nlen, "%.*s", (int)n, s);
	for (size_t i = 0; i < NNAMES; i++)
		if (strcmp(names[i], name) == 0)
			return (int)i;
	return -2;
}

int template_check(const char *tmpl, char *msg, size_t msglen)
{
	for (const char *p = strstr(tmpl, "{{"); p; p = strstr(p + 2, "{{")) {
		size_t len;
		char name[64];
		int k = placeholder(p, &len, name, sizeof name);
		if (k == -1) {
			snprintf(msg, msglen, "unterminated placeholder near \"%.20s\"", p);
			return -1;
		}
		if (k == -2) {
			snprintf(msg, msglen,
				 "unknown placeholder {{%s}} (known: topic, description, audience, "
				 "owner, start, end, plan, plan_version, communication, ack_url, name, note)",
				 name);
			return -1;
		}
		p += len - 2;
	}
	return 0;
}

void template_render(const char *tmpl, const struct template_vars *v,
		     struct buf *out)
{
	const char *vals[] = { v->topic, v->description, v->audience,
			       v->owner, v->start, v->end, v->plan,
			       v->plan_version, v->communication, v->ack_url, v->name,
			       v->note };
	const char *p = tmpl;
	for (;;) {
		const char *q = strstr(p, "{{");
		size_t len;
		char name[64];
		int k = q ? placeholder(q, &len, name, sizeof name) : -1;
		if (!q) {
			buf_adds(out, p);
			return;
		}
		if (k < 0) {
			buf_add(out, p, (size_t)(q + 2 - p));
			p = q + 2;
			continue;
		}
		buf_add(out, p, (size_t)(q - p));
		if (vals[k])
			buf_adds(out, vals[k]);
		p = q + len;
	}
}

const char *template_default(int with_ack)
{
	return with_ack
		? "{{topic}}\n\n{{description}}\n\nWhen: {{start}} to {{end}}\n"
		  "Owner: {{owner}}\n\nPlease acknowledge that you have read this: "
		  "{{ack_url}}\n\n({{plan}} version {{plan_version}}, "
		  "communication {{communication}})"
		: "{{topic}}\n\n{{description}}\n\nWhen: {{start}} to {{end}}\n"
		  "Owner: {{owner}}\n\n({{plan}} version {{plan_version}}, "
		  "communication {{communication}})";
}

void template_fill_late(const char *text, const struct template_late *v, struct buf *out)
{
	static const char *const marks[] = { "{{name}}", "{{note}}", "{{ack_url}}" };
	const char *vals[] = { v->name, v->note, v->ack_url };
	const char *p = text ? text : "";
	for (;;) {
		const char *q = NULL;
		int k = -1;
		for (int i = 0; i < 3; i++) {
			const char *h = vals[i] ? strstr(p, marks[i]) : NULL;
			if (h && (!q || h < q)) {
				q = h;
				k = i;
			}
		}
		if (!q)
			break;
		buf_add(out, p, (size_t)(q - p));
		buf_adds(out, vals[k]);
		p = q + strlen(marks[k]);
	}
	buf_adds(out, p);
}
