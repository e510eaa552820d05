/*
 * web_api.h - the HTTP API of the service:
 *   POST /api/communications/ID/send   manual send (bearer admin token),
 *        the same rules as `herald send` (outbox_manual_check).  Body JSON
 *        {"by": NAME (required), "note": TEXT, "drill": BOOL,
 *        "out_of_turn": BOOL}; the caller's address is recorded with the
 *        name.  202 with {"communication", "kind", "requested_by", "note",
 *        "dry_run", "deliveries": [{"key", "audience", "channel",
 *        "recipient", "state"}]}; 400 for a bad body (the message names
 *        the key), 401 without the token, 404 for an unknown
 *        communication, 409 when the plan refuses the send (a scheduled
 *        communication without out_of_turn, a drill without drill
 *        recipients, links that would point at a loopback base URL).
 */
#ifndef HERALD_WEB_API_H
#define HERALD_WEB_API_H

#include "herald/err.h"

struct dispatcher;
struct httpd;
struct runtime;

struct web_api;

/*
 * Sets up the admin token (admin.h: HERALD_ADMIN_TOKEN, or one made on
 * first start) and registers the API's routes on h.  rt, d and h are
 * borrowed and must outlive the API.
 */
enum herald_rc web_api_new(struct httpd *h, struct runtime *rt, struct dispatcher *d,
			   struct web_api **out, struct herald_err *err);

/* After httpd_stop. */
void web_api_free(struct web_api *a);

#endif
