/* config.c - load and validate the settings file (SPEC §2, §3).
 *
 * Every key is optional; unknown keys and wrong types are errors at every
 * level.  Strings are stored as written: "~", relative paths and globs are
 * resolved later (policy).  Error messages name the file and either
 * LINE:COLUMN (JSON syntax) or the key path, e.g.
 *   "settings.json: network.allowedDomains[2]: malformed domain pattern
 *    \"a..b\": empty label"
 * Keys of free-form maps (deniedDomainReasons, ignoreViolations) are shown
 * as name["key"].  Text taken from the file is escaped before it is put into
 * a message, so a message never carries control characters.
 */
#include "config.h"
#include "config_compat.h"
#include "upstream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#define SETTINGS_FILE ".srt-settings.json"
#define DEFAULTS_SOURCE "<defaults>"
#define MAX_FILE_SIZE ((size_t)4 * 1024 * 1024)
#define REASON_MAX 512
#define PATH_BUF 512
#define ESC_BUF 200

/* ---- messages -------------------------------------------------------- */

typedef struct walk {
	const char *name; /* file name for messages */
	srt_error *err;
} walk;

/* Copy s[0..n) into buf, escaping non-printable bytes as \xNN (and, when
 * `quote`, '"' and '\\' with a backslash), truncating with "...". */
static const char *esc_n(const char *s, size_t n, bool quote, char *buf,
			 size_t bufsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char tmp[4];
		size_t tl = 0;
		if (quote && (c == '"' || c == '\\')) {
			tmp[tl++] = '\\';
			tmp[tl++] = (char)c;
		} else if (c >= 0x20 && c < 0x7f) {
			tmp[tl++] = (char)c;
		} else {
			tmp[tl++] = '\\';
			tmp[tl++] = 'x';
			tmp[tl++] = hex[c >> 4];
			tmp[tl++] = hex[c & 15];
		}
		if (o + tl + 4 > bufsz) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(buf + o, tmp, tl);
		o += tl;
	}
	buf[o] = '\0';
	return buf;
}

static const char *esc(const char *s, char *buf, size_t bufsz)
{
	return esc_n(s, strlen(s), true, buf, bufsz);
}

static int werr(walk *w, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int werr(walk *w, const char *path, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return srt_fail(w->err, SRT_E_CONFIG, "%s: %s: %s", w->name, path, msg);
}

static int nomem(walk *w)
{
	return srt_fail(w->err, SRT_E_NOMEM, "%s: out of memory", w->name);
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number with a fraction or exponent";
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return "null";
	default:
		return "an unknown value";
	}
}

/* ---- key paths ------------------------------------------------------- */

/* Append s to the string in buf[PATH_BUF], truncating. */
static void path_cat(char *buf, const char *s)
{
	size_t o = strnlen(buf, PATH_BUF - 1);
	size_t n = strlen(s);
	if (n > PATH_BUF - 1 - o)
		n = PATH_BUF - 1 - o;
	memcpy(buf + o, s, n);
	buf[o + n] = '\0';
}

static const char *path_key(char *buf, const char *parent, const char *key)
{
	char e[ESC_BUF];
	buf[0] = '\0';
	if (parent && parent[0]) {
		path_cat(buf, parent);
		path_cat(buf, ".");
	}
	path_cat(buf, esc(key, e, sizeof e));
	return buf;
}

static const char *path_mapkey(char *buf, const char *parent, const char *key)
{
	char e[ESC_BUF];
	buf[0] = '\0';
	path_cat(buf, parent);
	path_cat(buf, "[\"");
	path_cat(buf, esc(key, e, sizeof e));
	path_cat(buf, "\"]");
	return buf;
}

static const char *path_index(char *buf, const char *parent, size_t i)
{
	char num[32];
	snprintf(num, sizeof num, "[%zu]", i);
	buf[0] = '\0';
	path_cat(buf, parent);
	path_cat(buf, num);
	return buf;
}

static int unknown_key(walk *w, const char *path, const char *const *known)
{
	char list[400];
	size_t o = 0;
	list[0] = '\0';
	for (size_t i = 0; known[i]; i++) {
		int r = snprintf(list + o, sizeof list - o, "%s%s",
				 i ? ", " : "", known[i]);
		if (r < 0 || (size_t)r >= sizeof list - o)
			break;
		o += (size_t)r;
	}
	return werr(w, path, "unknown key (known keys: %s)", list);
}

/* A key the section does not parse: one of the reference's that srt in C
 * accepts with a warning or refuses until built (config_compat.h), or an
 * error naming the closest known key (a typo in a security policy must
 * not pass silently). */
