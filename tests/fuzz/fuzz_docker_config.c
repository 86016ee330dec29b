/* Fuzzes the docker config.json reader (and podman's auth.json, the same
 * format): the input is written as $DOCKER_CONFIG/config.json and looked up
 * for a registry. PATH is empty, so a credsStore or credHelpers entry
 * names a helper that is not found (never a program that runs). A lookup
 * either fails with a message or gives credentials; nothing crashes or
 * leaks (ASan). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/credstore.h"

#define FUZZ_MAX_INPUT 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_docker_config: %s\n", what);
		abort();
	}
}

static void ignore(void *ud, const char *msg)
{
	(void)ud;
	(void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!*dir) {
		snprintf(dir, sizeof(dir), "/tmp/fuzz-docker-config.XXXXXX");
		check(mkdtemp(dir) != NULL, "a temp dir");
		setenv("DOCKER_CONFIG", dir, 1);
		setenv("PATH", "", 1);
		unsetenv("REGISTRY_AUTH_FILE");
		unsetenv("XDG_RUNTIME_DIR");
	}
	if (size > FUZZ_MAX_INPUT)
		size = FUZZ_MAX_INPUT;
	char path[96];
	snprintf(path, sizeof(path), "%s/config.json", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	check(fd >= 0, "write config.json");
	check(write(fd, data, size) == (ssize_t)size, "write config.json");
	close(fd);
	static const char *const registries[] = { "registry.example:5000", "docker.io" };
	for (size_t i = 0; i < 2; i++) {
		ims_credentials c;
		ims_error *e = NULL;
		if (ims_credstore_lookup(registries[i], &c, ignore, NULL, &e) < 0) {
			check(e && e->message, "a refusal says why");
			ims_error_free(e);
			continue;
		}
		ims_credentials_dispose(&c);
	}
	return 0;
}
