/*
 * plan_yaml.c - YAML plans into the loader's jansson tree (see
 * plan_yaml.h).
 *
 * libyaml's parser gives events; this file builds the tree from them with
 * its own stack (no recursion on input depth), so aliases are never
 * expanded by libyaml: each alias is a bounded copy made here.  Marks are
 * kept per (parent, key or index) rather than per node, because jansson's
 * true, false and null are shared singletons.
 */
#include "herald/plan_yaml.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "herald/util.h"

/* ---------------------------------------------------------------- marks */

struct mark_entry {
	const json_t *parent;   /* NULL for the root */
	char *key;              /* member name, or NULL for an index */
	size_t index;
	char *bare;             /* owned; mark.bare points here */
	struct plan_yaml_mark mark;
};

struct plan_yaml_marks {
	struct mark_entry *e;
	size_t cap, n;
};

static uint64_t slot_hash(const json_t *parent, const char *key, size_t index)
{
	uint64_t h = (uint64_t)(uintptr_t)parent * 0x9e3779b97f4a7c15ULL;
	if (key)
		for (const char *p = key; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	else
		h ^= (uint64_t)index * 0xff51afd7ed558ccdULL;
	return h ^ (h >> 29);
}

static bool slot_eq(const struct mark_entry *e, const json_t *parent,
		    const char *key, size_t index)
{
	if (e->parent != parent || !e->key != !key)
		return false;
	return key ? strcmp(e->key, key) == 0 : e->index == index;
}

static struct mark_entry *slot_find(const struct plan_yaml_marks *m,
				    const json_t *parent, const char *key,
				    size_t index)
{
	if (!m || !m->cap)
		return NULL;
	size_t i = slot_hash(parent, key, index) & (m->cap - 1);
	for (; m->e[i].mark.line; i = (i + 1) & (m->cap - 1))
		if (slot_eq(&m->e[i], parent, key, index))
			return &m->e[i];
	return &m->e[i];
}

static void marks_put(struct plan_yaml_marks *m, const json_t *parent,
		      const char *key, size_t index, int line, int column,
		      const char *bare, const char *reading)
{
	if (2 * (m->n + 1) > m->cap) {
		struct plan_yaml_marks big = { .cap = m->cap ? 2 * m->cap : 256 };
		big.e = xcalloc(big.cap, sizeof *big.e);
		for (size_t i = 0; i < m->cap; i++)
			if (m->e[i].mark.line) {
				struct mark_entry *s = slot_find(&big, m->e[i].parent,
								 m->e[i].key, m->e[i].index);
				*s = m->e[i];
				big.n++;
			}
		free(m->e);
		*m = big;
	}
	struct mark_entry *s = slot_find(m, parent, key, index);
	if (s->mark.line) {
		free(s->key);
		free(s->bare);
	} else {
		m->n++;
	}
	char *own = bare ? xstrdup(bare) : NULL;
	*s = (struct mark_entry){
		.parent = parent, .key = key ? xstrdup(key) : NULL, .index = index,
		.bare = own,
		.mark = { .line = line, .column = column, .bare = own, .reading = reading },
	};
}

const struct plan_yaml_mark *plan_yaml_mark_at(const struct plan_yaml_marks *m,
					       const json_t *parent,
					       const char *key, size_t index)
{
	const struct mark_entry *e = slot_find(m, parent, key, index);
	return e && e->mark.line ? &e->mark : NULL;
}

void plan_yaml_marks_free(struct plan_yaml_marks *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->cap; i++)
		if (m->e[i].mark.line) {
			free(m->e[i].key);
			free(m->e[i].bare);
		}
	free(m->e);
	free(m);
}

/* -------------------------------------------------------------- scalars */

enum scalar_kind {
	K_STRING, K_NULL, K_TRUE, K_FALSE, K_INT, K_REAL,
	K_BOOL11,   /* a string to YAML 1.2, true/false to YAML 1.1 */
	K_NUMBER11, /* a string to YAML 1.2's core schema, a number to others */
};

