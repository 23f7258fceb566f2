/*
 * kmeans_persistent.h - k-means with a penalty per regime switch along time
 * (the jump model: persistence.h), distributed.
 *
 * Minimises  sum_t |x_t - c_(s_t)|^2 + lambda * (number of switches of s along
 * time inside segments)  by alternating an exact assignment (the dynamic
 * programme on the T x K matrix of squared distances, gathered on rank 0) with
 * the centroid update (per-cluster sums allreduced), starting from the plain
 * k-means solution (kmeans_fit, restarts and seed as given).  Each alternation
 * lowers the objective; it stops when the labels no longer change.
 *
 * lambda is given, or chosen from a wanted mean episode length: the penalty
 * whose decoding of the plain k-means centroids has that mean episode length
 * (persistence_lambda_for_run), kept for the alternations.
 *
 * Dimension letters: T rows over all ranks, in time order, N here (ranks hold
 * contiguous blocks in rank order), D features, K clusters.
 */
#ifndef DSC_KMEANS_PERSISTENT_H
#define DSC_KMEANS_PERSISTENT_H

#include "kmeans.h"

#include <mpi.h>

typedef struct {
    double lambda;       /* penalty per switch, in squared distance units (>= 0) */
    double target_steps; /* > 0: choose lambda for this mean episode length (steps) instead */
    const long long *seg_start; /* segment starts (global rows, first 0), identical on every rank */
    int nseg;                   /* 0: one segment */
    int max_iter;               /* alternations at most */
} persistence_options;

typedef struct {
    double lambda;     /* the penalty used */
    double objective;  /* inertia + lambda * switches */
    long long switches;
    int iterations;    /* alternations done */
} persistence_result;

/* Collective.  x (N, D) this rank's rows; labels (N) receives the cluster of each
 * row; res as kmeans_fit's (inertia: the squared distances alone). */
int kmeans_fit_persistent(MPI_Comm comm, const float *x, long long n, int d, const kmeans_options *opt,
                          const persistence_options *popt, kmeans_result *res, int *labels, persistence_result *pres);

#endif
