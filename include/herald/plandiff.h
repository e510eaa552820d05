/*
 * plandiff.h - what changed between two versions of a plan (herald plan
 * diff), in words an ISMS manager reads: document control, then each
 * communication, audience and channel added, removed or changed, field by
 * field ("when: was every 3 months from …, now every month from …").
 *
 * Both sides are compared as canonical JSON (plan_canonical_json), so
 * every key counts, x- keys too, and layout or comments do not.  When a
 * side's loaded plan is given, schedules and notify offsets are put in
 * the words of the plan document (plandoc.h); otherwise they are shown as
 * written.  Secrets are never shown: a stored plan holds env: names and
 * "[redacted]" only, and a secret changed from one literal value to
 * another cannot be seen (the evidence never keeps it).
 */
#ifndef HERALD_PLANDIFF_H
#define HERALD_PLANDIFF_H

#include <stddef.h>

#include "herald/err.h"
#include "herald/util.h"

struct plan;

struct plandiff_side {
	const char *label;         /* "version 2.1 (content 1a2b3c4d5e6f)", a file name */
	const char *canonical;     /* its canonical JSON text */
	const struct plan *plan;   /* loaded from it, for words; may be NULL */
};

/*
 * Appends the changes from a to b to out and sets *changes to how many
 * there are (0: "no change in content").  H_EINVAL if a canonical text is
 * not a plan's JSON object.
 */
enum herald_rc plandiff_render(const struct plandiff_side *a,
			       const struct plandiff_side *b, struct buf *out,
			       size_t *changes, struct herald_err *err);

#endif
