/* The docker credential-helper protocol: `docker-credential-NAME get|
 * store|erase`, the request on stdin, the answer on stdout.
 *
 * A helper is someone else's program and is treated as hostile input
 * (items 63-67 of the catalogue): its name is checked before it becomes
 * part of a path, it runs without a shell, in its own process group, with
 * a deadline after which the whole group is killed, its output is capped,
 * and neither its stdout nor its stderr ever reaches a message: both may
 * hold the secret (docker-credential-helpers' client.Get echoes stdout in
 * its errors; this does not). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth_int.h"
#include "auth/credstore_int.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"

extern char **environ;

#define NOT_FOUND "credentials not found in native keychain"

/* The one piece of state here: tests shorten the deadline so a hanging
 * helper costs them milliseconds. Nothing else sets it. */
static atomic_int timeout_override_ms;

void ims_cred_helper__set_timeout_ms(int ms)
{
	atomic_store(&timeout_override_ms, ms);
}

static int timeout_ms(void)
{
	int ms = atomic_load(&timeout_override_ms);
	return ms > 0 ? ms : IMS_CRED_HELPER_TIMEOUT_MS;
}

bool ims_cred__helper_name_valid(const char *name)
{
	/* No leading dot, so no "..", and no slash: the name is a file
	 * name suffix, never a path (finch #1785). */
	if (!name || !*name || strlen(name) > IMS_CRED_HELPER_NAME_MAX)
		return false;
	for (const char *p = name; *p; p++) {
		bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9');
		if (!alnum && (p == name || !strchr("._-", *p)))
			return false;
	}
	return true;
}

char *ims_cred__helper_find(const char *name)
{
	if (!ims_cred__helper_name_valid(name))
		return NULL;
	const char *path = getenv("PATH");
	_cleanup_free_ char *copy = xstrdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	_cleanup_free_ char *file = xasprintf("docker-credential-%s", name);
	char *save = NULL;
	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		/* A relative entry (or an empty one, meaning ".") would run
		 * whatever the working directory holds: a build context is
		 * not trusted to provide credential programs. */
		if (dir[0] != '/')
			continue;
		char *cand = ims_path_join(dir, file);
		struct stat st;
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
			return cand;
		free(cand);
	}
	return NULL;
}

/* ---- running one helper ---- */

typedef struct {
	const char *name;
	const char *verb;
	const char *input;
	size_t input_len;
	char *out; /* IMS_CRED_HELPER_OUT_MAX + 1 bytes, NUL-terminated */
	size_t out_len;
	int status;
	int io_errno;
} run_state;

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A descriptor above 2, so that dup2 onto 0/1/2 in the child never finds
 * it already there with close-on-exec still set. */
static int high_fd(int fd)
{
	if (fd < 0 || fd > 2)
		return fd;
	int n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return n;
}

/* posix_spawn, not fork: the executor runs transfers on threads, and a
 * forked child of a threaded process may only call async-signal-safe
 * functions. No shell is involved; argv is {path, verb}. */
static int spawn(const char *exe, const char *verb, int in_fd, int out_fd, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dflt;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
	posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigemptyset(&dflt);
	int sigs[] = { SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD, SIGALRM };
	for (size_t i = 0; i < IMS_ARRAY_SIZE(sigs); i++)
		sigaddset(&dflt, sigs[i]);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dflt);
	/* Its own process group, so that what it starts dies with it. */
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	/* argv is not const in POSIX's prototype: hand it copies. */
	_cleanup_free_ char *a0 = xstrdup(exe), *a1 = xstrdup(verb);
	char *argv[] = { a0, a1, NULL };
	int r = posix_spawn(pid, exe, &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return r;
}

typedef enum { CHILD_RUNNING, CHILD_ZOMBIE, CHILD_REAPED } child_state;

/* Once the child has exited it stays a zombie (WNOWAIT), so its pid and
 * process group id cannot be reused before the group is killed. */
