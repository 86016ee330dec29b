/* Manifests and indexes: GET, HEAD and PUT on /v2/REPO/manifests/REF.
 *
 * GET always sends the full Accept list: distribution answers 404 to a
 * request for an OCI document whose Accept lacks its type. What arrives is
 * capped at 4 MiB (the server's own limit), hashed here, and checked
 * against the digest asked for and against Docker-Content-Digest. */
#include <stdlib.h>
#include <string.h>

#include "json/oci.h"
#include "ref/ref.h"
#include "transport/registry_int.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/xalloc.h"

static const char accept_header[] = "Accept: " IMS_MT_OCI_INDEX ", " IMS_MT_OCI_MANIFEST ", " IMS_MT_DOCKER_LIST
				    ", " IMS_MT_DOCKER_MANIFEST;

/* "@" for digests, ":" for tags, so messages read like references. */
static const char *ref_sep(const char *reference)
{
	return ims_digest_valid(reference) ? "@" : ":";
}

static int check_args(const char *repo, const char *reference, ims_error **err)
{
	int rc = ims_registry__check_repo(repo, err);
	if (rc < 0)
		return rc;
	if (!reference || (!ims_digest_valid(reference) && !ims_ref_tag_valid(reference)))
		return ims_error_set(err, IMS_EINVALID, "invalid tag or digest `%s` for `%s`",
				     reference ? reference : "", repo);
	return 0;
}

/* The media type of a Content-Type header, without parameters. */
static char *content_type(const ims_http_response *resp)
{
	const char *ct = ims_http_header(resp, "content-type");
	if (!ct)
		return NULL;
	size_t n = strcspn(ct, "; \t");
	return n ? xstrndup(ct, n) : NULL;
}

/* method on /v2/REPO/manifests/REF, with the full Accept list. */
static int send_manifest(ims_registry *r, const ims_registry_call *c, ims_http_request *req, const char *repo,
			 const char *reference, ims_http_response *resp, ims_error **err)
{
	static const char *const accept[] = { accept_header };
	if (!req->headers) {
		req->headers = accept;
		req->nheaders = 1;
	}
	return ims_registry__send_path(r, c, req, resp, err, "%s/manifests/%s", repo, reference);
}

int ims_registry_manifest_get(ims_registry *r, const char *repo, const char *reference, char **data, size_t *len,
			      char **media_type, char digest[IMS_DIGEST_BUFSZ], ims_error **err)
{
	int rc = check_args(repo, reference, err);
	if (rc < 0)
		return rc;
	ims_registry_call c;
	ims_registry__call_init(&c, r, repo, false, NULL, "get manifest `%s/%s%s%s`", r->host, repo, ref_sep(reference),
				reference);
	ims_http_request req = IMS_HTTP_REQUEST_INIT;
	req.method = "GET";
	req.max_body = IMS_MANIFEST_MAX;
	req.follow_redirects = true;
	ims_http_response resp = { 0 };
	_cleanup_free_ char *ct = NULL;
	char got[IMS_DIGEST_BUFSZ];
	char *mt = NULL;
	if ((rc = send_manifest(r, &c, &req, repo, reference, &resp, err)) < 0)
		goto out;
	if (resp.status != 200) {
		rc = ims_registry__fail(&c, &resp, err);
		goto out;
	}
	if (resp.body.len > IMS_MANIFEST_MAX) {
		rc = ims_error_set(err, IMS_EGENERIC, "%s: manifest larger than %u bytes", c.what, IMS_MANIFEST_MAX);
		goto out;
	}
	const char *body = resp.body.data ? resp.body.data : "";
	ims_sha256_buf(body, resp.body.len, got);
	if (ims_digest_valid(reference) && strcmp(got, reference) != 0) {
		rc = ims_error_set(err, IMS_EDIGEST, "%s: content has digest %s", c.what, got);
		goto out;
	}
	if ((rc = ims_registry__check_dcd(&c, &resp, got, err)) < 0)
		goto out;
	ct = content_type(&resp);
	ims_doc_kind kind;
	if ((rc = ims_doc_detect(body, resp.body.len, ct, &kind, &mt, err)) < 0) {
		rc = ims_registry__not_spec(err, ims_error_wrap(err, "%s", c.what));
		goto out;
	}
	*data = ims_buf_steal(&resp.body, len);
	if (media_type)
		*media_type = steal_pointer(&mt);
	if (digest)
		memcpy(digest, got, IMS_DIGEST_BUFSZ);
out:
	free(mt);
	ims_http_response_dispose(&resp);
	ims_registry__call_dispose(&c);
	return rc;
}

