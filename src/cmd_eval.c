/*
 * cmd_eval.c - dsc eval: the paper's clustering metrics (section 5.3,
 * Table 2) of a labelling of ERA5 time steps, computed in parallel on the
 * normalised, padded input matrix (T x V*H*W) the network sees.
 *
 *   mpirun -n 4 dsc eval --labels labels.csv --truth truth.csv -o metrics.json era5_*.nc
 *
 * Every rank reads a contiguous block of time steps (era5_reader.c), the
 * pre-processing statistics are fitted over all ranks (preprocess.c), the
 * labels are matched to the time steps by time, and the metrics module
 * computes everything with the data staying distributed.  --save-latent
 * writes the latent features (run_output.h) so they can be checked and
 * scored elsewhere.  Rank 0 writes
 * metrics.json (temporary name, then rename) and prints a table.
 */
#include "commands.h"
#include "cli.h"
#include "era5_catalog.h"
#include "era5_reader.h"
#include "labels.h"
#include "output_file.h"
#include "metrics.h"
#include "model.h"
#include "checkpoint.h"
#include "preprocess.h"
#include "run_output.h"
#include "status.h"

#include <errno.h>
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
    {"metric-space", 0, "input|latent", "input", "space the metrics are computed in: the normalised input matrix, or the latent features of --model"},
    {"model", 'm', "FILE", NULL, "checkpoint whose encoder gives the latent features (--metric-space latent); its normalisation statistics are used when it has them"},
    {"save-latent", 0, "FILE", NULL, "write the latent features the metrics are computed on to FILE (netCDF: time, z(time, latent)); with --metric-space latent"},
};

typedef struct {
    double read, preprocess, pairwise, cluster, contingency, total;
} eval_timings;

/* Labels of every time step from a CSV file; checks the number of
 * distinct labels when check_count. */
#define LATENT_BATCH 16 /* samples per encoder call */

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
            else if (check_count && *k > cat->ntime - 1)
                status = dsc_fail("%s: %d distinct labels for %lld time steps; the metrics need at most %lld clusters "
                                  "(some time steps must share a cluster)",
                                  path, *k, cat->ntime, cat->ntime - 1);
            if (status == DSC_OK) memcpy(labels, codes, (size_t)cat->ntime * sizeof(int));
            free(codes);
        }
    }
    return dsc_agree(comm, status);
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20) fprintf(f, "\\u%04x", *s);
        else fputc(*s, f);
    }
    fputc('"', f);
}

static int write_json(const char *path, const cli_command *cmd, const pairwise_metrics *pm, const cluster_metrics *cm,
                      const double *ari_nmi, long long T, int d, int k, int nranks, long long sample, const eval_timings *tm)
{
    output_file out;
    if (output_file_open(&out, path, "w") != DSC_OK) return DSC_ERR;
    FILE *f = out.f;
    fprintf(f, "{\n  \"labels\": ");
    json_string(f, cli_get(cmd, "labels"));
    fprintf(f, ",\n  \"metric_space\": \"%s\",", cli_get(cmd, "metric-space"));
    fprintf(f, "\n  \"model\": ");
    if (cli_get(cmd, "model")) json_string(f, cli_get(cmd, "model"));
    else fprintf(f, "null");
    fprintf(f, ",\n  \"silhouette\": %.17g,\n  \"silhouette_cosine\": %.17g,\n", pm->silhouette,
            pm->silhouette_cosine);
    if (sample > 0) fprintf(f, "  \"sampled\": %lld,\n", sample);
    fprintf(f, "  \"davies_bouldin\": %.17g,\n  \"rmse_mean\": %.17g,\n  \"avg_variance\": %.17g,\n", cm->davies_bouldin,
            cm->rmse_mean, cm->avg_variance);
    fprintf(f, "  \"avg_inter_cluster_distance\": %.17g,\n  \"inter_cluster_distance\": [", pm->avg_inter_cluster_distance);
    for (int a = 0; a < k; a++) {
        fprintf(f, "%s[", a ? ", " : "");
        for (int b = 0; b < k; b++) fprintf(f, "%s%.17g", b ? ", " : "", pm->inter[a * k + b]);
        fprintf(f, "]");
    }
    fprintf(f, "],\n  \"cluster_sizes\": [");
    for (int a = 0; a < k; a++) fprintf(f, "%s%lld", a ? ", " : "", cm->sizes[a]);
    fprintf(f, "],\n");
    if (ari_nmi) fprintf(f, "  \"ari\": %.17g,\n  \"nmi\": %.17g,\n", ari_nmi[0], ari_nmi[1]);
    fprintf(f, "  \"n_samples\": %lld,\n  \"n_features\": %d,\n  \"n_clusters\": %d,\n  \"ranks\": %d,\n", T, d, k, nranks);
    fprintf(f,
            "  \"timings\": {\"read\": %.3f, \"preprocess\": %.3f, \"silhouette_and_inter_cluster\": %.3f, "
            "\"davies_bouldin_rmse_variance\": %.3f, \"ari_nmi\": %.3f, \"total\": %.3f}\n}\n",
            tm->read, tm->preprocess, tm->pairwise, tm->cluster, tm->contingency, tm->total);
    return output_file_commit(&out);
}

