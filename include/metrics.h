/*
 * metrics.h - clustering evaluation metrics, distributed over ranks.
 *
 * Definitions follow the authors' evaluation (scikit-learn and numpy on the
 * normalised input matrix; see REFERENCE.md and paper section 5.3):
 * silhouette (Euclidean and cosine), Davies-Bouldin, RMSE_mean (eq. 11),
 * average variance, average inter-cluster distance (the K x K matrix of
 * minimum distances between clusters with the diameters on the diagonal),
 * cluster sizes, and, against a reference labelling, the adjusted Rand
 * index and normalised mutual information.
 *
 * Dimension letters: T samples over all ranks, N samples on this rank
 * (a contiguous block, block_range(T, P, rank)), D features, K clusters.
 * Labels are cluster numbers 0..K-1 (metrics_encode_labels makes them so).
 * Memory per rank is O(N D + tile), never T x T.
 */
#ifndef DSC_METRICS_H
#define DSC_METRICS_H

#include <mpi.h>

/* Local rows of the data matrix and their labels. */
typedef struct {
    long long ntotal;          /* T */
    long long n;               /* N rows held here */
    int d;                     /* D */
    const float *x;            /* (N, D) */
    const int *labels;         /* (N) 0..K-1 */
    int k;                     /* K (clusters numbered 0..K-1; some may be empty) */
} metrics_data;

/* ---- pairwise pass (silhouette.c) ---------------------------------------- */

typedef struct {
    long long sample;          /* 0 = all samples (exact); else a random subset of this size */
    unsigned long long seed;   /* for the subset; identical on every rank */
    int tile;                  /* rows per GEMM tile (0 = 256) */
} pairwise_options;

typedef struct {
    long long n;               /* samples that took part (T, or the subset size) */
    int nlabels;               /* distinct labels among them */
    double silhouette;         /* Euclidean, scikit-learn definition */
    double silhouette_cosine;  /* distance 1 - cos */
    double *inter;             /* (K, K) min distance between clusters a != b, diameter on the diagonal */
    double avg_inter_cluster_distance; /* mean of the K*K entries of inter over non-empty clusters */
    long long direct_pairs;    /* pairs recomputed by direct differences (near points), all ranks */
} pairwise_metrics;

/* Collective.  Computes every metric that needs all pairwise distances in
 * one pass: the data blocks travel round a ring of ranks and each pair of
 * blocks is computed once (symmetry).  DSC_ERR (agreed) unless
 * 2 <= labels <= samples - 1.  out->inter is allocated here. */
int pairwise_metrics_compute(MPI_Comm comm, const metrics_data *data, const pairwise_options *opt, pairwise_metrics *out);
void pairwise_metrics_destroy(pairwise_metrics *out);

/* ---- per-cluster sums (cluster_metrics.c, davies_bouldin.c) -------------- */

typedef struct {
    int k, d;
    long long ntotal;
    long long *sizes;          /* (K) members of each cluster over all ranks */
    double *centroids;         /* (K, D) */
    double rmse_mean;          /* eq. 11 */
    double avg_variance;       /* sum_k n_k var(flat members of k) / T */
    double davies_bouldin;
} cluster_metrics;

/* Collective: centroids, sizes, RMSE_mean, average variance and
 * Davies-Bouldin from per-cluster sums in double (MPI_Allreduce). */
int cluster_metrics_compute(MPI_Comm comm, const metrics_data *data, cluster_metrics *out);
void cluster_metrics_destroy(cluster_metrics *out);

/* Local, from the per-cluster quantities: scikit-learn's Davies-Bouldin.
 * scatter: (K) mean distance of members to their centroid; centroids (K, D);
 * empty clusters (sizes[k] == 0) are left out. */
double davies_bouldin_from_centroids(const double *scatter, const double *centroids, const long long *sizes, int k, int d);

/* ---- labellings (contingency.c) ----------------------------------------- */

/* Adjusted Rand index and normalised mutual information (arithmetic mean
 * normalisation, scikit-learn's default) of two labellings of n samples,
 * labels 0..ka-1 and 0..kb-1.  DSC_ERR only when out of memory. */
int contingency_scores(const int *a, int ka, const int *b, int kb, long long n, double *ari, double *nmi);

/* Maps arbitrary integer labels to 0..K-1 in increasing order of value
 * (like scikit-learn's LabelEncoder).  out may equal in.  Returns K, or -1
 * when out of memory. */
int metrics_encode_labels(int *out, const int *in, long long n);

#endif
