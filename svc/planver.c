/*
 * planver.c - the plan's versions in the evidence (see planver.h).
 *
 * Rows come newest first; each is put in its entry as it comes, so only
 * the newest text of each entry is kept.  A row's file SHA-256 already
 * seen names its entry without reading its text again (a file and its
 * redaction are one text).
 */
#include "herald/planver.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "herald/plan.h"
#include "herald/plan_text.h"
#include "herald/store.h"
#include "herald/timeutil.h"

static bool same(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static bool has_file(const struct planver *e, const char *sha)
{
	for (size_t i = 0; i < e->nfiles; i++)
		if (strcmp(e->files[i], sha) == 0)
			return true;
	return false;
}

static void add_file(struct planver *e, const char *sha)
{
	if (!sha || strlen(sha) != 64 || has_file(e, sha))
		return;
	e->files = xreallocarray(e->files, e->nfiles + 1, sizeof *e->files);
	memcpy(e->files[e->nfiles++], sha, 65);
}

static struct planver *by_file(struct planver_history *h, const char *plan_id,
			       const char *sha)
{
	for (size_t i = 0; sha && i < h->n; i++)
		if (same(h->v[i].plan_id, plan_id) && has_file(&h->v[i], sha))
			return &h->v[i];
	return NULL;
}

static struct planver *by_content(struct planver_history *h, const char *plan_id,
				  const char *sha)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->v[i].has_content && same(h->v[i].plan_id, plan_id) &&
		    strcmp(h->v[i].sha256, sha) == 0)
			return &h->v[i];
	return NULL;
}

static struct planver *new_entry(struct planver_history *h,
				 const struct store_plan_version_view *r)
{
	h->v = xreallocarray(h->v, h->n + 1, sizeof *h->v);
	struct planver *e = &h->v[h->n++];
	*e = (struct planver){
		.plan_id = dup_or_null(r->plan_id), .version = dup_or_null(r->version),
		.approved_by = dup_or_null(r->approved_by),
		.approved_on = dup_or_null(r->approved_on),
		.next_review = dup_or_null(r->next_review), .path = dup_or_null(r->path),
		.first = r->at, .last = r->at, .first_seq = r->seq, .approved = -1,
	};
	snprintf(e->sha256, sizeof e->sha256, "%s", r->sha256_hex ? r->sha256_hex : "");
	return e;
}

static int on_row(const struct store_plan_version_view *r, void *ctx)
{
	struct planver_history *h = ctx;
	if (!same(r->event, "loaded") && !same(r->event, "reloaded"))
		return 0;
	struct planver *e = by_file(h, r->plan_id, r->sha256_hex);
	char content[65];
	struct herald_err err;
	herald_err_clear(&err);
	bool has = !e && r->text && r->path &&
		   plan_text_content_sha256(r->path, r->text, content, &err) == H_OK;
	if (has && !(e = by_content(h, r->plan_id, content))) {
		e = new_entry(h, r);
		memcpy(e->sha256, content, 65);
		e->has_content = true;
	}
	if (!e)
		e = new_entry(h, r);
	if (!e->text && r->text && e->has_content)
		e->text = xstrdup(r->text);   /* the newest: rows come newest first */
	add_file(e, r->sha256_hex);
	if (r->at < e->first)
		e->first = r->at;
	if (r->seq < e->first_seq)
		e->first_seq = r->seq;
	if (r->at > e->last)
		e->last = r->at;
	e->loads++;
	return 0;
}

/* Seq, not time: two loads in one second keep their order. */
static int by_first(const void *a, const void *b)
{
	const struct planver *x = a, *y = b;
	return x->first_seq < y->first_seq ? -1 : x->first_seq > y->first_seq;
}

/* The first entry of plan_id among the first `before` that holds the
 * approval of version / approved_on with another content, or -1. */
static long approval_of(const struct planver_history *h, size_t before,
			const char *plan_id, const char *version,
			const char *approved_on, const char *content)
{
	for (size_t i = 0; i < before; i++) {
		const struct planver *x = &h->v[i];
		if (!x->has_content || !same(x->plan_id, plan_id) ||
		    strcmp(x->sha256, content) == 0)
			continue;
		if (same(x->version, version) ||
		    (approved_on && x->approved_on && strcmp(x->approved_on, approved_on) == 0))
			return (long)i;
	}
	return -1;
}

