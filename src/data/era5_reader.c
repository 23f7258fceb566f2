/*
 * era5_reader.c - parallel reading of the field data of an era5_catalog.
 *
 * Dimension letters: T output time steps, S input time steps (T = S unless
 * daily means are formed), V variables, Y latitudes, X longitudes, E expver
 * entries; P ranks.
 *
 * How the data are partitioned (P ranks on a T x Y x X process grid, see
 * process_grid.c):
 *   1. Reading.  The output time axis is cut into segments, the runs of
 *      output times whose steps lie in one file (with --daily-mean a day
 *      belongs to the file of its first step).  Rank (ct, cy, cx) reads the
 *      output times block_range(segment, dims[0], ct) of every segment, on
 *      the latitudes block_range(nlat, dims[1], cy) and the longitudes
 *      block_range(nlon, dims[2], cx) of the selection, every variable; a
 *      day straddling two files is read, from both, by the rank that owns
 *      it.  So every time rank reads a piece of every file: every file is
 *      opened once over the whole communicator and read with collective
 *      calls, and a split of the whole axis into contiguous blocks would
 *      let the ranks take turns, one reading while the others join with
 *      nothing.  One ncmpi_get_vara_all per (file, variable, run of
 *      consecutive time steps), runs longer than READ_CHUNK_BYTES (64 MiB,
 *      or $DSC_READ_CHUNK_BYTES) being cut into pieces.  (Nonblocking gets
 *      of all variables completed by one ncmpi_wait_all were measured
 *      slower: PnetCDF's merging costs more than it saves here.)  Ranks
 *      agree on the number of requests per file, and a rank with fewer
 *      requests joins the remaining collectives with a zero count, as the
 *      PnetCDF examples do.  Files in the forecast layout (era5_catalog.h)
 *      are read in whole initial times, every forecast hour, each hour
 *      placed at its valid time; with two streams the variables of each
 *      are read from its own files.
 *   2. The stored values (byte, short, int, float, double, ...) are tested
 *      for _FillValue / missing_value in the packed domain (NaN and Inf too),
 *      unpacked with that file's scale_factor / add_offset, the expver
 *      entries are combined (the first entry that is not missing wins: ERA5
 *      and ERA5T never overlap), and sub-daily steps are averaged into daily
 *      means over the steps that are not missing.  Missing = NaN.
 *   3. era5_redistribute: one MPI_Alltoallv (point-to-point messages
 *      straight into place when the tiles are whole fields) turns the tiles
 *      into whole samples, a contiguous block block_range(ntime, P, rank) of time steps
 *      with every variable and grid point, layout (nt, V, Y, X).  Every rank
 *      derives the times of every other rank's tile from the segments, so
 *      the receiver knows where each received row goes.
 * A rank holds at most its tile, one read request's raw values, and during
 * the exchange the received pieces of its samples.
 *
 *   mpiexec -n 4 dsc info --process-grid 2x2x1 era5_*.nc
 */
#include "era5_reader.h"
#include "nc_file.h"
#include "partition.h"
#include "process_grid.h"
#include "status.h"

#include <limits.h>
#include <math.h>
#include <pnetcdf.h> /* the NC_ type codes, which netcdf-c shares */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

/* Upper bound of the raw values fetched by one request; the environment
 * variable DSC_READ_CHUNK_BYTES overrides it (nodes with little memory per
 * rank).  Ranks may differ: each joins as many collectives as the rank with
 * the most requests. */
#define READ_CHUNK_BYTES ((size_t)64 << 20)

static size_t read_chunk_bytes(void)
{
    const char *text = getenv("DSC_READ_CHUNK_BYTES");
    if (!text || !*text) return READ_CHUNK_BYTES;
    char *end;
    unsigned long long n = strtoull(text, &end, 10);
    return (*end == '\0' && n > 0) ? (size_t)n : READ_CHUNK_BYTES;
}

/* One collective read: count consecutive time steps of one file. */
typedef struct {
    int file;
    long long index; /* first time index in the file */
    long long count; /* consecutive steps */
    long long pos;   /* position of the first one among this rank's steps */
} read_request;

/* How one stored type is fetched. */
typedef struct {
    MPI_Datatype mpi_type;
    size_t size;
} stored_type;

static int stored_type_lookup(int xtype, stored_type *out)
{
    switch (xtype) {
    case NC_BYTE: *out = (stored_type){MPI_SIGNED_CHAR, 1}; break;
    case NC_UBYTE: *out = (stored_type){MPI_UNSIGNED_CHAR, 1}; break;
    case NC_SHORT: *out = (stored_type){MPI_SHORT, 2}; break;
    case NC_USHORT: *out = (stored_type){MPI_UNSIGNED_SHORT, 2}; break;
    case NC_INT: *out = (stored_type){MPI_INT, 4}; break;
    case NC_UINT: *out = (stored_type){MPI_UNSIGNED, 4}; break;
    case NC_FLOAT: *out = (stored_type){MPI_FLOAT, 4}; break;
    case NC_DOUBLE: *out = (stored_type){MPI_DOUBLE, 8}; break;
    default: return DSC_ERR;
    }
    return DSC_OK;
}

/* n values of a raw buffer of the given stored type, from element first
 * on, stride apart, as doubles (exact for every type read): one switch per
 * row instead of one per value. */
