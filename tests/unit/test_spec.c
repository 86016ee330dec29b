/* The spec room: image.yaml (or JSON) → ims_spec_model. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json/oci.h"
#include "plan/plan.h"
#include "spec/spec.h"
#include "util/buf.h"
#include "tap.h"

static const char *const FULL =
	"apiVersion: imagespec/v1\n"
	"base: docker://docker.io/library/node:22-slim\n"
	"target: ghcr.io/acme/app:1.4.0\n"
	"tags: [latest, \"${version}\", \"v${major}\"]\n"
	"platforms: [linux/amd64, linux/arm64/v8]\n"
	"format: docker\n"
	"created: \"2026-01-01T01:00:00+01:00\"\n"
	"params: {version: dev, major: 1}\n"
	"defaults: {mode: \"0644\", dirMode: \"0755\", uid: 0, gid: 0, mtime: 1700000000}\n"
	"files:\n"
	"  - src: ./\n"
	"    dest: /app/\n"
	"    exclude: [\"node_modules/**\", \"*.log\"]\n"
	"    include: [\"**\"]\n"
	"    ignoreFiles: [.dockerignore]\n"
	"    symlinks: follow\n"
	"  - dest: /etc/app/motd\n"
	"    content: \"hello\\n\"\n"
	"    mode: \"0600\"\n"
	"    uid: 1000\n"
	"    gid: 1000\n"
	"    mtime: \"2024-02-29T12:00:00Z\"\n"
	"  - {dest: /etc/app/b64, contentBase64: \"aGVsbG8K\"}\n"
	"  - dest: /usr/local/bin/app\n"
	"    symlink: /app/bin/app\n"
	"  - dest: /data\n"
	"    type: dir\n"
	"    uid: 1000\n"
	"    dirMode: \"4750\"\n"
	"layers:\n"
	"  - name: deps\n"
	"    files: [{src: ./vendor, dest: /app/vendor/}]\n"
	"    defaults: {uid: 7, mode: \"4755\"}\n"
	"    compression: {algorithm: zstd, level: 19}\n"
	"  - archive: ./dist/go.tar.gz\n"
	"    dest: /usr/local\n"
	"    include: [\"go/**\"]\n"
	"    stripComponents: 1\n"
	"  - url: https://example.org/ko.tar.gz\n"
	"    sha256: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
	"    include: [ko]\n"
	"  - blob:\n"
	"      digest: sha256:1111111111111111111111111111111111111111111111111111111111111111\n"
	"      diffId: sha256:2222222222222222222222222222222222222222222222222222222222222222\n"
	"      size: 12345\n"
	"      mediaType: application/vnd.oci.image.layer.v1.tar+gzip\n"
	"      urls: [https://example.com/layer]\n"
	"delete: [/etc/motd]\n"
	"opaque: [/var/cache/app]\n"
	"removeLayers: [sha256:3333333333333333333333333333333333333333333333333333333333333333]\n"
	"entrypoint: [/usr/bin/tini, --]\n"
	"cmd: [sh, -c, 'echo $HOME $$ done']\n"
	"env:\n"
	"  PATH: /app/bin:${base:PATH}\n"
	"  NODE_ENV: production\n"
	"  DEBUG: null\n"
	"  PORT: 8080\n"
	"  VERBOSE: no\n"
	"workingDir: /app\n"
	"user: \"1000:1000\"\n"
	"labels: {org.opencontainers.image.source: https://github.com/acme/app}\n"
	"annotations: {org.opencontainers.image.revision: \"${host:IMS_TEST_SHA}\"}\n"
	"exposedPorts: [\"8080/tcp\", 9090, 53/udp]\n"
	"volumes: [/data]\n"
	"stopSignal: SIGTERM\n"
	"auth:\n"
	"  registry.example.com: {username: ci, password: \"${host:IMS_TEST_PASSWORD}\"}\n"
	"  ghcr.io: {token: literal-token}\n"
	"  gcr.io/project-a: {googleCredentialsFile: ./sa-a.json}\n"
	"  other.example.com: {helper: ecr-login}\n"
	"registries:\n"
	"  localhost:5000: {insecure: true}\n"
	"  registry.internal: {caFile: ./ca.pem, clientCert: ./c.pem, clientKey: ./c.key}\n"
	"sync:\n"
	"  copyRemoteLayers: false\n"
	"  ignoreExists: true\n"
	"compression: {algorithm: gzip, level: 9}\n";

static int parse_with(ims_spec_model **m, const char *doc, const ims_spec_params *p, ims_error **err)
{
	*m = NULL;
	*err = NULL;
	return ims_spec_model_parse(m, "image.yaml", doc, strlen(doc), "/srv/ctx", p, err);
}

/* The error text of doc (caller frees), or NULL when it parses. */
static char *errors_p(const char *doc, const ims_spec_params *p)
{
	ims_spec_model *m;
	ims_error *err;
	if (parse_with(&m, doc, p, &err) == 0) {
		ims_spec_model_free(m);
		return NULL;
	}
	char *msg = strdup(err->message);
	if (err->code != IMS_EINVALID)
		printf("# unexpected code %d\n", err->code);
	ims_error_free(err);
	return msg;
}

static char *errors(const char *doc)
{
	return errors_p(doc, NULL);
}

/* ok() when doc fails with a message containing want. */
#define refused(doc, want, ...)                                                            \
	do {                                                                               \
		char *_m = errors(doc);                                                    \
		ok(_m &&strstr(_m, want), __VA_ARGS__);                                    \
		if (!_m || !strstr(_m, want))                                              \
			printf("#   got: %s\n#   want: %s\n", _m ? _m : "(parsed)", want); \
		free(_m);                                                                  \
	} while (0)

#define accepted(doc, ...)                           \
	do {                                         \
		char *_m = errors(doc);              \
		ok(!_m, __VA_ARGS__);                \
		if (_m)                              \
			printf("#   got: %s\n", _m); \
		free(_m);                            \
	} while (0)

#define MIN "base: scratch\n"

static const char *kv_get(const ims_kvlist *l, const char *key, bool *found)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].key.s, key)) {
			*found = true;
			return l->v[i].value.s;
		}
	*found = false;
	return NULL;
}

