/* Unit tests for the registry client and transport, against a real Debian
 * `docker-registry` started on a free loopback port with its own config
 * (plain HTTP, then htpasswd), plus a tiny canned-answer server for the
 * hostile responses a real registry never sends. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth.h"
#include "digest/digest.h"
#include "http/http.h"
#include "json/oci.h"
#include "ref/ref.h"
#include "transport/registry_client.h"
#include "transport/registry_int.h"
#include "transport/registry_pool.h"
#include "transport/transport.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/xalloc.h"
#include "tap.h"
#include "testport.h"

#undef is_str
#define is_str(a, b, ...)                                                                        \
	do {                                                                                     \
		const char *_sa = (a), *_sb = (b);                                               \
		int _same = (_sa && _sb) ? !strcmp(_sa, _sb) : _sa == _sb;                       \
		ok(_same, __VA_ARGS__);                                                          \
		if (!_same)                                                                      \
			printf("#   got:      '%s'\n#   expected: '%s'\n", _sa ? _sa : "(null)", \
			       _sb ? _sb : "(null)");                                            \
	} while (0)

static char *root;
static ims_http *http;

static void diag_err(ims_error *e)
{
	if (e)
		printf("#   error (%d, http %ld): %s\n", e->code, e->http_status, e->message);
}

#define CLEAR(e) (diag_err(e), ims_error_clear(&(e)))

/* ---- a registry of our own ---- */

typedef struct {
	pid_t pid;
	int port;
	char host[64];
	char *dir;
} registry_proc;

static int free_port(void)
{
	return test_port_claim();
}

static bool port_open(int port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bool ok = connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(s);
	return ok;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Starts docker-registry with storage in a fresh directory; auth_yaml is
 * an extra `auth:` section or NULL. */
static bool registry_start(registry_proc *p, const char *name, const char *auth_yaml)
{
	memset(p, 0, sizeof(*p));
	p->dir = xasprintf("%s/%s", root, name);
	char *data = xasprintf("%s/data", p->dir);
	ims_mkdir_p(data, 0700, NULL);
	p->port = free_port();
	snprintf(p->host, sizeof(p->host), "127.0.0.1:%d", p->port);
	char *cfg = xasprintf(
		"version: 0.1\n"
		"log:\n  level: error\n  accesslog:\n    disabled: true\n"
		"storage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n"
		"http:\n  addr: 127.0.0.1:%d\n%s",
		data, p->port, auth_yaml ? auth_yaml : "");
	char *cfg_path = xasprintf("%s/config.yml", p->dir);
	ims_write_file_atomic(cfg_path, cfg, strlen(cfg), 0600, NULL);
	char *log_path = xasprintf("%s/registry.log", p->dir);
	p->pid = fork();
	if (p->pid == 0) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl("/usr/bin/docker-registry", "docker-registry", "serve", cfg_path, (char *)NULL);
		_exit(127);
	}
	free(data);
	free(cfg);
	free(cfg_path);
	free(log_path);
	for (int i = 0; i < 200; i++) {
		if (port_open(p->port))
			return true;
		int st;
		if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
			p->pid = 0;
			return false;
		}
		sleep_ms(50);
	}
	return false;
}

static void registry_stop(registry_proc *p)
{
	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		waitpid(p->pid, NULL, 0);
	}
	p->pid = 0;
	free(p->dir);
	p->dir = NULL;
}

/* ---- a canned-answer server for hostile responses ---- */

typedef struct {
	int fd;
	int port;
	pthread_t thread;
	/* answer(method, path) returns the raw response (caller-owned), or
	 * NULL to close the connection. */
	char *(*answer)(const char *method, const char *path, int port);
	bool stop;
} fake_server;

static void *fake_loop(void *ud)
{
	fake_server *f = ud;
	for (;;) {
		int c = accept(f->fd, NULL, NULL);
		if (c < 0 || f->stop) {
			if (c >= 0)
				close(c);
			return NULL;
		}
		/* One request per connection (Connection: close). */
		char buf[65536];
		size_t len = 0;
		char *end = NULL;
		while (len < sizeof(buf) - 1 && !end) {
			ssize_t n = read(c, buf + len, sizeof(buf) - 1 - len);
			if (n <= 0)
				break;
			len += (size_t)n;
			buf[len] = '\0';
			/* A TLS ClientHello: answer in plain HTTP, as Go does. */
			if ((unsigned char)buf[0] == 0x16) {
				static const char no_tls[] = "HTTP/1.0 400 Bad Request\r\n\r\n";
				if (write(c, no_tls, sizeof(no_tls) - 1) < 0)
					break;
				break;
			}
			end = strstr(buf, "\r\n\r\n");
		}
		if (!end) {
			close(c);
			continue;
		}
		/* drain a Content-Length body */
		const char *cl = strcasestr(buf, "\r\ncontent-length:");
		long want = cl ? strtol(cl + 17, NULL, 10) : 0;
		long have = (long)(len - (size_t)(end + 4 - buf));
		while (have < want) {
			char tmp[65536];
			ssize_t n = read(c, tmp, sizeof(tmp));
			if (n <= 0)
				break;
			have += n;
		}
		char method[16] = "", path[2048] = "";
		sscanf(buf, "%15s %2047s", method, path);
		char *resp = f->answer(method, path, f->port);
		if (resp) {
			size_t off = 0, rl = strlen(resp);
			while (off < rl) {
				ssize_t n = write(c, resp + off, rl - off);
				if (n <= 0)
					break;
				off += (size_t)n;
			}
			free(resp);
		}
		close(c);
	}
}

