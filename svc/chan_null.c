/*
 * chan_null.c - the null channel of --dry-run: builds nothing, sends
 * nothing, and answers at once so the attempt is recorded as "dry-run".
 */
#include <string.h>

#include "herald/chan.h"

void chan_null_send(const struct chan_msg *m, struct chan_outcome *o);

void chan_null_send(const struct chan_msg *m, struct chan_outcome *o)
{
	(void)m;
	memset(o, 0, sizeof *o);
	o->result = CHAN_OK;
	o->dry_run = true;
	o->retry_after = -1;
	strcpy(o->reply, "dry-run: not sent");
}