/* Patterns of YAML 1.2's core schema and of YAML 1.1's extra number forms. */
static const char *const patterns[] = {
	"^[-+]?[0-9]+$",                                        /* int */
	"^0o[0-7]+$|^0x[0-9a-fA-F]+$",                         /* int, other bases */
	"^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?$", /* float */
	"^[-+]?\\.(inf|Inf|INF)$|^\\.(nan|NaN|NAN)$",           /* float, not JSON */
	"^[-+]?0b[01_]+$|^[-+]?0[0-7_]+$|^[-+]?(0|[1-9][0-9_]*)$|^[-+]?0x[0-9a-fA-F_]+$", /* 1.1 int */
	"^[-+]?([0-9][0-9_]*)?\\.[0-9_]*([eE][-+][0-9]+)?$",    /* 1.1 float */
	"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\\.[0-9_]*)?$",      /* 1.1 base 60 */
};
#define NPATTERNS (sizeof patterns / sizeof patterns[0])
static regex_t compiled[NPATTERNS];
static pthread_once_t compiled_once = PTHREAD_ONCE_INIT;

static void compile_patterns(void)
{
	for (size_t i = 0; i < NPATTERNS; i++)
		if (regcomp(&compiled[i], patterns[i], REG_EXTENDED | REG_NOSUB))
			abort();
}

static bool matches(size_t i, const char *s)
{
	return regexec(&compiled[i], s, 0, NULL, 0) == 0;
}

static bool one_of(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(s, *words) == 0)
			return true;
	return false;
}

/* YAML 1.1's booleans beyond true and false. */
static const char *const yes11[] = { "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", NULL };
static const char *const no11[] = { "n", "N", "no", "No", "NO", "off", "Off", "OFF", NULL };

/* What a plain scalar is (s is NUL-free: callers check). */
static enum scalar_kind classify(const char *s)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };
	static const char *const trues[] = { "true", "True", "TRUE", NULL };
	static const char *const falses[] = { "false", "False", "FALSE", NULL };
	if (one_of(s, nulls))
		return K_NULL;
	if (one_of(s, trues))
		return K_TRUE;
	if (one_of(s, falses))
		return K_FALSE;
	if (one_of(s, yes11) || one_of(s, no11))
		return K_BOOL11;
	/* Cheap exit: every number starts like one. */
	if (!strchr("+-.0123456789", s[0]))
		return K_STRING;
	pthread_once(&compiled_once, compile_patterns);
	if (matches(0, s) || matches(1, s))
		return K_INT;
	if (matches(2, s))
		return K_REAL;
	for (size_t i = 3; i < NPATTERNS; i++)
		if (matches(i, s))
			return K_NUMBER11;
	return K_STRING;
}

static const char *reading_of(enum scalar_kind k, const char *s)
{
	switch (k) {
	case K_NULL: return "null";
	case K_TRUE: return "true";
	case K_FALSE: return "false";
	case K_BOOL11: return one_of(s, yes11) ? "true" : "false";
	case K_INT:
	case K_REAL:
	case K_NUMBER11: return "a number";
	case K_STRING: break;
	}
	return NULL;
}

/* The node of a plain value; NULL if it is a string after all. */
static json_t *typed_value(enum scalar_kind k, const char *s)
{
	switch (k) {
	case K_NULL: return json_null();
	case K_TRUE: return json_true();
	case K_FALSE: return json_false();
	case K_INT: {
		errno = 0;
		int base = s[0] == '0' && s[1] == 'o' ? 8 : s[0] == '0' && s[1] == 'x' ? 16 : 10;
		long long v = strtoll(base == 10 ? s : s + 2, NULL, base);
		if (errno != ERANGE)
			return json_integer(v);
		double d = strtod(s, NULL);
		return isfinite(d) ? json_real(d) : NULL;
	}
	case K_REAL: {
		double d = strtod(s, NULL);
		return isfinite(d) ? json_real(d) : NULL;
	}
	default: return NULL;
	}
}

/* ---------------------------------------------------------------- build */

struct frame {
	json_t *node;        /* the collection (borrowed from the tree) */
	bool map;
	bool want_key;       /* map: the next scalar is a key */
	char *key;           /* map: the current member's key */
	int kline, kcol;     /* and where it was written */
	size_t index;        /* sequence: the next item's index */
	char *anchor;        /* registered when the collection ends */
	size_t nodes;        /* nodes in it, itself included */
	bool ignored;        /* under an x- key: anything goes */
};

