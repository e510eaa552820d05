/*
 * witness.h - the head witness: a small file beside the database (PATH.witness)
 * that says how far the chain has been seen to reach.  It is written (and
 * fsynced) at most once a second while herald appends, and at close; a
 * database whose chain is shorter than its witness, or differs at the
 * witnessed row, lost rows after the fact (a deleted WAL, a restored old
 * copy) and is refused.  The witness is a tripwire on the machine, not a
 * proof: checkpoints kept elsewhere are (evidence.h).
 */
#ifndef HERALD_WITNESS_H
#define HERALD_WITNESS_H

#include <stdint.h>

#include "herald/err.h"

struct witness {
	int64_t seq;
	unsigned char hash[32];
	int64_t at;               /* instant it was written */
};

/* PATH.witness (caller frees). */
char *witness_path(const char *db_path);

/* 1 and *w when there is a witness, 0 when there is none, -1 (err set)
 * when it cannot be read or is malformed. */
int witness_read(const char *db_path, struct witness *w, struct herald_err *err);

/* Writes it atomically (temp file, fsync, rename, fsync of the folder). */
enum herald_rc witness_write(const char *db_path, const struct witness *w,
			     struct herald_err *err);

#endif
