/* Unit tests for src/json: the tree, manifests, indexes, configs. */
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "json/oci.h"
#include "tap.h"

/* tap.h's is_str names its flag _c, as ok() does, so ok() reads its own
 * uninitialised _c; use distinct names here until tap.h is fixed. */
#undef is_str
#define is_str(a, b, ...)                                                                         \
	do {                                                                                      \
		const char *_sa = (a), *_sb = (b);                                                \
		int _same = (_sa && _sb) ? !strcmp(_sa, _sb) : _sa == _sb;                        \
		ok(_same, __VA_ARGS__);                                                           \
		if (!_same)                                                                       \
			printf("#   got:      '%s'\n#   expected: '%s'\n", _sa ? _sa : "(null)", \
			       _sb ? _sb : "(null)");                                             \
	} while (0)

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define D1 "sha256:" H64
#define D2 "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define D3 "sha256:1111111111111111111111111111111111111111111111111111111111111111"

/* Parses s; returns the error code (0) and frees everything. */
static int parse_rc(const char *s, const ims_json_limits *lim, char **msg)
{
	ims_json *j = NULL;
	ims_error *e = NULL;
	int rc = ims_json_parse(&j, s, strlen(s), lim, &e);
	if (msg)
		*msg = e ? strdup(e->message) : NULL;
	ims_error_free(e);
	ims_json_free(j);
	return rc;
}

static char *roundtrip(const char *s)
{
	ims_json *j = NULL;
	if (ims_json_parse(&j, s, strlen(s), NULL, NULL))
		return NULL;
	char *out = ims_json_encode(j, NULL);
	ims_json_free(j);
	return out;
}

