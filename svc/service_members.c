/*
 * service_members.c - member sources of the running plan kept current
 * (see service_members.h).
 *
 * Evidence rows are `events` (kind + detail), one per fact: a source
 * first loaded (count, digest), membership changed (who joined and left),
 * a source failing (why; the last good list is kept) and recovering.
 * Details name addresses and the source, never a password: the URL and
 * base are public, and libldap's messages are the server's.
 */
#include "herald/service_members.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "herald/clock.h"
#include "herald/log.h"
#include "herald/members.h"
#include "herald/plan.h"
#include "herald/record.h"
#include "herald/timeutil.h"
#include "herald/util.h"

/* A failing directory is tried again sooner than its refresh. */
#define RETRY_MAX 300

struct file_seen {
	bool exists;
	struct timespec mtime;
	off_t size;
	char sha[65];
};

struct source {
	char *audience, *key, *what;
	enum members_kind kind;
	int64_t interval;        /* LDAP: seconds between reads */
	int64_t next_due;        /* LDAP */
	char *csv_path;          /* CSV */
	struct file_seen file;   /* CSV: as last read */
	bool due, live;
	size_t count;
	int64_t read_at;         /* last good read */
	char *reason;            /* failing: why, else NULL */
	int64_t failing_since;
};

struct service_members {
	pthread_mutex_t lock;    /* the table, for the health readers */
	struct source *v;
	size_t n;
	long override;           /* HERALD_REFRESH_SECONDS, 0 if unset */
};

struct service_members *service_members_new(void)
{
	struct service_members *sm = xcalloc(1, sizeof *sm);
	pthread_mutex_init(&sm->lock, NULL);
	const char *e = getenv("HERALD_REFRESH_SECONDS");
	char *end = NULL;
	if (e)
		sm->override = strtol(e, &end, 10);
	if (e && (!*e || *end || sm->override < 1 || sm->override > 86400 * 366)) {
		log_event(LOG_WARN, "members.config", "HERALD_REFRESH_SECONDS=\"%.20s\" is not a "
			  "whole number of seconds; ignored", e);
		sm->override = 0;
	}
	return sm;
}

static void source_clear(struct source *s)
{
	free(s->audience);
	free(s->key);
	free(s->what);
	free(s->csv_path);
	free(s->reason);
}

void service_members_free(struct service_members *sm)
{
	if (!sm)
		return;
	for (size_t i = 0; i < sm->n; i++)
		source_clear(&sm->v[i]);
	free(sm->v);
	pthread_mutex_destroy(&sm->lock);
	free(sm);
}

/* ------------------------------------------------------------ evidence */

__attribute__((format(printf, 4, 5)))
static void record(struct store *db, const char *kind, const char *logkind,
		   const char *fmt, ...)
{
	struct buf b;
	buf_init(&b);
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	bool warn = strcmp(kind, "members-failed") == 0;
	/* A long list of joiners is evidence in full, but a log line says
	 * the start of it. */
	log_event(warn ? LOG_WARN : LOG_INFO, logkind, "%.600s%s", b.data,
		  b.len > 600 ? "…" : "");
	struct herald_err err;
	herald_err_clear(&err);
	if (db && record_event(db, kind, b.data, &err))
		log_event(LOG_ERROR, "evidence.error", "recording %s failed: %s", kind, err.msg);
	buf_free(&b);
}

static void file_seen_get(const char *path, struct file_seen *f)
{
	struct stat st;
	*f = (struct file_seen){ 0 };
	if (stat(path, &st) != 0)
		return;
	f->exists = true;
	f->mtime = st.st_mtim;
	f->size = st.st_size;
	char *data;
	size_t len;
	if (read_file(path, 64u << 20, &data, &len) == 0) {
		unsigned char d[32];
		sha256(data, len, d);
		hex_encode(d, 32, f->sha);
		free(data);
	}
}

static struct source *find(struct service_members *sm, const struct plan_audience *a)
{
	for (size_t i = 0; i < sm->n; i++)
		if (strcmp(sm->v[i].audience, a->id) == 0 && strcmp(sm->v[i].key, a->source.key) == 0)
			return &sm->v[i];
	return NULL;
}

static int64_t interval_of(const struct service_members *sm, const struct plan_audience *a)
{
	return sm->override ? sm->override : a->source.refresh;
}

