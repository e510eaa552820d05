/*
 * plan_yaml.h - a YAML plan read (libyaml) into the same jansson tree the
 * JSON loader validates, so every rule, path and warning is the same
 * (for plan_json.c).
 *
 * What YAML adds is refused where readers would disagree about it, with
 * "line L, column C" and the path:
 *  - duplicate keys, and keys a YAML reader may not take as strings
 *    (yes, on, ~, 12: quote them);
 *  - anchors and aliases beyond a small bound (PLAN_YAML_MAX_ALIASES
 *    aliases, PLAN_YAML_MAX_COPIED nodes copied by them: the "billion
 *    laughs" file), merge keys (<<), tags other than !!str, more than one
 *    document, nesting deeper than PLAN_YAML_MAX_DEPTH;
 *  - tabs in the indentation (libyaml's own errors otherwise).
 * An alias is a copy made here (libyaml never expands one): the copy sits
 * at the alias's position, the values inside it keep the position where
 * they are written, under the anchor.
 * Scalars: quoted and block scalars are strings.  A bare (plain) scalar
 * becomes what YAML 1.2's core schema makes of it (null, true/false, a
 * number, else a string), and the tree remembers how it was written: the
 * loader then refuses a bare 1.10, 0800, yes or on where the plan wants a
 * string (pj_string_value), because some YAML reader (YAML 1.1's typing,
 * which PyYAML and many editors use) would read it otherwise.  Dates stay
 * strings: herald reads them as text, and a reader's date is the same day.
 */
#ifndef HERALD_PLAN_YAML_H
#define HERALD_PLAN_YAML_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "herald/err.h"

#define PLAN_YAML_MAX_ALIASES 100
#define PLAN_YAML_MAX_COPIED 10000
#define PLAN_YAML_MAX_DEPTH 64

/* Where each node of the tree came from (a map from json_t *). */
struct plan_yaml_marks;

struct plan_yaml_mark {
	int line, column;    /* 1-based: the key's for a mapping value */
	/*
	 * For a bare scalar that some YAML reader takes for something other
	 * than a string: its text (NULL otherwise), and what that reading is
	 * ("a number", "true", "false", "null").
	 */
	const char *bare;
	const char *reading;
};

/*
 * Parses data into *root (caller decrefs) and *marks (caller frees with
 * plan_yaml_marks_free).  On failure returns H_EINVAL with err->msg
 * "line L, column C: message" or "PATH: line L, column C: message";
 * nothing is set.
 */
enum herald_rc plan_yaml_parse(const char *data, size_t len, json_t **root,
			       struct plan_yaml_marks **marks,
			       struct herald_err *err);

/*
 * The mark (borrowed) of the value at parent[key] (key NULL: at
 * parent[index]; parent NULL: the root), NULL if there is none.
 */
const struct plan_yaml_mark *plan_yaml_mark_at(const struct plan_yaml_marks *m,
					       const json_t *parent,
					       const char *key, size_t index);

void plan_yaml_marks_free(struct plan_yaml_marks *m);

/*
 * A value as it is written in the text, for editing the text in place
 * (plan_text.c): where it is (keys[i] the mapping key at depth i, NULL
 * for a sequence item) and its bytes [start, end), anchor, tag and
 * quotes included.  alias: the value is an alias (*name), a copy of a
 * value written elsewhere.
 */
struct plan_yaml_span {
	const char *const *keys;
	size_t depth;
	size_t start, end;
	bool alias;
};

/*
 * Calls fn for every scalar and alias written as a value (not as a key),
 * in the order of the text.  H_EINVAL when data is not YAML that libyaml
 * reads, or nests deeper than PLAN_YAML_MAX_DEPTH (plan_yaml_parse says
 * why); values passed to fn before stay passed.
 */
enum herald_rc plan_yaml_spans(const char *data, size_t len,
			       void (*fn)(const struct plan_yaml_span *s, void *ctx),
			       void *ctx);

#endif
