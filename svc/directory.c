/*
 * directory.c - members from LDAP (see directory.h).
 *
 * The filter check is a parser of RFC 4515's grammar, not libldap's: the
 * library offers none without a connection, and `check` must say "this
 * filter is wrong at character 17" before anything is contacted.
 */
#include "herald/directory.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <ldap.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "herald/util.h"

#define DIR_TIMEOUT_S 15
#define DIR_PAGE 500
#define DIR_MAX_ENTRIES 1000000
#define FILTER_DEPTH 32

/* ------------------------------------------------------------- checks */

bool directory_check_url(const char *url, char *msg, size_t n)
{
	if (strpbrk(url, " \t\r\n")) {
		snprintf(msg, n, "give one URL, without spaces or commas");
		return false;
	}
	LDAPURLDesc *d = NULL;
	if (ldap_url_parse(url, &d) != LDAP_URL_SUCCESS || !d) {
		snprintf(msg, n, "\"%.120s\" is not an LDAP URL (ldaps://HOST[:PORT], "
			 "ldap://HOST[:PORT] or ldapi://SOCKET)", url);
		return false;
	}
	bool ok = false;
	if (strcmp(d->lud_scheme, "ldap") != 0 && strcmp(d->lud_scheme, "ldaps") != 0 &&
	    strcmp(d->lud_scheme, "ldapi") != 0)
		snprintf(msg, n, "the scheme must be ldaps, ldap or ldapi, not %.20s", d->lud_scheme);
	else if (strcmp(d->lud_scheme, "ldapi") != 0 && (!d->lud_host || !*d->lud_host))
		snprintf(msg, n, "\"%.120s\" names no host", url);
	else if ((d->lud_dn && *d->lud_dn) || d->lud_attrs || d->lud_filter || d->lud_exts)
		snprintf(msg, n, "give the server only (ldaps://HOST[:PORT]): the search base and "
			 "filter have keys of their own (\"base\", \"filter\")");
	else if (d->lud_host && strchr(d->lud_host, ','))
		snprintf(msg, n, "give one URL, without spaces or commas");
	else
		ok = true;
	ldap_free_urldesc(d);
	return ok;
}

bool directory_url_local(const char *url)
{
	LDAPURLDesc *d = NULL;
	if (ldap_url_parse(url, &d) != LDAP_URL_SUCCESS || !d)
		return false;
	bool local = strcmp(d->lud_scheme, "ldapi") == 0;
	if (!local && strcmp(d->lud_scheme, "ldap") == 0 && d->lud_host) {
		const char *h = d->lud_host;
		struct in_addr a4;
		struct in6_addr a6;
		if (strcasecmp(h, "localhost") == 0)
			local = true;
		else if (inet_pton(AF_INET, h, &a4) == 1)
			local = (ntohl(a4.s_addr) >> 24) == 127;
		else if (inet_pton(AF_INET6, h, &a6) == 1)
			local = IN6_IS_ADDR_LOOPBACK(&a6);
	}
	ldap_free_urldesc(d);
	return local;
}

bool directory_check_dn(const char *dn, char *msg, size_t n)
{
	LDAPDN parsed = NULL;
	if (!*dn || ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS) {
		snprintf(msg, n, "\"%.120s\" is not a DN (such as ou=people,dc=acme,dc=example)", dn);
		return false;
	}
	ldap_dnfree(parsed);
	return true;
}

/* descr / numericoid, then ;options (RFC 4512 attributedescription). */
static const char *attr_end(const char *p)
{
	const char *s = p;
	if (isalpha((unsigned char)*p)) {
		while (isalnum((unsigned char)*p) || *p == '-')
			p++;
	} else if (isdigit((unsigned char)*p)) {
		while (isdigit((unsigned char)*p) || (*p == '.' && isdigit((unsigned char)p[1])))
			p++;
	} else {
		return s;
	}
	while (*p == ';' && (isalnum((unsigned char)p[1]) || p[1] == '-')) {
		p++;
		while (isalnum((unsigned char)*p) || *p == '-')
			p++;
	}
	return p;
}

bool directory_check_attr(const char *attr, char *msg, size_t n)
{
	const char *e = attr_end(attr);
	if (e == attr || *e) {
		snprintf(msg, n, "\"%.80s\" is not an attribute name (such as mail or displayName)",
			 attr);
		return false;
	}
	return true;
}