static child_state child(pid_t pid)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		/* ECHILD: reaped behind our back (SIGCHLD ignored). */
		return errno == EINTR ? CHILD_RUNNING : CHILD_REAPED;
	return si.si_pid == pid ? CHILD_ZOMBIE : CHILD_RUNNING;
}

static void reap(pid_t pid, int *status)
{
	*status = -1;
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
}

typedef enum { RUN_OK, RUN_TIMEOUT, RUN_TOO_BIG, RUN_IO } run_result;

/* Feeds the input, collects the output, and waits for the exit, all under
 * one deadline. */
static run_result pump(run_state *s, pid_t pid, int *in_fd, int out_fd)
{
	long long deadline = now_ms() + timeout_ms();
	size_t sent = 0;
	bool eof = false, gone = false;
	for (;;) {
		child_state cs = gone ? CHILD_RUNNING : child(pid);
		if (cs != CHILD_RUNNING) {
			gone = true;
			/* Whatever it left behind in its group goes too, and with
			 * it any stray holder of the stdout pipe. */
			if (cs == CHILD_ZOMBIE)
				kill(-pid, SIGKILL);
		}
		if (gone && eof)
			return RUN_OK;
		long long left = deadline - now_ms();
		if (left <= 0)
			return RUN_TIMEOUT;
		struct pollfd p[2];
		nfds_t n = 0;
		if (!eof)
			p[n++] = (struct pollfd){ .fd = out_fd, .events = POLLIN };
		if (*in_fd >= 0)
			p[n++] = (struct pollfd){ .fd = *in_fd, .events = POLLOUT };
		/* After EOF nothing signals the exit: look again every 10 ms. */
		int slice = eof ? 10 : 50;
		int pr = poll(p, n, (int)(left < slice ? left : slice));
		if (pr < 0 && errno != EINTR) {
			s->io_errno = errno;
			return RUN_IO;
		}
		for (nfds_t i = 0; pr > 0 && i < n; i++) {
			if (!p[i].revents)
				continue;
			if (p[i].fd == out_fd) {
				ssize_t r = read(out_fd, s->out + s->out_len, IMS_CRED_HELPER_OUT_MAX + 1 - s->out_len);
				if (r < 0 && errno != EINTR && errno != EAGAIN) {
					s->io_errno = errno;
					return RUN_IO;
				}
				if (r == 0)
					eof = true;
				if (r > 0 && (s->out_len += (size_t)r) > IMS_CRED_HELPER_OUT_MAX)
					return RUN_TOO_BIG;
			} else {
				/* MSG_NOSIGNAL: a helper that closes stdin unread
				 * must not kill us with SIGPIPE. */
				ssize_t w = send(*in_fd, s->input + sent, s->input_len - sent,
						 MSG_NOSIGNAL | MSG_DONTWAIT);
				if (w > 0)
					sent += (size_t)w;
				/* All sent, or the helper stopped reading: either way
				 * it sees EOF now. */
				if ((w < 0 && errno != EINTR && errno != EAGAIN) || sent == s->input_len)
					close(steal_fd(in_fd));
			}
		}
	}
}

