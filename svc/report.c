/*
 * report.c - the auditor's HTML report (see report.h).
 *
 * Figures come from store_each_delivery (one snapshot, one head); the
 * plan, when given, adds what was planned and the check warnings.  The
 * page is built for three readers: a browser on a phone (one column,
 * tables scroll sideways), paper (@media print), and a test reading the
 * DOM (data-* attributes on every count).
 */
#include "herald/report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "herald/agenda.h"
#include "herald/evidence.h"
#include "herald/fanout.h"
#include "herald/lint.h"
#include "herald/plan.h"
#include "herald/plan_text.h"
#include "herald/plandoc.h"
#include "herald/planver.h"
#include "herald/store.h"
#include "herald/timeutil.h"
#include "herald/version.h"

#define NBUCKETS 52

enum outcome { O_ONTIME, O_LATE, O_FAILED, O_MISSED, O_PENDING, O_DRYRUN, O_N };

struct row {
	char *comm, *aud, *topic;
	int64_t planned;          /* from the plan; -1 = unknown */
	int64_t recorded, n[O_N];
	int64_t asked, acked;     /* people (ack links), not deliveries */
	bool asks;                /* some delivery carried an ack link */
	bool manual;
};

/* One occurrence of an acknowledgement-required communication (or one
 * manual send: by its first due time). */
struct ackgrp {
	char *comm, *topic;
	bool has_occ;
	int64_t when;
	int64_t asked, acked;
	struct buf names;         /* <li> of those outstanding */
};

struct lane {
	char *comm;
	int64_t b[NBUCKETS][O_N];
};

struct agg {
	struct row *rows;
	size_t nrows;
	struct lane *lanes;
	size_t nlanes;
	struct ackgrp *groups;
	size_t ngroups;
	size_t last_row, last_lane;
	int64_t from, to;         /* period, for the buckets */
	int64_t min_due, max_due;
	bool buckets;             /* second pass fills the timeline */
};