struct anchor {
	char *name;
	json_t *node;        /* borrowed from the tree */
	size_t nodes;
	struct plan_yaml_mark mark; /* the anchored node's own (bare: borrowed) */
};

struct builder {
	struct frame st[PLAN_YAML_MAX_DEPTH];
	size_t depth;
	json_t *root;
	struct plan_yaml_marks *marks;
	struct anchor *anchors;
	size_t nanchors;
	size_t aliases, copied;
	int documents;
	struct herald_err *err;
};

/* As pj_plain_key (plan_json.h), which sits above this reader. */
static bool plain_key(const char *k)
{
	if (!*k)
		return false;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
		      (*k >= '0' && *k <= '9') || *k == '_' || *k == '-'))
			return false;
	return true;
}

static void add_component(struct buf *out, const char *key, size_t index)
{
	if (!key)
		buf_printf(out, "[%zu]", index);
	else if (plain_key(key))
		buf_printf(out, "%s%s", out->len ? "." : "", key);
	else
		buf_printf(out, "[\"%.60s\"]", key);
}

/* Where an error is: at a key of the innermost mapping, at the value
 * about to be added, or at the innermost collection itself. */
enum where { AT_KEY, AT_VALUE, AT_COLLECTION };

static void path_of(const struct builder *b, enum where w, const char *key,
		    struct buf *out)
{
	for (size_t i = 0; i < b->depth; i++) {
		const struct frame *f = &b->st[i];
		bool last = i + 1 == b->depth;
		if (last && w != AT_VALUE)
			break;
		if (f->map)
			add_component(out, f->key, 0);
		else /* an open item was attached already, a pending one not */
			add_component(out, NULL, last ? f->index : f->index - 1);
	}
	if (w == AT_KEY)
		add_component(out, key, 0);
}

