/* timed -o FILE CMD [ARGS...]: runs CMD and writes "WALL_S RSS_KIB" to
 * FILE, then exits with CMD's status (128 + N for a signal N).
 *
 * WALL_S is the wall time from just before CMD is forked to its exit, to
 * the millisecond; RSS_KIB is CMD's peak resident set (wait4's
 * ru_maxrss). It replaces bench/timed.py, whose Python started
 * /usr/bin/time, which forked CMD: 7 to 9 ms of its own on the bench's VM
 * for /bin/true, counted once in imagespec's time and once a command in
 * the peer's four. Forked from this small image, CMD is charged its own
 * memory only (a child forked from Python would be charged Python's 14 MB
 * when it execs). peers.sh compiles it with cc when it starts. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double seconds(const struct timespec *t)
{
	return (double)t->tv_sec + (double)t->tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 4 || strcmp(argv[1], "-o") != 0) {
		fprintf(stderr, "usage: timed -o FILE CMD [ARGS...]\n");
		return 2;
	}
	FILE *out = fopen(argv[2], "w");
	if (!out) {
		perror(argv[2]);
		return 2;
	}
	struct timespec start, end;
	clock_gettime(CLOCK_MONOTONIC, &start);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (pid == 0) {
		execvp(argv[3], argv + 3);
		perror(argv[3]);
		_exit(127);
	}
	int status = 0;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) != pid) {
		perror("wait4");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	fprintf(out, "%.3f %ld\n", seconds(&end) - seconds(&start), ru.ru_maxrss);
	if (fclose(out) != 0) {
		perror(argv[2]);
		return 2;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
