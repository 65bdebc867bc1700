/* test_config.c - settings loading and validation (SPEC §2, §3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

static const char spec_example[] =
	"{\n"
	"  \"network\": {\n"
	"    \"allowedDomains\": [\"github.com\", \"*.github.com\", "
	"\"api.example.com:443\", \"[::1]:8080\"],\n"
	"    \"deniedDomains\": [\"evil.example.com\", \"*:22\"],\n"
	"    \"deniedDomainReasons\": {\"*:22\": \"SSH is blocked; use an "
	"https:// remote\"},\n"
	"    \"deniedResolvedAddresses\": [\"10.0.0.0/8\"],\n"
	"    \"allowUnixSockets\": [\"/run/user/1000/ssh-agent.sock\"],\n"
	"    \"allowAllUnixSockets\": false,\n"
	"    \"allowLocalBinding\": false,\n"
	"    \"httpProxyPort\": 8080,\n"
	"    \"socksProxyPort\": 8081\n"
	"  },\n"
	"  \"filesystem\": {\n"
	"    \"denyRead\": [\"~/.ssh\"],\n"
	"    \"allowRead\": [],\n"
	"    \"allowWrite\": [\".\", \"/tmp/build\"],\n"
	"    \"denyWrite\": [\".env\"]\n"
	"  },\n"
	"  \"ignoreViolations\": {\"*\": [\"/usr/bin\"], \"npm\": "
	"[\"/private/tmp\"]},\n"
	"  \"enableWeakerNestedSandbox\": false,\n"
	"  \"allowNestedUserNamespaces\": false,\n"
	"  \"mandatoryDenySearchDepth\": 3\n"
	"}\n";

static srt_config *ok_at(const char *json, int line)
{
	srt_error e = {0};
	srt_config *c = srt_config_parse(json, strlen(json), "t.json", &e);
	if (!c)
		fail_msg("line %d: unexpected error: %s\n%s", line, e.message,
			 json);
	assert_int_equal(e.code, SRT_OK);
	return c;
}
#define OK(json) ok_at((json), __LINE__)

/* Parse must fail with SRT_E_CONFIG and a message containing every
 * substring given. */
