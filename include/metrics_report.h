/*
 * metrics_report.h - the clustering metrics every command reports (dsc
 * eval, train, kmeans): computed once from distributed rows, written as
 * members of a JSON object and printed as a table, so metrics.json has the
 * same keys whichever command wrote it.
 *
 *   metrics_report r;
 *   if (metrics_report_compute(comm, &data, &popt, truth, kt, labels, &r) == DSC_OK) {
 *       if (rank == 0) {
 *           json_begin_file();
 *           fprintf(f, "{\n  \"command\": \"train\",\n");
 *           metrics_report_write_json(f, &r, "  ");   // metric keys, each line ends ",\n"
 *           fprintf(f, "  \"ranks\": %d\n}\n", nranks);
 *       }
 *       metrics_report_destroy(&r);
 *   }
 *
 * Keys written: silhouette, silhouette_cosine, sampled (with --sample),
 * davies_bouldin, rmse_mean, avg_variance, avg_inter_cluster_distance,
 * inter_cluster_distance (K x K), cluster_sizes, ari and nmi (with a
 * reference labelling), n_samples, n_features, n_clusters.  A number that
 * is not finite (a metric that could not be computed, e.g. the distances
 * of an empty cluster) is written as null, with one warning per file
 * (json.h: the caller starts each file with json_begin_file), so the file
 * is always valid JSON.
 *
 * Dimension letters: T samples over all ranks, N here, D features, K clusters.
 */
#ifndef DSC_METRICS_REPORT_H
#define DSC_METRICS_REPORT_H

#include <mpi.h>
#include <stdio.h>

#include "metrics.h"

typedef struct {
    pairwise_metrics pm;       /* silhouettes, inter-cluster matrix */
    cluster_metrics cm;        /* sizes, centroids, RMSE_mean, variance, Davies-Bouldin */
    int has_truth;             /* ari and nmi are set */
    double ari, nmi;
    long long T;               /* samples over all ranks */
    int d, k;                  /* features, clusters */
    long long sampled;         /* size of the silhouette subset; 0 = exact */
    double t_pairwise, t_cluster, t_contingency; /* seconds */
} metrics_report;

/* Collective: every metric of data (rows of this rank, labels 0..K-1).
 * popt may be NULL (exact).  truth (T, labels 0..kt-1) and labels_all (T)
 * hold all time steps on every rank; truth NULL: no ARI / NMI.  DSC_ERR
 * agreed; r needs no destroy then. */
int metrics_report_compute(MPI_Comm comm, const metrics_data *data, const pairwise_options *popt, const int *truth, int kt,
                           const int *labels_all, metrics_report *r);

/* The metric keys as members of an enclosing JSON object, one per line,
 * each line starting with indent and ending with ",\n" (the caller adds its
 * own keys and closes the object).  Warns once per file (json.h) when a
 * number is not finite. */
void metrics_report_write_json(FILE *f, const metrics_report *r, const char *indent);

/* A string as JSON, with quotes and escapes. */
void metrics_json_string(FILE *f, const char *s);

/* The table of metrics for a terminal, headed "command: T samples x D
 * features, K clusters". */
void metrics_report_print(FILE *f, const metrics_report *r, const char *command);

void metrics_report_destroy(metrics_report *r);

/* The K x K inter-cluster matrix is written to JSON only up to this many
 * clusters (65,536 numbers, about 1.3 MB); above it the key is null, as the
 * matrix would dwarf every other figure (K = 2000: 80 MB). */
#define METRICS_JSON_MAX_MATRIX 256

/* Bytes one rank holds while metrics_report_compute runs on T samples of D
 * features in K clusters (a reference labelling of KT clusters, 0: none) on
 * P ranks with `threads` OpenMP threads each and a --sample of m (0: all):
 * the centred copy of the rows, the travelling blocks, the tiles, the
 * per-sample and per-cluster distance sums and the K x K matrices.  Not
 * counted: the caller's own data matrix.  *whole receives the part every
 * rank holds in full whatever P (K x K matrices, centroids, the contingency
 * table, the T labels), which more ranks cannot reduce. */
double metrics_report_bytes(long long T, int d, int k, int kt, int P, int threads, long long m, double *whole);

#endif
