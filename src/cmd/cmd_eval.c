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
#include "era5_reader.h"
#include "json.h"
#include "latent_pass.h"
#include "output_file.h"
#include "metrics.h"
#include "metrics_report.h"
#include "model.h"
#include "model_inputs.h"
#include "checkpoint.h"
#include "preprocess.h"
#include "run_input.h"
#include "run_json.h"
#include "run_options.h"
#include "run_output.h"
#include "run_regimes.h"
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

/* The options of dsc eval. */
typedef struct {
    era5_options eo;
    preprocess_options po;
    long sample, seed;
    double max_mib;
    int latent_space;              /* --metric-space latent */
    const char *labels, *truth, *out, *latent, *model; /* --labels, --truth, -o, --save-latent, --model */
} eval_params;

/* Collective: labels of every time step from a CSV file, encoded 0..k-1;
 * checks the number of distinct labels when check_count. */
static int match_labels(MPI_Comm comm, const char *path, const era5_catalog *cat, const era5_options *opt, int check_count,
                        int *labels, int *k)
{
    if (run_labels_load(comm, path, cat, opt->daily_mean, labels) != DSC_OK) return DSC_ERR;
    int *codes = dsc_malloc((size_t)cat->ntime * sizeof(int), "labels");
    int status = DSC_OK;
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
    return dsc_agree(comm, status);
}

/* What metrics.json records besides the report. */
typedef struct {
    const eval_params *p;
    const char *metric_space;
    int nranks;
} eval_json;

static void eval_json_head(FILE *f, const void *ctx)
{
    const eval_json *j = ctx;
    fprintf(f, "  \"labels\": ");
    metrics_json_string(f, j->p->labels);
    fprintf(f, ",\n  \"metric_space\": ");
    metrics_json_string(f, j->metric_space);
    fprintf(f, ",\n  \"model\": ");
    if (j->p->model) metrics_json_string(f, j->p->model);
    else fprintf(f, "null");
    fprintf(f, ",\n");
}

static void eval_json_tail(FILE *f, const void *ctx)
{
    fprintf(f, "  \"ranks\": %d,\n", ((const eval_json *)ctx)->nranks);
}