static void test_tree(void)
{
	char *msg = NULL;
	char *s = roundtrip("{\"a\":1e400,\"b\":[12345678901234567890,-0.5e-3,0,true,false,null],\"c\":\"\\u00e9\\n\"}");
	is_str(s, "{\"a\":1e400,\"b\":[12345678901234567890,-0.5e-3,0,true,false,null],\"c\":\"\xc3\xa9\\n\"}",
	       "numbers keep their source text");
	free(s);
	s = roundtrip(" [ 1 , {} , [] ] \n");
	is_str(s, "[1,{},[]]", "whitespace dropped, empty containers kept");
	free(s);

	is_int(parse_rc("{\"a\":1,\"a\":2}", NULL, &msg), IMS_EGENERIC, "duplicate keys refused");
	ok(msg && strstr(msg, "duplicate key `a`"), "duplicate message: %s", msg);
	free(msg);
	is_int(parse_rc("{\"a\":{\"b\":1,\"c\":2,\"b\":3}}", NULL, NULL), IMS_EGENERIC, "nested duplicate keys refused");
	{
		/* Past the small-object path: sorted check. */
		char big[4096] = "{";
		for (int i = 0; i < 40; i++)
			sprintf(big + strlen(big), "\"k%d\":%d,", i, i);
		strcat(big, "\"k17\":0}");
		is_int(parse_rc(big, NULL, NULL), IMS_EGENERIC, "duplicate key in a large object refused");
		big[strlen(big) - 7] = '9';
		big[strlen(big) - 6] = '9';
		is_int(parse_rc(big, NULL, NULL), 0, "large object without duplicates accepted");
	}
	is_int(parse_rc("\"a\\u0000b\"", NULL, NULL), IMS_EGENERIC, "NUL in a string refused");
	is_int(parse_rc("{\"a\\u0000\":1}", NULL, NULL), IMS_EGENERIC, "NUL in a key refused");
	is_int(parse_rc("\"\\udc00\"", NULL, NULL), IMS_EGENERIC, "lone surrogate refused");
	is_int(parse_rc("\"\\ud83d\\ude00\"", NULL, NULL), 0, "surrogate pair accepted");
	is_int(parse_rc("\"\xff\"", NULL, NULL), IMS_EGENERIC, "invalid UTF-8 refused");
	is_int(parse_rc("[1] x", NULL, &msg), IMS_EGENERIC, "trailing garbage refused");
	ok(msg && !strncmp(msg, "invalid JSON: ", 14), "message prefix: %s", msg);
	free(msg);
	is_int(parse_rc("[1][2]", NULL, NULL), IMS_EGENERIC, "two values refused");
	is_int(parse_rc("", NULL, NULL), IMS_EGENERIC, "empty input refused");
	is_int(parse_rc("[1,]", NULL, NULL), IMS_EGENERIC, "trailing comma refused");
	is_int(parse_rc("/* c */ 1", NULL, NULL), IMS_EGENERIC, "comments refused");
	is_int(parse_rc("[01]", NULL, NULL), IMS_EGENERIC, "leading zero refused");

	char deep[200];
	memset(deep, '[', 64);
	memset(deep + 64, ']', 64);
	deep[128] = 0;
	is_int(parse_rc(deep, NULL, NULL), 0, "depth 64 accepted");
	memset(deep, '[', 65);
	memset(deep + 65, ']', 65);
	deep[130] = 0;
	is_int(parse_rc(deep, NULL, &msg), IMS_EGENERIC, "depth 65 refused");
	ok(msg && strstr(msg, "nesting"), "depth message: %s", msg);
	free(msg);
	{
		/* An unclosed bomb stops at the cap, not at the end of input. */
		size_t n = 1 << 20;
		char *bomb = malloc(n + 1);
		memset(bomb, '[', n);
		bomb[n] = 0;
		is_int(parse_rc(bomb, NULL, NULL), IMS_EGENERIC, "1 MiB of [ refused");
		free(bomb);
	}
	ims_json_limits lim = { .max_bytes = 10 };
	is_int(parse_rc("[1,2,3,4,5,6]", &lim, &msg), IMS_EGENERIC, "over-size refused");
	ok(msg && strstr(msg, "exceeds"), "size message: %s", msg);
	free(msg);
	ims_json_limits items = { .max_items = 3 };
	is_int(parse_rc("[1,2]", &items, NULL), 0, "3 values within max_items");
	is_int(parse_rc("[1,2,3]", &items, NULL), IMS_EGENERIC, "4 values over max_items");

	/* builders */
	ims_json *o = ims_json_new_object();
	ims_json_set(o, "b", ims_json_new_int(-42));
	ims_json_set(o, "a", ims_json_new_string("x\"y"));
	ims_json_set(o, "b", ims_json_new_bool(true));
	ims_json *arr = ims_json_new_array();
	ims_json_append(arr, ims_json_new_null());
	ims_json_set(o, "c", arr);
	s = ims_json_encode(o, NULL);
	is_str(s, "{\"b\":true,\"a\":\"x\\\"y\",\"c\":[null]}", "set replaces in place, appends new keys");
	free(s);
	is_str(ims_json_get_string(o, "a"), "x\"y", "get_string");
	ok(ims_json_get_string(o, "b") == NULL, "get_string on a bool is NULL");
	ok(ims_json_remove(o, "b"), "remove present key");
	ok(!ims_json_remove(o, "b"), "remove absent key");
	ims_json *c = ims_json_clone(o);
	ims_json_free(o);
	s = ims_json_encode_pretty(c, NULL);
	is_str(s, "{\n  \"a\": \"x\\\"y\",\n  \"c\": [\n    null\n  ]\n}", "pretty encoding");
	free(s);
	ims_json_free(c);

	int64_t n;
	ims_json *num = ims_json_new_int(INT64_MIN);
	ok(ims_json_int(num, &n) && n == INT64_MIN, "int64 min round trip");
	ims_json_free(num);
	ims_json *j = NULL;
	const char *nums = "[1.0,1e3,99999999999999999999,-0]";
	ims_json_parse(&j, nums, strlen(nums), NULL, NULL);
	ok(j && !ims_json_int(j->v[0], &n) && !ims_json_int(j->v[1], &n) && !ims_json_int(j->v[2], &n),
	   "fractions, exponents and overflow are not integers");
	ok(j && ims_json_int(j->v[3], &n) && n == 0, "-0 is 0");
	ims_json_free(j);
}

static const char manifest_small[] =
	"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
	"\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" D1 "\",\"size\":1234},"
	"\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" D2
	"\",\"size\":56789}],"
	"\"annotations\":{\"org.opencontainers.image.created\":\"2026-01-01T00:00:00Z\"}}";

static int manifest_rc(const char *s)
{
	ims_manifest *m = NULL;
	ims_error *e = NULL;
	int rc = ims_manifest_parse(&m, s, strlen(s), &e);
	if (rc && !e)
		rc = 999;
	ims_error_free(e);
	ims_manifest_free(m);
	return rc;
}

