/*
 * httpd_guard.c - per-client limits of the HTTP server (see httpd_guard.h).
 *
 * One small hash table of addresses under one mutex: the server touches
 * it once per connection (or proxied request) and once per wrong token,
 * never per byte.  Entries that hold connections are bounded by the
 * server's connection limit; entries kept only for a penalty are capped
 * (an attacker with many addresses cannot grow the table without bound:
 * past the cap, wrong guesses from new addresses are no longer slowed,
 * which with tokens of at least 32 characters costs nothing).
 */
#include "herald/httpd_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "herald/util.h"

#define NBUCKETS 256
#define PENALTY_ENTRIES_MAX 16384
/* A wrong guess is forgotten this long after the last one. */
#define FORGET_MS (10 * 60 * 1000)

struct entry {
	struct entry *next;
	char addr[HTTPD_ADDR_LEN];
	unsigned held;
	unsigned failures;
	int64_t until_ms;      /* end of the penalty window */
	int64_t last_fail_ms;
};

struct httpd_guard {
	struct httpd_guard_config cfg;
	char proxy[HTTPD_ADDR_LEN];
	pthread_mutex_t lock;
	struct entry *bucket[NBUCKETS];
	unsigned n;
};

/* Canonical text of a numeric address, or false. */
static bool canon(const char *s, char out[HTTPD_ADDR_LEN])
{
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, s, &a4) == 1)
		return inet_ntop(AF_INET, &a4, out, HTTPD_ADDR_LEN) != NULL;
	if (inet_pton(AF_INET6, s, &a6) != 1)
		return false;
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		memcpy(&a4, a6.s6_addr + 12, 4);
		return inet_ntop(AF_INET, &a4, out, HTTPD_ADDR_LEN) != NULL;
	}
	return inet_ntop(AF_INET6, &a6, out, HTTPD_ADDR_LEN) != NULL;
}

void httpd_guard_addr(const struct sockaddr *sa, char out[HTTPD_ADDR_LEN])
{
	strcpy(out, "?");
	if (!sa)
		return;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, out, HTTPD_ADDR_LEN);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, s6->sin6_addr.s6_addr + 12, out, HTTPD_ADDR_LEN);
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, out, HTTPD_ADDR_LEN);
	}
}

enum herald_rc httpd_guard_new(const struct httpd_guard_config *cfg,
			       struct httpd_guard **out, struct herald_err *err)
{
	struct httpd_guard *g = xcalloc(1, sizeof *g);
	g->cfg = *cfg;
	g->cfg.trust_proxy = NULL;
	if (cfg->trust_proxy && !canon(cfg->trust_proxy, g->proxy)) {
		free(g);
		return herald_err_set(err, H_EUSAGE, "--trust-proxy \"%s\": want a numeric "
				      "IPv4 or IPv6 address", cfg->trust_proxy);
	}
	if (!g->cfg.per_ip_limit)
		g->cfg.per_ip_limit = 64;
	if (!g->cfg.penalty_ms)
		g->cfg.penalty_ms = 1000;
	if (!g->cfg.penalty_max_ms)
		g->cfg.penalty_max_ms = 60000;
	pthread_mutex_init(&g->lock, NULL);
	*out = g;
	return H_OK;
}

void httpd_guard_free(struct httpd_guard *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < NBUCKETS; i++)
		for (struct entry *e = g->bucket[i], *n; e; e = n) {
			n = e->next;
			free(e);
		}
	pthread_mutex_destroy(&g->lock);
	free(g);
}

bool httpd_guard_is_proxy(struct httpd_guard *g, const char *peer)
{
	return g->proxy[0] && strcmp(peer, g->proxy) == 0;
}

bool httpd_guard_client(struct httpd_guard *g, const char *peer,
			const char *xff, char out[HTTPD_ADDR_LEN])
{
	snprintf(out, HTTPD_ADDR_LEN, "%s", peer);
	if (!xff || !httpd_guard_is_proxy(g, peer))
		return false;
	/* The last hop is the one our proxy appended; earlier ones are
	 * whatever the client claimed. */
	const char *last = strrchr(xff, ',');
	last = last ? last + 1 : xff;
	while (*last == ' ' || *last == '\t')
		last++;
	char hop[HTTPD_ADDR_LEN + 8];
	size_t n = strcspn(last, " \t");
	if (n == 0 || n >= sizeof hop || last[n + strspn(last + n, " \t")] != '\0')
		return false;
	memcpy(hop, last, n);
	hop[n] = '\0';
	char c[HTTPD_ADDR_LEN];
	if (!canon(hop, c))
		return false;
	memcpy(out, c, HTTPD_ADDR_LEN);
	return true;
}

