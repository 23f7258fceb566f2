/*
 * train_state.c - the training state of a checkpoint and its layout as
 * doubles (see train_state.h; the header is train_state_header.h's).
 */
#include "train_state.h"
#include "train_state_header.h"
#include "status.h"

#include <stdlib.h>
#include <string.h>

int train_state_create(train_state *s, long long T, int K)
{
    memset(s, 0, sizeof *s);
    s->T = T;
    s->K = K;
    s->p = dsc_calloc((size_t)T * K, sizeof(double), "target distribution");
    s->prev_labels = dsc_malloc((size_t)T * sizeof(int), "labels of the last update");
    s->cap_records = 64;
    s->records = dsc_malloc((size_t)s->cap_records * sizeof(train_record), "loss history");
    if (!s->p || !s->prev_labels || !s->records) {
        train_state_destroy(s);
        return DSC_ERR;
    }
    for (long long t = 0; t < T; t++) s->prev_labels[t] = -1;
    return DSC_OK;
}

void train_state_destroy(train_state *s)
{
    free(s->p);
    free(s->prev_labels);
    free(s->records);
    memset(s, 0, sizeof *s);
}

int train_state_add_record(train_state *s, const train_record *r)
{
    if (s->nrecords == s->cap_records) {
        train_record *n = realloc(s->records, (size_t)s->cap_records * 2 * sizeof(train_record));
        if (!n) return dsc_fail("out of memory growing the loss history");
        s->records = n;
        s->cap_records *= 2;
    }
    s->records[s->nrecords++] = *r;
    return DSC_OK;
}

/* Layout (doubles): header (16), fingerprint (8), pretrain losses (npretrain),
 * records (4 each), p (T*K), previous labels (T). */
static size_t state_doubles(long long T, int K, int npretrain, int nrecords)
{
    return TRAIN_STATE_HEADER_DOUBLES + 8 + (size_t)npretrain + 4 * (size_t)nrecords + (size_t)T * K + (size_t)T;
}

size_t train_state_bytes(const train_state *s)
{
    return state_doubles(s->T, s->K, s->npretrain, s->nrecords) * sizeof(double);
}

void train_state_pack(const train_state *s, void *buf)
{
    double *d = buf;
    double h[TRAIN_STATE_HEADER_DOUBLES] = {
        [TRAIN_STATE_SLOT_MAGIC] = TRAIN_STATE_MAGIC,
        [TRAIN_STATE_SLOT_VERSION] = TRAIN_STATE_VERSION,
        [TRAIN_STATE_SLOT_ITERATION] = (double)s->iteration,
        [TRAIN_STATE_SLOT_CENTROIDS_READY] = s->centroids_ready,
        [TRAIN_STATE_SLOT_BELOW] = s->below,
        [TRAIN_STATE_SLOT_CONVERGED] = s->converged,
        [TRAIN_STATE_SLOT_T] = (double)s->T,
        [TRAIN_STATE_SLOT_K] = s->K,
        [TRAIN_STATE_SLOT_NPRETRAIN] = s->npretrain,
        [TRAIN_STATE_SLOT_NRECORDS] = s->nrecords,
        [TRAIN_STATE_SLOT_ALPHA] = s->alpha,
        [TRAIN_STATE_SLOT_SWITCH_PROB] = s->switch_prob,
        [TRAIN_STATE_SLOT_PENALTY] = s->penalty,
    };
    memcpy(d, h, sizeof h);
    d += TRAIN_STATE_HEADER_DOUBLES;
    memcpy(d, s->fingerprint, sizeof s->fingerprint);
    d += 8;
    memcpy(d, s->pretrain_loss, (size_t)s->npretrain * sizeof(double));
    d += s->npretrain;
    for (int i = 0; i < s->nrecords; i++) {
        const train_record *r = &s->records[i];
        d[0] = (double)r->step;
        d[1] = r->rec_loss;
        d[2] = r->kl_loss;
        d[3] = r->changed;
        d += 4;
    }
    memcpy(d, s->p, (size_t)s->T * s->K * sizeof(double));
    d += (size_t)s->T * s->K;
    for (long long t = 0; t < s->T; t++) d[t] = s->prev_labels[t];
}

int train_state_unpack(train_state *s, const void *buf, size_t bytes, const char *path)
{
    train_state_header h;
    if (train_state_header_read(&h, buf, bytes, path) != DSC_OK) return DSC_ERR;
    const double *d = buf;
    const long long T = (long long)d[TRAIN_STATE_SLOT_T];
    const int K = (int)d[TRAIN_STATE_SLOT_K];
    if (T != s->T || K != s->K)
        return dsc_fail("%s: the checkpoint was trained on %lld time steps with %d clusters, this run has %lld and %d; give "
                        "the same data and -k to --resume", path, T, K, s->T, s->K);
    s->iteration = (long)d[TRAIN_STATE_SLOT_ITERATION];
    s->centroids_ready = (int)d[TRAIN_STATE_SLOT_CENTROIDS_READY];
    s->below = (int)d[TRAIN_STATE_SLOT_BELOW];
    s->converged = (int)d[TRAIN_STATE_SLOT_CONVERGED];
    s->alpha = h.alpha;
    s->switch_prob = h.switch_prob;
    s->penalty = h.penalty;
    int npre = (int)d[TRAIN_STATE_SLOT_NPRETRAIN], nrec = (int)d[TRAIN_STATE_SLOT_NRECORDS];
    if (npre < 0 || npre > 1024 || nrec < 0) return dsc_fail("%s: corrupt training state", path);
    s->npretrain = npre;
    s->nrecords = 0;
    const size_t need = state_doubles(s->T, s->K, npre, nrec) * sizeof(double);
    if (bytes != need) return dsc_fail("%s: training state has %zu bytes, %zu expected; the file is corrupt", path, bytes, need);
    d += TRAIN_STATE_HEADER_DOUBLES;
    memcpy(s->fingerprint, d, sizeof s->fingerprint);
    d += 8;
    memcpy(s->pretrain_loss, d, (size_t)npre * sizeof(double));
    d += npre;
    for (int i = 0; i < nrec; i++, d += 4) {
        train_record r = {(long)d[0], d[1], d[2], d[3]};
        if (train_state_add_record(s, &r) != DSC_OK) return DSC_ERR;
    }
    memcpy(s->p, d, (size_t)s->T * s->K * sizeof(double));
    d += (size_t)s->T * s->K;
    for (long long t = 0; t < s->T; t++) s->prev_labels[t] = (int)d[t];
    return DSC_OK;
}
