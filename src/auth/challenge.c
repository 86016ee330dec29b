/* WWW-Authenticate parsing (RFC 7235 section 4.1, RFC 9110 section 11).
 *
 *   challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *   auth-param = token BWS "=" BWS ( token / quoted-string )
 *
 * The header comes from a registry we do not trust yet, so the tokenizer
 * is bounded (size and parameter count), refuses what could smuggle a
 * header (CR, LF, NUL, other controls) and refuses a duplicate parameter:
 * two realms would make "which one did we check" ambiguous. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_int.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define CHALLENGE_MAX_BYTES 8192
#define CHALLENGE_MAX_PARAMS 32
#define CHALLENGE_MAX_CHALLENGES 16

typedef struct {
	ims_challenge c;
	char *names[CHALLENGE_MAX_PARAMS]; /* this challenge's parameters, for duplicates */
	size_t nnames;
} parsed;

typedef struct {
	const char *s;
	size_t i;
	size_t params; /* across all challenges */
	parsed ch[CHALLENGE_MAX_CHALLENGES];
	size_t nch;
	ims_error **err;
} parser;

static int fail(parser *p, const char *why)
{
	return ims_error_set(p->err, IMS_EINVALID, "invalid WWW-Authenticate header: %s (at byte %zu)", why, p->i);
}

static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_token68_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c && strchr("-._~+/", c));
}

static void skip_ows(parser *p)
{
	while (p->s[p->i] == ' ' || p->s[p->i] == '\t')
		p->i++;
}

static size_t token_len(const parser *p, size_t at)
{
	size_t n = 0;
	while (is_tchar((unsigned char)p->s[at + n]))
		n++;
	return n;
}

