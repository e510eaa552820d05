/* test_chan.c - channel pieces: signing, classification, MIME, scrubbing,
 * chat escaping and the chat payloads (Slack, Teams, Google Chat,
 * Mattermost). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "herald/chan.h"
#include "herald/plan.h"
#include "herald/chan_text.h"
#include "herald/plan_chan.h"

/* The Standard Webhooks reference vector. */
static void sign_vector(void **state)
{
	(void)state;
	const char *body = "{\"test\": 2432232314}";
	char sig[64];
	assert_true(chan_webhook_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
				      "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body,
				      strlen(body), sig, sizeof sig));
	assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	assert_false(chan_webhook_sign("whsec_!!!", "id", 1, "x", 1, sig, sizeof sig));
}

static void classify(void **state)
{
	(void)state;
	assert_int_equal(chan_http_classify(204, NULL), CHAN_OK);
	assert_int_equal(chan_http_classify(408, NULL), CHAN_TEMP);
	assert_int_equal(chan_http_classify(429, NULL), CHAN_TEMP);
	assert_int_equal(chan_http_classify(503, NULL), CHAN_TEMP);
	assert_int_equal(chan_http_classify(404, NULL), CHAN_PERM);
	assert_int_equal(chan_slack_classify(200, "ok"), CHAN_OK);
	assert_int_equal(chan_slack_classify(200, "invalid_token"), CHAN_PERM);
	assert_int_equal(chan_slack_classify(410, "channel_is_archived"), CHAN_PERM);
	assert_int_equal(chan_slack_classify(403, "action_prohibited"), CHAN_PERM);
	assert_int_equal(chan_slack_classify(429, ""), CHAN_TEMP);
}

static void rfc2047(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	chan_rfc2047("Plain subject", 9, &b);
	assert_string_equal(b.data, "Plain subject");
	buf_reset(&b);
	chan_rfc2047("Zo\xc3\xab", 4, &b);
	assert_string_equal(b.data, "=?UTF-8?B?Wm/Dqw==?=");
	buf_reset(&b);
	/* long: several words, each <= 75 chars, no raw 8-bit, no bare LF */
	char s[400] = "";
	for (int i = 0; i < 40; i++)
		strcat(s, "\xc3\xa4\xc3\xb6x");
	chan_rfc2047(s, 9, &b);
	for (size_t i = 0; i < b.len; i++)
		assert_true((unsigned char)b.data[i] < 0x80);
	for (char *w = strstr(b.data, "=?"); w; w = strstr(w + 2, "=?")) {
		char *e = strstr(w, "?=");
		assert_non_null(e);
		assert_true(e + 2 - w <= 75);
		w = e;
	}
	buf_free(&b);
}

static void scrub(void **state)
{
	(void)state;
	char out[128];
	const char *secrets[] = { "s3cr3t-value", NULL };
	chan_scrub("Failed to connect to https://hooks.example/T0/B1/xyz port 443\n",
		   NULL, out, sizeof out);
	assert_string_equal(out, "Failed to connect to <url> port 443 ");
	chan_scrub("auth s3cr3t-value rejected", secrets, out, sizeof out);
	assert_string_equal(out, "auth <secret> rejected");
}