/* A source this load read: its outcome. */
static void outcome(struct service_members *sm, struct source *s,
		    const struct plan_audience *a, struct store *db, int64_t now)
{
	int64_t retry = s->interval < RETRY_MAX ? s->interval : RETRY_MAX;
	if (sm->override)
		retry = sm->override;
	if (a->source.failure) {
		bool news = !s->reason || strcmp(s->reason, a->source.failure) != 0;
		if (!s->reason)
			s->failing_since = now;
		if (news) {
			char when[40];
			format_rfc3339_utc(s->read_at, when, sizeof when);
			record(db, "members-failed", "members.failed", "audience %s: %s: %s; keeping "
			       "the last good list of %zu member%s (read %s)", a->id, a->source.what,
			       a->source.failure, a->nmembers, a->nmembers == 1 ? "" : "s", when);
		} else {
			log_event(LOG_WARN, "members.failed", "audience %s: %s still fails: %s",
				  a->id, a->source.what, a->source.failure);
		}
		free(s->reason);
		s->reason = xstrdup(a->source.failure);
		s->next_due = now + retry;
		return;
	}
	if (s->reason)
		record(db, "members-recovered", "members.recovered", "audience %s: %s read again: "
		       "%zu member%s", a->id, a->source.what, a->nmembers,
		       a->nmembers == 1 ? "" : "s");
	free(s->reason);
	s->reason = NULL;
	s->count = a->nmembers;
	s->read_at = now;
	s->next_due = now + s->interval;
}

static void add_source(struct service_members *sm, const struct plan_audience *a,
		       struct store *db, int64_t now)
{
	sm->v = xreallocarray(sm->v, sm->n + 1, sizeof *sm->v);
	struct source *s = &sm->v[sm->n++];
	*s = (struct source){
		.audience = xstrdup(a->id), .key = xstrdup(a->source.key),
		.what = xstrdup(a->source.what ? a->source.what : "?"), .kind = a->source.kind,
		.interval = interval_of(sm, a), .count = a->nmembers, .read_at = now,
		.live = true,
	};
	s->next_due = now + s->interval;
	if (a->source.kind == MEMBERS_CSV && a->source.csv_path) {
		s->csv_path = xstrdup(a->source.csv_path);
		file_seen_get(s->csv_path, &s->file);
	}
	char digest[65];
	member_list_digest(a->list, digest);
	record(db, "members-loaded", "members.loaded", "audience %s: %zu member%s from %s; "
	       "addresses sha256 %s", a->id, a->nmembers, a->nmembers == 1 ? "" : "s", s->what,
	       digest);
	if (a->source.failure) {
		s->read_at = 0;
		outcome(sm, s, a, db, now);
	}
}

bool service_members_update(struct service_members *sm, const struct plan *p,
			    struct store *db, char *why, size_t whylen)
{
	int64_t now = clock_now();
	pthread_mutex_lock(&sm->lock);
	for (size_t i = 0; i < sm->n; i++)
		sm->v[i].live = false;
	for (size_t i = 0; i < p->naudiences; i++) {
		const struct plan_audience *a = &p->audiences[i];
		if (!a->source.key || !a->source.resolved)
			continue;
		struct source *s = find(sm, a);
		if (!s) {
			add_source(sm, a, db, now);
			continue;
		}
		s->live = true;
		s->due = false;
		if (a->source.fetched)
			outcome(sm, s, a, db, now);
	}
	/* Sources the plan no longer has go. */
	size_t k = 0, failing = 0;
	for (size_t i = 0; i < sm->n; i++) {
		if (sm->v[i].live) {
			if (sm->v[i].reason && !failing++)
				snprintf(why, whylen, "audience %s: %s", sm->v[i].audience,
					 sm->v[i].reason);
			sm->v[k++] = sm->v[i];
		} else {
			source_clear(&sm->v[i]);
		}
	}
	sm->n = k;
	pthread_mutex_unlock(&sm->lock);
	if (failing > 1) {
		size_t len = strlen(why);
		snprintf(why + len, whylen - len, " (and %zu more)", failing - 1);
	}
	return failing > 0;
}

/* -------------------------------------------------------------- refresh */

static bool file_changed(struct source *s)
{
	struct stat st;
	bool exists = stat(s->csv_path, &st) == 0;
	if (exists == s->file.exists && (!exists || (st.st_size == s->file.size &&
	    st.st_mtim.tv_sec == s->file.mtime.tv_sec &&
	    st.st_mtim.tv_nsec == s->file.mtime.tv_nsec)))
		return false;
	struct file_seen now;
	file_seen_get(s->csv_path, &now);
	bool changed = now.exists != s->file.exists || strcmp(now.sha, s->file.sha) != 0;
	s->file = now;
	return changed;
}

