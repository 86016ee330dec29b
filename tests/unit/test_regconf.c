/* registries.conf (src/regconf/): the TOML subset's good and bad inputs
 * with their FILE:LINE:COL, the v2 and v1 keys, drop-in merging, the
 * files chosen, and what an entry means for a reference. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/exec.h"
#include "imagespec/context.h"
#include "ref/ref.h"
#include "regconf/regconf.h"
#include "regconf/toml.h"
#include "util/xalloc.h"
#include "tap.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char warnings[4096];

static void on_event(const ims_event *e, void *ud)
{
	(void)ud;
	if (e->kind == IMS_EVENT_WARNING && strlen(warnings) + strlen(e->message) + 2 < sizeof(warnings)) {
		strcat(warnings, e->message);
		strcat(warnings, "\n");
	}
}

static const ims_events events = { on_event, NULL };

/* Parses text as file t.conf and expects IMS_EINVALID with message msg. */
static void toml_bad(const char *text, const char *msg)
{
	ims_toml *t = (ims_toml *)0x1;
	ims_error *e = NULL;
	int r = ims_toml_parse(&t, "t.conf", text, strlen(text), &e);
	ok(r == IMS_EINVALID && e && t == (ims_toml *)0x1, "refused: %s", msg);
	is_str(e ? e->message : NULL, msg, "message for %s", msg);
	ims_error_free(e);
}

static ims_toml *toml_good(const char *text)
{
	ims_toml *t = NULL;
	ims_error *e = NULL;
	int r = ims_toml_parse(&t, "t.conf", text, strlen(text), &e);
	ok(r == 0 && t, "parses (%zu bytes)%s%s", strlen(text), e ? ": " : "", e ? e->message : "");
	ims_error_free(e);
	return t;
}

