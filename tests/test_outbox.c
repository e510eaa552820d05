/*
 * test_outbox.c - the outbox's logic against the store: keys, backoff,
 * materialising, claims, retries, give-up, catch-up (missed), duplicates
 * after a crash, releases, reminders and shared ack links, leases of
 * `herald send` queues, and the rules of manual sends and drills.  Time is
 * passed in, so nothing here waits.
 */
#include "testutil.h"

#include <sqlite3.h>
#include <unistd.h>

#include "herald/evidence.h"
#include "herald/outbox.h"
#include "herald/plan.h"
#include "herald/store.h"
#include "herald/token.h"
#include "herald/util.h"

static void keys(void **state)
{
	(void)state;
	char a[65], b[65], c[65];
	outbox_key("P", "C", "2026-01-01T10:00:00Z", 86400, "scheduled", "staff", "mail",
		   "a@example.org", a);
	outbox_key("P", "C", "2026-01-01T10:00:00Z", 86400, "scheduled", "staff", "mail",
		   "a@example.org", b);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), 64);
	outbox_key("P", "C", "2026-01-01T10:00:00Z", 86400, "scheduled", "staff", "mail",
		   "b@example.org", c);
	assert_string_not_equal(a, c);
	/* field boundaries matter: ("ab","c") != ("a","bc") */
	outbox_key("P", "Cx", "y", 0, "k", "a", "c", NULL, b);
	outbox_key("P", "C", "xy", 0, "k", "a", "c", NULL, c);
	assert_string_not_equal(b, c);
	/* One ack link per (communication, occurrence, person), whatever the
	 * case of the address. */
	unsigned char k1[16], k2[16], k3[16];
	outbox_ackid("P", "C", "2026-01-01T10:00:00Z", "Ann@Example.org", k1);
	outbox_ackid("P", "C", "2026-01-01T10:00:00Z", "ann@example.org", k2);
	outbox_ackid("P", "C", "2026-04-01T10:00:00Z", "ann@example.org", k3);
	assert_memory_equal(k1, k2, 16);
	assert_memory_not_equal(k1, k3, 16);
}

static void backoff(void **state)
{
	(void)state;
	struct outbox_policy p = { .max_attempts = 8, .base_ms = 1000, .cap_ms = 60000 };
	for (uint32_t r = 0; r < 1000; r += 37) {
		int64_t d1 = outbox_backoff_ms(&p, 1, r), d3 = outbox_backoff_ms(&p, 3, r);
		assert_true(d1 >= 500 && d1 <= 1000);
		assert_true(d3 >= 2000 && d3 <= 4000);
		int64_t d20 = outbox_backoff_ms(&p, 20, r);
		assert_true(d20 >= 30000 && d20 <= 60000);
	}
}

/* ------------------------------------------------------------ fixture */

/* 2027-02-01T09:00:00Z */
#define T0 1801472400LL

static const char plan_json[] =
	"{\"plan\": {\"id\": \"T-OUTBOX\", \"version\": \"1\", \"owner\": \"Ops\","
	"          \"timezone\": \"UTC\"},"
	" \"channels\": {\"hook\": {\"type\": \"webhook\", \"url\": \"https://hooks.example/x\"},"
	"              \"mail\": {\"type\": \"email\", \"smtp\": \"smtp://127.0.0.1:25\","
	"                         \"from\": \"isms@acme.example\", \"starttls\": false}},"
	" \"audiences\": {\"ops\": {\"scope\": \"internal\", \"deliver\": [{\"channel\": \"hook\"}]},"
	"   \"staff\": {\"scope\": \"internal\","
	"     \"members\": [{\"name\": \"Ann\", \"email\": \"ann@example.org\"},"
	"                 {\"name\": \"Bob\", \"email\": \"bob@example.org\"}],"
	"     \"deliver\": [{\"channel\": \"mail\", \"to\": \"members\"}]}},"
	" \"communications\": ["
	"   {\"id\": \"OPS\", \"topic\": \"Ops notice\", \"audiences\": [\"ops\"], \"owner\": \"Dana\","
	"    \"schedule\": {\"at\": [\"2027-02-01T10:00\"]}},"
	"   {\"id\": \"POLICY\", \"topic\": \"Policy\", \"audiences\": [\"staff\"], \"owner\": \"Dana\","
	"    \"notify\": [\"PT1H\", \"PT0S\"],"
	"    \"schedule\": {\"at\": [\"2027-02-01T11:00\"]}, \"acknowledge\": {\"remind_after\": [\"P1D\"]}},"
	"   {\"id\": \"INC\", \"topic\": \"Incident\", \"audiences\": [\"ops\", \"staff\"],"
	"    \"owner\": \"CISO\", \"schedule\": {\"trigger\": \"manual\"}},"
	"   {\"id\": \"ALERT\", \"topic\": \"Alert\", \"audiences\": [\"ops\", \"staff\"],"
	"    \"owner\": \"CISO\", \"schedule\": {\"trigger\": \"manual\"},"
	"    \"acknowledge\": {\"remind_after\": [\"PT1H\"]},"
	"    \"drill\": {\"to\": [\"drill@acme.example\"], \"channels\": [\"hook\", \"mail\"]}}]}";

/* INC and ALERT with the plan's drill mailbox (ALERT keeps its own). */
static const char drill_header[] = "\"timezone\": \"UTC\", "
	"\"drill\": {\"to\": [\"drill@acme.example\"]}";

