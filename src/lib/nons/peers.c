/* peers.c - the registry of authorized local clients (peers.h).  A ring:
 * the slot at `head` is always the oldest (or empty), so adding to a full
 * table drops the oldest entry. */
#include "nons/peers.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct peer {
	uint16_t port; /* 0: empty */
	uint64_t expires;
};

struct srt_peer_registry {
	pthread_mutex_t lock;
	struct peer *slots;
	size_t cap, head;
	unsigned ttl_ms;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

srt_peer_registry *srt_peers_new(size_t capacity, unsigned ttl_ms)
{
	srt_peer_registry *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->cap = capacity ? capacity : SRT_PEERS_DEFAULT_CAPACITY;
	r->ttl_ms = ttl_ms ? ttl_ms : SRT_PEERS_DEFAULT_TTL_MS;
	r->slots = calloc(r->cap, sizeof *r->slots);
	if (!r->slots || pthread_mutex_init(&r->lock, NULL) != 0) {
		free(r->slots);
		free(r);
		return NULL;
	}
	return r;
}

void srt_peers_free(srt_peer_registry *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r->slots);
	free(r);
}

void srt_peers_add_at(srt_peer_registry *r, uint16_t port, uint64_t now)
{
	if (!port)
		return;
	pthread_mutex_lock(&r->lock);
	r->slots[r->head] = (struct peer){.port = port, .expires = now + r->ttl_ms};
	r->head = (r->head + 1) % r->cap;
	pthread_mutex_unlock(&r->lock);
}

bool srt_peers_take_at(srt_peer_registry *r, uint16_t port, uint64_t now)
{
	if (!port)
		return false;
	bool found = false;
	pthread_mutex_lock(&r->lock);
	/* the oldest live registration first */
	for (size_t k = 0; k < r->cap && !found; k++) {
		struct peer *p = &r->slots[(r->head + k) % r->cap];
		if (p->port && p->expires <= now)
			p->port = 0; /* expired */
		else if (p->port == port) {
			p->port = 0;
			found = true;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return found;
}

size_t srt_peers_count_at(srt_peer_registry *r, uint64_t now)
{
	size_t n = 0;
	pthread_mutex_lock(&r->lock);
	for (size_t k = 0; k < r->cap; k++)
		n += r->slots[k].port && r->slots[k].expires > now;
	pthread_mutex_unlock(&r->lock);
	return n;
}

void srt_peers_add(srt_peer_registry *r, uint16_t port) { srt_peers_add_at(r, port, now_ms()); }
bool srt_peers_take(srt_peer_registry *r, uint16_t port) { return srt_peers_take_at(r, port, now_ms()); }
size_t srt_peers_count(srt_peer_registry *r) { return srt_peers_count_at(r, now_ms()); }

void srt_peers_authorize(void *data, uint16_t local_port) { srt_peers_add(data, local_port); }