static void test_toml(void)
{
	ims_toml *t = toml_good(
		"# top\n"
		"a = \"x\\ty\\u00e9\\U0001F600\" # comment\n"
		"b = 'C:\\path'\n"
		"c = true\r\n"
		"d = -1_000\n"
		"e = [ \"one\", # first\n"
		"      'two',\n"
		"]\n"
		"\"quoted key\" = false\n"
		"[t . 'u']\n"
		"k = 0\n"
		"[[arr]]\n"
		"[[arr]]\n"
		"z = \"\"\n");
	const ims_toml *v;
	is_str((v = ims_toml_get(t, "a")) ? v->str : NULL, "x\ty\xc3\xa9\xf0\x9f\x98\x80", "basic string escapes");
	is_str((v = ims_toml_get(t, "b")) ? v->str : NULL, "C:\\path", "literal string keeps backslashes");
	ok((v = ims_toml_get(t, "c")) && v->kind == IMS_TOML_BOOL && v->b, "true, with CRLF");
	ok((v = ims_toml_get(t, "d")) && v->kind == IMS_TOML_INT && v->i == -1000, "integer with underscore");
	ok((v = ims_toml_get(t, "e")) && v->kind == IMS_TOML_ARRAY && v->n == 2 && !strcmp(v->items[1]->str, "two"),
	   "multi-line array with comment and trailing comma");
	ok((v = ims_toml_get(t, "quoted key")) && v->kind == IMS_TOML_BOOL && !v->b, "quoted key");
	ok((v = ims_toml_get(ims_toml_get(t, "t"), "u")) && ims_toml_get(v, "k"), "dotted header with blanks");
	ok((v = ims_toml_get(t, "arr")) && v->kind == IMS_TOML_TABLES && v->n == 2 && ims_toml_get(v->items[1], "z"),
	   "array of tables");
	v = ims_toml_get(t, "e");
	ok(v && v->line == 6 && v->col == 5 && v->key_col == 1, "positions of a value (6:5) and its key");
	ims_toml_free(t);
	ims_toml_free(toml_good(""));
	ims_toml_free(toml_good("\xef\xbb\xbf# a byte order mark first\n"));

	toml_bad("a = ", "t.conf:1:5: expected a value after `=`");
	toml_bad("a = 1.5", "t.conf:1:5: expected a value: a string, true, false, a decimal integer or an array");
	toml_bad("a = 1979-05-27",
		 "t.conf:1:5: expected a value: a string, true, false, a decimal integer or an array");
	toml_bad("a = 0x1f", "t.conf:1:5: only decimal integers without leading zeros are supported");
	toml_bad("a = 99999999999999999999", "t.conf:1:5: the integer is too large");
	toml_bad("a = \"abc", "t.conf:1:5: an unterminated string");
	toml_bad("a = \"abc\nb = 1", "t.conf:1:5: an unterminated string");
	toml_bad("x = 1\na = \"a\\qb\"", "t.conf:2:7: an unknown escape in a string");
	toml_bad("a = \"\\u0000\"", "t.conf:1:6: the escape is not an allowed Unicode character");
	toml_bad("a = \"\\uD800\"", "t.conf:1:6: the escape is not an allowed Unicode character");
	toml_bad("a = \"\\u12\"", "t.conf:1:6: a \\u or \\U escape needs hexadecimal digits");
	toml_bad("a = \"tab\x01\"", "t.conf:1:9: a control character or malformed UTF-8 in a string");
	toml_bad("a = \"\xc3\x28\"", "t.conf:1:6: a control character or malformed UTF-8 in a string");
	toml_bad("# \x1b[31m\n", "t.conf:1:3: a control character or malformed UTF-8 in a comment");
	toml_bad("a = \"\"\"x\"\"\"", "t.conf:1:5: multi-line strings are not supported");
	toml_bad("a = '''x'''", "t.conf:1:5: multi-line strings are not supported");
	toml_bad("a = {b = 1}", "t.conf:1:5: inline tables are not supported");
	toml_bad("a = [1, 2]", "t.conf:1:6: only arrays of strings are supported");
	toml_bad("a = [\"x\" \"y\"]", "t.conf:1:10: expected `,` or `]` in an array");
	toml_bad("a = [\"x\",\n", "t.conf:2:1: an unterminated array");
	toml_bad("a = true false", "t.conf:1:10: expected the end of the line");
	toml_bad("a = truex", "t.conf:1:5: expected a value: a string, true, false, a decimal integer or an array");
	toml_bad("a.b = 1", "t.conf:1:2: dotted keys are not supported");
	toml_bad("a 1", "t.conf:1:3: expected `=` after the key");
	toml_bad("= 1", "t.conf:1:1: expected a key");
	toml_bad("a = 1\na = 2", "t.conf:2:1: `a` is set twice (first at 1:1)");
	toml_bad("[t]\n[t]", "t.conf:2:1: table `t` is defined twice (first at 1:1)");
	toml_bad("t = 1\n[t]", "t.conf:2:1: `t` is already an integer (at 1:1)");
	toml_bad("[[t]]\n[t]", "t.conf:2:1: `t` is already an array of tables (at 1:1)");
	toml_bad("[t]\n[[t]]", "t.conf:2:1: `t` is already a table (at 1:1)");
	toml_bad("[t", "t.conf:1:3: expected `]` after the table name");
	toml_bad("[[t]", "t.conf:1:4: expected `]]` after the table name");
	toml_bad("[a.b.c.d.e.f.g.h.i]", "t.conf:1:18: the table name has too many parts");
	/* columns count characters, not bytes */
	toml_bad("\xc3\xa9 = 1", "t.conf:1:1: expected a key");
	toml_bad("'\xc3\xa9' = 1 2", "t.conf:1:9: expected the end of the line");
}

/* Parses text as r.conf into a new configuration; NULL and the message
 * in *msg on failure. */
static ims_regconf *conf(const char *text, char **msg)
{
	ims_regconf *c = ims_regconf_new();
	ims_error *e = NULL;
	if (ims_regconf_parse(c, "r.conf", text, strlen(text), &events, &e) < 0) {
		if (msg)
			*msg = xstrdup(e->message);
		ims_error_free(e);
		ims_regconf_free(c);
		return NULL;
	}
	return c;
}

static void conf_bad(const char *text, const char *want)
{
	char *msg = NULL;
	ims_regconf *c = conf(text, &msg);
	ok(!c, "refused: %s", want);
	is_str(msg, want, "message");
	free(msg);
	ims_regconf_free(c);
}

