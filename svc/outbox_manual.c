/*
 * outbox_manual.c - the rules of a manual send, the same for `herald send`
 * and the API (see outbox.h): who asks, what the note may hold, which
 * communications may be sent by hand, drills, and links that reach people.
 *
 * Everything here is judged before anything is recorded, so a refused
 * send leaves no trace but its error.
 */
#include "herald/outbox.h"

#include <stdio.h>
#include <string.h>

#include "herald/fanout.h"
#include "herald/plan.h"
#include "herald/util.h"

/* Text a person typed: UTF-8, no control characters but tab and line
 * breaks (allowed only where lines may break). */
static const char *text_problem(const char *s, size_t n, bool lines)
{
	if (strlen(s) != n)
		return "contains a NUL byte";
	if (!utf8_valid(s, n))
		return "is not valid UTF-8 text";
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if ((ch < 0x20 && !(lines && (ch == '\n' || ch == '\r' || ch == '\t'))) || ch == 0x7f)
			return lines ? "contains control characters (only tabs and line breaks may be used)"
				     : "contains control characters";
	}
	return NULL;
}

static bool blank(const char *s)
{
	return s[strspn(s, " \t\r\n")] == '\0';
}

static enum herald_rc check_by(const struct outbox_manual *m, struct herald_err *err)
{
	if (!m->by || blank(m->by))
		return herald_err_set(err, H_EUSAGE, "by: say who asks for this send (a person's "
				      "name, recorded as evidence)");
	size_t n = strlen(m->by);
	const char *why = text_problem(m->by, n, false);
	if (why)
		return herald_err_set(err, H_EUSAGE, "by: the name %s", why);
	if (n > OUTBOX_BY_MAX)
		return herald_err_set(err, H_EUSAGE, "by: the name is longer than %d bytes",
				      OUTBOX_BY_MAX);
	/* The name is written into the default text, where "{{" would read
	 * as a placeholder. */
	if (strstr(m->by, "{{") || strstr(m->by, "}}"))
		return herald_err_set(err, H_EUSAGE, "by: the name cannot contain \"{{\" or \"}}\"");
	return H_OK;
}

static enum herald_rc check_note(const struct outbox_manual *m, struct herald_err *err)
{
	if (!m->note)
		return m->out_of_turn && !m->drill
			? herald_err_set(err, H_EUSAGE, "note: an out-of-turn send needs a note "
					 "saying why it is sent now")
			: H_OK;
	size_t n = strlen(m->note);
	if (n > OUTBOX_NOTE_MAX)
		return herald_err_set(err, H_EUSAGE, "note: %zu bytes is more than the %d (64 KiB) "
				      "a note may hold", n, OUTBOX_NOTE_MAX);
	if (blank(m->note))
		return herald_err_set(err, H_EUSAGE, "note: the note is empty");
	const char *why = text_problem(m->note, n, true);
	return why ? herald_err_set(err, H_EUSAGE, "note: the note %s", why) : H_OK;
}

static enum herald_rc check_request(const struct outbox_manual *m, struct herald_err *err)
{
	if (!m->request)
		return H_OK;
	size_t n = strlen(m->request);
	bool ok = n > 0 && n <= 64 &&
		  strspn(m->request, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "0123456789._:-") == n;
	return ok ? H_OK : herald_err_set(err, H_EUSAGE, "request: an id of 1 to 64 letters, "
					  "digits and ._:-");
}

/* The host of an http(s) URL into out, lower-case, brackets kept off. */
static bool url_host(const char *url, char *out, size_t n)
{
	const char *h = strstr(url, "://");
	if (!h)
		return false;
	h += 3;
	size_t len = strcspn(h, "/?#");
	const char *at = memchr(h, '@', len);  /* userinfo */
	if (at) {
		len -= (size_t)(at + 1 - h);
		h = at + 1;
	}
	size_t hl;
	if (*h == '[') {
		const char *e = memchr(h, ']', len);
		if (!e)
			return false;
		h++;
		hl = (size_t)(e - h);
	} else {
		const char *colon = memchr(h, ':', len);
		hl = colon ? (size_t)(colon - h) : len;
	}
	if (hl == 0 || hl >= n)
		return false;
	for (size_t i = 0; i < hl; i++)
		out[i] = (char)(h[i] >= 'A' && h[i] <= 'Z' ? h[i] + 32 : h[i]);
	out[hl] = '\0';
	return true;
}

