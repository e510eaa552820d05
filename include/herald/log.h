/*
 * log.h - herald's one log.
 *
 * Every line the service and the commands log goes through log_event():
 * a timestamp (the clock of clock.h), a level, an event name and a
 * message.  Two formats, chosen once at start (--log-format):
 *
 *   text  herald: 2026-11-22T10:00:00Z info delivery.sent: POLICY audience=staff …
 *   json  {"ts":"2026-11-22T10:00:00Z","level":"info","event":"delivery.sent","msg":"…"}
 *
 * The message is made safe before it is written, whatever the caller
 * passed: control characters (C0, DEL, C1) and bidirectional or
 * zero-width format characters are escaped (\n, \x1b, \u202e), so text
 * from a plan, a note or a peer can never start a forged line or reorder
 * one; and every registered secret is replaced by "[secret]".  Lines are
 * written whole (one write per line) from any thread.
 *
 * User-facing command errors ("herald: PLAN: PATH: message") are not log
 * lines: they go through cli.h.
 */
#ifndef HERALD_LOG_H
#define HERALD_LOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_TEXT, LOG_JSON };

/* Chooses the format (default text); "text" or "json", false otherwise. */
bool log_set_format_name(const char *name);
void log_set_format(enum log_format f);
enum log_format log_get_format(void);

/* Lines below min are dropped (default LOG_INFO; HERALD_LOG_DEBUG=1 at
 * the first call lowers it to LOG_DEBUG). */
void log_set_level(enum log_level min);

/*
 * Registers a value that must never be written (a webhook URL, a
 * password): from now on it is masked in every line.  The value is
 * copied; values shorter than 4 bytes are ignored (they would mask
 * ordinary words).  log_forget_secrets() drops them all (a reload
 * registers the new plan's).
 */
void log_add_secret(const char *value);
void log_forget_secrets(void);

/* Writes one line.  event is a short dotted name ("delivery.sent"). */
void log_event(enum log_level level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * A rate limit for one kind of line (refused connections, a failing
 * disk): at most one line per interval_ms; the next line written says how
 * many were held back meanwhile, so a flood of events is one line per
 * interval with a count.  Static storage, e.g.
 *     static struct log_limit lim = LOG_LIMIT_INIT(10000);
 */
struct log_limit {
	int64_t interval_ms;
	_Atomic int64_t next_ms;
	atomic_uint held;
};
#define LOG_LIMIT_INIT(ms) { .interval_ms = (ms) }

void log_event_limited(struct log_limit *l, enum log_level level, const char *event,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Appends s to b with the escaping of log lines (control and bidi
 * characters, registered secrets masked): for other outputs that quote
 * untrusted text to a terminal.
 */
void log_escape(struct buf *b, const char *s, size_t n);

#endif