/* The small manifest with one layer digest or size replaced. */
static char *with_layer(const char *digest, const char *size)
{
	char *s = malloc(2048);
	snprintf(s, 2048,
		 "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" D1 "\",\"size\":1},"
		 "\"layers\":[{\"mediaType\":\"a/b\",\"digest\":\"%s\",\"size\":%s}]}",
		 digest, size);
	return s;
}

static void test_manifest(void)
{
	ims_manifest *m = NULL;
	ims_error *e = NULL;
	int rc = ims_manifest_parse(&m, manifest_small, strlen(manifest_small), &e);
	is_int(rc, 0, "small manifest parses");
	if (rc) {
		printf("# %s\n", e->message);
		ims_error_free(e);
		return;
	}
	is_str(m->media_type, IMS_MT_OCI_MANIFEST, "media type");
	is_int(m->nlayers, 1, "one layer");
	is_int(m->layers[0].size, 56789, "layer size");
	is_str(m->config.digest, D1, "config digest");
	char *s = ims_manifest_encode(m, NULL);
	is_str(s, manifest_small, "encode gives the exact canonical bytes");
	free(s);
	ims_manifest_free(m);

	/* Built by hand: the encoder's fixed key order. */
	ims_manifest mm = { 0 };
	ims_descriptor layer = { 0 };
	mm.media_type = IMS_MT_DOCKER_MANIFEST;
	mm.config.media_type = IMS_MT_DOCKER_CONFIG;
	strcpy(mm.config.digest, D1);
	mm.config.size = 7;
	layer.media_type = IMS_MT_DOCKER_LAYER_GZIP;
	strcpy(layer.digest, D2);
	layer.size = 0;
	mm.layers = &layer;
	mm.nlayers = 1;
	s = ims_manifest_encode(&mm, NULL);
	is_str(s,
	       "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
	       "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"digest\":\"" D1
	       "\",\"size\":7},"
	       "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"digest\":\"" D2
	       "\",\"size\":0}]}",
	       "hand-built docker manifest encodes exactly");
	free(s);

	char *t;
	t = with_layer(D2, "1");
	is_int(manifest_rc(t), 0, "template manifest is valid");
	free(t);
	t = with_layer("sha256:" "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "1");
	is_int(manifest_rc(t), IMS_EINVALID, "uppercase digest refused");
	free(t);
	t = with_layer("sha256:0123", "1");
	is_int(manifest_rc(t), IMS_EINVALID, "short digest refused");
	free(t);
	t = with_layer("sha256:../x", "1");
	is_int(manifest_rc(t), IMS_EINVALID, "path-like digest refused");
	free(t);
	t = with_layer("md5:0123456789abcdef0123456789abcdef", "1");
	is_int(manifest_rc(t), IMS_EINVALID, "md5 digest refused");
	free(t);
	t = with_layer(D2, "-5");
	is_int(manifest_rc(t), IMS_EINVALID, "negative size refused");
	free(t);
	t = with_layer(D2, "9007199254740993");
	is_int(manifest_rc(t), IMS_EINVALID, "size over 2^53 refused");
	free(t);
	t = with_layer(D2, "1.5");
	is_int(manifest_rc(t), IMS_EINVALID, "fractional size refused");
	free(t);
	t = with_layer(D2, "\"1\"");
	is_int(manifest_rc(t), IMS_EINVALID, "string size refused");
	free(t);

	is_int(manifest_rc("{\"schemaVersion\":2,\"layers\":[]}"), IMS_EINVALID, "missing config refused");
	is_int(manifest_rc("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" D1 "\",\"size\":1}}"),
	       IMS_EINVALID, "missing layers refused");
	is_int(manifest_rc("{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":1},\"layers\":[]}"),
	       IMS_EINVALID, "config without mediaType refused");
	is_int(manifest_rc("{\"schemaVersion\":1,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" D1
			   "\",\"size\":1},\"layers\":[]}"),
	       IMS_EUNSUPPORTED, "schemaVersion 1 refused");
	is_int(manifest_rc("{\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" D1 "\",\"size\":1},\"layers\":[]}"),
	       IMS_EINVALID, "missing schemaVersion refused");
	is_int(manifest_rc("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" D1
			   "\",\"size\":1},\"layers\":[],\"annotations\":{\"a\":1}}"),
	       IMS_EINVALID, "non-string annotation refused");
	is_int(manifest_rc("{\"schemaVersion\":2,\"mediaType\":\"" IMS_MT_OCI_INDEX
			   "\",\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" D1 "\",\"size\":1},\"layers\":[]}"),
	       IMS_EINVALID, "index mediaType in a manifest refused");
	is_int(manifest_rc("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" D1
			   "\",\"size\":1},\"layers\":[],\"manifests\":[]}"),
	       IMS_EINVALID, "manifest with manifests refused");
	is_int(manifest_rc("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b; x=1\",\"digest\":\"" D1
			   "\",\"size\":1},\"layers\":[]}"),
	       IMS_EINVALID, "media type with parameters refused");
	is_int(manifest_rc("[]"), IMS_EINVALID, "array document refused");
	is_int(manifest_rc("{\"schemaVersion\":2,\"schemaVersion\":2}"), IMS_EINVALID,
	       "duplicate keys in a manifest are IMS_EINVALID");
	is_int(manifest_rc("{\"schemaVersion\":2,\"unknown\":{\"x\":[1]},\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" D1
			   "\",\"size\":1,\"data\":\"eA==\"},\"layers\":[]}"),
	       0, "unknown fields ignored");
}

