/* fuzz_config.c - libFuzzer harness for the settings parser. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	srt_error err = {0};
	srt_config *cfg = srt_config_parse((const char *)data, size, "fuzz",
					   &err);
	if (!cfg) {
		/* every failure says something, without control characters */
		if (err.code == SRT_OK || err.message[0] == '\0')
			__builtin_trap();
		for (const char *p = err.message; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				__builtin_trap();
		return 0;
	}
	/* what was accepted satisfies the documented ranges */
	if (cfg->mandatory_deny_search_depth < 1 ||
	    cfg->mandatory_deny_search_depth > 10)
		__builtin_trap();
	if (cfg->http_proxy_port < 0 || cfg->http_proxy_port > 65535 ||
	    cfg->socks_proxy_port < 0 || cfg->socks_proxy_port > 65535)
		__builtin_trap();
	for (size_t i = 0; i < cfg->n_denied_resolved; i++) {
		const srt_cidr *c = &cfg->denied_resolved[i];
		if (c->prefix > (c->family == AF_INET ? 32u : 128u))
			__builtin_trap();
	}
	for (size_t i = 0; i < cfg->n_denied_reasons; i++) {
		size_t n = strlen(cfg->denied_reasons[i].reason);
		if (n == 0 || n > 512)
			__builtin_trap();
	}
	srt_config_free(cfg);
	return 0;
}
