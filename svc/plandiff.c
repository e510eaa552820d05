/*
 * plandiff.c - the changes between two versions of a plan (see
 * plandiff.h).
 *
 * Both trees are walked in the order of the newer one (b), then what only
 * the older one has.  Communications are matched by id, audiences and
 * channels by their keys.  A field's change is one line when it is short
 * ("version: was "2.1", now "2.2"") and three when it is not, so a
 * schedule in words stays readable.
 */
#include "herald/plandiff.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "herald/plan.h"
#include "herald/plandoc.h"

#define ONE_LINE 76

struct diff {
	const struct plandiff_side *a, *b;
	struct buf *out;
	struct buf sect;          /* the lines of the section being written */
	size_t changes;
};

/* ------------------------------------------------------------- labels */

struct label {
	const char *key, *words;
};

static const struct label plan_labels[] = {
	{ "id", "plan id" }, { "approved_by", "approved by" },
	{ "approved_on", "approved on" }, { "next_review", "next review" },
	{ "timezone", "time zone" }, { "strict_approval", "strict approval" },
	{ NULL, NULL },
};
static const struct label comm_labels[] = {
	{ "topic", "what" }, { "audiences", "with whom" }, { "channels", "how (channels)" },
	{ "owner", "who" }, { "schedule", "when" }, { "notify", "messages" },
	{ "acknowledge", "acknowledgement" }, { "all_day", "all day" },
	{ NULL, NULL },
};
static const struct label audience_labels[] = {
	{ "feed", "calendar feed" }, { "feed_name", "feed name" }, { "deliver", "delivery" },
	{ NULL, NULL },
};
static const struct label channel_labels[] = {
	{ "smtp", "SMTP server" }, { "from", "sender" }, { "starttls", "STARTTLS" },
	{ "secret", "signing secret" }, { NULL, NULL },
};

/* The words for key: the table's, else the key with '_' as spaces. */
static void add_label(struct buf *b, const struct label *t, const char *key)
{
	for (; t && t->key; t++)
		if (strcmp(t->key, key) == 0) {
			buf_adds(b, t->words);
			return;
		}
	for (const char *p = key; *p; p++)
		buf_addc(b, *p == '_' ? ' ' : *p);
}

/* -------------------------------------------------------------- values */

static bool string_list(json_t *v)
{
	if (!json_is_array(v))
		return false;
	size_t i;
	json_t *x;
	json_array_foreach(v, i, x)
		if (!json_is_string(x))
			return false;
	return true;
}

static void add_compact(struct buf *b, json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!s)
		abort();
	buf_adds(b, s);
	free(s);
}

static void add_value(struct buf *b, json_t *v)
{
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		if (strcmp(s, "[redacted]") == 0)
			buf_adds(b, "a secret written in the plan (redacted)");
		else
			buf_printf(b, "\"%s\"", s);
	} else if (json_is_true(v)) {
		buf_adds(b, "yes");
	} else if (json_is_false(v)) {
		buf_adds(b, "no");
	} else if (json_is_null(v)) {
		buf_adds(b, "none");
	} else if (string_list(v)) {
		if (!json_array_size(v))
			buf_adds(b, "none");
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x)
			buf_printf(b, "%s%s", i ? ", " : "", json_string_value(x));
	} else {
		add_compact(b, v);
	}
}

/* --------------------------------------------------------------- lines */

static void indent(struct buf *b, int n)
{
	for (int i = 0; i < n; i++)
		buf_adds(b, "  ");
}

/* "label: was W, now N", or three lines when that is long; was or now
 * NULL: the field is new, or gone. */
static void change_line(struct diff *d, int ind, const char *label, const char *was,
			const char *now)
{
	struct buf *b = &d->sect;
	d->changes++;
	indent(b, ind);
	if (!was) {
		buf_printf(b, "%s: added: %s\n", label, now);
		return;
	}
	if (!now) {
		buf_printf(b, "%s: removed (was %s)\n", label, was);
		return;
	}
	if (2 * ind + strlen(label) + strlen(was) + strlen(now) + 12 <= ONE_LINE) {
		buf_printf(b, "%s: was %s, now %s\n", label, was, now);
		return;
	}
	buf_printf(b, "%s\n", label);
	indent(b, ind + 1);
	buf_printf(b, "was: %s\n", was);
	indent(b, ind + 1);
	buf_printf(b, "now: %s\n", now);
}