struct fx {
	char path[80];
	struct store *s;
	struct plan *p;
	struct outbox_policy pol;
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);
	snprintf(f->path, sizeof f->path, "/tmp/herald-test-outbox-%d.db", (int)getpid());
	unlink(f->path);
	struct herald_err err;
	struct store_open_opts o = { .create = true };
	assert_int_equal(store_open(f->path, &o, &f->s, &err), H_OK);
	struct plan_load_opts po = { 0 };
	if (plan_load_buf("t.json", plan_json, sizeof plan_json - 1, &po, &f->p, &err))
		fail_msg("plan: %s", err.msg);
	outbox_policy_default(&f->pol);
	f->pol.base_ms = 10000;
	f->pol.cap_ms = 60000;
	f->pol.max_attempts = 3;
	f->pol.grace = 3600;
	f->pol.max_age = 86400;
	f->pol.lease = 120;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_close(f->s);
	plan_free(f->p);
	char p[96];
	unlink(f->path);
	snprintf(p, sizeof p, "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", f->path);
	unlink(p);
	snprintf(p, sizeof p, "%s.witness", f->path);
	unlink(p);
	free(f);
	return 0;
}

static size_t materialise(struct fx *f, int64_t from, int64_t to)
{
	size_t n = 0;
	struct herald_err err;
	if (outbox_materialise(f->s, f->p, from, to, &n, &err))
		fail_msg("materialise: %s", err.msg);
	return n;
}

static size_t claim(struct fx *f, const char *queue, int64_t now, struct outbox_item ***items)
{
	size_t n = 0;
	struct herald_err err;
	if (outbox_claim(f->s, queue, now, 100, &f->pol, items, &n, &err))
		fail_msg("claim: %s", err.msg);
	return n;
}

static void free_items(struct outbox_item **items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		outbox_item_free(items[i]);
	free(items);
}

/* Records every item with one outcome at now. */
static void record_all(struct fx *f, struct outbox_item **items, size_t n,
		       enum chan_result r, int64_t now)
{
	struct outbox_result *res = xcalloc(n ? n : 1, sizeof *res);
	for (size_t i = 0; i < n; i++) {
		res[i].item = items[i];
		res[i].o.result = r;
		res[i].o.retry_after = -1;
		res[i].o.status = r == CHAN_OK ? 200 : 503;
		if (r != CHAN_OK)
			snprintf(res[i].o.error, sizeof res[i].o.error, "HTTP 503");
		res[i].finished = now;
	}
	struct herald_err err;
	if (outbox_record(f->s, res, n, &f->pol, &err))
		fail_msg("record: %s", err.msg);
	free(res);
}

struct tally {
	int n, sent, failed, missed, cancelled, pending, dup, late;
	const char *only;
};

static int tally_one(const struct store_delivery_view *d, void *ctx)
{
	struct tally *t = ctx;
	if (t->only && strcmp(d->communication, t->only) != 0)
		return 0;
	t->n++;
	t->sent += strcmp(d->state, "sent") == 0;
	t->failed += strcmp(d->state, "failed") == 0;
	t->missed += strcmp(d->state, "missed") == 0;
	t->cancelled += strcmp(d->state, "cancelled") == 0;
	t->pending += strcmp(d->state, "pending") == 0;
	t->dup += d->duplicate;
	t->late += d->late;
	return 0;
}

static struct tally tally(struct fx *f, const char *only)
{
	struct tally t = { .only = only };
	struct herald_err err;
	assert_int_equal(store_each_delivery(f->s, NULL, tally_one, &t, NULL, &err), H_OK);
	return t;
}

static void verifies(struct fx *f)
{
	struct herald_err err;
	if (evidence_verify(f->s, NULL, NULL, &err))
		fail_msg("verify: %s", err.msg);
}

/* -------------------------------------------------------------- tests */

static void materialise_is_idempotent(void **state)
{
	struct fx *f = *state;
	/* OPS: 1; POLICY: 2 people x 2 offsets, and a reminder each after
	 * the last notice: 6. */
	assert_int_equal(materialise(f, T0, T0 + 86400), 7);
	assert_int_equal(materialise(f, T0, T0 + 86400), 0);
	assert_int_equal(materialise(f, T0 - 86400, T0 + 2 * 86400), 0);
	struct tally t = tally(f, NULL);
	assert_int_equal(t.n, 7);
	assert_int_equal(t.pending, 7);
	verifies(f);
}

static void claim_send_and_done(void **state)
{
	struct fx *f = *state;
	materialise(f, T0, T0 + 86400);
	struct outbox_item **it;
	/* Nothing is due before 10:00 (OPS) and POLICY's first offset. */
	assert_int_equal(claim(f, "pending", T0 + 1800, &it), 0);
	free(it);
	size_t n = claim(f, "pending", T0 + 3600, &it);
	assert_int_equal(n, 3);  /* OPS, and POLICY -1h for Ann and Bob */
	for (size_t i = 0; i < n; i++)
		assert_int_equal(it[i]->attempt, 1);
	/* Claimed is claimed: a second claim gets none of them. */
	struct outbox_item **again;
	assert_int_equal(claim(f, "pending", T0 + 3600, &again), 0);
	free(again);
	record_all(f, it, n, CHAN_OK, T0 + 3601);
	free_items(it, n);
	struct tally t = tally(f, NULL);
	assert_int_equal(t.sent, 3);
	assert_int_equal(t.late, 0);
	struct store_outbox_stats st;
	struct herald_err err;
	assert_int_equal(store_outbox_stats(f->s, T0 + 3601, &st, &err), H_OK);
	assert_int_equal(st.sent, 3);
	assert_int_equal(st.pending, 4);
	verifies(f);
}

/* Claims at t, t+1, … until OPS comes up (at most 120 s): the others
 * are recorded sent; OPS is returned claimed (*now = when). */
static struct outbox_item *claim_ops(struct fx *f, int64_t *now)
{
	for (int64_t t = *now; t < *now + 120; t++) {
		struct outbox_item **it;
		size_t n = claim(f, "pending", t, &it);
		struct outbox_item *ops = NULL;
		for (size_t i = 0; i < n; i++) {
			if (strcmp(it[i]->communication, "OPS") == 0) {
				ops = it[i];
				it[i] = it[n - 1];
				n--;
				i--;
			}
		}
		record_all(f, it, n, CHAN_OK, t);
		free_items(it, n);
		if (ops) {
			*now = t;
			return ops;
		}
	}
	return NULL;
}