static void stored_row(double *dst, const void *buf, int xtype, size_t first, size_t stride, int n)
{
#define STORED_ROW(T)                                                         \
    do {                                                                      \
        const T *p = (const T *)buf + first;                                  \
        for (int i = 0; i < n; i++) dst[i] = (double)p[(size_t)i * stride];   \
    } while (0)
    switch (xtype) {
    case NC_BYTE: STORED_ROW(signed char); break;
    case NC_UBYTE: STORED_ROW(unsigned char); break;
    case NC_SHORT: STORED_ROW(short); break;
    case NC_USHORT: STORED_ROW(unsigned short); break;
    case NC_INT: STORED_ROW(int); break;
    case NC_UINT: STORED_ROW(unsigned int); break;
    case NC_FLOAT: STORED_ROW(float); break;
    default: STORED_ROW(double); break;
    }
#undef STORED_ROW
}

/* n values as in stored_row, unpacked: value * scale + offset, NaN where
 * the stored value equals fill or one of the nmiss missing values (NaN = no
 * such value, never equal), or is not finite: an Inf in a float variable is
 * no measurement and would make every metric NaN (with the finite non-zero
 * scale_factor the catalog insists on, a non-finite unpacked value means a
 * non-finite stored one).  Without branches, and with a path for contiguous values,
 * so that it vectorises: the selection of NaN is a blend once the compiler
 * may assume that comparisons do not trap (no change to any value). */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-trapping-math")))
#endif
static void unpack_row(double *dst, const void *buf, int xtype, size_t first, size_t stride, int n, double scale, double offset, double fill,
                       const double *missing, int nmiss)
{
    const double m0 = nmiss > 0 ? missing[0] : NAN;
    /* one missing value (the usual case) keeps the loops branch-free */
#define UNPACK_ROW(T)                                                                      \
    do {                                                                                   \
        const T *p = (const T *)buf + first;                                               \
        if (nmiss > 1) {                                                                   \
            for (int i = 0; i < n; i++) {                                                  \
                const double r = (double)p[(size_t)i * stride], u = r * scale + offset;    \
                int miss = (r == fill) | !isfinite(u);                                     \
                for (int k = 0; k < nmiss; k++) miss |= r == missing[k];                   \
                dst[i] = miss ? NAN : u;                                                   \
            }                                                                              \
        } else if (stride == 1) {                                                          \
            for (int i = 0; i < n; i++) {                                                  \
                const double r = (double)p[i], u = r * scale + offset;                     \
                dst[i] = ((r == fill) | (r == m0) | !isfinite(u)) ? NAN : u;               \
            }                                                                              \
        } else {                                                                           \
            for (int i = 0; i < n; i++) {                                                  \
                const double r = (double)p[(size_t)i * stride], u = r * scale + offset;    \
                dst[i] = ((r == fill) | (r == m0) | !isfinite(u)) ? NAN : u;               \
            }                                                                              \
        }                                                                                  \
    } while (0)
    switch (xtype) {
    case NC_BYTE: UNPACK_ROW(signed char); break;
    case NC_UBYTE: UNPACK_ROW(unsigned char); break;
    case NC_SHORT: UNPACK_ROW(short); break;
    case NC_USHORT: UNPACK_ROW(unsigned short); break;
    case NC_INT: UNPACK_ROW(int); break;
    case NC_UINT: UNPACK_ROW(unsigned int); break;
    case NC_FLOAT: UNPACK_ROW(float); break;
    default: UNPACK_ROW(double); break;
    }
#undef UNPACK_ROW
}

/* dsc_malloc for the tiles and samples (hundreds of MiB): asks for
 * transparent huge pages, where the kernel leaves them to madvise.  Their
 * first touch then costs one fault per 2 MiB instead of per 4 KiB, which
 * took a quarter of the reading time, and more with two ranks faulting at
 * once. */
static void *large_malloc(size_t bytes, const char *what)
{
    void *p = dsc_malloc(bytes, what);
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    if (p && bytes >= 4 * huge) {
        uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1), hi = ((uintptr_t)p + bytes) & ~(huge - 1);
        if (hi > lo) madvise((void *)lo, hi - lo, MADV_HUGEPAGE); /* a hint: failure changes nothing */
    }
#endif
    return p;
}

/* Tests of one variable of one file for missing values, in the packed domain. */
typedef struct {
    double fill;           /* NaN where there is none */
    const double *missing; /* (nmissing) the missing_value entries */
    int nmissing;
} missing_test;

/* Non-finite stored values are missing as NaN is: with a finite, non-zero
 * scale_factor (the catalog checks it) they are exactly the values that
 * would unpack to NaN or Inf. */
static inline int is_missing(const missing_test *m, double raw)
{
    if (!isfinite(raw) || raw == m->fill) return 1;
    for (int k = 0; k < m->nmissing; k++)
        if (raw == m->missing[k]) return 1;
    return 0;
}

void era5_samples_destroy(era5_samples *s)
{
    free(s->data);
    free(s->time);
    s->data = NULL;
    s->time = NULL;
}

/* Position of process q in the grid (the order of process_grid_choose). */
static void grid_of_rank(const process_grid *grid, int q, process_grid *out)
{
    *out = *grid;
    out->coords[0] = q / (grid->dims[1] * grid->dims[2]);
    out->coords[1] = (q / grid->dims[2]) % grid->dims[1];
    out->coords[2] = q % grid->dims[2];
}

/* How many of the output times of time rank c of d (process_grid_times)
 * lie below limit. */
static long long times_below(int d, int c, long long ntime, int nseg, const long long *seg, long long limit)
{
    long long n = 0;
    for (int i = 0; i < (seg ? nseg : 1); i++) {
        long long s0 = seg ? seg[i] : 0, sn = seg ? seg[i + 1] - seg[i] : ntime, start, count;
        if (s0 >= limit) break;
        block_range(sn, d, c, &start, &count);
        long long lo = s0 + start, hi = lo + count < limit ? lo + count : limit;
        if (hi > lo) n += hi - lo;
    }
    return n;
}

