/*
 * httpd_guard.h - the HTTP server's per-client limits, kept apart from the
 * server library so they can be tested alone: how many connections (or,
 * behind the trusted proxy, requests) a client address holds, which peer
 * is the trusted proxy and what client it speaks for, and the penalty
 * window of an address that sent a wrong admin token.
 *
 * Addresses are numeric text in one canonical form (httpd_guard_addr):
 * IPv4 dotted, IPv6 compressed, an IPv4-mapped IPv6 address as IPv4.
 * Every function is thread-safe.
 */
#ifndef HERALD_HTTPD_GUARD_H
#define HERALD_HTTPD_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "herald/err.h"

struct sockaddr;

#define HTTPD_ADDR_LEN 46   /* INET6_ADDRSTRLEN */

struct httpd_guard_config {
	unsigned per_ip_limit;     /* connections or proxied requests per address */
	const char *trust_proxy;   /* numeric address, or NULL */
	unsigned penalty_ms;       /* first wrong guess (default 1000) */
	unsigned penalty_max_ms;   /* doubling up to this (default 60000) */
};

struct httpd_guard;

/* H_EUSAGE if trust_proxy is not a numeric IPv4 or IPv6 address. */
enum herald_rc httpd_guard_new(const struct httpd_guard_config *cfg,
			       struct httpd_guard **out, struct herald_err *err);
void httpd_guard_free(struct httpd_guard *g);

/* The canonical text of a socket address ("?" for other families). */
void httpd_guard_addr(const struct sockaddr *sa, char out[HTTPD_ADDR_LEN]);

/* True if peer is the trusted proxy. */
bool httpd_guard_is_proxy(struct httpd_guard *g, const char *peer);

/*
 * The client a request comes from: peer itself, or, when peer is the
 * trusted proxy and xff (the X-Forwarded-For value, may be NULL) ends in
 * a valid address, that last hop (the one the proxy added).  Returns true
 * in the second case.
 */
bool httpd_guard_client(struct httpd_guard *g, const char *peer,
			const char *xff, char out[HTTPD_ADDR_LEN]);

/*
 * Counts one more connection or request for addr.  With check, refuses
 * (false, nothing counted) when addr already holds per_ip_limit; without,
 * always counts.  Each true return is matched by one httpd_guard_put.
 */
bool httpd_guard_take(struct httpd_guard *g, const char *addr, bool check);
void httpd_guard_put(struct httpd_guard *g, const char *addr);

/* What addr holds now (for the accept policy: a check without counting). */
unsigned httpd_guard_held(struct httpd_guard *g, const char *addr);

/* Milliseconds left in addr's penalty window at now_ms, 0 if none. */
int64_t httpd_guard_penalty(struct httpd_guard *g, const char *addr,
			    int64_t now_ms);

/* A wrong token from addr: opens (or lengthens) its penalty window. */
void httpd_guard_failed(struct httpd_guard *g, const char *addr, int64_t now_ms);

/* A right token from addr: its count of wrong guesses starts again. */
void httpd_guard_succeeded(struct httpd_guard *g, const char *addr);

/* Forgets addresses that hold nothing and whose penalty has expired. */
void httpd_guard_sweep(struct httpd_guard *g, int64_t now_ms);

/* Addresses tracked now (for tests and metrics). */
unsigned httpd_guard_size(struct httpd_guard *g);

#endif
