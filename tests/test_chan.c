/* test_chan.c - channel pieces: signing, classification, MIME, scrubbing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "herald/chan.h"
#include "herald/plan.h"

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
	assert_int_equal(chan_webhook_classify(204), CHAN_OK);
	assert_int_equal(chan_webhook_classify(408), CHAN_TEMP);
	assert_int_equal(chan_webhook_classify(429), CHAN_TEMP);
	assert_int_equal(chan_webhook_classify(503), CHAN_TEMP);
	assert_int_equal(chan_webhook_classify(404), CHAN_PERM);
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
	struct plan_channel ch = { .type = CHAN_WEBHOOK, .url = { .value = url },
				   .secret = { .value = key }, .headers = h,
				   .nheaders = 10 };
	const char **list = chan_secrets(&ch);
	size_t n = 0;
	while (list[n])
		n++;
	assert_int_equal(n, 12);
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
	free(list);

	/* Email: the password and the username; Slack: the webhook. */
	char user[] = "isms-relay", pw[] = "pw-canary";
	struct plan_channel mail = { .type = CHAN_EMAIL, .username = { .value = user },
				     .password = { .value = pw } };
	list = chan_secrets(&mail);
	assert_string_equal(list[0], "isms-relay");
	assert_string_equal(list[1], "pw-canary");
	assert_null(list[2]);
	free(list);
	struct plan_channel none = { .type = CHAN_SLACK };
	list = chan_secrets(&none);
	assert_null(list[0]);
	free(list);
}

static void email_message(void **state)
{
	(void)state;
	char id[] = "mail", from[] = "ISMS <isms@example.org>";
	struct plan_channel ch = { .id = id, .type = CHAN_EMAIL, .from = from };
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
	struct plan_channel ch = { .id = id, .type = CHAN_EMAIL, .from = from };
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sign_vector), cmocka_unit_test(classify),
		cmocka_unit_test(rfc2047), cmocka_unit_test(scrub),
		cmocka_unit_test(email_message),
		cmocka_unit_test(secrets_unbounded),
		cmocka_unit_test(email_calendar),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
