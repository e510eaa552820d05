/*
 * err.h - herald's one error idiom.
 *
 * A module's fallible operations return an enum herald_rc and, on failure,
 * write a human-readable message into a caller-owned struct herald_err
 * (fixed size: the error path allocates nothing).  Predicates and small
 * parsers return bool instead, and a channel send reports a struct
 * chan_outcome (chan.h), whose temporary/permanent split the outbox needs.
 * The message never contains secrets: callers format only names and public
 * values.  The CLI exits with the code itself (cli_fail()): the values are
 * design.md's exit codes.
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

/* Prefixes the existing message with "prefix: " (for adding context),
 * cutting the end if the whole does not fit.  err may be NULL. */
void herald_err_prefix(struct herald_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
