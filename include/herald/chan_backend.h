/*
 * chan_backend.h - what a channel backend implements (for chan_*.c only;
 * callers use chan.h).  A backend is the wire half of its type's row in
 * the table of channel types (plan_chan.h).
 *
 * chan.c owns the request and its easy handle, with the defaults every
 * backend shares already set (protocols restricted to http/https or
 * smtp/smtps, connect and total timeouts, NOSIGNAL, no verbose output, the
 * CA bundle).  prepare() adds the URL, body and headers; finish() turns the
 * transfer's result into an outcome.
 */
#ifndef HERALD_CHAN_BACKEND_H
#define HERALD_CHAN_BACKEND_H

#include <curl/curl.h>

#include "herald/chan.h"

struct chan_req {
	CURL *easy;
	const struct chan_msg *m;
	const struct chan_backend *be;
	struct curl_slist *headers;   /* freed by chan.c */
	struct curl_slist *rcpt;      /* freed by chan.c */
	struct buf body;              /* upload (SMTP) or POST body */
	size_t body_off;
	struct buf resp;              /* response body, first 4 KiB */
	int64_t retry_after;          /* from a Retry-After header, -1 none */
	char errbuf[CURL_ERROR_SIZE];
	const char **secrets;         /* values to mask in texts, NULL-ended
					 (chan_secrets(), freed by chan.c) */
};

/*
 * Most chat products take a JSON POST to the channel's "webhook" URL and
 * answer in HTTP: such a backend names only its payload (and classify,
 * when 2xx is not simply success); chan.c does the rest.
 */
struct chan_backend {
	/* Sets up r->easy for r->m.  Returns false with o filled (permanent)
	 * if the message cannot be sent at all.  NULL: chan_post_json() of
	 * payload to ch->webhook. */
	bool (*prepare)(struct chan_req *r, struct chan_outcome *o);
	/* Classifies the finished transfer (o->status, latency already set).
	 * NULL: chan_http_finish() with classify. */
	void (*finish)(struct chan_req *r, CURLcode cc, struct chan_outcome *o);
	void (*payload)(const struct chan_msg *m, struct buf *out);
	/* NULL: chan_http_classify(). */
	enum chan_result (*classify)(long status, const char *body);
};

/* Fills o->error from a libcurl failure (scrubbed) and says temporary. */
void chan_curl_error(struct chan_req *r, CURLcode cc, struct chan_outcome *o);

/* Copies the response body (scrubbed, cut) into o->reply. */
void chan_set_reply(struct chan_req *r, struct chan_outcome *o);

/* Sets the common options of an HTTP POST of r->body with r->headers. */
void chan_http_post(struct chan_req *r, const char *url);

/*
 * prepare() of a JSON POST to the secret URL url: false with o->error
 * ("channel ID has no webhook") when it is empty, else the body built by
 * payload, Content-Type application/json, and chan_http_post().
 */
bool chan_post_json(struct chan_req *r, struct chan_outcome *o, const char *url,
		    void (*payload)(const struct chan_msg *m, struct buf *out));

/*
 * finish() of an HTTP backend: network failures are temporary; otherwise
 * classify(status, response body) decides, Retry-After is kept for 429
 * and 503, and a failure's error is "HTTP N: reply".
 */
void chan_http_finish(struct chan_req *r, CURLcode cc, struct chan_outcome *o,
		      enum chan_result (*classify)(long status, const char *body));

/*
 * Slack-compatible text (chan_slack.c; Mattermost reads the same markup):
 * s escaped as Slack mrkdwn (&, <, > as entities) and by the extra rules
 * of chan_text.h, cut at max characters without splitting an entity.
 * Returns true if it had to cut.
 */
bool chan_slack_text(const char *s, unsigned extra, size_t max, struct buf *out);

#endif