/* era5_redistribute for tiles of whole fields: every run of consecutive
 * times that one rank read and another owns is contiguous in both the tile
 * and the samples, so it travels as one message straight into place, with
 * no receive buffer and no copy afterwards. */
static int exchange_fields(MPI_Comm comm, const process_grid *grid, long long ntime, int nseg, const long long *seg, size_t field, float *tile,
                           era5_samples *out)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    const int d = grid->dims[0], c = grid->coords[0], n = seg ? nseg : 1;
    int status = DSC_OK;
    if (field > INT_MAX) status = dsc_fail("a sample of %zu values does not fit one message; choose a smaller --box or fewer --vars", field);
    /* sends: my n pieces cut at the nranks blocks of samples, at most
     * n + nranks runs; receives: at most one run per piece of every time
     * rank, n * d */
    const size_t max_runs = (size_t)n * (d + 1) + nranks;
    MPI_Request *reqs = dsc_malloc(max_runs * sizeof *reqs, "the exchange of fields");
    out->data = large_malloc((out->nt ? out->nt : 1) * field * sizeof(float), "the samples"); /* (nt, V, Y, X) */
    if (!reqs || !out->data) status = DSC_ERR;
    if (dsc_agree(comm, status) != DSC_OK) {
        free(reqs);
        free(tile);
        era5_samples_destroy(out);
        return DSC_ERR;
    }
    MPI_Datatype sample; /* one (V, Y, X) field */
    MPI_Type_contiguous((int)field, MPI_FLOAT, &sample);
    MPI_Type_commit(&sample);
    const int tag = 5; /* runs between two ranks match in segment order */
    int nreqs = 0;
    long long row = 0; /* first row of the current piece in my tile */
    for (int i = 0; i < n; i++) {
        long long s0 = seg ? seg[i] : 0, sn = seg ? seg[i + 1] - seg[i] : ntime;
        /* receive: every other rank's piece of this segment inside my samples */
        for (int q = 0; q < nranks; q++) {
            long long start, count;
            block_range(sn, d, q, &start, &count);
            long long lo = s0 + start, hi = s0 + start + count;
            if (lo < out->t0) lo = out->t0;
            if (hi > out->t0 + out->nt) hi = out->t0 + out->nt;
            if (hi <= lo || q == c) continue;
            MPI_Irecv(out->data + (size_t)(lo - out->t0) * field, (int)(hi - lo), sample, q, tag, comm, &reqs[nreqs++]);
        }
        /* send: my piece of this segment, cut at the blocks of samples */
        long long start, count;
        block_range(sn, d, c, &start, &count);
        for (long long t = s0 + start; t < s0 + start + count;) {
            int q = 0; /* owner of t: the last rank whose block starts at or before t */
            long long q0, qn;
            for (int lo = 0, hi = nranks - 1; lo <= hi;) {
                int mid = (lo + hi) / 2;
                block_range(ntime, nranks, mid, &q0, &qn);
                if (q0 <= t) {
                    q = mid;
                    lo = mid + 1;
                } else {
                    hi = mid - 1;
                }
            }
            block_range(ntime, nranks, q, &q0, &qn);
            long long end = q0 + qn < s0 + start + count ? q0 + qn : s0 + start + count;
            const float *src = tile + (size_t)(row + t - (s0 + start)) * field;
            if (q == rank)
                memcpy(out->data + (size_t)(t - out->t0) * field, src, (size_t)(end - t) * field * sizeof(float));
            else
                MPI_Isend(src, (int)(end - t), sample, q, tag, comm, &reqs[nreqs++]);
            t = end;
        }
        row += count;
    }
    MPI_Waitall(nreqs, reqs, MPI_STATUSES_IGNORE);
    MPI_Type_free(&sample);
    free(reqs);
    free(tile);
    return DSC_OK;
}