static void test_full(void)
{
	setenv("IMS_TEST_SHA", "abc123", 1);
	setenv("IMS_TEST_PASSWORD", "s3cret", 1);
	ims_spec_model *m;
	ims_error *err;
	int r = parse_with(&m, FULL, NULL, &err);
	ok(r == 0, "the full example parses");
	if (r) {
		printf("# %s\n", err->message);
		ims_error_free(err);
		return;
	}
	is_str(m->path, "image.yaml", "path kept as given");
	is_str(m->dir, "/srv/ctx", "dir from dir_hint");
	is_str(m->api_version.s, "imagespec/v1", "apiVersion");
	is_str(m->base.s, "docker://docker.io/library/node:22-slim", "base kept as written");
	is_int(m->base.pos.line, 2, "base line");
	is_int(m->base.pos.col, 7, "base col");
	is_str(m->target.s, "ghcr.io/acme/app:1.4.0", "target");
	is_int(m->tags.n, 3, "three tags");
	is_str(m->tags.v[1].s, "dev", "tag from a parameter");
	is_str(m->tags.v[2].s, "v1", "tag with a numeric parameter");
	is_int(m->platforms.n, 2, "two platforms");
	is_str(m->platforms.v[1].s, "linux/arm64/v8", "platform with variant");
	is_int(m->format, IMS_FORMAT_DOCKER, "format docker");
	ok(m->created_set && !m->created_now, "created set");
	is_int(m->created, 1767225600, "created with an offset is converted to UTC");
	is_int(m->params.n, 2, "params");
	ok(m->defaults.has_mode && m->defaults.mode == 0644, "defaults.mode");
	ok(m->defaults.has_dir_mode && m->defaults.dir_mode == 0755, "defaults.dirMode");
	ok(m->defaults.has_uid && m->defaults.uid == 0 && m->defaults.has_gid, "defaults.uid/gid");
	ok(m->defaults.has_mtime && m->defaults.mtime == 1700000000, "defaults.mtime epoch");

	ok(m->files_set && m->nfiles == 5, "five files entries");
	ims_file_spec *f = m->files;
	is_int(f[0].kind, IMS_FILE_COPY, "copy entry");
	is_str(f[0].src.s, "./", "src");
	is_str(f[0].dest.s, "/app/", "dest keeps its trailing slash");
	ok(f[0].exclude.n == 2 && !strcmp(f[0].exclude.v[1].s, "*.log"), "exclude");
	ok(f[0].include.set && f[0].include.n == 1, "include");
	ok(f[0].ignore_files.n == 1 && !strcmp(f[0].ignore_files.v[0].s, ".dockerignore"), "ignoreFiles");
	is_int(f[0].symlinks, IMS_SYMLINKS_FOLLOW, "symlinks follow");
	ok(!f[0].attrs.has_mode && !f[0].attrs.has_uid, "no attrs on the copy entry");
	is_int(f[1].kind, IMS_FILE_CONTENT, "content entry");
	ok(f[1].content_len == 6 && !memcmp(f[1].content, "hello\n", 6), "content bytes");
	ok(f[1].attrs.has_mode && f[1].attrs.mode == 0600, "entry mode");
	ok(f[1].attrs.uid == 1000 && f[1].attrs.gid == 1000, "entry uid/gid");
	is_int(f[1].attrs.mtime, 1709208000, "entry mtime from RFC 3339 (leap day)");
	is_int(f[2].kind, IMS_FILE_CONTENT, "base64 entry");
	ok(f[2].content_len == 6 && !memcmp(f[2].content, "hello\n", 6), "contentBase64 decoded");
	is_int(f[3].kind, IMS_FILE_SYMLINK, "symlink entry");
	is_str(f[3].symlink.s, "/app/bin/app", "symlink target");
	is_int(f[4].kind, IMS_FILE_DIR, "dir entry");
	ok(f[4].attrs.has_dir_mode && f[4].attrs.dir_mode == 04750, "dirMode with setuid bit");
	is_int(f[4].pos.line, 26, "entry position is its mapping");

	is_int(m->nlayers, 4, "four layers");
	ims_layer_spec *l = m->layers;
	is_int(l[0].kind, IMS_LAYER_FILES, "files layer");
	is_str(l[0].name.s, "deps", "layer name");
	ok(l[0].nfiles == 1 && !strcmp(l[0].files[0].dest.s, "/app/vendor/"), "layer files");
	ok(l[0].defaults.has_uid && l[0].defaults.uid == 7 && l[0].defaults.mode == 04755, "layer defaults");
	ok(l[0].compression.algorithm == IMS_COMPRESS_ZSTD && l[0].compression.level == 19, "layer compression");
	is_int(l[1].kind, IMS_LAYER_ARCHIVE, "archive layer");
	is_str(l[1].archive.s, "./dist/go.tar.gz", "archive path");
	is_str(l[1].dest.s, "/usr/local", "archive dest");
	is_int(l[1].strip_components, 1, "stripComponents");
	is_int(l[1].compression.algorithm, IMS_COMPRESS_DEFAULT, "layer compression inherits");
	is_int(l[2].kind, IMS_LAYER_URL, "url layer");
	is_str(l[2].dest.s, "/", "url dest defaults to /");
	ok(l[2].sha256.s && !strncmp(l[2].sha256.s, "sha256:0123", 11), "sha256 kept");
	is_int(l[3].kind, IMS_LAYER_BLOB, "blob layer");
	is_int(l[3].size, 12345, "blob size");
	ok(l[3].digest.s && l[3].diff_id.s && l[3].media_type.s && l[3].urls.n == 1, "blob fields");

	ok(m->delete_paths.n == 1 && !strcmp(m->delete_paths.v[0].s, "/etc/motd"), "delete");
	ok(m->opaque.n == 1, "opaque");
	ok(m->remove_layers.n == 1, "removeLayers");
	ok(m->entrypoint.set && m->entrypoint.n == 2 && !m->entrypoint_null, "entrypoint");
	is_str(m->cmd.v[2].s, "echo $HOME $ done", "bare $HOME kept and $$ becomes $");
	bool found;
	is_str(kv_get(&m->env, "PATH", &found), "/app/bin:${base:PATH}", "${base:PATH} kept in env");
	ok(kv_get(&m->env, "DEBUG", &found) == NULL && found, "env null kept as a NULL value");
	is_str(kv_get(&m->env, "PORT", &found), "8080", "env number as text");
	is_str(kv_get(&m->env, "VERBOSE", &found), "no", "env `no` stays text");
	is_str(m->env.v[0].key.s, "PATH", "env keeps its order");
	is_str(m->working_dir.s, "/app", "workingDir");
	is_str(m->user.s, "1000:1000", "user");
	is_str(kv_get(&m->annotations, "org.opencontainers.image.revision", &found), "abc123",
	       "annotation from ${host:...}");
	ok(m->exposed_ports.n == 3 && !strcmp(m->exposed_ports.v[1].s, "9090/tcp"), "bare port normalised to /tcp");
	is_str(m->exposed_ports.v[2].s, "53/udp", "udp port");
	is_str(m->stop_signal.s, "SIGTERM", "stopSignal");
	is_int(m->nauth, 4, "four auth entries");
	is_str(m->auth[0].key.s, "registry.example.com", "auth key");
	is_str(m->auth[0].password.s, "s3cret", "password from the host");
	ok(!m->auth[0].literal_secret, "a ${host:...} password is not literal");
	ok(m->auth[1].literal_secret, "a literal token is flagged");
	is_str(m->auth[2].google_credentials_file.s, "./sa-a.json", "googleCredentialsFile");
	is_str(m->auth[3].helper.s, "ecr-login", "helper");
	is_int(m->nregistries, 2, "two registries");
	ok(m->registries[0].insecure && !strcmp(m->registries[0].host.s, "localhost:5000"), "insecure registry");
	is_str(m->registries[1].client_key.s, "./c.key", "clientKey");
	ok(!m->sync_copy_remote_layers && m->sync_ignore_exists, "sync");
	ok(m->compression.algorithm == IMS_COMPRESS_GZIP && m->compression.level == 9, "top compression");
	ims_spec_model_free(m);
}

