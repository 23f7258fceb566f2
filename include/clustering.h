/*
 * clustering.h - the clustering layer of DSC (paper section 4.2): Student-t
 * soft assignment of latent vectors to centroids (eq. 3), the sharpened
 * target distribution (eq. 4), the KL divergence KL(P || Q) (eq. 6) and its
 * exact gradients with respect to the latent vectors and the centroids.
 *
 * Dimension letters: N latent vectors (time steps) held here, L latent
 * size, K clusters.  z (N, L) and the centroids (K, L) are float32 as the
 * network keeps them; q and p are double: the latents of a barely trained
 * network differ by ~1e-4, so |z - c|^2 is computed directly (never by the
 * |z|^2 - 2 z.c + |c|^2 expansion) and accumulated in double.
 *
 *   q_ij = (1 + |z_i - c_j|^2 / alpha)^(-(alpha + 1) / 2), normalised over j   (eq. 3)
 *   f_j  = sum over ALL time steps of all ranks of q_ij
 *   p_ij = (q_ij^2 / f_j) / sum_l (q_il^2 / f_l)                                (eq. 4)
 *   KL   = sum_i sum_j p_ij log(p_ij / q_ij)                                   (eq. 6)
 * With p held fixed (it is recomputed every update interval, as in DEC):
 *   dKL/dz_i = (alpha+1)/alpha sum_j w_ij (p_ij - q_ij) (z_i - c_j)
 *   dKL/dc_j = -(alpha+1)/alpha sum_i w_ij (p_ij - q_ij) (z_i - c_j)
 *   with w_ij = (1 + |z_i - c_j|^2 / alpha)^-1.
 */
#ifndef DSC_CLUSTERING_H
#define DSC_CLUSTERING_H

/* Local: q (N, K) from z (N, L) and centroids (K, L), eq. 3. */
void clustering_soft_assign(double *q, const float *z, const float *centroids, long long n, int k, int L, double alpha);

/* Local: f[j] += sum_i q_ij over the N rows here (allreduce f over the
 * ranks to get the eq. 4 column sums over all time steps). */
void clustering_column_sums(double *f, const double *q, long long n, int k);

/* Local: p (N, K) from q (N, K) and the global column sums f (K), eq. 4. */
void clustering_target(double *p, const double *q, const double *f, long long n, int k);

/* Local: returns scale * KL(P || Q) summed over the N rows (eq. 6, q
 * recomputed here from z and the centroids) and ACCUMULATES
 * scale * dKL/dz into dz (N, L) and scale * dKL/dc into dcentroids (K, L)
 * (either may be NULL).  scale is gamma / global batch size in training.
 * Out of memory: returns NaN (message recorded with dsc_fail), adds nothing. */
double clustering_kl_backward(float *dz, float *dcentroids, const float *z, const float *centroids, const double *p,
                              long long n, int k, int L, double alpha, double scale);

/* Local: labels[i] = argmax_j q_ij (lowest j on ties). */
void clustering_hard_labels(int *labels, const double *q, long long n, int k);

#endif
