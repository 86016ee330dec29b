#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

enum {
	MAX_TASKS = 64,
	LABEL_MAX = 96,
	MAX_BARS = 8,        /* more are counted on the total line */
	PLAIN_EVERY_S = 5,   /* a plain line per running transfer */
	REDRAW_EVERY_MS = 100,
};

#define SGR_BAR "\033[36m"
#define MAX_WARNED 64
#define SGR_WARN "\033[33m"
#define SGR_OFF "\033[0m"

typedef struct {
	char label[LABEL_MAX];
	long long done, total;
	double t0;         /* first event */
	double last_plain; /* last plain line */
} task;

typedef struct {
	pthread_mutex_t lock;
	cli_show mode;
	bool color;
	bool stopped;    /* done: never draw again */
	int width;
	int drawn;       /* lines of the live area on screen */
	double t0;       /* start of the command */
	double last_draw;
	task tasks[MAX_TASKS];
	size_t ntasks;
	int drawn_w[MAX_BARS + 1]; /* visible width of each line drawn */
	/* The ticker: redraws and plain lines while no event comes (a stalled
	 * transfer must not look frozen). */
	pthread_t ticker;
	bool ticking;
	pthread_cond_t wake;
	/* Warnings already printed: one that comes again word for word (the
	 * insecure-host warning of each tag of copy --all-tags) says nothing new. */
	char *warned[MAX_WARNED];
	size_t nwarned;
} progress_state;

static progress_state st = {
	.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER, .mode = CLI_SHOW_PLAIN, .width = 80
};
static volatile sig_atomic_t resized = 1;

static void *ticker_main(void *ud);

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_winch(int sig)
{
	(void)sig;
	resized = 1;
}

static void read_width(void)
{
	struct winsize ws;
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		st.width = ws.ws_col;
	resized = 0;
}

void cli_progress_start(cli_show mode, bool color)
{
	pthread_mutex_lock(&st.lock);
	st.mode = mode;
	st.color = color && mode == CLI_SHOW_LIVE;
	st.stopped = false;
	st.t0 = now();
	st.ntasks = 0;
	st.drawn = 0;
	if (mode != CLI_SHOW_QUIET && !st.ticking) {
		/* Signals stay with the main thread. */
		sigset_t all, old;
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		st.ticking = pthread_create(&st.ticker, NULL, ticker_main, NULL) == 0;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (mode == CLI_SHOW_LIVE) {
		struct sigaction sa = { 0 };
		sa.sa_handler = on_winch;
		sa.sa_flags = SA_RESTART;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGWINCH, &sa, NULL);
		read_width();
	}
	pthread_mutex_unlock(&st.lock);
}

void cli_human_bytes(char *buf, size_t cap, long long n)
{
	static const char *const unit[] = { "kB", "MB", "GB", "TB" };
	if (n < 1000) {
		snprintf(buf, cap, "%lld B", n < 0 ? 0 : n);
		return;
	}
	double v = (double)n / 1000;
	size_t u = 0;
	while (v >= 999.95 && u + 1 < sizeof(unit) / sizeof(*unit)) {
		v /= 1000;
		u++;
	}
	snprintf(buf, cap, "%.1f %s", v, unit[u]);
}

static void human_duration(char *buf, size_t cap, double s)
{
	long t = (long)(s + 0.5);
	if (t < 60)
		snprintf(buf, cap, "%lds", t);
	else if (t < 3600)
		snprintf(buf, cap, "%ldm%02lds", t / 60, t % 60);
	else
		snprintf(buf, cap, "%ldh%02ldm", t / 3600, t % 3600 / 60);
}

/* The parts right of the bar, the least useful last, so that a narrow
 * terminal drops them from the end. */
static int tail_parts(char parts[3][64], long long done, long long total, double rate)
{
	char a[24], b[24];
	cli_human_bytes(a, sizeof(a), done);
	if (total >= 0) {
		cli_human_bytes(b, sizeof(b), total);
		int pct = total > 0 ? (int)(done * 100 / total) : 100;
		pct = pct < 0 ? 0 : pct > 100 ? 100 : pct;
		snprintf(parts[0], 64, "%s / %s %3d%%", a, b, pct);
	} else {
		snprintf(parts[0], 64, "%s", a);
	}
	int n = 1;
	if (rate > 0) {
		cli_human_bytes(a, sizeof(a), (long long)rate);
		snprintf(parts[n++], 64, "%s/s", a);
		if (total > done) {
			human_duration(b, sizeof(b), (double)(total - done) / rate);
			snprintf(parts[n++], 64, "ETA %s", b);
		}
	}
	return n;
}

