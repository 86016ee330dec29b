/* Unit tests for the credential store (src/auth/dockerconfig.c, helper.c,
 * login.c): config.json parsing and key matching, precedence, the
 * REGISTRY_AUTH_FILE fallback, credential helpers (test helpers written
 * into a temp dir put first on PATH), login and logout. Every error and
 * warning is kept and checked for the canary secrets at the end. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth_int.h"
#include "auth/credstore_int.h"
#include "digest/base64.h"
#include "json/json.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/xalloc.h"
#include "tap.h"

#define CANARY "CANARY-"

static char *tmp;    /* the test's private directory */
static char *dc;     /* $DOCKER_CONFIG */
static char *config; /* $DOCKER_CONFIG/config.json */

/* ---- bookkeeping: no message may carry a canary ---- */

static char **messages;
static size_t nmessages, capmessages;

static void keep(const char *kind, const char *m)
{
	messages = xgrow(messages, &capmessages, nmessages + 1, sizeof(*messages));
	messages[nmessages++] = xstrdup(m ? m : "");
	printf("# %s: %s\n", kind, m ? m : "");
}

static void keep_error(const ims_error *e)
{
	if (!e)
		return;
	keep("error", e->message);
	if (e->hint)
		keep("hint", e->hint);
}

static char *last_warning;

static void on_warn(void *ud, const char *msg)
{
	(void)ud;
	keep("warning", msg);
	free(last_warning);
	last_warning = xstrdup(msg);
}

static bool has(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle);
}

/* ---- files ---- */

static char *at(const char *rel)
{
	return ims_path_join(tmp, rel);
}

static void put(const char *path, const char *text, mode_t mode)
{
	ims_error *e = NULL;
	_cleanup_free_ char *dir = ims_path_dirname(path);
	if (ims_mkdir_p(dir, 0700, &e) < 0 || ims_write_file_atomic(path, text, strlen(text), mode, &e) < 0) {
		printf("# cannot write %s: %s\n", path, e->message);
		ims_error_free(e);
		abort();
	}
}

static void put_config(const char *text)
{
	put(config, text, 0600);
}

static char *slurp(const char *path)
{
	char *data = NULL;
	ims_error *e = NULL;
	if (ims_read_file(path, 16 << 20, &data, NULL, &e) < 0) {
		ims_error_free(e);
		return NULL;
	}
	return data;
}

static ims_json *load_json(const char *path)
{
	_cleanup_free_ char *data = slurp(path);
	ims_json *j = NULL;
	ims_error *e = NULL;
	if (!data || ims_json_parse(&j, data, strlen(data), NULL, &e) < 0) {
		ims_error_free(e);
		return NULL;
	}
	return j;
}

static char *b64(const char *s, size_t n)
{
	return ims_base64_encode(IMS_BASE64_STD, s, n);
}

/* ---- lookups ---- */

static int look(const char *registry, ims_credentials *c, ims_error **keep_err)
{
	ims_error *e = NULL;
	free(last_warning);
	last_warning = NULL;
	int r = ims_credstore_lookup(registry, c, on_warn, NULL, &e);
	keep_error(e);
	if (keep_err)
		*keep_err = e;
	else
		ims_error_free(e);
	return r;
}

/* The user a lookup gives, or "-" for anonymous, or "!" for an error. */
static char *user_for(const char *registry)
{
	ims_credentials c;
	if (look(registry, &c, NULL) < 0)
		return xstrdup("!");
	char *u = xstrdup(ims_auth__anonymous(&c) ? "-" : c.username ? c.username : "(none)");
	ims_credentials_dispose(&c);
	return u;
}

#define is_user(reg, want, ...)                \
	do {                                   \
		char *_u = user_for(reg);      \
		is_str(_u, want, __VA_ARGS__); \
		free(_u);                      \
	} while (0)

/* ---- test helpers ---- */

static const char helper_py[] =
	"import json, os, sys\n"
	"d = os.environ['IMS_TEST_DIR']\n"
	"db = os.path.join(d, os.path.basename(sys.argv[0]) + '.json')\n"
	"data = json.load(open(db)) if os.path.exists(db) else {}\n"
	"verb = sys.argv[1]\n"
	"raw = sys.stdin.read()\n"
	"with open(os.path.join(d, 'helper.log'), 'a') as f:\n"
	"    f.write('%s %d %s\\n' % (verb, len(sys.argv), json.loads(raw)['ServerURL'] if verb == 'store' else raw))\n"
	"if verb == 'get':\n"
	"    if raw not in data:\n"
	"        print('credentials not found in native keychain'); sys.exit(1)\n"
	"    print(json.dumps({'ServerURL': raw, 'Username': data[raw][0], 'Secret': data[raw][1]}))\n"
	"elif verb == 'store':\n"
	"    c = json.loads(raw)\n"
	"    if sorted(c) != ['Secret', 'ServerURL', 'Username']: sys.exit(3)\n"
	"    data[c['ServerURL']] = [c['Username'], c['Secret']]\n"
	"    json.dump(data, open(db, 'w'))\n"
	"elif verb == 'erase':\n"
	"    if raw not in data:\n"
	"        print('credentials not found in native keychain'); sys.exit(1)\n"
	"    del data[raw]\n"
	"    json.dump(data, open(db, 'w'))\n"
	"else:\n"
	"    sys.exit(2)\n";

