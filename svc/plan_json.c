/*
 * plan_json.c - the reading layer of the plan loader (see plan_json.h):
 * paths, error collection, key checking, typed getters, env: secrets and
 * parsing.
 */
#include "herald/plan_json.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "herald/plan_yaml.h"

/* ---------------------------------------------------------------- paths */

bool pj_plain_key(const char *k)
{
	if (!*k)
		return false;
	for (; *k; k++)
		if (!isalnum((unsigned char)*k) && *k != '_' && *k != '-')
			return false;
	return true;
}

static size_t push_frame(struct pj *c, const char *key, size_t index)
{
	size_t mark = c->depth++;
	if (mark < PJ_DEPTH)
		c->frames[mark] = (struct pj_frame){ c->path.len, key, index };
	return mark;
}

/* Paths are built for every value read (most never appear in a message),
 * so the plain cases avoid printf: a 10,000-communication plan pushes a
 * few hundred thousand of them. */
size_t pj_push_key(struct pj *c, const char *key)
{
	size_t mark = push_frame(c, key, 0);
	if (pj_plain_key(key)) {
		if (c->path.len)
			buf_addc(&c->path, '.');
		buf_adds(&c->path, key);
	} else {
		buf_printf(&c->path, "[\"%.60s\"]", key);
	}
	return mark;
}

size_t pj_push_index(struct pj *c, size_t i)
{
	return pj_push_item(c, i, NULL);
}

size_t pj_push_item(struct pj *c, size_t i, const char *id)
{
	size_t mark = push_frame(c, NULL, i);
	char num[24];
	size_t n = sizeof num;
	num[--n] = 0;
	do
		num[--n] = (char)('0' + i % 10);
	while (i /= 10);
	buf_addc(&c->path, '[');
	buf_adds(&c->path, num + n);
	buf_addc(&c->path, ']');
	if (id) {
		buf_addc(&c->path, '(');
		buf_adds(&c->path, id);
		buf_addc(&c->path, ')');
	}
	return mark;
}

void pj_pop(struct pj *c, size_t mark)
{
	/* Frames beyond PJ_DEPTH were not kept: their length is not known,
	 * but neither is one ever popped alone (pushes and pops nest). */
	if (mark < PJ_DEPTH) {
		c->path.len = c->frames[mark].len;
		if (c->path.data)
			c->path.data[c->path.len] = '\0';
	}
	c->depth = mark;
}

/*
 * The YAML mark of the deepest value on the current path that has one;
 * *exact says it is the current value's own.
 */
static const struct plan_yaml_mark *mark_here(const struct pj *c, bool *exact)
{
	*exact = false;
	if (!c->marks || !c->root)
		return NULL;
	const json_t *n = c->root;
	const struct plan_yaml_mark *best = plan_yaml_mark_at(c->marks, NULL, NULL, 0);
	bool own = best != NULL;
	size_t d = 0;
	for (; d < c->depth && d < PJ_DEPTH; d++) {
		const struct pj_frame *f = &c->frames[d];
		const json_t *child = f->key ? json_object_get(n, f->key)
					     : json_array_get(n, f->index);
		if (!child)
			break;
		const struct plan_yaml_mark *m =
			plan_yaml_mark_at(c->marks, n, f->key, f->index);
		own = m != NULL;
		if (m)
			best = m;
		n = child;
	}
	*exact = own && d == c->depth;
	return best;
}

