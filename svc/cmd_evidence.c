/*
 * cmd_evidence.c - `herald evidence export|acks|verify|checkpoint|backup`: the
 * auditor's side of the evidence log (evidence.h does the work).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "herald/cli.h"
#include "herald/clock.h"
#include "herald/evidence.h"
#include "herald/keys.h"
#include "herald/store.h"
#include "herald/timeutil.h"
#include "herald/tz.h"
#include "herald/util.h"

struct ev_args {
	const char *db, *checkpoint, *pubkey, *keys;
	struct opt_time from, to;
	int format; /* index in formats */
	const char *communication, *audience, *head;
	int kind;   /* index in kinds, -1 = any */
};

static const char *const formats[] = { "csv", "json", NULL };
/* The kinds of message the log holds (store.h, struct store_message). */
static const char *const kinds[] = { "scheduled", "reminder", "manual", "drill", "onboarding",
				     NULL };

#define EV_DB CLI_OPT_DB(struct ev_args, db)

static const struct opt db_only_table[] = { EV_DB };

/* T (a date is midnight UTC) into f's bounds, if it was given. */
static void time_arg(const struct opt_time *t, bool *has, int64_t *at)
{
	*has = t->text != NULL;
	if (*has)
		*at = opt_time_instant(t, tz_get("UTC"));
}

static int open_db(const char *path, bool write, struct store **s)
{
	struct herald_err err;
	herald_err_clear(&err);
	struct store_open_opts o = { .readonly = !write };
	enum herald_rc rc = store_open(path, &o, s, &err);
	return rc ? cli_fail("evidence", &err) : 0;
}

/* Up to this many of the ids the deliveries do carry, after a typo. */
#define KNOWN_SHOWN 10

struct known_ids {
	const char *want;
	bool found;
	size_t n;
	struct buf list;
};

static int known_id(const char *id, void *ctx)
{
	struct known_ids *k = ctx;
	if (strcmp(id, k->want) == 0)
		k->found = true;
	if (k->n < KNOWN_SHOWN)
		buf_printf(&k->list, "%s%s", k->n ? ", " : "", id);
	else if (k->n == KNOWN_SHOWN)
		buf_adds(&k->list, ", \u2026");
	k->n++;
	return 0;
}

/*
 * A filter on an id that no delivery carries gives the same empty result
 * as a quiet period; an auditor with a typo would conclude nothing
 * happened.  Says so on stderr, the result and the exit code unchanged.
 */
static void warn_unknown_id(struct store *db, const char *cmd, enum store_delivery_id which,
			    const char *id)
{
	if (!id)
		return;
	struct known_ids k = { .want = id };
	buf_init(&k.list);
	struct herald_err err;
	herald_err_clear(&err);
	/* The check is advice: if the ids cannot be read, the command says
	 * what it has to about the database itself. */
	if (store_each_delivery_id(db, which, known_id, &k, &err) == H_OK && !k.found) {
		bool comm = which == STORE_ID_COMMUNICATION;
		fprintf(stderr, "herald: %s: no delivery in the evidence is %s \"%.100s\" (%s%s)\n",
			cmd, comm ? "of communication" : "to audience", id,
			k.n ? "known: " : "the evidence holds no deliveries", k.n ? k.list.data : "");
	}
	buf_free(&k.list);
}

static void warn_unknown_ids(struct store *db, const char *cmd, const char *communication,
			     const char *audience)
{
	warn_unknown_id(db, cmd, STORE_ID_COMMUNICATION, communication);
	warn_unknown_id(db, cmd, STORE_ID_AUDIENCE, audience);
}

static const struct opt export_table[] = {
	EV_DB,
	{ .name = "from", OPT_TIME_AT(struct ev_args, from),
	  .help = "only deliveries due at or after T" },
	{ .name = "to", OPT_TIME_AT(struct ev_args, to),
	  .help = "only deliveries due before T" },
	{ .name = "communication", OPT_STRING_AT(struct ev_args, communication), .metavar = "ID",
	  .help = "only deliveries of communication ID" },
	{ .name = "audience", OPT_STRING_AT(struct ev_args, audience), .metavar = "ID",
	  .help = "only deliveries to audience ID" },
	{ .name = "kind", OPT_CHOICE_AT(struct ev_args, kind), .choices = kinds,
	  .help = "only deliveries of one kind (a drill is \"drill\")" },
	{ .name = "head", OPT_STRING_AT(struct ev_args, head), .metavar = "FILE",
	  .help = "also write the chain head covering the rows to FILE" },
	{ .name = "format", OPT_CHOICE_AT(struct ev_args, format), .choices = formats,
	  .help = "csv (default) or json" },
};

