/* testutil.h - small helpers shared by the cmocka tests. */
#ifndef HERALD_TESTUTIL_H
#define HERALD_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "herald/plan.h"

/* Loads a plan from a string; returns the rc, err filled. */
static inline enum herald_rc load_str(const char *json, struct plan **p,
				      struct herald_err *err)
{
	herald_err_clear(err);
	*p = NULL;
	return plan_load_buf("tests/data/inline.json", json, strlen(json), NULL, p, err);
}

/* Replaces the first occurrence of from with to in s (caller frees). */
static inline char *replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	if (!at) {
		fprintf(stderr, "replace: \"%s\" not found\n", from);
		abort();
	}
	size_t n = strlen(s) - strlen(from) + strlen(to) + 1;
	char *out = malloc(n);
	snprintf(out, n, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
	return out;
}

#define assert_contains(hay, needle)                                          \
	do {                                                                  \
		if (!strstr((hay), (needle)))                                 \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle)); \
	} while (0)

#define assert_not_contains(hay, needle)                                      \
	do {                                                                  \
		if (strstr((hay), (needle)))                                  \
			fail_msg("\"%s\" contains \"%s\"", (hay), (needle));  \
	} while (0)

#endif
