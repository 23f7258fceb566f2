/*
 * kmeans_persistent.c - k-means with a penalty per switch along time
 * (kmeans_persistent.h): plain k-means, then alternations of the jump model's
 * dynamic programme (rank 0, on the gathered T x K distances) and the centroid
 * update (allreduced sums).
 */
#include "kmeans_persistent.h"
#include "persistence.h"
#include "status.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    MPI_Comm comm;
    int rank, nranks;
    long long n, total; /* rows here, rows in all */
    int d, k;
    int *counts, *displs; /* per rank, in rows x K (cost gather) and rows (label scatter) */
    int *rcounts, *rdispls;
    double *cost_local; /* (N, K) */
    double *cost;       /* (T, K) rank 0 */
    int *all_labels;    /* (T) rank 0 */
} jump_work;

static void jump_work_destroy(jump_work *w)
{
    free(w->counts);
    free(w->displs);
    free(w->rcounts);
    free(w->rdispls);
    free(w->cost_local);
    free(w->cost);
    free(w->all_labels);
}

static int jump_work_create(jump_work *w, MPI_Comm comm, long long n, int d, int k)
{
    memset(w, 0, sizeof *w);
    w->comm = comm;
    w->n = n;
    w->d = d;
    w->k = k;
    MPI_Comm_rank(comm, &w->rank);
    MPI_Comm_size(comm, &w->nranks);
    MPI_Allreduce(&n, &w->total, 1, MPI_LONG_LONG, MPI_SUM, comm);
    long long *rows = malloc(sizeof(long long) * (size_t)w->nranks);
    w->counts = malloc(sizeof(int) * (size_t)w->nranks);
    w->displs = malloc(sizeof(int) * (size_t)w->nranks);
    w->rcounts = malloc(sizeof(int) * (size_t)w->nranks);
    w->rdispls = malloc(sizeof(int) * (size_t)w->nranks);
    w->cost_local = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1) * (size_t)k);
    int status = rows && w->counts && w->displs && w->rcounts && w->rdispls && w->cost_local ? DSC_OK : DSC_ERR;
    if (status == DSC_OK && w->rank == 0) {
        w->cost = malloc(sizeof(double) * (size_t)w->total * (size_t)k);
        w->all_labels = malloc(sizeof(int) * (size_t)w->total);
        if (!w->cost || !w->all_labels) status = DSC_ERR;
    }
    if (status == DSC_OK && (double)w->total * k > 2147483647.0) status = DSC_ERR;
    if (status != DSC_OK) status = dsc_fail("out of memory for the %lld x %d distance matrix of --persistence", w->total, k);
    if (rows) MPI_Allgather(&n, 1, MPI_LONG_LONG, rows, 1, MPI_LONG_LONG, comm);
    long long at = 0;
    for (int r = 0; rows && w->counts && w->displs && w->rcounts && w->rdispls && r < w->nranks; r++) {
        w->rcounts[r] = (int)rows[r];
        w->rdispls[r] = (int)at;
        w->counts[r] = (int)(rows[r] * k);
        w->displs[r] = (int)(at * k);
        at += rows[r];
    }
    free(rows);
    if (dsc_agree(comm, status) != DSC_OK) {
        jump_work_destroy(w);
        return DSC_ERR;
    }
    return DSC_OK;
}

/* cost_local (N, K): squared distances in double, the same at any rank count. */
static void local_costs(jump_work *w, const float *x, const double *centroids)
{
#pragma omp parallel for schedule(static)
    for (long long i = 0; i < w->n; i++)
        for (int c = 0; c < w->k; c++) {
            double s = 0;
            for (int j = 0; j < w->d; j++) {
                double e = (double)x[i * w->d + j] - centroids[c * w->d + j];
                s += e * e;
            }
            w->cost_local[i * w->k + c] = s;
        }
}

/* Collective: the costs on rank 0, decoded there (lambda chosen first when
 * asked), labels scattered back.  Returns the objective on every rank. */
static double decode(jump_work *w, const float *x, const double *centroids, const persistence_options *p, double *lambda,
                     int choose, int *labels)
{
    local_costs(w, x, centroids);
    MPI_Gatherv(w->cost_local, (int)(w->n * w->k), MPI_DOUBLE, w->cost, w->counts, w->displs, MPI_DOUBLE, 0, w->comm);
    double objective = 0;
    if (w->rank == 0) {
        if (choose)
            *lambda = persistence_lambda_for_run(w->cost, w->total, w->k, p->seg_start, p->nseg, p->target_steps,
                                                 w->all_labels);
        objective = persistence_decode(w->cost, w->total, w->k, p->seg_start, p->nseg, *lambda, w->all_labels);
    }
    MPI_Bcast(lambda, 1, MPI_DOUBLE, 0, w->comm);
    MPI_Bcast(&objective, 1, MPI_DOUBLE, 0, w->comm);
    MPI_Scatterv(w->all_labels, w->rcounts, w->rdispls, MPI_INT, labels, (int)w->n, MPI_INT, 0, w->comm);
    return objective;
}