static void test_defaults_and_json(void)
{
	ims_spec_model *m;
	ims_error *err;
	ok(parse_with(&m, MIN "target: x/y:1\nfiles: []\n", NULL, &err) == 0, "minimal spec");
	if (!m)
		return;
	ok(m->sync_copy_remote_layers && !m->sync_ignore_exists, "sync defaults");
	ok(!m->created_set, "created unset");
	ok(m->files_set && m->nfiles == 0, "empty files list is set");
	ok(m->compression.algorithm == IMS_COMPRESS_DEFAULT && m->compression.level == -1, "compression default");
	ok(!m->entrypoint.set && !m->entrypoint_null, "entrypoint untouched");
	ims_spec_model_free(m);

	const char *json =
		"{\"apiVersion\":\"imagespec/v1\",\"base\":\"scratch\",\"target\":\"oci:out:1\",\n"
		" \"created\": 1700000000, \"entrypoint\": null, \"cmd\": [],\n"
		" \"files\": [{\"dest\": \"/a\", \"content\": \"x\", \"mode\": \"0755\", \"uid\": 5}],\n"
		" \"env\": {\"A\": \"1\", \"B\": null}, \"sync\": {\"ignoreExists\": true}}";
	ok(parse_with(&m, json, NULL, &err) == 0, "a JSON document parses");
	if (!m)
		return;
	ok(m->created_set && m->created == 1700000000, "created as epoch integer");
	ok(m->entrypoint_null, "entrypoint null clears");
	ok(m->cmd.set && m->cmd.n == 0 && !m->cmd_null, "cmd [] is set and empty");
	ok(m->nfiles == 1 && m->files[0].attrs.mode == 0755 && m->files[0].attrs.uid == 5, "JSON file entry");
	ok(m->env.n == 2 && m->env.v[1].value.s == NULL, "JSON null env value");
	ok(m->sync_ignore_exists, "JSON boolean");
	is_int(m->files[0].dest.pos.line, 3, "JSON positions: line");
	is_int(m->files[0].dest.pos.col, 21, "JSON positions: column");
	ims_spec_model_free(m);

	ok(parse_with(&m, MIN "created: now\n", NULL, &err) == 0 && m && m->created_now, "created: now");
	ims_spec_model_free(m);
	ok(parse_with(&m, MIN "created: \"1700000001\"\n", NULL, &err) == 0 && m && m->created == 1700000001,
	   "created as a numeric string");
	ims_spec_model_free(m);
	ok(parse_with(&m, MIN "created: 2026-01-01T00:00:00Z\n", NULL, &err) == 0 && m && m->created == 1767225600,
	   "unquoted RFC 3339 time");
	ims_spec_model_free(m);
	ok(parse_with(&m, MIN "platforms: [all]\ncompression: {algorithm: zstd}\n", NULL, &err) == 0, "platforms all");
	ims_spec_model_free(m);
}

static void test_syntax(void)
{
	refused(MIN "target: [a, b\nuser: x\n",
		"image.yaml:3:5: yaml syntax error: did not find expected ',' or ']' (while parsing a flow sequence "
		"started at line 2, column 9)",
		"bad yaml syntax with line:col");
	refused(MIN "labels: &l {a: b}\n", "image.yaml:2:9: yaml anchors (`&l`) are not supported", "anchor refused");
	refused(MIN "tags: [a]\nlabels: {a: *x}\n", "image.yaml:3:13: yaml aliases (`*x`) are not supported",
		"alias refused");
	refused("base: !!binary aGVsbG8=\n", "image.yaml:1:7: yaml tags (`!!binary`) are not supported", "tag refused");
	refused(MIN "---\nbase: scratch\n", "only one yaml document is allowed", "two documents refused");
	refused(MIN "target: a/b:1\nuser: x\ntarget: c/d:2\n",
		"image.yaml:4:1: duplicate key `target` (first given at line 2)", "duplicate key");
	refused(MIN "env: {A: 1, A: 2}\n", "duplicate key `A`", "duplicate env key");
	refused(MIN "user: \"a\xff\"\n", "image.yaml:2:9: invalid character: invalid leading UTF-8 octet",
		"invalid UTF-8 at its position");
	refused(MIN "user: \"\x01\"\n", "image.yaml:2:8: invalid character: control characters",
		"raw control character");
	refused("", "image.yaml:1:1: the spec is empty", "empty document");
	refused("- base\n", "the spec must be a mapping", "a list is not a spec");

	char deep[200] = "base: scratch\nlabels: ";
	for (int i = 0; i < 40; i++)
		strcat(deep, "[");
	refused(deep, "image.yaml:2:", "deep nesting refused at its line");
	refused(deep, "nesting is deeper than the limit of 32 levels", "deep nesting message");

	size_t big = 70 * 1024;
	char *s = malloc(big + 64);
	strcpy(s, "base: scratch\nuser: ");
	memset(s + strlen(s), 'u', big);
	s[14 + 6 + big] = '\0';
	refused(s, "string is longer than the limit of 64 KiB", "string cap");
	free(s);

	char *list = malloc(10001 * 3 + 64);
	strcpy(list, "base: scratch\ntags: [");
	for (int i = 0; i < 10001; i++)
		strcat(list + strlen(list) - 1, "a,");
	strcat(list, "a]\n");
	refused(list, "list is longer than the limit of 10000 items", "list cap");
	free(list);

	char *content = malloc(200 * 1024);
	strcpy(content, "base: scratch\nfiles: [{dest: /f, content: \"");
	size_t o = strlen(content);
	memset(content + o, 'c', 150 * 1024);
	strcpy(content + o + 150 * 1024, "\"}]\n");
	accepted(content, "content may exceed the 64 KiB string cap");
	free(content);
}

static void test_keys(void)
{
	refused(MIN "Cmd: [a]\n", "image.yaml:2:1: unknown key `Cmd` in the spec; did you mean `cmd`?",
		"case-insensitive hint");
	refused(MIN "workingDirectory: /a\n", "did you mean `workingDir`?", "alias hint workingDirectory");
	refused(MIN "environment: {}\n", "did you mean `env`?", "alias hint environment");
	refused(MIN "ports: [80]\n", "did you mean `exposedPorts`?", "alias hint ports");
	refused(MIN "files: [{source: a, dest: /a}]\n", "unknown key `source` in a `files` entry; did you mean `src`?",
		"alias hint inside files");
	refused(MIN "files: [{src: a, destination: /a}]\n", "did you mean `dest`?", "alias hint destination");
	refused(MIN "lables: {}\n", "did you mean `labels`?", "levenshtein hint");
	refused(MIN "sync: {copyRemoteLayer: true}\n", "did you mean `copyRemoteLayers`?", "hint in nested mapping");
	refused(MIN "auth: {h.io: {user: a, password: b}}\n", "did you mean `username`?", "alias hint in auth");
	refused(MIN "layers: [{blob: {digest: a, diffID: b, size: 1}}]\n", "did you mean `diffId`?",
		"hint inside blob");
	char *m = errors(MIN "zzzqqq: 1\n");
	ok(m && strstr(m, "unknown key `zzzqqq`") && !strstr(m, "did you mean"), "no hint for nonsense");
	free(m);

	char *dump = ims_spec_keys_dump();
	ok(strstr(dump, "apiVersion\n") && strstr(dump, "files[].src\n") && strstr(dump, "layers[].blob.digest\n"),
	   "keys dump: top, files[], blob");
	ok(strstr(dump, "auth.*.username\n") && strstr(dump, "registries.*.caFile\n"), "keys dump: maps");
	ok(strstr(dump, "layers[].files[].dest\n") && strstr(dump, "layers[].defaults.uid\n") &&
		   strstr(dump, "layers[].compression.algorithm\n") && strstr(dump, "sync.ignoreExists\n"),
	   "keys dump: nested");
	free(dump);
}