static bool same(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static struct row *row_get(struct agg *a, const char *comm, const char *aud)
{
	if (a->last_row < a->nrows && same(a->rows[a->last_row].comm, comm) &&
	    same(a->rows[a->last_row].aud, aud))
		return &a->rows[a->last_row];
	for (size_t i = 0; i < a->nrows; i++)
		if (same(a->rows[i].comm, comm) && same(a->rows[i].aud, aud)) {
			a->last_row = i;
			return &a->rows[i];
		}
	a->rows = xreallocarray(a->rows, a->nrows + 1, sizeof *a->rows);
	struct row *r = &a->rows[a->nrows];
	memset(r, 0, sizeof *r);
	r->comm = xstrdup(comm ? comm : "");
	r->aud = xstrdup(aud ? aud : "");
	r->planned = -1;
	a->last_row = a->nrows++;
	return r;
}

static struct lane *lane_get(struct agg *a, const char *comm)
{
	if (a->last_lane < a->nlanes && same(a->lanes[a->last_lane].comm, comm))
		return &a->lanes[a->last_lane];
	for (size_t i = 0; i < a->nlanes; i++)
		if (same(a->lanes[i].comm, comm)) {
			a->last_lane = i;
			return &a->lanes[i];
		}
	a->lanes = xreallocarray(a->lanes, a->nlanes + 1, sizeof *a->lanes);
	struct lane *l = &a->lanes[a->nlanes];
	memset(l, 0, sizeof *l);
	l->comm = xstrdup(comm ? comm : "");
	a->last_lane = a->nlanes++;
	return l;
}

static enum outcome classify(const struct store_delivery_view *d)
{
	if (strcmp(d->state, "sent") == 0)
		return d->late ? O_LATE : O_ONTIME;
	if (strcmp(d->state, "failed") == 0)
		return O_FAILED;
	if (strcmp(d->state, "missed") == 0)
		return O_MISSED;
	if (strcmp(d->state, "dry-run") == 0)
		return O_DRYRUN;
	/* A reminder cancelled by an acknowledgement never went out and was
	 * never due to: it is not a communication. */
	if (strcmp(d->state, "cancelled") == 0)
		return O_N;
	return O_PENDING;
}

static int on_delivery(const struct store_delivery_view *d, void *ctx)
{
	struct agg *a = ctx;
	int64_t due = d->due;
	enum outcome o = classify(d);
	if (o == O_N)
		return 0;
	/* A drill reached the drill recipients, not the audience: it has its
	 * own section (section_drills). */
	if (d->kind && strcmp(d->kind, "drill") == 0)
		return 0;
	if (a->buckets) {
		if (a->to > a->from) {
			int64_t k = (due - a->from) * NBUCKETS / (a->to - a->from);
			if (k >= 0 && k < NBUCKETS)
				lane_get(a, d->communication)->b[k][o]++;
		}
		return 0;
	}
	if (!a->min_due || due < a->min_due)
		a->min_due = due;
	if (due > a->max_due)
		a->max_due = due;
	struct row *r = row_get(a, d->communication, d->audience);
	if (!r->topic && d->topic)
		r->topic = xstrdup(d->topic);
	if (d->kind && strcmp(d->kind, "manual") == 0)
		r->manual = true;
	r->recorded++;
	r->n[o]++;
	if (d->ackid)
		r->asks = true;
	return 0;
}

/* ------------------------------------------------------ acknowledgements */

static struct ackgrp *group_get(struct agg *a, const struct store_ack_link *l)
{
	int64_t when = l->has_occurrence ? l->occurrence : l->first_due;
	for (size_t i = a->ngroups; i-- > 0;) {
		struct ackgrp *g = &a->groups[i];
		if (g->when == when && g->has_occ == l->has_occurrence &&
		    same(g->comm, l->communication))
			return g;
	}
	a->groups = xreallocarray(a->groups, a->ngroups + 1, sizeof *a->groups);
	struct ackgrp *g = &a->groups[a->ngroups++];
	memset(g, 0, sizeof *g);
	g->comm = xstrdup(l->communication ? l->communication : "");
	g->topic = l->topic ? xstrdup(l->topic) : NULL;
	g->has_occ = l->has_occurrence;
	g->when = when;
	buf_init(&g->names);
	return g;
}

/* One person asked: counted in the row of their first delivery's audience
 * and in their occurrence's group. */
static int on_link(const struct store_ack_link *l, void *ctx)
{
	struct agg *a = ctx;
	/* A drill asked its drill recipients, not the audience (section_drills). */
	if (l->kind && strcmp(l->kind, "drill") == 0)
		return 0;
	struct row *r = row_get(a, l->communication, l->audience);
	if (!r->topic && l->topic)
		r->topic = xstrdup(l->topic);
	r->asks = true;
	r->asked++;
	struct ackgrp *g = group_get(a, l);
	g->asked++;
	if (l->acked_at) {
		r->acked++;
		g->acked++;
		return 0;
	}
	struct buf *b = &g->names;
	buf_adds(b, "<li>");
	if (l->name) {
		buf_add_html(b, l->name);
		if (l->email)
			buf_adds(b, " ");
	}
	if (l->email) {
		buf_adds(b, l->name ? "&lt;" : "");
		buf_add_html(b, l->email);
		buf_adds(b, l->name ? "&gt;" : "");
	}
	if (!l->name && !l->email) {
		buf_adds(b, "channel <code>");
		buf_add_html(b, l->channel_id);
		buf_adds(b, "</code> (shared: one click there counts for all)");
	}
	buf_adds(b, "</li>");
	return 0;
}

static void agg_free(struct agg *a)
{
	for (size_t i = 0; i < a->nrows; i++) {
		free(a->rows[i].comm);
		free(a->rows[i].aud);
		free(a->rows[i].topic);
	}
	free(a->rows);
	for (size_t i = 0; i < a->nlanes; i++)
		free(a->lanes[i].comm);
	free(a->lanes);
	for (size_t i = 0; i < a->ngroups; i++) {
		free(a->groups[i].comm);
		free(a->groups[i].topic);
		buf_free(&a->groups[i].names);
	}
	free(a->groups);
}

/* ------------------------------------------------------------ planned */

/* Fills planned counts from the plan: occurrences whose notify time falls
 * in the period, times the messages each makes. */
static void add_planned(struct agg *a, const struct plan *p)
{
	for (size_t ci = 0; ci < p->ncomms; ci++) {
		const struct plan_comm *c = &p->comms[ci];
		for (size_t k = 0; k < c->naudiences; k++) {
			struct row *r = row_get(a, c->id, p->audiences[c->audiences[k]].id);
			if (!r->topic)
				r->topic = xstrdup(c->topic);
			if (c->sched.kind == SCHED_MANUAL)
				r->manual = true;
			else
				r->planned = 0;
		}
	}
	int64_t maxoff = 0;
	for (size_t ci = 0; ci < p->ncomms; ci++)
		for (size_t k = 0; k < p->comms[ci].nnotify; k++)
			if (p->comms[ci].notify[k] > maxoff)
				maxoff = p->comms[ci].notify[k];
	struct agenda_item *items = NULL;
	size_t n = 0;
	struct herald_err err;
	if (agenda_collect(p, a->from, a->to + maxoff, -1, &items, &n, &err))
		return;
	for (size_t i = 0; i < n; i++) {
		const struct plan_comm *c = &p->comms[items[i].comm];
		for (size_t k = 0; k < c->nnotify; k++) {
			int64_t due = items[i].o.start - c->notify[k];
			if (due < a->from || due >= a->to)
				continue;
			for (size_t j = 0; j < c->naudiences; j++) {
				const struct plan_audience *au = &p->audiences[c->audiences[j]];
				row_get(a, c->id, au->id)->planned += fanout_count(p, c, au);
			}
		}
	}
	free(items);
}

/* ---------------------------------------------------------------- page */

static const char css[] =
	":root{--fg:#1a1a1a;--muted:#4a4a4a;--line:#b8b8b8;--bg:#fff;--head:#eef1f5;"
	"--ok:#1b6e35;--late:#8a5300;--bad:#b00020;--miss:#3d3d3d;--pend:#1f4e99}"
	"*{box-sizing:border-box}"
	"body{margin:0 auto;max-width:72rem;padding:1rem;color:var(--fg);background:var(--bg);"
	"font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}"
	"h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.25rem;margin-top:2rem;"
	"border-bottom:2px solid var(--fg)}"
	"code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em;overflow-wrap:anywhere}"
	".meta{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}"
	".meta dt{font-weight:600}.meta dd{margin:0}"
	".badge{display:inline-block;padding:.1rem .5rem;border:2px solid;border-radius:.3rem;font-weight:700}"
	".good{color:var(--ok)}.warn{color:var(--late)}.bad{color:var(--bad)}"
	".wrap{overflow-x:auto}"
	"table{border-collapse:collapse;width:100%;margin:.5rem 0}"
	"caption{text-align:left;font-weight:600;padding:.3rem 0;color:var(--muted)}"
	"th,td{border:1px solid var(--line);padding:.3rem .5rem;vertical-align:top}"
	"tbody th{text-align:left;font-weight:400}thead th{background:var(--head);font-size:.9em}td.n{text-align:right;font-variant-numeric:tabular-nums}"
	"tfoot td,tfoot th{font-weight:700;background:var(--head)}"
	"svg{width:100%;height:auto;display:block}.chart svg{min-width:36rem}"
	".legend{display:flex;flex-wrap:wrap;gap:1rem;padding:0;list-style:none}"
	"details ul.names{margin:.3rem 0;padding-left:1.2rem;columns:16rem}"
	"summary{cursor:pointer}"
	"footer{margin-top:2rem;color:var(--muted);font-size:.9rem}"
	"@media (max-width:40rem){body{font-size:15px;padding:.5rem}"
	".meta{grid-template-columns:1fr}.meta dd{margin-bottom:.4rem}"
	"th,td{padding:.2rem .3rem}}"
	"@media print{body{max-width:none;font-size:10pt;padding:0}"
	".wrap{overflow:visible}thead th,tfoot td,tfoot th{background:none}"
	"table,figure,section{break-inside:avoid}h2{break-after:avoid}"
	"a{color:inherit;text-decoration:none}}";

static void day(int64_t t, char out[16])
{
	char s[32];
	format_rfc3339_utc(t, s, sizeof s);
	memcpy(out, s, 10);
	out[10] = '\0';
}

static void pct(struct buf *b, int64_t num, int64_t den)
{
	if (den <= 0)
		buf_adds(b, "—");
	else
		buf_printf(b, "%" PRId64 "%%", (num * 100 + den / 2) / den);
}

struct plan_meta {
	char *id, *title, *version, *owner, *sha256, *approved_by, *approved_on,
		*next_review, *loaded_at;
	bool changed;             /* changed since approval (planver.h) */
	char approved_sha256[65]; /* then: the approved content */
	char content_sha256[65];  /* "" = not known (loaded before texts were kept) */
};

static void meta_free(struct plan_meta *m)
{
	free(m->id); free(m->title); free(m->version); free(m->owner);
	free(m->sha256); free(m->approved_by); free(m->approved_on);
	free(m->next_review); free(m->loaded_at);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static int latest_loaded(const struct store_plan_version_view *v, void *ctx)
{
	struct plan_meta *m = ctx;
	if (strcmp(v->event, "loaded") != 0 && strcmp(v->event, "reloaded") != 0)
		return 0;
	m->id = dup_or_null(v->plan_id);
	m->version = dup_or_null(v->version);
	m->sha256 = dup_or_null(v->sha256_hex);
	m->approved_by = dup_or_null(v->approved_by);
	m->approved_on = dup_or_null(v->approved_on);
	m->next_review = dup_or_null(v->next_review);
	char at[32];
	format_rfc3339_utc(v->at, at, sizeof at);
	m->loaded_at = xstrdup(at);
	return 1;
}

static void meta_from_log(struct store *s, struct plan_meta *m)
{
	store_each_plan_version(s, 0, latest_loaded, m, NULL);
}

static void meta_from_plan(const struct plan *p, struct plan_meta *m)
{
	m->id = xstrdup(p->id);
	m->title = xstrdup(p->title ? p->title : p->id);
	m->version = xstrdup(p->version);
	m->owner = p->owner ? xstrdup(p->owner) : NULL;
	m->sha256 = xstrdup(p->sha256);
	snprintf(m->content_sha256, sizeof m->content_sha256, "%s", p->content_sha256);
	m->approved_by = p->approved_by ? xstrdup(p->approved_by) : NULL;
	m->approved_on = p->approved_on ? xstrdup(p->approved_on) : NULL;
	m->next_review = p->next_review ? xstrdup(p->next_review) : NULL;
}

/*
 * Whether the plan shown has changed since approval, and the plan whose
 * document the report carries: the plan given, else the latest version
 * in the log, read back from its stored text (*stored, caller frees).
 */
static void meta_approval(struct store *s, const struct plan *p, struct plan_meta *m,
			  struct plan **stored)
{
	struct planver_history h;
	*stored = NULL;
	if (planver_read(s, &h, NULL))
		return;
	struct planver_verdict v = { 0 };
	const struct planver *e = NULL;
	for (size_t i = 0; !p && m->sha256 && i < h.n; i++)
		for (size_t k = 0; k < h.v[i].nfiles; k++)
			if (strcmp(h.v[i].files[k], m->sha256) == 0 && !e)
				e = &h.v[i];
	if (p)
		planver_judge(&h, p->id, p->version, p->approved_on, p->content_sha256, &v);
	else if (e && e->has_content)
		planver_judge(&h, e->plan_id, e->version, e->approved_on, e->sha256, &v);
	if (e && e->has_content)
		memcpy(m->content_sha256, e->sha256, sizeof m->content_sha256);
	m->changed = v.changed;
	memcpy(m->approved_sha256, v.approved_sha256, sizeof m->approved_sha256);
	struct herald_err err;
	if (e && e->text && e->path && plan_text_load(e->path, e->text, stored, &err))
		*stored = NULL;
	planver_free(&h);
}

static void dl_item(struct buf *b, const char *dt, const char *dd, bool code)
{
	buf_printf(b, "<dt>%s</dt><dd>", dt);
	if (!dd)
		buf_adds(b, "<em>not recorded</em>");
	else {
		buf_adds(b, code ? "<code>" : "");
		buf_add_html(b, dd);
		buf_adds(b, code ? "</code>" : "");
	}
	buf_adds(b, "</dd>");
}

static void section_plan(struct buf *b, const struct plan_meta *m, int64_t now,
			 bool from_plan)
{
	buf_adds(b, "<section aria-labelledby=\"h-plan\"><h2 id=\"h-plan\">Plan</h2>");
	char today[16];
	day(now, today);
	const char *cls, *status;
	if (!m->approved_by || !m->approved_on) {
		cls = "bad";
		status = "Not approved";
	} else if (m->changed) {
		cls = "bad";
		status = "Changed since approval";
	} else if (m->next_review && strcmp(m->next_review, today) < 0) {
		cls = "warn";
		status = "Approved, review overdue";
	} else {
		cls = "good";
		status = "Approved";
	}
	buf_printf(b, "<p>Approval status: <span id=\"approval\" class=\"badge %s\">%s</span></p>",
		   cls, status);
	buf_adds(b, "<dl class=\"meta\">");
	dl_item(b, "Plan", m->id, false);
	if (m->title)
		dl_item(b, "Title", m->title, false);
	dl_item(b, "Version", m->version, false);
	if (from_plan)
		dl_item(b, "Owner", m->owner, false);
	dl_item(b, "File SHA-256", m->sha256, true);
	dl_item(b, "Content SHA-256", m->content_sha256[0] ? m->content_sha256 : NULL, true);
	dl_item(b, "Approved by", m->approved_by, false);
	dl_item(b, "Approved on", m->approved_on, false);
	dl_item(b, "Next review", m->next_review, false);
	if (!from_plan)
		dl_item(b, "Last loaded", m->loaded_at, false);
	if (m->changed)
		dl_item(b, "Approved content SHA-256", m->approved_sha256, true);
	buf_printf(b, "</dl><p class=\"note\">Source: %s.</p></section>",
		   from_plan ? "the plan file given to the report" :
			       "the latest plan version recorded in the evidence log");
}

static void version_cell(struct buf *b, const char *v, bool code)
{
	buf_adds(b, code ? "<td><code>" : "<td>");
	buf_add_html(b, v);
	buf_adds(b, code ? "</code></td>" : "</td>");
}

/* The versions table reads the history too: a row's content SHA-256 is
 * that of the entry holding its file SHA-256 (planver.h). */
struct version_rows {
	struct buf *b;
	const struct planver_history *h;   /* NULL: could not be read */
};

static const char *content_of(const struct planver_history *h,
			      const struct store_plan_version_view *v)
{
	for (size_t i = 0; h && v->sha256_hex && i < h->n; i++) {
		const struct planver *e = &h->v[i];
		if (!e->has_content || !same(e->plan_id, v->plan_id))
			continue;
		for (size_t k = 0; k < e->nfiles; k++)
			if (strcmp(e->files[k], v->sha256_hex) == 0)
				return e->sha256;
	}
	return NULL;
}

static int version_row(const struct store_plan_version_view *v, void *ctx)
{
	struct version_rows *x = ctx;
	struct buf *b = x->b;
	char at[32];
	format_rfc3339_utc(v->at, at, sizeof at);
	buf_printf(b, "<tr><td class=\"n\">%lld</td>", (long long)v->seq);
	version_cell(b, at, false);
	version_cell(b, v->event, false);
	version_cell(b, v->plan_id, false);
	version_cell(b, v->version, false);
	version_cell(b, v->sha256_hex, true);
	const char *content = content_of(x->h, v);
	if (content)
		version_cell(b, content, true);
	else if (v->sha256_hex)
		buf_adds(b, "<td><em>not recorded</em></td>");   /* loaded before texts were kept */
	else
		buf_adds(b, "<td></td>");
	version_cell(b, v->detail, false);
	buf_adds(b, "</tr>");
	return 0;
}

/*
 * Both hashes, named apart: plan history, show and diff name a version by
 * its content SHA-256 (canonical JSON), sha256sum gives the file's; an
 * auditor matching this table against either must find the one asked for.
 */
static void section_versions(struct buf *b, struct store *s)
{
	buf_adds(b, "<section aria-labelledby=\"h-versions\"><h2 id=\"h-versions\">Plan versions loaded</h2>"
		    "<p><em>File SHA-256</em> is that of the file's bytes (<code>sha256sum</code>); "
		    "<em>content SHA-256</em> that of its canonical JSON, by which <code>herald plan "
		    "history</code>, <code>plan show</code> and <code>plan diff</code> name a version "
		    "(a YAML twin or a change of layout alone is the same content).</p>"
		    "<div class=\"wrap\"><table id=\"versions\"><caption>Plan versions recorded (latest 50, newest first)</caption>"
		    "<thead><tr><th scope=\"col\">Seq</th><th scope=\"col\">At (UTC)</th>"
		    "<th scope=\"col\">Event</th><th scope=\"col\">Plan</th><th scope=\"col\">Version</th>"
		    "<th scope=\"col\">File SHA-256</th><th scope=\"col\">Content SHA-256</th>"
		    "<th scope=\"col\">Detail</th></tr></thead><tbody>");
	struct planver_history h;
	bool have = planver_read(s, &h, NULL) == H_OK;
	struct version_rows x = { .b = b, .h = have ? &h : NULL };
	store_each_plan_version(s, 50, version_row, &x, NULL);
	if (have)
		planver_free(&h);
	buf_adds(b, "</tbody></table></div></section>");
}

/* The plan as its controlled document (plandoc.h), as an appendix. */
static void section_plandoc(struct buf *b, const struct plan *p, int64_t now)
{
	if (!p)
		return;
	buf_adds(b, "<section aria-labelledby=\"h-plandoc\" id=\"plan-document\">"
		    "<h2 id=\"h-plandoc\">Plan document</h2>");
	plandoc_render_fragment(p, now, b);
	buf_adds(b, "</section>");
}

static const char *const metric_names[O_N] = {
	"on-time", "late", "failed", "missed", "pending", "dry-run",
};

static void cell(struct buf *b, const char *comm, const char *aud,
		 const char *metric, int64_t v)
{
	buf_adds(b, "<td class=\"n\" data-comm=\"");
	buf_add_html(b, comm);
	buf_adds(b, "\" data-aud=\"");
	buf_add_html(b, aud);
	buf_printf(b, "\" data-metric=\"%s\">", metric);
	if (v < 0)
		buf_adds(b, "—");
	else
		buf_printf(b, "%" PRId64, v);
	buf_adds(b, "</td>");
}

static void rate_cell(struct buf *b, const char *comm, const char *aud,
		      const char *metric, int64_t num, int64_t den)
{
	buf_adds(b, "<td class=\"n\" data-comm=\"");
	buf_add_html(b, comm);
	buf_adds(b, "\" data-aud=\"");
	buf_add_html(b, aud);
	buf_printf(b, "\" data-metric=\"%s\">", metric);
	pct(b, num, den);
	buf_adds(b, "</td>");
}

static void row_cells(struct buf *b, const struct row *r, const char *comm,
		      const char *aud)
{
	cell(b, comm, aud, "planned", r->planned);
	cell(b, comm, aud, "recorded", r->recorded);
	for (int o = 0; o < O_N; o++)
		cell(b, comm, aud, metric_names[o], r->n[o]);
	/* People, not deliveries: a notice, a second offset and a reminder
	 * to one person are one acknowledgement asked. */
	cell(b, comm, aud, "acknowledged", r->asks ? r->acked : -1);
	int64_t base = r->planned >= 0 ? (r->planned > r->recorded ? r->planned : r->recorded)
				       : r->recorded;
	rate_cell(b, comm, aud, "on-time-rate", r->n[O_ONTIME], base);
	rate_cell(b, comm, aud, "ack-rate", r->acked, r->asks ? r->asked : 0);
}

static int row_cmp(const void *x, const void *y)
{
	const struct row *a = x, *b = y;
	int c = strcmp(a->comm, b->comm);
	return c ? c : strcmp(a->aud, b->aud);
}

static void section_counts(struct buf *b, struct agg *a, bool with_plan)
{
	if (a->nrows > 1)
		qsort(a->rows, a->nrows, sizeof *a->rows, row_cmp);
	a->last_row = (size_t)-1;
	buf_adds(b, "<section aria-labelledby=\"h-counts\"><h2 id=\"h-counts\">Communications</h2>"
		    "<p>One delivery is one message to one recipient through one channel. "
		    "<em>Planned</em> counts the messages the plan schedules in the period");
	buf_adds(b, with_plan ? "" : " (shown as — without <code>--plan</code>)");
	buf_adds(b, "; <em>recorded</em> the deliveries in the evidence log. "
		    "The on-time rate is on time ÷ the larger of the two. <em>Acknowledged</em> "
		    "counts people, and the acknowledgement rate is people who acknowledged ÷ "
		    "people asked (each person once per occurrence, however many notices and "
		    "reminders they got); both are — for a communication that asks for no "
		    "acknowledgement.</p>"
		    "<div class=\"wrap\"><table id=\"counts\"><caption>Deliveries per communication "
		    "and audience in the period</caption><thead><tr>"
		    "<th scope=\"col\">Communication</th><th scope=\"col\">Audience</th>"
		    "<th scope=\"col\">Planned</th><th scope=\"col\">Recorded</th>"
		    "<th scope=\"col\">On time</th><th scope=\"col\">Late</th>"
		    "<th scope=\"col\">Failed</th><th scope=\"col\">Missed</th>"
		    "<th scope=\"col\">Pending</th><th scope=\"col\">Dry-run</th>"
		    "<th scope=\"col\">Acknowledged</th><th scope=\"col\">On-time rate</th>"
		    "<th scope=\"col\">Ack rate</th></tr></thead><tbody>");
	struct row tot = { .planned = with_plan ? 0 : -1 };
	for (size_t i = 0; i < a->nrows; i++) {
		const struct row *r = &a->rows[i];
		buf_adds(b, "<tr><th scope=\"row\"><code>");
		buf_add_html(b, r->comm);
		buf_adds(b, "</code>");
		if (r->topic) {
			buf_adds(b, "<br>");
			buf_add_html(b, r->topic);
		}
		if (r->manual)
			buf_adds(b, " <em>(manual)</em>");
		buf_adds(b, "</th><td>");
		buf_add_html(b, r->aud);
		buf_adds(b, "</td>");
		row_cells(b, r, r->comm, r->aud);
		buf_adds(b, "</tr>");
		if (tot.planned >= 0 && r->planned >= 0)
			tot.planned += r->planned;
		tot.recorded += r->recorded;
		for (int o = 0; o < O_N; o++)
			tot.n[o] += r->n[o];
		tot.acked += r->acked;
		tot.asked += r->asked;
		tot.asks |= r->asks;
	}
	if (!a->nrows)
		buf_adds(b, "<tr><td colspan=\"13\">No deliveries in the period.</td></tr>");
	buf_adds(b, "</tbody><tfoot><tr><th scope=\"row\" colspan=\"2\">Total</th>");
	row_cells(b, &tot, "_total", "_total");
	buf_adds(b, "</tr></tfoot></table></div></section>");
}

static void ack_cell(struct buf *b, const struct ackgrp *g, const char *occ,
		     const char *metric, int64_t v, bool rate)
{
	buf_adds(b, "<td class=\"n\" data-comm=\"");
	buf_add_html(b, g->comm);
	buf_printf(b, "\" data-occ=\"%s\" data-metric=\"%s\">", occ, metric);
	if (rate)
		pct(b, g->acked, g->asked);
	else
		buf_printf(b, "%" PRId64, v);
	buf_adds(b, "</td>");
}

static int group_cmp(const void *x, const void *y)
{
	const struct ackgrp *a = x, *b = y;
	int c = strcmp(a->comm, b->comm);
	if (c)
		return c;
	if (a->has_occ != b->has_occ)
		return a->has_occ ? -1 : 1;
	return a->when < b->when ? -1 : a->when > b->when;
}

/* Lists longer than this start folded: 5,000 names must not bury the
 * table (<details> needs no script). */
#define NAMES_OPEN 10

static void section_acks(struct buf *b, struct agg *a)
{
	if (a->ngroups > 1)
		qsort(a->groups, a->ngroups, sizeof *a->groups, group_cmp);
	buf_adds(b, "<section aria-labelledby=\"h-acks\"><h2 id=\"h-acks\">Acknowledgements</h2>"
		    "<p>Per communication that asks for acknowledgement and per occurrence: the "
		    "people asked (each once, however many notices and reminders they were sent; "
		    "only those whose first message fell due in the period), how many "
		    "acknowledged, and who has not. <code>herald evidence acks --outstanding</code> "
		    "lists the same people with their addresses.</p>");
	if (!a->ngroups) {
		buf_adds(b, "<p id=\"acks\" data-count=\"0\">No acknowledgement was asked in the "
			    "period.</p></section>");
		return;
	}
	buf_printf(b, "<div class=\"wrap\"><table id=\"acks\" data-count=\"%zu\"><caption>People "
		      "asked to acknowledge, per communication and occurrence</caption><thead><tr>"
		      "<th scope=\"col\">Communication</th><th scope=\"col\">Occurrence (UTC)</th>"
		      "<th scope=\"col\">Asked</th><th scope=\"col\">Acknowledged</th>"
		      "<th scope=\"col\">Outstanding</th><th scope=\"col\">Rate</th>"
		      "<th scope=\"col\">Not yet acknowledged</th></tr></thead><tbody>", a->ngroups);
	for (size_t i = 0; i < a->ngroups; i++) {
		const struct ackgrp *g = &a->groups[i];
		char occ[32], shown[40];
		format_rfc3339_utc(g->when, occ, sizeof occ);
		snprintf(shown, sizeof shown, "%.10s %.5s", occ, occ + 11);
		const char *key = occ;   /* a manual send: its first due time */
		buf_adds(b, "<tr><th scope=\"row\"><code>");
		buf_add_html(b, g->comm);
		buf_adds(b, "</code>");
		if (g->topic) {
			buf_adds(b, "<br>");
			buf_add_html(b, g->topic);
		}
		buf_printf(b, "</th><td><time datetime=\"%s\">%s</time>%s</td>", occ, shown,
			   g->has_occ ? "" : " <em>(sent by hand)</em>");
		int64_t out = g->asked - g->acked;
		ack_cell(b, g, key, "asked", g->asked, false);
		ack_cell(b, g, key, "acknowledged", g->acked, false);
		ack_cell(b, g, key, "outstanding", out, false);
		ack_cell(b, g, key, "ack-rate", 0, true);
		buf_adds(b, "<td>");
		if (out) {
			buf_printf(b, "<details%s><summary>%" PRId64 " %s</summary><ul class=\"names\" "
				      "data-comm=\"", out <= NAMES_OPEN ? " open" : "", out,
				   out == 1 ? "person" : "people");
			buf_add_html(b, g->comm);
			buf_printf(b, "\" data-occ=\"%s\">", key);
			buf_add(b, g->names.data, g->names.len);
			buf_adds(b, "</ul></details>");
		} else {
			buf_adds(b, "everyone acknowledged");
		}
		buf_adds(b, "</td></tr>");
	}
	buf_adds(b, "</tbody></table></div></section>");
}

/* Marker of a bucket's worst outcome: shape and colour both carry it. */
static void marker(struct buf *b, double x, double y, enum outcome o)
{
	switch (o) {
	case O_FAILED:
		buf_printf(b, "<path d=\"M%.1f %.1fl8 8m0-8l-8 8\" stroke=\"#b00020\" stroke-width=\"3\"/>",
			   x - 4, y - 4);
		break;
	case O_MISSED:
		buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"9\" height=\"9\" fill=\"#fff\" "
			      "stroke=\"#3d3d3d\" stroke-width=\"2.5\"/>", x - 4.5, y - 4.5);
		break;
	case O_LATE:
		buf_printf(b, "<path d=\"M%.1f %.1fl5.5 9.5h-11z\" fill=\"#8a5300\"/>", x, y - 5.5);
		break;
	case O_PENDING:
	case O_DRYRUN:
		buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#fff\" stroke=\"#1f4e99\" "
			      "stroke-width=\"2.5\"/>", x, y);
		break;
	default:
		buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"#1b6e35\"/>", x, y);
		break;
	}
}