/* Every secret of a channel is masked, however many headers it has. */
static void secrets_unbounded(void **state)
{
	(void)state;
	struct plan_header h[10];
	char names[10][24], values[10][40];
	for (int i = 0; i < 10; i++) {
		snprintf(names[i], sizeof names[i], "X-Key-%d", i);
		snprintf(values[i], sizeof values[i], "hdr-canary-%02d-9f3e", i);
		h[i] = (struct plan_header){ .name = names[i], .value = { .value = values[i] } };
	}
	char url[] = "https://hooks.example/url-canary-77";
	char key[] = "whsec_c2lnbmluZy1jYW5hcnk=";
	struct plan_channel ch = { .type = chan_type_find("webhook"), .url = { .value = url },
				   .secret = { .value = key }, .headers = h,
				   .nheaders = 10 };
	const char **list = chan_secrets(&ch);
	size_t n = 0;
	while (list[n])
		n++;
	assert_int_equal(n, 13);   /* and the URL's path */
	char text[1024] = "rejected:";
	for (int i = 0; i < 10; i++) {
		strcat(text, " ");
		strcat(text, values[i]);
	}
	strcat(text, " whsec_c2lnbmluZy1jYW5hcnk=");
	char out[1024];
	chan_scrub(text, list, out, sizeof out);
	assert_null(strstr(out, "canary"));
	assert_null(strstr(out, "whsec_"));
	size_t masked = 0;
	for (const char *p = out; (p = strstr(p, "<secret>")); p++)
		masked++;
	assert_int_equal(masked, 11);
	chan_secrets_free(list);

	/* Email: the password and the username; Slack: the webhook. */
	char user[] = "isms-relay", pw[] = "pw-canary";
	struct plan_channel mail = { .type = chan_type_find("email"), .username = { .value = user },
				     .password = { .value = pw } };
	list = chan_secrets(&mail);
	assert_string_equal(list[0], "isms-relay");
	assert_string_equal(list[1], "pw-canary");
	assert_null(list[2]);
	chan_secrets_free(list);
	struct plan_channel none = { .type = chan_type_find("slack") };
	list = chan_secrets(&none);
	assert_null(list[0]);
	chan_secrets_free(list);

	/* A webhook URL's token is masked when a receiver quotes it alone. */
	char hook[] = "https://u:pa55word@chat.example/v1/spaces/AAAA/messages"
		      "?key=AIzaSyD-key-part&token=tok3n-part-xyz&x=1";
	struct plan_channel gc = { .type = chan_type_find("googlechat"),
				   .webhook = { .value = hook } };
	list = chan_secrets(&gc);
	chan_scrub("bad token tok3n-part-xyz for key AIzaSyD-key-part as u:pa55word on "
		   "/v1/spaces/AAAA/messages?key=AIzaSyD-key-part&token=tok3n-part-xyz&x=1",
		   list, out, sizeof out);
	assert_string_equal(out, "bad token <secret> for key <secret> as u:<secret> on <secret>");
	chan_secrets_free(list);
}

static void email_message(void **state)
{
	(void)state;
	char id[] = "mail", from[] = "ISMS <isms@example.org>";
	struct plan_channel ch = { .id = id, .type = chan_type_find("email"), .from = from };
	struct chan_msg m = { .ch = &ch, .key = "0123456789abcdef0123456789abcdef",
			      .kind = "reminder", .plan_id = "P", .plan_version = "1",
			      .communication = "C", .topic = "T\xc3\xa9st", .owner = "O",
			      .start = 1790000000, .end = 1790001800,
			      .recipient = "a@example.org", .recipient_name = "A",
			      .text = "hello", .message_id = "<x@example.org>", .now = 1790000000,
			      .calendar = "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n" };
	struct buf b;
	buf_init(&b);
	chan_email_message(&m, &b);
	assert_non_null(strstr(b.data, "Subject: =?UTF-8?B?"));
	assert_non_null(strstr(b.data, "Message-ID: <x@example.org>\r\n"));
	assert_non_null(strstr(b.data, "multipart/alternative"));
	assert_non_null(strstr(b.data, "text/html"));
	assert_non_null(strstr(b.data, "text/calendar"));
	assert_non_null(strstr(b.data, "Date: "));
	/* CRLF only */
	for (size_t i = 0; i < b.len; i++)
		if (b.data[i] == '\n')
			assert_int_equal(b.data[i - 1], '\r');
	buf_free(&b);
}

/* The calendar attachment is the feed's event (chan_msg.calendar, written
 * by ics.c), byte for byte; without one, no attachment. */
static void email_calendar(void **state)
{
	(void)state;
	char id[] = "mail", from[] = "isms@example.org";
	struct plan_channel ch = { .id = id, .type = chan_type_find("email"), .from = from };
	const char *cal = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\n"
			  "UID:C/staff@P\r\nSUMMARY:\xc3\xa9t\xc3\xa9\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
	struct chan_msg m = { .ch = &ch, .key = "0123456789abcdef0123456789abcdef",
			      .kind = "message", .plan_id = "P", .plan_version = "1",
			      .communication = "C", .topic = "T", .owner = "O",
			      .start = 1790000000, .end = 1790001800,
			      .recipient = "a@example.org", .text = "hello",
			      .message_id = "<x@example.org>", .now = 1790000000, .calendar = cal };
	struct buf b;
	buf_init(&b);
	chan_email_message(&m, &b);
	char *p = strstr(b.data, "filename=\"event.ics\"");
	assert_non_null(p);
	p = strstr(p, "\r\n\r\n") + 4;
	char *end = strstr(p, "--=_mix_");
	assert_non_null(end);
	struct buf b64;
	buf_init(&b64);
	for (; p < end; p++)
		if (*p != '\r' && *p != '\n')
			buf_addc(&b64, *p);
	unsigned char *ics = calloc(1, b64.len);
	int n = EVP_DecodeBlock(ics, (unsigned char *)b64.data, (int)b64.len);
	assert_true(n > 0);
	assert_memory_equal(ics, cal, strlen(cal));
	free(ics);
	buf_free(&b64);
	buf_free(&b);
	m.calendar = NULL;
	buf_init(&b);
	chan_email_message(&m, &b);
	assert_null(strstr(b.data, "text/calendar"));
	buf_free(&b);
}

