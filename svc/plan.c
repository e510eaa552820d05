/*
 * plan.c - loading and validating a communication plan (see plan.h): the
 * plan header, audiences, communications, and the load itself.
 *
 * The tree (jansson) is walked once; every value is checked where it is
 * read, and a failure reports the JSON path that led there (the reading
 * layer is plan_json.c; channels and schedules have modules of their
 * own).  Nothing of the tree outlives plan_load: strings are copied out.
 */
#include "herald/plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "herald/log.h"
#include "herald/members.h"
#include "herald/plan_chan.h"
#include "herald/plan_channels.h"
#include "herald/plan_json.h"
#include "herald/plan_members.h"
#include "herald/plan_sched.h"
#include "herald/plan_text.h"
#include "herald/template.h"
#include "herald/timeutil.h"
#include "herald/tz.h"
#include "herald/util.h"

#define PLAN_MAX_BYTES (16u << 20)

/*
 * A set of ids (open addressing, FNV-1a): duplicate communication ids are
 * found in linear time, which matters for plans of thousands of them.
 */
struct idset {
	const char **ids;   /* borrowed from the plan */
	size_t *index;
	size_t cap, n;
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Adds id with its index; returns the index already there, or -1. */
static long idset_add(struct idset *set, const char *id, size_t index)
{
	if (2 * (set->n + 1) > set->cap) {
		struct idset big = { .cap = set->cap ? set->cap * 2 : 64 };
		big.ids = xcalloc(big.cap, sizeof *big.ids);
		big.index = xcalloc(big.cap, sizeof *big.index);
		for (size_t i = 0; i < set->cap; i++)
			if (set->ids[i])
				idset_add(&big, set->ids[i], set->index[i]);
		free(set->ids);
		free(set->index);
		*set = big;
	}
	size_t i = fnv1a(id) & (set->cap - 1);
	for (; set->ids[i]; i = (i + 1) & (set->cap - 1))
		if (strcmp(set->ids[i], id) == 0)
			return (long)set->index[i];
	set->ids[i] = id;
	set->index[i] = index;
	set->n++;
	return -1;
}

static void idset_free(struct idset *set)
{
	free(set->ids);
	free(set->index);
}

/* ------------------------------------------------------------ audiences */

static enum herald_rc load_address_list(struct pj *c, json_t *j,
					struct plan_deliver *d)
{
	d->to = TO_LIST;
	d->addrs = xcalloc(json_array_size(j) ? json_array_size(j) : 1,
			   sizeof *d->addrs);
	if (json_array_size(j) == 0)
		return pj_fail(c, "the address list is empty");
	size_t before = c->nerrors;
	size_t i;
	json_t *v;
	json_array_foreach(j, i, v) {
		if (pj_full(c))
			break;
		size_t o = pj_push_index(c, i);
		char *addr = NULL;
		if (!pj_string_value(c, v, &addr)) {
			d->addrs[d->naddrs++] = addr;
			if (!members_valid_addr(addr))
				pj_fail(c, "\"%.80s\" is not an email address", addr);
		}
		pj_pop(c, o);
	}
	return pj_since(c, before);
}

/* The id of p's channels (or audiences) within two edits of id: the one
 * an unknown reference most likely meant; NULL if none is that close. */
static const char *closest_ref(const struct plan *p, bool channels, const char *id)
{
	struct nearest nb = NEAREST(id);
	size_t n = channels ? p->nchannels : p->naudiences;
	for (size_t i = 0; i < n; i++)
		nearest_offer(&nb, channels ? p->channels[i].id : p->audiences[i].id);
	return nb.best;
}

static void unknown_ref(struct pj *c, const char *what, bool channels, const char *id)
{
	const char *best = closest_ref(c->plan, channels, id);
	if (best)
		pj_fail(c, "unknown %s \"%.60s\" (did you mean \"%s\"?)", what, id, best);
	else
		pj_fail(c, "unknown %s \"%.60s\"", what, id);
}

/* The "to" of a deliver entry through channel ch (c's path is the entry). */
static enum herald_rc load_deliver_to(struct pj *c, json_t *j,
				      const struct plan_audience *a,
				      const struct plan_channel *ch,
				      struct plan_deliver *d)
{
	json_t *to = json_object_get(j, "to");
	if (!to) {
		if (ch->type->addressed)
			return pj_fail(c, "%s delivery needs \"to\": a list of addresses or \"members\"",
				       ch->type->name);
		d->to = TO_CHANNEL;
		return H_OK;
	}
	if (!ch->type->addressed)
		return PJ_FAIL_AT(c, "to", "\"to\" applies only to email channels (\"%s\" is %s)",
				  ch->id, ch->type->name);
	size_t o = pj_push_key(c, "to");
	enum herald_rc rc = H_OK;
	if (json_is_string(to) && strcmp(json_string_value(to), "members") == 0) {
		d->to = TO_MEMBERS;
		if (!a->members_given)
			rc = pj_fail(c, "\"members\" needs the audience to list its members");
	} else if (json_is_array(to)) {
		rc = load_address_list(c, to, d);
	} else {
		rc = pj_fail(c, "expected a list of addresses or \"members\"");
	}
	pj_pop(c, o);
	return rc;
}

static enum herald_rc load_deliver_entry(struct pj *c, json_t *j,
					 struct plan_audience *a,
					 struct plan_deliver *d)
{
	static const char *const keys[] = { "channel", "to", NULL };
	if (pj_want_object(c, j))
		return H_EINVAL;
	size_t before = c->nerrors;
	pj_check_keys(c, j, keys);
	char *chid = NULL;
	if (pj_get_string(c, j, "channel", true, &chid))
		return H_EINVAL;
	if (!c->channels_read) { /* "channels" has its own error */
		free(chid);
		return pj_since(c, before);
	}
	long ci = plan_channel_index(c->plan, chid);
	if (ci < 0) {
		size_t o = pj_push_key(c, "channel");
		unknown_ref(c, "channel", true, chid);
		pj_pop(c, o);
	}
	free(chid);
	if (ci < 0)
		return H_EINVAL;
	d->channel = (size_t)ci;
	/* A channel whose type failed has its own error; "to" cannot be
	 * judged against it. */
	if (c->chan_typed[ci])
		load_deliver_to(c, j, a, &c->plan->channels[ci], d);
	return pj_since(c, before);
}

static enum herald_rc load_deliver(struct pj *c, json_t *j,
				   struct plan_audience *a)
{
	if (!j)
		return H_OK;
	size_t o = pj_push_key(c, "deliver");
	size_t before = c->nerrors;
	if (!json_is_array(j)) {
		pj_fail(c, "expected a list, found %s", pj_kind(j));
		pj_pop(c, o);
		return H_EINVAL;
	}
	a->deliver = xcalloc(json_array_size(j) ? json_array_size(j) : 1,
			     sizeof *a->deliver);
	size_t i;
	json_t *v;
	json_array_foreach(j, i, v) {
		if (pj_full(c))
			break;
		size_t o2 = pj_push_index(c, i);
		load_deliver_entry(c, v, a, &a->deliver[a->ndeliver++]);
		pj_pop(c, o2);
	}
	pj_pop(c, o);
	return pj_since(c, before);
}

/* Maps obj.key to one of names (values[i]); absent keeps *out. */
static enum herald_rc get_enum(struct pj *c, json_t *obj, const char *key,
			       bool required, const char *const *names,
			       const int *values, const char *what, int *out)
{
	char *s = NULL;
	enum herald_rc rc = pj_get_string(c, obj, key, required, &s);
	if (rc || !s)
		return rc;
	size_t i = 0;
	while (names[i] && strcmp(names[i], s) != 0)
		i++;
	if (names[i]) {
		*out = values[i];
	} else {
		struct buf b;
		buf_init(&b);
		for (size_t k = 0; names[k]; k++)
			buf_printf(&b, "%s%s", k == 0 ? "" : names[k + 1] ? ", " : " or ",
				   names[k]);
		rc = PJ_FAIL_AT(c, key, "\"%.40s\" is not %s (%s)", s, what, b.data);
		buf_free(&b);
	}
	free(s);
	return rc;
}

static enum herald_rc load_audience(struct pj *c, const char *id, json_t *j,
				    struct plan_audience *a)
{
	static const char *const keys[] = { "name", "scope", "feed", "members",
					    "deliver", "feed_name", "feed_email", NULL };
	static const char *const scopes[] = { "internal", "external", NULL };
	static const int scope_ext[] = { 0, 1 };
	static const char *const feeds[] = { "public", "private", "none", NULL };
	static const int feed_kinds[] = { FEED_PUBLIC, FEED_PRIVATE, FEED_NONE };
	a->id = xstrdup(id);
	size_t before = c->nerrors;
	pj_check_id(c, id);
	if (pj_want_object(c, j))
		return H_EINVAL;
	pj_check_keys(c, j, keys);
	pj_get_string(c, j, "name", false, &a->name);
	if (!a->name)
		a->name = xstrdup(id);
	int ext = 0, feed = FEED_PRIVATE;
	get_enum(c, j, "scope", true, scopes, scope_ext, "a scope", &ext);
	get_enum(c, j, "feed", false, feeds, feed_kinds, "a feed kind", &feed);
	a->external = ext;
	a->feed = (enum feed_kind)feed;
	if (!pj_get_string(c, j, "feed_name", false, &a->feed_name) && a->feed_name &&
	    (pj_has_ctl(a->feed_name) || strlen(a->feed_name) > 200))
		PJ_FAIL_AT(c, "feed_name", "must be a single line of at most 200 bytes");
	pj_get_bool(c, j, "feed_email", false, &a->feed_email);
	if (a->feed == FEED_NONE && (a->feed_name || a->feed_email))
		PJ_FAIL_AT(c, a->feed_name ? "feed_name" : "feed_email",
			   "the audience has no feed (\"feed\": \"none\")");
	plan_members_load(c, json_object_get(j, "members"), a);
	load_deliver(c, json_object_get(j, "deliver"), a);
	return pj_since(c, before);
}

static enum herald_rc load_audiences(struct pj *c, json_t *j)
{
	size_t o = pj_push_key(c, "audiences");
	size_t before = c->nerrors;
	struct plan *p = c->plan;
	if (pj_want_object(c, j)) {
		pj_pop(c, o);
		return H_EINVAL;
	}
	if (json_object_size(j) == 0)
		pj_fail(c, "a plan needs at least one audience");
	p->audiences = xcalloc(json_object_size(j) ? json_object_size(j) : 1,
			       sizeof *p->audiences);
	const char *id;
	json_t *v;
	json_object_foreach(j, id, v) {
		if (pj_full(c))
			break;
		size_t o2 = pj_push_key(c, id);
		load_audience(c, id, v, &p->audiences[p->naudiences++]);
		pj_pop(c, o2);
	}
	pj_pop(c, o);
	return pj_since(c, before);
}

/* -------------------------------------------------------- communications */

static enum herald_rc get_duration_list(struct pj *c, json_t *obj,
					const char *key, int64_t **out,
					size_t *n, bool *given)
{
	json_t *j = json_object_get(obj, key);
	*given = j != NULL;
	if (!j)
		return H_OK;
	size_t o = pj_push_key(c, key);
	size_t before = c->nerrors;
	if (!json_is_array(j)) {
		pj_fail(c, "expected a list of durations such as [\"P1D\", \"PT0S\"], found %s",
			pj_kind(j));
		pj_pop(c, o);
		return H_EINVAL;
	}
	*out = xcalloc(json_array_size(j) ? json_array_size(j) : 1, sizeof **out);
	size_t i;
	json_t *v;
	json_array_foreach(j, i, v) {
		if (pj_full(c))
			break;
		size_t o2 = pj_push_index(c, i);
		char *s = NULL;
		int64_t d = 0;
		bool ok = pj_string_value(c, v, &s) == H_OK;
		if (ok && (!parse_duration(s, &d) || d > 400 * 86400)) {
			pj_fail(c, "\"%.40s\" is not a duration such as P7D, PT1H or PT0S "
				"(weeks, days, hours, minutes, seconds; at most 400 days)", s);
			ok = false;
		}
		for (size_t k = 0; ok && k < *n; k++)
			if ((*out)[k] == d) {
				pj_fail(c, "\"%.40s\" is listed twice", s);
				ok = false;
			}
		if (ok)
			(*out)[(*n)++] = d;
		free(s);
		pj_pop(c, o2);
	}
	pj_pop(c, o);
	return pj_since(c, before);
}

/*
 * Reads a list of ids (at the current path) resolved by lookup into
 * indexes; unknown ids and repeats are errors.  `what` names the kind.
 * Without the section the ids refer to (resolve false: it failed on its
 * own), the ids are not judged.
 */
static enum herald_rc load_ref_list(struct pj *c, json_t *a, const char *what,
				    long (*lookup)(const struct plan *, const char *),
				    bool resolve, size_t **out, size_t *n)
{
	size_t before = c->nerrors;
	*out = xcalloc(json_array_size(a) ? json_array_size(a) : 1, sizeof **out);
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) {
		if (pj_full(c))
			break;
		size_t o = pj_push_index(c, i);
		char *id = NULL;
		long k = -1;
		if (!pj_string_value(c, v, &id) && resolve) {
			k = lookup(c->plan, id);
			if (k < 0)
				unknown_ref(c, what, lookup == plan_channel_index, id);
			for (size_t j = 0; k >= 0 && j < *n; j++)
				if ((*out)[j] == (size_t)k) {
					pj_fail(c, "%s \"%.60s\" is listed twice", what, id);
					k = -1;
				}
		}
		if (k >= 0)
			(*out)[(*n)++] = (size_t)k;
		free(id);
		pj_pop(c, o);
	}
	return pj_since(c, before);
}

