/* admin.c - the admin bearer token (see admin.h). */
#include "herald/admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "herald/log.h"
#include "herald/record.h"
#include "herald/store.h"
#include "herald/token.h"
#include "herald/util.h"

#define META_KEY "admin_token_sha256"

enum herald_rc admin_init(struct store *db, const char *keys_dir, unsigned char hash[32],
			  struct herald_err *err)
{
	const char *env = getenv("HERALD_ADMIN_TOKEN");
	if (env && *env) {
		sha256(env, strlen(env), hash);
		return store_meta_set(db, META_KEY, hash, 32, err);
	}
	size_t len = 0;
	if (store_meta_get(db, META_KEY, hash, 32, &len) && len == 32)
		return H_OK;
	unsigned char raw[32];
	char tok[64];
	random_bytes(raw, sizeof raw);
	base64url(raw, sizeof raw, tok);
	explicit_bzero(raw, sizeof raw);
	sha256(tok, strlen(tok), hash);
	/* The file first: a hash stored for a token nobody can read would
	 * lock the operator out until the database is edited. */
	char *path = xasprintf("%s/admin.token", keys_dir);
	size_t n = strlen(tok);
	tok[n] = '\n';
	enum herald_rc rc = write_file_atomic(path, tok, n + 1, 0600, err);
	explicit_bzero(tok, sizeof tok);
	if (!rc)
		rc = store_meta_set(db, META_KEY, hash, 32, err);
	if (!rc) {
		log_event(LOG_WARN, "admin.token", "admin token generated: it is in %s (mode 0600); "
			  "keep it elsewhere and delete the file, or set HERALD_ADMIN_TOKEN "
			  "to choose your own", path);
		record_event(db, "admin-token-created",
			     "generated on first start; stored hashed, written to the key directory",
			     NULL);
	}
	free(path);
	return rc;
}

bool admin_check(const unsigned char hash[32], const char *authorization)
{
	if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
		return false;
	const char *t = authorization + 7;
	while (*t == ' ')
		t++;
	unsigned char h[32];
	sha256(t, strlen(t), h);
	return ct_equal(h, hash, 32);
}
