/* Transports: where images are read from and written to, behind one
 * versioned vtable chosen by the reference's prefix (libgit2-style table in
 * transport.c). The registry transport joins through the same table. */
#ifndef IMS_TRANSPORT_H
#define IMS_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "imagespec/error.h"
#include "json/oci.h"
#include "ref/ref.h"
#include "util/event.h"
#include "util/stream.h"

typedef struct ims_transport ims_transport;

/* A blob being written. Write through `sink`, then commit (which verifies
 * the digest and size of what was written and stores it) or abort. Either
 * call frees the writer. */
typedef struct ims_blob_writer ims_blob_writer;
struct ims_blob_writer {
	ims_sink sink;
	int (*commit)(ims_blob_writer *w, const char *digest, int64_t size, ims_error **err);
	void (*abort)(ims_blob_writer *w);
	/* Optional, before the first write: the caller hashes the very bytes
	 * it writes and commits their digest, so the writer need not hash
	 * them again; it still checks their size. (A layer's compressed
	 * bytes were hashed up to three times, once per writer.) */
	void (*count_only)(ims_blob_writer *w);
	/* Optional: the file that holds what was written so far, private to
	 * this writer (unnamed, and opened by no one else), so that the
	 * caller can keep those bytes too (link the file elsewhere, or copy
	 * it) instead of writing them twice. A dup() of it stays valid after
	 * commit or abort; the bytes of a blob never change once written. */
	int (*private_fd)(ims_blob_writer *w);
};

/* w->count_only, where w has it. */
void ims_blob_writer_count_only(ims_blob_writer *w);
/* w->private_fd(w), where w has it; else -1. */
int ims_blob_writer_private_fd(ims_blob_writer *w);

enum {
	IMS_TRANSPORT_READ = 1,
	IMS_TRANSPORT_WRITE = 2,
};

/* Capability flags of a transport. */
enum {
	IMS_TRANSPORT_UNCOMPRESSED_LAYERS = 1 << 0, /* layers must be plain tar (docker-archive) */
	IMS_TRANSPORT_NO_INDEX = 1 << 1,            /* cannot store an index (docker-archive) */
};

typedef struct ims_registry_pool ims_registry_pool;

typedef struct {
	const char *base_dir; /* relative paths in refs resolve against this (NULL: cwd) */
	const char *tmp_dir;  /* for staging and extraction (NULL: $TMPDIR) */
	/* Registry references: the clients shared by every transport of a run
	 * (one per host, so connections, tokens and mounts are shared). */
	ims_registry_pool *registries;
	int jobs; /* parallel uploads; 0: 4 */
	ims_events ev; /* warnings of a transport that works around a fault */
	/* A registry target puts every manifest under its tag even when the
	 * tag names it already (sync.ignoreExists); otherwise a HEAD that says
	 * so saves the PUT. */
	bool put_always;
} ims_transport_opts;

/* 2: list_tags was added (at the end, after mount_blob); 3:
 * manifest_there (after list_tags); 4: tag_names and ask_ahead in its
 * place, and read_blob. A table of another version is refused when
 * opened. */
#define IMS_TRANSPORT_OPS_VERSION 4

