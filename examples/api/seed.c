/* The container-image-builder README example, in C with libimagespec:
 *
 *   const image = new Image('node:lts-slim', 'gcr.io/my-project/my-image')
 *   await image.addFiles({'/directory-root-for-files-in-container': './'})
 *   image.WorkingDir = '/directory-root-for-files-in-container'
 *   image.Cmd = ['node', 'index.js']
 *   image.Env = []
 *   await image.save()
 *
 * usage: seed BASE SRC_DIR TARGET
 *   e.g. seed oci:out/busybox:1 ./app oci:out/seed:latest
 */
#include <stdio.h>
#include <stdlib.h>

#include <imagespec/imagespec.h>

static int fail(ims_error *err)
{
	fprintf(stderr, "seed: %s\n", err ? err->message : "failed");
	int code = ims_error_exit_status(err ? err->code : IMS_EGENERIC);
	ims_error_free(err);
	return code;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s BASE SRC_DIR TARGET\n", argv[0]);
		return 2;
	}
	ims_error *err = NULL;
	ims_context *ctx = NULL;
	ims_image *img = NULL;
	ims_build_result *res = NULL;
	int rc = 0;

	if (ims_init() < 0)
		return 1;
	if (ims_context_new(&ctx, NULL, &err) < 0 || ims_image_new(&img, ctx, argv[1], &err) < 0) {
		rc = fail(err);
		goto out;
	}

	/* addFiles({'/directory-root-for-files-in-container': SRC_DIR}) */
	ims_image_file f = IMS_IMAGE_FILE_INIT;
	f.src = argv[2];
	f.dest = "/directory-root-for-files-in-container/";
	/* a CustomFile: in-memory content with its own mode and owner */
	ims_image_custom_file motd = IMS_IMAGE_CUSTOM_FILE_INIT;
	motd.dest = "/etc/motd";
	motd.data = "built with libimagespec\n";
	motd.size = 24;
	motd.mode = 0600;
	motd.uid = 1000;
	motd.gid = 1000;
	const char *cmd[] = { "/bin/sh", "-c", "cat /etc/motd; ls /directory-root-for-files-in-container" };
	if (ims_image_add_files(img, &f, 1, &err) < 0 || ims_image_add_custom_files(img, &motd, 1, &err) < 0 ||
	    ims_image_set_working_dir(img, "/directory-root-for-files-in-container", &err) < 0 ||
	    ims_image_set_cmd(img, cmd, 3, &err) < 0 ||
	    ims_image_set_env(img, "PATH", "/directory-root-for-files-in-container:${base:PATH}", &err) < 0) {
		rc = fail(err);
		goto out;
	}

	/* get and change the config, as the seed's getImageData() allows */
	char *config = NULL;
	if (ims_image_get_config(img, &config, &err) < 0) {
		rc = fail(err);
		goto out;
	}
	fprintf(stderr, "config before save: %s\n", config);
	free(config);

	if (ims_image_save(img, argv[3], NULL, 0, &res, &err) < 0) {
		rc = fail(err);
		goto out;
	}
	printf("%s@%s\n", ims_build_result_reference(res, 0), ims_build_result_digest(res));
out:
	ims_build_result_free(res);
	ims_image_free(img);
	ims_context_free(ctx);
	ims_shutdown();
	return rc;
}
