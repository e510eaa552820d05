/*
 * keys.h - the private keys of a herald installation, kept in a key
 * directory outside the evidence database, so that whoever can edit the
 * database (or holds a backup of it) can neither sign a checkpoint nor
 * forge a link.
 *
 * The directory (default: keys/ beside the database; mode 0700, files
 * 0600) holds:
 *   feeds.key     HMAC key of private feed URLs (token.h)
 *   acks.keys     HMAC keys of acknowledgement links: the current one and
 *                 those retired by a rotation, each valid until its end of
 *                 grace so links already sent keep working
 *   signing.key   Ed25519 private key of checkpoints (PEM, PKCS#8)
 *   signing.pub   its public key (PEM): the file an auditor keeps, and the
 *                 one `verify --checkpoint … --pubkey FILE` trusts
 *   admin.token   the admin token when herald generated it (admin.h); not
 *                 read back: the database keeps its hash
 * The database holds only what is public: each key's id and the signing
 * public key (internal_meta), and an `events` row for every key created or
 * rotated.
 *
 * Keys are made only for a database that has never had any: a database
 * whose keys are recorded but whose directory is missing or holds other
 * keys is refused, rather than silently given new keys (every link and
 * feed URL would break).  A database of the first release, which kept its
 * keys in internal_meta, has them moved out on the first writable open.
 */
#ifndef HERALD_KEYS_H
#define HERALD_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "herald/err.h"
#include "herald/token.h"

struct store;

#define KEYS_ACK_MAX 16
#define KEYS_ID_LEN 16       /* hex characters */

struct keys_ack {
	unsigned char key[32];
	char id[KEYS_ID_LEN + 1];
	int64_t valid_until;     /* 0: the current key */
};

struct keyring {
	char *dir;
	unsigned char feed[32];
	char feed_id[KEYS_ID_LEN + 1];
	struct keys_ack acks[KEYS_ACK_MAX];   /* [0] is the current one */
	size_t nacks;
	unsigned char signing[32];            /* Ed25519 seed */
	unsigned char signing_pub[32];
	char signing_id[KEYS_ID_LEN + 1];
};

/* dir/keys for the database at db_path (caller frees). */
char *keys_default_dir(const char *db_path);

enum keys_open_mode {
	KEYS_USE,      /* the keys must exist (checkpoint, feeds) */
	KEYS_CREATE,   /* make them if the database never had any (run, send) */
};

/*
 * Opens the key directory dir for the database s (writable for
 * KEYS_CREATE and for moving a first-release database's keys out).
 * *out is the caller's (keys_close).  H_ERUNTIME with a message saying
 * what is missing or does not match, and what to do.
 */
enum herald_rc keys_open(const char *dir, struct store *s, enum keys_open_mode mode,
			 struct keyring **out, struct herald_err *err);

/* Wipes the keys from memory and frees k. */
void keys_close(struct keyring *k);

/* The ack token of ackid under the current ack key. */
void keys_ack_token(const struct keyring *k, const char *ackid,
		    char out[TOKEN_ACK_LEN + 1]);

/* Checks an ack token against the current key and every retired one
 * still in its grace at now. */
bool keys_ack_check(const struct keyring *k, const char *token, int64_t now,
		    char ackid_out[TOKEN_ACKID_LEN + 1]);

/* Signs msg with the signing key. */
enum herald_rc keys_sign(const struct keyring *k, const void *msg, size_t n,
			 unsigned char sig[64], struct herald_err *err);

enum keys_kind { KEYS_FEEDS, KEYS_ACKS, KEYS_SIGNING };

/*
 * Replaces one key by a new one, in the directory and as evidence in s:
 * feeds revokes every private feed URL; acks keeps the old key valid for
 * grace seconds (links already sent); signing keeps the old public key as
 * signing-ID.pub (checkpoints made with it still check against it).
 */
enum herald_rc keys_rotate(struct keyring *k, struct store *s, enum keys_kind kind,
			   int64_t now, int64_t grace, struct herald_err *err);

/* Reads an Ed25519 public key from a PEM file. */
enum herald_rc keys_read_pubkey(const char *path, unsigned char pub[32],
				struct herald_err *err);

#endif
