/*
 * test_grad_reducer.c - the gradient allreduce overlapped with the backward
 * pass (grad_reducer.h) gives the bits of the blocking one.
 *
 *   mpirun -n P test_grad_reducer      (P = 2 and 3 by tests/overlap.sh)
 *
 * The reducer alone on random numbers of many magnitudes, cut into chunks
 * of several sizes, the chunks declared final in pieces; then a small
 * CNN-LSTM autoencoder with a clustering layer: the gradients of one
 * backward reduced during it (DSC_OVERLAP_CHUNK small, so that many chunks
 * start early) against the same gradients reduced after it.  Every result
 * must equal the blocking MPI_Allreduce of the same chunks bit for bit, on
 * every rank.  With 2 ranks the overlap must be used; with more it is used
 * where the probe found the non-blocking sums exact (noted).
 */
#include "grad_reducer.h"
#include "model.h"
#include "rng.h"
#include "status.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fill(float *x, size_t n, uint64_t stream)
{
    rng_state g;
    rng_seed(&g, 77, stream);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)((rng_uniform(&g) - 0.5) * (double)(1u << (rng_next(&g) % 20)));
}

/* The reduction as model_allreduce_gradients did it before the overlap. */
static void blocking(float *x, size_t n, size_t chunk)
{
    for (size_t off = 0; off < n; off += chunk)
        MPI_Allreduce(MPI_IN_PLACE, x + off, (int)(n - off < chunk ? n - off : chunk), MPI_FLOAT, MPI_SUM,
                      MPI_COMM_WORLD);
}

static void check_reducer(int rank, int size, size_t n, size_t chunk, size_t piece, int hold)
{
    float *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float));
    const size_t cut = chunk ? chunk : GRAD_REDUCER_CHUNK;
    fill(a, n, (uint64_t)rank);
    memcpy(b, a, n * sizeof(float));
    blocking(a, n, cut);
    grad_reducer r;
    int ok = grad_reducer_create(&r, b, n, chunk, 1, MPI_COMM_WORLD) == DSC_OK;
    for (int step = 0; ok && step < 2; step++) { /* twice: a reducer serves every step */
        if (step) {
            fill(b, n, (uint64_t)rank);
            fill(a, n, (uint64_t)rank);
            blocking(a, n, cut);
        }
        grad_reducer_begin(&r, hold);
        for (size_t off = n; ok && off > 0;) {
            off = off > piece ? off - piece : 0;
            ok = grad_reducer_final_from(&r, off) == DSC_OK;
        }
        ok = ok && grad_reducer_finish(&r) == DSC_OK && memcmp(a, b, n * sizeof(float)) == 0;
    }
    int want_early = r.overlap && !hold;
    tap_check_all(MPI_COMM_WORLD, ok && (want_early ? r.early > 0 : r.early == 0) && (size > 2 || r.overlap),
                  "%zu floats in chunks of %zu, final in pieces of %zu%s: the blocking sums on %d ranks "
                  "(non-blocking sums exact: full chunks %d, last %d; %ld chunks started early)", n, cut, piece,
                  hold ? ", held" : "", size, r.exact[0], r.exact[1], r.early);
    grad_reducer_destroy(&r);
    free(a);
    free(b);
}

static model_config small_net(void)
{
    model_config c = model_config_default();
    c.vars = 2;
    c.height = 16;
    c.width = 16;
    const int w[MODEL_NCONV] = {4, 4, 8, 8, 8};
    memcpy(c.conv, w, sizeof w);
    c.lstm[0] = 8;
    c.lstm[1] = 8;
    c.latent = 4;
    c.dropout = 0;
    c.recurrent_dropout = 0;
    c.clusters = 3;
    return c;
}

/* One backward of the network, its gradients reduced after it and during it. */
static void check_model(int rank, int size)
{
    const int B = 3;
    model_config c = small_net();
    model m;
    int ok = model_create(&m, &c, B) == DSC_OK && model_init(&m, 5) == DSC_OK;
    size_t nx = (size_t)B * c.vars * c.height * c.width;
    float *x = malloc(nx * sizeof(float)), *dz = malloc((size_t)B * c.latent * sizeof(float));
    fill(x, nx, 100 + (uint64_t)rank);
    fill(dz, (size_t)B * c.latent, 200 + (uint64_t)rank);
    float *ref = malloc(m.nparams * sizeof(float));
    const size_t chunk = 600;
    char buf[32];
    snprintf(buf, sizeof buf, "%zu", chunk);
    setenv("DSC_OVERLAP_CHUNK", buf, 1);
    ok = ok && model_forward(&m, x, B, 1) == DSC_OK;
    model_zero_grad(&m);
    fill(m.dcentroids, (size_t)c.clusters * c.latent, 300 + (uint64_t)rank); /* the clustering gradient */
    ok = ok && model_backward(&m, 0.5f, dz) == DSC_OK;
    memcpy(ref, m.grads, m.nparams * sizeof(float));
    blocking(ref, m.nparams, chunk);
    model_zero_grad(&m);
    fill(m.dcentroids, (size_t)c.clusters * c.latent, 300 + (uint64_t)rank);
    ok = ok && model_reduce_begin(&m, MPI_COMM_WORLD, 0) == DSC_OK && model_backward(&m, 0.5f, dz) == DSC_OK &&
         model_allreduce_gradients(&m, MPI_COMM_WORLD) == DSC_OK;
    ok = ok && memcmp(ref, m.grads, m.nparams * sizeof(float)) == 0;
    uint64_t h = 0;
    for (size_t i = 0; i < m.nparams; i++) {
        uint32_t u;
        memcpy(&u, &m.grads[i], 4);
        h = h * 1000003u + u;
    }
    uint64_t lo = h, hi = h;
    MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
    const struct grad_reducer *r = m.reducer;
    int used = r && r->overlap;
    tap_check_all(MPI_COMM_WORLD, ok && lo == hi && (used ? r->early > 0 : size > 2),
                  "CNN-LSTM (%zu parameters, chunks of %zu): gradients reduced during the backward are the "
                  "blocking sums and the same on all %d ranks (overlap %s, %ld of %d chunks started early)",
                  m.nparams, chunk, size, used ? "used" : "not used", r ? r->early : 0L, r ? r->nchunks : 0);
    unsetenv("DSC_OVERLAP_CHUNK");
    free(x);
    free(dz);
    free(ref);
    model_destroy(&m);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    tap_init();
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    check_reducer(rank, size, 10007, 1000, 700, 0);
    check_reducer(rank, size, 10007, 1000, 700, 1);
    check_reducer(rank, size, 50000, 4096, 3000, 0);
    check_reducer(rank, size, 3 * GRAD_REDUCER_CHUNK + 12345, 0, 500000, 0);
    check_reducer(rank, size, 999, 0, 100, 0); /* one chunk, shorter than 4 MB */
    check_model(rank, size);
    int rc = tap_finish();
    MPI_Finalize();
    return rc;
}
