/*
 * cmd_evidence.c - `herald evidence export|verify|checkpoint|backup`: the
 * auditor's side of the evidence log (evidence.h does the work).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/cli.h"
#include "herald/evidence.h"
#include "herald/store.h"
#include "herald/timeutil.h"
#include "herald/tz.h"
#include "herald/util.h"

struct ev_opts {
	const char *db, *from, *to, *checkpoint;
	bool json;
};

/* Parses the options of every subcommand; only those in allowed pass. */
static int parse(int argc, char **argv, const char *allowed, struct ev_opts *o)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, 'F' },
		{ "checkpoint", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	o->db = "herald.db";
	optind = 1;
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (ch == ':')
			return cli_usage(&cmd_evidence, "%s needs a value", argv[optind - 1]);
		if (ch == '?' || !strchr(allowed, ch))
			return cli_usage(&cmd_evidence, "%s: unknown option %s", argv[0],
					 argv[optind - 1]);
		switch (ch) {
		case 'd': o->db = optarg; break;
		case 'f': o->from = optarg; break;
		case 't': o->to = optarg; break;
		case 'c': o->checkpoint = optarg; break;
		case 'F':
			if (strcmp(optarg, "json") == 0)
				o->json = true;
			else if (strcmp(optarg, "csv") != 0)
				return cli_usage(&cmd_evidence, "--format is csv or json");
			break;
		}
	}
	return 0;
}

/* T: a date is midnight UTC. */
static bool time_arg(const char *s, int64_t *t)
{
	return cli_parse_time(s, tz_get("UTC"), t);
}

static int open_db(const char *path, bool write, struct store **s)
{
	struct herald_err err;
	herald_err_clear(&err);
	struct store_open_opts o = { .readonly = !write };
	enum herald_rc rc = store_open(path, &o, s, &err);
	return rc ? cli_fail("evidence", &err) : 0;
}

static int ev_export(int argc, char **argv)
{
	struct ev_opts o = { 0 };
	int rc = parse(argc, argv, "dftF", &o);
	if (rc)
		return rc;
	if (optind != argc)
		return cli_usage(&cmd_evidence, "export takes no arguments");
	struct store_filter f = { 0 };
	if (o.from && !(f.has_from = time_arg(o.from, &f.from)))
		return cli_usage(&cmd_evidence, "--from: not a date or RFC 3339 time: %s", o.from);
	if (o.to && !(f.has_to = time_arg(o.to, &f.to)))
		return cli_usage(&cmd_evidence, "--to: not a date or RFC 3339 time: %s", o.to);
	struct store *db;
	if ((rc = open_db(o.db, false, &db)))
		return rc;
	struct herald_err err;
	herald_err_clear(&err);
	rc = evidence_export(db, &f, o.json ? EVIDENCE_JSON : EVIDENCE_CSV, stdout, NULL, &err);
	store_close(db);
	return rc ? cli_fail("evidence export", &err) : 0;
}

static int ev_verify(int argc, char **argv)
{
	struct ev_opts o = { 0 };
	int rc = parse(argc, argv, "dc", &o);
	if (rc)
		return rc;
	if (optind != argc)
		return cli_usage(&cmd_evidence, "verify takes no arguments");
	char *stmt = NULL;
	size_t len;
	if (o.checkpoint && read_file(o.checkpoint, 1 << 16, &stmt, &len) != 0) {
		cli_error("evidence verify: %s: cannot read the checkpoint", o.checkpoint);
		return H_ERUNTIME;
	}
	struct store *db;
	if ((rc = open_db(o.db, false, &db))) {
		free(stmt);
		return rc;
	}
	struct herald_err err;
	herald_err_clear(&err);
	struct evidence_head h;
	int64_t rows;
	enum herald_rc r = evidence_verify(db, &h, &rows, &err);
	if (!r && stmt)
		r = evidence_check_checkpoint(db, stmt, &err);
	store_close(db);
	free(stmt);
	if (r) {
		cli_error("evidence verify: %s: %s", o.db, err.msg);
		return r == H_EINVAL ? 1 : 3;
	}
	printf("%s: ok: %" PRId64 " rows, chain head seq %" PRId64 " sha256 %s\n",
	       o.db, rows, h.seq, h.hex);
	if (stmt || o.checkpoint)
		printf("%s: ok: the log only grew since checkpoint %s\n", o.db, o.checkpoint);
	return 0;
}

