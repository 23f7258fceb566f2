/*
 * commands.h - the dsc subcommands.  Each takes argv with argv[0] = the
 * subcommand name and the communicator of all ranks, and returns DSC_OK,
 * CLI_HELP, or DSC_ERR after dsc_agree() has printed the error on rank 0.
 * All ranks return the same value.
 *
 * The clustering methods dsc compare runs are functions as well: an options
 * struct, filled by the command from its command line or by compare, and
 * dsc_METHOD(comm, &params), which does what the command does after
 * reading its options (collective; the same return values).
 */
#ifndef DSC_COMMANDS_H
#define DSC_COMMANDS_H

#include <mpi.h>
#include "cli.h"
#include "kmeans.h"
#include "model.h"
#include "optimizer.h"
#include "run_skeleton.h"
#include "train.h"

int synth_command(int argc, char **argv, MPI_Comm comm); /* cmd_synth.c */
int info_command(int argc, char **argv, MPI_Comm comm);  /* cmd_info.c  */

int train_command(int argc, char **argv, MPI_Comm comm);   /* cmd_train.c   */
int kmeans_command(int argc, char **argv, MPI_Comm comm);  /* cmd_kmeans.c  */
int ward_command(int argc, char **argv, MPI_Comm comm);    /* cmd_ward.c    */
int predict_command(int argc, char **argv, MPI_Comm comm); /* cmd_predict.c */
int eval_command(int argc, char **argv, MPI_Comm comm);  /* cmd_eval.c  */
int compare_command(int argc, char **argv, MPI_Comm comm); /* cmd_compare.c */

int bench_command(int argc, char **argv, MPI_Comm comm); /* cmd_bench.c */

/* dsc kmeans: the options of its command line. */
typedef struct {
    run_params run;
    long k, seed, n_init, max_iter, pca; /* pca 0: on the full matrix */
    double tol;
    kmeans_init init;
    int cosine;
    double persistence;      /* --persistence L: the penalty per switch (0: none) */
    double persistence_days; /* --persistence Nd: the wanted mean episode length (0: L given) */
} kmeans_params;
kmeans_params kmeans_params_default(void); /* the defaults of dsc kmeans --help */
int dsc_kmeans(MPI_Comm comm, const kmeans_params *p);

/* dsc ward: the options of its command line. */
typedef struct {
    run_params run;
    long k, seed, pca;
    double max_mib;                      /* --max-memory */
} ward_params;
ward_params ward_params_default(void);
int dsc_ward(MPI_Comm comm, const ward_params *p);

/* dsc train: the options of its command line.  cmd holds them as given,
 * what config.txt records (and --resume reads back). */
typedef struct {
    run_params run;
    cli_command *cmd;
    const char *resume;                  /* --resume DIR (= run.dir), NULL: a new run */
    model_config mc;
    optimizer_config oc;
    train_options to;
} train_params;
/* cmd set up with dsc train's option table, to be parsed (cli_parse). */
void train_cli(cli_command *cmd);
/* Local: one option of cmd set to value, as if given on the command line. */
int train_cli_set(cli_command *cmd, const char *name, const char *value);
/* Local: p from a parsed dsc train command line and its input files; DSC_ERR
 * naming the option. */
int train_params_from_cli(cli_command *cmd, char **files, int nfiles, train_params *p);
int dsc_train(MPI_Comm comm, train_params *p);

#endif
