/* test_util.c - buf_add_json (escaping, UTF-8) and write_file_atomic (a
 * failure leaves the target as it was). */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "herald/log.h"
#include "herald/util.h"

static char *json_of(const char *s)
{
	struct buf b;
	buf_init(&b);
	buf_add_json(&b, s);
	return buf_take(&b);
}

#define assert_json(in, want)                                                 \
	do {                                                                  \
		char *got_ = json_of(in);                                     \
		assert_string_equal(got_, want);                              \
		free(got_);                                                   \
	} while (0)

static void csv_cell_is(const char *in, const char *want)
{
	struct buf b;
	buf_init(&b);
	buf_add_csv(&b, in);
	assert_string_equal(b.data ? b.data : "", want);
	buf_free(&b);
}

/* buf_add_csv: RFC 4180 quoting, and formulas defused as the export does. */
static void csv_cells(void **state)
{
	(void)state;
	csv_cell_is(NULL, "");
	csv_cell_is("Ann Ávila", "Ann Ávila");
	csv_cell_is("a,b", "\"a,b\"");
	csv_cell_is("say \"hi\"", "\"say \"\"hi\"\"\"");
	csv_cell_is("=HYPERLINK(1)", "\"'=HYPERLINK(1)\"");
	csv_cell_is(" +1", "\"' +1\"");
	csv_cell_is("\xef\xbc\x9dSUM(1)", "\"'\xef\xbc\x9dSUM(1)\"");   /* fullwidth = */
	csv_cell_is("2026-01-01", "2026-01-01");
}

static void json_escaping(void **state)
{
	(void)state;
	assert_json(NULL, "null");
	assert_json("", "\"\"");
	assert_json("plain text", "\"plain text\"");
	assert_json("say \"hi\"", "\"say \\\"hi\\\"\"");
	assert_json("C:\\dir", "\"C:\\\\dir\"");
	assert_json("a\nb\rc\td", "\"a\\nb\\rc\\td\"");
	assert_json("\x01\x08\x0c\x1b\x1f", "\"\\u0001\\u0008\\u000c\\u001b\\u001f\"");
	/* Not control characters in JSON: kept. */
	assert_json("/ \x7f", "\"/ \x7f\"");
}

static void json_utf8(void **state)
{
	(void)state;
	/* Valid UTF-8 of every length passes through as it is. */
	assert_json("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x85", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x85\"");
	/* U+202E (bidi override) is valid text: JSON carries it as is. */
	assert_json("\xe2\x80\xae", "\"\xe2\x80\xae\"");
	/* Bytes that are not UTF-8 become U+FFFD, one each: a lone
	 * continuation, a truncated sequence, an overlong, a surrogate. */
	assert_json("a\x80z", "\"a\\ufffdz\"");
	assert_json("\xe2\x82", "\"\\ufffd\\ufffd\"");
	assert_json("\xc0\xaf", "\"\\ufffd\\ufffd\"");
	assert_json("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	assert_json("\xff", "\"\\ufffd\"");
}

/* Whatever goes in, jansson reads back a string, equal to the input when
 * that was valid UTF-8. */
static void json_round_trip(void **state)
{
	(void)state;
	char s[256];
	for (int c = 1; c < 256; c++)
		s[c - 1] = (char)c;
	s[255] = '\0';
	const char *inputs[] = { "\"\\/\b\f\n\r\t", "tab\there", "x\xe2\x80\xa8y", s,
				 "\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80" };
	for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
		char *j = json_of(inputs[i]);
		json_error_t e;
		json_t *v = json_loads(j, JSON_DECODE_ANY, &e);
		if (!v)
			fail_msg("input %zu: %s: %s", i, j, e.text);
		assert_true(json_is_string(v));
		if (utf8_valid(inputs[i], strlen(inputs[i])))
			assert_string_equal(json_string_value(v), inputs[i]);
		json_decref(v);
		free(j);
	}
}

/* ------------------------------------------------------------------ */
/* write_file_atomic                                                   */

static char dir[64];

static int setup_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/herald-util-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
	(void)state;
	DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			char *p = xasprintf("%s/%s", dir, e->d_name);
			unlink(p);
			free(p);
		}
	}
	if (d)
		closedir(d);
	return rmdir(dir);
}

static char *contents(const char *path)
{
	char *s;
	size_t n;
	return read_file(path, 1 << 20, &s, &n) == 0 ? s : NULL;
}

/* The names in dir, sorted, joined by spaces. */
static char *listing(void)
{
	struct dirent **v;
	int n = scandir(dir, &v, NULL, alphasort);
	assert_true(n >= 2);
	struct buf b;
	buf_init(&b);
	for (int i = 0; i < n; i++) {
		if (strcmp(v[i]->d_name, ".") && strcmp(v[i]->d_name, ".."))
			buf_printf(&b, "%s%s", b.len ? " " : "", v[i]->d_name);
		free(v[i]);
	}
	free(v);
	return buf_take(&b);
}

