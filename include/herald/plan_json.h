/*
 * plan_json.h - the reading layer of the plan loader: JSON paths, key
 * checking with "did you mean", typed getters and env: secrets.
 *
 * For the loader's own modules (plan.c, plan_channels.c, plan_sched.c);
 * other callers use plan.h.  A struct pj walks the jansson tree of one
 * plan once.  It keeps the JSON path of the value being read, so every
 * failure names where it happened ("communications[3].schedule.rrule").
 * Getters copy strings out of the tree (nothing of it outlives the load)
 * and, on failure, write the message through pj_fail() and return
 * H_EINVAL; an output owned by the caller is set only on success.
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

struct pj {
	const char *file;                  /* plan path: messages, file: */
	const struct plan_load_opts *opts; /* may be NULL */
	struct herald_err *err;
	struct buf path;                   /* JSON path of the current value */
	struct plan *plan;                 /* under construction */
};

/*
 * Path: push_* append a component and return the previous length, which
 * pj_pop() restores.  Keys that are not plain ([A-Za-z0-9_-]+) are written
 * ["like this"].
 */
size_t pj_push_key(struct pj *c, const char *key);
size_t pj_push_index(struct pj *c, size_t i);
void pj_pop(struct pj *c, size_t old);

/* True if key can be written bare in a path (letters, digits, _ and -). */
bool pj_plain_key(const char *key);

/* Records "PATH: message" in c->err; returns H_EINVAL. */
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

/* "an object", "a list", "a string", … for messages. */
const char *pj_kind(const json_t *j);

/*
 * Unknown keys of obj are errors (a typo must not silently disable
 * anything), except those starting with x-.  The message suggests the
 * closest key of allowed (NULL-terminated) when one is close.
 */
enum herald_rc pj_check_keys(struct pj *c, json_t *obj,
			     const char *const *allowed);

enum herald_rc pj_want_object(struct pj *c, json_t *j);

/* j (at the current path) as a new string: no NUL, at most PJ_STRING_MAX. */
enum herald_rc pj_string_value(struct pj *c, json_t *j, char **out);

/*
 * obj.key as a new string (*out NULL when absent).  A required key must
 * be present and not empty.
 */
enum herald_rc pj_get_string(struct pj *c, json_t *obj, const char *key,
			     bool required, char **out);

/* obj.key as true/false, dflt when absent. */
enum herald_rc pj_get_bool(struct pj *c, json_t *obj, const char *key,
			   bool dflt, bool *out);

/* Checks id (at the current path): [A-Za-z0-9._-]{1,128}. */
enum herald_rc pj_check_id(struct pj *c, const char *id);

/* True if s holds a control character (C0 or DEL). */
bool pj_has_ctl(const char *s);

/*
 * obj.key as a secret: a literal value, or env:NAME resolved through
 * c->opts (see struct plan_load_opts).  Messages name the variable, never
 * its value.  On success *out owns value (and env); out->demo says the
 * value is a stand-in, which callers do not validate.
 */
enum herald_rc pj_get_secret(struct pj *c, json_t *obj, const char *key,
			     bool required, struct plan_secret *out);

/*
 * Parses the plan text into *root (caller decrefs).  Syntax errors are
 * written as "line L, column C: message"; duplicate keys (which JSON
 * readers resolve differently) are refused naming their path.
 */
enum herald_rc pj_parse(const char *data, size_t len, json_t **root,
			struct herald_err *err);

#endif