static ims_ref *ref(const char *s)
{
	ims_ref *r = NULL;
	ims_error *e = NULL;
	if (ims_ref_parse(&r, s, &e) < 0) {
		printf("# %s\n", e->message);
		ims_error_free(e);
	}
	return r;
}

/* The pull sources of s, as "a, b (mirror), ..." */
static char *sources(const ims_regconf *c, const char *s)
{
	ims_ref *r = ref(s);
	ims_regconf_sources src;
	ims_error *e = NULL;
	if (ims_regconf_pull_sources(c, r, &src, &e) < 0) {
		char *m = xstrdup(e->message);
		ims_error_free(e);
		ims_ref_free(r);
		return m;
	}
	char buf[2048] = "";
	for (size_t i = 0; i < src.n; i++) {
		char *one = ims_ref_string(src.refs[i]);
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s%s", i ? ", " : "", one,
			 src.is_mirror[i] ? " (mirror)" : "");
		free(one);
	}
	ims_regconf_sources_dispose(&src);
	ims_ref_free(r);
	return xstrdup(buf);
}

static void check_sources(const ims_regconf *c, const char *in, const char *want)
{
	char *got = sources(c, in);
	is_str(got, want, "pull sources of %s", in);
	free(got);
}

static void test_v2(void)
{
	const char *man =
		"unqualified-search-registries = [\"example.com\"]\n"
		"short-name-mode = \"enforcing\"\n"
		"\n"
		"[[registry]]\n"
		"prefix = \"example.com/foo\"\n"
		"insecure = false\n"
		"blocked = false\n"
		"location = \"internal-registry-for-example.net/bar\"\n"
		"\n"
		"[[registry.mirror]]\n"
		"location = \"example-mirror-0.local/mirror-for-foo\"\n"
		"\n"
		"[[registry.mirror]]\n"
		"location = \"example-mirror-1.local/mirrors/foo/\"\n"
		"insecure = true\n"
		"\n"
		"[[registry]]\n"
		"location = \"registry.com\"\n"
		"\n"
		"[[registry.mirror]]\n"
		"location = \"mirror.registry.com\"\n"
		"pull-from-mirror = \"digest-only\"\n"
		"\n"
		"[[registry]]\n"
		"prefix = \"*.blocked.example\"\n"
		"blocked = true\n"
		"\n"
		"[[registry]]\n"
		"prefix = \"*.plain.example\"\n"
		"insecure = true\n"
		"\n"
		"[aliases]\n"
		"\"busybox\" = \"docker.io/library/busybox\"\n";
	ims_regconf *c = conf(man, NULL);
	ok(c && c->nregs == 4 && c->nsearch == 1, "the man page's example is read");
	if (!c)
		return;
	is_str(c->regs[0].at, "r.conf:4:1", "an entry knows where it is");
	is_str(c->regs[0].mirrors[1].location, "example-mirror-1.local/mirrors/foo", "trailing slash dropped");
	is_str(c->regs[1].prefix, "registry.com", "prefix defaults to location");
	check_sources(c, "example.com/foo/image:latest",
		      "example-mirror-0.local/mirror-for-foo/image:latest (mirror), "
		      "example-mirror-1.local/mirrors/foo/image:latest (mirror), "
		      "internal-registry-for-example.net/bar/image:latest");
	check_sources(c, "example.com/foobar/image:latest", "example.com/foobar/image:latest");
	check_sources(c, "registry.com/a/b:1", "registry.com/a/b:1");
	check_sources(c, "registry.com/a/b@sha256:" HEX64,
		      "mirror.registry.com/a/b@sha256:" HEX64 " (mirror), registry.com/a/b@sha256:" HEX64);
	check_sources(c, "busybox", "docker.io/library/busybox:latest");
	check_sources(c, "x.blocked.example/a:1", "x.blocked.example/a:1");

	ims_error *e = NULL;
	ims_ref *r = ref("a.b.blocked.example:5000/team/app:1");
	ok(ims_regconf_check_blocked(c, r, "push", &e) == IMS_EGENERIC && e, "a wildcard entry blocks a push");
	is_str(e ? e->message : NULL,
	       "push `a.b.blocked.example:5000/team/app:1`: registries configuration blocks `*.blocked.example` "
	       "(r.conf:24:1)",
	       "the blocked message names the entry");
	ims_error_free(e);
	ims_ref_free(r);
	r = ref("blocked.example/app:1");
	e = NULL;
	ok(ims_regconf_check_blocked(c, r, "pull", &e) == 0 && !e, "*.domain does not cover the domain itself");
	ims_ref_free(r);

	ims_ref *r0 = ref("reg.plain.example/app:1"), *r1 = ref("other.example/app:1");
	const ims_ref *refs[2] = { r0, r1 };
	char **hosts = NULL;
	size_t n = 0;
	ims_regconf_insecure_hosts(c, refs, 2, &hosts, &n);
	ok(n == 2 && !strcmp(hosts[0], "example-mirror-1.local") && !strcmp(hosts[1], "reg.plain.example"),
	   "insecure hosts: the mirror's, and the reference a wildcard covers (%zu)", n);
	for (size_t i = 0; i < n; i++)
		free(hosts[i]);
	free(hosts);
	ims_ref_free(r0);
	ims_ref_free(r1);

	/* a drop-in replaces an entry with the same prefix and the search list */
	ims_error_free(e);
	e = NULL;
	const char *drop =
		"unqualified-search-registries = []\n"
		"[[registry]]\nprefix = \"registry.com\"\nlocation = \"elsewhere.example\"\n";
	ok(ims_regconf_parse(c, "d.conf", drop, strlen(drop), &events, &e) == 0, "a drop-in merges");
	ok(c->nregs == 4 && c->nsearch == 0 && c->nfiles == 2, "same prefix replaced, search list emptied");
	check_sources(c, "registry.com/a/b:1", "elsewhere.example/a/b:1");
	ims_error_free(e);
	ims_regconf_free(c);

	/* longest prefix wins; docker.io needs library/ spelled out */
	c =
		conf("[[registry]]\nprefix = \"docker.io\"\nlocation = \"hub.example\"\n"
		     "[[registry]]\nprefix = \"docker.io/library\"\nlocation = \"lib.example/mirror\"\n"
		     "[[registry]]\nprefix = \"docker.io/library/tagged:1\"\nlocation = \"one.example/img:1\"\n",
		     NULL);
	check_sources(c, "busybox", "lib.example/mirror/busybox:latest");
	check_sources(c, "user/app", "hub.example/user/app:latest");
	check_sources(c, "tagged:1", "one.example/img:1");
	check_sources(c, "tagged:2", "lib.example/mirror/tagged:2");
	ims_regconf_free(c);

	c =
		conf("[[registry]]\nlocation = \"reg.example\"\nmirror-by-digest-only = true\n"
		     "[[registry.mirror]]\nlocation = \"m.example\"\n"
		     "[[registry]]\nlocation = \"tags.example\"\n"
		     "[[registry.mirror]]\nlocation = \"m2.example\"\npull-from-mirror = \"tag-only\"\n",
		     NULL);
	check_sources(c, "reg.example/a:1", "reg.example/a:1");
	check_sources(c, "reg.example/a@sha256:" HEX64,
		      "m.example/a@sha256:" HEX64 " (mirror), reg.example/a@sha256:" HEX64);
	check_sources(c, "tags.example/a:1", "m2.example/a:1 (mirror), tags.example/a:1");
	check_sources(c, "tags.example/a@sha256:" HEX64, "tags.example/a@sha256:" HEX64);
	ims_regconf_free(c);

	c = conf("[[registry]]\nprefix = \"x.example\"\nlocation = \"Upper.example/BAD\"\n", NULL);
	check_sources(c, "x.example/a:1",
		      "r.conf:1:1: location `Upper.example/BAD` makes `Upper.example/BAD/a:1` "
		      "of `x.example/a:1`, not a registry reference: `BAD/a` is not a valid "
		      "repository name (lowercase letters, digits and separators . _ __ - only)");
	ims_regconf_free(c);

	warnings[0] = '\0';
	c = conf("colour = \"blue\"\n[[registry]]\nlocation = \"a.example\"\nmirrors = []\n", NULL);
	ok(c != NULL, "unknown keys are not errors");
	is_str(warnings,
	       "r.conf:1:1: unknown key `colour` ignored\nr.conf:4:1: unknown key `mirrors` in [[registry]] ignored\n",
	       "unknown keys are warnings at their place");
	ims_regconf_free(c);

	conf_bad("[[registry]]\nlocation = \"http://reg.example\"\n", "r.conf:2:12: `location` has a scheme");
	conf_bad("[[registry]]\nlocation = \"reg.example\"\ninsecure = \"yes\"\n",
		 "r.conf:3:12: `insecure` must be a boolean, not a string");
	conf_bad("[[registry]]\ninsecure = true\n", "r.conf:1:1: a [[registry]] needs a `location` or a `prefix`");
	conf_bad("[[registry]]\nlocation = \"\"\n", "r.conf:2:12: `location` is empty");
	conf_bad("[[registry]]\nlocation = \"a\\nb\"\n", "r.conf:2:12: `location` is not host[:port][/namespace]");
	conf_bad("[[registry]]\nlocation = \"r\u00e9g.example\"\n",
		 "r.conf:2:12: `location` is not host[:port][/namespace]");
	conf_bad("[[registry]]\nprefix = \"a.*.example\"\n",
		 "r.conf:2:10: `prefix` may only be a wildcard as `*.domain` (no port or path), in a prefix");
	conf_bad("[[registry]]\nprefix = \"*.example\"\nlocation=\"*.x\"\n",
		 "r.conf:3:10: `location` may only be a wildcard as `*.domain` (no port or path), in a prefix");
	conf_bad("[[registry]]\nlocation = \"a.example\"\n[[registry.mirror]]\ninsecure = true\n",
		 "r.conf:3:1: a [[registry.mirror]] needs a `location`");
	conf_bad(
		"[[registry]]\nlocation = \"a.example\"\n[[registry.mirror]]\nlocation = \"m\"\n"
		"pull-from-mirror = \"sometimes\"\n",
		"r.conf:5:20: `pull-from-mirror` must be `all`, `digest-only` or `tag-only`");
	conf_bad(
		"[[registry]]\nlocation = \"a.example\"\nmirror-by-digest-only = true\n[[registry.mirror]]\n"
		"location = \"m\"\npull-from-mirror = \"tag-only\"\n",
		"r.conf:6:20: `pull-from-mirror` cannot be set when the [[registry]] has mirror-by-digest-only");
	conf_bad("[[registry]]\nlocation = \"a.example\"\n[[registry]]\nprefix = \"a.example\"\n",
		 "r.conf:3:1: a [[registry]] with prefix `a.example` is already at r.conf:1:1");
	conf_bad("registry = \"a\"\n", "r.conf:1:12: `registry` must be an array of tables, not a string");
	conf_bad("unqualified-search-registries = [\"a b\"]\n",
		 "r.conf:1:34: `unqualified-search-registries` is not host[:port][/namespace]");
	conf_bad("[registries.search]\nregistries = [\"a.example\"]\n[[registry]]\nlocation = \"b\"\n",
		 "r.conf:1:1: the version 1 table [registries] and the version 2 key `registry` (at 3:1) are mixed "
		 "in one file");
	conf_bad("[aliases]\nbusybox = 1\n", "r.conf:2:11: `busybox` must be a string, not an integer");
}

