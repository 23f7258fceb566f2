/*
 * train_state_header.h - the header of the training state that dsc train
 * writes into the state section of every checkpoint (the state itself,
 * train_state.h, belongs to the training loop).  A command that applies a
 * trained model reads only this header: whether the centroids were ever
 * initialised (model_inputs.h), the alpha of the soft assignment and the
 * labels along time of --persistence (dsc predict).
 *
 * The state section is an array of doubles; the header is its first
 * TRAIN_STATE_HEADER_DOUBLES, at the slots below (the rest are zero).
 */
#ifndef DSC_TRAIN_STATE_HEADER_H
#define DSC_TRAIN_STATE_HEADER_H

#include <stddef.h>

#define TRAIN_STATE_MAGIC 1146312276.0 /* "DSCT" */
#define TRAIN_STATE_VERSION 1.0
#define TRAIN_STATE_HEADER_DOUBLES 16

enum {
    TRAIN_STATE_SLOT_MAGIC = 0,
    TRAIN_STATE_SLOT_VERSION = 1,
    TRAIN_STATE_SLOT_ITERATION = 2,       /* steps done */
    TRAIN_STATE_SLOT_CENTROIDS_READY = 3, /* 0: stopped during pre-training */
    TRAIN_STATE_SLOT_BELOW = 4,
    TRAIN_STATE_SLOT_CONVERGED = 5,
    TRAIN_STATE_SLOT_T = 6,
    TRAIN_STATE_SLOT_K = 7,
    TRAIN_STATE_SLOT_NPRETRAIN = 8,
    TRAIN_STATE_SLOT_NRECORDS = 9,
    TRAIN_STATE_SLOT_ALPHA = 10,
    TRAIN_STATE_SLOT_SWITCH_PROB = 11, /* dsc train --persistence (0 in older checkpoints: none) */
    TRAIN_STATE_SLOT_PENALTY = 12
};

/* What a trained model's state says about it. */
typedef struct {
    long iteration;       /* steps done, pre-training and joint together */
    int centroids_ready;  /* k-means initialisation done */
    long long T;          /* time steps trained on */
    int K;                /* clusters */
    double alpha;         /* of the soft assignment (1 when not recorded) */
    double switch_prob;   /* of the regime chain of --persistence (0: labels of each step alone) */
    double penalty;       /* per switch of the labels along time */
} train_state_header;

/* Local: h from the state section buf (bytes long), the values range-checked
 * (a damaged header must not overflow the conversions).  DSC_ERR with a
 * message naming path when buf is no training state of this dsc version. */
int train_state_header_read(train_state_header *h, const void *buf, size_t bytes, const char *path);

#endif
