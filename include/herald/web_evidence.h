/*
 * web_evidence.h - the evidence side of the HTTP service:
 * GET /ack/TOKEN (records an acknowledgement) and GET /report (admin).
 */
#ifndef HERALD_WEB_EVIDENCE_H
#define HERALD_WEB_EVIDENCE_H

struct httpd;
struct httpd_req;
struct httpd_resp;
struct runtime;

/* Registers /ack/ and /report on h; rt is borrowed for the server's life. */
void web_evidence_routes(struct httpd *h, struct runtime *rt);

/*
 * GET /ack/TOKEN (ctx: struct runtime).  A valid token for a known
 * delivery records one acks row (delivery, time, communication, audience,
 * person) in one transaction, unless that delivery was already
 * acknowledged: the first counts, repeats get the same page.  A forged or
 * altered token, or one for no delivery, gets 404 and records nothing.
 */
void web_evidence_ack(const struct httpd_req *req, struct httpd_resp *resp,
		      void *ctx);

/*
 * GET /report[?from=T&to=T] (ctx: struct runtime): the HTML report of
 * report.h for the plan in force.  Needs "Authorization: Bearer TOKEN"
 * whose SHA-256 is internal_meta "admin_token_sha256" (compared in
 * constant time); 401 otherwise, and always when no admin token is set.
 */
void web_evidence_report(const struct httpd_req *req, struct httpd_resp *resp,
			 void *ctx);

#endif
