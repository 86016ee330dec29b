/* What the registry said when it said no: the status, and the first code
 * and message of its JSON error body ({"errors":[{"code","message"}]}),
 * read from at most 64 KiB and stripped of control characters so that a
 * hostile body cannot paint the terminal. */
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "transport/registry_int.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define ERROR_BODY_MAX (64u << 10)
#define ERROR_TEXT_MAX 300

/* A printable copy of at most ERROR_TEXT_MAX bytes of s[0..n). */
static char *clean_text(const char *s, size_t n)
{
	ims_buf b = IMS_BUF_INIT(0);
	for (size_t i = 0; i < n && b.len < ERROR_TEXT_MAX; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch == 0x7f) {
			if ((ch == '\n' || ch == '\t' || ch == '\r') && b.len && b.data[b.len - 1] != ' ')
				ims_buf_putc(&b, ' ');
			continue;
		}
		ims_buf_putc(&b, (char)ch);
	}
	while (b.len && b.data[b.len - 1] == ' ')
		b.data[--b.len] = '\0';
	if (!b.len) {
		ims_buf_dispose(&b);
		return NULL;
	}
	return ims_buf_steal(&b, NULL);
}

/* The errors[] array of a JSON error body, or NULL. */
static ims_json *parse_errors(const ims_http_response *resp, ims_json **doc)
{
	*doc = NULL;
	if (!resp->body.data || !resp->body.len || resp->body.len > ERROR_BODY_MAX)
		return NULL;
	ims_json_limits lim = { .max_bytes = ERROR_BODY_MAX, .max_depth = 16, .max_items = 10000 };
	if (ims_json_parse(doc, resp->body.data, resp->body.len, &lim, NULL) < 0)
		return NULL;
	ims_json *errors = ims_json_get(*doc, "errors");
	if (!errors || errors->type != IMS_JSON_ARRAY || !errors->n)
		return NULL;
	return errors;
}

/* Codes that say nothing (UNKNOWN) or a passing state come after the
 * ones that name the problem (MANIFEST_BLOB_UNKNOWN, DIGEST_INVALID...). */
static bool vague_code(const char *code)
{
	return !code || !strcmp(code, "UNKNOWN") || !strcmp(code, "UNAVAILABLE") || !strcmp(code, "TOOMANYREQUESTS");
}

/* The index of the most useful entry of errors[]: the first with a code
 * that names the problem, else the first. */
static size_t best_error(const ims_json *errors)
{
	for (size_t i = 0; i < errors->n; i++)
		if (!vague_code(ims_json_get_string(errors->v[i], "code")))
			return i;
	return 0;
}

char *ims_registry__error_code(const ims_http_response *resp)
{
	ims_json *doc = NULL;
	ims_json *errors = parse_errors(resp, &doc);
	const char *code = errors ? ims_json_get_string(errors->v[best_error(errors)], "code") : NULL;
	char *out = code ? clean_text(code, strlen(code)) : NULL;
	ims_json_free(doc);
	return out;
}

bool ims_registry__permanent(const ims_http_response *resp)
{
	_cleanup_free_ char *code = ims_registry__error_code(resp);
	return !vague_code(code);
}

#define DETAIL_ERRORS_MAX 4

/* " CODE: message (detail)" of one entry, appended to b. */
static void put_error(ims_buf *b, const ims_json *e)
{
	const char *code = ims_json_get_string(e, "code");
	const char *msg = ims_json_get_string(e, "message");
	const char *detail = ims_json_get_string(e, "detail");
	_cleanup_free_ char *c = code ? clean_text(code, strlen(code)) : NULL;
	_cleanup_free_ char *m = msg ? clean_text(msg, strlen(msg)) : NULL;
	_cleanup_free_ char *d = detail ? clean_text(detail, strlen(detail)) : NULL;
	if (d && m && strstr(m, d))
		d[0] = '\0';
	ims_buf_printf(b, "%s%s%s%s%s%s%s", c ? " " : "", c ? c : "", m ? ": " : "", m ? m : "", d && *d ? " (" : "",
		       d && *d ? d : "", d && *d ? ")" : "");
}

/* " MANIFEST_BLOB_UNKNOWN: blob unknown to registry (sha256:...); UNKNOWN:
 * unknown error", the most useful first, repeats dropped; or the start of
 * a short text body; or "". */
