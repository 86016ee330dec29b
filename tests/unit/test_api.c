/* The public face: the Image API refuses what the spec refuses, with the
 * spec's own message minus the FILE:LINE:COL prefix; option structs with an
 * unknown version are refused; a document round-trips through the in-memory
 * builder unchanged (literal `$`, binary content). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imagespec/imagespec.h"
#include "spec/doc.h"
#include "spec/spec.h"
#include "util/xalloc.h"
#include "tap.h"

static ims_context *ctx;

/* The spec's message for doc, without its "image.yaml:L:C: " prefix. */
static char *spec_message(const char *doc)
{
	ims_spec *s = NULL;
	ims_error *e = NULL;
	if (ims_spec_load_data(&s, "image.yaml", doc, strlen(doc), NULL, NULL, &e) == 0) {
		ims_spec_free(s);
		return xstrdup("(accepted)");
	}
	const char *m = e->message;
	/* skip "image.yaml:" LINE ":" COL ": " */
	if (!strncmp(m, "image.yaml:", 11)) {
		const char *p = m + 11;
		p += strspn(p, "0123456789");
		if (*p == ':')
			p++;
		p += strspn(p, "0123456789");
		if (!strncmp(p, ": ", 2))
			m = p + 2;
	}
	char *r = xstrdup(m);
	ims_error_free(e);
	return r;
}

/* REFUSED(CALL, DOC, WHAT): CALL (which sets e) gives the spec's message for DOC. */
#define REFUSED(call, doc, what)                 \
	do {                                     \
		int _rc = (call);                \
		same_refusal(_rc, e, doc, what); \
		e = NULL;                        \
	} while (0)

static void same_refusal(int rc, ims_error *e, const char *doc, const char *what)
{
	char *want = spec_message(doc);
	ok(rc == IMS_EINVALID && e, "%s: refused with IMS_EINVALID", what);
	is_str(e ? e->message : NULL, want, "%s: the spec's message, without a position", what);
	ok(!e || !strstr(e->message, "<api>"), "%s: no <api> prefix", what);
	free(want);
	ims_error_free(e);
}

static void test_refusals(void)
{
	ims_image *img = NULL;
	ims_error *e = NULL;
	ok(ims_image_new(&img, ctx, "scratch", &e) == 0, "open scratch");

	REFUSED(ims_image_set_env(img, "1X", "v", &e), "base: scratch\ntarget: oci:x\nenv: {\"1X\": v}\n",
		"env name `1X`");
	const char *empty[] = { "" };
	REFUSED(ims_image_set_entrypoint(img, empty, 1, &e), "base: scratch\ntarget: oci:x\nentrypoint: [\"\"]\n",
		"entrypoint [\"\"]");
	REFUSED(ims_image_set_working_dir(img, "relative/dir", &e),
		"base: scratch\ntarget: oci:x\nworkingDir: relative/dir\n", "a relative workingDir");
	REFUSED(ims_image_add_port(img, "http", &e), "base: scratch\ntarget: oci:x\nexposedPorts: [http]\n",
		"port `http`");
	ims_image_file f = IMS_IMAGE_FILE_INIT;
	f.src = "../outside";
	f.dest = "/x/";
	REFUSED(ims_image_add_files(img, &f, 1, &e),
		"base: scratch\ntarget: oci:x\nlayers:\n  - files:\n      - {src: ../outside, dest: /x/}\n",
		"a src that leaves the directory");
	REFUSED(ims_image_remove_layer(img, "sha256:nothex", &e),
		"base: scratch\ntarget: oci:x\nremoveLayers: [\"sha256:nothex\"]\n", "a bad digest");
	const char *plats[] = { "linux" };
	REFUSED(ims_image_set_platforms(img, plats, 1, &e), "base: scratch\ntarget: oci:x\nplatforms: [linux]\n",
		"platform `linux`");
	ok(ims_image_set_env(img, "GOOD", "v", &e) == 0, "a good env name is taken after refusals");
	ims_image_free(img);

	ok(ims_image_new(&img, ctx, "no such base!", &e) == IMS_EINVALID && e && !strstr(e->message, "<api>"),
	   "a bad base reference is refused at open");
	ims_error_free(e);
}

