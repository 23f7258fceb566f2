/*
 * run_output.h - the files a clustering run leaves in its output folder
 * (dsc train, dsc kmeans, dsc predict), CF-conformant netCDF written with
 * PnetCDF (64-bit offset format, so every netCDF reader opens them):
 *
 *   labels.csv     time,label  (ISO 8601), what `dsc eval --labels` reads
 *   labels.nc      time (the input's time coordinate), label(time),
 *                  q(time, cluster) the soft assignments when there are any,
 *                  cluster(cluster), and the labelling's life cycle
 *                  (regime_stats.h): month(month), month_frequency(month,
 *                  cluster), transitions(cluster, cluster_to),
 *                  episode_mean_days, episode_median_days and
 *                  episodes(cluster), and the episode table
 *                  episode_start, episode_days, episode_label(episode)
 *   latent.nc      z(time, latent): the latent vector of every time step
 *   centroids.nc   centroid(cluster, feature)
 *   eofs.nc, pcs.nc  with --pca: the EOF patterns and principal components
 *   composites.nc  per cluster: the mean of every input variable in physical
 *                  units on the input's latitude / longitude, its anomaly from
 *                  the mean of all time steps, and the member count
 *
 * Every file is written under a temporary name in the same folder and renamed
 * once complete (and its size checked), so a killed run never leaves a
 * complete-looking half file.  All functions are collective over comm and
 * return an agreed status with a message naming the file.
 *
 * Dimension letters: T time steps over all ranks, N time steps held here
 * (global [t0, t0 + N)), K clusters, L latent size, V variables, Y, X grid.
 */
#ifndef DSC_RUN_OUTPUT_H
#define DSC_RUN_OUTPUT_H

#include <mpi.h>
#include "era5_catalog.h"
#include "era5_reader.h"
#include "regime_stats.h"

/* labels.csv and labels.nc.  labels (T) and, unless NULL, q (T, K) hold all
 * time steps and are read on rank 0 only (rank 0 writes both files). */
int run_output_labels(MPI_Comm comm, const char *dir, const era5_catalog *cat, const int *labels, const double *q, int k);
/* The same with the labelling's life cycle st (regime_stats.h, read on rank
 * 0; NULL: none) in labels.nc: what the run skeleton writes. */
int run_output_labels_regimes(MPI_Comm comm, const char *dir, const era5_catalog *cat, const int *labels, const double *q,
                              int k, const regime_stats *st);

/* latent.nc from the rows z (N, L) of every rank (global rows [t0, t0+N)). */
int run_output_latent(MPI_Comm comm, const char *dir, const era5_catalog *cat, const float *z, long long t0, long long n,
                      int L);

/* The same into the file path (any name), e.g. for dsc eval --save-latent. */
int run_output_latent_file(MPI_Comm comm, const char *path, const era5_catalog *cat, const float *z, long long t0,
                           long long n, int L);

/* centroids.nc: centroids (K, D), identical on every rank; space names what
 * the D features are ("latent", "input" for the normalised input cells, or
 * "pca" for the principal components of dsc kmeans / ward --pca). */
int run_output_centroids(MPI_Comm comm, const char *dir, const double *centroids, int k, int d, const char *space);

/* composites.nc from the raw samples s (physical units, NaN = missing) of
 * every rank and labels (T) of all time steps (identical on every rank).
 * Means skip missing values; a cell without valid values is _FillValue. */
int run_output_composites(MPI_Comm comm, const char *dir, const era5_catalog *cat, const era5_samples *s,
                          const int *labels, int k);

/* eofs.nc (rank 0 writes it): per input variable VAR_eof(mode, latitude,
 * longitude), the EOF patterns (C, D) on the input grid (D = V * Y * X in
 * that order), with explained_variance(mode) and
 * explained_variance_ratio(mode). */
int run_output_eofs(MPI_Comm comm, const char *dir, const era5_catalog *cat, const double *patterns, const double *variance,
                    const double *ratio, int c);

/* pcs.nc: pc(time, mode) from the rows scores (N, C) of every rank (global
 * rows [t0, t0 + N)), with the explained variance (ratio) of every mode. */
int run_output_pcs(MPI_Comm comm, const char *dir, const era5_catalog *cat, const float *scores, long long t0, long long n,
                   const double *variance, const double *ratio, int c);

#endif
