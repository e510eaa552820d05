/*
 * store_sqlite_idem.c - the send API's idempotency entries (store.h) in
 * internal_idempotency: a table outside the evidence chain, so entries
 * can be answered and forgotten after their day.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "herald/store_sqlite.h"
#include "herald/util.h"

const char store_idem_table[] =
	"CREATE TABLE IF NOT EXISTS internal_idempotency("
	"  key BLOB PRIMARY KEY, fingerprint BLOB NOT NULL, request TEXT NOT NULL,"
	"  at INTEGER NOT NULL, status INTEGER NOT NULL, body TEXT);";

static enum herald_rc step_done(struct store *s, sqlite3_stmt *st, const char *what,
				struct herald_err *err)
{
	int r = sqlite3_step(st);
	enum herald_rc rc = r == SQLITE_DONE ? H_OK : sqlite_fail(s, err, what);
	sqlite3_finalize(st);
	return rc;
}

static enum herald_rc prepare(struct store *s, const char *sql, sqlite3_stmt **st,
			      struct herald_err *err)
{
	if (sqlite3_prepare_v2(s->h, sql, -1, st, NULL) != SQLITE_OK)
		return sqlite_fail(s, err, "idempotency entries");
	return H_OK;
}

static enum herald_rc forget(struct store *s, int64_t since, struct herald_err *err)
{
	sqlite3_stmt *st;
	enum herald_rc rc = prepare(s, "DELETE FROM internal_idempotency WHERE at<?", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, since);
	return step_done(s, st, "forgetting idempotency entries", err);
}

static enum herald_rc lookup(struct store *s, const unsigned char key[32],
			     struct store_idem *out, bool *found, struct herald_err *err)
{
	sqlite3_stmt *st;
	enum herald_rc rc = prepare(s, "SELECT fingerprint, request, at, status, body"
				    " FROM internal_idempotency WHERE key=?", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_blob(st, 1, key, 32, SQLITE_STATIC);
	int r = sqlite3_step(st);
	*found = r == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32;
	if (*found) {
		memcpy(out->fingerprint, sqlite3_column_blob(st, 0), 32);
		snprintf(out->request, sizeof out->request, "%s",
			 sqlite_col_text(st, 1));
		out->at = sqlite3_column_int64(st, 2);
		out->status = sqlite3_column_int(st, 3);
		const unsigned char *b = sqlite3_column_text(st, 4);
		out->body = b ? xstrdup((const char *)b) : NULL;
	}
	rc = r == SQLITE_ROW || r == SQLITE_DONE ? H_OK
						 : sqlite_fail(s, err, "an idempotency entry");
	sqlite3_finalize(st);
	return rc;
}

static enum herald_rc insert(struct store *s, const unsigned char key[32],
			     const struct store_idem *v, struct herald_err *err)
{
	sqlite3_stmt *st;
	enum herald_rc rc = prepare(s, "INSERT INTO internal_idempotency"
				    "(key, fingerprint, request, at, status) VALUES(?,?,?,?,0)",
				    &st, err);
	if (rc)
		return rc;
	sqlite3_bind_blob(st, 1, key, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, v->fingerprint, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, v->request, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, v->at);
	return step_done(s, st, "storing an idempotency entry", err);
}

static enum herald_rc take(struct store *s, const unsigned char key[32],
			   const struct store_idem *fresh, int64_t since,
			   struct store_idem *out, struct herald_err *err)
{
	bool found = false;
	enum herald_rc rc = forget(s, since, err);
	if (!rc)
		rc = lookup(s, key, out, &found, err);
	if (rc || found)
		return rc;
	if ((rc = insert(s, key, fresh, err)))
		return rc;
	memcpy(out->fingerprint, fresh->fingerprint, 32);
	snprintf(out->request, sizeof out->request, "%s", fresh->request);
	out->at = fresh->at;
	return H_OK;
}

enum herald_rc store_idem_take(struct store *s, const unsigned char key[32],
			       const struct store_idem *fresh, int64_t since,
			       struct store_idem *out, struct herald_err *err)
{
	memset(out, 0, sizeof *out);
	enum herald_rc rc = store_begin(s, err);
	if (rc)
		return rc;
	if ((rc = take(s, key, fresh, since, out, err))) {
		store_rollback(s);
		store_idem_free(out);
		return rc;
	}
	return store_commit(s, err);
}

enum herald_rc store_idem_answer(struct store *s, const unsigned char key[32], int status,
				 const char *body, struct herald_err *err)
{
	enum herald_rc rc = store_begin(s, err);
	if (rc)
		return rc;
	sqlite3_stmt *st;
	if (!(rc = prepare(s, "UPDATE internal_idempotency SET status=?, body=? WHERE key=?",
			   &st, err))) {
		sqlite3_bind_int(st, 1, status);
		sqlite3_bind_text(st, 2, body, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, key, 32, SQLITE_STATIC);
		rc = step_done(s, st, "answering an idempotency entry", err);
	}
	if (rc) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s, err);
}

enum herald_rc store_idem_release(struct store *s, const unsigned char key[32],
				  const char *request, struct herald_err *err)
{
	sqlite3_stmt *st;
	enum herald_rc rc = prepare(s, "DELETE FROM internal_idempotency"
				       " WHERE key=? AND request=? AND status=0", &st, err);
	if (rc)
		return rc;
	sqlite3_bind_blob(st, 1, key, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, request, -1, SQLITE_STATIC);
	return step_done(s, st, "giving back an idempotency entry", err);
}

void store_idem_free(struct store_idem *v)
{
	free(v->body);
	v->body = NULL;
}