static bool fake_start(fake_server *f, char *(*answer)(const char *, const char *, int))
{
	memset(f, 0, sizeof(*f));
	f->answer = answer;
	f->fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	if (bind(f->fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(f->fd, 16) < 0 ||
	    getsockname(f->fd, (struct sockaddr *)&a, &len) < 0)
		return false;
	f->port = ntohs(a.sin_port);
	return pthread_create(&f->thread, NULL, fake_loop, f) == 0;
}

static void fake_stop(fake_server *f)
{
	f->stop = true;
	port_open(f->port); /* wake accept */
	pthread_join(f->thread, NULL);
	close(f->fd);
}

static char *reply(int status, const char *headers, const char *body)
{
	return xasprintf("HTTP/1.1 %d X\r\nConnection: close\r\nContent-Length: %zu\r\n%s\r\n%s", status, strlen(body),
			 headers, body);
}

/* ---- helpers ---- */

static int mem_write(void *ud, const void *p, size_t n, ims_error **err)
{
	return ims_buf_add(ud, p, n, err);
}

static int tmp_with(const char *content, size_t len)
{
	char *path = xasprintf("%s/blob-XXXXXX", root);
	int fd = mkstemp(path);
	unlink(path);
	free(path);
	ims_write_all(fd, content, len);
	return fd;
}

/* PATCH requests seen, from the client's own trace (-v's lines). */
static int patches;

static void count_patches(void *ud, const char *line)
{
	(void)ud;
	if (!strncmp(line, "PATCH ", 6))
		__atomic_add_fetch(&patches, 1, __ATOMIC_SEQ_CST);
}

static ims_registry *new_client(const char *host, ims_auth *auth)
{
	ims_registry *r = NULL;
	ims_error *e = NULL;
	if (ims_registry_new(&r, http, auth, host, &e) < 0)
		CLEAR(e);
	return r;
}

typedef struct {
	char *data;
	size_t len;
	char digest[IMS_DIGEST_BUFSZ];
} doc;

static void doc_set(doc *d, const char *s)
{
	d->data = xstrdup(s);
	d->len = strlen(s);
	ims_sha256_buf(d->data, d->len, d->digest);
}

static void doc_free(doc *d)
{
	free(d->data);
}

/* Uploads config and layer, and returns an OCI manifest naming them. */
static void make_image(ims_registry *r, const char *repo, const char *content, doc *layer, doc *config, doc *manifest)
{
	doc_set(layer, content);
	char *cfg = xasprintf(
		"{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
		"\"diff_ids\":[\"%s\"]},\"config\":{}}",
		layer->digest);
	doc_set(config, cfg);
	free(cfg);
	doc *blobs[] = { layer, config };
	for (int i = 0; i < 2; i++) {
		int fd = tmp_with(blobs[i]->data, blobs[i]->len);
		ims_error *e = NULL;
		if (ims_registry_blob_upload_fd(r, repo, blobs[i]->digest, fd, (int64_t)blobs[i]->len, NULL, &e) < 0)
			CLEAR(e);
		close(fd);
	}
	char *m = xasprintf(
		"{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\",\"digest\":"
		"\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}]}",
		IMS_MT_OCI_MANIFEST, IMS_MT_OCI_CONFIG, config->digest, config->len, IMS_MT_OCI_LAYER, layer->digest,
		layer->len);
	doc_set(manifest, m);
	free(m);
}

/* ---- tests against the real registry ---- */

static void test_ping(const registry_proc *p)
{
	ims_registry *r = new_client(p->host, NULL);
	ims_error *e = NULL;
	int rc = ims_registry_ping(r, &e);
	is_int(rc, 0, "ping a plain-HTTP loopback registry");
	CLEAR(e);
	ok(r->base && !strncmp(r->base, "http://", 7), "fell back from https to http (%s)", r->base);
	is_str(ims_registry_host(r), p->host, "host as given");
	ims_registry_free(r);

	ims_registry *d = new_client("docker.io", NULL);
	is_str(d->api_host, "registry-1.docker.io", "docker.io goes to registry-1.docker.io");
	ims_registry_free(d);
	ok(ims_registry_new(&d, http, NULL, "evil/host", &e) == IMS_EINVALID, "a host with a slash is refused");
	ims_error_clear(&e);
}

typedef struct {
	int64_t last;
	int calls;
	bool rising;
} seen_progress;

static void on_upload_progress(void *ud, int64_t done)
{
	seen_progress *s = ud;
	if (done < s->last)
		s->rising = false;
	s->last = done;
	s->calls++;
}

static void test_blobs(const registry_proc *p)
{
	ims_registry *r = new_client(p->host, NULL);
	ims_error *e = NULL;
	doc b;
	doc_set(&b, "hello blob\n");
	int fd = tmp_with(b.data, b.len);
	seen_progress pg_seen = { -1, 0, true };
	ims_registry_progress pg = { on_upload_progress, &pg_seen };
	int rc = ims_registry_blob_upload_fd(r, "team/blobs", b.digest, fd, (int64_t)b.len, &pg, &e);
	is_int(rc, 0, "upload_fd");
	ok(pg_seen.calls > 0 && pg_seen.last == (int64_t)b.len && pg_seen.rising,
	   "upload_fd tells its progress, rising to the size (%d calls, last %lld)", pg_seen.calls,
	   (long long)pg_seen.last);
	CLEAR(e);

	bool exists = false;
	int64_t size = -1;
	rc = ims_registry_blob_head(r, "team/blobs", b.digest, &exists, &size, &e);
	ok(rc == 0 && exists, "HEAD finds the blob");
	is_int(size, (long long)b.len, "HEAD gives its size");
	CLEAR(e);

	ims_buf got = IMS_BUF_INIT(1 << 20);
	ims_sink sink = { mem_write, &got };
	rc = ims_registry_blob_get(r, "team/blobs", b.digest, (int64_t)b.len, &sink, &e);
	is_int(rc, 0, "GET verified");
	CLEAR(e);
	ok(got.len == b.len && !memcmp(got.data, b.data, b.len), "GET gives the bytes");
	ims_buf_reset(&got);

	rc = ims_registry_blob_get(r, "team/blobs", b.digest, (int64_t)b.len + 1, &sink, &e);
	is_int(rc, IMS_EDIGEST, "GET with the wrong size is IMS_EDIGEST");
	ims_error_clear(&e);
	ims_buf_dispose(&got);

	/* the same content under another digest */
	doc other;
	doc_set(&other, "something else");
	rc = ims_registry_blob_upload_fd(r, "team/blobs", other.digest, fd, (int64_t)b.len, NULL, &e);
	is_int(rc, IMS_EDIGEST, "upload with a wrong digest is refused");
	ok(e && e->http_status == 400 && strstr(e->message, "DIGEST_INVALID"), "the error names 400 DIGEST_INVALID");
	ok(e && strstr(e->message, "push blob") && strstr(e->message, "team/blobs"),
	   "the error names the operation and repository");
	ims_error_clear(&e);
	rc = ims_registry_blob_head(r, "team/blobs", other.digest, &exists, NULL, &e);
	ok(rc == 0 && !exists, "HEAD of a missing blob: not there");
	CLEAR(e);
	close(fd);

	rc = ims_registry_blob_head(r, "team/blobs", "sha256:ABC", &exists, NULL, &e);
	is_int(rc, IMS_EINVALID, "a malformed digest never reaches a URL");
	ims_error_clear(&e);
	rc = ims_registry_blob_head(r, "../etc", b.digest, &exists, NULL, &e);
	is_int(rc, IMS_EINVALID, "a malformed repository never reaches a URL");
	ims_error_clear(&e);

	/* streamed upload: POST, PATCH, PUT */
	doc s;
	doc_set(&s, "streamed content, sent chunked");
	int sfd = tmp_with(s.data, s.len);
	lseek(sfd, 0, SEEK_SET);
	ims_reader rd = ims_reader_fd(sfd);
	rc = ims_registry_blob_upload_stream(r, "team/blobs", s.digest, &rd, &e);
	is_int(rc, 0, "upload_stream");
	CLEAR(e);
	ims_reader_close(&rd);
	rc = ims_registry_blob_head(r, "team/blobs", s.digest, &exists, &size, &e);
	ok(rc == 0 && exists && size == (int64_t)s.len, "the streamed blob is there");
	CLEAR(e);

	/* streamed in pieces: a PATCH per stream_piece bytes, none empty */
	static const struct {
		size_t len;
		int patches;
	} pieces[] = { { 2500, 3 }, { 2000, 2 }, { 1000, 1 }, { 1, 1 }, { 0, 0 } };
	r->stream_piece = 1000;
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		char *text = xmalloc(pieces[i].len + 1);
		for (size_t k = 0; k < pieces[i].len; k++)
			text[k] = (char)('a' + (k * 7 + i) % 26);
		text[pieces[i].len] = 0;
		doc d;
		doc_set(&d, text);
		free(text);
		int dfd = tmp_with(d.data, d.len);
		lseek(dfd, 0, SEEK_SET);
		ims_reader drd = ims_reader_fd(dfd);
		int before = __atomic_load_n(&patches, __ATOMIC_SEQ_CST);
		rc = ims_registry_blob_upload_stream(r, "team/pieces", d.digest, &drd, &e);
		int sent = __atomic_load_n(&patches, __ATOMIC_SEQ_CST) - before;
		CLEAR(e);
		ims_reader_close(&drd);
		is_int(sent, pieces[i].patches, "streamed %zu bytes in pieces of 1000: %d PATCHes", pieces[i].len,
		       pieces[i].patches);
		exists = false;
		size = -1;
		int hr = ims_registry_blob_head(r, "team/pieces", d.digest, &exists, &size, &e);
		ok(rc == 0 && hr == 0 && exists && size == (int64_t)d.len, "... and the registry has the blob whole");
		CLEAR(e);
		ims_buf back = IMS_BUF_INIT(1 << 20);
		ims_sink bs = { mem_write, &back };
		hr = ims_registry_blob_get(r, "team/pieces", d.digest, (int64_t)d.len, &bs, &e);
		ok(hr == 0 && back.len == d.len && (!d.len || !memcmp(back.data, d.data, d.len)),
		   "... in order: the same bytes come back");
		CLEAR(e);
		ims_buf_dispose(&back);
		doc_free(&d);
	}
	r->stream_piece = IMS_REGISTRY_STREAM_PIECE;

	/* empty blob */
	doc z;
	doc_set(&z, "");
	int zfd = tmp_with("", 0);
	rc = ims_registry_blob_upload_fd(r, "team/blobs", z.digest, zfd, 0, NULL, &e);
	is_int(rc, 0, "upload an empty blob");
	CLEAR(e);
	close(zfd);

	/* mounts */
	bool mounted = false;
	rc = ims_registry_blob_mount(r, "team/mounted", b.digest, "team/blobs", &mounted, &e);
	ok(rc == 0 && mounted, "mount between repositories of one registry");
	CLEAR(e);
	rc = ims_registry_blob_head(r, "team/mounted", b.digest, &exists, NULL, &e);
	ok(rc == 0 && exists, "the mounted blob is there");
	CLEAR(e);
	mounted = true;
	rc = ims_registry_blob_mount(r, "team/mounted", other.digest, "team/blobs", &mounted, &e);
	ok(rc == 0 && !mounted && !e, "mount of a missing blob: not mounted, no error");
	CLEAR(e);

	doc_free(&b);
	doc_free(&other);
	doc_free(&s);
	doc_free(&z);
	ims_registry_free(r);
}