static void change_values(struct diff *d, int ind, const char *label,
			  json_t *va, json_t *vb)
{
	struct buf wa, wb;
	buf_init(&wa);
	buf_init(&wb);
	if (va)
		add_value(&wa, va);
	if (vb)
		add_value(&wb, vb);
	change_line(d, ind, label, va ? wa.data : NULL, vb ? wb.data : NULL);
	buf_free(&wa);
	buf_free(&wb);
}

static bool in_list(json_t *list, const char *s)
{
	size_t i;
	json_t *x;
	json_array_foreach(list, i, x)
		if (strcmp(json_string_value(x), s) == 0)
			return true;
	return false;
}

/* Appends the items of a that b lacks, joined; returns how many. */
static size_t missing(struct buf *out, json_t *a, json_t *b)
{
	size_t n = 0, i;
	json_t *x;
	json_array_foreach(a, i, x)
		if (!in_list(b, json_string_value(x)))
			buf_printf(out, "%s%s", n++ ? ", " : "", json_string_value(x));
	return n;
}

/* A list of ids or addresses: what was added and removed. */
static void change_list(struct diff *d, int ind, const char *label,
			json_t *va, json_t *vb)
{
	struct buf add, rem;
	buf_init(&add);
	buf_init(&rem);
	size_t na = missing(&add, vb, va), nr = missing(&rem, va, vb);
	if (!na && !nr) {
		struct buf l;
		buf_init(&l);
		buf_printf(&l, "%s (order)", label);
		change_values(d, ind, l.data, va, vb);
		buf_free(&l);
	} else {
		d->changes++;
		indent(&d->sect, ind);
		buf_printf(&d->sect, "%s: ", label);
		if (na)
			buf_printf(&d->sect, "added %s", add.data);
		if (nr)
			buf_printf(&d->sect, "%sremoved %s", na ? "; " : "", rem.data);
		buf_addc(&d->sect, '\n');
	}
	buf_free(&add);
	buf_free(&rem);
}

/* -------------------------------------------------------------- fields */

enum what { W_PLAN, W_COMM, W_AUDIENCE, W_CHANNEL, W_OTHER };

static const struct label *labels_of(enum what w)
{
	switch (w) {
	case W_PLAN: return plan_labels;
	case W_COMM: return comm_labels;
	case W_AUDIENCE: return audience_labels;
	case W_CHANNEL: return channel_labels;
	default: return NULL;
	}
}

static void fields(struct diff *d, int ind, const char *prefix, enum what w,
		   json_t *oa, json_t *ob, const char *comm);

/* A schedule or notify list in the words of the plan document, when both
 * plans are there and the words differ; false: compare as written. */
static bool change_in_words(struct diff *d, int ind, const char *label,
			    const char *key, const char *comm)
{
	const struct plan *pa = d->a->plan, *pb = d->b->plan;
	long ia = pa && comm ? plan_comm_index(pa, comm) : -1;
	long ib = pb && comm ? plan_comm_index(pb, comm) : -1;
	if (ia < 0 || ib < 0)
		return false;
	struct buf wa, wb;
	buf_init(&wa);
	buf_init(&wb);
	bool when = strcmp(key, "schedule") == 0;
	(when ? plandoc_when : plandoc_notify)(pa, (size_t)ia, &wa);
	(when ? plandoc_when : plandoc_notify)(pb, (size_t)ib, &wb);
	bool differ = strcmp(wa.data ? wa.data : "", wb.data ? wb.data : "") != 0;
	if (differ)
		change_line(d, ind, label, wa.data, wb.data);
	buf_free(&wa);
	buf_free(&wb);
	return differ;
}