static void retries_back_off_then_give_up(void **state)
{
	struct fx *f = *state;
	materialise(f, T0, T0 + 3600 + 1);
	int64_t now = T0 + 3600;
	int64_t last = 0;
	for (int attempt = 1; attempt <= 3; attempt++) {
		struct outbox_item *ops = claim_ops(f, &now);
		assert_non_null(ops);
		assert_int_equal(ops->attempt, attempt);
		/* Each wait at least half the doubled base (10 s, 20 s). */
		if (attempt > 1)
			assert_true(now - last >= 5 * (1 << (attempt - 2)));
		last = now;
		struct outbox_item *one[1] = { ops };
		record_all(f, one, 1, CHAN_TEMP, now);
		outbox_item_free(ops);
	}
	struct tally t = tally(f, "OPS");
	assert_int_equal(t.failed, 1);
	verifies(f);
}

static void missed_beyond_grace(void **state)
{
	struct fx *f = *state;
	materialise(f, T0, T0 + 3600 + 1);
	struct outbox_item **it;
	/* Down for 2 h past OPS's due time: grace is 1 h. */
	size_t n = claim(f, "pending", T0 + 3600 + 7200, &it);
	for (size_t i = 0; i < n; i++)
		assert_string_not_equal(it[i]->communication, "OPS");
	free_items(it, n);
	struct tally t = tally(f, "OPS");
	assert_int_equal(t.missed, 1);
	assert_int_equal(t.late, 1);
	verifies(f);
}

static void crash_after_claim_flags_duplicate(void **state)
{
	struct fx *f = *state;
	materialise(f, T0, T0 + 3600 + 1);
	struct outbox_item **it;
	size_t n = claim(f, "pending", T0 + 3600, &it);
	assert_int_equal(n, 3);
	/* The process dies here, after sending, before recording. */
	free_items(it, n);
	struct herald_err err;
	int64_t back;
	assert_int_equal(outbox_recover(f->s, T0 + 3700, true, &back, &err), H_OK);
	assert_int_equal(back, 3);
	n = claim(f, "pending", T0 + 3700, &it);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		assert_true(it[i]->possible_duplicate);
		assert_int_equal(it[i]->attempt, 2);
	}
	record_all(f, it, n, CHAN_OK, T0 + 3701);
	free_items(it, n);
	struct tally t = tally(f, NULL);
	assert_int_equal(t.sent, 3);
	assert_int_equal(t.dup, 3);
	verifies(f);
}

static void release_undoes_a_claim(void **state)
{
	struct fx *f = *state;
	materialise(f, T0, T0 + 3600 + 1);
	struct outbox_item **it;
	size_t n = claim(f, "pending", T0 + 3600, &it);
	assert_int_equal(n, 3);
	struct herald_err err;
	assert_int_equal(outbox_release(f->s, "pending", it, n, &err), H_OK);
	free_items(it, n);
	n = claim(f, "pending", T0 + 3600, &it);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		assert_false(it[i]->possible_duplicate);
		assert_int_equal(it[i]->attempt, 1);
	}
	free_items(it, n);
}

static void one_ack_ends_the_reminders(void **state)
{
	struct fx *f = *state;
	materialise(f, T0, T0 + 86400);
	struct outbox_item **it;
	size_t n = claim(f, "pending", T0 + 7200, &it);
	assert_int_equal(n, 5);  /* OPS; POLICY -1h and 0 for Ann and Bob */
	/* Both offsets of one person carry one ack link. */
	const char *ann = NULL;
	int anns = 0;
	for (size_t i = 0; i < n; i++) {
		if (!it[i]->recipient || strcmp(it[i]->recipient, "ann@example.org") != 0)
			continue;
		assert_non_null(it[i]->ack_id);
		if (!ann)
			ann = it[i]->ack_id;
		assert_string_equal(ann, it[i]->ack_id);
		anns++;
	}
	assert_int_equal(anns, 2);
	/* Ann confirms. */
	struct store_ack_target t;
	struct herald_err err;
	assert_true(store_ack_lookup(f->s, ann, &t, &err));
	assert_string_equal(t.recipient, "ann@example.org");
	assert_int_equal(store_begin(f->s, &err), H_OK);
	struct store_ack a = { .ackid = ann, .delivery = t.delivery, .communication = t.communication,
			       .audience = t.audience, .person = t.person, .at = T0 + 7300 };
	assert_int_equal(store_ack_add(f->s, &a, &err), H_OK);
	assert_int_equal(store_commit(f->s, &err), H_OK);
	store_ack_target_free(&t);
	record_all(f, it, n, CHAN_OK, T0 + 7201);
	free_items(it, n);
	/* A day later the reminders fall due: Bob's are sent, Ann's cancelled. */
	n = claim(f, "pending", T0 + 7200 + 86400, &it);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(it[i]->kind, "reminder");
		assert_string_equal(it[i]->recipient, "bob@example.org");
		assert_non_null(strstr(it[i]->message, "Reminder"));
	}
	/* One reminder each, after the last notice only. */
	assert_int_equal(n, 1);
	free_items(it, n);
	struct tally tp = tally(f, "POLICY");
	assert_int_equal(tp.cancelled, 1);
	verifies(f);
}

