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
#include "herald/plan_channels.h"
#include "herald/plan_json.h"
#include "herald/plan_sched.h"
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

static enum herald_rc load_inline_members(struct pj *c, json_t *j,
					  struct plan_audience *a)
{
	static const char *const keys[] = { "name", "email", NULL };
	a->members = xcalloc(json_array_size(j) ? json_array_size(j) : 1,
			     sizeof *a->members);
	enum herald_rc rc = H_OK;
	size_t i;
	json_t *m;
	json_array_foreach(j, i, m) {
		size_t o = pj_push_index(c, i);
		struct member *pm = &a->members[a->nmembers];
		rc = pj_want_object(c, m);
		if (!rc)
			rc = pj_check_keys(c, m, keys);
		if (!rc)
			rc = pj_get_string(c, m, "name", true, &pm->name);
		if (!rc)
			rc = pj_get_string(c, m, "email", true, &pm->email);
		if (!rc && !members_valid_addr(pm->email))
			rc = PJ_FAIL_AT(c, "email", "\"%.80s\" is not an email address",
				     pm->email);
		if (!rc && pj_has_ctl(pm->name))
			rc = PJ_FAIL_AT(c, "name", "name contains control characters");
		a->nmembers++;
		pj_pop(c, o);
		if (rc)
			break;
	}
	return rc;
}

static enum herald_rc load_members(struct pj *c, json_t *j,
				   struct plan_audience *a)
{
	if (!j)
		return H_OK;
	a->members_given = true;
	size_t o = pj_push_key(c, "members");
	enum herald_rc rc;
	if (json_is_array(j)) {
		rc = load_inline_members(c, j, a);
	} else if (json_is_string(j) &&
		   strncmp(json_string_value(j), "file:", 5) == 0) {
		char msg[HERALD_ERR_LEN];
		rc = members_load_csv(c->file, json_string_value(j) + 5,
				      &a->members, &a->nmembers, msg, sizeof msg);
		if (rc)
			rc = pj_fail(c, "%s", msg);
	} else {
		rc = pj_fail(c, "expected a list of {\"name\", \"email\"} or \"file:PATH.csv\"");
	}
	pj_pop(c, o);
	return rc;
}

static enum herald_rc load_address_list(struct pj *c, json_t *j,
					struct plan_deliver *d)
{
	d->to = TO_LIST;
	d->addrs = xcalloc(json_array_size(j) ? json_array_size(j) : 1,
			   sizeof *d->addrs);
	if (json_array_size(j) == 0)
		return pj_fail(c, "the address list is empty");
	size_t i;
	json_t *v;
	json_array_foreach(j, i, v) {
		size_t o = pj_push_index(c, i);
		enum herald_rc rc = pj_string_value(c, v, &d->addrs[d->naddrs]);
		if (rc == H_OK)
			d->naddrs++;
		if (!rc && !members_valid_addr(d->addrs[d->naddrs - 1]))
			rc = pj_fail(c, "\"%.80s\" is not an email address",
				  d->addrs[d->naddrs - 1]);
		pj_pop(c, o);
		if (rc)
			return rc;
	}
	return H_OK;
}

