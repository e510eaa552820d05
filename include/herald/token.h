/*
 * token.h - unguessable URL tokens, HMAC-SHA256 under the server key
 * (store_server_key): private feed tokens and acknowledgement tokens.
 *
 * Feed token:  base64url(HMAC(key, "feed\0" audience))     43 chars, 256 bits
 * Ack token:   ACKID "." base64url(HMAC(key, "ack\0" ACKID)[0..24])
 *              ACKID is 22 base64url chars (128 bits): the ack link id of
 *              outbox_ackid(), one per (communication, occurrence, person).
 * Rotating the server key invalidates every token.  Checks are constant
 * time.
 */
#ifndef HERALD_TOKEN_H
#define HERALD_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#define TOKEN_FEED_LEN 43
#define TOKEN_ACKID_LEN 22
#define TOKEN_ACK_LEN (TOKEN_ACKID_LEN + 1 + 32)

/* out gets TOKEN_FEED_LEN chars and a NUL. */
void token_feed(const unsigned char key[32], const char *audience,
		char out[TOKEN_FEED_LEN + 1]);
bool token_feed_check(const unsigned char key[32], const char *audience,
		      const char *token);

/* Decodes an ack id (TOKEN_ACKID_LEN base64url characters) into its 16
 * bytes; false if it is not one. */
bool token_ackid_decode(const char *ackid, unsigned char out[16]);
/* The ack token for an ack id. */
void token_ack(const unsigned char key[32], const char *ackid,
	       char out[TOKEN_ACK_LEN + 1]);
/*
 * Checks an ack token; on success copies its ack id to ackid_out.  A
 * forged or altered token returns false.
 */
bool token_ack_check(const unsigned char key[32], const char *token,
		     char ackid_out[TOKEN_ACKID_LEN + 1]);

/* base64url without padding of n bytes; out needs 4*ceil(n/3)+1 bytes. */
size_t base64url(const unsigned char *in, size_t n, char *out);

/* Random bytes from the OS (aborts if none). */
void random_bytes(unsigned char *out, size_t n);

#endif