typedef struct ims_transport_ops {
	int version; /* IMS_TRANSPORT_OPS_VERSION */
	ims_ref_kind kind;
	const char *name; /* "oci", "oci-archive", ... for messages */
	unsigned flags;

	int (*open)(ims_transport **out, const ims_ref *ref, int mode, const ims_transport_opts *opts,
		    ims_error **err);

	/* Reading. digest NULL: the manifest or index the reference names
	 * (its tag/name; for a layout with a single image and no tag, that one). */
	int (*get_manifest)(ims_transport *t, const char *digest, char **data, size_t *len, char **media_type,
			    ims_error **err);
	/* Opens a blob for reading. The reader yields exactly the stored bytes;
	 * callers verify digest and size. */
	int (*open_blob)(ims_transport *t, const char *digest, ims_reader *out, ims_error **err);

	/* Writing. */
	int (*has_blob)(ims_transport *t, const char *digest, bool *exists, ims_error **err);
	int (*new_blob)(ims_transport *t, ims_blob_writer **out, ims_error **err);
	/* Stores a manifest or index document (by digest). */
	int (*put_manifest)(ims_transport *t, const char *data, size_t len, const char *media_type,
			    const char *digest, ims_error **err);
	/* Points a name at a stored manifest/index. name NULL: the reference's own
	 * tag (or none). Several calls add several names. */
	int (*tag)(ims_transport *t, const char *name, const ims_descriptor *desc, ims_error **err);
	/* Makes everything visible atomically (index.json rename, archive rename).
	 * Without commit, close leaves the destination as it was. */
	int (*commit)(ims_transport *t, ims_error **err);
	void (*close)(ims_transport *t);

	/* Optional. Makes blob d of src (same registry, another repository)
	 * appear in t without copying bytes. *mounted false: not done (fall back
	 * to a copy). Never an error for a refused mount. */
	int (*mount_blob)(ims_transport *t, ims_transport *src, const ims_descriptor *d, bool *mounted,
			  ims_error **err);

	/* Optional. The names the reference's repository, layout or archive
	 * holds now (whatever tag or name the reference itself carries): a
	 * registry's tags (in its order), a layout's ref.name annotations (in
	 * index order; as committed, so staged tags show after commit), a
	 * docker-archive's RepoTags as written (only when opened for reading).
	 * *tags (NULL-terminated, *n names; free with ims_strv_free) is never
	 * NULL on success; no name appears twice, and names that are not
	 * valid in their format are left out rather than passed on. */
	int (*list_tags)(ims_transport *t, char ***tags, size_t *n, ims_error **err);

	/* Optional. The digest of the manifest or index that name (a tag, as
	 * for tag) names now, in digest ("" when it names none): asked once,
	 * and the answer kept. A registry asks with a HEAD; opened for
	 * writing, it uses the kept answer for the PUT of that name instead of
	 * asking again (the build is then the one writer of the name it knows
	 * of, so the PUT is skipped when the name names that manifest). */
	int (*tag_names)(ims_transport *t, const char *name, char digest[IMS_DIGEST_BUFSZ], ims_error **err);

	/* Optional. Starts asking now, on a thread of the transport's own,
	 * whether it holds these blobs (digests checked by the wrapper, copied):
	 * has_blob then takes an answer given, waits for one being asked
	 * instead of asking again, and asks itself for one not asked yet. An
	 * answer that failed is asked again by has_blob, which reports it.
	 * Returns whether these blobs are being asked for: false when the
	 * transport takes no (further) list. */
	bool (*ask_ahead)(ims_transport *t, const char *const *digests, size_t n);

	/* Optional. A small blob (at most max bytes) read whole, its digest
	 * checked, in fewer steps than open_blob and a read (a registry: one
	 * GET, whose 404 is the answer, where open_blob asks with a HEAD
	 * first). Without it, ims_transport_read_blob goes through open_blob. */
	int (*read_blob)(ims_transport *t, const char *digest, size_t max, char **data, size_t *len,
			 ims_error **err);
} ims_transport_ops;

/* Every transport struct starts with this header. */
struct ims_transport {
	const ims_transport_ops *ops;
	ims_ref *ref;
	int mode;
};

/* Looks the reference's kind up in the table and opens it. ops->open only
 * allocates its struct; this fills the header (ops, a copy of ref, mode).
 * Registry references need opts->registries (a pool). */
int ims_transport_open(ims_transport **out, const ims_ref *ref, int mode, const ims_transport_opts *opts,
		       ims_error **err);
/* Calls ops->close (which frees the transport's own struct), then frees the
 * header's ref. NULL-safe. */
void ims_transport_close(ims_transport *t);
/* The table entry for a kind, or NULL. */
const ims_transport_ops *ims_transport_ops_for(ims_ref_kind kind);
/* Opens with an explicit vtable (a plugin, or a transport that delegates). */
int ims_transport_open_with(ims_transport **out, const ims_transport_ops *ops, const ims_ref *ref, int mode,
			    const ims_transport_opts *opts, ims_error **err);
/* IMS_TRANSPORT_UNCOMPRESSED_LAYERS | IMS_TRANSPORT_NO_INDEX ... */
unsigned ims_transport_flags(const ims_transport *t);
/* The flags a transport of this kind would have (a dry run opens none). */
unsigned ims_transport_kind_flags(ims_ref_kind kind);

/* Convenience wrappers (NULL-checking the optional ops). */
int ims_transport_get_manifest(ims_transport *t, const char *digest, char **data, size_t *len, char **media_type,
			       ims_error **err);
