/*
 * cmd_eval.c - dsc eval: the paper's clustering metrics (section 5.3,
 * Table 2) of a labelling of ERA5 time steps, computed in parallel on the
 * normalised input matrix (T x V*Y*X: the grid's real cells, without the
 * zero padding the network adds) or on a model's latent features (T x L).
 *
 *   mpirun -n 4 dsc eval --labels labels.csv --truth truth.csv -o metrics.json era5_*.nc
 *
 * Every rank reads a contiguous block of time steps (era5_reader.c), the
 * pre-processing statistics are fitted over all ranks (preprocess.c), the
 * labels are matched to the time steps by time, and the metrics module
 * computes everything with the data staying distributed (metrics_report.h:
 * the same keys as the metrics.json of train and kmeans).  --save-latent
 * writes the latent features (run_output.h) so they can be checked and
 * scored elsewhere.  Rank 0 writes metrics.json (temporary name, then
 * rename) and prints a table.
 */
#include "commands.h"
#include "cli.h"
#include "era5_catalog.h"
#include "run_common.h"
#include "era5_reader.h"
#include "json.h"
#include "labels.h"
#include "latent_pass.h"
#include "output_file.h"
#include "metrics.h"
#include "metrics_report.h"
#include "model.h"
#include "model_inputs.h"
#include "checkpoint.h"
#include "preprocess.h"
#include "run_common.h"
#include "run_output.h"
#include "status.h"

#include <errno.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const cli_option eval_options[] = {
    ERA5_CLI_OPTIONS,
    {"labels", 'l', "FILE", NULL, "cluster labels to evaluate: CSV of 'time,label' lines, one per time step (required)"},
    {"truth", 0, "FILE", NULL, "reference labelling ('time,label' CSV, e.g. truth.csv of dsc synth) for ARI and NMI"},
    {"output", 'o', "FILE", "metrics.json", "JSON file with every metric"},
    PREPROCESS_CLI_OPTIONS,
    {"sample", 0, "N", "0", "silhouettes and inter-cluster distance on a random subset of N samples (0: all, exact)"},
    {"seed", 0, "N", "1", "seed of the random subset of --sample"},
    {"max-memory", 0, "MIB", "4096", "limit per rank of the metrics' own buffers (centred rows, tiles, per-cluster distance "
                                     "sums, K x K matrices), estimated from T, D, K and the ranks before anything is read"},
    {"metric-space", 0, "input|latent", "input", "space the metrics are computed in: the normalised input matrix, or the latent features of --model"},
    {"model", 'm', "FILE", NULL, "checkpoint whose encoder gives the latent features (--metric-space latent); its normalisation statistics are used when it has them"},
    {"save-latent", 0, "FILE", NULL, "write the latent features the metrics are computed on to FILE (netCDF: time, z(time, latent)); with --metric-space latent"},
};

typedef struct {
    double read, preprocess, total;
} eval_timings;

/* Labels of every time step from a CSV file; checks the number of
 * distinct labels when check_count. */

static int match_labels(MPI_Comm comm, const char *path, const era5_catalog *cat, const era5_options *opt, int check_count,
                        int *labels, int *k)
{
    label_table table;
    if (labels_read(comm, path, &table) != DSC_OK) return DSC_ERR;
    int status = labels_match(labels, &table, path, cat->time, cat->ntime, opt->daily_mean);
    labels_destroy(&table);
    if (status == DSC_OK) {
        int *codes = dsc_malloc((size_t)cat->ntime * sizeof(int), "labels");
        if (!codes) status = DSC_ERR;
        else {
            *k = metrics_encode_labels(codes, labels, cat->ntime);
            if (*k < 0) status = dsc_fail("out of memory encoding labels");
            else if (check_count && *k < 2)
                status = dsc_fail("%s: every time step has the same label (%d); the metrics need at least 2 clusters", path, labels[0]);
            else if (check_count && 2LL * *k > cat->ntime) /* mostly single-member clusters: no regimes to score */
                status = dsc_fail("%s: %d distinct labels for %lld time steps, fewer than 2 time steps per cluster; the "
                                  "metrics take at most %lld clusters (T / 2)",
                                  path, *k, cat->ntime, cat->ntime / 2);
            if (status == DSC_OK) memcpy(labels, codes, (size_t)cat->ntime * sizeof(int));
            free(codes);
        }
    }
    return dsc_agree(comm, status);
}

