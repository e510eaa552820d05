/*
 * members.c - member lists, member CSV files and address checks (see
 * members.h).  Addresses are compared case-insensitively through one
 * open-addressing index (FNV-1a of the lower-cased address), so building,
 * de-duplicating and diffing lists of 100,000 people stay linear.
 */
#include "herald/members.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "herald/util.h"

#define MEMBERS_MAX_BYTES (32u << 20)

static bool atext(int c)
{
	return isalnum(c) || strchr("!#$%&'*+-/=?^_`{|}~", c) || c >= 0x80;
}

bool members_valid_addr(const char *s)
{
	size_t len = strlen(s);
	const char *at = strrchr(s, '@');
	if (!at || at == s || len > 254 || (size_t)(at - s) > 64)
		return false;
	/* Local part: dot-atom, no leading, trailing or double dots. */
	for (const char *p = s; p < at; p++) {
		if (*p == '.') {
			if (p == s || p + 1 == at || p[1] == '.')
				return false;
		} else if (!atext((unsigned char)*p)) {
			return false;
		}
	}
	/* Domain: LDH labels, at least one dot. */
	const char *d = at + 1;
	if (!*d || !strchr(d, '.'))
		return false;
	size_t label = 0;
	for (const char *p = d; *p; p++) {
		if (*p == '.') {
			if (label == 0 || p[-1] == '-')
				return false;
			label = 0;
		} else if (isalnum((unsigned char)*p) || *p == '-') {
			if (label == 0 && *p == '-')
				return false;
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0;
}

bool members_mailbox_addr(const char *m, char *out, size_t n)
{
	for (const char *p = m; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	const char *lt = strchr(m, '<');
	if (!lt) {
		if (!members_valid_addr(m) || strlen(m) >= n)
			return false;
		snprintf(out, n, "%s", m);
		return true;
	}
	const char *gt = strchr(lt, '>');
	if (!gt || gt[1] != '\0' || (size_t)(gt - lt - 1) >= n)
		return false;
	snprintf(out, n, "%.*s", (int)(gt - lt - 1), lt + 1);
	return members_valid_addr(out);
}

bool members_valid_mailbox(const char *s)
{
	char addr[256];
	return members_mailbox_addr(s, addr, sizeof addr);
}

/* ------------------------------------------------------------ the index */

/* Slots hold member positions + 1 (0 is empty) of the list's array. */
struct member_index {
	uint32_t *slot;
	size_t cap;   /* a power of two, at least twice the members */
};

static uint64_t addr_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)tolower((unsigned char)*s)) * 1099511628211ULL;
	return h;
}

static void index_put(struct member_index *x, const struct member *m, size_t i)
{
	size_t k = addr_hash(m[i].email) & (x->cap - 1);
	while (x->slot[k])
		k = (k + 1) & (x->cap - 1);
	x->slot[k] = (uint32_t)(i + 1);
}

static void index_grow(struct member_index *x, const struct member *m, size_t n)
{
	free(x->slot);
	x->cap = x->cap ? x->cap * 2 : 64;
	while (x->cap < 2 * (n + 1))
		x->cap *= 2;
	x->slot = xcalloc(x->cap, sizeof *x->slot);
	for (size_t i = 0; i < n; i++)
		index_put(x, m, i);
}

/* The position of email among m (indexed), or -1. */
static long index_find(const struct member_index *x, const struct member *m,
		       const char *email)
{
	if (!x->cap)
		return -1;
	for (size_t k = addr_hash(email) & (x->cap - 1); x->slot[k];
	     k = (k + 1) & (x->cap - 1))
		if (strcasecmp(m[x->slot[k] - 1].email, email) == 0)
			return (long)x->slot[k] - 1;
	return -1;
}

static void index_build(struct member_index *x, const struct member_list *l)
{
	*x = (struct member_index){ 0 };
	if (l && l->n)
		index_grow(x, l->m, l->n);
}

/* ------------------------------------------------------------- the list */

struct member_list *member_list_new(void)
{
	struct member_list *l = xcalloc(1, sizeof *l);
	l->refs = 1;
	l->index = xcalloc(1, sizeof *l->index);
	return l;
}

