/*
 * service.c - the life of `herald run` (see service.h).
 *
 * Start: admin token check, database and server key, the plan recorded,
 * the HTTP server with its routes, the dispatcher, the first feeds, the
 * socket.  Then the main thread only waits for signals and watches the
 * plan file.  Stop: the server first (no new requests), then the
 * dispatcher (in-flight sends finish), then the stop recorded.  One line
 * per event goes to the log, never a secret, never a refused file's text.
 */
#include "herald/service.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "herald/checkpointer.h"
#include "herald/clock.h"
#include "herald/dispatcher.h"
#include "herald/evidence.h"
#include "herald/httpd.h"
#include "herald/httpd_feeds.h"
#include "herald/httpd_pages.h"
#include "herald/keys.h"
#include "herald/log.h"
#include "herald/outbox.h"
#include "herald/plan.h"
#include "herald/planver.h"
#include "herald/record.h"
#include "herald/runtime.h"
#include "herald/service_members.h"
#include "herald/store.h"
#include "herald/util.h"
#include "herald/version.h"
#include "herald/web_api.h"
#include "herald/web_evidence.h"
#include "herald/web_plan.h"

#define PLAN_MAX_BYTES (16u << 20)

/* What identifies the plan file's contents, polled for changes. */
struct file_id {
	struct timespec mtime;
	off_t size;
	char sha[65];
};

/* The key files' change times, polled like the plan file: a rotation by
 * `herald keys rotate` takes effect without a restart. */
struct keys_stamp {
	struct timespec t[3];
};

struct service {
	const struct service_opts *o;
	struct runtime rt;
	struct checkpointer *ckpt;  /* --checkpoint-to, or NULL */
	int64_t next_maintain;
	char *keys_dir;
	struct keyring **keyrings;  /* every keyring loaded, freed at exit */
	size_t nkeyrings;
	struct keys_stamp keys_seen;
	struct httpd *h;
	struct httpd_feeds *feeds;
	struct web_api *api;
	struct dispatcher *d;
	struct plan **plans;       /* every plan loaded, freed at exit */
	size_t nplans;
	struct planver_verdict **verdicts;  /* theirs, likewise */
	size_t nverdicts;
	struct file_id seen;
	char *base;                /* --base-url, or NULL */
	char *listen_url;
	struct service_members *members;
	char *text;                /* the serving plan's file bytes, which */
	size_t text_len;           /* member refreshes build from */
};

static bool file_id_get(const char *path, struct file_id *id, bool hash)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return false;
	id->mtime = st.st_mtim;
	id->size = st.st_size;
	id->sha[0] = '\0';
	if (hash) {
		char *data;
		size_t len;
		if (read_file(path, PLAN_MAX_BYTES, &data, &len) != 0)
			return false;
		unsigned char d[32];
		sha256(data, len, d);
		free(data);
		hex_encode(d, 32, id->sha);
	}
	return true;
}

/*
 * The plan file must be a regular file.  Opened without blocking, so a
 * FIFO put in its place cannot hang the main thread, and checked on the
 * descriptor, not the name.
 */
static enum herald_rc plan_file_check(const char *path, struct herald_err *err)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return herald_err_set(err, H_ERUNTIME, "cannot open: %s", strerror(errno));
	struct stat st;
	int r = fstat(fd, &st);
	int e = errno;
	close(fd);
	if (r != 0)
		return herald_err_set(err, H_ERUNTIME, "cannot open: %s", strerror(e));
	if (!S_ISREG(st.st_mode))
		return herald_err_set(err, H_EINVAL, "not a plan: not a regular file "
				      "(a FIFO, device or directory cannot be a plan)");
	return H_OK;
}

static void keep_plan(struct service *s, struct plan *p)
{
	s->plans = xreallocarray(s->plans, s->nplans + 1, sizeof *s->plans);
	s->plans[s->nplans++] = p;
}

