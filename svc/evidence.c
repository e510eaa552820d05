/*
 * evidence.c - verify, checkpoint, export and back up the evidence log
 * (see evidence.h; the schema and the chain are in db.h).
 *
 * Verification reads each evidence table once, in seq order, with one
 * prepared statement per table, and merges the six streams by seq: the
 * chain is global, so a row is checked against whichever row of whichever
 * table came before it.
 */
#include "herald/clock.h"
#include "herald/evidence.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "herald/db.h"
#include "herald/record.h"
#include "herald/token.h"

#define MAX_COLS 32

static enum herald_rc sql_fail(sqlite3 *h, struct herald_err *err,
			       const char *what)
{
	return herald_err_set(err, H_ERUNTIME, "database: %s: %s", what,
			      sqlite3_errmsg(h));
}

/* A read transaction: every statement until read_end sees one snapshot. */
static enum herald_rc read_begin(sqlite3 *h, struct herald_err *err)
{
	if (sqlite3_exec(h, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return sql_fail(h, err, "begin");
	/* A deferred transaction takes its snapshot at the first read. */
	if (sqlite3_exec(h, "SELECT 1 FROM internal_meta LIMIT 1", NULL, NULL,
			 NULL) != SQLITE_OK) {
		sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
		return sql_fail(h, err, "read");
	}
	return H_OK;
}

static void read_end(sqlite3 *h)
{
	sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);
}

static void head_set_hex(struct evidence_head *hd)
{
	hex_encode(hd->hash, 32, hd->hex);
}

enum herald_rc evidence_head_get(struct db *db, struct evidence_head *head,
				 struct herald_err *err)
{
	enum herald_rc rc = db_head(db, &head->seq, head->hash, err);
	head_set_hex(head);
	return rc;
}

/* ------------------------------------------------------------- verify */

struct cursor {
	enum ev_table t;
	const struct ev_table_desc *d;
	sqlite3_stmt *st;
	bool done;
	int64_t seq;
};

static enum herald_rc cursor_step(sqlite3 *h, struct cursor *c,
				  struct herald_err *err)
{
	int r = sqlite3_step(c->st);
	if (r == SQLITE_DONE) {
		c->done = true;
		return H_OK;
	}
	if (r != SQLITE_ROW)
		return sql_fail(h, err, c->d->name);
	c->seq = sqlite3_column_int64(c->st, 0);
	return H_OK;
}

static enum herald_rc cursor_open(sqlite3 *h, struct cursor *c, enum ev_table t,
				  struct herald_err *err)
{
	c->t = t;
	c->d = db_table(t);
	struct buf b;
	buf_init(&b);
	buf_adds(&b, "SELECT seq");
	for (size_t i = 0; i < c->d->ncolumns; i++)
		buf_printf(&b, ",\"%s\"", c->d->columns[i]);
	buf_printf(&b, ",prev,hash FROM %s ORDER BY seq", c->d->name);
	int r = sqlite3_prepare_v2(h, b.data, -1, &c->st, NULL);
	buf_free(&b);
	if (r != SQLITE_OK)
		return herald_err_set(err, H_EINVAL, "%s: cannot be read: %s",
				      c->d->name, sqlite3_errmsg(h));
	return cursor_step(h, c, err);
}

/* Checks the current row of c against prev; on success writes its hash. */
static enum herald_rc check_row(struct cursor *c, const unsigned char prev[32],
				unsigned char hash[32], struct herald_err *err)
{
	struct ev_value v[MAX_COLS];
	sqlite3_stmt *st = c->st;
	size_t n = c->d->ncolumns;
	for (size_t i = 0; i < n; i++) {
		int col = (int)i + 1;
		switch (sqlite3_column_type(st, col)) {
		case SQLITE_NULL:
			v[i] = EVN;
			break;
		case SQLITE_INTEGER:
			v[i] = EVI(sqlite3_column_int64(st, col));
			break;
		case SQLITE_TEXT: {
			const char *s = (const char *)sqlite3_column_text(st, col);
			size_t len = (size_t)sqlite3_column_bytes(st, col);
			/* herald never writes a NUL inside text: one there was put
			 * there by someone else. */
			if (memchr(s, '\0', len))
				return herald_err_set(err, H_EINVAL,
						      "%s seq %" PRId64 ": %s holds a NUL byte",
						      c->d->name, c->seq, c->d->columns[i]);
			v[i] = (struct ev_value){ .type = EV_TEXT, .s = s, .len = len };
			break;
		}
		default:
			return herald_err_set(err, H_EINVAL,
					      "%s seq %" PRId64 ": %s holds a value of a type herald never writes",
					      c->d->name, c->seq, c->d->columns[i]);
		}
	}
	int pc = (int)n + 1, hc = (int)n + 2;
	if (sqlite3_column_type(st, pc) != SQLITE_BLOB ||
	    sqlite3_column_bytes(st, pc) != 32 ||
	    sqlite3_column_type(st, hc) != SQLITE_BLOB ||
	    sqlite3_column_bytes(st, hc) != 32)
		return herald_err_set(err, H_EINVAL,
				      "%s seq %" PRId64 ": prev or hash is not a 32-byte hash",
				      c->d->name, c->seq);
	if (memcmp(sqlite3_column_blob(st, pc), prev, 32) != 0)
		return herald_err_set(err, H_EINVAL,
				      "%s seq %" PRId64 ": does not link to the row before it "
				      "(a row was removed, inserted or moved here)",
				      c->d->name, c->seq);
	db_row_hash(c->t, c->seq, v, prev, hash);
	if (memcmp(sqlite3_column_blob(st, hc), hash, 32) != 0)
		return herald_err_set(err, H_EINVAL,
				      "%s seq %" PRId64 ": contents do not match the row's hash "
				      "(the row was edited)",
				      c->d->name, c->seq);
	return H_OK;
}

static enum herald_rc verify_scan(struct db *db, struct cursor *cur,
				  struct evidence_head *head, int64_t *rows,
				  struct herald_err *err)
{
	sqlite3 *h = db_handle(db);
	struct evidence_head rec;
	enum herald_rc rc = evidence_head_get(db, &rec, err);
	if (rc)
		return rc;
	for (int t = 0; t < EV_NTABLES; t++)
		if ((rc = cursor_open(h, &cur[t], (enum ev_table)t, err)))
			return rc;
	unsigned char prev[32] = { 0 };
	int64_t expect = 1;
	const char *last_table = NULL;
	for (;;) {
		struct cursor *c = NULL;
		for (int t = 0; t < EV_NTABLES; t++)
			if (!cur[t].done && (!c || cur[t].seq < c->seq))
				c = &cur[t];
		if (!c)
			break;
		if (c->seq < expect)
			return herald_err_set(err, H_EINVAL,
					      "%s seq %" PRId64 ": the sequence number is used twice "
					      "(also in %s: a row was inserted)",
					      c->d->name, c->seq, last_table ? last_table : "?");
		if (c->seq > expect)
			return herald_err_set(err, H_EINVAL,
					      "%s seq %" PRId64 ": seq %" PRId64 "%s missing before it "
					      "(rows were deleted)",
					      c->d->name, c->seq, expect,
					      c->seq - expect > 1 ? " and more are" : " is");
		if (c->seq > rec.seq)
			return herald_err_set(err, H_EINVAL,
					      "%s seq %" PRId64 ": beyond the chain head record (seq %" PRId64 "): "
					      "added outside herald",
					      c->d->name, c->seq, rec.seq);
		unsigned char hash[32];
		if ((rc = check_row(c, prev, hash, err)))
			return rc;
		memcpy(prev, hash, 32);
		last_table = c->d->name;
		expect++;
		if ((rc = cursor_step(h, c, err)))
			return rc;
	}
	int64_t last = expect - 1;
	if (last < rec.seq)
		return herald_err_set(err, H_EINVAL,
				      "seq %" PRId64 ": missing: the log ends at seq %" PRId64
				      " but the chain head record says seq %" PRId64
				      " (rows were deleted from the end)",
				      last + 1, last, rec.seq);
	if (memcmp(prev, rec.hash, 32) != 0)
		return herald_err_set(err, H_EINVAL,
				      "%s seq %" PRId64 ": its hash differs from the chain head record",
				      last_table ? last_table : "log", last);
	if (head) {
		head->seq = last;
		memcpy(head->hash, prev, 32);
		head_set_hex(head);
	}
	if (rows)
		*rows = last;
	return H_OK;
}

enum herald_rc evidence_verify(struct db *db, struct evidence_head *head,
			       int64_t *rows, struct herald_err *err)
{
	sqlite3 *h = db_handle(db);
	enum herald_rc rc = read_begin(h, err);
	if (rc)
		return rc;
	struct cursor cur[EV_NTABLES];
	memset(cur, 0, sizeof cur);
	rc = verify_scan(db, cur, head, rows, err);
	for (int t = 0; t < EV_NTABLES; t++)
		sqlite3_finalize(cur[t].st);
	read_end(h);
	return rc;
}

/* -------------------------------------------------------- checkpoints */

#define CKPT_TITLE "herald evidence checkpoint\n"

static bool hex_decode(const char *s, size_t n, unsigned char *out)
{
	if (strlen(s) != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;
		for (int k = 0; k < 2; k++) {
			char ch = s[2 * i + (size_t)k];
			v <<= 4;
			if (ch >= '0' && ch <= '9')
				v |= (unsigned)(ch - '0');
			else if (ch >= 'a' && ch <= 'f')
				v |= (unsigned)(ch - 'a' + 10);
			else
				return false;
		}
		out[i] = (unsigned char)v;
	}
	return true;
}

/* Loads (creating on first use) the signing key and the database id. */
static enum herald_rc ckpt_keys(struct db *db, bool create,
				unsigned char priv[32], unsigned char id[16],
				struct herald_err *err)
{
	size_t l1 = 0, l2 = 0;
	if (db_meta_get(db, "checkpoint_key", priv, 32, &l1) && l1 == 32 &&
	    db_meta_get(db, "db_id", id, 16, &l2) && l2 == 16)
		return H_OK;
	if (!create)
		return herald_err_set(err, H_EINVAL,
				      "this database has never made a checkpoint");
	enum herald_rc rc = db_begin(db, err);
	if (rc)
		return rc;
	if (db_meta_get(db, "checkpoint_key", priv, 32, &l1) && l1 == 32 &&
	    db_meta_get(db, "db_id", id, 16, &l2) && l2 == 16) {
		db_rollback(db);
		return H_OK;
	}
	random_bytes(priv, 32);
	random_bytes(id, 16);
	rc = db_meta_set(db, "checkpoint_key", priv, 32, err);
	if (!rc)
		rc = db_meta_set(db, "db_id", id, 16, err);
	if (rc) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db, err);
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

enum herald_rc evidence_checkpoint(struct db *db,
				   const struct evidence_head *head,
				   struct buf *out, struct herald_err *err)
{
	unsigned char priv[32], id[16], pub[32], sig[64];
	enum herald_rc rc = ckpt_keys(db, true, priv, id, err);
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

/* The hash stored for the row at seq, whichever table holds it. */
static enum herald_rc row_hash_at(struct db *db, int64_t seq,
				  unsigned char out[32], bool *found,
				  struct herald_err *err)
{
	sqlite3 *h = db_handle(db);
	*found = false;
	for (int t = 0; t < EV_NTABLES && !*found; t++) {
		char sql[128];
		snprintf(sql, sizeof sql, "SELECT hash FROM %s WHERE seq=?",
			 db_table((enum ev_table)t)->name);
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
			return sql_fail(h, err, "checkpoint");
		sqlite3_bind_int64(st, 1, seq);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32) {
			memcpy(out, sqlite3_column_blob(st, 0), 32);
			*found = true;
		}
		sqlite3_finalize(st);
	}
	return H_OK;
}

enum herald_rc evidence_check_checkpoint(struct db *db, const char *stmt,
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
	    !hex_decode(idhex, 16, id) || !hex_decode(hashhex, 32, hash) ||
	    !hex_decode(pubhex, 32, pub) || !hex_decode(sighex, 64, sig))
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
	enum herald_rc rc = ckpt_keys(db, false, priv, myid, err);
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
	if ((rc = row_hash_at(db, seq, now, &found, err)))
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

/* ----------------------------------------------------------- delivery */

static const char delivery_sql[] =
	"SELECT d.seq, d.key, d.kind, d.due,"
	" (SELECT at FROM delivery_states x WHERE x.delivery=d.key AND x.state='sent'"
	"   ORDER BY x.seq LIMIT 1),"
	" s.state, (SELECT max(late) FROM delivery_states x WHERE x.delivery=d.key),"
	" (SELECT max(duplicate) FROM delivery_states x WHERE x.delivery=d.key),"
	" (SELECT max(possible_duplicate) FROM attempts a WHERE a.delivery=d.key),"
	" d.plan_id, d.plan_version, d.communication, d.topic, d.audience,"
	" d.channel_type, d.channel_id, d.recipient, d.requested_by,"
	" (SELECT count(*) FROM attempts a WHERE a.delivery=d.key),"
	" k.at, k.person"
	" FROM deliveries d"
	" LEFT JOIN delivery_states s ON s.seq ="
	"   (SELECT max(seq) FROM delivery_states y WHERE y.delivery=d.key)"
	" LEFT JOIN acks k ON k.seq ="
	"   (SELECT min(seq) FROM acks z WHERE z.delivery=d.key)"
	" WHERE (?1 IS NULL OR d.due >= ?1) AND (?2 IS NULL OR d.due < ?2)"
	" ORDER BY d.due, d.seq";

static const char *col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* Runs the delivery query inside the caller's read transaction. */
static enum herald_rc each_delivery_in(sqlite3 *h, const char *from,
				       const char *to,
				       int (*fn)(const struct evidence_delivery *d,
						 void *ctx),
				       void *ctx, struct herald_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(h, delivery_sql, -1, &st, NULL) != SQLITE_OK)
		return sql_fail(h, err, "deliveries");
	sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
	enum herald_rc rc = H_OK;
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct evidence_delivery d = {
			.seq = sqlite3_column_int64(st, 0),
			.key = col_text(st, 1),
			.kind = col_text(st, 2),
			.due = col_text(st, 3),
			.sent = col_text(st, 4),
			.state = col_text(st, 5),
			.late = sqlite3_column_int64(st, 6) != 0,
			.duplicate = sqlite3_column_int64(st, 7) != 0,
			.possible_duplicate = sqlite3_column_int64(st, 8) != 0,
			.plan_id = col_text(st, 9),
			.plan_version = col_text(st, 10),
			.communication = col_text(st, 11),
			.topic = col_text(st, 12),
			.audience = col_text(st, 13),
			.channel_type = col_text(st, 14),
			.channel_id = col_text(st, 15),
			.recipient = col_text(st, 16),
			.requested_by = col_text(st, 17),
			.attempts = sqlite3_column_int64(st, 18),
			.acked_at = col_text(st, 19),
			.acked_by = col_text(st, 20),
		};
		if (!d.state)
			d.state = "pending";
		if (fn(&d, ctx))
			break;
	}
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = sql_fail(h, err, "deliveries");
	sqlite3_finalize(st);
	return rc;
}

