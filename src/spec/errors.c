/* The spec parser reports every problem at once (a user fixing a file
 * should not rerun it once per typo), so errors are collected here with
 * their position and joined, in file order, at the end. */
#include "spec/spec_int.h"

#include <stdarg.h>
#include <stdlib.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/text.h"
#include "util/xalloc.h"

void spec_error(spec_ctx *c, ims_pos pos, const char *fmt, ...)
{
	if (c->nerrs >= SPEC_MAX_ERRORS) {
		c->overflow = true;
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	char *raw = xvasprintf(fmt, ap);
	va_end(ap);
	/* one line per error, whatever the values quoted in it hold */
	char *msg = ims_text_quote(raw);
	free(raw);
	c->errs = xgrow(c->errs, &c->cap, c->nerrs + 1, sizeof(*c->errs));
	c->errs[c->nerrs].pos = pos;
	c->errs[c->nerrs].msg = msg;
	c->nerrs++;
}

/* True when a comes after b in the file. */
static bool pos_after(ims_pos a, ims_pos b)
{
	return a.line != b.line ? a.line > b.line : a.col > b.col;
}

int spec_errors_flush(spec_ctx *c, ims_error **err)
{
	if (!c->nerrs)
		return 0;
	/* insertion sort: stable (equal positions keep the order they were
	 * found in) and n <= SPEC_MAX_ERRORS */
	size_t n = c->nerrs;
	spec_err *tmp = xmemdup(c->errs, n * sizeof(*tmp));
	for (size_t i = 1; i < n; i++) {
		spec_err e = tmp[i];
		size_t j = i;
		for (; j > 0 && pos_after(tmp[j - 1].pos, e.pos); j--)
			tmp[j] = tmp[j - 1];
		tmp[j] = e;
	}
	ims_buf b = IMS_BUF_INIT(0);
	for (size_t i = 0; i < n; i++) {
		if (i)
			ims_buf_putc(&b, '\n');
		/* a document made in memory has no file: the message alone */
		if (c->file)
			ims_buf_printf(&b, "%s:%d:%d: ", c->file, tmp[i].pos.line > 0 ? tmp[i].pos.line : 1,
				       tmp[i].pos.col > 0 ? tmp[i].pos.col : 1);
		ims_buf_puts(&b, tmp[i].msg);
	}
	if (c->overflow)
		ims_buf_printf(&b, "\n%s%stoo many errors; only the first %d are shown", c->file ? c->file : "",
			       c->file ? ": " : "", SPEC_MAX_ERRORS);
	free(tmp);
	char *msg = ims_buf_steal(&b, NULL);
	ims_error_set(err, IMS_EINVALID, "%s", msg);
	free(msg);
	return IMS_EINVALID;
}

void spec_errors_dispose(spec_ctx *c)
{
	for (size_t i = 0; i < c->nerrs; i++)
		free(c->errs[i].msg);
	free(c->errs);
	c->errs = NULL;
	c->nerrs = c->cap = 0;
}
