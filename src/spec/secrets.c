/* Warnings about secrets a spec may leak (catalogue items 16 and 17):
 *
 *   - an `env` key whose name looks like a secret's (SECRET, TOKEN,
 *     PASSWORD, PASSWD, a `_KEY` part: AWS_SECRET_ACCESS_KEY, API_KEY) with
 *     a value: the value is baked into the image config, which anyone who
 *     can pull the image reads. A comment `# imagespec: not-secret` on the
 *     key's line silences it for that key (a public key id, a token's
 *     *name*);
 *   - a spec file holding a literal `auth` secret that its group or others
 *     may read or write.
 *
 * The value is never quoted: it may be the secret. */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "spec/spec_int.h"
#include "util/xalloc.h"

#define NOT_SECRET "not-secret"

/* Whether NAME (any case) looks like it names a secret. */
bool ims_spec__env_name_secret(const char *name)
{
	size_t n = strlen(name);
	char *up = xmalloc(n + 1);
	for (size_t i = 0; i <= n; i++)
		up[i] = (char)toupper((unsigned char)name[i]);
	static const char *const words[] = { "SECRET", "TOKEN", "PASSWORD", "PASSWD" };
	bool hit = false;
	for (size_t i = 0; i < sizeof(words) / sizeof(*words) && !hit; i++)
		hit = strstr(up, words[i]) != NULL;
	/* `_KEY` as a whole part: API_KEY, AWS_SECRET_ACCESS_KEY, KEY_FILE
	 * stays quiet (a path), as do MONKEY and KEYBOARD_LAYOUT. */
	for (const char *p = up; !hit && (p = strstr(p, "_KEY")); p++)
		hit = p[4] == '\0' || p[4] == '_';
	free(up);
	return hit;
}

/* Whether line (1-based) of data carries `# imagespec: not-secret`. */
static bool line_silenced(const char *data, size_t len, int line)
{
	const char *p = data, *end = data + len;
	for (int l = 1; l < line && p < end; l++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		p = nl ? nl + 1 : end;
	}
	const char *eol = memchr(p, '\n', (size_t)(end - p));
	if (!eol)
		eol = end;
	for (const char *h = p; h < eol && (h = memchr(h, '#', (size_t)(eol - h))); h++) {
		const char *q = h + 1;
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		if ((size_t)(eol - q) < strlen("imagespec:") || strncmp(q, "imagespec:", 10))
			continue;
		q += 10;
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		if ((size_t)(eol - q) >= strlen(NOT_SECRET) && !strncmp(q, NOT_SECRET, strlen(NOT_SECRET)))
			return true;
	}
	return false;
}

void ims_spec__mark_env_secrets(ims_spec_model *m, const char *data, size_t len)
{
	if (!m->env.n)
		return;
	m->env_secret = xcalloc(m->env.n, sizeof(bool));
	for (size_t i = 0; i < m->env.n; i++) {
		const ims_kv *kv = &m->env.v[i];
		if (!kv->key.s || !kv->value.s || !*kv->value.s || !ims_spec__env_name_secret(kv->key.s))
			continue;
		m->env_secret[i] = !(kv->key.pos.line > 0 && line_silenced(data, len, kv->key.pos.line));
	}
}

bool ims_spec__file_exposed(const char *path, unsigned *mode)
{
	struct stat st;
	if (!path || !strcmp(path, "-") || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	*mode = (unsigned)(st.st_mode & 07777);
	return (st.st_mode & 0066) != 0;
}
