/*
 * test_preprocess.c - the process grid, the exchange from tiles to samples,
 * and the pre-processing statistics, on synthetic data (no files).
 *
 *   mpirun -n 3 tests/test_preprocess [DIR]
 *
 * Every rank fills its tile from a formula of (t, v, y, x); after
 * era5_redistribute each rank must hold exactly the formula's values of its
 * samples, for every process grid that the rank count allows.  The
 * pre-processing of the distributed samples must equal, bit for bit, the
 * pre-processing of all samples on one rank, and a plain reference
 * computation written out below.  With DIR, a small file is written there
 * and read through a catalog made by hand, also with errors on one rank.
 */
#include "era5_reader.h"
#include "preprocess.h"
#include "partition.h"
#include "status.h"
#include "tap.h"

#include <math.h>
#include <pnetcdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Value of the synthetic field; integers below 2^24 are exact in float. */
static float field_value(long long t, int v, int y, int x) { return (float)(t * 10000 + v * 1000 + y * 30 + x); }

static void test_choose(void)
{
    process_grid g;
    int zero[3] = {0, 0, 0};
    int ok = process_grid_choose(3, 10, 37, 53, zero, &g, 0) == DSC_OK && g.dims[0] == 3 && g.dims[1] == 1 && g.dims[2] == 1;
    tap_check(ok, "automatic grid of 3 ranks over 10 steps splits time (3x1x1)");
    ok = process_grid_choose(3, 2, 37, 53, zero, &g, 0) == DSC_OK && g.dims[0] == 1 && g.dims[1] == 3 && g.dims[2] == 1;
    tap_check(ok, "automatic grid of 3 ranks over 2 steps splits latitude (1x3x1)");
    int half[3] = {0, 2, 1};
    ok = process_grid_choose(4, 10, 37, 53, half, &g, 0) == DSC_OK && g.dims[0] == 2 && g.dims[1] == 2 && g.dims[2] == 1;
    tap_check(ok, "partially fixed 0x2x1 on 4 ranks gives 2x2x1");
    int lon[3] = {2, 0, 0};
    ok = process_grid_choose(6, 2, 37, 53, lon, &g, 0) == DSC_OK && g.dims[0] == 2 && g.dims[1] == 3 && g.dims[2] == 1;
    tap_check(ok, "2x0x0 on 6 ranks gives 2x3x1");
    int narrow[3] = {1, 0, 0};
    ok = process_grid_choose(4, 9, 1, 53, narrow, &g, 0) == DSC_OK && g.dims[0] == 1 && g.dims[1] == 1 && g.dims[2] == 4;
    tap_check(ok, "1x0x0 on 4 ranks with one latitude splits longitude (1x1x4)");

    int three[3] = {3, 1, 1};
    dsc_clear();
    ok = process_grid_choose(2, 10, 37, 53, three, &g, 0) == DSC_ERR && strstr(dsc_message(), "--process-grid") && strstr(dsc_message(), "3x1x1");
    tap_check(ok, "3x1x1 on 2 ranks is refused naming --process-grid (%s)", dsc_message());
    dsc_clear();
    int nodiv[3] = {3, 0, 0};
    ok = process_grid_choose(4, 10, 37, 53, nodiv, &g, 0) == DSC_ERR && strstr(dsc_message(), "--process-grid") && strstr(dsc_message(), "divide");
    tap_check(ok, "3x0x0 on 4 ranks is refused: 3 does not divide 4 (%s)", dsc_message());
    dsc_clear();
    int wide[3] = {1, 1, 4};
    ok = process_grid_choose(4, 10, 37, 3, wide, &g, 0) == DSC_ERR && strstr(dsc_message(), "--process-grid") && strstr(dsc_message(), "longitude");
    tap_check(ok, "1x1x4 over 3 longitudes is refused (%s)", dsc_message());
    dsc_clear();
    ok = process_grid_choose(4, 2, 1, 1, zero, &g, 0) == DSC_ERR && strstr(dsc_message(), "--process-grid");
    tap_check(ok, "4 ranks cannot tile 2 steps of a 1x1 grid (%s)", dsc_message());
    dsc_clear();

    /* the tiles of all ranks cover the output exactly once */
    int grid_ok = 1;
    int six[3] = {0, 3, 2};
    int cover[7][5][4];
    memset(cover, 0, sizeof cover);
    for (int r = 0; r < 12; r++) {
        era5_tile tl;
        if (process_grid_choose(12, 7, 5, 4, six, &g, r) != DSC_OK) grid_ok = 0;
        process_grid_tile(&g, 7, 5, 4, &tl);
        for (long long t = tl.t0; t < tl.t0 + tl.nt; t++)
            for (int y = tl.y0; y < tl.y0 + tl.ny; y++)
                for (int x = tl.x0; x < tl.x0 + tl.nx; x++) cover[t][y][x]++;
    }
    for (int t = 0; t < 7; t++)
        for (int y = 0; y < 5; y++)
            for (int x = 0; x < 4; x++)
                if (cover[t][y][x] != 1) grid_ok = 0;
    tap_check(grid_ok && g.dims[0] == 2, "the 12 tiles of a 2x3x2 grid cover a 7x5x4 output exactly once");
}

