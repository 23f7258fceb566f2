/*
 * train_state_header.c - the header of a checkpoint's training state (see
 * train_state_header.h).
 */
#include "train_state_header.h"
#include "status.h"

#include <string.h>

int train_state_header_read(train_state_header *h, const void *buf, size_t bytes, const char *path)
{
    const double *d = buf;
    memset(h, 0, sizeof *h);
    /* at least the header and the data fingerprint that follows it */
    if (bytes < (TRAIN_STATE_HEADER_DOUBLES + 8) * sizeof(double) || d[TRAIN_STATE_SLOT_MAGIC] != TRAIN_STATE_MAGIC ||
        d[TRAIN_STATE_SLOT_VERSION] != TRAIN_STATE_VERSION)
        return dsc_fail("%s: no training state of this dsc version in the checkpoint; resume only from a checkpoint of dsc train", path);
    const double T = d[TRAIN_STATE_SLOT_T], K = d[TRAIN_STATE_SLOT_K], it = d[TRAIN_STATE_SLOT_ITERATION];
    h->T = T >= 0 && T < 1e15 ? (long long)T : 0;
    h->K = K >= 0 && K < 1e9 ? (int)K : 0;
    h->alpha = d[TRAIN_STATE_SLOT_ALPHA] > 0 ? d[TRAIN_STATE_SLOT_ALPHA] : 1.0;
    const double eps = d[TRAIN_STATE_SLOT_SWITCH_PROB], pen = d[TRAIN_STATE_SLOT_PENALTY];
    h->switch_prob = eps > 0 && eps <= 1 ? eps : 0;
    h->penalty = h->switch_prob > 0 && pen >= 0 && pen < 1e300 ? pen : 0;
    h->iteration = it >= 0 && it < 1e15 ? (long)it : 0;
    h->centroids_ready = d[TRAIN_STATE_SLOT_CENTROIDS_READY] != 0;
    return DSC_OK;
}
