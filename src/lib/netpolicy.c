/* netpolicy.c - indexed domain policy.  Exact names and wildcard suffixes
 * go into open-addressing hash tables (FNV-1a); "*" entries and IP literals
 * are short lists checked with srt_domain_pattern_match. */
#include "netpolicy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "util.h"

typedef struct entry {
	srt_domain_pattern pat;
	size_t order;        /* position in the settings list */
	char *reason;        /* deny only (a copy: the settings may be freed) */
} entry;

/* name -> first entry index; entries with the same key are chained. */
typedef struct slot {
	const char *key; /* points into an entry's pat.host */
	size_t len;
	uint32_t first;  /* entry index + 1; 0 = empty slot */
} slot;

typedef struct side {
	entry *v;
	size_t n;
	uint32_t *next;  /* chain: entry index -> next entry index + 1 */
	slot *exact, *wild;
	size_t cap;      /* power of two, >= 2 * n */
	uint32_t *others; /* ANY and IP entries: indexes */
	size_t n_others;
} side;

struct srt_netpolicy {
	side deny, allow;
};

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static uint32_t *slot_find(slot *tab, size_t cap, const char *key, size_t len, bool insert)
{
	size_t mask = cap - 1;
	for (size_t i = fnv1a(key, len) & mask, probes = 0; probes < cap; i = (i + 1) & mask, probes++) {
		if (!tab[i].first) {
			if (!insert)
				return NULL;
			tab[i].key = key;
			tab[i].len = len;
			return &tab[i].first;
		}
		if (tab[i].len == len && memcmp(tab[i].key, key, len) == 0)
			return &tab[i].first;
	}
	return NULL;
}

static int side_build(side *s, const srt_domain_list *list, const srt_config *cfg,
		      bool is_deny, srt_error *err)
{
	s->n = list->n;
	s->cap = 16;
	while (s->cap < 2 * s->n + 2)
		s->cap *= 2;
	s->v = calloc(s->n + 1, sizeof *s->v);
	s->next = calloc(s->n + 1, sizeof *s->next);
	s->exact = calloc(s->cap, sizeof *s->exact);
	s->wild = calloc(s->cap, sizeof *s->wild);
	s->others = calloc(s->n + 1, sizeof *s->others);
	if (!s->v || !s->next || !s->exact || !s->wild || !s->others)
		return srt_fail(err, SRT_E_NOMEM, "out of memory");
	for (size_t i = 0; i < s->n; i++) {
		entry *e = &s->v[i];
		/* already parsed and validated by config.c: copy, do not reparse */
		e->pat = list->v[i];
		e->pat.text = strdup(list->v[i].text);
		e->pat.host = list->v[i].host ? strdup(list->v[i].host) : NULL;
		if (!e->pat.text || (list->v[i].host && !e->pat.host))
			return srt_fail(err, SRT_E_NOMEM, "out of memory");
		e->order = i;
		if (is_deny)
			for (size_t r = 0; r < cfg->n_denied_reasons && !e->reason; r++)
				if (strcmp(cfg->denied_reasons[r].entry, list->v[i].text) == 0 &&
				    !(e->reason = strdup(cfg->denied_reasons[r].reason)))
					return srt_fail(err, SRT_E_NOMEM, "out of memory");
		slot *tab = e->pat.kind == SRT_DOMAIN_EXACT ? s->exact
			  : e->pat.kind == SRT_DOMAIN_WILDCARD ? s->wild : NULL;
		if (!tab) {
			s->others[s->n_others++] = (uint32_t)i;
			continue;
		}
		uint32_t *head = slot_find(tab, s->cap, e->pat.host, strlen(e->pat.host), true);
		if (!head)
			return srt_fail(err, SRT_E_NOMEM, "domain index full");
		/* append to the chain, keeping settings order */
		if (!*head) {
			*head = (uint32_t)i + 1;
		} else {
			uint32_t k = *head - 1;
			while (s->next[k])
				k = s->next[k] - 1;
			s->next[k] = (uint32_t)i + 1;
		}
	}
	return 0;
}