/* A host name or address literal that only this machine reaches. */
static bool host_local(const char *h)
{
	size_t n = strlen(h);
	if (strcmp(h, "localhost") == 0 || (n > 10 && strcmp(h + n - 10, ".localhost") == 0))
		return true;
	if (strncmp(h, "127.", 4) == 0 && strspn(h, "0123456789.") == n)
		return true;
	if (strncmp(h, "ipv6:", 5) == 0)  /* email address literal [IPv6:::1] */
		h += 5;
	return strcmp(h, "::1") == 0 || strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0 ||
	       strcmp(h, "0:0:0:0:0:0:0:1") == 0;
}

bool outbox_base_local(const char *base_url)
{
	char host[256];
	return !base_url || !url_host(base_url, host, sizeof host) || host_local(host);
}

/* Whether a message to target t is read on another machine. */
static bool target_remote(const struct fanout_target *t)
{
	char host[256];
	if (t->recipient) {
		const char *at = strrchr(t->recipient, '@');
		if (!at)
			return true;
		snprintf(host, sizeof host, "%s", at + 1);
		for (char *q = host; *q; q++)
			if (*q >= 'A' && *q <= 'Z')
				*q = (char)(*q + 32);
		size_t n = strlen(host);
		if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
			memmove(host, host + 1, n - 2);
			host[n - 2] = '\0';
		}
		return !host_local(host);
	}
	const struct plan_channel *ch = t->ch;
	const char *url = ch->webhook.value ? ch->webhook.value : ch->url.value;
	return !url || !url_host(url, host, sizeof host) || !host_local(host);
}

struct remote_ctx {
	char who[300];
	bool found;
};

static enum herald_rc find_remote(const struct fanout_target *t, void *ctx)
{
	struct remote_ctx *r = ctx;
	if (!target_remote(t))
		return H_OK;
	/* Never the URL of a webhook: it is a secret. */
	if (t->recipient)
		snprintf(r->who, sizeof r->who, "%s", t->recipient);
	else
		snprintf(r->who, sizeof r->who, "channel %s", t->ch->id);
	r->found = true;
	return H_EINVAL;  /* stop at the first */
}

static enum herald_rc check_links(const struct plan *p, const struct plan_comm *c,
				  const struct outbox_manual *m, struct herald_err *err)
{
	if (m->dry_run || !c->acknowledge || !outbox_base_local(m->base_url))
		return H_OK;
	struct remote_ctx r = { .found = false };
	if (m->drill)
		fanout_drill_each(p, c, find_remote, &r);
	else
		fanout_each(p, c, find_remote, &r);
	if (!r.found)
		return H_OK;
	if (!m->base_url)
		return herald_err_set(err, H_EINVAL,
				      "refusing to send: the acknowledgement links in messages to %s "
				      "would have no base URL; set \"base_url\" in the plan (e.g. "
				      "\"https://herald.acme.example\"), or --base-url / HERALD_BASE_URL, "
				      "to the address people reach herald at", r.who);
	return herald_err_set(err, H_EINVAL,
			      "refusing to send: the acknowledgement links in messages to %s would "
			      "point at %s, which only this machine reaches; set \"base_url\" in the "
			      "plan (e.g. \"https://herald.acme.example\"), or --base-url / "
			      "HERALD_BASE_URL, to the address people reach herald at", r.who,
			      m->base_url);
}

enum herald_rc outbox_manual_check(const struct plan *p, const struct plan_comm *c,
				   const struct outbox_manual *m, struct herald_err *err)
{
	enum herald_rc rc;
	if ((rc = check_by(m, err)) || (rc = check_note(m, err)) || (rc = check_request(m, err)))
		return rc;
	if (m->drill) {
		if (fanout_drill_count(p, c) == 0)
			return herald_err_set(err, H_EINVAL,
					      "communication %s has no drill recipients: add \"drill\": "
					      "{\"to\": [addresses]} to the plan or to the communication "
					      "(with \"channels\" for drill chat channels or webhooks)",
					      c->id);
	} else if (c->sched.kind != SCHED_MANUAL && !m->out_of_turn) {
		return herald_err_set(err, H_EINVAL,
				      "communication %s is scheduled: sending it now is out of turn "
				      "(--out-of-turn, or \"out_of_turn\": true in the API, with a note "
				      "saying why)", c->id);
	}
	return check_links(p, c, m, err);
}

void outbox_requested_by(const struct outbox_manual *m, char *out, size_t n)
{
	if (m->via && *m->via)
		snprintf(out, n, "%s (%s)", m->by ? m->by : "", m->via);
	else
		snprintf(out, n, "%s", m->by ? m->by : "");
}