int era5_redistribute(MPI_Comm comm, const process_grid *grid, long long ntime, int nseg, const long long *seg, int nvars, int nlat, int nlon,
                      float *tile, era5_samples *out)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    era5_tile mine;
    process_grid_tile(grid, ntime, nlat, nlon, &mine);
    const int d = grid->dims[0], c = grid->coords[0];
    out->ntime = ntime;
    out->nvars = nvars;
    out->nlat = nlat;
    out->nlon = nlon;
    out->grid = *grid;
    out->data = NULL;
    block_range(ntime, nranks, rank, &out->t0, &out->nt);

    /* Whole fields on every rank, and each rank's times are its samples
     * (one segment, or segments that happen to fall that way): nothing
     * moves.  Every rank decides this alike from grid and seg. */
    int in_place = d == nranks;
    for (int q = 0; q < nranks && in_place; q++) {
        long long q0, qn;
        block_range(ntime, nranks, q, &q0, &qn);
        if (times_below(d, q, ntime, nseg, seg, q0) != 0 || times_below(d, q, ntime, nseg, seg, ntime) != qn) in_place = 0;
    }
    if (in_place) {
        out->data = tile;
        return DSC_OK;
    }

    const size_t field = (size_t)nvars * nlat * nlon;         /* one sample (V, Y, X) */
    const size_t my_step = (size_t)nvars * mine.ny * mine.nx; /* one time of my tile */
    int status = DSC_OK;
    if (grid->dims[1] == 1 && grid->dims[2] == 1) return exchange_fields(comm, grid, ntime, nseg, seg, field, tile, out);
    int *counts = dsc_calloc(4 * (size_t)nranks, sizeof(int), "the exchange of tiles");
    float *received = large_malloc((out->nt ? out->nt : 1) * field * sizeof(float), "the received tiles"); /* (nt, V, Y, X) in pieces */
    if (!counts || !received) status = DSC_ERR;
    int *sendcounts = counts, *sdispls = counts ? counts + nranks : NULL, *recvcounts = counts ? counts + 2 * nranks : NULL,
        *rdispls = counts ? counts + 3 * nranks : NULL; /* no arithmetic on NULL when out of memory */
    long long rtotal = 0;
    for (int q = 0; q < nranks && status == DSC_OK; q++) {
        long long q0, qn;
        /* what I send to q: my times inside q's samples, a contiguous run
         * of my tile since both are in time order */
        block_range(ntime, nranks, q, &q0, &qn);
        long long before = times_below(d, c, ntime, nseg, seg, q0);
        long long count = times_below(d, c, ntime, nseg, seg, q0 + qn) - before;
        long long send = count * (long long)my_step, sdisp = count ? before * (long long)my_step : 0;
        /* what q sends me: q's times inside my samples */
        process_grid gq;
        era5_tile tq;
        grid_of_rank(grid, q, &gq);
        process_grid_tile(&gq, ntime, nlat, nlon, &tq);
        count = times_below(d, gq.coords[0], ntime, nseg, seg, out->t0 + out->nt) - times_below(d, gq.coords[0], ntime, nseg, seg, out->t0);
        long long recv = count * nvars * tq.ny * tq.nx;
        if (send > INT_MAX || sdisp > INT_MAX || recv > INT_MAX || rtotal > INT_MAX) {
            status = dsc_fail("%lld ranks hold more than 2^31 values each; use more ranks or a smaller --box/--time-range", (long long)nranks);
            break;
        }
        sendcounts[q] = (int)send;
        sdispls[q] = (int)sdisp;
        recvcounts[q] = (int)recv;
        rdispls[q] = (int)rtotal;
        rtotal += recv;
    }
    if (dsc_agree(comm, status) != DSC_OK) {
        free(counts);
        free(received);
        free(tile);
        return DSC_ERR;
    }
    MPI_Alltoallv(tile, sendcounts, sdispls, MPI_FLOAT, received, recvcounts, rdispls, MPI_FLOAT, comm);
    free(tile);

    out->data = large_malloc((out->nt ? out->nt : 1) * field * sizeof(float), "the samples"); /* (nt, V, Y, X) */
    if (out->data) {
        for (int q = 0; q < nranks; q++) {
            process_grid gq;
            era5_tile tq;
            grid_of_rank(grid, q, &gq);
            process_grid_tile(&gq, ntime, nlat, nlon, &tq);
            const float *piece = received + rdispls[q]; /* (count, V, tq.ny, tq.nx), q's times in time order */
            const size_t row_bytes = (size_t)tq.nx * sizeof(float);
            for (int i = 0; i < (seg ? nseg : 1); i++) {
                long long s0 = seg ? seg[i] : 0, sn = seg ? seg[i + 1] - seg[i] : ntime, start, count;
                block_range(sn, d, gq.coords[0], &start, &count);
                long long lo = s0 + start, hi = s0 + start + count;
                if (lo < out->t0) lo = out->t0;
                if (hi > out->t0 + out->nt) hi = out->t0 + out->nt;
                for (long long t = lo; t < hi; t++)
                    for (int v = 0; v < nvars; v++) {
                        float *dst = out->data + (((size_t)(t - out->t0) * nvars + v) * nlat + tq.y0) * nlon + tq.x0;
                        if (tq.nx == nlon) { /* whole latitude rows: one copy */
                            memcpy(dst, piece, (size_t)tq.ny * row_bytes);
                            piece += (size_t)tq.ny * tq.nx;
                        } else {
                            for (int y = 0; y < tq.ny; y++) {
                                memcpy(dst + (size_t)y * nlon, piece, row_bytes);
                                piece += tq.nx;
                            }
                        }
                    }
            }
        }
    }
    free(counts);
    free(received);
    return dsc_agree(comm, out->data ? DSC_OK : DSC_ERR);
}

/* netCDF-4: the chunk cache a variable needs so that the chunks of one time
 * row of the tile (ny x nx points, every expver entry) stay inflated
 * between two requests of this rank (a request ends inside a chunk only at
 * the end of the rank's block or at READ_CHUNK_BYTES); at most 256 MiB, and
 * 0 (the library's default) for unchunked data. */
static long long chunk_cache_bytes(const era5_file_variable *fv, size_t type_size, long long E, int ny, int nx)
{
    if (fv->chunk[0] <= 0 || fv->chunk[2] <= 0 || fv->chunk[3] <= 0) return 0;
    const long long ce = fv->chunk[1] > 0 ? fv->chunk[1] : 1, cl = fv->chunk[4] > 0 ? fv->chunk[4] : 1;
    const long long chunk = fv->chunk[0] * ce * cl * fv->chunk[2] * fv->chunk[3] * (long long)type_size;
    /* a tile row of ny points can touch ny / cy + 1 chunks, and more when it
     * starts inside one */
    const long long n = (ny / fv->chunk[2] + 2) * (nx / fv->chunk[3] + 2) * ((E + ce - 1) / ce);
    const long long cap = 256LL << 20;
    return chunk > cap / n ? cap : chunk * n;
}

/* netCDF-4: the time-chunk length of a file's variables (the largest), 0
 * when none is chunked along time (classic files). */
