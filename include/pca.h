/*
 * pca.h - distributed principal component analysis (EOF analysis) of rows
 * held in contiguous blocks by the ranks (time steps, block_range layout).
 *
 * The EOF patterns are the right singular vectors of the centred data
 * matrix Xc = X - mean (T x D); no rank holds more than its own rows.  The
 * leading N are found by subspace iteration (a randomized range finder,
 * Halko, Martinsson and Tropp 2011, with power iterations run to
 * convergence): a random start Omega (D x L, L = N + 10, the same draw on
 * every rank), Y = Xc Omega orthonormalised by a Cholesky-QR of the
 * allreduced L x L Gram matrix, Z = Xc^T Y summed over the ranks, and so on
 * until the leading N Ritz values stop changing (relative 1e-12).  Every
 * product is in double on the float rows; the small L x L problems are
 * solved by cyclic Jacobi in double.  The result matches a full SVD
 * (scikit-learn's PCA) to rounding, whatever the number of ranks.
 *
 * Signs: each pattern is turned so its largest-magnitude loading is
 * positive (lowest feature on ties), the convention of scikit-learn >= 1.5.
 *
 * Dimension letters: T rows over all ranks, N rows here (global rows
 * [t0, t0 + N), ranks in order), D features, C components, L = C + 10
 * (at most min(T - 1, D)) columns of the iterated subspace.
 */
#ifndef DSC_PCA_H
#define DSC_PCA_H

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    int components;      /* C >= 1, at most min(T - 1, D) */
    int oversample;      /* L - C extra columns of the subspace (10) */
    int max_iter;        /* power iterations at most (200) */
    double tol;          /* stop when the leading C Ritz values change by <= tol, relative (1e-12) */
    uint64_t seed;       /* of the random start, identical on every rank */
} pca_options;

typedef struct {
    int c, d;
    long long T;
    double *mean;        /* (D) feature means */
    double *patterns;    /* (C, D) EOF patterns, unit length */
    double *variance;    /* (C) explained variance sigma^2 / (T - 1) */
    double *ratio;       /* (C) explained variance ratio sigma^2 / |Xc|_F^2 */
    double total_variance; /* |Xc|_F^2 / (T - 1): sum of the feature variances */
    int iterations;      /* power iterations done */
} pca_result;

/* Defaults for C components. */
pca_options pca_defaults(int components);

/* Collective.  x (N, D) this rank's rows; scores (N, C) receives the
 * principal components (Xc times the patterns) of these rows (may be NULL).
 * res is allocated here.  DSC_ERR (agreed) when C is out of range or out
 * of memory. */
int pca_fit(MPI_Comm comm, const float *x, long long n, int d, const pca_options *opt, pca_result *res, float *scores);

void pca_result_destroy(pca_result *res);

/* The fit as members of an enclosing JSON object (metrics.json), one per
 * line starting with indent and ending with ",\n": pca_components,
 * pca_iterations, total_variance, explained_variance,
 * explained_variance_ratio.  A figure that is not finite is null, with the
 * warning of json.h. */
void pca_write_json(FILE *f, const pca_result *res, const char *indent);

/* ---- the linear algebra, exposed for the tests ------------------------- */

/* Local: eigenvalues w (M) in decreasing order and eigenvectors v (M, M),
 * column j for w[j], of the symmetric a (M, M) by cyclic Jacobi rotations;
 * a is overwritten.  DSC_ERR when out of memory. */
int pca_symmetric_eigen(double *a, int m, double *w, double *v);

/* Collective: orthonormalises the columns of the distributed y (N, L) in
 * place, Y = Q R, by Cholesky-QR of the allreduced Gram matrix Y^T Y,
 * applied twice (CholeskyQR2, Yamamoto et al. 2015) so that Q^T Q = I to
 * rounding; a Gram matrix too ill-conditioned for Cholesky (numerically
 * dependent columns) falls back to its eigen-decomposition and zero columns
 * for the null directions.  Returns the number of columns kept (L unless
 * dependent), or -1 (agreed) when out of memory. */
int pca_cholesky_qr(MPI_Comm comm, double *y, long long n, int l);

#endif
