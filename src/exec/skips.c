/* What files layers leave out, by device and inode, so that a source tree
 * holding them cannot pack them (issue 9, items 1 and 4; anchors-reliability.md
 * items 29 and 31):
 *   - the build's own output (an oci: layout, an archive file and its
 *     leftover `FILE.tmp-*` siblings), the layer cache and the temp
 *     directory: always;
 *   - the credential files this process reads ($DOCKER_CONFIG/config.json
 *     or ~/.docker/config.json, $REGISTRY_AUTH_FILE, podman's auth.json)
 *     and the key files the spec names for registries: with a warning,
 *     unless a mapping's `src` names the file itself (layer/walk.c).
 * Taken again before each files layer: a layout created by the build
 * itself exists only from its first blob on. */
#include "exec/skips.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cache/cache.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/xalloc.h"

/* what: "the output"; shown: how to name the path (NULL: the path). */
static void add(ims_exec_skips *s, const char *path, bool secret, const char *what, const char *shown)
{
	struct stat st;
	if (!path || !*path || stat(path, &st) < 0)
		return;
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].dev == st.st_dev && s->v[i].ino == st.st_ino)
			return;
	s->v = xgrow(s->v, &s->cap, s->n + 1, sizeof(*s->v));
	s->whats = xrealloc(s->whats, s->cap * sizeof(*s->whats));
	s->whats[s->n] = xasprintf("%s `%s`", what, shown ? shown : path);
	s->v[s->n] = (ims_layer_skip){ st.st_dev, st.st_ino, s->whats[s->n], secret };
	s->n++;
}

/* FILE.tmp-* next to an archive output: what an interrupted write left. */
static void add_leftovers(ims_exec_skips *s, const char *file, const char *shown)
{
	_cleanup_free_ char *dir = xstrdup(file);
	char *slash = strrchr(dir, '/');
	if (!slash)
		return;
	*slash = '\0';
	_cleanup_free_ char *prefix = xasprintf("%s.tmp-", slash + 1);
	DIR *d = opendir(*dir ? dir : "/");
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, prefix, strlen(prefix))) {
			_cleanup_free_ char *p = ims_path_join(*dir ? dir : "/", de->d_name);
			add(s, p, false, "a temp file of the output", shown);
		}
	closedir(d);
}

static void add_output(ims_exec_skips *s, const ims_plan *p)
{
	const ims_ref *t = p->target;
	if (!t || !t->path ||
	    (t->kind != IMS_REF_OCI && t->kind != IMS_REF_OCI_ARCHIVE && t->kind != IMS_REF_DOCKER_ARCHIVE))
		return;
	_cleanup_free_ char *abs = ims_path_absolute(p->target_dir, t->path);
	add(s, abs, false, "the output", t->path);
	if (t->kind != IMS_REF_OCI)
		add_leftovers(s, abs, t->path);
}

void ims_exec_skips_collect(ims_exec_skips *s, const ims_exec_env *env, const ims_plan *p)
{
	memset(s, 0, sizeof(*s));
	add_output(s, p);

	add(s, env->cache_dir, false, "the layer cache", NULL);
	_cleanup_free_ char *cache = ims_cache_default_dir();
	add(s, cache, false, "the layer cache", NULL);
	const char *tmp = env->tmp_dir;
	if (!tmp || !*tmp)
		tmp = getenv("TMPDIR");
	add(s, tmp && *tmp ? tmp : "/tmp", false, "the temp directory", NULL);

	const char *dc = getenv("DOCKER_CONFIG");
	const char *home = getenv("HOME");
	_cleanup_free_ char *docker = dc && *dc       ? ims_path_join(dc, "config.json")
				      : home && *home ? xasprintf("%s/.docker/config.json", home)
						      : NULL;
	add(s, docker, true, "the docker config.json that imagespec reads", NULL);
	add(s, getenv("REGISTRY_AUTH_FILE"), true, "$REGISTRY_AUTH_FILE", NULL);
	const char *run = getenv("XDG_RUNTIME_DIR");
	_cleanup_free_ char *podman = run && *run ? xasprintf("%s/containers/auth.json", run) : NULL;
	add(s, podman, true, "podman's auth.json", NULL);
	for (size_t i = 0; i < p->nauth; i++)
		add(s, p->auth[i].google_file, true, "the service account key of `auth`", NULL);
	for (size_t i = 0; i < p->nregistries; i++)
		add(s, p->registries[i].client_key, true, "the client key of `registries`", NULL);
}

void ims_exec_skips_dispose(ims_exec_skips *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->whats[i]);
	free(s->whats);
	free(s->v);
	memset(s, 0, sizeof(*s));
}