/* Every grid of nranks with entries up to the extents, with the time axis
 * as one segment and cut into segments (one of them shorter than the time
 * split, so that some ranks read nothing of it). */
static void test_redistribute(MPI_Comm comm, int rank, int nranks)
{
    const long long T = 7;
    const int V = 2, Y = 5, X = 3;
    static const long long cuts[] = {0, 2, 3, 7};
    for (int cut = 0; cut < 2; cut++) {
        const int nseg = cut ? 3 : 1;
        const long long *seg = cut ? cuts : NULL;
        for (int d0 = 1; d0 <= nranks; d0++)
            for (int d1 = 1; d1 <= nranks; d1++) {
                if (nranks % (d0 * d1)) continue;
                int req[3] = {d0, d1, nranks / (d0 * d1)};
                process_grid g;
                if (process_grid_choose(nranks, T, Y, X, req, &g, rank) != DSC_OK) continue;
                era5_tile tl;
                process_grid_tile(&g, T, Y, X, &tl);
                long long times[7];
                long long nt = process_grid_times(&g, T, nseg, seg, times);
                float *tile = malloc((size_t)nt * V * tl.ny * tl.nx * sizeof(float) + 1); /* (nt, V, ny, nx) */
                for (long long t = 0; t < nt; t++)
                    for (int v = 0; v < V; v++)
                        for (int y = 0; y < tl.ny; y++)
                            for (int x = 0; x < tl.nx; x++)
                                tile[((t * V + v) * tl.ny + y) * tl.nx + x] = field_value(times[t], v, tl.y0 + y, tl.x0 + x);
                era5_samples s;
                memset(&s, 0, sizeof s);
                int ok = era5_redistribute(comm, &g, T, nseg, seg, V, Y, X, tile, &s) == DSC_OK;
                long long t0, n;
                block_range(T, nranks, rank, &t0, &n);
                ok = ok && s.t0 == t0 && s.nt == n && s.nvars == V && s.nlat == Y && s.nlon == X;
                for (long long t = 0; ok && t < n; t++)
                    for (int v = 0; v < V; v++)
                        for (int y = 0; y < Y; y++)
                            for (int x = 0; x < X; x++)
                                if (s.data[((t * V + v) * Y + y) * X + x] != field_value(t0 + t, v, y, x)) ok = 0;
                tap_check_all(comm, ok, "tiles of a %dx%dx%d grid become whole samples (%d time segments)", req[0], req[1], req[2], nseg);
                era5_samples_destroy(&s);
            }
    }
}

/* Each time rank reads a piece of every segment; together they cover the
 * time axis once, in order within each rank. */