static int lane_cmp(const void *x, const void *y)
{
	return strcmp(((const struct lane *)x)->comm, ((const struct lane *)y)->comm);
}

static void section_timeline(struct buf *b, struct agg *a)
{
	if (a->nlanes > 1)
		qsort(a->lanes, a->nlanes, sizeof *a->lanes, lane_cmp);
	const double left = 150, right = 20, width = 900, lh = 28, top = 30;
	double h = top + lh * (double)(a->nlanes ? a->nlanes : 1) + 30;
	double plot = width - left - right;
	char f[16], t[16];
	day(a->from, f);
	day(a->to - 1, t);
	buf_printf(b, "<section aria-labelledby=\"h-timeline\"><h2 id=\"h-timeline\">Timeline</h2>"
		      "<figure><div class=\"wrap chart\"><svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-labelledby=\"tl-title tl-desc\" "
		      "xmlns=\"http://www.w3.org/2000/svg\" font-family=\"system-ui,sans-serif\" font-size=\"12\">"
		      "<title id=\"tl-title\">Deliveries over time, %s to %s</title>"
		      "<desc id=\"tl-desc\">One lane per communication; the period is cut into %d "
		      "equal parts and each part shows its worst outcome: failed (cross), missed "
		      "(open square), late (triangle), pending or dry-run (open circle), on time "
		      "(filled circle). The table above has the exact counts.</desc>",
		   width, h, f, t, NBUCKETS);
	/* Axis: ticks at 0, 1/4, … of the period. */
	for (int k = 0; k <= 4; k++) {
		double x = left + plot * k / 4;
		char d[16];
		day(a->from + (a->to - a->from) * k / 4 - (k == 4), d);
		buf_printf(b, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#b8b8b8\"/>"
			      "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"%s\" fill=\"#1a1a1a\">%s</text>",
			   x, top - 10, x, h - 25, x, h - 8,
			   k == 0 ? "start" : k == 4 ? "end" : "middle", d);
	}
	for (size_t i = 0; i < a->nlanes; i++) {
		const struct lane *l = &a->lanes[i];
		double y = top + lh * (double)i + lh / 2;
		buf_printf(b, "<g><text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#1a1a1a\">",
			   left - 10, y + 4);
		char clip[24];
		snprintf(clip, sizeof clip, "%.20s", l->comm);
		buf_add_html(b, clip);
		buf_printf(b, "</text><line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#dddddd\"/>",
			   left, y, left + plot, y);
		for (int k = 0; k < NBUCKETS; k++) {
			const int64_t *c = l->b[k];
			int64_t total = 0;
			for (int o = 0; o < O_N; o++)
				total += c[o];
			if (!total)
				continue;
			enum outcome worst = c[O_FAILED] ? O_FAILED : c[O_MISSED] ? O_MISSED :
					     c[O_LATE] ? O_LATE : c[O_PENDING] ? O_PENDING :
					     c[O_DRYRUN] ? O_DRYRUN : O_ONTIME;
			double x = left + plot * (k + 0.5) / NBUCKETS;
			buf_adds(b, "<g><title>");
			buf_add_html(b, l->comm);
			buf_printf(b, ": %" PRId64 " on time, %" PRId64 " late, %" PRId64 " failed, %"
				      PRId64 " missed, %" PRId64 " pending, %" PRId64 " dry-run</title>",
				   c[O_ONTIME], c[O_LATE], c[O_FAILED], c[O_MISSED], c[O_PENDING],
				   c[O_DRYRUN]);
			marker(b, x, y, worst);
			buf_adds(b, "</g>");
		}
		buf_adds(b, "</g>");
	}
	buf_adds(b, "</svg></div><figcaption><ul class=\"legend\">");
	static const char *const names[] = { "on time", "late", "failed", "missed",
					     "pending or dry-run" };
	static const enum outcome os[] = { O_ONTIME, O_LATE, O_FAILED, O_MISSED, O_PENDING };
	for (int i = 0; i < 5; i++) {
		buf_adds(b, "<li><svg width=\"14\" height=\"14\" viewBox=\"-7 -7 14 14\" "
			    "aria-hidden=\"true\" style=\"display:inline;width:14px\">");
		marker(b, 0, 0, os[i]);
		buf_printf(b, "</svg> %s</li>", names[i]);
	}
	buf_adds(b, "</ul></figcaption></figure></section>");
}

