/*
 * evidence_checkpoint.c - signed statements of the chain head, and checking
 * that a log only grew since one (see evidence.h).
 */
#include "herald/evidence.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "herald/clock.h"
#include "herald/store.h"
#include "herald/token.h"

#define CKPT_TITLE "herald evidence checkpoint\n"

/* Loads (creating on first use) the signing key and the database id. */
static enum herald_rc ckpt_keys(struct store *s, bool create,
				unsigned char priv[32], unsigned char id[16],
				struct herald_err *err)
{
	size_t l1 = 0, l2 = 0;
	if (store_meta_get(s, "checkpoint_key", priv, 32, &l1) && l1 == 32 &&
	    store_meta_get(s, "db_id", id, 16, &l2) && l2 == 16)
		return H_OK;
	if (!create)
		return herald_err_set(err, H_EINVAL,
				      "this database has never made a checkpoint");
	enum herald_rc rc = store_begin(s, err);
	if (rc)
		return rc;
	if (store_meta_get(s, "checkpoint_key", priv, 32, &l1) && l1 == 32 &&
	    store_meta_get(s, "db_id", id, 16, &l2) && l2 == 16) {
		store_rollback(s);
		return H_OK;
	}
	random_bytes(priv, 32);
	random_bytes(id, 16);
	rc = store_meta_set(s, "checkpoint_key", priv, 32, err);
	if (!rc)
		rc = store_meta_set(s, "db_id", id, 16, err);
	if (rc) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s, err);
}

static enum herald_rc ed25519_public(const unsigned char priv[32],
				     unsigned char pub[32],
				     struct herald_err *err)
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv, 32);
	size_t len = 32;
	bool ok = k && EVP_PKEY_get_raw_public_key(k, pub, &len) == 1 && len == 32;
	EVP_PKEY_free(k);
	return ok ? H_OK : herald_err_set(err, H_ERUNTIME, "Ed25519 key: OpenSSL error");
}

enum herald_rc evidence_checkpoint(struct store *s,
				   const struct evidence_head *head,
				   struct buf *out, struct herald_err *err)
{
	unsigned char priv[32], id[16], pub[32], sig[64];
	enum herald_rc rc = ckpt_keys(s, true, priv, id, err);
	if (!rc)
		rc = ed25519_public(priv, pub, err);
	if (rc)
		return rc;
	char idhex[33], pubhex[65], sighex[129], now[32];
	hex_encode(id, 16, idhex);
	hex_encode(pub, 32, pubhex);
	clock_now_text(now);
	struct buf m;
	buf_init(&m);
	buf_printf(&m,
		   CKPT_TITLE
		   "database: %s\n"
		   "head-seq: %" PRId64 "\n"
		   "head-sha256: %s\n"
		   "time: %s\n"
		   "public-key: %s\n",
		   idhex, head->seq, head->hex, now, pubhex);
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv, 32);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t slen = sizeof sig;
	bool ok = k && md && EVP_DigestSignInit(md, NULL, NULL, NULL, k) == 1 &&
		  EVP_DigestSign(md, sig, &slen, (const unsigned char *)m.data, m.len) == 1 &&
		  slen == 64;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	memset(priv, 0, sizeof priv);
	if (!ok) {
		buf_free(&m);
		return herald_err_set(err, H_ERUNTIME, "Ed25519 signature: OpenSSL error");
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
					 struct herald_err *err)
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

	EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool good = k && md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) == 1 &&
		    EVP_DigestVerify(md, sig, 64, (const unsigned char *)stmt, mlen) == 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	if (!good)
		return herald_err_set(err, H_EINVAL,
				      "checkpoint: the signature is not valid (the statement was altered)");

	unsigned char priv[32], myid[16], mypub[32];
	enum herald_rc rc = ckpt_keys(s, false, priv, myid, err);
	if (!rc)
		rc = ed25519_public(priv, mypub, err);
	memset(priv, 0, sizeof priv);
	if (rc)
		return rc;
	if (memcmp(myid, id, 16) != 0)
		return herald_err_set(err, H_EINVAL, "checkpoint: made for another database (%s)",
				      idhex);
	if (memcmp(mypub, pub, 32) != 0)
		return herald_err_set(err, H_EINVAL,
				      "checkpoint: signed by a key this database does not hold");
	if (seq == 0)
		return H_OK;
	bool found;
	unsigned char now[32];
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