static void helper(const char *name, const char *shebang, const char *body)
{
	_cleanup_free_ char *rel = xasprintf("bin/docker-credential-%s", name), *path = at(rel);
	_cleanup_free_ char *text = xasprintf("#!%s\n%s", shebang, body);
	put(path, text, 0755);
}

static void sh_helper(const char *name, const char *body)
{
	helper(name, "/bin/sh", body);
}

static void write_helpers(void)
{
	const char *py = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "/usr/bin/env python3";
	helper("test", py, helper_py);
	helper("test2", py, helper_py);
	sh_helper("hang",
		  "echo $$ > \"$IMS_TEST_DIR/hang.pid\"\n"
		  "sleep 30 &\n"
		  "echo $! > \"$IMS_TEST_DIR/hang.child\"\n"
		  "wait\n");
	sh_helper("big", "head -c 1048576 /dev/zero | tr '\\0' a\n");
	sh_helper("leak",
		  "cat >/dev/null\n"
		  "printf '{\"ServerURL\":\"leak.example.com\",\"Username\":\"u\",\"Secret\":\"" CANARY
		  "leak\"}'\n"
		  "echo " CANARY
		  "stderr >&2\n"
		  "exit 1\n");
	sh_helper("garbage", "echo 'not json " CANARY "garbage'\n");
	sh_helper("other",
		  "printf '{\"ServerURL\":\"https://evil.example.net\",\"Username\":\"u\",\"Secret\":\"s\"}'\n");
	sh_helper("extra",
		  "printf '{\"ServerURL\":\"x.example.com\",\"Username\":\"u\",\"Secret\":\"s\",\"Extra\":1}'\n");
	sh_helper("token", "printf '{\"ServerURL\":\"x.example.com\",\"Username\":\"<token>\",\"Secret\":\"" CANARY
			   "refresh\"}'\n");
	sh_helper("gcloud", "printf '{\"Username\":\"_dcgcloud_token\",\"Secret\":\"" CANARY "gtoken\"}'\n");
	sh_helper("signal", "kill -9 $$\n");
	sh_helper("failstore", "exit 3\n");
	sh_helper("closer", "exec 0<&-\nexit 0\n");
	sh_helper("empty", "exit 0\n");
	_cleanup_free_ char *noexec = at("bin/docker-credential-noexec");
	put(noexec, "#!/bin/sh\nexit 0\n", 0644);
}

static void store_reset(void)
{
	_cleanup_free_ char *a = at("docker-credential-test.json"), *b = at("docker-credential-test2.json"),
			    *l = at("helper.log");
	unlink(a);
	unlink(b);
	unlink(l);
}

static void store_put(const char *helper_name, const char *json)
{
	_cleanup_free_ char *rel = xasprintf("docker-credential-%s.json", helper_name), *p = at(rel);
	put(p, json, 0600);
}

/* ---- registry names ---- */

static void test_names(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "docker.io", "docker.io" },
		{ "index.docker.io", "docker.io" },
		{ "registry-1.docker.io", "docker.io" },
		{ "https://index.docker.io/v1/", "docker.io" },
		{ "http://registry-1.docker.io", "docker.io" },
		{ "localhost:5000", "localhost:5000" },
		{ "https://Registry.Example.COM/v2/", "registry.example.com" },
		{ "registry.example.com:443", "registry.example.com:443" },
		{ "[::1]:5000", "[::1]:5000" },
		{ "ghcr.io/owner/repo", "ghcr.io" },
		{ "", NULL },
		{ "https://", NULL },
		{ "user@host", NULL },
		{ "host:0", NULL },
		{ "host:99999", NULL },
		{ "host:12a", NULL },
		{ "a b", NULL },
		{ "[::1", NULL },
		{ ":5000", NULL },
	};
	for (size_t i = 0; i < IMS_ARRAY_SIZE(cases); i++) {
		char *got = ims_credstore_registry(cases[i].in);
		is_str(got, cases[i].want, "registry name `%s`", cases[i].in);
		free(got);
	}
	char *u = ims_credstore_server_url("docker.io");
	is_str(u, "https://index.docker.io/v1/", "Docker Hub's server URL for helpers");
	free(u);
	u = ims_credstore_server_url("localhost:5000");
	is_str(u, "localhost:5000", "other registries: the bare host:port");
	free(u);
}

/* ---- config.json ---- */