static void err_at(const char *json, const char *const *subs, int line)
{
	srt_error e = {0};
	srt_config *c = srt_config_parse(json, strlen(json), "t.json", &e);
	if (c) {
		srt_config_free(c);
		fail_msg("line %d: accepted, expected \"%s\":\n%s", line,
			 subs[0], json);
	}
	if (e.code != SRT_E_CONFIG)
		fail_msg("line %d: code %d, message %s", line, (int)e.code,
			 e.message);
	for (size_t i = 0; subs[i]; i++)
		if (!strstr(e.message, subs[i]))
			fail_msg("line %d: message \"%s\" lacks \"%s\"", line,
				 e.message, subs[i]);
	/* messages never carry control characters */
	for (const char *p = e.message; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			fail_msg("line %d: control character in \"%s\"", line,
				 e.message);
}
#define ERR(json, ...) \
	err_at((json), (const char *const[]){__VA_ARGS__, NULL}, __LINE__)

/* The full message, for exact comparisons. */
static const char *errmsg(const char *json, srt_error *e)
{
	memset(e, 0, sizeof *e);
	srt_config *c = srt_config_parse(json, strlen(json), "t.json", e);
	if (c) {
		srt_config_free(c);
		fail_msg("accepted: %s", json);
	}
	return e->message;
}

/* ---- defaults and the full example -------------------------------- */

static void check_defaults(const srt_config *c)
{
	assert_string_equal(srt_config_source(c), "<defaults>");
	assert_int_equal(c->mandatory_deny_search_depth, 3);
	assert_int_equal(c->allowed_domains.n, 0);
	assert_int_equal(c->denied_domains.n, 0);
	assert_int_equal(c->n_denied_reasons, 0);
	assert_int_equal(c->n_denied_resolved, 0);
	assert_int_equal(c->allow_unix_sockets.n, 0);
	assert_false(c->allow_all_unix_sockets);
	assert_false(c->allow_local_binding);
	assert_int_equal(c->http_proxy_port, 0);
	assert_int_equal(c->socks_proxy_port, 0);
	assert_int_equal(c->deny_read.n, 0);
	assert_int_equal(c->allow_read.n, 0);
	assert_int_equal(c->allow_write.n, 0);
	assert_int_equal(c->deny_write.n, 0);
	assert_int_equal(c->n_ignore_violations, 0);
	assert_false(c->enable_weaker_nested_sandbox);
	assert_false(c->allow_nested_user_namespaces);
}

static void test_defaults(void **state)
{
	(void)state;
	srt_error e = {0};
	srt_config *c = srt_config_defaults(&e);
	assert_non_null(c);
	check_defaults(c);
	srt_config_free(c);
	srt_config_free(NULL);
	assert_null(srt_config_source(NULL));
}

static void test_empty_object(void **state)
{
	(void)state;
	srt_config *c = OK("{}");
	assert_string_equal(srt_config_source(c), "t.json");
	assert_int_equal(c->mandatory_deny_search_depth, 3);
	assert_int_equal(c->allowed_domains.n, 0);
	srt_config_free(c);

	c = OK("{\"network\": {}, \"filesystem\": {}, \"ignoreViolations\": {}}");
	assert_int_equal(c->n_ignore_violations, 0);
	srt_config_free(c);
}

static void test_spec_example(void **state)
{
	(void)state;
	srt_config *c = OK(spec_example);

	assert_int_equal(c->allowed_domains.n, 4);
	assert_int_equal(c->allowed_domains.v[0].kind, SRT_DOMAIN_EXACT);
	assert_string_equal(c->allowed_domains.v[0].host, "github.com");
	assert_int_equal(c->allowed_domains.v[1].kind, SRT_DOMAIN_WILDCARD);
	assert_string_equal(c->allowed_domains.v[1].text, "*.github.com");
	assert_int_equal(c->allowed_domains.v[2].port, 443);
	assert_string_equal(c->allowed_domains.v[2].host, "api.example.com");
	assert_int_equal(c->allowed_domains.v[3].kind, SRT_DOMAIN_IPV6);
	assert_int_equal(c->allowed_domains.v[3].port, 8080);

	assert_int_equal(c->denied_domains.n, 2);
	assert_string_equal(c->denied_domains.v[0].text, "evil.example.com");
	assert_int_equal(c->denied_domains.v[1].kind, SRT_DOMAIN_ANY);
	assert_int_equal(c->denied_domains.v[1].port, 22);

	assert_int_equal(c->n_denied_reasons, 1);
	assert_string_equal(c->denied_reasons[0].entry, "*:22");
	assert_string_equal(c->denied_reasons[0].reason,
			    "SSH is blocked; use an https:// remote");

	assert_int_equal(c->n_denied_resolved, 1);
	assert_int_equal(c->denied_resolved[0].family, AF_INET);
	assert_int_equal(c->denied_resolved[0].prefix, 8);
	const unsigned char ten[4] = {10, 0, 0, 0};
	assert_memory_equal(c->denied_resolved[0].addr, ten, 4);

	assert_int_equal(c->allow_unix_sockets.n, 1);
	assert_string_equal(c->allow_unix_sockets.v[0],
			    "/run/user/1000/ssh-agent.sock");
	assert_false(c->allow_all_unix_sockets);
	assert_false(c->allow_local_binding);
	assert_int_equal(c->http_proxy_port, 8080);
	assert_int_equal(c->socks_proxy_port, 8081);

	assert_int_equal(c->deny_read.n, 1);
	assert_string_equal(c->deny_read.v[0].path, "~/.ssh");
	assert_false(c->deny_read.v[0].literal);
	assert_int_equal(c->allow_read.n, 0);
	assert_int_equal(c->allow_write.n, 2);
	assert_string_equal(c->allow_write.v[0].path, ".");
	assert_string_equal(c->allow_write.v[1].path, "/tmp/build");
	assert_int_equal(c->deny_write.n, 1);
	assert_string_equal(c->deny_write.v[0].path, ".env");

	assert_int_equal(c->n_ignore_violations, 2);
	assert_string_equal(c->ignore_violations[0].command, "*");
	assert_int_equal(c->ignore_violations[0].paths.n, 1);
	assert_string_equal(c->ignore_violations[0].paths.v[0], "/usr/bin");
	assert_string_equal(c->ignore_violations[1].command, "npm");
	assert_string_equal(c->ignore_violations[1].paths.v[0], "/private/tmp");

	assert_false(c->enable_weaker_nested_sandbox);
	assert_false(c->allow_nested_user_namespaces);
	assert_int_equal(c->mandatory_deny_search_depth, 3);
	srt_config_free(c);
}

static void test_booleans_true(void **state)
{
	(void)state;
	srt_config *c = OK("{\"enableWeakerNestedSandbox\": true,"
			   " \"allowNestedUserNamespaces\": true,"
			   " \"network\": {\"allowAllUnixSockets\": true,"
			   " \"allowLocalBinding\": true}}");
	assert_true(c->enable_weaker_nested_sandbox);
	assert_true(c->allow_nested_user_namespaces);
	assert_true(c->allow_all_unix_sockets);
	assert_true(c->allow_local_binding);
	srt_config_free(c);
}

/* ---- JSON syntax ------------------------------------------------- */

static void test_syntax_errors(void **state)
{
	(void)state;
	srt_error e;
	ERR("", "t.json: file is empty");
	assert_string_equal(errmsg("", &e), "t.json: file is empty");

	ERR("{\n  \"network\": {\n    \"allowLocalBinding\": tru\n  }\n}",
	    "t.json:3:", "invalid token");
	ERR("{} x", "t.json:1:", "end of file expected");
	ERR("{}\n{}", "t.json:2:", "end of file expected");
	ERR("{\"a\": 1,}", "t.json:1:");
	ERR("{\"network\": {}, \"network\": {}}", "t.json:1:",
	    "duplicate object key");
	ERR("   ", "t.json: file is empty (only white space)");
	ERR("{\"x\": \"\\u0000\"}", "t.json:1:", "\\u0000");
	ERR("{\"a\\u0000b\": 1}", "t.json:1:", "NUL");
	ERR("{\"x\": \"\xff\"}", "t.json:1:", "0xff");
	ERR("{\"x\": \"\x01\"}", "t.json:1:", "control character");

	/* not an object at the top */
	ERR("[]", "t.json: ", "must be a JSON object", "an array");
	ERR("\"x\"", "must be a JSON object", "a string");
	ERR("3", "must be a JSON object", "an integer");
	ERR("null", "must be a JSON object", "null");

	/* a byte order mark is skipped */
	srt_config *c = OK("\xef\xbb\xbf{\"mandatoryDenySearchDepth\": 4}");
	assert_int_equal(c->mandatory_deny_search_depth, 4);
	srt_config_free(c);
	ERR("\xef\xbb\xbf{\n,}", "t.json:2:");

	/* a name is optional */
	memset(&e, 0, sizeof e);
	assert_null(srt_config_parse("[", 1, NULL, &e));
	assert_int_equal(e.code, SRT_E_CONFIG);
	assert_non_null(strstr(e.message, "<settings>:1:"));

	/* NULL error pointer is fine */
	assert_null(srt_config_parse("[", 1, "x", NULL));
	memset(&e, 0, sizeof e);
	assert_null(srt_config_parse(NULL, 3, "x", &e));
	assert_int_equal(e.code, SRT_E_INVALID);
}

/* ---- unknown keys and types -------------------------------------- */

static void test_unknown_keys(void **state)
{
	(void)state;
	srt_error e;
	/* a typo: the closest known key is named */
	assert_string_equal(errmsg("{\"filesystem\": {\"alowWrite\": []}}", &e),
			    "t.json: filesystem.alowWrite: unknown key; did you mean \"allowWrite\"?");
	assert_int_equal(e.code, SRT_E_CONFIG);
	ERR("{\"netwrk\": {}}", "t.json: netwrk: unknown key; did you mean \"network\"?");
	ERR("{\"network\": {\"allowedDomain\": []}}",
	    "t.json: network.allowedDomain: unknown key; did you mean \"allowedDomains\"?");
	/* nothing close: the known keys are listed */
	ERR("{\"zzzzzzzz\": {}}", "t.json: zzzzzzzz: unknown key (known keys: network, filesystem",
	    "mandatoryDenySearchDepth");
	ERR("{\"filesystem\": {\"allowWrite\": [{\"path\": \"/x\", "
	    "\"glob\": true}]}}",
	    "t.json: filesystem.allowWrite[0].glob: unknown key",
	    "known keys: path, literal");
	/* escaped in the message */
	ERR("{\"a\\u001b[31mb\": 1}", "a\\x1b[31mb: unknown key");
	ERR("{\"a\\\"b\": 1}", "a\\\"b: unknown key");
	/* the first problem in document order is reported */
	ERR("{\"mandatoryDenySearchDepth\": 0, \"zzz\": 1}",
	    "mandatoryDenySearchDepth");
	ERR("{\"zzz\": 1, \"mandatoryDenySearchDepth\": 0}", "zzz");
}

/* The reference's keys: ignored with a warning where they mean nothing on
 * Linux, refused where not built yet unless they ask nothing. */
static void test_reference_keys(void **state)
{
	(void)state;
	srt_error e = {0};
	static const char *const ignored[] = {
		"{\"enableWeakerNetworkIsolation\": true}", "{\"allowAppleEvents\": false}",
		"{\"allowPty\": true}", "{\"windows\": {\"x\": 1}}",
		"{\"ripgrep\": {\"command\": \"rg\"}}", "{\"seccomp\": {}}",
		"{\"bwrapPath\": \"/usr/bin/bwrap\"}", "{\"socatPath\": \"/usr/bin/socat\"}",
		"{\"javaAgentJarPath\": \"/x.jar\"}",
		"{\"network\": {\"allowMachLookup\": [\"com.apple.x\"]}}",
	};
	for (size_t i = 0; i < sizeof ignored / sizeof *ignored; i++) {
		srt_config *c = srt_config_parse(ignored[i], strlen(ignored[i]), "t.json", &e);
		assert_non_null(c);
		assert_int_equal(c->warnings.n, 1);
		assert_non_null(strstr(c->warnings.v[0], "ignored ("));
		srt_config_free(c);
	}
	ERR("{\"credentials\": {\"envVars\": [{\"name\": \"T\"}]}}",
	    "t.json: credentials: not supported yet by srt in C");
	ERR("{\"network\": {\"tlsTerminate\": {}, \"mitmProxy\": {\"socketPath\": \"/x\"}}}",
	    "network.mitmProxy: not supported yet");
	ERR("{\"network\": {\"requireHostMatch\": true}}", "network.requireHostMatch: not supported yet");
	/* asking nothing: accepted, no warning */
	const char *noop = "{\"filesystem\": {\"disabled\": false, \"allowGitConfig\": false},"
			   " \"network\": {\"strictAllowlist\": false, \"tlsTerminate\": null,"
			   " \"filterRequest\": {}}, \"credentials\": {}, \"git\": {}}";
	srt_config *c = srt_config_parse(noop, strlen(noop), "t.json", &e);
	assert_non_null(c);
	assert_int_equal(c->warnings.n, 0);
	srt_config_free(c);
	/* a typo of a reference key is named too */
	ERR("{\"network\": {\"tlsTerminat\": {}}}", "did you mean \"tlsTerminate\"?");
}

/* The reference's keys with a Linux meaning that srt in C builds:
 * filesystem.disabled, filesystem.allowGitConfig, network.strictAllowlist,
 * git.safeDirectories. */
static void test_linux_keys(void **state)
{
	(void)state;
	srt_error e = {0};
	const char *on = "{\"filesystem\": {\"disabled\": true, \"allowGitConfig\": true,"
			 " \"denyRead\": [], \"allowWrite\": [], \"denyWrite\": []},"
			 " \"network\": {\"strictAllowlist\": true},"
			 " \"git\": {\"safeDirectories\": [\"/r\", \"\", \"~/p\", \"rel\"]}}";
	srt_config *c = srt_config_parse(on, strlen(on), "t.json", &e);
	assert_non_null(c);
	assert_true(c->fs_disabled);
	assert_true(c->allow_git_config);
	assert_true(c->strict_allowlist);
	/* as written; the empty one dropped as the reference's filter does */
	assert_int_equal(c->git_safe_dirs.n, 3);
	assert_string_equal(c->git_safe_dirs.v[0], "/r");
	assert_string_equal(c->git_safe_dirs.v[1], "~/p");
	assert_string_equal(c->git_safe_dirs.v[2], "rel");
	assert_int_equal(c->warnings.n, 0);
	srt_config_free(c);
	c = srt_config_parse("{}", 2, "t.json", &e);
	assert_non_null(c);
	assert_false(c->fs_disabled || c->allow_git_config || c->strict_allowlist);
	assert_int_equal(c->git_safe_dirs.n, 0);
	srt_config_free(c);
	ERR("{\"filesystem\": {\"disabled\": 1}}", "filesystem.disabled: expected true or false");
	ERR("{\"filesystem\": {\"allowGitConfig\": \"yes\"}}", "filesystem.allowGitConfig: expected true or false");
	ERR("{\"network\": {\"strictAllowlist\": null}}", "network.strictAllowlist: expected true or false");
	ERR("{\"git\": []}", "git: expected an object");
	ERR("{\"git\": {\"safeDirectories\": \"/x\"}}", "git.safeDirectories: expected");
	ERR("{\"git\": {\"safeDirectories\": [1]}}", "git.safeDirectories[0]: expected a directory");
	ERR("{\"git\": {\"safeDirectory\": [\"/x\"]}}", "did you mean \"safeDirectories\"?");
}

/* network.parentProxy: kept as written, the URLs checked (upstream.c
 * parses them; test_upstream covers the rules). */
static void test_parent_proxy(void **state)
{
	(void)state;
	srt_config *c = OK("{\"network\": {\"parentProxy\": {\"http\": \"http://u:p@p:3128\","
			   " \"https\": \"proxy.corp:8080\", \"noProxy\": \"\"}}}");
	assert_string_equal(c->parent_http, "http://u:p@p:3128");
	assert_string_equal(c->parent_https, "proxy.corp:8080");
	assert_string_equal(c->parent_no_proxy, "");
	srt_config_free(c);
	c = OK("{\"network\": {\"parentProxy\": {}}}");
	assert_null(c->parent_http);
	assert_null(c->parent_https);
	assert_null(c->parent_no_proxy);
	srt_config_free(c);
	ERR("{\"network\": {\"parentProxy\": {\"http\": \"https://p:3128\"}}}",
	    "t.json: network.parentProxy.http: a parent proxy reached over TLS (https://) is not "
	    "supported yet");
	ERR("{\"network\": {\"parentProxy\": {\"https\": \"socks5://p:1080\"}}}",
	    "network.parentProxy.https: the parent proxy URL must start with http://");
	ERR("{\"network\": {\"parentProxy\": {\"http\": \"\"}}}",
	    "network.parentProxy.http: expected a proxy URL, got an empty string");
	ERR("{\"network\": {\"parentProxy\": {\"http\": \"http://p:99999\"}}}",
	    "network.parentProxy.http: the port must be a number from 1 to 65535");
	ERR("{\"network\": {\"parentProxy\": {\"http\": 3128}}}",
	    "network.parentProxy.http: expected a proxy URL (a string), got an integer");
	ERR("{\"network\": {\"parentProxy\": {\"noProxi\": \"x\"}}}",
	    "network.parentProxy.noProxi: unknown key; did you mean \"noProxy\"?");
	ERR("{\"network\": {\"parentProxy\": \"http://p:3128\"}}",
	    "network.parentProxy: expected an object");
}

/* Over-broad allow patterns get the reference's message; a URL gets one
 * that shows a valid pattern; deniedDomains keeps its deny-all "*". */
static void test_reference_domain_validation(void **state)
{
	(void)state;
	srt_error e = {0};
	ERR("{\"network\": {\"allowedDomains\": [\"*\"]}}", "allowedDomains[0]: \"*\": invalid domain pattern.",
	    "Overly broad patterns like \"*.com\" or \"*\" are not allowed for security reasons.");
	ERR("{\"network\": {\"allowedDomains\": [\"ok.example\", \"*.com\"]}}",
	    "allowedDomains[1]: \"*.com\": invalid domain pattern.");
	ERR("{\"network\": {\"allowedDomains\": [\"*:443\"]}}", "\"*:443\": invalid domain pattern.");
	ERR("{\"network\": {\"allowedDomains\": [\"https://example.com\"]}}",
	    "\"https://example.com\" is a URL, not a domain pattern", "\"example.com:443\"");
	ERR("{\"network\": {\"deniedDomains\": [\"http://x.example/\"]}}", "is a URL");
	static const char *const ok[] = {
		"{\"network\": {\"allowedDomains\": [\"*.co.uk\", \"*.example.com\", \"localhost\"]}}",
		"{\"network\": {\"deniedDomains\": [\"*\", \"*:22\"]}}",
	};
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
		srt_config *c = srt_config_parse(ok[i], strlen(ok[i]), "t.json", &e);
		assert_non_null(c);
		srt_config_free(c);
	}
}