struct warn_ctx {
	struct buf *b;
	size_t n;
};

static void on_warning(const struct lint_warning *w, void *ctx)
{
	struct warn_ctx *x = ctx;
	struct buf *b = x->b;
	buf_adds(b, "<tr><td><code>");
	buf_add_html(b, w->code);
	buf_adds(b, "</code></td><td><code>");
	buf_add_html(b, w->path);
	buf_adds(b, "</code></td><td>");
	buf_add_html(b, w->message);
	buf_adds(b, "</td><td>");
	buf_add_html(b, w->advice);
	buf_adds(b, "</td></tr>");
	x->n++;
}

static void section_warnings(struct buf *b, const struct plan *p, int64_t now)
{
	buf_adds(b, "<section aria-labelledby=\"h-warn\"><h2 id=\"h-warn\">Check warnings in force</h2>");
	if (!p) {
		buf_adds(b, "<p id=\"warnings\" data-count=\"unknown\">Not evaluated: give the plan "
			    "(<code>herald report --plan PLAN</code>) to list the warnings of "
			    "<code>herald check</code>.</p></section>");
		return;
	}
	struct buf rows;
	buf_init(&rows);
	struct warn_ctx x = { &rows, 0 };
	lint_plan(p, now, on_warning, &x);
	if (!x.n) {
		buf_adds(b, "<p id=\"warnings\" data-count=\"0\">None: the plan passes every check.</p>");
	} else {
		buf_printf(b, "<div class=\"wrap\"><table id=\"warnings\" data-count=\"%zu\"><caption>"
			      "%zu warning%s of <code>herald check</code></caption><thead><tr>"
			      "<th scope=\"col\">Code</th><th scope=\"col\">Where</th>"
			      "<th scope=\"col\">Finding</th><th scope=\"col\">Advice</th></tr></thead><tbody>",
			   x.n, x.n, x.n == 1 ? "" : "s");
		buf_add(b, rows.data, rows.len);
		buf_adds(b, "</tbody></table></div>");
	}
	buf_free(&rows);
	buf_adds(b, "</section>");
}