static void test_config_auths(void)
{
	_cleanup_free_ char *a1 = b64("alice:" CANARY "pw1", strlen("alice:" CANARY "pw1"));
	_cleanup_free_ char *a3 = b64("carol:", 6);
	_cleanup_free_ char *text = xasprintf(
		"{\"psFormat\":\"table\",\"auths\":{"
		"\"registry.example.com\":{\"auth\":\"%s\"},"
		"\"u.example.com\":{\"username\":\"bob\",\"password\":\"" CANARY
		"pw2\"},"
		"\"t.example.com\":{\"auth\":\"%s\",\"identitytoken\":\"" CANARY
		"idtok\"},"
		"\"https://scheme.example.com/v2/\":{\"username\":\"dan\",\"password\":\"p\"},"
		"\"host.example.com:443\":{\"username\":\"port443\",\"password\":\"p\"},"
		"\"empty.example.com\":{}"
		"}}",
		a1, a3);
	put_config(text);

	ims_credentials c;
	is_int(look("registry.example.com", &c, NULL), 0, "auth lookup succeeds");
	is_str(c.username, "alice", "auth: the user from base64");
	is_str(c.password, CANARY "pw1", "auth: the password from base64");
	_cleanup_free_ char *src = xasprintf("`%s`", config);
	is_str(c.source, src, "the source names config.json");
	ims_credentials_dispose(&c);

	is_int(look("u.example.com", &c, NULL), 0, "username/password lookup");
	is_str(c.username, "bob", "username field");
	is_str(c.password, CANARY "pw2", "password field");
	ims_credentials_dispose(&c);

	is_int(look("t.example.com", &c, NULL), 0, "identitytoken lookup");
	is_str(c.identity_token, CANARY "idtok", "identitytoken becomes identity_token");
	is_str(c.username, "carol", "with the user of `auth`");
	ok(c.password == NULL, "an empty password stays unset");
	ims_credentials_dispose(&c);

	is_user("scheme.example.com", "dan", "a key with scheme and path matches its host");
	is_user("https://scheme.example.com", "dan", "so does a registry given as a URL");
	is_user("host.example.com:443", "port443", "host:443 matches host:443");
	is_user("host.example.com", "-", "host does not match host:443");
	is_user("Registry.Example.Com", "alice", "host names are compared without case");
	is_user("empty.example.com", "-", "an empty entry is anonymous");

	/* Exact matches only (item 68). */
	is_user("registry.example.com.evil.net", "-", "a suffixed host gets nothing");
	is_user("evil.registry.example.com", "-", "a prefixed host gets nothing");
	is_user("registry.example.com:5000", "-", "another port gets nothing");
	is_user("registry.example", "-", "a shorter name gets nothing");
	is_user("example.com", "-", "the parent domain gets nothing");
}

static void test_config_hub(void)
{
	static const char *const keys[] = { "https://index.docker.io/v1/", "index.docker.io", "registry-1.docker.io",
					    "docker.io" };
	static const char *const names[] = { "docker.io", "index.docker.io", "registry-1.docker.io",
					     "https://index.docker.io/v1/" };
	for (size_t k = 0; k < IMS_ARRAY_SIZE(keys); k++) {
		_cleanup_free_ char *text = xasprintf("{\"auths\":{\"%s\":{\"username\":\"hub\",\"password\":\"p\"}}}",
						      keys[k]);
		put_config(text);
		for (size_t n = 0; n < IMS_ARRAY_SIZE(names); n++)
			is_user(names[n], "hub", "hub key `%s` answers `%s`", keys[k], names[n]);
	}
	/* docker's own key wins over an alias, wherever it stands. */
	put_config(
		"{\"auths\":{\"docker.io\":{\"username\":\"alias\",\"password\":\"p\"},"
		"\"https://index.docker.io/v1/\":{\"username\":\"canonical\",\"password\":\"p\"}}}");
	is_user("docker.io", "canonical", "the canonical hub key wins over an alias");
	put_config(
		"{\"auths\":{\"index.docker.io\":{\"username\":\"first\",\"password\":\"p\"},"
		"\"docker.io\":{\"username\":\"second\",\"password\":\"p\"}}}");
	is_user("docker.io", "first", "among aliases, the first in the file");
	is_user("hub.docker.com", "-", "hub.docker.com is not the registry");
}

static void bad_auth(const char *value, size_t len, const char *what, const char *expect)
{
	_cleanup_free_ char *text = xasprintf("{\"auths\":{\"bad.example.com\":{\"auth\":\"%.*s\"}}}", (int)len, value);
	put_config(text);
	ims_credentials c;
	ims_error *e = NULL;
	is_int(look("bad.example.com", &c, &e), IMS_EINVALID, "%s: refused", what);
	ok(e && has(e->message, config) && has(e->message, "`bad.example.com`") && has(e->message, expect),
	   "%s: the error names the file, the key and the problem", what);
	ok(e && !has(e->message, value), "%s: the error does not show the value", what);
	ims_error_free(e);
	ok(ims_auth__anonymous(&c), "%s: nothing is returned", what);
}

