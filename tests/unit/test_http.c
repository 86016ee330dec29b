/* The HTTP room against tests/http/server.py: plain HTTP on 127.0.0.1 and
 * 127.0.0.2 (two origins), HTTPS with a CA made here by openssl, and the
 * pure helpers (URLs, Retry-After). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "digest/digest.h"
#include "http/http.h"
#include "util/text.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"
#include "tap.h"

static char *tmpdir;

/* ---- the peer ---- */

typedef struct {
	pid_t pid;
	int port;
	char host[32];
} server;

/* Starts server.py with extra arguments (NULL-terminated) and reads the
 * port it prints. */
static bool server_start(server *s, const char *host, ...)
{
	char *argv[16] = { "python3", TEST_SRCDIR "/http/server.py", "--host", xstrdup(host) };
	size_t n = 4;
	va_list ap;
	va_start(ap, host);
	for (const char *a; n < 15 && (a = va_arg(ap, const char *));)
		argv[n++] = xstrdup(a);
	va_end(ap);
	argv[n] = NULL;

	int p[2];
	if (pipe(p) < 0)
		return false;
	pid_t pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		char *log = xasprintf("%s/server-%s.log", tmpdir, host);
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0)
			dup2(fd, 2);
		execvp("python3", argv);
		_exit(127);
	}
	close(p[1]);
	for (size_t i = 3; i < n; i++)
		free(argv[i]);
	char line[32] = "";
	size_t got = 0;
	struct pollfd pfd = { p[0], POLLIN, 0 };
	while (got < sizeof(line) - 1 && !strchr(line, '\n') && poll(&pfd, 1, 10000) > 0) {
		ssize_t r = read(p[0], line + got, sizeof(line) - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
		line[got] = '\0';
	}
	close(p[0]);
	s->pid = pid;
	s->port = atoi(line);
	snprintf(s->host, sizeof(s->host), "%s", host);
	return s->port > 0;
}

static void server_stop(server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
}

static char *url(const server *s, const char *scheme, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *path = xvasprintf(fmt, ap);
	va_end(ap);
	char *u = xasprintf("%s://%s:%d%s", scheme, s->host, s->port, path);
	free(path);
	return u;
}

/* Percent-encodes a URL to carry it in ?to=. */
static char *qenc(const char *s)
{
	ims_buf b = IMS_BUF_INIT(0);
	for (; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		    strchr("-._~", *s))
			ims_buf_putc(&b, *s);
		else
			ims_buf_printf(&b, "%%%02X", (unsigned char)*s);
	}
	return ims_buf_steal(&b, NULL);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool has(const ims_http_response *r, const char *needle)
{
	return r->body.data && strstr(r->body.data, needle);
}

static bool msg_has(const ims_error *e, const char *needle)
{
	return e && e->message && strstr(e->message, needle);
}

/* ---- clients and requests ---- */

static ims_http *client(const ims_http_options *extra)
{
	ims_http_options o = { 0 };
	if (extra)
		o = *extra;
	if (!o.backoff_initial)
		o.backoff_initial = 0.01;
	if (!o.backoff_max)
		o.backoff_max = 0.05;
	if (!o.certs_dirs) {
		/* Never read the machine's /etc/docker/certs.d in tests. */
		static const char *const none[] = { "/nonexistent" };
		o.certs_dirs = none;
		o.ncerts_dirs = 1;
	}
	ims_http *h = NULL;
	ims_error *e = NULL;
	if (ims_http_new(&h, &o, &e) < 0) {
		printf("# ims_http_new: %s\n", e ? e->message : "?");
		ims_error_free(e);
		return NULL;
	}
	return h;
}

static int get(ims_http *h, const char *u, ims_http_response *r, ims_error **e)
{
	ims_http_request q = IMS_HTTP_REQUEST_INIT;
	q.method = "GET";
	q.url = u;
	return ims_http_do(h, &q, r, e);
}

/* Fetches /hits/PATH: how many requests the server saw there. */
static int hits(ims_http *h, const server *s, const char *path)
{
	char *u = url(s, "http", "/hits%s", path);
	ims_http_response r;
	ims_error *e = NULL;
	int n = -1;
	if (get(h, u, &r, &e) == 0 && r.body.data) {
		const char *c = strstr(r.body.data, "\"count\": ");
		n = c ? atoi(c + 9) : -1;
	}
	ims_http_response_dispose(&r);
	ims_error_free(e);
	free(u);
	return n;
}

typedef struct {
	ims_buf b;
	int fail; /* fail on the first write */
	int writes;
} memsink;

static int memsink_write(void *ud, const void *p, size_t n, ims_error **err)
{
	memsink *m = ud;
	m->writes++;
	if (m->fail)
		return ims_error_set(err, IMS_EDIGEST, "digest mismatch in the sink");
	ims_buf_add(&m->b, p, n, NULL);
	return 0;
}

typedef struct {
	const char *data;
	size_t len, pos;
} memreader;

static ssize_t memreader_read(void *ud, void *p, size_t n, ims_error **err)
{
	memreader *m = ud;
	/* Small pieces: the transfer must cope with short reads. */
	size_t k = m->len - m->pos < 7 ? m->len - m->pos : 7;
	if (k > n)
		k = n;
	memcpy(p, m->data + m->pos, k);
	m->pos += k;
	return (ssize_t)k;
}

static void sha_hex(const void *p, size_t n, char out[IMS_DIGEST_BUFSZ])
{
	ims_sha256_buf(p, n, out);
}

/* ---- pure helpers ---- */