static long long time_chunk(const era5_file *file, int nvars)
{
    long long c = 0;
    for (int v = 0; v < nvars; v++)
        if (file->vars[v].chunk[0] > c) c = file->vars[v].chunk[0];
    return c;
}

/* Checks once, on every rank alike, that every file/variable can be read. */
static int check_catalog(const era5_catalog *cat)
{
    if (cat->nvars < 1 || cat->nvars > ERA5_MAX_VARS) return dsc_fail("no variable to read; name them with --vars");
    for (int f = 0; f < cat->nfiles; f++) {
        const era5_file *file = &cat->files[f];
        if (cat->lat0 < 0 || cat->lon0 < 0 || cat->lat0 + cat->nlat > file->file_nlat || cat->lon0 + cat->nlon > file->file_nlon)
            return dsc_fail("%s: the selected grid (%d x %d at %d, %d) is outside the file's %lld x %lld grid; choose a --box inside the grid",
                            file->path, cat->nlat, cat->nlon, cat->lat0, cat->lon0, file->file_nlat, file->file_nlon);
        for (int v = 0; v < cat->nvars; v++) {
            const era5_file_variable *fv = &file->vars[v];
            stored_type st;
            if (fv->part < 0) continue; /* a variable of the other stream */
            if (stored_type_lookup(fv->xtype, &st) != DSC_OK)
                return dsc_fail("%s: variable %s has a stored type (netCDF type %d) that cannot be read; convert it to float with 'cdo -b F32 copy'",
                                file->path, fv->nc_name, fv->xtype);
            if (fv->ndims < 3 || fv->ndims > 5 || fv->dim_order[0] < 0 || fv->dim_order[2] < 0 || fv->dim_order[3] < 0 ||
                (file->nhours > 0 && fv->dim_order[5] < 0))
                return dsc_fail("%s: variable %s does not have time, latitude and longitude dimensions; select other variables with --vars",
                                file->path, fv->nc_name);
        }
    }
    return DSC_OK;
}

/* The streams of a catalog (one in a catalog made by hand, nstreams 0). */
static int streams_of(const era5_catalog *cat) { return cat->nstreams > 1 ? cat->nstreams : 1; }

/* Where step s of the catalog is for the variables of stream j. */
static const era5_step *step_of(const era5_catalog *cat, int j, long long s)
{
    return j == 0 ? &cat->steps[s] : &cat->stream_steps[(size_t)(j - 1) * cat->nsteps + s];
}

/* This rank's read requests: for every stream, its steps in time order (the
 * tile row of each in step_row), cut where the file changes, where the
 * time indices stop being consecutive, and at READ_CHUNK_BYTES.  Files in
 * the forecast layout are read in whole initial times.  req has room for
 * nstreams * nsteps requests; nreq counts them per file; *raw_bytes gets the
 * largest request's raw size. */
static void plan_requests(const era5_catalog *cat, const era5_tile *tl, long long nt, const long long *times, long long *step_row,
                          read_request *req, long long *nr, int *nreq, size_t *raw_bytes)
{
    const long long *first = cat->time_first_step; /* (ntime + 1) */
    const size_t chunk_bytes = read_chunk_bytes();
    *nr = 0;
    *raw_bytes = 0;
    for (int j = 0; j < streams_of(cat); j++) {
        long long pos = 0;
        for (long long i = 0; i < nt; i++)
            for (long long s = first[times[i]]; s < first[times[i] + 1]; s++, pos++) {
                step_row[pos] = i;
                const era5_step *st = step_of(cat, j, s);
                const era5_file *file = &cat->files[st->file];
                const long long H = file->nhours > 0 ? file->nhours : 1; /* steps per stored time */
                size_t step_bytes = (size_t)(file->nexpver > 0 ? file->nexpver : 1) * tl->ny * tl->nx * 8;
                long long max_steps = (long long)(chunk_bytes / step_bytes) / H * H;
                if (max_steps < H) max_steps = H;
                /* chunked (netCDF-4) data are inflated a whole chunk at a time:
                 * a request is cut at a chunk boundary, where the next chunk
                 * would no longer fit whole, never inside a chunk */
                const long long c = time_chunk(file, cat->nvars) * H;
                read_request *last = *nr ? &req[*nr - 1] : NULL;
                int fits = last && last->count < max_steps;
                if (fits && c > 1 && st->index % c == 0) fits = last->count + c <= max_steps;
                /* the forecast layout: a new initial time that would not fit whole */
                if (fits && H > 1 && st->index % H == 0) fits = (st->index / H - last->index / H + 1) * H <= max_steps;
                if (last && last->file == st->file && last->index + last->count == st->index && fits) {
                    last->count++;
                } else {
                    req[(*nr)++] = (read_request){st->file, st->index, 1, pos};
                    nreq[st->file]++;
                }
                last = &req[*nr - 1];
                /* the raw values read: whole initial times in the forecast layout */
                const long long stored = (last->index % H + last->count + H - 1) / H * H;
                if ((size_t)stored * step_bytes > *raw_bytes) *raw_bytes = (size_t)stored * step_bytes;
            }
    }
}

/* How one variable of one file is read and unpacked. */
typedef struct {
    const era5_file *file;
    const era5_file_variable *fv;
    long long E;       /* expver entries of its file (1 without) */
    int V, v, ny, nx;  /* variables, this one, the tile's shape */
    int accumulate;
    float *tile;
    double *sum;
    unsigned int *n;
    double *row;       /* (2, nx) */
} variable_read;

/* The start and count of one request of a variable (count all 0 without
 * one) and the number of raw values. */