__attribute__((format(printf, 5, 6)))
static enum herald_rc fail_at(struct builder *b, enum where w, const char *key,
			      const yaml_mark_t *m, const char *fmt, ...)
{
	char msg[HERALD_ERR_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	struct buf p;
	buf_init(&p);
	path_of(b, w, key, &p);
	herald_err_set(b->err, H_EINVAL, "%s%sline %zu, column %zu: %s",
		       p.len ? p.data : "", p.len ? ": " : "", m->line + 1, m->column + 1,
		       msg);
	buf_free(&p);
	return H_EINVAL;
}

static struct frame *top(struct builder *b)
{
	return b->depth ? &b->st[b->depth - 1] : NULL;
}

/* "!!float" for tag:yaml.org,2002:float, as people write it (in buf). */
static const char *tag_name(const yaml_char_t *tag, char *buf, size_t n)
{
	const char *t = (const char *)tag;
	if (strncmp(t, "tag:yaml.org,2002:", 18) == 0)
		snprintf(buf, n, "!!%.40s", t + 18);
	else
		snprintf(buf, n, "%.40s", t);
	return buf;
}

static bool tag_ok(const yaml_char_t *tag)
{
	return !tag || strcmp((const char *)tag, "!") == 0 ||
	       strcmp((const char *)tag, YAML_STR_TAG) == 0;
}

/* Counts n new nodes in every open collection. */
static void count(struct builder *b, size_t n)
{
	if (b->depth)
		b->st[b->depth - 1].nodes += n;
}

/*
 * Puts node (a new reference, given away) where the stream is: the root,
 * the current key of a mapping, or the next item of a sequence; records
 * its mark there.
 */
static void attach(struct builder *b, json_t *node, const yaml_mark_t *m,
		   const char *bare, const char *reading)
{
	struct frame *t = top(b);
	if (!t) {
		b->root = node;
		marks_put(b->marks, NULL, NULL, 0, (int)m->line + 1, (int)m->column + 1,
			  bare, reading);
	} else if (t->map) {
		json_object_set_new(t->node, t->key, node);
		marks_put(b->marks, t->node, t->key, 0, t->kline, t->kcol, bare, reading);
		t->want_key = true;
	} else {
		json_array_append_new(t->node, node);
		marks_put(b->marks, t->node, NULL, t->index, (int)m->line + 1,
			  (int)m->column + 1, bare, reading);
		t->index++;
	}
}

static void add_anchor(struct builder *b, const yaml_char_t *name,
		       json_t *node, size_t nodes,
		       const struct plan_yaml_mark *own)
{
	b->anchors = xreallocarray(b->anchors, b->nanchors + 1, sizeof *b->anchors);
	b->anchors[b->nanchors++] = (struct anchor){
		.name = xstrdup((const char *)name), .node = node, .nodes = nodes,
		.mark = own ? *own : (struct plan_yaml_mark){ 0 },
	};
}

/* The mark the node just attached got (for anchors of scalars). */
static const struct plan_yaml_mark *last_mark(struct builder *b)
{
	struct frame *t = top(b);
	if (!t)
		return plan_yaml_mark_at(b->marks, NULL, NULL, 0);
	if (t->map)
		return plan_yaml_mark_at(b->marks, t->node, t->key, 0);
	return plan_yaml_mark_at(b->marks, t->node, NULL, t->index - 1);
}

/* A copy of src whose members keep their marks (under the copy). */
static json_t *copy_node(struct builder *b, json_t *src)
{
	if (json_is_object(src)) {
		json_t *dst = json_object();
		const char *k;
		json_t *v;
		json_object_foreach(src, k, v) {
			json_object_set_new(dst, k, copy_node(b, v));
			const struct plan_yaml_mark *m = plan_yaml_mark_at(b->marks, src, k, 0);
			if (m)
				marks_put(b->marks, dst, k, 0, m->line, m->column, m->bare,
					  m->reading);
		}
		return dst;
	}
	if (json_is_array(src)) {
		json_t *dst = json_array();
		size_t i;
		json_t *v;
		json_array_foreach(src, i, v) {
			json_array_append_new(dst, copy_node(b, v));
			const struct plan_yaml_mark *m = plan_yaml_mark_at(b->marks, src, NULL, i);
			if (m)
				marks_put(b->marks, dst, NULL, i, m->line, m->column, m->bare,
					  m->reading);
		}
		return dst;
	}
	return json_deep_copy(src);
}

static enum herald_rc on_key(struct builder *b, const yaml_event_t *ev)
{
	char tb[48];
	struct frame *t = top(b);
	const char *k = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	const yaml_mark_t *m = &ev->start_mark;
	if (!tag_ok(ev->data.scalar.tag))
		return fail_at(b, AT_COLLECTION, NULL, m, "tag %.40s is not supported (only !!str)",
			       tag_name(ev->data.scalar.tag, tb, sizeof tb));
	if (memchr(k, '\0', n) || !utf8_valid(k, n))
		return fail_at(b, AT_COLLECTION, NULL, m, "a key must be UTF-8 text without NUL");
	bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev->data.scalar.tag;
	if (plain && strcmp(k, "<<") == 0)
		return fail_at(b, AT_COLLECTION, NULL, m,
			       "merge keys (<<) are not supported: write the keys out");
	enum scalar_kind kind = plain ? classify(k) : K_STRING;
	if (kind != K_STRING && !t->ignored)
		return fail_at(b, AT_KEY, k, m, "the bare key %.40s is %s to some YAML readers; "
			       "write it in quotes (\"%.40s\")", k, reading_of(kind, k), k);
	if (json_object_get(t->node, k))
		return fail_at(b, AT_KEY, k, m, "duplicate key (YAML readers disagree on which "
			       "value wins)");
	free(t->key);
	t->key = xstrdup(k);
	t->kline = (int)m->line + 1;
	t->kcol = (int)m->column + 1;
	t->want_key = false;
	return H_OK;
}

static enum herald_rc on_scalar(struct builder *b, const yaml_event_t *ev)
{
	char tb[48];
	struct frame *t = top(b);
	if (t && t->map && t->want_key)
		return on_key(b, ev);
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	const yaml_mark_t *m = &ev->start_mark;
	if (!tag_ok(ev->data.scalar.tag))
		return fail_at(b, AT_VALUE, NULL, m, "tag %.40s is not supported (only !!str)",
			       tag_name(ev->data.scalar.tag, tb, sizeof tb));
	bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev->data.scalar.tag;
	enum scalar_kind kind = plain && !memchr(s, '\0', n) ? classify(s) : K_STRING;
	json_t *node = kind == K_STRING || kind == K_BOOL11 || kind == K_NUMBER11
			       ? NULL : typed_value(kind, s);
	if (!node) {
		node = json_stringn(s, n);
		if (!node)
			return fail_at(b, AT_VALUE, NULL, m, "not valid UTF-8");
	}
	attach(b, node, m, kind == K_STRING ? NULL : s, reading_of(kind, s));
	count(b, 1);
	if (ev->data.scalar.anchor)
		add_anchor(b, ev->data.scalar.anchor, node, 1, last_mark(b));
	return H_OK;
}

static enum herald_rc on_start(struct builder *b, const yaml_event_t *ev, bool map)
{
	char tb[48];
	struct frame *t = top(b);
	const yaml_mark_t *m = &ev->start_mark;
	if (t && t->map && t->want_key)
		return fail_at(b, AT_COLLECTION, NULL, m, "a key must be a plain string, not a %s",
			       map ? "mapping" : "list");
	const yaml_char_t *tag = map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag;
	const yaml_char_t *anchor = map ? ev->data.mapping_start.anchor
					: ev->data.sequence_start.anchor;
	if (tag && strcmp((const char *)tag, map ? YAML_MAP_TAG : YAML_SEQ_TAG) != 0 &&
	    strcmp((const char *)tag, "!") != 0)
		return fail_at(b, AT_VALUE, NULL, m, "tag %.40s is not supported",
			       tag_name(tag, tb, sizeof tb));
	if (b->depth == PLAN_YAML_MAX_DEPTH)
		return fail_at(b, AT_VALUE, NULL, m, "nested deeper than %d levels",
			       PLAN_YAML_MAX_DEPTH);
	json_t *node = map ? json_object() : json_array();
	bool ignored = t && (t->ignored || (t->map && strncmp(t->key, "x-", 2) == 0));
	attach(b, node, m, NULL, NULL);
	b->st[b->depth++] = (struct frame){
		.node = node, .map = map, .want_key = map, .nodes = 1, .ignored = ignored,
		.anchor = anchor ? xstrdup((const char *)anchor) : NULL,
	};
	return H_OK;
}

static void on_end(struct builder *b)
{
	struct frame f = b->st[--b->depth];
	free(f.key);
	count(b, f.nodes);
	if (f.anchor) {
		add_anchor(b, (const yaml_char_t *)f.anchor, f.node, f.nodes, last_mark(b));
		free(f.anchor);
	}
}

static enum herald_rc on_alias(struct builder *b, const yaml_event_t *ev)
{
	struct frame *t = top(b);
	const yaml_mark_t *m = &ev->start_mark;
	const char *name = (const char *)ev->data.alias.anchor;
	if (t && t->map && t->want_key)
		return fail_at(b, AT_COLLECTION, NULL, m, "an alias cannot be a key");
	const struct anchor *a = NULL;
	for (size_t i = b->nanchors; i-- > 0 && !a;)
		if (strcmp(b->anchors[i].name, name) == 0)
			a = &b->anchors[i];
	if (!a)
		return fail_at(b, AT_VALUE, NULL, m, "*%.60s names no complete anchor before it",
			       name);
	if (++b->aliases > PLAN_YAML_MAX_ALIASES)
		return fail_at(b, AT_VALUE, NULL, m, "more than %d aliases: refused (a small plan "
			       "needs few, and a file of aliases can expand without bound)",
			       PLAN_YAML_MAX_ALIASES);
	if ((b->copied += a->nodes) > PLAN_YAML_MAX_COPIED)
		return fail_at(b, AT_VALUE, NULL, m, "aliases expand to more than %d values: refused "
			       "(\"billion laughs\")", PLAN_YAML_MAX_COPIED);
	json_t *copy = copy_node(b, a->node);
	attach(b, copy, m, a->mark.bare, a->mark.reading);
	count(b, a->nodes);
	return H_OK;
}

static enum herald_rc on_event(struct builder *b, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++b->documents > 1)
			return herald_err_set(b->err, H_EINVAL, "line %zu, column %zu: a plan is one "
					      "YAML document; a second one starts here",
					      ev->start_mark.line + 1, ev->start_mark.column + 1);
		return H_OK;
	case YAML_SCALAR_EVENT:
		return on_scalar(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(b, ev, false);
	case YAML_MAPPING_START_EVENT:
		return on_start(b, ev, true);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		on_end(b);
		return H_OK;
	case YAML_ALIAS_EVENT:
		return on_alias(b, ev);
	default:
		return H_OK;
	}
}

