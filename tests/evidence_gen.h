/*
 * evidence_gen.h - evidence databases for tests and benches, written with
 * db_append so the canonical encoding has one implementation.
 *
 *   gen_random(db, first, n, seed)  n deliveries (numbered from first), a realistic mix: on time, late,
 *                            retried, failed, missed, dry-run, pending,
 *                            manual sends, possible duplicates, acks, plan
 *                            versions and events; one transaction.
 *   gen_scenario(db)         the scripted mix report.sh checks (counts in
 *                            the comment below).
 */
#ifndef HERALD_TEST_EVIDENCE_GEN_H
#define HERALD_TEST_EVIDENCE_GEN_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/db.h"
#include "herald/timeutil.h"
#include "herald/token.h"

static inline void gen_die(const struct herald_err *e)
{
	fprintf(stderr, "gen: %s\n", e->msg);
	exit(3);
}

static inline void gen_append(struct db *db, enum ev_table t,
		       const struct ev_value *v, size_t n)
{
	struct herald_err e;
	if (db_append(db, t, v, n, NULL, &e))
		gen_die(&e);
}

static inline void gen_ts(int64_t t, char out[32])
{
	format_rfc3339_utc(t, out, 32);
}

static inline void gen_plan(struct db *db, int64_t at, const char *event,
		     const char *version)
{
	char a[32];
	gen_ts(at, a);
	struct ev_value v[] = {
		EVS(a), EVS(event), EVS("ACME-TEST"), EVS(version),
		EVS("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
		EVS("plans/acme-test.json"), EVS("CISO"), EVS("2026-01-12"),
		EVS("2027-01-12"), EVN,
	};
	gen_append(db, EV_PLAN_VERSIONS, v, 10);
}

static inline void gen_event(struct db *db, int64_t at, const char *kind,
		      const char *detail)
{
	char a[32];
	gen_ts(at, a);
	struct ev_value v[] = { EVS(a), EVS(kind), EVS(detail) };
	gen_append(db, EV_EVENTS, v, 3);
}

struct gen_delivery {
	const char *comm, *topic, *aud, *chan_type, *chan_id, *recipient,
		*recipient_name;
	const char *kind, *requested_by, *note;
	int64_t due;
};

/* Appends the deliveries row; key and ack id are written to key/ackid. */
static inline void gen_delivery_row(struct db *db, const struct gen_delivery *g,
			     long i, char key[128],
			     char ackid[TOKEN_ACKID_LEN + 1])
{
	char due[32], created[32], occ[32], msg[256], mid[64];
	gen_ts(g->due, due);
	gen_ts(g->due - 60, created);
	gen_ts(g->due + 86400, occ);
	snprintf(key, 128, "ACME-TEST/%s/%s/%s/%s/%ld", g->comm, occ, g->aud,
		 g->chan_id, i);
	token_ackid(key, ackid);
	snprintf(msg, sizeof msg, "Reminder: %s starts %s. Acknowledge: "
		 "https://herald.example/ack/...", g->topic, occ);
	snprintf(mid, sizeof mid, "<%ld@herald.example>", i);
	struct ev_value v[] = {
		EVS(key), EVS(created), EVS(g->kind ? g->kind : "scheduled"),
		EVS("ACME-TEST"), EVS("2.1"),
		EVS("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
		EVS(g->comm), EVS(g->topic), EVS(occ), EVI(86400), EVS(g->aud),
		EVS(g->chan_type), EVS(g->chan_id), EVS(g->recipient),
		EVS(g->recipient_name), EVS(msg), EVS(due), EVS(mid), EVS(ackid),
		EVS(g->requested_by), EVS(g->note),
	};
	gen_append(db, EV_DELIVERIES, v, 21);
}

static inline void gen_attempt(struct db *db, const char *key, int n, int64_t at,
			const char *outcome, int status, int possible_dup)
{
	char s[32], f[32];
	gen_ts(at, s);
	gen_ts(at + 1, f);
	struct ev_value v[] = {
		EVS(key), EVI(n), EVS(s), EVS(f), EVS(outcome),
		status ? EVI(status) : EVN,
		EVS(status == 200 ? "ok" : status ? "Service Unavailable" : NULL),
		EVS(strcmp(outcome, "ok") && strcmp(outcome, "dry-run") ? "HTTP error" : NULL),
		EVI(120 + n), EVI(possible_dup),
	};
	gen_append(db, EV_ATTEMPTS, v, 10);
}

static inline void gen_state(struct db *db, const char *key, int64_t at,
		      const char *state, int late, int dup)
{
	char a[32];
	gen_ts(at, a);
	struct ev_value v[] = { EVS(key), EVS(a), EVS(state), EVI(late), EVI(dup), EVN };
	gen_append(db, EV_DELIVERY_STATES, v, 6);
}

static inline void gen_ack(struct db *db, const char *key, int64_t at,
		    const struct gen_delivery *g)
{
	char a[32];
	gen_ts(at, a);
	struct ev_value v[] = {
		EVS(key), EVS(a), EVS(g->comm), EVS(g->aud),
		EVS(g->recipient_name ? g->recipient_name : g->recipient),
	};
	gen_append(db, EV_ACKS, v, 5);
}

enum gen_outcome { G_ONTIME, G_LATE, G_RETRIED, G_FAILED, G_MISSED,
		   G_DRYRUN, G_PENDING };

/* One delivery with its attempts, final state and (optionally) an ack. */
static inline void gen_one(struct db *db, const struct gen_delivery *g, long i,
		    enum gen_outcome o, int acked, int possible_dup)
{
	char key[128], ackid[TOKEN_ACKID_LEN + 1];
	gen_delivery_row(db, g, i, key, ackid);
	int64_t t = g->due;
	switch (o) {
	case G_ONTIME:
		gen_attempt(db, key, 1, t + 1, "ok", 200, possible_dup);
		gen_state(db, key, t + 2, "sent", 0, possible_dup);
		break;
	case G_LATE:
		gen_attempt(db, key, 1, t + 7200, "ok", 200, possible_dup);
		gen_state(db, key, t + 7201, "sent", 1, 0);
		break;
	case G_RETRIED:
		gen_attempt(db, key, 1, t + 1, "temporary", 503, 0);
		gen_attempt(db, key, 2, t + 31, "ok", 200, 0);
		gen_state(db, key, t + 32, "sent", 0, 0);
		break;
	case G_FAILED:
		gen_attempt(db, key, 1, t + 1, "temporary", 503, 0);
		gen_attempt(db, key, 2, t + 31, "temporary", 503, 0);
		gen_attempt(db, key, 3, t + 91, "permanent", 404, 0);
		gen_state(db, key, t + 92, "failed", 0, 0);
		break;
	case G_MISSED:
		gen_state(db, key, t + 90000, "missed", 1, 0);
		break;
	case G_DRYRUN:
		gen_attempt(db, key, 1, t + 1, "dry-run", 0, 0);
		gen_state(db, key, t + 2, "dry-run", 0, 0);
		break;
	case G_PENDING:
		break;
	}
	if (acked)
		gen_ack(db, key, t + 3600, g);
}

static inline void gen_random(struct db *db, long first, long n, unsigned seed)
{
	static const struct gen_delivery gen_kinds[] = {
		{ "AWR-Q", "Quarterly security awareness", "all-staff", "slack",
		  "slack-staff", NULL, NULL, NULL, NULL, NULL, 0 },
		{ "AWR-Q", "Quarterly security awareness", "all-staff", "email",
		  "mail", "ana@acme.example", "Ana Lopez", NULL, NULL, NULL, 0 },
		{ "BRD-REVIEW", "Board ISMS performance review", "board", "email",
		  "mail", "board@acme.example", NULL, NULL, NULL, NULL, 0 },
		{ "SUP-UPD", "Supplier security requirements, \"v2\"", "suppliers",
		  "webhook", "portal", NULL, NULL, NULL, NULL, NULL, 0 },
		{ "INC-NOTICE", "=HYPERLINK(\"http://x\") incident notice", "customers",
		  "webhook", "status-page", NULL, NULL, "manual", "dana", "breach, \nsee ticket", 0 },
	};
	struct herald_err e;
	srand(seed);
	int64_t base = 1767225600; /* 2026-01-01T00:00:00Z */
	if (db_begin(db, &e))
		gen_die(&e);
	gen_plan(db, base - 86400, "loaded", "2.0");
	gen_event(db, base - 86400, "start", "herald 0.1");
	for (long i = first; i < first + n; i++) {
		if ((i && i % 100000 == 0) || i == first + n / 2)
			gen_plan(db, base + i * 60, "reloaded", "2.1");
		if (i % 5000 == 2500)
			gen_event(db, base + i * 60, "restart", NULL);
		struct gen_delivery g = gen_kinds[rand() % 5];
		g.due = base + i * 60;
		int r = rand() % 1000;
		enum gen_outcome o = r < 700 ? G_ONTIME : r < 780 ? G_RETRIED :
				     r < 830 ? G_LATE : r < 880 ? G_FAILED :
				     r < 920 ? G_MISSED : r < 960 ? G_DRYRUN : G_PENDING;
		int sent = o == G_ONTIME || o == G_LATE || o == G_RETRIED;
		gen_one(db, &g, i, o, sent && rand() % 3 == 0, rand() % 200 == 0);
	}
	gen_event(db, base + (first + n) * 60, "stop", NULL);
	if (db_commit(db, &e))
		gen_die(&e);
}

/*
 * The scripted mix (report.sh holds these numbers), all due in
 * 2026-03-01 .. 2026-05-31:
 *
 *   AWR-Q / all-staff   10: 5 on time, 2 late, 1 failed, 2 missed; 4 acked
 *   AWR-Q / board        4: 3 on time, 1 failed; 2 acked
 *   INC-NOTICE / customers 2 (manual): 1 on time, 1 late; 0 acked
 *   BRD-REVIEW / board   3: 1 on time, 1 missed, 1 pending; 1 acked
 */
static inline void gen_scenario(struct db *db)
{
	struct herald_err e;
	int64_t t0 = 1772323200; /* 2026-03-01T00:00:00Z */
	int64_t day = 86400;
	if (db_begin(db, &e))
		gen_die(&e);
	gen_plan(db, t0 - day, "loaded", "2.1");
	gen_event(db, t0 - day, "start", "herald 0.1");
	struct gen_delivery staff = { "AWR-Q", "Quarterly security awareness",
				      "all-staff", "slack", "slack-staff", NULL,
				      NULL, NULL, NULL, NULL, 0 };
	struct gen_delivery board = { "AWR-Q", "Quarterly security awareness",
				      "board", "email", "mail", "board@acme.example",
				      "The Board", NULL, NULL, NULL, 0 };
	struct gen_delivery inc = { "INC-NOTICE", "Security incident notice",
				    "customers", "webhook", "status-page", NULL,
				    NULL, "manual", "dana", "ticket 42", 0 };
	struct gen_delivery brd = { "BRD-REVIEW", "Board ISMS performance review",
				    "board", "email", "mail", "board@acme.example",
				    "The Board", NULL, NULL, NULL, 0 };
	static const enum gen_outcome so[10] = {
		G_ONTIME, G_ONTIME, G_RETRIED, G_ONTIME, G_ONTIME,
		G_LATE, G_LATE, G_FAILED, G_MISSED, G_MISSED,
	};
	static const int sa[10] = { 1, 1, 1, 0, 0, 1, 0, 0, 0, 0 };
	long i = 0;
	for (int k = 0; k < 10; k++, i++) {
		staff.due = t0 + k * 9 * day;
		gen_one(db, &staff, i, so[k], sa[k], 0);
	}
	static const enum gen_outcome bo[4] = { G_ONTIME, G_ONTIME, G_ONTIME, G_FAILED };
	static const int ba[4] = { 1, 0, 1, 0 };
	for (int k = 0; k < 4; k++, i++) {
		board.due = t0 + k * 20 * day + 3600;
		gen_one(db, &board, i, bo[k], ba[k], 0);
	}
	inc.due = t0 + 40 * day;
	gen_one(db, &inc, i++, G_ONTIME, 0, 1);
	inc.due = t0 + 41 * day;
	gen_one(db, &inc, i++, G_LATE, 0, 0);
	static const enum gen_outcome ro[3] = { G_ONTIME, G_MISSED, G_PENDING };
	static const int ra[3] = { 1, 0, 0 };
	for (int k = 0; k < 3; k++, i++) {
		brd.due = t0 + (30 + 30 * k) * day + 7200;
		gen_one(db, &brd, i, ro[k], ra[k], 0);
	}
	gen_event(db, t0 + 91 * day, "stop", NULL);
	if (db_commit(db, &e))
		gen_die(&e);
}

#endif