static int other_key(walk *w, srt_config *cfg, const char *section, const char *key,
		     const char *path, const json_t *v, const char *const *known)
{
	const char *why = NULL;
	switch (srt_compat_lookup(section, key, &why)) {
	case SRT_COMPAT_IGNORED:
		if (srt_strv_push_owned(&cfg->warnings,
					srt_asprintf("%s: %s: ignored (%s)", w->name, path, why)) < 0)
			return nomem(w);
		return 0;
	case SRT_COMPAT_NOT_BUILT:
		if (srt_compat_is_noop(v))
			return 0;
		return werr(w, path, "not supported yet by srt in C (%s); remove it, or set it to "
				     "false or empty", why);
	case SRT_COMPAT_UNKNOWN:
	default:
		break;
	}
	const char *near = srt_compat_closest(section, key, known);
	if (near)
		return werr(w, path, "unknown key; did you mean \"%s\"?", near);
	return unknown_key(w, path, known);
}

/* ---- scalar helpers -------------------------------------------------- */

static int get_bool(walk *w, const char *path, const json_t *v, bool *out)
{
	if (!json_is_boolean(v))
		return werr(w, path, "expected true or false, got %s",
			    type_name(v));
	*out = json_is_true(v);
	return 0;
}

/* An integer, also written with a fraction of zero ("8080.0", "1e3"): the
 * reference reads JSON numbers as JavaScript does, where 8080.0 is the
 * integer 8080, so a file that spells it so must load here too. */
static bool get_integral(const json_t *v, json_int_t *out)
{
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return true;
	}
	if (!json_is_real(v))
		return false;
	double d = json_real_value(v);
	/* beyond 2^53 a double no longer tells integers apart */
	if (!(d > -9007199254740992.0 && d < 9007199254740992.0) || d != (double)(json_int_t)d)
		return false;
	*out = (json_int_t)d;
	return true;
}

static int get_port(walk *w, const char *path, const json_t *v, int *out)
{
	json_int_t n;
	if (!get_integral(v, &n))
		return werr(w, path,
			    "expected an integer from 1 to 65535, got %s",
			    type_name(v));
	if (n < 1 || n > 65535)
		return werr(w, path,
			    "expected an integer from 1 to 65535, got %" JSON_INTEGER_FORMAT,
			    n);
	*out = (int)n;
	return 0;
}

/* A string without NUL; non-empty unless allow_empty.  `what` names the
 * expected thing ("a domain pattern"). */
static int get_string(walk *w, const char *path, const json_t *v,
		      const char *what, bool allow_empty, const char **out)
{
	if (!json_is_string(v))
		return werr(w, path, "expected %s (a string), got %s", what,
			    type_name(v));
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (strlen(s) != n)
		return werr(w, path, "string contains a NUL character");
	if (n == 0 && !allow_empty)
		return werr(w, path, "expected %s, got an empty string", what);
	*out = s;
	return 0;
}

static int expect_array(walk *w, const char *path, const json_t *v,
			const char *what)
{
	if (!json_is_array(v))
		return werr(w, path, "expected an array of %s, got %s", what,
			    type_name(v));
	return 0;
}

static int expect_object(walk *w, const char *path, const json_t *v)
{
	if (!json_is_object(v))
		return werr(w, path, "expected an object, got %s", type_name(v));
	return 0;
}

/* ---- lists ----------------------------------------------------------- */

/* The reference's message for a pattern it refuses (0.0.83,
 * domain-pattern.js), so that a drop-in user sees the same words. */
#define REFERENCE_DOMAIN_MESSAGE                                                                   \
	"Must be a valid domain (e.g., \"example.com\"), a wildcard (e.g., \"*.example.com\"), or " \
	"a bracketed IPv6 literal (e.g., \"[::1]\", \"[2001:db8::1]:443\"). Overly broad patterns " \
	"like \"*.com\" or \"*\" are not allowed for security reasons."

/* An allowedDomains entry that would allow far more than anyone means:
 * "*", or a wildcard over a top-level domain ("*.com"). */
static bool too_broad(const srt_domain_pattern *d)
{
	return d->kind == SRT_DOMAIN_ANY || (d->kind == SRT_DOMAIN_WILDCARD && !strchr(d->host, '.'));
}

