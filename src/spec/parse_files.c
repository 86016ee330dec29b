/* `files:` entries, at the top level and inside `layers[].files`. Each is
 * exactly one of: a copy (src), an inline file (content/contentBase64),
 * a symlink, or a directory (type: dir). */
#include "spec/spec_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest/base64.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

/* The keys that decide an entry's kind, in the order of ims_file_kind
 * (contentBase64 is the second spelling of CONTENT). */
static const char *const kind_keys[] = { "src", "content", "symlink", "type", "contentBase64" };
static const ims_file_kind kinds[] = { IMS_FILE_COPY, IMS_FILE_CONTENT, IMS_FILE_SYMLINK, IMS_FILE_DIR,
				       IMS_FILE_CONTENT };
static const char *const dir_names[] = { "dir", NULL };
/* in the order of ims_symlink_mode */
static const char *const symlink_names[] = { "preserve", "follow", NULL };

static void parse_patterns(spec_ctx *c, const ynode *n, const char *key, bool copy, ims_strlist *out)
{
	const ypair *p = ynode_find(n, key);
	if (!p)
		return;
	if (!copy) {
		spec_error(c, p->key->pos, "`%s` only applies to entries with `src`", key);
		return;
	}
	char what[32];
	snprintf(what, sizeof(what), "`%s`", key);
	spec_get_strlist(c, p->value, what, GET_NONEMPTY, out);
}

static void parse_content(spec_ctx *c, const ynode *n, ims_file_spec *f)
{
	spec_scalar s;
	const ynode *v = spec_val(n, "content");
	/* with both keys (already reported), only content is read */
	if (v) {
		if (spec_get_scalar(c, v, "`content`", GET_BIG | GET_NUL_OK, &s)) {
			f->content = s.s;
			f->content_len = s.len;
		}
		return;
	}
	if ((v = spec_val(n, "contentBase64")) && spec_get_scalar(c, v, "`contentBase64`", GET_BIG, &s)) {
		/* Folded and literal YAML blocks bring line breaks; padding may
		 * be left out. */
		if (ims_base64_decode(&f->content, &f->content_len, s.s, s.len, IMS_BASE64_STD,
				      IMS_BASE64_SKIP_SPACE | IMS_BASE64_PAD_OPTIONAL, NULL) < 0)
			spec_error(c, v->pos, "`contentBase64` is not valid base64");
		free(s.s);
	}
}

static void parse_entry(spec_ctx *c, const ynode *n, ims_file_spec *f)
{
	f->pos = n->pos;
	if (!spec_check_keys(c, n, &spec_obj_file, "a `files` entry"))
		return;
	int k = spec_one_of(c, n, kind_keys, IMS_ARRAY_SIZE(kind_keys), "a `files` entry",
			    "one of `src`, `content`, `contentBase64`, `symlink` or `type: dir`");
	bool known = k >= 0;
	if (known)
		f->kind = kinds[k];
	const ynode *v;

	if ((v = spec_val(n, "dest"))) {
		int flags = PATH_NO_WHITEOUT;
		/* an entry of its own needs a name; only a copy may go into / */
		if (known && f->kind != IMS_FILE_COPY)
			flags |= PATH_NO_ROOT | PATH_FILE;
		if (spec_get_str(c, v, "`dest`", GET_NONEMPTY, &f->dest))
			spec_check_abs(c, &f->dest, "`dest`", flags);
	} else {
		spec_error(c, n->pos, "a `files` entry needs `dest`");
	}
	if ((v = spec_val(n, "src")) && spec_get_str(c, v, "`src`", GET_NONEMPTY | SUBST_PLATFORM, &f->src))
		spec_check_rel(c, &f->src, "`src`");
	parse_content(c, n, f);
	if ((v = spec_val(n, "symlink")))
		spec_get_str(c, v, "`symlink`", GET_NONEMPTY, &f->symlink);
	if ((v = spec_val(n, "type")))
		spec_get_enum(c, v, "`type`", dir_names);

	bool copy = !known || f->kind == IMS_FILE_COPY;
	parse_patterns(c, n, "include", copy, &f->include);
	parse_patterns(c, n, "exclude", copy, &f->exclude);
	parse_patterns(c, n, "ignoreFiles", copy, &f->ignore_files);
	for (size_t i = 0; i < f->ignore_files.n; i++)
		spec_check_rel(c, &f->ignore_files.v[i], "`ignoreFiles` entry");
	const ypair *p;
	int sym;
	if ((p = ynode_find(n, "symlinks"))) {
		if (!copy)
			spec_error(c, p->key->pos, "`symlinks` only applies to entries with `src`");
		else if ((sym = spec_get_enum(c, p->value, "`symlinks`", symlink_names)) >= 0)
			f->symlinks = (ims_symlink_mode)sym;
	}

	spec_get_attrs(c, n, &f->attrs);
	/* tar stores every symlink as 0777, and an inline file is no directory */
	if (known && f->kind == IMS_FILE_SYMLINK && (p = ynode_find(n, "mode")))
		spec_error(c, p->key->pos, "`mode` has no effect on a symlink");
	if (known && (f->kind == IMS_FILE_SYMLINK || f->kind == IMS_FILE_CONTENT) && (p = ynode_find(n, "dirMode")))
		spec_error(c, p->key->pos, "`dirMode` only applies to entries with `src` or `type: dir`");
}

void spec_parse_files(spec_ctx *c, const ynode *n, const char *what, ims_file_spec **out, size_t *nout)
{
	if (n->kind != YN_SEQ) {
		spec_error(c, n->pos, "%s must be a list of mappings, not %s", what, ynode_kind_name(n));
		return;
	}
	*out = xcalloc(n->n ? n->n : 1, sizeof(**out));
	*nout = n->n;
	for (size_t i = 0; i < n->n; i++)
		parse_entry(c, n->items[i], &(*out)[i]);
}
