/*
 * chan_types.c - the list of channel types (plan_chan.h): one line per
 * type, whose row (struct chan_type chan_type_NAME) is defined in
 * svc/chan_NAME.c.  The order is the one errors and docs list them in.
 */
#include <stddef.h>
#include <string.h>

#include "herald/plan_chan.h"

/*
 * A test build adds rows of its own here, and nothing else:
 * -D'CHAN_TYPES_EXTRA(X)=X(carrier)' with tests/chan_carrier.c linked in
 * (the Makefile's herald-extra) proves a type is one file plus one line.
 */
#ifndef CHAN_TYPES_EXTRA
#define CHAN_TYPES_EXTRA(X)
#endif

#define CHAN_TYPES(X) \
	X(slack)      \
	X(email)      \
	X(webhook)    \
	X(teams)      \
	X(googlechat) \
	X(mattermost) \
	CHAN_TYPES_EXTRA(X)

#define DECLARE(n) extern const struct chan_type chan_type_##n;
CHAN_TYPES(DECLARE)

#define ROW(n) &chan_type_##n,
const struct chan_type *const chan_types[] = { CHAN_TYPES(ROW) NULL };

const struct chan_type *chan_type_find(const char *name)
{
	for (size_t i = 0; name && chan_types[i]; i++)
		if (strcmp(chan_types[i]->name, name) == 0)
			return chan_types[i];
	return NULL;
}