static int parse_domains(walk *w, const char *path, const json_t *arr,
			 srt_domain_list *out, bool allow_list)
{
	if (expect_array(w, path, arr, "domain patterns") < 0)
		return -1;
	size_t n = json_array_size(arr);
	if (n == 0)
		return 0;
	out->v = calloc(n, sizeof *out->v);
	if (!out->v)
		return nomem(w);
	size_t i;
	const json_t *item;
	json_array_foreach(arr, i, item) {
		char ip[PATH_BUF];
		const char *s = NULL;
		path_index(ip, path, i);
		if (get_string(w, ip, item, "a domain pattern", true, &s) < 0)
			return -1;
		char why[256], e[ESC_BUF];
		if (strstr(s, "://"))
			return werr(w, ip, "\"%s\" is a URL, not a domain pattern: name the host, e.g. "
					   "\"example.com\", \"*.example.com\" or \"example.com:443\"",
				    esc(s, e, sizeof e));
		if (srt_domain_pattern_parse(s, &out->v[out->n], why,
					     sizeof why) < 0) {
			if (errno == ENOMEM)
				return nomem(w);
			return werr(w, ip, "malformed domain pattern \"%s\": %s",
				    esc(s, e, sizeof e), why);
		}
		out->n++;
		if (allow_list && too_broad(&out->v[out->n - 1]))
			return werr(w, ip, "\"%s\": invalid domain pattern. %s", esc(s, e, sizeof e),
				    REFERENCE_DOMAIN_MESSAGE);
	}
	return 0;
}

/* "~" and "~/..." are the user's home; "~user" is not supported. */
static int check_fs_path(walk *w, const char *path, const char *s)
{
	if (s[0] == '~' && s[1] != '\0' && s[1] != '/')
		return werr(w, path,
			    "\"~user\" paths are not supported; use \"~\", "
			    "\"~/...\" or an absolute path");
	return 0;
}

static const char *const path_obj_keys[] = {"path", "literal", NULL};

static int parse_path_entry(walk *w, const char *path, const json_t *item,
			    srt_path_entry *out)
{
	const char *s = NULL;
	bool literal = false;

	if (json_is_string(item)) {
		if (get_string(w, path, item, "a path", false, &s) < 0)
			return -1;
	} else if (json_is_object(item)) {
		const char *key;
		json_t *v;
		const json_t *pv = NULL;
		json_object_foreach((json_t *)item, key, v) {
			char kp[PATH_BUF];
			path_key(kp, path, key);
			if (strcmp(key, "path") == 0) {
				if (get_string(w, kp, v, "a path", false, &s) < 0)
					return -1;
				pv = v;
			} else if (strcmp(key, "literal") == 0) {
				if (get_bool(w, kp, v, &literal) < 0)
					return -1;
			} else {
				return unknown_key(w, kp, path_obj_keys);
			}
		}
		if (!pv)
			return werr(w, path, "missing required key \"path\"");
		/* As the reference: an object is a path marked literal, or
		 * nothing; reading an unmarked one as a pattern or as a name
		 * would be a guess about a deny. */
		if (!literal)
			return werr(w, path,
				    "expected a path, or {\"path\": \"<path>\", \"literal\": true}; "
				    "an object without \"literal\": true is neither");
	} else {
		return werr(w, path,
			    "expected a path string or an object "
			    "{\"path\": \"...\", \"literal\": true}, got %s",
			    type_name(item));
	}
	if (check_fs_path(w, path, s) < 0)
		return -1;
	out->path = strdup(s);
	if (!out->path)
		return nomem(w);
	out->literal = literal;
	return 0;
}

static int parse_paths(walk *w, const char *path, const json_t *arr,
		       srt_path_list *out)
{
	if (expect_array(w, path, arr, "paths") < 0)
		return -1;
	size_t n = json_array_size(arr);
	if (n == 0)
		return 0;
	out->v = calloc(n, sizeof *out->v);
	if (!out->v)
		return nomem(w);
	size_t i;
	const json_t *item;
	json_array_foreach(arr, i, item) {
		char ip[PATH_BUF];
		path_index(ip, path, i);
		if (parse_path_entry(w, ip, item, &out->v[out->n]) < 0)
			return -1;
		out->n++;
	}
	return 0;
}

/* Array of non-empty strings into a string vector. */
static int parse_strv(walk *w, const char *path, const json_t *arr,
		      const char *what_plural, const char *what,
		      bool allow_empty, srt_strv *out)
{
	if (expect_array(w, path, arr, what_plural) < 0)
		return -1;
	size_t i;
	const json_t *item;
	json_array_foreach(arr, i, item) {
		char ip[PATH_BUF];
		const char *s = NULL;
		path_index(ip, path, i);
		if (get_string(w, ip, item, what, allow_empty, &s) < 0)
			return -1;
		if (srt_strv_push(out, s) < 0)
			return nomem(w);
	}
	return 0;
}

/* ---- CIDR ------------------------------------------------------------ */

static int parse_cidr(walk *w, const char *path, const char *s, srt_cidr *out)
{
	char e[ESC_BUF];
	char buf[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);

	memset(out, 0, sizeof *out);
	if (alen == 0 || alen >= sizeof buf)
		goto bad;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		out->prefix = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		out->prefix = 128;
	} else {
		goto bad;
	}
	if (slash && !srt_parse_prefix_len(slash + 1, out->prefix, &out->prefix))
		goto bad_prefix;
	/* clear the host bits */
	size_t bytes = out->family == AF_INET ? 4 : 16;
	for (size_t i = 0; i < bytes; i++) {
		unsigned bit = (unsigned)i * 8;
		if (bit >= out->prefix)
			out->addr[i] = 0;
		else if (out->prefix - bit < 8)
			out->addr[i] &= (unsigned char)(0xff00u >>
							(out->prefix - bit));
	}
	return 0;

