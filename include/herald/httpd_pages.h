/*
 * httpd_pages.h - the service's own pages, registered as routes:
 *   GET /          index: plan title and version, public feeds with
 *                  subscribe links, health
 *   GET /healthz   JSON health (503 when degraded)
 *   GET /metrics   Prometheus text
 */
#ifndef HERALD_HTTPD_PAGES_H
#define HERALD_HTTPD_PAGES_H

struct httpd;
struct httpd_feeds;
struct runtime;

/* Registers the three pages on h; rt and feeds are borrowed for the
 * server's life. */
void httpd_pages_routes(struct httpd *h, struct runtime *rt, struct httpd_feeds *feeds);

#endif