enum herald_rc evidence_each_delivery(struct db *db, const char *from,
				      const char *to,
				      int (*fn)(const struct evidence_delivery *d,
						void *ctx),
				      void *ctx, struct evidence_head *head,
				      struct herald_err *err)
{
	sqlite3 *h = db_handle(db);
	enum herald_rc rc = read_begin(h, err);
	if (rc)
		return rc;
	struct evidence_head hd;
	rc = evidence_head_get(db, &hd, err);
	if (!rc && head)
		*head = hd;
	if (!rc)
		rc = each_delivery_in(h, from, to, fn, ctx, err);
	read_end(h);
	return rc;
}

/* ------------------------------------------------------------- export */

static const char *const export_columns[] = {
	"delivery", "due", "sent", "state", "flags", "plan_id", "plan_version",
	"communication", "topic", "audience", "channel_type", "channel_id",
	"recipient", "attempts", "acknowledged_at", "acknowledged_by", "kind",
	"requested_by",
};
#define NEXPORT (sizeof export_columns / sizeof export_columns[0])

struct export_ctx {
	FILE *f;
	enum evidence_format format;
	int64_t count;
	struct buf line;
};

static void flags_text(const struct evidence_delivery *d, char *out, size_t n)
{
	snprintf(out, n, "%s%s%s%s%s", d->late ? "late" : "",
		 d->late && (d->duplicate || d->possible_duplicate) ? " " : "",
		 d->duplicate ? "duplicate" : "",
		 d->duplicate && d->possible_duplicate ? " " : "",
		 d->possible_duplicate ? "possible-duplicate" : "");
}