/* ----------------------------------------------------------- approval */

/*
 * The approval rule for p against the evidence, read on a connection of
 * its own (the shared one may be inside another thread's transaction).
 * A verdict that cannot be made is "no change": the reload is not held
 * up by a read, and the log says why.
 */
static struct planver_verdict *judge(struct service *s, const struct plan *p)
{
	struct planver_verdict *v = xcalloc(1, sizeof *v);
	s->verdicts = xreallocarray(s->verdicts, s->nverdicts + 1, sizeof *s->verdicts);
	s->verdicts[s->nverdicts++] = v;
	struct herald_err err;
	herald_err_clear(&err);
	struct store *ro = NULL;
	struct store_open_opts so = { .readonly = true };
	if (store_open(store_path(s->rt.store), &so, &ro, &err) ||
	    planver_judge_plan(ro, p, v, &err))
		log_event(LOG_ERROR, "evidence.error", "reading the plan history failed: %s", err.msg);
	store_close(ro);
	return v;
}

/* The reason a strict plan refuses content changed without approval, or
 * NULL (caller frees). */
static char *strict_refusal(const struct plan *old, const struct plan *p,
			    const struct planver_verdict *v)
{
	if (!v->changed || !(p->strict_approval || old->strict_approval))
		return NULL;
	struct buf b;
	buf_init(&b);
	buf_adds(&b, "changed without approval (plan.strict_approval): ");
	planver_words(v, p->content_sha256, &b);
	buf_adds(&b, "; give the plan a new version and approval date");
	return buf_take(&b);
}

/* Under strict_approval, such a change is refused: p is freed. */
static enum herald_rc strict_check(struct service *s, struct plan *p,
				   const struct planver_verdict *v, struct herald_err *err)
{
	char *why = strict_refusal(runtime_plan(&s->rt), p, v);
	if (!why)
		return H_OK;
	plan_free(p);
	enum herald_rc rc = herald_err_set(err, H_EINVAL, "%s", why);
	free(why);
	return rc;
}

/* A change without approval, let in: an evidence event and a warning. */
static void flag_change(struct service *s, const struct plan *p,
			const struct planver_verdict *v)
{
	if (!v->changed)
		return;
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "plan %s version %s: ", p->id, p->version);
	planver_words(v, p->content_sha256, &b);
	log_event(LOG_WARN, "plan.unapproved", "%s; changed since approval: give the plan a new "
		  "version and approval date (plan.strict_approval refuses such reloads)", b.data);
	struct herald_err err;
	herald_err_clear(&err);
	if (record_event(s->rt.store, "plan-changed-without-approval", b.data, &err))
		log_event(LOG_ERROR, "evidence.error", "recording the change failed: %s", err.msg);
	buf_free(&b);
}

static void health_adapter(struct buf *out, void *ctx)
{
	dispatcher_health(ctx, out);
}

/*
 * A new plan from the bytes of the plan file, each member source read
 * again (refresh_only: those due), the serving plan's lists standing in
 * for sources that fail.
 */
static enum herald_rc build(struct service *s, const char *data, size_t len,
			    bool refresh_only, struct plan **out, struct herald_err *err)
{
	struct plan_load_opts lo = {
		.demo_secrets = s->o->dry_run, .resolve = true,
		.previous = runtime_plan(&s->rt),
		.refetch = refresh_only ? service_members_refetch : NULL, .ctx = s->members,
	};
	return plan_load_buf(s->o->plan, data, len, &lo, out, err);
}