/* Ann confirms her POLICY link at `at`. */
static void ack_ann(struct fx *f, int64_t at)
{
	unsigned char raw[16];
	char ann[TOKEN_ACKID_LEN + 1];
	outbox_ackid("T-OUTBOX", "POLICY", "2027-02-01T11:00:00Z", "ann@example.org", raw);
	base64url(raw, 16, ann);
	struct store_ack_target t;
	struct herald_err err;
	assert_true(store_ack_lookup(f->s, ann, &t, &err));
	assert_int_equal(store_begin(f->s, &err), H_OK);
	struct store_ack a = { .ackid = ann, .delivery = t.delivery, .communication = t.communication,
			       .audience = t.audience, .person = t.person, .at = at };
	assert_int_equal(store_ack_add(f->s, &a, &err), H_OK);
	assert_int_equal(store_commit(f->s, &err), H_OK);
	store_ack_target_free(&t);
}

/* POLICY sent to Ann and Bob at both offsets, Ann acknowledges, Bob's
 * reminders go out (Ann's are cancelled). */
static void policy_round(struct fx *f)
{
	materialise(f, T0, T0 + 86400);
	struct outbox_item **it;
	size_t n = claim(f, "pending", T0 + 7200, &it);
	record_all(f, it, n, CHAN_OK, T0 + 7201);
	free_items(it, n);
	ack_ann(f, T0 + 7300);
	n = claim(f, "pending", T0 + 7200 + 86400, &it);
	assert_int_equal(n, 1);
	record_all(f, it, n, CHAN_OK, T0 + 7201 + 86400);
	free_items(it, n);
}

struct links {
	int n;
	char who[8][40];
	int64_t reminders[8], acked[8], first_sent[8], first_due[8];
};

static int on_link(const struct store_ack_link *l, void *ctx)
{
	struct links *x = ctx;
	if (x->n < 8) {
		snprintf(x->who[x->n], sizeof x->who[0], "%s/%s", l->communication,
			 l->email ? l->email : "-");
		x->reminders[x->n] = l->reminders;
		x->acked[x->n] = l->acked_at;
		x->first_sent[x->n] = l->first_sent;
		x->first_due[x->n] = l->first_due;
	}
	x->n++;
	return 0;
}

static struct links links(struct fx *f, const struct store_ack_filter *flt)
{
	struct links x = { 0 };
	struct herald_err err;
	if (store_each_ack_link(f->s, flt, on_link, &x, NULL, &err))
		fail_msg("register: %s", err.msg);
	return x;
}

/* One row per person and occurrence however many offsets and reminders,
 * the reminders counted, filters, and the JSON of the register. */
static void register_of_acknowledgements(void **state)
{
	struct fx *f = *state;
	/* People are asked once their first message is due, not before. */
	materialise(f, T0, T0 + 86400);
	struct store_ack_filter early = { .has_due_by = true, .due_by = T0 + 3599 };
	assert_int_equal(links(f, &early).n, 0);
	early.due_by = T0 + 3600;
	assert_int_equal(links(f, &early).n, 2);
	policy_round(f);
	struct links x = links(f, NULL);
	assert_int_equal(x.n, 2);            /* OPS asks nothing */
	assert_string_equal(x.who[0], "POLICY/ann@example.org");
	assert_string_equal(x.who[1], "POLICY/bob@example.org");
	assert_int_equal(x.acked[0], T0 + 7300);
	assert_int_equal(x.reminders[0], 0);
	assert_int_equal(x.acked[1], 0);
	assert_int_equal(x.reminders[1], 1); /* after the last notice only */
	assert_int_equal(x.first_sent[1], T0 + 7201);
	assert_int_equal(x.first_due[1], T0 + 3600);   /* the PT1H notice */
	struct store_ack_filter o = { .outstanding = true };
	x = links(f, &o);
	assert_int_equal(x.n, 1);
	assert_string_equal(x.who[0], "POLICY/bob@example.org");
	struct store_ack_filter a = { .audience = "ops" };
	assert_int_equal(links(f, &a).n, 0);
	struct store_ack_filter c = { .communication = "OPS" };
	assert_int_equal(links(f, &c).n, 0);
	/* Once sent, people were asked, whatever the clock says. */
	struct store_ack_filter d = { .has_due_by = true, .due_by = T0 };
	assert_int_equal(links(f, &d).n, 2);
	struct store_ack_filter w = { .has_from = true, .from = T0 + 3601 };
	assert_int_equal(links(f, &w).n, 0);

	char *json = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&json, &len);
	struct evidence_acks_totals t;
	struct herald_err err;
	assert_int_equal(evidence_acks(f->s, NULL, EVIDENCE_ACKS_JSON, mem, &t, &err), H_OK);
	fclose(mem);
	assert_int_equal(t.asked, 2);
	assert_int_equal(t.acknowledged, 1);
	assert_int_equal(t.outstanding, 1);
	assert_non_null(strstr(json, "{\"communication\": \"POLICY\", \"occurrence\": "
				     "\"2027-02-01T11:00:00Z\", \"audience\": \"staff\", \"name\": \"Bob\", "
				     "\"email\": \"bob@example.org\", \"first_sent\": \"2027-02-01T11:00:01Z\", "
				     "\"reminders\": 1, \"acknowledged_at\": null}"));
	free(json);
}

/* Records every item as the null channel of --dry-run does, at now. */
static void record_dry(struct fx *f, struct outbox_item **items, size_t n, int64_t now)
{
	struct outbox_result *res = xcalloc(n ? n : 1, sizeof *res);
	for (size_t i = 0; i < n; i++) {
		res[i].item = items[i];
		res[i].o.result = CHAN_OK;
		res[i].o.dry_run = true;
		res[i].o.retry_after = -1;
		res[i].finished = now;
	}
	struct herald_err err;
	if (outbox_record(f->s, res, n, &f->pol, &err))
		fail_msg("record: %s", err.msg);
	free(res);
}

/* A dry run reached no one: people whose messages were all recorded
 * dry-run were not asked; a real message after it (the service run
 * without --dry-run for the second notice) asks them from then. */
