/*
 * latent_pass.h - the encoder over every time step, distributed: the latent
 * vectors E (paper eq. 1) that the k-means initialisation, the target
 * distribution updates (eq. 4), the final labels and `dsc eval
 * --metric-space latent` work on; and the soft assignments of all time
 * steps to the centroids (eq. 3), the inference of dsc train and dsc
 * predict.
 *
 * float32 GEMM results depend in the last bits on a sample's position in its
 * batch (and on the CPU's kernels), so the batches are aligned to GLOBAL
 * positions: batch j always holds the time steps [jE, jE + E) whatever the
 * number of ranks.  A rank encodes every aligned batch that overlaps its
 * block and fetches the few frames it does not hold (sample_exchange.h): the
 * latent of a time step is then bitwise the same at any rank count.
 */
#ifndef DSC_LATENT_PASS_H
#define DSC_LATENT_PASS_H

#include <mpi.h>
#include "model.h"

#define LATENT_PASS_BATCH 16 /* E: time steps per encoder call */

/* Collective.  x (N, F) holds this rank's normalised frames, the time steps
 * block_range(T, P, rank), F = V*H*W of the model; z (N, L) receives their
 * latents (window of S frames ending at each step, sample_window).  The
 * model must have been created with max_batch >= LATENT_PASS_BATCH. */
int latent_pass(MPI_Comm comm, model *m, const float *x, long long T, float *z);

/* Collective: the latent pass, then q (N, K) the soft assignments (Student-t
 * kernel of degrees of freedom alpha, paper eq. 3) of this rank's time steps
 * to the model's centroids; z (N, L) receives the latents. */
int latent_soft_assign(MPI_Comm comm, model *m, const float *x, long long T, double alpha, float *z, double *q);

#endif
