/*
 * run_skeleton.c - the steps of a clustering run around its algorithm
 * (see run_skeleton.h).
 */
#include "run_skeleton.h"
#include "output_file.h"
#include "partition.h"
#include "run_folder.h"
#include "run_gather.h"
#include "run_json.h"
#include "run_options.h"
#include "run_output.h"
#include "run_regimes.h"
#include "status.h"

#include <stdlib.h>
#include <string.h>

int run_params_from_cli(const cli_command *cmd, const char *command, int with_preprocess, run_params *p)
{
    memset(p, 0, sizeof *p);
    p->command = command;
    p->dir = cli_get(cmd, "output");
    p->files = cmd->args;
    p->nfiles = cmd->nargs;
    p->truth = cli_get(cmd, "truth");
    p->force = cli_flag(cmd, "force");
    p->quiet = cli_flag(cmd, "quiet");
    int status = era5_options_from_cli(cmd, &p->eo);
    if (status == DSC_OK && with_preprocess) status = preprocess_options_from_cli(cmd, &p->po);
    return status;
}

int run_params_require(const run_params *p)
{
    if (!p->dir) return dsc_fail("dsc %s: option -o DIR is required (the output folder)", p->command);
    if (p->nfiles == 0) return dsc_fail("dsc %s: no input files; give the ERA5 netCDF files after the options", p->command);
    return DSC_OK;
}

void run_state_init(run_state *r, MPI_Comm comm, const run_params *p)
{
    memset(r, 0, sizeof *r);
    r->comm = comm;
    r->p = p;
    r->t_start = MPI_Wtime();
    MPI_Comm_rank(comm, &r->rank);
    MPI_Comm_size(comm, &r->nranks);
}

int run_open(MPI_Comm comm, const run_params *p, run_state *r)
{
    run_state_init(r, comm, p);
    int status = run_folder_spares(comm, p->dir, p->command, "--truth", p->truth);
    if (status == DSC_OK && p->model) status = run_folder_spares(comm, p->dir, p->command, "-m", p->model);
    if (status == DSC_OK) status = run_folder_prepare(comm, p->dir, p->force, p->command, p->files, p->nfiles);
    return status;
}

int run_read(run_state *r, const preprocess_stats *given)
{
    const run_params *p = r->p;
    int status = r->in.have_cat ? run_input_read(r->comm, &p->eo, &p->po, given, &r->in)
                                : run_input_load(r->comm, p->files, p->nfiles, &p->eo, &p->po, given, &r->in);
    if (status != DSC_OK) return status; /* run_input_* freed the input */
    r->have_in = 1;
    r->T = r->in.cat.ntime;
    block_range(r->T, r->nranks, r->rank, &r->t0, &r->n);
    r->d = r->in.stats.nvars * r->in.stats.nlat * r->in.stats.nlon;
    return DSC_OK;
}

void run_unpad(run_state *r)
{
    if (r->unpadded) return;
    preprocess_unpad(&r->in.stats, r->in.x, r->n);
    r->unpadded = 1;
}

int run_truth(run_state *r)
{
    r->labels_all = dsc_malloc((size_t)r->T * sizeof(int), "labels");
    if (r->p->truth) r->truth = dsc_malloc((size_t)r->T * sizeof(int), "truth labels");
    int status = dsc_agree(r->comm, r->labels_all && (r->truth || !r->p->truth) ? DSC_OK : DSC_ERR);
    if (status == DSC_OK && r->truth)
        status = run_truth_load(r->comm, r->p->truth, &r->in.cat, r->p->eo.daily_mean, r->truth, &r->kt);
    return status;
}

int run_gather(run_state *r, const int *labels, const double *q, int k)
{
    if (q && r->rank == 0) r->q_all = dsc_malloc((size_t)r->T * k * sizeof(double), "soft assignments");
    if (dsc_agree(r->comm, q && r->rank == 0 && !r->q_all ? DSC_ERR : DSC_OK) != DSC_OK) return DSC_ERR;
    if (labels) run_allgather_ints(r->comm, labels, r->T, r->labels_all);
    if (q) run_gather_rows(r->comm, q, r->T, k, r->q_all);
    return DSC_OK;
}

int run_evaluate(run_state *r, int k, uint64_t seed)
{
    double t = MPI_Wtime();
    run_unpad(r);
    metrics_data md = {.ntotal = r->T, .n = r->n, .d = r->d, .x = r->in.x, .labels = r->labels_all + r->t0, .k = k};
    pairwise_options popt = {.sample = r->p->sample, .seed = (unsigned long long)seed, .tile = 0};
    int status = metrics_report_compute(r->comm, &md, &popt, r->truth, r->kt, r->labels_all, &r->rep);
    r->have_rep = status == DSC_OK;
    r->t_eval = MPI_Wtime() - t;
    return status;
}