static void refused(struct service *s, const char *why, const struct herald_err *err)
{
	const char *path = s->o->plan;
	log_event(LOG_WARN, "plan.refused", "reload (%s) refused: %s: %s; still serving version %s",
		  why, path, err->msg, runtime_plan(&s->rt)->version);
	/* Degraded until a reload is taken: the next start would refuse
	 * this file, and monitoring should hear of it before then. */
	char *reason = xasprintf("still serving version %.40s: the plan file was refused "
				 "(%s)", runtime_plan(&s->rt)->version, err->msg);
	runtime_condition(&s->rt, "plan", reason);
	free(reason);
	struct herald_err e2;
	herald_err_clear(&e2);
	if (record_refused(s->rt.store, path, err->msg, &e2))
		log_event(LOG_ERROR, "evidence.error", "recording the refused reload failed: %s",
			  e2.msg);
}

/* The member sources of p (serving, or just read): a failing one keeps
 * its last list and degrades /healthz until it reads again. */
static void members_health(struct service *s, const struct plan *p)
{
	char why[200];
	bool failing = service_members_update(s->members, p, s->rt.store, why, sizeof why);
	runtime_condition(&s->rt, "members", failing ? why : NULL);
}

/*
 * Puts p in service: a reload of the file (plan_changed: recorded as a
 * plan version) or a refresh of its members; either way who joined and
 * left is recorded, and the dispatcher makes the deliveries of the new
 * plan.  On success takes text (the bytes p was built from).
 */
static enum herald_rc swap_in(struct service *s, struct plan *p, char *text, size_t len,
			      bool plan_changed, struct herald_err *err)
{
	enum herald_rc rc = httpd_feeds_set_plan(s->feeds, p, err);
	if (rc) {
		plan_free(p);
		return rc;
	}
	const struct plan *old = runtime_plan(&s->rt);
	keep_plan(s, p);
	atomic_store(&s->rt.plan, p);
	free(s->text);
	s->text = text;
	s->text_len = len;
	if (plan_changed && record_plan(s->rt.store, p, "reloaded", err))
		log_event(LOG_ERROR, "evidence.error", "recording the reload failed: %s", err->msg);
	service_members_record_changes(old, p, s->rt.store);
	members_health(s, p);
	/* Before the dispatcher materialises under p (reloads and member
	 * refreshes both come through): a leaver's queued deliveries are
	 * cancelled, a joiner's onboarding is queued with the rest. */
	struct outbox_membership_counts k;
	struct herald_err merr;
	herald_err_clear(&merr);
	if (outbox_membership(s->rt.store, old, p, clock_now(), &k, &merr))
		log_event(LOG_ERROR, "outbox.error", "members after the %s: %s",
			  plan_changed ? "reload" : "refresh", merr.msg);
	else if (k.joined || k.left)
		log_event(LOG_INFO, "plan.members", "%zu joined, %zu left: %zu onboarding "
			  "deliver%s queued, %zu cancelled", k.joined, k.left, k.onboarding,
			  k.onboarding == 1 ? "y" : "ies", k.cancelled);
	dispatcher_plan_changed(s->d);
	return H_OK;
}

static void reload(struct service *s, const char *why)
{
	const char *path = s->o->plan;
	struct herald_err err;
	herald_err_clear(&err);
	struct plan *p = NULL;
	char *data = NULL;
	size_t len = 0;
	enum herald_rc rc = plan_file_check(path, &err);
	if (!rc && read_file(path, PLAN_MAX_BYTES, &data, &len) != 0)
		rc = herald_err_set(&err, errno == EFBIG ? H_EINVAL : H_ERUNTIME, "cannot read: %s",
				    errno == EFBIG ? "the plan is too large" : strerror(errno));
	if (!rc)
		rc = build(s, data, len, false, &p, &err);
	const struct planver_verdict *v = rc ? NULL : judge(s, p);
	if (!rc)
		rc = strict_check(s, p, v, &err);
	const char *was = runtime_plan(&s->rt)->version;
	/* The verdict goes first: GET /plan must never show changed content
	 * without its notice (the old plan may show it for a moment). */
	const struct planver_verdict *was_v = atomic_load(&s->rt.approval);
	if (!rc) {
		atomic_store(&s->rt.approval, v);
		rc = swap_in(s, p, data, len, true, &err);
	}
	if (rc) {
		atomic_store(&s->rt.approval, was_v);
		free(data);
		refused(s, why, &err);
		return;
	}
	flag_change(s, p, v);
	runtime_condition(&s->rt, "plan", NULL);
	log_event(LOG_INFO, "plan.reloaded", "reloaded (%s) %s: plan %s version %s (was %s), file sha256 %.12s",
		  why, path, p->id, p->version, was, p->sha256);
}

