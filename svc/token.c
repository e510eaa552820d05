/* token.c - HMAC URL tokens (see token.h). */
#include "herald/token.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "herald/util.h"

size_t base64url(const unsigned char *in, size_t n, char *out)
{
	static const char a[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0, i = 0;
	for (; i + 2 < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = a[v >> 6 & 63];
		out[o++] = a[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)in[i] << 16;
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
	} else if (n - i == 2) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = a[v >> 6 & 63];
	}
	out[o] = '\0';
	return o;
}

void random_bytes(unsigned char *out, size_t n)
{
	if (RAND_bytes(out, (int)n) != 1)
		abort();
}

static void mac(const unsigned char key[32], const char *domain,
		const char *msg, unsigned char out[32])
{
	struct buf b;
	buf_init(&b);
	buf_add(&b, domain, strlen(domain) + 1); /* domain separation */
	buf_adds(&b, msg);
	unsigned int len = 32;
	if (!HMAC(EVP_sha256(), key, 32, (const unsigned char *)b.data, b.len, out, &len))
		abort();
	buf_free(&b);
}

void token_feed(const unsigned char key[32], const char *audience,
		char out[TOKEN_FEED_LEN + 1])
{
	unsigned char m[32];
	mac(key, "feed", audience, m);
	base64url(m, 32, out);
}

bool token_feed_check(const unsigned char key[32], const char *audience,
		      const char *token)
{
	char want[TOKEN_FEED_LEN + 1];
	token_feed(key, audience, want);
	/* Length is public (fixed); only the bytes are compared in constant time. */
	if (strlen(token) != TOKEN_FEED_LEN)
		return false;
	return ct_equal(want, token, TOKEN_FEED_LEN);
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '-' ? 62 : c == '_' ? 63 : -1;
}

bool token_ackid_decode(const char *ackid, unsigned char out[16])
{
	if (!ackid || strlen(ackid) != TOKEN_ACKID_LEN)
		return false;
	unsigned acc = 0;
	int bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < TOKEN_ACKID_LEN; i++) {
		int v = b64val(ackid[i]);
		if (v < 0)
			return false;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o < 16)
				out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* 22 characters carry 132 bits: the last 4 must be zero, so that one
	 * id has one spelling. */
	return o == 16 && acc == 0;
}

void token_ack(const unsigned char key[32], const char *ackid,
	       char out[TOKEN_ACK_LEN + 1])
{
	unsigned char m[32];
	mac(key, "ack", ackid, m);
	memcpy(out, ackid, TOKEN_ACKID_LEN);
	out[TOKEN_ACKID_LEN] = '.';
	base64url(m, 24, out + TOKEN_ACKID_LEN + 1);
}

bool token_ack_check(const unsigned char key[32], const char *token,
		     char ackid_out[TOKEN_ACKID_LEN + 1])
{
	if (strlen(token) != TOKEN_ACK_LEN || token[TOKEN_ACKID_LEN] != '.')
		return false;
	char id[TOKEN_ACKID_LEN + 1], want[TOKEN_ACK_LEN + 1];
	memcpy(id, token, TOKEN_ACKID_LEN);
	id[TOKEN_ACKID_LEN] = '\0';
	token_ack(key, id, want);
	if (!ct_equal(want, token, TOKEN_ACK_LEN))
		return false;
	memcpy(ackid_out, id, TOKEN_ACKID_LEN + 1);
	return true;
}