static void field(struct diff *d, int ind, const char *prefix, enum what w,
		  const char *key, json_t *va, json_t *vb, const char *comm)
{
	struct buf label;
	buf_init(&label);
	buf_adds(&label, prefix);
	add_label(&label, prefix[0] ? NULL : labels_of(w), key);
	bool words = w == W_COMM && !prefix[0] && va && vb &&
		     (strcmp(key, "schedule") == 0 || strcmp(key, "notify") == 0);
	if (words && change_in_words(d, ind, label.data, key, comm)) {
		/* said in words */
	} else if (json_is_object(va) && json_is_object(vb)) {
		buf_adds(&label, " ");
		fields(d, ind, label.data, w, va, vb, comm);
	} else if (string_list(va) && string_list(vb)) {
		change_list(d, ind, label.data, va, vb);
	} else {
		change_values(d, ind, label.data, va, vb);
	}
	buf_free(&label);
}

/* Every key of ob (in its order), then those only oa has. */
static void fields(struct diff *d, int ind, const char *prefix, enum what w,
		   json_t *oa, json_t *ob, const char *comm)
{
	const char *key;
	json_t *vb, *va;
	json_object_foreach(ob, key, vb) {
		va = json_object_get(oa, key);
		if (!va || !json_equal(va, vb))
			field(d, ind, prefix, w, key, va, vb, comm);
	}
	json_object_foreach(oa, key, va)
		if (!json_object_get(ob, key))
			field(d, ind, prefix, w, key, va, NULL, comm);
}

/* ------------------------------------------------------------ elements */

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* "AWR-Q (Quarterly security awareness)" */
static void add_name(struct buf *b, enum what w, const char *id, json_t *e)
{
	buf_adds(b, id);
	const char *name = w == W_COMM ? str(e, "topic") : w == W_AUDIENCE ? str(e, "name")
					: w == W_CHANNEL ? str(e, "type") : NULL;
	if (name)
		buf_printf(b, " (%s)", name);
}

/* An element only one side has: what it is, in a few fields. */
static void whole(struct diff *d, enum what w, const char *id, json_t *e,
		  bool added)
{
	static const char *const comm_keys[] = { "schedule", "notify", "audiences", "channels",
						 "owner", "acknowledge", NULL };
	static const char *const aud_keys[] = { "scope", "feed", "deliver", NULL };
	struct buf *b = &d->sect;
	d->changes++;
	buf_adds(b, added ? "  added " : "  removed ");
	add_name(b, w, id, e);
	buf_addc(b, '\n');
	if (!added)
		return;
	const char *const *keys = w == W_COMM ? comm_keys : w == W_AUDIENCE ? aud_keys : NULL;
	for (; keys && *keys; keys++) {
		json_t *v = json_object_get(e, *keys);
		if (!v)
			continue;
		buf_adds(b, "    ");
		add_label(b, labels_of(w), *keys);
		buf_adds(b, ": ");
		const struct plan *p = d->b->plan;
		long i = w == W_COMM && p ? plan_comm_index(p, id) : -1;
		if (i >= 0 && strcmp(*keys, "schedule") == 0)
			plandoc_when(p, (size_t)i, b);
		else if (i >= 0 && strcmp(*keys, "notify") == 0)
			plandoc_notify(p, (size_t)i, b);
		else
			add_value(b, v);
		buf_addc(b, '\n');
	}
}

static void changed(struct diff *d, enum what w, const char *id, json_t *ea,
		    json_t *eb)
{
	struct buf *b = &d->sect;
	buf_adds(b, "  changed ");
	add_name(b, w, id, eb);
	buf_addc(b, '\n');
	if (json_is_object(ea) && json_is_object(eb))
		fields(d, 2, "", w, ea, eb, w == W_COMM ? id : NULL);
	else
		change_values(d, 2, "value", ea, eb);
}

static void section_end(struct diff *d, const char *title)
{
	if (d->sect.len)
		buf_printf(d->out, "\n%s\n%s", title, d->sect.data);
	buf_reset(&d->sect);
}

