/*
 * evidence_gen.h - evidence databases for tests and benches, written through
 * store.h so the canonical encoding has one implementation.
 *
 *   gen_random(db, first, n, seed)  n deliveries (numbered from first), a realistic mix: on time, late,
 *                            retried, failed, missed, dry-run, pending,
 *                            manual sends, possible duplicates, acks, plan
 *                            versions and events; one transaction.
 *   gen_scenario(db)         the scripted mix report.sh checks (counts in
 *                            the comment below).
 *   gen_ack_scenario(db)     acknowledgements with two notify offsets and
 *                            reminders sharing one link per person, that
 *                            report_acks.sh checks (numbers below).
 */
#ifndef HERALD_TEST_EVIDENCE_GEN_H
#define HERALD_TEST_EVIDENCE_GEN_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/evfmt.h"
#include "herald/store.h"
#include "herald/timeutil.h"
#include "herald/token.h"
#include "herald/util.h"

static inline void gen_die(const struct herald_err *e)
{
	fprintf(stderr, "gen: %s\n", e->msg);
	exit(3);
}

static inline void gen_check(enum herald_rc rc, const struct herald_err *e)
{
	if (rc)
		gen_die(e);
}

static inline void gen_plan(struct store *db, int64_t at, const char *event,
		     const char *version)
{
	struct herald_err e;
	unsigned char sha[32];
	hex_decode("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", sha, 32);
	struct store_plan_version v = {
		.at = at, .event = event, .plan_id = "ACME-TEST", .version = version,
		.sha256 = sha, .path = "plans/acme-test.json", .approved_by = "CISO",
		.approved_on = "2026-01-12", .next_review = "2027-01-12",
	};
	gen_check(store_plan_version_add(db, &v, NULL, &e), &e);
}

static inline void gen_event(struct store *db, int64_t at, const char *kind,
		      const char *detail)
{
	struct herald_err e;
	gen_check(store_event_add(db, at, kind, detail, NULL, &e), &e);
}

struct gen_delivery {
	const char *comm, *topic, *aud, *chan_type, *chan_id, *recipient,
		*recipient_name;
	const char *kind, *requested_by, *note;
	int64_t due;
};

/* Appends the message, its text and the deliveries row; *seq gets the
 * delivery's seq and ackid its ack link id. */
static inline void gen_delivery_row(struct store *db, const struct gen_delivery *g,
			     long i, int64_t *seq, char ackid[TOKEN_ACKID_LEN + 1])
{
	struct herald_err e;
	char occ[32], msg[256], keytext[160];
	format_rfc3339_utc(g->due + 86400, occ, sizeof occ);
	snprintf(msg, sizeof msg, "Reminder: %s starts %s. Acknowledge: {{ack_url}}",
		 g->topic, occ);
	unsigned char tsha[32], psha[32], key[32], ack[16];
	gen_check(store_text_put(db, msg, strlen(msg), tsha, &e), &e);
	hex_decode("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", psha, 32);
	struct store_message m = {
		.created_at = g->due - 60, .kind = g->kind ? g->kind : "scheduled",
		.plan_id = "ACME-TEST", .plan_version = "2.1", .plan_sha256 = psha,
		.communication = g->comm, .topic = g->topic, .has_occurrence = true,
		.occurrence = g->due + 86400, .has_offset = true, .notify_offset = 86400,
		.audience = g->aud, .channel_type = g->chan_type, .channel_id = g->chan_id,
		.due = g->due, .text = tsha, .requested_by = g->requested_by, .note = g->note,
		.mail_domain = strcmp(g->chan_type, "email") == 0 ? "herald.example" : NULL,
	};
	int64_t mseq;
	gen_check(store_message_add(db, &m, &mseq, &e), &e);
	snprintf(keytext, sizeof keytext, "ACME-TEST/%s/%s/%s/%s/%ld", g->comm, occ, g->aud,
		 g->chan_id, i);
	sha256(keytext, strlen(keytext), key);
	memcpy(ack, key, 16);
	base64url(ack, 16, ackid);
	struct store_delivery d = { .message = mseq, .key = key, .recipient = g->recipient,
				    .recipient_name = g->recipient_name, .ack = ack };
	gen_check(store_delivery_add(db, &d, seq, &e), &e);
}

static inline void gen_attempt(struct store *db, int64_t seq, int n, int64_t at,
			const char *outcome, int status, int possible_dup)
{
	struct herald_err e;
	struct store_attempt a = {
		.delivery = seq, .n = n, .started_at = at, .finished_at = at + 1,
		.outcome = outcome, .status = status,
		.reply = status == 200 ? "ok" : status ? "Service Unavailable" : NULL,
		.error = strcmp(outcome, "ok") && strcmp(outcome, "dry-run") ? "HTTP error" : NULL,
		.latency_ms = 120 + n, .possible_duplicate = possible_dup,
	};
	gen_check(store_attempt_add(db, &a, &e), &e);
}