static long long request_box(const era5_catalog *cat, const era5_tile *tl, const variable_read *vr, const read_request *q, long long *start,
                             long long *count)
{
    const era5_file_variable *fv = vr->fv;
    const int pt = fv->dim_order[0], pe = fv->dim_order[1], py = fv->dim_order[2], px = fv->dim_order[3], ph = fv->dim_order[5];
    const int pl = fv->ndims > 3 + (pe >= 0) ? fv->dim_order[4] : -1; /* a pressure level */
    for (int d = 0; d < 5; d++) start[d] = count[d] = 0;
    if (!q) return 0;
    for (int d = 0; d < fv->ndims; d++) count[d] = 1; /* any extra dimension of length 1 */
    start[pt] = q->index;
    count[pt] = q->count;
    if (vr->file->nhours > 0) { /* whole initial times, every forecast hour */
        const long long H = vr->file->nhours;
        start[pt] = q->index / H;
        count[pt] = (q->index + q->count - 1) / H - start[pt] + 1;
        start[ph] = 0;
        count[ph] = H;
    }
    if (pe >= 0) count[pe] = vr->E;
    if (pl >= 0) start[pl] = fv->level_index; /* one pressure level */
    start[py] = cat->lat0 + tl->y0;
    count[py] = vr->ny;
    start[px] = cat->lon0 + tl->x0;
    count[px] = vr->nx;
    long long nelems = 1;
    for (int d = 0; d < fv->ndims; d++) nelems *= count[d];
    return nelems;
}

/* The raw values of request q (read with count) unpacked, expver entries
 * combined, into the tile rows of its steps (or their daily sums). */
static void unpack_request(const variable_read *vr, const read_request *q, const long long *count, const void *raw, const long long *step_row)
{
    const era5_file_variable *fv = vr->fv;
    const int ny = vr->ny, nx = vr->nx, V = vr->V, v = vr->v;
    const int pt = fv->dim_order[0], pe = fv->dim_order[1], py = fv->dim_order[2], px = fv->dim_order[3], ph = fv->dim_order[5];
    /* fill and missing_value in the packed domain; NaN (never equal) where
     * there is none.  fv->fill_value is _FillValue, or netCDF's default
     * fill of the type (era5_catalog.c alone knows them). */
    const double fill = fv->has_fill ? fv->fill_value : NAN;
    const missing_test mt = {fill, fv->missing_value, fv->has_missing};
    const double scale = fv->packed ? fv->scale_factor : 1.0, offset = fv->packed ? fv->add_offset : 0.0;
    const long long Ev = pe >= 0 ? vr->E : 1, H = vr->file->nhours;
    /* strides of the raw buffer, row-major over the variable's dims */
    size_t stride[5] = {0, 0, 0, 0, 0}, acc = 1;
    for (int d = fv->ndims - 1; d >= 0; d--) {
        stride[d] = acc;
        acc *= (size_t)count[d];
    }
    const size_t st = stride[pt], se = pe >= 0 ? stride[pe] : 0, sy = stride[py], sx = stride[px];
    double *packed = vr->row, *value = vr->row + nx; /* (nx) stored values, (nx) unpacked */
    for (long long j = 0; j < q->count; j++) {
        const long long t = step_row[q->pos + j]; /* row of the tile */
        size_t at = (size_t)j * st;               /* the step in the raw values */
        if (H > 0) { /* forecast layout: initial time and hour of the step */
            const long long k = q->index + j;
            at = (size_t)(k / H - q->index / H) * st + (size_t)(k % H) * stride[ph];
        }
        for (int y = 0; y < ny; y++) {
            if (Ev == 1) { /* the usual case */
                unpack_row(value, raw, fv->xtype, at + y * sy, sx, nx, scale, offset, fill, fv->missing_value, fv->has_missing);
            } else { /* the first expver entry that is not missing wins */
                for (int x = 0; x < nx; x++) value[x] = NAN;
                for (long long e = 0; e < Ev; e++) {
                    stored_row(packed, raw, fv->xtype, at + e * se + y * sy, sx, nx);
                    for (int x = 0; x < nx; x++)
                        if (isnan(value[x]) && !is_missing(&mt, packed[x])) value[x] = packed[x] * scale + offset;
                }
            }
            const size_t o = (((size_t)t * V + v) * ny + y) * nx; /* tile (nt, V, ny, nx) */
            if (!vr->accumulate) {
                for (int x = 0; x < nx; x++) vr->tile[o + x] = (float)value[x];
            } else {
                for (int x = 0; x < nx; x++)
                    if (!isnan(value[x])) {
                        vr->sum[o + x] += value[x];
                        vr->n[o + x]++;
                    }
            }
        }
    }
}

/* Collective: the maxreq reads of one variable of file f (this rank's
 * requests among req[0, nr)).  After a read error the remaining
 * collectives are joined with zero counts; returns the status. */
