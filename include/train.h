/*
 * train.h - the DSC training loop (paper section 4, Algorithm 1), data
 * parallel over the ranks:
 *
 *   1. optional autoencoder pre-training on the reconstruction loss;
 *   2. centroids by k-means on the latent vectors of ALL time steps;
 *   3. joint training of  L = L_rec + gamma * KL(P || Q)  (eq. 7): every
 *      update interval the soft assignments q of all time steps are
 *      recomputed (a distributed encoder pass), the target p (eq. 4, column
 *      sums over all ranks) and the fraction of labels that changed; the
 *      run stops when that fraction stays below tol for `patience` checks,
 *      or after max_iter steps.  With a regime chain and
 *      persistence_target (--persistence-target) the target and the labels
 *      are computed along time instead (clustering_persistent.h).
 *
 * One replica per rank.  Every step draws the global batch from one seeded
 * permutation of the GLOBAL time-step indices (a new one per epoch), splits
 * its positions over the ranks (block_range), fetches the frames a rank
 * does not hold from their owners (sample_exchange.h), draws dropout from a
 * generator keyed by (seed, step, global index), scales each rank's loss by
 * its share of the global batch and sums the gradients with ONE allreduce
 * of the flat buffer, which holds the centroid matrix too.  So the batches,
 * the masks and the update do not depend on the rank count; only float
 * rounding does.
 *
 * A step reads like llm.c's: fetch the batch, forward, zero the gradient,
 * backward, allreduce, update.  The state a checkpoint saves is
 * train_state.h's, the signals that stop a run train_signals.h's.
 *
 * Dimension letters: T time steps, N held here, F = V*H*W floats of one
 * padded frame, L latent size, K clusters, B global batch.
 */
#ifndef DSC_TRAIN_H
#define DSC_TRAIN_H

#include <mpi.h>
#include <stdint.h>
#include "model.h"
#include "optimizer.h"
#include "checkpoint.h"
#include "clustering_persistent.h"
#include "latent_pass.h"
#include "train_signals.h"
#include "train_state.h"

typedef struct {
    int k;                    /* K clusters */
    int batch;                /* B global batch */
    uint64_t seed;
    int pretrain_epochs;      /* autoencoder pre-training epochs (0: none; -1 before train_auto_epochs) */
    long max_iter;            /* joint training steps at most */
    int update_interval;      /* steps between target updates */
    double tol;               /* stop when the fraction of changed labels < tol ... */
    int patience;             /* ... for this many consecutive updates */
    double alpha;             /* Student-t degrees of freedom (eq. 3) */
    double gamma;             /* weight of the clustering loss (eq. 7) */
    double pretrain_lr;       /* learning rate of the pre-training steps */
    double joint_lr;          /* learning rate of the joint steps */
    int kmeans_init;          /* k-means restarts for the centroid initialisation */
    int drop_decoder;         /* joint steps on gamma * KL alone, the decoder left out (DEC) */
    double persistence_days;  /* --persistence Nd (0: none) */
    regime_chain chain;       /* from it and the data: the labels along time (switch_prob 0: each step alone) */
    int persistence_target;   /* --persistence-target: the target along time too */
    long checkpoint_every;    /* steps between checkpoints (0: none) */
    const char *checkpoint_path; /* where checkpoints go */
    /* collective, before every checkpoint (NULL: none): what must lie next
     * to it, e.g. the run's config.txt; DSC_ERR (agreed) stops the run */
    int (*before_checkpoint)(MPI_Comm comm, void *ctx);
    void *before_checkpoint_ctx;
    long resumed_from;           /* steps done in the checkpoint resumed from (-1: a new run) */
    int check_replicas;       /* verify bitwise identical replicas after every step */
    int verbose;              /* 0 quiet, 1 progress, 2 more */
} train_options;

/* Pre-training of --pretrain-epochs auto: TRAIN_AUTO_EPOCHS epochs, or more
 * on a short record, so that TRAIN_AUTO_MIN_SAMPLES samples pass through the
 * network (3,000 steps at batch 32; 20 epochs are 680 steps on 3 years of
 * daily data, and the reconstruction loss is still falling there:
 * doc/training.md).  Counted in samples, not steps, so that the number of
 * epochs does not depend on the batch or the number of ranks. */
#define TRAIN_AUTO_EPOCHS 20
#define TRAIN_AUTO_MIN_SAMPLES 96000
int train_auto_epochs(long long T);

typedef struct {
    double pretrain, kmeans, joint_compute, joint_allreduce, update; /* seconds */
} train_timings;

enum { TRAIN_DONE = 0, TRAIN_STOPPED = 3 };

/* Collective.  x (N, F) this rank's normalised frames of the T time steps.
 * The model (clusters = K) and optimizer are initialised or restored by the
 * caller; st is fresh or restored.  blob (statistics) is saved with every
 * checkpoint.  Returns DSC_OK when training finished, DSC_STOPPED after a
 * signal (checkpoint written), DSC_ERR (agreed) on failure. */
int train_run(MPI_Comm comm, model *m, optimizer *opt, const float *x, long long T, const train_options *o,
              train_state *st, const void *blob, size_t blob_bytes, train_timings *tm);

#endif