/* The reference README's "Complete Configuration Example" (0.0.83), as it
 * stands: accepted, with a warning for each macOS-only key. */
static void test_reference_complete_example(void **state)
{
	(void)state;
	static const char example[] =
		"{\"network\": {\"allowedDomains\": [\"github.com\", \"*.github.com\", "
		"\"lfs.github.com\", \"api.github.com\", \"npmjs.org\", \"*.npmjs.org\"],"
		" \"deniedDomains\": [\"malicious.com\"], \"allowUnixSockets\": "
		"[\"/var/run/docker.sock\"], \"allowLocalBinding\": false},"
		" \"filesystem\": {\"denyRead\": [\"~/.ssh\"], \"allowRead\": [], "
		"\"allowWrite\": [\".\", \"src/\", \"test/\", \"/tmp\"], "
		"\"denyWrite\": [\".env\", \"config/production.json\"]},"
		" \"ignoreViolations\": {\"*\": [\"/usr/bin\", \"/System\"], \"git push\": "
		"[\"/usr/bin/nc\"], \"npm\": [\"/private/tmp\"]},"
		" \"enableWeakerNestedSandbox\": false, \"allowNestedUserNamespaces\": false,"
		" \"enableWeakerNetworkIsolation\": false, \"allowAppleEvents\": false}";
	srt_error e = {0};
	srt_config *c = srt_config_parse(example, strlen(example), "t.json", &e);
	assert_non_null(c);
	assert_int_equal(c->warnings.n, 2);
	assert_int_equal(c->allowed_domains.n, 6);
	srt_config_free(c);
}