struct member_list *member_list_ref(struct member_list *l)
{
	l->refs++;
	return l;
}

void member_list_finish(struct member_list *l)
{
	if (l->where) {
		for (size_t i = 0; i < l->n; i++)
			free(l->where[i]);
		free(l->where);
		l->where = NULL;
	}
	if (l->index) {
		free(l->index->slot);
		free(l->index);
		l->index = NULL;
	}
}

void member_list_unref(struct member_list *l)
{
	if (!l || --l->refs > 0)
		return;
	member_list_finish(l);
	for (size_t i = 0; i < l->n; i++) {
		free(l->m[i].name);
		free(l->m[i].email);
	}
	free(l->m);
	for (size_t i = 0; i < l->nnotes; i++)
		free(l->notes[i].message);
	free(l->notes);
	free(l);
}

static void note_v(struct member_list *l, const char *code, const char *fmt, va_list ap)
{
	if (l->nnotes > MEMBERS_MAX_NOTES)
		return;
	l->notes = xreallocarray(l->notes, l->nnotes + 1, sizeof *l->notes);
	struct member_note *n = &l->notes[l->nnotes++];
	n->code = code;
	if (l->nnotes > MEMBERS_MAX_NOTES) {
		n->message = xstrdup("more notes about this list are left out");
		return;
	}
	struct buf b;
	buf_init(&b);
	buf_vprintf(&b, fmt, ap);
	n->message = buf_take(&b);
}

void member_list_note(struct member_list *l, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	note_v(l, code, fmt, ap);
	va_end(ap);
}

bool member_list_add(struct member_list *l, const char *name, const char *email,
		     const char *where)
{
	long dup = index_find(l->index, l->m, email);
	if (dup >= 0) {
		l->duplicates++;
		member_list_note(l, "W-MEMBERS-DUPLICATE",
				 "%.80s (%.120s) and %.80s (%.120s) are the same address; "
				 "the first is kept", l->m[dup].email,
				 l->where ? l->where[dup] : "?", email, where);
		return false;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->m = xreallocarray(l->m, l->cap, sizeof *l->m);
		l->where = xreallocarray(l->where, l->cap, sizeof *l->where);
	}
	l->m[l->n] = (struct member){ xstrdup(name), xstrdup(email) };
	l->where[l->n] = xstrdup(where);
	l->n++;
	if (2 * l->n > l->index->cap)
		index_grow(l->index, l->m, l->n);
	else
		index_put(l->index, l->m, l->n - 1);
	return true;
}

bool member_list_same(const struct member_list *a, const struct member_list *b)
{
	size_t na = a ? a->n : 0, nb = b ? b->n : 0;
	if (na != nb)
		return false;
	if (na == 0)
		return true;
	struct member_index x;
	index_build(&x, a);
	bool same = true;
	for (size_t i = 0; i < nb && same; i++) {
		long k = index_find(&x, a->m, b->m[i].email);
		same = k >= 0 && strcmp(a->m[k].name, b->m[i].name) == 0 &&
		       strcmp(a->m[k].email, b->m[i].email) == 0;
	}
	free(x.slot);
	return same;
}

/* Calls fn for each member of from whose address is not in other. */
static void not_in(const struct member_list *from, const struct member_list *other,
		   bool joined, void (*fn)(bool, const struct member *, void *), void *ctx)
{
	if (!from)
		return;
	struct member_index x;
	index_build(&x, other);
	for (size_t i = 0; i < from->n; i++)
		if (!other || index_find(&x, other->m, from->m[i].email) < 0)
			fn(joined, &from->m[i], ctx);
	free(x.slot);
}

struct member_set {
	const struct member_list *l;
	struct member_index x;
};

struct member_set *member_set_new(const struct member_list *l)
{
	struct member_set *s = xcalloc(1, sizeof *s);
	s->l = l;
	index_build(&s->x, l);
	return s;
}

bool member_set_has(const struct member_set *s, const char *email)
{
	return s->l && index_find(&s->x, s->l->m, email) >= 0;
}

