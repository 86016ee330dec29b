/* Responses: the header list of the final response, and its disposal. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/http_int.h"
#include "util/xalloc.h"

void ims_http__headers_clear(ims_http_response *r)
{
	for (size_t i = 0; i < r->nheaders; i++) {
		free(r->names[i]);
		free(r->values[i]);
	}
	free(r->names);
	free(r->values);
	r->names = r->values = NULL;
	r->nheaders = 0;
}

static void trim(const char **p, size_t *n)
{
	while (*n && isspace((unsigned char)**p))
		(*p)++, (*n)--;
	while (*n && isspace((unsigned char)(*p)[*n - 1]))
		(*n)--;
}

bool ims_http__headers_add_line(ims_http_response *r, const char *line, size_t len)
{
	trim(&line, &len);
	if (!len)
		return false;
	const char *colon = memchr(line, ':', len);
	if (!colon || colon == line)
		return false;
	size_t nlen = (size_t)(colon - line);
	const char *v = colon + 1;
	size_t vlen = len - nlen - 1;
	trim(&v, &vlen);

	/* Not xgrow: nheaders is both arrays' length, so grow them in step. */
	r->names = xrealloc(r->names, (r->nheaders + 1) * sizeof(char *));
	r->values = xrealloc(r->values, (r->nheaders + 1) * sizeof(char *));
	char *name = xstrndup(line, nlen);
	for (char *c = name; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	r->names[r->nheaders] = name;
	r->values[r->nheaders] = xstrndup(v, vlen);
	r->nheaders++;
	return true;
}

const char *ims_http_header(const ims_http_response *r, const char *name)
{
	if (!r || !name)
		return NULL;
	for (size_t i = r->nheaders; i-- > 0;)
		if (!strcasecmp(r->names[i], name))
			return r->values[i];
	return NULL;
}

void ims_http_response_dispose(ims_http_response *r)
{
	if (!r)
		return;
	ims_http__headers_clear(r);
	ims_buf_dispose(&r->body);
	free(r->url);
	r->url = NULL;
	r->status = 0;
	r->failure = IMS_HTTP_OK;
	r->attempts = 0;
}
