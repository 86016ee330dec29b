#include "transport/docker_archive_manifest.h"

#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "ref/ref.h"
#include "util/error.h"
#include "util/xalloc.h"

#define PATH_MAX_LEN 4096

bool ims_docker_archive_path_valid(const char *p)
{
	size_t n = strlen(p);
	if (n == 0 || n > PATH_MAX_LEN || p[0] == '/')
		return false;
	for (const char *s = p; *s;) {
		const char *e = strchr(s, '/');
		size_t l = e ? (size_t)(e - s) : strlen(s);
		if (l == 2 && s[0] == '.' && s[1] == '.')
			return false;
		s += l;
		if (*s == '/')
			s++;
	}
	return true;
}

static void image_dispose(ims_docker_archive_image *im)
{
	free(im->config);
	for (size_t i = 0; i < im->ntags; i++)
		free(im->repo_tags[i]);
	free(im->repo_tags);
	for (size_t i = 0; i < im->nlayers; i++)
		free(im->layers[i]);
	free(im->layers);
}

void ims_docker_archive_manifest_free(ims_docker_archive_manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nimages; i++)
		image_dispose(&m->images[i]);
	free(m->images);
	free(m);
}

static int path_of(const ims_json *v, const char *what, size_t idx, char **out, ims_error **err)
{
	if (!v || v->type != IMS_JSON_STRING)
		return ims_error_set(err, IMS_EGENERIC, "manifest.json: image %zu: %s is not a string", idx, what);
	if (!ims_docker_archive_path_valid(v->s))
		return ims_error_set(err, IMS_EGENERIC, "manifest.json: image %zu: %s `%.200s` is not a relative path",
				     idx, what, v->s);
	*out = xstrdup(v->s);
	return 0;
}

/* A list of strings with a cap; null or absent is an empty list. */
static int strings_of(const ims_json *v, const char *what, size_t idx, size_t max, bool paths, char ***out,
		      size_t *n, ims_error **err)
{
	*out = NULL;
	*n = 0;
	if (!v || v->type == IMS_JSON_NULL)
		return 0;
	if (v->type != IMS_JSON_ARRAY)
		return ims_error_set(err, IMS_EGENERIC, "manifest.json: image %zu: %s is not a list", idx, what);
	if (v->n > max)
		return ims_error_set(err, IMS_EGENERIC, "manifest.json: image %zu: more than %zu %s", idx, max, what);
	*out = xcalloc(v->n + 1, sizeof(char *));
	for (size_t i = 0; i < v->n; i++) {
		const ims_json *s = v->v[i];
		if (paths) {
			int r = path_of(s, what, idx, &(*out)[i], err);
			if (r < 0)
				return r;
		} else if (s->type != IMS_JSON_STRING) {
			return ims_error_set(err, IMS_EGENERIC, "manifest.json: image %zu: %s holds a non-string", idx,
					     what);
		} else {
			(*out)[i] = xstrdup(s->s);
		}
		(*n)++;
	}
	return 0;
}

static int parse_image(const ims_json *o, size_t idx, ims_docker_archive_image *im, ims_error **err)
{
	if (o->type != IMS_JSON_OBJECT)
		return ims_error_set(err, IMS_EGENERIC, "manifest.json: image %zu is not an object", idx);
	int r = path_of(ims_json_get(o, "Config"), "Config", idx, &im->config, err);
	if (r < 0)
		return r;
	const ims_json *layers = ims_json_get(o, "Layers");
	if (!layers)
		return ims_error_set(err, IMS_EGENERIC, "manifest.json: image %zu has no Layers", idx);
	/* 127 is what the OCI model accepts; docker itself stops at 125. */
	if ((r = strings_of(layers, "Layers", idx, 127, true, &im->layers, &im->nlayers, err)) < 0)
		return r;
	return strings_of(ims_json_get(o, "RepoTags"), "RepoTags", idx, IMS_DOCKER_ARCHIVE_MAX_TAGS, false,
			  &im->repo_tags, &im->ntags, err);
}

int ims_docker_archive_manifest_parse(ims_docker_archive_manifest **out, const char *data, size_t len,
				      ims_error **err)
{
	if (len > IMS_DOCKER_ARCHIVE_MANIFEST_MAX)
		return ims_error_set(err, IMS_EGENERIC, "manifest.json is larger than %u bytes",
				     IMS_DOCKER_ARCHIVE_MANIFEST_MAX);
	ims_json_limits lim = { .max_bytes = IMS_DOCKER_ARCHIVE_MANIFEST_MAX, .max_depth = 8, .max_items = 200000 };
	ims_json *j = NULL;
	int r = ims_json_parse(&j, data, len, &lim, err);
	if (r < 0)
		return ims_error_wrap(err, "manifest.json");
	if (j->type != IMS_JSON_ARRAY) {
		ims_json_free(j);
		return ims_error_set(err, IMS_EGENERIC, "manifest.json is not a list");
	}
	if (j->n > IMS_DOCKER_ARCHIVE_MAX_IMAGES) {
		ims_json_free(j);
		return ims_error_set(err, IMS_EGENERIC, "manifest.json lists more than %d images",
				     IMS_DOCKER_ARCHIVE_MAX_IMAGES);
	}
	ims_docker_archive_manifest *m = xcalloc(1, sizeof(*m));
	m->images = xcalloc(j->n + 1, sizeof(*m->images));
	for (size_t i = 0; i < j->n && r == 0; i++) {
		r = parse_image(j->v[i], i, &m->images[i], err);
		m->nimages++;
	}
	ims_json_free(j);
	if (r < 0) {
		ims_docker_archive_manifest_free(m);
		return r;
	}
	*out = m;
	return 0;
}

static ims_ref *parse_name(const char *s)
{
	ims_ref *r = NULL;
	if (ims_ref_parse(&r, s, NULL) < 0)
		return NULL;
	if (r->kind != IMS_REF_REGISTRY || r->digest || !r->tag || !strncmp(s, "docker://", 9)) {
		ims_ref_free(r);
		return NULL;
	}
	return r;
}

char *ims_docker_archive_long_name(const char *s)
{
	ims_ref *r = parse_name(s);
	if (!r)
		return NULL;
	char *out = ims_ref_string(r);
	ims_ref_free(r);
	return out;
}

char *ims_docker_archive_short_name(const char *s)
{
	ims_ref *r = parse_name(s);
	if (!r)
		return NULL;
	char *out;
	if (strcmp(r->registry, "docker.io") != 0)
		out = xasprintf("%s/%s:%s", r->registry, r->repository, r->tag);
	else if (!strncmp(r->repository, "library/", 8) && !strchr(r->repository + 8, '/'))
		out = xasprintf("%s:%s", r->repository + 8, r->tag);
	else
		out = xasprintf("%s:%s", r->repository, r->tag);
	ims_ref_free(r);
	return out;
}