int run_write_outputs(run_state *r, const char *dir, int k, int (*outputs)(run_state *r, const char *dir, void *ctx),
                      void *ctx)
{
    double t = MPI_Wtime();
    int status = DSC_OK;
    if (r->rank == 0 && !r->have_regimes) {
        status = run_regimes_compute(&r->in.cat, r->p->eo.daily_mean, r->labels_all, k, &r->regimes);
        r->have_regimes = status == DSC_OK;
    }
    status = dsc_agree(r->comm, status);
    if (status == DSC_OK) status = run_output_labels_regimes(r->comm, dir, &r->in.cat, r->labels_all, r->q_all, k, &r->regimes);
    if (status == DSC_OK && outputs) status = outputs(r, dir, ctx);
    if (status == DSC_OK) status = run_output_composites(r->comm, dir, &r->in.cat, &r->in.samples, r->labels_all, k);
    r->t_write = MPI_Wtime() - t;
    return status;
}

typedef struct {
    const run_state *r;
    const run_finish_spec *s;
} finish_json;

/* metrics.json: the keys every clustering command writes, and its own. */
static void finish_head(FILE *f, const void *ctx)
{
    const finish_json *j = ctx;
    fprintf(f, "  \"clusters\": %d,\n  \"time_steps\": %lld,\n  \"ranks\": %d,\n", j->s->k, j->r->T, j->r->nranks);
    if (j->s->json) j->s->json(f, j->r, j->s->ctx);
    fprintf(f, "  \"metric_space\": \"input\",\n");
}

static int finish_json_write(run_state *r, const run_finish_spec *s)
{
    int status = DSC_OK;
    if (r->rank == 0) {
        json_figure timings[6] = {{"read", r->in.t_read, 4}, {"preprocess", r->in.t_preprocess, 4}};
        int n = 2;
        for (int i = 0; i < s->nphases; i++) timings[n++] = s->phases[i];
        timings[n++] = (json_figure){"evaluation", r->t_eval, 4};
        timings[n++] = (json_figure){"write", r->t_write, 4};
        finish_json ctx = {r, s};
        run_json j = {.command = r->p->command, .head = finish_head, .rep = &r->rep, .timings = timings, .ntimings = n,
                      .regimes = r->have_regimes ? &r->regimes : NULL, .ctx = &ctx};
        char path[DSC_PATH_MAX];
        snprintf(path, sizeof path, "%s/metrics.json", r->p->dir);
        status = run_json_write(path, &j);
    }
    return dsc_agree(r->comm, status);
}

int run_finish(run_state *r, const run_finish_spec *s)
{
    int status = run_gather(r, s->labels, s->q, s->k);
    if (status == DSC_OK) status = run_evaluate(r, s->k, s->seed);
    if (status == DSC_OK) status = run_write_outputs(r, r->p->dir, s->k, s->outputs, s->ctx);
    if (status == DSC_OK) status = finish_json_write(r, s);
    if (status == DSC_OK && r->rank == 0 && !r->p->quiet) {
        char who[64];
        snprintf(who, sizeof who, "dsc %s", r->p->command);
        printf("%s: %s; wrote %s in %.1f s\n", who, s->summary, r->p->dir, MPI_Wtime() - r->t_start);
        metrics_report_print(stdout, &r->rep, who);
        fflush(stdout);
    }
    return status;
}

int run_clustering(MPI_Comm comm, const run_params *p, const run_method *m, void *ctx)
{
    run_state r;
    int status = run_open(comm, p, &r);
    if (status == DSC_OK) status = run_read(&r, NULL);
    if (status == DSC_OK) status = m->prepare(&r, ctx);
    if (status == DSC_OK) status = run_truth(&r);
    if (status == DSC_OK) {
        run_unpad(&r);
        status = m->cluster(&r, ctx);
    }
    if (status == DSC_OK) {
        run_finish_spec s;
        memset(&s, 0, sizeof s);
        m->finish(&r, ctx, &s);
        status = run_finish(&r, &s);
    }
    run_end(&r);
    return status;
}

void run_end(run_state *r)
{
    if (r->have_rep) metrics_report_destroy(&r->rep);
    if (r->have_regimes) regime_stats_destroy(&r->regimes);
    run_input_destroy(&r->in); /* also a catalog opened before run_read */
    free(r->truth);
    free(r->labels_all);
    free(r->q_all);
    memset(r, 0, sizeof *r);
}