static void test_index(void)
{
	static const char ix_src[] =
		"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.list.v2+json\","
		"\"manifests\":[{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"" D1
		"\",\"size\":528,\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
		"{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"" D2
		"\",\"size\":528,\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}}]}";
	ims_index *ix = NULL;
	ims_error *e = NULL;
	int rc = ims_index_parse(&ix, ix_src, strlen(ix_src), &e);
	is_int(rc, 0, "docker list parses");
	if (rc) {
		ims_error_free(e);
		return;
	}
	is_int(ix->nmanifests, 2, "two entries");
	is_str(ix->manifests[1].platform->variant, "v8", "variant kept");
	char *s = ims_index_encode(ix, NULL);
	is_str(s, ix_src, "index encodes to the same bytes");
	free(s);
	ims_descriptor copy;
	ims_descriptor_copy(&copy, &ix->manifests[1]);
	is_str(copy.platform->architecture, "arm64", "descriptor copy");
	ims_descriptor_dispose(&copy);
	ims_index_free(ix);

	const char *bad = "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a/b\",\"digest\":\"sha256:abc\",\"size\":1}]}";
	ix = NULL;
	rc = ims_index_parse(&ix, bad, strlen(bad), &e);
	is_int(rc, IMS_EINVALID, "index entry with bad digest refused");
	ok(e && strstr(e->message, "manifests[0]"), "error names the entry: %s", e ? e->message : "");
	ims_error_clear(&e);
	bad = "{\"schemaVersion\":2,\"manifests\":[],\"layers\":[]}";
	is_int(ims_index_parse(&ix, bad, strlen(bad), &e), IMS_EINVALID, "index with layers refused");
	ims_error_clear(&e);
	bad = "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a/b\",\"digest\":\"" D1
	      "\",\"size\":1,\"platform\":{\"os\":\"linux\"}}]}";
	is_int(ims_index_parse(&ix, bad, strlen(bad), &e), IMS_EINVALID, "platform without architecture refused");
	ims_error_clear(&e);
}

static int detect(const char *doc, const char *ct, ims_doc_kind *k, char **mt)
{
	ims_error *e = NULL;
	int rc = ims_doc_detect(doc, strlen(doc), ct, k, mt, &e);
	ims_error_free(e);
	return rc;
}

