/*
 * cmd_kmeans.c - dsc kmeans: the baseline of the paper's Table 2 and the
 * climate-science standard for weather regimes (with --anomalies): k-means
 * on the normalised input matrix of the grid's real cells, distributed over
 * the ranks (kmeans.c), with the same output files as dsc train.
 * With --pca N the matrix is first truncated to its N leading EOFs (pca.c)
 * and k-means runs on the principal components (the "EOF + k-means"
 * weather-regime method); eofs.nc and pcs.nc are written too.  With
 * --cosine every row (time step) is centred and scaled to unit length first, so that
 * k-means groups days by the pattern of their anomaly, not its intensity.
 *
 *   mpirun -n 4 dsc kmeans -k 7 --anomalies --pca 10 -o km era5_*.nc
 */
#include "commands.h"
#include "cli.h"
#include "json.h"
#include "kmeans.h"
#include "labels.h"
#include "metrics.h"
#include "metrics_report.h"
#include "output_file.h"
#include "pca.h"
#include "partition.h"
#include "preprocess.h"
#include "run_common.h"
#include "run_output.h"
#include "status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cli_option kmeans_options_table[] = {
    ERA5_CLI_OPTIONS,
    PREPROCESS_CLI_OPTIONS,
    {"clusters", 'k', "K", "7", "number of clusters"},
    {"output", 'o', "DIR", NULL, "output folder (required): labels.csv, labels.nc, centroids.nc, composites.nc, metrics.json"},
    {"seed", 0, "N", "1", "seed of the initialisation"},
    {"init", 0, "k-means++|random", "k-means++", "initialisation of every restart"},
    {"n-init", 0, "N", "10", "restarts; the one with the lowest inertia is kept"},
    {"max-iter", 0, "N", "300", "Lloyd iterations per restart at most"},
    {"tol", 0, "T", "1e-4", "stop when the centroid shift is below T times the mean feature variance"},
    {"pca", 0, "N", "0", "k-means on the N leading principal components (EOF truncation; 0: on the full matrix); writes eofs.nc, pcs.nc"},
    {"cosine", 0, NULL, NULL, "centre every time step's row (after --pca: its components) and scale it to unit length first: days grouped "
                              "by the pattern of their anomaly, not its intensity"},
    RUN_CLI_OPTIONS,
};

/* out = every row of x (n, d) minus the mean row of all T time steps (the
 * scaled inputs are not centred: min-max scaling puts them in [0, 1]),
 * divided by its Euclidean length; a zero row stays zero.  The mean is
 * summed over the ranks; the rows (time steps) are whole on their rank. */
static int unit_rows(MPI_Comm comm, float *out, const float *x, long long n, long long T, int d)
{
    double *mean = dsc_calloc((size_t)d, sizeof(double), "column means"); /* (d) */
    if (dsc_agree(comm, mean ? DSC_OK : DSC_ERR) != DSC_OK) {
        free(mean);
        return DSC_ERR;
    }
    for (long long i = 0; i < n; i++)
        for (int j = 0; j < d; j++) mean[j] += x[(size_t)i * d + j];
    MPI_Allreduce(MPI_IN_PLACE, mean, d, MPI_DOUBLE, MPI_SUM, comm);
    for (int j = 0; j < d; j++) mean[j] /= (double)T;
    for (long long i = 0; i < n; i++) {
        const float *r = x + (size_t)i * d;
        double ss = 0.0;
        for (int j = 0; j < d; j++) ss += (r[j] - mean[j]) * (r[j] - mean[j]);
        double inv = ss > 0.0 ? 1.0 / sqrt(ss) : 0.0;
        for (int j = 0; j < d; j++) out[(size_t)i * d + j] = (float)((r[j] - mean[j]) * inv);
    }
    free(mean);
    return DSC_OK;
}

