/*
 * plan_channels.c - loading the channels of a plan (see plan_channels.h):
 * each channel's type is looked up in the table of types (plan_chan.h),
 * whose row loads its keys; the pieces loaders share are here too.
 */
#include "herald/plan_channels.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "herald/plan_chan.h"

static bool url_scheme(const char *v, const char *const *schemes)
{
	for (; *schemes; schemes++) {
		size_t n = strlen(*schemes);
		if (strncasecmp(v, *schemes, n) == 0 && v[n])
			return true;
	}
	return false;
}

enum herald_rc plan_chan_url(struct pj *c, json_t *obj, const char *key,
			     bool required, const char *const *schemes,
			     const char *what, struct plan_secret *out)
{
	enum herald_rc rc = pj_get_secret(c, obj, key, required, out);
	if (rc || !out->value || out->demo)
		return rc;
	if (!url_scheme(out->value, schemes) || pj_has_ctl(out->value) ||
	    strchr(out->value, ' '))
		return PJ_FAIL_AT(c, key, "not %s%s", what,
			       out->env ? " (value from the environment, not shown)" : "");
	return H_OK;
}

enum herald_rc plan_chan_http_url(struct pj *c, json_t *obj, const char *key,
				  bool required, struct plan_secret *out)
{
	static const char *const http[] = { "https://", "http://", NULL };
	return plan_chan_url(c, obj, key, required, http, "an http(s) URL", out);
}

enum herald_rc plan_chan_load_webhook(struct pj *c, json_t *j,
				      struct plan_channel *ch)
{
	static const char *const keys[] = { "type", "webhook", NULL };
	size_t before = c->nerrors;
	pj_check_keys(c, j, keys);
	plan_chan_http_url(c, j, "webhook", true, &ch->webhook);
	return pj_since(c, before);
}

const struct chan_secret_field plan_chan_webhook_secrets[] = {
	CHAN_SECRET("webhook", webhook), { 0 }
};

/* "slack, email, … or mattermost", from the table. */
static void type_names(struct buf *out)
{
	for (size_t i = 0; chan_types[i]; i++)
		buf_printf(out, "%s%s", i == 0 ? "" : chan_types[i + 1] ? ", " : " or ",
			   chan_types[i]->name);
}

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
	ch->type = chan_type_find(type);
	if (ch->type) {
		*typed = true;
		ch->type->load(c, j, ch);
	} else {
		struct buf names;
		buf_init(&names);
		type_names(&names);
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

void plan_secret_free(struct plan_secret *s)
{
	if (s->value)
		memset(s->value, 0, strlen(s->value));
	free(s->value);
	free(s->env);
	s->value = s->env = NULL;
}

void plan_channels_free(struct plan *p)
{
	for (size_t i = 0; i < p->nchannels; i++) {
		struct plan_channel *ch = &p->channels[i];
		free(ch->id);
		plan_secret_free(&ch->webhook);
		free(ch->smtp);
		free(ch->from);
		plan_secret_free(&ch->username);
		plan_secret_free(&ch->password);
		plan_secret_free(&ch->url);
		for (size_t k = 0; k < ch->nheaders; k++) {
			free(ch->headers[k].name);
			plan_secret_free(&ch->headers[k].value);
		}
		free(ch->headers);
		plan_secret_free(&ch->secret);
		if (ch->opts && ch->type && ch->type->free_opts)
			ch->type->free_opts(ch->opts);
	}
	free(p->channels);
}

/* --------------------------------------------------------- the rows, read */

void plan_channel_secrets(const struct plan_channel *ch,
			  void (*fn)(const struct plan_secret_ref *r, void *ctx),
			  void *ctx)
{
	const struct chan_type *t = ch->type;
	if (!t)
		return;
	for (const struct chan_secret_field *f = t->secrets; f && f->key; f++) {
		const char *base = f->in_opts ? ch->opts : (const char *)ch;
		if (!base)
			continue;
		const struct plan_secret *s = (const struct plan_secret *)(base + f->offset);
		if (!s->value)
			continue;
		struct plan_secret_ref r = { .key = f->key, .s = s, .identity = f->identity };
		fn(&r, ctx);
	}
	for (size_t i = 0; t->secret_headers && i < ch->nheaders; i++) {
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
		const struct chan_type *t =
			chan_type_find(json_string_value(json_object_get(ch, "type")));
		if (!t) {
			/* Not a known type: which fields are secret is not known
			 * either, so every value but the type is hidden. */
			const char *key;
			json_t *v;
			json_object_foreach(ch, key, v)
				if (strcmp(key, "type") != 0)
					redact_value(ch, key);
			continue;
		}
		for (const struct chan_secret_field *f = t->secrets; f && f->key; f++)
			if (!f->identity)
				redact_value(ch, f->key);
		json_t *h = json_object_get(ch, "headers");
		const char *name;
		json_t *v;
		if (t->secret_headers && json_is_object(h))
			json_object_foreach(h, name, v)
				redact_value(h, name);
	}
}

/* fn on value[0..n) when it is at least min bytes long. */
static void part(const char *v, size_t n, size_t min,
		 void (*fn)(const char *part, void *ctx), void *ctx)
{
	if (n < min)
		return;
	char *p = xstrndup(v, n);
	fn(p, ctx);
	memset(p, 0, n);
	free(p);
}

void plan_secret_parts(const char *value, void (*fn)(const char *part, void *ctx),
		       void *ctx)
{
	fn(value, ctx);
	const char *auth = strstr(value, "://");
	if (!auth)
		return;
	auth += 3;
	size_t alen = strcspn(auth, "/?#");
	const char *at = memchr(auth, '@', alen), *colon = at ? memchr(auth, ':', alen) : NULL;
	if (colon && colon < at)
		part(colon + 1, (size_t)(at - colon - 1), 4, fn, ctx);
	const char *rest = auth + alen;
	part(rest, strlen(rest), 8, fn, ctx);
	for (const char *s = rest; *s && *s != '?' && *s != '#';) {
		s += strspn(s, "/");
		size_t n = strcspn(s, "/?#");
		part(s, n, 16, fn, ctx);
		s += n;
	}
	const char *q = strchr(rest, '?');
	for (const char *s = q; s && *s && *s != '#';) {
		s++;
		size_t n = strcspn(s, "&#");
		const char *eq = memchr(s, '=', n);
		if (eq)
			part(eq + 1, n - (size_t)(eq + 1 - s), 8, fn, ctx);
		s += n;
	}
}

void plan_chan_url_source(const struct plan_secret *s, struct buf *out)
{
	if (s->env)
		buf_printf(out, "; URL from the environment (%s)", s->env);
	else
		buf_adds(out, "; URL written in the plan (not shown)");
}

void plan_channel_describe(const struct plan_channel *ch, struct buf *out)
{
	const struct chan_type *t = ch->type;
	if (t && t->describe) {
		t->describe(ch, out);
		return;
	}
	buf_adds(out, t ? t->what : "?");
	plan_chan_url_source(&ch->webhook, out);
}

const char *plan_channel_type(const struct plan_channel *ch)
{
	return ch->type ? ch->type->name : "?";
}
