/*
 * run_gather.c - per-time-step results of every rank's block of time steps
 * (block_range layout) gathered on one or all ranks (see run_gather.h).
 */
#include "run_gather.h"
#include "partition.h"

#include <stdlib.h>

void run_block_counts(long long T, int P, int per_row, int *counts, int *displs)
{
    for (int r = 0; r < P; r++) {
        long long a, c;
        block_range(T, P, r, &a, &c);
        counts[r] = (int)(c * per_row);
        displs[r] = (int)(a * per_row);
    }
}

void run_allgather_ints(MPI_Comm comm, const int *mine, long long T, int *all)
{
    int rank, P;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &P);
    int *counts = malloc((size_t)2 * P * sizeof(int));
    if (!counts) MPI_Abort(comm, 1);
    run_block_counts(T, P, 1, counts, counts + P);
    MPI_Allgatherv(mine, counts[rank], MPI_INT, all, counts, counts + P, MPI_INT, comm);
    free(counts);
}

void run_gather_rows(MPI_Comm comm, const double *mine, long long T, int K, double *all)
{
    int rank, P;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &P);
    int *counts = malloc((size_t)2 * P * sizeof(int));
    if (!counts) MPI_Abort(comm, 1);
    run_block_counts(T, P, K, counts, counts + P);
    MPI_Gatherv(mine, counts[rank], MPI_DOUBLE, all, counts, counts + P, MPI_DOUBLE, 0, comm);
    free(counts);
}
