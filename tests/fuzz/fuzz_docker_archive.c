/* Fuzzes the manifest.json parser of docker-archive, and the name
 * normalisation applied to every RepoTag it yields. */
#include <stdint.h>
#include <stdlib.h>

#include "transport/docker_archive_manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Past the cap the parser only says "too large"; nothing to learn. */
	if (size > IMS_DOCKER_ARCHIVE_MANIFEST_MAX + 1)
		return 0;
	ims_docker_archive_manifest *m = NULL;
	ims_error *err = NULL;
	if (ims_docker_archive_manifest_parse(&m, (const char *)data, size, &err) < 0) {
		ims_error_free(err);
		return 0;
	}
	for (size_t i = 0; i < m->nimages; i++) {
		const ims_docker_archive_image *im = &m->images[i];
		if (!ims_docker_archive_path_valid(im->config))
			abort();
		for (size_t j = 0; j < im->nlayers; j++)
			if (!ims_docker_archive_path_valid(im->layers[j]))
				abort();
		for (size_t j = 0; j < im->ntags; j++) {
			free(ims_docker_archive_short_name(im->repo_tags[j]));
			free(ims_docker_archive_long_name(im->repo_tags[j]));
		}
	}
	ims_docker_archive_manifest_free(m);
	return 0;
}