static int run(run_state *s, ims_error **err)
{
	_cleanup_free_ char *exe = ims_cred__helper_find(s->name);
	if (!exe)
		return ims_error_set(err, IMS_EGENERIC, "credential helper `docker-credential-%s` is not installed",
				     s->name);
	/* stdin is a socket so that a write to a helper that went away gives
	 * EPIPE instead of a SIGPIPE for the whole process. */
	int sv[2], po[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return ims_error_sys(err, errno, IMS_EGENERIC, "run credential helper `docker-credential-%s`", s->name);
	if (pipe2(po, O_CLOEXEC) < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		return ims_error_sys(err, e, IMS_EGENERIC, "run credential helper `docker-credential-%s`", s->name);
	}
	_cleanup_close_ int in_parent = sv[0], in_child = high_fd(sv[1]);
	_cleanup_close_ int out_parent = po[0], out_child = high_fd(po[1]);
	pid_t pid = -1;
	int r = in_child < 0 || out_child < 0 ? errno : spawn(exe, s->verb, in_child, out_child, &pid);
	if (r)
		return ims_error_sys(err, r, IMS_EGENERIC, "run credential helper `docker-credential-%s`", s->name);
	close(steal_fd(&in_child));
	close(steal_fd(&out_child));
	fcntl(out_parent, F_SETFL, O_NONBLOCK);
	s->out = xmalloc(IMS_CRED_HELPER_OUT_MAX + 1);
	s->out_len = 0;
	run_result rr = pump(s, pid, &in_parent, out_parent);
	if (rr != RUN_OK) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL); /* in case it left its group */
	}
	reap(pid, &s->status);
	s->out[s->out_len > IMS_CRED_HELPER_OUT_MAX ? IMS_CRED_HELPER_OUT_MAX : s->out_len] = '\0';
	const char *h = s->name;
	switch (rr) {
	case RUN_OK:
		return 0;
	case RUN_TIMEOUT:
		return ims_error_set(err, IMS_EGENERIC,
				     "credential helper `docker-credential-%s` timed out after %d ms", h, timeout_ms());
	case RUN_TOO_BIG:
		return ims_error_set(err, IMS_EGENERIC,
				     "credential helper `docker-credential-%s` printed more than %d bytes", h,
				     IMS_CRED_HELPER_OUT_MAX);
	default:
		return ims_error_sys(err, s->io_errno, IMS_EGENERIC, "talk to credential helper `docker-credential-%s`",
				     h);
	}
}

static void run_dispose(run_state *s)
{
	if (s->out) {
		explicit_bzero(s->out, IMS_CRED_HELPER_OUT_MAX + 1);
		free(s->out);
		s->out = NULL;
	}
}

/* The answer docker-credential-helpers give for a missing entry. */
bool ims_cred__helper_said_not_found(const char *p, size_t n)
{
	while (n > 0 && strchr(" \t\r\n", p[n - 1]))
		n--;
	return n == strlen(NOT_FOUND) && !memcmp(p, NOT_FOUND, n);
}

static int failed(const run_state *s, ims_error **err)
{
	if (WIFEXITED(s->status))
		return ims_error_set(err, IMS_EGENERIC, "credential helper `docker-credential-%s` failed (exit %d)",
				     s->name, WEXITSTATUS(s->status));
	if (WIFSIGNALED(s->status))
		return ims_error_set(err, IMS_EGENERIC, "credential helper `docker-credential-%s` failed (signal %d)",
				     s->name, WTERMSIG(s->status));
	return ims_error_set(err, IMS_EGENERIC, "credential helper `docker-credential-%s` failed", s->name);
}

/* Runs verb; *not_found is set (and 0 returned) for the not-found answer. */
static int call(const char *name, const char *verb, const char *input, size_t len, run_state *s, bool *not_found,
		ims_error **err)
{
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->verb = verb;
	s->input = input;
	s->input_len = len;
	*not_found = false;
	if (!ims_cred__helper_name_valid(name)) {
		_cleanup_free_ char *shown = ims_cred__display(name ? name : "");
		return ims_error_set(err, IMS_EINVALID, "`%s` is not an allowed credential helper name", shown);
	}
	int r = run(s, err);
	if (r < 0)
		return r;
	if (WIFEXITED(s->status) && WEXITSTATUS(s->status) == 0)
		return 0;
	if (ims_cred__helper_said_not_found(s->out, s->out_len)) {
		*not_found = true;
		return 0;
	}
	return failed(s, err);
}

/* ---- the answer to get ---- */