/* ------------------------------------------------ drills and real sends */

/* One request of a manual send: its deliveries share the time they were
 * made and who asked. */
struct send_run {
	int64_t at;               /* 0 = never */
	char *by;
	int64_t n, sent, failed, dry;
};

/* Every request of one kind of one communication, in no order. */
struct send_runs {
	struct send_run *v;
	size_t n;
};

struct drill_row {
	char *comm, *topic;
	struct send_runs drill, real;
};

struct drills {
	struct drill_row *rows;
	size_t n;
};

static struct drill_row *drill_row(struct drills *x, const char *comm, const char *topic)
{
	for (size_t i = 0; i < x->n; i++)
		if (same(x->rows[i].comm, comm))
			return &x->rows[i];
	x->rows = xreallocarray(x->rows, x->n + 1, sizeof *x->rows);
	struct drill_row *r = &x->rows[x->n++];
	memset(r, 0, sizeof *r);
	r->comm = xstrdup(comm ? comm : "");
	r->topic = topic ? xstrdup(topic) : NULL;
	return r;
}

static struct send_run *run_get(struct send_runs *l, int64_t at, const char *by)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].at == at && same(l->v[i].by, by))
			return &l->v[i];
	l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
	l->v[l->n] = (struct send_run){ .at = at, .by = dup_or_null(by) };
	return &l->v[l->n++];
}