static void test_types(void)
{
	refused(MIN "files: [{dest: /a, content: x, mode: 0644}]\n",
		"image.yaml:2:38: `mode` must be a quoted octal string: write `\"0644\"`", "bare integer mode");
	refused(MIN "defaults: {mode: \"0999\"}\n", "`mode` must be an octal mode", "non-octal mode");
	refused(MIN "defaults: {mode: \"17777\"}\n", "`mode` must be an octal mode", "mode too long");
	refused(MIN "defaults: {uid: -1}\n", "`uid` must be between 0 and 2147483647", "negative uid");
	refused(MIN "defaults: {gid: 2147483648}\n", "`gid` must be between", "gid too large");
	refused(MIN "defaults: {uid: \"5\"}\n", "`uid` must be an integer, not the string `5`", "quoted uid");
	refused(MIN "defaults: {uid: 0755}\n", "`uid` must be a decimal integer", "octal-looking uid");
	refused(MIN "defaults: {mtime: yesterday}\n", "`mtime` must be an RFC 3339 time", "bad mtime");
	refused(MIN "created: \"2026-02-30T00:00:00Z\"\n", "`created` must be an RFC 3339 time", "bad date");
	refused(MIN "format: qcow\n", "`format` must be `inherit`, `oci` or `docker`", "bad format");
	refused(MIN "apiVersion: imagespec/v2\n", "unsupported `apiVersion`", "bad apiVersion");
	refused(MIN "platforms: [linux]\n", "platform `linux` must be", "bad platform");
	refused(MIN "platforms: [all, linux/amd64]\n", "`all` cannot be combined", "all with others");
	refused(MIN "entrypoint: \"sh -c x\"\n", "`entrypoint` must be a list of strings", "string entrypoint");
	refused(MIN "cmd: {a: b}\n", "`cmd` must be a list, not a mapping", "mapping cmd");
	refused(MIN "cmd: [[\"a\"]]\n", "an entry of `cmd` must be a string, not a list", "nested list in cmd");
	refused(MIN "cmd: [null]\n", "an entry of `cmd` must be a string, not null", "null entry in cmd");
	refused(MIN "entrypoint: [\"\", x]\n", "the first entry of `entrypoint` must not be empty", "empty argv[0]");
	refused(MIN "sync: {ignoreExists: yes}\n", "`ignoreExists` must be true or false, not `yes`", "yes is no bool");
	refused(MIN "env: {1A: x}\n", "environment variable name `1A`", "bad env name");
	refused(MIN "env: {A: [x]}\n", "the value of `A` in `env` must be a string, not a list", "list env value");
	refused(MIN "user: \"\"\n", "`user` must not be empty", "empty user");
	refused(MIN "stopSignal: \"kill -9\"\n", "`stopSignal` must be a signal name", "bad signal");
	accepted(MIN "stopSignal: 9\nuser: 1000\n", "numeric signal and user");
	refused(MIN "compression: {algorithm: lz4}\n", "`algorithm` must be `gzip`, `zstd` or `none`", "bad alg");
	refused(MIN "compression: {algorithm: gzip, level: 12}\n", "`level` (gzip) must be between -1 and 9",
		"gzip level");
	refused(MIN "compression: {algorithm: zstd, level: 0}\n", "`level` (zstd) must be between 1 and 19",
		"zstd level");
	refused(MIN "compression: {algorithm: zstd}\nlayers: [{archive: a.tar, compression: {level: 22}}]\n",
		"`level` (zstd)", "layer level checked against the inherited algorithm");
	refused(MIN "compression: {algorithm: none, level: 1}\n", "`level` does not apply", "level with none");
	refused(MIN "files: [{dest: /a, contentBase64: \"!!!\"}]\n", "`contentBase64` is not valid base64",
		"bad base64");
	refused(MIN "user: \"a\\0b\"\n", "`user` contains a NUL character", "NUL refused");
}

/* healthcheck: docker's durations (Go's syntax) and test forms. */
static void test_healthcheck(void)
{
	ims_spec_model *m;
	ims_error *err;
	const char *doc = MIN
		"healthcheck:\n  test: [CMD, /bin/check]\n  interval: 1h2m3s\n  timeout: 1.5s\n"
		"  startPeriod: 250ms\n  startInterval: \"1000us\"\n  retries: 5\n";
	ok(parse_with(&m, doc, NULL, &err) == 0, "healthcheck: parses");
	if (m) {
		const ims_healthcheck_spec *h = &m->healthcheck;
		ok(h->set && h->test.n == 2 && !strcmp(h->test.v[0].s, "CMD"), "healthcheck: test kept");
		ok(h->interval == 3723LL * 1000000000, "healthcheck: 1h2m3s in ns");
		ok(h->timeout == 1500000000, "healthcheck: 1.5s in ns");
		ok(h->start_period == 250000000, "healthcheck: 250ms in ns");
		ok(h->start_interval == 1000000, "healthcheck: 1000us in ns");
		ok(h->retries == 5, "healthcheck: retries");
		ims_spec_model_free(m);
	}
	ims_error_free(err);
	ok(parse_with(&m, MIN "healthcheck: {test: \"curl -f localhost\"}\n", NULL, &err) == 0 && m &&
		   m->healthcheck.test.n == 2 && !strcmp(m->healthcheck.test.v[0].s, "CMD-SHELL") &&
		   !strcmp(m->healthcheck.test.v[1].s, "curl -f localhost"),
	   "healthcheck: a string test is CMD-SHELL");
	ims_spec_model_free(m);
	ims_error_free(err);
	ok(parse_with(&m, MIN "healthcheck: none\n", NULL, &err) == 0 && m && m->healthcheck.test.n == 1 &&
		   !strcmp(m->healthcheck.test.v[0].s, "NONE"),
	   "healthcheck: none is [NONE]");
	ims_spec_model_free(m);
	ims_error_free(err);
	static const struct {
		const char *doc, *want, *name;
	} bad[] = {
		{ MIN "healthcheck: off\n", "image.yaml:2:14: `healthcheck` must be `none` or a mapping", "not none" },
		{ MIN "healthcheck: {interval: 1s}\n", "`healthcheck` needs `test`", "test required" },
		{ MIN "healthcheck: {test: [NONE, x]}\n", "`[NONE]` takes nothing after", "NONE alone" },
		{ MIN "healthcheck: {test: [CMD]}\n", "needs the command after `CMD`", "CMD needs argv" },
		{ MIN "healthcheck: {test: [CMD-SHELL, a, b]}\n", "takes one shell command", "CMD-SHELL takes one" },
		{ MIN "healthcheck: {test: [NONE], retries: 1}\n", "its other keys do nothing", "NONE with keys" },
		{ MIN "healthcheck: {test: [CMD, x], interval: 5}\n", "`healthcheck.interval` must be a duration",
		  "bare number" },
		{ MIN "healthcheck: {test: [CMD, x], interval: 5d}\n", "must be a duration", "unknown unit" },
		{ MIN "healthcheck: {test: [CMD, x], interval: 1s2}\n", "must be a duration", "trailing number" },
		{ MIN "healthcheck: {test: [CMD, x], interval: -1s}\n", "must be a duration", "negative" },
		{ MIN "healthcheck: {test: [CMD, x], interval: 99999999999999h}\n", "must be a duration", "overflow" },
		{ MIN "healthcheck: {test: [CMD, x], timeout: 999us}\n", "must be 0 or at least 1ms", "under 1ms" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i].doc, bad[i].want, "healthcheck refused: %s", bad[i].name);
	accepted(MIN "healthcheck: {test: [CMD, x], timeout: 0s}\n", "0s is fine");
	refused(MIN "healthcheck: {test: [CMD, x], retries: -1}\n", "`healthcheck.retries` must be between 0",
		"negative retries");
	refused(MIN "healthcheck: {test: [CMD, x], Retries: 1}\n", "did you mean `retries`", "did-you-mean");
	refused(MIN "healthcheck: {test: [CMD, \"a\\x1b[2J\"]}\n", "control character", "control characters");
}

