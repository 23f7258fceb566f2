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
 * pre-processing of all samples on one rank (to 1e-6 with the harmonic
 * climatology, whose sums are added in another order), and a plain
 * reference computation written out below.  The harmonic climatology must
 * reproduce planted fields (mean + trend + harmonics, per hour of day for
 * sub-daily steps) to rounding, extrapolate them to other years from the
 * stored coefficients, fall back to fewer terms on short or sparse
 * records, and survive the serialisation (version 2, and version 1 daily
 * records).  With DIR, a small file is written there and read through a
 * catalog made by hand, also with errors on one rank.
 */
#include "era5_reader.h"
#include "preprocess.h"
#include "partition.h"
#include "process_grid.h"
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
    double fill[ERA5_MAX_VARS] = {0};
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

    /* modes: scaling x {no anomalies, daily climatology, harmonic climatology (80 days: the mean of each cell)} */
    for (int mode = 0; mode < 6; mode++) {
        scale_mode scaling = (mode & 1) ? SCALE_CELL : SCALE_VARIABLE;
        int anomalies = mode >= 2, harmonic = mode >= 4;
        const preprocess_options po = {scaling, anomalies, harmonic ? CLIMATOLOGY_HARMONIC : CLIMATOLOGY_DAILY, 3};
        char name[64];
        snprintf(name, sizeof name, "%s%s", scaling == SCALE_CELL ? "per cell" : "per variable",
                 !anomalies ? "" : harmonic ? " with harmonic anomalies" : " with daily anomalies");
        preprocess_stats st, serial;
        int ok = preprocess_fit(comm, &mine, &po, &st) == DSC_OK;
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
            ok = ok && preprocess_fit(MPI_COMM_SELF, &all, &po, &serial) == DSC_OK;
            ok = ok && preprocess_apply(&serial, &all, one) == DSC_OK;
            if (harmonic)
                for (size_t i = 0; i < T * padded; i++) same &= fabsf(one[i] - gathered[i]) <= 1e-6f;
            else same = memcmp(one, gathered, T * padded * sizeof(float)) == 0;
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
        tap_check_all(comm, ok, "%s: fit and apply succeed on every rank", name);
        tap_check(same, "%s: %d ranks give %s of 1 rank", name, nranks, harmonic ? "the values (to 1e-6)" : "the bytes");
        tap_check(inrange && padding && constant && extremes, "%s: values in [0, 1], min 0 / max 1, constant variable 0, padding 0", name);
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
        tap_check_all(comm, reload, "%s: packed statistics reload to the same output", name);
        if (anomalies && !harmonic) { /* the same record in version 1: 9 header entries, then the same values */
            double *v1 = malloc(n * sizeof(double));
            memcpy(v1, buf, PREPROCESS_STATS_HEADER_V1 * sizeof(double));
            v1[1] = 1.0;
            memcpy(v1 + PREPROCESS_STATS_HEADER_V1, buf + PREPROCESS_STATS_HEADER, (n - PREPROCESS_STATS_HEADER) * sizeof(double));
            size_t n1 = n - (PREPROCESS_STATS_HEADER - PREPROCESS_STATS_HEADER_V1);
            int old = preprocess_stats_unpack(&back, v1, n1) == DSC_OK;
            old = old && back.climatology_kind == CLIMATOLOGY_DAILY && preprocess_apply(&back, &mine, again) == DSC_OK &&
                  memcmp(again, out, nt * padded * sizeof(float)) == 0;
            if (old) preprocess_stats_destroy(&back);
            tap_check_all(comm, old, "%s: a version 1 record of the daily climatology still reads, to the same output", name);
            free(v1);
        }
        buf[2] = 99; /* nvars out of range */
        int refused = preprocess_stats_unpack(&back, buf, n) == DSC_ERR && preprocess_stats_unpack(&back, buf, n - 1) == DSC_ERR;
        dsc_clear();
        buf[2] = V;
        buf[1] = 4.0; /* a version from the future */
        refused = refused && preprocess_stats_unpack(&back, buf, n) == DSC_ERR && strstr(dsc_message(), "version");
        dsc_clear();
        tap_check_all(comm, refused, "%s: a damaged statistics record is refused", name);
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

/* ---- the harmonic climatology on planted fields ---- */

/* Hours since 1900-01-01 of 00:00 on a date. */
static double hours_of(int year, int month, int day)
{
    dsc_datetime d = {year, month, day, 0, 0, 0};
    return datetime_to_hours(&d);
}

/* A seasonal cycle known in closed form: mean + trend + 3 annual harmonics
 * with coefficients of the cell, in years from 1990-01-01 (not the origin
 * dsc picks: the fitted function does not depend on it). */
static double planted_cycle(double hours, size_t cell)
{
    const double tau = (hours - hours_of(1990, 1, 1)) / (24.0 * 365.2425);
    double value = 100.0 + 7.0 * (double)(cell % 13) + (0.2 + 0.05 * (double)(cell % 7)) * tau;
    for (int k = 1; k <= 3; k++)
        value += (1.0 + (double)(cell % 3)) / k * cos(2 * M_PI * k * tau) + 0.5 * ((double)(cell % 5) - 2.0) / k * sin(2 * M_PI * k * tau);
    return value;
}

/* The line of the sparse cell: 50 + 2 tau, tau in years from 1990-01-01. */
static double sparse_line(double hours) { return 50.0 + 2.0 * (hours - hours_of(1990, 1, 1)) / (24.0 * 365.2425); }

/* A diurnal offset of a cell at an hour of day: no harmonic shape. */
static double planted_diurnal(int hour, size_t cell) { return (hour == 0 ? 3.0 : hour == 6 ? -1.0 : hour == 12 ? 2.5 : 0.0) * (1.0 + 0.1 * (double)(cell % 4)); }

/* Deterministic noise in [-1, 1] of a step and cell. */
static double noise(long long t, size_t cell)
{
    unsigned long long h = (unsigned long long)t * 0x9E3779B97F4A7C15ull ^ ((unsigned long long)cell + 1) * 0xC2B2AE3D27D4EB4Full;
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 29;
    return (double)(h >> 11) / (double)(1ull << 52) - 1.0;
}

enum { FIELD_EXACT, FIELD_NOISY, FIELD_DIURNAL, FIELD_SHIFTED, FIELD_SPARSE };

/* The value of a planted field at step t (global index), time hours, cell;
 * NaN = missing.  Cell 0 is missing every 9th step in every kind. */
static float planted_value(int kind, long long t, double hours, size_t cell)
{
    if (cell == 0 && t % 9 == 4) return NAN;
    double value = planted_cycle(hours, cell);
    switch (kind) {
    case FIELD_NOISY: value += 3.0 * noise(t, cell); break;
    case FIELD_DIURNAL: value += planted_diurnal(preprocess_hour_of_day(hours), cell); break;
    case FIELD_SHIFTED: value += 0.5 + 0.25 * sin(0.1 * (double)t + (double)cell); break; /* another year: a known anomaly */
    case FIELD_SPARSE: /* cell 1 valid at 3 equally spaced steps only: the line 50 + 2 tau plus +1, -2, +1, whose
                        * least-squares line is 50 + 2 tau (a third term would pass through the points) */
        if (cell == 1) return t % 400 == 7 ? (float)(sparse_line(hours) + (t / 400 == 1 ? -2.0 : 1.0)) : NAN;
        break;
    default: break;
    }
    return (float)value;
}

/* Samples [t0, t0 + nt) of T steps every step hours from start, of a
 * planted field on a V x Y x X grid. */
static void make_planted(era5_samples *s, int kind, long long T, long long t0, long long nt, int V, int Y, int X, double start, double step)
{
    const size_t sample = (size_t)V * Y * X;
    memset(s, 0, sizeof *s);
    s->ntime = T;
    s->t0 = t0;
    s->nt = nt;
    s->nvars = V;
    s->nlat = Y;
    s->nlon = X;
    s->data = malloc((size_t)nt * sample * sizeof(float) + 1);
    s->time = malloc((size_t)nt * sizeof(double) + 1);
    for (long long t = 0; t < nt; t++) {
        s->time[t] = start + step * (double)(t0 + t);
        for (size_t i = 0; i < sample; i++) s->data[t * sample + i] = planted_value(kind, t0 + t, s->time[t], i);
    }
}

/* Largest |prepared - expected| over the valid values of s, relative to
 * the largest |value|; expected = planted_value(kind) - cycle (+ diurnal),
 * or minus the line for the sparse cell. */
static double planted_residual(const era5_samples *s, const float *prepared, int kind_of_data, int diurnal)
{
    const size_t sample = (size_t)s->nvars * s->nlat * s->nlon;
    double worst = 0, scale = 0;
    for (long long t = 0; t < s->nt; t++)
        for (size_t i = 0; i < sample; i++) {
            float x = s->data[t * sample + i];
            if (isnan(x)) continue;
            double clim = planted_cycle(s->time[t], i) + (diurnal ? planted_diurnal(preprocess_hour_of_day(s->time[t]), i) : 0.0);
            if (kind_of_data == FIELD_SPARSE && i == 1) clim = sparse_line(s->time[t]);
            double expected = (double)planted_value(kind_of_data, s->t0 + t, s->time[t], i) - clim;
            worst = fmax(worst, fabs(prepared[t * sample + i] - expected));
            scale = fmax(scale, fabs(x));
        }
    return worst / scale;
}

/* Collective: the prepared values of every rank's samples, in time order, on rank 0 (NULL elsewhere). */
static float *gather_prepared(MPI_Comm comm, const float *mine, long long T, long long nt, size_t sample, int rank, int nranks)
{
    float *all = rank == 0 ? malloc((size_t)T * sample * sizeof(float)) : NULL;
    int *counts = malloc(2 * nranks * sizeof(int)), *displs = counts + nranks;
    for (int q = 0; q < nranks; q++) {
        long long a, n;
        block_range(T, nranks, q, &a, &n);
        counts[q] = (int)(n * sample);
        displs[q] = (int)(a * sample);
    }
    MPI_Gatherv(mine, (int)(nt * sample), MPI_FLOAT, all, counts, displs, MPI_FLOAT, 0, comm);
    free(counts);
    return all;
}

/* Fits preprocess_options on the distributed field and returns this rank's prepared values. */
static float *fit_prepare(MPI_Comm comm, const era5_samples *s, const preprocess_options *o, preprocess_stats *st, int *ok)
{
    const size_t sample = (size_t)s->nvars * s->nlat * s->nlon;
    float *out = malloc((size_t)s->nt * sample * sizeof(float) + 1);
    *ok = preprocess_fit(comm, s, o, st) == DSC_OK && preprocess_prepare(st, s, out) == DSC_OK;
    return out;
}

static void test_harmonic(MPI_Comm comm, int rank, int nranks)
{
    const int V = 2, Y = 3, X = 4;
    const size_t sample = (size_t)V * Y * X;
    const preprocess_options harmonic = {SCALE_VARIABLE, 1, CLIMATOLOGY_HARMONIC, 3};
    const preprocess_options daily = {SCALE_VARIABLE, 1, CLIMATOLOGY_DAILY, 3};
    const double start = hours_of(2001, 1, 1);
    long long t0, nt;

    /* three years of daily steps of an exact cycle: anomalies 0 to rounding */
    const long long T = 3 * 365;
    block_range(T, nranks, rank, &t0, &nt);
    era5_samples exact;
    make_planted(&exact, FIELD_EXACT, T, t0, nt, V, Y, X, start, 24.0);
    preprocess_stats st;
    int ok;
    float *a = fit_prepare(comm, &exact, &harmonic, &st, &ok);
    double r = ok ? planted_residual(&exact, a, FIELD_EXACT, 0) : INFINITY;
    tap_check_all(comm, ok && r < 1e-6, "harmonic: 3 years of mean + trend + 3 harmonics (a cell with missing values) give anomalies 0 (%.2g of the scale)", r);
    tap_check_all(comm, ok && st.nslots == 1 && st.harmonics == 3 && st.coef, "harmonic: daily steps have one hour-of-day slot");
    preprocess_stats dst;
    float *d = fit_prepare(comm, &exact, &daily, &dst, &ok);
    r = ok ? planted_residual(&exact, d, FIELD_EXACT, 0) : 0;
    tap_check_all(comm, ok && r > 1e-4, "daily: the same field leaves the trend in the anomalies (%.2g of the scale)", r);
    preprocess_stats_destroy(&dst);
    free(d);

    /* another year, 10 years later, with a known anomaly: the stored
     * coefficients evaluated at its times, also after pack / unpack */
    const long long T2 = 365;
    long long u0, un;
    block_range(T2, nranks, rank, &u0, &un);
    era5_samples later;
    make_planted(&later, FIELD_SHIFTED, T2, u0, un, V, Y, X, hours_of(2013, 1, 1), 24.0);
    float *b = malloc((size_t)un * sample * sizeof(float) + 1), *c = malloc((size_t)un * sample * sizeof(float) + 1);
    ok = ok && preprocess_prepare(&st, &later, b) == DSC_OK;
    r = ok ? planted_residual(&later, b, FIELD_SHIFTED, 0) : INFINITY;
    tap_check_all(comm, ok && r < 1e-5, "harmonic: a year outside the fit gets its anomaly from the extrapolated trend and cycle (%.2g)", r);
    size_t n = preprocess_stats_packed_size(&st);
    double *buf = malloc(n * sizeof(double)), *again = calloc(n, sizeof(double));
    preprocess_stats_pack(&st, buf);
    preprocess_stats back;
    int round = preprocess_stats_unpack(&back, buf, n) == DSC_OK;
    if (round) {
        preprocess_stats_pack(&back, again);
        round = memcmp(buf, again, n * sizeof(double)) == 0 && back.time_origin == st.time_origin && back.nslots == st.nslots &&
                preprocess_prepare(&back, &later, c) == DSC_OK && memcmp(b, c, (size_t)un * sample * sizeof(float)) == 0;
        preprocess_stats_destroy(&back);
    }
    tap_check_all(comm, round, "harmonic: pack / unpack is exact and the reloaded coefficients give the same anomalies of another year");
    buf[PREPROCESS_STATS_HEADER + V + 2 * V] = 24; /* the hour of the first slot */
    int refused = preprocess_stats_unpack(&back, buf, n) == DSC_ERR;
    dsc_clear();
    tap_check_all(comm, refused, "harmonic: a record with an hour-of-day slot of 24 is refused");

    /* version 3: the inputs (names, units, coordinates) travel with the statistics */
    st.has_inputs = 1;
    st.lat = malloc((size_t)Y * sizeof(double));
    st.lon = malloc((size_t)X * sizeof(double));
    for (int y = 0; y < Y; y++) st.lat[y] = 45.0 - 0.25 * y;
    for (int x = 0; x < X; x++) st.lon[x] = -30.0 + 0.25 * x;
    for (int v = 0; v < V; v++) {
        snprintf(st.var_name[v], sizeof st.var_name[v], "var%d", v);
        snprintf(st.var_units[v], sizeof st.var_units[v], v ? "m s**-1" : "");
    }
    size_t n3 = preprocess_stats_packed_size(&st);
    double *b3 = malloc(n3 * sizeof(double)), *a3 = malloc(n3 * sizeof(double));
    preprocess_stats_pack(&st, b3);
    /* the version 2 record (again, packed from the reloaded statistics above) and then the inputs */
    int inputs = n3 == n + (size_t)V * 2 * PREPROCESS_STATS_CHARS + Y + X && b3[1] == 3.0 && again[1] == 2.0 &&
                 memcmp(b3 + 2, again + 2, (n - 2) * sizeof(double)) == 0;
    if (inputs && preprocess_stats_unpack(&back, b3, n3) == DSC_OK) {
        preprocess_stats_pack(&back, a3);
        inputs = back.has_inputs && memcmp(a3, b3, n3 * sizeof(double)) == 0 && back.lat[Y - 1] == st.lat[Y - 1] &&
                 back.lon[X - 1] == st.lon[X - 1] && strcmp(back.var_name[V - 1], st.var_name[V - 1]) == 0 &&
                 strcmp(back.var_units[1], "m s**-1") == 0 && back.var_units[0][0] == '\0';
        preprocess_stats_destroy(&back);
    } else {
        inputs = 0;
    }
    tap_check_all(comm, inputs, "version 3: names, units and coordinates pack and unpack exactly");
    const size_t names = n3 - ((size_t)V * 2 * PREPROCESS_STATS_CHARS + Y + X);
    memcpy(a3, b3, n3 * sizeof(double));
    a3[names] = 300; /* not a character code */
    refused = preprocess_stats_unpack(&back, a3, n3) == DSC_ERR;
    dsc_clear();
    memcpy(a3, b3, n3 * sizeof(double));
    for (size_t i = 0; i < PREPROCESS_STATS_CHARS; i++) a3[names + i] = 'x'; /* no end */
    refused = refused && preprocess_stats_unpack(&back, a3, n3) == DSC_ERR;
    dsc_clear();
    memcpy(a3, b3, n3 * sizeof(double));
    a3[n3 - 1] = NAN; /* a longitude */
    refused = refused && preprocess_stats_unpack(&back, a3, n3) == DSC_ERR;
    dsc_clear();
    refused = refused && preprocess_stats_unpack(&back, b3, n3 - 1) == DSC_ERR;
    dsc_clear();
    tap_check_all(comm, refused, "version 3: a bad character code, a name without end, a NaN coordinate, a short record are refused");
    free(b3);
    free(a3);
    free(buf);
    free(again);
    free(b);
    free(c);
    era5_samples_destroy(&later);
    preprocess_stats_destroy(&st);
    free(a);
    era5_samples_destroy(&exact);

    /* a noisy field: the anomalies of n ranks equal those of 1 rank to 1e-6 */
    era5_samples noisy, all;
    make_planted(&noisy, FIELD_NOISY, T, t0, nt, V, Y, X, start, 24.0);
    a = fit_prepare(comm, &noisy, &harmonic, &st, &ok);
    float *gathered = gather_prepared(comm, a, T, nt, sample, rank, nranks);
    int same = 1, differs = 0;
    if (rank == 0) {
        preprocess_stats one;
        int ok1;
        make_planted(&all, FIELD_NOISY, T, 0, T, V, Y, X, start, 24.0);
        float *serial = fit_prepare(MPI_COMM_SELF, &all, &harmonic, &one, &ok1);
        double scale = 0;
        for (size_t i = 0; i < (size_t)T * sample; i++) scale = fmax(scale, fabs(all.data[i]));
        for (size_t i = 0; i < (size_t)T * sample; i++) {
            same &= ok1 && fabs(serial[i] - gathered[i]) <= 1e-6 * scale;
            differs |= fabs(gathered[i]) > 0.5; /* the noise is left */
        }
        preprocess_stats_destroy(&one);
        free(serial);
        era5_samples_destroy(&all);
    }
    int verdict[2] = {same, differs};
    MPI_Bcast(verdict, 2, MPI_INT, 0, comm);
    tap_check_all(comm, ok, "harmonic: fit on a noisy field succeeds on every rank");
    tap_check(verdict[0] && verdict[1], "harmonic: the anomalies of a noisy field at %d ranks equal those of 1 rank to 1e-6 of the scale", nranks);
    free(gathered);
    free(a);
    preprocess_stats_destroy(&st);
    era5_samples_destroy(&noisy);

    /* two years of 6-hourly steps with a diurnal offset: one fit per hour of day */
    const long long T6 = 2 * 365 * 4;
    block_range(T6, nranks, rank, &t0, &nt);
    era5_samples sub;
    make_planted(&sub, FIELD_DIURNAL, T6, t0, nt, V, Y, X, start, 6.0);
    a = fit_prepare(comm, &sub, &harmonic, &st, &ok);
    r = ok ? planted_residual(&sub, a, FIELD_DIURNAL, 1) : INFINITY;
    ok = ok && st.nslots == 4 && st.slot_hour[0] == 0 && st.slot_hour[1] == 6 && st.slot_hour[2] == 12 && st.slot_hour[3] == 18;
    tap_check_all(comm, ok && r < 1e-6, "harmonic: 6-hourly steps get 4 slots (0, 6, 12, 18 h) and the diurnal offset goes into them (%.2g)", r);
    /* steps at 07:00 (no slot of their own) use the 06:00 slot */
    era5_samples seven;
    make_planted(&seven, FIELD_EXACT, 10, 0, 10, V, Y, X, start + 7.0, 24.0);
    for (size_t i = 0; i < 10 * sample; i++) seven.data[i] += (float)planted_diurnal(6, i % sample);
    float *e = malloc(10 * sample * sizeof(float));
    double worst = 0;
    ok = ok && preprocess_prepare(&st, &seven, e) == DSC_OK;
    for (size_t i = 0; ok && i < 10 * sample; i++)
        if (!isnan(seven.data[i])) worst = fmax(worst, fabs(e[i] - (seven.data[i] - planted_cycle(seven.time[i / sample], i % sample) - planted_diurnal(6, i % sample))));
    tap_check_all(comm, ok && worst < 1e-3, "harmonic: steps at 07:00 use the climatology of the 06:00 slot (%.2g)", worst);
    free(e);
    era5_samples_destroy(&seven);
    free(a);
    preprocess_stats_destroy(&st);
    era5_samples_destroy(&sub);

    /* a cell with 3 valid values in 3 years: mean + trend, their least-squares line */
    block_range(T, nranks, rank, &t0, &nt);
    era5_samples sparse;
    make_planted(&sparse, FIELD_SPARSE, T, t0, nt, V, Y, X, start, 24.0);
    a = fit_prepare(comm, &sparse, &harmonic, &st, &ok);
    worst = 0;
    for (long long t = 0; ok && t < nt; t++)
        if (isnan(sparse.data[t * sample + 1])) { /* missing: the fill value minus the cell's line */
            double expected = st.fill[0] - sparse_line(sparse.time[t]);
            worst = fmax(worst, fabs(a[t * sample + 1] - expected) / fabs(expected));
        }
    double rest = ok ? planted_residual(&sparse, a, FIELD_SPARSE, 0) : INFINITY;
    tap_check_all(comm, ok && worst < 1e-5 && rest < 1e-4,
                  "harmonic: a cell with 3 valid values falls back to mean + trend (their regression line), the other cells keep their harmonics (%.2g, %.2g)", worst, rest);
    free(a);
    preprocess_stats_destroy(&st);
    era5_samples_destroy(&sparse);

    /* 80 days: every cell's mean */
    const long long T80 = 80;
    block_range(T80, nranks, rank, &t0, &nt);
    era5_samples brief;
    make_planted(&brief, FIELD_NOISY, T80, t0, nt, V, Y, X, start, 24.0);
    a = fit_prepare(comm, &brief, &harmonic, &st, &ok);
    era5_samples whole;
    make_planted(&whole, FIELD_NOISY, T80, 0, T80, V, Y, X, start, 24.0);
    worst = 0;
    for (size_t i = 0; ok && i < sample; i++) {
        double sum = 0;
        long long count = 0;
        for (long long t = 0; t < T80; t++)
            if (!isnan(whole.data[t * sample + i])) sum += whole.data[t * sample + i], count++;
        for (long long t = 0; t < nt; t++) {
            float x = brief.data[t * sample + i];
            double expected = (isnan(x) ? st.fill[i / (Y * X)] : x) - sum / count;
            worst = fmax(worst, fabs(a[t * sample + i] - expected));
        }
    }
    tap_check_all(comm, ok && worst < 1e-4, "harmonic: a record of 80 days gets the mean of each cell (%.2g)", worst);
    free(a);
    preprocess_stats_destroy(&st);
    era5_samples_destroy(&brief);
    era5_samples_destroy(&whole);

    /* the basis: phase and trend in tropical years from the origin */
    double basis[8];
    preprocess_harmonic_basis(1000.0 + 24.0 * 365.2425 / 4, 1000.0, 3, basis);
    tap_check(fabs(basis[0] - 1) < 1e-15 && fabs(basis[1] - 0.25) < 1e-15 && fabs(basis[2]) < 1e-12 && fabs(basis[3] - 1) < 1e-12 &&
                  fabs(basis[4] + 1) < 1e-12 && fabs(basis[7] + 1) < 1e-12,
              "harmonic basis a quarter of a year after the origin: 1, 0.25, cos 0, sin 1, cos -1, ..., sin(3 pi / 2) = -1");
    tap_check(preprocess_hour_of_day(hours_of(2001, 3, 1) + 18) == 18 && preprocess_hour_of_day(hours_of(2001, 3, 1) + 5.9999999) == 6 &&
                  preprocess_hour_of_day(-1.0) == 23,
              "hour-of-day slots: 18 h, a rounding error short of 06:00, and before 1900");
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
    fv->dim_order[0] = 0, fv->dim_order[1] = -1, fv->dim_order[2] = 1, fv->dim_order[3] = 2, fv->dim_order[4] = -1;
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
    test_harmonic(MPI_COMM_WORLD, rank, nranks);
    if (argc > 1) test_read_errors(MPI_COMM_WORLD, argv[1], nranks);
    int status = tap_finish();
    MPI_Finalize();
    return status;
}