static void test_config_bad(void)
{
	bad_auth(CANARY "b64!!", strlen(CANARY "b64!!"), "bad base64", "not valid base64");
	_cleanup_free_ char *nocolon = b64(CANARY "nocolon", strlen(CANARY "nocolon"));
	bad_auth(nocolon, strlen(nocolon), "no colon", "user:password");
	_cleanup_free_ char *nouser = b64(":" CANARY "x", strlen(":" CANARY "x"));
	bad_auth(nouser, strlen(nouser), "empty user", "user:password");
	char *big = xmalloc(IMS_CRED_AUTH_MAX + 5);
	memset(big, 'A', IMS_CRED_AUTH_MAX + 4);
	big[IMS_CRED_AUTH_MAX + 4] = '\0';
	bad_auth(big, strlen(big), "oversize auth", "larger than");
	free(big);

	/* docker/cli trims NUL padding from the password. */
	_cleanup_free_ char *padded = b64("dave:pw\0\0\0", 10);
	_cleanup_free_ char *text = xasprintf("{\"auths\":{\"pad.example.com\":{\"auth\":\"%s\"}}}", padded);
	put_config(text);
	ims_credentials c;
	is_int(look("pad.example.com", &c, NULL), 0, "NUL-padded auth accepted");
	is_str(c.password, "pw", "NUL padding trimmed");
	ims_credentials_dispose(&c);
	_cleanup_free_ char *unpadded = xstrdup(padded);
	unpadded[strcspn(unpadded, "=")] = '\0';
	free(text);
	text = xasprintf("{\"auths\":{\"pad.example.com\":{\"auth\":\"%s\"}}}", unpadded);
	put_config(text);
	is_user("pad.example.com", "dave", "base64 without `=` padding accepted");

	/* The whole file. */
	put_config("{\"auths\": {\"x\": " CANARY "unparsed");
	ims_error *e = NULL;
	ok(look("x.example.com", &c, &e) < 0 && e && has(e->message, config), "malformed config.json: error naming it");
	ims_error_free(e);
	put_config("{\"auths\":[\"" CANARY "array\"]}");
	is_int(look("x.example.com", &c, NULL), IMS_EINVALID, "`auths` that is not an object is refused");
	put_config("{\"auths\":{\"s.example.com\":{\"auth\":7}}}");
	is_int(look("s.example.com", &c, NULL), IMS_EINVALID, "a non-string `auth` is refused");
	char *huge = xmalloc(IMS_CRED_FILE_MAX + 64);
	memset(huge, ' ', IMS_CRED_FILE_MAX + 63);
	memcpy(huge, "{\"auths\":{}}", 12);
	huge[IMS_CRED_FILE_MAX + 63] = '\0';
	put_config(huge);
	free(huge);
	e = NULL;
	ok(look("x.example.com", &c, &e) < 0 && e && has(e->message, config) && has(e->message, "limit"),
	   "a config.json over 1 MiB is refused, naming it");
	ims_error_free(e);

	/* A FIFO in its place must neither hang nor be read (item 70). */
	unlink(config);
	ok(mkfifo(config, 0600) == 0, "mkfifo config.json");
	time_t t0 = time(NULL);
	is_int(look("x.example.com", &c, NULL), IMS_EINVALID, "a FIFO config.json is refused");
	ok(time(NULL) - t0 < 20, "without waiting for a writer");
	unlink(config);
	is_user("x.example.com", "-", "no config.json at all: anonymous");
}

/* ---- precedence and the fallback ---- */

static void test_precedence(void)
{
	_cleanup_free_ char *fa = b64("fileuser:pw", 11);
	_cleanup_free_ char *text = xasprintf(
		"{\"credHelpers\":{\"p.example.com\":\"test\"},\"credsStore\":\"test2\","
		"\"auths\":{\"p.example.com\":{\"auth\":\"%s\"},\"q.example.com\":{\"auth\":\"%s\"},"
		"\"r.example.com\":{\"auth\":\"%s\"}}}",
		fa, fa, fa);
	put_config(text);
	store_reset();
	store_put("test", "{\"p.example.com\":[\"helperuser\",\"" CANARY
			  "hs\"],"
			  "\"https://index.docker.io/v1/\":[\"hubuser\",\"" CANARY "hub\"]}");
	store_put("test2", "{\"q.example.com\":[\"storeuser\",\"" CANARY "ss\"]}");

	ims_credentials c;
	is_int(look("p.example.com", &c, NULL), 0, "credHelpers lookup");
	is_str(c.username, "helperuser", "credHelpers[host] wins over credsStore and auths");
	is_str(c.password, CANARY "hs", "the helper's secret");
	is_str(c.source, "credential helper `docker-credential-test`", "the source names the helper");
	ims_credentials_dispose(&c);
	is_user("q.example.com", "storeuser", "credsStore wins over auths");
	is_user("r.example.com", "-", "credsStore saying not found: anonymous, not the file");

	/* No helpers: the file. */
	free(text);
	text = xasprintf("{\"auths\":{\"p.example.com\":{\"auth\":\"%s\"}}}", fa);
	put_config(text);
	is_user("p.example.com", "fileuser", "without helpers, auths");

	/* Docker Hub through a helper gets docker's server URL. */
	put_config("{\"credHelpers\":{\"docker.io\":\"test\"}}");
	is_user("registry-1.docker.io", "hubuser", "credHelpers key docker.io answers registry-1.docker.io");
	_cleanup_free_ char *logp = at("helper.log");
	_cleanup_free_ char *log = slurp(logp);
	ok(has(log, "get 2 https://index.docker.io/v1/\n"), "the helper got `get` and Docker Hub's server URL");
	ok(has(log, "get 2 p.example.com\n"), "and the bare host for others");
}

