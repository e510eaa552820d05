/*
 * plan_members.c - an audience's "members" (see plan_members.h): inline
 * lists, CSV files as HR systems write them, LDAP directories.
 *
 *   "members": [{"name": …, "email": …}, …]
 *   "members": "file:people/staff.csv"           (columns name, email)
 *   "members": {"file": …, "name": COLUMN, "email": COLUMN,
 *               "delimiter": ";", "filter": {COLUMN: [values]}}
 *   "members": {"ldap": URL, "base": DN, "filter": LDAP-FILTER,
 *               "bind_dn": …, "password": …, "name_attr": …,
 *               "email_attr": …, "starttls": true, "refresh": "PT1H"}
 */
#include "herald/plan_members.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/directory.h"
#include "herald/members.h"
#include "herald/timeutil.h"
#include "herald/util.h"

#define REFRESH_DEFAULT 3600
#define REFRESH_MIN 60

/* --------------------------------------------------------------- inline */

static enum herald_rc load_inline_member(struct pj *c, json_t *m, size_t i,
					 struct member_list *l)
{
	static const char *const keys[] = { "name", "email", NULL };
	if (pj_want_object(c, m))
		return H_EINVAL;
	size_t before = c->nerrors;
	pj_check_keys(c, m, keys);
	char *name = NULL, *email = NULL;
	if (!pj_get_string(c, m, "name", true, &name) && pj_has_ctl(name))
		PJ_FAIL_AT(c, "name", "name contains control characters");
	if (!pj_get_string(c, m, "email", true, &email) && !members_valid_addr(email))
		PJ_FAIL_AT(c, "email", "\"%.80s\" is not an email address", email);
	enum herald_rc rc = pj_since(c, before);
	if (!rc) {
		char where[32];
		snprintf(where, sizeof where, "members[%zu]", i);
		member_list_add(l, name, email, where);
	}
	free(name);
	free(email);
	return rc;
}

static void set_list(struct plan_audience *a, struct member_list *l)
{
	a->list = l;
	a->members = l->m;
	a->nmembers = l->n;
}

static enum herald_rc load_inline(struct pj *c, json_t *j, struct plan_audience *a)
{
	size_t before = c->nerrors;
	struct member_list *l = member_list_new();
	size_t i;
	json_t *m;
	json_array_foreach(j, i, m) {
		if (pj_full(c))
			break;
		size_t o = pj_push_index(c, i);
		load_inline_member(c, m, i, l);
		pj_pop(c, o);
	}
	member_list_finish(l);
	set_list(a, l);
	a->source.kind = MEMBERS_INLINE;
	a->source.resolved = true;
	return pj_since(c, before);
}

/* ------------------------------------------------------------------ CSV */

static enum herald_rc load_filter_values(struct pj *c, json_t *v, struct members_filter *f)
{
	if (json_is_string(v)) {
		f->values = xcalloc(1, sizeof *f->values);
		if (pj_string_value(c, v, &f->values[0]))
			return H_EINVAL;
		f->nvalues = 1;
		return H_OK;
	}
	if (!json_is_array(v) || json_array_size(v) == 0)
		return pj_fail(c, "expected a value or a list of values to keep");
	size_t before = c->nerrors;
	f->values = xcalloc(json_array_size(v), sizeof *f->values);
	size_t i;
	json_t *x;
	json_array_foreach(v, i, x) {
		size_t o = pj_push_index(c, i);
		if (!pj_string_value(c, x, &f->values[f->nvalues]))
			f->nvalues++;
		pj_pop(c, o);
	}
	return pj_since(c, before);
}

static enum herald_rc load_filter(struct pj *c, json_t *j, struct members_csv *csv)
{
	if (!j)
		return H_OK;
	size_t o = pj_push_key(c, "filter");
	size_t before = c->nerrors;
	if (!pj_want_object(c, j)) {
		csv->filters = xcalloc(json_object_size(j) ? json_object_size(j) : 1,
				       sizeof *csv->filters);
		const char *col;
		json_t *v;
		json_object_foreach(j, col, v) {
			size_t o2 = pj_push_key(c, col);
			struct members_filter *f = &csv->filters[csv->nfilters++];
			f->column = xstrdup(col);
			load_filter_values(c, v, f);
			pj_pop(c, o2);
		}
	}
	pj_pop(c, o);
	return pj_since(c, before);
}