/* The wrappers below check that the op exists (IMS_EUNSUPPORTED), that the
 * mode allows it, and that digests are valid before a transport sees them. */
int ims_transport_open_blob(ims_transport *t, const char *digest, ims_reader *out, ims_error **err);
int ims_transport_has_blob(ims_transport *t, const char *digest, bool *exists, ims_error **err);
int ims_transport_new_blob(ims_transport *t, ims_blob_writer **out, ims_error **err);
int ims_transport_put_manifest(ims_transport *t, const char *data, size_t len, const char *media_type,
			       const char *digest, ims_error **err);
int ims_transport_tag(ims_transport *t, const char *name, const ims_descriptor *desc, ims_error **err);
int ims_transport_commit(ims_transport *t, ims_error **err);
/* ops->mount_blob into t (opened for writing) from src, after checking
 * d's digest. *mounted false, and 0, when t has no such op: the caller
 * copies instead. */
int ims_transport_mount_blob(ims_transport *t, ims_transport *src, const ims_descriptor *d, bool *mounted,
			     ims_error **err);
/* ops->tag_names, after checking name; digest "" and 0 when t has no such
 * op (the caller writes what it would anyway). */
int ims_transport_tag_names(ims_transport *t, const char *name, char digest[IMS_DIGEST_BUFSZ], ims_error **err);
/* Whether name names the manifest digest now (ims_transport_tag_names):
 * then its blobs are there too (a registry checked them when it took the
 * manifest), and the writer need not ask for them. *there false, and 0,
 * when t has no tag_names. */
int ims_transport_manifest_there(ims_transport *t, const char *name, const char *digest, bool *there,
				 ims_error **err);
/* ops->ask_ahead with the valid digests among digests; nothing when t has
 * no such op. Whether they are being asked for (false: no op, no valid
 * digest, or the op declined them). */
bool ims_transport_ask_ahead(ims_transport *t, const char *const *digests, size_t n);
/* ops->list_tags; IMS_EUNSUPPORTED when the transport has none. *tags is
 * NULL and *n 0 on failure. */
int ims_transport_list_tags(ims_transport *t, char ***tags, size_t *n, ims_error **err);
/* Reads a whole blob into memory (capped at max), verifying its digest. */
int ims_transport_read_blob(ims_transport *t, const char *digest, size_t max, char **data, size_t *len,
			    ims_error **err);
/* Copies a blob from src to dst, verifying digest and size while streaming.
 * Skipped when dst already has it; on a mismatch the writer is aborted and
 * the error (IMS_EDIGEST) names the blob. */
int ims_transport_copy_blob(ims_transport *src, ims_transport *dst, const ims_descriptor *d, ims_error **err);
/* The same without asking dst first: for a blob dst said it had and has
 * not (a manifest PUT answered MANIFEST_BLOB_UNKNOWN). */
int ims_transport_copy_blob_always(ims_transport *src, ims_transport *dst, const ims_descriptor *d,
				   ims_error **err);

/* How readers that hold several images (layouts, archives) resolve a
 * reference to one, with the same rules and messages everywhere: by name
 * when one is given, else the only image, else an error listing them. */
typedef struct {
	const char *name;  /* asked for, or NULL */
	const char *shown; /* the location in messages, e.g. "oci layout `out`" */
	const char *usage; /* the reference form for the hint, e.g. "oci:DIR:TAG" */
	size_t n;          /* images held */
	bool (*match)(const void *ctx, size_t i, const char *name);
	char *(*list)(const void *ctx); /* "`a`, `b`" for messages; caller frees */
	const void *ctx;
} ims_transport_choice;
/* *out gets the index. IMS_ENOTFOUND for a missing name or no images,
 * IMS_EINVALID when no name was given and there are several. */
int ims_transport_choose(const ims_transport_choice *c, size_t *out, ims_error **err);

/* For list_tags: removes the later copies of every name in v (n names,
 * NULL-terminated), keeping the first ones in their order, and returns the
 * new count. O(n log n): an archive may list a hundred thousand names. */
size_t ims_transport__unique(char **v, size_t n);

/* The table entries, defined in their own files. */
extern const ims_transport_ops ims_transport_scratch_ops;
extern const ims_transport_ops ims_transport_oci_ops;
extern const ims_transport_ops ims_transport_oci_archive_ops;
extern const ims_transport_ops ims_transport_docker_archive_ops;

#endif
