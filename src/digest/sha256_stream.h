/* sha256 on the streams of util/stream.h: a sink that hashes and counts
 * what passes through it on its way to the next sink, and a reader that
 * hashes and counts what is read through it. Every "hash what passes
 * through" in imagespec goes through these two, so that the bytes hashed
 * are always the bytes forwarded (STYLE: push exactly the bytes you hashed).
 *
 * Both are caller-allocated (a struct on the stack or inside another) and
 * hold no pointer back to themselves outside `sink`/`reader`: do not copy
 * one after init. Call _final (or _dispose on a path that needs no digest)
 * exactly once to free the hash. */
#ifndef IMS_DIGEST_SHA256_STREAM_H
#define IMS_DIGEST_SHA256_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "digest/digest.h"
#include "util/stream.h"

/* A sink that hashes, counts, then forwards to next. */
typedef struct {
	ims_sink sink;    /* write here */
	ims_sink *next;   /* forwards to; NULL: only hash and count */
	ims_sha256 *hash; /* NULL after final/dispose */
	int64_t count;    /* bytes accepted so far */
	int64_t limit;    /* >= 0: a write past this many bytes fails with IMS_EDIGEST; init sets -1 */
} ims_sha256_sink;

/* Starts an empty hash with no limit. next must outlive s. */
void ims_sha256_sink_init(ims_sha256_sink *s, ims_sink *next);
/* Fills digest ("sha256:<hex>") with the hash of everything accepted, and
 * frees the hash. */
void ims_sha256_sink_final(ims_sha256_sink *s, char digest[IMS_DIGEST_BUFSZ]);
/* Frees the hash without a digest. NULL-safe, and a no-op after final. */
void ims_sha256_sink_dispose(ims_sha256_sink *s);
/* Stops hashing (before the first write): what passes is only counted and
 * forwarded, and _final gives an empty digest. For a writer whose caller
 * hashed the very bytes it writes, once, and vouches for their digest. */
void ims_sha256_sink_count_only(ims_sha256_sink *s);
/* _final into got, then whether what was accepted is size bytes with that
 * digest (after count_only, whose got is empty: size alone). What a
 * writer's commit checks its caller's claim with. */
bool ims_sha256_sink_final_is(ims_sha256_sink *s, const char *digest, int64_t size, char got[IMS_DIGEST_BUFSZ]);

/* A reader that hashes and counts what is read from src through it.
 * Closing it closes src (through src, so closing src again is harmless);
 * the hash stays until final or dispose. */
typedef struct {
	ims_reader reader; /* read here */
	ims_reader *src;   /* reads from; must outlive r */
	ims_sha256 *hash;  /* NULL after final/dispose */
	int64_t count;     /* bytes read so far */
} ims_sha256_reader;

void ims_sha256_reader_init(ims_sha256_reader *r, ims_reader *src);
/* Fills digest with the hash of everything read, and frees the hash. */
void ims_sha256_reader_final(ims_sha256_reader *r, char digest[IMS_DIGEST_BUFSZ]);
/* Frees the hash without a digest. NULL-safe, and a no-op after final. */
void ims_sha256_reader_dispose(ims_sha256_reader *r);

#endif