/*
 * Line starts, so a line's indentation can be looked at: libyaml accepts
 * a tab before a flow item, and reports a tab in block indentation as a
 * token it cannot start; both get one clear message here.
 */
struct lines {
	size_t *start;
	size_t n;
};

static void lines_index(const char *data, size_t len, struct lines *l)
{
	size_t cap = 64;
	l->start = xmalloc(cap * sizeof *l->start);
	l->n = 0;
	l->start[l->n++] = 0;
	for (size_t i = 0; i < len; i++) {
		bool brk = data[i] == '\n' || (data[i] == '\r' && (i + 1 == len || data[i + 1] != '\n'));
		if (!brk)
			continue;
		if (l->n == cap)
			l->start = xreallocarray(l->start, cap *= 2, sizeof *l->start);
		l->start[l->n++] = i + 1;
	}
}

/* True if the indentation of the 0-based line holds a tab (*col: its column). */
static bool tab_indent(const char *data, size_t len, const struct lines *l,
		       size_t line, size_t *col)
{
	if (line >= l->n)
		return false;
	for (size_t i = l->start[line], c = 0; i < len && (data[i] == ' ' || data[i] == '\t');
	     i++, c++)
		if (data[i] == '\t') {
			*col = c;
			return true;
		}
	return false;
}

