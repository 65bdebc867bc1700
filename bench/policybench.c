/* policybench.c - cost of one domain-policy decision with a large
 * allowedDomains list, for bench/network.py.  Linked against
 * build/libsrt_static.a (compiled into the scratch directory):
 *
 *   cc -O2 -Iinclude -Isrc/lib bench/policybench.c build/libsrt_static.a \
 *      $(pkg-config --libs libseccomp jansson libuv) -o policybench
 *
 *   policybench gen N FILE
 *       Write a complete settings file (accepted by the reference too) with
 *       N allowedDomains, 10 deniedDomains and empty filesystem lists.
 *       Entry i (i = 0..N-1), with s = i % 1000:
 *         i % 8 == 0   "*.w<i>.corp<s>.test"   wildcard
 *         i % 8 == 1   "h<i>.svc<s>.test:443"  exact, port-restricted
 *         otherwise    "h<i>.svc<s>.test"      exact
 *       deniedDomains: "*.blocked<k>.test", k = 0..9.
 *
 *   policybench bench FILE N [LOOKUPS] [REPS]
 *       Load FILE with srt_config_parse, build the index with
 *       srt_netpolicy_new, then time srt_netpolicy_check over a fixed mix of
 *       8192 queries built from the same scheme (about half hits: exact,
 *       wildcard at depth 1-3, port-restricted on its port, upper case
 *       with a trailing dot; half misses: unknown names, a wildcard's apex,
 *       a port-restricted entry on another port, a denied subdomain).
 *       Every verdict is checked against the expected one.  Prints one JSON
 *       object (times in ns per lookup for each repetition).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "netpolicy.h"
#include "srt.h"

#define NQ 8192

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int gen(long n, const char *file)
{
	FILE *f = fopen(file, "w");
	if (!f) {
		perror(file);
		return 1;
	}
	fputs("{\n  \"network\": {\n    \"allowedDomains\": [\n", f);
	for (long i = 0; i < n; i++) {
		long s = i % 1000;
		if (i % 8 == 0)
			fprintf(f, "      \"*.w%ld.corp%ld.test\"", i, s);
		else if (i % 8 == 1)
			fprintf(f, "      \"h%ld.svc%ld.test:443\"", i, s);
		else
			fprintf(f, "      \"h%ld.svc%ld.test\"", i, s);
		fputs(i + 1 < n ? ",\n" : "\n", f);
	}
	fputs("    ],\n    \"deniedDomains\": [", f);
	for (int k = 0; k < 10; k++)
		fprintf(f, "%s\"*.blocked%d.test\"", k ? ", " : "", k);
	fputs("]\n  },\n  \"filesystem\": {\"denyRead\": [], \"allowWrite\": [], \"denyWrite\": []}\n}\n", f);
	return fclose(f) ? 1 : 0;
}

typedef struct query {
	char host[96];
	int port;
	int expect; /* 1 allowed, 0 denied */
	const char *kind;
} query;

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static long rnd(long n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (long)(rng % (uint64_t)n);
}

/* An index i whose entry kind is k (0 wildcard, 1 port-restricted, 2 exact). */
static long pick(long n, int k)
{
	for (;;) {
		long i = rnd(n);
		int kind = i % 8 == 0 ? 0 : i % 8 == 1 ? 1 : 2;
		if (kind == k)
			return i;
	}
}