/*
 * RFC 4180 cell.  A spreadsheet runs a cell starting with = + - @ (or a
 * tab or CR) as a formula: such cells get a leading apostrophe.
 */
static void csv_cell(struct buf *b, const char *s)
{
	if (!s)
		return;
	bool formula = strchr("=+-@\t\r", s[0]) && s[0];
	bool quote = formula || strpbrk(s, ",\"\r\n") || s[0] == ' ';
	if (!quote) {
		buf_adds(b, s);
		return;
	}
	buf_addc(b, '"');
	if (formula)
		buf_addc(b, '\'');
	for (; *s; s++) {
		if (*s == '"')
			buf_addc(b, '"');
		buf_addc(b, *s);
	}
	buf_addc(b, '"');
}

static void json_str(struct buf *b, const char *s)
{
	if (!s) {
		buf_adds(b, "null");
		return;
	}
	buf_addc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf_addc(b, '\\');
			buf_addc(b, (char)c);
		} else if (c < 0x20) {
			switch (c) {
			case '\n': buf_adds(b, "\\n"); break;
			case '\r': buf_adds(b, "\\r"); break;
			case '\t': buf_adds(b, "\\t"); break;
			default: buf_printf(b, "\\u%04x", c); break;
			}
		} else {
			buf_addc(b, (char)c);
		}
	}
	buf_addc(b, '"');
}