bad:
	return werr(w, path,
		    "malformed address \"%s\": expected an IPv4 or IPv6 "
		    "address, optionally with a prefix length, as in "
		    "\"10.0.0.0/8\" or \"fd00::/8\"",
		    esc(s, e, sizeof e));
bad_prefix:
	return werr(w, path,
		    "malformed address \"%s\": the prefix length must be a "
		    "number from 0 to %u",
		    esc(s, e, sizeof e), out->family == AF_INET ? 32u : 128u);
}

static int parse_cidrs(walk *w, const char *path, const json_t *arr,
		       srt_config *cfg)
{
	if (expect_array(w, path, arr, "addresses") < 0)
		return -1;
	size_t n = json_array_size(arr);
	if (n == 0)
		return 0;
	cfg->denied_resolved = calloc(n, sizeof *cfg->denied_resolved);
	if (!cfg->denied_resolved)
		return nomem(w);
	size_t i;
	const json_t *item;
	json_array_foreach(arr, i, item) {
		char ip[PATH_BUF];
		const char *s = NULL;
		path_index(ip, path, i);
		if (get_string(w, ip, item, "an address or CIDR", false, &s) < 0)
			return -1;
		if (parse_cidr(w, ip, s,
			       &cfg->denied_resolved[cfg->n_denied_resolved]) < 0)
			return -1;
		cfg->n_denied_resolved++;
	}
	return 0;
}

/* ---- network ---------------------------------------------------------- */

/* Reasons end up in HTTP status lines and headers and on terminals: no C0
 * or C1 control characters, no DEL. */
static int check_reason(walk *w, const char *path, const char *s, size_t n)
{
	if (n == 0)
		return werr(w, path, "expected a reason, got an empty string");
	if (n > REASON_MAX)
		return werr(w, path, "reason is longer than %d bytes (%zu)",
			    REASON_MAX, n);
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n; i++) {
		bool ctl = u[i] < 0x20 || u[i] == 0x7f ||
			   (u[i] == 0xc2 && i + 1 < n && u[i + 1] >= 0x80 &&
			    u[i + 1] <= 0x9f);
		if (ctl)
			return werr(w, path,
				    "reason contains a control character");
	}
	return 0;
}

static int parse_reasons(walk *w, const char *path, const json_t *obj,
			 srt_config *cfg)
{
	if (expect_object(w, path, obj) < 0)
		return -1;
	size_t n = json_object_size(obj);
	if (n == 0)
		return 0;
	cfg->denied_reasons = calloc(n, sizeof *cfg->denied_reasons);
	if (!cfg->denied_reasons)
		return nomem(w);
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v) {
		char kp[PATH_BUF];
		path_mapkey(kp, path, key);
		bool found = false;
		for (size_t j = 0; j < cfg->denied_domains.n && !found; j++)
			found = strcmp(cfg->denied_domains.v[j].text, key) == 0;
		if (!found)
			return werr(w, kp,
				    "not an entry of network.deniedDomains "
				    "(keys must be written exactly as the "
				    "deniedDomains entry)");
		const char *s = NULL;
		if (get_string(w, kp, v, "a reason", true, &s) < 0)
			return -1;
		if (check_reason(w, kp, s, json_string_length(v)) < 0)
			return -1;
		srt_reason *r = &cfg->denied_reasons[cfg->n_denied_reasons];
		r->entry = strdup(key);
		r->reason = strdup(s);
		cfg->n_denied_reasons++;
		if (!r->entry || !r->reason)
			return nomem(w);
	}
	return 0;
}

static const char *const network_keys[] = {
	"allowedDomains",	   "deniedDomains",	 "deniedDomainReasons",
	"deniedResolvedAddresses", "allowUnixSockets",	 "allowAllUnixSockets",
	"allowLocalBinding",	   "httpProxyPort",	 "socksProxyPort",
	"hostPorts",		   "strictAllowlist",	 "parentProxy",
	NULL,
};

static const char *const parent_proxy_keys[] = {"http", "https", "noProxy", NULL};

/* parentProxy {http, https, noProxy}: the URLs are checked here, so that a
 * mistake is reported with its key path (upstream.h parses them again). */