/* The base64 body of the MIME part of type `type` in an email, decoded
 * (caller frees). */
static char *mime_part(const char *mail, const char *type)
{
	char hdr[96];
	snprintf(hdr, sizeof hdr, "Content-Type: %s", type);
	const char *p = strstr(mail, hdr);
	assert_non_null(p);
	p = strstr(p, "\r\n\r\n") + 4;
	const char *end = strstr(p, "--=_");
	assert_non_null(end);
	struct buf b64;
	buf_init(&b64);
	for (; p < end; p++)
		if (*p != '\r' && *p != '\n')
			buf_addc(&b64, *p);
	unsigned char *out = calloc(1, b64.len + 1);
	assert_true(EVP_DecodeBlock(out, (unsigned char *)b64.data, (int)b64.len) >= 0);
	buf_free(&b64);
	return (char *)out;
}

/* A manual send's note is filled in by each backend, escaped for it; a
 * drill is marked in every title. */
static void note_in_every_channel(void **state)
{
	(void)state;
	char id[] = "c", from[] = "isms@example.org";
	struct plan_channel mail = { .id = id, .type = chan_type_find("email"), .from = from };
	const char *note = "<b>x</b> & <!channel> \"q\" {{note}} {{ack_url}}\nline2";
	struct chan_msg m = { .ch = &mail, .key = "0123456789abcdef0123456789abcdef",
			      .kind = "drill", .drill = true, .plan_id = "P", .plan_version = "1",
			      .communication = "C", .topic = "Breach", .owner = "O",
			      .recipient = "a@example.org", .text = "[DRILL] Breach\n\n{{note}}\n\nend",
			      .note = note, .requested_by = "Dana (API, 10.0.0.5)",
			      .message_id = "<x@example.org>", .now = 1790000000 };
	struct buf b;
	buf_init(&b);
	chan_text_plain(&m, &b);
	assert_string_equal(b.data, "[DRILL] Breach\n\n<b>x</b> & <!channel> \"q\" {{note}} "
				    "{{ack_url}}\nline2\n\nend");
	buf_reset(&b);
	chan_title(&m, &b);
	assert_string_equal(b.data, "[DRILL] Breach");

	/* email: Subject, text/plain as is, text/html escaped and emphasised */
	buf_reset(&b);
	chan_email_message(&m, &b);
	assert_non_null(strstr(b.data, "Subject: [DRILL] Breach\r\n"));
	char *plain = mime_part(b.data, "text/plain");
	assert_non_null(strstr(plain, "<!channel> \"q\" {{note}} {{ack_url}}\nline2"));
	free(plain);
	char *html = mime_part(b.data, "text/html");
	assert_non_null(strstr(html, "<strong>&lt;b&gt;x&lt;/b&gt; &amp; &lt;!channel&gt; "
				     "&quot;q&quot; {{note}} {{ack_url}}<br>\nline2</strong>"));
	assert_null(strstr(html, "<b>x"));
	free(html);

	/* Slack: mrkdwn-escaped everywhere, [DRILL] in the header */
	buf_reset(&b);
	chan_slack_payload(&m, &b);
	assert_null(strstr(b.data, "<!channel>"));
	json_error_t je;
	json_t *j = json_loads(b.data, 0, &je);
	assert_non_null(j);
	json_t *blocks = json_object_get(j, "blocks");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
				    json_array_get(blocks, 0), "text"), "text")), "[DRILL] Breach");
	const char *sec = json_string_value(json_object_get(json_object_get(
		json_array_get(blocks, 1), "text"), "text"));
	assert_non_null(strstr(sec, "&lt;b&gt;x&lt;/b&gt; &amp; &lt;!channel&gt;"));
	assert_non_null(strstr(json_string_value(json_object_get(j, "text")), "&lt;!channel&gt;"));
	json_decref(j);

	/* webhook: JSON fields, the message with the note as it is */
	buf_reset(&b);
	chan_webhook_payload(&m, &b);
	j = json_loads(b.data, 0, &je);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "note")), note);
	assert_string_equal(json_string_value(json_object_get(j, "requested_by")),
			    "Dana (API, 10.0.0.5)");
	assert_true(json_is_true(json_object_get(j, "drill")));
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "drill");
	assert_non_null(strstr(json_string_value(json_object_get(j, "message")), "\nline2\n\nend"));
	json_decref(j);

	/* without a note its place renders empty */
	m.note = NULL;
	m.drill = false;
	m.kind = "manual";
	buf_reset(&b);
	chan_text_plain(&m, &b);
	assert_string_equal(b.data, "[DRILL] Breach\n\n\n\nend");
	buf_reset(&b);
	chan_title(&m, &b);
	assert_string_equal(b.data, "Breach");
	buf_free(&b);
}

