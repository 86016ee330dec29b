/* What the user sees while a command works: the library's events rendered
 * on stderr. Three modes:
 *   live   (a TTY, not CI): step lines scroll; below them one bar per
 *          layer being built and per blob moving (bytes, rate, ETA) and a
 *          total line, redrawn at most 10 times a second, cut to the
 *          terminal's width (SIGWINCH re-reads it);
 *   plain  (pipes, CI, --progress plain): a line per step, and a line
 *          every 5 s for each transfer still running;
 *   quiet  warnings and errors only.
 * Events come from the library's worker threads too: every entry point
 * takes one lock. Colour only on a TTY, and never with NO_COLOR set. */
#ifndef IMS_CLI_PROGRESS_H
#define IMS_CLI_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "imagespec/context.h"

typedef enum { CLI_SHOW_LIVE, CLI_SHOW_PLAIN, CLI_SHOW_QUIET } cli_show;

void cli_progress_start(cli_show mode, bool color);
/* The library's event callback (ud unused). */
void cli_progress_event(const ims_event *ev, void *ud);
/* Clears the live area and stops drawing: call before printing a result
 * or an error, so that no redraw hides it. */
void cli_progress_done(void);
/* The last line: SUMMARY; ELAPSED (nothing when quiet). */
void cli_progress_summary(const char *summary);

/* One bar line for LABEL, at most width-1 visible columns (so the terminal
 * never wraps it), dropping the bar, then ETA, rate and sizes as the width
 * shrinks. total < 0: unknown. rate in bytes/s (0: not known yet). With
 * color, the bar's filled part is wrapped in SGR codes, which do not count
 * as columns. Returns the visible width written. */
size_t cli_progress_line(char *buf, size_t cap, int width, const char *label, long long done, long long total,
			 double rate, bool color);
/* "12.3 MB" (SI units, as docker prints them). */
void cli_human_bytes(char *buf, size_t cap, long long n);

#endif
