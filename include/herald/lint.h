/*
 * lint.h - the checks an auditor would make of a plan (Clause 7.4 and the
 * usual audit findings).  Each warning has a stable code and one line of
 * advice; codes are part of herald's contract.
 */
#ifndef HERALD_LINT_H
#define HERALD_LINT_H

#include <stddef.h>
#include <stdint.h>

struct plan;

struct lint_warning {
	const char *code;    /* "W-NO-EXTERNAL", static */
	char path[160];      /* JSON path the warning is about */
	char message[400];
	const char *advice;  /* static, one line */
};

/*
 * Runs every check against p as of instant now.  Calls fn once per warning,
 * in a stable order.  Returns the number of warnings.
 */
size_t lint_plan(const struct plan *p, int64_t now,
		 void (*fn)(const struct lint_warning *w, void *ctx), void *ctx);

#endif