static void test_wrong_types(void **state)
{
	(void)state;
	ERR("{\"network\": []}", "t.json: network: expected an object, got an array");
	ERR("{\"filesystem\": null}", "t.json: filesystem: expected an object, got null");
	ERR("{\"ignoreViolations\": [\"*\"]}", "t.json: ignoreViolations: expected an object");
	ERR("{\"enableWeakerNestedSandbox\": 1}",
	    "t.json: enableWeakerNestedSandbox: expected true or false, got an integer");
	ERR("{\"allowNestedUserNamespaces\": \"true\"}",
	    "t.json: allowNestedUserNamespaces: expected true or false, got a string");
	ERR("{\"network\": {\"allowLocalBinding\": null}}",
	    "t.json: network.allowLocalBinding: expected true or false");
	ERR("{\"network\": {\"allowAllUnixSockets\": 0}}",
	    "t.json: network.allowAllUnixSockets: expected true or false");
	ERR("{\"network\": {\"allowedDomains\": \"a.com\"}}",
	    "t.json: network.allowedDomains: expected an array of domain patterns, got a string");
	ERR("{\"network\": {\"deniedDomains\": {}}}",
	    "t.json: network.deniedDomains: expected an array");
	ERR("{\"network\": {\"allowedDomains\": [\"a.com\", 1]}}",
	    "t.json: network.allowedDomains[1]: expected a domain pattern (a string), got an integer");
	ERR("{\"network\": {\"deniedResolvedAddresses\": \"10.0.0.0/8\"}}",
	    "network.deniedResolvedAddresses: expected an array");
	ERR("{\"network\": {\"allowUnixSockets\": [true]}}",
	    "network.allowUnixSockets[0]: expected a socket path (a string), got true");
	ERR("{\"network\": {\"allowUnixSockets\": [\"\"]}}",
	    "network.allowUnixSockets[0]: expected a socket path, got an empty string");
	ERR("{\"filesystem\": {\"denyRead\": \"~/.ssh\"}}",
	    "t.json: filesystem.denyRead: expected an array of paths, got a string");
}

/* ---- numbers ----------------------------------------------------- */

