/*
 * persistence.h - labels along time with a penalty per regime switch.
 *
 * Weather regimes last several days.  The jump model (Nystrup et al. 2020;
 * Bemporad et al. 2018) labels a sequence by minimising
 *
 *     sum_t cost[t, s_t]  +  lambda * #{t : s_t != s_(t-1)}
 *
 * over all label sequences s, where cost[t, k] is the squared distance of
 * step t to centroid k.  A dynamic programme over time finds the exact
 * minimum in O(T K): V[t, k] = cost[t, k] + min(V[t-1, k], min_j V[t-1, j] + lambda).
 * The record may hold gaps (missing days, files that do not follow each other):
 * each contiguous segment is decoded on its own, as a switch across a gap means
 * nothing.  lambda = 0 gives the nearest centroid of every step (lowest index on
 * ties), exactly as without the penalty.
 *
 * Dimension letters: T time steps, K clusters.
 */
#ifndef DSC_PERSISTENCE_H
#define DSC_PERSISTENCE_H

/* labels (T) minimising the penalised cost over each segment; cost (T, K)
 * row-major; segments: nseg start indices, ascending, the first 0 (NULL and
 * nseg 0: one segment).  Returns the minimum of the objective, or NaN when
 * out of memory or an argument is invalid (lambda < 0 or not finite). */
double persistence_decode(const double *cost, long long T, int K, const long long *seg_start, int nseg, double lambda,
                          int *labels);

/* The objective of a given labelling (the same segments and lambda). */
double persistence_objective(const double *cost, long long T, int K, const long long *seg_start, int nseg,
                             double lambda, const int *labels);

/* Mean episode length (steps) of a labelling: T over the number of runs of one
 * label inside the segments. */
double persistence_mean_run(const int *labels, long long T, const long long *seg_start, int nseg);

/* The penalty whose decoding has a mean episode length closest to target_steps
 * (>= 1): a geometric bisection between the scale of the cost gaps and the
 * penalty that leaves one label per segment (the mean episode length grows with
 * lambda).  labels (T) is scratch; returns NaN when out of memory. */
double persistence_lambda_for_run(const double *cost, long long T, int K, const long long *seg_start, int nseg,
                                  double target_steps, int *labels);

/* In place: q (T, K), each row a distribution over the K regimes, becomes
 * the posterior of a hidden Markov chain that keeps its regime from one step
 * to the next with probability 1 - eps and otherwise moves to one of the
 * K - 1 others alike, observed through q (the forward-backward algorithm;
 * every segment starts from the uniform distribution).  eps = 1 / N makes
 * N steps the chain's mean episode length; eps = 0 pins a whole segment to
 * one regime, eps = (K - 1) / K leaves q as it is.  A row of zeros or
 * non-finite numbers counts as uniform.  Returns 0, or -1 when out of memory
 * or an argument is invalid (eps outside [0, 1], segments). */
int persistence_smooth(double *q, long long T, int K, const long long *seg_start, int nseg, double eps);

#endif
