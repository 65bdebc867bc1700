/* config_live.c - settings given while a sandbox runs (srt --control-fd):
 * a complete settings object, validated as a settings file is, of which a
 * running sandbox applies the network lists alone (srt_sandbox_update_network);
 * and the canonical text of everything else, to tell the caller what an
 * update asked for that stays as it started. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

/* The reference 0.0.83's schema makes both sections required, and a line
 * is a complete config rather than a patch (README, --control-fd): a line
 * without one is refused instead of read as "back to the defaults". */
static const char *const required[] = {"network", "filesystem"};

srt_config *srt_config_parse_update(const char *json, size_t len, const char *name,
				    srt_error *err)
{
	srt_config *cfg = srt_config_parse(json, len, name, err);
	if (!cfg)
		return NULL;
	/* parsed again for the keys alone: srt_config keeps no record of
	 * which sections were written (valid JSON by now) */
	json_t *root = json_loadb(json, len, JSON_DECODE_ANY, NULL);
	for (size_t i = 0; i < sizeof required / sizeof *required; i++) {
		if (root && json_object_get(root, required[i]))
			continue;
		srt_fail(err, SRT_E_CONFIG,
			 "%s: \"%s\" is missing: each update is a complete settings object "
			 "(\"network\" and \"filesystem\" are required), not a patch",
			 name ? name : "<settings>", required[i]);
		json_decref(root);
		srt_config_free(cfg);
		return NULL;
	}
	json_decref(root);
	return cfg;
}

static int cmp_str(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	return strcmp(x ? x : "", y ? y : ""); /* NULL: out of memory */
}

/* `items` (n JSON texts, owned) sorted and joined as a JSON array: order
 * means nothing in these lists. */
static void put_sorted(FILE *f, const char *key, char **items, size_t n)
{
	qsort(items, n, sizeof *items, cmp_str);
	fprintf(f, "%s: [", key);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s%s", i ? "," : "", items[i] ? items[i] : "?");
		free(items[i]);
	}
	fputs("]\n", f);
}

static char *dump(json_t *v)
{
	char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS) : NULL;
	json_decref(v);
	return s;
}

static void put_paths(FILE *f, const char *key, const srt_path_list *l)
{
	char **items = calloc(l->n + 1, sizeof *items);
	if (!items)
		return;
	for (size_t i = 0; i < l->n; i++)
		items[i] = l->v[i].literal ? dump(json_pack("{s:s,s:b}", "path", l->v[i].path, "literal", 1))
					   : dump(json_string(l->v[i].path));
	put_sorted(f, key, items, l->n);
	free(items);
}

static void put_strv(FILE *f, const char *key, const srt_strv *l)
{
	char **items = calloc(l->n + 1, sizeof *items);
	if (!items)
		return;
	for (size_t i = 0; i < l->n; i++)
		items[i] = dump(json_string(l->v[i]));
	put_sorted(f, key, items, l->n);
	free(items);
}

static void put_ignore(FILE *f, const srt_config *c)
{
	char **items = calloc(c->n_ignore_violations + 1, sizeof *items);
	if (!items)
		return;
	for (size_t i = 0; i < c->n_ignore_violations; i++) {
		const srt_ignore_rule *r = &c->ignore_violations[i];
		char **pats = calloc(r->paths.n + 1, sizeof *pats);
		json_t *arr = json_array();
		for (size_t j = 0; pats && j < r->paths.n; j++)
			pats[j] = r->paths.v[j];
		if (pats)
			qsort(pats, r->paths.n, sizeof *pats, cmp_str);
		for (size_t j = 0; pats && arr && j < r->paths.n; j++)
			json_array_append_new(arr, json_string(pats[j]));
		free(pats);
		items[i] = dump(json_pack("[s,o]", r->command, arr));
	}
	put_sorted(f, "ignoreViolations", items, c->n_ignore_violations);
	free(items);
}

char *srt_config_fixed(const srt_config *c)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (!f)
		return NULL;
	put_strv(f, "network.allowUnixSockets", &c->allow_unix_sockets);
	fprintf(f, "network.allowAllUnixSockets: %d\n", c->allow_all_unix_sockets);
	fprintf(f, "network.allowLocalBinding: %d\n", c->allow_local_binding);
	fprintf(f, "network.httpProxyPort: %d\n", c->http_proxy_port);
	fprintf(f, "network.socksProxyPort: %d\n", c->socks_proxy_port);
	char **ports = calloc(c->n_host_ports + 1, sizeof *ports);
	for (size_t i = 0; ports && i < c->n_host_ports; i++)
		ports[i] = srt_asprintf("%05d", c->host_ports[i]);
	if (ports)
		put_sorted(f, "network.hostPorts", ports, c->n_host_ports);
	free(ports);
	/* parentProxy is fixed for the run (upstream.h); only key names are
	 * ever shown, so the URLs' credentials stay here */
	const char *pp[3] = {c->parent_http, c->parent_https, c->parent_no_proxy};
	static const char *const pk[3] = {"http", "https", "noProxy"};
	for (size_t i = 0; i < 3; i++)
		fprintf(f, "network.parentProxy.%s: %s%s\n", pk[i], pp[i] ? "set " : "unset",
			pp[i] ? pp[i] : "");
	put_paths(f, "filesystem.denyRead", &c->deny_read);
	put_paths(f, "filesystem.allowRead", &c->allow_read);
	put_paths(f, "filesystem.allowWrite", &c->allow_write);
	put_paths(f, "filesystem.denyWrite", &c->deny_write);
	fprintf(f, "filesystem.disabled: %d\n", c->fs_disabled);
	fprintf(f, "filesystem.allowGitConfig: %d\n", c->allow_git_config);
	put_strv(f, "git.safeDirectories", &c->git_safe_dirs);
	put_ignore(f, c);
	fprintf(f, "enableWeakerNestedSandbox: %d\n", c->enable_weaker_nested_sandbox);
	fprintf(f, "allowNestedUserNamespaces: %d\n", c->allow_nested_user_namespaces);
	fprintf(f, "mandatoryDenySearchDepth: %d\n", c->mandatory_deny_search_depth);
	bool bad = ferror(f) != 0;
	if (fclose(f) != 0 || bad) {
		free(out);
		return NULL;
	}
	return out;
}