static void test_search_depth(void **state)
{
	(void)state;
	srt_error e;
	assert_string_equal(errmsg("{\"mandatoryDenySearchDepth\": 0}", &e),
			    "t.json: mandatoryDenySearchDepth: must be an "
			    "integer from 1 to 10, got 0");
	ERR("{\"mandatoryDenySearchDepth\": 11}", "from 1 to 10, got 11");
	ERR("{\"mandatoryDenySearchDepth\": -3}", "got -3");
	ERR("{\"mandatoryDenySearchDepth\": 3.5}", "from 1 to 10, got a number");
	ERR("{\"mandatoryDenySearchDepth\": 10.5}", "from 1 to 10, got a number");
	ERR("{\"mandatoryDenySearchDepth\": 1e20}", "from 1 to 10, got a number");
	ERR("{\"mandatoryDenySearchDepth\": 11.0}", "from 1 to 10, got 11");
	ERR("{\"mandatoryDenySearchDepth\": \"3\"}", "from 1 to 10, got a string");
	ERR("{\"mandatoryDenySearchDepth\": 9223372036854775807}", "1 to 10");
	ERR("{\"mandatoryDenySearchDepth\": 99999999999999999999}",
	    "t.json:1:", "too big integer");

	srt_config *c = OK("{\"mandatoryDenySearchDepth\": 1}");
	assert_int_equal(c->mandatory_deny_search_depth, 1);
	srt_config_free(c);
	c = OK("{\"mandatoryDenySearchDepth\": 10}");
	assert_int_equal(c->mandatory_deny_search_depth, 10);
	srt_config_free(c);
	/* the reference reads 3.0 as JavaScript does: the integer 3 */
	c = OK("{\"mandatoryDenySearchDepth\": 3.0}");
	assert_int_equal(c->mandatory_deny_search_depth, 3);
	srt_config_free(c);
}

static void test_proxy_ports(void **state)
{
	(void)state;
	ERR("{\"network\": {\"httpProxyPort\": 0}}",
	    "t.json: network.httpProxyPort: expected an integer from 1 to 65535");
	ERR("{\"network\": {\"httpProxyPort\": 65536}}",
	    "network.httpProxyPort: expected an integer from 1 to 65535, got 65536");
	ERR("{\"network\": {\"httpProxyPort\": \"8080\"}}",
	    "network.httpProxyPort: expected an integer from 1 to 65535, got a string");
	ERR("{\"network\": {\"socksProxyPort\": 80.5}}",
	    "t.json: network.socksProxyPort: expected an integer from 1 to 65535");
	ERR("{\"network\": {\"socksProxyPort\": -1}}",
	    "network.socksProxyPort: expected an integer from 1 to 65535");

	srt_config *c = OK("{\"network\": {\"httpProxyPort\": 1, "
			   "\"socksProxyPort\": 65535}}");
	assert_int_equal(c->http_proxy_port, 1);
	assert_int_equal(c->socks_proxy_port, 65535);
	srt_config_free(c);
	c = OK("{\"network\": {\"httpProxyPort\": 8080.0, \"socksProxyPort\": 1e3}}");
	assert_int_equal(c->http_proxy_port, 8080);
	assert_int_equal(c->socks_proxy_port, 1000);
	srt_config_free(c);
	ERR("{\"network\": {\"httpProxyPort\": 65536.0}}",
	    "network.httpProxyPort: expected an integer from 1 to 65535, got 65536");
}

/* ---- domains ----------------------------------------------------- */

static void test_domain_errors(void **state)
{
	(void)state;
	srt_error e;
	assert_string_equal(
		errmsg("{\"network\": {\"allowedDomains\": "
		       "[\"a.com\", \"b.com\", \"a..b\"]}}", &e),
		"t.json: network.allowedDomains[2]: malformed domain pattern "
		"\"a..b\": empty label");
	ERR("{\"network\": {\"deniedDomains\": [\"2001:db8::1:443\"]}}",
	    "network.deniedDomains[0]: malformed domain pattern "
	    "\"2001:db8::1:443\"", "brackets");
	ERR("{\"network\": {\"allowedDomains\": [\"a.*.com\"]}}",
	    "network.allowedDomains[0]", "'*'");
	ERR("{\"network\": {\"allowedDomains\": [\"\"]}}",
	    "network.allowedDomains[0]: malformed domain pattern \"\": empty");
	ERR("{\"network\": {\"allowedDomains\": [\"a.com:0\"]}}",
	    "network.allowedDomains[0]", "port");
	ERR("{\"network\": {\"allowedDomains\": [\"127.1\"]}}", "ambiguous");
	/* the pattern is escaped in the message */
	ERR("{\"network\": {\"allowedDomains\": [\"a\\nb\\\"c\"]}}",
	    "malformed domain pattern \"a\\x0ab\\\"c\"");
}

static void test_denied_reasons(void **state)
{
	(void)state;
	/* reasons may come before deniedDomains */
	srt_config *c = OK("{\"network\": {\"deniedDomainReasons\": "
			   "{\"Evil.com\": \"no\"}, \"deniedDomains\": "
			   "[\"Evil.com\", \"x.org\"]}}");
	assert_int_equal(c->n_denied_reasons, 1);
	assert_string_equal(c->denied_reasons[0].entry, "Evil.com");
	assert_string_equal(c->denied_reasons[0].reason, "no");
	srt_config_free(c);

	/* keys must be written exactly as the entry */
	ERR("{\"network\": {\"deniedDomains\": [\"evil.com\"], "
	    "\"deniedDomainReasons\": {\"EVIL.com\": \"no\"}}}",
	    "t.json: network.deniedDomainReasons[\"EVIL.com\"]: not an entry "
	    "of network.deniedDomains");
	ERR("{\"network\": {\"deniedDomainReasons\": {\"*:22\": \"no\"}}}",
	    "network.deniedDomainReasons[\"*:22\"]: not an entry");
	ERR("{\"network\": {\"allowedDomains\": [\"a.com\"], "
	    "\"deniedDomainReasons\": {\"a.com\": \"no\"}}}", "not an entry");
	ERR("{\"network\": {\"deniedDomains\": [\"a.com\"], "
	    "\"deniedDomainReasons\": [\"a.com\"]}}",
	    "network.deniedDomainReasons: expected an object, got an array");

	const char *pre = "{\"network\": {\"deniedDomains\": [\"a.com\"], "
			  "\"deniedDomainReasons\": {\"a.com\": ";
	char buf[2048];
#define REASON(v) (snprintf(buf, sizeof buf, "%s%s}}}", pre, (v)), buf)
	ERR(REASON("\"\""), "network.deniedDomainReasons[\"a.com\"]", "empty");
	ERR(REASON("1"), "network.deniedDomainReasons[\"a.com\"]", "got an integer");
	ERR(REASON("\"a\\r\\nX-Evil: 1\""), "control character");
	ERR(REASON("\"tab\\there\""), "control character");
	ERR(REASON("\"del\\u007f\""), "control character");
	ERR(REASON("\"c1\\u009b31m\""), "control character");

	char big[600];
	big[0] = '"';
	memset(big + 1, 'r', 513);
	strcpy(big + 514, "\"");
	ERR(REASON(big), "longer than 512");
	strcpy(big + 513, "\""); /* 512 bytes */
	c = OK(REASON(big));
	assert_int_equal(strlen(c->denied_reasons[0].reason), 512);
	srt_config_free(c);

	c = OK(REASON("\"blocked \\u00e9t\\u00e9 \\u2014 see https://x/y\""));
	assert_string_equal(c->denied_reasons[0].reason,
			    "blocked \xc3\xa9t\xc3\xa9 \xe2\x80\x94 see https://x/y");
	srt_config_free(c);
#undef REASON
}