static int on_manual(const struct store_delivery_view *d, void *ctx)
{
	struct drill_row *r = drill_row(ctx, d->communication, d->topic);
	struct send_run *run = run_get(strcmp(d->kind, "drill") == 0 ? &r->drill : &r->real,
				       d->created_at, d->requested_by);
	run->n++;
	run->sent += strcmp(d->state, "sent") == 0;
	run->dry += strcmp(d->state, "dry-run") == 0;
	run->failed += strcmp(d->state, "failed") == 0 || strcmp(d->state, "missed") == 0;
	return 0;
}

/*
 * The latest request that was not a dry run (NULL: none).  A send whose
 * deliveries were all recorded dry-run reached no one, not even the drill
 * recipients: it proves neither that people were told nor that the way to
 * them works, so it is neither a real send nor a drill, and an auditor
 * reading "last drill" must not take a rehearsal of the tool for one of
 * the notice.  It is left out (the evidence export keeps it); the
 * section says so.  A request partly dry-run (a send interrupted and
 * finished by a --dry-run service) did reach some: it stays, with its
 * dry-run count.
 */
static const struct send_run *last_run(const struct send_runs *l)
{
	const struct send_run *best = NULL;
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].dry < l->v[i].n && (!best || l->v[i].at > best->at))
			best = &l->v[i];
	return best;
}

