/*
 * evidence_verify.c - recomputing the chain (see evidence.h).
 *
 * The store hands over every row of every table and format merged by seq;
 * each is checked against whichever row of whichever table came before
 * it, since the chain is global.
 */
#include "herald/evidence.h"

#include <inttypes.h>
#include <string.h>

#include "herald/evfmt.h"
#include "herald/store.h"
#include "herald/util.h"

static void head_set_hex(struct evidence_head *hd)
{
	hex_encode(hd->hash, 32, hd->hex);
}

enum herald_rc evidence_head_get(struct store *s, struct evidence_head *head,
				 struct herald_err *err)
{
	struct store_head h;
	enum herald_rc rc = store_head(s, &h, err);
	head->seq = h.seq;
	memcpy(head->hash, h.hash, 32);
	head_set_hex(head);
	return rc;
}

struct vstate {
	unsigned char prev[32];
	int64_t expect;
	struct store_head rec;     /* the head record: filled before the rows */
	const char *last_table;
};

/* A text row must hold the text its sha256 names. */
static enum herald_rc check_text(const struct store_row *r, struct herald_err *err)
{
	unsigned char h[32];
	const struct ev_value *sha = &r->values[0], *body = &r->values[1];
	if (sha->type != EV_BLOB || sha->len != 32 || body->type != EV_TEXT)
		return herald_err_set(err, H_EINVAL, "texts seq %" PRId64 ": malformed", r->seq);
	sha256(body->s, body->len, h);
	if (memcmp(h, sha->s, 32) != 0)
		return herald_err_set(err, H_EINVAL,
				      "texts seq %" PRId64 ": the text does not match its SHA-256 "
				      "(the text was edited)", r->seq);
	return H_OK;
}

static enum herald_rc check_row(const struct store_row *r, void *ctx,
				struct herald_err *err)
{
	struct vstate *v = ctx;
	const char *name = r->table->name;
	if (r->seq < v->expect)
		return herald_err_set(err, H_EINVAL,
				      "%s seq %" PRId64 ": the sequence number is used twice "
				      "(also in %s: a row was inserted)",
				      name, r->seq, v->last_table ? v->last_table : "?");
	if (r->seq > v->expect)
		return herald_err_set(err, H_EINVAL,
				      "%s seq %" PRId64 ": seq %" PRId64 "%s missing before it "
				      "(rows were deleted)", name, r->seq, v->expect,
				      r->seq - v->expect > 1 ? " and more are" : " is");
	if (r->seq > v->rec.seq)
		return herald_err_set(err, H_EINVAL,
				      "%s seq %" PRId64 ": beyond the chain head record (seq %" PRId64
				      "): added outside herald", name, r->seq, v->rec.seq);
	if (r->bad_format)
		return herald_err_set(err, H_EINVAL,
				      "%s seq %" PRId64 ": claims evidence format %d, which this "
				      "table never had", name, r->seq, r->bad_format);
	if (r->bad_column >= 0)
		return herald_err_set(err, H_EINVAL,
				      "%s seq %" PRId64 ": %s holds a value herald never writes there",
				      name, r->seq, r->table->columns[r->bad_column]);
	if (!r->hash || (r->table->has_prev && !r->prev))
		return herald_err_set(err, H_EINVAL,
				      "%s seq %" PRId64 ": its hash is not a 32-byte hash", name, r->seq);
	if (r->prev && memcmp(r->prev, v->prev, 32) != 0)
		return herald_err_set(err, H_EINVAL,
				      "%s seq %" PRId64 ": does not link to the row before it "
				      "(a row was removed, inserted or moved here)", name, r->seq);
	unsigned char hash[32];
	evfmt_row_hash(r->table, r->seq, r->values, v->prev, hash);
	if (memcmp(r->hash, hash, 32) != 0)
		return herald_err_set(err, H_EINVAL,
				      "%s seq %" PRId64 ": contents do not match the row's hash "
				      "(the row was edited, or one before it was changed or moved)",
				      name, r->seq);
	if (r->table->format >= 2 && strcmp(name, "texts") == 0) {
		enum herald_rc rc = check_text(r, err);
		if (rc)
			return rc;
	}
	memcpy(v->prev, hash, 32);
	v->last_table = name;
	v->expect++;
	return H_OK;
}

enum herald_rc evidence_verify(struct store *s, struct evidence_head *head,
			       int64_t *rows, struct herald_err *err)
{
	struct evidence_head zero = { 0 };
	return evidence_verify_after(s, &zero, head, rows, err);
}

enum herald_rc evidence_verify_after(struct store *s, const struct evidence_head *from,
				     struct evidence_head *head, int64_t *rows,
				     struct herald_err *err)
{
	struct vstate v = { .expect = from->seq + 1 };
	memcpy(v.prev, from->hash, 32);
	enum herald_rc rc = store_each_row_after(s, from->seq, check_row, &v, &v.rec, err);
	if (rc)
		return rc;
	struct store_head rec = v.rec;
	int64_t last = v.expect - 1;
	if (last < rec.seq)
		return herald_err_set(err, H_EINVAL,
				      "seq %" PRId64 ": missing: the log ends at seq %" PRId64
				      " but the chain head record says seq %" PRId64
				      " (rows were deleted from the end)", last + 1, last, rec.seq);
	if (memcmp(v.prev, rec.hash, 32) != 0)
		return herald_err_set(err, H_EINVAL,
				      "%s seq %" PRId64 ": its hash differs from the chain head record",
				      v.last_table ? v.last_table : "log", last);
	char missing[96];
	if (!store_guards_present(s, missing, sizeof missing))
		return herald_err_set(err, H_EINVAL,
				      "the append-only guard %s is missing: someone with the file "
				      "removed it (rows may be edited without a trace in the file's "
				      "history; the chain above is what was checked)", missing);
	if (head) {
		head->seq = last;
		memcpy(head->hash, v.prev, 32);
		head_set_hex(head);
	}
	if (rows)
		*rows = last - from->seq;
	return H_OK;
}