/* ---- deniedResolvedAddresses ------------------------------------ */

static void test_cidrs(void **state)
{
	(void)state;
	srt_config *c = OK("{\"network\": {\"deniedResolvedAddresses\": "
			   "[\"10.1.2.3/8\", \"fd12:3456::1/12\", \"192.0.2.1\","
			   " \"::1\", \"0.0.0.0/0\", \"172.16.255.255/12\","
			   " \"2001:db8::/128\"]}}");
	assert_int_equal(c->n_denied_resolved, 7);
	const srt_cidr *r = c->denied_resolved;

	const unsigned char a0[4] = {10, 0, 0, 0};
	assert_int_equal(r[0].family, AF_INET);
	assert_int_equal(r[0].prefix, 8);
	assert_memory_equal(r[0].addr, a0, 4);

	unsigned char a1[16] = {0xfd, 0x10};
	assert_int_equal(r[1].family, AF_INET6);
	assert_int_equal(r[1].prefix, 12);
	assert_memory_equal(r[1].addr, a1, 16);

	const unsigned char a2[4] = {192, 0, 2, 1};
	assert_int_equal(r[2].family, AF_INET);
	assert_int_equal(r[2].prefix, 32);
	assert_memory_equal(r[2].addr, a2, 4);

	unsigned char a3[16] = {0};
	a3[15] = 1;
	assert_int_equal(r[3].family, AF_INET6);
	assert_int_equal(r[3].prefix, 128);
	assert_memory_equal(r[3].addr, a3, 16);

	const unsigned char a4[4] = {0, 0, 0, 0};
	assert_int_equal(r[4].prefix, 0);
	assert_memory_equal(r[4].addr, a4, 4);

	const unsigned char a5[4] = {172, 16, 0, 0};
	assert_int_equal(r[5].prefix, 12);
	assert_memory_equal(r[5].addr, a5, 4);

	unsigned char a6[16] = {0x20, 0x01, 0x0d, 0xb8};
	assert_int_equal(r[6].prefix, 128);
	assert_memory_equal(r[6].addr, a6, 16);
	srt_config_free(c);

	const char *bad[] = {
		"10.0.0.0/33", "fd00::/129", "10.0.0.0/", "/8", "10.0.0.0/8x",
		"host.example", "[::1]/128", "10.0.0.0/-1", "10.0.0.0/+8",
		"10.0.0/8", "10.0.0.0/8/8", "10.0.0.0 /8", "fd00::/0128",
		"1.2.3.4/ 8",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char buf[256];
		snprintf(buf, sizeof buf,
			 "{\"network\": {\"deniedResolvedAddresses\": "
			 "[\"::/0\", \"%s\"]}}", bad[i]);
		ERR(buf, "t.json: network.deniedResolvedAddresses[1]: "
			 "malformed address \"", bad[i]);
	}
	ERR("{\"network\": {\"deniedResolvedAddresses\": [\"10.0.0.0/33\"]}}",
	    "from 0 to 32");
	ERR("{\"network\": {\"deniedResolvedAddresses\": [\"::/129\"]}}",
	    "from 0 to 128");
	ERR("{\"network\": {\"deniedResolvedAddresses\": [\"\"]}}",
	    "deniedResolvedAddresses[0]", "empty string");
	ERR("{\"network\": {\"deniedResolvedAddresses\": [8]}}",
	    "deniedResolvedAddresses[0]", "got an integer");
}

/* ---- filesystem ------------------------------------------------- */

static void test_filesystem_entries(void **state)
{
	(void)state;
	srt_config *c = OK(
		"{\"filesystem\": {\"allowWrite\": [\"/a\", "
		"{\"path\": \"/b[1]\", \"literal\": true}, \"c*\", "
		"{\"literal\": true, \"path\": \"~\"}, \"~/x\", \"rel/./y\"],"
		" \"allowRead\": [{\"path\": \"~/.ssh/known_hosts\", "
		"\"literal\": true}]}}");
	assert_int_equal(c->allow_write.n, 6);
	assert_string_equal(c->allow_write.v[0].path, "/a");
	assert_false(c->allow_write.v[0].literal);
	assert_string_equal(c->allow_write.v[1].path, "/b[1]");
	assert_true(c->allow_write.v[1].literal);
	assert_string_equal(c->allow_write.v[2].path, "c*");
	assert_false(c->allow_write.v[2].literal);
	assert_string_equal(c->allow_write.v[3].path, "~");
	assert_true(c->allow_write.v[3].literal);
	assert_string_equal(c->allow_write.v[4].path, "~/x");
	assert_string_equal(c->allow_write.v[5].path, "rel/./y");
	assert_int_equal(c->allow_read.n, 1);
	assert_true(c->allow_read.v[0].literal);
	srt_config_free(c);

	ERR("{\"filesystem\": {\"denyRead\": [\"\"]}}",
	    "t.json: filesystem.denyRead[0]: expected a path, got an empty string");
	ERR("{\"filesystem\": {\"denyWrite\": [\"/x\", 5]}}",
	    "t.json: filesystem.denyWrite[1]: expected a path string or an object");
	ERR("{\"filesystem\": {\"denyWrite\": [[\"/x\"]]}}",
	    "filesystem.denyWrite[0]: expected a path string", "got an array");
	ERR("{\"filesystem\": {\"allowWrite\": [{\"literal\": true}]}}",
	    "t.json: filesystem.allowWrite[0]: missing required key \"path\"");
	ERR("{\"filesystem\": {\"allowWrite\": [{}]}}",
	    "filesystem.allowWrite[0]: missing required key");
	/* as the reference: an object is a path marked literal or nothing */
	ERR("{\"filesystem\": {\"denyWrite\": [{\"path\": \"c*\"}]}}",
	    "t.json: filesystem.denyWrite[0]: expected a path, or {\"path\": \"<path>\", "
	    "\"literal\": true}");
	ERR("{\"filesystem\": {\"denyRead\": [{\"path\": \"c*\", \"literal\": false}]}}",
	    "filesystem.denyRead[0]: expected a path, or {");
	ERR("{\"filesystem\": {\"allowWrite\": [{\"path\": \"\"}]}}",
	    "t.json: filesystem.allowWrite[0].path: expected a path, got an empty string");
	ERR("{\"filesystem\": {\"allowWrite\": [{\"path\": 3}]}}",
	    "filesystem.allowWrite[0].path: expected a path (a string), got an integer");
	ERR("{\"filesystem\": {\"allowWrite\": [{\"path\": \"/x\", \"literal\": 1}]}}",
	    "filesystem.allowWrite[0].literal: expected true or false");
	ERR("{\"filesystem\": {\"allowRead\": [\"~root/.ssh\"]}}",
	    "t.json: filesystem.allowRead[0]: \"~user\" paths are not supported");
	ERR("{\"filesystem\": {\"allowRead\": [{\"path\": \"~x\", \"literal\": true}]}}",
	    "filesystem.allowRead[0]", "~user");
	ERR("{\"filesystem\": {\"denyRead\": [\"/ok\", \"/a\\u0000b\"]}}",
	    "t.json:1:", "\\u0000");
}