static void test_detect(void)
{
	ims_doc_kind k = 99;
	char *mt = NULL;
	is_int(detect(manifest_small, IMS_MT_OCI_MANIFEST, &k, &mt), 0, "manifest with matching content type");
	ok(k == IMS_DOC_MANIFEST, "kind manifest");
	is_str(mt, IMS_MT_OCI_MANIFEST, "effective media type");
	free(mt);
	mt = NULL;
	is_int(detect(manifest_small, IMS_MT_OCI_INDEX, &k, &mt), IMS_EINVALID, "content type disagreeing refused");
	ok(mt == NULL, "no media type on error");
	is_int(detect(manifest_small, "application/json; charset=utf-8", &k, NULL), 0, "unknown content type ignored");
	is_int(detect(manifest_small, "Application/VND.oci.image.manifest.v1+json; charset=utf-8", &k, NULL), 0,
	       "content type parameters and case ignored");
	is_int(detect("{\"schemaVersion\":2,\"manifests\":[]}", IMS_MT_DOCKER_LIST, &k, &mt), 0,
	       "bare index by content type");
	ok(k == IMS_DOC_INDEX, "kind index");
	is_str(mt, IMS_MT_DOCKER_LIST, "media type from the content type");
	free(mt);
	is_int(detect("{\"schemaVersion\":2,\"manifests\":[]}", NULL, &k, &mt), 0, "index by shape");
	is_str(mt, IMS_MT_OCI_INDEX, "shape gives the OCI type");
	free(mt);
	is_int(detect("{\"schemaVersion\":2,\"manifests\":[],\"layers\":[]}", NULL, &k, NULL), IMS_EINVALID,
	       "manifests and layers refused");
	is_int(detect("{\"schemaVersion\":2,\"layers\":[]}", IMS_MT_OCI_INDEX, &k, NULL), IMS_EINVALID,
	       "index content type with a manifest shape refused");
	is_int(detect("{\"schemaVersion\":2}", NULL, &k, NULL), IMS_EINVALID, "shapeless document refused");
	is_int(detect("{\"schemaVersion\":1,\"mediaType\":\"application/vnd.docker.distribution.manifest.v1+prettyjws\"}",
		      NULL, &k, NULL),
	       IMS_EUNSUPPORTED, "schema 1 unsupported");
}

static bool matches(const char *want, const char *have)
{
	ims_platform *w = ims_platform_parse(want), *h = ims_platform_parse(have);
	bool r = ims_platform_matches(w, h);
	ims_platform_free(w);
	ims_platform_free(h);
	return r;
}

static void test_platform(void)
{
	ok(matches("linux/arm64", "linux/arm64/v8"), "arm64 matches arm64/v8");
	ok(matches("linux/arm64/v8", "linux/arm64"), "arm64/v8 matches arm64");
	ok(!matches("linux/amd64", "linux/arm64"), "amd64 does not match arm64");
	ok(!matches("linux/arm/v7", "linux/arm/v6"), "variant mismatch");
	ok(matches("linux/arm", "linux/arm/v6"), "no variant wanted takes any");
	ok(matches("linux/amd64/v1", "linux/amd64"), "amd64 v1 is amd64");
	ok(!matches("linux/amd64/v3", "linux/amd64"), "amd64 v3 is not plain amd64");
	ok(!matches("windows/amd64", "linux/amd64"), "os differs");
	ok(ims_platform_parse("linux") == NULL, "one component refused");
	ok(ims_platform_parse("linux/amd64/v8/x") == NULL, "four components refused");
	ok(ims_platform_parse("linux//v8") == NULL, "empty component refused");
	ok(ims_platform_parse("linux/a b") == NULL, "space refused");
	ims_platform *p = ims_platform_parse("linux/arm/v7");
	char *s = ims_platform_string(p);
	is_str(s, "linux/arm/v7", "platform string");
	free(s);
	ims_platform *d = ims_platform_dup(p);
	is_str(d->variant, "v7", "dup");
	ims_platform_free(d);
	ims_platform_free(p);

	p = ims_platform_host();
	is_str(p->os, "linux", "host os");
	ok(p->architecture && *p->architecture && !strchr(p->architecture, '_'), "host arch `%s` is a GOARCH name",
	   p->architecture);
#if defined(__x86_64__)
	is_str(p->architecture, "amd64", "x86_64 host is amd64");
#elif defined(__aarch64__)
	is_str(p->architecture, "arm64", "aarch64 host is arm64");
#endif
	ok(ims_platform_matches(p, p), "host matches itself");
	ims_platform_free(p);
}

static const char config_src[] =
	"{\"created\":\"2024-01-01T00:00:00Z\",\"architecture\":\"amd64\",\"os\":\"linux\","
	"\"config\":{\"Env\":[\"PATH=/usr/bin\",\"A=1\"],\"Cmd\":[\"sh\"],\"Labels\":null,\"Healthcheck\":{\"Test\":[\"NONE\"]},"
	"\"OnBuild\":null,\"Shell\":[\"/bin/sh\",\"-c\"]},"
	"\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\",\"" D2 "\"]},"
	"\"history\":[{\"created\":\"2024-01-01T00:00:00Z\",\"created_by\":\"ADD x\"},"
	"{\"created_by\":\"ENV A=1\",\"empty_layer\":true},{\"created_by\":\"RUN y\",\"comment\":\"c\"}],"
	"\"container\":\"abc\",\"docker_version\":\"20.10\",\"moby.extra\":{\"n\":1e400}}";