static enum herald_rc load_comm_audiences(struct pj *c, json_t *j,
					  struct plan_comm *m)
{
	json_t *a = json_object_get(j, "audiences");
	if (!a)
		return PJ_FAIL_AT(c, "audiences", "required key \"audiences\" is missing (with whom)");
	size_t o = pj_push_key(c, "audiences");
	enum herald_rc rc = json_is_array(a) && json_array_size(a)
				    ? load_ref_list(c, a, "audience", plan_audience_index,
						    c->audiences_read, &m->audiences,
						    &m->naudiences)
				    : pj_fail(c, "expected a non-empty list of audience ids");
	pj_pop(c, o);
	return rc;
}

static bool audience_delivers(const struct plan_audience *a, size_t ch)
{
	for (size_t i = 0; i < a->ndeliver; i++)
		if (a->deliver[i].channel == ch)
			return true;
	return false;
}

/* audiences_ok: the communication's audiences all resolved. */
static enum herald_rc load_comm_channels(struct pj *c, json_t *j,
					 struct plan_comm *m, bool audiences_ok)
{
	json_t *a = json_object_get(j, "channels");
	if (!a)
		return H_OK;
	m->channels_given = true;
	size_t o = pj_push_key(c, "channels");
	enum herald_rc rc = json_is_array(a)
				    ? load_ref_list(c, a, "channel", plan_channel_index,
						    c->channels_read, &m->channels,
						    &m->nchannels)
				    : pj_fail(c, "expected a list of channel ids, found %s", pj_kind(a));
	/* "channels" narrows the audiences' deliver lists; it cannot add.
	 * Only judged on a complete picture (no error above). */
	for (size_t i = 0; !rc && audiences_ok && i < m->nchannels; i++) {
		bool used = false;
		for (size_t k = 0; k < m->naudiences; k++)
			used |= audience_delivers(&c->plan->audiences[m->audiences[k]],
						  m->channels[i]);
		if (!used) {
			size_t o2 = pj_push_index(c, i);
			pj_fail(c, "channel \"%.60s\" is not in the deliver list of any of this "
				"communication's audiences", c->plan->channels[m->channels[i]].id);
			pj_pop(c, o2);
		}
	}
	pj_pop(c, o);
	return rc;
}

