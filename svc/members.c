/* members.c - member CSV files and address checks (see members.h). */
#include "herald/members.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* One RFC 4180 field; returns false on a stray quote. */
static bool csv_field(const char **pp, struct buf *f)
{
	const char *p = *pp;
	buf_reset(f);
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
		if (*p && *p != ',' && *p != '\n' && *p != '\r')
			return false;
	} else {
		while (*p && *p != ',' && *p != '\n' && *p != '\r') {
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

/* Reads one record of up to 2 fields; returns the field count or -1. */
static int csv_record(const char **pp, char *fields[2], struct buf *f)
{
	int n = 0;
	for (;;) {
		if (!csv_field(pp, f))
			return -1;
		if (n < 2)
			fields[n] = trim(f->data ? f->data : "");
		n++;
		if (**pp != ',')
			break;
		(*pp)++;
	}
	if (**pp == '\r')
		(*pp)++;
	if (**pp == '\n')
		(*pp)++;
	return n;
}

void members_free(struct member *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].name);
		free(m[i].email);
	}
	free(m);
}

enum herald_rc members_load_csv(const char *plan_path, const char *rel,
				struct member **members, size_t *n,
				char *msg, size_t msglen)
{
	if (!*rel || rel[0] == '/') {
		snprintf(msg, msglen, "\"file:%.80s\": give a path relative to the plan file", rel);
		return H_EINVAL;
	}
	char *dir = xstrdup(plan_path);
	char *path = xasprintf("%s/%s", dirname(dir), rel);
	free(dir);
	char *data;
	size_t len;
	if (read_file(path, MEMBERS_MAX_BYTES, &data, &len) < 0) {
		snprintf(msg, msglen, "cannot read members file %.200s: %s", rel,
			 strerror(errno));
		free(path);
		return H_EINVAL;
	}
	free(path);
	enum herald_rc rc = H_OK;
	struct buf f;
	buf_init(&f);
	const char *p = data;
	if (strncmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	if (!utf8_valid(p, strlen(p)) || strlen(p) != len - (size_t)(p - data)) {
		snprintf(msg, msglen, "%.200s: not UTF-8 text", rel);
		rc = H_EINVAL;
		goto out;
	}
	size_t cap = 16, line = 1;
	*members = xcalloc(cap, sizeof **members);
	*n = 0;
	char *fl[2] = { NULL, NULL };
	int k = csv_record(&p, fl, &f);
	bool header = k == 2 && strcasecmp(fl[0], "name") == 0 &&
		      strcasecmp(fl[1], "email") == 0;
	free(fl[0]);
	free(k >= 2 ? fl[1] : NULL);
	if (!header) {
		snprintf(msg, msglen, "%.200s line 1: the header must be \"name,email\"", rel);
		rc = H_EINVAL;
		goto out;
	}
	while (*p) {
		line++;
		if (*p == '\n' || (*p == '\r' && p[1] == '\n')) {
			p += *p == '\r' ? 2 : 1;
			continue;
		}
		fl[0] = fl[1] = NULL;
		k = csv_record(&p, fl, &f);
		if (k != 2) {
			snprintf(msg, msglen, "%.200s line %zu: expected 2 fields (name,email)%s",
				 rel, line, k < 0 ? ": bad quoting" : "");
			free(fl[0]);
			free(k >= 2 ? fl[1] : NULL);
			rc = H_EINVAL;
			goto out;
		}
		if (!members_valid_addr(fl[1]) || !*fl[0]) {
			snprintf(msg, msglen, "%.200s line %zu: \"%.80s\" is not an email address%s",
				 rel, line, fl[1], *fl[0] ? "" : " (or the name is empty)");
			free(fl[0]);
			free(fl[1]);
			rc = H_EINVAL;
			goto out;
		}
		if (*n == cap)
			*members = xreallocarray(*members, cap *= 2, sizeof **members);
		(*members)[*n].name = fl[0];
		(*members)[*n].email = fl[1];
		(*n)++;
	}
out:
	buf_free(&f);
	free(data);
	return rc;
}
