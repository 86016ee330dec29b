/* spec → plan: resolves references, overrides, platforms, the created time
 * and the ordered layer steps. Pure: reads nothing but the environment's
 * SOURCE_DATE_EPOCH and the clock for `created: now`. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/internal.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"

static void merge_attrs(ims_attrs *dst, const ims_attrs *over)
{
	if (over->has_mode)
		dst->has_mode = true, dst->mode = over->mode;
	if (over->has_dir_mode)
		dst->has_dir_mode = true, dst->dir_mode = over->dir_mode;
	if (over->has_uid)
		dst->has_uid = true, dst->uid = over->uid;
	if (over->has_gid)
		dst->has_gid = true, dst->gid = over->gid;
	if (over->has_mtime)
		dst->has_mtime = true, dst->mtime = over->mtime;
}

static void resolve_compression(const ims_compression *top, const ims_compression *layer, ims_compress_alg *alg,
				int *level)
{
	const ims_compression *c = (layer && layer->algorithm != IMS_COMPRESS_DEFAULT) ? layer : top;
	if (c->algorithm == IMS_COMPRESS_DEFAULT) {
		*alg = IMS_COMPRESS_GZIP;
		*level = c->level;
		return;
	}
	*alg = c->algorithm;
	*level = c->level;
}

static char *files_summary(const ims_file_spec *f, size_t n)
{
	ims_buf b = IMS_BUF_INIT(0);
	for (size_t i = 0; i < n; i++) {
		if (i == 3) {
			ims_buf_printf(&b, " and %zu more", n - 3);
			break;
		}
		if (i)
			ims_buf_puts(&b, ", ");
		switch (f[i].kind) {
		case IMS_FILE_COPY:
			ims_buf_printf(&b, "%s → %s", f[i].src.s, f[i].dest.s);
			break;
		case IMS_FILE_CONTENT:
			ims_buf_printf(&b, "content → %s", f[i].dest.s);
			break;
		case IMS_FILE_SYMLINK:
			ims_buf_printf(&b, "%s → %s (symlink)", f[i].dest.s, f[i].symlink.s);
			break;
		case IMS_FILE_DIR:
			ims_buf_printf(&b, "dir %s", f[i].dest.s);
			break;
		}
	}
	return ims_buf_steal(&b, NULL);
}

static void add_step(ims_plan *p, const ims_step *s)
{
	p->steps = xrealloc(p->steps, (p->nsteps + 1) * sizeof(*p->steps));
	p->steps[p->nsteps++] = *s;
}

static void plan_layers(ims_plan *p, const ims_spec_model *m)
{
	for (size_t i = 0; i < m->nlayers; i++) {
		const ims_layer_spec *l = &m->layers[i];
		ims_step s = { 0 };
		s.layer = l;
		s.pos = l->pos;
		/* archives keep their entries' owners and modes: only the layer's own
		 * defaults override them, never the top-level file defaults */
		if (l->kind != IMS_LAYER_ARCHIVE && l->kind != IMS_LAYER_URL)
			s.defaults = m->defaults;
		merge_attrs(&s.defaults, &l->defaults);
		resolve_compression(&m->compression, &l->compression, &s.alg, &s.level);
		s.comment = l->name.s ? xstrdup(l->name.s) : NULL;
		switch (l->kind) {
		case IMS_LAYER_FILES: {
			s.kind = IMS_STEP_FILES;
			s.files = l->files;
			s.nfiles = l->nfiles;
			_cleanup_free_ char *sum = files_summary(l->files, l->nfiles);
			s.created_by = xasprintf("imagespec: files %s", sum);
			break;
		}
		case IMS_LAYER_ARCHIVE:
			s.kind = IMS_STEP_ARCHIVE;
			s.created_by = xasprintf("imagespec: archive %s → %s", l->archive.s, l->dest.s ? l->dest.s : "/");
			break;
		case IMS_LAYER_URL:
			s.kind = IMS_STEP_URL;
			s.created_by = xasprintf("imagespec: url %s → %s", l->url.s, l->dest.s ? l->dest.s : "/");
			break;
		case IMS_LAYER_BLOB:
			s.kind = IMS_STEP_BLOB;
			s.created_by = xasprintf("imagespec: layer %s", l->digest.s);
			break;
		}
		add_step(p, &s);
	}
	if (m->nfiles) {
		ims_step s = { 0 };
		s.kind = IMS_STEP_FILES;
		s.files = m->files;
		s.nfiles = m->nfiles;
		s.pos = m->files_pos;
		s.defaults = m->defaults;
		resolve_compression(&m->compression, NULL, &s.alg, &s.level);
		_cleanup_free_ char *sum = files_summary(m->files, m->nfiles);
		s.created_by = xasprintf("imagespec: files %s", sum);
		add_step(p, &s);
	}
	if (m->delete_paths.n || m->opaque.n) {
		ims_step s = { 0 };
		s.kind = IMS_STEP_WHITEOUT;
		s.pos = m->delete_paths.n ? m->delete_paths.pos : m->opaque.pos;
		s.defaults = m->defaults;
		resolve_compression(&m->compression, NULL, &s.alg, &s.level);
		s.created_by = xasprintf("imagespec: delete %zu path(s), %zu opaque dir(s)", m->delete_paths.n,
					 m->opaque.n);
		add_step(p, &s);
	}
}