static void test_authfile(void)
{
	_cleanup_free_ char *af = at("auth.json");
	put(af,
	    "{\"auths\":{\"podman.example.com\":{\"username\":\"pod\",\"password\":\"p\"},"
	    "\"both.example.com\":{\"username\":\"fromauthfile\",\"password\":\"p\"},"
	    "\"ns.example.com/team\":{\"username\":\"team\",\"password\":\"p\"},"
	    "\"https://legacy.example.com/v1/\":{\"username\":\"legacy\",\"password\":\"p\"}},"
	    "\"credHelpers\":{\"h.example.com\":\"test\"}}",
	    0600);
	put_config("{\"auths\":{\"both.example.com\":{\"username\":\"fromconfig\",\"password\":\"p\"}}}");
	setenv("REGISTRY_AUTH_FILE", af, 1);
	ims_credentials c;
	is_int(look("podman.example.com", &c, NULL), 0, "REGISTRY_AUTH_FILE lookup");
	is_str(c.username, "pod", "REGISTRY_AUTH_FILE answers what config.json does not");
	_cleanup_free_ char *src = xasprintf("`%s`", af);
	is_str(c.source, src, "and is named as the source");
	ims_credentials_dispose(&c);
	is_user("both.example.com", "fromconfig", "config.json comes first");
	is_user("ns.example.com", "-", "a namespaced auth.json key is not used for the whole host");
	is_user("legacy.example.com", "legacy", "a legacy URL key is its host");
	store_reset();
	store_put("test", "{\"h.example.com\":[\"nope\",\"x\"]}");
	is_user("h.example.com", "-", "its credHelpers are not used");

	/* A credsStore helper that is missing. */
	put_config("{\"credsStore\":\"nosuch\"}");
	is_user("podman.example.com", "pod", "a missing credsStore helper leaves REGISTRY_AUTH_FILE");
	ok(last_warning == NULL, "and says nothing when that answered");
	unsetenv("REGISTRY_AUTH_FILE");
	is_user("podman.example.com", "-", "a missing credsStore helper: anonymous");
	is_str(last_warning,
	       "credential helper `docker-credential-nosuch` is not installed; continuing without credentials for "
	       "`podman.example.com`",
	       "with a warning");
	put_config("{\"credsStore\":\"noexec\"}");
	is_user("podman.example.com", "-", "a helper that is not executable is not installed");

	put_config("{\"credHelpers\":{\"m.example.com\":\"nosuch\"}}");
	ims_error *e = NULL;
	is_int(look("m.example.com", &c, &e), IMS_EGENERIC, "a missing credHelpers helper is an error");
	ok(e && has(e->message, "docker-credential-nosuch") && has(e->message, "m.example.com"),
	   "naming the helper and the registry");
	ims_error_free(e);
	is_user("other.example.com", "-", "other hosts are not affected");

	put_config("{\"credsStore\":\"\"}");
	is_user("m.example.com", "-", "an empty credsStore means none");
	put_config("{\"credsStore\":\"../x\"}");
	e = NULL;
	is_int(look("m.example.com", &c, &e), IMS_EINVALID, "credsStore `../x` is refused");
	ok(e && has(e->message, "credsStore") && has(e->message, config), "naming the field and the file");
	ims_error_free(e);
	put_config("{\"credHelpers\":{\"m.example.com\":\"a b\"}}");
	is_int(look("m.example.com", &c, NULL), IMS_EINVALID, "credHelpers `a b` is refused");
	is_int(look("not a registry", &c, NULL), IMS_EINVALID, "a bad registry name is refused");
}

/* ---- helpers, directly ---- */

static int hget(const char *name, const char *url, ims_credentials *c, bool *found, ims_error **keep_err)
{
	ims_error *e = NULL;
	int r = ims_cred_helper_get(name, url, c, found, &e);
	keep_error(e);
	if (keep_err)
		*keep_err = e;
	else
		ims_error_free(e);
	return r;
}

/* Dead, or a zombie nobody reaped yet. */
static bool pid_dead(const char *pidfile)
{
	_cleanup_free_ char *p = at(pidfile);
	_cleanup_free_ char *s = slurp(p);
	if (!s)
		return false;
	long pid = atol(s);
	_cleanup_free_ char *stat = xasprintf("/proc/%ld/stat", pid);
	_cleanup_free_ char *st = slurp(stat);
	if (!st)
		return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
	const char *rp = strrchr(st, ')');
	return rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X');
}

