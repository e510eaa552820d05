/*
 * evfmt.c - evidence tables per format and the canonical encoding (see
 * evfmt.h).  The column lists below are the format: changing one changes
 * every hash, so a change is a new format, never an edit.
 */
#include "herald/evfmt.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>

#include "herald/util.h"

#define N EV_NULL
#define I EV_INT
#define T EV_TEXT
#define B EV_BLOB
#define NCOLS(a) (sizeof(a) / sizeof(a[0]) - 1)

/* ------------------------------------------------------------ format 1 */

static const char *const v1_plan_versions[] = {
	"at", "event", "plan_id", "version", "sha256", "path", "approved_by",
	"approved_on", "next_review", "detail", NULL
};
static const char *const v1_deliveries[] = {
	"key", "created_at", "kind", "plan_id", "plan_version", "plan_sha256",
	"communication", "topic", "occurrence", "notify_offset", "audience",
	"channel_type", "channel_id", "recipient", "recipient_name", "message",
	"due", "message_id", "ack_id", "requested_by", "note", NULL
};
static const char *const v1_attempts[] = {
	"delivery", "n", "started_at", "finished_at", "outcome", "status",
	"reply", "error", "latency_ms", "possible_duplicate", NULL
};
static const char *const v1_delivery_states[] = {
	"delivery", "at", "state", "late", "duplicate", "detail", NULL
};
static const char *const v1_acks[] = {
	"delivery", "at", "communication", "audience", "person", NULL
};
static const char *const v1_events[] = { "at", "kind", "detail", NULL };

/* Format 1 never checked types: any text, integer or null was hashed. */
static const enum ev_type v1_any[32] = { 0 };

#define V1(name, cols, sqlname) \
	{ name, sqlname, 1, cols, v1_any, NCOLS(cols), true }

static const struct ev_table_desc v1_migrated[] = {
	V1("plan_versions", v1_plan_versions, "v1_plan_versions"),
	V1("deliveries", v1_deliveries, "v1_deliveries"),
	V1("attempts", v1_attempts, "v1_attempts"),
	V1("delivery_states", v1_delivery_states, "v1_delivery_states"),
	V1("acks", v1_acks, "v1_acks"),
	V1("events", v1_events, "v1_events"),
};
static const struct ev_table_desc v1_plain[] = {
	V1("plan_versions", v1_plan_versions, "plan_versions"),
	V1("deliveries", v1_deliveries, "deliveries"),
	V1("attempts", v1_attempts, "attempts"),
	V1("delivery_states", v1_delivery_states, "delivery_states"),
	V1("acks", v1_acks, "acks"),
	V1("events", v1_events, "events"),
};

/* ------------------------------------------------------------ format 2 */

static const char *const v2_texts[] = { "sha256", "body", NULL };
static const enum ev_type t2_texts[] = { B, T };

static const char *const v2_plan_versions[] = {
	"at", "event", "plan_id", "version", "sha256", "path", "approved_by",
	"approved_on", "next_review", "detail", "text", NULL
};
static const enum ev_type t2_plan_versions[] = { I, T, T, T, B, T, T, T, T, T, B };

static const char *const v2_messages[] = {
	"created_at", "kind", "plan_id", "plan_version", "plan_sha256",
	"communication", "topic", "occurrence", "notify_offset", "audience",
	"channel_type", "channel_id", "due", "text", "requested_by", "note",
	"request", "mail_domain", NULL
};
static const enum ev_type t2_messages[] = {
	I, T, T, T, B, T, T, I, I, T, T, T, I, B, T, T, T, T
};

static const char *const v2_deliveries[] = {
	"message", "key", "recipient", "recipient_name", "ack", "parent", NULL
};
static const enum ev_type t2_deliveries[] = { I, B, T, T, B, I };

static const char *const v2_attempts[] = {
	"delivery", "n", "started_at", "finished_at", "outcome", "status",
	"reply", "error", "latency_ms", "possible_duplicate", NULL
};
static const enum ev_type t2_attempts[] = { I, I, I, I, T, I, T, T, I, I };

static const char *const v2_delivery_states[] = {
	"delivery", "at", "state", "late", "duplicate", "detail", "attempts",
	"possible_duplicate", "reply", NULL
};
static const enum ev_type t2_delivery_states[] = { I, I, T, I, I, T, I, I, T };

static const char *const v2_acks[] = {
	"ack", "delivery", "at", "communication", "audience", "person", NULL
};
static const enum ev_type t2_acks[] = { B, I, I, T, T, T };

static const char *const v2_events[] = { "at", "kind", "detail", NULL };
static const enum ev_type t2_events[] = { I, T, T };

