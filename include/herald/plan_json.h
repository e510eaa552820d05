/*
 * plan_json.h - the reading layer of the plan loader: JSON paths, error
 * collection, key checking with "did you mean", typed getters and env:
 * secrets, over a tree parsed from JSON or YAML.
 *
 * For the loader's own modules (plan.c, plan_channels.c, plan_sched.c);
 * other callers use plan.h.  A struct pj walks the jansson tree of one
 * plan once.  It keeps the JSON path of the value being read, so every
 * failure names where it happened ("communications[3](AWR-Q).schedule");
 * for a YAML plan the message also gives the line and column.
 *
 * Errors are collected, not fatal: pj_fail() records one and returns
 * H_EINVAL, and the walk goes on with the next independent value, so one
 * `check` run finds every error (up to max_errors).  A value that failed
 * leaves its output unset (NULL, 0, false): later checks that need it
 * skip rather than report a consequence as a second error.  Getters copy
 * strings out of the tree (nothing of it outlives the load); an output
 * the caller owns is set only on success.
 */
#ifndef HERALD_PLAN_JSON_H
#define HERALD_PLAN_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "herald/err.h"
#include "herald/plan.h"
#include "herald/util.h"

/* Longest string value the plan accepts (bytes). */
#define PJ_STRING_MAX 65536
/* Depth of the path stack kept for positions (deeper parts still print). */
#define PJ_DEPTH 32

struct plan_yaml_marks;

struct pj_frame {
	size_t len;          /* c->path.len before this component */
	const char *key;     /* member name (borrowed), NULL for an index */
	size_t index;
};

struct pj {
	const char *file;                  /* plan path: messages, file: */
	const struct plan_load_opts *opts; /* may be NULL */
	struct herald_err *err;            /* receives the first error */
	size_t nerrors;
	size_t max_errors;                 /* at least 1 */
	struct buf path;                   /* JSON path of the current value */
	struct pj_frame frames[PJ_DEPTH];
	size_t depth;
	json_t *root;
	struct plan_yaml_marks *marks;     /* YAML positions, NULL for JSON */
	struct plan *plan;                 /* under construction */
	bool *chan_typed;                  /* per channel: its type is known */
	bool channels_read, audiences_read; /* the sections were objects */
};

/*
 * Path: push_* append a component and return a mark that pj_pop()
 * restores.  Keys that are not plain ([A-Za-z0-9_-]+) are written
 * ["like this"]; pj_push_item() writes an element with its id,
 * "[5](AWR-Q)" (id NULL: just "[5]").
 */
size_t pj_push_key(struct pj *c, const char *key);
size_t pj_push_index(struct pj *c, size_t i);
size_t pj_push_item(struct pj *c, size_t i, const char *id);
void pj_pop(struct pj *c, size_t mark);

/* True if key can be written bare in a path (letters, digits, _ and -). */
bool pj_plain_key(const char *key);

/*
 * Records the error "PATH: message" (YAML: "PATH: line L, column C:
 * message"): the first goes to c->err, each to opts->on_error.  Returns
 * H_EINVAL.  Once max_errors are recorded, further ones are dropped.
 */
enum herald_rc pj_fail(struct pj *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* pj_fail at path.key without keeping key on the path. */
#define PJ_FAIL_AT(c, key, ...)                                \
	({                                                     \
		size_t _o = pj_push_key((c), (key));           \
		enum herald_rc _r = pj_fail((c), __VA_ARGS__); \
		pj_pop((c), _o);                               \
		_r;                                            \
	})

/* True once max_errors are recorded: loops over elements stop. */
bool pj_full(const struct pj *c);

/* H_EINVAL if an error was recorded since the count was `before`. */
enum herald_rc pj_since(const struct pj *c, size_t before);

/* "an object", "a list", "a string", … for messages. */
const char *pj_kind(const json_t *j);

/*
 * Unknown keys of obj are errors (a typo must not silently disable
 * anything), except those starting with x-.  Each is reported, with the
 * closest key of allowed (NULL-terminated) when one is close.
 */
enum herald_rc pj_check_keys(struct pj *c, json_t *obj,
			     const char *const *allowed);

enum herald_rc pj_want_object(struct pj *c, json_t *j);

/*
 * j (at the current path) as a new string: no NUL, at most PJ_STRING_MAX.
 * For YAML, a bare scalar that a YAML reader may not take as a string
 * (1.10, 0800, yes, on, ~) is refused with the advice to quote it.
 */
enum herald_rc pj_string_value(struct pj *c, json_t *j, char **out);

/*
 * obj.key as a new string (*out NULL when absent).  A required key must
 * be present and not empty.
 */
enum herald_rc pj_get_string(struct pj *c, json_t *obj, const char *key,
			     bool required, char **out);

/* obj.key as true/false, dflt when absent (also on failure). */
enum herald_rc pj_get_bool(struct pj *c, json_t *obj, const char *key,
			   bool dflt, bool *out);

/* True for an id: [A-Za-z0-9._-]{1,128}. */
bool pj_valid_id(const char *id);

/* Checks id (at the current path). */
enum herald_rc pj_check_id(struct pj *c, const char *id);

/* True if s holds a control character (C0 or DEL). */
bool pj_has_ctl(const char *s);

/*
 * obj.key as a secret: a literal value, or env:NAME resolved through
 * c->opts (see struct plan_load_opts: an unset variable is an error, a
 * demo value, or a W-ENV-UNSET warning with a demo value).  Messages name
 * the variable, never its value.  On success *out owns value (and env);
 * out->demo says the value is a stand-in, which callers do not validate.
 */
enum herald_rc pj_get_secret(struct pj *c, json_t *obj, const char *key,
			     bool required, struct plan_secret *out);

/*
 * Parses the plan text into c->root (and, for a .yaml/.yml file,
 * c->marks).  Syntax errors are written as "line L, column C: message";
 * duplicate keys (which readers resolve differently) are refused naming
 * their path.  pj_done() frees what the load kept.
 */
enum herald_rc pj_parse(struct pj *c, const char *data, size_t len);
void pj_done(struct pj *c);

#endif