static void test_times(void)
{
    static const long long seg[] = {0, 5, 6, 8, 20};
    int count[20] = {0}, ordered = 1, pieces = 1;
    for (int c = 0; c < 3; c++) {
        process_grid g = {{3, 1, 1}, {c, 0, 0}};
        long long times[20];
        long long nt = process_grid_times(&g, 20, 4, seg, times);
        for (long long i = 0; i < nt; i++) {
            count[times[i]]++;
            if (i > 0 && times[i] <= times[i - 1]) ordered = 0;
        }
        /* rank c's piece of the 12-step segment [8, 20) is [8 + 4c, 12 + 4c) */
        for (long long t = 8 + 4 * c; t < 12 + 4 * c; t++) {
            int found = 0;
            for (long long i = 0; i < nt; i++) found |= times[i] == t;
            if (!found) pieces = 0;
        }
    }
    int once = 1;
    for (int t = 0; t < 20; t++) once &= count[t] == 1;
    tap_check(once && ordered && pieces, "3 time ranks read a piece of each of 4 segments, every time once");
    process_grid g = {{3, 1, 1}, {1, 0, 0}};
    tap_check(process_grid_times(&g, 20, 1, NULL, NULL) == 7, "without segments the time split is block_range of the whole axis");
}

/* Global synthetic samples: variable 0 varies with some missing values,
 * variable 1 is constant, variable 2 has a cell that is always missing. */
static float sample_value(long long t, int v, int y, int x)
{
    if (v == 1) return 4.5f;
    if (v == 0 && (t * 7 + y * 3 + x) % 11 == 0) return NAN;
    if (v == 2 && y == 1 && x == 2) return NAN;
    return (float)(sin(0.3 * t + 0.7 * y) * (v + 1) * 10 + 0.1 * x * t + 280 * v);
}

static void make_samples(era5_samples *s, long long T, long long t0, long long nt, int V, int Y, int X)
{
    memset(s, 0, sizeof *s);
    s->ntime = T;
    s->t0 = t0;
    s->nt = nt;
    s->nvars = V;
    s->nlat = Y;
    s->nlon = X;
    s->data = malloc((size_t)nt * V * Y * X * sizeof(float) + 1);
    s->time = malloc((size_t)nt * sizeof(double) + 1);
    for (long long t = 0; t < nt; t++) {
        /* daily steps from 1999-12-20: crosses a year end and Feb 29 2000 */
        s->time[t] = 876000.0 + 24.0 * (t0 + t) - 12 * 24.0;
        for (int v = 0; v < V; v++)
            for (int y = 0; y < Y; y++)
                for (int x = 0; x < X; x++) s->data[((t * V + v) * Y + y) * X + x] = sample_value(t0 + t, v, y, x);
    }
}

/* The obvious serial computation of preprocess.h's definition (no anomalies). */
static float *reference(const era5_samples *s, scale_mode scaling, int H, int W)
{
    const int V = s->nvars, Y = s->nlat, X = s->nlon;
    const long long T = s->nt;
    double fill[ERA5_MAX_VARS];
    for (int v = 0; v < V; v++) {
        double sum = 0;
        long long n = 0;
        for (long long t = 0; t < T; t++)
            for (int i = 0; i < Y * X; i++) {
                float x = s->data[(t * V + v) * Y * X + i];
                if (!isnan(x)) {
                    sum += x;
                    n++;
                }
            }
        fill[v] = sum / n;
    }
    float *out = calloc((size_t)T * V * H * W, sizeof(float));
    for (int v = 0; v < V; v++)
        for (int i = 0; i < Y * X; i++) {
            double lo = INFINITY, hi = -INFINITY;
            for (long long t = 0; t < T; t++)
                for (int j = (scaling == SCALE_CELL ? i : 0); j < (scaling == SCALE_CELL ? i + 1 : Y * X); j++) {
                    float x = s->data[(t * V + v) * Y * X + j];
                    float f = isnan(x) ? (float)fill[v] : x;
                    if (f < lo) lo = f;
                    if (f > hi) hi = f;
                }
            for (long long t = 0; t < T; t++) {
                float x = s->data[(t * V + v) * Y * X + i];
                float f = isnan(x) ? (float)fill[v] : x;
                out[((t * V + v) * H + i / X) * W + i % X] = hi > lo ? (float)((f - lo) / (hi - lo)) : 0.0f;
            }
        }
    return out;
}

