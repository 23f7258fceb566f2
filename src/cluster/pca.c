/*
 * pca.c - distributed PCA / EOF analysis (pca.h) for the EOF truncation of
 * dsc kmeans --pca and dsc ward --pca.
 *
 * The data matrix is distributed by time blocks (cmd_kmeans.c: rank r holds
 * the rows [t0, t0 + N) of all D features), so products with Xc (T x D)
 * and Xc^T are local GEMMs over a rank's rows, and products that sum over
 * time (Xc^T Y, Y^T Y) are a local GEMM plus one MPI_Allreduce.  Subspace
 * iteration (Halko, Martinsson and Tropp 2011, algorithm 4.4, with the
 * orthonormalisation of both half steps):
 *
 *   Omega (D, L) standard normal, from one generator seeded on every rank;
 *   Y = Xc Omega;                     Y = Q R by Cholesky-QR (allreduced Gram)
 *   repeat:
 *     Z = Xc^T Q                      (D, L), allreduced: Z^T = Q^T Xc
 *     Ritz values = eigenvalues of Z^T Z (L, L); stop when the leading C
 *       changed by <= tol relative since the last step (at least 2 steps)
 *     Z = Z R^-1 (Cholesky-QR, the same on every rank);  Q = Xc Z, Q R
 *   patterns = Z u_i / sqrt(lambda_i) for the eigenpairs (lambda_i, u_i)
 *     of Z^T Z: the right singular vectors of Q^T Xc.
 *
 * The Ritz values converge like (sigma_{L+1} / sigma_i)^(4q) after q steps,
 * so with L = C + 10 a handful of steps give the singular values to
 * rounding; with L = min(T - 1, D) the start already spans the whole range
 * and two steps suffice.  Rows are converted to double and centred by the
 * global mean in tiles of ROW_TILE rows, so every product is a double GEMM
 * and the float input is never copied whole.
 */
#include "pca.h"
#include "json.h"
#include "rng.h"
#include "status.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Rows per tile of the centred double copy. */
#define ROW_TILE 256

pca_options pca_defaults(int components)
{
    pca_options o = {.components = components, .oversample = 10, .max_iter = 200, .tol = 1e-12, .seed = 1};
    return o;
}

void pca_result_destroy(pca_result *res)
{
    free(res->mean);
    free(res->patterns);
    free(res->variance);
    free(res->ratio);
    memset(res, 0, sizeof *res);
}

static void write_list(FILE *f, const double *v, int n, const char *key)
{
    fputc('[', f);
    for (int i = 0; i < n; i++) {
        fputs(i ? ", " : "", f);
        json_write_key_number(f, v[i], -1, key);
    }
    fputc(']', f);
}

void pca_write_json(FILE *f, const pca_result *res, const char *indent)
{
    fprintf(f, "%s\"pca_components\": %d,\n%s\"pca_iterations\": %d,\n", indent, res->c, indent, res->iterations);
    fprintf(f, "%s\"total_variance\": ", indent);
    json_write_key_number(f, res->total_variance, -1, "total_variance");
    fprintf(f, ",\n%s\"explained_variance\": ", indent);
    write_list(f, res->variance, res->c, "explained_variance");
    fprintf(f, ",\n%s\"explained_variance_ratio\": ", indent);
    write_list(f, res->ratio, res->c, "explained_variance_ratio");
    fprintf(f, ",\n");
}

/* ---- small dense linear algebra (double) ---------------------------------- */