static enum herald_rc get_column(struct pj *c, json_t *j, const char *key, const char *dflt,
				 char **out)
{
	enum herald_rc rc = pj_get_string(c, j, key, false, out);
	if (!rc && *out && pj_has_ctl(*out))
		rc = PJ_FAIL_AT(c, key, "a column name is one line of text");
	if (!*out)
		*out = xstrdup(dflt);
	return rc;
}

static enum herald_rc get_delimiter(struct pj *c, json_t *j, char *out)
{
	char *d = NULL;
	*out = ',';
	enum herald_rc rc = pj_get_string(c, j, "delimiter", false, &d);
	if (rc || !d)
		return rc;
	if (strlen(d) == 1 && strchr(",;\t|:", d[0]))
		*out = d[0];
	else
		rc = PJ_FAIL_AT(c, "delimiter", "the delimiter is one of , ; | : or a tab (\"\\t\")");
	free(d);
	return rc;
}

/* j is "file:PATH" (string form) or the object form. */
static enum herald_rc load_csv(struct pj *c, json_t *j, struct plan_audience *a)
{
	static const char *const keys[] = { "file", "name", "email", "delimiter", "filter", NULL };
	struct plan_members *m = &a->source;
	struct members_csv *csv = &m->csv;
	m->kind = MEMBERS_CSV;
	size_t before = c->nerrors;
	if (json_is_string(j)) {
		csv->file = xstrdup(json_string_value(j) + 5);
		csv->name_col = xstrdup("name");
		csv->email_col = xstrdup("email");
		csv->delimiter = ',';
	} else {
		pj_check_keys(c, j, keys);
		pj_get_string(c, j, "file", true, &csv->file);
		get_column(c, j, "name", "name", &csv->name_col);
		get_column(c, j, "email", "email", &csv->email_col);
		get_delimiter(c, j, &csv->delimiter);
		load_filter(c, json_object_get(j, "filter"), csv);
	}
	if (csv->file) {
		m->csv_path = members_csv_path(c->file, csv->file);
		if (!m->csv_path) {
			if (json_is_string(j))
				pj_fail(c, "\"file:%.80s\": give a path relative to the plan file",
					csv->file);
			else
				PJ_FAIL_AT(c, "file", "give a path relative to the plan file");
		}
		m->what = xasprintf("file %s", csv->file);
	}
	return pj_since(c, before);
}

/* ----------------------------------------------------------------- LDAP */

/* obj.key checked by fn (directory.h); dflt when absent (NULL: required). */
static enum herald_rc get_checked(struct pj *c, json_t *j, const char *key, const char *dflt,
				  bool (*fn)(const char *, char *, size_t), char **out)
{
	enum herald_rc rc = pj_get_string(c, j, key, dflt == NULL, out);
	if (rc)
		return rc;
	if (!*out) {
		*out = xstrdup(dflt);
		return H_OK;
	}
	char msg[HERALD_ERR_LEN];
	if (!fn(*out, msg, sizeof msg))
		return PJ_FAIL_AT(c, key, "%s", msg);
	return H_OK;
}

static enum herald_rc get_refresh(struct pj *c, json_t *j, int64_t *out)
{
	char *s = NULL;
	*out = REFRESH_DEFAULT;
	enum herald_rc rc = pj_get_string(c, j, "refresh", false, &s);
	if (rc || !s)
		return rc;
	int64_t v;
	if (!parse_duration(s, &v))
		rc = PJ_FAIL_AT(c, "refresh", "\"%.40s\" is not an ISO 8601 duration (such as PT1H)",
				s);
	else if (v < REFRESH_MIN)
		rc = PJ_FAIL_AT(c, "refresh", "%.40s is too often: read a directory at most once "
				"a minute (PT1M or more; PT1H is the default)", s);
	else
		*out = v;
	free(s);
	return rc;
}

