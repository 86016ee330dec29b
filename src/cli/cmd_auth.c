/* imagespec auth login|logout|get: docker's config.json and credential
 * helpers, through the public API (include/imagespec/auth.h).
 *
 * login stores what it is given without asking the registry, as crane
 * does: it works offline and in CI before the registry is up, and a typo
 * shows up at the first push (exit 3) instead. docker verifies first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* A password or a server URL is small; more is a mistake (a file piped
 * to the wrong command) and is refused rather than stored. */
#define PASSWORD_MAX (64 * 1024)
#define SERVER_URL_MAX 4096

static const char usage_text[] =
	"usage: imagespec auth login REGISTRY -u USER --password-stdin\n"
	"       imagespec auth logout REGISTRY\n"
	"       imagespec auth get < SERVER-URL\n"
	"\n"
	"login   stores credentials for REGISTRY (docker.io, localhost:5000,\n"
	"        https://index.docker.io/v1/) where docker keeps them: the credential\n"
	"        helper config.json names (credHelpers, credsStore), else config.json\n"
	"        `auths` ($DOCKER_CONFIG or ~/.docker, file mode 0600). The password is\n"
	"        read from standard input (one trailing newline removed); it is never\n"
	"        taken from the command line, where `ps` shows it. login does NOT\n"
	"        contact the registry: wrong credentials show at the first push or pull.\n"
	"logout  removes them.\n"
	"get     reads a server URL on standard input and prints the credentials a\n"
	"        build would use as {\"ServerURL\",\"Username\",\"Secret\"} JSON (the\n"
	"        credential-helper protocol); exit 1 when there are none.\n"
	"\n"
	"  -u, --username USER   login: the user name (once)\n"
	"      --password-stdin  login: read the password from standard input\n"
	"\n"
	"Examples:\n"
	"  printf '%s' \"$TOKEN\" | imagespec auth login ghcr.io -u me --password-stdin\n"
	"  imagespec auth logout ghcr.io\n"
	"  echo https://ghcr.io | imagespec auth get\n";

/* Reads all of stdin into buf (at most max bytes); -1 when there is more
 * or it cannot be read. */
static long read_stdin(char *buf, size_t max)
{
	size_t n = 0;
	for (;;) {
		ssize_t r = read(STDIN_FILENO, buf + n, max + 1 - n);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		if ((n += (size_t)r) > max)
			return -1;
	}
	buf[n] = '\0';
	return (long)n;
}

static bool is_help(const char *a)
{
	return !strcmp(a, "-h") || !strcmp(a, "--help");
}

static bool is_password_flag(const char *a)
{
	return !strcmp(a, "--password") || !strncmp(a, "--password=", 11) || !strncmp(a, "-p", 2);
}

static int with_context(ims_context **ctx, ims_error **err)
{
	cli_common common = { .progress = PROGRESS_QUIET };
	return cli_context(ctx, &common, err);
}

static int login(int argc, char **argv)
{
	const char *registry = NULL, *user = NULL;
	bool from_stdin = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (is_help(a)) {
			fputs(usage_text, stdout);
			return 0;
		}
		/* Never echo the value: it is the password. */
		if (is_password_flag(a))
			return cli_usage("auth login",
					 "a password on the command line is refused: `ps` and the shell "
					 "history show it to others; pipe it to --password-stdin");
		if (!strcmp(a, "--password-stdin"))
			from_stdin = true;
		else if (((!strcmp(a, "-u") || !strcmp(a, "--username")) && i + 1 < argc) ||
			 !strncmp(a, "--username=", 11)) {
			if (user)
				return cli_usage("auth login", "-u/--username given twice; it takes one value");
			user = a[1] == 'u' ? argv[++i] : a + 11;
		}
		else if (a[0] == '-')
			return cli_usage("auth login", "unknown option `%s`", a);
		else if (registry)
			return cli_usage("auth login", "name exactly one registry");
		else
			registry = a;
	}
	if (!registry)
		return cli_usage("auth login", "name the registry to log in to");
	if (!user || !*user)
		return cli_usage("auth login", "give the username with -u USER");
	if (!from_stdin)
		return cli_usage("auth login", "give the password on standard input with --password-stdin");

	char *pw = malloc(PASSWORD_MAX + 2);
	if (!pw)
		abort();
	long n = read_stdin(pw, PASSWORD_MAX);
	int rc = 0;
	if (n < 0) {
		fprintf(stderr,
			"imagespec: auth login: cannot read the password from standard input "
			"(at most %d bytes)\n",
			PASSWORD_MAX);
		rc = 1;
		goto out;
	}
	/* One trailing newline, as `echo` and docker's --password-stdin. */
	if (n > 0 && pw[n - 1] == '\n')
		pw[--n] = '\0';
	if (n > 0 && pw[n - 1] == '\r')
		pw[--n] = '\0';
	if ((size_t)n != strlen(pw)) {
		fputs("imagespec: auth login: the password holds a NUL byte\n", stderr);
		rc = EXIT_USAGE;
		goto out;
	}
	ims_context *ctx = NULL;
	ims_error *err = NULL;
	if (with_context(&ctx, &err) < 0 || ims_auth_login(ctx, registry, user, pw, &err) < 0)
		rc = cli_fail(err);
	else
		puts("Login Succeeded");
	ims_context_free(ctx);