#define ZWSP "\xe2\x80\x8b"

static char *esc(const char *s, unsigned rules)
{
	struct buf b;
	buf_init(&b);
	chan_text_escape(s, strlen(s), rules, &b);
	return buf_take(&b);
}

static void text_rules(void **state)
{
	(void)state;
	char *t = esc("a <!channel> & b", CHAN_TEXT_ENTITIES);
	assert_string_equal(t, "a &lt;!channel&gt; &amp; b");
	free(t);
	/* a mention at a word's start, never an address */
	t = esc("@here (@all) isms@acme.example @", CHAN_TEXT_MENTIONS);
	assert_string_equal(t, "@" ZWSP "here (@" ZWSP "all) isms@acme.example @");
	free(t);
	/* inline links, reference links and definitions */
	t = esc("[x](https://evil) [y][1] [1]: https://evil [z]", CHAN_TEXT_LINKS);
	assert_string_equal(t, "[x]" ZWSP "(https://evil) [y]" ZWSP "[1] [1]" ZWSP
			       ": https://evil [z]");
	free(t);
	t = esc("<users/all> <https://evil|click>", CHAN_TEXT_ANGLES);
	assert_string_equal(t, "<" ZWSP "users/all> <" ZWSP "https://evil|click>");
	free(t);
	t = esc("a\nb\r\nc<", CHAN_TEXT_ENTITIES | CHAN_TEXT_BREAKS);
	assert_string_equal(t, "a<br>b<br>c&lt;");
	free(t);
	/* cuts: code points, entities kept whole, bytes on a code point */
	assert_int_equal(chan_text_cut("\xc3\xa9\xc3\xa9x", 5, 1), 2);
	assert_int_equal(chan_text_cut_escaped("abc&amp;d", 9, 5), 3);
	assert_int_equal(chan_text_cut_escaped("abc&amp;d", 9, 8), 8);
	assert_int_equal(chan_text_cut_bytes("ab\xc3\xa9", 4, 3), 2);
}

/* A message whose every plan text tries to mention and disguise links. */
#define INJECT "<!channel> @here <@U123> <https://evil|click> [x](https://evil)"

static struct chan_msg inject_msg(const struct plan_channel *ch)
{
	return (struct chan_msg){ .ch = ch, .key = "0123456789abcdef0123456789abcdef",
		.kind = "manual", .plan_id = "P", .plan_title = "Plan " INJECT,
		.plan_version = "1", .communication = "C", .topic = "Topic " INJECT,
		.owner = "Owner " INJECT, .when = "Mon 09:30 to 10:00",
		.text = "Text " INJECT "\nnote: " INJECT,
		.ack_url = "https://herald.example/ack/tok", .now = 1790000000 };
}

/* Every string in j (recursively), each passed to fn. */
static void strings(json_t *j, void (*fn)(const char *s, void *ctx), void *ctx)
{
	if (json_is_string(j)) {
		fn(json_string_value(j), ctx);
	} else if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v)
			strings(v, fn, ctx);
	} else if (json_is_object(j)) {
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v)
			strings(v, fn, ctx);
	}
}

/* No string of the payload carries a construct its product parses. */
static void no_markup(const char *s, void *ctx)
{
	const char *const *bad = ctx;
	for (; *bad; bad++)
		if (strstr(s, *bad))
			fail_msg("\"%s\" reached the payload raw in: %.200s", *bad, s);
}