size_t cli_progress_line(char *buf, size_t cap, int width, const char *label, long long done, long long total,
			 double rate, bool color)
{
	size_t room = width > 1 ? (size_t)width - 1 : 0;
	if (cap)
		buf[0] = '\0';
	if (cap < 2 || room == 0)
		return 0;
	char parts[3][64];
	int nparts = tail_parts(parts, done, total, rate);
	size_t llen = strlen(label);
	size_t tail = 0;
	for (int i = 0; i < nparts; i++)
		tail += 2 + strlen(parts[i]);
	/* The label keeps at least 12 columns; the tail gives way first. */
	size_t keep = llen < 12 ? llen : 12;
	while (nparts > 0 && keep + tail > room) {
		tail -= 2 + strlen(parts[nparts - 1]);
		nparts--;
	}
	size_t lw = room - tail < llen ? room - tail : llen;
	if (lw > 40 && total >= 0)
		lw = 40; /* leave the bar some room on wide terminals */
	if (lw > llen)
		lw = llen;
	/* A bar when at least 10 columns are left ([=====>    ]). */
	size_t bar = 0;
	if (total >= 0 && room > lw + tail + 1 + 10)
		bar = room - lw - tail - 1;
	if (bar > 50)
		bar = 50;
	size_t vis = 0, o = 0;
#define PUT(...)                                                                                  \
	do {                                                                                      \
		int k_ = snprintf(buf + o, cap - o, __VA_ARGS__);                                 \
		o = k_ < 0 ? o : (size_t)k_ >= cap - o ? cap - 1 : o + (size_t)k_;                \
	} while (0)
	if (lw < llen && lw >= 2) {
		PUT("%.*s\xe2\x80\xa6", (int)(lw - 1), label); /* cut, with an ellipsis */
	} else {
		PUT("%.*s", (int)lw, label);
	}
	vis += lw;
	if (bar) {
		size_t inner = bar - 2;
		size_t fill = total > 0 ? (size_t)((double)inner * (double)(done > total ? total : done) / (double)total)
					: inner;
		PUT(" [");
		if (color)
			PUT(SGR_BAR);
		for (size_t i = 0; i < fill; i++)
			PUT("%c", i + 1 == fill && fill < inner ? '>' : '=');
		if (color)
			PUT(SGR_OFF);
		PUT("%*s]", (int)(inner - fill), "");
		vis += 1 + bar;
	}
	for (int i = 0; i < nparts; i++) {
		PUT("  %s", parts[i]);
		vis += 2 + strlen(parts[i]);
	}
#undef PUT
	return vis;
}

/* ---- the live area ---- */

/* Back to the first line of the live area, and clear from there. After a
 * resize a terminal may have re-wrapped the lines: each takes as many rows
 * as its width needs at the new width. */
static void erase_live(void)
{
	if (st.drawn == 0)
		return;
	int rows = 0;
	for (int i = 0; i < st.drawn; i++)
		rows += st.drawn_w[i] > 0 ? (st.drawn_w[i] + st.width - 1) / st.width : 1;
	if (rows > 1)
		fprintf(stderr, "\r\033[%dA\033[J", rows - 1);
	else
		fputs("\r\033[J", stderr);
	st.drawn = 0;
}

static double rate_of(const task *t, double at)
{
	double dt = at - t->t0;
	return dt > 0.2 ? (double)t->done / dt : 0;
}

static void draw_live(double at)
{
	if (resized)
		read_width();
	erase_live();
	if (st.ntasks == 0) {
		fflush(stderr);
		return;
	}
	char line[512], padded[LABEL_MAX];
	long long done = 0, total = 0;
	bool known = true;
	size_t shown = 0;
	/* Labels padded alike, so that the bars line up. */
	int lw = 16;
	for (size_t i = 0; i < st.ntasks && i < MAX_BARS; i++)
		if ((int)strlen(st.tasks[i].label) > lw)
			lw = (int)strlen(st.tasks[i].label);
	for (size_t i = 0; i < st.ntasks; i++) {
		const task *t = &st.tasks[i];
		done += t->done;
		if (t->total < 0)
			known = false;
		else
			total += t->total;
		if (shown == MAX_BARS)
			continue;
		snprintf(padded, sizeof(padded), "%-*s", lw, t->label);
		st.drawn_w[shown] = (int)cli_progress_line(line, sizeof(line), st.width, padded, t->done, t->total,
							  rate_of(t, at), st.color);
		fprintf(stderr, "%s%s", shown ? "\n" : "", line);
		shown++;
	}
	char label[96], el[40];
	human_duration(el, sizeof(el), at - st.t0);
	if (st.ntasks > shown)
		snprintf(label, sizeof(label), "total, %zu more, %s", st.ntasks - shown, el);
	else
		snprintf(label, sizeof(label), "total, %s", el);
	double dt = at - st.t0;
	snprintf(padded, sizeof(padded), "%-*s", lw, label);
	st.drawn_w[shown] = (int)cli_progress_line(line, sizeof(line), st.width, padded, done, known ? total : -1,
						   dt > 0.2 ? done / dt : 0, false);
	fprintf(stderr, "\n%s", line);
	st.drawn = (int)shown + 1;
	st.last_draw = at;
	fflush(stderr);
}

static task *find(const char *label)
{
	for (size_t i = 0; i < st.ntasks; i++)
		if (!strncmp(st.tasks[i].label, label, LABEL_MAX - 1))
			return &st.tasks[i];
	return NULL;
}

