/*
 * cmd_predict.c - dsc predict: label other years with a trained model.
 *
 *   mpirun -n 4 dsc predict -m run1/model.ckpt -o pred era5_2021.nc era5_2022.nc
 *
 * The checkpoint of dsc train holds the network, the centroid matrix, the
 * normalisation statistics of the training data (min/max, climatology) and
 * the Student-t alpha: the new files are normalised exactly as the training
 * data were, encoded (latent_pass.h) and assigned (eq. 3).  The variables
 * are matched to the model's by name and read in its order; their units and
 * the grid's coordinates are checked (model_inputs.h).  A checkpoint of a
 * run stopped during pre-training (no centroids yet) is refused.  Writes
 * labels.csv, labels.nc (with q), latent.nc, composites.nc and metrics.json.
 */
#include "commands.h"
#include "checkpoint.h"
#include "cli.h"
#include "clustering.h"
#include "json.h"
#include "labels.h"
#include "latent_pass.h"
#include "metrics.h"
#include "metrics_report.h"
#include "model.h"
#include "model_inputs.h"
#include "output_file.h"
#include "partition.h"
#include "preprocess.h"
#include "run_common.h"
#include "run_output.h"
#include "status.h"
#include "train_state_header.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cli_option predict_options[] = {
    ERA5_CLI_OPTIONS,
    {"model", 'm', "FILE", NULL, "model.ckpt written by dsc train (required)"},
    {"output", 'o', "DIR", NULL, "output folder (required)"},
    RUN_CLI_OPTIONS,
};