static enum herald_rc load_acknowledge(struct pj *c, json_t *j,
				       struct plan_comm *m)
{
	json_t *a = json_object_get(j, "acknowledge");
	if (!a)
		return H_OK;
	if (json_is_boolean(a)) {
		m->acknowledge = json_is_true(a);
		return H_OK;
	}
	size_t o = pj_push_key(c, "acknowledge");
	static const char *const keys[] = { "remind_after", "new_members", NULL };
	static const char *const joiners[] = { "latest", "none", NULL };
	static const int joiner_values[] = { ACK_NEW_LATEST, ACK_NEW_NONE };
	size_t before = c->nerrors;
	if (!json_is_object(a)) {
		pj_fail(c, "expected true, false or {\"remind_after\": [...], \"new_members\": ...}");
		pj_pop(c, o);
		return H_EINVAL;
	}
	pj_check_keys(c, a, keys);
	bool given;
	get_duration_list(c, a, "remind_after", &m->remind_after, &m->nremind, &given);
	for (size_t i = 0; i < m->nremind; i++)
		if (m->remind_after[i] == 0) {
			PJ_FAIL_AT(c, "remind_after", "a reminder needs a positive delay");
			break;
		}
	int nm = ACK_NEW_LATEST;
	get_enum(c, a, "new_members", false, joiners, joiner_values,
		 "what a new member gets", &nm);
	m->new_members = (enum ack_new_members)nm;
	m->acknowledge = true;
	pj_pop(c, o);
	return pj_since(c, before);
}

