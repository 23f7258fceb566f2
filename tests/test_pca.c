/*
 * test_pca.c - the linear algebra of the baselines: the Jacobi eigensolver,
 * the distributed Cholesky-QR, pca_fit against the eigen-decomposition of
 * the covariance matrix formed here, and the Ward linkage on small cases
 * whose clusters are known.  The rows are split over the ranks of
 * MPI_COMM_WORLD (run it on 1, 2 or 3 ranks).
 *
 *   mpirun -n 3 tests/test_pca
 */
#include "pca.h"
#include "partition.h"
#include "rng.h"
#include "status.h"
#include "tap.h"
#include "ward.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int world_rank, world_size;

static void check_eigen(void)
{
    enum { M = 9 };
    double a[M * M], a0[M * M], w[M], v[M * M];
    rng_state r;
    rng_seed(&r, 7, 0);
    for (int i = 0; i < M; i++)
        for (int j = 0; j <= i; j++) a[i * M + j] = a[j * M + i] = rng_normal(&r);
    memcpy(a0, a, sizeof a);
    pca_symmetric_eigen(a, M, w, v);
    double res = 0, orth = 0;
    int sorted = 1;
    for (int j = 0; j < M; j++) {
        if (j > 0 && w[j] > w[j - 1]) sorted = 0;
        for (int i = 0; i < M; i++) {
            double s = 0;
            for (int k = 0; k < M; k++) s += a0[i * M + k] * v[k * M + j];
            res = fmax(res, fabs(s - w[j] * v[i * M + j]));
        }
        for (int k = 0; k < M; k++) {
            double s = 0;
            for (int i = 0; i < M; i++) s += v[i * M + j] * v[i * M + k];
            orth = fmax(orth, fabs(s - (j == k)));
        }
    }
    tap_check(res < 1e-12 && orth < 1e-12 && sorted,
              "Jacobi: A v = lambda v (residual %.1e), V^T V = I (%.1e), eigenvalues decreasing", res, orth);
    /* graded: diag(1e8, 1, 1e-8) with couplings; the small eigenvalue keeps its relative accuracy */
    double g[9] = {1e8, 1e-1, 0, 1e-1, 1, 1e-5, 0, 1e-5, 1e-8}, gw[3], gv[9];
    pca_symmetric_eigen(g, 3, gw, gv);
    /* exact to first order: the 2x2 block (1, 1e-5; 1e-5, 1e-8) has the small eigenvalue 1e-8 - 1e-10 */
    double small = 1e-8 - 1e-10 * (1 + 1e-8);
    tap_check(fabs(gw[2] - small) < 1e-6 * small, "Jacobi: graded matrix, smallest eigenvalue %.10e to 1e-6 relative", gw[2]);
}

/* This rank's rows [t0, t0 + n) of a global (T, L) matrix from rows(). */
typedef void (*row_fn)(long long t, double *row, int l);

static void random_row(long long t, double *row, int l)
{
    rng_state r;
    rng_seed(&r, 11, (uint64_t)t);
    for (int j = 0; j < l; j++) row[j] = rng_normal(&r);
}

static void dependent_row(long long t, double *row, int l)
{
    random_row(t, row, l);
    row[3] = row[1] - 2.0 * row[2];
}

static void graded_row(long long t, double *row, int l)
{
    random_row(t, row, l);
    for (int j = 1; j < l; j++) row[j] = row[0] + 1e-4 * row[j]; /* nearly parallel: condition number about 1e4 */
}