/* "PATH: line L, column C: message", the path being where the stream got to. */
__attribute__((format(printf, 4, 5)))
static enum herald_rc fail_line(struct builder *b, size_t line, size_t col,
				const char *fmt, ...)
{
	yaml_mark_t m = { .line = line, .column = col };
	char msg[HERALD_ERR_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return fail_at(b, AT_COLLECTION, NULL, &m, "%s", msg);
}

static enum herald_rc tab_error(struct builder *b, size_t line, size_t col)
{
	return fail_line(b, line, col, "a tab in the indentation (YAML indents with spaces only)");
}

static enum herald_rc syntax_error(struct builder *b, const yaml_parser_t *p,
				   const char *data, size_t len, const struct lines *l)
{
	size_t col;
	const yaml_mark_t *m = &p->problem_mark;
	/* libyaml may stop on the tab's line or at the start of the next. */
	if (tab_indent(data, len, l, m->line, &col))
		return tab_error(b, m->line, col);
	if (m->line > 0 && tab_indent(data, len, l, m->line - 1, &col))
		return tab_error(b, m->line - 1, col);
	return fail_line(b, m->line, m->column, "%s%s%s", p->problem ? p->problem : "not YAML",
			 p->context ? " " : "", p->context ? p->context : "");
}

/* The first node of each line: its indentation must be spaces only. */
static enum herald_rc check_indent(struct builder *b, const yaml_event_t *ev,
				   const char *data, size_t len, const struct lines *l,
				   size_t *last_line)
{
	if (ev->type != YAML_SCALAR_EVENT && ev->type != YAML_ALIAS_EVENT &&
	    ev->type != YAML_MAPPING_START_EVENT && ev->type != YAML_SEQUENCE_START_EVENT)
		return H_OK;
	size_t line = ev->start_mark.line, col;
	if (line == *last_line)
		return H_OK;
	*last_line = line;
	return tab_indent(data, len, l, line, &col) ? tab_error(b, line, col) : H_OK;
}

static void builder_free(struct builder *b)
{
	while (b->depth) {
		struct frame *f = &b->st[--b->depth];
		free(f->key);
		free(f->anchor);
	}
	for (size_t i = 0; i < b->nanchors; i++)
		free(b->anchors[i].name);
	free(b->anchors);
}

enum herald_rc plan_yaml_parse(const char *data, size_t len, json_t **root,
			       struct plan_yaml_marks **marks,
			       struct herald_err *err)
{
	struct builder b = { .err = err, .marks = xcalloc(1, sizeof *b.marks) };
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p))
		abort();
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
	struct lines lines;
	lines_index(data, len, &lines);
	size_t last_line = SIZE_MAX;
	enum herald_rc rc = H_OK;
	for (bool done = false; !done && !rc;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev)) {
			rc = syntax_error(&b, &p, data, len, &lines);
			break;
		}
		rc = check_indent(&b, &ev, data, len, &lines, &last_line);
		if (!rc)
			rc = on_event(&b, &ev);
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	free(lines.start);
	yaml_parser_delete(&p);
	if (!rc && !b.root)
		rc = herald_err_set(err, H_EINVAL, "line 1, column 1: the file holds no YAML "
				    "document (a plan is a mapping)");
	builder_free(&b);
	if (rc) {
		json_decref(b.root);
		plan_yaml_marks_free(b.marks);
		return rc;
	}
	*root = b.root;
	*marks = b.marks;
	return H_OK;
}

