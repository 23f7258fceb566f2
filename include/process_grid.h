/*
 * process_grid.h - the T x Y x X grid of ranks that reads the data
 * (src/data/process_grid.c), and the block of the output each rank reads:
 * era5_reader.c reads with it, and the tests check its splits.
 */
#ifndef DSC_PROCESS_GRID_H
#define DSC_PROCESS_GRID_H

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

/* The block of the output a rank of the grid reads when the time axis is
 * one segment: output times [t0, t0 + nt), latitudes [y0, y0 + ny) and
 * longitudes [x0, x0 + nx) of the selection (block_range along each
 * dimension of the grid).  With several segments the latitudes and
 * longitudes stay, the times are those of process_grid_times. */
typedef struct {
    long long t0, nt;
    int y0, ny, x0, nx;
} era5_tile;
void process_grid_tile(const process_grid *grid, long long ntime, int nlat, int nlon, era5_tile *tile);

/* The output times a rank of the grid reads when the time axis [0, ntime)
 * is cut into the nseg segments [seg[i], seg[i + 1]) (seg[0] = 0,
 * seg[nseg] = ntime; seg = NULL: one segment): block_range of every segment
 * over grid->dims[0], this rank's pieces in time order.  Writes them to
 * times (nt) unless NULL and returns their number nt. */
long long process_grid_times(const process_grid *grid, long long ntime, int nseg, const long long *seg, long long *times);

#endif
