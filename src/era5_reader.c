/*
 * era5_reader.c - parallel reading of the field data of an era5_catalog.
 *
 * Dimension letters: T output time steps, S input time steps (T = S unless
 * daily means are formed), V variables, Y latitudes, X longitudes, E expver
 * entries; P ranks.
 *
 * How the data are partitioned (P ranks on a T x Y x X process grid, see
 * process_grid.c):
 *   1. Rank (ct, cy, cx) reads its tile: the output times
 *      block_range(ntime, dims[0], ct), the latitudes block_range(nlat,
 *      dims[1], cy) and the longitudes block_range(nlon, dims[2], cx) of the
 *      selection, every variable.  Every file that any rank needs is opened
 *      once over the whole communicator and read with collective
 *      ncmpi_get_vara_all calls: one request per (file, variable, run of
 *      consecutive time steps), runs longer than READ_CHUNK_BYTES (64 MiB,
 *      or $DSC_READ_CHUNK_BYTES) being cut into pieces.  Ranks agree on the
 *      number of requests per file, and a rank with fewer requests joins the
 *      remaining collectives with a zero count, as the PnetCDF examples do.
 *   2. The stored values (byte, short, int, float, double, ...) are tested
 *      for _FillValue / missing_value in the packed domain (NaN floats too),
 *      unpacked with that file's scale_factor / add_offset, the expver
 *      entries are combined (the first entry that is not missing wins: ERA5
 *      and ERA5T never overlap), and sub-daily steps are averaged into daily
 *      means over the steps that are not missing.  Missing = NaN.
 *   3. era5_redistribute: one MPI_Alltoallv turns the tiles into whole
 *      samples, a contiguous block block_range(ntime, P, rank) of time steps
 *      with every variable and grid point, layout (nt, V, Y, X).
 * A rank holds at most its tile, one read request's raw values, and during
 * the exchange the received pieces of its samples.
 *
 *   mpiexec -n 4 dsc info --process-grid 2x2x1 era5_*.nc
 */
#include "era5_reader.h"
#include "partition.h"
#include "status.h"

#include <limits.h>
#include <math.h>
#include <pnetcdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    long long step;  /* catalog step number of the first one */
} read_request;

/* How one stored type is fetched. */
typedef struct {
    MPI_Datatype mpi_type;
    size_t size;
    int has_default_fill; /* netCDF's default fill counts as missing when no _FillValue is given */
    double default_fill;
} stored_type;

static int stored_type_lookup(int xtype, stored_type *out)
{
    switch (xtype) {
    case NC_BYTE: *out = (stored_type){MPI_SIGNED_CHAR, 1, 0, NC_FILL_BYTE}; break; /* no default fill for bytes (netCDF guide) */
    case NC_UBYTE: *out = (stored_type){MPI_UNSIGNED_CHAR, 1, 0, NC_FILL_UBYTE}; break;
    case NC_SHORT: *out = (stored_type){MPI_SHORT, 2, 1, NC_FILL_SHORT}; break;
    case NC_USHORT: *out = (stored_type){MPI_UNSIGNED_SHORT, 2, 1, NC_FILL_USHORT}; break;
    case NC_INT: *out = (stored_type){MPI_INT, 4, 1, NC_FILL_INT}; break;
    case NC_UINT: *out = (stored_type){MPI_UNSIGNED, 4, 1, NC_FILL_UINT}; break;
    case NC_FLOAT: *out = (stored_type){MPI_FLOAT, 4, 1, NC_FILL_FLOAT}; break;
    case NC_DOUBLE: *out = (stored_type){MPI_DOUBLE, 8, 1, NC_FILL_DOUBLE}; break;
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

/* PnetCDF's text for err without its final full stop (it goes mid-sentence). */
static const char *nc_reason(int err)
{
    static char text[256];
    snprintf(text, sizeof text, "%s", ncmpi_strerror(err));
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '.' || text[n - 1] == ' ')) text[--n] = '\0';
    return text;
}

/* Tests of one variable of one file for missing values, in the packed domain. */
typedef struct {
    int has_fill, has_missing;
    double fill, missing;
} missing_test;

