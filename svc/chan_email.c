/*
 * chan_email.c - email over SMTP with libcurl, one SMTP transaction per
 * recipient.
 *
 * smtp:// must upgrade with STARTTLS (CURLUSESSL_ALL) unless the channel
 * says "starttls": false; smtps:// is TLS from the first byte; AUTH when
 * the channel has a username.  The message is MIME: multipart/alternative
 * text/plain + text/html (base64, UTF-8), headers RFC 2047 encoded, a Date,
 * the delivery's stable Message-ID (the same on every retry, so a receiver
 * can drop a repeat), and the occurrence attached as text/calendar (the
 * feed's own event, written by ics.c: chan_msg.calendar).
 * Reply codes 4xx are temporary, 5xx permanent.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/chan_backend.h"
#include "herald/ics.h"
#include "herald/members.h"
#include "herald/plan.h"
#include "herald/plan_chan.h"
#include "herald/plan_json.h"
#include "herald/timeutil.h"
#include "herald/version.h"

static bool plain_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

void chan_rfc2047(const char *s, size_t first, struct buf *out)
{
	(void)first;
	if (plain_ascii(s) && strlen(s) < 900) {
		buf_adds(out, s);
		return;
	}
	/* Encoded words of at most 39 bytes of text each (52 base64 chars,
	 * 64 with the wrapping, under the 75 of RFC 2047), never splitting a
	 * UTF-8 sequence; words are separated by folding white space. */
	size_t n = strlen(s), i = 0;
	bool firstw = true;
	while (i < n) {
		size_t take = n - i < 39 ? n - i : 39;
		while (take > 0 && i + take < n &&
		       ((unsigned char)s[i + take] & 0xc0) == 0x80)
			take--;
		if (take == 0)
			take = 1;
		unsigned char enc[64];
		/* CR and LF never reach a header, even encoded. */
		unsigned char raw[40];
		for (size_t k = 0; k < take; k++)
			raw[k] = s[i + k] == '\r' || s[i + k] == '\n' ? ' ' : (unsigned char)s[i + k];
		EVP_EncodeBlock(enc, raw, (int)take);
		buf_printf(out, "%s=?UTF-8?B?%s?=", firstw ? "" : "\r\n ", enc);
		firstw = false;
		i += take;
	}
}

static void base64_lines(const char *s, size_t n, struct buf *out)
{
	unsigned char enc[80];
	for (size_t i = 0; i < n; i += 57) {
		size_t take = n - i < 57 ? n - i : 57;
		EVP_EncodeBlock(enc, (const unsigned char *)s + i, (int)take);
		buf_printf(out, "%s\r\n", enc);
	}
}

/* "Thu, 22 Nov 2026 10:00:00 +0000" */
static void rfc5322_date(int64_t t, char *out, size_t n)
{
	struct civil c;
	secs_to_civil(t, &c);
	int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	snprintf(out, n, "%s, %02d %s %04d %02d:%02d:%02d +0000",
		 weekday_abbr(weekday_from_days(days)), c.day, month_abbr(c.month), c.year, c.hour,
		 c.min, c.sec);
}

/* "Name <addr>" with the name encoded or quoted as needed. */
static void mailbox_header(const char *name, const char *addr, size_t first,
			   struct buf *out)
{
	if (!name || !*name) {
		buf_adds(out, addr);
		return;
	}
	if (plain_ascii(name)) {
		buf_addc(out, '"');
		for (const char *p = name; *p; p++) {
			if (*p == '"' || *p == '\\')
				buf_addc(out, '\\');
			buf_addc(out, *p);
		}
		buf_addc(out, '"');
	} else {
		chan_rfc2047(name, first, out);
	}
	buf_printf(out, " <%s>", addr);
}

/* The display name of a mailbox "Name <addr>", or NULL. */
static char *mailbox_name(const char *mb)
{
	const char *lt = strchr(mb, '<');
	if (!lt)
		return NULL;
	const char *s = mb, *e = lt;
	while (s < e && (*s == ' ' || *s == '"'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '"'))
		e--;
	return e > s ? xstrndup(s, (size_t)(e - s)) : NULL;
}

/* n bytes of text as HTML: escaped, line breaks kept. */
static void html_escape_n(const char *s, size_t n, struct buf *out)
{
	const char *end = s + n;
	while (s < end) {
		size_t k = 0;
		while (s + k < end && s[k] != '\r' && s[k] != '\n')
			k++;
		char *line = xstrndup(s, k);
		buf_add_html(out, line);
		free(line);
		s += k;
		if (s < end && *s == '\r')
			s++;
		if (s < end && *s == '\n') {
			buf_adds(out, "<br>\n");
			s++;
		}
	}
}

