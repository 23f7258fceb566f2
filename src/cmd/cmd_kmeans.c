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
 * With --persistence every switch of regime along time costs a penalty
 * (kmeans_persistent.c): regimes last days, and labels that flicker from one
 * day to the next are noise.
 *
 *   mpirun -n 4 dsc kmeans -k 7 --anomalies --pca 10 -o km era5_*.nc
 */
#include "commands.h"
#include "cli.h"
#include "kmeans.h"
#include "kmeans_persistent.h"
#include "eof_step.h"
#include "preprocess.h"
#include "run_options.h"
#include "run_output.h"
#include "sample_exchange.h"
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
    {"persistence", 0, "L|Nd", "0", "penalty per switch of regime along time (the jump model, solved exactly by dynamic programming): "
                                   "a number in the units of the squared distances, or Nd, the penalty that gives a mean episode "
                                   "of N days (e.g. 5d); 0: every time step on its own"},
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

/* What dsc_kmeans computes, for its outputs and metrics.json. */
typedef struct {
    const kmeans_params *p;
    int *labels;                   /* (N) */
    eof_step eof;                  /* --pca */
    float *unit;                   /* (N, dk) unit-length rows */
    kmeans_result kr;
    int have_kr;
    persistence_result pr;    /* --persistence */
    double steps_per_day;
    double t_kmeans;
} kmeans_work;

/* run_method.prepare: the limits of -k and --pca against the data, and the buffers. */
static int kmeans_prepare(run_state *r, void *ctx)
{
    kmeans_work *w = ctx;
    const kmeans_params *p = w->p;
    const long long T = r->T, n = r->n;
    const int d = r->d;
    int status = DSC_OK;
    if (p->k >= T) status = dsc_fail("dsc kmeans: -k %ld clusters for %lld time steps; give fewer clusters than time steps", p->k, T);
    if (status == DSC_OK && p->pca > 0 && (p->pca > T - 1 || p->pca > d))
        status = dsc_fail("dsc kmeans: --pca %ld components for %lld time steps x %d features; choose at most %lld", p->pca, T,
                          d, T - 1 < d ? T - 1 : d);
    if (status == DSC_OK) {
        w->labels = dsc_malloc(((size_t)n + 1) * sizeof(int), "labels");
        status = eof_alloc(&w->eof, r, p->pca);
        if (p->cosine) w->unit = dsc_malloc(((size_t)n * (p->pca > 0 ? p->pca : d) + 1) * sizeof(float), "unit-length rows");
        if (!w->labels || (!w->unit && p->cosine)) status = DSC_ERR;
    }
    return dsc_agree(r->comm, status);
}

/* k-means with the penalty per switch, inside the record's segments (gaps end an episode). */
static int persistent_fit(run_state *r, kmeans_work *w, const float *xk, int dk, const kmeans_options *ko)
{
    const era5_catalog *c = &r->in.cat;
    w->steps_per_day = r->p->eo.daily_mean || !(c->step_hours > 0) ? 1.0 : 24.0 / c->step_hours;
    long long nseg = sample_segment_count();
    long long *starts = dsc_malloc((size_t)nseg * sizeof *starts, "record segments");
    int status = dsc_agree(r->comm, starts ? DSC_OK : DSC_ERR);
    if (status != DSC_OK) {
        free(starts);
        return status;
    }
    sample_segment_starts(starts);
    persistence_options po = {.lambda = w->p->persistence, .target_steps = w->p->persistence_days * w->steps_per_day,
                              .seg_start = starts, .nseg = (int)nseg, .max_iter = (int)w->p->max_iter};
    status = kmeans_fit_persistent(r->comm, xk, r->n, dk, ko, &po, &w->kr, w->labels, &w->pr);
    free(starts);
    return status;
}