int ims_cred__helper_answer(const char *name, const char *text, size_t len, const char *server_url,
			    ims_credentials *out, ims_error **err)
{
	ims_json *j = NULL;
	ims_error *perr = NULL;
	/* The parser's message is dropped: it describes the helper's
	 * output, which may hold the secret. */
	if (ims_json_parse_object(&j, text, len, IMS_CRED_HELPER_OUT_MAX, "helper", &perr) < 0) {
		ims_error_free(perr);
		return ims_error_set(err, IMS_EGENERIC,
				     "credential helper `docker-credential-%s` printed something that is not JSON",
				     name);
	}
	int r = 0;
	for (size_t i = 0; i < j->n && r == 0; i++) {
		bool known = !strcmp(j->k[i], "ServerURL") || !strcmp(j->k[i], "Username") ||
			     !strcmp(j->k[i], "Secret");
		if (!known || j->v[i]->type != IMS_JSON_STRING)
			r = -1;
	}
	const char *url = ims_json_get_string(j, "ServerURL"), *user = ims_json_get_string(j, "Username");
	const char *secret = ims_json_get_string(j, "Secret");
	if (r < 0 || !secret || !*secret) {
		r = ims_error_set(
			err, IMS_EGENERIC,
			"credential helper `docker-credential-%s` printed JSON that is not {ServerURL, Username, "
			"Secret}",
			name);
		goto out;
	}
	if (url && *url) {
		/* Credentials stored for one registry are used for no other. */
		_cleanup_free_ char *got = ims_credstore_registry(url), *want = ims_credstore_registry(server_url);
		if (!got || !want || strcmp(got, want)) {
			_cleanup_free_ char *shown = ims_cred__display(server_url);
			r = ims_error_set(
				err, IMS_EGENERIC,
				"credential helper `docker-credential-%s` answered for another registry than `%s`",
				name, shown);
			goto out;
		}
	}
	/* docker/cli: the user "<token>" marks an identity (refresh) token. */
	if (user && !strcmp(user, "<token>")) {
		out->identity_token = xstrdup(secret);
	} else {
		out->username = xstrdup(user ? user : "");
		out->password = xstrdup(secret);
	}
	out->source = xasprintf("credential helper `docker-credential-%s`", name);
out:
	ims_cred__json_free(j);
	return r;
}

int ims_cred_helper_get(const char *name, const char *server_url, ims_credentials *out, bool *found, ims_error **err)
{
	memset(out, 0, sizeof(*out));
	*found = false;
	run_state s;
	bool not_found;
	int r = call(name, "get", server_url, strlen(server_url), &s, &not_found, err);
	if (r == 0 && !not_found && (r = ims_cred__helper_answer(name, s.out, s.out_len, server_url, out, err)) == 0)
		*found = true;
	run_dispose(&s);
	return r;
}

int ims_cred_helper_store(const char *name, const char *server_url, const char *username, const char *secret,
			  ims_error **err)
{
	if (strlen(secret) > IMS_CRED_HELPER_OUT_MAX || strlen(username) > IMS_CRED_HELPER_OUT_MAX)
		return ims_error_set(err, IMS_EINVALID, "credentials for a helper are limited to %d bytes",
				     IMS_CRED_HELPER_OUT_MAX);
	ims_json *j = ims_json_new_object();
	ims_json_set(j, "ServerURL", ims_json_new_string(server_url));
	ims_json_set(j, "Username", ims_json_new_string(username));
	ims_json_set(j, "Secret", ims_json_new_string(secret));
	size_t len = 0;
	char *in = ims_json_encode(j, &len);
	ims_cred__json_free(j);
	if (!in)
		return ims_error_set(err, IMS_EGENERIC, "encode the request for `docker-credential-%s`", name);
	run_state s;
	bool not_found;
	int r = call(name, "store", in, len, &s, &not_found, err);
	/* "Not found" makes no sense for store: it failed. */
	if (r == 0 && not_found)
		r = failed(&s, err);
	run_dispose(&s);
	explicit_bzero(in, len);
	free(in);
	return r;
}

int ims_cred_helper_erase(const char *name, const char *server_url, ims_error **err)
{
	run_state s;
	bool not_found;
	/* Nothing stored is what erase wants: not an error. */
	int r = call(name, "erase", server_url, strlen(server_url), &s, &not_found, err);
	run_dispose(&s);
	return r;
}
