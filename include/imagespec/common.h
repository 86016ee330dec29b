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

#endif
