/* Tag listing: GET /v2/REPO/tags/list?n=N, then the page each
 * `Link: <...>; rel="next"` names, until there is none. Pages and tags are
 * capped, a next page must stay on the registry's origin (it gets the
 * registry's credentials), and a page that names itself ends the walk. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json/json.h"
#include "json/oci.h"
#include "ref/ref.h"
#include "transport/registry_int.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

#define TAGS_MAX_PAGES 1000
#define TAGS_MAX 100000
#define TAGS_PAGE_MAX (4u << 20)

/* One `; name=value` parameter at *q (value unquoted into val). */
static const char *link_param(const char *q, const char **name, size_t *nlen, char *val, size_t cap)
{
	size_t vlen = 0;
	while (*q == ' ' || *q == '\t')
		q++;
	*name = q;
	while (*q && !strchr("=;, \t", *q))
		q++;
	*nlen = (size_t)(q - *name);
	while (*q == ' ' || *q == '\t')
		q++;
	if (*q == '=') {
		for (q++; *q == ' ' || *q == '\t'; q++)
			;
		bool quoted = *q == '"';
		if (quoted)
			q++;
		for (; *q && (quoted ? *q != '"' : !strchr(";, \t", *q)); q++)
			if (vlen + 1 < cap)
				val[vlen++] = *q;
		if (quoted && *q == '"')
			q++;
	}
	val[vlen] = '\0';
	return q;
}

/* The target of a Link header (RFC 8288) whose rel has "next" among its
 * space-separated values, or NULL. The target is what lies between a `<`
 * and the next `>`; parameters are matched by name, not by substring. */
