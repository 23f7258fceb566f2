/*
 * model_inputs.h - a trained model's inputs: which variables (canonical
 * names, after the aliases of era5_catalog.c), in which units, on which
 * grid and in which order, and matching new data to them (dsc predict and
 * dsc eval --metric-space latent --model).
 *
 * dsc train records the inputs with the normalisation statistics (the
 * statistics record of version 3, preprocess.h), which go into every
 * checkpoint it writes.  A command that applies a model opens the data
 * with model_inputs_open: the variables are matched by name and read in
 * the model's order, whatever order --vars or the files give them in;
 * a variable the data lack, other units or other coordinates (beyond
 * MODEL_INPUTS_TOLERANCE degrees) are one error naming the model file.
 * A checkpoint of an older dsc (statistics without inputs) is matched by
 * position, with one warning.
 */
#ifndef DSC_MODEL_INPUTS_H
#define DSC_MODEL_INPUTS_H

#include <mpi.h>
#include "era5_catalog.h"
#include "preprocess.h"

/* Coordinates that differ by more than this (degrees) are another grid. */
#define MODEL_INPUTS_TOLERANCE 1e-4

/* Local: records in st the variables (names, units) and the grid of the
 * catalog the statistics were fitted on (st->has_inputs = 1). */
int model_inputs_describe(preprocess_stats *st, const era5_catalog *cat);

/* Collective: opens the catalog of files for the model checkpoint mpath.
 * Refuses a checkpoint without trained centroids (a run stopped during
 * pre-training).  When the checkpoint records its inputs, eo->vars is set
 * to the model's variables in the model's order (any --vars must name the
 * same variables, in any order) and the catalog is checked against the
 * model: variables, units, grid size and coordinates; every mismatch is
 * one error naming mpath.  Without recorded inputs the catalog is opened
 * as eo says, with one warning that the variables are matched by
 * position.  mpath NULL: era5_catalog_open, nothing else. */
int model_inputs_open(MPI_Comm comm, const char *mpath, char **files, int nfiles, era5_options *eo, era5_catalog *cat);

/* Local: DSC_ERR with a message naming mpath when the training state of a
 * checkpoint (the state section, may be NULL / 0 bytes: then nothing can be
 * told) says that its centroids were never initialised. */
int model_inputs_check_trained(const char *mpath, const void *state, size_t state_bytes);
/* Local: st from the statistics record blob (blob_bytes) of checkpoint mpath;
 * DSC_ERR naming mpath when the record is damaged. */
int model_inputs_unpack_stats(preprocess_stats *st, const char *mpath, const void *blob, size_t blob_bytes);

#endif
