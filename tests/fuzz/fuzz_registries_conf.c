/* Fuzzes the registries.conf reader (src/regconf/): the strict TOML subset
 * and the v2/v1 keys, then what the result means for a few references
 * (pull sources, blocked, insecure hosts). A file either fails with a
 * "fuzz.conf:LINE:COL: " message, or gives a configuration whose every
 * entry has a prefix and a location and whose pull sources end with the
 * primary; nothing crashes or leaks (ASan). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref/ref.h"
#include "regconf/regconf.h"

#define FUZZ_MAX_INPUT 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_registries_conf: %s\n", what);
		abort();
	}
}

/* "fuzz.conf:LINE:COL: " with LINE and COL positive. */
static int positioned(const char *m)
{
	int line = 0, col = 0, n = 0;
	return sscanf(m, "fuzz.conf:%d:%d: %n", &line, &col, &n) == 2 && n > 0 && line > 0 && col > 0;
}

static const char *const refs[] = {
	"busybox",
	"registry.example:5000/team/app:1",
	"a.b.example.com/x/y@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	"127.0.0.1:5000/base/busybox:1",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAX_INPUT)
		size = FUZZ_MAX_INPUT;
	ims_regconf *c = ims_regconf_new();
	ims_error *e = NULL;
	static const ims_events quiet = { 0 };
	if (ims_regconf_parse(c, "fuzz.conf", (const char *)data, size, &quiet, &e) < 0) {
		check(e && e->message && e->code == IMS_EINVALID, "a refusal is IMS_EINVALID with a message");
		check(positioned(e->message), "a refusal names fuzz.conf:LINE:COL");
		ims_error_free(e);
		ims_regconf_free(c);
		return 0;
	}
	check(!e, "success leaves err alone");
	ims_ref *parsed[sizeof(refs) / sizeof(refs[0])] = { 0 };
	for (size_t i = 0; i < c->nregs; i++)
		check(c->regs[i].prefix && *c->regs[i].prefix && c->regs[i].location && c->regs[i].at,
		      "an entry has a prefix, a location and a place");
	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
		check(ims_ref_parse(&parsed[i], refs[i], NULL) == 0, "a fixed reference parses");
		ims_regconf_sources s;
		if (ims_regconf_pull_sources(c, parsed[i], &s, &e) == 0) {
			check(s.n >= 1 && !s.is_mirror[s.n - 1], "the primary comes last");
			for (size_t j = 0; j < s.n; j++)
				check(s.refs[j]->kind == IMS_REF_REGISTRY, "every source is a registry reference");
			ims_regconf_sources_dispose(&s);
		} else {
			check(e && e->message, "a bad rewrite says why");
			ims_error_free(e);
			e = NULL;
		}
		if (ims_regconf_check_blocked(c, parsed[i], "pull", &e) < 0) {
			check(e && e->code == IMS_EGENERIC, "blocked is IMS_EGENERIC");
			ims_error_free(e);
			e = NULL;
		}
	}
	char **hosts = NULL;
	size_t n = 0;
	ims_regconf_insecure_hosts(c, (const ims_ref *const *)parsed, sizeof(refs) / sizeof(refs[0]), &hosts, &n);
	for (size_t i = 0; i < n; i++) {
		check(hosts[i] && *hosts[i] && !strchr(hosts[i], '/'), "an insecure host is host[:port]");
		free(hosts[i]);
	}
	free(hosts);
	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++)
		ims_ref_free(parsed[i]);
	ims_regconf_free(c);
	return 0;
}
