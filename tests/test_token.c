/* test_token.c - feed and ack tokens: stable, unforgeable, sized. */
#include "testutil.h"

#include "herald/token.h"

static const unsigned char KEY[32] = "0123456789abcdef0123456789abcdef";

static void feed_tokens(void **state)
{
	(void)state;
	char a[TOKEN_FEED_LEN + 1], b[TOKEN_FEED_LEN + 1];
	token_feed(KEY, "board", a);
	token_feed(KEY, "board", b);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), TOKEN_FEED_LEN); /* 256 bits */
	assert_true(token_feed_check(KEY, "board", a));
	assert_false(token_feed_check(KEY, "staff", a));
	a[5] ^= 1;
	assert_false(token_feed_check(KEY, "board", a));
	assert_false(token_feed_check(KEY, "board", ""));
	unsigned char other[32];
	memcpy(other, KEY, 32);
	other[0] ^= 1; /* a rotated key invalidates old URLs */
	token_feed(KEY, "board", a);
	assert_false(token_feed_check(other, "board", a));
}

static void ack_tokens(void **state)
{
	(void)state;
	char id[TOKEN_ACKID_LEN + 1], tok[TOKEN_ACK_LEN + 1], back[TOKEN_ACKID_LEN + 1];
	unsigned char raw[16] = { 0x3f, 0x2a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 0xff };
	base64url(raw, 16, id);
	assert_int_equal(strlen(id), TOKEN_ACKID_LEN);
	/* An ack id decodes to its 16 bytes, and only one spelling does. */
	unsigned char dec[16];
	assert_true(token_ackid_decode(id, dec));
	assert_memory_equal(dec, raw, 16);
	char alt[TOKEN_ACKID_LEN + 1];
	memcpy(alt, id, sizeof alt);
	alt[TOKEN_ACKID_LEN - 1] = alt[TOKEN_ACKID_LEN - 1] == 'w' ? 'x' : 'w';
	assert_false(token_ackid_decode(alt, dec));
	assert_false(token_ackid_decode("short", dec));
	assert_false(token_ackid_decode("AAAAAAAAAAAAAAAAAAAAA*", dec));
	token_ack(KEY, id, tok);
	assert_true(token_ack_check(KEY, tok, back));
	assert_string_equal(back, id);
	for (size_t i = 0; i < TOKEN_ACK_LEN; i++) {
		char t2[TOKEN_ACK_LEN + 1];
		memcpy(t2, tok, sizeof t2);
		t2[i] = t2[i] == 'A' ? 'B' : 'A';
		assert_false(token_ack_check(KEY, t2, back));
	}
	assert_false(token_ack_check(KEY, "short", back));
}

static void base64url_vectors(void **state)
{
	(void)state;
	char out[16];
	base64url((const unsigned char *)"f", 1, out);
	assert_string_equal(out, "Zg");
	base64url((const unsigned char *)"fo", 2, out);
	assert_string_equal(out, "Zm8");
	base64url((const unsigned char *)"foo", 3, out);
	assert_string_equal(out, "Zm9v");
	base64url((const unsigned char *)"\xfb\xff", 2, out);
	assert_string_equal(out, "-_8");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(feed_tokens),
		cmocka_unit_test(ack_tokens),
		cmocka_unit_test(base64url_vectors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
