/**
 * @file imagespec/common.h
 * @brief Export macro and basic types shared by every public header.
 */
#ifndef IMAGESPEC_COMMON_H
#define IMAGESPEC_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define IMS_BEGIN_DECL extern "C" {
#define IMS_END_DECL }
#else
#define IMS_BEGIN_DECL
#define IMS_END_DECL
#endif

#if defined(IMS_BUILDING_LIBRARY) && defined(__GNUC__)
#define IMS_EXTERN(type) __attribute__((visibility("default"))) type
#else
#define IMS_EXTERN(type) extern type
#endif

IMS_BEGIN_DECL

/** "Did you mean ...?": the candidate equal to word but for case, else the
 *  nearest within two edits (as spec keys are suggested); NULL when none
 *  is near. The result is one of candidates. */
IMS_EXTERN(const char *) ims_did_you_mean(const char *word, const char *const *candidates, size_t n);

IMS_END_DECL

#endif