static void runs_free(struct send_runs *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].by);
	free(l->v);
}

static void run_cell(struct buf *b, const char *comm, const char *which,
		     const struct send_run *run)
{
	buf_adds(b, "<td data-comm=\"");
	buf_add_html(b, comm);
	buf_printf(b, "\" data-run=\"%s\"", which);
	if (!run) {
		/* never drilled is a finding; never sent for real is good news */
		buf_adds(b, strcmp(which, "last-drill") == 0
				    ? " data-at=\"\"><span class=\"bad\">never</span></td>"
				    : " data-at=\"\">never</td>");
		return;
	}
	char at[32];
	format_rfc3339_utc(run->at, at, sizeof at);
	buf_printf(b, " data-at=\"%s\" data-sent=\"%" PRId64 "\" data-failed=\"%" PRId64 "\">"
		      "<time datetime=\"%s\">%s</time> by ", at, run->sent, run->failed, at, at);
	buf_add_html(b, run->by ? run->by : "?");
	buf_printf(b, ": %" PRId64 " of %" PRId64 " sent", run->sent, run->n);
	if (run->dry)
		buf_printf(b, ", %" PRId64 " recorded (dry-run)", run->dry);
	if (run->failed)
		buf_printf(b, ", <span class=\"bad\">%" PRId64 " failed</span>", run->failed);
	buf_adds(b, "</td>");
}

/* Per manual communication, the last drill and the last real send, over
 * the whole log: a notice nobody has rehearsed is an audit finding. */
static void section_drills(struct buf *b, struct store *s, const struct plan *p)
{
	struct drills x = { 0 };
	for (size_t i = 0; p && i < p->ncomms; i++)
		if (p->comms[i].sched.kind == SCHED_MANUAL)
			drill_row(&x, p->comms[i].id, p->comms[i].topic);
	static const char *const kinds[] = { "drill", "manual" };
	for (int k = 0; k < 2; k++) {
		struct store_filter f = { .kind = kinds[k] };
		struct herald_err err;
		herald_err_clear(&err);
		store_each_delivery(s, &f, on_manual, &x, NULL, &err);
	}
	buf_adds(b, "<section aria-labelledby=\"h-drills\"><h2 id=\"h-drills\">Drills and manual sends</h2>"
		    "<p>For each manual communication (incident and breach notices): the latest "
		    "drill (<code>herald send --drill</code>, to the drill recipients only) and the "
		    "latest real send, over the whole log, with who asked. A dry run "
		    "(<code>--dry-run</code>: recorded, sent to no one) is neither.</p>");
	if (!x.n) {
		buf_adds(b, "<p id=\"drills\" data-count=\"0\">No manual communication is planned or "
			    "recorded.</p></section>");
		return;
	}
	buf_printf(b, "<div class=\"wrap\"><table id=\"drills\" data-count=\"%zu\"><thead><tr>"
		      "<th scope=\"col\">Communication</th><th scope=\"col\">Last drill (UTC)</th>"
		      "<th scope=\"col\">Last real send (UTC)</th></tr></thead><tbody>", x.n);
	for (size_t i = 0; i < x.n; i++) {
		struct drill_row *r = &x.rows[i];
		buf_adds(b, "<tr><th scope=\"row\"><code>");
		buf_add_html(b, r->comm);
		buf_adds(b, "</code>");
		if (r->topic) {
			buf_adds(b, " ");
			buf_add_html(b, r->topic);
		}
		buf_adds(b, "</th>");
		run_cell(b, r->comm, "last-drill", last_run(&r->drill));
		run_cell(b, r->comm, "last-send", last_run(&r->real));
		buf_adds(b, "</tr>");
		free(r->comm);
		free(r->topic);
		runs_free(&r->drill);
		runs_free(&r->real);
	}
	free(x.rows);
	buf_adds(b, "</tbody></table></div></section>");
}