/* Short names keep docker.io; a search list that starts elsewhere draws
 * a warning naming it. */
static void test_short_names(void)
{
	ims_ref *bb = ref("busybox:1"), *full = ref("docker.io/busybox:1"), *user = ref("acme/app");
	ok(bb && bb->short_name && full && !full->short_name && user && user->short_name,
	   "the reference grammar marks names written without a registry");
	ims_ref *dup = bb ? ims_ref_dup(bb) : NULL;
	ok(dup && dup->short_name, "a copy keeps the mark");
	ims_ref_free(dup);
	ims_regconf *c = conf("unqualified-search-registries = [\"registry.fedoraproject.org\", \"docker.io\"]\n", NULL);
	char *w = c ? ims_regconf_short_name_warning(c, bb) : NULL;
	is_str(w,
	       "`busybox` is a short name: it means `docker.io/library/busybox:1`, as SPEC-v1 says; "
	       "unqualified-search-registries (r.conf:1:33, first `registry.fedoraproject.org`) is not used for it; "
	       "write the registry to silence this",
	       "a search list that starts elsewhere: a warning");
	free(w);
	w = c ? ims_regconf_short_name_warning(c, user) : NULL;
	ok(w && strstr(w, "`acme/app` is a short name: it means `docker.io/acme/app:latest`"), "a user repository too");
	free(w);
	w = c ? ims_regconf_short_name_warning(c, full) : NULL;
	ok(!w, "no warning for a name with its registry");
	free(w);
	check_sources(c, "busybox:1", "docker.io/library/busybox:1");
	ims_regconf_free(c);
	c = conf("unqualified-search-registries = [\"docker.io\", \"quay.io\"]\n", NULL);
	w = c ? ims_regconf_short_name_warning(c, bb) : NULL;
	ok(!w, "no warning when docker.io comes first");
	free(w);
	ims_regconf_free(c);
	ims_ref_free(bb);
	ims_ref_free(full);
	ims_ref_free(user);
}