static void dry_run_asks_no_one(void **state)
{
	struct fx *f = *state;
	materialise(f, T0, T0 + 86400);
	struct outbox_item **it;
	size_t n = claim(f, "pending", T0 + 3600, &it);   /* OPS and POLICY's PT1H */
	assert_int_equal(n, 3);
	record_dry(f, it, n, T0 + 3601);
	free_items(it, n);
	struct store_ack_filter asked = { .has_due_by = true, .due_by = T0 + 3600 };
	assert_int_equal(links(f, &asked).n, 0);   /* before the dry run: 2 */
	struct evidence_acks_totals t;
	struct herald_err err;
	FILE *null = fopen("/dev/null", "w");
	assert_int_equal(evidence_acks(f->s, &asked, EVIDENCE_ACKS_CSV, null, &t, &err), H_OK);
	assert_int_equal(t.asked, 0);
	/* Unfiltered, the register still lists whom the real notice will ask,
	 * as not sent and due with it. */
	struct links x = links(f, NULL);
	assert_int_equal(x.n, 2);
	assert_int_equal(x.first_sent[0], 0);
	assert_int_equal(x.first_due[0], T0 + 7200);

	n = claim(f, "pending", T0 + 7200, &it);           /* POLICY's PT0S, for real */
	assert_int_equal(n, 2);
	record_all(f, it, n, CHAN_OK, T0 + 7201);
	free_items(it, n);
	x = links(f, &asked);
	assert_int_equal(x.n, 2);
	assert_string_equal(x.who[0], "POLICY/ann@example.org");
	assert_int_equal(x.first_sent[0], T0 + 7201);
	assert_int_equal(x.first_due[0], T0 + 7200);       /* the real message's */
	assert_int_equal(x.reminders[0], 0);
	assert_int_equal(evidence_acks(f->s, NULL, EVIDENCE_ACKS_CSV, null, &t, &err), H_OK);
	assert_int_equal(t.asked, 2);
	assert_int_equal(t.outstanding, 2);
	fclose(null);
}

static const char *replace_or_die(char **j, const char *from, const char *to)
{
	char *r = replace(*j, from, to);
	assert_string_not_equal(r, *j);
	free(*j);
	*j = r;
	return r;
}

/* The plan of the fixture with Bob gone and Cara come, loaded. */
static struct plan *reloaded(const char *extra_from, const char *extra_to)
{
	char *j = xstrdup(plan_json);
	replace_or_die(&j, "{\"name\": \"Bob\", \"email\": \"bob@example.org\"}",
		       "{\"name\": \"Cara\", \"email\": \"Cara@Example.org\"}");
	if (extra_from)
		replace_or_die(&j, extra_from, extra_to);
	struct plan *p;
	struct herald_err err;
	struct plan_load_opts po = { 0 };
	if (plan_load_buf("t.json", j, strlen(j), &po, &p, &err))
		fail_msg("plan: %s", err.msg);
	free(j);
	return p;
}

struct cancelled {
	int left;
	const char *who;
};

static int on_cancelled(const struct store_delivery_view *d, void *ctx)
{
	struct cancelled *c = ctx;
	if (strcmp(d->state, "cancelled") == 0 && d->detail &&
	    strcmp(d->detail, "left the audience") == 0) {
		assert_string_equal(d->recipient, c->who);
		c->left++;
	}
	return 0;
}

static void joiner_onboarded_leaver_cancelled(void **state)
{
	struct fx *f = *state;
	materialise(f, T0, T0 + 86400);
	struct outbox_item **it;
	size_t n = claim(f, "pending", T0 + 7200, &it);
	assert_int_equal(n, 5);
	record_all(f, it, n, CHAN_OK, T0 + 7201);
	free_items(it, n);
	struct plan *p2 = reloaded(NULL, NULL);
	struct outbox_membership_counts k;
	struct herald_err err;
	int64_t now = T0 + 10000;
	assert_int_equal(outbox_membership(f->s, f->p, p2, now, &k, &err), H_OK);
	assert_int_equal(k.joined, 1);
	assert_int_equal(k.left, 1);
	assert_int_equal(k.cancelled, 1);    /* Bob's reminder */
	assert_int_equal(k.onboarding, 2);   /* Cara's message and its reminder */
	struct cancelled c = { 0, "bob@example.org" };
	assert_int_equal(store_each_delivery(f->s, NULL, on_cancelled, &c, NULL, &err), H_OK);
	assert_int_equal(c.left, 1);
	/* Again with the same plans: nothing more. */
	assert_int_equal(outbox_membership(f->s, f->p, p2, now, &k, &err), H_OK);
	assert_int_equal(k.onboarding, 0);
	assert_int_equal(k.cancelled, 0);
	/* Cara's onboarding is due now, on the occurrence she missed, with
	 * her own ack link; Ann gets nothing new. */
	n = claim(f, "pending", now, &it);
	assert_int_equal(n, 1);
	assert_string_equal(it[0]->kind, "onboarding");
	assert_string_equal(it[0]->recipient, "Cara@Example.org");
	assert_string_equal(it[0]->occurrence, "2027-02-01T11:00:00Z");
	assert_non_null(strstr(it[0]->message, "Welcome to"));
	assert_non_null(strstr(it[0]->message, "{{ack_url}}"));
	unsigned char raw[16];
	char want[TOKEN_ACKID_LEN + 1];
	outbox_ackid("T-OUTBOX", "POLICY", "2027-02-01T11:00:00Z", "cara@example.org", raw);
	base64url(raw, 16, want);
	assert_string_equal(it[0]->ack_id, want);
	record_all(f, it, n, CHAN_OK, now + 1);
	free_items(it, n);
	/* Her reminder comes a day after the onboarding, Bob's never. */
	n = claim(f, "pending", now + 86400, &it);
	int reminders = 0;
	for (size_t i = 0; i < n; i++) {
		assert_string_not_equal(it[i]->recipient, "bob@example.org");
		if (strcmp(it[i]->recipient, "Cara@Example.org") == 0) {
			assert_string_equal(it[i]->kind, "reminder");
			reminders++;
		}
	}
	assert_int_equal(reminders, 1);
	record_all(f, it, n, CHAN_OK, now + 86401);
	free_items(it, n);
	/* The register: Cara asked (onboarding), with one reminder sent. */
	struct store_ack_filter fl = { .outstanding = true };
	struct links x = links(f, &fl);
	int cara = -1;
	for (int i = 0; i < x.n && i < 8; i++)
		if (strcmp(x.who[i], "POLICY/Cara@Example.org") == 0)
			cara = i;
	assert_true(cara >= 0);
	assert_int_equal(x.reminders[cara], 1);
	assert_int_equal(x.first_sent[cara], now + 1);
	plan_free(p2);
	verifies(f);
}