int pca_symmetric_eigen(double *a, int m, double *w, double *v)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++) v[(size_t)i * m + j] = i == j;
    /* Cyclic Jacobi: rotate while an off-diagonal entry is not negligible
     * against its diagonal pair (Demmel and Veselic 1992), so the small
     * eigenvalues keep their relative accuracy too. */
    for (int sweep = 0; sweep < 100; sweep++) {
        int rotated = 0;
        for (int p = 0; p < m - 1; p++)
            for (int q = p + 1; q < m; q++) {
                double apq = a[(size_t)p * m + q], app = a[(size_t)p * m + p], aqq = a[(size_t)q * m + q];
                if (fabs(apq) <= 1e-300 || fabs(apq) <= 0.5 * DBL_EPSILON * sqrt(fabs(app) * fabs(aqq))) continue;
                rotated = 1;
                double theta = (aqq - app) / (2.0 * apq), t;
                if (fabs(theta) > 1e150) t = 0.5 / theta;
                else t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
                double c = 1.0 / sqrt(t * t + 1.0), s = t * c;
                for (int k = 0; k < m; k++) { /* columns p, q: A J */
                    double akp = a[(size_t)k * m + p], akq = a[(size_t)k * m + q];
                    a[(size_t)k * m + p] = c * akp - s * akq;
                    a[(size_t)k * m + q] = s * akp + c * akq;
                }
                for (int k = 0; k < m; k++) { /* rows p, q: J^T (A J) */
                    double apk = a[(size_t)p * m + k], aqk = a[(size_t)q * m + k];
                    a[(size_t)p * m + k] = c * apk - s * aqk;
                    a[(size_t)q * m + k] = s * apk + c * aqk;
                }
                a[(size_t)p * m + q] = a[(size_t)q * m + p] = 0.0;
                for (int k = 0; k < m; k++) { /* V J */
                    double vkp = v[(size_t)k * m + p], vkq = v[(size_t)k * m + q];
                    v[(size_t)k * m + p] = c * vkp - s * vkq;
                    v[(size_t)k * m + q] = s * vkp + c * vkq;
                }
            }
        if (!rotated) break;
    }
    for (int i = 0; i < m; i++) w[i] = a[(size_t)i * m + i];
    /* decreasing order (selection sort, M is small), columns of v with them */
    for (int i = 0; i < m; i++) {
        int best = i;
        for (int j = i + 1; j < m; j++)
            if (w[j] > w[best]) best = j;
        if (best == i) continue;
        double t = w[i];
        w[i] = w[best];
        w[best] = t;
        for (int k = 0; k < m; k++) {
            t = v[(size_t)k * m + i];
            v[(size_t)k * m + i] = v[(size_t)k * m + best];
            v[(size_t)k * m + best] = t;
        }
    }
    return DSC_OK;
}

/* Upper Cholesky factor r (L, L) of g = R^T R; DSC_ERR when a pivot falls
 * below 1e-12 of its diagonal entry (numerically dependent columns). */
static int cholesky_upper(double *r, const double *g, int l)
{
    memset(r, 0, (size_t)l * l * sizeof(double));
    for (int j = 0; j < l; j++) {
        double s = g[(size_t)j * l + j];
        for (int k = 0; k < j; k++) s -= r[(size_t)k * l + j] * r[(size_t)k * l + j];
        if (!(s > 1e-12 * g[(size_t)j * l + j]) || !(g[(size_t)j * l + j] > 0)) return DSC_ERR;
        double rjj = sqrt(s);
        r[(size_t)j * l + j] = rjj;
        for (int i = j + 1; i < l; i++) {
            double e = g[(size_t)j * l + i];
            for (int k = 0; k < j; k++) e -= r[(size_t)k * l + j] * r[(size_t)k * l + i];
            r[(size_t)j * l + i] = e / rjj;
        }
    }
    return DSC_OK;
}

/* One orthonormalisation pass of y (N, L), distributed over comm, with
 * scratch g, r, v (L, L) and w (L).  Returns the columns kept. */
static int orthonormal_pass(MPI_Comm comm, double *y, long long n, int l, double *g, double *r, double *v, double *w,
                            double *row)
{
    memset(g, 0, (size_t)l * l * sizeof(double));
    if (n > 0) cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, l, (int)n, 1.0, y, l, 0.0, g, l);
    for (int i = 0; i < l; i++)
        for (int j = 0; j < i; j++) g[(size_t)i * l + j] = g[(size_t)j * l + i];
    MPI_Allreduce(MPI_IN_PLACE, g, l * l, MPI_DOUBLE, MPI_SUM, comm);
    if (cholesky_upper(r, g, l) == DSC_OK) {
        if (n > 0) cblas_dtrsm(CblasRowMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit, (int)n, l, 1.0, r, l, y, l);
        return l;
    }
    /* Dependent columns: Q = Y V diag(1 / sqrt(lambda)) over the directions
     * with lambda > 1e-13 lambda_max, zero columns for the others. */
    pca_symmetric_eigen(g, l, w, v);
    int kept = 0;
    for (int j = 0; j < l; j++) {
        double scale = w[j] > 1e-13 * w[0] && w[0] > 0 ? 1.0 / sqrt(w[j]) : 0.0;
        kept += scale > 0;
        for (int i = 0; i < l; i++) v[(size_t)i * l + j] *= scale;
    }
    for (long long t = 0; t < n; t++) {
        double *yt = y + t * l;
        for (int j = 0; j < l; j++) {
            double s = 0;
            for (int i = 0; i < l; i++) s += yt[i] * v[(size_t)i * l + j];
            row[j] = s;
        }
        memcpy(yt, row, (size_t)l * sizeof(double));
    }
    return kept;
}

