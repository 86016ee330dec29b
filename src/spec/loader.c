/* The spec object: a parsed model plus the warnings it drew. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spec/spec_int.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/xalloc.h"

static void add_warning(ims_spec *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_warning(ims_spec *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *w = xvasprintf(fmt, ap);
	va_end(ap);
	s->warnings = xrealloc(s->warnings, (s->nwarnings + 2) * sizeof(char *));
	s->warnings[s->nwarnings++] = w;
	s->warnings[s->nwarnings] = NULL;
}

static bool lists_dockerignore(const ims_file_spec *f)
{
	for (size_t i = 0; i < f->ignore_files.n; i++)
		if (!strcmp(f->ignore_files.v[i].s, ".dockerignore"))
			return true;
	return false;
}

/* The first copy that does not read .dockerignore, and how many there are. */
static const ims_file_spec *unignored(const ims_file_spec *f, size_t n, const ims_file_spec *first, size_t *count)
{
	for (size_t i = 0; i < n; i++)
		if (f[i].kind == IMS_FILE_COPY && !lists_dockerignore(&f[i])) {
			first = first ? first : &f[i];
			(*count)++;
		}
	return first;
}

/* docker applies the build context's .dockerignore to every COPY;
 * imagespec has no context: a mapping reads only the ignore files it
 * names, inside its own src (docs/image.yaml.md, "The .dockerignore next
 * to the spec"). Said once, at the first copy that would surprise. */
static void dockerignore_warning(ims_spec *s)
{
	const ims_spec_model *m = s->m;
	_cleanup_free_ char *di = ims_path_join(m->dir, ".dockerignore");
	if (!m->path || access(di, F_OK) != 0)
		return;
	size_t count = 0;
	const ims_file_spec *first = unignored(m->files, m->nfiles, NULL, &count);
	for (size_t i = 0; i < m->nlayers; i++)
		first = unignored(m->layers[i].files, m->layers[i].nfiles, first, &count);
	if (!first)
		return;
	const char *src = first->src.s;
	bool top = !strcmp(src, ".") || !strcmp(src, "./");
	_cleanup_free_ char *more = count > 1 ? xasprintf(" (and %zu more cop%s)", count - 1, count > 2 ? "ies" : "y")
					      : xstrdup("");
	add_warning(s,
		    "%s:%d:%d: the `.dockerignore` next to the spec is not applied to `src: %s`%s, unlike docker's "
		    "COPY; %s",
		    m->path, first->pos.line, first->pos.col, src, more,
		    top ? "add `ignoreFiles: [.dockerignore]` to the entry"
			: "put its patterns in the entry's `exclude` (relative to `src`), or an ignore file inside "
			  "`src` named in `ignoreFiles`");
}

/* Directories that usr-merged distributions (Debian 12, Ubuntu, Fedora,
 * Arch) make symlinks into /usr. */
static const char *usr_merged(const char *dest)
{
	static const char *const links[] = { "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32" };
	size_t n = strlen(dest);
	while (n > 1 && dest[n - 1] == '/')
		n--;
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (strlen(links[i]) == n && !strncmp(dest, links[i], n))
			return links[i];
	return NULL;
}

/* An entry for a directory whose base entry is a symlink replaces the link
 * when the layers are unpacked (docker's COPY would follow it). imagespec
 * never reads the base's layers, so it cannot know the base's symlinks;
 * it warns where they are known to be: the usr-merge links. */
static void symlink_dest_warnings(ims_spec *s, const ims_file_spec *f, size_t n)
{
	const ims_spec_model *m = s->m;
	for (size_t i = 0; i < n; i++) {
		const char *link = (f[i].kind == IMS_FILE_COPY || f[i].kind == IMS_FILE_DIR) ? usr_merged(f[i].dest.s)
											     : NULL;
		/* a file copied into `/bin/` writes no entry for /bin */
		if (link && f[i].kind == IMS_FILE_COPY && f[i].dest.s[strlen(f[i].dest.s) - 1] == '/') {
			_cleanup_free_ char *src = ims_path_join(m->dir, f[i].src.s);
			struct stat st;
			if (stat(src, &st) != 0 || !S_ISDIR(st.st_mode))
				link = NULL;
		}
		if (link)
			add_warning(s,
				    "%s:%d:%d: `dest: %s` writes a directory entry for `%s`, which is a symlink to "
				    "`/usr%s` in usr-merged bases: unpacking replaces the link with a directory "
				    "(docker's COPY would follow it); write `dest: /usr%s/` instead",
				    m->path, f[i].pos.line, f[i].pos.col, f[i].dest.s, link, link, link);
	}
}

/* A literal password or token in a file ends up in version control, and
 * in the hands of whoever may read the file; an env value named like a
 * secret ends up in the image config (secrets.c). */
static void collect_warnings(ims_spec *s, bool from_file)
{
	const ims_spec_model *m = s->m;
	bool literal = false;
	dockerignore_warning(s);
	if (m->path && m->base.s && strcmp(m->base.s, "scratch")) {
		symlink_dest_warnings(s, m->files, m->nfiles);
		for (size_t i = 0; i < m->nlayers; i++)
			symlink_dest_warnings(s, m->layers[i].files, m->layers[i].nfiles);
	}
	for (size_t i = 0; m->path && i < m->nauth; i++) {
		const ims_auth_entry *a = &m->auth[i];
		if (a->literal_secret)
			add_warning(s,
				    "%s:%d:%d: auth for `%s` holds a literal secret; use `${host:NAME}` to read it from "
				    "the environment instead",
				    m->path, a->key.pos.line, a->key.pos.col, a->key.s);
		literal = literal || a->literal_secret;
	}
	unsigned mode = 0;
	if (literal && from_file && ims_spec__file_exposed(m->path, &mode))
		add_warning(s,
			    "%s: holds a literal secret and may be read or written by others (mode %04o); "
			    "`chmod go-rwx %s`, or read the secret with `${host:NAME}`",
			    m->path, mode, m->path);
	for (size_t i = 0; m->env_secret && i < m->env.n; i++) {
		const ims_kv *kv = &m->env.v[i];
		if (!m->env_secret[i])
			continue;
		if (m->path && kv->key.pos.line > 0)
			add_warning(s,
				    "%s:%d:%d: env `%s` looks like a secret, and its value is stored in the image config "
				    "for anyone who pulls the image; pass secrets at run time, or add the comment "
				    "`# imagespec: not-secret` on this line if it is none",
				    m->path, kv->key.pos.line, kv->key.pos.col, kv->key.s);
		else
			add_warning(s,
				    "env `%s` looks like a secret, and its value is stored in the image config for "
				    "anyone who pulls the image; pass secrets at run time",
				    kv->key.s);
	}
}

int ims_spec_read(ims_spec **out, const char *path, const char *data, size_t len, const char *dir,
		  const ims_spec_params *params, ims_error **err)
{
	ims_spec_model *m = NULL;
	int r = ims_spec_model_parse(&m, path, data, len, dir, params, err);
	if (r < 0)
		return r;
	ims_spec *s = xcalloc(1, sizeof(*s));
	s->m = m;
	collect_warnings(s, data == NULL);
	*out = s;
	return 0;
}

void ims_spec_destroy(ims_spec *s)
{
	if (!s)
		return;
	ims_spec_model_free(s->m);
	for (size_t i = 0; i < s->nwarnings; i++)
		free(s->warnings[i]);
	free(s->warnings);
	free(s);
}
