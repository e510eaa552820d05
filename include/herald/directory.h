/*
 * directory.h - members from an LDAP directory (OpenLDAP, Active
 * Directory, FreeIPA): the one module that speaks LDAP (libldap).
 *
 * The checks (URL, filter, DN, attribute names, the TLS rule) need no
 * network, so `herald check` validates a directory source without
 * contacting it; directory_fetch() searches it.
 *
 * Transport: ldaps:// (TLS from the first byte) or ldap:// upgraded with
 * StartTLS; plain ldap:// only to a loopback address, and ldapi:// (a
 * local socket).  Certificates are verified (TLS_REQCERT demand) against
 * HERALD_CA_BUNDLE when set, else libldap's own settings (LDAPTLS_CACERT,
 * ldap.conf).  The password is sent only in the bind and appears in no
 * message this module writes.
 */
#ifndef HERALD_DIRECTORY_H
#define HERALD_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "herald/err.h"
#include "herald/members.h"

struct directory_query {
	const char *url;        /* ldaps://HOST[:PORT], ldap://…, ldapi://… */
	const char *base;       /* search base DN */
	const char *filter;     /* RFC 4515 filter */
	const char *bind_dn;    /* NULL: anonymous */
	const char *password;   /* with bind_dn */
	const char *name_attr;  /* "displayName" (then cn, then the address) */
	const char *email_attr; /* "mail" */
	bool starttls;          /* ldap://: upgrade (required off loopback) */
	int timeout_s;          /* per network step (0: 15) */
	size_t page_size;       /* paged results (0: 500; AD allows 1,000) */
	size_t max_entries;     /* refuse a larger result (0: 1,000,000) */
};

/* What the checks say: false with msg (size n) saying why. */
bool directory_check_url(const char *url, char *msg, size_t n);
bool directory_check_filter(const char *filter, char *msg, size_t n);
bool directory_check_dn(const char *dn, char *msg, size_t n);
bool directory_check_attr(const char *attr, char *msg, size_t n);

/* True for ldapi:// and an ldap:// URL whose host is loopback (localhost,
 * 127.0.0.0/8, ::1): where plain LDAP leaves the machine never. */
bool directory_url_local(const char *url);

/*
 * Searches the directory (subtree under base, paged) and builds a list:
 * one member per entry with a usable address in email_attr; entries
 * without one are skipped and counted in a W-MEMBERS-SKIPPED note, and
 * duplicate addresses are kept once (member_list_add, naming both DNs).
 * On success *out is a new finished list.  On failure returns H_ERUNTIME
 * (the directory cannot be reached, refuses the bind or the search) or
 * H_EINVAL (a query the checks refuse), err saying which step failed,
 * with the server's diagnostic text; never the password.
 */
enum herald_rc directory_fetch(const struct directory_query *q, struct member_list **out,
			       struct herald_err *err);

#endif
