/*
 * run_skeleton.h - the steps every clustering run (dsc kmeans, ward,
 * predict, train) goes through around its algorithm, so that a command
 * holds its options and its algorithm only:
 *
 *   run_state r;
 *   run_open(comm, &params, &r);         output folder checked or made
 *   run_read(&r, NULL);                  inputs read and normalised
 *   run_truth(&r);                       --truth matched to the time steps
 *   ... the algorithm: labels (N) of this rank's time steps ...
 *   run_finish(&r, &spec);               gathers, metrics, outputs,
 *                                        metrics.json, the summary line
 *   run_end(&r);
 *
 * Every step is collective over the run's communicator and returns an
 * agreed status (the error printed once); run_end frees whatever the steps
 * made, after a failure anywhere.  run_clustering runs them all around a
 * clustering of the input (dsc kmeans, dsc ward); dsc predict opens its
 * model's inputs before run_read; dsc train, whose outputs go through a
 * staging folder, calls run_gather, run_evaluate and run_write_outputs
 * itself instead of run_finish.
 *
 * Dimension letters: T time steps, N here (global [t0, t0 + N)), K clusters.
 */
#ifndef DSC_RUN_SKELETON_H
#define DSC_RUN_SKELETON_H

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"
#include "era5_catalog.h"
#include "json.h"
#include "metrics_report.h"
#include "preprocess.h"
#include "regime_stats.h"
#include "run_input.h"

/* What every clustering run takes besides its algorithm's own options. */
typedef struct {
    const char *command;       /* "kmeans": messages, metrics.json, the summary line */
    const char *dir;           /* the output folder (-o) */
    char **files;              /* the input files */
    int nfiles;
    era5_options eo;
    preprocess_options po;     /* unused by predict (the model's own) */
    const char *truth;         /* --truth FILE, NULL: none */
    const char *model;         /* -m FILE of predict, spared like --truth; NULL: none */
    long sample;               /* --sample */
    int force, quiet;
} run_params;

/* Local: the fields of p from a parsed command with ERA5_CLI_OPTIONS,
 * RUN_CLI_OPTIONS, -o DIR and (with_preprocess) PREPROCESS_CLI_OPTIONS:
 * the reading and pre-processing options (the first a command checks), the
 * folder, --truth, --force and --quiet; --sample is the command's to read,
 * where its checks place it.  DSC_ERR naming the option. */
int run_params_from_cli(const cli_command *cmd, const char *command, int with_preprocess, run_params *p);
/* Local: the last checks of every command line: -o given, input files given. */
int run_params_require(const run_params *p);

typedef struct {
    MPI_Comm comm;
    int rank, nranks;
    const run_params *p;
    double t_start;
    run_input in;              /* in.x (N, F): padded frames until run_unpad */
    int have_in, unpadded;
    long long T, t0, n;        /* time steps: all, this rank's first, this rank's count */
    int d;                     /* features of the real cells: V * Y * X */
    int *truth, kt;            /* (T) --truth encoded 0..kt-1; NULL without */
    int *labels_all;           /* (T) the final labels, on every rank */
    double *q_all;             /* (T, K) on rank 0: the soft assignments, or NULL */
    metrics_report rep;
    int have_rep;
    regime_stats regimes;      /* on rank 0 after run_write_outputs: the labelling's life cycle */
    int have_regimes;
    double t_eval, t_write;    /* seconds of run_evaluate and run_write_outputs */
} run_state;

/* Local: r ready for the steps and run_end (dsc train, which takes its
 * folder through train_folder.h). */
void run_state_init(run_state *r, MPI_Comm comm, const run_params *p);
/* Collective: run_state_init; the inputs of p that the run would
 * overwrite (--truth, -m) refused, the output folder made or checked. */
int run_open(MPI_Comm comm, const run_params *p, run_state *r);
/* Collective: reads and normalises the inputs (run_input_load; given: the
 * statistics of a model), or, when r->in.cat is opened already
 * (r->in.have_cat), the samples of that catalog (run_input_read); sets T,
 * t0, n and d. */
int run_read(run_state *r, const preprocess_stats *given);
/* Local: in.x to the real cells (N, d), once: the metrics' matrix. */
void run_unpad(run_state *r);
/* Collective: labels_all and, with --truth, the reference labelling. */
int run_truth(run_state *r);

/* Collective: labels_all from this rank's labels (N) (NULL: labels_all
 * holds them already), and with q (N, K) the soft assignments into q_all. */
int run_gather(run_state *r, const int *labels, const double *q, int k);
/* Collective: the metrics of labels_all on the real cells (run_unpad),
 * silhouettes on --sample time steps drawn with seed. */
int run_evaluate(run_state *r, int k, uint64_t seed);
/* Collective: the life cycle of labels_all (regimes, rank 0), labels.csv
 * and labels.nc (with q_all and the life cycle), the command's own files
 * (outputs, may be NULL), composites.nc: into dir. */
int run_write_outputs(run_state *r, const char *dir, int k, int (*outputs)(run_state *r, const char *dir, void *ctx),
                      void *ctx);

/* What a command adds to run_finish. */
typedef struct {
    int k;                     /* clusters */
    const int *labels;         /* (N) this rank's labels; NULL: labels_all holds them */
    const double *q;           /* (N, K) soft assignments for labels.nc, or NULL */
    uint64_t seed;             /* of the --sample subset */
    int (*outputs)(run_state *r, const char *dir, void *ctx); /* between labels and composites; may be NULL */
    void (*json)(FILE *f, const run_state *r, void *ctx);    /* metrics.json keys after "ranks"; may be NULL */
    json_figure phases[2];     /* the algorithm's timings, between "preprocess" and "evaluation" */
    int nphases;
    void *ctx;
    char summary[256];         /* "dsc CMD: SUMMARY; wrote DIR in S s" */
} run_finish_spec;

/* Collective: run_gather, run_evaluate, run_write_outputs into p->dir,
 * metrics.json (command, clusters, time_steps, ranks, the command's keys,
 * metric_space, the metrics, regimes, timings) and, unless --quiet, the summary
 * line and the metrics table on rank 0. */
int run_finish(run_state *r, const run_finish_spec *s);

/* A clustering of the input's real cells (dsc kmeans, dsc ward): what
 * runs between the skeleton's steps, each with the command's ctx. */
typedef struct {
    int (*prepare)(run_state *r, void *ctx);  /* collective: limits against the data, buffers; agreed status */
    int (*cluster)(run_state *r, void *ctx);  /* collective: the algorithm on r->in.x (N, d), real cells */
    void (*finish)(const run_state *r, void *ctx, run_finish_spec *s); /* local: what run_finish adds */
} run_method;

/* Collective: run_open, run_read, m->prepare, run_truth, run_unpad,
 * m->cluster, run_finish, run_end. */
int run_clustering(MPI_Comm comm, const run_params *p, const run_method *m, void *ctx);

/* Local: frees what the steps made. */
void run_end(run_state *r);

#endif
