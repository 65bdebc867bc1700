/* The embedded seccomp programs are exactly what libseccomp compiles from
 * the rules now (the build-time generator cannot drift from filter.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "filter.h"
#include "nons/metagate.h"

static void test_embedded_matches_rules(void **state)
{
	(void)state;
	for (int v = 0; v < SRT_SECCOMP_PROGRAMS; v++) {
		srt_seccomp_options o = srt_seccomp_variant_options(v);
		srt_bpf now;
		srt_error err = {0};
		assert_int_equal(srt_seccomp_compile(&o, &now, &err), 0);
		const srt_bpf *emb = srt_seccomp_program(&o);
		assert_int_equal(emb->len, now.len);
		assert_memory_equal(emb->insns, now.insns, now.len * sizeof *now.insns);
		srt_bpf_free(&now);
	}
}

static void test_options_change_the_program(void **state)
{
	(void)state;
	srt_seccomp_options a = {0}, b = {.allow_unix_sockets = true}, c = {.allow_nested_userns = true};
	assert_true(srt_seccomp_program(&a)->len > srt_seccomp_program(&b)->len);
	assert_true(srt_seccomp_program(&a)->len > srt_seccomp_program(&c)->len);
	/* allowUnixSockets: a different program; allowAll wins over it */
	srt_seccomp_options m = {.mediate_unix = true}, bm = {.allow_unix_sockets = true, .mediate_unix = true};
	assert_ptr_not_equal(srt_seccomp_program(&a), srt_seccomp_program(&m));
	assert_ptr_equal(srt_seccomp_program(&b), srt_seccomp_program(&bm));
	/* the no-namespace variant has rules of its own, on every combination */
	for (int v = 0; v < 16; v++) {
		srt_seccomp_options o = srt_seccomp_variant_options(v), n = o;
		n.no_namespaces = true;
		assert_int_equal(srt_seccomp_variant(&n), srt_seccomp_variant(&o) | 16);
		assert_true(srt_seccomp_program(&n)->len > srt_seccomp_program(&o)->len);
	}
}

/* Calls newer than libseccomp are resolved by their (unified) numbers. */
static void test_resolve(void **state)
{
	(void)state;
	assert_int_equal(srt_seccomp_resolve("fchmodat2"), 452);
	assert_int_equal(srt_seccomp_resolve("setxattrat"), 463);
	assert_int_equal(srt_seccomp_resolve("removexattrat"), 466);
	assert_true(srt_seccomp_resolve("chmod") >= 0);
	assert_int_equal(srt_seccomp_resolve("no_such_call"), -1);
	for (size_t i = 0; srt_seccomp_metadata_names[i]; i++) {
		int nr = srt_seccomp_resolve(srt_seccomp_metadata_names[i]);
		if (nr >= 0) {
			assert_true(srt_seccomp_is_metadata(nr));
			/* every call the filter sends, the gate handles */
			assert_true(srt_metagate_handles(nr));
		}
	}
	/* and every call the gate handles, the filter sends */
	for (size_t i = 0; i < srt_metagate_syscall_count(); i++)
		assert_true(srt_seccomp_is_metadata((int)srt_metagate_syscall_nr(i)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_embedded_matches_rules),
		cmocka_unit_test(test_options_change_the_program),
		cmocka_unit_test(test_resolve),
	};
	return cmocka_run_group_tests_name("filter", tests, NULL, NULL);
}
