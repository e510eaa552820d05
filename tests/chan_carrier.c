/*
 * chan_carrier.c - a throwaway channel type, in the test tree only: the
 * proof that a type is one file plus one line of svc/chan_types.c's list.
 * The Makefile builds build/tests/herald-extra from herald's objects, this
 * file and the list compiled with -D'CHAN_TYPES_EXTRA(X)=X(carrier)';
 * tests/integration/chan_table.sh shows that loading, lint, secret
 * masking, pacing, sending and the evidence all know the type from its
 * row alone.
 *
 *     "pigeons": { "type": "carrier", "loft": "north", "url": "env:LOFT_URL" }
 *
 * Its keys live in its own settings (ch->opts), its secret there too, and
 * it paces messages 600 ms apart per loft (not per channel).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "herald/chan_backend.h"
#include "herald/plan.h"
#include "herald/plan_chan.h"
#include "herald/plan_json.h"

struct carrier_opts {
	char *loft;
	struct plan_secret url;
};

static void payload(const struct chan_msg *m, struct buf *out)
{
	const struct carrier_opts *o = m->ch->opts;
	json_t *j = json_pack("{s:s, s:s, s:s?}", "loft", o->loft, "delivery", m->key,
			      "message", m->text);
	char *s = json_dumps(j, JSON_COMPACT);
	buf_adds(out, s);
	free(s);
	json_decref(j);
}

static bool prepare(struct chan_req *r, struct chan_outcome *o)
{
	const struct carrier_opts *c = r->m->ch->opts;
	return chan_post_json(r, o, c->url.value, payload);
}


static void loft_key(const struct plan_channel *ch, struct buf *out)
{
	const struct carrier_opts *o = ch->opts;
	buf_adds(out, o->loft);
}

static void free_opts(void *p)
{
	struct carrier_opts *o = p;
	free(o->loft);
	plan_secret_free(&o->url);
	free(o);
}

static enum herald_rc load(struct pj *c, json_t *j, struct plan_channel *ch)
{
	static const char *const keys[] = { "type", "loft", "url", NULL };
	size_t before = c->nerrors;
	pj_check_keys(c, j, keys);
	struct carrier_opts *o = xcalloc(1, sizeof *o);
	pj_get_string(c, j, "loft", true, &o->loft);
	plan_chan_http_url(c, j, "url", true, &o->url);
	if (!o->loft)
		o->loft = xstrdup("?");
	ch->opts = o;
	return pj_since(c, before);
}

static const struct chan_secret_field secrets[] = {
	CHAN_OPTS_SECRET("url", struct carrier_opts, url), { 0 }
};

const struct chan_type chan_type_carrier = {
	.name = "carrier",
	.what = "a test type: JSON to a loft's URL",
	.load = load,
	.free_opts = free_opts,
	.secrets = secrets,
	.pacing = { .interval_ms = 600, .key = loft_key },
	.backend = &(const struct chan_backend){ .prepare = prepare },
};
