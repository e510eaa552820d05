/*
 * web_evidence.h - the evidence side of the HTTP service:
 * /ack/TOKEN (GET: the confirmation page; POST: its button, which records
 * the acknowledgement) and GET /report (admin).
 */
#ifndef HERALD_WEB_EVIDENCE_H
#define HERALD_WEB_EVIDENCE_H

struct httpd;
struct httpd_req;
struct httpd_resp;
struct runtime;

/* Registers GET and POST /ack/ and GET /report on h; rt is borrowed for
 * the server's life. */
void web_evidence_routes(struct httpd *h, struct runtime *rt);

/* The most a POST /ack/TOKEN body may hold (the form sends 12 bytes). */
#define WEB_ACK_MAX_BODY 1024

/*
 * GET (and HEAD) /ack/TOKEN (ctx: struct runtime): the confirmation page.
 * Records nothing, whoever asks (a person, a mail gateway, a link
 * preview).  It says what the communication is (topic, description,
 * owner, plan id and version, the occurrence and when it was sent, in
 * words in the plan's zone, and to whom) and either that it was already
 * acknowledged (when) or offers one button, "I have read this", a form
 * that POSTs confirm=read to the same path.  No script; the page may not
 * be framed and its form may post only to its own origin.  A forged or
 * altered token, or one for no delivery, gets 404.
 */
void web_evidence_ack_page(const struct httpd_req *req, struct httpd_resp *resp,
			   void *ctx);

/*
 * POST /ack/TOKEN (ctx: struct runtime): the button.  Refused, recording
 * nothing: a forged or altered token 404; a body over WEB_ACK_MAX_BODY
 * 413; a request another site made (Sec-Fetch-Site other than same-origin
 * or none, Origin "null" or neither the base URL's origin nor the Host
 * asked) 403; a Content-Type other than a form 415; a body without
 * confirm=read 400.  Otherwise records one acks row (link, first
 * delivery, time, communication, audience, person) in one transaction,
 * unless the link was already acknowledged: the first counts, repeats get
 * the same thank-you page (200).  No cookie: the token is the capability.
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