static char *lower_dup(const char *s, size_t n)
{
	char *d = xstrndup(s, n);
	for (char *c = d; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	return d;
}

/* quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE, unescaped. */
static int quoted_string(parser *p, char **out)
{
	size_t start = ++p->i, n = 0;
	char *v = xmalloc(strlen(p->s + start) + 1);
	for (;;) {
		unsigned char c = (unsigned char)p->s[p->i];
		if (c == '\0') {
			free(v);
			return fail(p, "unterminated quoted string");
		}
		if (c == '"')
			break;
		if (c == '\\') {
			c = (unsigned char)p->s[++p->i];
			if (c == '\0') {
				free(v);
				return fail(p, "unterminated quoted string");
			}
		}
		v[n++] = (char)c;
		p->i++;
	}
	v[n] = '\0';
	p->i++;
	*out = v;
	return 0;
}

static char **field_for(ims_challenge *c, const char *name)
{
	if (!strcmp(name, "realm"))
		return &c->realm;
	if (!strcmp(name, "service"))
		return &c->service;
	if (!strcmp(name, "scope"))
		return &c->scope;
	if (!strcmp(name, "error"))
		return &c->error;
	return NULL;
}

/* auth-param, with p->i at its name (namelen bytes, already checked). */
static int auth_param(parser *p, parsed *c, size_t namelen)
{
	if (++p->params > CHALLENGE_MAX_PARAMS)
		return fail(p, "more than 32 parameters");
	_cleanup_free_ char *name = lower_dup(p->s + p->i, namelen);
	for (size_t k = 0; k < c->nnames; k++)
		if (!strcmp(c->names[k], name))
			return ims_error_set(p->err, IMS_EINVALID,
					     "invalid WWW-Authenticate header: duplicate parameter `%s`", name);
	p->i += namelen;
	skip_ows(p);
	p->i++; /* the '=' the caller saw */
	skip_ows(p);

	char *value = NULL;
	if (p->s[p->i] == '"') {
		int rc = quoted_string(p, &value);
		if (rc < 0)
			return rc;
	} else {
		size_t n = token_len(p, p->i);
		if (n == 0)
			return fail(p, "a parameter without a value");
		value = xstrndup(p->s + p->i, n);
		p->i += n;
	}
	char **field = field_for(&c->c, name);
	if (field)
		*field = value;
	else
		free(value);
	c->names[c->nnames++] = steal_pointer(&name);
	return 0;
}

/* After a list separator: is the next element "name =" (a parameter of the
 * current challenge) rather than the start of a new challenge? */
static bool next_is_param(const parser *p, size_t *namelen)
{
	size_t n = token_len(p, p->i), j = p->i + n;
	while (p->s[j] == ' ' || p->s[j] == '\t')
		j++;
	*namelen = n;
	return n > 0 && p->s[j] == '=';
}

/* token68 then optional padding, ending the challenge; false (nothing
 * consumed) when what follows is not one. */
static bool token68(parser *p)
{
	size_t j = p->i;
	while (is_token68_char((unsigned char)p->s[j]))
		j++;
	if (j == p->i)
		return false;
	while (p->s[j] == '=')
		j++;
	size_t end = j;
	while (p->s[end] == ' ' || p->s[end] == '\t')
		end++;
	if (p->s[end] != '\0' && p->s[end] != ',')
		return false;
	p->i = end;
	return true;
}

/* One challenge and its parameters; p->i ends at a separator or the end. */
static int challenge(parser *p)
{
	size_t n = token_len(p, p->i);
	if (n == 0)
		return fail(p, "expected an authentication scheme");
	if (p->nch == CHALLENGE_MAX_CHALLENGES)
		return fail(p, "too many challenges");
	parsed *c = &p->ch[p->nch++];
	c->c.scheme = lower_dup(p->s + p->i, n);
	p->i += n;

	if (p->s[p->i] != ' ' && p->s[p->i] != '\t') {
		if (p->s[p->i] != '\0' && p->s[p->i] != ',')
			return fail(p, "unexpected character after the scheme");
		return 0;
	}
	skip_ows(p);
	if (p->s[p->i] == '\0' || p->s[p->i] == ',' || token68(p))
		return 0;

	for (;;) {
		size_t namelen;
		if (!next_is_param(p, &namelen))
			return fail(p, "expected a parameter");
		int rc = auth_param(p, c, namelen);
		if (rc < 0)
			return rc;
		skip_ows(p);
		if (p->s[p->i] == '\0')
			return 0;
		if (p->s[p->i] != ',')
			return fail(p, "expected `,` between parameters");
		/* Empty list elements are allowed (RFC 9110 5.6.1). */
		size_t save = p->i;
		while (p->s[p->i] == ',' || p->s[p->i] == ' ' || p->s[p->i] == '\t')
			p->i++;
		if (p->s[p->i] == '\0')
			return 0;
		if (!next_is_param(p, &namelen)) {
			p->i = save; /* a new challenge starts here */
			return 0;
		}
	}
}

static void parsed_dispose(parsed *c)
{
	ims_challenge_dispose(&c->c);
	for (size_t k = 0; k < c->nnames; k++)
		free(c->names[k]);
}

static int check_bytes(parser *p)
{
	size_t len = 0;
	for (const unsigned char *c = (const unsigned char *)p->s; *c; c++, len++) {
		if (len >= CHALLENGE_MAX_BYTES)
			return ims_error_set(p->err, IMS_EINVALID,
					     "invalid WWW-Authenticate header: longer than %d bytes",
					     CHALLENGE_MAX_BYTES);
		if ((*c < 0x20 && *c != '\t') || *c == 0x7f) {
			p->i = len;
			return fail(p, *c == '\r' || *c == '\n' ? "line break" : "control character");
		}
	}
	return 0;
}

static int parse_all(parser *p)
{
	int rc = check_bytes(p);
	if (rc < 0)
		return rc;
	for (;;) {
		while (p->s[p->i] == ',' || p->s[p->i] == ' ' || p->s[p->i] == '\t')
			p->i++;
		if (p->s[p->i] == '\0')
			break;
		if ((rc = challenge(p)) < 0)
			return rc;
	}
	if (p->nch == 0)
		return fail(p, "no challenge");
	return 0;
}

/* Bearer first: it scopes the access; then Basic; else the first, so that
 * the caller can name a scheme it does not support. */
static size_t preferred(const parser *p)
{
	static const char *const order[] = { "bearer", "basic" };
	for (size_t o = 0; o < IMS_ARRAY_SIZE(order); o++)
		for (size_t k = 0; k < p->nch; k++)
			if (!strcmp(p->ch[k].c.scheme, order[o]))
				return k;
	return 0;
}

int ims_challenge_parse(const char *value, ims_challenge *out, ims_error **err)
{
	parser p = { .s = value ? value : "", .err = err };
	memset(out, 0, sizeof(*out));
	int rc = parse_all(&p);
	if (rc == 0) {
		parsed *c = &p.ch[preferred(&p)];
		*out = c->c;
		memset(&c->c, 0, sizeof(c->c));
	}
	for (size_t k = 0; k < p.nch; k++)
		parsed_dispose(&p.ch[k]);
	return rc;
}

void ims_challenge_dispose(ims_challenge *c)
{
	if (!c)
		return;
	free(c->scheme);
	free(c->realm);
	free(c->service);
	free(c->scope);
	free(c->error);
	memset(c, 0, sizeof(*c));
}