int pca_cholesky_qr(MPI_Comm comm, double *y, long long n, int l)
{
    double *g = dsc_malloc((size_t)l * l * sizeof(double), "PCA Gram matrix");
    double *r = dsc_malloc((size_t)l * l * sizeof(double), "PCA Cholesky factor");
    double *v = dsc_malloc((size_t)l * l * sizeof(double), "PCA eigenvectors");
    double *w = dsc_malloc((size_t)l * 2 * sizeof(double), "PCA eigenvalues");
    int status = g && r && v && w ? DSC_OK : DSC_ERR;
    int kept = -1;
    if (dsc_agree(comm, status) == DSC_OK) {
        kept = orthonormal_pass(comm, y, n, l, g, r, v, w, w + l);
        kept = orthonormal_pass(comm, y, n, l, g, r, v, w, w + l);
    }
    free(g);
    free(r);
    free(v);
    free(w);
    return kept;
}

/* ---- products with the centred rows --------------------------------------- */

typedef struct {
    const float *x;   /* (N, D) */
    long long n;
    int d;
    const double *mean; /* (D) */
    double *tile;     /* (ROW_TILE, D) centred rows in double */
} centred_rows;

/* Tile [i0, i0 + m) of the centred rows into c->tile. */
static void load_tile(centred_rows *c, long long i0, int m)
{
    for (int i = 0; i < m; i++) {
        const float *xi = c->x + (i0 + i) * c->d;
        double *ti = c->tile + (size_t)i * c->d;
        for (int f = 0; f < c->d; f++) ti[f] = (double)xi[f] - c->mean[f];
    }
}

/* Local: out (N, L) = Xc m (D, L). */
static void times_matrix(centred_rows *c, double *out, const double *mat, int l)
{
    for (long long i0 = 0; i0 < c->n; i0 += ROW_TILE) {
        int m = c->n - i0 < ROW_TILE ? (int)(c->n - i0) : ROW_TILE;
        load_tile(c, i0, m);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, l, c->d, 1.0, c->tile, c->d, mat, l, 0.0, out + i0 * l, l);
    }
}

/* Collective: out (D, L) = Xc^T y (N, L) summed over the ranks. */
static void transpose_times(MPI_Comm comm, centred_rows *c, double *out, const double *y, int l)
{
    memset(out, 0, (size_t)c->d * l * sizeof(double));
    for (long long i0 = 0; i0 < c->n; i0 += ROW_TILE) {
        int m = c->n - i0 < ROW_TILE ? (int)(c->n - i0) : ROW_TILE;
        load_tile(c, i0, m);
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, c->d, l, m, 1.0, c->tile, c->d, y + i0 * l, l, 1.0, out, l);
    }
    MPI_Allreduce(MPI_IN_PLACE, out, c->d * l, MPI_DOUBLE, MPI_SUM, comm);
}

/* ---- the fit ---------------------------------------------------------------- */

/* Collective: the checks of pca_fit's arguments; *T the time steps on all
 * ranks, *cmax the most components they allow.  DSC_ERR (agreed) with the
 * message of the first problem. */
static int check_arguments(MPI_Comm comm, long long n, int d, const pca_options *opt, long long *T, long long *cmax)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    long long nn = n < 0 ? 0 : n;
    *T = 0;
    MPI_Allreduce(&nn, T, 1, MPI_LONG_LONG, MPI_SUM, comm);
    int dmin = d, dmax = d;
    MPI_Allreduce(MPI_IN_PLACE, &dmin, 1, MPI_INT, MPI_MIN, comm);
    MPI_Allreduce(MPI_IN_PLACE, &dmax, 1, MPI_INT, MPI_MAX, comm);
    const int C = opt->components;
    *cmax = *T - 1 < d ? *T - 1 : d;
    int status = DSC_OK;
    if (n < 0) status = dsc_fail("PCA: negative row count %lld on rank %d", n, rank);
    else if (dmin != dmax || d < 1)
        status = dsc_fail("PCA: the feature count differs between ranks or is below 1 (%d..%d)", dmin, dmax);
    else if (C < 1 || C > *cmax)
        status = dsc_fail("PCA: %d components of %lld time steps x %d features; choose 1 to %lld components (at most the "
                          "time steps - 1 and the features)", C, *T, d, *cmax < 1 ? 0 : *cmax);
    else if (opt->oversample < 0 || opt->max_iter < 2 || !(opt->tol >= 0))
        status = dsc_fail("PCA: oversampling %d, iterations %d, tolerance %g; use >= 0, >= 2 and >= 0", opt->oversample,
                          opt->max_iter, opt->tol);
    return dsc_agree(comm, status);
}