bool service_members_due(struct service_members *sm, int64_t now)
{
	bool any = false;
	pthread_mutex_lock(&sm->lock);
	for (size_t i = 0; i < sm->n; i++) {
		struct source *s = &sm->v[i];
		if (s->kind == MEMBERS_LDAP)
			s->due = now >= s->next_due;
		else if (s->kind == MEMBERS_CSV && s->csv_path)
			s->due = file_changed(s);
		any |= s->due;
	}
	pthread_mutex_unlock(&sm->lock);
	return any;
}

bool service_members_refetch(const struct plan_audience *a, void *ctx)
{
	struct service_members *sm = ctx;
	pthread_mutex_lock(&sm->lock);
	const struct source *s = find(sm, a);
	bool due = !s || s->due;
	pthread_mutex_unlock(&sm->lock);
	return due;
}

/* ------------------------------------------------------------- changes */

static const struct plan_audience *same_audience(const struct plan *p, const char *id)
{
	long i = plan_audience_index(p, id);
	return i < 0 ? NULL : &p->audiences[i];
}

bool service_members_changed(const struct plan *old, const struct plan *new_)
{
	for (size_t i = 0; i < new_->naudiences; i++) {
		const struct plan_audience *b = &new_->audiences[i];
		const struct plan_audience *a = same_audience(old, b->id);
		if (a && a->list != b->list && !member_list_same(a->list, b->list))
			return true;
	}
	return false;
}

struct change {
	struct buf joined, left;
	size_t njoined, nleft;
};

static void on_diff(bool joined, const struct member *m, void *ctx)
{
	struct change *c = ctx;
	struct buf *b = joined ? &c->joined : &c->left;
	buf_printf(b, "%s%s", b->len ? ", " : "", m->email);
	if (joined)
		c->njoined++;
	else
		c->nleft++;
}

void service_members_record_changes(const struct plan *old, const struct plan *new_,
				    struct store *db)
{
	for (size_t i = 0; i < new_->naudiences; i++) {
		const struct plan_audience *b = &new_->audiences[i];
		const struct plan_audience *a = same_audience(old, b->id);
		if (!a || a->list == b->list || !b->source.resolved || !a->source.resolved)
			continue;
		struct change c = { 0 };
		buf_init(&c.joined);
		buf_init(&c.left);
		member_list_diff(a->list, b->list, on_diff, &c);
		if (c.njoined || c.nleft)
			record(db, "members-changed", "members.changed", "audience %s (%s): %zu "
			       "joined, %zu left, %zu member%s now; joined: %s; left: %s", b->id,
			       b->source.what ? b->source.what : "the plan", c.njoined, c.nleft,
			       b->nmembers, b->nmembers == 1 ? "" : "s",
			       c.njoined ? c.joined.data : "none", c.nleft ? c.left.data : "none");
		buf_free(&c.joined);
		buf_free(&c.left);
	}
}

/* --------------------------------------------------------------- health */

void service_members_health(struct buf *out, void *ctx)
{
	struct service_members *sm = ctx;
	pthread_mutex_lock(&sm->lock);
	bool failing = false;
	for (size_t i = 0; i < sm->n; i++)
		failing |= sm->v[i].reason != NULL;
	buf_printf(out, "\"members\":{\"status\":\"%s\",\"sources\":[", failing ? "degraded" : "ok");
	for (size_t i = 0; i < sm->n; i++) {
		const struct source *s = &sm->v[i];
		char when[40];
		buf_adds(out, i ? ",{\"audience\":" : "{\"audience\":");
		buf_add_json(out, s->audience);
		buf_adds(out, ",\"source\":");
		buf_add_json(out, s->what);
		buf_printf(out, ",\"members\":%zu,\"status\":\"%s\",\"read_at\":", s->count,
			   s->reason ? "failing" : "ok");
		format_rfc3339_utc(s->read_at, when, sizeof when);
		buf_add_json(out, s->read_at ? when : NULL);
		if (s->reason) {
			buf_adds(out, ",\"reason\":");
			buf_add_json(out, s->reason);
			format_rfc3339_utc(s->failing_since, when, sizeof when);
			buf_adds(out, ",\"failing_since\":");
			buf_add_json(out, when);
		}
		buf_addc(out, '}');
	}
	buf_adds(out, "]}");
	pthread_mutex_unlock(&sm->lock);
}