static const struct opts_spec export_spec = {
	.name = "evidence export",
	.summary = "one row per delivery due in [--from, --to) as CSV (default)\n"
		   "or JSON, with the chain head",
	OPTS_TABLE(export_table),
	.notes = "T is YYYY-MM-DD[THH:MM] (UTC wall clock) or an RFC 3339 instant.  The CSV holds\n"
		 "the header and the rows only; the chain head that covers them goes to\n"
		 "stderr (and to --head FILE).  JSON states it inline.  A --communication\n"
		 "or --audience that no delivery carries is warned about on stderr.\n",
};

static int ev_export(int argc, char **argv)
{
	struct ev_args o = { .db = "herald.db", .kind = -1 };
	int nargs, rc = opts_parse(&export_spec, argc, argv, &o, &nargs);
	if (rc != OPTS_CONTINUE)
		return rc;
	struct store_filter f = { .communication = o.communication, .audience = o.audience,
				  .kind = o.kind >= 0 ? kinds[o.kind] : NULL };
	time_arg(&o.from, &f.has_from, &f.from);
	time_arg(&o.to, &f.has_to, &f.to);
	struct store *db;
	if ((rc = open_db(o.db, false, &db)))
		return rc;
	struct herald_err err;
	herald_err_clear(&err);
	struct evidence_head h;
	warn_unknown_ids(db, "evidence export", o.communication, o.audience);
	bool csv = o.format != 1;
	rc = evidence_export(db, &f, csv ? EVIDENCE_CSV : EVIDENCE_JSON, stdout, NULL, &h, &err);
	store_close(db);
	if (rc)
		return cli_fail("evidence export", &err);
	if (csv)
		fprintf(stderr, "herald: evidence export: chain head seq %" PRId64 " sha256 %s\n",
			h.seq, h.hex);
	if (!o.head)
		return 0;
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "chain head seq %" PRId64 " sha256 %s\n", h.seq, h.hex);
	rc = cli_write_output("evidence export --head", o.head, &b);
	buf_free(&b);
	return rc;
}

/* ------------------------------------------------------------- acks */

struct acks_args {
	const char *db, *communication, *audience;
	struct opt_time from, to;
	bool outstanding;
	int format; /* index in acks_formats */
};

static const char *const acks_formats[] = { "text", "csv", "json", NULL };

static const struct opt acks_table[] = {
	CLI_OPT_DB(struct acks_args, db),
	{ .name = "communication", OPT_STRING_AT(struct acks_args, communication),
	  .metavar = "ID", .help = "only this communication" },
	{ .name = "audience", OPT_STRING_AT(struct acks_args, audience), .metavar = "A",
	  .help = "only people asked through this audience" },
	{ .name = "from", OPT_TIME_AT(struct acks_args, from),
	  .help = "only those first asked (first message due) at or after T" },
	{ .name = "to", OPT_TIME_AT(struct acks_args, to),
	  .help = "only those first asked before T" },
	{ .name = "outstanding", OPT_FLAG_AT(struct acks_args, outstanding),
	  .help = "only those who have not acknowledged" },
	{ .name = "format", OPT_CHOICE_AT(struct acks_args, format), .choices = acks_formats,
	  .help = "text (default), csv or json" },
};

static const struct opts_spec acks_spec = {
	.name = "evidence acks",
	.summary = "the people register: one row per communication, occurrence and\n"
		   "person asked to acknowledge (first sent, reminders, acknowledged\n"
		   "at or outstanding)",
	OPTS_TABLE(acks_table),
	.notes = "T is YYYY-MM-DD[THH:MM] (UTC wall clock) or an RFC 3339 instant.  Only people\n"
		 "already asked are listed: a message not yet due asks no one.  A\n"
		 "--communication or --audience that no delivery carries is warned about\n"
		 "on stderr.\n",
};