struct fparse {
	const char *s, *p;
	char *msg;
	size_t n;
};

__attribute__((format(printf, 2, 3)))
static bool ffail(struct fparse *f, const char *fmt, ...)
{
	char what[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	snprintf(f->msg, f->n, "LDAP filter syntax error at character %zu: %s",
		 (size_t)(f->p - f->s) + 1, what);
	return false;
}

/* An assertion value up to ')': \HH escapes; '*' only where allowed. */
static bool fvalue(struct fparse *f, bool stars)
{
	for (; *f->p && *f->p != ')'; f->p++) {
		unsigned char c = (unsigned char)*f->p;
		if (c == '\\') {
			if (!isxdigit((unsigned char)f->p[1]) || !isxdigit((unsigned char)f->p[2]))
				return ffail(f, "\\ must be followed by two hex digits (\\2a for *)");
			f->p += 2;
		} else if (c == '(') {
			return ffail(f, "an unescaped ( in a value (write \\28)");
		} else if (c == '*' && !stars) {
			return ffail(f, "* is allowed only with = (write \\2a for a literal *)");
		}
	}
	return true;
}

/* attr [":dn"] [":" rule] (= ~= >= <= :=) value */
static bool fitem(struct fparse *f)
{
	const char *a = f->p;
	f->p = attr_end(f->p);
	bool has_attr = f->p != a;
	bool ext = false;
	if (strncasecmp(f->p, ":dn", 3) == 0 && (f->p[3] == ':' || f->p[3] == '=')) {
		f->p += 3;
		ext = true;
	}
	if (*f->p == ':' && f->p[1] != '=') {
		f->p++;
		const char *r = f->p;
		f->p = attr_end(f->p);
		if (f->p == r)
			return ffail(f, "a matching rule must follow :");
		ext = true;
	}
	if (!has_attr && !ext)
		return ffail(f, *f->p ? "expected an attribute name" : "the filter ends too soon");
	bool stars = false;
	if (f->p[0] == ':' && f->p[1] == '=') {
		f->p += 2;
	} else if (ext) {
		return ffail(f, "an extensible match needs :=");
	} else if (f->p[0] == '=') {
		f->p++;
		stars = true;
	} else if ((f->p[0] == '~' || f->p[0] == '>' || f->p[0] == '<') && f->p[1] == '=') {
		f->p += 2;
	} else {
		return ffail(f, "expected =, ~=, >=, <= or := after the attribute");
	}
	return fvalue(f, stars);
}

static bool ffilter(struct fparse *f, int depth)
{
	if (depth > FILTER_DEPTH)
		return ffail(f, "nested deeper than %d", FILTER_DEPTH);
	if (*f->p != '(')
		return ffail(f, *f->p ? "expected (" : "the filter ends too soon (a ) is missing?)");
	f->p++;
	if (*f->p == '&' || *f->p == '|') {
		f->p++;
		if (*f->p != '(')
			return ffail(f, "& and | need one or more (filters)");
		while (*f->p == '(')
			if (!ffilter(f, depth + 1))
				return false;
	} else if (*f->p == '!') {
		f->p++;
		if (!ffilter(f, depth + 1))
			return false;
	} else if (!fitem(f)) {
		return false;
	}
	if (*f->p != ')')
		return ffail(f, *f->p ? "expected )" : "the filter ends too soon (a ) is missing?)");
	f->p++;
	return true;
}

bool directory_check_filter(const char *filter, char *msg, size_t n)
{
	struct fparse f = { filter, filter, msg, n };
	if (!ffilter(&f, 0))
		return false;
	if (*f.p) {
		ffail(&f, "text after the closing )");
		return false;
	}
	return true;
}

/* -------------------------------------------------------------- fetch */

struct conn {
	LDAP *ld;
	const struct directory_query *q;
	struct herald_err *err;
};

/* "step: libldap's reason (server says: …)"; never the password. */
static enum herald_rc conn_fail(struct conn *c, const char *step, int rc)
{
	char *diag = NULL;
	if (c->ld)
		ldap_get_option(c->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	herald_err_set(c->err, H_ERUNTIME, "%.120s: %s: %s%s%.200s%s", c->q->url, step,
		       ldap_err2string(rc), diag && *diag ? " (server says: " : "",
		       diag && *diag ? diag : "", diag && *diag ? ")" : "");
	ldap_memfree(diag);
	return H_ERUNTIME;
}

static enum herald_rc conn_open(struct conn *c)
{
	const struct directory_query *q = c->q;
	int rc = ldap_initialize(&c->ld, q->url);
	if (rc != LDAP_SUCCESS)
		return conn_fail(c, "cannot use the URL", rc);
	int v3 = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND, zero = 0;
	struct timeval tv = { q->timeout_s > 0 ? q->timeout_s : DIR_TIMEOUT_S, 0 };
	ldap_set_option(c->ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
	/* Active Directory answers with referrals libldap would chase
	 * anonymously; the members are in the answer itself. */
	ldap_set_option(c->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
	ldap_set_option(c->ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
	ldap_set_option(c->ld, LDAP_OPT_TIMEOUT, &tv);
	/* Verify the server whatever ldap.conf says (TLS_REQCERT never). */
	ldap_set_option(c->ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
	const char *ca = getenv("HERALD_CA_BUNDLE");
	if (ca && *ca)
		ldap_set_option(c->ld, LDAP_OPT_X_TLS_CACERTFILE, ca);
	ldap_set_option(c->ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
	bool plain = strncmp(q->url, "ldap://", 7) == 0;
	if (plain && !q->starttls && !directory_url_local(q->url))
		return herald_err_set(c->err, H_EINVAL, "%.120s: plain LDAP off this machine is "
				      "refused: use ldaps:// or StartTLS", q->url);
	if (plain && q->starttls && (rc = ldap_start_tls_s(c->ld, NULL, NULL)) != LDAP_SUCCESS)
		return conn_fail(c, "StartTLS failed", rc);
	struct berval cred = { 0, NULL };
	if (q->bind_dn) {
		if (!q->password || !*q->password)
			return herald_err_set(c->err, H_EINVAL, "%.120s: a bind DN needs a password "
					      "(an empty one would bind anonymously)", q->url);
		cred.bv_val = (char *)(uintptr_t)q->password;
		cred.bv_len = strlen(q->password);
	}
	rc = ldap_sasl_bind_s(c->ld, q->bind_dn ? q->bind_dn : "", LDAP_SASL_SIMPLE, &cred,
			      NULL, NULL, NULL);
	if (rc != LDAP_SUCCESS)
		return conn_fail(c, q->bind_dn ? "bind failed" : "anonymous bind failed", rc);
	return H_OK;
}

/* The first value of attr that is one line of UTF-8 (new string), or NULL. */
static char *first_value(LDAP *ld, LDAPMessage *e, const char *attr)
{
	struct berval **v = ldap_get_values_len(ld, e, attr);
	char *out = NULL;
	for (size_t i = 0; v && v[i] && !out; i++) {
		const struct berval *b = v[i];
		if (!b->bv_len || memchr(b->bv_val, '\0', b->bv_len) ||
		    !utf8_valid(b->bv_val, b->bv_len))
			continue;
		bool ctl = false;
		for (size_t k = 0; k < b->bv_len; k++)
			ctl |= (unsigned char)b->bv_val[k] < 0x20 || b->bv_val[k] == 0x7f;
		if (!ctl)
			out = xstrndup(b->bv_val, b->bv_len);
	}
	ldap_value_free_len(v);
	return out;
}

struct tally {
	size_t entries, no_mail, bad_mail;
	char first_no_mail[200], first_bad[300];
};

static void take_entry(struct conn *c, LDAPMessage *e, struct member_list *l,
		       struct tally *t)
{
	const struct directory_query *q = c->q;
	char *dn = ldap_get_dn(c->ld, e);
	char *mail = first_value(c->ld, e, q->email_attr);
	t->entries++;
	if (!mail) {
		if (!t->no_mail++)
			snprintf(t->first_no_mail, sizeof t->first_no_mail, "%s", dn ? dn : "?");
	} else if (!members_valid_addr(mail)) {
		if (!t->bad_mail++)
			snprintf(t->first_bad, sizeof t->first_bad, "%.180s: \"%.80s\"",
				 dn ? dn : "?", mail);
	} else {
		char *name = first_value(c->ld, e, q->name_attr);
		if (!name)
			name = first_value(c->ld, e, "cn");
		member_list_add(l, name ? name : mail, mail, dn ? dn : "?");
		free(name);
	}
	free(mail);
	ldap_memfree(dn);
}

/* One page: its entries into l, the next cookie into *cookie. */
static enum herald_rc search_page(struct conn *c, struct berval *cookie,
				  struct member_list *l, struct tally *t)
{
	const struct directory_query *q = c->q;
	LDAPControl *page = NULL;
	int rc = ldap_create_page_control(c->ld, (ber_int_t)(q->page_size ? q->page_size : DIR_PAGE),
					  cookie, 1, &page);
	if (rc != LDAP_SUCCESS)
		return conn_fail(c, "paged search", rc);
	LDAPControl *ctrls[] = { page, NULL };
	char cn[] = "cn";
	char *attrs[] = { (char *)(uintptr_t)q->email_attr, (char *)(uintptr_t)q->name_attr,
			  cn, NULL };
	struct timeval tv = { 4 * (q->timeout_s > 0 ? q->timeout_s : DIR_TIMEOUT_S), 0 };
	LDAPMessage *res = NULL;
	rc = ldap_search_ext_s(c->ld, q->base, LDAP_SCOPE_SUBTREE, q->filter, attrs, 0, ctrls,
			       NULL, &tv, 0, &res);
	ldap_control_free(page);
	if (rc != LDAP_SUCCESS) {
		ldap_msgfree(res);
		return conn_fail(c, "search failed", rc);
	}
	size_t max = q->max_entries ? q->max_entries : DIR_MAX_ENTRIES;
	for (LDAPMessage *e = ldap_first_entry(c->ld, res); e; e = ldap_next_entry(c->ld, e))
		take_entry(c, e, l, t);
	LDAPControl **rctrls = NULL;
	int code = LDAP_SUCCESS;
	rc = ldap_parse_result(c->ld, res, &code, NULL, NULL, NULL, &rctrls, 1);
	ber_memfree(cookie->bv_val);
	*cookie = (struct berval){ 0, NULL };
	if (rc == LDAP_SUCCESS && code == LDAP_SUCCESS) {
		LDAPControl *pr = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, rctrls, NULL);
		ber_int_t estimate;
		if (pr)
			ldap_parse_pageresponse_control(c->ld, pr, &estimate, cookie);
	}
	ldap_controls_free(rctrls);
	if (rc != LDAP_SUCCESS || code != LDAP_SUCCESS)
		return conn_fail(c, "search failed", rc != LDAP_SUCCESS ? rc : code);
	if (t->entries > max)
		return herald_err_set(c->err, H_ERUNTIME, "%.120s: more than %zu entries match: "
				      "narrow the filter", q->url, max);
	return H_OK;
}

static void tally_notes(const struct directory_query *q, const struct tally *t,
			struct member_list *l)
{
	if (t->no_mail)
		member_list_note(l, "W-MEMBERS-SKIPPED",
				 "%zu of %zu entries have no %.40s and are skipped (the first: %.200s)",
				 t->no_mail, t->entries, q->email_attr, t->first_no_mail);
	if (t->bad_mail)
		member_list_note(l, "W-MEMBERS-SKIPPED",
				 "%zu of %zu entries have a %.40s that is not an address herald can "
				 "send to and are skipped (the first: %.300s)", t->bad_mail, t->entries,
				 q->email_attr, t->first_bad);
}

enum herald_rc directory_fetch(const struct directory_query *q, struct member_list **out,
			       struct herald_err *err)
{
	char msg[HERALD_ERR_LEN];
	if (!directory_check_url(q->url, msg, sizeof msg) ||
	    !directory_check_filter(q->filter, msg, sizeof msg) ||
	    !directory_check_dn(q->base, msg, sizeof msg))
		return herald_err_set(err, H_EINVAL, "%s", msg);
	struct conn c = { .q = q, .err = err };
	struct member_list *l = member_list_new();
	struct tally t = { 0 };
	enum herald_rc rc = conn_open(&c);
	struct berval cookie = { 0, NULL };
	while (!rc) {
		rc = search_page(&c, &cookie, l, &t);
		if (!cookie.bv_len)
			break;
	}
	ber_memfree(cookie.bv_val);
	if (c.ld)
		ldap_unbind_ext_s(c.ld, NULL, NULL);
	if (rc) {
		member_list_unref(l);
		return rc;
	}
	tally_notes(q, &t, l);
	member_list_finish(l);
	*out = l;
	return H_OK;
}