int predict_command(int argc, char **argv, MPI_Comm comm)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    cli_command cmd = {
        .command = "predict",
        .usage = "-m model.ckpt -o DIR [OPTIONS] FILES...",
        .summary = "Label the time steps of other ERA5 files with the clusters of a trained model (its normalisation, "
                   "encoder and centroids); the files must hold the model's variables (matched by name, in any order) "
                   "in the same units on the grid of the training data.",
        .options = predict_options,
        .noptions = (int)(sizeof predict_options / sizeof predict_options[0]),
    };
    int status = cli_parse(&cmd, argc, argv, rank);
    if (status == CLI_HELP) {
        cli_free(&cmd);
        return CLI_HELP;
    }
    era5_options eo;
    long sample = 0;
    const char *dir = status == DSC_OK ? cli_get(&cmd, "output") : NULL, *mpath = status == DSC_OK ? cli_get(&cmd, "model") : NULL;
    if (status == DSC_OK) status = era5_options_from_cli(&cmd, &eo);
    if (status == DSC_OK) status = cli_long(&cmd, "sample", 0, 1L << 40, &sample);
    if (status == DSC_OK && !mpath) status = dsc_fail("dsc predict: option -m FILE is required (model.ckpt of dsc train)");
    if (status == DSC_OK && !dir) status = dsc_fail("dsc predict: option -o DIR is required (the output folder)");
    if (status == DSC_OK && cmd.nargs == 0) status = dsc_fail("dsc predict: no input files; give the ERA5 netCDF files after the options");
    if (dsc_agree(comm, status) != DSC_OK) {
        cli_free(&cmd);
        return DSC_ERR;
    }
    double t_start = MPI_Wtime();
    model m;
    model_config mc;
    checkpoint_extra extra;
    memset(&extra, 0, sizeof extra);
    preprocess_stats stats;
    memset(&stats, 0, sizeof stats);
    run_input in;
    metrics_report rep;
    int have_model = 0, have_stats = 0, have_in = 0, have_rep = 0, kt = 0;
    float *z = NULL;
    double *q = NULL, *q_all = NULL;
    int *labels = NULL, *labels_all = NULL, *truth = NULL;
    double alpha = 1.0;

    status = run_folder_spares(comm, dir, "predict", "--truth", cli_get(&cmd, "truth"));
    if (status == DSC_OK) status = run_folder_spares(comm, dir, "predict", "-m", mpath);
    if (status == DSC_OK) status = run_folder_prepare(comm, dir, cli_flag(&cmd, "force"), "predict", cmd.args, cmd.nargs);
    if (status != DSC_OK) goto done;
    if ((status = checkpoint_read_config(comm, mpath, &mc, NULL, NULL)) != DSC_OK) goto done;
    status = mc.clusters >= 2 ? run_check_sample("predict", sample, mc.clusters)
                              : dsc_fail("%s: the model has no clustering layer; give the model.ckpt written by dsc train", mpath);
    if ((status = dsc_agree(comm, status)) != DSC_OK) goto done;
    /* the model's variables, by name and in its order; its units and grid */
    memset(&in, 0, sizeof in);
    if ((status = model_inputs_open(comm, mpath, cmd.args, cmd.nargs, &eo, &in.cat)) != DSC_OK) goto done;
    in.have_cat = have_in = 1;
    status = model_create(&m, &mc, LATENT_PASS_BATCH);
    if ((status = dsc_agree(comm, status)) != DSC_OK) goto done;
    have_model = 1;
    if ((status = checkpoint_load(comm, mpath, &m, NULL, &extra)) != DSC_OK) goto done;
    status = extra.blob && extra.blob_bytes > 0 ? preprocess_stats_unpack(&stats, extra.blob, extra.blob_bytes / sizeof(double))
                                                : dsc_fail("%s: the checkpoint has no normalisation statistics; give the "
                                                           "model.ckpt written by dsc train", mpath);
    have_stats = status == DSC_OK;
    if (status == DSC_OK && extra.state) {
        train_state_header ts;
        if (train_state_header_read(&ts, extra.state, extra.state_bytes, mpath) == DSC_OK) alpha = ts.alpha;
        else dsc_clear();
    }
    if ((status = dsc_agree(comm, status)) != DSC_OK) goto done;

    status = run_input_read(comm, &eo, NULL, &stats, &in);
    if (status != DSC_OK) goto done;
    const long long T = in.cat.ntime;
    const int K = mc.clusters, L = mc.latent;
    long long t0, n;
    block_range(T, nranks, rank, &t0, &n);
    const int padded = model_pads_grid(&mc); /* dec takes the real cells */
    const int gh = padded ? in.stats.height : in.stats.nlat, gw = padded ? in.stats.width : in.stats.nlon;
    status = mc.height == gh && mc.width == gw && mc.vars == in.stats.nvars
                 ? DSC_OK
                 : dsc_fail("%s: the model takes %d variables on a %dx%d grid, the data give %d on %dx%d; select the same "
                            "--vars and --box as in training", mpath, mc.vars, mc.height, mc.width, in.stats.nvars, gh, gw);
    if (status == DSC_OK && !padded) preprocess_unpad(&in.stats, in.x, n);
    const int d = in.stats.nvars * in.stats.nlat * in.stats.nlon;
    if (status == DSC_OK) {
        z = dsc_malloc(((size_t)n * L + 1) * sizeof(float), "latent vectors");
        q = dsc_malloc(((size_t)n * K + 1) * sizeof(double), "soft assignments");
        labels = dsc_malloc(((size_t)n + 1) * sizeof(int), "labels");
        labels_all = dsc_malloc((size_t)T * sizeof(int), "labels");
        if (rank == 0) q_all = dsc_malloc((size_t)T * K * sizeof(double), "soft assignments");
        if (cli_get(&cmd, "truth")) truth = dsc_malloc((size_t)T * sizeof(int), "truth labels");
        status = z && q && labels && labels_all && (rank || q_all) && (truth || !cli_get(&cmd, "truth")) ? DSC_OK : DSC_ERR;
    }
    if ((status = dsc_agree(comm, status)) != DSC_OK) goto done;
    if (truth && (status = run_truth_load(comm, cli_get(&cmd, "truth"), &in.cat, eo.daily_mean, truth, &kt)) != DSC_OK) goto done;
    double t1 = MPI_Wtime();
    status = latent_soft_assign(comm, &m, in.x, T, alpha, z, q);
    if (status != DSC_OK) goto done;
    clustering_hard_labels(labels, q, n, K);
    run_allgather_ints(comm, labels, T, labels_all);
    run_gather_rows(comm, q, T, K, q_all);
    double t2 = MPI_Wtime();
    if (padded) preprocess_unpad(&in.stats, in.x, n);
    metrics_data md = {.ntotal = T, .n = n, .d = d, .x = in.x, .labels = labels, .k = K};
    pairwise_options popt = {.sample = sample, .seed = 1, .tile = 0};
    status = metrics_report_compute(comm, &md, &popt, truth, kt, labels_all, &rep);
    if (status != DSC_OK) goto done;
    have_rep = 1;
    double t3 = MPI_Wtime();
    status = run_output_labels(comm, dir, &in.cat, labels_all, q_all, K);
    if (status == DSC_OK) status = run_output_latent(comm, dir, &in.cat, z, t0, n, L);
    if (status == DSC_OK) status = run_output_composites(comm, dir, &in.cat, &in.samples, labels_all, K);
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
            fprintf(f, "{\n  \"command\": \"predict\",\n  \"clusters\": %d,\n  \"time_steps\": %lld,\n  \"ranks\": %d,\n", K, T, nranks);
            fprintf(f, "  \"metric_space\": \"input\",\n");
            metrics_report_write_json(f, &rep, "  ");
            const json_figure timings[] = {{"read", in.t_read, 4},
                                           {"preprocess", in.t_preprocess, 4},
                                           {"encode", t2 - t1, 4},
                                           {"evaluation", t3 - t2, 4},
                                           {"write", t4 - t3, 4}};
            fprintf(f, "  \"timings\": {");
            json_write_figures(f, timings, 5);
            fprintf(f, "}\n}\n");
            status = output_file_commit(&out);
        }
    }
    if ((status = dsc_agree(comm, status)) != DSC_OK) goto done;
    if (rank == 0 && !cli_flag(&cmd, "quiet")) {
        printf("dsc predict: %lld time steps labelled with %s (K = %d); wrote %s in %.1f s\n", T, mpath, K, dir, MPI_Wtime() - t_start);
        metrics_report_print(stdout, &rep, "dsc predict");
        fflush(stdout);
    }
done:
    if (have_rep) metrics_report_destroy(&rep);
    if (have_in) run_input_destroy(&in);
    if (have_stats) preprocess_stats_destroy(&stats);
    if (have_model) model_destroy(&m);
    free(extra.blob);
    free(extra.state);
    free(z);
    free(q);
    free(q_all);
    free(labels);
    free(labels_all);
    free(truth);
    cli_free(&cmd);
    return status;
}