static int export_row(const struct evidence_delivery *d, void *ctx)
{
	struct export_ctx *x = ctx;
	struct buf *b = &x->line;
	char flags[64], attempts[24];
	flags_text(d, flags, sizeof flags);
	snprintf(attempts, sizeof attempts, "%" PRId64, d->attempts);
	const char *v[NEXPORT] = {
		d->key, d->due, d->sent, d->state, flags, d->plan_id,
		d->plan_version, d->communication, d->topic, d->audience,
		d->channel_type, d->channel_id, d->recipient, attempts,
		d->acked_at, d->acked_by, d->kind, d->requested_by,
	};
	buf_reset(b);
	if (x->format == EVIDENCE_CSV) {
		for (size_t i = 0; i < NEXPORT; i++) {
			if (i)
				buf_addc(b, ',');
			csv_cell(b, v[i]);
		}
		buf_adds(b, "\r\n");
	} else {
		buf_adds(b, x->count ? ",\n  {" : "\n  {");
		for (size_t i = 0; i < NEXPORT; i++) {
			if (i)
				buf_addc(b, ',');
			buf_printf(b, "\"%s\":", export_columns[i]);
			if (i == 4) {          /* flags: a list of words */
				buf_addc(b, '[');
				const char *fw[3] = { d->late ? "late" : NULL,
						      d->duplicate ? "duplicate" : NULL,
						      d->possible_duplicate ? "possible-duplicate" : NULL };
				bool first = true;
				for (int k = 0; k < 3; k++)
					if (fw[k]) {
						buf_adds(b, first ? "" : ",");
						json_str(b, fw[k]);
						first = false;
					}
				buf_addc(b, ']');
			} else if (i == 13) {  /* attempts: a number */
				buf_adds(b, attempts);
			} else {
				json_str(b, v[i]);
			}
		}
		buf_addc(b, '}');
	}
	fwrite(b->data, 1, b->len, x->f);
	x->count++;
	return 0;
}