#define V2(name, cols) \
	{ #name, #name, 2, cols, t2_##name, NCOLS(cols), false }

static const struct ev_table_desc v2[EV_NTABLES] = {
	[EV_TEXTS] = V2(texts, v2_texts),
	[EV_PLAN_VERSIONS] = V2(plan_versions, v2_plan_versions),
	[EV_MESSAGES] = V2(messages, v2_messages),
	[EV_DELIVERIES] = V2(deliveries, v2_deliveries),
	[EV_ATTEMPTS] = V2(attempts, v2_attempts),
	[EV_DELIVERY_STATES] = V2(delivery_states, v2_delivery_states),
	[EV_ACKS] = V2(acks, v2_acks),
	[EV_EVENTS] = V2(events, v2_events),
};

const struct ev_table_desc *evfmt_table(enum ev_table t)
{
	return &v2[t];
}

static const struct ev_table_desc *all_migrated[6 + EV_NTABLES + 1];
static const struct ev_table_desc *all_plain[6 + 1];
static pthread_once_t all_once = PTHREAD_ONCE_INIT;

static void all_init(void)
{
	for (size_t i = 0; i < 6; i++) {
		all_migrated[i] = &v1_migrated[i];
		all_plain[i] = &v1_plain[i];
	}
	for (size_t i = 0; i < EV_NTABLES; i++)
		all_migrated[6 + i] = &v2[i];
}

const struct ev_table_desc *const *evfmt_all_tables(bool migrated)
{
	pthread_once(&all_once, all_init);
	return migrated ? all_migrated : all_plain;
}

/* ------------------------------------------------------------ encoding */

/*
 * The encoding is built in one buffer and hashed with one update: verify
 * hashes every row of the log, and OpenSSL's per-call overhead (context
 * allocation, the implicit SHA-256 fetch, many tiny updates) was most of
 * its cost.  The digest is fetched once; each thread keeps its context.
 */
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_sha256;
static pthread_key_t md_key;

struct hash_tls {
	EVP_MD_CTX *md;
	struct buf enc;   /* reused: no allocation per row */
};

static void hash_tls_free(void *p)
{
	struct hash_tls *h = p;
	EVP_MD_CTX_free(h->md);
	buf_free(&h->enc);
	free(h);
}

static void md_init(void)
{
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!md_sha256 || pthread_key_create(&md_key, hash_tls_free) != 0)
		abort();
}

static struct hash_tls *hash_tls(void)
{
	pthread_once(&md_once, md_init);
	struct hash_tls *h = pthread_getspecific(md_key);
	if (!h) {
		h = xcalloc(1, sizeof *h);
		buf_init(&h->enc);
		h->md = EVP_MD_CTX_new();
		if (!h->md || pthread_setspecific(md_key, h) != 0)
			abort();
	}
	return h;
}

static void put_u64(struct buf *b, uint64_t v)
{
	unsigned char x[8];
	for (int i = 7; i >= 0; i--, v >>= 8)
		x[i] = (unsigned char)v;
	buf_add(b, x, 8);
}

static void put_bytes(struct buf *b, char type, const char *s, size_t n)
{
	buf_addc(b, type);
	put_u64(b, n);
	buf_add(b, s, n);
}

void evfmt_row_hash(const struct ev_table_desc *d, int64_t seq,
		    const struct ev_value *vals, const unsigned char prev[32],
		    unsigned char out[32])
{
	struct hash_tls *h = hash_tls();
	struct buf *enc = &h->enc;
	buf_reset(enc);
	buf_add(enc, prev, 32);
	if (d->format >= 2) {
		buf_addc(enc, 'V');
		put_u64(enc, (uint64_t)d->format);
	}
	put_bytes(enc, 'T', d->name, strlen(d->name));
	buf_addc(enc, 'I');
	put_u64(enc, (uint64_t)seq);
	for (size_t i = 0; i < d->ncolumns; i++) {
		switch (vals[i].type) {
		case EV_NULL:
			buf_addc(enc, 'N');
			break;
		case EV_INT:
			buf_addc(enc, 'I');
			put_u64(enc, (uint64_t)vals[i].i);
			break;
		case EV_TEXT:
			put_bytes(enc, 'T', vals[i].s, vals[i].len);
			break;
		case EV_BLOB:
			put_bytes(enc, 'B', vals[i].s, vals[i].len);
			break;
		}
	}
	EVP_MD_CTX *md = h->md;
	unsigned int len = 32;
	if (!EVP_DigestInit_ex(md, md_sha256, NULL) ||
	    !EVP_DigestUpdate(md, enc->data, enc->len) ||
	    !EVP_DigestFinal_ex(md, out, &len))
		abort();
}