static inline int is_missing(const missing_test *m, double raw)
{
    return isnan(raw) || (m->has_fill && raw == m->fill) || (m->has_missing && raw == m->missing);
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

static void overlap(long long a0, long long an, long long b0, long long bn, long long *start, long long *count)
{
    long long lo = a0 > b0 ? a0 : b0;
    long long hi = (a0 + an < b0 + bn) ? a0 + an : b0 + bn;
    *start = lo;
    *count = hi > lo ? hi - lo : 0;
}

int era5_redistribute(MPI_Comm comm, const process_grid *grid, long long ntime, int nvars, int nlat, int nlon, float *tile, era5_samples *out)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    era5_tile mine;
    process_grid_tile(grid, ntime, nlat, nlon, &mine);
    out->ntime = ntime;
    out->nvars = nvars;
    out->nlat = nlat;
    out->nlon = nlon;
    out->grid = *grid;
    out->data = NULL;
    block_range(ntime, nranks, rank, &out->t0, &out->nt);

    /* Time split only: the tile is already this rank's block of samples. */
    if (grid->dims[0] == nranks) {
        out->data = tile;
        return DSC_OK;
    }

    const size_t field = (size_t)nvars * nlat * nlon;      /* one sample (V, Y, X) */
    const size_t my_step = (size_t)nvars * mine.ny * mine.nx; /* one time step of my tile */
    int status = DSC_OK;
    int *counts = dsc_calloc(4 * (size_t)nranks, sizeof(int), "the exchange of tiles");
    float *received = dsc_malloc(out->nt * field * sizeof(float), "the received tiles"); /* (nt, V, Y, X) in pieces */
    if (!counts || !received) status = DSC_ERR;
    int *sendcounts = counts, *sdispls = counts + nranks, *recvcounts = counts + 2 * nranks, *rdispls = counts + 3 * nranks;
    long long rtotal = 0;
    for (int q = 0; q < nranks && status == DSC_OK; q++) {
        long long q0, qn, start, count;
        /* what I send to q: my tile's times inside q's samples */
        block_range(ntime, nranks, q, &q0, &qn);
        overlap(mine.t0, mine.nt, q0, qn, &start, &count);
        long long send = count * (long long)my_step, sdisp = (start - mine.t0) * (long long)my_step;
        /* what q sends me: q's tile's times inside my samples */
        process_grid gq;
        era5_tile tq;
        grid_of_rank(grid, q, &gq);
        process_grid_tile(&gq, ntime, nlat, nlon, &tq);
        overlap(tq.t0, tq.nt, out->t0, out->nt, &start, &count);
        long long recv = count * nvars * tq.ny * tq.nx;
        if (count == 0) sdisp = 0;
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

    out->data = dsc_malloc(out->nt * field * sizeof(float), "the samples"); /* (nt, V, Y, X) */
    if (out->data) {
        for (int q = 0; q < nranks; q++) {
            process_grid gq;
            era5_tile tq;
            long long start, count;
            grid_of_rank(grid, q, &gq);
            process_grid_tile(&gq, ntime, nlat, nlon, &tq);
            overlap(tq.t0, tq.nt, out->t0, out->nt, &start, &count);
            const float *piece = received + rdispls[q]; /* (count, V, tq.ny, tq.nx) */
            for (long long t = start; t < start + count; t++)
                for (int v = 0; v < nvars; v++)
                    for (int y = 0; y < tq.ny; y++) {
                        float *row = out->data + (((size_t)(t - out->t0) * nvars + v) * nlat + tq.y0 + y) * nlon + tq.x0;
                        memcpy(row, piece, tq.nx * sizeof(float));
                        piece += tq.nx;
                    }
        }
    }
    free(counts);
    free(received);
    return dsc_agree(comm, out->data ? DSC_OK : DSC_ERR);
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
            if (stored_type_lookup(fv->xtype, &st) != DSC_OK)
                return dsc_fail("%s: variable %s has a stored type (netCDF type %d) that cannot be read; convert it to float with 'cdo -b F32 copy'",
                                file->path, fv->nc_name, fv->xtype);
            if (fv->ndims < 3 || fv->ndims > 4 || fv->dim_order[0] < 0 || fv->dim_order[2] < 0 || fv->dim_order[3] < 0)
                return dsc_fail("%s: variable %s does not have time, latitude and longitude dimensions; select other variables with --vars",
                                file->path, fv->nc_name);
        }
    }
    return DSC_OK;
}