/* Rank 0: metrics.json, the report's keys between eval's own. */
static int write_json(const eval_params *p, const metrics_report *r, const regime_stats *regimes, int nranks,
                      const eval_timings *tm)
{
    const json_figure timings[] = {{"read", tm->read, 3},
                                   {"preprocess", tm->preprocess, 3},
                                   {"silhouette_and_inter_cluster", r->t_pairwise, 3},
                                   {"davies_bouldin_rmse_variance", r->t_cluster, 3},
                                   {"ari_nmi", r->t_contingency, 3},
                                   {"total", tm->total, 3}};
    eval_json ctx = {p, p->latent_space ? "latent" : "input", nranks};
    run_json j = {.head = eval_json_head, .rep = r, .tail = eval_json_tail, .regimes = regimes, .timings = timings,
                  .ntimings = 6, .ctx = &ctx};
    return run_json_write(p->out, &j);
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
        status = model_inputs_unpack_stats(stats, path, extra.blob, extra.blob_bytes);
        if (status == DSC_OK && (stats->nvars != s->nvars || stats->nlat != s->nlat || stats->nlon != s->nlon))
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


/* What eval works with: the data, the labels and the matrix the metrics see. */
typedef struct {
    era5_catalog cat;
    era5_samples samples;
    preprocess_stats stats;
    int have_cat, have_samples, have_stats, have_net;
    int *labels, *truth;           /* (T) */
    int k, kt, d;                  /* clusters, truth classes, features of x */
    float *x;                      /* (N, d) */
    model net;
    long long t0, n;               /* this rank's time steps */
} eval_work;

/* Local: the options of the command line into p. */
static int eval_params_from_cli(const cli_command *cmd, eval_params *p)
{
    memset(p, 0, sizeof *p);
    int status = era5_options_from_cli(cmd, &p->eo);
    if (status == DSC_OK && !cli_get(cmd, "labels"))
        status = dsc_fail("dsc eval: option --labels is required; give the 'time,label' CSV of the clustering to evaluate");
    if (status == DSC_OK && cmd->nargs == 0) status = dsc_fail("dsc eval: no input files; give the ERA5 netCDF files after the options");
    if (status == DSC_OK) status = cli_long(cmd, "sample", 0, 1L << 40, &p->sample);
    if (status == DSC_OK) status = cli_long(cmd, "seed", 0, 1L << 62, &p->seed);
    if (status == DSC_OK) status = cli_double(cmd, "max-memory", 1e-6, 1e12, &p->max_mib);
    if (status == DSC_OK) status = preprocess_options_from_cli(cmd, &p->po);
    if (status == DSC_OK) {
        const char *s = cli_get(cmd, "metric-space");
        if (strcmp(s, "latent") == 0) p->latent_space = 1;
        else if (strcmp(s, "input") != 0) status = dsc_fail("dsc eval: option --metric-space: '%s' is not 'input' or 'latent'", s);
        if (status == DSC_OK && p->latent_space && !cli_get(cmd, "model"))
            status = dsc_fail("dsc eval: --metric-space latent needs --model CHECKPOINT (the encoder that gives the latent features)");
        if (status == DSC_OK && !p->latent_space && cli_get(cmd, "model"))
            status = dsc_fail("dsc eval: --model is used only with --metric-space latent; add it or drop --model");
        if (status == DSC_OK && !p->latent_space && cli_get(cmd, "save-latent"))
            status = dsc_fail("dsc eval: --save-latent writes latent features, which need --metric-space latent --model CHECKPOINT");
    }
    p->labels = cli_get(cmd, "labels");
    p->truth = cli_get(cmd, "truth");
    p->out = cli_get(cmd, "output");
    p->latent = cli_get(cmd, "save-latent");
    p->model = cli_get(cmd, "model");
    return status;
}

/* Collective: the catalog (with --model: its variables by name, in its
 * order; units and grid checked), then the labels and --truth, the sample
 * and the memory the metrics need, all before the data are read: a bad
 * labels file fails first. */
static int eval_open(MPI_Comm comm, const cli_command *cmd, eval_params *p, eval_work *w)
{
    int nranks;
    MPI_Comm_size(comm, &nranks);
    int status = model_inputs_open(comm, p->latent_space ? p->model : NULL, cmd->args, cmd->nargs, &p->eo, &w->cat);
    if (status != DSC_OK) return status;
    w->have_cat = 1;
    const long long T = w->cat.ntime;
    w->labels = dsc_malloc((size_t)T * sizeof(int), "labels");
    if (p->truth) w->truth = dsc_malloc((size_t)T * sizeof(int), "truth labels");
    status = dsc_agree(comm, (w->labels && (w->truth || !p->truth)) ? DSC_OK : DSC_ERR);
    if (status == DSC_OK) status = match_labels(comm, p->labels, &w->cat, &p->eo, 1, w->labels, &w->k);
    if (status == DSC_OK) status = dsc_agree(comm, run_check_sample("eval", p->sample, w->k));
    if (status == DSC_OK && p->truth) status = match_labels(comm, p->truth, &w->cat, &p->eo, 0, w->truth, &w->kt);
    /* D of the input (the latent features are fewer) */
    if (status == DSC_OK)
        status = dsc_agree(comm, check_memory(T, w->cat.nvars * w->cat.nlat * w->cat.nlon, w->k, w->kt, nranks, p->sample,
                                              p->max_mib));
    return status;
}

/* Collective: the normalisation statistics: the model's own when it has
 * them (--metric-space latent), else fitted to the samples. */
static int eval_stats(MPI_Comm comm, const eval_params *p, eval_work *w)
{
    int status;
    if (p->latent_space) {
        status = latent_model_open(comm, p->model, &w->samples, &w->net, &w->stats);
        if (status != DSC_OK) return status;
        w->have_net = 1;
        w->have_stats = w->stats.min != NULL; /* the model's own normalisation */
    }
    if (!w->have_stats) {
        status = preprocess_fit(comm, &w->samples, &p->po, &w->stats);
        if (status != DSC_OK) return status;
        w->have_stats = 1;
    }
    return DSC_OK;
}

/* Collective: the matrix the metrics see, w->x (N, d): the normalised
 * input, or with --metric-space latent the latent features E (paper
 * eq. 1), from batches aligned to global positions (the same at any rank
 * count), written to --save-latent.  The raw samples are freed after. */
static int eval_matrix(MPI_Comm comm, const eval_params *p, eval_work *w, eval_timings *tm)
{
    double t0 = MPI_Wtime();
    int status = era5_read_samples(comm, &w->cat, &p->eo, &w->samples);
    if (status != DSC_OK) return status;
    w->have_samples = 1;
    double t1 = MPI_Wtime();
    if ((status = eval_stats(comm, p, w)) != DSC_OK) return status;
    w->d = w->stats.nvars * w->stats.height * w->stats.width;
    w->x = dsc_malloc((size_t)(w->samples.nt * w->d + 1) * sizeof(float), "normalised samples");
    status = w->x ? preprocess_apply(&w->stats, &w->samples, w->x) : DSC_ERR;
    if (status == DSC_OK && (!p->latent_space || !model_pads_grid(&w->net.cfg))) {
        /* the metrics refer to the grid's real cells, not the padding (and dec takes them) */
        preprocess_unpad(&w->stats, w->x, w->samples.nt);
        w->d = w->stats.nvars * w->stats.nlat * w->stats.nlon;
    }
    if (p->latent_space && dsc_agree(comm, status) == DSC_OK) {
        float *z = dsc_malloc((size_t)(w->samples.nt * w->net.cfg.latent + 1) * sizeof(float), "latent features");
        status = dsc_agree(comm, z ? DSC_OK : DSC_ERR);
        if (status == DSC_OK) status = latent_pass(comm, &w->net, w->x, w->cat.ntime, z);
        free(w->x);
        w->x = z;
        w->d = w->net.cfg.latent;
    }
    if (dsc_agree(comm, status) != DSC_OK) return DSC_ERR;
    if (p->latent_space && p->latent) {
        status = run_output_latent_file(comm, p->latent, &w->cat, w->x, w->samples.t0, w->samples.nt, w->d);
        if (status != DSC_OK) return status;
    }
    w->t0 = w->samples.t0;
    w->n = w->samples.nt;
    era5_samples_destroy(&w->samples);
    w->have_samples = 0;
    tm->read = t1 - t0;
    tm->preprocess = MPI_Wtime() - t1;
    return DSC_OK;
}

static void eval_free(eval_work *w)
{
    if (w->have_net) model_destroy(&w->net);
    free(w->x);
    free(w->labels);
    free(w->truth);
    if (w->have_stats) preprocess_stats_destroy(&w->stats);
    if (w->have_samples) era5_samples_destroy(&w->samples);
    if (w->have_cat) era5_catalog_destroy(&w->cat);
}

/* Collective: the metrics of w's labels, metrics.json and the table. */
static int eval_report(MPI_Comm comm, const eval_params *p, eval_work *w, eval_timings *tm, double t_start)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    metrics_report report;
    metrics_data data = {.ntotal = w->cat.ntime, .n = w->n, .d = w->d, .x = w->x, .labels = w->labels + w->t0, .k = w->k};
    pairwise_options popt = {.sample = p->sample, .seed = (unsigned long long)p->seed, .tile = 0};
    int status = metrics_report_compute(comm, &data, &popt, w->truth, w->kt, w->labels, &report);
    if (status != DSC_OK) return status;
    tm->total = MPI_Wtime() - t_start;
    if (rank == 0) { /* the life cycle of the labels as encoded, 0..k-1 in the order of their values */
        regime_stats regimes;
        status = run_regimes_compute(&w->cat, p->eo.daily_mean, w->labels, w->k, &regimes);
        if (status == DSC_OK) {
            status = write_json(p, &report, &regimes, nranks, tm);
            regime_stats_destroy(&regimes);
        }
    }
    status = dsc_agree(comm, status);
    if (status == DSC_OK && rank == 0) {
        metrics_report_print(stdout, &report, "dsc eval");
        printf("  time %.2f s (read %.2f, silhouette %.2f); wrote %s\n", tm->total, tm->read, report.t_pairwise, p->out);
        fflush(stdout);
    }
    metrics_report_destroy(&report);
    return status;
}

int eval_command(int argc, char **argv, MPI_Comm comm)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
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
    eval_params p;
    if (status == DSC_OK) status = eval_params_from_cli(&cmd, &p);
    status = dsc_agree(comm, status);
    /* the outputs, checked before anything is read: never an input, a link or a device */
    if (status == DSC_OK) status = prepare_outputs(comm, &cmd, p.out, p.latent);
    if (status != DSC_OK) {
        cli_free(&cmd);
        return DSC_ERR;
    }
    eval_work w;
    memset(&w, 0, sizeof w);
    status = eval_open(comm, &cmd, &p, &w);
    if (status == DSC_OK) status = eval_matrix(comm, &p, &w, &tm);
    if (status == DSC_OK) status = eval_report(comm, &p, &w, &tm, t_start);
    eval_free(&w);
    cli_free(&cmd);
    return status;
}
