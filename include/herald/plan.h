/*
 * plan.h - the communication plan: model and loading.
 *
 * plan_load() reads a plan file (design.md, "Plan format"), resolves env:
 * secrets, loads members files, compiles schedules, and either returns a
 * complete, validated struct plan or an error naming the JSON path.  The
 * struct is read-only after loading and owned by the caller
 * (plan_free()).  Indexes, not pointers, link deliver entries and
 * communications to channels and audiences: a delivery or a feed names
 * them by position, valid for the plan's lifetime.
 *
 * The loader is plan.c (header, audiences, communications), over
 * plan_json.c (the reading layer), plan_channels.c (the channel type
 * table) and plan_sched.c (schedules).
 */
#ifndef HERALD_PLAN_H
#define HERALD_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "herald/err.h"
#include "herald/members.h"
#include "herald/sched.h"

/* A channel type: a row of the one table (plan_chan.h). */
struct chan_type;
struct buf;

/* A value that may have come from env:; literal secrets are linted. */
struct plan_secret {
	char *value;   /* resolved; NULL when absent */
	char *env;     /* variable name when written as env:NAME, else NULL */
	bool demo;     /* value is a stand-in for an unset variable (dry run) */
};

struct plan_header {
	char *name;
	struct plan_secret value;
};

/*
 * A channel.  The fields below are those the built-in types share; a type
 * with keys of its own keeps them in opts (its chan_*.c file reads them).
 */
struct plan_channel {
	char *id;
	const struct chan_type *type;
	struct plan_secret webhook;  /* chat types (slack, teams, …) */
	char *smtp;                  /* email: smtp:// or smtps:// URL */
	char *from;                  /* email: RFC 5322 mailbox */
	struct plan_secret username, password;
	bool starttls;               /* email, default true */
	struct plan_secret url;      /* webhook */
	struct plan_header *headers;
	size_t nheaders;
	struct plan_secret secret;   /* webhook signing key (optional) */
	void *opts;                  /* the type's own settings, or NULL */
};

enum deliver_to { TO_CHANNEL, TO_LIST, TO_MEMBERS };

struct plan_deliver {
	size_t channel;              /* index into plan->channels */
	enum deliver_to to;
	char **addrs;                /* TO_LIST */
	size_t naddrs;
};

enum feed_kind { FEED_PRIVATE, FEED_PUBLIC, FEED_NONE };

enum members_kind { MEMBERS_NONE, MEMBERS_INLINE, MEMBERS_CSV, MEMBERS_LDAP };

/* Where an audience's members come from: its "members" key. */
struct plan_members {
	enum members_kind kind;
	char *key;          /* CSV, LDAP: the key as compact JSON; the same
			     * key is the same source across reloads */
	char *what;         /* for logs and evidence: "file people/x.csv",
			     * "ldaps://dc1.acme.example (ou=people,…)" */
	struct members_csv csv;      /* CSV (members.h) */
	char *csv_path;              /* CSV: the file itself, to watch */
	char *url, *base, *filter, *name_attr, *email_attr;  /* LDAP */
	struct plan_secret bind_dn, password;                 /* LDAP */
	bool starttls;               /* LDAP, default true */
	int64_t refresh;             /* LDAP: seconds between reads, >= 60 */
	bool resolved;      /* false: an LDAP source not contacted (see
			     * plan_load_opts.resolve): no members known */
	bool fetched;       /* this load read the source (or tried to) */
	char *failure;      /* this load could not read it: why; the list
			     * is then the previous plan's (the last good) */
};

struct plan_audience {
	char *id;
	char *name;
	bool external;
	enum feed_kind feed;
	struct member *members;      /* list->m, list->n (members.h) */
	size_t nmembers;
	bool members_given;
	struct member_list *list;    /* NULL without members; may be
				      * shared with other plans */
	struct plan_members source;
	struct plan_deliver *deliver;
	size_t ndeliver;
	char *feed_name;             /* calendar name of its feed; NULL = default */
	bool feed_email;             /* a public feed may show email addresses */
};

/*
 * Drill recipients ("drill": {"to": [...], "channels": [...]}, on the plan
 * or a communication): a drill sends the real message through the real
 * channels, to these only.  Without "channels", it goes through the email
 * channels the communication uses, to the "to" addresses; with it, through
 * exactly those channels (email ones to "to", the others, drill webhooks,
 * as they are).
 */
struct plan_drill {
	bool given;
	char **to;                   /* email addresses */
	size_t nto;
	size_t *channels;            /* indexes into plan->channels, when */
	size_t nchannels;
	bool channels_given;
};

