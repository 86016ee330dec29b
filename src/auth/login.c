/* `imagespec auth login|logout`: config.json edited as docker edits it.
 *
 * The file is read into a JSON tree and written back whole, so fields this
 * program does not know (psFormat, proxies, plugins...) survive. With a
 * helper configured for the registry (credHelpers, else credsStore) the
 * secret goes to the helper and the file keeps only docker's empty
 * `auths` marker; otherwise it holds base64(user:password), as docker's
 * does, in a 0600 file. */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "auth/auth_int.h"
#include "auth/credstore_int.h"
#include "digest/base64.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"

typedef struct {
	char *registry; /* host[:port] */
	char *path;     /* config.json */
	ims_json *cfg;  /* its tree (an empty object when it did not exist) */
	const char *helper;
	bool explicit_;
} session;

/* Ends a session: names the registry in an error, then frees. */
static int session_close(session *s, int r, const char *what, ims_error **err)
{
	if (r < 0 && s->registry)
		r = ims_error_wrap(err, "%s `%s`", what, s->registry);
	free(s->registry);
	free(s->path);
	ims_cred__json_free(s->cfg);
	return r;
}

/* Errors are left unwrapped; the callers prefix what they were doing. */
static int session_open(session *s, const char *registry, ims_error **err)
{
	memset(s, 0, sizeof(*s));
	if (!(s->registry = ims_credstore_registry(registry))) {
		_cleanup_free_ char *shown = ims_cred__display(registry ? registry : "");
		return ims_error_set(err, IMS_EINVALID, "`%s` is not a registry name", shown);
	}
	if (!(s->path = ims_cred__config_path()))
		return ims_error_set(err, IMS_EGENERIC, "neither DOCKER_CONFIG nor HOME is set");
	int r = ims_cred__file_load(s->path, &s->cfg, err);
	if (r == 0 && !s->cfg)
		s->cfg = ims_json_new_object();
	if (r == 0)
		r = ims_cred__helper_for(s->cfg, s->path, s->registry, &s->helper, &s->explicit_, err);
	return r;
}

/* Removes every `auths` key that names the registry (aliases included),
 * so that no stale secret stays behind under another spelling. Returns
 * how many were removed. */
static size_t remove_entries(ims_json *auths, const char *registry)
{
	size_t removed = 0;
	for (size_t i = 0; i < auths->n;) {
		_cleanup_free_ char *h = ims_credstore_registry(auths->k[i]);
		if (h && !strcmp(h, registry)) {
			/* The value may hold a secret: wipe it before the
			 * tree lets go of it. */
			ims_json *v = auths->v[i];
			auths->v[i] = ims_json_new_null();
			ims_cred__json_free(v);
			ims_json_remove(auths, auths->k[i]);
			removed++;
		} else {
			i++;
		}
	}
	return removed;
}

static ims_json *auths_of(ims_json *cfg, const char *path, int *r, ims_error **err)
{
	ims_json *auths = ims_json_get(cfg, "auths");
	if (!auths) {
		ims_json_set(cfg, "auths", ims_json_new_object());
		return ims_json_get(cfg, "auths");
	}
	if (auths->type != IMS_JSON_OBJECT) {
		*r = ims_error_set(err, IMS_EINVALID, "`%s`: `auths` must be an object", path);
		return NULL;
	}
	return auths;
}

/* Writes the tree back: through a symlink to its target (as docker's
 * Save does, so dotfile managers keep their link), to a new 0700
 * directory when there is none, atomically, mode 0600. */
