/*
 * clustering_persistent.c - the target and the labels of the clustering
 * layer along time (clustering_persistent.h).
 */
#include "clustering_persistent.h"
#include "clustering.h"
#include "partition.h"
#include "persistence.h"
#include "run_gather.h"
#include "status.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* cost (T, K) = -log q, q floored at the smallest normal double. */
static void neg_log(const double *q, long long T, int K, double *cost)
{
    for (size_t i = 0; i < (size_t)T * K; i++) cost[i] = -log(q[i] > 2.2250738585072014e-308 ? q[i] : 2.2250738585072014e-308);
}

int clustering_persistent_labels(const double *q, long long T, int K, regime_chain *c, int *labels)
{
    double *cost = dsc_malloc((size_t)T * K * sizeof(double) + 1, "costs of the labels along time");
    if (!cost) return DSC_ERR;
    neg_log(q, T, K, cost);
    if (c->penalty < 0) {
        double steps = c->switch_prob > 0 ? 1.0 / c->switch_prob : 1.0;
        c->penalty = persistence_lambda_for_run(cost, T, K, c->seg_start, c->nseg, steps, labels);
    }
    double v = isnan(c->penalty) ? NAN : persistence_decode(cost, T, K, c->seg_start, c->nseg, c->penalty, labels);
    free(cost);
    return isnan(v) ? dsc_fail("out of memory decoding the labels along time (%lld time steps, %d clusters)", T, K) : DSC_OK;
}

int clustering_persistent_target(double *p, long long T, int K, regime_chain *c, int *labels)
{
    if (clustering_persistent_labels(p, T, K, c, labels) != DSC_OK) return DSC_ERR;
    if (persistence_smooth(p, T, K, c->seg_start, c->nseg, c->switch_prob) != 0)
        return dsc_fail("out of memory smoothing the target along time (%lld time steps, %d clusters)", T, K);
    double *f = dsc_malloc((size_t)K * sizeof(double), "column sums");
    if (!f) return DSC_ERR;
    memset(f, 0, (size_t)K * sizeof(double));
    clustering_column_sums(f, p, T, K);
    clustering_target(p, p, f, T, K); /* row by row: each element read before it is written */
    free(f);
    return DSC_OK;
}

int clustering_persistent_labels_dist(MPI_Comm comm, const double *q, long long T, int K, regime_chain *c, int *labels)
{
    int rank, P;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &P);
    long long t0, n;
    block_range(T, P, rank, &t0, &n);
    double *all = dsc_malloc((size_t)T * K * sizeof(double) + 1, "soft assignments of all time steps");
    int *lab = dsc_malloc((size_t)T * sizeof(int) + 1, "labels of all time steps");
    int *counts = dsc_malloc(2 * (size_t)P * sizeof(int), "counts");
    int status = dsc_agree(comm, all && lab && counts ? DSC_OK : DSC_ERR);
    if (status == DSC_OK) {
        run_block_counts(T, P, K, counts, counts + P);
        MPI_Allgatherv(q, (int)(n * K), MPI_DOUBLE, all, counts, counts + P, MPI_DOUBLE, comm);
        status = dsc_agree(comm, clustering_persistent_labels(all, T, K, c, lab));
    }
    if (status == DSC_OK) memcpy(labels, lab + t0, (size_t)n * sizeof(int));
    free(all);
    free(lab);
    free(counts);
    return status;
}