static void distances(void **state)
{
	(void)state;
	assert_int_equal(edit_distance("check", "check"), 0);
	assert_int_equal(edit_distance("chek", "check"), 1);
	assert_int_equal(edit_distance("slak-staff", "slack-staff"), 1);
	assert_int_equal(edit_distance("INC-ALRT", "INC-ALERT"), 1);
	assert_int_equal(edit_distance("abc", ""), 3);
	assert_int_equal(edit_distance("kitten", "sitting"), 3);
	char long_word[50];
	memset(long_word, 'a', sizeof long_word - 1);
	long_word[sizeof long_word - 1] = '\0';
	assert_int_equal(edit_distance(long_word, "a"), 99);
}

/* A secret that begins with a shorter one is masked whole, whichever was
 * registered first (a URL and its own path are both registered). */
static void log_masks_longest(void **state)
{
	(void)state;
	log_add_secret("tok-short");
	log_add_secret("tok-short-and-the-rest-42");
	struct buf b;
	buf_init(&b);
	const char *line = "a tok-short-and-the-rest-42 b tok-short c";
	log_escape(&b, line, strlen(line));
	assert_string_equal(b.data, "a [secret] b [secret] c");
	buf_free(&b);
	log_forget_secrets();
}

static void atomic_writes(void **state)
{
	(void)state;
	char *path = xasprintf("%s/out.txt", dir);
	struct herald_err err;
	herald_err_clear(&err);
	mode_t old = umask(022);
	assert_int_equal(write_file_atomic(path, "first\n", 6, 0666, &err), H_OK);
	char *s = contents(path);
	assert_string_equal(s, "first\n");
	free(s);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644); /* mode less the umask */
	/* Replacing: a new inode, so a reader holding the old one sees it whole. */
	ino_t ino = st.st_ino;
	assert_int_equal(write_file_atomic(path, "second", 6, 0600, &err), H_OK);
	s = contents(path);
	assert_string_equal(s, "second");
	free(s);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_ino != ino);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* Empty data is an empty file. */
	assert_int_equal(write_file_atomic(path, NULL, 0, 0644, &err), H_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);
	char *l = listing();
	assert_string_equal(l, "out.txt"); /* no temporary file left */
	free(l);
	umask(old);
	free(path);
}

static void atomic_failures(void **state)
{
	(void)state;
	struct herald_err err;
	herald_err_clear(&err);
	/* A directory that does not exist: an error naming the path. */
	char *missing = xasprintf("%s/no/such/dir/out.txt", dir);
	assert_int_equal(write_file_atomic(missing, "x", 1, 0644, &err), H_ERUNTIME);
	assert_contains(err.msg, missing);
	assert_contains(err.msg, strerror(ENOENT));
	free(missing);

	/* A directory as the target is refused, not renamed over. */
	herald_err_clear(&err);
	assert_int_equal(write_file_atomic(dir, "x", 1, 0644, &err), H_ERUNTIME);
	assert_contains(err.msg, strerror(EISDIR));

	/* A write that fails half-way (the file size limit, which binds
	 * root too): the old file stays whole, the temporary file goes. */
	char *path = xasprintf("%s/keep.txt", dir);
	assert_int_equal(write_file_atomic(path, "old contents\n", 13, 0644, &err), H_OK);
	struct rlimit rl, small = { .rlim_cur = 100, .rlim_max = RLIM_INFINITY };
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &rl), 0);
	small.rlim_max = rl.rlim_max;
	void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	char big[4096];
	memset(big, 'n', sizeof big);
	herald_err_clear(&err);
	enum herald_rc rc = write_file_atomic(path, big, sizeof big, 0644, &err);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
	signal(SIGXFSZ, prev);
	assert_int_equal(rc, H_ERUNTIME);
	assert_contains(err.msg, path);
	assert_contains(err.msg, strerror(EFBIG));
	char *s = contents(path);
	assert_string_equal(s, "old contents\n");
	free(s);
	char *l = listing();
	assert_string_equal(l, "keep.txt");
	free(l);
	free(path);
}

/* /dev/null is written, not replaced by a regular file. */
static void atomic_device(void **state)
{
	(void)state;
	struct herald_err err;
	herald_err_clear(&err);
	assert_int_equal(write_file_atomic("/dev/null", "x", 1, 0644, &err), H_OK);
	struct stat st;
	assert_int_equal(stat("/dev/null", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(csv_cells),
		cmocka_unit_test(json_escaping),
		cmocka_unit_test(json_utf8),
		cmocka_unit_test(json_round_trip),
		cmocka_unit_test(log_masks_longest),
		cmocka_unit_test(distances),
		cmocka_unit_test_setup_teardown(atomic_writes, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(atomic_failures, setup_dir, teardown_dir),
		cmocka_unit_test(atomic_device),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