/* The sources that are due, read again; a new plan only if people changed. */
static void refresh_members(struct service *s)
{
	if (!s->text || !service_members_due(s->members, clock_now()))
		return;
	struct herald_err err;
	herald_err_clear(&err);
	struct plan *p = NULL;
	if (build(s, s->text, s->text_len, true, &p, &err)) {
		/* The text loaded before: only a source without a last good
		 * list can fail it, and the service has none such. */
		log_event(LOG_ERROR, "members.failed", "refreshing members failed: %s", err.msg);
		return;
	}
	if (!service_members_changed(runtime_plan(&s->rt), p)) {
		members_health(s, p);
		plan_free(p);
		return;
	}
	char *text = xstrndup(s->text, s->text_len);
	if (swap_in(s, p, text, s->text_len, false, &err)) {
		free(text);
		log_event(LOG_ERROR, "members.failed", "refreshing members failed: %s", err.msg);
	}
}

/* Whether text is the file p was loaded from. */
static bool plan_text_is(const struct plan *p, const char *text, size_t len)
{
	unsigned char d[32];
	char hex[65];
	sha256(text, len, d);
	hex_encode(d, 32, hex);
	return strcmp(hex, p->sha256) == 0;
}

/* A changed file: cheap mtime/size first, then the hash to be sure. */
static void poll_file(struct service *s)
{
	struct file_id now;
	if (!file_id_get(s->o->plan, &now, false))
		return;
	if (now.size == s->seen.size && now.mtime.tv_sec == s->seen.mtime.tv_sec &&
	    now.mtime.tv_nsec == s->seen.mtime.tv_nsec)
		return;
	if (!file_id_get(s->o->plan, &now, true)) {
		/* Unreadable or not a regular file: remember it, so the refusal
		 * is logged once, and let reload say why. */
		bool was = s->seen.sha[0] != '\0';
		s->seen = now;
		if (was)
			reload(s, "file changed");
		return;
	}
	bool changed = strcmp(now.sha, s->seen.sha) != 0;
	s->seen = now;
	if (changed)
		reload(s, "file changed");
}

static void keys_stamp_get(const char *dir, struct keys_stamp *st)
{
	static const char *const files[] = { "feeds.key", "acks.keys", "signing.key" };
	memset(st, 0, sizeof *st);
	for (size_t i = 0; i < 3; i++) {
		char *p = xasprintf("%s/%s", dir, files[i]);
		struct stat sb;
		if (stat(p, &sb) == 0)
			st->t[i] = sb.st_mtim;
		free(p);
	}
}

/* Opens the key directory and makes its keys the ones in force. */
static enum herald_rc open_keys(struct service *s, enum keys_open_mode mode,
				struct herald_err *err)
{
	if (!s->keys_dir)
		s->keys_dir = s->o->keys ? xstrdup(s->o->keys) : keys_default_dir(s->o->db);
	struct keyring *k;
	enum herald_rc rc = keys_open(s->keys_dir, s->rt.store, mode, &k, err);
	if (rc)
		return rc;
	keys_stamp_get(s->keys_dir, &s->keys_seen);
	s->keyrings = xreallocarray(s->keyrings, s->nkeyrings + 1, sizeof *s->keyrings);
	s->keyrings[s->nkeyrings++] = k;
	atomic_store(&s->rt.keys, k);
	return H_OK;
}

/* A changed key file: read the directory again; feeds get the new
 * tokens.  A failure keeps the keys in force. */