/* What a calendar shows beyond the schedule: busy, location, url, all_day. */
static enum herald_rc load_calendar_keys(struct pj *c, json_t *j, struct plan_comm *m)
{
	size_t before = c->nerrors;
	pj_get_bool(c, j, "busy", false, &m->busy);
	pj_get_bool(c, j, "all_day", false, &m->all_day);
	if (!pj_get_string(c, j, "location", false, &m->location) && m->location &&
	    (pj_has_ctl(m->location) || strlen(m->location) > 500))
		PJ_FAIL_AT(c, "location", "must be a single line of at most 500 bytes");
	if (!pj_get_string(c, j, "url", false, &m->url) && m->url) {
		const char *u = m->url;
		bool scheme = strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0;
		if (!scheme || strlen(u) > 2000 || strpbrk(u, " \t\"<>\\^`{|}") || pj_has_ctl(u))
			PJ_FAIL_AT(c, "url", "\"%.60s\" is not an https:// or http:// URL "
				   "(no spaces or quotes)", u);
	}
	return pj_since(c, before);
}

/* "drill" of obj (the plan header or a communication); absent leaves d
 * unset.  Channels are judged only when the channels section was read. */
static enum herald_rc load_drill(struct pj *c, json_t *obj, struct plan_drill *d)
{
	static const char *const keys[] = { "to", "channels", NULL };
	json_t *j = json_object_get(obj, "drill");
	if (!j)
		return H_OK;
	size_t o = pj_push_key(c, "drill");
	size_t before = c->nerrors;
	if (pj_want_object(c, j)) {
		pj_pop(c, o);
		return H_EINVAL;
	}
	pj_check_keys(c, j, keys);
	d->given = true;
	json_t *to = json_object_get(j, "to");
	if (to) {
		struct plan_deliver list = { 0 };
		size_t o2 = pj_push_key(c, "to");
		if (!json_is_array(to))
			pj_fail(c, "expected a list of email addresses, found %s", pj_kind(to));
		else
			load_address_list(c, to, &list);
		pj_pop(c, o2);
		d->to = list.addrs;
		d->nto = list.naddrs;
	}
	json_t *chs = json_object_get(j, "channels");
	if (chs) {
		d->channels_given = true;
		size_t o2 = pj_push_key(c, "channels");
		if (!json_is_array(chs) || json_array_size(chs) == 0)
			pj_fail(c, "expected a non-empty list of channel ids");
		else
			load_ref_list(c, chs, "channel", plan_channel_index, c->channels_read,
				      &d->channels, &d->nchannels);
		pj_pop(c, o2);
	}
	if (!to && !chs)
		pj_fail(c, "a drill names its recipients: \"to\" (email addresses) and/or "
			"\"channels\" (channel ids)");
	/* An email channel of the drill needs someone to write to. */
	for (size_t i = 0; c->nerrors == before && i < d->nchannels; i++) {
		const struct plan_channel *ch = &c->plan->channels[d->channels[i]];
		/* A channel whose type was refused has none to ask. */
		if (c->chan_typed[d->channels[i]] && ch->type->addressed && d->nto == 0)
			PJ_FAIL_AT(c, "to", "email channel \"%.60s\" in drill.channels needs the "
				   "drill addresses in \"to\"", ch->id);
	}
	pj_pop(c, o);
	return pj_since(c, before);
}