static int parse_parent_proxy(walk *w, const char *path, const json_t *obj, srt_config *cfg)
{
	if (expect_object(w, path, obj) < 0)
		return -1;
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v) {
		char kp[PATH_BUF];
		path_key(kp, path, key);
		bool url = strcmp(key, "http") == 0 || strcmp(key, "https") == 0;
		char **slot = strcmp(key, "http") == 0	  ? &cfg->parent_http
			      : strcmp(key, "https") == 0 ? &cfg->parent_https
			      : strcmp(key, "noProxy") == 0 ? &cfg->parent_no_proxy
							    : NULL;
		if (!slot)
			return other_key(w, cfg, "parentProxy", key, kp, v, parent_proxy_keys);
		const char *s = NULL;
		if (get_string(w, kp, v, url ? "a proxy URL" : "a comma-separated list", !url, &s) < 0)
			return -1;
		if (url) {
			srt_parent p;
			char why[200];
			if (srt_parent_parse(s, &p, why, sizeof why) < 0)
				return werr(w, kp, "%s", why);
			srt_parent_clear(&p);
		}
		free(*slot);
		if (!(*slot = strdup(s)))
			return nomem(w);
	}
	return 0;
}

/* hostPorts (our extension): ports of the host's loopback that
 * localhost:PORT inside the sandbox reaches. */
static int parse_host_ports(walk *w, const char *path, const json_t *arr,
			    srt_config *cfg)
{
	if (expect_array(w, path, arr, "port numbers") < 0)
		return -1;
	if (json_array_size(arr) > SRT_MAX_HOST_PORTS)
		return werr(w, path, "at most %d ports", SRT_MAX_HOST_PORTS);
	for (size_t i = 0; i < json_array_size(arr); i++) {
		char ip[PATH_BUF];
		int port;
		path_index(ip, path, i);
		if (get_port(w, ip, json_array_get(arr, i), &port) < 0)
			return -1;
		if (port == 3128 || port == 1080)
			return werr(w, ip, "port %d is where srt's own proxies listen inside the sandbox", port);
		for (size_t k = 0; k < cfg->n_host_ports; k++)
			if (cfg->host_ports[k] == port)
				return werr(w, ip, "port %d is listed twice", port);
		cfg->host_ports[cfg->n_host_ports++] = port;
	}
	return 0;
}

static int parse_network(walk *w, const char *path, const json_t *obj,
			 srt_config *cfg)
{
	if (expect_object(w, path, obj) < 0)
		return -1;
	const json_t *reasons = NULL;
	char reasons_path[PATH_BUF] = "";
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v) {
		char kp[PATH_BUF];
		int r;
		path_key(kp, path, key);
		if (strcmp(key, "allowedDomains") == 0) {
			r = parse_domains(w, kp, v, &cfg->allowed_domains, true);
		} else if (strcmp(key, "deniedDomains") == 0) {
			r = parse_domains(w, kp, v, &cfg->denied_domains, false);
		} else if (strcmp(key, "deniedDomainReasons") == 0) {
			/* checked against deniedDomains once that is known */
			reasons = v;
			memcpy(reasons_path, kp, sizeof reasons_path);
			r = 0;
		} else if (strcmp(key, "deniedResolvedAddresses") == 0) {
			r = parse_cidrs(w, kp, v, cfg);
		} else if (strcmp(key, "allowUnixSockets") == 0) {
			r = parse_strv(w, kp, v, "socket paths", "a socket path",
				       false, &cfg->allow_unix_sockets);
		} else if (strcmp(key, "allowAllUnixSockets") == 0) {
			r = get_bool(w, kp, v, &cfg->allow_all_unix_sockets);
		} else if (strcmp(key, "allowLocalBinding") == 0) {
			r = get_bool(w, kp, v, &cfg->allow_local_binding);
		} else if (strcmp(key, "httpProxyPort") == 0) {
			r = get_port(w, kp, v, &cfg->http_proxy_port);
		} else if (strcmp(key, "socksProxyPort") == 0) {
			r = get_port(w, kp, v, &cfg->socks_proxy_port);
		} else if (strcmp(key, "hostPorts") == 0) {
			r = parse_host_ports(w, kp, v, cfg);
		} else if (strcmp(key, "strictAllowlist") == 0) {
			r = get_bool(w, kp, v, &cfg->strict_allowlist);
		} else if (strcmp(key, "parentProxy") == 0) {
			r = parse_parent_proxy(w, kp, v, cfg);
		} else {
			r = other_key(w, cfg, "network", key, kp, v, network_keys);
		}
		if (r < 0)
			return -1;
	}
	if (reasons && parse_reasons(w, reasons_path, reasons, cfg) < 0)
		return -1;
	return 0;
}

/* ---- filesystem ------------------------------------------------------ */

static const char *const filesystem_keys[] = {
	"denyRead", "allowRead", "allowWrite", "denyWrite", "disabled", "allowGitConfig", NULL,
};