/* issue 9, item 9: control characters in config strings. */
static void test_control(void)
{
	refused(MIN "labels: {a: \"x\\ey\"}\n", "image.yaml:2:13: `labels` value has U+001B at byte 2", "ESC in a label");
	refused(MIN "labels: {\"a\\u0085\": x}\n", "`labels` key", "C1 in a label key");
	refused(MIN "labels: {a: \"x\\ny\"}\n", "`labels` value has U+000A", "newline in a label");
	accepted(MIN "labels: {a: \"x\\ty\"}\n", "tab in a label value");
	refused(MIN "annotations: {a: \"x\\uFEFFy\"}\n", "`annotations` value has U+FEFF at byte 2",
		"mid-string BOM in an annotation");
	refused(MIN "annotations: {a: \"\\u009b31m\"}\n", "U+009B", "CSI in an annotation");
	refused(MIN "env: {A: \"b\\u0085c\"}\n", "`env` value has U+0085", "C1 in an env value");
	refused(MIN "env: {A: \"b\\x7fc\"}\n", "`env` value has U+007F", "DEL in an env value");
	refused(MIN "env: {A: \"\\e[2J\"}\n", "control characters and byte order marks are refused", "ESC in env");
	accepted(MIN "env: {A: \"a\\tb\"}\n", "tab in an env value");
	refused(MIN "cmd: [\"echo\", \"\\e[31m\"]\n", "`cmd` has U+001B", "ESC in cmd");
	refused(MIN "entrypoint: [\"a\\u2028\\u0085\"]\n", "`entrypoint` has U+0085", "C1 in entrypoint");
	accepted(MIN "cmd: [sh, -c, \"set -e\\n\\techo hi\\n\"]\n", "newlines and tabs in cmd (scripts)");
	refused(MIN "user: \"a\\u0085\"\n", "`user` has U+0085", "C1 in user");
	refused(MIN "workingDir: \"/a\\u0085\"\n", "`workingDir` has U+0085", "C1 in workingDir");
	refused(MIN "volumes: [\"/a\\uFEFF\"]\n", "U+FEFF", "BOM in a volume");
	refused(MIN "layers: [{name: \"a\\eb\", archive: a.tar}]\n", "`name` has U+001B", "ESC in a layer name");
	refused(MIN "files: [{src: \"a\\u0085\", dest: /a}]\n", "`src` has U+0085", "C1 in src");
	refused(MIN "tags: [\"a\\eb\"]\n", "tag `a\\x1bb` is not valid", "ESC in a tag is refused and escaped");
}

static void test_paths(void)
{
	refused(MIN "files: [{src: a, dest: relative/x}]\n",
		"image.yaml:2:24: `dest` must be an absolute path, not `relative/x`", "relative dest");
	refused(MIN "files: [{src: a, dest: /a/../etc}]\n", "`dest` must not contain `..`", "dest with ..");
	refused(MIN "files: [{src: ../secret, dest: /a}]\n",
		"image.yaml:2:15: `src` `../secret` leaves the spec's directory", "src escaping with ../");
	refused(MIN "files: [{src: a/../../b, dest: /a}]\n", "leaves the spec's directory", "src escaping after clean");
	accepted(MIN "files: [{src: a/../b, dest: /a}]\n", "src with .. that stays inside");
	refused(MIN "files: [{src: /etc/passwd, dest: /a}]\n",
		"`src` must be relative to the spec's directory, not the absolute path `/etc/passwd`", "absolute src");
	refused(MIN "files: [{dest: /a/.wh.b, content: x}]\n", "whiteout", "whiteout dest");
	refused(MIN "files: [{dest: /etc/, content: x}]\n", "must name the entry itself and cannot end with `/`",
		"content dest dir");
	refused(MIN "files: [{dest: /, type: dir}]\n", "`dest` cannot be `/`", "type: dir at /");
	accepted(MIN "files: [{dest: /, src: a}]\n", "a copy into /");
	refused(MIN "layers: [{archive: ../x.tar}]\n", "`archive` `../x.tar` leaves", "archive escaping");
	refused(MIN "workingDir: /proc/self/fd/7\n", "image.yaml:2:13: `workingDir` must not be under `/proc`",
		"workingDir under /proc");
	refused(MIN "workingDir: //proc\n", "`workingDir` `//proc` must be a clean path", "workingDir //proc");
	accepted(MIN "workingDir: /procedures\n", "workingDir /procedures is fine");
	refused(MIN "workingDir: app\n", "`workingDir` must be an absolute path", "relative workingDir");
	refused(MIN "volumes: [data]\n", "`volumes` entry must be an absolute path", "relative volume");
	refused(MIN "delete: [/]\n", "`delete` path cannot be `/`", "delete /");
	refused(MIN "opaque: [/./]\n", "`opaque` path `/./` must be a clean path", "opaque /./");
	/* issue 9, item 6: refused with the position, never normalised */
	refused(MIN "files: [{dest: /etc/., content: x}]\n", "image.yaml:2:16: `dest` `/etc/.` must be a clean path",
		"dest /etc/.");
	refused(MIN "files: [{dest: /a//b, content: x}]\n", "no `.` components and no `//`", "dest with //");
	refused(MIN "files: [{dest: /./etc/x, content: x}]\n", "must be a clean path", "dest with /./");
	refused(MIN "files: [{src: a, dest: /app/./}]\n", "must be a clean path", "copy dest with /./");
	refused(MIN "files: [{dest: /bin//sh, symlink: busybox}]\n", "must be a clean path", "symlink dest with //");
	refused(MIN "files: [{dest: /data/., type: dir}]\n", "must be a clean path", "dir dest with /.");
	refused(MIN "delete: [/etc/./motd]\n", "`delete` path `/etc/./motd` must be a clean path", "delete with /./");
	refused(MIN "opaque: [/var//cache]\n", "must be a clean path", "opaque with //");
	refused(MIN "layers: [{archive: a.tar, dest: /opt/.}]\n", "must be a clean path", "archive dest /opt/.");
	refused(MIN "volumes: [/data/.]\n", "must be a clean path", "volume with /.");
	accepted(MIN "files: [{src: a, dest: /app/}]\nvolumes: [/data/]\nworkingDir: /app/\n",
		 "one trailing `/` is fine");
	refused(MIN "files: [{dest: \"/a\\nb\", content: x}]\n", "control character", "newline in dest");
}