static void html_escape(const char *s, struct buf *out)
{
	html_escape_n(s, strlen(s), out);
}

static void html_run(void *ctx, const char *s, size_t n, struct buf *out)
{
	(void)ctx;
	html_escape_n(s, n, out);
}

/* The note stands out: it carries the facts of the incident. */
static void html_note(void *ctx, const char *s, struct buf *out)
{
	(void)ctx;
	buf_adds(out, "<strong>");
	html_escape(s, out);
	buf_adds(out, "</strong>");
}

void chan_email_message(const struct chan_msg *m, struct buf *out)
{
	char date[64];
	rfc5322_date(m->now, date, sizeof date);
	const char *from = m->ch->from ? m->ch->from : "herald@localhost";
	char from_addr[300];
	if (!members_mailbox_addr(from, from_addr, sizeof from_addr))
		snprintf(from_addr, sizeof from_addr, "%s", from);
	char *from_name = mailbox_name(from);
	char bnd[40];
	snprintf(bnd, sizeof bnd, "%.24s", m->key);

	buf_printf(out, "Date: %s\r\nFrom: ", date);
	mailbox_header(from_name, from_addr, 6, out);
	buf_adds(out, "\r\nTo: ");
	mailbox_header(m->recipient_name, m->recipient, 4, out);
	buf_adds(out, "\r\nSubject: ");
	struct buf title;
	buf_init(&title);
	chan_title(m, &title);
	chan_rfc2047(title.data ? title.data : "", 9, out);
	buf_printf(out, "\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\n"
			"Auto-Submitted: auto-generated\r\nX-Herald-Delivery: %s\r\n",
		   m->message_id, m->key);
	bool attach = m->calendar != NULL;
	if (attach)
		buf_printf(out, "Content-Type: multipart/mixed; boundary=\"=_mix_%s\"\r\n\r\n"
				"This is a MIME message.\r\n--=_mix_%s\r\n", bnd, bnd);
	buf_printf(out, "Content-Type: multipart/alternative; boundary=\"=_alt_%s\"\r\n\r\n",
		   bnd);
	if (!attach)
		buf_adds(out, "This is a MIME message.\r\n");

	/* text/plain */
	struct buf text;
	buf_init(&text);
	chan_text_plain(m, &text);
	buf_printf(out, "--=_alt_%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
			"Content-Transfer-Encoding: base64\r\n\r\n", bnd);
	base64_lines(text.data ? text.data : "", text.len, out);
	buf_free(&text);

	/* text/html */
	struct buf h;
	buf_init(&h);
	buf_adds(&h, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>");
	html_escape(title.data ? title.data : "", &h);
	buf_adds(&h, "</title></head><body style=\"font-family:sans-serif;"
		     "max-width:40em;line-height:1.4\">\n<h2>");
	html_escape(title.data ? title.data : "", &h);
	buf_adds(&h, "</h2>\n<p>");
	chan_text(m, html_run, html_note, NULL, &h);
	buf_adds(&h, "</p>\n");
	if (m->ack_url) {
		buf_adds(&h, "<p><a href=\"");
		html_escape(m->ack_url, &h);
		buf_adds(&h, "\" style=\"display:inline-block;padding:.5em 1em;"
			     "background:#1a5fb4;color:#fff;text-decoration:none;"
			     "border-radius:4px\">Acknowledge</a></p>\n");
	}
	buf_adds(&h, "<p style=\"color:#555;font-size:small\">Owner: ");
	html_escape(m->owner ? m->owner : "", &h);
	buf_adds(&h, " &middot; ");
	html_escape(m->plan_title ? m->plan_title : m->plan_id, &h);
	buf_adds(&h, " version ");
	html_escape(m->plan_version ? m->plan_version : "", &h);
	buf_adds(&h, "</p>\n</body></html>\n");
	buf_printf(out, "--=_alt_%s\r\nContent-Type: text/html; charset=utf-8\r\n"
			"Content-Transfer-Encoding: base64\r\n\r\n", bnd);
	base64_lines(h.data, h.len, out);
	buf_free(&h);
	buf_printf(out, "--=_alt_%s--\r\n", bnd);
	buf_free(&title);

	if (attach) {
		buf_printf(out, "--=_mix_%s\r\nContent-Type: text/calendar; charset=utf-8; "
				"method=PUBLISH; name=\"event.ics\"\r\n"
				"Content-Disposition: attachment; filename=\"event.ics\"\r\n"
				"Content-Transfer-Encoding: base64\r\n\r\n", bnd);
		base64_lines(m->calendar, strlen(m->calendar), out);
		buf_printf(out, "--=_mix_%s--\r\n", bnd);
	}
	free(from_name);
}

static bool prepare(struct chan_req *r, struct chan_outcome *o)
{
	const struct chan_msg *m = r->m;
	const struct plan_channel *c = m->ch;
	if (!m->recipient || !members_valid_addr(m->recipient)) {
		snprintf(o->error, sizeof o->error, "not a valid recipient address");
		return false;
	}
	char from_addr[300];
	if (!c->smtp || !c->from ||
	    !members_mailbox_addr(c->from, from_addr, sizeof from_addr)) {
		snprintf(o->error, sizeof o->error, "channel %s: no usable smtp or from", c->id);
		return false;
	}
	chan_email_message(m, &r->body);
	CURL *e = r->easy;
	curl_easy_setopt(e, CURLOPT_URL, c->smtp);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "smtps");
	bool implicit = strncmp(c->smtp, "smtps://", 8) == 0;
	curl_easy_setopt(e, CURLOPT_USE_SSL,
			 implicit || c->starttls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
	if (c->username.value && *c->username.value) {
		curl_easy_setopt(e, CURLOPT_USERNAME, c->username.value);
		curl_easy_setopt(e, CURLOPT_PASSWORD, c->password.value ? c->password.value : "");
	}
	char *mf = xasprintf("<%s>", from_addr);
	curl_easy_setopt(e, CURLOPT_MAIL_FROM, mf);
	free(mf); /* libcurl copies string options */
	char *rc = xasprintf("<%s>", m->recipient);
	r->rcpt = curl_slist_append(NULL, rc);
	free(rc);
	curl_easy_setopt(e, CURLOPT_MAIL_RCPT, r->rcpt);
	curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->body.len);
	return true;
}

