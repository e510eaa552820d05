/* runtime.c - the service's degraded conditions (see runtime.h). */
#include "herald/runtime.h"

#include <stdio.h>
#include <string.h>

#include "herald/util.h"

void runtime_init(struct runtime *rt)
{
	pthread_mutex_init(&rt->cond_lock, NULL);
}

void runtime_done(struct runtime *rt)
{
	pthread_mutex_destroy(&rt->cond_lock);
}

void runtime_condition(struct runtime *rt, const char *name, const char *reason)
{
	pthread_mutex_lock(&rt->cond_lock);
	size_t i = 0;
	while (i < rt->nconds && strcmp(rt->conds[i].name, name) != 0)
		i++;
	if (!reason) {
		if (i < rt->nconds)
			rt->conds[i] = rt->conds[--rt->nconds];
	} else if (i < rt->nconds || rt->nconds < sizeof rt->conds / sizeof rt->conds[0]) {
		if (i == rt->nconds)
			snprintf(rt->conds[rt->nconds++].name, sizeof rt->conds[0].name, "%s", name);
		snprintf(rt->conds[i].reason, sizeof rt->conds[i].reason, "%s", reason);
	}
	pthread_mutex_unlock(&rt->cond_lock);
}

bool runtime_has_condition(struct runtime *rt, const char *name)
{
	pthread_mutex_lock(&rt->cond_lock);
	bool found = false;
	for (size_t i = 0; i < rt->nconds && !found; i++)
		found = strcmp(rt->conds[i].name, name) == 0;
	pthread_mutex_unlock(&rt->cond_lock);
	return found;
}

size_t runtime_conditions_json(struct runtime *rt, struct buf *out)
{
	pthread_mutex_lock(&rt->cond_lock);
	buf_addc(out, '[');
	for (size_t i = 0; i < rt->nconds; i++) {
		buf_adds(out, i ? ",{\"what\":" : "{\"what\":");
		buf_add_json(out, rt->conds[i].name);
		buf_adds(out, ",\"reason\":");
		buf_add_json(out, rt->conds[i].reason);
		buf_addc(out, '}');
	}
	buf_addc(out, ']');
	size_t n = rt->nconds;
	pthread_mutex_unlock(&rt->cond_lock);
	return n;
}