char *ims_registry__detail(const ims_http_response *resp)
{
	ims_json *doc = NULL;
	ims_json *errors = parse_errors(resp, &doc);
	if (errors) {
		ims_buf b = IMS_BUF_INIT(0);
		size_t best = best_error(errors), shown = 0, more = 0;
		/* the best one, then the rest in their order */
		for (size_t k = 0; k <= errors->n; k++) {
			size_t i = k == 0 ? best : k - 1;
			if (k > 0 && i == best)
				continue;
			ims_buf one = IMS_BUF_INIT(0);
			put_error(&one, errors->v[i]);
			bool repeat = one.len && b.len && strstr(b.data, one.data + 1);
			if (one.len && !repeat) {
				if (shown < DETAIL_ERRORS_MAX)
					ims_buf_printf(&b, "%s%s", shown ? ";" : "", one.data);
				else
					more++;
				shown++;
			}
			ims_buf_dispose(&one);
		}
		if (more)
			ims_buf_printf(&b, " (and %zu more errors)", more);
		ims_json_free(doc);
		if (!b.len) {
			ims_buf_dispose(&b);
			return xstrdup("");
		}
		return ims_buf_steal(&b, NULL);
	}
	ims_json_free(doc);
	/* A plain-text answer ("404 page not found") helps; HTML does not. */
	if (resp->body.data && resp->body.len && resp->body.data[0] != '<' && resp->body.data[0] != '{') {
		_cleanup_free_ char *t = clean_text(resp->body.data, resp->body.len < 200 ? resp->body.len : 200);
		if (t)
			return xasprintf(": %s", t);
	}
	return xstrdup("");
}

int ims_registry__fail(const ims_registry_call *c, const ims_http_response *resp, ims_error **err)
{
	long st = resp->status;
	_cleanup_free_ char *code = ims_registry__error_code(resp);
	int rc = IMS_EGENERIC;
	if (st == 401 || st == 403)
		rc = IMS_EAUTH;
	else if (st == 404)
		rc = IMS_ENOTFOUND;
	else if (code && (!strcmp(code, "DIGEST_INVALID") || !strcmp(code, "SIZE_INVALID")))
		rc = IMS_EDIGEST;
	if (!err || *err)
		return rc;
	_cleanup_free_ char *d = ims_registry__detail(resp);
	ims_error_set(err, rc, "%s: registry answered %ld%s", c->what, st, d);
	(*err)->http_status = st;
	if (rc == IMS_EAUTH)
		ims_error_hint(err, "check the credentials for this registry (spec `auth:`, `imagespec auth login`)");
	return rc;
}

int ims_registry__not_spec(ims_error **err, int r)
{
	if (err && *err && (*err)->code == IMS_EINVALID)
		(*err)->code = IMS_EGENERIC;
	return r == IMS_EINVALID ? IMS_EGENERIC : r;
}

int ims_registry__exists(const ims_registry_call *c, const ims_http_response *resp, bool *exists, ims_error **err)
{
	*exists = resp->status == 200;
	if (resp->status == 200 || resp->status == 404)
		return 0;
	return ims_registry__fail(c, resp, err);
}

bool ims_registry__transient(const ims_http_response *resp)
{
	switch (resp->status) {
	case 408:
	case 429:
	case 500:
		/* a server error that names a deterministic cause will not pass */
		return !ims_registry__permanent(resp);
	case 499:
	case 502:
	case 503:
	case 504:
	case 522:
		return true;
	case 400:
	case 404: {
		_cleanup_free_ char *code = ims_registry__error_code(resp);
		return code && (!strcmp(code, "BLOB_UPLOAD_UNKNOWN") || !strcmp(code, "BLOB_UPLOAD_INVALID"));
	}
	default:
		return false;
	}
}

int ims_registry__check_dcd(const ims_registry_call *c, const ims_http_response *resp, const char *want,
			    ims_error **err)
{
	const char *dcd = ims_http_header(resp, "docker-content-digest");
	/* Another algorithm cannot be compared; a sha256 one must agree. */
	if (!dcd || strncmp(dcd, "sha256:", 7) != 0 || !strcmp(dcd, want))
		return 0;
	_cleanup_free_ char *shown = clean_text(dcd, strlen(dcd) < 80 ? strlen(dcd) : 80);
	return ims_error_set(err, IMS_EDIGEST, "%s: the registry says the digest is %s, but the content has %s",
			     c->what, shown ? shown : "?", want);
}

static bool lower_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

int ims_registry__check_repo(const char *repo, ims_error **err)
{
	/* path-component: [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*, joined by '/' */
	size_t n = repo ? strlen(repo) : 0;
	bool ok = n > 0 && n <= 255;
	for (size_t i = 0; ok && i < n; i++) {
		char ch = repo[i];
		bool start = i == 0 || repo[i - 1] == '/';
		bool end = i + 1 == n || repo[i + 1] == '/';
		if (lower_alnum(ch))
			continue;
		if (ch == '/' || ch == '.' || ch == '_' || ch == '-')
			ok = !start && !end && (ch != '/' || lower_alnum(repo[i - 1]));
		else
			ok = false;
		/* "..", "._", "/." ... : a separator never follows another
		 * except "__" and runs of '-' */
		if (ok && ch != '/' && i > 0 && !lower_alnum(repo[i - 1]) &&
		    !((ch == '_' && repo[i - 1] == '_' && (i < 2 || lower_alnum(repo[i - 2]))) ||
		      (ch == '-' && repo[i - 1] == '-')))
			ok = false;
	}
	if (!ok)
		return ims_error_set(err, IMS_EINVALID, "invalid repository name `%s`", repo ? repo : "");
	return 0;
}