static enum herald_rc load_deliver_entry(struct pj *c, json_t *j,
					 struct plan_audience *a,
					 struct plan_deliver *d)
{
	static const char *const keys[] = { "channel", "to", NULL };
	enum herald_rc rc = pj_want_object(c, j);
	if (!rc)
		rc = pj_check_keys(c, j, keys);
	char *chid = NULL;
	if (!rc)
		rc = pj_get_string(c, j, "channel", true, &chid);
	if (rc)
		return rc;
	long ci = plan_channel_index(c->plan, chid);
	if (ci < 0) {
		rc = PJ_FAIL_AT(c, "channel", "unknown channel \"%.60s\"", chid);
		free(chid);
		return rc;
	}
	free(chid);
	d->channel = (size_t)ci;
	const struct plan_channel *ch = &c->plan->channels[ci];
	json_t *to = json_object_get(j, "to");
	if (!to) {
		if (ch->type == CHAN_EMAIL)
			return pj_fail(c, "email delivery needs \"to\": a list of addresses or \"members\"");
		d->to = TO_CHANNEL;
		return H_OK;
	}
	if (ch->type != CHAN_EMAIL)
		return PJ_FAIL_AT(c, "to", "\"to\" applies only to email channels (\"%s\" is %s)",
			       ch->id, chan_type_name(ch->type));
	size_t o = pj_push_key(c, "to");
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

static enum herald_rc load_deliver(struct pj *c, json_t *j,
				   struct plan_audience *a)
{
	if (!j)
		return H_OK;
	size_t o = pj_push_key(c, "deliver");
	enum herald_rc rc = H_OK;
	if (!json_is_array(j)) {
		rc = pj_fail(c, "expected a list, found %s", pj_kind(j));
		pj_pop(c, o);
		return rc;
	}
	a->deliver = xcalloc(json_array_size(j) ? json_array_size(j) : 1,
			     sizeof *a->deliver);
	size_t i;
	json_t *v;
	json_array_foreach(j, i, v) {
		size_t o2 = pj_push_index(c, i);
		rc = load_deliver_entry(c, v, a, &a->deliver[a->ndeliver++]);
		pj_pop(c, o2);
		if (rc)
			break;
	}
	pj_pop(c, o);
	return rc;
}

static enum herald_rc load_audience(struct pj *c, const char *id, json_t *j,
				    struct plan_audience *a)
{
	static const char *const keys[] = { "name", "scope", "feed", "members",
					    "deliver", NULL };
	a->id = xstrdup(id);
	enum herald_rc rc = pj_check_id(c, id);
	if (!rc)
		rc = pj_want_object(c, j);
	if (!rc)
		rc = pj_check_keys(c, j, keys);
	if (!rc)
		rc = pj_get_string(c, j, "name", false, &a->name);
	if (!rc && !a->name)
		a->name = xstrdup(id);
	char *scope = NULL, *feed = NULL;
	if (!rc)
		rc = pj_get_string(c, j, "scope", true, &scope);
	if (!rc) {
		if (strcmp(scope, "internal") == 0)
			a->external = false;
		else if (strcmp(scope, "external") == 0)
			a->external = true;
		else
			rc = PJ_FAIL_AT(c, "scope", "\"%.40s\" is not a scope (internal or external)",
				     scope);
	}
	if (!rc)
		rc = pj_get_string(c, j, "feed", false, &feed);
	if (!rc && feed) {
		if (strcmp(feed, "public") == 0)
			a->feed = FEED_PUBLIC;
		else if (strcmp(feed, "private") == 0)
			a->feed = FEED_PRIVATE;
		else if (strcmp(feed, "none") == 0)
			a->feed = FEED_NONE;
		else
			rc = PJ_FAIL_AT(c, "feed", "\"%.40s\" is not a feed kind (public, private or none)",
				     feed);
	}
	free(scope);
	free(feed);
	if (!rc)
		rc = load_members(c, json_object_get(j, "members"), a);
	if (!rc)
		rc = load_deliver(c, json_object_get(j, "deliver"), a);
	return rc;
}

static enum herald_rc load_audiences(struct pj *c, json_t *j)
{
	size_t o = pj_push_key(c, "audiences");
	enum herald_rc rc = pj_want_object(c, j);
	struct plan *p = c->plan;
	if (!rc && json_object_size(j) == 0)
		rc = pj_fail(c, "a plan needs at least one audience");
	if (!rc)
		p->audiences = xcalloc(json_object_size(j), sizeof *p->audiences);
	const char *id;
	json_t *v;
	json_object_foreach(j, id, v) {
		if (rc)
			break;
		size_t o2 = pj_push_key(c, id);
		rc = load_audience(c, id, v, &p->audiences[p->naudiences++]);
		pj_pop(c, o2);
	}
	pj_pop(c, o);
	return rc;
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
	enum herald_rc rc = H_OK;
	if (!json_is_array(j)) {
		rc = pj_fail(c, "expected a list of durations such as [\"P1D\", \"PT0S\"], found %s",
			  pj_kind(j));
		goto out;
	}
	*out = xcalloc(json_array_size(j) ? json_array_size(j) : 1, sizeof **out);
	size_t i;
	json_t *v;
	json_array_foreach(j, i, v) {
		size_t o2 = pj_push_index(c, i);
		char *s = NULL;
		rc = pj_string_value(c, v, &s);
		if (!rc && (!parse_duration(s, &(*out)[*n]) ||
			    (*out)[*n] > 400 * 86400))
			rc = pj_fail(c, "\"%.40s\" is not a duration such as P7D, PT1H or PT0S "
				  "(weeks, days, hours, minutes, seconds; at most 400 days)", s);
		for (size_t k = 0; !rc && k < *n; k++)
			if ((*out)[k] == (*out)[*n])
				rc = pj_fail(c, "\"%.40s\" is listed twice", s);
		free(s);
		pj_pop(c, o2);
		if (rc)
			break;
		(*n)++;
	}
out:
	pj_pop(c, o);
	return rc;
}

/*
 * Reads a list of ids (at the current path) resolved by lookup into
 * indexes; unknown ids and repeats are errors.  `what` names the kind.
 */
static enum herald_rc load_ref_list(struct pj *c, json_t *a, const char *what,
				    long (*lookup)(const struct plan *, const char *),
				    size_t **out, size_t *n)
{
	*out = xcalloc(json_array_size(a) ? json_array_size(a) : 1, sizeof **out);
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) {
		size_t o = pj_push_index(c, i);
		char *id = NULL;
		enum herald_rc rc = pj_string_value(c, v, &id);
		long k = rc ? -1 : lookup(c->plan, id);
		if (!rc && k < 0)
			rc = pj_fail(c, "unknown %s \"%.60s\"", what, id);
		for (size_t j = 0; !rc && j < *n; j++)
			if ((*out)[j] == (size_t)k)
				rc = pj_fail(c, "%s \"%.60s\" is listed twice", what, id);
		free(id);
		pj_pop(c, o);
		if (rc)
			return rc;
		(*out)[(*n)++] = (size_t)k;
	}
	return H_OK;
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
						    &m->audiences, &m->naudiences)
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

