/*
 * web_api.h - the HTTP API of the service:
 *   POST /api/communications/ID/send   manual send of a manual
 *        communication (bearer admin token); body, optional, JSON
 *        {"note": TEXT}; 202 with {"communication", "deliveries": [keys],
 *        "note"}, 401 without the token, 404 for an unknown or scheduled
 *        communication, 400 for a bad body.
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
