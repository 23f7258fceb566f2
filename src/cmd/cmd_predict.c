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
#include "clustering_persistent.h"
#include "latent_pass.h"
#include "model.h"
#include "model_inputs.h"
#include "preprocess.h"
#include "run_options.h"
#include "run_output.h"
#include "persistence_option.h"
#include "status.h"
#include "train_state_header.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cli_option predict_options[] = {
    ERA5_CLI_OPTIONS,
    {"model", 'm', "FILE", NULL, "model.ckpt written by dsc train (required)"},
    {"output", 'o', "DIR", NULL, "output folder (required)"},
    {"persistence", 0, "Nd|0|model", "model", "labels along time: model: as the model was trained (dsc train --persistence: "
                                            "its penalty per switch; else every time step on its own); Nd: decoded with the "
                                            "penalty that gives episodes of N days on average on these files; 0: every time "
                                            "step on its own"},
    RUN_CLI_OPTIONS,
};

/* What predict works with: the model and what it computes. */
typedef struct {
    const char *mpath;             /* -m */
    model m;
    model_config mc;
    preprocess_stats stats;        /* the model's normalisation */
    double alpha;                  /* its Student-t degrees of freedom */
    regime_chain chain;            /* its labels along time (dsc train --persistence; switch_prob 0: none) */
    double days;                   /* --persistence Nd (0: none); -1: the model's chain */
    long long *segments;           /* the record's segments, with a chain */
    int have_model, have_stats, padded;
    float *z;                      /* (N, L) latent vectors */
    double *q;                     /* (N, K) soft assignments */
    int *labels;                   /* (N) */
    double t_encode;
} predict_work;

/* Collective: the model's inputs opened into r->in.cat (its variables, by
 * name and in its order; their units and grid checked), the network with
 * its centroids, its normalisation statistics and alpha.  p->eo->vars
 * becomes the model's variables. */
static int predict_load_model(run_state *r, predict_work *w, run_params *p)
{
    MPI_Comm comm = r->comm;
    const char *mpath = w->mpath;
    int status = checkpoint_read_config(comm, mpath, &w->mc, NULL, NULL);
    if (status != DSC_OK) return status;
    status = w->mc.clusters >= 2 ? run_check_sample("predict", p->sample, w->mc.clusters)
                                 : dsc_fail("%s: the model has no clustering layer; give the model.ckpt written by dsc train", mpath);
    if ((status = dsc_agree(comm, status)) != DSC_OK) return status;
    if ((status = model_inputs_open(comm, mpath, p->files, p->nfiles, &p->eo, &r->in.cat)) != DSC_OK) return status;
    r->in.have_cat = 1;
    status = model_create(&w->m, &w->mc, LATENT_PASS_BATCH);
    if ((status = dsc_agree(comm, status)) != DSC_OK) return status;
    w->have_model = 1;
    checkpoint_extra extra;
    memset(&extra, 0, sizeof extra);
    if ((status = checkpoint_load(comm, mpath, &w->m, NULL, &extra)) == DSC_OK) {
        status = extra.blob && extra.blob_bytes > 0
                     ? preprocess_stats_unpack(&w->stats, extra.blob, extra.blob_bytes / sizeof(double))
                     : dsc_fail("%s: the checkpoint has no normalisation statistics; give the model.ckpt written by dsc train", mpath);
        w->have_stats = status == DSC_OK;
        if (status == DSC_OK && extra.state) {
            train_state_header ts;
            if (train_state_header_read(&ts, extra.state, extra.state_bytes, mpath) == DSC_OK) {
                w->alpha = ts.alpha;
                w->chain.switch_prob = ts.switch_prob;
                w->chain.penalty = ts.penalty;
            } else
                dsc_clear();
        }
        status = dsc_agree(comm, status);
    }
    free(extra.blob);
    free(extra.state);
    return status;
}