int ims_registry_manifest_head(ims_registry *r, const char *repo, const char *reference, bool *exists,
			       char digest[IMS_DIGEST_BUFSZ], ims_error **err)
{
	int rc = check_args(repo, reference, err);
	if (rc < 0)
		return rc;
	ims_registry_call c;
	ims_registry__call_init(&c, r, repo, false, NULL, "look up manifest `%s/%s%s%s`", r->host, repo,
				ref_sep(reference), reference);
	ims_http_request req = IMS_HTTP_REQUEST_INIT;
	req.method = "HEAD";
	req.follow_redirects = true;
	ims_http_response resp = { 0 };
	if (digest)
		digest[0] = '\0';
	if ((rc = send_manifest(r, &c, &req, repo, reference, &resp, err)) < 0)
		goto out;
	if ((rc = ims_registry__exists(&c, &resp, exists, err)) < 0 || !*exists)
		goto out;
	/* HEAD has no body to hash: the header is all there is, so it is
	 * passed on only when well-formed (and must match a digest asked for). */
	const char *dcd = ims_http_header(&resp, "docker-content-digest");
	if (ims_digest_valid(reference) && dcd && ims_digest_valid(dcd) && strcmp(dcd, reference) != 0) {
		rc = ims_registry__check_dcd(&c, &resp, reference, err);
		goto out;
	}
	if (digest && dcd && ims_digest_valid(dcd))
		memcpy(digest, dcd, IMS_DIGEST_BUFSZ);
	else if (digest && ims_digest_valid(reference))
		memcpy(digest, reference, IMS_DIGEST_BUFSZ);
out:
	ims_http_response_dispose(&resp);
	ims_registry__call_dispose(&c);
	return rc;
}

int ims_registry_manifest_put(ims_registry *r, const char *repo, const char *reference, const char *data, size_t len,
			      const char *media_type, ims_error **err)
{
	int rc = check_args(repo, reference, err);
	if (rc < 0)
		return rc;
	/* The media type becomes a header line: only a bare type/subtype. */
	if (!media_type || !ims_media_type_valid(media_type))
		return ims_error_set(err, IMS_EINVALID, "push manifest to `%s/%s`: invalid media type `%s`", r->host,
				     repo, media_type ? media_type : "");
	if (len > IMS_MANIFEST_MAX)
		return ims_error_set(err, IMS_EINVALID, "push manifest to `%s/%s`: %zu bytes, more than %u", r->host,
				     repo, len, IMS_MANIFEST_MAX);
	char got[IMS_DIGEST_BUFSZ];
	ims_sha256_buf(data, len, got);
	if (ims_digest_valid(reference) && strcmp(got, reference) != 0)
		return ims_error_set(err, IMS_EDIGEST, "push manifest `%s/%s@%s`: content has digest %s", r->host, repo,
				     reference, got);
	ims_registry_call c;
	ims_registry__call_init(&c, r, repo, true, NULL, "push manifest `%s/%s%s%s`", r->host, repo, ref_sep(reference),
				reference);
	_cleanup_free_ char *ct = xasprintf("Content-Type: %s", media_type);
	const char *headers[] = { ct };
	ims_http_request req = IMS_HTTP_REQUEST_INIT;
	req.method = "PUT";
	req.headers = headers;
	req.nheaders = 1;
	req.body = data;
	req.body_len = len;
	ims_http_response resp = { 0 };
	if ((rc = send_manifest(r, &c, &req, repo, reference, &resp, err)) < 0)
		goto out;
	if (resp.status < 200 || resp.status > 299) {
		rc = ims_registry__fail(&c, &resp, err);
		goto out;
	}
	/* A registry that stored something else under our name (or rewrote
	 * the digest) must not be trusted to serve it. */
	rc = ims_registry__check_dcd(&c, &resp, got, err);
out:
	ims_http_response_dispose(&resp);
	ims_registry__call_dispose(&c);
	return rc;
}
