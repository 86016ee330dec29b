/* libarchive as the layer room calls it: <archive.h> and
 * <archive_entry.h>, with every function the room uses bound to a wrapper
 * in archive_lib.c (an asm label renames the symbol a call refers to, not
 * the call), so that libarchive and the libraries it brings (libxml2 and
 * ICU among them) are loaded when a layer is first written or read
 * (util/lazylib.h says why), not at program start: a build whose layers
 * all come from the cache never loads them. A function not listed here
 * would link to nothing (the library is not linked): the build fails, and
 * it goes in the list. */
#ifndef IMS_LAYER_ARCHIVE_API_H
#define IMS_LAYER_ARCHIVE_API_H

#include <archive.h>
#include <archive_entry.h>

#include "imagespec/error.h"

/* X(return type, name, parameters, arguments), or XV(name, parameters,
 * arguments) for those that return nothing */
#define IMS_ARCHIVE_FUNCS(X, XV)                                                                    \
	XV(archive_entry_copy_hardlink, (struct archive_entry * a, const char *b), (a, b))          \
	XV(archive_entry_copy_pathname, (struct archive_entry * a, const char *b), (a, b))          \
	XV(archive_entry_copy_symlink, (struct archive_entry * a, const char *b), (a, b))           \
	X(__LA_MODE_T, archive_entry_filetype, (struct archive_entry * a), (a))                     \
	XV(archive_entry_free, (struct archive_entry * a), (a))                                     \
	X(la_int64_t, archive_entry_gid, (struct archive_entry * a), (a))                           \
	X(const char *, archive_entry_hardlink, (struct archive_entry * a), (a))                    \
	X(struct archive_entry *, archive_entry_new, (void), ())                                    \
	X(const char *, archive_entry_pathname, (struct archive_entry * a), (a))                    \
	X(__LA_MODE_T, archive_entry_perm, (struct archive_entry * a), (a))                         \
	XV(archive_entry_set_filetype, (struct archive_entry * a, unsigned int b), (a, b))          \
	XV(archive_entry_set_gid, (struct archive_entry * a, la_int64_t b), (a, b))                 \
	XV(archive_entry_set_mtime, (struct archive_entry * a, time_t b, long c), (a, b, c))        \
	XV(archive_entry_set_pathname, (struct archive_entry * a, const char *b), (a, b))           \
	XV(archive_entry_set_perm, (struct archive_entry * a, __LA_MODE_T b), (a, b))               \
	XV(archive_entry_set_size, (struct archive_entry * a, la_int64_t b), (a, b))                \
	XV(archive_entry_set_uid, (struct archive_entry * a, la_int64_t b), (a, b))                 \
	X(la_int64_t, archive_entry_size, (struct archive_entry * a), (a))                          \
	X(int, archive_entry_size_is_set, (struct archive_entry * a), (a))                          \
	X(const char *, archive_entry_symlink, (struct archive_entry * a), (a))                     \
	X(la_int64_t, archive_entry_uid, (struct archive_entry * a), (a))                           \
	X(const char *, archive_error_string, (struct archive * a), (a))                            \
	X(la_ssize_t, archive_read_data, (struct archive * a, void *b, size_t c), (a, b, c))        \
	X(int, archive_read_free, (struct archive * a), (a))                                        \
	X(struct archive *, archive_read_new, (void), ())                                           \
	X(int, archive_read_next_header, (struct archive * a, struct archive_entry * *b), (a, b))   \
	X(int, archive_read_open,                                                                   \
	  (struct archive * a, void *b, archive_open_callback *c, archive_read_callback *d,         \
	   archive_close_callback *e),                                                              \
	  (a, b, c, d, e))                                                                          \
	X(int, archive_read_open_fd, (struct archive * a, int b, size_t c), (a, b, c))              \
	X(int, archive_read_support_filter_gzip, (struct archive * a), (a))                         \
	X(int, archive_read_support_filter_xz, (struct archive * a), (a))                           \
	X(int, archive_read_support_filter_zstd, (struct archive * a), (a))                         \
	X(int, archive_read_support_format_gnutar, (struct archive * a), (a))                       \
	X(int, archive_read_support_format_tar, (struct archive * a), (a))                          \
	X(int, archive_write_add_filter_none, (struct archive * a), (a))                            \
	X(int, archive_write_close, (struct archive * a), (a))                                      \
	X(la_ssize_t, archive_write_data, (struct archive * a, const void *b, size_t c), (a, b, c)) \
	X(int, archive_write_free, (struct archive * a), (a))                                       \
	X(int, archive_write_header, (struct archive * a, struct archive_entry * b), (a, b))        \
	X(struct archive *, archive_write_new, (void), ())                                          \
	X(int, archive_write_open,                                                                  \
	  (struct archive * a, void *b, archive_open_callback *c, archive_write_callback *d,        \
	   archive_close_callback *e),                                                              \
	  (a, b, c, d, e))                                                                          \
	X(int, archive_write_open_fd, (struct archive * a, int b), (a, b))                          \
	X(int, archive_write_set_bytes_per_block, (struct archive * a, int b), (a, b))              \
	X(int, archive_write_set_format_pax_restricted, (struct archive * a), (a))

#define IMS_ARCHIVE_RENAME(ret, name, params, args) extern ret(name) params __asm__("ims_" #name);
#define IMS_ARCHIVE_RENAME_VOID(name, params, args) IMS_ARCHIVE_RENAME(void, name, params, args)
IMS_ARCHIVE_FUNCS(IMS_ARCHIVE_RENAME, IMS_ARCHIVE_RENAME_VOID)
#undef IMS_ARCHIVE_RENAME_VOID
#undef IMS_ARCHIVE_RENAME

/* Loads libarchive, once: the room's readers and writers call it before
 * their first libarchive call, so that a missing library is their error. */
int ims_layer__need_archive(ims_error **err);

#endif