static int read_variable(const nc_file *nc, const char *path, const era5_catalog *cat, const era5_tile *tl, const variable_read *vr, int f,
                         int maxreq, const read_request *req, long long nr, const long long *step_row, void *raw, int status)
{
    const era5_file_variable *fv = vr->fv;
    stored_type type = {MPI_DATATYPE_NULL, 0};
    stored_type_lookup(fv->xtype, &type);
    const long long Ev = fv->dim_order[1] >= 0 ? vr->E : 1;
    /* netCDF-4: collective reads, and a chunk cache that holds every chunk
     * one request touches, so each is inflated once */
    int err = nc_file_begin_reads(nc, fv->varid, chunk_cache_bytes(fv, type.size, Ev, vr->ny, vr->nx));
    if (err != NC_NOERR && status == DSC_OK) status = dsc_fail("%s: variable %s: %s", path, fv->nc_name, nc_file_strerror(nc, err));
    int ok = status == DSC_OK;
    long long r = 0; /* next of my requests in this file */
    for (int k = 0; k < maxreq; k++) {
        while (r < nr && req[r].file != f) r++;
        const read_request *q = (ok && r < nr) ? &req[r] : NULL;
        long long start[5], count[5];
        long long nelems = request_box(cat, tl, vr, q, start, count);
        err = nc_file_get_vara_all(nc, fv->varid, fv->ndims, start, count, raw, nelems, fv->xtype);
        if (err != NC_NOERR) {
            status = dsc_fail("%s: reading variable %s: %s; check that the file is complete (not truncated or damaged)", path,
                              fv->nc_name, nc_file_strerror(nc, err));
            ok = 0;
            q = NULL;
        }
        if (!q) continue;
        r++;
        unpack_request(vr, q, count, raw, step_row);
    }
    return status;
}

/* Reads, unpacks and combines every variable of this rank's tile: the
 * output times times (nt, in order) on the latitudes and longitudes of tl.
 * When accumulate is set the values are summed into sum / n (daily means),
 * else written to tile.  Collective over comm; the returned status is
 * agreed. */
static int read_tile(MPI_Comm comm, const era5_catalog *cat, const era5_tile *tl, long long nt, const long long *times, int accumulate,
                     float *tile, double *sum, unsigned int *n)
{
    const long long *first = cat->time_first_step; /* (ntime + 1) */
    int status = DSC_OK;
    long long nsteps = 0, nr = 0;
    for (long long i = 0; i < nt; i++) nsteps += first[times[i] + 1] - first[times[i]];
    const size_t nreq_max = (size_t)(nsteps ? nsteps : 1) * streams_of(cat);
    long long *step_row = dsc_malloc((nsteps ? nsteps : 1) * sizeof(long long), "the step table"); /* (nsteps) */
    read_request *req = dsc_malloc(nreq_max * sizeof *req, "the read requests");
    int *nreq = dsc_calloc(2 * (size_t)cat->nfiles, sizeof(int), "the read requests per file");
    double *row = dsc_malloc(2 * (size_t)tl->nx * sizeof(double), "one row of values"); /* (2, nx) */
    if (!step_row || !req || !nreq || !row) status = DSC_ERR;
    size_t raw_bytes = 0;
    if (status == DSC_OK) plan_requests(cat, tl, nt, times, step_row, req, &nr, nreq, &raw_bytes);
    /* one buffer for the raw values of every request, sized by the largest
     * (allocated once: fresh pages for every request would cost page faults) */
    void *raw = raw_bytes ? dsc_malloc(raw_bytes, "the raw values of one read") : NULL; /* in the variable's dimension order */
    if (raw_bytes && !raw) status = DSC_ERR;
    if (dsc_agree(comm, status) != DSC_OK) {
        free(step_row);
        free(req);
        free(nreq);
        free(row);
        free(raw);
        return DSC_ERR;
    }
    int *maxreq = nreq + cat->nfiles; /* (nfiles) the most requests of any rank */
    MPI_Allreduce(nreq, maxreq, cat->nfiles, MPI_INT, MPI_MAX, comm);

    /* A read error is agreed on at the next file's opening or at the end,
     * not after every file: until then the failing rank joins the remaining
     * collectives with zero counts (one synchronisation less per file). */
    int agreed = 0;
    for (int f = 0; f < cat->nfiles && !agreed; f++) {
        if (maxreq[f] == 0) continue;
        const era5_file *file = &cat->files[f];
        /* the file and the other files of its bundle (era5_catalog.h), each
         * opened once for the variables it holds */
        for (int p = 0; p <= file->nparts && !agreed; p++) {
            const char *path = p ? file->parts[p - 1].path : file->path;
            nc_file nc;
            int err = nc_file_open(comm, path, p ? file->parts[p - 1].netcdf4 : file->netcdf4, &nc);
            if (err != NC_NOERR) status = dsc_fail("%s: cannot open: %s; check that the file exists and is netCDF classic, 64-bit offset, CDF-5 or netCDF-4", path, nc_file_strerror(&nc, err));
            if (dsc_agree(comm, status) != DSC_OK) {
                if (err == NC_NOERR) nc_file_close(&nc);
                status = DSC_ERR;
                agreed = 1;
                break;
            }
            const long long nexpver = p ? file->parts[p - 1].nexpver : file->nexpver;
            variable_read vr = {file, NULL, nexpver > 0 ? nexpver : 1, cat->nvars, 0, tl->ny, tl->nx, accumulate, tile, sum, n, row};
            for (int v = 0; v < cat->nvars; v++) {
                if (file->vars[v].part != p) continue;
                vr.fv = &file->vars[v];
                vr.v = v;
                status = read_variable(&nc, path, cat, tl, &vr, f, maxreq[f], req, nr, step_row, raw, status);
            }
            nc_file_close(&nc);
        }
    }
    if (!agreed) status = dsc_agree(comm, status);
    free(step_row);
    free(req);
    free(nreq);
    free(row);
    free(raw);
    return status;
}

/* The segments of the output time axis: runs of output times whose first
 * steps lie in one file, for the variables of every stream (a day
 * straddling two files belongs to the file of its first step).  Returns seg (nseg + 1), NULL when out of memory. */
