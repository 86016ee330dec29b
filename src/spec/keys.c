/* Every key image.yaml v1 accepts, with did-you-mean hints for the rest.
 *
 * These tables are the single list of keys: strict checking uses them,
 * and ims_spec_keys_dump() prints them for the test that compares them
 * with schema/imagespec.schema.json. */
#include "spec/spec_int.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/suggest.h"
#include "util/xalloc.h"

static const spec_key attrs_keys[] = {
	{ "mode", SK_VALUE, NULL }, { "dirMode", SK_VALUE, NULL }, { "uid", SK_VALUE, NULL },
	{ "gid", SK_VALUE, NULL },  { "mtime", SK_VALUE, NULL },
};
const spec_obj spec_obj_attrs = { attrs_keys, IMS_ARRAY_SIZE(attrs_keys) };

static const spec_key compression_keys[] = {
	{ "algorithm", SK_VALUE, NULL },
	{ "level", SK_VALUE, NULL },
};
const spec_obj spec_obj_compression = { compression_keys, IMS_ARRAY_SIZE(compression_keys) };

static const spec_key file_keys[] = {
	{ "src", SK_VALUE, NULL },     { "dest", SK_VALUE, NULL },          { "exclude", SK_VALUE, NULL },
	{ "include", SK_VALUE, NULL }, { "ignoreFiles", SK_VALUE, NULL },   { "symlinks", SK_VALUE, NULL },
	{ "content", SK_VALUE, NULL }, { "contentBase64", SK_VALUE, NULL }, { "symlink", SK_VALUE, NULL },
	{ "type", SK_VALUE, NULL },    { "mode", SK_VALUE, NULL },          { "dirMode", SK_VALUE, NULL },
	{ "uid", SK_VALUE, NULL },     { "gid", SK_VALUE, NULL },           { "mtime", SK_VALUE, NULL },
};
const spec_obj spec_obj_file = { file_keys, IMS_ARRAY_SIZE(file_keys) };

static const spec_key blob_keys[] = {
	{ "digest", SK_VALUE, NULL },    { "diffId", SK_VALUE, NULL }, { "size", SK_VALUE, NULL },
	{ "mediaType", SK_VALUE, NULL }, { "urls", SK_VALUE, NULL },
};
const spec_obj spec_obj_blob = { blob_keys, IMS_ARRAY_SIZE(blob_keys) };

static const spec_key layer_keys[] = {
	{ "name", SK_VALUE, NULL },
	{ "files", SK_OBJLIST, &spec_obj_file },
	{ "defaults", SK_OBJ, &spec_obj_attrs },
	{ "compression", SK_OBJ, &spec_obj_compression },
	{ "archive", SK_VALUE, NULL },
	{ "url", SK_VALUE, NULL },
	{ "sha256", SK_VALUE, NULL },
	{ "dest", SK_VALUE, NULL },
	{ "include", SK_VALUE, NULL },
	{ "stripComponents", SK_VALUE, NULL },
	{ "blob", SK_OBJ, &spec_obj_blob },
};
const spec_obj spec_obj_layer = { layer_keys, IMS_ARRAY_SIZE(layer_keys) };

static const spec_key auth_keys[] = {
	{ "username", SK_VALUE, NULL }, { "password", SK_VALUE, NULL },
	{ "token", SK_VALUE, NULL },    { "googleCredentialsFile", SK_VALUE, NULL },
	{ "helper", SK_VALUE, NULL },
};
const spec_obj spec_obj_auth = { auth_keys, IMS_ARRAY_SIZE(auth_keys) };

static const spec_key registry_keys[] = {
	{ "insecure", SK_VALUE, NULL },
	{ "caFile", SK_VALUE, NULL },
	{ "clientCert", SK_VALUE, NULL },
	{ "clientKey", SK_VALUE, NULL },
};
const spec_obj spec_obj_registry = { registry_keys, IMS_ARRAY_SIZE(registry_keys) };

static const spec_key sync_keys[] = {
	{ "copyRemoteLayers", SK_VALUE, NULL },
	{ "ignoreExists", SK_VALUE, NULL },
};
const spec_obj spec_obj_sync = { sync_keys, IMS_ARRAY_SIZE(sync_keys) };

static const spec_key cache_keys[] = {
	{ "from", SK_VALUE, NULL },
	{ "to", SK_VALUE, NULL },
};
const spec_obj spec_obj_cache = { cache_keys, IMS_ARRAY_SIZE(cache_keys) };

