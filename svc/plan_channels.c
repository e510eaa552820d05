/*
 * plan_channels.c - loading the channels of a plan (see plan_channels.h):
 * Slack webhooks, SMTP email, generic webhooks with secret headers.
 */
#include "herald/plan_channels.h"

#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "herald/members.h"

static bool url_scheme(const char *v, const char *const *schemes)
{
	for (; *schemes; schemes++) {
		size_t n = strlen(*schemes);
		if (strncasecmp(v, *schemes, n) == 0 && v[n])
			return true;
	}
	return false;
}

static enum herald_rc check_url(struct pj *c, const char *key,
				const struct plan_secret *s,
				const char *const *schemes, const char *what)
{
	if (s->demo)
		return H_OK;
	if (!url_scheme(s->value, schemes) || pj_has_ctl(s->value) ||
	    strchr(s->value, ' '))
		return PJ_FAIL_AT(c, key, "not %s%s", what,
			       s->env ? " (value from the environment, not shown)" : "");
	return H_OK;
}

static const char *const http_schemes[] = { "https://", "http://", NULL };
static const char *const smtp_schemes[] = { "smtp://", "smtps://", NULL };

static enum herald_rc load_slack(struct pj *c, json_t *j,
				 struct plan_channel *ch)
{
	static const char *const keys[] = { "type", "webhook", NULL };
	size_t before = c->nerrors;
	pj_check_keys(c, j, keys);
	if (!pj_get_secret(c, j, "webhook", true, &ch->webhook))
		check_url(c, "webhook", &ch->webhook, http_schemes, "an http(s) URL");
	return pj_since(c, before);
}

static enum herald_rc load_email(struct pj *c, json_t *j,
				 struct plan_channel *ch)
{
	static const char *const keys[] = { "type", "smtp", "from", "username",
					    "password", "starttls", NULL };
	struct plan_secret smtp = { 0 }, from = { 0 };
	size_t before = c->nerrors;
	pj_check_keys(c, j, keys);
	if (!pj_get_secret(c, j, "smtp", true, &smtp))
		check_url(c, "smtp", &smtp, smtp_schemes, "an smtp:// or smtps:// URL");
	if (!pj_get_secret(c, j, "from", true, &from) && !from.demo &&
	    !members_valid_mailbox(from.value))
		PJ_FAIL_AT(c, "from", "\"%.80s\" is not a mailbox (\"Name <user@example.org>\" or user@example.org)",
			   from.env ? "(from the environment)" : from.value);
	pj_get_secret(c, j, "username", false, &ch->username);
	if (!pj_get_secret(c, j, "password", false, &ch->password) &&
	    ch->password.value && !json_object_get(j, "username"))
		PJ_FAIL_AT(c, "password", "a password needs a username");
	pj_get_bool(c, j, "starttls", true, &ch->starttls);
	ch->smtp = smtp.value;
	ch->from = from.value;
	free(smtp.env);
	free(from.env);
	return pj_since(c, before);
}

static bool valid_header_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
			return false;
	return true;
}

static enum herald_rc load_headers(struct pj *c, json_t *h,
				   struct plan_channel *ch)
{
	if (!h)
		return H_OK;
	size_t o = pj_push_key(c, "headers");
	size_t before = c->nerrors;
	if (pj_want_object(c, h)) {
		pj_pop(c, o);
		return H_EINVAL;
	}
	ch->headers = xcalloc(json_object_size(h) ? json_object_size(h) : 1,
			      sizeof *ch->headers);
	const char *name;
	json_t *v;
	json_object_foreach(h, name, v) {
		if (pj_full(c))
			break;
		if (!valid_header_name(name)) {
			PJ_FAIL_AT(c, name, "\"%.60s\" is not a valid HTTP header name", name);
			continue;
		}
		struct plan_header *hd = &ch->headers[ch->nheaders++];
		hd->name = xstrdup(name);
		if (!pj_get_secret(c, h, name, true, &hd->value) &&
		    pj_has_ctl(hd->value.value))
			PJ_FAIL_AT(c, name, "header value contains control characters");
	}
	pj_pop(c, o);
	return pj_since(c, before);
}

static enum herald_rc load_webhook(struct pj *c, json_t *j,
				   struct plan_channel *ch)
{
	static const char *const keys[] = { "type", "url", "headers", "secret",
					    NULL };
	size_t before = c->nerrors;
	pj_check_keys(c, j, keys);
	if (!pj_get_secret(c, j, "url", true, &ch->url))
		check_url(c, "url", &ch->url, http_schemes, "an http(s) URL");
	load_headers(c, json_object_get(j, "headers"), ch);
	pj_get_secret(c, j, "secret", false, &ch->secret);
	return pj_since(c, before);
}

/* -------------------------------------------------------- the type table */

/* A secret-bearing field: a struct plan_secret inside struct plan_channel. */
struct secret_field {
	const char *key;
	size_t offset;
	bool identity;   /* an account name, see struct plan_secret_ref */
};

#define SECRET(k, member) { k, offsetof(struct plan_channel, member), false }
#define IDENTITY(k, member) { k, offsetof(struct plan_channel, member), true }

/*
 * One row per channel type: its plan name, the loader of its keys, and
 * where its secrets are (masking and lint read this list, so a new field
 * cannot be forgotten by one of them).  Indexed by enum chan_type.
 */
