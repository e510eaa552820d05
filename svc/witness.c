/* witness.c - the head witness file (see witness.h). */
#include "herald/witness.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "herald/timeutil.h"
#include "herald/util.h"

#define TITLE "herald head witness\n"

char *witness_path(const char *db_path)
{
	return xasprintf("%s.witness", db_path);
}

int witness_read(const char *db_path, struct witness *w, struct herald_err *err)
{
	char *p = witness_path(db_path);
	char *text;
	size_t len;
	int r = read_file(p, 4096, &text, &len);
	if (r != 0) {
		int e = errno;
		if (e != ENOENT)
			herald_err_set(err, H_ERUNTIME, "%s: %s", p, strerror(e));
		free(p);
		return e == ENOENT ? 0 : -1;
	}
	char hex[80] = "", at[40] = "";
	long long seq = -1;
	bool ok = strncmp(text, TITLE, strlen(TITLE)) == 0 &&
		  sscanf(text + strlen(TITLE), "seq %lld\nsha256 %79s\nat %39s", &seq, hex, at) == 3 &&
		  seq >= 0 && hex_decode(hex, w->hash, 32) && parse_rfc3339(at, &w->at);
	free(text);
	if (!ok) {
		herald_err_set(err, H_ERUNTIME, "%s: not a head witness", p);
		free(p);
		return -1;
	}
	free(p);
	w->seq = seq;
	return 1;
}

enum herald_rc witness_write(const char *db_path, const struct witness *w,
			     struct herald_err *err)
{
	char hex[65], at[32];
	hex_encode(w->hash, 32, hex);
	format_rfc3339_utc(w->at, at, sizeof at);
	char *text = xasprintf(TITLE "seq %" PRId64 "\nsha256 %s\nat %s\n", w->seq, hex, at);
	char *p = witness_path(db_path);
	enum herald_rc rc = write_file_atomic(p, text, strlen(text), 0644, err);
	free(p);
	free(text);
	return rc;
}
