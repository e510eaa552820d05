/*
 * chan.c - the channel core: a libcurl multi pool that runs every send at
 * once (each with the backend of its channel type's row), the options and
 * the HTTP handling every transfer shares, and the scrubbing that keeps
 * secrets out of outcome texts (see chan.h).
 */
#include "herald/chan.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "herald/chan_backend.h"
#include "herald/plan.h"
#include "herald/plan_chan.h"
#include "herald/version.h"

/* Connect and total timeouts: a receiver that hangs is a temporary failure. */
#define CONNECT_TIMEOUT_MS 5000L
#define TOTAL_TIMEOUT_MS 15000L
#define RESP_MAX 4096

void chan_null_send(const struct chan_msg *m, struct chan_outcome *o);

const char *chan_result_name(enum chan_result r)
{
	switch (r) {
	case CHAN_OK: return "ok";
	case CHAN_TEMP: return "temporary";
	case CHAN_PERM: return "permanent";
	}
	return "?";
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ scrubbing */

void chan_scrub(const char *text, const char *const *secrets, char *out,
		size_t n)
{
	struct buf b;
	buf_init(&b);
	const char *p = text ? text : "";
	while (*p) {
		/* A secret value anywhere (longest first is not needed: any
		 * match is masked whole). */
		bool hit = false;
		for (size_t i = 0; secrets && secrets[i]; i++) {
			size_t l = strlen(secrets[i]);
			if (l >= 4 && strncmp(p, secrets[i], l) == 0) {
				buf_adds(&b, "<secret>");
				p += l;
				hit = true;
				break;
			}
		}
		if (hit)
			continue;
		/* scheme://… up to white space or a quote */
		const char *s = p;
		while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))
			s++;
		if (s > p && strncmp(s, "://", 3) == 0) {
			while (*s && *s != ' ' && *s != '"' && *s != '\'' && *s != '\n')
				s++;
			buf_adds(&b, "<url>");
			p = s;
			continue;
		}
		unsigned char c = (unsigned char)*p++;
		buf_addc(&b, c < 0x20 || c == 0x7f ? ' ' : (char)c);
	}
	/* Cut at n-1 bytes without splitting a UTF-8 sequence. */
	size_t len = b.len;
	if (len > n - 1) {
		len = n - 1;
		while (len > 0 && ((unsigned char)b.data[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(out, b.data ? b.data : "", len);
	out[len] = '\0';
	buf_free(&b);
}

void chan_curl_error(struct chan_req *r, CURLcode cc, struct chan_outcome *o)
{
	char raw[CURL_ERROR_SIZE + 128];
	snprintf(raw, sizeof raw, "%s%s%s", curl_easy_strerror(cc),
		 r->errbuf[0] ? ": " : "", r->errbuf);
	chan_scrub(raw, r->secrets, o->error, sizeof o->error);
	o->result = CHAN_TEMP;
}

void chan_set_reply(struct chan_req *r, struct chan_outcome *o)
{
	chan_scrub(r->resp.data ? r->resp.data : "", r->secrets, o->reply,
		   sizeof o->reply);
}

/* ------------------------------------------------------------ callbacks */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct chan_req *r = ud;
	size_t n = size * nmemb;
	if (r->resp.len < RESP_MAX)
		buf_add(&r->resp, ptr, n < RESP_MAX - r->resp.len ? n : RESP_MAX - r->resp.len);
	return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct chan_req *r = ud;
	size_t n = size * nmemb;
	if (n > 12 && strncasecmp(ptr, "retry-after:", 12) == 0) {
		char v[32];
		size_t l = n - 12 < sizeof v - 1 ? n - 12 : sizeof v - 1;
		memcpy(v, ptr + 12, l);
		v[l] = '\0';
		char *end;
		long s = strtol(v, &end, 10);
		/* Only delta-seconds; an HTTP date falls back to our backoff. */
		if (end != v && s >= 0)
			r->retry_after = s > 86400 ? 86400 : s;
	}
	return n;
}

static size_t on_read(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct chan_req *r = ud;
	size_t n = size * nmemb, left = r->body.len - r->body_off;
	if (n > left)
		n = left;
	memcpy(ptr, r->body.data + r->body_off, n);
	r->body_off += n;
	return n;
}

void chan_http_post(struct chan_req *r, const char *url)
{
	CURL *e = r->easy;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body.data);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body.len);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "herald/" HERALD_VERSION);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	/* No "Expect: 100-continue" round trip. */
	r->headers = curl_slist_append(r->headers, "Expect:");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
}

