/*
 * plan_text.c - the plan's text for the evidence (see plan_text.h).
 *
 * Which values are secrets is the canonical JSON's business (redact():
 * the channel table's secret fields, bind passwords): the places to edit
 * are those where the redacted tree differs from the tree as written.  Their bytes come from
 * the text itself, by libyaml's marks for YAML (plan_yaml_spans) and by a
 * small scanner for JSON (jansson keeps no positions); the scanner only
 * ever reads text jansson has accepted, and anything it does not expect
 * makes it give up, which means the canonical JSON is stored instead.
 */
#include "herald/plan_text.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "herald/plan_channels.h"
#include "herald/plan_json.h"
#include "herald/plan_members.h"
#include "herald/plan_yaml.h"
#include "herald/util.h"

#define REDACTED "\"[redacted]\""
#define SCAN_DEPTH 64
#define TARGET_DEPTH 8

/* Every secret written literally, in place: the one list of what the
 * canonical JSON redacts (channels' secret fields, bind passwords). */
static void redact(json_t *root)
{
	if (!json_is_object(root))
		return;
	plan_channels_redact(json_object_get(root, "channels"));
	plan_members_redact(json_object_get(root, "audiences"));
}

char *plan_text_canonical(const json_t *root)
{
	json_t *copy = json_deep_copy(root);
	redact(copy);
	char *text = json_dumps(copy, JSON_INDENT(2) | JSON_ENCODE_ANY);
	json_decref(copy);
	if (!text)
		abort(); /* out of memory: jansson's only failure here */
	char *out = xasprintf("%s\n", text);
	free(text);
	return out;
}

/* ------------------------------------------------------------- targets */

/* One value to redact: where it is (mapping keys from the root). */
struct target {
	const char *keys[TARGET_DEPTH];  /* borrowed from the tree */
	size_t depth;
	const char *secret;            /* the value as written (borrowed) */
	size_t start, end, found;
};

struct edit {
	struct target *t;
	size_t n;
	bool give_up;                  /* a target in a list, deep, or an alias */
};

/*
 * Every value the redaction changed (was, in the tree as written, and
 * red, redacted), found by walking both: whatever redact() learns to
 * hide is edited here too.
 */
static void find_targets(json_t *was, json_t *red, const char **keys, size_t depth,
			 struct edit *e)
{
	if (json_equal(was, red))
		return;
	if (json_is_object(was) && json_is_object(red) && depth < TARGET_DEPTH) {
		const char *key;
		json_t *v;
		json_object_foreach(was, key, v) {
			keys[depth] = key;
			find_targets(v, json_object_get(red, key), keys, depth + 1, e);
		}
		return;
	}
	if (!json_is_string(was) || depth == 0) {
		e->give_up = true;         /* not a plain value under mapping keys */
		return;
	}
	e->t = xreallocarray(e->t, e->n + 1, sizeof *e->t);
	struct target *t = &e->t[e->n++];
	*t = (struct target){ .depth = depth, .secret = json_string_value(was) };
	memcpy(t->keys, keys, depth * sizeof *keys);
}

/* A value written at keys[0..depth): is it a target? */
static void on_value(struct edit *e, const char *const *keys, size_t depth,
		     size_t start, size_t end, bool alias)
{
	for (size_t i = 0; i < e->n; i++) {
		struct target *t = &e->t[i];
		bool same = t->depth == depth;
		for (size_t k = 0; same && k < depth; k++)
			same = keys[k] && strcmp(keys[k], t->keys[k]) == 0;
		if (!same)
			continue;
		t->found++;
		t->start = start;
		t->end = end;
		if (alias)
			e->give_up = true;
	}
}

static void on_yaml_span(const struct plan_yaml_span *s, void *ctx)
{
	on_value(ctx, s->keys, s->depth, s->start, s->end, s->alias);
}

/* ---------------------------------------------------------- JSON spans */

struct jscan {
	const char *s;
	size_t len, i;
	const char *keys[SCAN_DEPTH];
	char *owned[SCAN_DEPTH];
	size_t depth;
	struct edit *e;
};

static void skip_ws(struct jscan *j)
{
	while (j->i < j->len && strchr(" \t\r\n", j->s[j->i]) && j->s[j->i])
		j->i++;
}

/* At a '"': moves past the closing quote; *plain: no escape inside. */
static bool scan_string(struct jscan *j, bool *plain)
{
	*plain = true;
	for (j->i++; j->i < j->len; j->i++) {
		if (j->s[j->i] == '\\') {
			*plain = false;
			j->i++;
		} else if (j->s[j->i] == '"') {
			j->i++;
			return true;
		}
	}
	return false;
}

static bool scan_value(struct jscan *j);