static int parse_filesystem(walk *w, const char *path, const json_t *obj,
			    srt_config *cfg)
{
	if (expect_object(w, path, obj) < 0)
		return -1;
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v) {
		char kp[PATH_BUF];
		int r;
		path_key(kp, path, key);
		if (strcmp(key, "denyRead") == 0)
			r = parse_paths(w, kp, v, &cfg->deny_read);
		else if (strcmp(key, "allowRead") == 0)
			r = parse_paths(w, kp, v, &cfg->allow_read);
		else if (strcmp(key, "allowWrite") == 0)
			r = parse_paths(w, kp, v, &cfg->allow_write);
		else if (strcmp(key, "denyWrite") == 0)
			r = parse_paths(w, kp, v, &cfg->deny_write);
		else if (strcmp(key, "disabled") == 0)
			r = get_bool(w, kp, v, &cfg->fs_disabled);
		else if (strcmp(key, "allowGitConfig") == 0)
			r = get_bool(w, kp, v, &cfg->allow_git_config);
		else
			r = other_key(w, cfg, "filesystem", key, kp, v, filesystem_keys);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* ---- git ------------------------------------------------------------- */

static const char *const git_keys[] = {"safeDirectories", NULL};

/* Strings; an empty one is skipped, as the reference does. */
static int parse_safe_dirs(walk *w, const char *path, const json_t *arr, srt_strv *out)
{
	if (expect_array(w, path, arr, "directories") < 0)
		return -1;
	size_t i;
	const json_t *item;
	json_array_foreach(arr, i, item) {
		char ip[PATH_BUF];
		const char *s = NULL;
		path_index(ip, path, i);
		if (get_string(w, ip, item, "a directory", true, &s) < 0)
			return -1;
		if (s[0] && srt_strv_push(out, s) < 0)
			return nomem(w);
	}
	return 0;
}

/* git.safeDirectories: marked safe.directory inside (sandbox.c); no write
 * is granted. */
static int parse_git(walk *w, const char *path, const json_t *obj, srt_config *cfg)
{
	if (expect_object(w, path, obj) < 0)
		return -1;
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v) {
		char kp[PATH_BUF];
		int r;
		path_key(kp, path, key);
		if (strcmp(key, "safeDirectories") == 0)
			r = parse_safe_dirs(w, kp, v, &cfg->git_safe_dirs);
		else
			r = other_key(w, cfg, "git", key, kp, v, git_keys);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* ---- ignoreViolations -------------------------------------------------- */

static int parse_ignore(walk *w, const char *path, const json_t *obj,
			srt_config *cfg)
{
	if (expect_object(w, path, obj) < 0)
		return -1;
	size_t n = json_object_size(obj);
	if (n == 0)
		return 0;
	cfg->ignore_violations = calloc(n, sizeof *cfg->ignore_violations);
	if (!cfg->ignore_violations)
		return nomem(w);
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v) {
		char kp[PATH_BUF];
		path_mapkey(kp, path, key);
		/* "" is accepted as the reference accepts it: a substring of
		 * every command, as "" in the list is of every violation */
		/* count first: the slot is freed even if filled partially */
		srt_ignore_rule *rule =
			&cfg->ignore_violations[cfg->n_ignore_violations++];
		rule->command = strdup(key);
		if (!rule->command)
			return nomem(w);
		if (parse_strv(w, kp, v, "paths", "a path", true, &rule->paths) < 0)
			return -1;
	}
	return 0;
}

/* ---- top level ------------------------------------------------------- */

static const char *const top_keys[] = {
	"network",
	"filesystem",
	"ignoreViolations",
	"enableWeakerNestedSandbox",
	"allowNestedUserNamespaces",
	"mandatoryDenySearchDepth",
	"git",
	NULL,
};

static int parse_depth(walk *w, const char *path, const json_t *v, int *out)
{
	json_int_t n;
	if (!get_integral(v, &n))
		return werr(w, path, "must be an integer from 1 to 10, got %s",
			    type_name(v));
	if (n < 1 || n > 10)
		return werr(w, path,
			    "must be an integer from 1 to 10, got %" JSON_INTEGER_FORMAT,
			    n);
	*out = (int)n;
	return 0;
}

static int parse_top(walk *w, const json_t *root, srt_config *cfg)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)root, key, v) {
		char kp[PATH_BUF];
		int r;
		path_key(kp, NULL, key);
		if (strcmp(key, "network") == 0)
			r = parse_network(w, kp, v, cfg);
		else if (strcmp(key, "filesystem") == 0)
			r = parse_filesystem(w, kp, v, cfg);
		else if (strcmp(key, "ignoreViolations") == 0)
			r = parse_ignore(w, kp, v, cfg);
		else if (strcmp(key, "enableWeakerNestedSandbox") == 0)
			r = get_bool(w, kp, v, &cfg->enable_weaker_nested_sandbox);
		else if (strcmp(key, "allowNestedUserNamespaces") == 0)
			r = get_bool(w, kp, v, &cfg->allow_nested_user_namespaces);
		else if (strcmp(key, "mandatoryDenySearchDepth") == 0)
			r = parse_depth(w, kp, v, &cfg->mandatory_deny_search_depth);
		else if (strcmp(key, "git") == 0)
			r = parse_git(w, kp, v, cfg);
		else
			r = other_key(w, cfg, NULL, key, kp, v, top_keys);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* ---- public ---------------------------------------------------------- */

static srt_config *new_config(const char *source, srt_error *err)
{
	srt_config *cfg = calloc(1, sizeof *cfg);
	if (!cfg) {
		srt_fail(err, SRT_E_NOMEM, "out of memory");
		return NULL;
	}
	cfg->source = strdup(source);
	if (!cfg->source) {
		free(cfg);
		srt_fail(err, SRT_E_NOMEM, "out of memory");
		return NULL;
	}
	cfg->mandatory_deny_search_depth = SRT_DEFAULT_SEARCH_DEPTH;
	return cfg;
}

srt_config *srt_config_defaults(srt_error *err)
{
	return new_config(DEFAULTS_SOURCE, err);
}

srt_config *srt_config_parse(const char *json, size_t len, const char *name,
			     srt_error *err)
{
	if (!name)
		name = "<settings>";
	if (!json && len > 0) {
		srt_fail(err, SRT_E_INVALID, "%s: no settings text given", name);
		return NULL;
	}
	size_t blank = 0;
	while (blank < len && (json[blank] == ' ' || json[blank] == '\t' ||
			       json[blank] == '\n' || json[blank] == '\r'))
		blank++;
	if (blank == len) {
		srt_fail(err, SRT_E_CONFIG, "%s: file is empty%s", name,
			 len ? " (only white space)" : "");
		return NULL;
	}
	/* A UTF-8 byte order mark is invisible in editors; skip it so that
	 * line and column numbers match what the user sees. */
	if (len >= 3 && memcmp(json, "\xef\xbb\xbf", 3) == 0) {
		json += 3;
		len -= 3;
	}

	json_error_t jerr;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES |
						     JSON_DECODE_ANY, &jerr);
	if (!root) {
		char e[ESC_BUF];
		esc_n(jerr.text, strnlen(jerr.text, sizeof jerr.text), false,
		      e, sizeof e);
		if (jerr.line > 0 && jerr.column > 0)
			srt_fail(err, SRT_E_CONFIG, "%s:%d:%d: %s", name,
				 jerr.line, jerr.column, e);
		else
			srt_fail(err, SRT_E_CONFIG, "%s: %s", name, e);
		return NULL;
	}
	if (!json_is_object(root)) {
		srt_fail(err, SRT_E_CONFIG,
			 "%s: the settings must be a JSON object, got %s", name,
			 type_name(root));
		json_decref(root);
		return NULL;
	}

	srt_config *cfg = new_config(name, err);
	if (!cfg) {
		json_decref(root);
		return NULL;
	}
	walk w = {.name = name, .err = err};
	int r = parse_top(&w, root, cfg);
	json_decref(root);
	if (r < 0) {
		srt_config_free(cfg);
		return NULL;
	}
	return cfg;
}