static inline void gen_state(struct store *db, int64_t seq, int64_t at,
		      const char *state, int late, int dup, int attempts)
{
	struct herald_err e;
	struct store_state st = { .delivery = seq, .at = at, .state = state, .late = late,
				  .duplicate = dup, .attempts = attempts,
				  .possible_duplicate = dup };
	gen_check(store_state_add(db, &st, &e), &e);
}

static inline void gen_ack(struct store *db, int64_t seq, const char *ackid,
			   int64_t at, const struct gen_delivery *g)
{
	struct herald_err e;
	struct store_ack a = {
		.ackid = ackid, .delivery = seq, .communication = g->comm, .audience = g->aud,
		.person = g->recipient_name ? g->recipient_name : g->recipient, .at = at,
	};
	gen_check(store_ack_add(db, &a, &e), &e);
}

enum gen_outcome { G_ONTIME, G_LATE, G_RETRIED, G_FAILED, G_MISSED,
		   G_DRYRUN, G_PENDING };

/* One delivery with its attempts, final state and (optionally) an ack. */
static inline void gen_one(struct store *db, const struct gen_delivery *g, long i,
		    enum gen_outcome o, int acked, int possible_dup)
{
	char ackid[TOKEN_ACKID_LEN + 1];
	int64_t key;
	gen_delivery_row(db, g, i, &key, ackid);
	int64_t t = g->due;
	switch (o) {
	case G_ONTIME:
		gen_attempt(db, key, 1, t + 1, "ok", 200, possible_dup);
		gen_state(db, key, t + 2, "sent", 0, possible_dup, 1);
		break;
	case G_LATE:
		gen_attempt(db, key, 1, t + 7200, "ok", 200, possible_dup);
		gen_state(db, key, t + 7201, "sent", 1, 0, 1);
		break;
	case G_RETRIED:
		gen_attempt(db, key, 1, t + 1, "temporary", 503, 0);
		gen_attempt(db, key, 2, t + 31, "ok", 200, 0);
		gen_state(db, key, t + 32, "sent", 0, 0, 2);
		break;
	case G_FAILED:
		gen_attempt(db, key, 1, t + 1, "temporary", 503, 0);
		gen_attempt(db, key, 2, t + 31, "temporary", 503, 0);
		gen_attempt(db, key, 3, t + 91, "permanent", 404, 0);
		gen_state(db, key, t + 92, "failed", 0, 0, 3);
		break;
	case G_MISSED:
		gen_state(db, key, t + 90000, "missed", 1, 0, 0);
		break;
	case G_DRYRUN:
		gen_attempt(db, key, 1, t + 1, "dry-run", 0, 0);
		gen_state(db, key, t + 2, "dry-run", 0, 0, 1);
		break;
	case G_PENDING:
		break;
	}
	if (acked)
		gen_ack(db, key, ackid, t + 3600, g);
}

static inline void gen_random(struct store *db, long first, long n, unsigned seed)
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
	if (store_begin(db, &e))
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
	if (store_commit(db, &e))
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
static inline void gen_scenario(struct store *db)
{
	struct herald_err e;
	int64_t t0 = 1772323200; /* 2026-03-01T00:00:00Z */
	int64_t day = 86400;
	if (store_begin(db, &e))
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
	if (store_commit(db, &e))
		gen_die(&e);
}

/* One message of (comm, occurrence, offset) to audience through channel,
 * and its deliveries to people [0, n) of who, each carrying ack link
 * acks[k] (NULL: none); seqs gets their seqs. */
struct gen_person {
	const char *name, *email;
};

static inline void gen_message_to(struct store *db, const char *comm, const char *topic,
				  const char *aud, const char *chtype, const char *chid,
				  const char *kind, int64_t occ, int64_t offset, int64_t due,
				  const struct gen_person *who, size_t n,
				  unsigned char (*acks)[16], int64_t *seqs)
{
	struct herald_err e;
	char text[160], keytext[200];
	snprintf(text, sizeof text, "%s%s: please acknowledge {{ack_url}}",
		 strcmp(kind, "reminder") == 0 ? "Reminder: " : "", topic);
	unsigned char tsha[32], key[32];
	gen_check(store_text_put(db, text, strlen(text), tsha, &e), &e);
	struct store_message m = {
		.created_at = due - 60, .kind = kind, .plan_id = "ACME-TEST", .plan_version = "2.1",
		.communication = comm, .topic = topic, .has_occurrence = true, .occurrence = occ,
		.has_offset = strcmp(kind, "reminder") != 0, .notify_offset = offset,
		.audience = aud, .channel_type = chtype, .channel_id = chid, .due = due, .text = tsha,
		.mail_domain = strcmp(chtype, "email") == 0 ? "herald.example" : NULL,
	};
	int64_t mseq;
	gen_check(store_message_add(db, &m, &mseq, &e), &e);
	for (size_t k = 0; k < n; k++) {
		snprintf(keytext, sizeof keytext, "%s/%" PRId64 "/%" PRId64 "/%s/%s/%s", comm, occ,
			 offset, kind, chid, who ? who[k].email : "-");
		sha256(keytext, strlen(keytext), key);
		struct store_delivery d = { .message = mseq, .key = key,
					    .recipient = who ? who[k].email : NULL,
					    .recipient_name = who ? who[k].name : NULL,
					    .ack = acks ? acks[k] : NULL };
		gen_check(store_delivery_add(db, &d, &seqs[k], &e), &e);
	}
}

