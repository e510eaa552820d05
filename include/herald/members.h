/*
 * members.h - the people of an audience: CSV member files and address
 * validation.  Below the plan: plan.h uses these types, members knows
 * nothing of plans.
 */
#ifndef HERALD_MEMBERS_H
#define HERALD_MEMBERS_H

#include <stdbool.h>
#include <stddef.h>

#include "herald/err.h"

/* One person of an audience. */
struct member {
	char *name;
	char *email;
};

/* Frees n members and the array. */
void members_free(struct member *m, size_t n);

/*
 * True for a bare addr-spec (user@example.org) herald will put in an SMTP
 * envelope: dot-atom local part, dotted domain of LDH labels, no spaces or
 * control characters, at most 254 bytes.
 */
bool members_valid_addr(const char *s);

/* True for addr-spec or "Display Name <addr-spec>" (no CR/LF). */
bool members_valid_mailbox(const char *s);

/* Extracts the addr-spec of a mailbox into out (size n). */
bool members_mailbox_addr(const char *mailbox, char *out, size_t n);

/*
 * Loads a CSV file with header "name,email" (RFC 4180 quoting, optional
 * UTF-8 BOM), relative to the folder of plan_path.  Start with *members
 * NULL and *n 0.  On success sets both (members_free() them).  On failure
 * returns H_EINVAL with a message naming the file and line; *members and
 * *n may hold the members read so far, to be freed the same way.
 */
enum herald_rc members_load_csv(const char *plan_path, const char *rel,
				struct member **members, size_t *n,
				char *msg, size_t msglen);

#endif
