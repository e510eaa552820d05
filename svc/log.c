/*
 * log.c - the one log (see log.h).
 *
 * Masking runs on the formatted message before escaping, so a secret is
 * found as it was written; escaping then guarantees one physical line per
 * event whatever the message held.
 */
#include "herald/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "herald/clock.h"
#include "herald/util.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static enum log_format format = LOG_TEXT;
static int min_level = -1;
/* The secrets to mask, and which bytes one starts with: every position of
 * every line is tried, so a byte no secret starts with is passed at once. */
struct secret {
	char *s;
	size_t len;
};
static struct secret *secrets;
static size_t nsecrets;
static uint64_t first_bytes[4];

static const char *const level_names[] = { "debug", "info", "warn", "error" };

enum log_format log_get_format(void)
{
	return format;
}

void log_set_format(enum log_format f)
{
	format = f;
}

bool log_set_format_name(const char *name)
{
	if (strcmp(name, "text") == 0)
		log_set_format(LOG_TEXT);
	else if (strcmp(name, "json") == 0)
		log_set_format(LOG_JSON);
	else
		return false;
	return true;
}

void log_set_level(enum log_level min)
{
	min_level = (int)min;
}

void log_add_secret(const char *value)
{
	if (!value || strlen(value) < 4)
		return;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nsecrets; i++)
		if (strcmp(secrets[i].s, value) == 0) {
			pthread_mutex_unlock(&lock);
			return;
		}
	secrets = xreallocarray(secrets, nsecrets + 1, sizeof *secrets);
	secrets[nsecrets++] = (struct secret){ xstrdup(value), strlen(value) };
	unsigned char c = (unsigned char)value[0];
	first_bytes[c >> 6] |= 1ull << (c & 63);
	pthread_mutex_unlock(&lock);
}

void log_forget_secrets(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nsecrets; i++) {
		explicit_bzero(secrets[i].s, secrets[i].len);
		free(secrets[i].s);
	}
	free(secrets);
	secrets = NULL;
	nsecrets = 0;
	memset(first_bytes, 0, sizeof first_bytes);
	pthread_mutex_unlock(&lock);
}

/* Length of the longest registered secret starting at s, or 0: a URL
 * and its own path are both registered, and masking the shorter would
 * log the rest of the longer.  Caller locks. */
static size_t secret_at(const char *s, size_t n)
{
	unsigned char c = (unsigned char)s[0];
	if (!(first_bytes[c >> 6] & (1ull << (c & 63))))
		return 0;
	size_t best = 0;
	for (size_t i = 0; i < nsecrets; i++) {
		size_t l = secrets[i].len;
		if (l > best && l <= n && s[1] == secrets[i].s[1] && memcmp(s, secrets[i].s, l) == 0)
			best = l;
	}
	return best;
}

/* Decodes one UTF-8 sequence at s (n bytes left); 0 if invalid. */
static size_t utf8_one(const unsigned char *s, size_t n, unsigned *cp)
{
	size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	if (!len || len > n || s[0] > 0xf4 || !utf8_valid((const char *)s, len))
		return 0;
	unsigned v = s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++)
		v = (v << 6) | (s[i] & 0x3f);
	*cp = v;
	return len;
}

static void escape_locked(struct buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		size_t sl = nsecrets ? secret_at(s + i, n - i) : 0;
		if (sl) {
			buf_adds(b, "[secret]");
			i += sl;
			continue;
		}
		unsigned char c = u[i];
		if (c == '\\') {
			buf_adds(b, "\\\\");
			i++;
		} else if (c == '\n') {
			buf_adds(b, "\\n");
			i++;
		} else if (c == '\r') {
			buf_adds(b, "\\r");
			i++;
		} else if (c == '\t') {
			buf_adds(b, "\\t");
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			buf_printf(b, "\\x%02x", c);
			i++;
		} else if (c < 0x80) {
			buf_addc(b, (char)c);
			i++;
		} else {
			unsigned cp;
			size_t l = utf8_one(u + i, n - i, &cp);
			if (!l) {
				buf_printf(b, "\\x%02x", c);
				i++;
			} else if (unicode_invisible(cp)) {
				buf_printf(b, "\\u%04x", cp);
				i += l;
			} else {
				buf_add(b, s + i, l);
				i += l;
			}
		}
	}
}

void log_escape(struct buf *b, const char *s, size_t n)
{
	pthread_mutex_lock(&lock);
	escape_locked(b, s, n);
	pthread_mutex_unlock(&lock);
}

static void log_vevent(enum log_level level, const char *event, const char *suffix,
		       const char *fmt, va_list ap)
{
	if (min_level < 0) {
		const char *d = getenv("HERALD_LOG_DEBUG");
		min_level = d && *d == '1' ? LOG_DEBUG : LOG_INFO;
	}
	if ((int)level < min_level)
		return;
	struct buf msg, safe, line;
	buf_init(&msg);
	buf_init(&safe);
	buf_init(&line);
	buf_vprintf(&msg, fmt, ap);
	if (suffix)
		buf_adds(&msg, suffix);
	char ts[32];
	clock_now_text(ts);
	pthread_mutex_lock(&lock);
	escape_locked(&safe, msg.data ? msg.data : "", msg.len);
	pthread_mutex_unlock(&lock);
	const char *lv = level_names[level];
	if (format == LOG_JSON) {
		buf_printf(&line, "{\"ts\":\"%s\",\"level\":\"%s\",\"event\":", ts, lv);
		buf_add_json(&line, event);
		buf_adds(&line, ",\"msg\":");
		buf_add_json(&line, safe.data ? safe.data : "");
		buf_adds(&line, "}\n");
	} else {
		buf_printf(&line, "herald: %s %s %s: %s\n", ts, lv, event,
			   safe.data ? safe.data : "");
	}
	/* One write: lines from several threads never interleave. */
	ssize_t w = write(STDERR_FILENO, line.data, line.len);
	(void)w;
	buf_free(&msg);
	buf_free(&safe);
	buf_free(&line);
}

void log_event(enum log_level level, const char *event, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vevent(level, event, NULL, fmt, ap);
	va_end(ap);
}

void log_event_limited(struct log_limit *l, enum log_level level, const char *event,
		       const char *fmt, ...)
{
	int64_t now = clock_mono_ms();
	int64_t next = atomic_load(&l->next_ms);
	/* One thread wins the slot of this interval; the others count. */
	if (now < next || !atomic_compare_exchange_strong(&l->next_ms, &next,
							  now + l->interval_ms)) {
		atomic_fetch_add(&l->held, 1);
		return;
	}
	unsigned held = atomic_exchange(&l->held, 0);
	char suffix[96] = "";
	if (held)
		snprintf(suffix, sizeof suffix, " (and %u more like it since the last such line)",
			 held);
	va_list ap;
	va_start(ap, fmt);
	log_vevent(level, event, held ? suffix : NULL, fmt, ap);
	va_end(ap);
}
