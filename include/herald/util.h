/*
 * util.h - allocation that aborts on out-of-memory, a growable string
 * buffer, and small helpers shared by every module.
 *
 * Like redis and OpenSMTPD, herald treats out-of-memory as fatal so call
 * sites stay readable: x*() never return NULL.
 */
#ifndef HERALD_UTIL_H
#define HERALD_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "herald/err.h"

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Grows an array of nmemb elements of size bytes; aborts on overflow. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Frees *p and sets it to NULL. */
void xfree(void *pp);

/* A growable byte buffer, always NUL-terminated when len > 0 or after init. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Appends s escaped for HTML text and attribute values (& < > " ').
 * s may be NULL (nothing is added). */
void buf_add_html(struct buf *b, const char *s);
/*
 * Appends s as a JSON string literal: in quotes, with " and \ escaped,
 * \n \r \t as such and the other control characters as \u00xx.  Valid
 * UTF-8 passes through unchanged; a byte that is not part of valid UTF-8
 * becomes \ufffd, so the output is always valid JSON.  NULL appends null.
 */
void buf_add_json(struct buf *b, const char *s);
/*
 * Appends s as one RFC 4180 CSV cell (quoted when it holds , " CR LF or
 * starts with a space; quotes doubled).  A cell a spreadsheet would run
 * as a formula (starting with = + - @ tab or CR, also after leading
 * white space or in fullwidth forms) gets a leading apostrophe.  NULL
 * appends an empty cell.
 */
void buf_add_csv(struct buf *b, const char *s);
/* Hands the contents over to the caller (who frees them); b is reset. */
char *buf_take(struct buf *b);

/*
 * Reads a whole regular file.  Returns 0 and sets *out (caller frees) and
 * *len, or -1 with errno set.  Files larger than max bytes fail with
 * EFBIG, a directory with EISDIR, anything else that is not a regular
 * file (a FIFO, a device) with EINVAL, without blocking.
 */
int read_file(const char *path, size_t max, char **out, size_t *len);

/*
 * Replaces the file at path with len bytes of data, atomically: they are
 * written to a temporary file in the same directory, which is fsynced and
 * renamed over path, and then the directory is fsynced.  A reader sees the
 * old file or the new one, never a part.  On failure before the rename,
 * path is untouched and the temporary file is removed; a failure to sync
 * the directory afterwards is reported too (the new file is in place).
 * A new file gets mode less the umask.  A path naming a device or a FIFO
 * (/dev/null, /dev/stdout) is written in place: nothing can be renamed
 * over it.  Returns H_OK, or H_ERUNTIME with "PATH: reason" in err.
 */
enum herald_rc write_file_atomic(const char *path, const void *data, size_t len,
				 mode_t mode, struct herald_err *err);

/* Levenshtein distance of a and b (99 past 40 bytes), for "did you
 * mean": an unknown key, reference or command two edits from a known one
 * is most likely that one mistyped. */
size_t edit_distance(const char *a, const char *b);

/*
 * The candidate nearest a wanted word, within two edits: offer each known
 * word (NULL is skipped), then best is the suggestion, or NULL.  One rule
 * for every "did you mean".
 */
struct nearest {
	const char *want;
	const char *best;
	size_t d;
};
#define NEAREST(w) ((struct nearest){ .want = (w), .d = 3 })
void nearest_offer(struct nearest *n, const char *cand);

/* Constant-time comparison of n bytes. */
bool ct_equal(const void *a, const void *b, size_t n);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void hex_encode(const unsigned char *in, size_t n, char *out);

/* Decodes exactly 2n hex digits (either case) into n bytes; false on
 * any other input. */
bool hex_decode(const char *hex, unsigned char *out, size_t n);

/* SHA-256 of data into out (32 bytes). */
void sha256(const void *data, size_t n, unsigned char out[32]);

/*
 * True for the format characters that reorder or hide text on screen
 * (bidirectional controls, zero-width characters, C1 controls): what a
 * "Trojan Source" text uses to show one thing and mean another.
 */
bool unicode_invisible(unsigned cp);

/* The first such character of the UTF-8 text s (its code point), or 0. */
unsigned utf8_first_invisible(const char *s);

/* True if s is valid UTF-8 (no overlongs, no surrogates). */
bool utf8_valid(const char *s, size_t n);

#endif
