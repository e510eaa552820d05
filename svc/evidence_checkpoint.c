/*
 * evidence_checkpoint.c - signed statements of the chain head, and checking
 * that a log only grew since one (see evidence.h).
 */
#include "herald/evidence.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "herald/clock.h"
#include "herald/keys.h"
#include "herald/store.h"
#include "herald/token.h"

#define CKPT_TITLE "herald evidence checkpoint\n"

/* The database's id (random, made on first use): a checkpoint names the
 * log it is about. */
enum herald_rc evidence_db_id(struct store *s, unsigned char id[16], struct herald_err *err)
{
	size_t len = 0;
	if (store_meta_get(s, "db_id", id, 16, &len) && len == 16)
		return H_OK;
	if (store_is_readonly(s))
		return herald_err_set(err, H_EINVAL, "this database has never made a checkpoint");
	enum herald_rc rc = store_begin(s, err);
	if (rc)
		return rc;
	if (store_meta_get(s, "db_id", id, 16, &len) && len == 16) {
		store_rollback(s);
		return H_OK;
	}
	random_bytes(id, 16);
	if ((rc = store_meta_set(s, "db_id", id, 16, err))) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s, err);
}

enum herald_rc evidence_checkpoint(struct store *s, const struct keyring *k,
				   const struct evidence_head *head,
				   struct buf *out, struct herald_err *err)
{
	unsigned char id[16], sig[64];
	enum herald_rc rc = evidence_db_id(s, id, err);
	if (rc)
		return rc;
	char idhex[33], pubhex[65], sighex[129], now[32];
	hex_encode(id, 16, idhex);
	hex_encode(k->signing_pub, 32, pubhex);
	clock_now_text(now);
	struct buf m;
	buf_init(&m);
	buf_printf(&m,
		   CKPT_TITLE
		   "database: %s\n"
		   "head-seq: %" PRId64 "\n"
		   "head-sha256: %s\n"
		   "time: %s\n"
		   "key-id: %s\n"
		   "public-key: %s\n",
		   idhex, head->seq, head->hex, now, k->signing_id, pubhex);
	if ((rc = keys_sign(k, m.data, m.len, sig, err))) {
		buf_free(&m);
		return rc;
	}
	hex_encode(sig, 64, sighex);
	buf_add(out, m.data, m.len);
	buf_printf(out, "signature: %s\n", sighex);
	buf_free(&m);
	return H_OK;
}

/* The value of "name: " in the signed part of a statement, into out. */
static bool stmt_field(const char *msg, size_t len, const char *name,
		       char *out, size_t cap)
{
	size_t nl = strlen(name);
	for (const char *p = msg; p < msg + len;) {
		const char *e = memchr(p, '\n', (size_t)(msg + len - p));
		if (!e)
			break;
		if ((size_t)(e - p) > nl + 2 && memcmp(p, name, nl) == 0 &&
		    p[nl] == ':' && p[nl + 1] == ' ') {
			size_t vl = (size_t)(e - p) - nl - 2;
			if (vl >= cap)
				return false;
			memcpy(out, p + nl + 2, vl);
			out[vl] = '\0';
			return true;
		}
		p = e + 1;
	}
	return false;
}

