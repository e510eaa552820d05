/*
 * plan.c - loading and validating a communication plan (see plan.h).
 *
 * The JSON tree (jansson) is walked once; every value is checked where it
 * is read, and a failure reports the JSON path that led there.  Nothing of
 * the jansson tree outlives plan_load: strings are copied out.
 */
#include "herald/plan.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/members.h"
#include "herald/template.h"
#include "herald/timeutil.h"
#include "herald/tz.h"
#include "herald/util.h"

#define PLAN_MAX_BYTES (16u << 20)
#define STRING_MAX 65536

/*
 * A set of ids (open addressing, FNV-1a): duplicate communication ids are
 * found in linear time, which matters for plans of thousands of them.
 */
struct idset {
	const char **ids;   /* borrowed from the plan */
	size_t *index;
	size_t cap, n;
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Adds id with its index; returns the index already there, or -1. */
static long idset_add(struct idset *set, const char *id, size_t index)
{
	if (2 * (set->n + 1) > set->cap) {
		struct idset big = { .cap = set->cap ? set->cap * 2 : 64 };
		big.ids = xcalloc(big.cap, sizeof *big.ids);
		big.index = xcalloc(big.cap, sizeof *big.index);
		for (size_t i = 0; i < set->cap; i++)
			if (set->ids[i])
				idset_add(&big, set->ids[i], set->index[i]);
		free(set->ids);
		free(set->index);
		*set = big;
	}
	size_t i = fnv1a(id) & (set->cap - 1);
	for (; set->ids[i]; i = (i + 1) & (set->cap - 1))
		if (strcmp(set->ids[i], id) == 0)
			return (long)set->index[i];
	set->ids[i] = id;
	set->index[i] = index;
	set->n++;
	return -1;
}

static void idset_free(struct idset *set)
{
	free(set->ids);
	free(set->index);
}

struct ctx {
	struct idset comm_ids;
	const char *file;
	const struct plan_load_opts *opts;
	struct herald_err *err;
	struct buf path;
	struct plan *plan;
};

/* ---------------------------------------------------------------- paths */

static bool plain_key(const char *k)
{
	if (!*k)
		return false;
	for (; *k; k++)
		if (!isalnum((unsigned char)*k) && *k != '_' && *k != '-')
			return false;
	return true;
}

static size_t push_key(struct ctx *c, const char *key)
{
	size_t old = c->path.len;
	if (plain_key(key))
		buf_printf(&c->path, "%s%s", old ? "." : "", key);
	else
		buf_printf(&c->path, "[\"%.60s\"]", key);
	return old;
}

static size_t push_index(struct ctx *c, size_t i)
{
	size_t old = c->path.len;
	buf_printf(&c->path, "[%zu]", i);
	return old;
}

static void pop(struct ctx *c, size_t old)
{
	c->path.len = old;
	if (c->path.data)
		c->path.data[old] = '\0';
}

__attribute__((format(printf, 2, 3)))
static enum herald_rc fail(struct ctx *c, const char *fmt, ...)
{
	char msg[HERALD_ERR_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return herald_err_set(c->err, H_EINVAL, "%s: %s",
			      c->path.len ? c->path.data : "(top level)", msg);
}

/* Fails at path.key without keeping key on the path. */
#define FAIL_AT(c, key, ...)                                \
	({                                                  \
		size_t _o = push_key((c), (key));           \
		enum herald_rc _r = fail((c), __VA_ARGS__); \
		pop((c), _o);                               \
		_r;                                         \
	})

static const char *json_kind(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "a list";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "a number";
	case JSON_REAL: return "a number";
	case JSON_TRUE: return "true";
	case JSON_FALSE: return "false";
	case JSON_NULL: return "null";
	}
	return "a value";
}

/* ----------------------------------------------------------- primitives */

/* Levenshtein distance, for "did you mean" on unknown keys. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 40 || lb > 40)
		return 99;
	size_t row[41];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

/* Unknown keys are errors (a typo must not disable anything), x- aside. */
static enum herald_rc check_keys(struct ctx *c, json_t *obj,
				 const char *const *allowed)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		if (strncmp(key, "x-", 2) == 0)
			continue;
		const char *const *a;
		for (a = allowed; *a; a++)
			if (strcmp(*a, key) == 0)
				break;
		if (*a)
			continue;
		/* Unknown: suggest the closest allowed key, if close. */
		const char *best = NULL;
		size_t bestd = 3;
		for (a = allowed; *a; a++) {
			size_t d = edit_distance(*a, key);
			if (d < bestd)
				bestd = d, best = *a;
		}
		if (best)
			return FAIL_AT(c, key, "unknown key \"%.60s\" (did you mean \"%s\"?)",
				       key, best);
		return FAIL_AT(c, key, "unknown key \"%.60s\" (keys starting with x- are ignored)",
			       key);
	}
	return H_OK;
}

static enum herald_rc want_object(struct ctx *c, json_t *j)
{
	if (!json_is_object(j))
		return fail(c, "expected an object, found %s", json_kind(j));
	return H_OK;
}

static enum herald_rc string_value(struct ctx *c, json_t *j, char **out)
{
	if (!json_is_string(j))
		return fail(c, "expected a string, found %s", json_kind(j));
	size_t len = json_string_length(j);
	if (len > STRING_MAX)
		return fail(c, "string too long (%zu bytes; at most %d)", len,
			    STRING_MAX);
	if (memchr(json_string_value(j), '\0', len))
		return fail(c, "string contains a NUL character");
	*out = xstrndup(json_string_value(j), len);
	return H_OK;
}

/* Reads obj.key as a string; a missing key is an error when required. */
static enum herald_rc get_string(struct ctx *c, json_t *obj, const char *key,
				 bool required, char **out)
{
	json_t *j = json_object_get(obj, key);
	*out = NULL;
	if (!j) {
		if (required)
			return FAIL_AT(c, key, "required key \"%s\" is missing", key);
		return H_OK;
	}
	size_t o = push_key(c, key);
	enum herald_rc rc = string_value(c, j, out);
	if (!rc && required && !**out) {
		rc = fail(c, "must not be empty");
		xfree(out); /* callers own *out only on success */
	}
	pop(c, o);
	return rc;
}

