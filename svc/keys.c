/*
 * keys.c - the key directory (see keys.h).
 *
 * Text formats, one value per line, so an operator can see what is there
 * (and which key is which) without tools:
 *   feeds.key   "id HEXID\nkey HEX\n"
 *   acks.keys   one line "HEXID HEX VALID_UNTIL" per key, current first
 *               (VALID_UNTIL 0)
 * signing.key and signing.pub are PEM, as OpenSSL and every auditor's tool
 * read them.
 */
#include "herald/keys.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "herald/clock.h"
#include "herald/store.h"
#include "herald/util.h"

#define META_FEED_ID "keys_feed_id"
#define META_ACK_ID "keys_ack_id"
#define META_SIGNING_PUB "keys_signing_pub"

char *keys_default_dir(const char *db_path)
{
	const char *slash = strrchr(db_path, '/');
	if (!slash)
		return xstrdup("keys");
	return xasprintf("%.*s/keys", (int)(slash - db_path), db_path);
}

static void key_id(const char *kind, const unsigned char *key, char out[KEYS_ID_LEN + 1])
{
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "herald key %s", kind);
	buf_addc(&b, '\0');
	buf_add(&b, key, 32);
	unsigned char h[32];
	sha256(b.data, b.len, h);
	hex_encode(h, KEYS_ID_LEN / 2, out);
	buf_free(&b);
}

static char *path_in(const struct keyring *k, const char *name)
{
	return xasprintf("%s/%s", k->dir, name);
}

/* ----------------------------------------------------------- Ed25519 */

static enum herald_rc ed25519_public(const unsigned char seed[32], unsigned char pub[32],
				     struct herald_err *err)
{
	EVP_PKEY *p = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	size_t len = 32;
	bool ok = p && EVP_PKEY_get_raw_public_key(p, pub, &len) == 1 && len == 32;
	EVP_PKEY_free(p);
	return ok ? H_OK : herald_err_set(err, H_ERUNTIME, "Ed25519: OpenSSL error");
}

/* PEM text of the private (pub false) or public key of seed. */
static char *pem_of(const unsigned char seed[32], bool pub)
{
	EVP_PKEY *p = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	BIO *b = BIO_new(BIO_s_mem());
	char *out = NULL;
	if (p && b && (pub ? PEM_write_bio_PUBKEY(b, p)
			   : PEM_write_bio_PrivateKey(b, p, NULL, NULL, 0, NULL, NULL))) {
		char *data;
		long n = BIO_get_mem_data(b, &data);
		out = xstrndup(data, (size_t)n);
	}
	BIO_free(b);
	EVP_PKEY_free(p);
	return out;
}

static EVP_PKEY *pem_read(const char *path, bool pub, struct herald_err *err)
{
	char *data;
	size_t len;
	if (read_file(path, 1 << 16, &data, &len) != 0) {
		herald_err_set(err, H_ERUNTIME, "%s: %s", path, strerror(errno));
		return NULL;
	}
	BIO *b = BIO_new_mem_buf(data, (int)len);
	EVP_PKEY *p = b ? (pub ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL)
			       : PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) : NULL;
	BIO_free(b);
	explicit_bzero(data, len);
	free(data);
	if (!p || EVP_PKEY_id(p) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(p);
		herald_err_set(err, H_ERUNTIME, "%s: not an Ed25519 %s key in PEM", path,
			       pub ? "public" : "private");
		return NULL;
	}
	return p;
}

enum herald_rc keys_read_pubkey(const char *path, unsigned char pub[32],
				struct herald_err *err)
{
	EVP_PKEY *p = pem_read(path, true, err);
	if (!p)
		return H_ERUNTIME;
	size_t len = 32;
	bool ok = EVP_PKEY_get_raw_public_key(p, pub, &len) == 1 && len == 32;
	EVP_PKEY_free(p);
	return ok ? H_OK : herald_err_set(err, H_ERUNTIME, "%s: not an Ed25519 public key", path);
}

enum herald_rc keys_sign(const struct keyring *k, const void *msg, size_t n,
			 unsigned char sig[64], struct herald_err *err)
{
	EVP_PKEY *p = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, k->signing, 32);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t slen = 64;
	bool ok = p && md && EVP_DigestSignInit(md, NULL, NULL, NULL, p) == 1 &&
		  EVP_DigestSign(md, sig, &slen, msg, n) == 1 && slen == 64;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(p);
	return ok ? H_OK : herald_err_set(err, H_ERUNTIME, "signing: OpenSSL error");
}