static void test_urls(void)
{
	char *s;
	s = ims_http_redact_url("https://user:pw@reg.io/v2/a/blobs/uploads/u1?_state=SECRET&digest=sha256:ab");
	is_str(s, "https://reg.io/v2/a/blobs/uploads/u1?_state=REDACTED&digest=sha256:ab",
	       "redact: userinfo and _state");
	free(s);
	s = ims_http_redact_url("https://s3.example/b?X-Amz-Signature=abc&X-Amz-Credential=def#frag");
	is_str(s, "https://s3.example/b?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED",
	       "redact: presigned params, fragment");
	free(s);
	s = ims_http_redact_url(
		"https://r/v2/a/tags/list?n=10&last=x&scope=repository:a:pull&service=r&mount=sha256:1&from=b");
	is_str(s, "https://r/v2/a/tags/list?n=10&last=x&scope=repository:a:pull&service=r&mount=sha256:1&from=b",
	       "redact: allow-listed values kept");
	free(s);
	s = ims_http_redact_url("http://h:5000/x?tok3n");
	is_str(s, "http://h:5000/x?REDACTED", "redact: a bare parameter may be a token");
	free(s);
	s = ims_http_redact_url("not a url at all");
	is_str(s, "<invalid url>", "redact: unparsable URL is not echoed");
	free(s);

	s = ims_http_resolve_url("http://h:5000/v2/a/blobs/x", "https://cdn.example/blob?sig=1");
	is_str(s, "https://cdn.example/blob?sig=1", "resolve: absolute");
	free(s);
	s = ims_http_resolve_url("http://h:5000/v2/a/blobs/x", "/v2/b/blobs/uploads/1?_state=2");
	is_str(s, "http://h:5000/v2/b/blobs/uploads/1?_state=2", "resolve: absolute path");
	free(s);
	s = ims_http_resolve_url("http://h:5000/v2/a/blobs/x", "y");
	is_str(s, "http://h:5000/v2/a/blobs/y", "resolve: relative path");
	free(s);
	s = ims_http_resolve_url("https://h/v2/a", "//cdn.example/z");
	is_str(s, "https://cdn.example/z", "resolve: scheme-relative");
	free(s);
	s = ims_http_resolve_url("https://h/v2/a", "file:///etc/passwd");
	ok(s == NULL, "resolve: file:// refused");
	free(s);
	s = ims_http_resolve_url("https://h/v2/a", "ftp://h/x");
	ok(s == NULL, "resolve: ftp:// refused");
	free(s);
	s = ims_http_resolve_url("https://h/v2/a", "gopher://h/x");
	ok(s == NULL, "resolve: gopher:// refused");
	free(s);

	s = ims_http_origin("https://Reg.IO/v2/x?y=1");
	is_str(s, "https://reg.io:443", "origin: default https port, lower case");
	free(s);
	s = ims_http_origin("http://h:5000/x");
	is_str(s, "http://h:5000", "origin: explicit port");
	free(s);
	s = ims_http_origin("http://[::1]/x");
	is_str(s, "http://[::1]:80", "origin: IPv6");
	free(s);
	s = ims_http_origin("file:///etc/passwd");
	ok(s == NULL, "origin: not http(s)");
	free(s);
}

