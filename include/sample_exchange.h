/*
 * sample_exchange.h - moving whole samples (time steps) between the ranks.
 *
 * After reading, rank r holds the rows block_range(T, P, r) of the
 * normalised sample matrix (T, F).  Data-parallel training draws its batches
 * from one permutation of GLOBAL time-step indices, and a sequence window or
 * a batch aligned to global positions reaches into the neighbours' blocks,
 * so a rank needs a few rows it does not hold: sample_fetch moves exactly
 * those (one MPI_Alltoall of counts, one MPI_Alltoallv of indices and one of
 * rows).  One daily 48x48x7 sample is 64 KB, a batch of them is far smaller
 * than the gradient allreduce.
 */
#ifndef DSC_SAMPLE_EXCHANGE_H
#define DSC_SAMPLE_EXCHANGE_H

#include <mpi.h>
#include <stddef.h>

/* Rank holding global row g when T rows are split in contiguous blocks
 * (block_range of partition.h) over P ranks. */
int sample_owner(long long T, int P, long long g);

/* Collective: out (n_want, F) receives the global rows want[i] (any order,
 * repeats allowed; a rank may want nothing) of the distributed matrix of
 * which this rank holds x (N, F) = rows block_range(T, P, rank). */
int sample_fetch(MPI_Comm comm, const float *x, long long T, size_t F, const long long *want, long long n_want, float *out);

/* The record's segments: runs of time steps with no gap between them (a
 * missing file, missing days).  A sequence window stays inside the segment
 * of its last time step, so that the LSTM never reads two days that are
 * months apart as consecutive.  starts: the first time step of every
 * segment but the first, ascending (copied); n = 0: one segment.  The
 * table belongs to the process and is the same on every rank:
 * era5_catalog_open sets it for the record it opens.  DSC_ERR: out of
 * memory. */
int sample_set_segments(const long long *starts, long long n);
/* The number of segments (1 + the starts of the table). */
long long sample_segment_count(void);
/* starts (sample_segment_count()) receives the first time step of every
 * segment, the first 0: the segments of persistence.h and regime_stats.h. */
void sample_segment_starts(long long *starts);
/* The first time step of the segment holding time step g. */
long long sample_segment_start(long long g);

/* The frames of the sequence window of time step g: g - S + 1 .. g, where a
 * frame before the first time step of g's segment (the first time step of
 * the record, or the first after a gap) is replaced by that time step.
 * Writes S global indices to frames. */
void sample_window(long long g, int S, long long *frames);

#endif
