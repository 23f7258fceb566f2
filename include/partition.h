/*
 * partition.h - balanced contiguous blocks: n items over p parts, part r
 * gets [start, start + count); the first n % p parts get one more item.
 */
#ifndef DSC_PARTITION_H
#define DSC_PARTITION_H

static inline void block_range(long long n, int p, int r, long long *start, long long *count)
{
    long long base = n / p, extra = n % p;
    *start = r * base + (r < extra ? r : extra);
    *count = base + (r < extra ? 1 : 0);
}

#endif