static int resolve_created(ims_plan *p, const ims_spec_model *m, ims_error **err)
{
	if (m->created_set) {
		p->created = m->created_now ? (int64_t)time(NULL) : m->created;
		return 0;
	}
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	if (!sde || !*sde) {
		p->created = 0;
		return 0;
	}
	char *end = NULL;
	errno = 0;
	long long v = strtoll(sde, &end, 10);
	if (errno || *end || v < 0)
		return ims_error_set(err, IMS_EINVALID,
				     "SOURCE_DATE_EPOCH `%.40s` is not a number of seconds since the epoch", sde);
	p->created = v;
	return 0;
}

static int parse_ref_at(ims_ref **out, const char *s, const char *what, const ims_spec_model *m, ims_pos pos,
			ims_error **err)
{
	ims_error *e = NULL;
	if (ims_ref_parse(out, s, &e) < 0) {
		int r;
		if (pos.line)
			r = ims_error_set(err, IMS_EINVALID, "%s:%d:%d: %s: %s", m->path, pos.line, pos.col, what,
					  e->message);
		else
			r = ims_error_set(err, IMS_EINVALID, "%s: %s", what, e->message);
		ims_error_free(e);
		return r;
	}
	return 0;
}

int ims_plan_new(ims_plan **out, ims_spec *spec, const ims_plan_options *opts, ims_error **err)
{
	static const ims_plan_options defaults = IMS_PLAN_OPTIONS_INIT;
	if (!opts)
		opts = &defaults;
	const ims_spec_model *m = spec->m;
	ims_plan *p = xcalloc(1, sizeof(*p));
	_cleanup_free_ const char **spec_plats = NULL;
	int r = 0;
	p->spec = spec;
	p->base_dir = xstrdup(m->dir);

	if (!m->base.s) {
		r = ims_error_set(err, IMS_EINVALID, "%s: the spec has no `base`; write `base: scratch` to start empty",
				  m->path);
		goto fail;
	}
	if ((r = parse_ref_at(&p->base, m->base.s, "base", m, m->base.pos, err)) < 0)
		goto fail;

	const char *target = NULL;
	ims_pos tpos = { 0, 0 };
	if (opts->output) {
		target = opts->output;
		p->to_output = true;
	} else if (opts->target) {
		target = opts->target;
	} else if (m->target.s) {
		target = m->target.s;
		tpos = m->target.pos;
	}
	if (!target) {
		r = ims_error_set(err, IMS_EINVALID, "%s: the spec has no `target`; set one or pass --target/--output",
				  m->path);
		goto fail;
	}
	if ((r = parse_ref_at(&p->target, target, opts->output ? "--output" : "target", m, tpos, err)) < 0)
		goto fail;
	p->target_dir = tpos.line ? xstrdup(m->dir) : ims_path_absolute(NULL, ".");
	if (p->target->kind == IMS_REF_SCRATCH) {
		r = ims_error_set(err, IMS_EINVALID, "the target cannot be `scratch`");
		goto fail;
	}
	if (opts->output && p->target->kind == IMS_REF_REGISTRY) {
		r = ims_error_set(err, IMS_EINVALID,
				  "--output `%s` must be an oci:, oci-archive: or docker-archive: reference; use "
				  "--target to push",
				  opts->output);
		goto fail;
	}

	size_t nt = m->tags.n + opts->ntags;
	p->tags = xcalloc(nt + 1, sizeof(char *));
	for (size_t i = 0; i < m->tags.n; i++)
		p->tags[p->ntags++] = xstrdup(m->tags.v[i].s);
	for (size_t i = 0; i < opts->ntags; i++) {
		if (!ims_ref_tag_valid(opts->tags[i])) {
			r = ims_error_set(err, IMS_EINVALID, "-t `%s` is not a valid tag", opts->tags[i]);
			goto fail;
		}
		p->tags[p->ntags++] = xstrdup(opts->tags[i]);
	}

	const char *const *plats = NULL;
	size_t nplats = 0;
	if (opts->nplatforms) {
		plats = opts->platforms;
		nplats = opts->nplatforms;
	} else if (m->platforms.n) {
		spec_plats = xcalloc(m->platforms.n, sizeof(char *));
		for (size_t i = 0; i < m->platforms.n; i++)
			spec_plats[i] = m->platforms.v[i].s;
		plats = spec_plats;
		nplats = m->platforms.n;
	}
	p->platforms = xcalloc(nplats + 1, sizeof(*p->platforms));
	for (size_t i = 0; i < nplats; i++) {
		if (!strcmp(plats[i], "all")) {
			p->all_platforms = true;
			continue;
		}
		ims_platform *pl = ims_platform_parse(plats[i]);
		if (!pl) {
			r = ims_error_set(err, IMS_EINVALID, "platform `%s` is not of the form os/arch[/variant]",
					  plats[i]);
			goto fail;
		}
		p->platforms[p->nplatforms++] = pl;
	}
	if (p->all_platforms && p->nplatforms) {
		r = ims_error_set(err, IMS_EINVALID, "platform `all` cannot be combined with other platforms");
		goto fail;
	}

	if ((r = resolve_created(p, m, err)) < 0)
		goto fail;
	plan_layers(p, m);
	*out = p;
	return 0;
fail:
	ims_plan_free(p);
	return r;
}