static void test_retry_after(void)
{
	is_int(ims_http_retry_after("5"), 5, "retry-after: seconds");
	is_int(ims_http_retry_after(" 7 "), 7, "retry-after: spaces");
	is_int(ims_http_retry_after("0"), 0, "retry-after: zero");
	is_int(ims_http_retry_after("-3"), -1, "retry-after: negative is invalid");
	is_int(ims_http_retry_after("soon"), -1, "retry-after: garbage");
	is_int(ims_http_retry_after("5s"), -1, "retry-after: trailing garbage");
	is_int(ims_http_retry_after(""), -1, "retry-after: empty");
	is_int(ims_http_retry_after(NULL), -1, "retry-after: absent");
	char many[400];
	memset(many, '9', sizeof(many) - 1);
	many[sizeof(many) - 1] = '\0';
	double w = ims_http_retry_after(many);
	ok(w > 0 && w < 1e14, "retry-after: 399 digits give a finite wait, not infinity (the fuzzer's find)");
	char date[64];
	time_t t = time(NULL) + 100;
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", gmtime(&t));
	double d = ims_http_retry_after(date);
	ok(d > 50 && d <= 101, "retry-after: HTTP date 100 s ahead (%g)", d);
	is_int(ims_http_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"), 0, "retry-after: past date means now");
}

static void test_insecure(void)
{
	ims_http_host hosts[] = { { .host = "reg.internal:5000", .insecure = true } };
	ims_http_options o = { .hosts = hosts, .nhosts = 1 };
	ims_http *h = client(&o);
	ok(ims_http_host_insecure(h, "127.0.0.1:5000"), "loopback: 127.0.0.1:5000");
	ok(ims_http_host_insecure(h, "127.9.8.7"), "loopback: 127/8");
	ok(ims_http_host_insecure(h, "localhost"), "loopback: localhost");
	ok(ims_http_host_insecure(h, "[::1]:5000"), "loopback: [::1]:5000");
	ok(ims_http_host_insecure(h, "reg.internal:5000"), "named insecure");
	ok(!ims_http_host_insecure(h, "reg.internal"), "named insecure matches the port exactly");
	ok(!ims_http_host_insecure(h, "10.0.0.1:5000"), "private address is not loopback");
	ok(!ims_http_host_insecure(h, "registry.example.com"), "public host is secure");
	ims_http_free(h);
}

/* ---- plain HTTP ---- */

static server A, B; /* 127.0.0.1 and 127.0.0.2: two origins */

static void test_methods(ims_http *h)
{
	ims_http_response r;
	ims_error *e = NULL;
	char *u = url(&A, "http", "/echo-headers");
	const char *hdrs[] = { "X-Test: yes", "Accept: application/json" };

	ims_http_request q = IMS_HTTP_REQUEST_INIT;
	q.method = "GET";
	q.url = u;
	q.headers = hdrs;
	q.nheaders = 2;
	int rc = ims_http_do(h, &q, &r, &e);
	is_int(rc, 0, "GET: answered");
	is_int(r.status, 200, "GET: 200");
	ok(has(&r, "\"x-test\":\"yes\""), "GET: custom header sent");
	ok(has(&r, "\"user-agent\":\"imagespec/"), "GET: user agent");
	is_str(ims_http_header(&r, "Content-Type"), "application/json", "GET: header lookup ignores case");
	bool lower = true;
	for (size_t i = 0; i < r.nheaders; i++)
		for (const char *c = r.names[i]; *c; c++)
			lower &= !(*c >= 'A' && *c <= 'Z');
	ok(r.nheaders > 2 && lower, "GET: header names are lower-cased");
	is_str(r.url, u, "GET: url of the answer");
	is_int(r.attempts, 1, "GET: one attempt");
	ims_http_response_dispose(&r);

	q.method = "HEAD";
	q.headers = NULL;
	q.nheaders = 0;
	rc = ims_http_do(h, &q, &r, &e);
	ok(rc == 0 && r.status == 200, "HEAD: 200");
	ok(r.body.len == 0 && ims_http_header(&r, "content-length"), "HEAD: no body, Content-Length kept");
	ims_http_response_dispose(&r);

	q.method = "PUT";
	q.body = "hello";
	q.body_len = 5;
	rc = ims_http_do(h, &q, &r, &e);
	ok(rc == 0 && has(&r, "\"method\":\"PUT\""), "PUT buffer: sent");
	ok(has(&r, "\"content-length\":\"5\"") && has(&r, "\"chunked\":false"),
	   "PUT buffer: Content-Length, not chunked");
	ok(!has(&r, "\"expect\""), "PUT buffer: no Expect: 100-continue");
	ims_http_response_dispose(&r);

	q.body = NULL;
	q.body_len = 0;
	rc = ims_http_do(h, &q, &r, &e);
	ok(rc == 0 && has(&r, "\"content-length\":\"0\""), "PUT without body: Content-Length: 0");
	ims_http_response_dispose(&r);

	q.method = "POST";
	rc = ims_http_do(h, &q, &r, &e);
	ok(rc == 0 && has(&r, "\"method\":\"POST\"") && has(&r, "\"content-length\":\"0\""),
	   "POST without body: Content-Length: 0");
	ok(!has(&r, "\"content-type\""), "POST: no invented form Content-Type");
	ims_http_response_dispose(&r);

	q.method = "PATCH";
	q.body = "0123456789";
	q.body_len = 10;
	rc = ims_http_do(h, &q, &r, &e);
	ok(rc == 0 && has(&r, "\"method\":\"PATCH\"") && has(&r, "\"content-length\":\"10\""),
	   "PATCH buffer: Content-Length");
	ims_http_response_dispose(&r);

	q.method = "DELETE";
	q.body = NULL;
	q.body_len = 0;
	rc = ims_http_do(h, &q, &r, &e);
	ok(rc == 0 && has(&r, "\"method\":\"DELETE\""), "DELETE");
	ims_http_response_dispose(&r);

	q.method = "GET";
	q.body = "x";
	q.body_len = 1;
	rc = ims_http_do(h, &q, &r, &e);
	ok(rc == IMS_EINVALID, "GET with a body is refused");
	ims_error_clear(&e);
	ims_http_response_dispose(&r);
	free(u);

	ims_http_request bad = IMS_HTTP_REQUEST_INIT;
	bad.method = "GET";
	bad.url = "ftp://127.0.0.1/x";
	ok(ims_http_do(h, &bad, &r, &e) == IMS_EINVALID, "ftp:// URL is refused");
	ims_error_clear(&e);
	ims_http_response_dispose(&r);
	ims_error_free(e);
}

/* The peer's view of the client port: the same port means the same connection. */
static int peer_port(const ims_http_response *r)
{
	const char *p = r->body.data ? strstr(r->body.data, "\"peer_port\":") : NULL;
	return p ? atoi(p + 12) : -1;
}

static void test_reuse_and_rules(void)
{
	ims_http *h = client(NULL);
	ims_http_response r;
	ims_error *e = NULL;
	char *u = url(&A, "http", "/echo-headers");
	int rc = get(h, u, &r, &e);
	int p1 = peer_port(&r);
	ims_http_response_dispose(&r);
	rc |= get(h, u, &r, &e);
	int p2 = peer_port(&r);
	ims_http_response_dispose(&r);
	ok(rc == 0 && p1 > 0 && p1 == p2, "keep-alive: the second request reuses the connection (%d, %d)", p1, p2);
	free(u);

	ims_http_request q = IMS_HTTP_REQUEST_INIT;
	q.method = "HEAD";
	q.follow_redirects = true;
	u = url(&A, "http", "/redirect?code=308&to=/echo-headers");
	q.url = u;
	rc = ims_http_do(h, &q, &r, &e);
	ok(rc == 0 && r.status == 200 && r.body.len == 0, "HEAD: a 308 is followed");
	ims_http_response_dispose(&r);
	free(u);
	ims_http_free(h);
}

static void test_rules(void)
{
	char *rules = ims_path_join(tmpdir, "rules.json");
	FILE *f = fopen(rules, "w");
	fputs("[{\"path\": \"/scripted\", \"responses\": ["
	      "{\"status\": 429, \"headers\": {\"Retry-After\": \"0\"}, \"body\": \"busy\"},"
	      "{\"status\": 201, \"headers\": {\"X-Rule\": \"second\"}, \"body\": \"made\"}]}]",
	      f);
	fclose(f);
	server R = { 0 };
	if (!server_start(&R, "127.0.0.1", "--rules", rules, NULL)) {
		ok(0, "rules server started");
		free(rules);
		return;
	}
	ims_http *h = client(NULL);
	ims_http_response r;
	ims_error *e = NULL;
	char *u = url(&R, "http", "/scripted");
	int rc = get(h, u, &r, &e);
	ok(rc == 0 && r.status == 201 && r.attempts == 2, "rules: a 429 is retried");
	is_str(ims_http_header(&r, "x-rule"), "second", "rules: the second scripted answer");
	is_str(r.body.data, "made", "rules: its body");
	ims_http_response_dispose(&r);
	free(u);
	ims_http_free(h);
	server_stop(&R);
	free(rules);
}

static void test_fd_and_reader(ims_http *h)
{
	ims_http_response r;
	ims_error *e = NULL;
	char *path = ims_path_join(tmpdir, "body.bin");
	const char *content = "xyzTHE-BODY-0123456789-tail";
	FILE *f = fopen(path, "w");
	fputs(content, f);
	fclose(f);
	int fd = open(path, O_RDONLY);
	char want[IMS_DIGEST_BUFSZ];
	sha_hex(content + 3, 20, want);

	char *u = url(&A, "http", "/echo-headers");
	ims_http_request q = IMS_HTTP_REQUEST_INIT;
	q.method = "PUT";
	q.url = u;
	q.body_fd = fd;
	q.body_offset = 3;
	q.body_fd_len = 20;
	int rc = ims_http_do(h, &q, &r, &e);
	ok(rc == 0 && has(&r, "\"content-length\":\"20\"") && has(&r, "\"chunked\":false"), "PUT fd: Content-Length");
	ok(has(&r, ims_digest_hex(want)), "PUT fd: the bytes from the offset");
	ims_http_response_dispose(&r);
	free(u);

	/* Replayed from the offset on a retry. */
	u = url(&A, "http", "/flaky/1/fd");
	q.url = u;
	rc = ims_http_do(h, &q, &r, &e);
	ok(rc == 0 && r.status == 200 && r.attempts == 2, "PUT fd: retried after a 500");
	ok(has(&r, ims_digest_hex(want)), "PUT fd: replayed body is whole");
	ims_http_response_dispose(&r);
	free(u);

	q.body_fd_len = 100;
	u = url(&A, "http", "/echo-headers");
	q.url = u;
	rc = ims_http_do(h, &q, &r, &e);
	ok(rc < 0 && msg_has(e, "early"), "PUT fd: a file shorter than its length fails");
	ims_error_clear(&e);
	ims_http_response_dispose(&r);
	free(u);
	close(fd);
	free(path);

	/* A streamed body goes chunked. */
	const char *big = "streamed body, read in small pieces by the transfer";
	memreader mr = { big, strlen(big), 0 };
	ims_reader rd = { memreader_read, NULL, &mr };
	sha_hex(big, strlen(big), want);
	u = url(&A, "http", "/chunked-upload");
	ims_http_request s = IMS_HTTP_REQUEST_INIT;
	s.method = "PUT";
	s.url = u;
	s.body_reader = &rd;
	rc = ims_http_do(h, &s, &r, &e);
	ok(rc == 0 && has(&r, "\"chunked\":true"), "PUT reader: chunked");
	ok(!has(&r, "\"content-length\""), "PUT reader: no Content-Length");
	ok(has(&r, ims_digest_hex(want)), "PUT reader: server got every byte");
	ims_http_response_dispose(&r);
	free(u);

	/* Never retried: the stream cannot be read twice. */
	mr.pos = 0;
	u = url(&A, "http", "/flaky/2/stream");
	s.url = u;
	rc = ims_http_do(h, &s, &r, &e);
	ok(rc == 0 && r.status == 500 && r.attempts == 1, "PUT reader: a 500 is not retried");
	is_int(hits(h, &A, "/flaky/2/stream"), 1, "PUT reader: the server saw one try");
	ims_http_response_dispose(&r);
	free(u);
	ims_error_free(e);
}

static void test_bodies(ims_http *h)
{
	ims_http_response r;
	ims_error *e = NULL;
	char *u = url(&A, "http", "/big?n=300000");
	memsink ms = { IMS_BUF_INIT(0), 0, 0 };
	ims_sink sk = { memsink_write, &ms };
	ims_http_request q = IMS_HTTP_REQUEST_INIT;
	q.method = "GET";
	q.url = u;
	q.sink = &sk;
	int rc = ims_http_do(h, &q, &r, &e);
	ok(rc == 0 && r.status == 200, "sink: 200");
	is_int(ms.b.len, 300000, "sink: every byte");
	bool pattern = ms.b.len == 300000;
	for (size_t i = 0; pattern && i < ms.b.len; i++)
		pattern = (unsigned char)ms.b.data[i] == (i % 65536) % 251;
	ok(pattern, "sink: bytes in order");
	is_int(r.body.len, 0, "sink: nothing buffered");
	ims_http_response_dispose(&r);
	ims_buf_dispose(&ms.b);

	ms.fail = 1;
	rc = ims_http_do(h, &q, &r, &e);
	is_int(rc, IMS_EDIGEST, "sink error: its code is returned");
	ok(msg_has(e, "GET `") && msg_has(e, "digest mismatch"), "sink error: message names the request");
	is_int(r.attempts, 1, "sink error: not retried");
	ims_error_clear(&e);
	ims_http_response_dispose(&r);
	free(u);

	/* Error answers never go to the sink. */
	ms.fail = 0;
	ms.writes = 0;
	u = url(&A, "http", "/status/404");
	q.url = u;
	rc = ims_http_do(h, &q, &r, &e);
	ok(rc == 0 && r.status == 404 && ms.writes == 0 && has(&r, "status 404"),
	   "sink: a 404 body is buffered instead");
	ims_http_response_dispose(&r);
	free(u);

	u = url(&A, "http", "/big?n=300000");
	q.url = u;
	q.sink = NULL;
	q.max_body = 1000;
	rc = ims_http_do(h, &q, &r, &e);
	ok(rc < 0 && r.status == 200 && msg_has(e, "exceeds"), "2xx body over the cap: refused");
	ims_error_clear(&e);
	ims_http_response_dispose(&r);
	free(u);

	u = url(&A, "http", "/big?n=300000&status=404");
	q.url = u;
	rc = ims_http_do(h, &q, &r, &e);
	ok(rc == 0 && r.status == 404, "error body over the cap: still an answer");
	is_int(r.body.len, 1000, "error body: truncated at the cap");
	ims_http_response_dispose(&r);
	free(u);
	ims_error_free(e);
}

static void test_redirects(ims_http *h)
{
	ims_http_response r;
	ims_error *e = NULL;
	ims_http_request q = IMS_HTTP_REQUEST_INIT;
	q.method = "GET";
	q.authorization = "Bearer s3cret";
	q.follow_redirects = true;

	char *u = url(&A, "http", "/redirect?to=/echo-headers");
	q.url = u;
	int rc = ims_http_do(h, &q, &r, &e);
	ok(rc == 0 && r.status == 200, "redirect: followed");
	ok(has(&r, "\"authorization\":\"Bearer s3cret\""), "redirect: same origin keeps Authorization");
	char *want = url(&A, "http", "/echo-headers");
	is_str(r.url, want, "redirect: url is the final one");
	free(want);
	ims_http_response_dispose(&r);
	free(u);

	char *to = url(&B, "http", "/echo-headers");
	char *enc = qenc(to);
	u = url(&A, "http", "/redirect?code=307&to=%s", enc);
	q.url = u;
	const char *hdr[] = { "Authorization: Basic c2VjcmV0" };
	rc = ims_http_do(h, &q, &r, &e);
	ok(rc == 0 && r.status == 200 && has(&r, "127.0.0.2"), "redirect: to another origin");
	ok(!has(&r, "authorization"), "redirect: Authorization dropped on another origin");
	ims_http_response_dispose(&r);
	q.authorization = NULL;
	q.headers = hdr;
	q.nheaders = 1;
	rc = ims_http_do(h, &q, &r, &e);
	ok(rc == 0 && !has(&r, "authorization"), "redirect: an Authorization line in headers is dropped too");
	ims_http_response_dispose(&r);
	q.headers = NULL;
	q.nheaders = 0;
	q.authorization = "Bearer s3cret";
	free(u);
	free(enc);
	free(to);

	/* A -> B -> A: the credentials do not come back. */
	char *back = url(&A, "http", "/echo-headers");
	char *benc = qenc(back);
	to = url(&B, "http", "/redirect?to=%s", benc);
	enc = qenc(to);
	u = url(&A, "http", "/redirect?to=%s", enc);
	q.url = u;
	rc = ims_http_do(h, &q, &r, &e);
	ok(rc == 0 && r.status == 200 && has(&r, "127.0.0.1"), "redirect: back to the origin");
	ok(!has(&r, "authorization"), "redirect: Authorization never restored once dropped");
	ims_http_response_dispose(&r);
	free(u);
	free(enc);
	free(to);
	free(benc);
	free(back);

	u = url(&A, "http", "/redirect?to=/echo-headers");
	q.url = u;
	q.follow_redirects = false;
	rc = ims_http_do(h, &q, &r, &e);
	ok(rc == 0 && r.status == 302, "redirect: not followed unless asked");
	is_str(ims_http_header(&r, "location"), "/echo-headers", "redirect: Location readable");
	ims_http_response_dispose(&r);
	q.follow_redirects = true;
	q.method = "PUT";
	rc = ims_http_do(h, &q, &r, &e);
	ok(rc == 0 && r.status == 302, "redirect: PUT is never followed");
	ims_http_response_dispose(&r);
	q.method = "GET";
	free(u);

	u = url(&A, "http", "/redirect-loop/a");
	q.url = u;
	rc = ims_http_do(h, &q, &r, &e);
	ok(rc == IMS_ENET && msg_has(e, "10 redirects"), "redirect loop: stops");
	is_int(hits(h, &A, "/redirect-loop/a"), 11, "redirect loop: the request and 10 hops");
	ims_error_clear(&e);
	ims_http_response_dispose(&r);
	free(u);

	u = url(&A, "http", "/redirect?to=file%%3A%%2F%%2F%%2Fetc%%2Fpasswd");
	q.url = u;
	rc = ims_http_do(h, &q, &r, &e);
	ok(rc == IMS_ENET && msg_has(e, "refusing a redirect"), "redirect: file:// refused");
	ims_error_clear(&e);
	ims_http_response_dispose(&r);
	free(u);
	ims_error_free(e);
}

static void test_retries(void)
{
	ims_http_response r;
	ims_error *e = NULL;
	ims_http_options o = { .backoff_max = 3 };
	ims_http *h = client(&o);
	char *u = url(&A, "http", "/retry-after/1/a");
	double t0 = now();
	int rc = get(h, u, &r, &e);
	double dt = now() - t0;
	ok(rc == 0 && r.status == 200 && r.attempts == 2, "Retry-After: retried");
	ok(dt >= 0.95, "Retry-After: waited 1 s (%.2f s), not the 10 ms backoff", dt);
	ims_http_response_dispose(&r);
	free(u);
	u = url(&A, "http", "/retry-after-date/2/a");
	t0 = now();
	rc = get(h, u, &r, &e);
	dt = now() - t0;
	ok(rc == 0 && r.status == 200 && r.attempts == 2, "Retry-After date: retried");
	/* The lower bound is the point; the upper one only catches a wait far
	 * past the date, and leaves room for a loaded machine. */
	ok(dt >= 0.9 && dt < 20, "Retry-After date: waited until then (%.2f s)", dt);
	ims_http_response_dispose(&r);
	free(u);
	ims_http_free(h);

	o = (ims_http_options){ .backoff_max = 0.2, .max_attempts = 2 };
	h = client(&o);
	u = url(&A, "http", "/status/503?retry-after=30");
	t0 = now();
	rc = get(h, u, &r, &e);
	dt = now() - t0;
	ok(rc == 0 && r.status == 503 && r.attempts == 2, "Retry-After capped: tries ran out, last status returned");
	ok(dt < 15, "Retry-After capped: by backoff_max, not the 30 s asked (%.2f s)", dt);
	ims_http_response_dispose(&r);
	free(u);
	ims_http_free(h);

	h = client(NULL);
	u = url(&A, "http", "/flaky/2/a");
	rc = get(h, u, &r, &e);
	ok(rc == 0 && r.status == 200 && r.attempts == 3, "flaky: two 500s, then 200");
	is_int(hits(h, &A, "/flaky/2/a"), 3, "flaky: three tries");
	ims_http_response_dispose(&r);
	free(u);

	u = url(&A, "http", "/status/502");
	rc = get(h, u, &r, &e);
	ok(rc == 0 && r.status == 502 && r.attempts == 5, "exhausted: 5 tries, the last status");
	ims_http_response_dispose(&r);
	free(u);

	u = url(&A, "http", "/status/404");
	rc = get(h, u, &r, &e);
	ok(rc == 0 && r.status == 404 && r.attempts == 1, "404 is not retried");
	ims_http_response_dispose(&r);
	free(u);

	u = url(&A, "http", "/flaky/1/nr");
	ims_http_request q = IMS_HTTP_REQUEST_INIT;
	q.method = "GET";
	q.url = u;
	q.no_retry = true;
	rc = ims_http_do(h, &q, &r, &e);
	ok(rc == 0 && r.status == 500 && r.attempts == 1, "no_retry: one try");
	ims_http_response_dispose(&r);
	free(u);
	ims_http_free(h);
	ims_error_free(e);
}

/* A port that nothing listens on, for as long as *fd stays open: the socket
 * is bound but never listens, so a connection is refused and no other
 * program can take the port meanwhile. */
static int closed_port(int *fd)
{
	*fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	if (*fd < 0 || bind(*fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(*fd, (struct sockaddr *)&a, &len) < 0)
		return 1;
	return ntohs(a.sin_port);
}

static void test_failures(void)
{
	ims_http_response r;
	ims_error *e = NULL;
	ims_http_options o = { .max_attempts = 2 };
	ims_http *h = client(&o);
	int held = -1;
	char *u = xasprintf("http://127.0.0.1:%d/v2/x?_state=SECRET", closed_port(&held));
	int rc = get(h, u, &r, &e);
	if (held >= 0)
		close(held);
	is_int(rc, IMS_ENET, "refused: IMS_ENET");
	is_int(r.failure, IMS_HTTP_FAIL_CONNECT, "refused: failure CONNECT");
	is_int(r.attempts, 2, "refused: retried");
	ok(msg_has(e, "GET `http://127.0.0.1:") && msg_has(e, "could not connect"),
	   "refused: message names method and URL");
	ok(!msg_has(e, "SECRET") && msg_has(e, "_state=REDACTED"), "refused: URL redacted");
	ims_error_clear(&e);
	ims_http_response_dispose(&r);
	free(u);
	ims_http_free(h);

	o = (ims_http_options){ .low_speed_time = 1 };
	h = client(&o);
	u = url(&A, "http", "/slow?n=100&delay=0.5");
	ims_http_request q = IMS_HTTP_REQUEST_INIT;
	q.method = "GET";
	q.url = u;
	q.no_retry = true;
	rc = ims_http_do(h, &q, &r, &e);
	ok(rc == IMS_ENET && r.failure == IMS_HTTP_FAIL_TIMEOUT, "slow body: TIMEOUT");
	ims_error_clear(&e);
	ims_http_response_dispose(&r);
	free(u);
	ims_http_free(h);
}

static ims_buf trace_log = IMS_BUF_INIT(0);

static void trace(void *ud, const char *line)
{
	(void)ud;
	ims_buf_puts(&trace_log, line);
	ims_buf_putc(&trace_log, '\n');
}

static void test_trace(void)
{
	ims_http_options o = { .trace = trace };
	ims_http *h = client(&o);
	ims_http_response r;
	ims_error *e = NULL;
	char *u = url(&A, "http", "/flaky/1/trace?token=SECRET&digest=sha256:aa");
	ims_http_request q = IMS_HTTP_REQUEST_INIT;
	q.method = "GET";
	q.url = u;
	q.authorization = "Bearer s3cret";
	int rc = ims_http_do(h, &q, &r, &e);
	ok(rc == 0 && r.status == 200, "trace: request done");
	char *line = xasprintf("GET http://127.0.0.1:%d/flaky/1/trace?token=REDACTED&digest=sha256:aa -> 500 (",
			       A.port);
	ok(trace_log.data && strstr(trace_log.data, line) && strstr(trace_log.data, "attempt 1)"), "trace: first try");
	ok(trace_log.data && strstr(trace_log.data, "-> 200 (") && strstr(trace_log.data, "attempt 2)"),
	   "trace: second try");
	ok(trace_log.data && !strstr(trace_log.data, "SECRET") && !strstr(trace_log.data, "s3cret"),
	   "trace: no secrets");
	for (const char *l = trace_log.data; l && *l;) {
		size_t n = strcspn(l, "\n");
		printf("# %.*s\n", (int)n, l);
		l += n + (l[n] == '\n');
	}
	free(line);
	ims_http_response_dispose(&r);
	free(u);
	ims_http_free(h);
	ims_buf_dispose(&trace_log);
}

/* ---- Warning headers (catalogue item 60) ---- */

static ims_buf warn_log = IMS_BUF_INIT(0);

static void warned(void *ud, const char *line)
{
	(void)ud;
	ims_buf_puts(&warn_log, line);
	ims_buf_putc(&warn_log, '\n');
}

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; p && (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void test_warnings(void)
{
	char *rules = ims_path_join(tmpdir, "warn-rules.json");
	FILE *f = fopen(rules, "w");
	fputs("[{\"path\": \"/w/once\", \"responses\": [{\"headers\": {\"Warning\": \"299 - \\\"this API is "
	      "deprecated\\\"\"}}]},"
	      "{\"path\": \"/w/esc\", \"responses\": [{\"headers\": {\"Warning\": \"299 registry \\\"red "
	      "\\u001b[31mALERT\\u001b[0m\\u0007 \\\\\\\"quoted\\\\\\\"\\\" \\\"Sat, 01 Jan 2000 00:00:00 GMT\\\"\"}}]},"
	      "{\"path\": \"/w/plain\", \"responses\": [{\"headers\": {\"Warning\": \"not the RFC shape\\u0001\"}}]},",
	      f);
	fprintf(f, "{\"path\": \"/w/long\", \"responses\": [{\"headers\": {\"Warning\": \"299 - \\\"%0*d\\\"\"}}]},",
		5000, 0);
	fputs("{\"path\": \"/w/many\", \"responses\": [{\"headers\": {\"Warning\": \"", f);
	for (int i = 0; i < 12; i++)
		fprintf(f, "%s299 - \\\"many %d\\\"", i ? ", " : "", i);
	fputs("\"}}]}]", f);
	fclose(f);
	server R = { 0 };
	if (!server_start(&R, "127.0.0.1", "--rules", rules, NULL)) {
		ok(0, "warning server started");
		free(rules);
		return;
	}
	ims_http_options o = { .warn = warned };
	ims_http *h = client(&o);
	static const char *const paths[] = { "/w/once", "/w/once", "/w/esc", "/w/plain", "/w/long", "/w/many" };
	int fails = 0;
	for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
		ims_http_response r;
		ims_error *e = NULL;
		char *u = url(&R, "http", "%s", paths[i]);
		fails += get(h, u, &r, &e) != 0 || r.status != 200;
		ims_error_free(e);
		ims_http_response_dispose(&r);
		free(u);
	}
	ok(fails == 0, "warnings: every response is a 200, the warnings change nothing");
	const char *log = warn_log.data ? warn_log.data : "";
	char *host = xasprintf("`127.0.0.1:%d` warns: ", R.port);
	char *once = xasprintf("%sthis API is deprecated\n", host);
	ok(count_of(log, once) == 1, "warnings: the same warning twice is shown once, its text unquoted");
	ok(strstr(log, "warns: red [31mALERT[0m \"quoted\"\n") != NULL,
	   "warnings: escapes and the bell dropped, the date left out");
	ok(strstr(log, "warns: not the RFC shape\n") != NULL, "warnings: a value of another shape is shown as it is");
	size_t bad = 0;
	ok(ims_text_ok(log, strlen(log), IMS_TEXT_NEWLINE, &bad), "warnings: no control character reaches the caller");
	const char *l = strstr(log, "warns: 0000");
	size_t len = l ? strcspn(l, "\n") : 0;
	ok(l && len == strlen("warns: ") + 256 + 3 && !strncmp(l + len - 3, "...", 3),
	   "warnings: a 5000-byte text is cut at 256 bytes, with ...");
	ok(count_of(log, host) == 8, "warnings: at most 8 distinct ones shown");
	ok(strstr(log, "warns: many 3\n") && !strstr(log, "warns: many 4\n"), "warnings: the first ones are shown");
	ok(count_of(log, "sent more than 8 different Warning headers; the rest are not shown") == 1,
	   "warnings: the rest are said to be left out, once");
	for (const char *p = log; *p;) {
		size_t n = strcspn(p, "\n");
		printf("# %.*s\n", n > 100 ? 100 : (int)n, p);
		p += n + (p[n] == '\n');
	}
	free(once);
	free(host);
	ims_http_free(h);
	ims_buf_dispose(&warn_log);
	server_stop(&R);
	free(rules);
}

typedef struct {
	ims_http *h;
	char *url;
	int ok;
} worker;

static void *work(void *ud)
{
	worker *w = ud;
	for (int i = 0; i < 20; i++) {
		ims_http_response r;
		ims_error *e = NULL;
		if (get(w->h, w->url, &r, &e) == 0 && r.status == 200)
			w->ok++;
		ims_http_response_dispose(&r);
		ims_error_free(e);
	}
	return NULL;
}

static void test_threads(ims_http *h)
{
	worker w[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (worker){ h, url(i % 2 ? &B : &A, "http", "/echo-headers"), 0 };
		pthread_create(&t[i], NULL, work, &w[i]);
	}
	int total = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		total += w[i].ok;
		free(w[i].url);
	}
	is_int(total, 80, "threads: 4 x 20 requests on one client");
}

/* ---- TLS ---- */

static bool sh(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *cmd = xvasprintf(fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	free(cmd);
	return rc == 0;
}

/* A CA, a server certificate for IP 127.0.0.1 and a client certificate. */
static bool make_certs(void)
{
	const char *d = tmpdir;
	return sh(
		"cd '%s' && printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext && "
		"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key "
		"-out ca.crt -days 2 -subj /CN=imstest-ca 2>/dev/null && "
		"openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout srv.key -out srv.csr "
		"-subj /CN=127.0.0.1 2>/dev/null && "
		"openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 "
		"-extfile san.ext 2>/dev/null && "
		"openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout cli.key -out cli.csr "
		"-subj /CN=imstest-client 2>/dev/null && "
		"openssl x509 -req -in cli.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out cli.crt -days 2 2>/dev/null",
		d);
}

static char *tpath(const char *rel)
{
	return ims_path_join(tmpdir, rel);
}

static int tls_get(const ims_http_options *o, const char *u, ims_http_response *r, ims_error **e)
{
	ims_http *h = client(o);
	if (!h)
		return -100;
	int rc = get(h, u, r, e);
	ims_http_free(h);
	return rc;
}

static void test_tls(void)
{
	if (!make_certs()) {
		ok(1, "# SKIP openssl could not make certificates");
		return;
	}
	char *ca = tpath("ca.crt"), *crt = tpath("srv.crt"), *key = tpath("srv.key");
	server S = { 0 }, M = { 0 };
	if (!server_start(&S, "127.0.0.1", "--tls", crt, key, NULL) ||
	    !server_start(&M, "127.0.0.1", "--tls", crt, key, "--client-ca", ca, NULL)) {
		ok(0, "TLS servers started");
		server_stop(&S);
		free(ca), free(crt), free(key);
		return;
	}
	ims_http_response r;
	ims_error *e = NULL;
	char *u = url(&S, "https", "/echo-headers");

	int rc = tls_get(NULL, u, &r, &e);
	ok(rc == IMS_ENET && r.failure == IMS_HTTP_FAIL_TLS_VERIFY, "TLS: untrusted CA -> TLS_VERIFY");
	ok(e && e->hint && strstr(e->hint, "--ca-cert"), "TLS: hint says how to trust it");
	/* libcurl's words as it wrote them: "SSL certificate problem: ...",
	 * never with the first letter lowered ("sSL certificate problem") */
	ok(msg_has(e, "SSL certificate problem") && !msg_has(e, "sSL"), "TLS: libcurl's message keeps its capitals");
	is_int(r.attempts, 1, "TLS: verification failure not retried");
	ims_error_clear(&e);
	ims_http_response_dispose(&r);

	ims_http_options o = { .ca_file = ca };
	rc = tls_get(&o, u, &r, &e);
	ok(rc == 0 && r.status == 200, "TLS: --ca-cert trusted");
	ims_http_response_dispose(&r);

	char *hostkey = xasprintf("127.0.0.1:%d", S.port);
	ims_http_host hc = { .host = hostkey, .ca_file = ca };
	o = (ims_http_options){ .hosts = &hc, .nhosts = 1 };
	rc = tls_get(&o, u, &r, &e);
	ok(rc == 0 && r.status == 200, "TLS: per-host caFile trusted");
	ims_http_response_dispose(&r);

	ims_http_host hi = { .host = hostkey, .insecure = true };
	o = (ims_http_options){ .hosts = &hi, .nhosts = 1 };
	rc = tls_get(&o, u, &r, &e);
	ok(rc == 0 && r.status == 200, "TLS: insecure host, no verification");
	ims_http_response_dispose(&r);

	/* certs.d/127.0.0.1:PORT/ca.crt */
	char *certsd = tpath("certs.d");
	char *dir = xasprintf("%s/%s", certsd, hostkey);
	ims_mkdir_p(dir, 0755, NULL);
	sh("cp '%s' '%s/ca.crt'", ca, dir);
	const char *dirs[] = { "/nonexistent", certsd };
	o = (ims_http_options){ .certs_dirs = dirs, .ncerts_dirs = 2 };
	rc = tls_get(&o, u, &r, &e);
	ok(rc == 0 && r.status == 200, "TLS: certs.d ca.crt trusted");
	ims_http_response_dispose(&r);

	sh("cp '%s/cli.crt' '%s/client.cert'", tmpdir, dir);
	rc = tls_get(&o, u, &r, &e);
	ok(rc == IMS_EINVALID && msg_has(e, "no matching"), "certs.d: a .cert without its .key is refused");
	ims_error_clear(&e);
	ims_http_response_dispose(&r);
	free(dir);

	/* The server that demands a client certificate. */
	char *mkey = xasprintf("127.0.0.1:%d", M.port);
	dir = xasprintf("%s/%s", certsd, mkey);
	ims_mkdir_p(dir, 0755, NULL);
	sh("cp '%s' '%s/ca.crt' && cp '%s/cli.crt' '%s/client.cert' && cp '%s/cli.key' '%s/client.key'", ca, dir,
	   tmpdir, dir, tmpdir, dir);
	char *mu = url(&M, "https", "/echo-headers");
	rc = tls_get(&o, mu, &r, &e);
	ok(rc == 0 && r.status == 200 && has(&r, "imstest-client"), "certs.d: client certificate shown");
	ims_http_response_dispose(&r);
	ims_http_options onlyca = { .ca_file = ca, .max_attempts = 1 };
	rc = tls_get(&onlyca, mu, &r, &e);
	ok(rc < 0, "TLS: no client certificate, no answer");
	ims_error_clear(&e);
	ims_http_response_dispose(&r);
	free(mu);
	free(dir);
	free(mkey);

	/* The same through the registry settings instead of certs.d. */
	char *ccrt = tpath("cli.crt"), *ckey = tpath("cli.key");
	char *mhost = xasprintf("127.0.0.1:%d", M.port);
	ims_http_host mc = { .host = mhost, .ca_file = ca, .client_cert = ccrt, .client_key = ckey };
	ims_http_options mo = { .hosts = &mc, .nhosts = 1 };
	mu = url(&M, "https", "/echo-headers");
	rc = tls_get(&mo, mu, &r, &e);
	ok(rc == 0 && r.status == 200 && has(&r, "imstest-client"), "registry settings: client certificate shown");
	ims_http_response_dispose(&r);
	free(mu);
	ims_http *bad = NULL;
	mc.client_key = NULL;
	ok(ims_http_new(&bad, &mo, &e) == IMS_EINVALID && msg_has(e, "both"),
	   "registry settings: cert without key refused");
	ims_error_clear(&e);
	mc.client_key = ckey;
	mc.ca_file = "/nonexistent/ca.pem";
	ok(ims_http_new(&bad, &mo, &e) == IMS_EINVALID && msg_has(e, "/nonexistent/ca.pem"),
	   "registry settings: a missing caFile is named");
	ims_error_clear(&e);
	free(mhost);
	free(ccrt);
	free(ckey);

	setenv("SSL_CERT_FILE", ca, 1);
	rc = tls_get(NULL, u, &r, &e);
	ok(rc == 0 && r.status == 200, "TLS: SSL_CERT_FILE honoured");
	ims_http_response_dispose(&r);
	setenv("SSL_CERT_FILE", "/nonexistent/ca.pem", 1);
	ims_http *h = NULL;
	rc = ims_http_new(&h, NULL, &e);
	ok(rc == IMS_EINVALID && msg_has(e, "SSL_CERT_FILE"), "TLS: a missing SSL_CERT_FILE is refused");
	ims_error_clear(&e);
	unsetenv("SSL_CERT_FILE");

	/* https -> http: towards loopback only. */
	o = (ims_http_options){ .ca_file = ca };
	h = client(&o);
	ims_http_request q = IMS_HTTP_REQUEST_INIT;
	q.method = "GET";
	q.follow_redirects = true;
	q.authorization = "Bearer s3cret";
	char *plain = url(&A, "http", "/echo-headers");
	char *enc = qenc(plain);
	char *ru = url(&S, "https", "/redirect?to=%s", enc);
	q.url = ru;
	rc = ims_http_do(h, &q, &r, &e);
	ok(rc == 0 && r.status == 200 && !has(&r, "authorization"),
	   "https -> http loopback: followed, without Authorization");
	ims_http_response_dispose(&r);
	free(ru);
	ru = url(&S, "https", "/redirect?to=http%%3A%%2F%%2Fexample.invalid%%2Fx");
	q.url = ru;
	rc = ims_http_do(h, &q, &r, &e);
	ok(rc == IMS_ENET && msg_has(e, "from https"), "https -> http elsewhere: refused");
	ims_error_clear(&e);
	ims_http_response_dispose(&r);
	free(ru);
	free(enc);
	free(plain);

	/* TLS to a server that speaks plain HTTP. */
	char *pu = url(&A, "https", "/echo-headers");
	rc = get(h, pu, &r, &e);
	ok(rc == IMS_ENET && r.failure == IMS_HTTP_FAIL_TLS, "https to a plain HTTP server: failure TLS");
	ims_error_clear(&e);
	ims_http_response_dispose(&r);
	free(pu);
	ims_http_free(h);

	server_stop(&S);
	server_stop(&M);
	free(u);
	free(hostkey);
	free(certsd);
	free(ca), free(crt), free(key);
}

/* Literal hosts as the upload-location and foreign-url checks see them. */
static void test_host_class(void)
{
	static const struct {
		const char *host;
		ims_http_addr want;
	} cases[] = {
		{ "169.254.169.254", IMS_ADDR_LINK_LOCAL }, { "0.0.0.0", IMS_ADDR_LINK_LOCAL },
		{ "fe80::1", IMS_ADDR_LINK_LOCAL },	    { "::", IMS_ADDR_LINK_LOCAL },
		{ "::ffff:169.254.1.1", IMS_ADDR_LINK_LOCAL }, { "10.1.2.3", IMS_ADDR_PRIVATE },
		{ "172.16.0.1", IMS_ADDR_PRIVATE },	    { "192.168.1.1", IMS_ADDR_PRIVATE },
		{ "100.64.0.1", IMS_ADDR_PRIVATE },	    { "fd00::1", IMS_ADDR_PRIVATE },
		{ "127.0.0.2", IMS_ADDR_LOOPBACK },	    { "::1", IMS_ADDR_LOOPBACK },
		{ "localhost", IMS_ADDR_LOOPBACK },	    { "8.8.8.8", IMS_ADDR_PUBLIC },
		{ "172.32.0.1", IMS_ADDR_PUBLIC },	    { "registry.example", IMS_ADDR_NAME },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		is_int(ims_http_host_class(cases[i].host), cases[i].want, "host class of %s", cases[i].host);
	char *h = ims_http_origin_host("http://[fe80::1]:8080");
	is_str(h, "fe80::1", "the host of a bracketed origin");
	free(h);
	h = ims_http_origin_host("https://169.254.169.254:443");
	is_str(h, "169.254.169.254", "the host of an origin with a port");
	free(h);
}

int main(void)
{
	/* An ambient proxy must never capture loopback traffic. */
	setenv("NO_PROXY", "127.0.0.1,127.0.0.2,localhost,::1", 1);
	setenv("no_proxy", "127.0.0.1,127.0.0.2,localhost,::1", 1);
	unsetenv("SSL_CERT_FILE");
	test_host_class();
	unsetenv("SSL_CERT_DIR");
	signal(SIGPIPE, SIG_IGN);
	ims_http_global_init();
	ims_error *e = NULL;
	if (ims_mkdtemp(NULL, "ims-http-test", &tmpdir, &e) < 0) {
		printf("Bail out! %s\n", e->message);
		return 1;
	}

	test_urls();
	test_retry_after();
	test_insecure();

	if (!server_start(&A, "127.0.0.1", NULL) || !server_start(&B, "127.0.0.2", NULL)) {
		ok(0, "test servers started");
	} else {
		ims_http *h = client(NULL);
		test_methods(h);
		test_fd_and_reader(h);
		test_bodies(h);
		test_redirects(h);
		test_threads(h);
		ims_http_free(h);
		test_reuse_and_rules();
		test_rules();
		test_retries();
		test_failures();
		test_trace();
		test_warnings();
		test_tls();
	}
	server_stop(&A);
	server_stop(&B);
	ims_rm_rf(tmpdir, NULL);
	free(tmpdir);
	ims_http_global_cleanup();
	return tap_done();
}