/* The fit's scratch: l subspace columns. */
typedef struct {
    int l;
    double *y;    /* (N, L) subspace rows */
    double *z;    /* (D, L) subspace features */
    double *h;    /* (L, L) projected matrix Z^T Z */
    double *u;    /* (L, L) its eigenvectors */
    double *w;    /* (L) Ritz values, then (L) those of the previous step */
    double *tile; /* (ROW_TILE, D) centred rows */
    double *srow; /* (ROW_TILE, C) scores */
} pca_work;

static void work_free(pca_work *wk)
{
    free(wk->y);
    free(wk->z);
    free(wk->h);
    free(wk->u);
    free(wk->w);
    free(wk->tile);
    free(wk->srow);
}

/* Local: res's arrays and the scratch; DSC_ERR when one is missing. */
static int work_alloc(pca_work *wk, pca_result *res, long long nn, int d, int C, int l)
{
    res->mean = dsc_calloc((size_t)d, sizeof(double), "PCA feature means");
    res->patterns = dsc_malloc((size_t)C * d * sizeof(double), "EOF patterns");
    res->variance = dsc_malloc((size_t)C * sizeof(double), "PCA explained variance");
    res->ratio = dsc_malloc((size_t)C * sizeof(double), "PCA explained variance ratio");
    wk->l = l;
    wk->y = dsc_malloc(((size_t)nn * l + 1) * sizeof(double), "PCA subspace rows");
    wk->z = dsc_malloc((size_t)d * l * sizeof(double), "PCA subspace features");
    wk->h = dsc_malloc((size_t)l * l * sizeof(double), "PCA projected matrix");
    wk->u = dsc_malloc((size_t)l * l * sizeof(double), "PCA projected eigenvectors");
    wk->w = dsc_malloc((size_t)l * 2 * sizeof(double), "PCA Ritz values");
    wk->tile = dsc_malloc((size_t)ROW_TILE * d * sizeof(double), "PCA row tile");
    wk->srow = dsc_malloc((size_t)ROW_TILE * C * sizeof(double), "PCA score tile");
    return res->mean && res->patterns && res->variance && res->ratio && wk->y && wk->z && wk->h && wk->u && wk->w &&
                   wk->tile && wk->srow
               ? DSC_OK
               : DSC_ERR;
}

/* Collective: res->mean the feature means, res->total_variance; returns the
 * total sum of squares of the centred rows. */
static double centre(MPI_Comm comm, const float *x, long long nn, int d, long long T, pca_result *res)
{
    for (long long i = 0; i < nn; i++)
        for (int f = 0; f < d; f++) res->mean[f] += x[i * d + f];
    MPI_Allreduce(MPI_IN_PLACE, res->mean, d, MPI_DOUBLE, MPI_SUM, comm);
    for (int f = 0; f < d; f++) res->mean[f] /= (double)T;
    double sumsq = 0;
    for (long long i = 0; i < nn; i++)
        for (int f = 0; f < d; f++) {
            double e = (double)x[i * d + f] - res->mean[f];
            sumsq += e * e;
        }
    MPI_Allreduce(MPI_IN_PLACE, &sumsq, 1, MPI_DOUBLE, MPI_SUM, comm);
    res->total_variance = sumsq / (double)(T - 1);
    return sumsq;
}

/* Local: the largest relative change of the leading c Ritz values w since prev. */
static double ritz_change(const double *w, const double *prev, int c)
{
    double change = 0;
    for (int i = 0; i < c; i++) {
        double r = fabs(w[i] - prev[i]) / (w[i] > 0 ? w[i] : 1.0);
        if (r > change) change = r;
    }
    return change;
}

/* Collective: the subspace iteration from a seeded random start; leaves Z,
 * the eigenpairs (w, u) of Z^T Z and res->iterations; warns when the Ritz
 * values did not converge.  DSC_ERR (agreed) when an orthonormalisation
 * fails. */