static void test_versions(void)
{
	ims_error *e = NULL;
	ims_context *c = NULL;
	ims_context_options co = IMS_CONTEXT_OPTIONS_INIT;
	co.version = 99;
	ok(ims_context_new(&c, &co, &e) == IMS_EINVALID && e && strstr(e->message, "version 99"),
	   "context options: an unknown version is refused");
	ims_error_clear(&e);

	ims_image *img = NULL;
	ims_image_options io = IMS_IMAGE_OPTIONS_INIT;
	io.version = 2;
	ok(ims_image_open(&img, ctx, "scratch", &io, &e) == IMS_EINVALID && e && strstr(e->message, "version 2"),
	   "image options: an unknown version is refused");
	ims_error_clear(&e);

	ok(ims_image_new(&img, ctx, "scratch", &e) == 0, "open scratch");
	ims_save_options so = IMS_SAVE_OPTIONS_INIT;
	so.version = 0;
	ok(ims_image_save_with(img, "oci:never", &so, NULL, &e) == IMS_EINVALID && e && strstr(e->message, "version 0"),
	   "save options: an unknown version is refused");
	ok(access("never", F_OK) != 0, "... and nothing was written");
	ims_error_clear(&e);
	ims_image_free(img);

	ims_registry_client *rc = NULL;
	ims_registry_options ro = IMS_REGISTRY_OPTIONS_INIT;
	ro.version = 7;
	ok(ims_registry_open(&rc, ctx, "127.0.0.1:1", "a/b", &ro, &e) == IMS_EINVALID && e &&
		   strstr(e->message, "version 7"),
	   "registry options: an unknown version is refused");
	ims_error_clear(&e);

	ims_spec *s = NULL;
	const char *doc = "base: scratch\ntarget: oci:x\n";
	ok(ims_spec_load_data(&s, "image.yaml", doc, strlen(doc), NULL, NULL, &e) == 0, "load a spec");
	ims_plan *p = NULL;
	ims_plan_options po = IMS_PLAN_OPTIONS_INIT;
	po.version = 3;
	ok(ims_plan_new(&p, s, &po, &e) == IMS_EINVALID && e && strstr(e->message, "version 3"),
	   "plan options: an unknown version is refused");
	ims_error_clear(&e);
	po.version = IMS_PLAN_OPTIONS_VERSION;
	ok(ims_plan_new(&p, s, &po, &e) == 0, "plan with the right version");
	ims_build_result *r = NULL;
	ims_build_options bo = IMS_BUILD_OPTIONS_INIT;
	bo.version = 5;
	ok(ims_build(&r, ctx, p, &bo, &e) == IMS_EINVALID && e && strstr(e->message, "version 5"),
	   "build options: an unknown version is refused");
	ims_error_clear(&e);
	ims_plan_free(p);
	ims_spec_free(s);
}

/* A literal `$` and bytes that are not text survive the in-memory
 * document: the loader reads back what the API was given. */
static void test_doc_roundtrip(void)
{
	ims_spec_node *doc = ims_spec_node_map();
	ims_spec_node_put(doc, "base", ims_spec_node_str("scratch"));
	ims_spec_node_put(doc, "target", ims_spec_node_str("oci:x"));
	ims_spec_node *env = ims_spec_node_map_at(doc, "env");
	ims_spec_node_put(env, "LITERAL", ims_spec_node_env("cost: $5 ${HOME} $${x}"));
	ims_spec_node_put(env, "PATH", ims_spec_node_env("/app:${base:PATH}"));
	ims_spec_node *labels = ims_spec_node_map_at(doc, "labels");
	ims_spec_node_put(labels, "quote", ims_spec_node_str("a \"quoted\" line\twith\\escapes"));
	ims_spec_node *files = ims_spec_node_list_at(doc, "files");
	ims_spec_node *bin = ims_spec_node_map();
	const unsigned char bytes[] = { 0, 1, 0xff, '$', 0xc3, 0x28, 'x' };
	ims_spec_node_put(bin, "dest", ims_spec_node_str("/bin.dat"));
	ims_spec_node_put_content(bin, bytes, sizeof(bytes));
	ims_spec_node_append(files, bin);
	ims_spec_node *txt = ims_spec_node_map();
	ims_spec_node_put(txt, "dest", ims_spec_node_str("/motd"));
	ims_spec_node_put_content(txt, "héllo\n", strlen("héllo\n"));
	ims_spec_node_append(files, txt);

	char *text = NULL;
	size_t len = 0;
	ims_error *e = NULL;
	ok(ims_spec_node_emit(doc, &text, &len, &e) == 0 && text, "the document is written as YAML");
	ims_spec_model *m = NULL;
	ok(ims_spec_model_parse(&m, NULL, text, len, "/x", NULL, &e) == 0 && m, "and read back by the loader");
	if (m) {
		is_str(m->env.v[0].value.s, "cost: $5 ${HOME} $${x}", "`$` stays literal");
		is_str(m->env.v[1].value.s, "/app:${base:PATH}", "`${base:NAME}` stays for the executor");
		is_str(m->labels.v[0].value.s, "a \"quoted\" line\twith\\escapes", "quotes and escapes survive");
		ok(m->nfiles == 2 && m->files[0].content_len == sizeof(bytes) &&
			   !memcmp(m->files[0].content, bytes, sizeof(bytes)),
		   "binary content survives (as contentBase64)");
		ok(m->nfiles == 2 && m->files[1].content_len == strlen("héllo\n") &&
			   !memcmp(m->files[1].content, "héllo\n", strlen("héllo\n")),
		   "text content survives");
		ok(m->path == NULL, "an in-memory document has no path");
	}
	ims_spec_model_free(m);
	free(text);

	ims_spec_node *bad = ims_spec_node_map();
	ims_spec_node_put(bad, "base", ims_spec_node_str("\xc3\x28"));
	ok(ims_spec_node_emit(bad, &text, &len, &e) == IMS_EINVALID && e && strstr(e->message, "UTF-8"),
	   "a string that is not UTF-8 is refused, not written");
	ims_error_clear(&e);
	ims_spec_node_free(bad);
	ims_spec_node_free(doc);
}