void member_set_free(struct member_set *s)
{
	if (s)
		free(s->x.slot);
	free(s);
}

void member_list_diff(const struct member_list *a, const struct member_list *b,
		      void (*fn)(bool joined, const struct member *m, void *ctx),
		      void *ctx)
{
	not_in(a, b, false, fn, ctx);
	not_in(b, a, true, fn, ctx);
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

void member_list_digest(const struct member_list *l, char out[65])
{
	size_t n = l ? l->n : 0;
	char **v = xcalloc(n ? n : 1, sizeof *v);
	for (size_t i = 0; i < n; i++) {
		v[i] = xstrdup(l->m[i].email);
		for (char *p = v[i]; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	qsort(v, n, sizeof *v, cmp_str);
	struct buf b;
	buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		buf_printf(&b, "%s\n", v[i]);
		free(v[i]);
	}
	free(v);
	unsigned char d[32];
	sha256(b.data ? b.data : "", b.len, d);
	hex_encode(d, 32, out);
	buf_free(&b);
}

/* ------------------------------------------------------------ CSV files */

/* One RFC 4180 field ending at delim, a line end or the end; false on a
 * stray quote. */
static bool csv_field(const char **pp, char delim, struct buf *f)
{
	const char *p = *pp;
	buf_reset(f);
	while (*p == ' ' || *p == '\t') {
		if (*p == delim)
			break;
		p++;
	}
	if (*p == '"') {
		p++;
		for (;;) {
			if (!*p)
				return false;
			if (*p == '"') {
				if (p[1] == '"') {
					buf_addc(f, '"');
					p += 2;
					continue;
				}
				p++;
				break;
			}
			buf_addc(f, *p++);
		}
		while ((*p == ' ' || *p == '\t') && *p != delim)
			p++;
		if (*p && *p != delim && *p != '\n' && *p != '\r')
			return false;
	} else {
		while (*p && *p != delim && *p != '\n' && *p != '\r') {
			if (*p == '"')
				return false;
			buf_addc(f, *p++);
		}
	}
	*pp = p;
	return true;
}

static char *trim(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return xstrndup(s, n);
}

struct record {
	char **f;
	size_t n, cap;
};

static void record_clear(struct record *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->f[i]);
	r->n = 0;
}

/* Reads one record into r; false on bad quoting.  *lines counts the line
 * ends consumed (quoted fields may hold some). */
static bool csv_record(const char **pp, char delim, struct record *r, struct buf *f,
		       size_t *lines)
{
	record_clear(r);
	for (;;) {
		const char *start = *pp;
		if (!csv_field(pp, delim, f))
			return false;
		for (const char *q = start; q < *pp; q++)
			*lines += *q == '\n';
		if (r->n == r->cap)
			r->f = xreallocarray(r->f, r->cap = r->cap ? r->cap * 2 : 8, sizeof *r->f);
		r->f[r->n++] = trim(f->data ? f->data : "");
		if (**pp != delim)
			break;
		(*pp)++;
	}
	if (**pp == '\r')
		(*pp)++;
	if (**pp == '\n') {
		(*pp)++;
		(*lines)++;
	}
	return true;
}

void members_csv_clear(struct members_csv *spec)
{
	free(spec->file);
	free(spec->name_col);
	free(spec->email_col);
	for (size_t i = 0; i < spec->nfilters; i++) {
		free(spec->filters[i].column);
		for (size_t k = 0; k < spec->filters[i].nvalues; k++)
			free(spec->filters[i].values[k]);
		free(spec->filters[i].values);
	}
	free(spec->filters);
	memset(spec, 0, sizeof *spec);
}

char *members_csv_path(const char *plan_path, const char *file)
{
	if (!file || !*file || file[0] == '/')
		return NULL;
	char *dir = xstrdup(plan_path);
	char *path = xasprintf("%s/%s", dirname(dir), file);
	free(dir);
	return path;
}

__attribute__((format(printf, 4, 5)))
static enum herald_rc csv_fail(struct members_csv_err *e, enum members_csv_at at,
			       enum herald_rc rc, const char *fmt, ...)
{
	e->at = at;
	e->rc = rc;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return rc;
}

/* The header's columns, for "unknown column" messages. */
static void header_list(const struct record *h, char *out, size_t n)
{
	struct buf b;
	buf_init(&b);
	for (size_t i = 0; i < h->n && b.len < 300; i++)
		buf_printf(&b, "%s\"%.60s\"", i ? ", " : "", h->f[i]);
	snprintf(out, n, "%s", b.data ? b.data : "none");
	buf_free(&b);
}

/* The position of column name in the header (case-insensitive), or -1;
 * -2 when it is there twice. */
static long column(const struct record *h, const char *name)
{
	long at = -1;
	for (size_t i = 0; i < h->n; i++)
		if (strcasecmp(h->f[i], name) == 0) {
			if (at >= 0)
				return -2;
			at = (long)i;
		}
	return at;
}

struct csv_cols {
	long name, email;
	long *filter;
};

static enum herald_rc map_columns(const struct members_csv *spec, const struct record *h,
				  struct csv_cols *c, struct members_csv_err *e)
{
	char cols[400];
	header_list(h, cols, sizeof cols);
	c->name = column(h, spec->name_col);
	c->email = column(h, spec->email_col);
	c->filter = xcalloc(spec->nfilters ? spec->nfilters : 1, sizeof *c->filter);
	struct { long at; enum members_csv_at key; const char *what, *name; } want[] = {
		{ c->name, CSV_AT_NAME, "name", spec->name_col },
		{ c->email, CSV_AT_EMAIL, "email", spec->email_col },
	};
	for (size_t i = 0; i < 2; i++) {
		if (want[i].at == -2)
			return csv_fail(e, want[i].key, H_EINVAL, "%.200s has two columns named \"%.60s\"",
					spec->file, want[i].name);
		if (want[i].at < 0)
			return csv_fail(e, want[i].key, H_EINVAL,
					"%.200s has no column \"%.60s\" for the %s (its columns: %s)",
					spec->file, want[i].name, want[i].what, cols);
	}
	for (size_t i = 0; i < spec->nfilters; i++) {
		c->filter[i] = column(h, spec->filters[i].column);
		e->filter = i;
		if (c->filter[i] == -2)
			return csv_fail(e, CSV_AT_FILTER, H_EINVAL, "%.200s has two columns named \"%.60s\"",
					spec->file, spec->filters[i].column);
		if (c->filter[i] < 0)
			return csv_fail(e, CSV_AT_FILTER, H_EINVAL,
					"the filter's column \"%.60s\" is not in %.200s (its columns: %s)",
					spec->filters[i].column, spec->file, cols);
	}
	return H_OK;
}

static bool row_wanted(const struct members_csv *spec, const struct csv_cols *c,
		       const struct record *r)
{
	for (size_t i = 0; i < spec->nfilters; i++) {
		const struct members_filter *f = &spec->filters[i];
		bool hit = false;
		for (size_t k = 0; k < f->nvalues && !hit; k++)
			hit = strcmp(r->f[c->filter[i]], f->values[k]) == 0;
		if (!hit)
			return false;
	}
	return true;
}

static bool has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static bool blank_line(const char *p)
{
	return *p == '\n' || (*p == '\r' && p[1] == '\n');
}

struct csv_read {
	const struct members_csv *spec;
	struct csv_cols cols;
	struct record r, header;
	struct buf f;
	size_t skipped, first_skipped;
};

/* The data rows after the header; p is past the header. */
static enum herald_rc read_rows(struct csv_read *x, const char *p, size_t line,
				struct member_list *l, struct members_csv_err *e)
{
	const struct members_csv *spec = x->spec;
	while (*p) {
		if (blank_line(p)) {
			p += *p == '\r' ? 2 : 1;
			line++;
			continue;
		}
		size_t at = line;
		if (!csv_record(&p, spec->delimiter, &x->r, &x->f, &line))
			return csv_fail(e, CSV_AT_MEMBERS, H_EINVAL, "%.200s line %zu: bad quoting",
					spec->file, at);
		if (x->r.n != x->header.n)
			return csv_fail(e, CSV_AT_MEMBERS, H_EINVAL,
					"%.200s line %zu: %zu field%s where the header has %zu "
					"(is the delimiter \"%s\" right?)", spec->file, at, x->r.n,
					x->r.n == 1 ? "" : "s", x->header.n,
					spec->delimiter == '\t' ? "\\t" : (char[2]){ spec->delimiter, 0 });
		if (!row_wanted(spec, &x->cols, &x->r))
			continue;
		const char *name = x->r.f[x->cols.name], *email = x->r.f[x->cols.email];
		if (!*email) {
			if (!x->skipped++)
				x->first_skipped = at;
			continue;
		}
		if (!members_valid_addr(email))
			return csv_fail(e, CSV_AT_MEMBERS, H_EINVAL,
					"%.200s line %zu: \"%.80s\" is not an email address",
					spec->file, at, email);
		if (!*name || has_ctl(name))
			return csv_fail(e, CSV_AT_MEMBERS, H_EINVAL,
					"%.200s line %zu: the name of %.80s is empty or holds control characters",
					spec->file, at, email);
		char where[32];
		snprintf(where, sizeof where, "line %zu", at);
		member_list_add(l, name, email, where);
	}
	return H_OK;
}

enum herald_rc members_csv_read(const char *plan_path, const struct members_csv *spec,
				struct member_list **out, struct members_csv_err *e)
{
	char *path = members_csv_path(plan_path, spec->file);
	if (!path)
		return csv_fail(e, CSV_AT_FILE, H_EINVAL,
				"\"%.80s\": give a path relative to the plan file", spec->file);
	char *data;
	size_t len;
	if (read_file(path, MEMBERS_MAX_BYTES, &data, &len) < 0) {
		int err = errno;
		free(path);
		return csv_fail(e, CSV_AT_FILE, err == EFBIG ? H_EINVAL : H_ERUNTIME,
				"cannot read members file %.200s: %s", spec->file,
				err == EFBIG ? "larger than 32 MiB" : strerror(err));
	}
	free(path);
	struct csv_read x = { .spec = spec };
	buf_init(&x.f);
	struct member_list *l = member_list_new();
	enum herald_rc rc = H_OK;
	const char *p = data;
	if (strncmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	size_t line = 1;
	if (!utf8_valid(p, strlen(p)) || strlen(p) != len - (size_t)(p - data)) {
		rc = csv_fail(e, CSV_AT_MEMBERS, H_EINVAL, "%.200s: not UTF-8 text", spec->file);
		goto out;
	}
	if (!*p) {
		rc = csv_fail(e, CSV_AT_MEMBERS, H_EINVAL, "%.200s is empty: it needs a header row "
			      "naming its columns", spec->file);
		goto out;
	}
	if (!csv_record(&p, spec->delimiter, &x.header, &x.f, &line)) {
		rc = csv_fail(e, CSV_AT_MEMBERS, H_EINVAL, "%.200s line 1: bad quoting", spec->file);
		goto out;
	}
	if ((rc = map_columns(spec, &x.header, &x.cols, e)) ||
	    (rc = read_rows(&x, p, line, l, e)))
		goto out;
	if (x.skipped)
		member_list_note(l, "W-MEMBERS-SKIPPED",
				 "%zu row%s of %.200s ha%s no address in column \"%.60s\" and %s "
				 "skipped (the first at line %zu)", x.skipped, x.skipped == 1 ? "" : "s",
				 spec->file, x.skipped == 1 ? "s" : "ve", spec->email_col,
				 x.skipped == 1 ? "is" : "are", x.first_skipped);
	member_list_finish(l);
	*out = l;
	l = NULL;
out:
	member_list_unref(l);
	record_clear(&x.r);
	record_clear(&x.header);
	free(x.r.f);
	free(x.header.f);
	free(x.cols.filter);
	buf_free(&x.f);
	free(data);
	return rc;
}
