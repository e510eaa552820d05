/*
 * members.h - the people of an audience: CSV member files and address
 * validation.
 */
#ifndef HERALD_MEMBERS_H
#define HERALD_MEMBERS_H

#include <stdbool.h>
#include <stddef.h>

#include "herald/err.h"

struct plan_member;

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
 * UTF-8 BOM), relative to the folder of plan_path.  On success sets
 * *members (caller frees each name/email and the array) and *n.  On
 * failure returns H_EINVAL or H_ERUNTIME with a message naming the file
 * and line.
 */
enum herald_rc members_load_csv(const char *plan_path, const char *rel,
				struct plan_member **members, size_t *n,
				char *msg, size_t msglen);

#endif