static void drop(task *t)
{
	size_t i = (size_t)(t - st.tasks);
	memmove(&st.tasks[i], &st.tasks[i + 1], (st.ntasks - i - 1) * sizeof(*t));
	st.ntasks--;
}

/* "uploading sha256:…: 4.2 MB / 12.0 MB  35%  1.5 MB/s  ETA 5s": no bar in
 * a log. */
static void plain_line(const task *t, double at)
{
	char parts[3][64];
	int n = tail_parts(parts, t->done, t->total, rate_of(t, at));
	fprintf(stderr, "%s:", t->label);
	for (int i = 0; i < n; i++)
		fprintf(stderr, " %s%s", i ? " " : "", parts[i]);
	fputc('\n', stderr);
}

/* Bytes done of total for a task; a task ends when done reaches a known
 * total. */
static void progress(const ims_event *ev, double at)
{
	task *t = find(ev->message);
	bool changed = false;
	if (!t) {
		if (st.ntasks == MAX_TASKS || (ev->total >= 0 && ev->done >= ev->total))
			return; /* too many at once, or over before it began */
		t = &st.tasks[st.ntasks++];
		memset(t, 0, sizeof(*t));
		snprintf(t->label, sizeof(t->label), "%s", ev->message);
		t->t0 = t->last_plain = at;
		changed = true;
	}
	t->done = ev->done;
	t->total = ev->total;
	if (t->total >= 0 && t->done >= t->total) {
		drop(t);
		changed = true;
	}
	if (st.mode == CLI_SHOW_LIVE && (changed || (at - st.last_draw) * 1000 >= REDRAW_EVERY_MS))
		draw_live(at);
}

/* Every tick: the plain lines that are due, or a redraw. */
static void tick(double at)
{
	if (st.stopped)
		return;
	if (st.mode == CLI_SHOW_PLAIN) {
		for (size_t i = 0; i < st.ntasks; i++)
			if (at - st.tasks[i].last_plain >= PLAIN_EVERY_S) {
				plain_line(&st.tasks[i], at);
				st.tasks[i].last_plain = at;
			}
		fflush(stderr);
	} else if (st.mode == CLI_SHOW_LIVE && st.ntasks && at - st.last_draw >= 0.5) {
		draw_live(at);
	}
}

static void *ticker_main(void *ud)
{
	(void)ud;
	pthread_mutex_lock(&st.lock);
	while (!st.stopped) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 250 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&st.wake, &st.lock, &ts);
		tick(now());
	}
	pthread_mutex_unlock(&st.lock);
	return NULL;
}

/* True when msg was printed before; else remembers it (the first
 * MAX_WARNED). Called under st.lock. */
static bool repeated_warning(const char *msg)
{
	for (size_t i = 0; i < st.nwarned; i++)
		if (!strcmp(st.warned[i], msg))
			return true;
	if (st.nwarned < MAX_WARNED) {
		char *copy = strdup(msg);
		if (!copy)
			abort();
		st.warned[st.nwarned++] = copy;
	}
	return false;
}

void cli_progress_event(const ims_event *ev, void *ud)
{
	(void)ud;
	double at = now();
	pthread_mutex_lock(&st.lock);
	if (ev->kind == IMS_EVENT_WARNING && repeated_warning(ev->message)) {
		/* printed before */
	} else if (ev->kind == IMS_EVENT_WARNING) {
		erase_live();
		fprintf(stderr, "imagespec: %swarning:%s %s\n", st.color ? SGR_WARN : "", st.color ? SGR_OFF : "",
			ev->message);
		if (st.mode == CLI_SHOW_LIVE && !st.stopped)
			draw_live(at);
	} else if (st.mode == CLI_SHOW_QUIET || st.stopped) {
		/* nothing */
	} else if (ev->kind == IMS_EVENT_PROGRESS) {
		progress(ev, at);
	} else {
		erase_live();
		fprintf(stderr, "%s\n", ev->message);
		if (st.mode == CLI_SHOW_LIVE)
			draw_live(at);
	}
	pthread_mutex_unlock(&st.lock);
}

void cli_progress_done(void)
{
	pthread_mutex_lock(&st.lock);
	erase_live();
	fflush(stderr);
	st.stopped = true;
	st.ntasks = 0;
	bool join = st.ticking;
	st.ticking = false;
	pthread_cond_signal(&st.wake);
	pthread_mutex_unlock(&st.lock);
	if (join)
		pthread_join(st.ticker, NULL);
}

void cli_progress_summary(const char *summary)
{
	pthread_mutex_lock(&st.lock);
	if (st.mode != CLI_SHOW_QUIET && summary && *summary) {
		char el[40];
		double dt = now() - st.t0;
		if (dt < 60)
			snprintf(el, sizeof(el), "%.1f s", dt);
		else
			human_duration(el, sizeof(el), dt);
		fprintf(stderr, "%s; %s\n", summary, el);
	}
	pthread_mutex_unlock(&st.lock);
}