static int ev_acks(int argc, char **argv)
{
	struct acks_args o = { .db = "herald.db" };
	int nargs, rc = opts_parse(&acks_spec, argc, argv, &o, &nargs);
	if (rc != OPTS_CONTINUE)
		return rc;
	struct store_ack_filter f = {
		.communication = o.communication, .audience = o.audience,
		.outstanding = o.outstanding, .has_due_by = true, .due_by = clock_now(),
	};
	time_arg(&o.from, &f.has_from, &f.from);
	time_arg(&o.to, &f.has_to, &f.to);
	struct store *db;
	if ((rc = open_db(o.db, false, &db)))
		return rc;
	static const enum evidence_acks_format fm[] = {
		EVIDENCE_ACKS_TEXT, EVIDENCE_ACKS_CSV, EVIDENCE_ACKS_JSON,
	};
	struct herald_err err;
	herald_err_clear(&err);
	warn_unknown_ids(db, "evidence acks", o.communication, o.audience);
	rc = evidence_acks(db, &f, fm[o.format], stdout, NULL, &err);
	store_close(db);
	return rc ? cli_fail("evidence acks", &err) : 0;
}

static const struct opt verify_table[] = {
	EV_DB,
	{ .name = "checkpoint", OPT_STRING_AT(struct ev_args, checkpoint), .metavar = "FILE|DIR",
	  .help = "also prove the log only grew since the checkpoint in\n"
		  "FILE, or through every checkpoint in DIR" },
	{ .name = "pubkey", OPT_STRING_AT(struct ev_args, pubkey), .metavar = "FILE",
	  .help = "the signing public key (PEM, keys/signing.pub) you\n"
		  "kept: the only key a checkpoint is checked against" },
};

static const struct opts_spec verify_spec = {
	.name = "evidence verify",
	.summary = "recompute the hash chain; exit 1 naming the first bad row",
	OPTS_TABLE(verify_table),
};

/* Checks --checkpoint (a file or a directory) against --pubkey. */
static enum herald_rc check_checkpoints(struct store *db, const struct ev_args *o,
					char *what, size_t cap, struct herald_err *err)
{
	unsigned char pub[32];
	enum herald_rc rc = keys_read_pubkey(o->pubkey, pub, err);
	if (rc)
		return rc;
	struct stat st;
	if (stat(o->checkpoint, &st) == 0 && S_ISDIR(st.st_mode)) {
		int64_t n = 0, last = 0;
		rc = evidence_check_checkpoint_dir(db, o->checkpoint, pub, &n, &last, err);
		if (!rc)
			snprintf(what, cap, "the log only grew through the %" PRId64 " checkpoint%s "
				 "in %s (the last at seq %" PRId64 ")", n, n == 1 ? "" : "s",
				 o->checkpoint, last);
		return rc;
	}
	char *stmt = NULL;
	size_t len;
	if (read_file(o->checkpoint, 1 << 16, &stmt, &len) != 0)
		return herald_err_set(err, H_ERUNTIME, "%s: cannot read the checkpoint: %s",
				      o->checkpoint, strerror(errno));
	rc = evidence_check_checkpoint(db, stmt, pub, NULL, err);
	free(stmt);
	if (!rc)
		snprintf(what, cap, "the log only grew since checkpoint %s", o->checkpoint);
	return rc;
}

static int ev_verify(int argc, char **argv)
{
	struct ev_args o = { .db = "herald.db" };
	int nargs, rc = opts_parse(&verify_spec, argc, argv, &o, &nargs);
	if (rc != OPTS_CONTINUE)
		return rc;
	if (o.checkpoint && !o.pubkey)
		return cli_usage(&cmd_evidence, "--checkpoint needs --pubkey FILE: the public key "
				 "you kept (keys/signing.pub); a key read from this machine "
				 "proves nothing");
	struct store *db;
	if ((rc = open_db(o.db, false, &db)))
		return rc;
	struct herald_err err;
	herald_err_clear(&err);
	struct evidence_head h;
	int64_t rows;
	char what[512] = "";
	enum herald_rc r = evidence_verify(db, &h, &rows, &err);
	if (!r && o.checkpoint)
		r = check_checkpoints(db, &o, what, sizeof what, &err);
	store_close(db);
	if (r) {
		cli_error("evidence verify: %s: %s", o.db, err.msg);
		return r == H_EINVAL ? 1 : 3;
	}
	printf("%s: ok: %" PRId64 " rows, chain head seq %" PRId64 " sha256 %s\n",
	       o.db, rows, h.seq, h.hex);
	if (what[0])
		printf("%s: ok: %s\n", o.db, what);
	return 0;
}