/* Rank 0: metrics.json, the report's keys between eval's own. */
static int write_json(const char *path, const cli_command *cmd, const metrics_report *r, int nranks, const eval_timings *tm)
{
    output_file out;
    if (output_file_open(&out, path, "w") != DSC_OK) return DSC_ERR;
    FILE *f = out.f;
    json_begin_file();
    fprintf(f, "{\n  \"labels\": ");
    metrics_json_string(f, cli_get(cmd, "labels"));
    fprintf(f, ",\n  \"metric_space\": ");
    metrics_json_string(f, cli_get(cmd, "metric-space"));
    fprintf(f, ",\n  \"model\": ");
    if (cli_get(cmd, "model")) metrics_json_string(f, cli_get(cmd, "model"));
    else fprintf(f, "null");
    fprintf(f, ",\n");
    metrics_report_write_json(f, r, "  ");
    fprintf(f, "  \"ranks\": %d,\n", nranks);
    const json_figure timings[] = {{"read", tm->read, 3},
                                   {"preprocess", tm->preprocess, 3},
                                   {"silhouette_and_inter_cluster", r->t_pairwise, 3},
                                   {"davies_bouldin_rmse_variance", r->t_cluster, 3},
                                   {"ari_nmi", r->t_contingency, 3},
                                   {"total", tm->total, 3}};
    fprintf(f, "  \"timings\": {");
    json_write_figures(f, timings, 6);
    fprintf(f, "}\n}\n");
    return output_file_commit(&out);
}

/* Collective: -o and --save-latent may be written (output_check) and are
 * not the same file. */
static int prepare_outputs(MPI_Comm comm, const cli_command *cmd, const char *out_path, const char *latent_path)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    char **inputs = dsc_calloc((size_t)cmd->nargs + 4, sizeof(char *), "input names");
    int n = 0, status = inputs ? DSC_OK : DSC_ERR;
    if (inputs) {
        for (int i = 0; i < cmd->nargs; i++) inputs[n++] = cmd->args[i];
        inputs[n++] = (char *)cli_get(cmd, "labels");
        inputs[n++] = (char *)cli_get(cmd, "truth");
        inputs[n++] = (char *)cli_get(cmd, "model");
    }
    if (rank == 0 && status == DSC_OK) {
        status = output_check(out_path, OUTPUT_FILE, "dsc eval: option -o", inputs, n);
        if (status == DSC_OK && latent_path) status = output_check(latent_path, OUTPUT_FILE, "dsc eval: option --save-latent", inputs, n);
        if (status == DSC_OK && latent_path && output_same_file(out_path, latent_path))
            status = dsc_fail("dsc eval: options -o and --save-latent both name %s; give two different files", out_path);
    }
    free(inputs);
    return dsc_agree(comm, status);
}

/* Collective: the encoder of a checkpoint for --metric-space latent.  The
 * model must take the data's variables and padded grid, one time step per
 * sample.  When the checkpoint carries normalisation statistics they are
 * returned in *stats (stats->min != NULL) so the data are scaled as the
 * model was trained; otherwise *stats is left empty. */