static inline void gen_sent(struct store *db, int64_t seq, int64_t at)
{
	gen_attempt(db, seq, 1, at, "ok", 250, 0);
	gen_state(db, seq, at + 1, "sent", 0, 0, 1);
}

/*
 * The acknowledgement mix (report_acks.sh holds these numbers).  POL asks
 * 20 people (Person 01 … Person 20) by email, notify P7D and PT0S, and
 * reminds 3 days after the second notice those who have not acknowledged
 * (the others' reminders are cancelled):
 *
 *   POL 2026-06-10T09:00Z   20 asked, 15 acknowledged (01-15),  5 outstanding: 75%
 *                           (deliveries: 40 notices + 5 reminders sent)
 *   POL 2026-09-10T09:00Z   20 asked,  4 acknowledged (01-04), 16 outstanding: 20%
 *   POL / staff overall     40 asked, 19 acknowledged: 48%
 *   NEWS / staff            a Slack notice, no acknowledgement asked: —
 *   ALERT / ops             one shared channel asked, outstanding: 0%
 */
static inline void gen_ack_scenario(struct store *db)
{
	struct herald_err e;
	int64_t day = 86400;
	int64_t occ[2] = { 1781082000, 1789030800 }; /* 2026-06-10, 2026-09-10 09:00Z */
	int acked[2] = { 15, 4 };
	struct gen_person people[20];
	char names[20][32], emails[20][40];
	for (int i = 0; i < 20; i++) {
		snprintf(names[i], sizeof names[i], "Person %02d", i + 1);
		snprintf(emails[i], sizeof emails[i], "p%02d@acme.example", i + 1);
		people[i] = (struct gen_person){ names[i], emails[i] };
	}
	if (store_begin(db, &e))
		gen_die(&e);
	gen_plan(db, occ[0] - 30 * day, "loaded", "2.1");
	for (int o = 0; o < 2; o++) {
		unsigned char acks[20][16];
		char ids[20][TOKEN_ACKID_LEN + 1];
		for (int i = 0; i < 20; i++) {
			char t[128];
			snprintf(t, sizeof t, "POL/%" PRId64 "/%.40s", occ[o], emails[i]);
			unsigned char h[32];
			sha256(t, strlen(t), h);
			memcpy(acks[i], h, 16);
			base64url(acks[i], 16, ids[i]);
		}
		int64_t first[20], second[20], rem[20];
		const int64_t off[2] = { 7 * day, 0 };
		int64_t *seqs[2] = { first, second };
		for (int k = 0; k < 2; k++) {
			int64_t due = occ[o] - off[k];
			gen_message_to(db, "POL", "Security policy: read and acknowledge", "staff",
				       "email", "mail", "scheduled", occ[o], off[k], due, people, 20,
				       acks, seqs[k]);
			for (int i = 0; i < 20; i++)
				gen_sent(db, seqs[k][i], due + 2);
		}
		/* Acknowledgements between the notices. */
		for (int i = 0; i < acked[o]; i++) {
			struct store_ack a = { .ackid = ids[i], .delivery = first[i],
					       .communication = "POL", .audience = "staff",
					       .person = names[i], .at = occ[o] - 3 * day + i * 60 };
			gen_check(store_ack_add(db, &a, &e), &e);
		}
		int64_t rdue = occ[o] + 3 * day;
		gen_message_to(db, "POL", "Security policy: read and acknowledge", "staff",
			       "email", "mail", "reminder", occ[o], 0, rdue, people, 20, acks, rem);
		for (int i = 0; i < 20; i++) {
			if (i < acked[o]) {
				struct store_state st = { .delivery = rem[i], .at = rdue,
							  .state = "cancelled",
							  .detail = "acknowledged before the reminder" };
				gen_check(store_state_add(db, &st, &e), &e);
			} else {
				gen_sent(db, rem[i], rdue + 2);
			}
		}
	}
	int64_t news;
	gen_message_to(db, "NEWS", "Security newsletter", "staff", "slack", "slack-staff",
		       "scheduled", occ[0], 0, occ[0], NULL, 1, NULL, &news);
	gen_sent(db, news, occ[0] + 2);
	unsigned char shared[1][16], h[32];
	sha256("ALERT/ops/slack-ops", 19, h);
	memcpy(shared[0], h, 16);
	int64_t alert;
	gen_message_to(db, "ALERT", "Phishing alert", "ops", "slack", "slack-ops", "scheduled",
		       occ[0] + day, 0, occ[0] + day, NULL, 1, shared, &alert);
	gen_sent(db, alert, occ[0] + day + 2);
	if (store_commit(db, &e))
		gen_die(&e);
}

#endif