/* run_method.cluster: [PCA,] [unit rows,] k-means of the real cells into w->labels. */
static int kmeans_cluster(run_state *r, void *ctx)
{
    kmeans_work *w = ctx;
    const kmeans_params *p = w->p;
    const float *xk; /* the matrix k-means clusters */
    int dk, status = eof_fit(&w->eof, r, p->seed, &xk, &dk);
    if (status != DSC_OK) return status;
    double t1 = MPI_Wtime();
    if (p->cosine) {
        if ((status = unit_rows(r->comm, w->unit, xk, r->n, r->T, dk)) != DSC_OK) return status;
        xk = w->unit;
    }
    kmeans_options ko = kmeans_defaults((int)p->k);
    ko.init = p->init;
    ko.n_init = (int)p->n_init;
    ko.max_iter = (int)p->max_iter;
    ko.tol = p->tol;
    ko.seed = (uint64_t)p->seed;
    if (p->persistence > 0 || p->persistence_days > 0) status = persistent_fit(r, w, xk, dk, &ko);
    else status = kmeans_fit(r->comm, xk, r->n, dk, &ko, &w->kr, w->labels);
    w->have_kr = status == DSC_OK;
    w->t_kmeans = MPI_Wtime() - t1;
    return status;
}

/* run_finish_spec.outputs: centroids.nc, and with --pca eofs.nc and pcs.nc. */
static int kmeans_outputs(run_state *r, const char *dir, void *ctx)
{
    const kmeans_work *w = ctx;
    const long pca = w->p->pca;
    const char *space = pca > 0 ? (w->p->cosine ? "pca-unit" : "pca") : (w->p->cosine ? "unit" : "input");
    int status = run_output_centroids(r->comm, dir, w->kr.centroids, (int)w->p->k, pca > 0 ? (int)pca : r->d, space);
    return status == DSC_OK ? eof_write(&w->eof, r, dir) : status;
}

/* run_finish_spec.json: the keys of k-means in metrics.json. */
static void kmeans_json(FILE *f, const run_state *r, void *ctx)
{
    const kmeans_work *w = ctx;
    fprintf(f, "  \"anomalies\": %s,\n  \"cosine\": %s,\n  \"init\": \"%s\",\n  \"n_init\": %ld,\n  \"inertia\": ",
            r->p->po.anomalies ? "true" : "false", w->p->cosine ? "true" : "false",
            w->p->init == KMEANS_INIT_RANDOM ? "random" : "k-means++", w->p->n_init);
    json_write_key_number(f, w->kr.inertia, -1, "inertia");
    fprintf(f, ",\n  \"iterations\": %d,\n", w->kr.iterations);
    if (w->p->persistence > 0 || w->p->persistence_days > 0) {
        fputs("  \"persistence\": {\"lambda\": ", f);
        json_write_key_number(f, w->pr.lambda, -1, "persistence lambda");
        fputs(", \"target_days\": ", f);
        json_write_key_number(f, w->p->persistence_days > 0 ? w->p->persistence_days : NAN, -1, "persistence target_days");
        fprintf(f, ", \"switches\": %lld, \"alternations\": %d, \"objective\": ", w->pr.switches, w->pr.iterations);
        json_write_key_number(f, w->pr.objective, -1, "persistence objective");
        fputs("},\n", f);
    }
    eof_json(&w->eof, f);
}

/* run_method.finish: what run_finish adds for k-means. */
static void kmeans_finish(const run_state *r, void *ctx, run_finish_spec *s)
{
    kmeans_work *w = ctx;
    const kmeans_params *p = w->p;
    *s = (run_finish_spec){.k = (int)p->k, .labels = w->labels, .seed = (uint64_t)p->seed, .outputs = kmeans_outputs,
                           .json = kmeans_json, .ctx = w, .nphases = 2,
                           .phases = {{"pca", w->eof.seconds, 4}, {"kmeans", w->t_kmeans, 4}}};
    snprintf(s->summary, sizeof s->summary, "%lld time steps x %d features, K = %ld, inertia %.6g (%d iterations)", r->T,
             r->d, p->k, w->kr.inertia, w->kr.iterations);
    if (p->persistence > 0 || p->persistence_days > 0) {
        size_t used = strlen(s->summary);
        snprintf(s->summary + used, sizeof s->summary - used, ", persistence lambda %.4g: %lld switches", w->pr.lambda,
                 w->pr.switches);
    }
}