enum herald_rc pj_fail(struct pj *c, const char *fmt, ...)
{
	if (pj_full(c))
		return H_EINVAL;
	char msg[HERALD_ERR_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	char where[64] = "";
	bool exact;
	const struct plan_yaml_mark *m = mark_here(c, &exact);
	if (m)
		snprintf(where, sizeof where, "line %d, column %d: ", m->line, m->column);
	struct herald_err e;
	herald_err_set(&e, H_EINVAL, "%s: %s%s",
		       c->path.len ? c->path.data : "(top level)", where, msg);
	if (c->nerrors++ == 0 && c->err)
		*c->err = e;
	if (c->opts && c->opts->on_error)
		c->opts->on_error(e.msg, c->opts->ctx);
	return H_EINVAL;
}

bool pj_full(const struct pj *c)
{
	return c->nerrors >= (c->max_errors ? c->max_errors : 1);
}

enum herald_rc pj_since(const struct pj *c, size_t before)
{
	return c->nerrors > before ? H_EINVAL : H_OK;
}

const char *pj_kind(const json_t *j)
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

enum herald_rc pj_check_keys(struct pj *c, json_t *obj,
			     const char *const *allowed)
{
	size_t before = c->nerrors;
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
		struct nearest nb = NEAREST(key);
		for (a = allowed; *a; a++)
			nearest_offer(&nb, *a);
		if (nb.best)
			PJ_FAIL_AT(c, key, "unknown key \"%.60s\" (did you mean \"%s\"?)",
				   key, nb.best);
		else
			PJ_FAIL_AT(c, key, "unknown key \"%.60s\" (keys starting with x- are ignored)",
				   key);
	}
	return pj_since(c, before);
}

enum herald_rc pj_want_object(struct pj *c, json_t *j)
{
	if (!json_is_object(j))
		return pj_fail(c, "expected an object, found %s", pj_kind(j));
	return H_OK;
}

/* For a YAML plan: how the current value was written, when a reader may
 * not take it for what it became. */
static const struct plan_yaml_mark *bare_here(const struct pj *c)
{
	bool exact;
	const struct plan_yaml_mark *m = mark_here(c, &exact);
	return m && exact && m->bare ? m : NULL;
}

enum herald_rc pj_string_value(struct pj *c, json_t *j, char **out)
{
	const struct plan_yaml_mark *m = bare_here(c);
	if (!json_is_string(j) && m && !*m->bare)
		return pj_fail(c, "expected a string, found null: an empty value is null in YAML "
			       "(write \"\" for an empty string)");
	if (!json_is_string(j) && m)
		return pj_fail(c, "expected a string, found %s: YAML reads the bare value %.40s as %s; "
			       "write it in quotes (\"%.40s\")", pj_kind(j), m->bare, m->reading,
			       m->bare);
	if (!json_is_string(j))
		return pj_fail(c, "expected a string, found %s", pj_kind(j));
	if (m)
		return pj_fail(c, "the bare value %.40s is %s to some YAML readers (YAML 1.1) and a "
			       "string to others; write it in quotes (\"%.40s\")", m->bare,
			       m->reading, m->bare);
	size_t len = json_string_length(j);
	if (len > PJ_STRING_MAX)
		return pj_fail(c, "string too long (%zu bytes; at most %d)", len,
			       PJ_STRING_MAX);
	if (memchr(json_string_value(j), '\0', len))
		return pj_fail(c, "string contains a NUL character");
	*out = xstrndup(json_string_value(j), len);
	return H_OK;
}

enum herald_rc pj_get_string(struct pj *c, json_t *obj, const char *key,
			     bool required, char **out)
{
	json_t *j = json_object_get(obj, key);
	*out = NULL;
	if (!j) {
		if (required)
			return PJ_FAIL_AT(c, key, "required key \"%s\" is missing", key);
		return H_OK;
	}
	size_t o = pj_push_key(c, key);
	enum herald_rc rc = pj_string_value(c, j, out);
	if (!rc && required && !**out) {
		rc = pj_fail(c, "must not be empty");
		xfree(out); /* callers own *out only on success */
	}
	pj_pop(c, o);
	return rc;
}

enum herald_rc pj_get_bool(struct pj *c, json_t *obj, const char *key,
			   bool dflt, bool *out)
{
	json_t *j = json_object_get(obj, key);
	*out = dflt;
	if (!j)
		return H_OK;
	if (json_is_boolean(j)) {
		*out = json_is_true(j);
		return H_OK;
	}
	size_t o = pj_push_key(c, key);
	const struct plan_yaml_mark *m = bare_here(c);
	if (m)
		pj_fail(c, "expected true or false, found %s: write true or false (YAML readers "
			"disagree on %.40s)", pj_kind(j), m->bare);
	else
		pj_fail(c, "expected true or false, found %s", pj_kind(j));
	pj_pop(c, o);
	return H_EINVAL;
}