static json_t *payload(void (*fn)(const struct chan_msg *, struct buf *),
		       const struct chan_msg *m)
{
	struct buf b;
	buf_init(&b);
	fn(m, &b);
	json_error_t e;
	json_t *j = json_loads(b.data, 0, &e);
	assert_non_null(j);
	buf_free(&b);
	return j;
}

static void slack_escaped(void **state)
{
	(void)state;
	struct plan_channel ch = { .type = chan_type_find("slack") };
	struct chan_msg m = inject_msg(&ch);
	json_t *j = payload(chan_slack_payload, &m);
	/* the fallback text too: it is what notifications show */
	const char *text = json_string_value(json_object_get(j, "text"));
	assert_non_null(strstr(text, "&lt;!channel&gt;"));
	const char *bad[] = { "<!channel>", "<@U123>", "<https://evil|", NULL };
	/* the header is plain_text, never parsed: skip it */
	json_array_remove(json_object_get(j, "blocks"), 0);
	strings(j, no_markup, bad);
	json_decref(j);
}

/* Found in any string of j. */
struct found {
	const char *needle;
	int n;
};

static void count_found(const char *s, void *ctx)
{
	struct found *f = ctx;
	f->n += strstr(s, f->needle) != NULL;
}

/* A drill's note in every chat card: the title says [DRILL], the note is
 * there, and escaped like the text around it. */
static void note_in_chat_cards(void **state)
{
	(void)state;
	void (*const fns[])(const struct chan_msg *, struct buf *) = {
		chan_slack_payload, chan_teams_payload, chan_googlechat_payload,
		chan_mattermost_payload,
	};
	const char *const types[] = { "slack", "teams", "googlechat", "mattermost" };
	for (size_t i = 0; i < 4; i++) {
		struct plan_channel ch = { .type = chan_type_find(types[i]) };
		struct chan_msg m = inject_msg(&ch);
		m.kind = "drill";
		m.drill = true;
		m.text = "Breach notice\n\n{{note}}\n\nend";
		m.note = "ICO case 42 <@W999> [x](https://evil2)";
		json_t *j = payload(fns[i], &m);
		struct found f = { "[DRILL] Topic", 0 };
		strings(j, count_found, &f);
		if (!f.n)
			fail_msg("%s: no [DRILL] title", types[i]);
		f = (struct found){ "ICO case 42", 0 };
		strings(j, count_found, &f);
		if (!f.n)
			fail_msg("%s: the note is missing", types[i]);
		f = (struct found){ "{{note}}", 0 };
		strings(j, count_found, &f);
		if (f.n)
			fail_msg("%s: the placeholder reached the card", types[i]);
		/* what each product parses: Slack's <...>, Markdown links elsewhere */
		f = (struct found){ i == 0 || i == 3 ? "<@W999>" : "[x](https://evil2)", 0 };
		strings(j, count_found, &f);
		if (f.n)
			fail_msg("%s: the note's markup reached the card raw", types[i]);
		json_decref(j);
	}
}

static void teams_card(void **state)
{
	(void)state;
	struct plan_channel ch = { .type = chan_type_find("teams") };
	struct chan_msg m = inject_msg(&ch);
	json_t *j = payload(chan_teams_payload, &m);
	assert_string_equal(json_string_value(json_object_get(j, "type")), "message");
	json_t *att = json_array_get(json_object_get(j, "attachments"), 0);
	assert_string_equal(json_string_value(json_object_get(att, "contentType")),
			    "application/vnd.microsoft.card.adaptive");
	json_t *card = json_object_get(att, "content");
	assert_string_equal(json_string_value(json_object_get(card, "version")), "1.4");
	size_t i;
	json_t *el, *facts = NULL;
	json_array_foreach(json_object_get(card, "body"), i, el) {
		const char *t = json_string_value(json_object_get(el, "type"));
		if (strcmp(t, "TextBlock") == 0)
			assert_true(json_is_true(json_object_get(el, "wrap")));
		else if (strcmp(t, "FactSet") == 0)
			facts = json_object_get(el, "facts");
	}
	assert_int_equal(json_array_size(facts), 4);
	const char *titles[] = { "Owner", "When", "Plan", "Version" };
	for (i = 0; i < 4; i++)
		assert_string_equal(json_string_value(json_object_get(json_array_get(facts, i), "title")),
				    titles[i]);
	json_t *act = json_array_get(json_object_get(card, "actions"), 0);
	assert_string_equal(json_string_value(json_object_get(act, "type")), "Action.OpenUrl");
	assert_string_equal(json_string_value(json_object_get(act, "title")), "Acknowledge");
	assert_string_equal(json_string_value(json_object_get(act, "url")), m.ack_url);
	const char *bad[] = { "](", NULL };
	strings(card, no_markup, bad);
	json_decref(j);
}