static int latent_model_open(MPI_Comm comm, const char *path, const era5_samples *s, model *net, preprocess_stats *stats)
{
    model_config cfg;
    if (checkpoint_read_config(comm, path, &cfg, NULL, NULL) != DSC_OK) return DSC_ERR;
    int status = DSC_OK;
    const int padded = model_pads_grid(&cfg); /* dec takes the real cells */
    const int height = padded ? preprocess_padded_size(s->nlat) : s->nlat;
    const int width = padded ? preprocess_padded_size(s->nlon) : s->nlon;
    if (cfg.vars != s->nvars || cfg.height != height || cfg.width != width)
        status = dsc_fail("%s: the model takes %d variables on a %dx%d grid but the data give %d on %dx%d (padded); "
                          "select the same --vars/--box as in training", path, cfg.vars, cfg.height, cfg.width, s->nvars,
                          height, width);
    else if (cfg.steps != 1)
        status = dsc_fail("%s: the model reads sequences of %d time steps; latent features of sequence models are not "
                          "supported by dsc eval, use --metric-space input", path, cfg.steps);
    if (dsc_agree(comm, status) != DSC_OK) return DSC_ERR;
    status = model_create(net, &cfg, LATENT_PASS_BATCH);
    if (dsc_agree(comm, status) != DSC_OK) {
        if (status == DSC_OK) model_destroy(net);
        return DSC_ERR;
    }
    checkpoint_extra extra;
    memset(&extra, 0, sizeof extra);
    if (checkpoint_load(comm, path, net, NULL, &extra) != DSC_OK) {
        model_destroy(net);
        return DSC_ERR;
    }
    memset(stats, 0, sizeof *stats);
    if (extra.blob && extra.blob_bytes > 0) {
        status = preprocess_stats_unpack(stats, extra.blob, extra.blob_bytes / sizeof(double));
        if (status != DSC_OK) { /* name the checkpoint in the message */
            char why[512];
            snprintf(why, sizeof why, "%s", dsc_message());
            dsc_clear();
            status = dsc_fail("%s: %s", path, why);
        } else if (stats->nvars != s->nvars || stats->nlat != s->nlat || stats->nlon != s->nlon)
            status = dsc_fail("%s: its normalisation statistics are for a %dx%d grid of %d variables, the data are %dx%d "
                              "of %d; select the same --vars/--box as in training", path, stats->nlat, stats->nlon,
                              stats->nvars, s->nlat, s->nlon, s->nvars);
    }
    free(extra.blob);
    free(extra.state);
    if (dsc_agree(comm, status) != DSC_OK) {
        if (stats->min) preprocess_stats_destroy(stats);
        memset(stats, 0, sizeof *stats);
        model_destroy(net);
        return DSC_ERR;
    }
    return DSC_OK;
}

/* Local (the same on every rank): DSC_ERR when the metrics of T time steps
 * of d features in k clusters need more than max_mib per rank on P ranks,
 * naming what would help: more ranks only when the parts that shrink with
 * them are what goes over; otherwise fewer clusters or --sample. */
static int check_memory(long long T, int d, int k, int kt, int P, long long sample, double max_mib)
{
    const int threads = omp_get_max_threads();
    double whole, wider;
    const double need = metrics_report_bytes(T, d, k, kt, P, threads, sample, &whole), limit = max_mib * 1048576.0;
    if (need <= limit) return DSC_OK;
    char hint[160] = "";
    for (long long p = 2LL * P; p <= (1LL << 20) && !hint[0]; p *= 2)
        if (metrics_report_bytes(T, d, k, kt, (int)p, threads, sample, &wider) <= limit)
            snprintf(hint, sizeof hint, "use at least %lld ranks (about %.1f MiB each), ", p,
                     metrics_report_bytes(T, d, k, kt, (int)p, threads, sample, &wider) / 1048576.0);
    return dsc_fail("dsc eval: %lld time steps x %d features in %d clusters need about %.1f MiB per rank for the metrics on %d "
                    "rank(s) (%.1f MiB of it held whole by every rank: the K x K matrices, centroids and labels), more than "
                    "--max-memory %g MiB; %s%s", T, d, k, need / 1048576.0, P, whole / 1048576.0, max_mib, hint,
                    whole > limit ? "fewer clusters (the K x K part alone is over), or raise --max-memory"
                                  : "--sample N (fewer rows in the distance sums), fewer clusters, or raise --max-memory");
}

