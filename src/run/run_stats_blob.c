/*
 * run_stats_blob.c - the normalisation statistics as the blob a checkpoint
 * carries, and the check that a checkpoint's blob holds the same
 * normalisation (see run_stats_blob.h).
 */
#include "run_stats_blob.h"
#include "status.h"

#include <stdlib.h>
#include <string.h>

int run_stats_blob(const preprocess_stats *st, void **blob, size_t *bytes)
{
    size_t n = preprocess_stats_packed_size(st);
    double *buf = dsc_malloc(n * sizeof(double), "normalisation statistics");
    if (!buf) return DSC_ERR;
    preprocess_stats_pack(st, buf);
    *blob = buf;
    *bytes = n * sizeof(double);
    return DSC_OK;
}

int run_stats_blob_matches(const void *saved, size_t saved_bytes, const void *blob, size_t blob_bytes)
{
    if (saved_bytes == blob_bytes && memcmp(saved, blob, blob_bytes) == 0) return 1;
    /* a record without the inputs (an older dsc): the same normalisation? */
    preprocess_stats st;
    if (preprocess_stats_unpack(&st, blob, blob_bytes / sizeof(double)) != DSC_OK) {
        dsc_clear();
        return 0;
    }
    free(st.lat);
    free(st.lon);
    st.lat = st.lon = NULL;
    st.has_inputs = 0;
    size_t n = preprocess_stats_packed_size(&st);
    double *buf = malloc(n * sizeof(double));
    int same = buf && n * sizeof(double) == saved_bytes;
    if (same) {
        preprocess_stats_pack(&st, buf);
        same = memcmp(buf, saved, saved_bytes) == 0;
    }
    free(buf);
    preprocess_stats_destroy(&st);
    return same;
}
