/*
 * era5_reader.h - parallel reading of the field data of an era5_catalog.
 *
 * Ranks form a T x Y x X process grid.  Each rank reads the spatial tile of
 * its time block with collective PnetCDF calls (ranks with nothing to read
 * join with a zero count), unpacks (scale_factor, add_offset), turns
 * _FillValue / missing_value into NaN, combines expver entries and forms
 * daily means.  The tiles are then redistributed with MPI_Alltoallv so that
 * every rank holds whole samples: all variables and grid points of a
 * contiguous block of time steps (block_range(ntime, nranks, rank)), which is
 * what data-parallel training and the metrics need.
 */
#ifndef DSC_ERA5_READER_H
#define DSC_ERA5_READER_H

#include <mpi.h>
#include "era5_catalog.h"

typedef struct {
    int dims[3];   /* ranks along time, latitude, longitude */
    int coords[3]; /* this rank's position */
} process_grid;

/* Picks dims for nranks (requested[k] > 0 fixes that dimension; the product
 * of fixed entries must divide nranks).  Automatic choice: split time first
 * (each rank reads whole fields, the largest contiguous requests), and split
 * space only when there are fewer time steps than ranks.  DSC_ERR with a
 * message naming --process-grid on an impossible request. */
int process_grid_choose(int nranks, long long ntime, int nlat, int nlon, const int requested[3], process_grid *grid, int rank);

typedef struct {
    long long ntime;            /* T over all ranks */
    long long t0;               /* first time index held here */
    long long nt;               /* samples held here */
    int nvars, nlat, nlon;
    float *data;                /* (nt, V, Y, X), NaN = missing */
    double *time;               /* (nt) hours since 1900-01-01 */
    long long missing[ERA5_MAX_VARS]; /* missing values per variable over all ranks */
    process_grid grid;          /* the grid used for reading */
} era5_samples;

/* Collective.  Fails (agreed) when there are more ranks than time steps, on
 * read errors naming the file, and when a variable is missing everywhere. */
int era5_read_samples(MPI_Comm comm, const era5_catalog *cat, const era5_options *opt, era5_samples *out);
void era5_samples_destroy(era5_samples *s);

#endif