static void helper_fails(const char *name, const char *expect, const char *what)
{
	ims_credentials c;
	bool found = true;
	ims_error *e = NULL;
	int r = hget(name, "x.example.com", &c, &found, &e);
	ok(r < 0 && e && e->code == IMS_EGENERIC, "%s: an error", what);
	ok(e && has(e->message, expect), "%s: says `%s`", what, expect);
	ok(e && has(e->message, name), "%s: names the helper", what);
	ok(!found && ims_auth__anonymous(&c), "%s: no credentials", what);
	ims_error_free(e);
}

static void test_helpers(void)
{
	store_reset();
	ims_error *e = NULL;
	is_int(ims_cred_helper_store("test", "s.example.com", "sam", CANARY "stored", &e), 0, "helper store");
	keep_error(e);
	ims_error_free(e);
	e = NULL;
	ims_credentials c;
	bool found = false;
	is_int(hget("test", "s.example.com", &c, &found, NULL), 0, "helper get");
	ok(found, "found");
	is_str(c.username, "sam", "the stored user");
	is_str(c.password, CANARY "stored", "the stored secret");
	ims_credentials_dispose(&c);
	is_int(ims_cred_helper_erase("test", "s.example.com", &e), 0, "helper erase");
	is_int(hget("test", "s.example.com", &c, &found, NULL), 0, "get after erase");
	ok(!found && ims_auth__anonymous(&c), "not found after erase");
	is_int(ims_cred_helper_erase("test", "s.example.com", &e), 0, "erasing what is not there is fine");
	_cleanup_free_ char *logp = at("helper.log");
	_cleanup_free_ char *log = slurp(logp);
	ok(has(log, "store 2 s.example.com\n"), "store got {ServerURL,Username,Secret} and one argument");

	is_int(hget("token", "x.example.com", &c, &found, NULL), 0, "identity-token helper");
	is_str(c.identity_token, CANARY "refresh", "Username <token>: the secret is an identity token");
	ok(c.username == NULL && c.password == NULL, "and no Basic pair");
	ims_credentials_dispose(&c);
	is_int(hget("gcloud", "gcr.io", &c, &found, NULL), 0, "an answer without ServerURL is accepted");
	is_str(c.username, "_dcgcloud_token", "its user");
	ims_credentials_dispose(&c);

	ims_cred_helper__set_timeout_ms(300);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	helper_fails("hang", "timed out", "a hanging helper");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* The helper sleeps 30 s: well under that means it was stopped, on a
	 * loaded machine too. */
	ok(secs < 20, "is stopped after the timeout (%.2f s)", secs);
	/* The group was sent SIGKILL; wait (up to 20 s) for the kernel to finish
	 * them, rather than guessing how long that takes. */
	for (int i = 0; i < 2000 && !(pid_dead("hang.pid") && pid_dead("hang.child")); i++)
		usleep(10 * 1000);
	ok(pid_dead("hang.pid"), "the helper is killed");
	ok(pid_dead("hang.child"), "and so is the child it left in its group");
	ims_cred_helper__set_timeout_ms(0);

	helper_fails("big", "more than", "a helper printing 1 MiB");
	helper_fails("leak", "failed (exit 1)", "a helper printing a secret, then exit 1");
	helper_fails("garbage", "not JSON", "a helper printing garbage");
	helper_fails("empty", "not JSON", "a helper printing nothing");
	helper_fails("other", "another registry", "a helper answering for another registry");
	helper_fails("extra", "{ServerURL, Username, Secret}", "a helper answering with extra fields");
	helper_fails("signal", "signal 9", "a helper killed by a signal");
	helper_fails("noexec", "not installed", "a helper that is not executable");
	helper_fails("nosuch", "not installed", "a helper that is not there");

	e = NULL;
	ok(ims_cred_helper_store("failstore", "x.example.com", "u", CANARY "fs", &e) < 0 && e &&
		   has(e->message, "failed (exit 3)"),
	   "a failing store is an error");
	keep_error(e);
	ims_error_free(e);
	/* A helper that closes stdin unread while a big secret is written
	 * must give EPIPE, never a SIGPIPE that kills the process. */
	char *sec = xmalloc(60000);
	memset(sec, 's', 59999);
	sec[59999] = '\0';
	e = NULL;
	is_int(ims_cred_helper_store("closer", "x.example.com", "u", sec, &e), 0, "a helper that closes stdin");
	keep_error(e);
	ims_error_free(e);
	free(sec);

	static const char *const bad[] = { "../x", "a b", "", ".x", "-x", "a/b", "a;b", "$(id)", "x\ny" };
	for (size_t i = 0; i < IMS_ARRAY_SIZE(bad); i++) {
		_cleanup_free_ char *shown = ims_cred__display(bad[i]);
		ok(!ims_cred__helper_name_valid(bad[i]), "helper name refused: `%s`", shown);
		ok(hget(bad[i], "x.example.com", &c, &found, NULL) == IMS_EINVALID, "and not run: `%s`", shown);
	}
	ok(ims_cred__helper_name_valid("ecr-login") && ims_cred__helper_name_valid("a.b_c-D9"), "helper names allowed");

	/* Relative PATH entries are skipped: a build context is no place to
	 * find credential programs in. */
	const char *old = getenv("PATH");
	_cleanup_free_ char *saved = xstrdup(old ? old : "");
	_cleanup_free_ char *cwd = getcwd(NULL, 0);
	ok(chdir(tmp) == 0, "chdir to the temp dir");
	setenv("PATH", "bin:/usr/bin:/bin", 1);
	char *found_rel = ims_cred__helper_find("test");
	ok(found_rel == NULL, "a helper in a relative PATH entry is not found");
	free(found_rel);
	setenv("PATH", saved, 1);
	ok(cwd && chdir(cwd) == 0, "chdir back");
}