static void poll_keys(struct service *s)
{
	struct keys_stamp now;
	keys_stamp_get(s->keys_dir, &now);
	if (memcmp(&now, &s->keys_seen, sizeof now) == 0)
		return;
	struct herald_err err;
	herald_err_clear(&err);
	if (open_keys(s, KEYS_USE, &err)) {
		s->keys_seen = now;
		log_event(LOG_ERROR, "keys.error", "the key directory changed but cannot be "
			  "read: %s; the keys in force stay", err.msg);
		return;
	}
	log_event(LOG_INFO, "keys.reloaded", "keys read again from %s (feeds %s, acks %s)",
		  s->keys_dir, runtime_keys(&s->rt)->feed_id, runtime_keys(&s->rt)->acks[0].id);
	if (httpd_feeds_set_plan(s->feeds, runtime_plan(&s->rt), &err))
		log_event(LOG_ERROR, "feeds.error", "re-rendering the feeds failed: %s", err.msg);
}

/* HERALD_ADMIN_TOKEN, when set, must be long enough not to be guessed. */
static enum herald_rc admin_token_check(struct herald_err *err)
{
	const char *t = getenv("HERALD_ADMIN_TOKEN");
	if (!t || !*t || strlen(t) >= SERVICE_ADMIN_TOKEN_MIN)
		return H_OK;
	return herald_err_set(err, H_EUSAGE, "HERALD_ADMIN_TOKEN is %zu characters long; it must "
			      "have at least %d (e.g. openssl rand -base64 32), or be unset "
			      "to have one generated", strlen(t), SERVICE_ADMIN_TOKEN_MIN);
}

/* The whole chain, before the service appends to it. */
static enum herald_rc verify_at_start(struct service *s, struct evidence_head *h,
				      struct herald_err *err)
{
	int64_t rows = 0;
	enum herald_rc rc = evidence_verify(s->rt.store, h, &rows, err);
	if (rc == H_EINVAL) {
		herald_err_prefix(err, "the evidence log does not verify, so herald will not "
				  "append to it (keep the file for the auditor; restore the latest "
				  "backup to go on)");
		return herald_err_set(err, H_ERUNTIME, "%s", err->msg);
	}
	if (!rc)
		log_event(LOG_INFO, "evidence.verified", "%lld evidence rows verify, chain head "
			  "seq %lld %.12s", (long long)rows, (long long)h->seq, h->hex);
	return rc;
}

/* Every few seconds on the main thread: checkpoints when due, the WAL
 * kept small. */
static void housekeeping(struct service *s, bool stopping)
{
	int64_t now = clock_now();
	if (s->ckpt)
		runtime_condition(&s->rt, "checkpoints",
				  checkpointer_tick(s->ckpt, runtime_keys(&s->rt), now, stopping)
					  ? NULL : "automatic checkpoints fail (see the log)");
	if (stopping || now < s->next_maintain)
		return;
	struct herald_err err;
	herald_err_clear(&err);
	if (store_maintain(s->rt.store, &err))
		log_event(LOG_WARN, "database.maintain", "%s", err.msg);
	s->next_maintain = now + 300;
}

