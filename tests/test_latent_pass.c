/*
 * test_latent_pass.c - the distributed encoder pass and the sample
 * exchange it stands on, at any rank count (run by tests/latent_pass.sh at
 * 1, 2 and 3 ranks):
 *   - sample_fetch returns exactly the requested global rows (in order,
 *     with repeats, across block boundaries, a rank may want nothing);
 *   - sample_window clamps at the first time step of its segment (the
 *     record's first, or the first after a gap);
 *   - latent_pass gives every time step the latent a single-rank encoder
 *     computes for the same aligned batch, and rank 0 writes the gathered
 *     latents (T, L) as raw floats to argv[1] so the shell test can compare
 *     the files of different rank counts byte for byte;
 *   - latent_soft_assign gives the latents of latent_pass and their soft
 *     assignments to the model's centroids.
 *
 *   mpirun -n 3 ./tests/test_latent_pass latents.bin
 */
#include "latent_pass.h"
#include "clustering.h"
#include "model.h"
#include "partition.h"
#include "sample_exchange.h"
#include "status.h"
#include "tap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T 37
#define F 5

static float value_of(long long g, size_t j) { return (float)(g * 10 + (long long)j); }

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    tap_init();
    int rank, P;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &P);
    long long t0, n;
    block_range(T, P, rank, &t0, &n);

    /* sample_fetch on a matrix whose rows encode their global index */
    float *x = malloc((size_t)(n + 1) * F * sizeof(float));
    for (long long i = 0; i < n; i++)
        for (size_t j = 0; j < F; j++) x[i * F + j] = value_of(t0 + i, j);
    long long want[8];
    int nwant = rank == 1 ? 0 : 8; /* rank 1 wants nothing */
    for (int i = 0; i < nwant; i++) want[i] = (long long)((i * 13 + rank * 7) % T);
    if (nwant) want[7] = want[0]; /* a repeat */
    float got[8 * F];
    int st = sample_fetch(MPI_COMM_WORLD, x, T, F, want, nwant, got);
    int ok = st == DSC_OK;
    for (int i = 0; i < nwant; i++)
        for (size_t j = 0; j < F; j++) ok = ok && got[i * F + j] == value_of(want[i], j);
    tap_check_all(MPI_COMM_WORLD, ok, "sample_fetch returns the requested rows on %d ranks", P);
    int owners_ok = 1;
    for (int r = 0; r < P; r++) {
        long long a, c;
        block_range(T, P, r, &a, &c);
        for (long long g = a; g < a + c; g++) owners_ok = owners_ok && sample_owner(T, P, g) == r;
    }
    tap_check(owners_ok, "sample_owner agrees with block_range");
    long long fr[3];
    sample_window(1, 3, fr);
    tap_check(fr[0] == 0 && fr[1] == 0 && fr[2] == 1, "sample_window clamps at the first time step");
    /* a record with gaps before time steps 10 and 20: kept for the latent
     * pass below, where 20 lies inside the aligned batch [16, 32) */
    const long long starts[2] = {10, 20};
    long long w4[4];
    int seg_ok = sample_set_segments(starts, 2) == DSC_OK;
    sample_window(11, 4, w4);
    seg_ok = seg_ok && w4[0] == 10 && w4[1] == 10 && w4[2] == 10 && w4[3] == 11;
    sample_window(9, 4, w4);
    seg_ok = seg_ok && w4[0] == 6 && w4[1] == 7 && w4[2] == 8 && w4[3] == 9;
    sample_window(22, 4, w4);
    seg_ok = seg_ok && w4[0] == 20 && w4[1] == 20 && w4[2] == 21 && w4[3] == 22;
    sample_window(36, 4, w4);
    seg_ok = seg_ok && w4[0] == 33 && w4[3] == 36;
    seg_ok = seg_ok && sample_segment_start(0) == 0 && sample_segment_start(19) == 10 && sample_segment_start(36) == 20;
    tap_check(seg_ok, "sample_window stays inside the segment of its time step (gaps before 10 and 20)");
    long long bad = T;
    tap_note("an out-of-range row is an agreed error:");
    st = sample_fetch(MPI_COMM_WORLD, x, T, F, &bad, rank == 0 ? 1 : 0, got);
    dsc_clear();
    tap_check_all(MPI_COMM_WORLD, st == DSC_ERR, "sample_fetch refuses a row outside [0, T) on every rank");
    free(x);

    /* latent_pass on a small model with a sequence window */
    model_config c = model_config_default();
    c.vars = 2;
    c.height = c.width = 16;
    c.steps = 2;
    const int w[MODEL_NCONV] = {3, 3, 4, 4, 5};
    memcpy(c.conv, w, sizeof w);
    c.lstm[0] = 6;
    c.lstm[1] = 6;
    c.latent = 4;
    c.clusters = 3;
    model m;
    ok = model_create(&m, &c, LATENT_PASS_BATCH) == DSC_OK && model_init(&m, 7) == DSC_OK;
    const size_t FR = (size_t)c.vars * c.height * c.width;
    float *frames = malloc((size_t)(n + 1) * FR * sizeof(float));
    for (long long i = 0; i < n; i++) {
        rng_state r;
        rng_seed(&r, 99, (uint64_t)(t0 + i)); /* a frame depends on its global index only */
        rng_fill_uniform(&r, frames + i * FR, FR, 0.0f, 1.0f);
    }
    float *z = malloc((size_t)(n + 1) * c.latent * sizeof(float));
    ok = ok && latent_pass(MPI_COMM_WORLD, &m, frames, T, z) == DSC_OK;
    tap_check_all(MPI_COMM_WORLD, ok, "latent_pass runs on %d ranks", P);
    int inrange = 1;
    for (long long i = 0; i < n * c.latent; i++) inrange = inrange && z[i] > 0 && z[i] < 1 && isfinite(z[i]);
    tap_check_all(MPI_COMM_WORLD, inrange, "latents are sigmoid outputs in (0, 1)");

    /* latent_soft_assign: the same latents, q by eq. 3, rows summing to 1 */
    float *z2 = malloc((size_t)(n + 1) * c.latent * sizeof(float));
    double *q = malloc((size_t)(n + 1) * c.clusters * sizeof(double));
    double *q2 = malloc((size_t)(n + 1) * c.clusters * sizeof(double));
    ok = latent_soft_assign(MPI_COMM_WORLD, &m, frames, T, 1.0, z2, q) == DSC_OK;
    ok = ok && memcmp(z, z2, (size_t)n * c.latent * sizeof(float)) == 0;
    clustering_soft_assign(q2, z, m.centroids, n, c.clusters, c.latent, 1.0);
    ok = ok && memcmp(q, q2, (size_t)n * c.clusters * sizeof(double)) == 0;
    for (long long i = 0; i < n && ok; i++) {
        double s = 0;
        for (int j = 0; j < c.clusters; j++) s += q[i * c.clusters + j];
        ok = fabs(s - 1.0) < 1e-12;
    }
    tap_check_all(MPI_COMM_WORLD, ok, "latent_soft_assign: the latents of latent_pass and their soft assignments");
    free(z2);
    free(q);
    free(q2);

    float *all = rank == 0 ? malloc((size_t)T * c.latent * sizeof(float)) : NULL;
    int counts[64], displs[64];
    for (int r = 0; r < P && r < 64; r++) {
        long long a, cnt;
        block_range(T, P, r, &a, &cnt);
        counts[r] = (int)(cnt * c.latent);
        displs[r] = (int)(a * c.latent);
    }
    MPI_Gatherv(z, (int)(n * c.latent), MPI_FLOAT, all, counts, displs, MPI_FLOAT, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        /* the same on one rank by hand: the aligned batch of time step 20 */
        const long long b0 = 20 / LATENT_PASS_BATCH * LATENT_PASS_BATCH;
        const int bs = T - b0 < LATENT_PASS_BATCH ? (int)(T - b0) : LATENT_PASS_BATCH;
        float *batch = malloc((size_t)bs * c.steps * FR * sizeof(float));
        for (int i = 0; i < bs; i++) {
            long long win[2];
            sample_window(b0 + i, c.steps, win);
            for (int s = 0; s < c.steps; s++) {
                rng_state r;
                rng_seed(&r, 99, (uint64_t)win[s]);
                rng_fill_uniform(&r, batch + ((size_t)i * c.steps + s) * FR, FR, 0.0f, 1.0f);
            }
        }
        model_encode(&m, batch, bs);
        int same = memcmp(m.latent + (size_t)(20 - b0) * c.latent, all + (size_t)20 * c.latent, (size_t)c.latent * sizeof(float)) == 0;
        tap_check(same, "the latent of time step 20 equals the single-rank encoding of its aligned batch, bitwise");
        /* ... whose window is {20, 20}: time step 19 lies behind a gap */
        long long w20[2];
        sample_window(20, c.steps, w20);
        tap_check(w20[0] == 20 && w20[1] == 20, "the window of time step 20, first after a gap, repeats it");
        free(batch);
        FILE *f = argc > 1 ? fopen(argv[1], "wb") : NULL;
        tap_check(f && fwrite(all, sizeof(float), (size_t)T * c.latent, f) == (size_t)T * c.latent && fclose(f) == 0,
                  "latents written for the comparison across rank counts");
    }
    free(all);
    free(z);
    free(frames);
    model_destroy(&m);
    sample_set_segments(NULL, 0);
    int failed = tap_finish();
    MPI_Finalize();
    return failed;
}
