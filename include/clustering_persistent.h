/*
 * clustering_persistent.h - the clustering layer with the time order
 * (dsc train --persistence): weather regimes last days, so the target of the
 * clustering loss and the labels are computed along time, not for each time
 * step on its own.
 *
 * The regimes are read as a hidden Markov chain that keeps its regime from
 * one step to the next with probability 1 - eps (eps = 1 / N for a mean
 * episode of N steps) and moves to one of the other K - 1 alike, observed
 * through the soft assignments q (eq. 3):
 *
 *   target: the forward-backward posterior g of the chain given q of all
 *           time steps (persistence_smooth), sharpened as eq. 4 sharpens q:
 *           p_ij = (g_ij^2 / f_j) / sum_l (g_il^2 / f_l), f_j = sum_i g_ij;
 *   labels: the jump model on the costs -log q_ij (persistence_decode), its
 *           penalty per switch the one whose labels have a mean episode of
 *           N steps on these data (persistence_lambda_for_run), kept in the
 *           model for dsc predict.
 *
 * p is held fixed between updates, as in DEC, so the loss and its gradient
 * (clustering.h) are unchanged: only the numbers p holds differ.  Every rank
 * computes both on all T time steps in the same order, so the result does
 * not depend on the rank count.
 *
 * Dimension letters: T time steps, N held here, K clusters.
 */
#ifndef DSC_CLUSTERING_PERSISTENT_H
#define DSC_CLUSTERING_PERSISTENT_H

#include <mpi.h>

typedef struct {
    double switch_prob;         /* eps: probability of a switch per time step (0: no time order) */
    double penalty;             /* of the labels' jump model; < 0: choose it for a mean episode of 1 / eps steps */
    const long long *seg_start; /* contiguous segments of the record (sample_exchange.h), first 0 */
    int nseg;                   /* 0: one segment */
} regime_chain;

/* Local: p (T, K) holds q of all time steps and receives the target; labels
 * (T) the labels of the jump model (c->penalty, or the one chosen for the
 * mean episode, written back when c->penalty < 0).  DSC_ERR when out of memory. */
int clustering_persistent_target(double *p, long long T, int K, regime_chain *c, int *labels);

/* Local: labels (T) of the jump model on the costs -log q of all time steps;
 * c->penalty < 0: chosen for the mean episode and written back. */
int clustering_persistent_labels(const double *q, long long T, int K, regime_chain *c, int *labels);

/* Collective: q (N, K) of this rank's block of time steps (block_range);
 * labels (N) receive their labels decoded along ALL time steps, identical at
 * any rank count. */
int clustering_persistent_labels_dist(MPI_Comm comm, const double *q, long long T, int K, regime_chain *c, int *labels);

#endif
