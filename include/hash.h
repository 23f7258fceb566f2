/*
 * hash.h - the 64-bit FNV-1a hash of bytes: checkpoint checksums, the
 * replica check of dsc train, the fingerprint of a run's data.
 */
#ifndef DSC_HASH_H
#define DSC_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_FNV1A_START 0xcbf29ce484222325ULL

/* h folded with n bytes at data; start from HASH_FNV1A_START. */
uint64_t hash_fnv1a(uint64_t h, const void *data, size_t n);

#endif
