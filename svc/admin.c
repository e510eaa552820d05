/* admin.c - the admin bearer token (see admin.h). */
#include "herald/admin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "herald/log.h"
#include "herald/record.h"
#include "herald/store.h"
#include "herald/token.h"
#include "herald/util.h"

#define META_KEY "admin_token_sha256"

#define TOKEN_MIN 32

/*
 * A token another database of this key directory generated: taken, not
 * overwritten (that locked the first database's operator out).  Only a
 * regular file no one else may read: a link could point the token at a
 * log, and a readable file has already leaked it.
 */
static enum herald_rc adopt(const char *path, unsigned char hash[32], struct herald_err *err)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return herald_err_set(err, H_ERUNTIME, "%s: %s: remove it, or set "
				      "HERALD_ADMIN_TOKEN", path, fd < 0 ? strerror(e) :
				      "not a regular file");
	}
	char tok[300];
	ssize_t n = (st.st_mode & 077) ? -1 : read(fd, tok, sizeof tok - 1);
	close(fd);
	while (n > 0 && (tok[n - 1] == '\n' || tok[n - 1] == '\r'))
		n--;
	if (n < TOKEN_MIN) {
		explicit_bzero(tok, sizeof tok);
		return herald_err_set(err, H_ERUNTIME, "%s: %s: remove it, or set HERALD_ADMIN_TOKEN",
				      path, (st.st_mode & 077) ? "readable by others (mode must be 0600)"
				      : "not an admin token of at least 32 characters");
	}
	sha256(tok, (size_t)n, hash);
	explicit_bzero(tok, sizeof tok);
	log_event(LOG_WARN, "admin.token", "admin token taken from %s (made for another "
		  "database of this key directory)", path);
	return H_OK;
}

/* A new token, written to path (0600) before its hash is kept: a hash
 * of a token nobody can read would lock the operator out. */
static enum herald_rc generate(const char *path, unsigned char hash[32], struct herald_err *err)
{
	unsigned char raw[32];
	char tok[64];
	random_bytes(raw, sizeof raw);
	base64url(raw, sizeof raw, tok);
	explicit_bzero(raw, sizeof raw);
	size_t n = strlen(tok);
	sha256(tok, n, hash);
	tok[n] = '\n';
	struct herald_err e;
	herald_err_clear(&e);
	enum herald_rc rc = write_file_atomic(path, tok, n + 1, 0600, &e);
	explicit_bzero(tok, sizeof tok);
	if (rc)
		return herald_err_set(err, H_ERUNTIME, "cannot keep a generated admin token: %s; "
				      "set HERALD_ADMIN_TOKEN (at least 32 characters) instead",
				      e.msg);
	log_event(LOG_WARN, "admin.token", "admin token generated: it is in %s (mode 0600); "
		  "keep it elsewhere and delete the file, or set HERALD_ADMIN_TOKEN to choose "
		  "your own", path);
	return H_OK;
}

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
	char *path = xasprintf("%s/admin.token", keys_dir);
	struct stat st;
	bool exists = lstat(path, &st) == 0;
	enum herald_rc rc = exists ? adopt(path, hash, err) : generate(path, hash, err);
	free(path);
	if (!rc)
		rc = store_meta_set(db, META_KEY, hash, 32, err);
	if (!rc)
		record_event(db, "admin-token-created", exists
			     ? "taken from the key directory's admin.token; stored hashed"
			     : "generated on first start; stored hashed, written to the key directory",
			     NULL);
	return rc;
}

bool admin_check_store(struct store *s, const char *authorization)
{
	unsigned char want[32];
	size_t len = 0;
	return store_meta_get(s, META_KEY, want, sizeof want, &len) && len == 32 &&
	       admin_check(want, authorization);
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