/* Everything up to a listening server; err prefixed with what failed. */
static enum herald_rc start(struct service *s, struct plan *p, struct herald_err *err)
{
	const struct service_opts *o = s->o;
	enum herald_rc rc;
	/* A damaged, cut-back or altered database is refused before
	 * anything is appended to it. */
	struct store_open_opts so = { .create = true, .check = true, .sole = true };
	struct evidence_head verified;
	if ((rc = store_open(o->db, &so, &s->rt.store, err)) ||
	    (rc = verify_at_start(s, &verified, err)) ||
	    (rc = open_keys(s, KEYS_CREATE, err))) {
		herald_err_prefix(err, "%s", o->db);
		return rc;
	}
	/* At start there is no running version to keep: a change without
	 * approval is flagged, never refused. */
	const struct planver_verdict *v = judge(s, p);
	atomic_store(&s->rt.approval, v);
	if ((rc = record_plan(s->rt.store, p, "loaded", err))) {
		herald_err_prefix(err, "%s", o->db);
		return rc;
	}
	flag_change(s, p, v);
	if (o->checkpoint_to &&
	    (rc = checkpointer_new(o->checkpoint_to, s->rt.store, &verified, &s->ckpt, err)))
		return rc;
	struct httpd_config cfg = {
		.listen = o->listen,
		.conn_timeout = o->conn_timeout,
		.header_timeout = o->header_timeout,
		.conn_limit = 1024,
		.per_ip_limit = 64,
		/* a manual send's note may hold 64 KiB: \uXXXX-escaped, three
		 * times that */
		.max_body = 256 * 1024,
		.trust_proxy = o->trust_proxy,
	};
	if ((rc = httpd_new(&cfg, &s->h, err))) {
		herald_err_prefix(err, "run");
		return rc;
	}
	s->feeds = httpd_feeds_new(s->h, &s->rt);
	httpd_pages_routes(s->h, &s->rt, s->feeds);
	web_evidence_routes(s->h, &s->rt);
	web_plan_routes(s->h, &s->rt);
	if ((rc = dispatcher_start(&s->rt, &s->d, err))) {
		herald_err_prefix(err, "dispatcher");
		return rc;
	}
	if ((rc = web_api_new(s->h, &s->rt, s->d, &s->api, err))) {
		herald_err_prefix(err, "%s", o->db);
		return rc;
	}
	httpd_metrics_source(s->h, dispatcher_metrics, s->d);
	httpd_health_source(s->h, health_adapter, s->d);
	httpd_health_source(s->h, service_members_health, s->members);
	if ((rc = httpd_feeds_set_plan(s->feeds, p, err))) {
		herald_err_prefix(err, "%s", o->plan);
		return rc;
	}
	if ((rc = httpd_start(s->h, err))) {
		herald_err_prefix(err, "run");
		return rc;
	}
	return H_OK;
}

/* The main thread's loop: signals and the plan file, until told to stop. */
static void wait_loop(struct service *s, const sigset_t *set)
{
	for (;;) {
		struct timespec ts = { .tv_sec = 2 };
		int sig = sigtimedwait(set, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT) {
			log_event(LOG_INFO, "service.stopping", "%s: stopping",
				  sig == SIGTERM ? "SIGTERM" : "SIGINT");
			return;
		}
		if (sig == SIGHUP) {
			/* Every member source is read again too. */
			file_id_get(s->o->plan, &s->seen, true);
			reload(s, "SIGHUP");
			continue;
		}
		if (sig < 0 && errno != EAGAIN && errno != EINTR) {
			log_event(LOG_ERROR, "service.error", "waiting for signals failed: %s",
				  strerror(errno));
			return;
		}
		poll_file(s);
		refresh_members(s);
		poll_keys(s);
		housekeeping(s, false);
		httpd_feeds_tick(s->feeds);
	}
}

static void stop(struct service *s, bool clean)
{
	struct herald_err err;
	herald_err_clear(&err);
	/* Stop taking requests first, then let in-flight sends finish. */
	httpd_stop(s->h);
	httpd_feeds_free(s->feeds);
	web_api_free(s->api);
	dispatcher_stop(s->d);
	if (s->rt.store) {
		if (clean) {
			if (record_event(s->rt.store, "stop", "clean shutdown", &err))
				log_event(LOG_ERROR, "evidence.error", "recording the stop failed: %s",
					  err.msg);
			/* The last checkpoint covers the stop too. */
			housekeeping(s, true);
			log_event(LOG_INFO, "service.stop", "stopped");
		}
		checkpointer_free(s->ckpt);
		store_close(s->rt.store);
	}
	for (size_t i = 0; i < s->nkeyrings; i++)
		keys_close(s->keyrings[i]);
	free(s->keyrings);
	free(s->keys_dir);
	runtime_done(&s->rt);
	for (size_t i = 0; i < s->nplans; i++)
		plan_free(s->plans[i]);
	free(s->plans);
	for (size_t i = 0; i < s->nverdicts; i++)
		free(s->verdicts[i]);
	free(s->verdicts);
	free(s->base);
	free(s->listen_url);
	free(s->text);
	service_members_free(s->members);
}