void ims_plan_free(ims_plan *p)
{
	if (!p)
		return;
	ims_ref_free(p->base);
	ims_ref_free(p->target);
	free(p->base_dir);
	free(p->target_dir);
	for (size_t i = 0; i < p->ntags; i++)
		free(p->tags[i]);
	free(p->tags);
	for (size_t i = 0; i < p->nplatforms; i++)
		ims_platform_free(p->platforms[i]);
	free(p->platforms);
	for (size_t i = 0; i < p->nsteps; i++) {
		free(p->steps[i].created_by);
		free(p->steps[i].comment);
	}
	free(p->steps);
	ims_json_free(p->config_override);
	free(p);
}

static const char *alg_name(ims_compress_alg a)
{
	switch (a) {
	case IMS_COMPRESS_ZSTD:
		return "zstd";
	case IMS_COMPRESS_NONE:
		return "none";
	default:
		return "gzip";
	}
}

char *ims_plan_describe(const ims_plan *p)
{
	ims_buf b = IMS_BUF_INIT(0);
	_cleanup_free_ char *base = ims_ref_string(p->base);
	_cleanup_free_ char *target = ims_ref_string(p->target);
	ims_buf_printf(&b, "base:    %s\n", base);
	ims_buf_printf(&b, "target:  %s\n", target);
	for (size_t i = 0; i < p->ntags; i++)
		ims_buf_printf(&b, "tag:     %s\n", p->tags[i]);
	if (p->all_platforms)
		ims_buf_puts(&b, "platforms: all of the base's\n");
	for (size_t i = 0; i < p->nplatforms; i++) {
		_cleanup_free_ char *ps = ims_platform_string(p->platforms[i]);
		ims_buf_printf(&b, "platform: %s\n", ps);
	}
	char created[32];
	ims_rfc3339(p->created, created);
	ims_buf_printf(&b, "created: %s\n", created);
	for (size_t i = 0; i < p->nsteps; i++) {
		const ims_step *s = &p->steps[i];
		ims_buf_printf(&b, "layer %zu: %s", i + 1, s->created_by);
		if (s->kind != IMS_STEP_BLOB)
			ims_buf_printf(&b, " [%s]", alg_name(s->alg));
		ims_buf_putc(&b, '\n');
	}
	return ims_buf_steal(&b, NULL);
}
