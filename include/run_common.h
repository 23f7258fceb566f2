/*
 * run_common.h - what the commands share: the reading options of every
 * command that reads ERA5 files (info, train, kmeans, predict, eval), and
 * for the clustering commands (dsc train, dsc kmeans, dsc predict) the
 * output folder, reading and normalising the input, and gathering
 * per-time-step results.
 */
#ifndef DSC_RUN_COMMON_H
#define DSC_RUN_COMMON_H

#include <mpi.h>
#include <stddef.h>
#include "cli.h"
#include "era5_catalog.h"
#include "era5_reader.h"
#include "preprocess.h"

/* Options table entries for cli.h, to be placed in a command's table. */
#define ERA5_CLI_OPTIONS                                                                                        \
    {"vars", 0, "LIST", NULL, "comma-separated variables to read (names or aliases: t2m, 2t, var167, ...); all if absent"}, \
    {"box", 0, "S,N,W,E", NULL, "latitude/longitude box in degrees (south,north,west,east); whole grid if absent"},   \
    {"time-range", 0, "START/END", NULL, "inclusive time range, ISO 8601 (1980-01-01/1989-12-31: END's whole day; START/ or /END leave one side open); everything if absent"}, \
    {"daily-mean", 0, NULL, NULL, "average sub-daily steps into daily means (UTC days)"},                          \
    {"level", 0, "HPA", NULL, "pressure levels to read of variables on levels, comma-separated (500,850); or name one in --vars as z@500"}, \
    {"process-grid", 0, "TxYxX", "auto", "ranks along time, latitude and longitude for reading"}

/* Fills opt from a parsed command that contains ERA5_CLI_OPTIONS; DSC_ERR
 * with a message naming the option. */
int era5_options_from_cli(const cli_command *cmd, era5_options *opt);

/* Options every clustering command takes, for its cli_option table. */
#define RUN_CLI_OPTIONS                                                                                           \
    {"truth", 0, "FILE", NULL, "reference labelling ('time,label' CSV, e.g. truth.csv of dsc synth): ARI and NMI in metrics.json"}, \
    {"sample", 0, "N", "0", "silhouettes of the final labels on a random subset of N time steps (0: all, exact)"},      \
    {"force", 0, NULL, NULL, "write into a non-empty output folder"},                                                   \
    {"quiet", 'q', NULL, NULL, "print nothing but errors"}

/* Collective (rank 0 checks): creates dir if missing; refuses a folder that
 * holds files unless force, a path that is not a folder, one of the input
 * files, and a folder that cannot be written (a probe file is created and
 * removed), each with one line naming the folder and what to do. */
int run_folder_prepare(MPI_Comm comm, const char *dir, int force, const char *command, char **inputs, int ninputs);
/* Collective: DSC_ERR with one line when the file input (a --truth or -m
 * file, may be NULL) is one the command would write in dir (labels.csv,
 * model.ckpt, ...). */
int run_folder_spares(MPI_Comm comm, const char *dir, const char *command, const char *option, const char *input);

/* Local: DSC_ERR with a message naming option --sample of command when
 * sample (0: all time steps) cannot hold k clusters with a sample to spare,
 * which the silhouette needs. */
int run_check_sample(const char *command, long sample, long k);

/* The input of a run: catalog, raw samples (physical units, NaN missing)
 * and the network's normalised padded frames x (N, F). */
typedef struct {
    era5_catalog cat;
    era5_samples samples;
    preprocess_stats stats;
    float *x;                 /* (N, F) normalised, padded frames */
    size_t F;                 /* V * height * width */
    int have_cat, have_samples, have_stats;
    double t_read, t_preprocess;
} run_input;

/* Collective: opens the catalog, reads the samples, fits the normalisation
 * (or uses *given, e.g. a trained model's statistics, checked against the
 * data's variables and grid) and normalises.  Fitted statistics record the
 * catalog's variables and grid (model_inputs_describe), so that a model
 * saved with them knows its inputs.  On failure everything is freed. */
int run_input_load(MPI_Comm comm, char **files, int nfiles, const era5_options *eo, const preprocess_options *po,
                   const preprocess_stats *given, run_input *in);
/* The same for an in->cat already opened (in->have_cat = 1, the rest of
 * *in zero), e.g. by model_inputs_open. */
int run_input_read(MPI_Comm comm, const era5_options *eo, const preprocess_options *po, const preprocess_stats *given,
                   run_input *in);
void run_input_destroy(run_input *in);

/* Collective: truth (T) receives the reference labelling of path matched to
 * the catalog's time steps (by day with daily_mean), encoded 0..kt-1. */
int run_truth_load(MPI_Comm comm, const char *path, const era5_catalog *cat, int daily_mean, int *truth, int *kt);

/* Local: counts and displacements (P) of the per-time-step blocks of every
 * rank, in units of per_row elements (block_range layout). */
void run_block_counts(long long T, int P, int per_row, int *counts, int *displs);

/* Collective: all (T) on every rank from this rank's block (N) of a
 * per-time-step int array (block_range layout). */
void run_allgather_ints(MPI_Comm comm, const int *mine, long long T, int *all);
/* Collective: all (T, K) on rank 0 from this rank's rows (N, K); all may be
 * NULL elsewhere. */
void run_gather_rows(MPI_Comm comm, const double *mine, long long T, int K, double *all);

/* The normalisation statistics as checkpoint blob bytes (malloc'ed). */
int run_stats_blob(const preprocess_stats *st, void **blob, size_t *bytes);
/* Local: 1 when the blob of a checkpoint (saved) holds the normalisation of
 * blob: the same bytes, or the same record without the inputs (a
 * checkpoint of an older dsc, resumed). */
int run_stats_blob_matches(const void *saved, size_t saved_bytes, const void *blob, size_t blob_bytes);

#endif