static enum herald_rc load_comm(struct pj *c, json_t *j, struct idset *ids,
				struct plan_comm *m)
{
	static const char *const keys[] = { "id", "topic", "description",
					    "audiences", "channels", "owner",
					    "schedule", "notify", "message",
					    "acknowledge", "drill", "busy", "location",
					    "url", "all_day", NULL };
	if (pj_want_object(c, j))
		return H_EINVAL;
	size_t before = c->nerrors;
	pj_check_keys(c, j, keys);
	if (!pj_get_string(c, j, "id", true, &m->id)) {
		size_t o = pj_push_key(c, "id");
		long k = -1;
		if (!pj_check_id(c, m->id))
			k = idset_add(ids, m->id, c->plan->ncomms - 1);
		if (k >= 0)
			pj_fail(c, "duplicate communication id \"%s\" (also communications[%ld])",
				m->id, k);
		pj_pop(c, o);
	}
	pj_get_string(c, j, "topic", true, &m->topic);
	pj_get_string(c, j, "description", false, &m->description);
	size_t mark = c->nerrors;
	load_comm_audiences(c, j, m);
	load_comm_channels(c, j, m, c->nerrors == mark && c->audiences_read);
	pj_get_string(c, j, "owner", true, &m->owner);
	load_calendar_keys(c, j, m);
	m->sched.all_day = m->all_day;
	if (!json_object_get(j, "schedule"))
		PJ_FAIL_AT(c, "schedule", "required key \"schedule\" is missing (when)");
	else
		plan_sched_load(c, json_object_get(j, "schedule"), &m->sched);
	if (m->all_day && m->sched.kind == SCHED_MANUAL)
		PJ_FAIL_AT(c, "all_day", "a manual trigger has no calendar event to make all-day");
	bool given = false;
	get_duration_list(c, j, "notify", &m->notify, &m->nnotify, &given);
	if (!given) {
		m->notify = xcalloc(1, sizeof *m->notify);
		m->nnotify = 1;
	}
	if (!pj_get_string(c, j, "message", false, &m->message) && m->message) {
		char msg[256];
		if (template_check(m->message, msg, sizeof msg))
			PJ_FAIL_AT(c, "message", "%s", msg);
	}
	load_acknowledge(c, j, m);
	load_drill(c, j, &m->drill);
	return pj_since(c, before);
}