enum herald_rc service_run(const struct service_opts *o, struct plan *p,
			   struct herald_err *err)
{
	struct service s = { .o = o, .members = service_members_new() };
	runtime_init(&s.rt);
	keep_plan(&s, p);
	enum herald_rc rc = admin_token_check(err);
	if (rc) {
		stop(&s, false);
		return rc;
	}
	if (o->dry_run)
		log_event(LOG_INFO, "service.dry-run", "messages go to the null channel and are "
			  "recorded with outcome dry-run, never sent; unset env: secrets get "
			  "demo values");
	file_id_get(o->plan, &s.seen, true);
	s.base = o->base_url ? xstrdup(o->base_url) : NULL;
	size_t bl = s.base ? strlen(s.base) : 0;
	while (bl && s.base[bl - 1] == '/')
		s.base[--bl] = '\0';
	s.listen_url = xasprintf("http://%s", o->listen);
	s.rt.base_url = s.base;
	s.rt.listen_url = s.listen_url;
	s.rt.dry_run = o->dry_run;
	s.rt.started = clock_now();
	atomic_store(&s.rt.plan, p);

	/* Signals are taken synchronously by this thread only: block them
	 * before any other thread starts, so all threads inherit the mask. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	if ((rc = start(&s, p, err))) {
		stop(&s, false);
		return rc;
	}
	/* The address it listens on and the one links carry differ behind a
	 * proxy: an operator checking the port needs the first. */
	log_event(LOG_INFO, "service.start", "serving %s (plan %s version %s, file sha256 %.12s) on "
		  "http://%s (links: %s), database %s%s%s%s", o->plan, p->id, p->version,
		  p->sha256, o->listen, runtime_base_url(&s.rt, p), o->db,
		  o->trust_proxy ? ", trusting X-Forwarded-For from " : "",
		  o->trust_proxy ? o->trust_proxy : "", o->dry_run ? ", dry-run" : "");
	/* Scheduled messages leave on their own: say so when their links
	 * would open only on this machine (a manual send is refused then). */
	if (!o->dry_run && outbox_base_local(runtime_base_url(&s.rt, p)))
		log_event(LOG_WARN, "service.base-url", "links in messages and feeds point at %s, "
			  "which only this machine reaches: set \"base_url\" in the plan or "
			  "--base-url", runtime_base_url(&s.rt, p));
	/* Service up and down times are evidence: they explain late and
	 * missed deliveries. */
	char detail[256];
	snprintf(detail, sizeof detail, "herald %s on %s, pid %ld%s", HERALD_VERSION,
		 runtime_base_url(&s.rt, p), (long)getpid(), o->dry_run ? ", dry-run" : "");
	struct herald_err e2;
	herald_err_clear(&e2);
	if (record_event(s.rt.store, "start", detail, &e2))
		log_event(LOG_ERROR, "evidence.error", "recording the start failed: %s", e2.msg);
	members_health(&s, p);
	/* Member refreshes build from the bytes the serving plan came from;
	 * a file already changed since is reloaded now. */
	if (read_file(o->plan, PLAN_MAX_BYTES, &s.text, &s.text_len) == 0 &&
	    !plan_text_is(p, s.text, s.text_len)) {
		xfree(&s.text);
		reload(&s, "file changed");
	}
	wait_loop(&s, &set);
	stop(&s, true);
	return H_OK;
}
