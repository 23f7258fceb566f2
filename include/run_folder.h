/*
 * run_folder.h - the output folder of a clustering run (dsc kmeans, ward,
 * predict, compare; dsc train through train_folder.h).
 */
#ifndef DSC_RUN_FOLDER_H
#define DSC_RUN_FOLDER_H

#include <mpi.h>

/* Collective (rank 0 checks): creates dir if missing; refuses a folder that
 * holds files unless force, a path that is not a folder, one of the input
 * files, and a folder that cannot be written (a probe file is created and
 * removed), each with one line naming the folder and what to do. */
int run_folder_prepare(MPI_Comm comm, const char *dir, int force, const char *command, char **inputs, int ninputs);
/* Collective: DSC_ERR with one line when the file input (a --truth or -m
 * file, may be NULL) is one the command would write in dir (labels.csv,
 * model.ckpt, ...). */
int run_folder_spares(MPI_Comm comm, const char *dir, const char *command, const char *option, const char *input);

#endif