/* ---- ignoreViolations ------------------------------------------- */

static void test_ignore_violations(void **state)
{
	(void)state;
	srt_config *c = OK("{\"ignoreViolations\": {\"git\": [], "
			   "\"*\": [\"/a\", \"/b\"]}}");
	assert_int_equal(c->n_ignore_violations, 2);
	assert_string_equal(c->ignore_violations[0].command, "git");
	assert_int_equal(c->ignore_violations[0].paths.n, 0);
	assert_string_equal(c->ignore_violations[1].command, "*");
	assert_int_equal(c->ignore_violations[1].paths.n, 2);
	assert_string_equal(c->ignore_violations[1].paths.v[1], "/b");
	srt_config_free(c);

	ERR("{\"ignoreViolations\": {\"npm\": \"/tmp\"}}",
	    "t.json: ignoreViolations[\"npm\"]: expected an array of paths, got a string");
	ERR("{\"ignoreViolations\": {\"npm\": [\"/a\", 1]}}",
	    "t.json: ignoreViolations[\"npm\"][1]: expected a path (a string)");
	/* the reference's schema takes "" as a key and as a pattern (both are
	 * substrings of everything) */
	c = OK("{\"ignoreViolations\": {\"\": [\"\"]}}");
	assert_int_equal(c->n_ignore_violations, 1);
	assert_string_equal(c->ignore_violations[0].command, "");
	assert_string_equal(c->ignore_violations[0].paths.v[0], "");
	srt_config_free(c);
	/* a failure after a complete rule frees everything (ASan checks) */
	ERR("{\"ignoreViolations\": {\"a\": [\"/x\", \"/y\"], \"b\": [\"/z\", 2]}}",
	    "ignoreViolations[\"b\"][1]");
}

/* A failure late in a big file frees what was built (run under ASan). */
static void test_partial_free(void **state)
{
	(void)state;
	ERR("{\"network\": {\"allowedDomains\": [\"a.com\", \"*.b.com\"], "
	    "\"deniedDomains\": [\"c.com\"], \"deniedDomainReasons\": "
	    "{\"c.com\": \"x\"}, \"deniedResolvedAddresses\": [\"10.0.0.0/8\"],"
	    " \"allowUnixSockets\": [\"/s\"]}, \"filesystem\": {\"denyRead\": "
	    "[\"/a\"], \"allowRead\": [\"/b\"], \"allowWrite\": [\"/c\"], "
	    "\"denyWrite\": [\"/d\"]}, \"ignoreViolations\": {\"*\": [\"/e\"]},"
	    " \"mandatoryDenySearchDepth\": 0}",
	    "mandatoryDenySearchDepth");
	ERR("{\"network\": {\"deniedDomains\": [\"a.com\", \"b.com\"], "
	    "\"deniedDomainReasons\": {\"a.com\": \"x\", \"b.com\": \"\"}}}",
	    "deniedDomainReasons[\"b.com\"]");
}

/* ---- loading files --------------------------------------------- */

typedef struct tmpdir {
	char path[PATH_MAX];
	char *saved_home;
} tmpdir;

static int setup_tmp(void **state)
{
	tmpdir *t = calloc(1, sizeof *t);
	if (!t)
		return -1;
	const char *base = getenv("TMPDIR");
	snprintf(t->path, sizeof t->path, "%s/srt-test-config-XXXXXX",
		 base && base[0] ? base : "/tmp");
	if (!mkdtemp(t->path)) {
		free(t);
		return -1;
	}
	const char *home = getenv("HOME");
	t->saved_home = home ? strdup(home) : NULL;
	*state = t;
	return 0;
}

static int teardown_tmp(void **state)
{
	tmpdir *t = *state;
	char cmd[PATH_MAX + 32];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->path);
	if (system(cmd) != 0)
		return -1;
	if (t->saved_home)
		setenv("HOME", t->saved_home, 1);
	else
		unsetenv("HOME");
	free(t->saved_home);
	free(t);
	return 0;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void test_load_default_missing(void **state)
{
	tmpdir *t = *state;
	assert_int_equal(setenv("HOME", t->path, 1), 0);
	srt_error e = {0};
	srt_config *c = srt_config_load(NULL, &e);
	if (!c)
		fail_msg("%s", e.message);
	check_defaults(c);
	srt_config_free(c);
}

static void test_load_default_present(void **state)
{
	tmpdir *t = *state;
	char p[PATH_MAX + 64];
	snprintf(p, sizeof p, "%s/.srt-settings.json", t->path);
	write_file(p, "{\"mandatoryDenySearchDepth\": 7}");
	/* a trailing slash on HOME does not double the separator */
	char home[PATH_MAX + 2];
	snprintf(home, sizeof home, "%s/", t->path);
	assert_int_equal(setenv("HOME", home, 1), 0);

	srt_error e = {0};
	srt_config *c = srt_config_load(NULL, &e);
	if (!c)
		fail_msg("%s", e.message);
	assert_string_equal(srt_config_source(c), p);
	assert_int_equal(c->mandatory_deny_search_depth, 7);
	srt_config_free(c);

	/* a broken default file is an error, never the defaults */
	write_file(p, "{\"mandatoryDenySearchDepth\": 0}");
	memset(&e, 0, sizeof e);
	assert_null(srt_config_load(NULL, &e));
	assert_int_equal(e.code, SRT_E_CONFIG);
	assert_non_null(strstr(e.message, p));
	assert_non_null(strstr(e.message, "mandatoryDenySearchDepth"));

	write_file(p, "");
	memset(&e, 0, sizeof e);
	assert_null(srt_config_load(NULL, &e));
	char want[PATH_MAX + 128];
	snprintf(want, sizeof want, "%s: file is empty", p);
	assert_string_equal(e.message, want);

	write_file(p, "{\n\n  \"x\": }\n");
	memset(&e, 0, sizeof e);
	assert_null(srt_config_load(NULL, &e));
	snprintf(want, sizeof want, "%s:3:", p);
	assert_non_null(strstr(e.message, want));
}

