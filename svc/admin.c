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

enum herald_rc admin_init(struct store *db, unsigned char hash[32],
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
	sha256(tok, strlen(tok), hash);
	enum herald_rc rc = store_meta_set(db, META_KEY, hash, 32, err);
	if (rc)
		return rc;
	/* Shown once: only the hash is kept. */
	log_event(LOG_WARN, "admin.token", "admin token (shown once, keep it; set HERALD_ADMIN_TOKEN "
		"to choose your own): %s", tok);
	record_event(db, "admin-token-created", "generated on first start; stored hashed", NULL);
	return H_OK;
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