/* Reads, unpacks and combines every variable of this rank's tile.
 * step_out[s - step0] is the output time of catalog step s; when accumulate
 * is set the values are summed into sum / n (daily means), else written to
 * tile.  Collective over comm; the returned status is agreed. */
static int read_tile(MPI_Comm comm, const era5_catalog *cat, const era5_tile *tl, long long step0, long long nsteps,
                     const long long *step_out, int accumulate, float *tile, double *sum, unsigned int *n)
{
    const int V = cat->nvars, ny = tl->ny, nx = tl->nx;
    int status = DSC_OK;

    /* My requests in step order: cut where the file changes, where the time
     * indices stop being consecutive, and at READ_CHUNK_BYTES. */
    read_request *req = dsc_malloc((nsteps ? nsteps : 1) * sizeof *req, "the read requests");
    int *nreq = dsc_calloc(2 * (size_t)cat->nfiles, sizeof(int), "the read requests per file");
    double *row = dsc_malloc(2 * (size_t)nx * sizeof(double), "one row of values"); /* (2, nx) */
    int nr = 0;
    if (!req || !nreq || !row) status = DSC_ERR;
    const size_t chunk_bytes = read_chunk_bytes();
    if (status == DSC_OK && ny > 0 && nx > 0) {
        for (long long s = step0; s < step0 + nsteps; s++) {
            const era5_step *st = &cat->steps[s];
            const era5_file *file = &cat->files[st->file];
            size_t step_bytes = (size_t)(file->nexpver > 0 ? file->nexpver : 1) * ny * nx * 8;
            long long max_steps = (long long)(chunk_bytes / step_bytes);
            if (max_steps < 1) max_steps = 1;
            read_request *last = nr ? &req[nr - 1] : NULL;
            if (last && last->file == st->file && last->index + last->count == st->index && last->count < max_steps) {
                last->count++;
            } else {
                req[nr++] = (read_request){st->file, st->index, 1, s};
                nreq[st->file]++;
            }
        }
    }
    /* one buffer for the raw values of every request, sized by the largest
     * (allocated once: fresh pages for every request would cost page faults) */
    size_t raw_bytes = 0;
    for (int r = 0; r < nr; r++) {
        const era5_file *file = &cat->files[req[r].file];
        size_t bytes = (size_t)req[r].count * (file->nexpver > 0 ? file->nexpver : 1) * ny * nx * 8;
        if (bytes > raw_bytes) raw_bytes = bytes;
    }
    void *raw = raw_bytes ? dsc_malloc(raw_bytes, "the raw values of one read") : NULL; /* (count, E, ny, nx) in the variable's dimension order */
    if (raw_bytes && !raw) status = DSC_ERR;
    if (dsc_agree(comm, status) != DSC_OK) {
        free(req);
        free(nreq);
        free(row);
        free(raw);
        return DSC_ERR;
    }
    int *maxreq = nreq + cat->nfiles; /* (nfiles) the most requests of any rank */
    MPI_Allreduce(nreq, maxreq, cat->nfiles, MPI_INT, MPI_MAX, comm);

    for (int f = 0; f < cat->nfiles && status == DSC_OK; f++) {
        if (maxreq[f] == 0) continue;
        const era5_file *file = &cat->files[f];
        int ncid, err = ncmpi_open(comm, file->path, NC_NOWRITE, MPI_INFO_NULL, &ncid);
        if (err != NC_NOERR) status = dsc_fail("%s: cannot open: %s; check that the file exists and is netCDF classic, 64-bit offset or CDF-5", file->path, nc_reason(err));
        if (dsc_agree(comm, status) != DSC_OK) {
            if (err == NC_NOERR) ncmpi_close(ncid);
            status = DSC_ERR;
            break;
        }
        const long long E = file->nexpver > 0 ? file->nexpver : 1;
        for (int v = 0; v < V; v++) {
            const era5_file_variable *fv = &file->vars[v];
            stored_type type;
            stored_type_lookup(fv->xtype, &type);
            missing_test mt = {fv->has_fill, fv->has_missing, fv->fill_value, fv->missing_value};
            if (!fv->has_fill && type.has_default_fill) {
                mt.has_fill = 1;
                mt.fill = type.default_fill;
            }
            const double scale = fv->packed ? fv->scale_factor : 1.0, offset = fv->packed ? fv->add_offset : 0.0;

            int ok = 1; /* cleared by a read error: the remaining collectives are joined with zero counts */
            /* the positions of T, E, Y, X among the variable's dimensions */
            const int pt = fv->dim_order[0], pe = fv->dim_order[1], py = fv->dim_order[2], px = fv->dim_order[3];
            int r = 0; /* next of my requests in this file */
            for (int k = 0; k < maxreq[f]; k++) {
                while (r < nr && req[r].file != f) r++;
                const read_request *q = (ok && r < nr) ? &req[r] : NULL;
                MPI_Offset start[4] = {0, 0, 0, 0}, count[4] = {0, 0, 0, 0};
                MPI_Offset nelems = 0;
                if (q) {
                    for (int d = 0; d < fv->ndims; d++) count[d] = 1; /* any extra dimension of length 1 */
                    start[pt] = q->index;
                    count[pt] = q->count;
                    if (pe >= 0) count[pe] = E;
                    start[py] = cat->lat0 + tl->y0;
                    count[py] = ny;
                    start[px] = cat->lon0 + tl->x0;
                    count[px] = nx;
                    nelems = q->count * E * ny * nx;
                }
                err = ncmpi_get_vara_all(ncid, fv->varid, start, count, raw, nelems, type.mpi_type);
                if (err != NC_NOERR) {
                    status = dsc_fail("%s: reading variable %s: %s; check that the file is complete (not truncated)", file->path, fv->nc_name, nc_reason(err));
                    ok = 0;
                    q = NULL;
                }
                if (!q) continue;
                r++;

                /* strides of the raw buffer, row-major over the variable's dims */
                size_t stride[4] = {0, 0, 0, 0}, acc = 1;
                for (int d = fv->ndims - 1; d >= 0; d--) {
                    stride[d] = acc;
                    acc *= (size_t)count[d];
                }
                const size_t st = stride[pt], se = pe >= 0 ? stride[pe] : 0, sy = stride[py], sx = stride[px];
                double *packed = row, *value = row + nx; /* (nx) stored values, (nx) unpacked */
                for (long long j = 0; j < q->count; j++) {
                    const long long t = step_out[q->step + j - step0] - tl->t0; /* output time within the tile */
                    for (int y = 0; y < ny; y++) {
                        if (E == 1) { /* the usual case, without branches so that it vectorises */
                            stored_row(packed, raw, fv->xtype, j * st + y * sy, sx, nx);
                            const int hf = mt.has_fill, hm = mt.has_missing;
                            for (int x = 0; x < nx; x++) {
                                const double p = packed[x];
                                const int missing = (p != p) | (hf & (p == mt.fill)) | (hm & (p == mt.missing));
                                value[x] = missing ? NAN : p * scale + offset;
                            }
                        } else { /* the first expver entry that is not missing wins */
                            for (int x = 0; x < nx; x++) value[x] = NAN;
                            for (long long e = 0; e < E; e++) {
                                stored_row(packed, raw, fv->xtype, j * st + e * se + y * sy, sx, nx);
                                for (int x = 0; x < nx; x++)
                                    if (isnan(value[x]) && !is_missing(&mt, packed[x])) value[x] = packed[x] * scale + offset;
                            }
                        }
                        const size_t o = (((size_t)t * V + v) * ny + y) * nx; /* tile (nt, V, ny, nx) */
                        if (!accumulate) {
                            for (int x = 0; x < nx; x++) tile[o + x] = (float)value[x];
                        } else {
                            for (int x = 0; x < nx; x++)
                                if (!isnan(value[x])) {
                                    sum[o + x] += value[x];
                                    n[o + x]++;
                                }
                        }
                    }
                }
            }
        }
        ncmpi_close(ncid);
        status = dsc_agree(comm, status);
    }
    free(req);
    free(nreq);
    free(row);
    free(raw);
    return status;
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

    era5_tile tl;
    process_grid_tile(&grid, cat->ntime, cat->nlat, cat->nlon, &tl);
    const int V = cat->nvars;
    const long long *first = cat->time_first_step; /* (ntime + 1), NULL = one step per output time */
    const long long step0 = first ? first[tl.t0] : tl.t0;
    const long long nsteps = (first ? first[tl.t0 + tl.nt] : tl.t0 + tl.nt) - step0;
    int accumulate = 0;
    long long *step_out = dsc_malloc((nsteps ? nsteps : 1) * sizeof(long long), "the step table"); /* (nsteps) */
    const size_t tile_size = (size_t)tl.nt * V * tl.ny * tl.nx;
    float *tile = dsc_malloc(tile_size * sizeof(float), "the tile read by this rank"); /* (nt, V, ny, nx) */
    double *sum = NULL;     /* (nt, V, ny, nx) daily sums */
    unsigned int *n = NULL; /* (nt, V, ny, nx) valid steps in them */
    if (!step_out || !tile) status = DSC_ERR;
    if (status == DSC_OK) {
        for (long long t = tl.t0; t < tl.t0 + tl.nt; t++) {
            long long a = first ? first[t] : t, b = first ? first[t + 1] : t + 1;
            if (b - a != 1) accumulate = 1;
            for (long long s = a; s < b; s++) step_out[s - step0] = t;
        }
        for (size_t i = 0; i < tile_size; i++) tile[i] = NAN;
        if (accumulate) {
            sum = dsc_calloc(tile_size, sizeof(double), "the daily sums");
            n = dsc_calloc(tile_size, sizeof(unsigned int), "the daily counts");
            if (!sum || !n) status = DSC_ERR;
        }
    }
    if (dsc_agree(comm, status) != DSC_OK) {
        free(step_out);
        free(tile);
        free(sum);
        free(n);
        return DSC_ERR;
    }

    status = read_tile(comm, cat, &tl, step0, nsteps, step_out, accumulate, tile, sum, n);
    free(step_out);
    if (accumulate) {
        /* daily mean over the steps that are not missing; none -> missing */
        for (size_t i = 0; i < tile_size; i++) tile[i] = n[i] ? (float)(sum[i] / n[i]) : NAN;
        free(sum);
        free(n);
    }
    if (status != DSC_OK) {
        free(tile);
        return DSC_ERR;
    }

    /* missing values per variable, over all ranks (each value is in one tile) */
    long long missing[ERA5_MAX_VARS] = {0};
    for (long long t = 0; t < tl.nt; t++)
        for (int v = 0; v < V; v++) {
            const float *field = tile + ((size_t)t * V + v) * tl.ny * tl.nx;
            for (int i = 0; i < tl.ny * tl.nx; i++)
                if (isnan(field[i])) missing[v]++;
        }
    MPI_Allreduce(missing, out->missing, V, MPI_LONG_LONG, MPI_SUM, comm);
    const long long per_variable = cat->ntime * cat->nlat * cat->nlon;
    for (int v = 0; v < V && status == DSC_OK && refuse_missing; v++)
        if (out->missing[v] == per_variable)
            status = dsc_fail("%s: every value is missing in the selection; drop it with --vars or choose another --time-range/--box", cat->vars[v].name);
    if (dsc_agree(comm, status) != DSC_OK) {
        free(tile);
        return DSC_ERR;
    }

    if (era5_redistribute(comm, &grid, cat->ntime, V, cat->nlat, cat->nlon, tile, out) != DSC_OK) return DSC_ERR;
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