static const spec_key healthcheck_keys[] = {
	{ "test", SK_VALUE, NULL },        { "interval", SK_VALUE, NULL },      { "timeout", SK_VALUE, NULL },
	{ "startPeriod", SK_VALUE, NULL }, { "startInterval", SK_VALUE, NULL }, { "retries", SK_VALUE, NULL },
};
const spec_obj spec_obj_healthcheck = { healthcheck_keys, IMS_ARRAY_SIZE(healthcheck_keys) };

static const spec_key top_keys[] = {
	{ "apiVersion", SK_VALUE, NULL },
	{ "base", SK_VALUE, NULL },
	{ "target", SK_VALUE, NULL },
	{ "tags", SK_VALUE, NULL },
	{ "platforms", SK_VALUE, NULL },
	{ "format", SK_VALUE, NULL },
	{ "created", SK_VALUE, NULL },
	{ "params", SK_VALUE, NULL },
	{ "defaults", SK_OBJ, &spec_obj_attrs },
	{ "files", SK_OBJLIST, &spec_obj_file },
	{ "layers", SK_OBJLIST, &spec_obj_layer },
	{ "delete", SK_VALUE, NULL },
	{ "opaque", SK_VALUE, NULL },
	{ "removeLayers", SK_VALUE, NULL },
	{ "entrypoint", SK_VALUE, NULL },
	{ "cmd", SK_VALUE, NULL },
	{ "env", SK_VALUE, NULL },
	{ "workingDir", SK_VALUE, NULL },
	{ "user", SK_VALUE, NULL },
	{ "labels", SK_VALUE, NULL },
	{ "annotations", SK_VALUE, NULL },
	{ "exposedPorts", SK_VALUE, NULL },
	{ "volumes", SK_VALUE, NULL },
	{ "stopSignal", SK_VALUE, NULL },
	{ "healthcheck", SK_OBJ, &spec_obj_healthcheck },
	{ "auth", SK_OBJMAP, &spec_obj_auth },
	{ "registries", SK_OBJMAP, &spec_obj_registry },
	{ "sync", SK_OBJ, &spec_obj_sync },
	{ "cache", SK_OBJ, &spec_obj_cache },
	{ "compression", SK_OBJ, &spec_obj_compression },
};
const spec_obj spec_obj_top = { top_keys, IMS_ARRAY_SIZE(top_keys) };

/* Names users bring from Dockerfiles, compose, Kubernetes, jib, ko and the
 * seed project. An alias is only offered where its key exists, so one
 * alias may point to different keys in different mappings. Compared
 * case-insensitively. */
static const struct {
	const char *alias, *key;
} aliases[] = {
	{ "workingDirectory", "workingDir" },
	{ "workdir", "workingDir" },
	{ "work-dir", "workingDir" },  /* apko */
	{ "creationTime", "created" }, /* jib */
	{ "archs", "platforms" },      /* apko */
	{ "cwd", "workingDir" },
	{ "environment", "env" },
	{ "envs", "env" },
	{ "expose", "exposedPorts" },
	{ "ports", "exposedPorts" },
	{ "label", "labels" },
	{ "annotation", "annotations" },
	{ "tag", "tags" },
	{ "platform", "platforms" },
	{ "arch", "platforms" },
	{ "architecture", "platforms" },
	{ "from", "base" },
	{ "image", "base" },
	{ "baseImage", "base" },
	{ "to", "target" },
	{ "targetImage", "target" },
	{ "source", "src" },
	{ "from", "src" },
	{ "destination", "dest" },
	{ "to", "dest" },
	{ "path", "dest" },
	{ "target", "symlink" },
	{ "linkTarget", "symlink" },
	{ "link", "symlink" },
	{ "excludes", "exclude" },
	{ "ignore", "exclude" },
	{ "includes", "include" },
	{ "dockerignore", "ignoreFiles" },
	{ "ignoreFile", "ignoreFiles" },
	{ "data", "content" },
	{ "text", "content" },
	{ "base64", "contentBase64" },
	{ "command", "cmd" },
	{ "args", "cmd" },
	{ "signal", "stopSignal" },
	{ "health", "healthcheck" },
	{ "cmd", "test" },
	{ "command", "test" },
	{ "start_period", "startPeriod" },
	{ "volume", "volumes" },
	{ "addFiles", "files" },
	{ "copy", "files" },
	{ "customFiles", "files" },
	{ "addLayer", "layers" },
	{ "addLayers", "layers" },
	{ "removeLayer", "removeLayers" },
	{ "deletes", "delete" },
	{ "remove", "delete" },
	{ "whiteouts", "delete" },
	{ "permissions", "mode" },
	{ "chmod", "mode" },
	{ "owner", "uid" },
	{ "chown", "uid" },
	{ "user", "uid" },
	{ "group", "gid" },
	{ "tar", "archive" },
	{ "checksum", "sha256" },
	{ "hash", "sha256" },
	{ "strip", "stripComponents" },
	{ "compress", "compression" },
	{ "algo", "algorithm" },
	{ "type", "algorithm" },
	{ "credentials", "auth" },
	{ "registry", "registries" },
	{ "login", "username" },
	{ "user", "username" },
	{ "pass", "password" },
	{ "passwd", "password" },
	{ "secret", "password" },
	{ "identityToken", "token" },
	{ "credHelper", "helper" },
	{ "credentialHelper", "helper" },
	{ "keyFile", "googleCredentialsFile" },
	{ "ca", "caFile" },
	{ "caCert", "caFile" },
	{ "cert", "clientCert" },
	{ "key", "clientKey" },
	{ "skipVerify", "insecure" },
	{ "insecureSkipVerify", "insecure" },
	{ "plainHttp", "insecure" },
	{ "created_at", "created" },
	{ "timestamp", "created" },
	{ "diff_id", "diffId" },
	{ "uncompressedDigest", "diffId" },
};