static void test_refs_and_digests(void)
{
	refused("base: UPPER/case\n", "image.yaml:1:7: `base`: ", "bad base reference");
	refused(MIN "target: scratch\n", "`target` cannot be `scratch`", "scratch target");
	refused(MIN "target: a/b@sha256:1111111111111111111111111111111111111111111111111111111111111111\n",
		"`target` cannot be pinned by digest", "digest target");
	accepted(
		"base: docker://busybox@sha256:1111111111111111111111111111111111111111111111111111111111111111\n"
		"target: oci-archive:out.tar:app\n",
		"pinned base and oci-archive target");
	refused("target: a/b:1\n", "`base` is required", "base required");
	refused(MIN "tags: [\"bad tag\"]\n", "image.yaml:2:8: tag `bad tag` is not valid", "bad tag");
	refused(MIN "tags: [\"repo:tag\"]\n", "must be a tag only", "tag with a repository");
	refused(MIN "exposedPorts: [\"99999\"]\n", "port `99999` must be a number from 1 to 65535", "port range");
	refused(MIN "exposedPorts: [\"80/icmp\"]\n", "port `80/icmp`", "bad protocol");
	refused(MIN "removeLayers: [sha256:ABC]\n", "`removeLayers` entry `sha256:ABC` is not a valid digest",
		"bad digest");
	refused(MIN "layers: [{blob: {digest: sha256:x, diffId: sha256:y, size: 0}}]\n", "`size` must be between 1",
		"blob size 0");
	refused(MIN "layers: [{blob: {digest: sha256:x}}]\n", "`blob` needs `diffId`", "blob needs diffId");
	refused(MIN
		"layers: [{url: \"http://example.com/a.tgz\", sha256: "
		"\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}]\n",
		"plain http:// is only allowed for loopback", "http url refused");
	accepted(MIN
		 "layers: [{url: \"http://127.0.0.1:8080/a.tgz\", sha256: "
		 "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}]\n",
		 "http on loopback allowed");
	refused(MIN "layers: [{url: \"https://example.com/a.tgz\"}]\n", "a `url` layer needs `sha256`",
		"url needs sha256");
	refused(MIN "layers: [{archive: a.tar, sha256: \"ABCD\"}]\n", "must be 64 lowercase hex", "bad sha256");
	refused(MIN "layers: [{archive: a.tar, stripComponents: -1}]\n", "`stripComponents` must be between 0",
		"negative stripComponents");
}

static void test_shapes(void)
{
	refused(MIN "files: [{src: a, content: b, dest: /x}]\n",
		"image.yaml:2:18: `src` and `content` cannot be used together in a `files` entry", "src with content");
	refused(MIN "files: [{dest: /x}]\n", "a `files` entry needs one of `src`", "entry without a kind");
	refused(MIN "files: [{src: a}]\n", "a `files` entry needs `dest`", "entry without dest");
	refused(MIN "files: [{dest: /x, type: file}]\n", "`type` must be `dir`", "type file");
	refused(MIN "files: [{dest: /x, content: a, exclude: [b]}]\n", "`exclude` only applies to entries with `src`",
		"exclude with content");
	refused(MIN "files: [{dest: /x, symlink: /y, mode: \"0644\"}]\n", "`mode` has no effect on a symlink",
		"mode on a symlink");
	refused(MIN "layers: [{archive: a.tar, files: [{src: a, dest: /a}]}]\n",
		"`files` and `archive` cannot be used together", "two layer kinds");
	refused(MIN "layers: [{name: x}]\n", "a `layers` entry needs one of", "layer without a kind");
	refused(MIN "layers: [{files: [{src: a, dest: /a}], dest: /x}]\n", "`dest` only applies to `archive` and `url`",
		"dest on a files layer");
	refused(MIN "layers: [{files: []}]\n", "a layer's `files` must not be empty", "empty layer");
	refused(MIN "auth: {h.io: {username: a}}\n", "`username` needs `password`", "username alone");
	refused(MIN "auth: {h.io: {token: a, helper: b}}\n", "takes only one of", "two auth methods");
	refused(MIN "auth: {\"https://h.io\": {token: a}}\n", "without a scheme", "auth key with a scheme");
	refused(MIN "registries: {h.io: {clientCert: a}}\n", "`clientCert` and `clientKey` must be given together",
		"cert without key");
}

