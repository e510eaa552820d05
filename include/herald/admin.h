/*
 * admin.h - the admin bearer token of the HTTP API (manual send, report).
 *
 * HERALD_ADMIN_TOKEN from the environment, or else one generated on first
 * start and written to admin.token (mode 0600) in the key directory: never
 * to the log, which journald and log shippers keep and copy.  Only its
 * SHA-256 is kept in the database (internal_meta "admin_token_sha256");
 * checks are constant time.
 */
#ifndef HERALD_ADMIN_H
#define HERALD_ADMIN_H

#include <stdbool.h>

#include "herald/err.h"

struct store;

/* Sets up the token (see above), a generated one written into keys_dir;
 * hash gets its SHA-256. */
enum herald_rc admin_init(struct store *s, const char *keys_dir, unsigned char hash[32],
			  struct herald_err *err);

/* True if the Authorization header value is "Bearer TOKEN" with the token
 * whose SHA-256 is hash. */
bool admin_check(const unsigned char hash[32], const char *authorization);

/* admin_check against the hash s keeps (false when it keeps none): for
 * handlers that read the database on a connection of their own. */
bool admin_check_store(struct store *s, const char *authorization);

#endif
