/*
 * plan_text.h - the plan's text as the evidence keeps it (Clause 7.5:
 * each version loaded is stored whole), and its canonical JSON (for the
 * loader, plan.c; others read plan->text and plan_canonical_json()).
 *
 * The stored text is the file as written, comments and layout kept (what
 * a controlled document wants: the rationale next to the decisions), with
 * every secret written literally replaced by "[redacted]" where it
 * stands.  That is done only when it is provably safe: the edited text,
 * read again, must give exactly the tree the canonical JSON holds (every
 * secret field "[redacted]" or an env: name, every other value as
 * written, in the same order), and no redacted value may occur anywhere
 * else in it (a comment quoting a secret).  Otherwise the stored text is
 * the canonical JSON, which holds no literal secret by construction.
 * Either way, the canonical JSON of the stored text is that of the plan,
 * so the stored text gives back the plan's content SHA-256.
 *
 * Not recognised: a secret in a comment that is not also a value of the
 * plan (herald cannot know it is one).  Keep secrets in env: variables.
 */
#ifndef HERALD_PLAN_TEXT_H
#define HERALD_PLAN_TEXT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "herald/err.h"

struct plan;

/*
 * The canonical JSON of a parsed plan tree (plan_canonical_json): the
 * tree as written, indented by two spaces, literal secrets redacted, one
 * final newline.  Caller frees.
 */
char *plan_text_canonical(const json_t *root);

/*
 * The text to store for the plan file data (named path: .yaml/.yml is
 * YAML), whose parsed tree is root (read, not changed).  Caller frees.  *canonical says the
 * file could not be redacted in place and the text is the canonical JSON.
 */
char *plan_text_redacted(const char *path, const char *data, size_t len,
			 json_t *root, bool *canonical);

/*
 * Reading a stored text back.  A stored text is in the format of the
 * plan file it was loaded from (path), or canonical JSON.
 *
 * plan_text_stored_canonical: its canonical JSON text in *out (caller
 * frees), as plan_canonical_json gives it.
 * plan_text_content_sha256: the content SHA-256 (hex) it holds.
 * plan_text_load: the plan it holds, for reading (documents, diffs),
 * never for sending: every redacted secret and env: value is a demo
 * stand-in, so no variable need be set; file: members are read relative
 * to path as it is now.
 * H_EINVAL (err says why) when the text is not a plan.
 */
enum herald_rc plan_text_stored_canonical(const char *path, const char *text,
					  char **out, struct herald_err *err);
enum herald_rc plan_text_content_sha256(const char *path, const char *text,
					char hex[65], struct herald_err *err);
enum herald_rc plan_text_load(const char *path, const char *text,
			      struct plan **out, struct herald_err *err);

#endif
