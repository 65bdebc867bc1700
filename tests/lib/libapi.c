/* libapi - drives libsrt through its public header the way an embedding
 * program would: load settings, resolve, spawn with our own stdio pipes,
 * receive violation events, update the network policy while the command
 * runs (twice), wait, destroy.
 *   usage: libapi PORT   (an HTTP origin listening on the host's 127.0.0.1:PORT)
 * Exits 0 when every step behaved as specified; prints what failed. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "srt.h"

static int violations;

static void on_violation(const srt_violation *v, void *data)
{
	(void)data;
	if (strcmp(v->kind, "network") == 0 && strcmp(v->host, "127.0.0.1") == 0)
		violations++;
}

static int fail(const char *what, const srt_error *err)
{
	fprintf(stderr, "libapi: %s%s%s\n", what, err ? ": " : "", err ? err->message : "");
	return 1;
}

/* Read one line from fd within 20 s. */
static int read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	while (n + 1 < cap) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 20000) <= 0)
			return -1;
		if (read(fd, buf + n, 1) != 1)
			return -1;
		if (buf[n++] == '\n')
			break;
	}
	buf[n] = '\0';
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	const char *port = argv[1];
	char deny_all[] = "{\"network\": {\"allowedDomains\": []}}";
	char allow[256];
	snprintf(allow, sizeof allow, "{\"network\": {\"allowedDomains\": [\"127.0.0.1:%s\"]}}", port);

	srt_error err = {0};
	srt_config *cfg = srt_config_parse(deny_all, strlen(deny_all), "deny.json", &err);
	srt_config *cfg2 = srt_config_parse(allow, strlen(allow), "allow.json", &err);
	if (!cfg || !cfg2)
		return fail("parse", &err);
	srt_policy *pol = srt_policy_resolve(cfg, NULL, &err);
	if (!pol)
		return fail("resolve", &err);

	int in[2], out[2];
	if (pipe(in) < 0 || pipe(out) < 0)
		return fail("pipe", NULL);
	char url[128];
	snprintf(url, sizeof url, "http://127.0.0.1:%s/", port);
	char script[1024];
#define CURL "curl -s -o /dev/null -w '%%{http_code}\\n' --noproxy '' -x http://127.0.0.1:3128 %s; "
	/* refused; allowed after an update (twice: the second request may
	 * reuse the first one's upstream connection); after another update,
	 * once more (on a fresh connection: test_library.py counts them) */
	snprintf(script, sizeof script, CURL "read go; " CURL CURL "read go; " CURL, url, url, url, url);
	char *args[] = {"/bin/sh", "-c", script, NULL};
	srt_spawn_options o = {.argv = args, .stdio = {in[0], out[1], -1},
			       .on_violation = on_violation};
	srt_sandbox *sb = srt_sandbox_spawn(pol, &o, &err);
	if (!sb)
		return fail("spawn", &err);
	close(in[0]);
	close(out[1]);

	char line[64];
	if (read_line(out[0], line, sizeof line) < 0 || strcmp(line, "403\n") != 0)
		return fail("first request was not refused with 403", NULL);
	if (srt_sandbox_update_network(sb, cfg2, &err) < 0)
		return fail("update_network", &err);
	if (write(in[1], "go\n", 3) != 3)
		return fail("write", NULL);
	for (int i = 0; i < 2; i++)
		if (read_line(out[0], line, sizeof line) < 0 || strcmp(line, "200\n") != 0)
			return fail("request after the policy update did not succeed", NULL);
	/* the same rules again: connections dialed before are not reused */
	if (srt_sandbox_update_network(sb, cfg2, &err) < 0)
		return fail("second update_network", &err);
	if (write(in[1], "go\n", 3) != 3)
		return fail("write", NULL);
	if (read_line(out[0], line, sizeof line) < 0 || strcmp(line, "200\n") != 0)
		return fail("request after the second policy update did not succeed", NULL);

	srt_exit ex;
	if (srt_sandbox_wait(sb, &ex, &err) < 0)
		return fail("wait", &err);
	if (ex.signaled || ex.code != 0)
		return fail("command did not exit 0", NULL);
	srt_sandbox_destroy(sb);
	if (violations != 1)
		return fail("expected exactly one violation event", NULL);
	srt_policy_free(pol);
	srt_config_free(cfg);
	srt_config_free(cfg2);
	printf("libapi: ok\n");
	return 0;
}
