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
#include "json.h"
#include "labels.h"
#include "metrics.h"
#include "metrics_report.h"
#include "output_file.h"
#include "partition.h"
#include "pca.h"
#include "preprocess.h"
#include "run_common.h"
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

int ward_command(int argc, char **argv, MPI_Comm comm)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
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
    era5_options eo;
    preprocess_options po;
    long k = 0, seed = 1, sample = 0, npca = 0;
    double max_mib = 4096;
    const char *dir = status == DSC_OK ? cli_get(&cmd, "output") : NULL;
    if (status == DSC_OK) status = era5_options_from_cli(&cmd, &eo);
    if (status == DSC_OK) status = preprocess_options_from_cli(&cmd, &po);
    if (status == DSC_OK) status = cli_long(&cmd, "clusters", 2, 1000000, &k);
    if (status == DSC_OK) status = cli_long(&cmd, "seed", 0, 1L << 62, &seed);
    if (status == DSC_OK) status = cli_long(&cmd, "sample", 0, 1L << 40, &sample);
    if (status == DSC_OK) status = cli_long(&cmd, "pca", 0, 1000000, &npca);
    if (status == DSC_OK) status = cli_double(&cmd, "max-memory", 1e-6, 1e12, &max_mib);
    if (status == DSC_OK) status = run_check_sample("ward", sample, k);
    if (status == DSC_OK && !dir) status = dsc_fail("dsc ward: option -o DIR is required (the output folder)");
    if (status == DSC_OK && cmd.nargs == 0) status = dsc_fail("dsc ward: no input files; give the ERA5 netCDF files after the options");
    if (dsc_agree(comm, status) != DSC_OK) {
        cli_free(&cmd);
        return DSC_ERR;
    }
    double t_start = MPI_Wtime();
    run_input in;
    metrics_report rep;
    pca_result pr;
    int have_in = 0, have_rep = 0, have_pr = 0, kt = 0;
    int *labels_all = NULL, *truth = NULL;
    float *scores = NULL;
    double *centroids = NULL, *count = NULL;
    status = run_folder_spares(comm, dir, "ward", "--truth", cli_get(&cmd, "truth"));
    if (status == DSC_OK) status = run_folder_prepare(comm, dir, cli_flag(&cmd, "force"), "ward", cmd.args, cmd.nargs);
    if (status != DSC_OK) goto done;
    status = run_input_load(comm, cmd.args, cmd.nargs, &eo, &po, NULL, &in);
    if (status != DSC_OK) goto done;
    have_in = 1;
    const long long T = in.cat.ntime;
    const double max_bytes = max_mib * 1048576.0;
    long long t0, n;
    block_range(T, nranks, rank, &t0, &n);
    const int d = in.stats.nvars * in.stats.nlat * in.stats.nlon;
    const int dc = npca > 0 ? (int)npca : d; /* features clustered */
    if (k >= T) status = dsc_fail("dsc ward: -k %ld clusters for %lld time steps; give fewer clusters than time steps", k, T);
    else if (ward_matrix_bytes(T) > max_bytes)
        status = dsc_fail("dsc ward: %lld time steps need %.1f MiB for the distance matrix on rank 0 (T (T - 1) / 2 x 8 bytes), "
                          "more than --max-memory %g MiB (at most %lld time steps); use fewer time steps or raise --max-memory",
                          T, ward_matrix_bytes(T) / 1048576.0, max_mib, ward_max_rows(max_bytes));
    else if (npca > 0 && (npca > T - 1 || npca > d))
        status = dsc_fail("dsc ward: --pca %ld components for %lld time steps x %d features; choose at most %lld", npca, T, d,
                          T - 1 < d ? T - 1 : d);
    if (status == DSC_OK) {
        labels_all = dsc_malloc((size_t)T * sizeof(int), "labels");
        centroids = dsc_malloc((size_t)k * dc * sizeof(double), "centroids");
        count = dsc_malloc((size_t)k * sizeof(double), "cluster sizes");
        if (cli_get(&cmd, "truth")) truth = dsc_malloc((size_t)T * sizeof(int), "truth labels");
        if (npca > 0) scores = dsc_malloc(((size_t)n * npca + 1) * sizeof(float), "principal components");
        status = labels_all && centroids && count && (truth || !cli_get(&cmd, "truth")) && (scores || npca == 0) ? DSC_OK : DSC_ERR;
    }
    if ((status = dsc_agree(comm, status)) != DSC_OK) goto done;
    if (truth && (status = run_truth_load(comm, cli_get(&cmd, "truth"), &in.cat, eo.daily_mean, truth, &kt)) != DSC_OK) goto done;
    preprocess_unpad(&in.stats, in.x, n); /* the real cells */
    const float *xu = in.x;

    double t1 = MPI_Wtime(), t_pca = 0;
    const float *xc = xu; /* the matrix clustered */
    if (npca > 0) {
        pca_options pco = pca_defaults((int)npca);
        pco.seed = (uint64_t)seed;
        if ((status = pca_fit(comm, xu, n, d, &pco, &pr, scores)) != DSC_OK) goto done;
        have_pr = 1;
        xc = scores;
        t_pca = MPI_Wtime() - t1;
        t1 = MPI_Wtime();
    }
    if ((status = ward_fit(comm, xc, n, dc, (int)k, max_bytes, labels_all)) != DSC_OK) goto done;
    const int *labels = labels_all + t0;
    cluster_means(comm, xc, n, dc, labels, (int)k, centroids, count);
    double t2 = MPI_Wtime();
    metrics_data md = {.ntotal = T, .n = n, .d = d, .x = xu, .labels = labels, .k = (int)k};
    pairwise_options popt = {.sample = sample, .seed = (unsigned long long)seed, .tile = 0};
    status = metrics_report_compute(comm, &md, &popt, truth, kt, labels_all, &rep);
    if (status != DSC_OK) goto done;
    have_rep = 1;
    double t3 = MPI_Wtime();
    status = run_output_labels(comm, dir, &in.cat, labels_all, NULL, (int)k);
    if (status == DSC_OK) status = run_output_centroids(comm, dir, centroids, (int)k, dc, npca > 0 ? "pca" : "input");
    if (status == DSC_OK) status = run_output_composites(comm, dir, &in.cat, &in.samples, labels_all, (int)k);
    if (status == DSC_OK && npca > 0) status = run_output_eofs(comm, dir, &in.cat, pr.patterns, pr.variance, pr.ratio, (int)npca);
    if (status == DSC_OK && npca > 0)
        status = run_output_pcs(comm, dir, &in.cat, scores, t0, n, pr.variance, pr.ratio, (int)npca);
    if (status != DSC_OK) goto done;
    double t4 = MPI_Wtime();
    if (rank == 0) {
        char path[DSC_PATH_MAX];
        snprintf(path, sizeof path, "%s/metrics.json", dir);
        output_file out;
        status = output_file_open(&out, path, "w");
        if (status == DSC_OK) {
            FILE *f = out.f;
            json_begin_file();
            fprintf(f, "{\n  \"command\": \"ward\",\n  \"clusters\": %ld,\n  \"time_steps\": %lld,\n  \"ranks\": %d,\n", k, T, nranks);
            fprintf(f, "  \"anomalies\": %s,\n  \"linkage\": \"ward\",\n  \"distance_matrix_bytes\": ",
                    po.anomalies ? "true" : "false");
            json_write_key_number(f, ward_matrix_bytes(T), 0, "distance_matrix_bytes");
            fprintf(f, ",\n");
            if (npca > 0) pca_write_json(f, &pr, "  ");
            fprintf(f, "  \"metric_space\": \"input\",\n");
            metrics_report_write_json(f, &rep, "  ");
            const json_figure timings[] = {{"read", in.t_read, 4},    {"preprocess", in.t_preprocess, 4},
                                           {"pca", t_pca, 4},         {"ward", t2 - t1, 4},
                                           {"evaluation", t3 - t2, 4}, {"write", t4 - t3, 4}};
            fprintf(f, "  \"timings\": {");
            json_write_figures(f, timings, 6);
            fprintf(f, "}\n}\n");
            status = output_file_commit(&out);
        }
    }
    if ((status = dsc_agree(comm, status)) != DSC_OK) goto done;
    if (rank == 0 && !cli_flag(&cmd, "quiet")) {
        printf("dsc ward: %lld time steps x %d features, K = %ld; wrote %s in %.1f s\n", T, dc, k, dir, MPI_Wtime() - t_start);
        metrics_report_print(stdout, &rep, "dsc ward");
        fflush(stdout);
    }
done:
    if (have_rep) metrics_report_destroy(&rep);
    if (have_pr) pca_result_destroy(&pr);
    free(labels_all);
    free(truth);
    free(scores);
    free(centroids);
    free(count);
    if (have_in) run_input_destroy(&in);
    cli_free(&cmd);
    return status;
}