static ims_config *config_parse(const char *s)
{
	ims_config *c = NULL;
	ims_error *e = NULL;
	if (ims_config_parse(&c, s, strlen(s), &e)) {
		printf("# %s\n", e->message);
		ims_error_free(e);
		return NULL;
	}
	return c;
}

static int config_rc(const char *s)
{
	ims_config *c = NULL;
	ims_error *e = NULL;
	int rc = ims_config_parse(&c, s, strlen(s), &e);
	ims_error_free(e);
	ims_config_free(c);
	return rc;
}

static void test_config(void)
{
	ims_config *c = config_parse(config_src);
	ok(c != NULL, "config parses");
	if (!c)
		return;
	char *s1 = ims_config_encode(c, NULL);
	is_str(s1, config_src, "already-canonical config round trips unchanged, unknown fields kept");
	ims_config *c2 = config_parse(s1);
	char *s2 = ims_config_encode(c2, NULL);
	is_str(s2, s1, "second round trip is byte-identical");
	free(s1);
	free(s2);
	ims_config_free(c2);

	/* typed access */
	is_str(ims_config_env_get(c, "PATH"), "/usr/bin", "env get");
	ok(ims_config_env_get(c, "PAT") == NULL, "env get needs the whole name");
	ims_config_env_set(c, "A", "2");
	ims_config_env_set(c, "B", "x=y");
	char **env = ims_config_env(c);
	ok(env && env[0] && env[1] && env[2] && !env[3], "env vector has three entries");
	is_str(env[1], "A=2", "env set replaces in place");
	is_str(env[2], "B=x=y", "env set appends");
	ims_strv_free(env);
	const ims_json *cmd = ims_config_get(c, "Cmd");
	ok(cmd && cmd->type == IMS_JSON_ARRAY && cmd->n == 1, "config get Cmd");
	ok(ims_config_get(c, "Labels") == NULL, "null Labels reads as absent");
	ims_config_set(c, "WorkingDir", ims_json_new_string("/app"));
	ims_config_set(c, "Cmd", NULL);
	ok(ims_config_get(c, "Cmd") == NULL, "set NULL removes");

	is_int(ims_config_ndiff_ids(c), 2, "two diff_ids");
	ims_config_add_diff_id(c, D3);
	is_int(ims_config_ndiff_ids(c), 3, "diff_id added");
	is_str(ims_config_diff_id(c, 2), D3, "added diff_id last");
	ims_config_add_history(c, "2026-01-01T00:00:00Z", "RUN z", NULL, false);
	ims_config_add_history(c, "2026-01-01T00:00:00Z", "ENV B=x=y", "imagespec", true);
	ims_json *h = ims_json_get(ims_config_tree(c), "history");
	is_int(h->n, 5, "history entries added");
	char *hs = ims_json_encode(h->v[4], NULL);
	is_str(hs, "{\"created\":\"2026-01-01T00:00:00Z\",\"created_by\":\"ENV B=x=y\",\"comment\":\"imagespec\",\"empty_layer\":true}",
	       "history entry keys in order");
	free(hs);
	hs = ims_json_encode(h->v[3], NULL);
	is_str(hs, "{\"created\":\"2026-01-01T00:00:00Z\",\"created_by\":\"RUN z\"}", "comment and empty_layer omitted");
	free(hs);

	/* layer 1 is the third entry ("RUN y"): the second one is empty. */
	ims_config_remove_layer_history(c, 1);
	is_int(h->n, 4, "layer history removed");
	is_str(ims_json_get_string(h->v[2], "created_by"), "RUN z", "the right entry went");
	ims_config_remove_diff_id(c, 1);
	is_int(ims_config_ndiff_ids(c), 2, "diff_id removed");
	is_str(ims_config_diff_id(c, 1), D3, "later diff_ids shift down");
	ok(ims_config_diff_id(c, 2) == NULL, "out of range diff_id is NULL");
	/* now 2 diff_ids and 3 non-empty entries: the diff_id-first order */
	ims_config_remove_diff_id(c, 0);
	ims_config_remove_layer_history(c, 0);
	is_int(h->n, 3, "history follows a diff_id removed first");
	is_str(ims_json_get_string(h->v[0], "created_by"), "ENV A=1", "first layer entry went");
	ims_config_add_diff_id(c, D2);
	ims_config_add_diff_id(c, D1);
	ims_config_add_diff_id(c, D1);
	ims_config_remove_layer_history(c, 0);
	is_int(h->n, 3, "history left alone when counts disagree");

	ims_platform *p = ims_config_platform(c);
	ok(p && !strcmp(p->os, "linux") && !strcmp(p->architecture, "amd64") && !p->variant, "config platform");
	ims_platform_free(p);
	ims_config *cl = ims_config_clone(c);
	ims_config_set_created(cl, "2030-01-01T00:00:00Z");
	ok(strcmp(ims_json_get_string(ims_config_tree(cl), "created"),
		  ims_json_get_string(ims_config_tree(c), "created")),
	   "clone is independent");
	ims_config_free(cl);
	ims_config_free(c);

	/* scrambled key order comes out canonical */
	c = config_parse("{\"zz\":1,\"history\":[{\"empty_layer\":false,\"created_by\":\"x\",\"created\":\"t\"}],"
			 "\"rootfs\":{\"diff_ids\":[],\"type\":\"layers\"},"
			 "\"config\":{\"X\":1,\"ArgsEscaped\":true,\"Cmd\":[\"a\"],\"User\":\"u\",\"Env\":null},"
			 "\"os\":\"linux\",\"aa\":2,\"architecture\":\"arm64\",\"variant\":\"v8\",\"created\":\"t\"}");
	s1 = c ? ims_config_encode(c, NULL) : NULL;
	is_str(s1,
	       "{\"created\":\"t\",\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\","
	       "\"config\":{\"User\":\"u\",\"Env\":null,\"Cmd\":[\"a\"],\"ArgsEscaped\":true,\"X\":1},"
	       "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},"
	       "\"history\":[{\"created\":\"t\",\"created_by\":\"x\",\"empty_layer\":false}],\"zz\":1,\"aa\":2}",
	       "scrambled config encodes canonically");
	free(s1);
	ims_config_free(c);

	/* scratch */
	p = ims_platform_parse("linux/arm64/v8");
	c = ims_config_new(p);
	ims_platform_free(p);
	s1 = ims_config_encode(c, NULL);
	is_str(s1,
	       "{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\",\"config\":{},"
	       "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"history\":[]}",
	       "scratch config");
	free(s1);
	ims_config_env_set(c, "PATH", "/bin");
	is_str(ims_config_env_get(c, "PATH"), "/bin", "env set on an empty config");
	ims_config_free(c);

	/* validation */
	is_int(config_rc("[]"), IMS_EINVALID, "config array refused");
	is_int(config_rc("{\"os\":\"linux\"}"), IMS_EINVALID, "config without rootfs refused");
	is_int(config_rc("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:ABC\"]}}"), IMS_EINVALID,
	       "bad diff_id refused");
	is_int(config_rc("{\"rootfs\":{\"type\":\"tar\",\"diff_ids\":[]}}"), IMS_EINVALID, "rootfs type tar refused");
	is_int(config_rc("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"os\":1}"), IMS_EINVALID,
	       "numeric os refused");
	is_int(config_rc("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"config\":[]}"), IMS_EINVALID,
	       "config array refused");
	is_int(config_rc("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"config\":{\"Env\":\"A=1\"}}"),
	       IMS_EINVALID, "Env string refused");
	is_int(config_rc("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"config\":{\"Cmd\":[1]}}"), IMS_EINVALID,
	       "Cmd with a number refused");
	is_int(config_rc("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"config\":{\"Labels\":{\"a\":1}}}"),
	       IMS_EINVALID, "non-string label refused");
	is_int(config_rc("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"history\":[1]}"), IMS_EINVALID,
	       "history of numbers refused");
	is_int(config_rc("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"history\":[{\"empty_layer\":\"yes\"}]}"),
	       IMS_EINVALID, "string empty_layer refused");
	is_int(config_rc("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"a\":1,\"a\":1}"), IMS_EINVALID,
	       "duplicate keys in a config refused");
	is_int(config_rc("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"config\":{\"Volumes\":null,"
			 "\"ExposedPorts\":{\"80/tcp\":{}},\"Entrypoint\":null}}"),
	       0, "null and object members accepted");

	ims_json *t = ims_json_new_object();
	c = ims_config_new(&(ims_platform){ .os = "linux", .architecture = "amd64" });
	ims_error *e = NULL;
	is_int(ims_config_set_tree(c, t, &e), IMS_EINVALID, "set_tree validates");
	ims_error_clear(&e);
	ok(ims_config_ndiff_ids(c) == 0 && ims_config_tree(c) != t, "old tree kept on failure");
	ims_config_free(c);
}

