/*
 * clustering_layer.c - the clustering layer of DSC (paper section 4.2):
 * Student-t soft assignment (eq. 3), target distribution (eq. 4), KL(P || Q)
 * (eq. 6) and its gradients (formulas in clustering.h).
 *
 * Precision: z and the centroids are float32, everything derived from them
 * is double.  |z_i - c_j|^2 is summed directly from the differences: the
 * latents of a barely trained network sit within ~1e-4 of each other, where
 * the |z|^2 - 2 z.c + |c|^2 expansion would cancel to noise.  q is computed
 * from logarithms shifted by the row maximum, so it stays finite and sums to
 * 1 even when every kernel value of a row underflows.  The loss is summed in
 * a form without cancellation, as p is within ~1e-4 of q in early training.
 *
 * Threads: OpenMP shares the rows (every row is independent).  The sums over
 * rows (column sums, the loss, the centroid gradient) run in a fixed order
 * over the rows, so the results do not depend on the number of threads.
 */
#include "clustering.h"
#include "status.h"

#include <math.h>
#include <stdlib.h>

/* |z - c|^2 in double. */
static double squared_distance(const float *z, const float *c, int L)
{
    double s = 0;
    for (int l = 0; l < L; l++) {
        double e = (double)z[l] - (double)c[l];
        s += e * e;
    }
    return s;
}

/* One row of eq. 3: q (K) of the latent z (L); w (K), if not NULL, gets the
 * kernel factor (1 + |z - c_j|^2 / alpha)^-1 of the gradients. */
static void soft_assign_row(double *q, double *w, const float *z, const float *centroids, int k, int L, double alpha)
{
    const double expo = -(alpha + 1.0) / 2.0;
    double top = -INFINITY;
    for (int j = 0; j < k; j++) {
        double u = 1.0 + squared_distance(z, centroids + (size_t)j * L, L) / alpha;
        if (w) w[j] = 1.0 / u;
        q[j] = expo * log(u);
        if (q[j] > top) top = q[j];
    }
    double sum = 0;
    for (int j = 0; j < k; j++) {
        q[j] = exp(q[j] - top);
        sum += q[j];
    }
    for (int j = 0; j < k; j++) q[j] /= sum;
}

void clustering_soft_assign(double *q, const float *z, const float *centroids, long long n, int k, int L, double alpha)
{
#pragma omp parallel for schedule(static)
    for (long long i = 0; i < n; i++) soft_assign_row(q + i * k, NULL, z + i * L, centroids, k, L, alpha);
}

void clustering_column_sums(double *f, const double *q, long long n, int k)
{
    for (long long i = 0; i < n; i++)
        for (int j = 0; j < k; j++) f[j] += q[i * k + j];
}

void clustering_target(double *p, const double *q, const double *f, long long n, int k)
{
#pragma omp parallel for schedule(static)
    for (long long i = 0; i < n; i++) {
        const double *qi = q + i * k;
        double *pi = p + i * k;
        double sum = 0;
        for (int j = 0; j < k; j++) {
            pi[j] = f[j] > 0 ? qi[j] * qi[j] / f[j] : 0.0;
            sum += pi[j];
        }
        for (int j = 0; j < k; j++) pi[j] = sum > 0 ? pi[j] / sum : 0.0;
    }
}

double clustering_kl_backward(float *dz, float *dcentroids, const float *z, const float *centroids, const double *p,
                              long long n, int k, int L, double alpha, double scale)
{
    /* Per row (2K + 1): the coefficients scale (alpha+1)/alpha w_ij (p_ij -
     * q_ij), the kernel factors w_ij, the row's KL term; then (K, L) sums of
     * the centroid gradient. */
    const long long stride = 2LL * k + 1;
    double *buf = dsc_malloc(((size_t)n * (size_t)stride + (size_t)k * L) * sizeof(double), "clustering layer gradient");
    if (!buf) return NAN;
    double *acc = buf + (size_t)n * (size_t)stride;
    const double factor = scale * (alpha + 1.0) / alpha;

#pragma omp parallel for schedule(static)
    for (long long i = 0; i < n; i++) {
        double *ci = buf + i * stride, *wi = ci + k;
        const double *pi = p + i * k;
        const float *zi = z + i * L;
        soft_assign_row(ci, wi, zi, centroids, k, L, alpha);
        /* Rows of p and q both sum to 1, so KL = sum_j p log(p/q) - p + q,
         * whose terms q ((1 + r) log1p(r) - r), r = p/q - 1, are >= 0 and
         * O(r^2): no cancellation when p is close to q (early training). */
        double kl = 0;
        for (int j = 0; j < k; j++) {
            if (pi[j] > 0) {
                double r = (pi[j] - ci[j]) / ci[j];
                kl += ci[j] * ((1.0 + r) * log1p(r) - r);
            } else {
                kl += ci[j];
            }
            ci[j] = factor * wi[j] * (pi[j] - ci[j]);
        }
        ci[2 * k] = kl;
        if (dz) {
            float *gi = dz + i * L;
            for (int l = 0; l < L; l++) {
                double g = 0;
                for (int j = 0; j < k; j++) g += ci[j] * ((double)zi[l] - (double)centroids[(size_t)j * L + l]);
                gi[l] += (float)g;
            }
        }
    }

    if (dcentroids) {
        /* dKL/dc_j = -sum_i coef_ij (z_i - c_j): one centroid per thread,
         * rows in order. */
#pragma omp parallel for schedule(static)
        for (int j = 0; j < k; j++) {
            const float *cj = centroids + (size_t)j * L;
            double *aj = acc + (size_t)j * L;
            for (int l = 0; l < L; l++) aj[l] = 0;
            for (long long i = 0; i < n; i++) {
                double cij = buf[i * stride + j];
                const float *zi = z + i * L;
                for (int l = 0; l < L; l++) aj[l] += cij * ((double)zi[l] - (double)cj[l]);
            }
            for (int l = 0; l < L; l++) dcentroids[(size_t)j * L + l] -= (float)aj[l];
        }
    }

    double loss = 0;
    for (long long i = 0; i < n; i++) loss += buf[i * stride + 2 * k];
    free(buf);
    return scale * loss;
}

void clustering_hard_labels(int *labels, const double *q, long long n, int k)
{
    for (long long i = 0; i < n; i++) {
        const double *qi = q + i * k;
        int best = 0;
        for (int j = 1; j < k; j++)
            if (qi[j] > qi[best]) best = j;
        labels[i] = best;
    }
}