static void test_preprocess(MPI_Comm comm, int rank, int nranks)
{
    const long long T = 80;
    const int V = 3, Y = 17, X = 5;
    const int H = preprocess_padded_size(Y), W = preprocess_padded_size(X);
    tap_check(H == 32 && W == 16 && preprocess_padded_size(48) == 48 && preprocess_padded_size(41) == 48, "padding to multiples of 16");
    dsc_datetime d = {2000, 2, 29, 12, 0, 0}, m1 = {2001, 3, 1, 0, 0, 0}, e = {2001, 12, 31, 23, 0, 0}, j = {1999, 1, 1, 0, 0, 0};
    tap_check(preprocess_day_index(datetime_to_hours(&d)) == 59 && preprocess_day_index(datetime_to_hours(&m1)) == 60 &&
                  preprocess_day_index(datetime_to_hours(&e)) == 365 && preprocess_day_index(datetime_to_hours(&j)) == 0,
              "day-of-year slots count a leap year (Feb 29 = 59, Mar 1 = 60, Dec 31 = 365)");

    long long t0, nt;
    block_range(T, nranks, rank, &t0, &nt);
    era5_samples mine, all;
    make_samples(&mine, T, t0, nt, V, Y, X);
    make_samples(&all, T, 0, T, V, Y, X);
    const size_t padded = (size_t)V * H * W;

    for (int mode = 0; mode < 4; mode++) {
        scale_mode scaling = (mode & 1) ? SCALE_CELL : SCALE_VARIABLE;
        int anomalies = mode >= 2;
        const char *name = scaling == SCALE_CELL ? "per cell" : "per variable";
        preprocess_stats st, serial;
        int ok = preprocess_fit(comm, &mine, &(preprocess_options){scaling, anomalies}, &st) == DSC_OK;
        float *out = malloc(nt * padded * sizeof(float) + 1);
        ok = ok && preprocess_apply(&st, &mine, out) == DSC_OK;
        /* gather to rank 0 */
        float *gathered = rank == 0 ? malloc(T * padded * sizeof(float)) : NULL;
        int *counts = malloc(nranks * sizeof(int)), *displs = malloc(nranks * sizeof(int));
        for (int q = 0; q < nranks; q++) {
            long long a, n;
            block_range(T, nranks, q, &a, &n);
            counts[q] = (int)(n * padded);
            displs[q] = (int)(a * padded);
        }
        MPI_Gatherv(out, (int)(nt * padded), MPI_FLOAT, gathered, counts, displs, MPI_FLOAT, 0, comm);
        int same = 1, inrange = 1, padding = 1, reference_ok = 1, constant = 1, extremes = 1;
        if (rank == 0) {
            float *one = malloc(T * padded * sizeof(float));
            ok = ok && preprocess_fit(MPI_COMM_SELF, &all, &(preprocess_options){scaling, anomalies}, &serial) == DSC_OK;
            ok = ok && preprocess_apply(&serial, &all, one) == DSC_OK;
            same = memcmp(one, gathered, T * padded * sizeof(float)) == 0;
            float lo[ERA5_MAX_VARS], hi[ERA5_MAX_VARS];
            for (int v = 0; v < V; v++) lo[v] = INFINITY, hi[v] = -INFINITY;
            for (long long t = 0; t < T; t++)
                for (int v = 0; v < V; v++)
                    for (int y = 0; y < H; y++)
                        for (int x = 0; x < W; x++) {
                            float z = gathered[((t * V + v) * H + y) * W + x];
                            if (!(z >= 0.0f && z <= 1.0f)) inrange = 0;
                            if ((y >= Y || x >= X) && z != 0.0f) padding = 0;
                            if (y < Y && x < X) {
                                if (z < lo[v]) lo[v] = z;
                                if (z > hi[v]) hi[v] = z;
                            }
                            if (v == 1 && z != 0.0f) constant = 0;
                        }
            /* per variable: min 0 and max 1 of each non-constant variable */
            if (scaling == SCALE_VARIABLE)
                for (int v = 0; v < V; v++)
                    if (v != 1 && (lo[v] != 0.0f || hi[v] != 1.0f)) extremes = 0;
            if (!anomalies) {
                float *ref = reference(&all, scaling, H, W);
                for (size_t i = 0; i < T * padded; i++)
                    if (fabsf(ref[i] - gathered[i]) > 1e-6f) reference_ok = 0;
                free(ref);
            }
            preprocess_stats_destroy(&serial);
            free(one);
        }
        tap_check_all(comm, ok, "%s%s: fit and apply succeed on every rank", name, anomalies ? " with anomalies" : "");
        tap_check(same, "%s%s: %d ranks give the bytes of 1 rank", name, anomalies ? " with anomalies" : "", nranks);
        tap_check(inrange && padding && constant && extremes, "%s%s: values in [0, 1], min 0 / max 1, constant variable 0, padding 0",
                  name, anomalies ? " with anomalies" : "");
        if (!anomalies) tap_check(reference_ok, "%s: equals the plain reference computation to 1e-6", name);

        /* save / reload the statistics: the same output */
        size_t n = preprocess_stats_packed_size(&st);
        double *buf = malloc(n * sizeof(double));
        preprocess_stats_pack(&st, buf);
        preprocess_stats back;
        float *again = malloc(nt * padded * sizeof(float) + 1);
        int reload = preprocess_stats_unpack(&back, buf, n) == DSC_OK && preprocess_apply(&back, &mine, again) == DSC_OK &&
                     memcmp(again, out, nt * padded * sizeof(float)) == 0;
        if (reload) preprocess_stats_destroy(&back);
        tap_check_all(comm, reload, "%s%s: packed statistics reload to the same output", name, anomalies ? " with anomalies" : "");
        buf[2] = 99; /* nvars out of range */
        int refused = preprocess_stats_unpack(&back, buf, n) == DSC_ERR && preprocess_stats_unpack(&back, buf, n - 1) == DSC_ERR;
        dsc_clear();
        tap_check_all(comm, refused, "%s%s: a damaged statistics record is refused", name, anomalies ? " with anomalies" : "");
        free(buf);
        free(again);
        free(out);
        free(gathered);
        free(counts);
        free(displs);
        preprocess_stats_destroy(&st);
    }
    era5_samples_destroy(&mine);
    era5_samples_destroy(&all);
}