static enum herald_rc get_bool(struct ctx *c, json_t *obj, const char *key,
			       bool dflt, bool *out)
{
	json_t *j = json_object_get(obj, key);
	*out = dflt;
	if (!j)
		return H_OK;
	if (!json_is_boolean(j))
		return FAIL_AT(c, key, "expected true or false, found %s",
			       json_kind(j));
	*out = json_is_true(j);
	return H_OK;
}

static bool valid_id(const char *s)
{
	if (!*s || strlen(s) > 128)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

static enum herald_rc check_id(struct ctx *c, const char *id)
{
	if (!valid_id(id))
		return fail(c, "\"%.60s\" is not a valid id (letters, digits, '.', '_', '-'; at most 128)",
			    id);
	return H_OK;
}

/* ------------------------------------------------------------- secrets */

static bool valid_env_name(const char *s)
{
	if (!*s || isdigit((unsigned char)*s) || strlen(s) > 128)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/*
 * Reads obj.key, resolving env:NAME.  Messages name the variable, never
 * its value.
 */
static enum herald_rc get_secret(struct ctx *c, json_t *obj, const char *key,
				 bool required, struct plan_secret *out)
{
	char *raw = NULL;
	enum herald_rc rc = get_string(c, obj, key, required, &raw);
	if (rc || !raw)
		return rc;
	if (strncmp(raw, "env:", 4) != 0) {
		out->value = raw;
		return H_OK;
	}
	const char *name = raw + 4;
	if (!valid_env_name(name)) {
		rc = FAIL_AT(c, key, "\"%.60s\" is not a valid environment variable name",
			     name);
		free(raw);
		return rc;
	}
	const struct plan_load_opts *o = c->opts;
	const char *v = o && o->getenv ? o->getenv(name, o->ctx) : getenv(name);
	if (!v && o && o->demo_secrets) {
		if (o->on_demo)
			o->on_demo(name, o->ctx);
		out->value = xasprintf("demo-%s", name);
	} else if (!v) {
		rc = FAIL_AT(c, key, "environment variable %s is not set", name);
		free(raw);
		return rc;
	} else {
		out->value = xstrdup(v);
	}
	out->env = xstrdup(name);
	free(raw);
	return H_OK;
}

static bool is_demo(const struct ctx *c, const struct plan_secret *s)
{
	return s->env && c->opts && c->opts->demo_secrets &&
	       strncmp(s->value, "demo-", 5) == 0 &&
	       strcmp(s->value + 5, s->env) == 0;
}

static bool has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* ------------------------------------------------------------- channels */

static bool url_scheme(const char *v, const char *const *schemes)
{
	for (; *schemes; schemes++) {
		size_t n = strlen(*schemes);
		if (strncasecmp(v, *schemes, n) == 0 && v[n])
			return true;
	}
	return false;
}

static enum herald_rc check_url(struct ctx *c, const char *key,
				const struct plan_secret *s,
				const char *const *schemes, const char *what)
{
	if (is_demo(c, s))
		return H_OK;
	if (!url_scheme(s->value, schemes) || has_ctl(s->value) ||
	    strchr(s->value, ' '))
		return FAIL_AT(c, key, "not %s%s", what,
			       s->env ? " (value from the environment, not shown)" : "");
	return H_OK;
}

static const char *const http_schemes[] = { "https://", "http://", NULL };
static const char *const smtp_schemes[] = { "smtp://", "smtps://", NULL };

static enum herald_rc load_slack(struct ctx *c, json_t *j,
				 struct plan_channel *ch)
{
	static const char *const keys[] = { "type", "webhook", NULL };
	enum herald_rc rc = check_keys(c, j, keys);
	if (!rc)
		rc = get_secret(c, j, "webhook", true, &ch->webhook);
	if (!rc)
		rc = check_url(c, "webhook", &ch->webhook, http_schemes,
			       "an http(s) URL");
	return rc;
}

static enum herald_rc load_email(struct ctx *c, json_t *j,
				 struct plan_channel *ch)
{
	static const char *const keys[] = { "type", "smtp", "from", "username",
					    "password", "starttls", NULL };
	struct plan_secret smtp = { 0 }, from = { 0 };
	enum herald_rc rc = check_keys(c, j, keys);
	if (!rc)
		rc = get_secret(c, j, "smtp", true, &smtp);
	if (!rc)
		rc = check_url(c, "smtp", &smtp, smtp_schemes,
			       "an smtp:// or smtps:// URL");
	if (!rc)
		rc = get_secret(c, j, "from", true, &from);
	if (!rc && !is_demo(c, &from) && !members_valid_mailbox(from.value))
		rc = FAIL_AT(c, "from", "\"%.80s\" is not a mailbox (\"Name <user@example.org>\" or user@example.org)",
			     from.env ? "(from the environment)" : from.value);
	if (!rc)
		rc = get_secret(c, j, "username", false, &ch->username);
	if (!rc)
		rc = get_secret(c, j, "password", false, &ch->password);
	if (!rc && ch->password.value && !ch->username.value)
		rc = FAIL_AT(c, "password", "a password needs a username");
	if (!rc)
		rc = get_bool(c, j, "starttls", true, &ch->starttls);
	ch->smtp = smtp.value;
	ch->from = from.value;
	free(smtp.env);
	free(from.env);
	return rc;
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

static enum herald_rc load_headers(struct ctx *c, json_t *h,
				   struct plan_channel *ch)
{
	if (!h)
		return H_OK;
	size_t o = push_key(c, "headers");
	enum herald_rc rc = want_object(c, h);
	const char *name;
	json_t *v;
	if (!rc)
		ch->headers = xcalloc(json_object_size(h) ? json_object_size(h) : 1,
				      sizeof *ch->headers);
	json_object_foreach(h, name, v) {
		if (rc)
			break;
		if (!valid_header_name(name)) {
			rc = FAIL_AT(c, name, "\"%.60s\" is not a valid HTTP header name", name);
			break;
		}
		struct plan_header *hd = &ch->headers[ch->nheaders++];
		hd->name = xstrdup(name);
		rc = get_secret(c, h, name, true, &hd->value);
		if (!rc && has_ctl(hd->value.value))
			rc = FAIL_AT(c, name, "header value contains control characters");
	}
	pop(c, o);
	return rc;
}

static enum herald_rc load_webhook(struct ctx *c, json_t *j,
				   struct plan_channel *ch)
{
	static const char *const keys[] = { "type", "url", "headers", "secret",
					    NULL };
	enum herald_rc rc = check_keys(c, j, keys);
	if (!rc)
		rc = get_secret(c, j, "url", true, &ch->url);
	if (!rc)
		rc = check_url(c, "url", &ch->url, http_schemes, "an http(s) URL");
	if (!rc)
		rc = load_headers(c, json_object_get(j, "headers"), ch);
	if (!rc)
		rc = get_secret(c, j, "secret", false, &ch->secret);
	return rc;
}

static enum herald_rc load_channel(struct ctx *c, const char *id, json_t *j,
				   struct plan_channel *ch)
{
	ch->id = xstrdup(id);
	enum herald_rc rc = check_id(c, id);
	if (!rc)
		rc = want_object(c, j);
	char *type = NULL;
	if (!rc)
		rc = get_string(c, j, "type", true, &type);
	if (rc)
		return rc;
	if (strcmp(type, "slack") == 0) {
		ch->type = CHAN_SLACK;
		rc = load_slack(c, j, ch);
	} else if (strcmp(type, "email") == 0) {
		ch->type = CHAN_EMAIL;
		rc = load_email(c, j, ch);
	} else if (strcmp(type, "webhook") == 0) {
		ch->type = CHAN_WEBHOOK;
		rc = load_webhook(c, j, ch);
	} else {
		rc = FAIL_AT(c, "type", "unknown channel type \"%.40s\" (slack, email or webhook)",
			     type);
	}
	free(type);
	return rc;
}

static enum herald_rc load_channels(struct ctx *c, json_t *j)
{
	size_t o = push_key(c, "channels");
	enum herald_rc rc = want_object(c, j);
	struct plan *p = c->plan;
	if (!rc)
		p->channels = xcalloc(json_object_size(j) ? json_object_size(j) : 1,
				      sizeof *p->channels);
	const char *id;
	json_t *v;
	json_object_foreach(j, id, v) {
		if (rc)
			break;
		size_t o2 = push_key(c, id);
		rc = load_channel(c, id, v, &p->channels[p->nchannels++]);
		pop(c, o2);
	}
	pop(c, o);
	return rc;
}

/* ------------------------------------------------------------ audiences */

static enum herald_rc load_inline_members(struct ctx *c, json_t *j,
					  struct plan_audience *a)
{
	static const char *const keys[] = { "name", "email", NULL };
	a->members = xcalloc(json_array_size(j) ? json_array_size(j) : 1,
			     sizeof *a->members);
	enum herald_rc rc = H_OK;
	size_t i;
	json_t *m;
	json_array_foreach(j, i, m) {
		size_t o = push_index(c, i);
		struct plan_member *pm = &a->members[a->nmembers];
		rc = want_object(c, m);
		if (!rc)
			rc = check_keys(c, m, keys);
		if (!rc)
			rc = get_string(c, m, "name", true, &pm->name);
		if (!rc)
			rc = get_string(c, m, "email", true, &pm->email);
		if (!rc && !members_valid_addr(pm->email))
			rc = FAIL_AT(c, "email", "\"%.80s\" is not an email address",
				     pm->email);
		if (!rc && has_ctl(pm->name))
			rc = FAIL_AT(c, "name", "name contains control characters");
		a->nmembers++;
		pop(c, o);
		if (rc)
			break;
	}
	return rc;
}

static enum herald_rc load_members(struct ctx *c, json_t *j,
				   struct plan_audience *a)
{
	if (!j)
		return H_OK;
	a->members_given = true;
	size_t o = push_key(c, "members");
	enum herald_rc rc;
	if (json_is_array(j)) {
		rc = load_inline_members(c, j, a);
	} else if (json_is_string(j) &&
		   strncmp(json_string_value(j), "file:", 5) == 0) {
		char msg[HERALD_ERR_LEN];
		rc = members_load_csv(c->file, json_string_value(j) + 5,
				      &a->members, &a->nmembers, msg, sizeof msg);
		if (rc)
			rc = fail(c, "%s", msg);
	} else {
		rc = fail(c, "expected a list of {\"name\", \"email\"} or \"file:PATH.csv\"");
	}
	pop(c, o);
	return rc;
}

static enum herald_rc load_address_list(struct ctx *c, json_t *j,
					struct plan_deliver *d)
{
	d->to = TO_LIST;
	d->addrs = xcalloc(json_array_size(j) ? json_array_size(j) : 1,
			   sizeof *d->addrs);
	if (json_array_size(j) == 0)
		return fail(c, "the address list is empty");
	size_t i;
	json_t *v;
	json_array_foreach(j, i, v) {
		size_t o = push_index(c, i);
		enum herald_rc rc = string_value(c, v, &d->addrs[d->naddrs]);
		if (rc == H_OK)
			d->naddrs++;
		if (!rc && !members_valid_addr(d->addrs[d->naddrs - 1]))
			rc = fail(c, "\"%.80s\" is not an email address",
				  d->addrs[d->naddrs - 1]);
		pop(c, o);
		if (rc)
			return rc;
	}
	return H_OK;
}

static enum herald_rc load_deliver_entry(struct ctx *c, json_t *j,
					 struct plan_audience *a,
					 struct plan_deliver *d)
{
	static const char *const keys[] = { "channel", "to", NULL };
	enum herald_rc rc = want_object(c, j);
	if (!rc)
		rc = check_keys(c, j, keys);
	char *chid = NULL;
	if (!rc)
		rc = get_string(c, j, "channel", true, &chid);
	if (rc)
		return rc;
	long ci = plan_channel_index(c->plan, chid);
	if (ci < 0) {
		rc = FAIL_AT(c, "channel", "unknown channel \"%.60s\"", chid);
		free(chid);
		return rc;
	}
	free(chid);
	d->channel = (size_t)ci;
	const struct plan_channel *ch = &c->plan->channels[ci];
	json_t *to = json_object_get(j, "to");
	if (!to) {
		if (ch->type == CHAN_EMAIL)
			return fail(c, "email delivery needs \"to\": a list of addresses or \"members\"");
		d->to = TO_CHANNEL;
		return H_OK;
	}
	if (ch->type != CHAN_EMAIL)
		return FAIL_AT(c, "to", "\"to\" applies only to email channels (\"%s\" is %s)",
			       ch->id, chan_type_name(ch->type));
	size_t o = push_key(c, "to");
	if (json_is_string(to) && strcmp(json_string_value(to), "members") == 0) {
		d->to = TO_MEMBERS;
		if (!a->members_given)
			rc = fail(c, "\"members\" needs the audience to list its members");
	} else if (json_is_array(to)) {
		rc = load_address_list(c, to, d);
	} else {
		rc = fail(c, "expected a list of addresses or \"members\"");
	}
	pop(c, o);
	return rc;
}

static enum herald_rc load_deliver(struct ctx *c, json_t *j,
				   struct plan_audience *a)
{
	if (!j)
		return H_OK;
	size_t o = push_key(c, "deliver");
	enum herald_rc rc = H_OK;
	if (!json_is_array(j)) {
		rc = fail(c, "expected a list, found %s", json_kind(j));
		pop(c, o);
		return rc;
	}
	a->deliver = xcalloc(json_array_size(j) ? json_array_size(j) : 1,
			     sizeof *a->deliver);
	size_t i;
	json_t *v;
	json_array_foreach(j, i, v) {
		size_t o2 = push_index(c, i);
		rc = load_deliver_entry(c, v, a, &a->deliver[a->ndeliver++]);
		pop(c, o2);
		if (rc)
			break;
	}
	pop(c, o);
	return rc;
}

static enum herald_rc load_audience(struct ctx *c, const char *id, json_t *j,
				    struct plan_audience *a)
{
	static const char *const keys[] = { "name", "scope", "feed", "members",
					    "deliver", NULL };
	a->id = xstrdup(id);
	enum herald_rc rc = check_id(c, id);
	if (!rc)
		rc = want_object(c, j);
	if (!rc)
		rc = check_keys(c, j, keys);
	if (!rc)
		rc = get_string(c, j, "name", false, &a->name);
	if (!rc && !a->name)
		a->name = xstrdup(id);
	char *scope = NULL, *feed = NULL;
	if (!rc)
		rc = get_string(c, j, "scope", true, &scope);
	if (!rc) {
		if (strcmp(scope, "internal") == 0)
			a->external = false;
		else if (strcmp(scope, "external") == 0)
			a->external = true;
		else
			rc = FAIL_AT(c, "scope", "\"%.40s\" is not a scope (internal or external)",
				     scope);
	}
	if (!rc)
		rc = get_string(c, j, "feed", false, &feed);
	if (!rc && feed) {
		if (strcmp(feed, "public") == 0)
			a->feed = FEED_PUBLIC;
		else if (strcmp(feed, "private") == 0)
			a->feed = FEED_PRIVATE;
		else if (strcmp(feed, "none") == 0)
			a->feed = FEED_NONE;
		else
			rc = FAIL_AT(c, "feed", "\"%.40s\" is not a feed kind (public, private or none)",
				     feed);
	}
	free(scope);
	free(feed);
	if (!rc)
		rc = load_members(c, json_object_get(j, "members"), a);
	if (!rc)
		rc = load_deliver(c, json_object_get(j, "deliver"), a);
	return rc;
}

static enum herald_rc load_audiences(struct ctx *c, json_t *j)
{
	size_t o = push_key(c, "audiences");
	enum herald_rc rc = want_object(c, j);
	struct plan *p = c->plan;
	if (!rc && json_object_size(j) == 0)
		rc = fail(c, "a plan needs at least one audience");
	if (!rc)
		p->audiences = xcalloc(json_object_size(j), sizeof *p->audiences);
	const char *id;
	json_t *v;
	json_object_foreach(j, id, v) {
		if (rc)
			break;
		size_t o2 = push_key(c, id);
		rc = load_audience(c, id, v, &p->audiences[p->naudiences++]);
		pop(c, o2);
	}
	pop(c, o);
	return rc;
}

/* ------------------------------------------------------------ schedules */

static enum herald_rc get_local(struct ctx *c, json_t *obj, const char *key,
				bool required, bool *has, int64_t *out)
{
	char *s = NULL;
	enum herald_rc rc = get_string(c, obj, key, required, &s);
	if (has)
		*has = s != NULL;
	if (rc || !s)
		return rc;
	if (!parse_local(s, out))
		rc = FAIL_AT(c, key, "\"%.40s\" is not a local time YYYY-MM-DDTHH:MM[:SS] "
			     "(a real date, no offset: the time zone comes from the plan)", s);
	free(s);
	return rc;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static enum herald_rc get_local_list(struct ctx *c, json_t *obj,
				     const char *key, int64_t **out, size_t *n)
{
	json_t *j = json_object_get(obj, key);
	if (!j)
		return H_OK;
	size_t o = push_key(c, key);
	enum herald_rc rc = H_OK;
	if (!json_is_array(j)) {
		rc = fail(c, "expected a list of local times, found %s", json_kind(j));
		pop(c, o);
		return rc;
	}
	*out = xcalloc(json_array_size(j) ? json_array_size(j) : 1, sizeof **out);
	size_t i;
	json_t *v;
	json_array_foreach(j, i, v) {
		size_t o2 = push_index(c, i);
		char *s = NULL;
		rc = string_value(c, v, &s);
		if (!rc && !parse_local(s, &(*out)[*n]))
			rc = fail(c, "\"%.40s\" is not a local time YYYY-MM-DDTHH:MM[:SS]", s);
		for (size_t k = 0; !rc && k < *n; k++)
			if ((*out)[k] == (*out)[*n])
				rc = fail(c, "\"%.40s\" is listed twice", s);
		free(s);
		pop(c, o2);
		if (rc)
			break;
		(*n)++;
	}
	if (!rc)
		qsort(*out, *n, sizeof **out, cmp_i64);
	pop(c, o);
	return rc;
}

static enum herald_rc load_schedule_common(struct ctx *c, json_t *j,
					   struct schedule *s)
{
	char *dur = NULL;
	enum herald_rc rc = get_string(c, j, "duration", false, &dur);
	s->duration = 1800;
	if (!rc && dur && (!parse_duration(dur, &s->duration) || s->duration == 0 ||
			   s->duration > 366 * 86400))
		rc = FAIL_AT(c, "duration", "\"%.40s\" is not a duration such as PT30M, PT1H or P1D",
			     dur);
	free(dur);
	if (!rc)
		rc = get_local(c, j, "until", false, &s->has_until, &s->until);
	if (!rc)
		rc = get_local_list(c, j, "except", &s->except, &s->nexcept);
	if (!rc)
		rc = get_string(c, j, "timezone", false, &s->tzid);
	if (!rc && s->tzid) {
		s->tz = tz_get(s->tzid);
		if (!s->tz)
			rc = FAIL_AT(c, "timezone", "unknown time zone \"%.60s\" (an IANA name such as Europe/London)",
				     s->tzid);
	}
	if (!rc && !s->tz)
		s->tz = c->plan->tz;
	return rc;
}

static enum herald_rc load_schedule(struct ctx *c, json_t *j,
				    struct schedule *s)
{
	static const char *const keys[] = { "cadence", "rrule", "start", "at",
					    "trigger", "duration", "until",
					    "except", "timezone", NULL };
	size_t o = push_key(c, "schedule");
	enum herald_rc rc = want_object(c, j);
	if (!rc)
		rc = check_keys(c, j, keys);
	if (rc)
		goto out;
	const char *kinds[] = { "cadence", "rrule", "at", "trigger" };
	int nk = 0;
	for (int i = 0; i < 4; i++)
		nk += json_object_get(j, kinds[i]) != NULL;
	if (nk != 1) {
		rc = fail(c, nk ? "give exactly one of cadence, rrule, at or trigger"
				: "needs one of cadence, rrule, at or trigger");
		goto out;
	}
	if (json_object_get(j, "trigger")) {
		char *t = NULL;
		s->kind = SCHED_MANUAL;
		rc = get_string(c, j, "trigger", true, &t);
		if (!rc && strcmp(t, "manual") != 0)
			rc = FAIL_AT(c, "trigger", "\"%.40s\" is not a trigger (only \"manual\")", t);
		free(t);
		if (!rc && json_object_size(j) > 1) {
			const char *k;
			json_t *v;
			json_object_foreach(j, k, v)
				if (strcmp(k, "trigger") != 0 && strncmp(k, "x-", 2) != 0) {
					rc = FAIL_AT(c, k, "a manual trigger takes no \"%s\"", k);
					break;
				}
		}
		goto out;
	}
	rc = load_schedule_common(c, j, s);
	if (rc)
		goto out;
	if (json_object_get(j, "at")) {
		s->kind = SCHED_AT;
		if (json_object_get(j, "start")) {
			rc = FAIL_AT(c, "start", "\"at\" lists its own times; \"start\" does not apply");
			goto out;
		}
		rc = get_local_list(c, j, "at", &s->at, &s->nat);
		if (!rc && s->nat == 0)
			rc = FAIL_AT(c, "at", "the list of times is empty");
		goto out;
	}
	s->kind = SCHED_RRULE;
	rc = get_local(c, j, "start", true, NULL, &s->start);
	if (rc)
		goto out;
	if (s->has_until && s->until < s->start) {
		rc = FAIL_AT(c, "until", "is before start");
		goto out;
	}
	const char *key = json_object_get(j, "cadence") ? "cadence" : "rrule";
	char *text = NULL;
	rc = get_string(c, j, key, true, &text);
	if (rc)
		goto out;
	const char *rule = text;
	if (strcmp(key, "cadence") == 0) {
		rule = sched_cadence_rule(text);
		if (!rule) {
			rc = FAIL_AT(c, key, "unknown cadence \"%.40s\" (daily, weekly, fortnightly, "
				     "monthly, quarterly, semiannually or annually)", text);
			free(text);
			goto out;
		}
		s->cadence = xstrdup(text);
	}
	struct herald_err e;
	herald_err_clear(&e);
	if (sched_compile_rule(s, rule, &e))
		rc = FAIL_AT(c, key, "%s", e.msg);
	free(text);
out:
	pop(c, o);
	return rc;
}

/* -------------------------------------------------------- communications */

static enum herald_rc get_duration_list(struct ctx *c, json_t *obj,
					const char *key, int64_t **out,
					size_t *n, bool *given)
{
	json_t *j = json_object_get(obj, key);
	*given = j != NULL;
	if (!j)
		return H_OK;
	size_t o = push_key(c, key);
	enum herald_rc rc = H_OK;
	if (!json_is_array(j)) {
		rc = fail(c, "expected a list of durations such as [\"P1D\", \"PT0S\"], found %s",
			  json_kind(j));
		goto out;
	}
	*out = xcalloc(json_array_size(j) ? json_array_size(j) : 1, sizeof **out);
	size_t i;
	json_t *v;
	json_array_foreach(j, i, v) {
		size_t o2 = push_index(c, i);
		char *s = NULL;
		rc = string_value(c, v, &s);
		if (!rc && (!parse_duration(s, &(*out)[*n]) ||
			    (*out)[*n] > 400 * 86400))
			rc = fail(c, "\"%.40s\" is not a duration such as P7D, PT1H or PT0S "
				  "(weeks, days, hours, minutes, seconds; at most 400 days)", s);
		for (size_t k = 0; !rc && k < *n; k++)
			if ((*out)[k] == (*out)[*n])
				rc = fail(c, "\"%.40s\" is listed twice", s);
		free(s);
		pop(c, o2);
		if (rc)
			break;
		(*n)++;
	}
out:
	pop(c, o);
	return rc;
}

/*
 * Reads a list of ids (at the current path) resolved by lookup into
 * indexes; unknown ids and repeats are errors.  `what` names the kind.
 */
static enum herald_rc load_ref_list(struct ctx *c, json_t *a, const char *what,
				    long (*lookup)(const struct plan *, const char *),
				    size_t **out, size_t *n)
{
	*out = xcalloc(json_array_size(a) ? json_array_size(a) : 1, sizeof **out);
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) {
		size_t o = push_index(c, i);
		char *id = NULL;
		enum herald_rc rc = string_value(c, v, &id);
		long k = rc ? -1 : lookup(c->plan, id);
		if (!rc && k < 0)
			rc = fail(c, "unknown %s \"%.60s\"", what, id);
		for (size_t j = 0; !rc && j < *n; j++)
			if ((*out)[j] == (size_t)k)
				rc = fail(c, "%s \"%.60s\" is listed twice", what, id);
		free(id);
		pop(c, o);
		if (rc)
			return rc;
		(*out)[(*n)++] = (size_t)k;
	}
	return H_OK;
}

static enum herald_rc load_comm_audiences(struct ctx *c, json_t *j,
					  struct plan_comm *m)
{
	json_t *a = json_object_get(j, "audiences");
	if (!a)
		return FAIL_AT(c, "audiences", "required key \"audiences\" is missing (with whom)");
	size_t o = push_key(c, "audiences");
	enum herald_rc rc = json_is_array(a) && json_array_size(a)
				    ? load_ref_list(c, a, "audience", plan_audience_index,
						    &m->audiences, &m->naudiences)
				    : fail(c, "expected a non-empty list of audience ids");
	pop(c, o);
	return rc;
}

static bool audience_delivers(const struct plan_audience *a, size_t ch)
{
	for (size_t i = 0; i < a->ndeliver; i++)
		if (a->deliver[i].channel == ch)
			return true;
	return false;
}

static enum herald_rc load_comm_channels(struct ctx *c, json_t *j,
					 struct plan_comm *m)
{
	json_t *a = json_object_get(j, "channels");
	if (!a)
		return H_OK;
	m->channels_given = true;
	size_t o = push_key(c, "channels");
	enum herald_rc rc = json_is_array(a)
				    ? load_ref_list(c, a, "channel", plan_channel_index,
						    &m->channels, &m->nchannels)
				    : fail(c, "expected a list of channel ids, found %s", json_kind(a));
	/* "channels" narrows the audiences' deliver lists; it cannot add. */
	for (size_t i = 0; !rc && i < m->nchannels; i++) {
		bool used = false;
		for (size_t k = 0; k < m->naudiences; k++)
			used |= audience_delivers(&c->plan->audiences[m->audiences[k]],
						  m->channels[i]);
		if (!used) {
			size_t o2 = push_index(c, i);
			rc = fail(c, "channel \"%.60s\" is not in the deliver list of any of this "
				  "communication's audiences", c->plan->channels[m->channels[i]].id);
			pop(c, o2);
		}
	}
	pop(c, o);
	return rc;
}

static enum herald_rc load_acknowledge(struct ctx *c, json_t *j,
				       struct plan_comm *m)
{
	json_t *a = json_object_get(j, "acknowledge");
	if (!a)
		return H_OK;
	if (json_is_boolean(a)) {
		m->acknowledge = json_is_true(a);
		return H_OK;
	}
	size_t o = push_key(c, "acknowledge");
	static const char *const keys[] = { "remind_after", NULL };
	enum herald_rc rc = json_is_object(a)
				    ? H_OK
				    : fail(c, "expected true, false or {\"remind_after\": [...]}");
	if (!rc)
		rc = check_keys(c, a, keys);
	bool given;
	if (!rc)
		rc = get_duration_list(c, a, "remind_after", &m->remind_after,
				       &m->nremind, &given);
	for (size_t i = 0; !rc && i < m->nremind; i++)
		if (m->remind_after[i] == 0)
			rc = FAIL_AT(c, "remind_after", "a reminder needs a positive delay");
	m->acknowledge = true;
	pop(c, o);
	return rc;
}

static enum herald_rc load_comm(struct ctx *c, json_t *j, struct plan_comm *m)
{
	static const char *const keys[] = { "id", "topic", "description",
					    "audiences", "channels", "owner",
					    "schedule", "notify", "message",
					    "acknowledge", NULL };
	enum herald_rc rc = want_object(c, j);
	if (!rc)
		rc = check_keys(c, j, keys);
	if (!rc)
		rc = get_string(c, j, "id", true, &m->id);
	if (!rc) {
		size_t o = push_key(c, "id");
		rc = check_id(c, m->id);
		pop(c, o);
	}
	if (!rc) {
		long k = idset_add(&c->comm_ids, m->id, c->plan->ncomms - 1);
		if (k >= 0)
			rc = FAIL_AT(c, "id", "duplicate communication id \"%s\" (also communications[%ld])",
				     m->id, k);
	}
	if (!rc)
		rc = get_string(c, j, "topic", true, &m->topic);
	if (!rc)
		rc = get_string(c, j, "description", false, &m->description);
	if (!rc)
		rc = load_comm_audiences(c, j, m);
	if (!rc)
		rc = load_comm_channels(c, j, m);
	if (!rc)
		rc = get_string(c, j, "owner", true, &m->owner);
	if (!rc && !json_object_get(j, "schedule"))
		rc = FAIL_AT(c, "schedule", "required key \"schedule\" is missing (when)");
	if (!rc)
		rc = load_schedule(c, json_object_get(j, "schedule"), &m->sched);
	bool given = false;
	if (!rc)
		rc = get_duration_list(c, j, "notify", &m->notify, &m->nnotify, &given);
	if (!rc && !given) {
		m->notify = xcalloc(1, sizeof *m->notify);
		m->nnotify = 1;
	}
	if (!rc)
		rc = get_string(c, j, "message", false, &m->message);
	if (!rc && m->message) {
		char msg[256];
		if (template_check(m->message, msg, sizeof msg))
			rc = FAIL_AT(c, "message", "%s", msg);
	}
	if (!rc)
		rc = load_acknowledge(c, j, m);
	return rc;
}

static enum herald_rc load_comms(struct ctx *c, json_t *j)
{
	size_t o = push_key(c, "communications");
	enum herald_rc rc = H_OK;
	struct plan *p = c->plan;
	if (!json_is_array(j)) {
		rc = fail(c, "expected a list, found %s", json_kind(j));
		goto out;
	}
	p->comms = xcalloc(json_array_size(j) ? json_array_size(j) : 1,
			   sizeof *p->comms);
	size_t i;
	json_t *v;
	json_array_foreach(j, i, v) {
		size_t o2 = push_index(c, i);
		p->ncomms++;
		rc = load_comm(c, v, &p->comms[i]);
		pop(c, o2);
		if (rc)
			break;
	}
out:
	pop(c, o);
	return rc;
}

/* ------------------------------------------------------------ the plan */

static enum herald_rc get_date_field(struct ctx *c, json_t *obj,
				     const char *key, char **out)
{
	enum herald_rc rc = get_string(c, obj, key, false, out);
	int64_t w;
	if (!rc && *out && !parse_date(*out, &w))
		rc = FAIL_AT(c, key, "\"%.40s\" is not a date YYYY-MM-DD", *out);
	return rc;
}

static enum herald_rc load_header(struct ctx *c, json_t *j)
{
	static const char *const keys[] = { "id", "title", "version", "owner",
					    "approved_by", "approved_on",
					    "next_review", "timezone", NULL };
	struct plan *p = c->plan;
	size_t o = push_key(c, "plan");
	enum herald_rc rc = want_object(c, j);
	if (!rc)
		rc = check_keys(c, j, keys);
	if (!rc)
		rc = get_string(c, j, "id", true, &p->id);
	if (!rc) {
		size_t o2 = push_key(c, "id");
		rc = check_id(c, p->id);
		pop(c, o2);
	}
	if (!rc)
		rc = get_string(c, j, "title", false, &p->title);
	if (!rc)
		rc = get_string(c, j, "version", true, &p->version);
	if (!rc && (strlen(p->version) > 64 || has_ctl(p->version)))
		rc = FAIL_AT(c, "version", "must be a short single-line version label");
	if (!rc)
		rc = get_string(c, j, "owner", true, &p->owner);
	if (!rc)
		rc = get_string(c, j, "approved_by", false, &p->approved_by);
	if (!rc)
		rc = get_date_field(c, j, "approved_on", &p->approved_on);
	if (!rc)
		rc = get_date_field(c, j, "next_review", &p->next_review);
	if (!rc)
		rc = get_string(c, j, "timezone", true, &p->tzid);
	if (!rc) {
		p->tz = tz_get(p->tzid);
		if (!p->tz)
			rc = FAIL_AT(c, "timezone", "unknown time zone \"%.60s\" (an IANA name such as Europe/London)",
				     p->tzid);
	}
	if (!rc && !p->title)
		p->title = xstrdup(p->id);
	pop(c, o);
	return rc;
}

static enum herald_rc load_root(struct ctx *c, json_t *root)
{
	static const char *const keys[] = { "plan", "channels", "audiences",
					    "communications", NULL };
	static const char *const parts[] = { "plan", "channels", "audiences",
					     "communications" };
	if (!json_is_object(root))
		return fail(c, "a plan is a JSON object, found %s", json_kind(root));
	enum herald_rc rc = check_keys(c, root, keys);
	for (int i = 0; !rc && i < 4; i++)
		if (!json_object_get(root, parts[i]))
			rc = fail(c, "required key \"%s\" is missing", parts[i]);
	if (!rc)
		rc = load_header(c, json_object_get(root, "plan"));
	if (!rc)
		rc = load_channels(c, json_object_get(root, "channels"));
	if (!rc)
		rc = load_audiences(c, json_object_get(root, "audiences"));
	if (!rc)
		rc = load_comms(c, json_object_get(root, "communications"));
	return rc;
}

/*
 * The JSON path of the key just before byte offset pos, found by a light
 * scan of the text (jansson reports duplicate keys by position only).
 */
static char *json_path_at(const char *s, size_t len, size_t pos)
{
	enum { MAXD = 64 };
	struct frame {
		bool obj;
		size_t index;
		char key[64];
		bool want_key;
	} st[MAXD];
	int depth = -1;
	if (pos > len)
		pos = len;
	for (size_t i = 0; i < pos; i++) {
		char ch = s[i];
		if (ch == '"') {
			size_t j = i + 1;
			while (j < len && s[j] != '"')
				j += s[j] == '\\' ? 2 : 1;
			if (depth >= 0 && depth < MAXD && st[depth].obj && st[depth].want_key) {
				snprintf(st[depth].key, sizeof st[depth].key, "%.*s",
					 (int)(j - i - 1), s + i + 1);
				st[depth].want_key = false;
			}
			i = j;
		} else if (ch == '{' || ch == '[') {
			depth++;
			if (depth < MAXD) {
				st[depth].obj = ch == '{';
				st[depth].index = 0;
				st[depth].key[0] = '\0';
				st[depth].want_key = ch == '{';
			}
		} else if (ch == '}' || ch == ']') {
			depth--;
		} else if (ch == ',' && depth >= 0 && depth < MAXD) {
			if (st[depth].obj)
				st[depth].want_key = true;
			else
				st[depth].index++;
		}
	}
	struct buf b;
	buf_init(&b);
	for (int d = 0; d <= depth && d < MAXD; d++) {
		if (st[d].obj && st[d].key[0]) {
			if (plain_key(st[d].key))
				buf_printf(&b, "%s%s", b.len ? "." : "", st[d].key);
			else
				buf_printf(&b, "[\"%s\"]", st[d].key);
		} else if (!st[d].obj) {
			buf_printf(&b, "[%zu]", st[d].index);
		}
	}
	if (!b.len)
		buf_adds(&b, "(top level)");
	return buf_take(&b);
}

enum herald_rc plan_load_buf(const char *path, const char *data, size_t len,
			     const struct plan_load_opts *opts,
			     struct plan **out, struct herald_err *err)
{
	struct ctx c = { .file = path, .opts = opts, .err = err };
	buf_init(&c.path);
	if (len > PLAN_MAX_BYTES)
		return herald_err_set(err, H_EINVAL, "(top level): the plan is larger than %u bytes",
				      PLAN_MAX_BYTES);
	json_error_t je;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	if (!root) {
		if (len == 0)
			return herald_err_set(err, H_EINVAL,
					      "line 1, column 1: the file is empty (a plan is a JSON object)");
		if (strstr(je.text, "duplicate object key")) {
			char *jpath = json_path_at(data, len, (size_t)je.position);
			enum herald_rc rc = herald_err_set(
				err, H_EINVAL, "%s: duplicate key (line %d, column %d): "
				"JSON readers disagree on which value wins", jpath, je.line, je.column);
			free(jpath);
			return rc;
		}
		/* jansson quotes the text it stopped at ("near 'root:$6$…'"):
		 * never repeat a file's content (it may not be a plan at all). */
		char *near = strstr(je.text, " near ");
		if (near)
			*near = '\0';
		return herald_err_set(err, H_EINVAL, "line %d, column %d: not a plan: %s",
				      je.line < 1 ? 1 : je.line,
				      je.column < 1 ? 1 : je.column, je.text);
	}
	c.plan = xcalloc(1, sizeof *c.plan);
	c.plan->path = xstrdup(path);
	unsigned char digest[32];
	sha256(data, len, digest);
	hex_encode(digest, 32, c.plan->sha256);
	enum herald_rc rc = load_root(&c, root);
	json_decref(root);
	buf_free(&c.path);
	idset_free(&c.comm_ids);
	if (rc) {
		plan_free(c.plan);
		return rc;
	}
	*out = c.plan;
	return H_OK;
}

enum herald_rc plan_load(const char *path, const struct plan_load_opts *opts,
			 struct plan **out, struct herald_err *err)
{
	char *data;
	size_t len;
	if (read_file(path, PLAN_MAX_BYTES, &data, &len) < 0) {
		if (errno == EFBIG)
			return herald_err_set(err, H_EINVAL,
					      "(top level): the plan is larger than %u bytes",
					      PLAN_MAX_BYTES);
		return herald_err_set(err, H_ERUNTIME, "cannot read: %s",
				      strerror(errno));
	}
	enum herald_rc rc = plan_load_buf(path, data, len, opts, out, err);
	free(data);
	return rc;
}

/* --------------------------------------------------------------- freeing */

static void secret_free(struct plan_secret *s)
{
	if (s->value)
		memset(s->value, 0, strlen(s->value));
	free(s->value);
	free(s->env);
}

void plan_free(struct plan *p)
{
	if (!p)
		return;
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
	for (size_t i = 0; i < p->naudiences; i++) {
		struct plan_audience *a = &p->audiences[i];
		free(a->id);
		free(a->name);
		for (size_t k = 0; k < a->nmembers; k++) {
			free(a->members[k].name);
			free(a->members[k].email);
		}
		free(a->members);
		for (size_t k = 0; k < a->ndeliver; k++) {
			for (size_t n = 0; n < a->deliver[k].naddrs; n++)
				free(a->deliver[k].addrs[n]);
			free(a->deliver[k].addrs);
		}
		free(a->deliver);
	}
	free(p->audiences);
	for (size_t i = 0; i < p->ncomms; i++) {
		struct plan_comm *m = &p->comms[i];
		free(m->id);
		free(m->topic);
		free(m->description);
		free(m->owner);
		free(m->audiences);
		free(m->channels);
		sched_clear(&m->sched);
		free(m->notify);
		free(m->message);
		free(m->remind_after);
	}
	free(p->comms);
	free(p->path);
	free(p->id);
	free(p->title);
	free(p->version);
	free(p->owner);
	free(p->approved_by);
	free(p->approved_on);
	free(p->next_review);
	free(p->tzid);
	free(p);
}

/* ---------------------------------------------------------------- lookups */

long plan_channel_index(const struct plan *p, const char *id)
{
	for (size_t i = 0; i < p->nchannels; i++)
		if (strcmp(p->channels[i].id, id) == 0)
			return (long)i;
	return -1;
}

long plan_audience_index(const struct plan *p, const char *id)
{
	for (size_t i = 0; i < p->naudiences; i++)
		if (strcmp(p->audiences[i].id, id) == 0)
			return (long)i;
	return -1;
}

long plan_comm_index(const struct plan *p, const char *id)
{
	for (size_t i = 0; i < p->ncomms; i++)
		if (strcmp(p->comms[i].id, id) == 0)
			return (long)i;
	return -1;
}

const struct tz *plan_comm_tz(const struct plan *p, const struct plan_comm *c)
{
	return c->sched.tz ? c->sched.tz : p->tz;
}

bool plan_comm_uses_channel(const struct plan_comm *c, size_t channel)
{
	if (!c->channels_given)
		return true;
	for (size_t i = 0; i < c->nchannels; i++)
		if (c->channels[i] == channel)
			return true;
	return false;
}

const char *chan_type_name(enum chan_type t)
{
	switch (t) {
	case CHAN_SLACK: return "slack";
	case CHAN_EMAIL: return "email";
	case CHAN_WEBHOOK: return "webhook";
	}
	return "?";
}
