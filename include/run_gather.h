/*
 * run_gather.h - per-time-step results of the ranks' blocks of time steps
 * (block_range layout, partition.h) gathered on one or every rank.
 */
#ifndef DSC_RUN_GATHER_H
#define DSC_RUN_GATHER_H

#include <mpi.h>

/* Local: counts and displacements (P) of the per-time-step blocks of every
 * rank, in units of per_row elements (block_range layout). */
void run_block_counts(long long T, int P, int per_row, int *counts, int *displs);

/* Collective: all (T) on every rank from this rank's block (N) of a
 * per-time-step int array (block_range layout). */
void run_allgather_ints(MPI_Comm comm, const int *mine, long long T, int *all);
/* Collective: all (T, K) on rank 0 from this rank's rows (N, K); all may be
 * NULL elsewhere. */
void run_gather_rows(MPI_Comm comm, const double *mine, long long T, int K, double *all);

#endif