static void section_integrity(struct buf *b, bool ok, const char *msg, int64_t rows,
			      const struct evidence_head *vh,
			      const struct evidence_head *head)
{
	buf_adds(b, "<section aria-labelledby=\"h-chain\"><h2 id=\"h-chain\">Integrity of the evidence</h2>");
	if (ok)
		buf_printf(b, "<p id=\"verify\" data-ok=\"true\"><span class=\"badge good\">Verified</span> "
			      "The hash chain of all %" PRId64 " evidence rows recomputes: no row was "
			      "edited, deleted, inserted or reordered up to seq %" PRId64 ".</p>",
			   rows, vh->seq);
	else {
		buf_adds(b, "<p id=\"verify\" data-ok=\"false\"><span class=\"badge bad\">Verification FAILED</span> ");
		buf_add_html(b, msg);
		buf_adds(b, ". The figures below cannot be relied on.</p>");
	}
	buf_printf(b, "<dl class=\"meta\"><dt>Chain head seq</dt><dd><code id=\"chain-head-seq\">%" PRId64
		      "</code></dd><dt>Chain head SHA-256</dt><dd><code id=\"chain-head-sha256\">%s</code></dd>"
		      "</dl><p>To check this independently: <code>herald evidence verify</code> and "
		      "compare the head; a signed checkpoint (<code>herald evidence checkpoint</code>) kept "
		      "off the machine proves the log only grew since.</p></section>",
		   head->seq, head->hex);
}

enum herald_rc report_render(struct store *s, const struct report_opts *o,
			     struct buf *out, bool *verified,
			     struct herald_err *err)
{
	struct herald_err verr;
	herald_err_clear(&verr);
	struct evidence_head vh = { 0 }, head = { 0 };
	int64_t rows = 0;
	enum herald_rc vrc = evidence_verify(s, &vh, &rows, &verr);
	if (vrc == H_ERUNTIME) {
		*err = verr;
		return vrc;
	}
	if (verified)
		*verified = vrc == H_OK;

	struct agg a = { 0 };
	a.last_row = a.last_lane = (size_t)-1;
	struct store_filter f = { .has_from = o->has_from, .has_to = o->has_to,
				  .from = o->from, .to = o->to };
	struct store_head sh;
	enum herald_rc rc = store_each_delivery(s, &f, on_delivery, &a, &sh, err);
	head.seq = sh.seq;
	memcpy(head.hash, sh.hash, 32);
	hex_encode(head.hash, 32, head.hex);
	if (rc) {
		agg_free(&a);
		return rc;
	}
	/* The period: as asked, else the span of the deliveries (whole days). */
	a.from = o->has_from ? o->from : a.min_due ? a.min_due - a.min_due % 86400
						   : o->now - 90 * 86400;
	a.to = o->has_to ? o->to : a.max_due ? a.max_due - a.max_due % 86400 + 86400 : o->now;
	if (a.to <= a.from)
		a.to = a.from + 86400;
	if (o->plan)
		add_planned(&a, o->plan);
	/* People asked: by when their first message fell due, in the period
	 * and not after now (a message made ahead of time asks no one yet). */
	struct store_ack_filter af = { .has_from = true, .from = a.from, .has_to = true,
				       .to = a.to, .has_due_by = true, .due_by = o->now };
	if ((rc = store_each_ack_link(s, &af, on_link, &a, NULL, err))) {
		agg_free(&a);
		return rc;
	}
	a.buckets = true;
	if ((rc = store_each_delivery(s, &f, on_delivery, &a, NULL, err))) {
		agg_free(&a);
		return rc;
	}

	struct plan_meta m = { 0 };
	if (o->plan)
		meta_from_plan(o->plan, &m);
	else
		meta_from_log(s, &m);
	struct plan *stored;
	meta_approval(s, o->plan, &m, &stored);
	char fd[16], t[16], gen[32];
	day(a.from, fd);
	day(a.to - 1, t);
	format_rfc3339_utc(o->now, gen, sizeof gen);

	buf_adds(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
		      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		      "style-src 'unsafe-inline'; img-src data:\">"
		      "<title>ISMS communication report: ");
	buf_add_html(out, m.id ? m.id : "no plan recorded");
	buf_printf(out, " (%s to %s)</title><style>%s</style></head><body>", fd, t, css);
	buf_adds(out, "<header><p>ISO/IEC 27001 Clause 7.4 communication evidence</p><h1>");
	buf_add_html(out, m.title ? m.title : m.id ? m.id : "No plan recorded");
	buf_printf(out, "</h1><p>Period <time id=\"period-from\" datetime=\"%s\">%s</time> to "
			"<time id=\"period-to\" datetime=\"%s\">%s</time> (due dates, UTC, inclusive). "
			"Generated %s by herald %s.</p></header><main>",
		   fd, fd, t, t, gen, HERALD_VERSION);
	section_integrity(out, vrc == H_OK, verr.msg, rows, &vh, &head);
	section_plan(out, &m, o->now, o->plan != NULL);
	section_counts(out, &a, o->plan != NULL);
	section_acks(out, &a);
	section_timeline(out, &a);
	section_warnings(out, o->plan, o->now);
	section_drills(out, s, o->plan);
	section_versions(out, s);
	section_plandoc(out, o->plan ? o->plan : stored, o->now);
	plan_free(stored);
	buf_printf(out, "</main><footer><p>Figures read at chain head seq %" PRId64
			" (<code>%s</code>).</p></footer></body></html>\n", head.seq, head.hex);
	meta_free(&m);
	agg_free(&a);
	return H_OK;
}
