/*
 * chan.h - channels: Slack, Microsoft Teams, Google Chat and Mattermost
 * incoming webhooks, email over SMTP, generic webhooks, and the null
 * channel of --dry-run, behind one interface.  Which backend sends a
 * message is its channel type's row (plan_chan.h).
 *
 * A send is asynchronous: chan_pool_add() starts it on a libcurl multi
 * handle, chan_pool_run() drives every transfer at once (one slow receiver
 * does not hold up the rest) and reports each finished send with its
 * outcome.  The outcome says ok, temporary (retry later) or permanent (give
 * up): that is all the outbox needs.  Outcome texts never contain a secret
 * (URLs are scrubbed out of libcurl's messages, the channel's secret values
 * are masked).
 *
 * Environment: HERALD_CA_BUNDLE names a PEM file of trusted CAs used
 * instead of the system store (tests with a throwaway certificate);
 * HERALD_SEND_TIMEOUT_MS the total time a send may take (default 15 s).
 */
#ifndef HERALD_CHAN_H
#define HERALD_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "herald/util.h"

struct plan_channel;

enum chan_result { CHAN_OK, CHAN_TEMP, CHAN_PERM };

/* What to send: every pointer is borrowed and must stay valid until the
 * send is reported by chan_pool_run(). */
struct chan_msg {
	const struct plan_channel *ch;
	const char *key;            /* delivery key (webhook-id, X-Herald-Delivery) */
	const char *kind;           /* "scheduled", "reminder", "manual", "drill" */
	const char *plan_id, *plan_title, *plan_version;
	const char *communication, *topic, *owner, *description;
	const char *audience, *audience_name;
	int64_t start, end;         /* instants of the occurrence; 0 = none */
	const char *when;           /* human-readable local start - end, or NULL */
	const char *calendar;       /* email: the occurrence as a VCALENDAR (ics.h's
				       ics_occurrence), attached; NULL none */
	const char *tzid;
	const char *recipient;      /* email: addr-spec */
	const char *recipient_name; /* email: display name or NULL */
	/*
	 * The message, ack link already in it.  A manual send's note is not:
	 * where it goes the text holds the placeholder {{note}}, which each
	 * backend fills with note in its own markup (chan_text).
	 */
	const char *text;
	const char *note;           /* a manual send's note, or NULL */
	const char *requested_by;   /* who asked, as recorded ("Dana Reyes (API, 10.0.0.5)"), or NULL */
	bool drill;                 /* a drill: titles start "[DRILL] " (chan_title) */
	const char *ack_url;        /* NULL without acknowledgement */
	const char *full_url;       /* a page with the whole message, where a
				       channel that must cut it links; NULL none */
	const char *message_id;     /* email: "<…@…>", stable across retries */
	bool possible_duplicate;
	int64_t now;                /* instant of the send (Date, webhook-timestamp) */
};

struct chan_outcome {
	enum chan_result result;
	bool dry_run;               /* sent to the null channel */
	long status;                /* HTTP status or SMTP reply code; 0 none */
	char reply[200];            /* short reply text (scrubbed), may be "" */
	char error[256];            /* why it failed (scrubbed), "" on success */
	int64_t retry_after;        /* seconds asked by the receiver, -1 none */
	int64_t latency_ms;
};

/* Name of a result as recorded in attempts.outcome: ok, temporary, permanent. */
const char *chan_result_name(enum chan_result r);

struct chan_pool;

/* A pool running at most max_parallel transfers (0 = a default of 64). */
struct chan_pool *chan_pool_new(unsigned max_parallel);
/* Aborts what is still running (not reported) and frees the pool. */
void chan_pool_free(struct chan_pool *p);

/*
 * Starts one send; with dry_run the null channel answers at once.  tag is
 * handed back with the outcome.  A message that cannot even be built (bad
 * address, …) is reported by the next chan_pool_run() as permanent.
 */
void chan_pool_add(struct chan_pool *p, const struct chan_msg *m, bool dry_run,
		   void *tag);

/* Sends started and not yet reported. */
size_t chan_pool_active(const struct chan_pool *p);

typedef void (*chan_done_fn)(void *tag, const struct chan_outcome *o, void *ctx);