char *ims_registry__link_next(const char *value)
{
	const char *p = value;
	while (p && *p) {
		const char *lt = strchr(p, '<');
		const char *gt = lt ? strchr(lt, '>') : NULL;
		if (!gt)
			return NULL;
		for (const char *x = lt; x < gt; x++)
			if (*x == '<')
				lt = x;
		const char *q = gt + 1;
		bool next = false;
		while (*q == ' ' || *q == '\t')
			q++;
		while (*q == ';') {
			const char *name;
			size_t nlen;
			char val[128];
			q = link_param(q + 1, &name, &nlen, val, sizeof(val));
			if (nlen == 3 && !strncasecmp(name, "rel", 3)) {
				char *save = NULL;
				for (char *t = strtok_r(val, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
					next = next || !strcasecmp(t, "next");
			}
			while (*q == ' ' || *q == '\t')
				q++;
		}
		if (next)
			return xstrndup(lt + 1, (size_t)(gt - lt - 1));
		q = strchr(q, ',');
		p = q ? q + 1 : NULL;
	}
	return NULL;
}

/* Appends the tags of one page; names that are not valid tags (control
 * characters, 500 bytes) are dropped rather than printed. */
static int add_page(const ims_registry_call *c, const ims_buf *body, char ***tags, size_t *n, size_t *cap,
		    ims_error **err)
{
	ims_json *doc = NULL;
	int rc = ims_json_parse_object(&doc, body->data ? body->data : "", body->len, TAGS_PAGE_MAX, "tag list", err);
	if (rc < 0)
		return ims_registry__not_spec(err, ims_error_wrap(err, "%s", c->what));
	ims_json *list = ims_json_get(doc, "tags");
	if (list && list->type != IMS_JSON_ARRAY && list->type != IMS_JSON_NULL) {
		ims_json_free(doc);
		return ims_error_set(err, IMS_EGENERIC, "%s: `tags` is not an array", c->what);
	}
	for (size_t i = 0; list && list->type == IMS_JSON_ARRAY && i < list->n; i++) {
		const ims_json *v = list->v[i];
		if (v->type != IMS_JSON_STRING || !ims_ref_tag_valid(v->s))
			continue;
		if (*n >= TAGS_MAX) {
			ims_json_free(doc);
			return ims_error_set(err, IMS_EGENERIC, "%s: more than %d tags", c->what, TAGS_MAX);
		}
		*tags = xgrow(*tags, cap, *n + 2, sizeof(char *));
		(*tags)[(*n)++] = xstrdup(v->s);
		(*tags)[*n] = NULL;
	}
	ims_json_free(doc);
	return 0;
}

/* Fetches one page into *body and the next page's URL into *next. The
 * first (*url NULL) is asked by its path below /v2/, which, as any first
 * request to a registry, decides its scheme with no GET /v2/ before it;
 * *url is then set to the URL it was asked at. The next ones are asked by
 * the URL the page before named. */
static int get_page(ims_registry *r, const ims_registry_call *c, char **url, const char *path, ims_buf *body,
		    char **next, ims_error **err)
{
	ims_http_request req = IMS_HTTP_REQUEST_INIT;
	req.method = "GET";
	req.url = *url;
	req.max_body = TAGS_PAGE_MAX;
	ims_http_response resp = { 0 };
	int rc = *url ? ims_registry__send(r, c, &req, &resp, err)
		      : ims_registry__send_path(r, c, &req, &resp, err, "%s", path);
	if (rc < 0)
		return rc;
	if (!*url)
		*url = xasprintf("%s/v2/%s", r->base, path);
	if (resp.status != 200) {
		rc = ims_registry__fail(c, &resp, err);
		ims_http_response_dispose(&resp);
		return rc;
	}
	*next = NULL;
	const char *link = ims_http_header(&resp, "link");
	_cleanup_free_ char *target = link ? ims_registry__link_next(link) : NULL;
	if (target) {
		*next = ims_http_resolve_url(resp.url ? resp.url : *url, target);
		_cleanup_free_ char *origin = *next ? ims_http_origin(*next) : NULL;
		if (!origin || strcmp(origin, r->origin) != 0) {
			free(*next);
			*next = NULL;
			ims_http_response_dispose(&resp);
			return ims_error_set(err, IMS_EGENERIC, "%s: the next page is not on the registry", c->what);
		}
	}
	*body = resp.body;
	resp.body = (ims_buf)IMS_BUF_INIT(0);
	ims_http_response_dispose(&resp);
	return 0;
}

int ims_registry_tags_paged(ims_registry *r, const char *repo, int page_size, char ***tags, size_t *n, ims_error **err)
{
	int rc = ims_registry__check_repo(repo, err);
	if (rc < 0)
		return rc;
	if (page_size < 1 || page_size > 10000)
		page_size = 1000;
	ims_registry_call c;
	ims_registry__call_init(&c, r, repo, false, NULL, "list tags of `%s/%s`", r->host, repo);
	char **out = NULL;
	size_t count = 0, cap = 0;
	char *url = NULL;
	_cleanup_free_ char *first = xasprintf("%s/tags/list?n=%d", repo, page_size);
	for (int page = 0; page == 0 || url; page++) {
		if (page == TAGS_MAX_PAGES) {
			rc = ims_error_set(err, IMS_EGENERIC, "%s: more than %d pages", c.what, TAGS_MAX_PAGES);
			goto fail;
		}
		ims_buf body = IMS_BUF_INIT(0);
		char *next = NULL;
		if ((rc = get_page(r, &c, &url, first, &body, &next, err)) < 0)
			goto fail;
		rc = add_page(&c, &body, &out, &count, &cap, err);
		ims_buf_dispose(&body);
		if (rc < 0) {
			free(next);
			goto fail;
		}
		/* A page that points at itself would loop until the cap. */
		if (next && strcmp(next, url) == 0) {
			free(next);
			next = NULL;
		}
		free(url);
		url = next;
	}
	if (!out)
		out = xcalloc(1, sizeof(char *));
	*tags = out;
	*n = count;
	ims_registry__call_dispose(&c);
	return 0;
fail:
	free(url);
	ims_strv_free(out);
	ims_registry__call_dispose(&c);
	return rc;
}

int ims_registry_tags(ims_registry *r, const char *repo, char ***tags, size_t *n, ims_error **err)
{
	return ims_registry_tags_paged(r, repo, 1000, tags, n, err);
}
