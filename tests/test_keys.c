/*
 * test_keys.c - the key directory: made once for a new database, modes,
 * refusals (missing or foreign keys), rotations (ack grace, feed
 * revocation, signing), and nothing private left in the database.
 */
#include "testutil.h"

#include <sys/stat.h>
#include <unistd.h>

#include "herald/keys.h"
#include "herald/store.h"
#include "herald/token.h"
#include "herald/util.h"

struct fx {
	char db[96], dir[112];
	struct store *s;
};

static void rm_rf(const char *p)
{
	char *cmd = xasprintf("rm -rf '%s' '%s-wal' '%s-shm' '%s.witness'", p, p, p, p);
	if (system(cmd) != 0)
		fail_msg("%s", cmd);
	free(cmd);
}

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);
	snprintf(f->db, sizeof f->db, "/tmp/herald-test-keys-%d.db", (int)getpid());
	snprintf(f->dir, sizeof f->dir, "%s.keys", f->db);
	rm_rf(f->db);
	rm_rf(f->dir);
	struct herald_err e;
	struct store_open_opts o = { .create = true };
	assert_int_equal(store_open(f->db, &o, &f->s, &e), H_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_close(f->s);
	rm_rf(f->db);
	rm_rf(f->dir);
	free(f);
	return 0;
}

static struct keyring *open_keys(struct fx *f, enum keys_open_mode mode)
{
	struct keyring *k;
	struct herald_err e;
	if (keys_open(f->dir, f->s, mode, &k, &e))
		fail_msg("keys_open: %s", e.msg);
	return k;
}

static void made_once_private_and_stable(void **state)
{
	struct fx *f = *state;
	struct herald_err e;
	struct keyring *k;
	/* Using keys that were never made is refused, not a silent creation. */
	assert_int_equal(keys_open(f->dir, f->s, KEYS_USE, &k, &e), H_ERUNTIME);
	assert_contains(e.msg, "no keys");
	k = open_keys(f, KEYS_CREATE);
	struct stat st;
	assert_int_equal(stat(f->dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	const char *files[] = { "feeds.key", "acks.keys", "signing.key", "signing.pub" };
	for (size_t i = 0; i < 4; i++) {
		char *p = xasprintf("%s/%s", f->dir, files[i]);
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		free(p);
	}
	/* The database holds only public parts. */
	unsigned char v[64];
	size_t len;
	assert_true(store_meta_get(f->s, "keys_signing_pub", v, sizeof v, &len));
	assert_int_equal(len, 32);
	assert_memory_equal(v, k->signing_pub, 32);
	assert_false(store_meta_get(f->s, "server_key", v, sizeof v, &len));
	/* The public key file is what an auditor reads. */
	unsigned char pub[32];
	char *pp = xasprintf("%s/signing.pub", f->dir);
	assert_int_equal(keys_read_pubkey(pp, pub, &e), H_OK);
	free(pp);
	assert_memory_equal(pub, k->signing_pub, 32);
	/* Opening again gives the same keys. */
	struct keyring *k2 = open_keys(f, KEYS_CREATE);
	assert_memory_equal(k->feed, k2->feed, 32);
	assert_memory_equal(k->acks[0].key, k2->acks[0].key, 32);
	assert_memory_equal(k->signing, k2->signing, 32);
	assert_memory_not_equal(k->feed, k->acks[0].key, 32);
	keys_close(k);
	keys_close(k2);
}

static void refuses_missing_or_foreign_keys(void **state)
{
	struct fx *f = *state;
	keys_close(open_keys(f, KEYS_CREATE));
	struct herald_err e;
	struct keyring *k;
	/* The directory lost: not replaced by new keys. */
	char *moved = xasprintf("%s.moved", f->dir);
	assert_int_equal(rename(f->dir, moved), 0);
	assert_int_equal(keys_open(f->dir, f->s, KEYS_CREATE, &k, &e), H_ERUNTIME);
	assert_contains(e.msg, "restore the key directory");
	/* Another database's keys are not taken for this one's. */
	struct store *other;
	char *odb = xasprintf("%s.other", f->db);
	struct store_open_opts o = { .create = true };
	assert_int_equal(store_open(odb, &o, &other, &e), H_OK);
	assert_int_equal(keys_open(f->dir, other, KEYS_CREATE, &k, &e), H_OK);
	keys_close(k);
	store_close(other);
	assert_int_equal(keys_open(f->dir, f->s, KEYS_CREATE, &k, &e), H_ERUNTIME);
	assert_contains(e.msg, "are not those of");
	rm_rf(f->dir);
	assert_int_equal(rename(moved, f->dir), 0);
	keys_close(open_keys(f, KEYS_USE));
	rm_rf(odb);
	free(odb);
	free(moved);
}

static void rotations(void **state)
{
	struct fx *f = *state;
	struct keyring *k = open_keys(f, KEYS_CREATE);
	struct herald_err e;
	unsigned char raw[16] = { 1, 2, 3 };
	char ackid[TOKEN_ACKID_LEN + 1], old_tok[TOKEN_ACK_LEN + 1], back[TOKEN_ACKID_LEN + 1];
	base64url(raw, 16, ackid);
	keys_ack_token(k, ackid, old_tok);
	char old_feed[TOKEN_FEED_LEN + 1];
	token_feed(k->feed, "staff", old_feed);
	int64_t now = 1800000000;
	/* Acks: links already sent stay valid for the grace, then not. */
	assert_int_equal(keys_rotate(k, f->s, KEYS_ACKS, now, 86400, &e), H_OK);
	struct keyring *r = open_keys(f, KEYS_USE);
	assert_true(keys_ack_check(r, old_tok, now + 3600, back));
	assert_string_equal(back, ackid);
	assert_false(keys_ack_check(r, old_tok, now + 86401, back));
	char new_tok[TOKEN_ACK_LEN + 1];
	keys_ack_token(r, ackid, new_tok);
	assert_string_not_equal(new_tok, old_tok);
	assert_true(keys_ack_check(r, new_tok, now + 10 * 86400, back));
	keys_close(r);
	/* Feeds: the old URLs are revoked at once. */
	assert_int_equal(keys_rotate(k, f->s, KEYS_FEEDS, now, 0, &e), H_OK);
	r = open_keys(f, KEYS_USE);
	assert_false(token_feed_check(r->feed, "staff", old_feed));
	keys_close(r);
	/* Signing: a new key, the old public key kept beside it. */
	unsigned char old_pub[32];
	memcpy(old_pub, k->signing_pub, 32);
	char *old_name = xasprintf("%s/signing-%s.pub", f->dir, k->signing_id);
	assert_int_equal(keys_rotate(k, f->s, KEYS_SIGNING, now, 0, &e), H_OK);
	unsigned char kept[32];
	assert_int_equal(keys_read_pubkey(old_name, kept, &e), H_OK);
	assert_memory_equal(kept, old_pub, 32);
	assert_memory_not_equal(k->signing_pub, old_pub, 32);
	free(old_name);
	/* Every rotation is evidence; the keys still open for this database. */
	r = open_keys(f, KEYS_USE);
	assert_memory_equal(r->signing_pub, k->signing_pub, 32);
	keys_close(r);
	keys_close(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(made_once_private_and_stable, setup, teardown),
		cmocka_unit_test_setup_teardown(refuses_missing_or_foreign_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(rotations, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