static void test_rfc3339(void)
{
	char b[32];
	ims_rfc3339(0, b);
	is_str(b, "1970-01-01T00:00:00Z", "epoch");
	ims_rfc3339(1767225600, b);
	is_str(b, "2026-01-01T00:00:00Z", "2026");
	ims_rfc3339(-5, b);
	is_str(b, "1970-01-01T00:00:00Z", "negative clamps");
	ims_rfc3339(INT64_MAX, b);
	is_str(b, "9999-12-31T23:59:59Z", "huge clamps");
}

static void test_media_types(void)
{
	is_str(ims_mt_layer(false, IMS_MT_LAYER_GZIP), "application/vnd.oci.image.layer.v1.tar+gzip",
	       "mediatype: oci gzip");
	is_str(ims_mt_layer(false, IMS_MT_LAYER_ZSTD), "application/vnd.oci.image.layer.v1.tar+zstd",
	       "mediatype: oci zstd");
	is_str(ims_mt_layer(false, IMS_MT_LAYER_TAR), "application/vnd.oci.image.layer.v1.tar", "mediatype: oci tar");
	is_str(ims_mt_layer(true, IMS_MT_LAYER_GZIP), "application/vnd.docker.image.rootfs.diff.tar.gzip",
	       "mediatype: docker gzip");
	is_str(ims_mt_layer(true, IMS_MT_LAYER_TAR), "application/vnd.docker.image.rootfs.diff.tar",
	       "mediatype: docker tar");
	ok(ims_mt_layer(true, IMS_MT_LAYER_ZSTD) == NULL, "mediatype: docker has no zstd");

	static const struct {
		const char *in;
		bool docker;
		const char *want; /* NULL: refused */
	} conv[] = {
		{ IMS_MT_OCI_LAYER_GZIP, true, IMS_MT_DOCKER_LAYER_GZIP },
		{ IMS_MT_DOCKER_LAYER_GZIP, false, IMS_MT_OCI_LAYER_GZIP },
		{ IMS_MT_OCI_LAYER_GZIP, false, IMS_MT_OCI_LAYER_GZIP },
		{ IMS_MT_DOCKER_LAYER_GZIP, true, IMS_MT_DOCKER_LAYER_GZIP },
		{ IMS_MT_OCI_LAYER, true, IMS_MT_DOCKER_LAYER },
		{ IMS_MT_DOCKER_LAYER, false, IMS_MT_OCI_LAYER },
		{ IMS_MT_OCI_LAYER_ND_GZIP, true, IMS_MT_DOCKER_LAYER_FOREIGN },
		{ IMS_MT_DOCKER_LAYER_FOREIGN, false, IMS_MT_OCI_LAYER_ND_GZIP },
		{ IMS_MT_OCI_LAYER_ZSTD, false, IMS_MT_OCI_LAYER_ZSTD },
		{ IMS_MT_OCI_LAYER_ZSTD, true, NULL },
		{ "application/vnd.example.layer+tar", true, "application/vnd.example.layer+tar" },
		{ "application/vnd.example.layer+tar", false, "application/vnd.example.layer+tar" },
	};
	for (size_t i = 0; i < sizeof(conv) / sizeof(conv[0]); i++) {
		const char *out = NULL;
		ims_error *e = NULL;
		int r = ims_mt_convert_layer(conv[i].in, conv[i].docker, &out, &e);
		if (conv[i].want) {
			ok(r == 0 && e == NULL, "convert `%s` to %s", conv[i].in, conv[i].docker ? "docker" : "oci");
			is_str(out, conv[i].want, "... gives `%s`", conv[i].want);
		} else {
			ok(r == IMS_EINVALID && e && strstr(e->message, "has no Docker equivalent; use `format: oci`"),
			   "convert `%s` to docker is refused", conv[i].in);
		}
		ims_error_free(e);
	}
	const char *mine = "application/vnd.example.layer+tar", *out = NULL;
	ims_mt_convert_layer(mine, true, &out, NULL);
	ok(out == mine, "a type with no pair comes back as the same pointer");
}

int main(void)
{
	test_tree();
	test_manifest();
	test_index();
	test_detect();
	test_platform();
	test_config();
	test_rfc3339();
	test_media_types();
	return tap_done();
}
