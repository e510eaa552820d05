/*
 * members.h - the people of an audience: member lists, CSV member files
 * (as HR systems write them) and address validation.  Below the plan:
 * plan.h uses these types, members knows nothing of plans.
 *
 * A struct member_list is built once (member_list_add, then
 * member_list_finish) and read-only after: a list that did not change is
 * shared by the plans of a running service (member_list_ref).  Refs are
 * taken and dropped by the one thread that loads and frees plans, so
 * they are not atomic.
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

/* Something an auditor should see about a list (a check warning). */
struct member_note {
	const char *code;   /* "W-MEMBERS-DUPLICATE", "W-MEMBERS-SKIPPED" */
	char *message;
};

struct member_index;

struct member_list {
	struct member *m;
	size_t n;
	struct member_note *notes;
	size_t nnotes;
	size_t duplicates;            /* addresses dropped as duplicates */
	unsigned refs;
	/* While building only (freed by member_list_finish). */
	size_t cap;
	char **where;                 /* where each member was read */
	struct member_index *index;   /* addresses, case-insensitively */
};

/* A new empty list with one ref.  Never NULL. */
struct member_list *member_list_new(void);

/* Takes a ref; returns l. */
struct member_list *member_list_ref(struct member_list *l);

/* Drops a ref and frees the list with the last one.  l may be NULL. */
void member_list_unref(struct member_list *l);

/*
 * Adds a person (name and email copied).  An address already in the list,
 * compared case-insensitively, is not added again: the first is kept and
 * a W-MEMBERS-DUPLICATE note names both places (where: "line 7",
 * "members[3]", a DN).  Returns true if the person was added.
 */
bool member_list_add(struct member_list *l, const char *name, const char *email,
		     const char *where);

/* Adds a note (at most MEMBERS_MAX_NOTES are kept, then one summary). */
void member_list_note(struct member_list *l, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Ends building: frees what only building needed. */
void member_list_finish(struct member_list *l);

#define MEMBERS_MAX_NOTES 20

/* True if both lists hold the same addresses (case-insensitively) and names. */
bool member_list_same(const struct member_list *a, const struct member_list *b);

/*
 * Who is in b but not in a (joined) and in a but not in b (left), by
 * address compared case-insensitively; either list may be NULL (empty).
 * fn is called in list order, leavers first.
 */
void member_list_diff(const struct member_list *a, const struct member_list *b,
		      void (*fn)(bool joined, const struct member *m, void *ctx),
		      void *ctx);

/*
 * Membership by address (case-insensitive) of a finished list, in O(1)
 * per question: what a reload asks of every member of every audience.
 * The set borrows l, which must outlive it; l may be NULL (empty).
 */
struct member_set;
struct member_set *member_set_new(const struct member_list *l);
bool member_set_has(const struct member_set *s, const char *email);
void member_set_free(struct member_set *s);

/* SHA-256 (hex, 65 bytes) of the sorted lower-cased addresses, one per
 * line: what an auditor compares across runs. */
void member_list_digest(const struct member_list *l, char out[65]);

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

/* ---------------------------------------------------------- CSV files */

/* Keep rows whose column holds one of values (compared exactly, trimmed). */
struct members_filter {
	char *column;
	char **values;
	size_t nvalues;
};

struct members_csv {
	char *file;                   /* as written: relative to the plan */
	char *name_col, *email_col;   /* header names, case-insensitive */
	char delimiter;               /* ',' ';' '\t' '|' */
	struct members_filter *filters;
	size_t nfilters;              /* all must hold */
};

/* Frees what spec holds (not spec itself). */
void members_csv_clear(struct members_csv *spec);

/* Which key of the plan's "members" a CSV failure is about. */
enum members_csv_at {
	CSV_AT_MEMBERS,  /* the file's contents */
	CSV_AT_FILE,     /* reading it */
	CSV_AT_NAME,     /* the name column */
	CSV_AT_EMAIL,    /* the email column */
	CSV_AT_FILTER,   /* filters[*filter] */
};

struct members_csv_err {
	enum members_csv_at at;
	size_t filter;
	enum herald_rc rc;            /* H_EINVAL; H_ERUNTIME: cannot read */
	char msg[HERALD_ERR_LEN];
};

/*
 * The file a spec names, relative to the folder of plan_path (new
 * string).  NULL if spec->file is absolute or empty.
 */
char *members_csv_path(const char *plan_path, const char *file);

/*
 * Reads spec's CSV (RFC 4180 quoting with spec's delimiter, optional
 * UTF-8 BOM, CRLF or LF) relative to the folder of plan_path.  The
 * header row names the columns; name and email are looked up
 * case-insensitively, as are the filters' columns.  Rows whose email is
 * empty are skipped and counted in a W-MEMBERS-SKIPPED note; duplicate
 * addresses are kept once (member_list_add).  On success *out is a new
 * finished list.  On failure returns H_EINVAL (H_ERUNTIME when the file
 * cannot be read) with e filled: which key, and a message naming the file
 * and line and, for an unknown column, the columns there are.
 */
enum herald_rc members_csv_read(const char *plan_path, const struct members_csv *spec,
				struct member_list **out, struct members_csv_err *e);

#endif