int eval_command(int argc, char **argv, MPI_Comm comm)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    double t_start = MPI_Wtime();
    eval_timings tm = {0};
    cli_command cmd = {
        .command = "eval",
        .usage = "--labels FILE [--truth FILE] [-o metrics.json] [OPTIONS] FILES...",
        .summary = "Evaluate a clustering of the time steps of ERA5 files: silhouette (Euclidean and cosine), "
                   "Davies-Bouldin, RMSE_mean, average variance, average inter-cluster distance, cluster sizes, and "
                   "ARI / NMI against a reference labelling, on the normalised input matrix (or, with --metric-space latent, "
                   "on the latent features of a model checkpoint).",
        .options = eval_options,
        .noptions = (int)(sizeof eval_options / sizeof eval_options[0]),
    };
    int status = cli_parse(&cmd, argc, argv, rank);
    if (status == CLI_HELP) {
        cli_free(&cmd);
        return CLI_HELP;
    }
    era5_options opt;
    long sample = 0, seed = 1;
    double max_mib = 0;
    int latent_space = 0;
    preprocess_options popts;
    if (status == DSC_OK) status = era5_options_from_cli(&cmd, &opt);
    if (status == DSC_OK && !cli_get(&cmd, "labels"))
        status = dsc_fail("dsc eval: option --labels is required; give the 'time,label' CSV of the clustering to evaluate");
    if (status == DSC_OK && cmd.nargs == 0) status = dsc_fail("dsc eval: no input files; give the ERA5 netCDF files after the options");
    if (status == DSC_OK) status = cli_long(&cmd, "sample", 0, 1L << 40, &sample);
    if (status == DSC_OK) status = cli_long(&cmd, "seed", 0, 1L << 62, &seed);
    if (status == DSC_OK) status = cli_double(&cmd, "max-memory", 1e-6, 1e12, &max_mib);
    if (status == DSC_OK) status = preprocess_options_from_cli(&cmd, &popts);
    if (status == DSC_OK) {
        const char *s = cli_get(&cmd, "metric-space");
        if (strcmp(s, "latent") == 0) latent_space = 1;
        else if (strcmp(s, "input") != 0) status = dsc_fail("dsc eval: option --metric-space: '%s' is not 'input' or 'latent'", s);
        if (status == DSC_OK && latent_space && !cli_get(&cmd, "model"))
            status = dsc_fail("dsc eval: --metric-space latent needs --model CHECKPOINT (the encoder that gives the latent features)");
        if (status == DSC_OK && !latent_space && cli_get(&cmd, "model"))
            status = dsc_fail("dsc eval: --model is used only with --metric-space latent; add it or drop --model");
        if (status == DSC_OK && !latent_space && cli_get(&cmd, "save-latent"))
            status = dsc_fail("dsc eval: --save-latent writes latent features, which need --metric-space latent --model CHECKPOINT");
    }
    if (dsc_agree(comm, status) != DSC_OK) {
        cli_free(&cmd);
        return DSC_ERR;
    }
    const char *labels_path = cli_get(&cmd, "labels"), *truth_path = cli_get(&cmd, "truth"), *out_path = cli_get(&cmd, "output");
    const char *latent_path = cli_get(&cmd, "save-latent");
    /* the outputs, checked before anything is read: never an input, a link or a device */
    if (prepare_outputs(comm, &cmd, out_path, latent_path) != DSC_OK) {
        cli_free(&cmd);
        return DSC_ERR;
    }

    era5_catalog cat;
    memset(&cat, 0, sizeof cat);
    era5_samples samples;
    memset(&samples, 0, sizeof samples);
    preprocess_stats stats;
    memset(&stats, 0, sizeof stats);
    int have_cat = 0, have_samples = 0, have_stats = 0;
    int *labels = NULL, *truth = NULL; /* (T) */
    float *x = NULL;                   /* (N, V*H*W) */
    metrics_report report;
    int k = 0, kt = 0, have_report = 0, have_net = 0;
    model net;
    memset(&net, 0, sizeof net);

    /* with --model: its variables by name, in its order; units and grid checked */
    status = model_inputs_open(comm, latent_space ? cli_get(&cmd, "model") : NULL, cmd.args, cmd.nargs, &opt, &cat);
    if (status != DSC_OK) goto done;
    have_cat = 1;
    /* Labels first: a bad labels file fails before the data are read. */
    labels = dsc_malloc((size_t)cat.ntime * sizeof(int), "labels");
    if (truth_path) truth = dsc_malloc((size_t)cat.ntime * sizeof(int), "truth labels");
    status = dsc_agree(comm, (labels && (truth || !truth_path)) ? DSC_OK : DSC_ERR);
    if (status == DSC_OK) status = match_labels(comm, labels_path, &cat, &opt, 1, labels, &k);
    if (status == DSC_OK) status = dsc_agree(comm, run_check_sample("eval", sample, k));
    if (status == DSC_OK && truth_path) status = match_labels(comm, truth_path, &cat, &opt, 0, truth, &kt);
    /* before the data are read: D of the input (the latent features are fewer) */
    if (status == DSC_OK)
        status = dsc_agree(comm, check_memory(cat.ntime, cat.nvars * cat.nlat * cat.nlon, k, kt, nranks, sample, max_mib));
    if (status != DSC_OK) goto done;

    double t0 = MPI_Wtime();
    status = era5_read_samples(comm, &cat, &opt, &samples);
    if (status != DSC_OK) goto done;
    have_samples = 1;
    double t1 = MPI_Wtime();
    if (latent_space) {
        status = latent_model_open(comm, cli_get(&cmd, "model"), &samples, &net, &stats);
        if (status != DSC_OK) goto done;
        have_net = 1;
        have_stats = stats.min != NULL; /* the model's own normalisation */
    }
    if (!have_stats) {
        status = preprocess_fit(comm, &samples, &popts, &stats);
        if (status != DSC_OK) goto done;
        have_stats = 1;
    }
    int d = stats.nvars * stats.height * stats.width;
    x = dsc_malloc((size_t)(samples.nt * d + 1) * sizeof(float), "normalised samples");
    status = x ? preprocess_apply(&stats, &samples, x) : DSC_ERR;
    if (status == DSC_OK && (!latent_space || !model_pads_grid(&net.cfg))) {
        /* the metrics refer to the grid's real cells, not the padding (and dec takes them) */
        preprocess_unpad(&stats, x, samples.nt);
        d = stats.nvars * stats.nlat * stats.nlon;
    }
    if (latent_space && dsc_agree(comm, status) == DSC_OK) {
        /* the metrics see the latent features E (paper eq. 1) instead, from
         * batches aligned to global positions: the same at any rank count */
        float *z = dsc_malloc((size_t)(samples.nt * net.cfg.latent + 1) * sizeof(float), "latent features");
        status = dsc_agree(comm, z ? DSC_OK : DSC_ERR);
        if (status == DSC_OK) status = latent_pass(comm, &net, x, cat.ntime, z);
        free(x);
        x = z;
        d = net.cfg.latent;
    }
    if (dsc_agree(comm, status) != DSC_OK) {
        status = DSC_ERR;
        goto done;
    }
    if (latent_space && latent_path) {
        status = run_output_latent_file(comm, latent_path, &cat, x, samples.t0, samples.nt, d);
        if (status != DSC_OK) goto done;
    }
    /* the raw samples are no longer needed */
    const long long t0_here = samples.t0, nt = samples.nt;
    era5_samples_destroy(&samples);
    have_samples = 0;
    double t2 = MPI_Wtime();
    tm.read = t1 - t0;
    tm.preprocess = t2 - t1;

    metrics_data data = {.ntotal = cat.ntime, .n = nt, .d = d, .x = x, .labels = labels + t0_here, .k = k};
    pairwise_options popt = {.sample = sample, .seed = (unsigned long long)seed, .tile = 0};
    status = metrics_report_compute(comm, &data, &popt, truth, kt, labels, &report);
    if (status != DSC_OK) goto done;
    have_report = 1;
    tm.total = MPI_Wtime() - t_start;
    if (rank == 0) status = write_json(out_path, &cmd, &report, nranks, &tm);
    status = dsc_agree(comm, status);
    if (status == DSC_OK && rank == 0) {
        metrics_report_print(stdout, &report, "dsc eval");
        printf("  time %.2f s (read %.2f, silhouette %.2f); wrote %s\n", tm.total, tm.read, report.t_pairwise, out_path);
        fflush(stdout);
    }

done:
    if (have_net) model_destroy(&net);
    if (have_report) metrics_report_destroy(&report);
    free(x);
    free(labels);
    free(truth);
    if (have_stats) preprocess_stats_destroy(&stats);
    if (have_samples) era5_samples_destroy(&samples);
    if (have_cat) era5_catalog_destroy(&cat);
    cli_free(&cmd);
    return status;
}
