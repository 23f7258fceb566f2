/*
 * output_file.h - small files written by one rank (CSV, JSON, checkpoints)
 * through a temporary name in the same directory, renamed over the final
 * name only when everything was written: a failed or interrupted run never
 * leaves a half-written output behind.
 */
#ifndef DSC_OUTPUT_FILE_H
#define DSC_OUTPUT_FILE_H

#include <stdio.h>

typedef struct {
    FILE *f;
    char path[4096]; /* final name */
    char tmp[4200];  /* PATH.tmp.PID while writing */
} output_file;

/* Opens PATH.tmp.PID with fopen mode ("w" or "wb").  DSC_ERR with a message
 * naming the file on failure. */
int output_file_open(output_file *o, const char *path, const char *mode);
/* Flushes, closes and renames to the final name.  On any write error the
 * temporary file is removed and DSC_ERR returned with a message. */
int output_file_commit(output_file *o);
/* Closes and removes the temporary file (after an error of the caller). */
void output_file_abort(output_file *o);

#endif
