/* cli.c - helpers shared by the subcommands (see cli.h). */
#include "herald/cli.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/keys.h"
#include "herald/log.h"
#include "herald/plan.h"
#include "herald/store.h"
#include "herald/util.h"

int cli_usage(const struct cmd *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = opts_verror(c->spec, fmt, ap);
	va_end(ap);
	return rc;
}

void cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	/* Under --log-format json the last line, the one saying why herald
	 * stopped, must parse like the others. */
	if (log_get_format() == LOG_JSON) {
		char msg[4096];
		vsnprintf(msg, sizeof msg, fmt, ap);
		log_event(LOG_ERROR, "error", "%s", msg);
	} else {
		fputs("herald: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

/* Each name once: a variable may stand in several places of a plan. */
static void on_demo(const char *name, void *ctx)
{
	struct buf *names = ctx;
	size_t n = strlen(name);
	for (const char *p = names->len ? names->data : ""; *p;) {
		size_t k = strcspn(p, ",");
		if (k == n && memcmp(p, name, n) == 0)
			return;
		p += k;
		p += strspn(p, ", ");
	}
	if (names->len)
		buf_adds(names, ", ");
	buf_adds(names, name);
}

static int load_plan(const char *path, enum cli_secrets secrets, bool without_text,
		     struct plan **out)
{
	struct herald_err err;
	herald_err_clear(&err);
	struct buf demo;
	buf_init(&demo);
	struct plan_load_opts o = { .demo_secrets = secrets != SECRETS_REQUIRED,
				    .on_demo = secrets == SECRETS_DEMO ? on_demo : NULL,
				    .ctx = &demo,
				    .resolve = secrets != SECRETS_UNUSED,
				    .without_text = without_text };
	enum herald_rc rc = plan_load(path, &o, out, &err);
	if (rc)
		cli_error("%s: %s", path, err.msg);
	else if (demo.len)
		/* One line, in the log's format (a JSON log stays JSON). */
		log_event(LOG_INFO, "plan.demo-values",
			  "dry-run: demo values stand in for the unset env: variables %s",
			  demo.data);
	buf_free(&demo);
	return (int)rc;
}

int cli_load_plan(const char *path, enum cli_secrets secrets, struct plan **out)
{
	return load_plan(path, secrets, false, out);
}

int cli_load_plan_schedules(const char *path, struct plan **out)
{
	return load_plan(path, SECRETS_UNUSED, true, out);
}

bool cli_parse_uint(const char *s, long max, long *out)
{
	return opts_parse_uint(s, 0, max, out);
}

int cli_write_output(const char *ctx, const char *path, const struct buf *b)
{
	if (path && strcmp(path, "-") != 0) {
		struct herald_err err;
		herald_err_clear(&err);
		if (write_file_atomic(path, b->data, b->len, 0666, &err))
			return cli_fail(ctx, &err);
		return 0;
	}
	if ((b->len && fwrite(b->data, 1, b->len, stdout) != b->len) || fflush(stdout)) {
		cli_error("%s: writing stdout failed: %s", ctx, strerror(errno ? errno : EIO));
		return H_ERUNTIME;
	}
	return 0;
}

const char *const cli_log_formats[] = { "text", "json", NULL };

int cli_fail(const char *ctx, const struct herald_err *err)
{
	cli_error("%s: %s", ctx, err->msg);
	return err->rc ? (int)err->rc : H_ERUNTIME;
}

int cli_open_keys(const char *ctx, struct store *s, const char *dir, bool create,
		  struct keyring **out)
{
	struct herald_err err;
	herald_err_clear(&err);
	char *def = dir ? NULL : keys_default_dir(store_path(s));
	enum herald_rc rc = keys_open(dir ? dir : def, s, create ? KEYS_CREATE : KEYS_USE, out,
				      &err);
	free(def);
	return rc ? cli_fail(ctx, &err) : 0;
}

void cli_talks_to_servers(void)
{
	signal(SIGPIPE, SIG_IGN);
}
