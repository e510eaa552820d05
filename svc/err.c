/* err.c - the error idiom of err.h. */
#include "herald/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void herald_err_clear(struct herald_err *err)
{
	if (!err)
		return;
	err->rc = H_OK;
	err->msg[0] = '\0';
}

enum herald_rc herald_err_set(struct herald_err *err, enum herald_rc rc,
			      const char *fmt, ...)
{
	if (!err)
		return rc;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	err->rc = rc;
	return rc;
}

void herald_err_prefix(struct herald_err *err, const char *fmt, ...)
{
	if (!err)
		return;
	char pre[HERALD_ERR_LEN], old[HERALD_ERR_LEN];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(pre, sizeof pre - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	memcpy(old, err->msg, sizeof old);
	size_t k = strlen(pre);
	memcpy(pre + k, ": ", 3);
	k += 2;
	size_t rest = sizeof err->msg - 1 - (k < sizeof err->msg ? k : sizeof err->msg - 1);
	memcpy(err->msg, pre, k < sizeof err->msg ? k : sizeof err->msg - 1);
	size_t m = strnlen(old, rest);
	memcpy(err->msg + k, old, m);
	err->msg[k + m] = '\0';
}