/* ---- login and logout ---- */

static int do_login(const char *reg, const char *user, const char *pw)
{
	ims_error *e = NULL;
	int r = ims_credstore_login(reg, user, pw, &e);
	keep_error(e);
	ims_error_free(e);
	return r;
}

static int do_logout(const char *reg)
{
	ims_error *e = NULL;
	int r = ims_credstore_logout(reg, &e);
	keep_error(e);
	ims_error_free(e);
	return r;
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

static size_t entries_in(const char *dir)
{
	DIR *d = opendir(dir);
	size_t n = 0;
	for (struct dirent *de; d && (de = readdir(d));)
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void test_login(void)
{
	/* A fresh directory. */
	_cleanup_free_ char *fresh = at("fresh/docker");
	setenv("DOCKER_CONFIG", fresh, 1);
	_cleanup_free_ char *fresh_cfg = ims_path_join(fresh, "config.json");
	is_int(do_login("registry.example.com", "alice", CANARY "login"), 0, "login into a missing config dir");
	is_int(mode_of(fresh), 0700, "the directory is created 0700");
	is_int(mode_of(fresh_cfg), 0600, "config.json is created 0600");
	_cleanup_free_ char *raw = slurp(fresh_cfg);
	ok(raw && !has(raw, CANARY), "the file holds no plain-text password");
	is_user("registry.example.com", "alice", "login, then lookup");
	setenv("DOCKER_CONFIG", dc, 1);

	/* Existing keys are kept; aliases of the host go. */
	put_config(
		"{\"psFormat\":\"table {{.ID}}\",\"proxies\":{\"default\":{\"httpProxy\":\"http://p:3128\"}},"
		"\"credHelpers\":{\"gcr.io\":\"gcloud\"},"
		"\"auths\":{\"other.example.com\":{\"auth\":\"b3RoZXI6cHc=\"},"
		"\"https://registry.example.com/v1/\":{\"auth\":\"b2xkOm9sZA==\"}}}");
	is_int(do_login("registry.example.com", "alice", CANARY "login2"), 0, "login into an existing config");
	ims_json *j = load_json(config);
	ims_json *auths = ims_json_get(j, "auths");
	is_str(ims_json_get_string(j, "psFormat"), "table {{.ID}}", "an unknown top-level field is kept");
	ok(ims_json_get(ims_json_get(j, "proxies"), "default") != NULL, "a nested unknown field is kept");
	is_str(ims_json_get_string(ims_json_get(j, "credHelpers"), "gcr.io"), "gcloud", "credHelpers kept");
	ok(ims_json_get(auths, "other.example.com") != NULL, "other registries kept");
	ok(ims_json_get(auths, "https://registry.example.com/v1/") == NULL, "an alias of the host is replaced");
	_cleanup_free_ char *want = b64("alice:" CANARY "login2", strlen("alice:" CANARY "login2"));
	is_str(ims_json_get_string(ims_json_get(auths, "registry.example.com"), "auth"), want,
	       "auths[host].auth = base64(user:password)");
	ims_json_free(j);
	is_int(mode_of(config), 0600, "rewritten 0600");
	is_int(entries_in(dc), 1, "no temp file left beside it");

	is_int(do_login("https://index.docker.io/v1/", "hubby", "pw"), 0, "login to Docker Hub");
	j = load_json(config);
	ok(ims_json_get(ims_json_get(j, "auths"), "https://index.docker.io/v1/") != NULL,
	   "Docker Hub is keyed as docker writes it");
	ims_json_free(j);
	is_user("docker.io", "hubby", "and found as docker.io");

	is_int(do_login("registry.example.com", "a:b", "pw"), IMS_EINVALID, "a user with `:` is refused");
	is_int(do_login("registry.example.com", "alice", ""), IMS_EINVALID, "an empty password is refused");
	is_int(do_login("a b", "alice", "pw"), IMS_EINVALID, "a bad registry name is refused");

	/* Logout. */
	is_int(do_logout("registry.example.com"), 0, "logout");
	j = load_json(config);
	ok(ims_json_get(ims_json_get(j, "auths"), "registry.example.com") == NULL, "the entry is gone");
	ok(ims_json_get(ims_json_get(j, "auths"), "other.example.com") != NULL, "others stay");
	ims_json_free(j);
	is_user("registry.example.com", "-", "anonymous after logout");
	is_int(do_logout("registry.example.com"), 0, "logging out twice is fine");
	_cleanup_free_ char *none = at("none/docker");
	setenv("DOCKER_CONFIG", none, 1);
	is_int(do_logout("registry.example.com"), 0, "logout without a config.json");
	ok(!ims_path_exists(none), "creates nothing");
	setenv("DOCKER_CONFIG", dc, 1);

	/* Through a symlink, as dotfile managers keep it. */
	_cleanup_free_ char *real = at("dotfiles/config.json");
	put(real, "{\"auths\":{}}", 0600);
	unlink(config);
	ok(symlink(real, config) == 0, "config.json as a symlink");
	is_int(do_login("link.example.com", "lnk", "pw"), 0, "login through the symlink");
	struct stat st;
	ok(lstat(config, &st) == 0 && S_ISLNK(st.st_mode), "the link stays a link");
	_cleanup_free_ char *rt = slurp(real);
	ok(has(rt, "link.example.com"), "and its target is updated");
	unlink(config);
}

static void test_login_helper(void)
{
	store_reset();
	put_config("{\"credsStore\":\"test\",\"auths\":{\"h.example.com\":{\"auth\":\"b2xkOm9sZA==\"}}}");
	is_int(do_login("h.example.com", "helen", CANARY "viahelper"), 0, "login through credsStore");
	_cleanup_free_ char *raw = slurp(config);
	ok(raw && !has(raw, CANARY) && !has(raw, "b2xkOm9sZA=="), "config.json holds no secret, old or new");
	ims_json *j = load_json(config);
	ims_json *e = ims_json_get(ims_json_get(j, "auths"), "h.example.com");
	ok(e && e->type == IMS_JSON_OBJECT && e->n == 0, "docker's empty auths marker is written");
	ims_json_free(j);
	_cleanup_free_ char *dbp = at("docker-credential-test.json");
	_cleanup_free_ char *db = slurp(dbp);
	ok(has(db, "h.example.com") && has(db, CANARY "viahelper"), "the helper stored it");
	ims_credentials c;
	is_int(look("h.example.com", &c, NULL), 0, "lookup after helper login");
	is_str(c.password, CANARY "viahelper", "gives the helper's secret");
	ims_credentials_dispose(&c);

	put_config("{\"credsStore\":\"nosuch\",\"credHelpers\":{\"x.example.com\":\"test2\"}}");
	is_int(do_login("x.example.com", "xavier", "pw"), 0, "login through credHelpers[host]");
	_cleanup_free_ char *db2p = at("docker-credential-test2.json");
	_cleanup_free_ char *db2 = slurp(db2p);
	ok(has(db2, "xavier"), "credHelpers[host] wins over credsStore for login");
	ok(do_login("y.example.com", "y", "pw") < 0, "login with a missing credsStore helper fails");
	put_config("{\"credsStore\":\"failstore\"}");
	is_int(do_login("f.example.com", "f", CANARY "failed"), IMS_EGENERIC, "a failing helper store fails login");
	_cleanup_free_ char *after = slurp(config);
	ok(after && !has(after, "f.example.com"), "and writes no marker");

	put_config("{\"credsStore\":\"test\",\"auths\":{\"h.example.com\":{}}}");
	is_int(do_logout("h.example.com"), 0, "logout through the helper");
	free(db);
	db = slurp(dbp);
	ok(db && !has(db, "h.example.com"), "the helper erased it");
	j = load_json(config);
	ok(ims_json_get(ims_json_get(j, "auths"), "h.example.com") == NULL, "and the marker is gone");
	ims_json_free(j);
}

int main(void)
{
	char tmpl[] = "/tmp/ims-test-creds.XXXXXX";
	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		return 1;
	}
	tmp = xstrdup(tmpl);
	dc = at("dc");
	config = ims_path_join(dc, "config.json");
	setenv("DOCKER_CONFIG", dc, 1);
	setenv("IMS_TEST_DIR", tmp, 1);
	unsetenv("REGISTRY_AUTH_FILE");
	_cleanup_free_ char *bin = at("bin");
	const char *path = getenv("PATH");
	_cleanup_free_ char *newpath = xasprintf("%s:%s", bin, path && *path ? path : "/usr/bin:/bin");
	setenv("PATH", newpath, 1);
	write_helpers();

	test_names();
	test_config_auths();
	test_config_hub();
	test_config_bad();
	test_precedence();
	test_authfile();
	test_helpers();
	test_login();
	test_login_helper();

	bool clean = true;
	for (size_t i = 0; i < nmessages; i++) {
		if (has(messages[i], CANARY)) {
			printf("# leaked: %s\n", messages[i]);
			clean = false;
		}
	}
	ok(nmessages > 20, "messages were collected (%zu)", nmessages);
	ok(clean, "no error, hint or warning carries a secret");

	ims_error *e = NULL;
	ims_rm_rf(tmp, &e);
	ims_error_free(e);
	return tap_done();
}