/* A small file written here, and a catalog of it built by hand: reading it
 * must give the stored values; a step index beyond the file on one rank
 * only, or a file that is not there, must fail on every rank (no hang). */
static void test_read_errors(MPI_Comm comm, const char *dir, int nranks)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/test_preprocess.nc", dir);
    enum { NT = 4, NY = 2, NX = 3 };
    int ncid, dims[3], varid, err;
    err = ncmpi_create(comm, path, NC_CLOBBER | NC_64BIT_OFFSET, MPI_INFO_NULL, &ncid);
    err |= ncmpi_def_dim(ncid, "time", NC_UNLIMITED, &dims[0]);
    err |= ncmpi_def_dim(ncid, "latitude", NY, &dims[1]);
    err |= ncmpi_def_dim(ncid, "longitude", NX, &dims[2]);
    err |= ncmpi_def_var(ncid, "sp", NC_SHORT, 3, dims, &varid);
    err |= ncmpi_enddef(ncid);
    short packed[NT * NY * NX];
    for (int i = 0; i < NT * NY * NX; i++) packed[i] = (short)(i * 7 - 50);
    packed[5] = -32767;
    MPI_Offset start[3] = {0, 0, 0}, count[3] = {NT, NY, NX};
    err |= ncmpi_put_vara_short_all(ncid, varid, start, count, packed);
    err |= ncmpi_close(ncid);
    tap_check_all(comm, err == NC_NOERR, "write a small packed file with PnetCDF");

    era5_file file;
    memset(&file, 0, sizeof file);
    snprintf(file.path, sizeof file.path, "%s", path);
    file.format = NC_FORMAT_CDF2;
    file.ntime = NT;
    file.time_is_record = 1;
    file.file_nlat = NY;
    file.file_nlon = NX;
    era5_file_variable *fv = &file.vars[0];
    snprintf(fv->nc_name, sizeof fv->nc_name, "sp");
    fv->varid = varid;
    fv->xtype = NC_SHORT;
    fv->packed = 1;
    fv->scale_factor = 0.5;
    fv->add_offset = 1000;
    fv->has_fill = 1;
    fv->fill_value = -32767;
    fv->ndims = 3;
    fv->dim_order[0] = 0, fv->dim_order[1] = -1, fv->dim_order[2] = 1, fv->dim_order[3] = 2;
    era5_step steps[NT];
    double time[NT];
    long long first[NT + 1];
    for (int t = 0; t < NT; t++) {
        steps[t] = (era5_step){24.0 * t, 0, t};
        time[t] = 24.0 * t;
        first[t] = t;
    }
    first[NT] = NT;
    era5_catalog cat;
    memset(&cat, 0, sizeof cat);
    cat.nfiles = 1;
    cat.files = &file;
    cat.nvars = 1;
    snprintf(cat.vars[0].name, sizeof cat.vars[0].name, "sp");
    cat.nlat = NY;
    cat.nlon = NX;
    cat.nsteps = cat.ntime = NT;
    cat.steps = steps;
    cat.time = time;
    cat.time_first_step = first;
    era5_options opt;
    memset(&opt, 0, sizeof opt);

    era5_samples s;
    int ok = era5_read_samples(comm, &cat, &opt, &s) == DSC_OK;
    for (long long t = 0; ok && t < s.nt; t++)
        for (int i = 0; i < NY * NX; i++) {
            short raw = packed[(s.t0 + t) * NY * NX + i];
            float want = raw == -32767 ? NAN : (float)(raw * 0.5 + 1000);
            float got = s.data[t * NY * NX + i];
            if (!(got == want || (isnan(got) && isnan(want)))) ok = 0;
        }
    ok = ok && s.missing[0] == 1;
    tap_check_all(comm, ok, "a hand-made catalog reads the stored values (one missing)");
    if (ok) era5_samples_destroy(&s);

    /* the last step points beyond the file: only the last rank's tile has it */
    steps[NT - 1].index = NT + 5;
    int failed = era5_read_samples(comm, &cat, &opt, &s) == DSC_ERR;
    tap_check_all(comm, failed, "a read error on the last of %d ranks fails on every rank", nranks);
    steps[NT - 1].index = NT - 1;

    snprintf(file.path, sizeof file.path, "%s/no-such-file.nc", dir);
    failed = era5_read_samples(comm, &cat, &opt, &s) == DSC_ERR;
    tap_check_all(comm, failed, "a file that cannot be opened fails on every rank");

    int grid[3] = {nranks + 1, 1, 1};
    memcpy(opt.process_grid, grid, sizeof grid);
    snprintf(file.path, sizeof file.path, "%s", path);
    failed = era5_read_samples(comm, &cat, &opt, &s) == DSC_ERR;
    tap_check_all(comm, failed, "--process-grid %dx1x1 on %d ranks fails on every rank", nranks + 1, nranks);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    tap_init();
    int rank, nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    tap_note("%d ranks", nranks);
    test_choose();
    test_times();
    test_redistribute(MPI_COMM_WORLD, rank, nranks);
    test_preprocess(MPI_COMM_WORLD, rank, nranks);
    if (argc > 1) test_read_errors(MPI_COMM_WORLD, argv[1], nranks);
    int status = tap_finish();
    MPI_Finalize();
    return status;
}