/* The id of communication element v, if it has a usable one (for paths). */
static const char *comm_label(json_t *v)
{
	json_t *id = json_is_object(v) ? json_object_get(v, "id") : NULL;
	const char *s = json_is_string(id) ? json_string_value(id) : NULL;
	return s && pj_valid_id(s) ? s : NULL;
}

static enum herald_rc load_comms(struct pj *c, json_t *j)
{
	size_t o = pj_push_key(c, "communications");
	size_t before = c->nerrors;
	struct plan *p = c->plan;
	if (!json_is_array(j)) {
		pj_fail(c, "expected a list, found %s", pj_kind(j));
		pj_pop(c, o);
		return H_EINVAL;
	}
	p->comms = xcalloc(json_array_size(j) ? json_array_size(j) : 1,
			   sizeof *p->comms);
	struct idset ids = { 0 };
	size_t i;
	json_t *v;
	json_array_foreach(j, i, v) {
		if (pj_full(c))
			break;
		size_t o2 = pj_push_item(c, i, comm_label(v));
		p->ncomms++;
		load_comm(c, v, &ids, &p->comms[i]);
		pj_pop(c, o2);
	}
	idset_free(&ids);
	pj_pop(c, o);
	return pj_since(c, before);
}

/* ------------------------------------------------------------ the plan */

static enum herald_rc get_date_field(struct pj *c, json_t *obj,
				     const char *key, char **out)
{
	enum herald_rc rc = pj_get_string(c, obj, key, false, out);
	char why[160];
	if (!rc && *out && !explain_date(*out, why, sizeof why))
		rc = PJ_FAIL_AT(c, key, "\"%.40s\" is not a date YYYY-MM-DD: %s", *out, why);
	return rc;
}

/*
 * plan.base_url: http(s)://host[:port][/path], the address people reach
 * herald at (links in messages, feed URLs).  Kept without trailing '/'.
 */
static enum herald_rc load_base_url(struct pj *c, json_t *j)
{
	struct plan *p = c->plan;
	if (pj_get_string(c, j, "base_url", false, &p->base_url) || !p->base_url)
		return H_OK;
	const char *u = p->base_url;
	const char *host = strncmp(u, "https://", 8) == 0 ? u + 8 :
			   strncmp(u, "http://", 7) == 0 ? u + 7 : NULL;
	if (!host)
		return PJ_FAIL_AT(c, "base_url", "\"%.80s\" does not start with https:// or http://", u);
	if (!*host || *host == '/' || strpbrk(u, " ?#\"<>\\") || pj_has_ctl(u) ||
	    strchr(host, '@'))
		return PJ_FAIL_AT(c, "base_url", "\"%.80s\" is not a base URL such as "
				  "https://herald.acme.example", u);
	size_t n = strlen(p->base_url);
	while (n && p->base_url[n - 1] == '/')
		p->base_url[--n] = '\0';
	return H_OK;
}

static enum herald_rc load_header(struct pj *c, json_t *j)
{
	static const char *const keys[] = { "id", "title", "version", "owner",
					    "approved_by", "approved_on",
					    "next_review", "timezone", "strict_approval",
					    "base_url", "drill", NULL };
	struct plan *p = c->plan;
	size_t o = pj_push_key(c, "plan");
	size_t before = c->nerrors;
	if (pj_want_object(c, j)) {
		pj_pop(c, o);
		return H_EINVAL;
	}
	pj_check_keys(c, j, keys);
	if (!pj_get_string(c, j, "id", true, &p->id)) {
		size_t o2 = pj_push_key(c, "id");
		pj_check_id(c, p->id);
		pj_pop(c, o2);
	}
	pj_get_string(c, j, "title", false, &p->title);
	if (!pj_get_string(c, j, "version", true, &p->version) &&
	    (strlen(p->version) > 64 || pj_has_ctl(p->version)))
		PJ_FAIL_AT(c, "version", "must be a short single-line version label");
	pj_get_string(c, j, "owner", true, &p->owner);
	pj_get_string(c, j, "approved_by", false, &p->approved_by);
	get_date_field(c, j, "approved_on", &p->approved_on);
	get_date_field(c, j, "next_review", &p->next_review);
	pj_get_bool(c, j, "strict_approval", false, &p->strict_approval);
	if (!pj_get_string(c, j, "timezone", true, &p->tzid)) {
		p->tz = tz_get(p->tzid);
		if (!p->tz)
			PJ_FAIL_AT(c, "timezone", "unknown time zone \"%.60s\" (an IANA name such as Europe/London)",
				   p->tzid);
	}
	load_base_url(c, j);
	if (!p->title)
		p->title = xstrdup(p->id ? p->id : "");
	pj_pop(c, o);
	return pj_since(c, before);
}