static void finish(struct chan_req *r, CURLcode cc, struct chan_outcome *o)
{
	if (cc == CURLE_OK) {
		o->result = CHAN_OK;
		snprintf(o->reply, sizeof o->reply, "%ld", o->status);
		return;
	}
	chan_curl_error(r, cc, o);
	chan_scrub(r->errbuf, r->secrets, o->reply, sizeof o->reply);
	if (o->status >= 500 && o->status < 600)
		o->result = CHAN_PERM;
	else if (o->status >= 400 && o->status < 500)
		o->result = CHAN_TEMP;
	else if (cc == CURLE_USE_SSL_FAILED || cc == CURLE_URL_MALFORMAT ||
		 cc == CURLE_UNSUPPORTED_PROTOCOL || cc == CURLE_LOGIN_DENIED)
		o->result = CHAN_PERM; /* configuration: retrying cannot help */
	else
		o->result = CHAN_TEMP;
}


/* ------------------------------------------------------------- the plan */

static enum herald_rc load(struct pj *c, json_t *j, struct plan_channel *ch)
{
	static const char *const keys[] = { "type", "smtp", "from", "username",
					    "password", "starttls", NULL };
	static const char *const smtp_schemes[] = { "smtp://", "smtps://", NULL };
	struct plan_secret smtp = { 0 }, from = { 0 };
	size_t before = c->nerrors;
	pj_check_keys(c, j, keys);
	plan_chan_url(c, j, "smtp", true, smtp_schemes, "an smtp:// or smtps:// URL", &smtp);
	if (!pj_get_secret(c, j, "from", true, &from) && !from.demo &&
	    !members_valid_mailbox(from.value))
		PJ_FAIL_AT(c, "from", "\"%.80s\" is not a mailbox (\"Name <user@example.org>\" or user@example.org)",
			   from.env ? "(from the environment)" : from.value);
	pj_get_secret(c, j, "username", false, &ch->username);
	if (!pj_get_secret(c, j, "password", false, &ch->password) &&
	    ch->password.value && !json_object_get(j, "username"))
		PJ_FAIL_AT(c, "password", "a password needs a username");
	pj_get_bool(c, j, "starttls", true, &ch->starttls);
	ch->smtp = smtp.value;
	ch->from = from.value;
	free(smtp.env);
	free(from.env);
	return pj_since(c, before);
}

static void describe(const struct plan_channel *ch, struct buf *out)
{
	buf_printf(out, "email from %s, %s", ch->from ? ch->from : "?",
		   ch->starttls ? "TLS required" : "plain SMTP allowed");
	if (ch->username.value)
		buf_adds(out, ", authenticated");
}

static const struct chan_secret_field secrets[] = {
	CHAN_IDENTITY("username", username), CHAN_SECRET("password", password), { 0 }
};

const struct chan_type chan_type_email = {
	.name = "email",
	.what = "email over SMTP, one transaction per recipient",
	.load = load,
	.describe = describe,
	.secrets = secrets,
	.addressed = true,
	.calendar = true,
	.backend = &(const struct chan_backend){ .prepare = prepare, .finish = finish },
};