/* ------------------------------------------------------------- files */

static enum herald_rc write_secret(const struct keyring *k, const char *name,
				   const char *text, struct herald_err *err)
{
	char *p = path_in(k, name);
	enum herald_rc rc = write_file_atomic(p, text, strlen(text), 0600, err);
	free(p);
	return rc;
}

static enum herald_rc write_feed(const struct keyring *k, struct herald_err *err)
{
	char hex[65];
	hex_encode(k->feed, 32, hex);
	char *t = xasprintf("id %s\nkey %s\n", k->feed_id, hex);
	enum herald_rc rc = write_secret(k, "feeds.key", t, err);
	explicit_bzero(t, strlen(t));
	explicit_bzero(hex, sizeof hex);
	free(t);
	return rc;
}

static enum herald_rc write_acks(const struct keyring *k, struct herald_err *err)
{
	struct buf b;
	buf_init(&b);
	for (size_t i = 0; i < k->nacks; i++) {
		char hex[65];
		hex_encode(k->acks[i].key, 32, hex);
		buf_printf(&b, "%s %s %" PRId64 "\n", k->acks[i].id, hex, k->acks[i].valid_until);
		explicit_bzero(hex, sizeof hex);
	}
	enum herald_rc rc = write_secret(k, "acks.keys", b.data ? b.data : "", err);
	if (b.data)
		explicit_bzero(b.data, b.len);
	buf_free(&b);
	return rc;
}

static enum herald_rc write_signing(const struct keyring *k, struct herald_err *err)
{
	char *priv = pem_of(k->signing, false), *pub = pem_of(k->signing, true);
	enum herald_rc rc = priv && pub ? H_OK : herald_err_set(err, H_ERUNTIME, "PEM: OpenSSL error");
	if (!rc)
		rc = write_secret(k, "signing.key", priv, err);
	if (!rc)
		rc = write_secret(k, "signing.pub", pub, err);
	if (priv) {
		explicit_bzero(priv, strlen(priv));
		free(priv);
	}
	free(pub);
	return rc;
}

/* Reads "WORD VALUE" lines of a small file into a buffer; -1 if absent. */
static int slurp(const struct keyring *k, const char *name, char **out,
		 struct herald_err *err)
{
	char *p = path_in(k, name);
	size_t len;
	int r = read_file(p, 1 << 16, out, &len);
	if (r != 0 && errno != ENOENT)
		herald_err_set(err, H_ERUNTIME, "%s: %s", p, strerror(errno));
	free(p);
	return r != 0 ? (errno == ENOENT ? -1 : -2) : 0;
}

static enum herald_rc read_feed(struct keyring *k, struct herald_err *err)
{
	char *t;
	if (slurp(k, "feeds.key", &t, err))
		return herald_err_set(err, H_ERUNTIME, "%s/feeds.key: cannot be read", k->dir);
	char id[64] = "", hex[80] = "";
	bool ok = sscanf(t, "id %63s key %79s", id, hex) == 2 && hex_decode(hex, k->feed, 32);
	explicit_bzero(t, strlen(t));
	explicit_bzero(hex, sizeof hex);
	free(t);
	if (!ok)
		return herald_err_set(err, H_ERUNTIME, "%s/feeds.key: malformed", k->dir);
	key_id("feeds", k->feed, k->feed_id);
	return H_OK;
}

static enum herald_rc read_acks(struct keyring *k, struct herald_err *err)
{
	char *t;
	if (slurp(k, "acks.keys", &t, err))
		return herald_err_set(err, H_ERUNTIME, "%s/acks.keys: cannot be read", k->dir);
	k->nacks = 0;
	enum herald_rc rc = H_OK;
	for (char *line = strtok(t, "\n"); line && !rc; line = strtok(NULL, "\n")) {
		char id[64], hex[80];
		long long until;
		if (k->nacks == KEYS_ACK_MAX || sscanf(line, "%63s %79s %lld", id, hex, &until) != 3 ||
		    !hex_decode(hex, k->acks[k->nacks].key, 32))
			rc = herald_err_set(err, H_ERUNTIME, "%s/acks.keys: malformed", k->dir);
		else {
			key_id("acks", k->acks[k->nacks].key, k->acks[k->nacks].id);
			k->acks[k->nacks++].valid_until = until;
		}
		explicit_bzero(hex, sizeof hex);
	}
	explicit_bzero(t, strlen(t));
	free(t);
	if (!rc && (k->nacks == 0 || k->acks[0].valid_until != 0))
		rc = herald_err_set(err, H_ERUNTIME, "%s/acks.keys: no current key", k->dir);
	return rc;
}