static enum herald_rc load_root(struct pj *c, json_t *root)
{
	static const char *const keys[] = { "plan", "channels", "audiences",
					    "communications", NULL };
	static const char *const parts[] = { "plan", "channels", "audiences",
					     "communications" };
	if (!json_is_object(root))
		return pj_fail(c, "a plan is a JSON object, found %s", pj_kind(root));
	size_t before = c->nerrors;
	pj_check_keys(c, root, keys);
	for (int i = 0; i < 4; i++)
		if (!json_object_get(root, parts[i]))
			pj_fail(c, "required key \"%s\" is missing", parts[i]);
	json_t *v;
	if ((v = json_object_get(root, "plan")))
		load_header(c, v);
	/* A section that is not an object has its error; ids referring into
	 * it are then not judged (each would only repeat that error). */
	if ((v = json_object_get(root, "channels"))) {
		plan_channels_load(c, v);
		c->channels_read = json_is_object(v);
	}
	/* The plan's drill names channels: read once they are known. */
	if ((v = json_object_get(root, "plan")) && json_is_object(v)) {
		size_t o = pj_push_key(c, "plan");
		load_drill(c, v, &c->plan->drill);
		pj_pop(c, o);
	}
	if ((v = json_object_get(root, "audiences"))) {
		load_audiences(c, v);
		c->audiences_read = json_is_object(v);
	}
	if ((v = json_object_get(root, "communications")))
		load_comms(c, v);
	return pj_since(c, before);
}

enum herald_rc plan_canonical_json(const char *path, const char *data, size_t len,
				   char **out, struct herald_err *err)
{
	struct herald_err first;
	herald_err_clear(&first);
	struct pj c = { .file = path, .err = &first, .max_errors = 1 };
	buf_init(&c.path);
	enum herald_rc rc = len > PLAN_MAX_BYTES
				    ? herald_err_set(&first, H_EINVAL, "(top level): the plan is larger than %u bytes",
						     PLAN_MAX_BYTES)
				    : pj_parse(&c, data, len);
	if (!rc)
		*out = plan_text_canonical(c.root);
	pj_done(&c);
	if (err)
		*err = first;
	return rc;
}

static void log_part(const char *part, void *ctx)
{
	(void)ctx;
	log_add_secret(part);
}

static void log_secret(const struct plan_secret_ref *r, void *ctx)
{
	(void)ctx;
	if (!r->identity && !r->s->demo)
		plan_secret_parts(r->s->value, log_part, NULL);
}

/*
 * No log line may carry a secret of the plan, whoever writes it: every
 * resolved value is masked from now on (a reload adds the new plan's; an
 * old value stays masked, which is harmless).
 */
static void register_secrets(const struct plan *p)
{
	for (size_t i = 0; i < p->nchannels; i++)
		plan_channel_secrets(&p->channels[i], log_secret, NULL);
	for (size_t i = 0; i < p->naudiences; i++)
		if (p->audiences[i].source.password.value && !p->audiences[i].source.password.demo)
			log_add_secret(p->audiences[i].source.password.value);
}

enum herald_rc plan_load_buf(const char *path, const char *data, size_t len,
			     const struct plan_load_opts *opts,
			     struct plan **out, struct herald_err *err)
{
	struct herald_err first;
	herald_err_clear(&first);
	struct pj c = { .file = path, .opts = opts, .err = &first,
			.max_errors = opts && opts->on_error ? PLAN_MAX_ERRORS : 1 };
	buf_init(&c.path);
	enum herald_rc rc;
	if (len > PLAN_MAX_BYTES) {
		rc = herald_err_set(&first, H_EINVAL, "(top level): the plan is larger than %u bytes",
				    PLAN_MAX_BYTES);
	} else if ((rc = pj_parse(&c, data, len)) == H_OK) {
		c.plan = xcalloc(1, sizeof *c.plan);
		c.plan->path = xstrdup(path);
		unsigned char digest[32];
		if (!(opts && opts->without_text)) {
			sha256(data, len, digest);
			hex_encode(digest, 32, c.plan->sha256);
		}
		rc = load_root(&c, c.root);
		rc = plan_members_resolve(&c, rc);
		if (!rc && !(opts && opts->without_text)) {
			char *text = plan_text_canonical(c.root);
			sha256(text, strlen(text), digest);
			hex_encode(digest, 32, c.plan->content_sha256);
			free(text);
			c.plan->text = plan_text_redacted(path, data, len, c.root,
							  &c.plan->text_canonical);
		}
	}
	/* A syntax error (or size) is the only one: the walk never started. */
	if (rc && c.nerrors == 0 && opts && opts->on_error)
		opts->on_error(first.msg, opts->ctx);
	pj_done(&c);
	if (err)
		*err = first;
	if (rc) {
		plan_free(c.plan);
		return rc;
	}
	register_secrets(c.plan);
	*out = c.plan;
	return H_OK;
}

