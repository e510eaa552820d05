/* checkpointer.c - automatic external checkpoints (see checkpointer.h). */
#include "herald/checkpointer.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "herald/chan.h"
#include "herald/clock.h"
#include "herald/evidence.h"
#include "herald/keys.h"
#include "herald/log.h"
#include "herald/store.h"
#include "herald/token.h"
#include "herald/util.h"

struct checkpointer {
	char *target;
	bool url;
	struct store *s;              /* read-only, its own connection */
	struct evidence_head last;    /* verified and signed (or the start) */
	int64_t last_at;
	int64_t every_rows, every_secs;
	struct log_limit errors;
};

static int64_t env_i64(const char *name, int64_t def)
{
	const char *v = getenv(name);
	char *end;
	long long x = v && *v ? strtoll(v, &end, 10) : 0;
	return v && *v && !*end && x > 0 ? x : def;
}

static bool loopback_http(const char *t)
{
	return strncmp(t, "http://127.", 11) == 0 || strncmp(t, "http://localhost", 16) == 0 ||
	       strncmp(t, "http://[::1]", 12) == 0;
}

enum herald_rc checkpointer_new(const char *target, struct store *s,
				const struct evidence_head *verified,
				struct checkpointer **out, struct herald_err *err)
{
	bool url = strncmp(target, "https://", 8) == 0 || loopback_http(target);
	struct stat st;
	if (!url && (stat(target, &st) != 0 || !S_ISDIR(st.st_mode)))
		return herald_err_set(err, H_EUSAGE, "--checkpoint-to %s: not a directory or an "
				      "https:// URL", target);
	unsigned char id[16];
	enum herald_rc rc = evidence_db_id(s, id, err);
	struct store *ro = NULL;
	struct store_open_opts o = { .readonly = true };
	if (!rc)
		rc = store_open(store_path(s), &o, &ro, err);
	if (rc)
		return rc;
	struct checkpointer *c = xcalloc(1, sizeof *c);
	c->target = xstrdup(target);
	c->url = url;
	c->s = ro;
	c->last = *verified;
	c->last_at = clock_now();
	c->every_rows = env_i64("HERALD_CHECKPOINT_ROWS", 1000);
	c->every_secs = env_i64("HERALD_CHECKPOINT_SECONDS", 600);
	c->errors = (struct log_limit)LOG_LIMIT_INIT(60000);
	*out = c;
	return H_OK;
}

void checkpointer_free(struct checkpointer *c)
{
	if (!c)
		return;
	store_close(c->s);
	free(c->target);
	free(c);
}

static enum herald_rc to_dir(struct checkpointer *c, const struct evidence_head *h,
			     const struct buf *stmt, struct herald_err *err)
{
	char *p = xasprintf("%s/checkpoint-%012" PRId64 ".txt", c->target, h->seq);
	enum herald_rc rc = write_file_atomic(p, stmt->data, stmt->len, 0644, err);
	free(p);
	return rc;
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

static enum herald_rc to_url(struct checkpointer *c, const struct evidence_head *h,
			     const struct buf *stmt, struct herald_err *err)
{
	struct buf body;
	buf_init(&body);
	buf_printf(&body, "{\"type\":\"herald.checkpoint\",\"head_seq\":%" PRId64
		   ",\"head_sha256\":\"%s\",\"statement\":", h->seq, h->hex);
	buf_add_json(&body, stmt->data);
	buf_adds(&body, "}");
	char id[64], hdr[3][160];
	snprintf(id, sizeof id, "ckpt_%" PRId64 "_%.16s", h->seq, h->hex);
	int64_t now = clock_now();
	snprintf(hdr[0], sizeof hdr[0], "webhook-id: %s", id);
	snprintf(hdr[1], sizeof hdr[1], "webhook-timestamp: %" PRId64, now);
	hdr[2][0] = '\0';
	const char *secret = getenv("HERALD_CHECKPOINT_SECRET");
	char sig[96];
	if (secret && *secret) {
		if (!chan_webhook_sign(secret, id, now, body.data, body.len, sig, sizeof sig)) {
			buf_free(&body);
			return herald_err_set(err, H_EUSAGE, "HERALD_CHECKPOINT_SECRET is not a "
					      "valid whsec_ secret");
		}
		snprintf(hdr[2], sizeof hdr[2], "webhook-signature: %s", sig);
	}
	CURL *e = curl_easy_init();
	struct curl_slist *hl = curl_slist_append(NULL, "Content-Type: application/json");
	for (int i = 0; i < 3; i++)
		if (hdr[i][0])
			hl = curl_slist_append(hl, hdr[i]);
	curl_easy_setopt(e, CURLOPT_URL, c->target);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.data);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)body.len);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	CURLcode cc = curl_easy_perform(e);
	long status = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hl);
	curl_easy_cleanup(e);
	buf_free(&body);
	/* The URL may hold a token: it is never quoted. */
	if (cc != CURLE_OK)
		return herald_err_set(err, H_ERUNTIME, "checkpoint receiver: %s",
				      curl_easy_strerror(cc));
	if (status < 200 || status > 299)
		return herald_err_set(err, H_ERUNTIME, "checkpoint receiver answered HTTP %ld",
				      status);
	return H_OK;
}

bool checkpointer_tick(struct checkpointer *c, const struct keyring *k, int64_t now,
		       bool force)
{
	struct evidence_head rec;
	struct herald_err err;
	herald_err_clear(&err);
	if (evidence_head_get(c->s, &rec, &err))
		goto fail;
	if (rec.seq == c->last.seq)
		return true;
	if (!force && rec.seq - c->last.seq < c->every_rows && now - c->last_at < c->every_secs)
		return true;
	struct evidence_head h;
	struct buf stmt;
	buf_init(&stmt);
	enum herald_rc rc = evidence_verify_after(c->s, &c->last, &h, NULL, &err);
	if (!rc)
		rc = evidence_checkpoint(c->s, k, &h, &stmt, &err);
	if (!rc)
		rc = c->url ? to_url(c, &h, &stmt, &err) : to_dir(c, &h, &stmt, &err);
	buf_free(&stmt);
	if (rc)
		goto fail;
	c->last = h;
	c->last_at = now;
	log_event(LOG_INFO, "evidence.checkpoint", "checkpoint of seq %" PRId64 " (%.12s) sent to "
		  "%s", h.seq, h.hex, c->url ? "the checkpoint URL" : c->target);
	return true;
fail:
	log_event_limited(&c->errors, LOG_ERROR, "evidence.checkpoint-failed",
			  "an automatic checkpoint failed: %s; trying again", err.msg);
	return false;
}
