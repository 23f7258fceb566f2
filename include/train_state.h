/*
 * train_state.h - what a checkpoint of dsc train holds besides the model
 * and the optimizer: the loop's counters, the target distribution, the
 * labels of the last update and the loss history, serialised as doubles
 * into the checkpoint's state section.  Its first doubles are the header
 * that commands applying a model read (train_state_header.h).
 */
#ifndef DSC_TRAIN_STATE_H
#define DSC_TRAIN_STATE_H

#include <stddef.h>

/* Progress record of one target update. */
typedef struct {
    long step;                /* joint step at which it was taken */
    double rec_loss;          /* mean reconstruction loss since the last update */
    double kl_loss;           /* mean KL(P || Q) per sample since the last update */
    double changed;           /* fraction of labels changed since the last update */
} train_record;

/* Training state that a checkpoint must hold besides the model and the
 * optimizer (saved in its state section). */
typedef struct {
    long iteration;           /* steps done, pre-training and joint together */
    int centroids_ready;      /* k-means initialisation done */
    int below;                /* consecutive updates with changed < tol */
    int converged;
    double alpha;             /* of the soft assignment, for dsc predict */
    double switch_prob;       /* --persistence: of the regime chain (0: none), for dsc predict */
    double penalty;           /* --persistence: per switch of the labels' jump model, for dsc predict */
    long long T;
    int K;
    double *p;                /* (T, K) current target distribution, all time steps */
    int *prev_labels;         /* (T) labels at the last update, -1 before the first */
    double fingerprint[8];    /* what data the run was trained on (cmd_train.c fills) */
    int nrecords, cap_records;
    train_record *records;
    double pretrain_loss[1024]; /* per epoch (first 1024) */
    int npretrain;
} train_state;

int train_state_create(train_state *s, long long T, int K);
void train_state_destroy(train_state *s);
/* Appends r to the loss history; DSC_ERR when out of memory. */
int train_state_add_record(train_state *s, const train_record *r);
/* Serialised as doubles for the checkpoint's state section. */
size_t train_state_bytes(const train_state *s);
void train_state_pack(const train_state *s, void *buf);
/* DSC_ERR with a message naming path when buf is not a state for (T, K). */
int train_state_unpack(train_state *s, const void *buf, size_t bytes, const char *path);

#endif
