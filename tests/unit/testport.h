/* Ports for the unit tests' own servers that must be told their port before
 * they start (docker-registry, restarted on the same port): claimed with
 * tests/lib/claim_port.py, outside the kernel's ephemeral range, so no
 * client connection and no other test takes the port before the server binds
 * it. The claims of this process are released at exit. */
#ifndef IMS_TEST_TESTPORT_H
#define IMS_TEST_TESTPORT_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *test_ports_dir(void)
{
	const char *d = getenv("IMS_TEST_PORTS_DIR");
	return d && *d ? d : "/tmp/imagespec-test-ports";
}

/* Removes every claim whose owner is this process. */
static void test_ports_release(void)
{
	char me[32], path[4096], buf[32];
	snprintf(me, sizeof(me), "%ld\n", (long)getpid());
	DIR *d = opendir(test_ports_dir());
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/owner", test_ports_dir(), de->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		if (strcmp(buf, me) != 0)
			continue;
		unlink(path);
		snprintf(path, sizeof(path), "%s/%s", test_ports_dir(), de->d_name);
		rmdir(path);
	}
	closedir(d);
}

/* A claimed port on 127.0.0.1, or -1. */
static int test_port_claim(void)
{
	static int registered;
	char cmd[4096];
	snprintf(cmd, sizeof(cmd), "python3 '%s/lib/claim_port.py' 127.0.0.1 %ld", TEST_SRCDIR, (long)getpid());
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	int port = -1;
	if (fscanf(p, "%d", &port) != 1)
		port = -1;
	if (pclose(p) != 0)
		port = -1;
	if (!registered) {
		registered = 1;
		atexit(test_ports_release);
	}
	return port;
}

#endif