static bool scan_object(struct jscan *j)
{
	if (j->depth == SCAN_DEPTH)
		return false;
	j->i++;
	size_t d = j->depth++;
	j->owned[d] = NULL;
	for (bool first = true;; first = false) {
		skip_ws(j);
		if (j->i < j->len && j->s[j->i] == '}' && first)
			break;
		if (j->i >= j->len || j->s[j->i] != '"')
			return false;
		size_t k0 = j->i + 1;
		bool plain;
		if (!scan_string(j, &plain))
			return false;
		free(j->owned[d]);
		/* A key with escapes never matches a target: its value is left
		 * as it is, and the check after the edit decides. */
		j->owned[d] = plain ? xstrndup(j->s + k0, j->i - 1 - k0) : xstrdup("\\");
		j->keys[d] = j->owned[d];
		skip_ws(j);
		if (j->i >= j->len || j->s[j->i] != ':')
			return false;
		j->i++;
		if (!scan_value(j))
			return false;
		skip_ws(j);
		if (j->i < j->len && j->s[j->i] == ',') {
			j->i++;
			continue;
		}
		if (j->i < j->len && j->s[j->i] == '}')
			break;
		return false;
	}
	j->i++;
	free(j->owned[d]);
	j->owned[d] = NULL;
	j->depth--;
	return true;
}

static bool scan_array(struct jscan *j)
{
	if (j->depth == SCAN_DEPTH)
		return false;
	j->i++;
	size_t d = j->depth++;
	j->owned[d] = NULL;
	j->keys[d] = NULL;
	for (bool first = true;; first = false) {
		skip_ws(j);
		if (j->i < j->len && j->s[j->i] == ']' && first)
			break;
		if (!scan_value(j))
			return false;
		skip_ws(j);
		if (j->i < j->len && j->s[j->i] == ',') {
			j->i++;
			continue;
		}
		if (j->i < j->len && j->s[j->i] == ']')
			break;
		return false;
	}
	j->i++;
	j->depth--;
	return true;
}

static bool scan_value(struct jscan *j)
{
	skip_ws(j);
	if (j->i >= j->len)
		return false;
	char c = j->s[j->i];
	if (c == '{')
		return scan_object(j);
	if (c == '[')
		return scan_array(j);
	size_t start = j->i;
	if (c == '"') {
		bool plain;
		if (!scan_string(j, &plain))
			return false;
	} else {
		/* A number, true, false or null: up to the next delimiter. */
		while (j->i < j->len && !strchr(",]} \t\r\n", j->s[j->i]) && j->s[j->i])
			j->i++;
		if (j->i == start)
			return false;
	}
	on_value(j->e, j->keys, j->depth, start, j->i, false);
	return true;
}

static bool json_spans(const char *data, size_t len, struct edit *e)
{
	struct jscan j = { .s = data, .len = len, .e = e };
	bool ok = scan_value(&j);
	skip_ws(&j);
	ok = ok && j.i == len;
	for (size_t i = 0; i < j.depth; i++)
		free(j.owned[i]);
	return ok;
}

/* ------------------------------------------------------------- the edit */