/* "new_members": "none" onboards no one; a leaver still leaves. */
static void new_members_none(void **state)
{
	struct fx *f = *state;
	materialise(f, T0, T0 + 86400);
	struct plan *p2 = reloaded("\"remind_after\": [\"P1D\"]",
				   "\"remind_after\": [\"P1D\"], \"new_members\": \"none\"");
	struct outbox_membership_counts k;
	struct herald_err err;
	assert_int_equal(outbox_membership(f->s, f->p, p2, T0 + 10000, &k, &err), H_OK);
	assert_int_equal(k.onboarding, 0);
	assert_int_equal(k.joined, 1);
	/* Nothing was sent yet: Bob's two notices and his reminder go. */
	assert_int_equal(k.cancelled, 3);
	/* No old plan (a first start): nothing compared. */
	assert_int_equal(outbox_membership(f->s, NULL, p2, T0 + 10000, &k, &err), H_OK);
	assert_int_equal(k.joined + k.left + k.onboarding + k.cancelled, 0);
	plan_free(p2);
	verifies(f);
}

/* {{name}}: the member in a personal message (filled at send time), the
 * audience otherwise; a custom message without {{ack_url}} gets the link. */
static void name_and_link_placeholders(void **state)
{
	struct fx *f = *state;
	char *j = xstrdup(plan_json);
	replace_or_die(&j, "\"topic\": \"Ops notice\",", "\"topic\": \"Ops notice\", \"message\": \"Hi {{name}}.\",");
	replace_or_die(&j, "\"topic\": \"Policy\",", "\"topic\": \"Policy\", \"message\": \"Dear {{name}}, read it.\",");
	replace_or_die(&j, "\"ops\": {\"scope\"", "\"ops\": {\"name\": \"Operations\", \"scope\"");
	struct plan *p;
	struct herald_err err;
	struct plan_load_opts po = { 0 };
	if (plan_load_buf("t.json", j, strlen(j), &po, &p, &err))
		fail_msg("plan: %s", err.msg);
	free(j);
	size_t made;
	assert_int_equal(outbox_materialise(f->s, p, T0, T0 + 86400, &made, &err), H_OK);
	struct outbox_item **it;
	size_t n = claim(f, "pending", T0 + 3600, &it);
	int ops = 0, policy = 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(it[i]->communication, "OPS") == 0) {
			assert_string_equal(it[i]->message, "Hi Operations.");
			ops++;
		} else {
			assert_string_equal(it[i]->message, "Dear {{name}}, read it.\n\nPlease acknowledge "
					    "that you have read this: {{ack_url}}");
			policy++;
		}
	}
	assert_int_equal(ops, 1);
	assert_int_equal(policy, 2);
	free_items(it, n);
	plan_free(p);
}

static void cli_queue_is_adopted_after_its_lease(void **state)
{
	struct fx *f = *state;
	struct herald_err err;
	struct outbox_made *made = NULL;
	size_t nk = 0;
	long ci = plan_comm_index(f->p, "INC");
	assert_true(ci >= 0);
	/* herald send's own queue: the service leaves it alone... */
	int64_t now = T0;
	struct outbox_manual m = { .by = "dana", .note = "case 42" };
	assert_int_equal(outbox_create_manual(f->s, f->p, &f->p->comms[ci], now, &m,
					      "cli:abc", &made, &nk, &err), H_OK);
	assert_int_equal(nk, 3);  /* ops hook, Ann, Bob */
	free(made);
	struct outbox_item **it;
	assert_int_equal(claim(f, "pending", now, &it), 0);
	free(it);
	size_t n = claim(f, "cli:abc", now, &it);
	assert_int_equal(n, 3);
	assert_string_equal(it[0]->note, "case 42");
	free_items(it, n);
	int64_t back;
	assert_int_equal(outbox_recover(f->s, now + 60, false, &back, &err), H_OK);
	assert_int_equal(back, 0);
	/* ... until the command is gone and its lease has run out. */
	assert_int_equal(outbox_recover(f->s, now + f->pol.lease + 1, false, &back, &err), H_OK);
	assert_int_equal(back, 3);
	n = claim(f, "pending", now + f->pol.lease + 1, &it);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++)
		assert_true(it[i]->possible_duplicate);
	free_items(it, n);
	/* A live command keeps its lease. */
	m.note = NULL;
	assert_int_equal(outbox_create_manual(f->s, f->p, &f->p->comms[ci], now, &m,
					      "cli:def", &made, &nk, &err), H_OK);
	free(made);
	assert_int_equal(outbox_renew(f->s, "cli:def", now + 100, &f->pol, &err), H_OK);
	assert_int_equal(outbox_recover(f->s, now + f->pol.lease + 1, false, &back, &err), H_OK);
	assert_int_equal(back, 0);
}

/* --------------------------------------------------- manual sends */

