/*
 * web_evidence.h - the evidence side of the HTTP service:
 * GET /ack/TOKEN (records an acknowledgement) and GET /report (admin).
 */
#ifndef HERALD_WEB_EVIDENCE_H
#define HERALD_WEB_EVIDENCE_H

struct httpd;
struct runtime;

/* Registers /ack/ and /report on h; rt is borrowed for the server's life. */
void web_evidence_routes(struct httpd *h, struct runtime *rt);

#endif
