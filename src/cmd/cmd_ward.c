/*
 * cmd_ward.c - dsc ward: the "hierarchical" baseline of the paper's Table 2,
 * agglomerative clustering with Ward's linkage (ward.c) on the normalised
 * input matrix of the grid's real cells, optionally on its N leading
 * principal components (--pca N, pca.c), with the same output files as
 * dsc kmeans.  All ranks compute the distances; rank 0 holds the condensed
 * T (T - 1) / 2 distance matrix and builds the tree, so the number of time
 * steps is bounded by --max-memory.
 *
 *   mpirun -n 4 dsc ward -k 7 --anomalies --pca 10 -o ward era5_*.nc
 */
#include "commands.h"
#include "cli.h"
#include "eof_step.h"
#include "preprocess.h"
#include "run_options.h"
#include "run_output.h"
#include "status.h"
#include "ward.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cli_option ward_options_table[] = {
    ERA5_CLI_OPTIONS,
    PREPROCESS_CLI_OPTIONS,
    {"clusters", 'k', "K", "7", "number of clusters"},
    {"output", 'o', "DIR", NULL, "output folder (required): labels.csv, labels.nc, centroids.nc, composites.nc, metrics.json"},
    {"pca", 0, "N", "0", "cluster the N leading principal components (EOF truncation; 0: the full matrix); writes eofs.nc, pcs.nc"},
    {"seed", 0, "N", "1", "seed of the random start of the PCA"},
    {"max-memory", 0, "MIB", "4096",
     "limit of the distance matrix on rank 0, T (T - 1) / 2 x 8 bytes: 4096 MiB hold 32768 time steps, 1024 MiB 16384; "
     "more time steps are refused"},
    RUN_CLI_OPTIONS,
};

/* Collective: centroids (K, D) = the mean of the rows x (N, D) of every
 * cluster (labels (N) of these rows), identical on every rank. */
static void cluster_means(MPI_Comm comm, const float *x, long long n, int d, const int *labels, int k, double *centroids,
                          double *count)
{
    memset(centroids, 0, (size_t)k * d * sizeof(double));
    memset(count, 0, (size_t)k * sizeof(double));
    for (long long i = 0; i < n; i++) {
        double *c = centroids + (size_t)labels[i] * d;
        for (int f = 0; f < d; f++) c[f] += x[i * d + f];
        count[labels[i]] += 1.0;
    }
    MPI_Allreduce(MPI_IN_PLACE, centroids, k * d, MPI_DOUBLE, MPI_SUM, comm);
    MPI_Allreduce(MPI_IN_PLACE, count, k, MPI_DOUBLE, MPI_SUM, comm);
    for (int c = 0; c < k; c++)
        for (int f = 0; f < d; f++) centroids[(size_t)c * d + f] /= count[c] > 0 ? count[c] : 1.0;
}

/* What dsc_ward computes, for its outputs and metrics.json. */
typedef struct {
    const ward_params *p;
    int dc;                        /* features clustered: pca or d */
    eof_step eof;                  /* --pca */
    double *centroids, *count;     /* (K, dc), (K) */
    double t_ward;
} ward_work;

/* run_method.prepare: the limits of -k, the distance matrix and --pca
 * against the data, and the buffers. */
static int ward_prepare(run_state *r, void *ctx)
{
    ward_work *w = ctx;
    const ward_params *p = w->p;
    const long long T = r->T;
    const int d = r->d;
    const double max_bytes = p->max_mib * 1048576.0;
    int status = DSC_OK;
    w->dc = p->pca > 0 ? (int)p->pca : d;
    if (p->k >= T) status = dsc_fail("dsc ward: -k %ld clusters for %lld time steps; give fewer clusters than time steps", p->k, T);
    else if (ward_matrix_bytes(T) > max_bytes)
        status = dsc_fail("dsc ward: %lld time steps need %.1f MiB for the distance matrix on rank 0 (T (T - 1) / 2 x 8 bytes), "
                          "more than --max-memory %g MiB (at most %lld time steps); use fewer time steps or raise --max-memory",
                          T, ward_matrix_bytes(T) / 1048576.0, p->max_mib, ward_max_rows(max_bytes));
    else if (p->pca > 0 && (p->pca > T - 1 || p->pca > d))
        status = dsc_fail("dsc ward: --pca %ld components for %lld time steps x %d features; choose at most %lld", p->pca, T, d,
                          T - 1 < d ? T - 1 : d);
    if (status == DSC_OK) {
        w->centroids = dsc_malloc((size_t)p->k * w->dc * sizeof(double), "centroids");
        w->count = dsc_malloc((size_t)p->k * sizeof(double), "cluster sizes");
        status = eof_alloc(&w->eof, r, p->pca);
        if (!w->centroids || !w->count) status = DSC_ERR;
    }
    return dsc_agree(r->comm, status);
}

/* run_method.cluster: [PCA,] Ward's tree of the real cells into
 * r->labels_all and the centroids of its clusters. */