static struct plan *plan_with_drill(void)
{
	char *j = replace(plan_json, "\"timezone\": \"UTC\"", drill_header);
	struct plan *p;
	struct herald_err err;
	if (load_str(j, &p, &err))
		fail_msg("plan: %s", err.msg);
	free(j);
	return p;
}

static enum herald_rc check(const struct plan *p, const char *comm,
			    const struct outbox_manual *m, char *msg)
{
	struct herald_err err;
	herald_err_clear(&err);
	enum herald_rc rc = outbox_manual_check(p, &p->comms[plan_comm_index(p, comm)], m, &err);
	strcpy(msg, err.msg);
	return rc;
}

static void manual_rules(void **state)
{
	(void)state;
	struct plan *p = plan_with_drill();
	char msg[HERALD_ERR_LEN];
	struct outbox_manual m = { .by = "Dana Reyes", .note = "case 42",
				   .base_url = "https://herald.example" };
	assert_int_equal(check(p, "INC", &m, msg), H_OK);
	/* who asks */
	struct outbox_manual bad = m;
	bad.by = NULL;
	assert_int_equal(check(p, "INC", &bad, msg), H_EUSAGE);
	assert_contains(msg, "by: ");
	bad.by = "  ";
	assert_int_equal(check(p, "INC", &bad, msg), H_EUSAGE);
	bad.by = "{{ack_url}}";
	assert_int_equal(check(p, "INC", &bad, msg), H_EUSAGE);
	bad.by = "Dana\nReyes";
	assert_int_equal(check(p, "INC", &bad, msg), H_EUSAGE);
	/* the note: at most 64 KiB of text */
	char *big = xmalloc(OUTBOX_NOTE_MAX + 2);
	memset(big, 'x', OUTBOX_NOTE_MAX + 1);
	big[OUTBOX_NOTE_MAX + 1] = '\0';
	bad = m;
	bad.note = big;
	assert_int_equal(check(p, "INC", &bad, msg), H_EUSAGE);
	assert_contains(msg, "note: 65537 bytes is more than the 65536");
	big[OUTBOX_NOTE_MAX] = '\0';
	assert_int_equal(check(p, "INC", &bad, msg), H_OK);
	free(big);
	bad.note = "caf\xc3";
	assert_int_equal(check(p, "INC", &bad, msg), H_EUSAGE);
	assert_contains(msg, "UTF-8");
	bad.note = "line\x07" "bell";
	assert_int_equal(check(p, "INC", &bad, msg), H_EUSAGE);
	bad.note = "two\r\nlines\tand a tab";
	assert_int_equal(check(p, "INC", &bad, msg), H_OK);
	/* a scheduled communication only out of turn, and with a reason */
	assert_int_equal(check(p, "OPS", &m, msg), H_EINVAL);
	assert_contains(msg, "out of turn");
	bad = m;
	bad.out_of_turn = true;
	assert_int_equal(check(p, "OPS", &bad, msg), H_OK);
	bad.note = NULL;
	assert_int_equal(check(p, "OPS", &bad, msg), H_EUSAGE);
	assert_contains(msg, "note: an out-of-turn send needs a note");
	/* drills need drill recipients: OPS reaches only a webhook */
	bad = m;
	bad.drill = true;
	assert_int_equal(check(p, "INC", &bad, msg), H_OK);
	assert_int_equal(check(p, "OPS", &bad, msg), H_EINVAL);
	assert_contains(msg, "communication OPS has no drill recipients");
	/* links that reach people: ALERT asks for acknowledgements */
	bad = m;
	bad.base_url = NULL;
	assert_int_equal(check(p, "INC", &bad, msg), H_OK);  /* no links in INC */
	assert_int_equal(check(p, "ALERT", &bad, msg), H_EINVAL);
	assert_contains(msg, "would have no base URL; set \"base_url\" in the plan");
	bad.base_url = "http://127.0.0.1:8080";
	assert_int_equal(check(p, "ALERT", &bad, msg), H_EINVAL);
	assert_contains(msg, "messages to channel hook would point at http://127.0.0.1:8080");
	assert_not_contains(msg, "hooks.example");  /* a webhook URL is a secret */
	bad.dry_run = true;
	assert_int_equal(check(p, "ALERT", &bad, msg), H_OK);
	plan_free(p);
	/* to people on this machine only, a loopback link is fine */
	char *a = replace(plan_json, "https://hooks.example/x", "http://127.0.0.1:9/x");
	char *b = replace(a, "ann@example.org", "ann@mail.localhost");
	char *c = replace(b, "bob@example.org", "bob@localhost.localhost");
	struct herald_err err;
	if (load_str(c, &p, &err))
		fail_msg("plan: %s", err.msg);
	bad = m;
	bad.base_url = "http://127.0.0.1:8080";
	assert_int_equal(check(p, "ALERT", &bad, msg), H_OK);
	plan_free(p);
	free(a);
	free(b);
	free(c);
	assert_true(outbox_base_local(NULL));
	assert_true(outbox_base_local("http://localhost:8080"));
	assert_true(outbox_base_local("http://[::1]:8080/x"));
	assert_true(outbox_base_local("http://0.0.0.0:8080"));
	assert_true(outbox_base_local("https://127.0.0.2"));
	assert_false(outbox_base_local("https://herald.acme.example"));
	assert_false(outbox_base_local("http://10.0.0.5:8080"));
	assert_false(outbox_base_local("https://127.example"));
}

/* A drill goes through the real channels to the drill recipients only,
 * kind "drill", the text marked [DRILL] and the note kept a placeholder;
 * no reminders follow it. */
