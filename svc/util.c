/* util.c - allocation, buffers, files and byte helpers of util.h. */
#include "herald/util.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void oom(void)
{
	static const char m[] = "herald: out of memory\n";
	ssize_t r = write(2, m, sizeof m - 1);
	(void)r;
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xreallocarray(void *p, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size)
		oom();
	return xrealloc(p, nmemb * size);
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	struct buf b;
	buf_init(&b);
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return buf_take(&b);
}

void xfree(void *pp)
{
	void **p = pp;
	free(*p);
	*p = NULL;
}

void buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static void buf_grow(struct buf *b, size_t extra)
{
	if (extra > SIZE_MAX - b->len - 1)
		oom();
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void buf_add(struct buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	buf_grow(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void buf_add_html(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': buf_adds(b, "&amp;"); break;
		case '<': buf_adds(b, "&lt;"); break;
		case '>': buf_adds(b, "&gt;"); break;
		case '"': buf_adds(b, "&quot;"); break;
		case '\'': buf_adds(b, "&#39;"); break;
		default: buf_addc(b, *s); break;
		}
	}
}

char *buf_take(struct buf *b)
{
	if (!b->data)
		buf_grow(b, 0), b->data[0] = '\0';
	char *p = b->data;
	buf_init(b);
	return p;
}

int read_file(const char *path, size_t max, char **out, size_t *len)
{
	/* Non-blocking, so a FIFO in a file's place cannot hang the reader;
	 * then only a regular file is read. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		return -1;
	}
	struct buf b;
	buf_init(&b);
	buf_grow(&b, 4096);
	for (;;) {
		buf_grow(&b, 65536);
		ssize_t r = read(fd, b.data + b.len, 65536);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			buf_free(&b);
			close(fd);
			errno = e;
			return -1;
		}
		if (r == 0)
			break;
		b.len += (size_t)r;
		if (b.len > max) {
			buf_free(&b);
			close(fd);
			errno = EFBIG;
			return -1;
		}
	}
	close(fd);
	b.data[b.len] = '\0';
	*len = b.len;
	*out = buf_take(&b);
	return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* A device or a FIFO: written as it is, truncation means nothing there. */
static enum herald_rc write_in_place(const char *path, const void *data, size_t len,
				     struct herald_err *err)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	int e = fd < 0 || write_all(fd, data, len) ? errno : 0;
	if (fd >= 0 && close(fd) != 0 && !e)
		e = errno;
	return e ? herald_err_set(err, H_ERUNTIME, "%s: %s", path, strerror(e)) : H_OK;
}

/* Makes the rename durable: the directory entry is data too. */
static enum herald_rc sync_dir(const char *path, struct herald_err *err)
{
	const char *slash = strrchr(path, '/');
	char *dir = !slash ? xstrdup(".") : slash == path ? xstrdup("/")
			   : xstrndup(path, (size_t)(slash - path));
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int e = fd < 0 || fsync(fd) != 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	free(dir);
	/* Some file systems cannot sync a directory; the rename stands. */
	if (e && e != EINVAL)
		return herald_err_set(err, H_ERUNTIME, "%s: written, but syncing its "
				      "directory failed: %s", path, strerror(e));
	return H_OK;
}

enum herald_rc write_file_atomic(const char *path, const void *data, size_t len,
				 mode_t mode, struct herald_err *err)
{
	static atomic_uint seq;
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode)
			? herald_err_set(err, H_ERUNTIME, "%s: %s", path, strerror(EISDIR))
			: write_in_place(path, data, len, err);
	/* O_EXCL: never write through a file (or link) someone put there. */
	char *tmp = NULL;
	int fd = -1;
	for (int tries = 0; fd < 0 && tries < 100; tries++) {
		free(tmp);
		tmp = xasprintf("%s.tmp.%ld.%u", path, (long)getpid(),
				atomic_fetch_add(&seq, 1));
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	int e = fd < 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0 ? errno : 0;
	if (fd >= 0 && close(fd) != 0 && !e)
		e = errno;
	if (!e && rename(tmp, path) != 0)
		e = errno;
	if (e && fd >= 0)
		unlink(tmp);
	free(tmp);
	if (e)
		return herald_err_set(err, H_ERUNTIME, "%s: %s", path, strerror(e));
	return sync_dir(path, err);
}

bool ct_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;
	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

void hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool hex_decode(const char *hex, unsigned char *out, size_t n)
{
	if (!hex || strlen(hex) != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

void sha256(const void *data, size_t n, unsigned char out[32])
{
	unsigned int len = 32;
	if (!EVP_Digest(data, n, out, &len, EVP_sha256(), NULL))
		abort();
}

/* The length of the valid UTF-8 sequence at s (n bytes left), 0 if none:
 * no overlongs, no surrogates, nothing above U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0], cp, min;
	size_t k;
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0)
		k = 1, cp = c & 0x1f, min = 0x80;
	else if ((c & 0xf0) == 0xe0)
		k = 2, cp = c & 0x0f, min = 0x800;
	else if ((c & 0xf8) == 0xf0)
		k = 3, cp = c & 0x07, min = 0x10000;
	else
		return 0;
	if (k >= n)
		return 0;
	for (size_t j = 1; j <= k; j++) {
		if ((s[j] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[j] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return k + 1;
}

bool utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	for (size_t i = 0, k; i < n; i += k)
		if (!(k = utf8_seq(s + i, n - i)))
			return false;
	return true;
}

void buf_add_json(struct buf *b, const char *str)
{
	if (!str) {
		buf_adds(b, "null");
		return;
	}
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), run = 0, i = 0;
	buf_addc(b, '"');
	/* Bytes that need nothing are copied in runs: exports write millions. */
	while (i < n) {
		unsigned c = s[i];
		size_t k = c >= 0x20 && c != '"' && c != '\\' ? utf8_seq(s + i, n - i) : 0;
		if (k) {
			i += k;
			continue;
		}
		buf_add(b, s + run, i - run);
		switch (c) {
		case '"': buf_adds(b, "\\\""); break;
		case '\\': buf_adds(b, "\\\\"); break;
		case '\n': buf_adds(b, "\\n"); break;
		case '\r': buf_adds(b, "\\r"); break;
		case '\t': buf_adds(b, "\\t"); break;
		default:
			if (c < 0x20)
				buf_printf(b, "\\u%04x", c);
			else
				buf_adds(b, "\\ufffd");
			break;
		}
		run = ++i;
	}
	buf_add(b, s + run, i - run);
	buf_addc(b, '"');
}

bool unicode_invisible(unsigned cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x00ad ||
	       (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff;
}

unsigned utf8_first_invisible(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	while (s && *s) {
		unsigned cp = *s;
		size_t len = cp >= 0xf0 ? 4 : cp >= 0xe0 ? 3 : cp >= 0xc0 ? 2 : 1;
		if (len > 1) {
			cp &= 0x7fu >> len;
			for (size_t i = 1; i < len; i++) {
				if ((s[i] & 0xc0) != 0x80)
					return 0;   /* not UTF-8: the loader refuses it */
				cp = cp << 6 | (s[i] & 0x3f);
			}
		}
		if (unicode_invisible(cp))
			return cp;
		s += len;
	}
	return 0;
}

/*
 * A spreadsheet may run a cell as a formula when it starts with = + - @
 * (or a tab or CR), also after leading white space, and also in their
 * fullwidth forms, which some spreadsheets read as the ASCII ones.
 */
static bool csv_formula_like(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	for (;;) {
		if (*p == ' ' || *p == '\n')
			p++;
		else if (p[0] == 0xc2 && p[1] == 0xa0)                  /* no-break space */
			p += 2;
		else if (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80)  /* ideographic space */
			p += 3;
		else
			break;
	}
	if (*p && strchr("=+-@\t\r", *p))
		return true;
	/* U+FF0B, U+FF0D, U+FF1D, U+FF20 */
	return p[0] == 0xef && ((p[1] == 0xbc && (p[2] == 0x8b || p[2] == 0x8d || p[2] == 0x9d)) ||
				(p[1] == 0xbc && p[2] == 0xa0));
}

void buf_add_csv(struct buf *b, const char *s)
{
	if (!s)
		return;
	bool formula = csv_formula_like(s);
	bool quote = formula || strpbrk(s, ",\"\r\n") || s[0] == ' ';
	if (!quote) {
		buf_adds(b, s);
		return;
	}
	buf_addc(b, '"');
	if (formula)
		buf_addc(b, '\'');
	for (const char *q; (q = strchr(s, '"')); s = q + 1) {
		buf_add(b, s, (size_t)(q - s + 1));
		buf_addc(b, '"');
	}
	buf_adds(b, s);
	buf_addc(b, '"');
}

void nearest_offer(struct nearest *n, const char *cand)
{
	size_t d = cand ? edit_distance(cand, n->want) : 99;
	if (d < n->d) {
		n->d = d;
		n->best = cand;
	}
}

size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 40 || lb > 40)
		return 99;
	size_t row[41];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}
