/*
 * labels.h - cluster labels and reference ("truth") labellings as CSV:
 *
 *     time,label
 *     1979-01-01T00:00:00,3
 *     1979-01-02T00:00:00,0
 *
 * one line per time step, ISO 8601 times (cf_time.h), integer labels; an
 * optional header line, empty lines and lines starting with '#' are
 * skipped.  dsc train writes this format; dsc synth writes truth.csv in it.
 */
#ifndef DSC_LABELS_H
#define DSC_LABELS_H

#include <mpi.h>

typedef struct {
    long long n;
    double *hours;   /* (n) hours since 1900-01-01 */
    int *values;     /* (n) */
    long long *line; /* (n) line number in the file, for messages */
} label_table;

/* Collective: rank 0 reads and parses path, every rank gets the table.
 * DSC_ERR (agreed) names the file and line of a malformed or duplicated
 * entry. */
int labels_read(MPI_Comm comm, const char *path, label_table *out);
void labels_destroy(label_table *t);

/* Local: out[t] = label of the time step time[t] (hours since 1900-01-01),
 * matched to the second, or by UTC day when by_day (daily means).  Labels for
 * other times are ignored.  DSC_ERR, naming path, when a time step has no
 * label. */
int labels_match(int *out, const label_table *t, const char *path, const double *time, long long ntime, int by_day);

/* Rank 0 writes `time,label` lines through a temporary name and renames
 * (header "time,label").  Local; DSC_ERR naming path on failure. */
int labels_write(const char *path, const double *hours, const int *values, long long n);

#endif
