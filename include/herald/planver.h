/*
 * planver.h - the plan's versions as the evidence holds them (ISO/IEC
 * 27001 Clause 7.5: documented information approved, version-controlled,
 * and only the approved version in circulation).
 *
 * The history groups the plan_versions rows recorded when herald loaded a
 * plan (events "loaded" and "reloaded") by content: one entry per plan id
 * and content SHA-256, the SHA-256 of the canonical JSON (plan show's),
 * recomputed from the stored text.  So a plan and its YAML twin are one
 * version, and an edit of comments or layout alone is no new content.
 * Rows written before herald stored texts have no content hash: they join
 * an entry with the same file SHA-256, or make one of their own that takes
 * no part in the rule below.
 *
 * The rule (a change without approval).  An approval is named by the
 * plan's version label and by its approval date (approved_on), and each
 * approves one content: the first one herald loaded under it.  Content
 * loaded under the same version, or the same approved_on, with another
 * content SHA-256 has "changed since approval".  Going back to the
 * approved content is no change.  Two versions really approved on one
 * day are flagged too: the date is all the plan says of its approval.
 */
#ifndef HERALD_PLANVER_H
#define HERALD_PLANVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "herald/err.h"
#include "herald/util.h"

struct store;
struct plan;

struct planver {
	char *plan_id, *version, *approved_by, *approved_on, *next_review, *path;
	char sha256[65];          /* content SHA-256, or the file's (!has_content) */
	bool has_content;
	char (*files)[65];        /* the file SHA-256 of its rows, distinct */
	size_t nfiles;
	char *text;               /* the newest stored text; NULL if none */
	int64_t first, last;      /* first and last loaded */
	int64_t first_seq;        /* seq of its first row: the order */
	size_t loads;
	long approved;            /* changed since approval: the index of the
				     entry holding that approval; else -1 */
};

struct planver_history {
	struct planver *v;        /* by first row, oldest first */
	size_t n;
};

/* Reads the history of s (a read; s may be read-only). */
enum herald_rc planver_read(struct store *s, struct planver_history *h,
			    struct herald_err *err);
void planver_free(struct planver_history *h);

/* What the rule says of some content, self-contained. */
struct planver_verdict {
	bool changed;              /* changed since approval */
	bool same_version;         /* what it shares: the version, else the date */
	char approved_sha256[65];  /* the approved content */
	char approved_version[65];
	char approved_on[16];      /* "" when that entry had none */
	int64_t approved_first;    /* when herald first loaded it */
};

/*
 * Judges content content_sha256 of plan plan_id with version and
 * approved_on (may be NULL) against h.  Content already in h is judged
 * against the entries loaded before it.
 */
void planver_judge(const struct planver_history *h, const char *plan_id,
		   const char *version, const char *approved_on,
		   const char *content_sha256, struct planver_verdict *v);

/* planver_read and planver_judge for a loaded plan. */
enum herald_rc planver_judge_plan(struct store *s, const struct plan *p,
				  struct planver_verdict *v, struct herald_err *err);

/*
 * The verdict in words, appended: "content 1a2b3c4d5e6f is not
 * 9f8e7d6c5b4a, the content first loaded (2026-01-12T09:00:00Z) under
 * version 2.1 approved on 2026-01-12, yet it keeps the same version".
 * Nothing when there is no change.
 */
void planver_words(const struct planver_verdict *v, const char *content_sha256,
		   struct buf *out);

/*
 * The entries named by what: a version label, or a prefix of at least 4
 * hex digits of a content or file SHA-256.  Sets *found to the matches
 * (at most cap, in history order) and returns how many there are.
 */
size_t planver_find(const struct planver_history *h, const char *what,
		    size_t *found, size_t cap);

#endif
