/*
 * train_folder.h - the output folder of dsc train as one unit.
 *
 * A run holds a lock on its folder from start to end (flock on the open
 * folder, rank 0: the kernel drops it when the process dies, so a killed
 * run never blocks the next one), so two runs (--force, --resume) never
 * write into one folder at once.  config.txt is written into the folder
 * only with the run's first checkpoint (train_folder_begin keeps the files
 * it replaces); the final outputs, config.txt among them, go to a hidden
 * staging folder inside it, after the room for all of them was reserved,
 * and are renamed into place together at the end (train_folder_stage,
 * train_folder_commit).  A run that fails removes exactly what it wrote:
 * its staging folder; its config.txt unless it left a checkpoint to resume
 * from (the files it replaced, with --force, are put back); the folder
 * itself when it made it.  A run killed before its first checkpoint leaves
 * at most the folder it made and hidden files the next run removes.
 */
#ifndef DSC_TRAIN_FOLDER_H
#define DSC_TRAIN_FOLDER_H

#include "output_file.h"

#include <mpi.h>
#include <sys/stat.h>

#define TRAIN_FOLDER_PATH DSC_PATH_MAX

typedef struct {
    const char *dir;
    int rank;
    /* rank 0 only */
    int lock_fd;                         /* the folder, open, flock held; -1 none */
    int created;                         /* this run made the folder */
    int began;                           /* train_folder_begin ran: config.txt is this run's */
    char config_prev[TRAIN_FOLDER_PATH]; /* hard link to the config.txt replaced, "" none */
    char ckpt_prev[TRAIN_FOLDER_PATH];   /* hard link to the checkpoint.ckpt of an earlier run (--force), "" none */
    struct stat ckpt_start;              /* checkpoint.ckpt as the training started */
    int had_ckpt;
    /* every rank */
    char staging[TRAIN_FOLDER_PATH];     /* DIR/.outputs.tmp.PID.RANDOM while the outputs are written, "" none */
} train_folder;

/* Collective.  A new run: refuses an input (truth) that the run would
 * overwrite, makes or checks dir (run_folder_prepare: empty unless force),
 * takes the lock and checks again under it.  resume: dir must be a folder
 * holding config.txt; takes the lock and removes what a killed run left
 * (staging folders).  One error line naming the folder on failure; tf is
 * ready for train_folder_end in any case. */
int train_folder_open(MPI_Comm comm, train_folder *tf, const char *dir, int resume, int force, char **inputs, int ninputs,
                      const char *truth);

/* Local, rank 0, before config.txt is written: keeps the config.txt it
 * replaces (and, for a new run, an earlier run's checkpoint.ckpt, which no
 * longer belongs to the folder's config.txt) under hidden names, to be put
 * back if this run fails without a checkpoint of its own. */
int train_folder_begin(train_folder *tf, int resume);

/* Collective: makes the staging folder and reserves bytes there (released
 * again before returning), so that a full device is reported before any
 * output is written: one line naming dir and the reason.  The outputs are
 * then written into tf->staging. */
int train_folder_stage(MPI_Comm comm, train_folder *tf, long long bytes);

/* Collective: renames the files of the staging folder into dir, metrics.json
 * last, and removes the staging folder. */
int train_folder_commit(MPI_Comm comm, train_folder *tf);

/* Local (rank 0 acts): after the run with its final status (DSC_OK,
 * DSC_STOPPED or DSC_ERR) cleans up as described above and drops the
 * lock. */
void train_folder_end(train_folder *tf, int status);

#endif
