/*
 * cmd_run.c - `herald run`: the service.  Loads the plan, opens the
 * database, serves HTTP (feeds, index, health, metrics, and the routes of
 * the evidence and delivery modules) and runs the dispatcher.
 *
 * The main thread only waits for signals and watches the plan file: SIGHUP
 * or a change of the file (mtime, size, then SHA-256, polled every 2 s)
 * reloads it.  A plan that fails to load is refused (logged and recorded as
 * evidence) and the old one keeps serving; a good one is rendered, swapped
 * in and recorded.  SIGTERM or SIGINT stops the server, lets the dispatcher
 * finish in-flight sends, and exits 0.  One line per event goes to stderr,
 * never a secret.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "herald/clock.h"
#include "herald/cli.h"
#include "herald/store.h"
#include "herald/dispatcher.h"
#include "herald/httpd.h"
#include "herald/log.h"
#include "herald/plan.h"
#include "herald/record.h"
#include "herald/runtime.h"
#include "herald/timeutil.h"
#include "herald/util.h"
#include "herald/version.h"
#include "herald/web_evidence.h"

#define PLAN_MAX_BYTES (16u << 20)

struct run_args {
	const char *plan, *db, *listen, *base_url;
	bool dry_run;
};


/* The command line: the service's arguments, and the log format, which
 * is applied here and is none of the service's business. */
struct run_cli {
	struct run_args a;
	int log_format; /* index in cli_log_formats */
};

static const struct opt run_table[] = {
	CLI_OPT_DB(struct run_cli, a.db),
	{ .name = "listen", OPT_STRING_AT(struct run_cli, a.listen), .metavar = "HOST:PORT",
	  .help = "HTTP address (default 127.0.0.1:8080)" },
	{ .name = "dry-run", OPT_FLAG_AT(struct run_cli, a.dry_run),
	  .help = "record messages instead of sending them; missing\n"
		  "env: secrets get demo values" },
	{ .name = "base-url", OPT_STRING_AT(struct run_cli, a.base_url), .metavar = "URL",
	  .help = "public URL of the service, for links\n(default http://LISTEN)" },
	CLI_OPT_LOG_FORMAT(struct run_cli, log_format),
};

static const struct opts_spec run_spec = {
	.name = "run",
	.summary = "run the service: feeds, messages, evidence",
	CLI_ONE_PLAN,
	OPTS_TABLE(run_table),
	.notes = "SIGHUP or a change of the plan file reloads the plan (a bad plan is\n"
		 "refused and the old one keeps serving); SIGTERM stops.\n"
		 "HERALD_CONN_TIMEOUT sets the idle connection timeout (seconds, default 30).\n",
};

/* Returns OPTS_CONTINUE with *a filled, or the exit code. */
static int parse_args(int argc, char **argv, struct run_args *a)
{
	struct run_cli c = { .a = { .db = "herald.db", .listen = "127.0.0.1:8080" } };
	int nargs, rc = opts_parse(&run_spec, argc, argv, &c, &nargs);
	if (rc != OPTS_CONTINUE)
		return rc;
	log_set_format_name(cli_log_formats[c.log_format]);
	*a = c.a;
	a->plan = argv[1];
	return OPTS_CONTINUE;
}

