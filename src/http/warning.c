/* `Warning` response headers (RFC 7234 section 5.5; distribution sends
 * `299 - "text"` for deprecations): shown, never acted on (catalogue
 * item 60). A peer controls the text, so it is cleaned (no control
 * characters, UTF-8 only), cut to IMS_HTTP_WARNING_MAX bytes, shown once
 * per distinct text, and at most IMS_HTTP_WARNINGS_SHOWN of them per run;
 * the first one past that says that more were left out. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"
#include "util/cleanup.h"
#include "util/text.h"
#include "util/xalloc.h"

/* The text of one warn-value: the quoted warn-text of `CODE AGENT "TEXT"
 * [DATE]` unescaped, else the value as it came. *rest points past it (past
 * the comma that separates values in one header), or at the end. */
static char *warn_text(const char *v, const char **rest)
{
	const char *p = v + strspn(v, " \t,");
	const char *q = p;
	if (strspn(q, "0123456789") == 3 && q[3] == ' ') {
		q += 4;
		q += strcspn(q, " \t\"");
		q += strspn(q, " \t");
		if (*q == '"') {
			ims_buf b = IMS_BUF_INIT(0);
			for (q++; *q && *q != '"'; q++) {
				if (*q == '\\' && q[1])
					q++;
				ims_buf_add(&b, q, 1, NULL);
			}
			if (*q == '"') {
				q++;
				/* an optional quoted warn-date, then a comma or the end */
				q += strspn(q, " \t");
				if (*q == '"') {
					const char *end = strchr(q + 1, '"');
					q = end ? end + 1 : q + strlen(q);
				}
				q += strspn(q, " \t");
				if (!*q || *q == ',') {
					*rest = q + (*q == ',');
					size_t len;
					return ims_buf_steal(&b, &len);
				}
			}
			ims_buf_dispose(&b);
		}
	}
	/* Not the RFC's shape: the whole value, as it is. */
	*rest = p + strlen(p);
	return xstrdup(p);
}

/* Control characters dropped (a tab becomes a space), malformed UTF-8
 * shown as `?`, cut at IMS_HTTP_WARNING_MAX bytes with "...". */
static char *clean(const char *s)
{
	size_t n = strlen(s), o = 0, i = 0;
	char *out = xmalloc(IMS_HTTP_WARNING_MAX + 4);
	while (i < n && o < IMS_HTTP_WARNING_MAX) {
		const unsigned char *c = (const unsigned char *)s + i;
		size_t l = ims_utf8_char(c, n - i);
		if (l && o + l > IMS_HTTP_WARNING_MAX)
			break;
		if (l) {
			memcpy(out + o, c, l);
			o += l;
			i += l;
			continue;
		}
		if (*c == '\t')
			out[o++] = ' ';
		else if (*c >= 0x80)
			out[o++] = '?';
		i++;
	}
	while (o && out[o - 1] == ' ')
		o--;
	memcpy(out + o, i < n ? "..." : "", i < n ? 4 : 1);
	return out;
}

/* Whether text is new (and then remembered); false past the cap. */
static bool first_time(ims_http *h, const char *text, bool *past_cap)
{
	*past_cap = false;
	for (size_t i = 0; i < h->nwarnings; i++)
		if (!strcmp(h->warnings[i], text))
			return false;
	if (h->nwarnings == IMS_HTTP_WARNINGS_SHOWN) {
		*past_cap = !h->warnings_capped;
		h->warnings_capped = true;
		return false;
	}
	h->warnings[h->nwarnings++] = xstrdup(text);
	return true;
}

void ims_http__warnings(ims_http *h, const char *url, const ims_http_response *resp)
{
	if (!h->warn)
		return;
	_cleanup_free_ char *host = NULL;
	for (size_t i = 0; i < resp->nheaders; i++) {
		if (strcmp(resp->names[i], "warning") != 0)
			continue;
		const char *v = resp->values[i];
		/* At most a few values per header: the rest is noise. */
		for (int k = 0; *v && k < IMS_HTTP_WARNINGS_SHOWN; k++) {
			_cleanup_free_ char *raw = warn_text(v, &v);
			_cleanup_free_ char *text = clean(raw);
			if (!*text)
				continue;
			pthread_mutex_lock(&h->warn_lock);
			bool capped, show = first_time(h, text, &capped);
			pthread_mutex_unlock(&h->warn_lock);
			if (!host) {
				ims_http_url u;
				host = ims_http__url_parse(url, &u) ? ims_http__url_hostkey(&u) : xstrdup("?");
				ims_http__url_dispose(&u);
			}
			if (show) {
				_cleanup_free_ char *line = xasprintf("`%s` warns: %s", host, text);
				h->warn(h->warn_ud, line);
			} else if (capped) {
				_cleanup_free_ char *line = xasprintf(
					"`%s` sent more than %d different Warning headers; the rest are not shown",
					host, IMS_HTTP_WARNINGS_SHOWN);
				h->warn(h->warn_ud, line);
			}
		}
	}
}
