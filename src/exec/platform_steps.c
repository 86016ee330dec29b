/* The layer steps of one platform: the steps whose src, archive or url
 * names ${platform.*} filled for it and checked (the path stays inside the
 * spec's directory and exists), the others as the plan has them. A step
 * that fills to the same input on every platform gives the same blob. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "exec/platform_steps.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"

bool ims_exec_per_platform(const ims_plan *p)
{
	for (size_t i = 0; i < p->nsteps; i++)
		if (p->steps[i].per_platform)
			return true;
	return false;
}

static void *own(ims_platform_steps *ps, void *s)
{
	ps->owned = xrealloc(ps->owned, (ps->nowned + 1) * sizeof(*ps->owned));
	ps->owned[ps->nowned++] = s;
	return s;
}

/* A filled src or archive path: relative, inside the spec's directory, and
 * there. what names the key, tmpl what was written. */
static int check_path(ims_platform_steps *ps, const ims_plan *p, const char *at, const char *what, const char *tmpl,
		      const char *path, ims_error **err)
{
	_cleanup_free_ char *clean = path[0] == '/' ? NULL : ims_path_clean(path);
	if (!clean)
		return ims_error_set(err, IMS_EINVALID,
				     "%s%s `%s` is `%s` for platform `%s`, which leaves the spec's "
				     "directory",
				     at, what, tmpl, path, ps->shown);
	_cleanup_free_ char *abs = ims_path_join(p->spec_dir, clean);
	struct stat st;
	if (lstat(abs, &st) == 0)
		return 0;
	int e = errno;
	if (e == ENOENT || e == ENOTDIR) {
		int r = ims_error_set(err, IMS_ENOTFOUND, "%s%s `%s` is `%s` for platform `%s`, which does not exist",
				      at, what, tmpl, path, ps->shown);
		ims_error_hint(err, "add it, or leave that platform out with `platforms:` or --platform");
		return r;
	}
	return ims_error_sys(err, e, IMS_ESOURCE, "%s%s `%s`", at, what, path);
}

static int fill(ims_platform_steps *ps, const char *tmpl, const char **out, ims_error **err)
{
	char *s = NULL;
	int r = ims_plan_platform_expand(tmpl, ps->platform, &s, err);
	if (r < 0)
		return r;
	*out = own(ps, s);
	return 0;
}

/* `sha256: {PLATFORM: digest}`: the first key that matches the platform. */
static int pick_sha256(ims_platform_steps *ps, ims_step *s, ims_error **err)
{
	if (!s->nsha256s)
		return 0;
	for (size_t i = 0; i < s->nsha256s; i++) {
		ims_platform *k = ims_platform_parse(s->sha256s[i].key);
		bool match = k && ims_platform_matches(k, ps->platform);
		ims_platform_free(k);
		if (match) {
			s->archive.sha256 = s->sha256s[i].value;
			return 0;
		}
	}
	int r = ims_error_set(err, IMS_EINVALID, "%s`sha256` gives no digest for platform `%s`", s->at, ps->shown);
	ims_error_hint(err, "add `%s: <sha256>` under `sha256`, or leave that platform out", ps->shown);
	return r;
}

static int fill_step(ims_platform_steps *ps, const ims_plan *p, ims_step *s, ims_error **err)
{
	char *cb = NULL;
	int r = ims_plan_platform_expand(s->created_by, ps->platform, &cb, err);
	if (r < 0)
		return r;
	s->created_by = own(ps, cb);
	switch (s->kind) {
	case IMS_STEP_FILES: {
		ims_layer_mapping *maps = own(ps, xcalloc(s->nmaps + 1, sizeof(*maps)));
		memcpy(maps, s->maps, s->nmaps * sizeof(*maps));
		for (size_t i = 0; i < s->nmaps && r >= 0; i++) {
			if (maps[i].kind != IMS_MAP_COPY)
				continue;
			const char *tmpl = s->maps[i].src.s;
			if ((r = fill(ps, tmpl, &maps[i].src.s, err)) >= 0 && strcmp(tmpl, maps[i].src.s))
				r = check_path(ps, p, maps[i].src.at, "`src`", tmpl, maps[i].src.s, err);
		}
		s->maps = maps;
		return r;
	}
	case IMS_STEP_ARCHIVE: {
		const char *tmpl = s->archive.shown;
		if ((r = pick_sha256(ps, s, err)) < 0 || (r = fill(ps, tmpl, &s->archive.shown, err)) < 0 ||
		    (r = check_path(ps, p, s->at, "`archive`", tmpl, s->archive.shown, err)) < 0)
			return r;
		s->archive_path = own(ps, ims_path_absolute(p->spec_dir, s->archive.shown));
		return 0;
	}
	case IMS_STEP_URL:
		if ((r = pick_sha256(ps, s, err)) < 0 || (r = fill(ps, s->url, &s->url, err)) < 0)
			return r;
		s->archive.shown = s->url;
		return 0;
	default:
		return 0;
	}
}

int ims_exec_platform_steps(ims_platform_steps *ps, const ims_plan *p, const ims_platform *pl, ims_error **err)
{
	memset(ps, 0, sizeof(*ps));
	ps->platform = pl;
	ps->shown = own(ps, pl ? ims_platform_string(pl) : xstrdup("(unknown)"));
	ps->v = xcalloc(p->nsteps + 1, sizeof(*ps->v));
	ps->n = p->nsteps;
	int r = 0;
	for (size_t i = 0; i < p->nsteps && r >= 0; i++) {
		ps->v[i] = p->steps[i];
		if (p->steps[i].per_platform)
			r = fill_step(ps, p, &ps->v[i], err);
	}
	if (r < 0)
		ims_exec_platform_steps_dispose(ps);
	return r;
}

void ims_exec_platform_steps_dispose(ims_platform_steps *ps)
{
	for (size_t i = 0; i < ps->nowned; i++)
		free(ps->owned[i]);
	free(ps->owned);
	free(ps->v);
	memset(ps, 0, sizeof(*ps));
}