static enum herald_rc load_comm_channels(struct pj *c, json_t *j,
					 struct plan_comm *m)
{
	json_t *a = json_object_get(j, "channels");
	if (!a)
		return H_OK;
	m->channels_given = true;
	size_t o = pj_push_key(c, "channels");
	enum herald_rc rc = json_is_array(a)
				    ? load_ref_list(c, a, "channel", plan_channel_index,
						    &m->channels, &m->nchannels)
				    : pj_fail(c, "expected a list of channel ids, found %s", pj_kind(a));
	/* "channels" narrows the audiences' deliver lists; it cannot add. */
	for (size_t i = 0; !rc && i < m->nchannels; i++) {
		bool used = false;
		for (size_t k = 0; k < m->naudiences; k++)
			used |= audience_delivers(&c->plan->audiences[m->audiences[k]],
						  m->channels[i]);
		if (!used) {
			size_t o2 = pj_push_index(c, i);
			rc = pj_fail(c, "channel \"%.60s\" is not in the deliver list of any of this "
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
	static const char *const keys[] = { "remind_after", NULL };
	enum herald_rc rc = json_is_object(a)
				    ? H_OK
				    : pj_fail(c, "expected true, false or {\"remind_after\": [...]}");
	if (!rc)
		rc = pj_check_keys(c, a, keys);
	bool given;
	if (!rc)
		rc = get_duration_list(c, a, "remind_after", &m->remind_after,
				       &m->nremind, &given);
	for (size_t i = 0; !rc && i < m->nremind; i++)
		if (m->remind_after[i] == 0)
			rc = PJ_FAIL_AT(c, "remind_after", "a reminder needs a positive delay");
	m->acknowledge = true;
	pj_pop(c, o);
	return rc;
}

static enum herald_rc load_comm(struct pj *c, json_t *j, struct idset *ids,
				struct plan_comm *m)
{
	static const char *const keys[] = { "id", "topic", "description",
					    "audiences", "channels", "owner",
					    "schedule", "notify", "message",
					    "acknowledge", NULL };
	enum herald_rc rc = pj_want_object(c, j);
	if (!rc)
		rc = pj_check_keys(c, j, keys);
	if (!rc)
		rc = pj_get_string(c, j, "id", true, &m->id);
	if (!rc) {
		size_t o = pj_push_key(c, "id");
		rc = pj_check_id(c, m->id);
		pj_pop(c, o);
	}
	if (!rc) {
		long k = idset_add(ids, m->id, c->plan->ncomms - 1);
		if (k >= 0)
			rc = PJ_FAIL_AT(c, "id", "duplicate communication id \"%s\" (also communications[%ld])",
				     m->id, k);
	}
	if (!rc)
		rc = pj_get_string(c, j, "topic", true, &m->topic);
	if (!rc)
		rc = pj_get_string(c, j, "description", false, &m->description);
	if (!rc)
		rc = load_comm_audiences(c, j, m);
	if (!rc)
		rc = load_comm_channels(c, j, m);
	if (!rc)
		rc = pj_get_string(c, j, "owner", true, &m->owner);
	if (!rc && !json_object_get(j, "schedule"))
		rc = PJ_FAIL_AT(c, "schedule", "required key \"schedule\" is missing (when)");
	if (!rc)
		rc = plan_sched_load(c, json_object_get(j, "schedule"), &m->sched);
	bool given = false;
	if (!rc)
		rc = get_duration_list(c, j, "notify", &m->notify, &m->nnotify, &given);
	if (!rc && !given) {
		m->notify = xcalloc(1, sizeof *m->notify);
		m->nnotify = 1;
	}
	if (!rc)
		rc = pj_get_string(c, j, "message", false, &m->message);
	if (!rc && m->message) {
		char msg[256];
		if (template_check(m->message, msg, sizeof msg))
			rc = PJ_FAIL_AT(c, "message", "%s", msg);
	}
	if (!rc)
		rc = load_acknowledge(c, j, m);
	return rc;
}

static enum herald_rc load_comms(struct pj *c, json_t *j)
{
	size_t o = pj_push_key(c, "communications");
	enum herald_rc rc = H_OK;
	struct plan *p = c->plan;
	if (!json_is_array(j)) {
		rc = pj_fail(c, "expected a list, found %s", pj_kind(j));
		goto out;
	}
	p->comms = xcalloc(json_array_size(j) ? json_array_size(j) : 1,
			   sizeof *p->comms);
	struct idset ids = { 0 };
	size_t i;
	json_t *v;
	json_array_foreach(j, i, v) {
		size_t o2 = pj_push_index(c, i);
		p->ncomms++;
		rc = load_comm(c, v, &ids, &p->comms[i]);
		pj_pop(c, o2);
		if (rc)
			break;
	}
	idset_free(&ids);
out:
	pj_pop(c, o);
	return rc;
}

/* ------------------------------------------------------------ the plan */

static enum herald_rc get_date_field(struct pj *c, json_t *obj,
				     const char *key, char **out)
{
	enum herald_rc rc = pj_get_string(c, obj, key, false, out);
	int64_t w;
	if (!rc && *out && !parse_date(*out, &w))
		rc = PJ_FAIL_AT(c, key, "\"%.40s\" is not a date YYYY-MM-DD", *out);
	return rc;
}

static enum herald_rc load_header(struct pj *c, json_t *j)
{
	static const char *const keys[] = { "id", "title", "version", "owner",
					    "approved_by", "approved_on",
					    "next_review", "timezone", NULL };
	struct plan *p = c->plan;
	size_t o = pj_push_key(c, "plan");
	enum herald_rc rc = pj_want_object(c, j);
	if (!rc)
		rc = pj_check_keys(c, j, keys);
	if (!rc)
		rc = pj_get_string(c, j, "id", true, &p->id);
	if (!rc) {
		size_t o2 = pj_push_key(c, "id");
		rc = pj_check_id(c, p->id);
		pj_pop(c, o2);
	}
	if (!rc)
		rc = pj_get_string(c, j, "title", false, &p->title);
	if (!rc)
		rc = pj_get_string(c, j, "version", true, &p->version);
	if (!rc && (strlen(p->version) > 64 || pj_has_ctl(p->version)))
		rc = PJ_FAIL_AT(c, "version", "must be a short single-line version label");
	if (!rc)
		rc = pj_get_string(c, j, "owner", true, &p->owner);
	if (!rc)
		rc = pj_get_string(c, j, "approved_by", false, &p->approved_by);
	if (!rc)
		rc = get_date_field(c, j, "approved_on", &p->approved_on);
	if (!rc)
		rc = get_date_field(c, j, "next_review", &p->next_review);
	if (!rc)
		rc = pj_get_string(c, j, "timezone", true, &p->tzid);
	if (!rc) {
		p->tz = tz_get(p->tzid);
		if (!p->tz)
			rc = PJ_FAIL_AT(c, "timezone", "unknown time zone \"%.60s\" (an IANA name such as Europe/London)",
				     p->tzid);
	}
	if (!rc && !p->title)
		p->title = xstrdup(p->id);
	pj_pop(c, o);
	return rc;
}

static enum herald_rc load_root(struct pj *c, json_t *root)
{
	static const char *const keys[] = { "plan", "channels", "audiences",
					    "communications", NULL };
	static const char *const parts[] = { "plan", "channels", "audiences",
					     "communications" };
	if (!json_is_object(root))
		return pj_fail(c, "a plan is a JSON object, found %s", pj_kind(root));
	enum herald_rc rc = pj_check_keys(c, root, keys);
	for (int i = 0; !rc && i < 4; i++)
		if (!json_object_get(root, parts[i]))
			rc = pj_fail(c, "required key \"%s\" is missing", parts[i]);
	if (!rc)
		rc = load_header(c, json_object_get(root, "plan"));
	if (!rc)
		rc = plan_channels_load(c, json_object_get(root, "channels"));
	if (!rc)
		rc = load_audiences(c, json_object_get(root, "audiences"));
	if (!rc)
		rc = load_comms(c, json_object_get(root, "communications"));
	return rc;
}

static void log_secret(const struct plan_secret_ref *r, void *ctx)
{
	(void)ctx;
	if (!r->identity && !r->s->demo)
		log_add_secret(r->s->value);
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
}

enum herald_rc plan_load_buf(const char *path, const char *data, size_t len,
			     const struct plan_load_opts *opts,
			     struct plan **out, struct herald_err *err)
{
	struct pj c = { .file = path, .opts = opts, .err = err };
	buf_init(&c.path);
	if (len > PLAN_MAX_BYTES)
		return herald_err_set(err, H_EINVAL, "(top level): the plan is larger than %u bytes",
				      PLAN_MAX_BYTES);
	json_t *root;
	if (pj_parse(data, len, &root, err))
		return H_EINVAL;
	c.plan = xcalloc(1, sizeof *c.plan);
	c.plan->path = xstrdup(path);
	unsigned char digest[32];
	sha256(data, len, digest);
	hex_encode(digest, 32, c.plan->sha256);
	enum herald_rc rc = load_root(&c, root);
	json_decref(root);
	buf_free(&c.path);
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

void plan_free(struct plan *p)
{
	if (!p)
		return;
	plan_channels_free(p);
	for (size_t i = 0; i < p->naudiences; i++) {
		struct plan_audience *a = &p->audiences[i];
		free(a->id);
		free(a->name);
		members_free(a->members, a->nmembers);
		for (size_t k = 0; k < a->ndeliver; k++) {
			for (size_t n = 0; n < a->deliver[k].naddrs; n++)
				free(a->deliver[k].addrs[n]);
			free(a->deliver[k].addrs);
		}
		free(a->deliver);
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

const struct tz *plan_comm_tz(const struct plan *p, const struct plan_comm *c)
{
	return c->sched.tz ? c->sched.tz : p->tz;
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
