/* The registry of authorized local clients (nons/peers.h): consumed on
 * use, expiring, bounded with the oldest dropped, safe across threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>

#include "nons/peers.h"

static void test_consumed_once(void **state)
{
	(void)state;
	srt_peer_registry *r = srt_peers_new(0, 0);
	assert_non_null(r);
	assert_false(srt_peers_take_at(r, 40000, 1000));
	srt_peers_add_at(r, 40000, 1000);
	srt_peers_add_at(r, 40001, 1000);
	assert_int_equal(srt_peers_count_at(r, 1000), 2);
	assert_false(srt_peers_take_at(r, 40002, 1001));
	assert_true(srt_peers_take_at(r, 40000, 1001));
	assert_false(srt_peers_take_at(r, 40000, 1002));
	assert_true(srt_peers_take_at(r, 40001, 1002));
	assert_int_equal(srt_peers_count_at(r, 1002), 0);
	/* registered twice (a connect retried): two accepts */
	srt_peers_add_at(r, 5, 2000);
	srt_peers_add_at(r, 5, 2000);
	assert_true(srt_peers_take_at(r, 5, 2000));
	assert_true(srt_peers_take_at(r, 5, 2000));
	assert_false(srt_peers_take_at(r, 5, 2000));
	/* port 0 is nobody's */
	srt_peers_add_at(r, 0, 2000);
	assert_int_equal(srt_peers_count_at(r, 2000), 0);
	assert_false(srt_peers_take_at(r, 0, 2000));
	srt_peers_free(r);
}

static void test_expires(void **state)
{
	(void)state;
	srt_peer_registry *r = srt_peers_new(0, 0);
	srt_peers_add_at(r, 1234, 10000);
	assert_int_equal(srt_peers_count_at(r, 10000 + SRT_PEERS_DEFAULT_TTL_MS - 1), 1);
	assert_false(srt_peers_take_at(r, 1234, 10000 + SRT_PEERS_DEFAULT_TTL_MS));
	srt_peers_add_at(r, 1234, 50000);
	assert_true(srt_peers_take_at(r, 1234, 50000 + SRT_PEERS_DEFAULT_TTL_MS - 1));
	srt_peers_free(r);
	r = srt_peers_new(0, 100);
	srt_peers_add_at(r, 7, 0);
	assert_false(srt_peers_take_at(r, 7, 100));
	srt_peers_free(r);
}

static void test_bounded_oldest_dropped(void **state)
{
	(void)state;
	srt_peer_registry *r = srt_peers_new(4, 0);
	for (uint16_t p = 1; p <= 6; p++)
		srt_peers_add_at(r, p, 0);
	assert_int_equal(srt_peers_count_at(r, 0), 4);
	assert_false(srt_peers_take_at(r, 1, 0));
	assert_false(srt_peers_take_at(r, 2, 0));
	for (uint16_t p = 3; p <= 6; p++)
		assert_true(srt_peers_take_at(r, p, 0));
	srt_peers_free(r);
	/* the default bound */
	r = srt_peers_new(0, 0);
	for (unsigned i = 0; i < SRT_PEERS_DEFAULT_CAPACITY + 10; i++)
		srt_peers_add_at(r, (uint16_t)(1 + i % 60000), 0);
	assert_int_equal(srt_peers_count_at(r, 0), SRT_PEERS_DEFAULT_CAPACITY);
	assert_false(srt_peers_take_at(r, 1, 0));
	assert_true(srt_peers_take_at(r, (uint16_t)(SRT_PEERS_DEFAULT_CAPACITY + 10), 0));
	srt_peers_free(r);
}

static void *adder(void *arg)
{
	srt_peer_registry *r = arg;
	for (unsigned i = 0; i < 5000; i++)
		srt_peers_authorize(r, (uint16_t)(1 + i % 1000));
	return NULL;
}

static void *taker(void *arg)
{
	srt_peer_registry *r = arg;
	size_t n = 0;
	for (unsigned i = 0; i < 5000; i++)
		n += srt_peers_take(r, (uint16_t)(1 + i % 1000));
	return (void *)n;
}

static void test_threads(void **state)
{
	(void)state;
	srt_peer_registry *r = srt_peers_new(12000, 0);
	pthread_t a[2], t[2];
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_create(&a[i], NULL, adder, r), 0);
		assert_int_equal(pthread_create(&t[i], NULL, taker, r), 0);
	}
	size_t taken = 0;
	for (int i = 0; i < 2; i++) {
		void *n;
		pthread_join(a[i], NULL);
		pthread_join(t[i], &n);
		taken += (size_t)n;
	}
	/* every registration is taken at most once */
	assert_int_equal(taken + srt_peers_count(r), 10000);
	srt_peers_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_consumed_once),
		cmocka_unit_test(test_expires),
		cmocka_unit_test(test_bounded_oldest_dropped),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests_name("peers", tests, NULL, NULL);
}