static int ev_checkpoint(int argc, char **argv)
{
	struct ev_opts o = { 0 };
	int rc = parse(argc, argv, "d", &o);
	if (rc)
		return rc;
	if (optind != argc)
		return cli_usage(&cmd_evidence, "checkpoint takes no arguments");
	struct store *db;
	if ((rc = open_db(o.db, true, &db)))
		return rc;
	struct herald_err err;
	herald_err_clear(&err);
	struct evidence_head h;
	struct buf b;
	buf_init(&b);
	/* Only a verified head is signed. */
	enum herald_rc r = evidence_verify(db, &h, NULL, &err);
	if (!r)
		r = evidence_checkpoint(db, &h, &b, &err);
	store_close(db);
	if (r) {
		buf_free(&b);
		cli_error("evidence checkpoint: %s: %s", o.db, err.msg);
		return r == H_EINVAL ? 1 : 3;
	}
	fwrite(b.data, 1, b.len, stdout);
	buf_free(&b);
	return 0;
}

static int ev_backup(int argc, char **argv)
{
	struct ev_opts o = { 0 };
	int rc = parse(argc, argv, "d", &o);
	if (rc)
		return rc;
	if (optind != argc - 1)
		return cli_usage(&cmd_evidence, "backup takes one FILE");
	struct herald_err err;
	herald_err_clear(&err);
	struct evidence_head h;
	int64_t rows;
	enum herald_rc r = evidence_backup(o.db, argv[optind], &h, &rows, &err);
	if (r) {
		cli_error("evidence backup: %s", err.msg);
		return (int)r;
	}
	printf("%s: ok: verified copy of %s, %" PRId64 " rows, chain head seq %" PRId64
	       " sha256 %s\n", argv[optind], o.db, rows, h.seq, h.hex);
	return 0;
}

static int evidence_run(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int, char **);
	} subs[] = {
		{ "export", ev_export },
		{ "verify", ev_verify },
		{ "checkpoint", ev_checkpoint },
		{ "backup", ev_backup },
	};
	if (argc < 2)
		return cli_usage(&cmd_evidence, "name a subcommand");
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].run(argc - 1, argv + 1);
	return cli_usage(&cmd_evidence, "unknown subcommand %s", argv[1]);
}

const struct cmd cmd_evidence = {
	.name = "evidence",
	.usage = "export [--db FILE] [--from T] [--to T] [--format csv|json]\n"
		 "       herald evidence verify [--db FILE] [--checkpoint FILE]\n"
		 "       herald evidence checkpoint [--db FILE]\n"
		 "       herald evidence backup FILE [--db FILE]",
	.summary = "verify, sign, export and back up the evidence log",
	.help = "  export      one row per delivery due in [--from, --to) as CSV (default)\n"
		"              or JSON, with the chain head\n"
		"  verify      recompute the hash chain; exit 1 naming the first bad row;\n"
		"              --checkpoint FILE also proves the log only grew since FILE\n"
		"  checkpoint  print a signed (Ed25519) statement of the verified head;\n"
		"              keep it off this machine\n"
		"  backup      online copy to FILE (safe while herald runs), then verify it\n"
		"\nT is YYYY-MM-DD (midnight UTC) or an RFC 3339 instant.  --db defaults to\n"
		"./herald.db.  Exit status: 0 ok, 1 tampering found, 2 usage, 3 I/O.\n",
	.run = evidence_run,
};
