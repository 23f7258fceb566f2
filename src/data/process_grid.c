/*
 * process_grid.c - the T x Y x X grid of ranks used for reading.
 *
 * Reading is fastest with whole fields per rank: one request per file,
 * variable and run of consecutive time steps covers complete latitude rows,
 * so the automatic choice splits time as far as it can and space only for
 * what is left (when --process-grid fixes the time split, or when there are
 * fewer time steps than ranks).  Among the spatial splits it prefers
 * latitude: a latitude band is still made of whole longitude rows, which are
 * contiguous on disk.
 *
 * The time split is applied within every segment of the time axis (the
 * output times whose steps lie in one file, see era5_reader.c), not to the
 * axis as a whole: with one file per year, T time ranks each read a piece of
 * every year instead of T ranks reading T different years one after the
 * other (every file is read collectively).
 */
#include "process_grid.h"
#include "partition.h"
#include "status.h"

#include <stdio.h>

static const char *dimension_names[3] = {"time", "latitude", "longitude"};
static const char *dimension_plural[3] = {"time steps", "latitudes", "longitudes"};

int process_grid_choose(int nranks, long long ntime, int nlat, int nlon, const int requested[3], process_grid *grid, int rank)
{
    const long long extent[3] = {ntime, nlat, nlon};
    char text[64];
    snprintf(text, sizeof text, "%dx%dx%d", requested[0], requested[1], requested[2]);

    if (nranks < 1) return dsc_fail("process grid for %d ranks", nranks);
    long long fixed = 1;
    for (int k = 0; k < 3; k++) {
        if (requested[k] < 0)
            return dsc_fail("option --process-grid: '%s' has a negative entry; give TxYxX with positive counts (0 = automatic)", text);
        if (requested[k] > 0) {
            fixed *= requested[k];
            if (requested[k] > extent[k])
                return dsc_fail("option --process-grid: %s splits %s into %d parts but there are only %lld %s; use at most %lld",
                                text, dimension_names[k], requested[k], extent[k], dimension_plural[k], extent[k]);
        }
    }
    int all_fixed = requested[0] > 0 && requested[1] > 0 && requested[2] > 0;
    if (all_fixed && fixed != nranks)
        return dsc_fail("option --process-grid: %s uses %lld ranks but the job has %d; give a grid whose product is %d (0 = automatic along a dimension)",
                        text, fixed, nranks, nranks);
    if (nranks % fixed != 0)
        return dsc_fail("option --process-grid: the fixed entries of %s multiply to %lld, which does not divide the %d ranks; give counts whose product divides %d",
                        text, fixed, nranks, nranks);

    /* Every factorisation nranks = d0 * d1 * d2 that honours the fixed
     * entries and the extents; keep the one with the largest time split,
     * then the largest latitude split. */
    int best[3] = {0, 0, 0};
    for (int d0 = 1; d0 <= nranks; d0++) {
        if (nranks % d0 || (requested[0] > 0 && d0 != requested[0]) || d0 > extent[0]) continue;
        int rest = nranks / d0;
        for (int d1 = 1; d1 <= rest; d1++) {
            if (rest % d1 || (requested[1] > 0 && d1 != requested[1]) || d1 > extent[1]) continue;
            int d2 = rest / d1;
            if ((requested[2] > 0 && d2 != requested[2]) || d2 > extent[2]) continue;
            if (d0 > best[0] || (d0 == best[0] && d1 > best[1])) {
                best[0] = d0;
                best[1] = d1;
                best[2] = d2;
            }
        }
    }
    if (best[0] == 0)
        return dsc_fail("option --process-grid: no grid %s of %d ranks fits %lld time steps x %d latitudes x %d longitudes; use fewer ranks or another --process-grid",
                        text, nranks, ntime, nlat, nlon);

    for (int k = 0; k < 3; k++) grid->dims[k] = best[k];
    /* Row-major rank order: ranks next to each other share a time block,
     * so a time block's spatial tiles sit on neighbouring ranks. */
    grid->coords[0] = rank / (best[1] * best[2]);
    grid->coords[1] = (rank / best[2]) % best[1];
    grid->coords[2] = rank % best[2];
    return DSC_OK;
}

void process_grid_tile(const process_grid *grid, long long ntime, int nlat, int nlon, era5_tile *tile)
{
    long long start, count;
    block_range(ntime, grid->dims[0], grid->coords[0], &tile->t0, &tile->nt);
    block_range(nlat, grid->dims[1], grid->coords[1], &start, &count);
    tile->y0 = (int)start;
    tile->ny = (int)count;
    block_range(nlon, grid->dims[2], grid->coords[2], &start, &count);
    tile->x0 = (int)start;
    tile->nx = (int)count;
}

long long process_grid_times(const process_grid *grid, long long ntime, int nseg, const long long *seg, long long *times)
{
    long long nt = 0;
    for (int i = 0; i < (seg ? nseg : 1); i++) {
        long long s0 = seg ? seg[i] : 0, sn = seg ? seg[i + 1] - seg[i] : ntime, start, count;
        block_range(sn, grid->dims[0], grid->coords[0], &start, &count);
        for (long long t = s0 + start; t < s0 + start + count; t++) {
            if (times) times[nt] = t;
            nt++;
        }
    }
    return nt;
}