static void check_cholesky_qr(row_fn fn, int expect_kept, const char *what)
{
    enum { T = 53, L = 6 };
    long long t0, n;
    block_range(T, world_size, world_rank, &t0, &n);
    double y[T * L] = {0}, y0[T * L], g[L * L];
    for (long long i = 0; i < n; i++) fn(t0 + i, y + i * L, L);
    memcpy(y0, y, sizeof y);
    int kept = pca_cholesky_qr(MPI_COMM_WORLD, y, n, L);
    /* Q^T Q over all ranks; Y = Q (Q^T Y) (the range is kept) */
    memset(g, 0, sizeof g);
    for (long long i = 0; i < n; i++)
        for (int a = 0; a < L; a++)
            for (int b = 0; b < L; b++) g[a * L + b] += y[i * L + a] * y[i * L + b];
    MPI_Allreduce(MPI_IN_PLACE, g, L * L, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    double qty[L * L] = {0};
    for (long long i = 0; i < n; i++)
        for (int a = 0; a < L; a++)
            for (int b = 0; b < L; b++) qty[a * L + b] += y[i * L + a] * y0[i * L + b];
    MPI_Allreduce(MPI_IN_PLACE, qty, L * L, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    double orth = 0, res = 0;
    int nonzero = 0;
    for (int a = 0; a < L; a++) {
        nonzero += g[a * L + a] > 0.5;
        for (int b = 0; b < L; b++)
            if (g[a * L + a] > 0.5 && g[b * L + b] > 0.5) orth = fmax(orth, fabs(g[a * L + b] - (a == b)));
    }
    for (long long i = 0; i < n; i++)
        for (int b = 0; b < L; b++) {
            double s = 0;
            for (int a = 0; a < L; a++) s += y[i * L + a] * qty[a * L + b];
            res = fmax(res, fabs(s - y0[i * L + b]));
        }
    tap_check_all(MPI_COMM_WORLD, kept == expect_kept && nonzero == expect_kept && orth < 1e-13 && res < 1e-12,
                  "Cholesky-QR, %s, %d ranks: %d columns kept (expected %d), Q^T Q = I (%.1e), Q Q^T Y = Y (%.1e)", what,
                  world_size, kept, expect_kept, orth, res);
}

/* pca_fit on T x D rows with a decaying spectrum against the eigenpairs of
 * Xc^T Xc formed here in double. */
static void check_pca(int T, int D, int C, int oversample)
{
    long long t0, n;
    block_range(T, world_size, world_rank, &t0, &n);
    float *xall = malloc((size_t)T * D * sizeof(float));
    rng_state r;
    rng_seed(&r, 5, 0);
    for (int t = 0; t < T; t++)
        for (int f = 0; f < D; f++) {
            /* feature f has scale 2^-f/2: well separated singular values */
            xall[(size_t)t * D + f] = (float)(3.0 + rng_normal(&r) * pow(0.7, f) + 0.1 * rng_normal(&r) * (f % 3 == 0));
        }
    double *mean = calloc(D, sizeof(double)), *cov = calloc((size_t)D * D, sizeof(double));
    double *w = malloc(D * sizeof(double)), *v = malloc((size_t)D * D * sizeof(double));
    for (int t = 0; t < T; t++)
        for (int f = 0; f < D; f++) mean[f] += xall[(size_t)t * D + f] / (double)T;
    double total = 0;
    for (int t = 0; t < T; t++)
        for (int a = 0; a < D; a++) {
            double ea = xall[(size_t)t * D + a] - mean[a];
            total += ea * ea;
            for (int b = 0; b < D; b++) cov[a * D + b] += ea * (xall[(size_t)t * D + b] - mean[b]);
        }
    pca_symmetric_eigen(cov, D, w, v);

    pca_options o = pca_defaults(C);
    o.oversample = oversample;
    pca_result res;
    float *scores = malloc(((size_t)n * C + 1) * sizeof(float));
    int status = pca_fit(MPI_COMM_WORLD, xall + t0 * D, n, D, &o, &res, scores);
    tap_check_all(MPI_COMM_WORLD, status == DSC_OK, "pca_fit %d x %d, %d components, oversampling %d, %d ranks: runs", T, D, C,
                  oversample, world_size);
    if (status != DSC_OK) return;
    double ratio_err = 0, pattern_err = 0, score_err = 0, score_max = 0;
    int sign_ok = 1;
    for (int i = 0; i < C; i++) {
        ratio_err = fmax(ratio_err, fabs(res.ratio[i] - w[i] / total) / (w[i] / total));
        double dot = 0;
        for (int f = 0; f < D; f++) dot += res.patterns[(size_t)i * D + f] * v[f * D + i];
        double s = dot < 0 ? -1 : 1;
        int fmax_i = 0;
        for (int f = 0; f < D; f++) {
            pattern_err = fmax(pattern_err, fabs(res.patterns[(size_t)i * D + f] - s * v[f * D + i]));
            if (fabs(res.patterns[(size_t)i * D + f]) > fabs(res.patterns[(size_t)i * D + fmax_i])) fmax_i = f;
        }
        if (res.patterns[(size_t)i * D + fmax_i] <= 0) sign_ok = 0;
        for (long long t = 0; t < n; t++) {
            double sc = 0;
            for (int f = 0; f < D; f++) sc += (xall[(t0 + t) * D + f] - mean[f]) * res.patterns[(size_t)i * D + f];
            score_err = fmax(score_err, fabs(scores[t * C + i] - sc));
            score_max = fmax(score_max, fabs(sc));
        }
    }
    tap_check_all(MPI_COMM_WORLD, ratio_err < 1e-10 && pattern_err < 1e-7,
                  "pca_fit %d x %d, C = %d: explained variance ratio to %.1e, patterns to %.1e of the covariance's eigenpairs "
                  "(%d iterations)", T, D, C, ratio_err, pattern_err, res.iterations);
    tap_check_all(MPI_COMM_WORLD, sign_ok && score_err <= 1e-6 * score_max,
                  "pca_fit %d x %d, C = %d: largest loading positive, scores = Xc p (%.1e of %.2g)", T, D, C, score_err, score_max);
    tap_check(fabs(res.total_variance - total / (T - 1)) < 1e-12 * total,
              "pca_fit: total variance = trace of the covariance (%.6g)", res.total_variance);
    pca_result_destroy(&res);
    free(xall);
    free(mean);
    free(cov);
    free(w);
    free(v);
    free(scores);
}

static void check_pca_errors(void)
{
    float x[20] = {0};
    long long t0, n;
    block_range(4, world_size, world_rank, &t0, &n);
    pca_options o = pca_defaults(4); /* 4 rows: at most 3 components */
    pca_result res;
    int status = pca_fit(MPI_COMM_WORLD, x, n, 5, &o, &res, NULL);
    tap_check_all(MPI_COMM_WORLD, status == DSC_ERR, "pca_fit: 4 components of 4 rows is refused on every rank (error above)");
}

/* Greedy Ward from the definition: merge the pair of clusters whose union
 * raises the within-cluster sum of squares least, n_a n_b / (n_a + n_b)
 * |c_a - c_b|^2, until K clusters are left; labels by first row. */
static void ward_brute_force(const double *x, int T, int D, int K, int *labels)
{
    int *owner = malloc(T * sizeof(int)), *size = malloc(T * sizeof(int));
    double *c = malloc((size_t)T * D * sizeof(double));
    for (int i = 0; i < T; i++) {
        owner[i] = i;
        size[i] = 1;
        memcpy(c + (size_t)i * D, x + (size_t)i * D, D * sizeof(double));
    }
    for (int left = T; left > K; left--) {
        int ba = -1, bb = -1;
        double best = INFINITY;
        for (int a = 0; a < T; a++)
            for (int b = a + 1; b < T && size[a]; b++) {
                if (!size[b]) continue;
                double e = 0;
                for (int f = 0; f < D; f++) e += (c[a * D + f] - c[b * D + f]) * (c[a * D + f] - c[b * D + f]);
                e *= (double)size[a] * size[b] / (size[a] + size[b]);
                if (e < best) {
                    best = e;
                    ba = a;
                    bb = b;
                }
            }
        for (int f = 0; f < D; f++) c[ba * D + f] = (size[ba] * c[ba * D + f] + size[bb] * c[bb * D + f]) / (size[ba] + size[bb]);
        size[ba] += size[bb];
        size[bb] = 0;
        for (int i = 0; i < T; i++)
            if (owner[i] == bb) owner[i] = ba;
    }
    int *number = malloc(T * sizeof(int)), next = 0;
    for (int i = 0; i < T; i++) number[i] = -1;
    for (int i = 0; i < T; i++) {
        if (number[owner[i]] < 0) number[owner[i]] = next++;
        labels[i] = number[owner[i]];
    }
    free(owner);
    free(size);
    free(c);
    free(number);
}

static void check_ward_linkage(void)
{
    {
        enum { T = 40, D = 3 };
        double x[T * D], dist[T * (T - 1) / 2];
        int got[T], want[T], same = 1;
        rng_state r;
        rng_seed(&r, 3, 0);
        for (int i = 0; i < T * D; i++) x[i] = rng_normal(&r) + 4.0 * (i / D % 4); /* 4 loose groups */
        for (int k = 2; k <= 9; k++) {
            for (int i = 1; i < T; i++)
                for (int j = 0; j < i; j++) {
                    double e = 0;
                    for (int f = 0; f < D; f++) e += (x[i * D + f] - x[j * D + f]) * (x[i * D + f] - x[j * D + f]);
                    dist[i * (i - 1) / 2 + j] = e;
                }
            ward_linkage_labels(dist, T, k, got);
            ward_brute_force(x, T, D, k, want);
            for (int i = 0; i < T; i++) same &= got[i] == want[i];
        }
        tap_check(same, "Ward linkage (nearest-neighbour chain, Lance-Williams) = greedy Ward from the definition, 40 points, K = 2..9");
    }
    /* points on a line: 0, 1, 5, 6.5, 20 */
    const double p[5] = {0, 1, 5, 6.5, 20};
    const int expect3[5] = {0, 0, 1, 1, 2}, expect2[5] = {0, 0, 0, 0, 1};
    double dist[10];
    int labels[5], ok3 = 1, ok2 = 1;
    for (int k = 3; k >= 2; k--) {
        for (int i = 1; i < 5; i++)
            for (int j = 0; j < i; j++) dist[i * (i - 1) / 2 + j] = (p[i] - p[j]) * (p[i] - p[j]);
        ward_linkage_labels(dist, 5, k, labels);
        for (int i = 0; i < 5; i++) {
            if (k == 3 && labels[i] != expect3[i]) ok3 = 0;
            if (k == 2 && labels[i] != expect2[i]) ok2 = 0;
        }
    }
    tap_check(ok3 && ok2, "Ward linkage on 0, 1, 5, 6.5, 20: 3 clusters {0,1} {5,6.5} {20}, 2 clusters {0..6.5} {20}");
    /* Ward, not single linkage: 0, 4, 7, 9.5 -- single linkage gives {0}
     * {4, 7, 9.5}; Ward joins 7 and 9.5 first (6.25), then 0 and 4 (16
     * against 24.08 for 4 and {7, 9.5} by the Lance-Williams update) */
    const double q[4] = {0, 4, 7, 9.5};
    for (int i = 1; i < 4; i++)
        for (int j = 0; j < i; j++) dist[i * (i - 1) / 2 + j] = (q[i] - q[j]) * (q[i] - q[j]);
    ward_linkage_labels(dist, 4, 2, labels);
    tap_check(labels[0] == labels[1] && labels[2] == labels[3] && labels[0] != labels[2],
              "Ward linkage on 0, 4, 7, 9.5: 2 clusters {0, 4} {7, 9.5} (labels %d %d %d %d)", labels[0], labels[1], labels[2],
              labels[3]);
    tap_check(ward_max_rows(1048576.0) == 512 && ward_matrix_bytes(512) <= 1048576.0 && ward_matrix_bytes(513) > 1048576.0,
              "the distance matrix of 512 rows fits in 1 MiB, 513 do not (limit %lld)", ward_max_rows(1048576.0));
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    tap_init();
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    check_eigen();
    check_cholesky_qr(random_row, 6, "independent columns");
    check_cholesky_qr(dependent_row, 5, "column 3 = column 1 - 2 column 2");
    check_cholesky_qr(graded_row, 6, "nearly parallel columns (one pass would leave Q^T Q - I near 1e-8)");
    check_pca(120, 14, 3, 10);  /* L = 13 < D: iterated */
    check_pca(60, 8, 3, 10);    /* L = min(T - 1, D) = 8: exact subspace */
    check_pca(30, 40, 5, 2);    /* D > T, little oversampling */
    check_pca_errors();
    check_ward_linkage();
    int rc = tap_finish();
    MPI_Finalize();
    return rc;
}
