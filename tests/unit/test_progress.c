/* The CLI's progress lines: whatever the terminal's width, a bar line
 * never reaches the last column (a terminal would wrap it and every redraw
 * would leave a line behind), and it keeps the most useful parts. */
#include <stdio.h>
#include <string.h>

#include "../../src/cli/progress.h"
#include "tap.h"

/* Visible columns: SGR sequences take none, and a UTF-8 sequence one. */
static size_t columns(const char *s)
{
	size_t n = 0;
	while (*s) {
		if (*s == '\033') {
			while (*s && *s != 'm')
				s++;
			if (*s)
				s++;
			continue;
		}
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
		s++;
	}
	return n;
}

static void test_widths(void)
{
	static const char *const labels[] = { "building layer 1/3", "uploading sha256:0123456789ab",
					      "a label much longer than any terminal line would ever want to show" };
	char buf[512];
	int bad = 0, checked = 0;
	for (size_t l = 0; l < 3; l++)
		for (int w = 2; w <= 300; w++)
			for (int color = 0; color < 2; color++) {
				size_t vis = cli_progress_line(buf, sizeof(buf), w, labels[l], 45200000, 120000000,
							       12100000, color);
				checked++;
				if (columns(buf) != vis || vis > (size_t)w - 1) {
					if (bad++ < 3)
						printf("# width %d: %zu columns (said %zu): %s\n", w, columns(buf), vis,
						       buf);
				}
			}
	ok(bad == 0, "every line fits in width-1 columns and says its width (%d lines)", checked);
}

static void test_parts(void)
{
	char buf[512];
	cli_progress_line(buf, sizeof(buf), 120, "uploading sha256:0123456789ab", 45200000, 120000000, 12100000, false);
	ok(strstr(buf, "[") && strstr(buf, "45.2 MB / 120.0 MB  37%") && strstr(buf, "12.1 MB/s") &&
		   strstr(buf, "ETA 6s"),
	   "120 columns: bar, sizes, percent, rate and ETA: %s", buf);
	cli_progress_line(buf, sizeof(buf), 40, "uploading sha256:0123456789ab", 45200000, 120000000, 12100000, false);
	ok(!strstr(buf, "[") && strstr(buf, "37%"), "40 columns: no bar, the percent stays: %s", buf);
	cli_progress_line(buf, sizeof(buf), 120, "building layer 1/1", 5000, -1, 0, false);
	ok(!strstr(buf, "[") && strstr(buf, "5.0 kB") && !strstr(buf, "%"), "unknown total: bytes only: %s", buf);
	cli_progress_line(buf, sizeof(buf), 120, "x", 200, 100, 0, false);
	ok(strstr(buf, "100%") != NULL, "done past the total shows 100%%: %s", buf);
	cli_progress_line(buf, sizeof(buf), 120, "x", 50, 100, 10, true);
	ok(strstr(buf, "\033[36m") && strstr(buf, "\033[0m"), "color wraps the bar in SGR codes");
	cli_progress_line(buf, sizeof(buf), 120, "x", 50, 100, 10, false);
	ok(!strchr(buf, '\033'), "no color: no escape at all");
}

static void test_bytes(void)
{
	char b[32];
	cli_human_bytes(b, sizeof(b), 999);
	is_str(b, "999 B", "999 B");
	cli_human_bytes(b, sizeof(b), 1000);
	is_str(b, "1.0 kB", "SI units");
	cli_human_bytes(b, sizeof(b), 73493185);
	is_str(b, "73.5 MB", "a layer");
	cli_human_bytes(b, sizeof(b), 999960000);
	is_str(b, "1.0 GB", "rounding moves to the next unit");
}

int main(void)
{
	test_widths();
	test_parts();
	test_bytes();
	return tap_done();
}
