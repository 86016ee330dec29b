/* The container-image-builder README's "Common actions", in C with
 * libimagespec, against real registries:
 *
 *   actions build BASE SRC_DIR TARGET
 *       the README example: new Image(base, target, {auth}), addFiles,
 *       WorkingDir, Cmd, Env, save()
 *   actions update REF NAME=VALUE CMD...
 *       update env vars or the exec path of an image, in place
 *   actions add-layer REF LAYER.tar.gz DIFF_ID TARGET
 *       upload a blob with the RegistryClient, then addLayer and save()
 *   actions copy SRC DST
 *       copy an image to another registry: new Image(src, dst).save()
 *   actions client REGISTRY REPO TAG FROM_REPO
 *       every RegistryClient verb: tags, manifest, blobExists, blob,
 *       upload, mount, manifestUpload
 *
 * Credentials for registries that ask for them come from the environment,
 * as an application would hold them in memory: ACTIONS_REGISTRY,
 * ACTIONS_USER, ACTIONS_PASSWORD (the seed's `{auth: {registry: ...}}`).
 * Every result is printed as REF@DIGEST on standard output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <imagespec/imagespec.h>

static ims_context *ctx;
static ims_credential cred;
static ims_image_options image_opts = IMS_IMAGE_OPTIONS_INIT;
static ims_registry_options registry_opts = IMS_REGISTRY_OPTIONS_INIT;

static int fail(const char *what, ims_error *err)
{
	fprintf(stderr, "actions: %s: %s\n", what, err ? err->message : "failed");
	int code = ims_error_exit_status(err ? err->code : IMS_EGENERIC);
	ims_error_free(err);
	return code ? code : 1;
}

/* The seed's {auth: {'registry': {Username, Secret}}}, from the environment. */
static void credentials(void)
{
	cred.registry = getenv("ACTIONS_REGISTRY");
	cred.username = getenv("ACTIONS_USER");
	cred.password = getenv("ACTIONS_PASSWORD");
	if (cred.registry && cred.username && cred.password) {
		image_opts.auth = registry_opts.auth = &cred;
		image_opts.nauth = registry_opts.nauth = 1;
	}
}

static int saved(ims_image *img, const char *target, const ims_save_options *o)
{
	ims_build_result *res = NULL;
	ims_error *err = NULL;
	if (ims_image_save_with(img, target, o, &res, &err) < 0)
		return fail("save", err);
	printf("%s@%s\n", ims_build_result_reference(res, 0), ims_build_result_digest(res));
	ims_build_result_free(res);
	return 0;
}

static int build(char **argv)
{
	ims_image *img = NULL;
	ims_error *err = NULL;
	int rc = 0;
	if (ims_image_open(&img, ctx, argv[0], &image_opts, &err) < 0)
		return fail("open the base", err);
	ims_image_file f = IMS_IMAGE_FILE_INIT;
	f.src = argv[1];
	f.dest = "/directory-root-for-files-in-container/";
	const char *cmd[] = { "/bin/sh", "-c", "cat /directory-root-for-files-in-container/index.js" };
	if (ims_image_add_files(img, &f, 1, &err) < 0 ||
	    ims_image_set_working_dir(img, "/directory-root-for-files-in-container", &err) < 0 ||
	    ims_image_set_cmd(img, cmd, 3, &err) < 0 || ims_image_set_env(img, "NODE_ENV", "production", &err) < 0 ||
	    ims_image_set_label(img, "org.opencontainers.image.source", "examples/api/actions.c", &err) < 0 ||
	    ims_image_add_port(img, "8080/tcp", &err) < 0 || ims_image_add_volume(img, "/data", &err) < 0 ||
	    ims_image_set_annotation(img, "org.opencontainers.image.title", "actions", &err) < 0)
		rc = fail("edit", err);
	if (!rc)
		rc = saved(img, argv[2], NULL);
	ims_image_free(img);
	return rc;
}

