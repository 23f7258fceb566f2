/*
 * run_input.h - what a clustering run reads: the ERA5 files, normalised
 * (preprocess.h), and the reference labelling of --truth.
 */
#ifndef DSC_RUN_INPUT_H
#define DSC_RUN_INPUT_H

#include <mpi.h>
#include <stddef.h>
#include "era5_catalog.h"
#include "era5_reader.h"
#include "preprocess.h"

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

/* Collective: labels (T) of the time steps of the catalog from the
 * 'time,label' CSV path (by day with daily_mean), as written there. */
int run_labels_load(MPI_Comm comm, const char *path, const era5_catalog *cat, int daily_mean, int *labels);
/* Collective: truth (T) receives the reference labelling of path matched to
 * the catalog's time steps (by day with daily_mean), encoded 0..kt-1. */
int run_truth_load(MPI_Comm comm, const char *path, const era5_catalog *cat, int daily_mean, int *truth, int *kt);

#endif