static void test_manifests(const registry_proc *p)
{
	ims_registry *r = new_client(p->host, NULL);
	ims_error *e = NULL;
	doc layer, config, m;
	make_image(r, "team/m", "layer bytes", &layer, &config, &m);

	int rc = ims_registry_manifest_put(r, "team/m", "v1", m.data, m.len, IMS_MT_OCI_MANIFEST, &e);
	is_int(rc, 0, "PUT manifest by tag");
	CLEAR(e);

	char *data = NULL, *mt = NULL;
	size_t len = 0;
	char dg[IMS_DIGEST_BUFSZ] = "";
	rc = ims_registry_manifest_get(r, "team/m", "v1", &data, &len, &mt, dg, &e);
	is_int(rc, 0, "GET manifest by tag");
	CLEAR(e);
	ok(data && len == m.len && !memcmp(data, m.data, len), "same bytes back");
	is_str(mt, IMS_MT_OCI_MANIFEST, "media type");
	is_str(dg, m.digest, "digest of the body");
	free(data);
	free(mt);
	data = mt = NULL;

	rc = ims_registry_manifest_get(r, "team/m", m.digest, &data, &len, &mt, dg, &e);
	ok(rc == 0 && data && len == m.len, "GET manifest by digest");
	CLEAR(e);
	free(data);
	free(mt);
	data = mt = NULL;

	bool exists = false;
	rc = ims_registry_manifest_head(r, "team/m", "v1", &exists, dg, &e);
	ok(rc == 0 && exists, "HEAD manifest by tag");
	is_str(dg, m.digest, "HEAD gives the digest");
	CLEAR(e);
	rc = ims_registry_manifest_head(r, "team/m", "nope", &exists, dg, &e);
	ok(rc == 0 && !exists, "HEAD of a missing tag: not there");
	CLEAR(e);

	rc = ims_registry_manifest_get(r, "team/m", "nope", &data, &len, &mt, dg, &e);
	is_int(rc, IMS_ENOTFOUND, "GET of a missing tag is IMS_ENOTFOUND");
	ok(e && e->http_status == 404 && strstr(e->message, "MANIFEST_UNKNOWN") && strstr(e->message, "team/m:nope"),
	   "the error names the reference, 404 and MANIFEST_UNKNOWN");
	diag_err(e);
	ims_error_clear(&e);

	/* a PUT by digest checks the digest before sending */
	rc = ims_registry_manifest_put(r, "team/m", layer.digest, m.data, m.len, IMS_MT_OCI_MANIFEST, &e);
	is_int(rc, IMS_EDIGEST, "PUT under a digest that is not the body's");
	ims_error_clear(&e);
	rc = ims_registry_manifest_put(r, "team/m", m.digest, m.data, m.len, "text/plain\r\nX: y", &e);
	is_int(rc, IMS_EINVALID, "a media type with a line break is refused");
	ims_error_clear(&e);
	rc = ims_registry_manifest_put(r, "team/m", m.digest, m.data, m.len, IMS_MT_OCI_MANIFEST, &e);
	is_int(rc, 0, "PUT manifest by digest");
	CLEAR(e);

	doc_free(&layer);
	doc_free(&config);
	doc_free(&m);

	/* tags, paged two at a time */
	const char *tags[] = { "a", "b", "c" };
	for (int i = 0; i < 3; i++) {
		make_image(r, "team/tags", tags[i], &layer, &config, &m);
		rc = ims_registry_manifest_put(r, "team/tags", tags[i], m.data, m.len, IMS_MT_OCI_MANIFEST, &e);
		CLEAR(e);
		doc_free(&layer);
		doc_free(&config);
		doc_free(&m);
	}
	/* 2.8.2 ignores n (and sends no Link): the canned server below
	 * covers pagination. */
	char **list = NULL;
	size_t n = 0;
	rc = ims_registry_tags_paged(r, "team/tags", 2, &list, &n, &e);
	is_int(rc, 0, "list tags (n=2)");
	CLEAR(e);
	is_int(n, 3, "three tags");
	bool seen[3] = { false };
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < 3; k++)
			seen[k] |= !strcmp(list[i], tags[k]);
	ok(seen[0] && seen[1] && seen[2] && !list[n], "a, b and c, NULL-terminated");
	ims_strv_free(list);
	list = NULL;
	rc = ims_registry_tags(r, "team/none", &list, &n, &e);
	is_int(rc, IMS_ENOTFOUND, "tags of a missing repository: IMS_ENOTFOUND");
	ims_error_clear(&e);

	ims_registry_free(r);
}