bool chan_post_json(struct chan_req *r, struct chan_outcome *o, const char *url,
		    void (*payload)(const struct chan_msg *m, struct buf *out))
{
	if (!url || !*url) {
		snprintf(o->error, sizeof o->error, "channel %s has no webhook", r->m->ch->id);
		return false;
	}
	payload(r->m, &r->body);
	r->headers = curl_slist_append(r->headers, "Content-Type: application/json; charset=utf-8");
	chan_http_post(r, url);
	return true;
}

enum chan_result chan_http_classify(long status, const char *body)
{
	(void)body;
	if (status >= 200 && status < 300)
		return CHAN_OK;
	if (status == 0 || status == 408 || status == 429 || status >= 500)
		return CHAN_TEMP;
	return CHAN_PERM;
}

void chan_http_finish(struct chan_req *r, CURLcode cc, struct chan_outcome *o,
		      enum chan_result (*classify)(long status, const char *body))
{
	chan_set_reply(r, o);
	if (cc != CURLE_OK) {
		chan_curl_error(r, cc, o);
		return;
	}
	o->result = classify(o->status, r->resp.data);
	o->retry_after = o->status == 429 || o->status == 503 ? r->retry_after : -1;
	if (o->result != CHAN_OK)
		snprintf(o->error, sizeof o->error, "HTTP %ld%s%s", o->status,
			 o->reply[0] ? ": " : "", o->reply);
}

/* ------------------------------------------------------------ the pool */

struct done_item {
	void *tag;
	struct chan_outcome o;
};

struct chan_pool {
	CURLM *multi;
	unsigned max;
	size_t active;          /* transfers in multi */
	struct done_item *done; /* finished without a transfer (dry-run, refused) */
	struct pool_req *running;
	size_t ndone, capdone;
};

struct pool_req {
	struct chan_req r;
	void *tag;
	int64_t started;
	struct pool_req *prev, *next;   /* the pool's running list */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct chan_pool *chan_pool_new(unsigned max_parallel)
{
	pthread_once(&curl_once, curl_init_once);
	struct chan_pool *p = xcalloc(1, sizeof *p);
	p->max = max_parallel ? max_parallel : 64;
	p->multi = curl_multi_init();
	if (!p->multi)
		abort();
	curl_multi_setopt(p->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)p->max);
	curl_multi_setopt(p->multi, CURLMOPT_MAXCONNECTS, (long)p->max);
	return p;
}

static void req_free(struct pool_req *q)
{
	curl_slist_free_all(q->r.headers);
	curl_slist_free_all(q->r.rcpt);
	buf_free(&q->r.body);
	buf_free(&q->r.resp);
	chan_secrets_free(q->r.secrets);
	if (q->r.easy)
		curl_easy_cleanup(q->r.easy);
	free(q);
}

void chan_pool_free(struct chan_pool *p)
{
	if (!p)
		return;
	while (p->running) {
		struct pool_req *q = p->running;
		p->running = q->next;
		curl_multi_remove_handle(p->multi, q->r.easy);
		req_free(q);
	}
	curl_multi_cleanup(p->multi);
	free(p->done);
	free(p);
}

static void push_done(struct chan_pool *p, void *tag, const struct chan_outcome *o)
{
	if (p->ndone == p->capdone) {
		p->capdone = p->capdone ? 2 * p->capdone : 16;
		p->done = xreallocarray(p->done, p->capdone, sizeof *p->done);
	}
	p->done[p->ndone].tag = tag;
	p->done[p->ndone].o = *o;
	p->ndone++;
}

struct secret_list {
	struct buf data;   /* the values, each NUL-ended */
	size_t n;
};

static void add_part(const char *part, void *ctx)
{
	struct secret_list *l = ctx;
	buf_add(&l->data, part, strlen(part) + 1);
	l->n++;
}

static void add_secret(const struct plan_secret_ref *r, void *ctx)
{
	plan_secret_parts(r->s->value, add_part, ctx);
}

const char **chan_secrets(const struct plan_channel *ch)
{
	struct secret_list l = { .n = 0 };
	buf_init(&l.data);
	plan_channel_secrets(ch, add_secret, &l);
	/* One block: the pointers, then the strings they point to. */
	size_t head = (l.n + 1) * sizeof(char *);
	char *block = xmalloc(head + l.data.len);
	const char **v = (const char **)(void *)block;
	char *d = block + head;
	if (l.data.len)
		memcpy(d, l.data.data, l.data.len);
	for (size_t i = 0; i < l.n; i++) {
		v[i] = d;
		d += strlen(d) + 1;
	}
	v[l.n] = NULL;
	if (l.data.data)
		memset(l.data.data, 0, l.data.len);
	buf_free(&l.data);
	return v;
}

