/* unixrace - run inside a sandbox with allowUnixSockets = [ALLOWED]: tries
 * to win the race against srt's connect(2) mediation.  One thread keeps
 * rewriting a shared sockaddr_un between ALLOWED and FORBIDDEN while the
 * main thread connects with it, ROUNDS times, on blocking sockets (so srt
 * finishes each call on a thread of its own).  A connection that reaches
 * FORBIDDEN is counted by the server behind it (the test asserts zero).
 *   usage: unixrace ALLOWED FORBIDDEN ROUNDS
 * Prints "connected=N refused=M other=K". */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static struct sockaddr_un shared;
static char paths[2][sizeof shared.sun_path];
static atomic_bool stop;

static void *flipper(void *arg)
{
	(void)arg;
	volatile char *p = shared.sun_path;
	for (unsigned i = 0; !atomic_load(&stop); i++) {
		const char *src = paths[i & 1];
		for (size_t k = 0; k < sizeof shared.sun_path; k++)
			p[k] = src[k];
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 4 || strlen(argv[1]) >= sizeof paths[0] || strlen(argv[2]) >= sizeof paths[0])
		return 2;
	strcpy(paths[0], argv[1]);
	strcpy(paths[1], argv[2]);
	shared.sun_family = AF_UNIX;
	strcpy(shared.sun_path, paths[0]);
	pthread_t t;
	if (pthread_create(&t, NULL, flipper, NULL) != 0)
		return 1;
	int rounds = atoi(argv[3]), connected = 0, refused = 0, other = 0;
	for (int i = 0; i < rounds; i++) {
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0) {
			other++;
			continue;
		}
		if (connect(s, (struct sockaddr *)&shared, sizeof shared) == 0)
			connected++;
		else if (errno == EACCES)
			refused++;
		else
			other++;
		close(s);
	}
	atomic_store(&stop, true);
	pthread_join(t, NULL);
	printf("connected=%d refused=%d other=%d\n", connected, refused, other);
	return 0;
}