int kmeans_command(int argc, char **argv, MPI_Comm comm)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    cli_command cmd = {
        .command = "kmeans",
        .usage = "-k K -o DIR [OPTIONS] FILES...",
        .summary = "k-means on the normalised input matrix (real grid cells; with --anomalies the usual weather-regime "
                   "method), distributed over the ranks; writes the same label files as dsc train and the eval metrics.",
        .options = kmeans_options_table,
        .noptions = (int)(sizeof kmeans_options_table / sizeof kmeans_options_table[0]),
    };
    int status = cli_parse(&cmd, argc, argv, rank);
    if (status == CLI_HELP) {
        cli_free(&cmd);
        return CLI_HELP;
    }
    era5_options eo;
    preprocess_options po;
    long k = 0, seed = 1, ninit = 10, maxit = 300, sample = 0, npca = 0;
    double tol = 1e-4;
    kmeans_init init = KMEANS_INIT_PLUSPLUS;
    const char *dir = status == DSC_OK ? cli_get(&cmd, "output") : NULL;
    if (status == DSC_OK) status = era5_options_from_cli(&cmd, &eo);
    if (status == DSC_OK) status = preprocess_options_from_cli(&cmd, &po);
    if (status == DSC_OK) status = cli_long(&cmd, "clusters", 2, 1000000, &k);
    if (status == DSC_OK) status = cli_long(&cmd, "seed", 0, 1L << 62, &seed);
    if (status == DSC_OK) status = cli_long(&cmd, "n-init", 1, 100000, &ninit);
    if (status == DSC_OK) status = cli_long(&cmd, "max-iter", 1, 1L << 30, &maxit);
    if (status == DSC_OK) status = cli_long(&cmd, "sample", 0, 1L << 40, &sample);
    if (status == DSC_OK) status = cli_long(&cmd, "pca", 0, 1000000, &npca);
    if (status == DSC_OK) status = run_check_sample("kmeans", sample, k);
    if (status == DSC_OK) status = cli_double(&cmd, "tol", 0, 1e6, &tol);
    if (status == DSC_OK && kmeans_init_parse(cli_get(&cmd, "init"), &init) != DSC_OK) {
        dsc_clear();
        status = dsc_fail("dsc kmeans: option --init: '%s' is not k-means++ or random", cli_get(&cmd, "init"));
    }
    if (status == DSC_OK && !dir) status = dsc_fail("dsc kmeans: option -o DIR is required (the output folder)");
    if (status == DSC_OK && cmd.nargs == 0) status = dsc_fail("dsc kmeans: no input files; give the ERA5 netCDF files after the options");
    if (dsc_agree(comm, status) != DSC_OK) {
        cli_free(&cmd);
        return DSC_ERR;
    }
    double t_start = MPI_Wtime();
    run_input in;
    metrics_report rep;
    kmeans_result kr;
    pca_result pr;
    int have_in = 0, have_rep = 0, have_kr = 0, have_pr = 0, kt = 0;
    int *labels = NULL, *labels_all = NULL, *truth = NULL;
    float *scores = NULL, *unit = NULL;
    const int cosine = cli_flag(&cmd, "cosine");
    status = run_folder_spares(comm, dir, "kmeans", "--truth", cli_get(&cmd, "truth"));
    if (status == DSC_OK) status = run_folder_prepare(comm, dir, cli_flag(&cmd, "force"), "kmeans", cmd.args, cmd.nargs);
    if (status != DSC_OK) goto done;
    status = run_input_load(comm, cmd.args, cmd.nargs, &eo, &po, NULL, &in);
    if (status != DSC_OK) goto done;
    have_in = 1;
    const long long T = in.cat.ntime;
    long long t0, n;
    block_range(T, nranks, rank, &t0, &n);
    if (k >= T) status = dsc_fail("dsc kmeans: -k %ld clusters for %lld time steps; give fewer clusters than time steps", k, T);
    const int d = in.stats.nvars * in.stats.nlat * in.stats.nlon;
    if (status == DSC_OK && npca > 0 && (npca > T - 1 || npca > d))
        status = dsc_fail("dsc kmeans: --pca %ld components for %lld time steps x %d features; choose at most %lld", npca, T, d,
                          T - 1 < d ? T - 1 : d);
    if (status == DSC_OK) {
        labels = dsc_malloc(((size_t)n + 1) * sizeof(int), "labels");
        labels_all = dsc_malloc((size_t)T * sizeof(int), "labels");
        if (cli_get(&cmd, "truth")) truth = dsc_malloc((size_t)T * sizeof(int), "truth labels");
        if (npca > 0) scores = dsc_malloc(((size_t)n * npca + 1) * sizeof(float), "principal components");
        if (cosine) unit = dsc_malloc(((size_t)n * (npca > 0 ? npca : d) + 1) * sizeof(float), "unit-length rows");
        status = labels && labels_all && (truth || !cli_get(&cmd, "truth")) && (scores || npca == 0) && (unit || !cosine)
                     ? DSC_OK : DSC_ERR;
    }
    if ((status = dsc_agree(comm, status)) != DSC_OK) goto done;
    if (truth && (status = run_truth_load(comm, cli_get(&cmd, "truth"), &in.cat, eo.daily_mean, truth, &kt)) != DSC_OK) goto done;
    preprocess_unpad(&in.stats, in.x, n); /* k-means works on the real cells */
    const float *xu = in.x;

    double t1 = MPI_Wtime(), t_pca = 0;
    const float *xk = xu; /* the matrix k-means clusters */
    int dk = d;
    if (npca > 0) {
        pca_options pco = pca_defaults((int)npca);
        pco.seed = (uint64_t)seed;
        if ((status = pca_fit(comm, xu, n, d, &pco, &pr, scores)) != DSC_OK) goto done;
        have_pr = 1;
        xk = scores;
        dk = (int)npca;
        t_pca = MPI_Wtime() - t1;
        t1 = MPI_Wtime();
    }
    if (cosine) {
        if ((status = unit_rows(comm, unit, xk, n, T, dk)) != DSC_OK) goto done;
        xk = unit;
    }
    kmeans_options ko = kmeans_defaults((int)k);
    ko.init = init;
    ko.n_init = (int)ninit;
    ko.max_iter = (int)maxit;
    ko.tol = tol;
    ko.seed = (uint64_t)seed;
    status = kmeans_fit(comm, xk, n, dk, &ko, &kr, labels);
    if (status != DSC_OK) goto done;
    have_kr = 1;
    double t2 = MPI_Wtime();
    run_allgather_ints(comm, labels, T, labels_all);
    metrics_data md = {.ntotal = T, .n = n, .d = d, .x = xu, .labels = labels, .k = (int)k};
    pairwise_options popt = {.sample = sample, .seed = (unsigned long long)seed, .tile = 0};
    status = metrics_report_compute(comm, &md, &popt, truth, kt, labels_all, &rep);
    if (status != DSC_OK) goto done;
    have_rep = 1;
    double t3 = MPI_Wtime();
    status = run_output_labels(comm, dir, &in.cat, labels_all, NULL, (int)k);
    const char *space = npca > 0 ? (cosine ? "pca-unit" : "pca") : (cosine ? "unit" : "input");
    if (status == DSC_OK) status = run_output_centroids(comm, dir, kr.centroids, (int)k, dk, space);
    if (status == DSC_OK && npca > 0) status = run_output_eofs(comm, dir, &in.cat, pr.patterns, pr.variance, pr.ratio, (int)npca);
    if (status == DSC_OK && npca > 0)
        status = run_output_pcs(comm, dir, &in.cat, scores, t0, n, pr.variance, pr.ratio, (int)npca);
    if (status == DSC_OK) status = run_output_composites(comm, dir, &in.cat, &in.samples, labels_all, (int)k);
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
            fprintf(f, "{\n  \"command\": \"kmeans\",\n  \"clusters\": %ld,\n  \"time_steps\": %lld,\n  \"ranks\": %d,\n", k, T, nranks);
            fprintf(f, "  \"anomalies\": %s,\n  \"cosine\": %s,\n  \"init\": \"%s\",\n  \"n_init\": %ld,\n  \"inertia\": ",
                    po.anomalies ? "true" : "false", cosine ? "true" : "false", cli_get(&cmd, "init"), ninit);
            json_write_key_number(f, kr.inertia, -1, "inertia");
            fprintf(f, ",\n  \"iterations\": %d,\n", kr.iterations);
            if (npca > 0) pca_write_json(f, &pr, "  ");
            fprintf(f, "  \"metric_space\": \"input\",\n");
            metrics_report_write_json(f, &rep, "  ");
            const json_figure timings[] = {{"read", in.t_read, 4},    {"preprocess", in.t_preprocess, 4},
                                           {"pca", t_pca, 4},         {"kmeans", t2 - t1, 4},
                                           {"evaluation", t3 - t2, 4}, {"write", t4 - t3, 4}};
            fprintf(f, "  \"timings\": {");
            json_write_figures(f, timings, 6);
            fprintf(f, "}\n}\n");
            status = output_file_commit(&out);
        }
    }
    if ((status = dsc_agree(comm, status)) != DSC_OK) goto done;
    if (rank == 0 && !cli_flag(&cmd, "quiet")) {
        printf("dsc kmeans: %lld time steps x %d features, K = %ld, inertia %.6g (%d iterations); wrote %s in %.1f s\n", T, d, k,
               kr.inertia, kr.iterations, dir, MPI_Wtime() - t_start);
        metrics_report_print(stdout, &rep, "dsc kmeans");
        fflush(stdout);
    }
done:
    if (have_rep) metrics_report_destroy(&rep);
    if (have_kr) kmeans_result_destroy(&kr);
    if (have_pr) pca_result_destroy(&pr);
    free(scores);
    free(unit);
    free(labels);
    free(labels_all);
    free(truth);
    if (have_in) run_input_destroy(&in);
    cli_free(&cmd);
    return status;
}