bool pj_valid_id(const char *s)
{
	if (!*s || strlen(s) > 128)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

enum herald_rc pj_check_id(struct pj *c, const char *id)
{
	if (!pj_valid_id(id))
		return pj_fail(c, "\"%.60s\" is not a valid id (letters, digits, '.', '_', '-'; at most 128)",
			       id);
	return H_OK;
}

bool pj_has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
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

enum herald_rc pj_get_secret(struct pj *c, json_t *obj, const char *key,
			     bool required, struct plan_secret *out)
{
	char *raw = NULL;
	enum herald_rc rc = pj_get_string(c, obj, key, required, &raw);
	if (rc || !raw)
		return rc;
	if (strncmp(raw, "env:", 4) != 0) {
		out->value = raw;
		return H_OK;
	}
	const char *name = raw + 4;
	if (!valid_env_name(name)) {
		rc = PJ_FAIL_AT(c, key, "\"%.60s\" is not a valid environment variable name",
				name);
		free(raw);
		return rc;
	}
	const struct plan_load_opts *o = c->opts;
	const char *v = o && o->getenv ? o->getenv(name, o->ctx) : getenv(name);
	if (!v && o && o->on_unset) {
		size_t m = pj_push_key(c, key);
		o->on_unset(name, c->path.data, o->ctx);
		pj_pop(c, m);
		out->value = xasprintf("demo-%s", name);
		out->demo = true;
	} else if (!v && o && o->demo_secrets) {
		if (o->on_demo)
			o->on_demo(name, o->ctx);
		out->value = xasprintf("demo-%s", name);
		out->demo = true;
	} else if (!v) {
		rc = PJ_FAIL_AT(c, key, "environment variable %s is not set", name);
		free(raw);
		return rc;
	} else {
		out->value = xstrdup(v);
	}
	out->env = xstrdup(name);
	free(raw);
	return H_OK;
}

/* ---------------------------------------------------------------- parse */

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
			if (pj_plain_key(st[d].key))
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

static bool yaml_name(const char *path)
{
	const char *dot = strrchr(path, '.');
	return dot && (strcasecmp(dot, ".yaml") == 0 || strcasecmp(dot, ".yml") == 0);
}

enum herald_rc pj_parse(struct pj *c, const char *data, size_t len)
{
	if (yaml_name(c->file)) {
		return plan_yaml_parse(data, len, &c->root, &c->marks, c->err);
	}
	json_error_t je;
	c->root = json_loadb(data, len,
			     JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	if (c->root)
		return H_OK;
	if (len == 0)
		return herald_err_set(c->err, H_EINVAL,
				      "line 1, column 1: the file is empty (a plan is a JSON object)");
	if (strstr(je.text, "duplicate object key")) {
		char *jpath = json_path_at(data, len, (size_t)je.position);
		enum herald_rc rc = herald_err_set(
			c->err, H_EINVAL, "%s: duplicate key (line %d, column %d): "
			"JSON readers disagree on which value wins", jpath, je.line, je.column);
		free(jpath);
		return rc;
	}
	/* jansson quotes the text it stopped at ("near 'root:$6$…'"): never
	 * repeat a file's content (it may not be a plan at all). */
	char *near = strstr(je.text, " near ");
	if (near)
		*near = '\0';
	return herald_err_set(c->err, H_EINVAL, "line %d, column %d: not a plan: %s",
			      je.line < 1 ? 1 : je.line,
			      je.column < 1 ? 1 : je.column, je.text);
}

void pj_done(struct pj *c)
{
	json_decref(c->root);
	c->root = NULL;
	plan_yaml_marks_free(c->marks);
	c->marks = NULL;
	buf_free(&c->path);
	free(c->chan_typed);
	c->chan_typed = NULL;
}