enum herald_rc plan_load(const char *path, const struct plan_load_opts *opts,
			 struct plan **out, struct herald_err *err)
{
	char *data;
	size_t len;
	if (read_file(path, PLAN_MAX_BYTES, &data, &len) < 0) {
		if (errno == EFBIG)
			return herald_err_set(err, H_EINVAL,
					      "(top level): the plan is larger than %u bytes",
					      PLAN_MAX_BYTES);
		return herald_err_set(err, H_ERUNTIME, "cannot read: %s",
				      strerror(errno));
	}
	enum herald_rc rc = plan_load_buf(path, data, len, opts, out, err);
	free(data);
	return rc;
}

/* --------------------------------------------------------------- freeing */

static void drill_free(struct plan_drill *d)
{
	for (size_t i = 0; i < d->nto; i++)
		free(d->to[i]);
	free(d->to);
	free(d->channels);
}

void plan_free(struct plan *p)
{
	if (!p)
		return;
	plan_channels_free(p);
	for (size_t i = 0; i < p->naudiences; i++) {
		struct plan_audience *a = &p->audiences[i];
		free(a->id);
		free(a->name);
		plan_members_free(a);
		for (size_t k = 0; k < a->ndeliver; k++) {
			for (size_t n = 0; n < a->deliver[k].naddrs; n++)
				free(a->deliver[k].addrs[n]);
			free(a->deliver[k].addrs);
		}
		free(a->deliver);
		free(a->feed_name);
	}
	free(p->audiences);
	for (size_t i = 0; i < p->ncomms; i++) {
		struct plan_comm *m = &p->comms[i];
		free(m->id);
		free(m->topic);
		free(m->description);
		free(m->owner);
		free(m->audiences);
		free(m->channels);
		sched_clear(&m->sched);
		free(m->notify);
		free(m->message);
		free(m->remind_after);
		free(m->location);
		free(m->url);
		drill_free(&m->drill);
	}
	free(p->comms);
	free(p->path);
	free(p->id);
	free(p->title);
	free(p->version);
	free(p->owner);
	free(p->approved_by);
	free(p->approved_on);
	free(p->next_review);
	free(p->tzid);
	free(p->base_url);
	drill_free(&p->drill);
	free(p->text);
	free(p);
}

/* ---------------------------------------------------------------- lookups */

long plan_channel_index(const struct plan *p, const char *id)
{
	for (size_t i = 0; i < p->nchannels; i++)
		if (strcmp(p->channels[i].id, id) == 0)
			return (long)i;
	return -1;
}

long plan_audience_index(const struct plan *p, const char *id)
{
	for (size_t i = 0; i < p->naudiences; i++)
		if (strcmp(p->audiences[i].id, id) == 0)
			return (long)i;
	return -1;
}

long plan_comm_index(const struct plan *p, const char *id)
{
	for (size_t i = 0; i < p->ncomms; i++)
		if (strcmp(p->comms[i].id, id) == 0)
			return (long)i;
	return -1;
}

const struct plan_drill *plan_comm_drill(const struct plan *p, const struct plan_comm *c)
{
	return c->drill.given ? &c->drill : p->drill.given ? &p->drill : NULL;
}

const char *plan_base_url(const struct plan *p, const char *override,
			  const char *fallback)
{
	if (override && *override)
		return override;
	return p && p->base_url ? p->base_url : fallback;
}

const struct tz *plan_comm_tz(const struct plan *p, const struct plan_comm *c)
{
	return c->sched.tz ? c->sched.tz : p->tz;
}

bool plan_comm_reminds_after(const struct plan_comm *c, int64_t offset)
{
	for (size_t i = 0; i < c->nnotify; i++)
		if (c->notify[i] < offset)
			return false;
	return true;
}

bool plan_comm_uses_channel(const struct plan_comm *c, size_t channel)
{
	if (!c->channels_given)
		return true;
	for (size_t i = 0; i < c->nchannels; i++)
		if (c->channels[i] == channel)
			return true;
	return false;
}