static enum herald_rc load_ldap(struct pj *c, json_t *j, struct plan_audience *a)
{
	static const char *const keys[] = { "ldap", "base", "filter", "bind_dn", "password",
					    "name_attr", "email_attr", "starttls", "refresh",
					    NULL };
	struct plan_members *m = &a->source;
	m->kind = MEMBERS_LDAP;
	size_t before = c->nerrors;
	pj_check_keys(c, j, keys);
	get_checked(c, j, "ldap", NULL, directory_check_url, &m->url);
	get_checked(c, j, "base", NULL, directory_check_dn, &m->base);
	get_checked(c, j, "filter", NULL, directory_check_filter, &m->filter);
	get_checked(c, j, "name_attr", "displayName", directory_check_attr, &m->name_attr);
	get_checked(c, j, "email_attr", "mail", directory_check_attr, &m->email_attr);
	pj_get_secret(c, j, "bind_dn", false, &m->bind_dn);
	pj_get_secret(c, j, "password", false, &m->password);
	if (json_object_get(j, "bind_dn") && !json_object_get(j, "password"))
		PJ_FAIL_AT(c, "bind_dn", "a bind DN needs a \"password\" (\"env:NAME\")");
	if (json_object_get(j, "password") && !json_object_get(j, "bind_dn"))
		PJ_FAIL_AT(c, "password", "a password needs a \"bind_dn\"");
	pj_get_bool(c, j, "starttls", true, &m->starttls);
	if (m->url && strncmp(m->url, "ldap://", 7) == 0 && !m->starttls &&
	    !directory_url_local(m->url))
		PJ_FAIL_AT(c, "starttls", "plain LDAP to %.120s would carry the password and the "
			   "members in clear: use ldaps://, StartTLS (the default) or ldapi://; "
			   "plain LDAP is only for loopback", m->url);
	get_refresh(c, j, &m->refresh);
	if (m->url && m->base)
		m->what = xasprintf("%s (%s)", m->url, m->base);
	return pj_since(c, before);
}

/* ----------------------------------------------------------------- load */

enum herald_rc plan_members_load(struct pj *c, json_t *j, struct plan_audience *a)
{
	if (!j)
		return H_OK;
	a->members_given = true;
	size_t o = pj_push_key(c, "members");
	size_t before = c->nerrors;
	enum herald_rc rc = H_OK;
	if (json_is_array(j)) {
		load_inline(c, j, a);
	} else if (json_is_string(j) && strncmp(json_string_value(j), "file:", 5) == 0) {
		rc = load_csv(c, j, a);
	} else if (json_is_object(j) && json_object_get(j, "file") &&
		   json_object_get(j, "ldap")) {
		rc = pj_fail(c, "give \"file\" (a CSV) or \"ldap\" (a directory), not both");
	} else if (json_is_object(j) && json_object_get(j, "file")) {
		rc = load_csv(c, j, a);
	} else if (json_is_object(j) && json_object_get(j, "ldap")) {
		rc = load_ldap(c, j, a);
	} else if (json_is_object(j)) {
		rc = pj_fail(c, "give \"file\" (a CSV file) or \"ldap\" (a directory URL)");
	} else {
		rc = pj_fail(c, "expected a list of {\"name\", \"email\"}, \"file:PATH.csv\", "
			     "{\"file\": …} or {\"ldap\": …}");
	}
	/* The key marks a source whose every part loaded: only those are
	 * read, and matched with the previous plan's. */
	if (!rc && a->source.kind != MEMBERS_INLINE)
		a->source.key = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	pj_pop(c, o);
	return pj_since(c, before);
}

void plan_members_redact(json_t *audiences)
{
	const char *id;
	json_t *a;
	if (!json_is_object(audiences))
		return;
	json_object_foreach(audiences, id, a) {
		json_t *m = json_object_get(a, "members");
		json_t *pw = json_object_get(m, "password");
		if (json_is_object(m) && json_is_string(pw) &&
		    strncmp(json_string_value(pw), "env:", 4) != 0)
			json_object_set_new(m, "password", json_string("[redacted]"));
	}
}

/* -------------------------------------------------------------- resolve */

/* The previous plan's audience with the same source, if it has a list. */
static const struct plan_audience *previous_of(const struct pj *c,
					       const struct plan_audience *a)
{
	const struct plan *p = c->opts ? c->opts->previous : NULL;
	long i = p ? plan_audience_index(p, a->id) : -1;
	if (i < 0)
		return NULL;
	const struct plan_audience *b = &p->audiences[i];
	if (b->source.kind != a->source.kind || !b->source.key || !b->list ||
	    !b->source.resolved || strcmp(b->source.key, a->source.key) != 0)
		return NULL;
	return b;
}

/* Pushes the key under "members" a CSV failure is about (none: members
 * itself, or the string form, which has no keys); the caller pops. */
static void push_csv_at(struct pj *c, const struct plan_audience *a,
			const struct members_csv_err *e)
{
	if (a->source.key[0] == '"')
		return;
	static const char *const keys[] = {
		[CSV_AT_FILE] = "file", [CSV_AT_NAME] = "name", [CSV_AT_EMAIL] = "email",
		[CSV_AT_FILTER] = "filter",
	};
	if (e->at == CSV_AT_MEMBERS)
		return;
	pj_push_key(c, keys[e->at]);
	if (e->at == CSV_AT_FILTER)
		pj_push_key(c, a->source.csv.filters[e->filter].column);
}