static int subspace_iteration(MPI_Comm comm, centred_rows *cr, const pca_options *opt, pca_work *wk, pca_result *res)
{
    const int l = wk->l, d = cr->d, C = opt->components;
    double *y = wk->y, *z = wk->z, *h = wk->h, *w = wk->w;
    rng_state rs; /* random start, the same on every rank */
    rng_seed(&rs, opt->seed, 0x5043); /* stream "PC" */
    for (size_t e = 0; e < (size_t)d * l; e++) z[e] = rng_normal(&rs);
    times_matrix(cr, y, z, l);
    if (pca_cholesky_qr(comm, y, cr->n, l) < 0) return DSC_ERR;
    double *prev = w + l;
    int it = 0, converged = 0, status = DSC_OK;
    double change = INFINITY;
    for (it = 1; it <= opt->max_iter; it++) {
        transpose_times(comm, cr, z, y, l);
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, l, d, 1.0, z, l, 0.0, h, l);
        for (int i = 0; i < l; i++)
            for (int j = 0; j < i; j++) h[(size_t)i * l + j] = h[(size_t)j * l + i];
        pca_symmetric_eigen(h, l, w, wk->u);
        if (it >= 2) {
            change = ritz_change(w, prev, C);
            converged = change <= opt->tol;
        }
        memcpy(prev, w, (size_t)l * sizeof(double));
        if (converged || it == opt->max_iter) break;
        /* Z is identical on every rank: orthonormalise it locally */
        if (pca_cholesky_qr(MPI_COMM_SELF, z, d, l) < 0) status = DSC_ERR;
        if (dsc_agree(comm, status) != DSC_OK) return DSC_ERR;
        times_matrix(cr, y, z, l);
        if (pca_cholesky_qr(comm, y, cr->n, l) < 0) return DSC_ERR;
    }
    res->iterations = it > opt->max_iter ? opt->max_iter : it;
    int rank;
    MPI_Comm_rank(comm, &rank);
    if (!converged && rank == 0)
        dsc_warn("PCA: the leading Ritz values still changed by %.2g (relative) after %d power iterations; the EOFs may "
                 "be inaccurate", change, res->iterations);
    return DSC_OK;
}

/* Local: patterns = Z u_i / sqrt(lambda_i), the sign making the largest
 * loading positive; the explained variances and their ratios. */
static void extract_patterns(const pca_work *wk, double sumsq, pca_result *res)
{
    const int l = wk->l, d = res->d;
    const double *z = wk->z, *u = wk->u, *w = wk->w;
    for (int i = 0; i < res->c; i++) {
        double lambda = w[i] > 0 ? w[i] : 0.0, inv = lambda > 0 ? 1.0 / sqrt(lambda) : 0.0;
        double *p = res->patterns + (size_t)i * d;
        for (int f = 0; f < d; f++) {
            double s = 0;
            for (int j = 0; j < l; j++) s += z[(size_t)f * l + j] * u[(size_t)j * l + i];
            p[f] = s * inv;
        }
        int fmax = 0;
        for (int f = 1; f < d; f++)
            if (fabs(p[f]) > fabs(p[fmax])) fmax = f;
        if (p[fmax] < 0)
            for (int f = 0; f < d; f++) p[f] = -p[f];
        res->variance[i] = lambda / (double)(res->T - 1);
        res->ratio[i] = sumsq > 0 ? lambda / sumsq : 0.0;
    }
}

/* Local: scores (N, C) = Xc patterns^T, tile by tile. */
static void project_scores(centred_rows *cr, const pca_result *res, double *srow, float *scores)
{
    const int C = res->c, d = cr->d;
    for (long long i0 = 0; i0 < cr->n; i0 += ROW_TILE) {
        int m = cr->n - i0 < ROW_TILE ? (int)(cr->n - i0) : ROW_TILE;
        load_tile(cr, i0, m);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, C, d, 1.0, cr->tile, d, res->patterns, d, 0.0, srow, C);
        for (size_t e = 0; e < (size_t)m * C; e++) scores[i0 * C + e] = (float)srow[e];
    }
}

int pca_fit(MPI_Comm comm, const float *x, long long n, int d, const pca_options *opt, pca_result *res, float *scores)
{
    memset(res, 0, sizeof *res);
    long long T, cmax;
    if (check_arguments(comm, n, d, opt, &T, &cmax) != DSC_OK) return DSC_ERR;
    const int C = opt->components;
    const int l = (int)(C + opt->oversample < cmax ? C + opt->oversample : cmax);
    const long long nn = n;
    res->c = C;
    res->d = d;
    res->T = T;
    pca_work wk;
    int status = work_alloc(&wk, res, nn, d, C, l);
    if (dsc_agree(comm, status) == DSC_OK) {
        centred_rows cr = {.x = x, .n = nn, .d = d, .mean = res->mean, .tile = wk.tile};
        double sumsq = centre(comm, x, nn, d, T, res);
        status = subspace_iteration(comm, &cr, opt, &wk, res);
        if (status == DSC_OK) {
            extract_patterns(&wk, sumsq, res);
            if (scores) project_scores(&cr, res, wk.srow, scores);
        }
    } else {
        status = DSC_ERR;
    }
    work_free(&wk);
    if (status != DSC_OK) pca_result_destroy(res);
    return status;
}