enum herald_rc planver_read(struct store *s, struct planver_history *h,
			    struct herald_err *err)
{
	*h = (struct planver_history){ 0 };
	enum herald_rc rc = store_each_plan_version(s, 0, on_row, h, err);
	if (rc) {
		planver_free(h);
		return rc;
	}
	if (h->n)
		qsort(h->v, h->n, sizeof *h->v, by_first);
	for (size_t i = 0; i < h->n; i++) {
		struct planver *e = &h->v[i];
		if (e->has_content)
			e->approved = approval_of(h, i, e->plan_id, e->version, e->approved_on,
						  e->sha256);
	}
	return H_OK;
}

void planver_free(struct planver_history *h)
{
	for (size_t i = 0; i < h->n; i++) {
		struct planver *e = &h->v[i];
		free(e->plan_id);
		free(e->version);
		free(e->approved_by);
		free(e->approved_on);
		free(e->next_review);
		free(e->path);
		free(e->files);
		free(e->text);
	}
	free(h->v);
	*h = (struct planver_history){ 0 };
}

void planver_judge(const struct planver_history *h, const char *plan_id,
		   const char *version, const char *approved_on,
		   const char *content_sha256, struct planver_verdict *v)
{
	*v = (struct planver_verdict){ 0 };
	size_t before = h->n;
	for (size_t i = 0; i < h->n; i++)
		if (h->v[i].has_content && same(h->v[i].plan_id, plan_id) &&
		    strcmp(h->v[i].sha256, content_sha256) == 0)
			before = i;
	long a = approval_of(h, before, plan_id, version, approved_on, content_sha256);
	if (a < 0)
		return;
	const struct planver *x = &h->v[a];
	v->changed = true;
	v->same_version = same(x->version, version);
	memcpy(v->approved_sha256, x->sha256, 65);
	snprintf(v->approved_version, sizeof v->approved_version, "%s",
		 x->version ? x->version : "");
	snprintf(v->approved_on, sizeof v->approved_on, "%s",
		 x->approved_on ? x->approved_on : "");
	v->approved_first = x->first;
}

enum herald_rc planver_judge_plan(struct store *s, const struct plan *p,
				  struct planver_verdict *v, struct herald_err *err)
{
	struct planver_history h;
	enum herald_rc rc = planver_read(s, &h, err);
	if (rc)
		return rc;
	planver_judge(&h, p->id, p->version, p->approved_on, p->content_sha256, v);
	planver_free(&h);
	return H_OK;
}

void planver_words(const struct planver_verdict *v, const char *content_sha256,
		   struct buf *out)
{
	if (!v->changed)
		return;
	char at[32];
	format_rfc3339_utc(v->approved_first, at, sizeof at);
	buf_printf(out, "content %.12s is not %.12s, the content first loaded (%s) under "
		   "version %s", content_sha256, v->approved_sha256, at, v->approved_version);
	if (*v->approved_on)
		buf_printf(out, " approved on %s", v->approved_on);
	buf_printf(out, ", yet it keeps %s",
		   v->same_version ? "the same version" : "the same approval date");
}

static bool hex_prefix(const char *s)
{
	size_t n = strlen(s);
	if (n < 4 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool sha_match(const struct planver *e, const char *prefix)
{
	size_t n = strlen(prefix);
	if (strncasecmp(e->sha256, prefix, n) == 0)
		return true;
	for (size_t i = 0; i < e->nfiles; i++)
		if (strncasecmp(e->files[i], prefix, n) == 0)
			return true;
	return false;
}

size_t planver_find(const struct planver_history *h, const char *what,
		    size_t *found, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < h->n; i++)
		if (same(h->v[i].version, what)) {
			if (n < cap)
				found[n] = i;
			n++;
		}
	if (n || !hex_prefix(what))
		return n;
	for (size_t i = 0; i < h->n; i++)
		if (sha_match(&h->v[i], what)) {
			if (n < cap)
				found[n] = i;
			n++;
		}
	return n;
}