static bool obj_has(const spec_obj *obj, const char *key)
{
	for (size_t i = 0; i < obj->n; i++)
		if (!strcmp(obj->keys[i].name, key))
			return true;
	return false;
}

const char *spec_suggest_key(const spec_obj *obj, const char *key)
{
	for (size_t i = 0; i < obj->n; i++)
		if (!strcasecmp(obj->keys[i].name, key))
			return obj->keys[i].name;
	for (size_t i = 0; i < IMS_ARRAY_SIZE(aliases); i++)
		if (!strcasecmp(aliases[i].alias, key) && obj_has(obj, aliases[i].key))
			return aliases[i].key;
	const char *best = NULL;
	size_t best_d = 3;
	for (size_t i = 0; i < obj->n; i++) {
		size_t d = ims_suggest_distance(key, obj->keys[i].name);
		/* a two-letter key is within 2 edits of every short key */
		if (d < best_d && d < strlen(key)) {
			best = obj->keys[i].name;
			best_d = d;
		}
	}
	return best;
}

bool spec_check_keys(spec_ctx *c, const ynode *map, const spec_obj *obj, const char *what)
{
	if (!map || map->kind != YN_MAP) {
		if (map)
			spec_error(c, map->pos, "%s must be a mapping, not %s", what, ynode_kind_name(map));
		return false;
	}
	for (size_t i = 0; i < map->n; i++) {
		const ynode *k = map->pairs[i].key;
		if (obj_has(obj, k->s))
			continue;
		const char *hint = spec_suggest_key(obj, k->s);
		if (hint)
			spec_error(c, k->pos, "unknown key `%s` in %s; did you mean `%s`?", k->s, what, hint);
		else
			spec_error(c, k->pos, "unknown key `%s` in %s", k->s, what);
	}
	return true;
}

static void dump_obj(ims_buf *b, const char *prefix, const spec_obj *obj)
{
	for (size_t i = 0; i < obj->n; i++) {
		const spec_key *k = &obj->keys[i];
		_cleanup_free_ char *path = xasprintf("%s%s", prefix, k->name);
		ims_buf_printf(b, "%s\n", path);
		_cleanup_free_ char *sub = NULL;
		switch (k->kind) {
		case SK_VALUE:
			continue;
		case SK_OBJ:
			sub = xasprintf("%s.", path);
			break;
		case SK_OBJLIST:
			sub = xasprintf("%s[].", path);
			break;
		case SK_OBJMAP:
			sub = xasprintf("%s.*.", path);
			break;
		}
		dump_obj(b, sub, k->obj);
	}
}

char *ims_spec_keys_dump(void)
{
	ims_buf b = IMS_BUF_INIT(0);
	dump_obj(&b, "", &spec_obj_top);
	return ims_buf_steal(&b, NULL);
}
