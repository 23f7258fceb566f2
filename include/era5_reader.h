/*
 * era5_reader.h - parallel reading of the field data of an era5_catalog.
 *
 * Ranks form a T x Y x X process grid.  The output time axis is cut into
 * segments whose steps lie in one file, and every segment is split over the
 * time dimension of the grid, so that every time rank reads a piece of every
 * file: all ranks read at once, with collective PnetCDF calls per file (ranks
 * with nothing to read join with a zero count).  Each rank reads the spatial
 * tile of its output times, unpacks (scale_factor, add_offset), turns
 * _FillValue / missing_value into NaN, combines expver entries and forms
 * daily means.  The tiles are then redistributed (MPI_Alltoallv, or
 * point-to-point messages straight into place when the tiles are whole
 * fields) so that every rank holds whole samples: all variables and grid
 * points of a contiguous block of time steps (block_range(ntime, nranks,
 * rank)), which is what data-parallel training and the metrics need.  One read request
 * fetches at most 64 MiB of raw values (environment variable
 * DSC_READ_CHUNK_BYTES to change it); a rank holds its tile and one
 * request's raw values while reading, then its tile or its samples plus one
 * receive buffer of the samples' size during the exchange.  The process
 * grid and the tiles it reads are in process_grid.h.
 */
#ifndef DSC_ERA5_READER_H
#define DSC_ERA5_READER_H

#include <mpi.h>
#include "era5_catalog.h"
#include "process_grid.h"

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
/* The same without refusing a variable that is missing everywhere: for
 * counting missing values block by block (dsc info), where one block may
 * well be all missing. */
int era5_read_samples_unchecked(MPI_Comm comm, const era5_catalog *cat, const era5_options *opt, era5_samples *out);

/* Collective: the second half of era5_read_samples.  tile (nt, V, ny, nx)
 * holds this rank's output times process_grid_times(grid, ntime, nseg, seg)
 * on the latitudes and longitudes of its era5_tile (process_grid_tile); on
 * return out holds the whole samples block_range(ntime, nranks, rank) in
 * out->data (allocated here), with out->ntime, t0, nt, nvars, nlat, nlon and
 * grid set (out->time and out->missing are left to the caller).  Every rank
 * works out what every other rank holds from grid and seg, so only values
 * travel.  The tile is consumed: freed here, or handed over as out->data
 * when every rank already holds whole fields of its own samples. */
int era5_redistribute(MPI_Comm comm, const process_grid *grid, long long ntime, int nseg, const long long *seg, int nvars, int nlat, int nlon,
                      float *tile, era5_samples *out);

#endif