static unsigned hash(const char *s)
{
	unsigned h = 2166136261u;   /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % NBUCKETS;
}

/* The entry of addr (lock held); created if create, NULL otherwise. */
static struct entry *find(struct httpd_guard *g, const char *addr, bool create)
{
	unsigned b = hash(addr);
	for (struct entry *e = g->bucket[b]; e; e = e->next)
		if (strcmp(e->addr, addr) == 0)
			return e;
	if (!create)
		return NULL;
	struct entry *e = xcalloc(1, sizeof *e);
	snprintf(e->addr, sizeof e->addr, "%s", addr);
	e->next = g->bucket[b];
	g->bucket[b] = e;
	g->n++;
	return e;
}

static void drop_if_idle(struct httpd_guard *g, const char *addr, int64_t now_ms)
{
	unsigned b = hash(addr);
	for (struct entry **pp = &g->bucket[b]; *pp; pp = &(*pp)->next) {
		struct entry *e = *pp;
		if (strcmp(e->addr, addr) != 0)
			continue;
		if (!e->held && (!e->failures || now_ms - e->last_fail_ms > FORGET_MS)) {
			*pp = e->next;
			free(e);
			g->n--;
		}
		return;
	}
}

bool httpd_guard_take(struct httpd_guard *g, const char *addr, bool check)
{
	pthread_mutex_lock(&g->lock);
	struct entry *e = find(g, addr, true);
	bool ok = !check || e->held < g->cfg.per_ip_limit;
	if (ok)
		e->held++;
	pthread_mutex_unlock(&g->lock);
	return ok;
}

void httpd_guard_put(struct httpd_guard *g, const char *addr)
{
	pthread_mutex_lock(&g->lock);
	struct entry *e = find(g, addr, false);
	if (e && e->held) {
		e->held--;
		/* Without a penalty to remember, the entry goes now; one with
		 * failures waits for the sweep. */
		if (!e->held && !e->failures)
			drop_if_idle(g, addr, 0);
	}
	pthread_mutex_unlock(&g->lock);
}

unsigned httpd_guard_held(struct httpd_guard *g, const char *addr)
{
	pthread_mutex_lock(&g->lock);
	struct entry *e = find(g, addr, false);
	unsigned n = e ? e->held : 0;
	pthread_mutex_unlock(&g->lock);
	return n;
}

int64_t httpd_guard_penalty(struct httpd_guard *g, const char *addr, int64_t now_ms)
{
	pthread_mutex_lock(&g->lock);
	struct entry *e = find(g, addr, false);
	int64_t left = e && e->until_ms > now_ms ? e->until_ms - now_ms : 0;
	pthread_mutex_unlock(&g->lock);
	return left;
}

void httpd_guard_failed(struct httpd_guard *g, const char *addr, int64_t now_ms)
{
	pthread_mutex_lock(&g->lock);
	struct entry *e = find(g, addr, false);
	if (!e && g->n < PENALTY_ENTRIES_MAX)
		e = find(g, addr, true);
	if (e) {
		if (e->failures && now_ms - e->last_fail_ms > FORGET_MS)
			e->failures = 0;
		int64_t d = g->cfg.penalty_ms;
		for (unsigned i = 0; i < e->failures && d < g->cfg.penalty_max_ms; i++)
			d *= 2;
		if (d > g->cfg.penalty_max_ms)
			d = g->cfg.penalty_max_ms;
		e->failures++;
		e->last_fail_ms = now_ms;
		e->until_ms = now_ms + d;
	}
	pthread_mutex_unlock(&g->lock);
}

void httpd_guard_succeeded(struct httpd_guard *g, const char *addr)
{
	pthread_mutex_lock(&g->lock);
	struct entry *e = find(g, addr, false);
	if (e) {
		e->failures = 0;
		e->until_ms = 0;
		if (!e->held)
			drop_if_idle(g, addr, 0);
	}
	pthread_mutex_unlock(&g->lock);
}

void httpd_guard_sweep(struct httpd_guard *g, int64_t now_ms)
{
	pthread_mutex_lock(&g->lock);
	for (size_t i = 0; i < NBUCKETS; i++)
		for (struct entry **pp = &g->bucket[i]; *pp;) {
			struct entry *e = *pp;
			if (!e->held && (!e->failures || now_ms - e->last_fail_ms > FORGET_MS)) {
				*pp = e->next;
				free(e);
				g->n--;
			} else {
				pp = &e->next;
			}
		}
	pthread_mutex_unlock(&g->lock);
}

unsigned httpd_guard_size(struct httpd_guard *g)
{
	pthread_mutex_lock(&g->lock);
	unsigned n = g->n;
	pthread_mutex_unlock(&g->lock);
	return n;
}