static void drill_reaches_drill_recipients_only(void **state)
{
	struct fx *f = *state;
	plan_free(f->p);
	f->p = plan_with_drill();
	struct herald_err err;
	struct outbox_made *made = NULL;
	size_t n = 0;
	struct outbox_manual m = { .by = "dana", .via = "CLI, user dana",
				   .note = "{{ack_url}} <case 42>", .drill = true };
	/* INC: the plan's drill, through the email channel staff uses */
	long inc = plan_comm_index(f->p, "INC");
	assert_int_equal(outbox_create_manual(f->s, f->p, &f->p->comms[inc], T0, &m, "pending",
					      &made, &n, &err), H_OK);
	assert_int_equal(n, 1);
	assert_string_equal(made[0].audience, "staff");
	assert_string_equal(made[0].recipient, "drill@acme.example");
	free(made);
	/* ALERT: its own drill, a webhook and a mailbox, for each audience */
	long al = plan_comm_index(f->p, "ALERT");
	assert_int_equal(outbox_create_manual(f->s, f->p, &f->p->comms[al], T0, &m, "pending",
					      &made, &n, &err), H_OK);
	assert_int_equal(n, 4);
	free(made);
	struct outbox_item **it;
	size_t k = claim(f, "pending", T0, &it);
	assert_int_equal(k, 5);
	for (size_t i = 0; i < k; i++) {
		assert_string_equal(it[i]->kind, "drill");
		assert_true(!it[i]->recipient || strcmp(it[i]->recipient, "drill@acme.example") == 0);
		assert_int_equal(strncmp(it[i]->message, "[DRILL] ", 8), 0);
		assert_contains(it[i]->message, "{{note}}");
		assert_not_contains(it[i]->message, "case 42");
		assert_string_equal(it[i]->note, "{{ack_url}} <case 42>");
		assert_string_equal(it[i]->requested_by, "dana (CLI, user dana)");
		assert_contains(it[i]->message, "Sent by: dana\n");
	}
	record_all(f, it, k, CHAN_OK, T0 + 1);
	free_items(it, k);
	/* a drill rehearses the message, not the reminders */
	assert_int_equal(claim(f, "pending", T0 + 7200, &it), 0);
	free(it);
	struct tally t = tally(f, "ALERT");
	assert_int_equal(t.n, 4);
	verifies(f);
}

/* A dry-run send queues no reminders: they would fall due when this
 * database may be served live.  A live send of the same does. */
static void dry_run_send_queues_no_reminders(void **state)
{
	struct fx *f = *state;
	struct herald_err err;
	struct outbox_made *made = NULL;
	size_t n = 0;
	long al = plan_comm_index(f->p, "ALERT");
	struct outbox_manual dry = { .by = "dana", .note = "rehearsal", .dry_run = true };
	assert_int_equal(outbox_create_manual(f->s, f->p, &f->p->comms[al], T0, &dry, "pending",
					      &made, &n, &err), H_OK);
	free(made);
	assert_int_equal(n, 3);
	assert_int_equal(tally(f, "ALERT").n, 3);
	struct outbox_manual live = { .by = "dana", .note = "case 42",
				      .base_url = "https://herald.acme.example" };
	assert_int_equal(outbox_create_manual(f->s, f->p, &f->p->comms[al], T0, &live, "pending",
					      &made, &n, &err), H_OK);
	free(made);
	/* three messages, and a reminder after each */
	assert_int_equal(tally(f, "ALERT").n, 3 + 3 + 3);
}

/* The same request again makes the same deliveries, and no new ones: the
 * ground an Idempotency-Key stands on. */
static void same_request_same_deliveries(void **state)
{
	struct fx *f = *state;
	struct herald_err err;
	struct outbox_made *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	struct outbox_manual m = { .by = "dana", .note = "case 42", .request = "req-1" };
	long inc = plan_comm_index(f->p, "INC");
	assert_int_equal(outbox_create_manual(f->s, f->p, &f->p->comms[inc], T0, &m, "pending",
					      &a, &na, &err), H_OK);
	assert_int_equal(outbox_create_manual(f->s, f->p, &f->p->comms[inc], T0 + 5, &m,
					      "pending", &b, &nb, &err), H_OK);
	assert_int_equal(na, 3);
	assert_int_equal(nb, 3);
	for (size_t i = 0; i < na; i++)
		assert_string_equal(a[i].key, b[i].key);
	free(a);
	free(b);
	assert_int_equal(tally(f, "INC").n, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keys),
		cmocka_unit_test(backoff),
		cmocka_unit_test_setup_teardown(materialise_is_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(claim_send_and_done, setup, teardown),
		cmocka_unit_test_setup_teardown(retries_back_off_then_give_up, setup, teardown),
		cmocka_unit_test_setup_teardown(missed_beyond_grace, setup, teardown),
		cmocka_unit_test_setup_teardown(crash_after_claim_flags_duplicate, setup, teardown),
		cmocka_unit_test_setup_teardown(release_undoes_a_claim, setup, teardown),
		cmocka_unit_test_setup_teardown(one_ack_ends_the_reminders, setup, teardown),
		cmocka_unit_test_setup_teardown(cli_queue_is_adopted_after_its_lease, setup, teardown),
		cmocka_unit_test(manual_rules),
		cmocka_unit_test_setup_teardown(drill_reaches_drill_recipients_only, setup, teardown),
		cmocka_unit_test_setup_teardown(same_request_same_deliveries, setup, teardown),
		cmocka_unit_test_setup_teardown(register_of_acknowledgements, setup, teardown),
		cmocka_unit_test_setup_teardown(dry_run_asks_no_one, setup, teardown),
		cmocka_unit_test_setup_teardown(name_and_link_placeholders, setup, teardown),
		cmocka_unit_test_setup_teardown(joiner_onboarded_leaver_cancelled, setup, teardown),
		cmocka_unit_test_setup_teardown(new_members_none, setup, teardown),
		cmocka_unit_test_setup_teardown(dry_run_send_queues_no_reminders, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
