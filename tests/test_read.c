/*
 * test_read.c - reads ERA5 files with the parallel reader, pre-processes
 * them, and writes what it got, for the comparisons in tests/reader.sh and
 * tests/preprocess.sh.
 *
 *   mpirun -n 3 tests/test_read --process-grid 1x3x1 --raw raw.bin -o x.bin era5_*.nc
 *
 * Each rank reads its tile and holds a block of whole samples afterwards
 * (era5_read_samples); rank 0 gathers the blocks and writes
 *   --raw FILE     the values read, before pre-processing: (T, V*Y*X) float32, NaN = missing
 *   -o FILE        the pre-processed matrix (T, V*H*W) float32
 *   --times FILE   the time axis: (T, 1) float64 hours since 1900-01-01
 *   --prepared FILE the values before scaling (T, V*Y*X) float32: filled,
 *                  minus the climatology with --anomalies (the anomalies)
 * each as a 16-byte header (int64 T, int64 D, little endian as on the
 * machine) followed by the values, row after row.  --checksum prints one
 * line per matrix: count, NaN count, min, max, sum and sum of squares (double).
 */
#include "cli.h"
#include "era5_catalog.h"
#include "run_options.h"
#include "era5_reader.h"
#include "partition.h"
#include "preprocess.h"
#include "status.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cli_option options[] = {
    ERA5_CLI_OPTIONS,
    {"output", 'o', "FILE", NULL, "write the pre-processed (T, V*H*W) float32 matrix"},
    {"raw", 0, "FILE", NULL, "write the values read (T, V*Y*X) float32, before pre-processing"},
    {"times", 0, "FILE", NULL, "write the time axis (T, 1) float64"},
    {"prepared", 0, "FILE", NULL, "write the values before scaling (T, V*Y*X) float32 (the anomalies with --anomalies)"},
    PREPROCESS_CLI_OPTIONS,
    {"checksum", 0, NULL, NULL, "print count, NaN count, min, max, sum and sum of squares"},
};

/* Collective: rank 0 gets the rows [t0, t0 + nt) of every rank, d values
 * each, and writes them (via a temporary name) to path. */