enum herald_rc evidence_export(struct db *db, const char *from, const char *to,
			       enum evidence_format format, FILE *f,
			       int64_t *count, struct herald_err *err)
{
	struct export_ctx x = { .f = f, .format = format };
	struct evidence_head hd;
	/* The head and the rows come from one snapshot: the head stated
	 * covers exactly the rows written. */
	sqlite3 *h = db_handle(db);
	enum herald_rc rc = read_begin(h, err);
	if (rc)
		return rc;
	if ((rc = evidence_head_get(db, &hd, err))) {
		read_end(h);
		return rc;
	}
	buf_init(&x.line);
	if (format == EVIDENCE_CSV) {
		for (size_t i = 0; i < NEXPORT; i++)
			fprintf(f, "%s%s", i ? "," : "", export_columns[i]);
		fputs("\r\n", f);
	} else {
		struct buf b;
		buf_init(&b);
		buf_printf(&b, "{\"chain_head\":{\"seq\":%" PRId64 ",\"sha256\":\"%s\"},"
			   "\"from\":", hd.seq, hd.hex);
		json_str(&b, from);
		buf_adds(&b, ",\"to\":");
		json_str(&b, to);
		buf_adds(&b, ",\"deliveries\":[");
		fwrite(b.data, 1, b.len, f);
		buf_free(&b);
	}
	rc = each_delivery_in(h, from, to, export_row, &x, err);
	read_end(h);
	if (!rc) {
		if (format == EVIDENCE_CSV)
			fprintf(f, "# chain head: seq %" PRId64 " sha256 %s\r\n", hd.seq, hd.hex);
		else
			fprintf(f, "%s],\"count\":%" PRId64 "}\n", x.count ? "\n" : "", x.count);
	}
	buf_free(&x.line);
	if (!rc && (fflush(f) != 0 || ferror(f)))
		rc = herald_err_set(err, H_ERUNTIME, "export: write error: %s", strerror(errno));
	if (count)
		*count = x.count;
	return rc;
}

