/*
 * hash.c - 64-bit FNV-1a (Fowler, Noll, Vo): one xor and one multiply per byte.
 */
#include "hash.h"

#define FNV_PRIME 0x100000001b3ULL

uint64_t hash_fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    return h;
}
