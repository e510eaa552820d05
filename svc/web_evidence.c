/*
 * web_evidence.c - PLACEHOLDER until the evidence web routes land:
 * registers nothing.
 */
#include "herald/web_evidence.h"

void web_evidence_routes(struct httpd *h, struct runtime *rt)
{
	(void)h;
	(void)rt;
}