static void test_load_default_broken_kinds(void **state)
{
	tmpdir *t = *state;
	char p[PATH_MAX + 64];
	snprintf(p, sizeof p, "%s/.srt-settings.json", t->path);
	assert_int_equal(setenv("HOME", t->path, 1), 0);
	srt_error e = {0};

	/* a dangling symlink is not "no file" */
	assert_int_equal(symlink("/nonexistent/srt-settings", p), 0);
	assert_null(srt_config_load(NULL, &e));
	assert_int_equal(e.code, SRT_E_CONFIG);
	assert_non_null(strstr(e.message, "symbolic link"));
	assert_int_equal(unlink(p), 0);

	/* a directory */
	assert_int_equal(mkdir(p, 0700), 0);
	memset(&e, 0, sizeof e);
	assert_null(srt_config_load(NULL, &e));
	assert_non_null(strstr(e.message, "not a regular file"));
	assert_int_equal(rmdir(p), 0);

	/* a FIFO: refused without blocking */
	assert_int_equal(mkfifo(p, 0600), 0);
	memset(&e, 0, sizeof e);
	assert_null(srt_config_load(NULL, &e));
	assert_non_null(strstr(e.message, "not a regular file"));
	assert_int_equal(unlink(p), 0);

	/* too large */
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4 * 1024 * 1024 + 1), 0);
	close(fd);
	memset(&e, 0, sizeof e);
	assert_null(srt_config_load(NULL, &e));
	assert_non_null(strstr(e.message, "too large"));
	assert_int_equal(unlink(p), 0);

	/* unreadable (root reads anyway) */
	if (geteuid() != 0) {
		write_file(p, "{}");
		assert_int_equal(chmod(p, 0), 0);
		memset(&e, 0, sizeof e);
		assert_null(srt_config_load(NULL, &e));
		assert_int_equal(e.code, SRT_E_CONFIG);
		assert_non_null(strstr(e.message, "Permission denied"));
		assert_int_equal(unlink(p), 0);
	}
}

static void test_load_explicit(void **state)
{
	tmpdir *t = *state;
	char p[PATH_MAX + 64];
	srt_error e = {0};

	/* an explicit path that does not exist is an error */
	snprintf(p, sizeof p, "%s/missing.json", t->path);
	assert_null(srt_config_load(p, &e));
	assert_int_equal(e.code, SRT_E_CONFIG);
	assert_int_equal(e.sys_errno, ENOENT);
	assert_non_null(strstr(e.message, p));
	assert_non_null(strstr(e.message, "No such file or directory"));

	memset(&e, 0, sizeof e);
	assert_null(srt_config_load("", &e));
	assert_int_equal(e.code, SRT_E_CONFIG);

	snprintf(p, sizeof p, "%s/s.json", t->path);
	write_file(p, spec_example);
	memset(&e, 0, sizeof e);
	srt_config *c = srt_config_load(p, &e);
	if (!c)
		fail_msg("%s", e.message);
	assert_string_equal(srt_config_source(c), p);
	assert_int_equal(c->allowed_domains.n, 4);
	assert_int_equal(c->http_proxy_port, 8080);
	srt_config_free(c);

	snprintf(p, sizeof p, "%s/e.json", t->path);
	write_file(p, "");
	memset(&e, 0, sizeof e);
	assert_null(srt_config_load(p, &e));
	char want[PATH_MAX + 128];
	snprintf(want, sizeof want, "%s: file is empty", p);
	assert_string_equal(e.message, want);

	/* a directory given explicitly */
	memset(&e, 0, sizeof e);
	assert_null(srt_config_load(t->path, &e));
	assert_non_null(strstr(e.message, "not a regular file"));
}

static void test_load_home_unset(void **state)
{
	(void)state;
	/* HOME unset: the password database decides. */
	struct passwd *pw = getpwuid(getuid());
	if (!pw || !pw->pw_dir)
		skip();
	char p[PATH_MAX + 64];
	snprintf(p, sizeof p, "%s/.srt-settings.json", pw->pw_dir);
	struct stat st;
	if (lstat(p, &st) == 0)
		skip(); /* a real settings file: nothing to assert safely */
	assert_int_equal(unsetenv("HOME"), 0);
	srt_error e = {0};
	srt_config *c = srt_config_load(NULL, &e);
	if (!c)
		fail_msg("%s", e.message);
	assert_string_equal(srt_config_source(c), "<defaults>");
	srt_config_free(c);

	/* HOME empty is treated as unset */
	assert_int_equal(setenv("HOME", "", 1), 0);
	c = srt_config_load(NULL, &e);
	assert_non_null(c);
	assert_string_equal(srt_config_source(c), "<defaults>");
	srt_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_empty_object),
		cmocka_unit_test(test_spec_example),
		cmocka_unit_test(test_booleans_true),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_reference_keys),
		cmocka_unit_test(test_linux_keys),
		cmocka_unit_test(test_parent_proxy),
		cmocka_unit_test(test_reference_complete_example),
		cmocka_unit_test(test_reference_domain_validation),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_search_depth),
		cmocka_unit_test(test_proxy_ports),
		cmocka_unit_test(test_domain_errors),
		cmocka_unit_test(test_denied_reasons),
		cmocka_unit_test(test_cidrs),
		cmocka_unit_test(test_filesystem_entries),
		cmocka_unit_test(test_ignore_violations),
		cmocka_unit_test(test_partial_free),
		cmocka_unit_test_setup_teardown(test_load_default_missing,
						setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_load_default_present,
						setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_load_default_broken_kinds,
						setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_load_explicit, setup_tmp,
						teardown_tmp),
		cmocka_unit_test_setup_teardown(test_load_home_unset, setup_tmp,
						teardown_tmp),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