static const struct chan_kind {
	const char *name;
	enum herald_rc (*load)(struct pj *c, json_t *j, struct plan_channel *ch);
	struct secret_field secrets[4];  /* ends at a NULL key */
	bool secret_headers;             /* header values are secrets too */
} kinds[] = {
	[CHAN_SLACK] = { "slack", load_slack, { SECRET("webhook", webhook) } },
	[CHAN_EMAIL] = { "email", load_email,
			 { IDENTITY("username", username), SECRET("password", password) } },
	[CHAN_WEBHOOK] = { "webhook", load_webhook,
			   { SECRET("url", url), SECRET("secret", secret) }, true },
};

#define NKINDS (sizeof kinds / sizeof kinds[0])

/* Loads one channel; *typed says whether its type is known. */
static enum herald_rc load_channel(struct pj *c, const char *id, json_t *j,
				   struct plan_channel *ch, bool *typed)
{
	ch->id = xstrdup(id);
	size_t before = c->nerrors;
	pj_check_id(c, id);
	char *type = NULL;
	if (pj_want_object(c, j) || pj_get_string(c, j, "type", true, &type))
		return H_EINVAL;
	size_t k = 0;
	while (k < NKINDS && strcmp(kinds[k].name, type) != 0)
		k++;
	if (k < NKINDS) {
		ch->type = (enum chan_type)k;
		*typed = true;
		kinds[k].load(c, j, ch);
	} else {
		struct buf names;
		buf_init(&names);
		for (size_t i = 0; i < NKINDS; i++)
			buf_printf(&names, "%s%s", i == 0 ? "" : i + 1 == NKINDS ? " or " : ", ",
				   kinds[i].name);
		PJ_FAIL_AT(c, "type", "unknown channel type \"%.40s\" (%s)", type, names.data);
		buf_free(&names);
	}
	free(type);
	return pj_since(c, before);
}

enum herald_rc plan_channels_load(struct pj *c, json_t *j)
{
	size_t o = pj_push_key(c, "channels");
	size_t before = c->nerrors;
	struct plan *p = c->plan;
	if (pj_want_object(c, j)) {
		pj_pop(c, o);
		return H_EINVAL;
	}
	size_t n = json_object_size(j) ? json_object_size(j) : 1;
	p->channels = xcalloc(n, sizeof *p->channels);
	c->chan_typed = xcalloc(n, sizeof *c->chan_typed);
	const char *id;
	json_t *v;
	json_object_foreach(j, id, v) {
		if (pj_full(c))
			break;
		size_t o2 = pj_push_key(c, id);
		size_t i = p->nchannels++;
		load_channel(c, id, v, &p->channels[i], &c->chan_typed[i]);
		pj_pop(c, o2);
	}
	pj_pop(c, o);
	return pj_since(c, before);
}

/* -------------------------------------------------------------- freeing */

static void secret_free(struct plan_secret *s)
{
	if (s->value)
		memset(s->value, 0, strlen(s->value));
	free(s->value);
	free(s->env);
}

void plan_channels_free(struct plan *p)
{
	for (size_t i = 0; i < p->nchannels; i++) {
		struct plan_channel *ch = &p->channels[i];
		free(ch->id);
		secret_free(&ch->webhook);
		free(ch->smtp);
		free(ch->from);
		secret_free(&ch->username);
		secret_free(&ch->password);
		secret_free(&ch->url);
		for (size_t k = 0; k < ch->nheaders; k++) {
			free(ch->headers[k].name);
			secret_free(&ch->headers[k].value);
		}
		free(ch->headers);
		secret_free(&ch->secret);
	}
	free(p->channels);
}

void plan_channel_secrets(const struct plan_channel *ch,
			  void (*fn)(const struct plan_secret_ref *r, void *ctx),
			  void *ctx)
{
	if ((size_t)ch->type >= NKINDS)
		return;
	const struct chan_kind *k = &kinds[ch->type];
	for (const struct secret_field *f = k->secrets; f->key; f++) {
		const struct plan_secret *s =
			(const struct plan_secret *)((const char *)ch + f->offset);
		if (!s->value)
			continue;
		struct plan_secret_ref r = { .key = f->key, .s = s, .identity = f->identity };
		fn(&r, ctx);
	}
	for (size_t i = 0; k->secret_headers && i < ch->nheaders; i++) {
		struct plan_secret_ref r = { .key = "headers", .header = ch->headers[i].name,
					     .s = &ch->headers[i].value };
		if (r.s->value)
			fn(&r, ctx);
	}
}

static void redact_value(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (json_is_string(v) && strncmp(json_string_value(v), "env:", 4) != 0)
		json_object_set_new(obj, key, json_string("[redacted]"));
}

void plan_channels_redact(json_t *channels)
{
	if (!json_is_object(channels))
		return;
	const char *id;
	json_t *ch;
	json_object_foreach(channels, id, ch) {
		if (!json_is_object(ch))
			continue;
		const char *type = json_string_value(json_object_get(ch, "type"));
		size_t k = 0;
		while (type && k < NKINDS && strcmp(kinds[k].name, type) != 0)
			k++;
		if (!type || k == NKINDS) {
			/* Not a known type: which fields are secret is not known
			 * either, so every value but the type is hidden. */
			const char *key;
			json_t *v;
			json_object_foreach(ch, key, v)
				if (strcmp(key, "type") != 0)
					redact_value(ch, key);
			continue;
		}
		for (const struct secret_field *f = kinds[k].secrets; f->key; f++)
			if (!f->identity)
				redact_value(ch, f->key);
		json_t *h = json_object_get(ch, "headers");
		const char *name;
		json_t *v;
		if (kinds[k].secret_headers && json_is_object(h))
			json_object_foreach(h, name, v)
				redact_value(h, name);
	}
}

const char *chan_type_name(enum chan_type t)
{
	return (size_t)t < NKINDS ? kinds[t].name : "?";
}
