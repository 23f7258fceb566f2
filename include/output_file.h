/*
 * output_file.h - outputs that never destroy data.
 *
 * Every command that writes checks its output paths first, with one helper
 * (output_check / output_prepare): before the long computation, an output
 * file must be a regular file or not exist yet (never a symbolic link, a
 * device, a folder or one of the command's inputs) in a writable folder; an
 * output folder must be a folder (or a link to one) that holds none of the
 * inputs and can be written.
 *
 * Every file is then written under a unique temporary name in the same
 * folder (output_temp_name: process id and a random number, so two runs
 * into one folder never share one) and renamed over the final name only when
 * everything was written and its size checked: a failed or interrupted run
 * never leaves a half-written output behind.  output_file does this for the
 * small files one rank writes (CSV, JSON, checkpoints).
 */
#ifndef DSC_OUTPUT_FILE_H
#define DSC_OUTPUT_FILE_H

/* Room for a path: a folder name of up to PATH_MAX (4096) bytes and a file name in it. */
#define DSC_PATH_MAX 4200

#include <mpi.h>
#include <stdio.h>

typedef struct {
    FILE *f;
    char path[4096]; /* final name */
    char tmp[DSC_PATH_MAX];  /* DIR/.NAME.tmp.PID.RANDOM while writing */
} output_file;

/* Opens a temporary name next to path with fopen mode ("w" or "wb").
 * DSC_ERR with a message naming the file on failure. */
int output_file_open(output_file *o, const char *path, const char *mode);
/* Flushes, closes, checks the size on disk and renames to the final name.
 * On any write error the temporary file is removed and DSC_ERR returned with
 * a message naming the file and the reason. */
int output_file_commit(output_file *o);
/* Closes and removes the temporary file (after an error of the caller). */
void output_file_abort(output_file *o);

/* tmp = DIR/.NAME.tmp.PID.RANDOM for path = DIR/NAME.  Local: a collective
 * writer calls it on one rank and broadcasts the name.  DSC_ERR (with a
 * message) when the name does not fit in len. */
int output_temp_name(char *tmp, size_t len, const char *path);

typedef enum { OUTPUT_FILE, OUTPUT_FOLDER } output_kind;

/* Local (rank 0): whether path may be written as an output of the given
 * kind by option (e.g. "dsc eval: option -o"), inputs (ninputs paths, may be
 * NULL) being the files the command reads.  An output folder must exist
 * already.  DSC_ERR with one line naming the option, the path and what to
 * do. */
int output_check(const char *path, output_kind kind, const char *option, char *const *inputs, int ninputs);
/* Collective: output_check on rank 0, agreed by every rank. */
int output_prepare(MPI_Comm comm, const char *path, output_kind kind, const char *option, char *const *inputs, int ninputs);
/* Local: 1 when a and b name the same file (the same inode, or the same
 * resolved location for names that do not exist yet). */
int output_same_file(const char *a, const char *b);

/* Local: the bytes a netCDF file open in data mode (ncid) needs on disk,
 * from its header: the end of the last fixed-size variable or of the last
 * record.  MPI-IO can lose writes on a full disk without reporting an
 * error, so writers compare this with the size of the closed file. */
int output_nc_expected_size(int ncid, long long *size);
/* The same for a file that will hold nrecs records. */
int output_nc_size_for(int ncid, long long nrecs, long long *size);
/* Local (one rank): allocates the first size bytes of the file path (zeros
 * where nothing was written yet), or DSC_ERR naming final (the final name)
 * when the device has no room for them. */
int output_reserve(const char *path, const char *final, long long size);
/* Local: DSC_OK when the closed file tmp holds at least expected bytes,
 * else DSC_ERR with a message naming path (the final name). */
int output_check_size(const char *tmp, const char *path, long long expected);

#endif
