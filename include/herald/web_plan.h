/*
 * web_plan.h - GET /plan: the plan in force as its controlled document
 * (plandoc.h, the HTML page), behind the admin token.
 */
#ifndef HERALD_WEB_PLAN_H
#define HERALD_WEB_PLAN_H

struct httpd;
struct httpd_req;
struct httpd_resp;
struct runtime;

/* Registers /plan on h; rt is borrowed for the server's life. */
void web_plan_routes(struct httpd *h, struct runtime *rt);

/*
 * GET /plan (ctx: struct runtime): the HTML document of the plan in force.
 * Needs "Authorization: Bearer TOKEN" with the admin token (admin.h); 401
 * otherwise, and always when no admin token is set.
 */
void web_plan_page(const struct httpd_req *req, struct httpd_resp *resp, void *ctx);

#endif