out:
	explicit_bzero(pw, PASSWORD_MAX + 2);
	free(pw);
	return rc;
}

static int logout(int argc, char **argv)
{
	if (argc == 2 && is_help(argv[1])) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-')
		return cli_usage("auth logout", "name exactly one registry");
	ims_context *ctx = NULL;
	ims_error *err = NULL;
	int rc = 0;
	if (with_context(&ctx, &err) < 0 || ims_auth_logout(ctx, argv[1], &err) < 0)
		rc = cli_fail(err);
	else
		printf("Removing login credentials for %s\n", argv[1]);
	ims_context_free(ctx);
	return rc;
}

/* A JSON string; the CLI sees no JSON library, and this is all it needs. */
static void put_json_string(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static int get(int argc, char **argv)
{
	if (argc == 2 && is_help(argv[1])) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (argc != 1)
		return cli_usage("auth get", "the server URL is read from standard input, not the command line");
	char url[SERVER_URL_MAX + 2];
	long n = read_stdin(url, SERVER_URL_MAX);
	if (n < 0)
		return cli_usage("auth get", "cannot read a server URL of at most %d bytes from standard input",
				 SERVER_URL_MAX);
	while (n > 0 && strchr(" \t\r\n", url[n - 1]))
		url[--n] = '\0';
	if (n <= 0)
		return cli_usage("auth get", "write a server URL to standard input");
	ims_context *ctx = NULL;
	ims_error *err = NULL;
	char *user = NULL, *secret = NULL;
	int rc = 0;
	if (with_context(&ctx, &err) < 0 || ims_auth_get(ctx, url, &user, &secret, &err) < 0) {
		if (err && err->code == IMS_ENOTFOUND) {
			/* What docker-credential-helpers print, on stdout, so
			 * that docker and crane treat it as "none". */
			puts("credentials not found in native keychain");
			ims_error_free(err);
			rc = 1;
		} else {
			rc = cli_fail(err);
		}
	} else {
		fputs("{\"ServerURL\":", stdout);
		put_json_string(url);
		fputs(",\"Username\":", stdout);
		put_json_string(user);
		fputs(",\"Secret\":", stdout);
		put_json_string(secret);
		fputs("}\n", stdout);
		fflush(stdout);
	}
	ims_auth_secret_free(user);
	ims_auth_secret_free(secret);
	ims_context_free(ctx);
	return rc;
}

int cmd_auth(int argc, char **argv)
{
	if (argc >= 2 && is_help(argv[1])) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (argc < 2)
		return cli_usage("auth", "want login, logout or get");
	if (!strcmp(argv[1], "login"))
		return login(argc - 1, argv + 1);
	if (!strcmp(argv[1], "logout"))
		return logout(argc - 1, argv + 1);
	if (!strcmp(argv[1], "get"))
		return get(argc - 1, argv + 1);
	return cli_usage("auth", "want login, logout or get, not `%s`", argv[1]);
}