/* NAME=VALUE and the new command, saved back under the same reference. */
static int update(char **argv, int argc)
{
	ims_image *img = NULL;
	ims_error *err = NULL;
	int rc = 0;
	char *eq = strchr(argv[1], '=');
	if (!eq) {
		fprintf(stderr, "actions: update: want NAME=VALUE, not `%s`\n", argv[1]);
		return 2;
	}
	*eq = '\0';
	if (ims_image_open(&img, ctx, argv[0], &image_opts, &err) < 0)
		return fail("open", err);
	if (ims_image_set_env(img, argv[1], eq + 1, &err) < 0 ||
	    ims_image_set_cmd(img, (const char *const *)argv + 2, (size_t)argc - 2, &err) < 0)
		rc = fail("edit", err);
	if (!rc)
		rc = saved(img, argv[0], NULL);
	ims_image_free(img);
	return rc;
}

static long long file_read(void *ud, void *buf, size_t len)
{
	size_t n = fread(buf, 1, len, ud);
	return ferror((FILE *)ud) ? -1 : (long long)n;
}

/* REF is REGISTRY/REPO:TAG; the blob goes to TARGET's repository. */
static int split_ref(const char *ref, char **registry, char **repo)
{
	const char *slash = strchr(ref, '/');
	const char *colon = slash ? strrchr(slash, ':') : NULL;
	if (!slash || !colon)
		return -1;
	*registry = strndup(ref, (size_t)(slash - ref));
	*repo = strndup(slash + 1, (size_t)(colon - slash - 1));
	return 0;
}

static int add_layer(char **argv)
{
	char *registry = NULL, *repo = NULL, *digest = NULL;
	long long size = 0;
	ims_registry_client *c = NULL;
	ims_image *img = NULL;
	ims_error *err = NULL;
	int rc = 0;
	FILE *f = fopen(argv[1], "rb");
	if (!f || split_ref(argv[3], &registry, &repo) < 0) {
		fprintf(stderr, "actions: add-layer: cannot read `%s` or split `%s`\n", argv[1], argv[3]);
		rc = 2;
		goto out;
	}
	/* The seed: "adding a new blob directly to the target registry before
	 * you call addLayer". The digest is computed while it uploads. */
	if (ims_registry_open(&c, ctx, registry, repo, &registry_opts, &err) < 0 ||
	    ims_registry_upload_blob(c, file_read, f, NULL, -1, &digest, &size, &err) < 0) {
		rc = fail("upload the layer", err);
		goto out;
	}
	fprintf(stderr, "uploaded %s (%lld bytes)\n", digest, size);
	if (ims_image_open(&img, ctx, argv[0], &image_opts, &err) < 0 ||
	    ims_image_add_layer(img, digest, argv[2], size, NULL, NULL, 0, &err) < 0) {
		rc = fail("add the layer", err);
		goto out;
	}
	rc = saved(img, argv[3], NULL);
out:
	if (f)
		fclose(f);
	ims_image_free(img);
	ims_registry_close(c);
	free(registry);
	free(repo);
	free(digest);
	return rc;
}

static int copy(char **argv)
{
	ims_image *img = NULL;
	ims_error *err = NULL;
	if (ims_image_open(&img, ctx, argv[0], &image_opts, &err) < 0)
		return fail("open the source", err);
	int rc = saved(img, argv[1], NULL);
	ims_image_free(img);
	return rc;
}

static int buf_write(void *ud, const void *data, size_t len)
{
	size_t *n = ud;
	*n += len;
	(void)data;
	return 0;
}

typedef struct {
	const char *p;
	size_t left;
} mem;

static long long mem_read(void *ud, void *buf, size_t len)
{
	mem *m = ud;
	size_t n = len < m->left ? len : m->left;
	memcpy(buf, m->p, n);
	m->p += n;
	m->left -= n;
	return (long long)n;
}