/* ------------------------------------------------------------- backup */

static enum herald_rc fsync_path(const char *path, int flags,
				 struct herald_err *err)
{
	int fd = open(path, flags | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return herald_err_set(err, H_ERUNTIME, "backup: %s: %s", path, strerror(e));
	}
	close(fd);
	return H_OK;
}

enum herald_rc evidence_backup(const char *src_path, const char *dest,
			       struct evidence_head *head, int64_t *rows,
			       struct herald_err *err)
{
	char a[PATH_MAX], b[PATH_MAX];
	if (realpath(src_path, a) && realpath(dest, b) && strcmp(a, b) == 0)
		return herald_err_set(err, H_EUSAGE, "backup: %s is the database itself", dest);
	struct db *src = NULL;
	enum herald_rc rc = db_open_readonly(src_path, &src, err);
	if (rc)
		return rc;
	char *tmp = xasprintf("%s.tmp.%ld", dest, (long)getpid());
	unlink(tmp);
	sqlite3 *out = NULL;
	if (sqlite3_open_v2(tmp, &out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			    NULL) != SQLITE_OK) {
		rc = herald_err_set(err, H_ERUNTIME, "backup: %s: %s", tmp,
				    out ? sqlite3_errmsg(out) : "cannot open");
		goto done;
	}
	/* One step copies a consistent snapshot; in WAL mode the daemon's
	 * writes carry on meanwhile. */
	sqlite3_backup *bk = sqlite3_backup_init(out, "main", db_handle(src), "main");
	if (!bk) {
		rc = sql_fail(out, err, "backup");
		goto done;
	}
	int r = sqlite3_backup_step(bk, -1);
	sqlite3_backup_finish(bk);
	if (r != SQLITE_DONE) {
		rc = herald_err_set(err, H_ERUNTIME, "backup: %s", sqlite3_errstr(r));
		goto done;
	}
	/* A backup is one self-contained file, not a WAL database. */
	if (sqlite3_exec(out, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK) {
		rc = sql_fail(out, err, "backup");
		goto done;
	}
	sqlite3_close(out);
	out = NULL;
	if ((rc = fsync_path(tmp, O_RDONLY, err)))
		goto done;
	struct db *copy = NULL;
	if ((rc = db_open_readonly(tmp, &copy, err)))
		goto done;
	rc = evidence_verify(copy, head, rows, err);
	db_close(copy);
	if (rc) {
		herald_err_prefix(err, "backup copy does not verify");
		goto done;
	}
	if (rename(tmp, dest) != 0) {
		rc = herald_err_set(err, H_ERUNTIME, "backup: %s: %s", dest, strerror(errno));
		goto done;
	}
	char *dir = xstrdup(dest);
	char *slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir ? 1 : 0] = '\0';
	rc = fsync_path(slash ? dir : ".", O_RDONLY | O_DIRECTORY, err);
	free(dir);
done:
	if (out)
		sqlite3_close(out);
	if (rc)
		unlink(tmp);
	free(tmp);
	db_close(src);
	return rc;
}