static void test_v1(void)
{
	ims_regconf *c =
		conf("[registries.search]\nregistries = ['registry1.com', 'registry2.com']\n"
		     "[registries.insecure]\nregistries = ['registry3.com']\n"
		     "[registries.block]\nregistries = ['registry.untrusted.com', 'registry3.com']\n",
		     NULL);
	ok(c && c->nsearch == 2 && c->nregs == 2, "version 1 is read");
	if (!c)
		return;
	ok(c->regs[0].insecure && c->regs[0].blocked && !strcmp(c->regs[0].prefix, "registry3.com"),
	   "insecure and blocked meet in one entry");
	ok(!c->regs[1].insecure && c->regs[1].blocked, "blocked alone");
	ims_regconf_free(c);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static const char *first_location(const ims_regconf *c)
{
	return c && c->nregs ? c->regs[0].location : NULL;
}

/* The files: $IMAGESPEC_REGISTRIES_CONF alone, else the user's file with
 * its drop-ins only, else the system's (here missing) and the user's
 * drop-ins; $CONTAINERS_REGISTRIES_CONF replaces the main file. */
static void test_load(void)
{
	char dir[] = "/tmp/test-regconf.XXXXXX";
	ok(mkdtemp(dir) != NULL, "temp dir");
	char *cfg = xasprintf("%s/.config/containers", dir), *d = xasprintf("%s/registries.conf.d", cfg);
	char *cmd = xasprintf("mkdir -p '%s'", d);
	ok(system(cmd) == 0, "mkdir");
	free(cmd);
	char *user = xasprintf("%s/registries.conf", cfg), *d1 = xasprintf("%s/10-a.conf", d),
	     *d2 = xasprintf("%s/20-b.conf", d), *skip = xasprintf("%s/30-c.txt", d), *only = xasprintf("%s/only", dir);
	write_text(user, "[[registry]]\nprefix = \"r.example\"\nlocation = \"user.example\"\n");
	write_text(d1, "[[registry]]\nprefix = \"r.example\"\nlocation = \"a.example\"\n");
	write_text(d2, "[[registry]]\nprefix = \"r.example\"\nlocation = \"b.example\"\n");
	write_text(skip, "not toml at all = = =\n");
	write_text(only, "[[registry]]\nprefix = \"r.example\"\nlocation = \"only.example\"\n");
	char *saved_home = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;
	setenv("HOME", dir, 1);
	unsetenv("CONTAINERS_REGISTRIES_CONF");
	unsetenv("IMAGESPEC_REGISTRIES_CONF");

	ims_regconf *c = NULL;
	ims_error *e = NULL;
	ok(ims_regconf_load(&c, &events, &e) == 0, "user file and drop-ins load");
	is_str(first_location(c), "b.example", "drop-ins in lexical order win over the user file");
	ok(c && c->nfiles == 3, "three files read, the .txt one left alone (%zu)", c ? c->nfiles : 0);
	ims_regconf_free(c);
	c = NULL;

	setenv("CONTAINERS_REGISTRIES_CONF", only, 1);
	ok(ims_regconf_load(&c, &events, &e) == 0, "CONTAINERS_REGISTRIES_CONF loads");
	ok(c && c->nfiles >= 3 && !strcmp(c->files[0], only), "it replaces the main file; drop-ins still read");
	ims_regconf_free(c);
	c = NULL;

	setenv("IMAGESPEC_REGISTRIES_CONF", only, 1);
	ok(ims_regconf_load(&c, &events, &e) == 0, "IMAGESPEC_REGISTRIES_CONF loads");
	is_str(first_location(c), "only.example", "only that file");
	ok(c && c->nfiles == 1, "and no drop-in");
	ims_regconf_free(c);
	c = NULL;

	char *missing = xasprintf("%s/missing.conf", dir);
	setenv("IMAGESPEC_REGISTRIES_CONF", missing, 1);
	ok(ims_regconf_load(&c, &events, &e) == IMS_EINVALID && !c && e, "a missing IMAGESPEC_REGISTRIES_CONF fails");
	ims_error_free(e);
	e = NULL;
	unsetenv("IMAGESPEC_REGISTRIES_CONF");

	write_text(d1, "[[registry]]\nprefix = \"r.example\"\nlocation = 'a.example\n");
	unsetenv("CONTAINERS_REGISTRIES_CONF");
	ok(ims_regconf_load(&c, &events, &e) == IMS_EINVALID && !c && e, "a malformed drop-in fails");
	char *want = xasprintf("%s:3:12: an unterminated string", d1);
	is_str(e ? e->message : NULL, want, "naming the drop-in, line and column");
	ims_error_free(e);

	if (saved_home)
		setenv("HOME", saved_home, 1);
	cmd = xasprintf("rm -rf '%s'", dir);
	ok(system(cmd) == 0, "cleanup");
	free(cmd);
	free(want);
	free(missing);
	free(saved_home);
	free(cfg);
	free(d);
	free(user);
	free(d1);
	free(d2);
	free(skip);
	free(only);
}

/* The registry client (ims_registry_open's executor): a blocked
 * repository is refused when it is opened, a malformed file is exit 2,
 * and both happen before any request (port 1 answers nothing). */
static void test_exec_registry(void)
{
	char path[] = "/tmp/test-regconf-exec.XXXXXX";
	int fd = mkstemp(path);
	ok(fd >= 0, "temp file");
	close(fd);
	write_text(path, "[[registry]]\nprefix = \"127.0.0.1:1/team\"\nblocked = true\n");
	setenv("IMAGESPEC_REGISTRIES_CONF", path, 1);
	ims_exec_env env = { 0 };
	ims_exec_registry *x = NULL;
	ims_error *e = NULL;
	ok(ims_exec_registry_open(&x, &env, "127.0.0.1:1", "team/app", &e) == IMS_EGENERIC && !x && e,
	   "a blocked repository is refused by the registry client");
	char *want = xasprintf(
		"registry `127.0.0.1:1/team/app:latest`: registries configuration blocks `127.0.0.1:1/team` "
		"(%s:1:1)",
		path);
	is_str(e ? e->message : NULL, want, "the message names the entry");
	free(want);
	ims_error_free(e);
	e = NULL;
	ok(ims_exec_registry_open(&x, &env, "127.0.0.1:1", "other/app", &e) == 0 && x, "another repository opens");
	ims_exec_registry_close(x);
	ims_error_free(e);
	e = NULL;
	write_text(path, "[[registry]\n");
	x = NULL;
	ok(ims_exec_registry_open(&x, &env, "127.0.0.1:1", "other/app", &e) == IMS_EINVALID && !x && e,
	   "a malformed file is IMS_EINVALID (exit 2)");
	ims_error_free(e);
	unsetenv("IMAGESPEC_REGISTRIES_CONF");
	unlink(path);
}

int main(void)
{
	test_toml();
	test_v2();
	test_short_names();
	test_v1();
	test_load();
	test_exec_registry();
	return tap_done();
}
