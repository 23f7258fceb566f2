/*
 * commands.h - the dsc subcommands.  Each takes argv with argv[0] = the
 * subcommand name and the communicator of all ranks, and returns DSC_OK,
 * CLI_HELP, or DSC_ERR after dsc_agree() has printed the error on rank 0.
 * All ranks return the same value.
 */
#ifndef DSC_COMMANDS_H
#define DSC_COMMANDS_H

#include <mpi.h>

int synth_command(int argc, char **argv, MPI_Comm comm); /* cmd_synth.c */
int info_command(int argc, char **argv, MPI_Comm comm);  /* cmd_info.c  */

int train_command(int argc, char **argv, MPI_Comm comm);   /* cmd_train.c   */
int kmeans_command(int argc, char **argv, MPI_Comm comm);  /* cmd_kmeans.c  */
int ward_command(int argc, char **argv, MPI_Comm comm);    /* cmd_ward.c    */
int predict_command(int argc, char **argv, MPI_Comm comm); /* cmd_predict.c */
int eval_command(int argc, char **argv, MPI_Comm comm);  /* cmd_eval.c  */
int compare_command(int argc, char **argv, MPI_Comm comm); /* cmd_compare.c */

int bench_command(int argc, char **argv, MPI_Comm comm); /* cmd_bench.c */

#endif