/*
 * Drives the transfers for at most timeout_ms (returns sooner when one
 * finishes or chan_pool_wakeup() is called) and reports every finished
 * send through done.  Returns the number reported.
 */
size_t chan_pool_run(struct chan_pool *p, int timeout_ms, chan_done_fn done,
		     void *ctx);

/* Makes a chan_pool_run() waiting on another thread return early. */
void chan_pool_wakeup(struct chan_pool *p);

/* -------------------------------------------------- for the backends */

/*
 * The title of a message (email Subject, chat header): "[DRILL] " for a
 * drill, "Reminder: " for a reminder, then the topic (or the
 * communication).  Appended to out as plain text; escape it for the
 * channel.
 */
void chan_title(const struct chan_msg *m, struct buf *out);

/*
 * Renders m->text in a channel's markup: text(ctx, s, n, out) appends
 * each run of the text (escaped for the channel), note(ctx, m->note, out)
 * each place the note goes (its own markup, escaped too; NULL: the note as
 * text through text()).  Without a note those places render empty.  Every
 * backend sends the text through this, so a note is never lost and never
 * read as markup.
 */
void chan_text(const struct chan_msg *m,
	       void (*text)(void *ctx, const char *s, size_t n, struct buf *out),
	       void (*note)(void *ctx, const char *s, struct buf *out), void *ctx,
	       struct buf *out);

/* m->text with the note filled in as it is (plain text, JSON strings). */
void chan_text_plain(const struct chan_msg *m, struct buf *out);

/* ------------------------------------------------ pieces, for tests */

/*
 * Standard Webhooks signature: "v1," base64(HMAC-SHA256(key, id "." ts "."
 * body)), key = base64-decoded part after "whsec_" when secret has that
 * prefix, else the secret's bytes.  out needs 64 bytes.  false if a
 * whsec_ secret is not valid base64.
 */
bool chan_webhook_sign(const char *secret, const char *id, int64_t ts,
		       const char *body, size_t len, char *out, size_t outlen);

/* The JSON body of a generic webhook (docs/webhook.md). */
void chan_webhook_payload(const struct chan_msg *m, struct buf *out);

/* The Block Kit body of a Slack message. */
void chan_slack_payload(const struct chan_msg *m, struct buf *out);

/* The bodies of a Teams (Adaptive Card), a Google Chat (text and
 * cardsV2) and a Mattermost message; see chan_teams.c, … */
void chan_teams_payload(const struct chan_msg *m, struct buf *out);
void chan_googlechat_payload(const struct chan_msg *m, struct buf *out);
void chan_mattermost_payload(const struct chan_msg *m, struct buf *out);

/* Builds the whole RFC 5322 message of an email (CRLF line ends). */
void chan_email_message(const struct chan_msg *m, struct buf *out);

/* Appends an RFC 2047 encoded header value (B encoding, UTF-8) when s is
 * not plain printable ASCII, else s itself.  first is the length of the
 * header name and ": " already on the line. */
void chan_rfc2047(const char *s, size_t first, struct buf *out);

/*
 * Classifies an HTTP answer.  chan_http_classify: receivers that answer
 * 2xx on success (generic webhooks, Teams, Google Chat, Mattermost):
 * 408, 429 and 5xx are temporary, any other status permanent (the
 * receiver refuses this message and would refuse it again).  Slack also
 * wants the body "ok".  body may be NULL.
 */
enum chan_result chan_http_classify(long status, const char *body);
enum chan_result chan_slack_classify(long status, const char *body);

/*
 * Copies text into out (size n) with every "scheme://…" replaced by
 * "<url>", control characters by spaces, and every value of the secrets
 * (NULL-terminated list) by "<secret>".
 */
void chan_scrub(const char *text, const char *const *secrets, char *out,
		size_t n);

/*
 * Every secret value of channel ch (plan_channel_secrets(): URLs,
 * passwords, usernames, signing keys, all header values) and the parts of
 * each a receiver may quote alone (plan_secret_parts(): a URL's path and
 * token), as the NULL-terminated list chan_scrub() takes.  It is one
 * block of copies: chan_secrets_free() wipes and frees it.
 */
const char **chan_secrets(const struct plan_channel *ch);
void chan_secrets_free(const char **list);

#endif