/* What identifies the plan file's contents, polled for changes. */
struct file_id {
	struct timespec mtime;
	off_t size;
	char sha[65];
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

static volatile sig_atomic_t stop_flag;

struct service {
	struct run_args *args;
	struct runtime rt;
	struct httpd *h;
	struct dispatcher *d;
	struct plan **plans;       /* every plan loaded, freed at exit */
	size_t nplans;
	struct file_id seen;
};

static void keep_plan(struct service *s, struct plan *p)
{
	s->plans = xreallocarray(s->plans, s->nplans + 1, sizeof *s->plans);
	s->plans[s->nplans++] = p;
}

static void health_adapter(struct buf *out, void *ctx)
{
	dispatcher_health(ctx, out);
}

static void reload(struct service *s, const char *why)
{
	struct herald_err err;
	herald_err_clear(&err);
	struct plan_load_opts o = { .demo_secrets = s->args->dry_run };
	struct plan *p = NULL;
	enum herald_rc rc = plan_load(s->args->plan, &o, &p, &err);
	if (!rc && (rc = httpd_set_plan(s->h, p, &err)) != H_OK) {
		plan_free(p);
		p = NULL;
	}
	if (rc) {
		log_event(LOG_WARN, "plan.refused", "reload (%s) refused: %s: %s; still serving version %s", why,
		      s->args->plan, err.msg, runtime_plan(&s->rt)->version);
		struct herald_err e2;
		herald_err_clear(&e2);
		if (record_refused(s->rt.store, s->args->plan, err.msg, &e2))
			log_event(LOG_ERROR, "evidence.error", "recording the refused reload failed: %s", e2.msg);
		return;
	}
	const struct plan *old = runtime_plan(&s->rt);
	keep_plan(s, p);
	atomic_store(&s->rt.plan, p);
	if (record_plan(s->rt.store, p, "reloaded", &err))
		log_event(LOG_ERROR, "evidence.error", "recording the reload failed: %s", err.msg);
	dispatcher_plan_changed(s->d);
	log_event(LOG_INFO, "plan.reloaded", "reloaded (%s) %s: plan %s version %s (was %s), sha256 %.12s", why,
	      s->args->plan, p->id, p->version, old->version, p->sha256);
}

/* A changed file: cheap mtime/size first, then the hash to be sure. */
static void poll_file(struct service *s)
{
	struct file_id now;
	if (!file_id_get(s->args->plan, &now, false))
		return;
	if (now.size == s->seen.size && now.mtime.tv_sec == s->seen.mtime.tv_sec &&
	    now.mtime.tv_nsec == s->seen.mtime.tv_nsec)
		return;
	if (!file_id_get(s->args->plan, &now, true))
		return;
	bool changed = strcmp(now.sha, s->seen.sha) != 0;
	s->seen = now;
	if (changed)
		reload(s, "file changed");
}

static int run_service(struct run_args *a)
{
	struct service s = { .args = a };
	struct plan *p;
	if (a->dry_run)
		log_event(LOG_INFO, "service.dry-run", "messages are recorded, not sent; "
				"missing env: secrets get demo values");
	int rc = cli_load_plan(a->plan, a->dry_run ? SECRETS_DEMO : SECRETS_REQUIRED, &p);
	if (rc)
		return rc;
	keep_plan(&s, p);
	file_id_get(a->plan, &s.seen, true);
	struct herald_err err;
	herald_err_clear(&err);
	char *base = a->base_url ? xstrdup(a->base_url) : xasprintf("http://%s", a->listen);
	size_t bl = strlen(base);
	while (bl && base[bl - 1] == '/')
		base[--bl] = '\0';
	s.rt.base_url = base;
	s.rt.dry_run = a->dry_run;
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

	struct store_open_opts so = { .create = true };
	if (store_open(a->db, &so, &s.rt.store, &err) ||
	    store_server_key(s.rt.store, s.rt.key, &err)) {
		rc = cli_fail(a->db, &err);
		goto out;
	}
	if (record_plan(s.rt.store, p, "loaded", &err)) {
		rc = cli_fail(a->db, &err);
		goto out;
	}
	const char *t = getenv("HERALD_CONN_TIMEOUT");
	long timeout = 30;
	if (t && !cli_parse_uint(t, 3600, &timeout)) {
		rc = cli_usage(&cmd_run, "HERALD_CONN_TIMEOUT must be seconds (0-3600)");
		goto out;
	}
	struct httpd_config cfg = {
		.listen = a->listen,
		.conn_timeout = (unsigned)timeout,
		.conn_limit = 1024,
		.per_ip_limit = 64,
		.max_body = 64 * 1024,
	};
	if (httpd_new(&cfg, &s.rt, &s.h, &err)) {
		rc = cli_fail("run", &err);
		goto out;
	}
	web_evidence_routes(s.h, &s.rt);
	if (dispatcher_start(&s.rt, &s.d, &err)) {
		rc = cli_fail("dispatcher", &err);
		goto out;
	}
	dispatcher_routes(s.d, s.h);
	httpd_metrics_source(s.h, dispatcher_metrics, s.d);
	httpd_health_source(s.h, health_adapter, s.d);
	if (httpd_set_plan(s.h, p, &err)) {
		rc = cli_fail(a->plan, &err);
		goto out;
	}
	if (httpd_start(s.h, &err)) {
		rc = cli_fail("run", &err);
		goto out;
	}
	log_event(LOG_INFO, "service.start", "serving %s (plan %s version %s, sha256 %.12s) on %s, database %s%s",
	      a->plan, p->id, p->version, p->sha256, base, a->db,
	      a->dry_run ? ", dry-run" : "");
	/* Service up and down times are evidence: they explain late and
	 * missed deliveries. */
	char detail[256];
	snprintf(detail, sizeof detail, "herald %s on %s%s", HERALD_VERSION, base,
		 a->dry_run ? ", dry-run" : "");
	if (record_event(s.rt.store, "start", detail, &err))
		log_event(LOG_ERROR, "evidence.error", "recording the start failed: %s", err.msg);

	while (!stop_flag) {
		struct timespec ts = { .tv_sec = 2 };
		int sig = sigtimedwait(&set, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT) {
			log_event(LOG_INFO, "service.stopping", "%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
			break;
		}
		if (sig == SIGHUP) {
			file_id_get(a->plan, &s.seen, true);
			reload(&s, "SIGHUP");
			continue;
		}
		if (sig < 0 && errno != EAGAIN && errno != EINTR) {
			log_event(LOG_ERROR, "service.error", "waiting for signals failed: %s", strerror(errno));
			break;
		}
		poll_file(&s);
		httpd_tick(s.h);
	}
	rc = 0;
out:
	/* Stop taking requests first, then let in-flight sends finish. */
	if (s.h)
		httpd_stop(s.h);
	if (s.d)
		dispatcher_stop(s.d);
	if (s.rt.store) {
		if (!rc) {
			if (record_event(s.rt.store, "stop", "clean shutdown", &err))
				log_event(LOG_ERROR, "evidence.error", "recording the stop failed: %s", err.msg);
			log_event(LOG_INFO, "service.stop", "stopped");
		}
		store_close(s.rt.store);
	}
	explicit_bzero(s.rt.key, sizeof s.rt.key);
	for (size_t i = 0; i < s.nplans; i++)
		plan_free(s.plans[i]);
	free(s.plans);
	free(base);
	return rc;
}

static int run_run(int argc, char **argv)
{
	struct run_args a = { 0 };
	int rc = parse_args(argc, argv, &a);
	if (rc != OPTS_CONTINUE)
		return rc;
	return run_service(&a);
}

const struct cmd cmd_run = { .spec = &run_spec, .run = run_run };