static const struct opt checkpoint_table[] = {
	EV_DB,
	CLI_OPT_KEYS(struct ev_args, keys),
};

static const struct opts_spec checkpoint_spec = {
	.name = "evidence checkpoint",
	.summary = "print a signed (Ed25519) statement of the verified head;\n"
		   "keep it off this machine",
	OPTS_TABLE(checkpoint_table),
};

static int ev_checkpoint(int argc, char **argv)
{
	struct ev_args o = { .db = "herald.db" };
	int nargs, rc = opts_parse(&checkpoint_spec, argc, argv, &o, &nargs);
	if (rc != OPTS_CONTINUE)
		return rc;
	struct store *db;
	if ((rc = open_db(o.db, true, &db)))
		return rc;
	struct herald_err err;
	herald_err_clear(&err);
	struct evidence_head h;
	struct buf b;
	buf_init(&b);
	/* The signing key is never made here: a database without its key
	 * directory cannot sign. */
	struct keyring *k = NULL;
	if ((rc = cli_open_keys("evidence checkpoint", db, o.keys, false, &k))) {
		store_close(db);
		return rc;
	}
	/* Only a verified head is signed. */
	enum herald_rc r = evidence_verify(db, &h, NULL, &err);
	if (!r)
		r = evidence_checkpoint(db, k, &h, &b, &err);
	keys_close(k);
	store_close(db);
	if (r) {
		buf_free(&b);
		cli_error("evidence checkpoint: %s: %s", o.db, err.msg);
		return r == H_EINVAL ? 1 : 3;
	}
	rc = cli_write_output("evidence checkpoint", NULL, &b);
	buf_free(&b);
	return rc;
}

static const struct opts_spec backup_spec = {
	.name = "evidence backup",
	.summary = "online copy to FILE (safe while herald runs), then verify it",
	.args = "FILE", .min_args = 1, .max_args = 1,
	.args_error = "backup takes one FILE",
	OPTS_TABLE(db_only_table),
};

static int ev_backup(int argc, char **argv)
{
	struct ev_args o = { .db = "herald.db" };
	int nargs, rc = opts_parse(&backup_spec, argc, argv, &o, &nargs);
	if (rc != OPTS_CONTINUE)
		return rc;
	struct herald_err err;
	herald_err_clear(&err);
	struct evidence_head h;
	int64_t rows;
	enum herald_rc r = evidence_backup(o.db, argv[1], &h, &rows, &err);
	if (r) {
		cli_error("evidence backup: %s", err.msg);
		return (int)r;
	}
	printf("%s: ok: verified copy of %s, %" PRId64 " rows, chain head seq %" PRId64
	       " sha256 %s\n", argv[1], o.db, rows, h.seq, h.hex);
	return 0;
}

static const struct opts_sub subs[] = {
	{ "export", &export_spec, ev_export },
	{ "acks", &acks_spec, ev_acks },
	{ "verify", &verify_spec, ev_verify },
	{ "checkpoint", &checkpoint_spec, ev_checkpoint },
	{ "backup", &backup_spec, ev_backup },
};

static const struct opts_spec evidence_spec = {
	.name = "evidence",
	.summary = "verify, sign, export and back up the evidence log",
	OPTS_SUBS(subs),
	.notes = "T is YYYY-MM-DD[THH:MM] (UTC wall clock) or an RFC 3339 instant.  --db defaults to\n"
		 "./herald.db.  Exit status: 0 ok, 1 tampering found, 2 usage, 3 I/O.\n",
};

static int evidence_run(int argc, char **argv)
{
	return opts_dispatch(&evidence_spec, argc, argv);
}

const struct cmd cmd_evidence = { .spec = &evidence_spec, .run = evidence_run };
