/*
 * kmeans.h - distributed k-means (Lloyd's algorithm) over rows held in
 * contiguous blocks by the ranks.
 *
 * One implementation serves the centroid initialisation of the clustering
 * layer (on the latent vectors of all time steps) and the raw-data baseline
 * `dsc kmeans`.  Per-cluster sums and counts are accumulated in double and
 * combined with MPI_Allreduce; every random draw (k-means++ or random
 * initialisation, re-seeding of empty clusters) uses one generator seeded
 * identically on every rank and is resolved against GLOBAL row indices, so
 * the result does not depend on the number of ranks (up to the rounding of
 * the allreduced sums).
 *
 * k-means++ is scikit-learn's greedy variant: for every centroid after the
 * first, 2 + floor(log K) candidate rows are drawn with probability
 * proportional to the squared distance to the nearest chosen centroid and
 * the one that lowers the summed distance most is kept.  An empty cluster is
 * re-seeded with the row farthest from its centroid (lowest global row on
 * ties) taken from a cluster of two or more rows.  With fewer distinct rows
 * than K some clusters may stay empty.
 *
 * Dimension letters: T rows over all ranks, N rows here (global rows
 * [t0, t0 + N), ranks in order), D features, K clusters.
 */
#ifndef DSC_KMEANS_H
#define DSC_KMEANS_H

#include <mpi.h>
#include <stdint.h>

typedef enum { KMEANS_INIT_PLUSPLUS = 0, KMEANS_INIT_RANDOM = 1 } kmeans_init;

typedef struct {
    int k;               /* K >= 1 */
    kmeans_init init;    /* k-means++ (default) or K distinct random rows */
    int n_init;          /* restarts; the run with the lowest inertia is kept */
    int max_iter;        /* Lloyd iterations per restart (300) */
    double tol;          /* stop when the squared centroid shift summed over
                            clusters <= tol * mean feature variance (scikit-learn) */
    uint64_t seed;
} kmeans_options;

typedef struct {
    int k, d;
    double *centroids;   /* (K, D) */
    double inertia;      /* sum of squared distances of the rows to their centroid */
    int iterations;      /* Lloyd iterations of the kept run */
    int best_init;       /* which restart was kept (0-based) */
} kmeans_result;

/* Defaults: k-means++, n_init 10, max_iter 300, tol 1e-4, seed 1. */
kmeans_options kmeans_defaults(int k);
/* "k-means++" / "random". */
int kmeans_init_parse(const char *s, kmeans_init *init);

/* Collective.  x (N, D) this rank's rows; labels (N) receives the cluster
 * of each row (may be NULL); res->centroids is allocated here.  DSC_ERR
 * (agreed) when K > T or out of memory. */
int kmeans_fit(MPI_Comm comm, const float *x, long long n, int d, const kmeans_options *opt, kmeans_result *res, int *labels);

/* Collective: Lloyd iterations from the given initial centroids init (K, D),
 * identical on every rank (one run, opt->n_init and opt->init ignored). */
int kmeans_fit_from(MPI_Comm comm, const float *x, long long n, int d, const double *init, const kmeans_options *opt,
                    kmeans_result *res, int *labels);

/* Local: labels (N) of the nearest centroid (K, D) of every row (lowest
 * index on ties); returns the sum of squared distances over these rows, NaN
 * when out of memory (message recorded with dsc_fail). */
double kmeans_assign(int *labels, const float *x, long long n, int d, const double *centroids, int k);

void kmeans_result_destroy(kmeans_result *res);

#endif