/* Saving offline with the setters the other tests do not reach, and the
 * result's accessors. */
static void test_save(void)
{
	ims_image *img = NULL;
	ims_error *e = NULL;
	ok(ims_image_new(&img, ctx, "scratch", &e) == 0, "open scratch");
	const char *cfg =
		"{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"A=1\"]},"
		"\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
	ok(ims_image_set_config(img, "{not json", &e) < 0 && e, "set_config refuses a document that is not JSON");
	ims_error_clear(&e);
	ok(ims_image_set_config(img, cfg, &e) == 0, "set_config takes a config");
	ok(ims_image_set_user(img, "1000:1000", &e) == 0, "set_user");
	ok(ims_image_set_created(img, 1700000000, &e) == 0, "set_created");
	ims_image_custom_file f = IMS_IMAGE_CUSTOM_FILE_INIT;
	f.dest = "/hello";
	f.data = "hello\n";
	f.size = 6;
	ok(ims_image_add_custom_files(img, &f, 1, &e) == 0, "a custom file");
	char *json = NULL;
	ok(ims_image_get_config(img, &json, &e) == 0 && json, "get_config");
	ok(json && strstr(json, "\"User\":\"1000:1000\"") && strstr(json, "\"A=1\"") &&
		   strstr(json, "\"created\":\"2023-11-14T22:13:20Z\""),
	   "get_config shows the set config with the user and the created time");
	free(json);
	ims_build_result *r = NULL;
	const char *tags[] = { "second" };
	ok(ims_image_save(img, "oci:saved:first", tags, 1, &r, &e) == 0 && r, "save to an oci layout, two names");
	if (r) {
		is_int(ims_build_result_nreferences(r), 2, "two references");
		is_str(ims_build_result_reference(r, 1), "oci:saved:second", "the second one");
		is_str(ims_build_result_media_type(r), "application/vnd.oci.image.manifest.v1+json", "an OCI manifest");
		ok(ims_build_result_size(r) > 0, "its size");
		ok(access("saved/index.json", F_OK) == 0, "the layout exists");
	}
	ims_build_result_free(r);
	ims_image_free(img);

	ims_spec *s = NULL;
	const char *doc = "base: busybox\ntarget: oci:out:1\n";
	ok(ims_spec_load_data(&s, "image.yaml", doc, strlen(doc), NULL, NULL, &e) == 0, "load a spec");
	is_str(s ? ims_spec_base(s) : NULL, "busybox", "ims_spec_base");
	is_str(s ? ims_spec_target(s) : NULL, "oci:out:1", "ims_spec_target");
	ims_spec_free(s);
}

/* copy --all-tags: refused before any request unless both sides are
 * registry repositories without a tag or digest (127.0.0.1:1 answers nobody). */
static void test_copy_all_tags_refusals(void)
{
	static const struct {
		const char *src, *dst, *want;
	} cases[] = {
		{ "oci:layout", "127.0.0.1:1/a", "the source `oci:layout` is not a registry repository" },
		{ "docker-archive:x.tar", "127.0.0.1:1/a", "the source `docker-archive:x.tar` is not a registry" },
		{ "oci-archive:x.tar", "127.0.0.1:1/a", "the source `oci-archive:x.tar` is not a registry" },
		{ "127.0.0.1:1/a", "oci:out", "the destination `oci:out` is not a registry repository" },
		{ "127.0.0.1:1/a:1", "127.0.0.1:1/b", "the source `127.0.0.1:1/a:1` names a tag or digest" },
		{ "127.0.0.1:1/a", "127.0.0.1:1/b@sha256:" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		  "the destination `127.0.0.1:1/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef` "
		  "names a tag or digest" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ims_error *e = NULL;
		char **tags = NULL, **digests = NULL;
		size_t n = 99;
		int rc = ims_copy_all_tags(ctx, cases[i].src, cases[i].dst, NULL, &tags, &digests, &n, &e);
		ok(rc == IMS_EINVALID && e && strstr(e->message, cases[i].want), "copy_all_tags %s -> %s: %s", cases[i].src,
		   cases[i].dst, e ? e->message : "(no error)");
		ok(e && e->hint, "... with a hint");
		ok(!tags && !digests && n == 99, "... and no output");
		ims_error_free(e);
	}
}

int main(void)
{
	ims_error *e = NULL;
	ims_init();
	if (ims_context_new(&ctx, NULL, &e) < 0)
		return 1;
	char dir[] = "/tmp/ims-test-api-XXXXXX";
	if (!mkdtemp(dir) || chdir(dir) < 0)
		return 1;
	test_refusals();
	test_versions();
	test_doc_roundtrip();
	test_save();
	test_copy_all_tags_refusals();
	ims_context_free(ctx);
	ims_shutdown();
	char rm[64];
	snprintf(rm, sizeof(rm), "rm -rf %s", dir);
	if (system(rm) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