static void print_table(const char *path, const pairwise_metrics *pm, const cluster_metrics *cm, const double *ari_nmi, long long T,
                        int d, int k, long long sample, const eval_timings *tm)
{
    printf("dsc eval: %lld samples x %d features, %d clusters%s\n", T, d, k, sample > 0 ? " (silhouettes sampled)" : "");
    printf("  %-28s %12.6f%s\n", "silhouette (Euclidean)", pm->silhouette, sample > 0 ? "  sampled" : "");
    printf("  %-28s %12.6f%s\n", "silhouette (cosine)", pm->silhouette_cosine, sample > 0 ? "  sampled" : "");
    printf("  %-28s %12.6f\n", "Davies-Bouldin", cm->davies_bouldin);
    printf("  %-28s %12.6f\n", "RMSE_mean", cm->rmse_mean);
    printf("  %-28s %12.6f%s\n", "avg inter-cluster distance", pm->avg_inter_cluster_distance, sample > 0 ? "  sampled" : "");
    printf("  %-28s %12.6f\n", "average variance", cm->avg_variance);
    if (ari_nmi) {
        printf("  %-28s %12.6f\n", "adjusted Rand index", ari_nmi[0]);
        printf("  %-28s %12.6f\n", "normalised mutual info", ari_nmi[1]);
    }
    printf("  %-28s", "cluster sizes");
    for (int a = 0; a < k; a++) printf(" %lld", cm->sizes[a]);
    printf("\n  time %.2f s (read %.2f, silhouette %.2f); wrote %s\n", tm->total, tm->read, tm->pairwise, path);
    fflush(stdout);
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
    const int height = preprocess_padded_size(s->nlat), width = preprocess_padded_size(s->nlon);
    if (cfg.vars != s->nvars || cfg.height != height || cfg.width != width)
        status = dsc_fail("%s: the model takes %d variables on a %dx%d grid but the data give %d on %dx%d (padded); "
                          "select the same --vars/--box as in training", path, cfg.vars, cfg.height, cfg.width, s->nvars,
                          height, width);
    else if (cfg.steps != 1)
        status = dsc_fail("%s: the model reads sequences of %d time steps; latent features of sequence models are not "
                          "supported by dsc eval, use --metric-space input", path, cfg.steps);
    if (dsc_agree(comm, status) != DSC_OK) return DSC_ERR;
    status = model_create(net, &cfg, LATENT_BATCH);
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
    if (dsc_agree(comm, status) != DSC_OK) {
        if (stats->min) preprocess_stats_destroy(stats);
        memset(stats, 0, sizeof *stats);
        model_destroy(net);
        return DSC_ERR;
    }
    return DSC_OK;
}