/* Audiences, channels: objects keyed by id. */
static void keyed(struct diff *d, enum what w, json_t *a, json_t *b)
{
	const char *id;
	json_t *eb, *ea;
	json_object_foreach(b, id, eb) {
		ea = json_object_get(a, id);
		if (!ea)
			whole(d, w, id, eb, true);
		else if (!json_equal(ea, eb))
			changed(d, w, id, ea, eb);
	}
	json_object_foreach(a, id, ea)
		if (!json_object_get(b, id))
			whole(d, w, id, ea, false);
}

static json_t *comm_by_id(json_t *list, const char *id)
{
	size_t i;
	json_t *c;
	json_array_foreach(list, i, c)
		if (id && str(c, "id") && strcmp(str(c, "id"), id) == 0)
			return c;
	return NULL;
}

static void communications(struct diff *d, json_t *a, json_t *b)
{
	size_t i;
	json_t *cb, *ca;
	json_array_foreach(b, i, cb) {
		const char *id = str(cb, "id");
		json_t *m = comm_by_id(a, id);
		if (!id)
			continue;
		if (!m)
			whole(d, W_COMM, id, cb, true);
		else if (!json_equal(m, cb))
			changed(d, W_COMM, id, m, cb);
	}
	json_array_foreach(a, i, ca)
		if (str(ca, "id") && !comm_by_id(b, str(ca, "id")))
			whole(d, W_COMM, str(ca, "id"), ca, false);
}

static json_t *tree(const char *text, struct herald_err *err)
{
	json_error_t je;
	json_t *t = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	if (!json_is_object(t)) {
		json_decref(t);
		herald_err_set(err, H_EINVAL, "not a plan's canonical JSON");
		return NULL;
	}
	return t;
}

static json_t *part(json_t *t, const char *key, bool array)
{
	json_t *v = json_object_get(t, key);
	return (array ? json_is_array(v) : json_is_object(v)) ? v : NULL;
}

enum herald_rc plandiff_render(const struct plandiff_side *a,
			       const struct plandiff_side *b, struct buf *out,
			       size_t *changes, struct herald_err *err)
{
	json_t *ta = tree(a->canonical, err), *tb = ta ? tree(b->canonical, err) : NULL;
	if (!tb) {
		json_decref(ta);
		return H_EINVAL;
	}
	struct diff d = { .a = a, .b = b, .out = out };
	buf_init(&d.sect);
	buf_printf(out, "Changes from %s\n          to %s\n", a->label, b->label);
	json_t *empty_o = json_object(), *empty_a = json_array();
#define PART(t, k, arr) (part((t), (k), (arr)) ? part((t), (k), (arr)) : (arr) ? empty_a : empty_o)
	json_t *pa = PART(ta, "plan", false), *pb = PART(tb, "plan", false);
	fields(&d, 1, "", W_PLAN, pa, pb, NULL);
	section_end(&d, "Document control");
	communications(&d, PART(ta, "communications", true), PART(tb, "communications", true));
	section_end(&d, "Communications");
	keyed(&d, W_AUDIENCE, PART(ta, "audiences", false), PART(tb, "audiences", false));
	section_end(&d, "Audiences");
	keyed(&d, W_CHANNEL, PART(ta, "channels", false), PART(tb, "channels", false));
	section_end(&d, "Channels");
#undef PART
	/* Anything else at the top (x- keys): as written. */
	json_t *ra = json_deep_copy(ta), *rb = json_deep_copy(tb);
	static const char *const known[] = { "plan", "communications", "audiences", "channels" };
	for (size_t i = 0; i < 4; i++) {
		json_object_del(ra, known[i]);
		json_object_del(rb, known[i]);
	}
	fields(&d, 1, "", W_OTHER, ra, rb, NULL);
	section_end(&d, "Other");
	json_decref(ra);
	json_decref(rb);
	json_decref(empty_o);
	json_decref(empty_a);
	if (d.changes)
		buf_printf(out, "\n%zu change%s.\n", d.changes, d.changes == 1 ? "" : "s");
	else
		buf_adds(out, "\nNo change in content.\n");
	buf_free(&d.sect);
	json_decref(ta);
	json_decref(tb);
	*changes = d.changes;
	return H_OK;
}