static int by_start(const void *a, const void *b)
{
	const struct target *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* The text with each target's bytes replaced; NULL if targets overlap. */
static char *splice(const char *data, size_t len, struct edit *e)
{
	qsort(e->t, e->n, sizeof *e->t, by_start);
	struct buf b;
	buf_init(&b);
	size_t at = 0;
	for (size_t i = 0; i < e->n; i++) {
		struct target *t = &e->t[i];
		size_t end = t->end;
		/* A block scalar's span runs to the next line: keep the breaks. */
		while (end > t->start && strchr(" \t\r\n", data[end - 1]))
			end--;
		if (t->start < at || end > len || end <= t->start) {
			buf_free(&b);
			return NULL;
		}
		buf_add(&b, data + at, t->start - at);
		buf_adds(&b, REDACTED);
		at = end;
	}
	buf_add(&b, data + at, len - at);
	return buf_take(&b);
}

/* The edited text reads as the redacted tree and quotes no secret. */
static bool edit_safe(const char *path, const char *text, const json_t *red,
		      const char *canon, const struct edit *e)
{
	for (size_t i = 0; i < e->n; i++)
		if (*e->t[i].secret && strstr(text, e->t[i].secret))
			return false;
	struct herald_err err;
	struct pj c = { .file = path, .err = &err, .max_errors = 1 };
	buf_init(&c.path);
	bool ok = pj_parse(&c, text, strlen(text)) == H_OK && json_equal(c.root, red);
	if (ok) {
		char *again = plan_text_canonical(c.root);
		ok = strcmp(again, canon) == 0;
		free(again);
	}
	pj_done(&c);
	return ok;
}

static bool yaml_path(const char *path)
{
	const char *dot = strrchr(path, '.');
	return dot && (strcasecmp(dot, ".yaml") == 0 || strcasecmp(dot, ".yml") == 0);
}

char *plan_text_redacted(const char *path, const char *data, size_t len,
			 json_t *root, bool *canonical)
{
	json_t *red = json_deep_copy(root);
	redact(red);
	struct edit e = { 0 };
	const char *keys[TARGET_DEPTH];
	find_targets(root, red, keys, 0, &e);
	char *text = NULL;
	if (!e.n && !e.give_up && !memchr(data, '\0', len)) {
		text = xstrndup(data, len);   /* nothing written literally */
	} else if (!e.give_up && !memchr(data, '\0', len)) {
		bool read = yaml_path(path)
				    ? plan_yaml_spans(data, len, on_yaml_span, &e) == H_OK
				    : json_spans(data, len, &e);
		bool each_once = read && !e.give_up;
		for (size_t i = 0; each_once && i < e.n; i++)
			each_once = e.t[i].found == 1;
		if (each_once)
			text = splice(data, len, &e);
	}
	char *canon = text && !e.n ? NULL : plan_text_canonical(root);
	if (text && e.n && !edit_safe(path, text, red, canon, &e)) {
		free(text);
		text = NULL;
	}
	*canonical = text == NULL;
	if (text)
		free(canon);
	else
		text = canon;
	free(e.t);
	json_decref(red);
	return text;
}

/* ------------------------------------------------------------ reading */

enum herald_rc plan_text_stored_canonical(const char *path, const char *text,
					  char **out, struct herald_err *err)
{
	size_t len = strlen(text);
	enum herald_rc rc = plan_canonical_json(path, text, len, out, err);
	if (rc && yaml_path(path))   /* stored as canonical JSON */
		rc = plan_canonical_json("stored.json", text, len, out, err);
	return rc;
}

/* The canonical tree of a stored text. */
static enum herald_rc stored_tree(const char *path, const char *text, json_t **out,
				  struct herald_err *err)
{
	char *canon = NULL;
	enum herald_rc rc = plan_text_stored_canonical(path, text, &canon, err);
	if (rc)
		return rc;
	json_error_t je;
	*out = json_loads(canon, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	free(canon);
	if (!*out)
		return herald_err_set(err, H_EINVAL, "(top level): the stored text does not read back");
	return H_OK;
}

enum herald_rc plan_text_content_sha256(const char *path, const char *text,
					char hex[65], struct herald_err *err)
{
	char *canon = NULL;
	enum herald_rc rc = plan_text_stored_canonical(path, text, &canon, err);
	if (rc)
		return rc;
	unsigned char d[32];
	sha256(canon, strlen(canon), d);
	hex_encode(d, 32, hex);
	free(canon);
	return H_OK;
}

static bool is_redacted(const json_t *v)
{
	return json_is_string(v) && strcmp(json_string_value(v), "[redacted]") == 0;
}

/* "[redacted]" where a secret was: a variable nobody sets. */
static void unredact(json_t *root)
{
	const char *aid;
	json_t *a;
	json_object_foreach(json_object_get(root, "audiences"), aid, a) {
		json_t *m = json_object_get(a, "members");
		if (is_redacted(json_object_get(m, "password")))
			json_object_set_new(m, "password", json_string("env:HERALD_REDACTED_SECRET"));
	}
	json_t *channels = json_object_get(root, "channels");
	if (!json_is_object(channels))
		return;
	const char *id, *key, *name;
	json_t *ch, *v, *h;
	json_object_foreach(channels, id, ch) {
		json_object_foreach(ch, key, v) {
			if (json_is_string(v) && strcmp(json_string_value(v), "[redacted]") == 0)
				/* v is freed here: nothing more to look at in it */
				json_object_set_new(ch, key, json_string("env:HERALD_REDACTED_SECRET"));
			else if (json_is_object(v))
				json_object_foreach(v, name, h)
					if (json_is_string(h) &&
					    strcmp(json_string_value(h), "[redacted]") == 0)
						json_object_set_new(v, name,
								    json_string("env:HERALD_REDACTED_SECRET"));
		}
	}
}

static const char *no_env(const char *name, void *ctx)
{
	(void)name;
	(void)ctx;
	return NULL;
}

enum herald_rc plan_text_load(const char *path, const char *text,
			      struct plan **out, struct herald_err *err)
{
	json_t *t;
	enum herald_rc rc = stored_tree(path, text, &t, err);
	if (rc)
		return rc;
	if (json_is_object(t))
		unredact(t);
	char *json = json_dumps(t, JSON_ENCODE_ANY);
	json_decref(t);
	if (!json)
		abort();
	/* Named so that it reads as JSON, and file: members resolve beside
	 * the plan's path. */
	char *name = xasprintf("%s (stored)", path);
	struct plan_load_opts o = { .getenv = no_env, .demo_secrets = true };
	rc = plan_load_buf(name, json, strlen(json), &o, out, err);
	free(name);
	free(json);
	return rc;
}