static void test_subst(void)
{
	unsetenv("IMS_TEST_UNSET");
	refused(MIN "labels: {a: \"${base:PATH}\"}\n",
		"image.yaml:2:13: `${base:PATH}` is only allowed in `env` values", "${base:} outside env");
	refused(MIN "tags: [\"${version}\"]\n",
		"image.yaml:2:8: undefined parameter `version`; set it with `-p version=VALUE`", "undefined parameter");
	refused(MIN "tags: [\"${version:?give -p version=X}\"]\n", "parameter `version` is not set: give -p version=X",
		"${X:?message}");
	refused(MIN "user: \"${host:IMS_TEST_UNSET}\"\n", "environment variable `IMS_TEST_UNSET` is not set",
		"unset ${host:X}");
	refused(MIN "user: \"${1abc}\"\n", "bad substitution `${1abc}`", "bad substitution");
	refused(MIN "user: \"${abc\"\n", "unterminated `${`", "unterminated");
	refused(MIN "params: {a: \"${b}\", b: x}\n", "parameter values cannot refer to other parameters",
		"params referring to params");
	refused(MIN "env: {A: \"${base:PATH:-x}\"}\n", "takes no default", "${base:} with a default");

	ims_spec_model *m;
	ims_error *err;
	const char *doc = MIN
		"params: {v: file, w: keep}\n"
		"labels: {a: \"${v}\", b: \"${w}\", c: \"${u:-dflt}\", d: \"$$x $y ${host:IMS_TEST_UNSET:-h}\",\n"
		"  e: \"${v:-z}$\"}\n";
	const char *names[] = { "v", "u" }, *values[] = { "cli", "" };
	ims_spec_params p = { names, values, 2 };
	ok(parse_with(&m, doc, &p, &err) == 0, "substitution spec parses");
	if (m) {
		bool f;
		is_str(kv_get(&m->labels, "a", &f), "cli", "-p wins over params:");
		is_str(kv_get(&m->labels, "b", &f), "keep", "params: used when no -p");
		is_str(kv_get(&m->labels, "c", &f), "dflt", ":- default for an empty -p value");
		is_str(kv_get(&m->labels, "d", &f), "$x $y h", "$$, bare $y and host default");
		is_str(kv_get(&m->labels, "e", &f), "cli$", "trailing $ kept");
		is_str(kv_get(&m->params, "v", &f), "cli", "model params hold the values in effect");
		ok(kv_get(&m->params, "u", &f) && f, "-p only parameter appended to params");
		ims_spec_model_free(m);
	}
	const char *n0[] = { "id" }, *v0[] = { "42" };
	ok(parse_with(&m, MIN "defaults: {uid: \"${id}\"}\n", &(ims_spec_params){ n0, v0, 1 }, &err) == 0 && m &&
		   m->defaults.uid == 42,
	   "a substituted integer");
	ims_spec_model_free(m);
	ims_error_free(err);
	const char *n1[] = { "m" }, *v1[] = { "0755" };
	ok(parse_with(&m, MIN "defaults:\n  mode: ${m}\n", &(ims_spec_params){ n1, v1, 1 }, &err) == 0 && m &&
		   m->defaults.mode == 0755,
	   "a substituted mode needs no quotes");
	ims_spec_model_free(m);
	ims_error_free(err);
	refused(MIN "files: [{\"${x}\": a, dest: /a, src: b}]\n", "unknown key `${x}`", "keys are never substituted");
}

#define DIG64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* ${platform.*}: kept as a template (other `$` doubled) in src, archive
 * and url; refused elsewhere; filled per platform by the planner. */
static void test_platform_subst(void)
{
	refused(MIN "files: [{src: a, dest: \"/${platform.os}\"}]\n",
		"image.yaml:2:24: `${platform.os}` is only allowed in `src`, `archive` and `url` values",
		"${platform.*} in dest");
	refused(MIN "files: [{src: \"${platform.arc}\", dest: /a}]\n",
		"unknown platform value `${platform.arc}`; did you mean `${platform.arch}`?", "unknown name");
	refused(MIN "files: [{src: \"${platform.arch:-x}\", dest: /a}]\n", "takes no default", "with a default");
	refused(MIN "files: [{src: \"../${platform.arch}\", dest: /a}]\n", "leaves the spec's directory",
		"escape around a platform value");
	refused(MIN "layers: [{archive: a.tar, sha256: {linux/amd64: " DIG64 "}}]\n",
		"a `sha256` per platform needs", "sha256 map without a platform value");

	ims_spec_model *m;
	ims_error *err;
	const char *doc = MIN "params: {v: \"p$q\"}\n"
			      "files:\n"
			      "  - {src: \"bin/${platform.arch}/${v}$${platform.os}\", dest: /a}\n"
			      "  - {src: \"plain/${v}\", dest: /b}\n"
			      "layers:\n"
			      "  - url: \"https://example.org/t-${platform.os}-${platform.variant}.tgz\"\n"
			      "    sha256: {linux/arm64: " DIG64 "}\n";
	ok(parse_with(&m, doc, NULL, &err) == 0, "platform values parse");
	if (m) {
		is_str(m->files[0].src.s, "bin/${platform.arch}/p$$q$${platform.os}", "a template doubles other `$`");
		ok(m->files[0].src.platform, "the template is marked");
		is_str(m->files[1].src.s, "plain/p$q", "a value without platform values is plain");
		ok(!m->files[1].src.platform, "and not marked");
		ok(m->layers[0].url.platform && m->layers[0].sha256_by_platform.n == 1, "url template, sha256 map");
		ims_platform *arm = ims_platform_parse("linux/arm64"), *amd = ims_platform_parse("linux/amd64");
		char *out = NULL;
		ok(ims_plan_platform_expand(m->files[0].src.s, arm, &out, NULL) == 0, "expand for linux/arm64");
		is_str(out, "bin/arm64/p$q${platform.os}", "filled, `$$` a literal `$`");
		free(out);
		ok(ims_plan_platform_expand(m->layers[0].url.s, amd, &out, NULL) == 0, "expand for linux/amd64");
		is_str(out, "https://example.org/t-linux-.tgz", "amd64's variant is empty");
		free(out);
		ok(ims_plan_platform_expand(m->layers[0].url.s, arm, &out, NULL) == 0, "expand arm64");
		is_str(out, "https://example.org/t-linux-v8.tgz", "arm64's variant is v8");
		free(out);
		ims_platform *bad = ims_platform_parse("linux/amd64");
		free(bad->variant);
		bad->variant = strdup("..");
		ims_error *e = NULL;
		ok(ims_plan_platform_expand("x/${platform.variant}", bad, &out, &e) == IMS_EINVALID && e &&
			   strstr(e->message, "cannot go into a path"),
		   "a `..` variant is refused");
		ims_error_free(e);
		ims_platform_free(bad);
		ims_platform_free(arm);
		ims_platform_free(amd);
		ims_spec_model_free(m);
	}
	ims_error_free(err);
}

static void test_secrets(void)
{
	setenv("IMS_TEST_PASSWORD", "hunter2-from-env", 1);
	char *m = errors(MIN "auth: {h.io: {username: u, password: \"p4ss${nope}\"}, g.io: {token: \"${zz\"}}\n");
	ok(m && strstr(m, "undefined parameter `nope`"), "error in a password");
	ok(m && !strstr(m, "p4ss") && !strstr(m, "${zz"), "secret text is not quoted in errors");
	free(m);
	ims_spec_model *mm;
	ims_error *err;
	ok(parse_with(&mm, MIN "auth: {h.io: {username: u, password: \"${host:IMS_TEST_PASSWORD}\"}}\n", NULL, &err) ==
			   0 &&
		   mm && !mm->auth[0].literal_secret,
	   "host password is not literal");
	ims_spec_model_free(mm);
	ok(parse_with(&mm, MIN "auth: {h.io: {username: u, password: hunter2}}\n", NULL, &err) == 0 && mm &&
		   mm->auth[0].literal_secret,
	   "literal password is flagged");
	ims_spec_model_free(mm);
}

/* The warnings of ims_spec_read, one per line, for a spec file written
 * with mode. */
static char *warnings_of(const char *dir, const char *doc, mode_t mode)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/image.yaml", dir);
	FILE *f = fopen(path, "w");
	fputs(doc, f);
	fclose(f);
	chmod(path, mode);
	ims_spec *s = NULL;
	ims_error *err = NULL;
	if (ims_spec_read(&s, path, NULL, 0, NULL, NULL, &err) < 0) {
		printf("# %s\n", err->message);
		ims_error_free(err);
		return NULL;
	}
	ims_buf b = IMS_BUF_INIT(0);
	for (size_t i = 0; i < s->nwarnings; i++) {
		ims_buf_puts(&b, s->warnings[i]);
		ims_buf_putc(&b, '\n');
	}
	ims_buf_puts(&b, "");
	ims_spec_destroy(s);
	unlink(path);
	size_t len;
	return ims_buf_steal(&b, &len);
}