static enum herald_rc read_signing(struct keyring *k, struct herald_err *err)
{
	char *p = path_in(k, "signing.key");
	EVP_PKEY *key = pem_read(p, false, err);
	free(p);
	if (!key)
		return H_ERUNTIME;
	size_t len = 32;
	bool ok = EVP_PKEY_get_raw_private_key(key, k->signing, &len) == 1 && len == 32;
	EVP_PKEY_free(key);
	if (!ok)
		return herald_err_set(err, H_ERUNTIME, "%s/signing.key: not an Ed25519 key", k->dir);
	enum herald_rc rc = ed25519_public(k->signing, k->signing_pub, err);
	if (!rc)
		key_id("signing", k->signing_pub, k->signing_id);
	return rc;
}

/* ------------------------------------------------------------ evidence */

static void meta_text(struct store *s, const char *key, char *out, size_t cap)
{
	size_t len = 0;
	out[0] = '\0';
	if (store_meta_get(s, key, (unsigned char *)out, cap - 1, &len))
		out[len] = '\0';
}

/* Records the public parts of k in s (meta and an event), in one
 * transaction. */
static enum herald_rc record_keys(const struct keyring *k, struct store *s,
				  const char *what, struct herald_err *err)
{
	char pub[65], detail[512];
	hex_encode(k->signing_pub, 32, pub);
	snprintf(detail, sizeof detail, "%s: feeds %s, acks %s, signing %s (public key %s), in %s",
		 what, k->feed_id, k->acks[0].id, k->signing_id, pub, k->dir);
	enum herald_rc rc = store_begin(s, err);
	if (rc)
		return rc;
	rc = store_meta_set(s, META_FEED_ID, (const unsigned char *)k->feed_id, KEYS_ID_LEN, err);
	if (!rc)
		rc = store_meta_set(s, META_ACK_ID, (const unsigned char *)k->acks[0].id,
				    KEYS_ID_LEN, err);
	if (!rc)
		rc = store_meta_set(s, META_SIGNING_PUB, k->signing_pub, 32, err);
	if (!rc)
		rc = store_event_add(s, clock_now(), "keys", detail, NULL, err);
	/* The first release kept the private keys here: they leave. */
	if (!rc)
		rc = store_meta_delete(s, "server_key", err);
	if (!rc)
		rc = store_meta_delete(s, "checkpoint_key", err);
	if (rc) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s, err);
}

/* ------------------------------------------------------------ opening */

static enum herald_rc make_dir(const char *dir, struct herald_err *err)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return herald_err_set(err, H_ERUNTIME, "%s: %s", dir, strerror(errno));
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return herald_err_set(err, H_ERUNTIME, "%s: not a directory", dir);
	/* Only its owner may read the keys. */
	if ((st.st_mode & 077) && chmod(dir, 0700) != 0)
		return herald_err_set(err, H_ERUNTIME, "%s: %s", dir, strerror(errno));
	return H_OK;
}

/* New keys; a first-release database's feed/ack key and signing key are
 * taken over, so links and checkpoints already out keep working. */
