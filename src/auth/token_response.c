/* A token server's answer (distribution docs/spec/auth/token.md, oauth.md):
 * {"token": T, "access_token": T, "expires_in": N, "issued_at": RFC 3339}.
 *
 * The body is the peer's; nothing of it goes into an error message (a
 * JSON parser's "near ..." excerpt could quote a token). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/auth_int.h"
#include "json/json.h"
#include "util/error.h"
#include "util/xalloc.h"

static bool digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static bool expect(const char **p, const char *set)
{
	if (!**p || !strchr(set, **p))
		return false;
	(*p)++;
	return true;
}

bool ims_auth__rfc3339(const char *s, double *out)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	double frac = 0;
	const char *p = s;
	if (!s || !digits(&p, 4, &y) || !expect(&p, "-") || !digits(&p, 2, &mo) || !expect(&p, "-") ||
	    !digits(&p, 2, &d) || !expect(&p, "Tt ") || !digits(&p, 2, &h) || !expect(&p, ":") || !digits(&p, 2, &mi) ||
	    !expect(&p, ":") || !digits(&p, 2, &sec))
		return false;
	if (*p == '.') {
		double scale = 0.1;
		if (!(p[1] >= '0' && p[1] <= '9'))
			return false;
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += (*p - '0') * scale;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (!digits(&p, 2, &oh) || !expect(&p, ":") || !digits(&p, 2, &om))
			return false;
	} else {
		return false;
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || oh > 23 || om > 59)
		return false;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = (double)timegm(&tm) + frac - sign * (oh * 3600 + om * 60);
	return true;
}

/* expires_in: 60 when absent, not an integer, or <= 0 (token spec); a day
 * at most, so that a server's typo cannot pin a token forever. */
static double lifetime(const ims_json *o)
{
	int64_t n;
	const ims_json *v = ims_json_get(o, "expires_in");
	if (!v || v->type != IMS_JSON_NUMBER || !ims_json_int(v, &n) || n <= 0)
		return IMS_AUTH_EXPIRES_DEFAULT;
	return n > IMS_AUTH_EXPIRES_MAX ? IMS_AUTH_EXPIRES_MAX : (double)n;
}

/* What is left of the lifetime, counting from issued_at when it is
 * plausible. A clock skewed either way would otherwise make every token
 * look expired (or immortal): an issued_at in the future or older than
 * the lifetime is ignored, and the server's next 401 has the last word. */
static double remaining(const ims_json *o, double life)
{
	double at, now = (double)time(NULL);
	const char *s = ims_json_get_string(o, "issued_at");
	if (!s || !ims_auth__rfc3339(s, &at) || at > now || now - at >= life)
		return life;
	return life - (now - at);
}

int ims_auth__token_parse(const char *body, size_t len, const char *origin, ims_token *out, ims_error **err)
{
	ims_json_limits lim = { .max_bytes = IMS_AUTH_TOKEN_BODY_MAX, .max_depth = 16, .max_items = 10000 };
	ims_json *o = NULL;
	ims_error *perr = NULL;
	memset(out, 0, sizeof(*out));
	if (len > IMS_AUTH_TOKEN_BODY_MAX)
		return ims_error_set(err, IMS_EGENERIC, "token server `%s` sent more than %d bytes", origin,
				     IMS_AUTH_TOKEN_BODY_MAX);
	if (ims_json_parse(&o, body ? body : "", len, &lim, &perr) < 0 || o->type != IMS_JSON_OBJECT) {
		ims_error_free(perr);
		ims_json_free(o);
		return ims_error_set(err, IMS_EGENERIC, "token server `%s` sent a response that is not a JSON object",
				     origin);
	}
	/* token.md: at least one of the two; when both differ "the client's
	 * choice is undefined": token is what docker reads first. */
	const char *t = ims_json_get_string(o, "token");
	if (!t || !*t)
		t = ims_json_get_string(o, "access_token");
	int rc = 0;
	if (!t || !*t)
		rc = ims_error_set(err, IMS_EGENERIC, "token server `%s` sent no `token` or `access_token`", origin);
	else if (!ims_auth__token_valid(t))
		rc = ims_error_set(err, IMS_EGENERIC,
				   "token server `%s` sent a token that cannot be used in a header "
				   "(control characters, spaces or more than %d bytes)",
				   origin, IMS_AUTH_TOKEN_MAX);
	if (rc == 0) {
		out->token = xstrdup(t);
		out->lifetime = lifetime(o);
		out->remaining = remaining(o, out->lifetime);
	}
	/* The tree holds the token (and maybe a refresh token) in clear. */
	const char *secrets[] = { "token", "access_token", "refresh_token" };
	for (size_t k = 0; k < sizeof(secrets) / sizeof(secrets[0]); k++) {
		ims_json *v = ims_json_get(o, secrets[k]);
		if (v && v->type == IMS_JSON_STRING && v->s)
			explicit_bzero(v->s, v->slen);
	}
	ims_json_free(o);
	return rc;
}