/* The transport end to end: write an image, read it back, and let skopeo
 * judge it. */
static void test_transport(const registry_proc *p)
{
	ims_error *e = NULL;
	ims_registry_pool *pool = NULL;
	int rc = ims_registry_pool_new(&pool, http, NULL, NULL, &e);
	is_int(rc, 0, "pool");
	CLEAR(e);
	ims_registry *r1 = NULL, *r2 = NULL;
	ims_registry_pool_get(pool, p->host, &r1, NULL);
	ims_registry_pool_get(pool, p->host, &r2, NULL);
	ok(r1 && r1 == r2, "one client per host");

	char *s = xasprintf("%s/team/app:1", p->host);
	ims_ref *ref = NULL;
	ims_ref_parse(&ref, s, NULL);
	free(s);

	ims_transport *t = NULL;
	ims_transport_opts none = { 0 };
	rc = ims_transport_open(&t, ref, IMS_TRANSPORT_WRITE, &none, &e);
	is_int(rc, IMS_EUNSUPPORTED, "no pool: refused");
	ok(e && strstr(e->message, "registry pool"), "and says why");
	ims_error_clear(&e);

	ims_transport_opts o = { .tmp_dir = root, .registries = pool, .jobs = 2 };
	rc = ims_transport_open(&t, ref, IMS_TRANSPORT_WRITE, &o, &e);
	is_int(rc, 0, "open a write transport");
	CLEAR(e);
	if (rc < 0)
		goto out;

	doc layer, config;
	doc_set(&layer, "transport layer bytes");
	char *cfg = xasprintf(
		"{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
		"\"diff_ids\":[\"%s\"]},\"config\":{}}",
		layer.digest);
	doc_set(&config, cfg);
	free(cfg);
	doc *blobs[] = { &layer, &config };
	for (int i = 0; i < 2; i++) {
		ims_blob_writer *w = NULL;
		rc = ims_transport_new_blob(t, &w, &e);
		if (rc == 0) {
			ims_sink_write(&w->sink, blobs[i]->data, blobs[i]->len, &e);
			rc = w->commit(w, blobs[i]->digest, (int64_t)blobs[i]->len, &e);
		}
		is_int(rc, 0, "new_blob + commit %d", i);
		CLEAR(e);
	}
	/* more blobs than workers, all in flight at once */
	doc many[8];
	bool all = true;
	for (int i = 0; i < 8; i++) {
		char *c = xasprintf("parallel blob %d", i);
		doc_set(&many[i], c);
		free(c);
		ims_blob_writer *pw = NULL;
		rc = ims_transport_new_blob(t, &pw, &e);
		if (rc == 0) {
			ims_sink_write(&pw->sink, many[i].data, many[i].len, &e);
			rc = pw->commit(pw, many[i].digest, (int64_t)many[i].len, &e);
		}
		all = all && rc == 0;
		CLEAR(e);
	}
	ok(all, "eight blobs committed");
	rc = ims_transport_commit(t, &e);
	is_int(rc, 0, "commit waits for them");
	CLEAR(e);
	all = true;
	ims_registry *reg = NULL;
	ims_registry_pool_get(pool, p->host, &reg, NULL);
	for (int i = 0; i < 8; i++) {
		bool there = false;
		all = all && ims_registry_blob_head(reg, "team/app", many[i].digest, &there, NULL, NULL) == 0 && there;
		doc_free(&many[i]);
	}
	ok(all, "all eight are in the registry");

	ims_blob_writer *w = NULL;
	rc = ims_transport_new_blob(t, &w, &e);
	if (rc == 0) {
		ims_sink_write(&w->sink, "x", 1, &e);
		rc = w->commit(w, layer.digest, 1, &e);
	}
	is_int(rc, IMS_EDIGEST, "commit with the wrong digest is refused before any upload");
	ims_error_clear(&e);

	char *m = xasprintf(
		"{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\",\"digest\":"
		"\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}]}",
		IMS_MT_OCI_MANIFEST, IMS_MT_OCI_CONFIG, config.digest, config.len, IMS_MT_OCI_LAYER, layer.digest,
		layer.len);
	doc man;
	doc_set(&man, m);
	free(m);
	rc = ims_transport_put_manifest(t, man.data, man.len, IMS_MT_OCI_MANIFEST, man.digest, &e);
	is_int(rc, 0, "put_manifest waits for the uploads, then PUTs");
	CLEAR(e);
	ims_descriptor desc = { .media_type = (char *)IMS_MT_OCI_MANIFEST, .size = (int64_t)man.len };
	snprintf(desc.digest, sizeof(desc.digest), "%s", man.digest);
	rc = ims_transport_tag(t, NULL, &desc, &e);
	is_int(rc, 0, "tag the reference's own tag");
	CLEAR(e);
	rc = ims_transport_tag(t, "latest", &desc, &e);
	is_int(rc, 0, "tag another name");
	CLEAR(e);
	rc = ims_transport_commit(t, &e);
	is_int(rc, 0, "commit");
	CLEAR(e);
	is_str(ims_registry_blob_action_name(ims_transport_registry_blob_action(t, layer.digest)), "uploaded",
	       "the layer was uploaded");
	bool have = false;
	doc fresh;
	doc_set(&fresh, "hello blob\n"); /* uploaded to team/blobs by test_blobs, not here */
	rc = ims_transport_has_blob(t, fresh.digest, &have, &e);
	ok(rc == 0 && !have, "has_blob: not in this repository");
	CLEAR(e);

	/* mount from another repository of the same registry */
	char *s2 = xasprintf("%s/team/blobs:x", p->host);
	ims_ref *ref2 = NULL;
	ims_ref_parse(&ref2, s2, NULL);
	free(s2);
	ims_transport *src = NULL;
	rc = ims_transport_open(&src, ref2, IMS_TRANSPORT_READ, &o, &e);
	CLEAR(e);
	ims_descriptor bd = { .size = (int64_t)fresh.len };
	snprintf(bd.digest, sizeof(bd.digest), "%s", fresh.digest);
	bool mounted = false;
	rc = t->ops->mount_blob(t, src, &bd, &mounted, &e);
	ok(rc == 0 && mounted, "mount_blob across repositories");
	CLEAR(e);
	is_str(ims_registry_blob_action_name(ims_transport_registry_blob_action(t, fresh.digest)), "mounted",
	       "recorded as mounted");
	mounted = false;
	rc = ims_transport_mount_blob(t, src, &bd, &mounted, &e);
	ok(rc == 0 && mounted, "ims_transport_mount_blob calls the op");
	CLEAR(e);
	mounted = true;
	rc = ims_transport_mount_blob(src, t, &bd, &mounted, &e);
	ok(rc == IMS_EINVALID && !mounted, "ims_transport_mount_blob into a reader is refused");
	ims_error_clear(&e);
	rc = ims_transport_has_blob(t, config.digest, &have, &e);
	ok(rc == 0 && have, "has_blob of a blob of this run");
	CLEAR(e);
	ok(ims_transport_registry_blob_action(src, fresh.digest) == IMS_REGISTRY_BLOB_NONE,
	   "nothing recorded on the source");
	ims_transport_close(src);
	ims_ref_free(ref2);
	doc_free(&fresh);
	ims_transport_close(t);
	t = NULL;

	char *cmd = xasprintf("skopeo inspect --tls-verify=false docker://%s/team/app:1 >/dev/null 2>&1", p->host);
	is_int(system(cmd), 0, "skopeo inspects what the transport pushed");
	free(cmd);
	cmd = xasprintf("skopeo inspect --tls-verify=false docker://%s/team/app:latest >/dev/null 2>&1", p->host);
	is_int(system(cmd), 0, "and the second tag");
	free(cmd);

	/* read it back */
	rc = ims_transport_open(&t, ref, IMS_TRANSPORT_READ, &o, &e);
	CLEAR(e);
	char *data = NULL, *mt = NULL;
	size_t len = 0;
	rc = ims_transport_get_manifest(t, NULL, &data, &len, &mt, &e);
	ok(rc == 0 && len == man.len && !memcmp(data, man.data, len), "get_manifest(NULL) by the tag");
	CLEAR(e);
	free(data);
	free(mt);
	char *blob = NULL;
	rc = ims_transport_read_blob(t, layer.digest, 1 << 20, &blob, &len, &e);
	ok(rc == 0 && len == layer.len && !memcmp(blob, layer.data, len), "open_blob reads the layer back");
	CLEAR(e);
	free(blob);
	ims_reader rd = { 0 };
	rc = ims_transport_open_blob(t, "sha256:0000000000000000000000000000000000000000000000000000000000000000", &rd,
				     &e);
	is_int(rc, IMS_ENOTFOUND, "open_blob of a missing blob");
	ims_error_clear(&e);

	/* list_tags: the repository's tags, whatever the reference's own */
	char **tl = NULL;
	size_t tn = 0;
	rc = ims_transport_list_tags(t, &tl, &tn, &e);
	is_int(rc, 0, "list_tags of team/app");
	CLEAR(e);
	ok(tn == 2 && tl && !tl[2] &&
		   ((!strcmp(tl[0], "1") && !strcmp(tl[1], "latest")) ||
		    (!strcmp(tl[0], "latest") && !strcmp(tl[1], "1"))),
	   "1 and latest, NULL-terminated");
	ims_strv_free(tl);
	ims_transport_close(t);
	t = NULL;
	static const char *const repos[] = { "team/tags", "team/none" };
	for (int i = 0; i < 2; i++) {
		char *rs = xasprintf("%s/%s", p->host, repos[i]);
		ims_ref *lr = NULL;
		ims_ref_parse(&lr, rs, NULL);
		free(rs);
		tl = NULL;
		tn = 0;
		rc = ims_transport_open(&t, lr, IMS_TRANSPORT_READ, &o, &e);
		if (rc == 0)
			rc = ims_transport_list_tags(t, &tl, &tn, &e);
		if (i == 0) {
			ok(rc == 0 && tn == 3, "list_tags of team/tags: a, b and c (the reference names no tag)");
			CLEAR(e);
		} else {
			ok(rc == IMS_ENOTFOUND && !tl && tn == 0, "list_tags of a missing repository: IMS_ENOTFOUND");
			ims_error_clear(&e);
		}
		ims_strv_free(tl);
		ims_transport_close(t);
		t = NULL;
		ims_ref_free(lr);
	}

	doc_free(&layer);
	doc_free(&config);
	doc_free(&man);
out:
	ims_ref_free(ref);
	ims_registry_pool_free(pool);
}