static void teams_bounded(void **state)
{
	(void)state;
	struct plan_channel ch = { .type = chan_type_find("teams") };
	struct chan_msg m = inject_msg(&ch);
	size_t n = 100000;
	char *big = malloc(n + 1);
	for (size_t i = 0; i < n; i++)
		big[i] = i % 61 == 60 ? '\n' : "\"\\x"[i % 3];   /* escapes grow in JSON */
	big[n] = '\0';
	m.text = big;
	m.full_url = "https://herald.example/ack/tok";
	struct buf b;
	buf_init(&b);
	chan_teams_payload(&m, &b);
	assert_true(b.len <= 28000);
	assert_true(b.len > 20000);
	assert_non_null(strstr(b.data, "[Read the whole message](https://herald.example/ack/tok)"));
	buf_free(&b);
	m.full_url = NULL;
	chan_teams_payload(&m, &b);
	assert_true(b.len <= 28000);
	assert_non_null(strstr(b.data, "delivery 0123456789ab"));
	buf_free(&b);
	free(big);
}

static void googlechat_message(void **state)
{
	(void)state;
	struct plan_channel ch = { .type = chan_type_find("googlechat") };
	struct chan_msg m = inject_msg(&ch);
	json_t *j = payload(chan_googlechat_payload, &m);
	const char *text = json_string_value(json_object_get(j, "text"));
	assert_non_null(strstr(text, "<" ZWSP "!channel>"));
	json_t *card = json_object_get(json_array_get(json_object_get(j, "cardsV2"), 0), "card");
	assert_non_null(card);
	assert_null(json_object_get(j, "thread"));
	const char *bad[] = { "<!", "<@", "<https", "](", NULL };
	json_object_del(card, "header");   /* plain text, never parsed */
	strings(j, no_markup, bad);
	char *dump = json_dumps(card, 0);
	assert_non_null(strstr(dump, "&lt;!channel&gt;"));
	assert_non_null(strstr(dump, "\"openLink\": {\"url\": \"https://herald.example/ack/tok\"}"));
	free(dump);
	json_decref(j);
}

static void mattermost_message(void **state)
{
	(void)state;
	struct plan_channel ch = { .type = chan_type_find("mattermost") };
	struct chan_msg m = inject_msg(&ch);
	json_t *j = payload(chan_mattermost_payload, &m);
	const char *text = json_string_value(json_object_get(j, "text"));
	assert_non_null(strstr(text, "&lt;!channel&gt; @" ZWSP "here &lt;@" ZWSP "U123&gt;"));
	assert_non_null(strstr(text, "**[Acknowledge](https://herald.example/ack/tok)**"));
	assert_null(json_object_get(j, "blocks"));
	json_t *a = json_array_get(json_object_get(j, "attachments"), 0);
	assert_non_null(json_object_get(a, "fallback"));
	assert_int_equal(json_array_size(json_object_get(a, "fields")), 4);
	/* our own Acknowledge link is the one link */
	char *mine = strstr(text, "\n\n**[Acknowledge]");
	json_object_set_new(j, "text", json_stringn(text, (size_t)(mine - text)));
	const char *bad[] = { "<!", "<@", "<https", "](", "@here", NULL };
	strings(j, no_markup, bad);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sign_vector), cmocka_unit_test(classify),
		cmocka_unit_test(rfc2047), cmocka_unit_test(scrub),
		cmocka_unit_test(email_message),
		cmocka_unit_test(secrets_unbounded),
		cmocka_unit_test(email_calendar),
		cmocka_unit_test(note_in_every_channel),
		cmocka_unit_test(text_rules), cmocka_unit_test(slack_escaped),
		cmocka_unit_test(note_in_chat_cards),
		cmocka_unit_test(teams_card), cmocka_unit_test(teams_bounded),
		cmocka_unit_test(googlechat_message), cmocka_unit_test(mattermost_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