/* Every RegistryClient verb, on REGISTRY/REPO, printing what it saw. */
static int client(char **argv)
{
	ims_registry_client *c = NULL;
	ims_error *err = NULL;
	char **tags = NULL, *data = NULL, *mt = NULL, *digest = NULL, *up = NULL, *put = NULL;
	size_t ntags = 0, len = 0, got = 0;
	int exists = 0, mounted = 0, rc = 0;
	long long size = 0;
	if (ims_registry_open(&c, ctx, argv[0], argv[1], &registry_opts, &err) < 0)
		return fail("open", err);
	if (ims_registry_list_tags(c, &tags, &ntags, &err) < 0) {
		rc = fail("tags", err);
		goto out;
	}
	for (size_t i = 0; i < ntags; i++)
		printf("tag %s\n", tags[i]);
	if (ims_registry_get_manifest(c, argv[2], &data, &len, &mt, &digest, &err) < 0) {
		rc = fail("manifest", err);
		goto out;
	}
	printf("manifest %s %s %zu\n", digest, mt, len);
	/* the first layer: in the base's repository too, so it can be mounted */
	const char *d = strstr(data, "\"layers\"");
	d = d ? strstr(d, "\"digest\":\"") : NULL;
	char blob[72] = "";
	if (d)
		snprintf(blob, sizeof(blob), "%.71s", d + 10);
	if (ims_registry_blob_exists(c, blob, &exists, &size, &err) < 0 ||
	    ims_registry_get_blob(c, blob, buf_write, &got, &err) < 0) {
		rc = fail("blob", err);
		goto out;
	}
	printf("blob %s exists=%d size=%lld read=%zu\n", blob, exists, size, got);
	mem m = { "uploaded by examples/api/actions.c\n", 35 };
	if (ims_registry_upload_blob(c, mem_read, &m, NULL, -1, &up, NULL, &err) < 0) {
		rc = fail("upload", err);
		goto out;
	}
	printf("upload %s\n", up);
	if (ims_registry_mount_blob(c, blob, argv[3], &mounted, &err) < 0) {
		rc = fail("mount", err);
		goto out;
	}
	printf("mount %s from %s mounted=%d\n", blob, argv[3], mounted);
	/* the same manifest under a new tag, bytes unchanged */
	if (ims_registry_put_manifest(c, "copied", data, len, mt, &put, &err) < 0) {
		rc = fail("manifestUpload", err);
		goto out;
	}
	printf("manifestUpload copied %s\n", put);
out:
	ims_strv_dispose(tags, ntags);
	free(data);
	free(mt);
	free(digest);
	free(up);
	free(put);
	ims_registry_close(c);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *verb;
		int nargs; /* at least */
	} verbs[] = { { "build", 3 }, { "update", 3 }, { "add-layer", 4 }, { "copy", 2 }, { "client", 4 } };
	int v = -1;
	for (size_t i = 0; argc > 1 && i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(argv[1], verbs[i].verb) && argc - 2 >= verbs[i].nargs)
			v = (int)i;
	if (v < 0) {
		fprintf(stderr, "usage: %s build|update|add-layer|copy|client ARGS... (see the top of actions.c)\n",
			argv[0]);
		return 2;
	}
	ims_error *err = NULL;
	if (ims_init() < 0)
		return 1;
	ims_context_options o = IMS_CONTEXT_OPTIONS_INIT;
	const char *insecure[] = { getenv("ACTIONS_INSECURE") };
	if (insecure[0]) {
		o.insecure_registries = insecure;
		o.ninsecure_registries = 1;
	}
	if (ims_context_new(&ctx, &o, &err) < 0)
		return fail("context", err);
	credentials();
	int rc;
	switch (v) {
	case 0:
		rc = build(argv + 2);
		break;
	case 1:
		rc = update(argv + 2, argc - 2);
		break;
	case 2:
		rc = add_layer(argv + 2);
		break;
	case 3:
		rc = copy(argv + 2);
		break;
	default:
		rc = client(argv + 2);
		break;
	}
	ims_context_free(ctx);
	ims_shutdown();
	return rc;
}