/* What a member who joins an audience gets of an acknowledgement it was
 * asked before they joined (outbox_membership). */
enum ack_new_members {
	ACK_NEW_LATEST,              /* the latest past occurrence (default) */
	ACK_NEW_NONE,                /* nothing: only what falls due from now */
};

struct plan_comm {
	char *id;
	char *topic;
	char *description;           /* may be NULL */
	char *owner;
	size_t *audiences;           /* indexes into plan->audiences */
	size_t naudiences;
	size_t *channels;            /* indexes into plan->channels, when */
	size_t nchannels;
	bool channels_given;         /* … given; otherwise every deliver entry */
	struct schedule sched;
	int64_t *notify;             /* seconds before start, as written */
	size_t nnotify;
	char *message;               /* template; NULL = default */
	bool acknowledge;
	int64_t *remind_after;       /* seconds after the message */
	size_t nremind;
	bool busy;                   /* feeds: TRANSP:OPAQUE (a meeting) */
	char *location;              /* feeds: LOCATION; NULL = none */
	char *url;                   /* feeds: URL (a meeting link); NULL = none */
	bool all_day;                /* date-only schedule (sched.all_day too) */
	struct plan_drill drill;     /* overrides the plan's when given */
	enum ack_new_members new_members;  /* acknowledge.new_members */
};

struct plan {
	char *path;
	char sha256[65];             /* of the file bytes, hex */
	char content_sha256[65];     /* of plan_canonical_json()'s text, hex:
					the same for a plan in JSON and YAML */
	char *id, *title, *version, *owner;
	char *approved_by, *approved_on, *next_review;  /* may be NULL */
	bool strict_approval;        /* refuse a reload changed without approval */
	char *tzid;
	const struct tz *tz;
	char *base_url;              /* base of links, no trailing '/'; may be NULL */
	struct plan_drill drill;
	struct plan_channel *channels;
	size_t nchannels;
	struct plan_audience *audiences;
	size_t naudiences;
	struct plan_comm *comms;
	size_t ncomms;
	/* The file's text with literal secrets redacted, as the evidence
	 * stores it, or the canonical JSON when that could not be done
	 * safely (text_canonical): see plan_text.h. */
	char *text;
	bool text_canonical;
};

struct plan_load_opts {
	/*
	 * Resolves env:NAME.  Returns the value (borrowed) or NULL if missing.
	 * NULL means getenv().
	 */
	const char *(*getenv)(const char *name, void *ctx);
	void *ctx;
	/* Dry-run: a missing variable gets a demo value instead of an error. */
	bool demo_secrets;
	/* Called once per variable given a demo value (may be NULL). */
	void (*on_demo)(const char *name, void *ctx);
	/*
	 * Lint (`check` without --strict): a missing variable is not an
	 * error; this is called with its name and the JSON path of the key
	 * (the W-ENV-UNSET warning), and the value is a demo stand-in.  Takes
	 * precedence over demo_secrets.  NULL: not in lint mode.
	 */
	void (*on_unset)(const char *name, const char *path, void *ctx);
	/*
	 * Called with every error found ("PATH: message", as err->msg), in
	 * the order of the file, up to PLAN_MAX_ERRORS; plan_load's err holds
	 * the first.  NULL: loading stops at the first error.
	 */
	void (*on_error)(const char *msg, void *ctx);
	/*
	 * Members from LDAP directories: read them (run, send, members,
	 * check --resolve).  false: an LDAP audience loads unresolved, with
	 * no members, and nothing is contacted.  CSV files are always read.
	 */
	bool resolve;
	/*
	 * The caller reads only schedules and audiences (agenda, ics, feeds):
	 * the plan's canonical and redacted texts are not made, nor the
	 * file's hash (text NULL, sha256 and content_sha256 ""): on a large
	 * plan that is most of the load.
	 */
	bool without_text;
	/*
	 * A reload in a running service: for a CSV or LDAP source that this
	 * plan also had (same audience id, same "members" key), a failure
	 * to read it keeps previous's list (source.failure says why) rather
	 * than failing the load.  A source for which refetch returns false
	 * is not read at all: it shares previous's list or, without one,
	 * stays unresolved (`herald members` reads one audience's only).
	 * refetch NULL: every source is read.  Lists are shared by
	 * refcount: either plan may be freed first.
	 */
	const struct plan *previous;
	bool (*refetch)(const struct plan_audience *a, void *ctx);
};

/* The most errors one load reports (through on_error). */
#define PLAN_MAX_ERRORS 100