static long long *time_segments(const era5_catalog *cat, int *nseg)
{
    const long long *first = cat->time_first_step;
    long long *seg = dsc_malloc((size_t)(cat->ntime + 1) * sizeof(long long), "the time segments"); /* (nseg + 1) */
    if (!seg) return NULL;
    int n = 0;
    for (long long t = 0; t < cat->ntime; t++) {
        int cut = t == 0;
        for (int j = 0; j < streams_of(cat) && !cut; j++) cut = step_of(cat, j, first[t])->file != step_of(cat, j, first[t - 1])->file;
        if (cut) seg[n++] = t;
    }
    seg[n] = cat->ntime;
    *nseg = n;
    return seg;
}

static int read_samples(MPI_Comm comm, const era5_catalog *cat, const era5_options *opt, int refuse_missing, era5_samples *out)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    memset(out, 0, sizeof *out);

    int status = check_catalog(cat);
    if (status == DSC_OK && cat->ntime < nranks)
        status = dsc_fail("%d ranks but only %lld time steps; use at most %lld ranks or a longer --time-range", nranks, cat->ntime, cat->ntime);
    static const int automatic[3] = {0, 0, 0};
    process_grid grid;
    if (status == DSC_OK)
        status = process_grid_choose(nranks, cat->ntime, cat->nlat, cat->nlon, opt ? opt->process_grid : automatic, &grid, rank);
    if (dsc_agree(comm, status) != DSC_OK) return DSC_ERR;

    /* The read decomposition: my latitudes and longitudes, and my piece of
     * every segment of the time axis. */
    era5_tile tl;
    process_grid_tile(&grid, cat->ntime, cat->nlat, cat->nlon, &tl);
    const int V = cat->nvars;
    const long long *first = cat->time_first_step; /* (ntime + 1) */
    int nseg = 0;
    long long *seg = time_segments(cat, &nseg);
    long long nt = seg ? process_grid_times(&grid, cat->ntime, nseg, seg, NULL) : 0;
    long long *times = dsc_malloc((nt ? nt : 1) * sizeof(long long), "the times read by this rank"); /* (nt) */
    const size_t tile_size = (size_t)nt * V * tl.ny * tl.nx;
    float *tile = large_malloc((tile_size ? tile_size : 1) * sizeof(float), "the tile read by this rank"); /* (nt, V, ny, nx) */
    double *sum = NULL;     /* (nt, V, ny, nx) daily sums */
    unsigned int *n = NULL; /* (nt, V, ny, nx) valid steps in them */
    int accumulate = 0;
    if (!seg || !times || !tile) status = DSC_ERR;
    if (status == DSC_OK) {
        process_grid_times(&grid, cat->ntime, nseg, seg, times);
        for (long long i = 0; i < nt; i++)
            if (first[times[i] + 1] - first[times[i]] != 1) accumulate = 1;
        if (accumulate) {
            sum = dsc_calloc(tile_size ? tile_size : 1, sizeof(double), "the daily sums");
            n = dsc_calloc(tile_size ? tile_size : 1, sizeof(unsigned int), "the daily counts");
            if (!sum || !n) status = DSC_ERR;
        }
    }
    if (dsc_agree(comm, status) != DSC_OK) {
        free(seg);
        free(times);
        free(tile);
        free(sum);
        free(n);
        return DSC_ERR;
    }

    status = read_tile(comm, cat, &tl, nt, times, accumulate, tile, sum, n);
    free(times);
    if (accumulate) {
        /* daily mean over the steps that are not missing; none -> missing */
        for (size_t i = 0; i < tile_size; i++) tile[i] = n[i] ? (float)(sum[i] / n[i]) : NAN;
        free(sum);
        free(n);
    }
    if (status != DSC_OK) {
        free(seg);
        free(tile);
        return DSC_ERR;
    }

    /* missing values per variable, over all ranks (each value is in one
     * tile); an integer count per field so that the test vectorises */
    long long missing[ERA5_MAX_VARS] = {0};
    const int per_field = tl.ny * tl.nx;
    for (long long t = 0; t < nt; t++)
        for (int v = 0; v < V; v++) {
            const float *field = tile + ((size_t)t * V + v) * per_field;
            int m = 0;
            for (int i = 0; i < per_field; i++) m += field[i] != field[i];
            missing[v] += m;
        }
    MPI_Allreduce(missing, out->missing, V, MPI_LONG_LONG, MPI_SUM, comm);
    const long long per_variable = cat->ntime * cat->nlat * cat->nlon;
    for (int v = 0; v < V && status == DSC_OK && refuse_missing; v++)
        if (out->missing[v] == per_variable)
            status = dsc_fail("%s: every value is missing in the selection; drop it with --vars or choose another --time-range/--box", cat->vars[v].name);
    if (dsc_agree(comm, status) != DSC_OK) {
        free(seg);
        free(tile);
        return DSC_ERR;
    }

    status = era5_redistribute(comm, &grid, cat->ntime, nseg, seg, V, cat->nlat, cat->nlon, tile, out);
    free(seg);
    if (status != DSC_OK) return DSC_ERR;
    out->time = dsc_malloc((out->nt ? out->nt : 1) * sizeof(double), "the sample times"); /* (nt) */
    if (out->time) memcpy(out->time, cat->time + out->t0, out->nt * sizeof(double));
    if (dsc_agree(comm, out->time ? DSC_OK : DSC_ERR) != DSC_OK) {
        era5_samples_destroy(out);
        return DSC_ERR;
    }
    return DSC_OK;
}

int era5_read_samples(MPI_Comm comm, const era5_catalog *cat, const era5_options *opt, era5_samples *out)
{
    return read_samples(comm, cat, opt, 1, out);
}

int era5_read_samples_unchecked(MPI_Comm comm, const era5_catalog *cat, const era5_options *opt, era5_samples *out)
{
    return read_samples(comm, cat, opt, 0, out);
}
