/* test_httpd_guard.c - per-client limits: the trusted proxy's last hop,
 * counts per address, and the penalty window of wrong tokens. */
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "herald/httpd_guard.h"

static struct httpd_guard *guard(const char *proxy, unsigned limit)
{
	struct httpd_guard_config c = { .per_ip_limit = limit, .trust_proxy = proxy,
					.penalty_ms = 1000, .penalty_max_ms = 8000 };
	struct httpd_guard *g = NULL;
	struct herald_err err;
	assert_int_equal(httpd_guard_new(&c, &g, &err), H_OK);
	return g;
}

static void proxy_and_client(void **state)
{
	(void)state;
	struct herald_err err;
	struct httpd_guard *g = NULL;
	struct httpd_guard_config bad = { .trust_proxy = "proxy.example" };
	assert_int_equal(httpd_guard_new(&bad, &g, &err), H_EUSAGE);
	assert_non_null(strstr(err.msg, "--trust-proxy"));
	g = guard("::ffff:127.0.0.1", 4);   /* stored canonically */
	char c[HTTPD_ADDR_LEN];
	assert_true(httpd_guard_is_proxy(g, "127.0.0.1"));
	assert_false(httpd_guard_is_proxy(g, "127.0.0.2"));
	/* The last hop is the client; earlier ones are what it claimed. */
	assert_true(httpd_guard_client(g, "127.0.0.1", "10.0.0.1, 192.0.2.7", c));
	assert_string_equal(c, "192.0.2.7");
	assert_true(httpd_guard_client(g, "127.0.0.1", " 2001:DB8::0:1 ", c));
	assert_string_equal(c, "2001:db8::1");
	/* Not from the proxy: the header is ignored. */
	assert_false(httpd_guard_client(g, "127.0.0.2", "192.0.2.7", c));
	assert_string_equal(c, "127.0.0.2");
	/* A last hop that is no address: the proxy itself. */
	assert_false(httpd_guard_client(g, "127.0.0.1", "192.0.2.7, unknown", c));
	assert_string_equal(c, "127.0.0.1");
	assert_false(httpd_guard_client(g, "127.0.0.1", "192.0.2.7 10.0.0.1", c));
	assert_false(httpd_guard_client(g, "127.0.0.1", "", c));
	assert_false(httpd_guard_client(g, "127.0.0.1", NULL, c));
	httpd_guard_free(g);
	/* Without a proxy nobody is trusted. */
	g = guard(NULL, 4);
	assert_false(httpd_guard_is_proxy(g, "127.0.0.1"));
	assert_false(httpd_guard_client(g, "127.0.0.1", "192.0.2.7", c));
	httpd_guard_free(g);
}

static void addresses(void **state)
{
	(void)state;
	char out[HTTPD_ADDR_LEN];
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
	inet_pton(AF_INET6, "::ffff:192.0.2.9", &s6.sin6_addr);
	httpd_guard_addr((const struct sockaddr *)&s6, out);
	assert_string_equal(out, "192.0.2.9");
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	inet_pton(AF_INET, "198.51.100.3", &s4.sin_addr);
	httpd_guard_addr((const struct sockaddr *)&s4, out);
	assert_string_equal(out, "198.51.100.3");
	httpd_guard_addr(NULL, out);
	assert_string_equal(out, "?");
}

static void counts(void **state)
{
	(void)state;
	struct httpd_guard *g = guard(NULL, 2);
	assert_true(httpd_guard_take(g, "192.0.2.1", true));
	assert_true(httpd_guard_take(g, "192.0.2.1", true));
	assert_false(httpd_guard_take(g, "192.0.2.1", true));
	assert_true(httpd_guard_take(g, "192.0.2.2", true));   /* per address */
	assert_int_equal(httpd_guard_held(g, "192.0.2.1"), 2);
	assert_true(httpd_guard_take(g, "192.0.2.1", false));   /* unchecked */
	assert_int_equal(httpd_guard_held(g, "192.0.2.1"), 3);
	for (int i = 0; i < 3; i++)
		httpd_guard_put(g, "192.0.2.1");
	httpd_guard_put(g, "192.0.2.1");                         /* extra: harmless */
	assert_int_equal(httpd_guard_held(g, "192.0.2.1"), 0);
	assert_true(httpd_guard_take(g, "192.0.2.1", true));
	/* Entries that hold nothing go at once. */
	httpd_guard_put(g, "192.0.2.1");
	httpd_guard_put(g, "192.0.2.2");
	assert_int_equal(httpd_guard_size(g), 0);
	httpd_guard_free(g);
}

static void penalties(void **state)
{
	(void)state;
	struct httpd_guard *g = guard(NULL, 2);
	int64_t t = 1000000;
	assert_int_equal(httpd_guard_penalty(g, "192.0.2.1", t), 0);
	httpd_guard_failed(g, "192.0.2.1", t);
	assert_int_equal(httpd_guard_penalty(g, "192.0.2.1", t), 1000);
	assert_int_equal(httpd_guard_penalty(g, "192.0.2.1", t + 400), 600);
	assert_int_equal(httpd_guard_penalty(g, "192.0.2.1", t + 1000), 0);
	assert_int_equal(httpd_guard_penalty(g, "192.0.2.2", t), 0);   /* per address */
	/* Each wrong guess doubles the window, up to the cap. */
	httpd_guard_failed(g, "192.0.2.1", t + 1000);
	assert_int_equal(httpd_guard_penalty(g, "192.0.2.1", t + 1000), 2000);
	httpd_guard_failed(g, "192.0.2.1", t + 3000);
	assert_int_equal(httpd_guard_penalty(g, "192.0.2.1", t + 3000), 4000);
	httpd_guard_failed(g, "192.0.2.1", t + 7000);
	httpd_guard_failed(g, "192.0.2.1", t + 15000);
	assert_int_equal(httpd_guard_penalty(g, "192.0.2.1", t + 15000), 8000);
	/* The sweep keeps a recent offender, forgets an old one. */
	httpd_guard_sweep(g, t + 20000);
	assert_int_equal(httpd_guard_size(g), 1);
	httpd_guard_sweep(g, t + 15000 + 11 * 60 * 1000);
	assert_int_equal(httpd_guard_size(g), 0);
	/* A right token starts the count again. */
	httpd_guard_failed(g, "192.0.2.3", t);
	httpd_guard_failed(g, "192.0.2.3", t + 1000);
	httpd_guard_succeeded(g, "192.0.2.3");
	assert_int_equal(httpd_guard_penalty(g, "192.0.2.3", t + 1000), 0);
	httpd_guard_failed(g, "192.0.2.3", t + 2000);
	assert_int_equal(httpd_guard_penalty(g, "192.0.2.3", t + 2000), 1000);
	httpd_guard_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(proxy_and_client),
		cmocka_unit_test(addresses),
		cmocka_unit_test(counts),
		cmocka_unit_test(penalties),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