static void make_query(query *q, long n, int which)
{
	long i;
	switch (which) {
	case 0: /* exact hit */
		i = pick(n, 2);
		snprintf(q->host, sizeof q->host, "h%ld.svc%ld.test", i, i % 1000);
		q->port = 443, q->expect = 1, q->kind = "exact hit";
		break;
	case 1: /* wildcard hit, depth 1..3 */
		i = pick(n, 0);
		snprintf(q->host, sizeof q->host, "%sapi.w%ld.corp%ld.test",
			 (const char *[]){"", "v2.", "a.b."}[rnd(3)], i, i % 1000);
		q->port = 443, q->expect = 1, q->kind = "wildcard hit";
		break;
	case 2: /* port-restricted, right port */
		i = pick(n, 1);
		snprintf(q->host, sizeof q->host, "h%ld.svc%ld.test", i, i % 1000);
		q->port = 443, q->expect = 1, q->kind = "port hit";
		break;
	case 3: /* upper case and a trailing dot */
		i = pick(n, 2);
		snprintf(q->host, sizeof q->host, "H%ld.SVC%ld.Test.", i, i % 1000);
		q->port = 80, q->expect = 1, q->kind = "case/dot hit";
		break;
	case 4: /* unknown name */
		snprintf(q->host, sizeof q->host, "x%ld.unknown%ld.example", rnd(1000000000), rnd(1000));
		q->port = 443, q->expect = 0, q->kind = "unknown miss";
		break;
	case 5: /* apex of a wildcard entry */
		i = pick(n, 0);
		snprintf(q->host, sizeof q->host, "w%ld.corp%ld.test", i, i % 1000);
		q->port = 443, q->expect = 0, q->kind = "apex miss";
		break;
	case 6: /* port-restricted, other port */
		i = pick(n, 1);
		snprintf(q->host, sizeof q->host, "h%ld.svc%ld.test", i, i % 1000);
		q->port = 80, q->expect = 0, q->kind = "port miss";
		break;
	default: /* denied */
		snprintf(q->host, sizeof q->host, "x.y.blocked%ld.test", rnd(10));
		q->port = 443, q->expect = 0, q->kind = "denied";
		break;
	}
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int bench(const char *file, long n, long lookups, int reps)
{
	FILE *f = fopen(file, "rb");
	if (!f) {
		perror(file);
		return 1;
	}
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *text = malloc((size_t)len + 1);
	if (!text || fread(text, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "policybench: cannot read %s\n", file);
		return 1;
	}
	fclose(f);
	srt_error err = {0};
	double t0 = now_ns();
	srt_config *cfg = srt_config_parse(text, (size_t)len, file, &err);
	double t1 = now_ns();
	if (!cfg) {
		fprintf(stderr, "policybench: srt_config_parse: %s\n", err.message);
		return 1;
	}
	srt_netpolicy *np = srt_netpolicy_new(cfg, &err);
	double t2 = now_ns();
	if (!np) {
		fprintf(stderr, "policybench: srt_netpolicy_new: %s\n", err.message);
		return 1;
	}
	query *q = calloc(NQ, sizeof *q);
	if (!q)
		return 1;
	for (int j = 0; j < NQ; j++)
		make_query(&q[j], n, j % 8);
	/* shuffle so that the branch predictor sees a mix */
	for (int j = NQ - 1; j > 0; j--) {
		long k = rnd(j + 1);
		query t = q[j];
		q[j] = q[k];
		q[k] = t;
	}
	long wrong = 0, hits = 0;
	const char *wrong_example = NULL;
	for (int j = 0; j < NQ; j++) {
		srt_net_verdict v;
		srt_netpolicy_check(np, q[j].host, q[j].port, &v);
		hits += v.allowed;
		if ((int)v.allowed != q[j].expect) {
			wrong++;
			if (!wrong_example)
				wrong_example = q[j].kind;
		}
	}
	double *ns = calloc((size_t)reps, sizeof *ns);
	volatile long sink = 0;
	for (int r = 0; r < reps; r++) {
		long allowed = 0;
		double a = now_ns();
		for (long k = 0; k < lookups; k++) {
			srt_net_verdict v;
			const query *qq = &q[k & (NQ - 1)];
			srt_netpolicy_check(np, qq->host, qq->port, &v);
			allowed += v.allowed;
		}
		double b = now_ns();
		sink += allowed;
		ns[r] = (b - a) / (double)lookups;
	}
	double *sorted = calloc((size_t)reps, sizeof *sorted);
	memcpy(sorted, ns, (size_t)reps * sizeof *ns);
	qsort(sorted, (size_t)reps, sizeof *sorted, cmpd);
	double median = reps % 2 ? sorted[reps / 2] : (sorted[reps / 2 - 1] + sorted[reps / 2]) / 2;
	printf("{\"entries\": %zu, \"file_bytes\": %ld, \"parse_ms\": %.3f, \"index_ms\": %.3f, "
	       "\"queries\": %d, \"hit_fraction\": %.3f, \"wrong_verdicts\": %ld, "
	       "\"wrong_example\": %s%s%s, \"lookups_per_rep\": %ld, \"ns_per_lookup\": [",
	       srt_netpolicy_size(np), len, (t1 - t0) / 1e6, (t2 - t1) / 1e6, NQ,
	       (double)hits / NQ, wrong, wrong_example ? "\"" : "",
	       wrong_example ? wrong_example : "null", wrong_example ? "\"" : "", lookups);
	for (int r = 0; r < reps; r++)
		printf("%s%.2f", r ? ", " : "", ns[r]);
	printf("], \"min_ns\": %.2f, \"median_ns\": %.2f}\n", sorted[0], median);
	srt_netpolicy_free(np);
	srt_config_free(cfg);
	free(text);
	free(q);
	free(ns);
	free(sorted);
	return sink < 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "gen"))
		return gen(atol(argv[2]), argv[3]);
	if (argc >= 4 && !strcmp(argv[1], "bench")) {
		long lookups = argc > 4 ? atol(argv[4]) : 2000000;
		int reps = argc > 5 ? atoi(argv[5]) : 7;
		if (atol(argv[3]) < 8 || lookups < 1 || reps < 1 || reps > 1000) {
			fprintf(stderr, "policybench: N >= 8, LOOKUPS >= 1, 1 <= REPS <= 1000\n");
			return 2;
		}
		return bench(argv[2], atol(argv[3]), lookups, reps);
	}
	fprintf(stderr, "usage: policybench gen N FILE | policybench bench FILE N [LOOKUPS] [REPS]\n");
	return 2;
}
