/*
 * ward.h - exact agglomerative clustering with Ward's linkage (the
 * "hierarchical" baseline of the paper, scikit-learn's
 * AgglomerativeClustering default) of rows held in contiguous blocks by the
 * ranks (time steps, block_range layout).
 *
 * Every rank computes partial squared Euclidean distances between all T
 * rows over its own slice of the features (the rows are redistributed from
 * time blocks to feature slices with one MPI_Alltoallv); the partial
 * distances are summed onto rank 0 (MPI_Reduce, in blocks of rows), which
 * holds the condensed matrix of T (T - 1) / 2 doubles and runs the
 * nearest-neighbour chain algorithm with the Lance-Williams update of
 * Ward's linkage.  Memory on rank 0: T (T - 1) / 2 * 8 bytes (about 4 GiB
 * for 32768 time steps), time O(T^2 D / P) for the distances and O(T^2)
 * for the linkage.
 *
 * Dimension letters: T rows over all ranks, N rows here, D features.
 */
#ifndef DSC_WARD_H
#define DSC_WARD_H

#include <mpi.h>

/* Bytes of the condensed distance matrix of T rows on rank 0. */
double ward_matrix_bytes(long long T);
/* The most rows whose condensed matrix fits in bytes. */
long long ward_max_rows(double bytes);

/* Local: the dendrogram of the condensed squared Euclidean distances dist
 * (index i (i - 1) / 2 + j for rows j < i; destroyed) of T rows cut into k
 * clusters: labels (T) numbered 0..K-1 in order of their first row.
 * DSC_ERR when out of memory.  Used on rank 0 by ward_fit; exposed for the
 * tests. */
int ward_linkage_labels(double *dist, long long T, int k, int *labels);

/* Collective.  x (N, D) this rank's rows; labels_all (T) receives the
 * clusters on every rank.  DSC_ERR (agreed) when 2 <= K < T does not hold,
 * when the condensed matrix would need more than max_bytes (the message
 * gives the limit in time steps), or out of memory. */
int ward_fit(MPI_Comm comm, const float *x, long long n, int d, int k, double max_bytes, int *labels_all);

#endif