/* ---- htpasswd ---- */

static const char *htpasswd_password;

static int test_creds(void *ud, const char *registry, const char *repository, ims_credentials *out, ims_error **err)
{
	memset(out, 0, sizeof(*out));
	if (!htpasswd_password)
		return 0;
	out->username = xstrdup("ci");
	out->password = xstrdup(htpasswd_password);
	out->source = xstrdup("the test's credentials");
	return 0;
}

static void test_htpasswd(void)
{
	char *dir = xasprintf("%s/htpasswd", root);
	ims_mkdir_p(dir, 0700, NULL);
	char *cmd = xasprintf("htpasswd -Bbn ci s3cret > %s/htpasswd 2>/dev/null", dir);
	int st = system(cmd);
	free(cmd);
	char *yaml = xasprintf("auth:\n  htpasswd:\n    realm: test\n    path: %s/htpasswd\n", dir);
	registry_proc p;
	bool up = st == 0 && registry_start(&p, "reg-htpasswd", yaml);
	free(yaml);
	free(dir);
	ok(up, "htpasswd registry started");
	if (!up)
		return;
	ims_auth *auth = NULL;
	ims_auth_new(&auth, http, test_creds, NULL);
	ims_error *e = NULL;

	htpasswd_password = "s3cret";
	ims_registry *r = new_client(p.host, auth);
	doc layer, config, m;
	make_image(r, "team/auth", "auth layer", &layer, &config, &m);
	int rc = ims_registry_manifest_put(r, "team/auth", "v1", m.data, m.len, IMS_MT_OCI_MANIFEST, &e);
	is_int(rc, 0, "push with Basic credentials");
	CLEAR(e);
	char *data = NULL;
	size_t len = 0;
	char dg[IMS_DIGEST_BUFSZ];
	rc = ims_registry_manifest_get(r, "team/auth", "v1", &data, &len, NULL, dg, &e);
	is_int(rc, 0, "pull with Basic credentials");
	CLEAR(e);
	free(data);
	ims_registry_free(r);
	ims_auth_free(auth);

	htpasswd_password = "wrong";
	ims_auth_new(&auth, http, test_creds, NULL);
	r = new_client(p.host, auth);
	rc = ims_registry_manifest_get(r, "team/auth", "v1", &data, &len, NULL, dg, &e);
	is_int(rc, IMS_EAUTH, "a wrong password is IMS_EAUTH");
	ok(e && !strstr(e->message, "wrong"), "the error does not show the password");
	ok(e && e->http_status == 401 && strstr(e->message, "401 UNAUTHORIZED"),
	   "the error names 401 and the registry's code");
	diag_err(e);
	ims_error_clear(&e);
	ims_registry_free(r);
	ims_auth_free(auth);

	htpasswd_password = NULL;
	ims_auth_new(&auth, http, test_creds, NULL);
	r = new_client(p.host, auth);
	rc = ims_registry_manifest_get(r, "team/auth", "v1", &data, &len, NULL, dg, &e);
	is_int(rc, IMS_EAUTH, "anonymous is IMS_EAUTH");
	diag_err(e);
	ims_error_clear(&e);
	ims_registry_free(r);
	ims_auth_free(auth);

	doc_free(&layer);
	doc_free(&config);
	doc_free(&m);
	registry_stop(&p);
}

