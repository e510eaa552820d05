/*
 * fuzz_inputs_core.h - what herald reads from outside besides plans, fed
 * arbitrary bytes: a member CSV file as an HR system exports it, the
 * tokens in feed and ack URLs, the times and durations of the command
 * line and of /report's query, addresses; and the escapers every output
 * relies on, each checked for the property its callers count on (the
 * JSON literal parses back to the text, the log line holds no control
 * byte, the CSV cell is no formula).  Shared by the libFuzzer target
 * (fuzz_inputs.c) and the regression replay (test_fuzz_regressions.c):
 * abort() marks a broken property.
 */
#ifndef HERALD_FUZZ_INPUTS_CORE_H
#define HERALD_FUZZ_INPUTS_CORE_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "herald/log.h"
#include "herald/members.h"
#include "herald/timeutil.h"
#include "herald/token.h"
#include "herald/util.h"

/* The folder the CSV input is written to (one per process). */
static const char *fuzz_dir(void)
{
	static char dir[64];
	if (!dir[0]) {
		snprintf(dir, sizeof dir, "/tmp/herald-fuzz-%d", (int)getpid());
		mkdir(dir, 0700);
	}
	return dir;
}

static void fuzz_csv(const char *s, size_t n, char delim)
{
	char plan[96], file[112];
	snprintf(plan, sizeof plan, "%s/plan.json", fuzz_dir());
	snprintf(file, sizeof file, "%s/m.csv", fuzz_dir());
	FILE *f = fopen(file, "wb");
	if (!f)
		abort();
	fwrite(s, 1, n, f);
	fclose(f);
	char col[] = "dept", staff[] = "Staff", empty[] = "", file_[] = "m.csv", name[] = "name",
	     email[] = "email";
	char *values[] = { staff, empty };
	struct members_filter flt = { .column = col, .values = values, .nvalues = 2 };
	struct members_csv spec = { .file = file_, .name_col = name, .email_col = email,
				    .delimiter = delim, .filters = &flt, .nfilters = n & 1 };
	struct member_list *l = NULL;
	struct members_csv_err e;
	if (members_csv_read(plan, &spec, &l, &e) == H_OK) {
		for (size_t i = 0; i < l->n; i++)
			if (!members_valid_addr(l->m[i].email))
				abort();   /* only valid addresses become members */
		member_list_unref(l);
	} else if (!e.msg[0]) {
		abort();           /* a failure always says why */
	}
}

static void fuzz_tokens(const char *s)
{
	static const unsigned char key[32] = { 1, 2, 3 };
	unsigned char raw[16];
	char ackid[TOKEN_ACKID_LEN + 1];
	(void)token_ackid_decode(s, raw);
	if (token_ack_check(key, s, ackid) && strlen(ackid) != TOKEN_ACKID_LEN)
		abort();
	(void)token_feed_check(key, "staff", s);
}

static void fuzz_times(const char *s)
{
	int64_t t;
	char why[256], out[64];
	if (parse_rfc3339(s, &t))
		format_rfc3339_utc(t, out, sizeof out);
	if (parse_local(s, &t))
		format_local(t, out, sizeof out);
	(void)parse_date(s, &t);
	(void)explain_local(s, why, sizeof why);
	(void)explain_date(s, why, sizeof why);
	if (parse_duration(s, &t))
		format_duration(t, out, sizeof out);
}

static void fuzz_addresses(const char *s)
{
	char addr[320];
	(void)members_valid_mailbox(s);
	if (members_mailbox_addr(s, addr, sizeof addr) && !members_valid_addr(addr))
		abort();
}

static void fuzz_escapers(const char *s, size_t n)
{
	struct buf b;
	buf_init(&b);
	/* JSON: always parses, and gives the text back when it was UTF-8. */
	buf_add_json(&b, s);
	json_error_t je;
	json_t *j = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	if (!j || !json_is_string(j))
		abort();
	if (utf8_valid(s, n) && strcmp(json_string_value(j), s) != 0)
		abort();
	json_decref(j);
	/* Log lines: no control byte survives. */
	buf_reset(&b);
	log_escape(&b, s, n);
	for (size_t i = 0; i < b.len; i++)
		if ((unsigned char)b.data[i] < 0x20 || b.data[i] == 0x7f)
			abort();
	/* CSV: no cell a spreadsheet runs. */
	buf_reset(&b);
	buf_add_csv(&b, s);
	size_t i = b.len && b.data[0] == '"' ? 1 : 0;
	if (i < b.len && strchr("=+-@", b.data[i]))
		abort();
	/* HTML: no markup. */
	buf_reset(&b);
	buf_add_html(&b, s);
	if (b.len && (memchr(b.data, '<', b.len) || memchr(b.data, '"', b.len)))
		abort();
	buf_free(&b);
}

static void fuzz_inputs_one(const uint8_t *data, size_t size)
{
	/* As text: up to the first NUL, as C strings are. */
	char *s = xstrndup((const char *)data, size);
	size_t n = strlen(s);
	static const char delims[] = ",;\t|";
	fuzz_csv((const char *)data, size, delims[size % 4]);
	fuzz_tokens(s);
	fuzz_times(s);
	fuzz_addresses(s);
	fuzz_escapers(s, n);
	free(s);
}

#endif