static char *join_settings(const char *dir, srt_error *err)
{
	char *p = srt_path_join(dir, SETTINGS_FILE);
	if (!p)
		srt_fail(err, SRT_E_NOMEM, "out of memory");
	return p;
}

/* $HOME/.srt-settings.json, HOME falling back to the password database. */
char *srt_config_default_path(srt_error *err)
{
	const char *home = getenv("HOME");
	if (home && home[0])
		return join_settings(home, err);

	long sz = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t bufsz = sz > 0 ? (size_t)sz : 16384;
	for (;;) {
		SRT_AUTOFREE char *buf = malloc(bufsz);
		struct passwd pw, *res = NULL;
		if (!buf) {
			srt_fail(err, SRT_E_NOMEM, "out of memory");
			return NULL;
		}
		int r = getpwuid_r(getuid(), &pw, buf, bufsz, &res);
		if (r == ERANGE && bufsz < ((size_t)1 << 20)) {
			bufsz *= 2;
			continue;
		}
		if (r != 0 || !res || !res->pw_dir || !res->pw_dir[0]) {
			srt_fail(err, SRT_E_CONFIG,
				 "cannot find the home directory for the default "
				 "settings file ~/" SETTINGS_FILE
				 " (set HOME or pass --settings FILE)");
			return NULL;
		}
		return join_settings(res->pw_dir, err);
	}
}