void chan_secrets_free(const char **list)
{
	if (!list)
		return;
	for (size_t i = 0; list[i]; i++)
		memset((char *)(uintptr_t)list[i], 0, strlen(list[i]));
	free((void *)(uintptr_t)list);
}

void chan_pool_add(struct chan_pool *p, const struct chan_msg *m, bool dry_run,
		   void *tag)
{
	struct chan_outcome o = { .retry_after = -1 };
	if (dry_run) {
		chan_null_send(m, &o);
		push_done(p, tag, &o);
		return;
	}
	struct pool_req *q = xcalloc(1, sizeof *q);
	q->tag = tag;
	q->r.m = m;
	q->r.be = m->ch->type->backend;
	q->r.retry_after = -1;
	buf_init(&q->r.body);
	buf_init(&q->r.resp);
	q->r.secrets = chan_secrets(m->ch);
	q->r.easy = curl_easy_init();
	if (!q->r.easy)
		abort();
	CURL *e = q->r.easy;
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_VERBOSE, 0L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	const char *tmo = getenv("HERALD_SEND_TIMEOUT_MS");
	long total = tmo && atol(tmo) > 0 ? atol(tmo) : TOTAL_TIMEOUT_MS;
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, total);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, q->r.errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, q);
	curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(e, CURLOPT_READDATA, &q->r);
	const char *ca = getenv("HERALD_CA_BUNDLE");
	if (ca && *ca)
		curl_easy_setopt(e, CURLOPT_CAINFO, ca);
	bool ready = q->r.be->prepare ? q->r.be->prepare(&q->r, &o) :
		chan_post_json(&q->r, &o, m->ch->webhook.value, q->r.be->payload);
	if (!ready) {
		o.result = CHAN_PERM;
		push_done(p, tag, &o);
		req_free(q);
		return;
	}
	q->started = mono_ms();
	q->next = p->running;
	if (p->running)
		p->running->prev = q;
	p->running = q;
	curl_multi_add_handle(p->multi, e);
	p->active++;
}

size_t chan_pool_active(const struct chan_pool *p)
{
	return p->active + p->ndone;
}

void chan_pool_wakeup(struct chan_pool *p)
{
	curl_multi_wakeup(p->multi);
}

static size_t flush_done(struct chan_pool *p, chan_done_fn done, void *ctx)
{
	size_t n = p->ndone;
	/* done may add to the pool; take the list first. */
	struct done_item *items = p->done;
	p->done = NULL;
	p->ndone = p->capdone = 0;
	for (size_t i = 0; i < n; i++)
		done(items[i].tag, &items[i].o, ctx);
	free(items);
	return n;
}

size_t chan_pool_run(struct chan_pool *p, int timeout_ms, chan_done_fn done,
		     void *ctx)
{
	size_t reported = flush_done(p, done, ctx);
	if (reported)
		timeout_ms = 0;
	int64_t deadline = mono_ms() + timeout_ms;
	for (;;) {
		int running = 0;
		curl_multi_perform(p->multi, &running);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(p->multi, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			CURL *e = msg->easy_handle;
			CURLcode cc = msg->data.result;
			struct pool_req *q = NULL;
			curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&q);
			curl_multi_remove_handle(p->multi, e);
			p->active--;
			if (q->prev)
				q->prev->next = q->next;
			else
				p->running = q->next;
			if (q->next)
				q->next->prev = q->prev;
			struct chan_outcome o = { .retry_after = -1 };
			o.latency_ms = mono_ms() - q->started;
			curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &o.status);
			if (q->r.be->finish)
				q->r.be->finish(&q->r, cc, &o);
			else
				chan_http_finish(&q->r, cc, &o, q->r.be->classify ?
						 q->r.be->classify : chan_http_classify);
			void *tag = q->tag;
			req_free(q);
			done(tag, &o, ctx);
			reported++;
		}
		reported += flush_done(p, done, ctx);
		int64_t left_ms = deadline - mono_ms();
		if (reported || left_ms <= 0)
			return reported;
		curl_multi_poll(p->multi, NULL, 0, (int)(left_ms > 1000 ? 1000 : left_ms), NULL);
	}
}
