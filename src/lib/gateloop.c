/* gateloop.c - the allowUnixSockets mediator on the proxies' loop.
 *
 * A connect(2) on a non-blocking socket is answered on the loop (it does
 * not wait).  One on a blocking socket may wait (a full backlog): it is
 * finished on a detached thread of its own, at most GATE_THREADS at once
 * (beyond that the command gets EAGAIN), so neither the loop nor srt's
 * exit ever waits for it.  listen(2) and the metadata calls of the
 * no-namespace mode are answered on the loop (the meta handler's data
 * lives as long as the loop; a detached thread could outlive it). */
#include "gateloop.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define GATE_THREADS 64

/* Shared with the detached threads, which may outlive the loop. */
typedef struct gate_shared {
	atomic_int refs;
	atomic_int threads;
} gate_shared;

struct srt_gateloop {
	uv_poll_t chan, notify;
	int chan_fd, notify_fd;
	bool chan_open, notify_open;
	int handles;       /* open libuv handles */
	bool closing;      /* srt_gateloop_close was called: free with the last handle */
	const srt_unixgate *gate;
	srt_violation_fn on_violation;
	void *data;
	gate_shared *shared;
};

static void shared_put(gate_shared *s)
{
	if (atomic_fetch_sub(&s->refs, 1) == 1)
		free(s);
}

typedef struct gate_job {
	int notify_fd; /* our own duplicate */
	srt_gate_call call;
	gate_shared *shared;
} gate_job;

static void *job_main(void *arg)
{
	gate_job *j = arg;
	srt_unixgate_finish(j->notify_fd, &j->call);
	close(j->notify_fd);
	atomic_fetch_sub(&j->shared->threads, 1);
	shared_put(j->shared);
	free(j);
	return NULL;
}

/* Finish a blocking call on a thread of its own; false: not possible. */
static bool finish_on_thread(srt_gateloop *gl, srt_gate_call *call)
{
	if (atomic_fetch_add(&gl->shared->threads, 1) >= GATE_THREADS) {
		atomic_fetch_sub(&gl->shared->threads, 1);
		return false;
	}
	gate_job *j = malloc(sizeof *j);
	int fd = fcntl(gl->notify_fd, F_DUPFD_CLOEXEC, 0);
	pthread_attr_t attr;
	pthread_t t;
	bool ok = j && fd >= 0 && pthread_attr_init(&attr) == 0;
	if (ok) {
		*j = (gate_job){.notify_fd = fd, .call = *call, .shared = gl->shared};
		atomic_fetch_add(&gl->shared->refs, 1);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		ok = pthread_create(&t, &attr, job_main, j) == 0;
		pthread_attr_destroy(&attr);
		if (!ok)
			atomic_fetch_sub(&gl->shared->refs, 1);
	}
	if (!ok) {
		free(j);
		if (fd >= 0)
			close(fd);
		atomic_fetch_sub(&gl->shared->threads, 1);
	}
	return ok;
}

static void record(srt_gateloop *gl, const srt_gate_call *call)
{
	if (!gl->on_violation)
		return;
	struct timeval tv;
	gettimeofday(&tv, NULL);
	srt_violation v = {
		.kind = "network", .protocol = "unix", .host = call->path, .port = 0,
		.rule = "allowUnixSockets", .reason = "socket not listed in allowUnixSockets",
		.time = (double)tv.tv_sec + tv.tv_usec / 1e6,
	};
	gl->on_violation(&v, gl->data);
}

static void gateloop_free(srt_gateloop *gl)
{
	shared_put(gl->shared);
	free(gl);
}

static void on_closed(uv_handle_t *h)
{
	srt_gateloop *gl = h->data;
	if (--gl->handles == 0 && gl->closing)
		gateloop_free(gl);
}

static void stop_notify(srt_gateloop *gl)
{
	if (!gl->notify_open)
		return;
	gl->notify_open = false;
	uv_close((uv_handle_t *)&gl->notify, on_closed);
	close(gl->notify_fd); /* the command's calls now fail (ENOSYS) */
}

static void stop_chan(srt_gateloop *gl)
{
	if (!gl->chan_open)
		return;
	gl->chan_open = false;
	uv_close((uv_handle_t *)&gl->chan, on_closed);
	close(gl->chan_fd);
}

static void on_notify(uv_poll_t *h, int status, int events)
{
	srt_gateloop *gl = h->data;
	(void)events;
	/* RECV would wait for the next call: take one only when poll says it
	 * is there; a hang-up means no process uses the filter any more */
	struct pollfd p = {.fd = gl->notify_fd, .events = POLLIN};
	if (status < 0 || poll(&p, 1, 0) < 0 || (p.revents & (POLLHUP | POLLERR | POLLNVAL))) {
		stop_notify(gl);
		return;
	}
	if (!(p.revents & POLLIN))
		return;
	srt_gate_call call;
	int r = srt_unixgate_receive(gl->gate, gl->notify_fd, &call);
	if (r < 0) {
		stop_notify(gl);
		return;
	}
	if (r == 0)
		return;
	if (call.refused)
		record(gl, &call);
	if (call.op == SRT_GATE_CONNECT && call.sock >= 0 && call.blocking) {
		if (finish_on_thread(gl, &call))
			return;
		srt_unixgate_drop(&call, EAGAIN); /* too many waiting already */
	}
	srt_unixgate_finish(gl->notify_fd, &call);
}

/* The command's seccomp listener, passed once over the channel. */
static void on_chan(uv_poll_t *h, int status, int events)
{
	srt_gateloop *gl = h->data;
	(void)events;
	int fd = -1;
	int n = status < 0 ? -1 : srt_recv_fds(gl->chan_fd, &fd, 1);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n != 1)
		fd = -1;
	stop_chan(gl); /* one message, or EOF: done with the channel either way */
	if (fd < 0 || gl->notify_open)
		return;
	gl->notify_fd = fd;
	if (uv_poll_init(h->loop, &gl->notify, fd) < 0) {
		close(fd);
		return;
	}
	gl->notify.data = gl;
	gl->notify_open = true;
	gl->handles++;
	uv_poll_start(&gl->notify, UV_READABLE, on_notify);
}

srt_gateloop *srt_gateloop_start(uv_loop_t *loop, int chan_fd, const srt_unixgate *gate,
				 srt_violation_fn on_violation, void *data)
{
	srt_gateloop *gl = calloc(1, sizeof *gl);
	gate_shared *s = calloc(1, sizeof *s);
	if (!gl || !s || uv_poll_init(loop, &gl->chan, chan_fd) < 0) {
		free(gl);
		free(s);
		close(chan_fd);
		return NULL;
	}
	atomic_init(&s->refs, 1);
	atomic_init(&s->threads, 0);
	gl->shared = s;
	gl->chan_fd = chan_fd;
	gl->notify_fd = -1;
	gl->gate = gate;
	gl->on_violation = on_violation;
	gl->data = data;
	gl->chan.data = gl;
	gl->chan_open = true;
	gl->handles = 1;
	uv_poll_start(&gl->chan, UV_READABLE, on_chan);
	return gl;
}

void srt_gateloop_close(srt_gateloop *gl)
{
	if (!gl)
		return;
	gl->closing = true;
	stop_chan(gl);
	stop_notify(gl);
	if (gl->handles == 0)
		gateloop_free(gl);
}
