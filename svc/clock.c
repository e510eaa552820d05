/* clock.c - the one clock (see clock.h). */
#include "herald/clock.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "herald/timeutil.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int64_t fake_base, fake_mono;
static int fake;

int64_t clock_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void init(void)
{
	const char *s = getenv("HERALD_NOW");
	if (s && parse_rfc3339(s, &fake_base)) {
		fake = 1;
		fake_mono = clock_mono_ms();
	}
}

int64_t clock_now(void)
{
	pthread_once(&once, init);
	if (fake)
		return fake_base + (clock_mono_ms() - fake_mono) / 1000;
	return (int64_t)time(NULL);
}

void clock_now_text(char *out)
{
	format_rfc3339_utc(clock_now(), out, 32);
}
