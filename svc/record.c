/* record.c - evidence about the service itself (see record.h). */
#include "herald/clock.h"
#include "herald/record.h"

#include "herald/db.h"
#include "herald/plan.h"
#include "herald/timeutil.h"

static enum herald_rc append_one(struct db *db, enum ev_table t,
				 const struct ev_value *v, size_t n,
				 struct herald_err *err)
{
	enum herald_rc rc = db_begin(db, err);
	if (rc)
		return rc;
	rc = db_append(db, t, v, n, NULL, err);
	if (rc) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db, err);
}

enum herald_rc record_plan(struct db *db, const struct plan *p,
			   const char *event, struct herald_err *err)
{
	char at[32];
	clock_now_text(at);
	struct ev_value v[] = {
		EVS(at), EVS(event), EVS(p->id), EVS(p->version), EVS(p->sha256),
		EVS(p->path), EVS(p->approved_by), EVS(p->approved_on),
		EVS(p->next_review), EVN,
	};
	return append_one(db, EV_PLAN_VERSIONS, v, sizeof v / sizeof v[0], err);
}

enum herald_rc record_refused(struct db *db, const char *path,
			      const char *why, struct herald_err *err)
{
	char at[32];
	clock_now_text(at);
	struct ev_value v[] = {
		EVS(at), EVS("refused"), EVN, EVN, EVN, EVS(path), EVN, EVN, EVN,
		EVS(why),
	};
	return append_one(db, EV_PLAN_VERSIONS, v, sizeof v / sizeof v[0], err);
}

enum herald_rc record_event(struct db *db, const char *kind,
			    const char *detail, struct herald_err *err)
{
	char at[32];
	clock_now_text(at);
	struct ev_value v[] = { EVS(at), EVS(kind), EVS(detail) };
	return append_one(db, EV_EVENTS, v, 3, err);
}
