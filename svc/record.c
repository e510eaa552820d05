/* record.c - evidence about the service itself (see record.h). */
#include "herald/record.h"

#include <string.h>

#include "herald/clock.h"
#include "herald/plan.h"
#include "herald/store.h"
#include "herald/util.h"

/* text (may be NULL): the plan's text, stored once, that v points to. */
static enum herald_rc add_version(struct store *s, struct store_plan_version *v,
				  const char *text, struct herald_err *err)
{
	unsigned char tsha[32];
	enum herald_rc rc = store_begin(s, err);
	if (rc)
		return rc;
	if (text && !(rc = store_text_put(s, text, strlen(text), tsha, err)))
		v->text = tsha;
	if (!rc)
		rc = store_plan_version_add(s, v, NULL, err);
	if (rc) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s, err);
}

enum herald_rc record_plan(struct store *s, const struct plan *p,
			   const char *event, struct herald_err *err)
{
	unsigned char sha[32];
	bool has = hex_decode(p->sha256, sha, 32);
	struct store_plan_version v = {
		.at = clock_now(), .event = event, .plan_id = p->id, .version = p->version,
		.sha256 = has ? sha : NULL, .path = p->path, .approved_by = p->approved_by,
		.approved_on = p->approved_on, .next_review = p->next_review,
		.detail = p->text_canonical ? "text stored as canonical JSON: a literal secret "
					      "could not be redacted in place" : NULL,
	};
	return add_version(s, &v, p->text, err);
}

enum herald_rc record_refused(struct store *s, const char *path,
			      const char *why, struct herald_err *err)
{
	struct store_plan_version v = { .at = clock_now(), .event = "refused",
					.path = path, .detail = why };
	return add_version(s, &v, NULL, err);
}

enum herald_rc record_event(struct store *s, const char *kind,
			    const char *detail, struct herald_err *err)
{
	enum herald_rc rc = store_begin(s, err);
	if (rc)
		return rc;
	rc = store_event_add(s, clock_now(), kind, detail, NULL, err);
	if (rc) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s, err);
}