static int save(const session *s, ims_error **err)
{
	_cleanup_free_ char *target = NULL;
	struct stat st;
	assert(s->path);
	if (lstat(s->path, &st) == 0 && S_ISLNK(st.st_mode)) {
		if (!(target = realpath(s->path, NULL)))
			return ims_error_sys(err, errno, IMS_EGENERIC, "resolve `%s`", s->path);
	} else {
		target = xstrdup(s->path);
	}
	_cleanup_free_ char *dir = ims_path_dirname(target);
	int r = ims_path_exists(dir) ? 0 : ims_mkdir_p(dir, 0700, err);
	if (r < 0)
		return r;
	size_t len = 0;
	char *data = ims_json_encode_pretty(s->cfg, &len);
	if (!data)
		return ims_error_set(err, IMS_EGENERIC, "encode `%s`", s->path);
	char *full = xasprintf("%s\n", data);
	explicit_bzero(data, len);
	free(data);
	r = ims_write_file_atomic(target, full, len + 1, 0600, err);
	explicit_bzero(full, len + 1);
	free(full);
	return r;
}

static int check_login_input(const char *username, const char *password, ims_error **err)
{
	if (!username || !*username)
		return ims_error_set(err, IMS_EINVALID, "a username is required");
	/* Basic auth cannot carry a colon in the user (RFC 7617), and
	 * docker's decodeAuth would split there. */
	if (strchr(username, ':'))
		return ims_error_set(err, IMS_EINVALID, "the username contains `:`");
	for (const char *p = username; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return ims_error_set(err, IMS_EINVALID, "the username contains a control character");
	if (!password || !*password)
		return ims_error_set(err, IMS_EINVALID, "the password is empty");
	if (strlen(password) > IMS_CRED_HELPER_OUT_MAX)
		return ims_error_set(err, IMS_EINVALID, "the password is longer than %d bytes",
				     IMS_CRED_HELPER_OUT_MAX);
	return 0;
}

/* The entry to write: empty when a helper keeps the secret (docker
 * records the registry anyway), else base64(user:password). */
static int login_entry(const session *s, const char *url, const char *username, const char *password, ims_json **out,
		       ims_error **err)
{
	if (s->helper) {
		int r = ims_cred_helper_store(s->helper, url, username, password, err);
		if (r < 0)
			return r;
		*out = ims_json_new_object();
		return 0;
	}
	size_t n = strlen(username) + 1 + strlen(password);
	char *pair = xasprintf("%s:%s", username, password);
	char *b64 = ims_base64_encode(IMS_BASE64_STD, pair, n);
	*out = ims_json_new_object();
	ims_json_set(*out, "auth", ims_json_new_string(b64));
	explicit_bzero(pair, n);
	free(pair);
	ims_auth__free_secret(b64);
	return 0;
}

int ims_credstore_login(const char *registry, const char *username, const char *password, ims_error **err)
{
	session s;
	_cleanup_free_ char *url = NULL;
	ims_json *auths = NULL, *entry = NULL;
	int r = session_open(&s, registry, err);
	if (r < 0 || (r = check_login_input(username, password, err)) < 0 ||
	    !(auths = auths_of(s.cfg, s.path, &r, err)))
		goto out;
	url = ims_credstore_server_url(s.registry);
	if ((r = login_entry(&s, url, username, password, &entry, err)) < 0)
		goto out;
	/* docker keys the entry by the server address: Docker Hub's URL, or
	 * the bare host[:port]. */
	remove_entries(auths, s.registry);
	ims_json_set(auths, url, entry);
	r = save(&s, err);
out:
	return session_close(&s, r, "log in to", err);
}

int ims_credstore_logout(const char *registry, ims_error **err)
{
	session s;
	int r = session_open(&s, registry, err);
	if (r < 0)
		goto out;
	/* The helper first: when it fails, the file still tells where the
	 * secret lives. */
	if (s.helper) {
		_cleanup_free_ char *url = ims_credstore_server_url(s.registry);
		if ((r = ims_cred_helper_erase(s.helper, url, err)) < 0)
			goto out;
	}
	ims_json *auths = ims_json_get(s.cfg, "auths");
	if (auths && auths->type == IMS_JSON_OBJECT && remove_entries(auths, s.registry) > 0)
		r = save(&s, err);
out:
	return session_close(&s, r, "log out of", err);
}