/* ---- hostile answers ---- */

static const char evil_manifest[] = "{\"schemaVersion\":2,\"mediaType\":\"" IMS_MT_OCI_MANIFEST
				    "\","
				    "\"config\":{\"mediaType\":\"" IMS_MT_OCI_CONFIG
				    "\",\"digest\":\"sha256:"
				    "0000000000000000000000000000000000000000000000000000000000000000\","
				    "\"size\":2},\"layers\":[]}";

static int n_deletes, n_posts, n_puts;

static void count(int *c)
{
	__atomic_add_fetch(c, 1, __ATOMIC_SEQ_CST);
}

static int counted(int *c)
{
	return __atomic_load_n(c, __ATOMIC_SEQ_CST);
}

static char *hostile(const char *method, const char *path, int port)
{
	if (!strcmp(path, "/v2/"))
		return reply(200, "", "{}");
	if (!strcmp(method, "DELETE"))
		count(&n_deletes);
	/* a body that is not what the digest asked for */
	if (strstr(path, "/manifests/sha256:"))
		return reply(200, "Content-Type: " IMS_MT_OCI_MANIFEST "\r\n", evil_manifest);
	/* more than 4 MiB */
	if (strstr(path, "/manifests/huge")) {
		size_t n = (4u << 20) + 16;
		char *body = xmalloc(n + 1);
		memset(body, ' ', n);
		memcpy(body + n - 2, "{}", 2);
		body[n] = '\0';
		char *r = reply(200, "Content-Type: " IMS_MT_OCI_MANIFEST "\r\n", body);
		free(body);
		return r;
	}
	/* pushes refused */
	if (strstr(path, "/denied/app/blobs/uploads/"))
		return reply(403, "Content-Type: application/json\r\n",
			     "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"requested access to the resource is "
			     "denied\"}]}");
	/* an upload whose first session is lost (stale _state), then works */
	if (strstr(path, "/flaky/blobs/uploads/") && !strcmp(method, "POST")) {
		count(&n_posts);
		return xasprintf(
			"HTTP/1.1 202 X\r\nConnection: close\r\nContent-Length: 0\r\nLocation: "
			"/v2/flaky/blobs/uploads/s%d?_state=x\r\n\r\n",
			counted(&n_posts));
	}
	if (strstr(path, "/flaky/blobs/uploads/s") && !strcmp(method, "PUT")) {
		count(&n_puts);
		if (counted(&n_puts) == 1)
			return reply(
				404, "Content-Type: application/json\r\n",
				"{\"errors\":[{\"code\":\"BLOB_UPLOAD_UNKNOWN\",\"message\":\"blob upload unknown\"}]}");
		return reply(201, "", "");
	}
	/* a Docker-Content-Digest that disagrees with the body */
	if (strstr(path, "/manifests/dcd"))
		return reply(200,
			     "Content-Type: " IMS_MT_OCI_MANIFEST
			     "\r\nDocker-Content-Digest: sha256:"
			     "1111111111111111111111111111111111111111111111111111111111111111\r\n",
			     evil_manifest);
	/* mediaType and Content-Type disagree (CVE-2021-41190) */
	if (strstr(path, "/manifests/confused"))
		return reply(200, "Content-Type: " IMS_MT_OCI_INDEX "\r\n", evil_manifest);
	/* an error body with terminal escapes */
	if (strstr(path, "/manifests/escape"))
		return reply(404, "Content-Type: application/json\r\n",
			     "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"gone\\u001b[31m red\"}]}");
	/* two pages */
	if (strstr(path, "/paged/tags/list") && strstr(path, "last=b"))
		return reply(200, "", "{\"name\":\"paged\",\"tags\":[\"c\"]}");
	if (strstr(path, "/paged/tags/list"))
		return reply(200, "Link: </v2/paged/tags/list?last=b&n=2>; rel=\"next\"\r\n",
			     "{\"name\":\"paged\",\"tags\":[\"a\",\"b\"]}");
	/* tags whose next page is on another host */
	if (strstr(path, "/elsewhere/tags/list"))
		return reply(200, "Link: <http://203.0.113.9/v2/x/tags/list?last=a>; rel=\"next\"\r\n",
			     "{\"name\":\"x\",\"tags\":[\"a\"]}");
	/* tags that point at themselves, with a bad tag in the list */
	if (strstr(path, "/self/tags/list"))
		return reply(200, "Link: </v2/self/tags/list?n=1000>; rel=\"next\"\r\n",
			     "{\"name\":\"x\",\"tags\":[\"ok\",\"bad\\u001btag\"]}");
	/* uploads that go to the metadata service, or nowhere */
	if (strstr(path, "/meta/blobs/uploads/"))
		return reply(202, "Location: http://169.254.169.254/latest/meta-data/\r\n", "");
	if (strstr(path, "/noloc/blobs/uploads/"))
		return reply(202, "", "");
	/* a mount answered 202: the session must be cancelled */
	if (strstr(path, "/mnt/blobs/uploads/") && !strcmp(method, "POST"))
		return xasprintf(
			"HTTP/1.1 202 X\r\nConnection: close\r\nContent-Length: 0\r\nLocation: "
			"/v2/mnt/blobs/uploads/sess?_state=x\r\n\r\n");
	if (strstr(path, "/mnt/blobs/uploads/sess") && !strcmp(method, "DELETE"))
		return reply(204, "", "");
	return reply(404, "", "404 page not found\n");
}

static void test_hostile(void)
{
	fake_server f;
	ok(fake_start(&f, hostile), "canned server started");
	char host[64];
	snprintf(host, sizeof(host), "127.0.0.1:%d", f.port);
	ims_registry *r = new_client(host, NULL);
	ims_error *e = NULL;
	char *data = NULL, *mt = NULL;
	size_t len = 0;
	char dg[IMS_DIGEST_BUFSZ];

	int rc = ims_registry_manifest_get(r, "x", "dcd", &data, &len, &mt, dg, &e);
	is_int(rc, IMS_EDIGEST, "a Docker-Content-Digest that disagrees is refused");
	ims_error_clear(&e);
	rc = ims_registry_manifest_get(r, "x", "confused", &data, &len, &mt, dg, &e);
	ok(rc < 0, "mediaType against Content-Type is refused");
	ims_error_clear(&e);
	rc = ims_registry_manifest_get(r, "x",
				       "sha256:2222222222222222222222222222222222222222222222222222222222222222", &data,
				       &len, &mt, dg, &e);
	is_int(rc, IMS_EDIGEST, "a body that does not hash to the digest asked for is refused");
	ims_error_clear(&e);
	rc = ims_registry_manifest_get(r, "x", "huge", &data, &len, &mt, dg, &e);
	ok(rc < 0 && e && strstr(e->message, "limit"), "a manifest over 4 MiB is refused");
	diag_err(e);
	ims_error_clear(&e);
	rc = ims_registry_manifest_get(r, "x", "escape", &data, &len, &mt, dg, &e);
	is_int(rc, IMS_ENOTFOUND, "404 with a JSON error body");
	ok(e && !strchr(e->message, 0x1b) && strstr(e->message, "MANIFEST_UNKNOWN: gone"),
	   "control characters are stripped from the registry's message");
	diag_err(e);
	ims_error_clear(&e);

	char **tags = NULL;
	size_t n = 0;
	rc = ims_registry_tags_paged(r, "paged", 2, &tags, &n, &e);
	ok(rc == 0 && n == 3 && !strcmp(tags[0], "a") && !strcmp(tags[1], "b") && !strcmp(tags[2], "c") && !tags[3],
	   "tags over two pages, following Link: rel=\"next\"");
	CLEAR(e);
	ims_strv_free(tags);
	tags = NULL;
	rc = ims_registry_tags(r, "elsewhere", &tags, &n, &e);
	ok(rc < 0 && e && strstr(e->message, "next page"), "a next page on another host is refused");
	ims_error_clear(&e);
	rc = ims_registry_tags(r, "self", &tags, &n, &e);
	ok(rc == 0 && n == 1 && !strcmp(tags[0], "ok"), "a self-link ends the walk; bad tag names are dropped");
	CLEAR(e);
	ims_strv_free(tags);

	doc b;
	doc_set(&b, "blob");
	int fd = tmp_with(b.data, b.len);
	rc = ims_registry_blob_upload_fd(r, "meta", b.digest, fd, (int64_t)b.len, NULL, &e);
	ok(rc < 0 && e && strstr(e->message, "local address"), "an upload Location on a link-local address is refused");
	diag_err(e);
	ims_error_clear(&e);
	rc = ims_registry_blob_upload_fd(r, "noloc", b.digest, fd, (int64_t)b.len, NULL, &e);
	ok(rc < 0 && e && strstr(e->message, "without a Location"), "a 202 without a Location is refused");
	ims_error_clear(&e);
	bool mounted = true;
	int deletes = counted(&n_deletes);
	rc = ims_registry_blob_mount(r, "mnt", b.digest, "other", &mounted, &e);
	ok(rc == 0 && !mounted, "a mount answered 202 is not mounted");
	is_int(counted(&n_deletes), deletes + 1, "and its upload session is cancelled");
	ims_error_clear(&e);
	deletes = counted(&n_deletes);
	rc = ims_registry_blob_upload_fd(r, "flaky", b.digest, fd, (int64_t)b.len, NULL, &e);
	is_int(rc, 0, "an upload whose session was lost starts over");
	CLEAR(e);
	ok(counted(&n_posts) == 2 && counted(&n_puts) == 2 && counted(&n_deletes) == deletes + 1,
	   "two sessions, two PUTs, the lost one deleted");
	close(fd);
	doc_free(&b);

	ims_registry_free(r);

	/* the transport: an upload that fails in a worker fails put_manifest */
	ims_registry_pool *pool = NULL;
	ims_registry_pool_new(&pool, http, NULL, NULL, NULL);
	char *s = xasprintf("%s/denied/app:1", host);
	ims_ref *ref = NULL;
	ims_ref_parse(&ref, s, NULL);
	free(s);
	ims_transport_opts o = { .tmp_dir = root, .registries = pool };
	ims_transport *t = NULL;
	rc = ims_transport_open(&t, ref, IMS_TRANSPORT_WRITE, &o, &e);
	CLEAR(e);
	if (t) {
		ims_blob_writer *w = NULL;
		doc l;
		doc_set(&l, "layer that will not go");
		if (ims_transport_new_blob(t, &w, &e) == 0) {
			ims_sink_write(&w->sink, l.data, l.len, &e);
			rc = w->commit(w, l.digest, (int64_t)l.len, &e);
		}
		is_int(rc, 0, "commit queues the upload");
		CLEAR(e);
		rc = ims_transport_put_manifest(t, evil_manifest, strlen(evil_manifest), IMS_MT_OCI_MANIFEST,
						"sha256:0000000000000000000000000000000000000000000000000000000000000000",
						&e);
		ok(rc == IMS_EAUTH && e && strstr(e->message, l.digest) && strstr(e->message, "403 DENIED"),
		   "put_manifest fails with the failed upload's error");
		diag_err(e);
		ims_error_clear(&e);
		rc = ims_transport_commit(t, &e);
		is_int(rc, IMS_EAUTH, "and so does commit");
		ims_error_clear(&e);
		doc_free(&l);
		ims_transport_close(t);
	}
	ims_ref_free(ref);
	ims_registry_pool_free(pool);
	fake_stop(&f);

	/* nothing listening: a network error, not a crash */
	int port = free_port();
	snprintf(host, sizeof(host), "127.0.0.1:%d", port);
	r = new_client(host, NULL);
	rc = ims_registry_ping(r, &e);
	is_int(rc, IMS_ENET, "no registry there: IMS_ENET");
	ok(e && strstr(e->message, host), "the error names the registry");
	ims_error_clear(&e);
	ims_registry_free(r);
}

/* Link headers (tag pagination): rel matched by name and by value, not
 * by substring; the target has no `<` in it (the fuzzer found both). */
static void test_link_next(void)
{
	static const struct {
		const char *header, *want;
	} cases[] = {
		{ "</v2/a/tags/list?n=2&last=b>; rel=\"next\"", "/v2/a/tags/list?n=2&last=b" },
		{ "<a>; rel=\"prev\", <b>; rel=next", "b" },
		{ "<a>; rel=\"last next\"", "a" },
		{ "<a> ; type=\"x;rel=next\" ; REL=Next", "a" },
		{ "<a>; rerel=next", NULL },
		{ "<a>; rel=\"nextpage\"", NULL },
		{ "<<a ;>rerela ;>rerel=next", NULL },
		{ "<<a>; rel=next", "a" },
		{ "<a; rel=next", NULL },
		{ "", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *got = ims_registry__link_next(cases[i].header);
		is_str(got, cases[i].want, "Link `%s`", cases[i].header);
		free(got);
	}
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_link_next();
	if (access("/usr/bin/docker-registry", X_OK) != 0) {
		printf("1..0 # SKIP docker-registry is not installed\n");
		return 77;
	}
	ims_mkdtemp(NULL, "ims-test-registry-", &root, NULL);
	ims_http_global_init();
	ims_http_options ho = { .max_attempts = 2,
				.backoff_initial = 0.05,
				.backoff_max = 0.2,
				.connect_timeout = 5,
				.trace = count_patches };
	ims_error *e = NULL;
	if (ims_http_new(&http, &ho, &e) < 0) {
		diag_err(e);
		return 1;
	}

	registry_proc p;
	bool up = registry_start(&p, "reg", NULL);
	ok(up, "docker-registry started on a free port");
	if (up) {
		test_ping(&p);
		test_blobs(&p);
		test_manifests(&p);
		test_transport(&p);
		registry_stop(&p);
	}
	test_htpasswd();
	test_hostile();

	ims_http_free(http);
	ims_http_global_cleanup();
	ims_rm_rf(root, NULL);
	free(root);
	return tap_done();
}