static int ward_cluster(run_state *r, void *ctx)
{
    ward_work *w = ctx;
    const ward_params *p = w->p;
    const float *xc; /* the matrix clustered */
    int status = eof_fit(&w->eof, r, p->seed, &xc, &w->dc);
    if (status != DSC_OK) return status;
    double t1 = MPI_Wtime();
    status = ward_fit(r->comm, xc, r->n, w->dc, (int)p->k, p->max_mib * 1048576.0, r->labels_all);
    if (status != DSC_OK) return status;
    cluster_means(r->comm, xc, r->n, w->dc, r->labels_all + r->t0, (int)p->k, w->centroids, w->count);
    w->t_ward = MPI_Wtime() - t1;
    return DSC_OK;
}

/* run_finish_spec.outputs: centroids.nc, and with --pca eofs.nc and pcs.nc. */
static int ward_outputs(run_state *r, const char *dir, void *ctx)
{
    const ward_work *w = ctx;
    const long pca = w->p->pca;
    int status = run_output_centroids(r->comm, dir, w->centroids, (int)w->p->k, w->dc, pca > 0 ? "pca" : "input");
    return status == DSC_OK ? eof_write(&w->eof, r, dir) : status;
}

/* run_finish_spec.json: the keys of Ward in metrics.json. */
static void ward_json(FILE *f, const run_state *r, void *ctx)
{
    const ward_work *w = ctx;
    fprintf(f, "  \"anomalies\": %s,\n  \"linkage\": \"ward\",\n  \"distance_matrix_bytes\": ",
            r->p->po.anomalies ? "true" : "false");
    json_write_key_number(f, ward_matrix_bytes(r->T), 0, "distance_matrix_bytes");
    fprintf(f, ",\n");
    eof_json(&w->eof, f);
}

/* run_method.finish: what run_finish adds for Ward. */
static void ward_finish(const run_state *r, void *ctx, run_finish_spec *s)
{
    ward_work *w = ctx;
    const ward_params *p = w->p;
    *s = (run_finish_spec){.k = (int)p->k, .labels = NULL, .seed = (uint64_t)p->seed, .outputs = ward_outputs,
                           .json = ward_json, .ctx = w, .nphases = 2,
                           .phases = {{"pca", w->eof.seconds, 4}, {"ward", w->t_ward, 4}}};
    snprintf(s->summary, sizeof s->summary, "%lld time steps x %d features, K = %ld", r->T, w->dc, p->k);
}

int dsc_ward(MPI_Comm comm, const ward_params *p)
{
    static const run_method method = {ward_prepare, ward_cluster, ward_finish};
    ward_work w = {.p = p};
    int status = run_clustering(comm, &p->run, &method, &w);
    eof_free(&w.eof);
    free(w.centroids);
    free(w.count);
    return status;
}

/* The defaults of ward_options_table. */
ward_params ward_params_default(void)
{
    ward_params p = {.k = 7, .seed = 1, .pca = 0, .max_mib = 4096};
    p.run.command = "ward";
    return p;
}

/* Local: the options of the command line into p. */
static int ward_params_from_cli(const cli_command *cmd, ward_params *p)
{
    *p = ward_params_default();
    int status = run_params_from_cli(cmd, "ward", 1, &p->run);
    if (status == DSC_OK) status = cli_long(cmd, "clusters", 2, 1000000, &p->k);
    if (status == DSC_OK) status = cli_long(cmd, "seed", 0, 1L << 62, &p->seed);
    if (status == DSC_OK) status = cli_long(cmd, "sample", 0, 1L << 40, &p->run.sample);
    if (status == DSC_OK) status = cli_long(cmd, "pca", 0, 1000000, &p->pca);
    if (status == DSC_OK) status = cli_double(cmd, "max-memory", 1e-6, 1e12, &p->max_mib);
    if (status == DSC_OK) status = run_check_sample("ward", p->run.sample, p->k);
    if (status == DSC_OK) status = run_params_require(&p->run);
    return status;
}

int ward_command(int argc, char **argv, MPI_Comm comm)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    cli_command cmd = {
        .command = "ward",
        .usage = "-k K -o DIR [OPTIONS] FILES...",
        .summary = "agglomerative clustering with Ward's linkage (exact; scikit-learn's AgglomerativeClustering) of the "
                   "normalised input matrix or its leading principal components; distances from all ranks, the tree on "
                   "rank 0, which holds T (T - 1) / 2 doubles (--max-memory); writes the same files as dsc kmeans.",
        .options = ward_options_table,
        .noptions = (int)(sizeof ward_options_table / sizeof ward_options_table[0]),
    };
    int status = cli_parse(&cmd, argc, argv, rank);
    if (status == CLI_HELP) {
        cli_free(&cmd);
        return CLI_HELP;
    }
    ward_params p;
    if (status == DSC_OK) status = ward_params_from_cli(&cmd, &p);
    if (dsc_agree(comm, status) == DSC_OK) status = dsc_ward(comm, &p);
    else status = DSC_ERR;
    cli_free(&cmd);
    return status;
}