static int gather_write(MPI_Comm comm, const char *path, const void *rows, long long ntime, long long nt, long long d, MPI_Datatype type,
                        size_t size, int checksum, const char *what)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    int status = DSC_OK;
    char *all = NULL;
    int *counts = NULL, *displs = NULL;
    if (rank == 0) {
        all = dsc_malloc((size_t)ntime * d * size, "the gathered matrix");
        counts = dsc_malloc(2 * (size_t)nranks * sizeof(int), "the gather counts");
        if (!all || !counts) status = DSC_ERR;
        else {
            displs = counts + nranks;
            for (int q = 0; q < nranks; q++) {
                long long a, n;
                block_range(ntime, nranks, q, &a, &n);
                if (n * d > INT32_MAX || a * d > INT32_MAX) status = dsc_fail("%s: too large to gather on one rank", what);
                counts[q] = (int)(n * d);
                displs[q] = (int)(a * d);
            }
        }
    }
    if (dsc_agree(comm, status) != DSC_OK) {
        free(all);
        free(counts);
        return DSC_ERR;
    }
    MPI_Gatherv(rows, (int)(nt * d), type, all, counts, displs, type, 0, comm);
    if (rank == 0) {
        if (checksum && type == MPI_FLOAT) {
            // cppcheck-suppress invalidPointerCast ; all is malloc'ed (aligned) and holds gathered MPI_FLOAT rows
            const float *x = (const float *)all;
            double sum = 0, sum2 = 0, lo = INFINITY, hi = -INFINITY;
            long long nan = 0, n = ntime * d;
            for (long long i = 0; i < n; i++) {
                if (isnan(x[i])) {
                    nan++;
                    continue;
                }
                sum += x[i];
                sum2 += (double)x[i] * x[i];
                if (x[i] < lo) lo = x[i];
                if (x[i] > hi) hi = x[i];
            }
            printf("%s: count %lld nan %lld min %.9g max %.9g sum %.17g sumsq %.17g\n", what, n, nan, lo, hi, sum, sum2);
        }
        if (path) {
            char tmp[ERA5_PATH_LEN + 16];
            snprintf(tmp, sizeof tmp, "%s.tmp", path);
            FILE *f = fopen(tmp, "wb");
            int64_t header[2] = {ntime, d};
            if (!f || fwrite(header, sizeof header, 1, f) != 1 || fwrite(all, size, (size_t)(ntime * d), f) != (size_t)(ntime * d) ||
                fclose(f) != 0 || rename(tmp, path) != 0) {
                status = dsc_fail("%s: cannot write; check the directory", path);
                remove(tmp);
            }
        }
    }
    free(all);
    free(counts);
    return dsc_agree(comm, status);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm comm = MPI_COMM_WORLD;
    int rank;
    MPI_Comm_rank(comm, &rank);
    cli_command cmd = {.command = "test_read",
                       .usage = "[OPTIONS] FILES...",
                       .summary = "read, pre-process and write ERA5 samples",
                       .options = options,
                       .noptions = (int)(sizeof options / sizeof options[0])};
    era5_options opt;
    era5_catalog cat;
    era5_samples s;
    preprocess_stats st;
    memset(&cat, 0, sizeof cat);
    memset(&s, 0, sizeof s);
    memset(&st, 0, sizeof st);
    float *x = NULL;
    int have_cat = 0, have_samples = 0, have_stats = 0;

    int status = cli_parse(&cmd, argc, argv, rank);
    if (status == CLI_HELP) {
        cli_free(&cmd);
        MPI_Finalize();
        return 0;
    }
    preprocess_options popts;
    if (status == DSC_OK) status = era5_options_from_cli(&cmd, &opt);
    if (status == DSC_OK) status = preprocess_options_from_cli(&cmd, &popts);
    if (status == DSC_OK && cmd.nargs < 1) status = dsc_fail("no input files; give ERA5 netCDF files");
    if (dsc_agree(comm, status) != DSC_OK) goto done;

    if (era5_catalog_open(comm, cmd.args, cmd.nargs, &opt, &cat) != DSC_OK) goto done;
    have_cat = 1;
    if (era5_read_samples(comm, &cat, &opt, &s) != DSC_OK) goto done;
    have_samples = 1;
    if (rank == 0) {
        printf("grid %dx%dx%d\n", s.grid.dims[0], s.grid.dims[1], s.grid.dims[2]);
        for (int v = 0; v < s.nvars; v++) printf("missing %s %lld\n", cat.vars[v].name, s.missing[v]);
    }
    const long long d_raw = (long long)s.nvars * s.nlat * s.nlon;
    if (cli_given(&cmd, "raw") || cli_flag(&cmd, "checksum"))
        if (gather_write(comm, cli_get(&cmd, "raw"), s.data, s.ntime, s.nt, d_raw, MPI_FLOAT, sizeof(float), cli_flag(&cmd, "checksum"), "raw") != DSC_OK)
            goto done;
    if (cli_given(&cmd, "times"))
        if (gather_write(comm, cli_get(&cmd, "times"), s.time, s.ntime, s.nt, 1, MPI_DOUBLE, sizeof(double), 0, "times") != DSC_OK) goto done;

    if (preprocess_fit(comm, &s, &popts, &st) != DSC_OK) goto done;
    have_stats = 1;
    if (cli_given(&cmd, "prepared")) {
        x = dsc_malloc((size_t)(s.nt * d_raw) * sizeof(float) + 1, "the prepared samples"); /* (nt, V*Y*X) */
        status = x ? preprocess_prepare(&st, &s, x) : DSC_ERR;
        if (dsc_agree(comm, status) != DSC_OK) goto done;
        if (gather_write(comm, cli_get(&cmd, "prepared"), x, s.ntime, s.nt, d_raw, MPI_FLOAT, sizeof(float), 0, "prepared") != DSC_OK) goto done;
        free(x);
    }
    const long long d = (long long)st.nvars * st.height * st.width;
    x = dsc_malloc((size_t)(s.nt * d) * sizeof(float), "the pre-processed samples"); /* (nt, V*H*W) */
    status = x ? preprocess_apply(&st, &s, x) : DSC_ERR;
    if (dsc_agree(comm, status) != DSC_OK) goto done;
    if (cli_given(&cmd, "output") || cli_flag(&cmd, "checksum"))
        if (gather_write(comm, cli_get(&cmd, "output"), x, s.ntime, s.nt, d, MPI_FLOAT, sizeof(float), cli_flag(&cmd, "checksum"), "preprocessed") != DSC_OK)
            goto done;
    status = DSC_OK;
    goto finish;

done:
    status = DSC_ERR;
finish:
    free(x);
    if (have_stats) preprocess_stats_destroy(&st);
    if (have_samples) era5_samples_destroy(&s);
    if (have_cat) era5_catalog_destroy(&cat);
    cli_free(&cmd);
    MPI_Finalize();
    return status == DSC_OK ? 0 : 1;
}