static enum herald_rc create_keys(struct keyring *k, struct store *s, bool *legacy,
				  struct herald_err *err)
{
	size_t len = 0;
	unsigned char old[32];
	*legacy = store_meta_get(s, "server_key", old, 32, &len) && len == 32;
	if (*legacy)
		memcpy(k->feed, old, 32);
	else
		random_bytes(k->feed, 32);
	memcpy(k->acks[0].key, k->feed, 32);
	if (!*legacy)
		random_bytes(k->acks[0].key, 32);
	k->acks[0].valid_until = 0;
	k->nacks = 1;
	len = 0;
	if (!(store_meta_get(s, "checkpoint_key", k->signing, 32, &len) && len == 32))
		random_bytes(k->signing, 32);
	explicit_bzero(old, sizeof old);
	key_id("feeds", k->feed, k->feed_id);
	key_id("acks", k->acks[0].key, k->acks[0].id);
	enum herald_rc rc = ed25519_public(k->signing, k->signing_pub, err);
	if (!rc)
		key_id("signing", k->signing_pub, k->signing_id);
	if (!rc)
		rc = make_dir(k->dir, err);
	if (!rc)
		rc = write_feed(k, err);
	if (!rc)
		rc = write_acks(k, err);
	if (!rc)
		rc = write_signing(k, err);
	return rc;
}

/* The keys of a first-release database, from its internal_meta. */
static enum herald_rc legacy_keys(struct keyring *k, struct store *s, struct herald_err *err)
{
	size_t len = 0;
	if (!store_meta_get(s, "server_key", k->feed, 32, &len) || len != 32)
		return herald_err_set(err, H_ERUNTIME, "no server key in %s", store_path(s));
	memcpy(k->acks[0].key, k->feed, 32);
	k->nacks = 1;
	key_id("feeds", k->feed, k->feed_id);
	key_id("acks", k->acks[0].key, k->acks[0].id);
	len = 0;
	if (store_meta_get(s, "checkpoint_key", k->signing, 32, &len) && len == 32) {
		enum herald_rc rc = ed25519_public(k->signing, k->signing_pub, err);
		if (rc)
			return rc;
		key_id("signing", k->signing_pub, k->signing_id);
	}
	return H_OK;
}

static enum herald_rc load_keys(struct keyring *k, struct herald_err *err)
{
	enum herald_rc rc = read_feed(k, err);
	if (!rc)
		rc = read_acks(k, err);
	if (!rc)
		rc = read_signing(k, err);
	return rc;
}

/* The keys in the directory must be the ones the database recorded. */
static enum herald_rc check_recorded(const struct keyring *k, const char *feed_id,
				     const char *db, struct herald_err *err)
{
	if (strcmp(feed_id, k->feed_id) == 0)
		return H_OK;
	return herald_err_set(err, H_ERUNTIME,
			      "the keys in %s are not those of %s (feed key %s, the database "
			      "recorded %s): give herald this database's key directory (--keys)",
			      k->dir, db, k->feed_id, feed_id);
}

enum herald_rc keys_open(const char *dir, struct store *s, enum keys_open_mode mode,
			 struct keyring **out, struct herald_err *err)
{
	struct keyring *k = xcalloc(1, sizeof *k);
	k->dir = xstrdup(dir);
	char recorded[KEYS_ID_LEN + 1];
	meta_text(s, META_FEED_ID, recorded, sizeof recorded);
	char *probe = path_in(k, "feeds.key");
	struct stat st;
	bool present = stat(probe, &st) == 0;
	free(probe);
	enum herald_rc rc = H_OK;
	size_t llen = 0;
	unsigned char legacy_key[32];
	bool legacy = store_meta_get(s, "server_key", legacy_key, 32, &llen) && llen == 32;
	if (present) {
		rc = load_keys(k, err);
		/* A first-release database brings its own keys: they are the
		 * ones its links were made with. */
		if (!rc && legacy && memcmp(legacy_key, k->feed, 32) != 0)
			rc = herald_err_set(err, H_ERUNTIME,
					    "%s keeps its own keys (it was written by herald 0.1) but "
					    "%s holds others: name another key directory with --keys",
					    store_path(s), dir);
		else if (!rc && recorded[0])
			rc = check_recorded(k, recorded, store_path(s), err);
		else if (!rc && !store_is_readonly(s))
			rc = record_keys(k, s, "keys in use", err);
	} else if (recorded[0]) {
		rc = herald_err_set(err, H_ERUNTIME,
				    "%s: this database's keys (feed key %s) are not in %s: restore "
				    "the key directory from its backup, or name it with --keys; new "
				    "keys would break every link and feed URL already sent",
				    store_path(s), recorded, dir);
	} else {
		if (!legacy && mode == KEYS_USE)
			rc = herald_err_set(err, H_ERUNTIME,
					    "no keys in %s: `herald run` makes them on its first start "
					    "(or name the directory with --keys)", dir);
		else if (!legacy && store_is_readonly(s))
			rc = herald_err_set(err, H_ERUNTIME, "no keys in %s, and %s is open "
					    "read-only", dir, store_path(s));
		else if (store_is_readonly(s))
			/* A first-release database read as it is: its keys are
			 * used in place; the next writable open moves them out. */
			rc = legacy_keys(k, s, err);
		else if (!(rc = create_keys(k, s, &legacy, err)))
			rc = record_keys(k, s, legacy ? "moved out of the database" : "created", err);
	}
	explicit_bzero(legacy_key, sizeof legacy_key);
	if (rc) {
		keys_close(k);
		return rc;
	}
	*out = k;
	return H_OK;
}

