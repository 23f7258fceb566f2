/*
 * test_run_output.c - writes the run outputs of run_output.h for ERA5
 * files read with the parallel reader, with made-up labels, soft
 * assignments, latent features and centroids, for the checks of
 * tests/run_output.sh (byte-identical files at any rank count, values
 * against numpy, error handling).
 *
 *   mpirun -n 3 tests/test_run_output OUTDIR K [--only WHAT] FILES...
 *
 * WHAT is labels, latent, centroids or composites (default: all four).
 * The inputs, which tests/run_output.sh recomputes in Python:
 *   label(t)   = (t + t / 7) % (K - 1): cluster K - 1 stays empty
 *   q(t, c)    = w(t, c) / sum_c w(t, c), w(t, c) = 1 + (t + 2 c) % 5
 *   z(t, l)    = ((31 t + 7 l) % 1000) / 1000 in float32, L = 5
 *   centroid(c, f) = 10 c + f + 0.25, 4 features
 *   and the sample values of sp (variable 1 when there are several) are
 *   made missing where (t + j) % 11 == 0, j the cell index y * X + x, so
 *   that the composites have to skip missing values.
 * Prints TAP lines for the return status of every call (rank 0); a failed
 * call prints its one error line and the program exits 1.
 */
#include "era5_catalog.h"
#include "era5_reader.h"
#include "run_output.h"
#include "status.h"
#include "tap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LATENT 5
#define FEATURES 4

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    tap_init();
    if (argc < 4) {
        if (tap_rank == 0) fprintf(stderr, "usage: %s OUTDIR K [--only labels|latent|centroids|composites] FILES...\n", argv[0]);
        MPI_Finalize();
        return 2;
    }
    const char *dir = argv[1];
    const int K = atoi(argv[2]);
    const char *only = NULL;
    int first = 3;
    if (strcmp(argv[3], "--only") == 0 && argc > 5) {
        only = argv[4];
        first = 5;
    }
    MPI_Comm comm = MPI_COMM_WORLD;
    era5_options opt;
    memset(&opt, 0, sizeof opt);
    era5_catalog cat;
    era5_samples s;
    if (K < 2 || era5_catalog_open(comm, argv + first, argc - first, &opt, &cat) != DSC_OK) {
        if (K < 2 && tap_rank == 0) fprintf(stderr, "K must be at least 2\n");
        MPI_Finalize();
        return 1;
    }
    if (era5_read_samples(comm, &cat, &opt, &s) != DSC_OK) {
        era5_catalog_destroy(&cat);
        MPI_Finalize();
        return 1;
    }
    const long long T = cat.ntime;
    const size_t YX = (size_t)s.nlat * s.nlon;
    int *labels = malloc((size_t)T * sizeof(int));                     /* (T) */
    double *q = malloc((size_t)T * K * sizeof(double));                /* (T, K) */
    float *z = malloc((size_t)(s.nt ? s.nt : 1) * LATENT * sizeof(float)); /* (N, L) */
    double *centroids = malloc((size_t)K * FEATURES * sizeof(double)); /* (K, F) */
    if (!labels || !q || !z || !centroids) {
        fprintf(stderr, "out of memory\n");
        MPI_Abort(comm, 1);
    }
    for (long long t = 0; t < T; t++) {
        labels[t] = (int)((t + t / 7) % (K - 1));
        double w = 0.0;
        for (int c = 0; c < K; c++) w += 1 + (t + 2 * c) % 5;
        for (int c = 0; c < K; c++) q[t * K + c] = (1 + (t + 2 * c) % 5) / w;
    }
    for (long long i = 0; i < s.nt; i++)
        for (int l = 0; l < LATENT; l++) z[i * LATENT + l] = (float)(((s.t0 + i) * 31 + 7 * l) % 1000) / 1000.0f;
    for (int c = 0; c < K; c++)
        for (int f = 0; f < FEATURES; f++) centroids[c * FEATURES + f] = 10.0 * c + f + 0.25;
    const int vmiss = s.nvars > 1 ? 1 : 0;
    for (long long i = 0; i < s.nt; i++)
        for (size_t j = 0; j < YX; j++)
            if ((s.t0 + i + (long long)j) % 11 == 0) s.data[((size_t)i * s.nvars + vmiss) * YX + j] = NAN;

    int failed = 0;
    if (!only || strcmp(only, "labels") == 0) {
        int st = run_output_labels(comm, dir, &cat, labels, q, K);
        tap_check_all(comm, st == DSC_OK, "run_output_labels: labels.csv and labels.nc (%lld time steps, %d clusters)", T, K);
        failed |= st != DSC_OK;
    }
    if (!failed && (!only || strcmp(only, "latent") == 0)) {
        int st = run_output_latent(comm, dir, &cat, z, s.t0, s.nt, LATENT);
        tap_check_all(comm, st == DSC_OK, "run_output_latent: latent.nc (rows %lld..%lld here)", s.t0, s.t0 + s.nt - 1);
        failed |= st != DSC_OK;
    }
    if (!failed && (!only || strcmp(only, "centroids") == 0)) {
        int st = run_output_centroids(comm, dir, centroids, K, FEATURES, "latent");
        tap_check_all(comm, st == DSC_OK, "run_output_centroids: centroids.nc");
        failed |= st != DSC_OK;
    }
    if (!failed && (!only || strcmp(only, "composites") == 0)) {
        int st = run_output_composites(comm, dir, &cat, &s, labels, K);
        tap_check_all(comm, st == DSC_OK, "run_output_composites: composites.nc (%d variables on %dx%d)", s.nvars, s.nlat, s.nlon);
        failed |= st != DSC_OK;
    }
    free(labels);
    free(q);
    free(z);
    free(centroids);
    era5_samples_destroy(&s);
    era5_catalog_destroy(&cat);
    int rc = failed ? 1 : tap_finish();
    MPI_Finalize();
    return rc;
}