/* Collective: the data against the model's grid, and the buffers. */
static int predict_prepare(run_state *r, predict_work *w)
{
    const model_config *mc = &w->mc;
    const preprocess_stats *st = &r->in.stats;
    w->padded = model_pads_grid(mc); /* dec takes the real cells */
    const int gh = w->padded ? st->height : st->nlat, gw = w->padded ? st->width : st->nlon;
    int status = mc->height == gh && mc->width == gw && mc->vars == st->nvars
                     ? DSC_OK
                     : dsc_fail("%s: the model takes %d variables on a %dx%d grid, the data give %d on %dx%d; select the same "
                                "--vars and --box as in training", w->mpath, mc->vars, mc->height, mc->width, st->nvars, gh, gw);
    if (status == DSC_OK && !w->padded) run_unpad(r);
    if (status == DSC_OK) {
        w->z = dsc_malloc(((size_t)r->n * mc->latent + 1) * sizeof(float), "latent vectors");
        w->q = dsc_malloc(((size_t)r->n * mc->clusters + 1) * sizeof(double), "soft assignments");
        w->labels = dsc_malloc(((size_t)r->n + 1) * sizeof(int), "labels");
        status = w->z && w->q && w->labels ? DSC_OK : DSC_ERR;
    }
    if ((status = dsc_agree(r->comm, status)) != DSC_OK) return status;
    if (w->days >= 0) /* --persistence Nd or 0: instead of the model's chain */
        return w->days > 0 ? persistence_option_chain(r, "predict", w->days, &w->chain, &w->segments)
                           : (w->chain = (regime_chain){0}, DSC_OK);
    if (w->chain.switch_prob > 0) /* the model's penalty on the segments of these files (a gap ends an episode) */
        return persistence_option_segments(r, &w->segments, &w->chain.nseg) == DSC_OK
                   ? (w->chain.seg_start = w->segments, DSC_OK)
                   : DSC_ERR;
    return DSC_OK;
}

/* run_finish_spec.outputs: latent.nc. */
static int predict_outputs(run_state *r, const char *dir, void *ctx)
{
    const predict_work *w = ctx;
    return run_output_latent(r->comm, dir, &r->in.cat, w->z, r->t0, r->n, w->mc.latent);
}

static void predict_free(predict_work *w)
{
    if (w->have_stats) preprocess_stats_destroy(&w->stats);
    if (w->have_model) model_destroy(&w->m);
    free(w->z);
    free(w->q);
    free(w->labels);
    free(w->segments);
}

/* Collective: dsc predict after its options: label p's files with the model mpath. */
static int predict_run(MPI_Comm comm, run_params *p, const char *mpath, double days)
{
    run_state r;
    predict_work w = {.mpath = mpath, .alpha = 1.0, .days = days};
    int status = run_open(comm, p, &r);
    if (status == DSC_OK) status = predict_load_model(&r, &w, p);
    if (status == DSC_OK) status = run_read(&r, &w.stats);
    if (status == DSC_OK) status = predict_prepare(&r, &w);
    if (status == DSC_OK) status = run_truth(&r);
    if (status == DSC_OK) {
        double t1 = MPI_Wtime();
        status = latent_soft_assign(comm, &w.m, r.in.x, r.T, w.alpha, w.z, w.q);
        if (status == DSC_OK && w.chain.switch_prob > 0) /* the model's penalty, or one chosen for --persistence Nd */
            status = clustering_persistent_labels_dist(comm, w.q, r.T, w.mc.clusters, &w.chain, w.labels);
        else if (status == DSC_OK)
            clustering_hard_labels(w.labels, w.q, r.n, w.mc.clusters);
        w.t_encode = MPI_Wtime() - t1;
    }
    if (status == DSC_OK) {
        run_finish_spec s = {.k = w.mc.clusters, .labels = w.labels, .q = w.q, .seed = 1, .outputs = predict_outputs,
                             .ctx = &w, .nphases = 1, .phases = {{"encode", w.t_encode, 4}}};
        snprintf(s.summary, sizeof s.summary, "%lld time steps labelled with %s (K = %d%s)", r.T, mpath, w.mc.clusters,
                 w.chain.switch_prob > 0 ? ", decoded along time" : "");
        status = run_finish(&r, &s);
    }
    predict_free(&w);
    run_end(&r);
    return status;
}

int predict_command(int argc, char **argv, MPI_Comm comm)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
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
    run_params p;
    const char *mpath = status == DSC_OK ? cli_get(&cmd, "model") : NULL;
    if (status == DSC_OK) status = run_params_from_cli(&cmd, "predict", 0, &p);
    if (status == DSC_OK) status = cli_long(&cmd, "sample", 0, 1L << 40, &p.sample);
    if (status == DSC_OK && !mpath) status = dsc_fail("dsc predict: option -m FILE is required (model.ckpt of dsc train)");
    double days = -1; /* --persistence model */
    if (status == DSC_OK && strcmp(cli_get(&cmd, "persistence"), "model") != 0)
        if (persistence_option_days("predict", cli_get(&cmd, "persistence"), &days) != DSC_OK) {
            dsc_clear();
            status = dsc_fail("dsc predict: option --persistence: '%s' is not model, 0 or a mean episode length in days such as "
                              "5d", cli_get(&cmd, "persistence"));
        }
    if (status == DSC_OK) status = run_params_require(&p);
    p.model = mpath;
    if (dsc_agree(comm, status) == DSC_OK) status = predict_run(comm, &p, mpath, days);
    else status = DSC_ERR;
    cli_free(&cmd);
    return status;
}