void keys_close(struct keyring *k)
{
	if (!k)
		return;
	free(k->dir);
	explicit_bzero(k, sizeof *k);
	free(k);
}

/* --------------------------------------------------------------- acks */

void keys_ack_token(const struct keyring *k, const char *ackid,
		    char out[TOKEN_ACK_LEN + 1])
{
	token_ack(k->acks[0].key, ackid, out);
}

bool keys_ack_check(const struct keyring *k, const char *token, int64_t now,
		    char ackid_out[TOKEN_ACKID_LEN + 1])
{
	for (size_t i = 0; i < k->nacks; i++)
		if ((k->acks[i].valid_until == 0 || now < k->acks[i].valid_until) &&
		    token_ack_check(k->acks[i].key, token, ackid_out))
			return true;
	return false;
}

/* ------------------------------------------------------------ rotation */

static enum herald_rc rotate_acks(struct keyring *k, int64_t now, int64_t grace,
				  struct herald_err *err)
{
	/* Retired keys past their grace are dropped; the oldest goes first
	 * if the ring is full. */
	size_t n = 0;
	for (size_t i = 0; i < k->nacks; i++)
		if (k->acks[i].valid_until == 0 || k->acks[i].valid_until > now)
			k->acks[n++] = k->acks[i];
	if (n == KEYS_ACK_MAX)
		n--;
	memmove(&k->acks[1], &k->acks[0], n * sizeof k->acks[0]);
	k->acks[1].valid_until = now + grace;
	random_bytes(k->acks[0].key, 32);
	k->acks[0].valid_until = 0;
	key_id("acks", k->acks[0].key, k->acks[0].id);
	k->nacks = n + 1;
	return write_acks(k, err);
}

static enum herald_rc rotate_signing(struct keyring *k, struct herald_err *err)
{
	char *pub = pem_of(k->signing, true);
	char name[64];
	snprintf(name, sizeof name, "signing-%s.pub", k->signing_id);
	enum herald_rc rc = pub ? write_secret(k, name, pub, err)
				: herald_err_set(err, H_ERUNTIME, "PEM: OpenSSL error");
	free(pub);
	if (rc)
		return rc;
	random_bytes(k->signing, 32);
	if ((rc = ed25519_public(k->signing, k->signing_pub, err)))
		return rc;
	key_id("signing", k->signing_pub, k->signing_id);
	return write_signing(k, err);
}

enum herald_rc keys_rotate(struct keyring *k, struct store *s, enum keys_kind kind,
			   int64_t now, int64_t grace, struct herald_err *err)
{
	char what[160];
	enum herald_rc rc;
	switch (kind) {
	case KEYS_FEEDS:
		snprintf(what, sizeof what, "rotated the feed key (was %s: every private feed "
			 "URL is revoked)", k->feed_id);
		random_bytes(k->feed, 32);
		key_id("feeds", k->feed, k->feed_id);
		rc = write_feed(k, err);
		break;
	case KEYS_ACKS:
		snprintf(what, sizeof what, "rotated the ack key (%s stays valid for links "
			 "already sent until %" PRId64 ")", k->acks[0].id, now + grace);
		rc = rotate_acks(k, now, grace, err);
		break;
	case KEYS_SIGNING:
		snprintf(what, sizeof what, "rotated the signing key (was %s, kept as "
			 "signing-%s.pub)", k->signing_id, k->signing_id);
		rc = rotate_signing(k, err);
		break;
	default:
		rc = herald_err_set(err, H_EUSAGE, "unknown key kind");
	}
	return rc ? rc : record_keys(k, s, what, err);
}