/* Read a regular file of at most MAX_FILE_SIZE bytes. */
static char *read_settings(int fd, const char *path, size_t *len_out,
			   srt_error *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0) {
		srt_fail_errno(err, SRT_E_CONFIG, errno, "%s: cannot stat",
			       path);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		srt_fail(err, SRT_E_CONFIG, "%s: not a regular file", path);
		return NULL;
	}
	if (st.st_size < 0 || (unsigned long long)st.st_size > MAX_FILE_SIZE) {
		srt_fail(err, SRT_E_CONFIG,
			 "%s: file is too large (%lld bytes; the limit is 4 MiB)",
			 path, (long long)st.st_size);
		return NULL;
	}
	/* The file may change under us: read to EOF but never past the
	 * limit. */
	size_t cap = (size_t)st.st_size + 1;
	size_t len = 0;
	SRT_AUTOFREE char *buf = malloc(cap);
	if (!buf) {
		srt_fail(err, SRT_E_NOMEM, "out of memory");
		return NULL;
	}
	for (;;) {
		if (len == cap) {
			if (cap > MAX_FILE_SIZE) {
				srt_fail(err, SRT_E_CONFIG,
					 "%s: file is too large (the limit is "
					 "4 MiB)", path);
				return NULL;
			}
			size_t ncap = cap * 2 > MAX_FILE_SIZE + 1
					      ? MAX_FILE_SIZE + 1
					      : cap * 2;
			char *nb = realloc(buf, ncap);
			if (!nb) {
				srt_fail(err, SRT_E_NOMEM, "out of memory");
				return NULL;
			}
			buf = nb;
			cap = ncap;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			srt_fail_errno(err, SRT_E_CONFIG, errno,
				       "%s: cannot read", path);
			return NULL;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > MAX_FILE_SIZE) {
		srt_fail(err, SRT_E_CONFIG,
			 "%s: file is too large (the limit is 4 MiB)", path);
		return NULL;
	}
	*len_out = len;
	return srt_steal_ptr(&buf);
}

static srt_config *with_settings_path(srt_config *cfg, const char *path, srt_error *err)
{
	if (cfg && !(cfg->settings_path = strdup(path))) {
		srt_config_free(cfg);
		srt_fail(err, SRT_E_NOMEM, "out of memory");
		return NULL;
	}
	return cfg;
}

srt_config *srt_config_load(const char *path, srt_error *err)
{
	SRT_AUTOFREE char *defpath = NULL;
	bool is_default = path == NULL;
	if (is_default) {
		defpath = srt_config_default_path(err);
		if (!defpath)
			return NULL;
		path = defpath;
	} else if (path[0] == '\0') {
		srt_fail(err, SRT_E_CONFIG, "empty settings file name");
		return NULL;
	}

	/* O_NONBLOCK: opening a FIFO must not hang before we can refuse it. */
	SRT_AUTOCLOSE int fd =
		open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		struct stat st;
		if (is_default && e == ENOENT) {
			if (lstat(path, &st) == 0) {
				srt_fail(err, SRT_E_CONFIG,
					 "%s: is a symbolic link to a file "
					 "that does not exist",
					 path);
				return NULL;
			}
			return with_settings_path(srt_config_defaults(err), path, err);
		}
		srt_fail_errno(err, SRT_E_CONFIG, e,
			       "%s: cannot open the settings file", path);
		return NULL;
	}
	size_t len = 0;
	SRT_AUTOFREE char *buf = read_settings(fd, path, &len, err);
	if (!buf)
		return NULL;
	return with_settings_path(srt_config_parse(buf, len, path, err), path, err);
}

const char *srt_config_source(const srt_config *cfg)
{
	return cfg ? cfg->source : NULL;
}

static void free_domains(srt_domain_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		srt_domain_pattern_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void free_paths(srt_path_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].path);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void srt_config_free(srt_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->source);
	free(cfg->settings_path);
	free_domains(&cfg->allowed_domains);
	free_domains(&cfg->denied_domains);
	for (size_t i = 0; i < cfg->n_denied_reasons; i++) {
		free(cfg->denied_reasons[i].entry);
		free(cfg->denied_reasons[i].reason);
	}
	free(cfg->denied_reasons);
	free(cfg->denied_resolved);
	free(cfg->parent_http);
	free(cfg->parent_https);
	free(cfg->parent_no_proxy);
	srt_strv_clear(&cfg->allow_unix_sockets);
	free_paths(&cfg->deny_read);
	free_paths(&cfg->allow_read);
	free_paths(&cfg->allow_write);
	free_paths(&cfg->deny_write);
	for (size_t i = 0; i < cfg->n_ignore_violations; i++) {
		free(cfg->ignore_violations[i].command);
		srt_strv_clear(&cfg->ignore_violations[i].paths);
	}
	free(cfg->ignore_violations);
	srt_strv_clear(&cfg->warnings);
	srt_strv_clear(&cfg->git_safe_dirs);
	free(cfg);
}