/* Collective: centroids (K, D) = means of their rows; an empty cluster keeps its centroid. */
static int update_centroids(jump_work *w, const float *x, const int *labels, double *centroids)
{
    size_t kd = (size_t)w->k * w->d;
    double *sums = calloc(kd + (size_t)w->k, sizeof *sums);
    int status = sums ? DSC_OK : dsc_fail("out of memory for the centroids of --persistence");
    if (dsc_agree(w->comm, status) != DSC_OK) {
        free(sums);
        return DSC_ERR;
    }
    double *count = sums + kd;
    for (long long i = 0; i < w->n; i++) {
        count[labels[i]] += 1;
        for (int j = 0; j < w->d; j++) sums[(size_t)labels[i] * w->d + j] += x[i * w->d + j];
    }
    MPI_Allreduce(MPI_IN_PLACE, sums, (int)(kd + (size_t)w->k), MPI_DOUBLE, MPI_SUM, w->comm);
    for (int c = 0; c < w->k; c++)
        if (count[c] > 0)
            for (int j = 0; j < w->d; j++) centroids[c * w->d + j] = sums[c * w->d + j] / count[c];
    free(sums);
    return DSC_OK;
}

/* Collective: squared distances of the rows to their centroids, and the switches. */
static void final_scores(jump_work *w, const int *labels, const persistence_options *p, kmeans_result *res,
                         persistence_result *pres)
{
    double inertia = 0;
    for (long long i = 0; i < w->n; i++) inertia += w->cost_local[i * w->k + labels[i]];
    MPI_Allreduce(MPI_IN_PLACE, &inertia, 1, MPI_DOUBLE, MPI_SUM, w->comm);
    res->inertia = inertia;
    long long switches = 0;
    if (w->rank == 0) {
        double runs = (double)w->total / persistence_mean_run(w->all_labels, w->total, p->seg_start, p->nseg);
        switches = llround(runs) - (p->nseg > 0 ? p->nseg : 1);
    }
    MPI_Bcast(&switches, 1, MPI_LONG_LONG, 0, w->comm);
    pres->switches = switches;
    pres->objective = inertia + pres->lambda * (double)switches;
}

int kmeans_fit_persistent(MPI_Comm comm, const float *x, long long n, int d, const kmeans_options *opt,
                          const persistence_options *popt, kmeans_result *res, int *labels, persistence_result *pres)
{
    memset(pres, 0, sizeof *pres);
    if (kmeans_fit(comm, x, n, d, opt, res, labels) != DSC_OK) return DSC_ERR;
    if (popt->lambda == 0 && !(popt->target_steps > 0)) { /* no penalty: plain k-means, exactly */
        pres->objective = res->inertia;
        return DSC_OK;
    }
    jump_work w;
    if (jump_work_create(&w, comm, n, d, opt->k) != DSC_OK) {
        kmeans_result_destroy(res);
        return DSC_ERR;
    }
    int *previous = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    if (dsc_agree(comm, previous ? DSC_OK : dsc_fail("out of memory for the labels of --persistence")) != DSC_OK) {
        jump_work_destroy(&w);
        kmeans_result_destroy(res);
        free(previous);
        return DSC_ERR;
    }
    pres->lambda = popt->lambda;
    int choose = popt->target_steps > 0, status = DSC_OK, converged = 0;
    for (int it = 0; it < popt->max_iter; it++) {
        memcpy(previous, labels, sizeof(int) * (size_t)n);
        decode(&w, x, res->centroids, popt, &pres->lambda, choose && it == 0, labels);
        pres->iterations = it + 1;
        int changed = memcmp(previous, labels, sizeof(int) * (size_t)n) != 0;
        MPI_Allreduce(MPI_IN_PLACE, &changed, 1, MPI_INT, MPI_LOR, comm);
        if ((converged = !changed && it > 0)) break;
        if ((status = update_centroids(&w, x, labels, res->centroids)) != DSC_OK) break;
    }
    if (status == DSC_OK) {
        /* cut short: the labels of the last centroids (converged: they are already) */
        if (!converged) decode(&w, x, res->centroids, popt, &pres->lambda, 0, labels);
        final_scores(&w, labels, popt, res, pres);
    }
    free(previous);
    jump_work_destroy(&w);
    if (status != DSC_OK) kmeans_result_destroy(res);
    return status;
}