enum herald_rc evidence_check_checkpoint(struct store *s, const char *stmt,
					 const unsigned char trusted[32],
					 int64_t *seq_out, struct herald_err *err)
{
	if (strncmp(stmt, CKPT_TITLE, strlen(CKPT_TITLE)) != 0)
		return herald_err_set(err, H_EINVAL, "not a herald checkpoint statement");
	const char *sigline = strstr(stmt, "\nsignature: ");
	if (!sigline)
		return herald_err_set(err, H_EINVAL, "checkpoint: no signature line");
	size_t mlen = (size_t)(sigline - stmt) + 1;
	char idhex[64], seqs[32], hashhex[80], pubhex[80], sighex[160];
	const char *sv = sigline + strlen("\nsignature: ");
	size_t sl = strcspn(sv, "\r\n");
	if (sl >= sizeof sighex)
		return herald_err_set(err, H_EINVAL, "checkpoint: the signature is malformed");
	memcpy(sighex, sv, sl);
	sighex[sl] = '\0';
	unsigned char id[16], hash[32], pub[32], sig[64];
	if (!stmt_field(stmt, mlen, "database", idhex, sizeof idhex) ||
	    !stmt_field(stmt, mlen, "head-seq", seqs, sizeof seqs) ||
	    !stmt_field(stmt, mlen, "head-sha256", hashhex, sizeof hashhex) ||
	    !stmt_field(stmt, mlen, "public-key", pubhex, sizeof pubhex) ||
	    !hex_decode(idhex, id, 16) || !hex_decode(hashhex, hash, 32) ||
	    !hex_decode(pubhex, pub, 32) || !hex_decode(sighex, sig, 64))
		return herald_err_set(err, H_EINVAL, "checkpoint: a field is missing or malformed");
	char *end;
	errno = 0;
	long long seq = strtoll(seqs, &end, 10);
	if (errno || *end || seq < 0)
		return herald_err_set(err, H_EINVAL, "checkpoint: head-seq is malformed");

	/* Only the key the auditor holds is trusted, never the one the
	 * statement names: a forger can name any key. */
	if (memcmp(pub, trusted, 32) != 0)
		return herald_err_set(err, H_EINVAL,
				      "checkpoint: signed by another key than the one given "
				      "(public-key %s)", pubhex);
	EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, trusted, 32);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool good = k && md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) == 1 &&
		    EVP_DigestVerify(md, sig, 64, (const unsigned char *)stmt, mlen) == 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	if (!good)
		return herald_err_set(err, H_EINVAL,
				      "checkpoint: the signature is not valid (the statement was altered)");

	unsigned char myid[16];
	size_t idlen = 0;
	if (!store_meta_get(s, "db_id", myid, 16, &idlen) || idlen != 16)
		return herald_err_set(err, H_EINVAL, "checkpoint: this database has never made one");
	if (memcmp(myid, id, 16) != 0)
		return herald_err_set(err, H_EINVAL, "checkpoint: made for another database (%s)",
				      idhex);
	if (seq_out)
		*seq_out = seq;
	if (seq == 0)
		return H_OK;
	bool found;
	unsigned char now[32];
	enum herald_rc rc;
	if ((rc = store_row_hash_at(s, seq, now, &found, err)))
		return rc;
	if (!found)
		return herald_err_set(err, H_EINVAL,
				      "seq %lld: the checkpointed row is gone (the log was cut back)", seq);
	if (memcmp(now, hash, 32) != 0)
		return herald_err_set(err, H_EINVAL,
				      "seq %lld: its hash is no longer the checkpointed one "
				      "(the log was rewritten up to there)", seq);
	return H_OK;
}


struct stmt_file {
	char *path, *text;
	int64_t seq;
};

static int by_seq(const void *a, const void *b)
{
	const struct stmt_file *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The head-seq of a statement, or -1. */
static int64_t stmt_seq(const char *text)
{
	const char *p = strstr(text, "\nhead-seq: ");
	return p ? strtoll(p + strlen("\nhead-seq: "), NULL, 10) : -1;
}

enum herald_rc evidence_check_checkpoint_dir(struct store *s, const char *dir,
					     const unsigned char trusted[32],
					     int64_t *n_out, int64_t *last,
					     struct herald_err *err)
{
	DIR *d = opendir(dir);
	if (!d)
		return herald_err_set(err, H_ERUNTIME, "checkpoints: %s: %s", dir, strerror(errno));
	struct stmt_file *v = NULL;
	size_t n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char *path = xasprintf("%s/%s", dir, e->d_name);
		char *text;
		size_t len;
		if (read_file(path, 1 << 16, &text, &len) != 0) {
			free(path);
			continue;
		}
		if (strncmp(text, CKPT_TITLE, strlen(CKPT_TITLE)) != 0) {
			free(text);
			free(path);
			continue;
		}
		v = xreallocarray(v, n + 1, sizeof *v);
		v[n++] = (struct stmt_file){ path, text, stmt_seq(text) };
	}
	closedir(d);
	enum herald_rc rc = n ? H_OK
			      : herald_err_set(err, H_EINVAL, "checkpoints: none in %s", dir);
	if (n)
		qsort(v, n, sizeof *v, by_seq);
	for (size_t i = 0; !rc && i < n; i++) {
		rc = evidence_check_checkpoint(s, v[i].text, trusted, NULL, err);
		if (rc)
			herald_err_prefix(err, "%s", v[i].path);
	}
	if (!rc) {
		*n_out = (int64_t)n;
		*last = v[n - 1].seq;
	}
	for (size_t i = 0; i < n; i++) {
		free(v[i].path);
		free(v[i].text);
	}
	free(v);
	return rc;
}
