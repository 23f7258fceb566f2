/*
 * run_stats_blob.h - the normalisation statistics in a checkpoint's blob.
 */
#ifndef DSC_RUN_STATS_BLOB_H
#define DSC_RUN_STATS_BLOB_H

#include <stddef.h>
#include "preprocess.h"

/* The normalisation statistics as checkpoint blob bytes (malloc'ed). */
int run_stats_blob(const preprocess_stats *st, void **blob, size_t *bytes);
/* Local: 1 when the blob of a checkpoint (saved) holds the normalisation of
 * blob: the same bytes, or the same record without the inputs (a
 * checkpoint of an older dsc, resumed). */
int run_stats_blob_matches(const void *saved, size_t saved_bytes, const void *blob, size_t blob_bytes);

#endif