static void side_free(side *s)
{
	for (size_t i = 0; i < s->n && s->v; i++) {
		srt_domain_pattern_free(&s->v[i].pat);
		free(s->v[i].reason);
	}
	free(s->v);
	free(s->next);
	free(s->exact);
	free(s->wild);
	free(s->others);
}

srt_netpolicy *srt_netpolicy_new(const srt_config *cfg, srt_error *err)
{
	srt_netpolicy *np = calloc(1, sizeof *np);
	if (!np) {
		srt_fail(err, SRT_E_NOMEM, "out of memory");
		return NULL;
	}
	if (side_build(&np->deny, &cfg->denied_domains, cfg, true, err) < 0 ||
	    side_build(&np->allow, &cfg->allowed_domains, cfg, false, err) < 0) {
		srt_netpolicy_free(np);
		return NULL;
	}
	return np;
}

void srt_netpolicy_free(srt_netpolicy *np)
{
	if (!np)
		return;
	side_free(&np->deny);
	side_free(&np->allow);
	free(np);
}

size_t srt_netpolicy_size(const srt_netpolicy *np)
{
	return np->deny.n + np->allow.n;
}

/* Lowercase, strip one trailing dot and IPv6 brackets into buf. */
static size_t normalise(const char *host, char *buf, size_t cap)
{
	size_t n = strlen(host);
	if (n >= cap)
		return 0;
	for (size_t i = 0; i < n; i++)
		buf[i] = (host[i] >= 'A' && host[i] <= 'Z') ? (char)(host[i] + 32) : host[i];
	buf[n] = '\0';
	if (n > 1 && buf[n - 1] == '.')
		buf[--n] = '\0';
	return n;
}

static void consider(const side *s, uint32_t idx, const char *host, int port,
		     const entry **best)
{
	const entry *e = &s->v[idx];
	if ((!*best || e->order < (*best)->order) && srt_domain_pattern_match(&e->pat, host, port))
		*best = e;
}

static void chain(const side *s, const uint32_t *head, const char *host, int port,
		  const entry **best)
{
	for (uint32_t k = head ? *head : 0; k; k = s->next[k - 1])
		consider(s, k - 1, host, port, best);
}

/* The first entry (settings order) of this side that matches. */
static const entry *side_match(const side *s, const char *host, int port)
{
	const entry *best = NULL;
	char buf[300];
	size_t n = normalise(host, buf, sizeof buf);
	if (n == 0)
		return NULL;
	chain(s, slot_find(s->exact, s->cap, buf, n, false), host, port, &best);
	/* every proper suffix after a '.' is a wildcard candidate */
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '.' && i + 1 < n)
			chain(s, slot_find(s->wild, s->cap, buf + i + 1, n - i - 1, false), host, port, &best);
	for (size_t i = 0; i < s->n_others; i++)
		consider(s, s->others[i], host, port, &best);
	return best;
}

void srt_netpolicy_check(const srt_netpolicy *np, const char *host, int port,
			 srt_net_verdict *out)
{
	*out = (srt_net_verdict){0};
	const entry *d = side_match(&np->deny, host, port);
	if (d) {
		out->rule = d->pat.text;
		out->reason = d->reason ? d->reason : "denied by deniedDomains";
		return;
	}
	const entry *a = side_match(&np->allow, host, port);
	if (a) {
		out->allowed = true;
		out->rule = a->pat.text;
		out->by_ip_literal = a->pat.kind == SRT_DOMAIN_IPV4 || a->pat.kind == SRT_DOMAIN_IPV6;
		return;
	}
	out->reason = "not in allowedDomains";
}

bool srt_netpolicy_literal_allowed(const srt_netpolicy *np, const char *addr, int port)
{
	if (side_match(&np->deny, addr, port))
		return false;
	const entry *a = side_match(&np->allow, addr, port);
	return a && (a->pat.kind == SRT_DOMAIN_IPV4 || a->pat.kind == SRT_DOMAIN_IPV6);
}