/* -------------------------------------------------------------- spans */

/*
 * libyaml counts marks in characters; the spans are bytes.  Events come
 * in text order, so one cursor moving forward converts them all.
 */
struct cursor {
	const char *data;
	size_t len, chars, bytes;
};

static size_t byte_at(struct cursor *c, size_t chars)
{
	if (chars < c->chars)
		c->chars = c->bytes = 0;
	while (c->chars < chars && c->bytes < c->len) {
		c->bytes++;
		while (c->bytes < c->len && ((unsigned char)c->data[c->bytes] & 0xc0) == 0x80)
			c->bytes++;
		c->chars++;
	}
	return c->bytes;
}

struct span_frame {
	bool map, want_key;
	char *key;
};

enum herald_rc plan_yaml_spans(const char *data, size_t len,
			       void (*fn)(const struct plan_yaml_span *s, void *ctx),
			       void *ctx)
{
	struct span_frame st[PLAN_YAML_MAX_DEPTH + 1];
	const char *keys[PLAN_YAML_MAX_DEPTH + 1];
	size_t depth = 0;
	struct cursor cur = { .data = data, .len = len };
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p))
		abort();
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
	enum herald_rc rc = H_OK;
	for (bool done = false; !done && !rc;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev)) {
			rc = H_EINVAL;
			break;
		}
		struct span_frame *t = depth ? &st[depth - 1] : NULL;
		bool value = ev.type == YAML_SCALAR_EVENT || ev.type == YAML_ALIAS_EVENT ||
			     ev.type == YAML_MAPPING_START_EVENT ||
			     ev.type == YAML_SEQUENCE_START_EVENT;
		if (value && t && t->map && t->want_key) {
			/* A key: only a scalar one names a place. */
			free(t->key);
			t->key = ev.type == YAML_SCALAR_EVENT
					 ? xstrndup((const char *)ev.data.scalar.value,
						    ev.data.scalar.length)
					 : NULL;
			t->want_key = false;
			if (ev.type == YAML_MAPPING_START_EVENT || ev.type == YAML_SEQUENCE_START_EVENT)
				rc = H_EINVAL;  /* a complex key: not a plan */
		} else if (ev.type == YAML_SCALAR_EVENT || ev.type == YAML_ALIAS_EVENT) {
			for (size_t i = 0; i < depth; i++)
				keys[i] = st[i].map ? st[i].key : NULL;
			struct plan_yaml_span s = {
				.keys = keys, .depth = depth,
				.start = byte_at(&cur, ev.start_mark.index),
				.end = byte_at(&cur, ev.end_mark.index),
				.alias = ev.type == YAML_ALIAS_EVENT,
			};
			fn(&s, ctx);
			if (t && t->map)
				t->want_key = true;
		} else if (ev.type == YAML_MAPPING_START_EVENT ||
			   ev.type == YAML_SEQUENCE_START_EVENT) {
			if (depth == PLAN_YAML_MAX_DEPTH) {
				rc = H_EINVAL;
			} else {
				st[depth++] = (struct span_frame){
					.map = ev.type == YAML_MAPPING_START_EVENT, .want_key = true };
			}
		} else if (ev.type == YAML_MAPPING_END_EVENT ||
			   ev.type == YAML_SEQUENCE_END_EVENT) {
			if (depth) {
				free(st[--depth].key);
				if (depth && st[depth - 1].map)
					st[depth - 1].want_key = true;
			}
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	while (depth)
		free(st[--depth].key);
	yaml_parser_delete(&p);
	return rc;
}
