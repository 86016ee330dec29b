/* Plans for the verbs that read or move images without building one:
 * copy, inspect and tags. References are parsed and checked here, so the
 * executor starts from a plan that is known to make sense. */
#include <string.h>

#include "plan/plan_int.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"

static ims_plan *new_plan(ims_plan_kind kind)
{
	ims_plan *p = xcalloc(1, sizeof(*p));
	p->kind = kind;
	p->source_dir = ims_path_absolute(NULL, ".");
	p->copy_remote_layers = true;
	return p;
}

/* One platform, or none ("all" and NULL keep an index whole). */
static int one_platform(ims_plan *p, const char *platform, ims_error **err)
{
	if (!platform || !strcmp(platform, "all")) {
		p->all_platforms = platform != NULL;
		p->platforms = xcalloc(1, sizeof(*p->platforms));
		return 0;
	}
	return ims_plan_platforms(p, &platform, 1, err);
}

int ims_plan_copy(ims_plan **out, const char *src, const char *dst, const char *platform, ims_error **err)
{
	ims_plan *p = new_plan(IMS_PLAN_COPY);
	p->target_dir = ims_path_absolute(NULL, ".");
	int r;
	if ((r = ims_ref_parse(&p->source, src, err)) < 0 || (r = ims_ref_parse(&p->target, dst, err)) < 0 ||
	    (r = one_platform(p, platform, err)) < 0)
		goto fail;
	if (p->source->kind == IMS_REF_SCRATCH || p->target->kind == IMS_REF_SCRATCH) {
		r = ims_error_set(err, IMS_EINVALID, "cannot copy from or to `scratch`");
		goto fail;
	}
	*out = p;
	return 0;
fail:
	ims_plan_destroy(p);
	return r;
}

int ims_plan_inspect(ims_plan **out, const char *ref, const char *platform, ims_inspect_what what, ims_error **err)
{
	ims_plan *p = new_plan(IMS_PLAN_INSPECT);
	p->what = what;
	p->source_shown = xstrdup(ref);
	int r;
	if ((r = ims_ref_parse(&p->source, ref, err)) < 0 || (r = one_platform(p, platform, err)) < 0)
		goto fail;
	if (p->all_platforms) {
		r = ims_error_set(err, IMS_EINVALID, "inspect shows one platform; name one, as in linux/amd64");
		goto fail;
	}
	if (p->source->kind == IMS_REF_SCRATCH) {
		r = ims_error_set(err, IMS_EINVALID, "`scratch` has nothing to inspect");
		goto fail;
	}
	*out = p;
	return 0;
fail:
	ims_plan_destroy(p);
	return r;
}

int ims_plan_tags(ims_plan **out, const char *repo, ims_error **err)
{
	ims_plan *p = new_plan(IMS_PLAN_TAGS);
	int r = ims_ref_parse(&p->source, repo, err);
	if (r >= 0 && p->source->kind == IMS_REF_SCRATCH)
		r = ims_error_set(err, IMS_EINVALID, "`scratch` has no tags");
	if (r < 0) {
		ims_plan_destroy(p);
		return r;
	}
	*out = p;
	return 0;
}

/* One side of copy --all-tags: a registry repository, as written without a
 * tag or digest (the grammar would add `latest`). */
static int check_repo(const char *s, const char *side, ims_error **err)
{
	ims_ref *r = NULL;
	int rc = ims_ref_parse(&r, s, err);
	if (rc < 0)
		return rc;
	bool registry = r->kind == IMS_REF_REGISTRY;
	ims_ref_free(r);
	if (!registry) {
		rc = ims_error_set(err, IMS_EINVALID,
				   "--all-tags copies between registries; the %s `%s` is not a registry repository", side, s);
		ims_error_hint(err, "name both repositories as HOST/REPO; copy a layout or archive one image at a time, "
				    "as in `imagespec copy oci:DIR:TAG HOST/REPO:TAG`");
		return rc;
	}
	const char *slash = strrchr(s, '/');
	const char *last = slash ? slash + 1 : s;
	if (strchr(last, ':') || strchr(s, '@')) {
		rc = ims_error_set(err, IMS_EINVALID, "--all-tags copies whole repositories; the %s `%s` names a tag or digest",
				   side, s);
		ims_error_hint(err, "name the %s as HOST/REPO, without :TAG or @DIGEST", side);
		return rc;
	}
	return 0;
}

int ims_plan_check_repo_copy(const char *src, const char *dst, ims_error **err)
{
	int r = check_repo(src, "source", err);
	return r < 0 ? r : check_repo(dst, "destination", err);
}

static int parse_config(const char *json, ims_json **out, ims_error **err)
{
	if (!json)
		return ims_error_set(err, IMS_EINVALID, "the config is NULL");
	ims_config *c = NULL;
	int r = ims_config_parse(&c, json, strlen(json), err);
	if (r < 0)
		return r;
	if (out)
		*out = ims_json_clone(ims_config_tree(c));
	ims_config_free(c);
	return 0;
}

int ims_plan_check_config(const char *json, ims_error **err)
{
	return parse_config(json, NULL, err);
}

int ims_plan_set_config(ims_plan *p, const char *json, ims_error **err)
{
	ims_json *tree = NULL;
	int r = parse_config(json, &tree, err);
	if (r < 0)
		return r;
	ims_json_free(p->config_override);
	p->config_override = tree;
	return 0;
}

int ims_plan_index(ims_plan **out, const char *dst, const char *const *srcs, size_t nsrcs, bool append,
		   ims_error **err)
{
	if (!nsrcs)
		return ims_error_set(err, IMS_EINVALID, "name at least one source image");
	ims_plan *p = new_plan(IMS_PLAN_INDEX);
	p->target_dir = ims_path_absolute(NULL, ".");
	p->append = append;
	p->sources = xcalloc(nsrcs, sizeof(*p->sources));
	int r = ims_ref_parse(&p->target, dst, err);
	if (r >= 0 && p->target->kind != IMS_REF_REGISTRY && p->target->kind != IMS_REF_OCI)
		r = ims_error_set(err, IMS_EINVALID,
				  "an index destination of this kind (`%s`) is not supported yet; use a registry "
				  "reference or oci:DIR[:TAG]",
				  dst);
	for (size_t i = 0; i < nsrcs && r >= 0; i++) {
		if ((r = ims_ref_parse(&p->sources[i], srcs[i], err)) < 0)
			break;
		p->nsources++;
		if (p->sources[i]->kind == IMS_REF_SCRATCH || p->sources[i]->kind == IMS_REF_DOCKER_ARCHIVE)
			r = ims_error_set(err, IMS_EINVALID,
					  "index sources are registry, oci: and oci-archive: references, not `%s`",
					  srcs[i]);
	}
	if (r < 0) {
		if (p->nsources)
			p->source = p->sources[0];
		ims_plan_destroy(p);
		return r;
	}
	p->source = p->sources[0];
	*out = p;
	return 0;
}
