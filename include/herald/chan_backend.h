/*
 * chan_backend.h - what a channel backend implements (for chan_*.c only;
 * callers use chan.h).
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

struct chan_backend {
	const char *name;
	/* Sets up r->easy for r->m.  Returns false with o filled (permanent)
	 * if the message cannot be sent at all. */
	bool (*prepare)(struct chan_req *r, struct chan_outcome *o);
	/* Classifies the finished transfer (o->status, latency already set). */
	void (*finish)(struct chan_req *r, CURLcode cc, struct chan_outcome *o);
};

extern const struct chan_backend chan_slack, chan_email, chan_webhook;

/* Fills o->error from a libcurl failure (scrubbed) and says temporary. */
void chan_curl_error(struct chan_req *r, CURLcode cc, struct chan_outcome *o);

/* Copies the response body (scrubbed, cut) into o->reply. */
void chan_set_reply(struct chan_req *r, struct chan_outcome *o);

/* Sets the common options of an HTTP POST of r->body with r->headers. */
void chan_http_post(struct chan_req *r, const char *url);

#endif