/* Local: z (n, L) = encoder(x (n, d)) in batches of LATENT_BATCH. */
static int latent_encode(model *net, const float *x, long long n, int d, float *z)
{
    const int L = net->cfg.latent;
    for (long long i = 0; i < n; i += LATENT_BATCH) {
        int b = (int)(n - i < LATENT_BATCH ? n - i : LATENT_BATCH);
        if (model_encode(net, x + (size_t)i * d, b) != DSC_OK) return DSC_ERR;
        memcpy(z + (size_t)i * L, net->latent, (size_t)b * L * sizeof(float));
    }
    return DSC_OK;
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
    int latent_space = 0;
    preprocess_options popts;
    if (status == DSC_OK) status = era5_options_from_cli(&cmd, &opt);
    if (status == DSC_OK && !cli_get(&cmd, "labels"))
        status = dsc_fail("dsc eval: option --labels is required; give the 'time,label' CSV of the clustering to evaluate");
    if (status == DSC_OK && cmd.nargs == 0) status = dsc_fail("dsc eval: no input files; give the ERA5 netCDF files after the options");
    if (status == DSC_OK) status = cli_long(&cmd, "sample", 0, 1L << 40, &sample);
    if (status == DSC_OK) status = cli_long(&cmd, "seed", 0, 1L << 62, &seed);
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

    era5_catalog cat;
    memset(&cat, 0, sizeof cat);
    era5_samples samples;
    memset(&samples, 0, sizeof samples);
    preprocess_stats stats;
    memset(&stats, 0, sizeof stats);
    int have_cat = 0, have_samples = 0, have_stats = 0;
    int *labels = NULL, *truth = NULL; /* (T) */
    float *x = NULL;                   /* (N, V*H*W) */
    pairwise_metrics pm;
    memset(&pm, 0, sizeof pm);
    cluster_metrics cm;
    memset(&cm, 0, sizeof cm);
    int k = 0, kt = 0, have_pm = 0, have_cm = 0, have_net = 0;
    model net;
    memset(&net, 0, sizeof net);
    double ari_nmi[2] = {0, 0};

    status = era5_catalog_open(comm, cmd.args, cmd.nargs, &opt, &cat);
    if (status != DSC_OK) goto done;
    have_cat = 1;
    /* Labels first: a bad labels file fails before the data are read. */
    labels = dsc_malloc((size_t)cat.ntime * sizeof(int), "labels");
    if (truth_path) truth = dsc_malloc((size_t)cat.ntime * sizeof(int), "truth labels");
    status = dsc_agree(comm, (labels && (truth || !truth_path)) ? DSC_OK : DSC_ERR);
    if (status == DSC_OK) status = match_labels(comm, labels_path, &cat, &opt, 1, labels, &k);
    if (status == DSC_OK && truth_path) status = match_labels(comm, truth_path, &cat, &opt, 0, truth, &kt);
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
    if (status == DSC_OK && latent_space) {
        /* the metrics see the latent features E (paper eq. 1) instead */
        float *z = dsc_malloc((size_t)(samples.nt * net.cfg.latent + 1) * sizeof(float), "latent features");
        status = z ? latent_encode(&net, x, samples.nt, d, z) : DSC_ERR;
        free(x);
        x = z;
        d = net.cfg.latent;
    }
    if (dsc_agree(comm, status) != DSC_OK) {
        status = DSC_ERR;
        goto done;
    }
    if (latent_space && cli_get(&cmd, "save-latent")) {
        status = run_output_latent_file(comm, cli_get(&cmd, "save-latent"), &cat, x, samples.t0, samples.nt, d);
        if (status != DSC_OK) goto done;
    }
    /* the raw samples are no longer needed */
    era5_samples_destroy(&samples);
    have_samples = 0;
    double t2 = MPI_Wtime();
    tm.read = t1 - t0;
    tm.preprocess = t2 - t1;

    metrics_data data = {.ntotal = cat.ntime, .n = samples.nt, .d = d, .x = x, .labels = labels + samples.t0, .k = k};
    pairwise_options popt = {.sample = sample, .seed = (unsigned long long)seed, .tile = 0};
    status = pairwise_metrics_compute(comm, &data, &popt, &pm);
    if (status != DSC_OK) goto done;
    have_pm = 1;
    double t3 = MPI_Wtime();
    status = cluster_metrics_compute(comm, &data, &cm);
    if (status != DSC_OK) goto done;
    have_cm = 1;
    double t4 = MPI_Wtime();
    if (truth_path) status = contingency_scores(truth, kt, labels, k, cat.ntime, &ari_nmi[0], &ari_nmi[1]);
    if (dsc_agree(comm, status) != DSC_OK) {
        status = DSC_ERR;
        goto done;
    }
    double t5 = MPI_Wtime();
    tm.pairwise = t3 - t2;
    tm.cluster = t4 - t3;
    tm.contingency = t5 - t4;
    tm.total = t5 - t_start;
    long long used_sample = sample > 0 && sample < cat.ntime ? sample : 0;
    if (rank == 0) status = write_json(out_path, &cmd, &pm, &cm, truth_path ? ari_nmi : NULL, cat.ntime, d, k, nranks, used_sample, &tm);
    status = dsc_agree(comm, status);
    if (status == DSC_OK && rank == 0) print_table(out_path, &pm, &cm, truth_path ? ari_nmi : NULL, cat.ntime, d, k, used_sample, &tm);

done:
    if (have_net) model_destroy(&net);
    if (have_pm) pairwise_metrics_destroy(&pm);
    if (have_cm) cluster_metrics_destroy(&cm);
    free(x);
    free(labels);
    free(truth);
    if (have_stats) preprocess_stats_destroy(&stats);
    if (have_samples) era5_samples_destroy(&samples);
    if (have_cat) era5_catalog_destroy(&cat);
    cli_free(&cmd);
    return status;
}
