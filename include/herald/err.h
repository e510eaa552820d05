/*
 * err.h - herald's one error idiom.
 *
 * Every fallible function returns an enum herald_rc and, on failure, writes a
 * human-readable message into a caller-owned struct herald_err.  The message
 * never contains secrets: callers format only names and public values.  The
 * CLI maps the code to the exit codes of design.md (rc values are chosen so
 * that the mapping is the identity).
 */
#ifndef HERALD_ERR_H
#define HERALD_ERR_H

#include <stddef.h>

enum herald_rc {
	H_OK = 0,
	H_EINVAL = 1,   /* plan or data invalid, or tampering found: exit 1 */
	H_EUSAGE = 2,   /* bad command line: exit 2 */
	H_ERUNTIME = 3, /* I/O, database, network: exit 3 */
};

#define HERALD_ERR_LEN 1024

struct herald_err {
	enum herald_rc rc;
	char msg[HERALD_ERR_LEN];
};

/* Clears err (rc H_OK, empty message).  err may be NULL. */
void herald_err_clear(struct herald_err *err);

/*
 * Records a failure and returns rc, so callers can write
 * `return herald_err_set(err, H_EINVAL, "…", …);`.  err may be NULL.
 */
enum herald_rc herald_err_set(struct herald_err *err, enum herald_rc rc,
			      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with "prefix: " (for adding context). */
void herald_err_prefix(struct herald_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