/*
 * Loads and validates a plan, JSON or, for a .yaml/.yml file, YAML (the
 * same tree: every rule and path is the same, and YAML errors also give
 * "line L, column C").  On success *out owns a new plan, and every
 * secret value it resolved is registered with log_add_secret() (log.h),
 * so no log line can carry it.  On failure returns H_EINVAL (bad plan) or
 * H_ERUNTIME (I/O) with err->msg of the form "PATH: message" (PATH a JSON
 * path such as communications[5](AWR-Q).schedule.rrule, naming an
 * element's id where it has one, or "line L, column C"), never including
 * a secret's value; *out is untouched.  opts may be NULL.
 */
enum herald_rc plan_load(const char *path, const struct plan_load_opts *opts,
			 struct plan **out, struct herald_err *err);

/* Same, from bytes in memory; path names the plan in messages and resolves
 * file: members relative to its folder. */
enum herald_rc plan_load_buf(const char *path, const char *data, size_t len,
			     const struct plan_load_opts *opts,
			     struct plan **out, struct herald_err *err);

void plan_free(struct plan *p);

/*
 * The plan text data (named path: .yaml/.yml is YAML) as canonical JSON,
 * in *out (caller frees): its tree as written (member order kept),
 * indented by two spaces, UTF-8, with one final newline, and every secret
 * written literally (a secret field of the channel table, header values,
 * an LDAP bind password) replaced by "[redacted]"; env:NAME references stay.  A plan and its
 * YAML twin give the same text, whose SHA-256 is content_sha256.  Only
 * syntax is checked (H_EINVAL, as plan_load).
 */
enum herald_rc plan_canonical_json(const char *path, const char *data, size_t len,
				   char **out, struct herald_err *err);

/* Lookups by id; return the index or -1. */
long plan_channel_index(const struct plan *p, const char *id);
long plan_audience_index(const struct plan *p, const char *id);
long plan_comm_index(const struct plan *p, const char *id);

/* The drill in force for c: its own, else the plan's; NULL when neither
 * names one. */
const struct plan_drill *plan_comm_drill(const struct plan *p, const struct plan_comm *c);

/* The base of the links in messages and feeds: override (--base-url) if
 * given, else the plan's base_url, else fallback (may be NULL). */
const char *plan_base_url(const struct plan *p, const char *override,
			  const char *fallback);

/* The zone in force for a communication (its own or the plan's). */
const struct tz *plan_comm_tz(const struct plan *p, const struct plan_comm *c);

/*
 * Whether communication c's "channels" filter lets it go out through the
 * channel with index channel (always true without a filter).  Which
 * audiences the channel reaches is their deliver lists' business.
 */
bool plan_comm_uses_channel(const struct plan_comm *c, size_t channel);

/* Whether the message sent at notify offset `offset` is the one reminders
 * follow: the last notice (the smallest offset).  One acknowledgement
 * link serves every notice of an occurrence, so reminding after each
 * would remind twice.  The outbox and `agenda --sends` both ask this. */
bool plan_comm_reminds_after(const struct plan_comm *c, int64_t offset);

/* The plan name of a channel's type ("slack", "email", …). */
const char *plan_channel_type(const struct plan_channel *ch);

/* Public facts about a channel (its type's words, where its URL comes
 * from), never a URL, a password or a header value. */
void plan_channel_describe(const struct plan_channel *ch, struct buf *out);

/* One secret-bearing value of a channel (see plan_channel_secrets()). */
struct plan_secret_ref {
	const char *key;     /* JSON key below the channel: "webhook", "headers" */
	const char *header;  /* the header's name when key is "headers" */
	const struct plan_secret *s;
	/*
	 * An account name (an SMTP username): masked in send outcomes like
	 * the rest, but fine to write literally and not masked in logs.
	 */
	bool identity;
};

/*
 * Calls fn for every secret-bearing value ch holds (absent optional ones
 * are skipped), in the order of its type's row in the channel table.
 * Masking and lint use this list, so no secret field is forgotten.
 */
void plan_channel_secrets(const struct plan_channel *ch,
			  void (*fn)(const struct plan_secret_ref *r, void *ctx),
			  void *ctx);

/*
 * Calls fn with value and then with each part of it a receiver may quote
 * on its own: for a URL, its path and query, every path segment of 16
 * bytes or more, every query value of 8 or more and a password in it
 * (the token of a webhook URL is one of these).  Masking uses them all.
 */
void plan_secret_parts(const char *value, void (*fn)(const char *part, void *ctx),
		       void *ctx);

#endif