int dsc_kmeans(MPI_Comm comm, const kmeans_params *p)
{
    static const run_method method = {kmeans_prepare, kmeans_cluster, kmeans_finish};
    kmeans_work w = {.p = p};
    int status = run_clustering(comm, &p->run, &method, &w);
    if (w.have_kr) kmeans_result_destroy(&w.kr);
    eof_free(&w.eof);
    free(w.labels);
    free(w.unit);
    return status;
}

/* The defaults of kmeans_options_table. */
kmeans_params kmeans_params_default(void)
{
    kmeans_params p = {.k = 7, .seed = 1, .n_init = 10, .max_iter = 300, .pca = 0, .tol = 1e-4,
                       .init = KMEANS_INIT_PLUSPLUS, .cosine = 0};
    p.run.command = "kmeans";
    return p;
}

/* --persistence L (a penalty >= 0) or Nd (a mean episode length of N > 0 days). */
static int persistence_from_cli(const char *text, kmeans_params *p)
{
    char *end = NULL;
    double v = text ? strtod(text, &end) : NAN;
    int days = end && end != text && (*end == 'd' || *end == 'D') && end[1] == '\0';
    if (!text || end == text || (*end && !days) || !isfinite(v) || v < 0 || (days && !(v > 0)))
        return dsc_fail("dsc kmeans: option --persistence: '%s' is not a penalty >= 0 or a mean episode length in days such as "
                        "5d", text ? text : "");
    if (days) p->persistence_days = v;
    else p->persistence = v;
    return DSC_OK;
}

/* Local: the options of the command line into p. */
static int kmeans_params_from_cli(const cli_command *cmd, kmeans_params *p)
{
    *p = kmeans_params_default();
    int status = run_params_from_cli(cmd, "kmeans", 1, &p->run);
    if (status == DSC_OK) status = cli_long(cmd, "clusters", 2, 1000000, &p->k);
    if (status == DSC_OK) status = cli_long(cmd, "seed", 0, 1L << 62, &p->seed);
    if (status == DSC_OK) status = cli_long(cmd, "n-init", 1, 100000, &p->n_init);
    if (status == DSC_OK) status = cli_long(cmd, "max-iter", 1, 1L << 30, &p->max_iter);
    if (status == DSC_OK) status = cli_long(cmd, "sample", 0, 1L << 40, &p->run.sample);
    if (status == DSC_OK) status = cli_long(cmd, "pca", 0, 1000000, &p->pca);
    if (status == DSC_OK) status = run_check_sample("kmeans", p->run.sample, p->k);
    if (status == DSC_OK) status = cli_double(cmd, "tol", 0, 1e6, &p->tol);
    if (status == DSC_OK && kmeans_init_parse(cli_get(cmd, "init"), &p->init) != DSC_OK) {
        dsc_clear();
        status = dsc_fail("dsc kmeans: option --init: '%s' is not k-means++ or random", cli_get(cmd, "init"));
    }
    p->cosine = cli_flag(cmd, "cosine");
    if (status == DSC_OK) status = persistence_from_cli(cli_get(cmd, "persistence"), p);
    if (status == DSC_OK) status = run_params_require(&p->run);
    return status;
}

int kmeans_command(int argc, char **argv, MPI_Comm comm)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
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
    kmeans_params p;
    if (status == DSC_OK) status = kmeans_params_from_cli(&cmd, &p);
    if (dsc_agree(comm, status) == DSC_OK) status = dsc_kmeans(comm, &p);
    else status = DSC_ERR;
    cli_free(&cmd);
    return status;
}
