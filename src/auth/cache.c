/* The token cache: one entry per (realm, service, scope set, credential
 * identity), so a token for repo A pull never serves repo B push and a
 * union of scopes never builds up (ggcr #1744). The registry transport
 * calls from several threads, hence the mutex; the network is never
 * touched while it is held, so two threads may fetch the same token once
 * each, which is harmless. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/auth_int.h"
#include "util/buf.h"
#include "util/xalloc.h"

/* Enough for every repository a build touches; past it the oldest goes. */
#define CACHE_MAX_ENTRIES 256
/* Renew when less than this fraction of the lifetime, or RENEW_MARGIN
 * seconds, is left: a request that starts with a token about to expire
 * would only earn a 401. */
#define RENEW_FRACTION 0.1
#define RENEW_MARGIN 10.0

struct ims_auth_entry {
	ims_auth_entry *next;
	char *key, *origin, *scope_set;
	char *value;     /* the Authorization value; a secret */
	double lifetime; /* 0: never expires */
	double expires;  /* monotonic seconds */
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool fresh(const ims_auth_entry *e, double t)
{
	if (e->lifetime <= 0)
		return true;
	double margin = e->lifetime * RENEW_FRACTION;
	if (margin < RENEW_MARGIN)
		margin = RENEW_MARGIN;
	return e->expires - t >= margin;
}

static void entry_free(ims_auth_entry *e)
{
	free(e->key);
	free(e->origin);
	free(e->scope_set);
	ims_auth__free_secret(e->value);
	free(e);
}

void ims_auth__cache_init(ims_auth_cache *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
}

void ims_auth__cache_dispose(ims_auth_cache *c)
{
	while (c->head) {
		ims_auth_entry *e = c->head;
		c->head = e->next;
		entry_free(e);
	}
	c->n = 0;
	pthread_mutex_destroy(&c->lock);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *ims_auth__scope_set(const char *const *scopes, size_t n)
{
	const char **v = xcalloc(n ? n : 1, sizeof(*v));
	ims_buf b = IMS_BUF_INIT(0);
	ims_buf_puts(&b, "");
	if (n)
		memcpy(v, scopes, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (i && !strcmp(v[i], v[i - 1]))
			continue;
		if (b.len)
			ims_buf_putc(&b, ' ');
		ims_buf_puts(&b, v[i]);
	}
	free(v);
	return ims_buf_steal(&b, NULL);
}

/* Unlinks and frees matching entries; with the lock held. */
static void remove_if(ims_auth_cache *c, const char *key, double t)
{
	for (ims_auth_entry **pp = &c->head; *pp;) {
		ims_auth_entry *e = *pp;
		if ((key && !strcmp(e->key, key)) || (!key && !fresh(e, t))) {
			*pp = e->next;
			entry_free(e);
			c->n--;
		} else {
			pp = &e->next;
		}
	}
}

char *ims_auth__cache_get(ims_auth_cache *c, const char *key)
{
	char *v = NULL;
	double t = now();
	pthread_mutex_lock(&c->lock);
	for (ims_auth_entry *e = c->head; e; e = e->next)
		if (!strcmp(e->key, key)) {
			if (fresh(e, t))
				v = xstrdup(e->value);
			break;
		}
	pthread_mutex_unlock(&c->lock);
	return v;
}

void ims_auth__cache_put(ims_auth_cache *c, const char *key, const char *origin, const char *scope_set,
			 const char *value, double lifetime, double remaining)
{
	double t = now();
	ims_auth_entry *e = xcalloc(1, sizeof(*e));
	e->key = xstrdup(key);
	e->origin = xstrdup(origin);
	e->scope_set = xstrdup(scope_set);
	e->value = xstrdup(value);
	e->lifetime = lifetime;
	e->expires = t + remaining;

	pthread_mutex_lock(&c->lock);
	remove_if(c, key, t);
	remove_if(c, NULL, t);
	/* New entries go first, so the last one is the oldest. */
	if (c->n >= CACHE_MAX_ENTRIES) {
		ims_auth_entry **pp = &c->head;
		while ((*pp)->next)
			pp = &(*pp)->next;
		entry_free(*pp);
		*pp = NULL;
		c->n--;
	}
	e->next = c->head;
	c->head = e;
	c->n++;
	pthread_mutex_unlock(&c->lock);
}

void ims_auth__cache_drop(ims_auth_cache *c, const char *key)
{
	pthread_mutex_lock(&c->lock);
	remove_if(c, key, 0);
	pthread_mutex_unlock(&c->lock);
}

char *ims_auth__cache_find(ims_auth_cache *c, const char *origin, const char *scope_set)
{
	char *v = NULL;
	double t = now();
	pthread_mutex_lock(&c->lock);
	/* Newest first: the freshest value for this origin and scope set. */
	for (ims_auth_entry *e = c->head; e && !v; e = e->next)
		if (!strcmp(e->origin, origin) && !strcmp(e->scope_set, scope_set) && fresh(e, t))
			v = xstrdup(e->value);
	pthread_mutex_unlock(&c->lock);
	return v;
}