/* Catalogue items 16 and 17: a spec file others may read that holds a
 * literal secret, and env names that look like secrets. */
static void test_secret_warnings(void)
{
	char dir[] = "/tmp/ims-spec-XXXXXX";
	ok(mkdtemp(dir) != NULL, "temp dir");
	const char *lit = MIN "auth: {h.io: {username: u, password: hunter2}}\n";
	char *w = warnings_of(dir, lit, 0644);
	ok(w && strstr(w, "image.yaml: holds a literal secret and may be read or written by others (mode 0644); "
			  "`chmod go-rwx "),
	   "a literal secret in a 0644 spec: a warning with the mode and the fix");
	ok(w && !strstr(w, "hunter2"), "... never quoting the secret");
	free(w);
	w = warnings_of(dir, lit, 0620);
	ok(w && strstr(w, "(mode 0620)"), "a group-writable spec with a literal secret: the warning");
	free(w);
	w = warnings_of(dir, lit, 0600);
	ok(w && !strstr(w, "may be read or written by others") && strstr(w, "holds a literal secret; use"),
	   "a 0600 spec: only the literal-secret warning");
	free(w);
	w = warnings_of(dir, MIN "auth: {h.io: {username: u, password: \"${host:HOME}\"}}\n", 0644);
	ok(w && !*w, "a 0644 spec whose secret comes from ${host:NAME}: no warning");
	free(w);

	w = warnings_of(dir,
			MIN "env:\n"
			    "  API_TOKEN: abc123\n"
			    "  aws_secret_access_key: xyz\n"
			    "  DB_PASSWORD: pw\n"
			    "  SIGNING_KEY: k\n"
			    "  GPG_KEY_ID: 0xABCD  # imagespec: not-secret\n"
			    "  GITHUB_TOKEN_NAME: ci   #imagespec:not-secret (a name, not a token)\n"
			    "  KEY_FILE: /run/k\n"
			    "  MONKEY: x\n"
			    "  EMPTY_SECRET: \"\"\n"
			    "  OLD_TOKEN: null\n"
			    "  PATH: /bin\n",
			0600);
	ok(w && strstr(w, "image.yaml:3:3: env `API_TOKEN` looks like a secret, and its value is stored in the image "
			  "config for anyone who pulls the image; pass secrets at run time, or add the comment "
			  "`# imagespec: not-secret` on this line if it is none"),
	   "env API_TOKEN: a warning at its line, saying how to silence it");
	ok(w && strstr(w, ":4:3: env `aws_secret_access_key`") && strstr(w, ":5:3: env `DB_PASSWORD`") &&
		   strstr(w, ":6:3: env `SIGNING_KEY`"),
	   "... and for a lower-case secret name, PASSWORD and a _KEY suffix");
	ok(w && !strstr(w, "GPG_KEY_ID") && !strstr(w, "GITHUB_TOKEN_NAME"),
	   "`# imagespec: not-secret` on the key's line silences it");
	ok(w && !strstr(w, "KEY_FILE") && !strstr(w, "MONKEY") && !strstr(w, "PATH"), "other names draw nothing");
	ok(w && !strstr(w, "EMPTY_SECRET") && !strstr(w, "OLD_TOKEN"), "an empty value or a removal draws nothing");
	ok(w && !strstr(w, "abc123") && !strstr(w, "xyz"), "values are never quoted");
	free(w);
	rmdir(dir);
}

static void test_many_errors(void)
{
	const char *doc =
		"base: scratch\n"
		"files:\n"
		"  - src: ../x\n"
		"    dest: rel\n"
		"    Mode: \"0644\"\n"
		"cmd: x\n"
		"tags: [\"a b\"]\n";
	char *m = errors(doc);
	ok(m != NULL, "several errors");
	if (!m)
		return;
	const char *want =
		"image.yaml:3:10: `src` `../x` leaves the spec's directory\n"
		"image.yaml:4:11: `dest` must be an absolute path, not `rel`\n"
		"image.yaml:5:5: unknown key `Mode` in a `files` entry; did you mean `mode`?\n"
		"image.yaml:6:6: `cmd` must be a list of strings, e.g. `[\"sh\", \"-c\", \"...\"]`, not a string\n"
		"image.yaml:7:8: tag `a b` is not valid (up to 128 letters, digits, `_`, `.` and `-`, not "
		"starting with `.` or `-`)";
	is_str(m, want, "every error, in file order, with line:col");
	free(m);
}

static void test_files_and_stdin(void)
{
	char dir[] = "/tmp/ims-spec-XXXXXX";
	ok(mkdtemp(dir) != NULL, "temp dir");
	char path[256];
	snprintf(path, sizeof(path), "%s/image.yaml", dir);
	FILE *f = fopen(path, "w");
	fputs("base: scratch\nuser: x\nuser: y\n", f);
	fclose(f);
	ims_spec_model *m = NULL;
	ims_error *err = NULL;
	ok(ims_spec_model_parse(&m, path, NULL, 0, NULL, NULL, &err) < 0 && err &&
		   !strncmp(err->message, path, strlen(path)),
	   "errors from a file name the file");
	ims_error_free(err);
	err = NULL;
	f = fopen(path, "w");
	fputs("base: scratch\n", f);
	fclose(f);
	ok(ims_spec_model_parse(&m, path, NULL, 0, NULL, NULL, &err) == 0 && m && !strcmp(m->dir, dir),
	   "dir is the spec file's directory");
	ims_spec_model_free(m);
	unlink(path);
	rmdir(dir);

	err = NULL;
	const char *doc = "base: scratch\nbogus: 1\n";
	ok(ims_spec_model_parse(&m, "-", doc, strlen(doc), "/x", NULL, &err) < 0 && err &&
		   !strncmp(err->message, "<stdin>:2:1: ", 13),
	   "stdin is shown as <stdin>");
	ims_error_free(err);
	err = NULL;
	/* one loader for the library and the CLI: a spec that cannot be read
	 * is a usage problem (exit 2), with a hint */
	ok(ims_spec_model_parse(&m, "/nonexistent/image.yaml", NULL, 0, NULL, NULL, &err) == IMS_EINVALID && err &&
		   strstr(err->message, "/nonexistent/image.yaml") && err->hint && strstr(err->hint, "image.yaml"),
	   "missing file: IMS_EINVALID naming it, with a hint");
	ims_error_free(err);
}

int main(void)
{
	test_full();
	test_defaults_and_json();
	test_syntax();
	test_keys();
	test_types();
	test_healthcheck();
	test_paths();
	test_control();
	test_refs_and_digests();
	test_shapes();
	test_subst();
	test_platform_subst();
	test_secrets();
	test_secret_warnings();
	test_many_errors();
	test_files_and_stdin();
	return tap_done();
}