static enum herald_rc read_source(const struct plan_audience *a, struct member_list **out,
				  struct members_csv_err *ce, struct herald_err *err,
				  const char *plan_path)
{
	const struct plan_members *m = &a->source;
	if (m->kind == MEMBERS_CSV) {
		enum herald_rc rc = members_csv_read(plan_path, &m->csv, out, ce);
		if (rc)
			herald_err_set(err, rc, "%s", ce->msg);
		return rc;
	}
	if (m->password.demo)
		return herald_err_set(err, H_EINVAL, "environment variable %s is not set: cannot "
				      "bind to %.120s", m->password.env, m->url);
	struct directory_query q = {
		.url = m->url, .base = m->base, .filter = m->filter,
		.bind_dn = m->bind_dn.value, .password = m->password.value,
		.name_attr = m->name_attr, .email_attr = m->email_attr,
		.starttls = m->starttls,
	};
	return directory_fetch(&q, out, err);
}

/* Reads one source into a; returns the load's rc for it. */
static enum herald_rc resolve_one(struct pj *c, struct plan_audience *a)
{
	const struct plan_audience *prev = previous_of(c, a);
	const struct plan_load_opts *o = c->opts;
	struct plan_members *m = &a->source;
	if (o && o->refetch && !o->refetch(a, o->ctx)) {
		if (prev) {
			set_list(a, member_list_ref(prev->list));
			m->resolved = true;
		} else {
			struct member_list *l = member_list_new();
			member_list_finish(l);
			set_list(a, l);
		}
		return H_OK;
	}
	struct member_list *l = NULL;
	struct members_csv_err ce = { 0 };
	struct herald_err err;
	herald_err_clear(&err);
	m->fetched = true;
	enum herald_rc rc = read_source(a, &l, &ce, &err, c->file);
	if (!rc) {
		set_list(a, l);
		m->resolved = true;
		return H_OK;
	}
	if (prev) {
		/* The last good list stands; the service says why. */
		set_list(a, member_list_ref(prev->list));
		m->resolved = true;
		m->failure = xstrdup(err.msg);
		return H_OK;
	}
	size_t mark = pj_push_key(c, "audiences");
	pj_push_key(c, a->id);
	pj_push_key(c, "members");
	if (m->kind == MEMBERS_CSV)
		push_csv_at(c, a, &ce);
	pj_fail(c, "%s", err.msg);
	pj_pop(c, mark);
	return m->kind == MEMBERS_LDAP && rc == H_ERUNTIME ? H_ERUNTIME : H_EINVAL;
}

enum herald_rc plan_members_resolve(struct pj *c, enum herald_rc rc)
{
	struct plan *p = c->plan;
	bool runtime = false, invalid = rc != H_OK;
	/* Files first; directories only for a plan with no error at all. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < p->naudiences && !pj_full(c); i++) {
			struct plan_audience *a = &p->audiences[i];
			if (!a->source.key || a->list)
				continue;
			bool ldap = a->source.kind == MEMBERS_LDAP;
			if (ldap != (pass == 1))
				continue;
			if (ldap && (invalid || !c->opts || !c->opts->resolve)) {
				struct member_list *l = member_list_new();
				member_list_finish(l);
				set_list(a, l);
				continue;
			}
			enum herald_rc r = resolve_one(c, a);
			runtime |= r == H_ERUNTIME;
			invalid |= r == H_EINVAL;
		}
	}
	return invalid ? H_EINVAL : runtime ? H_ERUNTIME : H_OK;
}

void plan_members_free(struct plan_audience *a)
{
	struct plan_members *m = &a->source;
	member_list_unref(a->list);
	a->list = NULL;
	a->members = NULL;
	a->nmembers = 0;
	free(m->key);
	free(m->what);
	members_csv_clear(&m->csv);
	free(m->csv_path);
	free(m->url);
	free(m->base);
	free(m->filter);
	free(m->name_attr);
	free(m->email_attr);
	free(m->bind_dn.value);
	free(m->bind_dn.env);
	if (m->password.value)
		explicit_bzero(m->password.value, strlen(m->password.value));
	free(m->password.value);
	free(m->password.env);
	free(m->failure);
}
